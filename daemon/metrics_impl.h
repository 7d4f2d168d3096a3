/*
 * NAME
 *	metrics_impl - the registry's insides, shared by metrics.c and metrics_daemon.c
 * SYNOPSIS
 *	#include "metrics_impl.h"
 *
 *	int metrics_update_locked(struct metrics_family *f, const char *const *values,
 *	    enum metrics_op op, double v);
 * DESCRIPTION
 *	metrics_update_locked() is metrics_add()/metrics_set()/metrics_observe()
 *	for a caller that already holds m->lock (metrics_daemon.c updates
 *	several families for one event under one lock).
 */
#ifndef MX_METRICS_IMPL_H
#define MX_METRICS_IMPL_H

#include <pthread.h>

#include "metrics.h"

enum metrics_op {
	METRICS_OP_ADD,
	METRICS_OP_SET,
	METRICS_OP_OBSERVE,
};

struct metrics_series {
	double value;			/* counter, gauge */
	double sum;			/* histogram */
	uint64_t count;
	uint64_t *buckets;		/* per finite bucket, not cumulative */
	char *values[METRICS_LABELS_MAX];
	/* bucket counts, then the label strings, follow in the same allocation */
};

struct metrics_family {
	struct metrics *m;
	enum metrics_type type;
	char name[METRICS_NAME_MAX];
	char *help;
	char *labels[METRICS_LABELS_MAX];
	size_t n_labels;
	double bounds[METRICS_BUCKETS_MAX];
	size_t n_buckets;
	unsigned max_series;
	struct metrics_series **series;	/* sorted by label values */
	size_t n_series, alloc;
};

/* A proxy network: family, prefix length, address masked to it. */
struct metrics_net {
	int family;
	unsigned len;
	unsigned char a[16];
};

/* The mxledger families of metrics_new(); all NULL in a plain registry. */
struct metrics_daemon {
	struct metrics_family *build_info, *events, *auth_failures;
	struct metrics_family *policy_requests, *policy_latency;
	struct metrics_family *lines_read, *lines_unrecognised, *ingest_lag;
	struct metrics_family *db_batch, *db_errors;
	struct metrics_family *proxy_errors, *fatals, *connections, *real_ip_lost;
	struct metrics_family *counters_evicted;
	struct metrics_family *cs_decisions, *cs_last_sync, *cs_stale, *cs_syncs, *cs_alerts;
};

struct metrics {
	pthread_mutex_t lock;
	struct metrics_family *families[METRICS_FAMILIES_MAX];	/* sorted by name */
	size_t n_families;
	struct metrics_family *dropped;
	struct metrics_daemon d;
	struct metrics_net nets[METRICS_PROXY_NETS_MAX];
	size_t n_nets;
	char health[METRICS_HEALTH_MAX];	/* "" = healthy */
};

int metrics_update_locked(struct metrics_family *f, const char *const *values,
    enum metrics_op op, double v);

#endif
