/*
 * NAME
 *	alerts - thresholds over the metrics, evaluated by mxledger itself
 * SYNOPSIS
 *	#include "alerts.h"
 *
 *	alerts_new(m, &(struct alerts_conf){ .alertmanager_url = url }, &a);
 *	alerts_attach(a, event);		or	alerts_evaluate(a, now);
 * DESCRIPTION
 *	Each rule keeps its groups (one per value of the rule's label) in a
 *	small array; each group a ring of (time, vector) samples and its
 *	alert state. An evaluation walks every rule's family once with
 *	metrics_foreach(), summing the series into their groups' current
 *	vector, then compares each group with its baseline sample a window
 *	ago, moves its state, and collects what changed: notices go to the
 *	notify callback at once, Alertmanager alerts into one POST per
 *	evaluation.
 *
 *	Vectors: INCREASE, NO_INCREASE, ABOVE use v[0]; RATIO v[0] the
 *	numerator and v[1] the denominator; QUANTILE the cumulative bucket
 *	counts then the count. The words of a notice (description, journal
 *	entry) are alerts_notify.c's.
 * SEE ALSO
 *	alerts.h (the contract), alerts_notify.c, metrics.h, alertmanager.h,
 *	tests/check_alerts.c
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertmanager.h"
#include "alerts.h"
#include "clock.h"
#include "log.h"

#define SEC	INT64_C(1000000)
#define MIN	(60 * SEC)

/* Strings of one Alertmanager alert: 4 labels and 2 annotations as pairs, 2 NULLs. */
#define ALERTS_KV	(2 * 4 + 1 + 2 * 2 + 1)

/* The widest vector: a histogram's buckets and its count. */
#define ALERTS_VEC_MAX	(METRICS_BUCKETS_MAX + 1)

/*
 * The thresholds of contrib/prometheus/mxledger.rules.yml (and its tests):
 * keep both in step. All but MxledgerDown, which only an outside observer
 * can raise. MxledgerRealIpLost divides by mxledger_connections_total,
 * which counts exactly the events the Prometheus rule sums from
 * events_total (connects, or the line ending a Dovecot login).
 */
const struct alerts_rule alerts_default_rules[] = {
	{ .name = "MxledgerAuthFailureSpike", .kind = ALERTS_INCREASE,
	  .family = "mxledger_auth_failures_total", .by = "protocol",
	  .threshold = 100, .window_usec = 5 * MIN, .severity = "warning",
	  .summary = "authentication failures are spiking" },
	{ .name = "MxledgerFatalStorm", .kind = ALERTS_INCREASE,
	  .family = "mxledger_fatals_total", .by = "listener",
	  .threshold = 50, .window_usec = 5 * MIN, .severity = "critical",
	  .summary = "mail daemons keep dying on a listener (a PROXY listener probed "
		     "without a PROXY header?)" },
	{ .name = "MxledgerFatalsRepeated", .kind = ALERTS_INCREASE,
	  .family = "mxledger_fatals_total", .by = "listener",
	  .threshold = 2, .window_usec = 15 * MIN, .severity = "warning",
	  .summary = "a mail daemon died repeatedly on a listener" },
	{ .name = "MxledgerProxyErrors", .kind = ALERTS_INCREASE,
	  .family = "mxledger_proxy_errors_total", .by = "listener",
	  .threshold = 10, .window_usec = 5 * MIN, .severity = "warning",
	  .summary = "PROXY protocol errors on a listener" },
	{ .name = "MxledgerRealIpLost", .kind = ALERTS_RATIO,
	  .family = "mxledger_real_ip_lost_total", .den_family = "mxledger_connections_total",
	  .by = "listener", .threshold = 0.5, .min_count = 60,
	  .window_usec = 10 * MIN, .severity = "warning",
	  .summary = "connections on a proxied listener come from the proxy: real client "
		     "addresses are lost" },
	{ .name = "MxledgerPolicyRejectRateHigh", .kind = ALERTS_RATIO,
	  .family = "mxledger_policy_requests_total", .match_label = "action",
	  .match = "REJECT|DEFER*|4*|5*", .threshold = 0.5, .min_total = 20,
	  .window_usec = 10 * MIN, .for_usec = 5 * MIN, .severity = "warning",
	  .summary = "the policy service defers or rejects most requests" },
	{ .name = "MxledgerIngestStalled", .kind = ALERTS_NO_INCREASE,
	  .family = "mxledger_lines_read_total", .by = "input",
	  .window_usec = 30 * MIN, .severity = "warning",
	  .summary = "no log lines read from an input" },
	{ .name = "MxledgerIngestLagging", .kind = ALERTS_ABOVE,
	  .family = "mxledger_ingest_lag_seconds", .by = "input",
	  .threshold = 300, .for_usec = 5 * MIN, .severity = "warning",
	  .summary = "an input is read minutes behind the log" },
	{ .name = "MxledgerPolicyLatencyHigh", .kind = ALERTS_QUANTILE,
	  .family = "mxledger_policy_latency_seconds", .q = 0.99, .threshold = 0.1,
	  .min_total = 10, .window_usec = 5 * MIN, .for_usec = 5 * MIN, .severity = "warning",
	  .summary = "policy answers are slow (99th percentile)" },
	{ .name = "MxledgerDatabaseErrors", .kind = ALERTS_INCREASE,
	  .family = "mxledger_db_errors_total", .threshold = 0, .window_usec = 5 * MIN,
	  .severity = "critical", .summary = "database commits fail" },
	{ .name = "MxledgerCrowdsecStale", .kind = ALERTS_ABOVE,
	  .family = "mxledger_crowdsec_stale", .threshold = 0, .for_usec = 5 * MIN,
	  .severity = "warning", .summary = "CrowdSec's decisions cannot be pulled" },
};
const size_t alerts_default_n = sizeof(alerts_default_rules) / sizeof(alerts_default_rules[0]);

