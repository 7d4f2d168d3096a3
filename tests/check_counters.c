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

/*
 * A model of the documented ring, kept as plain (bucket, amount) events: an
 * add older than head - size is dropped, moving head forward drops what leaves
 * the ring, and a read at cur adds up the events of buckets cur - size .. cur.
 */
#define MODEL_KEYS	4
#define MODEL_EVENTS	4096

struct model_key {
	int64_t head;			/* INT64_MIN: nothing added yet */
	size_t n;
	int64_t bucket[MODEL_EVENTS];
	uint64_t amount[MODEL_EVENTS];
};

static void
model_add(struct model_key *m, int64_t idx, uint64_t amount, int64_t size)
{
	size_t kept = 0;

	if (m->head == INT64_MIN || idx - m->head > size) {
		m->n = 0;
		m->head = idx;
	} else if (idx > m->head) {
		m->head = idx;
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->bucket[i] >= m->head - size) {
			m->bucket[kept] = m->bucket[i];
			m->amount[kept++] = m->amount[i];
		}
	m->n = kept;
	if (idx >= m->head - size && amount > 0) {
		ck_assert_uint_lt(m->n, MODEL_EVENTS);
		m->bucket[m->n] = idx;
		m->amount[m->n++] = amount;
	}
}

static uint64_t
model_sum(const struct model_key *m, int64_t cur, int64_t size)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->bucket[i] >= cur - size && m->bucket[i] <= cur)
			sum += m->amount[i];
	return sum;
}

START_TEST(random_adds_and_reads_agree_with_a_model_of_the_ring)
{
	enum { STEPS = 200000 };
	const int64_t width = 6 * SEC, size = 10;
	static struct model_key model[MODEL_KEYS];
	static const char *const keys[MODEL_KEYS] = { "a", "b", "c", "d" };
	struct counters *ct = counters_new(0);
	int cls = counters_class(ct, "ring", COUNTERS_SUM, size * width, (unsigned)size);
	int64_t t = 0;
	unsigned seed = 7;

	ck_assert_int_ge(cls, 0);
	for (int k = 0; k < MODEL_KEYS; k++) {
		model[k].head = INT64_MIN;
		model[k].n = 0;
	}
	for (int step = 0; step < STEPS; step++) {
		unsigned r = (unsigned)rand_r(&seed), k = r % MODEL_KEYS, op = (r >> 4) % 8;
		int64_t when, idx;
		uint64_t got, want, n = 1 + (r >> 8) % 5;

		/* mostly forward by up to 15 s; sometimes back up to 40 s or ahead past the window */
		switch ((r >> 12) % 16) {
		case 0:
			when = t - (int64_t)((r >> 16) % 40) * SEC;
			break;
		case 1:
			t += (int64_t)(61 + (r >> 16) % 60) * SEC;
			when = t;
			break;
		default:
			t += (int64_t)((r >> 16) % 15) * SEC / 2;
			when = t;
			break;
		}
		if (when < 0)
			when = 0;
		idx = (T0 + when) / width;
		if (op < 3) {
			ck_assert_int_eq(counters_add(ct, (unsigned)cls, keys[k], n, T0 + when, &got),
			    0);
			model_add(&model[k], idx, n, size);
			want = model_sum(&model[k], idx, size);
		} else if (op < 5) {
			uint64_t first = (r >> 20) % 2, before = model_sum(&model[k], idx, size);

			ck_assert_int_eq(counters_add_first(ct, (unsigned)cls, keys[k], n - 1, first,
			    T0 + when, &got), 0);
			if (n - 1 + (before == 0 ? first : 0) > 0)
				model_add(&model[k], idx, n - 1 + (before == 0 ? first : 0), size);
			want = before;
		} else {
			got = counters_get(ct, (unsigned)cls, keys[k], T0 + when);
			want = model_sum(&model[k], idx, size);
		}
		ck_assert_msg(got == want, "step %d, op %u, key %s at +%llds: want %llu, got %llu",
		    step, op, keys[k], (long long)(when / SEC), (unsigned long long)want,
		    (unsigned long long)got);
	}
	counters_free(ct);
}
END_TEST

