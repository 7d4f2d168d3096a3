/*
 * NAME
 *	check_rules - the rule language: every condition, count and action; exactly-once
 *	auth failures; configuration errors
 * DESCRIPTION
 *	Scenarios are a configuration and a script of log lines (parsed by
 *	the real parsers, counted at their own time) and policy requests (at
 *	a given time), each request with the exact answer and deciding rule
 *	wanted. Auth failures reach the rules through the correlation of
 *	authfail.c (SMTP AUTH seen by Postfix and Dovecot counted once, IMAP
 *	on top); check_authfail.c has the exactly-once cases in detail.
 *	Configuration errors want the exact "file:line: message" output.
 * SEE ALSO
 *	rules.h, tests/check_authfail.c
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authfail.h"
#include "config_tree.h"
#include "rules.h"
#include "testutil.h"

#define SEC	INT64_C(1000000)
/* Script times are seconds after 2026-11-22T02:22:00Z, when the corpus lines start. */
#define T(s)	((INT64_C(1795314120) + (s)) * SEC)

/* ---------------------------------------------------------------- harness */

struct env {
	struct mx_rules *rules;
	struct counters *counters;
	struct authfail *authfail;
	struct policy_parser *parser;
	struct config_diag diag;
	char *errs;
	size_t errs_len;
};

static struct env env;

/* env_rule_stmt - the config_tree callback: "rule" statements only */
static int
env_rule_stmt(void *ud, const struct config_stmt *st)
{
	if (strcmp(st->keyword, "rule") != 0) {
		config_tree_error(&env.diag, st->file, st->line, "unexpected \"%s\"", st->keyword);
		return 0;
	}
	return rules_parse(&env.diag, st, ud);
}

/* env_load - parse text as test.conf, bind to fresh counters; the errors printed */
static unsigned
env_load(const char *text, int global_warn)
{
	FILE *err;
	unsigned n;

	memset(&env, 0, sizeof(env));
	err = open_memstream(&env.errs, &env.errs_len);
	ck_assert_ptr_nonnull(err);
	env.diag.err = err;
	env.rules = rules_new();
	ck_assert_int_eq(config_tree_parse(&env.diag, "test.conf", text, strlen(text),
	    env_rule_stmt, env.rules), 0);
	n = env.diag.n_errors;
	config_tree_diag_done(&env.diag);
	fclose(err);
	env.counters = counters_new(0);
	env.authfail = authfail_new(0, 0);
	env.parser = policy_parser_new(0, 0);
	if (global_warn)
		ck_assert_int_eq(rules_set_mode(env.rules, RULES_MODE_WARN), 0);
	ck_assert_int_eq(rules_bind(env.rules, env.counters, env.authfail), 0);
	return n;
}

static void
env_free(void)
{
	rules_free(env.rules);
	counters_free(env.counters);
	authfail_free(env.authfail);
	policy_parser_free(env.parser);
	free(env.errs);
	memset(&env, 0, sizeof(env));
}

/*
 * check_print_round_trip - conf loads as n rules that rules_print() writes as
 * want, and want loads back into rules that print as want again
 */
static void
check_print_round_trip(const char *conf, unsigned n, const char *want)
{
	const char *text = conf;

	for (int pass = 0; pass < 2; pass++) {
		char *out = NULL;
		size_t len;
		FILE *f;

		ck_assert_uint_eq(env_load(text, 0), 0);
		ck_assert_uint_eq(rules_count(env.rules), n);
		ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
		rules_print(env.rules, f);
		fclose(f);
		ck_assert_str_eq(out, want);
		env_free();
		free(out);
		text = want;
	}
}

/* env_request - a request from "name=value\n" lines (the empty line is added) */
static const struct policy_request *
env_request(const char *attrs)
{
	char buf[4096];
	size_t used;
	int n = snprintf(buf, sizeof(buf), "%s\n", attrs);

	ck_assert_int_eq(policy_parser_feed(env.parser, buf, (size_t)n, &used), POLICY_REQUEST);
	return policy_parser_request(env.parser);
}

/* env_log - parse a log line and count it at its own time */
static void
env_log(const char *line)
{
	struct mx_event *ev = tst_event();

	ck_assert_msg(tst_parse_line(line, ev) == 1, "not parsed: %s", line);
	ck_assert_int_eq(rules_observe_event(env.rules, ev, ev->ts_usec), 0);
}

/* -------------------------------------------------------------- scenarios */

enum { END, REQ, LOG };

struct step {
	int op;
	int t;				/* REQ: seconds after 02:22:00 */
	const char *text;		/* request attributes, or a log line */
	const char *want_action;
	const char *want_rule;		/* NULL: no rule decided */
};

#define R(t, text, action, rule)	{ REQ, t, text, action, rule }
#define L(line)				{ LOG, 0, line, NULL, NULL }
#define E				{ END, 0, NULL, NULL, NULL }

#define RCPT(client, extra)	"protocol_state=RCPT\nclient_address=" client "\n" extra
#define C7	"192.0.2.7"
#define IMAP_FAIL(t, user, ip, sess) "Nov 22 " t " mail dovecot: imap-login: Disconnected: " \
	"Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<" user ">, " \
	"method=PLAIN, rip=" ip ", lip=203.0.113.254, session=<" sess ">"

