/*
 * NAME
 *	check_tail - following files across rotation, truncation, deletion
 * DESCRIPTION
 *	Each test runs a real sd-event loop over a fresh directory under the
 *	build tree, changes files with the same system calls logrotate and
 *	syslog daemons use (rename, open O_CREAT, O_APPEND writes, ftruncate,
 *	unlink), and compares what the callbacks saw with an exact transcript:
 *
 *	    "I1 mail.log"	ops->identity(), initial=1, for that file name
 *	    "L text@42"		ops->line(), with its end offset
 *	    "O 70000"		ops->oversized(), with its end offset
 *	    "N rotated"		ops->notice()
 *
 *	The loop is driven with sd_event_run() and short timeouts until the
 *	transcript has the expected length (at most TST_WAIT_USEC), then for
 *	TST_QUIET_USEC more to catch anything delivered twice. Nothing waits
 *	for the 5 s re-check timer: inotify must do the work.
 * SEE ALSO
 *	tail.h, tests/tail_rotation.sh (the same with the daemon)
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "ingest.h"
#include "store.h"
#include "tail.h"
#include "testutil.h"

#define TST_WAIT_USEC	(5 * 1000000ULL)
#define TST_QUIET_USEC	(150 * 1000ULL)
#define TST_LOG_MAX	512
#define TST_KEYS_MAX	16

/* What one struct tail saw, and how its callbacks behave. */
struct rec {
	struct tail *t;
	char log[TST_LOG_MAX][160];
	size_t n;
	uint64_t lines;
	/* behaviour */
	int start_at_end;		/* initial file without a stored position: MX_TAIL_END */
	struct { char key[MX_POSITION_KEY_MAX]; uint64_t offset; } keys[TST_KEYS_MAX];
	size_t n_keys;
	const char *previous;		/* ops->previous() answer, or NULL */
	uint64_t fail_line;		/* ops->line() call number that fails once (1-based) */
	uint64_t fail_rewind_to;	/* ... and rewinds there first (UINT64_MAX: no rewind) */
	int fail_identity;		/* identity() calls with initial=0 that fail, first ones */
	uint64_t rewind_on_identity_fail;
	int free_at_line;		/* tail_free() from inside ops->line() */
	int count_only;			/* lines are counted in `lines`, not logged */
	uint64_t calls;
	char last_key[MX_POSITION_KEY_MAX];
};

