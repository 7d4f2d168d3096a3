/*
 * NAME
 *	check_crowdsec_set - CrowdSec decisions in memory: keys, lookups, ids, expiry, memory
 * DESCRIPTION
 *	crowdsec_set_key() cases give a scope and a value and the exact
 *	network wanted (or the error). Set cases are scripts of adds,
 *	deletions, expiries, counts and lookups on an injected clock, each
 *	lookup with the exact decision ids wanted, in order. Bulk tests grow
 *	a set to 200 000 decisions and back, and compare the memory of
 *	shared and distinct strings.
 * SEE ALSO
 *	crowdsec_set.h
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crowdsec_set.h"
#include "testutil.h"

#define SEC	INT64_C(1000000)
#define T0	(INT64_C(1795305600) * SEC)	/* 2026-11-22T00:00:00Z */

/* ------------------------------------------------------------ crowdsec_set_key */

/* a value that must be refused */
#define KBAD(name, scope, value, err)	{ name, scope, value, err, 0, 0, NULL }

static const struct kcase {
	const char *name, *scope, *value;
	int want_ret;
	int want_family;
	unsigned want_prefix;
	const char *want_addr;
} kcases[] = {
	{ "an IPv4 address in scope Ip is a /32", "Ip", "192.0.2.7",
	  0, AF_INET, 32, "192.0.2.7" },
	{ "scope ip in lower case is Ip", "ip", "192.0.2.7", 0, AF_INET, 32, "192.0.2.7" },
	{ "scope IP in upper case is Ip", "IP", "192.0.2.7", 0, AF_INET, 32, "192.0.2.7" },
	{ "an IPv6 address in scope Ip is a /128", "Ip", "2001:db8::7",
	  0, AF_INET6, 128, "2001:db8::7" },
	{ "an upper-case IPv6 address is the same address", "Ip", "2001:DB8:0:0:0:0:0:7",
	  0, AF_INET6, 128, "2001:db8::7" },
	{ "an IPv4-mapped IPv6 address is stored as IPv4", "Ip", "::ffff:192.0.2.7",
	  0, AF_INET, 32, "192.0.2.7" },
	{ "an IPv4-compatible IPv6 address (::a.b.c.d) stays IPv6", "Ip", "::192.0.2.7",
	  0, AF_INET6, 128, "::192.0.2.7" },
	{ "an IPv4 range keeps its length and loses its host bits", "Range", "198.51.100.77/24",
	  0, AF_INET, 24, "198.51.100.0" },
	{ "scope range in lower case is Range", "range", "198.51.100.0/24",
	  0, AF_INET, 24, "198.51.100.0" },
	{ "scope RANGE in upper case is Range", "RANGE", "198.51.100.0/24",
	  0, AF_INET, 24, "198.51.100.0" },
	{ "an IPv4 /32 range is one address", "Range", "203.0.113.9/32",
	  0, AF_INET, 32, "203.0.113.9" },
	{ "an IPv4 /0 range is every address", "Range", "192.0.2.1/0", 0, AF_INET, 0, "0.0.0.0" },
	{ "a prefix length with a leading zero is read as decimal", "Range", "198.51.100.7/024",
	  0, AF_INET, 24, "198.51.100.0" },
	{ "an IPv6 /48 range loses its host bits", "Range", "2001:db8:1234:5678::1/48",
	  0, AF_INET6, 48, "2001:db8:1234::" },
	{ "an IPv6 /65 range clears from the 66th bit on", "Range",
	  "2001:db8::ffff:ffff:ffff:ffff/65", 0, AF_INET6, 65, "2001:db8:0:0:8000::" },
	{ "an IPv6 /128 range is one address", "Range", "2001:db8::ff/128",
	  0, AF_INET6, 128, "2001:db8::ff" },
	{ "an IPv6 /0 range is every IPv6 address", "Range", "2001:db8::/0",
	  0, AF_INET6, 0, "::" },
	{ "::ffff:0:0/104 is the IPv4 /8 0.0.0.0/8", "Range", "::ffff:0:0/104",
	  0, AF_INET, 8, "0.0.0.0" },
	{ "an IPv4-mapped /120 is the IPv4 /24", "Range", "::ffff:192.0.2.77/120",
	  0, AF_INET, 24, "192.0.2.0" },
	{ "::ffff:0:0/96 is every IPv4 address", "Range", "::ffff:0:0/96",
	  0, AF_INET, 0, "0.0.0.0" },
	{ "::ffff:0:0/95 covers more than IPv4 and stays IPv6", "Range", "::ffff:0:0/95",
	  0, AF_INET6, 95, "::fffe:0:0" },
	KBAD("an octet above 255 is malformed", "Ip", "300.1.1.1", -EINVAL),
	KBAD("an IPv4 prefix above 32 is malformed", "Range", "192.0.2.4/33", -EINVAL),
	KBAD("an IPv6 prefix above 128 is malformed", "Range", "2001:db8::/129", -EINVAL),
	KBAD("an empty Ip is malformed", "Ip", "", -EINVAL),
	KBAD("an empty Range is malformed", "Range", "", -EINVAL),
	KBAD("a range without a prefix length after the slash is malformed", "Range", "192.0.2.4/",
	  -EINVAL),
	KBAD("a blank before the prefix length is malformed", "Range", "192.0.2.4/ 8", -EINVAL),
	KBAD("a blank after the prefix length is malformed", "Range", "192.0.2.0/24 ", -EINVAL),
	KBAD("a signed prefix length is malformed", "Range", "192.0.2.0/+24", -EINVAL),
	KBAD("a negative prefix length is malformed", "Range", "192.0.2.0/-1", -EINVAL),
	KBAD("a four-digit prefix length is malformed", "Range", "192.0.2.0/0024", -EINVAL),
	KBAD("two slashes are malformed", "Range", "192.0.2.0/24/8", -EINVAL),
	KBAD("a range without an address is malformed", "Range", "/24", -EINVAL),
	KBAD("a range without a slash is malformed", "Range", "192.0.2.0", -EINVAL),
	KBAD("an Ip with a prefix length is malformed", "Ip", "192.0.2.7/32", -EINVAL),
	KBAD("three octets are malformed", "Ip", "192.0.2", -EINVAL),
	KBAD("a leading blank is malformed", "Ip", " 192.0.2.7", -EINVAL),
	KBAD("an IPv6 zone index is malformed", "Ip", "fe80::1%eth0", -EINVAL),
	KBAD("a host name is malformed", "Ip", "mail.example.net", -EINVAL),
	KBAD("a very long value is malformed",
	  "Ip", "2001:0db8:0000:0000:0000:0000:0000:0007:0000:0000:0000:0000:0000:0000",
	  -EINVAL),
	KBAD("scope Username is not supported", "Username", "alice", -EOPNOTSUPP),
	KBAD("scope Country is not supported", "Country", "FR", -EOPNOTSUPP),
	KBAD("scope AS is not supported", "AS", "64496", -EOPNOTSUPP),
	KBAD("an empty scope is not supported", "", "192.0.2.7", -EOPNOTSUPP),
	KBAD("a scope that only starts like Ip is not supported", "Ips", "192.0.2.7", -EOPNOTSUPP),
};

