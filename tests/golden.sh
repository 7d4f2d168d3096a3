#!/bin/sh
# NAME
#	golden.sh - mxledger parse output for tests/data/golden-*.log, exactly
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. sh tests/golden.sh
# DESCRIPTION
#	Each tests/data/golden-NAME.log holds hand-written log lines (documentation
#	addresses only) in one envelope; golden-NAME.jsonl next to it is the exact
#	output `mxledger parse --year 2026` must print, written by hand from the
#	event contract (include/event.h), not captured. For every pair this
#	script checks, byte for byte (diff -u):
#	  1. automatic envelope detection, file argument;
#	  2. the envelope named explicitly (--envelope, from NAME);
#	  3. the same file on standard input ("-");
#	and, when python3 is available, that --format tsv prints the header and
#	the same events as the JSONL (column by column).
#	Together the files cover every event kind and every envelope: BSD syslog
#	(with <PRI>, zero-padded days, year rollover), RFC 3339, RFC 5424, Dovecot
#	log_path, CRI with P/F joining, Docker json-file (partial lines, \u003c
#	escapes) and journalctl -o json.
# ENVIRONMENT
#	MXLEDGER, top_srcdir, PYTHON3; TZ is forced to UTC. Output goes to a
#	temporary directory that is removed on exit.
# RETURNS
#	0 pass, 1 fail, 77 skip (binary not built).

top_srcdir=${top_srcdir:-$(dirname "$0")/..}
MXLEDGER=${MXLEDGER:-${top_builddir:-.}/mxledger}
PYTHON3=${PYTHON3:-python3}
TZ=UTC
export TZ
data=$top_srcdir/tests/data

if [ ! -x "$MXLEDGER" ]; then
	echo "SKIP: $MXLEDGER not built"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxledger-golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

pass=0
fail=0

# check NAME HOW - diff one run's output against the expected file
check() {
	if diff -u "$expected" "$tmp/out" >"$tmp/diff" 2>&1 && [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok   $1: $2 ($(wc -l <"$expected" | tr -d ' ') events)"
	else
		fail=$((fail + 1))
		echo "FAIL $1: $2 (exit status $rc)"
		sed 's/^/     /' "$tmp/diff"
		sed 's/^/     stderr: /' "$tmp/err"
	fi
}

# envelope_of NAME - the --envelope name for golden-NAME.log
envelope_of() {
	case $1 in
	syslog*) echo syslog ;;
	*) echo "$1" ;;
	esac
}

# tsv_check - the TSV rendering carries the same events as the JSONL
tsv_check() {
	"$PYTHON3" - "$expected" "$tmp/out" <<'PY'
import json, sys
cols = ("ts host program daemon listener pid event client_ip client_port client_name "
        "server_ip server_port proxied user method attempts queue_id sender recipient "
        "helo stage reply reason session stats").split()
want = []
for line in open(sys.argv[1], encoding="utf-8"):
    ev = json.loads(line)
    row = []
    for c in cols:
        v = ev.get(c)
        if v is None:
            v = "-"
        elif isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, dict):
            v = " ".join("%s=%s" % kv for kv in v.items())
        row.append(str(v).replace("\\", "\\\\").replace("\t", "\\t"))
    want.append("\t".join(row))
got = open(sys.argv[2], encoding="utf-8").read().splitlines()
ok = got[:1] == ["\t".join(cols)] and got[1:] == want
if not ok:
    print("header: %r" % (got[:1],))
    for w, g in zip(want, got[1:]):
        if w != g:
            print("want: %s\n got: %s" % (w, g))
    if len(want) != len(got) - 1:
        print("want %d rows, got %d" % (len(want), len(got) - 1))
sys.exit(0 if ok else 1)
PY
}

for log in "$data"/golden-*.log; do
	name=${log##*/golden-}
	name=${name%.log}
	expected=${log%.log}.jsonl
	if [ ! -f "$expected" ]; then
		fail=$((fail + 1))
		echo "FAIL $name: no $expected"
		continue
	fi
	env=$(envelope_of "$name")

	timeout 30 "$MXLEDGER" parse --year 2026 "$log" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "$name" "auto envelope"

	timeout 30 "$MXLEDGER" parse --year 2026 --envelope "$env" "$log" \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "$name" "--envelope $env"

	timeout 30 "$MXLEDGER" parse --year 2026 - <"$log" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "$name" "standard input"

	if command -v "$PYTHON3" >/dev/null 2>&1; then
		timeout 30 "$MXLEDGER" parse --year 2026 --format tsv "$log" \
		    >"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ "$rc" -eq 0 ] && tsv_check >"$tmp/diff" 2>&1; then
			pass=$((pass + 1))
			echo "ok   $name: --format tsv matches the JSONL"
		else
			fail=$((fail + 1))
			echo "FAIL $name: --format tsv (exit status $rc)"
			sed 's/^/     /' "$tmp/diff" "$tmp/err"
		fi
	fi
done

echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
