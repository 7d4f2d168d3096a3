/*
 * NAME
 *	ingest - the pipeline core shared by run, ingest and parse
 * SYNOPSIS
 *	#include "ingest.h"
 * DESCRIPTION
 *	See ingest.h. One struct mx_event is reused for every line (it is
 *	large: the arena holds any line's fields), so the hot path does not
 *	allocate. Per-program counters live in a small open-addressing hash
 *	keyed by the syslog tag, bounded by MX_STATS_PROGRAMS.
 *
 *	Sources touched in the open transaction are kept on a list: each one's
 *	stored position is read once per transaction (to skip what another
 *	run or writer already stored) and written back at the commit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "ingest.h"
#include "program.h"

#define INGEST_HASH	512	/* slots; > 2 * MX_STATS_PROGRAMS */

struct ingest {
	const struct mx_config *cfg;
	struct store *st;
	ingest_emit_fn emit;
	void *ud;
	int in_txn;
	unsigned pending;			/* events added to the open transaction */
	struct ingest_source *touched;		/* sources checked in the open transaction */
	struct ingest_stats stats;
	short hash[INGEST_HASH];		/* index+1 into stats.programs, 0 = empty */
	char split[512];
	struct mx_event ev;
};

int
ingest_new(const struct mx_config *cfg, struct store *st, ingest_emit_fn emit, void *ud,
    struct ingest **ret)
{
	struct ingest *ig;

	ig = calloc(1, sizeof(*ig));
	if (ig == NULL)
		return -ENOMEM;
	ig->cfg = cfg;
	ig->st = st;
	ig->emit = emit;
	ig->ud = ud;
	*ret = ig;
	return 0;
}

static void
ingest_untouch_all(struct ingest *ig)
{
	struct ingest_source *s, *next;

	for (s = ig->touched; s != NULL; s = next) {
		next = s->next_touched;
		s->next_touched = NULL;
		s->owner = NULL;
		s->checked = 0;
	}
	ig->touched = NULL;
}

struct ingest *
ingest_free(struct ingest *ig)
{
	if (ig == NULL)
		return NULL;
	if (ig->in_txn && ig->st != NULL)
		store_rollback(ig->st);
	ingest_untouch_all(ig);
	free(ig);
	return NULL;
}

void
ingest_source_init(struct ingest_source *src, const char *path, enum mx_envelope fmt,
    int64_t ref_usec)
{
	memset(src, 0, sizeof(*src));
	snprintf(src->path, sizeof(src->path), "%s", path != NULL ? path : "");
	envelope_init(&src->env, fmt, ref_usec);
}

void
ingest_source_done(struct ingest_source *src)
{
	struct ingest *ig = src->owner;

	if (ig != NULL) {
		struct ingest_source **pp;

		for (pp = &ig->touched; *pp != NULL; pp = &(*pp)->next_touched)
			if (*pp == src) {
				*pp = src->next_touched;
				break;
			}
		src->owner = NULL;
		src->next_touched = NULL;
	}
	envelope_done(&src->env);
}

void
ingest_source_set_key(struct ingest_source *src, const char *key, uint64_t offset,
    uint64_t lines)
{
	snprintf(src->key, sizeof(src->key), "%s", key);
	src->offset = src->committed_offset = offset;
	src->lines = src->committed_lines = lines;
	src->stored_offset = 0;
	src->checked = 0;
	src->dirty = 0;
}

/* ingest_begin - open the transaction if needed */
static int
ingest_begin(struct ingest *ig)
{
	int r;

	if (ig->in_txn)
		return 0;
	r = store_begin(ig->st);
	if (r < 0)
		return r;
	ig->in_txn = 1;
	return 0;
}

/* ingest_check - read the source's stored position once per transaction */
static int
ingest_check(struct ingest *ig, struct ingest_source *src)
{
	struct mx_position pos;
	int r;

	if (src->checked)
		return 0;
	if ((r = ingest_begin(ig)) < 0)
		return r;
	src->stored_offset = 0;
	if (src->key[0] != '\0') {
		r = store_position_get(ig->st, src->key, &pos);
		if (r < 0)
			return r;
		if (r > 0)
			src->stored_offset = pos.offset;
	}
	src->checked = 1;
	if (src->owner == NULL) {
		src->owner = ig;
		src->next_touched = ig->touched;
		ig->touched = src;
	}
	return 0;
}

