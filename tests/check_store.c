/*
 * NAME
 *	check_store - the SQLite history: schema and migrations, atomic batches,
 *	positions, pruning, read-only and failure modes
 * DESCRIPTION
 *	Every test works on databases under tst_tmpdir(). Failures of the
 *	file system are made real rather than mocked: a full disk is
 *	PRAGMA max_page_count (SQLite then fails with SQLITE_FULL exactly as on
 *	ENOSPC); an unwritable directory is a directory the test user cannot
 *	write, and when the tests run as root (who ignores modes) that part
 *	runs in a child process that has dropped to uid/gid 65534.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "event.h"
#include "migrate.h"
#include "store.h"
#include "testutil.h"

#define TST_NOBODY	65534

/* path - a file name under this test's directory (static buffer) */
static const char *
path(const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", tst_tmpdir(), name);
	return buf;
}

/* open_ok - store_open() that must succeed */
static struct store *
open_ok(const char *name, unsigned flags)
{
	struct store *st = NULL;
	int r = store_open(path(name), flags, &st);

	ck_assert_msg(r == 0, "store_open(%s): %s", name, strerror(-r));
	return st;
}

/* q_int - the integer result of a query */
static int64_t
q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
	    sqlite3_errmsg(db));
	ck_assert_msg(sqlite3_step(s) == SQLITE_ROW, "%s: no row", sql);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* q_text - the text result of a query, in a static buffer; NULL for SQL NULL */
static const char *
q_text(sqlite3 *db, const char *sql)
{
	static char buf[4096];
	const unsigned char *t;
	sqlite3_stmt *s;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
	    sqlite3_errmsg(db));
	ck_assert_msg(sqlite3_step(s) == SQLITE_ROW, "%s: no row", sql);
	t = sqlite3_column_text(s, 0);
	if (t != NULL)
		snprintf(buf, sizeof(buf), "%s", (const char *)t);
	sqlite3_finalize(s);
	return t != NULL ? buf : NULL;
}

/* sample - a fully set event at ts_usec */
static struct mx_event *
sample(int64_t ts_usec)
{
	struct mx_event *ev = tst_event();

	event_reset(ev);
	ev->kind = MX_EVENT_AUTH_FAILURE;
	ev->ts_usec = ts_usec;
	event_setz(ev, &ev->host, "mail");
	event_setz(ev, &ev->program, "postfix/smtpd-proxy587/smtpd");
	event_setz(ev, &ev->daemon, "smtpd");
	event_setz(ev, &ev->listener, "postfix/smtpd-proxy587");
	ev->pid = 32129;
	event_setz(ev, &ev->client_ip, "203.0.113.7");
	ev->client_port = 52144;
	event_setz(ev, &ev->client_name, "unknown");
	event_setz(ev, &ev->server_ip, "198.51.100.25");
	ev->server_port = 587;
	ev->proxied = 1;
	event_setz(ev, &ev->user, "heidi@example.net");
	event_setz(ev, &ev->method, "PLAIN");
	ev->attempts = 3;
	event_setz(ev, &ev->queue_id, "4XyZ1k2PQRz");
	event_setz(ev, &ev->sender, "alice@example.org");
	event_setz(ev, &ev->recipient, "bob@example.net");
	event_setz(ev, &ev->helo, "client.example.org");
	event_setz(ev, &ev->stage, "AUTH");
	event_setz(ev, &ev->reply, "535 5.7.8");
	event_setz(ev, &ev->reason, "authentication failed");
	event_setz(ev, &ev->session, "4a5b6c7d8e9f");
	event_setz(ev, &ev->stats, "ehlo=1 auth=0/1 commands=1/2");
	return ev;
}

