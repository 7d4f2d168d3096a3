/*
 * NAME
 *	counters - sliding-window counters in memory, with a hard memory cap
 * SYNOPSIS
 *	#include "counters.h"
 *
 *	struct counters *counters_new(size_t mem_cap);
 *	struct counters *counters_free(struct counters *c);
 *	int counters_class(struct counters *c, const char *name, enum counters_type type,
 *	    int64_t window_usec, unsigned size);
 *	int counters_add(struct counters *c, unsigned cls, const char *key, uint64_t n,
 *	    int64_t now_usec, uint64_t *ret_sum);
 *	int counters_add_first(struct counters *c, unsigned cls, const char *key, uint64_t n,
 *	    uint64_t n_first, int64_t now_usec, uint64_t *ret_before);
 *	uint64_t counters_get(struct counters *c, unsigned cls, const char *key, int64_t now_usec);
 *	int counters_add_distinct(struct counters *c, unsigned cls, const char *key,
 *	    const char *value, int64_t now_usec, unsigned *ret_count);
 *	unsigned counters_distinct(struct counters *c, unsigned cls, const char *key,
 *	    int64_t now_usec);
 *	void counters_get_stats(const struct counters *c, struct counters_stats *ret);
 *
 *	uint64_t counters_instance_hash(const struct counters *c, const char *instance);
 *	int counters_instance_add(struct counters *c, uint64_t hash, uint64_t n,
 *	    uint64_t n_first, int64_t now_usec, uint64_t *ret_before);
 *
 *	void counters_ref(const struct counters *c, unsigned cls, const char *key,
 *	    struct counters_ref *ref);
 *	void counters_ref_prefetch(const struct counters *c, const struct counters_ref *ref);
 *	int counters_ref_add(struct counters *c, const struct counters_ref *ref, uint64_t n,
 *	    int64_t now_usec, uint64_t *ret_sum);
 *	int counters_ref_add_first(struct counters *c, const struct counters_ref *ref,
 *	    uint64_t n, uint64_t n_first, int64_t now_usec, uint64_t *ret_before);
 *	uint64_t counters_ref_get(const struct counters *c, const struct counters_ref *ref,
 *	    int64_t now_usec);
 *	int counters_ref_add_distinct(struct counters *c, const struct counters_ref *ref,
 *	    const char *value, int64_t now_usec, unsigned *ret_count);
 *	unsigned counters_ref_distinct(const struct counters *c, const struct counters_ref *ref,
 *	    int64_t now_usec);
 *	int counters_net_key(const char *ip, unsigned v4_len, unsigned v6_len,
 *	    char *buf, size_t size);
 * DESCRIPTION
 *	A counter is identified by a class and a key string. A class says
 *	what is counted and over which window ("messages by client_address
 *	per 1m"); the key is the value it is counted for ("192.0.2.7").
 *	Classes are registered once by name; registering the same name again
 *	returns the same class (so a reloaded rule set keeps its counts) as
 *	long as type, window and size are unchanged, else -EEXIST.
 *
 *	COUNTERS_SUM classes count events over a sliding window of
 *	window_usec, cut into `size` sub-buckets (0 = COUNTERS_BUCKETS, 60)
 *	of width w = window / size. The sum read at time t covers the
 *	buckets from the one holding t - window to the one holding t, so it
 *	includes every event of the last `window` and possibly events up to
 *	window + w old: the error is one-sided, at most one bucket's worth
 *	of older events (with 60 buckets: 1 s extra on a 1m window, 24 min on
 *	a 1d window). A limit is therefore never missed by timing, only
 *	reached up to w early. Events stamped in the past are added to their
 *	bucket when it is still inside the window (history replay); older
 *	ones are ignored. Buckets saturate at 2^32-1 each.
 *
 *	counters_add_first() is a read and an add in one lookup: it adds n,
 *	plus n_first when the key's sum over the window ending at now_usec
 *	is 0 (its first event in the window), and returns that sum from
 *	before the add. With n and n_first both 0 it only reads.
 *
 *	counters_instance_add() is the same operation for a message's
 *	`instance` (the rules count a message at its first request), on a
 *	fixed table of its own, instances.h, made at the first call: 1/64 of
 *	the cap, 4 MiB at most, and part of `bytes`. Its hash comes from
 *	counters_instance_hash(), which also starts loading the entries.
 *	Instances displaced while their transaction may still be open are
 *	counted in stats.instances_displaced, and in stats.evictions.
 *
 *	COUNTERS_DISTINCT classes count distinct values per key seen within
 *	the window (exact, by a 64-bit hash of the value) in a set of at most
 *	`size` values (0 = COUNTERS_DISTINCT_DEFAULT). When the set is full a
 *	new value replaces the least recently seen one, so the count
 *	saturates at `size`: size must be above the largest threshold a rule
 *	compares it with (rules.c passes threshold + 1).
 *
 *	Time is always passed in (now_usec, UTC microseconds): nothing here
 *	reads a clock. Memory, as allocated (malloc_usable_size()), of keys,
 *	counters and the hash table is kept under mem_cap (0 =
 *	COUNTERS_MEM_DEFAULT): an update that needs memory first evicts the
 *	least recently updated keys (of any class), each counted in
 *	stats.evictions; recency is kept to within an eighth of the keys (a
 *	key just updated is always among the newest eighth). Reads do not
 *	change recency and never allocate. The hash table is chained, keyed
 *	by SipHash-1-3 with a random key per process (keys are chosen by
 *	clients), grown by doubling a few chains per update, so that no call
 *	rehashes the whole table: O(1) average per operation. Keys longer than COUNTERS_KEY_MAX bytes are
 *	stored as their first bytes plus a hash of the whole.
 *
 *	A counters_ref is a (class, key) hashed once: counters_ref() fills
 *	it and starts loading its table slot into the cache, and the
 *	counters_ref_*() functions are the operations above without hashing
 *	the key again. A caller that needs several counters at once (a
 *	policy request reads some seven) makes all its refs first, then
 *	calls counters_ref_prefetch() on each (which reads the slot and
 *	starts loading the key's node), then operates: the cache misses of
 *	all of them overlap instead of following one another. Prefetching is
 *	only a hint; a ref stays valid while its key string lives (long
 *	keys are copied into the ref), across any other operation. The
 *	functions that take a key string make a ref and call these.
 *
 *	counters_net_key() writes the network of a canonical IPv4 or IPv6
 *	address for a prefix length ("192.0.2.0/24", "2001:db8:1:2::/64"):
 *	the key of "client_net" counters.
 * RETURNS
 *	counters_class(): the class number (>= 0), -EINVAL (bad window/size),
 *	-EEXIST (name registered with other parameters), -E2BIG (more than
 *	COUNTERS_CLASSES_MAX classes), -ENOMEM. counters_add(),
 *	counters_add_first() and counters_add_distinct(): 0 with the new sum,
 *	the sum before, or the count in *ret_* (if not NULL), -EINVAL
 *	(unknown class or wrong type), -ENOMEM when not even an empty table
 *	fits under the cap. counters_get() and counters_distinct(): the
 *	value, 0 for an unknown key or class. The counters_ref_*() functions
 *	return what their counterparts by key string return.
 *	counters_net_key(): the length written, -EINVAL (not an address or a
 *	prefix longer than the family allows), -ENOBUFS.
 * OWNERSHIP
 *	counters_new() returns NULL only for ENOMEM; counters_free() frees
 *	every key and returns NULL. Keys and values are copied (or hashed).
 *	Not thread-safe: one caller at a time (the event loop).
 * SEE ALSO
 *	rules.h, tests/check_counters.c
 */
