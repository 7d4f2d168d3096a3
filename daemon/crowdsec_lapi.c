/*
 * NAME
 *	crowdsec_lapi - the CrowdSec Local API's JSON, read and written (json-c)
 * SYNOPSIS
 *	#include "crowdsec_lapi.h"
 *
 *	struct crowdsec_stream st = { 0 };
 *	if (crowdsec_lapi_stream(body, len, now_usec, &st) == 0) {
 *		... crowdsec_set_add(set, &st.new_[i]) ...
 *		... crowdsec_set_delete(set, st.deleted[i].id) ...
 *		crowdsec_stream_clear(&st);
 *	}
 * DESCRIPTION
 *	A body is parsed whole by json-c in strict mode with UTF-8 checked,
 *	at most CROWDSEC_LAPI_DEPTH levels deep; a NUL byte, a truncated
 *	value or anything but whitespace after the value makes it not JSON
 *	(-EBADMSG). The caller bounds the body's size (the HTTP side).
 *
 *	A decision is kept only with an integer "id" from 1 to INT64_MAX (the
 *	LAPI's are SQL row ids) and string "scope", "value", "type" and
 *	"duration" holding no NUL (\u0000); "origin" and "scenario" that are
 *	missing, null or not strings are read as "" (the decision still
 *	counts: a ban is a ban whatever its label). Scope is checked before
 *	value and duration, so a "username" decision is n_other_scope even
 *	when its other members are bad. The three strings of one decision
 *	share one allocation, which d->type points at.
 *
 *	crowdsec_lapi_login() refuses (-EBADMSG) a token that is empty or
 *	holds a byte outside '!'..'~': it goes into an HTTP header. "expire"
 *	may carry a fraction and a numeric offset, as RFC 3339 allows.
 *
 *	crowdsec_lapi_alerts_json() writes start_at and stop_at to the second
 *	(as LAPI 1.4.6 was seen to take them), events_count cut to INT32_MAX
 *	(Go's int32), NULL strings as "", and no "remediation" member (with
 *	it, and no decision, the LAPI's default profile would add a ban of
 *	its own). LAPI 1.4.6 ends a decision at stop_at + duration (seen: a
 *	stop_at 1h41m old left a 4h ban 2h19m), so stop_usec should be now.
 *
 *	crowdsec_lapi_alert_ids() takes null (Go's empty list) as no ids; an
 *	element that is not a string is -EBADMSG.
 *
 *	crowdsec_lapi_message() turns control characters into spaces and
 *	drops trailing spaces; in a raw body (no "message" string) bytes
 *	above 0x7e become '?'. A message is cut on a UTF-8 character
 *	boundary.
 * SEE ALSO
 *	crowdsec_lapi.h (the contract), crowdsec_set.h,
 *	tests/check_crowdsec_lapi.c, ../shared/notes/crowdsec-offline.md (beside the repository)
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "crowdsec_lapi.h"

/* A stream is 3 levels deep (object, array, decision); 16 leaves room for odd members. */
#define CROWDSEC_LAPI_DEPTH	16

/* What became of one decision object. */
enum {
	CROWDSEC_LAPI_KEPT,
	CROWDSEC_LAPI_MALFORMED,
	CROWDSEC_LAPI_OTHER_SCOPE,
};

/* Go's duration units, in nanoseconds; µ as U+00B5 and as U+03BC. */
static const struct crowdsec_lapi_unit {
	const char *name;
	uint64_t ns;
} crowdsec_lapi_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },
	{ "\xce\xbcs", 1000 },
	{ "ms", 1000000 },
	{ "s", UINT64_C(1000000000) },
	{ "m", UINT64_C(60000000000) },
	{ "h", UINT64_C(3600000000000) },
};

static int crowdsec_lapi_parse(const char *body, size_t len, json_object **ret);
static int crowdsec_lapi_member(json_object *o, const char *key, const char **ret);
static void crowdsec_lapi_list_free(struct crowdsec_decision *v, size_t n);

