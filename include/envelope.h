/*
 * NAME
 *	envelope - split a raw log line into time, host, tag, pid and message
 * SYNOPSIS
 *	#include "envelope.h"
 *
 *	void envelope_init(struct envelope_ctx *ctx, enum mx_envelope fmt, int64_t ref_usec);
 *	void envelope_done(struct envelope_ctx *ctx);
 *	int envelope_parse(struct envelope_ctx *ctx, char *line, size_t len,
 *	    struct mx_record *ret_rec);
 *	int envelope_from_fields(struct envelope_ctx *ctx, const struct mx_journal_fields *f,
 *	    struct mx_record *ret_rec);
 *	const char *envelope_name(enum mx_envelope fmt);
 *	int envelope_from_name(const char *name, enum mx_envelope *ret);
 * DESCRIPTION
 *	Recognised envelopes (MX_ENVELOPE_AUTO tries them in this order, cheaply,
 *	by looking at the first bytes):
 *	  - CRI (Kubernetes): "2026-11-22T01:02:03.123456789Z stdout F <line>"; P
 *	    (partial) lines are joined until the F line; the inner line is parsed
 *	    again (its own timestamp wins; the CRI one is used when it has none).
 *	  - Docker json-file: {"log":"...\n","stream":"stdout","time":"..."};
 *	    lines without the trailing \n are partial and joined likewise.
 *	  - journalctl -o json export lines: {"MESSAGE":..,"SYSLOG_IDENTIFIER":..}.
 *	  - RFC 5424: "<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG".
 *	  - RFC 3339 / rsyslog high precision: "2026-11-22T01:02:03.123456+00:00 host tag[pid]: msg"
 *	    (also with a space instead of T, and without host).
 *	  - RFC 3164 / BSD syslog: "Nov 22 01:02:03 host tag[pid]: msg", optional
 *	    "<PRI>", space- or zero-padded day (Postfix maillog_file zero-pads).
 *	    The year is inferred: the year of the reference time, or the year
 *	    before when that would put the line more than 7 days in the future;
 *	    within one context a month going backwards (Dec -> Jan) moves to the
 *	    next year. The time is local time (TZ).
 *	  - Dovecot log_path: "Nov 22 01:02:03 imap-login: Info: ..." (no host,
 *	    no pid; the service name becomes the program).
 *	  - MX_ENVELOPE_BARE: the whole line is the message (program unknown).
 *
 *	The line buffer is modified in place: fields are NUL-terminated where
 *	they stand, escaped JSON strings are unescaped over themselves. The
 *	record points into `line` (or into ctx's join buffer for partial lines)
 *	and stays valid until the next call.
 * RETURNS
 *	1 with *ret_rec filled; 0 for a line that is not a log record (blank,
 *	comment, or a partial container line held for joining); -EINVAL for a
 *	malformed envelope (impossible date, missing tag, invalid JSON), which
 *	the caller counts and skips.
 * SEE ALSO
 *	parser.h, RFC 3164, RFC 5424, RFC 3339
 */
#ifndef MX_ENVELOPE_H
#define MX_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "parser.h"

enum mx_envelope {
	MX_ENVELOPE_AUTO = 0,
	MX_ENVELOPE_SYSLOG,	/* RFC 3164 / maillog_file */
	MX_ENVELOPE_RFC3339,
	MX_ENVELOPE_RFC5424,
	MX_ENVELOPE_DOVECOT,	/* Dovecot log_path */
	MX_ENVELOPE_CRI,
	MX_ENVELOPE_DOCKER,
	MX_ENVELOPE_JOURNAL_JSON,
	MX_ENVELOPE_BARE,
	MX_ENVELOPE__MAX
};

/* Fields of one journal entry (sd-journal input); strings NUL-terminated, borrowed. */
struct mx_journal_fields {
	uint64_t realtime_usec;
	const char *hostname;		/* _HOSTNAME */
	const char *identifier;		/* SYSLOG_IDENTIFIER */
	const char *comm;		/* _COMM, used when there is no identifier */
	long pid;			/* SYSLOG_PID or _PID, -1 when absent */
	char *message;			/* MESSAGE (mutable copy owned by the caller) */
	size_t message_len;
};

struct envelope_ctx {
	enum mx_envelope fmt;
	int64_t ref_usec;	/* "now" for year inference (file mtime for backfill) */
	int year;		/* year currently assumed for RFC 3164 lines, 0 = not yet */
	int last_mon;		/* month (0-11) of the previous 3164 line, -1 = none */
	/* cache of the local-time conversion of the current hour */
	int64_t hour_key;
	int64_t hour_usec;
	/* join buffer for CRI P / Docker partial lines */
	char *join;
	size_t join_len;
	int join_overflow;
};

void envelope_init(struct envelope_ctx *ctx, enum mx_envelope fmt, int64_t ref_usec);
void envelope_done(struct envelope_ctx *ctx);
int envelope_parse(struct envelope_ctx *ctx, char *line, size_t len, struct mx_record *ret_rec);
int envelope_from_fields(struct envelope_ctx *ctx, const struct mx_journal_fields *f,
    struct mx_record *ret_rec);
const char *envelope_name(enum mx_envelope fmt);
int envelope_from_name(const char *name, enum mx_envelope *ret);

#endif
