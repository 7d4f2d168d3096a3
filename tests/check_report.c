/*
 * NAME
 *	check_report - report arguments (durations, times, networks) and output formats
 * DESCRIPTION
 *	Tables of text in, exact value or error out, for the --since, --from,
 *	--to, ip and --internal-networks arguments. The writer is fed cells
 *	and its exact output compared: CSV quoting (RFC 4180), JSON escaping
 *	and numbers, tables cut to their width with the ellipsis, numbers
 *	right-aligned, times shortened, sections and days. The numbers of the
 *	reports themselves are checked by tests/report.sh on a real corpus.
 * SEE ALSO
 *	report.h, cmd_report.c, report_render.c
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "testutil.h"

#define SEC	INT64_C(1000000)
#define T2	(INT64_C(1795312800) * SEC)	/* 2026-11-22T02:00:00Z */

static const struct dcase {
	const char *name, *text;
	int want_ret;
	int64_t want_sec;
} dcases[] = {
	{ "minutes", "30m", 0, 1800 },
	{ "hours", "24h", 0, 86400 },
	{ "days", "7d", 0, 7 * 86400 },
	{ "weeks", "2w", 0, 14 * 86400 },
	{ "seconds", "90s", 0, 90 },
	{ "a sum of units", "1h30m", 0, 5400 },
	{ "a zero duration is one", "0s", 0, 0 },
	{ "a number without a unit is not", "10", -EINVAL, 0 },
	{ "a unit without a number is not", "h", -EINVAL, 0 },
	{ "a negative duration is not", "-1h", -EINVAL, 0 },
	{ "a fraction is not", "1.5h", -EINVAL, 0 },
	{ "words are not", "3 days", -EINVAL, 0 },
	{ "an empty text is not", "", -EINVAL, 0 },
	{ "more than a century is refused before it overflows", "99999999999999999d", -EINVAL, 0 },
	{ "weeks that would overflow microseconds", "3000000000w", -EINVAL, 0 },
	{ "a century of days", "36500d", 0, INT64_C(36500) * 86400 },
	{ "an unknown unit is not", "3y", -EINVAL, 0 },
};

START_TEST(duration_text_gives_its_length)
{
	const struct dcase *c = &dcases[_i];
	int64_t got = -1;

	ck_assert_msg(report_parse_duration(c->text, &got) == c->want_ret, "%s", c->name);
	if (c->want_ret == 0)
		ck_assert_msg(got == c->want_sec * SEC, "%s: got %lld", c->name, (long long)got);
}
END_TEST

static const struct tcase_ {
	const char *name, *tz, *text;
	int want_ret;
	int64_t want_usec;
} tcases[] = {
	{ "RFC 3339 in UTC", "UTC", "2026-11-22T02:00:00Z", 0, T2 },
	{ "RFC 3339 with a fraction", "UTC", "2026-11-22T02:00:00.5Z", 0, T2 + SEC / 2 },
	{ "RFC 3339 with microseconds", "UTC", "2026-11-22T02:00:00.000001Z", 0, T2 + 1 },
	{ "RFC 3339 with an offset", "UTC", "2026-11-22T03:00:00+01:00", 0, T2 },
	{ "RFC 3339 with a negative offset", "UTC", "2026-11-21T21:30:00-04:30", 0, T2 },
	{ "RFC 3339 in lower case", "UTC", "2026-11-22t02:00:00z", 0, T2 },
	{ "a zone makes TZ irrelevant", "Europe/Berlin", "2026-11-22T02:00:00Z", 0, T2 },
	{ "a local time in UTC", "UTC", "2026-11-22 02:00", 0, T2 },
	{ "a local time with seconds", "UTC", "2026-11-22 02:00:00", 0, T2 },
	{ "a local time with T", "UTC", "2026-11-22T02:00", 0, T2 },
	{ "a local time in Berlin (CET in November)", "Europe/Berlin", "2026-11-22 03:00", 0, T2 },
	{ "a local time in Berlin in summer (CEST)", "Europe/Berlin", "2026-07-01 02:00", 0,
	  INT64_C(1782864000) * SEC },
	{ "a date is its local midnight", "UTC", "2026-11-22", 0, INT64_C(1795305600) * SEC },
	{ "seconds since the epoch", "Europe/Berlin", "@1795312800", 0, T2 },
	{ "a day that does not exist", "UTC", "2026-02-30", -EINVAL, 0 },
	{ "a month that does not exist", "UTC", "2026-13-01", -EINVAL, 0 },
	{ "an hour that does not exist", "UTC", "2026-11-22 25:00", -EINVAL, 0 },
	{ "an offset without minutes", "UTC", "2026-11-22T02:00:00+01", -EINVAL, 0 },
	{ "an hour without minutes", "UTC", "2026-11-22T02", -EINVAL, 0 },
	{ "a fraction without digits", "UTC", "2026-11-22T02:00:00.Z", -EINVAL, 0 },
	{ "text after the time", "UTC", "2026-11-22 02:00:00 CET", -EINVAL, 0 },
	{ "words", "UTC", "yesterday", -EINVAL, 0 },
	{ "before the epoch", "UTC", "1969-12-31", -EINVAL, 0 },
	{ "an empty epoch", "UTC", "@", -EINVAL, 0 },
	{ "a negative epoch", "UTC", "@-5", -EINVAL, 0 },
	{ "a two-digit year", "UTC", "26-11-22", -EINVAL, 0 },
};

