/*
 * NAME
 *	check_crowdsec_lapi - LAPI bodies in, exact decisions, tokens and alert JSON out
 * DESCRIPTION
 *	The bodies are those a CrowdSec 1.4.6 LAPI sent (captured from a
 *	throwaway instance on loopback, see ../shared/notes/crowdsec-offline.md (beside the repository)
 *	sections 3 and 4), and variations of them that a broken or hostile
 *	server could send: every decision that comes out is checked member by
 *	member, every body that must be refused is refused with nothing
 *	written and nothing leaked (ASan's leak check runs in make check).
 *	Alert bodies are parsed back with json-c and checked member by member.
 * SEE ALSO
 *	crowdsec_lapi.h
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "crowdsec_lapi.h"
#include "testutil.h"

#define US	INT64_C(1)
#define MS	(1000 * US)
#define SEC	(1000 * MS)
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define NOW	TST_TS			/* 2026-11-22T01:02:03Z */
#define MIB	(1024 * 1024)

/* ------------------------------------------------------------ durations */

static const struct dcase {
	const char *name, *text;
	int ret;
	int64_t usec;
} dcases[] = {
	{ "time left of a fresh 4h ban, nanoseconds cut to microseconds",
	  "3h59m59.041257944s", 0, 3 * HOUR + 59 * MIN + 59 * SEC + 41257 },
	{ "a deletion just now is a negative fraction of a millisecond count",
	  "-464.028894ms", 0, -464028 },
	{ "a deleted decision seconds ago", "-3.210639783s", 0, -3210639 },
	{ "a whole hour", "1h", 0, HOUR },
	{ "a bare zero is the one number without unit Go takes", "0", 0, 0 },
	{ "a signed zero", "-0", 0, 0 },
	{ "zero with a unit", "0s", 0, 0 },
	{ "a plus sign is allowed", "+90s", 0, 90 * SEC },
	{ "micro with U+00B5 MICRO SIGN", "1\xc2\xb5s", 0, 1 },
	{ "micro with U+03BC GREEK SMALL LETTER MU", "1\xce\xbcs", 0, 1 },
	{ "micro spelled us", "250us", 0, 250 },
	{ "a fraction of an hour is exact", "1.5h", 0, 90 * MIN },
	{ "a third of an hour in many digits", "0.333333333333333333333h", 0, 1199999999 },
	{ "two units", "2h45m", 0, 2 * HOUR + 45 * MIN },
	{ "every unit in one string", "1h1m1s1ms1us1ns", 0, HOUR + MIN + SEC + MS + 1 },
	{ "units may repeat and come in any order", "1s1h", 0, HOUR + SEC },
	{ "a fraction without integer part", ".5s", 0, 500 * MS },
	{ "a point without fraction digits, as Go takes it", "1.h", 0, HOUR },
	{ "nanoseconds below a microsecond are cut to zero", "100ns", 0, 0 },
	{ "negative nanoseconds below a microsecond are cut to zero", "-999ns", 0, 0 },
	{ "the longest positive duration",
	  "2562047h47m16.854775807s", 0, INT64_C(9223372036854775) },
	{ "the longest negative duration is one nanosecond longer",
	  "-2562047h47m16.854775808s", 0, -INT64_C(9223372036854775) },
	{ "the same in nanoseconds", "9223372036854775807ns", 0, INT64_C(9223372036854775) },
	{ "empty", "", -EINVAL, 0 },
	{ "a sign alone", "-", -EINVAL, 0 },
	{ "a unit without number", "h", -EINVAL, 0 },
	{ "a number without unit", "1", -EINVAL, 0 },
	{ "two zeros are a number without unit", "00", -EINVAL, 0 },
	{ "an unknown unit", "1x", -EINVAL, 0 },
	{ "an unknown unit made of known letters", "1hs", -EINVAL, 0 },
	{ "a unit Go does not have", "1d", -EINVAL, 0 },
	{ "a sign inside", "1h-2m", -EINVAL, 0 },
	{ "two signs", "--1s", -EINVAL, 0 },
	{ "a point alone", ".s", -EINVAL, 0 },
	{ "two points", "1.2.3s", -EINVAL, 0 },
	{ "a space inside", "1h 2m", -EINVAL, 0 },
	{ "a trailing space", "1h ", -EINVAL, 0 },
	{ "a leading space", " 1h", -EINVAL, 0 },
	{ "upper case unit", "1H", -EINVAL, 0 },
	{ "a lone micro sign byte", "1\xc2s", -EINVAL, 0 },
	{ "one hour past the longest", "2562048h", -EINVAL, 0 },
	{ "one nanosecond past the longest", "2562047h47m16.854775808s", -EINVAL, 0 },
	{ "past the longest negative", "-2562047h47m16.854775809s", -EINVAL, 0 },
	{ "a sum that overflows", "2562047h2562047h", -EINVAL, 0 },
	{ "nanoseconds past int64", "9223372036854775808ns", -EINVAL, 0 },
	{ "a number past uint64", "99999999999999999999999s", -EINVAL, 0 },
	{ "a fraction overflowing with its integer part", "2562047.99999999h", -EINVAL, 0 },
};

START_TEST(duration_text_is_read_like_go)
{
	const struct dcase *c = &dcases[_i];
	int64_t usec = 12345;
	int r;

	r = crowdsec_lapi_duration(c->text, &usec);
	ck_assert_msg(r == c->ret, "%s: \"%s\": ret %d, want %d", c->name, c->text, r, c->ret);
	if (c->ret == 0)
		ck_assert_msg(usec == c->usec, "%s: \"%s\": %lld us, want %lld", c->name, c->text,
		    (long long)usec, (long long)c->usec);
	else
		ck_assert_msg(usec == 12345, "%s: output written on error", c->name);
}
END_TEST

START_TEST(duration_null_is_refused)
{
	int64_t usec = 7;

	ck_assert_int_eq(crowdsec_lapi_duration(NULL, &usec), -EINVAL);
	ck_assert_int_eq(usec, 7);
}
END_TEST

static const struct tcase_ {
	const char *name;
	int64_t usec;
	const char *want;
} tcases[] = {
	{ "whole hours", 4 * HOUR, "4h" },
	{ "hours and minutes, no zero seconds", HOUR + 30 * MIN, "1h30m" },
	{ "ninety seconds are a minute and a half", 90 * SEC, "1m30s" },
	{ "a day is hours", 86400 * SEC, "24h" },
	{ "one second", SEC, "1s" },
	{ "hours and seconds without minutes", HOUR + SEC, "1h1s" },
	{ "a fraction of a second without trailing zeros", 1500 * MS, "1.5s" },
	{ "a microsecond", SEC + 1, "1.000001s" },
	{ "a week", 7 * 24 * HOUR, "168h" },
	{ "negative", -90 * SEC, "-1m30s" },
	{ "zero", 0, "0s" },
	{ "Go's longest duration", INT64_MAX / 1000, "2562047h47m16.854775s" },
	{ "past Go's range is its longest duration", INT64_MAX, "2562047h47m16.854775s" },
	{ "the most negative value is Go's longest negative", INT64_MIN,
	  "-2562047h47m16.854775s" },
};

