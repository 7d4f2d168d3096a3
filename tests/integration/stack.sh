# NAME
#	stack.sh - a private Postfix + Dovecot + HAProxy on loopback, for tests
# SYNOPSIS
#	. "$top_srcdir/tests/integration/stack.sh"
#
#	stack_require			# SKIP (exit 77) unless the daemons are there
#	stack_init			# temp dir, free BASE, every config file
#	stack_start			# postfix, dovecot, haproxy; wait for ports
#	stack_stop			# by PID; 1 when a process is left over
#	stack_wait_tcp PORT...		# until listening (ss -Hltn), <= 20 s
#	stack_wait_unix PATH		# until a UNIX socket listens, <= 20 s
#	stack_proxy_v2_header SRC SPORT DST DPORT > FILE
#	stack_swaks OUT PORT [SWAKS-ARGS...]	# transcript to OUT, <= 60 s
#	stack_reply OUT			# swaks's last error reply, or its "250 ... queued"
#	stack_kill_wait PID SECONDS	# TERM, wait (zombies count as gone), KILL
#	elapsed T0 T1			# seconds between two `date +%s.%N`
#
#	mxl_config_head > CONF		# database, both logs, policy listeners
#	mxl_require CONF		# SKIP (77) while mxledger has no policy service
#	mxl_start CONF; mxl_stop	# `mxledger run` ($MXLEDGER), by PID
#	mxl_sql QUERY; mxl_wait_sql QUERY WANT SECONDS
# DESCRIPTION
#	Builds the stack of ../shared/notes/private-mail-stack.md in one
#	`mktemp -d` directory $STACK_DIR under $top_builddir/tests/integration,
#	listening on 127.0.0.1 only, logging to files, with no syslog and no
#	systemd, and never touching /etc/postfix, /etc/dovecot or
#	/etc/haproxy (Postfix only reads its meta_directory /etc/postfix).
#	BASE is a random port number whose twelve ports are all free;
#	STACK_P_* name them:
#
#	  STACK_P_PS_PROXY  BASE+25  postscreen, PROXY v2 upstream, hands off
#	                             to smtpd-proxy25 (postfix/smtpd-proxy25)
#	  STACK_P_PS        BASE+26  stock postscreen -> smtpd (postfix/smtpd)
#	  STACK_P_UNIXPOL   BASE+27  smtpd whose policy is the UNIX socket
#	                             (postfix/smtpd-unixpolicy)
#	  STACK_P_POLICY    BASE+40  the policy server under test (inet)
#	  STACK_POLICY_SOCK          $STACK_DIR/policy/policy.sock (UNIX)
#	  STACK_P_IMAP      BASE+43  Dovecot imap
#	  STACK_P_IMAP_PROXY BASE+44 Dovecot imap, haproxy = yes
#	  STACK_P_AUTHPOL   BASE+80  Dovecot auth-policy URL (only when
#	                             STACK_AUTH_POLICY=1 before stack_init)
#	  STACK_P_SUB       BASE+87  submission, SASL through Dovecot
#	  STACK_P_SUB_PROXY BASE+88  submission, SASL, PROXY v2 upstream
#	                             (postfix/submission-proxy)
#	  STACK_P_HA_SMTP   BASE+125 HAProxy send-proxy-v2 -> BASE+25
#	  STACK_P_HA_IMAP   BASE+144 HAProxy send-proxy-v2 -> BASE+44
#	  STACK_P_HA_SUB    BASE+188 HAProxy send-proxy-v2 -> BASE+88
#
#	Every smtpd asks the policy server at RCPT: smtpd_recipient_restrictions
#	is check_policy_service inet:127.0.0.1:BASE+40 (submission: then
#	permit_sasl_authenticated, reject), BASE+27 uses the UNIX socket. The
#	policy server must be started by the test, after stack_init (the
#	directory $STACK_DIR/policy exists, mode 0755; smtpd connects to the
#	socket as user postfix).
#
#	Logs: $STACK_MAILLOG (Postfix maillog_file, syslog-like lines) and
#	$STACK_DOVELOG (Dovecot log_path). Mail for alice@example.test (password
#	$STACK_ALICE_PW) is delivered into $STACK_DIR/mail; nothing leaves.
#
#	Readiness is read from `ss`, never probed with a connection (a probe
#	shows up in every log). stack_stop sends SIGTERM to each master by PID,
#	waits for its process group to end (a zombie counts as ended: the
#	daemons double-fork and PID 1 may reap late), kills what is left, and
#	checks the groups, the HAProxy PID and every /proc/PID/environ holding
#	MAIL_CONFIG=$STACK_DIR/postfix/etc; anything left is killed and
#	reported. KEEP=1 keeps $STACK_DIR. One stack runs at a time (flock on
#	$TMPDIR/mxledger-integration.lock, for make -j). When $STACK_DIR would
#	be too long for UNIX socket paths or not searchable by other users, it
#	is made under $TMPDIR (/tmp) instead.
#
#	Needs, as root: Debian's postfix (preseeded "No configuration":
#	echo "postfix postfix/main_mailer_type select No configuration" |
#	debconf-set-selections), dovecot-core, dovecot-imapd, haproxy, swaks,
#	python3, sqlite3, iproute2 (ss), procps (ps).
# ENVIRONMENT
#	top_builddir (default .); MXLEDGER; KEEP; STACK_AUTH_POLICY; TMPDIR.
# RETURNS
#	stack_require exits 77 with a "SKIP:" line; the others return 0 or 1
#	with a message on stderr.

