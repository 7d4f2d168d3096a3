/*
 * NAME
 *	rules - read `rule NAME { ... }` blocks into a rule set, print it back
 * SYNOPSIS
 *	#include "rules.h"
 *
 *	rules = rules_new();
 *	(for each top-level "rule" statement) rules_parse(d, st, rules);
 *	rules_bind(rules, counters, authfail);
 * DESCRIPTION
 *	The meaning of the statements inside a rule block (the syntax is
 *	config_tree's). Each statement of the block is one condition, the
 *	action or the mode; a problem is reported at the statement's line and
 *	reading goes on, so one run shows every mistake. Values are checked
 *	and normalised here (CIDRs masked, states upper-cased, windows in
 *	microseconds) so evaluation does no parsing. Counting conditions are
 *	reduced to specs: two rules counting the same thing share counters.
 *
 *	Single values (networks, windows, actions) are checked in
 *	rules_values.c; evaluation lives in rules_eval.c.
 * SEE ALSO
 *	rules.h (the language), rules_impl.h, rules_values.c, rules_eval.c,
 *	tests/check_rules.c
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_impl.h"

#define RULES_LIST_DEF(kw, m, field, dom) \
	{ kw, m, offsetof(struct policy_request, field), dom }

const struct rules_listdef rules_listdefs[RULES_LIST__MAX] = {
	[RULES_LIST_PROTOCOL_STATE] =
	    RULES_LIST_DEF("protocol_state", RULES_MATCH_CI, protocol_state, 0),
	[RULES_LIST_PROTOCOL_NAME] =
	    RULES_LIST_DEF("protocol_name", RULES_MATCH_CI, protocol_name, 0),
	[RULES_LIST_SERVER_PORT] = RULES_LIST_DEF("server_port", RULES_MATCH_PORT, server_port, 0),
	[RULES_LIST_SERVER_ADDRESS] =
	    RULES_LIST_DEF("server_address", RULES_MATCH_CIDR, server_address, 0),
	[RULES_LIST_POLICY_CONTEXT] =
	    RULES_LIST_DEF("policy_context", RULES_MATCH_EXACT, policy_context, 0),
	[RULES_LIST_CLIENT_ADDRESS] =
	    RULES_LIST_DEF("client_address", RULES_MATCH_CIDR, client_address, 0),
	[RULES_LIST_CLIENT_NAME] = RULES_LIST_DEF("client_name", RULES_MATCH_DOMAIN, client_name, 0),
	[RULES_LIST_HELO_NAME] = RULES_LIST_DEF("helo_name", RULES_MATCH_DOMAIN, helo_name, 0),
	[RULES_LIST_SASL_METHOD] = RULES_LIST_DEF("sasl_method", RULES_MATCH_CI, sasl_method, 0),
	[RULES_LIST_SASL_USERNAME] =
	    RULES_LIST_DEF("sasl_username", RULES_MATCH_CI, sasl_username, 0),
	[RULES_LIST_SENDER] = RULES_LIST_DEF("sender", RULES_MATCH_ADDRESS, sender, 0),
	[RULES_LIST_SENDER_DOMAIN] = RULES_LIST_DEF("sender_domain", RULES_MATCH_DOMAIN, sender, 1),
	[RULES_LIST_RECIPIENT] = RULES_LIST_DEF("recipient", RULES_MATCH_ADDRESS, recipient, 0),
	[RULES_LIST_RECIPIENT_DOMAIN] =
	    RULES_LIST_DEF("recipient_domain", RULES_MATCH_DOMAIN, recipient, 1),
};

const char *const rules_key_names[RULES_KEY__MAX] = {
	"client_address", "client_net", "sasl_username", "sender", "sender_domain",
	"recipient", "recipient_domain",
};
const char *const rules_metric_names[RULES_METRIC__MAX] = {
	"requests", "connections", "messages", "recipients", "bytes",
};
const char *const rules_history_names[RULES_HIST__MAX] = {
	"auth_failures", "postscreen_violations", "pregreet", "dnsbl", "rejects", "rate_limits",
};
static const char *const rules_op_names[] = { ">", ">=", "<", "<=" };
static const char *const rules_states[] = {
	"CONNECT", "EHLO", "HELO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE", "VRFY", "ETRN",
	"AUTH",		/* Dovecot's auth-policy requests (auth_policy.h), not Postfix */
};

#define RULES_N(a)	(sizeof(a) / sizeof((a)[0]))

