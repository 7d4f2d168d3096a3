/*
 * NAME
 *	run - the state of `mxledger run`, shared by its two files
 * SYNOPSIS
 *	#include "run.h"
 *
 *	cmd_run.c:
 *	int run_after_ingest(struct run *run, int r);
 *	int run_flush(struct run *run);
 *	int run_commit(struct run *run);
 *	void run_schedule_flush(struct run *run);
 *
 *	run_input.c:
 *	int run_inputs_sync(struct run *run, const struct mx_config *cfg,
 *	    size_t *ret_kept, size_t *ret_added, size_t *ret_removed);
 *	void run_inputs_free(struct run *run);
 *	void run_inputs_pause(struct run *run, int paused);
 *	void run_inputs_rewind(struct run *run);
 *
 *	run_metrics.c:
 *	int run_crowdsec_start(struct run *run, const struct mx_config *cfg);
void run_crowdsec_stop(struct run *run);
void run_crowdsec_reload(struct run *run, const struct mx_config *cfg);
void run_crowdsec_event(struct run *run, const struct mx_event *ev);
void run_crowdsec_decided(struct run *run, const struct policy_request *req,
    const struct rules_decision *d);

int run_metrics_start(struct run *run, const struct mx_config *cfg);
 *	void run_metrics_reload(struct run *run, const struct mx_config *cfg);
 *	void run_metrics_stop(struct run *run);
 *	int run_metrics_event(void *ud, const struct mx_event *ev);
 *	void run_metrics_inputs(struct run *run);
 *
 *	run_policy.c:
 *	int run_policy_start(struct run *run, const struct mx_config *cfg);
 *	void run_policy_stop(struct run *run);
 *	int run_policy_reload(struct run *run, const struct mx_config *cfg);
 *	int run_policy_event(void *ud, const struct mx_event *ev);
 *	int run_policy_flush(struct run *run);
 *	void run_policy_status(const struct run *run, char *buf, size_t size);
 * DESCRIPTION
 *	cmd_run.c owns the loop: options, commits and their failures, timers,
 *	signals, systemd notifications. run_input.c owns the inputs: one
 *	tail.c follower or journal.c reader per configured input, whose
 *	callbacks feed ingest.c and call run_after_ingest() after each line.
 *
 *	run_after_ingest() takes the result of ingest_line()/ingest_journal()
 *	(or a store error met elsewhere in a callback): a negative one is kept
 *	and handled by the commit code outside the callback (roll back, rewind,
 *	pause, retry), and is returned so that the input stops its round; a
 *	full batch schedules a commit; otherwise the batch timer is armed.
 *
 *	run_inputs_sync() makes the running inputs those of cfg: an input
 *	equal to a running one (type, path, envelope, start-at, matches) keeps
 *	running, others are opened (errors logged with file:line) or closed.
 *	run_inputs_rewind() sends every input back to its committed position
 *	after ingest_rewind().
 *
 *	run_flush() commits what is pending now (the log events, then the
 *	policy's decisions); run_commit() is its ingest_flush() with the
 *	metrics of a commit (duration, failure), also used before a rotated
 *	file is taken up; run_schedule_flush() arms the batch timer.
 *
 *	run_metrics.c owns the metrics registry (run->metrics, created at
 *	start whatever the configuration says, kept across reloads so that
 *	counters never go back) and what the metrics block turns on: the
 *	HTTP endpoint, the self-evaluated alerts, the textfile timer.
 *	run_metrics_event() is ingest's emit hook: it counts the event, notes
 *	the time of the line for the ingest lag of the input being read
 *	(run->reading), and passes the event on to run_policy_event().
 *	run_metrics_inputs() publishes the lines each input read since the
 *	last call, and its lag (cmd_run.c calls it at every flush and every
 *	status update).
 *
 *	run_policy.c owns the policy service: a thread with its own loop,
 *	listeners and struct policy (run_policy_start(): only when the
 *	configuration has a policy listener or socket activation; a no-op
 *	otherwise), fed by run_policy_event() (ingest's emit hook, ud = the
 *	run) and sending back the decisions that run_policy_flush() stores.
 *	run_policy_stop() joins the thread and stores the last decisions.
 *	run_policy_reload() applies a reloaded configuration (see
 *	run_policy.c for what is kept).
 * RETURNS
 *	run_inputs_sync(): 0, or -ENOMEM. run_metrics_start(): 0, -ENOMEM, or
 *	the -errno of metrics_http_new() when the endpoint cannot listen (the
 *	daemon exits EX_OSERR).
 */
