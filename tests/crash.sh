#!/bin/sh
# NAME
#	crash.sh - kill -9 the daemon while it stores, restart it, lose nothing
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. top_builddir=. sh tests/crash.sh
# DESCRIPTION
#	Builds a large log (tests/data/real-sample-mail.log repeated
#	CRASH_COPIES times, each copy 330 s later than the one before) and lets
#	`mxledger run` follow it from the beginning with small batches. The
#	daemon is killed with SIGKILL CRASH_KILLS times, each time once the
#	stored position has passed a random point of the file and after a
#	random few milliseconds more (so the kill falls before, inside or after
#	a commit), and restarted. The last run goes to the end of the file and
#	is stopped with SIGTERM.
#
#	The database must then hold exactly the events of a clean
#	`mxledger ingest` of the same file into a new database: the same
#	multiset of rows over every column (so no event lost, none doubled)
#	and the same position.
#
#	Then the same for a database another writer keeps locked for a few
#	seconds while lines arrive (transactions cannot begin), and for a full
#	disk (a tmpfs in a private mount namespace, filled and then freed;
#	commits fail, so what was read since the last one must be read again;
#	root only, skipped otherwise): the daemon rolls back, rewinds, pauses
#	and retries, logs the failure once and the recovery once, and in the
#	end holds exactly the events of a clean ingest.
# ENVIRONMENT
#	MXLEDGER, top_srcdir, top_builddir; CRASH_SEED (random seed, printed),
#	CRASH_COPIES (default 200), CRASH_KILLS (default 5); KEEP=1 keeps the
#	work directory.
# RETURNS
#	0 pass, 1 fail, 77 skip (no sqlite3, no sample log, no binary).

set -u
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
MXLEDGER=${MXLEDGER:-${top_builddir:-.}/mxledger}
TZ=UTC
export TZ
unset JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC
SAMPLE=$top_srcdir/tests/data/real-sample-mail.log
COPIES=${CRASH_COPIES:-200}
KILLS=${CRASH_KILLS:-5}
SEED=${CRASH_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}

if ! command -v sqlite3 >/dev/null 2>&1; then echo "SKIP: sqlite3 not found"; exit 77; fi
if [ ! -r "$SAMPLE" ]; then echo "SKIP: $SAMPLE missing"; exit 77; fi
if [ ! -x "$MXLEDGER" ]; then echo "SKIP: $MXLEDGER not built"; exit 77; fi

mkdir -p "${top_builddir:-.}/tests" || exit 1
T=$(mktemp -d "${top_builddir:-.}/tests/crash.XXXXXX") || exit 1
T=$(cd "$T" && pwd)
PID=
LOCKER=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$LOCKER" ] && kill "$LOCKER" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$top_srcdir/tests/tap.sh"
echo "# seed $SEED, $COPIES copies, $KILLS kills"

# The sample spans 02:22:16-02:27:36; copy k is shifted by k * 330 s (same day).
awk -v K="$COPIES" '
{ L[NR] = $0 }
END {
	for (k = 0; k < K; k++)
		for (i = 1; i <= NR; i++) {
			split(L[i], f, " ")
			split(f[3], t, ":")
			s = t[1] * 3600 + t[2] * 60 + t[3] + k * 330
			line = L[i]
			sub(/^[A-Z][a-z][a-z] +[0-9]+ [0-9:]+/, sprintf("%s %2d %02d:%02d:%02d",
			    f[1], f[2], int(s / 3600), int(s / 60) % 60, s % 60), line)
			print line
		}
}' "$SAMPLE" > "$T/mail.log"
SIZE=$(wc -c < "$T/mail.log" | tr -d ' ')
LINES=$(wc -l < "$T/mail.log" | tr -d ' ')
echo "# $LINES lines, $SIZE bytes"

cat > "$T/run.conf" <<EOF
database "$T/db"
batch-events 300
batch-interval 50ms
retention off
input file "$T/mail.log" {
	start-at beginning
}
EOF

# The year of the syslog timestamps: the corpus was written in November 2026.
MXLEDGER_FAKE_NOW=2026-11-22T23:59:00Z
export MXLEDGER_FAKE_NOW

stored_offset_of() {
	v=$(sqlite3 "$1" "SELECT coalesce(max(offset), 0) FROM positions" 2>/dev/null)
	echo "${v:-0}"
}
stored_offset() {
	stored_offset_of "$T/db"
}

# kill points: KILLS sorted random offsets in the file, and a few ms after each
awk -v seed="$SEED" -v k="$KILLS" -v size="$SIZE" 'BEGIN {
	srand(seed)
	for (i = 0; i < k; i++)
		printf "%d %d\n", int(size * (i + rand()) / (k + 1)), int(rand() * 60)
}' > "$T/points"

