/*
 * NAME
 *	testutil - helpers for the Check unit tests
 * SYNOPSIS
 *	#include "testutil.h"
 *
 *	struct mx_record tst_record(const char *program, const char *msg);
 *	int tst_parse(const char *program, const char *msg, struct mx_event *ev);
 *	int tst_parse_line(const char *line, struct mx_event *ev);
 *	const char *tst_tmpdir(void);
 *	void tst_event_is(const struct mx_event *ev, const struct tst_want *w,
 *	    const char *name);
 *	int tst_run_suite(Suite *s);
 *	#define N(a)	number of elements of array a
 * DESCRIPTION
 *	tst_record() builds a record as envelope.c would, with program_split()
 *	done (host "mail", pid 4711, ts 2026-11-22T01:02:03Z). Its strings live
 *	in static storage until the next call. tst_parse() runs the whole
 *	dispatch (program_parse() with the default proxy configuration) and
 *	returns its result; tst_parse_line() starts from a raw log line
 *	(envelope auto-detection, reference time 2026-11-22T12:00:00Z).
 *	tst_tmpdir() makes a fresh directory under $top_builddir (or /tmp) and
 *	returns its path; it is removed at exit. tst_run_suite() runs a
 *	suite (and frees it) and gives main()'s exit status: EXIT_SUCCESS
 *	when no test failed.
 */
#ifndef MX_TESTUTIL_H
#define MX_TESTUTIL_H

#include <check.h>

#include "event.h"
#include "parser.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define TST_TS	1795309323000000LL	/* 2026-11-22T01:02:03Z */

struct mx_record tst_record(const char *program, const char *msg);
int tst_parse(const char *program, const char *msg, struct mx_event *ev);
int tst_parse_line(const char *line, struct mx_event *ev);
const char *tst_tmpdir(void);
int tst_run_suite(Suite *s);
/* a static event (they are large: keep them off the stack) */
struct mx_event *tst_event(void);

/*
 * Every field a parser test compares: a string left NULL and a port left 0
 * must be unset in the event, so a case says what the line gives and
 * tst_event_is() also proves that nothing else was set.
 */
struct tst_want {
	enum mx_event_kind kind;
	const char *daemon, *listener;
	const char *client_ip, *client_name, *server_ip;
	unsigned client_port, server_port;
	const char *user, *method, *queue_id, *stage, *reply, *reason;
	const char *sender, *recipient, *helo, *stats;
};

void tst_event_is(const struct mx_event *ev, const struct tst_want *w, const char *name);

/* compare an optional string field: want NULL means "must be unset" */
#define tst_str_eq(got, want, name) do {						\
	const char *g_ = (got), *w_ = (want);						\
	if (w_ == NULL)									\
		ck_assert_msg(g_ == NULL, "%s: %s: want unset, got \"%s\"",		\
		    (name), #got, g_ == NULL ? "" : g_);				\
	else										\
		ck_assert_msg(g_ != NULL && strcmp(g_, w_) == 0,			\
		    "%s: %s: want \"%s\", got \"%s\"", (name), #got, w_,		\
		    g_ == NULL ? "(unset)" : g_);					\
} while (0)

#endif