/* add - n events at ts0, ts0 + step, ... in their own transaction */
static void
add(struct store *st, int n, int64_t ts0, int64_t step)
{
	ck_assert_int_eq(store_begin(st), 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(store_add_event(st, sample(ts0 + i * step)), 0);
	ck_assert_int_eq(store_commit(st), 0);
}

/* position - a file position */
static struct mx_position *
position(const char *key, uint64_t offset, uint64_t lines)
{
	static struct mx_position pos;

	memset(&pos, 0, sizeof(pos));
	snprintf(pos.key, sizeof(pos.key), "%s", key);
	snprintf(pos.path, sizeof(pos.path), "/var/log/mail.log");
	pos.offset = offset;
	pos.lines = lines;
	return &pos;
}

/*
 * normalise - SQL text without comments, whitespace runs as one blank and
 * no blank next to punctuation: what the schema means, not how it is laid out.
 */
static void
normalise(const char *sql, char *out, size_t size)
{
	size_t n = 0;
	char quote = 0, prev = ' ';

	for (const char *p = sql; *p != '\0' && n + 2 < size; p++) {
		char c = *p;

		if (quote == 0 && c == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
			if (*p == '\0')
				break;
			c = ' ';
		}
		if (quote != 0 && c == quote)
			quote = 0;
		else if (quote == 0 && (c == '\'' || c == '"'))
			quote = c;
		if (quote == 0 && (c == ' ' || c == '\t' || c == '\n')) {
			prev = ' ';
			continue;
		}
		if (prev == ' ' && n > 0 && strchr("(),;", c) == NULL &&
		    strchr("(,", out[n - 1]) == NULL)
			out[n++] = ' ';
		out[n++] = c;
		prev = c;
	}
	out[n] = '\0';
}

/* schema_of - every table, index and view, normalised, one per line, by name */
static char *
schema_of(sqlite3 *db)
{
	static char norm[16384];
	sqlite3_stmt *s;
	char *all = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&all, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql"
	    " FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name", -1, &s,
	    NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *sql = (const char *)sqlite3_column_text(s, 3);

		normalise(sql != NULL ? sql : "", norm, sizeof(norm));
		fprintf(f, "%s %s on %s: %s\n", sqlite3_column_text(s, 0),
		    sqlite3_column_text(s, 1), sqlite3_column_text(s, 2), norm);
	}
	sqlite3_finalize(s);
	fclose(f);
	return all;
}

START_TEST(schema_sql_and_the_numbered_migrations_give_the_same_schema)
{
	sqlite3 *a, *b;
	char *sa, *sb;

	ck_assert_int_eq(sqlite3_open(":memory:", &a), SQLITE_OK);
	ck_assert_int_eq(sqlite3_open(":memory:", &b), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(a, mx_sql_schema, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_uint_gt(mx_sql_n_migrations, 0);
	for (size_t i = 0; i < mx_sql_n_migrations; i++) {
		ck_assert_int_eq(mx_sql_migrations[i].version, (int)i + 1);
		int rc = sqlite3_exec(b, mx_sql_migrations[i].sql, NULL, NULL, NULL);

		ck_assert_msg(rc == SQLITE_OK, "%s: %s", mx_sql_migrations[i].name,
		    sqlite3_errmsg(b));
	}
	sa = schema_of(a);
	sb = schema_of(b);
	ck_assert_msg(strstr(sa, "table events on events: CREATE TABLE events(id INTEGER") != NULL,
	    "normalised schema looks wrong:\n%s", sa);
	ck_assert_msg(strstr(sa, "view events_v") != NULL, "no events_v view:\n%s", sa);
	ck_assert_str_eq(sa, sb);
	free(sa);
	free(sb);
	sqlite3_close(a);
	sqlite3_close(b);
}
END_TEST

START_TEST(a_new_database_gets_the_schema_and_the_latest_version_once)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path("new.db"), &db), SQLITE_OK);
	ck_assert_int_eq(migrate_apply(db), 1);
	ck_assert_int_eq(q_int(db, "PRAGMA user_version"), migrate_latest());
	ck_assert_int_eq(migrate_latest(), mx_sql_migrations[mx_sql_n_migrations - 1].version);
	ck_assert_int_eq(migrate_apply(db), 0);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'events'"), 1);
	sqlite3_close(db);
}
END_TEST

