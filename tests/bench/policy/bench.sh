#!/bin/sh
# NAME
#	bench.sh - policy servers under load: mxledger, a DUNNO baseline, postfwd,
#	policyd-rate-limit
# SYNOPSIS
#	sh tests/bench/policy/bench.sh [MXLEDGER]        (or: make bench-policy)
# DESCRIPTION
#	Compiles loadgen.c and dunno_server.c (cc -O2) and measures, in the
#	same run, for K = 1 10 100 1000 persistent connections over TCP
#	(127.0.0.1) and over a UNIX socket, each server on the same load:
#	realistic RCPT-state requests from a pool of 100 000 client addresses
#	(loadgen.c says what a request holds), 1 s of warm-up, then 5 s of
#	requests/s and p50/p99/p99.9 latency:
#	  baseline     dunno_server.c: answers action=DUNNO to everything;
#	  mxledger     `mxledger run` with mxledger-bench.conf.in (ten rules:
#	               allowlists, history, rates by client, network, user and
#	               sender domain), while logwriter.py appends live mail log
#	               lines (genlog.py's, 2000 lines/s) to the file it follows;
#	               each transport starts with an empty log and database;
#	  postfwd      postfwd1 from Debian's postfwd (single process,
#	               Net::Server::Multiplex), rules in postfwd.cf;
#	  postfwd2     postfwd2 (the Debian default, one pre-forked process per
#	               connection, 110 of them; K=1000 would need 1000 perl
#	               processes and is not run);
#	  policyd-rate-limit  Debian's policyd-rate-limit, SQLite backend,
#	               policyd-rate-limit.yaml.in (one commit, so one fsync,
#	               per request; listen backlog 5, so 1000 TCP connections
#	               may not open within loadgen's 30 s).
#	The rate rule is the same everywhere: 600 RCPT requests per client
#	address per minute (policyd-rate-limit: per SASL user when there is
#	one). Every server is started once per transport, pre-warmed with one
#	request from each of the 100 000 pool clients (at most
#	BENCH_PREWARM_SECONDS), measured at each K, and stopped by PID
#	(postfwd detaches itself: its pid file gives the PID).
#
#	The baseline server runs for the whole script. The table gives each
#	row's requests/s and p99 as a ratio to the baseline's at the same
#	transport and K; for mxledger the baseline is measured again right
#	before each of its runs (the log writer paused), and mxledger's ratio
#	is to that adjacent measurement ("baseline (paired)" rows), so that
#	load from other processes on the machine shifts both alike; the
#	1-minute load average at each run is shown. mxledger's rows are marked
#	ok or MISS against the targets: >= 60 % of the baseline's requests/s
#	and p99 <= 1.5 x the baseline's p99. Use a build without
#	--enable-sanitizers. A server that is not installed is skipped with a
#	message; postfwd and policyd-rate-limit are Debian packages (apt-get
#	install postfwd policyd-rate-limit), used by this script only.
#	Not part of `make check`.
# ENVIRONMENT
#	BENCH_SECONDS (5), BENCH_WARMUP (1), BENCH_K ("1 10 100 1000"),
#	BENCH_TRANSPORTS ("tcp unix"), BENCH_SERVERS ("baseline mxledger
#	postfwd postfwd2 policyd-rate-limit"), BENCH_POOL (100000), BENCH_HOT
#	(percent of transactions from 100 hot clients, 2), BENCH_PREWARM_SECONDS
#	(20), BENCH_LOG_RATE (log lines/s written while mxledger runs, 2000),
#	BENCH_KEEP=1 keeps the temporary directory, CC, PYTHON3. Ports are
#	free loopback ports the kernel picks.
# RETURNS
#	0 when mxledger meets both targets at every K and transport measured;
#	1 when it misses one or could not be measured; 2 on a setup error.

