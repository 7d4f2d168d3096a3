/*
 * NAME
 *	check_policy - the policy glue: policy block, decisions and their records,
 *	dry runs, fail-open, history rebuilt from the database, stored decisions
 * DESCRIPTION
 *	Configurations are read with config_parse_text() as "t.conf" (errors
 *	captured, exact "file:line: message" wanted) and turned into a
 *	struct policy; requests are decided at injected times and the records
 *	handed to the recorder are collected. History cases store parsed real
 *	log lines in a database under tst_tmpdir(), rebuild a second policy
 *	from it and want the same answer, with the same counter value, as the
 *	policy that saw the lines live. The rule language itself is
 *	tests/check_rules.c's business.
 * SEE ALSO
 *	policy.h, history.h, config.h, tests/check_rules.c
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "history.h"
#include "policy.h"
#include "policy_proto.h"
#include "rules.h"
#include "store.h"
#include "testutil.h"

#define SEC	INT64_C(1000000)
/* Times are seconds after 2026-11-22T02:22:00Z (tst_parse_line() reads "Nov 22" as 2026). */
#define T(s)	((INT64_C(1795314120) + (s)) * SEC)

#define IMAP_FAIL(t, ip, sess) "Nov 22 " t " mail dovecot: imap-login: Disconnected: " \
	"Aborted login by logging out (auth failed, 2 attempts in 4 secs): user=<bob>, " \
	"method=PLAIN, rip=" ip ", lip=203.0.113.254, session=<" sess ">"
#define SMTP_FAIL(t, ip) "Nov 22 " t " mail postfix/submission/smtpd[4711]: warning: " \
	"unknown[" ip "]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
#define PREGREET(t, ip) "Nov 22 " t " mail postfix/postscreen[99]: PREGREET 11 after 0.2 " \
	"from [" ip "]:4711: EHLO x\\r\\n"

/* ---------------------------------------------------------------- harness */

#define RECS_MAX	16

static struct policy_record recs[RECS_MAX];
static unsigned n_recs;

static void
collect(void *ud, const struct policy_record *rec)
{
	ck_assert_uint_lt(n_recs, RECS_MAX);
	recs[n_recs++] = *rec;
}

/* load - read text as t.conf; NULL with the messages in *ret_err when it is refused */
static struct mx_config *
load(const char *text, char **ret_err)
{
	struct mx_config *cfg = NULL;
	size_t len;
	FILE *err = open_memstream(ret_err, &len);

	ck_assert_ptr_nonnull(err);
	(void)config_parse_text("t.conf", text, strlen(text), err, &cfg);
	fclose(err);
	return cfg;
}

/* make - a policy from a valid configuration text, recording into recs[] */
static struct policy *
make(const char *text, struct mx_config **ret_cfg)
{
	struct mx_config *cfg;
	struct policy *p = NULL;
	char *err;

	cfg = load(text, &err);
	ck_assert_msg(cfg != NULL, "configuration refused: %s", err);
	free(err);
	ck_assert_int_eq(policy_new(cfg, &p), 0);
	policy_set_recorder(p, collect, NULL);
	n_recs = 0;
	if (ret_cfg != NULL)
		*ret_cfg = cfg;
	else
		config_free(cfg);
	return p;
}

/* request - a parsed request from "name=value\n" lines (the empty line is added) */
static const struct policy_request *
request(struct policy_parser *pp, const char *attrs)
{
	char buf[4096];
	size_t used;
	int n = snprintf(buf, sizeof(buf), "%s\n", attrs);

	ck_assert_int_eq(policy_parser_feed(pp, buf, (size_t)n, &used), POLICY_REQUEST);
	return policy_parser_request(pp);
}

/* decide - one request at time t; the action sent */
static const char *
decide(struct policy *p, const char *attrs, int64_t t, struct rules_decision *d, int *ret_r)
{
	static char action[POLICY_ACTION_MAX + 1];
	struct policy_parser *pp = policy_parser_new(0, 0);
	int r;

	r = policy_decide(p, request(pp, attrs), t, d);
	if (ret_r != NULL)
		*ret_r = r;
	ck_assert_int_ge(policy_format_action(d, action, sizeof(action)), 0);
	policy_parser_free(pp);
	return action;
}

/* observe_line - parse a real log line and count it */
static void
observe_line(struct policy *p, const char *line, int64_t now)
{
	struct mx_event *ev = tst_event();

	ck_assert_msg(tst_parse_line(line, ev) == 1, "not parsed: %s", line);
	ck_assert_int_eq(policy_observe(p, ev, now), 0);
}

/* ------------------------------------------------------------ policy block */