STACK_ALICE_PW=alice-secret
STACK_DIR=
STACK_PF_PID=
STACK_DC_PID=
STACK_HA_PID=
# the Postfix processes do not inherit the test's TZ unless master has it
TZ=${TZ:-UTC}
export TZ

stack_log() {
	echo "stack: $*" >&2
}

# elapsed T0 T1 - seconds between two `date +%s.%N`, one decimal
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", b - a }'
}

# stack_require - SKIP (exit 77) unless root, postfix, dovecot, haproxy,
# swaks, python3, ss and ps are there
stack_require() {
	_miss=
	[ -x /usr/sbin/postfix ] && [ -x /usr/sbin/postconf ] || _miss="$_miss postfix"
	[ -x /usr/sbin/dovecot ] || _miss="$_miss dovecot-core"
	[ -x /usr/lib/dovecot/imap ] || _miss="$_miss dovecot-imapd"
	[ -x /usr/sbin/haproxy ] || _miss="$_miss haproxy"
	command -v swaks >/dev/null 2>&1 || _miss="$_miss swaks"
	command -v python3 >/dev/null 2>&1 || _miss="$_miss python3"
	command -v sqlite3 >/dev/null 2>&1 || _miss="$_miss sqlite3"
	command -v ss >/dev/null 2>&1 || _miss="$_miss iproute2"
	command -v ps >/dev/null 2>&1 || _miss="$_miss procps"
	command -v timeout >/dev/null 2>&1 || _miss="$_miss coreutils"
	if [ -n "$_miss" ]; then
		echo "SKIP: not installed:$_miss (Debian: DEBIAN_FRONTEND=noninteractive" \
		    "apt-get install$_miss, with postfix preseeded to \"No configuration\")"
		exit 77
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: the private Postfix and Dovecot need root (postfix -c DIR" \
		    "is refused to other users; Dovecot switches users)"
		exit 77
	fi
	for _u in postfix dovecot dovenull; do
		if ! id "$_u" >/dev/null 2>&1; then
			echo "SKIP: user $_u missing (the Debian packages create it)"
			exit 77
		fi
	done
}

