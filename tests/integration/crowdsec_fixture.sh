#!/bin/sh
# NAME
#	crowdsec_fixture.sh - the CrowdSec LAPI fixture does what tests rely on
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh tests/integration/crowdsec_fixture.sh
# DESCRIPTION
#	Checks crowdsec_lapi.sh against the real crowdsec 1.4.6 LAPI, with
#	the bouncer and watcher requests mxledger makes (curl standing in):
#	  1. cs_setup + cs_start: /health answers 200 from our PID, which owns
#	     the listening socket on 127.0.0.1:CS_PORT;
#	  2. a bouncer; an Ip ban (203.0.113.7), a Range ban (198.51.100.0/24)
#	     and an IPv6 ban (2001:db8::7) added with cscli are exactly the
#	     "new" of GET /v1/decisions/stream?startup=true ("deleted" null);
#	     a wrong key gets 403;
#	  3. cscli deletes 203.0.113.7: the next pull has it in "deleted" and
#	     no "new";
#	  4. a watcher (cscli machines add -f -: cscli's own credentials stay)
#	     logs in (POST /v1/watchers/login) and POSTs one alert with a 1h
#	     ban of 192.0.2.99 (origin mxledger, scenario mxledger/selftest):
#	     201 ["ID"], `cscli decisions list -a -o json` shows the decision,
#	     the next pull has it in "new";
#	  5. SIGKILL: the PID is gone and /health no longer answers;
#	  6. cs_start on the same directory: the bouncer key still works and
#	     startup=true gives the three live bans; the watcher's old JWT is
#	     refused (401: the signing secret is new at each start);
#	  7. cs_stop: exit status 0, the PID is gone, nothing listens on the
#	     port, no process uses the configuration, /etc/crowdsec unchanged.
# ENVIRONMENT
#	top_srcdir, top_builddir; KEEP=1 keeps the CrowdSec directory.
# RETURNS
#	0 pass, 1 fail, 77 skip (crowdsec, cscli, curl, ss or python3 missing).

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
TZ=UTC
export TZ
unset CS_LAPI_SECRET NOTIFY_SOCKET

. "$top_srcdir/tests/integration/crowdsec_lapi.sh"
cs_require
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 not installed (this test reads the JSON with it)"
	exit 77
fi

. "$top_srcdir/tests/tap.sh"
# diagnose - on failure, the end of crowdsec's logs (before they go)
diagnose() {
	[ $fails -ne 0 ] && [ -n "$CS_DIR" ] || return 0
	for f in "$CS_DIR/log/crowdsec.log" "$CS_DIR/log/crowdsec_api.log"; do
		[ -f "$f" ] || continue
		echo "# --- tail of $f"
		tail -20 "$f" | sed 's/^/# /'
	done
}
# cleanup - on any exit: stop crowdsec by PID, remove its directory
cleanup() {
	trap - EXIT INT TERM
	diagnose
	cs_cleanup
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# stream_summary - a decision stream on stdin as "new: S:T:V ... | deleted:
# S:T:V ..." (sorted; "-" for null), for exact comparisons
stream_summary() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
def part(k):
    v = d.get(k)
    if v is None:
        return "-"
    return " ".join(sorted("%s:%s:%s" % (x["scope"], x["type"], x["value"]) for x in v))
print("new: %s | deleted: %s" % (part("new"), part("deleted")))
'
}
# decisions_summary - `cscli decisions list -a -o json` on stdin as one
# "origin|scenario|scope|type|value" per decision, sorted
decisions_summary() {
	python3 -c '
import json, sys
rows = []
for a in json.load(sys.stdin) or []:
    for x in a.get("decisions") or []:
        rows.append("|".join([x["origin"], x["scenario"], x["scope"], x["type"], x["value"]]))
print("\n".join(sorted(rows)))
'
}
# http_code ARGS... - curl's HTTP status, the body in $CS_DIR/body
http_code() {
	curl -s -o "$CS_DIR/body" -w '%{http_code}' --max-time 5 "$@"
}
stamp() {
	date +%s.%N
}
since() {
	awk -v a="$1" -v b="$(stamp)" 'BEGIN { printf "%.2f", b - a }'
}

t0=$(stamp)
cs_setup || exit 1
t1=$(stamp)
if ! cs_start; then
	notok "the LAPI starts and answers /health"
	exit 1
fi
echo "# $CS_DIR, port $CS_PORT: setup $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s," \
    "LAPI up in $(since "$t1") s"

# 1
same "GET /health answers 200" "$(cs_health)" 200
same "PID $CS_PID owns the listening socket on 127.0.0.1:$CS_PORT" \
    "$(ss -Hltnp "( sport = :$CS_PORT )" | grep -c "pid=$CS_PID,")" 1

# 2
KEY=$(cs_bouncer_add fixture-bouncer)
case "$KEY" in
[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*)
	same "cscli bouncers add prints a key of 32 hex digits" "${#KEY}" 32 ;;
