/*
 * NAME
 *	report_render - write report rows as an 80-column table, CSV or JSON
 * SYNOPSIS
 *	#include "report.h"
 *
 *	int report_out_new(FILE *f, enum report_format format,
 *	    const struct report_table_opts *opts, struct report_out **ret);
 *	int report_out_begin(struct report_out *o, size_t n_cols, const char *const *names);
 *	int report_out_row(struct report_out *o, const struct report_cell *cells);
 *	int report_out_end(struct report_out *o);
 *	struct report_out *report_out_free(struct report_out *o);
 * DESCRIPTION
 *	The formats are described in report.h. Knows nothing about SQLite or
 *	about any one report: a result is column names and rows of typed
 *	cells.
 *
 *	Tables: a column's width is its widest cell (or header); while the
 *	line is too wide, the widest column that may shrink loses one column.
 *	Text may shrink; numbers and times only when nothing else can. Width
 *	is counted in code points (one column each: good for the addresses,
 *	names and Latin text of mail logs, not for double-width scripts).
 *	A sectioned table lays out each section on its own.
 * RETURNS
 *	As in report.h: 0, -ENOMEM, -E2BIG, -EIO.
 * SEE ALSO
 *	report.h, cmd_report.c, RFC 4180, RFC 8259
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "utf8.h"

/* A kept table cell: the value, with text owned and NUL-terminated. */
struct render_cell {
	struct report_cell c;
	int time;		/* text that is an RFC 3339 time, kept as "YYYY-MM-DD HH:MM:SS" */
};

struct report_out {
	FILE *f;
	enum report_format format;
	struct report_table_opts opts;
	char *title;
	size_t n_cols;
	char **names;
	size_t n_rows;			/* rows given so far */
	struct render_cell *cells;	/* table: n_rows * n_cols */
	size_t cap_rows;
	int error;			/* first -errno, reported by report_out_end() */
};

/* A line being built: tables trim trailing blanks before writing. */
struct render_line {
	char *p;
	size_t len, cap;
};

static int render_store(struct report_out *o, const struct report_cell *cells);
static int render_table(struct report_out *o);
static void render_csv_row(struct report_out *o, const struct report_cell *cells);
static void render_json_row(struct report_out *o, const struct report_cell *cells);

/* render_utf8_len - length of the valid UTF-8 sequence at s, 0 if invalid or a C1 control */
static size_t
render_utf8_len(const unsigned char *s, size_t avail)
{
	size_t n = utf8_len(s, avail);

	/* C1 controls (U+0080..U+009F: 0xc2 0x80..0x9f) are shown as '?' like C0 */
	return n == 2 && s[0] == 0xc2 && s[1] < 0xa0 ? 0 : n;
}

/*
 * render_unit - one display column of text at s: its byte length (>= 1)
 * and, in *printable, 0 when it is shown as '?' (a control character or
 * a byte that is not UTF-8).
 */
static size_t
render_unit(const char *s, size_t avail, int *printable)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = render_utf8_len(u, avail);

	*printable = n > 0 && !(n == 1 && (u[0] < 0x20 || u[0] == 0x7f));
	return n > 0 ? n : 1;
}

/* render_width - display columns of len bytes of text */
static size_t
render_width(const char *s, size_t len)
{
	size_t w = 0, n;
	int printable;

	for (size_t i = 0; i < len; i += n, w++)
		n = render_unit(s + i, len - i, &printable);
	return w;
}

static void
render_line_put(struct report_out *o, struct render_line *ln, const char *s, size_t len)
{
	if (ln->len + len + 1 > ln->cap) {
		size_t cap = (ln->len + len + 1) * 2;
		char *p = realloc(ln->p, cap);

		if (p == NULL) {
			if (o->error == 0)
				o->error = -ENOMEM;
			return;
		}
		ln->p = p;
		ln->cap = cap;
	}
	memcpy(ln->p + ln->len, s, len);
	ln->len += len;
}

static void
render_line_pad(struct report_out *o, struct render_line *ln, size_t n)
{
	for (; n > 0; n--)
		render_line_put(o, ln, " ", 1);
}