here=$(cd "$(dirname "$0")" && pwd)
MXLEDGER=${1:-${MXLEDGER:-}}
CC=${CC:-cc}
PYTHON3=${PYTHON3:-python3}
SECONDS_=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-1}
KS=${BENCH_K:-1 10 100 1000}
TRANSPORTS=${BENCH_TRANSPORTS:-tcp unix}
SERVERS=${BENCH_SERVERS:-baseline mxledger postfwd postfwd2 policyd-rate-limit}
POOL=${BENCH_POOL:-100000}
HOT=${BENCH_HOT:-2}
PREWARM=${BENCH_PREWARM_SECONDS:-20}
LOG_RATE=${BENCH_LOG_RATE:-2000}
POSTFWD2_SERVERS=110

die() {
	echo "bench-policy: $*" >&2
	exit 2
}

say() {
	echo "bench-policy: $*"
}

command -v "$CC" >/dev/null 2>&1 || die "$CC not found"
command -v "$PYTHON3" >/dev/null 2>&1 || die "$PYTHON3 not found"
case " $SERVERS " in
*" baseline "*) ;;
*) die "BENCH_SERVERS must include baseline (every ratio is to it)" ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxledger-bench-policy.XXXXXX") || die "mktemp failed"
chmod 755 "$tmp"	# postfwd runs as nobody and writes its pid file here
started=$tmp/started.pids
: >"$started"
notes=$tmp/notes.txt
: >"$notes"
results=$tmp/results.txt
: >"$results"

# alive PID - the process exists and is not a zombie
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

# stop_pid PID - SIGTERM, up to 5 s, then SIGKILL; the same for the children it had
stop_pid() {
	sp_pid=$1
	[ -n "$sp_pid" ] || return 0
	sp_kids=$(pgrep -P "$sp_pid" 2>/dev/null | tr '\n' ' ')
	kill "$sp_pid" 2>/dev/null
	sp_i=0
	while alive "$sp_pid" && [ $sp_i -lt 50 ]; do
		sleep 0.1
		sp_i=$((sp_i + 1))
	done
	alive "$sp_pid" && kill -KILL "$sp_pid" 2>/dev/null
	for sp_k in $sp_kids; do
		sp_i=0
		while alive "$sp_k" && [ $sp_i -lt 20 ]; do
			sleep 0.1
			sp_i=$((sp_i + 1))
		done
		alive "$sp_k" && kill -KILL "$sp_k" 2>/dev/null
	done
	wait "$sp_pid" 2>/dev/null
	return 0
}

cleanup() {
	for cl_pid in $(cat "$started" 2>/dev/null); do
		alive "$cl_pid" && stop_pid "$cl_pid"
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench-policy: keeping $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 2' HUP INT TERM

remember() {
	echo "$1" >>"$started"
}

# Enough descriptors for K=1000 on every side (dash and bash have ulimit -n).
# shellcheck disable=SC3045
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# shellcheck disable=SC3045
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 2100 ] ||
    die "ulimit -n is $(ulimit -n); K=1000 needs about 2100"

"$CC" -O2 -Wall -o "$tmp/loadgen" "$here/loadgen.c" || die "cannot compile loadgen.c"
"$CC" -O2 -Wall -o "$tmp/dunno_server" "$here/dunno_server.c" ||
    die "cannot compile dunno_server.c"

# endpoint TRANSPORT PORT SOCK - loadgen's address option
endpoint() {
	if [ "$1" = tcp ]; then
		echo "-t 127.0.0.1:$2"
	else
		echo "-u $3"
	fi
}

# wait_ready PID ENDPOINT - one answered probe within 20 s while PID lives (PID "" = detached)
wait_ready() {
	wr_i=0
	while [ $wr_i -lt 200 ]; do
		# shellcheck disable=SC2086
		"$tmp/loadgen" $2 -1 2>/dev/null && return 0
		[ -n "$1" ] && ! alive "$1" && return 1
		sleep 0.1
		wr_i=$((wr_i + 1))
	done
	return 1
}

