#!/bin/sh
# NAME
#	metrics_scrape.sh - `mxledger run` with a metrics block, scraped while it
#	follows the real sample log; the numbers must match what was stored
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. top_builddir=. sh tests/metrics_scrape.sh
# DESCRIPTION
#	1. mxledger run follows a copy of tests/data/real-sample-mail.log from
#	   its beginning, with `metrics { listen "127.0.0.1:0" ... }` (port 0:
#	   the port it got is read from its log) and a policy listener on a free
#	   loopback port. Once the database holds every event and the scrape
#	   shows every line read, /metrics is compared with SQLite:
#	   mxledger_events_total summed by event and by listener equals
#	   "SELECT event|listener, count(*) FROM events GROUP BY ..."; auth
#	   failures by protocol (smtp: one per smtpd line; imap: Dovecot's
#	   attempts), fatals, PROXY errors, connections and connections whose
#	   real IP was lost (loopback, or the configured proxy-networks: two
#	   of the sample's clients stand in for proxy hops) by listener; lines
#	   read and unrecognised equal `mxledger parse --stats` of the same
#	   file; the ingest lag is there; no database error; /healthz is 200
#	   "ok".
#	2. Two policy requests (a client the rule rejects, one it does not)
#	   make policy_requests_total{action="REJECT",rule="doc-net"} and
#	   {action="DUNNO",rule=""} 1 each, and the latency histogram count 2.
#	3. SIGHUP keeps the endpoint (same port) and every counter.
#	4. A second daemon with the same metrics address exits 71 (EX_OSERR)
#	   saying it cannot listen.
#	5. While another writer holds the database lock, commits fail:
#	   /healthz is 503 with the reason, db_errors_total grows; afterwards
#	   /healthz is 200 again.
#	6. With alerts yes, the four fatals on the submission listener (the
#	   sample's two, and two copies) fire MxledgerFatalsRepeated: logged,
#	   and POSTed to a stand-in Alertmanager on loopback.
#	7. SIGTERM exits 0 and leaves the node_exporter textfile with the
#	   final counts.
#	Every wait is a bounded poll; servers listen on loopback only.
# ENVIRONMENT
#	MXLEDGER, top_srcdir, top_builddir, PYTHON3; KEEP=1 keeps the work directory.
# RETURNS
#	0 pass, 1 fail, 77 skip (no python3, no sample log, or mxledger built
#	without libmicrohttpd).

set -u
MXLEDGER=${MXLEDGER:-${top_builddir:-.}/mxledger}
SAMPLE=${top_srcdir:-.}/tests/data/real-sample-mail.log
PY=${PYTHON3:-python3}
TZ=UTC
export TZ
unset JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC LISTEN_FDS LISTEN_PID