START_TEST(add_first_counts_the_first_event_once)
{
	struct counters *ct = counters_new(0);
	int cls = counters_class(ct, "instance", COUNTERS_SUM, 3600 * SEC, 4);
	struct counters_stats st;
	uint64_t before;

	ck_assert_int_ge(cls, 0);
	/* the first request of an instance: 1 for the instance + 1 for its RCPT */
	ck_assert_int_eq(counters_add_first(ct, (unsigned)cls, "i1", 1, 1, T0, &before), 0);
	ck_assert_uint_eq(before, 0);
	ck_assert_uint_eq(counters_get(ct, (unsigned)cls, "i1", T0), 2);
	/* a second RCPT: only itself */
	ck_assert_int_eq(counters_add_first(ct, (unsigned)cls, "i1", 1, 1, T0 + SEC, &before), 0);
	ck_assert_uint_eq(before, 2);
	/* END-OF-MESSAGE adds nothing but sees the count */
	ck_assert_int_eq(counters_add_first(ct, (unsigned)cls, "i1", 0, 1, T0 + 2 * SEC, &before),
	    0);
	ck_assert_uint_eq(before, 3);
	ck_assert_uint_eq(counters_get(ct, (unsigned)cls, "i1", T0 + 2 * SEC), 3);
	/* two hours later the window is empty again: a first event once more */
	ck_assert_int_eq(counters_add_first(ct, (unsigned)cls, "i1", 0, 1, T0 + 7200 * SEC,
	    &before), 0);
	ck_assert_uint_eq(before, 0);
	ck_assert_uint_eq(counters_get(ct, (unsigned)cls, "i1", T0 + 7200 * SEC), 1);
	/* adding nothing at all only reads: no key is made */
	counters_get_stats(ct, &st);
	ck_assert_uint_eq(st.keys, 1);
	ck_assert_int_eq(counters_add_first(ct, (unsigned)cls, "i2", 0, 0, T0, &before), 0);
	ck_assert_uint_eq(before, 0);
	counters_get_stats(ct, &st);
	ck_assert_uint_eq(st.keys, 1);
	ck_assert_int_eq(counters_add_first(ct, 99, "i2", 1, 1, T0, &before), -EINVAL);
	counters_free(ct);
}
END_TEST

