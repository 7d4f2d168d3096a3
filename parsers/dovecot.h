/*
 * NAME
 *	dovecot.h - what dovecot.c hands to the login and auth parsers
 * SYNOPSIS
 *	#include "dovecot.h"
 *
 *	int dovecot_login_parse(const struct dovecot_line *dl, struct mx_event *ev);
 *	int dovecot_auth_parse(const struct dovecot_line *dl, struct mx_event *ev);
 *	int dovecot_auth_pam_parse(const char *s, size_t len, struct mx_event *ev);
 *	int dovecot_auth_is_pam(const char *s, size_t len, int dovecot_only,
 *	    size_t *ret_used);
 * DESCRIPTION
 *	Private to parsers/dovecot*.c. dovecot.c finds the Dovecot service
 *	prefix of a record ("imap-login: ", "auth-worker(123): ", the 2.4
 *	"auth(user,ip,sasl:login)<session>: ", or the log_path program name)
 *	and the level word ("Info: ", "Error: ", ...), then calls the parser
 *	of that service with the pieces below (or, for a PAM module's own
 *	line, dovecot_auth_pam_parse() with the text after its tag). All pointers borrow from the
 *	record; lengths are exact (nothing is NUL-terminated).
 *
 *	The parsers fill kind and the fields they know; dovecot.c sets
 *	listener to the service. They return 1 for an event, 0 for a line
 *	they skip. The
 *	small helpers below keep the hand-written scanners readable: every
 *	one is a single forward pass (memmem), so no input can make a line
 *	cost more than a few passes over its length.
 * SEE ALSO
 *	dovecot.c, dovecot_login.c, dovecot_auth.c, parser.h
 */
#ifndef MX_DOVECOT_H
#define MX_DOVECOT_H

#include <stddef.h>
#include <string.h>

#include "event.h"

struct dovecot_line {
	const char *service;	/* "imap-login", "auth", "auth-worker": no args, no pid */
	size_t service_len;
	const char *args;	/* inside "(...)" after the service, NULL when absent: */
	size_t args_len;	/* "123", "default", 2.4 "user,ip,sasl:login" */
	const char *session;	/* 2.4 "<session>" after the args, NULL when absent */
	size_t session_len;
	const char *body;	/* message after the prefix and the level word */
	size_t body_len;
};

int dovecot_login_parse(const struct dovecot_line *dl, struct mx_event *ev);
int dovecot_auth_parse(const struct dovecot_line *dl, struct mx_event *ev);
/* the text after "pam_unix(dovecot:auth): " */
int dovecot_auth_pam_parse(const char *s, size_t len, struct mx_event *ev);
/* does s start with "pam_MODULE(SERVICE:auth)"? (dovecot_only: SERVICE is "dovecot") */
int dovecot_auth_is_pam(const char *s, size_t len, int dovecot_only, size_t *ret_used);

/* dovecot_starts - does s[0..len) begin with the literal lit? */
#define dovecot_starts(s, len, lit) \
	((len) >= sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* dovecot_find - first occurrence of lit in s[0..len), or NULL */
#define dovecot_find(s, len, lit) \
	((const char *)memmem((s), (len), (lit), sizeof(lit) - 1))

/* dovecot_find_last - last occurrence of lit in s[0..len), or NULL (one pass) */
static inline const char *
dovecot_find_last_n(const char *s, size_t len, const char *lit, size_t litlen)
{
	const char *p, *last = NULL, *end = s + len;

	while ((p = memmem(s, (size_t)(end - s), lit, litlen)) != NULL) {
		last = p;
		s = p + 1;
	}
	return last;
}
#define dovecot_find_last(s, len, lit) dovecot_find_last_n((s), (len), (lit), sizeof(lit) - 1)

/* dovecot_set - copy a span into an event field; an empty span stays unset */
static inline int
dovecot_set(struct mx_event *ev, const char **field, const char *s, size_t len)
{
	if (s == NULL || len == 0)
		return 0;
	return event_set(ev, field, s, len);
}

#endif