static const struct scase {
	const char *name;
	const char *conf;
	struct step steps[18];
} scases[] = {
	{ "no rule at all answers DUNNO", "", {
		R(0, RCPT(C7, ""), "DUNNO", NULL), E } },
	{ "the first matching rule decides, later ones are not looked at",
	  "rule a {\n client_address 192.0.2.0/24\n action REJECT first\n}\n"
	  "rule b {\n client_address 192.0.2.7\n action defer \"second\"\n}\n", {
		R(0, RCPT(C7, ""), "REJECT first", "a"),
		R(0, RCPT("192.0.2.8", ""), "REJECT first", "a"),
		R(0, RCPT("198.51.100.1", ""), "DUNNO", NULL), E } },
	{ "client CIDR lists: IPv4, IPv6, bare addresses, not, IPv4-mapped",
	  "rule v6 {\n client_address 2001:db8:1::/48\n not client_address 2001:db8:1:2::/64\n"
	  " action DEFER v6\n}\n"
	  "rule v4 {\n client_address 203.0.113.0/25 198.51.100.9\n action DEFER v4\n}\n", {
		R(0, RCPT("2001:db8:1:5::1", ""), "DEFER v6", "v6"),
		R(0, RCPT("2001:db8:1:2::1", ""), "DUNNO", NULL),
		R(0, RCPT("203.0.113.100", ""), "DEFER v4", "v4"),
		R(0, RCPT("203.0.113.200", ""), "DUNNO", NULL),
		R(0, RCPT("198.51.100.9", ""), "DEFER v4", "v4"),
		R(0, RCPT("198.51.100.10", ""), "DUNNO", NULL),
		R(0, RCPT("::ffff:203.0.113.5", ""), "DEFER v4", "v4"),
		R(0, RCPT("unknown", ""), "DUNNO", NULL), E } },
	{ "listener conditions: server_port, policy_context, server_address, protocol_state",
	  "rule sub {\n server_port 587 465\n policy_context submission\n action DEFER sub\n}\n"
	  "rule mx {\n server_address 203.0.113.254\n protocol_state connect RCPT\n"
	  " action DEFER mx\n}\n", {
		R(0, RCPT(C7, "server_port=587\npolicy_context=submission\n"), "DEFER sub", "sub"),
		R(0, RCPT(C7, "server_port=25\npolicy_context=submission\n"), "DUNNO", NULL),
		R(0, RCPT(C7, "server_port=587\n"), "DUNNO", NULL),
		R(0, RCPT(C7, "server_address=203.0.113.254\n"), "DEFER mx", "mx"),
		R(0, "protocol_state=DATA\nserver_address=203.0.113.254\n", "DUNNO", NULL), E } },
	{ "SASL, users, senders, recipients, domains, names, stress",
	  "rule stress {\n stress yes\n action \"450 4.7.1 busy\"\n}\n"
	  "rule alice {\n sasl yes\n sasl_username Alice@Example.org\n action HOLD alice\n}\n"
	  "rule bounce {\n sasl no\n sender <>\n action DISCARD null sender\n}\n"
	  "rule sub {\n sender_domain .example.net\n action WARN subdomain\n}\n"
	  "rule exact {\n sender_domain example.net\n recipient_domain EXAMPLE.com\n"
	  " action INFO exact\n}\n"
	  "rule pm {\n recipient postmaster@example.org\n action ok\n}\n"
	  "rule names {\n client_name .example.org\n helo_name mx.example.org\n"
	  " action PREPEND \"X-Checked: yes\"\n}\n", {
		R(0, RCPT(C7, "sender=a@x.example\nstress=yes\n"), "450 4.7.1 busy", "stress"),
		R(0, RCPT(C7, "sasl_username=alice@example.org\n"), "HOLD alice", "alice"),
		R(0, RCPT(C7, "sasl_username=bob@example.org\n"), "DUNNO", NULL),
		R(0, RCPT(C7, "sender=\n"), "DISCARD null sender", "bounce"),
		R(0, RCPT(C7, "sender=a@mx.example.net\n"), "WARN subdomain", "sub"),
		R(0, RCPT(C7, "sender=a@example.net\nrecipient=b@example.com\n"), "INFO exact",
		    "exact"),
		R(0, RCPT(C7, "sender=a@example.net\nrecipient=b@example.org\n"), "DUNNO", NULL),
		R(0, RCPT(C7, "sender=a@x.example\nrecipient=Postmaster@Example.ORG\n"), "OK", "pm"),
		R(0, RCPT(C7, "sender=a@x.example\nclient_name=mail.example.org\n"
		    "helo_name=MX.example.org\n"), "PREPEND X-Checked: yes", "names"),
		R(0, RCPT(C7, "sender=a@x.example\nclient_name=example.org\n"
		    "helo_name=mx.example.org\n"), "DUNNO", NULL), E } },
	{ "protocol_name and sasl_method lists",
	  "rule old {\n protocol_name SMTP\n sasl_method login\n action WARN old client\n}\n", {
		R(0, RCPT(C7, "protocol_name=SMTP\nsasl_method=LOGIN\n"), "WARN old client", "old"),
		R(0, RCPT(C7, "protocol_name=ESMTP\nsasl_method=LOGIN\n"), "DUNNO", NULL),
		R(0, RCPT(C7, "protocol_name=SMTP\nsasl_method=PLAIN\n"), "DUNNO", NULL), E } },
	{ "an account whose logins failed from 3 addresses in an hour is held",
	  "rule stolen {\n sasl yes\n"
	  " distinct client_address in auth_failures by sasl_username >= 3 per 1h\n"
	  " action HOLD stolen\n}\n", {
		L(IMAP_FAIL("02:22:30", "Heidi@example.net", "192.0.2.1", "s1")),
		L(IMAP_FAIL("02:22:31", "heidi@example.net", "192.0.2.1", "s2")),
		L(IMAP_FAIL("02:22:32", "heidi@example.net", "198.51.100.2", "s3")),
		R(60, RCPT(C7, "sasl_username=heidi@example.net\n"), "DUNNO", NULL),
		L(IMAP_FAIL("02:22:33", "heidi@example.net", "2001:db8::3", "s4")),
		R(60, RCPT(C7, "sasl_username=heidi@example.net\n"), "HOLD stolen", "stolen"),
		R(60, RCPT(C7, "sasl_username=frank@example.net\n"), "DUNNO", NULL),
		R(60, RCPT(C7, ""), "DUNNO", NULL), E } },
	{ "messages are counted once per instance, not once per recipient",
	  "rule burst {\n protocol_state RCPT\n rate messages by client_address > 2 per 1m\n"
	  " action DEFER burst\n}\n", {
		R(0, RCPT(C7, "instance=m1\n"), "DUNNO", NULL),
		R(0, RCPT(C7, "instance=m1\n"), "DUNNO", NULL),
		R(1, RCPT(C7, "instance=m1\n"), "DUNNO", NULL),
		R(1, "protocol_state=DATA\nclient_address=" C7 "\ninstance=m1\n", "DUNNO", NULL),
		/* an EHLO after the transaction still carries its instance: not a message */
		R(2, "protocol_state=EHLO\nclient_address=" C7 "\ninstance=m0\n", "DUNNO", NULL),
		R(2, RCPT(C7, "instance=m2\n"), "DUNNO", NULL),
		R(3, RCPT(C7, "instance=m3\n"), "DEFER burst", "burst"),
		R(3, RCPT(C7, "instance=m3\n"), "DEFER burst", "burst"),
		R(3, RCPT("192.0.2.8", "instance=m4\n"), "DUNNO", NULL),
		R(64, RCPT(C7, "instance=m5\n"), "DUNNO", NULL), E } },
	{ "recipients by sender domain; END-OF-MESSAGE adds what no RCPT request showed",
	  "rule rcpts {\n rate recipients by sender_domain > 4 per 1d\n"
	  " action DEFER_IF_PERMIT rcpts\n}\n", {
		R(0, RCPT(C7, "instance=m1\nsender=a@example.org\n"), "DUNNO", NULL),
		R(0, RCPT(C7, "instance=m1\nsender=a@example.org\n"), "DUNNO", NULL),
		R(1, "protocol_state=END-OF-MESSAGE\ninstance=m1\nsender=a@example.org\n"
		    "recipient_count=2\n", "DUNNO", NULL),
		R(2, "protocol_state=END-OF-MESSAGE\ninstance=m2\nsender=a@example.org\n"
		    "recipient_count=2\n", "DUNNO", NULL),
		R(3, RCPT(C7, "instance=m3\nsender=b@EXAMPLE.org\n"), "DEFER_IF_PERMIT rcpts",
		    "rcpts"),
		R(3, RCPT(C7, "instance=m4\nsender=c@example.net\n"), "DUNNO", NULL), E } },
	{ "bytes are taken from size at END-OF-MESSAGE only",
	  "rule volume {\n rate bytes by sasl_username > 1000 per 1h\n action REJECT volume\n}\n", {
		R(0, RCPT(C7, "sasl_username=alice\nsize=5000\n"), "DUNNO", NULL),
		R(1, "protocol_state=END-OF-MESSAGE\nsasl_username=alice\nsize=600\n", "DUNNO", NULL),
		R(2, "protocol_state=END-OF-MESSAGE\nsasl_username=Alice\nsize=600\n",
		    "REJECT volume", "volume"),
		R(3, "protocol_state=END-OF-MESSAGE\nsasl_username=bob\nsize=600\n", "DUNNO", NULL),
		E } },
	{ "connections counted by client network (/24, /64)",
	  "rule conn {\n protocol_state CONNECT\n rate connections by client_net > 2 per 1m\n"
	  " action 421 4.7.0 \"slow down\"\n}\n", {
		R(0, "protocol_state=CONNECT\nclient_address=192.0.2.1\n", "DUNNO", NULL),
		R(0, "protocol_state=CONNECT\nclient_address=192.0.2.200\n", "DUNNO", NULL),
		R(0, RCPT("192.0.2.5", ""), "DUNNO", NULL),
		R(0, "protocol_state=CONNECT\nclient_address=192.0.2.99\n",
		    "421 4.7.0 slow down", "conn"),
		R(0, "protocol_state=CONNECT\nclient_address=192.0.3.1\n", "DUNNO", NULL),
		R(0, "protocol_state=CONNECT\nclient_address=2001:db8:1:2::1\n", "DUNNO", NULL),
		R(0, "protocol_state=CONNECT\nclient_address=2001:db8:1:2::2\n", "DUNNO", NULL),
		R(0, "protocol_state=CONNECT\nclient_address=2001:db8:1:2:ffff::3\n",
		    "421 4.7.0 slow down", "conn"), E } },
	{ "distinct client addresses per user",
	  "rule shared {\n sasl yes\n distinct client_address by sasl_username > 2 per 1h\n"
	  " action HOLD shared\n}\n", {
		R(0, RCPT("192.0.2.1", "sasl_username=alice\n"), "DUNNO", NULL),
		R(0, RCPT("192.0.2.1", "sasl_username=alice\n"), "DUNNO", NULL),
		R(0, RCPT("192.0.2.2", "sasl_username=alice\n"), "DUNNO", NULL),
		R(0, RCPT("2001:db8::1", "sasl_username=alice\n"), "HOLD shared", "shared"),
		R(0, RCPT("192.0.2.1", "sasl_username=bob\n"), "DUNNO", NULL),
		R(3700, RCPT("192.0.2.9", "sasl_username=alice\n"), "DUNNO", NULL), E } },
	{ "a counter keyed by an attribute the request lacks never matches",
	  "rule quiet {\n rate messages by sasl_username < 100 per 1h\n action WARN few\n}\n", {
		R(0, RCPT(C7, "instance=m1\n"), "DUNNO", NULL),
		R(0, RCPT(C7, "instance=m2\nsasl_username=alice\n"), "WARN few", "quiet"), E } },
	{ "an allowlist rule (DUNNO) placed before a limit shields from it",
	  "rule office {\n client_address 192.0.2.0/24\n action DUNNO\n}\n"
	  "rule limit {\n rate requests by client_address > 1 per 1m\n action REJECT limit\n}\n", {
		R(0, RCPT("192.0.2.1", ""), "DUNNO", "office"),
		R(0, RCPT("192.0.2.1", ""), "DUNNO", "office"),
		R(0, RCPT("198.51.100.1", ""), "DUNNO", NULL),
		R(0, RCPT("198.51.100.1", ""), "REJECT limit", "limit"), E } },
	{ "a dry-run rule never answers; the next matching rule does",
	  "rule trial {\n client_address 192.0.2.0/24\n action REJECT trial\n mode warn\n}\n"
	  "rule real {\n client_address 192.0.2.7\n action DEFER real\n}\n", {
		R(0, RCPT(C7, ""), "DEFER real", "real"),
		R(0, RCPT("192.0.2.8", ""), "DUNNO", NULL), E } },
	{ "5 auth failures in 15m on any protocol (SMTP pairs counted once) defer the client",
	  "rule brute {\n history auth_failures by client_address >= 5 per 15m\n"
	  " action 421 4.7.0 \"Too many failed logins\"\n}\n", {
		L("Nov 22 02:22:48 mail dovecot: auth: passwd-file(office@example.net,203.0.113.193)"
		  ": unknown user"),
		L("Nov 22 02:22:48 mail postfix/smtpd-proxy587/smtpd[32131]: warning: "
		  "unknown[203.0.113.193]: SASL PLAIN authentication failed: (reason unavailable), "
		  "sasl_username=office@example.net"),
		L("Nov 22 02:22:52 mail dovecot: auth: passwd-file(frank@example.net,203.0.113.193)"
		  ": Password mismatch"),
		L("Nov 22 02:22:53 mail postfix/smtpd-proxy587/smtpd[32131]: warning: "
		  "unknown[203.0.113.193]: SASL PLAIN authentication failed: (reason unavailable), "
		  "sasl_username=frank@example.net"),
		R(60, RCPT("203.0.113.193", ""), "DUNNO", NULL),
		L("Nov 22 02:23:01 mail dovecot: auth: passwd-file(heidi@example.net,203.0.113.193)"
		  ": Password mismatch"),
		L("Nov 22 02:23:01 mail postfix/smtpd-proxy587/smtpd[32131]: warning: "
		  "unknown[203.0.113.193]: SASL PLAIN authentication failed: (reason unavailable), "
		  "sasl_username=heidi@example.net"),
		L("Nov 22 02:23:11 mail dovecot: imap-login: Disconnected: Connection closed (auth "
		  "failed, 1 attempts in 2 secs): user=<frank@example.net>, method=PLAIN, "
		  "rip=203.0.113.193, lip=203.0.113.254, TLS: Connection closed, session=<s1>"),
		R(75, RCPT("203.0.113.193", ""), "DUNNO", NULL),
		L("Nov 22 02:23:21 mail postfix/smtpd-proxy587/smtpd[32131]: warning: "
		  "unknown[203.0.113.193]: SASL PLAIN authentication failed: Connection lost to "
		  "authentication server, sasl_username=heidi@example.net"),
		R(90, RCPT("203.0.113.193", ""), "421 4.7.0 Too many failed logins", "brute"),
		R(90, RCPT("203.0.113.194", ""), "DUNNO", NULL),
		R(16 * 60 + 30, RCPT("203.0.113.193", ""), "DUNNO", NULL), E } },
	{ "postscreen verdicts, DNSBL, rejects and anvil limits from the logs",
	  "rule pregreeters {\n history pregreet by client_address > 0 per 1d\n"
	  " action REJECT pregreet\n}\n"
	  "rule rejected {\n history rejects by client_address >= 2 per 1h\n action DEFER rejects\n}\n"
	  "rule limited {\n history rate_limits by client_address > 0 per 1h\n"
	  " action DEFER limited\n}\n"
	  "rule listed {\n history dnsbl by client_address > 0 per 1d\n action DEFER dnsbl\n}\n"
	  "rule violators {\n history postscreen_violations by client_net >= 2 per 1d\n"
	  " action DEFER violations\n}\n", {
		L("Nov 22 02:23:34 mail postfix/smtpd-proxy25/postscreen[32119]: PREGREET 16 after "
		  "0.2 from [198.51.100.169]:56683: EHLO localhost\\r\\n"),
		L("Nov 22 02:22:55 mail postfix/smtpd-proxy25/postscreen[32119]: COMMAND PIPELINING "
		  "from [192.0.2.157]:17725 after MAIL: RCPT TO:<frank@example.net>\\r\\nDATA\\r\\n"),
		L("Nov 22 02:24:00 mail postfix/postscreen[32140]: DNSBL rank 6 for "
		  "[203.0.113.30]:52340"),
		L("Nov 22 02:23:49 mail postfix/smtpd[32120]: NOQUEUE: reject: RCPT from "
		  "unknown[192.0.2.178]: 550 5.1.1 <root@example.net>: Recipient address rejected: "
		  "User unknown in virtual mailbox table; from=<promo@offers.example> "
		  "to=<root@example.net> proto=ESMTP helo=<mail-192-0-2-178.relay.example>"),
		L("Nov 22 02:23:28 mail postfix/smtpd[32120]: warning: Message delivery request rate "
		  "limit exceeded: 5 from unknown[192.0.2.195] for service smtpd"),
		R(200, RCPT("198.51.100.169", ""), "REJECT pregreet", "pregreeters"),
		R(200, RCPT("192.0.2.157", ""), "DUNNO", NULL),		/* 1 in its /24 */
		L("Nov 22 02:23:43 mail postfix/smtpd-proxy25/postscreen[32119]: PREGREET 15 after "
		  "0.2 from [192.0.2.212]:12266: EHLO WIN-BBCF\\r\\n"),
		R(200, RCPT("192.0.2.157", ""), "DEFER violations", "violators"),
		R(200, RCPT("203.0.113.30", ""), "DEFER dnsbl", "listed"),
		/* one reject is not enough; its /24 has two postscreen violations */
		R(200, RCPT("192.0.2.178", ""), "DEFER violations", "violators"),
		L("Nov 22 02:23:49 mail postfix/smtpd[32120]: NOQUEUE: reject: RCPT from "
		  "unknown[192.0.2.178]: 550 5.1.1 <backup@example.net>: Recipient address rejected: "
		  "User unknown in virtual mailbox table; from=<promo@offers.example> "
		  "to=<backup@example.net> proto=ESMTP helo=<mail-192-0-2-178.relay.example>"),
		R(200, RCPT("192.0.2.178", ""), "DEFER rejects", "rejected"),
		R(200, RCPT("192.0.2.195", ""), "DEFER limited", "limited"), E } },
};

