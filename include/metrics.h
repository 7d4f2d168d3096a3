/*
 * NAME
 *	metrics - a small Prometheus registry: counters, gauges, histograms
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	The daemon's registry (the mxledger_ families below):
 *	struct metrics *metrics_new(const char *version);
 *	struct metrics *metrics_free(struct metrics *m);
 *	int metrics_set_proxy_networks(struct metrics *m, const char *const *cidrs, size_t n);
 *	int metrics_observe_event(struct metrics *m, const struct mx_event *ev);
 *	int metrics_policy_request(struct metrics *m, const char *action, const char *rule,
 *	    double seconds);
 *	int metrics_input_lines(struct metrics *m, const char *input, uint64_t read,
 *	    uint64_t unrecognised);
 *	int metrics_input_lag(struct metrics *m, const char *input, double seconds);
 *	int metrics_db_batch(struct metrics *m, double seconds, int failed);
 *	int metrics_counters_evicted(struct metrics *m, uint64_t total);
 *	int metrics_crowdsec(struct metrics *m, const struct metrics_crowdsec *cs);
 *	void metrics_set_health(struct metrics *m, const char *reason);
 *	int metrics_get_health(struct metrics *m, char *buf, size_t size);
 *
 *	Output:
 *	int metrics_format(struct metrics *m, char **ret_buf, size_t *ret_len);
 *	int metrics_write_textfile(struct metrics *m, const char *path);
 *
 *	Any registry:
 *	struct metrics *metrics_registry_new(void);
 *	int metrics_family_new(struct metrics *m, const struct metrics_def *def,
 *	    struct metrics_family **ret);
 *	struct metrics_family *metrics_family_find(struct metrics *m, const char *name);
 *	enum metrics_type metrics_family_type(const struct metrics_family *f);
 *	int metrics_family_label(const struct metrics_family *f, const char *label);
 *	int metrics_add(struct metrics_family *f, const char *const *values, double v);
 *	int metrics_set(struct metrics_family *f, const char *const *values, double v);
 *	int metrics_observe(struct metrics_family *f, const char *const *values, double v);
 *	int metrics_get(struct metrics_family *f, const char *const *values, double *ret);
 *	int metrics_foreach(struct metrics_family *f, metrics_visit_fn fn, void *ud);
 * DESCRIPTION
 *	A registry holds families (one metric name, type, help text and a
 *	fixed list of label names); a family holds series, one per
 *	combination of label values, created on first use. Label values are
 *	given in the order of the family's label names (values may be NULL
 *	for a family without labels). A value is cut at METRICS_VALUE_MAX
 *	bytes (on a character boundary) and bytes that are not UTF-8 become
 *	'?', so the exposition is always valid.
 *
 *	Cardinality is bounded twice: labels are chosen so that their values
 *	come from the configuration or from the code (listener, daemon, event
 *	kind, input, rule, action, protocol -- never a client address or a
 *	user), and each family has a hard cap on its series (def->max_series,
 *	METRICS_SERIES_DEFAULT when 0). An update that would create a series
 *	past the cap is dropped, returns -E2BIG and is counted in
 *	mxledger_metrics_series_dropped_total{family="NAME"}, a family every
 *	registry has, whose series are bounded by METRICS_FAMILIES_MAX.
 *
 *	metrics_add() adds v >= 0 to a counter, or any v to a gauge.
 *	metrics_set() sets a gauge, or a counter to a total kept elsewhere (a
 *	counter never goes down: a smaller v is refused with -ERANGE).
 *	metrics_observe() counts v into a histogram's fixed buckets (upper
 *	bounds def->buckets, ascending; +Inf is implied).
 *
 *	metrics_format() renders the Prometheus text exposition format 0.0.4:
 *	families sorted by name, each with its HELP and TYPE lines, series
 *	sorted by their label values (in label order, bytewise), histogram
 *	buckets cumulative with le="+Inf", then _sum and _count. Families
 *	without a series are left out (a family without labels has its one
 *	series from the start, at 0). HELP text escapes \ and newline; label
 *	values escape \, " and newline. Numbers are printed in the shortest
 *	form that reads back exactly ("3", "0.25", "1e+20", "+Inf", "NaN").
 *	metrics_write_textfile() writes the same text to path atomically
 *	(a temporary file in the same directory, fsync, rename, mode 0644) for
 *	node_exporter's textfile collector ("*.prom").
 *
 *	metrics_get() reads the value of one series (a histogram's count);
 *	metrics_foreach() calls fn for every series in exposition order, with
 *	the registry locked: fn must not call back into the registry. These
 *	are for alerts.c and tests.
 *
 *	The daemon's registry, metrics_new(), predefines mxledger's families
 *	(the table in metrics_daemon.c has their names, labels, help, caps and
 *	buckets; a METRICS section of mxledger(8) should copy it) and sets
 *	mxledger_build_info{version} to 1. Its helpers update them:
 *
 *	metrics_observe_event() counts one parsed event: events_total always;
 *	auth_failures_total for MX_EVENT_AUTH_FAILURE by protocol ("smtp" for
 *	smtpd; "imap", "pop3", "submission", "managesieve", "lmtp" from the
 *	Dovecot login service "imap-login" etc.; "other"), adding the
 *	event's attempts when Dovecot states them (a summary line of 3
 *	failed attempts counts 3), else 1 -- the auth process's lookup lines
 *	(MX_EVENT_AUTH_LOOKUP_FAILURE) are not counted again; proxy_errors_total
 *	and fatals_total by listener; connections_total by listener for
 *	every connection, and real_ip_lost_total for a connection on a
 *	proxied listener (ev->proxied == 1) whose client_ip is loopback
 *	(127.0.0.0/8, ::1) or lies in a proxy network set with
 *	metrics_set_proxy_networks() -- the ratio of the two is the share of
 *	lost addresses. A connection is an MX_EVENT_CONNECT (postscreen and
 *	smtpd each log one, so a connection that passes postscreen counts
 *	twice in both, as it does in events_total{event="connect"}), or, for
 *	a Dovecot login service, the one line that ends its login phase
 *	(auth_success, auth_failure, disconnect).
 *
 *	metrics_policy_request() counts one answered policy request by
 *	action (the action's first word, upper-cased: "DUNNO", "REJECT",
 *	"DEFER_IF_PERMIT", "450") and rule ("" when no rule matched), and
 *	observes its latency. metrics_input_lines() adds lines read and
 *	unrecognised on an input (its configured name); metrics_input_lag()
 *	sets how far the input is behind: at a line (or a batch) read, now
 *	minus that line's time. An idle input keeps its last value, so the
 *	gauge measures delay, not silence (lines_read_total not growing is
 *	the sign of silence). metrics_db_batch() observes one commit's duration and
 *	counts it as an error when failed != 0. metrics_counters_evicted()
 *	sets the total evictions of the policy counters (policy_get_stats()).
 *
 *	metrics_set_health() records why the daemon is unhealthy (NULL or ""
 *	= healthy; the text is copied, cut at METRICS_HEALTH_MAX);
 *	metrics_get_health() copies it to buf and returns 1 healthy, 0 not.
 *	metrics_http serves it at /healthz.
 * THREADS
 *	One mutex per registry: every function above may be called from any
 *	thread (the policy thread, the HTTP server's thread, the main loop).
 *	Family handles stay valid until metrics_free(); families are never
 *	removed. Contention is one short critical section per update.
 * RETURNS
 *	metrics_new(), metrics_registry_new(): NULL only for ENOMEM.
 *	Updates: 0; -E2BIG (series cap reached, update dropped and counted);
 *	-EINVAL (wrong type for the call, negative counter add, NaN, a label
 *	value missing); -ERANGE (counter set below its value); -ENOMEM.
 *	metrics_family_new(): 0; -EEXIST (name taken, *ret set to the existing
 *	family if its type and labels agree); -EINVAL (bad name, label, or
 *	buckets); -E2BIG (METRICS_FAMILIES_MAX); -ENOMEM.
 *	metrics_get(): 0, -ENOENT (no such series). metrics_format(),
 *	metrics_write_textfile(): 0 or -errno. metrics_set_proxy_networks():
 *	0, -EINVAL (a network that does not parse) or -E2BIG (more than
 *	METRICS_PROXY_NETS_MAX); on error nothing changed.
 *	The helpers of metrics_new() return -EINVAL on another registry.
 * OWNERSHIP
 *	metrics_format()'s buffer belongs to the caller (free(3)). Strings
 *	given to any function are copied.
 * SEE ALSO
 *	metrics_http.h (the endpoint), alerts.h (thresholds over a registry),
 *	https://prometheus.io/docs/instrumenting/exposition_formats/,
 *	tests/check_metrics.c
 */
