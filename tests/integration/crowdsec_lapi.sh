# NAME
#	crowdsec_lapi.sh - a throwaway CrowdSec Local API on loopback, for tests
# SYNOPSIS
#	. "$top_srcdir/tests/integration/crowdsec_lapi.sh"
#
#	cs_available			# 0 when crowdsec, cscli, curl, ss are there
#	cs_require			# SKIP (exit 77, with the reason) unless so
#	cs_setup [DIR [PORT]]		# config, SQLite DB, cscli machine in DIR
#	cs_start			# LAPI only, background; /health 200 <= 30 s
#	cs_stop				# SIGTERM by PID (KILL after 10 s); its status
#	cs_kill				# SIGKILL by PID; 0 once it is gone
#	cs_cleanup			# cs_stop, then remove DIR unless KEEP=1
#	cs_health			# HTTP status of GET /health ("000": none)
#	cs_cscli ARGS...		# cscli --error -c DIR/config.yaml ARGS...
#	cs_bouncer_add NAME		# prints the new bouncer's API key
#	cs_watcher_add NAME PASSWORD	# a validated machine (cscli ... -f -)
#	cs_watcher_login NAME PASSWORD	# prints a JWT (POST /v1/watchers/login)
#	cs_decision_add ARGS...		# cscli decisions add ARGS...
#	cs_decision_delete ARGS...	# cscli decisions delete ARGS...
#	cs_decisions_json		# cscli decisions list -a -o json
#	cs_alerts_json			# cscli alerts list -a -o json
#	cs_stream KEY [startup]		# GET /v1/decisions/stream as bouncer KEY
#	cs_gone PID			# 0 when PID has exited (zombies count)
#	cs_leftovers			# live processes using CS_DIR/config.yaml
#	cs_etc_unchanged		# 0 when /etc/crowdsec is as cs_setup found it
# DESCRIPTION
#	Follows ../shared/notes/crowdsec-offline.md (Debian 12, crowdsec
#	1.4.6): a config.yaml of our own in CS_DIR with its own SQLite
#	database, the Local API on 127.0.0.1:CS_PORT, no online_client (no
#	Central API), Prometheus off, an empty acquisition file and the
#	default profile; `crowdsec -c CS_DIR/config.yaml -no-capi -no-cs` runs
#	the LAPI alone, in the foreground of a background job, so $! is its PID
#	(CS_PID, also in CS_DIR/crowdsec.pid). Nothing is read from /etc/crowdsec
#	except the grok patterns (linked, for an agent a test may start) and
#	the packaged hub is linked read-only; /etc/crowdsec and the packaged
#	service are never written to nor started. cs_setup records a listing
#	with checksums of /etc/crowdsec; cs_etc_unchanged compares against it.
#
#	CS_DIR is `mktemp -d` under $top_builddir/tests/integration (or under
#	$TMPDIR when that is not writable) unless DIR is given. CS_PORT is a
#	free port of 18080-18199 (nothing listening, `ss -Hltn`), tried from a
#	random start, unless PORT is given. cs_start checks again that nothing
#	listens there; crowdsec logs "listening" before it binds and exits 1
#	on "address already in use" while /health would be answered by the
#	port's owner, so after /health answers 200 cs_start checks that
#	CS_PID is alive and, where ss shows owners, that it owns the
#	listening socket. When the port was picked here and another process
#	took it before the first start, cs_start moves to another free port
#	(rewriting config.yaml and the cscli credentials) up to three times;
#	once the LAPI has run, restarts keep CS_PORT (clients were told it)
#	and fail if it is taken.
#	CS_URL is http://127.0.0.1:CS_PORT (no trailing slash).
#
#	cscli's `decisions` and `alerts` commands go through the LAPI, so it
#	must be running; `bouncers` and `machines` write SQLite directly. A
#	machine added without `-f` would overwrite cscli's own credentials:
#	cs_watcher_add always passes `-f -` (discarding the YAML it prints) and
#	fails if the credentials file changed anyway.
#
#	Keys, machines and decisions survive a restart on the same CS_DIR;
#	watcher JWTs do not (unless CS_LAPI_SECRET is in the environment).
#	Start and stop from the test's own shell (not inside `$(...)`): cs_stop
#	and cs_kill reap CS_PID with `wait` to learn its exit status.
# ENVIRONMENT
#	top_builddir (default .); KEEP=1 keeps CS_DIR; TMPDIR; CS_CROWDSEC,
#	CS_CSCLI (default /usr/bin/crowdsec, /usr/bin/cscli).
# RETURNS
#	cs_require exits 77 with a "SKIP:" line. The others return 0 on
#	success, 1 with a "crowdsec: ..." message on stderr otherwise; cs_stop
#	returns crowdsec's exit status (0 after a graceful SIGTERM).