START_TEST(scenario_gives_expected_answers)
{
	const struct scase *c = &scases[_i];
	struct rules_decision d;

	ck_assert_msg(env_load(c->conf, 0) == 0, "%s: config errors:\n%s", c->name, env.errs);
	for (const struct step *s = c->steps; s->op != END; s++) {
		if (s->op == LOG) {
			env_log(s->text);
			continue;
		}
		ck_assert_int_eq(rules_check(env.rules, env_request(s->text), T(s->t), &d), 0);
		ck_assert_msg(strcmp(d.action, s->want_action) == 0,
		    "%s: step %td: want \"%s\", got \"%s\"", c->name, s - c->steps,
		    s->want_action, d.action);
		ck_assert_msg(s->want_rule == NULL ? d.rule == NULL :
		    d.rule != NULL && strcmp(d.rule, s->want_rule) == 0,
		    "%s: step %td: want rule %s, got %s", c->name, s - c->steps,
		    s->want_rule ? s->want_rule : "(none)", d.rule ? d.rule : "(none)");
	}
	env_free();
}
END_TEST

START_TEST(decision_reports_the_counters_that_triggered_it)
{
	struct rules_decision d;

	env_load("rule burst {\n rate messages by client_address > 2 per 1m\n"
	    " rate recipients by client_address >= 1 per 1h\n action DEFER burst\n}\n", 0);
	rules_check(env.rules, env_request(RCPT(C7, "instance=a\n")), T(0), &d);
	rules_check(env.rules, env_request(RCPT(C7, "instance=b\n")), T(0), &d);
	ck_assert_uint_eq(d.n_hits, 0);
	rules_check(env.rules, env_request(RCPT(C7, "instance=c\n")), T(1), &d);
	ck_assert_str_eq(d.action, "DEFER burst");
	ck_assert_uint_eq(d.n_hits, 1);
	ck_assert_str_eq(d.hits[0].rule, "burst");
	ck_assert_int_eq(d.hits[0].dry_run, 0);
	ck_assert_uint_eq(d.hits[0].n_values, 2);
	ck_assert_str_eq(d.hits[0].values[0].condition,
	    "rate messages by client_address > 2 per 1m");
	ck_assert_str_eq(d.hits[0].values[0].key, C7);
	ck_assert_uint_eq(d.hits[0].values[0].value, 3);
	ck_assert_uint_eq(d.hits[0].values[0].limit, 2);
	ck_assert_str_eq(d.hits[0].values[1].condition,
	    "rate recipients by client_address >= 1 per 1h");
	ck_assert_uint_eq(d.hits[0].values[1].value, 3);
	env_free();
}
END_TEST

