/*
 * NAME
 *	cmd_run - `mxledger run`: follow the mail logs and keep the history
 * SYNOPSIS
 *	mxledger run [--config PATH] [--db PATH] [--log-level LEVEL] [--foreground]
 * DESCRIPTION
 *	The daemon. One sd-event loop carries every input (run_input.c: a
 *	tail.c follower per file input, a journal.c reader per journal
 *	input), the batching timers, the signals and the systemd
 *	notifications. It never forks: systemd (Type=notify) or a terminal
 *	runs it in the foreground.
 *
 *	With a policy block that has a listener (or socket-activation yes)
 *	the Postfix policy service runs beside it, in a thread of its own
 *	(run_policy.c): its counters are rebuilt from the database before it
 *	answers, every event parsed here is passed to it, and the decisions
 *	it sends back are logged and stored here, after the events' commits.
 *
 *	Every event parsed, every line read, every commit and every policy
 *	answer is counted in a metrics registry (run_metrics.c) that lives from
 *	start to exit; a metrics block serves it at /metrics (with /healthz,
 *	unhealthy while commits fail), evaluates the alerts, or writes it as a
 *	node_exporter textfile.
 *
 *	Lines and journal entries go through ingest.c into one open
 *	transaction; it is committed together with the input positions when
 *	batch_events events are pending or batch_msec after the first
 *	uncommitted line. When a commit fails (disk full, unwritable or locked
 *	database) the transaction is rolled back, every input is rewound to
 *	its committed position and paused, and reading resumes after 1 s,
 *	2 s, ... up to 30 s: nothing is lost and nothing is stored twice. The
 *	failure is logged when it starts or changes, and when it ends.
 *
 *	Without inputs in the configuration, config.c adds the default one:
 *	/var/log/mail.log if it exists, the system journal otherwise (both
 *	from their end).
 *
 *	Signals: SIGTERM and SIGINT commit and exit 0. SIGHUP re-reads the
 *	configuration; on error the running one is kept (errors are printed as
 *	file:line). The log level, batch sizes, retention, time zone and proxy
 *	settings apply at once; inputs that changed are closed and opened again
 *	from their stored positions, unchanged inputs go on undisturbed; a new
 *	database path needs a restart. New rules take effect at once, keeping
 *	the counters (run_policy.c says what is kept and what is rebuilt).
 *
 *	systemd: READY=1 once the inputs are set up, STATUS= with the totals
 *	every RUN_STATUS_USEC, WATCHDOG=1 at half the watchdog interval,
 *	RELOADING=1 (with MONOTONIC_USEC) around a reload and STOPPING=1 at
 *	exit. Events (and policy decisions) older than retention are pruned a
 *	minute after start and then hourly, after a commit, in their own
 *	transactions.
 * RETURNS
 *	0 after SIGTERM/SIGINT; EX_USAGE (64) for bad arguments, EX_CONFIG (78)
 *	for a bad configuration, EX_CANTCREAT (73) when the database cannot be
 *	opened, EX_NOINPUT (66) when no input could be set up, EX_OSERR (71)
 *	when the event loop, the policy service (its listeners) or the metrics
 *	endpoint (its socket) cannot be set up.
 * SEE ALSO
 *	run.h, run_input.c (the inputs), run_policy.c (the policy service),
 *	run_metrics.c (metrics, endpoint, alerts), ingest.h, store.h, mxledger(8),
 *	sd_notify(3), tests/journal.sh, tests/crash.sh
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "history.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "run.h"
#include "store.h"

#define RUN_USEC_PER_SEC	((uint64_t)1000000)
#define RUN_RETRY_MIN_USEC	(1 * RUN_USEC_PER_SEC)	/* first retry after a failed commit */
#define RUN_RETRY_MAX_USEC	(30 * RUN_USEC_PER_SEC)	/* backoff ceiling */
#define RUN_STATUS_USEC		(5 * RUN_USEC_PER_SEC)
#define RUN_PRUNE_FIRST_USEC	(60 * RUN_USEC_PER_SEC)
#define RUN_PRUNE_EVERY_USEC	(3600 * RUN_USEC_PER_SEC)