START_TEST(duration_is_written_the_way_go_reads_it)
{
	const struct tcase_ *c = &tcases[_i];
	char buf[64];
	int64_t back;

	memset(buf, 'x', sizeof(buf));
	crowdsec_lapi_duration_text(c->usec, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got \"%s\", want \"%s\"", c->name, buf,
	    c->want);
	ck_assert_msg(crowdsec_lapi_duration(buf, &back) == 0, "%s: does not parse back", c->name);
	if (c->usec >= -INT64_MAX / 1000 && c->usec <= INT64_MAX / 1000)
		ck_assert_msg(back == c->usec, "%s: parses back as %lld", c->name, (long long)back);
}
END_TEST

START_TEST(duration_text_is_cut_to_the_buffer)
{
	char buf[3] = "zz", one[1] = { 'z' };

	crowdsec_lapi_duration_text(HOUR + 30 * MIN, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1h");
	crowdsec_lapi_duration_text(HOUR, one, 0);
	ck_assert_int_eq(one[0], 'z');
	crowdsec_lapi_duration_text(HOUR, one, 1);
	ck_assert_int_eq(one[0], '\0');
}
END_TEST

/* --------------------------------------------------------------- stream */

struct want_dec {
	int64_t id;
	const char *net;		/* "198.51.100.0/24" */
	const char *type, *origin, *scenario;
	int64_t left;			/* expires_usec - NOW */
};

#define MAXD	8
/* a body refused whole; BADN for one holding a NUL byte (len given) */
#define BADN(name, body, len)	{ name, body, len, -EBADMSG, 0, 0, 0, { { 0 } }, 0, { { 0 } } }
#define BAD(name, body)		BADN(name, body, 0)

static const struct scase {
	const char *name;
	const char *body;
	size_t len;			/* 0: strlen(body) */
	int ret;
	size_t n_malformed, n_other_scope;
	size_t n_new;
	struct want_dec new_[MAXD];
	size_t n_deleted;
	struct want_dec deleted[MAXD];
} scases[] = {
	{ "the startup answer gives Ip and Range, ban and captcha, IPv4 and IPv6",
	  "{\"deleted\":null,\"new\":["
	  "{\"duration\":\"29m59.288027598s\",\"id\":3,\"origin\":\"cscli\",\"scenario\":"
	  "\"test captcha\",\"scope\":\"Ip\",\"type\":\"captcha\",\"value\":\"192.0.2.55\"},"
	  "{\"duration\":\"59m59.288025462s\",\"id\":1,\"origin\":\"cscli\",\"scenario\":"
	  "\"test\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.7\"},"
	  "{\"duration\":\"1h59m59.288024415s\",\"id\":2,\"origin\":\"cscli\",\"scenario\":"
	  "\"test range\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.51.100.0/24\"},"
	  "{\"duration\":\"2h59m59.288023941s\",\"id\":5,\"origin\":\"cscli\",\"scenario\":"
	  "\"test v6 range\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"2001:db8:1::/48\"},"
	  "{\"duration\":\"3h59m59.288023539s\",\"id\":4,\"origin\":\"cscli\",\"scenario\":"
	  "\"test v6\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"2001:db8::1\"}]}",
	  0, 0, 0, 0, 5, {
		{ 3, "192.0.2.55/32", "captcha", "cscli", "test captcha", 1799288027 },
		{ 1, "203.0.113.7/32", "ban", "cscli", "test", 3599288025 },
		{ 2, "198.51.100.0/24", "ban", "cscli", "test range", 7199288024 },
		{ 5, "2001:db8:1::/48", "ban", "cscli", "test v6 range", 10799288023 },
		{ 4, "2001:db8::1/128", "ban", "cscli", "test v6", 14399288023 } }, 0, { { 0 } } },
	{ "a username decision (scopes=ip,range,username) is counted as another scope",
	  "{\"deleted\":null,\"new\":["
	  "{\"duration\":\"59m59.288025462s\",\"id\":1,\"origin\":\"cscli\",\"scenario\":"
	  "\"test\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.7\"},"
	  "{\"duration\":\"59m59.288024733s\",\"id\":6,\"origin\":\"cscli\",\"scenario\":"
	  "\"manual 'ban' from 'cscli-local'\",\"scope\":\"username\",\"type\":\"ban\","
	  "\"value\":\"bob@example.com\"}]}",
	  0, 0, 0, 1, 1, {
		{ 1, "203.0.113.7/32", "ban", "cscli", "test", 3599288025 } }, 0, { { 0 } } },
	{ "country and AS decisions and a bad value in another scope are other scopes",
	  "{\"new\":["
	  "{\"duration\":\"1h\",\"id\":7,\"scope\":\"Country\",\"type\":\"ban\",\"value\":\"FR\"},"
	  "{\"duration\":\"1h\",\"id\":8,\"scope\":\"AS\",\"type\":\"ban\",\"value\":\"64496\"},"
	  "{\"duration\":\"1h\",\"id\":9,\"scope\":\"\",\"type\":\"ban\",\"value\":\"192.0.2.1\"},"
	  "{\"duration\":\"soon\",\"id\":10,\"scope\":\"username\",\"type\":\"ban\","
	  "\"value\":\"\"}],\"deleted\":["
	  "{\"duration\":\"-1s\",\"id\":11,\"scope\":\"username\",\"type\":\"ban\","
	  "\"value\":\"bob@example.com\"}]}",
	  0, 0, 0, 5, 0, { { 0 } }, 0, { { 0 } } },
	{ "an empty answer has null lists",
	  "{\"deleted\":null,\"new\":null}", 0, 0, 0, 0, 0, { { 0 } }, 0, { { 0 } } },
	{ "empty arrays are empty lists", "{\"deleted\":[],\"new\":[]}",
	  0, 0, 0, 0, 0, { { 0 } }, 0, { { 0 } } },
	{ "missing members count as null", " {} \n", 0, 0, 0, 0, 0, { { 0 } }, 0, { { 0 } } },
	{ "unknown members are ignored",
	  "{\"new\":null,\"deleted\":null,\"until\":\"x\",\"more\":{\"a\":[1,2,{}]}}",
	  0, 0, 0, 0, 0, { { 0 } }, 0, { { 0 } } },
	{ "a deletion after a pull carries a negative duration; new ones are kept too",
	  "{\"deleted\":[{\"duration\":\"-112.252294ms\",\"id\":1,\"origin\":\"cscli\","
	  "\"scenario\":\"test\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.7\"}],"
	  "\"new\":[{\"duration\":\"59m59.093512963s\",\"id\":7,\"origin\":\"cscli\","
	  "\"scenario\":\"test2\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.8\"}]}",
	  0, 0, 0, 0, 1, {
		{ 7, "203.0.113.8/32", "ban", "cscli", "test2", 3599093512 } }, 1, {
		{ 1, "203.0.113.7/32", "ban", "cscli", "test", -112252 } } },
	{ "the same deletion reported again seconds later, nothing new",
	  "{\"deleted\":[{\"duration\":\"-3.122776537s\",\"id\":1,\"origin\":\"cscli\","
	  "\"scenario\":\"test\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.7\"}],"
	  "\"new\":null}",
	  0, 0, 0, 0, 0, { { 0 } }, 1, {
		{ 1, "203.0.113.7/32", "ban", "cscli", "test", -3122776 } } },
	{ "scope is read in any case, as cscli may store it",
	  "{\"new\":[{\"duration\":\"1h\",\"id\":20,\"origin\":\"crowdsec\",\"scenario\":\"s\","
	  "\"scope\":\"ip\",\"type\":\"ban\",\"value\":\"192.0.2.20\"},"
	  "{\"duration\":\"1h\",\"id\":21,\"origin\":\"crowdsec\",\"scenario\":\"s\","
	  "\"scope\":\"RANGE\",\"type\":\"ban\",\"value\":\"192.0.2.0/28\"}]}",
	  0, 0, 0, 0, 2, {
		{ 20, "192.0.2.20/32", "ban", "crowdsec", "s", HOUR },
		{ 21, "192.0.2.0/28", "ban", "crowdsec", "s", HOUR } }, 0, { { 0 } } },
	{ "a range with host bits set is stored as its network",
	  "{\"new\":[{\"duration\":\"2h\",\"id\":22,\"origin\":\"cscli\",\"scenario\":\"r\","
	  "\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.51.100.77/24\"}]}",
	  0, 0, 0, 0, 1, {
		{ 22, "198.51.100.0/24", "ban", "cscli", "r", 2 * HOUR } }, 0, { { 0 } } },
	{ "an IPv4-mapped IPv6 address is stored as IPv4",
	  "{\"new\":[{\"duration\":\"2h\",\"id\":23,\"origin\":\"cscli\",\"scenario\":\"m\","
	  "\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"::ffff:192.0.2.9\"}]}",
	  0, 0, 0, 0, 1, {
		{ 23, "192.0.2.9/32", "ban", "cscli", "m", 2 * HOUR } }, 0, { { 0 } } },
	{ "origin and scenario missing, null or not strings are read as empty",
	  "{\"new\":[{\"duration\":\"1h\",\"id\":30,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.30\"},"
	  "{\"duration\":\"1h\",\"id\":31,\"origin\":null,\"scenario\":null,\"scope\":\"Ip\","
	  "\"type\":\"ban\",\"value\":\"192.0.2.31\"},"
	  "{\"duration\":\"1h\",\"id\":32,\"origin\":5,\"scenario\":[\"x\"],\"scope\":\"Ip\","
	  "\"type\":\"throttle\",\"value\":\"192.0.2.32\"}]}",
	  0, 0, 0, 0, 3, {
		{ 30, "192.0.2.30/32", "ban", "", "", HOUR },
		{ 31, "192.0.2.31/32", "ban", "", "", HOUR },
		{ 32, "192.0.2.32/32", "throttle", "", "", HOUR } }, 0, { { 0 } } },
	{ "escaped and non-ASCII text in scenario comes out as UTF-8",
	  "{\"new\":[{\"duration\":\"1h\",\"id\":33,\"origin\":\"cscli\",\"scenario\":"
	  "\"caf\\u00e9 \\\"x\\\" \xc3\xa9\",\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.33\"}]}",
	  0, 0, 0, 0, 1, {
		{ 33, "192.0.2.33/32", "ban", "cscli", "caf\xc3\xa9 \"x\" \xc3\xa9", HOUR } },
	  0, { { 0 } } },
	{ "malformed decisions are skipped and counted, good ones around them kept",
	  "{\"new\":["
	  "{\"duration\":\"1h\",\"id\":40,\"origin\":\"cscli\",\"scenario\":\"good\","
	  "\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"192.0.2.40\"},"
	  /* id as a string */
	  "{\"duration\":\"1h\",\"id\":\"41\",\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.41\"},"
	  /* id missing, id null, id fractional, id zero, id negative, id past int64 */
	  "{\"duration\":\"1h\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"192.0.2.41\"},"
	  "{\"duration\":\"1h\",\"id\":null,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.41\"},"
	  "{\"duration\":\"1h\",\"id\":41.5,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.41\"},"
	  "{\"duration\":\"1h\",\"id\":0,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.41\"},"
	  "{\"duration\":\"1h\",\"id\":-41,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.41\"},"
	  "{\"duration\":\"1h\",\"id\":9223372036854775808,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.41\"},"
	  /* value missing, value a number, value with a NUL, bad IP, bad range */
	  "{\"duration\":\"1h\",\"id\":42,\"scope\":\"Ip\",\"type\":\"ban\"},"
	  "{\"duration\":\"1h\",\"id\":43,\"scope\":\"Ip\",\"type\":\"ban\",\"value\":3221225985},"
	  "{\"duration\":\"1h\",\"id\":44,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.44\\u0000x\"},"
	  "{\"duration\":\"1h\",\"id\":45,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.300\"},"
	  "{\"duration\":\"1h\",\"id\":46,\"scope\":\"Range\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.0/33\"},"
	  /* bad duration, duration a number, type missing, scope missing */
	  "{\"duration\":\"4 hours\",\"id\":47,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.47\"},"
	  "{\"duration\":3600,\"id\":48,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.48\"},"
	  "{\"duration\":\"1h\",\"id\":49,\"scope\":\"Ip\",\"value\":\"192.0.2.49\"},"
	  "{\"duration\":\"1h\",\"id\":50,\"type\":\"ban\",\"value\":\"192.0.2.50\"},"
	  /* entries that are not objects */
	  "\"192.0.2.51\",null,51,[],"
	  "{\"duration\":\"2h\",\"id\":52,\"origin\":\"cscli\",\"scenario\":\"good too\","
	  "\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"2001:db8::/32\"}],"
	  "\"deleted\":[true,"
	  "{\"duration\":\"-1s\",\"id\":53,\"origin\":\"cscli\",\"scenario\":\"gone\","
	  "\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.53\"},"
	  "{\"duration\":\"-1x\",\"id\":54,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"203.0.113.54\"}]}",
	  0, 0, 22, 0, 2, {
		{ 40, "192.0.2.40/32", "ban", "cscli", "good", HOUR },
		{ 52, "2001:db8::/32", "ban", "cscli", "good too", 2 * HOUR } }, 1, {
		{ 53, "203.0.113.53/32", "ban", "cscli", "gone", -SEC } } },
	{ "a list of nothing but malformed entries gives no decisions",
	  "{\"new\":[1,2,3],\"deleted\":[{}]}", 0, 0, 4, 0, 0, { { 0 } }, 0, { { 0 } } },
	{ "the largest id is kept",
	  "{\"new\":[{\"duration\":\"1s\",\"id\":9223372036854775807,\"scope\":\"Ip\","
	  "\"type\":\"ban\",\"value\":\"192.0.2.60\"}]}",
	  0, 0, 0, 0, 1, {
		{ INT64_MAX, "192.0.2.60/32", "ban", "", "", SEC } }, 0, { { 0 } } },
	/* bodies refused whole */
	BAD("an HTML error page is not JSON", "<html><body>502 Bad Gateway</body></html>"),
	BAD("a truncated answer is not JSON",
	  "{\"deleted\":null,\"new\":[{\"duration\":\"29m59.288027598s\",\"id\":3,\"origin\":"
	  "\"cscli\",\"scenario\":\"test captcha\",\"scope\":\"Ip\",\"type\":\"capt"),
	BAD("an answer cut after the last brace but one", "{\"deleted\":null,\"new\":[]"),
	BAD("an array at the top is not a stream", "[]"),
	BAD("the point lookup's answer is not a stream",
	  "[{\"duration\":\"1h\",\"id\":1,\"origin\":\"cscli\",\"scenario\":\"t\","
	  "\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.7\"}]"),
	BAD("null at the top is not a stream", "null"),
	BAD("a string at the top", "\"new\""),
	BAD("a number at the top", "200"),
	BAD("\"new\" as a string", "{\"deleted\":null,\"new\":\"none\"}"),
	BAD("\"new\" as a number", "{\"deleted\":null,\"new\":0}"),
	BAD("\"deleted\" as an object", "{\"deleted\":{},\"new\":null}"),
	BAD("\"deleted\" wrong while \"new\" holds good decisions",
	  "{\"new\":[{\"duration\":\"1h\",\"id\":1,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.1\"}],\"deleted\":false}"),
	BAD("an empty body", ""),
	BAD("whitespace only", " \r\n\t"),
	{ "an object with neither list (an error answer: the caller checks the status) is empty",
	  "{\"message\":\"access forbidden\"}", 0, 0, 0, 0, 0, { { 0 } }, 0, { { 0 } } },
	BAD("data after the object", "{\"deleted\":null,\"new\":null} x"),
	BAD("two objects", "{}{}"),
	BADN("a NUL byte after the object", "{}\0", 3),
	BADN("a NUL byte inside a string", "{\"new\":\"a\0b\"}", 13),
	BAD("invalid UTF-8 in a string", "{\"deleted\":null,\"new\":null,\"x\":\"\xff\"}"),
	BAD("a trailing comma is not JSON", "{\"deleted\":null,}"),
	BAD("a comment is not JSON", "/* x */ {}"),
	BAD("nesting deeper than a stream ever is",
	  "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"),
};

/* decision_net - "addr/prefix" of a decision */
static void
decision_net(const struct crowdsec_decision *d, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(d->family, d->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, d->prefix);
}

static void
check_decisions(const char *name, const char *list, const struct crowdsec_decision *got,
    size_t n_got, const struct want_dec *want, size_t n_want)
{
	char net[64];

	ck_assert_msg(n_got == n_want, "%s: %s: %zu decisions, want %zu", name, list, n_got,
	    n_want);
	ck_assert_msg((got == NULL) == (n_got == 0), "%s: %s: array vs count", name, list);
	for (size_t i = 0; i < n_want; i++) {
		const struct crowdsec_decision *d = &got[i];
		const struct want_dec *w = &want[i];

		decision_net(d, net, sizeof(net));
		ck_assert_msg(d->id == w->id, "%s: %s[%zu]: id %lld, want %lld", name, list, i,
		    (long long)d->id, (long long)w->id);
		ck_assert_msg(strcmp(net, w->net) == 0, "%s: %s[%zu]: %s, want %s", name, list, i,
		    net, w->net);
		tst_str_eq(d->type, w->type, name);
		tst_str_eq(d->origin, w->origin, name);
		tst_str_eq(d->scenario, w->scenario, name);
		ck_assert_msg(d->expires_usec - NOW == w->left, "%s: %s[%zu]: left %lld, want %lld",
		    name, list, i, (long long)(d->expires_usec - NOW), (long long)w->left);
	}
}

/* stream_sentinel - what an output must still hold after a refused body */
static struct crowdsec_stream
stream_sentinel(void)
{
	static struct crowdsec_decision dummy;
	struct crowdsec_stream s = { &dummy, 77, &dummy, 78, 79, 80 };

	return s;
}

static void
check_untouched(const char *name, const struct crowdsec_stream *st)
{
	struct crowdsec_stream want = stream_sentinel();

	ck_assert_msg(memcmp(st, &want, sizeof(want)) == 0, "%s: output written on error", name);
}

typedef int (*parse_fn)(const char *body, size_t len, int64_t now_usec,
    struct crowdsec_stream *ret);

/*
 * check_answer - parse c->body with parse and compare with what c wants; a stream
 * answer has deleted decisions, a point lookup's never
 */
static void
check_answer(const struct scase *c, parse_fn parse, int stream)
{
	struct crowdsec_stream st = stream_sentinel();
	size_t len = c->len != 0 ? c->len : strlen(c->body);
	int r;

	r = parse(c->body, len, NOW, &st);
	ck_assert_msg(r == c->ret, "%s: ret %d, want %d", c->name, r, c->ret);
	if (r < 0) {
		check_untouched(c->name, &st);
		return;
	}
	ck_assert_msg(st.n_malformed == c->n_malformed, "%s: %zu malformed, want %zu", c->name,
	    st.n_malformed, c->n_malformed);
	ck_assert_msg(st.n_other_scope == c->n_other_scope, "%s: %zu other scope, want %zu",
	    c->name, st.n_other_scope, c->n_other_scope);
	check_decisions(c->name, "new", st.new_, st.n_new, c->new_, c->n_new);
	if (stream)
		check_decisions(c->name, "deleted", st.deleted, st.n_deleted, c->deleted,
		    c->n_deleted);
	else
		ck_assert(st.deleted == NULL && st.n_deleted == 0);
	crowdsec_stream_clear(&st);
	ck_assert(st.new_ == NULL && st.n_new == 0 && st.deleted == NULL && st.n_deleted == 0 &&
	    st.n_malformed == 0 && st.n_other_scope == 0);
}

START_TEST(stream_answer_gives_exact_decisions)
{
	check_answer(&scases[_i], crowdsec_lapi_stream, 1);
}
END_TEST

START_TEST(stream_clear_takes_zeroed_and_null)
{
	struct crowdsec_stream st = { 0 };

	crowdsec_stream_clear(&st);
	crowdsec_stream_clear(&st);
	crowdsec_stream_clear(NULL);
	ck_assert(st.new_ == NULL && st.n_new == 0);
}
END_TEST

/* A startup answer of 10000 decisions: all kept, in order, nothing else counted. */
START_TEST(stream_of_ten_thousand_decisions_is_read_whole)
{
	enum { COUNT = 10000 };
	size_t size = (size_t)COUNT * 200 + 64, n = 0;
	char *body = malloc(size), net[64], want[64];
	struct crowdsec_stream st = { 0 };

	ck_assert_ptr_nonnull(body);
	n += (size_t)snprintf(body + n, size - n, "{\"deleted\":null,\"new\":[");
	for (int i = 0; i < COUNT; i++)
		n += (size_t)snprintf(body + n, size - n,
		    "%s{\"duration\":\"%dm\",\"id\":%d,\"origin\":\"crowdsec\",\"scenario\":"
		    "\"crowdsecurity/postfix-spam\",\"scope\":\"Ip\",\"type\":\"ban\","
		    "\"value\":\"2001:db8::%x\"}", i == 0 ? "" : ",", i % 240 + 1, i + 1, i + 1);
	n += (size_t)snprintf(body + n, size - n, "]}");
	ck_assert_uint_lt(n, size - 1);
	ck_assert_int_eq(crowdsec_lapi_stream(body, n, NOW, &st), 0);
	ck_assert_uint_eq(st.n_new, COUNT);
	ck_assert_uint_eq(st.n_deleted + st.n_malformed + st.n_other_scope, 0);
	for (int i = 0; i < COUNT; i++) {
		decision_net(&st.new_[i], net, sizeof(net));
		snprintf(want, sizeof(want), "2001:db8::%x/128", i + 1);
		ck_assert_str_eq(net, want);
		ck_assert_int_eq(st.new_[i].id, i + 1);
		ck_assert_int_eq(st.new_[i].expires_usec, NOW + (i % 240 + 1) * MIN);
		ck_assert_str_eq(st.new_[i].scenario, "crowdsecurity/postfix-spam");
	}
	crowdsec_stream_clear(&st);
	free(body);
}
END_TEST

/* ------------------------------------------------- big and hostile bodies */

static const char *const big_names[] = {
	"1 MiB of random bytes",
	"an object opening 1 MiB of garbage",
	"1 MiB of opening brackets",
	"a stream followed by 1 MiB of spaces and a letter",
	"1 MiB of whitespace",
	"a string of 1 MiB never closed",
};

/* big_body - the hostile body number i, 1 MiB long, no NUL */
static char *
big_body(int i, size_t *ret_len)
{
	size_t len = MIB;
	char *b = malloc(len);
	uint32_t x = 2463534242u;

	ck_assert_ptr_nonnull(b);
	for (size_t k = 0; k < len; k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		switch (i) {
		case 0: b[k] = (char)(x % 255 + 1); break;
		case 1: b[k] = k == 0 ? '{' : (char)('a' + x % 26); break;
		case 2: b[k] = '['; break;
		case 3: b[k] = ' '; break;
		case 4: b[k] = " \t\r\n"[x % 4]; break;
		default: b[k] = k == 0 ? '"' : 'a'; break;
		}
	}
	if (i == 3) {
		memcpy(b, "{\"deleted\":null,\"new\":null}", 27);
		b[len - 1] = 'x';
	}
	*ret_len = len;
	return b;
}

START_TEST(big_hostile_bodies_are_refused_without_leaks)
{
	struct crowdsec_stream st = stream_sentinel();
	size_t len, ids = 99;
	char *body = big_body(_i, &len), *token = NULL, msg[64];
	int64_t exp = 5;

	ck_assert_msg(crowdsec_lapi_stream(body, len, NOW, &st) == -EBADMSG, "%s", big_names[_i]);
	check_untouched(big_names[_i], &st);
	ck_assert_int_eq(crowdsec_lapi_decisions(body, len, NOW, &st), -EBADMSG);
	check_untouched(big_names[_i], &st);
	ck_assert_int_eq(crowdsec_lapi_login(body, len, &token, &exp), -EBADMSG);
	ck_assert(token == NULL && exp == 5);
	ck_assert_int_eq(crowdsec_lapi_alert_ids(body, len, &ids), -EBADMSG);
	ck_assert_uint_eq(ids, 99);
	/* the message is the body's first bytes, printable, at most the buffer */
	ck_assert_int_le(crowdsec_lapi_message(body, len, msg, sizeof(msg)), (int)sizeof(msg) - 1);
	for (const char *p = msg; *p != '\0'; p++)
		ck_assert(*p >= ' ' && *p <= '~');
	free(body);
}
END_TEST

/* --------------------------------------------------------- point lookup */

static const struct scase pcases[] = {
	{ "a range covering the address",
	  "[{\"duration\":\"1h59m56.075050882s\",\"id\":2,\"origin\":\"cscli\",\"scenario\":"
	  "\"test range\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.51.100.0/24\"}]",
	  0, 0, 0, 0, 1, {
		{ 2, "198.51.100.0/24", "ban", "cscli", "test range", 7196075050 } },
	  0, { { 0 } } },
	{ "an IPv6 range with a microsecond-less fraction",
	  "[{\"duration\":\"2h59m56.06796254s\",\"id\":5,\"origin\":\"cscli\",\"scenario\":"
	  "\"test v6 range\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"2001:db8:1::/48\"}]",
	  0, 0, 0, 0, 1, {
		{ 5, "2001:db8:1::/48", "ban", "cscli", "test v6 range", 10796067962 } },
	  0, { { 0 } } },
	{ "every matching decision, undeduplicated, in the server's order",
	  "[{\"duration\":\"59m\",\"id\":1,\"origin\":\"cscli\",\"scenario\":\"a\","
	  "\"scope\":\"Ip\","
	  "\"type\":\"ban\",\"value\":\"203.0.113.7\"},"
	  "{\"duration\":\"3h\",\"id\":2,\"origin\":\"cscli\",\"scenario\":\"b\",\"scope\":\"Ip\","
	  "\"type\":\"ban\",\"value\":\"203.0.113.7\"},"
	  "{\"duration\":\"2h\",\"id\":3,\"origin\":\"cscli\",\"scenario\":\"c\",\"scope\":\"Ip\","
	  "\"type\":\"captcha\",\"value\":\"203.0.113.7\"},"
	  "{\"duration\":\"1h\",\"id\":4,\"origin\":\"cscli\",\"scenario\":\"d\","
	  "\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"203.0.113.0/24\"}]",
	  0, 0, 0, 0, 4, {
		{ 1, "203.0.113.7/32", "ban", "cscli", "a", 59 * MIN },
		{ 2, "203.0.113.7/32", "ban", "cscli", "b", 3 * HOUR },
		{ 3, "203.0.113.7/32", "captcha", "cscli", "c", 2 * HOUR },
		{ 4, "203.0.113.0/24", "ban", "cscli", "d", HOUR } }, 0, { { 0 } } },
	{ "no decision is the four bytes null", "null", 0, 0, 0, 0, 0, { { 0 } }, 0, { { 0 } } },
	{ "null with a newline", "null\n", 0, 0, 0, 0, 0, { { 0 } }, 0, { { 0 } } },
	{ "an empty array", "[]", 0, 0, 0, 0, 0, { { 0 } }, 0, { { 0 } } },
	{ "malformed and other-scope entries are counted",
	  "[{\"duration\":\"1h\",\"id\":1,\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"x\"},"
	  "{\"duration\":\"1h\",\"id\":2,\"scope\":\"username\",\"type\":\"ban\",\"value\":\"b\"},"
	  "{\"duration\":\"1h\",\"id\":3,\"scope\":\"Ip\",\"type\":\"ban\","
	  "\"value\":\"192.0.2.3\"}]",
	  0, 0, 1, 1, 1, { { 3, "192.0.2.3/32", "ban", "", "", HOUR } }, 0, { { 0 } } },
	BAD("the bad-address error answer", "{\"message\":\"unable to convert 'notanip' to int: "
	  "invalid address: invalid ip address / range\"}"),
	BAD("the bad-key answer", "{\"message\":\"access forbidden\"}"),
	BAD("a stream answer is not a point lookup's", "{\"deleted\":null,\"new\":null}"),
	BAD("a string at the top", "\"null\""),
	BAD("a truncated null", "nul"),
	BAD("a truncated array", "[{\"id\":1}"),
	BAD("an empty body", ""),
};

START_TEST(point_lookup_answer_gives_exact_decisions)
{
	check_answer(&pcases[_i], crowdsec_lapi_decisions, 0);
}
END_TEST

/* ---------------------------------------------------------------- login */

#define JWT	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3OTUzMjU5MzIsImlk" \
		"IjoiaDJ3YXRjaGVy" \
		"Iiwib3JpZ19pYXQiOjE3OTUzMjIzMzJ9.IHZLJFhGOvqQ1336fwDASLzCFzvBWkSs-C8vbE0iRc8"
#define EXPIRE	(INT64_C(1795325932) * SEC)	/* 2026-11-22T05:38:52Z, the JWT's "exp" */

static const struct lcase {
	const char *name, *body;
	int ret;
	const char *token;
	int64_t expire;
} lcases[] = {
	{ "the answer of a good login",
	  "{\"code\":200,\"expire\":\"2026-11-22T05:38:52Z\",\"token\":\"" JWT "\"}",
	  0, JWT, EXPIRE },
	{ "the same from GET /v1/refresh_token, members in another order",
	  "{\"token\":\"abc.def.ghi\",\"code\":200,\"expire\":\"2026-11-22T05:38:52Z\"}",
	  0, "abc.def.ghi", EXPIRE },
	{ "an expiry with a numeric offset",
	  "{\"expire\":\"2026-11-22T06:38:52+01:00\",\"token\":\"t\"}", 0, "t", EXPIRE },
	{ "an expiry with a negative offset and lower-case letters",
	  "{\"expire\":\"2026-11-22t00:08:52-05:30\",\"token\":\"t\"}", 0, "t", EXPIRE },
	{ "an expiry with a fraction",
	  "{\"expire\":\"2026-11-22T05:38:52.123456789Z\",\"token\":\"t\"}", 0, "t",
	  EXPIRE + 123456 },
	{ "an expiry on a leap day",
	  "{\"expire\":\"2028-02-29T00:00:00Z\",\"token\":\"t\"}", 0, "t",
	  INT64_C(1835395200) * SEC },
	{ "a missing expiry gives 0", "{\"code\":200,\"token\":\"t\"}", 0, "t", 0 },
	{ "an unreadable expiry gives 0", "{\"expire\":\"tomorrow\",\"token\":\"t\"}", 0, "t", 0 },
	{ "Go's default time format is not RFC 3339",
	  "{\"expire\":\"2026-11-22 05:38:52 +0000 UTC\",\"token\":\"t\"}", 0, "t", 0 },
	{ "a day that does not exist gives 0",
	  "{\"expire\":\"2026-02-29T00:00:00Z\",\"token\":\"t\"}", 0, "t", 0 },
	{ "an hour that does not exist gives 0",
	  "{\"expire\":\"2026-11-22T24:00:00Z\",\"token\":\"t\"}", 0, "t", 0 },
	{ "an expiry without zone gives 0",
	  "{\"expire\":\"2026-11-22T05:38:52\",\"token\":\"t\"}", 0, "t", 0 },
	{ "a numeric expiry gives 0", "{\"expire\":1795325932,\"token\":\"t\"}", 0, "t", 0 },
	{ "a wrong password", "{\"code\":401,\"message\":\"incorrect Username or Password\"}",
	  -EBADMSG, NULL, 0 },
	{ "an unknown machine", "{\"code\":401,\"message\":\"ent: machine not found\"}",
	  -EBADMSG, NULL, 0 },
	{ "a code 200 without token", "{\"code\":200,\"expire\":\"2026-11-22T05:38:52Z\"}",
	  -EBADMSG, NULL, 0 },
	{ "an empty token", "{\"code\":200,\"token\":\"\"}", -EBADMSG, NULL, 0 },
	{ "a null token", "{\"code\":200,\"token\":null}", -EBADMSG, NULL, 0 },
	{ "a numeric token", "{\"code\":200,\"token\":12345}", -EBADMSG, NULL, 0 },
	{ "a token that would split the HTTP header", "{\"token\":\"abc\\r\\nX-Evil: 1\"}",
	  -EBADMSG, NULL, 0 },
	{ "a token with a space", "{\"token\":\"abc def\"}", -EBADMSG, NULL, 0 },
	{ "a token with non-ASCII text", "{\"token\":\"abc\xc3\xa9\"}", -EBADMSG, NULL, 0 },
	{ "an array", "[\"token\"]", -EBADMSG, NULL, 0 },
	{ "null", "null", -EBADMSG, NULL, 0 },
	{ "not JSON", "401 Unauthorized", -EBADMSG, NULL, 0 },
	{ "truncated", "{\"code\":200,\"expire\":\"2026-11-22T05:38:52Z\",\"token\":\"eyJ",
	  -EBADMSG, NULL, 0 },
	{ "an empty body", "", -EBADMSG, NULL, 0 },
};

START_TEST(login_answer_gives_token_and_expiry)
{
	const struct lcase *c = &lcases[_i];
	char *token = NULL;
	int64_t exp = 5;
	int r;

	r = crowdsec_lapi_login(c->body, strlen(c->body), &token, &exp);
	ck_assert_msg(r == c->ret, "%s: ret %d, want %d", c->name, r, c->ret);
	if (r < 0) {
		ck_assert_msg(token == NULL && exp == 5, "%s: output written on error", c->name);
		return;
	}
	tst_str_eq(token, c->token, c->name);
	ck_assert_msg(exp == c->expire, "%s: expire %lld, want %lld", c->name, (long long)exp,
	    (long long)c->expire);
	free(token);
}
END_TEST

START_TEST(login_expiry_may_be_left_out)
{
	const char *body = "{\"expire\":\"2026-11-22T05:38:52Z\",\"token\":\"t\"}";
	char *token = NULL;

	ck_assert_int_eq(crowdsec_lapi_login(body, strlen(body), &token, NULL), 0);
	ck_assert_str_eq(token, "t");
	free(token);
}
END_TEST

/* --------------------------------------------------------------- alerts */

#define START	(INT64_C(1795309200) * SEC + 999999)	/* 2026-11-22T01:00:00.999999Z */
#define STOP	(INT64_C(1795309323) * SEC)		/* 2026-11-22T01:02:03Z */

static const struct acase {
	const char *name;
	size_t n;
	struct crowdsec_alert al[2];
	/* what the decision's duration must read, per alert */
	const char *duration[2];
	const char *start_at[2], *stop_at[2];
	int events_count[2];
} acases[] = {
	{ "an alert with a ban", 1, { {
		"mxledger/auth-bruteforce", "203.0.113.99: 12 failed logins in 10m",
		"203.0.113.99", START, STOP, 12, "ban", 4 * HOUR, "mxledger" } },
	  { "4h" }, { "2026-11-22T01:00:00Z" }, { "2026-11-22T01:02:03Z" }, { 12 } },
	{ "an alert without decision", 1, { {
		"mxledger/smtp-abuse", "203.0.113.98 looked odd", "203.0.113.98", START, STOP, 1,
		NULL, 0, NULL } },
	  { NULL }, { "2026-11-22T01:00:00Z" }, { "2026-11-22T01:02:03Z" }, { 1 } },
	{ "two alerts in one body, IPv6 and a captcha of 90 s", 2, { {
		"mxledger/a", "first", "2001:db8::7", START, START, 3, "captcha", 90 * SEC,
		"mxledger" }, {
		"mxledger/b", "second", "192.0.2.8", STOP, STOP + 1, 4, "ban", 86400 * SEC,
		"mxledger" } },
	  { "1m30s", "24h" }, { "2026-11-22T01:00:00Z", "2026-11-22T01:02:03Z" },
	  { "2026-11-22T01:00:00Z", "2026-11-22T01:02:03Z" }, { 3, 4 } },
	{ "quotes, a backslash, a newline, a tab and UTF-8 in the message", 1, { {
		"mxledger/auth-bruteforce",
		"user \"b\xc3\xb6" "b\" \\ from 203.0.113.5\nline two\t\xe2\x9c\x93 </script>",
		"203.0.113.5", START, STOP, 2, "ban", HOUR, "mxledger" } },
	  { "1h" }, { "2026-11-22T01:00:00Z" }, { "2026-11-22T01:02:03Z" }, { 2 } },
	{ "unset strings are written as empty ones", 1, { {
		NULL, NULL, NULL, START, STOP, 0, "ban", HOUR, NULL } },
	  { "1h" }, { "2026-11-22T01:00:00Z" }, { "2026-11-22T01:02:03Z" }, { 0 } },
	{ "an events count past Go's int32 is cut to its largest", 1, { {
		"s", "m", "192.0.2.1", START, STOP, 4000000000u, NULL, 0, NULL } },
	  { NULL }, { "2026-11-22T01:00:00Z" }, { "2026-11-22T01:02:03Z" }, { INT32_MAX } },
	{ "times before 1970 are written as its start", 1, { {
		"s", "m", "192.0.2.1", -SEC, 0, 1, NULL, 0, NULL } },
	  { NULL }, { "1970-01-01T00:00:00Z" }, { "1970-01-01T00:00:00Z" }, { 1 } },
};

/* member - o's member key, which must exist with type t */
static json_object *
member(const char *name, json_object *o, const char *key, enum json_type t)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "%s: no \"%s\"", name, key);
	ck_assert_msg(json_object_is_type(v, t), "%s: \"%s\" is a %s, want %s", name, key,
	    json_type_to_name(json_object_get_type(v)), json_type_to_name(t));
	return v;
}

