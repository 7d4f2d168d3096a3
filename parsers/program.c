/*
 * NAME
 *	program - from syslog tag to listener, daemon and the parser that owns it
 * SYNOPSIS
 *	#include "program.h"
 * DESCRIPTION
 *	See program.h. The dispatch table maps a daemon name (the last
 *	component of the tag) to its parser; a lookup is a short linear scan
 *	over a handful of names, cheaper than hashing for this size.
 *	Dovecot processes log under many names: "dovecot" (syslog ident),
 *	"dovecot-auth", or the service itself when Dovecot writes its own
 *	log_path file ("imap-login", "auth", "auth-worker(123)").
 */
#include <errno.h>
#include <fnmatch.h>
#include <string.h>

#include "program.h"

typedef int (*program_parse_fn)(const struct mx_record *, struct mx_event *);

struct program_entry {
	const char *daemon;
	size_t len;
	program_parse_fn parse;
	int postfix_only;	/* only under a syslog_name ("postfix/master", not Dovecot's "master") */
};

#define E(name, fn, pf) { name, sizeof(name) - 1, fn, pf }
static const struct program_entry program_table[] = {
	E("smtpd", smtpd_parse, 0),
	E("postscreen", postscreen_parse, 0),
	E("dovecot", dovecot_parse, 0),
	E("anvil", anvil_parse, 1),
	E("master", master_parse, 1),
	E("imap-login", dovecot_parse, 0),
	E("pop3-login", dovecot_parse, 0),
	E("submission-login", dovecot_parse, 0),
	E("managesieve-login", dovecot_parse, 0),
	E("imap-urlauth-login", dovecot_parse, 0),
	E("pam_unix", dovecot_parse, 0),	/* dovecot_parse keeps only pam_unix(dovecot:...) */
	E("auth", dovecot_parse, 0),
	E("auth-worker", dovecot_parse, 0),
	E("dovecot-auth", dovecot_parse, 0),
	E("imap", dovecot_parse, 0),
	E("pop3", dovecot_parse, 0),
	E("lmtp", dovecot_parse, 0),
	E("submission", dovecot_parse, 0),
};
#undef E

/*
 * program_split - listener = tag up to the last '/', daemon = the rest.
 * A tag without '/' is its own daemon and listener ("dovecot"). A
 * Dovecot "auth-worker(123)" process name loses its pid.
 */
void
program_split(struct mx_record *rec, char *buf, size_t size)
{
	const char *prog = rec->program, *slash, *paren;
	size_t plen, dlen;

	rec->listener = rec->daemon = NULL;
	if (prog == NULL || size < 2)
		return;
	plen = strlen(prog);
	if (plen >= size)
		plen = size - 2;
	/*
	 * Dovecot 2.4 log_path prefixes carry arguments ("auth(user,ip)<sess>")
	 * whose session id may contain '/': only the part before the first
	 * '(' or '<' names the program.
	 */
	paren = prog + strcspn(prog, "(<");
	if ((size_t)(paren - prog) > plen)
		paren = prog + plen;
	slash = memrchr(prog, '/', (size_t)(paren - prog));
	if (slash == NULL) {
		dlen = (size_t)(paren - prog);
		if (dlen >= size)
			dlen = size - 1;
		memcpy(buf, prog, dlen);
		buf[dlen] = '\0';
		rec->daemon = rec->listener = buf;
		return;
	}
	/* "listener\0daemon\0" in buf */
	memcpy(buf, prog, plen);
	buf[plen] = '\0';
	buf[slash - prog] = '\0';
	rec->listener = buf;
	rec->daemon = buf + (slash - prog) + 1;
}

static const struct program_entry *
program_lookup(const struct mx_record *rec)
{
	size_t len;

	if (rec->daemon == NULL)
		return NULL;
	len = strlen(rec->daemon);
	for (size_t i = 0; i < sizeof(program_table) / sizeof(program_table[0]); i++) {
		const struct program_entry *e = &program_table[i];

		if (e->len != len || memcmp(e->daemon, rec->daemon, len) != 0)
			continue;
		/* Postfix's anvil/master always come with a syslog_name prefix */
		if (e->postfix_only && rec->listener == rec->daemon)
			return NULL;
		return e;
	}
	return NULL;
}

/*
 * program_listener_matches - fnmatch() the listener against the patterns.
 * The answer for the last listener seen is cached per thread: logs have a
 * handful of listeners, and fnmatch on every event showed in profiles.
 */
static int
program_listener_matches(char *const *pats, const char *listener)
{
	static __thread char *const *cached_pats;
	static __thread char cached_listener[128];
	static __thread int cached_result;
	size_t len = strlen(listener);
	int r = 0;

	if (pats == cached_pats && len < sizeof(cached_listener) &&
	    memcmp(cached_listener, listener, len + 1) == 0)
		return cached_result;
	for (char *const *p = pats; *p != NULL && r == 0; p++)
		if (fnmatch(*p, listener, 0) == 0)
			r = 1;
	if (len < sizeof(cached_listener)) {
		memcpy(cached_listener, listener, len + 1);
		cached_pats = pats;
		cached_result = r;
	}
	return r;
}

/* program_is_proxied - does this event's listener receive PROXY headers? */
int
program_is_proxied(const struct mx_proxy_conf *pc, const struct mx_event *ev)
{
	static char *const default_listeners[] = { "*proxy*", NULL };
	char *const *pats;

	if (ev->listener == NULL)
		return -1;
	if (ev->daemon != NULL && strcmp(ev->daemon, "dovecot") == 0) {
		if (pc != NULL && pc->dovecot_ports != NULL && ev->server_port > 0)
			for (const unsigned *p = pc->dovecot_ports; *p != 0; p++)
				if (*p == ev->server_port)
					return 1;
		if (pc == NULL || pc->dovecot_ports == NULL || ev->server_port == 0)
			return -1;
		return 0;
	}
	pats = pc != NULL && pc->listeners != NULL ? pc->listeners : default_listeners;
	return program_listener_matches(pats, ev->listener);
}

/* program_parse - fill the envelope fields, run the daemon's parser, classify */
int
program_parse(const struct mx_proxy_conf *pc, struct mx_record *rec, struct mx_event *ret_ev)
{
	const struct program_entry *e;
	struct mx_event *ev = ret_ev;
	int r;

	e = program_lookup(rec);
	if (e == NULL)
		return -ENOENT;
	event_reset(ev);
	ev->ts_usec = rec->ts_usec;
	ev->pid = rec->pid;
	if (event_setz(ev, &ev->host, rec->host) < 0 ||
	    event_setz(ev, &ev->program, rec->program) < 0 ||
	    event_setz(ev, &ev->daemon, rec->daemon) < 0 ||
	    event_setz(ev, &ev->listener, rec->listener) < 0)
		return 0;
	r = e->parse(rec, ev);
	if (r <= 0)
		return 0;
	ev->proxied = program_is_proxied(pc, ev);
	return 1;
}