START_TEST(time_text_gives_its_instant)
{
	const struct tcase_ *c = &tcases[_i];
	int64_t got = -1;
	int r;

	setenv("TZ", c->tz, 1);
	tzset();
	r = report_parse_time(c->text, &got);
	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_msg(r == c->want_ret, "%s: returned %d", c->name, r);
	if (c->want_ret == 0)
		ck_assert_msg(got == c->want_usec, "%s: got %lld, want %lld", c->name,
		    (long long)got, (long long)c->want_usec);
}
END_TEST

static const struct ncase {
	const char *name, *text;
	int want_ret;
	int list;		/* report_parse_nets() instead */
} ncases[] = {
	{ "an IPv4 address", "192.0.2.7", 0, 0 },
	{ "an IPv4 network", "192.0.2.0/24", 0, 0 },
	{ "a network with host bits", "192.0.2.7/24", 0, 0 },
	{ "every IPv4 address", "0.0.0.0/0", 0, 0 },
	{ "an IPv6 address", "2001:db8::7", 0, 0 },
	{ "an IPv6 network in upper case", "2001:DB8::/32", 0, 0 },
	{ "every address", "::/0", 0, 0 },
	{ "an IPv4-mapped address", "::ffff:192.0.2.7", 0, 0 },
	{ "a /128", "2001:db8::1/128", 0, 0 },
	{ "an IPv4 prefix above 32", "192.0.2.0/33", -EINVAL, 0 },
	{ "an IPv6 prefix above 128", "2001:db8::/129", -EINVAL, 0 },
	{ "an octet above 255", "192.0.2.256", -EINVAL, 0 },
	{ "a slash without length", "192.0.2.0/", -EINVAL, 0 },
	{ "two slashes", "192.0.2.0/24/8", -EINVAL, 0 },
	{ "a letter in the length", "192.0.2.0/2a", -EINVAL, 0 },
	{ "a zone index", "fe80::1%eth0", -EINVAL, 0 },
	{ "a host name", "mail.example.net", -EINVAL, 0 },
	{ "nothing", "", -EINVAL, 0 },
	{ "a list", "127.0.0.0/8,::1/128", 0, 1 },
	{ "a list with blanks", "127.0.0.0/8, ::1/128 ,10.0.0.0/8", 0, 1 },
	{ "a list of one", "198.51.100.0/24", 0, 1 },
	{ "a list with an empty item", "127.0.0.0/8,,::1", -EINVAL, 1 },
	{ "a list ending in a comma", "127.0.0.0/8,", -EINVAL, 1 },
	{ "a list with a bad item", "127.0.0.0/8,bogus", -EINVAL, 1 },
	{ "an empty list", "", -EINVAL, 1 },
};

START_TEST(network_text_is_accepted_or_not)
{
	const struct ncase *c = &ncases[_i];
	int r = c->list ? report_parse_nets(c->text) : report_parse_net(c->text);

	ck_assert_msg(r == c->want_ret, "%s: returned %d", c->name, r);
}
END_TEST

