/*
 * NAME
 *	report - `mxledger report`: the SQL reports, their arguments and their output
 * SYNOPSIS
 *	#include "report.h"
 *
 *	extern const struct report_sql report_sqls[];	(sql/reports/NAME.sql, generated)
 *	extern const size_t report_n_sqls;
 *	const char *report_sql_find(const char *name);
 *
 *	int report_parse_duration(const char *s, int64_t *ret_usec);
 *	int report_parse_time(const char *s, int64_t *ret_usec);
 *	int report_parse_net(const char *s);
 *	int report_parse_nets(const char *s);
 *
 *	int report_out_new(FILE *f, enum report_format format,
 *	    const struct report_table_opts *opts, struct report_out **ret);
 *	int report_out_begin(struct report_out *o, size_t n_cols, const char *const *names);
 *	int report_out_row(struct report_out *o, const struct report_cell *cells);
 *	int report_out_end(struct report_out *o);
 *	struct report_out *report_out_free(struct report_out *o);
 * DESCRIPTION
 *	Every report is one file of sql/reports/, embedded by
 *	tools/reports2c.sh as report_sqls[] (name = file name without .sql);
 *	the same file works with plain sqlite3(1). report_sql_find() returns
 *	the text of a report, NULL for an unknown name.
 *
 *	report_parse_duration() reads "30m", "24h", "7d", "2w", "90s" or a
 *	sum such as "1h30m". report_parse_time() reads RFC 3339
 *	("2026-11-22T02:00:00Z", "...T02:00:00.5+01:00"), a local time
 *	"YYYY-MM-DD", "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" (also with
 *	'T'; local = the TZ in effect) and "@SECONDS" since the epoch.
 *	report_parse_net() accepts an IPv4 or IPv6 address with an optional
 *	"/LEN"; report_parse_nets() a comma-separated list of them.
 *
 *	The output writer takes the result columns once (report_out_begin)
 *	and then rows of cells, and writes them as
 *
 *	  REPORT_TABLE	aligned columns fitting opts->width (80 by default) on
 *			a terminal, for people: numbers right-aligned, RFC 3339
 *			times shown as "YYYY-MM-DD HH:MM:SS" (UTC, said in the
 *			title), control characters and invalid UTF-8 as '?'.
 *			When a line would be too wide: headers break at an '_'
 *			onto two lines, text columns but the first are cut to
 *			12, times drop seconds, then year, then any column is
 *			cut, widest first, with an ellipsis (U+2026 when
 *			opts->utf8, "..." otherwise); numbers last. A first
 *			column named "section" groups rows under a title line
 *			per section (opts->section_title()) and is not shown; a
 *			first column of times groups rows by day.
 *			opts->hide_column is left out. Rows are kept until
 *			report_out_end(), at most REPORT_TABLE_ROWS_MAX.
 *	  REPORT_CSV	RFC 4180: a header line of column names, CRLF line ends,
 *			fields with a comma, quote, CR or LF in double quotes
 *			with quotes doubled, NULL as an empty field.
 *	  REPORT_JSON	one array of objects, one object per line, keys in
 *			column order, integers and reals as JSON numbers, NULL
 *			as null; strings escaped per RFC 8259 (bytes that are
 *			not UTF-8 as \u00XX, as `mxledger parse` does).
 *
 *	CSV and JSON are streamed: each row is written when it is given.
 * RETURNS
 *	report_parse_*(): 0, or -EINVAL for text that is not what was asked.
 *	report_out_*(): 0, -ENOMEM, -E2BIG (a table of more than
 *	REPORT_TABLE_ROWS_MAX rows, or a row with another number of columns),
 *	-EIO (writing failed, known at report_out_end() at the latest).
 * OWNERSHIP
 *	Cells are copied when kept: the caller's strings need to live only
 *	during the call. f stays the caller's. report_out_free(NULL) is a
 *	no-op; report_out_free() returns NULL.
 * SEE ALSO
 *	cmd_report.c, report_args.c, report_render.c, tools/reports2c.sh,
 *	sql/reports/, mxledger(8) "report"
 */
#ifndef MX_REPORT_H
#define MX_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A table is laid out only once all of it is known, so it is kept in
 * memory: 10^6 rows (some 100 MB at worst) is far more than anyone reads
 * on a terminal. CSV and JSON are streamed and have no such limit.
 */
#define REPORT_TABLE_ROWS_MAX	1000000
#define REPORT_WIDTH_DEFAULT	80

struct report_sql {
	const char *name;	/* "summary": sql/reports/summary.sql */
	const char *sql;	/* the whole file */
};

extern const struct report_sql report_sqls[];
extern const size_t report_n_sqls;

const char *report_sql_find(const char *name);

int report_parse_duration(const char *s, int64_t *ret_usec);
int report_parse_time(const char *s, int64_t *ret_usec);
int report_parse_net(const char *s);
int report_parse_nets(const char *s);

enum report_format {
	REPORT_TABLE,
	REPORT_CSV,
	REPORT_JSON,
};

enum report_type {
	REPORT_NULL,
	REPORT_INT,
	REPORT_REAL,
	REPORT_TEXT,
};

struct report_cell {
	enum report_type type;
	int64_t i;		/* REPORT_INT */
	double d;		/* REPORT_REAL */
	const char *s;		/* REPORT_TEXT: len bytes, need not be NUL-terminated */
	size_t len;
};

struct report_table_opts {
	const char *title;	/* first line of a table; NULL = none */
	unsigned width;		/* 0 = REPORT_WIDTH_DEFAULT */
	int utf8;		/* the terminal takes UTF-8: cut with U+2026 */
	/* the title of a section (first column "section"); NULL = the name itself */
	const char *(*section_title)(const char *section);
	const char *hide_column;	/* a column the table leaves out (CSV, JSON keep it) */
};

struct report_out;

int report_out_new(FILE *f, enum report_format format, const struct report_table_opts *opts,
    struct report_out **ret);
int report_out_begin(struct report_out *o, size_t n_cols, const char *const *names);
int report_out_row(struct report_out *o, const struct report_cell *cells);
int report_out_end(struct report_out *o);
/* report_crowdsec.c: CrowdSec's decisions on addr as rows of the ip report */
struct mx_crowdsec_conf;
int report_crowdsec(struct report_out *out, const struct mx_crowdsec_conf *conf,
    const char *addr);
struct report_out *report_out_free(struct report_out *o);

#endif