/* A schema at version 3 and the three migrations that lead to it. */
static const struct mx_sql_migration upgrade[] = {
	{ 1, "0001_t.sql", "CREATE TABLE t (a);" },
	{ 2, "0002_b.sql", "ALTER TABLE t ADD COLUMN b; CREATE INDEX t_b ON t (b);" },
	{ 3, "0003_c.sql", "ALTER TABLE t ADD COLUMN c;" },
};
static const struct mx_sql_migration upgrade_broken3[] = {
	{ 1, "0001_t.sql", "CREATE TABLE t (a);" },
	{ 2, "0002_b.sql", "ALTER TABLE t ADD COLUMN b; CREATE INDEX t_b ON t (b);" },
	{ 3, "0003_c.sql", "ALTER TABLE t ADD COLUMN c; SELECT * FROM no_such_table;" },
};
static const char upgrade_schema[] = "CREATE TABLE t (a, b, c); CREATE INDEX t_b ON t (b);";

START_TEST(an_old_database_gets_each_missing_migration_in_its_own_transaction)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path("old.db"), &db), SQLITE_OK);
	ck_assert_int_eq(migrate_apply_set(db, "CREATE TABLE t (a);", upgrade, 1), 1);
	ck_assert_int_eq(q_int(db, "PRAGMA user_version"), 1);
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO t VALUES (42)", NULL, NULL, NULL),
	    SQLITE_OK);

	/* migration 3 fails: 2 stays applied, 3 leaves no trace */
	ck_assert_int_eq(migrate_apply_set(db, upgrade_schema, upgrade_broken3, 3), -EIO);
	ck_assert_int_eq(q_int(db, "PRAGMA user_version"), 2);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM pragma_table_info('t')"), 2);
	ck_assert_int_eq(sqlite3_get_autocommit(db), 1);

	/* fixed: the upgrade resumes at 3 */
	ck_assert_int_eq(migrate_apply_set(db, upgrade_schema, upgrade, 3), 1);
	ck_assert_int_eq(q_int(db, "PRAGMA user_version"), 3);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM pragma_table_info('t')"), 3);
	ck_assert_int_eq(q_int(db, "SELECT a FROM t"), 42);
	ck_assert_int_eq(migrate_apply_set(db, upgrade_schema, upgrade, 3), 0);
	/* and a binary that knows only 2 refuses it */
	ck_assert_int_eq(migrate_apply_set(db, upgrade_schema, upgrade, 2), -EPROTO);
	sqlite3_close(db);

	/* a new database takes the schema in one step, straight to 3 */
	ck_assert_int_eq(sqlite3_open(path("fresh.db"), &db), SQLITE_OK);
	ck_assert_int_eq(migrate_apply_set(db, upgrade_schema, upgrade, 3), 1);
	ck_assert_int_eq(q_int(db, "PRAGMA user_version"), 3);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM pragma_table_info('t')"), 3);
	sqlite3_close(db);
}
END_TEST

START_TEST(a_database_newer_than_the_binary_is_refused_untouched)
{
	struct store *st = NULL;
	sqlite3 *db;
	char sql[64];

	st = open_ok("newer.db", MX_STORE_CREATE);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", migrate_latest() + 1);
	ck_assert_int_eq(sqlite3_exec(store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);
	st = store_free(st);
	ck_assert_int_eq(store_open(path("newer.db"), MX_STORE_CREATE, &st), -EPROTO);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(sqlite3_open(path("newer.db"), &db), SQLITE_OK);
	ck_assert_int_eq(q_int(db, "PRAGMA user_version"), migrate_latest() + 1);
	sqlite3_close(db);
}
END_TEST

START_TEST(somebody_elses_database_without_user_version_is_refused)
{
	struct store *st = NULL;
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path("other.db"), &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_open(path("other.db"), MX_STORE_CREATE, &st), -EPROTO);
	ck_assert_ptr_null(st);
}
END_TEST

START_TEST(reopening_keeps_events_positions_and_counters)
{
	struct store *st = open_ok("reopen.db", MX_STORE_CREATE);
	struct mx_position got;

	ck_assert_str_eq(q_text(store_db(st), "PRAGMA journal_mode"), "wal");
	ck_assert_int_eq(q_int(store_db(st), "PRAGMA synchronous"), 1);	/* NORMAL */
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_add_event(st, sample(TST_TS)), 0);
	ck_assert_int_eq(store_add_event(st, sample(TST_TS + 1)), 0);
	ck_assert_int_eq(store_position_set(st, position("file:0123456789abcdef:87", 870, 10)), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(store_count_add(st, "unrecognised:postfix/smtpd", 2), 0);
	st = store_free(st);
	ck_assert_ptr_null(st);

	st = open_ok("reopen.db", 0);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(store_position_get(st, "file:0123456789abcdef:87", &got), 1);
	ck_assert_uint_eq(got.offset, 870);
	ck_assert_uint_eq(got.lines, 10);
	ck_assert_int_eq(q_int(store_db(st), "SELECT value FROM counters"
	    " WHERE name = 'unrecognised:postfix/smtpd'"), 2);
	store_free(st);
}
END_TEST