START_TEST(policy_block_settings_reach_the_structure)
{
	static const char text[] =
	    "policy {\n"
	    "\tlisten inet \"127.0.0.1:10040\"\n"
	    "\tlisten inet \"[::1]:10040\"\n"
	    "\tlisten unix \"/var/spool/postfix/private/mxledger\" {\n"
	    "\t\towner postfix; group postfix; mode 0660\n\t}\n"
	    "\tsocket-activation yes\n\tmax-connections 1000\n\tidle-timeout 5m\n"
	    "\trequest-max 8K\n\tmode warn\n\tfail-action defer \"try later\"\n"
	    "\tnetwork-prefix 16 48\n\tcounters-memory 64M\n\thistory-window 2d\n"
	    "}\n"
	    "auth-policy {\n\tlisten \"127.0.0.1:10041\"\n\treports ignore\n\tdefer-delay 10s\n"
	    "\tapi-key \"s3cret\"\n\tapi-header X-Key\n}\n";
	struct mx_config *cfg;
	char *err;

	cfg = load(text, &err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg->policy.present, 1);
	ck_assert_uint_eq(cfg->policy.line, 1);
	ck_assert_uint_eq(cfg->policy.n_listens, 3);
	ck_assert_int_eq(cfg->policy.listens[0].type, MX_LISTEN_INET);
	ck_assert_str_eq(cfg->policy.listens[1].address, "[::1]:10040");
	ck_assert_int_eq(cfg->policy.listens[2].type, MX_LISTEN_UNIX);
	ck_assert_str_eq(cfg->policy.listens[2].address, "/var/spool/postfix/private/mxledger");
	ck_assert_str_eq(cfg->policy.listens[2].owner, "postfix");
	ck_assert_str_eq(cfg->policy.listens[2].group, "postfix");
	ck_assert_uint_eq(cfg->policy.listens[2].mode, 0660);
	ck_assert_uint_eq(cfg->policy.listens[2].line, 4);
	ck_assert_int_eq(cfg->policy.socket_activation, 1);
	ck_assert_uint_eq(cfg->policy.max_connections, 1000);
	ck_assert_uint_eq(cfg->policy.idle_timeout_usec, 300 * SEC);
	ck_assert_uint_eq(cfg->policy.request_max, 8192);
	ck_assert_int_eq(cfg->policy.warn, 1);
	ck_assert_str_eq(cfg->policy.fail_action, "DEFER try later");
	ck_assert_uint_eq(cfg->policy.net_v4, 16);
	ck_assert_uint_eq(cfg->policy.net_v6, 48);
	ck_assert_uint_eq(cfg->policy.counters_memory, 64 << 20);
	ck_assert_int_eq(cfg->policy.history_window_usec, 2 * 86400 * SEC);
	ck_assert_int_eq(config_policy_enabled(cfg), 1);
	ck_assert_int_eq(cfg->auth_policy_present, 1);
	ck_assert_str_eq(cfg->auth_policy_listen, "127.0.0.1:10041");
	ck_assert_uint_eq(cfg->auth_policy_line, 17);
	ck_assert_int_eq(cfg->auth_policy_count_reports, 0);
	ck_assert_uint_eq(cfg->auth_policy_defer_sec, 10);
	ck_assert_str_eq(cfg->auth_policy_api_key, "s3cret");
	ck_assert_str_eq(cfg->auth_policy_api_header, "X-Key");
	free(err);
	config_free(cfg);
}
END_TEST