# wait_pidfile FILE - the PID a detaching daemon wrote, within 10 s
wait_pidfile() {
	wp_i=0
	while [ $wp_i -lt 100 ]; do
		if [ -s "$1" ]; then
			wp_pid=$(tr -dc 0-9 <"$1")
			[ -n "$wp_pid" ] && alive "$wp_pid" && echo "$wp_pid" && return 0
		fi
		sleep 0.1
		wp_i=$((wp_i + 1))
	done
	return 1
}

# --------------------------------------------------------------- servers
# start_NAME TRANSPORT PORT SOCK - start, set srv_pid; return 1 when it cannot run

# free_port - a loopback TCP port nobody listens on now
free_port() {
	"$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])'
}

writer_pid=
start_mxledger() {
	if [ -z "$MXLEDGER" ] || [ ! -x "$MXLEDGER" ]; then
		echo "mxledger: no executable given (bench.sh MXLEDGER)" >>"$notes"
		return 1
	fi
	if ldd "$MXLEDGER" 2>/dev/null | grep -q -E 'lib(a|ub|t)san'; then
		echo "mxledger: WARNING: $MXLEDGER is a sanitizer build; numbers not meaningful" \
		    >>"$notes"
	fi
	if [ ! -s "$tmp/genlog.log" ]; then
		"$PYTHON3" "$here/../genlog.py" 200000 11 >"$tmp/genlog.log" ||
		    die "genlog.py failed"
	fi
	sed -e "s|@TMP@|$tmp|g" -e "s|@PORT@|$2|g" -e "s|@SOCK@|$3|g" \
	    "$here/mxledger-bench.conf.in" >"$tmp/mxledger.conf"
	if ! "$MXLEDGER" check-config --config "$tmp/mxledger.conf" >"$tmp/check-config.txt" \
	    2>&1; then
		echo "mxledger: check-config refused the benchmark configuration:" >>"$notes"
		sed 's/^/    /' "$tmp/check-config.txt" | head -20 >>"$notes"
		return 1
	fi
	# each transport's run starts from nothing, so that its rows measure the
	# same load: with the last run's log and database, the history rules
	# (auth failures by network) deferred several times more requests
	rm -f "$tmp/mail.log" "$tmp/mxledger.db" "$tmp/mxledger.db-wal" "$tmp/mxledger.db-shm"
	touch "$tmp/mail.log"
	"$PYTHON3" "$here/logwriter.py" "$tmp/genlog.log" "$tmp/mail.log" "$LOG_RATE" 900 \
	    2>>"$tmp/logwriter.err" &
	writer_pid=$!
	remember $writer_pid
	"$MXLEDGER" run --config "$tmp/mxledger.conf" 2>>"$tmp/mxledger.err" &
	srv_pid=$!
	remember $srv_pid
}

start_postfwd() {
	command -v postfwd1 >/dev/null 2>&1 || {
		echo "postfwd: postfwd1 not installed (apt-get install postfwd)" >>"$notes"
		return 1
	}
	rm -f "$tmp/postfwd.pid"
	if [ "$1" = tcp ]; then
		set -- -i 127.0.0.1 -p "$2"
	else
		set -- --proto unix -p "$3"
	fi
	# shellcheck disable=SC2086
	postfwd1 -d -f "$here/postfwd.cf" "$@" --nodns --norulelog --noidlestats \
	    --pidfile "$tmp/postfwd.pid" $pf_user -l postfwd-bench 2>>"$tmp/postfwd.err" ||
	    return 1
	srv_pid=$(wait_pidfile "$tmp/postfwd.pid") || return 1
	remember "$srv_pid"
}

