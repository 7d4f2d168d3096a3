/*
 * NAME
 *	check_linebuf - line assembly: splits, CRLF, caps, NULs, offsets
 * DESCRIPTION
 *	Each small case is fed whole, split at every byte position, and one
 *	byte at a time, and must give exactly the same lines with the same
 *	end offsets. Long-line cases are built at run time around MX_LINE_MAX.
 *	A seeded random stream is checked against a naive splitter.
 * SEE ALSO
 *	linebuf.h
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linebuf.h"
#include "testutil.h"

#define MAX_ITEMS	8

struct item {
	int kind;		/* LINEBUF_LINE or LINEBUF_OVERSIZED; 0 ends a list */
	const char *text;	/* LINE: expected bytes (len of them) */
	size_t len;
	uint64_t end;
};

/* What came out of a linebuf: lines are copied so the buffer can move on. */
struct got {
	size_t n;
	struct {
		int kind;
		char *text;
		size_t len;
		uint64_t end;
	} it[4096];
};

static struct got got;

static void
got_reset(void)
{
	size_t i;

	for (i = 0; i < got.n; i++)
		free(got.it[i].text);
	got.n = 0;
}

static void
got_add(int kind, const struct linebuf_line *l)
{
	ck_assert_uint_lt(got.n, N(got.it));
	got.it[got.n].kind = kind;
	got.it[got.n].len = l->len;
	got.it[got.n].end = l->end_offset;
	got.it[got.n].text = NULL;
	if (kind == LINEBUF_LINE) {
		ck_assert_int_eq(l->line[l->len], '\0');
		got.it[got.n].text = malloc(l->len + 1);
		memcpy(got.it[got.n].text, l->line, l->len + 1);
	} else
		ck_assert_ptr_null(l->line);
	got.n++;
}

/* drain - every complete line now held */
static void
drain(struct linebuf *lb)
{
	struct linebuf_line l;
	int r;

	while ((r = linebuf_next(lb, &l)) != LINEBUF_NONE)
		got_add(r, &l);
}

/* feed_chunks - feed data in pieces of `chunk` bytes (0: whole), draining after each */
static void
feed_chunks(struct linebuf *lb, const char *data, size_t n, size_t chunk)
{
	size_t off = 0;

	while (off < n) {
		size_t want = chunk == 0 || n - off < chunk ? n - off : chunk;
		size_t took = linebuf_feed(lb, data + off, want);

		ck_assert_uint_gt(took, 0);
		ck_assert_uint_le(linebuf_held(lb), MX_LINE_MAX + 1 + LINEBUF_READ_SIZE);
		off += took;
		drain(lb);
		ck_assert_uint_le(linebuf_held(lb), MX_LINE_MAX + 1);
	}
}

static void
expect_items(const struct item *want, const char *name, const char *how)
{
	size_t i;

	for (i = 0; i < MAX_ITEMS && want[i].kind != 0; i++) {
		ck_assert_msg(i < got.n, "%s (%s): item %zu missing", name, how, i);
		ck_assert_msg(got.it[i].kind == want[i].kind, "%s (%s): item %zu kind %d, want %d",
		    name, how, i, got.it[i].kind, want[i].kind);
		ck_assert_msg(got.it[i].len == want[i].len, "%s (%s): item %zu len %zu, want %zu",
		    name, how, i, got.it[i].len, want[i].len);
		ck_assert_msg(got.it[i].end == want[i].end,
		    "%s (%s): item %zu end %llu, want %llu", name, how, i,
		    (unsigned long long)got.it[i].end, (unsigned long long)want[i].end);
		if (want[i].kind == LINEBUF_LINE)
			ck_assert_msg(memcmp(got.it[i].text, want[i].text, want[i].len) == 0,
			    "%s (%s): item %zu text differs", name, how, i);
	}
	ck_assert_msg(got.n == i, "%s (%s): %zu items, want %zu", name, how, got.n, i);
}