/* crowdsec_lapi_isdigit - an ASCII digit, whatever the locale */
static int
crowdsec_lapi_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* crowdsec_lapi_unit_ns - nanoseconds of the unit [u, u + len); 0 if it is none */
static uint64_t
crowdsec_lapi_unit_ns(const char *u, size_t len)
{
	for (size_t i = 0; i < sizeof(crowdsec_lapi_units) / sizeof(crowdsec_lapi_units[0]); i++) {
		const struct crowdsec_lapi_unit *un = &crowdsec_lapi_units[i];

		if (strlen(un->name) == len && memcmp(un->name, u, len) == 0)
			return un->ns;
	}
	return 0;
}

/*
 * crowdsec_lapi_term - one number+unit pair at *sp, in nanoseconds, at most
 * limit; advances *sp. Up to 18 fraction digits count (more cannot change a
 * microsecond); 128-bit arithmetic keeps the fraction of an hour exact.
 */
static int
crowdsec_lapi_term(const char **sp, uint64_t limit, uint64_t *ret_ns)
{
	const char *s = *sp, *unit;
	uint64_t v = 0, f = 0, scale = 1, ns, part;
	int digits = 0;

	for (; crowdsec_lapi_isdigit(*s); s++, digits++) {
		if (v > (limit - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; crowdsec_lapi_isdigit(*s); s++, digits++) {
			if (scale < UINT64_C(1000000000000000000)) {
				f = f * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
		}
	}
	if (digits == 0)
		return -EINVAL;
	for (unit = s; *s != '\0' && *s != '.' && !crowdsec_lapi_isdigit(*s); s++)
		;
	if ((ns = crowdsec_lapi_unit_ns(unit, (size_t)(s - unit))) == 0 || v > limit / ns)
		return -EINVAL;
	part = (uint64_t)((unsigned __int128)f * ns / scale);
	if (v * ns > limit - part)
		return -EINVAL;
	*ret_ns = v * ns + part;
	*sp = s;
	return 0;
}

/* crowdsec_lapi_duration - a Go time.Duration string in microseconds, toward zero */
int
crowdsec_lapi_duration(const char *s, int64_t *ret_usec)
{
	uint64_t total = 0, limit = INT64_MAX, ns;
	int neg = 0;

	if (s == NULL)
		return -EINVAL;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ret_usec = 0;
		return 0;
	}
	if (*s == '\0')
		return -EINVAL;
	if (neg)
		limit = (uint64_t)INT64_MAX + 1;	/* Go's range: int64 nanoseconds */
	while (*s != '\0') {
		if (crowdsec_lapi_term(&s, limit, &ns) < 0 || total > limit - ns)
			return -EINVAL;
		total += ns;
	}
	*ret_usec = neg ? -(int64_t)(total / 1000) : (int64_t)(total / 1000);
	return 0;
}

/*
 * crowdsec_lapi_duration_text - usec as Go writes and reads it: "1h30m",
 * "1m30s", "1.5s"; beyond Go's range (int64 nanoseconds, 292 years) its
 * longest duration.
 */
void
crowdsec_lapi_duration_text(int64_t usec, char *buf, size_t size)
{
	uint64_t u = usec < 0 ? -(uint64_t)usec : (uint64_t)usec;
	uint64_t h, m, s, frac;
	char text[64], digits[8];
	size_t n = 0;
	int i;

	if (size == 0)
		return;
	if (u > (uint64_t)INT64_MAX / 1000)
		u = (uint64_t)INT64_MAX / 1000;
	h = u / UINT64_C(3600000000);
	m = u / 60000000 % 60;
	s = u / 1000000 % 60;
	frac = u % 1000000;
	if (u == 0) {
		snprintf(buf, size, "0s");
		return;
	}
	if (usec < 0)
		text[n++] = '-';
	if (h > 0)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%" PRIu64 "h", h);
	if (m > 0)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%" PRIu64 "m", m);
	if (s > 0 || frac > 0) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%" PRIu64, s);
		if (frac > 0) {
			snprintf(digits, sizeof(digits), "%06" PRIu64, frac);
			for (i = 5; digits[i] == '0'; i--)
				digits[i] = '\0';
			n += (size_t)snprintf(text + n, sizeof(text) - n, ".%s", digits);
		}
		snprintf(text + n, sizeof(text) - n, "s");
	}
	snprintf(buf, size, "%s", text);
}

