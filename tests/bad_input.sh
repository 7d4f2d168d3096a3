#!/bin/sh
# NAME
#	bad_input.sh - mxledger parse survives hostile input and keeps counting
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. sh tests/bad_input.sh
# DESCRIPTION
#	Builds one file that mixes six valid lines with bad ones: 1 MiB of
#	/dev/urandom, NUL bytes, invalid UTF-8, a 1 MiB line (over MX_LINE_MAX),
#	a valid line just under the limit, truncated lines, impossible dates and
#	malformed client addresses. Then checks that `mxledger parse --stats`
#	  - exits 0 within 60 seconds;
#	  - prints exactly the events of the valid lines (byte for byte, the
#	    expected JSONL is below) and nothing for the bad lines;
#	  - accounts for every line in --stats: lines = newlines in the input,
#	    events = 6, events + unrecognised + ignored + malformed + oversized =
#	    lines, oversized = 1, malformed >= the impossible-date lines,
#	    malformed + ignored >= those + truncated envelopes + NUL/UTF-8 junk,
#	    unrecognised >= the malformed-address lines.
#	Set BAD_INPUT_KEEP=DIR to keep the generated input and output there.
# ENVIRONMENT
#	MXLEDGER, top_srcdir; TZ is forced to UTC.
# RETURNS
#	0 pass, 1 fail, 77 skip (binary not built).

MXLEDGER=${MXLEDGER:-${top_builddir:-.}/mxledger}
TZ=UTC
export TZ
LC_ALL=C
export LC_ALL

if [ ! -x "$MXLEDGER" ]; then
	echo "SKIP: $MXLEDGER not built"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxledger-bad.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

in=$tmp/input.log
exp=$tmp/expected.jsonl
fail=0

# line TEXT - TEXT and a newline, byte for byte (echo may interpret backslashes)
line() {
	printf '%s\n' "$1"
}

# near_limit_stats N - " rcpt=1" N times (the stats of the near-limit line)
near_limit_stats() {
	i=0
	while [ $i -lt "$1" ]; do
		printf ' rcpt=1'
		i=$((i + 1))
	done
}
NEAR=8000	# 7 bytes each: a 56 KiB valid line, under MX_LINE_MAX (64 KiB)