START_TEST(without_a_listener_the_policy_service_is_off)
{
	static const char *const texts[] = {
		"", "policy { }\n", "policy {\n\tmode warn\n}\n",
		"rule a {\n\taction REJECT x\n}\n",
	};
	struct mx_config *cfg;
	char *err;

	for (size_t i = 0; i < N(texts); i++) {
		cfg = load(texts[i], &err);
		ck_assert_msg(cfg != NULL, "%s", err);
		ck_assert_msg(config_policy_enabled(cfg) == 0, "%s", texts[i]);
		ck_assert_int_eq(cfg->auth_policy_count_reports, 1);
		free(err);
		config_free(cfg);
	}
	/* Dovecot's endpoint alone runs the service too */
	cfg = load("auth-policy { listen \"127.0.0.1:10041\" }\n", &err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(config_policy_enabled(cfg), 1);
	free(err);
	config_free(cfg);
}
END_TEST

static const struct err_case {
	const char *name, *text, *want;
} err_cases[] = {
	{ "an unknown policy setting is named with its line",
	  "policy {\n\tlisten inet \"127.0.0.1:10040\"\n\tmax-conn 5\n}\n",
	  "t.conf:3: unknown keyword \"max-conn\" in a policy block\n" },
	{ "rules are top-level statements, not inside the policy block",
	  "policy {\n\trule a { action DUNNO }\n}\n",
	  "t.conf:2: unknown keyword \"rule\" in a policy block (it is a top-level statement)\n" },
	{ "an inet listener needs a port",
	  "policy {\n\tlisten inet \"127.0.0.1\"\n}\n",
	  "t.conf:2: listen inet: \"127.0.0.1\": expected HOST:PORT\n" },
	{ "an IPv6 listener needs brackets",
	  "policy {\n\tlisten inet \"::1:10040\"\n}\n",
	  "t.conf:2: listen inet: \"::1:10040\": an IPv6 address goes in brackets: [::1]:10040\n" },
	{ "port zero is not a port",
	  "policy {\n\tlisten inet \"127.0.0.1:0\"\n}\n",
	  "t.conf:2: listen inet: \"127.0.0.1:0\": the port is not a number from 1 to 65535\n" },
	{ "a unix socket path must be absolute",
	  "policy {\n\tlisten unix \"private/mxledger\"\n}\n",
	  "t.conf:2: listen unix: \"private/mxledger\" is not an absolute path\n" },
	{ "the same listener twice",
	  "policy {\n\tlisten inet \"127.0.0.1:10040\"\n\tlisten inet \"127.0.0.1:10040\"\n}\n",
	  "t.conf:3: listen: \"127.0.0.1:10040\" already declared at t.conf:2\n" },
	{ "a socket mode is octal",
	  "policy {\n\tlisten unix \"/run/x\" { mode 660 }\n}\n",
	  "t.conf:2: mode: \"660\" is not octal permission bits (e.g. 0660)\n" },
	{ "owner and group are for unix sockets",
	  "policy {\n\tlisten inet \"127.0.0.1:1\" { owner postfix }\n}\n",
	  "t.conf:2: listen inet: does not take a block (owner, group and mode are for unix "
	  "sockets)\n" },
	{ "mode is enforce or warn",
	  "policy {\n\tmode dry\n}\n",
	  "t.conf:2: mode: \"dry\" is not one of enforce, warn\n" },
	{ "a fail-action is an action Postfix knows",
	  "policy {\n\tfail-action TEMPFAIL\n}\n",
	  "t.conf:2: fail-action: unknown action (DUNNO OK DEFER REJECT DEFER_IF_PERMIT "
	  "DEFER_IF_REJECT HOLD DISCARD WARN INFO PREPEND 4NN 5NN)\n" },
	{ "network prefixes are two lengths",
	  "policy {\n\tnetwork-prefix 33 64\n}\n",
	  "t.conf:2: network-prefix: expected the IPv4 and the IPv6 prefix length "
	  "(1-32 and 1-128, e.g. 24 64)\n" },
	{ "counters need a minimum of memory",
	  "policy {\n\tcounters-memory 1K\n}\n",
	  "t.conf:2: counters-memory: \"1K\" is not a size from 64K to 64G "
	  "(bytes, or with K, M, G)\n" },
	{ "the history window is at most 30 days",
	  "policy {\n\thistory-window 31d\n}\n",
	  "t.conf:2: history-window: \"31d\" is not a whole number of seconds from 1s to 30d, "
	  "or off\n" },
	{ "a request limit below a real request is refused",
	  "policy {\n\trequest-max 100\n}\n",
	  "t.conf:2: request-max: \"100\" is not a size from 1K to 1M (bytes, or with K, M, G)\n" },
	{ "a setting twice in one block",
	  "policy {\n\tmode warn\n\tmode enforce\n}\n",
	  "t.conf:3: mode: already set in this block at line 2\n" },
	{ "two policy blocks",
	  "policy { }\npolicy { }\n",
	  "t.conf:2: policy: already set at t.conf:1\n" },
	{ "a bad rule is reported at its file and line",
	  "policy { }\nrule limit {\n\trate mails by client_address > 3 per 1m\n"
	  "\taction DEFER x\n}\n",
	  "t.conf:3: rule limit: rate: unknown metric \"mails\" (requests connections messages "
	  "recipients bytes)\n" },
	{ "auth-policy needs a listen address",
	  "auth-policy { }\n",
	  "t.conf:1: auth-policy: expected listen \"HOST:PORT\" in the block\n" },
	{ "auth-policy reports are counted or ignored",
	  "auth-policy {\n\tlisten \"127.0.0.1:10041\"\n\treports maybe\n}\n",
	  "t.conf:3: reports: \"maybe\" is not one of ignore, count\n" },
	{ "Dovecot delays authentication by at most 5 minutes",
	  "auth-policy {\n\tlisten \"127.0.0.1:10041\"\n\tdefer-delay 10m\n}\n",
	  "t.conf:3: defer-delay: \"10m\" is not a whole number of seconds from 1s to 5m, "
	  "or off\n" },
	{ "auth-policy knows its own settings only",
	  "auth-policy {\n\tlisten \"127.0.0.1:10041\"\n\tport 5\n}\n",
	  "t.conf:3: unknown keyword \"port\" in an auth-policy block\n" },
};

START_TEST(bad_policy_configuration_gives_its_file_and_line)
{
	const struct err_case *c = &err_cases[_i];
	struct mx_config *cfg;
	char *err;

	cfg = load(c->text, &err);
	ck_assert_msg(cfg == NULL, "%s: accepted", c->name);
	ck_assert_msg(strcmp(err, c->want) == 0, "%s: want\n%sgot\n%s", c->name, c->want, err);
	free(err);
}
END_TEST

/* print - config_print() into a string (caller frees) */
static char *
print(const struct mx_config *cfg)
{
	char *out;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	config_print(cfg, f);
	fclose(f);
	return out;
}

START_TEST(printed_policy_and_rules_read_back_the_same)
{
	static const char text[] =
	    "rule b { client_address 192.0.2.0/24 198.51.100.7; action dunno }\n"
	    "policy {\n\tlisten unix \"/run/mx.sock\"\n\tlisten inet \"127.0.0.1:10040\"\n"
	    "\tfail-action DEFER \"try again\"\n\tidle-timeout 90s\n\tcounters-memory 1048576\n"
	    "\thistory-window off\n}\n"
	    "rule a {\n\tprotocol_state rcpt\n\thistory auth_failures by client_net >= 5 per 15m\n"
	    "\taction 421 4.7.0 \"Too many failed logins\"\n\tmode warn\n}\n"
	    "auth-policy { listen \"[::1]:10041\" }\n";
	struct mx_config *cfg, *again;
	char *err, *out, *out2;

	cfg = load(text, &err);
	ck_assert_msg(cfg != NULL, "%s", err);
	free(err);
	out = print(cfg);
	ck_assert_msg(strstr(out, "policy {\n\tlisten unix \"/run/mx.sock\" {\n\t\tmode 0660\n\t}\n"
	    "\tlisten inet \"127.0.0.1:10040\"\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\tidle-timeout 90s\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\tfail-action \"DEFER try again\"\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\tcounters-memory 1M\n\thistory-window off\n}\n") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, "# 2 rules, tried in this order; the first that matches "
	    "decides\nrule b {\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "rule a {\n\tprotocol_state \"RCPT\"\n\thistory auth_failures "
	    "by client_net >= 5 per 15m\n\taction \"421 4.7.0 Too many failed logins\"\n"
	    "\tmode warn\n}\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "auth-policy {\n\tlisten \"[::1]:10041\"\n\treports count\n"
	    "\tdefer-delay off\n}\n") != NULL, "%s", out);
	again = load(out, &err);
	ck_assert_msg(again != NULL, "printed form refused: %s\n%s", err, out);
	out2 = print(again);
	ck_assert_str_eq(out, out2);
	free(err);
	free(out);
	free(out2);
	config_free(cfg);
	config_free(again);
}
END_TEST

/* ---------------------------------------------------------------- deciding */

#define LIMITS \
	"rule office {\n\tclient_address 192.0.2.0/24\n\taction DUNNO\n}\n" \
	"rule burst {\n\tprotocol_state RCPT\n\trate recipients by client_address > 2 per 1m\n" \
	"\taction 450 4.7.1 \"Slow down\"\n}\n"
#define RCPT(ip)	"protocol_state=RCPT\nclient_address=" ip "\nrecipient=a@example.org\n"

START_TEST(a_rule_decides_with_the_injected_clock_and_is_recorded)
{
	struct policy *p = make(LIMITS, NULL);
	struct rules_decision d;
	struct policy_stats st;

	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(0), &d, NULL), "DUNNO");
	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(10), &d, NULL), "DUNNO");
	ck_assert_uint_eq(n_recs, 0);
	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(20), &d, NULL), "450 4.7.1 Slow down");
	ck_assert_str_eq(d.rule, "burst");
	ck_assert_uint_eq(n_recs, 1);
	ck_assert_str_eq(recs[0].rule, "burst");
	ck_assert_str_eq(recs[0].action, "450 4.7.1 Slow down");
	ck_assert_int_eq(recs[0].dry_run, 0);
	ck_assert_int_eq(recs[0].error, 0);
	ck_assert_int_eq(recs[0].ts_usec, T(20));
	ck_assert_str_eq(recs[0].protocol_state, "RCPT");
	ck_assert_str_eq(recs[0].client_address, "203.0.113.7");
	ck_assert_str_eq(recs[0].recipient, "a@example.org");
	ck_assert_str_eq(recs[0].counters, "[{\"condition\":\"rate recipients by client_address "
	    "> 2 per 1m\",\"key\":\"203.0.113.7\",\"value\":3,\"limit\":2}]");
	/* the allowlist is first: never limited, and DUNNO answers are not recorded */
	for (int i = 0; i < 5; i++)
		ck_assert_str_eq(decide(p, RCPT("192.0.2.9"), T(20), &d, NULL), "DUNNO");
	ck_assert_str_eq(d.rule, "office");
	ck_assert_uint_eq(n_recs, 1);
	/* a minute and a bucket later the window has slid past the first three */
	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(82), &d, NULL), "DUNNO");
	policy_get_stats(p, &st);
	ck_assert_uint_eq(st.decisions, 9);
	ck_assert_uint_eq(st.matched, 6);
	ck_assert_uint_eq(st.records, 1);
	policy_free(p);
}
END_TEST

