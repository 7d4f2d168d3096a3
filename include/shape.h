/*
 * NAME
 *	shape - message shapes: a literal prefix, then one anchored pattern
 * SYNOPSIS
 *	#include "shape.h"
 *
 *	static struct mx_shape tab[] = {
 *		SHAPE("PASS OLD ", MX_EVENT_POSTSCREEN_PASS_OLD, "^PASS OLD \\[(?<ip>...)\\]..."),
 *		SHAPE_X(prefix, kind, pattern, fixed_stage, fixed_reason, flags),
 *	};
 *
 *	void shape_compile(struct mx_shape *tab, size_t n);
 *	const struct mx_shape *shape_find(const struct mx_shape *tab, size_t n,
 *	    const char *msg, size_t len);
 *	int shape_apply(const struct mx_shape *sh, const char *msg, size_t len,
 *	    struct mx_event *ev);
 * DESCRIPTION
 *	The Postfix parsers describe each log line they know as one shape: the
 *	fixed words it starts with (a cheap memcmp() test), the event kind, and
 *	one anchored PCRE2 pattern whose named groups say which part of the line
 *	goes into which event field. Only the pattern of the shape whose prefix
 *	matched is ever run, so a line costs one prefix scan and one match.
 *
 *	Group names and the fields they fill:
 *	    ip, port	client address (canonicalised by addr.h) and port, "[ip]:port"
 *	    sip, sport	server address and port (postscreen "to [ip]:port")
 *	    namaddr	"name[addr]" or "name[addr]:port" (client_name, client_ip,
 *			client_port through addr_set_namaddr())
 *	    name	client_name
 *	    stage, reason, reply, user, method, stats	the field of that name
 *	    from, to, helo	sender, recipient, helo (an empty value is kept:
 *			from=<> is the null sender)
 *	Other fields are left alone; an empty group leaves its field unset
 *	(except from/to/helo). sh->stage and sh->reason, when not NULL, are
 *	fixed values used where the pattern has no such group.
 *
 *	shape_compile() compiles every pattern of a table once (call it from a
 *	parser's pthread_once() initialiser). shape_find() returns the first
 *	shape whose prefix starts msg, or NULL; order the table so that a
 *	longer prefix comes before a shorter one it extends.
 * RETURNS
 *	shape_apply(): 1 with ev->kind and the fields set; 0 when the pattern
 *	does not match, the matcher gives up on hostile input, or the client
 *	address is not an IP address ("[999.1.1.1]", "dummy[dummy]"); the
 *	literal "unknown" is accepted and leaves client_ip unset.
 * SEE ALSO
 *	pattern.h, addr.h, parsers/postscreen.c, parsers/smtpd.c
 */
#ifndef MX_SHAPE_H
#define MX_SHAPE_H

#include <stddef.h>

#include "event.h"
#include "pattern.h"

enum {
	SHAPE_G_IP, SHAPE_G_PORT, SHAPE_G_SIP, SHAPE_G_SPORT, SHAPE_G_NAMADDR,
	SHAPE_G_NAME, SHAPE_G_STAGE, SHAPE_G_REASON, SHAPE_G_REPLY, SHAPE_G_USER,
	SHAPE_G_METHOD, SHAPE_G_STATS, SHAPE_G_FROM, SHAPE_G_TO, SHAPE_G_HELO,
	SHAPE_G__N
};

struct mx_shape {
	const char *prefix;		/* the message starts with this */
	enum mx_event_kind kind;
	const char *re;			/* anchored pattern with named groups */
	const char *stage;		/* fixed stage, or NULL */
	const char *reason;		/* fixed reason, or NULL */
	int flags;			/* free for the owning parser */
	/* set by shape_compile() */
	size_t plen;
	struct mx_pattern *pat;
	int g[SHAPE_G__N];		/* group numbers, -1 when absent */
};

/* table rows (designated initialisers: the compiled part stays zero) */
#define SHAPE(pfx, k, pat) \
	{ .prefix = (pfx), .kind = (k), .re = (pat) }
#define SHAPE_X(pfx, k, pat, stg, rsn, fl) \
	{ .prefix = (pfx), .kind = (k), .re = (pat), .stage = (stg), .reason = (rsn), \
	  .flags = (fl) }

void shape_compile(struct mx_shape *tab, size_t n);
const struct mx_shape *shape_find(const struct mx_shape *tab, size_t n, const char *msg,
    size_t len);
int shape_apply(const struct mx_shape *sh, const char *msg, size_t len, struct mx_event *ev);

#endif
