/*
 * NAME
 *	journal - systemd journal input through sd-journal
 * SYNOPSIS
 *	#include "journal.h"
 *
 *	int journal_input_new(sd_event *e, const struct mx_input_conf *ic,
 *	    const struct journal_ops *ops, void *ud, struct journal_input **ret);
 *	struct journal_input *journal_input_free(struct journal_input *j);
 *	int journal_input_rewind(struct journal_input *j, const char *cursor);
 *	int journal_input_pause(struct journal_input *j, int paused);
 *	int journal_input_poll(struct journal_input *j);
 * DESCRIPTION
 *	Opens the system journal (or the directory ic->path, for tests and
 *	for journals copied off another machine) with matches on the mail
 *	daemons (ic->matches, or by default _COMM= of the Postfix daemons and
 *	the Dovecot processes, plus SYSLOG_IDENTIFIER=dovecot), and hands
 *	each entry to ops->entry() with its cursor. At creation ops->position()
 *	is asked for the source key ("journal:<machine-id or path>") and returns
 *	the stored cursor (empty: start at the tail, or at the head when
 *	ic->start_at is MX_START_BEGINNING). New entries wake the loop through
 *	sd_journal_get_fd(); entries are read in bounded rounds so the loop
 *	stays responsive.
 */
#ifndef MX_JOURNAL_H
#define MX_JOURNAL_H

#include <systemd/sd-event.h>

#include "config.h"
#include "envelope.h"

struct journal_input;

struct journal_ops {
	int (*position)(void *ud, struct journal_input *j, const char *key, char *ret_cursor,
	    size_t size);
	int (*entry)(void *ud, struct journal_input *j, const struct mx_journal_fields *f,
	    const char *cursor);
};

int journal_input_new(sd_event *e, const struct mx_input_conf *ic, const struct journal_ops *ops,
    void *ud, struct journal_input **ret);
struct journal_input *journal_input_free(struct journal_input *j);
int journal_input_rewind(struct journal_input *j, const char *cursor);
int journal_input_pause(struct journal_input *j, int paused);
int journal_input_poll(struct journal_input *j);
const char *journal_input_key(const struct journal_input *j);

#endif