START_TEST(a_dry_run_rule_answers_dunno_and_records_what_it_would_have_done)
{
	struct policy *p = make(
	    "rule trial {\n\trate requests by client_address > 1 per 1h\n"
	    "\taction REJECT \"trial\"\n\tmode warn\n}\n" LIMITS, NULL);
	struct rules_decision d;

	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(0), &d, NULL), "DUNNO");
	ck_assert_uint_eq(n_recs, 0);
	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(1), &d, NULL), "DUNNO");
	ck_assert_ptr_null(d.rule);
	ck_assert_uint_eq(n_recs, 1);
	ck_assert_str_eq(recs[0].rule, "trial");
	ck_assert_str_eq(recs[0].action, "REJECT trial");
	ck_assert_int_eq(recs[0].dry_run, 1);
	/* the dry run goes on to the enforcing rules: both are recorded, in rule order */
	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(2), &d, NULL), "450 4.7.1 Slow down");
	ck_assert_uint_eq(n_recs, 3);
	ck_assert_str_eq(recs[1].rule, "trial");
	ck_assert_int_eq(recs[1].dry_run, 1);
	ck_assert_str_eq(recs[2].rule, "burst");
	ck_assert_int_eq(recs[2].dry_run, 0);
	policy_free(p);
}
END_TEST

