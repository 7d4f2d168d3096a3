/*
 * NAME
 *	crowdsec_set - CrowdSec decisions in memory, found by address or by id
 * SYNOPSIS
 *	#include "crowdsec_set.h"
 *
 *	s = crowdsec_set_new();
 *	crowdsec_set_key("Range", "198.51.100.0/24", &d);
 *	crowdsec_set_add(s, &d);
 *	n = crowdsec_set_lookup(s, AF_INET, addr, now_usec, found, N(found));
 * DESCRIPTION
 *	One entry per decision: a copy of the struct crowdsec_decision (the
 *	address is the network, host bits cleared, an IPv4-mapped IPv6 one
 *	made IPv4) whose strings point into interned, reference-counted
 *	strings, plus the type's rank (ban, captcha, other) worked out once,
 *	so that a lookup never compares strings.
 *
 *	Open-addressing tables with linear probing hold pointers to the
 *	entries: per family, one table for each prefix length in use, keyed
 *	on the network (its slot points to the first decision of that key,
 *	the others follow on entry->same), and one table keyed on the LAPI
 *	id. A slot also keeps 32 bits of the hash, so that probing past other
 *	keys rarely touches their entries. Tables grow when half full and
 *	shrink when less than an eighth full (never below
 *	CROWDSEC_SET_TABLE_MIN); deletion shifts the following slots back (no
 *	tombstones), and the table of a length that is no longer used is
 *	freed, so a set that empties is as small as a new one.
 *
 *	The header speaks of one table keyed by (family, prefix length,
 *	network): this is that table cut in one per length, which costs the
 *	same probes but keeps the tables of the rare lengths (ranges) small
 *	and in cache apart from the large /32 and /128 ones; with a million
 *	decisions it made IPv4 lookups a third faster
 *	(tests/bench/crowdsec/).
 *
 *	A lookup masks the address once for every prefix length in use for
 *	its family (kept sorted, longest first, with the number of decisions
 *	of each length) and probes that length's table once: no allocation,
 *	no string compare, keys compared as integers. The slots of all
 *	lengths are prefetched before the first probe. The hash is a keyed
 *	multiply-xorshift mix, its key drawn at random per set: cheap enough
 *	to run for every length, and addresses chosen by an attacker cannot
 *	be aimed at one run of slots without knowing it.
 *
 *	crowdsec_set_expire() walks the "by id" table, but only when some
 *	decision may have expired: the set keeps a lower bound of all
 *	expiries, made exact by each walk.
 *
 *	Memory is counted with malloc_usable_size(): the set, its tables,
 *	entries and strings as the allocator handed them out.
 * SEE ALSO
 *	crowdsec_set.h (the contract), tests/check_crowdsec_set.c,
 *	tests/bench/crowdsec/set_bench.c
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "crowdsec_set.h"

/* Prefix lengths 0..128. */
#define CROWDSEC_SET_LENGTHS	129
/* Smallest table: 64 slots of 16 bytes; a set that empties shrinks back to it. */
#define CROWDSEC_SET_TABLE_MIN	64
/* Smallest string table: 16 chains (a few types, origins and scenarios). */
#define CROWDSEC_SET_STRS_MIN	16
/* Longest address text crowdsec_set_key() reads (INET6_ADDRSTRLEN is 46). */
#define CROWDSEC_SET_ADDR_TEXT	64
/* Longest prefix length text: "128", or "024" with a leading zero. */
#define CROWDSEC_SET_PREFIX_DIGITS	3

enum crowdsec_set_rank {
	CROWDSEC_SET_RANK_BAN,
	CROWDSEC_SET_RANK_CAPTCHA,
	CROWDSEC_SET_RANK_OTHER,
};

struct crowdsec_set_str {
	struct crowdsec_set_str *next;	/* hash chain */
	uint64_t hash;
	size_t refs;			/* uses as type, origin or scenario */
	size_t as_type;			/* decisions in the set of this type */
	size_t len;
	char s[];
};

struct crowdsec_set_entry {
	struct crowdsec_decision d;	/* first: lookups hand out &e->d */
	struct crowdsec_set_entry *same;	/* next decision with the same key */
	enum crowdsec_set_rank rank;
};

struct crowdsec_set_slot {
	struct crowdsec_set_entry *e;	/* NULL: free */
	uint32_t tag;			/* high half of the hash */
};

struct crowdsec_set_table {
	struct crowdsec_set_slot *slot;
	size_t mask;			/* slots - 1, slots a power of two */
	size_t used;
	bool by_id;			/* hashed on the id, else on the key */
};

/* A network in host byte order: IPv4 in the low 32 bits of hi, lo 0. */
struct crowdsec_set_key {
	int family;
	unsigned prefix;
	uint64_t hi, lo;
};

