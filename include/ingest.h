/*
 * NAME
 *	ingest - the pipeline core shared by run, ingest and parse
 * SYNOPSIS
 *	#include "ingest.h"
 *
 *	int ingest_new(const struct mx_config *cfg, struct store *st,
 *	    ingest_emit_fn emit, void *ud, struct ingest **ret);
 *	struct ingest *ingest_free(struct ingest *ig);
 *	void ingest_source_init(struct ingest_source *src, const char *path,
 *	    enum mx_envelope fmt, int64_t ref_usec);
 *	void ingest_source_done(struct ingest_source *src);
 *	(ingest_source_done() takes the source off its pipeline's lists; flush
 *	first if what it read must be kept.)
 *	int ingest_line(struct ingest *ig, struct ingest_source *src, char *line,
 *	    size_t len, uint64_t end_offset);
 *	int ingest_journal(struct ingest *ig, struct ingest_source *src,
 *	    const struct mx_journal_fields *f, const char *cursor);
 *	int ingest_flush(struct ingest *ig);
 *	void ingest_rewind(struct ingest *ig);
 *	int source_fingerprint(const char *first_line, size_t len, char *key, size_t size);
 * DESCRIPTION
 *	A record goes envelope -> program -> parser -> event. Without a store
 *	(parse) each event goes to emit(). With a store (run, ingest) events are
 *	added to the open transaction and ingest_flush() commits them together
 *	with the position (identity + offset, or journal cursor) of every source
 *	that advanced, so the database never holds an event whose line is past
 *	the stored position, nor misses one before it.
 *
 *	Before the first write of a transaction for a source, the stored position
 *	is read again: lines at or below it were already stored (by an earlier
 *	run, or by another writer) and are skipped, which makes re-ingesting the
 *	same file a no-op.
 *
 *	The caller decides when to flush (batch_events / batch_msec). After a
 *	failed flush, ingest_rewind() resets every source to its last committed
 *	position; the caller must then re-read from there (tail_rewind(),
 *	journal_rewind()).
 *
 *	source_fingerprint() names a file by its first line: "file:%016x:%u"
 *	(FNV-1a 64 of at most MX_FINGERPRINT_MAX bytes, and that length). A
 *	renamed, copied or gzip'ed file keeps its name; a truncated or new file
 *	gets a new one. Returns the key length or -EINVAL when len is 0.
 */
#ifndef MX_INGEST_H
#define MX_INGEST_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "envelope.h"
#include "event.h"
#include "store.h"

#define MX_FINGERPRINT_MAX	1024

/* Per-program counters for --stats; more programs than this are pooled as "(other)". */
#define MX_STATS_PROGRAMS	256

struct ingest_program_stats {
	char name[64];
	uint64_t recognised, unrecognised, ignored;
};

struct ingest_stats {
	uint64_t lines;		/* lines seen */
	uint64_t events;	/* events produced */
	uint64_t stored;	/* events written (store only) */
	uint64_t duplicates;	/* lines skipped as already stored */
	uint64_t unrecognised;	/* parser exists, line not known */
	uint64_t ignored;	/* no parser for the daemon, or not a record */
	uint64_t malformed;	/* envelope could not be parsed */
	uint64_t oversized;	/* longer than MX_LINE_MAX */
	uint64_t commits, commit_errors;
	size_t n_programs;
	struct ingest_program_stats programs[MX_STATS_PROGRAMS + 1];
};

struct ingest_source {
	char key[MX_POSITION_KEY_MAX];	/* "" until known */
	char path[4096];
	struct envelope_ctx env;
	uint64_t offset;		/* end of the last line handed in */
	uint64_t lines;
	uint64_t committed_offset;	/* as stored by the last commit */
	uint64_t committed_lines;
	uint64_t stored_offset;		/* position found in the store this txn */
	char cursor[MX_POSITION_CURSOR_MAX];
	char committed_cursor[MX_POSITION_CURSOR_MAX];
	int checked;			/* stored position read in this transaction */
	int dirty;			/* advanced since the last commit */
	struct ingest *owner;		/* set while on owner's list of touched sources */
	struct ingest_source *next_touched;
};

typedef int (*ingest_emit_fn)(void *ud, const struct mx_event *ev);

struct ingest;

int ingest_new(const struct mx_config *cfg, struct store *st, ingest_emit_fn emit, void *ud,
    struct ingest **ret);
struct ingest *ingest_free(struct ingest *ig);
void ingest_source_init(struct ingest_source *src, const char *path, enum mx_envelope fmt,
    int64_t ref_usec);
void ingest_source_done(struct ingest_source *src);
/* Set the identity (and committed position) of a source; clears per-txn state. */
void ingest_source_set_key(struct ingest_source *src, const char *key, uint64_t offset,
    uint64_t lines);
int ingest_line(struct ingest *ig, struct ingest_source *src, char *line, size_t len,
    uint64_t end_offset);
/* Count a line that was too long to parse (linebuf/tail report these). */
void ingest_oversized(struct ingest *ig, struct ingest_source *src, uint64_t end_offset);
int ingest_journal(struct ingest *ig, struct ingest_source *src,
    const struct mx_journal_fields *f, const char *cursor);
int ingest_flush(struct ingest *ig);
void ingest_rewind(struct ingest *ig);
unsigned ingest_pending(const struct ingest *ig);
const struct ingest_stats *ingest_get_stats(const struct ingest *ig);
void ingest_print_stats(const struct ingest *ig, FILE *f);
int source_fingerprint(const char *first_line, size_t len, char *key, size_t size);

#endif
