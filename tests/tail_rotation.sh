#!/bin/sh
# NAME
#	tail_rotation.sh - `mxledger run` keeps every line across log rotations
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. top_builddir=. sh tests/tail_rotation.sh
# DESCRIPTION
#	Starts `mxledger run --config CONF --db DB` following two files that do
#	not exist yet (start-at beginning), then writes copies of
#	tests/data/real-sample-mail.log (copy k shifted by k * 330 s, so no two
#	copies share a first line) with O_APPEND writes, as a syslog daemon
#	does, and rotates with the real tools:
#
#	    1  mail.log and second.log created after start, a line split
#	       across two writes
#	    2  rename rotation (logrotate "create"): mv, more lines appended to
#	       the renamed file before the new one appears, then the new file
#	    3  copytruncate: cp + truncate -s 0 once everything was read, then
#	       new lines; second.log renamed away at the same time
#	    4  deletion: rm, then the file written again
#	    5  rename followed at once by writes to the new file, before the
#	       daemon read the end of the old one
#	    6  rotation while the daemon is down (stopped with SIGTERM): the
#	       renamed file must be read from the stored position on restart
#
#	Between steps it waits (bounded) until the stored event count reaches
#	what `mxledger parse` finds in everything written so far. At the end
#	the daemon is stopped by PID with SIGTERM and the database must hold
#	exactly the events of `mxledger parse` of the concatenated input (same
#	total, same count per event kind) and the same rows as a clean
#	`mxledger ingest` of it. The daemon's log must show that each rotation
#	style was noticed as such.
# ENVIRONMENT
#	MXLEDGER, top_srcdir, top_builddir; KEEP=1 keeps the work directory.
# RETURNS
#	0 pass, 1 fail, 77 skip (no sqlite3, no sample log, no binary).

set -u
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
MXLEDGER=${MXLEDGER:-${top_builddir:-.}/mxledger}
TZ=UTC
export TZ
unset JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC
SAMPLE=$top_srcdir/tests/data/real-sample-mail.log
# The year of the syslog timestamps: the corpus was written in November 2026.
MXLEDGER_FAKE_NOW=2026-11-22T23:59:00Z
export MXLEDGER_FAKE_NOW

for tool in sqlite3 truncate awk; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 77; }
done
if [ ! -r "$SAMPLE" ]; then echo "SKIP: $SAMPLE missing"; exit 77; fi
if [ ! -x "$MXLEDGER" ]; then echo "SKIP: $MXLEDGER not built"; exit 77; fi

T=$(mktemp -d "${top_builddir:-.}/tests/rotation.XXXXXX") || exit 1
T=$(cd "$T" && pwd)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$top_srcdir/tests/tap.sh"

# copy K - the sample with every timestamp K * 330 s later (the sample spans 5m20s)
copy() {
	awk -v k="$1" '{
		split($0, f, " ")
		split(f[3], t, ":")
		s = t[1] * 3600 + t[2] * 60 + t[3] + k * 330
		line = $0
		sub(/^[A-Z][a-z][a-z] +[0-9]+ [0-9:]+/, sprintf("%s %2d %02d:%02d:%02d",
		    f[1], f[2], int(s / 3600), int(s / 60) % 60, s % 60), line)
		print line
	}' "$SAMPLE"
}
i=0
while [ $i -le 9 ]; do
	copy $i > "$T/copy$i"
	i=$((i + 1))
done

# put FILE SRC... - append SRC to FILE, and to the input of FILE's stream (mail or second):
# a line split across two writes stays whole in the stream whatever was written in between
put() {
	f=$1
	shift
	cat "$@" >> "$T/$f"
	cat "$@" >> "$T/all.${f%%.*}"
}

