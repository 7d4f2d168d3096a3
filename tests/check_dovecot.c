/*
 * NAME
 *	check_dovecot - Dovecot login and auth lines in, exact events out
 * DESCRIPTION
 *	One table of log messages as dovecot_parse() receives them (program
 *	name + message, built by tst_record() as envelope.c and program.c
 *	would), each with the complete event it must give, or none. Every
 *	field the parsers set is compared; NULL means "must stay unset".
 *	Shapes follow the real-run corpus and the peers' samples, rewritten
 *	to documentation addresses. A second test runs hostile lines and
 *	bounds their run time; a third goes through the whole dispatch from
 *	a raw line.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parser.h"
#include "testutil.h"

struct dcase {
	const char *name, *program, *msg;
	int want;			/* 1 event, 0 none */
	enum mx_event_kind kind;
	const char *listener, *ip, *sip, *user, *method;
	int attempts;
	const char *session, *reason;
	unsigned port, sport;
};

#define SESS	"Z/2VKdRgsbvLAHGL"
#define SESS2	"+tibKdRgV0/LAHHc"

static const struct dcase cases[] = {
	/* ---- login processes: successful logins */
	{ .name = "a 2.3 Login line from syslog is a successful login with every element",
	  .program = "dovecot",
	  .msg = "imap-login: Login: user=<grace@example.net>, method=PLAIN, rip=203.0.113.139, "
		 "lip=198.51.100.25, mpid=32143, TLS, session=<" SESS ">",
	  .want = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "imap-login",
	  .ip = "203.0.113.139", .sip = "198.51.100.25", .user = "grace@example.net",
	  .method = "PLAIN", .session = SESS },
	{ .name = "stderr captured by journald keeps the Info: word after the service",
	  .program = "dovecot",
	  .msg = "pop3-login: Info: Login: user=<test@example.net>, method=PLAIN, "
		 "rip=192.0.2.17, lip=192.0.2.2, mpid=18, TLS, session=<PeYcgjjOGOisEQAB>",
	  .want = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "pop3-login",
	  .ip = "192.0.2.17", .sip = "192.0.2.2", .user = "test@example.net",
	  .method = "PLAIN", .session = "PeYcgjjOGOisEQAB" },
	{ .name = "a log_path file names the service as the program and keeps Info:",
	  .program = "imap-login",
	  .msg = "Info: Login: user=<frank@example.net>, method=PLAIN, rip=192.0.2.191, "
		 "lip=198.51.100.1, mpid=32314, session=<AjpPK9RgM63AAAK/>",
	  .want = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "imap-login",
	  .ip = "192.0.2.191", .sip = "198.51.100.1", .user = "frank@example.net",
	  .method = "PLAIN", .session = "AjpPK9RgM63AAAK/" },
	{ .name = "Dovecot 2.4 writes a successful login as Logged in",
	  .program = "dovecot",
	  .msg = "submission-login: Logged in: user=<heidi@example.net>, method=SCRAM-SHA-256, "
		 "rip=198.51.100.77, lip=203.0.113.254, mpid=4100, TLS, "
		 "session=<hQk2Lk1a2MPAqGRN>",
	  .want = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "submission-login",
	  .ip = "198.51.100.77", .sip = "203.0.113.254", .user = "heidi@example.net",
	  .method = "SCRAM-SHA-256", .session = "hQk2Lk1a2MPAqGRN" },
	{ .name = "rport and lport elements, when configured, become the ports",
	  .program = "dovecot",
	  .msg = "imap-login: Login: user=<alice>, method=PLAIN, rip=192.0.2.10, rport=50123, "
		 "lip=198.51.100.1, lport=993, mpid=77, TLS, session=<AAAAAAAAAAAAAAAA>",
	  .want = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "imap-login",
	  .ip = "192.0.2.10", .sip = "198.51.100.1", .user = "alice", .method = "PLAIN",
	  .session = "AAAAAAAAAAAAAAAA", .port = 50123, .sport = 993 },
	{ .name = "an IPv6 rip is stored in canonical form",
	  .program = "dovecot",
	  .msg = "imap-login: Login: user=<bob>, method=PLAIN, rip=2001:DB8:0:0::7, "
		 "lip=2001:db8:b::25, mpid=9, TLS, session=<FdhyKtRgQd4AAAAAAAAAAAAAAAAAAAAB>",
	  .want = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "imap-login",
	  .ip = "2001:db8::7", .sip = "2001:db8:b::25", .user = "bob", .method = "PLAIN",
	  .session = "FdhyKtRgQd4AAAAAAAAAAAAAAAAAAAAB" },
	{ .name = "IPv4-mapped rip and lip (HAProxy mixing families) are plain IPv4",
	  .program = "dovecot",
	  .msg = "imap-login: Login: user=<bob>, method=LOGIN, rip=::ffff:192.0.2.44, "
		 "lip=::ffff:127.0.0.1, mpid=10, TLS, session=<xPZ2KtRg6KjLAHHz>",
	  .want = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "imap-login",
	  .ip = "192.0.2.44", .sip = "127.0.0.1", .user = "bob", .method = "LOGIN",
	  .session = "xPZ2KtRg6KjLAHHz" },
	{ .name = "a login behind a Dovecot proxy is the started proxying line",
	  .program = "dovecot",
	  .msg = "imap-login: proxy(alice@example.net): started proxying to 198.51.100.7:143: "
		 "user=<alice@example.net>, method=PLAIN, rip=192.0.2.31, lip=198.51.100.1, "
		 "TLS, session=<Yx7+W8+IoAAAAAAA>",
	  .want = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "imap-login",
	  .ip = "192.0.2.31", .sip = "198.51.100.1", .user = "alice@example.net",
	  .method = "PLAIN", .session = "Yx7+W8+IoAAAAAAA" },

	/* ---- login processes: failed sessions */
	{ .name = "auth failed with attempts and seconds after logging out",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected: Aborted login by logging out (auth failed, 3 attempts "
		 "in 13 secs): user=<frank@example.net>, method=PLAIN, rip=192.0.2.136, "
		 "lip=203.0.113.254, TLS, session=<7CoSJtRg/9fAAAKI>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "192.0.2.136", .sip = "203.0.113.254", .user = "frank@example.net",
	  .method = "PLAIN", .attempts = 3, .session = "7CoSJtRg/9fAAAKI",
	  .reason = "auth failed, 3 attempts in 13 secs" },
	{ .name = "auth failed after the connection closed, TLS element with an error",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected: Connection closed (auth failed, 2 attempts in "
		 "13 secs): user=<root@example.net>, method=PLAIN, rip=203.0.113.155, "
		 "lip=203.0.113.254, TLS: Connection closed, session=<sss4LNRg6MPLAHGb>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "203.0.113.155", .sip = "203.0.113.254", .user = "root@example.net",
	  .method = "PLAIN", .attempts = 2, .session = "sss4LNRg6MPLAHGb",
	  .reason = "auth failed, 2 attempts in 13 secs" },
	{ .name = "Dovecot 2.2 Aborted login has no seconds and no session",
	  .program = "imap-login",
	  .msg = "Info: Aborted login (auth failed, 1 attempts): user=<martin@example.org>, "
		 "method=CRAM-MD5, rip=198.51.100.33, lip=203.0.113.240, TLS",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "198.51.100.33", .sip = "203.0.113.240", .user = "martin@example.org",
	  .method = "CRAM-MD5", .attempts = 1, .reason = "auth failed, 1 attempts" },
	{ .name = "an old line without the user element still names method and client",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected (auth failed, 2 attempts): method=PLAIN, "
		 "rip=198.51.100.100, lip=203.0.113.194, TLS: Disconnected",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "198.51.100.100", .sip = "203.0.113.194", .method = "PLAIN", .attempts = 2,
	  .reason = "auth failed, 2 attempts" },
	{ .name = "an I/O error before the extra reason does not hide the failure",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected: Connection closed: read(size=1003) failed: Connection "
		 "reset by peer (auth failed, 1 attempts in 0 secs): user=<test@example.com>, "
		 "rip=192.0.2.4, lip=127.0.0.19, session=<Lsz0Oo7WXti3b7xe>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "192.0.2.4", .sip = "127.0.0.19", .user = "test@example.com", .attempts = 1,
	  .session = "Lsz0Oo7WXti3b7xe", .reason = "auth failed, 1 attempts in 0 secs" },
	{ .name = "pop3-login doubles Disconnected: and still counts two attempts",
	  .program = "dovecot",
	  .msg = "pop3-login: Info: Disconnected: Disconnected: Too many bad commands (auth "
		 "failed, 2 attempts in 0 secs): user=<test@example.net>, rip=192.0.2.81, "
		 "lip=192.0.2.2, session=<02qW3CnO5tWsEQAB>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "pop3-login",
	  .ip = "192.0.2.81", .sip = "192.0.2.2", .user = "test@example.net", .attempts = 2,
	  .session = "02qW3CnO5tWsEQAB", .reason = "auth failed, 2 attempts in 0 secs" },
	{ .name = "Dovecot 2.4 Login aborted drops the machine reason",
	  .program = "dovecot",
	  .msg = "imap-login: Login aborted: Connection closed (auth failed, 3 attempts in "
		 "16 secs) (auth_failed): user=<test>, method=PLAIN, rip=192.0.2.241, "
		 "lip=203.0.113.104, TLS, session=<9ZHq02g3J8S60fan>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "192.0.2.241", .sip = "203.0.113.104", .user = "test", .method = "PLAIN",
	  .attempts = 3, .session = "9ZHq02g3J8S60fan",
	  .reason = "auth failed, 3 attempts in 16 secs" },
	{ .name = "managesieve-login 2.4 Logged out after one failed attempt",
	  .program = "dovecot",
	  .msg = "managesieve-login: Login aborted: Logged out (auth failed, 1 attempts in "
		 "10 secs) (auth_failed): user=<user@example.org>, method=PLAIN, rip=192.0.2.242, "
		 "lip=203.0.113.104, TLS, session=<Dp8j1Ho3suQYdo+k>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "managesieve-login",
	  .ip = "192.0.2.242", .sip = "203.0.113.104", .user = "user@example.org",
	  .method = "PLAIN", .attempts = 1, .session = "Dp8j1Ho3suQYdo+k",
	  .reason = "auth failed, 1 attempts in 10 secs" },
	{ .name = "submission-login up to 2.3.15: Client has quit the connection",
	  .program = "dovecot",
	  .msg = "submission-login: Client has quit the connection (auth failed, 1 attempts in "
		 "2 secs): user=<user1>, method=LOGIN, rip=192.0.2.133, lip=0.0.0.0",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "submission-login",
	  .ip = "192.0.2.133", .sip = "0.0.0.0", .user = "user1", .method = "LOGIN",
	  .attempts = 1, .reason = "auth failed, 1 attempts in 2 secs" },
	{ .name = "submission-login: Remote closed connection",
	  .program = "dovecot",
	  .msg = "submission-login: Remote closed connection (auth failed, 1 attempts in 2 secs): "
		 "user=<user4>, method=PLAIN, rip=192.0.2.169, lip=0.0.0.0",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "submission-login",
	  .ip = "192.0.2.169", .sip = "0.0.0.0", .user = "user4", .method = "PLAIN",
	  .attempts = 1, .reason = "auth failed, 1 attempts in 2 secs" },
	{ .name = "disallowed plaintext auth counts as one failed attempt",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected: Too many invalid commands (tried to use disallowed "
		 "plaintext auth): user=<test>, rip=192.0.2.1, lip=192.0.2.254, "
		 "session=<S5dIdTFCDKUWWMbU>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "192.0.2.1", .sip = "192.0.2.254", .user = "test", .attempts = 1,
	  .session = "S5dIdTFCDKUWWMbU", .reason = "tried to use disallowed plaintext auth" },
	{ .name = "the older disabled plaintext wording, without any user element",
	  .program = "dovecot",
	  .msg = "pop3-login: Aborted login (tried to use disabled plaintext auth): "
		 "rip=198.51.100.21, lip=203.0.113.193",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "pop3-login",
	  .ip = "198.51.100.21", .sip = "203.0.113.193", .attempts = 1,
	  .reason = "tried to use disabled plaintext auth" },
	{ .name = "2.4 cleartext refusal states its attempts",
	  .program = "dovecot",
	  .msg = "imap-login: Login aborted: Connection closed (tried to use disallowed cleartext "
		 "auth, 2 attempts in 3 secs) (cleartext_auth_disabled): user=<eve>, "
		 "rip=203.0.113.50, lip=203.0.113.254, session=<Q23ybvY8RLSkXGoP>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "203.0.113.50", .sip = "203.0.113.254", .user = "eve", .attempts = 2,
	  .session = "Q23ybvY8RLSkXGoP",
	  .reason = "tried to use disallowed cleartext auth, 2 attempts in 3 secs" },
	{ .name = "a refused proxy destination login counts as one failed attempt",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected (proxy dest auth failed): user=<rt@example.com>, "
		 "method=PLAIN, rip=192.0.2.4, lip=192.0.2.2, session=<NTI4FiZxcQCSud4G>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "192.0.2.4", .sip = "192.0.2.2", .user = "rt@example.com", .method = "PLAIN",
	  .attempts = 1, .session = "NTI4FiZxcQCSud4G", .reason = "proxy dest auth failed" },
	{ .name = "an anonymised sample without element separators still gives the client",
	  .program = "imap-login",
	  .msg = "Aborted login (auth failed, 6 attempts): XYZ rip=2001:db8::a11:beef:7ac0, "
		 "lip=127.0.0.1",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "2001:db8::a11:beef:7ac0", .sip = "127.0.0.1", .attempts = 6,
	  .reason = "auth failed, 6 attempts" },
	{ .name = "the a: a: probe with a disallowed-auth reason is a failure, as fail2ban says",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected: a: a: a: a: a: a: a: a: a: a: a: a: (reason: some "
		 "unknown reason) (tried to use disallowed test auth): user=<>, rip=192.0.2.111",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "192.0.2.111", .attempts = 1, .reason = "tried to use disallowed test auth" },

	/* ---- login processes: sessions without a failed credential */
	{ .name = "no auth attempts is a disconnect, not a failure",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected: Connection closed (no auth attempts in 0 secs): "
		 "user=<>, rip=192.0.2.167, lip=203.0.113.254, session=<gZ4sKdRgDdt/AAAK>",
	  .want = 1, .kind = MX_EVENT_DISCONNECT, .listener = "imap-login",
	  .ip = "192.0.2.167", .sip = "203.0.113.254", .session = "gZ4sKdRgDdt/AAAK",
	  .reason = "no auth attempts in 0 secs" },
	{ .name = "a TLS handshake failure is a disconnect with the extra reason",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected: Connection closed: SSL_accept() failed: "
		 "error:1408F10B:SSL routines:ssl3_get_record:wrong version number (no auth "
		 "attempts in 0 secs): user=<>, rip=192.0.2.5, lip=127.0.0.1, TLS handshaking: "
		 "SSL_accept() failed: error:1408F10B:SSL routines:ssl3_get_record:wrong version "
		 "number",
	  .want = 1, .kind = MX_EVENT_DISCONNECT, .listener = "imap-login",
	  .ip = "192.0.2.5", .sip = "127.0.0.1", .reason = "no auth attempts in 0 secs" },
	{ .name = "2.4 disconnect during the TLS handshake",
	  .program = "dovecot",
	  .msg = "imap-login: Login aborted: Connection closed: SSL_accept() failed: "
		 "error:0A0000C1:SSL routines::no shared cipher (disconnected during TLS "
		 "handshake) (tls_handshake_not_finished): user=<>, rip=192.0.2.7, lip=192.0.2.1, "
		 "TLS handshaking: SSL_accept() failed: error:0A0000C1:SSL routines::no shared "
		 "cipher, session=<J5HwbvY8QrSkXGoP>",
	  .want = 1, .kind = MX_EVENT_DISCONNECT, .listener = "imap-login",
	  .ip = "192.0.2.7", .sip = "192.0.2.1", .session = "J5HwbvY8QrSkXGoP",
	  .reason = "disconnected during TLS handshake" },
	{ .name = "a client that did not finish SASL is a disconnect keeping the method",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected (client didn't finish SASL auth, waited 2 secs): "
		 "user=<>, method=PLAIN, rip=192.0.2.6, lip=192.0.2.2, TLS: SSL_read() syscall "
		 "failed: Connection reset by peer",
	  .want = 1, .kind = MX_EVENT_DISCONNECT, .listener = "imap-login",
	  .ip = "192.0.2.6", .sip = "192.0.2.2", .method = "PLAIN",
	  .reason = "client didn't finish SASL auth, waited 2 secs" },
	{ .name = "a disconnect before auth was ready is not a failure",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected (disconnected before auth was ready, waited 0 secs): "
		 "user=<>, rip=192.0.2.5, lip=192.0.2.2, TLS handshaking: SSL_accept() syscall "
		 "failed: Connection reset by peer",
	  .want = 1, .kind = MX_EVENT_DISCONNECT, .listener = "imap-login",
	  .ip = "192.0.2.5", .sip = "192.0.2.2",
	  .reason = "disconnected before auth was ready, waited 0 secs" },
	{ .name = "authorization failed after a good password is not a credential failure",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected: Connection closed (authorization failed, 1 "
		 "attempts in 0 secs): user=<carol>, method=PLAIN, rip=198.51.100.60, "
		 "lip=198.51.100.1, TLS, session=<O+JdKtRgS6B/AAAK>",
	  .want = 1, .kind = MX_EVENT_DISCONNECT, .listener = "imap-login",
	  .ip = "198.51.100.60", .sip = "198.51.100.1", .user = "carol", .method = "PLAIN",
	  .session = "O+JdKtRgS6B/AAAK", .reason = "authorization failed, 1 attempts in 0 secs" },
	{ .name = "too many connections after login is a disconnect with the whole message",
	  .program = "dovecot",
	  .msg = "imap-login: Maximum number of connections from user+IP exceeded "
		 "(mail_max_userip_connections=10): user=<dave>, method=PLAIN, rip=192.0.2.90, "
		 "lip=192.0.2.2, mpid=0, TLS, session=<CpJSK9Rgk71/AAAK>",
	  .want = 1, .kind = MX_EVENT_DISCONNECT, .listener = "imap-login",
	  .ip = "192.0.2.90", .sip = "192.0.2.2", .user = "dave", .method = "PLAIN",
	  .session = "CpJSK9Rgk71/AAAK",
	  .reason = "Maximum number of connections from user+IP exceeded "
		    "(mail_max_userip_connections=10)" },
	{ .name = "without an extra reason the text after Disconnected: is the reason",
	  .program = "dovecot",
	  .msg = "pop3-login: Disconnected: Inactivity: user=<>, rip=192.0.2.91, lip=192.0.2.2",
	  .want = 1, .kind = MX_EVENT_DISCONNECT, .listener = "pop3-login",
	  .ip = "192.0.2.91", .sip = "192.0.2.2", .reason = "Inactivity" },
	{ .name = "a tcpwrap refusal is a disconnect",
	  .program = "dovecot",
	  .msg = "imap-login: access(tcpwrap): Client refused (rip=203.0.113.99)",
	  .want = 1, .kind = MX_EVENT_DISCONNECT, .listener = "imap-login",
	  .ip = "203.0.113.99", .reason = "Client refused" },

	/* ---- user names Dovecot does not escape */
	{ .name = "a user name with spaces, commas and > is kept whole",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<a b, c>d>, "
		 "method=PLAIN, rip=192.0.2.50, lip=192.0.2.2, session=<eHw4LtRgxavAAAKn>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "192.0.2.50", .sip = "192.0.2.2", .user = "a b, c>d", .method = "PLAIN",
	  .attempts = 1, .session = "eHw4LtRgxavAAAKn",
	  .reason = "auth failed, 1 attempts in 2 secs" },
	{ .name = "a user name imitating later elements cannot choose the client address",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, "
		 "method=PLAIN, rip=203.0.113.66, lip=203.0.113.1>, method=PLAIN, rip=192.0.2.99, "
		 "lip=192.0.2.2, session=<a8ggKtRgN4F/AAAK>",
	  .want = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "imap-login",
	  .ip = "192.0.2.99", .sip = "192.0.2.2",
	  .user = "x>, method=PLAIN, rip=203.0.113.66, lip=203.0.113.1", .method = "PLAIN",
	  .attempts = 1, .session = "a8ggKtRgN4F/AAAK",
	  .reason = "auth failed, 1 attempts in 2 secs" },

	/* ---- HAProxy listener errors */
	{ .name = "a haproxy listener without a PROXY header names the probe as rip",
	  .program = "dovecot",
	  .msg = "imap-login: haproxy: Client disconnected (rip=127.0.0.10): Connection reset "
		 "by peer",
	  .want = 1, .kind = MX_EVENT_PROXY_ERROR, .listener = "imap-login",
	  .ip = "127.0.0.10",
	  .reason = "Client disconnected (rip=127.0.0.10): Connection reset by peer" },
	{ .name = "a PROXY v2 protocol error at error level",
	  .program = "dovecot",
	  .msg = "imap-login: Error: haproxy(v2): Client disconnected: Invalid command (cmd=03, "
		 "rip=198.51.100.2)",
	  .want = 1, .kind = MX_EVENT_PROXY_ERROR, .listener = "imap-login",
	  .ip = "198.51.100.2",
	  .reason = "Client disconnected: Invalid command (cmd=03, rip=198.51.100.2)" },
	{ .name = "a connection from outside haproxy_trusted_networks",
	  .program = "pop3-login",
	  .msg = "Warning: haproxy: Client not trusted (rip=2001:db8::99)",
	  .want = 1, .kind = MX_EVENT_PROXY_ERROR, .listener = "pop3-login",
	  .ip = "2001:db8::99", .reason = "Client not trusted (rip=2001:db8::99)" },

	/* ---- login-process lines that are not session lines */
	{ .name = "the ReDoS probe a: a: ... test no match gives nothing",
	  .program = "dovecot",
	  .msg = "imap-login: Disconnected: a: a: a: a: a: a: a: a: a: a: a: a: a: a: a: a: a: "
		 "a: a: a: a: a: test no match",
	  .want = 0 },
	{ .name = "a warning about a slow auth process is not a session end",
	  .program = "dovecot",
	  .msg = "imap-login: Warning: Auth process not responding, delayed sending initial "
		 "response (greeting): user=<>, rip=192.0.2.8, lip=192.0.2.2, "
		 "session=<hQk2Lk1a2MPAqGRN>",
	  .want = 0 },
	{ .name = "a login process fatal error is not ours",
	  .program = "dovecot",
	  .msg = "imap-login: Fatal: Couldn't parse private ssl_key",
	  .want = 0 },

	/* ---- auth process */
	{ .name = "passwd-file Password mismatch from imap-login carries the session",
	  .program = "dovecot",
	  .msg = "auth: passwd-file(heidi@example.net,192.0.2.136,<7CoSJtRg/9fAAAKI>): Password "
		 "mismatch",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.136", .user = "heidi@example.net", .method = "passwd-file",
	  .session = "7CoSJtRg/9fAAAKI", .reason = "Password mismatch" },
	{ .name = "an unknown user without session id came from Postfix SMTP AUTH",
	  .program = "dovecot",
	  .msg = "auth: passwd-file(office@example.net,203.0.113.193): unknown user",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "203.0.113.193", .user = "office@example.net", .method = "passwd-file",
	  .reason = "unknown user" },
	{ .name = "a session id with + and / is kept",
	  .program = "dovecot",
	  .msg = "auth: passwd-file(office@example.net,2001:db8:c::20,<" SESS2 ">): unknown user",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "2001:db8:c::20", .user = "office@example.net", .method = "passwd-file",
	  .session = SESS2, .reason = "unknown user" },
	{ .name = "an auth worker's PAM failure loses the worker pid in the listener",
	  .program = "dovecot",
	  .msg = "auth-worker(304): pam(username,192.0.2.12): pam_authenticate() failed: "
		 "Authentication failure (password mismatch?)",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth-worker",
	  .ip = "192.0.2.12", .user = "username", .method = "pam",
	  .reason = "pam_authenticate() failed: Authentication failure (password mismatch?)" },
	{ .name = "the worker connection prefix with Info: before it (log_path)",
	  .program = "auth-worker(80180)",
	  .msg = "Info: conn unix:auth-worker (uid=143): auth-worker<13247>: sql(support,"
		 "192.0.2.6): unknown user",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth-worker",
	  .ip = "192.0.2.6", .user = "support", .method = "sql", .reason = "unknown user" },
	{ .name = "the worker connection prefix with Info: after it (syslog)",
	  .program = "dovecot",
	  .msg = "auth-worker(63712): conn unix:auth-worker (pid=58074,uid=109): auth-worker<4>: "
		 "Info: sql(contact,198.51.100.101): unknown user",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth-worker",
	  .ip = "198.51.100.101", .user = "contact", .method = "sql", .reason = "unknown user" },
	{ .name = "a hashed password suffix never reaches the event",
	  .program = "dovecot",
	  .msg = "auth: passwd-file(karen@example.co.uk,192.0.2.11): unknown user (SHA1 of given "
		 "password: 21bd12)",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.11", .user = "karen@example.co.uk", .method = "passwd-file",
	  .reason = "unknown user" },
	{ .name = "a plain given password never reaches the event",
	  .program = "dovecot",
	  .msg = "auth-worker(10377): conn unix:auth-worker (pid=919,uid=112): auth-worker<1>: "
		 "sql(testing@example.com,192.0.2.13): unknown user (given password: Secret123$)",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth-worker",
	  .ip = "192.0.2.13", .user = "testing@example.com", .method = "sql",
	  .reason = "unknown user" },
	{ .name = "an LDAP bind mismatch keeps its note but not the password hash",
	  .program = "dovecot",
	  .msg = "auth: ldap(user@example.org,192.0.2.25,<LZmGp6mZaMrAqLIZ>): Password mismatch "
		 "(for LDAP bind) (SHA1 of given password: f638ff)",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.25", .user = "user@example.org", .method = "ldap",
	  .session = "LZmGp6mZaMrAqLIZ", .reason = "Password mismatch (for LDAP bind)" },
	{ .name = "ldap invalid credentials with an empty trailing argument (log_path)",
	  .program = "auth",
	  .msg = "Info: ldap(dog,198.51.100.121,): invalid credentials",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "198.51.100.121", .user = "dog", .method = "ldap",
	  .reason = "invalid credentials" },
	{ .name = "a logwatch Time(s) suffix becomes attempts behind a repeated ident",
	  .program = "dovecot",
	  .msg = "dovecot: auth(default): pam(account@example.com,203.0.113.206): "
		 "pam_authenticate() failed: User not known to the underlying authentication "
		 "module: 2 Time(s)",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "203.0.113.206", .user = "account@example.com", .method = "pam", .attempts = 2,
	  .reason = "pam_authenticate() failed: User not known to the underlying "
		    "authentication module" },
	{ .name = "a master user login keeps user, address and session",
	  .program = "dovecot",
	  .msg = "auth: passwd-file(admin*bob,192.0.2.70,master,<n4JLdHNVngZGpV2j>): Password "
		 "mismatch",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.70", .user = "admin*bob", .method = "passwd-file",
	  .session = "n4JLdHNVngZGpV2j", .reason = "Password mismatch" },
	{ .name = "Dovecot 2.4 puts the request in the prefix and the passdb after it",
	  .program = "dovecot",
	  .msg = "auth(info@example.com,192.0.2.110,sasl:login)<CvN+E95Uf4e7eEnj>: Info: sql: "
		 "Password mismatch (given password: XxxxXXxx123)",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.110", .user = "info@example.com", .method = "sql",
	  .session = "CvN+E95Uf4e7eEnj", .reason = "Password mismatch" },
	{ .name = "the 2.4 auth prefix as a log_path program name",
	  .program = "auth(info@example.com,192.0.2.110,sasl:plain)<CvN+E95Uf4e7eEnj>",
	  .msg = "Info: passwd-file: unknown user",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.110", .user = "info@example.com", .method = "passwd-file",
	  .session = "CvN+E95Uf4e7eEnj", .reason = "unknown user" },
	{ .name = "a 2.4 auth worker carries pid and session and a request number",
	  .program = "dovecot",
	  .msg = "auth-worker(bob@example.net,198.51.100.9,sasl:plain)<7001><Yx7+W8+Io0AAAAAA>: "
		 "request [4]: sql: Password mismatch",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth-worker",
	  .ip = "198.51.100.9", .user = "bob@example.net", .method = "sql",
	  .session = "Yx7+W8+Io0AAAAAA", .reason = "Password mismatch" },
	{ .name = "pam_unix's own line under dovecot-auth, with the account name",
	  .program = "dovecot-auth",
	  .msg = "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 "
		 "tty=dovecot ruser=root rhost=203.0.113.225  user=root",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "203.0.113.225", .user = "root", .method = "pam",
	  .reason = "authentication failure" },
	{ .name = "a forged ruser=rhost= cannot choose the pam_unix address",
	  .program = "dovecot-auth",
	  .msg = "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 "
		 "tty=dovecot ruser=rhost=198.51.100.4 rhost=192.0.2.43",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.43", .user = "rhost=198.51.100.4", .method = "pam",
	  .reason = "authentication failure" },
	{ .name = "pam_unix behind the syslog ident and an auth prefix",
	  .program = "dovecot",
	  .msg = "auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 "
		 "tty=dovecot ruser=informix rhost=203.0.113.104",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "203.0.113.104", .user = "informix", .method = "pam",
	  .reason = "authentication failure" },
	{ .name = "a PAM module's own tag without any Dovecot prefix",
	  .program = "pam_unix(dovecot:auth)",
	  .msg = "authentication failure; logname= uid=0 euid=0 tty=dovecot "
		 "ruser=webmaster@example.eu rhost=198.51.100.229",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "198.51.100.229", .user = "webmaster@example.eu", .method = "pam",
	  .reason = "authentication failure" },
	{ .name = "sshd's pam_unix line under a bare tag is not Dovecot's",
	  .program = "pam_unix(sshd:auth)",
	  .msg = "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.1",
	  .want = 0 },
	{ .name = "a user name containing a comma keeps the address from the right",
	  .program = "dovecot",
	  .msg = "auth: passwd-file(smith, john,192.0.2.5,<O+JdKtRgS6B/AAAK>): unknown user",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.5", .user = "smith, john", .method = "passwd-file",
	  .session = "O+JdKtRgS6B/AAAK", .reason = "unknown user" },
	{ .name = "a user name imitating the end of the prefix cannot choose the address",
	  .program = "dovecot",
	  .msg = "auth: pam(x,203.0.113.9): unknown user,192.0.2.77): unknown user",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.77", .user = "x,203.0.113.9): unknown user", .method = "pam",
	  .reason = "unknown user" },
	{ .name = "a logged password imitating a prefix cannot choose the address",
	  .program = "dovecot",
	  .msg = "auth: sql(bob,192.0.2.78): Password mismatch (given password: "
		 "a,203.0.113.10): unknown user)",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.78", .user = "bob", .method = "sql", .reason = "Password mismatch" },
	{ .name = "a lookup before the user is known has no user",
	  .program = "dovecot",
	  .msg = "auth: passwd-file(?,192.0.2.80): unknown user",
	  .want = 1, .kind = MX_EVENT_AUTH_LOOKUP_FAILURE, .listener = "auth",
	  .ip = "192.0.2.80", .method = "passwd-file", .reason = "unknown user" },

	/* ---- auth, master and mail-process lines that are not events */
	{ .name = "a Login whose rip= is not an address is not an event",
	  .program = "dovecot",
	  .msg = "imap-login: Login: user=<x>, method=PLAIN, rip=1.2.3, lip=192.0.2.1, "
		 "session=<x>",
	  .want = 0 },
	{ .name = "an auth client dropping pending requests is not an event",
	  .program = "dovecot",
	  .msg = "auth: Error: auth client 0 disconnected with 1 pending requests: EOF",
	  .want = 0 },
	{ .name = "auth debug output about a lookup is not a failure",
	  .program = "dovecot",
	  .msg = "auth: Debug: passwd-file(bob,192.0.2.1): lookup: user=bob "
		 "file=/etc/dovecot/users",
	  .want = 0 },
	{ .name = "master start-up is not ours",
	  .program = "dovecot",
	  .msg = "master: Dovecot v2.3.19.1 (9b53102964) starting up for imap (core dumps "
		 "disabled)",
	  .want = 0 },
	{ .name = "a mail process logout after login is not recorded",
	  .program = "dovecot",
	  .msg = "imap(heidi@example.net)<32147><slvaKdRg2eF/AAUH>: Disconnected: Logged out "
		 "in=26 out=809 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 "
		 "body_count=0 body_bytes=0",
	  .want = 0 },
	{ .name = "an imap log_path line is not recorded either",
	  .program = "imap",
	  .msg = "Info: Disconnected: Logged out in=26 out=809",
	  .want = 0 },
	{ .name = "a message without any service prefix is not ours",
	  .program = "dovecot",
	  .msg = "Killed with signal 15 (by pid=32588 uid=0 code=kill)",
	  .want = 0 },
};

START_TEST(dovecot_line_gives_expected_event)
{
	const struct dcase *c = &cases[_i];
	struct mx_record rec = tst_record(c->program, c->msg);
	struct mx_event *ev = tst_event();
	int r;

	event_reset(ev);
	r = dovecot_parse(&rec, ev);
	ck_assert_msg(r == c->want, "%s: returned %d", c->name, r);
	if (c->want != 1)
		return;
	ck_assert_msg(ev->kind == c->kind, "%s: kind %s, want %s", c->name,
	    event_kind_name(ev->kind), event_kind_name(c->kind));
	tst_str_eq(ev->daemon, "dovecot", c->name);
	tst_str_eq(ev->listener, c->listener, c->name);
	tst_str_eq(ev->client_ip, c->ip, c->name);
	tst_str_eq(ev->server_ip, c->sip, c->name);
	tst_str_eq(ev->user, c->user, c->name);
	tst_str_eq(ev->method, c->method, c->name);
	tst_str_eq(ev->session, c->session, c->name);
	tst_str_eq(ev->reason, c->reason, c->name);
	ck_assert_msg(ev->attempts == c->attempts, "%s: attempts %d, want %d", c->name,
	    ev->attempts, c->attempts);
	ck_assert_msg(ev->client_port == c->port && ev->server_port == c->sport,
	    "%s: ports %u/%u, want %u/%u", c->name, ev->client_port, ev->server_port,
	    c->port, c->sport);
}
END_TEST

/*
 * Hostile lines near MX_LINE_MAX: repeated separators the scanners look
 * for. Each must be answered in well under a second even under the
 * sanitizers (a backtracking matcher takes minutes on the first one).
 */
static const struct hostile {
	const char *name, *program, *head, *unit, *tail;
	int want;
} hostile[] = {
	{ "the a: a: a: probe at full length", "dovecot", "imap-login: Disconnected: ", "a: ",
	  "test no match", 0 },
	{ "thousands of nested parentheses before the elements", "dovecot",
	  "imap-login: Disconnected: ", "((", "(auth failed, 1 attempts): user=<>, rip=192.0.2.1",
	  1 },
	{ "thousands of rip= imitations in a user name", "dovecot",
	  "imap-login: Disconnected (auth failed, 1 attempts): user=<", ">, rip=203.0.113.1",
	  ">, method=PLAIN, rip=192.0.2.2, lip=192.0.2.3", 1 },
	{ "thousands of failure imitations in an auth user name", "dovecot", "auth: pam(",
	  "x): unknown user,", "192.0.2.4): unknown user", 1 },
	{ "thousands of conn prefixes", "dovecot", "auth-worker(1): ",
	  "conn unix:auth-worker (", "): unknown user", 0 },
};

static char hostile_msg[MX_LINE_MAX - 256];

START_TEST(dovecot_hostile_line_is_fast)
{
	const struct hostile *h = &hostile[_i];
	size_t len, ulen = strlen(h->unit), tlen = strlen(h->tail);
	struct mx_event *ev = tst_event();
	struct mx_record rec;
	struct timespec t0, t1;
	double secs;
	int r = -1;

	len = strlen(h->head);
	memcpy(hostile_msg, h->head, len);
	while (len + ulen + tlen + 1 < sizeof(hostile_msg)) {
		memcpy(hostile_msg + len, h->unit, ulen);
		len += ulen;
	}
	memcpy(hostile_msg + len, h->tail, tlen + 1);
	rec = tst_record(h->program, hostile_msg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 10; i++) {
		event_reset(ev);
		r = dovecot_parse(&rec, ev);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(r == h->want, "%s: returned %d", h->name, r);
	ck_assert_msg(secs < 1.0, "%s: 10 parses took %.3f s", h->name, secs);
}
END_TEST

/* The whole path from a raw line: envelope, program_split, dispatch. */
static const struct rawcase {
	const char *name, *line;
	enum mx_event_kind kind;
	const char *listener, *ip;
} rawcases[] = {
	{ "a traditional syslog line reaches the login parser",
	  "Nov 22 02:22:30 mail dovecot: imap-login: Disconnected: Aborted login by logging out "
	  "(auth failed, 1 attempts in 1 secs): user=<frank@example.net>, method=PLAIN, "
	  "rip=192.0.2.8, lip=127.0.0.1, session=<wNIpJtRgA49/AAUI>",
	  MX_EVENT_AUTH_FAILURE, "imap-login", "192.0.2.8" },
	{ "an RFC 3339 line with a dovecot pid reaches the auth parser",
	  "2026-11-22T02:22:28.123456+00:00 mail dovecot[4242]: auth: "
	  "passwd-file(heidi@example.net,192.0.2.136,<7CoSJtRg/9fAAAKI>): Password mismatch",
	  MX_EVENT_AUTH_LOOKUP_FAILURE, "auth", "192.0.2.136" },
};

START_TEST(dovecot_raw_line_is_dispatched)
{
	const struct rawcase *c = &rawcases[_i];
	struct mx_event *ev = tst_event();

	ck_assert_msg(tst_parse_line(c->line, ev) == 1, "%s: no event", c->name);
	ck_assert_msg(ev->kind == c->kind, "%s: kind %s", c->name, event_kind_name(ev->kind));
	tst_str_eq(ev->daemon, "dovecot", c->name);
	tst_str_eq(ev->listener, c->listener, c->name);
	tst_str_eq(ev->client_ip, c->ip, c->name);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dovecot");
	TCase *tc = tcase_create("lines");

	tcase_add_loop_test(tc, dovecot_line_gives_expected_event, 0, N(cases));
	tcase_add_loop_test(tc, dovecot_hostile_line_is_fast, 0, N(hostile));
	tcase_add_loop_test(tc, dovecot_raw_line_is_dispatched, 0, N(rawcases));
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
