/*
 * NAME
 *	crowdsec_set - CrowdSec decisions in memory: is this address banned?
 * SYNOPSIS
 *	#include "crowdsec_set.h"
 *
 *	struct crowdsec_set *crowdsec_set_new(void);
 *	struct crowdsec_set *crowdsec_set_free(struct crowdsec_set *s);
 *	int crowdsec_set_key(const char *scope, const char *value,
 *	    struct crowdsec_decision *d);
 *	int crowdsec_set_add(struct crowdsec_set *s, const struct crowdsec_decision *d);
 *	int crowdsec_set_delete(struct crowdsec_set *s, int64_t id);
 *	size_t crowdsec_set_lookup(const struct crowdsec_set *s, int family,
 *	    const unsigned char *addr, int64_t now_usec,
 *	    const struct crowdsec_decision **ret, size_t max);
 *	size_t crowdsec_set_expire(struct crowdsec_set *s, int64_t now_usec);
 *	size_t crowdsec_set_count(const struct crowdsec_set *s);
 *	size_t crowdsec_set_count_type(const struct crowdsec_set *s, const char *type);
 *	size_t crowdsec_set_memory(const struct crowdsec_set *s);
void crowdsec_set_describe(const char *type, const char *scenario, const char *origin,
    int64_t left_usec, char *buf, size_t size);
 *	void crowdsec_set_describe(const char *type, const char *scenario,
 *	    const char *origin, int64_t left_usec, char *buf, size_t size);
 * DESCRIPTION
 *	The decisions a CrowdSec Local API hands to bouncers (scope Ip or
 *	Range), kept so that "which active decisions cover this IPv4 or IPv6
 *	address" is answered in well under a microsecond whatever the number
 *	of decisions: one hash table per prefix length in use for each
 *	family, keyed by the masked address, probed once per length (longest
 *	first), so the cost grows with the number of distinct prefix lengths
 *	(a handful in practice: /32, /24, /16, /128, /64, /48) and the
 *	decisions covering the address, never with the number of decisions
 *	(the small range tables stay in cache apart from the large /32 one).
 *	A second hash table finds a decision by its LAPI id, which is how the
 *	stream deletes.
 *
 *	crowdsec_set_key() fills d->family, d->prefix and d->addr from a
 *	decision's scope and value: scope "Ip" (any case) takes an IPv4 or
 *	IPv6 address (/32 or /128), scope "Range" a CIDR "a.b.c.d/N" or
 *	"x::/N"; host bits of a range are cleared; an IPv4-mapped IPv6
 *	address or range (::ffff:0:0/96 and longer) is stored as IPv4, like
 *	every address mxledger canonicalises (addr.h).
 *
 *	crowdsec_set_add() copies d (strings too: type, origin and scenario
 *	are interned, so a million decisions of ten scenarios keep ten
 *	copies). A decision with an id already in the set replaces it. Two
 *	decisions may cover the same prefix (a ban and a captcha, or two
 *	bans of different ids): both are kept and both are found.
 *	crowdsec_set_delete() removes the decision with that id; an unknown
 *	id is not an error (the stream repeats deletions and reports
 *	decisions the bouncer never saw).
 *
 *	crowdsec_set_lookup() writes up to max pointers to the decisions
 *	covering the address that have not expired at now_usec (expires_usec
 *	> now_usec), strongest first: type "ban" before "captcha" before any
 *	other type, then the one expiring last; it returns how many exist
 *	(which may exceed max). family is AF_INET (addr has 4 bytes) or
 *	AF_INET6 (16 bytes; an IPv4-mapped address is looked up as IPv4).
 *	It does not modify the set, so readers may share it under a lock
 *	held by the writer only for writing (the caller's business).
 *
 *	crowdsec_set_expire() removes every decision expired at now_usec and
 *	returns how many it removed. crowdsec_set_count() is the number of
 *	decisions held (expired ones included until crowdsec_set_expire()),
 *	crowdsec_set_count_type() the number of one type ("ban"), and
 *	crowdsec_set_memory() the bytes the set allocated.
 *
 *	crowdsec_set_describe() writes a decision the way logs, the decisions
 *	table, policy-test and reports show it: "ban crowdsecurity/postfix-spam
 *	(origin crowdsec, 3h59m left)" ("-" for an empty scenario or origin;
 *	the time left as 3h59m, 12m05s or 40s).
 * RETURNS
 *	crowdsec_set_key(): 0; -EINVAL for a malformed value; -EOPNOTSUPP
 *	for a scope other than Ip and Range (username, country, AS, ...).
 *	crowdsec_set_add(): 0, -EINVAL (family/prefix out of range), -ENOMEM.
 *	crowdsec_set_delete(): 1 when removed, 0 when the id was unknown.
 * OWNERSHIP
 *	The pointers crowdsec_set_lookup() returns, and their strings, belong
 *	to the set: valid until the next add, delete, expire or free.
 * SEE ALSO
 *	crowdsec_lapi.h (reading LAPI answers into decisions), crowdsec.h,
 *	tests/check_crowdsec_set.c, tests/bench/crowdsec/
 */
#ifndef MX_CROWDSEC_SET_H
#define MX_CROWDSEC_SET_H

#include <stddef.h>
#include <stdint.h>

/* Longest type, origin and scenario kept (longer ones are cut). */
#define CROWDSEC_TYPE_MAX	32
#define CROWDSEC_ORIGIN_MAX	64
#define CROWDSEC_SCENARIO_MAX	256

struct crowdsec_decision {
	int64_t id;			/* the LAPI's decision id */
	int family;			/* AF_INET or AF_INET6 */
	unsigned prefix;		/* 0..32 or 0..128 */
	unsigned char addr[16];		/* network, host bits cleared; IPv4 in the first 4 */
	const char *type;		/* "ban", "captcha", ... */
	const char *origin;		/* "crowdsec", "cscli", "CAPI", "mxledger", ... */
	const char *scenario;		/* "crowdsecurity/postfix-spam" */
	int64_t expires_usec;		/* CLOCK_REALTIME, microseconds */
};

struct crowdsec_set;

struct crowdsec_set *crowdsec_set_new(void);
struct crowdsec_set *crowdsec_set_free(struct crowdsec_set *s);
int crowdsec_set_key(const char *scope, const char *value, struct crowdsec_decision *d);
int crowdsec_set_add(struct crowdsec_set *s, const struct crowdsec_decision *d);
int crowdsec_set_delete(struct crowdsec_set *s, int64_t id);
size_t crowdsec_set_lookup(const struct crowdsec_set *s, int family, const unsigned char *addr,
    int64_t now_usec, const struct crowdsec_decision **ret, size_t max);
size_t crowdsec_set_expire(struct crowdsec_set *s, int64_t now_usec);
size_t crowdsec_set_count(const struct crowdsec_set *s);
size_t crowdsec_set_count_type(const struct crowdsec_set *s, const char *type);
size_t crowdsec_set_memory(const struct crowdsec_set *s);
void crowdsec_set_describe(const char *type, const char *scenario, const char *origin,
    int64_t left_usec, char *buf, size_t size);

#endif
