/*
 * NAME
 *	check_authfail - every failed login counted exactly once, whatever logged it
 * DESCRIPTION
 *	Each case is a sequence of real log lines (real-sample corpus, some
 *	reordered or trimmed to make a configuration the corpus does not
 *	have, e.g. auth_verbose = no) and the number of failed attempts the
 *	client really made ("Logs versus truth" in the corpus README). The
 *	whole real-sample log must give the truth for every address, and
 *	nothing for addresses that never failed.
 * SEE ALSO
 *	authfail.h, tests/data/real-sample-mail.log, real-sample-truth.jsonl
 */
#include <check.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authfail.h"
#include "testutil.h"

/* Real lines, by the situation they show. */
#define IMAP_L1 "Nov 22 02:22:28 mail dovecot: auth: passwd-file(heidi@example.net,192.0.2.136," \
	"<7CoSJtRg/9fAAAKI>): Password mismatch"
#define IMAP_L2 "Nov 22 02:22:32 mail dovecot: auth: passwd-file(grace@example.net,192.0.2.136," \
	"<7CoSJtRg/9fAAAKI>): Password mismatch"
#define IMAP_L3 "Nov 22 02:22:41 mail dovecot: auth: passwd-file(frank@example.net,192.0.2.136," \
	"<7CoSJtRg/9fAAAKI>): Password mismatch"
#define IMAP_SUM "Nov 22 02:22:41 mail dovecot: imap-login: Disconnected: Aborted login by " \
	"logging out (auth failed, 3 attempts in 13 secs): user=<frank@example.net>, " \
	"method=PLAIN, rip=192.0.2.136, lip=203.0.113.254, TLS, session=<7CoSJtRg/9fAAAKI>"
#define OK_L1 "Nov 22 02:23:56 mail dovecot: auth: passwd-file(frank@example.net,192.0.2.191," \
	"<AjpPK9RgM63AAAK/>): Password mismatch"
#define OK_LOGIN "Nov 22 02:24:00 mail dovecot: imap-login: Login: user=<frank@example.net>, " \
	"method=PLAIN, rip=192.0.2.191, lip=127.0.0.1, mpid=32314, session=<AjpPK9RgM63AAAK/>"
#define SMTP_DOV "Nov 22 02:22:39 mail dovecot: auth: passwd-file(heidi@example.net,127.0.5.6)" \
	": Password mismatch"
#define SMTP_PF "Nov 22 02:22:39 mail postfix/submission/smtpd[32129]: warning: " \
	"unknown[127.0.5.6]: SASL PLAIN authentication failed: (reason unavailable), " \
	"sasl_username=heidi@example.net"
#define PF193(t, user, why) "Nov 22 " t " mail postfix/smtpd-proxy587/smtpd[32131]: warning: " \
	"unknown[203.0.113.193]: SASL PLAIN authentication failed: " why ", sasl_username=" user
#define DOV193(t, user, why) "Nov 22 " t " mail dovecot: auth: passwd-file(" user \
	",203.0.113.193): " why
#define UNAVAIL "(reason unavailable)"
#define LOST "Connection lost to authentication server"