static const struct lbcase {
	const char *name;
	const char *in;
	size_t in_len;
	uint64_t start;		/* offset given to linebuf_reset() */
	size_t held;		/* bytes left without a newline */
	struct item want[MAX_ITEMS];
} cases[] = {
	{ "a single line ends just past its newline", "abc\n", 4, 0, 0,
	  { { LINEBUF_LINE, "abc", 3, 4 } } },
	{ "offsets accumulate over lines", "a\nbc\n", 5, 0, 0,
	  { { LINEBUF_LINE, "a", 1, 2 }, { LINEBUF_LINE, "bc", 2, 5 } } },
	{ "empty lines are lines of length 0", "\n\nx\n", 4, 0, 0,
	  { { LINEBUF_LINE, "", 0, 1 }, { LINEBUF_LINE, "", 0, 2 },
	    { LINEBUF_LINE, "x", 1, 4 } } },
	{ "a partial last line is held, not delivered", "abc\ndef", 7, 0, 3,
	  { { LINEBUF_LINE, "abc", 3, 4 } } },
	{ "nothing but a partial line gives nothing", "no newline yet", 14, 0, 14,
	  { { 0 } } },
	{ "CRLF: the \\r before the newline is stripped, the offset counts it",
	  "abc\r\nde\r\n", 9, 0, 0,
	  { { LINEBUF_LINE, "abc", 3, 5 }, { LINEBUF_LINE, "de", 2, 9 } } },
	{ "a \\r inside a line is kept", "a\rb\n", 4, 0, 0,
	  { { LINEBUF_LINE, "a\rb", 3, 4 } } },
	{ "only one \\r is stripped", "a\r\r\n", 4, 0, 0,
	  { { LINEBUF_LINE, "a\r", 2, 4 } } },
	{ "a line that is only CRLF is empty", "\r\n", 2, 0, 0,
	  { { LINEBUF_LINE, "", 0, 2 } } },
	{ "a held \\r waits for its newline", "ab\r", 3, 0, 3,
	  { { 0 } } },
	{ "NUL bytes pass through with the true length", "a\0b\n\0\n", 6, 0, 0,
	  { { LINEBUF_LINE, "a\0b", 3, 4 }, { LINEBUF_LINE, "\0", 1, 6 } } },
	{ "offsets start at the reset offset", "x\nyz\n", 5, 1000, 0,
	  { { LINEBUF_LINE, "x", 1, 1002 }, { LINEBUF_LINE, "yz", 2, 1005 } } },
	{ "mixed LF and CRLF lines keep exact offsets", "Nov 22 mx a\r\nb\nc\r\nd", 19, 7, 1,
	  { { LINEBUF_LINE, "Nov 22 mx a", 11, 20 }, { LINEBUF_LINE, "b", 1, 22 },
	    { LINEBUF_LINE, "c", 1, 25 } } },
};

START_TEST(small_input_gives_same_lines_however_split)
{
	const struct lbcase *c = &cases[_i];
	struct linebuf *lb = linebuf_new(0);
	size_t k;

	ck_assert_ptr_nonnull(lb);
	/* whole, then byte by byte */
	for (k = 0; k <= 1; k++) {
		got_reset();
		linebuf_reset(lb, c->start, 0);
		feed_chunks(lb, c->in, c->in_len, k);
		expect_items(c->want, c->name, k == 0 ? "whole" : "bytewise");
		ck_assert_uint_eq(linebuf_held(lb), c->held);
		ck_assert_uint_eq(linebuf_offset(lb), c->start + c->in_len);
		ck_assert_uint_eq(linebuf_done(lb), c->start + c->in_len - c->held);
	}
	/* split in two at every position */
	for (k = 0; k <= c->in_len; k++) {
		char how[32];

		got_reset();
		linebuf_reset(lb, c->start, 0);
		linebuf_feed(lb, c->in, k);
		drain(lb);
		linebuf_feed(lb, c->in + k, c->in_len - k);
		drain(lb);
		snprintf(how, sizeof(how), "split at %zu", k);
		expect_items(c->want, c->name, how);
		ck_assert_uint_eq(linebuf_held(lb), c->held);
	}
	got_reset();
	linebuf_free(lb);
}
END_TEST

/* make_line - n bytes of 'x' (a valid line body) in a fresh buffer */
static char *
make_buf(size_t n)
{
	char *p = malloc(n + 1);

	ck_assert_ptr_nonnull(p);
	memset(p, 'x', n);
	p[n] = '\0';
	return p;
}