/* rules_new - an empty rule set (answers DUNNO to everything) */
struct mx_rules *
rules_new(void)
{
	struct mx_rules *rules;

	if ((rules = calloc(1, sizeof(*rules))) == NULL)
		return NULL;
	if ((rules->fail_action = strdup("DUNNO")) == NULL) {
		free(rules);
		return NULL;
	}
	rules->v4_prefix = 24;
	rules->v6_prefix = 64;
	return rules;
}

/* rules_rule_clear - free what one rule owns */
static void
rules_rule_clear(struct rules_rule *r)
{
	for (size_t l = 0; l < RULES_LIST__MAX; l++)
		for (size_t neg = 0; neg < 2; neg++) {
			struct rules_vlist *v = &r->lists[l][neg];

			for (size_t i = 0; i < v->n; i++)
				free(v->s[i]);
			free(v->s);
			free(v->cidr);
			free(v->port);
		}
	for (size_t i = 0; i < r->n_conds; i++)
		free(r->conds[i].text);
	for (size_t neg = 0; neg < 2; neg++) {
		for (size_t i = 0; i < r->cs[neg].n; i++)
			free(r->cs[neg].s[i]);
		free(r->cs[neg].s);
	}
	free(r->cs_text);
	free(r->alert_type);
	free(r->name);
	free(r->action);
}

/* rules_free - free the rule set; returns NULL */
struct mx_rules *
rules_free(struct mx_rules *rules)
{
	if (rules == NULL)
		return NULL;
	for (size_t i = 0; i < rules->n_rules; i++)
		rules_rule_clear(&rules->rules[i]);
	for (size_t i = 0; i < rules->n_files; i++)
		free(rules->files[i]);
	free(rules->files);
	free(rules->rules);
	free(rules->specs);
	free(rules->fail_action);
	free(rules);
	return NULL;
}

/* rules_count - how many rules were read */
size_t
rules_count(const struct mx_rules *rules)
{
	return rules->n_rules;
}

/* rules_set_mode - enforce, or make every rule a dry run */
int
rules_set_mode(struct mx_rules *rules, enum rules_mode mode)
{
	if (mode != RULES_MODE_ENFORCE && mode != RULES_MODE_WARN)
		return -EINVAL;
	rules->mode = mode;
	return 0;
}

/* rules_set_net_prefix - prefix lengths of client_net keys */
int
rules_set_net_prefix(struct mx_rules *rules, unsigned v4_len, unsigned v6_len)
{
	if (rules->bound)
		return -EBUSY;
	if (v4_len < 1 || v4_len > 32 || v6_len < 1 || v6_len > 128)
		return -EINVAL;
	rules->v4_prefix = v4_len;
	rules->v6_prefix = v6_len;
	return 0;
}

/* rules_set_fail_action - the answer on internal errors (DUNNO = fail open) */
int
rules_set_fail_action(struct mx_rules *rules, const char *action)
{
	const char *why;
	char *a;
	int r;

	if ((r = rules_action_normalise(&action, 1, &a, &why)) < 0)
		return r;
	free(rules->fail_action);
	rules->fail_action = a;
	return 0;
}

/* rules_lookup - index of word in names[n], -1 if absent */
static int
rules_lookup(const char *const *names, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], word) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------- parsing */

struct rules_ctx {
	struct config_diag *d;
	struct mx_rules *rules;
	struct rules_rule *r;
	const char *name;
	int oom;
};

/* rules_err - "file:line: rule NAME: message" */
static void __attribute__((format(printf, 3, 4)))
rules_err(struct rules_ctx *cx, const struct config_stmt *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_tree_error(cx->d, st->file, st->line, "rule %s: %s", cx->name, msg);
}

/* rules_strdup_case - copy of s, upper- or lower-cased as asked */
static char *
rules_strdup_case(struct rules_ctx *cx, const char *s, int upper, int lower)
{
	char *c = strdup(s);

	if (c == NULL) {
		cx->oom = 1;
		return NULL;
	}
	for (char *p = c; *p != '\0'; p++)
		*p = (char)(upper ? toupper((unsigned char)*p) :
		    lower ? tolower((unsigned char)*p) : *p);
	return c;
}

/* rules_list_value - check one list value and append it */
static void
rules_list_value(struct rules_ctx *cx, const struct config_stmt *st, enum rules_list l,
    struct rules_vlist *v, const char *s)
{
	const struct rules_listdef *def = &rules_listdefs[l];
	struct rules_cidr c;
	uint64_t port;
	char **ns;
	int r;