START_TEST(a_rolled_back_batch_leaves_neither_events_nor_position)
{
	struct store *st = open_ok("atomic.db", MX_STORE_CREATE);
	struct mx_position got;

	ck_assert_int_eq(store_begin(st), 0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(store_add_event(st, sample(TST_TS + i)), 0);
	ck_assert_int_eq(store_position_set(st, position("file:00000000000000aa:10", 5000, 100)),
	    0);
	ck_assert_int_eq(store_rollback(st), 0);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 0);
	ck_assert_int_eq(store_position_get(st, "file:00000000000000aa:10", &got), 0);

	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_add_event(st, sample(TST_TS)), 0);
	ck_assert_int_eq(store_position_set(st, position("file:00000000000000aa:10", 50, 1)), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 1);
	ck_assert_int_eq(store_position_get(st, "file:00000000000000aa:10", &got), 1);
	ck_assert_uint_eq(got.offset, 50);
	store_free(st);
}
END_TEST

START_TEST(writes_outside_a_transaction_and_nested_begins_are_refused)
{
	struct store *st = open_ok("notxn.db", MX_STORE_CREATE);

	ck_assert_int_eq(store_add_event(st, sample(TST_TS)), -EINVAL);
	ck_assert_int_eq(store_position_set(st, position("file:1:1", 1, 1)), -EINVAL);
	ck_assert_int_eq(store_commit(st), -EINVAL);
	ck_assert_int_eq(store_rollback(st), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_begin(st), -EINVAL);
	tst_event()->kind = MX_EVENT_NONE;
	ck_assert_int_eq(store_add_event(st, tst_event()), -EINVAL);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 0);
	store_free(st);
}
END_TEST

START_TEST(freeing_with_an_open_transaction_commits_nothing)
{
	struct store *st = open_ok("free.db", MX_STORE_CREATE);

	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_add_event(st, sample(TST_TS)), 0);
	st = store_free(st);
	st = open_ok("free.db", 0);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 0);
	store_free(st);
	ck_assert_ptr_null(store_free(NULL));
}
END_TEST

START_TEST(a_position_round_trips_and_the_last_write_wins)
{
	struct store *st = open_ok("pos.db", MX_STORE_CREATE);
	struct mx_position *p, got;

	ck_assert_int_eq(store_position_get(st, "file:nothing:1", &got), 0);
	ck_assert_str_eq(got.key, "file:nothing:1");
	ck_assert_uint_eq(got.offset, 0);

	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_position_set(st, position("file:00c0ffee00c0ffee:87", 1, 1)), 0);
	p = position("file:00c0ffee00c0ffee:87", 123456789012ULL, 4242);
	snprintf(p->path, sizeof(p->path), "/var/log/mail.log.1.gz");
	ck_assert_int_eq(store_position_set(st, p), 0);
	p = position("journal:0123456789abcdef0123456789abcdef", 0, 17);
	p->path[0] = '\0';
	snprintf(p->cursor, sizeof(p->cursor), "s=abc;i=1f;b=def;m=42;t=5f;x=99");
	ck_assert_int_eq(store_position_set(st, p), 0);
	ck_assert_int_eq(store_commit(st), 0);

	ck_assert_int_eq(store_position_get(st, "file:00c0ffee00c0ffee:87", &got), 1);
	ck_assert_str_eq(got.key, "file:00c0ffee00c0ffee:87");
	ck_assert_str_eq(got.path, "/var/log/mail.log.1.gz");
	ck_assert_uint_eq(got.offset, 123456789012ULL);
	ck_assert_uint_eq(got.lines, 4242);
	ck_assert_str_eq(got.cursor, "");
	ck_assert_int_eq(store_position_get(st, "journal:0123456789abcdef0123456789abcdef", &got),
	    1);
	ck_assert_str_eq(got.cursor, "s=abc;i=1f;b=def;m=42;t=5f;x=99");
	ck_assert_str_eq(got.path, "");
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM positions"), 2);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM positions"
	    " WHERE updated > strftime('%s', 'now') - 3600"
	    " AND cursor IS NULL AND path IS NOT NULL"), 1);
	store_free(st);
}
END_TEST

