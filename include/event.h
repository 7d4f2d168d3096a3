/*
 * NAME
 *	event - the typed event contract shared by parsers, store and output
 * SYNOPSIS
 *	#include "event.h"
 *
 *	void event_reset(struct mx_event *ev);
 *	int event_set(struct mx_event *ev, const char **field, const char *s, size_t len);
 *	int event_setz(struct mx_event *ev, const char **field, const char *s);
 *	const char *event_kind_name(enum mx_event_kind kind);
 *	enum mx_event_kind event_kind_from_name(const char *name);
 *	int event_format_jsonl(const struct mx_event *ev, char *buf, size_t size);
 *	int event_format_tsv(const struct mx_event *ev, char *buf, size_t size);
 * DESCRIPTION
 *	One struct mx_event describes one log line that matters. Every string
 *	field is NULL when unknown (JSON output then omits it); numbers use 0
 *	(client_port, server_port, attempts), -1 (pid, proxied) or
 *	MX_TS_UNKNOWN (ts_usec) for unknown.
 *
 *	String fields live in the event's own arena: event_set() copies a
 *	(possibly not NUL-terminated) substring into it, so an event never
 *	points into a line buffer that may be reused. The arena is sized so
 *	that every field of one line fits (see MX_EVENT_ARENA); a field that
 *	would not fit is left unset and event_set() returns -ENOBUFS.
 *
 *	The names returned by event_kind_name() are the stable snake_case
 *	words used in `mxledger parse` output, the SQL `event` column and the
 *	man page; never rename one, only add.
 * SEE ALSO
 *	parser.h, mxledger(8) "EVENTS", sql/schema.sql
 */
#ifndef MX_EVENT_H
#define MX_EVENT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Longest log line we parse. rsyslog's default maxMessageSize is 8 KiB and
 * Postfix truncates its own messages well below that (line_length_limit 2048
 * for client text); 64 KiB leaves room for journald/CRI wrapping. Longer lines
 * are counted as oversized and skipped.
 */
#define MX_LINE_MAX	(64 * 1024)

/* Every field is a substring (or shorter rewrite) of the line: 2x is ample. */
#define MX_EVENT_ARENA	(2 * MX_LINE_MAX + 1024)

#define MX_TS_UNKNOWN	INT64_MIN

enum mx_event_kind {
	MX_EVENT_NONE = 0,
	/* sessions */
	MX_EVENT_CONNECT,		/* smtpd "connect from", postscreen CONNECT */
	MX_EVENT_DISCONNECT,		/* smtpd "disconnect from" (stats), postscreen DISCONNECT,
					 * dovecot login session closed without auth attempts */
	MX_EVENT_LOST_CONNECTION,	/* smtpd "lost connection after STAGE" */
	MX_EVENT_TIMEOUT,		/* smtpd "timeout after STAGE" */
	MX_EVENT_TOO_MANY_ERRORS,	/* smtpd "too many errors after STAGE" */
	MX_EVENT_IMPROPER_PIPELINING,	/* smtpd "improper command pipelining after STAGE" */
	MX_EVENT_NON_SMTP_COMMAND,	/* smtpd "warning: non-SMTP command from" */
	MX_EVENT_QUEUED,		/* smtpd "QID: client=..." without SASL */
	/* authentication */
	MX_EVENT_AUTH_FAILURE,		/* smtpd SASL failure; dovecot login "auth failed, N attempts" */
	MX_EVENT_AUTH_SUCCESS,		/* smtpd "client=, sasl_method=, sasl_username="; dovecot Login: */
	MX_EVENT_AUTH_LOOKUP_FAILURE,	/* dovecot auth process: unknown user / password mismatch */
	/* policy outcomes of the daemons themselves */
	MX_EVENT_REJECT,		/* smtpd / postscreen "reject:" (NOQUEUE or queue id) */
	MX_EVENT_REJECT_WARNING,	/* smtpd "reject_warning:" (warn_if_reject) */
	MX_EVENT_RATE_LIMIT,		/* smtpd anvil "... limit exceeded" warnings */
	MX_EVENT_REVERSE_DNS_MISMATCH,	/* smtpd "hostname X does not resolve to address IP" */
	/* PROXY protocol and daemon health */
	MX_EVENT_PROXY_ERROR,		/* "haproxy read:", getpeername drop, dovecot "haproxy:" */
	MX_EVENT_FATAL,			/* "fatal:"/"panic:" from a daemon */
	MX_EVENT_PROCESS_EXIT,		/* master "process ... pid N exit status N|killed by signal" */
	MX_EVENT_SERVICE_THROTTLED,	/* master "bad command startup -- throttling" */
	MX_EVENT_ANVIL_STATISTICS,	/* anvil "statistics: max ... [for (service:ip)]"; cache size has no client */
	/* postscreen verdicts */
	MX_EVENT_POSTSCREEN_PASS_NEW,
	MX_EVENT_POSTSCREEN_PASS_OLD,
	MX_EVENT_POSTSCREEN_PREGREET,
	MX_EVENT_POSTSCREEN_HANGUP,
	MX_EVENT_POSTSCREEN_PIPELINING,
	MX_EVENT_POSTSCREEN_BARE_NEWLINE,
	MX_EVENT_POSTSCREEN_NON_SMTP_COMMAND,
	MX_EVENT_POSTSCREEN_DNSBL,
	MX_EVENT_POSTSCREEN_DENYLIST,	/* DENYLISTED / BLACKLISTED */
	MX_EVENT_POSTSCREEN_ALLOWLIST,	/* ALLOWLISTED / WHITELISTED */
	MX_EVENT_POSTSCREEN_ALLOWLIST_VETO,
	MX_EVENT_POSTSCREEN_COMMAND_LIMIT, /* COMMAND TIME|COUNT|LENGTH LIMIT */
	MX_EVENT_POSTSCREEN_DATA_WITHOUT_RCPT,
	MX_EVENT__MAX
};

