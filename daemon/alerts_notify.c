/*
 * NAME
 *	alerts_notify - how an alert is told: its description and its journal entry
 * SYNOPSIS
 *	#include "alerts.h"
 *
 *	void alerts_describe(const struct alerts_notice *n, char *buf, size_t size);
 *	void alerts_journal(void *ud, const struct alerts_notice *n);
 * DESCRIPTION
 *	See alerts.h. The journal entry is sent with sd_journal_sendv() (so
 *	a label value may hold any byte); when there is no journal, or
 *	stderr is not the journal (JOURNAL_STREAM unset: a terminal), the
 *	message line goes through log.c too.
 * SEE ALSO
 *	alerts.h, alerts.c, systemd.journal-fields(7)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "alerts.h"
#include "log.h"

#define SEC	INT64_C(1000000)

/* alerts_window_text - "5m", "90s", "2h" */
static void
alerts_window_text(int64_t usec, char *buf, size_t size)
{
	int64_t s = usec / SEC;

	if (s % 3600 == 0 && s > 0)
		snprintf(buf, size, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0 && s > 0)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, size, "%llds", (long long)s);
}

/* alerts_describe - "42 in 1m, more than 10", "3 in 1m, not more than 10" and the like */
void
alerts_describe(const struct alerts_notice *n, char *buf, size_t size)
{
	const struct alerts_rule *r = n->rule;
	const char *cmp = n->firing ? "more than" : "not more than";
	double value = n->value;
	int firing = n->firing;
	char w[32];

	alerts_window_text(r->window_usec, w, sizeof(w));
	if (isnan(value)) {
		snprintf(buf, size, "too little data in %s", w);
		return;
	}
	switch (r->kind) {
	case ALERTS_INCREASE:
		snprintf(buf, size, "%.6g in %s, %s %.6g", value, w, cmp, r->threshold);
		break;
	case ALERTS_NO_INCREASE:
		if (firing)
			snprintf(buf, size, "no increase in %s", w);
		else
			snprintf(buf, size, "%.6g in %s", value, w);
		break;
	case ALERTS_RATIO:
		snprintf(buf, size, "%.3g (%.6g of %.6g) in %s, %s %.3g", value, n->num, n->den, w,
		    cmp, r->threshold);
		break;
	case ALERTS_ABOVE:
		snprintf(buf, size, "%.6g, %s %.6g", value, cmp, r->threshold);
		break;
	case ALERTS_QUANTILE:
		snprintf(buf, size, "%.3g quantile %.6g in %s, %s %.6g", r->q, value, w, cmp,
		    r->threshold);
		break;
	}
}

/* alerts_field - "MXLEDGER_LISTENER=" from "listener", cut to fit */
static void
alerts_field(const char *label, char *buf, size_t size)
{
	size_t o = (size_t)snprintf(buf, size, "MXLEDGER_");
	const char *p;

	for (p = label; *p != '\0' && o + 2 < size; p++) {
		char c = *p;

		buf[o++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') :
		    ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
	}
	buf[o++] = '=';
	buf[o] = '\0';
}

/* alerts_journal - the default notifier: one structured journal entry */
void
alerts_journal(void *ud, const struct alerts_notice *n)
{
	const struct alerts_rule *r = n->rule;
	char msg[1024], desc[256], prio[32], alert[128], state[64], sev[64], value[64], thr[64];
	char field[64], label[METRICS_VALUE_MAX + 80];
	int p = !n->firing ? LOG_NOTICE : strcmp(r->severity, "critical") == 0 ? LOG_CRIT :
	    LOG_WARNING;
	struct iovec iov[10];
	size_t k = 0;

	alerts_describe(n, desc, sizeof(desc));
	if (n->label != NULL)
		snprintf(label, sizeof(label), " (%s \"%s\")", n->label, n->label_value);
	else
		label[0] = '\0';
	snprintf(msg, sizeof(msg), "MESSAGE=alert %s %s: %s%s: %s", r->name,
	    n->firing ? "firing" : "resolved", r->summary, label, desc);
	snprintf(prio, sizeof(prio), "PRIORITY=%d", p);
	snprintf(alert, sizeof(alert), "MXLEDGER_ALERT=%s", r->name);
	snprintf(state, sizeof(state), "MXLEDGER_STATE=%s", n->firing ? "firing" : "resolved");
	snprintf(sev, sizeof(sev), "MXLEDGER_SEVERITY=%s", r->severity);
	snprintf(value, sizeof(value), "MXLEDGER_VALUE=%.17g", n->value);
	snprintf(thr, sizeof(thr), "MXLEDGER_THRESHOLD=%.17g", r->threshold);
	iov[k++] = (struct iovec){ msg, strlen(msg) };
	iov[k++] = (struct iovec){ prio, strlen(prio) };
	iov[k++] = (struct iovec){ (char *)"SYSLOG_IDENTIFIER=mxledger", 26 };
	iov[k++] = (struct iovec){ alert, strlen(alert) };
	iov[k++] = (struct iovec){ state, strlen(state) };
	iov[k++] = (struct iovec){ sev, strlen(sev) };
	iov[k++] = (struct iovec){ value, strlen(value) };
	iov[k++] = (struct iovec){ thr, strlen(thr) };
	if (n->label != NULL) {
		alerts_field(n->label, field, sizeof(field));
		snprintf(label, sizeof(label), "%s%s", field, n->label_value);
		iov[k++] = (struct iovec){ label, strlen(label) };
	}
	/* without a journal, or with stderr not going to it, say it on stderr too */
	if (sd_journal_sendv(iov, (int)k) < 0 || getenv("JOURNAL_STREAM") == NULL)
		log_msg(p, "%s", msg + strlen("MESSAGE="));
}
