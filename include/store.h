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
 *	sqlite3 *store_db(struct store *st);
 *	int store_errno(sqlite3 *db, int rc);
 * DESCRIPTION
 *	store_open() opens (creating with MX_STORE_CREATE, including missing
 *	parent directories) the database, sets WAL, synchronous=NORMAL and a
 *	busy timeout, applies sql/schema.sql + numbered migrations by PRAGMA
 *	user_version (migrate.c) and prepares every statement once.
 *	MX_STORE_RDONLY opens for reports (query_only, never migrates).
 *
 *	Writes happen only between store_begin() (BEGIN IMMEDIATE) and
 *	store_commit(). A caller adds the events read since the last commit and
 *	the positions of the inputs they came from in the SAME transaction, so
 *	after a crash at any moment the database holds every line up to the
 *	stored position exactly once and nothing after it.
 *
 *	A position is keyed by the identity of what was read: "file:<fp>" for a
 *	file (fp = fingerprint of its first line, so a renamed or gzip'ed copy
 *	is the same source) or "journal:<machine-id>" for the journal. Two
 *	writers (the daemon and a backfill) may share a database: each re-reads
 *	the position inside its transaction (store_position_get() after
 *	store_begin()) and skips what the other already stored.
 * RETURNS
 *	>= 0 on success, -errno on failure (-EIO for SQLite errors, -ENOSPC for
 *	a full disk, -EROFS/-EACCES for an unwritable database, -EBUSY when the
 *	lock could not be had within the busy timeout). store_position_get()
 *	returns 1 found, 0 not found.
 * OWNERSHIP
 *	store_free() closes and frees; store_free(NULL) is a no-op.
 * SEE ALSO
 *	sql/schema.sql, migrate.c, ingest.h
 */
#ifndef MX_STORE_H
#define MX_STORE_H

#include <stdint.h>

#include <sqlite3.h>

#include "event.h"

#define MX_STORE_CREATE	0x1
#define MX_STORE_RDONLY	0x2

/* Longest source key ("file:" + 16 hex + ":" + length) or journal cursor we keep. */
#define MX_POSITION_KEY_MAX	128
#define MX_POSITION_CURSOR_MAX	512

struct mx_position {
	char key[MX_POSITION_KEY_MAX];		/* "file:0123456789abcdef:87" / "journal:<machine-id>" */
	char path[4096];			/* last path it was read from (information only) */
	uint64_t offset;			/* bytes of the (decompressed) stream fully processed */
	uint64_t lines;				/* lines processed up to offset */
	char cursor[MX_POSITION_CURSOR_MAX];	/* journal cursor; "" for files */
};

struct store;

int store_open(const char *path, unsigned flags, struct store **ret);
struct store *store_free(struct store *st);
int store_begin(struct store *st);
int store_add_event(struct store *st, const struct mx_event *ev);
int store_position_get(struct store *st, const char *key, struct mx_position *ret);
int store_position_set(struct store *st, const struct mx_position *pos);
int store_commit(struct store *st);
int store_rollback(struct store *st);
int store_prune(struct store *st, int64_t before_usec, int64_t *ret_deleted);
/* Counters recorded as a side table (unrecognised lines per program, etc.). */
int store_count_add(struct store *st, const char *name, int64_t n);
sqlite3 *store_db(struct store *st);
/* Map a SQLite result code to -errno as described under RETURNS (used by migrate.c too). */
int store_errno(sqlite3 *db, int rc);

/* The default database path (compile-time localstatedir). */
const char *store_default_path(void);

#endif