struct mx_event {
	enum mx_event_kind kind;
	int64_t ts_usec;		/* UTC microseconds since the epoch */
	const char *host;		/* syslog host name */
	const char *program;		/* full syslog tag: postfix/smtpd-proxy25/postscreen */
	const char *daemon;		/* postscreen, smtpd, anvil, master, dovecot, ... */
	const char *listener;		/* postfix/smtpd-proxy25, postfix, imap-login, auth */
	long pid;			/* -1 when unknown */
	const char *client_ip;		/* real client, never the PROXY hop's address */
	unsigned client_port;		/* 0 when not logged */
	const char *client_name;	/* reverse name as logged ("unknown" included) */
	const char *server_ip;		/* local end as logged (postscreen "to", dovecot lip) */
	unsigned server_port;
	int proxied;			/* 1/0; -1 unknown (set by program_classify()) */
	const char *user;		/* SASL / login user name */
	const char *method;		/* SASL mechanism (smtpd, dovecot login); passdb driver
				 * (dovecot auth process: passwd-file, pam, sql) */
	int attempts;			/* dovecot "N attempts"; 0 when not stated */
	const char *queue_id;
	const char *sender;
	const char *recipient;
	const char *helo;
	const char *stage;		/* SMTP stage: CONNECT, EHLO, RCPT, DATA, ... */
	const char *reply;		/* "550 5.1.1", "450 4.7.1", "421 4.7.0" */
	const char *reason;		/* free text: reject reason, failure reason, limit */
	const char *session;		/* dovecot session id (without <>) */
	const char *stats;		/* smtpd disconnect counters, raw: "ehlo=1 auth=0/1 commands=1/2" */

	size_t arena_used;
	char arena[MX_EVENT_ARENA];
};

void event_reset(struct mx_event *ev);
int event_set(struct mx_event *ev, const char **field, const char *s, size_t len);
int event_setz(struct mx_event *ev, const char **field, const char *s);
const char *event_kind_name(enum mx_event_kind kind);
enum mx_event_kind event_kind_from_name(const char *name);

/*
 * Render one event as one line ending in '\n'. Return the length written
 * (output NUL-terminated), or -ENOBUFS if size is too small. A buffer of
 * MX_EVENT_FORMAT_MAX always suffices: JSON escaping turns one byte into at
 * most six (\u00XX).
 */
#define MX_EVENT_FORMAT_MAX	(6 * MX_EVENT_ARENA + 4096)
int event_format_jsonl(const struct mx_event *ev, char *buf, size_t size);
int event_format_tsv(const struct mx_event *ev, char *buf, size_t size);
/* The TSV column order, tab-separated, for a header line. */
extern const char event_tsv_header[];
/* Render ts_usec as RFC 3339 UTC with microseconds: 2026-11-22T01:02:03.123456Z */
int event_format_ts(int64_t ts_usec, char *buf, size_t size);

#endif
