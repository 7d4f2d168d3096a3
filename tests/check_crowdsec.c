/*
 * NAME
 *	check_crowdsec - the CrowdSec client against a stand-in LAPI that misbehaves
 * DESCRIPTION
 *	A one-connection-at-a-time HTTP server on a loopback port (a thread of
 *	this test) answers each request with the next canned answer of a
 *	script: good streams, 403, 500, garbage, a truncated body, a body that
 *	never ends, silence past the timeout, a closed connection. For each
 *	script crowdsec_sync() is called in turn and the test checks what the
 *	client keeps (the last good set), what it says (return value, stats),
 *	and that a lookup made while a pull hangs answers at once (the HTTP
 *	exchange does not hold the set's lock). The real LAPI is driven by
 *	tests/integration/crowdsec.sh.
 * SEE ALSO
 *	crowdsec.h, tests/check_crowdsec_lapi.c (the bodies), tests/check_crowdsec_set.c
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "crowdsec.h"
#include "testutil.h"

/* --------------------------------------------------------- stand-in LAPI */

enum { ANSWER, SILENT, CLOSE, ENDLESS };

struct answer {
	int how;
	const char *status;	/* "200 OK" */
	const char *body;
};

#define A200(b)		{ ANSWER, "200 OK", b }
#define STARTUP_TWO	"{\"deleted\":null,\"new\":[" \
	"{\"duration\":\"1h\",\"id\":1,\"origin\":\"cscli\",\"scenario\":\"t\",\"scope\":\"Ip\"," \
	"\"type\":\"ban\",\"value\":\"203.0.113.7\"}," \
	"{\"duration\":\"2h\",\"id\":2,\"origin\":\"cscli\",\"scenario\":\"r\"," \
	"\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.51.100.0/24\"}]}"
#define STARTUP_ONE	"{\"deleted\":null,\"new\":[" \
	"{\"duration\":\"1h\",\"id\":3,\"origin\":\"cscli\",\"scenario\":\"t\",\"scope\":\"Ip\"," \
	"\"type\":\"captcha\",\"value\":\"192.0.2.9\"}]}"

struct server {
	int fd;
	unsigned port;
	const struct answer *script;
	size_t n, next;
	char last_request[2048];
	pthread_t thread;
	int stop;
};

static struct server srv;

/* server_read_request - read until the end of the headers (and a short body), bounded */
static void
server_read_request(int c)
{
	size_t len = 0;
	struct pollfd p = { .fd = c, .events = POLLIN };

	srv.last_request[0] = '\0';
	while (len < sizeof(srv.last_request) - 1 && poll(&p, 1, 2000) == 1) {
		ssize_t r = read(c, srv.last_request + len, sizeof(srv.last_request) - 1 - len);

		if (r <= 0)
			break;
		len += (size_t)r;
		srv.last_request[len] = '\0';
		if (strstr(srv.last_request, "\r\n\r\n") != NULL)
			break;
	}
}

/* server_until_closed - wait (trickling a byte every 100 ms) until the client closes; 5 s at most */
static void
server_until_closed(int c, int trickle)
{
	for (int i = 0; i < 50 && !srv.stop; i++) {
		struct pollfd p = { .fd = c, .events = POLLIN };
		char b[256];

		if (trickle && send(c, " ", 1, MSG_NOSIGNAL) < 0)
			return;
		if (poll(&p, 1, 100) == 1 && read(c, b, sizeof(b)) <= 0)
			return;
	}
}

static void *
server_main(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		struct pollfd p = { .fd = srv.fd, .events = POLLIN };
		const struct answer *a;
		char head[256];
		int c;

		if (poll(&p, 1, 100) != 1)
			continue;
		if ((c = accept(srv.fd, NULL, NULL)) < 0)
			continue;
		server_read_request(c);
		a = srv.next < srv.n ? &srv.script[srv.next] : NULL;
		srv.next++;
		if (a == NULL || a->how == CLOSE) {
			close(c);
			continue;
		}
		if (a->how == SILENT) {		/* until the client gives up (5 s at most) */
			server_until_closed(c, 0);
			close(c);
			continue;
		}
		if (a->how == ENDLESS) {	/* headers, then a trickle past the timeout */
			snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
			    "Content-Type: application/json\r\n\r\n{\"new\":[");
			(void)!send(c, head, strlen(head), MSG_NOSIGNAL);
			server_until_closed(c, 1);
			close(c);
			continue;
		}
		snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n"
		    "Content-Type: application/json\r\nConnection: close\r\n\r\n", a->status,
		    strlen(a->body));
		(void)!send(c, head, strlen(head), MSG_NOSIGNAL);
		(void)!send(c, a->body, strlen(a->body), MSG_NOSIGNAL);
		close(c);
	}
	return NULL;
}

