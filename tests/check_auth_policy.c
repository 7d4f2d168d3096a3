/*
 * NAME
 *	check_auth_policy - Dovecot's auth policy endpoint: HTTP in, Dovecot's answer out
 * DESCRIPTION
 *	A real server (auth_policy_new() on 127.0.0.1, port chosen by the
 *	kernel) on an sd-event loop that this test runs between its own
 *	socket reads: each request is written by a tiny HTTP client and the
 *	exact status line and JSON body are compared. Tables: malformed and
 *	refused requests (nothing may crash, the next request is answered),
 *	and scenarios where failed logins -- reported by Dovecot or read
 *	from the log, SMTP or IMAP -- make a later login refused, counted
 *	exactly once. auth_policy_status() has a table of its own.
 *	Time is the fake clock (clock_set_fake()); loops are bounded.
 * SEE ALSO
 *	auth_policy.h, tests/integration/dovecot_auth_policy.sh
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth_policy.h"
#include "clock.h"
#include "config.h"
#include "policy.h"
#include "testutil.h"

#define SEC	INT64_C(1000000)
/* 2026-11-22T02:30:00Z: a few minutes after the log lines below. */
#define NOW	(INT64_C(1795314600) * SEC)
/* Event-loop turns of 10 ms a request may take before the test gives up. */
#define TURNS	300

static const char conf_text[] =
    "rule office-allow {\n"
    "	client_address 192.0.2.0/28\n"
    "	action DUNNO\n"
    "}\n"
    "rule auth-bruteforce {\n"
    "	protocol_state AUTH\n"
    "	history auth_failures by client_address >= 3 per 15m\n"
    "	action REJECT \"too many failed logins\"\n"
    "}\n"
    "rule slow-network {\n"
    "	protocol_state AUTH\n"
    "	client_address 192.0.2.99\n"
    "	action 450 4.7.1 \"slow down\"\n"
    "}\n"
    "rule trial {\n"
    "	protocol_state AUTH\n"
    "	sasl_username trial@example.org\n"
    "	action REJECT \"would refuse\"\n"
    "	mode warn\n"
    "}\n"
    "rule smtp-only {\n"
    "	protocol_state RCPT\n"
    "	client_address 198.51.100.200\n"
    "	action REJECT \"not for Dovecot\"\n"
    "}\n";

struct env {
	struct mx_config *cfg;
	struct policy *policy;
	sd_event *e;
	struct auth_policy *ap;
	int port;
};

static struct env env;

/* env_server - a server with conf on the shared policy and loop */
static struct auth_policy *
env_server(const struct auth_policy_conf *conf, int *ret_port)
{
	struct auth_policy *ap;

	ck_assert_int_eq(auth_policy_new(env.e, conf, env.policy, &ap), 0);
	*ret_port = auth_policy_local_port(ap);
	ck_assert_int_gt(*ret_port, 0);
	return ap;
}

static void
setup(void)
{
	struct auth_policy_conf conf = { .listen = "127.0.0.1:0", .count_reports = 1 };

	clock_set_fake(NOW);
	ck_assert_int_eq(config_parse_text("test.conf", conf_text, strlen(conf_text), stderr,
	    &env.cfg), 0);
	ck_assert_int_eq(policy_new(env.cfg, &env.policy), 0);
	ck_assert_int_eq(sd_event_new(&env.e), 0);
	env.ap = env_server(&conf, &env.port);
}

static void
teardown(void)
{
	env.ap = auth_policy_free(env.ap);
	env.e = sd_event_unref(env.e);
	env.policy = policy_free(env.policy);
	env.cfg = config_free(env.cfg);
	clock_set_fake(0);
}

/* ------------------------------------------------------------ the client */

struct reply {
	int code;		/* HTTP status, 0 = no answer */
	char body[512];
};