CS_CROWDSEC=${CS_CROWDSEC:-/usr/bin/crowdsec}
CS_CSCLI=${CS_CSCLI:-/usr/bin/cscli}
CS_HUB=/usr/share/crowdsec/hub
CS_PORT_LOW=18080
CS_PORT_HIGH=18199
CS_DIR=
CS_PORT=
CS_URL=
CS_PID=
CS_PORT_AUTO=
CS_SKIP_REASON=

cs_log() {
	echo "crowdsec: $*" >&2
}

# cs_available - 0 when the programs the fixture runs are installed; else 1
# with the reason in CS_SKIP_REASON
cs_available() {
	_cs_miss=
	[ -x "$CS_CROWDSEC" ] || _cs_miss="$_cs_miss $CS_CROWDSEC"
	[ -x "$CS_CSCLI" ] || _cs_miss="$_cs_miss $CS_CSCLI"
	command -v curl >/dev/null 2>&1 || _cs_miss="$_cs_miss curl"
	command -v ss >/dev/null 2>&1 || _cs_miss="$_cs_miss ss(iproute2)"
	command -v ps >/dev/null 2>&1 || _cs_miss="$_cs_miss ps(procps)"
	if [ -n "$_cs_miss" ]; then
		CS_SKIP_REASON="not installed:$_cs_miss (Debian 12: write a comment into"
		CS_SKIP_REASON="$CS_SKIP_REASON /etc/crowdsec/online_api_credentials.yaml, then"
		CS_SKIP_REASON="$CS_SKIP_REASON apt-get install crowdsec curl; see crowdsec-offline.md)"
		return 1
	fi
	return 0
}

# cs_require - SKIP (exit 77) with a visible reason unless cs_available
cs_require() {
	if ! cs_available; then
		echo "SKIP: $CS_SKIP_REASON"
		exit 77
	fi
}

# cs_listening PORT - 0 when a TCP socket listens on PORT (any address)
cs_listening() {
	[ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
}

# cs_pick_port - a port of CS_PORT_LOW..CS_PORT_HIGH nobody listens on,
# tried from a random start (two tests at once rarely pick the same)
cs_pick_port() {
	_cs_span=$((CS_PORT_HIGH - CS_PORT_LOW + 1))
	_cs_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	_cs_k=0
	while [ $_cs_k -lt $_cs_span ]; do
		_cs_p=$((CS_PORT_LOW + (_cs_r + _cs_k) % _cs_span))
		_cs_k=$((_cs_k + 1))
		[ "$_cs_p" = "${1:-}" ] && continue	# the one just lost
		if ! cs_listening "$_cs_p"; then
			echo "$_cs_p"
			return 0
		fi
	done
	cs_log "no free port in $CS_PORT_LOW-$CS_PORT_HIGH"
	return 1
}

# cs_gone PID - 0 when PID has exited (an unreaped zombie counts as gone)
cs_gone() {
	case "$(ps -o stat= -p "$1" 2>/dev/null)" in
	'' | Z*) return 0 ;;
	esac
	return 1
}

# cs_etc_listing - every entry of /etc/crowdsec with type, mode, size,
# mtime and link target, then the checksums of its regular files
cs_etc_listing() {
	[ -d /etc/crowdsec ] || { echo "no /etc/crowdsec"; return 0; }
	find /etc/crowdsec -printf '%p %y %m %s %T@ %l\n' 2>&1 | LC_ALL=C sort
	find /etc/crowdsec -type f -exec sha256sum {} + 2>&1 | LC_ALL=C sort
}

# cs_etc_unchanged - 0 when /etc/crowdsec is as cs_setup found it; else 1
# and the difference on stderr
cs_etc_unchanged() {
	[ -f "$CS_DIR/etc-crowdsec.before" ] || { cs_log "no snapshot of /etc/crowdsec"; return 1; }
	cs_etc_listing > "$CS_DIR/etc-crowdsec.after"
	if ! cmp -s "$CS_DIR/etc-crowdsec.before" "$CS_DIR/etc-crowdsec.after"; then
		cs_log "/etc/crowdsec changed:"
		diff "$CS_DIR/etc-crowdsec.before" "$CS_DIR/etc-crowdsec.after" >&2
		return 1
	fi
}

