/*
 * NAME
 *	check_alerts - alert transitions on an injected clock, and the Alertmanager POST
 * DESCRIPTION
 *	Transition cases are scripts over a plain registry: updates at given
 *	times and evaluations, each evaluation with the exact transitions
 *	("firing:GROUP", "resolved:GROUP", comma-separated, "" for none) the
 *	notify callback must see. The clock is only ever the argument.
 *
 *	The Alertmanager cases run the default rules over metrics_new() fed
 *	with parsed log lines, and a receiver written here on 127.0.0.1 (a
 *	listening socket read with poll() bounded at 5 s) takes the POSTs:
 *	request line, content type and the exact JSON body are compared.
 * SEE ALSO
 *	alerts.h, alertmanager.h
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alerts.h"
#include "metrics.h"
#include "testutil.h"

#define SEC	INT64_C(1000000)
#define T0	TST_TS			/* 2026-11-22T01:02:03Z */

static const double t_buckets[] = { 0.01, 0.1, 1 };

/* a registry with one family of each shape the rules read */
static struct metrics *
t_registry(void)
{
	struct metrics *m = metrics_registry_new();

	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_COUNTER,
	    .name = "t_total", .help = "t", .labels = { "listener" } }, NULL), 0);
	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_COUNTER,
	    .name = "t_conn_total", .help = "t", .labels = { "listener" } }, NULL), 0);
	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_GAUGE,
	    .name = "t_gauge", .help = "t", .labels = { "input" } }, NULL), 0);
	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_COUNTER,
	    .name = "t_req_total", .help = "t", .labels = { "action" } }, NULL), 0);
	ck_assert_int_eq(metrics_family_new(m, &(struct metrics_def){ .type = METRICS_HISTOGRAM,
	    .name = "t_seconds", .help = "t", .buckets = t_buckets, .n_buckets = 3 }, NULL), 0);
	return m;
}

enum { END, ADD, SET, OBS, EVAL };

struct step {
	int op;
	int64_t t;			/* seconds after T0 */
	const char *family, *label;	/* ADD, SET, OBS (OBS: no label) */
	double v;
	int times;			/* OBS: observations of v (0 = 1) */
	const char *want;		/* EVAL: transitions */
};

#define S_ADD(t, f, l, v)	{ ADD, t, f, l, v, 0, NULL }
#define S_SET(t, f, l, v)	{ SET, t, f, l, v, 0, NULL }
#define S_OBS(t, v, n)		{ OBS, t, "t_seconds", NULL, v, n, NULL }
#define S_EVAL(t, w)		{ EVAL, t, NULL, NULL, 0, 0, w }
#define S_END			{ END, 0, NULL, NULL, 0, 0, NULL }