static void
server_start(const struct answer *script, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	memset(&srv, 0, sizeof(srv));
	srv.script = script;
	srv.n = n;
	ck_assert_int_ge(srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 0);
	ck_assert_int_eq(bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(srv.fd, 8), 0);
	ck_assert_int_eq(getsockname(srv.fd, (struct sockaddr *)&sa, &sl), 0);
	srv.port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
}

static void
server_stop(void)
{
	srv.stop = 1;
	pthread_join(srv.thread, NULL);
	close(srv.fd);
}

/* ---------------------------------------------------------------- client */

static struct crowdsec *
client_new(struct mx_crowdsec_conf *conf, char *url, size_t size)
{
	struct crowdsec *cs = NULL;

	snprintf(url, size, "http://127.0.0.1:%u", srv.port);
	*conf = (struct mx_crowdsec_conf){
		.present = 1, .url = url, .api_key = (char *)"k3y",
		.interval_msec = 1000, .timeout_msec = 500, .stale_msec = 60000,
	};
	ck_assert_int_eq(crowdsec_new(conf, NULL, &cs), 0);
	return cs;
}

/* banned - does the client hold a decision of type for the IPv4 text? */
static int
holds(struct crowdsec *cs, const char *ip, const char *type)
{
	struct rules_cs_match m;
	unsigned char a[4];

	ck_assert_int_eq(inet_pton(AF_INET, ip, a), 1);
	ck_assert_int_eq(crowdsec_lookup(cs, AF_INET, a, clock_now_usec(), &m), 0);
	return m.n > 0 && strcmp(m.d[0].type, type) == 0;
}

/* After a good startup pull, each bad answer fails the next pull and keeps the set. */
static const struct bcase {
	const char *name;
	struct answer bad;
	int want;		/* crowdsec_sync()'s return */
	const char *want_error;	/* a part of stats.last_error */
} bcases[] = {
	{ "403: the key is refused", { ANSWER, "403 Forbidden",
	  "{\"message\":\"access forbidden\"}" }, -EACCES, "HTTP 403: access forbidden" },
	{ "500 with a message", { ANSWER, "500 Internal Server Error",
	  "{\"message\":\"database is locked\"}" }, -EIO, "HTTP 500: database is locked" },
	{ "200 with HTML", A200("<html>proxy error</html>"), -EBADMSG,
	  "not a decision stream" },
	{ "200 with a truncated body", A200("{\"deleted\":null,\"new\":[{\"id\":1,"), -EBADMSG,
	  "not a decision stream" },
	{ "200 with a JSON array", A200("[]"), -EBADMSG, "not a decision stream" },
	{ "200 with new as a string", A200("{\"new\":\"x\"}"), -EBADMSG,
	  "not a decision stream" },
	{ "the connection closed at once", { CLOSE, NULL, NULL }, -EIO, "" },
	{ "no answer within the timeout", { SILENT, NULL, NULL }, -EIO, "" },
	{ "a body that trickles past the timeout", { ENDLESS, NULL, NULL }, -EIO, "" },
};

START_TEST(a_bad_answer_keeps_the_last_good_set)
{
	const struct bcase *c = &bcases[_i];
	const struct answer script[] = {
		A200(STARTUP_TWO), c->bad, A200(STARTUP_ONE),
	};
	struct mx_crowdsec_conf conf;
	struct crowdsec_stats s;
	struct crowdsec *cs;
	char url[64];

	server_start(script, N(script));
	cs = client_new(&conf, url, sizeof(url));
	ck_assert_int_eq(crowdsec_sync(cs), 0);
	ck_assert_msg(strstr(srv.last_request, "GET /v1/decisions/stream?startup=true ") != NULL,
	    "%s: request\n%s", c->name, srv.last_request);
	ck_assert_msg(strstr(srv.last_request, "\r\nX-Api-Key: k3y\r\n") != NULL,
	    "%s: no key header", c->name);
	ck_assert(holds(cs, "203.0.113.7", "ban"));
	ck_assert(holds(cs, "198.51.100.42", "ban"));

	ck_assert_int_eq(crowdsec_sync(cs), c->want);
	crowdsec_get_stats(cs, &s);
	ck_assert_msg(strstr(s.last_error, c->want_error) != NULL && s.last_error[0] != '\0',
	    "%s: last_error \"%s\"", c->name, s.last_error);
	ck_assert_uint_eq(s.syncs_ok, 1);
	ck_assert_uint_eq(s.syncs_failed, 1);
	ck_assert_uint_eq(s.decisions, 2);
	ck_assert_msg(holds(cs, "203.0.113.7", "ban"), "%s: the last set is lost", c->name);
	ck_assert(holds(cs, "198.51.100.42", "ban"));

	/* recovery: a full set replaces the old one */
	ck_assert_int_eq(crowdsec_sync(cs), 0);
	crowdsec_get_stats(cs, &s);
	ck_assert_str_eq(s.last_error, "");
	ck_assert_uint_eq(s.decisions, 1);
	ck_assert(!holds(cs, "203.0.113.7", "ban"));
	ck_assert(holds(cs, "192.0.2.9", "captcha"));
	crowdsec_free(cs);
	server_stop();
}
END_TEST

