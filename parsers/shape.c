/*
 * NAME
 *	shape - message shapes: a literal prefix, then one anchored pattern
 * SYNOPSIS
 *	#include "shape.h"
 * DESCRIPTION
 *	See shape.h. The group-name table below is the one place that says
 *	which named group fills which event field.
 */
#include <stddef.h>
#include <string.h>

#include "addr.h"
#include "shape.h"

static const char *const shape_group_names[SHAPE_G__N] = {
	[SHAPE_G_IP] = "ip",
	[SHAPE_G_PORT] = "port",
	[SHAPE_G_SIP] = "sip",
	[SHAPE_G_SPORT] = "sport",
	[SHAPE_G_NAMADDR] = "namaddr",
	[SHAPE_G_NAME] = "name",
	[SHAPE_G_STAGE] = "stage",
	[SHAPE_G_REASON] = "reason",
	[SHAPE_G_REPLY] = "reply",
	[SHAPE_G_USER] = "user",
	[SHAPE_G_METHOD] = "method",
	[SHAPE_G_STATS] = "stats",
	[SHAPE_G_FROM] = "from",
	[SHAPE_G_TO] = "to",
	[SHAPE_G_HELO] = "helo",
};

/* Plain text groups: which event field, and whether an empty value counts. */
static const struct {
	int group;
	size_t off;
	int keep_empty;
} shape_text_fields[] = {
	{ SHAPE_G_NAME, offsetof(struct mx_event, client_name), 0 },
	{ SHAPE_G_STAGE, offsetof(struct mx_event, stage), 0 },
	{ SHAPE_G_REASON, offsetof(struct mx_event, reason), 0 },
	{ SHAPE_G_REPLY, offsetof(struct mx_event, reply), 0 },
	{ SHAPE_G_USER, offsetof(struct mx_event, user), 0 },
	{ SHAPE_G_METHOD, offsetof(struct mx_event, method), 0 },
	{ SHAPE_G_STATS, offsetof(struct mx_event, stats), 0 },
	{ SHAPE_G_FROM, offsetof(struct mx_event, sender), 1 },
	{ SHAPE_G_TO, offsetof(struct mx_event, recipient), 1 },
	{ SHAPE_G_HELO, offsetof(struct mx_event, helo), 1 },
};

/* shape_compile - compile each pattern once and look up its group numbers */
void
shape_compile(struct mx_shape *tab, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mx_shape *sh = &tab[i];

		sh->plen = strlen(sh->prefix);
		sh->pat = pattern_compile(sh->re);
		for (int g = 0; g < SHAPE_G__N; g++)
			sh->g[g] = sh->pat == NULL ? -1 :
			    pattern_group(sh->pat, shape_group_names[g]);
	}
}

/* shape_find - first shape whose prefix starts msg */
const struct mx_shape *
shape_find(const struct mx_shape *tab, size_t n, const char *msg, size_t len)
{
	if (len == 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct mx_shape *sh = &tab[i];

		if (sh->prefix[0] == msg[0] && sh->plen <= len &&
		    memcmp(sh->prefix, msg, sh->plen) == 0)
			return sh;
	}
	return NULL;
}

/* shape_port - a port group; 0 when absent, -1 when not a port number */
static long
shape_port(const struct mx_match *m, int group)
{
	const char *s;
	size_t len;
	unsigned long v;

	if (group < 0 || match_span(m, group, &s, &len) < 0)
		return 0;
	v = match_ulong(m, group);
	return v > 65535 ? -1 : (long)v;
}

/* shape_addr - the address groups; -1 when the client address is malformed */
static int
shape_addr(const struct mx_shape *sh, const struct mx_match *m, struct mx_event *ev)
{
	const char *s;
	size_t len;
	long port;

	if (sh->g[SHAPE_G_NAMADDR] >= 0 &&
	    match_span(m, sh->g[SHAPE_G_NAMADDR], &s, &len) == 0 &&
	    addr_set_namaddr(ev, s, len) < 0)
		return -1;
	if (sh->g[SHAPE_G_IP] >= 0 && match_span(m, sh->g[SHAPE_G_IP], &s, &len) == 0 &&
	    addr_set_client(ev, s, len) < 0)
		return -1;
	if ((port = shape_port(m, sh->g[SHAPE_G_PORT])) < 0)
		return -1;
	if (port > 0)
		ev->client_port = (unsigned)port;
	/* the local end is informational: a bad one does not spoil the event */
	if (sh->g[SHAPE_G_SIP] >= 0 && match_span(m, sh->g[SHAPE_G_SIP], &s, &len) == 0 &&
	    addr_set_server(ev, s, len) == 0 && (port = shape_port(m, sh->g[SHAPE_G_SPORT])) > 0)
		ev->server_port = (unsigned)port;
	return 0;
}

/* shape_apply - run the shape's pattern and fill the event */
int
shape_apply(const struct mx_shape *sh, const char *msg, size_t len, struct mx_event *ev)
{
	struct mx_match m;

	if (sh->pat == NULL || pattern_match(sh->pat, msg, len, &m) != 1)
		return 0;
	if (shape_addr(sh, &m, ev) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(shape_text_fields) / sizeof(shape_text_fields[0]); i++) {
		const char **field = (const char **)((char *)ev + shape_text_fields[i].off);
		const char *s;
		size_t slen;

		if (sh->g[shape_text_fields[i].group] < 0 ||
		    match_span(&m, sh->g[shape_text_fields[i].group], &s, &slen) < 0)
			continue;
		if (slen == 0 && !shape_text_fields[i].keep_empty)
			continue;
		if (event_set(ev, field, s, slen) < 0)
			return 0;
	}
	if (sh->stage != NULL && ev->stage == NULL && event_setz(ev, &ev->stage, sh->stage) < 0)
		return 0;
	if (sh->reason != NULL && ev->reason == NULL &&
	    event_setz(ev, &ev->reason, sh->reason) < 0)
		return 0;
	ev->kind = sh->kind;
	return 1;
}