START_TEST(dry_run_rule_is_reported_before_the_deciding_one)
{
	struct rules_decision d;

	env_load("rule trial {\n client_address 192.0.2.0/24\n action REJECT trial\n mode warn\n}\n"
	    "rule real {\n client_address 192.0.2.7\n action DEFER real\n}\n", 0);
	rules_check(env.rules, env_request(RCPT(C7, "")), T(0), &d);
	ck_assert_uint_eq(d.n_hits, 2);
	ck_assert_str_eq(d.hits[0].rule, "trial");
	ck_assert_str_eq(d.hits[0].action, "REJECT trial");
	ck_assert_int_eq(d.hits[0].dry_run, 1);
	ck_assert_str_eq(d.hits[1].rule, "real");
	ck_assert_int_eq(d.hits[1].dry_run, 0);
	rules_check(env.rules, env_request(RCPT("192.0.2.8", "")), T(0), &d);
	ck_assert_str_eq(d.action, "DUNNO");
	ck_assert_uint_eq(d.n_hits, 1);
	ck_assert_int_eq(d.hits[0].dry_run, 1);
	env_free();
}
END_TEST

START_TEST(global_warn_mode_answers_dunno_and_reports_the_would_be_decision)
{
	struct rules_decision d;

	env_load("rule real {\n client_address 192.0.2.7\n action DEFER real\n}\n"
	    "rule later {\n client_address 192.0.2.0/24\n action REJECT later\n}\n", 1);
	ck_assert_int_eq(rules_check(env.rules, env_request(RCPT(C7, "")), T(0), &d), 0);
	ck_assert_str_eq(d.action, "DUNNO");
	ck_assert_ptr_null(d.rule);
	ck_assert_uint_eq(d.n_hits, 1);			/* evaluation stopped at "real" */
	ck_assert_str_eq(d.hits[0].rule, "real");
	ck_assert_str_eq(d.hits[0].action, "DEFER real");
	ck_assert_int_eq(d.hits[0].dry_run, 1);
	env_free();
}
END_TEST

