/*
 * NAME
 *	rules_eval - count requests and log events, decide first match wins
 * SYNOPSIS
 *	#include "rules.h"
 *
 *	rules_bind(rules, counters, authfail);
 *	rules_check(rules, req, now, &decision);	-> decision.action
 *	rules_observe_event(rules, ev, now);
 * DESCRIPTION
 *	rules_bind() turns every spec into a counters class whose name says
 *	what it counts ("rate:messages:client_address:60s"), so a reloaded
 *	rule set bound to the same counters finds its counts again.
 *
 *	A request is first reduced to its keys (lower-cased client address,
 *	network, user, sender, domains; only those some rule uses), then
 *	counted in every live spec, then the rules are tried in order. A
 *	spec's value is computed at most once per request (the add returns
 *	it, or a read fetches it when the request added nothing) and shared
 *	by every condition that uses it.
 *
 *	Messages are recognised by `instance`: the counters' instance table
 *	(instances.h) maps each open transaction's instance to 1 + the RCPT
 *	requests seen for it, which gives both "first request of this
 *	message" and the recipients that END-OF-MESSAGE may still add.
 * SEE ALSO
 *	rules.h (the contract), rules.c (reading), counters.h, authfail.h
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crowdsec_set.h"
#include "rules_impl.h"

/* Longest key or value taken from a request (lower-cased copy); longer ones are cut. */
#define RULES_VALUE_MAX		1024
/*
 * The keys of one request or event; key[k] NULL when absent or unused. A
 * request's instance hash is made with the specs' refs (rules_refs()).
 */
struct rules_subject {
	const char *key[RULES_KEY__MAX];
	char buf[RULES_KEY__MAX][RULES_VALUE_MAX];
	uint64_t inst;
};

/* Addresses of the request, parsed once for CIDR lists. */
struct rules_addrs {
	int state[RULES_LIST__MAX];	/* 0 not parsed, 1 parsed, -1 not an address */
	int family[RULES_LIST__MAX];
	unsigned char a[RULES_LIST__MAX][16];
};

/* rules_spec_name - the counters class name of a spec */
static void
rules_spec_name(const struct mx_rules *rules, const struct rules_spec *s, char *buf, size_t size)
{
	static const char *const src[] = { "rate", "history", "distinct", "distinct_auth" };
	const char *what = s->source == RULES_SRC_RATE ? rules_metric_names[s->what] :
	    s->source == RULES_SRC_HISTORY ? rules_history_names[s->what] : rules_key_names[s->what];
	char net[32] = "";

	if (s->key == RULES_KEY_CLIENT_NET || (s->source >= RULES_SRC_DISTINCT &&
	    s->what == RULES_KEY_CLIENT_NET))
		snprintf(net, sizeof(net), "/%u/%u", rules->v4_prefix, rules->v6_prefix);
	snprintf(buf, size, "%s:%s:%s%s:%llds:n%u", src[s->source], what, rules_key_names[s->key],
	    net, (long long)(s->window / 1000000), s->size);
}

/* rules_bind - register the counters the rules need */
int
rules_bind(struct mx_rules *rules, struct counters *c, struct authfail *af)
{
	char name[COUNTERS_NAME_MAX];
	int cls;

	rules->key_mask = 0;
	rules->need_instance = 0;
	for (size_t i = 0; i < rules->n_specs; i++) {
		struct rules_spec *s = &rules->specs[i];
		int distinct = s->source >= RULES_SRC_DISTINCT;

		rules_spec_name(rules, s, name, sizeof(name));
		cls = counters_class(c, name, distinct ? COUNTERS_DISTINCT : COUNTERS_SUM, s->window,
		    distinct ? s->size : 0);
		if (cls < 0)
			return cls;
		s->cls = cls;
		rules->key_mask |= 1u << s->key;
		if (distinct)
			rules->key_mask |= 1u << s->what;
		if (s->source == RULES_SRC_RATE && (s->what == RULES_METRIC_MESSAGES ||
		    s->what == RULES_METRIC_RECIPIENTS))
			rules->need_instance = 1;
	}
	rules->counters = c;
	rules->authfail = af;
	rules->bound = 1;
	return 0;
}

