/*
 * NAME
 *	set_bench - lookups in a crowdsec_set against an exact-match hash (benchmark only)
 * SYNOPSIS
 *	set_bench [-n DECISIONS] [-R LENGTHS] [-q QUERIES] [-r ROUNDS] [-t SECONDS] [-S SEED]
 * DESCRIPTION
 *	Loads DECISIONS (default 100 000) decisions into a crowdsec_set: 90 %
 *	IPv4 /32, 5 % IPv4 ranges with lengths drawn uniformly from LENGTHS
 *	(default "8-30"; a list of lengths and spans such as "16,24" or
 *	"24,24,16-23", where a repeated length is drawn more often), 4 % IPv6
 *	/128 and 1 % IPv6 /48 or /64; nine in ten are bans, the rest
 *	captchas, of 20 scenarios and 3 origins, all valid for hours.
 *	Addresses are drawn at random (SEED) in 1.0.0.0-126.255.255.255 and
 *	2a00::/12, so ranges overlap: with "8-30", every /8 of that space
 *	holds a few /8 decisions per 100 000 decisions, and a covered address
 *	has several decisions, all of which a lookup returns.
 *
 *	It then looks up QUERIES (default 1 048 576) addresses per family,
 *	about half of them hits (IPv4: nine in ten of the hits a /32 of the
 *	set, one in ten an address inside one of its ranges; IPv6: four in
 *	five a /128, one in five inside a /48 or /64) and half misses (IPv4
 *	in 128.0.0.0-223.255.255.255, IPv6 in 2c00::/12, which no decision
 *	covers). The same IPv4 queries also go to the baseline: a minimal
 *	open-addressing table of the uint32 /32 addresses (multiplicative
 *	hash, linear probing, at most half full), the floor any exact-match
 *	structure pays for a random access into a table of that size.
 *
 *	Each round times the baseline, then IPv4, then IPv6 lookups
 *	(CLOCK_MONOTONIC), each lookup asking for up to 4 decisions and
 *	reading the first one's id, as a caller would; the best of ROUNDS
 *	rounds (default 3) counts, and no round starts after SECONDS (default
 *	30) have passed. It prints a table: structure, ns per lookup, ratio
 *	to the baseline, share of queries with a hit (the baseline knows only
 *	the /32 addresses, so it misses those inside ranges) and decisions
 *	found per hit; then the time per add, crowdsec_set_memory() and the
 *	peak RSS (getrusage) before and after loading.
 * RETURNS
 *	0, or 1 when an IPv4 or IPv6 lookup takes 1000 ns or more (the header
 *	promises "well under a microsecond"); 2 on a usage or setup error.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crowdsec_set.h"

#define BENCH_SEC	INT64_C(1000000)
#define BENCH_MAX_N	(16 * 1000 * 1000)	/* decisions: 16 M is ~3 GiB */
#define BENCH_MAX_Q	(64 * 1024 * 1024)	/* queries per family */
#define BENCH_TARGET_NS	1000.0

struct bench_net6 {
	unsigned char addr[16];
	unsigned prefix;
};

struct bench_net4 {
	uint32_t addr;
	unsigned prefix;
};

static uint64_t bench_rng;
static unsigned bench_lengths[64];	/* IPv4 range lengths to draw from */
static unsigned bench_n_lengths;