# cs_write_config - config.yaml, profiles, simulation, acquisition in CS_DIR
cs_write_config() {
	cat > "$CS_DIR/config.yaml" <<EOF
# written by tests/integration/crowdsec_lapi.sh; see crowdsec-offline.md
common:
  daemonize: true
  log_media: file
  log_level: info
  log_dir: $CS_DIR/log/
  working_dir: $CS_DIR
config_paths:
  config_dir: $CS_DIR/etc/
  data_dir: $CS_DIR/data/
  simulation_path: $CS_DIR/etc/simulation.yaml
  hub_dir: $CS_DIR/hub/
  index_path: $CS_DIR/hub/.index.json
  notification_dir: $CS_DIR/etc/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: $CS_DIR/etc/acquis.yaml
  parser_routines: 1
cscli:
  output: human
  color: "no"
  hub_branch: master
db_config:
  type: sqlite
  db_path: $CS_DIR/data/crowdsec.db
  use_wal: true
  flush:
    max_items: 5000
    max_age: 7d
api:
  client:
    credentials_path: $CS_DIR/etc/local_api_credentials.yaml
  server:
    listen_uri: 127.0.0.1:$CS_PORT
    profiles_path: $CS_DIR/etc/profiles.yaml
    console_path: $CS_DIR/etc/console.yaml
    trusted_ips: [127.0.0.1, "::1"]
prometheus:
  enabled: false
  listen_addr: 127.0.0.1
  listen_port: 16060
EOF
	cat > "$CS_DIR/etc/profiles.yaml" <<'EOF'
name: default_ip_remediation
filters:
 - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
 - type: ban
   duration: 4h
on_success: break
EOF
	echo 'simulation: off' > "$CS_DIR/etc/simulation.yaml"
	: > "$CS_DIR/etc/acquis.yaml"
}

# cs_setup [DIR [PORT]] - a fresh CS_DIR (DIR must be empty or absent) with
# its configuration and the machine cscli-local that cscli logs in as
cs_setup() {
	if [ -n "${1:-}" ]; then
		CS_DIR=$1
		mkdir -p "$CS_DIR" || return 1
	else
		_cs_parent=${top_builddir:-.}/tests/integration
		mkdir -p "$_cs_parent" 2>/dev/null
		CS_DIR=$(mktemp -d "$_cs_parent/crowdsec.XXXXXX" 2>/dev/null) ||
		    CS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/crowdsec-test.XXXXXX") || return 1
	fi
	CS_DIR=$(cd "$CS_DIR" && pwd)
	cs_etc_listing > "$CS_DIR/etc-crowdsec.before"
	if [ -n "${2:-}" ]; then
		CS_PORT=$2
		CS_PORT_AUTO=
	else
		CS_PORT=$(cs_pick_port) || return 1
		CS_PORT_AUTO=1
	fi
	CS_URL=http://127.0.0.1:$CS_PORT
	mkdir -p "$CS_DIR/etc" "$CS_DIR/data" "$CS_DIR/log" "$CS_DIR/hub" || return 1
	for _cs_i in blockers collections parsers postoverflows scenarios .index.json; do
		ln -sfn "$CS_HUB/$_cs_i" "$CS_DIR/hub/$_cs_i"
	done
	ln -sfn /etc/crowdsec/patterns "$CS_DIR/etc/patterns"
	cs_write_config
	if ! cs_cscli machines add cscli-local --auto --force \
	    > "$CS_DIR/log/setup.out" 2>&1; then
		cs_log "cscli machines add cscli-local failed:"
		cat "$CS_DIR/log/setup.out" >&2
		return 1
	fi
}

# cs_cscli ARGS... - cscli on CS_DIR's configuration, errors only
cs_cscli() {
	"$CS_CSCLI" --error -c "$CS_DIR/config.yaml" "$@"
}

# cs_health - the HTTP status of GET /health, "000" when nobody answers
cs_health() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$CS_URL/health" 2>/dev/null
}