enum alerts_state {
	ALERTS_INACTIVE,
	ALERTS_PENDING,
	ALERTS_FIRING,
};

struct alerts_group {
	char key[METRICS_VALUE_MAX + 1];	/* the value of rule.by; "" without */
	enum alerts_state state;
	int seen, fresh;		/* in this evaluation; created in it */
	int64_t active_since, last_sent;
	double value;			/* last computed, NAN when none */
	double num, den;		/* RATIO: the growths value was computed from */
	size_t ring_n, ring_next;
	int64_t t[ALERTS_RING];
	double cur[ALERTS_VEC_MAX];
	double v[];			/* ALERTS_RING * nvec */
};

struct alerts_rstate {
	struct alerts_rule rule;	/* strings owned */
	size_t nvec;
	int64_t step;			/* least spacing of kept samples */
	struct metrics_family *fam, *den_fam;	/* den_fam: RATIO's denominator, or NULL */
	int by, match_by, den_by;	/* label indexes, -1 none */
	int hist;			/* the family is a histogram */
	const double *bounds;		/* QUANTILE: the family's */
	size_t n_buckets;
	struct alerts_group *groups[ALERTS_GROUPS_MAX];
	size_t n_groups;
};

/* A change for Alertmanager, collected during one evaluation. */
struct alerts_send {
	const struct alerts_rstate *rs;
	const struct alerts_group *g;
	int firing;
	int64_t starts, ends;
};

struct alerts {
	struct metrics *m;
	struct alerts_rstate *rules;
	size_t n_rules;
	int64_t interval, resend;
	char instance[256];
	alerts_notify_fn notify;
	void *notify_ud;
	struct alertmanager *am;
	sd_event_source *timer;
	int64_t last_eval;		/* 0: never */
	struct alerts_send *sends;
	size_t n_sends, sends_alloc;
	struct alerts_stats stats;
};

static int alerts_rule_copy(struct alerts_rule *dst, const struct alerts_rule *src);
static void alerts_rule_free(struct alerts_rule *r);