START_TEST(prune_deletes_exactly_the_rows_before_the_cut_across_chunks)
{
	struct store *st = open_ok("prune.db", MX_STORE_CREATE);
	const int64_t cut = TST_TS + 30000 * 1000000LL;
	struct mx_event *ev;
	int64_t deleted = -1;

	/* 25007 rows one second apart before the cut (more than two chunks), 5 from it on */
	add(st, 25007, cut - 25007 * 1000000LL, 1000000);
	add(st, 5, cut, 1000000);
	ck_assert_int_eq(store_begin(st), 0);
	ev = sample(TST_TS);
	ev->ts_usec = MX_TS_UNKNOWN;
	ck_assert_int_eq(store_add_event(st, ev), 0);
	ck_assert_int_eq(store_commit(st), 0);

	ck_assert_int_eq(store_prune(st, cut, &deleted), 0);
	ck_assert_int_eq(deleted, 25007);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 6);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events WHERE ts IS NULL"), 1);
	ck_assert_int_eq(q_int(store_db(st), "SELECT round(min(ts) * 1000000) FROM events"), cut);
	ck_assert_int_eq(store_prune(st, cut, &deleted), 0);
	ck_assert_int_eq(deleted, 0);

	/* inside the caller's transaction it belongs to that transaction */
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_prune(st, cut + 2000000, &deleted), 0);
	ck_assert_int_eq(deleted, 2);
	ck_assert_int_eq(store_rollback(st), 0);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 6);
	store_free(st);
}
END_TEST

START_TEST(a_read_only_store_reads_and_refuses_every_write)
{
	struct store *st = open_ok("ro.db", MX_STORE_CREATE);
	struct mx_position got;

	add(st, 3, TST_TS, 1);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_position_set(st, position("file:feed:1", 9, 1)), 0);
	ck_assert_int_eq(store_commit(st), 0);
	st = store_free(st);

	st = open_ok("ro.db", MX_STORE_RDONLY);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 3);
	ck_assert_int_eq(store_position_get(st, "file:feed:1", &got), 1);
	ck_assert_uint_eq(got.offset, 9);
	ck_assert_int_eq(store_begin(st), -EROFS);
	ck_assert_int_eq(store_add_event(st, sample(TST_TS)), -EROFS);
	ck_assert_int_eq(store_position_set(st, position("file:feed:1", 10, 2)), -EROFS);
	ck_assert_int_eq(store_count_add(st, "x", 1), -EROFS);
	ck_assert_int_eq(store_prune(st, TST_TS + 10, NULL), -EROFS);
	ck_assert_int_ne(sqlite3_exec(store_db(st), "DELETE FROM events", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 3);
	store_free(st);
}
END_TEST

START_TEST(opening_without_create_never_creates)
{
	struct store *st = NULL;
	struct stat sb;

	ck_assert_int_eq(store_open(path("absent.db"), 0, &st), -ENOENT);
	ck_assert_int_eq(store_open(path("absent.db"), MX_STORE_RDONLY, &st), -ENOENT);
	ck_assert_int_eq(store_open(path("no/such/dir/x.db"), 0, &st), -ENOENT);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(stat(path("absent.db"), &sb), -1);
	ck_assert_int_eq(stat(path("no"), &sb), -1);
}
END_TEST

