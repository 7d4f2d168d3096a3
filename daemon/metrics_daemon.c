/*
 * NAME
 *	metrics_daemon - mxledger's metric families and the helpers that feed them
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	m = metrics_new(PACKAGE_VERSION);
 *	metrics_set_proxy_networks(m, (const char *[]){ "10.0.0.0/8" }, 1);
 *	metrics_observe_event(m, ev);
 *	metrics_policy_request(m, "REJECT 5.7.1 too many failures", "authfail", 0.00012);
 * DESCRIPTION
 *	The table metrics_daemon_defs[] is the list of families (and the one
 *	place their names, help texts, labels, caps and buckets are written);
 *	the helpers translate what the daemon knows (an event, a policy
 *	answer, a commit) into updates, each taking the registry lock once.
 * SEE ALSO
 *	metrics.h (the contract), metrics.c (the registry), event.h
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "metrics.h"
#include "metrics_impl.h"

/* Policy answers take ~0.1 ms in memory; a slow one waits on a lock or the disk. */
static const double metrics_policy_buckets[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
};
/* A batch of 2000 events commits in a few ms on an SSD; seconds mean trouble. */
static const double metrics_db_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

#define METRICS_DEF(f, t, n, h, ...)	\
	{ offsetof(struct metrics_daemon, f), { .type = (t), .name = (n), .help = (h), __VA_ARGS__ } }

static const struct {
	size_t offset;
	struct metrics_def def;
} metrics_daemon_defs[] = {
	METRICS_DEF(build_info, METRICS_GAUGE, "mxledger_build_info",
	    "Always 1; the version label is the running mxledger's.",
	    .labels = { "version" }, .max_series = 1),
	METRICS_DEF(events, METRICS_COUNTER, "mxledger_events_total",
	    "Events recognised in the mail logs, by daemon, event kind and listener.",
	    .labels = { "daemon", "event", "listener" }, .max_series = METRICS_EVENTS_SERIES_MAX),
	METRICS_DEF(auth_failures, METRICS_COUNTER, "mxledger_auth_failures_total",
	    "Failed authentication attempts, by protocol (smtp, imap, pop3, submission, "
	    "managesieve, lmtp, other).",
	    .labels = { "protocol" }, .max_series = 16),
	METRICS_DEF(policy_requests, METRICS_COUNTER, "mxledger_policy_requests_total",
	    "Policy requests answered, by action word and deciding rule (empty when no rule "
	    "matched).",
	    .labels = { "action", "rule" }, .max_series = 512),
	METRICS_DEF(policy_latency, METRICS_HISTOGRAM, "mxledger_policy_latency_seconds",
	    "Time taken to decide one policy request.",
	    .buckets = metrics_policy_buckets,
	    .n_buckets = sizeof(metrics_policy_buckets) / sizeof(double)),
	METRICS_DEF(lines_read, METRICS_COUNTER, "mxledger_lines_read_total",
	    "Log lines read, by input.", .labels = { "input" }),
	METRICS_DEF(lines_unrecognised, METRICS_COUNTER, "mxledger_lines_unrecognised_total",
	    "Lines of a daemon mxledger parses that no parser recognised, by input.",
	    .labels = { "input" }),
	METRICS_DEF(ingest_lag, METRICS_GAUGE, "mxledger_ingest_lag_seconds",
	    "Seconds between now and the time of the newest line read, by input.",
	    .labels = { "input" }),
	METRICS_DEF(db_batch, METRICS_HISTOGRAM, "mxledger_db_batch_seconds",
	    "Time taken to commit one batch of events to the database.",
	    .buckets = metrics_db_buckets,
	    .n_buckets = sizeof(metrics_db_buckets) / sizeof(double)),
	METRICS_DEF(db_errors, METRICS_COUNTER, "mxledger_db_errors_total",
	    "Database commits that failed."),
	METRICS_DEF(proxy_errors, METRICS_COUNTER, "mxledger_proxy_errors_total",
	    "PROXY protocol errors (haproxy read errors, bad or missing headers), by listener.",
	    .labels = { "listener" }),
	METRICS_DEF(fatals, METRICS_COUNTER, "mxledger_fatals_total",
	    "Fatal and panic messages of mail daemons, by listener.", .labels = { "listener" }),
	METRICS_DEF(connections, METRICS_COUNTER, "mxledger_connections_total",
	    "Client connections, by listener: smtpd and postscreen connects, and the one line "
	    "ending a Dovecot login.", .labels = { "listener" }),
	METRICS_DEF(real_ip_lost, METRICS_COUNTER, "mxledger_real_ip_lost_total",
	    "Connections on a proxied listener whose client address is loopback or a proxy "
	    "network: the real client address was lost.",
	    .labels = { "listener" }),
	METRICS_DEF(counters_evicted, METRICS_COUNTER, "mxledger_counters_evicted_total",
	    "Policy counter keys evicted to stay under the counters' memory cap, and mail "
	    "transactions displaced from the instance table within an hour of their last use."),
	METRICS_DEF(cs_decisions, METRICS_GAUGE, "mxledger_crowdsec_decisions",
	    "CrowdSec decisions held for policy answers, by type (ban, captcha, other).",
	    .labels = { "type" }, .max_series = 3),
	METRICS_DEF(cs_last_sync, METRICS_GAUGE, "mxledger_crowdsec_last_sync_timestamp_seconds",
	    "When decisions were last pulled from the CrowdSec LAPI successfully (0: never)."),
	METRICS_DEF(cs_stale, METRICS_GAUGE, "mxledger_crowdsec_stale",
	    "1 while the CrowdSec decisions are stale: no good pull for stale-after."),
	METRICS_DEF(cs_syncs, METRICS_COUNTER, "mxledger_crowdsec_syncs_total",
	    "Pulls of the CrowdSec decision stream, by result (ok, error).",
	    .labels = { "result" }, .max_series = 2),
	METRICS_DEF(cs_alerts, METRICS_COUNTER, "mxledger_crowdsec_alerts_total",
	    "Findings for CrowdSec's watcher API, by result (pushed; suppressed: already "
	    "pushed or banned; dropped: queue full; failed: given up after an hour).",
	    .labels = { "result" }, .max_series = 4),
};