/* tst_connect - a connection to the server on port */
static int
tst_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/* tst_send - write all of s (requests here are far below the socket buffer) */
static void
tst_send(int fd, const char *s, size_t n)
{
	ck_assert_int_eq(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* tst_receive - run the loop until one whole response is read from fd (or TURNS pass) */
static void
tst_receive(int fd, struct reply *ret)
{
	char buf[4096];
	size_t len = 0;
	const char *hdr_end = NULL, *cl;

	memset(ret, 0, sizeof(*ret));
	for (int turn = 0; turn < TURNS; turn++) {
		ssize_t n;

		(void)sd_event_run(env.e, 10000);
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
		}
		if ((hdr_end = strstr(buf, "\r\n\r\n")) != NULL && (cl = strcasestr(buf,
		    "\r\nContent-Length:")) != NULL && cl < hdr_end &&
		    len >= (size_t)(hdr_end + 4 - buf) + strtoul(cl + 17, NULL, 10))
			break;
		if (n == 0)
			break;
	}
	ck_assert_msg(hdr_end != NULL, "no complete response within %d turns: \"%.200s\"",
	    TURNS, len ? buf : "");
	ck_assert_int_eq(sscanf(buf, "HTTP/1.%*d %d", &ret->code), 1);
	snprintf(ret->body, sizeof(ret->body), "%s", hdr_end + 4);
}

/* tst_request - the text of a request; extra headers end in \r\n */
static int
tst_request(char *buf, size_t size, const char *method, const char *target, const char *extra,
    const char *body)
{
	return snprintf(buf, size, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "User-Agent: dovecot/auth-policy-client\r\n%sContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", method, target, extra, strlen(body), body);
}

/* tst_http - one request on a connection of its own */
static void
tst_http(int port, const char *method, const char *target, const char *extra, const char *body,
    struct reply *ret)
{
	char req[8192];
	int n = tst_request(req, sizeof(req), method, target, extra, body);
	int fd = tst_connect(port);

	tst_send(fd, req, (size_t)n);
	tst_receive(fd, ret);
	close(fd);
}

/* tst_login - body of Dovecot's default attributes for a login from remote */
static const char *
tst_login(const char *login, const char *remote, const char *protocol, const char *session,
    const char *success)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "{\"device_id\":\"\",\"login\":\"%s\",\"protocol\":\"%s\","
	    "\"pwhash\":\"0ce0\",\"remote\":\"%s\",\"session_id\":\"%s\"%s%s%s,\"tls\":false}",
	    login, protocol, remote, session, success != NULL ? ",\"success\":" : "",
	    success != NULL ? success : "", success != NULL ? ",\"policy_reject\":false" : "");
	return buf;
}

/* ------------------------------------------------ requests that are refused */

static const struct badcase {
	const char *name, *method, *target, *extra, *body;
	int want_code;
	const char *want_body;
} badcases[] = {
	{ "an allow for an address without history lets Dovecot go on",
	  "POST", "/?command=allow", "",
	  "{\"login\":\"alice@example.org\",\"remote\":\"203.0.113.50\",\"protocol\":\"imap\"}",
	  200, "{\"status\":0}" },
	{ "a report answers status 0",
	  "POST", "/?command=report", "",
	  "{\"login\":\"alice@example.org\",\"remote\":\"203.0.113.50\",\"success\":true}",
	  200, "{\"status\":0}" },
	{ "a body cut in the middle of the object is a bad request",
	  "POST", "/?command=allow", "", "{\"login\":\"alice",
	  400, "{\"error\":\"body is not JSON: unexpected end\"}" },
	{ "JSON that is not an object is a bad request",
	  "POST", "/?command=allow", "", "[\"login\",\"alice\"]",
	  400, "{\"error\":\"body is not a JSON object\"}" },
	{ "garbage after the object is a bad request",
	  "POST", "/?command=allow", "", "{\"login\":\"a\"} {}",
	  400, "{\"error\":\"body is not JSON: data after the object\"}" },
	{ "an empty body is a bad request",
	  "POST", "/?command=allow", "", "",
	  400, "{\"error\":\"empty body\"}" },
	{ "a URL without command is a bad request",
	  "POST", "/", "", "{\"login\":\"a\"}",
	  400, "{\"error\":\"no command in the URL\"}" },
	{ "an unknown command is a bad request",
	  "POST", "/?command=delete", "", "{\"login\":\"a\"}",
	  400, "{\"error\":\"unknown command (allow, report)\"}" },
	{ "GET is not allowed",
	  "GET", "/?command=allow", "", "",
	  405, "{\"error\":\"only POST\"}" },
	{ "a declared body over the limit is refused before it is read",
	  "POST", "/?command=allow", "X-Pad: 1\r\n", NULL,
	  413, "{\"error\":\"body too large\"}" },
	{ "a path before the query is fine (auth_policy_server_url with a path)",
	  "POST", "/dovecot/policy?command=allow", "",
	  "{\"login\":\"bob@example.org\",\"remote\":\"2001:db8::7\",\"protocol\":\"pop3\"}",
	  200, "{\"status\":0}" },
};