START_TEST(global_mode_warn_answers_dunno_and_records_the_would_be_answer)
{
	struct policy *p = make("policy {\n\tmode warn\n}\n" LIMITS, NULL);
	struct rules_decision d;

	for (int i = 0; i < 3; i++)
		ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(i), &d, NULL), "DUNNO");
	ck_assert_uint_eq(n_recs, 1);
	ck_assert_str_eq(recs[0].rule, "burst");
	ck_assert_str_eq(recs[0].action, "450 4.7.1 Slow down");
	ck_assert_int_eq(recs[0].dry_run, 1);
	policy_free(p);
}
END_TEST

/*
 * Counters that cannot allocate: the smallest counters-memory the
 * configuration allows cannot hold one key of a distinct counter of 4095
 * values (64 KiB), so every request with a user fails inside the rules.
 */
#define TIGHT_RULES \
	"rule shared {\n\tdistinct client_address by sasl_username > 4094 per 1h\n" \
	"\taction HOLD shared\n}\n"

static const struct fail_case {
	const char *name, *policy_block, *want_action;
} fail_cases[] = {
	{ "an internal error answers DUNNO by default (fail open)",
	  "policy {\n\tcounters-memory 64K\n}\n", "DUNNO" },
	{ "fail-action makes an internal error answer DEFER (fail closed)",
	  "policy {\n\tcounters-memory 64K\n"
	  "\tfail-action DEFER \"Service temporarily unavailable\"\n}\n",
	  "DEFER Service temporarily unavailable" },
};

START_TEST(an_internal_error_answers_the_fail_action_and_is_recorded)
{
	const struct fail_case *c = &fail_cases[_i];
	char text[1024];
	struct policy *p;
	struct rules_decision d;
	struct policy_stats st;
	int r;

	snprintf(text, sizeof(text), "%s%s", c->policy_block, TIGHT_RULES);
	p = make(text, NULL);
	ck_assert_str_eq(decide(p, RCPT("203.0.113.7") "sasl_username=alice\n", T(0), &d, &r),
	    c->want_action);
	ck_assert_int_eq(r, -ENOMEM);
	ck_assert_int_eq(d.failed, 1);
	ck_assert_uint_eq(n_recs, 1);
	ck_assert_str_eq(recs[0].rule, "");
	ck_assert_str_eq(recs[0].action, c->want_action);
	ck_assert_int_eq(recs[0].error, -ENOMEM);
	ck_assert_str_eq(recs[0].sasl_username, "alice");
	ck_assert_str_eq(recs[0].counters, "[]");
	/* without a user the counter is not needed: the rules work */
	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(1), &d, &r), "DUNNO");
	ck_assert_int_eq(r, 0);
	policy_get_stats(p, &st);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_uint_eq(st.decisions, 2);
	policy_free(p);
}
END_TEST