static void
member_str(const char *name, json_object *o, const char *key, const char *want)
{
	const char *got = json_object_get_string(member(name, o, key, json_type_string));

	if (want == NULL)
		want = "";
	ck_assert_msg(strcmp(got, want) == 0, "%s: \"%s\" is \"%s\", want \"%s\"", name, key,
	    got, want);
}

static void
check_alert(const struct acase *c, size_t i, json_object *o)
{
	const struct crowdsec_alert *al = &c->al[i];
	json_object *src, *decs, *d;

	ck_assert_msg(json_object_is_type(o, json_type_object), "%s: alert not an object", c->name);
	ck_assert_int_eq(json_object_object_length(o), al->decision_type != NULL ? 13 : 12);
	member_str(c->name, o, "scenario", al->scenario);
	member_str(c->name, o, "scenario_hash", "");
	member_str(c->name, o, "scenario_version", "");
	member_str(c->name, o, "message", al->message);
	ck_assert_int_eq(json_object_get_int(member(c->name, o, "events_count", json_type_int)),
	    c->events_count[i]);
	ck_assert_int_eq(json_object_array_length(member(c->name, o, "events", json_type_array)),
	    0);
	ck_assert_int_eq(json_object_get_int(member(c->name, o, "capacity", json_type_int)), 0);
	member_str(c->name, o, "leakspeed", "0");
	ck_assert(!json_object_get_boolean(member(c->name, o, "simulated", json_type_boolean)));
	member_str(c->name, o, "start_at", c->start_at[i]);
	member_str(c->name, o, "stop_at", c->stop_at[i]);
	src = member(c->name, o, "source", json_type_object);
	ck_assert_int_eq(json_object_object_length(src), 3);
	member_str(c->name, src, "scope", "Ip");
	member_str(c->name, src, "value", al->ip);
	member_str(c->name, src, "ip", al->ip);
	if (al->decision_type == NULL) {
		ck_assert_msg(!json_object_object_get_ex(o, "decisions", NULL),
		    "%s: decisions without a type", c->name);
		return;
	}
	decs = member(c->name, o, "decisions", json_type_array);
	ck_assert_int_eq(json_object_array_length(decs), 1);
	d = json_object_array_get_idx(decs, 0);
	ck_assert(json_object_is_type(d, json_type_object));
	ck_assert_int_eq(json_object_object_length(d), 6);
	member_str(c->name, d, "duration", c->duration[i]);
	member_str(c->name, d, "origin", al->origin);
	member_str(c->name, d, "scenario", al->scenario);
	member_str(c->name, d, "scope", "Ip");
	member_str(c->name, d, "type", al->decision_type);
	member_str(c->name, d, "value", al->ip);
}