/* Cases built around MX_LINE_MAX: body sizes and what follows, fed in several chunk sizes. */
static const struct longcase {
	const char *name;
	size_t body;		/* bytes of 'x' */
	const char *term;	/* after the body */
	const char *after;	/* a following short input */
	int want_kind;		/* for the long line */
	size_t want_len;
	const char *want_after;	/* the line that follows, or NULL */
	size_t held;
} long_cases[] = {
	{ "a line of exactly MX_LINE_MAX bytes is delivered",
	  MX_LINE_MAX, "\n", "next\n", LINEBUF_LINE, MX_LINE_MAX, "next", 0 },
	{ "a CRLF line of MX_LINE_MAX bytes is delivered (the \\r does not count)",
	  MX_LINE_MAX, "\r\n", "next\n", LINEBUF_LINE, MX_LINE_MAX, "next", 0 },
	{ "a line of MX_LINE_MAX + 1 bytes is reported once, not delivered",
	  MX_LINE_MAX + 1, "\n", "next\n", LINEBUF_OVERSIZED, MX_LINE_MAX + 1, "next", 0 },
	{ "an oversized CRLF line is reported once, its \\r counted in the length",
	  MX_LINE_MAX + 1, "\r\n", "next\r\n", LINEBUF_OVERSIZED, MX_LINE_MAX + 2, "next", 0 },
	{ "a huge line is skipped to its newline and reported with its true length",
	  10 * MX_LINE_MAX + 3, "\n", "next\n",
	  LINEBUF_OVERSIZED, 10 * MX_LINE_MAX + 3, "next", 0 },
	{ "an oversized line followed by a partial one holds only the partial",
	  2 * MX_LINE_MAX, "\n", "part", LINEBUF_OVERSIZED, 2 * MX_LINE_MAX, NULL, 4 },
	{ "an oversized line without its newline yet reports nothing",
	  MX_LINE_MAX + 50, "", "", 0, 0, NULL, 0 },
};

static const size_t chunks[] = { 0, 1, 7, 4096, LINEBUF_READ_SIZE, LINEBUF_READ_SIZE + 13 };

START_TEST(long_line_is_capped_however_split)
{
	const struct longcase *c = &long_cases[_i];
	size_t tlen = strlen(c->term), alen = strlen(c->after), total = c->body + tlen + alen;
	char *in = make_buf(total);
	size_t k;

	memcpy(in + c->body, c->term, tlen);
	memcpy(in + c->body + tlen, c->after, alen);
	for (k = 0; k < N(chunks); k++) {
		/* a tiny read size makes the buffer compact on nearly every read */
		struct linebuf *lb = linebuf_new(k == 1 ? 16 : 0);
		size_t i = 0;

		got_reset();
		linebuf_reset(lb, 0, 0);
		feed_chunks(lb, in, total, chunks[k]);
		if (c->want_kind != 0) {
			ck_assert_msg(got.n >= 1, "%s: chunk %zu: nothing", c->name, chunks[k]);
			ck_assert_int_eq(got.it[0].kind, c->want_kind);
			ck_assert_uint_eq(got.it[0].len, c->want_len);
			ck_assert_uint_eq(got.it[0].end, c->body + tlen);
			i = 1;
		}
		if (c->want_after != NULL) {
			ck_assert_uint_eq(got.n, i + 1);
			ck_assert_int_eq(got.it[i].kind, LINEBUF_LINE);
			ck_assert_str_eq(got.it[i].text, c->want_after);
			ck_assert_uint_eq(got.it[i].end, total);
			i++;
		}
		ck_assert_msg(got.n == i, "%s: chunk %zu: %zu items, want %zu", c->name, chunks[k],
		    got.n, i);
		ck_assert_uint_eq(linebuf_held(lb), c->held);
		ck_assert_uint_eq(linebuf_offset(lb), total);
		linebuf_free(lb);
	}
	got_reset();
	free(in);
}
END_TEST