/* Output cases: columns, rows of cells, the exact text wanted. */
#define T(s)	{ REPORT_TEXT, 0, 0, (s), sizeof(s) - 1 }
#define I(v)	{ REPORT_INT, (v), 0, NULL, 0 }
#define R(v)	{ REPORT_REAL, 0, (v), NULL, 0 }
#define NUL	{ REPORT_NULL, 0, 0, NULL, 0 }
#define MAXC	4
#define MAXR	4

static const struct ocase {
	const char *name;
	enum report_format format;
	unsigned width;
	int utf8;
	const char *title, *hide;
	size_t n_cols, n_rows;
	const char *cols[MAXC];
	struct report_cell rows[MAXR][MAXC];
	const char *want;
} ocases[] = {
	{ "CSV quotes commas, quotes and line ends, and nothing else", REPORT_CSV, 0, 0,
	  NULL, NULL, 3, 2, { "text", "n", "none" },
	  { { T("a,b \"c\"\r\nd"), I(42), NUL }, { T("plain text"), I(-1), T("") } },
	  "text,n,none\r\n\"a,b \"\"c\"\"\r\nd\",42,\r\nplain text,-1,\r\n" },
	{ "CSV of no rows is the header", REPORT_CSV, 0, 0, NULL, NULL, 2, 0, { "a", "b" },
	  { { NUL } }, "a,b\r\n" },
	{ "CSV reals as sqlite3 prints them", REPORT_CSV, 0, 0, NULL, NULL, 1, 2, { "pct" },
	  { { R(54.2) }, { R(100.0) } }, "pct\r\n54.2\r\n100\r\n" },
	{ "JSON: numbers as numbers, NULL as null, strings escaped", REPORT_JSON, 0, 0,
	  NULL, NULL, 4, 1, { "s", "n", "r", "x" },
	  { { T("q\"b\\c\x01\t\n\xc3\xa9\xff"), I(7), R(0.5), NUL } },
	  "[\n{\"s\":\"q\\\"b\\\\c\\u0001\\t\\n\xc3\xa9\\u00ff\",\"n\":7,\"r\":0.5,\"x\":null}\n]\n" },
	{ "JSON of no rows is an empty array", REPORT_JSON, 0, 0, NULL, NULL, 1, 0, { "a" },
	  { { NUL } }, "[]\n" },
	{ "JSON: one object per line", REPORT_JSON, 0, 0, NULL, NULL, 1, 2, { "a" },
	  { { I(1) }, { I(2) } }, "[\n{\"a\":1},\n{\"a\":2}\n]\n" },
	{ "a table that fits is not cut; numbers right-aligned", REPORT_TABLE, 40, 1,
	  "title", NULL, 2, 2, { "name", "count" },
	  { { T("alpha"), I(5) }, { T("b"), I(1234) } },
	  "title\n\nname   count\n-----  -----\nalpha      5\nb       1234\n" },
	{ "a wide cell is cut with U+2026 to the width", REPORT_TABLE, 20, 1,
	  NULL, NULL, 2, 1, { "text", "n" },
	  { { T("abcdefghijklmnopqrstuvwxyz"), I(1) } },
	  "text               n\n-----------------  -\nabcdefghijklmnop\xe2\x80\xa6  1\n" },
	{ "without UTF-8 the cut is three dots", REPORT_TABLE, 20, 0,
	  NULL, NULL, 2, 1, { "text", "n" },
	  { { T("abcdefghijklmnopqrstuvwxyz"), I(1) } },
	  "text               n\n-----------------  -\nabcdefghijklmn...  1\n" },
	{ "control characters and bad bytes show as ?", REPORT_TABLE, 40, 1,
	  NULL, NULL, 1, 1, { "t" }, { { T("a\tb\xff" "c\xc3\xa9") } },
	  "t\n------\na?b?c\xc3\xa9\n" },
	{ "C1 controls and encoded surrogates show as ?, U+00A0 as itself", REPORT_TABLE, 40, 1,
	  NULL, NULL, 1, 1, { "t" }, { { T("a\xc2\x85" "b\xed\xa0\x80" "c\xc2\xa0") } },
	  "t\n---------\na??b???c\xc2\xa0\n" },
	{ "times lose T and Z; a time first groups by day", REPORT_TABLE, 40, 1,
	  NULL, NULL, 2, 3, { "time", "what" },
	  { { T("2026-11-22T23:59:59Z"), T("a") }, { T("2026-11-23T00:00:01Z"), T("b") },
	    { T("2026-11-23T00:00:02Z"), NUL } },
	  "  time      what\n  --------  ----\n2026-11-22\n  23:59:59  a\n2026-11-23\n"
	  "  00:00:01  b\n  00:00:02\n" },
	{ "times shorten before text is cut", REPORT_TABLE, 40, 1,
	  NULL, NULL, 3, 1, { "key", "first", "last" },
	  { { T("203.0.113.77"), T("2026-11-22T02:22:24Z"), T("2026-11-22T02:27:36Z") } },
	  "key           first        last\n------------  -----------  -----------\n"
	  "203.0.113.77  11-22 02:22  11-22 02:27\n" },
	{ "a header breaks at _ rather than cut a cell", REPORT_TABLE, 40, 1,
	  NULL, NULL, 3, 1, { "listener", "internal_pct", "proxy_errors" },
	  { { T("postfix/smtpd-proxy25"), R(3.8), I(3) } },
	  "                       internal   proxy\n"
	  "listener                    pct  errors\n"
	  "---------------------  --------  ------\n"
	  "postfix/smtpd-proxy25       3.8       3\n" },
	{ "a section column titles groups and is not shown", REPORT_TABLE, 40, 1,
	  "summary", NULL, 3, 3, { "section", "item", "count" },
	  { { T("auth"), T("smtp"), I(14) }, { T("auth"), T("imap"), I(15) },
	    { T("rejects"), T("550 5.1.1"), I(6) } },
	  "summary\n\nAUTH\n  smtp  14\n  imap  15\n\nREJECTS\n  550 5.1.1  6\n" },
	{ "a hidden column is left out of the table", REPORT_TABLE, 40, 1,
	  NULL, "client_ip", 2, 1, { "client_ip", "event" },
	  { { T("192.0.2.7"), T("connect") } }, "event\n-------\nconnect\n" },
	{ "a hidden column stays in CSV", REPORT_CSV, 40, 1,
	  NULL, "client_ip", 2, 1, { "client_ip", "event" },
	  { { T("192.0.2.7"), T("connect") } }, "client_ip,event\r\n192.0.2.7,connect\r\n" },
	{ "an empty table says so", REPORT_TABLE, 40, 1, "title", NULL, 1, 0, { "a" },
	  { { NUL } }, "title\n\n(no rows)\n" },
};

