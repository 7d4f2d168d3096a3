#!/bin/sh
# NAME
#	policy_cli.sh - the policy service from the command line: policy-test,
#	check-config, and `mxledger run` answering on a loopback port
# SYNOPSIS
#	MXLEDGER=./mxledger top_builddir=. sh tests/policy_cli.sh
# DESCRIPTION
#	1. policy-test prints the action, the rule and its counters for
#	   requests read on stdin (a rate limit trips on the third RCPT),
#	   exits 65 for a request that breaks the protocol or no request;
#	2. check-config names file:line of a bad rule and exits 78, and prints
#	   the rules and the policy block normalised;
#	3. policy-test --db replays the stored history: IMAP failures
#	   ingested earlier make the SMTP client get the DEFER;
#	4. `mxledger run` with an inet listener on a free 127.0.0.1 port
#	   answers DUNNO, then follows a log file receiving Dovecot IMAP login
#	   failures of the same client address, answers the configured DEFER
#	   at SMTP (cross-protocol, from the log), and the decision row is in
#	   SQLite with the rule name and the counters;
#	5. after a restart the first answer is already the DEFER (counters
#	   rebuilt from the database); after SIGHUP with a changed action the
#	   new action is answered at once (counts kept).
#	The client is a few lines of Python on a loopback socket; every wait
#	is a bounded poll.
# ENVIRONMENT
#	MXLEDGER, top_builddir, PYTHON3; KEEP=1 keeps the work directory.
# RETURNS
#	0 pass, 1 fail, 77 skip (no python3).

set -u
MXLEDGER=${MXLEDGER:-${top_builddir:-.}/mxledger}
PY=${PYTHON3:-python3}
TZ=UTC
export TZ
unset JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC LISTEN_FDS LISTEN_PID

if ! command -v "$PY" >/dev/null 2>&1; then
	echo "SKIP: python3 not found"
	exit 77
fi
mkdir -p "${top_builddir:-.}/tests" || exit 1
T=$(mktemp -d "${top_builddir:-.}/tests/policy_cli.XXXXXX") || exit 1
T=$(cd "$T" && pwd)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "${top_srcdir:-.}/tests/tap.sh"
has() { grep -qxF -- "$2" "$1"; }

# ------------------------------------------------------------ policy-test

cat > "$T/rules.conf" <<EOF
database "$T/mx.db"
input file "$T/mail.log" {
	envelope rfc3339
	start-at beginning
}
rule office-allow {
	client_address 192.0.2.0/24
	action DUNNO
}
rule imap-bruteforce {
	history auth_failures by client_address >= 5 per 15m
	action DEFER "Too many failed logins"
}
rule burst {
	protocol_state RCPT
	rate recipients by client_address > 2 per 1m
	action 450 4.7.1 "Slow down"
}
EOF
req() {	# req STATE CLIENT - one request, and the empty line
	printf 'request=smtpd_access_policy\nprotocol_state=%s\nclient_address=%s\n' "$1" "$2"
	printf 'recipient=user@example.org\ninstance=1.2.3\n\n'
}
{ req RCPT 198.51.100.7; req RCPT 198.51.100.7; req RCPT 198.51.100.7; req RCPT 192.0.2.7; } \
    > "$T/reqs"
"$MXLEDGER" policy-test --config "$T/rules.conf" --now 2026-11-22T02:22:00Z \
    < "$T/reqs" > "$T/out" 2> "$T/err"
rc=$?
holds "policy-test decides every request and exits 0" [ "$rc" = 0 ]
holds "the third RCPT in a minute trips the rate limit" \
    has "$T/out" "action=450 4.7.1 Slow down"
holds "the rule that decided is named" has "$T/out" "rule=burst"
holds "the counter that triggered it is shown" \
    has "$T/out" "counter=rate recipients by client_address > 2 per 1m: 198.51.100.7 = 3"
holds "four answers, two of them DUNNO from no rule" \
    test "$(grep -c '^action=' "$T/out")" = 4 -a "$(grep -c '^rule=-$' "$T/out")" = 2
