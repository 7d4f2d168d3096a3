/*
 * NAME
 *	crowdsec - the CrowdSec Local API client: bouncer and watcher
 * SYNOPSIS
 *	#include "crowdsec.h"
 *
 *	int crowdsec_new(const struct mx_crowdsec_conf *conf, struct metrics *m,
 *	    struct crowdsec **ret);
 *	int crowdsec_start(struct crowdsec *cs);
 *	struct crowdsec *crowdsec_free(struct crowdsec *cs);
 *	int crowdsec_sync(struct crowdsec *cs);
 *	int crowdsec_lookup(void *cs, int family, const unsigned char *addr,
 *	    int64_t now_usec, struct rules_cs_match *ret);
 *	int crowdsec_alert(struct crowdsec *cs, const char *ip, const char *scenario,
 *	    const char *type, int64_t duration_usec, const char *message);
 *	void crowdsec_get_stats(struct crowdsec *cs, struct crowdsec_stats *ret);
 *	int crowdsec_query(const struct mx_crowdsec_conf *conf, const char *ip,
 *	    struct crowdsec_stream *ret, char *err, size_t err_size);
 * DESCRIPTION
 *	Bouncer side. CrowdSec is the ban store; mxledger asks it instead of
 *	keeping bans of its own. crowdsec_start() starts one thread that pulls
 *	GET /v1/decisions/stream (header X-Api-Key) every interval: the first
 *	pull, and the first after any failure, with startup=true (every active
 *	decision: the set is rebuilt aside and swapped in whole), the others
 *	incrementally (new decisions added, deleted ones removed by id, a few
 *	hundred at a time under the lock so a lookup never waits long).
 *	Expired decisions are dropped every round whatever the LAPI says.
 *	crowdsec_lookup() is a rules_cs_lookup_fn (rules.h): the decisions
 *	covering an address, strongest first, from memory, under a mutex the
 *	writer holds only briefly; it never waits on the network.
 *
 *	When the LAPI is unreachable, slow (timeout) or answers garbage, the
 *	last known set stays in use (minus what expires), the failure is
 *	logged once, again when the set turns stale (no good pull for
 *	stale-after) and every 10 minutes while it lasts, and once when the
 *	LAPI is back; metrics show it (mxledger_crowdsec_*). Nothing is ever
 *	retried faster than the interval.
 *
 *	Watcher side (a watcher block): crowdsec_alert() queues a finding --
 *	a rule with crowdsec-alert decided against ip, or a PROXY protocol
 *	error -- without blocking (at most CROWDSEC_ALERTS_QUEUED wait; more
 *	are dropped and counted). The thread logs in (POST /v1/watchers/login,
 *	again on 401 or when the token nears its expiry) and POSTs the queued
 *	alerts to /v1/alerts in one body. A finding is not pushed again for
 *	the same address and scenario while the decision it asked for lasts
 *	(an hour for alerts without decision), nor when the set already holds
 *	a ban for the address (CrowdSec bans it already): both count as
 *	suppressed. Alerts that fail to post stay queued for the next round.
 *
 *	crowdsec_sync() does one startup pull at once, in the caller's thread
 *	(for `mxledger policy-test`, before its one decision, and for tests).
 *	crowdsec_query() asks GET /v1/decisions?ip= once, for `mxledger report
 *	ip` (every decision covering the address, no thread, no set).
 *
 *	Without libcurl and json-c (configure --without-crowdsec) everything
 *	returns -EOPNOTSUPP and the configuration refuses a crowdsec block.
 * RETURNS
 *	0 or -errno: -EOPNOTSUPP (not built in), -ENOMEM, -EIO (HTTP failed:
 *	err says why), -EACCES (403/401: the key or password), -EBADMSG (not
 *	the JSON expected). crowdsec_lookup(): 0 (also when nothing covers the
 *	address). crowdsec_alert(): 0 queued, 1 suppressed, -ENOBUFS dropped.
 * OWNERSHIP
 *	conf is copied. crowdsec_free() stops the thread and frees everything.
 *	The thread only reads m (thread-safe).
 * SEE ALSO
 *	crowdsec_set.h, crowdsec_lapi.h, rules.h (crowdsec conditions),
 *	mxledger.conf(5) CROWDSEC, contrib/crowdsec/
 */
#ifndef MX_CROWDSEC_H
#define MX_CROWDSEC_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "crowdsec_lapi.h"
#include "metrics.h"
#include "rules.h"

/* Findings waiting to be posted. */
#define CROWDSEC_ALERTS_QUEUED	256
/* Findings remembered for suppressing repeats. */
#define CROWDSEC_PUSHED_KEPT	4096
/* Largest LAPI answer read (a startup pull with the community blocklist is ~10 MB). */
#define CROWDSEC_BODY_MAX	(256u << 20)

struct crowdsec_stats {
	size_t decisions;		/* held now */
	size_t bans, captchas;		/* of them */
	int64_t last_ok_usec;		/* CLOCK_REALTIME of the last good pull, 0 = never */
	int stale;			/* no good pull for stale-after (or never) */
	uint64_t syncs_ok, syncs_failed;
	uint64_t alerts_pushed, alerts_failed, alerts_suppressed, alerts_dropped;
	char last_error[256];		/* "" when the last pull was good */
};

struct crowdsec;

int crowdsec_new(const struct mx_crowdsec_conf *conf, struct metrics *m, struct crowdsec **ret);
int crowdsec_start(struct crowdsec *cs);
struct crowdsec *crowdsec_free(struct crowdsec *cs);
int crowdsec_sync(struct crowdsec *cs);
int crowdsec_lookup(void *cs, int family, const unsigned char *addr, int64_t now_usec,
    struct rules_cs_match *ret);
int crowdsec_alert(struct crowdsec *cs, const char *ip, const char *scenario, const char *type,
    int64_t duration_usec, const char *message);
void crowdsec_get_stats(struct crowdsec *cs, struct crowdsec_stats *ret);
int crowdsec_query(const struct mx_crowdsec_conf *conf, const char *ip,
    struct crowdsec_stream *ret, char *err, size_t err_size);

#endif