#ifndef MX_METRICS_H
#define MX_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Label values longer than this (bytes) are cut: a listener or input name fits. */
#define METRICS_VALUE_MAX	128
/* events_total has three labels; a fourth is slack. */
#define METRICS_LABELS_MAX	4
#define METRICS_NAME_MAX	96
#define METRICS_HELP_MAX	512
#define METRICS_BUCKETS_MAX	24
/* A registry holds at most this many families: ours are 16. */
#define METRICS_FAMILIES_MAX	64
/*
 * Series per family unless the definition says otherwise. A scrape of
 * 256 series of 3 labels is ~50 KiB; Prometheus' own guidance is to keep
 * a family in the hundreds.
 */
#define METRICS_SERIES_DEFAULT	256
/*
 * events_total{daemon,event,listener}: ~35 event kinds times the
 * daemons and listeners of a large installation (a dozen listeners).
 */
#define METRICS_EVENTS_SERIES_MAX	2048
/* Proxy networks for real_ip_lost_total, besides loopback. */
#define METRICS_PROXY_NETS_MAX	64
#define METRICS_HEALTH_MAX	256

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

struct metrics_def {
	enum metrics_type type;
	const char *name;		/* [a-zA-Z_:][a-zA-Z0-9_:]* */
	const char *help;
	const char *labels[METRICS_LABELS_MAX + 1];	/* NULL-terminated; no "le", no "__x" */
	unsigned max_series;		/* 0: METRICS_SERIES_DEFAULT */
	const double *buckets;		/* histogram: finite upper bounds, ascending */
	size_t n_buckets;		/* 1..METRICS_BUCKETS_MAX */
};