START_TEST(reloaded_rules_keep_the_counts_of_unchanged_conditions)
{
	struct mx_config *cfg, *cfg2;
	struct policy *p = make(LIMITS, &cfg);
	struct mx_rules *rules;
	struct rules_decision d;
	char *err;

	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(0), &d, NULL), "DUNNO");
	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(1), &d, NULL), "DUNNO");
	cfg2 = load("rule new-name {\n\tprotocol_state RCPT\n"
	    "\trate recipients by client_address > 2 per 1m\n\taction REJECT \"new\"\n}\n", &err);
	ck_assert_msg(cfg2 != NULL, "%s", err);
	free(err);
	ck_assert_int_eq(config_rules_new(cfg2, NULL, &rules), 0);
	ck_assert_int_eq(policy_set_rules(p, rules), 0);
	ck_assert_str_eq(decide(p, RCPT("203.0.113.7"), T(2), &d, NULL), "REJECT new");
	ck_assert_str_eq(d.rule, "new-name");
	config_free(cfg);
	config_free(cfg2);
	policy_free(p);
}
END_TEST

/* ----------------------------------------------------------------- history */

#define HISTORY_RULES \
	"policy {\n\thistory-window 1d\n}\n" \
	"rule auth-bruteforce {\n\thistory auth_failures by client_address >= 5 per 15m\n" \
	"\taction 421 4.7.0 \"Too many failed logins\"\n}\n" \
	"rule noisy {\n\thistory postscreen_violations by client_net > 1 per 1h\n" \
	"\taction DEFER noisy\n}\n"

/* Log lines of the last minutes: IMAP and SMTP AUTH failures, postscreen verdicts. */
static const char *const history_lines[] = {
	IMAP_FAIL("02:20:01", "203.0.113.7", "s1"),
	IMAP_FAIL("02:20:09", "203.0.113.7", "s2"),
	SMTP_FAIL("02:21:00", "203.0.113.7"),
	PREGREET("02:21:30", "198.51.100.1"),
	PREGREET("02:21:31", "198.51.100.2"),
	SMTP_FAIL("02:21:40", "203.0.113.8"),
	/* older than the 1d history window: not replayed */
	"Nov 20 02:21:30 mail postfix/postscreen[99]: PREGREET 11 after 0.2 from "
	"[203.0.113.99]:4711: EHLO x\\r\\n",
};

static const struct hcase {
	const char *name, *request, *want_action, *want_counter;
} hcases[] = {
	{ "two IMAP sessions of 2 attempts and one SMTP AUTH failure make 5",
	  "protocol_state=CONNECT\nclient_address=203.0.113.7\n",
	  "421 4.7.0 Too many failed logins",
	  "[{\"condition\":\"history auth_failures by client_address >= 5 per 15m\","
	  "\"key\":\"203.0.113.7\",\"value\":5,\"limit\":5}]" },
	{ "one SMTP AUTH failure is below the limit",
	  "protocol_state=CONNECT\nclient_address=203.0.113.8\n", "DUNNO", NULL },
	{ "pregreets of two addresses of one /24 count for the network",
	  "protocol_state=RCPT\nclient_address=198.51.100.200\n", "DEFER noisy",
	  "[{\"condition\":\"history postscreen_violations by client_net > 1 per 1h\","
	  "\"key\":\"198.51.100.0/24\",\"value\":2,\"limit\":1}]" },
	{ "an event older than the history window is forgotten",
	  "protocol_state=RCPT\nclient_address=203.0.113.99\n", "DUNNO", NULL },
};

/* store_lines - the parsed lines in a new database in a fresh directory */
static struct store *
store_lines(void)
{
	static unsigned n;
	struct store *st;
	char path[4096];

	/* a new database each time, also when Check does not fork (CK_FORK=no) */
	snprintf(path, sizeof(path), "%s/history-%u.db", tst_tmpdir(), n++);
	ck_assert_int_eq(store_open(path, MX_STORE_CREATE, &st), 0);
	ck_assert_int_eq(store_begin(st), 0);
	for (size_t i = 0; i < N(history_lines); i++) {
		struct mx_event *ev = tst_event();

		ck_assert_msg(tst_parse_line(history_lines[i], ev) == 1, "%s", history_lines[i]);
		ck_assert_int_eq(store_add_event(st, ev), 0);
	}
	/* a line of no interest to the history counters is stored too */
	ck_assert_int_eq(tst_parse_line("Nov 22 02:21:50 mail postfix/smtpd[1]: connect from "
	    "unknown[203.0.113.7]", tst_event()), 1);
	ck_assert_int_eq(store_add_event(st, tst_event()), 0);
	ck_assert_int_eq(store_commit(st), 0);
	return st;
}

