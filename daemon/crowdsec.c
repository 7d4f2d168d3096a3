/*
 * NAME
 *	crowdsec - the CrowdSec Local API client: decisions pulled, findings pushed
 * SYNOPSIS
 *	#include "crowdsec.h"
 * DESCRIPTION
 *	See crowdsec.h. One thread owns the HTTP client: each round it pulls
 *	the decision stream, drops what expired, publishes the statistics,
 *	and (watcher) posts the queued findings; between rounds it sleeps on
 *	a condition variable that crowdsec_alert() and crowdsec_free()
 *	signal. The decision set has a lock of its own, held by lookups (a
 *	hash probe per prefix length) and by the thread for short writes:
 *	a startup pull builds its set without the lock and swaps it in; an
 *	incremental one is applied CROWDSEC_APPLY_CHUNK changes per locking.
 * SEE ALSO
 *	crowdsec.h, crowdsec_set.h, crowdsec_lapi.h, crowdsec_http.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "crowdsec.h"
#include "log.h"

#ifdef HAVE_CROWDSEC

#include <json-c/json.h>

#include "crowdsec_impl.h"

#define SEC			INT64_C(1000000)
/* Changes applied per taking of the set lock (a lookup waits at most for these). */
#define CROWDSEC_APPLY_CHUNK	256
/* While the LAPI fails, say so again this often. */
#define CROWDSEC_RELOG_USEC	(600 * SEC)
/* A finding that cannot be posted for this long is given up. */
#define CROWDSEC_FINDING_TTL	(3600 * SEC)
/* Log in again this long before the token expires (tokens last an hour). */
#define CROWDSEC_TOKEN_MARGIN	(60 * SEC)

struct crowdsec_finding {
	char ip[64];
	char scenario[128];
	char type[32];			/* "" = alert without decision */
	int64_t duration_usec;
	char message[512];
	int64_t at_usec;		/* when it was found (CLOCK_REALTIME) */
	int picked;			/* crowdsec_push(): in the body being posted */
};

struct crowdsec_pushed {
	char ip[64];
	char scenario[128];
	int64_t until_usec;		/* suppress repeats until then */
};

struct crowdsec {
	/* settings */
	char *url;
	char *api_header;		/* "X-Api-Key: KEY" */
	char *machine_id, *password;
	int watcher;
	int64_t interval_usec, timeout_usec, stale_usec;
	struct metrics *metrics;

	/* the decisions, under set_lock */
	pthread_mutex_t set_lock;
	struct crowdsec_set *set;

	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int started, stop;
	struct crowdsec_finding queue[CROWDSEC_ALERTS_QUEUED];
	unsigned q_head, q_n;
	struct crowdsec_stats stats;

	/* the thread's own (or crowdsec_sync()'s caller's) */
	struct crowdsec_http http;
	int need_full;			/* next pull with startup=true */
	int64_t started_usec;
	int failing, stale_logged;
	int64_t fail_logged_usec, fail_since_usec;
	char *token;
	int64_t token_expire_usec;
	struct crowdsec_pushed *pushed;	/* ring of CROWDSEC_PUSHED_KEPT */
	unsigned pushed_next;
	int64_t push_retry_usec;	/* no post attempt before (monotonic) */
	int push_failing;
	int64_t push_logged_usec;	/* monotonic */
};

/* crowdsec_dup_header - "NAME: value" */
static char *
crowdsec_dup_header(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *h = malloc(n);

	if (h != NULL)
		snprintf(h, n, "%s: %s", name, value);
	return h;
}