	if (def->match == RULES_MATCH_CIDR && (r = rules_cidr_parse(s, &c)) < 0) {
		rules_err(cx, st, r == -EDOM ? "%s: \"%s\" has bits set after the prefix length" :
		    "%s: \"%s\" is not an address or network (192.0.2.0/24, 2001:db8::/32)",
		    def->keyword, s);
		return;
	}
	if (def->match == RULES_MATCH_PORT &&
	    (rules_number(s, &port) < 0 || port == 0 || port > 65535)) {
		rules_err(cx, st, "%s: \"%s\" is not a port number", def->keyword, s);
		return;
	}
	if (l == RULES_LIST_PROTOCOL_STATE) {
		size_t i;

		for (i = 0; i < RULES_N(rules_states); i++)
			if (strcasecmp(s, rules_states[i]) == 0)
				break;
		if (i == RULES_N(rules_states)) {
			rules_err(cx, st, "protocol_state: unknown state \"%s\" (CONNECT EHLO HELO "
			    "MAIL RCPT DATA END-OF-MESSAGE VRFY ETRN)", s);
			return;
		}
	}
	if (def->match == RULES_MATCH_DOMAIN && (strchr(s, '@') != NULL || *s == '\0')) {
		rules_err(cx, st, "%s: \"%s\" is not a domain", def->keyword, s);
		return;
	}
	if ((ns = reallocarray(v->s, v->n + 1, sizeof(*ns))) == NULL) {
		cx->oom = 1;
		return;
	}
	v->s = ns;
	if (def->match == RULES_MATCH_CIDR) {
		struct rules_cidr *nc = reallocarray(v->cidr, v->n + 1, sizeof(*nc));

		if (nc == NULL) {
			cx->oom = 1;
			return;
		}
		v->cidr = nc;
		v->cidr[v->n] = c;
	} else if (def->match == RULES_MATCH_PORT) {
		unsigned *np = reallocarray(v->port, v->n + 1, sizeof(*np));

		if (np == NULL) {
			cx->oom = 1;
			return;
		}
		v->port = np;
		v->port[v->n] = (unsigned)port;
	}
	v->s[v->n] = rules_strdup_case(cx, s, l == RULES_LIST_PROTOCOL_STATE ||
	    l == RULES_LIST_PROTOCOL_NAME, def->match == RULES_MATCH_DOMAIN ||
	    def->match == RULES_MATCH_CI || def->match == RULES_MATCH_ADDRESS);
	if (v->s[v->n] != NULL)
		v->n++;
}

/* rules_list - "KEYWORD value..." or "not KEYWORD value..." */
static void
rules_list(struct rules_ctx *cx, const struct config_stmt *st, int neg)
{
	const char *kw = neg ? (st->n_args > 0 ? st->args[0] : "") : st->keyword;
	size_t first = neg ? 1 : 0;
	int l;

	for (l = 0; l < RULES_LIST__MAX; l++)
		if (strcmp(kw, rules_listdefs[l].keyword) == 0)
			break;
	if (l == RULES_LIST__MAX) {
		rules_err(cx, st, "not: \"%s\" is not a list condition", kw);
		return;
	}
	if (st->n_args <= first) {
		rules_err(cx, st, "%s: expected one or more values", kw);
		return;
	}
	for (size_t i = first; i < st->n_args; i++)
		rules_list_value(cx, st, (enum rules_list)l, &cx->r->lists[l][neg], st->args[i]);
}

/* rules_cs_type_ok - a CrowdSec decision type: ban, captcha, throttle, ... */
static int
rules_cs_type_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

	return n > 0 && s[n] == '\0' && n < sizeof(((struct rules_cs_decision *)0)->type);
}

