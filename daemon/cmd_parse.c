/*
 * NAME
 *	cmd_parse - `mxledger parse`: print the events of log files
 * SYNOPSIS
 *	mxledger parse [--format jsonl|tsv|none] [--stats] [--envelope NAME]
 *	    [--year YYYY] [--config PATH] [FILE...|-]
 * DESCRIPTION
 *	Runs the same pipeline as the daemon (ingest.c) without a database:
 *	each recognised event becomes one line on standard output, in the
 *	stable format documented in mxledger(8) "EVENTS". Unrecognised,
 *	malformed and oversized lines are counted and skipped; --stats prints
 *	the counts per program on standard error at the end.
 *
 *	Year inference for BSD syslog timestamps uses the file's mtime as
 *	"now" (standard input: the current time); --year pins it.
 * SEE ALSO
 *	ingest.h, event.h, mxledger(8)
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
#include "event.h"
#include "ingest.h"
#include "reader.h"

/*
 * Events are rendered straight into one large buffer that goes out with
 * write(2) when less than one maximal event fits: no stdio copy and no
 * lock per event (this halved the cost of output in profiles).
 */
#define PARSE_OUT_SIZE	(4 * 1024 * 1024 + MX_EVENT_FORMAT_MAX)

struct parse_out {
	int tsv;
	int none;	/* --format none: count only (with --stats) */
	char *buf;
	size_t used;
	int fd;
	int write_error;
};

/* parse_out_flush - write out what is buffered; -EIO once on failure */
static int
parse_out_flush(struct parse_out *o)
{
	size_t done = 0;

	while (done < o->used && !o->write_error) {
		ssize_t n = write(o->fd, o->buf + done, o->used - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->write_error = 1;
			o->used = 0;
			return -EIO;
		}
		done += (size_t)n;
	}
	o->used = 0;
	return o->write_error ? -EIO : 0;
}

static void
parse_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxledger parse [OPTIONS] [FILE...|-]\n"
	    "Print one event per recognised log line (JSON lines by default).\n\n"
	    "  -f, --format jsonl|tsv|none  output format (default jsonl); none prints\n"
	    "                           nothing but what --stats asks for\n"
	    "  -s, --stats              print recognised/unrecognised lines per program on stderr\n"
	    "  -e, --envelope NAME      auto (default), syslog, rfc3339, rfc5424, dovecot,\n"
	    "                           cri, docker, journal-json, bare\n"
	    "  -y, --year YYYY          year of BSD syslog timestamps (default: from the file's mtime)\n"
	    "  -c, --config PATH        configuration (proxied listeners, time zone)\n"
	    "  -h, --help               this text\n"
	    "FILE may be gzip-compressed; without FILE or with -, standard input is read.\n");
}

static int
parse_emit(void *ud, const struct mx_event *ev)
{
	struct parse_out *o = ud;
	int n;

	if (o->none)
		return 0;
	if (PARSE_OUT_SIZE - o->used < MX_EVENT_FORMAT_MAX && parse_out_flush(o) < 0)
		return -EIO;
	n = o->tsv ? event_format_tsv(ev, o->buf + o->used, MX_EVENT_FORMAT_MAX) :
	    event_format_jsonl(ev, o->buf + o->used, MX_EVENT_FORMAT_MAX);
	if (n > 0)
		o->used += (size_t)n;
	return 0;
}

/* parse_year_ref - "now" for year inference: the last second of that year, UTC */
static int64_t
parse_year_ref(int year)
{
	struct tm tm = { .tm_year = year - 1900, .tm_mon = 11, .tm_mday = 31,
			 .tm_hour = 23, .tm_min = 59, .tm_sec = 59 };

	return (int64_t)timegm(&tm) * 1000000;
}

