#!/bin/sh
# NAME
#	crowdsec.sh - mxledger run against a real CrowdSec Local API on loopback
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. top_builddir=. sh tests/integration/crowdsec.sh
# DESCRIPTION
#	Starts a throwaway LAPI of Debian's crowdsec package (crowdsec_lapi.sh:
#	own directory, own SQLite, its own loopback port, /etc/crowdsec never
#	touched) with a bouncer key and a watcher machine for mxledger, then
#	`mxledger run` with a policy listener, a metrics endpoint and
#
#	  crowdsec { interval 1s; timeout 500ms; stale-after 3s; watcher {...} }
#	  rule cs-ban     { crowdsec ban;     action 521 5.7.1 "Blocked by CrowdSec" }
#	  rule cs-captcha { crowdsec captcha; action DEFER "Try again later" }
#	  rule brute      { history auth_failures by client_address >= 3 per 15m
#	                    action 421 4.7.0 "Too many failed logins"
#	                    crowdsec-alert ban 1h }
#
#	and checks, by policy requests over TCP:
#	  1. decisions added with cscli (an IP, an IPv4 range, an IPv6 range,
#	     a captcha) change the answer within one sync interval (polled for
#	     at most 5 s; the time seen is printed); a deletion turns it back;
#	  2. the LAPI killed with SIGKILL: answers keep coming from the last
#	     known set, the failure is logged, mxledger_crowdsec_stale turns 1
#	     after stale-after; a decision added while mxledger could not see
#	     it arrives after the LAPI is back (the resync), staleness clears,
#	     the recovery is logged;
#	  3. three failed IMAP logins in the followed log make the brute rule
#	     answer 421 and push an alert: `cscli decisions list -a` shows a 1h
#	     ban of origin mxledger, scenario mxledger/brute, for that address,
#	     and the next answer to that address comes from cs-ban; more
#	     answers of the brute rule push nothing more (suppressed);
#	  4. a PROXY protocol error line pushes an alert without decision
#	     (proxy-errors yes), seen in `cscli alerts list -a`;
#	  5. `mxledger report ip` shows the CrowdSec decision of an address;
#	  6. /etc/crowdsec is unchanged, and everything started is stopped.
# ENVIRONMENT
#	MXLEDGER, top_srcdir, top_builddir, PYTHON3; KEEP=1 keeps the work directory.
# RETURNS
#	0 pass, 1 fail, 77 skip (no crowdsec package, no python3, or mxledger
#	built without CrowdSec support).

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MXLEDGER=${MXLEDGER:-$top_builddir/mxledger}
PY=${PYTHON3:-python3}
TZ=UTC
export TZ
unset JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC LISTEN_FDS LISTEN_PID

. "$top_srcdir/tests/integration/crowdsec_lapi.sh"
cs_require
if ! command -v "$PY" >/dev/null 2>&1; then echo "SKIP: python3 not found"; exit 77; fi

mkdir -p "$top_builddir/tests/integration" || exit 1
T=$(mktemp -d "$top_builddir/tests/integration/crowdsec.XXXXXX") || exit 1
T=$(cd "$T" && pwd)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	cs_cleanup
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$top_srcdir/tests/tap.sh"
now_ms() { "$PY" -c 'import time; print(int(time.time() * 1000))'; }

cat > "$T/prom.py" <<'EOF'
# prom.py URL NAME [LABELS] - the value of series NAME{LABELS} ("" when absent)
import sys, urllib.request
want = sys.argv[2] + ("{%s}" % sys.argv[3] if len(sys.argv) > 3 else "")
try:
    body = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
except OSError:
    sys.exit(0)
for line in body.splitlines():
    if line.startswith(want + " "):
        print(line.split(" ")[1])
EOF
cat > "$T/has.py" <<'EOF'
# has.py FILE KEY=VALUE... - 0 when a decision/alert object of the cscli JSON has them all
import json, sys
def walk(o):
    if isinstance(o, dict):
        yield o
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
try:
    data = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit(1)