/* rules_crowdsec - "crowdsec TYPE..." or "not crowdsec TYPE..." */
static void
rules_crowdsec(struct rules_ctx *cx, const struct config_stmt *st, int neg)
{
	struct rules_vlist *v = &cx->r->cs[neg];
	size_t first = neg ? 1 : 0;
	char **ns;

	if (st->n_args <= first) {
		rules_err(cx, st, "crowdsec: expected decision types (ban, captcha, any, ...)");
		return;
	}
	for (size_t i = first; i < st->n_args; i++) {
		if (!rules_cs_type_ok(st->args[i])) {
			rules_err(cx, st, "crowdsec: \"%.64s\" is not a decision type (ban, "
			    "captcha, any, ...: letters, digits, - and _)", st->args[i]);
			continue;
		}
		if ((ns = reallocarray(v->s, v->n + 1, sizeof(*ns))) == NULL) {
			cx->oom = 1;
			return;
		}
		v->s = ns;
		if ((v->s[v->n] = rules_strdup_case(cx, st->args[i], 0, 1)) == NULL)
			return;
		v->n++;
	}
}

/* rules_cs_alert - "crowdsec-alert TYPE DURATION" */
static void
rules_cs_alert(struct rules_ctx *cx, const struct config_stmt *st)
{
	int64_t usec;

	if (cx->r->alert_type != NULL) {
		rules_err(cx, st, "crowdsec-alert: given twice");
		return;
	}
	if (st->n_args != 2 || !rules_cs_type_ok(st->args[0]) ||
	    strcasecmp(st->args[0], "any") == 0) {
		rules_err(cx, st, "crowdsec-alert: expected a decision type and a duration "
		    "(crowdsec-alert ban 4h)");
		return;
	}
	if (rules_window_parse(st->args[1], &usec) < 0 || usec < 1000000) {
		rules_err(cx, st, "crowdsec-alert: \"%.32s\" is not a duration from 1s to 30d",
		    st->args[1]);
		return;
	}
	cx->r->alert_usec = usec;
	cx->r->alert_type = rules_strdup_case(cx, st->args[0], 0, 1);
}

/* rules_cs_text - "crowdsec ban captcha", the report text of a rule's condition */
static int
rules_cs_text(struct rules_rule *r)
{
	const struct rules_vlist *v = &r->cs[0];
	size_t n = sizeof("crowdsec");
	char *t;

	if (v->n == 0)
		return 0;
	for (size_t i = 0; i < v->n; i++)
		n += strlen(v->s[i]) + 1;
	if ((t = malloc(n)) == NULL)
		return -ENOMEM;
	strcpy(t, "crowdsec");
	for (size_t i = 0; i < v->n; i++) {
		strcat(t, " ");
		strcat(t, v->s[i]);
	}
	r->cs_text = t;
	return 0;
}

/* rules_yesno - "sasl yes", "stress no" */
static void
rules_yesno(struct rules_ctx *cx, const struct config_stmt *st, int *ret)
{
	if (st->n_args == 1 && strcmp(st->args[0], "yes") == 0)
		*ret = 1;
	else if (st->n_args == 1 && strcmp(st->args[0], "no") == 0)
		*ret = 0;
	else
		rules_err(cx, st, "%s: expected yes or no", st->keyword);
}

/* rules_spec - the index of the spec counting this, added if new; -1 on ENOMEM */
static long
rules_spec(struct rules_ctx *cx, const struct rules_spec *want)
{
	struct mx_rules *rules = cx->rules;
	struct rules_spec *s;

	for (size_t i = 0; i < rules->n_specs; i++) {
		s = &rules->specs[i];
		if (s->source == want->source && s->what == want->what && s->key == want->key &&
		    s->window == want->window) {
			if (want->size > s->size)
				s->size = want->size;
			return (long)i;
		}
	}
	if ((s = reallocarray(rules->specs, rules->n_specs + 1, sizeof(*s))) == NULL) {
		cx->oom = 1;
		return -1;
	}
	rules->specs = s;
	rules->specs[rules->n_specs] = *want;
	return (long)rules->n_specs++;
}

/* rules_counting_what - METRIC / EVENT / FIELD of a counting condition; -1 reported */
static int
rules_counting_what(struct rules_ctx *cx, const struct config_stmt *st, enum rules_source src,
    const char *w)
{
	int what;

	switch (src) {
	case RULES_SRC_RATE:
		if ((what = rules_lookup(rules_metric_names, RULES_METRIC__MAX, w)) < 0)
			rules_err(cx, st, "rate: unknown metric \"%s\" (requests connections "
			    "messages recipients bytes)", w);
		return what;
	case RULES_SRC_HISTORY:
		if ((what = rules_lookup(rules_history_names, RULES_HIST__MAX, w)) < 0)
			rules_err(cx, st, "history: unknown event \"%s\" (auth_failures "
			    "postscreen_violations pregreet dnsbl rejects rate_limits)", w);
		return what;
	default:	/* the distinct sources */
		if ((what = rules_lookup(rules_key_names, RULES_KEY__MAX, w)) < 0)
			rules_err(cx, st, "distinct: unknown field \"%s\"", w);
		return what;
	}
}