/* check_report_title - upper case: shows that the callback was used */
static const char *
check_report_title(const char *section)
{
	static char buf[32];
	size_t i;

	for (i = 0; section[i] != '\0' && i < sizeof(buf) - 1; i++)
		buf[i] = (char)(section[i] >= 'a' && section[i] <= 'z' ? section[i] - 32 :
		    section[i]);
	buf[i] = '\0';
	return buf;
}

START_TEST(cells_give_the_exact_output)
{
	const struct ocase *c = &ocases[_i];
	struct report_table_opts opts = { .title = c->title, .width = c->width,
		.utf8 = c->utf8, .section_title = check_report_title, .hide_column = c->hide };
	struct report_out *o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(report_out_new(f, c->format, &opts, &o), 0);
	ck_assert_int_eq(report_out_begin(o, c->n_cols, c->cols), 0);
	for (size_t r = 0; r < c->n_rows; r++)
		ck_assert_int_eq(report_out_row(o, c->rows[r]), 0);
	ck_assert_int_eq(report_out_end(o), 0);
	report_out_free(o);
	fclose(f);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s:\n--- got\n%s--- want\n%s", c->name, buf,
	    c->want);
	free(buf);
}
END_TEST

/* render_lines_fit - every line of s has at most width code points */
static int
render_lines_fit(const char *s, unsigned width)
{
	unsigned n = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			n = 0;
			continue;
		}
		if (((unsigned char)*s & 0xc0) != 0x80 && ++n > width)
			return 0;
	}
	return 1;
}

