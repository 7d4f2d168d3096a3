#!/bin/sh
# NAME
#	dovecot_auth_policy.sh - a real Dovecot asks mxledger before it checks a password
# SYNOPSIS
#	MXLEDGER=./mxledger top_srcdir=. top_builddir=. sh tests/integration/dovecot_auth_policy.sh
# DESCRIPTION
#	Builds the private stack of stack.sh with Dovecot's
#	auth_policy_server_url pointing at `mxledger run`'s auth-policy
#	listener (STACK_AUTH_POLICY=1) and the rule
#
#	  rule auth-bruteforce {
#		protocol_state AUTH
#		history auth_failures by client_address >= 3 per 15m
#		action REJECT "too many failed logins"
#	  }
#
#	mxledger reads Postfix's and Dovecot's logs (auth_verbose = yes: one
#	auth line per failed attempt) and counts Dovecot's reports too: every
#	failed attempt is then told up to three times (report, Dovecot's auth
#	line, smtpd's SASL warning) and must count once. Clients claim documentation
#	addresses in PROXY v2 headers (one address per scenario: Dovecot's own
#	per-address penalty makes each later attempt wait seconds, so the
#	three scenarios run at the same time), one attempt per connection:
#
#	  203.0.113.30  IMAP: 3 wrong passwords, then the RIGHT one -> refused;
#	                Dovecot logged 3 password mismatches, not 4: the 4th
#	                attempt was refused before the password was looked at
#	  203.0.113.31  IMAP: 2 wrong, then the right one -> logged in (2 < 3)
#	  203.0.113.32  SMTP AUTH (submission, Dovecot SASL): 2 wrong -> IMAP
#	                with the right password logs in (each SMTP failure,
#	                reported by Dovecot and logged by smtpd, counted once:
#	                2 < 3); 1 wrong IMAP -> the right one is refused (3)
#
#	and the decisions table holds exactly one refusal for .30 and .32.
# ENVIRONMENT
#	MXLEDGER, top_srcdir, top_builddir; KEEP=1 keeps the stack directory.
# RETURNS
#	0 pass, 1 fail, 77 skip (Dovecot or the rest of the stack not
#	installed, not root, or mxledger without its policy service).

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MXLEDGER=${MXLEDGER:-$top_builddir/mxledger}
TZ=UTC
export TZ
unset JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC

if [ ! -x /usr/sbin/dovecot ]; then
	echo "SKIP: dovecot is not installed"
	exit 77
fi
STACK_AUTH_POLICY=1
. "$top_srcdir/tests/integration/stack.sh"
stack_require

. "$top_srcdir/tests/tap.sh"
diagnose() {
	[ $fails -ne 0 ] && [ -n "$STACK_DIR" ] || return 0
	for f in "$STACK_DIR/mx/run.log" "$STACK_MAILLOG" "$STACK_DOVELOG"; do
		[ -f "$f" ] || continue
		echo "# --- tail of $f"
		tail -40 "$f" | sed 's/^/# /'
	done
}
CLIENT_PIDS=
cleanup() {
	trap - EXIT INT TERM
	diagnose
	for p in $CLIENT_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	mxl_stop >/dev/null 2>&1
	stack_stop
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=$(date +%s)
stack_init || exit 1
mkdir -p "$STACK_DIR/mx"
CONF=$STACK_DIR/mx/mxledger.conf
{
	mxl_config_head
	cat <<EOF
auth-policy {
	listen "127.0.0.1:$STACK_P_AUTHPOL"
}
rule auth-bruteforce {
	protocol_state AUTH
	history auth_failures by client_address >= 3 per 15m
	action REJECT "too many failed logins"
}
EOF
} > "$CONF"
mxl_require "$CONF"
stack_start || exit 1
mxl_start "$CONF" || exit 1
if ! stack_wait_tcp "$STACK_P_AUTHPOL"; then
	notok "mxledger run listens for Dovecot on 127.0.0.1:$STACK_P_AUTHPOL"
	exit 1
fi
ok "mxledger run listens for Dovecot on 127.0.0.1:$STACK_P_AUTHPOL"
echo "# stack and mxledger up in $(($(date +%s) - t0)) s (BASE $STACK_BASE, $STACK_DIR)"

# client ADDRESS STEP... - one connection per step, claiming ADDRESS in a
# PROXY v2 header; steps: imap-bad imap-good smtp-bad. Prints one word per
# step: NO/OK (IMAP LOGIN), the SMTP AUTH reply code.
client() {
	timeout 150 python3 - "$STACK_P_IMAP_PROXY" "$STACK_P_SUB_PROXY" "$STACK_ALICE_PW" "$@" \
	    <<'EOF'
import base64, imaplib, smtplib, socket, struct, sys

imap_port, smtp_port, good = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
address, steps = sys.argv[4], sys.argv[5:]
user = "alice@example.test"

def header(sport, dport):
    addrs = socket.inet_aton(address) + socket.inet_aton("127.0.0.1")
    addrs += struct.pack("!HH", sport, dport)
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(addrs)) + addrs

class IMAP(imaplib.IMAP4):
    def _create_socket(self, timeout):
        s = socket.create_connection((self.host, self.port), timeout)
        s.sendall(header(41000 + len(out), 143))
        return s

class SMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        s = socket.create_connection((host, port), timeout)
        s.sendall(header(42000 + len(out), 587))
        return s

out = []
for step in steps:
    if step.startswith("imap"):
        c = IMAP("127.0.0.1", imap_port, timeout=60)
        try:
            c.login(user, good if step == "imap-good" else "wrong-password")
            out.append("OK")
        except imaplib.IMAP4.error:
            out.append("NO")
        try:
            c.logout()
        except Exception:
            pass
    else:
        c = SMTP("127.0.0.1", smtp_port, timeout=60)
        c.ehlo("client.example.org")
        secret = base64.b64encode(("\0%s\0wrong-password" % user).encode()).decode()
        code, _ = c.docmd("AUTH", "PLAIN " + secret)
        out.append(str(code))
        c.quit()
print(" ".join(out))
EOF
}