static void
run_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxledger run [OPTIONS]\n"
	    "Follow the mail logs and store their events (the daemon; stays in the foreground).\n\n"
	    "  -c, --config PATH      configuration file (default " MX_CONFIG_DEFAULT_PATH ")\n"
	    "  -d, --db PATH          database (default: from the configuration)\n"
	    "  -l, --log-level LEVEL  err, warning, notice, info (default) or debug\n"
	    "  -f, --foreground       accepted for compatibility; always the case\n"
	    "  -h, --help             this text\n"
	    "SIGHUP reloads the configuration, SIGTERM commits and exits.\n");
}

/* run_level_from_name - syslog priority from "err".."debug" or a digit */
static int
run_level_from_name(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
		{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "warn", LOG_WARNING }, { "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].level;
	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	return -1;
}

/* run_timer_in - (re)arm a one-shot monotonic timer `usec` from now */
static int
run_timer_in(struct run *run, sd_event_source *s, uint64_t usec)
{
	uint64_t now;
	int r;

	r = sd_event_now(run->event, CLOCK_MONOTONIC, &now);
	if (r < 0)
		return r;
	r = sd_event_source_set_time(s, now + usec);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* ------------------------------------------------------------- committing */


/* run_store_error - what a store error means to an administrator */
static const char *
run_store_error(int error)
{
	switch (error) {
	case -EBUSY:
		return "the database is locked by another writer";
	case -EROFS:
	case -EACCES:
	case -EPERM:
		return "the database is not writable";
	default:
		return strerror(-error);
	}
}

static void
run_arm_retry(struct run *run)
{
	if (run_timer_in(run, run->retry_timer, run->retry_usec) < 0)
		log_err("store: cannot arm the retry timer");
	run->retry_usec *= 2;
	if (run->retry_usec > RUN_RETRY_MAX_USEC)
		run->retry_usec = RUN_RETRY_MAX_USEC;
}

/*
 * run_fail - a write failed: roll back, rewind every input to its committed
 * position, pause them all and retry later. Logged when the failure starts
 * or its cause changes, not on every retry.
 */
static void
run_fail(struct run *run, int error)
{
	if (!run->failing)
		run->retry_usec = RUN_RETRY_MIN_USEC;
	if (!run->failing || error != run->fail_error)
		log_err("store: commit failed: %s; position kept, retrying in %" PRIu64 "s",
		    run_store_error(error), run->retry_usec / RUN_USEC_PER_SEC);
	else
		log_debug("store: commit failed again: %s; retrying in %" PRIu64 "s",
		    run_store_error(error), run->retry_usec / RUN_USEC_PER_SEC);
	if (!run->failing || error != run->fail_error) {
		char why[METRICS_HEALTH_MAX];

		snprintf(why, sizeof(why), "database commits failing: %s", run_store_error(error));
		metrics_set_health(run->metrics, why);
	}
	run->failing = 1;
	run->fail_error = error;
	ingest_rewind(run->ig);
	run_inputs_rewind(run);
	run_inputs_pause(run, 1);
	(void)sd_event_source_set_enabled(run->flush_timer, SD_EVENT_OFF);
	run_arm_retry(run);
}

/*
 * run_commit - ingest_flush(), timed: each commit tried (or failed before its
 * COMMIT) is one observation of mxledger_db_batch_seconds, and a failure one
 * of mxledger_db_errors_total. Nothing to commit is not a batch.
 */
int
run_commit(struct run *run)
{
	const struct ingest_stats *s = ingest_get_stats(run->ig);
	uint64_t commits = s->commits;
	int64_t t0 = clock_mono_usec();
	int r = ingest_flush(run->ig);

	if (r < 0 || s->commits > commits)
		(void)metrics_db_batch(run->metrics, (double)(clock_mono_usec() - t0) / 1e6,
		    r < 0);
	return r;
}

/*
 * run_flush - commit what is pending (or handle a callback's error); -errno on
 * failure. The policy's decisions follow in a transaction of their own: their
 * failure is the policy's business (run_policy.c), never a reason to rewind.
 * A callback's error (a write of the open transaction failed) counts as a
 * failed batch of 0 s. Every flush publishes the inputs' line counts.
 */
int
run_flush(struct run *run)
{
	uint64_t commits = ingest_get_stats(run->ig)->commits;
	int r;

	(void)sd_event_source_set_enabled(run->flush_timer, SD_EVENT_OFF);
	r = run->flush_error;
	run->flush_error = 0;
	if (r < 0)
		(void)metrics_db_batch(run->metrics, 0, 1);
	else
		r = run_commit(run);
	run_metrics_inputs(run);
	if (r < 0) {
		run_fail(run, r);
		return r;
	}
	if (run->failing && ingest_get_stats(run->ig)->commits > commits) {
		log_notice("store: commits work again; reading on");
		metrics_set_health(run->metrics, NULL);
		run->failing = 0;
		run->fail_error = 0;
	}
	(void)run_policy_flush(run);
	return 0;
}

/* run_schedule_flush - commit within batch_msec (something is waiting to be stored) */
void
run_schedule_flush(struct run *run)
{
	if (sd_event_source_get_enabled(run->flush_timer, NULL) == 0)
		(void)run_timer_in(run, run->flush_timer, (uint64_t)run->cfg->batch_msec * 1000);
}

/* run_after_ingest - after each line: note an error, or commit when the batch is full */
int
run_after_ingest(struct run *run, int r)
{
	if (r < 0) {
		if (run->flush_error == 0)
			run->flush_error = r;
		(void)sd_event_source_set_enabled(run->flush_defer, SD_EVENT_ONESHOT);
		return r;
	}
	if (ingest_pending(run->ig) >= run->cfg->batch_events)
		(void)sd_event_source_set_enabled(run->flush_defer, SD_EVENT_ONESHOT);
	else if (sd_event_source_get_enabled(run->flush_timer, NULL) == 0)
		(void)run_timer_in(run, run->flush_timer,
		    (uint64_t)run->cfg->batch_msec * 1000);
	return 0;
}

/* ------------------------------------------------------------------ timers */

static int
run_on_flush(sd_event_source *s, void *ud)
{
	(void)run_flush(ud);
	return 0;
}

static int
run_on_flush_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)run_flush(ud);
	return 0;
}