START_TEST(key_of_scope_and_value)
{
	const struct kcase *c = &kcases[_i];
	struct crowdsec_decision d;
	char text[INET6_ADDRSTRLEN];
	int r;

	memset(&d, 0xa5, sizeof(d));
	r = crowdsec_set_key(c->scope, c->value, &d);
	ck_assert_msg(r == c->want_ret, "%s: want %d, got %d", c->name, c->want_ret, r);
	if (r < 0) {
		ck_assert_msg(d.family == (int)0xa5a5a5a5 && d.prefix == 0xa5a5a5a5u,
		    "%s: the decision was written on failure", c->name);
		return;
	}
	ck_assert_msg(d.family == c->want_family, "%s: family %d", c->name, d.family);
	ck_assert_msg(d.prefix == c->want_prefix, "%s: prefix %u", c->name, d.prefix);
	ck_assert(inet_ntop(d.family, d.addr, text, sizeof(text)) != NULL);
	ck_assert_msg(strcmp(text, c->want_addr) == 0, "%s: address %s", c->name, text);
	if (d.family == AF_INET)
		for (size_t i = 4; i < sizeof(d.addr); i++)
			ck_assert_msg(d.addr[i] == 0, "%s: byte %zu not zero", c->name, i);
}
END_TEST

START_TEST(key_refuses_missing_scope_or_value)
{
	struct crowdsec_decision d;

	ck_assert_int_eq(crowdsec_set_key(NULL, "192.0.2.7", &d), -EINVAL);
	ck_assert_int_eq(crowdsec_set_key("Ip", NULL, &d), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------- scripted sets */

enum { END, ADD, DEL, LOOK, COUNT, EXPIRE };

struct step {
	int op;
	int64_t id;		/* ADD, DEL */
	const char *scope;	/* ADD */
	const char *value;	/* ADD: the value; LOOK: the address */
	const char *type;	/* ADD; COUNT: NULL for all types */
	int64_t t;		/* ADD: seconds to live; LOOK, EXPIRE: seconds after T0 */
	int64_t want;		/* DEL: 1/0; LOOK: total; COUNT: decisions; EXPIRE: removed */
	int64_t ids[5];		/* LOOK: ids wanted in order (at most 5 returned) */
};

#define ADD(id_, scope_, value_, type_, ttl_)						\
	{ .op = ADD, .id = (id_), .scope = (scope_), .value = (value_), .type = (type_),	\
	  .t = (ttl_) }
#define IP(id_, value_, type_, ttl_)	ADD(id_, "Ip", value_, type_, ttl_)
#define RANGE(id_, value_, type_, ttl_)	ADD(id_, "Range", value_, type_, ttl_)
#define DEL(id_, want_)		{ .op = DEL, .id = (id_), .want = (want_) }
#define LOOKAT(t_, addr_, n_, ...)	\
	{ .op = LOOK, .value = (addr_), .t = (t_), .want = (n_), .ids = { __VA_ARGS__ } }
#define LOOK(addr_, n_, ...)	LOOKAT(0, addr_, n_, __VA_ARGS__)
#define COUNT(type_, n_)	{ .op = COUNT, .type = (type_), .want = (n_) }
#define EXPIRE(t_, n_)		{ .op = EXPIRE, .t = (t_), .want = (n_) }
#define H			3600

static const struct scase {
	const char *name;
	struct step steps[16];
} scases[] = {
	{ "an exact IPv4 ban is found and its neighbours are not", {
		IP(1, "192.0.2.7", "ban", H),
		LOOK("192.0.2.7", 1, 1), LOOK("192.0.2.6", 0), LOOK("192.0.2.8", 0),
		COUNT(NULL, 1), COUNT("ban", 1), COUNT("captcha", 0) } },
	{ "an IPv4 range covers its first and last address and nothing beyond", {
		RANGE(1, "198.51.100.0/24", "ban", H),
		LOOK("198.51.100.0", 1, 1), LOOK("198.51.100.255", 1, 1),
		LOOK("198.51.101.0", 0), LOOK("198.51.99.255", 0) } },
	{ "a /32 ban inside a /24 captcha: both are returned, the ban first", {
		RANGE(1, "192.0.2.0/24", "captcha", 4 * H), IP(2, "192.0.2.7", "ban", H),
		LOOK("192.0.2.7", 2, 2, 1), LOOK("192.0.2.8", 1, 1),
		COUNT("ban", 1), COUNT("captcha", 1) } },
	{ "a /24 ban over a /32 captcha: the ban first, though less specific", {
		IP(1, "192.0.2.7", "captcha", 4 * H), RANGE(2, "192.0.2.0/24", "ban", H),
		LOOK("192.0.2.7", 2, 2, 1) } },
	{ "two bans of different expiry: the one expiring later first", {
		IP(1, "192.0.2.7", "ban", H), RANGE(2, "192.0.2.0/28", "ban", 4 * H),
		LOOK("192.0.2.7", 2, 2, 1), LOOK("192.0.2.15", 1, 2), LOOK("192.0.2.16", 0) } },
	{ "two bans of one address with different ids are both kept", {
		IP(1, "192.0.2.7", "ban", 4 * H), IP(2, "192.0.2.7", "ban", 8 * H),
		IP(3, "192.0.2.7", "ban", 2 * H),
		LOOK("192.0.2.7", 3, 2, 1, 3), COUNT(NULL, 3) } },
	{ "a type other than ban and captcha comes after both", {
		IP(1, "192.0.2.7", "throttle", 9 * H), RANGE(2, "192.0.2.0/24", "captcha", H),
		RANGE(3, "192.0.2.0/16", "ban", H),
		LOOK("192.0.2.7", 3, 3, 2, 1), COUNT("throttle", 1) } },
	{ "a ban with the same expiry as another: the higher id first", {
		IP(4, "192.0.2.7", "ban", H), IP(9, "192.0.2.7", "ban", H),
		IP(6, "192.0.2.7", "ban", H),
		LOOK("192.0.2.7", 3, 9, 6, 4) } },
	{ "an IPv4 /0 covers every IPv4 address and no IPv6 address", {
		RANGE(1, "0.0.0.0/0", "ban", H),
		LOOK("192.0.2.7", 1, 1), LOOK("203.0.113.255", 1, 1), LOOK("0.0.0.0", 1, 1),
		LOOK("255.255.255.255", 1, 1), LOOK("2001:db8::1", 0) } },
	{ "an IPv6 /0 covers every IPv6 address and no IPv4 address", {
		RANGE(1, "::/0", "ban", H),
		LOOK("2001:db8::1", 1, 1), LOOK("::", 1, 1), LOOK("192.0.2.1", 0),
		LOOK("::ffff:192.0.2.1", 0) } },
	{ "IPv6 /128, /64 and /48 nest", {
		IP(1, "2001:db8:1:2::7", "ban", H), RANGE(2, "2001:db8:1:2::/64", "captcha", H),
		RANGE(3, "2001:db8:1::/48", "ban", 2 * H),
		LOOK("2001:db8:1:2::7", 3, 3, 1, 2), LOOK("2001:db8:1:2::8", 2, 3, 2),
		LOOK("2001:db8:1:2:ffff:ffff:ffff:ffff", 2, 3, 2), LOOK("2001:db8:1:3::7", 1, 3),
		LOOK("2001:db8:1:ffff::", 1, 3), LOOK("2001:db8:2::7", 0),
		LOOK("2001:db8:0:ffff:ffff:ffff:ffff:ffff", 0) } },
	{ "an IPv6 /128 does not cover its neighbours", {
		IP(1, "2001:db8::7", "ban", H),
		LOOK("2001:db8::7", 1, 1), LOOK("2001:db8::6", 0), LOOK("2001:db8::8", 0),
		LOOK("2001:db9::7", 0) } },
	{ "an IPv4 address does not match an IPv6 range and vice versa", {
		RANGE(1, "2001:db8::/32", "ban", H), RANGE(2, "192.0.2.0/24", "ban", H),
		LOOK("192.0.2.7", 1, 2), LOOK("2001:db8::c000:207", 1, 1),
		LOOK("::c000:207", 0), LOOK("::192.0.2.7", 0) } },
	{ "an IPv4-mapped IPv6 address finds the IPv4 decisions", {
		IP(1, "192.0.2.7", "ban", H), RANGE(2, "198.51.100.0/24", "captcha", H),
		LOOK("::ffff:192.0.2.7", 1, 1), LOOK("::ffff:198.51.100.9", 1, 2),
		LOOK("::ffff:203.0.113.1", 0) } },
	{ "a decision given as an IPv4-mapped address is found by the IPv4 address", {
		IP(1, "::ffff:192.0.2.7", "ban", H), RANGE(2, "::ffff:0:0/104", "captcha", H),
		LOOK("192.0.2.7", 1, 1), LOOK("0.1.2.3", 1, 2), LOOK("1.0.0.0", 0),
		LOOK("::ffff:0.255.255.255", 1, 2) } },
	{ "re-adding an id moves the decision: the old prefix no longer matches", {
		IP(1, "192.0.2.7", "ban", H), IP(2, "192.0.2.8", "ban", H),
		RANGE(1, "198.51.100.0/24", "captcha", H),
		LOOK("192.0.2.7", 0), LOOK("198.51.100.7", 1, 1), LOOK("192.0.2.8", 1, 2),
		COUNT(NULL, 2), COUNT("ban", 1), COUNT("captcha", 1) } },
	{ "re-adding an id on the same address replaces its type and expiry", {
		IP(1, "192.0.2.7", "ban", H), IP(1, "192.0.2.7", "captcha", 2 * H),
		LOOK("192.0.2.7", 1, 1), LOOKAT(H + 1, "192.0.2.7", 1, 1),
		COUNT(NULL, 1), COUNT("ban", 0), COUNT("captcha", 1) } },
	{ "deleting a known id gives 1, an unknown or repeated one 0", {
		IP(1, "192.0.2.7", "ban", H), IP(2, "192.0.2.8", "ban", H),
		DEL(1, 1), DEL(1, 0), DEL(99, 0), DEL(-1, 0),
		LOOK("192.0.2.7", 0), LOOK("192.0.2.8", 1, 2), COUNT(NULL, 1), COUNT("ban", 1) } },
	{ "deleting one of three decisions on one prefix keeps the other two", {
		IP(1, "192.0.2.7", "ban", H), IP(2, "192.0.2.7", "ban", 2 * H),
		IP(3, "192.0.2.7", "ban", 3 * H),
		DEL(2, 1), LOOK("192.0.2.7", 2, 3, 1), DEL(3, 1), LOOK("192.0.2.7", 1, 1),
		DEL(1, 1), LOOK("192.0.2.7", 0), COUNT(NULL, 0) } },
	{ "deleting the last range of a length stops that length from matching", {
		RANGE(1, "198.51.100.0/24", "ban", H), RANGE(2, "198.51.0.0/16", "ban", H),
		DEL(2, 1), LOOK("198.51.100.7", 1, 1), LOOK("198.51.7.7", 0),
		RANGE(3, "198.51.0.0/16", "captcha", H), LOOK("198.51.7.7", 1, 3) } },
	{ "an expired decision is not returned even before crowdsec_set_expire", {
		IP(1, "192.0.2.7", "ban", 10), IP(2, "192.0.2.7", "captcha", 20),
		LOOKAT(9, "192.0.2.7", 2, 1, 2), LOOKAT(10, "192.0.2.7", 1, 2),
		LOOKAT(20, "192.0.2.7", 0), COUNT(NULL, 2) } },
	{ "a decision already expired when added is held but never returned", {
		IP(1, "192.0.2.7", "ban", -60), IP(2, "192.0.2.7", "ban", 0),
		LOOK("192.0.2.7", 0), COUNT(NULL, 2), EXPIRE(0, 2), COUNT(NULL, 0) } },
	{ "crowdsec_set_expire removes exactly the expired ones and counts follow", {
		IP(1, "192.0.2.7", "ban", 10), IP(2, "192.0.2.8", "captcha", 20),
		RANGE(3, "192.0.2.0/24", "ban", 30),
		EXPIRE(9, 0), COUNT(NULL, 3), EXPIRE(15, 1), COUNT(NULL, 2), COUNT("ban", 1),
		COUNT("captcha", 1), LOOKAT(15, "192.0.2.8", 2, 3, 2), EXPIRE(15, 0),
		EXPIRE(30, 2), COUNT(NULL, 0), COUNT("ban", 0), DEL(3, 0) } },
	{ "an id removed by expiry can be added again", {
		IP(1, "192.0.2.7", "ban", 10), EXPIRE(10, 1), IP(1, "192.0.2.7", "ban", 20),
		LOOKAT(15, "192.0.2.7", 1, 1), COUNT(NULL, 1) } },
};

/* set_decision - the decision of an ADD step, now at T0 */
static struct crowdsec_decision
set_decision(const struct step *st)
{
	struct crowdsec_decision d = { 0 };

	ck_assert_int_eq(crowdsec_set_key(st->scope, st->value, &d), 0);
	d.id = st->id;
	d.type = st->type;
	d.origin = "crowdsec";
	d.scenario = "crowdsecurity/postfix-spam";
	d.expires_usec = T0 + st->t * SEC;
	return d;
}

/* set_look - crowdsec_set_lookup() of an address given as text */
static size_t
set_look(const struct crowdsec_set *s, const char *text, int64_t now,
    const struct crowdsec_decision **ret, size_t max)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, text, addr) == 1)
		return crowdsec_set_lookup(s, AF_INET, addr, now, ret, max);
	ck_assert_msg(inet_pton(AF_INET6, text, addr) == 1, "bad test address %s", text);
	return crowdsec_set_lookup(s, AF_INET6, addr, now, ret, max);
}