static const struct acase {
	const char *name;
	const char *lines[12];
	const char *ip;
	int want;
} cases[] = {
	{ "IMAP: one auth line per attempt and one session line count the attempts once",
	  { IMAP_L1, IMAP_L2, IMAP_L3, IMAP_SUM }, "192.0.2.136", 3 },
	{ "IMAP without auth_verbose: the session line alone counts its attempts",
	  { IMAP_SUM }, "192.0.2.136", 3 },
	{ "IMAP with some auth lines lost: the session line adds the rest",
	  { IMAP_L1, IMAP_SUM }, "192.0.2.136", 3 },
	{ "IMAP, inputs reordered: auth lines after the session line are not counted again",
	  { IMAP_SUM, IMAP_L1, IMAP_L2, IMAP_L3 }, "192.0.2.136", 3 },
	{ "IMAP fail then succeed: the failure is only in the auth line, and counts",
	  { OK_L1, OK_LOGIN }, "192.0.2.191", 1 },
	{ "IMAP login without failures counts nothing",
	  { OK_LOGIN }, "192.0.2.191", 0 },
	{ "SMTP AUTH seen by Dovecot then Postfix is one failure",
	  { SMTP_DOV, SMTP_PF }, "127.0.5.6", 1 },
	{ "SMTP AUTH seen by Postfix then Dovecot is one failure",
	  { SMTP_PF, SMTP_DOV }, "127.0.5.6", 1 },
	{ "SMTP AUTH through a SASL server that logs nothing: Postfix's line counts",
	  { SMTP_PF }, "127.0.5.6", 1 },
	{ "Postfix gave up waiting (tempfail) and Dovecot never logged: one failure",
	  { PF193("02:23:11", "heidi@example.net", LOST) }, "203.0.113.193", 1 },
	{ "Dovecot's line 5 s after Postfix's tempfail still pairs",
	  { PF193("02:23:11", "heidi@example.net", LOST),
	    DOV193("02:23:16", "heidi@example.net", "Password mismatch") }, "203.0.113.193", 1 },
	{ "lines of one address more than 15 s apart are two attempts",
	  { PF193("02:23:11", "heidi@example.net", UNAVAIL),
	    DOV193("02:23:30", "heidi@example.net", "Password mismatch") }, "203.0.113.193", 2 },
	{ "a different user at the same address is a different attempt",
	  { DOV193("02:23:01", "root@example.net", "unknown user"),
	    PF193("02:23:01", "heidi@example.net", UNAVAIL),
	    PF193("02:23:02", "root@example.net", UNAVAIL) }, "203.0.113.193", 2 },
	{ "Dovecot logging the user without domain (auth_username_format %n) still pairs",
	  { DOV193("02:23:01", "heidi", "Password mismatch"),
	    PF193("02:23:01", "heidi@example.net", UNAVAIL) }, "203.0.113.193", 1 },
	{ "the real burst of 203.0.113.193: 6 failures, 2 of them tempfails without Dovecot line",
	  { DOV193("02:22:48", "office@example.net", "unknown user"),
	    PF193("02:22:48", "office@example.net", UNAVAIL),
	    DOV193("02:22:52", "frank@example.net", "Password mismatch"),
	    PF193("02:22:53", "frank@example.net", UNAVAIL),
	    DOV193("02:23:01", "heidi@example.net", "Password mismatch"),
	    PF193("02:23:01", "heidi@example.net", UNAVAIL),
	    PF193("02:23:11", "heidi@example.net", LOST),
	    PF193("02:23:21", "heidi@example.net", LOST),
	    DOV193("02:23:21", "root@example.net", "unknown user"),
	    PF193("02:23:22", "root@example.net", UNAVAIL) }, "203.0.113.193", 6 },
};

/* observe - parse each line and return the failures counted for ip */
static int
observe(struct authfail *af, const char *const *lines, size_t n, const char *ip)
{
	struct mx_event *ev = tst_event();
	int total = 0;

	for (size_t i = 0; i < n && lines[i] != NULL; i++) {
		int k;

		ck_assert_msg(tst_parse_line(lines[i], ev) == 1, "not parsed: %s", lines[i]);
		k = authfail_observe(af, ev, ev->ts_usec);
		ck_assert_int_ge(k, 0);
		if (ev->client_ip != NULL && strcmp(ev->client_ip, ip) == 0)
			total += k;
	}
	return total;
}

START_TEST(failures_counted_exactly_once)
{
	const struct acase *c = &cases[_i];
	struct authfail *af = authfail_new(0, 0);
	int got = observe(af, c->lines, N(c->lines), c->ip);

	ck_assert_msg(got == c->want, "%s: want %d, got %d", c->name, c->want, got);
	authfail_free(af);
}
END_TEST

/* The failed attempts clients made, from real-sample-truth.jsonl (failures_seen_by_client). */
static const struct truth {
	const char *ip;
	int failures;
} truth[] = {
	{ "127.0.5.8", 1 }, { "127.0.5.6", 1 }, { "192.0.2.136", 3 }, { "192.0.2.135", 3 },
	{ "198.51.100.140", 1 }, { "203.0.113.193", 6 }, { "203.0.113.220", 1 },
	{ "203.0.113.243", 4 }, { "192.0.2.191", 1 }, { "203.0.113.155", 3 },
	{ "192.0.2.138", 2 }, { "192.0.2.137", 3 },
};