/* run_on_retry - after a failure: read again; the next commit tells whether it works */
static int
run_on_retry(sd_event_source *s, uint64_t usec, void *ud)
{
	struct run *run = ud;

	log_debug("store: retrying");
	run_inputs_pause(run, 0);
	(void)run_timer_in(run, run->flush_timer, (uint64_t)run->cfg->batch_msec * 1000);
	return 0;
}

static void
run_notify_status(struct run *run)
{
	const struct ingest_stats *s = ingest_get_stats(run->ig);
	char policy[128];

	run_policy_status(run, policy, sizeof(policy));
	sd_notifyf(0, "STATUS=%zu input%s; %" PRIu64 " lines, %" PRIu64 " events, %" PRIu64
	    " stored%s%s%s", run->n_inputs, run->n_inputs == 1 ? "" : "s",
	    run->base_lines + s->lines, run->base_events + s->events,
	    run->base_stored + s->stored, run->failing ? "; database failing: " : "",
	    run->failing ? run_store_error(run->fail_error) : "", policy);
}

static int
run_on_status(sd_event_source *s, uint64_t usec, void *ud)
{
	struct run *run = ud;

	run_notify_status(run);
	run_metrics_inputs(run);	/* an idle input too: its series exists */
	(void)run_timer_in(run, s, RUN_STATUS_USEC);
	return 0;
}

