/*
 * NAME
 *	check_metrics - the registry, its exact exposition, caps, and event-derived metrics
 * DESCRIPTION
 *	A small registry is rendered and compared byte for byte with the
 *	Prometheus text format (HELP/TYPE, escaping, sorting, histogram
 *	buckets, number forms). Caps: a family past its series cap drops and
 *	counts, label values are cut on a character boundary. Event-derived
 *	metrics come from log lines parsed by the real dispatch (tst_parse):
 *	each case names the one series that must move and by how much, and
 *	every other series of the event-derived families must stay at zero.
 * SEE ALSO
 *	metrics.h
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "testutil.h"

static const double demo_buckets[] = { 0.125, 0.5 };

static const char demo_want[] =
    "# HELP demo_big A big gauge.\n"
    "# TYPE demo_big gauge\n"
    "demo_big 1e+20\n"
    "# HELP demo_latency_seconds Time per op.\n"
    "# TYPE demo_latency_seconds histogram\n"
    "demo_latency_seconds_bucket{op=\"get\",le=\"0.125\"} 1\n"
    "demo_latency_seconds_bucket{op=\"get\",le=\"0.5\"} 2\n"
    "demo_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 3\n"
    "demo_latency_seconds_sum{op=\"get\"} 2.375\n"
    "demo_latency_seconds_count{op=\"get\"} 3\n"
    "demo_latency_seconds_bucket{op=\"put\",le=\"0.125\"} 0\n"
    "demo_latency_seconds_bucket{op=\"put\",le=\"0.5\"} 1\n"
    "demo_latency_seconds_bucket{op=\"put\",le=\"+Inf\"} 1\n"
    "demo_latency_seconds_sum{op=\"put\"} 0.5\n"
    "demo_latency_seconds_count{op=\"put\"} 1\n"
    "# HELP demo_requests_total Requests by \\\\ code\\nand path.\n"
    "# TYPE demo_requests_total counter\n"
    "demo_requests_total{code=\"200\",path=\"/?\"} 1\n"
    "demo_requests_total{code=\"200\",path=\"/a\"} 3\n"
    "demo_requests_total{code=\"404\",path=\"/b\\\"q\\\\\\n\"} 0.1\n"
    "# HELP demo_temperature Degrees.\n"
    "# TYPE demo_temperature gauge\n"
    "demo_temperature -1.5\n";

START_TEST(a_small_registry_renders_exactly_as_the_text_format)
{
	struct metrics *m = metrics_registry_new();
	struct metrics_family *req, *temp, *lat, *big, *empty;
	char *buf;
	size_t len;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_COUNTER,
	    .name = "demo_requests_total", .help = "Requests by \\ code\nand path.",
	    .labels = { "code", "path" } }, &req), 0);
	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_GAUGE,
	    .name = "demo_temperature", .help = "Degrees." }, &temp), 0);
	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_GAUGE,
	    .name = "demo_big", .help = "A big gauge." }, &big), 0);
	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_HISTOGRAM,
	    .name = "demo_latency_seconds", .help = "Time per op.", .labels = { "op" },
	    .buckets = demo_buckets, .n_buckets = 2 }, &lat), 0);
	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_COUNTER,
	    .name = "demo_unused_total", .help = "Never touched.", .labels = { "x" } }, &empty),
	    0);
	ck_assert_int_eq(metrics_add(req, (const char *[]){ "200", "/a" }, 1), 0);
	ck_assert_int_eq(metrics_add(req, (const char *[]){ "200", "/a" }, 2), 0);
	ck_assert_int_eq(metrics_add(req, (const char *[]){ "404", "/b\"q\\\n" }, 0.1), 0);
	ck_assert_int_eq(metrics_add(req, (const char *[]){ "200", "/\xff" }, 1), 0);
	ck_assert_int_eq(metrics_set(temp, NULL, -1.5), 0);
	ck_assert_int_eq(metrics_set(big, NULL, 1e20), 0);
	ck_assert_int_eq(metrics_observe(lat, (const char *[]){ "put" }, 0.5), 0);
	ck_assert_int_eq(metrics_observe(lat, (const char *[]){ "get" }, 0.125), 0);
	ck_assert_int_eq(metrics_observe(lat, (const char *[]){ "get" }, 0.25), 0);
	ck_assert_int_eq(metrics_observe(lat, (const char *[]){ "get" }, 2), 0);
	ck_assert_int_eq(metrics_format(m, &buf, &len), 0);
	ck_assert_str_eq(buf, demo_want);
	ck_assert_uint_eq(len, strlen(demo_want));
	free(buf);
	metrics_free(m);
}
END_TEST

START_TEST(a_family_past_its_cap_drops_new_series_and_counts_them)
{
	struct metrics *m = metrics_registry_new();
	struct metrics_family *f, *dropped;
	double v;
	char *buf;
	size_t len;

	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_COUNTER,
	    .name = "capped_total", .help = "Capped.", .labels = { "listener" },
	    .max_series = 2 }, &f), 0);
	ck_assert_int_eq(metrics_add(f, (const char *[]){ "a" }, 1), 0);
	ck_assert_int_eq(metrics_add(f, (const char *[]){ "b" }, 1), 0);
	ck_assert_int_eq(metrics_add(f, (const char *[]){ "c" }, 1), -E2BIG);
	ck_assert_int_eq(metrics_add(f, (const char *[]){ "d" }, 1), -E2BIG);
	ck_assert_int_eq(metrics_add(f, (const char *[]){ "a" }, 1), 0);	/* old ones still count */
	ck_assert_int_eq(metrics_get(f, (const char *[]){ "a" }, &v), 0);
	ck_assert(v == 2);
	ck_assert_int_eq(metrics_get(f, (const char *[]){ "c" }, &v), -ENOENT);
	dropped = metrics_family_find(m, "mxledger_metrics_series_dropped_total");
	ck_assert_ptr_nonnull(dropped);
	ck_assert_int_eq(metrics_get(dropped, (const char *[]){ "capped_total" }, &v), 0);
	ck_assert(v == 2);
	ck_assert_int_eq(metrics_format(m, &buf, &len), 0);
	ck_assert_ptr_nonnull(strstr(buf,
	    "\nmxledger_metrics_series_dropped_total{family=\"capped_total\"} 2\n"));
	ck_assert_ptr_null(strstr(buf, "listener=\"c\""));
	free(buf);
	metrics_free(m);
}
END_TEST

