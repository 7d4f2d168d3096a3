/*
 * NAME
 *	check_ingest - the pipeline: counting, storing with positions, skipping
 *	what is already stored, rewinding after a failed commit
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "store.h"
#include "testutil.h"

static const char *const lines[] = {
	"Nov 22 02:22:24 mail postfix/smtpd-proxy25/postscreen[32119]: CONNECT from "
	    "[198.51.100.198]:51077 to [203.0.113.254]:25",
	"Nov 22 02:22:27 mail postfix/qmgr[32121]: 0F7C61041AF: removed",
	"Nov 22 02:22:27 mail postfix/smtpd[32120]: connect from unknown[198.51.100.198]",
	"Nov 22 02:22:27 mail postfix/smtpd[32120]: this is no smtpd message we know",
	"not a syslog line at all",
	"Nov 22 02:22:39 mail postfix/submission/smtpd[32129]: warning: unknown[192.0.2.6]: "
	    "SASL PLAIN authentication failed: (reason unavailable), sasl_username=heidi@example.net",
};
#define N_EVENTS 3

static int emitted;

static int
count_emit(void *ud, const struct mx_event *ev)
{
	(void)ud;
	(void)ev;
	emitted++;
	return 0;
}

/* feed - every line of `lines` with running end offsets; returns the last offset */
static uint64_t
feed(struct ingest *ig, struct ingest_source *src, size_t from)
{
	static char buf[1024];
	uint64_t off = 0;

	for (size_t i = 0; i < N(lines); i++) {
		size_t len = strlen(lines[i]);

		off += len + 1;
		if (i < from)
			continue;
		memcpy(buf, lines[i], len + 1);
		ck_assert_int_ge(ingest_line(ig, src, buf, len, off), 0);
	}
	return off;
}

static int64_t
count_rows(struct store *st, const char *sql)
{
	sqlite3_stmt *stmt;
	int64_t n = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL), SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return n;
}

static struct store *
open_store(void)
{
	static char path[4096];
	struct store *st = NULL;

	snprintf(path, sizeof(path), "%s/ingest.db", tst_tmpdir());
	ck_assert_int_eq(store_open(path, MX_STORE_CREATE, &st), 0);
	return st;
}

START_TEST(parse_mode_emits_each_event_and_counts_the_rest)
{
	struct ingest *ig;
	struct ingest_source src;
	const struct ingest_stats *s;
	char big[16];

	emitted = 0;
	ck_assert_int_eq(ingest_new(NULL, NULL, count_emit, NULL, &ig), 0);
	ingest_source_init(&src, "test.log", MX_ENVELOPE_AUTO, TST_TS);
	feed(ig, &src, 0);
	ingest_oversized(ig, &src, 999999);
	memcpy(big, "a\0b", 4);
	ingest_line(ig, &src, big, 3, 1000000);	/* a NUL inside the line */
	s = ingest_get_stats(ig);
	ck_assert_int_eq(emitted, N_EVENTS);
	ck_assert_uint_eq(s->lines, N(lines) + 2);
	ck_assert_uint_eq(s->events, N_EVENTS);
	ck_assert_uint_eq(s->unrecognised, 1);	/* the smtpd line nobody knows */
	ck_assert_uint_eq(s->ignored, 1);	/* qmgr: no parser */
	ck_assert_uint_eq(s->malformed, 2);	/* no envelope; NUL byte */
	ck_assert_uint_eq(s->oversized, 1);
	ingest_source_done(&src);
	ingest_free(ig);
}
END_TEST

START_TEST(store_mode_commits_events_and_position_together)
{
	struct store *st = open_store();
	struct ingest *ig;
	struct ingest_source src;
	struct mx_position pos;
	uint64_t end;

	ck_assert_int_eq(ingest_new(NULL, st, NULL, NULL, &ig), 0);
	ingest_source_init(&src, "test.log", MX_ENVELOPE_AUTO, TST_TS);
	ingest_source_set_key(&src, "file:0000000000000001:10", 0, 0);
	end = feed(ig, &src, 0);
	ck_assert_uint_eq(ingest_pending(ig), N_EVENTS);
	ck_assert_int_eq(ingest_flush(ig), 0);
	ck_assert_uint_eq(ingest_pending(ig), 0);
	ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM events"), N_EVENTS);
	ck_assert_int_eq(store_position_get(st, "file:0000000000000001:10", &pos), 1);
	ck_assert_uint_eq(pos.offset, end);
	ck_assert_uint_eq(pos.lines, N(lines));
	ck_assert_uint_eq(src.committed_offset, end);
	ingest_source_done(&src);
	ingest_free(ig);
	store_free(st);
}
END_TEST

