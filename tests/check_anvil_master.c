/*
 * NAME
 *	check_anvil_master - anvil(8) and master(8) lines in, exact events out
 * SYNOPSIS
 *	TZ=UTC ./tests/check_anvil_master
 * DESCRIPTION
 *	One table row per line shape, through program_parse() (tst_parse());
 *	kind, listener, client_ip and reason are compared (the only fields these
 *	parsers set; everything else must stay unset). Rows with ret 0 must not
 *	become events.
 * SEE ALSO
 *	parsers/anvil.c, parsers/master.c, tests/testutil.h
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define ANVIL	"postfix/anvil"
#define MASTER	"postfix/master"

static const struct am_case {
	const char *name, *program, *msg;
	int ret;
	enum mx_event_kind kind;
	const char *ip, *reason;
} am_cases[] = {
	/* anvil */
	{ .name = "anvil connection rate names counter, period and service", .program = ANVIL,
	  .msg = "statistics: max connection rate 10/60s for (5587:203.0.113.172) at Nov 22 "
	      "02:23:22",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .ip = "203.0.113.172",
	  .reason = "max connection rate 10/60s for 5587" },
	{ .name = "anvil connection count", .program = ANVIL,
	  .msg = "statistics: max connection count 1 for (smtpd:198.51.100.198) at Nov 22 02:22:27",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .ip = "198.51.100.198",
	  .reason = "max connection count 1 for smtpd" },
	{ .name = "anvil message rate", .program = ANVIL,
	  .msg = "statistics: max message rate 6/60s for (smtpd:192.0.2.195) at Nov 22 02:23:28",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .ip = "192.0.2.195",
	  .reason = "max message rate 6/60s for smtpd" },
	{ .name = "anvil auth rate", .program = ANVIL,
	  .msg = "statistics: max auth rate 8/60s for (5587:203.0.113.193) at Nov 22 02:23:22",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .ip = "203.0.113.193",
	  .reason = "max auth rate 8/60s for 5587" },
	{ .name = "anvil recipient rate with a minute period", .program = ANVIL,
	  .msg = "statistics: max recipient rate 40/5m for (smtp:192.0.2.196) at Oct 26 18:13:50",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .ip = "192.0.2.196",
	  .reason = "max recipient rate 40/5m for smtp" },
	{ .name = "anvil IPv6 client keeps all its groups", .program = ANVIL,
	  .msg = "statistics: max connection count 1 for (smtpd:2001:db8:0:1::3) at Oct 26 "
	      "17:46:59",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .ip = "2001:db8:0:1::3",
	  .reason = "max connection count 1 for smtpd" },
	{ .name = "anvil service with a colon, IPv4 client", .program = ANVIL,
	  .msg = "statistics: max connection rate 1/2h for (127.0.0.1:2525:192.0.2.9) at Oct 26 "
	      "18:13:50",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .ip = "192.0.2.9",
	  .reason = "max connection rate 1/2h for 127.0.0.1:2525" },
	{ .name = "anvil service with a colon, IPv6 client", .program = ANVIL,
	  .msg = "statistics: max newtls rate 3/60s for (127.0.0.1:2525:2001:db8::9) at Oct 26 "
	      "18:13:50",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .ip = "2001:db8::9",
	  .reason = "max newtls rate 3/60s for 127.0.0.1:2525" },
	{ .name = "anvil IPv6 service, IPv6 loopback client", .program = ANVIL,
	  .msg = "statistics: max connection count 2 for ([::1]:2525:::1) at Oct 26 18:13:50",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .ip = "::1",
	  .reason = "max connection count 2 for [::1]:2525" },
	{ .name = "anvil unknown client leaves client_ip unset", .program = ANVIL,
	  .msg = "statistics: max connection rate 1/7d for (smtp:unknown) at Sep 7 07:14:19",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS,
	  .reason = "max connection rate 1/7d for smtp" },
	{ .name = "anvil cache size has no client", .program = ANVIL,
	  .msg = "statistics: max cache size 18 at Nov 22 02:23:48",
	  .ret = 1, .kind = MX_EVENT_ANVIL_STATISTICS, .reason = "max cache size 18" },
	{ .name = "anvil fatal", .program = ANVIL,
	  .msg = "fatal: unexpected command: frobnicate",
	  .ret = 1, .kind = MX_EVENT_FATAL, .reason = "unexpected command: frobnicate" },
	{ .name = "anvil key with a malformed address is not an event", .program = ANVIL,
	  .msg = "statistics: max connection count 1 for (smtpd:999.1.1.1) at Oct 26 17:46:59" },
	{ .name = "anvil key without a colon is not an event", .program = ANVIL,
	  .msg = "statistics: max connection count 1 for (smtpd) at Oct 26 17:46:59" },
	{ .name = "anvil other statistics words are not events", .program = ANVIL,
	  .msg = "statistics: something else entirely" },
	{ .name = "anvil garbage is not an event", .program = ANVIL,
	  .msg = "\x01\x02" },
	/* master */
	{ .name = "master child exit status", .program = MASTER,
	  .msg = "warning: process /usr/lib/postfix/sbin/smtpd pid 32541 exit status 1",
	  .ret = 1, .kind = MX_EVENT_PROCESS_EXIT,
	  .reason = "process /usr/lib/postfix/sbin/smtpd pid 32541 exit status 1" },
	{ .name = "master child killed by a signal", .program = MASTER,
	  .msg = "warning: process /usr/local/libexec/postfix/smtpd pid 46234 killed by signal 11",
	  .ret = 1, .kind = MX_EVENT_PROCESS_EXIT,
	  .reason = "process /usr/local/libexec/postfix/smtpd pid 46234 killed by signal 11" },
	{ .name = "master throttles a service", .program = MASTER,
	  .msg = "warning: /usr/lib/postfix/sbin/smtpd: bad command startup -- throttling",
	  .ret = 1, .kind = MX_EVENT_SERVICE_THROTTLED,
	  .reason = "/usr/lib/postfix/sbin/smtpd: bad command startup -- throttling" },
	{ .name = "master fatal", .program = MASTER,
	  .msg = "fatal: bind 0.0.0.0 port 25: Address already in use",
	  .ret = 1, .kind = MX_EVENT_FATAL,
	  .reason = "bind 0.0.0.0 port 25: Address already in use" },
	{ .name = "master start is not an event", .program = MASTER,
	  .msg = "daemon started -- version 3.7.11, configuration /etc/postfix" },
	{ .name = "master stop is not an event", .program = MASTER,
	  .msg = "terminating on signal 15" },
	{ .name = "master process limit warning is not an event", .program = MASTER,
	  .msg = "warning: service \"smtp\" (25) has reached its process limit \"100\": new "
	      "clients may experience noticeable delays" },
	{ .name = "master truncated exit line is not an event", .program = MASTER,
	  .msg = "warning: process /usr/lib/postfix/sbin/smtpd pid 32541 exit" },
};