/* metrics_new - a registry with mxledger's families; build_info set for version */
struct metrics *
metrics_new(const char *version)
{
	const char *v[] = { version != NULL ? version : "" };
	struct metrics *m;
	size_t i;

	if ((m = metrics_registry_new()) == NULL)
		return NULL;
	for (i = 0; i < sizeof(metrics_daemon_defs) / sizeof(metrics_daemon_defs[0]); i++) {
		struct metrics_family **slot =
		    (struct metrics_family **)((char *)&m->d + metrics_daemon_defs[i].offset);

		if (metrics_family_new(m, &metrics_daemon_defs[i].def, slot) < 0)
			return metrics_free(m);
	}
	if (metrics_set(m->d.build_info, v, 1) < 0)
		return metrics_free(m);
	return m;
}

/* metrics_net_parse - "ADDR" or "ADDR/LEN", masked */
static int
metrics_net_parse(const char *s, struct metrics_net *ret)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long len;
	size_t i;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, ret->a) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, ret->a) == 1)
		ret->family = AF_INET6;
	else
		return -EINVAL;
	ret->len = ret->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || !isdigit((unsigned char)slash[1]) ||
		    len > ret->len)
			return -EINVAL;
		ret->len = (unsigned)len;
	}
	for (i = 0; i < 16; i++) {
		unsigned bits = ret->len > i * 8 ? ret->len - i * 8 : 0;

		if (bits < 8)
			ret->a[i] &= (unsigned char)(0xff00 >> bits);
	}
	return 0;
}

static int
metrics_net_match(const struct metrics_net *n, int family, const unsigned char *a)
{
	unsigned full = n->len / 8, rest = n->len % 8;

	if (n->family != family || memcmp(n->a, a, full) != 0)
		return 0;
	return rest == 0 || (a[full] & (0xff00 >> rest)) == n->a[full];
}

/* metrics_set_proxy_networks - replace the proxy networks (loopback is always one) */
int
metrics_set_proxy_networks(struct metrics *m, const char *const *cidrs, size_t n)
{
	struct metrics_net nets[METRICS_PROXY_NETS_MAX];
	size_t i;

	if (n > METRICS_PROXY_NETS_MAX)
		return -E2BIG;
	for (i = 0; i < n; i++)
		if (metrics_net_parse(cidrs[i], &nets[i]) < 0)
			return -EINVAL;
	pthread_mutex_lock(&m->lock);
	memcpy(m->nets, nets, n * sizeof(nets[0]));
	m->n_nets = n;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* metrics_ip_is_proxy - client_ip is loopback or in a proxy network (lock held) */
static int
metrics_ip_is_proxy(const struct metrics *m, const char *ip)
{
	unsigned char a[16];
	int family;
	size_t i;

	if (ip == NULL)
		return 0;
	if (inet_pton(AF_INET, ip, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, ip, a) == 1)
		family = AF_INET6;
	else
		return 0;
	if (family == AF_INET && a[0] == 127)
		return 1;
	if (family == AF_INET6 && memcmp(a, &in6addr_loopback, 16) == 0)
		return 1;
	for (i = 0; i < m->n_nets; i++)
		if (metrics_net_match(&m->nets[i], family, a))
			return 1;
	return 0;
}

/* metrics_dovecot_protocol - "imap" for "imap-login", NULL for anything else */
static const char *
metrics_dovecot_protocol(const char *listener)
{
	static const char *const known[] = {
		"imap", "pop3", "submission", "managesieve", "lmtp",
	};
	size_t i, len;

	if (listener == NULL)
		return NULL;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		len = strlen(known[i]);
		if (strncmp(listener, known[i], len) == 0 && strcmp(listener + len, "-login") == 0)
			return known[i];
	}
	return NULL;
}

