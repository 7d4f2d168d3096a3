/*
 * NAME
 *	history - stored events back into the policy, decisions into the database
 * SYNOPSIS
 *	#include "history.h"
 * DESCRIPTION
 *	See history.h. The replay is one SELECT over the events table in
 *	(ts, id) order restricted to the wanted kinds (the events_event_ts
 *	index serves the kind and time range); each row is turned back into
 *	a struct mx_event with event_setz(), every column but the smtpd
 *	command counters (stats), which no rule reads.
 *
 *	Decisions are inserted with a statement prepared once per call and
 *	finalised before returning: they come in batches, at most once per
 *	batch-interval, so the preparation does not matter next to the
 *	commit.
 * SEE ALSO
 *	history.h, policy.c (policy_rebuild()), run_policy.c (the decision
 *	batches), sql/migrations/0002_decisions.sql
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "event.h"
#include "history.h"
#include "store.h"

_Static_assert(MX_EVENT__MAX <= 64, "history_kind_bit() needs a kind per bit");

/* Column order of the replay's SELECT. */
enum {
	HISTORY_TS, HISTORY_EVENT, HISTORY_HOST, HISTORY_PROGRAM, HISTORY_DAEMON,
	HISTORY_LISTENER, HISTORY_PID, HISTORY_CLIENT_IP, HISTORY_CLIENT_PORT,
	HISTORY_CLIENT_NAME, HISTORY_SERVER_IP, HISTORY_SERVER_PORT, HISTORY_PROXIED,
	HISTORY_USER, HISTORY_METHOD, HISTORY_ATTEMPTS, HISTORY_QUEUE_ID, HISTORY_SENDER,
	HISTORY_RECIPIENT, HISTORY_HELO, HISTORY_STAGE, HISTORY_REPLY, HISTORY_REASON,
	HISTORY_SESSION,
};

static const char history_select[] =
    "SELECT ts, event, host, program, daemon, listener, pid, client_ip, client_port,"
    " client_name, server_ip, server_port, proxied, user, method, attempts, queue_id,"
    " sender, recipient, helo, stage, reply, reason, session"
    " FROM events WHERE ts >= ?1 AND ts < ?2";

static const char history_insert_sql[] =
    "INSERT INTO decisions (ts, rule, action, dry_run, error, request, protocol_state,"
    " client_address, client_name, helo_name, sasl_username, sender, recipient, instance,"
    " queue_id, server_port, policy_context, counters)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

/* history_sql - the replay's SELECT for a kind mask ("" = every kind) */
static char *
history_sql(uint64_t kinds)
{
	size_t size = sizeof(history_select) + 64, len;
	char *sql;
	int first = 1;

	for (int k = 1; k < MX_EVENT__MAX; k++)
		size += strlen(event_kind_name((enum mx_event_kind)k)) + 4;
	if ((sql = malloc(size)) == NULL)
		return NULL;
	len = (size_t)snprintf(sql, size, "%s", history_select);
	for (int k = 1; k < MX_EVENT__MAX && kinds != 0; k++) {
		if (!(kinds & history_kind_bit((enum mx_event_kind)k)))
			continue;
		len += (size_t)snprintf(sql + len, size - len, "%s'%s'",
		    first ? " AND event IN (" : ", ", event_kind_name((enum mx_event_kind)k));
		first = 0;
	}
	if (kinds != 0 && first)	/* no known kind wanted: nothing to read */
		len += (size_t)snprintf(sql + len, size - len, " AND 0");
	else if (kinds != 0)
		len += (size_t)snprintf(sql + len, size - len, ")");
	snprintf(sql + len, size - len, " ORDER BY ts, id");
	return sql;
}

/* history_text - one text column into the event's arena (NULL stays NULL) */
static void
history_text(struct mx_event *ev, const char **field, sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);

	*field = NULL;
	if (v != NULL)
		(void)event_setz(ev, field, v);	/* the arena holds any stored row */
}

/* history_int - an integer column, or `unset` for NULL */
static int64_t
history_int(sqlite3_stmt *s, int col, int64_t unset)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? unset : sqlite3_column_int64(s, col);
}

/* history_row - the current row as an event */
static void
history_row(sqlite3_stmt *s, struct mx_event *ev)
{
	const char *kind = (const char *)sqlite3_column_text(s, HISTORY_EVENT);

	event_reset(ev);
	ev->kind = event_kind_from_name(kind != NULL ? kind : "");
	ev->ts_usec = (int64_t)(sqlite3_column_double(s, HISTORY_TS) * 1e6 + 0.5);	/* ts > 0 */
	history_text(ev, &ev->host, s, HISTORY_HOST);
	history_text(ev, &ev->program, s, HISTORY_PROGRAM);
	history_text(ev, &ev->daemon, s, HISTORY_DAEMON);
	history_text(ev, &ev->listener, s, HISTORY_LISTENER);
	ev->pid = (long)history_int(s, HISTORY_PID, -1);
	history_text(ev, &ev->client_ip, s, HISTORY_CLIENT_IP);
	ev->client_port = (unsigned)history_int(s, HISTORY_CLIENT_PORT, 0);
	history_text(ev, &ev->client_name, s, HISTORY_CLIENT_NAME);
	history_text(ev, &ev->server_ip, s, HISTORY_SERVER_IP);
	ev->server_port = (unsigned)history_int(s, HISTORY_SERVER_PORT, 0);
	ev->proxied = (int)history_int(s, HISTORY_PROXIED, -1);
	history_text(ev, &ev->user, s, HISTORY_USER);
	history_text(ev, &ev->method, s, HISTORY_METHOD);
	ev->attempts = (int)history_int(s, HISTORY_ATTEMPTS, 0);
	history_text(ev, &ev->queue_id, s, HISTORY_QUEUE_ID);
	history_text(ev, &ev->sender, s, HISTORY_SENDER);
	history_text(ev, &ev->recipient, s, HISTORY_RECIPIENT);
	history_text(ev, &ev->helo, s, HISTORY_HELO);
	history_text(ev, &ev->stage, s, HISTORY_STAGE);
	history_text(ev, &ev->reply, s, HISTORY_REPLY);
	history_text(ev, &ev->reason, s, HISTORY_REASON);
	history_text(ev, &ev->session, s, HISTORY_SESSION);
}