#ifndef MX_RUN_H
#define MX_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "event.h"
#include "ingest.h"
#include "policy_proto.h"
#include "rules.h"
#include "journal.h"
#include "store.h"
#include "tail.h"

struct metrics;
struct run;
struct run_metrics;
struct run_policy;

struct run_input {
	struct run *run;
	struct mx_input_conf conf;	/* own copy: outlives the configuration it came from */
	char name[4096 + 16];		/* "/var/log/mail.log", "journal DIR", "the system journal" */
	struct tail *tail;
	struct journal_input *journal;
	struct ingest_source src;
	/* metrics, since the last run_metrics_inputs() */
	uint64_t m_lines, m_unrecognised;	/* lines read, and not recognised */
	int64_t m_line_usec;		/* time of the newest event read, 0 = none */
	int64_t m_read_usec;		/* ... and when it was read */
};

struct run {
	sd_event *event;
	struct mx_config *cfg;
	const char *config_path;
	int config_must_exist;
	int arg_log_level;		/* -1: the configuration's */
	int arg_db;			/* --db given: the configuration's database is ignored */
	char *db_path;
	struct store *st;
	struct ingest *ig;
	uint64_t base_lines, base_events, base_stored;	/* of ingests replaced by reloads */
	struct run_input **inputs;
	size_t n_inputs;
	sd_event_source *flush_timer, *flush_defer, *retry_timer;
	sd_event_source *status_timer, *watchdog_timer, *prune_timer;
	int flush_error;		/* from a callback; handled by the flush defer source */
	int failing;			/* commits fail: inputs rewound, paused or retrying */
	int paused;			/* inputs paused until the retry timer */
	int fail_error;
	uint64_t retry_usec;
	uint64_t watchdog_usec;
	struct run_policy *policy;	/* the policy service; NULL when off */
	struct metrics *metrics;	/* the registry: from start to exit, never NULL then */
	struct run_metrics *rm;		/* endpoint, alerts, textfile (run_metrics.c) */
	struct run_input *reading;	/* the input inside ingest_line()/ingest_journal() */
	uint64_t evicted;		/* policy counters evicted so far: written by the policy
					 * thread only (run_policy.c), across its restarts */
	struct crowdsec *crowdsec;	/* the CrowdSec client (run_crowdsec.c); NULL when off;
					 * set before the policy thread starts, cleared after */
	int cs_proxy_errors;		/* push PROXY errors to CrowdSec */
};

int run_after_ingest(struct run *run, int r);
int run_flush(struct run *run);
int run_commit(struct run *run);
void run_schedule_flush(struct run *run);

int run_crowdsec_start(struct run *run, const struct mx_config *cfg);
void run_crowdsec_stop(struct run *run);
void run_crowdsec_reload(struct run *run, const struct mx_config *cfg);
void run_crowdsec_event(struct run *run, const struct mx_event *ev);
void run_crowdsec_decided(struct run *run, const struct policy_request *req,
    const struct rules_decision *d);

int run_metrics_start(struct run *run, const struct mx_config *cfg);
void run_metrics_reload(struct run *run, const struct mx_config *cfg);
void run_metrics_stop(struct run *run);
int run_metrics_event(void *ud, const struct mx_event *ev);
void run_metrics_inputs(struct run *run);

int run_inputs_sync(struct run *run, const struct mx_config *cfg, size_t *ret_kept,
    size_t *ret_added, size_t *ret_removed);
void run_inputs_free(struct run *run);
void run_inputs_pause(struct run *run, int paused);
void run_inputs_rewind(struct run *run);

int run_policy_start(struct run *run, const struct mx_config *cfg);
void run_policy_stop(struct run *run);
int run_policy_reload(struct run *run, const struct mx_config *cfg);
int run_policy_event(void *ud, const struct mx_event *ev);
int run_policy_flush(struct run *run);
void run_policy_status(const struct run *run, char *buf, size_t size);

#endif
