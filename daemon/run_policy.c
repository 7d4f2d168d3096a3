/*
 * NAME
 *	run_policy - the policy service of `mxledger run`: its thread and its two queues
 * SYNOPSIS
 *	#include "run.h"
 *
 *	int run_policy_start(struct run *run, const struct mx_config *cfg);
 *	void run_policy_stop(struct run *run);
 *	int run_policy_reload(struct run *run, const struct mx_config *cfg);
 *	int run_policy_event(void *ud, const struct mx_event *ev);
 *	int run_policy_flush(struct run *run);
 *	void run_policy_status(const struct run *run, char *buf, size_t size);
 * DESCRIPTION
 *	The policy service runs in a thread of its own with its own sd-event
 *	loop, so that nothing the main thread does -- reading logs, SQLite
 *	commits and their fsync()s, retention -- can delay an answer to
 *	Postfix. The thread owns the listeners (policy_server.c) and the
 *	struct policy (counters, auth-failure correlation, rules); the main
 *	thread never touches either once the thread runs. They talk through
 *	two bounded queues, each protected by one mutex and woken by an
 *	eventfd written only when the queue goes from idle to busy:
 *
 *	    main -> policy   the events the history counters use
 *			     (policy_event_wanted()), packed into a struct
 *			     policy_event of about 1 KiB (never the 130 KiB
 *			     mx_event), RUN_POLICY_EVENTS at most; on overflow
 *			     the event is dropped and counted. Also the
 *			     control words: a new rule set or a new policy
 *			     after a reload, and stop.
 *	    policy -> main   one struct policy_record per decision worth
 *			     keeping (policy.h), RUN_POLICY_RECORDS at most
 *			     (dropped and counted beyond). The eventfd is
 *			     written by a timer of the thread 20-40 ms after
 *			     the first record of a batch, or at once when the
 *			     queue is half full. The main thread
 *			     logs each and stores them in the decisions table
 *			     after its own commits (run_policy_flush()), in a
 *			     transaction of their own, so a failing database
 *			     never loses log events and never stalls answers.
 *
 *	The consumer of the event queue reads the slots in place without
 *	the lock (single producer, single consumer: the producer only
 *	writes free slots) and takes the lock again to release them.
 *
 *	Start: the main thread builds the policy and replays the stored
 *	history-window into it (policy_rebuild()) BEFORE the thread opens
 *	its listeners, so the first answer already knows yesterday's
 *	attackers. The events parsed afterwards reach it through the queue.
 *
 *	Reload (SIGHUP): a new rule set is bound to the running counters, so
 *	every condition that did not change keeps its counts, live and
 *	historic; a new history condition starts counting at the reload
 *	(a restart rebuilds it from the database). When counters-memory or
 *	history-window change, or the counters cannot take the new rule set
 *	(too many counter classes after many reloads), a new policy is built
 *	and rebuilt from the database instead -- after a commit, so it holds
 *	every event parsed so far -- and replaces the running one exactly
 *	after the events queued before it: history counts stay exact, live
 *	request counts restart. Listener and connection settings take effect
 *	at the next start. A policy block without listeners stops the
 *	service; one that gains a listener starts it.
 *
 *	Dovecot's auth policy endpoint (auth_policy.h, `auth-policy` block)
 *	runs on the same thread and loop, with the same struct policy: its
 *	requests and Postfix's see each other's counts at once, without a
 *	lock. An auth-policy block alone starts the thread too.
 *
 *	A commit that fails after its events were queued makes the inputs
 *	read those lines again: their events are then counted twice, an
 *	error on the safe side, bounded by one batch.
 *
 *	Metrics (run->metrics, thread-safe): each answer to Postfix is counted
 *	by action and rule with the time policy_decide() and the formatting
 *	took; every RUN_POLICY_METRICS_USEC, and before a policy is replaced,
 *	the thread adds the counters' new evictions to run->evicted (which
 *	only it writes while it runs, so the total survives a rebuilt policy
 *	and a restarted service) and publishes the total. Dovecot's auth
 *	policy requests are not in mxledger_policy_requests_total.
 * SEE ALSO
 *	run.h, cmd_run.c, policy.h, policy_server.h, history.h
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "clock.h"
#include "config.h"
#include "counters.h"
#ifdef HAVE_AUTH_POLICY
#include "auth_policy.h"
#endif
#include "history.h"
#include "log.h"
#include "metrics.h"
#include "crowdsec.h"
#include "policy.h"
#include "policy_server.h"
#include "run.h"

/*
 * Events waiting for the policy thread. It counts one in a microsecond or
 * two, so the queue only fills while the main thread catches up on a
 * backlog faster than that; 16384 slots of ~1 KiB are resident only as far
 * as they are used.
 */
