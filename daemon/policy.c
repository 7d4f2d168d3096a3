/*
 * NAME
 *	policy - counters, auth-failure correlation and rules behind one decide call
 * SYNOPSIS
 *	#include "policy.h"
 * DESCRIPTION
 *	See policy.h. The glue between the pure modules (counters.c,
 *	authfail.c, rules*.c) and their users: it builds them from the
 *	configuration, turns each decision worth keeping into a self-contained
 *	struct policy_record (strings copied, counters as JSON) for the
 *	recorder, and replays the stored history at start-up. Nothing here
 *	logs or touches a socket; the caller decides what to do with errors
 *	and records.
 *
 *	Which event kinds reach the history counters mirrors rules_eval.c's
 *	rules_history_mask() (auth results, postscreen verdicts, rejects,
 *	rate limits); policy_event_wanted() says so to the callers that filter
 *	before copying an event across a thread. tests/check_policy.c checks
 *	that every kind it leaves out is one the rules ignore.
 * SEE ALSO
 *	policy.h, rules.h, history.h, run_policy.c, cmd_policy_test.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authfail.h"
#include "config.h"
#include "counters.h"
#include "history.h"
#include "policy.h"
#include "rules.h"

struct policy {
	struct counters *counters;
	struct authfail *authfail;
	struct mx_rules *rules;
	int64_t history_window;		/* usec; 0 = no rebuild */
	policy_record_fn record;
	void *record_ud;
	rules_cs_lookup_fn cs_lookup;	/* who answers crowdsec conditions */
	void *cs_ud;
	struct policy_stats stats;
	struct mx_event *scratch;	/* an unpacked struct policy_event */
	struct policy_record rec;	/* handed to the recorder */
};

/* ------------------------------------------------------------- building */

int
policy_new(const struct mx_config *cfg, struct policy **ret)
{
	struct policy *p;
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->history_window = cfg->policy.history_window_usec;
	if ((p->counters = counters_new(cfg->policy.counters_memory)) == NULL ||
	    (p->authfail = authfail_new(0, 0)) == NULL ||
	    (p->scratch = calloc(1, sizeof(*p->scratch))) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = config_rules_new(cfg, NULL, &p->rules)) < 0 ||
	    (r = rules_bind(p->rules, p->counters, p->authfail)) < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	policy_free(p);
	return r;
}

struct policy *
policy_free(struct policy *p)
{
	if (p == NULL)
		return NULL;
	rules_free(p->rules);
	authfail_free(p->authfail);
	counters_free(p->counters);
	free(p->scratch);
	free(p);
	return NULL;
}

int
policy_set_rules(struct policy *p, struct mx_rules *rules)
{
	int r;

	if ((r = rules_bind(rules, p->counters, p->authfail)) < 0) {
		rules_free(rules);
		return r;
	}
	rules_set_crowdsec(rules, p->cs_lookup, p->cs_ud);
	rules_free(p->rules);
	p->rules = rules;
	return 0;
}

void
policy_set_crowdsec(struct policy *p, rules_cs_lookup_fn lookup, void *ud)
{
	p->cs_lookup = lookup;
	p->cs_ud = ud;
	rules_set_crowdsec(p->rules, lookup, ud);
}

void
policy_set_recorder(struct policy *p, policy_record_fn fn, void *ud)
{
	p->record = fn;
	p->record_ud = ud;
}

void
policy_get_stats(const struct policy *p, struct policy_stats *ret)
{
	*ret = p->stats;
}

void
policy_get_counters_stats(const struct policy *p, struct counters_stats *ret)
{
	counters_get_stats(p->counters, ret);
}

int64_t
policy_history_window(const struct policy *p)
{
	return p->history_window;
}

/* ------------------------------------------------------------- records */

/* policy_copy - a string into a fixed field, cut to fit; NULL reads as "" */
static void
policy_copy(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;

	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* policy_json_str - a JSON string of s at o (o + n bytes free); the new end, or NULL */
static char *
policy_json_str(char *o, char *end, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (o >= end)
		return NULL;
	*o++ = '"';
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (end - o < 7)
			return NULL;
		if (ch == '"' || ch == '\\') {
			*o++ = '\\';
			*o++ = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[ch >> 4];
			o[5] = hex[ch & 15];
			o += 6;
		} else {
			*o++ = (char)ch;
		}
	}
	if (o >= end)
		return NULL;
	*o++ = '"';
	return o;
}

