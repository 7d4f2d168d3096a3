/*
 * NAME
 *	program - from syslog tag to listener, daemon and the parser that owns it
 * SYNOPSIS
 *	#include "program.h"
 *
 *	void program_split(struct mx_record *rec, char *buf, size_t size);
 *	int program_parse(const struct mx_proxy_conf *pc, struct mx_record *rec,
 *	    struct mx_event *ret_ev);
 *	int program_is_proxied(const struct mx_proxy_conf *pc, const struct mx_event *ev);
 * DESCRIPTION
 *	Postfix tags are syslog_name + "/" + daemon, and syslog_name may itself
 *	contain slashes: "postfix/smtpd-proxy25/postscreen" is daemon
 *	"postscreen" on listener "postfix/smtpd-proxy25". program_split() sets
 *	rec->daemon and rec->listener (copied into buf, which must outlive the
 *	record). Dovecot's tags ("dovecot", "dovecot[pid]", or the service name
 *	itself in a log_path file) all dispatch to dovecot_parse(), which sets
 *	the listener to the Dovecot service ("imap-login", "auth").
 *
 *	program_parse() dispatches on the daemon name only (one table lookup,
 *	never every regex on every line), fills the envelope fields of the
 *	event, runs the one parser and sets ev->proxied.
 *
 *	A listener is proxied when its name matches one of pc->listeners
 *	(fnmatch(3) patterns; default "*proxy*"), or, for Dovecot, when the
 *	event's server_port is one of pc->dovecot_ports.
 * RETURNS
 *	program_parse(): 1 event; 0 a daemon we parse but a line we do not know
 *	(unrecognised); -ENOENT a daemon we have no parser for (ignored:
 *	delivery agents, other programs).
 */
#ifndef MX_PROGRAM_H
#define MX_PROGRAM_H

#include <stddef.h>

#include "parser.h"

struct mx_proxy_conf {
	char **listeners;	/* fnmatch patterns; NULL-terminated; NULL = default */
	unsigned *dovecot_ports;	/* 0-terminated; NULL = none */
};

void program_split(struct mx_record *rec, char *buf, size_t size);
int program_parse(const struct mx_proxy_conf *pc, struct mx_record *rec, struct mx_event *ret_ev);
int program_is_proxied(const struct mx_proxy_conf *pc, const struct mx_event *ev);

#endif