# ------------------------------------------------------------------ input
{
	# valid 1
	line 'Nov 22 02:22:24 mail postfix/smtpd[32120]: connect from unknown[192.0.2.10]'
	# NUL bytes: a line of NULs; a NUL inside the timestamp
	printf '\000\000\000\000\n'
	printf 'Nov 22 02:22:2\000 mail postfix/smtpd[1]: connect from unknown[192.0.2.66]\n'
	# valid 2: invalid UTF-8 in client text the event does not carry
	printf 'Nov 22 02:22:25 mail postfix/postscreen[32140]: PREGREET 4 after 0.1 from [192.0.2.9]:41657: \377\376\303\050\n'
	# invalid UTF-8 only
	printf '\377\376\375\303\050\240\241\n'
	# truncated lines
	line 'Nov 22 02:2'
	line 'Nov 22 02:22:24 mail postfix/smtpd[12'
	line 'Nov 22 02:22:24 mail postfix/smtpd[1]: connect from unknown[192.0.2.'
	line 'Nov 22 02:22:24 mail postfix/postscreen[1]: CONNECT from [192.0.2.68]:5'
	line '2026-11-22T02:22'
	line '{"log":"Nov 22 02:22:24 mail postfix/smtpd[1]: connect from unknown[192.0.2.69]\n","stre'
	# valid 3
	line '2026-11-22T02:22:26.500000+00:00 mail postfix/smtpd[32120]: disconnect from unknown[192.0.2.10] commands=0/0'
	# impossible dates
	line 'Feb 30 02:22:24 mail postfix/smtpd[1]: connect from unknown[192.0.2.70]'
	line 'Nov 31 02:22:24 mail postfix/smtpd[1]: connect from unknown[192.0.2.71]'
	line 'Nov 22 25:00:00 mail postfix/smtpd[1]: connect from unknown[192.0.2.72]'
	line 'Nov 22 02:61:00 mail postfix/smtpd[1]: connect from unknown[192.0.2.73]'
	line 'Feb 29 02:22:24 mail postfix/smtpd[1]: connect from unknown[192.0.2.74]'
	line 'Foo 22 02:22:24 mail postfix/smtpd[1]: connect from unknown[192.0.2.75]'
	line '2026-13-01T00:00:00+00:00 mail postfix/smtpd[1]: connect from unknown[192.0.2.76]'
	line '2026-02-29T00:00:00Z mail postfix/smtpd[1]: connect from unknown[192.0.2.77]'
	line '2026-11-22T02:22:24+25:00 mail postfix/smtpd[1]: connect from unknown[192.0.2.78]'
	# valid 4: just under the line limit
	printf 'Nov 22 02:22:27 mail postfix/smtpd[32120]: disconnect from unknown[192.0.2.11] commands=0/0'
	near_limit_stats $NEAR
	printf '\n'
	# a 1 MiB line
	printf 'Nov 22 02:22:28 mail postfix/smtpd[1]: connect from unknown[192.0.2.67] '
	head -c 1048576 /dev/zero | tr '\000' 'A'
	printf '\n'
	# valid 5, right after the over-long line
	line 'Nov 22 02:22:29 mail dovecot: imap-login: Login: user=<frank@example.net>, method=PLAIN, rip=192.0.2.191, lip=192.0.2.1, mpid=1, session=<AAAAAAAAAAAAAAAA>'
	# malformed client addresses, valid envelopes of daemons we parse
	line 'Nov 22 02:22:30 mail postfix/smtpd[1]: connect from unknown[999.0.2.1]'
	line 'Nov 22 02:22:30 mail postfix/smtpd[1]: connect from unknown[192.0.2]'
	line 'Nov 22 02:22:30 mail postfix/smtpd[1]: connect from unknown[]'
	line 'Nov 22 02:22:30 mail postfix/smtpd[1]: connect from unknown[2001:db8:::1]'
	line 'Nov 22 02:22:30 mail postfix/postscreen[1]: CONNECT from [2001:db8::zz]:25 to [203.0.113.254]:25'
	line 'Nov 22 02:22:30 mail postfix/postscreen[1]: PASS NEW [192.0.2.1]:99999'
	line 'Nov 22 02:22:30 mail postfix/postscreen[1]: PASS OLD [192.0.2.1.5]:1'
	line 'Nov 22 02:22:30 mail postfix/smtpd[1]: warning: unknown[192.0.2.300]: SASL LOGIN authentication failed: x'
	line 'Nov 22 02:22:30 mail dovecot: imap-login: Login: user=<x>, method=PLAIN, rip=1.2.3, lip=192.0.2.1, session=<x>'
	# 1 MiB of random bytes, closed by a newline
	head -c 1048576 /dev/urandom
	printf '\n'
	# valid 6, after the garbage
	line 'Nov 22 02:22:31 mail postfix/smtpd-proxy25/postscreen[32119]: CONNECT from [198.51.100.1]:1000 to [203.0.113.254]:25'
} >"$in"
N_DATES=9		# impossible-date lines (malformed envelopes)
N_TRUNC_ENV=4		# truncated lines whose envelope is incomplete
N_JUNK=3		# the NUL lines and the invalid UTF-8 line
N_ADDR=9		# malformed-address lines (unrecognised by their parser)
N_EVENTS=6

# ------------------------------------------------------------ expected
{
	line '{"ts":"2026-11-22T02:22:24.000000Z","host":"mail","program":"postfix/smtpd","daemon":"smtpd","listener":"postfix","pid":32120,"event":"connect","client_ip":"192.0.2.10","client_name":"unknown","proxied":false}'
	line '{"ts":"2026-11-22T02:22:25.000000Z","host":"mail","program":"postfix/postscreen","daemon":"postscreen","listener":"postfix","pid":32140,"event":"postscreen_pregreet","client_ip":"192.0.2.9","client_port":41657,"proxied":false,"reason":"\u00ff\u00fe\u00c3("}'
	line '{"ts":"2026-11-22T02:22:26.500000Z","host":"mail","program":"postfix/smtpd","daemon":"smtpd","listener":"postfix","pid":32120,"event":"disconnect","client_ip":"192.0.2.10","client_name":"unknown","proxied":false,"stats":{"commands":"0/0"}}'
	printf '%s' '{"ts":"2026-11-22T02:22:27.000000Z","host":"mail","program":"postfix/smtpd","daemon":"smtpd","listener":"postfix","pid":32120,"event":"disconnect","client_ip":"192.0.2.11","client_name":"unknown","proxied":false,"stats":{"commands":"0/0"'
	near_limit_stats $NEAR | sed 's/ rcpt=1/,"rcpt":"1"/g'
	printf '}}\n'
	line '{"ts":"2026-11-22T02:22:29.000000Z","host":"mail","program":"dovecot","daemon":"dovecot","listener":"imap-login","event":"auth_success","client_ip":"192.0.2.191","server_ip":"192.0.2.1","user":"frank@example.net","method":"PLAIN","session":"AAAAAAAAAAAAAAAA"}'
	line '{"ts":"2026-11-22T02:22:31.000000Z","host":"mail","program":"postfix/smtpd-proxy25/postscreen","daemon":"postscreen","listener":"postfix/smtpd-proxy25","pid":32119,"event":"connect","client_ip":"198.51.100.1","client_port":1000,"server_ip":"203.0.113.254","server_port":25,"proxied":true}'
} >"$exp"