START_TEST(label_values_are_cut_on_a_character_boundary)
{
	struct metrics *m = metrics_registry_new();
	struct metrics_family *f;
	char in[300], want[METRICS_VALUE_MAX + 1], *buf, *p;
	size_t len;

	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_COUNTER,
	    .name = "long_total", .help = "Long.", .labels = { "v" } }, &f), 0);
	/* 127 ASCII bytes then a 2-byte character: it does not fit in 128 */
	memset(in, 'a', METRICS_VALUE_MAX - 1);
	strcpy(in + METRICS_VALUE_MAX - 1, "\xc3\xa9zzz");
	ck_assert_int_eq(metrics_add(f, (const char *[]){ in }, 1), 0);
	ck_assert_int_eq(metrics_format(m, &buf, &len), 0);
	memset(want, 'a', METRICS_VALUE_MAX - 1);
	want[METRICS_VALUE_MAX - 1] = '\0';
	ck_assert_ptr_nonnull(p = strstr(buf, "long_total{v=\""));
	p += strlen("long_total{v=\"");
	ck_assert_int_eq(strncmp(p, want, strlen(want)), 0);
	ck_assert_int_eq(strncmp(p + strlen(want), "\"} 1\n", 5), 0);
	free(buf);
	/* the same long value finds the same series again */
	ck_assert_int_eq(metrics_add(f, (const char *[]){ in }, 1), 0);
	ck_assert_int_eq(metrics_format(m, &buf, &len), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"} 2\n"));
	free(buf);
	metrics_free(m);
}
END_TEST

