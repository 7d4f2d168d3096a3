/*
 * NAME
 *	counters - sliding-window counters in memory, with a hard memory cap
 * SYNOPSIS
 *	#include "counters.h"
 *
 *	c = counters_new(256 << 20);
 *	cls = counters_class(c, "rate:messages:client_address:60", COUNTERS_SUM, 60e6, 0);
 *	counters_add(c, cls, "192.0.2.7", 1, now, &sum);
 * DESCRIPTION
 *	One node per (class, key): a header, the key bytes (NUL-terminated,
 *	padded to 8) and the class's payload, in one allocation. The key
 *	follows the header so that a lookup compares hash and key in the
 *	node's first cache line or two. Nodes sit on a hash chain and on a
 *	doubly linked recency list, newest at the tail; eviction takes the
 *	head. The table (power-of-two size, grown at load factor 1) keeps
 *	the first node's hash beside its pointer, so a lookup of a key that
 *	is not there (most history reads) usually ends at the table without
 *	touching a node.
 *
 *	Growing the table does not stop the caller: the new table is used at
 *	once and the old one is emptied COUNTERS_MIGRATE chains per update
 *	(well before the next doubling is due), so no call ever rehashes a
 *	whole table (at a million keys that was a pause of tens of ms, and
 *	every policy client waited through it). While both exist, a lookup
 *	looks in the new table and, if its old chain has not moved yet, in
 *	the old one; new keys always go to the new table.
 *
 *	Recency is kept loosely: an update moves its node to the tail only if
 *	at least n_keys / 8 other nodes were put there since its own last
 *	move, so a busy key (a network, a domain, a message's instance) is
 *	not unlinked and relinked, with the two neighbours that touches, on
 *	every request. A key is therefore never more than an eighth of the
 *	list away from where strict LRU would have it, and always in the
 *	newest eighth just after an update.
 *
 *	SUM payload: size + 1 uint32 buckets used as a ring; `head` is the
 *	absolute number (time / width) of the newest bucket written, and the
 *	ring holds buckets head - size .. head, whose sum is kept in `total`.
 *	Moving head forward clears the buckets it passes over (subtracting
 *	them from total), so no timer is needed: an idle key simply keeps old
 *	buckets that a read ignores by their number. A read at the bucket of
 *	head is total itself; a later read subtracts the few buckets that
 *	left the window since, so it never sums the whole ring.
 *
 *	DISTINCT payload: up to size (value hash, last seen) pairs, scanned
 *	linearly (size is a rule threshold + 1, small).
 *
 *	Memory is counted with malloc_usable_size(), so the cap is what the
 *	allocator really handed out for nodes and tables, the old table of a
 *	resize included (allocator metadata is not counted).
 * SEE ALSO
 *	counters.h (the contract), tests/check_counters.c
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "counters.h"
#include "instances.h"

/* First table: 1024 chains, 16 KiB. */
#define COUNTERS_TABLE_MIN	1024
/* Old chains moved to the new table per update while a resize lasts. */
#define COUNTERS_MIGRATE	4
/*
 * The instance table (instances.h): 1/64 of the cap, 16 bytes an entry,
 * between 256 entries (4 KiB) and 262 144 (4 MiB, reached at a 256 MiB cap).
 */
#define COUNTERS_INSTANCES_SHARE	64
#define COUNTERS_INSTANCES_MIN		256
#define COUNTERS_INSTANCES_MAX		262144
/* Instances are remembered this long: no SMTP transaction lasts an hour. */
#define COUNTERS_INSTANCE_LIFE		(3600 * INT64_C(1000000))

struct counters_class {
	char name[COUNTERS_NAME_MAX];
	enum counters_type type;
	int64_t window;			/* usec */
	int64_t width;			/* SUM: usec per bucket */
	unsigned size;			/* SUM: buckets; DISTINCT: values */
	size_t payload;			/* bytes, a multiple of 8 */
};

