#!/bin/sh
# NAME
#	ingest_idempotent.sh - `mxledger ingest` stores each line once, however often it runs
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. sh tests/ingest_idempotent.sh
# DESCRIPTION
#	With tests/data/real-sample-mail.log: the rows ingest stores are the
#	events `mxledger parse` prints; a second ingest, a gzip'ed copy, the
#	same bytes on standard input add nothing; a file ingested (while its
#	last line was still incomplete), grown, and ingested again ends up
#	exactly like the whole file ingested once; a
#	truncated gzip keeps what it could read (exit 66) and the full file
#	later completes it; exit statuses 66 (unreadable file, the others are
#	still ingested) and 73 (database cannot be created).
# ENVIRONMENT
#	MXLEDGER (the binary), top_srcdir, top_builddir; TZ forced to UTC.
# RETURNS
#	0 pass, 1 fail, 77 skip (no sqlite3 or gzip, or no binary).
set -u
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
M=${MXLEDGER:-${top_builddir:-.}/mxledger}
SQLITE3=${SQLITE3:-sqlite3}
TZ=UTC
export TZ
LOG=$top_srcdir/tests/data/real-sample-mail.log

for tool in "$SQLITE3" gzip timeout; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 77; }
done
[ -x "$M" ] || { echo "SKIP: $M not built"; exit 77; }
[ -r "$LOG" ] || { echo "SKIP: $LOG missing"; exit 77; }

T=$(mktemp -d "${top_builddir:-.}/tests/ingest.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
. "${top_srcdir:-.}/tests/tap.sh"

ingest() {	# ingest DB FILE... -> exit status in $rc, stderr in $T/err
	timeout 120 "$M" ingest --year 2026 --db "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
rows() {	# rows DB -> number of events
	"$SQLITE3" "$1" 'SELECT count(*) FROM events'
}
content() {	# content DB -> every stored event, one line each, in log order
	"$SQLITE3" "$1" "SELECT printf('%.6f', ts), event, client_ip, user, reason, stats
	    FROM events ORDER BY ts, id"
}

# The reference: what parse prints for the whole file and for its first 300 lines.
want=$(timeout 120 "$M" parse --year 2026 "$LOG" | wc -l)
head -n 300 "$LOG" > "$T/part.log"
want_part=$(timeout 120 "$M" parse --year 2026 "$T/part.log" | wc -l)
[ "$want" -gt 0 ] && [ "$want_part" -gt 0 ] && [ "$want_part" -lt "$want" ] ||
	{ echo "not ok - parse gives no usable reference ($want, $want_part events)"; exit 1; }
echo "# parse: $want events in the whole file, $want_part in its first 300 lines"

ingest "$T/a.db" "$LOG"
same "ingest exits 0" "$rc" 0
same "ingest stores as many events as parse prints" "$(rows "$T/a.db")" "$want"
grep -q "$want stored" "$T/err"; ok "the summary reports $want stored" $? "$(cat "$T/err")"
"$SQLITE3" "$T/a.db" \
    'SELECT count(*) FROM events WHERE stats IS NOT NULL AND NOT json_valid(stats)' > "$T/bad"
same "every stored stats value is valid JSON" "$(cat "$T/bad")" 0
content "$T/a.db" > "$T/a.content"

ingest "$T/a.db" "$LOG"
same "a second ingest of the same file adds nothing" "$(rows "$T/a.db")" "$want"
grep -q " 0 stored, 540 duplicates skipped" "$T/err"
status_ok "the second summary reports every line as a duplicate" $? "$(cat "$T/err")"

gzip -c "$LOG" > "$T/mail.log.1.gz"
ingest "$T/a.db" "$T/mail.log.1.gz"
same "its gzip'ed copy adds nothing" "$(rows "$T/a.db")" "$want"
ingest "$T/a.db" - < "$LOG"
same "the same bytes on standard input add nothing" "$(rows "$T/a.db")" "$want"
same "one position for all three (same first line)" \
    "$("$SQLITE3" "$T/a.db" 'SELECT count(*) FROM positions')" 1

# Grown file: ingest 300 lines and the start of line 301 (no newline yet),
# append the rest, ingest again.
cp "$T/part.log" "$T/grow.log"
tail -n +301 "$LOG" > "$T/rest.log"
head -c 40 "$T/rest.log" >> "$T/grow.log"
ingest "$T/b.db" "$T/grow.log"
same "the first 300 lines give the events parse prints for them" "$(rows "$T/b.db")" \
    "$want_part"
grep -q "held back" "$T/err"
status_ok "a last line without newline is held back, not stored half" $? "$(cat "$T/err")"
tail -c +41 "$T/rest.log" >> "$T/grow.log"
cmp -s "$T/grow.log" "$LOG"; ok "the grown file is the whole log" $? "test set-up"
ingest "$T/b.db" "$T/grow.log"
same "after growing, only the new lines are added" "$(rows "$T/b.db")" "$want"
grep -q "$((want - want_part)) stored, 300 duplicates skipped" "$T/err"
status_ok "the summary reports 300 duplicates and only the new events" $? "$(cat "$T/err")"
content "$T/b.db" > "$T/b.content"
cmp -s "$T/a.content" "$T/b.content"
status_ok "grown-then-ingested equals ingested-whole, row for row" $? \
    "$(diff "$T/a.content" "$T/b.content" | head -5)"

# A truncated gzip: what was read is kept (exit 66), the full copy completes it.
size=$(wc -c < "$T/mail.log.1.gz")
head -c $((size / 2)) "$T/mail.log.1.gz" > "$T/cut.gz"
ingest "$T/c.db" "$T/cut.gz"
same "a truncated gzip exits 66" "$rc" 66
got=$(rows "$T/c.db")
[ "$got" -gt 0 ] && [ "$got" -lt "$want" ]
status_ok "a truncated gzip keeps the events before the cut" $? "$got of $want"
ingest "$T/c.db" "$T/mail.log.1.gz"
same "the whole gzip then completes it" "$(rows "$T/c.db")" "$want"
content "$T/c.db" > "$T/c.content"
cmp -s "$T/a.content" "$T/c.content"
status_ok "resumed-after-truncation equals ingested-whole, row for row" $? \
    "$(diff "$T/a.content" "$T/c.content" | head -5)"

# Exit statuses.
ingest "$T/d.db" "$T/missing.log" "$T/part.log"
same "an unreadable file exits 66" "$rc" 66
same "... and the readable one is still ingested" "$(rows "$T/d.db")" "$want_part"
: > "$T/plainfile"
ingest "$T/plainfile/sub/x.db" "$T/part.log"
same "a database that cannot be created exits 73" "$rc" 73
timeout 60 "$M" ingest --db "$T/e.db" >/dev/null 2>&1
same "ingest without FILE is a usage error" "$?" 64

tap_end ingest_idempotent