static const struct defcase {
	const char *name;
	struct metrics_def def;
	int want;
} defcases[] = {
	{ "a name may not start with a digit",
	  { METRICS_COUNTER, "9lives_total", "x", { NULL }, 0, NULL, 0 }, -EINVAL },
	{ "a name may not hold a dash",
	  { METRICS_COUNTER, "a-b_total", "x", { NULL }, 0, NULL, 0 }, -EINVAL },
	{ "a label may not hold a colon",
	  { METRICS_COUNTER, "ok_total", "x", { "a:b" }, 0, NULL, 0 }, -EINVAL },
	{ "a label may not be le: the histogram's own",
	  { METRICS_HISTOGRAM, "h_seconds", "x", { "le" }, 0, demo_buckets, 2 }, -EINVAL },
	{ "a label may not start with two underscores",
	  { METRICS_COUNTER, "ok_total", "x", { "__name" }, 0, NULL, 0 }, -EINVAL },
	{ "a label may not repeat",
	  { METRICS_COUNTER, "ok_total", "x", { "a", "a" }, 0, NULL, 0 }, -EINVAL },
	{ "more than METRICS_LABELS_MAX labels are refused",
	  { METRICS_COUNTER, "ok_total", "x", { "a", "b", "c", "d", "e" }, 0, NULL, 0 }, -EINVAL },
	{ "a histogram needs buckets",
	  { METRICS_HISTOGRAM, "h_seconds", "x", { NULL }, 0, NULL, 0 }, -EINVAL },
	{ "buckets must ascend",
	  { METRICS_HISTOGRAM, "h_seconds", "x", { NULL }, 0,
	    (const double[]){ 0.5, 0.125 }, 2 }, -EINVAL },
	{ "a name with colons and four labels is fine",
	  { METRICS_COUNTER, "job:ok_total", "x", { "a", "b", "c", "d" }, 0, NULL, 0 }, 0 },
	{ "a second family of the same name is refused",
	  { METRICS_COUNTER, "mxledger_metrics_series_dropped_total", "x", { "family" }, 0, NULL,
	    0 }, -EEXIST },
};

START_TEST(family_definitions_are_checked)
{
	const struct defcase *c = &defcases[_i];
	struct metrics *m = metrics_registry_new();
	struct metrics_family *f = NULL;

	ck_assert_msg(metrics_family_new(m, &c->def, &f) == c->want, "%s", c->name);
	if (c->want == 0 || c->want == -EEXIST)
		ck_assert_msg(f != NULL, "%s: the family is returned", c->name);
	metrics_free(m);
}
END_TEST

START_TEST(updates_that_do_not_fit_the_type_are_refused)
{
	struct metrics *m = metrics_registry_new();
	struct metrics_family *c, *g, *h;
	double v;

	metrics_family_new(m, &(struct metrics_def){ .type = METRICS_COUNTER, .name = "c_total",
	    .help = "c", .labels = { "l" } }, &c);
	metrics_family_new(m, &(struct metrics_def){ .type = METRICS_GAUGE, .name = "g",
	    .help = "g" }, &g);
	metrics_family_new(m, &(struct metrics_def){ .type = METRICS_HISTOGRAM, .name = "h",
	    .help = "h", .buckets = demo_buckets, .n_buckets = 2 }, &h);
	ck_assert_int_eq(metrics_add(c, (const char *[]){ "x" }, -1), -EINVAL);
	ck_assert_int_eq(metrics_add(c, (const char *[]){ "x" }, NAN), -EINVAL);
	ck_assert_int_eq(metrics_add(c, (const char *[]){ NULL }, 1), -EINVAL);
	ck_assert_int_eq(metrics_add(c, NULL, 1), -EINVAL);
	ck_assert_int_eq(metrics_observe(c, (const char *[]){ "x" }, 1), -EINVAL);
	ck_assert_int_eq(metrics_set(c, (const char *[]){ "x" }, 10), 0);
	ck_assert_int_eq(metrics_set(c, (const char *[]){ "x" }, 9), -ERANGE);
	ck_assert_int_eq(metrics_get(c, (const char *[]){ "x" }, &v), 0);
	ck_assert(v == 10);
	ck_assert_int_eq(metrics_add(g, NULL, -3), 0);
	ck_assert_int_eq(metrics_set(h, NULL, 1), -EINVAL);
	ck_assert_int_eq(metrics_observe(h, NULL, NAN), -EINVAL);
	ck_assert_int_eq(metrics_observe(h, NULL, 0.2), 0);
	ck_assert_int_eq(metrics_get(h, NULL, &v), 0);
	ck_assert(v == 1);
	metrics_free(m);
}
END_TEST

