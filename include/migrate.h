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
 *	A new (empty, user_version 0) database gets sql/schema.sql and the
 *	latest version number; an older one gets every numbered migration above
 *	its version, each in its own transaction. A database newer than this
 *	binary is refused (-EPROTO) rather than written to. The SQL text is
 *	embedded at build time by tools/sql2c.sh (sql_embed.c).
 */
#ifndef MX_MIGRATE_H
#define MX_MIGRATE_H

#include <stddef.h>

#include <sqlite3.h>

struct mx_sql_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const char mx_sql_schema[];
extern const struct mx_sql_migration mx_sql_migrations[];
extern const size_t mx_sql_n_migrations;

int migrate_apply(sqlite3 *db);
int migrate_latest(void);
/* migrate_apply() with another schema and migration list (versions 1..n): for tests. */
int migrate_apply_set(sqlite3 *db, const char *schema, const struct mx_sql_migration *m,
    size_t n);

#endif