/*
 * crowdsec_lapi_parse - the JSON value of a whole body into *ret (NULL for
 * "null"); -EBADMSG when the body is not one JSON value.
 */
static int
crowdsec_lapi_parse(const char *body, size_t len, json_object **ret)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error err;

	if (body == NULL || len == 0 || len >= INT_MAX || memchr(body, '\0', len) != NULL)
		return -EBADMSG;
	if ((tok = json_tokener_new_ex(CROWDSEC_LAPI_DEPTH)) == NULL)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	if (json_tokener_get_error(tok) == json_tokener_continue) {
		/* a value ending the body ("null", 5) waits for a delimiter: the end is one */
		obj = json_tokener_parse_ex(tok, " ", 1);
	}
	err = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (err != json_tokener_success) {
		json_object_put(obj);
		return -EBADMSG;
	}
	*ret = obj;
	return 0;
}

/*
 * crowdsec_lapi_member - o's member key as a string: 1; 0 when o is no
 * object, or key is missing or null; -1 when it is of another type or holds
 * a NUL.
 */
static int
crowdsec_lapi_member(json_object *o, const char *key, const char **ret)
{
	json_object *v;
	const char *s;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return -1;
	*ret = s;
	return 1;
}

/* crowdsec_lapi_array - o's member key as an array, NULL when missing or null; -1 otherwise */
static int
crowdsec_lapi_array(json_object *o, const char *key, json_object **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		*ret = NULL;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array))
		return -1;
	*ret = v;
	return 0;
}

/* crowdsec_lapi_id - the decision's "id", 1 to INT64_MAX; -1 if it is none */
static int
crowdsec_lapi_id(json_object *o, int64_t *ret)
{
	json_object *v;
	int64_t id;

	if (!json_object_object_get_ex(o, "id", &v) || !json_object_is_type(v, json_type_int))
		return -1;
	id = json_object_get_int64(v);
	/* json-c clamps a larger number to INT64_MAX; its unsigned reading tells */
	if (id < 1 || (id == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX))
		return -1;
	*ret = id;
	return 0;
}

/* crowdsec_lapi_expiry - now + left, saturated (now is the caller's, left is bounded) */
static int64_t
crowdsec_lapi_expiry(int64_t now_usec, int64_t left_usec)
{
	int64_t t;

	if (__builtin_add_overflow(now_usec, left_usec, &t))
		return left_usec > 0 ? INT64_MAX : INT64_MIN;
	return t;
}

/* crowdsec_lapi_labels - type, origin and scenario copied into one allocation */
static int
crowdsec_lapi_labels(json_object *o, const char *type, struct crowdsec_decision *d)
{
	const char *origin = "", *scenario = "";
	size_t lt, lo, ls;
	char *p;

	if (crowdsec_lapi_member(o, "origin", &origin) != 1)
		origin = "";
	if (crowdsec_lapi_member(o, "scenario", &scenario) != 1)
		scenario = "";
	lt = strlen(type) + 1;
	lo = strlen(origin) + 1;
	ls = strlen(scenario) + 1;
	if ((p = malloc(lt + lo + ls)) == NULL)
		return -ENOMEM;
	d->type = memcpy(p, type, lt);
	d->origin = memcpy(p + lt, origin, lo);
	d->scenario = memcpy(p + lt + lo, scenario, ls);
	return 0;
}