static const struct tcase {
	const char *name;
	struct alerts_rule rule;
	struct step steps[24];
} tcases[] = {
	{ "an increase past the threshold fires at once and resolves a window later",
	  { .name = "Spike", .kind = ALERTS_INCREASE, .family = "t_total", .by = "listener",
	    .threshold = 5, .window_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_EVAL(0, ""), S_ADD(10, "t_total", "a", 6), S_EVAL(15, "firing:a"),
		S_EVAL(30, ""), S_EVAL(70, ""), S_EVAL(75, "resolved:a"), S_EVAL(90, ""),
		S_END } },
	{ "an increase equal to the threshold does not fire",
	  { .name = "Spike", .kind = ALERTS_INCREASE, .family = "t_total", .by = "listener",
	    .threshold = 5, .window_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_EVAL(0, ""), S_ADD(10, "t_total", "a", 5), S_EVAL(15, ""), S_END } },
	{ "groups fire and resolve apart",
	  { .name = "Spike", .kind = ALERTS_INCREASE, .family = "t_total", .by = "listener",
	    .threshold = 5, .window_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_EVAL(0, ""), S_ADD(1, "t_total", "a", 6), S_ADD(1, "t_total", "b", 1),
		S_EVAL(15, "firing:a"), S_ADD(20, "t_total", "b", 9), S_EVAL(30, "firing:b"),
		S_EVAL(75, "resolved:a"), S_EVAL(90, "resolved:b"), S_END } },
	{ "without a group label all series are summed",
	  { .name = "Spike", .kind = ALERTS_INCREASE, .family = "t_total",
	    .threshold = 5, .window_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_EVAL(0, ""), S_ADD(1, "t_total", "a", 3), S_ADD(1, "t_total", "b", 3),
		S_EVAL(15, "firing:-"), S_END } },
	{ "a group first seen after the first evaluation counts from zero",
	  { .name = "Spike", .kind = ALERTS_INCREASE, .family = "t_total", .by = "listener",
	    .threshold = 5, .window_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_EVAL(0, ""), S_ADD(5, "t_total", "c", 6), S_EVAL(15, "firing:c"), S_END } },
	{ "what was counted before the first evaluation is history, not a spike",
	  { .name = "Spike", .kind = ALERTS_INCREASE, .family = "t_total", .by = "listener",
	    .threshold = 5, .window_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_ADD(0, "t_total", "a", 100), S_EVAL(1, ""), S_EVAL(2, ""),
		S_ADD(3, "t_total", "a", 6), S_EVAL(4, "firing:a"), S_END } },
	{ "a growth spread thinly over more than the window does not fire",
	  { .name = "Spike", .kind = ALERTS_INCREASE, .family = "t_total", .by = "listener",
	    .threshold = 5, .window_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_EVAL(0, ""), S_ADD(1, "t_total", "a", 2), S_EVAL(15, ""),
		S_ADD(40, "t_total", "a", 2), S_EVAL(45, ""), S_ADD(80, "t_total", "a", 2),
		S_EVAL(85, ""), S_ADD(120, "t_total", "a", 2), S_EVAL(125, ""), S_END } },
	{ "a gauge must stay above for the whole for time; a blip is forgotten",
	  { .name = "Lag", .kind = ALERTS_ABOVE, .family = "t_gauge", .by = "input",
	    .threshold = 300, .for_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_SET(0, "t_gauge", "in", 500), S_EVAL(0, ""), S_EVAL(30, ""),
		S_SET(40, "t_gauge", "in", 100), S_EVAL(45, ""),
		S_SET(50, "t_gauge", "in", 500), S_EVAL(50, ""), S_EVAL(100, ""),
		S_EVAL(110, "firing:in"), S_EVAL(140, ""),
		S_SET(150, "t_gauge", "in", 0), S_EVAL(150, "resolved:in"), S_END } },
	{ "no growth over a whole window is a stall, once a window of history exists",
	  { .name = "Stalled", .kind = ALERTS_NO_INCREASE, .family = "t_total",
	    .by = "listener", .window_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_ADD(0, "t_total", "a", 1), S_EVAL(0, ""), S_EVAL(30, ""), S_EVAL(59, ""),
		S_EVAL(61, "firing:a"), S_ADD(70, "t_total", "a", 1), S_EVAL(75, "resolved:a"),
		S_EVAL(120, ""), S_EVAL(140, "firing:a"), S_END } },
	{ "a ratio fires when most requests are rejected, and only with enough of them",
	  { .name = "Rejects", .kind = ALERTS_RATIO, .family = "t_req_total",
	    .match_label = "action", .match = "REJECT|DEFER*", .threshold = 0.5,
	    .min_total = 10, .window_usec = 60 * SEC, .severity = "warning", .summary = "s" }, {
		S_EVAL(0, ""), S_ADD(5, "t_req_total", "REJECT", 6),
		S_ADD(5, "t_req_total", "DUNNO", 2), S_EVAL(10, ""),
		S_ADD(12, "t_req_total", "DEFER_IF_PERMIT", 1), S_ADD(12, "t_req_total", "DUNNO", 1),
		S_EVAL(15, "firing:-"), S_ADD(20, "t_req_total", "DUNNO", 20),
		S_EVAL(25, "resolved:-"), S_END } },
	{ "a ratio of two families fires per group past both the share and the count",
	  { .name = "Lost", .kind = ALERTS_RATIO, .family = "t_total", .den_family = "t_conn_total",
	    .by = "listener", .threshold = 0.5, .min_count = 5, .window_usec = 60 * SEC,
	    .severity = "warning", .summary = "s" }, {
		S_EVAL(0, ""), S_ADD(1, "t_conn_total", "a", 10), S_ADD(1, "t_total", "a", 5),
		S_ADD(1, "t_conn_total", "b", 4), S_ADD(1, "t_total", "b", 4),
		S_ADD(1, "t_total", "c", 10), S_EVAL(10, ""),
		S_ADD(12, "t_total", "a", 1), S_EVAL(15, "firing:a"),
		S_ADD(20, "t_conn_total", "a", 10), S_EVAL(25, "resolved:a"), S_END } },
	{ "a high quantile of a histogram fires; an empty window resolves it",
	  { .name = "Slow", .kind = ALERTS_QUANTILE, .family = "t_seconds", .q = 0.9,
	    .threshold = 0.05, .min_total = 5, .window_usec = 60 * SEC, .severity = "warning",
	    .summary = "s" }, {
		S_EVAL(0, ""), S_OBS(5, 0.005, 10), S_EVAL(10, ""), S_OBS(12, 0.5, 10),
		S_EVAL(15, "firing:-"), S_EVAL(80, "resolved:-"), S_END } },
	{ "a pending condition that lasts fires once, not at every evaluation",
	  { .name = "Spike", .kind = ALERTS_INCREASE, .family = "t_total", .by = "listener",
	    .threshold = 5, .window_usec = 600 * SEC, .for_usec = 30 * SEC,
	    .severity = "warning", .summary = "s" }, {
		S_EVAL(0, ""), S_ADD(1, "t_total", "a", 6), S_EVAL(15, ""), S_EVAL(30, ""),
		S_EVAL(45, "firing:a"), S_EVAL(60, ""), S_EVAL(300, ""), S_END } },
};

