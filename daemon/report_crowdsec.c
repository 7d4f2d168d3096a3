/*
 * NAME
 *	report_crowdsec - CrowdSec's word on an address in `mxledger report ip`
 * SYNOPSIS
 *	#include "report.h"
 *
 *	int report_crowdsec(struct report_out *out, const struct mx_crowdsec_conf *conf,
 *	    const char *addr);
 * DESCRIPTION
 *	With a crowdsec block in the configuration, `mxledger report ip ADDR`
 *	ends its timeline with what the CrowdSec LAPI holds against ADDR now
 *	(GET /v1/decisions?ip=: the address's own decisions and those of
 *	ranges holding it, every type), one row per decision in the ip
 *	report's columns:
 *
 *	  time       now
 *	  client_ip  the decision's value: the address, or the range
 *	  listener   crowdsec
 *	  event      crowdsec_decision; crowdsec_none when there is none;
 *	             crowdsec_error when the LAPI did not answer
 *	  detail     "ban crowdsecurity/postfix-spam (origin crowdsec, 3h59m
 *	             left)", or why the LAPI did not answer
 *
 *	A CIDR argument gets no CrowdSec rows (the LAPI answers for one
 *	address). The lookup waits at most the block's timeout.
 * RETURNS
 *	What report_out_row() returns (0, -ENOMEM, -E2BIG, -EIO).
 * SEE ALSO
 *	crowdsec.h, cmd_report.c, sql/reports/ip.sql
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "crowdsec.h"
#include "report.h"

#ifdef HAVE_CROWDSEC
/* report_crowdsec_text - a text cell */
static void
report_crowdsec_text(struct report_cell *c, const char *s)
{
	memset(c, 0, sizeof(*c));
	if (s == NULL) {
		c->type = REPORT_NULL;
		return;
	}
	c->type = REPORT_TEXT;
	c->s = s;
	c->len = strlen(s);
}

/* report_crowdsec_row - one row of the ip report's six columns */
static int
report_crowdsec_row(struct report_out *out, const char *when, const char *value,
    const char *event, const char *detail)
{
	struct report_cell cells[6];

	report_crowdsec_text(&cells[0], when);
	report_crowdsec_text(&cells[1], value);
	report_crowdsec_text(&cells[2], "crowdsec");
	report_crowdsec_text(&cells[3], event);
	report_crowdsec_text(&cells[4], NULL);
	report_crowdsec_text(&cells[5], detail);
	return report_out_row(out, cells);
}

int
report_crowdsec(struct report_out *out, const struct mx_crowdsec_conf *conf, const char *addr)
{
	struct crowdsec_stream st = { 0 };
	int64_t now = clock_now_usec();
	char when[32], detail[512], err[256] = "";
	time_t t = (time_t)(now / 1000000);
	struct tm tm;
	int r;

	if (!conf->present || strchr(addr, '/') != NULL)
		return 0;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (crowdsec_query(conf, addr, &st, err, sizeof(err)) < 0) {
		snprintf(detail, sizeof(detail), "the LAPI at %s did not answer: %s", conf->url, err);
		return report_crowdsec_row(out, when, addr, "crowdsec_error", detail);
	}
	if (st.n_new == 0) {
		crowdsec_stream_clear(&st);
		return report_crowdsec_row(out, when, addr, "crowdsec_none",
		    "no active CrowdSec decision");
	}
	r = 0;
	for (size_t i = 0; i < st.n_new && r >= 0; i++) {
		const struct crowdsec_decision *d = &st.new_[i];
		char value[64], net[48];

		inet_ntop(d->family, d->addr, net, sizeof(net));
		snprintf(value, sizeof(value), "%s/%u", net, d->prefix);
		if ((d->family == AF_INET && d->prefix == 32) ||
		    (d->family == AF_INET6 && d->prefix == 128))
			snprintf(value, sizeof(value), "%s", net);
		crowdsec_set_describe(d->type, d->scenario, d->origin, d->expires_usec - now, detail,
		    sizeof(detail));
		r = report_crowdsec_row(out, when, value, "crowdsec_decision", detail);
	}
	crowdsec_stream_clear(&st);
	return r;
}
#else
int
report_crowdsec(struct report_out *out, const struct mx_crowdsec_conf *conf, const char *addr)
{
	(void)out, (void)conf, (void)addr;
	return 0;	/* a crowdsec block is refused when loading the configuration */
}
#endif
