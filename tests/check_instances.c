/*
 * NAME
 *	check_instances - the open transactions' table: counts, life, displacement
 * DESCRIPTION
 *	Hashes are chosen by hand: a table of 4 entries is one set, so which
 *	entry a new instance takes is exact. The random case compares the
 *	counts of 64 open transactions with an exact model while thousands of
 *	ended ones push each other out of the table. The
 *	counters' wrappers are checked for the same counts by instance text,
 *	memory within the cap and displacement in the stats.
 * SEE ALSO
 *	instances.h, counters.h
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "instances.h"
#include "testutil.h"

#define SEC	INT64_C(1000000)
#define HOUR	(3600 * SEC)
#define T0	(INT64_C(1795305600) * SEC)	/* 2026-11-22T00:00:00Z */

START_TEST(bad_sizes_are_refused)
{
	errno = 0;
	ck_assert_ptr_null(instances_new(0, HOUR));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(instances_new(2, HOUR));
	ck_assert_ptr_null(instances_new(12, HOUR));
	ck_assert_ptr_null(instances_new(16, SEC / 2));
	ck_assert_ptr_null(instances_free(NULL));
}
END_TEST

START_TEST(a_transaction_counts_its_first_request_once)
{
	struct instances *t = instances_new(1024, HOUR);

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_ge(instances_bytes(t), 1024 * 16);
	/* MAIL: new, becomes 1; RCPT, RCPT: 1 + 2; END-OF-MESSAGE reads 3 */
	ck_assert_uint_eq(instances_add(t, 0xabc, 0, 1, T0), 0);
	ck_assert_uint_eq(instances_add(t, 0xabc, 1, 1, T0 + SEC), 1);
	ck_assert_uint_eq(instances_add(t, 0xabc, 1, 1, T0 + 2 * SEC), 2);
	ck_assert_uint_eq(instances_add(t, 0xabc, 0, 1, T0 + 3 * SEC), 3);
	/* a first request that is an RCPT: 1 + 1 */
	ck_assert_uint_eq(instances_add(t, 0xdef, 1, 1, T0), 0);
	ck_assert_uint_eq(instances_add(t, 0xdef, 0, 1, T0), 2);
	/* hash 0 is an instance like any other */
	ck_assert_uint_eq(instances_add(t, 0, 1, 1, T0), 0);
	ck_assert_uint_eq(instances_add(t, 0, 1, 1, T0), 2);
	ck_assert_uint_eq(instances_add(t, 0xabc, 0, 0, T0 + 4 * SEC), 3);
	ck_assert_uint_eq(instances_displaced(t), 0);
	instances_free(t);
}
END_TEST

START_TEST(an_instance_lives_an_hour_after_its_last_use)
{
	struct instances *t = instances_new(64, HOUR);

	ck_assert_uint_eq(instances_add(t, 7, 1, 1, T0), 0);
	/* each use starts its hour again */
	ck_assert_uint_eq(instances_add(t, 7, 1, 1, T0 + HOUR - SEC), 2);
	ck_assert_uint_eq(instances_add(t, 7, 0, 1, T0 + 2 * HOUR - 2 * SEC), 3);
	/* a clock stepped back is not expiry */
	ck_assert_uint_eq(instances_add(t, 7, 0, 1, T0 + HOUR), 3);
	/* an hour unused: a new instance */
	ck_assert_uint_eq(instances_add(t, 7, 0, 1, T0 + 2 * HOUR), 0);
	ck_assert_uint_eq(instances_add(t, 7, 0, 1, T0 + 2 * HOUR), 1);
	/* a clock stepped back by an hour or more: its entries are of another time */
	ck_assert_uint_eq(instances_add(t, 7, 0, 1, T0 + HOUR), 0);
	ck_assert_uint_eq(instances_add(t, 7, 0, 1, T0 + HOUR), 1);
	/* expired entries are free again: taking one displaces nothing */
	ck_assert_uint_eq(instances_displaced(t), 0);
	instances_free(t);
}
END_TEST

START_TEST(a_full_set_gives_up_its_least_recently_used_entry)
{
	struct instances *t = instances_new(4, HOUR);	/* one set of 4 */

	for (uint64_t h = 1; h <= 4; h++)
		ck_assert_uint_eq(instances_add(t, h, 0, 1, T0 + (int64_t)h * SEC), 0);
	ck_assert_uint_eq(instances_displaced(t), 0);
	/* 1 is used again: 2 is now the least recently used */
	ck_assert_uint_eq(instances_add(t, 1, 1, 1, T0 + 10 * SEC), 1);
	ck_assert_uint_eq(instances_add(t, 5, 0, 1, T0 + 11 * SEC), 0);
	ck_assert_uint_eq(instances_displaced(t), 1);
	ck_assert_uint_eq(instances_add(t, 1, 0, 1, T0 + 12 * SEC), 2);
	ck_assert_uint_eq(instances_add(t, 3, 0, 1, T0 + 12 * SEC), 1);
	ck_assert_uint_eq(instances_add(t, 4, 0, 1, T0 + 12 * SEC), 1);
	ck_assert_uint_eq(instances_add(t, 5, 0, 1, T0 + 12 * SEC), 1);
	/* 2 was displaced: it comes back as new, and takes the oldest (1, 3, 4, 5 at 12 s: 1) */
	ck_assert_uint_eq(instances_add(t, 2, 0, 1, T0 + 13 * SEC), 0);
	ck_assert_uint_eq(instances_displaced(t), 2);
	/* an entry unused for an hour is taken before any live one */
	ck_assert_uint_eq(instances_add(t, 3, 0, 1, T0 + HOUR), 1);
	ck_assert_uint_eq(instances_add(t, 4, 0, 1, T0 + HOUR), 1);
	ck_assert_uint_eq(instances_add(t, 2, 0, 1, T0 + HOUR), 1);
	ck_assert_uint_eq(instances_add(t, 6, 0, 1, T0 + HOUR + 20 * SEC), 0);	/* takes 5 */
	ck_assert_uint_eq(instances_displaced(t), 2);
	ck_assert_uint_eq(instances_add(t, 3, 0, 1, T0 + HOUR + 21 * SEC), 1);
	ck_assert_uint_eq(instances_add(t, 4, 0, 1, T0 + HOUR + 21 * SEC), 1);
	ck_assert_uint_eq(instances_add(t, 2, 0, 1, T0 + HOUR + 21 * SEC), 1);
	ck_assert_uint_eq(instances_add(t, 6, 0, 1, T0 + HOUR + 21 * SEC), 1);
	instances_free(t);
}
END_TEST

