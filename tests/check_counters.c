/*
 * NAME
 *	check_counters - sliding windows on an injected clock, distinct sets, memory cap
 * DESCRIPTION
 *	Window cases are scripts of adds and reads at given times (the clock
 *	is only ever the argument), each read with the exact sum wanted,
 *	including the documented one-sided error of one bucket. The memory
 *	cap is checked under a spray of a million distinct keys: memory never
 *	exceeds the cap, evictions are counted, the newest and the busiest
 *	keys survive.
 * SEE ALSO
 *	counters.h
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "testutil.h"

#define SEC	INT64_C(1000000)
#define MIN	(60 * SEC)
#define DAY	(86400 * SEC)
#define T0	(INT64_C(1795305600) * SEC)	/* 2026-11-22T00:00:00Z: bucket-aligned */

enum { END, ADD, GET };

struct step {
	int op;
	int64_t t;			/* offset from T0 */
	uint64_t n;			/* ADD: amount; GET: sum wanted */
	const char *key;		/* NULL: "192.0.2.7" */
};

#define A(t, n, key)	{ ADD, t, n, key }
#define G(t, n, key)	{ GET, t, n, key }
#define E		{ END, 0, 0, NULL }

static const struct wcase {
	const char *name;
	int64_t window;
	unsigned buckets;
	struct step steps[16];
} wcases[] = {
	{ "an event counts for the whole window and is gone one bucket after it", MIN, 60, {
		A(0, 1, NULL), G(0, 1, NULL), G(59 * SEC + 999999, 1, NULL),
		G(60 * SEC, 1, NULL),			/* within window + one bucket */
		G(61 * SEC, 0, NULL), E } },
	{ "one event per second: the window holds the last minute", MIN, 60, {
		A(0, 1, NULL), A(10 * SEC, 1, NULL), A(20 * SEC, 1, NULL), A(30 * SEC, 1, NULL),
		A(40 * SEC, 1, NULL), A(50 * SEC, 1, NULL), G(59 * SEC, 6, NULL),
		G(70 * SEC, 5, NULL), G(71 * SEC, 4, NULL), G(100 * SEC, 2, NULL),
		G(111 * SEC, 0, NULL), E } },
	{ "the sum returned by an add includes that add", MIN, 60, {
		A(0, 30, NULL), A(SEC, 1, NULL), G(SEC, 31, NULL), E } },
	{ "an event stamped in the past inside the window is added (history replay)", MIN, 60, {
		A(100 * SEC, 1, NULL), A(80 * SEC, 1, NULL), G(100 * SEC, 2, NULL),
		G(141 * SEC, 1, NULL), E } },
	{ "an event stamped before the window is ignored", MIN, 60, {
		A(100 * SEC, 1, NULL), A(30 * SEC, 5, NULL), G(100 * SEC, 1, NULL), E } },
	{ "a key idle for longer than the window starts again from zero", MIN, 60, {
		A(0, 7, NULL), A(10 * MIN, 1, NULL), G(10 * MIN, 1, NULL), E } },
	{ "a read before the newest bucket (clock stepped back) sees the older buckets", MIN, 60, {
		A(10 * SEC, 1, NULL), A(50 * SEC, 1, NULL), G(20 * SEC, 1, NULL), E } },
	{ "keys are counted apart", MIN, 60, {
		A(0, 3, "192.0.2.7"), A(0, 4, "192.0.2.8"), G(0, 3, "192.0.2.7"),
		G(0, 4, "192.0.2.8"), G(0, 0, "192.0.2.9"), E } },
	{ "a day window with 60 buckets errs by at most 24 minutes, never short", DAY, 60, {
		A(0, 1, NULL), G(DAY - SEC, 1, NULL), G(DAY + 23 * MIN, 1, NULL),
		G(DAY + 24 * MIN, 0, NULL), E } },
	{ "a bucket saturates instead of wrapping", MIN, 60, {
		A(0, UINT32_MAX, NULL), A(0, 10, NULL), G(0, UINT32_MAX, NULL),
		A(SEC, 1, NULL), G(SEC, (uint64_t)UINT32_MAX + 1, NULL), E } },
};

START_TEST(window_script_gives_exact_sums)
{
	const struct wcase *c = &wcases[_i];
	struct counters *ct = counters_new(0);
	int cls = counters_class(ct, "test", COUNTERS_SUM, c->window, c->buckets);

	ck_assert_int_ge(cls, 0);
	for (const struct step *s = c->steps; s->op != END; s++) {
		const char *key = s->key != NULL ? s->key : "192.0.2.7";
		uint64_t sum;

		if (s->op == ADD) {
			ck_assert_int_eq(counters_add(ct, (unsigned)cls, key, s->n, T0 + s->t, &sum), 0);
		} else {
			sum = counters_get(ct, (unsigned)cls, key, T0 + s->t);
			ck_assert_msg(sum == s->n, "%s: step %td: sum at +%llds: want %llu, got %llu",
			    c->name, s - c->steps, (long long)(s->t / SEC),
			    (unsigned long long)s->n, (unsigned long long)sum);
		}
	}
	counters_free(ct);
}
END_TEST

