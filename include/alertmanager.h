/*
 * NAME
 *	alertmanager - POST alerts to Alertmanager's v2 API (libcurl, json-c)
 * SYNOPSIS
 *	#include "alertmanager.h"
 *
 *	int alertmanager_new(const char *url, int64_t timeout_usec, struct alertmanager **ret);
 *	struct alertmanager *alertmanager_free(struct alertmanager *am);
 *	int alertmanager_json(const struct alertmanager_alert *al, size_t n, char **ret);
 *	int alertmanager_post(struct alertmanager *am, const struct alertmanager_alert *al,
 *	    size_t n);
 *	int alertmanager_drain(struct alertmanager *am, int64_t timeout_usec);
 *	void alertmanager_get_stats(struct alertmanager *am, struct alertmanager_stats *ret);
 * DESCRIPTION
 *	alertmanager_json() renders alerts as the body of POST /api/v2/alerts:
 *
 *	  [{"labels":{"alertname":"...",...},"annotations":{"summary":"...",...},
 *	    "startsAt":"2026-11-22T01:02:03.000000Z","endsAt":"..."}]
 *
 *	labels and annotations in the order given, times in RFC 3339 UTC
 *	(endsAt left out when 0). alertmanager_post() renders and queues one
 *	body for the sender thread, which POSTs it to url + "/api/v2/alerts"
 *	(unless url already ends so) with Content-Type application/json and
 *	a timeout of timeout_usec (0: 5 s). A body that fails (connection
 *	refused, timeout, status other than 2xx) is counted and dropped, not
 *	retried: alerts.c re-sends firing alerts with a short endsAt anyway.
 *	At most ALERTMANAGER_QUEUE bodies wait; posting to a full queue drops
 *	the oldest (counted). alertmanager_drain() waits until the queue is
 *	empty and no POST is in flight.
 *
 *	Proxies: libcurl's http_proxy/https_proxy/no_proxy environment is
 *	honoured, as for any HTTP client.
 * RETURNS
 *	alertmanager_new(): 0; -EINVAL (url not http:// or https://);
 *	-EOPNOTSUPP (built without libcurl); -ENOMEM; -errno of
 *	pthread_create(). alertmanager_json(), alertmanager_post(): 0 or
 *	-ENOMEM (-EOPNOTSUPP without libcurl). alertmanager_drain(): 0 or
 *	-ETIMEDOUT.
 * OWNERSHIP
 *	alertmanager_json()'s string is the caller's (free(3)). Everything
 *	given to alertmanager_post() is copied. alertmanager_free() stops the
 *	thread after the POST in flight (at most the timeout), drops the
 *	queue and returns NULL.
 * SEE ALSO
 *	alerts.h, https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml,
 *	tests/check_alerts.c
 */
#ifndef MX_ALERTMANAGER_H
#define MX_ALERTMANAGER_H

#include <stddef.h>
#include <stdint.h>

/* Bodies waiting: one per evaluation; Alertmanager down for a minute or two. */
#define ALERTMANAGER_QUEUE	16
#define ALERTMANAGER_TIMEOUT_DEFAULT	(5 * INT64_C(1000000))

struct alertmanager_alert {
	const char *const *labels;	/* name, value, name, value, ..., NULL */
	const char *const *annotations;	/* likewise */
	int64_t starts_usec;
	int64_t ends_usec;		/* 0: not sent */
};

struct alertmanager_stats {
	uint64_t sent, failed, dropped;
};

struct alertmanager;

int alertmanager_new(const char *url, int64_t timeout_usec, struct alertmanager **ret);
struct alertmanager *alertmanager_free(struct alertmanager *am);
int alertmanager_json(const struct alertmanager_alert *al, size_t n, char **ret);
int alertmanager_post(struct alertmanager *am, const struct alertmanager_alert *al, size_t n);
int alertmanager_drain(struct alertmanager *am, int64_t timeout_usec);
void alertmanager_get_stats(struct alertmanager *am, struct alertmanager_stats *ret);

#endif
