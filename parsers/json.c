/*
 * NAME
 *	json - in-place scanner for one flat JSON object per line
 * SYNOPSIS
 *	#include "json.h"
 * DESCRIPTION
 *	See json.h. A hand-written scanner rather than a JSON library: it
 *	runs on every line of a container log, must not allocate, and only
 *	needs the top-level members of one object.
 */
#include <errno.h>
#include <string.h>

#include "json.h"

/* json_ws - past JSON whitespace */
static inline char *
json_ws(char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* json_hex4 - four hex digits at p as a number, or -1 */
static int
json_hex4(const char *p, const char *end)
{
	int i, v = 0;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		int c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

/* json_utf8 - code point cp as UTF-8 at w; returns the end */
static char *
json_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | cp >> 6);
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | cp >> 12);
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | cp >> 18);
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/*
 * json_unicode - "\uXXXX" (p at the 'u'), with surrogate pairs; NUL
 * and lone surrogates become U+FFFD so no NUL ever enters a field. The
 * output (at most 4 bytes) is never longer than the 6 or 12 bytes read.
 */
static int
json_unicode(char **pp, char *end, char **pw)
{
	char *p = *pp;
	int cp = json_hex4(p + 1, end), lo;

	if (cp < 0)
		return -EINVAL;
	p += 5;
	if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
	    (lo = json_hex4(p + 2, end)) >= 0xdc00 && lo <= 0xdfff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	} else if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
		cp = 0xfffd;
	}
	*pw = json_utf8(*pw, (unsigned)cp);
	*pp = p;
	return 0;
}

/* json_string - a string at *pp (after the quote), unescaped over itself */
static int
json_string(char **pp, char *end, struct json_val *ret)
{
	char *p = *pp, *w = p, *s = p;

	while (p < end) {
		char c = *p;

		if (c == '"') {
			*w = '\0';
			ret->s = s;
			ret->len = (size_t)(w - s);
			ret->string = 1;
			*pp = p + 1;
			return 0;
		}
		if (c != '\\') {
			*w++ = c;
			p++;
			continue;
		}
		if (p + 1 >= end)
			return -EINVAL;
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
			*w++ = p[1];
			break;
		case 'b':
			*w++ = '\b';
			break;
		case 'f':
			*w++ = '\f';
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'u':
			p++;
			if (json_unicode(&p, end, &w) < 0)
				return -EINVAL;
			continue;
		default:
			return -EINVAL;
		}
		p += 2;
	}
	return -EINVAL;
}

/* json_skip - a number, literal, array or object value; not interpreted */
static int
json_skip(char **pp, char *end, struct json_val *ret)
{
	char *p = *pp, *s = p;
	int depth = 0;
	struct json_val tmp;

	while (p < end) {
		char c = *p;

		if (c == '"') {
			p++;
			if (json_string(&p, end, &tmp) < 0)
				return -EINVAL;
			continue;
		}
		if (c == '[' || c == '{') {
			if (++depth > JSON_DEPTH)
				return -EINVAL;
		} else if (c == ']' || c == '}') {
			if (depth == 0)
				break;
			depth--;
		} else if (c == ',' && depth == 0) {
			break;
		}
		p++;
	}
	if (depth != 0 || p == s)
		return -EINVAL;
	ret->s = s;
	ret->len = (size_t)(p - s);
	ret->string = 0;
	*pp = p;
	return 0;
}

/* json_key_index - which of keys[] names this member, or n_keys */
static size_t
json_key_index(const struct json_val *key, const char *const *keys, size_t n_keys)
{
	size_t i;

	for (i = 0; i < n_keys; i++) {
		if (strncmp(keys[i], key->s, key->len) == 0 && keys[i][key->len] == '\0')
			return i;
	}
	return n_keys;
}

/* json_scan_object - see json.h */
int
json_scan_object(char *p, char *end, const char *const *keys, size_t n_keys,
    struct json_val *vals)
{
	struct json_val key, val;
	size_t i;

	p = json_ws(p, end);
	if (p >= end || *p != '{')
		return -EINVAL;
	p = json_ws(p + 1, end);
	if (p < end && *p == '}')
		return json_ws(p + 1, end) == end ? 0 : -EINVAL;
	for (;;) {
		if (p >= end || *p != '"')
			return -EINVAL;
		p++;
		if (json_string(&p, end, &key) < 0)
			return -EINVAL;
		p = json_ws(p, end);
		if (p >= end || *p != ':')
			return -EINVAL;
		p = json_ws(p + 1, end);
		if (p >= end)
			return -EINVAL;
		if (*p == '"') {
			p++;
			if (json_string(&p, end, &val) < 0)
				return -EINVAL;
		} else if (json_skip(&p, end, &val) < 0) {
			return -EINVAL;
		}
		if ((i = json_key_index(&key, keys, n_keys)) < n_keys)
			vals[i] = val;
		p = json_ws(p, end);
		if (p < end && *p == ',') {
			p = json_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return json_ws(p + 1, end) == end ? 0 : -EINVAL;
		return -EINVAL;
	}
}