START_TEST(refused_or_plain_request_gets_exact_answer)
{
	const struct badcase *c = &badcases[_i];
	struct reply r;
	char req[512];
	int fd, n;

	if (c->body != NULL) {
		tst_http(env.port, c->method, c->target, c->extra, c->body, &r);
	} else {	/* declare 100000 bytes and send none */
		n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: x\r\n%s"
		    "Content-Length: 100000\r\n\r\n", c->target, c->extra);
		fd = tst_connect(env.port);
		tst_send(fd, req, (size_t)n);
		tst_receive(fd, &r);
		close(fd);
	}
	ck_assert_msg(r.code == c->want_code, "%s: HTTP %d, want %d (%s)", c->name, r.code,
	    c->want_code, r.body);
	ck_assert_msg(strcmp(r.body, c->want_body) == 0, "%s: body %s, want %s", c->name, r.body,
	    c->want_body);
	/* whatever came before, the server still answers */
	tst_http(env.port, "POST", "/?command=allow", "",
	    tst_login("carol@example.org", "203.0.113.60", "imap", "", NULL), &r);
	ck_assert_msg(r.code == 200 && strcmp(r.body, "{\"status\":0}") == 0,
	    "%s: next request: %d %s", c->name, r.code, r.body);
}
END_TEST

START_TEST(body_growing_past_the_limit_in_chunks_is_refused)
{
	static char req[AUTH_POLICY_BODY_DEFAULT * 3];
	struct reply r;
	size_t n;
	int fd;

	n = (size_t)snprintf(req, sizeof(req), "POST /?command=allow HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 3; i++) {
		n += (size_t)snprintf(req + n, sizeof(req) - n, "1000\r\n");
		memset(req + n, ' ', 0x1000);
		n += 0x1000;
		n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n");
	}
	n += (size_t)snprintf(req + n, sizeof(req) - n, "0\r\n\r\n");
	fd = tst_connect(env.port);
	tst_send(fd, req, n);
	tst_receive(fd, &r);
	close(fd);
	ck_assert_int_eq(r.code, 413);
	ck_assert_str_eq(r.body, "{\"error\":\"body too large\"}");
}
END_TEST

START_TEST(keep_alive_connection_answers_requests_in_turn)
{
	char req[2048];
	struct reply r;
	int fd = tst_connect(env.port);

	for (int i = 0; i < 3; i++) {
		int n = tst_request(req, sizeof(req), "POST", "/?command=allow", "",
		    tst_login("dave@example.org", "203.0.113.70", "imap", "", NULL));

		tst_send(fd, req, (size_t)n);
		tst_receive(fd, &r);
		ck_assert_msg(r.code == 200 && strcmp(r.body, "{\"status\":0}") == 0,
		    "request %d: %d %s", i, r.code, r.body);
	}
	close(fd);
}
END_TEST

/* ------------------------------------------------------------- scenarios */

/* scenario steps: a report, an allow (with its exact answer), or a log line counted */
enum step_kind { REPORT_FAIL, REPORT_OK, ALLOW, LOG };

struct step {
	enum step_kind kind;
	const char *a, *b, *c, *d;	/* login remote protocol session | log line */
	const char *want;		/* ALLOW: exact JSON answer */
};