/* The networks of one family: a table per prefix length (slot NULL when unused). */
struct crowdsec_set_family {
	struct crowdsec_set_table t[CROWDSEC_SET_LENGTHS];
	size_t at[CROWDSEC_SET_LENGTHS];		/* decisions per prefix length */
	unsigned char len[CROWDSEC_SET_LENGTHS];	/* lengths in use, longest first */
	unsigned n;
};

struct crowdsec_set {
	struct crowdsec_set_family v4, v6;
	struct crowdsec_set_table by_id;
	struct crowdsec_set_str **strs;	/* interned strings, chained */
	size_t strs_mask, n_strs;
	size_t n, bytes;
	int64_t next_expiry;		/* no decision expires before */
	uint64_t k[4];			/* hash keys: network, id, strings */
};

/* ------------------------------------------------------------------ hashes */

/* crowdsec_set_mix - a 64-bit bijection that spreads every input bit (xorshift-multiply) */
static inline uint64_t
crowdsec_set_mix(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return x;
}

/* crowdsec_set_key_hash - hash of a network */
static inline uint64_t
crowdsec_set_key_hash(const struct crowdsec_set *s, const struct crowdsec_set_key *k)
{
	if (k->family == AF_INET)
		return crowdsec_set_mix((k->hi | (uint64_t)k->prefix << 32) ^ s->k[0]);
	return crowdsec_set_mix(crowdsec_set_mix(k->hi ^ s->k[0] ^ k->prefix) ^ k->lo ^ s->k[1]);
}

/* crowdsec_set_id_hash - hash of a LAPI id */
static inline uint64_t
crowdsec_set_id_hash(const struct crowdsec_set *s, int64_t id)
{
	return crowdsec_set_mix((uint64_t)id ^ s->k[2]);
}

/* crowdsec_set_str_hash - hash of len bytes of text */
static uint64_t
crowdsec_set_str_hash(const struct crowdsec_set *s, const char *p, size_t len)
{
	uint64_t h = s->k[3] ^ len, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = crowdsec_set_mix(h ^ w);
	}
	w = 0;
	memcpy(&w, p + i, len - i);
	return crowdsec_set_mix(h ^ w ^ 0x9e3779b97f4a7c15ULL);
}

/* ---------------------------------------------------------------- networks */

/* crowdsec_set_mask32 - the IPv4 netmask of prefix length p (0..32) */
static inline uint64_t
crowdsec_set_mask32(unsigned p)
{
	return p == 0 ? 0 : (uint64_t)(UINT32_MAX << (32 - p));
}

/* crowdsec_set_mask64 - the netmask of the first p bits of a 64-bit half (p may exceed 64) */
static inline uint64_t
crowdsec_set_mask64(unsigned p)
{
	return p == 0 ? 0 : p >= 64 ? UINT64_MAX : UINT64_MAX << (64 - p);
}

/* crowdsec_set_key_mask - clear the host bits of k */
static inline void
crowdsec_set_key_mask(struct crowdsec_set_key *k)
{
	if (k->family == AF_INET) {
		k->hi &= crowdsec_set_mask32(k->prefix);
		return;
	}
	k->hi &= crowdsec_set_mask64(k->prefix);
	k->lo &= k->prefix > 64 ? crowdsec_set_mask64(k->prefix - 64) : 0;
}

/* crowdsec_set_load32 - four bytes in network order */
static inline uint64_t
crowdsec_set_load32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

/* crowdsec_set_load64 - eight bytes in network order */
static inline uint64_t
crowdsec_set_load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* crowdsec_set_is_mapped - addr (16 bytes) is in ::ffff:0:0/96 */
static inline bool
crowdsec_set_is_mapped(const unsigned char *addr)
{
	static const unsigned char pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(addr, pfx, sizeof(pfx)) == 0;
}

/*
 * crowdsec_set_key_make - the network (family, prefix, addr) as a key: host
 * bits cleared, an IPv4-mapped IPv6 network of /96 or longer made IPv4;
 * -EINVAL for another family or a prefix length beyond the address.
 */
static inline int
crowdsec_set_key_make(int family, unsigned prefix, const unsigned char *addr,
    struct crowdsec_set_key *ret)
{
	struct crowdsec_set_key k = { .family = family, .prefix = prefix };

	if (family == AF_INET && prefix <= 32)
		k.hi = crowdsec_set_load32(addr);
	else if (family == AF_INET6 && prefix <= 128 && prefix >= 96 &&
	    crowdsec_set_is_mapped(addr)) {
		k.family = AF_INET;
		k.prefix = prefix - 96;
		k.hi = crowdsec_set_load32(addr + 12);
	} else if (family == AF_INET6 && prefix <= 128) {
		k.hi = crowdsec_set_load64(addr);
		k.lo = crowdsec_set_load64(addr + 8);
	} else
		return -EINVAL;
	crowdsec_set_key_mask(&k);
	*ret = k;
	return 0;
}

