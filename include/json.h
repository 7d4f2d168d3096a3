/*
 * NAME
 *	json - in-place scanner for one flat JSON object per line
 * SYNOPSIS
 *	#include "json.h"
 *
 *	int json_scan_object(char *p, char *end, const char *const *keys, size_t n_keys,
 *	    struct json_val *vals);
 * DESCRIPTION
 *	Reads the JSON object in [p, end) (whitespace around it allowed,
 *	nothing else) and, for each member whose name is keys[i], sets
 *	vals[i]. String values are unescaped over themselves and
 *	NUL-terminated where they stand: \uXXXX becomes UTF-8 (surrogate
 *	pairs joined); \u0000 and lone surrogates become U+FFFD, so a value
 *	never contains a NUL. Other values (numbers, literals, arrays, objects
 *	up to JSON_DEPTH deep) are delimited but not interpreted: vals[i].s
 *	points at their text, not NUL-terminated, with string = 0. Members not
 *	named in keys are checked and skipped; for a repeated name the last
 *	one wins. vals[] entries of absent keys are left as the caller set them
 *	(zero them first).
 *
 *	Made for Docker json-file and `journalctl -o json` lines on the hot
 *	path: no allocation, one pass, never reads past end. The buffer is
 *	modified even when the object turns out to be invalid.
 * RETURNS
 *	0, or -EINVAL for anything that is not one well-formed object (bad
 *	escape, unterminated string, missing colon/comma/brace, garbage after
 *	the closing brace, nesting deeper than JSON_DEPTH).
 * SEE ALSO
 *	envelope.c, RFC 8259
 */
#ifndef MX_JSON_H
#define MX_JSON_H

#include <stddef.h>

/* nesting of skipped values; Docker and journal lines are flat (Docker "attrs" is depth 1) */
#define JSON_DEPTH	32

struct json_val {
	char *s;		/* NULL when the key was absent; NUL-terminated for strings */
	size_t len;
	int string;		/* 1 string, 0 anything else (number, literal, array, object) */
};

int json_scan_object(char *p, char *end, const char *const *keys, size_t n_keys,
    struct json_val *vals);

#endif
