/*
 * NAME
 *	rules_values - the values of the rule language: networks, windows, numbers, actions
 * SYNOPSIS
 *	#include "rules_impl.h"
 *
 *	int rules_cidr_parse(const char *s, struct rules_cidr *ret);
 *	int rules_cidr_match(const struct rules_cidr *net, int family, const unsigned char *a);
 *	int rules_window_parse(const char *s, int64_t *ret);
 *	void rules_window_text(int64_t usec, char *buf, size_t size);
 *	int rules_number(const char *s, uint64_t *ret);
 *	int rules_action_normalise(const char *const *words, size_t n, char **ret_action,
 *	    const char **ret_why);
 * DESCRIPTION
 *	Checking and normalising single values, for rules.c (reading) and
 *	rules_eval.c (CIDR matching). An action is checked against what
 *	Postfix's access(5) accepts from a policy server: the action word,
 *	a 4NN/5NN code with an optional enhanced status code of the same
 *	class, and whether text is forbidden, allowed or required.
 * RETURNS
 *	0 or -EINVAL (-EDOM for a network with host bits set); an invalid
 *	action also gives the reason in *ret_why.
 * SEE ALSO
 *	rules.h (the language), rules_impl.h
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_impl.h"

/* Action words of access(5) that a policy server may answer; text optional unless noted. */
static const struct rules_actiondef {
	const char *word;
	int text;			/* 0 none allowed, 1 optional, 2 required */
} rules_actions[] = {
	{ "DUNNO", 0 }, { "OK", 0 }, { "DEFER", 1 }, { "REJECT", 1 },
	{ "DEFER_IF_PERMIT", 1 }, { "DEFER_IF_REJECT", 1 }, { "HOLD", 1 }, { "DISCARD", 1 },
	{ "WARN", 1 }, { "INFO", 1 }, { "PREPEND", 2 },
};

#define RULES_N(a)	(sizeof(a) / sizeof((a)[0]))

/* rules_cidr_parse - "192.0.2.0/24", "2001:db8::/32" or an address; -EINVAL, -EDOM (host bits) */
int
rules_cidr_parse(const char *s, struct rules_cidr *ret)
{
	char host[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = strchr(s, '/');
	size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	struct rules_cidr c = { 0 };
	unsigned long len;
	unsigned char full[16];

	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, c.a) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, host, c.a) == 1)
		c.family = AF_INET6;
	else
		return -EINVAL;
	c.len = c.family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end != '\0' || len > c.len)
			return -EINVAL;
		c.len = (unsigned)len;
	}
	memcpy(full, c.a, sizeof(full));
	for (unsigned i = 0; i < 16; i++) {
		unsigned bit = i * 8;

		if (bit >= c.len)
			c.a[i] = 0;
		else if (c.len - bit < 8)
			c.a[i] &= (unsigned char)(0xff00 >> (c.len - bit));
	}
	if (memcmp(full, c.a, sizeof(full)) != 0)
		return -EDOM;
	*ret = c;
	return 0;
}

/* rules_cidr_match - is address a (of family) inside net? */
int
rules_cidr_match(const struct rules_cidr *net, int family, const unsigned char *a)
{
	unsigned full = net->len / 8, rest = net->len % 8;

	if (family != net->family)
		return 0;
	if (memcmp(a, net->a, full) != 0)
		return 0;
	return rest == 0 || (a[full] & (0xff00 >> rest)) == net->a[full];
}

/* rules_window_text - "15m", "1d", "90s": the largest unit that divides */
void
rules_window_text(int64_t usec, char *buf, size_t size)
{
	int64_t s = usec / 1000000;

	if (s % 86400 == 0)
		snprintf(buf, size, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, size, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, size, "%llds", (long long)s);
}