/* crowdsec_set_key_bytes - k's network as 16 bytes, IPv4 in the first 4, the rest zero */
static void
crowdsec_set_key_bytes(const struct crowdsec_set_key *k, unsigned char *addr)
{
	uint32_t v4;
	uint64_t v6;

	memset(addr, 0, 16);
	if (k->family == AF_INET) {
		v4 = htobe32((uint32_t)k->hi);
		memcpy(addr, &v4, sizeof(v4));
		return;
	}
	v6 = htobe64(k->hi);
	memcpy(addr, &v6, sizeof(v6));
	v6 = htobe64(k->lo);
	memcpy(addr + 8, &v6, sizeof(v6));
}

/* crowdsec_set_entry_is - e's key is k */
static inline bool
crowdsec_set_entry_is(const struct crowdsec_set_entry *e, const struct crowdsec_set_key *k)
{
	if (e->d.family != k->family || e->d.prefix != k->prefix)
		return false;
	if (k->family == AF_INET)
		return crowdsec_set_load32(e->d.addr) == k->hi;
	return crowdsec_set_load64(e->d.addr) == k->hi &&
	    crowdsec_set_load64(e->d.addr + 8) == k->lo;
}

/* crowdsec_set_entry_key - e's key */
static void
crowdsec_set_entry_key(const struct crowdsec_set_entry *e, struct crowdsec_set_key *ret)
{
	ret->family = e->d.family;
	ret->prefix = e->d.prefix;
	if (e->d.family == AF_INET) {
		ret->hi = crowdsec_set_load32(e->d.addr);
		ret->lo = 0;
	} else {
		ret->hi = crowdsec_set_load64(e->d.addr);
		ret->lo = crowdsec_set_load64(e->d.addr + 8);
	}
}

/* crowdsec_set_entry_hash - e's hash in table t */
static uint64_t
crowdsec_set_entry_hash(const struct crowdsec_set *s, const struct crowdsec_set_table *t,
    const struct crowdsec_set_entry *e)
{
	struct crowdsec_set_key k;

	if (t->by_id)
		return crowdsec_set_id_hash(s, e->d.id);
	crowdsec_set_entry_key(e, &k);
	return crowdsec_set_key_hash(s, &k);
}

/* -------------------------------------------------------------- hash tables */

/* crowdsec_set_table_init - t empty with size slots */
static int
crowdsec_set_table_init(struct crowdsec_set *s, struct crowdsec_set_table *t, size_t size,
    bool by_id)
{
	if ((t->slot = calloc(size, sizeof(*t->slot))) == NULL)
		return -ENOMEM;
	t->mask = size - 1;
	t->used = 0;
	t->by_id = by_id;
	s->bytes += malloc_usable_size(t->slot);
	return 0;
}

/* crowdsec_set_table_place - e into the first free slot from its home (no check for doubles) */
static void
crowdsec_set_table_place(struct crowdsec_set_table *t, struct crowdsec_set_entry *e, uint64_t h)
{
	size_t i;

	for (i = h & t->mask; t->slot[i].e != NULL; i = (i + 1) & t->mask)
		;
	t->slot[i].e = e;
	t->slot[i].tag = (uint32_t)(h >> 32);
	t->used++;
}

/* crowdsec_set_table_resize - t rehashed into size slots; on ENOMEM t is unchanged */
static int
crowdsec_set_table_resize(struct crowdsec_set *s, struct crowdsec_set_table *t, size_t size)
{
	struct crowdsec_set_table n;
	struct crowdsec_set_entry *e;

	if (crowdsec_set_table_init(s, &n, size, t->by_id) < 0)
		return -ENOMEM;
	for (size_t i = 0; i <= t->mask; i++)
		if ((e = t->slot[i].e) != NULL)
			crowdsec_set_table_place(&n, e, crowdsec_set_entry_hash(s, t, e));
	s->bytes -= malloc_usable_size(t->slot);
	free(t->slot);
	*t = n;
	return 0;
}

/* crowdsec_set_table_reserve - room for one more slot at a load of at most one half */
static int
crowdsec_set_table_reserve(struct crowdsec_set *s, struct crowdsec_set_table *t)
{
	if (t->slot == NULL)
		return crowdsec_set_table_init(s, t, CROWDSEC_SET_TABLE_MIN, t->by_id);
	if ((t->used + 1) * 2 <= t->mask + 1)
		return 0;
	return crowdsec_set_table_resize(s, t, (t->mask + 1) * 2);
}

/* crowdsec_set_table_drop - free the slots of t (a network table no longer in use) */
static void
crowdsec_set_table_drop(struct crowdsec_set *s, struct crowdsec_set_table *t)
{
	s->bytes -= malloc_usable_size(t->slot);
	free(t->slot);
	t->slot = NULL;
	t->mask = 0;
	t->used = 0;
}