/* one step of a scenario (all five fields, so the tables stay -Wextra clean) */
#define FAILED(login, remote, proto, sess)	{ REPORT_FAIL, login, remote, proto, sess, NULL }
#define LOGGED_IN(login, remote, proto, sess)	{ REPORT_OK, login, remote, proto, sess, NULL }
#define ALLOWS(login, remote, proto, sess, want)	{ ALLOW, login, remote, proto, sess, want }
#define LOG_LINE(line)				{ LOG, line, NULL, NULL, NULL, NULL }

static const struct scenario {
	const char *name;
	struct step steps[8];
} scenarios[] = {
	{ "three reported IMAP failures refuse the fourth attempt before the password check", {
	  FAILED("alice@example.org", "203.0.113.7", "imap", "S1aaaaaaaaaaaaaa"),
	  FAILED("alice@example.org", "203.0.113.7", "imap", "S1aaaaaaaaaaaaaa"),
	  ALLOWS("alice@example.org", "203.0.113.7", "imap", "S2aaaaaaaaaaaaaa", "{\"status\":0}"),
	  FAILED("alice@example.org", "203.0.113.7", "imap", "S2aaaaaaaaaaaaaa"),
	  ALLOWS("alice@example.org", "203.0.113.7", "imap", "S3aaaaaaaaaaaaaa",
	    "{\"status\":-1,\"msg\":\"too many failed logins\"}"),
	  ALLOWS("alice@example.org", "203.0.113.8", "imap", "S4aaaaaaaaaaaaaa", "{\"status\":0}"),
	} },
	{ "SMTP AUTH failures read from the log refuse an IMAP login from that address", {
	  LOG_LINE("Nov 22 02:25:01 mail postfix/submission/smtpd[100]: warning: "
	    "unknown[198.51.100.7]: SASL LOGIN authentication failed: (reason unavailable), "
	    "sasl_username=heidi@example.net"),
	  LOG_LINE("Nov 22 02:25:10 mail postfix/submission/smtpd[100]: warning: "
	    "unknown[198.51.100.7]: SASL LOGIN authentication failed: (reason unavailable), "
	    "sasl_username=root@example.net"),
	  ALLOWS("heidi@example.net", "198.51.100.7", "imap", "", "{\"status\":0}"),
	  LOG_LINE("Nov 22 02:25:20 mail postfix/submission/smtpd[100]: warning: "
	    "unknown[198.51.100.7]: SASL LOGIN authentication failed: (reason unavailable), "
	    "sasl_username=admin@example.net"),
	  ALLOWS("heidi@example.net", "198.51.100.7", "imap", "",
	    "{\"status\":-1,\"msg\":\"too many failed logins\"}"),
	} },
	{ "an SMTP AUTH failure reported by Dovecot and logged by smtpd counts once", {
	  FAILED("erin@example.net", "198.51.100.8", "smtp", ""),
	  LOG_LINE("Nov 22 02:29:58 mail postfix/submission/smtpd[101]: warning: "
	    "unknown[198.51.100.8]: SASL PLAIN authentication failed: (reason unavailable), "
	    "sasl_username=erin@example.net"),
	  FAILED("erin@example.net", "198.51.100.8", "smtp", ""),
	  LOG_LINE("Nov 22 02:29:59 mail postfix/submission/smtpd[101]: warning: "
	    "unknown[198.51.100.8]: SASL PLAIN authentication failed: (reason unavailable), "
	    "sasl_username=erin@example.net"),
	  ALLOWS("erin@example.net", "198.51.100.8", "smtp", "", "{\"status\":0}"),
	} },
	{ "reported IMAP failures and the login process's summary of them count once", {
	  FAILED("frank@example.net", "203.0.113.20", "imap", "XPZ2KtRg6KjLAHHz"),
	  FAILED("frank@example.net", "203.0.113.20", "imap", "XPZ2KtRg6KjLAHHz"),
	  LOG_LINE("Nov 22 02:29:59 mail dovecot: imap-login: Disconnected: Aborted login by "
	    "logging out (auth failed, 2 attempts in 4 secs): user=<frank@example.net>, "
	    "method=PLAIN, rip=203.0.113.20, lip=203.0.113.254, TLS, "
	    "session=<XPZ2KtRg6KjLAHHz>"),
	  ALLOWS("frank@example.net", "203.0.113.20", "imap", "", "{\"status\":0}"),
	  FAILED("frank@example.net", "203.0.113.20", "imap", "Y0000000000000Aa"),
	  ALLOWS("frank@example.net", "203.0.113.20", "imap", "",
	    "{\"status\":-1,\"msg\":\"too many failed logins\"}"),
	} },
	{ "with auth_verbose = yes, each report and its auth line count once (IMAP)", {
	  FAILED("olga@example.net", "203.0.113.21", "imap", "QQ2KtRg6KjLAHHzA"),
	  LOG_LINE("Nov 22 02:29:58 mail dovecot: auth: passwd-file(olga@example.net,"
	    "203.0.113.21,<QQ2KtRg6KjLAHHzA>): Password mismatch"),
	  FAILED("olga@example.net", "203.0.113.21", "imap", "QQ2KtRg6KjLAHHzA"),
	  LOG_LINE("Nov 22 02:29:59 mail dovecot: auth: passwd-file(olga@example.net,"
	    "203.0.113.21,<QQ2KtRg6KjLAHHzA>): Password mismatch"),
	  ALLOWS("olga@example.net", "203.0.113.21", "imap", "", "{\"status\":0}"),
	  FAILED("olga@example.net", "203.0.113.21", "imap", "QQ2KtRg6KjLAHHzA"),
	  ALLOWS("olga@example.net", "203.0.113.21", "imap", "",
	    "{\"status\":-1,\"msg\":\"too many failed logins\"}"),
	} },
	{ "with auth_verbose = yes, report, auth line and smtpd warning are one attempt", {
	  FAILED("paul@example.net", "198.51.100.9", "smtp", ""),
	  LOG_LINE("Nov 22 02:29:59 mail dovecot: auth: passwd-file(paul@example.net,"
	    "198.51.100.9): Password mismatch"),
	  LOG_LINE("Nov 22 02:29:59 mail postfix/submission/smtpd[102]: warning: "
	    "unknown[198.51.100.9]: SASL PLAIN authentication failed: (reason unavailable), "
	    "sasl_username=paul@example.net"),
	  FAILED("paul@example.net", "198.51.100.9", "smtp", ""),
	  LOG_LINE("Nov 22 02:30:00 mail dovecot: auth: passwd-file(paul@example.net,"
	    "198.51.100.9): Password mismatch"),
	  LOG_LINE("Nov 22 02:30:00 mail postfix/submission/smtpd[102]: warning: "
	    "unknown[198.51.100.9]: SASL PLAIN authentication failed: (reason unavailable), "
	    "sasl_username=paul@example.net"),
	  ALLOWS("paul@example.net", "198.51.100.9", "imap", "", "{\"status\":0}"),
	} },
	{ "a successful login is not a failure", {
	  LOGGED_IN("grace@example.net", "203.0.113.30", "imap", "Z1aaaaaaaaaaaaaa"),
	  LOGGED_IN("grace@example.net", "203.0.113.30", "imap", "Z2aaaaaaaaaaaaaa"),
	  LOGGED_IN("grace@example.net", "203.0.113.30", "imap", "Z3aaaaaaaaaaaaaa"),
	  ALLOWS("grace@example.net", "203.0.113.30", "imap", "", "{\"status\":0}"),
	} },
	{ "an allowlisted network is never refused, whatever it failed", {
	  FAILED("ivan@example.net", "192.0.2.5", "imap", ""),
	  FAILED("ivan@example.net", "192.0.2.5", "imap", ""),
	  FAILED("ivan@example.net", "192.0.2.5", "imap", ""),
	  ALLOWS("ivan@example.net", "192.0.2.5", "imap", "", "{\"status\":0}"),
	} },
	{ "a 4xx rule refuses when no delay is configured, its code and status stripped", {
	  ALLOWS("judy@example.net", "192.0.2.99", "pop3", "",
	    "{\"status\":-1,\"msg\":\"slow down\"}"),
	} },
	{ "a dry-run rule lets the login go on", {
	  ALLOWS("trial@example.org", "203.0.113.40", "imap", "", "{\"status\":0}"),
	} },
	{ "a rule for another protocol state does not apply to Dovecot", {
	  ALLOWS("mallory@example.org", "198.51.100.200", "imap", "", "{\"status\":0}"),
	} },
};