static int
parse_file(struct ingest *ig, const char *path, enum mx_envelope fmt, int year)
{
	struct ingest_source src;
	struct reader *rd;
	char *line;
	size_t len;
	uint64_t end;
	int r;

	r = reader_open(path, &rd);
	if (r < 0) {
		fprintf(stderr, "mxledger: parse: %s: %s\n", path, strerror(-r));
		return EX_NOINPUT;
	}
	ingest_source_init(&src, path, fmt, year > 0 ? parse_year_ref(year) :
	    strcmp(path, "-") == 0 ? clock_now_usec() : reader_mtime_usec(rd));
	while ((r = reader_next(rd, &line, &len, &end)) > 0) {
		if (r == 2) {
			ingest_oversized(ig, &src, end);
			continue;
		}
		if ((r = ingest_line(ig, &src, line, len, end)) < 0)
			break;
	}
	ingest_source_done(&src);
	reader_free(rd);
	if (r < 0) {
		fprintf(stderr, "mxledger: parse: %s: %s\n", path, strerror(-r));
		return r == -EIO ? EX_IOERR : EX_DATAERR;
	}
	return 0;
}

int
cmd_parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "stats", no_argument, NULL, 's' },
		{ "envelope", required_argument, NULL, 'e' },
		{ "year", required_argument, NULL, 'y' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *arg_config = NULL;
	enum mx_envelope arg_envelope = MX_ENVELOPE_AUTO;
	int arg_stats = 0, arg_year = 0, c, r, status = 0;
	struct parse_out out = { 0 };
	struct mx_config *cfg = NULL;
	struct ingest *ig = NULL;

	while ((c = getopt_long(argc, argv, "f:se:y:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "jsonl") == 0 || strcmp(optarg, "json") == 0)
				out.tsv = 0;
			else if (strcmp(optarg, "tsv") == 0)
				out.tsv = 1;
			else if (strcmp(optarg, "none") == 0)
				out.none = 1;
			else {
				fprintf(stderr, "mxledger: parse: unknown format \"%.32s\" "
				    "(jsonl, tsv or none)\n", optarg);
				return EX_USAGE;
			}
			break;
		case 's':
			arg_stats = 1;
			break;
		case 'e':
			if (envelope_from_name(optarg, &arg_envelope) < 0) {
				fprintf(stderr, "mxledger: parse: unknown envelope \"%.32s\"\n",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'y':
			arg_year = atoi(optarg);
			if (arg_year < 1970 || arg_year > 9999) {
				fprintf(stderr, "mxledger: parse: bad year \"%.32s\"\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'c':
			arg_config = optarg;
			break;
		case 'h':
			parse_usage(stdout);
			return 0;
		default:
			parse_usage(stderr);
			return EX_USAGE;
		}
	}

	if (arg_config != NULL) {
		if (config_load(arg_config, 1, &cfg) < 0)
			return EX_CONFIG;
	} else if ((cfg = config_default()) == NULL) {
		return EX_OSERR;
	}
	if (cfg->timezone != NULL) {
		setenv("TZ", cfg->timezone, 1);
		tzset();
	}
	out.fd = STDOUT_FILENO;
	out.buf = malloc(PARSE_OUT_SIZE);
	if (out.buf == NULL || ingest_new(cfg, NULL, parse_emit, &out, &ig) < 0) {
		fprintf(stderr, "mxledger: parse: out of memory\n");
		free(out.buf);
		config_free(cfg);
		return EX_OSERR;
	}
	if (out.tsv)
		out.used = (size_t)snprintf(out.buf, PARSE_OUT_SIZE, "%s\n", event_tsv_header);
	if (optind >= argc) {
		status = parse_file(ig, "-", arg_envelope, arg_year);
	} else {
		for (int i = optind; i < argc && !out.write_error; i++) {
			r = parse_file(ig, argv[i], arg_envelope, arg_year);
			if (r != 0 && status == 0)
				status = r;
		}
	}
	if (parse_out_flush(&out) < 0 && status == 0) {
		fprintf(stderr, "mxledger: parse: writing the output failed\n");
		status = EX_IOERR;
	}
	if (arg_stats)
		ingest_print_stats(ig, stderr);
	ingest_free(ig);
	free(out.buf);
	config_free(cfg);
	return status;
}
