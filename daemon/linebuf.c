/*
 * NAME
 *	linebuf - assemble lines from read() chunks, with a length cap
 * SYNOPSIS
 *	#include "linebuf.h"
 *
 *	struct linebuf *lb = linebuf_new(LINEBUF_READ_SIZE);
 *	linebuf_reset(lb, offset, 0);
 *	n = read(fd, p, linebuf_space(lb, &p)); linebuf_fill(lb, n);
 *	while (linebuf_next(lb, &l) != LINEBUF_NONE) ...
 * DESCRIPTION
 *	Held bytes are buf[start, end), buf[start] being at file offset base;
 *	buf[start, scan) is known to hold no '\n'. A partial line is kept
 *	while it could still end within MX_LINE_MAX (+1 for a '\r'); past
 *	that the line is being skipped: bytes are dropped as they arrive and
 *	skip_from remembers where it began, so the report at its '\n' carries
 *	the true length. The buffer is compacted (the partial line moved to the
 *	front) only when fewer than read_size bytes are free behind it.
 *
 *	linebuf_unget() restores the state saved by the last next()/flush()
 *	and the one byte that was overwritten by the terminating NUL.
 * SEE ALSO
 *	linebuf.h (the contract), tail.c (the caller), tests/check_linebuf.c
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "linebuf.h"

/* A partial line may hold MX_LINE_MAX bytes and a '\r' waiting for its '\n'. */
#define LINEBUF_PARTIAL_MAX	(MX_LINE_MAX + 1)

struct linebuf_state {
	size_t start, scan, end;
	uint64_t base;		/* file offset of buf[start] */
	uint64_t skip_from;	/* file offset where the line being skipped began */
	int skipping;		/* dropping bytes up to the next '\n' */
	int silent;		/* ... without reporting it (skip_partial) */
};

struct linebuf {
	struct linebuf_state s;
	struct linebuf_state saved;	/* before the last next()/flush() */
	int can_unget;
	size_t nul_at;			/* where that call wrote a NUL, or SIZE_MAX */
	char nul_was;
	size_t read_size;
	size_t cap;			/* PARTIAL_MAX + read_size + 1 for a flush's NUL */
	char buf[];
};

static void linebuf_consume(struct linebuf *lb, size_t upto);
static void linebuf_drop_held(struct linebuf *lb);
static int linebuf_terminate(struct linebuf *lb, size_t len, size_t raw, uint64_t end_offset,
    struct linebuf_line *ret);

/* linebuf_new - a buffer for lines of up to MX_LINE_MAX bytes, reads of read_size */
struct linebuf *
linebuf_new(size_t read_size)
{
	struct linebuf *lb;
	size_t cap;

	if (read_size == 0)
		read_size = LINEBUF_READ_SIZE;
	if (read_size > LINEBUF_READ_SIZE_MAX)
		read_size = LINEBUF_READ_SIZE_MAX;
	cap = LINEBUF_PARTIAL_MAX + read_size + 1;
	lb = malloc(sizeof(*lb) + cap);
	if (lb == NULL)
		return NULL;
	lb->read_size = read_size;
	lb->cap = cap;
	linebuf_reset(lb, 0, 0);
	return lb;
}

/* linebuf_free - release lb; returns NULL */
struct linebuf *
linebuf_free(struct linebuf *lb)
{
	free(lb);
	return NULL;
}

/* linebuf_reset - forget everything; the next byte filled is at offset */
void
linebuf_reset(struct linebuf *lb, uint64_t offset, int skip_partial)
{
	memset(&lb->s, 0, sizeof(lb->s));
	lb->s.base = offset;
	if (skip_partial) {
		lb->s.skipping = 1;
		lb->s.silent = 1;
		lb->s.skip_from = offset;
	}
	lb->can_unget = 0;
	lb->nul_at = SIZE_MAX;
}

/* linebuf_space - where to read to, and how many bytes fit (at most read_size) */
size_t
linebuf_space(struct linebuf *lb, char **ret_ptr)
{
	struct linebuf_state *s = &lb->s;
	size_t held = s->end - s->start, room;

	if (lb->cap - 1 - s->end < lb->read_size && s->start > 0) {
		memmove(lb->buf, lb->buf + s->start, held);
		s->scan -= s->start;
		s->end = held;
		s->start = 0;
		lb->can_unget = 0;
	}
	room = lb->cap - 1 - s->end;
	if (room > lb->read_size)
		room = lb->read_size;
	*ret_ptr = lb->buf + s->end;
	return room;
}

/* linebuf_fill - n bytes were written where linebuf_space() pointed */
void
linebuf_fill(struct linebuf *lb, size_t n)
{
	assert(n <= lb->cap - 1 - lb->s.end);
	lb->s.end += n;
	lb->can_unget = 0;
}

/* linebuf_feed - copy in as much of data as fits; returns the bytes taken */
size_t
linebuf_feed(struct linebuf *lb, const void *data, size_t n)
{
	char *p;
	size_t room = linebuf_space(lb, &p);

	if (n > room)
		n = room;
	memcpy(p, data, n);
	linebuf_fill(lb, n);
	return n;
}