/* rules_window_parse - "30s", "15m", "1h", "7d" or seconds; 0 or -EINVAL */
int
rules_window_parse(const char *s, int64_t *ret)
{
	char *end;
	unsigned long long n;
	int64_t unit = 1;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || n == 0)
		return -EINVAL;
	switch (*end) {
	case 'd': unit = 86400; end++; break;
	case 'h': unit = 3600; end++; break;
	case 'm': unit = 60; end++; break;
	case 's': end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end != '\0' || n > (unsigned long long)(RULES_WINDOW_MAX / 1000000 / unit))
		return -EINVAL;
	*ret = (int64_t)n * unit * 1000000;
	return 0;
}

/* rules_number - a decimal number without sign; 0 or -EINVAL */
int
rules_number(const char *s, uint64_t *ret)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -EINVAL : 0;
}

/* ------------------------------------------------------------- actions */

/* rules_code_ok - "450", "4.7.1": a 4xx/5xx code and an enhanced status of its class */
static int
rules_code_ok(const char *code, size_t len, const char *rest, size_t rlen)
{
	size_t i, dots = 0, digits = 0;

	if (len != 3 || (code[0] != '4' && code[0] != '5') || !isdigit((unsigned char)code[1]) ||
	    !isdigit((unsigned char)code[2]))
		return 0;
	if (rlen == 0 || !isdigit((unsigned char)rest[0]) || rlen < 2 || rest[1] != '.')
		return 1;		/* no enhanced status: fine */
	if (rest[0] != code[0])
		return 0;
	for (i = 1; i < rlen && rest[i] != ' '; i++) {
		if (rest[i] == '.') {
			if (digits == 0 && i > 1)
				return 0;
			dots++;
			digits = 0;
		} else if (!isdigit((unsigned char)rest[i]) || ++digits > 3) {
			return 0;
		}
	}
	return dots == 2 && digits > 0;
}

/* rules_action_why - what is wrong with a joined action, NULL if nothing */
static const char *
rules_action_why(const char *a, size_t wl)
{
	const char *text = a[wl] != '\0' ? a + wl + 1 : a + wl;
	int def = -1;

	for (size_t i = 0; a[i] != '\0'; i++)
		if (iscntrl((unsigned char)a[i]))
			return "control character in action text";
	for (size_t i = 0; i < RULES_N(rules_actions); i++)
		if (strlen(rules_actions[i].word) == wl && strncmp(a, rules_actions[i].word, wl) == 0)
			def = (int)i;
	if (wl == 0)
		return "empty action";
	if (strlen(a) > POLICY_ACTION_MAX)
		return "action text too long";
	if (def < 0 && isdigit((unsigned char)a[0]))
		return rules_code_ok(a, wl, text, strlen(text)) ? NULL :
		    "a numeric action is a 4NN or 5NN code, optionally followed by an "
		    "enhanced status code of the same class (450 4.7.1 text)";
	if (def < 0)
		return "unknown action (DUNNO OK DEFER REJECT DEFER_IF_PERMIT DEFER_IF_REJECT "
		    "HOLD DISCARD WARN INFO PREPEND 4NN 5NN)";
	if (rules_actions[def].text == 0 && *text != '\0')
		return "this action takes no text";
	if (rules_actions[def].text == 2 && (*text == ':' || strchr(text, ':') == NULL ||
	    strcspn(text, ": ") != strcspn(text, ":")))
		return "PREPEND needs a header line: PREPEND \"Name: value\"";
	return NULL;
}

/* rules_action_normalise - join words, check the action, upper-case its word */
int
rules_action_normalise(const char *const *words, size_t n, char **ret_action, const char **ret_why)
{
	size_t len = 0, wl, i;
	char *a;

	for (i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	if ((a = malloc(len + 1)) == NULL)
		return -ENOMEM;
	for (a[0] = '\0', i = 0; i < n; i++) {
		if (i > 0)
			strcat(a, " ");
		strcat(a, words[i]);
	}
	wl = strcspn(a, " ");
	for (i = 0; i < wl; i++)
		a[i] = (char)toupper((unsigned char)a[i]);
	if ((*ret_why = rules_action_why(a, wl)) != NULL) {
		free(a);
		return -EINVAL;
	}
	*ret_action = a;
	return 0;
}
