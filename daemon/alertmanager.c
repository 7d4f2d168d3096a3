/*
 * NAME
 *	alertmanager - POST alerts to Alertmanager's v2 API (libcurl, json-c)
 * SYNOPSIS
 *	#include "alertmanager.h"
 *
 *	alertmanager_new("http://127.0.0.1:9093", 0, &am);
 *	alertmanager_post(am, alerts, n);
 *	am = alertmanager_free(am);
 * DESCRIPTION
 *	Bodies are rendered on the caller's thread (json-c) and queued in a
 *	small ring; one sender thread owns the curl handle and POSTs them in
 *	order, so the main loop never waits on the network. Failures are
 *	logged once when they start and once when they stop, not per POST.
 *
 *	Without libcurl and json-c (configure --without-libcurl) the
 *	functions exist and say -EOPNOTSUPP.
 * SEE ALSO
 *	alertmanager.h (the contract), alerts.c
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alertmanager.h"

#ifdef HAVE_LIBCURL

#include <pthread.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "event.h"
#include "log.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

#define ALERTMANAGER_PATH	"/api/v2/alerts"

struct alertmanager {
	char *url;
	long timeout_ms;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* work queued, or stop */
	pthread_cond_t idle;		/* a POST finished */
	char *queue[ALERTMANAGER_QUEUE];
	size_t head, n;
	int busy, stop;
	int failing;			/* last POST failed (sender thread only) */
	struct alertmanager_stats stats;
};

static void *alertmanager_thread(void *arg);

static pthread_once_t alertmanager_once = PTHREAD_ONCE_INIT;

static void
alertmanager_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* alertmanager_url - url, with /api/v2/alerts appended unless it is there */
static char *
alertmanager_url(const char *url)
{
	size_t len = strlen(url), plen = strlen(ALERTMANAGER_PATH);
	char *s;

	while (len > 0 && url[len - 1] == '/')
		len--;
	if (len >= plen && memcmp(url + len - plen, ALERTMANAGER_PATH, plen) == 0)
		plen = 0;
	if ((s = malloc(len + plen + 1)) == NULL)
		return NULL;
	memcpy(s, url, len);
	memcpy(s + len, ALERTMANAGER_PATH, plen);
	s[len + plen] = '\0';
	return s;
}

/* alertmanager_new - a client for url, with its sender thread started */
int
alertmanager_new(const char *url, int64_t timeout_usec, struct alertmanager **ret)
{
	struct alertmanager *am;
	pthread_condattr_t ca;
	int r;

	if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return -EINVAL;
	pthread_once(&alertmanager_once, alertmanager_global_init);
	if ((am = calloc(1, sizeof(*am))) == NULL)
		return -ENOMEM;
	if ((am->url = alertmanager_url(url)) == NULL) {
		free(am);
		return -ENOMEM;
	}
	if (timeout_usec <= 0)
		timeout_usec = ALERTMANAGER_TIMEOUT_DEFAULT;
	am->timeout_ms = (long)(timeout_usec / 1000);
	pthread_mutex_init(&am->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&am->wake, &ca);
	pthread_cond_init(&am->idle, &ca);
	pthread_condattr_destroy(&ca);
	if ((r = pthread_create(&am->thread, NULL, alertmanager_thread, am)) != 0) {
		alertmanager_free(am);
		return -r;
	}
	am->started = 1;
	*ret = am;
	return 0;
}

/* alertmanager_free - stop the sender, drop the queue; returns NULL */
struct alertmanager *
alertmanager_free(struct alertmanager *am)
{
	if (am == NULL)
		return NULL;
	if (am->started) {
		pthread_mutex_lock(&am->lock);
		am->stop = 1;
		pthread_cond_signal(&am->wake);
		pthread_mutex_unlock(&am->lock);
		pthread_join(am->thread, NULL);
	}
	while (am->n > 0) {
		free(am->queue[am->head]);
		am->head = (am->head + 1) % ALERTMANAGER_QUEUE;
		am->n--;
	}
	pthread_cond_destroy(&am->wake);
	pthread_cond_destroy(&am->idle);
	pthread_mutex_destroy(&am->lock);
	free(am->url);
	free(am);
	return NULL;
}