static void
rec_log(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	ck_assert_uint_lt(r->n, TST_LOG_MAX);
	va_start(ap, fmt);
	vsnprintf(r->log[r->n++], sizeof(r->log[0]), fmt, ap);
	va_end(ap);
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

static int
rec_identity(void *ud, struct tail *t, const char *key, const char *path, int initial,
    uint64_t *ret_offset)
{
	struct rec *r = ud;
	size_t i;

	rec_log(r, "I%d %s", initial, base_name(path));
	snprintf(r->last_key, sizeof(r->last_key), "%s", key);
	if (!initial && r->fail_identity > 0) {
		r->fail_identity--;
		rec_log(r, "fail");
		if (r->rewind_on_identity_fail != UINT64_MAX)
			ck_assert_int_eq(tail_rewind(t, r->rewind_on_identity_fail), 0);
		return -EIO;
	}
	for (i = 0; i < r->n_keys; i++)
		if (strcmp(r->keys[i].key, key) == 0) {
			*ret_offset = r->keys[i].offset;
			return 0;
		}
	*ret_offset = initial && r->start_at_end ? MX_TAIL_END : 0;
	return 0;
}

static int
rec_line(void *ud, struct tail *t, char *line, size_t len, uint64_t end_offset)
{
	struct rec *r = ud;

	ck_assert_uint_eq(strlen(line), len);
	r->calls++;
	if (r->count_only) {
		r->lines++;
		return 0;
	}
	if (r->fail_line != 0 && r->calls == r->fail_line) {
		rec_log(r, "fail %s", line);
		if (r->fail_rewind_to != UINT64_MAX)
			ck_assert_int_eq(tail_rewind(t, r->fail_rewind_to), 0);
		return -EIO;
	}
	rec_log(r, "L %s@%llu", line, (unsigned long long)end_offset);
	r->lines++;
	if (r->free_at_line != 0 && r->lines == (uint64_t)r->free_at_line) {
		ck_assert_ptr_null(tail_free(t));
		r->t = NULL;
	}
	return 0;
}

static void
rec_oversized(void *ud, struct tail *t, uint64_t end_offset)
{
	rec_log(ud, "O %llu", (unsigned long long)end_offset);
}

static void
rec_notice(void *ud, struct tail *t, const char *what)
{
	rec_log(ud, "N %s", what);
}

static int
rec_previous(void *ud, struct tail *t, char *ret_key, size_t size)
{
	struct rec *r = ud;

	if (r->previous == NULL)
		return 0;
	snprintf(ret_key, size, "%s", r->previous);
	return 1;
}

static const struct tail_ops rec_ops = {
	.identity = rec_identity,
	.line = rec_line,
	.oversized = rec_oversized,
	.notice = rec_notice,
	.previous = rec_previous,
};

static struct rec *
rec_new(void)
{
	struct rec *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	r->fail_rewind_to = UINT64_MAX;
	r->rewind_on_identity_fail = UINT64_MAX;
	return r;
}

static void
rec_free(struct rec *r)
{
	tail_free(r->t);
	free(r);
}

/* ---------------------------------------------------------------- files */

static char tst_dir[PATH_MAX];

/* path_in - dir/name in a static ring (a few live at once) */
static const char *
path_in(const char *name)
{
	static char ring[8][sizeof(tst_dir) + NAME_MAX + 2];
	static unsigned i;
	char *p = ring[i++ % 8];

	snprintf(p, sizeof(ring[0]), "%s/%.*s", tst_dir, NAME_MAX, name);
	return p;
}

static void
make_dir(void)
{
	snprintf(tst_dir, sizeof(tst_dir), "%s/tail.XXXXXX", tst_tmpdir());
	ck_assert_ptr_nonnull(mkdtemp(tst_dir));
}

/* append - what a syslog daemon does: O_APPEND writes, creating the file if needed */
static void
append(const char *name, const char *s)
{
	int fd = open(path_in(name), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void
move(const char *from, const char *to)
{
	ck_assert_int_eq(rename(path_in(from), path_in(to)), 0);
}

/* copytruncate - what logrotate's copytruncate does: copy, then truncate in place */
static void
copytruncate(const char *name, const char *copy)
{
	char buf[4096];
	int in = open(path_in(name), O_RDWR | O_CLOEXEC);
	int out = open(path_in(copy), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(ftruncate(in, 0), 0);
	close(in);
	close(out);
}

/* ----------------------------------------------------------------- loop */

static uint64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* progress - transcript entries, plus lines only counted */
static size_t
progress(const struct rec *r)
{
	return r->n + (size_t)r->lines * (r->count_only != 0);
}

/* run_until2 - run the loop until both recs made that much progress, then a quiet period */
static void
run_until2(sd_event *e, struct rec *a, size_t want_a, struct rec *b, size_t want_b)
{
	uint64_t deadline = now_usec() + TST_WAIT_USEC, quiet;

	while ((progress(a) < want_a || (b != NULL && progress(b) < want_b)) &&
	    now_usec() < deadline)
		ck_assert_int_ge(sd_event_run(e, 20 * 1000), 0);
	quiet = now_usec() + TST_QUIET_USEC;
	while (now_usec() < quiet)
		ck_assert_int_ge(sd_event_run(e, 10 * 1000), 0);
}

static void
run_until(sd_event *e, struct rec *a, size_t want)
{
	run_until2(e, a, want, NULL, 0);
}

/* expect - the transcript is exactly want (NULL-terminated) */
static void
expect(const struct rec *r, const char *const *want)
{
	size_t i;

	for (i = 0; want[i] != NULL; i++) {
		ck_assert_msg(i < r->n, "entry %zu: want \"%s\", transcript ends (%zu entries)", i,
		    want[i], r->n);
		ck_assert_msg(strcmp(r->log[i], want[i]) == 0,
		    "entry %zu: want \"%s\", got \"%s\"", i, want[i], r->log[i]);
	}
	ck_assert_msg(r->n == i, "%zu entries, want %zu; first extra \"%s\"", r->n, i,
	    r->n > i ? r->log[i] : "");
}

#define EXPECT(r, ...) do {							\
	const char *const want_[] = { __VA_ARGS__, NULL };			\
	run_until(e, (r), N(want_) - 1);					\
	expect((r), want_);							\
} while (0)

static sd_event *
loop_new(void)
{
	sd_event *e = NULL;

	ck_assert_int_ge(sd_event_new(&e), 0);
	return e;
}

static struct rec *
follow(sd_event *e, const char *name)
{
	struct rec *r = rec_new();

	ck_assert_int_eq(tail_new(e, path_in(name), &rec_ops, r, &r->t), 0);
	return r;
}

/* fd_count - open descriptors of this process */
static int
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static int fds_before;

static void
fds_setup(void)
{
	fds_before = fd_count();
}

/* fds_teardown - every test closes what it opened: files, watches, the loop */
static void
fds_teardown(void)
{
	ck_assert_int_eq(fd_count(), fds_before);
}

/* ---------------------------------------------------------------- tests */

START_TEST(file_created_after_start_is_read_from_its_beginning)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	r = follow(e, "mail.log");
	r->start_at_end = 1;	/* does not apply: the file appeared after start-up */
	run_until(e, r, 0);
	ck_assert_uint_eq(r->n, 0);
	append("mail.log", "one\ntwo\n");
	EXPECT(r, "I0 mail.log", "L one@4", "L two@8");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(appended_lines_and_a_partial_line_completed_later)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "one\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L one@4");
	append("mail.log", "two\npar");
	EXPECT(r, "I1 mail.log", "L one@4", "L two@8");
	append("mail.log", "tial\r\n");
	EXPECT(r, "I1 mail.log", "L one@4", "L two@8", "L partial@17");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(first_line_completed_later_gives_the_identity)
{
	sd_event *e = loop_new();
	struct rec *r;
	char key[MX_POSITION_KEY_MAX];

	make_dir();
	append("mail.log", "Nov 22 03:00:01 mx postfix/smtpd[1]: con");
	r = follow(e, "mail.log");
	run_until(e, r, 0);
	ck_assert_uint_eq(r->n, 0);
	append("mail.log", "nect from unknown[192.0.2.1]\n");
	EXPECT(r, "I1 mail.log", "L Nov 22 03:00:01 mx postfix/smtpd[1]: connect from "
	    "unknown[192.0.2.1]@69");
	/* the key is source_fingerprint() of the first line */
	ck_assert_int_gt(source_fingerprint("Nov 22 03:00:01 mx postfix/smtpd[1]: connect from "
	    "unknown[192.0.2.1]", 68, key, sizeof(key)), 0);
	ck_assert_str_eq(r->last_key, key);
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(rename_rotation_reads_old_file_to_its_end_then_the_new_one)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "a1\na2\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6");
	move("mail.log", "mail.log.1");
	/* the writer has not reopened yet: these still go to the renamed file */
	append("mail.log.1", "a3\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "L a3@9");
	append("mail.log.1", "a4\n");
	append("mail.log", "b1\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "L a3@9", "L a4@12", "I0 mail.log",
	    "N rotated", "L b1@3");
	append("mail.log", "b2\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "L a3@9", "L a4@12", "I0 mail.log",
	    "N rotated", "L b1@3", "L b2@6");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(new_file_empty_after_rotation_keeps_the_old_one_current)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "a1\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3");
	/* logrotate "create": rename, then an empty file, then the writer is told */
	move("mail.log", "mail.log.1");
	append("mail.log", "");
	append("mail.log.1", "a2\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6");
	append("mail.log", "b1\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "I0 mail.log", "N rotated", "L b1@3");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(rotation_then_immediate_writes_lose_nothing)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "a1\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3");
	/* everything happens before the loop looks again */
	append("mail.log", "a2\n");
	move("mail.log", "mail.log.1");
	append("mail.log.1", "a3\npartial-without-newline");
	append("mail.log", "b1\nb2\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "L a3@9", "L partial-without-newline@32",
	    "I0 mail.log", "N rotated", "L b1@3", "L b2@6");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(copytruncate_restarts_at_zero_under_a_new_identity)
{
	sd_event *e = loop_new();
	struct rec *r;
	char first_key[MX_POSITION_KEY_MAX];

	make_dir();
	append("mail.log", "a1\na2\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6");
	snprintf(first_key, sizeof(first_key), "%s", r->last_key);
	copytruncate("mail.log", "mail.log.1");
	append("mail.log", "b1\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "N truncated", "I0 mail.log", "L b1@3");
	ck_assert_str_ne(r->last_key, first_key);
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(copytruncate_regrown_past_our_offset_is_still_noticed)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "a1\na2\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6");
	/* truncated and rewritten beyond offset 6 before the loop looks: the first line differs */
	copytruncate("mail.log", "mail.log.1");
	append("mail.log", "b1\nb2\nb3\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "N truncated", "I0 mail.log", "L b1@3",
	    "L b2@6", "L b3@9");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(deleted_file_is_closed_and_its_re_creation_followed)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "a1\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3");
	ck_assert_int_eq(unlink(path_in("mail.log")), 0);
	EXPECT(r, "I1 mail.log", "L a1@3", "N deleted");
	append("mail.log", "b1\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "N deleted", "I0 mail.log", "L b1@3");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(deleted_and_recreated_at_once_is_a_switch)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "a1\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3");
	append("mail.log", "a2\n");
	ck_assert_int_eq(unlink(path_in("mail.log")), 0);
	append("mail.log", "b1\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "I0 mail.log", "N deleted", "L b1@3");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(two_files_share_one_loop)
{
	sd_event *e = loop_new();
	struct rec *a, *b;
	static const char *const want_a[] = { "I0 mail.log", "L m1@3", "L m2@6", NULL };
	static const char *const want_b[] = { "I1 dovecot.log", "L d1@3", "L d2@6",
		"I0 dovecot.log", "N rotated", "L e1@3", NULL };

	make_dir();
	append("dovecot.log", "d1\n");
	a = follow(e, "mail.log");
	b = follow(e, "dovecot.log");
	append("mail.log", "m1\n");
	append("dovecot.log", "d2\n");
	append("mail.log", "m2\n");
	move("dovecot.log", "dovecot.log.1");
	append("dovecot.log", "e1\n");
	run_until2(e, a, N(want_a) - 1, b, N(want_b) - 1);
	expect(a, want_a);
	expect(b, want_b);
	rec_free(a);
	rec_free(b);
	sd_event_unref(e);
}
END_TEST

START_TEST(rewind_after_failed_commit_redelivers_from_the_offset)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "l1\nl2\nl3\nl4\n");
	r = rec_new();
	/* the third line's commit fails; everything after l1 was not committed */
	r->fail_line = 3;
	r->fail_rewind_to = 3;
	ck_assert_int_eq(tail_new(e, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	EXPECT(r, "I1 mail.log", "L l1@3", "L l2@6", "fail l3", "L l2@6", "L l3@9", "L l4@12");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(failed_line_without_rewind_comes_again_at_the_next_round)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "l1\nl2\n");
	r = rec_new();
	r->fail_line = 2;
	ck_assert_int_eq(tail_new(e, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	EXPECT(r, "I1 mail.log", "L l1@3", "fail l2");
	/* the next wake-up (here: a new line) delivers it again, then the rest */
	append("mail.log", "l3\n");
	EXPECT(r, "I1 mail.log", "L l1@3", "fail l2", "L l2@6", "L l3@9");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(identity_failure_at_a_switch_keeps_the_old_file_current)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "a1\na2\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6");
	/* the caller could not commit a2 before switching: it rewinds to a1's end */
	r->fail_identity = 1;
	r->rewind_on_identity_fail = 3;
	move("mail.log", "mail.log.1");
	append("mail.log", "b1\n");
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "I0 mail.log", "fail", "L a2@6",
	    "I0 mail.log", "N rotated", "L b1@3");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(start_at_end_skips_what_was_there)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "old1\nold2\npar");
	r = rec_new();
	r->start_at_end = 1;
	ck_assert_int_eq(tail_new(e, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	EXPECT(r, "I1 mail.log");
	/* a line still incomplete at start-up is a new line */
	append("mail.log", "tial\nnew\n");
	EXPECT(r, "I1 mail.log", "L partial@18", "L new@22");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(start_at_end_inside_an_overlong_last_line_skips_it_quietly)
{
	sd_event *e = loop_new();
	struct rec *r;
	size_t n = MX_LINE_MAX + 100;
	char *big = malloc(n + 1);

	make_dir();
	memset(big, 'x', n);
	big[n] = '\0';
	append("mail.log", "old1\n");
	append("mail.log", big);
	r = rec_new();
	r->start_at_end = 1;
	ck_assert_int_eq(tail_new(e, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	EXPECT(r, "I1 mail.log");
	append("mail.log", "rest\nnew\n");
	{
		char want[64];

		snprintf(want, sizeof(want), "L new@%zu", 5 + n + 9);
		EXPECT(r, "I1 mail.log", want);
	}
	free(big);
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(stored_offset_is_where_reading_starts)
{
	sd_event *e = loop_new();
	struct rec *r;
	char key[MX_POSITION_KEY_MAX];

	make_dir();
	append("mail.log", "l1\nl2\nl3\n");
	r = rec_new();
	ck_assert_int_gt(source_fingerprint("l1", 2, key, sizeof(key)), 0);
	snprintf(r->keys[0].key, sizeof(r->keys[0].key), "%s", key);
	r->keys[0].offset = 6;
	r->n_keys = 1;
	ck_assert_int_eq(tail_new(e, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	EXPECT(r, "I1 mail.log", "L l3@9");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(restart_after_rotation_while_down_drains_the_rotated_sibling_first)
{
	sd_event *e = loop_new();
	struct rec *r;
	char key[MX_POSITION_KEY_MAX];

	make_dir();
	/* before: mail.log had "a1\na2\n" and a1 was committed (key of "a1", offset 3) */
	append("mail.log.1", "a1\na2\na3\n");
	append("mail.log", "b1\n");
	/* decoys: same first line but compressed, and an older rotation */
	append("mail.log.2.gz", "a1\nzz\n");
	append("mail.log.2", "z1\n");
	append("other.log", "a1\n");
	ck_assert_int_gt(source_fingerprint("a1", 2, key, sizeof(key)), 0);
	r = rec_new();
	r->previous = key;
	snprintf(r->keys[0].key, sizeof(r->keys[0].key), "%s", key);
	r->keys[0].offset = 3;
	r->n_keys = 1;
	r->start_at_end = 1;	/* the current file must not be taken as "the first file" */
	ck_assert_int_eq(tail_new(e, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	EXPECT(r, "I1 mail.log.1", "L a2@6", "L a3@9", "N drained", "I0 mail.log", "L b1@3");
	append("mail.log", "b2\n");
	EXPECT(r, "I1 mail.log.1", "L a2@6", "L a3@9", "N drained", "I0 mail.log", "L b1@3",
	    "L b2@6");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(restart_without_rotation_does_not_look_at_siblings)
{
	sd_event *e = loop_new();
	struct rec *r;
	char key[MX_POSITION_KEY_MAX];

	make_dir();
	append("mail.log", "a1\na2\n");
	append("mail.log.1", "a1\nold\n");
	ck_assert_int_gt(source_fingerprint("a1", 2, key, sizeof(key)), 0);
	r = rec_new();
	r->previous = key;
	snprintf(r->keys[0].key, sizeof(r->keys[0].key), "%s", key);
	r->keys[0].offset = 3;
	r->n_keys = 1;
	ck_assert_int_eq(tail_new(e, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	EXPECT(r, "I1 mail.log", "L a2@6");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(oversized_line_is_reported_once_and_skipped)
{
	sd_event *e = loop_new();
	struct rec *r;
	size_t n = 3 * MX_LINE_MAX;
	char *big = malloc(n + 2), want[64];

	make_dir();
	memset(big, 'x', n);
	big[n] = '\n';
	big[n + 1] = '\0';
	append("mail.log", "a1\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3");
	append("mail.log", big);
	append("mail.log", "a2\n");
	snprintf(want, sizeof(want), "O %zu", 3 + n + 1);
	{
		char want2[64];

		snprintf(want2, sizeof(want2), "L a2@%zu", 3 + n + 1 + 3);
		EXPECT(r, "I1 mail.log", "L a1@3", want, want2);
	}
	free(big);
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(paused_tail_reads_nothing_and_catches_up_across_a_rotation)
{
	sd_event *e = loop_new();
	struct rec *r;

	make_dir();
	append("mail.log", "a1\n");
	r = follow(e, "mail.log");
	EXPECT(r, "I1 mail.log", "L a1@3");
	ck_assert_int_eq(tail_pause(r->t, 1), 0);
	append("mail.log", "a2\n");
	move("mail.log", "mail.log.1");
	append("mail.log", "b1\n");
	run_until(e, r, 0);
	ck_assert_uint_eq(r->n, 2);
	ck_assert_int_eq(tail_pause(r->t, 0), 0);
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6", "I0 mail.log", "N rotated", "L b1@3");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(poll_without_a_loop_reads_what_is_there)
{
	struct rec *r = rec_new();

	make_dir();
	append("mail.log", "a1\na2\n");
	ck_assert_int_eq(tail_new(NULL, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	ck_assert_int_eq(tail_poll(r->t), 2);
	ck_assert_int_eq(tail_poll(r->t), 0);
	move("mail.log", "mail.log.1");
	append("mail.log", "b1\n");
	ck_assert_int_eq(tail_poll(r->t), 1);
	{
		static const char *const want[] = { "I1 mail.log", "L a1@3", "L a2@6",
			"I0 mail.log", "N rotated", "L b1@3", NULL };

		expect(r, want);
	}
	ck_assert_str_eq(tail_path(r->t), path_in("mail.log"));
	rec_free(r);
}
END_TEST

START_TEST(large_backlog_is_read_in_bounded_rounds)
{
	sd_event *e = loop_new();
	struct rec *r = rec_new();
	size_t lines = 3 * TAIL_ROUND_BYTES / 64 + 10, i;
	char line[65];
	int fd;

	make_dir();
	fd = open(path_in("mail.log"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	memset(line, 'y', 63);
	line[63] = '\n';
	for (i = 0; i < lines; i++)
		ck_assert_int_eq(write(fd, line, 64), 64);
	close(fd);
	r->count_only = 1;
	ck_assert_int_eq(tail_new(e, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	/* one loop iteration reads at most one round */
	ck_assert_int_ge(sd_event_run(e, 0), 0);
	ck_assert_uint_gt(r->lines, 0);
	ck_assert_uint_le(r->lines, TAIL_ROUND_BYTES / 64);
	run_until(e, r, lines + 1);
	ck_assert_uint_eq(r->lines, lines);
	ck_assert_uint_eq(r->n, 1);
	ck_assert_str_eq(r->log[0], "I1 mail.log");
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

START_TEST(free_from_inside_a_callback_stops_delivery)
{
	sd_event *e = loop_new();
	struct rec *r = rec_new();

	make_dir();
	append("mail.log", "a1\na2\na3\n");
	r->free_at_line = 2;
	ck_assert_int_eq(tail_new(e, path_in("mail.log"), &rec_ops, r, &r->t), 0);
	EXPECT(r, "I1 mail.log", "L a1@3", "L a2@6");
	ck_assert_ptr_null(r->t);
	append("mail.log", "a4\n");
	run_until(e, r, 0);
	ck_assert_uint_eq(r->n, 3);
	rec_free(r);
	sd_event_unref(e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tail");
	TCase *tc = tcase_create("follow");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, fds_setup, fds_teardown);
	tcase_add_test(tc, file_created_after_start_is_read_from_its_beginning);
	tcase_add_test(tc, appended_lines_and_a_partial_line_completed_later);
	tcase_add_test(tc, first_line_completed_later_gives_the_identity);
	tcase_add_test(tc, rename_rotation_reads_old_file_to_its_end_then_the_new_one);
	tcase_add_test(tc, new_file_empty_after_rotation_keeps_the_old_one_current);
	tcase_add_test(tc, rotation_then_immediate_writes_lose_nothing);
	tcase_add_test(tc, copytruncate_restarts_at_zero_under_a_new_identity);
	tcase_add_test(tc, copytruncate_regrown_past_our_offset_is_still_noticed);
	tcase_add_test(tc, deleted_file_is_closed_and_its_re_creation_followed);
	tcase_add_test(tc, deleted_and_recreated_at_once_is_a_switch);
	tcase_add_test(tc, two_files_share_one_loop);
	tcase_add_test(tc, rewind_after_failed_commit_redelivers_from_the_offset);
	tcase_add_test(tc, failed_line_without_rewind_comes_again_at_the_next_round);
	tcase_add_test(tc, identity_failure_at_a_switch_keeps_the_old_file_current);
	tcase_add_test(tc, start_at_end_skips_what_was_there);
	tcase_add_test(tc, start_at_end_inside_an_overlong_last_line_skips_it_quietly);
	tcase_add_test(tc, stored_offset_is_where_reading_starts);
	tcase_add_test(tc, restart_after_rotation_while_down_drains_the_rotated_sibling_first);
	tcase_add_test(tc, restart_without_rotation_does_not_look_at_siblings);
	tcase_add_test(tc, oversized_line_is_reported_once_and_skipped);
	tcase_add_test(tc, paused_tail_reads_nothing_and_catches_up_across_a_rotation);
	tcase_add_test(tc, poll_without_a_loop_reads_what_is_there);
	tcase_add_test(tc, large_backlog_is_read_in_bounded_rounds);
	tcase_add_test(tc, free_from_inside_a_callback_stops_delivery);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