/* render_line_flush - write the line without its trailing blanks, and a newline */
static void
render_line_flush(struct report_out *o, struct render_line *ln)
{
	while (ln->len > 0 && ln->p[ln->len - 1] == ' ')
		ln->len--;
	if (ln->len > 0)
		fwrite(ln->p, 1, ln->len, o->f);
	fputc('\n', o->f);
	ln->len = 0;
}

/*
 * render_line_cell - text in a field of width columns: cut with the
 * ellipsis when wider, padded on the right (or on the left: right).
 */
static void
render_line_cell(struct report_out *o, struct render_line *ln, const char *s, size_t len,
    size_t width, int right)
{
	const char *ell = o->opts.utf8 ? "\xe2\x80\xa6" : "...";
	size_t ell_w = o->opts.utf8 ? 1 : 3;
	size_t w = render_width(s, len), keep, n;
	int printable, cut = w > width;

	if (cut)
		keep = width > ell_w ? width - ell_w : 0;
	else
		keep = w;
	if (right && !cut)
		render_line_pad(o, ln, width - w);
	for (size_t i = 0, k = 0; i < len && k < keep; i += n, k++) {
		n = render_unit(s + i, len - i, &printable);
		render_line_put(o, ln, printable ? s + i : "?", printable ? n : 1);
	}
	if (cut)
		render_line_put(o, ln, ell, width >= ell_w ? strlen(ell) : 0);
	if (!right && !cut)
		render_line_pad(o, ln, width - w);
}

