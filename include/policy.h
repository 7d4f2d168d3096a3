/*
 * NAME
 *	policy - the policy service's state: counters, auth-failure correlation and rules
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	int policy_new(const struct mx_config *cfg, struct policy **ret);
 *	struct policy *policy_free(struct policy *p);
 *	int policy_decide(struct policy *p, const struct policy_request *req,
 *	    int64_t now_usec, struct rules_decision *ret);
 *	int policy_format_action(const struct rules_decision *d, char *buf, size_t size);
 *	int policy_observe(struct policy *p, const struct mx_event *ev, int64_t now_usec);
 *	int policy_observe_packed(struct policy *p, const struct policy_event *pe,
 *	    int64_t now_usec);
 *	int policy_rebuild(struct policy *p, struct store *st, int64_t now_usec);
 *	int policy_set_rules(struct policy *p, struct mx_rules *rules);
 *	void policy_set_recorder(struct policy *p, policy_record_fn fn, void *ud);
 *	void policy_set_crowdsec(struct policy *p, rules_cs_lookup_fn lookup, void *ud);
 *	int policy_event_wanted(enum mx_event_kind kind);
 *	void policy_event_pack(struct policy_event *pe, const struct mx_event *ev);
 *	void policy_get_stats(const struct policy *p, struct policy_stats *ret);
 * DESCRIPTION
 *	One struct policy owns what a decision needs: the sliding-window
 *	counters (counters.h, capped at the configuration's counters-memory),
 *	the auth-failure correlation (authfail.h) and the rule set (rules.h)
 *	bound to both. Whoever answers requests -- the Postfix policy
 *	delegation server, the Dovecot auth-policy endpoint, policy-test,
 *	policy-replay -- holds one and calls:
 *
 *	policy_new() builds the counters, the correlation tables and a fresh
 *	rule set from cfg (config_rules_new(): the `rule` statements, with the
 *	policy block's mode, fail-action and network-prefix). cfg is only
 *	read: it may be freed afterwards.
 *
 *	policy_decide() counts the request and lets the rules decide (first
 *	match wins, rules.h), at now_usec (injected: tests and replays pass
 *	their own clock). Every non-DUNNO answer of a rule, and every dry-run
 *	hit whose action is not DUNNO (mode warn, per rule or global), and
 *	every internal error is handed to the recorder (if one is set) as one
 *	struct policy_record each, in the order the rules were tried. The
 *	recorder runs synchronously inside policy_decide(): it must copy what
 *	it keeps and must not block (mxledger run queues the record for the
 *	main thread, which logs it and stores it in the decisions table).
 *
 *	policy_set_crowdsec() sets who answers the rules' `crowdsec`
 *	conditions (crowdsec_lookup() of a running client, crowdsec.h), for
 *	this rule set and the ones policy_set_rules() brings later. Without
 *	it those conditions never hold.
 *
 *	policy_format_action() writes the action text to send (without
 *	"action="), cut at POLICY_ACTION_MAX bytes.
 *
 *	policy_observe() counts one log event in the history counters
 *	(auth failures through the correlation, postscreen verdicts, rejects,
 *	rate limits), at the event's own time (now_usec when it has none or it
 *	lies in the future). Events of kinds that policy_event_wanted() says
 *	no to are ignored cheaply. policy_event_pack() copies the few fields
 *	the rules and the correlation read into a small fixed-size struct
 *	(about 1 KiB, never the event's 130 KiB arena) so an event can cross a
 *	thread through a queue; policy_observe_packed() counts such a copy.
 *	Strings longer than their field are cut (counter keys are cut at
 *	COUNTERS_KEY_MAX anyway).
 *
 *	policy_rebuild() replays the events of the last history-window stored
 *	in st (history.h), oldest first, through policy_observe(): after a
 *	restart an attacker is remembered. Call it before answering. It does
 *	not reset anything: call it on a new policy only.
 *
 *	policy_set_rules() replaces the rule set (built with
 *	config_rules_new(), not bound) by rules, binding them to the same
 *	counters and correlation tables: a condition that did not change
 *	(same counter class: source, what, key, window) keeps its counts, a
 *	new one starts empty. On failure (-E2BIG: too many counter classes
 *	accumulated over reloads) nothing changes and rules is freed: build
 *	a new policy and rebuild it from the history instead.
 * RETURNS
 *	policy_new(): 0, -ENOMEM, -EINVAL (the configuration's rules do not
 *	parse: cannot happen for a configuration config_load() accepted).
 *	policy_decide(): 0 with *ret filled; on an internal error -errno, and
 *	*ret holds the fail-action (ret->failed = 1): answer it (fail open
 *	with DUNNO by default, fail closed with `fail-action DEFER ...`).
 *	policy_format_action(): the length written, -ENOBUFS if size is 0.
 *	policy_observe*(): 0 or -errno (counted in the stats).
 *	policy_rebuild(): the number of events replayed (>= 0) or -errno
 *	(a database error).
 *	policy_set_rules(): 0 or -errno (see above).
 *	policy_event_wanted(): 1 for kinds the history counters may use.
 * OWNERSHIP
 *	policy_free() frees everything and returns NULL. The strings of a
 *	decision belong to the rules: valid until the next policy_set_rules()
 *	or policy_free(). A policy is not thread-safe: one thread at a time
 *	(in mxledger run, the policy thread).
 * SEE ALSO
 *	rules.h, counters.h, authfail.h, history.h, config.h (struct
 *	mx_policy_conf), mxledger.conf(5), tests/check_policy.c
 */