holds "the allowlisted network is answered by its rule" has "$T/out" "rule=office-allow"

printf 'protocol_state=RCPT\nthis line has no equals sign\n\n' |
    "$MXLEDGER" policy-test --config "$T/rules.conf" > "$T/out" 2> "$T/err"
rc=$?
holds "a malformed request exits 65 (EX_DATAERR)" [ "$rc" = 65 ]
holds "... with a message naming the request" grep -q "policy-test: request 1: " "$T/err"
"$MXLEDGER" policy-test --config "$T/rules.conf" < /dev/null > "$T/out" 2> "$T/err"
holds "no request at all exits 65" [ "$?" = 65 ]
printf 'protocol_state=CONNECT\nclient_address=203.0.113.9' |
    "$MXLEDGER" policy-test --config "$T/rules.conf" > "$T/out" 2> "$T/err"
holds "the last request may end at the end of the input" has "$T/out" "action=DUNNO"

# ----------------------------------------------------------- check-config

printf 'policy {\n\tlisten inet "127.0.0.1:1"\n}\nrule limit {\n\trate mails by client_address > 3 per 1m\n\taction DEFER x\n}\n' \
    > "$T/bad.conf"
"$MXLEDGER" check-config --config "$T/bad.conf" > "$T/out" 2> "$T/err"
rc=$?
holds "check-config with a bad rule exits 78" [ "$rc" = 78 ]
holds "... naming file and line of the bad condition" grep -q "bad.conf:5: rule limit: " "$T/err"
"$MXLEDGER" policy-test --config "$T/bad.conf" < "$T/reqs" > "$T/out" 2> "$T/err"
holds "policy-test with a bad rule exits 78 too" [ "$?" = 78 ]
"$MXLEDGER" check-config --config "$T/rules.conf" > "$T/out" 2> "$T/err"
holds "check-config prints the rules normalised" \
    grep -q '^	action "DEFER Too many failed logins"$' "$T/out"

EX=${top_srcdir:-.}/contrib/mxledger.conf.example
"$MXLEDGER" check-config --config "$EX" > "$T/out" 2> "$T/err"
holds "the shipped example configuration is valid" [ "$?" = 0 ]
holds "... and its 8 example rules are read" \
    grep -q '^# 8 rules, tried in this order' "$T/out"

# --------------------------------------------- history: ingest, policy-test

# imap_fail SECONDS-AGO ATTEMPTS SESSION - a Dovecot login failure line, time relative to now
imap_fail() {
	printf '%s mail dovecot: imap-login: Disconnected: Aborted login by logging out ' \
	    "$(date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%S.000000+00:00)"
	printf '(auth failed, %s attempts in 9 secs): user=<frank@example.net>, ' "$2"
	printf 'method=PLAIN, rip=203.0.113.50, lip=203.0.113.254, TLS, session=<%s>\n' "$3"
}
imap_fail 300 3 hist1 > "$T/old.log"
imap_fail 200 2 hist2 >> "$T/old.log"
"$MXLEDGER" ingest --config "$T/rules.conf" --db "$T/hist.db" "$T/old.log" > "$T/out" 2>&1
holds "two IMAP failure lines of 5 attempts are ingested" [ "$?" = 0 ]
req CONNECT 203.0.113.50 | "$MXLEDGER" policy-test --config "$T/rules.conf" \
    --db "$T/hist.db" > "$T/out" 2> "$T/err"
holds "policy-test --db: the stored IMAP failures defer the SMTP client" \
    has "$T/out" "action=DEFER Too many failed logins"
holds "... with the counter read back from the history" \
    has "$T/out" "counter=history auth_failures by client_address >= 5 per 15m: 203.0.113.50 = 5"
req CONNECT 203.0.113.50 | "$MXLEDGER" policy-test --config "$T/rules.conf" > "$T/out" 2>&1
holds "without --db the same request is DUNNO" has "$T/out" "action=DUNNO"