START_TEST(alerts_body_has_every_member_lapi_requires)
{
	const struct acase *c = &acases[_i];
	char *body = crowdsec_lapi_alerts_json(c->al, c->n);
	json_object *arr;

	ck_assert_ptr_nonnull(body);
	arr = json_tokener_parse(body);
	ck_assert_msg(json_object_is_type(arr, json_type_array), "%s: not an array: %s", c->name,
	    body);
	ck_assert_int_eq(json_object_array_length(arr), c->n);
	for (size_t i = 0; i < c->n; i++)
		check_alert(c, i, json_object_array_get_idx(arr, i));
	json_object_put(arr);
	free(body);
}
END_TEST

/* The exact text of one body: what POST /v1/alerts of LAPI 1.4.6 answered 201 to. */
START_TEST(alerts_body_is_exact)
{
	char *body = crowdsec_lapi_alerts_json(acases[0].al, 1);

	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(body,
	    "[{\"scenario\":\"mxledger/auth-bruteforce\",\"scenario_hash\":\"\","
	    "\"scenario_version\":\"\",\"message\":\"203.0.113.99: 12 failed logins in 10m\","
	    "\"events_count\":12,\"events\":[],\"capacity\":0,\"leakspeed\":\"0\","
	    "\"simulated\":false,\"start_at\":\"2026-11-22T01:00:00Z\","
	    "\"stop_at\":\"2026-11-22T01:02:03Z\",\"source\":{\"scope\":\"Ip\","
	    "\"value\":\"203.0.113.99\",\"ip\":\"203.0.113.99\"},\"decisions\":[{"
	    "\"duration\":\"4h\",\"origin\":\"mxledger\",\"scenario\":\"mxledger/auth-bruteforce\","
	    "\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"203.0.113.99\"}]}]");
	free(body);
}
END_TEST