#ifndef MX_COUNTERS_H
#define MX_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* Enough for every client of a large site; a spray beyond this evicts. */
#define COUNTERS_MEM_DEFAULT	((size_t)256 * 1024 * 1024)
/* Below this a table cannot even hold its first keys. */
#define COUNTERS_MEM_MIN	((size_t)64 * 1024)
/* Sub-buckets per window: error <= window/60 (see DESCRIPTION). */
#define COUNTERS_BUCKETS	60
#define COUNTERS_BUCKETS_MAX	1024
/* Distinct values tracked per key when the class does not say. */
#define COUNTERS_DISTINCT_DEFAULT	64
#define COUNTERS_DISTINCT_MAX	4096
/* Each counting rule condition is one class; 256 is a very large rule set. */
#define COUNTERS_CLASSES_MAX	256
/* RFC 5321: a path is at most 256 bytes; longer keys are abbreviated. */
#define COUNTERS_KEY_MAX	256
/* Longest class name kept. */
#define COUNTERS_NAME_MAX	128
/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" fits. */
#define COUNTERS_NET_KEY_MAX	64

enum counters_type {
	COUNTERS_SUM,
	COUNTERS_DISTINCT,
};

struct counters_stats {
	size_t keys;		/* keys held (all classes) */
	size_t bytes;		/* memory held, as allocated */
	size_t cap;		/* the memory cap */
	uint64_t evictions;	/* keys dropped to stay under the cap, + instances_displaced */
	uint64_t instances_displaced;	/* see instances.h */
	uint64_t updates;	/* counters_add*() calls that changed something */
	unsigned classes;
};

