/*
 * NAME
 *	pattern - PCRE2 helpers: compile once with JIT, reuse match data
 * SYNOPSIS
 *	#include "pattern.h"
 *
 *	struct mx_pattern *pattern_compile(const char *re);
 *	int pattern_match(const struct mx_pattern *p, const char *s, size_t len,
 *	    struct mx_match *ret_m);
 *	int pattern_group(const struct mx_pattern *p, const char *name);
 *	int match_set(const struct mx_match *m, int group, struct mx_event *ev,
 *	    const char **field);
 *	int match_span(const struct mx_match *m, int group, const char **ret_s,
 *	    size_t *ret_len);
 * DESCRIPTION
 *	pattern_compile() compiles an anchored-or-not PCRE2 expression and
 *	JIT-compiles it (falling back to the interpreter where JIT is not
 *	available). A pattern that does not compile is a programming error:
 *	the message names the pattern and the process aborts. Patterns are
 *	compiled once per process, typically from a parser's lazy init.
 *
 *	pattern_match() runs the pattern on s[0..len) with per-thread match
 *	data (no allocation after the first call in a thread) and copies the
 *	group offsets into *ret_m, which therefore stays valid after the next
 *	match. Returns 1 on match, 0 on no match, -errno on a matcher error
 *	(e.g. match limit hit by hostile input).
 *
 *	match_set() copies group `group` into the event field (left NULL when
 *	the group did not participate); match_span() hands out the bounds.
 * SEE ALSO
 *	pcre2api(3), pcre2jit(3)
 */
#ifndef MX_PATTERN_H
#define MX_PATTERN_H

#include <stddef.h>

#include "event.h"

/* Enough for every pattern in parsers/; pattern_compile() checks it. */
#define MX_MATCH_GROUPS	24

struct mx_pattern;

struct mx_match {
	const char *subject;
	int ngroups;			/* highest group number + 1 that was set */
	size_t ov[2 * MX_MATCH_GROUPS];	/* PCRE2_UNSET for groups that did not match */
};

struct mx_pattern *pattern_compile(const char *re);
int pattern_match(const struct mx_pattern *p, const char *s, size_t len, struct mx_match *ret_m);
int pattern_group(const struct mx_pattern *p, const char *name);
int match_span(const struct mx_match *m, int group, const char **ret_s, size_t *ret_len);
int match_set(const struct mx_match *m, int group, struct mx_event *ev, const char **field);
/* Group as an unsigned number (ports, counts); returns 0 when absent/invalid. */
unsigned long match_ulong(const struct mx_match *m, int group);

#endif
