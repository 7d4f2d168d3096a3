/*
 * NAME
 *	run_input - the inputs of `mxledger run`: files and journals into ingest
 * SYNOPSIS
 *	#include "run.h"
 *
 *	int run_inputs_sync(struct run *run, const struct mx_config *cfg,
 *	    size_t *ret_kept, size_t *ret_added, size_t *ret_removed);
 *	void run_inputs_free(struct run *run);
 *	void run_inputs_pause(struct run *run, int paused);
 *	void run_inputs_rewind(struct run *run);
 * DESCRIPTION
 *	One struct run_input per configured input: a tail.c follower for a
 *	file, a journal.c reader for a journal, and the ingest_source that
 *	carries its identity and positions. Their callbacks look up stored
 *	positions and hand lines and entries to ingest.c; after each one
 *	run_after_ingest() (cmd_run.c) decides about committing.
 *
 *	Where a file starts: at its stored position; else, for the first file
 *	of an input with start-at end, after its last complete line
 *	(MX_TAIL_END); else (start-at beginning, or a file that appeared by
 *	rotation) at 0. Before a rotated-to file is taken up, what was read of
 *	the previous one is committed under the previous file's key. Positions
 *	of a file input carry the configured path, so that after a restart
 *	the last one written names the file that was being read, and tail.c
 *	can finish it under its rotated name (ops->previous()).
 *
 *	Where a journal starts: after its stored cursor; else at its end or its
 *	beginning (start-at), see journal.h.
 *
 *	For the metrics, the lines ingest.c counts (read, unrecognised) while
 *	one input's line is being ingested are that input's (run_input_enter()
 *	and run_input_leave() around each call, which also point run->reading
 *	at it); run_metrics_inputs() publishes them.
 * SEE ALSO
 *	run.h, cmd_run.c, tail.h, journal.h, ingest.h
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "ingest.h"
#include "journal.h"
#include "log.h"
#include "run.h"
#include "store.h"
#include "tail.h"

static int run_tail_identity(void *ud, struct tail *t, const char *key, const char *path,
    int initial, uint64_t *ret_offset);
static int run_tail_line(void *ud, struct tail *t, char *line, size_t len, uint64_t end_offset);
static void run_tail_oversized(void *ud, struct tail *t, uint64_t end_offset);
static void run_tail_notice(void *ud, struct tail *t, const char *what);
static int run_tail_previous(void *ud, struct tail *t, char *ret_key, size_t size);
static int run_journal_position(void *ud, struct journal_input *j, const char *key,
    char *ret_cursor, size_t size);
static int run_journal_entry(void *ud, struct journal_input *j,
    const struct mx_journal_fields *f, const char *cursor);

static void run_input_pause(struct run_input *in, int paused);

/* ingest.c's line counts when an input's line went in (run_input_enter()) */
struct run_input_mark {
	uint64_t lines, unrecognised;
};

static const struct tail_ops run_tail_ops = {
	.identity = run_tail_identity,
	.line = run_tail_line,
	.oversized = run_tail_oversized,
	.notice = run_tail_notice,
	.previous = run_tail_previous,
};

static const struct journal_ops run_journal_ops = {
	.position = run_journal_position,
	.entry = run_journal_entry,
};

