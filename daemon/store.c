/*
 * NAME
 *	store - the SQLite history: events and input positions, committed together
 * SYNOPSIS
 *	#include "store.h"
 *
 *	int store_open(const char *path, unsigned flags, struct store **ret);
 *	struct store *store_free(struct store *st);
 *	int store_begin(struct store *st);
 *	int store_add_event(struct store *st, const struct mx_event *ev);
 *	int store_position_get(struct store *st, const char *key, struct mx_position *ret);
 *	int store_position_set(struct store *st, const struct mx_position *pos);
 *	int store_commit(struct store *st);
 *	int store_rollback(struct store *st);
 *	int store_prune(struct store *st, int64_t before_usec, int64_t *ret_deleted);
 *	int store_count_add(struct store *st, const char *name, int64_t n);
 *	int store_errno(sqlite3 *db, int rc);
 * DESCRIPTION
 *	store_open() creates missing parent directories (0750) with
 *	MX_STORE_CREATE, opens the database, switches it to WAL with
 *	synchronous=NORMAL (a power cut may lose the last commits, never
 *	consistency: the positions go back with the events), sets a busy
 *	timeout of STORE_BUSY_MSEC and migrates it (migrate.c). A read-write
 *	open of a file the OS lets us only read fails (-EROFS/-EACCES) instead
 *	of silently degrading to read-only as sqlite3_open_v2() would.
 *	MX_STORE_RDONLY opens read-only with query_only, never migrates and
 *	refuses every write with -EROFS.
 *
 *	Every statement is prepared once, at open. store_add_event() binds the
 *	event's strings without copying (SQLITE_STATIC: every parameter is
 *	bound again before each step, so no stale pointer is ever read) and
 *	stores unset fields as NULL; the disconnect counters are turned into a
 *	JSON object in a buffer owned by the store.
 *
 *	store_add_event() and store_position_set() must run inside
 *	store_begin()/store_commit() (-EINVAL otherwise): that is what keeps
 *	events and positions atomic. A failed store_commit() rolls the
 *	transaction back. store_count_add() may run inside or outside one.
 *
 *	store_prune() deletes events with ts < before_usec, STORE_PRUNE_CHUNK
 *	rows at a time. Outside a transaction each chunk is its own
 *	transaction, so a concurrent writer never waits long for the lock;
 *	inside the caller's transaction it all belongs to that transaction.
 *	Events without a time (ts NULL) are never pruned.
 * RETURNS
 *	See store.h. store_errno() maps SQLITE_FULL (and an I/O error caused by
 *	ENOSPC) to -ENOSPC; SQLITE_READONLY, SQLITE_CANTOPEN and SQLITE_PERM to
 *	-EROFS or -EACCES (which one from the OS error; -ENOENT/-ENOTDIR when
 *	the file or a directory is missing); SQLITE_BUSY/SQLITE_LOCKED to
 *	-EBUSY; SQLITE_NOMEM to -ENOMEM; everything else to -EIO. SQLite's
 *	message goes to the debug log only: the caller decides what to log.
 * SEE ALSO
 *	store.h, migrate.c, sql/schema.sql, tests/check_store.c
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "log.h"
#include "migrate.h"
#include "store.h"

/*
 * A concurrent writer (daemon and backfill sharing a database) holds the
 * lock for one batch commit: milliseconds. Five seconds of waiting means
 * something is wrong; the caller then retries its batch later.
 */
#define STORE_BUSY_MSEC		5000
/* One prune chunk takes tens of milliseconds: the daemon's batches barely notice. */
#define STORE_PRUNE_CHUNK	10000
/* Keep the WAL file from staying large after a burst (bytes). */
#define STORE_WAL_LIMIT		(64 * 1024 * 1024)

enum store_stmt {
	STORE_BEGIN,
	STORE_COMMIT,
	STORE_ROLLBACK,
	STORE_POS_GET,
	STORE_INSERT,
	STORE_POS_SET,
	STORE_COUNT_ADD,
	STORE_PRUNE,
	STORE__MAX,
	STORE__FIRST_WRITE = STORE_INSERT,	/* not prepared for MX_STORE_RDONLY */
};