# cs_move_port LOST - another free port into config.yaml and the cscli
# credentials (only for a port cs_setup picked)
cs_move_port() {
	_cs_new=$(cs_pick_port "$1") || return 1
	sed -i "s/^\(    listen_uri: 127\.0\.0\.1:\)$1\$/\1$_cs_new/" "$CS_DIR/config.yaml" &&
	    sed -i "s#^\(url: http://127\.0\.0\.1:\)$1/*\$#\1$_cs_new/#" \
	    "$CS_DIR/etc/local_api_credentials.yaml" || return 1
	if ! grep -q "^url: http://127\.0\.0\.1:$_cs_new/\$" "$CS_DIR/etc/local_api_credentials.yaml" ||
	    ! grep -q "^    listen_uri: 127\.0\.0\.1:$_cs_new\$" "$CS_DIR/config.yaml"; then
		cs_log "could not move config.yaml and the cscli credentials to port $_cs_new"
		return 1
	fi
	cs_log "port $1 was taken; moving to $_cs_new"
	CS_PORT=$_cs_new
	CS_URL=http://127.0.0.1:$CS_PORT
}

# cs_owns_port - 0 unless ss names another process than CS_PID as the
# owner of the listening socket (ss shows owners only to root or the owner)
cs_owns_port() {
	_cs_o=$(ss -Hltnp "( sport = :$CS_PORT )" 2>/dev/null)
	case "$_cs_o" in
	*"pid=$CS_PID,"*) return 0 ;;
	*pid=*) return 1 ;;
	esac
	return 0
}

# cs_start_once - one start; 0 up, 1 failed, 2 lost the port to another
cs_start_once() {
	if cs_listening "$CS_PORT"; then
		cs_log "something already listens on port $CS_PORT"
		return 2
	fi
	( cd "$CS_DIR" && exec "$CS_CROWDSEC" -c "$CS_DIR/config.yaml" -no-capi -no-cs ) \
	    >> "$CS_DIR/log/stdout.log" 2>&1 9>&- &
	CS_PID=$!
	echo "$CS_PID" > "$CS_DIR/crowdsec.pid"
	_cs_k=0
	while [ "$(cs_health)" != 200 ]; do
		_cs_k=$((_cs_k + 1))
		if cs_gone "$CS_PID" || [ $_cs_k -ge 300 ]; then
			break
		fi
		sleep 0.1
	done
	if ! cs_gone "$CS_PID" && cs_owns_port && [ "$(cs_health)" = 200 ]; then
		return 0
	fi
	if cs_gone "$CS_PID"; then
		wait "$CS_PID" 2>/dev/null
		_cs_rc=$?
		CS_PID=
		# the fatal line is the last one crowdsec wrote
		if tail -n 3 "$CS_DIR/log/crowdsec.log" "$CS_DIR/log/stdout.log" 2>/dev/null |
		    grep -q 'address already in use'; then
			cs_log "crowdsec lost port $CS_PORT to another process (exit $_cs_rc)"
			return 2
		fi
		cs_log "crowdsec exited $_cs_rc before /health answered:"
	else
		cs_log "no /health 200 from PID $CS_PID on port $CS_PORT after 30 s" \
		    "(or ss names another owner):"
		cs_kill
	fi
	tail -20 "$CS_DIR/log/crowdsec.log" "$CS_DIR/log/stdout.log" >&2 2>/dev/null
	return 1
}

# cs_start - the LAPI alone in the background; returns once GET /health
# answers 200 from our own live process, at most 30 s per try
cs_start() {
	if [ -n "$CS_PID" ] && ! cs_gone "$CS_PID"; then
		cs_log "already running as PID $CS_PID"
		return 1
	fi
	_cs_try=1
	while :; do
		cs_start_once
		case $? in
		0)
			# keep the port from now on: a restart must be found
			# where clients (mxledger's configuration) expect it
			CS_PORT_AUTO=
			return 0 ;;
		1) return 1 ;;
		esac
		if [ -z "$CS_PORT_AUTO" ] || [ $_cs_try -ge 3 ]; then
			return 1
		fi
		cs_move_port "$CS_PORT" || return 1
		_cs_try=$((_cs_try + 1))
	done
}

# cs_reap - wait for CS_PID (a child of this shell); its exit status
cs_reap() {
	wait "$CS_PID" 2>/dev/null
	_cs_rc=$?
	CS_PID=
	rm -f "$CS_DIR/crowdsec.pid"
	return $_cs_rc
}

# _cs_wait_gone PID COUNT - check every 0.1 s, at most COUNT times, that PID is gone
_cs_wait_gone() {
	_cs_k=0
	while ! cs_gone "$1"; do
		[ $_cs_k -lt "$2" ] || return 1
		sleep 0.1
		_cs_k=$((_cs_k + 1))
	done
}

