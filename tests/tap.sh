# tap.sh - the checks the shell tests share; sourced, never run
#
# SYNOPSIS
#	. "$top_srcdir/tests/tap.sh"
#	same "the answer" "$(ask 192.0.2.7)" "action=DUNNO"
#	holds "the daemon listens" listening
#	grep -q done "$T/out"; status_ok "it says done" $? "$(cat "$T/out")"
#	poll 50 stored || notok "stored within 5 s"
#	tap_end my_test		# last command: the test's exit status
#
# DESCRIPTION
#	Each check prints one TAP line, "ok N - TEXT" or "not ok N - TEXT",
#	and counts it in $n (checks) and $fails; a failed same() shows both
#	values under the line, each line of them behind "# ". The tests run
#	under automake's plain driver, which reads only the exit status:
#	tap_end prints the tally and returns 0 when nothing failed. Helper
#	variables start with _tap_, so a test's own variables are left alone.

fails=0
n=0

# ok TEXT, notok TEXT - a check decided by the caller
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }

# same TEXT GOT WANT - ok when the two strings are equal
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		notok "$1"
		printf '%s\n' "$2" | sed '1s/^/#   got:  /; 1!s/^/#         /'
		printf '%s\n' "$3" | sed '1s/^/#   want: /; 1!s/^/#         /'
	fi
}

# status_ok TEXT STATUS [DETAIL] - ok when STATUS (a command's $?) is 0, else DETAIL is shown
status_ok() {
	if [ "$2" = 0 ]; then
		ok "$1"
	else
		notok "$1 (exit status $2)"
		[ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/#   /'
	fi
}

# holds TEXT COMMAND... - ok when COMMAND succeeds
holds() {
	_tap_text=$1
	shift
	if "$@"; then ok "$_tap_text"; else notok "$_tap_text"; fi
}

# poll COUNT COMMAND... - run COMMAND every 0.1 s until it succeeds, at most COUNT times
poll() {
	_tap_i=0
	_tap_count=$1
	shift
	while [ "$_tap_i" -lt "$_tap_count" ]; do
		"$@" && return 0
		sleep 0.1
		_tap_i=$((_tap_i + 1))
	done
	return 1
}

# tap_end NAME - print the tally; succeeds when no check failed
tap_end() {
	echo "$1: $((n - fails)) passed, $fails failed"
	[ "$fails" -eq 0 ]
}