static const char *const store_sql[STORE__MAX] = {
	[STORE_BEGIN] = "BEGIN IMMEDIATE",
	[STORE_COMMIT] = "COMMIT",
	[STORE_ROLLBACK] = "ROLLBACK",
	[STORE_POS_GET] = "SELECT path, offset, lines, cursor FROM positions WHERE key = ?1",
	[STORE_INSERT] = "INSERT INTO events (ts, host, program, daemon, listener, pid, event,"
			 " client_ip, client_port, client_name, server_ip, server_port, proxied,"
			 " user, method, attempts, queue_id, sender, recipient, helo, stage,"
			 " reply, reason, session, stats)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
			 " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
	[STORE_POS_SET] = "INSERT INTO positions (key, path, offset, lines, cursor, updated)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
			  " ON CONFLICT (key) DO UPDATE SET path = excluded.path,"
			  " offset = excluded.offset, lines = excluded.lines,"
			  " cursor = excluded.cursor, updated = excluded.updated",
	[STORE_COUNT_ADD] = "INSERT INTO counters (name, value) VALUES (?1, ?2)"
			    " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
	[STORE_PRUNE] = "DELETE FROM events WHERE id IN"
			" (SELECT id FROM events WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
};

struct store {
	sqlite3 *db;
	unsigned flags;
	sqlite3_stmt *stmt[STORE__MAX];
	char *json;		/* stats as JSON, bound to STORE_INSERT */
	size_t json_size;
};

static int store_mkdirs(const char *path);
static int store_dir_error(const char *path, int r);
static int store_pragmas(struct store *st);
static int store_check_rdonly(struct store *st);
static int store_prepare(struct store *st);
static int store_run(struct store *st, enum store_stmt which);
static int store_in_txn(const struct store *st);
static int store_bind_text(sqlite3_stmt *s, int i, const char *v);
static int store_bind_int(sqlite3_stmt *s, int i, int64_t v, int64_t unset);
static int store_bind_event(struct store *st, const struct mx_event *ev);
static int store_stats_json(struct store *st, const char *raw);
static size_t store_json_str(char *o, size_t n, const char *s, size_t len);
static int store_prune_chunk(struct store *st, int64_t before_usec, int64_t *ret_n);

/* store_default_path - the database when neither --db nor the config name one */
const char *
store_default_path(void)
{
	return LOCALSTATEDIR "/lib/mxledger/mxledger.db";
}

