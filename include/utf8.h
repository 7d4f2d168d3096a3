/*
 * NAME
 *	utf8 - is this a valid UTF-8 sequence?
 * SYNOPSIS
 *	#include "utf8.h"
 *
 *	size_t utf8_len(const unsigned char *s, size_t avail);
 * DESCRIPTION
 *	utf8_len() is the length (1 to 4) of the valid UTF-8 sequence that
 *	starts at s, of which at most avail bytes may be read, or 0 when the
 *	bytes there are not one: a stray continuation byte, an overlong form,
 *	a surrogate (U+D800..U+DFFF), a code point above U+10FFFF, or a
 *	sequence cut short. It stops at the first byte that does not fit, and
 *	a NUL never does, so for a NUL-terminated string avail may be
 *	SIZE_MAX. avail must be at least 1.
 * SEE ALSO
 *	RFC 3629; event.c (JSON output), report_render.c (terminal output)
 */
#ifndef MX_UTF8_H
#define MX_UTF8_H

#include <stddef.h>

size_t utf8_len(const unsigned char *s, size_t avail);

#endif
