/*
 * NAME
 *	run_metrics - the metrics of `mxledger run`: registry, endpoint, alerts, textfile
 * SYNOPSIS
 *	#include "run.h"
 *
 *	int run_metrics_start(struct run *run, const struct mx_config *cfg);
 *	void run_metrics_reload(struct run *run, const struct mx_config *cfg);
 *	void run_metrics_stop(struct run *run);
 *	int run_metrics_event(void *ud, const struct mx_event *ev);
 *	void run_metrics_inputs(struct run *run);
 * DESCRIPTION
 *	The registry (metrics.h) is made at start whatever the configuration
 *	says and lives until exit: a reload that adds, changes or removes the
 *	metrics block never sets a counter back. Who feeds it:
 *
 *	  run_metrics_event()   every parsed event (ingest's emit hook, before
 *	                        run_policy_event()), and for the input being
 *	                        read (run->reading) the event's time and now
 *	  run_metrics_inputs()  at every flush and every status update
 *	                        (cmd_run.c, 5 s): the lines each input
 *	                        read and did not recognise since the last call
 *	                        (run_input.c counts them), and its ingest lag =
 *	                        when its newest event was read minus the
 *	                        event's time (0 when the log is ahead of us)
 *	  cmd_run.c             every commit's duration and failure
 *	                        (run_commit()), the health ("database commits
 *	                        failing: REASON" while they fail)
 *	  run_policy.c          every answered request (action, rule, latency)
 *	                        and the counters' evictions, from its thread
 *
 *	What the metrics block (mxledger.conf(5) METRICS) turns on, each
 *	applied again at a reload only when its settings changed:
 *
 *	  listen          metrics_http.c's endpoint, on its own thread. At
 *	                  start a socket that cannot be bound is fatal (the
 *	                  daemon exits EX_OSERR, like a policy listener); at a
 *	                  reload it is logged and the endpoint stays off. A
 *	                  build without libmicrohttpd logs a warning and goes
 *	                  on without it.
 *	  alerts          alerts.c's default rules on this loop, to the journal
 *	                  and, with alertmanager-url, to Alertmanager (a build
 *	                  without libcurl logs a warning and keeps the journal)
 *	  textfile        metrics_write_textfile() every textfile-interval,
 *	                  and once more at exit; a failing write is logged
 *	                  when it starts failing and when it works again
 *
 *	With the block removed by a reload all three stop; the registry stays.
 * SEE ALSO
 *	run.h, metrics.h, metrics_http.h, alerts.h, config_metrics.c
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "alerts.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "run.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

struct run_metrics {
	char *listen;			/* the endpoint's configured address; NULL = none */
	char served[64];		/* ... with the port it got: "[::1]:9154" */
	struct metrics_http *http;
	int alerts;			/* alerts were asked for, ... */
	char *am_url;			/* ... with this Alertmanager */
	struct alerts *al;
	char *textfile;			/* NULL = none */
	uint64_t textfile_usec;
	sd_event_source *textfile_timer;
	int textfile_error;		/* of the last write; 0 = it worked */
};