/* ------------------------------------------------------ event-derived metrics */

static const char *const proxy_nets[] = { "10.0.0.0/8", "2001:db8:f::/48" };

struct evcase {
	const char *name, *program, *msg;
	int proxied;			/* 0: as parsed; 1: force proxied (Dovecot ports) */
	const char *daemon, *event, *listener;	/* the events_total series */
	const char *auth;		/* auth_failures_total{protocol} or NULL */
	double auth_n;
	const char *proxy_err, *fatal, *conn, *lost;	/* listener of the series that must be 1 */
};

#define EV(n, p, m, x, d, e, l) \
	.name = (n), .program = (p), .msg = (m), .proxied = (x), .daemon = (d), .event = (e), \
	.listener = (l)
#define SD	"postfix/smtpd"
#define PX25	"postfix/smtpd-proxy25/smtpd"
#define PS25	"postfix/smtpd-proxy25/postscreen"
#define PX587	"postfix/smtpd-proxy587/smtpd"

static const struct evcase evcases[] = {
	{ EV("an smtpd SASL failure is one smtp auth failure", SD,
	  "warning: unknown[192.0.2.233]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", 0,
	  "smtpd", "auth_failure", "postfix"), .auth = "smtp", .auth_n = 1 },
	{ EV("a Dovecot imap-login summary of 3 failed attempts is 3 imap auth failures", "dovecot",
	  "imap-login: Disconnected: Aborted login by logging out (auth failed, 3 attempts "
	  "in 13 secs): user=<frank@example.net>, method=PLAIN, rip=192.0.2.136, "
	  "lip=203.0.113.254, TLS, session=<7CoSJtRg/9fAAAKI>", 0,
	  "dovecot", "auth_failure", "imap-login"), .conn = "imap-login", .auth = "imap", .auth_n = 3 },
	{ EV("a pop3-login failure without attempts counts one pop3 auth failure", "dovecot",
	  "pop3-login: Aborted login (tried to use disabled plaintext auth): "
	  "rip=198.51.100.21, lip=203.0.113.193", 0,
	  "dovecot", "auth_failure", "pop3-login"), .conn = "pop3-login", .auth = "pop3", .auth_n = 1 },
	{ EV("an auth process lookup failure is an event but not a second auth failure", "dovecot",
	  "auth: passwd-file(office@example.net,203.0.113.193): unknown user", 0,
	  "dovecot", "auth_lookup_failure", "auth") },
	{ EV("a haproxy read error is a PROXY error of its listener", PX587,
	  "warning: haproxy read: EOF", 0,
	  "smtpd", "proxy_error", "postfix/smtpd-proxy587"), .proxy_err = "postfix/smtpd-proxy587" },
	{ EV("the PROXY-listener crash is a fatal of its listener", PX587,
	  "fatal: smtpd_peer_hostaddr_to_sockaddr: cannot convert client address/port to "
	  "string: Servname not supported for ai_socktype", 0,
	  "smtpd", "fatal", "postfix/smtpd-proxy587"), .fatal = "postfix/smtpd-proxy587" },
	{ EV("a connect from 127.0.0.1 on a proxied listener lost the real IP", PX25,
	  "connect from localhost[127.0.0.1]", 0,
	  "smtpd", "connect", "postfix/smtpd-proxy25"), .conn = "postfix/smtpd-proxy25", .lost = "postfix/smtpd-proxy25" },
	{ EV("a connect from anywhere in 127/8 on a proxied listener lost the real IP", PX25,
	  "connect from unknown[127.3.2.1]", 0,
	  "smtpd", "connect", "postfix/smtpd-proxy25"), .conn = "postfix/smtpd-proxy25", .lost = "postfix/smtpd-proxy25" },
	{ EV("a connect from ::1 on a proxied listener lost the real IP", PX25,
	  "connect from localhost[::1]", 0,
	  "smtpd", "connect", "postfix/smtpd-proxy25"), .conn = "postfix/smtpd-proxy25", .lost = "postfix/smtpd-proxy25" },
	{ EV("a connect from a configured proxy network lost the real IP", PX25,
	  "connect from unknown[10.1.2.3]", 0,
	  "smtpd", "connect", "postfix/smtpd-proxy25"), .conn = "postfix/smtpd-proxy25", .lost = "postfix/smtpd-proxy25" },
	{ EV("a connect from a configured IPv6 proxy network lost the real IP", PX25,
	  "connect from unknown[2001:db8:f:1::7]", 0,
	  "smtpd", "connect", "postfix/smtpd-proxy25"), .conn = "postfix/smtpd-proxy25", .lost = "postfix/smtpd-proxy25" },
	{ EV("a connect from next to the IPv6 proxy network is a real client", PX25,
	  "connect from unknown[2001:db8:e::7]", 0,
	  "smtpd", "connect", "postfix/smtpd-proxy25"), .conn = "postfix/smtpd-proxy25" },
	{ EV("a connect from a real client on a proxied listener is fine", PX25,
	  "connect from unknown[203.0.113.5]", 0,
	  "smtpd", "connect", "postfix/smtpd-proxy25"), .conn = "postfix/smtpd-proxy25" },
	{ EV("a connect from 127.0.0.1 on a stock listener is local, not lost", SD,
	  "connect from localhost[127.0.0.1]", 0,
	  "smtpd", "connect", "postfix"), .conn = "postfix" },
	{ EV("a disconnect from 127.0.0.1 on a proxied listener is not counted again", PX25,
	  "disconnect from localhost[127.0.0.1] ehlo=1 quit=1 commands=2", 0,
	  "smtpd", "disconnect", "postfix/smtpd-proxy25") },
	{ EV("a postscreen CONNECT from loopback on a proxied listener lost the real IP", PS25,
	  "CONNECT from [127.0.0.1]:51077 to [203.0.113.254]:25", 0,
	  "postscreen", "connect", "postfix/smtpd-proxy25"), .conn = "postfix/smtpd-proxy25", .lost = "postfix/smtpd-proxy25" },
	{ EV("a Dovecot login from a proxy network on a proxied port lost the real IP", "dovecot",
	  "imap-login: Login: user=<grace@example.net>, method=PLAIN, rip=10.0.0.9, "
	  "lip=198.51.100.25, mpid=32143, TLS, session=<Z/2VKdRgsbvLAHGL>", 1,
	  "dovecot", "auth_success", "imap-login"), .conn = "imap-login", .lost = "imap-login" },
	{ EV("the same Dovecot login on a port that is not proxied is fine", "dovecot",
	  "imap-login: Login: user=<grace@example.net>, method=PLAIN, rip=10.0.0.9, "
	  "lip=198.51.100.25, mpid=32143, TLS, session=<Z/2VKdRgsbvLAHGL>", 0,
	  "dovecot", "auth_success", "imap-login"), .conn = "imap-login" },
	{ EV("a Dovecot auth failure from loopback on a proxied port: one failure, one lost IP",
	  "dovecot",
	  "imap-login: Disconnected (auth failed, 2 attempts): method=PLAIN, "
	  "rip=127.0.0.1, lip=203.0.113.194, TLS: Disconnected", 1,
	  "dovecot", "auth_failure", "imap-login"), .conn = "imap-login", .auth = "imap", .auth_n = 2,
	  .lost = "imap-login" },
};

