/*
 * NAME
 *	log - diagnostics: levels, stderr or journal, one message format
 * SYNOPSIS
 *	#include "log.h"
 *
 *	void log_setup(const char *progname, int level, int to_journal);
 *	void log_set_level(int level);
 *	log_err(fmt, ...); log_warning(...); log_notice(...); log_info(...); log_debug(...);
 * DESCRIPTION
 *	Messages are "component: what happened[: why]". On a terminal or with
 *	to_journal == 0 they go to stderr as "mxledger: <message>"; under
 *	systemd (JOURNAL_STREAM set) they go to the journal with their priority
 *	(sd_journal_print). Levels are syslog priorities (LOG_ERR...LOG_DEBUG).
 */
#ifndef MX_LOG_H
#define MX_LOG_H

#include <syslog.h>

void log_setup(const char *progname, int level, int to_journal);
void log_set_level(int level);
int log_get_level(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)		log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)		log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)		log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)		log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