static int
run_on_watchdog(sd_event_source *s, uint64_t usec, void *ud)
{
	struct run *run = ud;

	sd_notify(0, "WATCHDOG=1");
	(void)run_timer_in(run, s, run->watchdog_usec / 2);
	return 0;
}

/* run_on_prune - retention: commit, then delete old events in a transaction of their own */
static int
run_on_prune(sd_event_source *s, uint64_t usec, void *ud)
{
	struct run *run = ud;
	int64_t deleted = 0;
	int r;

	(void)run_timer_in(run, s, RUN_PRUNE_EVERY_USEC);
	if (run->cfg->retention_sec <= 0 || run->failing || run_flush(run) < 0)
		return 0;
	r = store_prune(run->st, clock_now_usec() - run->cfg->retention_sec * 1000000, &deleted);
	if (r < 0)
		log_warning("retention: pruning failed: %s; trying again in an hour",
		    strerror(-r));
	else if (deleted > 0)
		log_info("retention: removed %" PRId64 " events older than %" PRId64 " %s",
		    deleted, run->cfg->retention_sec % 86400 == 0 ? run->cfg->retention_sec / 86400 :
		    run->cfg->retention_sec, run->cfg->retention_sec % 86400 == 0 ? "days" : "s");
	r = history_prune_decisions(run->st, clock_now_usec() - run->cfg->retention_sec * 1000000,
	    &deleted);
	if (r < 0)
		log_warning("retention: pruning decisions failed: %s; trying again in an hour",
		    strerror(-r));
	else if (deleted > 0)
		log_info("retention: removed %" PRId64 " policy decisions", deleted);
	return 0;
}

/* ---------------------------------------------------------------- signals */

static int
run_on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct run *run = ud;

	log_info("run: signal %s, committing and exiting", strsignal((int)si->ssi_signo));
	return sd_event_exit(run->event, 0);
}

/* run_apply - the settings that take effect without reopening anything */
static void
run_apply(struct run *run, const struct mx_config *cfg)
{
	log_set_level(run->arg_log_level >= 0 ? run->arg_log_level : cfg->log_level);
	if (cfg->timezone != NULL)
		setenv("TZ", cfg->timezone, 1);
	tzset();
}

/*
 * run_reload - SIGHUP: read the configuration again
 *
 * What was read with the old configuration is committed first (ingest
 * borrows the configuration, so it is replaced by one built on the new).
 */
static int
run_on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct run *run = ud;
	struct mx_config *cfg = NULL;
	struct ingest *ig = NULL;
	const struct ingest_stats *old;
	size_t kept = 0, added = 0, removed = 0;
	int r;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, (uint64_t)clock_mono_usec());
	log_info("config: reloading %s", run->config_path);
	r = config_load(run->config_path, run->config_must_exist, &cfg);
	if (r < 0 || ingest_new(cfg, run->st, run_metrics_event, run, &ig) < 0) {
		log_err("config: reloading %s failed; keeping the running configuration",
		    run->config_path);
		config_free(cfg);
		sd_notify(0, "READY=1");
		return 0;
	}
	if (!run->arg_db && cfg->database != NULL && strcmp(cfg->database, run->db_path) != 0)
		log_warning("config: database \"%s\" takes effect at the next start", cfg->database);
	if (run_flush(run) < 0)
		log_warning("config: reloading while the database fails; uncommitted lines "
		    "will be read again");
	old = ingest_get_stats(run->ig);
	run->base_lines += old->lines;
	run->base_events += old->events;
	run->base_stored += old->stored;
	ingest_free(run->ig);
	run->ig = ig;
	run_crowdsec_reload(run, cfg);	/* compares with the running configuration */
	config_free(run->cfg);
	run->cfg = cfg;
	run_apply(run, cfg);
	if (run_policy_reload(run, cfg) < 0)
		log_err("config: the policy service could not take the new configuration");
	run_metrics_reload(run, cfg);
	if (run_inputs_sync(run, cfg, &kept, &added, &removed) < 0)
		log_err("config: out of memory while reopening inputs");
	log_notice("config: reloaded: %zu inputs (%zu kept, %zu added, %zu removed)",
	    run->n_inputs, kept, added, removed);
	run_notify_status(run);
	sd_notify(0, "READY=1");
	return 0;
}