# stack_port_used PORT - 0 when something listens on or uses PORT
stack_port_used() {
	[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
}

# stack_pick_base - a random BASE whose ports are all free, below the
# ephemeral range so that no outgoing connection takes one meanwhile
stack_pick_base() {
	_lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	_lo=${_lo:-32768}
	[ "$_lo" -gt 12000 ] || _lo=65000
	_tries=0
	while [ $_tries -lt 100 ]; do
		_tries=$((_tries + 1))
		# multiples of 200: two stacks' port sets never half overlap
		_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_b=$((10000 + 200 * (_r % ((_lo - 10200) / 200))))
		_busy=
		for _o in 25 26 27 40 43 44 80 87 88 125 144 188; do
			stack_port_used $((_b + _o)) && { _busy=1; break; }
		done
		if [ -z "$_busy" ]; then
			STACK_BASE=$_b
			return 0
		fi
	done
	stack_log "no free port range found"
	return 1
}

stack_write_postfix() {
	_pd=$STACK_DIR/postfix
	cat > "$_pd/etc/main.cf" <<EOF
# written by tests/integration/stack.sh; see private-mail-stack.md
compatibility_level = 3.6
queue_directory = $_pd/spool
data_directory = $_pd/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydomain = example.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
alias_maps =
alias_database =
biff = no
smtpd_banner = \$myhostname ESMTP test
smtpd_peername_lookup = no
maillog_file = $STACK_MAILLOG
maillog_file_prefixes = $STACK_DIR
virtual_mailbox_domains = example.test
virtual_mailbox_maps = texthash:$_pd/etc/vmailbox
virtual_mailbox_base = $STACK_DIR/mail
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
default_transport = discard:outbound mail disabled in tests
relay_transport = discard:outbound mail disabled in tests
smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$STACK_P_POLICY
unix_policy_restrictions = check_policy_service unix:$STACK_POLICY_SOCK
submission_recipient_restrictions = check_policy_service inet:127.0.0.1:$STACK_P_POLICY, permit_sasl_authenticated, reject
smtpd_policy_service_default_action = 451 4.3.5 Server configuration problem
smtpd_sasl_type = dovecot
smtpd_sasl_path = $STACK_DIR/dovecot/auth-postfix
postscreen_greet_wait = 1s
postscreen_cache_map = btree:\$data_directory/postscreen_cache
EOF
	cat > "$_pd/etc/master.cf" <<EOF
# written by tests/integration/stack.sh: loopback only, nothing chrooted
127.0.0.1:$STACK_P_PS_PROXY inet n - n - 1 postscreen
  -o syslog_name=postfix/smtpd-proxy25
  -o postscreen_upstream_proxy_protocol=haproxy
  -o postscreen_cache_map=btree:\$data_directory/postscreen_proxy25_cache
  -o smtpd_service_name=smtpd-proxy25
smtpd-proxy25 pass - - n - - smtpd
  -o syslog_name=postfix/smtpd-proxy25
127.0.0.1:$STACK_P_PS inet n - n - 1 postscreen
smtpd     pass  -  -  n  -  -  smtpd
127.0.0.1:$STACK_P_UNIXPOL inet n - n - - smtpd
  -o syslog_name=postfix/smtpd-unixpolicy
  -o smtpd_recipient_restrictions=\$unix_policy_restrictions
127.0.0.1:$STACK_P_SUB inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=\$submission_recipient_restrictions
127.0.0.1:$STACK_P_SUB_PROXY inet n - n - - smtpd
  -o syslog_name=postfix/submission-proxy
  -o smtpd_upstream_proxy_protocol=haproxy
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=\$submission_recipient_restrictions
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
	printf 'alice@example.test example.test/alice/\n' > "$_pd/etc/vmailbox"
}

stack_write_dovecot() {
	_dd=$STACK_DIR/dovecot
	_ap=
	if [ "${STACK_AUTH_POLICY:-0}" = 1 ]; then
		_ap="auth_policy_server_url = http://127.0.0.1:$STACK_P_AUTHPOL/
auth_policy_hash_nonce = test-nonce-not-secret
auth_policy_server_timeout_msecs = 2000
auth_policy_reject_on_fail = no"
	fi
	cat > "$_dd/dovecot.conf" <<EOF
# written by tests/integration/stack.sh; no include of /etc/dovecot
instance_name = mxledger-test-$STACK_BASE
base_dir = $_dd/run
state_dir = $_dd/state
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
log_path = $STACK_DOVELOG
auth_verbose = yes
auth_failure_delay = 0
auth_mechanisms = plain login
haproxy_trusted_networks = 127.0.0.0/8
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
mail_location = maildir:$STACK_DIR/mail/%d/%n
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $_dd/users
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$STACK_DIR/mail/%d/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $STACK_P_IMAP
  }
  inet_listener imap_haproxy {
    address = 127.0.0.1
    port = $STACK_P_IMAP_PROXY
    haproxy = yes
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  unix_listener $_dd/auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
$_ap
EOF
	printf 'alice@example.test:{PLAIN}%s\n' "$STACK_ALICE_PW" > "$_dd/users"
	chown root:dovecot "$_dd/users" && chmod 0640 "$_dd/users"
}

stack_write_haproxy() {
	cat > "$STACK_DIR/haproxy/haproxy.cfg" <<EOF
# written by tests/integration/stack.sh; no log line: HAProxy stays silent
global
    maxconn 256
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe_smtp
    bind 127.0.0.1:$STACK_P_HA_SMTP
    default_backend be_postscreen_proxy
frontend fe_submission
    bind 127.0.0.1:$STACK_P_HA_SUB
    default_backend be_submission_proxy
frontend fe_imap
    bind 127.0.0.1:$STACK_P_HA_IMAP
    default_backend be_imap_proxy
backend be_postscreen_proxy
    server postscreen 127.0.0.1:$STACK_P_PS_PROXY send-proxy-v2
backend be_submission_proxy
    server submission 127.0.0.1:$STACK_P_SUB_PROXY send-proxy-v2
backend be_imap_proxy
    server imap 127.0.0.1:$STACK_P_IMAP_PROXY send-proxy-v2
EOF
}

# stack_init - the directory, BASE and every configuration file
stack_init() {
	_parent=${top_builddir:-.}/tests/integration
	mkdir -p "$_parent" || return 1
	# one stack at a time (make -j): 2 cores, and no race for a BASE
	if command -v flock >/dev/null 2>&1; then
		# (outside the build tree: distcleancheck wants it empty)
		exec 9> "${TMPDIR:-/tmp}/mxledger-integration.lock"
		_w=$(date +%s.%N)
		if ! flock -w 300 9; then
			stack_log "another stack held ${TMPDIR:-/tmp}/mxledger-integration.lock for 300 s"
			return 1
		fi
		_w=$(elapsed "$_w" "$(date +%s.%N)")
		[ "${_w%.*}" -ge 1 ] && echo "# waited $_w s for another test's stack to stop"
	fi
	STACK_DIR=$(mktemp -d "$_parent/stack.XXXXXX") || return 1
	STACK_DIR=$(cd "$STACK_DIR" && pwd)
	# mktemp makes 0700: postfix, dovecot and dovenull must traverse it
	chmod 755 "$STACK_DIR"
	# UNIX socket paths hold at most 107 bytes (Dovecot's run/ names up to
	# ~30 more), and every parent must be searchable by those users: else
	# use /tmp
	if [ ${#STACK_DIR} -gt 70 ] || { command -v runuser >/dev/null 2>&1 &&
	    ! runuser -u nobody -- test -x "$STACK_DIR" 2>/dev/null; }; then
		rmdir "$STACK_DIR"
		STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mxstack.XXXXXX") || return 1
		chmod 755 "$STACK_DIR"
		stack_log "build directory too long or not reachable by other users;" \
		    "using $STACK_DIR"
	fi
	stack_pick_base || return 1
	STACK_P_PS_PROXY=$((STACK_BASE + 25))
	STACK_P_PS=$((STACK_BASE + 26))
	STACK_P_UNIXPOL=$((STACK_BASE + 27))
	STACK_P_POLICY=$((STACK_BASE + 40))
	STACK_P_IMAP=$((STACK_BASE + 43))
	STACK_P_IMAP_PROXY=$((STACK_BASE + 44))
	STACK_P_AUTHPOL=$((STACK_BASE + 80))
	STACK_P_SUB=$((STACK_BASE + 87))
	STACK_P_SUB_PROXY=$((STACK_BASE + 88))
	STACK_P_HA_SMTP=$((STACK_BASE + 125))
	STACK_P_HA_IMAP=$((STACK_BASE + 144))
	STACK_P_HA_SUB=$((STACK_BASE + 188))
	STACK_POLICY_SOCK=$STACK_DIR/policy/policy.sock
	STACK_MAILLOG=$STACK_DIR/postfix/maillog
	STACK_DOVELOG=$STACK_DIR/dovecot/dovecot.log

	mkdir -p "$STACK_DIR/postfix/etc" "$STACK_DIR/postfix/spool" \
	    "$STACK_DIR/dovecot/run" "$STACK_DIR/dovecot/state" \
	    "$STACK_DIR/haproxy" "$STACK_DIR/mail" "$STACK_DIR/policy" || return 1
	chmod 755 "$STACK_DIR/postfix" "$STACK_DIR/postfix/etc" "$STACK_DIR/postfix/spool" \
	    "$STACK_DIR/dovecot" "$STACK_DIR/policy"
	chown 65534:65534 "$STACK_DIR/mail"
	stack_write_postfix
	stack_write_dovecot
	stack_write_haproxy
}

# stack_listening_tcp PORT - 0 when a socket listens on 127.0.0.1:PORT
stack_listening_tcp() {
	[ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
}

# stack_wait_tcp PORT... - until every PORT listens, at most 20 s
stack_wait_tcp() {
	for _p in "$@"; do
		_i=0
		while ! stack_listening_tcp "$_p"; do
			_i=$((_i + 1))
			if [ $_i -gt 200 ]; then
				stack_log "nothing listens on port $_p after 20 s"
				return 1
			fi
			sleep 0.1
		done
	done
}

# stack_wait_unix PATH - until a UNIX stream socket listens on PATH, <= 20 s
stack_wait_unix() {
	_i=0
	while ! ss -Hlx 2>/dev/null | awk -v p="$1" '$5 == p { f = 1 } END { exit !f }'; do
		_i=$((_i + 1))
		if [ $_i -gt 200 ]; then
			stack_log "nothing listens on $1 after 20 s"
			return 1
		fi
		sleep 0.1
	done
}

# stack_gone PID - 0 when PID has exited (an unreaped zombie counts as gone)
stack_gone() {
	_st=$(ps -o stat= -p "$1" 2>/dev/null)
	case "$_st" in
	'' | Z*) return 0 ;;
	esac
	return 1
}

# stack_group_alive PGID - the group's members that are not zombies
stack_group_alive() {
	ps -eo pid=,pgid=,stat=,args= | awk -v g="$1" '$2 == g && $3 !~ /^Z/'
}

# stack_kill_wait PID SECONDS - SIGTERM, wait up to SECONDS, then SIGKILL
stack_kill_wait() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	_i=0
	while ! stack_gone "$1" && [ $_i -lt $(($2 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if ! stack_gone "$1"; then
		stack_log "PID $1 ignored SIGTERM for $2 s; SIGKILL"
		kill -KILL "$1" 2>/dev/null
		sleep 0.2
	fi
	stack_gone "$1"
}

# stack_group_stop PGID SECONDS - SIGTERM the leader, wait for the whole
# group, SIGKILL what is left
stack_group_stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	_i=0
	while [ -n "$(stack_group_alive "$1")" ] && [ $_i -lt $(($2 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if [ -n "$(stack_group_alive "$1")" ]; then
		stack_log "process group $1 still alive after $2 s; SIGKILL"
		kill -KILL -- "-$1" 2>/dev/null
		sleep 0.3
	fi
}

# stack_read_pid FILE - the PID in FILE, waiting up to 10 s for it to appear
stack_read_pid() {
	_i=0
	while :; do
		_pid=$(head -1 "$1" 2>/dev/null | tr -d ' \t')
		case "$_pid" in
		'' | *[!0-9]*) ;;
		*) echo "$_pid"; return 0 ;;
		esac
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		sleep 0.1
	done
}

# stack_start - postfix, dovecot, haproxy; returns when all ports listen
stack_start() {
	if ! /usr/sbin/dovecot -c "$STACK_DIR/dovecot/dovecot.conf" 9>&- 2> "$STACK_DIR/dovecot/start.err"; then
		stack_log "dovecot did not start:"
		cat "$STACK_DIR/dovecot/start.err" "$STACK_DOVELOG" >&2 2>/dev/null
		return 1
	fi
	# the daemon writes master.pid after its parent returned: wait for it
	STACK_DC_PID=$(stack_read_pid "$STACK_DIR/dovecot/run/master.pid")
	# Postfix writes errors to stderr only on a tty, else to the maillog
	if ! /usr/sbin/postfix -c "$STACK_DIR/postfix/etc" start 9>&- > "$STACK_DIR/postfix/start.out" 2>&1; then
		stack_log "postfix did not start:"
		cat "$STACK_DIR/postfix/start.out" "$STACK_MAILLOG" >&2 2>/dev/null
		return 1
	fi
	STACK_PF_PID=$(stack_read_pid "$STACK_DIR/postfix/spool/pid/master.pid")
	if ! /usr/sbin/haproxy -f "$STACK_DIR/haproxy/haproxy.cfg" -D \
	    -p "$STACK_DIR/haproxy/haproxy.pid" 9>&- > "$STACK_DIR/haproxy/start.out" 2>&1; then
		stack_log "haproxy did not start:"
		cat "$STACK_DIR/haproxy/start.out" >&2
		return 1
	fi
	STACK_HA_PID=$(stack_read_pid "$STACK_DIR/haproxy/haproxy.pid")
	if [ -z "$STACK_PF_PID" ] || [ -z "$STACK_DC_PID" ] || [ -z "$STACK_HA_PID" ]; then
		stack_log "a master PID is missing (postfix '$STACK_PF_PID'," \
		    "dovecot '$STACK_DC_PID', haproxy '$STACK_HA_PID')"
		return 1
	fi
	stack_wait_tcp "$STACK_P_PS_PROXY" "$STACK_P_PS" "$STACK_P_UNIXPOL" \
	    "$STACK_P_SUB" "$STACK_P_SUB_PROXY" "$STACK_P_IMAP" "$STACK_P_IMAP_PROXY" \
	    "$STACK_P_HA_SMTP" "$STACK_P_HA_IMAP" "$STACK_P_HA_SUB" || return 1
	[ -S "$STACK_DIR/dovecot/auth-postfix" ] || {
		stack_log "Dovecot's SASL socket for Postfix is missing"
		return 1
	}
}

# stack_leftovers - every process of the stack still running, PID first
stack_leftovers() {
	[ -n "$STACK_PF_PID" ] && stack_group_alive "$STACK_PF_PID"
	[ -n "$STACK_DC_PID" ] && stack_group_alive "$STACK_DC_PID"
	[ -n "$STACK_HA_PID" ] && ! stack_gone "$STACK_HA_PID" && echo "$STACK_HA_PID haproxy"
	[ -n "$STACK_DIR" ] && grep -l -s -a "MAIL_CONFIG=$STACK_DIR/postfix/etc" \
	    /proc/[0-9]*/environ 2>/dev/null | while read -r _f; do
		_p=${_f#/proc/}
		_p=${_p%/environ}
		stack_gone "$_p" || echo "$_p a Postfix process (MAIL_CONFIG)"
	done
	return 0
}

# stack_stop - every daemon by PID; 1 (and a list) when something is left
stack_stop() {
	[ -n "$STACK_DIR" ] || return 0
	# a start that failed half-way may have left PID files only
	[ -n "$STACK_PF_PID" ] || STACK_PF_PID=$(head -1 "$STACK_DIR/postfix/spool/pid/master.pid" \
	    2>/dev/null | tr -d ' ')
	[ -n "$STACK_DC_PID" ] || STACK_DC_PID=$(cat "$STACK_DIR/dovecot/run/master.pid" 2>/dev/null)
	[ -n "$STACK_HA_PID" ] || STACK_HA_PID=$(head -1 "$STACK_DIR/haproxy/haproxy.pid" 2>/dev/null)
	if [ -n "$STACK_HA_PID" ]; then
		stack_kill_wait "$STACK_HA_PID" 5
	fi
	stack_group_stop "$STACK_PF_PID" 10
	stack_group_stop "$STACK_DC_PID" 10
	_left=$(stack_leftovers)
	_rc=0
	if [ -n "$_left" ]; then
		stack_log "processes left over (now killed):"
		echo "$_left" >&2
		echo "$_left" | awk '$1 ~ /^[0-9]+$/ { print $1 }' |
		    sort -u | while read -r _p; do
			kill -KILL "$_p" 2>/dev/null
		done
		_rc=1
	fi
	STACK_PF_PID= STACK_DC_PID= STACK_HA_PID=
	if [ -z "${KEEP:-}" ]; then
		rm -rf "$STACK_DIR"
	else
		stack_log "kept $STACK_DIR"
	fi
	STACK_DIR=
	return $_rc
}

# stack_proxy_v2_header SRC SPORT DST DPORT - a PROXY protocol v2 header
# (PROXY command, TCP over IPv4) claiming the client SRC:SPORT, to stdout
stack_proxy_v2_header() {
	python3 - "$@" <<'EOF'
import socket, struct, sys
src, sport, dst, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
sig = b"\r\n\r\n\x00\r\nQUIT\n"
addrs = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
sys.stdout.buffer.write(sig + bytes([0x21, 0x11]) + struct.pack("!H", len(addrs)) + addrs)
EOF
}

# stack_swaks OUT PORT [ARGS...] - one message to alice@example.test,
# transcript in OUT; swaks's exit status (0 delivered, 24/25 refused, ...)
stack_swaks() {
	_out=$1
	_port=$2
	shift 2
	timeout 60 swaks --server "127.0.0.1:$_port" --timeout 30 \
	    --from sender@example.org --to alice@example.test --helo client.example.org \
	    "$@" > "$_out" 2>&1
}

# stack_reply OUT - the last error reply swaks printed ("<** 450 ..."), or
# the reply to DATA's end when there was none
stack_reply() {
	_r=$(sed -n 's/^ *<\*\* //p' "$1" | tail -1)
	if [ -z "$_r" ]; then
		_r=$(sed -n 's/^ *<- *\(250 2\.0\.0 Ok: queued.*\)/\1/p' "$1" | tail -1)
	fi
	printf '%s\n' "$_r"
}

# ------------------------------------------------- mxledger as the policy
# MXL_CONF, MXL_DB, MXL_LOG live in $STACK_DIR/mx; MXL_PID is `mxledger run`.
MXL_PID=

# mxl_config_head - the part of mxledger.conf every integration test shares:
# the database, both private logs from their beginning, the policy service
# on STACK_P_POLICY and STACK_POLICY_SOCK (owner postfix: smtpd connects as
# postfix). Rules follow it.
mxl_config_head() {
	cat <<EOF2
database "$STACK_DIR/mx/mxledger.db"
batch-interval 100ms
input file "$STACK_MAILLOG" {
	envelope syslog
	start-at beginning
}
input file "$STACK_DOVELOG" {
	envelope dovecot
	start-at beginning
}
policy {
	listen inet "127.0.0.1:$STACK_P_POLICY"
	listen unix "$STACK_POLICY_SOCK" {
		owner postfix
		group postfix
		mode 0660
	}
}
EOF2
}

# mxl_require CONF - SKIP (exit 77) while mxledger has no policy service:
# not built, or its configuration parser does not know `policy`/`rule`.
# Any other refusal of CONF is a failure (exit 1), not a skip.
mxl_require() {
	if [ ! -x "$MXLEDGER" ]; then
		echo "SKIP: $MXLEDGER not built"
		exit 77
	fi
	_out=$("$MXLEDGER" check-config --config "$1" 2>&1)
	_rc=$?
	if [ $_rc -ne 0 ]; then
		if printf '%s\n' "$_out" | grep -q 'unknown keyword "\(policy\|rule\)"'; then
			echo "SKIP: policy server not built yet (check-config: $(printf '%s\n' "$_out" |
			    grep -m1 'unknown keyword'))"
			exit 77
		fi
		echo "FAIL: mxledger check-config refuses the test configuration (exit $_rc):"
		printf '%s\n' "$_out" | sed 's/^/# /'
		sed 's/^/# conf: /' "$1"
		exit 1
	fi
}

# mxl_start CONF - `mxledger run` in the background; returns once both
# policy sockets listen (ss, no probe), at most 20 s
mxl_start() {
	mkdir -p "$STACK_DIR/mx"
	MXL_LOG=$STACK_DIR/mx/run.log
	MXL_DB=$STACK_DIR/mx/mxledger.db
	"$MXLEDGER" run --config "$1" >> "$MXL_LOG" 2>&1 9>&- &
	MXL_PID=$!
	_i=0
	while ! stack_listening_tcp "$STACK_P_POLICY" ||
	    ! ss -Hlx 2>/dev/null | awk -v p="$STACK_POLICY_SOCK" '$5 == p { f = 1 } END { exit !f }'; do
		_i=$((_i + 1))
		if ! kill -0 "$MXL_PID" 2>/dev/null || [ $_i -gt 200 ]; then
			stack_log "mxledger run did not open its policy sockets:"
			tail -20 "$MXL_LOG" >&2
			return 1
		fi
		sleep 0.1
	done
}

# mxl_stop - SIGTERM, wait (<= 15 s, then SIGKILL); 0 when it exited 0
mxl_stop() {
	[ -n "$MXL_PID" ] || return 0
	kill -TERM "$MXL_PID" 2>/dev/null
	_i=0
	while kill -0 "$MXL_PID" 2>/dev/null && ! stack_gone "$MXL_PID" && [ $_i -lt 150 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if ! stack_gone "$MXL_PID"; then
		stack_log "mxledger ignored SIGTERM for 15 s; SIGKILL"
		kill -KILL "$MXL_PID" 2>/dev/null
	fi
	wait "$MXL_PID"
	_rc=$?
	MXL_PID=
	return $_rc
}

# mxl_sql QUERY - run QUERY on the database (read while the daemon writes)
mxl_sql() {
	sqlite3 -batch -cmd ".timeout 5000" "$MXL_DB" "$1" 2>&1
}

# mxl_wait_sql QUERY WANT SECONDS - until QUERY prints WANT; 1 on timeout
mxl_wait_sql() {
	_i=0
	while [ "$(mxl_sql "$1")" != "$2" ]; do
		_i=$((_i + 1))
		[ $_i -gt $(($3 * 10)) ] && return 1
		sleep 0.1
	done
}