/* linebuf_consume - everything before buf[upto] has been handed out */
static void
linebuf_consume(struct linebuf *lb, size_t upto)
{
	struct linebuf_state *s = &lb->s;

	s->base += upto - s->start;
	s->start = s->scan = upto;
	if (s->start == s->end)
		s->start = s->scan = s->end = 0;
}

/* linebuf_drop_held - a skipped line's bytes are not kept */
static void
linebuf_drop_held(struct linebuf *lb)
{
	linebuf_consume(lb, lb->s.end);
}

/*
 * linebuf_terminate - hand out buf[start, start + len) as a line, consumed up to end_offset;
 * an oversized one is reported with its raw length (a stripped '\r' counted, as when skipped)
 */
static int
linebuf_terminate(struct linebuf *lb, size_t len, size_t raw, uint64_t end_offset,
    struct linebuf_line *ret)
{
	struct linebuf_state *s = &lb->s;
	size_t start = s->start;

	linebuf_consume(lb, start + (size_t)(end_offset - s->base));
	if (len > MX_LINE_MAX) {
		ret->line = NULL;
		ret->len = raw;
		ret->end_offset = end_offset;
		return LINEBUF_OVERSIZED;
	}
	lb->nul_at = start + len;
	lb->nul_was = lb->buf[start + len];
	lb->buf[start + len] = '\0';
	ret->line = lb->buf + start;
	ret->len = len;
	ret->end_offset = end_offset;
	return LINEBUF_LINE;
}

/* linebuf_next - the next complete line, an oversized report, or LINEBUF_NONE */
int
linebuf_next(struct linebuf *lb, struct linebuf_line *ret)
{
	struct linebuf_state *s = &lb->s;

	lb->saved = *s;
	lb->can_unget = 0;
	lb->nul_at = SIZE_MAX;
	for (;;) {
		char *nl = memchr(lb->buf + s->scan, '\n', s->end - s->scan);
		uint64_t end_offset;
		size_t p, len;

		if (nl == NULL) {
			s->scan = s->end;
			if (!s->skipping && s->end - s->start > LINEBUF_PARTIAL_MAX) {
				s->skipping = 1;
				s->silent = 0;
				s->skip_from = s->base;
			}
			if (s->skipping)
				linebuf_drop_held(lb);
			return LINEBUF_NONE;
		}
		p = (size_t)(nl - lb->buf);
		end_offset = s->base + (p - s->start) + 1;
		if (s->skipping) {
			uint64_t from = s->skip_from;
			int silent = s->silent;

			s->skipping = 0;
			linebuf_consume(lb, p + 1);
			if (silent)
				continue;
			ret->line = NULL;
			ret->len = (size_t)(end_offset - 1 - from);
			ret->end_offset = end_offset;
			lb->can_unget = 1;
			return LINEBUF_OVERSIZED;
		}
		len = p - s->start;
		if (len > 0 && lb->buf[p - 1] == '\r')
			len--;
		lb->can_unget = 1;
		return linebuf_terminate(lb, len, p - s->start, end_offset, ret);
	}
}

/* linebuf_flush - hand out a last line that has no newline (the file is being left) */
int
linebuf_flush(struct linebuf *lb, struct linebuf_line *ret)
{
	struct linebuf_state *s = &lb->s;
	size_t held = s->end - s->start, len = held;
	uint64_t end_offset = s->base + held;

	lb->saved = *s;
	lb->can_unget = 0;
	lb->nul_at = SIZE_MAX;
	if (s->skipping) {
		uint64_t from = s->skip_from;
		int silent = s->silent;

		s->skipping = 0;
		linebuf_drop_held(lb);
		if (silent)
			return LINEBUF_NONE;
		ret->line = NULL;
		ret->len = (size_t)(end_offset - from);
		ret->end_offset = end_offset;
		lb->can_unget = 1;
		return LINEBUF_OVERSIZED;
	}
	if (held == 0)
		return LINEBUF_NONE;
	if (lb->buf[s->end - 1] == '\r')
		len--;
	lb->can_unget = 1;
	return linebuf_terminate(lb, len, held, end_offset, ret);
}

/* linebuf_unget - the line handed out last will be handed out again */
void
linebuf_unget(struct linebuf *lb)
{
	if (!lb->can_unget)
		return;
	if (lb->nul_at != SIZE_MAX)
		lb->buf[lb->nul_at] = lb->nul_was;
	lb->s = lb->saved;
	lb->s.scan = lb->s.start;
	lb->can_unget = 0;
	lb->nul_at = SIZE_MAX;
}

/* linebuf_offset - file offset of the next byte to fill */
uint64_t
linebuf_offset(const struct linebuf *lb)
{
	return lb->s.base + (lb->s.end - lb->s.start);
}

/* linebuf_done - file offset just past the last line handed out */
uint64_t
linebuf_done(const struct linebuf *lb)
{
	return lb->s.skipping ? lb->s.skip_from : lb->s.base;
}

/* linebuf_held - bytes held, not yet handed out */
size_t
linebuf_held(const struct linebuf *lb)
{
	return lb->s.end - lb->s.start;
}