struct sum {
	double total;
};

static void
sum_visit(void *ud, const struct metrics_sample *s)
{
	((struct sum *)ud)->total += s->value;
}

static double
family_total(struct metrics *m, const char *name)
{
	struct sum sm = { 0 };
	struct metrics_family *f = metrics_family_find(m, name);

	ck_assert_msg(f != NULL, "family %s exists", name);
	metrics_foreach(f, sum_visit, &sm);
	return sm.total;
}

/* check_one - the family's only movement is want on the series of value l */
static void
check_one(struct metrics *m, const char *name, const char *family, const char *l, double want)
{
	struct metrics_family *f = metrics_family_find(m, family);
	double v = 0;

	if (l == NULL) {
		ck_assert_msg(family_total(m, family) == 0, "%s: %s must not move", name, family);
		return;
	}
	ck_assert_msg(metrics_get(f, (const char *[]){ l }, &v) == 0 && v == want,
	    "%s: %s{%s} want %g got %g", name, family, l, want, v);
	ck_assert_msg(family_total(m, family) == want, "%s: only %s{%s} moves", name, family, l);
}

START_TEST(a_parsed_line_moves_exactly_the_metrics_it_should)
{
	const struct evcase *c = &evcases[_i];
	struct mx_event *ev = tst_event();
	struct metrics *m = metrics_new("1.2.3");
	double v = 0;

	ck_assert_int_eq(metrics_set_proxy_networks(m, proxy_nets, N(proxy_nets)), 0);
	ck_assert_msg(tst_parse(c->program, c->msg, ev) == 1, "%s: the line parses", c->name);
	if (c->proxied)
		ev->proxied = 1;
	ck_assert_int_eq(metrics_observe_event(m, ev), 0);
	ck_assert_msg(metrics_get(metrics_family_find(m, "mxledger_events_total"),
	    (const char *[]){ c->daemon, c->event, c->listener }, &v) == 0 && v == 1,
	    "%s: events_total{%s,%s,%s}", c->name, c->daemon, c->event, c->listener);
	ck_assert_msg(family_total(m, "mxledger_events_total") == 1, "%s: one event", c->name);
	check_one(m, c->name, "mxledger_auth_failures_total", c->auth, c->auth_n);
	check_one(m, c->name, "mxledger_proxy_errors_total", c->proxy_err, 1);
	check_one(m, c->name, "mxledger_fatals_total", c->fatal, 1);
	check_one(m, c->name, "mxledger_connections_total", c->conn, 1);
	check_one(m, c->name, "mxledger_real_ip_lost_total", c->lost, 1);
	metrics_free(m);
}
END_TEST

