/*
 * NAME
 *	run_crowdsec - CrowdSec in `mxledger run`: the client's life and its two feeds
 * SYNOPSIS
 *	#include "run.h"
 *
 *	int run_crowdsec_start(struct run *run, const struct mx_config *cfg);
 *	void run_crowdsec_stop(struct run *run);
 *	void run_crowdsec_reload(struct run *run, const struct mx_config *cfg);
 *	void run_crowdsec_event(struct run *run, const struct mx_event *ev);
 *	void run_crowdsec_decided(struct run *run, const struct policy_request *req,
 *	    const struct rules_decision *d);
 * DESCRIPTION
 *	run_crowdsec_start() makes the client of the crowdsec block (none
 *	without one) and pulls once before the policy service starts, so the
 *	first answer already knows CrowdSec's bans; that pull is bounded by
 *	the block's timeout, and when it fails the daemon starts anyway (fail
 *	open) and the client's thread keeps trying every interval. It must
 *	run before run_policy_start() (the policy thread reads run->crowdsec)
 *	and run_crowdsec_stop() after run_policy_stop().
 *
 *	The watcher's findings: run_crowdsec_event() (main thread, every
 *	parsed event) queues PROXY protocol errors as alerts without decision
 *	when `proxy-errors yes` (not those older than an hour: a backlog read
 *	after downtime is history, not news); run_crowdsec_decided() (policy
 *	thread, every answer) queues the finding of an enforced rule with
 *	crowdsec-alert, as scenario "mxledger/RULE" with the rule's decision
 *	on the client address.
 *
 *	A reload keeps the running client: changes to the crowdsec block take
 *	effect at the next start, which run_crowdsec_reload() says.
 * SEE ALSO
 *	run.h, crowdsec.h, run_policy.c, mxledger.conf(5) CROWDSEC
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "crowdsec.h"
#include "log.h"
#include "run.h"

#define RUN_CS_BACKLOG_USEC	(3600 * INT64_C(1000000))

int
run_crowdsec_start(struct run *run, const struct mx_config *cfg)
{
	const struct mx_crowdsec_conf *c = &cfg->crowdsec;
	struct crowdsec *cs;
	int r;

	if (!c->present)
		return 0;
	if ((r = crowdsec_new(c, run->metrics, &cs)) < 0) {
		log_err("crowdsec: cannot set up the LAPI client: %s", strerror(-r));
		return r;
	}
	if (crowdsec_sync(cs) < 0)
		log_warning("crowdsec: starting without CrowdSec's decisions; retrying every %u s",
		    c->interval_msec / 1000);
	if ((r = crowdsec_start(cs)) < 0) {
		log_err("crowdsec: cannot start the LAPI client: %s", strerror(-r));
		crowdsec_free(cs);
		return r;
	}
	run->crowdsec = cs;
	run->cs_proxy_errors = c->watcher && c->proxy_errors;
	log_info("crowdsec: pulling decisions from %s every %u s%s", c->url,
	    c->interval_msec / 1000, c->watcher ? "; pushing findings as alerts" : "");
	return 0;
}

void
run_crowdsec_stop(struct run *run)
{
	run->crowdsec = crowdsec_free(run->crowdsec);
}

/* run_crowdsec_same - do two crowdsec blocks say the same? */
static int
run_crowdsec_same(const struct mx_crowdsec_conf *a, const struct mx_crowdsec_conf *b)
{
#define RUN_CS_STREQ(x, y)	((x) == (y) || ((x) != NULL && (y) != NULL && strcmp(x, y) == 0))
	return a->present == b->present && RUN_CS_STREQ(a->url, b->url) &&
	    RUN_CS_STREQ(a->api_key, b->api_key) && a->interval_msec == b->interval_msec &&
	    a->timeout_msec == b->timeout_msec && a->stale_msec == b->stale_msec &&
	    a->watcher == b->watcher && RUN_CS_STREQ(a->machine_id, b->machine_id) &&
	    RUN_CS_STREQ(a->password, b->password) && a->proxy_errors == b->proxy_errors;
#undef RUN_CS_STREQ
}

void
run_crowdsec_reload(struct run *run, const struct mx_config *cfg)
{
	if (!run_crowdsec_same(&run->cfg->crowdsec, &cfg->crowdsec))
		log_warning("crowdsec: the crowdsec block changed; it takes effect at the next "
		    "start (the running client keeps its settings)");
}

void
run_crowdsec_event(struct run *run, const struct mx_event *ev)
{
	char msg[256];

	if (!run->cs_proxy_errors || ev->kind != MX_EVENT_PROXY_ERROR || ev->client_ip == NULL)
		return;
	if (ev->ts_usec != MX_TS_UNKNOWN && ev->ts_usec < clock_now_usec() - RUN_CS_BACKLOG_USEC)
		return;
	snprintf(msg, sizeof(msg), "PROXY protocol error from %s on %s: a client or balancer "
	    "reached a PROXY listener without a valid header", ev->client_ip,
	    ev->listener != NULL ? ev->listener : "?");
	(void)crowdsec_alert(run->crowdsec, ev->client_ip, "mxledger/proxy-protocol-error", "",
	    0, msg);
}

void
run_crowdsec_decided(struct run *run, const struct policy_request *req,
    const struct rules_decision *d)
{
	const struct rules_hit *h;
	char scenario[RULES_NAME_MAX + 16], msg[512];
	size_t o;

	if (run->crowdsec == NULL || d->rule == NULL || d->n_hits == 0 ||
	    req->client_address[0] == '\0')
		return;
	h = &d->hits[d->n_hits - 1];	/* the deciding one comes last */
	if (h->alert_type == NULL || h->dry_run)
		return;
	snprintf(scenario, sizeof(scenario), "mxledger/%s", h->rule);
	o = (size_t)snprintf(msg, sizeof(msg), "mxledger rule %s answered \"%s\" to %s", h->rule,
	    h->action, req->client_address);
	for (unsigned i = 0; i < h->n_values && o < sizeof(msg); i++)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s %s = %llu", i == 0 ? ":" : ";",
		    h->values[i].condition, (unsigned long long)h->values[i].value);
	(void)crowdsec_alert(run->crowdsec, req->client_address, scenario, h->alert_type,
	    h->alert_usec, msg);
}