/* ingest_program - the stats slot of a syslog tag (the "(other)" slot when full) */
static struct ingest_program_stats *
ingest_program(struct ingest *ig, const char *prog)
{
	struct ingest_stats *s = &ig->stats;
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *p;
	unsigned i;

	if (prog == NULL)
		prog = "(none)";
	for (p = prog; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (i = (unsigned)(h % INGEST_HASH);; i = (i + 1) % INGEST_HASH) {
		int idx = ig->hash[i] - 1;

		if (idx < 0)
			break;
		if (strcmp(s->programs[idx].name, prog) == 0)
			return &s->programs[idx];
	}
	if (s->n_programs >= MX_STATS_PROGRAMS) {
		struct ingest_program_stats *o = &s->programs[MX_STATS_PROGRAMS];

		if (o->name[0] == '\0')
			snprintf(o->name, sizeof(o->name), "(other)");
		return o;
	}
	snprintf(s->programs[s->n_programs].name, sizeof(s->programs[0].name), "%s", prog);
	ig->hash[i] = (short)(s->n_programs + 1);
	return &s->programs[s->n_programs++];
}

/* ingest_record - program -> parser -> event -> emit/store */
static int
ingest_record(struct ingest *ig, struct mx_record *rec)
{
	struct ingest_program_stats *ps;
	int r;

	program_split(rec, ig->split, sizeof(ig->split));
	ps = ingest_program(ig, rec->program);
	r = program_parse(ig->cfg != NULL ? &ig->cfg->proxy : NULL, rec, &ig->ev);
	if (r == -ENOENT) {
		ps->ignored++;
		ig->stats.ignored++;
		return 0;
	}
	if (r == 0) {
		ps->unrecognised++;
		ig->stats.unrecognised++;
		return 0;
	}
	ps->recognised++;
	ig->stats.events++;
	if (ig->emit != NULL && (r = ig->emit(ig->ud, &ig->ev)) < 0)
		return r;
	if (ig->st != NULL) {
		if ((r = store_add_event(ig->st, &ig->ev)) < 0)
			return r;
		ig->pending++;
	}
	return 1;
}

static void
ingest_advance(struct ingest *ig, struct ingest_source *src)
{
	src->lines++;
	src->dirty = 1;
}

int
ingest_line(struct ingest *ig, struct ingest_source *src, char *line, size_t len,
    uint64_t end_offset)
{
	struct mx_record rec;
	int r;

	ig->stats.lines++;
	if (ig->st != NULL) {
		if ((r = ingest_check(ig, src)) < 0)
			return r;
		if (end_offset <= src->stored_offset) {
			ig->stats.duplicates++;
			src->offset = end_offset;
			src->lines++;
			return 0;
		}
	}
	src->offset = end_offset;
	ingest_advance(ig, src);
	if (memchr(line, '\0', len) != NULL) {
		ig->stats.malformed++;
		return 0;
	}
	r = envelope_parse(&src->env, line, len, &rec);
	if (r < 0) {
		ig->stats.malformed++;
		return 0;
	}
	if (r == 0) {
		ig->stats.ignored++;
		return 0;
	}
	return ingest_record(ig, &rec);
}

void
ingest_oversized(struct ingest *ig, struct ingest_source *src, uint64_t end_offset)
{
	ig->stats.lines++;
	ig->stats.oversized++;
	if (ig->st != NULL && ingest_check(ig, src) == 0 && end_offset <= src->stored_offset)
		return;
	src->offset = end_offset;
	ingest_advance(ig, src);
}

int
ingest_journal(struct ingest *ig, struct ingest_source *src, const struct mx_journal_fields *f,
    const char *cursor)
{
	struct mx_record rec;
	int r;

	ig->stats.lines++;
	if (ig->st != NULL && (r = ingest_check(ig, src)) < 0)
		return r;
	snprintf(src->cursor, sizeof(src->cursor), "%s", cursor != NULL ? cursor : "");
	ingest_advance(ig, src);
	if (f->message == NULL) {	/* journal.c: longer than MX_LINE_MAX */
		ig->stats.oversized++;
		return 0;
	}
	if (memchr(f->message, '\0', f->message_len) != NULL) {
		ig->stats.malformed++;
		return 0;
	}
	r = envelope_from_fields(&src->env, f, &rec);
	if (r < 0) {
		ig->stats.malformed++;
		return 0;
	}
	if (r == 0) {
		ig->stats.ignored++;
		return 0;
	}
	return ingest_record(ig, &rec);
}

int
ingest_flush(struct ingest *ig)
{
	struct ingest_source *s;
	struct mx_position pos;
	int r;

	if (ig->st == NULL || ig->touched == NULL)
		return 0;
	if ((r = ingest_begin(ig)) < 0)
		return r;
	for (s = ig->touched; s != NULL; s = s->next_touched) {
		if (!s->dirty || s->key[0] == '\0')
			continue;
		memset(&pos, 0, sizeof(pos));
		snprintf(pos.key, sizeof(pos.key), "%s", s->key);
		snprintf(pos.path, sizeof(pos.path), "%s", s->path);
		/* never move a position backwards (another writer may be ahead) */
		pos.offset = s->offset > s->stored_offset ? s->offset : s->stored_offset;
		pos.lines = s->lines;
		snprintf(pos.cursor, sizeof(pos.cursor), "%s", s->cursor);
		if ((r = store_position_set(ig->st, &pos)) < 0)
			goto fail;
	}
	if ((r = store_commit(ig->st)) < 0)
		goto fail;
	ig->in_txn = 0;
	ig->stats.stored += ig->pending;
	ig->stats.commits++;
	ig->pending = 0;
	for (s = ig->touched; s != NULL; s = s->next_touched) {
		if (s->dirty) {
			s->committed_offset = s->offset;
			s->committed_lines = s->lines;
			memcpy(s->committed_cursor, s->cursor, sizeof(s->cursor));
			s->dirty = 0;
		}
	}
	ingest_untouch_all(ig);
	return 0;
fail:
	ig->stats.commit_errors++;
	return r;
}

void
ingest_rewind(struct ingest *ig)
{
	struct ingest_source *s;

	if (ig->in_txn && ig->st != NULL)
		store_rollback(ig->st);
	ig->in_txn = 0;
	ig->pending = 0;
	for (s = ig->touched; s != NULL; s = s->next_touched) {
		s->offset = s->committed_offset;
		s->lines = s->committed_lines;
		memcpy(s->cursor, s->committed_cursor, sizeof(s->cursor));
		s->dirty = 0;
	}
	ingest_untouch_all(ig);
}

unsigned
ingest_pending(const struct ingest *ig)
{
	return ig->pending;
}

const struct ingest_stats *
ingest_get_stats(const struct ingest *ig)
{
	return &ig->stats;
}

static int
ingest_cmp_program(const void *a, const void *b)
{
	return strcmp(((const struct ingest_program_stats *)a)->name,
	    ((const struct ingest_program_stats *)b)->name);
}

/* ingest_print_stats - totals and one row per program, sorted by name */
void
ingest_print_stats(const struct ingest *ig, FILE *f)
{
	const struct ingest_stats *s = &ig->stats;
	struct ingest_program_stats rows[MX_STATS_PROGRAMS + 1];
	size_t n = s->n_programs;

	memcpy(rows, s->programs, n * sizeof(rows[0]));
	if (s->programs[MX_STATS_PROGRAMS].name[0] != '\0')
		rows[n++] = s->programs[MX_STATS_PROGRAMS];
	qsort(rows, n, sizeof(rows[0]), ingest_cmp_program);
	fprintf(f, "%-40s %10s %12s %8s\n", "program", "recognised", "unrecognised", "ignored");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%-40.40s %10llu %12llu %8llu\n", rows[i].name,
		    (unsigned long long)rows[i].recognised,
		    (unsigned long long)rows[i].unrecognised,
		    (unsigned long long)rows[i].ignored);
	fprintf(f, "lines %llu, events %llu, unrecognised %llu, ignored %llu, "
	    "malformed %llu, oversized %llu\n",
	    (unsigned long long)s->lines, (unsigned long long)s->events,
	    (unsigned long long)s->unrecognised, (unsigned long long)s->ignored,
	    (unsigned long long)s->malformed, (unsigned long long)s->oversized);
}

/* source_fingerprint - "file:<fnv1a64 of the first line>:<bytes hashed>" */
int
source_fingerprint(const char *first_line, size_t len, char *key, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int n;

	if (len == 0)
		return -EINVAL;
	if (len > MX_FINGERPRINT_MAX)
		len = MX_FINGERPRINT_MAX;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)first_line[i]) * 0x100000001b3ULL;
	n = snprintf(key, size, "file:%016llx:%zu", (unsigned long long)h, len);
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	return n;
}
