#!/bin/sh
# NAME
#	policy_postfix.sh - mxledger as the policy server of a real Postfix
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. top_builddir=. sh tests/integration/policy_postfix.sh
# DESCRIPTION
#	Builds the private Postfix + Dovecot + HAProxy of stack.sh, starts
#	`mxledger run` following its logs with the policy service on an inet
#	and a UNIX socket and one rule:
#
#	  rule msg-rate {
#		protocol_state RCPT
#		rate messages by client_address > 3 per 1m
#		action DEFER "4.7.1 too many messages"
#	  }
#
#	and sends mail with swaks until the limit trips, three times:
#	  1. stock postscreen -> smtpd, policy over inet, from 127.0.0.2;
#	  2. smtpd whose policy is the UNIX socket, from 127.0.0.3;
#	  3. submission with smtpd_upstream_proxy_protocol=haproxy, SASL,
#	     a PROXY v2 header claiming 203.0.113.10: the limit keys on
#	     203.0.113.10, so 203.0.113.11 from the same 127.0.0.1 is not
#	     deferred and no decision names 127.0.0.1.
#	Messages 1 to 3 of a client are queued, the 4th gets exactly the 450
#	reply Postfix builds from the DEFER (4.7.1 taken from the text), and
#	the decisions table holds exactly that one row per client, with the
#	counter that tripped.
# ENVIRONMENT
#	MXLEDGER, top_srcdir, top_builddir; KEEP=1 keeps the stack directory.
# RETURNS
#	0 pass, 1 fail, 77 skip (daemons not installed, not root, or mxledger
#	without its policy service).

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MXLEDGER=${MXLEDGER:-$top_builddir/mxledger}
TZ=UTC
export TZ
unset JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC

. "$top_srcdir/tests/integration/stack.sh"
stack_require

. "$top_srcdir/tests/tap.sh"

# diagnose - on failure, the ends of the logs (before they are removed)
diagnose() {
	[ $fails -ne 0 ] && [ -n "$STACK_DIR" ] || return 0
	for f in "$STACK_DIR/mx/run.log" "$STACK_MAILLOG" "$STACK_DOVELOG"; do
		[ -f "$f" ] || continue
		echo "# --- tail of $f"
		tail -30 "$f" | sed 's/^/# /'
	done
}
# cleanup - on an early exit: stop whatever runs, by PID
cleanup() {
	trap - EXIT INT TERM
	diagnose
	mxl_stop >/dev/null 2>&1
	stack_stop
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=$(date +%s.%N)
stack_init || exit 1
mkdir -p "$STACK_DIR/mx"
CONF=$STACK_DIR/mx/mxledger.conf
{
	mxl_config_head
	cat <<'EOF'
rule msg-rate {
	protocol_state RCPT
	rate messages by client_address > 3 per 1m
	action DEFER "4.7.1 too many messages"
}
EOF
} > "$CONF"
mxl_require "$CONF"
t1=$(date +%s.%N)
stack_start || exit 1
t2=$(date +%s.%N)
mxl_start "$CONF" || exit 1
echo "# BASE $STACK_BASE, $STACK_DIR: stack up in $(elapsed "$t1" "$t2") s," \
    "mxledger in $(elapsed "$t2" "$(date +%s.%N)") s"

DEFERRED='450 4.7.1 <alice@example.test>: Recipient address rejected: too many messages'

# burst NAME PORT SWAKS-ARGS... - messages 1..3 queued, the 4th deferred
burst() {
	_name=$1
	shift
	for _i in 1 2 3; do
		stack_swaks "$STACK_DIR/swaks.$_name.$_i" "$@"
		_r=$(stack_reply "$STACK_DIR/swaks.$_name.$_i")
		case "$_r" in
		"250 2.0.0 Ok: queued as "*) ;;
		*)
			notok "$_name: message $_i is queued"
			echo "#   got: $_r"
			sed 's/^/#   /' "$STACK_DIR/swaks.$_name.$_i" | tail -8
			return
			;;
		esac
	done
	ok "$_name: messages 1 to 3 are queued"
	stack_swaks "$STACK_DIR/swaks.$_name.4" "$@"
	same "$_name: message 4 gets the DEFER as Postfix words it" \
	    "$(stack_reply "$STACK_DIR/swaks.$_name.4")" "$DEFERRED"
}

