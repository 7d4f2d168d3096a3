/*
 * NAME
 *	check_program - syslog tag to listener and daemon; dispatch; proxied listeners
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"
#include "testutil.h"

static const struct split_case {
	const char *name, *program, *want_listener, *want_daemon;
} split_cases[] = {
	{ "a stock Postfix daemon is on listener postfix", "postfix/smtpd", "postfix", "smtpd" },
	{ "a PROXY postscreen keeps its whole syslog_name as listener",
	  "postfix/smtpd-proxy25/postscreen", "postfix/smtpd-proxy25", "postscreen" },
	{ "submission's smtpd is on listener postfix/submission", "postfix/submission/smtpd",
	  "postfix/submission", "smtpd" },
	{ "a syslog_name without slash", "postfix-incoming/smtpd", "postfix-incoming", "smtpd" },
	{ "Dovecot's ident is its own listener and daemon", "dovecot", "dovecot", "dovecot" },
	{ "an auth worker loses its pid", "auth-worker(4711)", "auth-worker", "auth-worker" },
	{ "a Dovecot 2.4 prefix with a '/' in its session id is still auth",
	  "auth(i@example.com,192.0.2.110,sasl:login)<CvN+E9/5U>", "auth", "auth" },
};

START_TEST(tag_splits_into_listener_and_daemon)
{
	const struct split_case *c = &split_cases[_i];
	struct mx_record rec = tst_record(c->program, "x");

	ck_assert_msg(strcmp(rec.listener, c->want_listener) == 0, "%s: listener %s", c->name,
	    rec.listener);
	ck_assert_msg(strcmp(rec.daemon, c->want_daemon) == 0, "%s: daemon %s", c->name,
	    rec.daemon);
}
END_TEST

START_TEST(daemons_without_a_parser_are_ignored_not_unrecognised)
{
	struct mx_event *ev = tst_event();

	ck_assert_int_eq(tst_parse("postfix/qmgr", "ABCDEF0123: removed", ev), -ENOENT);
	ck_assert_int_eq(tst_parse("postfix/smtp", "ABCDEF0123: to=<a@example.org>", ev),
	    -ENOENT);
	ck_assert_int_eq(tst_parse("sshd", "Accepted publickey for root", ev), -ENOENT);
	/* Dovecot's own "master" (no syslog_name) is not Postfix's master(8) */
	ck_assert_int_eq(tst_parse("master", "Dovecot v2.3.19.1 starting up", ev), -ENOENT);
}
END_TEST

START_TEST(a_parsed_event_carries_the_envelope_fields)
{
	struct mx_event *ev = tst_event();

	ck_assert_int_eq(tst_parse("postfix/smtpd-proxy587/smtpd",
	    "connect from unknown[203.0.113.194]", ev), 1);
	ck_assert_str_eq(ev->host, "mail");
	ck_assert_str_eq(ev->program, "postfix/smtpd-proxy587/smtpd");
	ck_assert_str_eq(ev->listener, "postfix/smtpd-proxy587");
	ck_assert_str_eq(ev->daemon, "smtpd");
	ck_assert_int_eq(ev->pid, 4711);
	ck_assert(ev->ts_usec == TST_TS);
	ck_assert_int_eq(ev->proxied, 1);
}
END_TEST

START_TEST(proxied_follows_the_configured_listener_patterns)
{
	struct mx_event *ev = tst_event();
	char *pats[] = { "postfix/edge*", NULL };
	unsigned ports[] = { 10143, 10993, 0 };
	struct mx_proxy_conf pc = { pats, ports };

	event_reset(ev);
	event_setz(ev, &ev->daemon, "smtpd");
	event_setz(ev, &ev->listener, "postfix/smtpd-proxy25");
	ck_assert_int_eq(program_is_proxied(NULL, ev), 1);	/* default *proxy* */
	ck_assert_int_eq(program_is_proxied(&pc, ev), 0);
	event_setz(ev, &ev->listener, "postfix/edge587");
	ck_assert_int_eq(program_is_proxied(&pc, ev), 1);
	event_setz(ev, &ev->listener, "postfix");
	ck_assert_int_eq(program_is_proxied(NULL, ev), 0);

	/* Dovecot: only a declared port tells; without lport it is unknown */
	event_setz(ev, &ev->daemon, "dovecot");
	event_setz(ev, &ev->listener, "imap-login");
	ck_assert_int_eq(program_is_proxied(&pc, ev), -1);
	ev->server_port = 10993;
	ck_assert_int_eq(program_is_proxied(&pc, ev), 1);
	ev->server_port = 993;
	ck_assert_int_eq(program_is_proxied(&pc, ev), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("program");
	TCase *tc = tcase_create("dispatch");

	tcase_add_loop_test(tc, tag_splits_into_listener_and_daemon, 0, N(split_cases));
	tcase_add_test(tc, daemons_without_a_parser_are_ignored_not_unrecognised);
	tcase_add_test(tc, a_parsed_event_carries_the_envelope_fields);
	tcase_add_test(tc, proxied_follows_the_configured_listener_patterns);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