START_TEST(anvil_master_line_gives_expected_event)
{
	const struct am_case *c = &am_cases[_i];
	struct mx_event *ev = tst_event();
	int r;

	r = tst_parse(c->program, c->msg, ev);
	ck_assert_msg(r == c->ret, "%s: returned %d, want %d", c->name, r, c->ret);
	if (c->ret != 1)
		return;
	tst_event_is(ev, &(struct tst_want){
		.kind = c->kind, .daemon = strrchr(c->program, '/') + 1, .listener = "postfix",
		.client_ip = c->ip, .reason = c->reason,
	}, c->name);
}
END_TEST

/* anvil and master only exist under a Postfix syslog_name */
START_TEST(anvil_master_need_a_syslog_name)
{
	struct mx_event *ev = tst_event();

	ck_assert_int_lt(tst_parse("master", "warning: process /x pid 1 exit status 1", ev), 0);
	ck_assert_int_lt(tst_parse("anvil", "statistics: max cache size 1 at Oct 26 18:13:50", ev),
	    0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("anvil_master");
	TCase *tc = tcase_create("lines");

	tcase_add_loop_test(tc, anvil_master_line_gives_expected_event, 0, (int)N(am_cases));
	tcase_add_test(tc, anvil_master_need_a_syslog_name);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