START_TEST(counters_rebuilt_from_the_database_decide_like_live_ones)
{
	const struct hcase *c = &hcases[_i];
	struct policy *live = make(HISTORY_RULES, NULL), *rebuilt = make(HISTORY_RULES, NULL);
	struct store *st = store_lines();
	struct rules_decision d;
	char counters[POLICY_COUNTERS_JSON_MAX];

	for (size_t i = 0; i < N(history_lines); i++)
		observe_line(live, history_lines[i], T(60));
	/* 6 lines within the window, the 7th two days old; the connect line is not asked for */
	ck_assert_int_eq(policy_rebuild(rebuilt, st, T(60)), 6);

	n_recs = 0;
	ck_assert_str_eq(decide(live, c->request, T(60), &d, NULL), c->want_action);
	if (c->want_counter != NULL) {
		ck_assert_uint_eq(n_recs, 1);
		ck_assert_str_eq(recs[0].counters, c->want_counter);
	}
	n_recs = 0;
	ck_assert_str_eq(decide(rebuilt, c->request, T(60), &d, NULL), c->want_action);
	if (c->want_counter != NULL) {
		ck_assert_uint_eq(n_recs, 1);
		ck_assert_str_eq(recs[0].counters, c->want_counter);
		ck_assert_int_ge(policy_hit_json(&d.hits[d.n_hits - 1], counters,
		    sizeof(counters)), 0);
		ck_assert_str_eq(counters, c->want_counter);
	}
	store_free(st);
	policy_free(live);
	policy_free(rebuilt);
}
END_TEST

START_TEST(a_packed_event_counts_like_the_event_itself)
{
	struct policy *direct = make(HISTORY_RULES, NULL), *packed = make(HISTORY_RULES, NULL);
	struct policy_event pe;
	struct rules_decision d;

	for (size_t i = 0; i < N(history_lines); i++) {
		struct mx_event *ev = tst_event();

		ck_assert_int_eq(tst_parse_line(history_lines[i], ev), 1);
		ck_assert_int_eq(policy_observe(direct, ev, T(60)), 0);
		memset(&pe, 0x55, sizeof(pe));		/* every field must be written */
		policy_event_pack(&pe, ev);
		ck_assert_int_eq(policy_observe_packed(packed, &pe, T(60)), 0);
	}
	for (size_t i = 0; i < N(hcases); i++) {
		const char *a = decide(direct, hcases[i].request, T(60), &d, NULL);

		ck_assert_str_eq(a, hcases[i].want_action);
		ck_assert_str_eq(decide(packed, hcases[i].request, T(60), &d, NULL),
		    hcases[i].want_action);
	}
	policy_free(direct);
	policy_free(packed);
}
END_TEST

/*
 * Every kind policy_event_wanted() leaves out must be one the rules ignore:
 * a rule set using every history counter sees nothing of it.
 */
START_TEST(kinds_left_out_of_the_queue_are_ignored_by_the_rules)
{
	static const char text[] =
	    "rule h {\n\thistory auth_failures by client_address > 0 per 1h\n"
	    "\taction REJECT a\n}\n"
	    "rule p {\n\thistory postscreen_violations by client_address > 0 per 1h\n"
	    "\taction REJECT p\n}\n"
	    "rule g {\n\thistory pregreet by client_address > 0 per 1h\n\taction REJECT g\n}\n"
	    "rule d {\n\thistory dnsbl by client_address > 0 per 1h\n\taction REJECT d\n}\n"
	    "rule r {\n\thistory rejects by client_address > 0 per 1h\n\taction REJECT r\n}\n"
	    "rule l {\n\thistory rate_limits by client_address > 0 per 1h\n\taction REJECT l\n}\n"
	    "rule x {\n\tdistinct sasl_username in auth_failures by client_address > 0 "
	    "per 1h\n\taction REJECT x\n}\n";
	struct mx_config *cfg;
	struct mx_rules *rules;
	struct counters *c;
	struct mx_event *ev = tst_event();
	struct policy_parser *pp = policy_parser_new(0, 0);
	struct rules_decision d;
	char *err;

	cfg = load(text, &err);
	ck_assert_msg(cfg != NULL, "%s", err);
	free(err);
	for (int k = 1; k < MX_EVENT__MAX; k++) {
		if (policy_event_wanted((enum mx_event_kind)k))
			continue;
		ck_assert_int_eq(config_rules_new(cfg, NULL, &rules), 0);
		c = counters_new(0);
		ck_assert_int_eq(rules_bind(rules, c, NULL), 0);
		event_reset(ev);
		ev->kind = (enum mx_event_kind)k;
		ev->ts_usec = T(0);
		ev->client_ip = "203.0.113.7";
		ev->user = "bob";
		ev->daemon = "smtpd";
		ck_assert_int_eq(rules_observe_event(rules, ev, T(0)), 0);
		ck_assert_int_eq(rules_check(rules, request(pp, RCPT("203.0.113.7")), T(1), &d), 0);
		ck_assert_msg(d.rule == NULL, "%s is left out of the queue but counted by rule %s",
		    event_kind_name((enum mx_event_kind)k), d.rule);
		rules_free(rules);
		counters_free(c);
	}
	policy_parser_free(pp);
	config_free(cfg);
}
END_TEST

