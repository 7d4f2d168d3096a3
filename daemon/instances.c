/*
 * NAME
 *	instances - the mail transactions in progress, by Postfix `instance`
 * SYNOPSIS
 *	#include "instances.h"
 * DESCRIPTION
 *	A set-associative cache: entries / 4 sets of 4 entries, one cache
 *	line (64 bytes) per set, so a lookup is one load that the caller
 *	can start early (instances_prefetch()). Hash 0 marks a free entry
 *	(a real hash of 0 is stored as 1). Times are whole seconds, stored
 *	as 32 bits and compared by their difference, which is right across
 *	the wrap for any difference under 68 years.
 * SEE ALSO
 *	instances.h (the contract), tests/check_counters.c
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "instances.h"

struct instances_entry {
	uint64_t hash;			/* 0: free */
	uint32_t count;
	uint32_t at;			/* last use, seconds */
};

struct instances {
	struct instances_entry *e;	/* 64-byte aligned */
	size_t mask;			/* sets - 1 */
	int64_t life;			/* seconds */
	size_t bytes;
	uint64_t displaced;
};

/* instances_new - an empty table of `entries` (a power of two >= 4) */
struct instances *
instances_new(size_t entries, int64_t life_usec)
{
	struct instances *t;

	if (entries < INSTANCES_WAYS || (entries & (entries - 1)) != 0 || life_usec < 1000000 ||
	    life_usec / 1000000 > INT32_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->e = aligned_alloc(64, entries * sizeof(*t->e));
	if (t->e == NULL) {
		free(t);
		return NULL;
	}
	memset(t->e, 0, entries * sizeof(*t->e));
	t->mask = entries / INSTANCES_WAYS - 1;
	t->life = life_usec / 1000000;
	t->bytes = malloc_usable_size(t) + malloc_usable_size(t->e);
	return t;
}

/* instances_free - returns NULL */
struct instances *
instances_free(struct instances *t)
{
	if (t != NULL) {
		free(t->e);
		free(t);
	}
	return NULL;
}

/* instances_set - the first entry of a hash's set */
static struct instances_entry *
instances_set(const struct instances *t, uint64_t hash)
{
	/* the set from the high bits: the low ones also pick counters' table slots */
	return &t->e[((hash >> 32) & t->mask) * INSTANCES_WAYS];
}

/* instances_prefetch - start loading a hash's set */
void
instances_prefetch(const struct instances *t, uint64_t hash)
{
	__builtin_prefetch(instances_set(t, hash));
}

/* instances_live - whether an entry used at `at` is still within its life at `now` */
static int
instances_live(const struct instances *t, uint32_t at, uint32_t now)
{
	int32_t age = (int32_t)(now - at);

	return age < t->life && age > -t->life;
}

/* instances_sat - a + b, at most UINT32_MAX */
static uint32_t
instances_sat(uint64_t a, uint64_t b)
{
	return a >= UINT32_MAX || b >= UINT32_MAX - a ? UINT32_MAX : (uint32_t)(a + b);
}

/* instances_add - add n (+ n_first when new) to an instance; its count from before */
uint64_t
instances_add(struct instances *t, uint64_t hash, uint64_t n, uint64_t n_first, int64_t now_usec)
{
	struct instances_entry *set = instances_set(t, hash), *victim = NULL;
	uint32_t now = (uint32_t)(uint64_t)(now_usec / 1000000);
	uint64_t before;
	int victim_free = 0;

	if (hash == 0)
		hash = 1;
	for (int i = 0; i < INSTANCES_WAYS; i++) {
		struct instances_entry *e = &set[i];

		if (e->hash == hash && instances_live(t, e->at, now)) {
			before = e->count;
			e->count = instances_sat(before, before == 0 ? instances_sat(n, n_first) : n);
			e->at = now;
			return before;
		}
		/* a free or expired entry, else the least recently used */
		int is_free = e->hash == 0 || !instances_live(t, e->at, now);

		if (victim == NULL || (!victim_free && (is_free || (int32_t)(e->at - victim->at) < 0))) {
			victim = e;
			victim_free = is_free;
		}
	}
	if (!victim_free)
		t->displaced++;
	victim->hash = hash;
	victim->count = instances_sat(n, n_first);
	victim->at = now;
	return 0;
}

/* instances_bytes - memory held, as allocated */
size_t
instances_bytes(const struct instances *t)
{
	return t->bytes;
}

/* instances_displaced - entries taken from an instance still within its life */
uint64_t
instances_displaced(const struct instances *t)
{
	return t->displaced;
}