if ! command -v "$PY" >/dev/null 2>&1; then echo "SKIP: python3 not found"; exit 77; fi
if [ ! -r "$SAMPLE" ]; then echo "SKIP: $SAMPLE missing"; exit 77; fi
mkdir -p "${top_builddir:-.}/tests" || exit 1
T=$(mktemp -d "${top_builddir:-.}/tests/metrics_scrape.XXXXXX") || exit 1
T=$(cd "$T" && pwd)
PID=
PID2=
LOCKER=
AMPID=
cleanup() {
	[ -n "$AMPID" ] && kill "$AMPID" 2>/dev/null
	[ -n "$LOCKER" ] && kill "$LOCKER" 2>/dev/null
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$PID2" ] && kill -9 "$PID2" 2>/dev/null && wait "$PID2" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "${top_srcdir:-.}/tests/tap.sh"

# ------------------------------------------------------------------ helpers

cat > "$T/get.py" <<'EOF'
# get.py URL OUT - GET URL, body into OUT; prints "STATUS CONTENT-TYPE"
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        status, ctype, body = r.status, r.headers.get("Content-Type", ""), r.read()
except urllib.error.HTTPError as e:
    status, ctype, body = e.code, e.headers.get("Content-Type", ""), e.read()
except OSError as e:
    status, ctype, body = 0, "", str(e).encode()
open(sys.argv[2], "wb").write(body)
print(status, ctype)
EOF
cat > "$T/prom.py" <<'EOF'
# prom.py FILE NAME [LABEL] - the value of the series NAME{} (no LABEL), or
# "value|sum" lines of NAME summed by LABEL, sorted; exposition format 0.0.4
import re, sys
series = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
pair = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')
want, by = sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None
sums = {}
for line in open(sys.argv[1]):
    m = series.match(line.rstrip("\n"))
    if line.startswith("#") or not m or m.group(1) != want:
        continue
    labels = dict(pair.findall(m.group(2) or ""))
    key = labels.get(by, "") if by else "%s" % ",".join(
        '%s="%s"' % kv for kv in sorted(labels.items()))
    sums[key] = sums.get(key, 0) + float(m.group(3))
fmt = lambda v: ("%d" % v) if v == int(v) else repr(v)
if by:
    for k in sorted(sums):
        print("%s|%s" % (k, fmt(sums[k])))
else:
    print(" ".join("%s=%s" % (k, fmt(v)) if k else fmt(v) for k, v in sorted(sums.items())))
EOF
cat > "$T/am.py" <<'EOF'
# am.py PORT OUT - a stand-in Alertmanager: each POST's path and body, one line each
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(self.path.encode() + b" " + body + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
sql() { "$PY" -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(map(str, row)))' \
    "$T/mx.db" "$1" 2>/dev/null; }
scrape() { "$PY" "$T/get.py" "http://127.0.0.1:$MPORT$1" "$T/body"; }
metric() { "$PY" "$T/prom.py" "$T/metrics" "$@"; }	# metric NAME [LABEL]
ask() { "$PY" "${top_srcdir:-.}/tests/policy_ask.py" "$PPORT" "$1"; }	# ask CLIENT: the answer line

# ------------------------------------------------------------------ start

# two more fatals on the submission listener: 4 in 15 minutes fire MxledgerFatalsRepeated
cp "$SAMPLE" "$T/mail.log"
grep 'postfix/smtpd-proxy587/smtpd\[[0-9]*\]: fatal: ' "$SAMPLE" >> "$T/mail.log"
freeport() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PPORT=$(freeport)
APORT=$(freeport)
: > "$T/am.log"
"$PY" "$T/am.py" "$APORT" "$T/am.log" 2> "$T/am.err" &
AMPID=$!
cat > "$T/run.conf" <<EOF
database "$T/mx.db"
batch-interval 100ms
input file "$T/mail.log" {
	start-at beginning
}
policy {
	listen inet "127.0.0.1:$PPORT"
}
rule doc-net {
	client_address 203.0.113.0/24
	action REJECT "documentation network"
}
metrics {
	listen "127.0.0.1:0"
	textfile "$T/mxledger.prom"
	textfile-interval 1s
	proxy-networks "10.0.0.0/8" "198.51.100.240" "2001:db8:bb49::/48"
	alerts yes
	alertmanager-url "http://127.0.0.1:$APORT"
}
EOF
"$MXLEDGER" run --config "$T/run.conf" > "$T/run.log" 2>&1 &
PID=$!
served() { grep -q 'metrics: serving /metrics' "$T/run.log"; }
poll 100 served || grep -q 'metrics: HTTP endpoint not built in' "$T/run.log"
if grep -q 'metrics: HTTP endpoint not built in' "$T/run.log"; then
	echo "SKIP: mxledger built without libmicrohttpd"
	exit 77
fi
MPORT=$(sed -n 's|.*metrics: serving /metrics and /healthz on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' \
    "$T/run.log" | head -1)
holds "the endpoint's address (port 0: any free port) is logged" [ -n "$MPORT" ]

"$MXLEDGER" parse --format none --stats "$T/mail.log" > /dev/null 2> "$T/stats"
EVENTS=$(sed -n 's/^lines [0-9]*, events \([0-9]*\),.*/\1/p' "$T/stats")
UNREC=$(sed -n 's/.*, unrecognised \([0-9]*\),.*/\1/p' "$T/stats")
LINES=$(wc -l < "$T/mail.log" | tr -d ' ')
stored() { [ "$(sql 'SELECT count(*) FROM events')" = "$EVENTS" ]; }
all_read() {
	scrape /metrics > /dev/null && cp "$T/body" "$T/metrics" &&
	    [ "$(metric mxledger_lines_read_total)" = "input=\"$T/mail.log\"=$LINES" ]
}
holds "the database gets every event of the file ($EVENTS)" poll 200 stored
holds "the scrape shows every line of the file read ($LINES)" poll 100 all_read

# ------------------------------------------------------------- the numbers

set -- $(scrape /metrics)
same "GET /metrics is 200 in the Prometheus text format" "$*" \
    "200 text/plain; version=0.0.4; charset=utf-8"
cp "$T/body" "$T/metrics"
same "events_total summed by event equals the stored events by event" \
    "$(metric mxledger_events_total event)" \
    "$(sql 'SELECT event, count(*) FROM events GROUP BY event ORDER BY event')"
same "events_total summed by listener equals the stored events by listener" \
    "$(metric mxledger_events_total listener)" \
    "$(sql "SELECT coalesce(listener, ''), count(*) FROM events GROUP BY 1 ORDER BY 1")"
same "SMTP auth failures: one per smtpd auth_failure event" \
    "$(metric mxledger_auth_failures_total protocol | grep '^smtp|')" \
    "smtp|$(sql "SELECT count(*) FROM events WHERE daemon = 'smtpd' AND event = 'auth_failure'")"
same "IMAP auth failures: the attempts Dovecot states" \
    "$(metric mxledger_auth_failures_total protocol | grep '^imap|')" \
    "imap|$(sql "SELECT sum(max(coalesce(attempts, 0), 1)) FROM events
        WHERE daemon = 'dovecot' AND listener = 'imap-login' AND event = 'auth_failure'")"
same "fatals on the submission PROXY listener" \
    "$(metric mxledger_fatals_total listener | grep '^postfix/smtpd-proxy587|')" \
    "postfix/smtpd-proxy587|$(sql "SELECT count(*) FROM events
        WHERE event = 'fatal' AND listener = 'postfix/smtpd-proxy587'")"
same "PROXY errors by listener" "$(metric mxledger_proxy_errors_total listener)" \
    "$(sql "SELECT listener, count(*) FROM events WHERE event = 'proxy_error'
        GROUP BY listener ORDER BY listener")"
same "connections by listener: connects, and the line ending a Dovecot login" \
    "$(metric mxledger_connections_total listener)" \
    "$(sql "SELECT listener, count(*) FROM events WHERE event = 'connect' OR
        (daemon = 'dovecot' AND listener LIKE '%-login' AND
        event IN ('auth_success', 'auth_failure', 'disconnect'))
        GROUP BY listener ORDER BY listener")"
same "real IP lost: proxied connects from loopback or a configured proxy network" \
    "$(metric mxledger_real_ip_lost_total listener)" \
    "$(sql "SELECT listener, count(*) FROM events WHERE proxied = 1 AND event = 'connect' AND
        (client_ip LIKE '127.%' OR client_ip = '::1' OR client_ip LIKE '10.%' OR
        client_ip = '198.51.100.240' OR client_ip LIKE '2001:db8:bb49:%')
        GROUP BY listener ORDER BY listener")"
same "unrecognised lines as mxledger parse --stats counts them" \
    "$(metric mxledger_lines_unrecognised_total)" "input=\"$T/mail.log\"=$UNREC"
holds "the ingest lag of the input is there" \
    grep -q "^mxledger_ingest_lag_seconds{input=\"$T/mail.log\"} [0-9]" "$T/metrics"
same "no database error" "$(metric mxledger_db_errors_total)" "0"
holds "commits are timed" [ "$(metric mxledger_db_batch_seconds_count)" -ge 1 ]
same "build_info carries the version" "$(metric mxledger_build_info)" \
    "version=\"$("$MXLEDGER" --version | cut -d' ' -f2)\"=1"
same "no counter evicted" "$(metric mxledger_counters_evicted_total)" "0"
same "/healthz is 200 ok" "$(scrape /healthz | cut -d' ' -f1) $(cat "$T/body")" "200 ok"
same "another path is 404" "$(scrape /nothing | cut -d' ' -f1)" "404"

# ------------------------------------------------------------------ policy

holds "the policy listener rejects the documentation network" \
    [ "$(ask 203.0.113.9)" = "action=REJECT documentation network" ]
holds "... and has no opinion about another client" \
    [ "$(ask 198.51.100.9)" = "action=DUNNO" ]
scrape /metrics > /dev/null
cp "$T/body" "$T/metrics"
same "policy requests are counted by action and rule" \
    "$(metric mxledger_policy_requests_total)" 'action="DUNNO",rule=""=1 action="REJECT",rule="doc-net"=1'
same "... and timed" "$(metric mxledger_policy_latency_seconds_count)" "2"

# ------------------------------------------------------------------ reload

grep -v '^mxledger_policy_latency_seconds\|^mxledger_db_batch_seconds\|^mxledger_ingest_lag' \
    "$T/metrics" > "$T/before"
kill -HUP "$PID"
reloaded() { grep -q 'config: reloaded' "$T/run.log"; }
holds "SIGHUP reloads" poll 100 reloaded
scrape /metrics > /dev/null
grep -v '^mxledger_policy_latency_seconds\|^mxledger_db_batch_seconds\|^mxledger_ingest_lag' \
    "$T/body" > "$T/after"
holds "after SIGHUP the same endpoint serves the same counts" \
    eval '[ "$(grep -c ^mxledger_ "$T/before")" -gt 20 ] && cmp -s "$T/before" "$T/after"'

# ------------------------------------------------- a second daemon, same port

sed -e "s|^database .*|database \"$T/other.db\"|" -e "s|127.0.0.1:0|127.0.0.1:$MPORT|" \
    -e "s|127.0.0.1:$PPORT|127.0.0.1:1|" -e '/^policy {/,/^}/d' "$T/run.conf" > "$T/other.conf"
"$MXLEDGER" run --config "$T/other.conf" > "$T/other.log" 2>&1 &
PID2=$!
i=0
while kill -0 "$PID2" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$PID2"
rc=$?
PID2=
same "a metrics address in use is a start-up error: exit 71" "$rc" "71"
holds "... saying which address" grep -q "metrics: cannot listen on 127.0.0.1:$MPORT: " \
    "$T/other.log"

# ------------------------------------------------------ a failing database

# Another writer holds the lock for 7 s: the commit of new lines waits out
# the store's 5 s busy timeout and fails, the daemon retries after 1 s, ...
"$PY" -c 'import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE"); time.sleep(7); db.execute("ROLLBACK")' "$T/mx.db" &
LOCKER=$!
sleep 0.5
head -10 "$SAMPLE" >> "$T/mail.log"
status() { [ "$(scrape /healthz | cut -d' ' -f1)" = "$1" ]; }
holds "while commits fail /healthz is 503" poll 100 status 503
same "... saying why" "$(cat "$T/body")" \
    "unhealthy: database commits failing: the database is locked by another writer"
wait "$LOCKER"
LOCKER=
holds "once commits work again /healthz is 200 again" poll 150 status 200
EVENTS=$((EVENTS + $(head -10 "$SAMPLE" | "$MXLEDGER" parse | wc -l)))
holds "... and the new lines' events are stored" poll 50 stored
# lines (and their events) read again after the failed commit count again
read_again() {
	scrape /metrics > /dev/null && cp "$T/body" "$T/metrics" &&
	    [ "$(metric mxledger_lines_read_total input | cut -d"|" -f2)" -ge $((LINES + 10)) ]
}
holds "... and read" poll 50 read_again
holds "the failed commit is counted" [ "$(metric mxledger_db_errors_total)" -ge 1 ]
LINES=$(metric mxledger_lines_read_total)

# ------------------------------------------------------------------ alerts

# evaluated every 15 s from the start: the second evaluation sees the fatals
fired() { grep -q '"alertname":"MxledgerFatalsRepeated".*"listener":"postfix/smtpd-proxy587"' \
    "$T/am.log"; }
if grep -q 'metrics: alertmanager-url .* ignored: built without libcurl' "$T/run.log"; then
	fired() { grep -q 'alert MxledgerFatalsRepeated firing' "$T/run.log"; }
	holds "the fatals fire MxledgerFatalsRepeated (no libcurl: no Alertmanager)" poll 250 fired
else
	holds "the fatals fire MxledgerFatalsRepeated at the Alertmanager" poll 250 fired
	holds "... POSTed to its v2 API" grep -q '^/api/v2/alerts \[{' "$T/am.log"
fi
holds "... and logged" grep -q \
    'alert MxledgerFatalsRepeated firing: .*(listener "postfix/smtpd-proxy587"): 4 in 15m, more than 2' \
    "$T/run.log"

# -------------------------------------------------------------------- stop

kill -TERM "$PID"
i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$PID"
rc=$?
PID=
same "SIGTERM exits 0" "$rc" "0"
cp "$T/mxledger.prom" "$T/metrics" 2>/dev/null
same "the textfile written at exit has the final counts" \
    "$(metric mxledger_lines_read_total) $(metric mxledger_policy_requests_total action)" \
    "$LINES DUNNO|1
REJECT|1"

if [ "$fails" != 0 ]; then
	echo "# run.log:"
	sed 's/^/# /' "$T/run.log" | tail -30
fi
tap_end metrics_scrape