START_TEST(create_makes_missing_parent_directories_mode_0750)
{
	struct store *st;
	struct stat sb;

	umask(022);
	st = open_ok("var/lib/mxledger/x.db", MX_STORE_CREATE);
	store_free(st);
	ck_assert_int_eq(stat(path("var/lib/mxledger"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0750);
	ck_assert_int_eq(stat(path("var"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0750);
	ck_assert_int_eq(stat(path("var/lib/mxledger/x.db"), &sb), 0);
	ck_assert_str_eq(store_default_path(), LOCALSTATEDIR "/lib/mxledger/mxledger.db");
}
END_TEST

/* unwritable_checks - what an unprivileged user gets in `dir`; 0 = as expected */
static int
unwritable_checks(const char *dir)
{
	char p[PATH_MAX];
	struct store *st = NULL;
	int r, bad = 0;

	snprintf(p, sizeof(p), "%s/new.db", dir);
	r = store_open(p, MX_STORE_CREATE, &st);
	if (r != -EACCES && r != -EROFS) {
		fprintf(stderr, "create in unwritable dir: %d\n", r);
		bad |= 1;
	}
	snprintf(p, sizeof(p), "%s/sub/new.db", dir);
	r = store_open(p, MX_STORE_CREATE, &st);
	if (r != -EACCES && r != -EROFS) {
		fprintf(stderr, "create below unwritable dir: %d\n", r);
		bad |= 2;
	}
	snprintf(p, sizeof(p), "%s/theirs.db", dir);
	r = store_open(p, 0, &st);
	if (r != -EACCES && r != -EROFS) {
		fprintf(stderr, "open of somebody else's database: %d\n", r);
		bad |= 4;
	}
	r = store_open(p, MX_STORE_RDONLY, &st);
	if (r != -EACCES && r != -EROFS && r != 0) {
		fprintf(stderr, "read-only open of somebody else's database: %d\n", r);
		bad |= 8;
	}
	store_free(st);
	return bad;
}

START_TEST(an_unwritable_directory_or_file_gives_eacces_or_erofs)
{
	char dir[PATH_MAX];
	struct store *st;
	pid_t pid;
	int status;

	snprintf(dir, sizeof(dir), "%s", path("locked"));
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	st = open_ok("locked/theirs.db", MX_STORE_CREATE);
	add(st, 1, TST_TS, 1);
	store_free(st);
	ck_assert_int_eq(chmod(path("locked/theirs.db"), 0644), 0);
	ck_assert_int_eq(chmod(tst_tmpdir(), 0755), 0);
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(dir, 0555), 0);
		ck_assert_int_eq(unwritable_checks(dir), 0);
		ck_assert_int_eq(chmod(dir, 0755), 0);
		return;
	}
	/* root ignores modes: run the checks as nobody in a child */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(TST_NOBODY) < 0 || setuid(TST_NOBODY) < 0)
			_exit(100);
		if (access(dir, X_OK) < 0)
			_exit(101);	/* a parent directory is closed to nobody */
		_exit(unwritable_checks(dir));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died");
	if (WEXITSTATUS(status) == 101) {
		fprintf(stderr, "check_store: %s is not reachable for uid %d; "
		    "unwritable-directory checks skipped\n", dir, TST_NOBODY);
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == 0, "checks as uid %d failed: %d", TST_NOBODY,
	    WEXITSTATUS(status));
}
END_TEST

START_TEST(a_full_disk_gives_enospc_and_the_store_recovers)
{
	struct store *st = open_ok("full.db", MX_STORE_CREATE);
	struct mx_event *ev;
	char big[3000];
	int64_t pages;
	char sql[64];
	int r = 0, i;

	pages = q_int(store_db(st), "PRAGMA page_count");
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)pages + 8);
	ck_assert_int_eq(sqlite3_exec(store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(store_begin(st), 0);
	for (i = 0; i < 1000 && r == 0; i++) {
		ev = sample(TST_TS + i);
		event_setz(ev, &ev->reason, big);
		r = store_add_event(st, ev);
	}
	ck_assert_msg(r == -ENOSPC, "after %d events: %d (%s)", i, r, strerror(-r));
	ck_assert_int_eq(store_rollback(st), 0);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 0);

	ck_assert_int_eq(sqlite3_exec(store_db(st), "PRAGMA max_page_count = 1000000", NULL, NULL,
	    NULL), SQLITE_OK);
	add(st, 3, TST_TS, 1);
	ck_assert_int_eq(q_int(store_db(st), "SELECT count(*) FROM events"), 3);
	store_free(st);
}
END_TEST