START_TEST(scenario_gives_expected_answers)
{
	const struct scenario *sc = &scenarios[_i];
	struct mx_event *ev = tst_event();
	struct reply r;

	for (unsigned i = 0; i < N(sc->steps) && sc->steps[i].a != NULL; i++) {
		const struct step *s = &sc->steps[i];

		switch (s->kind) {
		case LOG:
			ck_assert_msg(tst_parse_line(s->a, ev) == 1, "%s: step %u does not parse",
			    sc->name, i);
			ck_assert_int_eq(policy_observe(env.policy, ev, NOW), 0);
			break;
		case REPORT_FAIL:
		case REPORT_OK:
			tst_http(env.port, "POST", "/?command=report", "", tst_login(s->a, s->b,
			    s->c, s->d, s->kind == REPORT_OK ? "true" : "false"), &r);
			ck_assert_msg(r.code == 200 && strcmp(r.body, "{\"status\":0}") == 0,
			    "%s: step %u: %d %s", sc->name, i, r.code, r.body);
			break;
		case ALLOW:
			tst_http(env.port, "POST", "/?command=allow", "",
			    tst_login(s->a, s->b, s->c, s->d, NULL), &r);
			ck_assert_msg(r.code == 200 && strcmp(r.body, s->want) == 0,
			    "%s: step %u: %d %s, want %s", sc->name, i, r.code, r.body, s->want);
			break;
		}
	}
}
END_TEST

