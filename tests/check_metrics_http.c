/*
 * NAME
 *	check_metrics_http - scrape /metrics and /healthz on 127.0.0.1 with a plain socket
 * DESCRIPTION
 *	The server is started on 127.0.0.1 port 0 and spoken to with raw
 *	HTTP/1.1 (every read bounded by a 5 s receive timeout): the body of
 *	/metrics is exactly metrics_format()'s, with the 0.0.4 content type;
 *	/healthz follows metrics_set_health() or a health callback; other
 *	paths are 404 and other methods 405; connections from one address
 *	past the per-address bound are closed unanswered; a bad or taken
 *	address is refused; after metrics_http_free() the port is free.
 * SEE ALSO
 *	metrics_http.h
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_http.h"
#include "testutil.h"

struct reply {
	int status;
	char head[4096];
	char body[65536];
	size_t body_len;
};

static int
connect_to(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 5, 0 };
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* request - send req, read the whole answer (the server closes); 0 or -1 on EOF at once */
static int
request(unsigned port, const char *req, struct reply *ret)
{
	static char raw[sizeof(ret->head) + sizeof(ret->body)];
	size_t got = 0;
	ssize_t n;
	char *sep;
	int fd = connect_to(port);

	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got < sizeof(raw) - 1 && (n = read(fd, raw + got, sizeof(raw) - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	raw[got] = '\0';
	if (got == 0)
		return -1;
	ck_assert_ptr_nonnull(sep = strstr(raw, "\r\n\r\n"));
	ck_assert_uint_lt((size_t)(sep - raw), sizeof(ret->head));
	memcpy(ret->head, raw, (size_t)(sep - raw));
	ret->head[sep - raw] = '\0';
	ret->body_len = got - (size_t)(sep + 4 - raw);
	memcpy(ret->body, sep + 4, ret->body_len);
	ret->body[ret->body_len] = '\0';
	ck_assert_int_eq(sscanf(raw, "HTTP/1.%*d %d", &ret->status), 1);
	return 0;
}

static struct reply rp;

#define GET(path)	"GET " path " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"

START_TEST(a_scrape_gets_the_exposition_with_its_content_type)
{
	struct metrics *m = metrics_new("1.2.3");
	struct metrics_http *h;
	char *want;
	size_t len;

	metrics_input_lines(m, "/var/log/mail.log", 7, 1);
	ck_assert_int_eq(metrics_http_new(m, "127.0.0.1:0", NULL, NULL, &h), 0);
	ck_assert_uint_gt(metrics_http_port(h), 0);
	ck_assert_int_eq(request(metrics_http_port(h), GET("/metrics"), &rp), 0);
	ck_assert_int_eq(rp.status, 200);
	ck_assert_ptr_nonnull(strcasestr(rp.head,
	    "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"));
	ck_assert_int_eq(metrics_format(m, &want, &len), 0);
	ck_assert_str_eq(rp.body, want);
	ck_assert_ptr_nonnull(strstr(rp.body,
	    "mxledger_lines_read_total{input=\"/var/log/mail.log\"} 7\n"));
	free(want);
	/* HEAD: the same status, no body */
	ck_assert_int_eq(request(metrics_http_port(h),
	    "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &rp), 0);
	ck_assert_int_eq(rp.status, 200);
	ck_assert_uint_eq(rp.body_len, 0);
	metrics_http_free(h);
	metrics_free(m);
}
END_TEST

static const struct rcase {
	const char *name, *req;
	int status;			/* 0: closed without an answer */
	const char *head, *body;
} rcases[] = {
	{ "healthz is ok while nobody says otherwise", GET("/healthz"), 200, NULL, "ok\n" },
	{ "an unknown path is 404", GET("/metrics/extra"), 404, NULL, NULL },
	{ "the root is 404", GET("/"), 404, NULL, NULL },
	{ "a query string does not change the path", GET("/metrics?x=1"), 200, NULL, NULL },
	{ "POST is 405 with Allow",
	  "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
	  405, "\r\nAllow: GET, HEAD", NULL },
	{ "DELETE on healthz is 405",
	  "DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, NULL, NULL },
	{ "HTTP/1.0 without Host works", "GET /healthz HTTP/1.0\r\n\r\n", 200, NULL, "ok\n" },
	{ "a request line without a version is a 400", "GET /metrics\r\n\r\n", 400, NULL, NULL },
	{ "an unknown HTTP version is a 505",
	  "GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n", 505, NULL, NULL },
	{ "garbage is closed unanswered, not a crash", "BLAH\r\n\r\n", 0, NULL, NULL },
};

START_TEST(paths_and_methods_get_their_status)
{
	const struct rcase *c = &rcases[_i];
	struct metrics *m = metrics_new("1");
	struct metrics_http *h;

	ck_assert_int_eq(metrics_http_new(m, "127.0.0.1:0", NULL, NULL, &h), 0);
	if (c->status == 0) {
		ck_assert_msg(request(metrics_http_port(h), c->req, &rp) == -1, "%s", c->name);
		ck_assert_int_eq(request(metrics_http_port(h), GET("/healthz"), &rp), 0);
		ck_assert_msg(rp.status == 200, "%s: still serving", c->name);
		goto out;
	}
	ck_assert_msg(request(metrics_http_port(h), c->req, &rp) == 0, "%s: an answer", c->name);
	ck_assert_msg(rp.status == c->status, "%s: status %d", c->name, rp.status);
	if (c->head != NULL)
		ck_assert_msg(strcasestr(rp.head, c->head) != NULL, "%s: %s", c->name, rp.head);
	if (c->body != NULL)
		ck_assert_str_eq(rp.body, c->body);
out:
	metrics_http_free(h);
	metrics_free(m);
}
END_TEST

static int
sick(void *ud, char *buf, size_t size)
{
	snprintf(buf, size, "%s", (const char *)ud);
	return 0;
}

START_TEST(healthz_reports_what_the_daemon_says)
{
	struct metrics *m = metrics_new("1");
	struct metrics_http *h;

	ck_assert_int_eq(metrics_http_new(m, "127.0.0.1:0", NULL, NULL, &h), 0);
	metrics_set_health(m, "database commits failing");
	ck_assert_int_eq(request(metrics_http_port(h), GET("/healthz"), &rp), 0);
	ck_assert_int_eq(rp.status, 503);
	ck_assert_str_eq(rp.body, "unhealthy: database commits failing\n");
	metrics_set_health(m, NULL);
	ck_assert_int_eq(request(metrics_http_port(h), GET("/healthz"), &rp), 0);
	ck_assert_int_eq(rp.status, 200);
	metrics_http_free(h);
	/* a callback takes precedence */
	ck_assert_int_eq(metrics_http_new(m, "127.0.0.1:0", sick, (void *)"inputs paused", &h), 0);
	ck_assert_int_eq(request(metrics_http_port(h), GET("/healthz"), &rp), 0);
	ck_assert_int_eq(rp.status, 503);
	ck_assert_str_eq(rp.body, "unhealthy: inputs paused\n");
	metrics_http_free(h);
	metrics_free(m);
}
END_TEST

START_TEST(connections_from_one_address_are_bounded)
{
	struct metrics *m = metrics_new("1");
	struct metrics_http *h;
	int fds[METRICS_HTTP_PER_IP], extra, i;
	char c;

	ck_assert_int_eq(metrics_http_new(m, "127.0.0.1:0", NULL, NULL, &h), 0);
	for (i = 0; i < METRICS_HTTP_PER_IP; i++)
		fds[i] = connect_to(metrics_http_port(h));
	usleep(200000);		/* let the server accept them */
	extra = connect_to(metrics_http_port(h));
	ck_assert_int_eq(write(extra, GET("/healthz"), strlen(GET("/healthz"))),
	    (ssize_t)strlen(GET("/healthz")));
	ck_assert_int_le(read(extra, &c, 1), 0);	/* closed unanswered */
	close(extra);
	for (i = 0; i < METRICS_HTTP_PER_IP; i++)
		close(fds[i]);
	usleep(200000);
	ck_assert_int_eq(request(metrics_http_port(h), GET("/healthz"), &rp), 0);
	ck_assert_int_eq(rp.status, 200);
	metrics_http_free(h);
	metrics_free(m);
}
END_TEST

static const struct lcase {
	const char *name, *listen;
} lcases[] = {
	{ "no port", "127.0.0.1" },
	{ "an empty port", "127.0.0.1:" },
	{ "a name instead of an address", "localhost:9154" },
	{ "a port past 65535", "127.0.0.1:65536" },
	{ "a port that is not a number", "127.0.0.1:http" },
	{ "IPv6 without brackets", "::1:9154" },
	{ "brackets around IPv4", "[127.0.0.1]:9154" },
	{ "nothing", "" },
};

START_TEST(a_bad_listen_address_is_refused)
{
	const struct lcase *c = &lcases[_i];
	struct metrics *m = metrics_new("1");
	struct metrics_http *h = NULL;

	ck_assert_msg(metrics_http_new(m, c->listen, NULL, NULL, &h) == -EINVAL, "%s", c->name);
	ck_assert_ptr_null(h);
	metrics_free(m);
}
END_TEST

START_TEST(a_taken_port_is_refused_and_a_freed_one_is_free)
{
	struct metrics *m = metrics_new("1");
	struct metrics_http *h, *h2;
	char addr[64];

	ck_assert_int_eq(metrics_http_new(m, "127.0.0.1:0", NULL, NULL, &h), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", metrics_http_port(h));
	ck_assert_int_eq(metrics_http_new(m, addr, NULL, NULL, &h2), -EADDRINUSE);
	metrics_http_free(h);
	ck_assert_int_eq(metrics_http_new(m, addr, NULL, NULL, &h2), 0);
	metrics_http_free(h2);
	ck_assert_ptr_null(metrics_http_free(NULL));
	metrics_free(m);
}
END_TEST

START_TEST(ipv6_loopback_is_served_when_the_host_has_it)
{
	struct metrics *m = metrics_new("1");
	struct metrics_http *h;
	int r = metrics_http_new(m, "[::1]:0", NULL, NULL, &h);

	if (r == -EAFNOSUPPORT || r == -EADDRNOTAVAIL) {
		metrics_free(m);
		return;		/* no IPv6 in this sandbox */
	}
	ck_assert_int_eq(r, 0);
	ck_assert_uint_gt(metrics_http_port(h), 0);
	metrics_http_free(h);
	metrics_free(m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics_http");
	TCase *tc = tcase_create("metrics_http");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_scrape_gets_the_exposition_with_its_content_type);
	tcase_add_loop_test(tc, paths_and_methods_get_their_status, 0, N(rcases));
	tcase_add_test(tc, healthz_reports_what_the_daemon_says);
	tcase_add_test(tc, connections_from_one_address_are_bounded);
	tcase_add_loop_test(tc, a_bad_listen_address_is_refused, 0, N(lcases));
	tcase_add_test(tc, a_taken_port_is_refused_and_a_freed_one_is_free);
	tcase_add_test(tc, ipv6_loopback_is_served_when_the_host_has_it);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
