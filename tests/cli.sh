#!/bin/sh
# cli.sh - the command line contract: help, version, exit codes (sysexits).
set -u
M=${MXLEDGER:?}
T=$(mktemp -d "${top_builddir:-.}/tests/cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0; n=0
expect() {	# expect CODE DESCRIPTION -- command...
	want=$1; what=$2; shift 3
	n=$((n + 1))
	"$@" >"$T/out" 2>"$T/err"; got=$?
	if [ "$got" = "$want" ]; then echo "ok $n - $what"
	else echo "not ok $n - $what: exit $got, want $want"; sed 's/^/# /' "$T/err" | head -5
		fails=$((fails + 1)); fi
}
expect 64 "no command is a usage error" -- "$M"
expect 64 "an unknown command is a usage error" -- "$M" frobnicate
expect 0 "--version succeeds" -- "$M" --version
grep -q '^mxledger [0-9]' "$T/out" || { echo "not ok - --version prints 'mxledger X.Y.Z'"; fails=$((fails + 1)); }
expect 0 "--help succeeds" -- "$M" --help
for c in run parse ingest check-config; do
	expect 0 "$c --help succeeds" -- "$M" $c --help
	grep -q "usage: mxledger $c" "$T/out" || {
		echo "not ok - $c --help prints its usage"; fails=$((fails + 1)); }
	expect 64 "$c with an unknown option is a usage error" -- "$M" $c --no-such-option
done
expect 66 "parse of a missing file is EX_NOINPUT" -- "$M" parse "$T/missing.log"
printf 'database "%s/db"\nno-such-keyword 1\nretention forever\n' "$T" > "$T/bad.conf"
expect 78 "check-config with errors exits EX_CONFIG" -- "$M" check-config --config "$T/bad.conf"
grep -q "bad.conf:2: " "$T/err" || { echo "not ok - error names file:line 2"; cat "$T/err"; fails=$((fails + 1)); }
grep -q "bad.conf:3: " "$T/err" || { echo "not ok - every error is reported (line 3 too)"; fails=$((fails + 1)); }
expect 78 "parse with a bad config exits EX_CONFIG" -- "$M" parse --config "$T/bad.conf" /dev/null
expect 78 "ingest with a bad config exits EX_CONFIG" -- "$M" ingest --config "$T/bad.conf" /dev/null
expect 78 "run with a bad config exits EX_CONFIG" -- "$M" run --config "$T/bad.conf"
printf 'database "%s/db"\ninput file "%s/mail.log"\n' "$T" "$T" > "$T/good.conf"
expect 0 "check-config accepts a good config" -- "$M" check-config --config "$T/good.conf"
grep -q 'input file' "$T/out" || { echo "not ok - check-config prints the normalised config"; fails=$((fails + 1)); }
printf 'Nov 22 01:02:03 mail postfix/smtpd[1]: connect from unknown[192.0.2.1]\n' > "$T/one.log"
expect 0 "parse of a readable file succeeds" -- "$M" parse --year 2026 "$T/one.log"
grep -q '"event":"connect"' "$T/out" || { echo "not ok - parse prints the event"; fails=$((fails + 1)); }
expect 64 "parse rejects an unknown format" -- "$M" parse --format xml "$T/one.log"
echo "cli: $((n - fails)) passed, $fails failed"
[ "$fails" = 0 ]