static const struct netcase {
	const char *name, *net;
	int want;
} netcases[] = {
	{ "an IPv4 network", "192.0.2.0/24", 0 },
	{ "an IPv6 network", "2001:db8::/32", 0 },
	{ "a single address", "192.0.2.7", 0 },
	{ "a host bits set network is masked, not refused", "192.0.2.7/24", 0 },
	{ "an IPv4 prefix past 32", "10.0.0.0/33", -EINVAL },
	{ "an IPv6 prefix past 128", "::1/129", -EINVAL },
	{ "an empty prefix", "10.0.0.0/", -EINVAL },
	{ "a prefix that is not a number", "10.0.0.0/x", -EINVAL },
	{ "a name", "proxy.example.net", -EINVAL },
};

START_TEST(proxy_networks_are_checked)
{
	const struct netcase *c = &netcases[_i];
	struct metrics *m = metrics_new("1");

	ck_assert_msg(metrics_set_proxy_networks(m, &c->net, 1) == c->want, "%s", c->name);
	metrics_free(m);
}
END_TEST

START_TEST(the_daemon_helpers_fill_their_families)
{
	static const char *const lines[] = {
		"mxledger_build_info{version=\"1.2.3\"} 1\n",
		"mxledger_policy_requests_total{action=\"DEFER_IF_PERMIT\",rule=\"greylist\"} 1\n",
		"mxledger_policy_requests_total{action=\"DUNNO\",rule=\"\"} 1\n",
		"mxledger_policy_latency_seconds_bucket{le=\"0.00025\"} 0\n",
		"mxledger_policy_latency_seconds_bucket{le=\"0.0005\"} 1\n",
		"mxledger_policy_latency_seconds_bucket{le=\"+Inf\"} 2\n",
		"mxledger_policy_latency_seconds_count 2\n",
		"mxledger_lines_read_total{input=\"/var/log/mail.log\"} 10\n",
		"mxledger_lines_unrecognised_total{input=\"/var/log/mail.log\"} 2\n",
		"mxledger_ingest_lag_seconds{input=\"/var/log/mail.log\"} 0.5\n",
		"mxledger_db_batch_seconds_bucket{le=\"0.005\"} 1\n",
		"mxledger_db_batch_seconds_count 2\n",
		"mxledger_db_errors_total 1\n",
		"mxledger_counters_evicted_total 42\n",
		"# TYPE mxledger_events_total counter\n",
		"# TYPE mxledger_auth_failures_total counter\n",
		"# TYPE mxledger_proxy_errors_total counter\n",
		"# TYPE mxledger_fatals_total counter\n",
		"# TYPE mxledger_real_ip_lost_total counter\n",
		"mxledger_connections_total{listener=\"postfix/smtpd-proxy25\"} 1\n",
		"# TYPE mxledger_ingest_lag_seconds gauge\n",
		"# TYPE mxledger_policy_latency_seconds histogram\n",
		"# TYPE mxledger_db_batch_seconds histogram\n",
		"# TYPE mxledger_build_info gauge\n",
	};
	struct mx_event *ev = tst_event();
	struct metrics *m = metrics_new("1.2.3");
	char *buf, reason[64];
	size_t len, i;

	ck_assert_int_eq(metrics_policy_request(m, "defer_if_permit Service unavailable",
	    "greylist", 0.0003), 0);
	ck_assert_int_eq(metrics_policy_request(m, "DUNNO", NULL, 2), 0);
	ck_assert_int_eq(metrics_input_lines(m, "/var/log/mail.log", 10, 2), 0);
	ck_assert_int_eq(metrics_input_lag(m, "/var/log/mail.log", 0.5), 0);
	ck_assert_int_eq(metrics_db_batch(m, 0.004, 0), 0);
	ck_assert_int_eq(metrics_db_batch(m, 30, 1), 0);
	ck_assert_int_eq(metrics_counters_evicted(m, 42), 0);
	ck_assert_int_eq(metrics_counters_evicted(m, 41), -ERANGE);
	tst_parse(PX25, "connect from localhost[127.0.0.1]", ev);
	metrics_observe_event(m, ev);
	tst_parse(PX587, "warning: haproxy read: EOF", ev);
	metrics_observe_event(m, ev);
	tst_parse(PX587, "fatal: smtpd_peer_hostaddr_to_sockaddr: cannot convert", ev);
	metrics_observe_event(m, ev);
	tst_parse(SD, "warning: unknown[192.0.2.233]: SASL LOGIN authentication failed: x", ev);
	metrics_observe_event(m, ev);
	ck_assert_int_eq(metrics_format(m, &buf, &len), 0);
	for (i = 0; i < N(lines); i++)
		ck_assert_msg(strstr(buf, lines[i]) != NULL, "missing: %s", lines[i]);
	free(buf);
	ck_assert_int_eq(metrics_get_health(m, reason, sizeof(reason)), 1);
	metrics_set_health(m, "database commits failing");
	ck_assert_int_eq(metrics_get_health(m, reason, sizeof(reason)), 0);
	ck_assert_str_eq(reason, "database commits failing");
	metrics_set_health(m, NULL);
	ck_assert_int_eq(metrics_get_health(m, reason, sizeof(reason)), 1);
	/* a plain registry has none of these families */
	metrics_free(m);
	m = metrics_registry_new();
	ck_assert_int_eq(metrics_observe_event(m, ev), -EINVAL);
	ck_assert_int_eq(metrics_db_batch(m, 1, 0), -EINVAL);
	ck_assert_int_eq(metrics_input_lag(m, "x", 1), -EINVAL);
	metrics_free(m);
}
END_TEST