START_TEST(a_second_writer_gets_ebusy_while_the_first_holds_the_lock)
{
	struct store *a = open_ok("busy.db", MX_STORE_CREATE);
	struct store *b = open_ok("busy.db", 0);

	sqlite3_busy_timeout(store_db(b), 50);
	ck_assert_int_eq(store_begin(a), 0);
	ck_assert_int_eq(store_begin(b), -EBUSY);
	ck_assert_int_eq(store_commit(a), 0);
	ck_assert_int_eq(store_begin(b), 0);
	ck_assert_int_eq(store_commit(b), 0);
	store_free(b);
	store_free(a);
}
END_TEST

START_TEST(every_field_is_stored_in_its_column_and_unset_ones_are_null)
{
	struct store *st = open_ok("fields.db", MX_STORE_CREATE);
	sqlite3 *db = store_db(st);
	struct mx_event *ev;

	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_add_event(st, sample(1795309323123456LL)), 0);
	ev = tst_event();
	event_reset(ev);
	ev->kind = MX_EVENT_CONNECT;
	ck_assert_int_eq(store_add_event(st, ev), 0);
	ck_assert_int_eq(store_commit(st), 0);

	ck_assert_str_eq(q_text(db, "SELECT printf('%.6f|%s|%s|%s|%s|%d|%s|%s|%d|%s|%s|%d|%d',"
	    " ts, host, program, daemon, listener, pid, event, client_ip, client_port,"
	    " client_name, server_ip, server_port, proxied) FROM events WHERE id = 1"),
	    "1795309323.123456|mail|postfix/smtpd-proxy587/smtpd|smtpd|postfix/smtpd-proxy587|"
	    "32129|auth_failure|203.0.113.7|52144|unknown|198.51.100.25|587|1");
	ck_assert_str_eq(q_text(db, "SELECT printf('%s|%s|%d|%s|%s|%s|%s|%s|%s|%s|%s|%s',"
	    " user, method, attempts, queue_id, sender, recipient, helo, stage, reply, reason,"
	    " session, stats) FROM events WHERE id = 1"),
	    "heidi@example.net|PLAIN|3|4XyZ1k2PQRz|alice@example.org|bob@example.net|"
	    "client.example.org|AUTH|535 5.7.8|authentication failed|4a5b6c7d8e9f|"
	    "{\"ehlo\":\"1\",\"auth\":\"0/1\",\"commands\":\"1/2\"}");
	ck_assert_int_eq(q_int(db, "SELECT CAST(round(ts * 1000000) AS INTEGER) FROM events"
	    " WHERE id = 1"), 1795309323123456LL);
	ck_assert_str_eq(q_text(db, "SELECT time FROM events_v WHERE id = 1"),
	    "2026-11-22T01:02:03.123Z");
	ck_assert_str_eq(q_text(db, "SELECT datetime(ts, 'unixepoch') FROM events WHERE id = 1"),
	    "2026-11-22 01:02:03");
	ck_assert_str_eq(q_text(db, "SELECT event FROM events WHERE id = 2"), "connect");
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events WHERE id = 2 AND"
	    " coalesce(ts, host, program, daemon, listener, pid, client_ip, client_port,"
	    " client_name, server_ip, server_port, proxied, user, method, attempts, queue_id,"
	    " sender, recipient, helo, stage, reply, reason, session, stats) IS NULL"), 1);
	store_free(st);
}
END_TEST

static const struct statscase {
	const char *name, *raw, *json;
} statscases[] = {
	{ "postfix counters become an object of strings",
	  "ehlo=1 auth=0/1 commands=1/2",
	  "{\"ehlo\":\"1\",\"auth\":\"0/1\",\"commands\":\"1/2\"}" },
	{ "a single counter", "commands=0", "{\"commands\":\"0\"}" },
	{ "runs of blanks and tabs separate words only once",
	  "  ehlo=1 \t quit=1  ", "{\"ehlo\":\"1\",\"quit\":\"1\"}" },
	{ "a word without '=' is a key with an empty value",
	  "ehlo=1 garbage", "{\"ehlo\":\"1\",\"garbage\":\"\"}" },
	{ "only the first '=' splits", "a=b=c", "{\"a\":\"b=c\"}" },
	{ "quotes, backslashes and control bytes are escaped",
	  "q\"=\\x c=\x01", "{\"q\\\"\":\"\\\\x\",\"c\":\"\\u0001\"}" },
	{ "bytes beyond ASCII are written as their Latin-1 code",
	  "k=\xc3\xa9", "{\"k\":\"\\u00c3\\u00a9\"}" },
	{ "an empty string is an empty object", "", "{}" },
};