/* crowdsec_lapi_decision - one decision object into *ret: KEPT, MALFORMED, OTHER_SCOPE, -ENOMEM */
static int
crowdsec_lapi_decision(json_object *o, int64_t now_usec, struct crowdsec_decision *ret)
{
	struct crowdsec_decision d = { 0 };
	const char *scope, *value, *type, *duration;
	int64_t left;
	int r;

	if (!json_object_is_type(o, json_type_object) || crowdsec_lapi_id(o, &d.id) < 0 ||
	    crowdsec_lapi_member(o, "scope", &scope) != 1 ||
	    crowdsec_lapi_member(o, "value", &value) != 1 ||
	    crowdsec_lapi_member(o, "type", &type) != 1 ||
	    crowdsec_lapi_member(o, "duration", &duration) != 1)
		return CROWDSEC_LAPI_MALFORMED;
	r = crowdsec_set_key(scope, value, &d);
	if (r == -EOPNOTSUPP)
		return CROWDSEC_LAPI_OTHER_SCOPE;
	if (r < 0 || crowdsec_lapi_duration(duration, &left) < 0)
		return CROWDSEC_LAPI_MALFORMED;
	d.expires_usec = crowdsec_lapi_expiry(now_usec, left);
	if (crowdsec_lapi_labels(o, type, &d) < 0)
		return -ENOMEM;
	*ret = d;
	return CROWDSEC_LAPI_KEPT;
}

/* crowdsec_lapi_list_free - free n decisions and their array */
static void
crowdsec_lapi_list_free(struct crowdsec_decision *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)v[i].type);
	free(v);
}