static int
alerts_rule_ok(const struct alerts_rule *r)
{
	if (r->name == NULL || r->family == NULL || r->severity == NULL || r->summary == NULL)
		return 0;
	if (r->kind != ALERTS_ABOVE && r->window_usec <= 0)
		return 0;
	if (r->kind == ALERTS_RATIO && (r->match_label == NULL) != (r->match == NULL))
		return 0;
	if (r->kind == ALERTS_RATIO && r->match == NULL && r->den_family == NULL)
		return 0;
	if (r->kind == ALERTS_QUANTILE && !(r->q > 0 && r->q < 1))
		return 0;
	return r->kind <= ALERTS_QUANTILE && r->for_usec >= 0;
}

static char *
alerts_strdup(const char *s, int *err)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*err = -ENOMEM;
	return d;
}

static int
alerts_rule_copy(struct alerts_rule *dst, const struct alerts_rule *src)
{
	int err = 0;

	*dst = *src;
	dst->name = alerts_strdup(src->name, &err);
	dst->family = alerts_strdup(src->family, &err);
	dst->by = alerts_strdup(src->by, &err);
	dst->match_label = alerts_strdup(src->match_label, &err);
	dst->match = alerts_strdup(src->match, &err);
	dst->den_family = alerts_strdup(src->den_family, &err);
	dst->severity = alerts_strdup(src->severity, &err);
	dst->summary = alerts_strdup(src->summary, &err);
	return err;
}

static void
alerts_rule_free(struct alerts_rule *r)
{
	free((char *)r->name);
	free((char *)r->family);
	free((char *)r->by);
	free((char *)r->match_label);
	free((char *)r->match);
	free((char *)r->den_family);
	free((char *)r->severity);
	free((char *)r->summary);
}

/* alerts_new - rules over m, reported to conf->notify and Alertmanager */
int
alerts_new(struct metrics *m, const struct alerts_conf *conf, struct alerts **ret)
{
	const struct alerts_rule *rules = conf->rules != NULL ? conf->rules : alerts_default_rules;
	size_t i, n = conf->rules != NULL ? conf->n_rules : alerts_default_n;
	struct alerts *a;
	int r;

	if (n > ALERTS_RULES_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!alerts_rule_ok(&rules[i]))
			return -EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	a->m = m;
	a->interval = conf->interval_usec > 0 ? conf->interval_usec : ALERTS_INTERVAL_DEFAULT;
	a->resend = conf->resend_usec > 0 ? conf->resend_usec : ALERTS_RESEND_DEFAULT;
	a->notify = conf->notify != NULL ? conf->notify : alerts_journal;
	a->notify_ud = conf->notify_ud;
	if (conf->instance != NULL)
		snprintf(a->instance, sizeof(a->instance), "%s", conf->instance);
	else if (gethostname(a->instance, sizeof(a->instance) - 1) < 0)
		snprintf(a->instance, sizeof(a->instance), "localhost");
	if ((a->rules = calloc(n > 0 ? n : 1, sizeof(*a->rules))) == NULL) {
		free(a);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct alerts_rstate *rs = &a->rules[i];

		a->n_rules = i + 1;	/* alerts_free() frees a partial copy too */
		if ((r = alerts_rule_copy(&rs->rule, &rules[i])) < 0)
			goto fail;
		rs->nvec = rules[i].kind == ALERTS_QUANTILE ? ALERTS_VEC_MAX :
		    rules[i].kind == ALERTS_RATIO ? 2 : 1;
		rs->step = rules[i].window_usec / (ALERTS_RING - 2);
		rs->by = rs->match_by = rs->den_by = -1;
	}
	if (conf->alertmanager_url != NULL &&
	    (r = alertmanager_new(conf->alertmanager_url, conf->alertmanager_timeout_usec,
		&a->am)) < 0)
		goto fail;
	*ret = a;
	return 0;
fail:
	alerts_free(a);
	return r;
}

/* alerts_free - detach, stop the sender; returns NULL */
struct alerts *
alerts_free(struct alerts *a)
{
	size_t i, j;

	if (a == NULL)
		return NULL;
	a->timer = sd_event_source_disable_unref(a->timer);
	a->am = alertmanager_free(a->am);
	for (i = 0; i < a->n_rules; i++) {
		alerts_rule_free(&a->rules[i].rule);
		for (j = 0; j < a->rules[i].n_groups; j++)
			free(a->rules[i].groups[j]);
	}
	free(a->rules);
	free(a->sends);
	free(a);
	return NULL;
}