struct counters;

struct counters *counters_new(size_t mem_cap);
struct counters *counters_free(struct counters *c);
int counters_class(struct counters *c, const char *name, enum counters_type type,
    int64_t window_usec, unsigned size);
int counters_add(struct counters *c, unsigned cls, const char *key, uint64_t n,
    int64_t now_usec, uint64_t *ret_sum);
int counters_add_first(struct counters *c, unsigned cls, const char *key, uint64_t n,
    uint64_t n_first, int64_t now_usec, uint64_t *ret_before);
uint64_t counters_get(struct counters *c, unsigned cls, const char *key, int64_t now_usec);
int counters_add_distinct(struct counters *c, unsigned cls, const char *key, const char *value,
    int64_t now_usec, unsigned *ret_count);
unsigned counters_distinct(struct counters *c, unsigned cls, const char *key, int64_t now_usec);
void counters_get_stats(const struct counters *c, struct counters_stats *ret);
uint64_t counters_instance_hash(const struct counters *c, const char *instance);
int counters_instance_add(struct counters *c, uint64_t hash, uint64_t n, uint64_t n_first,
    int64_t now_usec, uint64_t *ret_before);

/* A (class, key) hashed once; see DESCRIPTION. */
struct counters_ref {
	uint64_t hash;
	const char *key;		/* the key as stored: the caller's, or buf */
	size_t len;
	unsigned cls;
	char buf[COUNTERS_KEY_MAX + 1];	/* an abbreviated long key */
};

void counters_ref(const struct counters *c, unsigned cls, const char *key,
    struct counters_ref *ref);
void counters_ref_prefetch(const struct counters *c, const struct counters_ref *ref);
int counters_ref_add(struct counters *c, const struct counters_ref *ref, uint64_t n,
    int64_t now_usec, uint64_t *ret_sum);
int counters_ref_add_first(struct counters *c, const struct counters_ref *ref, uint64_t n,
    uint64_t n_first, int64_t now_usec, uint64_t *ret_before);
uint64_t counters_ref_get(const struct counters *c, const struct counters_ref *ref,
    int64_t now_usec);
int counters_ref_add_distinct(struct counters *c, const struct counters_ref *ref,
    const char *value, int64_t now_usec, unsigned *ret_count);
unsigned counters_ref_distinct(const struct counters *c, const struct counters_ref *ref,
    int64_t now_usec);
int counters_net_key(const char *ip, unsigned v4_len, unsigned v6_len, char *buf, size_t size);
/* Tests: replace the random hash key, so runs are reproducible. */
void counters_set_hash_key(struct counters *c, uint64_t k0, uint64_t k1);

#endif