# ------------------------------------------------------------ mxledger run

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/run.conf" <<EOF
database "$T/mx.db"
batch-interval 100ms
input file "$T/mail.log" {
	envelope rfc3339
	start-at beginning
}
policy {
	listen inet "127.0.0.1:$PORT"
	history-window 1h
}
rule imap-bruteforce {
	history auth_failures by client_address >= 5 per 15m
	action DEFER "Too many failed logins"
}
EOF
: > "$T/mail.log"

# ask STATE CLIENT - one request (no recipient) on a fresh connection; prints the answer line
ask() { "$PY" "${top_srcdir:-.}/tests/policy_ask.py" "$PORT" "$2" "$1" - 2>/dev/null; }
answer_is() { [ "$(ask "$1" "$2")" = "$3" ]; }	# answer_is STATE CLIENT WANT
# wait_answer STATE CLIENT WANT - poll (at most 10 s) until the answer is WANT
wait_answer() { poll 100 answer_is "$@"; }
# first_answer STATE CLIENT - the first answer once the listener accepts (at most 10 s)
first_answer() {
	i=0
	while [ $i -lt 100 ]; do
		a=$(ask "$1" "$2")
		[ -n "$a" ] && { echo "$a"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
start_run() {
	"$MXLEDGER" run --config "$T/run.conf" >> "$T/run.log" 2>&1 &
	PID=$!
}
stop_run() {
	kill -TERM "$PID" 2>/dev/null
	i=0
	while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	wait "$PID" 2>/dev/null
	rc=$?
	PID=
	return $rc
}
sql() { "$PY" -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(map(str, row)))' \
    "$T/mx.db" "$1"; }

start_run
holds "run answers DUNNO on the inet listener for an unknown client" \
    wait_answer RCPT 203.0.113.50 "action=DUNNO"
imap_fail 20 3 live1 >> "$T/mail.log"
imap_fail 10 2 live2 >> "$T/mail.log"
holds "after IMAP failures in the followed log the client gets the DEFER at SMTP" \
    wait_answer RCPT 203.0.113.50 "action=DEFER Too many failed logins"
holds "another client is not affected" [ "$(ask RCPT 203.0.113.51)" = "action=DUNNO" ]
stop_run
holds "run exits 0 on SIGTERM" [ "$?" = 0 ]
holds "the decision is stored with its rule, action, client and counters" \
    [ "$(sql "SELECT rule, action, dry_run, protocol_state, client_address,
        json_extract(counters, '\$[0].value') FROM decisions ORDER BY id LIMIT 1")" = \
    "imap-bruteforce|DEFER Too many failed logins|0|RCPT|203.0.113.50|5" ]
holds "the decision was logged with the rule name and the counters" \
    grep -q 'policy: rule "imap-bruteforce" answered "DEFER Too many failed logins" to 203.0.113.50 (RCPT, user -): counters \[{"condition":"history auth_failures by client_address >= 5 per 15m","key":"203.0.113.50","value":5,"limit":5}\]' \
    "$T/run.log"

start_run
holds "after a restart the first answer is already the DEFER (history rebuilt)" \
    test "$(first_answer CONNECT 203.0.113.50)" = "action=DEFER Too many failed logins"
holds "the rebuild is logged" grep -q "policy: counters rebuilt from 2 stored events" "$T/run.log"
sed -i 's/action DEFER "Too many failed logins"/action 421 4.7.0 "Go away"/' "$T/run.conf"
kill -HUP "$PID"
holds "after SIGHUP the new action is answered, the counts kept" \
    wait_answer CONNECT 203.0.113.50 "action=421 4.7.0 Go away"
stop_run
holds "the restarted run exits 0 too" [ "$?" = 0 ]
holds "every answer of the rule is stored" \
    [ "$(sql "SELECT count(*) FROM decisions WHERE client_address = '203.0.113.50'")" -ge 3 ]

if [ "$fails" != 0 ]; then
	echo "# run.log:"
	sed 's/^/# /' "$T/run.log" | tail -30
fi
tap_end policy_cli