START_TEST(distinct_counts_values_within_the_window)
{
	struct counters *ct = counters_new(0);
	int cls = counters_class(ct, "ips-by-user", COUNTERS_DISTINCT, 3600 * SEC, 4);
	unsigned n;

	ck_assert_int_ge(cls, 0);
	counters_add_distinct(ct, (unsigned)cls, "alice", "192.0.2.1", T0, &n);
	ck_assert_uint_eq(n, 1);
	counters_add_distinct(ct, (unsigned)cls, "alice", "192.0.2.1", T0 + SEC, &n);
	ck_assert_uint_eq(n, 1);			/* the same value again */
	counters_add_distinct(ct, (unsigned)cls, "alice", "192.0.2.2", T0 + 2 * SEC, &n);
	counters_add_distinct(ct, (unsigned)cls, "alice", "2001:db8::1", T0 + 3 * SEC, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(counters_distinct(ct, (unsigned)cls, "bob", T0), 0);
	/* 192.0.2.1 was last seen at +1s: gone an hour later, the others not yet */
	ck_assert_uint_eq(counters_distinct(ct, (unsigned)cls, "alice", T0 + 3601 * SEC), 2);
	/* the set holds 4: more values saturate the count at 4 */
	for (int i = 0; i < 10; i++) {
		char v[32];

		snprintf(v, sizeof(v), "198.51.100.%d", i);
		counters_add_distinct(ct, (unsigned)cls, "alice", v, T0 + (10 + i) * SEC, &n);
	}
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(counters_distinct(ct, (unsigned)cls, "alice", T0 + 20 * SEC), 4);
	counters_free(ct);
}
END_TEST

START_TEST(classes_are_found_again_by_name_and_checked)
{
	struct counters *ct = counters_new(0);
	int a = counters_class(ct, "rate:messages:client_address:60s", COUNTERS_SUM, MIN, 0);
	int b = counters_class(ct, "distinct:x", COUNTERS_DISTINCT, MIN, 8);
	struct counters_stats st;

	ck_assert_int_eq(a, 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(counters_class(ct, "rate:messages:client_address:60s", COUNTERS_SUM,
	    MIN, COUNTERS_BUCKETS), a);
	ck_assert_int_eq(counters_class(ct, "rate:messages:client_address:60s", COUNTERS_SUM,
	    2 * MIN, 0), -EEXIST);
	ck_assert_int_eq(counters_class(ct, "bad", COUNTERS_SUM, 0, 0), -EINVAL);
	ck_assert_int_eq(counters_class(ct, "bad", COUNTERS_SUM, MIN, COUNTERS_BUCKETS_MAX + 1),
	    -EINVAL);
	/* using a class as the wrong type, or one that does not exist */
	ck_assert_int_eq(counters_add(ct, (unsigned)b, "k", 1, T0, NULL), -EINVAL);
	ck_assert_int_eq(counters_add_distinct(ct, (unsigned)a, "k", "v", T0, NULL), -EINVAL);
	ck_assert_int_eq(counters_add(ct, 99, "k", 1, T0, NULL), -EINVAL);
	ck_assert_uint_eq(counters_get(ct, 99, "k", T0), 0);
	/* the same key in two classes is two counters */
	counters_add(ct, (unsigned)a, "k", 5, T0, NULL);
	counters_add_distinct(ct, (unsigned)b, "k", "v", T0, NULL);
	ck_assert_uint_eq(counters_get(ct, (unsigned)a, "k", T0), 5);
	ck_assert_uint_eq(counters_distinct(ct, (unsigned)b, "k", T0), 1);
	counters_get_stats(ct, &st);
	ck_assert_uint_eq(st.keys, 2);
	ck_assert_uint_eq(st.classes, 2);
	ck_assert_uint_eq(st.cap, COUNTERS_MEM_DEFAULT);
	ck_assert_ptr_null(counters_free(ct));
	ck_assert_ptr_null(counters_free(NULL));
}
END_TEST

START_TEST(long_keys_stay_distinct)
{
	struct counters *ct = counters_new(0);
	int cls = counters_class(ct, "by-sender", COUNTERS_SUM, MIN, 0);
	char a[1000], b[1000];

	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[sizeof(b) - 2] = 'y';		/* differs only past COUNTERS_KEY_MAX */
	counters_add(ct, (unsigned)cls, a, 1, T0, NULL);
	counters_add(ct, (unsigned)cls, b, 2, T0, NULL);
	ck_assert_uint_eq(counters_get(ct, (unsigned)cls, a, T0), 1);
	ck_assert_uint_eq(counters_get(ct, (unsigned)cls, b, T0), 2);
	counters_free(ct);
}
END_TEST

START_TEST(a_million_distinct_keys_stay_under_the_memory_cap)
{
	const size_t cap = 8 * 1024 * 1024;
	const unsigned total = 1000000;
	struct counters *ct = counters_new(cap);
	int cls = counters_class(ct, "rate:connections:client_address:3600s", COUNTERS_SUM,
	    3600 * SEC, 0);
	int keep = counters_class(ct, "rate:messages:sasl_username:3600s", COUNTERS_SUM,
	    3600 * SEC, 0);
	struct counters_stats st;
	char key[64];

	counters_set_hash_key(ct, 1, 2);
	for (unsigned i = 0; i < total; i++) {
		int64_t t = T0 + (int64_t)i * 1000;	/* a million clients in 1000 s */

		snprintf(key, sizeof(key), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		ck_assert_int_eq(counters_add(ct, (unsigned)cls, key, 1, t, NULL), 0);
		if (i % 1000 == 0)	/* a busy key, updated all along */
			ck_assert_int_eq(counters_add(ct, (unsigned)keep, "alice", 1, t, NULL), 0);
		if (i % 4096 == 0) {
			counters_get_stats(ct, &st);
			ck_assert_uint_le(st.bytes, cap);
		}
	}
	counters_get_stats(ct, &st);
	ck_assert_uint_le(st.bytes, cap);
	ck_assert_uint_gt(st.bytes, cap / 2);		/* the cap is used, not wasted */
	ck_assert_uint_gt(st.keys, 1000);
	ck_assert_uint_eq(st.evictions + st.keys, total + 1);
	/* the oldest keys went first; the newest and the busy one are there */
	ck_assert_uint_eq(counters_get(ct, (unsigned)cls, "10.0.0.0", T0 + 1000 * SEC), 0);
	snprintf(key, sizeof(key), "10.%u.%u.%u", (total - 1) >> 16, ((total - 1) >> 8) & 255,
	    (total - 1) & 255);
	ck_assert_uint_eq(counters_get(ct, (unsigned)cls, key, T0 + 1000 * SEC), 1);
	ck_assert_uint_eq(counters_get(ct, (unsigned)keep, "alice", T0 + 1000 * SEC), total / 1000);
	counters_free(ct);
}
END_TEST

START_TEST(a_tiny_cap_is_raised_to_the_minimum)
{
	struct counters *ct = counters_new(1);
	struct counters_stats st;

	counters_get_stats(ct, &st);
	ck_assert_uint_eq(st.cap, COUNTERS_MEM_MIN);
	counters_free(ct);
}
END_TEST

static const struct ncase {
	const char *name, *ip;
	unsigned v4, v6;
	size_t size;
	int want_ret;
	const char *want;
} ncases[] = {
	{ "an IPv4 client is keyed by its /24", "192.0.2.77", 24, 64, 64, 12, "192.0.2.0/24" },
	{ "an IPv6 client is keyed by its /64", "2001:db8:1:2:3:4:5:6", 24, 64, 64, 17,
	  "2001:db8:1:2::/64" },
	{ "an IPv4-mapped IPv6 address is the IPv4 client", "::ffff:198.51.100.9", 24, 64, 64, 15,
	  "198.51.100.0/24" },
	{ "a configured /16", "192.0.2.77", 16, 64, 64, 12, "192.0.0.0/16" },
	{ "a /32 is the address itself", "203.0.113.5", 32, 64, 64, 14, "203.0.113.5/32" },
	{ "an IPv6 /60 cuts inside a hex digit", "2001:db8:0:12ff::1", 24, 60, 64, 20,
	  "2001:db8:0:12f0::/60" },
	{ "an IPv6 /48", "2001:db8:abcd:12::1", 24, 48, 64, 18, "2001:db8:abcd::/48" },
	{ "a host name is not an address", "mail.example.org", 24, 64, 64, -EINVAL, NULL },
	{ "\"unknown\" is not an address", "unknown", 24, 64, 64, -EINVAL, NULL },
	{ "a prefix longer than IPv4 allows", "192.0.2.1", 33, 64, 64, -EINVAL, NULL },
	{ "a buffer too small", "192.0.2.1", 24, 64, 8, -ENOBUFS, NULL },
};

START_TEST(network_key_of_an_address)
{
	const struct ncase *c = &ncases[_i];
	char buf[64];

	ck_assert_msg(counters_net_key(c->ip, c->v4, c->v6, buf, c->size) == c->want_ret, "%s",
	    c->name);
	if (c->want != NULL)
		ck_assert_str_eq(buf, c->want);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("counters");
	TCase *tc = tcase_create("counters");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, window_script_gives_exact_sums, 0, N(wcases));
	tcase_add_test(tc, distinct_counts_values_within_the_window);
	tcase_add_test(tc, classes_are_found_again_by_name_and_checked);
	tcase_add_test(tc, long_keys_stay_distinct);
	tcase_add_test(tc, a_million_distinct_keys_stay_under_the_memory_cap);
	tcase_add_test(tc, a_tiny_cap_is_raised_to_the_minimum);
	tcase_add_loop_test(tc, network_key_of_an_address, 0, N(ncases));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