/* run_conf_copy - deep copy of the parts of an input an input object needs */
static int
run_conf_copy(struct mx_input_conf *dst, const struct mx_input_conf *src)
{
	size_t n = 0;

	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	dst->envelope = src->envelope;
	dst->start_at = src->start_at;
	dst->line = src->line;
	if (src->path != NULL && (dst->path = strdup(src->path)) == NULL)
		return -ENOMEM;
	if (src->file != NULL && (dst->file = strdup(src->file)) == NULL)
		return -ENOMEM;
	if (src->matches == NULL)
		return 0;
	while (src->matches[n] != NULL)
		n++;
	dst->matches = calloc(n + 1, sizeof(char *));
	if (dst->matches == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((dst->matches[i] = strdup(src->matches[i])) == NULL)
			return -ENOMEM;
	return 0;
}

static void
run_conf_done(struct mx_input_conf *c)
{
	if (c->matches != NULL)
		for (char **m = c->matches; *m != NULL; m++)
			free(*m);
	free(c->matches);
	free(c->path);
	free(c->file);
	memset(c, 0, sizeof(*c));
}

static int
run_str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* run_conf_equal - same input (a reload keeps it running) */
static int
run_conf_equal(const struct mx_input_conf *a, const struct mx_input_conf *b)
{
	size_t i;

	if (a->type != b->type || a->envelope != b->envelope || a->start_at != b->start_at ||
	    !run_str_eq(a->path, b->path))
		return 0;
	if (a->matches == NULL || b->matches == NULL)
		return a->matches == b->matches;
	for (i = 0; a->matches[i] != NULL && b->matches[i] != NULL; i++)
		if (strcmp(a->matches[i], b->matches[i]) != 0)
			return 0;
	return a->matches[i] == b->matches[i];
}



static struct run_input *
run_input_free(struct run_input *in)
{
	if (in == NULL)
		return NULL;
	in->tail = tail_free(in->tail);
	in->journal = journal_input_free(in->journal);
	ingest_source_done(&in->src);
	run_conf_done(&in->conf);
	free(in);
	return NULL;
}

/* run_input_new - open one input; errors are logged here (with where it was declared) */
static int
run_input_new(struct run *run, const struct mx_input_conf *ic, struct run_input **ret)
{
	struct run_input *in;
	int r;

	in = calloc(1, sizeof(*in));
	if (in == NULL)
		return -ENOMEM;
	in->run = run;
	if (ic->type == MX_INPUT_FILE)
		snprintf(in->name, sizeof(in->name), "%s", ic->path != NULL ? ic->path : "?");
	else if (ic->path != NULL)
		snprintf(in->name, sizeof(in->name), "journal %s", ic->path);
	else
		snprintf(in->name, sizeof(in->name), "the system journal");
	ingest_source_init(&in->src, ic->path != NULL ? ic->path : "journal",
	    ic->type == MX_INPUT_FILE ? ic->envelope : MX_ENVELOPE_AUTO, clock_now_usec());
	r = run_conf_copy(&in->conf, ic);
	if (r < 0) {
		run_input_free(in);
		return r;
	}
	if (ic->type == MX_INPUT_JOURNAL)
		r = journal_input_new(run->event, &in->conf, &run_journal_ops, in, &in->journal);
	else if (ic->path == NULL)
		r = -EINVAL;
	else
		r = tail_new(run->event, in->conf.path, &run_tail_ops, in, &in->tail);
	if (r < 0) {
		if (ic->file != NULL && ic->line > 0)
			log_err("input: %s:%u: cannot follow %s: %s", ic->file, ic->line,
			    in->name, strerror(-r));
		else
			log_err("input: cannot follow %s: %s", in->name, strerror(-r));
		run_input_free(in);
		return r;
	}
	if (run->paused)
		run_input_pause(in, 1);
	log_info("input: following %s", in->name);
	*ret = in;
	return 0;
}

/* run_input_pause - stop or resume reading one input */
static void
run_input_pause(struct run_input *in, int paused)
{
	int r = 0;

	if (in->tail != NULL)
		r = tail_pause(in->tail, paused);
	else if (in->journal != NULL)
		r = journal_input_pause(in->journal, paused);
	if (r < 0)
		log_warning("input: %s: cannot %s: %s", in->name,
		    paused ? "pause" : "resume", strerror(-r));
}

/* run_input_rewind - go back to the committed position (after ingest_rewind()) */
static void
run_input_rewind(struct run_input *in)
{
	int r = 0;

	if (in->tail != NULL && in->src.key[0] != '\0')
		r = tail_rewind(in->tail, in->src.committed_offset);
	else if (in->journal != NULL)
		r = journal_input_rewind(in->journal, in->src.committed_cursor);
	if (r < 0)
		log_warning("input: %s: cannot go back to the committed position: %s",
		    in->name, strerror(-r));
}

/* run_inputs_sync - make the running inputs those of cfg: keep equal ones, open new ones */
int
run_inputs_sync(struct run *run, const struct mx_config *cfg, size_t *ret_kept,
    size_t *ret_added, size_t *ret_removed)
{
	const struct mx_input_conf *want = cfg->inputs;
	struct run_input **next, *in;
	size_t n_want = cfg->n_inputs, n = 0, kept = 0, added = 0, removed = 0;

	next = calloc(n_want + 1, sizeof(*next));
	if (next == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n_want; i++) {
		in = NULL;
		for (size_t k = 0; k < run->n_inputs && in == NULL; k++)
			if (run->inputs[k] != NULL && run_conf_equal(&run->inputs[k]->conf, &want[i])) {
				in = run->inputs[k];
				run->inputs[k] = NULL;
				kept++;
			}
		if (in == NULL && run_input_new(run, &want[i], &in) == 0)
			added++;
		if (in != NULL)
			next[n++] = in;
	}
	for (size_t k = 0; k < run->n_inputs; k++)
		if (run->inputs[k] != NULL) {
			log_info("input: no longer following %s", run->inputs[k]->name);
			run_input_free(run->inputs[k]);
			removed++;
		}
	free(run->inputs);
	run->inputs = next;
	run->n_inputs = n;
	if (ret_kept != NULL) {
		*ret_kept = kept;
		*ret_added = added;
		*ret_removed = removed;
	}
	return 0;
}

/* run_inputs_free - close every input */
void
run_inputs_free(struct run *run)
{
	for (size_t i = 0; i < run->n_inputs; i++)
		run_input_free(run->inputs[i]);
	free(run->inputs);
	run->inputs = NULL;
	run->n_inputs = 0;
}

/* run_inputs_pause - stop (1) or resume (0) reading every input */
void
run_inputs_pause(struct run *run, int paused)
{
	run->paused = paused != 0;
	for (size_t i = 0; i < run->n_inputs; i++)
		run_input_pause(run->inputs[i], paused);
}

/* run_inputs_rewind - every input back to its committed position (after ingest_rewind()) */
void
run_inputs_rewind(struct run *run)
{
	for (size_t i = 0; i < run->n_inputs; i++)
		run_input_rewind(run->inputs[i]);
}

/*
 * run_end_offset - where MX_TAIL_END makes tail.c start: after the last
 * newline of the file (looking back at most one line of MX_LINE_MAX). Taken
 * as the committed position of a file started at its end, so that a rewind
 * before the first commit does not go back to the file's beginning.
 */
static uint64_t
run_end_offset(const char *path)
{
	char buf[16 * 1024], *nl;
	uint64_t hi, lo;
	struct stat sb;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return 0;
	}
	hi = (uint64_t)sb.st_size;
	lo = hi > MX_LINE_MAX + 2 ? hi - (MX_LINE_MAX + 2) : 0;
	while (hi > lo) {
		size_t want = hi - lo < sizeof(buf) ? (size_t)(hi - lo) : sizeof(buf);

		n = pread(fd, buf, want, (off_t)(hi - want));
		if (n != (ssize_t)want)
			break;
		nl = memrchr(buf, '\n', want);
		if (nl != NULL) {
			hi = hi - want + (uint64_t)(nl - buf) + 1;
			close(fd);
			return hi;
		}
		hi -= want;
	}
	close(fd);
	return (uint64_t)sb.st_size;
}