START_TEST(oversized_line_completed_later_is_reported_once)
{
	struct linebuf *lb = linebuf_new(0);
	char *big = make_buf(MX_LINE_MAX + 10);

	linebuf_reset(lb, 500, 0);
	got_reset();
	feed_chunks(lb, big, MX_LINE_MAX + 10, 1000);
	ck_assert_uint_eq(got.n, 0);
	/* while skipping, the resume point is where the long line began */
	ck_assert_uint_eq(linebuf_done(lb), 500);
	feed_chunks(lb, big, 5, 0);
	feed_chunks(lb, "\nok\n", 4, 0);
	ck_assert_uint_eq(got.n, 2);
	ck_assert_int_eq(got.it[0].kind, LINEBUF_OVERSIZED);
	ck_assert_uint_eq(got.it[0].len, MX_LINE_MAX + 15);
	ck_assert_uint_eq(got.it[0].end, 500 + MX_LINE_MAX + 16);
	ck_assert_str_eq(got.it[1].text, "ok");
	ck_assert_uint_eq(got.it[1].end, 500 + MX_LINE_MAX + 19);
	ck_assert_uint_eq(linebuf_done(lb), 500 + MX_LINE_MAX + 19);
	got_reset();
	free(big);
	linebuf_free(lb);
}
END_TEST

START_TEST(flush_hands_out_the_unterminated_last_line)
{
	struct linebuf *lb = linebuf_new(0);
	struct linebuf_line l;
	char *big = make_buf(MX_LINE_MAX + 2);

	linebuf_reset(lb, 10, 0);
	linebuf_feed(lb, "a\nlast\r", 7);
	ck_assert_int_eq(linebuf_next(lb, &l), LINEBUF_LINE);
	ck_assert_int_eq(linebuf_next(lb, &l), LINEBUF_NONE);
	ck_assert_int_eq(linebuf_flush(lb, &l), LINEBUF_LINE);
	ck_assert_str_eq(l.line, "last");
	ck_assert_uint_eq(l.len, 4);
	ck_assert_uint_eq(l.end_offset, 17);
	ck_assert_int_eq(linebuf_flush(lb, &l), LINEBUF_NONE);
	ck_assert_uint_eq(linebuf_held(lb), 0);

	/* an oversized partial is reported, with the offset of its last byte + 1 */
	linebuf_reset(lb, 0, 0);
	got_reset();
	feed_chunks(lb, big, MX_LINE_MAX + 2, 0);
	ck_assert_uint_eq(got.n, 0);
	ck_assert_int_eq(linebuf_flush(lb, &l), LINEBUF_OVERSIZED);
	ck_assert_uint_eq(l.len, MX_LINE_MAX + 2);
	ck_assert_uint_eq(l.end_offset, MX_LINE_MAX + 2);
	ck_assert_int_eq(linebuf_flush(lb, &l), LINEBUF_NONE);
	free(big);
	linebuf_free(lb);
}
END_TEST

START_TEST(unget_gives_the_same_line_again)
{
	struct linebuf *lb = linebuf_new(0);
	struct linebuf_line l;

	linebuf_reset(lb, 0, 0);
	linebuf_feed(lb, "one\r\ntwo\nthr", 12);
	ck_assert_int_eq(linebuf_next(lb, &l), LINEBUF_LINE);
	ck_assert_str_eq(l.line, "one");
	linebuf_unget(lb);
	ck_assert_uint_eq(linebuf_done(lb), 0);
	ck_assert_int_eq(linebuf_next(lb, &l), LINEBUF_LINE);
	ck_assert_str_eq(l.line, "one");
	ck_assert_uint_eq(l.end_offset, 5);
	ck_assert_int_eq(linebuf_next(lb, &l), LINEBUF_LINE);
	ck_assert_str_eq(l.line, "two");
	ck_assert_uint_eq(l.end_offset, 9);
	ck_assert_int_eq(linebuf_next(lb, &l), LINEBUF_NONE);
	ck_assert_int_eq(linebuf_flush(lb, &l), LINEBUF_LINE);
	linebuf_unget(lb);
	ck_assert_uint_eq(linebuf_held(lb), 3);
	/* the unterminated line can still grow after an unget */
	linebuf_feed(lb, "ee\n", 3);
	ck_assert_int_eq(linebuf_next(lb, &l), LINEBUF_LINE);
	ck_assert_str_eq(l.line, "three");
	ck_assert_uint_eq(l.end_offset, 15);
	linebuf_free(lb);
}
END_TEST