# decision CLIENT - the stored decision about CLIENT, waited for (<= 15 s)
DQ="SELECT rule, action, dry_run, coalesce(protocol_state, ''), client_address,
    coalesce(server_port, ''), coalesce(recipient, ''), coalesce(sasl_username, ''),
    json_extract(counters, '\$[0].key'), json_extract(counters, '\$[0].value'),
    json_extract(counters, '\$[0].limit') FROM decisions WHERE client_address ="
decision() {
	mxl_wait_sql "SELECT count(*) FROM decisions WHERE client_address = '$1'" 1 15
	mxl_sql "$DQ '$1' ORDER BY id"
}

# 1. inet policy socket, through the stock postscreen
burst "inet socket" "$STACK_P_PS" --local-interface 127.0.0.2
same "inet socket: the decision is stored once, with the counter that tripped" \
    "$(decision 127.0.0.2)" \
    "msg-rate|DEFER 4.7.1 too many messages|0|RCPT|127.0.0.2|$STACK_P_PS|alice@example.test||127.0.0.2|4|3"

# 2. UNIX policy socket (had it failed: 451 4.3.5 Server configuration problem)
burst "UNIX socket" "$STACK_P_UNIXPOL" --local-interface 127.0.0.3
same "UNIX socket: the decision is stored once, with the counter that tripped" \
    "$(decision 127.0.0.3)" \
    "msg-rate|DEFER 4.7.1 too many messages|0|RCPT|127.0.0.3|$STACK_P_UNIXPOL|alice@example.test||127.0.0.3|4|3"

# 3. PROXY v2 upstream: the real client is 203.0.113.10, the peer 127.0.0.1
proxy_args() {
	echo "--auth PLAIN --auth-user alice@example.test --auth-password $STACK_ALICE_PW" \
	    "--proxy-version 2 --proxy-family AF_INET --proxy-source $1" \
	    "--proxy-source-port $2 --proxy-dest 127.0.0.1 --proxy-dest-port 587"
}
# shellcheck disable=SC2046
burst "PROXY v2" "$STACK_P_SUB_PROXY" $(proxy_args 203.0.113.10 40010)
same "PROXY v2: the decision names the client from the header" \
    "$(decision 203.0.113.10)" \
    "msg-rate|DEFER 4.7.1 too many messages|0|RCPT|203.0.113.10|587|alice@example.test|alice@example.test|203.0.113.10|4|3"
# shellcheck disable=SC2046
stack_swaks "$STACK_DIR/swaks.other" "$STACK_P_SUB_PROXY" $(proxy_args 203.0.113.11 40011)
r=$(stack_reply "$STACK_DIR/swaks.other")
case "$r" in
"250 2.0.0 Ok: queued as "*) ok "PROXY v2: another client (203.0.113.11) via the same peer is queued" ;;
*) notok "PROXY v2: another client (203.0.113.11) via the same peer is queued"; echo "#   got: $r" ;;
esac
sleep 0.3	# a decision row too many would have been written by now
same "no decision keys on the PROXY peer 127.0.0.1, none on 203.0.113.11; 3 in all" \
    "$(mxl_sql "SELECT count(*) FILTER (WHERE client_address IN ('127.0.0.1', '203.0.113.11')),
	count(*) FROM decisions")" "0|3"

# Postfix logged each refusal as it answered it
same "the maillog has the three NOQUEUE rejects with the policy's text" \
    "$(grep -c "NOQUEUE: reject: RCPT from unknown\[[0-9.]*\]: $DEFERRED;" "$STACK_MAILLOG")" 3

if mxl_stop; then ok "mxledger run exits 0 on SIGTERM"; else notok "mxledger run exits 0 on SIGTERM"; fi
diagnose
trap - EXIT
if stack_stop; then ok "the stack stops by PID and leaves no process"
else notok "the stack stops by PID and leaves no process"; fi
echo "# whole test: $(elapsed "$t0" "$(date +%s.%N)") s"
tap_end policy_postfix