want = [a.split("=", 1) for a in sys.argv[2:]]
sys.exit(0 if any(all(str(o.get(k)) == v for k, v in want) for o in walk(data)) else 1)
EOF
freeport() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ask() { "$PY" "$top_srcdir/tests/policy_ask.py" "$PPORT" "$1" 2>/dev/null; }
metric() { "$PY" "$T/prom.py" "http://127.0.0.1:$MPORT/metrics" "$@"; }
answer_is() { [ "$(ask "$1")" = "action=$2" ]; }
# waited DESCRIPTION CLIENT ACTION - poll up to 5 s for the answer; print how long it took
waited() {
	t0=$(now_ms)
	if poll 50 answer_is "$2" "$3"; then
		ok "$1 (after $(( $(now_ms) - t0 )) ms; interval 1000 ms)"
	else
		notok "$1"
		echo "#   got:  $(ask "$2")"
		echo "#   want: action=$3"
	fi
}
syslog_now() { date -u '+%b %e %H:%M:%S'; }

# ------------------------------------------------------------------ start

cs_setup "$T/lapi" || exit 1
cs_start || exit 1
KEY=$(cs_bouncer_add mxledger) || exit 1
printf '%s\n' "$KEY" > "$T/bouncer.key"
cs_watcher_add mxledger 'Watcher-Passw0rd' || exit 1
printf 'Watcher-Passw0rd\n' > "$T/watcher.secret"
chmod 600 "$T/bouncer.key" "$T/watcher.secret"

PPORT=$(freeport)
MPORT=$(freeport)
: > "$T/mail.log"
cat > "$T/run.conf" <<EOF
database "$T/mx.db"
batch-interval 100ms
input file "$T/mail.log" {
	start-at beginning
}
policy {
	listen inet "127.0.0.1:$PPORT"
}
metrics {
	listen "127.0.0.1:$MPORT"
}
crowdsec {
	url "$CS_URL/"
	api-key-file "$T/bouncer.key"
	interval 1s
	timeout 500ms
	stale-after 3s
	watcher {
		machine-id "mxledger"
		password-file "$T/watcher.secret"
		proxy-errors yes
	}
}
rule cs-ban {
	crowdsec ban
	action 521 5.7.1 "Blocked by CrowdSec"
}
rule cs-captcha {
	crowdsec captcha
	action DEFER "Try again later"
}
rule brute {
	history auth_failures by client_address >= 3 per 15m
	action 421 4.7.0 "Too many failed logins"
	crowdsec-alert ban 1h
}
EOF
"$MXLEDGER" check-config --config "$T/run.conf" > "$T/check.out" 2>&1
if grep -q 'built without CrowdSec support' "$T/check.out"; then
	echo "SKIP: mxledger built without CrowdSec support"
	exit 77
fi
holds "check-config accepts the crowdsec block and rules" grep -q 'crowdsec-alert ban 1h' "$T/check.out"
holds "check-config does not print the key" sh -c "! grep -qF '$KEY' '$T/check.out'"

# a ban that exists before mxledger starts is known at its first answer
cs_decision_add --ip 203.0.113.5 --duration 1h --reason before-start > /dev/null
"$MXLEDGER" run --config "$T/run.conf" > "$T/run.log" 2>&1 &
PID=$!
listening() { ss -Hltn "sport = :$PPORT" | grep -q LISTEN; }
holds "mxledger run listens for policy requests" poll 100 listening
same "a ban made before the start is in the first answer" "$(ask 203.0.113.5)" \
    "action=521 5.7.1 Blocked by CrowdSec"
same "an address CrowdSec has nothing on: DUNNO" "$(ask 192.0.2.1)" "action=DUNNO"

# ------------------------------------------------------- 1. the bouncer side

