/*
 * NAME
 *	cmd_ingest - `mxledger ingest`: backfill log files into the database
 * SYNOPSIS
 *	mxledger ingest [--config PATH] [--db PATH] [--envelope NAME]
 *	    [--year YYYY] [--quiet] FILE...
 * DESCRIPTION
 *	Reads each FILE (plain or gzip, "-" for standard input) through the
 *	same pipeline as the daemon (ingest.c) and stores the events, with the
 *	file's position, in batches of batch_events events or batch_msec
 *	milliseconds (configuration), plus a final batch per file.
 *
 *	A file is known by the fingerprint of its first line, and its position
 *	is the offset in the decompressed stream, so ingesting a file again,
 *	or its gzip'ed copy, adds nothing, and ingesting it after lines were
 *	appended adds only those. An interrupted run (Ctrl-C, full disk) keeps
 *	every batch committed so far; running it again resumes.
 *
 *	A last line without its newline is not stored (it is probably being
 *	written); it will be, whole, by a later run once the file has grown.
 *
 *	Year inference for BSD syslog timestamps uses the file's mtime as
 *	"now" (standard input: the current time); --year Y pins it to the end
 *	of year Y.
 *
 *	On a terminal, standard error shows a progress line (progress.c); a
 *	summary line follows at the end unless --quiet.
 *
 *	Static helpers are named backfill_*, to keep them apart from ingest.c.
 * EXIT STATUS
 *	0 success; 64 (EX_USAGE) bad arguments; 66 (EX_NOINPUT) a file could
 *	not be read (the others are still ingested); 73 (EX_CANTCREAT) the
 *	database cannot be opened or created; 74 (EX_IOERR) storing failed
 *	part-way (disk full, database locked): what was committed stays, the
 *	rest of the run is abandoned; 78 (EX_CONFIG) configuration errors.
 * SEE ALSO
 *	ingest.h, reader.h, store.h, progress.h, mxledger(8)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "ingest.h"
#include "log.h"
#include "migrate.h"
#include "progress.h"
#include "reader.h"
#include "store.h"

/* Look at the clock (flush timer, progress) once per this many lines. */
#define BACKFILL_CLOCK_LINES	256

struct backfill {
	const struct mx_config *cfg;
	struct store *st;
	struct ingest *ig;
	struct progress *pg;
	enum mx_envelope envelope;
	int year;
	int64_t flushed_usec;		/* monotonic time of the last flush */
	int read_errno;			/* why the last file could not be read to its end */
	unsigned held;			/* unterminated last lines held back */
};

static void backfill_usage(FILE *f);
static int backfill_open_store(const char *path, struct store **ret);
static int backfill_file(struct backfill *b, const char *path, unsigned index, unsigned count);
static int backfill_lines(struct backfill *b, struct reader *rd, struct ingest_source *src);
static int backfill_key(struct ingest_source *src, const char *line, size_t len);
static int backfill_flush(struct backfill *b, int force);
static int64_t backfill_year_ref(int year);
static void backfill_summary(const struct backfill *b, unsigned files, unsigned unreadable,
    int64_t start_usec);

/* backfill_usage - the --help text */
static void
backfill_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxledger ingest [OPTIONS] FILE...\n"
	    "Store the events of old log files (plain or gzip, - for standard input) in the\n"
	    "database. Files already ingested, or their gzip'ed copies, add nothing; a file\n"
	    "that grew adds only its new lines. An interrupted run resumes when run again.\n\n"
	    "  -c, --config PATH        configuration (database, batch size, proxied listeners,\n"
	    "                           time zone; default %s)\n"
	    "  -d, --db PATH            database (default: from the configuration, else\n"
	    "                           %s)\n"
	    "  -e, --envelope NAME      auto (default), syslog, rfc3339, rfc5424, dovecot,\n"
	    "                           cri, docker, journal-json, bare\n"
	    "  -y, --year YYYY          year of BSD syslog timestamps (default: from the\n"
	    "                           file's mtime)\n"
	    "  -q, --quiet              no progress line and no summary; errors only\n"
	    "  -h, --help               this text\n"
	    "Exit status: 0 ok, 64 usage, 66 a file could not be read, 73 database cannot be\n"
	    "opened, 74 storing failed part-way (run again to resume), 78 configuration error.\n",
	    MX_CONFIG_DEFAULT_PATH, store_default_path());
}