/* ------------------------------------------------------------------ set-up */

/* run_add_timer - a one-shot timer, first_usec from now, or disabled (UINT64_MAX) */
static int
run_add_timer(struct run *run, sd_event_source **ret, sd_event_time_handler_t cb,
    uint64_t first_usec, const char *name)
{
	int r;

	r = sd_event_add_time(run->event, ret, CLOCK_MONOTONIC, 0, 0, cb, run);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(*ret, name);
	if (first_usec == UINT64_MAX)
		return sd_event_source_set_enabled(*ret, SD_EVENT_OFF);
	return run_timer_in(run, *ret, first_usec);
}

/* run_setup_loop - the event loop with its signals and timers (inputs come later) */
static int
run_setup_loop(struct run *run)
{
	sigset_t ss;
	int r;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		return -errno;
	if ((r = sd_event_default(&run->event)) < 0 ||
	    (r = sd_event_add_signal(run->event, NULL, SIGTERM, run_on_term, run)) < 0 ||
	    (r = sd_event_add_signal(run->event, NULL, SIGINT, run_on_term, run)) < 0 ||
	    (r = sd_event_add_signal(run->event, NULL, SIGHUP, run_on_hup, run)) < 0)
		return r;
	/* commits go before reading more, so a full batch is written at once */
	if ((r = sd_event_add_defer(run->event, &run->flush_defer, run_on_flush, run)) < 0)
		return r;
	(void)sd_event_source_set_enabled(run->flush_defer, SD_EVENT_OFF);
	(void)sd_event_source_set_priority(run->flush_defer, SD_EVENT_PRIORITY_IMPORTANT);
	if ((r = run_add_timer(run, &run->flush_timer, run_on_flush_timer, UINT64_MAX,
	    "flush")) < 0 ||
	    (r = run_add_timer(run, &run->retry_timer, run_on_retry, UINT64_MAX, "retry")) < 0 ||
	    (r = run_add_timer(run, &run->status_timer, run_on_status, RUN_STATUS_USEC,
	    "status")) < 0 ||
	    (r = run_add_timer(run, &run->prune_timer, run_on_prune, RUN_PRUNE_FIRST_USEC,
	    "retention")) < 0)
		return r;
	(void)sd_event_source_set_priority(run->flush_timer, SD_EVENT_PRIORITY_IMPORTANT);
	if (sd_watchdog_enabled(0, &run->watchdog_usec) > 0 && run->watchdog_usec > 0)
		r = run_add_timer(run, &run->watchdog_timer, run_on_watchdog,
		    run->watchdog_usec / 2, "watchdog");
	return r < 0 ? r : 0;
}

static void
run_teardown(struct run *run)
{
	run_policy_stop(run);
	run_crowdsec_stop(run);
	run_metrics_stop(run);
	run_inputs_free(run);
	sd_event_source_disable_unref(run->flush_defer);
	sd_event_source_disable_unref(run->flush_timer);
	sd_event_source_disable_unref(run->retry_timer);
	sd_event_source_disable_unref(run->status_timer);
	sd_event_source_disable_unref(run->watchdog_timer);
	sd_event_source_disable_unref(run->prune_timer);
	ingest_free(run->ig);
	store_free(run->st);
	config_free(run->cfg);
	free(run->db_path);
	sd_event_unref(run->event);
	metrics_free(run->metrics);	/* after every thread that feeds it */
}

