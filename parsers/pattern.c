/*
 * NAME
 *	pattern - PCRE2 helpers: compile once with JIT, reuse match data
 * SYNOPSIS
 *	#include "pattern.h"
 * DESCRIPTION
 *	See pattern.h. Match data is per thread (a thread-local pointer created
 *	on first use, sized for MX_MATCH_GROUPS) so the hot path never
 *	allocates. Matching uses pcre2_jit_match() when the pattern was
 *	JIT-compiled, pcre2_match() otherwise. A match limit and a depth limit
 *	bound the work hostile input can cause in the interpreter; the JIT
 *	has its own stack limit.
 * SEE ALSO
 *	pcre2api(3), pcre2jit(3)
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "pattern.h"

struct mx_pattern {
	pcre2_code *code;
	int jit;
	const char *source;
};

static __thread pcre2_match_data *pattern_md;
static pcre2_match_context *pattern_mctx;

/* pattern_compile - compile and JIT-compile; aborts on a bad pattern (our bug) */
struct mx_pattern *
pattern_compile(const char *re)
{
	struct mx_pattern *p;
	PCRE2_SIZE erroff;
	int errcode;
	uint32_t ncap;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->source = re;
	p->code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	    PCRE2_DOLLAR_ENDONLY, &errcode, &erroff, NULL);
	if (p->code == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		fprintf(stderr, "pattern: cannot compile /%s/ at offset %zu: %s\n", re,
		    (size_t)erroff, (const char *)msg);
		abort();
	}
	pcre2_pattern_info(p->code, PCRE2_INFO_CAPTURECOUNT, &ncap);
	if (ncap + 1 > MX_MATCH_GROUPS) {
		fprintf(stderr, "pattern: /%s/ has %u groups, more than %d\n", re, ncap,
		    MX_MATCH_GROUPS - 1);
		abort();
	}
	p->jit = pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE) == 0;
	if (pattern_mctx == NULL) {
		pattern_mctx = pcre2_match_context_create(NULL);
		if (pattern_mctx != NULL) {
			pcre2_set_match_limit(pattern_mctx, 1000000);
			pcre2_set_depth_limit(pattern_mctx, 10000);
		}
	}
	return p;
}

/* pattern_match - run p on s[0..len); 1 match, 0 none, -errno on matcher errors */
int
pattern_match(const struct mx_pattern *p, const char *s, size_t len, struct mx_match *ret_m)
{
	PCRE2_SIZE *ov;
	int rc;

	if (pattern_md == NULL) {
		pattern_md = pcre2_match_data_create(MX_MATCH_GROUPS, NULL);
		if (pattern_md == NULL)
			return -ENOMEM;
	}
	if (p->jit)
		rc = pcre2_jit_match(p->code, (PCRE2_SPTR)s, len, 0, 0, pattern_md,
		    pattern_mctx);
	else
		rc = pcre2_match(p->code, (PCRE2_SPTR)s, len, 0, 0, pattern_md, pattern_mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
		    rc == PCRE2_ERROR_JIT_STACKLIMIT ? -E2BIG : -EINVAL;
	if (rc == 0)
		rc = MX_MATCH_GROUPS;
	ov = pcre2_get_ovector_pointer(pattern_md);
	ret_m->subject = s;
	ret_m->ngroups = rc;
	for (int i = 0; i < 2 * MX_MATCH_GROUPS; i++)
		ret_m->ov[i] = i < 2 * rc ? ov[i] : PCRE2_UNSET;
	return 1;
}

/* pattern_group - number of a named group, -ENOENT when absent */
int
pattern_group(const struct mx_pattern *p, const char *name)
{
	int n = pcre2_substring_number_from_name(p->code, (PCRE2_SPTR)name);

	return n < 0 ? -ENOENT : n;
}

/* match_span - bounds of a group; -ENOENT when it did not participate */
int
match_span(const struct mx_match *m, int group, const char **ret_s, size_t *ret_len)
{
	if (group < 0 || group >= m->ngroups || m->ov[2 * group] == PCRE2_UNSET)
		return -ENOENT;
	*ret_s = m->subject + m->ov[2 * group];
	*ret_len = m->ov[2 * group + 1] - m->ov[2 * group];
	return 0;
}

/* match_set - copy a group into an event field (absent group: field untouched) */
int
match_set(const struct mx_match *m, int group, struct mx_event *ev, const char **field)
{
	const char *s;
	size_t len;

	if (match_span(m, group, &s, &len) < 0)
		return 0;
	return event_set(ev, field, s, len);
}

/* match_ulong - a group as a decimal number; 0 when absent or not a number */
unsigned long
match_ulong(const struct mx_match *m, int group)
{
	const char *s;
	size_t len;
	unsigned long v = 0;

	if (match_span(m, group, &s, &len) < 0 || len == 0 || len > 9)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v;
}