/* crowdsec_new - a client for conf (nothing runs before crowdsec_start()) */
int
crowdsec_new(const struct mx_crowdsec_conf *conf, struct metrics *m, struct crowdsec **ret)
{
	struct crowdsec *cs;
	pthread_condattr_t ca;
	int r;

	if (!conf->present || conf->api_key == NULL || conf->url == NULL)
		return -EINVAL;
	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&cs->set_lock, NULL);
	pthread_mutex_init(&cs->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cs->wake, &ca);
	pthread_condattr_destroy(&ca);
	cs->interval_usec = (int64_t)conf->interval_msec * 1000;
	cs->timeout_usec = (int64_t)conf->timeout_msec * 1000;
	cs->stale_usec = (int64_t)conf->stale_msec * 1000;
	cs->metrics = m;
	cs->need_full = 1;
	cs->started_usec = clock_now_usec();
	cs->watcher = conf->watcher;
	if ((cs->url = strdup(conf->url)) == NULL ||
	    (cs->api_header = crowdsec_dup_header("X-Api-Key", conf->api_key)) == NULL ||
	    (cs->set = crowdsec_set_new()) == NULL ||
	    (conf->watcher && ((cs->machine_id = strdup(conf->machine_id)) == NULL ||
	    (cs->password = strdup(conf->password)) == NULL ||
	    (cs->pushed = calloc(CROWDSEC_PUSHED_KEPT, sizeof(*cs->pushed))) == NULL))) {
		crowdsec_free(cs);
		return -ENOMEM;
	}
	if ((r = crowdsec_http_init(&cs->http, conf->url, cs->timeout_usec)) < 0) {
		crowdsec_free(cs);
		return r;
	}
	*ret = cs;
	return 0;
}

/* crowdsec_free - stop the thread, free everything; returns NULL */
struct crowdsec *
crowdsec_free(struct crowdsec *cs)
{
	if (cs == NULL)
		return NULL;
	if (cs->started) {
		pthread_mutex_lock(&cs->lock);
		cs->stop = 1;
		pthread_cond_signal(&cs->wake);
		pthread_mutex_unlock(&cs->lock);
		pthread_join(cs->thread, NULL);
	}
	crowdsec_http_done(&cs->http);
	crowdsec_set_free(cs->set);
	if (cs->api_header != NULL)
		explicit_bzero(cs->api_header, strlen(cs->api_header));
	if (cs->password != NULL)
		explicit_bzero(cs->password, strlen(cs->password));
	free(cs->api_header);
	free(cs->password);
	free(cs->machine_id);
	free(cs->token);
	free(cs->pushed);
	free(cs->url);
	pthread_cond_destroy(&cs->wake);
	pthread_mutex_destroy(&cs->lock);
	pthread_mutex_destroy(&cs->set_lock);
	free(cs);
	return NULL;
}

/* ---------------------------------------------------------------- lookup */

