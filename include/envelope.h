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
 *	Recognised envelopes (MX_ENVELOPE_AUTO picks one by the first bytes:
 *	digit+'-' RFC 3339 or CRI, '<' PRI, '{' JSON, a month name RFC 3164,
 *	'@' TAI64N; a forced ctx->fmt skips the guessing):
 *	  - CRI (Kubernetes): "2026-11-22T01:02:03.123456789Z stdout F <line>"; P
 *	    (partial) lines are joined until the F line; the inner line is parsed
 *	    again (its own timestamp wins; the CRI one is used when it has none,
 *	    and gives the year of an inner BSD timestamp).
 *	  - Docker json-file: {"log":"...\n","stream":"stdout","time":"..."};
 *	    lines without the trailing \n are partial and joined likewise. The
 *	    JSON strings are unescaped (\uXXXX to UTF-8; \u0000 and lone
 *	    surrogates become U+FFFD, never a NUL).
 *	  - journalctl -o json export lines: {"MESSAGE":..,"SYSLOG_IDENTIFIER":..}
 *	    (chosen over Docker when MESSAGE or __REALTIME_TIMESTAMP is present);
 *	    a MESSAGE that is not a string (binary: an array of bytes; null) is
 *	    malformed. Built by the same code as envelope_from_fields().
 *	  - RFC 5424: "<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG"; "-" is
 *	    nil (NULL host/program, pid -1, MX_TS_UNKNOWN), a UTF-8 BOM before
 *	    MSG is skipped, program = APP, pid = PROCID when numeric.
 *	  - RFC 3339 / rsyslog high precision:
 *	    "2026-11-22T01:02:03.123456+00:00 host tag[pid]: msg"
 *	    (0-9 fraction digits; Z, +hh:mm or +hhmm; also with a space instead
 *	    of T and without offset, which is local time; with or without host;
 *	    also "TS host app procid msgid sd msg", RFC 5424 fields without PRI).
 *	  - RFC 3164 / BSD syslog: "Nov 22 01:02:03 host tag[pid]: msg", optional
 *	    "<PRI>", space- or zero-padded day (Postfix maillog_file zero-pads)
 *	    or a bare one ("Sep 8").
 *	    The year is inferred: the year of the reference time, or the year
 *	    before when that would put the line more than 7 days in the future;
 *	    within one context a month going backwards (Dec -> Jan: more than 6
 *	    months behind the previous line's) moves to the next year, while a
 *	    month more than 6 ahead (a late Dec line among Jan ones) belongs to
 *	    the year before and moves nothing. The time is local time (TZ).
 *	  - Dovecot log_path: "Nov 22 01:02:03 imap-login: Info: ..." or
 *	    "2026-11-22 01:02:03 imap-login: Info: ..." (no host, no pid; the
 *	    service name becomes the program, "Info: ..." the message).
 *	    "auth-worker(123):" gives program "auth-worker" and pid 123; other
 *	    Dovecot prefixes ("auth(user,ip)<session>:") stay whole as program.
 *	  - TAI64N (daemontools/s6 multilog): "@4000000068a1b2c3... <line>";
 *	    the inner line is parsed like a CRI one.
 *	  - MX_ENVELOPE_BARE: the whole line is the message (program unknown).
 *	Tags: "tag[pid]:", "tag:", rsyslog's "tag[pid] msg" without colon; a
 *	first token after the timestamp that ends in ':' or ']' is the tag (no
 *	host). Busybox's "host auth.info tag[pid]:" and FreeBSD's "<10.5>" are
 *	skipped over.
 *
 *	ref_usec is "now" for year inference (the file's mtime for a backfill);
 *	0 or MX_TS_UNKNOWN means clock_now_usec() at the first BSD line. Local
 *	time goes through mktime(3), called at most once per distinct hour.
 *
 *	The line buffer is modified in place: fields are NUL-terminated where
 *	they stand, escaped JSON strings are unescaped over themselves. `line`
 *	must be writable for len + 1 bytes (line[len] becomes NUL; tail and
 *	linebuf deliver lines that way); a trailing "\n" or "\r\n" is ignored.
 *	The record points into `line` (or into ctx's join buffer for partial
 *	lines) and stays valid until the next call. The join buffer
 *	(MX_LINE_MAX + 1 bytes) is allocated at the first partial line and
 *	freed by envelope_done(); call envelope_done() before initialising a
 *	context again. One join buffer per context: stdout and stderr pieces
 *	of a CRI/Docker source are not told apart.
 * RETURNS
 *	1 with *ret_rec filled; 0 for a line that is not a log record (blank,
 *	comment starting with '#', or a partial container line held for
 *	joining); -EINVAL for a malformed envelope (impossible date, missing or
 *	broken tag, truncated line, a NUL byte within len, invalid JSON),
 *	which the caller counts and skips; -E2BIG when the pieces of one
 *	partial container line exceed MX_LINE_MAX (the whole joined line is
 *	dropped, reported once at its final piece; count it as malformed);
 *	-ENOMEM when the join buffer cannot be allocated.
 *	envelope_from_fields(): 1, or -EINVAL without MESSAGE, with a NUL
 *	inside message_len, or with neither identifier nor comm.
 *	envelope_from_name(): 0, or -EINVAL for an unknown name.
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