START_TEST(feeding_stored_lines_again_adds_nothing)
{
	struct store *st = open_store();
	struct ingest *ig;
	struct ingest_source a, b;

	ck_assert_int_eq(ingest_new(NULL, st, NULL, NULL, &ig), 0);
	ingest_source_init(&a, "first.log", MX_ENVELOPE_AUTO, TST_TS);
	ingest_source_set_key(&a, "file:00000000000000aa:10", 0, 0);
	feed(ig, &a, 0);
	ck_assert_int_eq(ingest_flush(ig), 0);
	ingest_source_done(&a);

	/* the same file under another name (rotated, or ingested again) */
	ingest_source_init(&b, "first.log.1", MX_ENVELOPE_AUTO, TST_TS);
	ingest_source_set_key(&b, "file:00000000000000aa:10", 0, 0);
	feed(ig, &b, 0);
	ck_assert_int_eq(ingest_flush(ig), 0);
	ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM events"), N_EVENTS);
	ck_assert_uint_eq(ingest_get_stats(ig)->duplicates, N(lines));
	ingest_source_done(&b);
	ingest_free(ig);
	store_free(st);
}
END_TEST

START_TEST(a_half_stored_file_continues_after_the_stored_position)
{
	struct store *st = open_store();
	struct ingest *ig;
	struct ingest_source a;
	static char buf[1024];
	uint64_t off = 0;

	ck_assert_int_eq(ingest_new(NULL, st, NULL, NULL, &ig), 0);
	ingest_source_init(&a, "mail.log", MX_ENVELOPE_AUTO, TST_TS);
	ingest_source_set_key(&a, "file:00000000000000bb:10", 0, 0);
	/* first run: only the first three lines (one event... two: CONNECT + connect) */
	for (size_t i = 0; i < 3; i++) {
		size_t len = strlen(lines[i]);

		off += len + 1;
		memcpy(buf, lines[i], len + 1);
		ck_assert_int_ge(ingest_line(ig, &a, buf, len, off), 0);
	}
	ck_assert_int_eq(ingest_flush(ig), 0);
	ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM events"), 2);
	ingest_source_done(&a);
	/* second run reads the whole file: only the tail is new */
	ingest_source_init(&a, "mail.log", MX_ENVELOPE_AUTO, TST_TS);
	ingest_source_set_key(&a, "file:00000000000000bb:10", 0, 0);
	feed(ig, &a, 0);
	ck_assert_int_eq(ingest_flush(ig), 0);
	ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM events"), N_EVENTS);
	ck_assert_int_eq(count_rows(st,
	    "SELECT count(*) FROM (SELECT event, client_ip, ts FROM events "
	    "GROUP BY event, client_ip, ts HAVING count(*) > 1)"), 0);
	ingest_source_done(&a);
	ingest_free(ig);
	store_free(st);
}
END_TEST

START_TEST(rewind_forgets_the_uncommitted_batch_and_returns_to_the_committed_offset)
{
	struct store *st = open_store();
	struct ingest *ig;
	struct ingest_source src;

	ck_assert_int_eq(ingest_new(NULL, st, NULL, NULL, &ig), 0);
	ingest_source_init(&src, "test.log", MX_ENVELOPE_AUTO, TST_TS);
	ingest_source_set_key(&src, "file:00000000000000cc:10", 0, 0);
	feed(ig, &src, 0);
	ck_assert_uint_gt(src.offset, 0);
	ingest_rewind(ig);		/* as after a failed commit */
	ck_assert_uint_eq(src.offset, 0);
	ck_assert_uint_eq(ingest_pending(ig), 0);
	ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM events"), 0);
	/* reading again from the committed offset stores everything once */
	feed(ig, &src, 0);
	ck_assert_int_eq(ingest_flush(ig), 0);
	ck_assert_int_eq(count_rows(st, "SELECT count(*) FROM events"), N_EVENTS);
	ingest_source_done(&src);
	ingest_free(ig);
	store_free(st);
}
END_TEST

START_TEST(fingerprint_names_a_file_by_its_first_line)
{
	char a[MX_POSITION_KEY_MAX], b[MX_POSITION_KEY_MAX], c[MX_POSITION_KEY_MAX];
	static char longline[MX_FINGERPRINT_MAX + 100];

	ck_assert_int_gt(source_fingerprint("Nov 22 01:02:03 mail x[1]: a", 28, a, sizeof(a)), 0);
	ck_assert_int_gt(source_fingerprint("Nov 22 01:02:03 mail x[1]: a", 28, b, sizeof(b)), 0);
	ck_assert_int_gt(source_fingerprint("Nov 22 01:02:03 mail x[1]: b", 28, c, sizeof(c)), 0);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_int_eq(strncmp(a, "file:", 5), 0);
	ck_assert_int_lt(source_fingerprint("", 0, a, sizeof(a)), 0);
	memset(longline, 'x', sizeof(longline));
	ck_assert_int_gt(source_fingerprint(longline, sizeof(longline), a, sizeof(a)), 0);
	ck_assert_ptr_nonnull(strstr(a, ":1024"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ingest");
	TCase *tc = tcase_create("pipeline");

	tcase_add_test(tc, parse_mode_emits_each_event_and_counts_the_rest);
	tcase_add_test(tc, store_mode_commits_events_and_position_together);
	tcase_add_test(tc, feeding_stored_lines_again_adds_nothing);
	tcase_add_test(tc, a_half_stored_file_continues_after_the_stored_position);
	tcase_add_test(tc, rewind_forgets_the_uncommitted_batch_and_returns_to_the_committed_offset);
	tcase_add_test(tc, fingerprint_names_a_file_by_its_first_line);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