/* store_open - open (create), tune, migrate and prepare */
int
store_open(const char *path, unsigned flags, struct store **ret)
{
	struct store *st;
	int oflags, rc, r;

	if (path == NULL)
		path = store_default_path();
	if ((flags & MX_STORE_CREATE) && !(flags & MX_STORE_RDONLY)) {
		r = store_mkdirs(path);
		if (r < 0)
			return r;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->flags = flags;
	if (flags & MX_STORE_RDONLY)
		oflags = SQLITE_OPEN_READONLY;
	else
		oflags = SQLITE_OPEN_READWRITE |
		    ((flags & MX_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
	rc = sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_debug("store: %s: %s", path, sqlite3_errmsg(st->db));
		r = store_errno(st->db, rc);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MSEC);
	if (flags & MX_STORE_RDONLY)
		r = store_check_rdonly(st);
	else if (sqlite3_db_readonly(st->db, "main") == 1)
		r = access(path, W_OK) < 0 && errno != EROFS ? -EACCES : -EROFS;
	else
		r = store_pragmas(st);
	if (r >= 0 && !(flags & MX_STORE_RDONLY))
		r = migrate_apply(st->db);
	if (r >= 0)
		r = store_prepare(st);
	if (r < 0)
		goto fail;
	*ret = st;
	return 0;
fail:
	store_free(st);
	if (r == -ENOENT && (flags & MX_STORE_CREATE) && !(flags & MX_STORE_RDONLY))
		r = store_dir_error(path, r);
	return r;
}

/* store_free - roll back what is open, finalize, close */
struct store *
store_free(struct store *st)
{
	if (st == NULL)
		return NULL;
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < STORE__MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	/* refresh planner statistics where they went stale; bounded work */
	if (st->db != NULL && st->stmt[STORE_INSERT] != NULL)
		(void)sqlite3_exec(st->db, "PRAGMA analysis_limit = 1000; PRAGMA optimize",
		    NULL, NULL, NULL);
	sqlite3_close_v2(st->db);
	free(st->json);
	free(st);
	return NULL;
}

/* store_db - the connection, for reports and history queries */
sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

/* store_begin - take the write lock: BEGIN IMMEDIATE */
int
store_begin(struct store *st)
{
	if (st->flags & MX_STORE_RDONLY)
		return -EROFS;
	if (store_in_txn(st))
		return -EINVAL;
	return store_run(st, STORE_BEGIN);
}

/* store_commit - commit; on failure the transaction is rolled back */
int
store_commit(struct store *st)
{
	int r;

	if (!store_in_txn(st))
		return -EINVAL;
	r = store_run(st, STORE_COMMIT);
	if (r < 0 && store_in_txn(st))
		(void)store_run(st, STORE_ROLLBACK);
	return r;
}

/* store_rollback - abandon the open transaction, if any */
int
store_rollback(struct store *st)
{
	if (!store_in_txn(st))
		return 0;
	return store_run(st, STORE_ROLLBACK);
}

/* store_add_event - append one event to the open transaction */
int
store_add_event(struct store *st, const struct mx_event *ev)
{
	int r;

	if (st->flags & MX_STORE_RDONLY)
		return -EROFS;
	if (!store_in_txn(st) || ev->kind <= MX_EVENT_NONE || ev->kind >= MX_EVENT__MAX ||
	    event_kind_name(ev->kind) == NULL)
		return -EINVAL;
	r = store_bind_event(st, ev);
	if (r < 0)
		return r;
	return store_run(st, STORE_INSERT);
}

/* store_position_get - 1 and *ret filled when key is stored, 0 (and *ret zeroed) if not */
int
store_position_get(struct store *st, const char *key, struct mx_position *ret)
{
	sqlite3_stmt *s = st->stmt[STORE_POS_GET];
	const char *path, *cursor;
	size_t klen = strlen(key);
	int rc, r;

	if (klen >= sizeof(ret->key))
		return -EINVAL;
	sqlite3_bind_text(s, 1, key, (int)klen, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		memcpy(ret->key, key, klen + 1);
		path = (const char *)sqlite3_column_text(s, 0);
		cursor = (const char *)sqlite3_column_text(s, 3);
		snprintf(ret->path, sizeof(ret->path), "%s", path != NULL ? path : "");
		snprintf(ret->cursor, sizeof(ret->cursor), "%s", cursor != NULL ? cursor : "");
		ret->offset = (uint64_t)sqlite3_column_int64(s, 1);
		ret->lines = (uint64_t)sqlite3_column_int64(s, 2);
		r = 1;
	} else if (rc == SQLITE_DONE) {
		memset(ret, 0, sizeof(*ret));
		memcpy(ret->key, key, klen + 1);
		r = 0;
	} else {
		log_debug("store: position %s: %s", key, sqlite3_errmsg(st->db));
		r = store_errno(st->db, rc);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

/* store_position_set - record where an input stands, in the open transaction */
int
store_position_set(struct store *st, const struct mx_position *pos)
{
	sqlite3_stmt *s = st->stmt[STORE_POS_SET];

	if (st->flags & MX_STORE_RDONLY)
		return -EROFS;
	if (!store_in_txn(st) || pos->key[0] == '\0' ||
	    memchr(pos->key, '\0', sizeof(pos->key)) == NULL)
		return -EINVAL;
	if (sqlite3_bind_text(s, 1, pos->key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    store_bind_text(s, 2, pos->path[0] != '\0' ? pos->path : NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, (sqlite3_int64)pos->offset) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, (sqlite3_int64)pos->lines) != SQLITE_OK ||
	    store_bind_text(s, 5, pos->cursor[0] != '\0' ? pos->cursor : NULL) != SQLITE_OK ||
	    sqlite3_bind_double(s, 6, (double)clock_now_usec() / 1e6) != SQLITE_OK)
		return store_errno(st->db, sqlite3_errcode(st->db));
	return store_run(st, STORE_POS_SET);
}

/* store_count_add - add n to a named counter (inside or outside a transaction) */
int
store_count_add(struct store *st, const char *name, int64_t n)
{
	sqlite3_stmt *s = st->stmt[STORE_COUNT_ADD];

	if (st->flags & MX_STORE_RDONLY)
		return -EROFS;
	if (sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, n) != SQLITE_OK)
		return store_errno(st->db, sqlite3_errcode(st->db));
	return store_run(st, STORE_COUNT_ADD);
}

/* store_prune - delete events older than before_usec; *ret_deleted = how many */
int
store_prune(struct store *st, int64_t before_usec, int64_t *ret_deleted)
{
	int own = !store_in_txn(st);
	int64_t total = 0, n;
	int r;

	if (st->flags & MX_STORE_RDONLY)
		return -EROFS;
	/* Each round deletes a full chunk or ends the loop: it terminates. */
	do {
		if (own && (r = store_run(st, STORE_BEGIN)) < 0)
			return r;
		r = store_prune_chunk(st, before_usec, &n);
		if (r >= 0 && own)
			r = store_commit(st);
		if (r < 0) {
			if (own)
				(void)store_rollback(st);
			return r;
		}
		total += n;
	} while (n == STORE_PRUNE_CHUNK);
	if (ret_deleted != NULL)
		*ret_deleted = total;
	return 0;
}

/* store_prune_chunk - delete at most STORE_PRUNE_CHUNK of the oldest events */
static int
store_prune_chunk(struct store *st, int64_t before_usec, int64_t *ret_n)
{
	sqlite3_stmt *s = st->stmt[STORE_PRUNE];
	int r;

	sqlite3_bind_double(s, 1, (double)before_usec / 1e6);
	sqlite3_bind_int(s, 2, STORE_PRUNE_CHUNK);
	r = store_run(st, STORE_PRUNE);
	if (r < 0)
		return r;
	*ret_n = sqlite3_changes(st->db);
	return 0;
}

/* store_errno - SQLite result code to -errno (see RETURNS) */
int
store_errno(sqlite3 *db, int rc)
{
	int sys = db != NULL ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return sys == EACCES || sys == EPERM ? -EACCES : -EROFS;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		if (sys == EROFS || sys == ENOENT || sys == ENOTDIR)
			return -sys;
		return -EACCES;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_IOERR:
		return sys == ENOSPC || sys == EDQUOT ? -ENOSPC : -EIO;
	default:
		return -EIO;
	}
}

/* store_mkdirs - create the missing parent directories of path, mode 0750 */
static int
store_mkdirs(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/*
 * store_dir_error - why creating path failed: SQLite reports a failed
 * O_CREAT in an unwritable directory as "cannot open" with ENOENT (from
 * its read-only retry); the directory's own access tells EACCES/EROFS.
 */
static int
store_dir_error(const char *path, int r)
{
	char dir[PATH_MAX];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return r;
	p = strrchr(dir, '/');
	if (p == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (p == dir)
		p[1] = '\0';
	else
		*p = '\0';
	if (faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) < 0 && errno != ENOENT)
		return -errno;
	return r;
}

/*
 * store_pragmas - WAL, synchronous=NORMAL, WAL size limit, and the two
 * settings that made ingest fastest on the benchmark log for little
 * memory: an 8 MiB page cache (the (client_ip, ts) index is written in
 * random order; with the default 2 MiB its pages were read back from the
 * kernel over and over) and a checkpoint every 10000 pages instead of
 * 1000 (fewer copies of the WAL into the database). Together: 166k ->
 * 221k lines/s, peak RSS 8 -> 15 MiB (tests/bench, 500k lines).
 */
static int
store_pragmas(struct store *st)
{
	static const char sql[] = "PRAGMA journal_mode = WAL;"
				  "PRAGMA synchronous = NORMAL;"
				  "PRAGMA cache_size = -8192;"
				  "PRAGMA wal_autocheckpoint = 10000;"
				  "PRAGMA journal_size_limit = %d;";
	char buf[sizeof(sql) + 16];
	int rc;

	snprintf(buf, sizeof(buf), sql, STORE_WAL_LIMIT);
	rc = sqlite3_exec(st->db, buf, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_debug("store: setting pragmas: %s", sqlite3_errmsg(st->db));
		return store_errno(st->db, rc);
	}
	return 0;
}

/*
 * store_check_rdonly - query_only, and a database that has a schema: a
 * missing or empty file is -ENOENT (reports have nothing to read).
 */
static int
store_check_rdonly(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, version = 0;

	rc = sqlite3_exec(st->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		version = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK) {
		log_debug("store: %s", sqlite3_errmsg(st->db));
		return store_errno(st->db, rc);
	}
	return version > 0 ? 0 : -ENOENT;
}

/* store_prepare - every statement, once */
static int
store_prepare(struct store *st)
{
	int n = (st->flags & MX_STORE_RDONLY) ? STORE__FIRST_WRITE : STORE__MAX;
	int rc;

	for (int i = 0; i < n; i++) {
		rc = sqlite3_prepare_v3(st->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			log_debug("store: preparing \"%s\": %s", store_sql[i],
			    sqlite3_errmsg(st->db));
			return store_errno(st->db, rc);
		}
	}
	return 0;
}

/* store_run - step a prepared statement to its end and reset it */
static int
store_run(struct store *st, enum store_stmt which)
{
	sqlite3_stmt *s = st->stmt[which];
	int rc, r = 0;

	if (s == NULL)
		return -EROFS;
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_debug("store: %s: %s", store_sql[which], sqlite3_errmsg(st->db));
		r = store_errno(st->db, rc);
	}
	sqlite3_reset(s);
	return r;
}

/* store_in_txn - is a transaction open on this connection */
static int
store_in_txn(const struct store *st)
{
	return !sqlite3_get_autocommit(st->db);
}

/* store_bind_text - a string, or NULL for an unset field */
static int
store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* store_bind_int - a number, or NULL when it equals the field's "unset" value */
static int
store_bind_int(sqlite3_stmt *s, int i, int64_t v, int64_t unset)
{
	if (v == unset)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_int64(s, i, v);
}

/* store_bind_event - the 25 parameters of STORE_INSERT, in column order */
static int
store_bind_event(struct store *st, const struct mx_event *ev)
{
	sqlite3_stmt *s = st->stmt[STORE_INSERT];
	int rc = SQLITE_OK, r;

	if (ev->ts_usec == MX_TS_UNKNOWN)
		rc |= sqlite3_bind_null(s, 1);
	else
		rc |= sqlite3_bind_double(s, 1, (double)ev->ts_usec / 1e6);
	rc |= store_bind_text(s, 2, ev->host);
	rc |= store_bind_text(s, 3, ev->program);
	rc |= store_bind_text(s, 4, ev->daemon);
	rc |= store_bind_text(s, 5, ev->listener);
	rc |= store_bind_int(s, 6, ev->pid < 0 ? -1 : ev->pid, -1);
	rc |= store_bind_text(s, 7, event_kind_name(ev->kind));
	rc |= store_bind_text(s, 8, ev->client_ip);
	rc |= store_bind_int(s, 9, ev->client_port, 0);
	rc |= store_bind_text(s, 10, ev->client_name);
	rc |= store_bind_text(s, 11, ev->server_ip);
	rc |= store_bind_int(s, 12, ev->server_port, 0);
	rc |= store_bind_int(s, 13, ev->proxied < 0 ? -1 : ev->proxied != 0, -1);
	rc |= store_bind_text(s, 14, ev->user);
	rc |= store_bind_text(s, 15, ev->method);
	rc |= store_bind_int(s, 16, ev->attempts <= 0 ? 0 : ev->attempts, 0);
	rc |= store_bind_text(s, 17, ev->queue_id);
	rc |= store_bind_text(s, 18, ev->sender);
	rc |= store_bind_text(s, 19, ev->recipient);
	rc |= store_bind_text(s, 20, ev->helo);
	rc |= store_bind_text(s, 21, ev->stage);
	rc |= store_bind_text(s, 22, ev->reply);
	rc |= store_bind_text(s, 23, ev->reason);
	rc |= store_bind_text(s, 24, ev->session);
	if (ev->stats == NULL) {
		rc |= sqlite3_bind_null(s, 25);
	} else {
		r = store_stats_json(st, ev->stats);
		if (r < 0)
			return r;
		rc |= sqlite3_bind_text(s, 25, st->json, r, SQLITE_STATIC);
	}
	if (rc != SQLITE_OK)
		return store_errno(st->db, sqlite3_errcode(st->db));
	return 0;
}

/*
 * store_stats_json - "ehlo=1 auth=0/1" -> {"ehlo":"1","auth":"0/1"} in
 * st->json; returns its length. A word without '=' becomes a key with "".
 * Postfix writes ASCII here; any other byte is written as \u00XX (its
 * Latin-1 reading, like event.c), so the text is always valid JSON.
 * Size: a word of k bytes (plus the blank before it) gives at most 6k + 6
 * bytes ("k":"v", with every byte escaped as \u00XX), so 6 * len + 16
 * covers every input.
 */
static int
store_stats_json(struct store *st, const char *raw)
{
	size_t len = strlen(raw), need = 6 * len + 16, n = 0;
	const char *p = raw, *end, *eq;
	char *o;

	if (need > st->json_size) {
		o = realloc(st->json, need);
		if (o == NULL)
			return -ENOMEM;
		st->json = o;
		st->json_size = need;
	}
	o = st->json;
	o[n++] = '{';
	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		end = p + strcspn(p, " \t");
		eq = memchr(p, '=', (size_t)(end - p));
		if (n > 1)
			o[n++] = ',';
		n = store_json_str(o, n, p, (size_t)((eq != NULL ? eq : end) - p));
		o[n++] = ':';
		if (eq != NULL)
			n = store_json_str(o, n, eq + 1, (size_t)(end - eq - 1));
		else
			n = store_json_str(o, n, end, 0);
		p = end;
	}
	o[n++] = '}';
	o[n] = '\0';
	return (int)n;
}

/* store_json_str - append s as a JSON string at o + n; returns the new length */
static size_t
store_json_str(char *o, size_t n, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	o[n++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			o[n++] = '\\';
			o[n++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			memcpy(o + n, "\\u00", 4);
			o[n + 4] = hex[c >> 4];
			o[n + 5] = hex[c & 0xf];
			n += 6;
		} else {
			o[n++] = (char)c;
		}
	}
	o[n++] = '"';
	return n;
}