#define RUN_POLICY_EVENTS	16384
/* Decisions waiting for the main thread (records are ~6.5 KiB each). */
#define RUN_POLICY_RECORDS	4096
/*
 * Stored records kept for the thread to fill again, so that a decision
 * costs neither a malloc() nor a free() in the other thread's arena.
 */
#define RUN_POLICY_SPARE	1024
/* Decisions kept for storing while the database fails; the oldest go first. */
#define RUN_POLICY_PENDING	20000
/* At most this many internal-error warnings per second (the rest are counted). */
#define RUN_POLICY_ERR_BURST	10
/* How often the thread publishes the counters' evictions. */
#define RUN_POLICY_METRICS_USEC	(5 * (uint64_t)1000000)
/*
 * Decisions reach the main thread 20 to 40 ms after the first of a batch,
 * with one wake-up for the batch (at once when the queue is half full): a
 * wake-up per decision cost both threads a context switch each, which at
 * thousands of deferrals a second took CPU from the answers.
 */
#define RUN_POLICY_OUT_DELAY_USEC	(20 * (uint64_t)1000)

struct run_policy {
	struct run *run;
	pthread_t thread;
	int started;

	/* the thread's own */
	sd_event *event;
	sd_event_source *in_source;
	sd_event_source *metrics_timer;
	sd_event_source *out_timer;		/* wakes the main thread for queued decisions */
	int out_armed;
	uint64_t evictions_seen;		/* of rp->policy, already in run->evicted */
	struct policy_server *server;
	struct policy *policy;
	struct policy_server_conf sconf;
	struct policy_listen_conf *listens;	/* sconf.listens: copies owned here */
	uint64_t ev_consumed;
	struct auth_policy *auth;		/* Dovecot's auth policy endpoint, or NULL */
	char *auth_listen, *auth_key, *auth_header;	/* owned copies */
	int auth_count_reports;
	unsigned auth_defer_sec;

	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready, start_error;
	int in_fd, out_fd;			/* eventfds: to the thread, to the main thread */
	int in_woken, out_woken;		/* written and not yet read */
	struct policy_event *events;
	unsigned ev_head, ev_n;
	uint64_t ev_produced, ev_dropped;
	struct mx_rules *new_rules;		/* control: bind these */
	struct policy *new_policy;		/* control: use this one... */
	uint64_t new_policy_at;			/* ... after this many events */
	int stop;
	struct policy_record *recs[RUN_POLICY_RECORDS];
	unsigned rec_head, rec_n;
	struct policy_record *spare[RUN_POLICY_SPARE];
	unsigned n_spare;
	uint64_t rec_dropped;
	int want_rebuild;			/* the thread could not bind new rules */

	/* the main thread's own */
	sd_event_source *out_source;
	struct policy_record **pending;		/* drained, waiting to be stored */
	size_t n_pending;
	uint64_t stored, pending_dropped;
	int store_failing;
	size_t counters_memory;			/* what the running policy was built with */
	int64_t history_window;
	int64_t err_second;			/* error-log rate limit */
	unsigned err_logged, err_suppressed;
};

/* ---------------------------------------------------------- configuration */

/* run_policy_conf_done - free the copied listener configuration */
static void
run_policy_conf_done(struct run_policy *rp)
{
	for (size_t i = 0; i < rp->sconf.n_listens; i++) {
		free(rp->listens[i].address);
		free(rp->listens[i].owner);
		free(rp->listens[i].group);
		free((char *)rp->listens[i].file);
	}
	free(rp->listens);
	free((char *)rp->sconf.fail_action);
	free(rp->auth_listen);
	free(rp->auth_key);
	free(rp->auth_header);
	rp->auth_listen = rp->auth_key = rp->auth_header = NULL;
	rp->listens = NULL;
	memset(&rp->sconf, 0, sizeof(rp->sconf));
}

/* run_policy_strdup - a copy of s, or of NULL */
static int
run_policy_strdup(char **dst, const char *s)
{
	*dst = NULL;
	return s == NULL || (*dst = strdup(s)) != NULL ? 0 : -ENOMEM;
}

