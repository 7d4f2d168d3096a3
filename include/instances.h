/*
 * NAME
 *	instances - the mail transactions in progress, by Postfix `instance`
 * SYNOPSIS
 *	#include "instances.h"
 *
 *	struct instances *instances_new(size_t entries, int64_t life_usec);
 *	struct instances *instances_free(struct instances *t);
 *	void instances_prefetch(const struct instances *t, uint64_t hash);
 *	uint64_t instances_add(struct instances *t, uint64_t hash, uint64_t n,
 *	    uint64_t n_first, int64_t now_usec);
 *	size_t instances_bytes(const struct instances *t);
 *	uint64_t instances_displaced(const struct instances *t);
 * DESCRIPTION
 *	Postfix's smtpd(8) gives every mail transaction an `instance` and
 *	sends it with each policy request of that transaction (MAIL, every
 *	RCPT, DATA, END-OF-MESSAGE). The rules count a message at its first
 *	request and need the RCPT requests already seen at END-OF-MESSAGE.
 *	This is the memory for that: a number per instance, kept while the
 *	transaction may still be going on.
 *
 *	An instance is known by a 64-bit keyed hash of its text (the caller
 *	hashes; counters_instance_hash() uses the counters' SipHash key).
 *	The table is a fixed array of `entries` (a power of two, at least 4)
 *	16-byte entries in sets of 4: hash, count, last use in seconds. It
 *	is allocated once and never grows, so a busy server's stream of new
 *	instances (one per message) costs no allocation, no hash-table
 *	growth and no eviction from the general counters: they used to be
 *	keys there, where a message rate of 100 000/s at the benchmark load
 *	turned over a million keys a second.
 *
 *	instances_add() adds n to the hash's count, plus n_first when that
 *	count is 0 (a new instance), and returns the count from before (0 for
 *	a new instance), like counters_add_first(). An entry not used for life_usec is free again. A new
 *	instance takes a free entry of its set, else the one used least
 *	recently; when that one was still within its life, it is counted by
 *	instances_displaced(). Only the open transactions need their entry,
 *	and a transaction uses its entry at every request: it is displaced
 *	only if four newer transactions land in its set while it is open, so
 *	at 1000 new messages per second and 10 s per transaction, with the
 *	default 262 144 entries, about one transaction in 50 000 would have
 *	its message counted twice. Counts saturate at 2^32 - 1.
 *
 *	Times are passed in (UTC microseconds); a clock stepped back by less
 *	than life_usec is not taken as expiry.
 * RETURNS
 *	instances_new(): NULL on bad arguments (errno EINVAL) or without
 *	memory. instances_bytes(): memory held, as allocated.
 * SEE ALSO
 *	counters.h (counters_instance_add()), rules_eval.c
 */
#ifndef MXLEDGER_INSTANCES_H
#define MXLEDGER_INSTANCES_H

#include <stddef.h>
#include <stdint.h>

#define INSTANCES_WAYS	4

struct instances;

struct instances *instances_new(size_t entries, int64_t life_usec);
struct instances *instances_free(struct instances *t);
void instances_prefetch(const struct instances *t, uint64_t hash);
uint64_t instances_add(struct instances *t, uint64_t hash, uint64_t n, uint64_t n_first,
    int64_t now_usec);
size_t instances_bytes(const struct instances *t);
uint64_t instances_displaced(const struct instances *t);

#endif