/* set_check_look - a LOOK step: the total and the ids, in order */
static void
set_check_look(const struct scase *c, const struct crowdsec_set *s, const struct step *st,
    size_t k)
{
	const struct crowdsec_decision *found[5];
	size_t n = set_look(s, st->value, T0 + st->t * SEC, found, N(found));

	ck_assert_msg(n == (size_t)st->want, "%s: step %zu: %s gives %zu decisions, want %lld",
	    c->name, k, st->value, n, (long long)st->want);
	for (size_t i = 0; i < n && i < N(found); i++)
		ck_assert_msg(found[i]->id == st->ids[i],
		    "%s: step %zu: %s: decision %zu is id %lld, want %lld", c->name, k,
		    st->value, i, (long long)found[i]->id, (long long)st->ids[i]);
}

START_TEST(set_script_gives_exact_decisions)
{
	const struct scase *c = &scases[_i];
	struct crowdsec_set *s = crowdsec_set_new();
	struct crowdsec_decision d;
	size_t k, n;

	ck_assert_ptr_nonnull(s);
	for (k = 0; k < N(c->steps) && c->steps[k].op != END; k++) {
		const struct step *st = &c->steps[k];

		switch (st->op) {
		case ADD:
			d = set_decision(st);
			ck_assert_msg(crowdsec_set_add(s, &d) == 0, "%s: step %zu", c->name, k);
			break;
		case DEL:
			ck_assert_msg(crowdsec_set_delete(s, st->id) == st->want,
			    "%s: step %zu: delete %lld", c->name, k, (long long)st->id);
			break;
		case LOOK:
			set_check_look(c, s, st, k);
			break;
		case COUNT:
			n = st->type == NULL ? crowdsec_set_count(s) :
			    crowdsec_set_count_type(s, st->type);
			ck_assert_msg(n == (size_t)st->want,
			    "%s: step %zu: count %s is %zu, want %lld",
			    c->name, k, st->type == NULL ? "(all)" : st->type, n,
			    (long long)st->want);
			break;
		case EXPIRE:
			n = crowdsec_set_expire(s, T0 + st->t * SEC);
			ck_assert_msg(n == (size_t)st->want,
			    "%s: step %zu: expire removed %zu, want %lld",
			    c->name, k, n, (long long)st->want);
			break;
		}
	}
	crowdsec_set_free(s);
}
END_TEST

