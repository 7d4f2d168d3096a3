#!/bin/sh
# summary.sh - one closing line for the whole suite from automake's .trs files:
# "tests: N passed, N failed, N skipped"
dir=${2:-.}
pass=0; fail=0; skip=0
for t in $(find "$dir/tests" -name '*.trs' 2>/dev/null); do
	r=$(sed -n 's/^:test-result: //p' "$t" | head -1)
	case "$r" in
	PASS|XFAIL) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)); echo "skipped: $(basename "$t" .trs)" ;;
	*) fail=$((fail + 1)); echo "failed: $(basename "$t" .trs)" ;;
	esac
done
echo "tests: $pass passed, $fail failed, $skip skipped"