int
cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "envelope", required_argument, NULL, 'e' },
		{ "year", required_argument, NULL, 'y' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *arg_config = NULL, *arg_db = NULL;
	int arg_quiet = 0, c, r, status = 0;
	struct backfill b = { .envelope = MX_ENVELOPE_AUTO };
	struct mx_config *cfg = NULL;
	unsigned count, unreadable = 0;
	int64_t start_usec = clock_mono_usec();

	while ((c = getopt_long(argc, argv, "c:d:e:y:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			arg_config = optarg;
			break;
		case 'd':
			arg_db = optarg;
			break;
		case 'e':
			if (envelope_from_name(optarg, &b.envelope) < 0) {
				fprintf(stderr, "mxledger: ingest: unknown envelope \"%.32s\"\n",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'y':
			b.year = atoi(optarg);
			if (b.year < 1970 || b.year > 9999) {
				fprintf(stderr, "mxledger: ingest: bad year \"%.32s\"\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'q':
			arg_quiet = 1;
			break;
		case 'h':
			backfill_usage(stdout);
			return 0;
		default:
			backfill_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "mxledger: ingest: no FILE given (use - for standard input)\n");
		backfill_usage(stderr);
		return EX_USAGE;
	}
	count = (unsigned)(argc - optind);

	if (config_load(arg_config != NULL ? arg_config : MX_CONFIG_DEFAULT_PATH,
	    arg_config != NULL, &cfg) < 0)
		return EX_CONFIG;
	if (cfg->timezone != NULL) {
		setenv("TZ", cfg->timezone, 1);
		tzset();
	}
	log_set_level(cfg->log_level);
	b.cfg = cfg;
	if (backfill_open_store(arg_db != NULL ? arg_db : cfg->database, &b.st) < 0) {
		config_free(cfg);
		return EX_CANTCREAT;
	}
	b.pg = progress_new(stderr, !arg_quiet && isatty(STDERR_FILENO));
	if (b.pg == NULL || ingest_new(cfg, b.st, NULL, NULL, &b.ig) < 0) {
		fprintf(stderr, "mxledger: ingest: out of memory\n");
		status = EX_OSERR;
		goto out;
	}
	b.flushed_usec = clock_mono_usec();
	for (int i = optind; i < argc; i++) {
		r = backfill_file(&b, argv[i], (unsigned)(i - optind + 1), count);
		if (r == EX_NOINPUT) {
			unreadable++;
			if (status == 0)
				status = r;
		} else if (r != 0) {
			status = r;
			break;
		}
	}
	progress_clear(b.pg);
	if (!arg_quiet)
		backfill_summary(&b, count, unreadable, start_usec);
out:
	ingest_free(b.ig);
	progress_free(b.pg);
	store_free(b.st);
	config_free(cfg);
	return status;
}

/* backfill_open_store - open or create the database, saying why it failed */
static int
backfill_open_store(const char *path, struct store **ret)
{
	int r;

	if (path == NULL)
		path = store_default_path();
	r = store_open(path, MX_STORE_CREATE, ret);
	if (r == -EPROTO)
		fprintf(stderr, "mxledger: ingest: %s: not a database this mxledger can write "
		    "(made by a newer version, or not by mxledger; schema version here: %d)\n",
		    path, migrate_latest());
	else if (r < 0)
		fprintf(stderr, "mxledger: ingest: %s: cannot open database: %s\n", path,
		    strerror(-r));
	return r;
}

/* backfill_file - ingest one file; 0, EX_NOINPUT (skip it) or EX_IOERR (stop) */
static int
backfill_file(struct backfill *b, const char *path, unsigned index, unsigned count)
{
	struct ingest_source src;
	struct reader *rd;
	uint64_t done, total;
	int64_t ref;
	int r;

	r = reader_open(path, &rd);
	if (r < 0) {
		progress_clear(b->pg);
		fprintf(stderr, "mxledger: ingest: %s: %s, skipping\n", path, strerror(-r));
		return EX_NOINPUT;
	}
	if (b->year > 0)
		ref = backfill_year_ref(b->year);
	else
		ref = strcmp(path, "-") == 0 ? clock_now_usec() : reader_mtime_usec(rd);
	ingest_source_init(&src, path, b->envelope, ref);
	reader_progress(rd, &done, &total);
	progress_file(b->pg, strcmp(path, "-") == 0 ? "(stdin)" : path, index, count, total);

	r = backfill_lines(b, rd, &src);
	if (r >= 0) {
		/* the final batch; after a read error, what was read before it */
		int f = backfill_flush(b, 1);

		if (f < 0)
			r = f;
	}
	if (r < 0)
		ingest_rewind(b->ig);
	ingest_source_done(&src);
	reader_free(rd);
	if (r == 0)
		return 0;
	progress_clear(b->pg);
	if (r == 1) {
		fprintf(stderr, "mxledger: ingest: %s: %s; the lines before it were stored\n",
		    path, b->read_errno == EIO ? "corrupt or truncated data" :
		    strerror(b->read_errno));
		return EX_NOINPUT;
	}
	fprintf(stderr, "mxledger: ingest: %s: storing events failed: %s; "
	    "earlier batches are kept, run again to resume\n", path, strerror(-r));
	return EX_IOERR;
}

/*
 * backfill_lines - feed every line of rd to the pipeline: 0 at the end of
 * the file, 1 at a read error, -errno when storing failed.
 *
 * A last line without its newline is being written (or was cut off): it is
 * held back, like tail.c holds it, rather than stored half and then again
 * whole once the file has grown. The reader says so only through the
 * offsets: a line that consumed no newline ends len bytes after the
 * previous one. (An unterminated line ending in "\r" passes for a complete
 * one: the reader drops that "\r" as if it came before a newline.)
 */
static int
backfill_lines(struct backfill *b, struct reader *rd, struct ingest_source *src)
{
	uint64_t start = 0, end, done, total, n = 0;
	int keyed = 0, r;
	char *line;
	size_t len;

	for (; (r = reader_next(rd, &line, &len, &end)) > 0; start = end) {
		if (r == 2) {
			ingest_oversized(b->ig, src, end);
		} else if (end - start == len) {
			b->held++;
			continue;	/* the last line, unterminated */
		} else {
			/* ingest_line() rewrites the line: fingerprint it first */
			if (!keyed) {
				/* as tail.c: an empty first line is named by its "\n" */
				if ((r = backfill_key(src, len > 0 ? line : "\n", len > 0 ? len : 1)) < 0)
					return r;
				keyed = 1;
			}
			if ((r = ingest_line(b->ig, src, line, len, end)) < 0)
				return r;
		}
		if (ingest_pending(b->ig) >= b->cfg->batch_events &&
		    (r = backfill_flush(b, 1)) < 0)
			return r;
		if (++n % BACKFILL_CLOCK_LINES == 0) {
			if ((r = backfill_flush(b, 0)) < 0)
				return r;
			reader_progress(rd, &done, &total);
			progress_update(b->pg, ingest_get_stats(b->ig)->lines, done);
		}
	}
	if (r < 0) {
		b->read_errno = -r;
		return 1;
	}
	return 0;
}

/*
 * backfill_key - name the source by its first line, as tail.c does for
 * followed files (an empty first line by its "\n"), so the daemon and a
 * backfill share positions.
 */
static int
backfill_key(struct ingest_source *src, const char *line, size_t len)
{
	char key[MX_POSITION_KEY_MAX];
	int r;

	r = source_fingerprint(line, len, key, sizeof(key));
	if (r < 0)
		return r;
	ingest_source_set_key(src, key, src->offset, src->lines);
	return 0;
}

/* backfill_flush - commit the batch if forced or batch_msec old */
static int
backfill_flush(struct backfill *b, int force)
{
	int64_t now = clock_mono_usec();

	if (!force && now - b->flushed_usec < (int64_t)b->cfg->batch_msec * 1000)
		return 0;
	b->flushed_usec = now;
	return ingest_flush(b->ig);
}

/* backfill_year_ref - "now" for year inference: the last second of that year, UTC */
static int64_t
backfill_year_ref(int year)
{
	struct tm tm = { .tm_year = year - 1900, .tm_mon = 11, .tm_mday = 31,
			 .tm_hour = 23, .tm_min = 59, .tm_sec = 59 };

	return (int64_t)timegm(&tm) * 1000000;
}

/* backfill_summary - one line of totals on stderr */
static void
backfill_summary(const struct backfill *b, unsigned files, unsigned unreadable,
    int64_t start_usec)
{
	const struct ingest_stats *s = ingest_get_stats(b->ig);
	double secs = (double)(clock_mono_usec() - start_usec) / 1e6;
	char hms[16];

	fprintf(stderr, "mxledger: ingest: %u file%s (%u unreadable), %llu lines, %llu events, "
	    "%llu stored, %llu duplicates skipped, %llu unrecognised, %llu ignored, "
	    "%llu malformed, %llu oversized in %s (%.0f lines/s)\n",
	    files, files == 1 ? "" : "s", unreadable,
	    (unsigned long long)s->lines, (unsigned long long)s->events,
	    (unsigned long long)s->stored, (unsigned long long)s->duplicates,
	    (unsigned long long)s->unrecognised, (unsigned long long)s->ignored,
	    (unsigned long long)s->malformed, (unsigned long long)s->oversized,
	    secs < 60 ? (snprintf(hms, sizeof(hms), "%.2f s", secs), hms) :
	    progress_hms(secs, hms, sizeof(hms)),
	    secs > 0 ? (double)s->lines / secs : 0.0);
	if (b->held > 0)
		fprintf(stderr, "mxledger: ingest: %u file%s ended in a line without newline; "
		    "held back until it is complete\n", b->held, b->held == 1 ? "" : "s");
}