lines=$(tr -cd '\n' <"$in" | wc -c | tr -d ' ')
echo "input: $(wc -c <"$in" | tr -d ' ') bytes, $lines lines ($N_EVENTS valid)"

# ------------------------------------------------------------------- run
start=$(date +%s)
timeout 60 "$MXLEDGER" parse --year 2026 --stats "$in" >"$tmp/out" 2>"$tmp/err"
rc=$?
end=$(date +%s)
echo "mxledger parse: exit status $rc after $((end - start)) s"
if [ $rc -eq 124 ]; then
	echo "FAIL: did not finish within 60 s"
	fail=1
elif [ $rc -ne 0 ]; then
	echo "FAIL: exit status $rc, want 0"
	sed 's/^/     stderr: /' "$tmp/err" | head -20
	fail=1
fi

if cmp -s "$exp" "$tmp/out"; then
	echo "ok   events: exactly the $N_EVENTS events of the valid lines"
else
	echo "FAIL events: output differs from the events of the valid lines"
	# keep the diff readable: cut the near-limit line
	cut -c1-400 "$exp" >"$tmp/exp.cut"
	cut -c1-400 "$tmp/out" >"$tmp/out.cut"
	diff -u "$tmp/exp.cut" "$tmp/out.cut" | head -60 | sed 's/^/     /'
	if [ "$(wc -l <"$tmp/out")" -ne "$(wc -l <"$exp")" ]; then
		echo "     ($(wc -l <"$tmp/out" | tr -d ' ') events, want $N_EVENTS)"
	fi
	fail=1
fi

# --stats: "lines N, events N, unrecognised N, ignored N, malformed N, oversized N"
totals=$(grep '^lines [0-9]*, events' "$tmp/err" | tail -1)
echo "stats: $totals"
if [ -z "$totals" ]; then
	echo "FAIL stats: no totals line in --stats output"
	sed 's/^/     stderr: /' "$tmp/err" | head -20
	fail=1
else
	# shellcheck disable=SC2046	# split into the six numbers on purpose
	set -- $(echo "$totals" | tr -cs '0-9' ' ')
	s_lines=$1 s_events=$2 s_unrec=$3 s_ign=$4 s_malf=$5 s_over=$6
	sum=$((s_events + s_unrec + s_ign + s_malf + s_over))
	check_stat() {
		if [ "$2" ]; then
			echo "ok   stats: $1"
		else
			echo "FAIL stats: $1"
			fail=1
		fi
	}
	check_stat "lines $s_lines = $lines newlines in the input" \
	    "$( [ "$s_lines" -eq "$lines" ] && echo y)"
	check_stat "events $s_events = $N_EVENTS" "$( [ "$s_events" -eq $N_EVENTS ] && echo y)"
	check_stat "every line counted once: events+unrecognised+ignored+malformed+oversized $sum = $s_lines" \
	    "$( [ "$sum" -eq "$s_lines" ] && echo y)"
	check_stat "oversized $s_over = 1 (the 1 MiB line)" "$( [ "$s_over" -eq 1 ] && echo y)"
	check_stat "malformed $s_malf >= $N_DATES (impossible dates)" \
	    "$( [ "$s_malf" -ge $N_DATES ] && echo y)"
	check_stat "malformed+ignored $((s_malf + s_ign)) >= $((N_DATES + N_TRUNC_ENV + N_JUNK)) (dates, truncated envelopes, NUL and invalid UTF-8 lines)" \
	    "$( [ $((s_malf + s_ign)) -ge $((N_DATES + N_TRUNC_ENV + N_JUNK)) ] && echo y)"
	check_stat "unrecognised $s_unrec >= $N_ADDR (malformed addresses)" \
	    "$( [ "$s_unrec" -ge $N_ADDR ] && echo y)"
fi

if [ $fail -ne 0 ] && [ -n "$BAD_INPUT_KEEP" ]; then
	mkdir -p "$BAD_INPUT_KEEP" && cp "$in" "$exp" "$tmp/out" "$tmp/err" "$BAD_INPUT_KEEP/"
	echo "kept input and output in $BAD_INPUT_KEEP"
fi
if [ $fail -ne 0 ]; then
	echo "bad_input: FAIL"
	exit 1
fi
echo "bad_input: PASS"
exit 0
