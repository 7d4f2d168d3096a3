/*
 * NAME
 *	rules_impl - what rules.c (reading) and rules_eval.c (deciding) share
 * DESCRIPTION
 *	Private to the rules module (rules.c reads, rules_values.c checks
 *	single values, rules_eval.c decides): the parsed form of a rule set. A rule is
 *	lists (one per list keyword, a positive and a `not` side), two
 *	yes/no conditions and counting conditions; every counting condition
 *	points at a spec, the deduplicated description of one counter class
 *	(same source, metric, key and window = same counters).
 * SEE ALSO
 *	rules.h (the language and the contract)
 */
#ifndef MX_RULES_IMPL_H
#define MX_RULES_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

enum rules_match {
	RULES_MATCH_CI,			/* exact, any case */
	RULES_MATCH_EXACT,
	RULES_MATCH_ADDRESS,		/* exact, any case, "<>" = empty */
	RULES_MATCH_DOMAIN,		/* any case, ".d" = subdomains of d */
	RULES_MATCH_CIDR,
	RULES_MATCH_PORT,
};

enum rules_list {
	RULES_LIST_PROTOCOL_STATE,
	RULES_LIST_PROTOCOL_NAME,
	RULES_LIST_SERVER_PORT,
	RULES_LIST_SERVER_ADDRESS,
	RULES_LIST_POLICY_CONTEXT,
	RULES_LIST_CLIENT_ADDRESS,
	RULES_LIST_CLIENT_NAME,
	RULES_LIST_HELO_NAME,
	RULES_LIST_SASL_METHOD,
	RULES_LIST_SASL_USERNAME,
	RULES_LIST_SENDER,
	RULES_LIST_SENDER_DOMAIN,
	RULES_LIST_RECIPIENT,
	RULES_LIST_RECIPIENT_DOMAIN,
	RULES_LIST__MAX
};

struct rules_listdef {
	const char *keyword;
	enum rules_match match;
	size_t offset;			/* of the attribute in struct policy_request */
	int domain_of;			/* match the domain part of the address */
};

extern const struct rules_listdef rules_listdefs[RULES_LIST__MAX];

struct rules_cidr {
	int family;			/* AF_INET, AF_INET6 */
	unsigned len;
	unsigned char a[16];		/* masked to len */
};

struct rules_vlist {
	char **s;			/* normalised text of each value */
	struct rules_cidr *cidr;	/* RULES_MATCH_CIDR */
	unsigned *port;			/* RULES_MATCH_PORT */
	size_t n;
};

/* What a counter is keyed by, and distinct values are taken from. */
enum rules_key {
	RULES_KEY_CLIENT_ADDRESS,
	RULES_KEY_CLIENT_NET,
	RULES_KEY_SASL_USERNAME,
	RULES_KEY_SENDER,
	RULES_KEY_SENDER_DOMAIN,
	RULES_KEY_RECIPIENT,
	RULES_KEY_RECIPIENT_DOMAIN,
	RULES_KEY__MAX
};

enum rules_source {
	RULES_SRC_RATE,			/* live, from requests */
	RULES_SRC_HISTORY,		/* from log events */
	RULES_SRC_DISTINCT,		/* live distinct values */
	RULES_SRC_DISTINCT_AUTH,	/* distinct values of auth failures */
};

enum rules_metric {
	RULES_METRIC_REQUESTS,
	RULES_METRIC_CONNECTIONS,
	RULES_METRIC_MESSAGES,
	RULES_METRIC_RECIPIENTS,
	RULES_METRIC_BYTES,
	RULES_METRIC__MAX
};

enum rules_history {
	RULES_HIST_AUTH_FAILURES,
	RULES_HIST_POSTSCREEN_VIOLATIONS,
	RULES_HIST_PREGREET,
	RULES_HIST_DNSBL,
	RULES_HIST_REJECTS,
	RULES_HIST_RATE_LIMITS,
	RULES_HIST__MAX
};

enum rules_op {
	RULES_OP_GT,
	RULES_OP_GE,
	RULES_OP_LT,
	RULES_OP_LE,
};

struct rules_spec {
	enum rules_source source;
	int what;			/* metric, history event or distinct field (a key) */
	enum rules_key key;
	int64_t window;			/* usec */
	unsigned size;			/* distinct: set size (largest limit + 1) */
	int cls;			/* counters class after rules_bind(), -1 before */
	/* per request scratch (rules_check) */
	int have;			/* value below is known for this request */
	uint64_t value;
	struct counters_ref ref;	/* this request's counter, when it has the key */
};

struct rules_cond {
	size_t spec;			/* index in rules->specs */
	enum rules_op op;
	uint64_t limit;
	char *text;			/* normalised, for reports and rules_print() */
};

struct rules_rule {
	char *name;
	const char *file;		/* for messages; owned by the rules (names[]) */
	unsigned line;
	struct rules_vlist lists[RULES_LIST__MAX][2];	/* [0] one of, [1] none of */
	int sasl;			/* -1 any, 0 not authenticated, 1 authenticated */
	int stress;			/* -1 any, 0, 1 */
	struct rules_cond conds[RULES_COUNT_MAX];
	size_t n_conds;
	char *action;
	int warn;			/* mode warn */
	struct rules_vlist cs[2];	/* crowdsec TYPE... / not crowdsec TYPE... (lower case) */
	char *cs_text;			/* "crowdsec ban captcha", for reports */
	char *alert_type;		/* crowdsec-alert TYPE DURATION; NULL if none */
	int64_t alert_usec;
};

struct mx_rules {
	struct rules_rule *rules;
	size_t n_rules;
	struct rules_spec *specs;
	size_t n_specs;
	char **files;			/* copies of file names cited by rules */
	size_t n_files;
	enum rules_mode mode;
	char *fail_action;
	unsigned v4_prefix, v6_prefix;
	unsigned key_mask;		/* (1 << RULES_KEY_X) for every key or field used */
	struct counters *counters;	/* borrowed, after rules_bind() */
	struct authfail *authfail;	/* borrowed, may be NULL */
	int bound;
	int need_instance;		/* a rate of messages or recipients: counters_instance_add() */
	rules_cs_lookup_fn cs_lookup;	/* rules_set_crowdsec(); NULL = no decisions */
	void *cs_ud;
	int cs_have;			/* per request scratch: cs below is known */
	struct rules_cs_match cs;
};

/* rules.c */
extern const char *const rules_key_names[RULES_KEY__MAX];
extern const char *const rules_metric_names[RULES_METRIC__MAX];
extern const char *const rules_history_names[RULES_HIST__MAX];
/* rules_values.c */
int rules_cidr_parse(const char *s, struct rules_cidr *ret);
int rules_cidr_match(const struct rules_cidr *net, int family, const unsigned char *a);
int rules_window_parse(const char *s, int64_t *ret);
void rules_window_text(int64_t usec, char *buf, size_t size);
int rules_number(const char *s, uint64_t *ret);

#endif