/* --------------------------------------------------------------- add itself */

/* a network crowdsec_set_add() must refuse */
#define ABAD(name, family, prefix, addr)	\
	{ name, family, prefix, addr, -EINVAL, NULL, NULL, 0 }

static const struct acase {
	const char *name;
	int family;
	unsigned prefix;
	const char *addr;	/* text of the address given */
	int want_ret;
	const char *look;	/* an address the decision must then cover */
	const char *want_addr;	/* the network it is stored as */
	unsigned want_prefix;
} acases[] = {
	ABAD("an IPv4 prefix above 32 is refused", AF_INET, 33, "192.0.2.0"),
	ABAD("an IPv6 prefix above 128 is refused", AF_INET6, 129, "2001:db8::"),
	ABAD("a family other than IPv4 and IPv6 is refused", AF_UNIX, 0, "192.0.2.0"),
	{ "host bits the caller left are cleared", AF_INET, 24, "192.0.2.7",
	  0, "192.0.2.200", "192.0.2.0", 24 },
	{ "IPv6 host bits the caller left are cleared", AF_INET6, 64, "2001:db8::7",
	  0, "2001:db8::ffff", "2001:db8::", 64 },
	{ "an IPv4-mapped IPv6 /128 given by the caller is stored as IPv4", AF_INET6, 128,
	  "::ffff:192.0.2.7", 0, "192.0.2.7", "192.0.2.7", 32 },
};