START_TEST(alerts_message_is_escaped)
{
	char *body = crowdsec_lapi_alerts_json(acases[3].al, 1);

	ck_assert_ptr_nonnull(body);
	ck_assert_msg(strstr(body, "\"message\":\"user \\\"b\xc3\xb6" "b\\\" \\\\ from 203.0.113.5"
	    "\\nline two\\t\xe2\x9c\x93 </script>\"") != NULL, "%s", body);
	ck_assert_ptr_null(strchr(body, '\n'));
	ck_assert_ptr_null(strchr(body, '\t'));
	free(body);
}
END_TEST

START_TEST(alerts_body_of_no_alert_is_an_empty_array)
{
	char *body = crowdsec_lapi_alerts_json(NULL, 0);

	ck_assert_str_eq(body, "[]");
	free(body);
}
END_TEST

static const struct icase {
	const char *name, *body;
	int ret;
	size_t n;
} icases[] = {
	{ "one alert stored", "[\"5\"]", 0, 1 },
	{ "none posted, none stored", "[]", 0, 0 },
	{ "two alerts stored", "[\"11\",\"12\"]", 0, 2 },
	{ "with whitespace around", " [ \"11\" , \"12\" ]\n", 0, 2 },
	{ "null is Go's empty list", "null", 0, 0 },
	{ "ids as numbers are not the LAPI's answer", "[5]", -EBADMSG, 0 },
	{ "a null among the ids", "[\"5\",null]", -EBADMSG, 0 },
	{ "an object among the ids", "[\"5\",{}]", -EBADMSG, 0 },
	{ "an error answer", "{\"message\":\"validation failure list:\\n0.events in body is "
	  "required\"}", -EBADMSG, 0 },
	{ "the token error", "{\"code\":401,\"message\":\"cookie token is empty\"}", -EBADMSG, 0 },
	{ "a string at the top", "\"5\"", -EBADMSG, 0 },
	{ "truncated", "[\"5\"", -EBADMSG, 0 },
	{ "not JSON", "Created", -EBADMSG, 0 },
	{ "an empty body", "", -EBADMSG, 0 },
};