struct seen {
	char text[1024];
	double last_value;
	int64_t last_starts, last_ends;
};

static void
capture(void *ud, const struct alerts_notice *n)
{
	struct seen *s = ud;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s%s:%s", len > 0 ? "," : "",
	    n->firing ? "firing" : "resolved", n->label_value != NULL ? n->label_value : "-");
	s->last_value = n->value;
	s->last_starts = n->starts_usec;
	s->last_ends = n->ends_usec;
}

static void
t_apply(struct metrics *m, const struct step *st)
{
	struct metrics_family *f = metrics_family_find(m, st->family);
	const char *l[] = { st->label };
	int i;

	ck_assert_ptr_nonnull(f);
	if (st->op == ADD)
		ck_assert_int_eq(metrics_add(f, l, st->v), 0);
	else if (st->op == SET)
		ck_assert_int_eq(metrics_set(f, l, st->v), 0);
	else
		for (i = 0; i < (st->times > 0 ? st->times : 1); i++)
			ck_assert_int_eq(metrics_observe(f, NULL, st->v), 0);
}

START_TEST(a_script_of_updates_gives_exact_transitions)
{
	const struct tcase *c = &tcases[_i];
	struct metrics *m = t_registry();
	struct seen seen = { .text = "" };
	struct alerts_conf conf = { .rules = &c->rule, .n_rules = 1, .notify = capture,
		.notify_ud = &seen, .instance = "mx" };
	struct alerts *a;
	const struct step *st;
	int n;

	ck_assert_int_eq(alerts_new(m, &conf, &a), 0);
	for (st = c->steps; st->op != END; st++) {
		if (st->op != EVAL) {
			t_apply(m, st);
			continue;
		}
		seen.text[0] = '\0';
		n = alerts_evaluate(a, T0 + st->t * SEC);
		ck_assert_msg(strcmp(seen.text, st->want) == 0, "%s: at %llds want \"%s\" got \"%s\"",
		    c->name, (long long)st->t, st->want, seen.text);
		ck_assert_msg(n == (int)(st->want[0] == '\0' ? 0 : 1 + (strchr(st->want, ',') != NULL)),
		    "%s: at %llds %d transitions", c->name, (long long)st->t, n);
	}
	alerts_free(a);
	metrics_free(m);
}
END_TEST