/*
 * policy_hit_json - [{"condition":"...","key":"...","value":N,"limit":N}, ...];
 * a crowdsec condition adds "decision":"ban crowdsecurity/... (origin ...)"
 */
int
policy_hit_json(const struct rules_hit *hit, char *buf, size_t size)
{
	char *o = buf, *end = buf + size;
	int n;

	if (size < 3)
		return -ENOBUFS;
	*o++ = '[';
	for (unsigned i = 0; i < hit->n_values; i++) {
		const struct rules_value *v = &hit->values[i];

		if (end - o < 16)
			goto full;
		o += sprintf(o, "%s{\"condition\":", i > 0 ? "," : "");
		if ((o = policy_json_str(o, end, v->condition)) == NULL || end - o < 8)
			goto full;
		o += sprintf(o, ",\"key\":");
		if ((o = policy_json_str(o, end, v->key)) == NULL)
			goto full;
		n = snprintf(o, (size_t)(end - o), ",\"value\":%llu,\"limit\":%llu",
		    (unsigned long long)v->value, (unsigned long long)v->limit);
		if (n < 0 || n >= end - o)
			goto full;
		o += n;
		if (v->crowdsec) {
			if (end - o < 16)
				goto full;
			o += sprintf(o, ",\"decision\":");
			if ((o = policy_json_str(o, end, hit->crowdsec)) == NULL)
				goto full;
		}
		if (end - o < 2)
			goto full;
		*o++ = '}';
	}
	if (end - o < 2)
		goto full;
	*o++ = ']';
	*o = '\0';
	return (int)(o - buf);
full:
	snprintf(buf, size, "[]");
	return -ENOBUFS;
}

/* policy_record_fill - the request part of a record */
static void
policy_record_fill(struct policy_record *rec, const struct policy_request *req, int64_t now)
{
	/* every field is written: no memset of the ~3 KiB of text fields */
	rec->ts_usec = now;
	rec->rule[0] = rec->action[0] = '\0';
	rec->dry_run = rec->error = 0;
	policy_copy(rec->request, sizeof(rec->request), req->request);
	policy_copy(rec->protocol_state, sizeof(rec->protocol_state), req->protocol_state);
	policy_copy(rec->client_address, sizeof(rec->client_address), req->client_address);
	policy_copy(rec->client_name, sizeof(rec->client_name), req->client_name);
	policy_copy(rec->helo_name, sizeof(rec->helo_name), req->helo_name);
	policy_copy(rec->sasl_username, sizeof(rec->sasl_username), req->sasl_username);
	policy_copy(rec->sender, sizeof(rec->sender), req->sender);
	policy_copy(rec->recipient, sizeof(rec->recipient), req->recipient);
	policy_copy(rec->instance, sizeof(rec->instance), req->instance);
	policy_copy(rec->queue_id, sizeof(rec->queue_id), req->queue_id);
	policy_copy(rec->policy_context, sizeof(rec->policy_context), req->policy_context);
	rec->server_port = req->server_port_n;
}

/* policy_emit - hand a hit (or, hit NULL, an internal error) to the recorder */
static void
policy_emit(struct policy *p, const struct policy_request *req, int64_t now,
    const struct rules_hit *hit, const char *action, int error)
{
	struct policy_record *rec = &p->rec;

	policy_record_fill(rec, req, now);
	if (hit != NULL) {
		policy_copy(rec->rule, sizeof(rec->rule), hit->rule);
		policy_copy(rec->action, sizeof(rec->action), hit->action);
		rec->dry_run = hit->dry_run;
		(void)policy_hit_json(hit, rec->counters, sizeof(rec->counters));
	} else {
		policy_copy(rec->action, sizeof(rec->action), action);
		rec->error = error;
		snprintf(rec->counters, sizeof(rec->counters), "[]");
	}
	p->stats.records++;
	p->record(p->record_ud, rec);
}

/* ------------------------------------------------------------- deciding */

int
policy_decide(struct policy *p, const struct policy_request *req, int64_t now_usec,
    struct rules_decision *ret)
{
	int r;

	p->stats.decisions++;
	r = rules_check(p->rules, req, now_usec, ret);
	if (r < 0) {
		p->stats.errors++;
		if (p->record != NULL)
			policy_emit(p, req, now_usec, NULL, ret->action, r);
		return r;
	}
	if (ret->rule != NULL)
		p->stats.matched++;
	for (unsigned i = 0; i < ret->n_hits; i++) {
		const struct rules_hit *hit = &ret->hits[i];

		p->stats.dry_run_hits += hit->dry_run != 0;
		if (p->record != NULL && strcasecmp(hit->action, "DUNNO") != 0)
			policy_emit(p, req, now_usec, hit, NULL, 0);
	}
	return 0;
}