# cs_stop - SIGTERM by PID, wait up to 10 s, then SIGKILL; returns
# crowdsec's exit status (0: graceful), 1 when it could not be stopped
cs_stop() {
	[ -n "$CS_PID" ] || return 0
	kill -TERM "$CS_PID" 2>/dev/null
	if ! _cs_wait_gone "$CS_PID" 100; then
		cs_log "PID $CS_PID ignored SIGTERM for 10 s; SIGKILL"
		kill -KILL "$CS_PID" 2>/dev/null
		if ! _cs_wait_gone "$CS_PID" 50; then
			cs_log "PID $CS_PID survives SIGKILL"
			return 1
		fi
	fi
	cs_reap
}

# cs_kill - SIGKILL by PID (a crash, no shutdown); 0 once it is gone
cs_kill() {
	[ -n "$CS_PID" ] || return 0
	# (stderr off: bash reports a killed job there, a test need not see it)
	if ! { kill -KILL "$CS_PID"; _cs_wait_gone "$CS_PID" 50; } 2>/dev/null; then
		cs_log "PID $CS_PID survives SIGKILL"
		return 1
	fi
	cs_reap 2>/dev/null
	return 0
}

# cs_leftovers - every live process run with CS_DIR's config.yaml, PID first
cs_leftovers() {
	[ -n "$CS_DIR" ] || return 0
	# the path goes through the environment: no ps or awk argument holds it
	ps -ww -eo pid=,stat=,args= | CS_LEFT_PAT="$CS_DIR/config.yaml" \
	    awk 'index($0, ENVIRON["CS_LEFT_PAT"]) > 0 && $2 !~ /^Z/'
}

# cs_cleanup - stop by PID, remove CS_DIR (KEEP=1 keeps it)
cs_cleanup() {
	cs_stop
	_cs_rc=$?
	[ -n "$CS_DIR" ] || return $_cs_rc
	if [ -z "${KEEP:-}" ]; then
		rm -rf "$CS_DIR"
	else
		cs_log "kept $CS_DIR"
	fi
	CS_DIR=
	return $_cs_rc
}

# cs_bouncer_add NAME - a bouncer; prints its API key (32 hex digits)
cs_bouncer_add() {
	_cs_key=$(cs_cscli bouncers add "$1" -o raw) || return 1
	if [ -z "$_cs_key" ]; then
		cs_log "cscli bouncers add $1 printed no key"
		return 1
	fi
	printf '%s\n' "$_cs_key"
}

# cs_watcher_add NAME PASSWORD - a validated machine; never touches cscli's
# own credentials (-f -), and fails if they changed all the same
cs_watcher_add() {
	_cs_cred=$CS_DIR/etc/local_api_credentials.yaml
	cp "$_cs_cred" "$CS_DIR/credentials.before" || return 1
	cs_cscli machines add "$1" --password "$2" -f - > /dev/null || return 1
	if ! cmp -s "$_cs_cred" "$CS_DIR/credentials.before"; then
		cs_log "cscli machines add $1 rewrote $_cs_cred"
		return 1
	fi
}

# cs_watcher_login NAME PASSWORD - prints the JWT of POST /v1/watchers/login
cs_watcher_login() {
	_cs_body=$(printf '{"machine_id":"%s","password":"%s"}' "$1" "$2")
	_cs_out=$(curl -s --max-time 5 -X POST -H 'Content-Type: application/json' \
	    --data-binary "$_cs_body" "$CS_URL/v1/watchers/login") || return 1
	_cs_tok=$(printf '%s\n' "$_cs_out" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
	if [ -z "$_cs_tok" ]; then
		cs_log "watcher login as $1 refused: $_cs_out"
		return 1
	fi
	printf '%s\n' "$_cs_tok"
}

# cs_decision_add ARGS... - cscli decisions add (needs the LAPI running)
cs_decision_add() {
	cs_cscli decisions add "$@" > /dev/null
}

# cs_decision_delete ARGS... - cscli decisions delete (LAPI running)
cs_decision_delete() {
	cs_cscli decisions delete "$@" > /dev/null
}

# cs_decisions_json - every active decision, any origin, as JSON alerts
cs_decisions_json() {
	cs_cscli decisions list -a -o json
}

# cs_alerts_json - every alert, any origin, with or without decisions
cs_alerts_json() {
	cs_cscli alerts list -a -o json
}

# cs_stream KEY [startup] - the decision stream as bouncer KEY; with
# "startup", every active decision (startup=true)
cs_stream() {
	_cs_q=
	[ "${2:-}" = startup ] && _cs_q='?startup=true'
	curl -s -f --max-time 5 -H "X-Api-Key: $1" "$CS_URL/v1/decisions/stream$_cs_q"
}
