/*
 * NAME
 *	alerts - thresholds over the metrics, evaluated by mxledger itself
 * SYNOPSIS
 *	#include "alerts.h"
 *
 *	int alerts_new(struct metrics *m, const struct alerts_conf *conf, struct alerts **ret);
 *	struct alerts *alerts_free(struct alerts *a);
 *	int alerts_evaluate(struct alerts *a, int64_t now_usec);
 *	int alerts_attach(struct alerts *a, sd_event *e);
 *	int alerts_drain(struct alerts *a, int64_t timeout_usec);
 *	void alerts_get_stats(struct alerts *a, struct alerts_stats *ret);
 *	void alerts_journal(void *ud, const struct alerts_notice *n);
 *	void alerts_describe(const struct alerts_notice *n, char *buf, size_t size);
 *	extern const struct alerts_rule alerts_default_rules[];
 *	extern const size_t alerts_default_n;
 * DESCRIPTION
 *	For people without Prometheus: the alerts of contrib/prometheus/
 *	(all but MxledgerDown) in alerts_default_rules[], or the caller's
 *	rules, evaluated over the registry on a timer, each firing and each
 *	resolution reported once to conf->notify (default alerts_journal(),
 *	a structured journal entry) and, with conf->alertmanager_url, POSTed
 *	to Alertmanager's /api/v2/alerts (alertmanager.h).
 *
 *	A rule reads one family, sums its series per value of one label
 *	(rule->by; NULL: one group over all series) and computes, at every
 *	evaluation:
 *
 *	  ALERTS_INCREASE     how much the counter grew in the last window
 *	                      (a histogram: its count);   fires when > threshold
 *	  ALERTS_NO_INCREASE  it did not grow at all in a whole window (only once
 *	                      a window of history exists: stalled input)
 *	  ALERTS_RATIO        growth of the numerator over growth of the
 *	                      denominator, once that is at least rule->min_total
 *	                      and the numerator's is more than rule->min_count;
 *	                      fires when > threshold. Numerator: the family's
 *	                      series whose rule->match_label matches rule->match
 *	                      (fnmatch(3) patterns separated by '|'), or all of
 *	                      them without match_label. Denominator: every series
 *	                      of rule->den_family (grouped by the same label), or
 *	                      of the family itself when den_family is NULL
 *	  ALERTS_ABOVE        the gauge's value (the largest in the group)
 *	  ALERTS_QUANTILE     the rule->q quantile of the histogram's
 *	                      observations in the window, interpolated within
 *	                      buckets like Prometheus' histogram_quantile(), once
 *	                      there are at least rule->min_total of them
 *
 *	A group whose condition holds is pending; after rule->for_usec of
 *	holding at every evaluation it fires; when it stops holding a firing
 *	group is resolved (a pending one is forgotten). Growth is measured
 *	against the newest sample at least one window old, or the oldest kept
 *	when the history is shorter; samples are kept ALERTS_RING per group,
 *	spaced window / (ALERTS_RING - 2) apart, so a window is resolved to
 *	about 3% of its length whatever the evaluation interval. A group's
 *	first sample is the value at the first evaluation that saw it: what
 *	was counted before alerts_new() is history, not a spike; a group
 *	that appears later started from 0 at the previous evaluation.
 *
 *	alerts_evaluate() runs one evaluation at now_usec (realtime UTC
 *	microseconds, injected: tests pass their own clock). alerts_attach()
 *	evaluates at once and then every conf->interval_usec on e (a
 *	CLOCK_MONOTONIC timer; the time given is clock_now_usec()).
 *
 *	With an Alertmanager, a firing alert is sent when it fires and again
 *	every conf->resend_usec, with endsAt four resend periods ahead (so
 *	Alertmanager resolves it by itself if mxledger dies), and once more
 *	with endsAt = the time of resolution. Labels: alertname, severity,
 *	instance (conf->instance, default the host name) and the group label;
 *	annotations: summary, description. Sending happens on a thread of
 *	alertmanager.c; alerts_drain() waits until what was queued has been
 *	tried (tests, shutdown).
 *
 *	alerts_journal() writes one journal entry: MESSAGE ("alert NAME
 *	firing: SUMMARY (LABEL \"VALUE\"): DESCRIPTION"), PRIORITY (crit for a
 *	critical alert firing, warning for others, notice when resolved),
 *	SYSLOG_IDENTIFIER=mxledger, MXLEDGER_ALERT, MXLEDGER_STATE
 *	(firing|resolved), MXLEDGER_SEVERITY, MXLEDGER_VALUE,
 *	MXLEDGER_THRESHOLD and the group label as MXLEDGER_<LABEL> (e.g.
 *	MXLEDGER_LISTENER); `journalctl MXLEDGER_ALERT=MxledgerFatalStorm`
 *	finds them. alerts_describe() writes the DESCRIPTION part ("51 in
 *	5m, more than 50"; "0.6 (61 of 101) in 10m, more than 0.5"), also
 *	the Alertmanager annotation "description".
 *
 *	Groups per rule are capped at ALERTS_GROUPS_MAX; series of further
 *	groups are not evaluated (counted in the stats).
 * THREADS
 *	One thread calls alerts_*() (the main loop); the registry may be
 *	updated from any thread meanwhile.
 * RETURNS
 *	alerts_new(): 0; -EINVAL (a rule without name, family, severity or
 *	summary, with a window of 0 where one is needed, or a ratio of a
 *	family to itself without a match); -EOPNOTSUPP (an
 *	Alertmanager URL in a build without libcurl); -ENOMEM.
 *	alerts_evaluate(): the number of transitions (firing + resolved), or
 *	-ENOMEM. alerts_attach(): 0 or -errno from sd-event.
 *	alerts_drain(): 0, or -ETIMEDOUT with work still queued.
 * OWNERSHIP
 *	conf and its rules are copied. m is borrowed and must outlive a. A
 *	notice's strings are valid during the notify call only.
 *	alerts_free() detaches the timer, stops the sender (abandoning what
 *	is still queued) and returns NULL.
 * SEE ALSO
 *	metrics.h, alertmanager.h, contrib/prometheus/ (the same thresholds
 *	for Prometheus), tests/check_alerts.c
 */