START_TEST(the_textfile_is_the_exposition_written_atomically)
{
	struct metrics *m = metrics_new("1.2.3");
	char path[4096], *buf, got[65536];
	const char *dir = tst_tmpdir();
	struct dirent *de;
	size_t len, n;
	FILE *f;
	DIR *d;

	metrics_input_lines(m, "/var/log/mail.log", 10, 0);
	snprintf(path, sizeof(path), "%s/mxledger.prom", dir);
	ck_assert_int_eq(metrics_write_textfile(m, path), 0);
	metrics_input_lines(m, "/var/log/mail.log", 5, 0);
	ck_assert_int_eq(metrics_write_textfile(m, path), 0);	/* replaces */
	ck_assert_int_eq(metrics_format(m, &buf, &len), 0);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = '\0';
	ck_assert_str_eq(got, buf);
	ck_assert_ptr_nonnull(strstr(got, "{input=\"/var/log/mail.log\"} 15\n"));
	free(buf);
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(de->d_name[0] == '.' || strcmp(de->d_name, "mxledger.prom") == 0,
		    "no temporary file is left: %s", de->d_name);
	closedir(d);
	snprintf(path, sizeof(path), "%s/no/such/dir/x.prom", dir);
	ck_assert_int_eq(metrics_write_textfile(m, path), -ENOENT);
	metrics_free(m);
}
END_TEST