/* run_policy_conf - the server's configuration, copied from cfg's policy block */
static int
run_policy_conf(struct run_policy *rp, const struct mx_config *cfg)
{
	const struct mx_policy_conf *pc = &cfg->policy;
	char *fail = NULL;

	rp->listens = calloc(pc->n_listens + 1, sizeof(*rp->listens));
	if (rp->listens == NULL)
		return -ENOMEM;
	rp->sconf.listens = rp->listens;
	for (size_t i = 0; i < pc->n_listens; i++, rp->sconf.n_listens++) {
		const struct mx_listen_conf *l = &pc->listens[i];
		struct policy_listen_conf *d = &rp->listens[i];
		char *file;

		d->type = l->type == MX_LISTEN_INET ? POLICY_LISTEN_INET : POLICY_LISTEN_UNIX;
		d->mode = (mode_t)l->mode;
		d->line = l->line;
		if (run_policy_strdup(&d->address, l->address) < 0 ||
		    run_policy_strdup(&d->owner, l->owner) < 0 ||
		    run_policy_strdup(&d->group, l->group) < 0 ||
		    run_policy_strdup(&file, l->file) < 0)
			return -ENOMEM;
		d->file = file;
	}
	rp->sconf.socket_activation = pc->socket_activation;
	rp->sconf.max_connections = pc->max_connections;
	rp->sconf.idle_timeout_usec = pc->idle_timeout_usec;
	rp->sconf.request_max = pc->request_max;
	if (run_policy_strdup(&fail, pc->fail_action != NULL ? pc->fail_action : "DUNNO") < 0)
		return -ENOMEM;
	rp->sconf.fail_action = fail;
	rp->auth_count_reports = cfg->auth_policy_count_reports;
	rp->auth_defer_sec = cfg->auth_policy_defer_sec;
	if (run_policy_strdup(&rp->auth_listen, cfg->auth_policy_listen) < 0 ||
	    run_policy_strdup(&rp->auth_key, cfg->auth_policy_api_key) < 0 ||
	    run_policy_strdup(&rp->auth_header, cfg->auth_policy_api_header) < 0)
		return -ENOMEM;
	return 0;
}