start_postfwd2() {
	command -v postfwd2 >/dev/null 2>&1 || {
		echo "postfwd2: not installed (apt-get install postfwd)" >>"$notes"
		return 1
	}
	rm -f "$tmp/postfwd2.pid"
	if [ "$1" = tcp ]; then
		set -- -i 127.0.0.1 -p "$2"
	else
		set -- --proto unix -p "$3"
	fi
	# shellcheck disable=SC2086
	postfwd2 -f "$here/postfwd.cf" "$@" --cache_socket "tcp:127.0.0.1:$(free_port)" \
	    --nodns --norulelog --noidlestats --pidfile "$tmp/postfwd2.pid" $pf_user \
	    --min_servers $((POSTFWD2_SERVERS - 5)) --max_servers $POSTFWD2_SERVERS \
	    --min_spare_servers 5 --max_spare_servers $((POSTFWD2_SERVERS - 1)) \
	    -l postfwd2-bench 2>>"$tmp/postfwd2.err" || return 1
	srv_pid=$(wait_pidfile "$tmp/postfwd2.pid") || return 1
	remember "$srv_pid"
}

start_policyd_rate_limit() {
	command -v policyd-rate-limit >/dev/null 2>&1 || {
		echo "policyd-rate-limit: not installed (apt-get install policyd-rate-limit)" \
		    >>"$notes"
		return 1
	}
	rm -rf "$tmp/prl"
	mkdir -p "$tmp/prl/run" "$tmp/prl/db"
	if [ "$1" = tcp ]; then
		prl_socket="[\"127.0.0.1\", $2]"
	else
		prl_socket="\"$3\""
	fi
	sed -e "s|@TMP@|$tmp|g" -e "s|@USER@|$(id -un)|g" -e "s|@GROUP@|$(id -gn)|g" \
	    -e "s|@SOCKET@|$prl_socket|g" "$here/policyd-rate-limit.yaml.in" >"$tmp/prl.yaml"
	policyd-rate-limit --file "$tmp/prl.yaml" 2>>"$tmp/policyd-rate-limit.err" &
	srv_pid=$!
	remember $srv_pid
}

# Sockets live in $tmp/run: postfwd2 binds its socket after dropping to pf_user.
mkdir "$tmp/run" || die "mkdir $tmp/run failed"
if [ "$(id -u)" = 0 ]; then
	pf_user="-u nobody -g nogroup"
	chown nobody:nogroup "$tmp/run" || die "chown nobody:nogroup $tmp/run failed"
else
	pf_user="-u $(id -un) -g $(id -gn)"
fi

# cpu_ticks PID - user + system time of PID (all its threads) in clock ticks, or -
cpu_ticks() {
	if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then
		sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
	else
		echo -
	fi
}

# run_load NAME TRANSPORT ENDPOINT K [PID] - one loadgen run appended to the results, with
# the CPU time PID (a single-process server) used per answer
run_load() {
	rl_load=$(cut -d' ' -f1 /proc/loadavg)
	rl_t0=$(cpu_ticks "$5")
	# shellcheck disable=SC2086
	rl_out=$("$tmp/loadgen" $3 -c "$4" -w "$WARMUP" -d "$SECONDS_" -n "$POOL" \
	    -H "$HOT" -S "$4" -l "server=$1 transport=$2 load=$rl_load" 2>"$tmp/lg.err")
	rl_t1=$(cpu_ticks "$5")
	if [ -n "$rl_out" ]; then
		if [ "$rl_t0" != - ] && [ "$rl_t1" != - ]; then
			rl_out="$rl_out cpu_ticks=$((rl_t1 - rl_t0)) hz=$HZ"
		fi
		echo "$rl_out" >>"$results"
		echo "    $rl_out" | cut -c1-150
	else
		echo "$1/$2 K=$4: loadgen failed: $(head -c 300 "$tmp/lg.err")" >>"$notes"
	fi
}

HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

# The baseline runs from start to end: its rows, and the paired runs before mxledger's.
base_port=$(free_port) || die "no free port"
base_sock=$tmp/run/baseline.sock
"$tmp/dunno_server" -t "127.0.0.1:$base_port" -u "$base_sock" 2>>"$tmp/baseline.err" &
base_pid=$!
remember $base_pid