static int
metrics_is_dovecot_login(const struct mx_event *ev)
{
	size_t len;

	if (ev->daemon == NULL || strcmp(ev->daemon, "dovecot") != 0 || ev->listener == NULL)
		return 0;
	len = strlen(ev->listener);
	return len > 6 && strcmp(ev->listener + len - 6, "-login") == 0;
}

/* metrics_event_protocol - the protocol label of an auth failure */
static const char *
metrics_event_protocol(const struct mx_event *ev)
{
	const char *p;

	if (ev->daemon != NULL && strcmp(ev->daemon, "smtpd") == 0)
		return "smtp";
	if (ev->daemon != NULL && strcmp(ev->daemon, "dovecot") == 0 &&
	    (p = metrics_dovecot_protocol(ev->listener)) != NULL)
		return p;
	return "other";
}

/* metrics_is_connection - the one line per connection: connections_total, real_ip_lost */
static int
metrics_is_connection(const struct mx_event *ev)
{
	if (ev->kind == MX_EVENT_CONNECT)
		return 1;
	return metrics_is_dovecot_login(ev) && (ev->kind == MX_EVENT_AUTH_SUCCESS ||
	    ev->kind == MX_EVENT_AUTH_FAILURE || ev->kind == MX_EVENT_DISCONNECT);
}