expected() {
	"$MXLEDGER" parse --year 2026 "$T/all.mail" "$T/all.second" 2>/dev/null | wc -l | tr -d ' '
}
stored() {
	sqlite3 "$T/db" "SELECT count(*) FROM events" 2>/dev/null || echo 0
}
# wait_stored - until every event written so far is stored (at most 30 s); 0 when reached
wait_stored() {
	want=$(expected)
	i=0
	while [ $i -lt 300 ]; do
		[ "$(stored)" -ge "$want" ] && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# wait_stable - until the count stops changing for 2 s (at most 30 s); prints it
wait_stable() {
	last=-1
	same=0
	i=0
	while [ $i -lt 300 ] && [ $same -lt 20 ]; do
		now=$(stored)
		if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
		last=$now
		sleep 0.1
		i=$((i + 1))
	done
	echo "$last"
}
start() {
	"$MXLEDGER" run --config "$T/run.conf" --db "$T/db" >> "$T/run.log" 2>&1 &
	PID=$!
}
stop() {
	kill -TERM "$PID" 2>/dev/null
	wait "$PID"
	rc=$?
	PID=
	return $rc
}
step() {	# step NAME: everything written so far is stored
	if wait_stored; then ok "$1: all $(expected) events so far are stored"
	else notok "$1: $(stored) events stored, want $(expected)"; fi
}

cat > "$T/run.conf" <<EOF
batch-events 300
batch-interval 50ms
retention off
input file "$T/mail.log" {
	start-at beginning
}
input file "$T/second.log" {
	start-at beginning
}
EOF
: > "$T/all.mail"
: > "$T/all.second"

start
sleep 0.3
holds "the daemon runs with two inputs whose files do not exist yet" kill -0 "$PID"

# 1: files created after start; a line split across two writes
size=$(wc -c < "$T/copy0")
head -c $((size / 2 + 7)) "$T/copy0" > "$T/part.a"
tail -c +$((size / 2 + 8)) "$T/copy0" > "$T/part.b"
put mail.log "$T/part.a"
put second.log "$T/copy1"
sleep 0.2
put mail.log "$T/part.b"
step "created after start"

# 2: rename rotation; lines still written to the old file after the rename
head -n 200 "$T/copy2" > "$T/part.a"
tail -n +201 "$T/copy2" > "$T/part.b"
put mail.log "$T/part.a"
wait_stored
mv "$T/mail.log" "$T/mail.log.1"
sleep 0.3
put mail.log.1 "$T/part.b"
sleep 0.3
put mail.log "$T/copy3"
step "rename rotation"

# 3: copytruncate, once everything was read; second.log renamed away meanwhile
cp "$T/mail.log" "$T/mail.log.copy"
truncate -s 0 "$T/mail.log"
mv "$T/second.log" "$T/second.log.1"
put mail.log "$T/copy4"
put second.log "$T/copy5"
step "copytruncate"

# 4: deletion, then the file written again
rm "$T/mail.log"
sleep 0.3
put mail.log "$T/copy6"
step "deletion and re-creation"

# 5: rename followed at once by writes to the new file
head -n 300 "$T/copy7" > "$T/part.a"
tail -n +301 "$T/copy7" > "$T/part.b"
put mail.log "$T/part.a"
mv -f "$T/mail.log" "$T/mail.log.1"
put mail.log "$T/part.b"
step "rename with immediate writes"

# 6: rotation while the daemon is down
if stop; then ok "SIGTERM stops the daemon with status 0"
else notok "SIGTERM stops the daemon with status 0"; fi
put mail.log "$T/copy8"
mv -f "$T/mail.log.1" "$T/mail.log.2"
mv "$T/mail.log" "$T/mail.log.1"
put mail.log "$T/copy9"
start
if wait_stored; then ok "rotation while down: the renamed file is read from the stored position"
else notok "rotation while down: $(stored) events stored, want $(expected)" \
    "(lines of the renamed file were lost: is ops->previous wired in cmd_run.c?)"; fi

got=$(wait_stable)
if stop; then ok "SIGTERM stops the restarted daemon with status 0"
else notok "SIGTERM stops the restarted daemon with status 0"; fi

cat "$T/all.mail" "$T/all.second" > "$T/all.log"
want=$(expected)
if [ "$got" = "$want" ] && [ "$(stored)" = "$want" ]; then
	ok "the database holds exactly as many events as mxledger parse finds ($want)"
else
	notok "the database holds exactly as many events as mxledger parse finds" \
	    "($(stored), want $want)"
fi
"$MXLEDGER" parse --year 2026 "$T/all.log" 2>/dev/null |
    sed -n 's/.*"event":"\([a-z_]*\)".*/\1/p' | sort | uniq -c |
    awk '{ print $2 "|" $1 }' > "$T/kinds.want"
sqlite3 "$T/db" "SELECT event, count(*) FROM events GROUP BY event ORDER BY event" \
    > "$T/kinds.got"
if [ -s "$T/kinds.want" ] && cmp -s "$T/kinds.want" "$T/kinds.got"; then
	ok "every event kind has the count mxledger parse gives"
else
	notok "every event kind has the count mxledger parse gives"
	diff "$T/kinds.want" "$T/kinds.got" | head -12 | sed "s/^/# /"
fi

COLS="event, ts, host, program, daemon, listener, pid, client_ip, client_port, client_name,
    server_ip, server_port, proxied, user, method, attempts, queue_id, sender, recipient, helo,
    stage, reply, reason, session, stats"
dump() {
	sqlite3 "$1" "SELECT $COLS FROM events ORDER BY
	    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25"
}
if "$MXLEDGER" ingest --quiet --year 2026 --db "$T/clean.db" "$T/all.log" > "$T/ingest.log" 2>&1
then
	dump "$T/db" > "$T/run.dump"
	dump "$T/clean.db" > "$T/clean.dump"
	if [ -s "$T/clean.dump" ] && cmp -s "$T/run.dump" "$T/clean.dump"; then
		ok "the stored rows are those of a clean ingest of the concatenated input"
	else
		notok "the stored rows are those of a clean ingest of the concatenated input"
		diff "$T/clean.dump" "$T/run.dump" | head -10 | sed 's/^/# /'
	fi
else
	notok "a clean ingest of the concatenated input succeeds"
	sed 's/^/# /' "$T/ingest.log"
fi

for what in rotated truncated deleted; do
	if grep -q "mail.log: $what" "$T/run.log"; then ok "the daemon noticed the file was $what"
	else notok "the daemon noticed the file was $what"; fi
done
if grep -q "second.log: rotated" "$T/run.log"; then ok "the second input was followed too"
else notok "the second input was followed too"; fi

if [ $fails -ne 0 ]; then
	echo "# daemon output:"
	tail -40 "$T/run.log" | sed 's/^/# /'
fi
tap_end tail_rotation