# measure NAME TRANSPORT - start, pre-warm, run every K, stop
measure() {
	m_name=$1
	m_tr=$2
	m_port=$(free_port) || die "no free port"
	m_sock=$tmp/run/$m_name.sock
	m_ep=$(endpoint "$m_tr" "$m_port" "$m_sock")
	srv_pid=
	writer_pid=
	say "$m_name over $m_tr"
	if [ "$m_name" = baseline ]; then
		m_ep=$(endpoint "$m_tr" "$base_port" "$base_sock")
		srv_pid=$base_pid
	elif ! "start_$(echo "$m_name" | tr - _)" "$m_tr" "$m_port" "$m_sock"; then
		echo "$m_name/$m_tr: could not start, not measured" >>"$notes"
		stop_pid "$srv_pid"
		stop_pid "$writer_pid"
		return 0
	fi
	m_detached=$srv_pid
	case $m_name in postfwd*) m_detached= ;; esac
	if ! wait_ready "$m_detached" "$m_ep"; then
		echo "$m_name/$m_tr: no answer to a probe within 20 s, not measured" >>"$notes"
		[ -s "$tmp/$m_name.err" ] && tail -5 "$tmp/$m_name.err" | sed 's/^/    /' >>"$notes"
		stop_pid "$srv_pid"
		stop_pid "$writer_pid"
		return 0
	fi
	# shellcheck disable=SC2086
	m_pw=$("$tmp/loadgen" $m_ep -c 100 -P -n "$POOL" -d "$PREWARM" \
	    -l "$m_name/$m_tr" 2>&1 | tail -1)
	echo "prewarm $m_pw" >>"$notes"
	for m_k in $KS; do
		if [ "$m_name" = postfwd2 ] && [ "$m_k" -gt $((POSTFWD2_SERVERS - 5)) ]; then
			echo "$m_name/$m_tr K=$m_k: not run (one process per connection," \
			    "$POSTFWD2_SERVERS started)" >>"$notes"
			continue
		fi
		if ! alive "$srv_pid"; then
			echo "$m_name/$m_tr K=$m_k: server died before the run" >>"$notes"
			break
		fi
		if [ "$m_name" = mxledger ]; then
			kill -STOP "$writer_pid" 2>/dev/null
			run_load "baseline-paired" "$m_tr" \
			    "$(endpoint "$m_tr" "$base_port" "$base_sock")" "$m_k" "$base_pid"
			kill -CONT "$writer_pid" 2>/dev/null
		fi
		m_cpu=$srv_pid
		[ "$m_name" = postfwd2 ] && m_cpu=	# its work is done in the children
		run_load "$m_name" "$m_tr" "$m_ep" "$m_k" "$m_cpu"
	done
	if [ "$m_name" = mxledger ]; then
		echo "mxledger/$m_tr: $(grep -c . "$tmp/mxledger.err") lines of diagnostics;" \
		    "last: $(tail -1 "$tmp/mxledger.err" | cut -c1-200)" >>"$notes"
	fi
	[ "$m_name" = baseline ] || stop_pid "$srv_pid"
	stop_pid "$writer_pid"
	return 0
}

say "$(nproc) CPUs, $(uname -sr); K: $KS; transports: $TRANSPORTS;" \
    "${WARMUP}s warm-up + ${SECONDS_}s per run"
for s in $SERVERS; do
	for tr in $TRANSPORTS; do
		measure "$s" "$tr"
	done
done
stop_pid "$base_pid"
if [ -s "$tmp/logwriter.err" ]; then
	sed 's/^/log writer: /' "$tmp/logwriter.err" >>"$notes"
fi
if [ -f "$tmp/mxledger.db" ]; then
	echo "mxledger: database $(du -sk "$tmp/mxledger.db" | cut -f1) KiB at the end" >>"$notes"