/* alerts_resolve - find the rule's family once it exists, and check it fits */
static int
alerts_resolve(struct alerts *a, struct alerts_rstate *rs)
{
	const struct alerts_rule *r = &rs->rule;
	struct metrics_family *f;
	enum metrics_type t;

	if (rs->fam != NULL)
		return 1;
	if ((f = metrics_family_find(a->m, r->family)) == NULL)
		return 0;
	t = metrics_family_type(f);
	if ((r->kind == ALERTS_QUANTILE) != (t == METRICS_HISTOGRAM) ||
	    (r->kind == ALERTS_RATIO && t != METRICS_COUNTER) ||
	    (r->kind == ALERTS_ABOVE && t != METRICS_GAUGE))
		return 0;
	if (r->by != NULL && (rs->by = metrics_family_label(f, r->by)) < 0)
		return 0;
	if (r->match_label != NULL && (rs->match_by = metrics_family_label(f, r->match_label)) < 0)
		return 0;
	if (r->den_family != NULL) {
		if ((rs->den_fam = metrics_family_find(a->m, r->den_family)) == NULL ||
		    metrics_family_type(rs->den_fam) != METRICS_COUNTER ||
		    (r->by != NULL && (rs->den_by = metrics_family_label(rs->den_fam, r->by)) < 0)) {
			rs->den_fam = NULL;
			return 0;
		}
	}
	rs->hist = t == METRICS_HISTOGRAM;
	rs->fam = f;
	return 1;
}

/* alerts_group - the group for key, created if there is room */
static struct alerts_group *
alerts_group(struct alerts_rstate *rs, const char *key)
{
	struct alerts_group *g;
	size_t i;

	for (i = 0; i < rs->n_groups; i++)
		if (strcmp(rs->groups[i]->key, key) == 0)
			return rs->groups[i];
	if (rs->n_groups == ALERTS_GROUPS_MAX)
		return NULL;
	g = calloc(1, sizeof(*g) + ALERTS_RING * rs->nvec * sizeof(double));
	if (g == NULL)
		return NULL;
	snprintf(g->key, sizeof(g->key), "%s", key);
	g->fresh = 1;
	g->value = NAN;
	rs->groups[rs->n_groups++] = g;
	return g;
}