START_TEST(add_checks_and_normalises_the_network)
{
	const struct acase *c = &acases[_i];
	struct crowdsec_set *s = crowdsec_set_new();
	const struct crowdsec_decision *found[2];
	struct crowdsec_decision d = {
		.id = 1, .family = c->family, .prefix = c->prefix, .type = "ban",
		.origin = "cscli", .scenario = "manual", .expires_usec = T0 + SEC,
	};
	char text[INET6_ADDRSTRLEN];

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(inet_pton(strchr(c->addr, ':') ? AF_INET6 : AF_INET, c->addr, d.addr), 1);
	ck_assert_msg(crowdsec_set_add(s, &d) == c->want_ret, "%s", c->name);
	if (c->want_ret < 0) {
		ck_assert_msg(crowdsec_set_count(s) == 0, "%s: counted", c->name);
	} else {
		ck_assert_msg(set_look(s, c->look, T0, found, N(found)) == 1, "%s", c->name);
		ck_assert(inet_ntop(found[0]->family, found[0]->addr, text, sizeof(text)) != NULL);
		ck_assert_msg(strcmp(text, c->want_addr) == 0, "%s: stored as %s", c->name, text);
		ck_assert_uint_eq(found[0]->prefix, c->want_prefix);
		ck_assert_str_eq(found[0]->origin, "cscli");
		ck_assert_str_eq(found[0]->scenario, "manual");
	}
	crowdsec_set_free(s);
}
END_TEST