START_TEST(a_notice_carries_the_computed_value_and_times)
{
	struct metrics *m = t_registry();
	struct seen seen = { .text = "" };
	struct alerts_rule rule = { .name = "Slow", .kind = ALERTS_QUANTILE, .family = "t_seconds",
		.q = 0.9, .threshold = 0.05, .min_total = 5, .window_usec = 60 * SEC,
		.for_usec = 10 * SEC, .severity = "warning", .summary = "s" };
	struct alerts_conf conf = { .rules = &rule, .n_rules = 1, .notify = capture,
		.notify_ud = &seen };
	struct metrics_family *f = metrics_family_find(m, "t_seconds");
	struct alerts *a;
	int i;

	ck_assert_int_eq(alerts_new(m, &conf, &a), 0);
	alerts_evaluate(a, T0);
	for (i = 0; i < 10; i++) {
		metrics_observe(f, NULL, 0.005);
		metrics_observe(f, NULL, 0.5);
	}
	ck_assert_int_eq(alerts_evaluate(a, T0 + 5 * SEC), 0);	/* pending */
	ck_assert_int_eq(alerts_evaluate(a, T0 + 15 * SEC), 1);
	ck_assert_str_eq(seen.text, "firing:-");
	/* rank 18 of 20: bucket (0.1, 1] holds 11..20, so 0.1 + 0.9 * 8 / 10 */
	ck_assert_double_eq_tol(seen.last_value, 0.82, 1e-12);
	ck_assert_int_eq(seen.last_starts, T0 + 5 * SEC);
	ck_assert_int_eq(seen.last_ends, 0);
	ck_assert_int_eq(alerts_evaluate(a, T0 + 80 * SEC), 1);
	ck_assert_int_eq(seen.last_ends, T0 + 80 * SEC);
	ck_assert_int_eq(seen.last_starts, T0 + 5 * SEC);
	alerts_free(a);
	metrics_free(m);
}
END_TEST

static const struct badcase {
	const char *name;
	struct alerts_rule rule;
} badcases[] = {
	{ "a rule needs a name", { .kind = ALERTS_INCREASE, .family = "f", .window_usec = SEC,
	  .severity = "warning", .summary = "s" } },
	{ "a rule needs a family", { .name = "n", .kind = ALERTS_INCREASE, .window_usec = SEC,
	  .severity = "warning", .summary = "s" } },
	{ "an increase needs a window", { .name = "n", .kind = ALERTS_INCREASE, .family = "f",
	  .severity = "warning", .summary = "s" } },
	{ "a ratio of a family to itself needs a match", { .name = "n", .kind = ALERTS_RATIO,
	  .family = "f", .window_usec = SEC, .severity = "warning", .summary = "s" } },
	{ "a match needs its label", { .name = "n", .kind = ALERTS_RATIO, .family = "f",
	  .match = "REJECT", .window_usec = SEC, .severity = "warning", .summary = "s" } },
	{ "a quantile must lie between 0 and 1", { .name = "n", .kind = ALERTS_QUANTILE,
	  .family = "f", .q = 1, .window_usec = SEC, .severity = "warning", .summary = "s" } },
	{ "a negative for is refused", { .name = "n", .kind = ALERTS_ABOVE, .family = "f",
	  .for_usec = -1, .severity = "warning", .summary = "s" } },
};