/* bench_next - splitmix64 */
static uint64_t
bench_next(void)
{
	uint64_t z = (bench_rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* bench_below - a random number in 0..n-1 */
static uint64_t
bench_below(uint64_t n)
{
	return bench_next() % n;
}

/* bench_now - CLOCK_MONOTONIC in seconds */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* bench_rss_kib - peak resident set so far */
static long
bench_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* bench_parse_lengths - "8-30", "16,24", "24,24,16-23" (a repeated length is drawn more often) */
static int
bench_parse_lengths(const char *s)
{
	char *end;
	unsigned long lo, hi;

	bench_n_lengths = 0;
	for (;;) {
		lo = strtoul(s, &end, 10);
		hi = lo;
		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s)
				return -1;
		}
		if (lo > hi || hi > 32)
			return -1;
		for (unsigned long l = lo; l <= hi; l++) {
			if (bench_n_lengths == sizeof(bench_lengths) / sizeof(bench_lengths[0]))
				return -1;
			bench_lengths[bench_n_lengths++] = (unsigned)l;
		}
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

/* bench_v4_hit_space - a random IPv4 address in 1.0.0.0-126.255.255.255 */
static uint32_t
bench_v4_hit_space(void)
{
	return (uint32_t)((1 + bench_below(126)) << 24 | bench_below(1u << 24));
}

/* bench_v6_random - a random IPv6 address in 2a00::/12 (or 2c00::/12 for misses) */
static void
bench_v6_random(unsigned char *a, int miss)
{
	uint64_t hi = bench_next(), lo = bench_next();

	hi = (hi & 0x000fffffffffffffULL) | (miss ? 0x2c00ULL : 0x2a00ULL) << 48;
	for (int i = 0; i < 8; i++) {
		a[i] = (unsigned char)(hi >> (56 - 8 * i));
		a[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
	}
}

/* bench_v6_mask - clear the host bits of a beyond prefix */
static void
bench_v6_mask(unsigned char *a, unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		if (prefix >= 8 * (i + 1))
			continue;
		a[i] &= prefix <= 8 * i ? 0 : (unsigned char)(0xff << (8 * (i + 1) - prefix));
	}
}

static const char *const bench_scenarios[20] = {
	"crowdsecurity/postfix-spam", "crowdsecurity/ssh-bf", "crowdsecurity/ssh-slow-bf",
	"crowdsecurity/http-probing", "crowdsecurity/http-crawl-non_statics",
	"crowdsecurity/http-bad-user-agent", "crowdsecurity/http-path-traversal-probing",
	"crowdsecurity/http-sensitive-files", "crowdsecurity/dovecot-spam",
	"crowdsecurity/http-wordpress_wpconfig", "crowdsecurity/http-xss-probing",
	"crowdsecurity/http-sqli-probing", "crowdsecurity/http-backdoors-attempts",
	"crowdsecurity/http-admin-interface-probing", "crowdsecurity/CVE-2021-41773",
	"crowdsecurity/CVE-2022-26134", "crowdsecurity/grafana-cve-2021-43798",
	"crowdsecurity/thinkphp-cve-2018-20062", "firewallservices/pf-scan-multi_ports",
	"mxledger/auth-bruteforce",
};
static const char *const bench_origins[3] = { "CAPI", "crowdsec", "cscli" };

/* bench_add - one decision into the set; exits on failure */
static void
bench_add(struct crowdsec_set *s, int64_t id, int family, unsigned prefix,
    const unsigned char *addr)
{
	struct crowdsec_decision d = {
		.id = id, .family = family, .prefix = prefix,
		.type = bench_below(10) == 0 ? "captcha" : "ban",
		.origin = bench_origins[bench_below(3)],
		.scenario = bench_scenarios[bench_below(20)],
		.expires_usec = INT64_C(1795305600) * BENCH_SEC + (int64_t)(1 + bench_below(24)) *
		    3600 * BENCH_SEC,
	};

	memcpy(d.addr, addr, family == AF_INET ? 4 : 16);
	if (crowdsec_set_add(s, &d) < 0) {
		fprintf(stderr, "set_bench: crowdsec_set_add failed\n");
		exit(2);
	}
}

struct bench_data {
	size_t n32, n4r, n128, n6r;
	uint32_t *v4;			/* the /32 addresses, host order */
	struct bench_net4 *r4;
	unsigned char (*v6)[16];
	struct bench_net6 *r6;
	unsigned v4_lengths, v6_lengths;
};

/* bench_load - the decisions of the mix into s, remembered in b for the queries */
static void
bench_load(struct crowdsec_set *s, size_t n, struct bench_data *b)
{
	int seen4[33] = { 0 }, seen6[129] = { 0 };
	unsigned char a[16] = { 0 };
	int64_t id = 1;
	uint32_t be;

	b->n4r = n / 20;
	b->n128 = n / 25;
	b->n6r = n / 100;
	b->n32 = n - b->n4r - b->n128 - b->n6r;
	b->v4 = calloc(b->n32, sizeof(*b->v4));
	b->r4 = calloc(b->n4r + 1, sizeof(*b->r4));
	b->v6 = calloc(b->n128 + 1, sizeof(*b->v6));
	b->r6 = calloc(b->n6r + 1, sizeof(*b->r6));
	if (b->v4 == NULL || b->r4 == NULL || b->v6 == NULL || b->r6 == NULL) {
		fprintf(stderr, "set_bench: out of memory\n");
		exit(2);
	}
	for (size_t i = 0; i < b->n32; i++) {
		b->v4[i] = bench_v4_hit_space();
		be = htonl(b->v4[i]);
		memcpy(a, &be, 4);
		bench_add(s, id++, AF_INET, 32, a);
		seen4[32] = 1;
	}
	for (size_t i = 0; i < b->n4r; i++) {
		unsigned p = bench_lengths[bench_below(bench_n_lengths)];

		b->r4[i].prefix = p;
		b->r4[i].addr = bench_v4_hit_space() & (p == 0 ? 0 : UINT32_MAX << (32 - p));
		be = htonl(b->r4[i].addr);
		memcpy(a, &be, 4);
		bench_add(s, id++, AF_INET, p, a);
		seen4[p] = 1;
	}
	for (size_t i = 0; i < b->n128; i++) {
		bench_v6_random(b->v6[i], 0);
		bench_add(s, id++, AF_INET6, 128, b->v6[i]);
		seen6[128] = 1;
	}
	for (size_t i = 0; i < b->n6r; i++) {
		b->r6[i].prefix = bench_below(2) ? 48 : 64;
		bench_v6_random(b->r6[i].addr, 0);
		bench_v6_mask(b->r6[i].addr, b->r6[i].prefix);
		bench_add(s, id++, AF_INET6, b->r6[i].prefix, b->r6[i].addr);
		seen6[b->r6[i].prefix] = 1;
	}
	b->v4_lengths = b->v6_lengths = 0;
	for (int i = 0; i <= 32; i++)
		b->v4_lengths += (unsigned)seen4[i];
	for (int i = 0; i <= 128; i++)
		b->v6_lengths += (unsigned)seen6[i];
}

struct bench_queries {
	size_t n;
	uint32_t *v4;			/* network byte order */
	unsigned char (*v6)[16];
};

/* bench_v4_query - an IPv4 query: half hits (/32 or inside a range), half misses */
static uint32_t
bench_v4_query(const struct bench_data *b)
{
	const struct bench_net4 *r;
	unsigned span;

	if (bench_below(2) == 0)
		return htonl((uint32_t)((128 + bench_below(96)) << 24 | bench_below(1u << 24)));
	if (b->n4r == 0 || bench_below(10) < 9)
		return htonl(b->v4[bench_below(b->n32)]);
	r = &b->r4[bench_below(b->n4r)];
	span = 32 - r->prefix;
	return htonl(r->addr | (uint32_t)(bench_next() & ((UINT64_C(1) << span) - 1)));
}

/* bench_v6_query - an IPv6 query: half hits (/128 or inside a /48 or /64), half misses */
static void
bench_v6_query(const struct bench_data *b, unsigned char *a)
{
	const struct bench_net6 *r;

	if (bench_below(2) == 0) {
		bench_v6_random(a, 1);
		return;
	}
	if (b->n6r == 0 || bench_below(5) < 4) {
		memcpy(a, b->v6[bench_below(b->n128)], 16);
		return;
	}
	r = &b->r6[bench_below(b->n6r)];
	memcpy(a, r->addr, 16);
	for (unsigned i = r->prefix / 8; i < 16; i++)
		a[i] = (unsigned char)bench_next();
}

/* bench_make_queries - q->n queries of each family */
static void
bench_make_queries(const struct bench_data *b, struct bench_queries *q)
{
	q->v4 = calloc(q->n, sizeof(*q->v4));
	q->v6 = calloc(q->n, sizeof(*q->v6));
	if (q->v4 == NULL || q->v6 == NULL) {
		fprintf(stderr, "set_bench: out of memory\n");
		exit(2);
	}
	for (size_t i = 0; i < q->n; i++) {
		q->v4[i] = bench_v4_query(b);
		bench_v6_query(b, q->v6[i]);
	}
}

/* The baseline: uint32 keys (0 = free), Fibonacci hashing, linear probing. */
struct bench_base {
	uint32_t *slot;
	uint32_t mask;
	unsigned shift;
};

/* bench_base_home - the first slot for key k */
static inline uint32_t
bench_base_home(const struct bench_base *t, uint32_t k)
{
	return (uint32_t)(k * 0x9e3779b1u) >> t->shift;
}

/* bench_base_build - the baseline table of the /32 addresses, at most half full */
static void
bench_base_build(struct bench_base *t, const uint32_t *keys, size_t n)
{
	unsigned bits = 4;

	while ((UINT64_C(1) << bits) < 2 * (uint64_t)n)
		bits++;
	t->slot = calloc(UINT64_C(1) << bits, sizeof(*t->slot));
	if (t->slot == NULL) {
		fprintf(stderr, "set_bench: out of memory\n");
		exit(2);
	}
	t->mask = (uint32_t)((UINT64_C(1) << bits) - 1);
	t->shift = 32 - bits;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = htonl(keys[i]), j = bench_base_home(t, k);

		while (t->slot[j] != 0 && t->slot[j] != k)
			j = (j + 1) & t->mask;
		t->slot[j] = k;
	}
}

/* bench_base_find - 1 when k is in the table */
static inline int
bench_base_find(const struct bench_base *t, uint32_t k)
{
	for (uint32_t j = bench_base_home(t, k); t->slot[j] != 0; j = (j + 1) & t->mask)
		if (t->slot[j] == k)
			return 1;
	return 0;
}

/* bench_time_base - ns per baseline lookup over the IPv4 queries */
static double
bench_time_base(const struct bench_base *t, const struct bench_queries *q, size_t *ret_hits)
{
	double t0 = bench_now();
	size_t hits = 0;

	for (size_t i = 0; i < q->n; i++)
		hits += (size_t)bench_base_find(t, q->v4[i]);
	*ret_hits = hits;
	return (bench_now() - t0) * 1e9 / (double)q->n;
}

/* bench_time_set - ns per crowdsec_set_lookup() over the queries of one family */
static double
bench_time_set(const struct crowdsec_set *s, const struct bench_queries *q, int family,
    int64_t now, size_t *ret_hits, size_t *ret_found, uint64_t *sum)
{
	const struct crowdsec_decision *found[4];
	double t0 = bench_now();
	size_t hits = 0, all = 0, n;

	for (size_t i = 0; i < q->n; i++) {
		if (family == AF_INET)
			n = crowdsec_set_lookup(s, AF_INET, (const unsigned char *)&q->v4[i], now,
			    found, 4);
		else
			n = crowdsec_set_lookup(s, AF_INET6, q->v6[i], now, found, 4);
		if (n > 0) {
			hits++;
			all += n;
			*sum += (uint64_t)found[0]->id;
		}
	}
	*ret_hits = hits;
	*ret_found = all;
	return (bench_now() - t0) * 1e9 / (double)q->n;
}

/* bench_usage - exits 2 */
static void
bench_usage(void)
{
	fprintf(stderr, "usage: set_bench [-n DECISIONS] [-R LENGTHS] [-q QUERIES] [-r ROUNDS]"
	    " [-t SECONDS] [-S SEED]\n");
	exit(2);
}

/* bench_row - one line of the table */
static void
bench_row(const char *name, double ns, double base_ns, size_t hits, size_t found, size_t n)
{
	printf("  %-34s %9.1f %7.2f %6.1f%% %9.2f\n", name, ns, ns / base_ns,
	    100.0 * (double)hits / (double)n, hits == 0 ? 0.0 : (double)found / (double)hits);
}

int
main(int argc, char **argv)
{
	size_t n = 100000, rounds = 3, hits_b = 0, hits4 = 0, hits6 = 0, found4 = 0, found6 = 0;
	double limit = 30, best_b = 1e30, best4 = 1e30, best6 = 1e30, t, start, load;
	const char *lengths = "8-30";
	struct bench_queries q = { .n = 1u << 20 };
	struct bench_data b;
	struct bench_base base;
	struct crowdsec_set *s;
	int64_t now = INT64_C(1795305600) * BENCH_SEC;
	uint64_t sum = 0;
	long rss0, rss1;
	size_t r, extra;
	int c;

	bench_rng = 42;
	while ((c = getopt(argc, argv, "n:R:q:r:t:S:")) != -1) {
		switch (c) {
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'R': lengths = optarg; break;
		case 'q': q.n = strtoul(optarg, NULL, 10); break;
		case 'r': rounds = strtoul(optarg, NULL, 10); break;
		case 't': limit = strtod(optarg, NULL); break;
		case 'S': bench_rng = strtoull(optarg, NULL, 10); break;
		default: bench_usage();
		}
	}
	if (optind != argc || n < 100 || n > BENCH_MAX_N || q.n < 1 || q.n > BENCH_MAX_Q ||
	    rounds < 1 || rounds > 100 || !(limit > 0) || bench_parse_lengths(lengths) < 0)
		bench_usage();

	rss0 = bench_rss_kib();
	if ((s = crowdsec_set_new()) == NULL) {
		fprintf(stderr, "set_bench: out of memory\n");
		return 2;
	}
	start = bench_now();
	bench_load(s, n, &b);
	load = (bench_now() - start) * 1e9 / (double)n;
	rss1 = bench_rss_kib();
	extra = b.n32 * sizeof(*b.v4) + b.n4r * sizeof(*b.r4) + b.n128 * sizeof(*b.v6) +
	    b.n6r * sizeof(*b.r6);
	bench_make_queries(&b, &q);
	bench_base_build(&base, b.v4, b.n32);

	start = bench_now();
	for (r = 0; r < rounds && (r == 0 || bench_now() - start < limit); r++) {
		if ((t = bench_time_base(&base, &q, &hits_b)) < best_b)
			best_b = t;
		if ((t = bench_time_set(s, &q, AF_INET, now, &hits4, &found4, &sum)) < best4)
			best4 = t;
		if ((t = bench_time_set(s, &q, AF_INET6, now, &hits6, &found6, &sum)) < best6)
			best6 = t;
	}

	printf("set_bench: %zu decisions: %zu IPv4 /32, %zu IPv4 ranges (lengths %s),"
	    " %zu IPv6 /128, %zu IPv6 /48 and /64\n", n, b.n32, b.n4r, lengths, b.n128, b.n6r);
	printf("set_bench: prefix lengths in use: IPv4 %u, IPv6 %u; %zu queries per family,"
	    " best of %zu rounds\n", b.v4_lengths, b.v6_lengths, q.n, r);
	printf("  %-34s %9s %7s %7s %9s\n", "structure", "ns/lookup", "ratio", "hits",
	    "found/hit");
	bench_row("baseline: uint32 exact hash, IPv4", best_b, best_b, hits_b, hits_b, q.n);
	bench_row("crowdsec_set_lookup IPv4", best4, best_b, hits4, found4, q.n);
	bench_row("crowdsec_set_lookup IPv6", best6, best_b, hits6, found6, q.n);
	printf("set_bench: %.0f ns per add; crowdsec_set_memory %.1f MiB (%.0f bytes per"
	    " decision)\n", load, (double)crowdsec_set_memory(s) / 1048576.0,
	    (double)crowdsec_set_memory(s) / (double)n);
	printf("set_bench: peak RSS %.1f MiB after loading, %.1f MiB before (of which the"
	    " bench's own address lists %.1f MiB); checksum %llu\n", (double)rss1 / 1024.0,
	    (double)rss0 / 1024.0, (double)extra / 1048576.0, (unsigned long long)sum);
	crowdsec_set_free(s);
	free(base.slot);
	free(q.v4);
	free(q.v6);
	free(b.v4);
	free(b.r4);
	free(b.v6);
	free(b.r6);
	return best4 < BENCH_TARGET_NS && best6 < BENCH_TARGET_NS ? 0 : 1;
}