/* crowdsec_set_table_trim - under an eighth full: shrink to a quarter full (or the minimum) */
static void
crowdsec_set_table_trim(struct crowdsec_set *s, struct crowdsec_set_table *t)
{
	size_t size = CROWDSEC_SET_TABLE_MIN;

	if (t->mask + 1 <= CROWDSEC_SET_TABLE_MIN || t->used * 8 >= t->mask + 1)
		return;
	while (size < t->used * 4)
		size *= 2;
	(void)crowdsec_set_table_resize(s, t, size);	/* ENOMEM: stay larger */
}

/*
 * crowdsec_set_table_remove_at - empty slot i, then move back each following
 * slot of the run whose home lies at or before the hole, so that every probe
 * still reaches its key without crossing a free slot.
 */
static void
crowdsec_set_table_remove_at(const struct crowdsec_set *s, struct crowdsec_set_table *t,
    size_t i)
{
	size_t j = i, home;

	for (;;) {
		j = (j + 1) & t->mask;
		if (t->slot[j].e == NULL)
			break;
		home = crowdsec_set_entry_hash(s, t, t->slot[j].e) & t->mask;
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->slot[i].e = NULL;
	t->slot[i].tag = 0;
	t->used--;
}

/* crowdsec_set_find_key - the slot of network k (hash h) in its table t, SIZE_MAX if none */
static inline size_t
crowdsec_set_find_key(const struct crowdsec_set_table *t, const struct crowdsec_set_key *k,
    uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);
	size_t i;

	for (i = h & t->mask; t->slot[i].e != NULL; i = (i + 1) & t->mask)
		if (t->slot[i].tag == tag && crowdsec_set_entry_is(t->slot[i].e, k))
			return i;
	return SIZE_MAX;
}

/* crowdsec_set_find_id - the "by id" slot of id, SIZE_MAX if none */
static size_t
crowdsec_set_find_id(const struct crowdsec_set *s, int64_t id)
{
	const struct crowdsec_set_table *t = &s->by_id;
	uint64_t h = crowdsec_set_id_hash(s, id);
	uint32_t tag = (uint32_t)(h >> 32);
	size_t i;

	for (i = h & t->mask; t->slot[i].e != NULL; i = (i + 1) & t->mask)
		if (t->slot[i].tag == tag && t->slot[i].e->d.id == id)
			return i;
	return SIZE_MAX;
}

/* ------------------------------------------------------------------ strings */

/* crowdsec_set_str_cut - length kept of p: at most max bytes, not cutting a UTF-8 character */
static size_t
crowdsec_set_str_cut(const char *p, size_t max)
{
	size_t len = strnlen(p, max + 1);

	if (len <= max)
		return len;
	for (len = max; len > 0 && ((unsigned char)p[len] & 0xc0) == 0x80; len--)
		;
	return len;
}

/* crowdsec_set_str_of - the interned string whose text is p */
static struct crowdsec_set_str *
crowdsec_set_str_of(const char *p)
{
	return (struct crowdsec_set_str *)(uintptr_t)(p - offsetof(struct crowdsec_set_str, s));
}

/* crowdsec_set_str_find - the interned copy of len bytes at p (hash h), NULL if none */
static struct crowdsec_set_str *
crowdsec_set_str_find(const struct crowdsec_set *s, const char *p, size_t len, uint64_t h)
{
	struct crowdsec_set_str *str;

	for (str = s->strs[h & s->strs_mask]; str != NULL; str = str->next)
		if (str->hash == h && str->len == len && memcmp(str->s, p, len) == 0)
			return str;
	return NULL;
}

/* crowdsec_set_strs_resize - rechain the strings into size chains; on ENOMEM keep the old */
static void
crowdsec_set_strs_resize(struct crowdsec_set *s, size_t size)
{
	struct crowdsec_set_str **t, *str, *next;

	if ((t = calloc(size, sizeof(*t))) == NULL)
		return;
	for (size_t i = 0; i <= s->strs_mask; i++)
		for (str = s->strs[i]; str != NULL; str = next) {
			next = str->next;
			str->next = t[str->hash & (size - 1)];
			t[str->hash & (size - 1)] = str;
		}
	s->bytes -= malloc_usable_size(s->strs);
	free(s->strs);
	s->strs = t;
	s->strs_mask = size - 1;
	s->bytes += malloc_usable_size(t);
}

/* crowdsec_set_str_get - a reference to the interned copy of p cut to max bytes; NULL p is "" */
static struct crowdsec_set_str *
crowdsec_set_str_get(struct crowdsec_set *s, const char *p, size_t max)
{
	struct crowdsec_set_str *str;
	size_t len;
	uint64_t h;

	if (p == NULL)
		p = "";
	len = crowdsec_set_str_cut(p, max);
	h = crowdsec_set_str_hash(s, p, len);
	if ((str = crowdsec_set_str_find(s, p, len, h)) != NULL) {
		str->refs++;
		return str;
	}
	if ((str = malloc(sizeof(*str) + len + 1)) == NULL)
		return NULL;
	memcpy(str->s, p, len);
	str->s[len] = '\0';
	str->len = len;
	str->hash = h;
	str->refs = 1;
	str->as_type = 0;
	str->next = s->strs[h & s->strs_mask];
	s->strs[h & s->strs_mask] = str;
	s->bytes += malloc_usable_size(str);
	if (++s->n_strs > s->strs_mask + 1)
		crowdsec_set_strs_resize(s, (s->strs_mask + 1) * 2);
	return str;
}

