#!/bin/sh
# NAME
#	corpus_peers.sh - acceptance test: mxledger parse on the peers' annotated lines
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. sh tests/corpus_peers.sh
# DESCRIPTION
#	Runs tests/corpus_peers.py (python3, standard library only) over the
#	peer corpus (fail2ban, CrowdSec, grok, sshguard, postfix_exporter,
#	Postfix references). The corpus has other licences and is not part of
#	the repository: it is read at test time from $MXLEDGER_CORPUS, or
#	$top_srcdir/../shared/corpus; the test is skipped (77) when absent.
# ENVIRONMENT
#	MXLEDGER, top_srcdir, MXLEDGER_CORPUS, PYTHON3; TZ is forced to UTC.
# RETURNS
#	0 pass, 1 fail, 77 skip.

top_srcdir=${top_srcdir:-$(dirname "$0")/..}
MXLEDGER=${MXLEDGER:-${top_builddir:-.}/mxledger}
PYTHON3=${PYTHON3:-python3}
TZ=UTC
export TZ

corpus=${MXLEDGER_CORPUS:-$top_srcdir/../shared/corpus}
if [ ! -d "$corpus/peers" ]; then
	echo "SKIP: peer corpus not found ($corpus/peers); set MXLEDGER_CORPUS to the corpus directory"
	exit 77
fi
if ! command -v "$PYTHON3" >/dev/null 2>&1; then
	echo "SKIP: $PYTHON3 not found"
	exit 77
fi
if [ ! -x "$MXLEDGER" ]; then
	echo "SKIP: $MXLEDGER not built"
	exit 77
fi
# Each mxledger run is bounded by the script; this bounds python3 as a whole.
exec timeout 300 "$PYTHON3" "$top_srcdir/tests/corpus_peers.py" "$MXLEDGER" "$corpus"