START_TEST(stats_are_stored_as_valid_json)
{
	const struct statscase *c = &statscases[_i];
	struct store *st = open_ok("stats.db", MX_STORE_CREATE);
	struct mx_event *ev = sample(TST_TS);

	event_setz(ev, &ev->stats, c->raw);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_add_event(st, ev), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_msg(strcmp(q_text(store_db(st), "SELECT stats FROM events"), c->json) == 0,
	    "%s: got %s", c->name, q_text(store_db(st), "SELECT stats FROM events"));
	ck_assert_msg(q_int(store_db(st), "SELECT json_valid(stats) FROM events") == 1, "%s",
	    c->name);
	store_free(st);
}
END_TEST

START_TEST(per_ip_per_user_and_per_time_queries_use_an_index)
{
	static const struct {
		const char *sql, *index;
	} q[] = {
		{ "SELECT * FROM events WHERE client_ip = '203.0.113.7' AND ts > 1",
		  "events_client_ip_ts" },
		{ "SELECT * FROM events WHERE user = 'heidi@example.net' AND ts > 1",
		  "events_user_ts" },
		{ "SELECT count(*) FROM events WHERE ts BETWEEN 1 AND 2", "events_ts" },
		{ "SELECT * FROM events WHERE event = 'auth_failure' AND ts > 1",
		  "events_event_ts" },
	};
	struct store *st = open_ok("plan.db", MX_STORE_CREATE);
	char sql[512];

	add(st, 50, TST_TS, 1000000);
	ck_assert_int_eq(sqlite3_exec(store_db(st), "ANALYZE", NULL, NULL, NULL), SQLITE_OK);
	for (size_t i = 0; i < N(q); i++) {
		sqlite3_stmt *s;
		int found = 0;

		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", q[i].sql);
		ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
		while (sqlite3_step(s) == SQLITE_ROW)
			if (strstr((const char *)sqlite3_column_text(s, 3), q[i].index) != NULL)
				found = 1;
		sqlite3_finalize(s);
		ck_assert_msg(found, "%s does not use %s", q[i].sql, q[i].index);
	}
	store_free(st);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, schema_sql_and_the_numbered_migrations_give_the_same_schema);
	tcase_add_test(tc, a_new_database_gets_the_schema_and_the_latest_version_once);
	tcase_add_test(tc, an_old_database_gets_each_missing_migration_in_its_own_transaction);
	tcase_add_test(tc, a_database_newer_than_the_binary_is_refused_untouched);
	tcase_add_test(tc, somebody_elses_database_without_user_version_is_refused);
	tcase_add_test(tc, reopening_keeps_events_positions_and_counters);
	tcase_add_test(tc, a_rolled_back_batch_leaves_neither_events_nor_position);
	tcase_add_test(tc, writes_outside_a_transaction_and_nested_begins_are_refused);
	tcase_add_test(tc, freeing_with_an_open_transaction_commits_nothing);
	tcase_add_test(tc, a_position_round_trips_and_the_last_write_wins);
	tcase_add_test(tc, prune_deletes_exactly_the_rows_before_the_cut_across_chunks);
	tcase_add_test(tc, a_read_only_store_reads_and_refuses_every_write);
	tcase_add_test(tc, opening_without_create_never_creates);
	tcase_add_test(tc, create_makes_missing_parent_directories_mode_0750);
	tcase_add_test(tc, an_unwritable_directory_or_file_gives_eacces_or_erofs);
	tcase_add_test(tc, a_full_disk_gives_enospc_and_the_store_recovers);
	tcase_add_test(tc, a_second_writer_gets_ebusy_while_the_first_holds_the_lock);
	tcase_add_test(tc, every_field_is_stored_in_its_column_and_unset_ones_are_null);
	tcase_add_loop_test(tc, stats_are_stored_as_valid_json, 0, N(statscases));
	tcase_add_test(tc, per_ip_per_user_and_per_time_queries_use_an_index);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