START_TEST(reports_are_not_counted_when_switched_off)
{
	struct auth_policy_conf conf = { .count_reports = 0 };
	struct auth_policy_answer a;
	const char *body = tst_login("kim@example.net", "203.0.113.90", "imap", "", "false");

	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(auth_policy_handle(env.policy, &conf, "report", body,
		    strlen(body), NOW, &a), 0);
		ck_assert_int_eq(a.counted, 0);
	}
	body = tst_login("kim@example.net", "203.0.113.90", "imap", "", NULL);
	ck_assert_int_eq(auth_policy_handle(env.policy, &conf, "allow", body, strlen(body), NOW,
	    &a), 0);
	ck_assert_int_eq(a.http, 200);
	ck_assert_int_eq(a.status, 0);
}
END_TEST

START_TEST(defer_with_a_delay_configured_answers_a_delay)
{
	struct auth_policy_conf conf = { .defer_delay = 5 };
	struct auth_policy_answer a;
	const char *body = tst_login("judy@example.net", "192.0.2.99", "imap", "", NULL);

	ck_assert_int_eq(auth_policy_handle(env.policy, &conf, "allow", body, strlen(body), NOW,
	    &a), 0);
	ck_assert_int_eq(a.http, 200);
	ck_assert_int_eq(a.status, 5);
	ck_assert_str_eq(a.msg, "slow down");
}
END_TEST

START_TEST(api_key_is_required_when_configured)
{
	struct auth_policy_conf conf = { .listen = "127.0.0.1:0", .api_key = "s3cret" };
	const char *body = tst_login("mia@example.net", "203.0.113.92", "imap", "", NULL);
	struct auth_policy *ap;
	struct reply r;
	int port;

	ap = env_server(&conf, &port);
	tst_http(port, "POST", "/?command=allow", "", body, &r);
	ck_assert_int_eq(r.code, 401);
	tst_http(port, "POST", "/?command=allow", "X-API-Key: wrong!\r\n", body, &r);
	ck_assert_int_eq(r.code, 401);
	tst_http(port, "POST", "/?command=allow", "X-API-Key: s3cre\r\n", body, &r);
	ck_assert_int_eq(r.code, 401);
	tst_http(port, "POST", "/?command=allow", "X-API-Key: s3cret\r\n", body, &r);
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.body, "{\"status\":0}");
	auth_policy_free(ap);
}
END_TEST