/* rules_counting_check - combinations that cannot be counted */
static int
rules_counting_check(struct rules_ctx *cx, const struct config_stmt *st,
    const struct rules_spec *s, uint64_t limit)
{
	int per_rcpt = s->key == RULES_KEY_RECIPIENT || s->key == RULES_KEY_RECIPIENT_DOMAIN;
	int auth_key = s->key <= RULES_KEY_SASL_USERNAME;

	if (s->source == RULES_SRC_RATE && per_rcpt && s->what != RULES_METRIC_RECIPIENTS &&
	    s->what != RULES_METRIC_REQUESTS)
		rules_err(cx, st, "rate %s cannot be counted by %s: a message has many recipients; "
		    "count recipients instead", rules_metric_names[s->what], rules_key_names[s->key]);
	else if (s->source == RULES_SRC_DISTINCT_AUTH &&
	    (!auth_key || s->what > RULES_KEY_SASL_USERNAME))
		rules_err(cx, st, "distinct ... in auth_failures: failed logins only have "
		    "client_address, client_net and sasl_username");
	else if (s->source >= RULES_SRC_DISTINCT && s->what == (int)s->key)
		rules_err(cx, st, "distinct %s by %s is always 1", rules_key_names[s->what],
		    rules_key_names[s->key]);
	else if (s->source >= RULES_SRC_DISTINCT && limit >= COUNTERS_DISTINCT_MAX)
		rules_err(cx, st, "distinct: limit %llu too large (below %d)",
		    (unsigned long long)limit, COUNTERS_DISTINCT_MAX);
	else
		return 0;
	return -1;
}

/*
 * rules_counting - rate|history METRIC by KEY OP N per WINDOW,
 * distinct FIELD [in auth_failures] by KEY OP N per WINDOW
 */
static void
rules_counting(struct rules_ctx *cx, const struct config_stmt *st, enum rules_source src)
{
	struct rules_spec s = { .source = src, .cls = -1 };
	struct rules_cond *c;
	const char *const *a = (const char *const *)st->args;
	size_t n = st->n_args, k = 1;
	char win[32], text[256];
	uint64_t limit;
	long idx;
	int op, key;

	if (src == RULES_SRC_DISTINCT && n == 9 && strcmp(a[1], "in") == 0 &&
	    strcmp(a[2], "auth_failures") == 0) {
		s.source = RULES_SRC_DISTINCT_AUTH;
		k = 3;
	}
	if (n != k + 6 || strcmp(a[k], "by") != 0 || strcmp(a[k + 4], "per") != 0) {
		rules_err(cx, st, "%s: expected \"%s %s by KEY OP N per WINDOW\"", st->keyword,
		    st->keyword, src == RULES_SRC_RATE ? "METRIC" :
		    src == RULES_SRC_HISTORY ? "EVENT" : "FIELD [in auth_failures]");
		return;
	}
	if ((s.what = rules_counting_what(cx, st, src, a[0])) < 0)
		return;
	if ((op = rules_lookup(rules_op_names, RULES_N(rules_op_names), a[k + 2])) < 0) {
		rules_err(cx, st, "%s: unknown comparison \"%s\" (> >= < <=)", st->keyword, a[k + 2]);
		return;
	}
	if ((key = rules_lookup(rules_key_names, RULES_KEY__MAX, a[k + 1])) < 0) {
		rules_err(cx, st, "%s: unknown key \"%s\" (client_address client_net sasl_username "
		    "sender sender_domain recipient recipient_domain)", st->keyword, a[k + 1]);
		return;
	}
	s.key = (enum rules_key)key;
	if (rules_number(a[k + 3], &limit) < 0 || limit > UINT32_MAX) {
		rules_err(cx, st, "%s: \"%s\" is not a number", st->keyword, a[k + 3]);
		return;
	}
	if (rules_window_parse(a[k + 5], &s.window) < 0) {
		rules_err(cx, st, "%s: \"%s\" is not a window (30s 15m 1h 1d, at most 30d)",
		    st->keyword, a[k + 5]);
		return;
	}
	if (rules_counting_check(cx, st, &s, limit) < 0)
		return;
	if (cx->r->n_conds == RULES_COUNT_MAX) {
		rules_err(cx, st, "more than %d counting conditions", RULES_COUNT_MAX);
		return;
	}
	if (s.source >= RULES_SRC_DISTINCT)
		s.size = (unsigned)limit + 1;
	if ((idx = rules_spec(cx, &s)) < 0)
		return;
	rules_window_text(s.window, win, sizeof(win));
	if (s.source == RULES_SRC_DISTINCT_AUTH)
		snprintf(text, sizeof(text), "distinct %s in auth_failures by %s %s %llu per %s",
		    a[0], a[k + 1], a[k + 2], (unsigned long long)limit, win);
	else
		snprintf(text, sizeof(text), "%s %s by %s %s %llu per %s", st->keyword, a[0],
		    a[k + 1], a[k + 2], (unsigned long long)limit, win);
	c = &cx->r->conds[cx->r->n_conds];
	c->spec = (size_t)idx;
	c->op = (enum rules_op)op;
	c->limit = limit;
	if ((c->text = strdup(text)) == NULL)
		cx->oom = 1;
	else
		cx->r->n_conds++;
}