cs_decision_add --ip 203.0.113.7 --duration 1h --reason test > /dev/null
waited "cscli decisions add --ip: the address gets 521" 203.0.113.7 "521 5.7.1 Blocked by CrowdSec"
cs_decision_add --range 198.51.100.0/24 --duration 2h --reason "test range" > /dev/null
waited "an IPv4 range ban covers 198.51.100.42" 198.51.100.42 "521 5.7.1 Blocked by CrowdSec"
cs_decision_add --range 2001:db8:5::/48 --duration 2h --reason "v6 range" > /dev/null
waited "an IPv6 range ban covers 2001:db8:5::1" 2001:db8:5::1 "521 5.7.1 Blocked by CrowdSec"
same "an IPv6 address outside the range: DUNNO" "$(ask 2001:db8:6::1)" "action=DUNNO"
cs_decision_add --ip 192.0.2.55 --duration 30m --type captcha --reason "test captcha" > /dev/null
waited "a captcha decision gets DEFER" 192.0.2.55 "DEFER Try again later"
cs_decision_delete --ip 203.0.113.7 > /dev/null
waited "cscli decisions delete: the address is back to DUNNO" 203.0.113.7 "DUNNO"
same "the range ban is still there" "$(ask 198.51.100.42)" "action=521 5.7.1 Blocked by CrowdSec"
same "mxledger_crowdsec_decisions{type=\"ban\"}: 203.0.113.5, two ranges" \
    "$(metric mxledger_crowdsec_decisions 'type="ban"')" "3"
same "mxledger_crowdsec_stale is 0 while pulls succeed" "$(metric mxledger_crowdsec_stale)" "0"

# ------------------------------------------------- 2. LAPI down, LAPI back

cs_kill
holds "the LAPI is gone (SIGKILL)" [ "$(cs_health)" = "000" ]
t0=$(now_ms)
same "LAPI down: the range ban still answers from the last known set" \
    "$(ask 198.51.100.42)" "action=521 5.7.1 Blocked by CrowdSec"
echo "# answer while the LAPI is down took $(( $(now_ms) - t0 )) ms (python connect included)"
same "LAPI down: other addresses are DUNNO (fail open)" "$(ask 192.0.2.2)" "action=DUNNO"
failed_logged() { grep -q 'crowdsec: cannot pull decisions from' "$T/run.log"; }
holds "the failed pull is logged" poll 50 failed_logged
stale() { [ "$(metric mxledger_crowdsec_stale)" = "1" ]; }
holds "mxledger_crowdsec_stale turns 1 after stale-after (3 s)" poll 80 stale
holds "the staleness is logged" grep -q 'crowdsec: decisions are stale' "$T/run.log"
errs=$(metric mxledger_crowdsec_syncs_total 'result="error"')
holds "failed pulls are counted ($errs)" [ "${errs:-0}" -ge 1 ]
holds "pulls were not retried faster than the interval" [ "${errs:-0}" -le 10 ]
same "still answering from the last known set after stale-after" \
    "$(ask 198.51.100.42)" "action=521 5.7.1 Blocked by CrowdSec"

cs_start || exit 1
cs_decision_add --ip 203.0.113.9 --duration 1h --reason while-down > /dev/null
waited "LAPI back: a decision added meanwhile arrives (resync)" 203.0.113.9 \
    "521 5.7.1 Blocked by CrowdSec"
fresh() { [ "$(metric mxledger_crowdsec_stale)" = "0" ]; }
holds "mxledger_crowdsec_stale is 0 again" poll 30 fresh
holds "the recovery is logged" grep -q 'crowdsec: the LAPI at .* answers again' "$T/run.log"
same "decisions kept across the outage are still known" "$(ask 2001:db8:5::1)" \
    "action=521 5.7.1 Blocked by CrowdSec"

# ------------------------------------------------------ 3. the watcher side

for s in s1 s2 s3; do
	echo "$(syslog_now) mail dovecot: imap-login: Disconnected: Aborted login by logging out" \
	    "(auth failed, 1 attempts in 1 secs): user=<bob>, method=PLAIN, rip=203.0.113.66," \
	    "lip=203.0.113.254, session=<$s>" >> "$T/mail.log"
done
waited "three failed IMAP logins: the brute rule answers 421" 203.0.113.66 \
    "421 4.7.0 Too many failed logins"
