/*
 * NAME
 *	log - diagnostics: levels, stderr or journal, one message format
 * SYNOPSIS
 *	#include "log.h"
 * DESCRIPTION
 *	See log.h. The journal gets the priority as metadata, so the message
 *	carries no "warning:" word there; on stderr the level is spelled out
 *	for anything above info.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-journal.h>

#include "log.h"

static const char *log_progname = "mxledger";
static int log_level = LOG_INFO;
static int log_journal;

void
log_setup(const char *progname, int level, int to_journal)
{
	if (progname != NULL)
		log_progname = progname;
	log_level = level;
	log_journal = to_journal;
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

/* log_msg - one message at a syslog priority */
void
log_msg(int prio, const char *fmt, ...)
{
	static const char *const words[] = {
		[LOG_EMERG] = "emergency: ", [LOG_ALERT] = "alert: ", [LOG_CRIT] = "critical: ",
		[LOG_ERR] = "error: ", [LOG_WARNING] = "warning: ", [LOG_NOTICE] = "",
		[LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
	};
	char buf[2048];
	va_list ap;

	if (prio > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_journal) {
		sd_journal_print(prio, "%s", buf);
		return;
	}
	fprintf(stderr, "%s: %s%s\n", log_progname, words[prio & 7], buf);
}
