#!/bin/sh
# NAME
#	journal.sh - `mxledger run` reading a journal directory, and its cursor
# SYNOPSIS
#	MXLEDGER=./mxledger top_builddir=. sh tests/journal.sh
# DESCRIPTION
#	Builds journal files with systemd-journal-remote from export-format
#	streams holding what Postfix and Dovecot really put in the journal
#	(_COMM and SYSLOG_IDENTIFIER as the daemons set them; documentation
#	addresses), plus entries the default filter must leave out (a spoofed
#	"postfix/smtpd" tag written by logger, qmgr, sshd). Then:
#	  1. run with `input journal DIR { start-at beginning }` stores exactly
#	     the expected events and the cursor;
#	  2. a second journal file is added, run again: only its events are
#	     added (the stored cursor is honoured); its message longer than
#	     64 KiB gives no event;
#	  3. a run with nothing new adds nothing;
#	  4. a new database with `start-at end` stores none of the old entries,
#	     and a journal file written while it runs is read at once.
# ENVIRONMENT
#	MXLEDGER (the binary), top_builddir; SYSTEMD_JOURNAL_REMOTE to point at
#	systemd-journal-remote (Debian package systemd-journal-remote); KEEP=1
#	keeps the work directory.
# RETURNS
#	0 pass, 1 fail, 77 skip (no systemd-journal-remote or no sqlite3).

set -u
MXLEDGER=${MXLEDGER:-${top_builddir:-.}/mxledger}
TZ=UTC
export TZ
unset JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC

JR=${SYSTEMD_JOURNAL_REMOTE:-}
for p in /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote; do
	[ -z "$JR" ] && [ -x "$p" ] && JR=$p
done
if [ -z "$JR" ] || [ ! -x "$JR" ]; then
	echo "SKIP: systemd-journal-remote not found (Debian: apt-get install systemd-journal-remote)"
	exit 77
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "SKIP: sqlite3 not found"
	exit 77
fi
if [ ! -x "$MXLEDGER" ]; then
	echo "SKIP: $MXLEDGER not built"
	exit 77
fi

mkdir -p "${top_builddir:-.}/tests" || exit 1
T=$(mktemp -d "${top_builddir:-.}/tests/journal.XXXXXX") || exit 1
T=$(cd "$T" && pwd)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
: > "$T/run.log"
trap 'exit 1' INT TERM

. "${top_srcdir:-.}/tests/tap.sh"

BOOT=5d2fa4bd8bb04c2f9e1ef0a4c6b2d1e7
MACHINE=0b9d5c8a2e7f4a1db3c6e9f2a5d8b1c4
# 2026-11-22T02:22:24Z, when the real-sample corpus was written
T0=1795314144

# entry SECONDS COMM IDENTIFIER PID MESSAGE - one entry in journal export format
entry() {
	printf '__REALTIME_TIMESTAMP=%s000000\n__MONOTONIC_TIMESTAMP=%s000000\n' \
	    $((T0 + $1)) $((1000 + $1))
	printf '_BOOT_ID=%s\n_MACHINE_ID=%s\n_HOSTNAME=mail\n_TRANSPORT=syslog\n' "$BOOT" "$MACHINE"
	printf 'PRIORITY=6\nSYSLOG_FACILITY=2\n_UID=0\n_GID=0\n_COMM=%s\n_PID=%s\n' "$2" "$4"
	printf 'SYSLOG_IDENTIFIER=%s\nSYSLOG_PID=%s\nMESSAGE=%s\n\n' "$3" "$4" "$5"
}

first_batch() {
	entry 0 postscreen postfix/smtpd-proxy25/postscreen 32119 \
	    'CONNECT from [198.51.100.198]:51077 to [203.0.113.254]:25'
	entry 3 postscreen postfix/smtpd-proxy25/postscreen 32119 \
	    'PASS NEW [198.51.100.198]:51077'
	entry 3 smtpd postfix/smtpd 32120 'connect from unknown[198.51.100.198]'
	entry 3 smtpd postfix/smtpd 32120 'lost connection after EHLO from unknown[198.51.100.198]'
	entry 3 smtpd postfix/smtpd 32120 \
	    'disconnect from unknown[198.51.100.198] ehlo=1 commands=1'
	# Dovecot's log process writes everything with the identifier "dovecot"
	entry 4 log dovecot 31990 \
	    'auth: passwd-file(heidi@example.net,192.0.2.136,<7CoSJtRg/9fAAAKI>): Password mismatch'
	entry 6 log dovecot 31990 \
	    'imap-login: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<heidi@example.net>, method=PLAIN, rip=192.0.2.136, lip=203.0.113.254, session=<7CoSJtRg/9fAAAKI>'
	# not ours: a forged tag (logger), a daemon we do not parse, another program
	entry 7 logger postfix/smtpd 4711 'connect from unknown[192.0.2.250]'
	entry 8 qmgr postfix/qmgr 31994 '4F3A21234: removed'
	entry 9 sshd sshd 5150 'Failed password for root from 192.0.2.99 port 52022 ssh2'
	entry 10 smtpd postfix/submission/smtpd 32129 \
	    'warning: unknown[203.0.113.194]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=heidi@example.net'
	entry 11 anvil postfix/anvil 32124 \
	    'statistics: max connection rate 1/60s for (smtpd:198.51.100.198) at Nov 22 02:22:27'
	entry 12 master postfix/master 31988 \
	    'warning: process /usr/lib/postfix/sbin/smtpd pid 32120 exit status 1'
}