START_TEST(alert_ids_are_counted)
{
	const struct icase *c = &icases[_i];
	size_t n = 99;
	int r = crowdsec_lapi_alert_ids(c->body, strlen(c->body), &n);

	ck_assert_msg(r == c->ret, "%s: ret %d, want %d", c->name, r, c->ret);
	ck_assert_msg(n == (r == 0 ? c->n : 99), "%s: %zu ids", c->name, n);
}
END_TEST

/* -------------------------------------------------------------- message */

static const struct mcase {
	const char *name, *body;
	size_t size;
	const char *want;
} mcases[] = {
	{ "the bad-key answer", "{\"message\":\"access forbidden\"}", 64, "access forbidden" },
	{ "a login error with its code",
	  "{\"code\":401,\"message\":\"incorrect Username or Password\"}", 64,
	  "incorrect Username or Password" },
	{ "newlines of a validation error become spaces",
	  "{\"message\":\"validation failure list:\\nvalidation failure list:\\n"
	  "0.decisions.0.origin in body is required\"}", 128,
	  "validation failure list: validation failure list: 0.decisions.0.origin in body is "
	  "required" },
	{ "quotes and UTF-8 of a message are kept",
	  "{\"message\":\"unknown unit \\\" hour\\\" in \\u00e9t\\u00e9\"}", 64,
	  "unknown unit \" hour\" in \xc3\xa9t\xc3\xa9" },
	{ "a long message is cut to the buffer", "{\"message\":\"access forbidden\"}", 7,
	  "access" },
	{ "a message is cut before a character that does not fit whole",
	  "{\"message\":\"ab\xc3\xa9\xc3\xa9\"}", 6, "ab\xc3\xa9" },
	{ "a message is cut before a four-byte character",
	  "{\"message\":\"a\xf0\x9f\x98\x80\"}", 5, "a" },
	{ "trailing spaces and newlines are dropped", "{\"message\":\"gone  \\n\"}", 64, "gone" },
	{ "without message, the body's text", "404 page not found\n", 64, "404 page not found" },
	{ "without message, the body's first bytes",
	  "<html><head><title>502 Bad Gateway</title></head></html>", 16, "<html><head><ti" },
	{ "non-ASCII and control bytes of a raw body become ? and spaces",
	  "caf\xc3\xa9\r\nbad\x01gateway\x7f", 64, "caf??  bad gateway" },
	{ "a message that is not a string: the raw body", "{\"message\":5}", 64,
	  "{\"message\":5}" },
	{ "an object without message: the raw body", "{\"code\":500}", 64, "{\"code\":500}" },
	{ "an empty body", "", 64, "" },
	{ "a buffer of one byte holds the empty string", "{\"message\":\"x\"}", 1, "" },
};