START_TEST(internal_error_gives_the_fail_action)
{
	struct mx_rules *rules = rules_new();
	struct policy_parser *p = policy_parser_new(0, 0);
	struct rules_decision d;
	size_t used;

	policy_parser_feed(p, "protocol_state=RCPT\n\n", 21, &used);
	/* not bound to counters: an internal error */
	ck_assert_int_eq(rules_check(rules, policy_parser_request(p), T(0), &d), -EINVAL);
	ck_assert_str_eq(d.action, "DUNNO");		/* fail open by default */
	ck_assert_int_eq(d.failed, 1);
	ck_assert_int_eq(rules_set_fail_action(rules, "defer policy unavailable"), 0);
	ck_assert_int_eq(rules_check(rules, policy_parser_request(p), T(0), &d), -EINVAL);
	ck_assert_str_eq(d.action, "DEFER policy unavailable");
	ck_assert_int_eq(rules_set_fail_action(rules, "BOGUS"), -EINVAL);
	ck_assert_int_eq(rules_set_net_prefix(rules, 33, 64), -EINVAL);
	rules_free(rules);
	policy_parser_free(p);
}
END_TEST

/* --------------------------------------------------------------- actions */

static const struct acase {
	const char *name;
	const char *words[4];
	const char *want;		/* NULL: refused */
} acases[] = {
	{ "DUNNO", { "dunno" }, "DUNNO" },
	{ "OK", { "Ok" }, "OK" },
	{ "OK takes no text", { "OK", "fine" }, NULL },
	{ "DEFER with text in words", { "defer", "too", "many" }, "DEFER too many" },
	{ "REJECT without text", { "REJECT" }, "REJECT" },
	{ "DEFER_IF_PERMIT", { "defer_if_permit", "later" }, "DEFER_IF_PERMIT later" },
	{ "DEFER_IF_REJECT", { "DEFER_IF_REJECT", "later" }, "DEFER_IF_REJECT later" },
	{ "HOLD", { "hold", "review" }, "HOLD review" },
	{ "DISCARD", { "DISCARD" }, "DISCARD" },
	{ "WARN", { "warn", "watch this" }, "WARN watch this" },
	{ "INFO", { "info", "noted" }, "INFO noted" },
	{ "PREPEND a header", { "prepend", "X-Mxledger: rate" }, "PREPEND X-Mxledger: rate" },
	{ "PREPEND without a header name", { "PREPEND", ": x" }, NULL },
	{ "PREPEND without a colon", { "PREPEND", "nothing" }, NULL },
	{ "PREPEND with a space in the name", { "PREPEND", "X Bad: y" }, NULL },
	{ "a 4xx code with enhanced status", { "450", "4.7.1", "Slow down" }, "450 4.7.1 Slow down" },
	{ "a 5xx code in one string", { "550 5.7.1 Go away" }, "550 5.7.1 Go away" },
	{ "a 421 disconnects", { "421", "4.7.0", "bye" }, "421 4.7.0 bye" },
	{ "a code without enhanced status", { "554", "no" }, "554 no" },
	{ "enhanced status of the other class", { "450", "5.7.1", "x" }, NULL },
	{ "enhanced status with a 4-digit part", { "450", "4.7.1234", "x" }, NULL },
	{ "a 2xx code is not a refusal", { "250", "ok" }, NULL },
	{ "a two-digit code", { "45", "x" }, NULL },
	{ "an enhanced status alone", { "4.7.1", "x" }, NULL },
	{ "an action Postfix would not take from us", { "FILTER", "smtp:[192.0.2.1]" }, NULL },
	{ "a newline in the text", { "DEFER", "a\nb" }, NULL },
};