/* A lookup made while a pull waits on a silent LAPI. */
struct pull_arg {
	struct crowdsec *cs;
	int r;
	int done;		/* set (atomically) once the pull returned */
};

static void *
pull_main(void *arg)
{
	struct pull_arg *pa = arg;

	pa->r = crowdsec_sync(pa->cs);
	__atomic_store_n(&pa->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

START_TEST(lookups_do_not_wait_for_a_hanging_pull)
{
	const struct answer script[] = { A200(STARTUP_TWO), { SILENT, NULL, NULL } };
	struct mx_crowdsec_conf conf;
	struct pull_arg pa = { 0 };
	pthread_t t;
	char url[64];
	int during;

	server_start(script, N(script));
	pa.cs = client_new(&conf, url, sizeof(url));
	ck_assert_int_eq(crowdsec_sync(pa.cs), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, pull_main, &pa), 0);
	while (srv.next < 2)		/* the server took the second request: the pull waits */
		usleep(1000);
	for (int i = 0; i < 100; i++)
		ck_assert(holds(pa.cs, "203.0.113.7", "ban"));
	/* the lookups were answered while the pull still waited on the silent LAPI */
	during = !__atomic_load_n(&pa.done, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	ck_assert_msg(during, "the lookups waited for the pull to end");
	ck_assert_int_eq(pa.r, -EIO);
	crowdsec_free(pa.cs);
	server_stop();
}
END_TEST

START_TEST(an_incremental_pull_adds_and_deletes)
{
	const struct answer script[] = {
		A200(STARTUP_TWO),
		A200("{\"deleted\":[{\"duration\":\"-1s\",\"id\":1,\"origin\":\"cscli\","
		    "\"scenario\":\"t\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.7\"}],"
		    "\"new\":[{\"duration\":\"30m\",\"id\":4,\"origin\":\"crowdsec\",\"scenario\":\"x\","
		    "\"scope\":\"Ip\",\"type\":\"captcha\",\"value\":\"2001:db8::4\"}]}"),
		/* a deletion repeated (the LAPI's 2 s overlap) and one never seen: no harm */
		A200("{\"deleted\":[{\"duration\":\"-3s\",\"id\":1,\"origin\":\"cscli\","
		    "\"scenario\":\"t\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.7\"},"
		    "{\"duration\":\"-3s\",\"id\":99,\"origin\":\"cscli\",\"scenario\":\"t\","
		    "\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"192.0.2.99\"}],\"new\":null}"),
	};
	struct mx_crowdsec_conf conf;
	struct crowdsec_stats s;
	struct crowdsec *cs;
	struct rules_cs_match m;
	unsigned char a6[16];
	char url[64];

	server_start(script, N(script));
	cs = client_new(&conf, url, sizeof(url));
	ck_assert_int_eq(crowdsec_start(cs), 0);	/* the thread pulls every second */
	for (int i = 0; i < 100 && srv.next < 3; i++)
		usleep(50000);
	ck_assert_uint_ge(srv.next, 3);
	usleep(100000);
	ck_assert_msg(strstr(srv.last_request, "GET /v1/decisions/stream ") != NULL,
	    "later pulls are incremental:\n%s", srv.last_request);
	crowdsec_get_stats(cs, &s);
	ck_assert_uint_eq(s.decisions, 2);
	ck_assert_uint_eq(s.bans, 1);
	ck_assert_uint_eq(s.captchas, 1);
	ck_assert(!holds(cs, "203.0.113.7", "ban"));
	ck_assert(holds(cs, "198.51.100.1", "ban"));
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::4", a6), 1);
	crowdsec_lookup(cs, AF_INET6, a6, clock_now_usec(), &m);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_str_eq(m.d[0].type, "captcha");
	ck_assert_str_eq(m.d[0].origin, "crowdsec");
	crowdsec_free(cs);
	server_stop();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("crowdsec");
	TCase *tc = tcase_create("client");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, a_bad_answer_keeps_the_last_good_set, 0, N(bcases));
	tcase_add_test(tc, lookups_do_not_wait_for_a_hanging_pull);
	tcase_add_test(tc, an_incremental_pull_adds_and_deletes);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
