/*
 * NAME
 *	report_args - the time and network arguments of `mxledger report`
 * SYNOPSIS
 *	#include "report.h"
 *
 *	int report_parse_duration(const char *s, int64_t *ret_usec);
 *	int report_parse_time(const char *s, int64_t *ret_usec);
 *	int report_parse_net(const char *s);
 *	int report_parse_nets(const char *s);
 * DESCRIPTION
 *	What --since, --from, --to, `ip ADDR|CIDR` and --internal-networks
 *	accept, described in report.h and mxledger(8). Pure functions but for
 *	the local time zone (TZ) of report_parse_time(); they never print.
 * RETURNS
 *	0, or -EINVAL for text that is not what was asked.
 * SEE ALSO
 *	report.h, cmd_report.c, tests/check_report.c
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

/* Longest --since: a century, far from any overflow of microseconds. */
#define REPORT_DURATION_MAX	((int64_t)100 * 366 * 86400 * 1000000)

/* report_parse_duration - "30m", "24h", "7d", "2w", "90s", "1h30m" */
int
report_parse_duration(const char *s, int64_t *ret_usec)
{
	int64_t total = 0;

	if (*s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		int64_t n = 0, unit;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++) {
			n = n * 10 + (*s - '0');
			if (n > REPORT_DURATION_MAX / 1000000)
				return -EINVAL;
		}
		switch (*s++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -EINVAL;
		}
		if (n > REPORT_DURATION_MAX / (unit * 1000000))
			return -EINVAL;
		total += n * unit * 1000000;
		if (total > REPORT_DURATION_MAX)
			return -EINVAL;
	}
	*ret_usec = total;
	return 0;
}

/* report_digits - n digits at *s into *ret, moving *s past them; -EINVAL if not */
static int
report_digits(const char **s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -EINVAL;
		v = v * 10 + (**s - '0');
	}
	*ret = v;
	return 0;
}

/*
 * report_parse_time - see report.h. Fields are range-checked against what
 * timegm()/mktime() give back, so "2026-02-30" is refused, not moved.
 */
int
report_parse_time(const char *s, int64_t *ret_usec)
{
	struct tm tm = { 0 }, chk;
	int y, mo, d, h = 0, mi = 0, sec = 0, zone = 0, off = 0, oh, om;
	int64_t usec = 0, t;

	if (*s == '@') {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (s[1] == '\0' || *end != '\0' || errno != 0 || v < 0 ||
		    v > INT64_MAX / 1000000)
			return -EINVAL;
		*ret_usec = (int64_t)v * 1000000;
		return 0;
	}
	if (report_digits(&s, 4, &y) < 0 || *s++ != '-' || report_digits(&s, 2, &mo) < 0 ||
	    *s++ != '-' || report_digits(&s, 2, &d) < 0)
		return -EINVAL;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (report_digits(&s, 2, &h) < 0 || *s++ != ':' || report_digits(&s, 2, &mi) < 0)
			return -EINVAL;
		if (*s == ':') {
			s++;
			if (report_digits(&s, 2, &sec) < 0)
				return -EINVAL;
			if (*s == '.' || *s == ',') {
				int64_t scale = 100000;

				if (!isdigit((unsigned char)*++s))
					return -EINVAL;
				for (; isdigit((unsigned char)*s); s++, scale /= 10)
					usec += (*s - '0') * scale;
			}
		}
		if (*s == 'Z' || *s == 'z') {
			zone = 1;
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1;

			if (report_digits(&s, 2, &oh) < 0 || *s++ != ':' ||
			    report_digits(&s, 2, &om) < 0 || oh > 23 || om > 59)
				return -EINVAL;
			zone = 1;
			off = sign * (oh * 3600 + om * 60);
		}
	}
	if (*s != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;	/* a leap second: its second before */
	tm.tm_isdst = -1;
	chk = tm;
	t = zone ? (int64_t)timegm(&tm) - off : (int64_t)mktime(&tm);
	if (t < 0 || tm.tm_mday != chk.tm_mday || tm.tm_mon != chk.tm_mon)
		return -EINVAL;
	*ret_usec = t * 1000000 + usec;
	return 0;
}

/* report_parse_net - an IPv4 or IPv6 address with an optional /LEN */
int
report_parse_net(const char *s)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	int v6, max;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v6 = strchr(buf, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, bin) != 1)
		return -EINVAL;
	max = v6 ? 128 : 32;
	if (slash != NULL) {
		const char *p = slash + 1;
		int bits = 0;

		if (*p == '\0' || strlen(p) > 3)
			return -EINVAL;
		for (; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			bits = bits * 10 + (*p - '0');
		}
		if (bits > max)
			return -EINVAL;
	}
	return 0;
}

/* report_parse_nets - a comma-separated list of report_parse_net(), blanks allowed */
int
report_parse_nets(const char *s)
{
	char buf[INET6_ADDRSTRLEN + 8];
	int n = 0;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);

		while (len > 0 && *s == ' ')
			s++, len--;
		while (len > 0 && s[len - 1] == ' ')
			len--;
		if (len == 0 || len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (report_parse_net(buf) < 0)
			return -EINVAL;
		n++;
		if (comma == NULL)
			return n > 0 ? 0 : -EINVAL;
		s = comma + 1;
	}
}