second_batch() {
	entry 60 postscreen postfix/postscreen 32200 \
	    'CONNECT from [203.0.113.7]:40001 to [203.0.113.254]:25'
	entry 60 postscreen postfix/postscreen 32200 \
	    'PREGREET 11 after 0.21 from [203.0.113.7]:40001: EHLO x\r\n'
	entry 61 postscreen postfix/postscreen 32200 'DISCONNECT [203.0.113.7]:40001'
	# longer than MX_LINE_MAX (64 KiB): skipped whole, never parsed cut short
	long=$(head -c 70000 /dev/zero | tr '\0' a)
	entry 61 smtpd postfix/smtpd 32201 "NOQUEUE: reject: RCPT from unknown[192.0.2.77]: \
554 5.7.1 <x@example.net>: Relay access denied; from=<$long@example.org> \
to=<x@example.net> proto=ESMTP helo=<h>"
	entry 62 log dovecot 31990 \
	    'imap-login: Login: user=<alice@example.net>, method=PLAIN, rip=192.0.2.44, lip=203.0.113.254, mpid=4242, TLS, session=<abcdEFGH1234>'
}

third_batch() {
	entry 120 smtpd postfix/smtpd-proxy587/smtpd 32300 'connect from unknown[198.51.100.77]'
	entry 121 smtpd postfix/smtpd-proxy587/smtpd 32300 \
	    'disconnect from unknown[198.51.100.77] ehlo=1 quit=1 commands=2'
}

# the events, as dump() prints them
cat > "$T/want1" <<'EOF'
2026-11-22T02:22:24Z|connect|198.51.100.198||postfix/smtpd-proxy25
2026-11-22T02:22:27Z|postscreen_pass_new|198.51.100.198||postfix/smtpd-proxy25
2026-11-22T02:22:27Z|connect|198.51.100.198||postfix
2026-11-22T02:22:27Z|lost_connection|198.51.100.198||postfix
2026-11-22T02:22:27Z|disconnect|198.51.100.198||postfix
2026-11-22T02:22:28Z|auth_lookup_failure|192.0.2.136|heidi@example.net|auth
2026-11-22T02:22:30Z|auth_failure|192.0.2.136|heidi@example.net|imap-login
2026-11-22T02:22:34Z|auth_failure|203.0.113.194|heidi@example.net|postfix/submission
2026-11-22T02:22:35Z|anvil_statistics|198.51.100.198||postfix
2026-11-22T02:22:36Z|process_exit|||postfix
EOF
cat "$T/want1" - > "$T/want2" <<'EOF'
2026-11-22T02:23:24Z|connect|203.0.113.7||postfix
2026-11-22T02:23:24Z|postscreen_pregreet|203.0.113.7||postfix
2026-11-22T02:23:25Z|disconnect|203.0.113.7||postfix
2026-11-22T02:23:26Z|auth_success|192.0.2.44|alice@example.net|imap-login
EOF
cat > "$T/want3" <<'EOF'
2026-11-22T02:24:24Z|connect|198.51.100.77||postfix/smtpd-proxy587
2026-11-22T02:24:25Z|disconnect|198.51.100.77||postfix/smtpd-proxy587
EOF

mkdir "$T/journal"
first_batch > "$T/first.export"
second_batch > "$T/second.export"
third_batch > "$T/third.export"
if ! "$JR" --output="$T/journal/first.journal" - < "$T/first.export" 2> "$T/jr.err"; then
	echo "SKIP: systemd-journal-remote cannot write a journal here:"
	sed 's/^/# /' "$T/jr.err"
	exit 77
fi