/* ----------------------------------------------------------------- keys */

/* rules_lower - a lower-cased copy of s in buf (cut at RULES_VALUE_MAX - 1) */
static const char *
rules_lower(char *buf, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < RULES_VALUE_MAX - 1; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 'a' - 'A') : s[i];
	buf[i] = '\0';
	return buf;
}

/* rules_domain - the domain part of an address, NULL if none */
static const char *
rules_domain(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* rules_subject_fill - the keys some rule uses, from the four things requests and events have */
static void
rules_subject_fill(const struct mx_rules *rules, struct rules_subject *sj, const char *addr,
    const char *user, const char *sender, const char *rcpt)
{
	const char *src[RULES_KEY__MAX] = {
		[RULES_KEY_CLIENT_ADDRESS] = addr, [RULES_KEY_CLIENT_NET] = addr,
		[RULES_KEY_SASL_USERNAME] = user, [RULES_KEY_SENDER] = sender,
		[RULES_KEY_SENDER_DOMAIN] = rules_domain(sender), [RULES_KEY_RECIPIENT] = rcpt,
		[RULES_KEY_RECIPIENT_DOMAIN] = rules_domain(rcpt),
	};

	for (int k = 0; k < RULES_KEY__MAX; k++) {
		sj->key[k] = NULL;
		if (!(rules->key_mask & (1u << k)) || src[k] == NULL || *src[k] == '\0')
			continue;
		if (k == RULES_KEY_CLIENT_NET) {
			if (counters_net_key(addr, rules->v4_prefix, rules->v6_prefix, sj->buf[k],
			    RULES_VALUE_MAX) > 0)
				sj->key[k] = sj->buf[k];
		} else {
			sj->key[k] = rules_lower(sj->buf[k], src[k]);
		}
	}
}

/* -------------------------------------------------------------- counting */

/*
 * rules_caseeq - ASCII case-insensitive equality (what strcasecmp() does in the C
 * locale the daemon runs in), inline: the values compared are short and each
 * request compares a dozen
 */
static int
rules_caseeq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
		if (x == '\0')
			return 1;
	}
}

/* rules_state_is - protocol_state comparison (Postfix sends upper case) */
static int
rules_state_is(const struct policy_request *req, const char *state)
{
	return rules_caseeq(req->protocol_state, state);
}

/* rules_amounts - what this request adds to each metric */
static int
rules_amounts(struct mx_rules *rules, const struct policy_request *req,
    const struct rules_subject *sj, int64_t now, uint64_t amount[RULES_METRIC__MAX])
{
	int rcpt = rules_state_is(req, "RCPT"), eom = rules_state_is(req, "END-OF-MESSAGE");
	uint64_t seen, rcpts_before;
	int r;

	amount[RULES_METRIC_REQUESTS] = 1;
	amount[RULES_METRIC_CONNECTIONS] = rules_state_is(req, "CONNECT");
	amount[RULES_METRIC_BYTES] = eom ? req->size_n : 0;
	amount[RULES_METRIC_MESSAGES] = amount[RULES_METRIC_RECIPIENTS] = 0;
	if (!rules->need_instance)
		return 0;
	amount[RULES_METRIC_RECIPIENTS] = rcpt;
	if (*req->instance == '\0') {
		if (eom)
			amount[RULES_METRIC_RECIPIENTS] = req->recipient_count_n;
		return 0;
	}
	/* after a transaction, HELO/EHLO/VRFY requests still carry its instance */
	if (!rcpt && !eom && !rules_state_is(req, "MAIL") && !rules_state_is(req, "DATA"))
		return 0;
	/* the instance's count becomes 1 at its first request, + 1 per RCPT */
	r = counters_instance_add(rules->counters, sj->inst, (uint64_t)rcpt, 1, now, &seen);
	if (r < 0)
		return r;
	amount[RULES_METRIC_MESSAGES] = seen == 0;
	rcpts_before = seen > 0 ? seen - 1 : 0;
	if (eom && req->recipient_count_n > rcpts_before)
		amount[RULES_METRIC_RECIPIENTS] = req->recipient_count_n - rcpts_before;
	return 0;
}