/* What find() reads comes first: hash, chain, cls and key_len, then the key. */
struct counters_node {
	uint64_t hash;
	struct counters_node *chain;	/* next on the hash chain */
	uint64_t chain_hash;		/* its hash, so a chain walk skips it unread */
	uint16_t cls;
	uint16_t key_len;
	uint32_t n;			/* DISTINCT: values held */
	uint32_t linked;		/* c->links when last made the newest */
	int64_t head;			/* SUM: number of the newest bucket */
	uint64_t total;			/* SUM: the ring's buckets added up */
	struct counters_node *older;	/* recency list */
	struct counters_node *newer;
	uint64_t data[];		/* the key and a NUL, padded to 8; then the payload */
};

/* A table slot: the first node of a chain and its hash. */
struct counters_slot {
	uint64_t hash;
	struct counters_node *node;
};

struct counters_seen {
	uint64_t hash;
	int64_t at;
};

struct counters {
	size_t cap, bytes, n_keys, table_bytes;
	size_t mask;			/* table size - 1 */
	struct counters_slot *table;
	struct counters_slot *old;	/* during a resize: the table being emptied */
	size_t old_mask, old_next, old_bytes;	/* its chains below old_next have moved */
	struct counters_node *oldest, *newest;
	uint64_t k0, k1;
	uint64_t evictions, updates;
	uint32_t links;			/* nodes made the newest so far (wraps) */
	struct instances *instances;	/* made at the first counters_instance_add() */
	unsigned n_classes;
	struct counters_class classes[COUNTERS_CLASSES_MAX];
};

static uint64_t counters_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);
static int counters_node_get(struct counters *c, const struct counters_ref *ref,
    struct counters_node **ret);

