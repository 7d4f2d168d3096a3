/*
 * NAME
 *	parser - the record a log line becomes, and the per-daemon parser interface
 * SYNOPSIS
 *	#include "parser.h"
 *
 *	int postscreen_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 *	int smtpd_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 *	int anvil_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 *	int master_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 *	int dovecot_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 * DESCRIPTION
 *	envelope.c turns a raw line into a struct mx_record (time, host, syslog
 *	tag, pid, message); program.c splits the tag into listener and daemon
 *	and calls the one parser that owns that daemon. Parsers see only the
 *	record and fill the event's kind and the fields they know; ts, host,
 *	program, daemon, listener and pid are filled by the caller
 *	(program_parse()) before the parser runs, and a parser may override
 *	listener (dovecot: the service, "imap-login", "auth").
 * RETURNS
 *	1 with *ret_ev filled for a known event; 0 when the message is not one
 *	we know (the caller counts it as unrecognised). Parsers never log and
 *	never allocate after their first call (patterns are compiled once).
 * OWNERSHIP
 *	All record strings are NUL-terminated and borrowed from the caller's
 *	line buffer; event fields are copied into the event (event_set()).
 * SEE ALSO
 *	event.h, envelope.h, program.h, addr.h, pattern.h
 */
#ifndef MX_PARSER_H
#define MX_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct mx_record {
	int64_t ts_usec;	/* UTC microseconds; MX_TS_UNKNOWN when the envelope has none */
	const char *host;	/* NULL when the envelope has none (Dovecot log_path, CRI) */
	const char *program;	/* syslog tag without [pid]: "postfix/submission/smtpd"; NULL if none */
	long pid;		/* -1 when not logged */
	const char *listener;	/* set by program_split(): "postfix/submission" */
	const char *daemon;	/* set by program_split(): "smtpd" */
	const char *msg;	/* message after "tag[pid]: " */
	size_t msg_len;
};

int postscreen_parse(const struct mx_record *rec, struct mx_event *ret_ev);
int smtpd_parse(const struct mx_record *rec, struct mx_event *ret_ev);
int anvil_parse(const struct mx_record *rec, struct mx_event *ret_ev);
int master_parse(const struct mx_record *rec, struct mx_event *ret_ev);
int dovecot_parse(const struct mx_record *rec, struct mx_event *ret_ev);

#endif