/* rules_count_request - add the request to every live counter */
static int
rules_count_request(struct mx_rules *rules, const struct policy_request *req,
    const struct rules_subject *sj, int64_t now)
{
	uint64_t amount[RULES_METRIC__MAX];
	int r;

	if ((r = rules_amounts(rules, req, sj, now, amount)) < 0)
		return r;
	for (size_t i = 0; i < rules->n_specs; i++) {
		struct rules_spec *s = &rules->specs[i];
		const char *key = sj->key[s->key];
		unsigned count;

		r = 0;
		s->have = 0;
		if (key == NULL)
			continue;
		if (s->source == RULES_SRC_RATE && amount[s->what] > 0) {
			r = counters_ref_add(rules->counters, &s->ref, amount[s->what], now,
			    &s->value);
			s->have = 1;
		} else if (s->source == RULES_SRC_DISTINCT && sj->key[s->what] != NULL) {
			r = counters_ref_add_distinct(rules->counters, &s->ref, sj->key[s->what],
			    now, &count);
			s->value = count;
			s->have = 1;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* rules_spec_value - the counter of a spec for this request's key; 0 when it has no key */
static int
rules_spec_value(struct mx_rules *rules, struct rules_spec *s, const struct rules_subject *sj,
    int64_t now, uint64_t *ret)
{
	if (sj->key[s->key] == NULL)
		return 0;
	if (!s->have) {
		if (s->source == RULES_SRC_RATE || s->source == RULES_SRC_HISTORY)
			s->value = counters_ref_get(rules->counters, &s->ref, now);
		else
			s->value = counters_ref_distinct(rules->counters, &s->ref, now);
		s->have = 1;
	}
	*ret = s->value;
	return 1;
}

/* ------------------------------------------------------------- matching */

/* rules_addr - the parsed form of a request address attribute, 0 if not an address */
static int
rules_addr(struct rules_addrs *ad, enum rules_list l, const char *s, int *family,
    const unsigned char **a)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (ad->state[l] == 0) {
		ad->state[l] = -1;
		if (inet_pton(AF_INET, s, ad->a[l]) == 1) {
			ad->family[l] = AF_INET;
			ad->state[l] = 1;
		} else if (inet_pton(AF_INET6, s, ad->a[l]) == 1) {
			ad->family[l] = AF_INET6;
			ad->state[l] = 1;
			if (memcmp(ad->a[l], mapped, sizeof(mapped)) == 0) {
				memmove(ad->a[l], ad->a[l] + 12, 4);
				ad->family[l] = AF_INET;
			}
		}
	}
	*family = ad->family[l];
	*a = ad->a[l];
	return ad->state[l] == 1;
}

/* rules_domain_match - d equal to pattern, or a subdomain of ".pattern" */
static int
rules_domain_match(const char *d, const char *pattern)
{
	size_t dl = strlen(d), pl = strlen(pattern);

	if (pattern[0] != '.')
		return rules_caseeq(d, pattern);
	return dl > pl && rules_caseeq(d + dl - pl, pattern);
}

/* rules_list_has - is the request's attribute one of the list's values? */
static int
rules_list_has(enum rules_list l, const struct rules_vlist *v, const struct policy_request *req,
    struct rules_addrs *ad)
{
	const struct rules_listdef *def = &rules_listdefs[l];
	const char *s = *(const char *const *)((const char *)req + def->offset);
	const unsigned char *a;
	int family;

	if (def->domain_of && (s = rules_domain(s)) == NULL)
		return 0;
	if (def->match == RULES_MATCH_CIDR && !rules_addr(ad, l, s, &family, &a))
		return 0;
	for (size_t i = 0; i < v->n; i++) {
		switch (def->match) {
		case RULES_MATCH_CI:
			if (rules_caseeq(s, v->s[i]))
				return 1;
			break;
		case RULES_MATCH_EXACT:
			if (strcmp(s, v->s[i]) == 0)
				return 1;
			break;
		case RULES_MATCH_ADDRESS:
			if (*s == '\0' ? strcmp(v->s[i], "<>") == 0 : rules_caseeq(s, v->s[i]))
				return 1;
			break;
		case RULES_MATCH_DOMAIN:
			if (rules_domain_match(s, v->s[i]))
				return 1;
			break;
		case RULES_MATCH_CIDR:
			if (rules_cidr_match(&v->cidr[i], family, a))
				return 1;
			break;
		case RULES_MATCH_PORT:
			if (req->server_port_n == v->port[i])
				return 1;
			break;
		}
	}
	return 0;
}

/* rules_compare - value OP limit */
static int
rules_compare(uint64_t value, enum rules_op op, uint64_t limit)
{
	switch (op) {
	case RULES_OP_GT:
		return value > limit;
	case RULES_OP_GE:
		return value >= limit;
	case RULES_OP_LT:
		return value < limit;
	case RULES_OP_LE:
		return value <= limit;
	}
	return 0;
}

/* ------------------------------------------------------------- crowdsec */

/* rules_set_crowdsec - who answers `crowdsec` conditions (NULL: nobody) */
void
rules_set_crowdsec(struct mx_rules *rules, rules_cs_lookup_fn lookup, void *ud)
{
	rules->cs_lookup = lookup;
	rules->cs_ud = ud;
}

/* rules_use_crowdsec - 1: a rule asks CrowdSec, 2: a rule pushes alerts, 3: both */
int
rules_use_crowdsec(const struct mx_rules *rules)
{
	int use = 0;

	for (size_t i = 0; i < rules->n_rules; i++) {
		const struct rules_rule *r = &rules->rules[i];

		if (r->cs[0].n > 0 || r->cs[1].n > 0)
			use |= 1;
		if (r->alert_type != NULL)
			use |= 2;
	}
	return use;
}

/* rules_cs_get - the decisions covering the client, looked up once per request */
static const struct rules_cs_match *
rules_cs_get(struct mx_rules *rules, const struct policy_request *req, struct rules_addrs *ad,
    int64_t now)
{
	const unsigned char *a;
	int family;

	if (rules->cs_have)
		return &rules->cs;
	rules->cs_have = 1;
	rules->cs.n = 0;
	if (rules->cs_lookup == NULL ||
	    !rules_addr(ad, RULES_LIST_CLIENT_ADDRESS, req->client_address, &family, &a) ||
	    rules->cs_lookup(rules->cs_ud, family, a, now, &rules->cs) < 0)
		rules->cs.n = 0;
	return &rules->cs;
}

/* rules_cs_find - the strongest decision whose type is in v ("any": every type); -1 if none */
static int
rules_cs_find(const struct rules_cs_match *m, const struct rules_vlist *v, unsigned *ret_n)
{
	size_t kept = m->n < RULES_CS_MAX ? m->n : RULES_CS_MAX;
	int first = -1;

	*ret_n = 0;
	for (size_t i = 0; i < kept; i++)
		for (size_t k = 0; k < v->n; k++)
			if (strcmp(v->s[k], "any") == 0 || strcmp(v->s[k], m->d[i].type) == 0) {
				if (first < 0)
					first = (int)i;
				(*ret_n)++;
				break;
			}
	return first;
}

/*
 * rules_cs_holds - do r's crowdsec conditions hold? A positive one that
 * does is reported as a value of hit, its decision in hit->crowdsec.
 */
static int
rules_cs_holds(struct mx_rules *rules, const struct rules_rule *r,
    const struct policy_request *req, struct rules_addrs *ad, int64_t now,
    struct rules_hit *hit)
{
	const struct rules_cs_match *m;
	struct rules_value *v;
	unsigned n;
	int i;

	hit->crowdsec[0] = '\0';
	if (r->cs[0].n == 0 && r->cs[1].n == 0)
		return 1;
	m = rules_cs_get(rules, req, ad, now);
	if (r->cs[1].n > 0 && rules_cs_find(m, &r->cs[1], &n) >= 0)
		return 0;
	if (r->cs[0].n == 0)
		return 1;
	if ((i = rules_cs_find(m, &r->cs[0], &n)) < 0)
		return 0;
	crowdsec_set_describe(m->d[i].type, m->d[i].scenario, m->d[i].origin,
	    m->d[i].expires_usec - now, hit->crowdsec, sizeof(hit->crowdsec));
	v = &hit->values[hit->n_values++];
	v->condition = r->cs_text;
	v->value = n;
	v->limit = 1;
	v->crowdsec = 1;
	snprintf(v->key, sizeof(v->key), "%s", req->client_address);
	return 1;
}

/* rules_match - do all conditions of r hold? fills hit's values when they do */
static int
rules_match(struct mx_rules *rules, const struct rules_rule *r, const struct policy_request *req,
    const struct rules_subject *sj, struct rules_addrs *ad, int64_t now, struct rules_hit *hit)
{
	if (r->sasl >= 0 && (*req->sasl_username != '\0') != r->sasl)
		return 0;
	if (r->stress >= 0 && rules_caseeq(req->stress, "yes") != r->stress)
		return 0;
	for (int l = 0; l < RULES_LIST__MAX; l++) {
		if (r->lists[l][0].n > 0 && !rules_list_has(l, &r->lists[l][0], req, ad))
			return 0;
		if (r->lists[l][1].n > 0 && rules_list_has(l, &r->lists[l][1], req, ad))
			return 0;
	}
	hit->n_values = 0;
	if (!rules_cs_holds(rules, r, req, ad, now, hit))
		return 0;
	for (size_t i = 0; i < r->n_conds; i++) {
		const struct rules_cond *c = &r->conds[i];
		struct rules_spec *s = &rules->specs[c->spec];
		struct rules_value *v = &hit->values[hit->n_values++];

		if (!rules_spec_value(rules, s, sj, now, &v->value) ||
		    !rules_compare(v->value, c->op, c->limit))
			return 0;
		v->crowdsec = 0;
		v->condition = c->text;
		v->limit = c->limit;
		snprintf(v->key, sizeof(v->key), "%s", sj->key[s->key]);
	}
	hit->rule = r->name;
	hit->action = r->action;
	hit->alert_type = r->alert_type;
	hit->alert_usec = r->alert_usec;
	return 1;
}

/* rules_fail - the fail action, for an internal error r */
static int
rules_fail(const struct mx_rules *rules, struct rules_decision *ret, int r)
{
	ret->action = rules->fail_action;
	ret->rule = NULL;
	ret->failed = 1;
	return r;
}

/*
 * rules_refs - the counters of a request are far apart in memory and each is
 * a chain of loads (table slot, node): hash every key once and start all the
 * slots' loads, then all the nodes', so that the request waits for about one
 * round trip to memory instead of one per counter.
 */
static void
rules_refs(struct mx_rules *rules, const struct policy_request *req, struct rules_subject *sj)
{
	if (rules->need_instance && *req->instance != '\0')
		sj->inst = counters_instance_hash(rules->counters, req->instance);
	for (size_t i = 0; i < rules->n_specs; i++) {
		struct rules_spec *s = &rules->specs[i];

		if (sj->key[s->key] != NULL)
			counters_ref(rules->counters, (unsigned)s->cls, sj->key[s->key], &s->ref);
	}
	for (size_t i = 0; i < rules->n_specs; i++)
		if (sj->key[rules->specs[i].key] != NULL)
			counters_ref_prefetch(rules->counters, &rules->specs[i].ref);
}

/* rules_check - count the request, then the first matching rule decides */
int
rules_check(struct mx_rules *rules, const struct policy_request *req, int64_t now_usec,
    struct rules_decision *ret)
{
	struct rules_subject sj;
	struct rules_addrs ad;
	struct rules_hit scratch;
	int r;

	ret->action = "DUNNO";
	ret->rule = NULL;
	ret->failed = 0;
	ret->n_hits = ret->n_hits_lost = 0;
	if (!rules->bound)
		return rules_fail(rules, ret, -EINVAL);
	memset(ad.state, 0, sizeof(ad.state));
	rules->cs_have = 0;
	rules_subject_fill(rules, &sj, req->client_address, req->sasl_username, req->sender,
	    req->recipient);
	rules_refs(rules, req, &sj);
	if ((r = rules_count_request(rules, req, &sj, now_usec)) < 0)
		return rules_fail(rules, ret, r);
	for (size_t i = 0; i < rules->n_rules; i++) {
		const struct rules_rule *rule = &rules->rules[i];
		int dry = rule->warn || rules->mode == RULES_MODE_WARN;
		/* the last slot is kept for the deciding hit */
		int room = rule->warn ? ret->n_hits + 1 < RULES_HITS_MAX : 1;
		struct rules_hit *hit = room ? &ret->hits[ret->n_hits] : &scratch;

		if (!rules_match(rules, rule, req, &sj, &ad, now_usec, hit))
			continue;
		hit->dry_run = dry;
		if (room)
			ret->n_hits++;
		else
			ret->n_hits_lost++;
		if (rule->warn)
			continue;
		if (!dry) {
			ret->action = rule->action;
			ret->rule = rule->name;
		}
		break;
	}
	return 0;
}

/* ---------------------------------------------------------------- history */

/* rules_history_mask - the history events an event is, as bits of enum rules_history */
static unsigned
rules_history_mask(const struct mx_event *ev)
{
	switch (ev->kind) {
	case MX_EVENT_AUTH_FAILURE:
	case MX_EVENT_AUTH_LOOKUP_FAILURE:
	case MX_EVENT_AUTH_SUCCESS:		/* closes Dovecot sessions in authfail */
		return 1u << RULES_HIST_AUTH_FAILURES;
	case MX_EVENT_POSTSCREEN_PREGREET:
		return 1u << RULES_HIST_POSTSCREEN_VIOLATIONS | 1u << RULES_HIST_PREGREET;
	case MX_EVENT_POSTSCREEN_PIPELINING:
	case MX_EVENT_POSTSCREEN_BARE_NEWLINE:
	case MX_EVENT_POSTSCREEN_NON_SMTP_COMMAND:
	case MX_EVENT_POSTSCREEN_COMMAND_LIMIT:
	case MX_EVENT_POSTSCREEN_DATA_WITHOUT_RCPT:
		return 1u << RULES_HIST_POSTSCREEN_VIOLATIONS;
	case MX_EVENT_POSTSCREEN_DNSBL:
		return 1u << RULES_HIST_DNSBL;
	case MX_EVENT_REJECT:
		/* postscreen's own NOQUEUE lines are its tests, counted above */
		if (ev->daemon != NULL && strcmp(ev->daemon, "postscreen") == 0)
			return 0;
		return 1u << RULES_HIST_REJECTS;
	case MX_EVENT_RATE_LIMIT:
		return 1u << RULES_HIST_RATE_LIMITS;
	default:
		return 0;
	}
}

/* rules_observe_event - count a log event in the history counters */
int
rules_observe_event(struct mx_rules *rules, const struct mx_event *ev, int64_t now_usec)
{
	unsigned mask = rules_history_mask(ev);
	int64_t t = ev->ts_usec == MX_TS_UNKNOWN || ev->ts_usec > now_usec ? now_usec : ev->ts_usec;
	struct rules_subject sj;
	int n = 1, r = 0;

	if (!rules->bound)
		return -EINVAL;
	if (mask & (1u << RULES_HIST_AUTH_FAILURES)) {
		if (rules->authfail != NULL)
			n = authfail_observe(rules->authfail, ev, t);
		else
			n = ev->kind == MX_EVENT_AUTH_SUCCESS ? 0 :
			    ev->attempts > 0 ? ev->attempts : 1;
	}
	if (mask == 0 || n <= 0)
		return 0;
	rules_subject_fill(rules, &sj, ev->client_ip, ev->user, ev->sender, ev->recipient);
	for (size_t i = 0; i < rules->n_specs && r >= 0; i++) {
		const struct rules_spec *s = &rules->specs[i];
		const char *key = sj.key[s->key];

		if (key == NULL)
			continue;
		if (s->source == RULES_SRC_HISTORY && (mask & (1u << s->what)))
			r = counters_add(rules->counters, (unsigned)s->cls, key, (uint64_t)n, t, NULL);
		else if (s->source == RULES_SRC_DISTINCT_AUTH &&
		    (mask & (1u << RULES_HIST_AUTH_FAILURES)) && sj.key[s->what] != NULL)
			r = counters_add_distinct(rules->counters, (unsigned)s->cls, key,
			    sj.key[s->what], t, NULL);
	}
	return r < 0 ? r : 0;
}