START_TEST(real_sample_log_gives_the_truth_for_every_address)
{
	const char *top = getenv("top_srcdir");
	char path[PATH_MAX], line[MX_LINE_MAX + 2];
	struct authfail *af = authfail_new(0, 0);
	struct mx_event *ev = tst_event();
	int got[N(truth)] = { 0 }, lines = 0;
	struct authfail_stats st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/data/real-sample-mail.log", top ? top : ".");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t i;
		int k;

		line[strcspn(line, "\n")] = '\0';
		lines++;
		if (tst_parse_line(line, ev) != 1)
			continue;
		if ((k = authfail_observe(af, ev, ev->ts_usec)) == 0)
			continue;
		for (i = 0; i < N(truth); i++)
			if (ev->client_ip != NULL && strcmp(ev->client_ip, truth[i].ip) == 0)
				break;
		ck_assert_msg(i < N(truth), "failure counted for %s, which never failed: %s",
		    ev->client_ip ? ev->client_ip : "(none)", line);
		got[i] += k;
	}
	fclose(f);
	ck_assert_int_eq(lines, 540);
	for (size_t i = 0; i < N(truth); i++)
		ck_assert_msg(got[i] == truth[i].failures, "%s: want %d failures, got %d",
		    truth[i].ip, truth[i].failures, got[i]);
	authfail_get_stats(af, &st);
	ck_assert_uint_eq(st.counted, 29);
	ck_assert_uint_eq(st.session_evictions, 0);
	authfail_free(af);
}
END_TEST

START_TEST(full_tables_drop_old_entries_and_say_so)
{
	struct authfail *af = authfail_new(8, 8);	/* one set of 8 each */
	struct mx_event *ev = tst_event();
	struct authfail_stats st;
	char line[512];
	int total = 0;

	/* 20 open IMAP sessions: the oldest are dropped */
	for (int i = 0; i < 20; i++) {
		snprintf(line, sizeof(line), "Nov 22 02:22:%02d mail dovecot: auth: passwd-file("
		    "u@example.net,192.0.2.%d,<sess%d>): Password mismatch", i, i, i);
		ck_assert_int_eq(tst_parse_line(line, ev), 1);
		total += authfail_observe(af, ev, ev->ts_usec);
	}
	/* 20 addresses with unpaired SMTP failures */
	for (int i = 0; i < 20; i++) {
		snprintf(line, sizeof(line), "Nov 22 02:23:%02d mail postfix/smtpd[1]: warning: "
		    "unknown[198.51.100.%d]: SASL PLAIN authentication failed: x, "
		    "sasl_username=u@example.net", i, i);
		ck_assert_int_eq(tst_parse_line(line, ev), 1);
		total += authfail_observe(af, ev, ev->ts_usec);
	}
	authfail_get_stats(af, &st);
	ck_assert_int_eq(total, 40);
	ck_assert_uint_eq(st.session_evictions, 12);
	ck_assert_uint_eq(st.client_evictions, 12);
	ck_assert_ptr_null(authfail_free(af));
	ck_assert_ptr_null(authfail_free(NULL));
}
END_TEST

/*
 * Dovecot's auth-policy reports (auth_policy.c) stand for the auth process's
 * line of the same attempt. A step "R SECONDS IP USER SESSION|-" is a report
 * at 02:22:00 + SECONDS; other steps are log lines.
 */
#define T0	INT64_C(1795314120)	/* 2026-11-22T02:22:00Z */

