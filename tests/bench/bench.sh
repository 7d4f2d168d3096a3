#!/bin/sh
# NAME
#	bench.sh - throughput and memory of mxledger parse and ingest
# SYNOPSIS
#	sh tests/bench/bench.sh [MXLEDGER]        (or: make bench)
# DESCRIPTION
#	Generates two realistic mail logs with tests/bench/genlog.py (default
#	500 000 and 3 000 000 lines; BENCH_SMALL / BENCH_LINES override), then
#	measures in the same run, on the same files, after warming the page
#	cache:
#	  - the baseline: tests/bench/linesplit.c (read(2) + memchr(3) line
#	    splitting), compiled here with cc -O2; best of 3;
#	  - `mxledger parse --year 2026 FILE > /dev/null`; best of 2;
#	  - the same with --format none (recognising without rendering JSON),
#	    to show what the parsing costs apart from the output; best of 2;
#	  - `mxledger ingest` of FILE into a fresh database; once per size;
#	and prints lines/s, the ratio to the baseline and the peak RSS
#	(/usr/bin/time -v) at both sizes, to show that memory stays flat.
#	Targets: parse >= 25 % of the baseline, ingest >= 5 %, peak RSS < 32 MiB.
#	Use a build without --enable-sanitizers: ASan multiplies both time and
#	memory (the script says so when it sees libasan).
#	Not part of `make check`.
# ENVIRONMENT
#	BENCH_SMALL, BENCH_LINES (line counts), BENCH_KEEP=1 keeps the
#	temporary directory, CC (default cc), PYTHON3 (default python3).
# RETURNS
#	0 when every target is met, 1 when one is missed, 2 on a setup error.

here=$(cd "$(dirname "$0")" && pwd)
MXLEDGER=${1:-${MXLEDGER:-./mxledger}}
CC=${CC:-cc}
PYTHON3=${PYTHON3:-python3}
SMALL=${BENCH_SMALL:-500000}
LARGE=${BENCH_LINES:-3000000}
TZ=UTC
export TZ

die() {
	echo "bench: $*" >&2
	exit 2
}

[ -x "$MXLEDGER" ] || die "$MXLEDGER is not an executable"
[ -x /usr/bin/time ] || die "/usr/bin/time not found: install the package 'time' (apt-get install time)"
command -v "$PYTHON3" >/dev/null 2>&1 || die "$PYTHON3 not found"
command -v "$CC" >/dev/null 2>&1 || die "$CC not found"
if ldd "$MXLEDGER" 2>/dev/null | grep -q -E 'lib(a|ub|t)san'; then
	echo "bench: WARNING: $MXLEDGER is a sanitizer build; its numbers are not meaningful"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxledger-bench.XXXXXX") || die "mktemp failed"
if [ "${BENCH_KEEP:-0}" = 1 ]; then
	echo "bench: keeping $tmp"
else
	trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 2' HUP INT TERM

"$CC" -O2 -o "$tmp/linesplit" "$here/linesplit.c" || die "cannot compile linesplit.c"

ingest_args=
if "$MXLEDGER" ingest --help 2>&1 | grep -q -- '--year'; then
	ingest_args="--year 2026"
fi

now_ns() {
	date +%s%N
}

# run_timed OUT CMD... - run CMD (stdout to /dev/null), leave "MICROSECONDS RSS_KIB STATUS" in OUT
# (sh has no local variables: every helper uses its own prefix)
run_timed() {
	rt_out=$1
	shift
	t0=$(now_ns)
	timeout 1800 /usr/bin/time -v -o "$tmp/time.txt" "$@" >/dev/null 2>"$tmp/stderr.txt"
	st=$?
	t1=$(now_ns)
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
	echo "$(( (t1 - t0) / 1000 )) ${rss:-0} $st" >"$rt_out"
}

# best_of N OUT CMD... - the fastest of N runs (its RSS, the worst status)
best_of() {
	bo_n=$1
	bo_out=$2
	shift 2
	bo_best=
	bo_worst=0
	bo_i=0
	while [ $bo_i -lt "$bo_n" ]; do
		run_timed "$tmp/run.txt" "$@"
		read -r bo_us bo_rss bo_st <"$tmp/run.txt"
		[ "$bo_st" -gt "$bo_worst" ] && bo_worst=$bo_st
		if [ -z "$bo_best" ] || [ "$bo_us" -lt "$bo_best" ]; then
			bo_best=$bo_us
			bo_bestrss=$bo_rss
		fi
		bo_i=$((bo_i + 1))
	done
	echo "$bo_best $bo_bestrss $bo_worst" >"$bo_out"
}

