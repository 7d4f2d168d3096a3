/*
 * NAME
 *	history - the policy's side of the database: stored events back, decisions in
 * SYNOPSIS
 *	#include "history.h"
 *
 *	int history_replay(struct store *st, int64_t since_usec, int64_t until_usec,
 *	    uint64_t kinds, history_event_fn fn, void *ud);
 *	int history_add_decision(struct store *st, const struct policy_record *rec);
 *	int history_store_decisions(struct store *st,
 *	    const struct policy_record *const *recs, size_t n);
 *	int history_prune_decisions(struct store *st, int64_t before_usec,
 *	    int64_t *ret_deleted);
 *	uint64_t history_kind_bit(enum mx_event_kind kind);
 * DESCRIPTION
 *	history_replay() reads the stored events with since_usec <= ts <
 *	until_usec whose kind is in the bit mask kinds (history_kind_bit();
 *	0 = every kind), oldest first (ties in insertion order), and hands
 *	each to fn() as a struct mx_event with every stored field set: the
 *	same event the live pipeline produced, minus nothing the rules read.
 *	It is how counters are rebuilt at start-up (policy_rebuild()) and how
 *	a candidate rule set is replayed over the past (policy-replay). Rows
 *	without a time are skipped (they cannot be placed in a window). fn()
 *	returning < 0 stops the replay with that value.
 *
 *	history_add_decision() inserts one row into the decisions table
 *	(sql/migrations/0002_decisions.sql) inside the caller's transaction.
 *	history_store_decisions() writes n records in a transaction of its
 *	own (BEGIN IMMEDIATE ... COMMIT; rolled back on any error, so the
 *	caller can keep the records and try again).
 *
 *	history_prune_decisions() deletes the decisions older than
 *	before_usec in a transaction of its own (retention, like
 *	store_prune() for the events).
 * RETURNS
 *	history_replay(): the number of events handed to fn() (>= 0), or
 *	-errno (store_errno()). The others: 0 or -errno.
 * OWNERSHIP
 *	The event given to fn() is valid only during the call (one event is
 *	reused, allocated once per replay). Records are only read.
 * SEE ALSO
 *	policy.h, store.h, sql/schema.sql, tests/check_policy.c
 */
#ifndef MX_HISTORY_H
#define MX_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "policy.h"
#include "store.h"

typedef int (*history_event_fn)(void *ud, const struct mx_event *ev);

int history_replay(struct store *st, int64_t since_usec, int64_t until_usec, uint64_t kinds,
    history_event_fn fn, void *ud);
int history_add_decision(struct store *st, const struct policy_record *rec);
int history_store_decisions(struct store *st, const struct policy_record *const *recs, size_t n);
int history_prune_decisions(struct store *st, int64_t before_usec, int64_t *ret_deleted);

static inline uint64_t
history_kind_bit(enum mx_event_kind kind)
{
	return (unsigned)kind < 64 ? UINT64_C(1) << kind : 0;
}

#endif