START_TEST(bad_listen_addresses_are_refused)
{
	static const char *const bad[] = { "127.0.0.1", "localhost:80", "[::1:80", "1.2.3.4:x",
	    "127.0.0.1:70000", ":80", "" };
	struct auth_policy *ap;

	for (size_t i = 0; i < N(bad); i++) {
		struct auth_policy_conf conf = { .listen = bad[i] };

		ck_assert_msg(auth_policy_new(env.e, &conf, env.policy, &ap) == -EINVAL,
		    "\"%s\" accepted", bad[i]);
	}
}
END_TEST

/* ---------------------------------------------------------- action table */

static const struct statuscase {
	const char *name, *action;
	unsigned delay;
	int want;
	const char *want_msg;
} statuscases[] = {
	{ "REJECT refuses with its text", "REJECT too many failed logins", 0, -1,
	  "too many failed logins" },
	{ "a 5xx code refuses, code and enhanced status dropped", "550 5.7.1 go away", 0, -1,
	  "go away" },
	{ "421 refuses when no delay is set", "421 4.7.0 Too many failed logins", 0, -1,
	  "Too many failed logins" },
	{ "421 delays when a delay is set", "421 4.7.0 Too many failed logins", 7, 7,
	  "Too many failed logins" },
	{ "DEFER delays when a delay is set", "DEFER wait", 3, 3, "wait" },
	{ "a delay is capped at five minutes", "DEFER wait", 100000, 300, "wait" },
	{ "defer_if_permit in lower case is a defer", "defer_if_permit later", 0, -1, "later" },
	{ "a code without enhanced status keeps its text", "554 no", 0, -1, "no" },
	{ "DUNNO goes on", "DUNNO", 0, 0, "" },
	{ "OK goes on", "OK", 0, 0, "" },
	{ "HOLD is a Postfix queue action: goes on", "HOLD account under attack", 0, 0, "" },
	{ "DEFER_IF_REJECT goes on (nothing else would reject)", "DEFER_IF_REJECT x", 0, 0, "" },
	{ "a 2xx code goes on", "250 fine", 0, 0, "" },
	{ "REJECT without text refuses with no message", "REJECT", 0, -1, "" },
};

START_TEST(action_maps_to_dovecot_status)
{
	const struct statuscase *c = &statuscases[_i];
	char msg[AUTH_POLICY_MSG_MAX];
	int got = auth_policy_status(c->action, c->delay, msg, sizeof(msg));

	ck_assert_msg(got == c->want, "%s: status %d, want %d", c->name, got, c->want);
	ck_assert_msg(strcmp(msg, c->want_msg) == 0, "%s: msg \"%s\", want \"%s\"", c->name, msg,
	    c->want_msg);
}
END_TEST

static Suite *
auth_policy_suite(void)
{
	Suite *s = suite_create("auth_policy");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, refused_or_plain_request_gets_exact_answer, 0, N(badcases));
	tcase_add_test(tc, body_growing_past_the_limit_in_chunks_is_refused);
	tcase_add_test(tc, keep_alive_connection_answers_requests_in_turn);
	tcase_add_loop_test(tc, scenario_gives_expected_answers, 0, N(scenarios));
	tcase_add_test(tc, reports_are_not_counted_when_switched_off);
	tcase_add_test(tc, defer_with_a_delay_configured_answers_a_delay);
	tcase_add_test(tc, api_key_is_required_when_configured);
	tcase_add_test(tc, bad_listen_addresses_are_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("status");
	tcase_add_loop_test(tc, action_maps_to_dovecot_status, 0, N(statuscases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tst_run_suite(auth_policy_suite());
}