/* crowdsec_set_str_put - drop a reference; the last one frees the string */
static void
crowdsec_set_str_put(struct crowdsec_set *s, struct crowdsec_set_str *str)
{
	struct crowdsec_set_str **pp;

	if (--str->refs > 0)
		return;
	for (pp = &s->strs[str->hash & s->strs_mask]; *pp != str; pp = &(*pp)->next)
		;
	*pp = str->next;
	s->bytes -= malloc_usable_size(str);
	s->n_strs--;
	free(str);
}

/* ------------------------------------------------------------------ lengths */

/* crowdsec_set_family_of - the networks of family */
static struct crowdsec_set_family *
crowdsec_set_family_of(struct crowdsec_set *s, int family)
{
	return family == AF_INET ? &s->v4 : &s->v6;
}

/* crowdsec_set_lengths_add - one more decision of prefix length p */
static void
crowdsec_set_lengths_add(struct crowdsec_set_family *l, unsigned p)
{
	unsigned i;

	if (l->at[p]++ > 0)
		return;
	for (i = 0; i < l->n && l->len[i] > p; i++)
		;
	memmove(&l->len[i + 1], &l->len[i], l->n - i);
	l->len[i] = (unsigned char)p;
	l->n++;
}

/* crowdsec_set_lengths_remove - one decision of prefix length p less */
static void
crowdsec_set_lengths_remove(struct crowdsec_set_family *l, unsigned p)
{
	unsigned i;

	if (--l->at[p] > 0)
		return;
	for (i = 0; l->len[i] != p; i++)
		;
	memmove(&l->len[i], &l->len[i + 1], l->n - i - 1);
	l->n--;
}

/* -------------------------------------------------------------------- entries */

/* crowdsec_set_entry_free - release e's strings and e (not linked anywhere) */
static void
crowdsec_set_entry_free(struct crowdsec_set *s, struct crowdsec_set_entry *e)
{
	const char *p[3] = { e->d.type, e->d.origin, e->d.scenario };

	for (size_t i = 0; i < 3; i++)
		if (p[i] != NULL)
			crowdsec_set_str_put(s, crowdsec_set_str_of(p[i]));
	s->bytes -= malloc_usable_size(e);
	free(e);
}

/* crowdsec_set_entry_new - a copy of d on network k, its strings interned; NULL on ENOMEM */
static struct crowdsec_set_entry *
crowdsec_set_entry_new(struct crowdsec_set *s, const struct crowdsec_decision *d,
    const struct crowdsec_set_key *k)
{
	struct crowdsec_set_entry *e;
	struct crowdsec_set_str *type, *origin, *scenario;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	s->bytes += malloc_usable_size(e);
	e->d.id = d->id;
	e->d.family = k->family;
	e->d.prefix = k->prefix;
	crowdsec_set_key_bytes(k, e->d.addr);
	e->d.expires_usec = d->expires_usec;
	if ((type = crowdsec_set_str_get(s, d->type, CROWDSEC_TYPE_MAX)) != NULL)
		e->d.type = type->s;
	if ((origin = crowdsec_set_str_get(s, d->origin, CROWDSEC_ORIGIN_MAX)) != NULL)
		e->d.origin = origin->s;
	if ((scenario = crowdsec_set_str_get(s, d->scenario, CROWDSEC_SCENARIO_MAX)) != NULL)
		e->d.scenario = scenario->s;
	if (type == NULL || origin == NULL || scenario == NULL) {
		crowdsec_set_entry_free(s, e);
		return NULL;
	}
	if (strcmp(type->s, "ban") == 0)
		e->rank = CROWDSEC_SET_RANK_BAN;
	else if (strcmp(type->s, "captcha") == 0)
		e->rank = CROWDSEC_SET_RANK_CAPTCHA;
	else
		e->rank = CROWDSEC_SET_RANK_OTHER;
	return e;
}

