/*
 * NAME
 *	envelope - split a raw log line into time, host, tag, pid and message
 * SYNOPSIS
 *	#include "envelope.h"
 *
 *	int envelope_parse(struct envelope_ctx *ctx, char *line, size_t len,
 *	    struct mx_record *ret_rec);
 * DESCRIPTION
 *	Hand-written scanners, one per envelope, chosen by the first bytes of
 *	the line (see envelope.h for the list and the contract). This runs on
 *	every line, so there is no regex, no allocation per line (the join
 *	buffer for partial container lines is allocated once, on first use) and
 *	at most one mktime(3) per distinct local hour. Every scanner works
 *	between a start and an end pointer and never reads past `len`; fields
 *	are NUL-terminated where they stand.
 *
 *	Shapes after the timestamp, shared by RFC 3164 and RFC 3339 lines:
 *	  "host tag[pid]: msg"   "host tag: msg"   "host tag[pid] msg" (rsyslog)
 *	  "tag[pid]: msg"        "tag: msg"        (no host: Dovecot log_path, busybox)
 *	  "host facility.level tag[pid]: msg"      (busybox syslogd -S)
 *	  "<fac.lvl> host tag..."                  (FreeBSD syslogd -v)
 *	  "host app procid msgid sd msg"           (RFC 5424 fields without "<PRI>1")
 *	A first token ending in ':' or ']' is a tag, so the line has no host.
 *	A Dovecot prefix "auth-worker(123):" gives program "auth-worker", pid
 *	123; other Dovecot prefixes ("auth(user,ip)<session>:") are kept whole
 *	as the program.
 * RETURNS
 *	See envelope.h.
 * SEE ALSO
 *	envelope.h, json.h (the JSON scanner for Docker and journal lines),
 *	tests/check_envelope.c, RFC 3164, RFC 3339, RFC 5424,
 *	the CRI logging spec (kubernetes/design-proposals kubelet-cri-logging),
 *	Docker's json-file log driver.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "envelope.h"
#include "json.h"

#define ENV_USEC		1000000LL
#define ENV_DAY_USEC		(86400LL * ENV_USEC)
/* how far a 3164 line may lie in the future of the reference time (clock skew, slow rotation) */
#define ENV_FUTURE_USEC		(7 * ENV_DAY_USEC)
/* month jump that means "new year" (Dec -> Jan) rather than lines out of order */
#define ENV_ROLLOVER_MONTHS	6
#define ENV_PID_DIGITS		10
#define ENV_USEC_DIGITS		18	/* 10^18 us is 31688 years; 19 digits could overflow */

/* host_tag() modes */
#define ENV_HOST_NONE		0x1	/* the line has no host (Dovecot log_path, nested lines) */
#define ENV_TRY_5424		0x2	/* "host app procid msgid sd msg" is acceptable */

struct envelope_tm {
	int year, mon, mday;	/* mon 0-11 */
	int hour, min, sec;
	int usec;
};

static int envelope_auto(struct envelope_ctx *ctx, char *p, char *end, int64_t outer, int nested,
    struct mx_record *rec);

static const char envelope_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static const char *const envelope_names[MX_ENVELOPE__MAX] = {
	[MX_ENVELOPE_AUTO] = "auto",
	[MX_ENVELOPE_SYSLOG] = "syslog",
	[MX_ENVELOPE_RFC3339] = "rfc3339",
	[MX_ENVELOPE_RFC5424] = "rfc5424",
	[MX_ENVELOPE_DOVECOT] = "dovecot",
	[MX_ENVELOPE_CRI] = "cri",
	[MX_ENVELOPE_DOCKER] = "docker",
	[MX_ENVELOPE_JOURNAL_JSON] = "journal-json",
	[MX_ENVELOPE_BARE] = "bare",
};

/* ---------------------------------------------------------------- helpers */

/* envelope_isdigit - an ASCII digit (not locale-dependent like isdigit(3)) */
static inline int
envelope_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