/* counters_new - an empty set of counters that will stay under mem_cap bytes */
struct counters *
counters_new(size_t mem_cap)
{
	struct counters *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cap = mem_cap == 0 ? COUNTERS_MEM_DEFAULT : mem_cap;
	if (c->cap < COUNTERS_MEM_MIN)
		c->cap = COUNTERS_MEM_MIN;
	if ((c->table = calloc(COUNTERS_TABLE_MIN, sizeof(*c->table))) == NULL) {
		free(c);
		return NULL;
	}
	c->mask = COUNTERS_TABLE_MIN - 1;
	c->table_bytes = malloc_usable_size(c->table);
	c->bytes = c->table_bytes;
	if (getrandom(&c->k0, sizeof(c->k0), GRND_NONBLOCK) != sizeof(c->k0) ||
	    getrandom(&c->k1, sizeof(c->k1), GRND_NONBLOCK) != sizeof(c->k1)) {
		/* early boot without entropy: still a per-process key */
		c->k0 = (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ULL;
		c->k1 = (uint64_t)(uintptr_t)&c ^ 0xc2b2ae3d27d4eb4fULL;
	}
	return c;
}

/* counters_free - free every key; returns NULL */
struct counters *
counters_free(struct counters *c)
{
	struct counters_node *n, *next;

	if (c == NULL)
		return NULL;
	for (n = c->oldest; n != NULL; n = next) {
		next = n->newer;
		free(n);
	}
	free(c->table);
	free(c->old);
	instances_free(c->instances);
	free(c);
	return NULL;
}

/* counters_set_hash_key - tests: a fixed hash key */
void
counters_set_hash_key(struct counters *c, uint64_t k0, uint64_t k1)
{
	c->k0 = k0;
	c->k1 = k1;
}

/* counters_class - register (or find again) a class by name */
int
counters_class(struct counters *c, const char *name, enum counters_type type,
    int64_t window_usec, unsigned size)
{
	struct counters_class *k;

	if (size == 0)
		size = type == COUNTERS_SUM ? COUNTERS_BUCKETS : COUNTERS_DISTINCT_DEFAULT;
	if (window_usec <= 0 || strlen(name) >= COUNTERS_NAME_MAX ||
	    (type == COUNTERS_SUM && (size > COUNTERS_BUCKETS_MAX || window_usec < size)) ||
	    (type == COUNTERS_DISTINCT && size > COUNTERS_DISTINCT_MAX) ||
	    (type != COUNTERS_SUM && type != COUNTERS_DISTINCT))
		return -EINVAL;
	for (unsigned i = 0; i < c->n_classes; i++) {
		k = &c->classes[i];
		if (strcmp(k->name, name) != 0)
			continue;
		if (k->type != type || k->window != window_usec || k->size != size)
			return -EEXIST;
		return (int)i;
	}
	if (c->n_classes == COUNTERS_CLASSES_MAX)
		return -E2BIG;
	k = &c->classes[c->n_classes];
	strcpy(k->name, name);
	k->type = type;
	k->window = window_usec;
	k->size = size;
	if (type == COUNTERS_SUM) {
		k->width = window_usec / size;
		k->payload = ((size + 1) * sizeof(uint32_t) + 7) & ~(size_t)7;
	} else {
		k->width = window_usec;
		k->payload = size * sizeof(struct counters_seen);
	}
	return (int)c->n_classes++;
}

/* ------------------------------------------------------------- hash table */

#define COUNTERS_ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define COUNTERS_SIPROUND do {						\
	v0 += v1; v1 = COUNTERS_ROTL(v1, 13); v1 ^= v0; v0 = COUNTERS_ROTL(v0, 32); \
	v2 += v3; v3 = COUNTERS_ROTL(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = COUNTERS_ROTL(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = COUNTERS_ROTL(v1, 17); v1 ^= v2; v2 = COUNTERS_ROTL(v2, 32); \
} while (0)

/* counters_siphash - SipHash-1-3: keys are chosen by clients, chains must stay short */
static uint64_t
counters_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	const unsigned char *p = data;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&m, p, 8);
		m = le64toh(m);
		v3 ^= m;
		COUNTERS_SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < len; i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	COUNTERS_SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	COUNTERS_SIPROUND;
	COUNTERS_SIPROUND;
	COUNTERS_SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* counters_key - the stored form of a key longer than COUNTERS_KEY_MAX: abbreviated with a hash */
static size_t
counters_key(const struct counters *c, const char *key, size_t len, char *buf)
{
	size_t keep = COUNTERS_KEY_MAX - 17;

	memcpy(buf, key, keep);
	snprintf(buf + keep, 18, "#%016llx",
	    (unsigned long long)counters_siphash(c->k0, c->k1, key, len));
	return COUNTERS_KEY_MAX;
}

/* counters_key_space - bytes a key of len takes in a node: itself, a NUL, padding to 8 */
static size_t
counters_key_space(size_t len)
{
	return (len + 8) & ~(size_t)7;
}

/* counters_payload - where a node keeps its buckets or values */
static void *
counters_payload(const struct counters_node *n)
{
	return (char *)n->data + counters_key_space(n->key_len);
}

/* counters_old_slot - h's chain in the old table while it has not moved, else NULL */
static struct counters_slot *
counters_old_slot(const struct counters *c, uint64_t h)
{
	if (c->old == NULL || (h & c->old_mask) < c->old_next)
		return NULL;
	return &c->old[h & c->old_mask];
}

/* counters_chain_find - the node of (cls, key) on one chain, NULL if none */
static struct counters_node *
counters_chain_find(const struct counters_slot *slot, unsigned cls, const char *key, size_t len,
    uint64_t h)
{
	struct counters_node *n = slot->node;
	uint64_t nh = slot->hash;

	for (; n != NULL; nh = n->chain_hash, n = n->chain)
		if (nh == h && n->cls == cls && n->key_len == len &&
		    memcmp(n->data, key, len) == 0)
			return n;
	return NULL;
}

/* counters_find - the node of (cls, key), NULL if none */
static struct counters_node *
counters_find(const struct counters *c, unsigned cls, const char *key, size_t len, uint64_t h)
{
	const struct counters_slot *old = counters_old_slot(c, h);
	struct counters_node *n = counters_chain_find(&c->table[h & c->mask], cls, key, len, h);

	if (n == NULL && old != NULL)
		n = counters_chain_find(old, cls, key, len, h);
	return n;
}

/* counters_chain_remove - take n off the chain of slot; 0 if it is not there */
static int
counters_chain_remove(struct counters_slot *slot, struct counters_node *n)
{
	struct counters_node *prev;

	if (slot->node == n) {
		slot->node = n->chain;
		slot->hash = n->chain_hash;
		return 1;
	}
	for (prev = slot->node; prev != NULL && prev->chain != n; prev = prev->chain)
		;
	if (prev == NULL)
		return 0;
	prev->chain = n->chain;
	prev->chain_hash = n->chain_hash;
	return 1;
}

/* counters_chain_add - put n first on its chain */
static void
counters_chain_add(struct counters_slot *slot, struct counters_node *n)
{
	n->chain = slot->node;
	n->chain_hash = slot->hash;
	slot->node = n;
	slot->hash = n->hash;
}

/* counters_unlink_recency - take n off the recency list */
static void
counters_unlink_recency(struct counters *c, struct counters_node *n)
{
	if (n->older != NULL)
		n->older->newer = n->newer;
	else
		c->oldest = n->newer;
	if (n->newer != NULL)
		n->newer->older = n->older;
	else
		c->newest = n->older;
	n->older = n->newer = NULL;
}

/* counters_link_newest - put n at the young end of the recency list */
static void
counters_link_newest(struct counters *c, struct counters_node *n)
{
	n->linked = c->links++;
	n->older = c->newest;
	n->newer = NULL;
	if (c->newest != NULL)
		c->newest->newer = n;
	else
		c->oldest = n;
	c->newest = n;
}

/* counters_evict_oldest - drop the least recently updated key */
static void
counters_evict_oldest(struct counters *c)
{
	struct counters_node *n = c->oldest;
	struct counters_slot *old = counters_old_slot(c, n->hash);

	/* a key made during a resize is in the new table even if its old chain has not moved */
	if (!counters_chain_remove(&c->table[n->hash & c->mask], n) && old != NULL)
		(void)counters_chain_remove(old, n);
	counters_unlink_recency(c, n);
	c->bytes -= malloc_usable_size(n);
	c->n_keys--;
	c->evictions++;
	free(n);
}

/* counters_migrate - move up to `chains` chains of the old table; free it when empty */
static void
counters_migrate(struct counters *c, size_t chains)
{
	struct counters_node *n, *next;

	for (; c->old != NULL && chains > 0; chains--) {
		for (n = c->old[c->old_next].node; n != NULL; n = next) {
			next = n->chain;
			counters_chain_add(&c->table[n->hash & c->mask], n);
		}
		if (c->old_next++ == c->old_mask) {
			free(c->old);
			c->bytes -= c->old_bytes;
			c->old = NULL;
			c->old_mask = c->old_next = c->old_bytes = 0;
		}
	}
}

/* counters_grow - double the table if that fits; on failure chains just get longer */
static void
counters_grow(struct counters *c)
{
	size_t size = (c->mask + 1) * 2;
	struct counters_slot *t;

	counters_migrate(c, SIZE_MAX);	/* not reached at COUNTERS_MIGRATE per update */
	if ((t = calloc(size, sizeof(*t))) == NULL)
		return;
	c->old = c->table;
	c->old_mask = c->mask;
	c->old_next = 0;
	c->old_bytes = c->table_bytes;
	c->table = t;
	c->table_bytes = malloc_usable_size(t);
	c->bytes += c->table_bytes;
	c->mask = size - 1;
}

/*
 * counters_make_room - evict until `need` more bytes (and the table growth
 * that one more key triggers) fit under the cap; 0, or -ENOMEM when even an
 * empty table leaves no room.
 */
static int
counters_make_room(struct counters *c, size_t need)
{
	for (;;) {
		int grow = c->n_keys + 1 > c->mask + 1;
		size_t extra = grow ? 2 * c->table_bytes : 0;	/* the new table, twice as large */

		if (c->bytes + extra + need <= c->cap) {
			if (grow)
				counters_grow(c);
			return 0;
		}
		if (c->n_keys == 0)
			return c->bytes + need <= c->cap ? 0 : -ENOMEM;
		counters_evict_oldest(c);
	}
}

/* counters_node_get - the node of a ref, created if missing; made the newest */
static int
counters_node_get(struct counters *c, const struct counters_ref *ref, struct counters_node **ret)
{
	const struct counters_class *k = &c->classes[ref->cls];
	size_t usable, size = sizeof(struct counters_node) + counters_key_space(ref->len) + k->payload;
	struct counters_node *n;
	int r;

	counters_migrate(c, COUNTERS_MIGRATE);
	if ((n = counters_find(c, ref->cls, ref->key, ref->len, ref->hash)) != NULL) {
		/* already among the newest eighth: moving it would touch two more nodes */
		if (c->links - n->linked >= c->n_keys / 8) {
			counters_unlink_recency(c, n);
			counters_link_newest(c, n);
		}
		*ret = n;
		return 0;
	}
	if ((n = malloc(size)) == NULL)
		return -ENOMEM;
	usable = malloc_usable_size(n);
	if ((r = counters_make_room(c, usable)) < 0) {
		free(n);
		return r;
	}
	memset(n, 0, size);
	n->cls = (uint16_t)ref->cls;
	memcpy(n->data, ref->key, ref->len);
	n->hash = ref->hash;
	n->key_len = (uint16_t)ref->len;
	n->head = INT64_MIN;
	counters_chain_add(&c->table[ref->hash & c->mask], n);	/* after make_room: it may grow */
	counters_link_newest(c, n);
	c->bytes += usable;
	c->n_keys++;
	*ret = n;
	return 0;
}

/* counters_lookup - the node of a ref without changing anything, NULL if none */
static struct counters_node *
counters_lookup(const struct counters *c, const struct counters_ref *ref)
{
	return counters_find(c, ref->cls, ref->key, ref->len, ref->hash);
}

/* counters_ref - hash (cls, key) once for the operations that follow; start loading its slot */
void
counters_ref(const struct counters *c, unsigned cls, const char *key, struct counters_ref *ref)
{
	size_t len = strlen(key);

	ref->cls = cls;
	if (len <= COUNTERS_KEY_MAX) {
		ref->key = key;
		ref->len = len;
	} else {
		ref->len = counters_key(c, key, len, ref->buf);
		ref->key = ref->buf;
	}
	ref->hash = counters_siphash(c->k0, c->k1 ^ cls, ref->key, ref->len);
	__builtin_prefetch(&c->table[ref->hash & c->mask]);
	if (c->old != NULL)
		__builtin_prefetch(&c->old[ref->hash & c->old_mask]);
}

/* counters_ref_prefetch - start loading the first node of a ref's chain (its slot is read) */
void
counters_ref_prefetch(const struct counters *c, const struct counters_ref *ref)
{
	const struct counters_slot *old = counters_old_slot(c, ref->hash);
	const struct counters_node *n = c->table[ref->hash & c->mask].node;

	if (n == NULL && old != NULL)
		n = old->node;
	if (n != NULL) {
		__builtin_prefetch(n);
		__builtin_prefetch((const char *)n + 64);
		__builtin_prefetch((const char *)n + 128);
	}
}

/* ------------------------------------------------------------------ sums */

/* counters_bucket - number of the bucket holding time t (times before 1970 count as 0) */
static int64_t
counters_bucket(const struct counters_class *k, int64_t t)
{
	return t < 0 ? 0 : t / k->width;
}

/* counters_sum_node - the sum of the buckets in the window ending at now */
static uint64_t
counters_sum_node(const struct counters_class *k, const struct counters_node *n, int64_t now)
{
	const uint32_t *b = counters_payload(n);
	int64_t cur = counters_bucket(k, now), lo, hi, i;
	uint64_t sum;

	if (n->head == INT64_MIN)
		return 0;
	if (cur >= n->head) {
		/* the ring less the cur - head oldest buckets, which left the window */
		if (cur - n->head > k->size)
			return 0;
		sum = n->total;
		for (i = n->head - k->size; i < cur - k->size; i++)
			if (i >= 0)
				sum -= b[i % (k->size + 1)];
		return sum;
	}
	/* a read in the past (history replay): add up what is still in its window */
	lo = cur - k->size > n->head - k->size ? cur - k->size : n->head - k->size;
	hi = cur;
	if (lo < 0)
		lo = 0;
	for (sum = 0, i = lo; i <= hi; i++)
		sum += b[i % (k->size + 1)];
	return sum;
}

/* counters_sum_add - add n to node's bucket for now (ignored when older than the ring) */
static void
counters_sum_add(const struct counters_class *k, struct counters_node *node, uint64_t n,
    int64_t now)
{
	uint32_t *b = counters_payload(node);
	unsigned slots = k->size + 1;
	int64_t idx = counters_bucket(k, now), i;

	if (node->head == INT64_MIN || idx - node->head >= slots) {
		memset(b, 0, slots * sizeof(*b));
		node->head = idx;
		node->total = 0;
	} else if (idx > node->head) {
		for (i = node->head + 1; i <= idx; i++) {
			node->total -= b[i % slots];
			b[i % slots] = 0;
		}
		node->head = idx;
	}
	if (node->head - idx < slots) {
		uint32_t *bucket = &b[idx % slots];
		uint64_t v = *bucket + n;

		if (v > UINT32_MAX)
			v = UINT32_MAX;
		node->total += v - *bucket;
		*bucket = (uint32_t)v;
	}
}

/* counters_is - does a ref name a registered class of this type? */
static int
counters_is(const struct counters *c, const struct counters_ref *ref, enum counters_type type)
{
	return ref->cls < c->n_classes && c->classes[ref->cls].type == type;
}

/* counters_ref_add - add n to a ref's counter at time now_usec */
int
counters_ref_add(struct counters *c, const struct counters_ref *ref, uint64_t n,
    int64_t now_usec, uint64_t *ret_sum)
{
	const struct counters_class *k;
	struct counters_node *node;
	int r;

	if (!counters_is(c, ref, COUNTERS_SUM))
		return -EINVAL;
	k = &c->classes[ref->cls];
	if ((r = counters_node_get(c, ref, &node)) < 0)
		return r;
	counters_sum_add(k, node, n, now_usec);
	c->updates++;
	if (ret_sum != NULL)
		*ret_sum = counters_sum_node(k, node, now_usec);
	return 0;
}

/* counters_ref_add_first - add n, plus n_first when the window was empty; one lookup */
int
counters_ref_add_first(struct counters *c, const struct counters_ref *ref, uint64_t n,
    uint64_t n_first, int64_t now_usec, uint64_t *ret_before)
{
	const struct counters_class *k;
	struct counters_node *node;
	uint64_t before;
	int r;

	if (!counters_is(c, ref, COUNTERS_SUM))
		return -EINVAL;
	if (n == 0 && n_first == 0) {
		before = counters_ref_get(c, ref, now_usec);
	} else {
		k = &c->classes[ref->cls];
		if ((r = counters_node_get(c, ref, &node)) < 0)
			return r;
		before = counters_sum_node(k, node, now_usec);
		if (before == 0)
			n += n_first;
		if (n > 0) {
			counters_sum_add(k, node, n, now_usec);
			c->updates++;
		}
	}
	if (ret_before != NULL)
		*ret_before = before;
	return 0;
}

/* counters_ref_get - a ref's sum over the window ending at now_usec */
uint64_t
counters_ref_get(const struct counters *c, const struct counters_ref *ref, int64_t now_usec)
{
	const struct counters_node *n;

	if (!counters_is(c, ref, COUNTERS_SUM) || (n = counters_lookup(c, ref)) == NULL)
		return 0;
	return counters_sum_node(&c->classes[ref->cls], n, now_usec);
}

/* -------------------------------------------------------------- distinct */

/* counters_distinct_node - values of n seen within the window ending at now */
static unsigned
counters_distinct_node(const struct counters_class *k, const struct counters_node *n,
    int64_t now)
{
	const struct counters_seen *s = counters_payload(n);
	unsigned count = 0;

	for (uint32_t i = 0; i < n->n; i++)
		if (now - s[i].at < k->window)
			count++;
	return count;
}

/* counters_ref_add_distinct - note that a ref's key was seen with value at now_usec */
int
counters_ref_add_distinct(struct counters *c, const struct counters_ref *ref, const char *value,
    int64_t now_usec, unsigned *ret_count)
{
	const struct counters_class *k;
	struct counters_node *node;
	struct counters_seen *s;
	uint64_t vh;
	uint32_t i, victim = 0;
	int r;

	if (!counters_is(c, ref, COUNTERS_DISTINCT))
		return -EINVAL;
	k = &c->classes[ref->cls];
	if ((r = counters_node_get(c, ref, &node)) < 0)
		return r;
	s = counters_payload(node);
	vh = counters_siphash(c->k0, c->k1, value, strlen(value));
	for (i = 0; i < node->n; i++) {
		if (s[i].hash == vh)
			break;
		if (s[i].at < s[victim].at)
			victim = i;
	}
	if (i < node->n) {
		if (now_usec > s[i].at)
			s[i].at = now_usec;
	} else if (node->n < k->size) {
		s[node->n].hash = vh;
		s[node->n++].at = now_usec;
	} else if (now_usec > s[victim].at) {
		s[victim].hash = vh;
		s[victim].at = now_usec;
	}
	c->updates++;
	if (ret_count != NULL)
		*ret_count = counters_distinct_node(k, node, now_usec);
	return 0;
}

/* counters_ref_distinct - a ref's distinct values within the window ending at now_usec */
unsigned
counters_ref_distinct(const struct counters *c, const struct counters_ref *ref, int64_t now_usec)
{
	const struct counters_node *n;

	if (!counters_is(c, ref, COUNTERS_DISTINCT) || (n = counters_lookup(c, ref)) == NULL)
		return 0;
	return counters_distinct_node(&c->classes[ref->cls], n, now_usec);
}

/* ------------------------------------------------------------- by string */

/* counters_add - counters_ref_add() of (cls, key) */
int
counters_add(struct counters *c, unsigned cls, const char *key, uint64_t n, int64_t now_usec,
    uint64_t *ret_sum)
{
	struct counters_ref ref;

	counters_ref(c, cls, key, &ref);
	return counters_ref_add(c, &ref, n, now_usec, ret_sum);
}

/* counters_add_first - counters_ref_add_first() of (cls, key) */
int
counters_add_first(struct counters *c, unsigned cls, const char *key, uint64_t n,
    uint64_t n_first, int64_t now_usec, uint64_t *ret_before)
{
	struct counters_ref ref;

	counters_ref(c, cls, key, &ref);
	return counters_ref_add_first(c, &ref, n, n_first, now_usec, ret_before);
}

/* counters_get - counters_ref_get() of (cls, key) */
uint64_t
counters_get(struct counters *c, unsigned cls, const char *key, int64_t now_usec)
{
	struct counters_ref ref;

	counters_ref(c, cls, key, &ref);
	return counters_ref_get(c, &ref, now_usec);
}

/* counters_add_distinct - counters_ref_add_distinct() of (cls, key) */
int
counters_add_distinct(struct counters *c, unsigned cls, const char *key, const char *value,
    int64_t now_usec, unsigned *ret_count)
{
	struct counters_ref ref;

	counters_ref(c, cls, key, &ref);
	return counters_ref_add_distinct(c, &ref, value, now_usec, ret_count);
}

/* counters_distinct - counters_ref_distinct() of (cls, key) */
unsigned
counters_distinct(struct counters *c, unsigned cls, const char *key, int64_t now_usec)
{
	struct counters_ref ref;

	counters_ref(c, cls, key, &ref);
	return counters_ref_distinct(c, &ref, now_usec);
}

/* ------------------------------------------------------------ instances */

/* counters_instance_hash - the keyed hash of an instance; starts loading its entries */
uint64_t
counters_instance_hash(const struct counters *c, const char *instance)
{
	/* a key of its own: classes use k1 ^ cls, cls < COUNTERS_CLASSES_MAX */
	uint64_t h = counters_siphash(c->k0, ~c->k1, instance, strlen(instance));

	if (c->instances != NULL)
		instances_prefetch(c->instances, h);
	return h;
}

/* counters_instance_add - add n (+ n_first when new) to an instance; see instances.h */
int
counters_instance_add(struct counters *c, uint64_t hash, uint64_t n, uint64_t n_first,
    int64_t now_usec, uint64_t *ret_before)
{
	size_t entries;
	int r;

	if (c->instances == NULL) {
		for (entries = COUNTERS_INSTANCES_MIN; entries < COUNTERS_INSTANCES_MAX &&
		    entries * 2 * 16 <= c->cap / COUNTERS_INSTANCES_SHARE; entries *= 2)
			;
		if ((c->instances = instances_new(entries, COUNTERS_INSTANCE_LIFE)) == NULL)
			return -ENOMEM;
		if ((r = counters_make_room(c, instances_bytes(c->instances))) < 0) {
			c->instances = instances_free(c->instances);
			return r;
		}
		c->bytes += instances_bytes(c->instances);
	}
	*ret_before = instances_add(c->instances, hash, n, n_first, now_usec);
	return 0;
}

/* counters_get_stats - sizes and eviction count */
void
counters_get_stats(const struct counters *c, struct counters_stats *ret)
{
	ret->keys = c->n_keys;
	ret->bytes = c->bytes;
	ret->cap = c->cap;
	ret->instances_displaced = c->instances != NULL ? instances_displaced(c->instances) : 0;
	ret->evictions = c->evictions + ret->instances_displaced;
	ret->updates = c->updates;
	ret->classes = c->n_classes;
}

/* ---------------------------------------------------------------- prefixes */

/* counters_mask - clear the bits of a beyond the first len */
static void
counters_mask(unsigned char *a, size_t bytes, unsigned len)
{
	for (size_t i = 0; i < bytes; i++) {
		unsigned bit = (unsigned)i * 8;

		if (bit >= len)
			a[i] = 0;
		else if (len - bit < 8)
			a[i] &= (unsigned char)(0xff00 >> (len - bit));
	}
}

/* counters_ipv4 - a canonical dotted quad (no leading zeros) into a; 0 if ip is not one */
static int
counters_ipv4(const char *ip, unsigned char a[4])
{
	for (int i = 0; i < 4; i++) {
		const char *start = ip;
		unsigned v = 0;

		for (; *ip >= '0' && *ip <= '9' && ip - start < 4; ip++)
			v = v * 10 + (unsigned)(*ip - '0');
		if (ip == start || ip - start > 3 || v > 255 || (ip - start > 1 && *start == '0'))
			return 0;
		a[i] = (unsigned char)v;
		if (*ip++ != (i < 3 ? '.' : '\0'))
			return 0;
	}
	return 1;
}

/* counters_put_uint - v in decimal at p; the end */
static char *
counters_put_uint(char *p, unsigned v)
{
	char tmp[10];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* counters_net_key - "network/len" of an address: the client_net key */
int
counters_net_key(const char *ip, unsigned v4_len, unsigned v6_len, char *buf, size_t size)
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];
	int family = AF_INET, n;
	unsigned len = v4_len;

	if (v4_len > 32 || v6_len > 128)
		return -EINVAL;
	if (counters_ipv4(ip, a)) {
		/* the usual case, without inet_pton(), inet_ntop() and printf */
		char *p = text;

		counters_mask(a, 4, len);
		for (int i = 0; i < 4; i++) {
			p = counters_put_uint(p, a[i]);
			*p++ = i < 3 ? '.' : '/';
		}
		p = counters_put_uint(p, len);
		n = (int)(p - text);
		if ((size_t)n >= size)
			return -ENOBUFS;
		memcpy(buf, text, (size_t)n);
		buf[n] = '\0';
		return n;
	}
	if (inet_pton(AF_INET, ip, a) != 1) {
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

		if (inet_pton(AF_INET6, ip, a) != 1)
			return -EINVAL;
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			memmove(a, a + 12, 4);	/* ::ffff:a.b.c.d is the IPv4 client */
		} else {
			family = AF_INET6;
			len = v6_len;
		}
	}
	counters_mask(a, family == AF_INET ? 4 : 16, len);
	if (inet_ntop(family, a, text, sizeof(text)) == NULL)
		return -EINVAL;
	n = snprintf(buf, size, "%s/%u", text, len);
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	return n;
}