/* alerts_matches - s matches one of the '|'-separated fnmatch patterns */
static int
alerts_matches(const char *patterns, const char *s)
{
	char pat[256];
	const char *p = patterns, *bar;
	size_t len;

	for (;;) {
		bar = strchr(p, '|');
		len = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (len < sizeof(pat)) {
			memcpy(pat, p, len);
			pat[len] = '\0';
			if (fnmatch(pat, s, 0) == 0)
				return 1;
		}
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

struct alerts_visit {
	struct alerts *a;
	struct alerts_rstate *rs;
	int den;			/* visiting RATIO's denominator family */
};

/* alerts_visit - sum one series into its group's current vector */
static void
alerts_visit(void *ud, const struct metrics_sample *s)
{
	struct alerts_visit *vis = ud;
	struct alerts_rstate *rs = vis->rs;
	struct alerts_group *g;
	size_t b;

	int by = vis->den ? rs->den_by : rs->by;

	g = alerts_group(rs, by >= 0 ? s->values[by] : "");
	if (g == NULL) {
		vis->a->stats.groups_dropped++;
		return;
	}
	switch (rs->rule.kind) {
	case ALERTS_INCREASE:
	case ALERTS_NO_INCREASE:
		g->cur[0] += rs->hist ? (double)s->count : s->value;
		break;
	case ALERTS_ABOVE:
		if (!g->seen || s->value > g->cur[0])
			g->cur[0] = s->value;
		break;
	case ALERTS_RATIO:
		if (vis->den || rs->den_fam == NULL)
			g->cur[1] += s->value;
		if (!vis->den && (rs->rule.match == NULL ||
		    alerts_matches(rs->rule.match, s->values[rs->match_by])))
			g->cur[0] += s->value;
		break;
	case ALERTS_QUANTILE:
		rs->bounds = s->bounds;
		rs->n_buckets = s->n_buckets;
		for (b = 0; b < s->n_buckets; b++)
			g->cur[b] += (double)s->cumulative[b];
		g->cur[ALERTS_VEC_MAX - 1] += (double)s->count;
		break;
	}
	g->seen = 1;
}

static void
alerts_push(struct alerts_rstate *rs, struct alerts_group *g, int64_t t, const double *v)
{
	g->t[g->ring_next] = t;
	memcpy(&g->v[g->ring_next * rs->nvec], v, rs->nvec * sizeof(double));
	g->ring_next = (g->ring_next + 1) % ALERTS_RING;
	if (g->ring_n < ALERTS_RING)
		g->ring_n++;
}

/* alerts_sample - keep the current vector if the newest kept one is a step old */
static void
alerts_sample(struct alerts *a, struct alerts_rstate *rs, struct alerts_group *g, int64_t now)
{
	static const double zero[ALERTS_VEC_MAX];
	size_t newest = (g->ring_next + ALERTS_RING - 1) % ALERTS_RING;

	if (rs->rule.kind == ALERTS_ABOVE)
		return;
	if (g->fresh && a->last_eval != 0 && a->last_eval < now)
		alerts_push(rs, g, a->last_eval, zero);	/* it was 0 then */
	if (g->ring_n == 0 || now - g->t[newest] >= rs->step ||
	    (g->fresh && a->last_eval != 0))
		alerts_push(rs, g, now, g->cur);
}

/* alerts_baseline - the newest kept sample at or before since, or the oldest */
static const double *
alerts_baseline(const struct alerts_rstate *rs, const struct alerts_group *g, int64_t since,
    int *ret_full)
{
	size_t i, idx;

	*ret_full = 0;
	for (i = 0; i < g->ring_n; i++) {
		idx = (g->ring_next + ALERTS_RING - 1 - i) % ALERTS_RING;
		if (g->t[idx] <= since) {
			*ret_full = 1;
			return &g->v[idx * rs->nvec];
		}
	}
	idx = (g->ring_next + ALERTS_RING - g->ring_n) % ALERTS_RING;
	return &g->v[idx * rs->nvec];
}

/* alerts_quantile - histogram_quantile() over cumulative bucket counts */
static double
alerts_quantile(double q, const double *bounds, size_t nb, const double *cum, double total)
{
	double rank = q * total, lower, below;
	size_t b;

	for (b = 0; b < nb; b++)
		if (cum[b] >= rank)
			break;
	if (b == nb)
		return bounds[nb - 1];
	if (b == 0 && bounds[0] <= 0)
		return bounds[0];
	lower = b == 0 ? 0 : bounds[b - 1];
	below = b == 0 ? 0 : cum[b - 1];
	return lower + (bounds[b] - lower) * (rank - below) / (cum[b] - below);
}

/* alerts_condition - compute the group's value; 1 when the rule's condition holds */
static int
alerts_condition(const struct alerts_rstate *rs, struct alerts_group *g, int64_t now)
{
	const struct alerts_rule *r = &rs->rule;
	const double *base;
	double d[ALERTS_VEC_MAX];
	size_t i;
	int full;

	g->value = NAN;
	if (r->kind == ALERTS_ABOVE) {
		g->value = g->cur[0];
		return g->value > r->threshold;
	}
	base = alerts_baseline(rs, g, now - r->window_usec, &full);
	for (i = 0; i < rs->nvec; i++)
		d[i] = g->cur[i] >= base[i] ? g->cur[i] - base[i] : g->cur[i];	/* reset */
	switch (r->kind) {
	case ALERTS_INCREASE:
		g->value = d[0];
		return g->value > r->threshold;
	case ALERTS_NO_INCREASE:
		g->value = d[0];
		return full && d[0] <= 0;
	case ALERTS_RATIO:
		g->num = d[0];
		g->den = d[1];
		if (d[1] <= 0 || d[1] < r->min_total)
			return 0;
		g->value = d[0] / d[1];
		return g->value > r->threshold && d[0] > r->min_count;
	case ALERTS_QUANTILE:
		if (rs->n_buckets == 0 || d[ALERTS_VEC_MAX - 1] <= 0 ||
		    d[ALERTS_VEC_MAX - 1] < r->min_total)
			return 0;
		g->value = alerts_quantile(r->q, rs->bounds, rs->n_buckets, d,
		    d[ALERTS_VEC_MAX - 1]);
		return g->value > r->threshold;
	case ALERTS_ABOVE:
		break;
	}
	return 0;
}

static int
alerts_queue(struct alerts *a, const struct alerts_rstate *rs, const struct alerts_group *g,
    int firing, int64_t ends)
{
	struct alerts_send *ns;

	if (a->am == NULL)
		return 0;
	if (a->n_sends == a->sends_alloc) {
		size_t n = a->sends_alloc == 0 ? 16 : 2 * a->sends_alloc;

		if ((ns = reallocarray(a->sends, n, sizeof(*ns))) == NULL)
			return -ENOMEM;
		a->sends = ns;
		a->sends_alloc = n;
	}
	a->sends[a->n_sends++] = (struct alerts_send){ rs, g, firing, g->active_since, ends };
	return 0;
}

static void
alerts_tell(struct alerts *a, const struct alerts_rstate *rs, const struct alerts_group *g,
    int firing, double value, int64_t now)
{
	struct alerts_notice n = {
		.rule = &rs->rule, .label = rs->rule.by, .label_value = rs->rule.by ? g->key : NULL,
		.firing = firing, .value = value, .num = g->num, .den = g->den,
		.starts_usec = g->active_since,
		.ends_usec = firing ? 0 : now,
	};

	a->notify(a->notify_ud, &n);
}

/* alerts_step - move one group's state; 1 when it fired or resolved */
static int
alerts_step(struct alerts *a, struct alerts_rstate *rs, struct alerts_group *g, int64_t now)
{
	int holds = alerts_condition(rs, g, now);

	if (!holds) {
		enum alerts_state was = g->state;

		g->state = ALERTS_INACTIVE;
		if (was != ALERTS_FIRING)
			return 0;
		a->stats.resolved++;
		alerts_tell(a, rs, g, 0, g->value, now);
		return alerts_queue(a, rs, g, 0, now) < 0 ? -ENOMEM : 1;
	}
	if (g->state == ALERTS_INACTIVE) {
		g->state = ALERTS_PENDING;
		g->active_since = now;
	}
	if (g->state == ALERTS_PENDING && now - g->active_since >= rs->rule.for_usec) {
		g->state = ALERTS_FIRING;
		g->last_sent = now;
		a->stats.fired++;
		alerts_tell(a, rs, g, 1, g->value, now);
		return alerts_queue(a, rs, g, 1, 0) < 0 ? -ENOMEM : 1;
	}
	if (g->state == ALERTS_FIRING && now - g->last_sent >= a->resend) {
		g->last_sent = now;
		if (alerts_queue(a, rs, g, 1, 0) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* alerts_post - one Alertmanager POST with what this evaluation collected */
static int
alerts_post(struct alerts *a, int64_t now)
{
	struct alertmanager_alert *al;
	char (*desc)[256];
	const char *(*kv)[ALERTS_KV];
	size_t i;
	int r;

	if (a->n_sends == 0)
		return 0;
	al = calloc(a->n_sends, sizeof(*al));
	desc = calloc(a->n_sends, sizeof(*desc));
	kv = calloc(a->n_sends, sizeof(*kv));
	r = -ENOMEM;
	if (al == NULL || desc == NULL || kv == NULL)
		goto out;
	for (i = 0; i < a->n_sends; i++) {
		const struct alerts_send *s = &a->sends[i];
		const struct alerts_rule *ru = &s->rs->rule;
		const char **p = kv[i];
		struct alerts_notice n = { .rule = ru, .firing = s->firing, .value = s->g->value,
			.num = s->g->num, .den = s->g->den };

		alerts_describe(&n, desc[i], sizeof(desc[i]));
		al[i].labels = p;
		*p++ = "alertname", *p++ = ru->name;
		*p++ = "severity", *p++ = ru->severity;
		*p++ = "instance", *p++ = a->instance;
		if (ru->by != NULL)
			*p++ = ru->by, *p++ = s->g->key;
		*p++ = NULL;
		al[i].annotations = p;
		*p++ = "summary", *p++ = ru->summary;
		*p++ = "description", *p++ = desc[i];
		*p = NULL;
		al[i].starts_usec = s->starts;
		/* a firing alert ends by itself unless re-sent: if mxledger dies */
		al[i].ends_usec = !s->firing ? s->ends :
		    now + 4 * (a->resend > a->interval ? a->resend : a->interval);
	}
	r = alertmanager_post(a->am, al, a->n_sends);
out:
	a->n_sends = 0;
	free(al);
	free(desc);
	free(kv);
	return r;
}

/* alerts_evaluate - one evaluation at now_usec; returns the transitions */
int
alerts_evaluate(struct alerts *a, int64_t now_usec)
{
	size_t i, j;
	int n = 0, r, err = 0;

	for (i = 0; i < a->n_rules; i++) {
		struct alerts_rstate *rs = &a->rules[i];
		struct alerts_visit vis = { a, rs, 0 };

		if (!alerts_resolve(a, rs))
			continue;
		for (j = 0; j < rs->n_groups; j++) {
			memset(rs->groups[j]->cur, 0, sizeof(rs->groups[j]->cur));
			rs->groups[j]->seen = 0;
		}
		metrics_foreach(rs->fam, alerts_visit, &vis);
		if (rs->den_fam != NULL) {
			vis.den = 1;
			metrics_foreach(rs->den_fam, alerts_visit, &vis);
		}
		for (j = 0; j < rs->n_groups; j++) {
			struct alerts_group *g = rs->groups[j];

			alerts_sample(a, rs, g, now_usec);
			g->fresh = 0;
			if ((r = alerts_step(a, rs, g, now_usec)) < 0)
				err = r;
			else
				n += r;
		}
	}
	a->last_eval = now_usec;
	a->stats.evaluations++;
	if ((r = alerts_post(a, now_usec)) < 0 && err == 0)
		err = r;
	return err < 0 ? err : n;
}

static int
alerts_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct alerts *a = ud;
	int r;

	if ((r = alerts_evaluate(a, clock_now_usec())) < 0)
		log_warning("alerts: evaluation failed: %s", strerror(-r));
	sd_event_source_set_time(s, usec + (uint64_t)a->interval);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* alerts_attach - evaluate now and every interval on e */
int
alerts_attach(struct alerts *a, sd_event *e)
{
	uint64_t now;
	int r;

	if ((r = sd_event_now(e, CLOCK_MONOTONIC, &now)) < 0)
		return r;
	alerts_evaluate(a, clock_now_usec());
	a->timer = sd_event_source_disable_unref(a->timer);
	r = sd_event_add_time(e, &a->timer, CLOCK_MONOTONIC, now + (uint64_t)a->interval,
	    (uint64_t)(a->interval / 10 < SEC ? a->interval / 10 : SEC), alerts_timer, a);
	if (r < 0)
		return r;
	sd_event_source_set_description(a->timer, "alerts");
	return 0;
}

/* alerts_drain - wait for queued Alertmanager POSTs */
int
alerts_drain(struct alerts *a, int64_t timeout_usec)
{
	return a->am != NULL ? alertmanager_drain(a->am, timeout_usec) : 0;
}

void
alerts_get_stats(struct alerts *a, struct alerts_stats *ret)
{
	struct alertmanager_stats as = { 0 };
	size_t i, j;

	*ret = a->stats;
	ret->firing = 0;
	for (i = 0; i < a->n_rules; i++)
		for (j = 0; j < a->rules[i].n_groups; j++)
			ret->firing += a->rules[i].groups[j]->state == ALERTS_FIRING;
	if (a->am != NULL)
		alertmanager_get_stats(a->am, &as);
	ret->posts_sent = as.sent;
	ret->posts_failed = as.failed;
	ret->posts_dropped = as.dropped;
}