/* run_policy_str_eq - equal strings, NULL equal only to NULL */
static int
run_policy_str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* run_policy_conf_same - whether cfg asks for the listeners and limits running now */
static int
run_policy_conf_same(const struct run_policy *rp, const struct mx_config *cfg)
{
	const struct mx_policy_conf *pc = &cfg->policy;

	if (!run_policy_str_eq(cfg->auth_policy_listen, rp->auth_listen) ||
	    !run_policy_str_eq(cfg->auth_policy_api_key, rp->auth_key) ||
	    !run_policy_str_eq(cfg->auth_policy_api_header, rp->auth_header) ||
	    cfg->auth_policy_count_reports != rp->auth_count_reports ||
	    cfg->auth_policy_defer_sec != rp->auth_defer_sec)
		return 0;
	if (pc->n_listens != rp->sconf.n_listens ||
	    pc->socket_activation != rp->sconf.socket_activation ||
	    pc->max_connections != rp->sconf.max_connections ||
	    pc->idle_timeout_usec != rp->sconf.idle_timeout_usec ||
	    pc->request_max != rp->sconf.request_max)
		return 0;
	for (size_t i = 0; i < pc->n_listens; i++) {
		const struct mx_listen_conf *l = &pc->listens[i];
		const struct policy_listen_conf *d = &rp->listens[i];

		if ((l->type == MX_LISTEN_INET) != (d->type == POLICY_LISTEN_INET) ||
		    strcmp(l->address, d->address) != 0 || !run_policy_str_eq(l->owner, d->owner) ||
		    !run_policy_str_eq(l->group, d->group) || (mode_t)l->mode != d->mode)
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ eventfds */

/* run_policy_wake - make an eventfd readable */
static void
run_policy_wake(int fd)
{
	uint64_t one = 1;

	(void)!write(fd, &one, sizeof(one));	/* cannot fail short of EAGAIN at 2^64-1 */
}

/* run_policy_drain_fd - read an eventfd back to zero */
static void
run_policy_drain_fd(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

/* ------------------------------------------------------- the policy thread */

/* run_policy_record - the recorder: copy a decision for the main thread */
static void
run_policy_record(void *ud, const struct policy_record *rec)
{
	struct run_policy *rp = ud;
	struct policy_record *copy = NULL;
	size_t json = strnlen(rec->counters, sizeof(rec->counters) - 1);
	int wake = 0, queued = 0;

	pthread_mutex_lock(&rp->lock);
	if (rp->n_spare > 0)
		copy = rp->spare[--rp->n_spare];
	pthread_mutex_unlock(&rp->lock);
	if (copy == NULL)
		copy = malloc(sizeof(*copy));
	if (copy != NULL) {
		/* the counters' JSON is most of a record and mostly unused */
		memcpy(copy, rec, offsetof(struct policy_record, counters));
		memcpy(copy->counters, rec->counters, json);
		copy->counters[json] = '\0';
	}
	pthread_mutex_lock(&rp->lock);
	if (copy == NULL || rp->rec_n == RUN_POLICY_RECORDS) {
		rp->rec_dropped++;
		free(copy);
	} else {
		rp->recs[(rp->rec_head + rp->rec_n++) % RUN_POLICY_RECORDS] = copy;
		queued = 1;
		wake = !rp->out_woken && (rp->out_timer == NULL ||
		    rp->rec_n >= RUN_POLICY_RECORDS / 2);
		if (wake)
			rp->out_woken = 1;
	}
	pthread_mutex_unlock(&rp->lock);
	if (wake) {
		run_policy_wake(rp->out_fd);
	} else if (queued && !rp->out_armed &&
	    sd_event_source_set_time_relative(rp->out_timer, RUN_POLICY_OUT_DELAY_USEC) >= 0 &&
	    sd_event_source_set_enabled(rp->out_timer, SD_EVENT_ONESHOT) >= 0) {
		rp->out_armed = 1;
	}
}

/* run_policy_on_out_timer - the thread: wake the main thread for the queued decisions */
static int
run_policy_on_out_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct run_policy *rp = ud;
	int wake;

	(void)s;
	(void)usec;
	rp->out_armed = 0;
	pthread_mutex_lock(&rp->lock);
	wake = !rp->out_woken && rp->rec_n > 0;
	if (wake)
		rp->out_woken = 1;
	pthread_mutex_unlock(&rp->lock);
	if (wake)
		run_policy_wake(rp->out_fd);
	return 0;
}

/* run_policy_decide - policy_server's decide(): the answer, fail-action included */
static int
run_policy_decide(void *ud, const struct policy_request *req, char *ret_action, size_t size)
{
	struct run_policy *rp = ud;
	struct rules_decision d;
	int64_t t0 = clock_mono_usec();
	int r;

	/* an internal error gives the fail-action in d (and a record with the error) */
	(void)policy_decide(rp->policy, req, clock_now_usec(), &d);
	r = policy_format_action(&d, ret_action, size);
	run_crowdsec_decided(rp->run, req, &d);
	if (r >= 0 && rp->run->metrics != NULL)
		(void)metrics_policy_request(rp->run->metrics, ret_action, d.rule,
		    (double)(clock_mono_usec() - t0) / 1e6);
	return r < 0 ? -ENOBUFS : 0;
}

/* run_policy_evictions - add the policy's new evictions to the total and publish it */
static void
run_policy_evictions(struct run_policy *rp)
{
	struct counters_stats cs;

	if (rp->policy == NULL || rp->run->metrics == NULL)
		return;
	policy_get_counters_stats(rp->policy, &cs);
	if (cs.evictions > rp->evictions_seen)
		rp->run->evicted += cs.evictions - rp->evictions_seen;
	rp->evictions_seen = cs.evictions;
	(void)metrics_counters_evicted(rp->run->metrics, rp->run->evicted);
}

static int
run_policy_on_metrics(sd_event_source *s, uint64_t usec, void *ud)
{
	run_policy_evictions(ud);
	(void)sd_event_source_set_time_relative(s, RUN_POLICY_METRICS_USEC);
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* run_policy_use - a new policy replaces the running one */
static void
run_policy_use(struct run_policy *rp, struct policy *p)
{
	run_policy_evictions(rp);	/* the old one's last */
	rp->evictions_seen = 0;
	policy_set_recorder(p, run_policy_record, rp);
#ifdef HAVE_AUTH_POLICY
	if (rp->auth != NULL)
		auth_policy_set_policy(rp->auth, p);
#endif
	policy_free(rp->policy);
	rp->policy = p;
}

/* run_policy_bind - new rules onto the running counters; failure asks for a rebuild */
static void
run_policy_bind(struct run_policy *rp, struct mx_rules *rules)
{
	int r = policy_set_rules(rp->policy, rules);	/* frees rules on failure */

	if (r >= 0)
		return;
	log_warning("policy: the reloaded rules do not fit the running counters: %s; "
	    "rebuilding the counters from the database", strerror(-r));
	pthread_mutex_lock(&rp->lock);
	rp->want_rebuild = 1;
	rp->out_woken = 1;
	pthread_mutex_unlock(&rp->lock);
	run_policy_wake(rp->out_fd);
}

/*
 * run_policy_on_in - the thread's wake-up: count the queued events (up to a
 * pending policy switch, then switch), apply new rules, stop.
 */
static int
run_policy_on_in(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct run_policy *rp = ud;
	struct mx_rules *rules;
	struct policy *np;
	unsigned head, n;
	int stop;

	run_policy_drain_fd(fd);
	for (;;) {
		pthread_mutex_lock(&rp->lock);
		rp->in_woken = 0;
		head = rp->ev_head;
		n = rp->ev_n;
		np = NULL;
		if (rp->new_policy != NULL && rp->new_policy_at - rp->ev_consumed < n)
			n = (unsigned)(rp->new_policy_at - rp->ev_consumed);
		if (rp->new_policy != NULL && rp->ev_consumed + n == rp->new_policy_at) {
			np = rp->new_policy;
			rp->new_policy = NULL;
		}
		/* rules posted after a pending policy apply to that policy */
		rules = rp->new_policy == NULL ? rp->new_rules : NULL;
		if (rules != NULL)
			rp->new_rules = NULL;
		stop = rp->stop;
		pthread_mutex_unlock(&rp->lock);

		for (unsigned i = 0; i < n; i++)
			(void)policy_observe_packed(rp->policy,
			    &rp->events[(head + i) % RUN_POLICY_EVENTS], clock_now_usec());
		pthread_mutex_lock(&rp->lock);
		rp->ev_head = (rp->ev_head + n) % RUN_POLICY_EVENTS;
		rp->ev_n -= n;
		rp->ev_consumed += n;
		n = rp->ev_n;
		pthread_mutex_unlock(&rp->lock);
		if (np != NULL)
			run_policy_use(rp, np);
		if (rules != NULL)
			run_policy_bind(rp, rules);
		if (stop)
			return sd_event_exit(rp->event, 0);
		if (n == 0 && np == NULL && rules == NULL)
			return 0;
	}
}

/* run_policy_ready - tell the starting main thread how the set-up went */
static void
run_policy_ready(struct run_policy *rp, int r)
{
	pthread_mutex_lock(&rp->lock);
	rp->ready = 1;
	rp->start_error = r;
	pthread_cond_signal(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
}

/* run_policy_auth - Dovecot's auth policy endpoint on the thread's loop, when configured */
static int
run_policy_auth(struct run_policy *rp)
{
	if (rp->auth_listen == NULL)
		return 0;
#ifdef HAVE_AUTH_POLICY
	struct auth_policy_conf ac = {
		.listen = rp->auth_listen, .api_key = rp->auth_key, .api_header = rp->auth_header,
		.defer_delay = rp->auth_defer_sec, .count_reports = rp->auth_count_reports,
	};
	int r = auth_policy_new(rp->event, &ac, rp->policy, &rp->auth);

	if (r < 0)
		log_err("auth-policy: listen %s: %s", rp->auth_listen, strerror(-r));
	return r;
#else
	log_warning("auth-policy: not built in (configure --with-auth-policy); "
	    "listen %s ignored", rp->auth_listen);
	return 0;
#endif
}

/* run_policy_main - the thread: its loop, the listeners, until stopped */
static void *
run_policy_main(void *ud)
{
	struct run_policy *rp = ud;
	sigset_t ss;
	int r;

	sigemptyset(&ss);
	sigaddset(&ss, SIGPIPE);	/* a peer gone: EPIPE, not a signal */
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	if ((r = sd_event_new(&rp->event)) < 0 ||
	    (r = sd_event_add_io(rp->event, &rp->in_source, rp->in_fd, EPOLLIN, run_policy_on_in,
	    rp)) < 0) {
		log_err("policy: cannot set up the event loop: %s", strerror(-r));
	} else {
		(void)sd_event_source_set_priority(rp->in_source, SD_EVENT_PRIORITY_IMPORTANT);
		r = sd_event_add_time_relative(rp->event, &rp->metrics_timer, CLOCK_MONOTONIC,
		    RUN_POLICY_METRICS_USEC, 0, run_policy_on_metrics, rp);
		if (r >= 0)
			r = sd_event_add_time_relative(rp->event, &rp->out_timer, CLOCK_MONOTONIC,
			    RUN_POLICY_OUT_DELAY_USEC, RUN_POLICY_OUT_DELAY_USEC,
			    run_policy_on_out_timer, rp);
		if (r >= 0)
			r = sd_event_source_set_enabled(rp->out_timer, SD_EVENT_OFF);
		if (r >= 0 && (rp->sconf.n_listens > 0 || rp->sconf.socket_activation))
			r = policy_server_new(rp->event, &rp->sconf, run_policy_decide, rp,
			    &rp->server);
		if (r >= 0)
			r = run_policy_auth(rp);
	}
	run_policy_ready(rp, r);
	if (r >= 0 && (r = sd_event_loop(rp->event)) < 0)
		log_err("policy: event loop failed: %s", strerror(-r));
	run_policy_evictions(rp);
	rp->metrics_timer = sd_event_source_disable_unref(rp->metrics_timer);
	rp->out_timer = sd_event_source_disable_unref(rp->out_timer);
#ifdef HAVE_AUTH_POLICY
	rp->auth = auth_policy_free(rp->auth);
#endif
	rp->server = policy_server_free(rp->server);
	rp->in_source = sd_event_source_disable_unref(rp->in_source);
	rp->event = sd_event_unref(rp->event);
	return NULL;
}

/* ---------------------------------------------------------- main thread */

/* run_policy_log - one decision in the log: rule, action, client, counters */
static void
run_policy_log(struct run_policy *rp, const struct policy_record *rec)
{
	const char *user = rec->sasl_username[0] != '\0' ? rec->sasl_username : "-";
	int64_t sec = rec->ts_usec / 1000000;

	if (rec->error != 0) {
		if (sec != rp->err_second) {
			if (rp->err_suppressed > 0)
				log_warning("policy: %u more internal errors", rp->err_suppressed);
			rp->err_second = sec;
			rp->err_logged = rp->err_suppressed = 0;
		}
		if (rp->err_logged++ >= RUN_POLICY_ERR_BURST) {
			rp->err_suppressed++;
			return;
		}
		log_warning("policy: internal error deciding for %s (%s): %s; answered \"%s\"",
		    rec->client_address, rec->protocol_state, strerror(-rec->error), rec->action);
		return;
	}
	log_info("policy: rule \"%s\" %s \"%s\" to %s (%s, user %s): counters %s",
	    rec->rule, rec->dry_run ? "would have answered (dry run)" : "answered", rec->action,
	    rec->client_address[0] != '\0' ? rec->client_address : "-",
	    rec->protocol_state[0] != '\0' ? rec->protocol_state : "-", user, rec->counters);
}

/* run_policy_keep - a drained record into the pending list (dropping the oldest when full) */
static void
run_policy_keep(struct run_policy *rp, struct policy_record *rec)
{
	if (rp->n_pending == RUN_POLICY_PENDING) {
		free(rp->pending[0]);
		memmove(rp->pending, rp->pending + 1, (rp->n_pending - 1) * sizeof(*rp->pending));
		rp->n_pending--;
		rp->pending_dropped++;
	}
	rp->pending[rp->n_pending++] = rec;
}

/* run_policy_rebuild - a new policy from cfg and the database; NULL on failure (logged) */
static struct policy *
run_policy_rebuild(struct run *run, const struct mx_config *cfg)
{
	struct policy *p;
	int64_t t0 = clock_mono_usec(), now = clock_now_usec();
	int r;

	if ((r = policy_new(cfg, &p)) < 0) {
		log_err("policy: cannot build the rules and counters: %s", strerror(-r));
		return NULL;
	}
	if (run->crowdsec != NULL)
		policy_set_crowdsec(p, crowdsec_lookup, run->crowdsec);
	else if (rules_count(cfg->rules) > 0 && (rules_use_crowdsec(cfg->rules) & 1))
		log_warning("policy: rules ask CrowdSec but no CrowdSec client runs (the crowdsec "
		    "block takes effect at the next start); their crowdsec conditions never hold");
	r = policy_rebuild(p, run->st, now);
	if (r < 0) {
		log_err("policy: cannot read the history from the database: %s; "
		    "counting from now on", strerror(-r));
	} else if (policy_history_window(p) > 0) {
		log_info("policy: counters rebuilt from %d stored events of the last %" PRId64
		    " s in %" PRId64 " ms", r, policy_history_window(p) / 1000000,
		    (clock_mono_usec() - t0) / 1000);
	}
	return p;
}

/* run_policy_post_policy - hand a rebuilt policy to the thread, after the events queued so far */
static void
run_policy_post_policy(struct run_policy *rp, struct policy *p)
{
	struct policy *old;
	int wake;

	struct mx_rules *rules;

	pthread_mutex_lock(&rp->lock);
	old = rp->new_policy;
	rp->new_policy = p;
	rp->new_policy_at = rp->ev_produced;
	rules = rp->new_rules;		/* older than p's own rules */
	rp->new_rules = NULL;
	wake = !rp->in_woken;
	rp->in_woken = 1;
	pthread_mutex_unlock(&rp->lock);
	policy_free(old);	/* never taken: replaced by the newer one */
	rules_free(rules);
	if (wake)
		run_policy_wake(rp->in_fd);
}

/* run_policy_on_out - decisions from the thread: log them, keep them for storing */
static int
run_policy_on_out(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct run *run = ud;
	struct run_policy *rp = run->policy;
	struct policy_record *batch[RUN_POLICY_RECORDS];
	unsigned n;
	int rebuild;
	struct policy *p;

	run_policy_drain_fd(fd);
	pthread_mutex_lock(&rp->lock);
	rp->out_woken = 0;
	for (n = 0; n < rp->rec_n; n++)
		batch[n] = rp->recs[(rp->rec_head + n) % RUN_POLICY_RECORDS];
	rp->rec_head = (rp->rec_head + n) % RUN_POLICY_RECORDS;
	rp->rec_n = 0;
	rebuild = rp->want_rebuild;
	rp->want_rebuild = 0;
	pthread_mutex_unlock(&rp->lock);
	for (unsigned i = 0; i < n; i++) {
		run_policy_log(rp, batch[i]);
		run_policy_keep(rp, batch[i]);
	}
	if (n > 0)
		run_schedule_flush(run);
	if (rebuild && run_flush(run) >= 0 && (p = run_policy_rebuild(run, run->cfg)) != NULL)
		run_policy_post_policy(rp, p);
	return 0;
}

/* run_policy_event - ingest's emit hook: queue what the history counters use */
int
run_policy_event(void *ud, const struct mx_event *ev)
{
	struct run *run = ud;
	struct run_policy *rp = run->policy;
	uint64_t dropped = 0;
	int wake = 0;

	if (rp == NULL || !policy_event_wanted(ev->kind))
		return 0;
	pthread_mutex_lock(&rp->lock);
	if (rp->ev_n == RUN_POLICY_EVENTS) {
		dropped = ++rp->ev_dropped;
	} else {
		policy_event_pack(&rp->events[(rp->ev_head + rp->ev_n) % RUN_POLICY_EVENTS], ev);
		rp->ev_n++;
		rp->ev_produced++;
		wake = !rp->in_woken;
		rp->in_woken = 1;
	}
	pthread_mutex_unlock(&rp->lock);
	if (wake)
		run_policy_wake(rp->in_fd);
	if (dropped > 0 && (dropped & (dropped - 1)) == 0)	/* 1, 2, 4, 8, ... */
		log_warning("policy: the event queue is full (%d events): %" PRIu64 " events "
		    "not counted so far", RUN_POLICY_EVENTS, dropped);
	return 0;
}

/* run_policy_recycle - stored records back to the thread (as spares) or freed */
static void
run_policy_recycle(struct run_policy *rp, struct policy_record **recs, size_t n)
{
	size_t i = 0;

	pthread_mutex_lock(&rp->lock);
	for (; i < n && rp->n_spare < RUN_POLICY_SPARE; i++)
		rp->spare[rp->n_spare++] = recs[i];
	pthread_mutex_unlock(&rp->lock);
	for (; i < n; i++)
		free(recs[i]);
}

/* run_policy_flush - store the pending decisions in a transaction of their own */
int
run_policy_flush(struct run *run)
{
	struct run_policy *rp = run->policy;
	int r;

	if (rp == NULL || rp->n_pending == 0)
		return 0;
	if (!sqlite3_get_autocommit(store_db(run->st)))
		return 0;	/* events are being written: next time */
	r = history_store_decisions(run->st, (const struct policy_record *const *)rp->pending,
	    rp->n_pending);
	if (r < 0) {
		if (!rp->store_failing)
			log_warning("policy: storing %zu decisions failed: %s; keeping them "
			    "(at most %d) and retrying", rp->n_pending, strerror(-r),
			    RUN_POLICY_PENDING);
		rp->store_failing = 1;
		run_schedule_flush(run);
		return r;
	}
	if (rp->store_failing)
		log_notice("policy: decisions are stored again");
	rp->store_failing = 0;
	rp->stored += rp->n_pending;
	run_policy_recycle(rp, rp->pending, rp->n_pending);
	rp->n_pending = 0;
	return 0;
}

/* run_policy_free - everything of a stopped (or never started) service */
static void
run_policy_free(struct run_policy *rp)
{
	if (rp == NULL)
		return;
	for (unsigned i = 0; i < rp->rec_n; i++)
		free(rp->recs[(rp->rec_head + i) % RUN_POLICY_RECORDS]);
	for (size_t i = 0; i < rp->n_pending; i++)
		free(rp->pending[i]);
	for (unsigned i = 0; i < rp->n_spare; i++)
		free(rp->spare[i]);
	free(rp->pending);
	rules_free(rp->new_rules);
	policy_free(rp->new_policy);
	policy_free(rp->policy);
	sd_event_source_disable_unref(rp->out_source);
	if (rp->in_fd >= 0)
		close(rp->in_fd);
	if (rp->out_fd >= 0)
		close(rp->out_fd);
	pthread_mutex_destroy(&rp->lock);
	pthread_cond_destroy(&rp->cond);
	run_policy_conf_done(rp);
	free(rp->events);
	free(rp);
}

/* run_policy_alloc - the shared state, before any thread */
static int
run_policy_alloc(struct run *run, const struct mx_config *cfg, struct run_policy **ret)
{
	struct run_policy *rp = calloc(1, sizeof(*rp));
	int r;

	if (rp == NULL)
		return -ENOMEM;
	rp->run = run;
	rp->in_fd = rp->out_fd = -1;
	pthread_mutex_init(&rp->lock, NULL);
	pthread_cond_init(&rp->cond, NULL);
	rp->counters_memory = cfg->policy.counters_memory;
	rp->history_window = cfg->policy.history_window_usec;
	if ((rp->events = calloc(RUN_POLICY_EVENTS, sizeof(*rp->events))) == NULL ||
	    (rp->pending = calloc(RUN_POLICY_PENDING, sizeof(*rp->pending))) == NULL ||
	    (r = run_policy_conf(rp, cfg)) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	if ((rp->in_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    (rp->out_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = sd_event_add_io(run->event, &rp->out_source, rp->out_fd, EPOLLIN,
	    run_policy_on_out, run)) < 0)
		goto fail;
	(void)sd_event_source_set_description(rp->out_source, "policy-decisions");
	*ret = rp;
	return 0;
fail:
	run_policy_free(rp);
	return r;
}

int
run_policy_start(struct run *run, const struct mx_config *cfg)
{
	struct run_policy *rp = NULL;
	int r;

	if (!config_policy_enabled(cfg))
		return 0;
	if ((r = run_policy_alloc(run, cfg, &rp)) < 0) {
		log_err("policy: cannot set up: %s", strerror(-r));
		return r;
	}
	if ((rp->policy = run_policy_rebuild(run, cfg)) == NULL) {
		run_policy_free(rp);
		return -ENOMEM;
	}
	policy_set_recorder(rp->policy, run_policy_record, rp);
	if ((r = -pthread_create(&rp->thread, NULL, run_policy_main, rp)) < 0) {
		log_err("policy: cannot start the thread: %s", strerror(-r));
		run_policy_free(rp);
		return r;
	}
	pthread_mutex_lock(&rp->lock);
	while (!rp->ready)
		pthread_cond_wait(&rp->cond, &rp->lock);
	r = rp->start_error;
	pthread_mutex_unlock(&rp->lock);
	rp->started = 1;
	run->policy = rp;
	if (r < 0) {	/* the listeners (logged by policy_server.c) */
		run_policy_stop(run);
		return r;
	}
	log_notice("policy: answering on %zu listener%s%s%s%s, %zu rule%s%s",
	    rp->sconf.n_listens, rp->sconf.n_listens == 1 ? "" : "s",
	    rp->sconf.socket_activation ? " and systemd's sockets" : "",
	    rp->auth != NULL ? ", Dovecot auth policy on " : "",
	    rp->auth != NULL ? rp->auth_listen : "",
	    rules_count(cfg->rules), rules_count(cfg->rules) == 1 ? "" : "s",
	    cfg->policy.warn ? " (mode warn: dry run)" : "");
	return 0;
}

void
run_policy_stop(struct run *run)
{
	struct run_policy *rp = run->policy;

	if (rp == NULL)
		return;
	if (rp->started) {
		pthread_mutex_lock(&rp->lock);
		rp->stop = 1;
		rp->in_woken = 1;
		pthread_mutex_unlock(&rp->lock);
		run_policy_wake(rp->in_fd);
		pthread_join(rp->thread, NULL);
		rp->started = 0;
	}
	/* the decisions of the last moments: log and store them now */
	(void)run_policy_on_out(rp->out_source, rp->out_fd, EPOLLIN, run);
	(void)run_policy_flush(run);
	if (rp->ev_dropped > 0 || rp->rec_dropped > 0 || rp->pending_dropped > 0)
		log_warning("policy: %" PRIu64 " events and %" PRIu64 " decisions were dropped "
		    "on full queues", rp->ev_dropped, rp->rec_dropped + rp->pending_dropped);
	run->policy = NULL;
	run_policy_free(rp);
}

int
run_policy_reload(struct run *run, const struct mx_config *cfg)
{
	struct run_policy *rp = run->policy;
	struct mx_rules *rules, *old;
	struct policy *p;
	int r, wake;

	if (!config_policy_enabled(cfg)) {
		if (rp != NULL)
			log_notice("policy: no listener in the configuration; stopping the "
			    "policy service");
		run_policy_stop(run);
		return 0;
	}
	if (rp == NULL)
		return run_policy_start(run, cfg);
	if (!run_policy_conf_same(rp, cfg))
		log_warning("policy: changed listeners, connection limits and auth-policy "
		    "settings take effect at the next start");
	if (cfg->policy.counters_memory != rp->counters_memory ||
	    cfg->policy.history_window_usec != rp->history_window) {
		if ((p = run_policy_rebuild(run, cfg)) == NULL)
			return -ENOMEM;
		rp->counters_memory = cfg->policy.counters_memory;
		rp->history_window = cfg->policy.history_window_usec;
		run_policy_post_policy(rp, p);
		log_notice("policy: counters-memory or history-window changed: counters "
		    "rebuilt from the database");
		return 0;
	}
	if ((r = config_rules_new(cfg, NULL, &rules)) < 0) {
		log_err("policy: cannot build the reloaded rules: %s; keeping the running ones",
		    strerror(-r));
		return r;
	}
	pthread_mutex_lock(&rp->lock);
	old = rp->new_rules;
	rp->new_rules = rules;
	wake = !rp->in_woken;
	rp->in_woken = 1;
	pthread_mutex_unlock(&rp->lock);
	rules_free(old);
	if (wake)
		run_policy_wake(rp->in_fd);
	log_notice("policy: %zu rule%s loaded; counters kept", rules_count(cfg->rules),
	    rules_count(cfg->rules) == 1 ? "" : "s");
	return 0;
}

void
run_policy_status(const struct run *run, char *buf, size_t size)
{
	const struct run_policy *rp = run->policy;

	if (rp == NULL) {
		snprintf(buf, size, "%s", "");
		return;
	}
	snprintf(buf, size, "; policy: %" PRIu64 " decisions stored%s, %" PRIu64
	    " events dropped", rp->stored, rp->store_failing ? " (storing fails)" : "",
	    rp->ev_dropped);
}