/* run_metrics_str_eq - equal strings, NULL equal only to NULL */
static int
run_metrics_str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* run_metrics_strdup - replace *dst by a copy of s (or NULL) */
static int
run_metrics_strdup(char **dst, const char *s)
{
	char *n = NULL;

	if (s != NULL && (n = strdup(s)) == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

/* ---------------------------------------------------------------- endpoint */

/*
 * run_metrics_http - the endpoint of the configuration, (re)started when its
 * address changed or it is not running. Returns the error of a socket that
 * cannot listen; a build without libmicrohttpd is not one.
 */
static int
run_metrics_http(struct run *run, const char *listen)
{
	struct run_metrics *rm = run->rm;
	const char *colon;
	int r;

	if (rm->http != NULL && run_metrics_str_eq(listen, rm->listen))
		return 0;
	if (rm->http != NULL)
		log_notice("metrics: no longer serving on %s", rm->served);
	rm->http = metrics_http_free(rm->http);
	(void)run_metrics_strdup(&rm->listen, NULL);
	if (listen == NULL)
		return 0;
	r = metrics_http_new(run->metrics, listen, NULL, NULL, &rm->http);
	if (r == -EOPNOTSUPP) {
		log_warning("metrics: HTTP endpoint not built in (configure --with-microhttpd); "
		    "listen %s ignored", listen);
		return 0;
	}
	if (r < 0) {
		log_err("metrics: cannot listen on %s: %s", listen, strerror(-r));
		return r;
	}
	if (run_metrics_strdup(&rm->listen, listen) < 0) {
		rm->http = metrics_http_free(rm->http);
		return -ENOMEM;
	}
	colon = strrchr(listen, ':');	/* config_metrics.c: there is one */
	snprintf(rm->served, sizeof(rm->served), "%.*s:%u", (int)(colon - listen), listen,
	    metrics_http_port(rm->http));
	log_notice("metrics: serving /metrics and /healthz on http://%s/", rm->served);
	return 0;
}

/* ------------------------------------------------------------------ alerts */

/* run_metrics_alerts - the self-evaluated alerts, (re)started when their settings changed */
static void
run_metrics_alerts(struct run *run, int want, const char *url)
{
	struct run_metrics *rm = run->rm;
	struct alerts_conf conf = { .alertmanager_url = url };
	int r;

	if (want == rm->alerts && run_metrics_str_eq(url, rm->am_url) &&
	    (rm->al != NULL || !want))
		return;
	if (rm->al != NULL && !want)
		log_notice("metrics: alerts off");
	rm->al = alerts_free(rm->al);
	rm->alerts = 0;
	(void)run_metrics_strdup(&rm->am_url, NULL);
	if (!want)
		return;
	r = alerts_new(run->metrics, &conf, &rm->al);
	if (r == -EOPNOTSUPP) {
		log_warning("metrics: alertmanager-url %s ignored: built without libcurl; "
		    "alerts go to the journal only", url);
		conf.alertmanager_url = NULL;
		r = alerts_new(run->metrics, &conf, &rm->al);
	}
	if (r >= 0 && (r = alerts_attach(rm->al, run->event)) < 0)
		rm->al = alerts_free(rm->al);
	if (r < 0) {
		log_err("metrics: cannot start the alerts: %s", strerror(-r));
		return;
	}
	rm->alerts = 1;
	(void)run_metrics_strdup(&rm->am_url, url);
	log_notice("metrics: evaluating %zu alert rules every %" PRId64 " s, reported to the "
	    "journal%s%s", alerts_default_n, ALERTS_INTERVAL_DEFAULT / 1000000,
	    conf.alertmanager_url != NULL ? " and to " : "",
	    conf.alertmanager_url != NULL ? conf.alertmanager_url : "");
}

/* ---------------------------------------------------------------- textfile */

/* run_metrics_write - one textfile write; failures logged when they start or change */
static void
run_metrics_write(struct run_metrics *rm, struct metrics *m)
{
	int r = metrics_write_textfile(m, rm->textfile);

	if (r < 0 && r != rm->textfile_error)
		log_warning("metrics: cannot write %s: %s; trying again every %" PRIu64 " s",
		    rm->textfile, strerror(-r), rm->textfile_usec / 1000000);
	else if (r >= 0 && rm->textfile_error != 0)
		log_notice("metrics: %s written again", rm->textfile);
	rm->textfile_error = r < 0 ? r : 0;
}

static int
run_metrics_on_textfile(sd_event_source *s, uint64_t usec, void *ud)
{
	struct run *run = ud;
	struct run_metrics *rm = run->rm;

	run_metrics_write(rm, run->metrics);
	(void)sd_event_source_set_time_relative(s, rm->textfile_usec);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* run_metrics_textfile - write path every usec from now on, or stop writing (NULL) */
static void
run_metrics_textfile(struct run *run, const char *path, uint64_t usec)
{
	struct run_metrics *rm = run->rm;
	int r;

	if (run_metrics_str_eq(path, rm->textfile) && usec == rm->textfile_usec &&
	    (path == NULL || rm->textfile_timer != NULL))
		return;
	if (rm->textfile != NULL && path == NULL)
		log_notice("metrics: no longer writing %s", rm->textfile);
	rm->textfile_timer = sd_event_source_disable_unref(rm->textfile_timer);
	rm->textfile_error = 0;
	if (run_metrics_strdup(&rm->textfile, path) < 0 || path == NULL) {
		free(rm->textfile);
		rm->textfile = NULL;
		return;
	}
	rm->textfile_usec = usec;
	r = sd_event_add_time_relative(run->event, &rm->textfile_timer, CLOCK_MONOTONIC, usec,
	    0, run_metrics_on_textfile, run);
	if (r < 0) {
		log_err("metrics: cannot set up the textfile timer: %s", strerror(-r));
		return;
	}
	(void)sd_event_source_set_description(rm->textfile_timer, "metrics-textfile");
	log_info("metrics: writing %s every %" PRIu64 " s", path, usec / 1000000);
}

/* ------------------------------------------------------------ life cycle */

/* run_metrics_apply - make what runs what cfg's metrics block asks for */
static int
run_metrics_apply(struct run *run, const struct mx_config *cfg)
{
	const struct mx_metrics_conf *mc = &cfg->metrics;
	size_t n = 0;
	int r;

	while (mc->present && mc->proxy_networks != NULL && mc->proxy_networks[n] != NULL)
		n++;
	r = metrics_set_proxy_networks(run->metrics, (const char *const *)mc->proxy_networks, n);
	if (r < 0)	/* config_metrics.c checked them */
		log_err("metrics: proxy-networks refused: %s", strerror(-r));
	r = run_metrics_http(run, mc->present ? mc->listen : NULL);
	run_metrics_alerts(run, mc->present && mc->alerts,
	    mc->present ? mc->alertmanager_url : NULL);
	run_metrics_textfile(run, mc->present ? mc->textfile : NULL,
	    (uint64_t)mc->textfile_msec * 1000);
	return r;
}

int
run_metrics_start(struct run *run, const struct mx_config *cfg)
{
	if ((run->metrics = metrics_new(PACKAGE_VERSION)) == NULL ||
	    (run->rm = calloc(1, sizeof(*run->rm))) == NULL)
		return -ENOMEM;
	return run_metrics_apply(run, cfg);
}

void
run_metrics_reload(struct run *run, const struct mx_config *cfg)
{
	if (run->rm != NULL)
		(void)run_metrics_apply(run, cfg);
}

/*
 * run_metrics_stop - stop the endpoint, the alerts and the textfile timer
 * (writing the file once more); the registry stays for run_teardown().
 */
void
run_metrics_stop(struct run *run)
{
	struct run_metrics *rm = run->rm;

	if (rm == NULL)
		return;
	rm->http = metrics_http_free(rm->http);
	rm->al = alerts_free(rm->al);
	if (rm->textfile != NULL)
		run_metrics_write(rm, run->metrics);
	sd_event_source_disable_unref(rm->textfile_timer);
	free(rm->listen);
	free(rm->am_url);
	free(rm->textfile);
	free(rm);
	run->rm = NULL;
}

/* ------------------------------------------------------------------ feeding */

/* run_metrics_event - ingest's emit hook: count the event, then the policy's turn */
int
run_metrics_event(void *ud, const struct mx_event *ev)
{
	struct run *run = ud;
	struct run_input *in = run->reading;

	if (run->metrics != NULL)
		(void)metrics_observe_event(run->metrics, ev);	/* -E2BIG is counted there */
	if (in != NULL && ev->ts_usec != MX_TS_UNKNOWN) {
		in->m_line_usec = ev->ts_usec;
		in->m_read_usec = clock_now_usec();
	}
	run_crowdsec_event(run, ev);
	return run_policy_event(ud, ev);
}

/* run_metrics_inputs - publish what every input read since the last call */
void
run_metrics_inputs(struct run *run)
{
	for (size_t i = 0; i < run->n_inputs && run->metrics != NULL; i++) {
		struct run_input *in = run->inputs[i];
		int64_t lag;

		/* also with nothing read: an idle input has its series at 0 */
		(void)metrics_input_lines(run->metrics, in->name, in->m_lines,
		    in->m_unrecognised);
		in->m_lines = in->m_unrecognised = 0;
		if (in->m_line_usec == 0)
			continue;
		lag = in->m_read_usec - in->m_line_usec;
		(void)metrics_input_lag(run->metrics, in->name, lag > 0 ? lag / 1e6 : 0);
		in->m_line_usec = 0;
	}
}