/* crowdsec_copy - a bounded string copy (on the lookup path: no printf) */
static void
crowdsec_copy(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

/* crowdsec_lookup - rules_cs_lookup_fn: the decisions covering addr, strongest first */
int
crowdsec_lookup(void *ud, int family, const unsigned char *addr, int64_t now_usec,
    struct rules_cs_match *ret)
{
	struct crowdsec *cs = ud;
	const struct crowdsec_decision *d[RULES_CS_MAX];
	size_t n;

	pthread_mutex_lock(&cs->set_lock);
	n = crowdsec_set_lookup(cs->set, family, addr, now_usec, d, RULES_CS_MAX);
	for (size_t i = 0; i < n && i < RULES_CS_MAX; i++) {
		struct rules_cs_decision *o = &ret->d[i];

		crowdsec_copy(o->type, sizeof(o->type), d[i]->type);
		crowdsec_copy(o->scenario, sizeof(o->scenario), d[i]->scenario);
		crowdsec_copy(o->origin, sizeof(o->origin), d[i]->origin);
		o->expires_usec = d[i]->expires_usec;
	}
	pthread_mutex_unlock(&cs->set_lock);
	ret->n = n;
	return 0;
}

/* crowdsec_banned - does the set hold a ban for the address text ip? */
static int
crowdsec_banned(struct crowdsec *cs, const char *ip, int64_t now)
{
	struct crowdsec_decision key;
	struct rules_cs_match m;

	if (crowdsec_set_key("Ip", ip, &key) < 0)
		return 0;
	crowdsec_lookup(cs, key.family, key.addr, now, &m);
	return m.n > 0 && strcmp(m.d[0].type, "ban") == 0;
}

/* ------------------------------------------------------------------ pull */

/* crowdsec_status_error - -EACCES for 401/403, -EIO for other statuses; err says why */
static int
crowdsec_status_error(struct crowdsec_http *h, long status, char *err, size_t size)
{
	char msg[160];

	crowdsec_lapi_message(h->body, h->len, msg, sizeof(msg));
	snprintf(err, size, "HTTP %ld: %s", status, msg);
	return status == 401 || status == 403 ? -EACCES : -EIO;
}

/* crowdsec_count_types - refresh the decision counts in the stats (set_lock held) */
static void
crowdsec_count_types(struct crowdsec *cs, struct crowdsec_stats *s)
{
	s->decisions = crowdsec_set_count(cs->set);
	s->bans = crowdsec_set_count_type(cs->set, "ban");
	s->captchas = crowdsec_set_count_type(cs->set, "captcha");
}

/* crowdsec_apply_full - a startup answer: a new set built aside, swapped in */
static int
crowdsec_apply_full(struct crowdsec *cs, const struct crowdsec_stream *st)
{
	struct crowdsec_set *ns = crowdsec_set_new(), *old;
	int r;

	if (ns == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < st->n_new; i++)
		if ((r = crowdsec_set_add(ns, &st->new_[i])) < 0) {
			crowdsec_set_free(ns);
			return r;
		}
	pthread_mutex_lock(&cs->set_lock);
	old = cs->set;
	cs->set = ns;
	pthread_mutex_unlock(&cs->set_lock);
	crowdsec_set_free(old);
	return 0;
}

/* crowdsec_apply_delta - an incremental answer, a chunk of changes per locking */
static int
crowdsec_apply_delta(struct crowdsec *cs, const struct crowdsec_stream *st)
{
	size_t total = st->n_deleted + st->n_new, done = 0;
	int r = 0;

	while (done < total && r == 0) {
		size_t end = done + CROWDSEC_APPLY_CHUNK < total ? done + CROWDSEC_APPLY_CHUNK :
		    total;

		pthread_mutex_lock(&cs->set_lock);
		for (; done < end && r == 0; done++)
			if (done < st->n_deleted)
				(void)crowdsec_set_delete(cs->set, st->deleted[done].id);
			else
				r = crowdsec_set_add(cs->set, &st->new_[done - st->n_deleted]);
		pthread_mutex_unlock(&cs->set_lock);
	}
	return r;
}

/* crowdsec_pull - one pull of the stream (startup=true when full) into the set */
static int
crowdsec_pull(struct crowdsec *cs, int full, char *err, size_t size, size_t *ret_changes)
{
	struct crowdsec_stream st = { 0 };
	long status;
	int r;

	r = crowdsec_http(&cs->http, full ? "v1/decisions/stream?startup=true" :
	    "v1/decisions/stream", cs->api_header, NULL, &status);
	if (r < 0) {
		snprintf(err, size, "%s", r == -ENOMEM ? strerror(ENOMEM) : cs->http.err);
		return r;
	}
	if (status != 200)
		return crowdsec_status_error(&cs->http, status, err, size);
	if ((r = crowdsec_lapi_stream(cs->http.body, cs->http.len, clock_now_usec(), &st)) < 0) {
		snprintf(err, size, "%s", r == -EBADMSG ? "the answer is not a decision stream" :
		    strerror(-r));
		return r;
	}
	if (st.n_malformed > 0)
		log_warning("crowdsec: %zu malformed decision%s in the LAPI's answer skipped",
		    st.n_malformed, st.n_malformed == 1 ? "" : "s");
	r = full ? crowdsec_apply_full(cs, &st) : crowdsec_apply_delta(cs, &st);
	if (r < 0)
		snprintf(err, size, "%s", strerror(-r));
	*ret_changes = st.n_new + st.n_deleted;
	crowdsec_stream_clear(&st);
	return r;
}

/* crowdsec_age_text - "3m20s" */
static void
crowdsec_age_text(int64_t usec, char *buf, size_t size)
{
	crowdsec_lapi_duration_text(usec < SEC ? SEC : usec - usec % SEC, buf, size);
}

/* crowdsec_pulled - bookkeeping and logs after a pull that returned r */
static void
crowdsec_pulled(struct crowdsec *cs, int full, int r, const char *err, size_t changes)
{
	int64_t now = clock_now_usec();
	struct crowdsec_stats s;
	char age[32];

	pthread_mutex_lock(&cs->lock);
	if (r == 0) {
		cs->stats.syncs_ok++;
		cs->stats.last_ok_usec = now;
		cs->stats.last_error[0] = '\0';
	} else {
		cs->stats.syncs_failed++;
		snprintf(cs->stats.last_error, sizeof(cs->stats.last_error), "%s", err);
	}
	s = cs->stats;
	pthread_mutex_unlock(&cs->lock);
	if (r == 0) {
		if (cs->failing) {
			crowdsec_age_text(now - cs->fail_since_usec, age, sizeof(age));
			log_notice("crowdsec: the LAPI at %s answers again (failing since %s ago); "
			    "%zu decisions held", cs->url, age, s.decisions);
		} else if (full) {
			log_info("crowdsec: %zu decisions from the LAPI at %s (%zu bans, %zu "
			    "captchas)", s.decisions, cs->url, s.bans, s.captchas);
		} else if (changes > 0) {
			log_debug("crowdsec: %zu changes, %zu decisions held", changes, s.decisions);
		}
		cs->failing = cs->stale_logged = 0;
		cs->need_full = 0;
		return;
	}
	cs->need_full = 1;	/* whatever the LAPI saw of this pull, resynchronise */
	if (!cs->failing)
		cs->fail_since_usec = now;
	if (!cs->failing || now - cs->fail_logged_usec >= CROWDSEC_RELOG_USEC) {
		log_warning("crowdsec: cannot pull decisions from %s: %s; answering from the %zu "
		    "decisions held", cs->url, err, s.decisions);
		cs->failing = 1;
		cs->fail_logged_usec = now;
	}
}

/* crowdsec_check_stale - log once when the set turns stale; the flag for the stats */
static void
crowdsec_check_stale(struct crowdsec *cs)
{
	int64_t now = clock_now_usec();
	int64_t since = cs->stats.last_ok_usec > 0 ? cs->stats.last_ok_usec : cs->started_usec;
	int stale = now - since >= cs->stale_usec;
	char age[32];

	pthread_mutex_lock(&cs->lock);
	cs->stats.stale = stale || cs->stats.last_ok_usec == 0;
	pthread_mutex_unlock(&cs->lock);
	if (stale && !cs->stale_logged) {
		crowdsec_age_text(now - since, age, sizeof(age));
		log_warning("crowdsec: decisions are stale: no good pull from %s for %s", cs->url,
		    age);
		cs->stale_logged = 1;
	}
}

/* crowdsec_expire - drop expired decisions, refresh the counts */
static void
crowdsec_expire(struct crowdsec *cs)
{
	struct crowdsec_stats counts;

	pthread_mutex_lock(&cs->set_lock);
	(void)crowdsec_set_expire(cs->set, clock_now_usec());
	crowdsec_count_types(cs, &counts);
	pthread_mutex_unlock(&cs->set_lock);
	pthread_mutex_lock(&cs->lock);
	cs->stats.decisions = counts.decisions;
	cs->stats.bans = counts.bans;
	cs->stats.captchas = counts.captchas;
	pthread_mutex_unlock(&cs->lock);
}

/* crowdsec_publish - the statistics into the metrics */
static void
crowdsec_publish(struct crowdsec *cs)
{
	struct crowdsec_stats s;
	struct metrics_crowdsec mc;

	if (cs->metrics == NULL)
		return;
	crowdsec_get_stats(cs, &s);
	mc = (struct metrics_crowdsec){
		.bans = s.bans, .captchas = s.captchas,
		.others = s.decisions - s.bans - s.captchas,
		.last_sync = (double)s.last_ok_usec / 1e6, .stale = s.stale,
		.syncs_ok = s.syncs_ok, .syncs_failed = s.syncs_failed,
		.alerts_pushed = s.alerts_pushed, .alerts_failed = s.alerts_failed,
		.alerts_suppressed = s.alerts_suppressed, .alerts_dropped = s.alerts_dropped,
	};
	(void)metrics_crowdsec(cs->metrics, &mc);
}

/* crowdsec_sync - one startup pull now, in the caller's thread */
int
crowdsec_sync(struct crowdsec *cs)
{
	char err[256] = "";
	size_t changes = 0;
	int r;

	r = crowdsec_pull(cs, 1, err, sizeof(err), &changes);
	crowdsec_expire(cs);
	crowdsec_pulled(cs, 1, r, err, changes);
	crowdsec_check_stale(cs);
	return r;
}

/* ----------------------------------------------------------------- watcher */

/* crowdsec_login - POST /v1/watchers/login; the token kept */
static int
crowdsec_login(struct crowdsec *cs, char *err, size_t size)
{
	json_object *o = json_object_new_object();
	const char *body;
	long status;
	char *token;
	int64_t expire;
	int r;

	if (o == NULL || json_object_object_add(o, "machine_id",
	    json_object_new_string(cs->machine_id)) < 0 ||
	    json_object_object_add(o, "password", json_object_new_string(cs->password)) < 0 ||
	    (body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) == NULL) {
		json_object_put(o);
		return -ENOMEM;
	}
	r = crowdsec_http(&cs->http, "v1/watchers/login", NULL, body, &status);
	json_object_put(o);
	if (r < 0) {
		snprintf(err, size, "login: %.200s", cs->http.err);
		return r;
	}
	if (status != 200) {
		r = crowdsec_status_error(&cs->http, status, err, size);
		return r;
	}
	if ((r = crowdsec_lapi_login(cs->http.body, cs->http.len, &token, &expire)) < 0) {
		snprintf(err, size, "login: the answer holds no token");
		return r;
	}
	free(cs->token);
	cs->token = token;
	cs->token_expire_usec = expire > 0 ? expire : clock_now_usec() + 3600 * SEC;
	return 0;
}

/* crowdsec_recent - was (ip, scenario) pushed and does its decision still run? */
static int
crowdsec_recent(struct crowdsec *cs, const struct crowdsec_finding *f, int64_t now)
{
	for (unsigned i = 0; i < CROWDSEC_PUSHED_KEPT; i++) {
		const struct crowdsec_pushed *p = &cs->pushed[i];

		if (p->until_usec > now && strcmp(p->ip, f->ip) == 0 &&
		    strcmp(p->scenario, f->scenario) == 0)
			return 1;
	}
	return 0;
}

/* crowdsec_remember - note a pushed finding for crowdsec_recent() */
static void
crowdsec_remember(struct crowdsec *cs, const struct crowdsec_finding *f)
{
	struct crowdsec_pushed *p = &cs->pushed[cs->pushed_next];

	cs->pushed_next = (cs->pushed_next + 1) % CROWDSEC_PUSHED_KEPT;
	crowdsec_copy(p->ip, sizeof(p->ip), f->ip);
	crowdsec_copy(p->scenario, sizeof(p->scenario), f->scenario);
	p->until_usec = f->at_usec + (f->type[0] != '\0' ? f->duration_usec : 3600 * SEC);
}

/* crowdsec_post - POST the alerts body, logging in first or again when needed */
static int
crowdsec_post(struct crowdsec *cs, const char *body, char *err, size_t size)
{
	char *auth;
	long status = 0;
	int r;

	for (int attempt = 0; attempt < 2; attempt++) {
		if ((cs->token == NULL ||
		    cs->token_expire_usec - CROWDSEC_TOKEN_MARGIN < clock_now_usec()) &&
		    (r = crowdsec_login(cs, err, size)) < 0)
			return r;
		if ((auth = malloc(strlen(cs->token) + 32)) == NULL)
			return -ENOMEM;
		sprintf(auth, "Authorization: Bearer %s", cs->token);
		r = crowdsec_http(&cs->http, "v1/alerts", auth, body, &status);
		free(auth);
		if (r < 0) {
			snprintf(err, size, "%s", cs->http.err);
			return r;
		}
		if (status == 200 || status == 201)
			return 0;
		if (status != 401)
			break;
		free(cs->token);	/* a restarted LAPI forgot the token: log in again */
		cs->token = NULL;
	}
	return crowdsec_status_error(&cs->http, status, err, size);
}

/* crowdsec_push - post the queued findings (those not suppressed) in one body */
static void
crowdsec_push(struct crowdsec *cs)
{
	struct crowdsec_finding *f = NULL;
	struct crowdsec_alert *al = NULL;
	size_t n, k = 0, suppressed = 0, expired = 0;
	int64_t now = clock_now_usec();
	char err[256] = "", *body;
	int r = -ENOMEM;

	pthread_mutex_lock(&cs->lock);
	n = cs->q_n;
	if (n > 0 && (f = malloc(n * sizeof(*f))) != NULL)
		for (size_t i = 0; i < n; i++)
			f[i] = cs->queue[(cs->q_head + i) % CROWDSEC_ALERTS_QUEUED];
	pthread_mutex_unlock(&cs->lock);
	if (n == 0 || f == NULL || (al = calloc(n, sizeof(*al))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int dup = 0;

		for (size_t j = 0; j < i && !dup; j++)
			dup = strcmp(f[j].ip, f[i].ip) == 0 && strcmp(f[j].scenario, f[i].scenario) == 0;
		if (now - f[i].at_usec > CROWDSEC_FINDING_TTL) {
			expired++;
			continue;
		}
		if (dup || crowdsec_recent(cs, &f[i], now) ||
		    (strcmp(f[i].type, "ban") == 0 && crowdsec_banned(cs, f[i].ip, now))) {
			suppressed++;
			continue;
		}
		f[i].picked = 1;
		al[k++] = (struct crowdsec_alert){
			.scenario = f[i].scenario, .message = f[i].message, .ip = f[i].ip,
			/* the LAPI ends a decision at stop_at + duration: stop_at is now */
			.start_usec = f[i].at_usec, .stop_usec = now, .events_count = 1,
			.decision_type = f[i].type[0] != '\0' ? f[i].type : NULL,
			.duration_usec = f[i].duration_usec, .origin = "mxledger",
		};
	}
	r = 0;
	if (k > 0) {
		if ((body = crowdsec_lapi_alerts_json(al, k)) == NULL)
			r = -ENOMEM;
		else
			r = crowdsec_post(cs, body, err, sizeof(err));
		free(body);
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		if (f[i].picked)
			crowdsec_remember(cs, &f[i]);
out:
	/*
	 * Findings are queued in time order, so the expired ones are the
	 * first: a failed post drops just those, a good one the whole batch.
	 */
	pthread_mutex_lock(&cs->lock);
	if (r < 0)
		n = expired;
	cs->q_head = (cs->q_head + (unsigned)n) % CROWDSEC_ALERTS_QUEUED;
	cs->q_n -= (unsigned)n;
	cs->stats.alerts_failed += expired;
	if (r == 0) {
		cs->stats.alerts_pushed += k;
		cs->stats.alerts_suppressed += suppressed;
	}
	pthread_mutex_unlock(&cs->lock);
	if (r == 0 && k > 0)
		log_info("crowdsec: %zu alert%s pushed to %s (%zu suppressed)", k, k == 1 ? "" : "s",
		    cs->url, suppressed);
	if (r == 0) {
		cs->push_failing = 0;
	} else if (f != NULL) {
		int64_t t = clock_mono_usec();

		if (!cs->push_failing || t - cs->push_logged_usec >= CROWDSEC_RELOG_USEC) {
			log_warning("crowdsec: cannot push %zu alert%s to %s: %s; retrying every %llds",
			    k, k == 1 ? "" : "s", cs->url, err[0] != '\0' ? err : strerror(-r),
			    (long long)(cs->interval_usec / SEC));
			cs->push_failing = 1;
			cs->push_logged_usec = t;
		}
		cs->push_retry_usec = t + cs->interval_usec;
	}
	free(al);
	free(f);
}

/* crowdsec_alert - queue a finding for the watcher; never blocks */
int
crowdsec_alert(struct crowdsec *cs, const char *ip, const char *scenario, const char *type,
    int64_t duration_usec, const char *message)
{
	struct crowdsec_finding *f;
	int r = 0;

	if (!cs->watcher)
		return -EINVAL;
	pthread_mutex_lock(&cs->lock);
	if (cs->q_n == CROWDSEC_ALERTS_QUEUED) {
		cs->stats.alerts_dropped++;
		r = -ENOBUFS;
	} else {
		f = &cs->queue[(cs->q_head + cs->q_n++) % CROWDSEC_ALERTS_QUEUED];
		crowdsec_copy(f->ip, sizeof(f->ip), ip);
		crowdsec_copy(f->scenario, sizeof(f->scenario), scenario);
		crowdsec_copy(f->type, sizeof(f->type), type);
		crowdsec_copy(f->message, sizeof(f->message), message);
		f->picked = 0;
		f->duration_usec = duration_usec;
		f->at_usec = clock_now_usec();
		pthread_cond_signal(&cs->wake);
	}
	pthread_mutex_unlock(&cs->lock);
	return r;
}

/* ------------------------------------------------------------------ thread */

/* crowdsec_round - pull, expire, check staleness, publish */
static void
crowdsec_round(struct crowdsec *cs)
{
	char err[256] = "";
	size_t changes = 0;
	int full = cs->need_full;
	int r;

	r = crowdsec_pull(cs, full, err, sizeof(err), &changes);
	crowdsec_expire(cs);
	crowdsec_pulled(cs, full, r, err, changes);
	crowdsec_check_stale(cs);
	crowdsec_publish(cs);
}

/* crowdsec_thread - rounds every interval; findings posted as they come */
static void *
crowdsec_thread(void *arg)
{
	struct crowdsec *cs = arg;
	int64_t next = clock_mono_usec();

	pthread_mutex_lock(&cs->lock);
	while (!cs->stop) {
		int64_t now = clock_mono_usec();
		struct timespec ts;

		if (now >= next) {
			pthread_mutex_unlock(&cs->lock);
			crowdsec_round(cs);
			next = clock_mono_usec() + cs->interval_usec;
			pthread_mutex_lock(&cs->lock);
			continue;
		}
		if (cs->watcher && cs->q_n > 0 && now >= cs->push_retry_usec) {
			pthread_mutex_unlock(&cs->lock);
			crowdsec_push(cs);
			crowdsec_publish(cs);
			pthread_mutex_lock(&cs->lock);
			continue;
		}
		if (cs->watcher && cs->q_n > 0 && cs->push_retry_usec < next)
			now = cs->push_retry_usec;
		else
			now = next;
		ts.tv_sec = (time_t)(now / SEC);
		ts.tv_nsec = (long)(now % SEC) * 1000;
		pthread_cond_timedwait(&cs->wake, &cs->lock, &ts);
	}
	pthread_mutex_unlock(&cs->lock);
	return NULL;
}

/* crowdsec_start - start pulling (the first pull happens at once, in the thread) */
int
crowdsec_start(struct crowdsec *cs)
{
	int r;

	if (cs->started)
		return 0;
	if ((r = pthread_create(&cs->thread, NULL, crowdsec_thread, cs)) != 0)
		return -r;
	cs->started = 1;
	return 0;
}

/* crowdsec_get_stats - a copy of the statistics */
void
crowdsec_get_stats(struct crowdsec *cs, struct crowdsec_stats *ret)
{
	pthread_mutex_lock(&cs->lock);
	*ret = cs->stats;
	pthread_mutex_unlock(&cs->lock);
}

/* crowdsec_query - GET /v1/decisions?ip= once (mxledger report ip) */
int
crowdsec_query(const struct mx_crowdsec_conf *conf, const char *ip, struct crowdsec_stream *ret,
    char *err, size_t err_size)
{
	struct crowdsec_http h;
	struct crowdsec_decision key;
	char path[128], *hdr;
	long status;
	int r;

	if (crowdsec_set_key("Ip", ip, &key) < 0) {
		snprintf(err, err_size, "\"%.64s\" is not an address", ip);
		return -EINVAL;
	}
	if ((hdr = crowdsec_dup_header("X-Api-Key", conf->api_key)) == NULL)
		return -ENOMEM;
	if ((r = crowdsec_http_init(&h, conf->url, (int64_t)conf->timeout_msec * 1000)) < 0) {
		free(hdr);
		return r;
	}
	snprintf(path, sizeof(path), "v1/decisions?ip=%s", ip);
	r = crowdsec_http(&h, path, hdr, NULL, &status);
	if (r < 0)
		snprintf(err, err_size, "%s", h.err);
	else if (status != 200)
		r = crowdsec_status_error(&h, status, err, err_size);
	else if ((r = crowdsec_lapi_decisions(h.body, h.len, clock_now_usec(), ret)) < 0)
		snprintf(err, err_size, "the answer is not a list of decisions");
	explicit_bzero(hdr, strlen(hdr));
	free(hdr);
	crowdsec_http_done(&h);
	return r;
}

#else	/* !HAVE_CROWDSEC */

int
crowdsec_new(const struct mx_crowdsec_conf *conf, struct metrics *m, struct crowdsec **ret)
{
	(void)conf, (void)m, (void)ret;
	return -EOPNOTSUPP;
}

int
crowdsec_start(struct crowdsec *cs)
{
	(void)cs;
	return -EOPNOTSUPP;
}

struct crowdsec *
crowdsec_free(struct crowdsec *cs)
{
	(void)cs;
	return NULL;
}

int
crowdsec_sync(struct crowdsec *cs)
{
	(void)cs;
	return -EOPNOTSUPP;
}

int
crowdsec_lookup(void *cs, int family, const unsigned char *addr, int64_t now_usec,
    struct rules_cs_match *ret)
{
	(void)cs, (void)family, (void)addr, (void)now_usec;
	ret->n = 0;
	return -EOPNOTSUPP;
}

int
crowdsec_alert(struct crowdsec *cs, const char *ip, const char *scenario, const char *type,
    int64_t duration_usec, const char *message)
{
	(void)cs, (void)ip, (void)scenario, (void)type, (void)duration_usec, (void)message;
	return -EOPNOTSUPP;
}

void
crowdsec_get_stats(struct crowdsec *cs, struct crowdsec_stats *ret)
{
	(void)cs;
	memset(ret, 0, sizeof(*ret));
}

int
crowdsec_query(const struct mx_crowdsec_conf *conf, const char *ip, struct crowdsec_stream *ret,
    char *err, size_t err_size)
{
	(void)conf, (void)ip, (void)ret;
	snprintf(err, err_size, "built without CrowdSec support");
	return -EOPNOTSUPP;
}

#endif
