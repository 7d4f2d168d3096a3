#!/bin/sh
# NAME
#	cross_protocol.sh - IMAP login failures at a real Dovecot defer SMTP
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. top_builddir=. sh tests/integration/cross_protocol.sh
# DESCRIPTION
#	Builds the private stack of stack.sh and starts `mxledger run`
#	following Postfix's maillog and Dovecot's log file, with the rule
#
#	  rule auth-fail {
#		history auth_failures by client_address >= 3 per 15m
#		action DEFER "4.7.1 too many failed logins"
#	  }
#
#	A python imaplib client sends a PROXY v2 header (stack_proxy_v2_header)
#	to Dovecot's `haproxy = yes` listener and fails LOGIN with a wrong
#	password: three times in one session claiming 203.0.113.20, twice
#	claiming 203.0.113.21 (both at once: Dovecot's per-address penalty
#	makes each later attempt wait seconds). Dovecot logs one auth line per
#	attempt and one imap-login line per session; counted exactly once,
#	203.0.113.20 has 3 failures and 203.0.113.21 has 2. Then:
#	  1. SMTP claiming 203.0.113.20 through the PROXY postscreen (and its
#	     smtpd-proxy25) gets exactly the 450 built from the DEFER, and the
#	     decision row holds the counter (3, limit 3);
#	  2. 203.0.113.21 (2 failures: fewer than 3, unless counted twice) and
#	     203.0.113.22 (none) are queued;
#	  3. the same through the PROXY submission listener;
#	  4. after a restart of mxledger (the history rebuilt from the
#	     database, the logs not read again) 203.0.113.20 is still deferred
#	     and 203.0.113.21 still queued.
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
IMAP_PIDS=
# cleanup - on an early exit: stop whatever runs, by PID
cleanup() {
	trap - EXIT INT TERM
	diagnose
	for p in $IMAP_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
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
rule auth-fail {
	history auth_failures by client_address >= 3 per 15m
	action DEFER "4.7.1 too many failed logins"
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

# imap_fail ADDRESS N - N failed LOGINs in one IMAP session claiming
# ADDRESS through the haproxy = yes listener; prints "failures N"
imap_fail() {
	stack_proxy_v2_header "$1" 40100 127.0.0.1 143 > "$STACK_DIR/proxy.$1" || return 1
	timeout 120 python3 - 127.0.0.1 "$STACK_P_IMAP_PROXY" "$STACK_DIR/proxy.$1" "$2" <<'EOF'
import imaplib, socket, sys
host, port, hdrfile, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with open(hdrfile, "rb") as f:
    header = f.read()

class ProxiedIMAP(imaplib.IMAP4):
    def _create_socket(self, timeout):
        s = socket.create_connection((self.host, self.port), timeout)
        s.sendall(header)
        return s

c = ProxiedIMAP(host, port, timeout=60)
failures = 0
for i in range(n):
    try:
        c.login("alice@example.test", "wrong-password")
    except imaplib.IMAP4.error as e:
        if b"AUTHENTICATIONFAILED" in str(e).encode():
            failures += 1
c.logout()
print("failures %d" % failures)
EOF
}

t3=$(date +%s.%N)
imap_fail 203.0.113.20 3 > "$STACK_DIR/imap.20" 2>&1 &
IMAP_PIDS="$!"
imap_fail 203.0.113.21 2 > "$STACK_DIR/imap.21" 2>&1 &
IMAP_PIDS="$IMAP_PIDS $!"
for p in $IMAP_PIDS; do
	wait "$p"
done
IMAP_PIDS=
same "Dovecot refuses LOGIN 3 times for 203.0.113.20, 2 times for 203.0.113.21" \
    "$(cat "$STACK_DIR/imap.20") / $(cat "$STACK_DIR/imap.21")" "failures 3 / failures 2"
echo "# IMAP failures took $(elapsed "$t3" "$(date +%s.%N)") s"
# Dovecot wrote the session lines last; once mxledger stored them, every
# line of both sessions has been read
if mxl_wait_sql "SELECT count(DISTINCT client_ip) FROM events WHERE event = 'auth_failure'
    AND client_ip IN ('203.0.113.20', '203.0.113.21')" 2 20; then
	ok "mxledger read Dovecot's login failures"
else
	notok "mxledger read Dovecot's login failures"
	grep 'imap-login' "$STACK_DOVELOG" | sed 's/^/#   /'
fi

DEFERRED='450 4.7.1 <alice@example.test>: Recipient address rejected: too many failed logins'
smtp_args() {
	echo "--proxy-version 2 --proxy-family AF_INET --proxy-source $1" \
	    "--proxy-source-port $2 --proxy-dest 127.0.0.1 --proxy-dest-port $3"
}
# expect NAME WANT PORT ADDRESS SOURCE-PORT DEST-PORT - one SMTP message
# claiming ADDRESS; WANT is the exact reply, or "queued"
expect() {
	# shellcheck disable=SC2046
	stack_swaks "$STACK_DIR/swaks.$n" "$3" $(smtp_args "$4" "$5" "$6")
	_r=$(stack_reply "$STACK_DIR/swaks.$n")
	if [ "$2" = queued ]; then
		case "$_r" in
		"250 2.0.0 Ok: queued as "*) _r=queued ;;
		esac
	fi
	same "$1" "$_r" "$2"
}

# 1, 2: the PROXY postscreen -> smtpd-proxy25 (policy over inet)
expect "postscreen PROXY: 203.0.113.20 (3 IMAP failures) gets the DEFER" \
    "$DEFERRED" "$STACK_P_PS_PROXY" 203.0.113.20 40200 25
same "the decision is stored with the counter that tripped" \
    "$(mxl_wait_sql "SELECT count(*) FROM decisions" 1 15
	mxl_sql "SELECT rule, action, dry_run, coalesce(protocol_state, ''), client_address,
	    coalesce(server_port, ''), json_extract(counters, '\$[0].key'),
	    json_extract(counters, '\$[0].value'), json_extract(counters, '\$[0].limit')
	    FROM decisions")" \
    "auth-fail|DEFER 4.7.1 too many failed logins|0|RCPT|203.0.113.20|25|203.0.113.20|3|3"
expect "postscreen PROXY: 203.0.113.21 (2 IMAP failures) is queued" \
    queued "$STACK_P_PS_PROXY" 203.0.113.21 40201 25
expect "postscreen PROXY: 203.0.113.22 (no failure) is queued" \
    queued "$STACK_P_PS_PROXY" 203.0.113.22 40202 25

# 3: the PROXY submission listener (no AUTH: the policy answers first)
expect "submission PROXY: 203.0.113.20 gets the DEFER" \
    "$DEFERRED" "$STACK_P_SUB_PROXY" 203.0.113.20 40203 587

# 4: a restart forgets nothing and counts nothing twice
if mxl_stop; then ok "mxledger run exits 0 on SIGTERM"; else notok "mxledger run exits 0 on SIGTERM"; fi
if mxl_start "$CONF"; then ok "mxledger run starts again"; else notok "mxledger run starts again"; fi
expect "after a restart: 203.0.113.20 still gets the DEFER" \
    "$DEFERRED" "$STACK_P_PS_PROXY" 203.0.113.20 40204 25
expect "after a restart: 203.0.113.21 is still queued" \
    queued "$STACK_P_PS_PROXY" 203.0.113.21 40205 25
sleep 0.3	# a decision row too many would have been written by now
same "3 decisions, all about 203.0.113.20" \
    "$(mxl_sql "SELECT count(*), count(DISTINCT client_address), min(client_address)
	FROM decisions")" "3|1|203.0.113.20"

if mxl_stop; then ok "mxledger run exits 0 on SIGTERM"; else notok "mxledger run exits 0 on SIGTERM"; fi
diagnose
trap - EXIT
if stack_stop; then ok "the stack stops by PID and leaves no process"
else notok "the stack stops by PID and leaves no process"; fi
echo "# whole test: $(elapsed "$t0" "$(date +%s.%N)") s"
tap_end cross_protocol