/* crowdsec_lapi_list - the decisions of arr (NULL: none) into *ret, counting the skipped in st */
static int
crowdsec_lapi_list(json_object *arr, int64_t now_usec, struct crowdsec_decision **ret,
    size_t *ret_n, struct crowdsec_stream *st)
{
	struct crowdsec_decision *v = NULL;
	size_t len = arr != NULL ? json_object_array_length(arr) : 0, n = 0;
	int r;

	if (len > 0 && (v = calloc(len, sizeof(*v))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		r = crowdsec_lapi_decision(json_object_array_get_idx(arr, i), now_usec, &v[n]);
		if (r < 0) {
			crowdsec_lapi_list_free(v, n);
			return r;
		}
		if (r == CROWDSEC_LAPI_KEPT)
			n++;
		else if (r == CROWDSEC_LAPI_MALFORMED)
			st->n_malformed++;
		else
			st->n_other_scope++;
	}
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* crowdsec_lapi_stream - the answer of GET /v1/decisions/stream */
int
crowdsec_lapi_stream(const char *body, size_t len, int64_t now_usec, struct crowdsec_stream *ret)
{
	struct crowdsec_stream st = { 0 };
	json_object *top, *add, *del;
	int r;

	if ((r = crowdsec_lapi_parse(body, len, &top)) < 0)
		return r;
	if (!json_object_is_type(top, json_type_object) ||
	    crowdsec_lapi_array(top, "new", &add) < 0 ||
	    crowdsec_lapi_array(top, "deleted", &del) < 0)
		r = -EBADMSG;
	if (r == 0)
		r = crowdsec_lapi_list(add, now_usec, &st.new_, &st.n_new, &st);
	if (r == 0)
		r = crowdsec_lapi_list(del, now_usec, &st.deleted, &st.n_deleted, &st);
	json_object_put(top);
	if (r < 0) {
		crowdsec_stream_clear(&st);
		return r;
	}
	*ret = st;
	return 0;
}

/* crowdsec_lapi_decisions - the answer of GET /v1/decisions?ip= into ret->new_ */
int
crowdsec_lapi_decisions(const char *body, size_t len, int64_t now_usec,
    struct crowdsec_stream *ret)
{
	struct crowdsec_stream st = { 0 };
	json_object *top;
	int r;

	if ((r = crowdsec_lapi_parse(body, len, &top)) < 0)
		return r;
	if (top != NULL && !json_object_is_type(top, json_type_array))
		r = -EBADMSG;
	else
		r = crowdsec_lapi_list(top, now_usec, &st.new_, &st.n_new, &st);
	json_object_put(top);
	if (r < 0)
		return r;
	*ret = st;
	return 0;
}

/* crowdsec_stream_clear - free what a stream holds and zero it */
void
crowdsec_stream_clear(struct crowdsec_stream *s)
{
	if (s == NULL)
		return;
	crowdsec_lapi_list_free(s->new_, s->n_new);
	crowdsec_lapi_list_free(s->deleted, s->n_deleted);
	memset(s, 0, sizeof(*s));
}

/* crowdsec_lapi_number - n digits at s as a number; -1 if one is no digit */
static int
crowdsec_lapi_number(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!crowdsec_lapi_isdigit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* crowdsec_lapi_days - days from 1970-01-01 to y-m-d (proleptic Gregorian, m 1..12) */
static int64_t
crowdsec_lapi_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* crowdsec_lapi_mdays - the number of days in month m of year y */
static int
crowdsec_lapi_mdays(int y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mdays[m - 1] + (m == 2 && leap);
}

/* crowdsec_lapi_time - an RFC 3339 time in microseconds since the epoch; -1 if it is none */
static int
crowdsec_lapi_time(const char *s, int64_t *ret_usec)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t usec = 0, scale = 100000;
	const char *p;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	y = crowdsec_lapi_number(s, 4);
	mo = crowdsec_lapi_number(s + 5, 2);
	d = crowdsec_lapi_number(s + 8, 2);
	h = crowdsec_lapi_number(s + 11, 2);
	mi = crowdsec_lapi_number(s + 14, 2);
	sec = crowdsec_lapi_number(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > crowdsec_lapi_mdays(y, mo) || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		if (!crowdsec_lapi_isdigit(*++p))
			return -1;
		for (; crowdsec_lapi_isdigit(*p); p++, scale /= 10)
			usec += (*p - '0') * scale;
	}
	if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (strlen(p) != 6 || p[3] != ':' || (oh = crowdsec_lapi_number(p + 1, 2)) < 0 ||
		    oh > 23 || (om = crowdsec_lapi_number(p + 4, 2)) < 0 || om > 59)
			return -1;
	} else if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0) {
		return -1;
	}
	*ret_usec = ((crowdsec_lapi_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
			sign * (oh * 3600 + om * 60)) * 1000000 + usec;
	return 0;
}

/* crowdsec_lapi_token_ok - a token fit for an HTTP header: '!'..'~', at least one */
static int
crowdsec_lapi_token_ok(const char *t)
{
	if (*t == '\0')
		return 0;
	for (; *t != '\0'; t++)
		if (*t < '!' || *t > '~')
			return 0;
	return 1;
}

/* crowdsec_lapi_login - the answer of POST /v1/watchers/login */
int
crowdsec_lapi_login(const char *body, size_t len, char **ret_token, int64_t *ret_expire_usec)
{
	json_object *top;
	const char *token, *expire;
	int64_t exp = 0;
	char *t;
	int r;

	if ((r = crowdsec_lapi_parse(body, len, &top)) < 0)
		return r;
	if (crowdsec_lapi_member(top, "token", &token) != 1 || !crowdsec_lapi_token_ok(token)) {
		r = -EBADMSG;
	} else if ((t = strdup(token)) == NULL) {
		r = -ENOMEM;
	} else {
		if (crowdsec_lapi_member(top, "expire", &expire) != 1 ||
		    crowdsec_lapi_time(expire, &exp) < 0)
			exp = 0;
		*ret_token = t;
		if (ret_expire_usec != NULL)
			*ret_expire_usec = exp;
	}
	json_object_put(top);
	return r;
}

/* crowdsec_lapi_put - add v (taken) to o as key; -ENOMEM when v is NULL or adding fails */
static int
crowdsec_lapi_put(json_object *o, const char *key, json_object *v)
{
	if (v == NULL || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* crowdsec_lapi_str - a JSON string, "" for NULL */
static json_object *
crowdsec_lapi_str(const char *s)
{
	return json_object_new_string(s != NULL ? s : "");
}

/* crowdsec_lapi_time_json - usec as "YYYY-MM-DDTHH:MM:SSZ" (years 1970..9999 kept) */
static json_object *
crowdsec_lapi_time_json(int64_t usec)
{
	int64_t secs = usec / 1000000 - (usec % 1000000 < 0);
	time_t t;
	struct tm tm;
	char buf[80];		/* 21 bytes; room for what -Wformat-truncation fears */

	if (secs < 0)
		secs = 0;
	if (secs > INT64_C(253402300799))	/* 9999-12-31T23:59:59Z */
		secs = INT64_C(253402300799);
	t = (time_t)secs;
	if (gmtime_r(&t, &tm) == NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return json_object_new_string(buf);
}

/* crowdsec_lapi_source - {"scope":"Ip","value":ip,"ip":ip} */
static json_object *
crowdsec_lapi_source(const char *ip)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (crowdsec_lapi_put(o, "scope", crowdsec_lapi_str("Ip")) < 0 ||
	    crowdsec_lapi_put(o, "value", crowdsec_lapi_str(ip)) < 0 ||
	    crowdsec_lapi_put(o, "ip", crowdsec_lapi_str(ip)) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* crowdsec_lapi_decisions_json - [{duration, origin, scenario, scope, type, value}] */
static json_object *
crowdsec_lapi_decisions_json(const struct crowdsec_alert *al)
{
	json_object *arr, *o;
	char duration[64];

	if ((arr = json_object_new_array()) == NULL)
		return NULL;
	if ((o = json_object_new_object()) == NULL || json_object_array_add(arr, o) < 0) {
		json_object_put(o);
		json_object_put(arr);
		return NULL;
	}
	crowdsec_lapi_duration_text(al->duration_usec, duration, sizeof(duration));
	if (crowdsec_lapi_put(o, "duration", crowdsec_lapi_str(duration)) < 0 ||
	    crowdsec_lapi_put(o, "origin", crowdsec_lapi_str(al->origin)) < 0 ||
	    crowdsec_lapi_put(o, "scenario", crowdsec_lapi_str(al->scenario)) < 0 ||
	    crowdsec_lapi_put(o, "scope", crowdsec_lapi_str("Ip")) < 0 ||
	    crowdsec_lapi_put(o, "type", crowdsec_lapi_str(al->decision_type)) < 0 ||
	    crowdsec_lapi_put(o, "value", crowdsec_lapi_str(al->ip)) < 0) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

/* crowdsec_lapi_alert_json - one alert object with the members LAPI 1.4.6 requires */
static json_object *
crowdsec_lapi_alert_json(const struct crowdsec_alert *al)
{
	json_object *o;
	unsigned count = al->events_count > INT32_MAX ? INT32_MAX : al->events_count;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (crowdsec_lapi_put(o, "scenario", crowdsec_lapi_str(al->scenario)) < 0 ||
	    crowdsec_lapi_put(o, "scenario_hash", crowdsec_lapi_str("")) < 0 ||
	    crowdsec_lapi_put(o, "scenario_version", crowdsec_lapi_str("")) < 0 ||
	    crowdsec_lapi_put(o, "message", crowdsec_lapi_str(al->message)) < 0 ||
	    crowdsec_lapi_put(o, "events_count", json_object_new_int((int32_t)count)) < 0 ||
	    crowdsec_lapi_put(o, "events", json_object_new_array()) < 0 ||
	    crowdsec_lapi_put(o, "capacity", json_object_new_int(0)) < 0 ||
	    crowdsec_lapi_put(o, "leakspeed", crowdsec_lapi_str("0")) < 0 ||
	    crowdsec_lapi_put(o, "simulated", json_object_new_boolean(0)) < 0 ||
	    crowdsec_lapi_put(o, "start_at", crowdsec_lapi_time_json(al->start_usec)) < 0 ||
	    crowdsec_lapi_put(o, "stop_at", crowdsec_lapi_time_json(al->stop_usec)) < 0 ||
	    crowdsec_lapi_put(o, "source", crowdsec_lapi_source(al->ip)) < 0 ||
	    (al->decision_type != NULL &&
		crowdsec_lapi_put(o, "decisions", crowdsec_lapi_decisions_json(al)) < 0)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* crowdsec_lapi_alerts_json - the body of POST /v1/alerts; NULL on ENOMEM */
char *
crowdsec_lapi_alerts_json(const struct crowdsec_alert *alerts, size_t n)
{
	json_object *arr, *o;
	const char *s;
	char *body = NULL;
	size_t i;

	if ((arr = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((o = crowdsec_lapi_alert_json(&alerts[i])) == NULL ||
		    json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			break;
		}
	}
	if (i == n) {
		s = json_object_to_json_string_ext(arr,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (s != NULL)
			body = strdup(s);
	}
	json_object_put(arr);
	return body;
}

/* crowdsec_lapi_alert_ids - the number of ids in the answer of POST /v1/alerts */
int
crowdsec_lapi_alert_ids(const char *body, size_t len, size_t *ret_n)
{
	json_object *top;
	size_t n = 0;
	int r;

	if ((r = crowdsec_lapi_parse(body, len, &top)) < 0)
		return r;
	if (top != NULL && !json_object_is_type(top, json_type_array))
		r = -EBADMSG;
	if (top != NULL && r == 0) {
		n = json_object_array_length(top);
		for (size_t i = 0; i < n; i++)
			if (!json_object_is_type(json_object_array_get_idx(top, i),
				json_type_string))
				r = -EBADMSG;
	}
	json_object_put(top);
	if (r == 0)
		*ret_n = n;
	return r;
}

/*
 * crowdsec_lapi_printable - [s, s + len) for a log line into buf: control
 * characters become spaces, bytes above 0x7e '?' unless utf8 (then kept,
 * cut on a character boundary), trailing spaces dropped; the length written.
 */
static size_t
crowdsec_lapi_printable(const char *s, size_t len, int utf8, char *buf, size_t size)
{
	size_t n = 0, i = 0, cl;
	unsigned char c;

	while (i < len) {
		c = (unsigned char)s[i];
		cl = utf8 && c >= 0xf0 ? 4 : utf8 && c >= 0xe0 ? 3 : utf8 && c >= 0xc0 ? 2 : 1;
		if (n + cl >= size || i + cl > len)
			break;
		if (c < 0x20 || c == 0x7f)
			buf[n] = ' ';
		else if (c > 0x7e && !utf8)
			buf[n] = '?';
		else
			memcpy(buf + n, s + i, cl);
		n += cl;
		i += cl;
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return n;
}

/* crowdsec_lapi_message - an error answer's "message" (or its first bytes) for a log line */
int
crowdsec_lapi_message(const char *body, size_t len, char *buf, size_t size)
{
	json_object *top = NULL;
	const char *m;
	size_t n;

	if (size == 0)
		return 0;
	if (body == NULL)
		len = 0;
	if (crowdsec_lapi_parse(body, len, &top) == 0 &&
	    crowdsec_lapi_member(top, "message", &m) == 1)
		n = crowdsec_lapi_printable(m, strlen(m), 1, buf, size);
	else
		n = crowdsec_lapi_printable(body, len, 0, buf, size);
	json_object_put(top);
	return (int)n;
}