int
report_out_new(FILE *f, enum report_format format, const struct report_table_opts *opts,
    struct report_out **ret)
{
	struct report_out *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return -ENOMEM;
	o->f = f;
	o->format = format;
	if (opts != NULL)
		o->opts = *opts;
	if (o->opts.width == 0)
		o->opts.width = REPORT_WIDTH_DEFAULT;
	if (o->opts.title != NULL && (o->title = strdup(o->opts.title)) == NULL) {
		free(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

struct report_out *
report_out_free(struct report_out *o)
{
	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < o->n_rows * o->n_cols && o->cells != NULL; i++)
		if (o->cells[i].c.type == REPORT_TEXT)
			free((char *)o->cells[i].c.s);
	free(o->cells);
	for (size_t i = 0; i < o->n_cols; i++)
		free(o->names[i]);
	free(o->names);
	free(o->title);
	free(o);
	return NULL;
}

/* render_csv_field - one CSV field, quoted when it must be (RFC 4180) */
static void
render_csv_field(FILE *f, const char *s, size_t len)
{
	if (memchr(s, ',', len) == NULL && memchr(s, '"', len) == NULL &&
	    memchr(s, '\r', len) == NULL && memchr(s, '\n', len) == NULL) {
		fwrite(s, 1, len, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

/* render_json_string - a quoted JSON string; bytes that are not UTF-8 as \u00XX */
static void
render_json_string(FILE *f, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	fputc('"', f);
	for (size_t i = 0; i < len; i += n) {
		n = 1;
		if (s[i] >= 0x80 && (n = render_utf8_len(s + i, len - i)) > 0) {
			fwrite(s + i, 1, n, f);
			continue;
		}
		n = 1;
		switch (s[i]) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (s[i] < 0x20 || s[i] >= 0x7f)
				fprintf(f, "\\u00%c%c", hex[s[i] >> 4], hex[s[i] & 0xf]);
			else
				fputc(s[i], f);
		}
	}
	fputc('"', f);
}

/* render_number - an integer or a real as text (reals as sqlite3 shows them); 0 if none */
static int
render_number(const struct report_cell *c, char *buf, size_t size)
{
	if (c->type == REPORT_INT)
		return snprintf(buf, size, "%" PRId64, c->i);
	if (c->type == REPORT_REAL && isfinite(c->d))
		return snprintf(buf, size, "%.15g", c->d);
	return 0;
}

int
report_out_begin(struct report_out *o, size_t n_cols, const char *const *names)
{
	if (o->names != NULL || n_cols == 0)
		return -EINVAL;
	o->names = calloc(n_cols, sizeof(*o->names));
	if (o->names == NULL)
		return -ENOMEM;
	o->n_cols = n_cols;
	for (size_t i = 0; i < n_cols; i++)
		if ((o->names[i] = strdup(names[i] != NULL ? names[i] : "")) == NULL)
			return -ENOMEM;
	if (o->format == REPORT_CSV) {
		for (size_t i = 0; i < n_cols; i++) {
			if (i > 0)
				fputc(',', o->f);
			render_csv_field(o->f, o->names[i], strlen(o->names[i]));
		}
		fputs("\r\n", o->f);
	} else if (o->format == REPORT_JSON) {
		fputc('[', o->f);
	}
	return 0;
}

int
report_out_row(struct report_out *o, const struct report_cell *cells)
{
	if (o->names == NULL)
		return -EINVAL;
	if (o->error < 0)
		return o->error;
	switch (o->format) {
	case REPORT_TABLE:
		return render_store(o, cells);
	case REPORT_CSV:
		render_csv_row(o, cells);
		break;
	case REPORT_JSON:
		render_json_row(o, cells);
		break;
	}
	o->n_rows++;
	return 0;
}

int
report_out_end(struct report_out *o)
{
	if (o->error == 0 && o->format == REPORT_TABLE)
		o->error = render_table(o);
	else if (o->format == REPORT_JSON && o->names != NULL)
		fputs(o->n_rows > 0 ? "\n]\n" : "]\n", o->f);
	if (fflush(o->f) != 0 || ferror(o->f))
		return -EIO;
	return o->error;
}

static void
render_csv_row(struct report_out *o, const struct report_cell *cells)
{
	char num[64];
	int n;

	for (size_t i = 0; i < o->n_cols; i++) {
		const struct report_cell *c = &cells[i];

		if (i > 0)
			fputc(',', o->f);
		if (c->type == REPORT_TEXT)
			render_csv_field(o->f, c->s, c->len);
		else if ((n = render_number(c, num, sizeof(num))) > 0)
			fwrite(num, 1, (size_t)n, o->f);
	}
	fputs("\r\n", o->f);
}

static void
render_json_row(struct report_out *o, const struct report_cell *cells)
{
	char num[64];
	int n;

	fputs(o->n_rows > 0 ? ",\n{" : "\n{", o->f);
	for (size_t i = 0; i < o->n_cols; i++) {
		const struct report_cell *c = &cells[i];

		if (i > 0)
			fputc(',', o->f);
		render_json_string(o->f, o->names[i], strlen(o->names[i]));
		fputc(':', o->f);
		if (c->type == REPORT_TEXT)
			render_json_string(o->f, c->s, c->len);
		else if ((n = render_number(c, num, sizeof(num))) > 0)
			fwrite(num, 1, (size_t)n, o->f);
		else
			fputs("null", o->f);
	}
	fputc('}', o->f);
}

/* render_is_time - "2026-11-22T02:22:24Z", the time format of every report */
static int
render_is_time(const char *s, size_t len)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";

	if (len != sizeof(pat) - 1)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	return 1;
}

/* render_store - keep one table row; times become "YYYY-MM-DD HH:MM:SS" */
static int
render_store(struct report_out *o, const struct report_cell *cells)
{
	struct render_cell *row;

	if (o->n_rows >= REPORT_TABLE_ROWS_MAX)
		return o->error = -E2BIG;
	if (o->n_rows == o->cap_rows) {
		size_t cap = o->cap_rows > 0 ? o->cap_rows * 2 : 64;
		struct render_cell *p;

		if (cap > REPORT_TABLE_ROWS_MAX)
			cap = REPORT_TABLE_ROWS_MAX;
		p = reallocarray(o->cells, cap * o->n_cols, sizeof(*p));
		if (p == NULL)
			return o->error = -ENOMEM;
		o->cells = p;
		o->cap_rows = cap;
	}
	row = &o->cells[o->n_rows * o->n_cols];
	for (size_t i = 0; i < o->n_cols; i++) {
		char *s;

		row[i].c = cells[i];
		row[i].time = 0;
		if (cells[i].type != REPORT_TEXT)
			continue;
		if ((s = malloc(cells[i].len + 1)) == NULL) {
			/* keep the row consistent for report_out_free() */
			for (size_t j = i; j < o->n_cols; j++)
				row[j].c.type = REPORT_NULL;
			o->n_rows++;
			return o->error = -ENOMEM;
		}
		memcpy(s, cells[i].s, cells[i].len);
		s[cells[i].len] = '\0';
		if (render_is_time(s, cells[i].len)) {
			s[10] = ' ';
			s[19] = '\0';
			row[i].c.len = 19;
			row[i].time = 1;
		}
		row[i].c.s = s;
	}
	o->n_rows++;
	return 0;
}

/* render_text - the text shown for a kept cell */
static const char *
render_text(const struct render_cell *rc, char *num, size_t size, size_t *len)
{
	int n;

	if (rc->c.type == REPORT_TEXT) {
		*len = rc->c.len;
		return rc->c.s;
	}
	n = render_number(&rc->c, num, size);
	*len = n > 0 ? (size_t)n : 0;
	return num;
}

/*
 * Table layout. A column is text, numbers or times (every cell that is
 * not NULL of that kind). Widths are taken from the widest cell and the
 * header; while the line is too wide, in this order:
 *	headers wider than their cells break at an '_' onto two lines;
 *	text columns but the first shrink, widest first, to RENDER_TEXT_KEEP;
 *	times drop their seconds ("YYYY-MM-DD HH:MM"), then year and seconds
 *	("MM-DD HH:MM": the title says the period);
 *	any text column shrinks, widest first;
 *	anything shrinks.
 * The first text column is what a row is about (a listener, an address, a
 * user): it is cut last. A table whose first column is a time is shown by
 * day: a line with the date, then the rows with the time of day.
 */
#define RENDER_TEXT_KEEP	12

enum render_kind {
	RENDER_KIND_TEXT,
	RENDER_KIND_NUM,
	RENDER_KIND_TIME,
};

struct render_col {
	size_t idx;		/* index in the row */
	enum render_kind kind;
	size_t cells;		/* widest cell */
	size_t w;		/* width given */
	size_t split;		/* header broken after this many bytes ('_' dropped); 0 = not */
};

struct render_layout {
	struct render_col *cols;
	size_t n;
	size_t indent;
	int header;
	int by_day;		/* first column: time of day; dates on lines of their own */
};

/* render_hidden - a column the table leaves out (opts.hide_column) */
static int
render_hidden(const struct report_out *o, size_t c)
{
	return o->opts.hide_column != NULL && strcmp(o->names[c], o->opts.hide_column) == 0;
}

/* render_split - where a header breaks best at an '_': the narrower two-line form */
static size_t
render_split(const char *name, size_t *ret_w)
{
	size_t len = strlen(name), best = 0, best_w = render_width(name, len);

	for (size_t i = 1; i + 1 < len; i++) {
		size_t w1, w2;

		if (name[i] != '_')
			continue;
		w1 = render_width(name, i);
		w2 = render_width(name + i + 1, len - i - 1);
		if ((w1 > w2 ? w1 : w2) < best_w) {
			best_w = w1 > w2 ? w1 : w2;
			best = i;
		}
	}
	*ret_w = best_w;
	return best;
}

/* render_shrink - narrow columns of kind (or any, kind < 0) to floor, widest first */
static void
render_shrink(struct render_layout *lay, size_t *total, size_t avail, int kind, size_t skip,
    size_t floor)
{
	while (*total > avail) {
		size_t best = lay->n;

		for (size_t c = 0; c < lay->n; c++)
			if (c != skip && (kind < 0 || (int)lay->cols[c].kind == kind) &&
			    lay->cols[c].w > floor &&
			    (best == lay->n || lay->cols[c].w >= lay->cols[best].w))
				best = c;
		if (best == lay->n)
			return;
		lay->cols[best].w--;
		(*total)--;
	}
}

/* render_layout_build - see the comment above; rows [a, b), columns from c0 */
static int
render_layout_build(struct report_out *o, size_t a, size_t b, size_t c0,
    struct render_layout *lay)
{
	size_t total = 0, avail, first_text, min_w = o->opts.utf8 ? 2 : 4;
	char num[64];

	lay->cols = calloc(o->n_cols, sizeof(*lay->cols));
	if (lay->cols == NULL)
		return -ENOMEM;
	lay->n = 0;
	for (size_t c = c0; c < o->n_cols; c++) {
		struct render_col *col = &lay->cols[lay->n];
		int any = 0, all_time = 1, all_num = 1;

		if (render_hidden(o, c))
			continue;
		col->idx = c;
		for (size_t r = a; r < b; r++) {
			const struct render_cell *rc = &o->cells[r * o->n_cols + c];
			size_t len, cw;
			const char *s;

			if (rc->c.type == REPORT_NULL)
				continue;
			any = 1;
			all_time &= rc->time;
			all_num &= rc->c.type != REPORT_TEXT;
			s = render_text(rc, num, sizeof(num), &len);
			if ((cw = render_width(s, len)) > col->cells)
				col->cells = cw;
		}
		col->kind = !any ? RENDER_KIND_TEXT : all_num ? RENDER_KIND_NUM :
		    all_time ? RENDER_KIND_TIME : RENDER_KIND_TEXT;
		lay->n++;
	}
	if (lay->n == 0)
		return -EINVAL;
	lay->by_day = lay->header && lay->cols[0].kind == RENDER_KIND_TIME;
	for (size_t r = a; lay->by_day && r < b; r++)
		lay->by_day = o->cells[r * o->n_cols + lay->cols[0].idx].c.type != REPORT_NULL;
	if (lay->by_day) {
		lay->cols[0].cells = 8;		/* HH:MM:SS */
		lay->indent += 2;
	}
	for (size_t c = 0; c < lay->n; c++) {
		struct render_col *col = &lay->cols[c];
		const char *name = o->names[col->idx];
		size_t hw = lay->header ? render_width(name, strlen(name)) : 0;

		col->w = col->cells > hw ? col->cells : hw;
		total += col->w + (c > 0 ? 2 : 0);
	}
	avail = o->opts.width > lay->indent ? o->opts.width - lay->indent : 1;
	for (size_t c = 0; lay->header && total > avail && c < lay->n; c++) {
		struct render_col *col = &lay->cols[c];
		size_t hw, w;

		if (col->w <= col->cells)
			continue;
		col->split = render_split(o->names[col->idx], &hw);
		w = col->cells > hw ? col->cells : hw;
		total -= col->w - w;
		col->w = w;
	}
	for (first_text = 0; first_text < lay->n; first_text++)
		if (lay->cols[first_text].kind == RENDER_KIND_TEXT)
			break;
	render_shrink(lay, &total, avail, RENDER_KIND_TEXT, first_text, RENDER_TEXT_KEEP);
	/* all times of a table alike: first without seconds, then without year */
	for (size_t step = 0; step < 2 && total > avail; step++) {
		for (size_t c = 0; c < lay->n; c++) {
			struct render_col *col = &lay->cols[c];
			size_t to = step == 0 ? 16 : 11;

			if (col->kind == RENDER_KIND_TIME && !(lay->by_day && c == 0) && col->w > to) {
				total -= col->w - to;
				col->w = to;
			}
		}
	}
	render_shrink(lay, &total, avail, RENDER_KIND_TEXT, lay->n, min_w);
	render_shrink(lay, &total, avail, -1, lay->n, min_w);
	return 0;
}

/* render_time - the part of a "YYYY-MM-DD HH:MM:SS" cell that fits width */
static const char *
render_time(const char *s, size_t width, int time_of_day, size_t *len)
{
	if (time_of_day) {
		*len = 8;
		return s + 11;
	}
	*len = width >= 19 ? 19 : width >= 16 ? 16 : width >= 11 ? 11 : 19;
	return width >= 16 || width < 11 ? s : s + 5;
}

/* render_header - one or two lines of column names and a rule under them */
static void
render_header(struct report_out *o, const struct render_layout *lay, struct render_line *ln)
{
	int two = 0;

	for (size_t c = 0; c < lay->n; c++)
		two |= lay->cols[c].split > 0;
	for (int line = two ? 0 : 1; line < 3; line++) {
		render_line_pad(o, ln, lay->indent);
		for (size_t c = 0; c < lay->n; c++) {
			const struct render_col *col = &lay->cols[c];
			const char *name = o->names[col->idx];
			size_t len = strlen(name), off = 0;
			int right = col->kind == RENDER_KIND_NUM;

			if (c > 0)
				render_line_put(o, ln, "  ", 2);
			if (line == 2) {
				for (size_t i = 0; i < col->w; i++)
					render_line_put(o, ln, "-", 1);
				continue;
			}
			if (col->split > 0 && line == 0)
				len = col->split;
			else if (col->split > 0)
				off = col->split + 1, len -= off;
			else if (line == 0)
				len = 0;
			render_line_cell(o, ln, name + off, len, col->w, right);
		}
		render_line_flush(o, ln);
	}
}

/* render_rows - rows [a, b) as laid out */
static void
render_rows(struct report_out *o, const struct render_layout *lay, size_t a, size_t b,
    struct render_line *ln)
{
	char num[64], day[11] = "";

	for (size_t r = a; r < b; r++) {
		const struct render_cell *row = &o->cells[r * o->n_cols];

		if (lay->by_day && strncmp(row[lay->cols[0].idx].c.s, day, 10) != 0) {
			memcpy(day, row[lay->cols[0].idx].c.s, 10);
			render_line_pad(o, ln, lay->indent - 2);
			render_line_put(o, ln, day, 10);
			render_line_flush(o, ln);
		}
		render_line_pad(o, ln, lay->indent);
		for (size_t c = 0; c < lay->n; c++) {
			const struct render_col *col = &lay->cols[c];
			const struct render_cell *rc = &row[col->idx];
			size_t len;
			const char *s = render_text(rc, num, sizeof(num), &len);

			if (c > 0)
				render_line_put(o, ln, "  ", 2);
			if (rc->time)
				s = render_time(s, col->w, lay->by_day && c == 0, &len);
			render_line_cell(o, ln, s, len, col->w, col->kind == RENDER_KIND_NUM);
		}
		render_line_flush(o, ln);
	}
}

/* render_part - lay out and write rows [a, b) from column c0 on */
static void
render_part(struct report_out *o, size_t a, size_t b, size_t c0, size_t indent, int header,
    struct render_line *ln)
{
	struct render_layout lay = { .indent = indent, .header = header };
	int r = render_layout_build(o, a, b, c0, &lay);

	if (r < 0) {
		if (r == -ENOMEM)
			o->error = r;
		free(lay.cols);
		return;
	}
	if (header)
		render_header(o, &lay, ln);
	render_rows(o, &lay, a, b, ln);
	free(lay.cols);
}

static int
render_table(struct report_out *o)
{
	struct render_line ln = { 0 };
	int sectioned = o->n_cols > 1 && strcmp(o->names[0], "section") == 0;
	size_t a, b;

	if (o->title != NULL) {
		render_line_cell(o, &ln, o->title, strlen(o->title), o->opts.width, 0);
		render_line_flush(o, &ln);
	}
	if (o->names == NULL || o->n_rows == 0) {
		fputs(o->title != NULL ? "\n(no rows)\n" : "(no rows)\n", o->f);
		free(ln.p);
		return o->error;
	}
	if (!sectioned) {
		if (o->title != NULL)
			fputc('\n', o->f);
		render_part(o, 0, o->n_rows, 0, 0, 1, &ln);
		free(ln.p);
		return o->error;
	}
	for (a = 0; a < o->n_rows; a = b) {
		const struct render_cell *key = &o->cells[a * o->n_cols];
		const char *name = key->c.type == REPORT_TEXT ? key->c.s : "";
		const char *title = NULL;

		for (b = a + 1; b < o->n_rows; b++) {
			const struct render_cell *k = &o->cells[b * o->n_cols];

			if (k->c.type != key->c.type ||
			    (k->c.type == REPORT_TEXT && strcmp(k->c.s, name) != 0))
				break;
		}
		if (o->opts.section_title != NULL)
			title = o->opts.section_title(name);
		if (title == NULL)
			title = name;
		fputc('\n', o->f);
		render_line_cell(o, &ln, title, strlen(title), o->opts.width, 0);
		render_line_flush(o, &ln);
		render_part(o, a, b, 1, 2, 0, &ln);
	}
	free(ln.p);
	return o->error;
}