static const struct rcase {
	const char *name;
	const char *steps[12];
	const char *ip;
	int want;
} rcases[] = {
	{ "IMAP, auth_verbose = yes: each attempt's report and auth line count once",
	  { "R 28 192.0.2.136 heidi@example.net 7CoSJtRg/9fAAAKI", IMAP_L1,
	    "R 32 192.0.2.136 grace@example.net 7CoSJtRg/9fAAAKI", IMAP_L2,
	    IMAP_L3, "R 41 192.0.2.136 frank@example.net 7CoSJtRg/9fAAAKI", IMAP_SUM },
	  "192.0.2.136", 3 },
	{ "IMAP: auth lines read long after their reports are not counted again",
	  { "R 28 192.0.2.136 heidi@example.net 7CoSJtRg/9fAAAKI",
	    "R 32 192.0.2.136 grace@example.net 7CoSJtRg/9fAAAKI", IMAP_L1, IMAP_L2 },
	  "192.0.2.136", 2 },
	{ "IMAP, auth_verbose = no: reports and the session line count the attempts once",
	  { "R 28 192.0.2.136 heidi@example.net 7CoSJtRg/9fAAAKI",
	    "R 32 192.0.2.136 grace@example.net 7CoSJtRg/9fAAAKI",
	    "R 41 192.0.2.136 frank@example.net 7CoSJtRg/9fAAAKI", IMAP_SUM },
	  "192.0.2.136", 3 },
	{ "IMAP fail then succeed, auth_verbose = no: the report is the only trace, and counts",
	  { "R 116 192.0.2.191 frank@example.net AjpPK9RgM63AAAK/", OK_LOGIN },
	  "192.0.2.191", 1 },
	{ "SMTP AUTH, auth_verbose = yes: report, auth line and smtpd warning are one attempt",
	  { "R 39 127.0.5.6 heidi@example.net -", SMTP_DOV, SMTP_PF }, "127.0.5.6", 1 },
	{ "SMTP AUTH: the three lines in another order are still one attempt",
	  { SMTP_DOV, "R 40 127.0.5.6 heidi@example.net -", SMTP_PF }, "127.0.5.6", 1 },
	{ "SMTP AUTH: once reports came, a report after both log lines still joins them",
	  { "R 10 127.0.5.6 heidi@example.net -", SMTP_PF, SMTP_DOV,
	    "R 40 127.0.5.6 heidi@example.net -" }, "127.0.5.6", 2 },
	{ "SMTP AUTH, auth_verbose = no: report and smtpd warning are one attempt",
	  { "R 39 127.0.5.6 heidi@example.net -", SMTP_PF }, "127.0.5.6", 1 },
	{ "two SMTP AUTH attempts of three lines each are two",
	  { "R 61 203.0.113.193 root@example.net -",
	    DOV193("02:23:01", "root@example.net", "unknown user"),
	    PF193("02:23:01", "root@example.net", UNAVAIL),
	    "R 62 203.0.113.193 heidi@example.net -",
	    DOV193("02:23:02", "heidi@example.net", "Password mismatch"),
	    PF193("02:23:02", "heidi@example.net", UNAVAIL) }, "203.0.113.193", 2 },
	{ "reports alone (no log read) count one each",
	  { "R 39 127.0.5.6 heidi@example.net -", "R 45 127.0.5.6 heidi@example.net -",
	    "R 50 127.0.5.6 heidi@example.net -" }, "127.0.5.6", 3 },
};

/* rstep - one step of rcases: a report event or a parsed log line, into ev */
static void
rstep(const char *step, struct mx_event *ev)
{
	static char ip[64], user[128], session[64];
	long sec;

	if (step[0] != 'R' || step[1] != ' ') {
		ck_assert_msg(tst_parse_line(step, ev) == 1, "not parsed: %s", step);
		return;
	}
	ck_assert_int_eq(sscanf(step, "R %ld %63s %127s %63s", &sec, ip, user, session), 4);
	memset(ev, 0, offsetof(struct mx_event, arena));
	ev->kind = MX_EVENT_AUTH_LOOKUP_FAILURE;
	ev->ts_usec = (T0 + sec) * 1000000;
	ev->daemon = AUTHFAIL_REPORT_DAEMON;
	ev->client_ip = ip;
	ev->user = user;
	ev->session = strcmp(session, "-") == 0 ? NULL : session;
	ev->attempts = 1;
	ev->pid = -1;
	ev->proxied = -1;
}

START_TEST(reports_and_log_lines_count_each_attempt_once)
{
	const struct rcase *c = &rcases[_i];
	struct authfail *af = authfail_new(0, 0);
	struct mx_event *ev = tst_event();
	int total = 0;

	for (size_t i = 0; i < N(c->steps) && c->steps[i] != NULL; i++) {
		int k;

		rstep(c->steps[i], ev);
		k = authfail_observe(af, ev, ev->ts_usec);
		ck_assert_int_ge(k, 0);
		if (ev->client_ip != NULL && strcmp(ev->client_ip, c->ip) == 0)
			total += k;
	}
	ck_assert_msg(total == c->want, "%s: want %d, got %d", c->name, c->want, total);
	authfail_free(af);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("authfail");
	TCase *tc = tcase_create("authfail");

	tcase_add_loop_test(tc, failures_counted_exactly_once, 0, N(cases));
	tcase_add_test(tc, real_sample_log_gives_the_truth_for_every_address);
	tcase_add_test(tc, full_tables_drop_old_entries_and_say_so);
	tcase_add_loop_test(tc, reports_and_log_lines_count_each_attempt_once, 0, N(rcases));
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