START_TEST(lookup_of_another_family_finds_nothing)
{
	struct crowdsec_set *s = crowdsec_set_new();
	struct crowdsec_decision d = { .id = 1, .type = "ban", .expires_usec = T0 + SEC };
	const struct crowdsec_decision *found[1];

	ck_assert_int_eq(crowdsec_set_key("Range", "0.0.0.0/0", &d), 0);
	ck_assert_int_eq(crowdsec_set_add(s, &d), 0);
	ck_assert_uint_eq(crowdsec_set_lookup(s, AF_INET, d.addr, T0, found, 1), 1);
	ck_assert_uint_eq(crowdsec_set_lookup(s, AF_UNIX, d.addr, T0, found, 1), 0);
	crowdsec_set_free(s);
}
END_TEST

/* ----------------------------------------------------------------- max */

START_TEST(lookup_returns_the_total_and_fills_only_max)
{
	static const char *const ranges[] = {
		"192.0.2.7/32", "192.0.2.0/24", "192.0.0.0/16", "192.0.0.0/8", "0.0.0.0/0",
	};
	static const char *const types[] = { "captcha", "ban", "throttle", "ban", "captcha" };
	const struct crowdsec_decision *found[4], *sentinel = (const void *)&found;
	struct crowdsec_set *s = crowdsec_set_new();
	struct crowdsec_decision d = { .origin = "crowdsec", .scenario = "x" };

	for (size_t i = 0; i < N(ranges); i++) {
		ck_assert_int_eq(crowdsec_set_key("Range", ranges[i], &d), 0);
		d.id = (int64_t)i + 1;
		d.type = types[i];
		d.expires_usec = T0 + (int64_t)(i + 1) * SEC;
		ck_assert_int_eq(crowdsec_set_add(s, &d), 0);
	}
	for (size_t i = 0; i < N(found); i++)
		found[i] = sentinel;
	/* bans 4 (expires later) and 2, then captchas 5 and 1, then throttle 3 */
	ck_assert_uint_eq(set_look(s, "192.0.2.7", T0, found, 2), 5);
	ck_assert_int_eq(found[0]->id, 4);
	ck_assert_int_eq(found[1]->id, 2);
	ck_assert_ptr_eq(found[2], sentinel);
	ck_assert_uint_eq(set_look(s, "192.0.2.7", T0, found, 4), 5);
	ck_assert_int_eq(found[2]->id, 5);
	ck_assert_int_eq(found[3]->id, 1);
	ck_assert_uint_eq(set_look(s, "192.0.2.7", T0, NULL, 0), 5);
	ck_assert_uint_eq(set_look(s, "192.0.2.8", T0, found, 0), 4);
	ck_assert_uint_eq(set_look(s, "192.0.2.7", T0 + 3 * SEC, found, 1), 2);
	ck_assert_int_eq(found[0]->id, 4);
	crowdsec_set_free(s);
}
END_TEST

/* ------------------------------------------------------------- bulk and memory */

#define BULK_N	200000

/* bulk_decision - decision i of a bulk load: an IPv6 /128 in 2001:db8::/32 */
static struct crowdsec_decision
bulk_decision(size_t i, const char *scenario)
{
	struct crowdsec_decision d = {
		.id = (int64_t)i + 1000, .family = AF_INET6, .prefix = 128, .type = "ban",
		.origin = "CAPI", .scenario = scenario, .expires_usec = T0 + 4 * 3600 * SEC,
	};
	uint32_t v = htonl((uint32_t)i * 2654435761u);

	d.addr[0] = 0x20;
	d.addr[1] = 0x01;
	d.addr[2] = 0x0d;
	d.addr[3] = 0xb8;
	memcpy(d.addr + 8, &v, sizeof(v));
	d.addr[15] = (unsigned char)i;
	return d;
}

/* bulk_cycle - load BULK_N decisions, check a sample, delete all; the peak memory */
static size_t
bulk_cycle(struct crowdsec_set *s)
{
	const struct crowdsec_decision *found[2];
	struct crowdsec_decision d;
	size_t peak;

	for (size_t i = 0; i < BULK_N; i++) {
		d = bulk_decision(i, "crowdsecurity/postfix-spam");
		ck_assert_int_eq(crowdsec_set_add(s, &d), 0);
	}
	ck_assert_uint_eq(crowdsec_set_count(s), BULK_N);
	ck_assert_uint_eq(crowdsec_set_count_type(s, "ban"), BULK_N);
	peak = crowdsec_set_memory(s);
	for (size_t i = 0; i < BULK_N; i += 997) {
		d = bulk_decision(i, NULL);
		ck_assert_uint_eq(crowdsec_set_lookup(s, AF_INET6, d.addr, T0, found, 2), 1);
		ck_assert_int_eq(found[0]->id, d.id);
	}
	for (size_t i = 0; i < BULK_N; i++)
		ck_assert_int_eq(crowdsec_set_delete(s, (int64_t)i + 1000), 1);
	ck_assert_uint_eq(crowdsec_set_count(s), 0);
	ck_assert_uint_eq(crowdsec_set_count_type(s, "ban"), 0);
	for (size_t i = 0; i < BULK_N; i += 997) {
		d = bulk_decision(i, NULL);
		ck_assert_uint_eq(crowdsec_set_lookup(s, AF_INET6, d.addr, T0, found, 2), 0);
	}
	return peak;
}