/* ----------------------------------------------------------------- storing */

START_TEST(decisions_are_stored_with_every_column_and_pruned_by_age)
{
	struct policy *p = make("policy {\n\tmode warn\n}\n" LIMITS, NULL);
	const struct policy_record *list[RECS_MAX];
	struct rules_decision d;
	struct store *st;
	sqlite3_stmt *s;
	int64_t deleted = 0;
	char path[4096];

	for (int i = 0; i < 3; i++)
		(void)decide(p, RCPT("203.0.113.7") "server_port=587\nsasl_username=alice\n"
		    "instance=1A.2B\npolicy_context=submission\n", T(i), &d, NULL);
	(void)decide(p, RCPT("203.0.113.7"), T(5), &d, NULL);
	ck_assert_uint_eq(n_recs, 2);
	snprintf(path, sizeof(path), "%s/decisions-%d.db", tst_tmpdir(), (int)getpid());
	ck_assert_int_eq(store_open(path, MX_STORE_CREATE, &st), 0);
	for (unsigned i = 0; i < n_recs; i++)
		list[i] = &recs[i];
	ck_assert_int_eq(history_store_decisions(st, list, n_recs), 0);
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st),
	    "SELECT ts, rule, action, dry_run, error, request, protocol_state, client_address,"
	    " sasl_username, sender, recipient, instance, server_port, policy_context,"
	    " json_extract(counters, '$[0].value') FROM decisions ORDER BY id", -1, &s, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_int_eq((int64_t)(sqlite3_column_double(s, 0) * 1e6 + 0.5), T(2));
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 1), "burst");
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 2), "450 4.7.1 Slow down");
	ck_assert_int_eq(sqlite3_column_int(s, 3), 1);
	ck_assert_int_eq(sqlite3_column_type(s, 4), SQLITE_NULL);
	ck_assert_int_eq(sqlite3_column_type(s, 5), SQLITE_NULL);	/* request= not sent */
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 6), "RCPT");
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 7), "203.0.113.7");
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 8), "alice");
	ck_assert_int_eq(sqlite3_column_type(s, 9), SQLITE_NULL);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 10), "a@example.org");
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 11), "1A.2B");
	ck_assert_int_eq(sqlite3_column_int(s, 12), 587);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 13), "submission");
	ck_assert_int_eq(sqlite3_column_int(s, 14), 3);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(s, 14), 4);
	ck_assert_int_eq(sqlite3_column_type(s, 12), SQLITE_NULL);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	/* retention: only the decision older than the limit goes */
	ck_assert_int_eq(history_prune_decisions(st, T(3), &deleted), 0);
	ck_assert_int_eq(deleted, 1);
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), "SELECT count(*) FROM decisions", -1, &s,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(s);
	store_free(st);
	policy_free(p);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, policy_block_settings_reach_the_structure);
	tcase_add_test(tc, without_a_listener_the_policy_service_is_off);
	tcase_add_loop_test(tc, bad_policy_configuration_gives_its_file_and_line, 0,
	    N(err_cases));
	tcase_add_test(tc, printed_policy_and_rules_read_back_the_same);
	suite_add_tcase(s, tc);
	tc = tcase_create("decide");
	tcase_add_test(tc, a_rule_decides_with_the_injected_clock_and_is_recorded);
	tcase_add_test(tc, a_dry_run_rule_answers_dunno_and_records_what_it_would_have_done);
	tcase_add_test(tc, global_mode_warn_answers_dunno_and_records_the_would_be_answer);
	tcase_add_loop_test(tc, an_internal_error_answers_the_fail_action_and_is_recorded, 0,
	    N(fail_cases));
	tcase_add_test(tc, reloaded_rules_keep_the_counts_of_unchanged_conditions);
	suite_add_tcase(s, tc);
	tc = tcase_create("history");
	tcase_add_loop_test(tc, counters_rebuilt_from_the_database_decide_like_live_ones, 0,
	    N(hcases));
	tcase_add_test(tc, a_packed_event_counts_like_the_event_itself);
	tcase_add_test(tc, kinds_left_out_of_the_queue_are_ignored_by_the_rules);
	tcase_add_test(tc, decisions_are_stored_with_every_column_and_pruned_by_age);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tst_run_suite(policy_suite());
}