START_TEST(a_bad_rule_is_refused)
{
	const struct badcase *c = &badcases[_i];
	struct metrics *m = t_registry();
	struct alerts_conf conf = { .rules = &c->rule, .n_rules = 1 };
	struct alerts *a = NULL;

	ck_assert_msg(alerts_new(m, &conf, &a) == -EINVAL, "%s", c->name);
	ck_assert_ptr_null(a);
	metrics_free(m);
}
END_TEST

START_TEST(a_rule_over_a_family_of_the_wrong_shape_stays_quiet)
{
	struct metrics *m = t_registry();
	struct seen seen = { .text = "" };
	struct alerts_rule rules[] = {
		{ .name = "NoSuch", .kind = ALERTS_INCREASE, .family = "t_missing_total",
		  .window_usec = 60 * SEC, .severity = "warning", .summary = "s" },
		{ .name = "GaugeAsHist", .kind = ALERTS_QUANTILE, .family = "t_gauge", .q = 0.5,
		  .window_usec = 60 * SEC, .severity = "warning", .summary = "s" },
		{ .name = "BadLabel", .kind = ALERTS_INCREASE, .family = "t_total", .by = "nope",
		  .window_usec = 60 * SEC, .severity = "warning", .summary = "s" },
	};
	struct alerts_conf conf = { .rules = rules, .n_rules = N(rules), .notify = capture,
		.notify_ud = &seen };
	struct alerts *a;

	ck_assert_int_eq(alerts_new(m, &conf, &a), 0);
	ck_assert_int_eq(alerts_evaluate(a, T0), 0);
	metrics_add(metrics_family_find(m, "t_total"), (const char *[]){ "a" }, 100);
	metrics_set(metrics_family_find(m, "t_gauge"), (const char *[]){ "a" }, 100);
	ck_assert_int_eq(alerts_evaluate(a, T0 + SEC), 0);
	ck_assert_str_eq(seen.text, "");
	alerts_free(a);
	metrics_free(m);
}
END_TEST

START_TEST(the_journal_notifier_takes_every_kind_of_notice)
{
	struct alerts_notice n = { .rule = &alerts_default_rules[1], .label = "listener",
		.label_value = "postfix/smtpd-proxy25", .firing = 1, .value = 42,
		.starts_usec = T0 };
	size_t i;

	/* smoke: builds the journal entry (or the stderr line) under ASan */
	for (i = 0; i < alerts_default_n; i++) {
		n.rule = &alerts_default_rules[i];
		n.firing = (int)(i % 2);
		alerts_journal(NULL, &n);
	}
	n.label = n.label_value = NULL;
	alerts_journal(NULL, &n);
}
END_TEST

START_TEST(attached_to_a_loop_it_evaluates_at_once_and_then_every_interval)
{
	struct metrics *m = t_registry();
	struct seen seen = { .text = "" };
	struct alerts_rule rule = { .name = "Spike", .kind = ALERTS_INCREASE, .family = "t_total",
		.threshold = 5, .window_usec = 60 * SEC, .severity = "warning", .summary = "s" };
	struct alerts_stats st;
	struct alerts *a;
	sd_event *e;
	int i;

	ck_assert_int_eq(sd_event_new(&e), 0);
	ck_assert_int_eq(alerts_new(m, &(struct alerts_conf){ .rules = &rule, .n_rules = 1,
	    .interval_usec = 10000, .notify = capture, .notify_ud = &seen }, &a), 0);
	ck_assert_int_eq(alerts_attach(a, e), 0);
	alerts_get_stats(a, &st);
	ck_assert_uint_eq(st.evaluations, 1);
	for (i = 0; i < 100 && st.evaluations < 4; i++) {	/* 10 ms apart: well under 1 s */
		ck_assert_int_ge(sd_event_run(e, 100000), 0);
		alerts_get_stats(a, &st);
	}
	ck_assert_uint_ge(st.evaluations, 4);
	alerts_free(a);		/* detaches the timer before the loop goes */
	sd_event_unref(e);
	metrics_free(m);
}
END_TEST

#ifdef HAVE_LIBCURL

