/*
 * NAME
 *	migrate - bring a database to the current schema by PRAGMA user_version
 * SYNOPSIS
 *	#include "migrate.h"
 *
 *	int migrate_apply(sqlite3 *db);
 *	int migrate_latest(void);
 *	int migrate_apply_set(sqlite3 *db, const char *schema,
 *	    const struct mx_sql_migration *m, size_t n);
 * DESCRIPTION
 *	migrate_apply() looks at PRAGMA user_version:
 *	  - 0 and no tables, views or indexes: a new database. It gets
 *	    sql/schema.sql (mx_sql_schema) and user_version = migrate_latest(),
 *	    in one transaction.
 *	  - 0 with objects in it: somebody else's database; refused with
 *	    -EPROTO rather than written into.
 *	  - between 1 and latest - 1: every numbered migration above it is
 *	    applied in order, each with its user_version in its own
 *	    transaction, so an interrupted upgrade resumes where it stopped.
 *	  - latest: nothing to do.
 *	  - above latest: written by a newer mxledger; refused with -EPROTO.
 *	Each step takes the write lock (BEGIN IMMEDIATE) and reads
 *	user_version again under it, so two processes opening the same new
 *	database at once apply the schema once.
 *
 *	migrate_latest() is the version of the newest embedded migration
 *	(tools/sql2c.sh guarantees they are numbered 1..n without gaps).
 *	migrate_apply_set() does the same with a schema and migrations given
 *	by the caller, so tests can exercise upgrades the embedded set does
 *	not have yet.
 * RETURNS
 *	migrate_apply(): the number of steps applied (0 when up to date), or
 *	-errno: -EPROTO as above, else store_errno() of the SQLite failure
 *	(whose message goes to the debug log; the caller logs the failure).
 * SEE ALSO
 *	sql/schema.sql, sql/migrations/, tools/sql2c.sh, store.c
 */
#include <errno.h>
#include <stdio.h>

#include <sqlite3.h>

#include "log.h"
#include "migrate.h"
#include "store.h"

struct migrate_set {
	const char *schema;
	const struct mx_sql_migration *m;
	size_t n;
	int latest;
};

static int migrate_exec(sqlite3 *db, const char *sql);
static int migrate_int(sqlite3 *db, const char *sql, int *ret);
static int migrate_step(sqlite3 *db, const struct migrate_set *set, int *ret_done);
static const char *migrate_find(const struct migrate_set *set, int version);

/* migrate_latest - the schema version this binary writes */
int
migrate_latest(void)
{
	if (mx_sql_n_migrations == 0)
		return 0;
	return mx_sql_migrations[mx_sql_n_migrations - 1].version;
}

/* migrate_apply - bring db to migrate_latest(), one transaction per step */
int
migrate_apply(sqlite3 *db)
{
	return migrate_apply_set(db, mx_sql_schema, mx_sql_migrations, mx_sql_n_migrations);
}

/* migrate_apply_set - migrate_apply() with the caller's schema and migrations */
int
migrate_apply_set(sqlite3 *db, const char *schema, const struct mx_sql_migration *m, size_t n)
{
	const struct migrate_set set = { schema, m, n, n > 0 ? m[n - 1].version : 0 };
	int version, done, r;
	int applied = 0;

	r = migrate_int(db, "PRAGMA user_version", &version);
	if (r < 0)
		return r;
	if (version > set.latest)
		return -EPROTO;
	if (version == set.latest)
		return 0;	/* the usual case: no write lock needed */
	/* Every step raises user_version by at least one: latest + 1 steps at most. */
	for (int i = 0; i <= set.latest; i++) {
		r = migrate_step(db, &set, &done);
		if (r < 0)
			return r;
		if (done)
			return applied;
		applied++;
	}
	return -EPROTO;
}

/*
 * migrate_step - one transaction: schema for a new database, or the next
 * migration; *ret_done = 1 when the database already was at latest.
 */
static int
migrate_step(sqlite3 *db, const struct migrate_set *set, int *ret_done)
{
	int latest = set->latest;
	int version, objects, r;
	const char *sql;
	char pragma[64];

	r = migrate_exec(db, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = migrate_int(db, "PRAGMA user_version", &version);
	if (r < 0)
		goto fail;
	if (version >= latest) {
		(void)migrate_exec(db, "ROLLBACK");
		if (version > latest)
			return -EPROTO;
		*ret_done = 1;
		return 0;
	}
	if (version == 0) {
		r = migrate_int(db, "SELECT count(*) FROM sqlite_master", &objects);
		if (r < 0)
			goto fail;
		if (objects > 0) {
			log_debug("migrate: database has tables but no user_version; not ours");
			r = -EPROTO;
			goto fail;
		}
		sql = set->schema;
		version = latest;
	} else {
		version++;
		sql = migrate_find(set, version);
		if (sql == NULL) {
			r = -EPROTO;
			goto fail;
		}
	}
	r = migrate_exec(db, sql);
	if (r < 0)
		goto fail;
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
	r = migrate_exec(db, pragma);
	if (r < 0)
		goto fail;
	r = migrate_exec(db, "COMMIT");
	if (r < 0)
		goto fail;
	log_debug("migrate: database now at schema version %d", version);
	*ret_done = 0;
	return 0;
fail:
	if (!sqlite3_get_autocommit(db))
		(void)migrate_exec(db, "ROLLBACK");
	return r;
}

/* migrate_find - the SQL of migration `version`, NULL if the set lacks it */
static const char *
migrate_find(const struct migrate_set *set, int version)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->m[i].version == version)
			return set->m[i].sql;
	return NULL;
}

/* migrate_exec - run SQL text (several statements allowed) */
static int
migrate_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	log_debug("migrate: %s", msg != NULL ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return store_errno(db, rc);
}

/* migrate_int - the integer in the first column of the first row of sql */
static int
migrate_int(sqlite3 *db, const char *sql, int *ret)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			*ret = sqlite3_column_int(stmt, 0);
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK) {
		log_debug("migrate: %s: %s", sql, sqlite3_errmsg(db));
		rc = store_errno(db, rc);
	}
	sqlite3_finalize(stmt);
	return rc;
}