rows=$tmp/rows.txt
: >"$rows"
# row NAME LINES RESULTFILE - append "NAME LINES US RSS STATUS"
row() {
	read -r r_us r_rss r_st <"$3"
	echo "$1 $2 $r_us $r_rss $r_st" >>"$rows"
	if [ "$r_st" -ne 0 ]; then
		echo "bench: $1 exited with status $r_st:" >&2
		tail -5 "$tmp/stderr.txt" >&2
	fi
}

for size in small large; do
	if [ $size = small ]; then n=$SMALL; else n=$LARGE; fi
	log=$tmp/mail-$size.log
	echo "bench: generating $n lines ($size)"
	"$PYTHON3" "$here/genlog.py" "$n" 42 >"$log" || die "genlog.py failed"
	lines=$(wc -l <"$log" | tr -d ' ')
	echo "bench: $log: $lines lines, $(($(wc -c <"$log") / 1048576)) MiB"
	cat "$log" >/dev/null

	best_of 3 "$tmp/r.txt" "$tmp/linesplit" "$log"
	row "baseline-$size" "$lines" "$tmp/r.txt"

	best_of 2 "$tmp/r.txt" "$MXLEDGER" parse --year 2026 "$log"
	row "parse-$size" "$lines" "$tmp/r.txt"
	best_of 2 "$tmp/r.txt" "$MXLEDGER" parse --format none --year 2026 "$log"
	row "parsenone-$size" "$lines" "$tmp/r.txt"
	"$MXLEDGER" parse --year 2026 --stats "$log" 2>"$tmp/stats.txt" >/dev/null
	echo "bench: parse --stats: $(grep '^lines ' "$tmp/stats.txt" | tail -1)"

	rm -rf "$tmp/db"
	mkdir "$tmp/db"
	# shellcheck disable=SC2086
	run_timed "$tmp/r.txt" "$MXLEDGER" ingest --db "$tmp/db/bench.db" $ingest_args "$log"
	row "ingest-$size" "$lines" "$tmp/r.txt"
	if [ -f "$tmp/db/bench.db" ]; then
		echo "bench: database $(du -sk "$tmp/db" | cut -f1) KiB;" \
		    "$(tail -1 "$tmp/stderr.txt" | cut -c1-200)"
	fi
	rm -f "$log"
done

echo
awk -v small="$SMALL" '
function rate(lines, us) { return us > 0 ? lines / (us / 1e6) : 0 }
{
	name[NR] = $1; lines[NR] = $2; us[NR] = $3; rss[NR] = $4; st[NR] = $5
	split($1, p, "-"); if (p[1] == "baseline") base[p[2]] = rate($2, $3)
}
END {
	printf "%-16s %10s %9s %12s %8s %10s %s\n", "run", "lines", "seconds", "lines/s",
	    "ratio", "peak RSS", "status"
	fail = 0
	for (i = 1; i <= NR; i++) {
		split(name[i], p, "-")
		r = rate(lines[i], us[i])
		ratio = base[p[2]] > 0 ? r / base[p[2]] : 0
		mib = rss[i] / 1024
		verdict = ""
		if (p[1] == "parse" && ratio < 0.25) verdict = verdict " ratio<25%"
		if (p[1] == "ingest" && ratio < 0.05) verdict = verdict " ratio<5%"
		if (p[1] != "baseline" && mib >= 32) verdict = verdict " RSS>=32MiB"
		if (st[i] != 0) verdict = verdict " exit=" st[i]
		if (verdict != "") fail = 1
		printf "%-16s %10d %9.3f %12.0f %7.1f%% %7.1f MiB %s\n", name[i], lines[i],
		    us[i] / 1e6, r, 100 * ratio, mib, verdict == "" ? "ok" : "MISS" verdict
	}
	print ""
	print "targets: parse >= 25% of baseline, ingest >= 5%, peak RSS < 32 MiB at both sizes"
	print (fail ? "bench: MISS" : "bench: all targets met")
	exit fail
}' "$rows"