int
history_replay(struct store *st, int64_t since_usec, int64_t until_usec, uint64_t kinds,
    history_event_fn fn, void *ud)
{
	sqlite3 *db = store_db(st);
	struct mx_event *ev = NULL;
	sqlite3_stmt *s = NULL;
	char *sql;
	int rc, r = 0, n = 0;

	if ((sql = history_sql(kinds)) == NULL || (ev = malloc(sizeof(*ev))) == NULL) {
		free(sql);
		return -ENOMEM;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		free(ev);
		return store_errno(db, rc);
	}
	sqlite3_bind_double(s, 1, (double)since_usec / 1e6);
	sqlite3_bind_double(s, 2, until_usec == INT64_MAX ? INFINITY : (double)until_usec / 1e6);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		history_row(s, ev);
		if ((r = fn(ud, ev)) < 0)
			break;
		n++;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = store_errno(db, rc);
	sqlite3_finalize(s);
	free(ev);
	return r < 0 ? r : n;
}

/* history_bind_text - a string, NULL when empty */
static int
history_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL || *v == '\0')
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* history_insert_one - bind and run the prepared insert for one record */
static int
history_insert_one(sqlite3 *db, sqlite3_stmt *s, const struct policy_record *rec)
{
	int rc = SQLITE_OK;

	sqlite3_reset(s);
	rc |= sqlite3_bind_double(s, 1, (double)rec->ts_usec / 1e6);
	rc |= history_bind_text(s, 2, rec->rule);
	rc |= sqlite3_bind_text(s, 3, rec->action, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(s, 4, rec->dry_run != 0);
	rc |= rec->error != 0 ? sqlite3_bind_text(s, 5, strerror(-rec->error), -1,
	    SQLITE_TRANSIENT) : sqlite3_bind_null(s, 5);
	rc |= history_bind_text(s, 6, rec->request);
	rc |= history_bind_text(s, 7, rec->protocol_state);
	rc |= history_bind_text(s, 8, rec->client_address);
	rc |= history_bind_text(s, 9, rec->client_name);
	rc |= history_bind_text(s, 10, rec->helo_name);
	rc |= history_bind_text(s, 11, rec->sasl_username);
	rc |= history_bind_text(s, 12, rec->sender);
	rc |= history_bind_text(s, 13, rec->recipient);
	rc |= history_bind_text(s, 14, rec->instance);
	rc |= history_bind_text(s, 15, rec->queue_id);
	rc |= rec->server_port != 0 ? sqlite3_bind_int(s, 16, (int)rec->server_port) :
	    sqlite3_bind_null(s, 16);
	rc |= history_bind_text(s, 17, rec->policy_context);
	rc |= sqlite3_bind_text(s, 18, rec->counters[0] != '\0' ? rec->counters : "[]", -1,
	    SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return store_errno(db, sqlite3_errcode(db));
	rc = sqlite3_step(s);
	return rc == SQLITE_DONE ? 0 : store_errno(db, rc);
}

/* history_insert - prepare once, insert n records */
static int
history_insert(struct store *st, const struct policy_record *const *recs, size_t n)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db, history_insert_sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_errno(db, rc);
	for (size_t i = 0; i < n && r == 0; i++)
		r = history_insert_one(db, s, recs[i]);
	sqlite3_finalize(s);
	return r;
}

int
history_add_decision(struct store *st, const struct policy_record *rec)
{
	return history_insert(st, &rec, 1);
}

int
history_store_decisions(struct store *st, const struct policy_record *const *recs, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = store_begin(st)) < 0)
		return r;
	if ((r = history_insert(st, recs, n)) < 0 || (r = store_commit(st)) < 0) {
		(void)store_rollback(st);
		return r;
	}
	return 0;
}

int
history_prune_decisions(struct store *st, int64_t before_usec, int64_t *ret_deleted)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s;
	int rc, r;

	if ((r = store_begin(st)) < 0)
		return r;
	rc = sqlite3_prepare_v2(db, "DELETE FROM decisions WHERE ts < ?1", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_double(s, 1, (double)before_usec / 1e6);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK) {
		r = store_errno(db, rc);
		(void)store_rollback(st);
		return r;
	}
	*ret_deleted = sqlite3_changes(db);
	if ((r = store_commit(st)) < 0) {
		(void)store_rollback(st);
		return r;
	}
	return 0;
}