killed_mid=0
while read -r target ms; do
	"$MXLEDGER" run --config "$T/run.conf" >> "$T/run.log" 2>&1 &
	PID=$!
	i=0
	while [ $i -lt 600 ] && [ "$(stored_offset)" -lt "$target" ]; do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
	kill -9 "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
	at=$(stored_offset)
	echo "# killed past offset $target (+${ms} ms): stored position $at of $SIZE"
	[ "$at" -lt "$SIZE" ] && killed_mid=$((killed_mid + 1))
done < "$T/points"
if [ "$killed_mid" -gt 0 ]; then ok "$killed_mid of $KILLS kills fell before the end of the file"
else notok "no kill fell before the end of the file (the test proved nothing)"; fi

"$MXLEDGER" run --config "$T/run.conf" > "$T/final.run" 2>&1 &
PID=$!
i=0
while [ $i -lt 300 ] && ! grep -q 'run: started' "$T/final.run"; do	# SIGTERM handled
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
i=0
while [ $i -lt 1200 ] && [ "$(stored_offset)" -lt "$SIZE" ]; do
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$PID" 2>/dev/null
wait "$PID"
rc=$?
PID=
cat "$T/final.run" >> "$T/run.log"
if [ $rc -eq 0 ]; then ok "the last run reads to the end and exits 0 on SIGTERM"
else notok "the last run reads to the end and exits 0 on SIGTERM (exit $rc)"; fi

"$MXLEDGER" ingest --quiet --year 2026 --db "$T/clean.db" "$T/mail.log" > "$T/ingest.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then ok "a clean ingest of the same file succeeds"
else notok "a clean ingest of the same file succeeds (exit $rc)"; sed 's/^/# /' "$T/ingest.log"; fi

COLS="event, ts, host, program, daemon, listener, pid, client_ip, client_port, client_name,
    server_ip, server_port, proxied, user, method, attempts, queue_id, sender, recipient, helo,
    stage, reply, reason, session, stats"
dump() {
	sqlite3 "$1" "SELECT $COLS FROM events ORDER BY
	    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25"
}
dump "$T/db" > "$T/crashed.dump"
dump "$T/clean.db" > "$T/clean.dump"
got=$(wc -l < "$T/crashed.dump" | tr -d ' ')
want=$(wc -l < "$T/clean.dump" | tr -d ' ')
if [ "$want" -gt 0 ] && cmp -s "$T/crashed.dump" "$T/clean.dump"; then
	ok "after the kills the database holds exactly the events of a clean ingest ($got)"
else
	notok "after the kills the database holds exactly the events of a clean ingest" \
	    "($got rows, want $want)"
	diff "$T/clean.dump" "$T/crashed.dump" | head -20 | sed 's/^/# /'
fi
dups=$(sqlite3 "$T/db" "SELECT count(*) FROM (SELECT count(*) AS c FROM events
    GROUP BY $COLS HAVING c > 1)")
cdups=$(sqlite3 "$T/clean.db" "SELECT count(*) FROM (SELECT count(*) AS c FROM events
    GROUP BY $COLS HAVING c > 1)")
if [ "$dups" = "$cdups" ]; then ok "no event is stored twice (repeated rows: $dups, as in the log)"
else notok "no event is stored twice (repeated rows: $dups, clean ingest: $cdups)"; fi
pos=$(sqlite3 "$T/db" "SELECT key, offset, lines FROM positions")
cpos=$(sqlite3 "$T/clean.db" "SELECT key, offset, lines FROM positions")
if [ -n "$pos" ] && [ "$pos" = "$cpos" ]; then ok "the stored position is the clean one ($pos)"
else notok "the stored position is the clean one (got \"$pos\", want \"$cpos\")"; fi
if [ "$(sqlite3 "$T/db" 'PRAGMA integrity_check')" = ok ]; then ok "the database is intact"
else notok "the database is intact"; fi