#ifndef MX_POLICY_H
#define MX_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "policy_proto.h"
#include "rules.h"
#include "store.h"

/* Field sizes of the copies below: an RFC 5321 path is at most 256 bytes. */
#define POLICY_ADDR_MAX		64	/* an IPv6 address with zone and v4 tail fits */
#define POLICY_TEXT_MAX		257
#define POLICY_WORD_MAX		64
/*
 * The counters of one hit as JSON: RULES_COUNT_MAX conditions of at most
 * ~200 bytes of condition text, a key of RULES_KEY_SHOW (escaped) and two
 * numbers each.
 */
#define POLICY_COUNTERS_JSON_MAX	((RULES_COUNT_MAX + 1) * 640)

/* The part of a log event the history counters read (rules.h, authfail.h). */
struct policy_event {
	enum mx_event_kind kind;
	int64_t ts_usec;		/* MX_TS_UNKNOWN when the line had no time */
	int attempts;
	char daemon[POLICY_WORD_MAX];	/* "" = unset */
	char client_ip[POLICY_ADDR_MAX];
	char user[POLICY_TEXT_MAX];
	char sender[POLICY_TEXT_MAX];
	char recipient[POLICY_TEXT_MAX];
	char session[POLICY_WORD_MAX];
};

/* One decision worth keeping: a row of the decisions table. Strings are "" when absent. */
struct policy_record {
	int64_t ts_usec;		/* when it was decided (the now_usec given) */
	char rule[RULES_NAME_MAX + 1];	/* "" for an internal error */
	char action[POLICY_ACTION_MAX + 1];	/* what the rule says (dry run: would say) */
	int dry_run;			/* 1: not answered, only recorded (mode warn) */
	int error;			/* 0, or the -errno that made the answer the fail-action */
	char request[POLICY_WORD_MAX];	/* "smtpd_access_policy", or the caller's word */
	char protocol_state[POLICY_WORD_MAX];
	char client_address[POLICY_ADDR_MAX];
	char client_name[POLICY_TEXT_MAX];
	char helo_name[POLICY_TEXT_MAX];
	char sasl_username[POLICY_TEXT_MAX];
	char sender[POLICY_TEXT_MAX];
	char recipient[POLICY_TEXT_MAX];
	char instance[POLICY_WORD_MAX];
	char queue_id[POLICY_WORD_MAX];
	char policy_context[POLICY_WORD_MAX];
	unsigned server_port;		/* 0 when not sent */
	/* [{"condition":"...","key":"...","value":N,"limit":N}, ...] */
	char counters[POLICY_COUNTERS_JSON_MAX];
};

struct policy_stats {
	uint64_t decisions;		/* policy_decide() calls */
	uint64_t matched;		/* answered by a rule (not the default DUNNO) */
	uint64_t dry_run_hits;
	uint64_t errors;		/* internal errors answered with the fail-action */
	uint64_t observed;		/* log events counted */
	uint64_t observe_errors;
	uint64_t records;		/* handed to the recorder */
};

typedef void (*policy_record_fn)(void *ud, const struct policy_record *rec);

struct policy;

int policy_new(const struct mx_config *cfg, struct policy **ret);
struct policy *policy_free(struct policy *p);
int policy_decide(struct policy *p, const struct policy_request *req, int64_t now_usec,
    struct rules_decision *ret);
int policy_format_action(const struct rules_decision *d, char *buf, size_t size);
int policy_observe(struct policy *p, const struct mx_event *ev, int64_t now_usec);
int policy_observe_packed(struct policy *p, const struct policy_event *pe, int64_t now_usec);
int policy_rebuild(struct policy *p, struct store *st, int64_t now_usec);
int policy_set_rules(struct policy *p, struct mx_rules *rules);
void policy_set_recorder(struct policy *p, policy_record_fn fn, void *ud);
void policy_set_crowdsec(struct policy *p, rules_cs_lookup_fn lookup, void *ud);
int policy_event_wanted(enum mx_event_kind kind);
void policy_event_pack(struct policy_event *pe, const struct mx_event *ev);
void policy_get_stats(const struct policy *p, struct policy_stats *ret);
/* The counters' own statistics (keys, bytes, evictions) for STATUS= and metrics. */
void policy_get_counters_stats(const struct policy *p, struct counters_stats *ret);
/* The history window the policy was built with (policy_rebuild() replays that much). */
int64_t policy_history_window(const struct policy *p);
/* Write the counter values of a hit as JSON into buf (see struct policy_record). */
int policy_hit_json(const struct rules_hit *hit, char *buf, size_t size);

#endif