/* crowdsec_set_insert - link e (network k) into both tables; room was reserved */
static void
crowdsec_set_insert(struct crowdsec_set *s, struct crowdsec_set_entry *e,
    const struct crowdsec_set_key *k)
{
	struct crowdsec_set_family *f = crowdsec_set_family_of(s, k->family);
	struct crowdsec_set_table *t = &f->t[k->prefix];
	uint64_t h = crowdsec_set_key_hash(s, k);
	size_t i = crowdsec_set_find_key(t, k, h);

	if (i != SIZE_MAX) {
		e->same = t->slot[i].e;
		t->slot[i].e = e;
	} else
		crowdsec_set_table_place(t, e, h);
	crowdsec_set_table_place(&s->by_id, e, crowdsec_set_id_hash(s, e->d.id));
	crowdsec_set_lengths_add(f, k->prefix);
	crowdsec_set_str_of(e->d.type)->as_type++;
	if (e->d.expires_usec < s->next_expiry)
		s->next_expiry = e->d.expires_usec;
	s->n++;
}

/* crowdsec_set_unlink_key - take e off its network's table (freed when it empties) */
static void
crowdsec_set_unlink_key(struct crowdsec_set *s, struct crowdsec_set_entry *e)
{
	struct crowdsec_set_entry **pp;
	struct crowdsec_set_family *f;
	struct crowdsec_set_table *t;
	struct crowdsec_set_key k;
	size_t i;

	crowdsec_set_entry_key(e, &k);
	f = crowdsec_set_family_of(s, k.family);
	t = &f->t[k.prefix];
	i = crowdsec_set_find_key(t, &k, crowdsec_set_key_hash(s, &k));
	for (pp = &t->slot[i].e; *pp != e; pp = &(*pp)->same)
		;
	*pp = e->same;
	if (t->slot[i].e == NULL)
		crowdsec_set_table_remove_at(s, t, i);
	crowdsec_set_lengths_remove(f, k.prefix);
	if (t->used == 0)
		crowdsec_set_table_drop(s, t);
	else
		crowdsec_set_table_trim(s, t);
}

/* crowdsec_set_release - free e, already off both tables */
static void
crowdsec_set_release(struct crowdsec_set *s, struct crowdsec_set_entry *e)
{
	crowdsec_set_str_of(e->d.type)->as_type--;
	s->n--;
	crowdsec_set_entry_free(s, e);
}

/* crowdsec_set_remove - unlink e (slot id_slot of the "by id" table) and free it */
static void
crowdsec_set_remove(struct crowdsec_set *s, struct crowdsec_set_entry *e, size_t id_slot)
{
	crowdsec_set_unlink_key(s, e);
	crowdsec_set_table_remove_at(s, &s->by_id, id_slot);
	crowdsec_set_release(s, e);
}

/* crowdsec_set_trim - shrink the id and string tables if deletions left them mostly empty */
static void
crowdsec_set_trim(struct crowdsec_set *s)
{
	size_t size = CROWDSEC_SET_STRS_MIN;

	crowdsec_set_table_trim(s, &s->by_id);
	if (s->strs_mask + 1 <= CROWDSEC_SET_STRS_MIN || s->n_strs * 8 >= s->strs_mask + 1)
		return;
	while (size < s->n_strs * 2)
		size *= 2;
	crowdsec_set_strs_resize(s, size);
}

/* ------------------------------------------------------------------- public */

/* crowdsec_set_new - an empty set; NULL on ENOMEM */
struct crowdsec_set *
crowdsec_set_new(void)
{
	struct crowdsec_set *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->bytes = malloc_usable_size(s);
	s->next_expiry = INT64_MAX;
	if (crowdsec_set_table_init(s, &s->by_id, CROWDSEC_SET_TABLE_MIN, true) < 0 ||
	    (s->strs = calloc(CROWDSEC_SET_STRS_MIN, sizeof(*s->strs))) == NULL)
		return crowdsec_set_free(s);
	s->strs_mask = CROWDSEC_SET_STRS_MIN - 1;
	s->bytes += malloc_usable_size(s->strs);
	if (getrandom(s->k, sizeof(s->k), GRND_NONBLOCK) != sizeof(s->k)) {
		/* early boot without entropy: still a per-process key */
		s->k[0] = (uint64_t)(uintptr_t)s ^ 0x9e3779b97f4a7c15ULL;
		s->k[1] = (uint64_t)(uintptr_t)&s ^ 0xc2b2ae3d27d4eb4fULL;
		s->k[2] = s->k[0] * 0xff51afd7ed558ccdULL;
		s->k[3] = s->k[1] * 0xc4ceb9fe1a85ec53ULL;
	}
	return s;
}

/* crowdsec_set_free - free every decision and string; returns NULL */
struct crowdsec_set *
crowdsec_set_free(struct crowdsec_set *s)
{
	struct crowdsec_set_str *str, *next;

	if (s == NULL)
		return NULL;
	if (s->by_id.slot != NULL)
		for (size_t i = 0; i <= s->by_id.mask; i++)
			free(s->by_id.slot[i].e);
	if (s->strs != NULL)
		for (size_t i = 0; i <= s->strs_mask; i++)
			for (str = s->strs[i]; str != NULL; str = next) {
				next = str->next;
				free(str);
			}
	for (size_t i = 0; i < CROWDSEC_SET_LENGTHS; i++) {
		free(s->v4.t[i].slot);
		free(s->v6.t[i].slot);
	}
	free(s->strs);
	free(s->by_id.slot);
	free(s);
	return NULL;
}