START_TEST(counts_saturate)
{
	struct instances *t = instances_new(16, HOUR);

	ck_assert_uint_eq(instances_add(t, 9, UINT32_MAX - 1, 1, T0), 0);
	ck_assert_uint_eq(instances_add(t, 9, 5, 1, T0), UINT32_MAX);
	ck_assert_uint_eq(instances_add(t, 9, 0, 1, T0), UINT32_MAX);
	ck_assert_uint_eq(instances_add(t, 10, UINT64_MAX, UINT64_MAX, T0), 0);
	ck_assert_uint_eq(instances_add(t, 10, 0, 0, T0), UINT32_MAX);
	instances_free(t);
}
END_TEST

/* xorshift64*: a repeatable stream */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

START_TEST(random_transactions_agree_with_an_exact_model)
{
	enum { OPEN = 64, ROUNDS = 200000 };
	struct instances *t = instances_new(4096, HOUR);
	uint64_t hash[OPEN], count[OPEN], seed = 42, next_hash = 1;
	int64_t now = T0;

	for (int i = 0; i < OPEN; i++) {
		hash[i] = next_rand(&seed);
		count[i] = 0;
	}
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t r = next_rand(&seed);
		int i = (int)(r % OPEN);
		uint64_t n = (r >> 8) % 3, first = (r >> 16) % 2;

		now += (int64_t)((r >> 24) % 1000);
		ck_assert_uint_eq(instances_add(t, hash[i], n, first, now), count[i]);
		count[i] += count[i] == 0 ? n + first : n;
		/* one request in 8 ends its transaction; the next one has a new instance */
		if ((r >> 40) % 8 == 0) {
			hash[i] = next_rand(&seed) ^ next_hash++;
			count[i] = 0;
		}
	}
	/*
	 * About 25 000 transactions ended within the hour and pushed each other
	 * out of the 4096 entries, while every open one kept its exact count.
	 */
	ck_assert_uint_gt(instances_displaced(t), 20000);
	instances_free(t);
}
END_TEST

START_TEST(counters_keep_instances_by_their_text_within_the_cap)
{
	struct counters *ct = counters_new(1024 * 1024);
	struct counters_stats st;
	uint64_t before, h;
	char inst[32];

	h = counters_instance_hash(ct, "1f2e3d.5a4b3c.1234.0");
	ck_assert_uint_eq(h, counters_instance_hash(ct, "1f2e3d.5a4b3c.1234.0"));
	ck_assert_uint_ne(h, counters_instance_hash(ct, "1f2e3d.5a4b3c.1234.1"));
	ck_assert_int_eq(counters_instance_add(ct, h, 1, 1, T0, &before), 0);
	ck_assert_uint_eq(before, 0);
	ck_assert_int_eq(counters_instance_add(ct, counters_instance_hash(ct,
	    "1f2e3d.5a4b3c.1234.0"), 0, 1, T0, &before), 0);
	ck_assert_uint_eq(before, 2);
	/* 1 MiB cap: a table of 16 KiB, counted in bytes; instances are not keys */
	counters_get_stats(ct, &st);
	ck_assert_uint_eq(st.keys, 0);
	ck_assert_uint_ge(st.bytes, 16 * 1024);
	ck_assert_uint_le(st.bytes, st.cap);
	/* 100 000 transactions at once: 1024 entries hold some; the rest are displaced */
	for (int i = 0; i < 100000; i++) {
		snprintf(inst, sizeof(inst), "%x.0.0.0", i);
		ck_assert_int_eq(counters_instance_add(ct, counters_instance_hash(ct, inst), 1, 1,
		    T0 + SEC, &before), 0);
		ck_assert_uint_eq(before, 0);
	}
	counters_get_stats(ct, &st);
	ck_assert_uint_ge(st.instances_displaced, 100000 - 1024);
	ck_assert_uint_le(st.instances_displaced, 100000);
	ck_assert_uint_eq(st.evictions, st.instances_displaced);
	ck_assert_uint_le(st.bytes, st.cap);
	counters_free(ct);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("instances");
	TCase *tc = tcase_create("instances");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_sizes_are_refused);
	tcase_add_test(tc, a_transaction_counts_its_first_request_once);
	tcase_add_test(tc, an_instance_lives_an_hour_after_its_last_use);
	tcase_add_test(tc, a_full_set_gives_up_its_least_recently_used_entry);
	tcase_add_test(tc, counts_saturate);
	tcase_add_test(tc, random_transactions_agree_with_an_exact_model);
	tcase_add_test(tc, counters_keep_instances_by_their_text_within_the_cap);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