int
policy_format_action(const struct rules_decision *d, char *buf, size_t size)
{
	size_t n;

	if (size == 0)
		return -ENOBUFS;
	n = strnlen(d->action, size - 1 < POLICY_ACTION_MAX ? size - 1 : POLICY_ACTION_MAX);
	memcpy(buf, d->action, n);
	buf[n] = '\0';
	return (int)n;
}

/* -------------------------------------------------------------- history */

int
policy_event_wanted(enum mx_event_kind kind)
{
	switch (kind) {
	case MX_EVENT_AUTH_FAILURE:
	case MX_EVENT_AUTH_SUCCESS:
	case MX_EVENT_AUTH_LOOKUP_FAILURE:
	case MX_EVENT_REJECT:
	case MX_EVENT_RATE_LIMIT:
	case MX_EVENT_POSTSCREEN_PREGREET:
	case MX_EVENT_POSTSCREEN_PIPELINING:
	case MX_EVENT_POSTSCREEN_BARE_NEWLINE:
	case MX_EVENT_POSTSCREEN_NON_SMTP_COMMAND:
	case MX_EVENT_POSTSCREEN_DNSBL:
	case MX_EVENT_POSTSCREEN_COMMAND_LIMIT:
	case MX_EVENT_POSTSCREEN_DATA_WITHOUT_RCPT:
		return 1;
	default:
		return 0;
	}
}

int
policy_observe(struct policy *p, const struct mx_event *ev, int64_t now_usec)
{
	int r;

	if (!policy_event_wanted(ev->kind))
		return 0;
	p->stats.observed++;
	if ((r = rules_observe_event(p->rules, ev, now_usec)) < 0)
		p->stats.observe_errors++;
	return r;
}

void
policy_event_pack(struct policy_event *pe, const struct mx_event *ev)
{
	pe->kind = ev->kind;
	pe->ts_usec = ev->ts_usec;
	pe->attempts = ev->attempts;
	policy_copy(pe->daemon, sizeof(pe->daemon), ev->daemon);
	policy_copy(pe->client_ip, sizeof(pe->client_ip), ev->client_ip);
	policy_copy(pe->user, sizeof(pe->user), ev->user);
	policy_copy(pe->sender, sizeof(pe->sender), ev->sender);
	policy_copy(pe->recipient, sizeof(pe->recipient), ev->recipient);
	policy_copy(pe->session, sizeof(pe->session), ev->session);
}

/* policy_field - "" (not in the line) back to NULL, as parsers leave unknown fields */
static const char *
policy_field(const char *s)
{
	return *s != '\0' ? s : NULL;
}

int
policy_observe_packed(struct policy *p, const struct policy_event *pe, int64_t now_usec)
{
	struct mx_event *ev = p->scratch;

	ev->kind = pe->kind;
	ev->ts_usec = pe->ts_usec;
	ev->attempts = pe->attempts;
	ev->pid = -1;
	ev->proxied = -1;
	ev->daemon = policy_field(pe->daemon);
	ev->client_ip = policy_field(pe->client_ip);
	ev->user = policy_field(pe->user);
	ev->sender = policy_field(pe->sender);
	ev->recipient = policy_field(pe->recipient);
	ev->session = policy_field(pe->session);
	return policy_observe(p, ev, now_usec);
}

/* policy_rebuild_one - history_replay() callback */
static int
policy_rebuild_one(void *ud, const struct mx_event *ev)
{
	struct policy *p = ((void **)ud)[0];
	const int64_t *now = ((void **)ud)[1];

	(void)policy_observe(p, ev, *now);	/* errors are counted in the stats */
	return 0;
}

int
policy_rebuild(struct policy *p, struct store *st, int64_t now_usec)
{
	void *ud[2] = { p, &now_usec };
	uint64_t kinds = 0;

	if (p->history_window <= 0)
		return 0;
	for (int k = 0; k < MX_EVENT__MAX; k++)
		if (policy_event_wanted((enum mx_event_kind)k))
			kinds |= history_kind_bit((enum mx_event_kind)k);
	return history_replay(st, now_usec - p->history_window, INT64_MAX, kinds,
	    policy_rebuild_one, ud);
}