# A writer holding the lock (BEGIN IMMEDIATE) for LOCK_SECS: commits fail
# with "locked", the daemon rewinds, pauses, retries, and resumes when the
# lock is gone; the failure is logged once, and its end once.
LOCK_SECS=7
sed -n 1,5400p "$T/mail.log" > "$T/locked.log"
sed -e "s|$T/db|$T/locked.db|" -e "s|$T/mail.log|$T/growing.log|" "$T/run.conf" > "$T/locked.conf"
head -540 "$T/locked.log" > "$T/growing.log"
"$MXLEDGER" run --config "$T/locked.conf" > "$T/locked.run" 2>&1 &
PID=$!
i=0
until [ "$(sqlite3 "$T/locked.db" 'SELECT coalesce(max(lines), 0) FROM positions' \
    2>/dev/null)" = 540 ] || [ $i -ge 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
{ echo 'BEGIN IMMEDIATE;'; sleep "$LOCK_SECS"; echo 'ROLLBACK;'; } | sqlite3 "$T/locked.db" &
LOCKER=$!	# ends by itself after LOCK_SECS
sleep 0.5
tail -n +541 "$T/locked.log" >> "$T/growing.log"
wait "$LOCKER"
LOCKER=
GSIZE=$(wc -c < "$T/growing.log" | tr -d ' ')
i=0
while [ $i -lt 600 ] && [ "$(stored_offset_of "$T/locked.db")" -lt "$GSIZE" ]; do
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$PID" 2>/dev/null
wait "$PID"
rc=$?
PID=
cat "$T/locked.run" >> "$T/run.log"
if [ $rc -eq 0 ]; then ok "with a locked database the daemon goes on and exits 0"
else notok "with a locked database the daemon goes on and exits 0 (exit $rc)"; fi
"$MXLEDGER" ingest --quiet --year 2026 --db "$T/locked-clean.db" "$T/growing.log" \
    > "$T/ingest.log" 2>&1
dump "$T/locked.db" > "$T/locked.dump"
dump "$T/locked-clean.db" > "$T/locked-clean.dump"
if [ -s "$T/locked.dump" ] && cmp -s "$T/locked.dump" "$T/locked-clean.dump"; then
	ok "after the lock is gone the database holds exactly the events of a clean ingest"
else
	notok "after the lock is gone the database holds exactly the events of a clean ingest"
	diff "$T/locked-clean.dump" "$T/locked.dump" | head -10 | sed 's/^/# /'
fi
nfail=$(grep -c 'commit failed' "$T/locked.run")
nback=$(grep -c 'commits work again' "$T/locked.run")
if [ "$nfail" = 1 ] && [ "$nback" = 1 ]; then
	ok "the failure and the recovery are each logged once"
else
	notok "the failure and the recovery are each logged once ($nfail, $nback times)"
	sed 's/^/# /' "$T/locked.run"
fi

# A full disk (a private tmpfs filled up, then freed, as an administrator
# would): commits fail for real, so the lines read since the last commit
# must be read again. Needs root for a mount namespace; skipped otherwise.
sed -n 1,540p "$T/locked.log" > "$T/full.log"
cat > "$T/full.conf" <<EOF
database "$T/small/db"
batch-events 300
batch-interval 50ms
retention off
input file "$T/full.log" {
	start-at beginning
}
EOF
cat > "$T/full.sh" <<'EOF'
# runs in a private mount namespace; T, MXLEDGER exported
mkdir "$T/small" && mount -t tmpfs -o size=64m mxledger-test "$T/small" || exit 77
lines() {
	v=$(sqlite3 "$T/small/db" 'SELECT coalesce(max(lines), 0) FROM positions' 2>/dev/null)
	echo "${v:-0}"
}
"$MXLEDGER" run --config "$T/full.conf" > "$T/full.run" 2>&1 &
pid=$!
i=0
while [ "$(lines)" -lt 540 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
dd if=/dev/zero of="$T/small/filler" bs=64k 2>/dev/null
tail -n +541 "$T/locked.log" >> "$T/full.log"
i=0
while ! grep -q 'commit failed' "$T/full.run" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1.5
rm -f "$T/small/filler"
want=$(wc -l < "$T/full.log" | tr -d ' ')
i=0
while [ "$(lines)" -lt "$want" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
sqlite3 "$T/small/db" "SELECT $COLS FROM events ORDER BY
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25" \
    > "$T/full.dump"
umount "$T/small"
exit $rc
EOF
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	T="$T" MXLEDGER="$MXLEDGER" COLS="$COLS" unshare -m sh "$T/full.sh"
	rc=$?
else
	rc=77
fi
if [ $rc -eq 77 ]; then
	ok "# SKIP a full disk: needs root and a mount namespace"
else
	cat "$T/full.run" >> "$T/run.log"
	if [ $rc -eq 0 ]; then ok "with a full disk the daemon goes on and exits 0"
	else notok "with a full disk the daemon goes on and exits 0 (exit $rc)"; fi
	"$MXLEDGER" ingest --quiet --year 2026 --db "$T/full-clean.db" "$T/full.log" \
	    > "$T/ingest.log" 2>&1
	dump "$T/full-clean.db" > "$T/full-clean.dump"
	if [ -s "$T/full.dump" ] && cmp -s "$T/full.dump" "$T/full-clean.dump"; then
		ok "after space is freed the database holds exactly the events of a clean ingest"
	else
		notok "after space is freed the database holds exactly the events of a clean ingest"
		diff "$T/full-clean.dump" "$T/full.dump" | head -10 | sed 's/^/# /'
	fi
	nfail=$(grep -c 'commit failed' "$T/full.run")
	nback=$(grep -c 'commits work again' "$T/full.run")
	if [ "$nfail" = 1 ] && [ "$nback" = 1 ]; then
		ok "a full disk and its end are each logged once"
	else
		notok "a full disk and its end are each logged once ($nfail, $nback times)"
		sed 's/^/# /' "$T/full.run"
	fi
fi

if [ $fails -ne 0 ]; then
	echo "# daemon output:"
	tail -30 "$T/run.log" | sed 's/^/# /'
fi
tap_end crash