/* run_parse_args - options into run; -1 to go on, else the exit status */
static int
run_parse_args(struct run *run, int argc, char **argv, const char **ret_db)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:d:l:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			run->config_path = optarg;
			run->config_must_exist = 1;
			break;
		case 'd':
			*ret_db = optarg;
			break;
		case 'l':
			run->arg_log_level = run_level_from_name(optarg);
			if (run->arg_log_level < 0) {
				fprintf(stderr, "mxledger: run: unknown log level \"%.32s\"\n",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'f':
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			run_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxledger: run: unexpected argument \"%.64s\"\n", argv[optind]);
		return EX_USAGE;
	}
	return -1;
}

int
cmd_run(int argc, char **argv)
{
	struct run run = { .config_path = MX_CONFIG_DEFAULT_PATH, .arg_log_level = -1 };
	const char *arg_db = NULL;
	int r, status;

	status = run_parse_args(&run, argc, argv, &arg_db);
	if (status >= 0)
		return status;
	log_setup("mxledger", run.arg_log_level >= 0 ? run.arg_log_level : LOG_INFO,
	    getenv("JOURNAL_STREAM") != NULL);
	if (config_load(run.config_path, run.config_must_exist, &run.cfg) < 0)
		return EX_CONFIG;
	run_apply(&run, run.cfg);
	run.arg_db = arg_db != NULL;
	run.db_path = strdup(arg_db != NULL ? arg_db :
	    run.cfg->database != NULL ? run.cfg->database : store_default_path());
	if (run.db_path == NULL) {
		status = EX_OSERR;
		goto out;
	}
	r = store_open(run.db_path, MX_STORE_CREATE, &run.st);
	if (r < 0) {
		log_err("store: cannot open %s: %s", run.db_path, strerror(-r));
		status = EX_CANTCREAT;
		goto out;
	}
	r = ingest_new(run.cfg, run.st, run_metrics_event, &run, &run.ig);
	if (r >= 0)
		r = run_setup_loop(&run);
	if (r < 0) {
		log_err("run: cannot set up the event loop: %s", strerror(-r));
		status = EX_OSERR;
		goto out;
	}
	/* before the policy thread, which feeds the registry too */
	if (run_metrics_start(&run, run.cfg) < 0) {
		log_err("run: the metrics endpoint could not start; exiting");
		status = EX_OSERR;
		goto out;
	}
	/* before the policy thread, which asks it; one bounded pull */
	if (run_crowdsec_start(&run, run.cfg) < 0) {
		log_err("run: the CrowdSec client could not start; exiting");
		status = EX_SOFTWARE;
		goto out;
	}
	/* after the signals are blocked (the thread inherits the mask), before any input */
	if (run_policy_start(&run, run.cfg) < 0) {
		log_err("run: the policy service could not start; exiting");
		status = EX_OSERR;
		goto out;
	}
	if (run_inputs_sync(&run, run.cfg, NULL, NULL, NULL) < 0 || run.n_inputs == 0) {
		log_err("run: no input could be opened; exiting");
		status = EX_NOINPUT;
		goto out;
	}
	log_notice("run: started, %zu input%s, database %s", run.n_inputs,
	    run.n_inputs == 1 ? "" : "s", run.db_path);
	sd_notify(0, "READY=1");
	run_notify_status(&run);

	r = sd_event_loop(run.event);
	sd_notify(0, "STOPPING=1");
	if (r < 0)
		log_err("run: event loop failed: %s", strerror(-r));
	run.flush_error = 0;
	r = run_commit(&run);
	if (r < 0)
		log_err("store: final commit failed: %s; uncommitted lines will be read again "
		    "at the next start", strerror(-r));
	run_metrics_inputs(&run);
	run_policy_stop(&run);		/* joins the thread, stores its last decisions */
	run_crowdsec_stop(&run);	/* nobody asks it any more */
	run_metrics_stop(&run);		/* the last textfile has every count */
	status = 0;
out:
	run_teardown(&run);
	return status;
}