/* alertmanager_pairs - an object of name/value pairs; NULL on ENOMEM */
static json_object *
alertmanager_pairs(const char *const *kv)
{
	json_object *o, *v;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (; kv != NULL && kv[0] != NULL; kv += 2) {
		if ((v = json_object_new_string(kv[1] != NULL ? kv[1] : "")) == NULL ||
		    json_object_object_add(o, kv[0], v) < 0) {
			json_object_put(v);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

/* alertmanager_add - add v (taken) to o as key; -ENOMEM when v is NULL or adding fails */
static int
alertmanager_add(json_object *o, const char *key, json_object *v)
{
	if (v == NULL || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static json_object *
alertmanager_time(int64_t usec)
{
	char buf[64];

	if (event_format_ts(usec, buf, sizeof(buf)) < 0)
		return NULL;
	return json_object_new_string(buf);
}

/* alertmanager_one - one alert object; NULL on ENOMEM */
static json_object *
alertmanager_one(const struct alertmanager_alert *al)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (alertmanager_add(o, "labels", alertmanager_pairs(al->labels)) < 0 ||
	    alertmanager_add(o, "annotations", alertmanager_pairs(al->annotations)) < 0 ||
	    alertmanager_add(o, "startsAt", alertmanager_time(al->starts_usec)) < 0 ||
	    (al->ends_usec != 0 &&
		alertmanager_add(o, "endsAt", alertmanager_time(al->ends_usec)) < 0)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* alertmanager_json - the POST body for n alerts */
int
alertmanager_json(const struct alertmanager_alert *al, size_t n, char **ret)
{
	json_object *arr, *o;
	const char *s;
	size_t i;
	int r = 0;

	if ((arr = json_object_new_array()) == NULL)
		return -ENOMEM;
	for (i = 0; i < n && r == 0; i++) {
		if ((o = alertmanager_one(&al[i])) == NULL || json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			r = -ENOMEM;
		}
	}
	if (r == 0) {
		s = json_object_to_json_string_ext(arr,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (s == NULL || (*ret = strdup(s)) == NULL)
			r = -ENOMEM;
	}
	json_object_put(arr);
	return r;
}

/* alertmanager_post - render and queue; a full queue loses its oldest body */
int
alertmanager_post(struct alertmanager *am, const struct alertmanager_alert *al, size_t n)
{
	char *body;
	int r;

	if ((r = alertmanager_json(al, n, &body)) < 0)
		return r;
	pthread_mutex_lock(&am->lock);
	if (am->n == ALERTMANAGER_QUEUE) {
		free(am->queue[am->head]);
		am->head = (am->head + 1) % ALERTMANAGER_QUEUE;
		am->n--;
		am->stats.dropped++;
	}
	am->queue[(am->head + am->n) % ALERTMANAGER_QUEUE] = body;
	am->n++;
	pthread_cond_signal(&am->wake);
	pthread_mutex_unlock(&am->lock);
	return 0;
}

static size_t
alertmanager_discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	return size * nmemb;
}

/* alertmanager_send - one POST; 0 for a 2xx answer, else -EIO (logged on change) */
static int
alertmanager_send(struct alertmanager *am, CURL *c, struct curl_slist *hdrs, const char *body)
{
	char err[CURL_ERROR_SIZE];
	long status = 0;
	CURLcode cr;

	err[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, am->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, am->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, am->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, alertmanager_discard);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mxledger/" PACKAGE_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	cr = curl_easy_perform(c);
	if (cr == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cr == CURLE_OK && status >= 200 && status < 300) {
		if (am->failing)
			log_notice("alertmanager: POST to \"%s\" works again", am->url);
		am->failing = 0;
		return 0;
	}
	if (!am->failing)
		log_warning("alertmanager: POST to \"%s\" failed: %s; alerts will be re-sent",
		    am->url, cr != CURLE_OK ? (err[0] != '\0' ? err : curl_easy_strerror(cr)) :
		    "unexpected HTTP status");
	am->failing = 1;
	return -EIO;
}

/* alertmanager_thread - POST queued bodies in order until told to stop */
static void *
alertmanager_thread(void *arg)
{
	struct alertmanager *am = arg;
	struct curl_slist *hdrs = NULL, *h;
	CURL *c = curl_easy_init();
	char *body;
	int r;

	if ((h = curl_slist_append(hdrs, "Content-Type: application/json")) != NULL)
		hdrs = h;
	if ((h = curl_slist_append(hdrs, "Expect:")) != NULL)
		hdrs = h;
	pthread_mutex_lock(&am->lock);
	for (;;) {
		while (am->n == 0 && !am->stop)
			pthread_cond_wait(&am->wake, &am->lock);
		if (am->stop)
			break;
		body = am->queue[am->head];
		am->head = (am->head + 1) % ALERTMANAGER_QUEUE;
		am->n--;
		am->busy = 1;
		pthread_mutex_unlock(&am->lock);
		r = c != NULL ? alertmanager_send(am, c, hdrs, body) : -ENOMEM;
		free(body);
		pthread_mutex_lock(&am->lock);
		am->busy = 0;
		if (r == 0)
			am->stats.sent++;
		else
			am->stats.failed++;
		pthread_cond_broadcast(&am->idle);
	}
	pthread_mutex_unlock(&am->lock);
	curl_slist_free_all(hdrs);
	if (c != NULL)
		curl_easy_cleanup(c);
	return NULL;
}

/* alertmanager_drain - wait until nothing is queued or in flight */
int
alertmanager_drain(struct alertmanager *am, int64_t timeout_usec)
{
	struct timespec ts;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(timeout_usec / 1000000);
	ts.tv_nsec += (long)(timeout_usec % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&am->lock);
	while ((am->n > 0 || am->busy) && r == 0)
		r = pthread_cond_timedwait(&am->idle, &am->lock, &ts);
	if (am->n > 0 || am->busy)
		r = -ETIMEDOUT;
	else
		r = 0;
	pthread_mutex_unlock(&am->lock);
	return r;
}

void
alertmanager_get_stats(struct alertmanager *am, struct alertmanager_stats *ret)
{
	pthread_mutex_lock(&am->lock);
	*ret = am->stats;
	pthread_mutex_unlock(&am->lock);
}

#else /* !HAVE_LIBCURL */

int
alertmanager_new(const char *url, int64_t timeout_usec, struct alertmanager **ret)
{
	return -EOPNOTSUPP;
}

struct alertmanager *
alertmanager_free(struct alertmanager *am)
{
	return NULL;
}

int
alertmanager_json(const struct alertmanager_alert *al, size_t n, char **ret)
{
	return -EOPNOTSUPP;
}

int
alertmanager_post(struct alertmanager *am, const struct alertmanager_alert *al, size_t n)
{
	return -EOPNOTSUPP;
}

int
alertmanager_drain(struct alertmanager *am, int64_t timeout_usec)
{
	return 0;
}

void
alertmanager_get_stats(struct alertmanager *am, struct alertmanager_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
}

#endif /* HAVE_LIBCURL */