START_TEST(action_is_checked_and_normalised)
{
	const struct acase *c = &acases[_i];
	size_t n = 0;
	const char *why;
	char *a = NULL;
	int r;

	while (n < N(c->words) && c->words[n] != NULL)
		n++;
	r = rules_action_normalise(c->words, n, &a, &why);
	if (c->want == NULL) {
		ck_assert_msg(r == -EINVAL && why != NULL, "%s: accepted", c->name);
	} else {
		ck_assert_msg(r == 0, "%s: refused: %s", c->name, r < 0 ? why : "");
		ck_assert_str_eq(a, c->want);
		free(a);
	}
}
END_TEST

/* ---------------------------------------------------------- config errors */

static const struct ecase {
	const char *name, *conf, *want;
} ecases[] = {
	{ "a rule without action",
	  "rule r {\n client_address 192.0.2.1\n}\n", "test.conf:1: rule r: no action\n" },
	{ "an unknown statement, at its own line",
	  "rule r {\n action DUNNO\n colour blue\n}\n",
	  "test.conf:3: rule r: unknown statement \"colour\"\n" },
	{ "a rule without a name",
	  "rule {\n action DUNNO\n}\n",
	  "test.conf:1: rule: expected one name (letters, digits, - _ ., at most 64) before {\n" },
	{ "two rules of the same name",
	  "rule r {\n action DUNNO\n}\nrule r {\n action OK\n}\n",
	  "test.conf:4: rule r: a rule of that name exists (test.conf:1)\n" },
	{ "a network with host bits",
	  "rule r {\n client_address 192.0.2.1/24\n action DUNNO\n}\n",
	  "test.conf:2: rule r: client_address: \"192.0.2.1/24\" has bits set after the "
	  "prefix length\n" },
	{ "not an address",
	  "rule r {\n not client_address mail.example.org\n action DUNNO\n}\n",
	  "test.conf:2: rule r: client_address: \"mail.example.org\" is not an address or "
	  "network (192.0.2.0/24, 2001:db8::/32)\n" },
	{ "a misspelt protocol state",
	  "rule r {\n protocol_state RCTP\n action DUNNO\n}\n",
	  "test.conf:2: rule r: protocol_state: unknown state \"RCTP\" (CONNECT EHLO HELO MAIL "
	  "RCPT DATA END-OF-MESSAGE VRFY ETRN)\n" },
	{ "a port out of range",
	  "rule r {\n server_port 70000\n action DUNNO\n}\n",
	  "test.conf:2: rule r: server_port: \"70000\" is not a port number\n" },
	{ "not with a condition that is no list",
	  "rule r {\n not sasl yes\n action DUNNO\n}\n",
	  "test.conf:2: rule r: not: \"sasl\" is not a list condition\n" },
	{ "sasl needs yes or no",
	  "rule r {\n sasl maybe\n action DUNNO\n}\n", "test.conf:2: rule r: sasl: expected yes or no\n" },
	{ "a bad window, a bad comparison and an unknown metric, each reported",
	  "rule r {\n rate messages by client_address > 3 per 1w\n"
	  " rate messages by client_address => 3 per 1m\n rate mails by client_address > 3 per 1m\n"
	  " action DUNNO\n}\n",
	  "test.conf:2: rule r: rate: \"1w\" is not a window (30s 15m 1h 1d, at most 30d)\n"
	  "test.conf:3: rule r: rate: unknown comparison \"=>\" (> >= < <=)\n"
	  "test.conf:4: rule r: rate: unknown metric \"mails\" (requests connections messages "
	  "recipients bytes)\n" },
	{ "messages cannot be counted by recipient domain",
	  "rule r {\n rate messages by recipient_domain > 3 per 1m\n action DUNNO\n}\n",
	  "test.conf:2: rule r: rate messages cannot be counted by recipient_domain: a message "
	  "has many recipients; count recipients instead\n" },
	{ "failed logins have no sender",
	  "rule r {\n distinct sender in auth_failures by sasl_username > 3 per 1h\n action DUNNO\n}\n",
	  "test.conf:2: rule r: distinct ... in auth_failures: failed logins only have "
	  "client_address, client_net and sasl_username\n" },
	{ "a counting condition with a word missing",
	  "rule r {\n history auth_failures client_address > 5 per 15m\n action DUNNO\n}\n",
	  "test.conf:2: rule r: history: expected \"history EVENT by KEY OP N per WINDOW\"\n" },
	{ "an action with the wrong class of enhanced status, and a second action",
	  "rule r {\n action 450 5.7.1 nope\n action DUNNO\n}\n",
	  "test.conf:2: rule r: action: a numeric action is a 4NN or 5NN code, optionally "
	  "followed by an enhanced status code of the same class (450 4.7.1 text)\n" },
	{ "two actions",
	  "rule r {\n action DUNNO\n action OK\n}\n", "test.conf:3: rule r: more than one action\n" },
	{ "a mode that does not exist",
	  "rule r {\n action DUNNO\n mode silent\n}\n",
	  "test.conf:3: rule r: mode: expected warn or enforce\n" },
	{ "crowdsec without a type",
	  "rule r {\n crowdsec\n action DUNNO\n}\n",
	  "test.conf:2: rule r: crowdsec: expected decision types (ban, captcha, any, ...)\n" },
	{ "crowdsec with a word that is no type",
	  "rule r {\n crowdsec b@n\n action DUNNO\n}\n",
	  "test.conf:2: rule r: crowdsec: \"b@n\" is not a decision type (ban, captcha, any, "
	  "...: letters, digits, - and _)\n" },
	{ "crowdsec-alert without a duration",
	  "rule r {\n action DUNNO\n crowdsec-alert ban\n}\n",
	  "test.conf:3: rule r: crowdsec-alert: expected a decision type and a duration "
	  "(crowdsec-alert ban 4h)\n" },
	{ "crowdsec-alert of type any",
	  "rule r {\n action DUNNO\n crowdsec-alert any 4h\n}\n",
	  "test.conf:3: rule r: crowdsec-alert: expected a decision type and a duration "
	  "(crowdsec-alert ban 4h)\n" },
	{ "crowdsec-alert shorter than a second",
	  "rule r {\n action DUNNO\n crowdsec-alert ban 0\n}\n",
	  "test.conf:3: rule r: crowdsec-alert: \"0\" is not a duration from 1s to 30d\n" },
	{ "crowdsec-alert twice",
	  "rule r {\n action DUNNO\n crowdsec-alert ban 1h\n crowdsec-alert ban 2h\n}\n",
	  "test.conf:4: rule r: crowdsec-alert: given twice\n" },
};