#define THREADS	4
#define ADDS	20000

static void *
adder(void *arg)
{
	struct metrics *m = arg;
	int i;

	for (i = 0; i < ADDS; i++)
		metrics_policy_request(m, i % 2 ? "DUNNO" : "REJECT", "r", 0.001);
	return NULL;
}

START_TEST(updates_from_several_threads_are_all_counted)
{
	struct metrics *m = metrics_new("1");
	pthread_t t[THREADS];
	char *buf;
	size_t len;
	int i;

	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, adder, m), 0);
	for (i = 0; i < 50; i++) {		/* scrape meanwhile */
		ck_assert_int_eq(metrics_format(m, &buf, &len), 0);
		free(buf);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert(family_total(m, "mxledger_policy_requests_total") == THREADS * ADDS);
	metrics_free(m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_small_registry_renders_exactly_as_the_text_format);
	tcase_add_test(tc, a_family_past_its_cap_drops_new_series_and_counts_them);
	tcase_add_test(tc, label_values_are_cut_on_a_character_boundary);
	tcase_add_loop_test(tc, family_definitions_are_checked, 0, N(defcases));
	tcase_add_test(tc, updates_that_do_not_fit_the_type_are_refused);
	tcase_add_loop_test(tc, a_parsed_line_moves_exactly_the_metrics_it_should, 0, N(evcases));
	tcase_add_loop_test(tc, proxy_networks_are_checked, 0, N(netcases));
	tcase_add_test(tc, the_daemon_helpers_fill_their_families);
	tcase_add_test(tc, the_textfile_is_the_exposition_written_atomically);
	tcase_add_test(tc, updates_from_several_threads_are_all_counted);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
