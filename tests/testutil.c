/*
 * NAME
 *	testutil - helpers for the Check unit tests
 * SYNOPSIS
 *	#include "testutil.h"
 * DESCRIPTION
 *	See testutil.h.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "program.h"
#include "testutil.h"

static char tst_prog[256];
static char tst_split[256];
static char tst_msg[MX_LINE_MAX + 1];
static char tst_line[MX_LINE_MAX + 1];
static struct mx_event tst_ev;
static char tst_dir[PATH_MAX];

struct mx_record
tst_record(const char *program, const char *msg)
{
	struct mx_record rec;

	memset(&rec, 0, sizeof(rec));
	snprintf(tst_prog, sizeof(tst_prog), "%s", program);
	snprintf(tst_msg, sizeof(tst_msg), "%s", msg);
	rec.ts_usec = TST_TS;
	rec.host = "mail";
	rec.program = tst_prog;
	rec.pid = 4711;
	rec.msg = tst_msg;
	rec.msg_len = strlen(tst_msg);
	program_split(&rec, tst_split, sizeof(tst_split));
	return rec;
}

int
tst_parse(const char *program, const char *msg, struct mx_event *ev)
{
	struct mx_record rec = tst_record(program, msg);

	return program_parse(NULL, &rec, ev);
}

int
tst_parse_line(const char *line, struct mx_event *ev)
{
	struct envelope_ctx ctx;
	struct mx_record rec;
	size_t len;
	int r;

	len = strlen(line);
	if (len > MX_LINE_MAX)
		return -1;
	memcpy(tst_line, line, len + 1);
	envelope_init(&ctx, MX_ENVELOPE_AUTO, 1795348800000000LL);
	r = envelope_parse(&ctx, tst_line, len, &rec);
	if (r > 0) {
		program_split(&rec, tst_split, sizeof(tst_split));
		r = program_parse(NULL, &rec, ev);
	}
	envelope_done(&ctx);
	return r;
}

struct mx_event *
tst_event(void)
{
	return &tst_ev;
}

/* tst_event_is - ev has exactly the fields of w (case name in messages) */
void
tst_event_is(const struct mx_event *ev, const struct tst_want *w, const char *name)
{
	ck_assert_msg(ev->kind == w->kind, "%s: kind %s, want %s", name,
	    event_kind_name(ev->kind), event_kind_name(w->kind));
	tst_str_eq(ev->daemon, w->daemon, name);
	tst_str_eq(ev->listener, w->listener, name);
	tst_str_eq(ev->client_ip, w->client_ip, name);
	ck_assert_msg(ev->client_port == w->client_port, "%s: client_port %u, want %u", name,
	    ev->client_port, w->client_port);
	tst_str_eq(ev->client_name, w->client_name, name);
	tst_str_eq(ev->server_ip, w->server_ip, name);
	ck_assert_msg(ev->server_port == w->server_port, "%s: server_port %u, want %u", name,
	    ev->server_port, w->server_port);
	tst_str_eq(ev->user, w->user, name);
	tst_str_eq(ev->method, w->method, name);
	tst_str_eq(ev->queue_id, w->queue_id, name);
	tst_str_eq(ev->stage, w->stage, name);
	tst_str_eq(ev->reply, w->reply, name);
	tst_str_eq(ev->reason, w->reason, name);
	tst_str_eq(ev->sender, w->sender, name);
	tst_str_eq(ev->recipient, w->recipient, name);
	tst_str_eq(ev->helo, w->helo, name);
	tst_str_eq(ev->stats, w->stats, name);
}

static void
tst_cleanup(void)
{
	char cmd[PATH_MAX + 16];

	if (tst_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tst_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "testutil: could not remove %s\n", tst_dir);
}

const char *
tst_tmpdir(void)
{
	const char *base = getenv("top_builddir");

	if (tst_dir[0] != '\0')
		return tst_dir;
	snprintf(tst_dir, sizeof(tst_dir), "%s/tests/tmp.XXXXXX",
	    base != NULL ? base : ".");
	if (mkdtemp(tst_dir) == NULL) {
		snprintf(tst_dir, sizeof(tst_dir), "/tmp/mxledger-test.XXXXXX");
		if (mkdtemp(tst_dir) == NULL) {
			perror("mkdtemp");
			exit(99);
		}
	}
	atexit(tst_cleanup);
	return tst_dir;
}

/* tst_run_suite - run every test of s (freed); main()'s exit status */
int
tst_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