START_TEST(every_table_fits_its_width)
{
	static const char *const cols[] = { "time", "client_ip", "listener", "event", "user",
					    "detail", "count" };
	static const char *const texts[] = { "2001:db8:bb49:eb52:3c0d::9eb6",
					     "postfix/smtpd-proxy587", "postscreen_non_smtp_command",
					     "postmaster2@example.net",
					     "550 5.1.1 Recipient address rejected: User unknown",
					     "x", "" };
	/* 50 is about the least seven columns take: 4 each, cut with "..." */
	unsigned widths[] = { 80, 60, 50 };

	for (size_t w = 0; w < N(widths); w++) {
		for (int utf8 = 0; utf8 < 2; utf8++) {
			struct report_table_opts opts = { .width = widths[w], .utf8 = utf8,
				.title = "ip 2001:db8::/32: 2026-11-22 00:00:00 .. "
				    "2026-11-23 00:00:00 UTC" };
			struct report_out *o;
			char *buf = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&buf, &len);

			ck_assert_int_eq(report_out_new(f, REPORT_TABLE, &opts, &o), 0);
			ck_assert_int_eq(report_out_begin(o, N(cols), cols), 0);
			for (size_t r = 0; r < 50; r++) {
				struct report_cell row[N(cols)] = { T("2026-11-22T02:22:24Z") };

				for (size_t i = 1; i < N(cols) - 1; i++) {
					const char *t = texts[(r + i) % N(texts)];

					row[i] = (struct report_cell){ REPORT_TEXT, 0, 0, t,
						strlen(t) };
				}
				row[N(cols) - 1] = (struct report_cell){ REPORT_INT,
					(int64_t)r * 1000, 0, NULL, 0 };
				ck_assert_int_eq(report_out_row(o, row), 0);
			}
			ck_assert_int_eq(report_out_end(o), 0);
			report_out_free(o);
			fclose(f);
			ck_assert_msg(render_lines_fit(buf, widths[w]), "width %u, utf8 %d:\n%s",
			    widths[w], utf8, buf);
			free(buf);
		}
	}
}
END_TEST

START_TEST(rows_of_another_width_or_before_the_columns_are_refused)
{
	static const char *const cols[] = { "a" };
	struct report_cell row[1] = { I(1) };
	struct report_out *o;
	FILE *f = fopen("/dev/null", "w");

	ck_assert_int_eq(report_out_new(f, REPORT_JSON, NULL, &o), 0);
	ck_assert_int_eq(report_out_row(o, row), -EINVAL);
	ck_assert_int_eq(report_out_begin(o, 0, cols), -EINVAL);
	ck_assert_int_eq(report_out_begin(o, 1, cols), 0);
	ck_assert_int_eq(report_out_begin(o, 1, cols), -EINVAL);
	ck_assert_int_eq(report_out_row(o, row), 0);
	ck_assert_int_eq(report_out_end(o), 0);
	ck_assert_ptr_null(report_out_free(o));
	ck_assert_ptr_null(report_out_free(NULL));
	fclose(f);
}
END_TEST

START_TEST(every_report_is_embedded)
{
	static const char *const names[] = { "summary", "ip", "user", "top", "listeners",
					     "policy" };

	for (size_t i = 0; i < N(names); i++) {
		const char *sql = report_sql_find(names[i]);

		ck_assert_msg(sql != NULL, "%s is not embedded", names[i]);
		ck_assert_msg(strstr(sql, ":from") != NULL && strstr(sql, ":to") != NULL,
		    "%s takes no period", names[i]);
	}
	ck_assert_ptr_null(report_sql_find("frobnicate"));
	ck_assert_uint_eq(report_n_sqls, N(names));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	setenv("TZ", "UTC", 1);
	tzset();
	tcase_add_loop_test(tc, duration_text_gives_its_length, 0, N(dcases));
	tcase_add_loop_test(tc, time_text_gives_its_instant, 0, N(tcases));
	tcase_add_loop_test(tc, network_text_is_accepted_or_not, 0, N(ncases));
	tcase_add_loop_test(tc, cells_give_the_exact_output, 0, N(ocases));
	tcase_add_test(tc, every_table_fits_its_width);
	tcase_add_test(tc, rows_of_another_width_or_before_the_columns_are_refused);
	tcase_add_test(tc, every_report_is_embedded);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