/* emptied, a set is back to the memory of a new one: nothing grows without bound */
START_TEST(growth_to_200k_and_back_down)
{
	struct crowdsec_set *s = crowdsec_set_new();
	size_t fresh = crowdsec_set_memory(s), peak1, peak2;

	peak1 = bulk_cycle(s);
	ck_assert_msg(peak1 > fresh + BULK_N * sizeof(struct crowdsec_decision),
	    "200k decisions in %zu bytes?", peak1);
	ck_assert_msg(crowdsec_set_memory(s) == fresh,
	    "empty again: %zu bytes, new: %zu", crowdsec_set_memory(s), fresh);
	peak2 = bulk_cycle(s);
	ck_assert_msg(peak2 <= peak1, "second cycle %zu bytes, first %zu", peak2, peak1);
	ck_assert_msg(crowdsec_set_memory(s) == fresh, "empty again after two cycles");
	crowdsec_set_free(s);
}
END_TEST

START_TEST(expire_removes_exactly_the_expired_among_many)
{
	struct crowdsec_set *s = crowdsec_set_new();
	const struct crowdsec_decision *found[1];
	struct crowdsec_decision d;

	for (size_t i = 0; i < 3000; i++) {
		d = bulk_decision(i, "s");
		d.expires_usec = T0 + (int64_t)(i % 1000 + 1) * SEC;	/* 1..1000 s */
		ck_assert_int_eq(crowdsec_set_add(s, &d), 0);
	}
	ck_assert_uint_eq(crowdsec_set_expire(s, T0 + 500 * SEC), 1500);
	ck_assert_uint_eq(crowdsec_set_count(s), 1500);
	for (size_t i = 0; i < 3000; i++) {
		d = bulk_decision(i, NULL);
		ck_assert_uint_eq(crowdsec_set_lookup(s, AF_INET6, d.addr, T0, found, 1),
		    i % 1000 + 1 > 500);
		ck_assert_int_eq(crowdsec_set_delete(s, d.id), i % 1000 + 1 > 500);
	}
	ck_assert_uint_eq(crowdsec_set_count(s), 0);
	ck_assert_uint_eq(crowdsec_set_expire(s, T0 + 2000 * SEC), 0);
	crowdsec_set_free(s);
}
END_TEST

#define INTERN_N	100000

START_TEST(strings_are_interned)
{
	static const char *const shared[] = {
		"crowdsecurity/postfix-spam", "crowdsecurity/ssh-bf", "crowdsecurity/http-probing",
	};
	struct crowdsec_set *a = crowdsec_set_new(), *b = crowdsec_set_new();
	const struct crowdsec_decision *f1[1], *f2[1];
	struct crowdsec_decision d;
	size_t fresh = crowdsec_set_memory(b), text = 0;
	char name[64];

	for (size_t i = 0; i < INTERN_N; i++) {
		d = bulk_decision(i, shared[i % N(shared)]);
		ck_assert_int_eq(crowdsec_set_add(a, &d), 0);
		text += (size_t)snprintf(name, sizeof(name), "crowdsecurity/postfix-%06zu", i);
		d.scenario = name;
		ck_assert_int_eq(crowdsec_set_add(b, &d), 0);
	}
	/* distinct scenarios cost at least their text more; shared ones nearly nothing */
	ck_assert_msg(crowdsec_set_memory(b) >= crowdsec_set_memory(a) + text,
	    "distinct %zu, shared %zu, text %zu", crowdsec_set_memory(b),
	    crowdsec_set_memory(a), text);
	d = bulk_decision(0, NULL);
	ck_assert_uint_eq(crowdsec_set_lookup(a, AF_INET6, d.addr, T0, f1, 1), 1);
	d = bulk_decision(3, NULL);
	ck_assert_uint_eq(crowdsec_set_lookup(a, AF_INET6, d.addr, T0, f2, 1), 1);
	ck_assert_str_eq(f1[0]->scenario, shared[0]);
	ck_assert_ptr_eq(f1[0]->scenario, f2[0]->scenario);
	ck_assert_ptr_eq(f1[0]->type, f2[0]->type);
	ck_assert_ptr_eq(f1[0]->origin, f2[0]->origin);
	for (size_t i = 0; i < INTERN_N; i++)
		ck_assert_int_eq(crowdsec_set_delete(b, (int64_t)i + 1000), 1);
	ck_assert_msg(crowdsec_set_memory(b) == fresh,
	    "strings not freed: %zu bytes, new %zu", crowdsec_set_memory(b), fresh);
	crowdsec_set_free(a);
	crowdsec_set_free(b);
}
END_TEST