t1=$(date +%s)
client 203.0.113.30 imap-bad imap-bad imap-bad imap-good > "$STACK_DIR/client.30" 2>&1 &
CLIENT_PIDS="$!"
client 203.0.113.31 imap-bad imap-bad imap-good > "$STACK_DIR/client.31" 2>&1 &
CLIENT_PIDS="$CLIENT_PIDS $!"
client 203.0.113.32 smtp-bad smtp-bad imap-good imap-bad imap-good \
    > "$STACK_DIR/client.32" 2>&1 &
CLIENT_PIDS="$CLIENT_PIDS $!"
for p in $CLIENT_PIDS; do
	wait "$p"
done
CLIENT_PIDS=
echo "# the clients took $(($(date +%s) - t1)) s"

same "203.0.113.30: three wrong passwords, then the right one is refused" \
    "$(cat "$STACK_DIR/client.30")" "NO NO NO NO"
same "203.0.113.31: two wrong passwords, then the right one logs in" \
    "$(cat "$STACK_DIR/client.31")" "NO NO OK"
same "203.0.113.32: two SMTP AUTH failures leave IMAP open, a third failure closes it" \
    "$(cat "$STACK_DIR/client.32")" "535 535 OK NO NO"

# Dovecot's own account of it (auth_verbose = yes)
mismatches() { grep -c "passwd-file(alice@example.test,$1[,)].*Password mismatch" "$STACK_DOVELOG"; }
refusals() { grep -c "$1.*Authentication failure due to policy server refusal: too many failed logins" \
    "$STACK_DOVELOG"; }
same "Dovecot checked 203.0.113.30's password 3 times and refused the 4th attempt unchecked" \
    "$(mismatches 203.0.113.30) $(refusals 203.0.113.30)" "3 1"
same "Dovecot refused nothing of 203.0.113.31" "$(refusals 203.0.113.31)" "0"
same "Dovecot checked 203.0.113.32's password 3 times (2 SMTP, 1 IMAP) and refused once" \
    "$(mismatches 203.0.113.32) $(refusals 203.0.113.32)" "3 1"

if mxl_wait_sql "SELECT count(*) FROM decisions" 2 15; then
	ok "two decisions stored"
else
	notok "two decisions stored: $(mxl_sql 'SELECT count(*) FROM decisions')"
fi
same "the decisions name the rule, the request, the client and the login tried" \
    "$(mxl_sql "SELECT rule, action, dry_run, request, protocol_state, client_address,
	coalesce(sasl_username, '') FROM decisions ORDER BY client_address")" \
    "$(printf '%s\n' \
    'auth-bruteforce|REJECT too many failed logins|0|dovecot_auth_policy|AUTH|203.0.113.30|alice@example.test' \
    'auth-bruteforce|REJECT too many failed logins|0|dovecot_auth_policy|AUTH|203.0.113.32|alice@example.test')"

if mxl_stop; then ok "mxledger run exits 0 on SIGTERM"; else notok "mxledger run exits 0 on SIGTERM"; fi
tap_end dovecot_auth_policy