/*
 * run_tail_identity - a file was opened: where to start reading it
 *
 * A stored position wins. Otherwise the first file of an input that starts
 * at its end is read from there; any other new file is read from 0. Before
 * a rotated-to file is taken up, what was read of the previous one is
 * committed under the previous file's key; if that fails, the switch is
 * refused (tail.c keeps the previous file and asks again), the commit code
 * rewinds and pauses, and nothing of the previous file is lost.
 */
static int
run_tail_identity(void *ud, struct tail *t, const char *key, const char *path, int initial,
    uint64_t *ret_offset)
{
	struct run_input *in = ud;
	struct run *run = in->run;
	struct mx_position pos;
	int r;

	if (in->src.dirty && strcmp(in->src.key, key) != 0 && (r = run_commit(run)) < 0)
		return run_after_ingest(run, r);
	r = store_position_get(run->st, key, &pos);
	if (r < 0) {
		log_err("store: cannot read the position of %s: %s", path, strerror(-r));
		return run_after_ingest(run, r);
	}
	if (r > 0) {
		ingest_source_set_key(&in->src, key, pos.offset, pos.lines);
		*ret_offset = pos.offset;
		log_info("input: %s: continuing at offset %" PRIu64 " (line %" PRIu64 ")", path,
		    pos.offset, pos.lines);
	} else if (initial && in->conf.start_at == MX_START_END) {
		ingest_source_set_key(&in->src, key, run_end_offset(path), 0);
		*ret_offset = MX_TAIL_END;
		log_info("input: %s: new, starting at its end", path);
	} else {
		ingest_source_set_key(&in->src, key, 0, 0);
		*ret_offset = 0;
		log_info("input: %s: new, starting at its beginning", path);
	}
	return 0;
}