START_TEST(skip_partial_drops_the_rest_of_a_line_silently)
{
	struct linebuf *lb = linebuf_new(0);
	struct linebuf_line l;

	linebuf_reset(lb, 500, 1);
	linebuf_feed(lb, "of an old line\nnew\n", 19);
	ck_assert_int_eq(linebuf_next(lb, &l), LINEBUF_LINE);
	ck_assert_str_eq(l.line, "new");
	ck_assert_uint_eq(l.end_offset, 519);
	ck_assert_int_eq(linebuf_next(lb, &l), LINEBUF_NONE);

	/* ... also when it is longer than MX_LINE_MAX, and at a flush */
	linebuf_reset(lb, 0, 1);
	got_reset();
	{
		char *big = make_buf(3 * MX_LINE_MAX);

		feed_chunks(lb, big, 3 * MX_LINE_MAX, 0);
		free(big);
	}
	ck_assert_uint_eq(got.n, 0);
	ck_assert_int_eq(linebuf_flush(lb, &l), LINEBUF_NONE);
	linebuf_free(lb);
}
END_TEST

/* A naive reference: split everything at once. */
static void
reference_split(const char *in, size_t n, struct got *ref)
{
	size_t start = 0, i;

	ref->n = 0;
	for (i = 0; i < n; i++) {
		size_t len;

		if (in[i] != '\n')
			continue;
		len = i - start;
		if (len > 0 && in[i - 1] == '\r' && len <= MX_LINE_MAX + 1)
			len--;
		ref->it[ref->n].kind = len > MX_LINE_MAX ? LINEBUF_OVERSIZED : LINEBUF_LINE;
		ref->it[ref->n].text = (char *)in + start;
		ref->it[ref->n].len = len;
		ref->it[ref->n].end = i + 1;
		ref->n++;
		start = i + 1;
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

START_TEST(random_stream_matches_a_naive_splitter)
{
	static struct got ref;
	size_t cap = 24 * MX_LINE_MAX, n = 0, i, round;
	char *in = malloc(cap);

	for (round = 0; round < 4; round++) {
		struct linebuf *lb = linebuf_new(round == 0 ? 16 : 0);

		n = 0;
		while (n < cap - 4 * MX_LINE_MAX) {
			uint32_t pick = rng() % 100;
			size_t len;

			/* short lines, lines at the cap (+-2), far too long ones, empty ones */
			if (pick < 80)
				len = rng() % 200;
			else if (pick < 90)
				len = MX_LINE_MAX - 2 + rng() % 5;
			else if (pick < 95)
				len = 2 * MX_LINE_MAX + rng() % 999;
			else
				len = 0;

			for (i = 0; i < len; i++)
				in[n + i] = "ab\r\0 x"[rng() % 6];
			n += len;
			in[n++] = '\n';
		}
		reference_split(in, n, &ref);
		got_reset();
		linebuf_reset(lb, 0, 0);
		for (i = 0; i < n;) {
			size_t want = 1 + rng() % (round == 3 ? 9 : 70000);

			i += linebuf_feed(lb, in + i, want < n - i ? want : n - i);
			drain(lb);
		}
		ck_assert_uint_eq(got.n, ref.n);
		for (i = 0; i < ref.n; i++) {
			ck_assert_int_eq(got.it[i].kind, ref.it[i].kind);
			ck_assert_uint_eq(got.it[i].end, ref.it[i].end);
			if (ref.it[i].kind == LINEBUF_LINE) {
				ck_assert_uint_eq(got.it[i].len, ref.it[i].len);
				ck_assert(memcmp(got.it[i].text, ref.it[i].text,
				    ref.it[i].len) == 0);
			}
		}
		linebuf_free(lb);
	}
	got_reset();
	free(in);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("linebuf");
	TCase *tc = tcase_create("lines");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, small_input_gives_same_lines_however_split, 0, N(cases));
	tcase_add_loop_test(tc, long_line_is_capped_however_split, 0, N(long_cases));
	tcase_add_test(tc, oversized_line_completed_later_is_reported_once);
	tcase_add_test(tc, flush_hands_out_the_unterminated_last_line);
	tcase_add_test(tc, unget_gives_the_same_line_again);
	tcase_add_test(tc, skip_partial_drops_the_rest_of_a_line_silently);
	tcase_add_test(tc, random_stream_matches_a_naive_splitter);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