START_TEST(error_message_is_made_printable)
{
	const struct mcase *c = &mcases[_i];
	char buf[256];
	int n;

	memset(buf, 'z', sizeof(buf));
	n = crowdsec_lapi_message(c->body, strlen(c->body), buf, c->size);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got \"%s\", want \"%s\"", c->name, buf,
	    c->want);
	ck_assert_int_eq(n, (int)strlen(c->want));
	ck_assert_int_eq(buf[c->size], 'z');
}
END_TEST

START_TEST(error_message_into_no_buffer_writes_nothing)
{
	char buf[1] = { 'z' };

	ck_assert_int_eq(crowdsec_lapi_message("{\"message\":\"x\"}", 15, buf, 0), 0);
	ck_assert_int_eq(buf[0], 'z');
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("crowdsec_lapi");
	TCase *tc = tcase_create("crowdsec_lapi");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, duration_text_is_read_like_go, 0, N(dcases));
	tcase_add_test(tc, duration_null_is_refused);
	tcase_add_loop_test(tc, duration_is_written_the_way_go_reads_it, 0, N(tcases));
	tcase_add_test(tc, duration_text_is_cut_to_the_buffer);
	tcase_add_loop_test(tc, stream_answer_gives_exact_decisions, 0, N(scases));
	tcase_add_test(tc, stream_clear_takes_zeroed_and_null);
	tcase_add_test(tc, stream_of_ten_thousand_decisions_is_read_whole);
	tcase_add_loop_test(tc, big_hostile_bodies_are_refused_without_leaks, 0, N(big_names));
	tcase_add_loop_test(tc, point_lookup_answer_gives_exact_decisions, 0, N(pcases));
	tcase_add_loop_test(tc, login_answer_gives_token_and_expiry, 0, N(lcases));
	tcase_add_test(tc, login_expiry_may_be_left_out);
	tcase_add_loop_test(tc, alerts_body_has_every_member_lapi_requires, 0, N(acases));
	tcase_add_test(tc, alerts_body_is_exact);
	tcase_add_test(tc, alerts_message_is_escaped);
	tcase_add_test(tc, alerts_body_of_no_alert_is_an_empty_array);
	tcase_add_loop_test(tc, alert_ids_are_counted, 0, N(icases));
	tcase_add_loop_test(tc, error_message_is_made_printable, 0, N(mcases));
	tcase_add_test(tc, error_message_into_no_buffer_writes_nothing);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
