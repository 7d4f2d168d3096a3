#!/bin/sh
# NAME
#	promtool.sh - check and unit-test the Prometheus alerting rules
# SYNOPSIS
#	top_srcdir=. sh tests/promtool.sh
#	PROMTOOL=/path/to/promtool top_srcdir=. sh tests/promtool.sh
# DESCRIPTION
#	Runs `promtool check rules` on contrib/prometheus/mxledger.rules.yml
#	(syntax, PromQL, templates) and `promtool test rules` on
#	contrib/prometheus/mxledger.rules.test.yml (every alert fed series on
#	both sides of its thresholds, annotations compared exactly). promtool
#	comes with Debian's prometheus package; PROMTOOL names another one.
#	Each run is cut off after 120 seconds.
# ENVIRONMENT
#	top_srcdir (default .), PROMTOOL (default: promtool from PATH).
# RETURNS
#	0 pass, 1 fail, 77 skip (no promtool).

top_srcdir=${top_srcdir:-.}
PROMTOOL=${PROMTOOL:-promtool}
LC_ALL=C
export LC_ALL

if ! command -v "$PROMTOOL" >/dev/null 2>&1; then
	echo "SKIP: $PROMTOOL not found; install Debian's prometheus package" \
	    "(apt-get install prometheus) or set PROMTOOL"
	exit 77
fi
dir=$top_srcdir/contrib/prometheus
for f in mxledger.rules.yml mxledger.rules.test.yml; do
	if [ ! -r "$dir/$f" ]; then
		echo "FAIL: $dir/$f is missing"
		exit 1
	fi
done

# bounded - run "$@" for at most 120 seconds where timeout(1) exists
bounded() {
	if command -v timeout >/dev/null 2>&1; then
		timeout 120 "$@"
	else
		"$@"
	fi
}

"$PROMTOOL" --version 2>&1 | head -n 1
fail=0
echo "== promtool check rules"
bounded "$PROMTOOL" check rules "$dir/mxledger.rules.yml" || fail=1
echo "== promtool test rules"
bounded "$PROMTOOL" test rules "$dir/mxledger.rules.test.yml" || fail=1
exit $fail
