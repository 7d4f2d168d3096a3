#!/bin/sh
# NAME
#	policy_replay.sh - `mxledger policy-replay` over the real-sample history
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. sh tests/policy_replay.sh
# DESCRIPTION
#	Ingests tests/data/real-sample-mail.log into a temporary database and
#	replays candidate rule sets over it. The expected clients come from
#	real-sample-truth.jsonl (what the traffic generator did), not from
#	mxledger's own output:
#
#	  failed logins per address (SMTP AUTH 535/454 + IMAP NO): 203.0.113.193
#	  6 (one SMTP session), 203.0.113.243 4 (IMAP, two sessions), then
#	  192.0.2.135/136/137 and 203.0.113.155 with 3, everybody else fewer.
#	  A rule "AUTH with >= 3 failures in 1h" therefore refuses the 4th and
#	  later attempts: 203.0.113.193 three times, 203.0.113.243 once, and
#	  nobody else -- if every attempt is counted exactly once (Postfix and
#	  Dovecot log each SMTP attempt twice) and placed at its own time.
#
#	  smtpd connections within one minute: 198.51.100.240 11 and
#	  203.0.113.172 10 (rate_limit_conn); a dry-run "> 8 per 1m" rule hits
#	  their 9th and later connections: 3 and 2 dry-run hits.
#
#	Then: an allowlist rule placed first removes 203.0.113.243 (first
#	match wins); --since after 203.0.113.193's attempts keeps
#	203.0.113.243's refusal because the failures before --since are
#	counted first (warm-up); JSON output; exit statuses 64, 66, 78.
# ENVIRONMENT
#	MXLEDGER, top_srcdir, top_builddir, PYTHON3; TZ forced to UTC.
# RETURNS
#	0 pass, 1 fail, 77 skip (binary or python3 missing).
set -u
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
M=${MXLEDGER:-${top_builddir:-.}/mxledger}
PY=${PYTHON3:-python3}
TZ=UTC
export TZ
# The corpus was written on 2026-11-22; "now" is pinned for --since 1d.
MXLEDGER_FAKE_NOW=2026-11-22T12:00:00Z
export MXLEDGER_FAKE_NOW
LOG=$top_srcdir/tests/data/real-sample-mail.log

[ -x "$M" ] || { echo "SKIP: $M not built"; exit 77; }
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
command -v timeout >/dev/null 2>&1 || { echo "SKIP: timeout not found"; exit 77; }

T=$(mktemp -d "${top_builddir:-.}/tests/replay.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
. "${top_srcdir:-.}/tests/tap.sh"

replay() {	# replay CONF ARGS... -> stdout in $T/out, status in $rc
	conf=$1
	shift
	timeout 120 "$M" policy-replay --config "$conf" --db "$T/mx.db" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
# decisions: "client rule decisions dry_run" lines of the JSON report, sorted
decisions() {
	"$PY" -c 'import json, sys
r = json.load(sys.stdin)
for c in sorted(r["clients"], key=lambda c: (c["rule"], c["client"])):
    print(c["client"], c["rule"], c["decisions"], c["dry_run"])' <"$T/out"
}

timeout 120 "$M" ingest --quiet --year 2026 --db "$T/mx.db" "$LOG" >"$T/ingest.out" 2>&1
same "the sample log is ingested" "$?" 0

cat >"$T/new.conf" <<'EOF'
rule auth-bruteforce {
	protocol_state AUTH
	history auth_failures by client_address >= 3 per 1h
	action REJECT "too many failed logins"
}
rule conn-burst {
	protocol_state CONNECT
	rate connections by client_address > 8 per 1m
	action 421 4.7.0 "too many connections"
	mode warn
}
EOF
# the same rules behind an allowlist of one address
{ printf 'rule office {\n\tclient_address 203.0.113.243\n\taction DUNNO\n}\n'
  cat "$T/new.conf"; } >"$T/allow.conf"

replay "$T/new.conf" --since 1d --format json --top 0
same "policy-replay over the whole sample exits 0" "$rc" 0
same "brute-forcers are refused from their 4th attempt on; connection bursts are dry-run hits" \
    "$(decisions)" "$(printf '%s\n' \
    '203.0.113.193 auth-bruteforce 3 0' '203.0.113.243 auth-bruteforce 1 0' \
    '198.51.100.240 conn-burst 0 3' '203.0.113.172 conn-burst 0 2')"
same "the totals count decisions and dry-run hits apart" \
    "$("$PY" -c 'import json, sys
r = json.load(sys.stdin)
print(r["decisions"], r["dry_run"], r["errors"],
      [(x["rule"], x["decisions"], x["dry_run"], x["clients"]) for x in r["rules"]])' <"$T/out")" \
    "4 5 0 [('conn-burst', 0, 5, 2), ('auth-bruteforce', 4, 0, 2)]"
same "one AUTH request per login attempt of the sample (29 failed, 9 successful)" \
    "$("$PY" -c 'import json, sys; print(json.load(sys.stdin)["requests"]["AUTH"])' <"$T/out")" \
    "$("$PY" - "$top_srcdir/tests/data/real-sample-truth.jsonl" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    for cmd, code, *_ in json.loads(line).get("replies", []):
        if cmd in ("LOGIN", "AUTHENTICATE") and code in ("NO", "OK"):
            n += 1
        elif cmd in ("AUTH", "AUTH_PASS") and code in (235, 535, 454):
            n += 1
print(n)
EOF
)"

replay "$T/allow.conf" --since 1d --format json
same "an allowlist placed first takes 203.0.113.243 out (first match wins)" \
    "$(decisions | grep auth-bruteforce)" '203.0.113.193 auth-bruteforce 3 0'

replay "$T/new.conf" --since 2026-11-22T02:24:00Z --format json
same "failures before --since still count (warm-up): only 203.0.113.243's refusal is inside" \
    "$(decisions | grep auth-bruteforce)" '203.0.113.243 auth-bruteforce 1 0'

replay "$T/new.conf" --since 1d
same "the table format exits 0" "$rc" 0
grep -q '^auth-bruteforce  *4  *0  *2  REJECT too many failed logins$' "$T/out"
status_ok "the table names the rule, its decisions, clients and action" "$?" "$(cat "$T/out")"
grep -q '^203\.0\.113\.193  *auth-bruteforce  *3  *0  *2026-11-22T02:23:11Z  *2026-11-22T02:23:22Z$' \
    "$T/out"
status_ok "the table shows each client's first and last refusal" "$?" "$(cat "$T/out")"

replay "$T/new.conf" --since yesterday
same "a bad --since is a usage error" "$rc" 64
printf 'rule x {\n\tprotocol_state NOPE\n\taction DUNNO\n}\n' >"$T/bad.conf"
replay "$T/bad.conf"
same "a bad rule is a configuration error" "$rc" 78
grep -q 'bad.conf:2: ' "$T/err"
status_ok "the configuration error names file and line" "$?" "$(cat "$T/err")"
timeout 60 "$M" policy-replay --config "$T/new.conf" --db "$T/missing.db" >/dev/null 2>&1
same "a missing database is EX_NOINPUT" "$?" 66

tap_end policy_replay