/*
 * run_tail_previous - the file identity last stored for this input
 *
 * Positions of an input carry its configured path (ingest_source.path), so
 * the most recently written one names the file being read when the daemon
 * stopped; tail.c looks for it among the rotated siblings. Ties in
 * `updated` (a frozen test clock) go to the key stored first most recently.
 */
static int
run_tail_previous(void *ud, struct tail *t, char *ret_key, size_t size)
{
	static const char sql[] = "SELECT key FROM positions WHERE path = ?1 AND key LIKE 'file:%'"
				  " ORDER BY updated DESC, rowid DESC LIMIT 1";
	struct run_input *in = ud;
	sqlite3 *db = store_db(in->run->st);
	sqlite3_stmt *s;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_errno(db, rc);
	sqlite3_bind_text(s, 1, in->conf.path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(ret_key, size, "%s", (const char *)sqlite3_column_text(s, 0));
		r = 1;
	} else if (rc != SQLITE_DONE)
		r = store_errno(db, rc);
	sqlite3_finalize(s);
	return r;
}

/* run_input_enter - in's line goes to ingest now: note ingest's counts */
static void
run_input_enter(struct run_input *in, struct run_input_mark *mark)
{
	const struct ingest_stats *s = ingest_get_stats(in->run->ig);

	mark->lines = s->lines;
	mark->unrecognised = s->unrecognised;
	in->run->reading = in;
}

/* run_input_leave - what ingest counted since run_input_enter() was in's */
static void
run_input_leave(struct run_input *in, const struct run_input_mark *mark)
{
	const struct ingest_stats *s = ingest_get_stats(in->run->ig);

	in->m_lines += s->lines - mark->lines;
	in->m_unrecognised += s->unrecognised - mark->unrecognised;
	in->run->reading = NULL;
}

static int
run_tail_line(void *ud, struct tail *t, char *line, size_t len, uint64_t end_offset)
{
	struct run_input *in = ud;
	struct run_input_mark mark;
	int r;

	run_input_enter(in, &mark);
	r = ingest_line(in->run->ig, &in->src, line, len, end_offset);
	run_input_leave(in, &mark);
	return run_after_ingest(in->run, r);
}

static void
run_tail_oversized(void *ud, struct tail *t, uint64_t end_offset)
{
	struct run_input *in = ud;
	struct run_input_mark mark;

	log_debug("input: %s: line longer than %u bytes ending at offset %" PRIu64 ", skipped",
	    tail_path(t), (unsigned)MX_LINE_MAX, end_offset);
	run_input_enter(in, &mark);
	ingest_oversized(in->run->ig, &in->src, end_offset);
	run_input_leave(in, &mark);
	(void)run_after_ingest(in->run, 0);
}

static void
run_tail_notice(void *ud, struct tail *t, const char *what)
{
	log_info("input: %s: %s", tail_path(t), what);
}

/* run_journal_position - the stored cursor of a journal (its key is now known) */
static int
run_journal_position(void *ud, struct journal_input *j, const char *key, char *ret_cursor,
    size_t size)
{
	struct run_input *in = ud;
	struct mx_position pos;
	int r;

	r = store_position_get(in->run->st, key, &pos);
	if (r < 0)
		return r;
	if (r == 0)
		pos.cursor[0] = '\0';
	ingest_source_set_key(&in->src, key, 0, r > 0 ? pos.lines : 0);
	snprintf(in->src.cursor, sizeof(in->src.cursor), "%s", pos.cursor);
	snprintf(in->src.committed_cursor, sizeof(in->src.committed_cursor), "%s", pos.cursor);
	snprintf(ret_cursor, size, "%s", pos.cursor);
	if (r > 0)
		log_info("input: %s: continuing after entry %" PRIu64, key, pos.lines);
	else
		log_info("input: %s: new, starting at its %s", key,
		    in->conf.start_at == MX_START_BEGINNING ? "beginning" : "end");
	return 0;
}

static int
run_journal_entry(void *ud, struct journal_input *j, const struct mx_journal_fields *f,
    const char *cursor)
{
	struct run_input *in = ud;
	struct run_input_mark mark;
	int r;

	if (f->message == NULL)
		log_debug("input: %s: message of %zu bytes is longer than %u, skipped",
		    journal_input_key(j), f->message_len, (unsigned)MX_LINE_MAX);
	run_input_enter(in, &mark);
	r = ingest_journal(in->run->ig, &in->src, f, cursor);
	run_input_leave(in, &mark);
	return run_after_ingest(in->run, r);
}