START_TEST(config_error_is_reported_at_its_line)
{
	const struct ecase *c = &ecases[_i];
	unsigned n = env_load(c->conf, 0);

	ck_assert_msg(n > 0, "%s: no error", c->name);
	ck_assert_msg(strcmp(env.errs, c->want) == 0, "%s:\nwant %sgot  %s", c->name, c->want,
	    env.errs);
	env_free();
}
END_TEST

START_TEST(rules_print_back_in_a_form_that_reads_the_same)
{
	static const char conf[] =
	    "rule a {\n protocol_state rcpt\n client_address 192.0.2.0/24\n"
	    " client_address 2001:db8::/32\n not sender_domain Example.ORG\n sasl yes\n"
	    " rate messages by client_address > 30 per 60\n"
	    " distinct client_address in auth_failures by sasl_username > 20 per 3600s\n"
	    " action defer \"slow \\\"down\\\"\"\n mode warn\n}\n";
	static const char want[] =
	    "rule a {\n\tprotocol_state \"RCPT\"\n"
	    "\tclient_address \"192.0.2.0/24\" \"2001:db8::/32\"\n"
	    "\tnot sender_domain \"example.org\"\n\tsasl yes\n"
	    "\trate messages by client_address > 30 per 1m\n"
	    "\tdistinct client_address in auth_failures by sasl_username > 20 per 1h\n"
	    "\taction \"DEFER slow \\\"down\\\"\"\n\tmode warn\n}\n";

	check_print_round_trip(conf, 1, want);
}
END_TEST


/* ------------------------------------------------------------- crowdsec */

/* What the fake CrowdSec holds: address text -> decisions, strongest first. */
static const struct cs_fake {
	const char *addr;
	size_t n;
	struct rules_cs_decision d[2];
} cs_fakes[] = {
	{ "203.0.113.7", 1, { { "ban", "crowdsecurity/postfix-spam", "cscli", 0 } } },
	{ "203.0.113.8", 1, { { "captcha", "crowdsecurity/dovecot-spam", "crowdsec", 0 } } },
	{ "203.0.113.9", 2, { { "ban", "s1", "cscli", 0 }, { "captcha", "s2", "cscli", 0 } } },
	{ "203.0.113.10", 1, { { "throttle", "custom/slow", "cscli", 0 } } },
	{ "2001:db8::7", 1, { { "ban", "crowdsecurity/ssh-bf", "CAPI", 0 } } },
};

static unsigned cs_calls;
static int cs_fail;

/* cs_lookup - a rules_cs_lookup_fn over cs_fakes, expiring an hour after now */
static int
cs_lookup(void *ud, int family, const unsigned char *addr, int64_t now,
    struct rules_cs_match *ret)
{
	char text[INET6_ADDRSTRLEN];

	ck_assert_ptr_eq(ud, &cs_calls);
	cs_calls++;
	ret->n = 0;
	if (cs_fail)
		return -EIO;
	ck_assert_ptr_nonnull(inet_ntop(family, addr, text, sizeof(text)));
	for (size_t i = 0; i < N(cs_fakes); i++)
		if (strcmp(cs_fakes[i].addr, text) == 0) {
			ret->n = cs_fakes[i].n;
			for (size_t k = 0; k < ret->n; k++) {
				ret->d[k] = cs_fakes[i].d[k];
				ret->d[k].expires_usec = now + 3600 * INT64_C(1000000);
			}
		}
	return 0;
}

static const char cs_conf[] =
    "rule cs-ban {\n crowdsec ban\n action 521 5.7.1 \"Blocked by CrowdSec\"\n"
    " crowdsec-alert ban 4h\n}\n"
    "rule cs-captcha {\n crowdsec captcha\n action DEFER \"Try again later\"\n}\n"
    "rule cs-other {\n crowdsec any\n not crowdsec ban captcha\n action WARN other\n}\n";