fi

echo
awk '
function kv(line, a,   n, i, f, p) {
	n = split(line, f, " ")
	for (i = 1; i <= n; i++) {
		p = index(f[i], "=")
		if (p > 0)
			a[substr(f[i], 1, p - 1)] = substr(f[i], p + 1)
	}
}
{
	delete r
	kv($0, r)
	n++
	srv[n] = r["server"]; tr[n] = r["transport"]; k[n] = r["k"]
	rps[n] = r["rps"]; p50[n] = r["p50_us"]; p99[n] = r["p99_us"]; p999[n] = r["p999_us"]
	nd[n] = r["requests"] > 0 ? 100 * r["non_dunno"] / r["requests"] : 0
	bad[n] = r["errors"] + r["stalled"]
	none[n] = r["requests"] == 0
	load[n] = r["load"]
	cpu[n] = "-"
	if (r["cpu_ticks"] != "" && r["answers_total"] > 0)
		cpu[n] = sprintf("%.1f", 1e6 * r["cpu_ticks"] / r["hz"] / r["answers_total"])
	if (r["server"] == "baseline") {
		brps[r["transport"], r["k"]] = r["rps"]
		bp99[r["transport"], r["k"]] = r["p99_us"]
	}
	if (r["server"] == "baseline-paired") {
		srv[n] = "baseline (paired)"
		prps[r["transport"], r["k"]] = r["rps"]
		pp99[r["transport"], r["k"]] = r["p99_us"]
	}
}
END {
	printf "%-19s %-5s %5s %9s %9s %10s %10s %8s %8s %6s %7s %5s  %s\n", "server",
	    "trans", "K", "req/s", "p50_us", "p99_us", "p99.9_us", "rps/base", "p99/base",
	    "!dunno", "cpu_us", "load", "target"
	fail = 0
	seen = 0
	for (i = 1; i <= n; i++) {
		b = brps[tr[i], k[i]]
		bp = bp99[tr[i], k[i]]
		if (srv[i] ~ /^(mxledger|baseline \(paired\))$/ && prps[tr[i], k[i]] > 0) {
			b = prps[tr[i], k[i]]
			bp = pp99[tr[i], k[i]]
		}
		rr = b > 0 ? rps[i] / b : 0
		pr = bp > 0 ? p99[i] / bp : 0
		t = "-"
		if (srv[i] == "mxledger") {
			seen = 1
			t = "ok"
			if (b == 0 || rr < 0.60) t = "MISS(rps)"
			if (bp == 0 || pr > 1.5) t = (t == "ok" ? "MISS(p99)" : "MISS(rps,p99)")
			if (t != "ok") fail = 1
		}
		if (bad[i] > 0) t = t " (" bad[i] " errors/stalled)"
		if (none[i]) {
			printf "%-19s %-5s %5d  no answer in the measured seconds%s\n", srv[i],
			    tr[i], k[i], srv[i] == "mxledger" ? ": MISS" : ""
			if (srv[i] == "mxledger") { seen = 1; fail = 1 }
			continue
		}
		printf "%-19s %-5s %5d %9d %9.1f %10.1f %10.1f %7.0f%% %7.2fx %5.1f%% %7s %5.1f  %s\n",
		    srv[i], tr[i], k[i], rps[i], p50[i], p99[i], p999[i], 100 * rr, pr, nd[i],
		    cpu[i], load[i], t
	}
	printf "\ntargets (mxledger): req/s >= 60%% of the baseline, p99 <= 1.5x the baseline p99," \
	    " same transport and K\n"
	printf "cpu_us: the server process'"'"'s CPU time per answer (mxledger: its log ingestion" \
	    " included); load: 1-minute load average at the start of the run\n"
	exit(seen ? fail : 1)
}' "$results"
status=$?
echo
echo "notes:"
sed 's/^/  /' "$notes"
exit $status