/* metrics_observe_event - count one parsed event in the event-derived families */
int
metrics_observe_event(struct metrics *m, const struct mx_event *ev)
{
	const char *listener = ev->listener != NULL ? ev->listener : "";
	const char *ev_labels[] = {
		ev->daemon != NULL ? ev->daemon : "", event_kind_name(ev->kind), listener,
	};
	const char *l[] = { listener };
	const char *proto[1];
	int r = 0, r2 = 0;

	if (m->d.events == NULL || ev->kind == MX_EVENT_NONE || ev->kind >= MX_EVENT__MAX)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	r = metrics_update_locked(m->d.events, ev_labels, METRICS_OP_ADD, 1);
	switch (ev->kind) {
	case MX_EVENT_AUTH_FAILURE:
		proto[0] = metrics_event_protocol(ev);
		r2 = metrics_update_locked(m->d.auth_failures, proto, METRICS_OP_ADD,
		    ev->attempts > 0 ? ev->attempts : 1);
		break;
	case MX_EVENT_PROXY_ERROR:
		r2 = metrics_update_locked(m->d.proxy_errors, l, METRICS_OP_ADD, 1);
		break;
	case MX_EVENT_FATAL:
		r2 = metrics_update_locked(m->d.fatals, l, METRICS_OP_ADD, 1);
		break;
	default:
		break;
	}
	if (r == 0)
		r = r2;
	if (metrics_is_connection(ev)) {
		if ((r2 = metrics_update_locked(m->d.connections, l, METRICS_OP_ADD, 1)) < 0 &&
		    r == 0)
			r = r2;
		if (ev->proxied == 1 && metrics_ip_is_proxy(m, ev->client_ip) &&
		    (r2 = metrics_update_locked(m->d.real_ip_lost, l, METRICS_OP_ADD, 1)) < 0 &&
		    r == 0)
			r = r2;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* metrics_action_word - "DEFER_IF_PERMIT" from "defer_if_permit Service unavailable" */
static void
metrics_action_word(const char *action, char *buf, size_t size)
{
	size_t i;

	for (i = 0; action != NULL && action[i] != '\0' && action[i] != ' ' &&
	    action[i] != '\t' && i + 1 < size; i++)
		buf[i] = (char)toupper((unsigned char)action[i]);
	buf[i] = '\0';
}

/* metrics_policy_request - count one answered request and its latency */
int
metrics_policy_request(struct metrics *m, const char *action, const char *rule,
    double seconds)
{
	char word[64];
	const char *labels[] = { word, rule != NULL ? rule : "" };
	int r, r2;

	if (m->d.policy_requests == NULL)
		return -EINVAL;
	metrics_action_word(action, word, sizeof(word));
	pthread_mutex_lock(&m->lock);
	r = metrics_update_locked(m->d.policy_requests, labels, METRICS_OP_ADD, 1);
	r2 = metrics_update_locked(m->d.policy_latency, NULL, METRICS_OP_OBSERVE, seconds);
	pthread_mutex_unlock(&m->lock);
	return r < 0 ? r : r2;
}

/* metrics_input_lines - add lines read and unrecognised on an input */
int
metrics_input_lines(struct metrics *m, const char *input, uint64_t read,
    uint64_t unrecognised)
{
	const char *l[] = { input != NULL ? input : "" };
	int r, r2 = 0;

	if (m->d.lines_read == NULL)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	r = metrics_update_locked(m->d.lines_read, l, METRICS_OP_ADD, (double)read);
	if (unrecognised > 0)
		r2 = metrics_update_locked(m->d.lines_unrecognised, l, METRICS_OP_ADD,
		    (double)unrecognised);
	pthread_mutex_unlock(&m->lock);
	return r < 0 ? r : r2;
}

/* metrics_input_lag - how far an input is behind, in seconds */
int
metrics_input_lag(struct metrics *m, const char *input, double seconds)
{
	const char *l[] = { input != NULL ? input : "" };

	return metrics_set(m->d.ingest_lag, l, seconds);
}

/* metrics_db_batch - one commit's duration, and whether it failed */
int
metrics_db_batch(struct metrics *m, double seconds, int failed)
{
	int r, r2 = 0;

	if (m->d.db_batch == NULL)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	r = metrics_update_locked(m->d.db_batch, NULL, METRICS_OP_OBSERVE, seconds);
	if (failed)
		r2 = metrics_update_locked(m->d.db_errors, NULL, METRICS_OP_ADD, 1);
	pthread_mutex_unlock(&m->lock);
	return r < 0 ? r : r2;
}

/* metrics_counters_evicted - the policy counters' total evictions */
int
metrics_counters_evicted(struct metrics *m, uint64_t total)
{
	return metrics_set(m->d.counters_evicted, NULL, (double)total);
}

/* metrics_crowdsec - the CrowdSec client's totals */
int
metrics_crowdsec(struct metrics *m, const struct metrics_crowdsec *cs)
{
	static const char *const types[] = { "ban", "captcha", "other" };
	static const char *const syncs[] = { "ok", "error" };
	static const char *const alerts[] = { "pushed", "suppressed", "dropped", "failed" };
	const uint64_t held[] = { cs->bans, cs->captchas, cs->others };
	const uint64_t sy[] = { cs->syncs_ok, cs->syncs_failed };
	const uint64_t al[] = { cs->alerts_pushed, cs->alerts_suppressed, cs->alerts_dropped,
	    cs->alerts_failed };
	int r = 0;

	for (size_t i = 0; i < 3; i++)
		r |= metrics_set(m->d.cs_decisions, &types[i], (double)held[i]);
	for (size_t i = 0; i < 2; i++)
		r |= metrics_set(m->d.cs_syncs, &syncs[i], (double)sy[i]);
	for (size_t i = 0; i < 4; i++)
		r |= metrics_set(m->d.cs_alerts, &alerts[i], (double)al[i]);
	r |= metrics_set(m->d.cs_last_sync, NULL, cs->last_sync);
	r |= metrics_set(m->d.cs_stale, NULL, cs->stale ? 1 : 0);
	return r < 0 ? -EINVAL : 0;
}

/* metrics_set_health - NULL or "" healthy; else why not */
void
metrics_set_health(struct metrics *m, const char *reason)
{
	pthread_mutex_lock(&m->lock);
	snprintf(m->health, sizeof(m->health), "%s", reason != NULL ? reason : "");
	pthread_mutex_unlock(&m->lock);
}

/* metrics_get_health - 1 healthy, 0 not (the reason copied to buf) */
int
metrics_get_health(struct metrics *m, char *buf, size_t size)
{
	int ok;

	pthread_mutex_lock(&m->lock);
	ok = m->health[0] == '\0';
	if (size > 0)
		snprintf(buf, size, "%s", m->health);
	pthread_mutex_unlock(&m->lock);
	return ok;
}