cs_decisions_json > "$T/decisions.json" 2>/dev/null
pushed() {
	cs_decisions_json > "$T/decisions.json" 2>/dev/null &&
	    "$PY" "$T/has.py" "$T/decisions.json" value=203.0.113.66 origin=mxledger \
	    scenario=mxledger/brute type=ban
}
holds "the finding is a ban of origin mxledger, scenario mxledger/brute, in cscli decisions list -a" \
    poll 50 pushed
holds "the alert push is logged" grep -q 'crowdsec: 1 alert pushed to' "$T/run.log"
waited "the pushed ban comes back through the stream: cs-ban answers first now" \
    203.0.113.66 "521 5.7.1 Blocked by CrowdSec"
same "one alert pushed" "$(metric mxledger_crowdsec_alerts_total 'result="pushed"')" "1"

# a second offender: two brute answers in a row push once
for s in t1 t2 t3; do
	echo "$(syslog_now) mail dovecot: imap-login: Disconnected: Aborted login by logging out" \
	    "(auth failed, 1 attempts in 1 secs): user=<eve>, method=PLAIN, rip=203.0.113.67," \
	    "lip=203.0.113.254, session=<$s>" >> "$T/mail.log"
done
waited "a second address: 421" 203.0.113.67 "421 4.7.0 Too many failed logins"
ask 203.0.113.67 > /dev/null
two() { [ "$(metric mxledger_crowdsec_alerts_total 'result="pushed"')" = "2" ]; }
holds "its finding is pushed once" poll 30 two
settled() { [ "$(metric mxledger_crowdsec_alerts_total 'result="suppressed"')" -ge 1 ] 2>/dev/null ||
    [ "$(ask 203.0.113.67)" = "action=521 5.7.1 Blocked by CrowdSec" ]; }
holds "the repeat is suppressed, or the ban already answers" poll 30 settled
sleep 1.5
same "still two alerts pushed after the repeats" \
    "$(metric mxledger_crowdsec_alerts_total 'result="pushed"')" "2"

# -------------------------------------------------------- 4. PROXY errors

echo "$(syslog_now) mail dovecot: imap-login: Info: haproxy: Client disconnected" \
    "(rip=192.0.2.44): Connection reset by peer" >> "$T/mail.log"
proxy_alert() {
	cs_alerts_json > "$T/alerts.json" 2>/dev/null &&
	    "$PY" "$T/has.py" "$T/alerts.json" scenario=mxledger/proxy-protocol-error
}
holds "a PROXY error becomes an alert (no decision) in cscli alerts list -a" poll 50 proxy_alert
cs_decisions_json > "$T/decisions.json" 2>/dev/null
holds "... and no decision for 192.0.2.44" sh -c "! '$PY' '$T/has.py' '$T/decisions.json' value=192.0.2.44"

# --------------------------------------------------------- 5. report ip

"$MXLEDGER" report ip 198.51.100.42 --config "$T/run.conf" --format csv > "$T/report.csv" 2>&1
holds "report ip shows the covering CrowdSec range ban" \
    grep -q '^[0-9TZ:-]*,198\.51\.100\.0/24,crowdsec,crowdsec_decision,,"ban test range (origin cscli, ' \
    "$T/report.csv"
"$MXLEDGER" report ip 192.0.2.1 --config "$T/run.conf" --format csv > "$T/report2.csv" 2>&1
holds "report ip says when CrowdSec has nothing" grep -q 'crowdsec_none' "$T/report2.csv"

# ------------------------------------------------------------------ stop

kill -TERM "$PID"
wait "$PID"
same "mxledger run exits 0 on SIGTERM" "$?" "0"
PID=
cs_stop
same "the LAPI stops on SIGTERM" "$?" "0"
holds "/etc/crowdsec is unchanged" cs_etc_unchanged
if [ "$fails" -ne 0 ]; then
	echo "# --- mxledger log"
	sed 's/^/# /' "$T/run.log" | tail -40
fi
tap_end crowdsec