/* envelope_2d - two decimal digits at p (caller checked the length), or -1 */
static inline int
envelope_2d(const char *p)
{
	if (!envelope_isdigit(p[0]) || !envelope_isdigit(p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* envelope_num - a decimal number of 1..maxdig digits filling [p, end) exactly */
static int
envelope_num(const char *p, const char *end, int maxdig, int64_t *ret)
{
	int64_t v = 0;

	if (p >= end || end - p > maxdig)
		return -EINVAL;
	for (; p < end; p++) {
		if (!envelope_isdigit(*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	*ret = v;
	return 0;
}

/* envelope_skip_sp - past the spaces at p */
static inline char *
envelope_skip_sp(char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* envelope_token_end - first space at or after p, or end */
static inline char *
envelope_token_end(char *p, char *end)
{
	char *sp = memchr(p, ' ', end - p);

	return sp != NULL ? sp : end;
}

/* envelope_leap - a Gregorian leap year */
static int
envelope_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* envelope_mdays - days in month mon (0-11) of year y */
static int
envelope_mdays(int y, int mon)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return mon == 1 && envelope_leap(y) ? 29 : days[mon];
}

/* envelope_days - days since 1970-01-01 of a proleptic Gregorian date (mon 0-11) */
static int64_t
envelope_days(int y, int mon, int d)
{
	int m = mon + 1;
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* envelope_utc_year - the UTC calendar year of a timestamp */
static int
envelope_utc_year(int64_t usec)
{
	int64_t z = usec / ENV_DAY_USEC + 719468, era, doe, yoe, doy, mp, y;

	if (usec < 0 && usec % ENV_DAY_USEC != 0)
		z--;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return (int)(mp >= 10 ? y + 1 : y);
}

/* envelope_tm_valid - a date and time that exist (second 60: leap second) */
static int
envelope_tm_valid(const struct envelope_tm *tm)
{
	return tm->mon >= 0 && tm->mon < 12 && tm->mday >= 1 &&
	    tm->mday <= envelope_mdays(tm->year, tm->mon) && tm->hour < 24 && tm->min < 60 &&
	    tm->sec <= 60;
}

/* envelope_tm_utc - a time at UTC offset off_min (minutes east) to UTC microseconds */
static int64_t
envelope_tm_utc(const struct envelope_tm *tm, int off_min)
{
	int64_t s = envelope_days(tm->year, tm->mon, tm->mday) * 86400 + tm->hour * 3600 +
	    tm->min * 60 + tm->sec - off_min * 60;

	return s * ENV_USEC + tm->usec;
}

/*
 * envelope_local - local time (process TZ) to UTC microseconds. mktime() is slow
 * (it takes a lock and may stat the zone file), so the start of the current
 * hour is cached: zone offsets change on hour boundaries. In the repeated
 * hour when DST ends mktime() picks one of the two readings.
 */
static int
envelope_local(struct envelope_ctx *ctx, const struct envelope_tm *tm, int64_t *ret)
{
	int64_t key = (((int64_t)tm->year * 12 + tm->mon) * 31 + tm->mday - 1) * 24 + tm->hour;

	if (key != ctx->hour_key) {
		struct tm t = { 0 };
		time_t s;

		t.tm_year = tm->year - 1900;
		t.tm_mon = tm->mon;
		t.tm_mday = tm->mday;
		t.tm_hour = tm->hour;
		t.tm_isdst = -1;
		s = mktime(&t);
		if (s == (time_t)-1)	/* no hour starts at 23:59:59 UTC */
			return -EINVAL;
		ctx->hour_key = key;
		ctx->hour_usec = (int64_t)s * ENV_USEC;
	}
	*ret = ctx->hour_usec + (tm->min * 60 + tm->sec) * ENV_USEC + tm->usec;
	return 0;
}

/* envelope_frac - optional ".digits" (1-9 of them) at *pp into microseconds */
static int
envelope_frac(char **pp, const char *end, int *ret_usec)
{
	char *p = *pp;
	int n = 0, usec = 0;

	*ret_usec = 0;
	if (p >= end || *p != '.')
		return 0;
	for (p++; p < end && envelope_isdigit(*p); p++, n++) {
		if (n < 6)
			usec = usec * 10 + (*p - '0');
	}
	if (n == 0 || n > 9)
		return -EINVAL;
	for (; n < 6; n++)
		usec *= 10;
	*ret_usec = usec;
	*pp = p;
	return 0;
}

/* envelope_hms - "hh:mm:ss" at p (8 bytes available) */
static int
envelope_hms(const char *p, struct envelope_tm *tm)
{
	if (p[2] != ':' || p[5] != ':')
		return -EINVAL;
	tm->hour = envelope_2d(p);
	tm->min = envelope_2d(p + 3);
	tm->sec = envelope_2d(p + 6);
	if (tm->hour < 0 || tm->min < 0 || tm->sec < 0)
		return -EINVAL;
	return 0;
}

/* envelope_month - "Jan".."Dec" at p (3 bytes available) to 0-11, or -1 */
static int
envelope_month(const char *p)
{
	int i;

	for (i = 0; i < 12; i++) {
		if (p[0] == envelope_months[i][0] && p[1] == envelope_months[i][1] &&
		    p[2] == envelope_months[i][2])
			return i;
	}
	return -1;
}

/* envelope_looks_3164 - "Mmm " with a month name: the line claims a BSD timestamp */
static int
envelope_looks_3164(const char *p, const char *end)
{
	return end - p >= 4 && p[3] == ' ' && envelope_month(p) >= 0;
}

/* ------------------------------------------------------------ timestamps */

/*
 * envelope_ts3339 - "YYYY-MM-DD[T ]hh:mm:ss[.f{1,9}][Z|+hh:mm|+hhmm]" at p, followed
 * by a space or the end. Without an offset the time is local. *ret_after
 * points at the byte after the timestamp.
 */
static int
envelope_ts3339(struct envelope_ctx *ctx, char *p, char *end, int need_t, int64_t *ret_usec,
    char **ret_after)
{
	struct envelope_tm tm;
	char *q;
	int off = 0, local = 0, oh, om, y;

	if (end - p < 19 || p[4] != '-' || p[7] != '-' || p[13] != ':')
		return -EINVAL;
	if (p[10] != 'T' && p[10] != 't' && (need_t || p[10] != ' '))
		return -EINVAL;
	y = envelope_2d(p);
	tm.year = envelope_2d(p + 2);
	tm.mon = envelope_2d(p + 5) - 1;
	tm.mday = envelope_2d(p + 8);
	if (y < 0 || tm.year < 0 || tm.mday < 0 || envelope_hms(p + 11, &tm) < 0)
		return -EINVAL;
	tm.year += y * 100;
	q = p + 19;
	if (envelope_frac(&q, end, &tm.usec) < 0)
		return -EINVAL;
	if (q < end && (*q == 'Z' || *q == 'z')) {
		q++;
	} else if (q < end && (*q == '+' || *q == '-')) {
		int sign = *q == '-' ? -1 : 1;

		if (end - q >= 6 && q[3] == ':') {
			oh = envelope_2d(q + 1);
			om = envelope_2d(q + 4);
			q += 6;
		} else if (end - q >= 5) {
			oh = envelope_2d(q + 1);
			om = envelope_2d(q + 3);
			q += 5;
		} else {
			return -EINVAL;
		}
		if (oh < 0 || om < 0 || oh > 23 || om > 59)
			return -EINVAL;
		off = sign * (oh * 60 + om);
	} else {
		local = 1;
	}
	if ((q < end && *q != ' ') || !envelope_tm_valid(&tm))
		return -EINVAL;
	if (local) {
		if (envelope_local(ctx, &tm, ret_usec) < 0)
			return -EINVAL;
	} else {
		*ret_usec = envelope_tm_utc(&tm, off);
	}
	*ret_after = q;
	return 0;
}

/*
 * envelope_year - the year of a BSD timestamp, which has none. With an outer
 * timestamp (a container runtime's), the year that puts the line near it.
 * Otherwise the first line takes the year of the reference time, or the
 * year before when that would put it more than ENV_FUTURE_USEC ahead; later
 * lines follow the context: a month far behind the previous one (Dec ->
 * Jan) starts the next year, a month far ahead (a straggler from December
 * after January lines) belongs to the year before and changes nothing.
 */
static int
envelope_year(struct envelope_ctx *ctx, struct envelope_tm *tm, int64_t outer, int64_t *ret_usec)
{
	int64_t ref, usec;

	if (outer != MX_TS_UNKNOWN || ctx->year == 0) {
		if (outer != MX_TS_UNKNOWN) {
			ref = outer;
			tm->year = envelope_utc_year(ref);
		} else {
			struct tm lt;
			time_t s;

			ref = ctx->ref_usec;
			if (ref == 0 || ref == MX_TS_UNKNOWN)
				ref = ctx->ref_usec = clock_now_usec();
			s = (time_t)(ref / ENV_USEC);
			tm->year = localtime_r(&s, &lt) != NULL ? lt.tm_year + 1900 :
			    envelope_utc_year(ref);
		}
		if (!envelope_tm_valid(tm) || envelope_local(ctx, tm, &usec) < 0 ||
		    usec > ref + ENV_FUTURE_USEC)
			tm->year--;
		if (outer == MX_TS_UNKNOWN) {
			ctx->year = tm->year;
			ctx->last_mon = tm->mon;
		}
	} else {
		tm->year = ctx->year;
		if (tm->mon < ctx->last_mon - ENV_ROLLOVER_MONTHS) {
			tm->year = ++ctx->year;
			ctx->last_mon = tm->mon;
		} else if (tm->mon > ctx->last_mon + ENV_ROLLOVER_MONTHS) {
			tm->year--;
		} else {
			ctx->last_mon = tm->mon;
		}
	}
	if (!envelope_tm_valid(tm))
		return -EINVAL;
	return envelope_local(ctx, tm, ret_usec);
}

/*
 * envelope_ts3164 - "Mmm dd hh:mm:ss", day space-padded ("Nov  2"), zero-padded
 * ("Jun 04", Postfix maillog_file) or bare ("Sep 8"), optional fraction;
 * followed by a space. *ret_after points past that space.
 */
static int
envelope_ts3164(struct envelope_ctx *ctx, char *p, char *end, int64_t outer, int64_t *ret_usec,
    char **ret_after)
{
	struct envelope_tm tm;
	char *q;

	if (end - p < 15 || (tm.mon = envelope_month(p)) < 0 || p[3] != ' ')
		return -EINVAL;
	q = p + 4;
	if (*q == ' ')
		q++;
	if (!envelope_isdigit(q[0]))
		return -EINVAL;
	tm.mday = q[0] - '0';
	q++;
	if (envelope_isdigit(q[0])) {
		tm.mday = tm.mday * 10 + (q[0] - '0');
		q++;
	}
	if (*q != ' ' || end - q < 10 || envelope_hms(q + 1, &tm) < 0)
		return -EINVAL;
	q += 9;
	if (envelope_frac(&q, end, &tm.usec) < 0 || q >= end || *q != ' ')
		return -EINVAL;
	if (tm.mday < 1 || tm.mday > envelope_mdays(2000, tm.mon) || tm.hour > 23 || tm.min > 59 ||
	    tm.sec > 60)
		return -EINVAL;
	if (envelope_year(ctx, &tm, outer, ret_usec) < 0)
		return -EINVAL;
	*ret_after = q + 1;
	return 0;
}

/* ------------------------------------------------------------ host and tag */

/* envelope_set_msg - the message runs from p (after one separating space) to end */
static void
envelope_set_msg(struct mx_record *rec, char *p, char *end)
{
	if (p < end && *p == ' ')
		p++;
	if (p > end)
		p = end;
	rec->msg = p;
	rec->msg_len = (size_t)(end - p);
}

/*
 * envelope_tag - the token [p, tend) as a syslog tag: "name:", "name[pid]:",
 * "name[pid]" (rsyslog without colon), "name(pid):" (Dovecot auth-worker).
 * Returns 1 with program, pid and msg set; 0 when the token is no tag (a
 * host); -EINVAL for a broken tag ("name[abc]:", ":").
 */
static int
envelope_tag(char *p, char *tend, char *end, struct mx_record *rec)
{
	char *q = tend, *name_end, *open;
	int colon = 0;
	int64_t pid = -1;

	if (q > p && q[-1] == ':') {
		colon = 1;
		q--;
	}
	name_end = q;
	if (q > p && q[-1] == ']') {
		open = memrchr(p, '[', q - p);
		if (open == NULL || open == p)		/* "[2001:db8::1]" is a host */
			return colon ? -EINVAL : 0;
		if (envelope_num(open + 1, q - 1, ENV_PID_DIGITS, &pid) < 0)
			return -EINVAL;
		name_end = open;
	} else if (!colon) {
		return 0;
	} else if (q > p && q[-1] == ')') {
		open = memrchr(p, '(', q - p);
		if (open != NULL && open > p &&
		    envelope_num(open + 1, q - 1, ENV_PID_DIGITS, &pid) == 0)
			name_end = open;
		else
			pid = -1;
	}
	if (name_end == p)
		return -EINVAL;
	*name_end = '\0';
	rec->program = p;
	rec->pid = (long)pid;
	envelope_set_msg(rec, tend, end);
	return 1;
}

/* envelope_is_facility - busybox "auth.info": lower-case letters, one dot */
static int
envelope_is_facility(const char *p, const char *tend)
{
	const char *dot = memchr(p, '.', tend - p);

	if (dot == NULL || dot == p || dot + 1 == tend)
		return 0;
	for (; p < tend; p++) {
		if (p != dot && !(*p >= 'a' && *p <= 'z'))
			return 0;
	}
	return 1;
}

static int envelope_5424_fields(char *p, char *end, int strict_procid, struct mx_record *rec);

/* envelope_host_tag - what follows the timestamp: [host] tag msg, see DESCRIPTION */
static int
envelope_host_tag(char *p, char *end, int mode, struct mx_record *rec)
{
	char *tend;
	int r;

	p = envelope_skip_sp(p, end);
	if (p == end)
		return -EINVAL;
	tend = envelope_token_end(p, end);
	if (*p == '<' && tend[-1] == '>') {		/* FreeBSD syslogd -v "<10.5>" */
		p = envelope_skip_sp(tend, end);
		if (p == end)
			return -EINVAL;
		tend = envelope_token_end(p, end);
	}
	if ((r = envelope_tag(p, tend, end, rec)) != 0)
		return r;
	if ((mode & ENV_HOST_NONE) || tend == end)
		return -EINVAL;
	*tend = '\0';
	rec->host = p;
	p = envelope_skip_sp(tend + 1, end);
	if (p == end)
		return -EINVAL;
	tend = envelope_token_end(p, end);
	if ((r = envelope_tag(p, tend, end, rec)) != 0)
		return r;
	if (envelope_is_facility(p, tend) && tend < end) {
		p = envelope_skip_sp(tend + 1, end);
		tend = envelope_token_end(p, end);
		if (p < end && (r = envelope_tag(p, tend, end, rec)) != 0)
			return r;
		return -EINVAL;
	}
	if (mode & ENV_TRY_5424)
		return envelope_5424_fields(p, end, 1, rec);
	return -EINVAL;
}

/* ----------------------------------------------------------------- RFC 5424 */

/* envelope_5424_token - a space-terminated field; "-" is NULL */
static int
envelope_5424_token(char **pp, char *end, char **ret)
{
	char *p = *pp, *tend = memchr(p, ' ', end - p);

	if (tend == NULL || tend == p)
		return -EINVAL;
	*tend = '\0';
	*ret = tend - p == 1 && *p == '-' ? NULL : p;
	*pp = tend + 1;
	return 0;
}

/* envelope_5424_sd - "-" or one or more "[id param="value"...]" elements */
static char *
envelope_5424_sd(char *p, char *end)
{
	int quoted = 0;

	if (p < end && *p == '-')
		return p + 1;
	if (p >= end || *p != '[')
		return NULL;
	while (p < end && *p == '[') {
		for (p++; p < end; p++) {
			if (quoted && *p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				quoted = !quoted;
			else if (!quoted && *p == ']')
				break;
		}
		if (p == end)
			return NULL;
		p++;
	}
	return p;
}

/*
 * envelope_5424_fields - "APP PROCID MSGID SD [MSG]". A PROCID that is not a
 * number is allowed (pid -1) unless strict_procid, used when guessing that a
 * PRI-less line is RFC 5424.
 */
static int
envelope_5424_fields(char *p, char *end, int strict_procid, struct mx_record *rec)
{
	char *app, *procid, *msgid;
	int64_t pid = -1;

	if (envelope_5424_token(&p, end, &app) < 0 || envelope_5424_token(&p, end, &procid) < 0 ||
	    envelope_5424_token(&p, end, &msgid) < 0)
		return -EINVAL;
	if (procid != NULL &&
	    envelope_num(procid, procid + strlen(procid), ENV_PID_DIGITS, &pid) < 0) {
		if (strict_procid)
			return -EINVAL;
		pid = -1;
	}
	if ((p = envelope_5424_sd(p, end)) == NULL || (p < end && *p != ' '))
		return -EINVAL;
	envelope_set_msg(rec, p, end);
	if (rec->msg_len >= 3 && memcmp(rec->msg, "\xef\xbb\xbf", 3) == 0) {
		rec->msg += 3;
		rec->msg_len -= 3;
	}
	rec->program = app;
	rec->pid = (long)pid;
	return 1;
}

/* envelope_rfc5424 - after "<PRI>1 ": TIMESTAMP HOST APP PROCID MSGID SD MSG */
static int
envelope_rfc5424(struct envelope_ctx *ctx, char *p, char *end, struct mx_record *rec)
{
	char *host;

	if (p < end && *p == '-') {
		rec->ts_usec = MX_TS_UNKNOWN;
		p++;
	} else if (envelope_ts3339(ctx, p, end, 1, &rec->ts_usec, &p) < 0) {
		return -EINVAL;
	}
	if (p >= end || *p != ' ')
		return -EINVAL;
	p++;
	if (envelope_5424_token(&p, end, &host) < 0)
		return -EINVAL;
	rec->host = host;
	return envelope_5424_fields(p, end, 0, rec);
}

/* ------------------------------------------------------------ join buffer */

/* envelope_join_reset - forget the pieces held (the buffer stays allocated) */
static void
envelope_join_reset(struct envelope_ctx *ctx)
{
	ctx->join_len = 0;
	ctx->join_overflow = 0;
}

/* envelope_join_add - append a piece of a partial container line */
static int
envelope_join_add(struct envelope_ctx *ctx, const char *p, size_t n)
{
	if (ctx->join == NULL && (ctx->join = malloc(MX_LINE_MAX + 1)) == NULL)
		return -ENOMEM;
	if (ctx->join_overflow || n > MX_LINE_MAX - ctx->join_len) {
		ctx->join_overflow = 1;
		return 0;
	}
	memcpy(ctx->join + ctx->join_len, p, n);
	ctx->join_len += n;
	return 0;
}

/*
 * envelope_join_last - the last piece of a container line: parse it alone, or
 * the joined pieces (-E2BIG when they exceeded MX_LINE_MAX).
 */
static int
envelope_join_last(struct envelope_ctx *ctx, char *p, char *end, int64_t ts, struct mx_record *rec)
{
	char *line;
	int r;

	if (ctx->join_len == 0 && !ctx->join_overflow) {
		*end = '\0';
		line = p;
	} else {
		if ((r = envelope_join_add(ctx, p, end - p)) < 0)
			return r;
		if (ctx->join_overflow) {
			envelope_join_reset(ctx);
			return -E2BIG;
		}
		line = ctx->join;
		end = line + ctx->join_len;
		*end = '\0';
		envelope_join_reset(ctx);
	}
	if (line == end)
		return 0;
	return envelope_auto(ctx, line, end, ts, 1, rec);
}

/* --------------------------------------------------------------------- CRI */

/* envelope_cri_shape - "stdout F " / "stderr P" after the timestamp; the content or NULL */
static char *
envelope_cri_shape(char *p, char *end, int *ret_partial)
{
	if (end - p < 8 || (memcmp(p, "stdout ", 7) != 0 && memcmp(p, "stderr ", 7) != 0))
		return NULL;
	p += 7;
	if (*p != 'P' && *p != 'F')
		return NULL;
	*ret_partial = *p == 'P';
	p = envelope_token_end(p, end);		/* "F" or "F:future-tag" */
	return p < end ? p + 1 : p;
}

/* envelope_cri - a CRI line's content: hold a P piece, parse an F line */
static int
envelope_cri(struct envelope_ctx *ctx, int64_t ts, char *content, char *end, int partial,
    struct mx_record *rec)
{
	if (partial)
		return envelope_join_add(ctx, content, end - content);
	return envelope_join_last(ctx, content, end, ts, rec);
}

/* ------------------------------------------------------------ JSON lines */

enum {
	ENV_J_LOG, ENV_J_TIME, ENV_J_REALTIME, ENV_J_HOSTNAME, ENV_J_IDENTIFIER,
	ENV_J_SYSLOG_PID, ENV_J_PID, ENV_J_COMM, ENV_J_MESSAGE, ENV_J__MAX
};

/* the keys we read from Docker json-file and `journalctl -o json` lines */
static const char *const envelope_jkeys[ENV_J__MAX] = {
	[ENV_J_LOG] = "log",
	[ENV_J_TIME] = "time",
	[ENV_J_REALTIME] = "__REALTIME_TIMESTAMP",
	[ENV_J_HOSTNAME] = "_HOSTNAME",
	[ENV_J_IDENTIFIER] = "SYSLOG_IDENTIFIER",
	[ENV_J_SYSLOG_PID] = "SYSLOG_PID",
	[ENV_J_PID] = "_PID",
	[ENV_J_COMM] = "_COMM",
	[ENV_J_MESSAGE] = "MESSAGE",
};

/* envelope_docker - {"log":"...\n","stream":"stdout","time":"..."} */
static int
envelope_docker(struct envelope_ctx *ctx, struct json_val *v, struct mx_record *rec)
{
	const struct json_val *t = &v[ENV_J_TIME];
	int64_t ts = MX_TS_UNKNOWN;
	char *p, *end, *after;

	if (v[ENV_J_LOG].s == NULL || !v[ENV_J_LOG].string)
		return -EINVAL;
	if (t->s != NULL) {
		if (!t->string || envelope_ts3339(ctx, t->s, t->s + t->len, 1, &ts, &after) < 0)
			return -EINVAL;
		if (after != t->s + t->len)
			return -EINVAL;
	}
	p = v[ENV_J_LOG].s;
	end = p + v[ENV_J_LOG].len;
	if (end == p || end[-1] != '\n')	/* Docker splits lines at 16 KiB */
		return envelope_join_add(ctx, p, end - p);
	end--;
	if (end > p && end[-1] == '\r')
		end--;
	return envelope_join_last(ctx, p, end, ts, rec);
}

/* envelope_jnum - a journal number field, as JSON string or number */
static int
envelope_jnum(const struct json_val *v, int maxdig, int64_t *ret)
{
	return envelope_num(v->s, v->s + v->len, maxdig, ret);
}

/* envelope_journal_json - one `journalctl -o json` entry */
static int
envelope_journal_json(struct envelope_ctx *ctx, struct json_val *v, struct mx_record *rec)
{
	struct mx_journal_fields f = { 0 };
	int64_t n;

	if (v[ENV_J_MESSAGE].s == NULL || !v[ENV_J_MESSAGE].string)
		return -EINVAL;			/* absent, null, or binary (array of bytes) */
	if (v[ENV_J_REALTIME].s != NULL) {
		if (envelope_jnum(&v[ENV_J_REALTIME], ENV_USEC_DIGITS, &n) < 0)
			return -EINVAL;
		f.realtime_usec = (uint64_t)n;
	}
	f.hostname = v[ENV_J_HOSTNAME].string ? v[ENV_J_HOSTNAME].s : NULL;
	f.identifier = v[ENV_J_IDENTIFIER].string ? v[ENV_J_IDENTIFIER].s : NULL;
	f.comm = v[ENV_J_COMM].string ? v[ENV_J_COMM].s : NULL;
	f.pid = -1;
	if (v[ENV_J_SYSLOG_PID].s != NULL &&
	    envelope_jnum(&v[ENV_J_SYSLOG_PID], ENV_PID_DIGITS, &n) == 0)
		f.pid = (long)n;
	else if (v[ENV_J_PID].s != NULL &&
	    envelope_jnum(&v[ENV_J_PID], ENV_PID_DIGITS, &n) == 0)
		f.pid = (long)n;
	f.message = v[ENV_J_MESSAGE].s;
	f.message_len = v[ENV_J_MESSAGE].len;
	return envelope_from_fields(ctx, &f, rec);
}

/* envelope_json - a JSON line: journal entry or Docker json-file, by its keys */
static int
envelope_json(struct envelope_ctx *ctx, char *p, char *end, enum mx_envelope fmt,
    struct mx_record *rec)
{
	struct json_val v[ENV_J__MAX];

	memset(v, 0, sizeof(v));
	if (json_scan_object(p, end, envelope_jkeys, ENV_J__MAX, v) < 0)
		return -EINVAL;
	if (fmt == MX_ENVELOPE_AUTO)
		fmt = v[ENV_J_MESSAGE].s != NULL || v[ENV_J_REALTIME].s != NULL ?
		    MX_ENVELOPE_JOURNAL_JSON : MX_ENVELOPE_DOCKER;
	if (fmt == MX_ENVELOPE_JOURNAL_JSON)
		return envelope_journal_json(ctx, v, rec);
	return envelope_docker(ctx, v, rec);
}

/* ------------------------------------------------------------- dispatch */

/* envelope_tai64n - daemontools/s6 "@4000000068a1b2c30a1b2c3d " label, then the line */
static int
envelope_tai64n(struct envelope_ctx *ctx, char *p, char *end, struct mx_record *rec)
{
	int64_t sec = 0;
	int64_t nsec = 0;
	int i, h;

	if (end - p < 26 || p[25] != ' ')
		return -EINVAL;
	for (i = 1; i <= 24; i++) {
		char c = p[i] | 0x20;

		if (c >= '0' && c <= '9')
			h = c - '0';
		else if (c >= 'a' && c <= 'f')
			h = c - 'a' + 10;
		else
			return -EINVAL;
		if (i <= 16)
			sec = (i == 1 ? h & 3 : sec << 4 | h);	/* drop the 2^62 bit */
		else
			nsec = nsec << 4 | h;
	}
	if (p[1] != '4' || (sec >> 40) != 0 || nsec > 999999999)	/* 2^40 s: year 36812 */
		return -EINVAL;
	/* TAI64 label = 2^62 + 10 + Unix time (the daemontools convention) */
	p = envelope_skip_sp(p + 26, end);
	if (p == end)
		return -EINVAL;
	return envelope_auto(ctx, p, end, (sec - 10) * ENV_USEC + nsec / 1000, 1, rec);
}

/* envelope_syslog - BSD "Mmm dd hh:mm:ss" then [host] tag msg */
static int
envelope_syslog(struct envelope_ctx *ctx, char *p, char *end, int64_t outer, int mode,
    struct mx_record *rec)
{
	if (envelope_ts3164(ctx, p, end, outer, &rec->ts_usec, &p) < 0)
		return -EINVAL;
	return envelope_host_tag(p, end, mode, rec);
}

/* envelope_rfc3339 - RFC 3339 timestamp, then CRI fields or [host] tag msg */
static int
envelope_rfc3339(struct envelope_ctx *ctx, char *p, char *end, int allow_cri, int mode,
    struct mx_record *rec)
{
	int64_t ts;
	char *content;
	int partial;

	if (envelope_ts3339(ctx, p, end, 0, &ts, &p) < 0 || p == end)
		return -EINVAL;
	p++;
	if (allow_cri && (content = envelope_cri_shape(p, end, &partial)) != NULL)
		return envelope_cri(ctx, ts, content, end, partial, rec);
	rec->ts_usec = ts;
	return envelope_host_tag(p, end, mode, rec);
}

/* envelope_pri - "<PRI>" then RFC 5424 ("1 "), BSD or RFC 3339 */
static int
envelope_pri(struct envelope_ctx *ctx, char *p, char *end, int64_t outer, enum mx_envelope fmt,
    struct mx_record *rec)
{
	char *q = p + 1;
	int pri = 0;

	while (q < end && envelope_isdigit(*q) && q - p <= 3)
		pri = pri * 10 + (*q++ - '0');
	if (q == p + 1 || q >= end || *q != '>' || pri > 191)
		return -EINVAL;
	p = q + 1;
	if (end - p >= 2 && p[0] == '1' && p[1] == ' ')
		return fmt == MX_ENVELOPE_AUTO || fmt == MX_ENVELOPE_RFC5424 ?
		    envelope_rfc5424(ctx, p + 2, end, rec) : -EINVAL;
	if (fmt == MX_ENVELOPE_RFC5424)
		return -EINVAL;
	if (envelope_looks_3164(p, end) && fmt != MX_ENVELOPE_RFC3339)
		return envelope_syslog(ctx, p, end, outer, 0, rec);
	if (end - p > 4 && envelope_isdigit(*p) && p[4] == '-' && fmt != MX_ENVELOPE_SYSLOG)
		return envelope_rfc3339(ctx, p, end, 0, ENV_TRY_5424, rec);
	return -EINVAL;
}

/*
 * envelope_auto - pick the envelope by the first bytes. Nested lines (inside CRI,
 * Docker or TAI64N) cannot be containers again and may have no timestamp at
 * all ("imap-login: Info: ..."): they then take the outer one.
 */
static int
envelope_auto(struct envelope_ctx *ctx, char *p, char *end, int64_t outer, int nested,
    struct mx_record *rec)
{
	int c = (unsigned char)*p;

	if (envelope_isdigit(c) && end - p > 4 && p[4] == '-')
		return envelope_rfc3339(ctx, p, end, !nested, ENV_TRY_5424, rec);
	if (envelope_looks_3164(p, end))
		return envelope_syslog(ctx, p, end, outer, 0, rec);
	if (c == '<')
		return envelope_pri(ctx, p, end, outer, MX_ENVELOPE_AUTO, rec);
	if (!nested && c == '{')
		return envelope_json(ctx, p, end, MX_ENVELOPE_AUTO, rec);
	if (!nested && c == '@')
		return envelope_tai64n(ctx, p, end, rec);
	if (!nested)
		return -EINVAL;
	rec->ts_usec = outer;
	return envelope_host_tag(p, end, ENV_HOST_NONE, rec);
}

/* envelope_forced - a configured envelope: no guessing */
static int
envelope_forced(struct envelope_ctx *ctx, char *p, char *end, struct mx_record *rec)
{
	int64_t ts;
	char *content;
	int partial;

	switch (ctx->fmt) {
	case MX_ENVELOPE_SYSLOG:
		if (*p == '<')
			return envelope_pri(ctx, p, end, MX_TS_UNKNOWN, ctx->fmt, rec);
		return envelope_syslog(ctx, p, end, MX_TS_UNKNOWN, 0, rec);
	case MX_ENVELOPE_RFC3339:
		if (*p == '<')
			return envelope_pri(ctx, p, end, MX_TS_UNKNOWN, ctx->fmt, rec);
		return envelope_rfc3339(ctx, p, end, 0, ENV_TRY_5424, rec);
	case MX_ENVELOPE_RFC5424:
		if (*p != '<')
			return -EINVAL;
		return envelope_pri(ctx, p, end, MX_TS_UNKNOWN, ctx->fmt, rec);
	case MX_ENVELOPE_DOVECOT:
		if (envelope_isdigit((unsigned char)*p))
			return envelope_rfc3339(ctx, p, end, 0, ENV_HOST_NONE, rec);
		return envelope_syslog(ctx, p, end, MX_TS_UNKNOWN, ENV_HOST_NONE, rec);
	case MX_ENVELOPE_CRI:
		if (envelope_ts3339(ctx, p, end, 1, &ts, &p) < 0 || p == end ||
		    (content = envelope_cri_shape(p + 1, end, &partial)) == NULL)
			return -EINVAL;
		return envelope_cri(ctx, ts, content, end, partial, rec);
	case MX_ENVELOPE_DOCKER:
	case MX_ENVELOPE_JOURNAL_JSON:
		return envelope_json(ctx, p, end, ctx->fmt, rec);
	case MX_ENVELOPE_BARE:
		*end = '\0';
		rec->msg = p;
		rec->msg_len = (size_t)(end - p);
		return 1;
	default:
		return envelope_auto(ctx, p, end, MX_TS_UNKNOWN, 0, rec);
	}
}

/* envelope_rec_init - a record with every field unknown */
static void
envelope_rec_init(struct mx_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ts_usec = MX_TS_UNKNOWN;
	rec->pid = -1;
}

/* ------------------------------------------------------------------ public */

/* envelope_init - a context for one source; ref_usec 0 means "now" */
void
envelope_init(struct envelope_ctx *ctx, enum mx_envelope fmt, int64_t ref_usec)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->fmt = fmt;
	ctx->ref_usec = ref_usec;
	ctx->year = 0;
	ctx->last_mon = -1;
	ctx->hour_key = -1;
}

/* envelope_done - release the join buffer; the context may be initialised again */
void
envelope_done(struct envelope_ctx *ctx)
{
	free(ctx->join);
	ctx->join = NULL;
	envelope_join_reset(ctx);
}

/* envelope_parse - one raw line (without or with its newline) into a record */
int
envelope_parse(struct envelope_ctx *ctx, char *line, size_t len, struct mx_record *ret_rec)
{
	struct mx_record rec;
	char *p = line, *end = line + len;
	int r;

	if (memchr(line, '\0', len) != NULL)
		return -EINVAL;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)	/* BOM of a file's first line */
		p += 3;
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*end = '\0';
	if (p == end || *p == '#')
		return 0;
	if (*p == ' ' || *p == '\t') {
		char *q = p;

		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q == end)
			return 0;
	}
	envelope_rec_init(&rec);
	r = ctx->fmt == MX_ENVELOPE_AUTO ? envelope_auto(ctx, p, end, MX_TS_UNKNOWN, 0, &rec) :
	    envelope_forced(ctx, p, end, &rec);
	if (r == 1)
		*ret_rec = rec;
	return r;
}

/* envelope_from_fields - a journal entry (sd-journal or journalctl -o json) into a record */
int
envelope_from_fields(struct envelope_ctx *ctx, const struct mx_journal_fields *f,
    struct mx_record *ret_rec)
{
	struct mx_record rec;
	size_t n = f->message_len;

	(void)ctx;
	if (f->message == NULL || memchr(f->message, '\0', n) != NULL)
		return -EINVAL;
	while (n > 0 && (f->message[n - 1] == '\n' || f->message[n - 1] == '\r'))
		n--;
	f->message[n] = '\0';
	envelope_rec_init(&rec);
	rec.program = f->identifier != NULL && *f->identifier != '\0' ? f->identifier : f->comm;
	if (rec.program == NULL || *rec.program == '\0')
		return -EINVAL;
	if (f->realtime_usec != 0 && f->realtime_usec <= INT64_MAX)
		rec.ts_usec = (int64_t)f->realtime_usec;
	rec.host = f->hostname;
	rec.pid = f->pid >= 0 ? f->pid : -1;
	rec.msg = f->message;
	rec.msg_len = n;
	*ret_rec = rec;
	return 1;
}

/* envelope_name - the configuration name of an envelope, NULL when out of range */
const char *
envelope_name(enum mx_envelope fmt)
{
	if ((unsigned)fmt >= MX_ENVELOPE__MAX)
		return NULL;
	return envelope_names[fmt];
}

/* envelope_from_name - the envelope called name ("auto", "syslog", ...) */
int
envelope_from_name(const char *name, enum mx_envelope *ret)
{
	int i;

	for (i = 0; i < MX_ENVELOPE__MAX; i++) {
		if (strcmp(name, envelope_names[i]) == 0) {
			*ret = (enum mx_envelope)i;
			return 0;
		}
	}
	return -EINVAL;
}