static const struct cscase {
	const char *name;
	const char *client;
	int no_lookup, fail;
	const char *want_action, *want_rule;
} cscases[] = {
	{ "a banned address gets the ban rule's answer", "203.0.113.7", 0, 0,
	  "521 5.7.1 Blocked by CrowdSec", "cs-ban" },
	{ "a captcha decision gets the captcha rule", "203.0.113.8", 0, 0,
	  "DEFER Try again later", "cs-captcha" },
	{ "ban and captcha: the first rule that matches, the ban", "203.0.113.9", 0, 0,
	  "521 5.7.1 Blocked by CrowdSec", "cs-ban" },
	{ "any matches another type; not crowdsec ban captcha holds", "203.0.113.10", 0, 0,
	  "WARN other", "cs-other" },
	{ "an IPv6 ban", "2001:db8::7", 0, 0, "521 5.7.1 Blocked by CrowdSec", "cs-ban" },
	{ "an IPv4-mapped client is looked up as IPv4", "::ffff:203.0.113.7", 0, 0,
	  "521 5.7.1 Blocked by CrowdSec", "cs-ban" },
	{ "an address without decision: DUNNO", "198.51.100.1", 0, 0, "DUNNO", NULL },
	{ "no lookup set: crowdsec conditions never hold", "203.0.113.7", 1, 0, "DUNNO", NULL },
	{ "a failing lookup fails open", "203.0.113.7", 0, 1, "DUNNO", NULL },
	{ "a client that is not an address has no decision", "unknown", 0, 0, "DUNNO", NULL },
};

START_TEST(crowdsec_condition_answers_from_the_lookup)
{
	const struct cscase *c = &cscases[_i];
	struct rules_decision d;
	char req[256];

	ck_assert_uint_eq(env_load(cs_conf, 0), 0);
	ck_assert_int_eq(rules_use_crowdsec(env.rules), 3);
	if (!c->no_lookup)
		rules_set_crowdsec(env.rules, cs_lookup, &cs_calls);
	cs_calls = 0;
	cs_fail = c->fail;
	snprintf(req, sizeof(req), "protocol_state=CONNECT\nclient_address=%s\n", c->client);
	ck_assert_int_eq(rules_check(env.rules, env_request(req), T(0), &d), 0);
	ck_assert_msg(strcmp(d.action, c->want_action) == 0, "%s: want %s, got %s", c->name,
	    c->want_action, d.action);
	ck_assert_msg(c->want_rule == NULL ? d.rule == NULL :
	    d.rule != NULL && strcmp(d.rule, c->want_rule) == 0, "%s: rule %s", c->name,
	    d.rule ? d.rule : "(none)");
	/* three rules ask, the lookup runs once per request (never for a non-address) */
	ck_assert_uint_eq(cs_calls, c->no_lookup || strcmp(c->client, "unknown") == 0 ? 0 : 1);
	cs_fail = 0;
	env_free();
}
END_TEST

START_TEST(crowdsec_hit_reports_the_decision_and_the_alert)
{
	struct rules_decision d;
	const struct rules_hit *h;

	ck_assert_uint_eq(env_load(cs_conf, 0), 0);
	rules_set_crowdsec(env.rules, cs_lookup, &cs_calls);
	rules_check(env.rules, env_request("protocol_state=RCPT\nclient_address=203.0.113.7\n"),
	    T(0), &d);
	ck_assert_uint_eq(d.n_hits, 1);
	h = &d.hits[0];
	ck_assert_uint_eq(h->n_values, 1);
	ck_assert_str_eq(h->values[0].condition, "crowdsec ban");
	ck_assert_str_eq(h->values[0].key, "203.0.113.7");
	ck_assert_uint_eq(h->values[0].value, 1);
	ck_assert_uint_eq(h->values[0].limit, 1);
	ck_assert_int_eq(h->values[0].crowdsec, 1);
	ck_assert_str_eq(h->crowdsec, "ban crowdsecurity/postfix-spam (origin cscli, 1h00m left)");
	ck_assert_str_eq(h->alert_type, "ban");
	ck_assert_int_eq(h->alert_usec, 4 * 3600 * INT64_C(1000000));
	/* a rule without crowdsec-alert carries none */
	rules_check(env.rules, env_request("protocol_state=RCPT\nclient_address=203.0.113.8\n"),
	    T(0), &d);
	ck_assert_ptr_null(d.hits[0].alert_type);
	ck_assert_str_eq(d.hits[0].crowdsec,
	    "captcha crowdsecurity/dovecot-spam (origin crowdsec, 1h00m left)");
	env_free();
}
END_TEST

START_TEST(crowdsec_rules_print_back)
{
	static const char want[] =
	    "rule cs-ban {\n\tcrowdsec ban\n\taction \"521 5.7.1 Blocked by CrowdSec\"\n"
	    "\tcrowdsec-alert ban 4h\n}\n"
	    "rule cs-captcha {\n\tcrowdsec captcha\n\taction \"DEFER Try again later\"\n}\n"
	    "rule cs-other {\n\tcrowdsec any\n\tnot crowdsec ban captcha\n"
	    "\taction \"WARN other\"\n}\n";

	check_print_round_trip(cs_conf, 3, want);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, scenario_gives_expected_answers, 0, N(scases));
	tcase_add_test(tc, decision_reports_the_counters_that_triggered_it);
	tcase_add_test(tc, dry_run_rule_is_reported_before_the_deciding_one);
	tcase_add_test(tc, global_warn_mode_answers_dunno_and_reports_the_would_be_decision);
	tcase_add_test(tc, internal_error_gives_the_fail_action);
	tcase_add_loop_test(tc, action_is_checked_and_normalised, 0, N(acases));
	tcase_add_loop_test(tc, config_error_is_reported_at_its_line, 0, N(ecases));
	tcase_add_test(tc, rules_print_back_in_a_form_that_reads_the_same);
	tcase_add_loop_test(tc, crowdsec_condition_answers_from_the_lookup, 0, N(cscases));
	tcase_add_test(tc, crowdsec_hit_reports_the_decision_and_the_alert);
	tcase_add_test(tc, crowdsec_rules_print_back);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