/* rules_action - "action WORD [TEXT...]" */
static void
rules_action(struct rules_ctx *cx, const struct config_stmt *st)
{
	const char *why;
	int r;

	if (cx->r->action != NULL) {
		rules_err(cx, st, "more than one action");
		return;
	}
	if (st->n_args == 0) {
		rules_err(cx, st, "action: expected an action (DUNNO, DEFER \"text\", ...)");
		return;
	}
	r = rules_action_normalise((const char *const *)st->args, st->n_args, &cx->r->action, &why);
	if (r == -ENOMEM)
		cx->oom = 1;
	else if (r < 0)
		rules_err(cx, st, "action: %s", why);
}

/* rules_statement - one statement of a rule block */
static void
rules_statement(struct rules_ctx *cx, const struct config_stmt *st)
{
	const char *kw = st->keyword;

	if (st->has_block) {
		rules_err(cx, st, "%s: unexpected block", kw);
		return;
	}
	if (strcmp(kw, "action") == 0)
		rules_action(cx, st);
	else if (strcmp(kw, "mode") == 0) {
		if (st->n_args == 1 && (strcmp(st->args[0], "warn") == 0 ||
		    strcmp(st->args[0], "enforce") == 0))
			cx->r->warn = strcmp(st->args[0], "warn") == 0;
		else
			rules_err(cx, st, "mode: expected warn or enforce");
	} else if (strcmp(kw, "sasl") == 0)
		rules_yesno(cx, st, &cx->r->sasl);
	else if (strcmp(kw, "stress") == 0)
		rules_yesno(cx, st, &cx->r->stress);
	else if (strcmp(kw, "rate") == 0)
		rules_counting(cx, st, RULES_SRC_RATE);
	else if (strcmp(kw, "history") == 0)
		rules_counting(cx, st, RULES_SRC_HISTORY);
	else if (strcmp(kw, "distinct") == 0)
		rules_counting(cx, st, RULES_SRC_DISTINCT);
	else if (strcmp(kw, "crowdsec") == 0)
		rules_crowdsec(cx, st, 0);
	else if (strcmp(kw, "not") == 0 && st->n_args > 0 && strcmp(st->args[0], "crowdsec") == 0)
		rules_crowdsec(cx, st, 1);
	else if (strcmp(kw, "crowdsec-alert") == 0)
		rules_cs_alert(cx, st);
	else if (strcmp(kw, "not") == 0)
		rules_list(cx, st, 1);
	else {
		for (size_t l = 0; l < RULES_LIST__MAX; l++)
			if (strcmp(kw, rules_listdefs[l].keyword) == 0) {
				rules_list(cx, st, 0);
				return;
			}
		rules_err(cx, st, "unknown statement \"%s\"", kw);
	}
}

/* rules_file - a copy of a file name, kept as long as the rules */
static const char *
rules_file(struct mx_rules *rules, const char *file)
{
	char **nf;

	for (size_t i = 0; i < rules->n_files; i++)
		if (strcmp(rules->files[i], file) == 0)
			return rules->files[i];
	if ((nf = reallocarray(rules->files, rules->n_files + 1, sizeof(*nf))) == NULL)
		return NULL;
	rules->files = nf;
	if ((nf[rules->n_files] = strdup(file)) == NULL)
		return NULL;
	return nf[rules->n_files++];
}

