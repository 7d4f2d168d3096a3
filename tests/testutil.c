/*
 * NAME
 *	testutil - helpers for the Check unit tests
 * SYNOPSIS
 *	#include "testutil.h"
 * DESCRIPTION
 *	See testutil.h.
 */
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