/* One series as metrics_foreach() shows it. */
struct metrics_sample {
	const char *const *values;	/* the label values, n_labels of them */
	size_t n_labels;
	double value;			/* counter, gauge */
	uint64_t count;			/* histogram: observations */
	double sum;
	const uint64_t *cumulative;	/* histogram: per finite bucket, cumulative */
	const double *bounds;		/* ... and its upper bounds */
	size_t n_buckets;
};

typedef void (*metrics_visit_fn)(void *ud, const struct metrics_sample *s);

struct metrics;
struct metrics_family;

struct metrics *metrics_registry_new(void);
struct metrics *metrics_new(const char *version);
struct metrics *metrics_free(struct metrics *m);

int metrics_family_new(struct metrics *m, const struct metrics_def *def,
    struct metrics_family **ret);
struct metrics_family *metrics_family_find(struct metrics *m, const char *name);
enum metrics_type metrics_family_type(const struct metrics_family *f);
/* index of a label name in the family's schema, or -ENOENT */
int metrics_family_label(const struct metrics_family *f, const char *label);

int metrics_add(struct metrics_family *f, const char *const *values, double v);
int metrics_set(struct metrics_family *f, const char *const *values, double v);
int metrics_observe(struct metrics_family *f, const char *const *values, double v);
int metrics_get(struct metrics_family *f, const char *const *values, double *ret);
int metrics_foreach(struct metrics_family *f, metrics_visit_fn fn, void *ud);

int metrics_format(struct metrics *m, char **ret_buf, size_t *ret_len);
int metrics_write_textfile(struct metrics *m, const char *path);

int metrics_set_proxy_networks(struct metrics *m, const char *const *cidrs, size_t n);
int metrics_observe_event(struct metrics *m, const struct mx_event *ev);
int metrics_policy_request(struct metrics *m, const char *action, const char *rule,
    double seconds);
int metrics_input_lines(struct metrics *m, const char *input, uint64_t read,
    uint64_t unrecognised);
int metrics_input_lag(struct metrics *m, const char *input, double seconds);
int metrics_db_batch(struct metrics *m, double seconds, int failed);
int metrics_counters_evicted(struct metrics *m, uint64_t total);
/* What the CrowdSec client (crowdsec.c) publishes each round: totals, not increments. */
struct metrics_crowdsec {
	uint64_t bans, captchas, others;	/* decisions held, by type */
	double last_sync;			/* UNIX time of the last good pull; 0 = never */
	int stale;
	uint64_t syncs_ok, syncs_failed;
	uint64_t alerts_pushed, alerts_failed, alerts_suppressed, alerts_dropped;
};
int metrics_crowdsec(struct metrics *m, const struct metrics_crowdsec *cs);
void metrics_set_health(struct metrics *m, const char *reason);
int metrics_get_health(struct metrics *m, char *buf, size_t size);

#endif