/* rules_name_ok - a name fit for logs and the database */
static int
rules_name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");

	return n > 0 && s[n] == '\0' && n <= RULES_NAME_MAX;
}

/* rules_parse - read one `rule NAME { ... }` statement */
int
rules_parse(struct config_diag *d, const struct config_stmt *rule_stmt, struct mx_rules *rules)
{
	struct rules_rule r = { .sasl = -1, .stress = -1 };
	struct rules_ctx cx = { .d = d, .rules = rules, .r = &r, .name = "?" };
	unsigned errors = d->n_errors;
	struct rules_rule *nr;

	if (rule_stmt->n_args != 1 || !rules_name_ok(rule_stmt->args[0])) {
		config_tree_error(d, rule_stmt->file, rule_stmt->line, "rule: expected one name "
		    "(letters, digits, - _ ., at most %d) before {", RULES_NAME_MAX);
		return 0;
	}
	cx.name = rule_stmt->args[0];
	for (size_t i = 0; i < rules->n_rules; i++)
		if (strcmp(rules->rules[i].name, cx.name) == 0)
			rules_err(&cx, rule_stmt, "a rule of that name exists (%s:%u)",
			    rules->rules[i].file, rules->rules[i].line);
	if (!rule_stmt->has_block)
		rules_err(&cx, rule_stmt, "expected { conditions and an action }");
	for (const struct config_stmt *st = rule_stmt->block; st != NULL && !cx.oom; st = st->next)
		rules_statement(&cx, st);
	if (rule_stmt->has_block && r.action == NULL && !cx.oom)
		rules_err(&cx, rule_stmt, "no action");
	r.name = strdup(cx.name);
	r.file = rules_file(rules, rule_stmt->file);
	r.line = rule_stmt->line;
	if (cx.oom || r.name == NULL || r.file == NULL || rules_cs_text(&r) < 0 ||
	    (nr = reallocarray(rules->rules, rules->n_rules + 1, sizeof(*nr))) == NULL) {
		rules_rule_clear(&r);
		return -ENOMEM;
	}
	rules->rules = nr;
	if (d->n_errors != errors) {
		rules_rule_clear(&r);
		return 0;
	}
	rules->rules[rules->n_rules++] = r;
	return 0;
}

/* ------------------------------------------------------------- printing */

/* rules_print_quoted - a config string: "..." with \" and \\ */
static void
rules_print_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* rules_print - the rules in normalised form, readable back by rules_parse() */
void
rules_print(const struct mx_rules *rules, FILE *f)
{
	for (size_t i = 0; i < rules->n_rules; i++) {
		const struct rules_rule *r = &rules->rules[i];

		fprintf(f, "rule %s {\n", r->name);
		for (size_t l = 0; l < RULES_LIST__MAX; l++)
			for (int neg = 0; neg < 2; neg++) {
				const struct rules_vlist *v = &r->lists[l][neg];

				if (v->n == 0)
					continue;
				fprintf(f, "\t%s%s", neg ? "not " : "", rules_listdefs[l].keyword);
				for (size_t k = 0; k < v->n; k++) {
					fputc(' ', f);
					rules_print_quoted(f, v->s[k]);
				}
				fputc('\n', f);
			}
		if (r->sasl >= 0)
			fprintf(f, "\tsasl %s\n", r->sasl ? "yes" : "no");
		if (r->stress >= 0)
			fprintf(f, "\tstress %s\n", r->stress ? "yes" : "no");
		for (int neg = 0; neg < 2; neg++) {
			if (r->cs[neg].n == 0)
				continue;
			fprintf(f, "\t%scrowdsec", neg ? "not " : "");
			for (size_t k = 0; k < r->cs[neg].n; k++)
				fprintf(f, " %s", r->cs[neg].s[k]);
			fputc('\n', f);
		}
		for (size_t k = 0; k < r->n_conds; k++)
			fprintf(f, "\t%s\n", r->conds[k].text);
		fputs("\taction ", f);
		rules_print_quoted(f, r->action);
		if (r->alert_type != NULL) {
			char w[32];

			rules_window_text(r->alert_usec, w, sizeof(w));
			fprintf(f, "\n\tcrowdsec-alert %s %s", r->alert_type, w);
		}
		fprintf(f, "\n%s}\n", r->warn ? "\tmode warn\n" : "");
	}
}