#ifndef MX_ALERTS_H
#define MX_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "metrics.h"

/* Samples kept per group: a window is resolved to window / 30. */
#define ALERTS_RING		32
/* Groups (label values) per rule: listeners, inputs, protocols are few. */
#define ALERTS_GROUPS_MAX	64
#define ALERTS_RULES_MAX	64
#define ALERTS_INTERVAL_DEFAULT	(15 * INT64_C(1000000))
#define ALERTS_RESEND_DEFAULT	(60 * INT64_C(1000000))

enum alerts_kind {
	ALERTS_INCREASE,
	ALERTS_NO_INCREASE,
	ALERTS_RATIO,
	ALERTS_ABOVE,
	ALERTS_QUANTILE,
};

struct alerts_rule {
	const char *name;		/* alertname, "MxledgerFatalStorm" */
	enum alerts_kind kind;
	const char *family;		/* "mxledger_fatals_total" */
	const char *by;			/* group label, NULL: one group */
	const char *match_label;	/* ALERTS_RATIO: numerator = series whose label ... */
	const char *match;		/* ... matches one of "REJECT|DEFER*" (NULL: all) */
	const char *den_family;		/* ALERTS_RATIO: denominator; NULL: family */
	double threshold;		/* fires when the value is > threshold */
	double q;			/* ALERTS_QUANTILE: 0 < q < 1 */
	double min_total;		/* ALERTS_RATIO, ALERTS_QUANTILE: least denominator */
	double min_count;		/* ALERTS_RATIO: the numerator must be more */
	int64_t window_usec;		/* all but ALERTS_ABOVE */
	int64_t for_usec;		/* how long the condition holds before firing */
	const char *severity;		/* "warning", "critical" */
	const char *summary;		/* one line, without the group or value */
};

struct alerts_notice {
	const struct alerts_rule *rule;
	const char *label;		/* rule->by, NULL when the rule has none */
	const char *label_value;	/* the group's value of it */
	int firing;			/* 1 firing, 0 resolved */
	double value;			/* what was compared to the threshold; NAN when the
					 * window held too little data (a resolution) */
	double num, den;		/* ALERTS_RATIO: the growths value is the ratio of */
	int64_t starts_usec;		/* when the condition began to hold */
	int64_t ends_usec;		/* resolved: now; firing: 0 */
};

typedef void (*alerts_notify_fn)(void *ud, const struct alerts_notice *n);

struct alerts_conf {
	const struct alerts_rule *rules;	/* NULL: alerts_default_rules */
	size_t n_rules;
	int64_t interval_usec;		/* alerts_attach(); 0: ALERTS_INTERVAL_DEFAULT */
	int64_t resend_usec;		/* 0: ALERTS_RESEND_DEFAULT */
	const char *alertmanager_url;	/* "http://127.0.0.1:9093"; NULL: none */
	int64_t alertmanager_timeout_usec;	/* per POST; 0: 5 s */
	const char *instance;		/* label instance; NULL: gethostname() */
	alerts_notify_fn notify;	/* NULL: alerts_journal */
	void *notify_ud;
};

struct alerts_stats {
	uint64_t evaluations, fired, resolved;
	uint64_t groups_dropped;	/* series of groups past ALERTS_GROUPS_MAX */
	unsigned firing;		/* groups firing now */
	uint64_t posts_sent, posts_failed, posts_dropped;	/* Alertmanager */
};

extern const struct alerts_rule alerts_default_rules[];
extern const size_t alerts_default_n;

struct alerts;

int alerts_new(struct metrics *m, const struct alerts_conf *conf, struct alerts **ret);
struct alerts *alerts_free(struct alerts *a);
int alerts_evaluate(struct alerts *a, int64_t now_usec);
int alerts_attach(struct alerts *a, sd_event *e);
int alerts_drain(struct alerts *a, int64_t timeout_usec);
void alerts_get_stats(struct alerts *a, struct alerts_stats *ret);
void alerts_journal(void *ud, const struct alerts_notice *n);
void alerts_describe(const struct alerts_notice *n, char *buf, size_t size);

#endif