static const struct lcase {
	const char *name;
	size_t type_len, origin_len, scenario_len;	/* 'x' repeated */
	const char *tail;				/* appended to the scenario */
	size_t want_type, want_origin, want_scenario;
} lcases[] = {
	{ "strings at the maxima are kept whole",
	  CROWDSEC_TYPE_MAX, CROWDSEC_ORIGIN_MAX, CROWDSEC_SCENARIO_MAX, "",
	  CROWDSEC_TYPE_MAX, CROWDSEC_ORIGIN_MAX, CROWDSEC_SCENARIO_MAX },
	{ "strings one byte over the maxima lose that byte",
	  CROWDSEC_TYPE_MAX + 1, CROWDSEC_ORIGIN_MAX + 1, CROWDSEC_SCENARIO_MAX + 1, "",
	  CROWDSEC_TYPE_MAX, CROWDSEC_ORIGIN_MAX, CROWDSEC_SCENARIO_MAX },
	{ "very long strings are cut at the maxima", 5000, 5000, 100000, "",
	  CROWDSEC_TYPE_MAX, CROWDSEC_ORIGIN_MAX, CROWDSEC_SCENARIO_MAX },
	{ "a cut does not split a UTF-8 character", 3, 3, CROWDSEC_SCENARIO_MAX - 1, "\xc3\xa9z",
	  3, 3, CROWDSEC_SCENARIO_MAX - 1 },
	{ "a UTF-8 character that ends at the maximum is kept", 3, 3, CROWDSEC_SCENARIO_MAX - 2,
	  "\xc3\xa9z", 3, 3, CROWDSEC_SCENARIO_MAX },
	{ "empty strings stay empty", 0, 0, 0, "", 0, 0, 0 },
};

START_TEST(long_strings_are_cut_at_the_maxima)
{
	const struct lcase *c = &lcases[_i];
	struct crowdsec_set *s = crowdsec_set_new();
	const struct crowdsec_decision *found[1];
	size_t tail = strlen(c->tail);
	char *type = calloc(1, c->type_len + 1), *origin = calloc(1, c->origin_len + 1);
	char *scenario = calloc(1, c->scenario_len + tail + 1);
	struct crowdsec_decision d = { .id = 7, .expires_usec = T0 + SEC };

	ck_assert(type != NULL && origin != NULL && scenario != NULL);
	memset(type, 'x', c->type_len);
	memset(origin, 'x', c->origin_len);
	memset(scenario, 'x', c->scenario_len);
	memcpy(scenario + c->scenario_len, c->tail, tail + 1);
	d.type = type;
	d.origin = origin;
	d.scenario = scenario;
	ck_assert_int_eq(crowdsec_set_key("Ip", "192.0.2.7", &d), 0);
	ck_assert_int_eq(crowdsec_set_add(s, &d), 0);
	ck_assert_uint_eq(set_look(s, "192.0.2.7", T0, found, 1), 1);
	ck_assert_msg(strlen(found[0]->type) == c->want_type, "%s: type", c->name);
	ck_assert_msg(strlen(found[0]->origin) == c->want_origin, "%s: origin", c->name);
	ck_assert_msg(strlen(found[0]->scenario) == c->want_scenario, "%s: scenario %zu",
	    c->name, strlen(found[0]->scenario));
	ck_assert(strncmp(found[0]->scenario, scenario, c->want_scenario) == 0);
	ck_assert_msg(crowdsec_set_count_type(s, type) == 1, "%s: count_type of the long type",
	    c->name);
	free(type);
	free(origin);
	free(scenario);
	crowdsec_set_free(s);
}
END_TEST

START_TEST(missing_origin_and_scenario_are_empty)
{
	struct crowdsec_set *s = crowdsec_set_new();
	const struct crowdsec_decision *found[1];
	struct crowdsec_decision d = { .id = 7, .type = "ban", .expires_usec = T0 + SEC };

	ck_assert_int_eq(crowdsec_set_key("Ip", "192.0.2.7", &d), 0);
	ck_assert_int_eq(crowdsec_set_add(s, &d), 0);
	ck_assert_uint_eq(set_look(s, "192.0.2.7", T0, found, 1), 1);
	ck_assert_str_eq(found[0]->origin, "");
	ck_assert_str_eq(found[0]->scenario, "");
	ck_assert_uint_eq(crowdsec_set_count_type(s, NULL), 0);
	ck_assert_ptr_null(crowdsec_set_free(s));
	ck_assert_ptr_null(crowdsec_set_free(NULL));
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("crowdsec_set");
	TCase *tc = tcase_create("crowdsec_set");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, key_of_scope_and_value, 0, N(kcases));
	tcase_add_test(tc, key_refuses_missing_scope_or_value);
	tcase_add_loop_test(tc, set_script_gives_exact_decisions, 0, N(scases));
	tcase_add_loop_test(tc, add_checks_and_normalises_the_network, 0, N(acases));
	tcase_add_test(tc, lookup_of_another_family_finds_nothing);
	tcase_add_test(tc, lookup_returns_the_total_and_fills_only_max);
	tcase_add_test(tc, growth_to_200k_and_back_down);
	tcase_add_test(tc, expire_removes_exactly_the_expired_among_many);
	tcase_add_test(tc, strings_are_interned);
	tcase_add_loop_test(tc, long_strings_are_cut_at_the_maxima, 0, N(lcases));
	tcase_add_test(tc, missing_origin_and_scenario_are_empty);
	suite_add_tcase(su, tc);
	return tst_run_suite(su);
}
