/*
 * NAME
 *	linebuf - assemble lines from read() chunks, with a length cap
 * SYNOPSIS
 *	#include "linebuf.h"
 *
 *	struct linebuf *linebuf_new(size_t read_size);
 *	struct linebuf *linebuf_free(struct linebuf *lb);
 *	void linebuf_reset(struct linebuf *lb, uint64_t offset, int skip_partial);
 *	size_t linebuf_space(struct linebuf *lb, char **ret_ptr);
 *	void linebuf_fill(struct linebuf *lb, size_t n);
 *	size_t linebuf_feed(struct linebuf *lb, const void *data, size_t n);
 *	int linebuf_next(struct linebuf *lb, struct linebuf_line *ret);
 *	int linebuf_flush(struct linebuf *lb, struct linebuf_line *ret);
 *	void linebuf_unget(struct linebuf *lb);
 *	uint64_t linebuf_offset(const struct linebuf *lb);
 *	uint64_t linebuf_done(const struct linebuf *lb);
 *	size_t linebuf_held(const struct linebuf *lb);
 * DESCRIPTION
 *	Bytes of one file go in, in chunks of any size; complete lines come
 *	out, each with end_offset, the file offset just past its '\n'. The
 *	first byte fed after linebuf_reset(lb, offset, ...) is taken to be at
 *	`offset` in the file. Pure: no I/O, no logging, one allocation.
 *
 *	Reading is zero-copy: linebuf_space() gives where to read() to and how
 *	much fits (at most read_size), linebuf_fill() says how many bytes
 *	arrived. linebuf_feed() copies instead (tests, fuzzing). Then call
 *	linebuf_next() until it returns LINEBUF_NONE before the next fill.
 *
 *	A line is delivered NUL-terminated in place, without its "\n" and
 *	without one '\r' just before it ("\r\n" files). NUL bytes inside a line
 *	are passed through: len is the true length, so callers must not use
 *	strlen() (the envelope parser rejects such lines).
 *
 *	A line longer than MX_LINE_MAX bytes (after '\r' stripping) is not
 *	delivered: once more than MX_LINE_MAX + 1 bytes without a newline are
 *	held they are dropped, and everything up to the next '\n' is skipped;
 *	at that '\n' linebuf_next() reports LINEBUF_OVERSIZED once, with the
 *	line's true length (every byte before the '\n', a '\r' included) and
 *	end offset. Memory stays at one buffer of
 *	MX_LINE_MAX + read_size + 2 bytes whatever the input.
 *
 *	linebuf_reset() with skip_partial drops bytes up to the first '\n'
 *	silently (used when starting in the middle of a line at "the end").
 *	linebuf_flush() hands out a final line that has no newline (a file we
 *	leave for good: rotated away, deleted, truncated); its end_offset is
 *	that of its last byte + 1. linebuf_unget() undoes the last next() or
 *	flush() (the consumer failed and wants it again); no fill in between.
 * RETURNS
 *	linebuf_next() and linebuf_flush(): LINEBUF_LINE with *ret filled,
 *	LINEBUF_OVERSIZED with ret->line NULL and ret->len, ret->end_offset
 *	filled, LINEBUF_NONE when no complete line is held.
 *	linebuf_offset(): file offset of the next byte to fill.
 *	linebuf_done(): file offset just past the last line handed out (where
 *	reading would resume after a restart). linebuf_held(): bytes held.
 * OWNERSHIP
 *	ret->line points into the buffer and stays valid until the next call
 *	on lb; callers may modify the bytes in place. linebuf_new() returns
 *	NULL only for ENOMEM; linebuf_free() returns NULL.
 * SEE ALSO
 *	tail.h, tests/check_linebuf.c
 */
#ifndef MX_LINEBUF_H
#define MX_LINEBUF_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Default chunk for read(): large enough to amortise syscalls, small against MX_LINE_MAX. */
#define LINEBUF_READ_SIZE	(64 * 1024)
/* Upper bound accepted by linebuf_new(): keeps the buffer bounded whatever the caller asks. */
#define LINEBUF_READ_SIZE_MAX	(1024 * 1024)

enum {
	LINEBUF_NONE = 0,	/* no complete line held: fill more */
	LINEBUF_LINE = 1,	/* *ret is a line */
	LINEBUF_OVERSIZED = 2,	/* a line longer than MX_LINE_MAX ended at ret->end_offset */
};

struct linebuf_line {
	char *line;		/* NUL-terminated, without "\n" / "\r\n"; NULL when oversized */
	size_t len;		/* bytes before the terminator, NULs included */
	uint64_t end_offset;	/* file offset just past the '\n' */
};

struct linebuf;

struct linebuf *linebuf_new(size_t read_size);
struct linebuf *linebuf_free(struct linebuf *lb);
void linebuf_reset(struct linebuf *lb, uint64_t offset, int skip_partial);
size_t linebuf_space(struct linebuf *lb, char **ret_ptr);
void linebuf_fill(struct linebuf *lb, size_t n);
size_t linebuf_feed(struct linebuf *lb, const void *data, size_t n);
int linebuf_next(struct linebuf *lb, struct linebuf_line *ret);
int linebuf_flush(struct linebuf *lb, struct linebuf_line *ret);
void linebuf_unget(struct linebuf *lb);
uint64_t linebuf_offset(const struct linebuf *lb);
uint64_t linebuf_done(const struct linebuf *lb);
size_t linebuf_held(const struct linebuf *lb);

#endif