*)
	notok "cscli bouncers add prints a key of 32 hex digits"
	echo "#   got: '$KEY'" ;;
esac
add_three() {
	cs_decision_add --ip 203.0.113.7 --duration 1h --reason "fixture ip" &&
	    cs_decision_add --range 198.51.100.0/24 --duration 2h --reason "fixture range" &&
	    cs_decision_add --ip 2001:db8::7 --duration 3h --reason "fixture ipv6"
}
holds "cscli adds an Ip ban, a Range ban and an IPv6 ban" add_three
same "stream startup=true: the three bans are new, nothing deleted" \
    "$(cs_stream "$KEY" startup | stream_summary)" \
    "new: Ip:ban:2001:db8::7 Ip:ban:203.0.113.7 Range:ban:198.51.100.0/24 | deleted: -"
same "a wrong bouncer key gets 403" \
    "$(http_code -H 'X-Api-Key: 0123456789abcdef0123456789abcdef' \
	"$CS_URL/v1/decisions/stream?startup=true") $(cat "$CS_DIR/body")" \
    '403 {"message":"access forbidden"}'

# 3
holds "cscli deletes the ban of 203.0.113.7" cs_decision_delete --ip 203.0.113.7
same "the next pull has 203.0.113.7 in deleted, nothing new" \
    "$(cs_stream "$KEY" | stream_summary)" "new: - | deleted: Ip:ban:203.0.113.7"

# 4
WPW=fixture-watcher-password
holds "cscli adds the watcher, its own credentials untouched" \
    cs_watcher_add fixture-watcher "$WPW"
TOKEN=$(cs_watcher_login fixture-watcher "$WPW")
same "POST /v1/watchers/login gives a JWT" "$(echo "$TOKEN" | awk -F. '{ print NF }')" 3
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat > "$CS_DIR/alert.json" <<EOF
[{
  "scenario": "mxledger/selftest",
  "scenario_hash": "",
  "scenario_version": "",
  "message": "192.0.2.99 flagged by the fixture self-test",
  "events_count": 1,
  "events": [],
  "capacity": 0,
  "leakspeed": "0",
  "simulated": false,
  "start_at": "$now",
  "stop_at": "$now",
  "source": {"scope": "Ip", "value": "192.0.2.99", "ip": "192.0.2.99"},
  "decisions": [
    {"duration": "1h", "origin": "mxledger", "scenario": "mxledger/selftest",
     "scope": "Ip", "type": "ban", "value": "192.0.2.99"}
  ]
}]
EOF
code=$(http_code -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary @"$CS_DIR/alert.json" "$CS_URL/v1/alerts")
same "POST /v1/alerts: 201 with one alert ID as a string" \
    "$code $(sed 's/^\["[0-9][0-9]*"\]$/["ID"]/' "$CS_DIR/body")" '201 ["ID"]'
same "cscli decisions list -a -o json shows the pushed ban" \
    "$(cs_decisions_json | decisions_summary | grep '^mxledger|')" \
    "mxledger|mxledger/selftest|Ip|ban|192.0.2.99"
case "$(cs_stream "$KEY" | stream_summary)" in
"new: Ip:ban:192.0.2.99 |"*) ok "the next pull has the pushed ban in new" ;;
*) notok "the next pull has the pushed ban in new"; cs_stream "$KEY" startup | sed 's/^/#   /' ;;
esac

# 5
PID1=$CS_PID
holds "SIGKILL ends PID $PID1" cs_kill
holds "PID $PID1 is gone" cs_gone "$PID1"
same "/health no longer answers" "$(cs_health)" 000

# 6
t2=$(stamp)
if cs_start; then
	ok "the LAPI starts again on the same directory (PID $CS_PID, in $(since "$t2") s)"
else
	notok "the LAPI starts again on the same directory"
	exit 1
fi
same "the old bouncer key still works: startup=true has the three live bans" \
    "$(cs_stream "$KEY" startup | stream_summary | sed 's/ | deleted:.*//')" \
    "new: Ip:ban:192.0.2.99 Ip:ban:2001:db8::7 Range:ban:198.51.100.0/24"
same "the watcher's JWT from before the restart is refused" \
    "$(http_code -H "Authorization: Bearer $TOKEN" "$CS_URL/v1/heartbeat")" 401

# 7
PID2=$CS_PID
cs_stop
same "cs_stop: crowdsec exits 0 on SIGTERM" "$?" 0
holds "PID $PID2 is gone" cs_gone "$PID2"
same "nothing listens on port $CS_PORT" "$(ss -Hltn "( sport = :$CS_PORT )")" ""
same "no process uses $CS_DIR/config.yaml" "$(cs_leftovers)" ""
holds "/etc/crowdsec is unchanged" cs_etc_unchanged

diagnose
trap - EXIT
cs_cleanup
echo "# whole test: $(since "$t0") s"
tap_end crowdsec_fixture
