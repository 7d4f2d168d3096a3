#!/bin/sh
# NAME
#	report.sh - `mxledger report` against the real-log corpus: exact numbers
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. sh tests/report.sh
# DESCRIPTION
#	Runs tests/report.py (python3, standard library only): ingests
#	tests/data/real-sample-mail.log into a fresh database and checks every
#	report against numbers computed from real-sample-expected.json and
#	real-sample-truth.jsonl, CSV and JSON parsed back against each other
#	and against the table, sqlite3 running sql/reports/*.sql by hand
#	against the command, the 80-column tables, and the exit codes. See
#	report.py for the list.
# ENVIRONMENT
#	MXLEDGER (the binary), top_srcdir, top_builddir, PYTHON3 (default
#	python3); TZ is forced to UTC.
# RETURNS
#	0 pass, 1 fail, 77 skip (no python3, no sqlite3 or no binary).

top_srcdir=${top_srcdir:-$(dirname "$0")/..}
top_builddir=${top_builddir:-.}
MXLEDGER=${MXLEDGER:-$top_builddir/mxledger}
PYTHON3=${PYTHON3:-python3}
TZ=UTC
export TZ

for p in "$PYTHON3" sqlite3; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "SKIP: $p not found"
		exit 77
	fi
done
if [ ! -x "$MXLEDGER" ]; then
	echo "SKIP: $MXLEDGER not built"
	exit 77
fi
T=$(mktemp -d "$top_builddir/tests/report.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
# The script bounds each command itself; this bounds python3 as a whole.
timeout 300 "$PYTHON3" "$top_srcdir/tests/report.py" "$MXLEDGER" "$top_srcdir" "$T"