START_TEST(a_ref_is_the_same_counter_as_its_key)
{
	struct counters *ct = counters_new(0);
	int cls = counters_class(ct, "sum", COUNTERS_SUM, 60 * SEC, 0);
	int dis = counters_class(ct, "set", COUNTERS_DISTINCT, 60 * SEC, 8);
	struct counters_ref a, lng, d, bad;
	char longkey[COUNTERS_KEY_MAX + 40], key[32];
	uint64_t sum, before;
	unsigned count;

	ck_assert_int_ge(cls, 0);
	ck_assert_int_ge(dis, 0);
	memset(longkey, 'x', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	counters_ref(ct, (unsigned)cls, "192.0.2.7", &a);
	counters_ref(ct, (unsigned)cls, longkey, &lng);
	counters_ref(ct, (unsigned)dis, "alice", &d);
	counters_ref_prefetch(ct, &a);
	counters_ref_prefetch(ct, &lng);
	ck_assert_int_eq(counters_ref_add(ct, &a, 2, T0, &sum), 0);
	ck_assert_uint_eq(sum, 2);
	ck_assert_int_eq(counters_add(ct, (unsigned)cls, "192.0.2.7", 3, T0, &sum), 0);
	ck_assert_uint_eq(sum, 5);
	ck_assert_uint_eq(counters_ref_get(ct, &a, T0), 5);
	ck_assert_int_eq(counters_ref_add_first(ct, &a, 1, 10, T0, &before), 0);
	ck_assert_uint_eq(before, 5);
	ck_assert_uint_eq(counters_get(ct, (unsigned)cls, "192.0.2.7", T0), 6);
	/* a long key is abbreviated the same way through a ref and through its string */
	ck_assert_int_eq(counters_ref_add(ct, &lng, 4, T0, NULL), 0);
	ck_assert_uint_eq(counters_get(ct, (unsigned)cls, longkey, T0), 4);
	ck_assert_int_eq(counters_ref_add_distinct(ct, &d, "192.0.2.1", T0, &count), 0);
	ck_assert_int_eq(counters_add_distinct(ct, (unsigned)dis, "alice", "192.0.2.2", T0,
	    &count), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert_uint_eq(counters_ref_distinct(ct, &d, T0), 2);
	/* refs stay valid while the table grows under them */
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		ck_assert_int_eq(counters_add(ct, (unsigned)cls, key, 1, T0, NULL), 0);
	}
	ck_assert_uint_eq(counters_ref_get(ct, &a, T0), 6);
	ck_assert_uint_eq(counters_ref_get(ct, &lng, T0), 4);
	ck_assert_uint_eq(counters_ref_distinct(ct, &d, T0), 2);
	/* a ref of the wrong type or an unknown class is refused like its key */
	ck_assert_int_eq(counters_ref_add_distinct(ct, &a, "v", T0, &count), -EINVAL);
	ck_assert_int_eq(counters_ref_add(ct, &d, 1, T0, NULL), -EINVAL);
	counters_ref(ct, 99, "192.0.2.7", &bad);
	ck_assert_int_eq(counters_ref_add(ct, &bad, 1, T0, NULL), -EINVAL);
	ck_assert_uint_eq(counters_ref_get(ct, &bad, T0), 0);
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

/*
 * 300 000 keys go through nine doublings of the table. Every key is read
 * back while the old tables are still being emptied (each added its own
 * number, so a key found on the wrong chain or lost gives a wrong sum),
 * keys made and updated mid-resize included.
 */
/* resize_want - key x's sum once `done` keys were added: its number, + 1000 if bumped */
static uint64_t
resize_want(unsigned x, unsigned done)
{
	/* at each i = 999 mod 1000 key i / 2 is bumped, after the reads: x = 499 mod 500 */
	return x % 97 + 1 + (x % 500 == 499 && 2 * x + 1 < done ? 1000 : 0);
}

START_TEST(keys_stay_found_while_the_table_grows)
{
	const unsigned total = 300000;
	struct counters *ct = counters_new(0);
	int cls = counters_class(ct, "resize", COUNTERS_SUM, 3600 * SEC, 0);
	struct counters_stats st;
	unsigned seed = 11;
	char key[32];

	ck_assert_int_ge(cls, 0);
	for (unsigned i = 0; i < total; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		ck_assert_int_eq(counters_add(ct, (unsigned)cls, key, i % 97 + 1, T0, NULL), 0);
		if (i % 1000 == 999) {
			for (int j = 0; j < 64; j++) {
				unsigned x = (unsigned)rand_r(&seed) % (i + 1);

				snprintf(key, sizeof(key), "k%u", x);
				ck_assert_msg(counters_get(ct, (unsigned)cls, key, T0) ==
				    resize_want(x, i), "key %s lost after %u keys", key, i + 1);
			}
			/* an older key updated during the resize stays one key */
			snprintf(key, sizeof(key), "k%u", i / 2);
			ck_assert_int_eq(counters_add(ct, (unsigned)cls, key, 1000, T0, NULL), 0);
		}
	}
	counters_get_stats(ct, &st);
	ck_assert_uint_eq(st.keys, total);
	ck_assert_uint_eq(st.evictions, 0);
	for (unsigned i = 0; i < total; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		ck_assert_msg(counters_get(ct, (unsigned)cls, key, T0) == resize_want(i, total),
		    "key %s", key);
	}
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
	{ "a buffer one byte short of the NUL", "192.0.2.1", 24, 64, 12, -ENOBUFS, NULL },
	{ "a buffer just large enough", "192.0.2.1", 24, 64, 13, 12, "192.0.2.0/24" },
	{ "a /0 is everything", "198.51.100.200", 0, 0, 64, 9, "0.0.0.0/0" },
	{ "the largest IPv4 address", "255.255.255.255", 32, 64, 64, 18, "255.255.255.255/32" },
	{ "a /20 cuts inside an octet", "198.51.100.200", 20, 64, 64, 14, "198.51.96.0/20" },
	{ "an octet with a leading zero is not an address", "192.0.2.010", 24, 64, 64, -EINVAL,
	  NULL },
	{ "an octet above 255", "256.0.2.1", 24, 64, 64, -EINVAL, NULL },
	{ "five parts", "192.0.2.1.5", 24, 64, 64, -EINVAL, NULL },
	{ "three parts", "192.0.2", 24, 64, 64, -EINVAL, NULL },
	{ "a trailing dot", "192.0.2.1.", 24, 64, 64, -EINVAL, NULL },
	{ "an empty part", "192..2.1", 24, 64, 64, -EINVAL, NULL },
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

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, window_script_gives_exact_sums, 0, N(wcases));
	tcase_add_test(tc, random_adds_and_reads_agree_with_a_model_of_the_ring);
	tcase_add_test(tc, add_first_counts_the_first_event_once);
	tcase_add_test(tc, a_ref_is_the_same_counter_as_its_key);
	tcase_add_test(tc, distinct_counts_values_within_the_window);
	tcase_add_test(tc, classes_are_found_again_by_name_and_checked);
	tcase_add_test(tc, long_keys_stay_distinct);
	tcase_add_test(tc, keys_stay_found_while_the_table_grows);
	tcase_add_test(tc, a_million_distinct_keys_stay_under_the_memory_cap);
	tcase_add_test(tc, a_tiny_cap_is_raised_to_the_minimum);
	tcase_add_loop_test(tc, network_key_of_an_address, 0, N(ncases));
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