dump() {
	sqlite3 "$1" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ts, 'unixepoch'), event,
	    coalesce(client_ip, ''), coalesce(user, ''), coalesce(listener, '')
	    FROM events ORDER BY ts, id"
}
journal_lines() {
	v=$(sqlite3 "$1" "SELECT coalesce(sum(lines), 0) FROM positions
	    WHERE key LIKE 'journal:%'" 2>/dev/null)
	echo "${v:-0}"
}

# start CONF - start the daemon in the background, wait until it runs (at most 30 s)
start() {
	"$MXLEDGER" run --config "$1" --log-level debug > "$T/run.cur" 2>&1 &
	PID=$!
	i=0
	while [ $i -lt 300 ] && ! grep -q 'run: started' "$T/run.cur"; do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
}
# wait_lines DB LINES - until the journal position counts LINES entries or more (<= 60 s)
wait_lines() {
	i=0
	while [ $i -lt 600 ]; do
		[ "$(journal_lines "$1")" -ge "$2" ] && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	# a little longer, so that an entry too many would be seen
	sleep 0.5
}
# stop - SIGTERM; 0 if the daemon exited 0
stop() {
	kill -TERM "$PID" 2>/dev/null
	wait "$PID"
	rc=$?
	PID=
	cat "$T/run.cur" >> "$T/run.log"
	return $rc
}
# run_until DB CONF LINES - run the daemon until it has read LINES entries, stop it
run_until() {
	start "$2"
	wait_lines "$1" "$3"
	stop
}

cat > "$T/run.conf" <<EOF
database "$T/db"
batch-interval 100ms
retention off
input journal "$T/journal" {
	start-at beginning
}
EOF

# 1. from the beginning
if run_until "$T/db" "$T/run.conf" 10; then ok "run exits 0 on SIGTERM"
else notok "run exits 0 on SIGTERM"; fi
dump "$T/db" > "$T/got1"
if diff -u "$T/want1" "$T/got1" > "$T/diff1"; then
	ok "the first journal file gives exactly the expected events"
else
	notok "the first journal file gives exactly the expected events"
	sed 's/^/# /' "$T/diff1"
fi
key=$(sqlite3 "$T/db" "SELECT key FROM positions WHERE key LIKE 'journal:%'")
if [ "$key" = "journal:$T/journal" ]; then ok "the position is keyed by the directory"
else notok "the position is keyed by the directory (got \"$key\")"; fi
cursor=$(sqlite3 "$T/db" "SELECT cursor FROM positions WHERE key LIKE 'journal:%'")
case $cursor in
*"b=$BOOT"*) ok "the cursor of the last entry is stored" ;;
*) notok "the cursor of the last entry is stored (got \"$cursor\")" ;;
esac

# 2. new entries in a second file: only they are added
"$JR" --output="$T/journal/second.journal" - < "$T/second.export" 2>> "$T/jr.err"
if run_until "$T/db" "$T/run.conf" 15; then ok "second run exits 0"
else notok "second run exits 0"; fi
dump "$T/db" > "$T/got2"
if diff -u "$T/want2" "$T/got2" > "$T/diff2"; then
	ok "a restart adds only the new entries"
else
	notok "a restart adds only the new entries"
	sed 's/^/# /' "$T/diff2"
fi

# 3. nothing new: nothing added
run_until "$T/db" "$T/run.conf" 15
dump "$T/db" > "$T/got3"
if cmp -s "$T/want2" "$T/got3"; then ok "a restart with nothing new adds nothing"
else notok "a restart with nothing new adds nothing"; diff -u "$T/want2" "$T/got3" | sed 's/^/# /'; fi

# 4. a new database, start-at end: the existing entries are history, not
# news; entries written while it runs (a new journal file) are read at once
sed -e "s|$T/db|$T/db-end|" -e 's/start-at beginning/start-at end/' "$T/run.conf" > "$T/end.conf"
start "$T/end.conf"
sleep 0.5
"$JR" --output="$T/journal/third.journal" - < "$T/third.export" 2>> "$T/jr.err"
wait_lines "$T/db-end" 2
if stop; then ok "run with start-at end exits 0"; else notok "run with start-at end exits 0"; fi
dump "$T/db-end" > "$T/got4"
if diff -u "$T/want3" "$T/got4" > "$T/diff4"; then
	ok "start-at end skips the existing entries and follows new ones"
else
	notok "start-at end skips the existing entries and follows new ones"
	sed 's/^/# /' "$T/diff4"
fi

if [ $fails -ne 0 ]; then
	echo "# daemon output:"
	sed 's/^/# /' "$T/run.log" | tail -40
fi
tap_end journal
