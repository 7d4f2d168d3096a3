#!/bin/sh
# NAME
#	corpus_real.sh - acceptance test: mxledger parse on the real-log corpus
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. sh tests/corpus_real.sh
# DESCRIPTION
#	Runs tests/corpus_real.py (python3, standard library only) over
#	tests/data/real-sample-*: per-address counters of
#	real-sample-expected.json recomputed from the events of both envelope
#	styles, never-client addresses, identical events from both files,
#	listener/proxied of known lines. See corpus_real.py for the mapping.
# ENVIRONMENT
#	MXLEDGER (the binary), top_srcdir, PYTHON3 (default python3); TZ is
#	forced to UTC.
# RETURNS
#	0 pass, 1 fail, 77 skip (no python3 or no binary).

top_srcdir=${top_srcdir:-$(dirname "$0")/..}
MXLEDGER=${MXLEDGER:-${top_builddir:-.}/mxledger}
PYTHON3=${PYTHON3:-python3}
TZ=UTC
export TZ

if ! command -v "$PYTHON3" >/dev/null 2>&1; then
	echo "SKIP: $PYTHON3 not found"
	exit 77
fi
if [ ! -x "$MXLEDGER" ]; then
	echo "SKIP: $MXLEDGER not built"
	exit 77
fi
# The script bounds each mxledger run itself; this bounds python3 as a whole.
exec timeout 300 "$PYTHON3" "$top_srcdir/tests/corpus_real.py" "$MXLEDGER" \
    "$top_srcdir/tests/data"