/* crowdsec_set_prefix - read the decimal prefix length after the slash of a range */
static int
crowdsec_set_prefix(const char *p, unsigned max, unsigned *ret)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
		if (i == CROWDSEC_SET_PREFIX_DIGITS)
			return -EINVAL;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (i == 0 || p[i] != '\0' || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* crowdsec_set_key - the network of a decision's scope and value */
int
crowdsec_set_key(const char *scope, const char *value, struct crowdsec_decision *d)
{
	char text[CROWDSEC_SET_ADDR_TEXT];
	unsigned char addr[16] = { 0 };
	struct crowdsec_set_key k;
	const char *slash;
	unsigned prefix;
	bool range;
	size_t len;
	int family;

	if (scope == NULL || value == NULL)
		return -EINVAL;
	if (strcasecmp(scope, "Ip") == 0)
		range = false;
	else if (strcasecmp(scope, "Range") == 0)
		range = true;
	else
		return -EOPNOTSUPP;
	slash = strchr(value, '/');
	if (range != (slash != NULL))
		return -EINVAL;
	len = slash != NULL ? (size_t)(slash - value) : strlen(value);
	if (len >= sizeof(text))
		return -EINVAL;
	memcpy(text, value, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		family = AF_INET6;
	else
		return -EINVAL;
	prefix = family == AF_INET ? 32 : 128;
	if (range && crowdsec_set_prefix(slash + 1, prefix, &prefix) < 0)
		return -EINVAL;
	if (crowdsec_set_key_make(family, prefix, addr, &k) < 0)
		return -EINVAL;
	d->family = k.family;
	d->prefix = k.prefix;
	crowdsec_set_key_bytes(&k, d->addr);
	return 0;
}

/* crowdsec_set_add - a copy of d, replacing the decision with the same id */
int
crowdsec_set_add(struct crowdsec_set *s, const struct crowdsec_decision *d)
{
	struct crowdsec_set_entry *e, *old = NULL;
	struct crowdsec_set_key k;
	size_t i;

	if (crowdsec_set_key_make(d->family, d->prefix, d->addr, &k) < 0)
		return -EINVAL;
	if ((e = crowdsec_set_entry_new(s, d, &k)) == NULL)
		return -ENOMEM;
	if (crowdsec_set_table_reserve(s, &s->by_id) < 0 ||
	    crowdsec_set_table_reserve(s, &crowdsec_set_family_of(s, k.family)->t[k.prefix]) < 0) {
		crowdsec_set_entry_free(s, e);
		return -ENOMEM;
	}
	/* a replaced decision leaves after e is in, so that a table they share stays */
	if ((i = crowdsec_set_find_id(s, d->id)) != SIZE_MAX) {
		old = s->by_id.slot[i].e;
		crowdsec_set_table_remove_at(s, &s->by_id, i);
	}
	crowdsec_set_insert(s, e, &k);
	if (old != NULL) {
		crowdsec_set_unlink_key(s, old);
		crowdsec_set_release(s, old);
	}
	return 0;
}

/* crowdsec_set_delete - remove the decision with this id: 1, or 0 when there is none */
int
crowdsec_set_delete(struct crowdsec_set *s, int64_t id)
{
	size_t i = crowdsec_set_find_id(s, id);

	if (i == SIZE_MAX)
		return 0;
	crowdsec_set_remove(s, s->by_id.slot[i].e, i);
	crowdsec_set_trim(s);
	return 1;
}

/* crowdsec_set_stronger - a comes before b: ban, captcha, others; then the later expiry */
static inline bool
crowdsec_set_stronger(const struct crowdsec_decision *a, const struct crowdsec_decision *b)
{
	const struct crowdsec_set_entry *ea = (const struct crowdsec_set_entry *)a;
	const struct crowdsec_set_entry *eb = (const struct crowdsec_set_entry *)b;

	if (ea->rank != eb->rank)
		return ea->rank < eb->rank;
	if (a->expires_usec != b->expires_usec)
		return a->expires_usec > b->expires_usec;
	return a->id > b->id;	/* a total order: the newer decision */
}

/* crowdsec_set_keep - d into ret[0..held], sorted strongest first, at most max kept */
static void
crowdsec_set_keep(const struct crowdsec_decision **ret, size_t max, size_t held,
    const struct crowdsec_decision *d)
{
	size_t i;

	if (held == max) {
		if (max == 0 || !crowdsec_set_stronger(d, ret[max - 1]))
			return;
		held--;
	}
	for (i = held; i > 0 && crowdsec_set_stronger(d, ret[i - 1]); i--)
		ret[i] = ret[i - 1];
	ret[i] = d;
}

/* crowdsec_set_collect - the live decisions of one key (first e) into ret, counted in *n */
static void
crowdsec_set_collect(const struct crowdsec_set_entry *e, int64_t now_usec,
    const struct crowdsec_decision **ret, size_t max, size_t *n)
{
	for (; e != NULL; e = e->same) {
		if (e->d.expires_usec <= now_usec)
			continue;
		crowdsec_set_keep(ret, max, *n < max ? *n : max, &e->d);
		(*n)++;
	}
}

/*
 * crowdsec_set_lookup - the decisions covering an address, strongest first.
 * All the slots to probe are known at once, so they are prefetched together
 * first and their cache misses overlap.
 */
size_t
crowdsec_set_lookup(const struct crowdsec_set *s, int family, const unsigned char *addr,
    int64_t now_usec, const struct crowdsec_decision **ret, size_t max)
{
	const struct crowdsec_set_family *f;
	const struct crowdsec_set_table *t;
	struct crowdsec_set_key a, k;
	uint64_t h[CROWDSEC_SET_LENGTHS];
	size_t n = 0, i;
	unsigned j;

	if (s == NULL || addr == NULL ||
	    crowdsec_set_key_make(family, family == AF_INET ? 32 : 128, addr, &a) < 0)
		return 0;
	if (ret == NULL)
		max = 0;
	f = a.family == AF_INET ? &s->v4 : &s->v6;
	for (j = 0, k = a; j < f->n; j++) {
		k.prefix = f->len[j];
		crowdsec_set_key_mask(&k);
		t = &f->t[k.prefix];
		h[j] = crowdsec_set_key_hash(s, &k);
		__builtin_prefetch(&t->slot[h[j] & t->mask]);
	}
	for (j = 0, k = a; j < f->n; j++) {
		k.prefix = f->len[j];
		crowdsec_set_key_mask(&k);
		t = &f->t[k.prefix];
		if ((i = crowdsec_set_find_key(t, &k, h[j])) != SIZE_MAX)
			crowdsec_set_collect(t->slot[i].e, now_usec, ret, max, &n);
	}
	return n;
}

/*
 * crowdsec_set_expire - remove the decisions expired at now_usec. Removing
 * slot i moves later slots back, into i at the latest, so i is looked at
 * again; a slot that wraps from the start to the end may be looked at twice,
 * which is harmless.
 */
size_t
crowdsec_set_expire(struct crowdsec_set *s, int64_t now_usec)
{
	struct crowdsec_set_entry *e;
	int64_t next = INT64_MAX;
	size_t i = 0, n = 0;

	if (now_usec < s->next_expiry)
		return 0;
	while (i <= s->by_id.mask) {
		if ((e = s->by_id.slot[i].e) != NULL && e->d.expires_usec <= now_usec) {
			crowdsec_set_remove(s, e, i);
			n++;
			continue;
		}
		if (e != NULL && e->d.expires_usec < next)
			next = e->d.expires_usec;
		i++;
	}
	s->next_expiry = next;
	crowdsec_set_trim(s);
	return n;
}

/* crowdsec_set_count - decisions held, expired ones included */
size_t
crowdsec_set_count(const struct crowdsec_set *s)
{
	return s->n;
}

/* crowdsec_set_count_type - decisions held of one type (cut like the types stored) */
size_t
crowdsec_set_count_type(const struct crowdsec_set *s, const char *type)
{
	struct crowdsec_set_str *str;
	size_t len;

	if (type == NULL)
		return 0;
	len = crowdsec_set_str_cut(type, CROWDSEC_TYPE_MAX);
	str = crowdsec_set_str_find(s, type, len, crowdsec_set_str_hash(s, type, len));
	return str == NULL ? 0 : str->as_type;
}

/* crowdsec_set_memory - bytes allocated for the set */
size_t
crowdsec_set_memory(const struct crowdsec_set *s)
{
	return s->bytes;
}

/* crowdsec_set_describe - "ban crowdsecurity/postfix-spam (origin crowdsec, 3h59m left)" */
void
crowdsec_set_describe(const char *type, const char *scenario, const char *origin,
    int64_t left_usec, char *buf, size_t size)
{
	int64_t left = left_usec / 1000000;
	char w[32];

	if (left <= 0)
		snprintf(w, sizeof(w), "0s");
	else if (left >= 3600)
		snprintf(w, sizeof(w), "%lldh%02lldm", (long long)(left / 3600),
		    (long long)(left % 3600 / 60));
	else if (left >= 60)
		snprintf(w, sizeof(w), "%lldm%02llds", (long long)(left / 60), (long long)(left % 60));
	else
		snprintf(w, sizeof(w), "%llds", (long long)left);
	snprintf(buf, size, "%s %s (origin %s, %s left)", type,
	    scenario != NULL && scenario[0] != '\0' ? scenario : "-",
	    origin != NULL && origin[0] != '\0' ? origin : "-", w);
}