/* ------------------------------------------------------ Alertmanager receiver */

static int
receiver_listen(unsigned *ret_port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*ret_port = ntohs(sin.sin_port);
	return fd;
}

/* receive - accept one POST (5 s at most), answer 200, return its head and body */
static int
receive(int lfd, char *head, size_t hsize, char *body, size_t bsize)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	char buf[65536], *sep, *cl;
	size_t got = 0, want;
	ssize_t n;
	int fd;
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

	if (poll(&p, 1, 5000) != 1)
		return -1;
	ck_assert_int_ge(fd = accept(lfd, NULL, NULL), 0);
	p.fd = fd;
	for (;;) {
		ck_assert_int_eq(poll(&p, 1, 5000), 1);
		ck_assert_int_gt(n = read(fd, buf + got, sizeof(buf) - 1 - got), 0);
		got += (size_t)n;
		buf[got] = '\0';
		if ((sep = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		ck_assert_ptr_nonnull(cl = strcasestr(buf, "\r\nContent-Length: "));
		want = (size_t)(sep + 4 - buf) + strtoul(cl + 18, NULL, 10);
		if (got >= want)
			break;
	}
	*sep = '\0';
	ck_assert_uint_lt(strlen(buf), hsize);
	ck_assert_uint_lt(strlen(sep + 4), bsize);
	memcpy(head, buf, strlen(buf) + 1);
	memcpy(body, sep + 4, strlen(sep + 4) + 1);
	ck_assert_int_eq(write(fd, ok, sizeof(ok) - 1), (ssize_t)sizeof(ok) - 1);
	close(fd);
	return 0;
}

static char head[8192], body[65536];

#define FATAL_LINE "fatal: smtpd_peer_hostaddr_to_sockaddr: cannot convert client address/port " \
	"to string: Servname not supported for ai_socktype"

#define STORM_LABELS \
    "{\"labels\":{\"alertname\":\"MxledgerFatalStorm\",\"severity\":\"critical\"," \
    "\"instance\":\"mx1.example.net\",\"listener\":\"postfix/smtpd-proxy587\"}," \
    "\"annotations\":{\"summary\":\"mail daemons keep dying on a listener (a PROXY " \
    "listener probed without a PROXY header?)\","
#define REPEATED_LABELS \
    "{\"labels\":{\"alertname\":\"MxledgerFatalsRepeated\",\"severity\":\"warning\"," \
    "\"instance\":\"mx1.example.net\",\"listener\":\"postfix/smtpd-proxy587\"}," \
    "\"annotations\":{\"summary\":\"a mail daemon died repeatedly on a listener\","

/* 51 fatals in 30 s: the storm (> 50 in 5m) and the repeated fatals (> 2 in 15m) */
static const char fire_body[] = "["
    STORM_LABELS "\"description\":\"51 in 5m, more than 50\"},"
    "\"startsAt\":\"2026-11-22T01:02:33.000000Z\",\"endsAt\":\"2026-11-22T01:06:33.000000Z\"},"
    REPEATED_LABELS "\"description\":\"51 in 15m, more than 2\"},"
    "\"startsAt\":\"2026-11-22T01:02:33.000000Z\",\"endsAt\":\"2026-11-22T01:06:33.000000Z\"}]";
/* 5m later the storm is over (endsAt now); the repeated fatals are re-sent */
static const char resolve_body[] = "["
    STORM_LABELS "\"description\":\"0 in 5m, not more than 50\"},"
    "\"startsAt\":\"2026-11-22T01:02:33.000000Z\",\"endsAt\":\"2026-11-22T01:08:43.000000Z\"},"
    REPEATED_LABELS "\"description\":\"51 in 15m, more than 2\"},"
    "\"startsAt\":\"2026-11-22T01:02:33.000000Z\",\"endsAt\":\"2026-11-22T01:12:43.000000Z\"}]";

static void
no_proxy_env(void)
{
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
}

START_TEST(a_fatal_storm_is_posted_to_alertmanager_firing_then_resolved)
{
	struct mx_event *ev = tst_event();
	struct metrics *m = metrics_new("1.2.3");
	struct seen seen = { .text = "" };
	struct alerts_stats st;
	struct alerts *a;
	char url[64];
	unsigned port;
	int lfd, i;

	no_proxy_env();
	lfd = receiver_listen(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
	ck_assert_int_eq(alerts_new(m, &(struct alerts_conf){ .alertmanager_url = url,
	    .instance = "mx1.example.net", .notify = capture, .notify_ud = &seen }, &a), 0);
	ck_assert_int_eq(alerts_evaluate(a, T0), 0);
	ck_assert_int_eq(tst_parse("postfix/smtpd-proxy587/smtpd", FATAL_LINE, ev), 1);
	for (i = 0; i < 51; i++)
		metrics_observe_event(m, ev);
	ck_assert_int_eq(alerts_evaluate(a, T0 + 30 * SEC), 2);
	ck_assert_str_eq(seen.text, "firing:postfix/smtpd-proxy587,firing:postfix/smtpd-proxy587");
	ck_assert_int_eq(receive(lfd, head, sizeof(head), body, sizeof(body)), 0);
	ck_assert_msg(strncmp(head, "POST /api/v2/alerts HTTP/1.1\r\n", 30) == 0, "%s", head);
	ck_assert_ptr_nonnull(strcasestr(head, "\r\nContent-Type: application/json"));
	ck_assert_str_eq(body, fire_body);
	ck_assert_int_eq(alerts_drain(a, 5 * SEC), 0);
	/* resolved a window after the storm: one more POST, endsAt = now */
	ck_assert_int_eq(alerts_evaluate(a, T0 + 400 * SEC), 1);
	ck_assert_int_eq(receive(lfd, head, sizeof(head), body, sizeof(body)), 0);
	ck_assert_str_eq(body, resolve_body);
	ck_assert_int_eq(alerts_drain(a, 5 * SEC), 0);
	alerts_get_stats(a, &st);
	ck_assert_uint_eq(st.posts_sent, 2);
	ck_assert_uint_eq(st.posts_failed, 0);
	ck_assert_uint_eq(st.fired, 2);
	ck_assert_uint_eq(st.resolved, 1);
	ck_assert_uint_eq(st.firing, 1);
	alerts_free(a);
	close(lfd);
	metrics_free(m);
}
END_TEST

START_TEST(a_firing_alert_is_re_sent_every_resend_period_and_not_between)
{
	struct mx_event *ev = tst_event();
	struct metrics *m = metrics_new("1.2.3");
	struct seen seen = { .text = "" };
	struct pollfd p;
	struct alerts *a;
	char url[64];
	unsigned port;
	int lfd, i;

	no_proxy_env();
	lfd = receiver_listen(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	ck_assert_int_eq(alerts_new(m, &(struct alerts_conf){ .alertmanager_url = url,
	    .instance = "mx1.example.net", .notify = capture,
	    .notify_ud = &seen }, &a), 0);
	alerts_evaluate(a, T0);
	ck_assert_int_eq(tst_parse("postfix/smtpd-proxy25/smtpd",
	    "connect from localhost[127.0.0.1]", ev), 1);
	for (i = 0; i < 61; i++)
		metrics_observe_event(m, ev);
	ck_assert_int_eq(alerts_evaluate(a, T0 + 30 * SEC), 1);
	ck_assert_int_eq(receive(lfd, head, sizeof(head), body, sizeof(body)), 0);
	ck_assert_ptr_nonnull(strstr(body, "\"alertname\":\"MxledgerRealIpLost\""));
	ck_assert_ptr_nonnull(strstr(body,
	    "\"description\":\"1 (61 of 61) in 10m, more than 0.5\""));
	ck_assert_ptr_nonnull(strstr(body, "\"endsAt\":\"2026-11-22T01:06:33.000000Z\""));
	/* 30 s later: still firing, nothing sent */
	ck_assert_int_eq(alerts_evaluate(a, T0 + 60 * SEC), 0);
	ck_assert_int_eq(alerts_drain(a, 5 * SEC), 0);
	p = (struct pollfd){ .fd = lfd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 200), 0);
	/* a resend period after firing: sent again, endsAt moved on */
	ck_assert_int_eq(alerts_evaluate(a, T0 + 91 * SEC), 0);
	ck_assert_int_eq(receive(lfd, head, sizeof(head), body, sizeof(body)), 0);
	ck_assert_ptr_nonnull(strstr(body, "\"startsAt\":\"2026-11-22T01:02:33.000000Z\""));
	ck_assert_ptr_nonnull(strstr(body, "\"endsAt\":\"2026-11-22T01:07:34.000000Z\""));
	ck_assert_int_eq(alerts_drain(a, 5 * SEC), 0);
	alerts_free(a);
	close(lfd);
	metrics_free(m);
}
END_TEST

START_TEST(an_unreachable_alertmanager_is_counted_and_does_not_block)
{
	struct mx_event *ev = tst_event();
	struct metrics *m = metrics_new("1.2.3");
	struct seen seen = { .text = "" };
	struct alerts_stats st;
	struct alerts *a;
	char url[64];
	unsigned port;
	int lfd, i;

	no_proxy_env();
	lfd = receiver_listen(&port);
	close(lfd);		/* nobody listens there now */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	ck_assert_int_eq(alerts_new(m, &(struct alerts_conf){ .alertmanager_url = url,
	    .notify = capture, .notify_ud = &seen }, &a), 0);
	alerts_evaluate(a, T0);
	ck_assert_int_eq(tst_parse("postfix/smtpd-proxy587/smtpd", FATAL_LINE, ev), 1);
	for (i = 0; i < 51; i++)
		metrics_observe_event(m, ev);
	ck_assert_int_eq(alerts_evaluate(a, T0 + 30 * SEC), 2);
	ck_assert_int_eq(alerts_drain(a, 10 * SEC), 0);
	alerts_get_stats(a, &st);
	ck_assert_uint_eq(st.posts_sent, 0);
	ck_assert_uint_eq(st.posts_failed, 1);
	ck_assert_uint_eq(st.firing, 2);
	alerts_free(a);
	metrics_free(m);
}
END_TEST

START_TEST(an_alertmanager_url_must_be_http)
{
	struct metrics *m = metrics_new("1");
	struct alerts *a = NULL;

	ck_assert_int_eq(alerts_new(m, &(struct alerts_conf){
	    .alertmanager_url = "ftp://127.0.0.1/" }, &a), -EINVAL);
	ck_assert_ptr_null(a);
	metrics_free(m);
}
END_TEST

#endif /* HAVE_LIBCURL */

int
main(void)
{
	Suite *s = suite_create("alerts");
	TCase *tc = tcase_create("alerts");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, a_script_of_updates_gives_exact_transitions, 0, N(tcases));
	tcase_add_test(tc, a_notice_carries_the_computed_value_and_times);
	tcase_add_loop_test(tc, a_bad_rule_is_refused, 0, N(badcases));
	tcase_add_test(tc, a_rule_over_a_family_of_the_wrong_shape_stays_quiet);
	tcase_add_test(tc, the_journal_notifier_takes_every_kind_of_notice);
	tcase_add_test(tc, attached_to_a_loop_it_evaluates_at_once_and_then_every_interval);
#ifdef HAVE_LIBCURL
	tcase_add_test(tc, a_fatal_storm_is_posted_to_alertmanager_firing_then_resolved);
	tcase_add_test(tc, a_firing_alert_is_re_sent_every_resend_period_and_not_between);
	tcase_add_test(tc, an_unreachable_alertmanager_is_counted_and_does_not_block);
	tcase_add_test(tc, an_alertmanager_url_must_be_http);
#endif
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
