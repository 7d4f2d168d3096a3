/*
 * NAME
 *	rules - the policy rule language: parse, count, decide
 * SYNOPSIS
 *	#include "rules.h"
 *
 *	struct mx_rules *rules_new(void);
 *	struct mx_rules *rules_free(struct mx_rules *rules);
 *	int rules_parse(struct config_diag *d, const struct config_stmt *rule_stmt,
 *	    struct mx_rules *rules);
 *	int rules_set_mode(struct mx_rules *rules, enum rules_mode mode);
 *	int rules_set_net_prefix(struct mx_rules *rules, unsigned v4_len, unsigned v6_len);
 *	int rules_set_fail_action(struct mx_rules *rules, const char *action);
 *	int rules_bind(struct mx_rules *rules, struct counters *c, struct authfail *af);
 *	int rules_check(struct mx_rules *rules, const struct policy_request *req,
 *	    int64_t now_usec, struct rules_decision *ret);
 *	int rules_observe_event(struct mx_rules *rules, const struct mx_event *ev,
 *	    int64_t now_usec);
 *	void rules_print(const struct mx_rules *rules, FILE *f);
 *	size_t rules_count(const struct mx_rules *rules);
 * DESCRIPTION
 *	Rules are `rule NAME { ... }` blocks of mxledger.conf(5), tried in
 *	the order they are written; the FIRST rule whose conditions all hold
 *	decides the answer (first match wins), later rules are not looked at.
 *	No rule matching answers DUNNO ("no opinion": Postfix goes on with
 *	its other restrictions).
 *
 *	  rule NAME {			NAME: letters, digits, "-", "_", "."; unique
 *		CONDITION ...		zero or more; all must hold
 *		action ACTION [TEXT]	exactly one
 *		mode warn|enforce	optional, default enforce
 *	  }
 *
 *	List conditions hold when the request's attribute is one of the
 *	values; `not KEYWORD values` holds when it is none of them. Writing
 *	the same list keyword twice in a rule extends its list.
 *
 *	  protocol_state STATE...   CONNECT EHLO HELO MAIL RCPT DATA
 *	                            END-OF-MESSAGE VRFY ETRN (any case);
 *	                            AUTH: Dovecot asking before a login
 *	                            (auth_policy.h: client_address is the
 *	                            client, sasl_username the login tried,
 *	                            protocol_name IMAP, POP3, SMTP, ...)
 *	  protocol_name NAME...     SMTP ESMTP
 *	  server_port PORT...       the listener (Postfix >= 3.2)
 *	  server_address CIDR...    the listener's address (Postfix >= 3.2)
 *	  policy_context WORD...    smtpd_policy_service_policy_context (3.1)
 *	  client_address CIDR...    192.0.2.0/24 2001:db8::/32 203.0.113.7
 *	  client_name DOMAIN...     verified reverse name
 *	  helo_name DOMAIN...
 *	  sasl_method NAME...
 *	  sasl_username USER...     exact, any case
 *	  sender ADDRESS...         exact, any case; <> is the null sender
 *	  sender_domain DOMAIN...   example.org; .example.org = its subdomains
 *	  recipient ADDRESS...
 *	  recipient_domain DOMAIN...
 *	  sasl yes|no               authenticated (sasl_username not empty)
 *	  stress yes|no             Postfix is under stress
 *	  crowdsec TYPE...          CrowdSec holds an active decision of one
 *	                            of these types (ban, captcha, ...; any =
 *	                            every type) for client_address, itself or
 *	                            a range holding it (crowdsec.h); `not
 *	                            crowdsec TYPE...`: none of them. Without a
 *	                            lookup (rules_set_crowdsec()) no address
 *	                            has a decision.
 *
 *	Counting conditions compare a counter with a number over a sliding
 *	window (30s, 1m, 15m, 1h, 1d, 7d; a bare number is seconds; at most
 *	30d):
 *
 *	  rate METRIC by KEY OP N per WINDOW
 *	  history EVENT by KEY OP N per WINDOW
 *	  distinct FIELD by KEY OP N per WINDOW
 *	  distinct FIELD in auth_failures by KEY OP N per WINDOW
 *
 *	  OP      >  >=  <  <=
 *	  KEY     client_address, client_net (the client's /24 or /64, see
 *	          rules_set_net_prefix()), sasl_username, sender,
 *	          sender_domain, recipient, recipient_domain
 *	  METRIC  (counted from the policy requests themselves, whether a
 *	          rule matches or not; the request being decided is counted
 *	          first, so "> 30" trips on the 31st)
 *	          requests    every request
 *	          connections CONNECT requests (needs the policy in
 *	                      smtpd_client_restrictions)
 *	          messages    mail transactions: once per `instance`, at the
 *	                      first request that carries it (MAIL, RCPT, DATA
 *	                      or END-OF-MESSAGE), not once per recipient
 *	          recipients  one per RCPT request; at END-OF-MESSAGE the
 *	                      part of recipient_count no RCPT request of that
 *	                      message showed (policy only at end of data)
 *	          bytes       `size` at END-OF-MESSAGE
 *	          messages, bytes and connections cannot be keyed by
 *	          recipient or recipient_domain (a message has many).
 *	  EVENT   (counted from the logs, rules_observe_event(); rebuilt from
 *	          the database at start-up)
 *	          auth_failures   failed logins of smtpd SASL and Dovecot
 *	                          (IMAP, POP3, ...), each attempt exactly once
 *	                          (authfail.h)
 *	          postscreen_violations  PREGREET, PIPELINING, BARE NEWLINE,
 *	                          NON-SMTP COMMAND, COMMAND ... LIMIT,
 *	                          DATA without RCPT
 *	          pregreet        PREGREET only
 *	          dnsbl           postscreen DNSBL rank lines
 *	          rejects         smtpd reject: lines (NOQUEUE or queued)
 *	          rate_limits     smtpd anvil "limit exceeded" warnings
 *	  FIELD   one of the KEY words: counts the distinct values of FIELD
 *	          seen with the key within the window (requests, or with
 *	          "in auth_failures" the failed logins; there only
 *	          client_address, client_net and sasl_username exist).
 *
 *	A counting condition whose key (or field) is empty in the request --
 *	an unauthenticated client has no sasl_username, the null sender no
 *	sender_domain -- does not hold, whatever OP says.
 *
 *	Actions are what Postfix's access(5) accepts from a policy server;
 *	the words may be written in any case, TEXT is one or more words or a
 *	"quoted string", sent as written (on one line):
 *
 *	  DUNNO | OK                     no text
 *	  DEFER TEXT | REJECT TEXT       TEXT optional
 *	  DEFER_IF_PERMIT TEXT | DEFER_IF_REJECT TEXT
 *	  4NN TEXT | 5NN TEXT            optional enhanced status, same class:
 *	                                 action 450 4.7.1 "Slow down"
 *	  HOLD TEXT | DISCARD TEXT | WARN TEXT | INFO TEXT
 *	  PREPEND HEADER: VALUE          a header line, required
 *
 *	  crowdsec-alert TYPE DURATION   not a condition: when the rule
 *	                                 decides (enforced, not a dry run),
 *	                                 the hit carries TYPE and DURATION
 *	                                 so the caller pushes the finding to
 *	                                 CrowdSec as an alert with a TYPE
 *	                                 decision on client_address
 *
 *	An allowlist is a rule whose action is DUNNO placed before the
 *	limits (first match wins, so the limits are never reached); use OK
 *	only to skip Postfix's own later restrictions too.
 *
 *	`mode warn` makes a rule a dry run: when it matches, the decision
 *	records it (hits[], dry_run = 1) so the caller can log and store what
 *	it would have done, and evaluation goes on with the next rules as if
 *	it had not matched. rules_set_mode(RULES_MODE_WARN) makes every rule
 *	a dry run: the first enforcing rule that matches is recorded as a
 *	dry-run hit, evaluation stops there, and the answer is DUNNO.
 *
 *	Example (mxledger.conf):
 *
 *	  rule office-allow {
 *		client_address 192.0.2.0/24 2001:db8:1::/48
 *		action DUNNO
 *	  }
 *	  rule auth-bruteforce {
 *		protocol_state CONNECT EHLO RCPT
 *		history auth_failures by client_address >= 5 per 15m
 *		action 421 4.7.0 "Too many failed logins, try again later"
 *	  }
 *	  rule auth-bruteforce-net {
 *		history auth_failures by client_net >= 20 per 1h
 *		action DEFER "Too many failed logins from your network"
 *	  }
 *	  rule stolen-account {
 *		sasl yes
 *		protocol_state RCPT
 *		distinct client_address in auth_failures by sasl_username > 20 per 1h
 *		action HOLD "account under attack: held for review"
 *	  }
 *	  rule shared-account {
 *		sasl yes
 *		distinct client_address by sasl_username > 10 per 1h
 *		action HOLD "account used from too many addresses"
 *	  }
 *	  rule submission-burst {
 *		server_port 587 465
 *		sasl yes
 *		protocol_state RCPT
 *		rate messages by sasl_username > 30 per 1m
 *		action 450 4.7.1 "Too many messages, slow down"
 *	  }
 *	  rule bulk-sender-domain {
 *		protocol_state RCPT
 *		not sender_domain example.org .example.org
 *		rate recipients by sender_domain > 500 per 1d
 *		action DEFER_IF_PERMIT "Daily recipient limit reached"
 *	  }
 *	  rule big-volume-trial {
 *		protocol_state END-OF-MESSAGE
 *		rate bytes by client_address > 100000000 per 1h
 *		action REJECT "Too much data"
 *		mode warn
 *	  }
 *	  rule tag-noisy {
 *		protocol_state END-OF-MESSAGE
 *		history postscreen_violations by client_address > 0 per 1d
 *		action PREPEND "X-Mxledger-Note: client failed postscreen tests today"
 *	  }
 *
 *	rules_parse() reads one `rule` statement (the caller dispatches on the
 *	keyword) and appends the rule. Every problem is reported with
 *	config_tree_error() as "file:line: rule NAME: message"; a rule with
 *	errors is not added. rules_set_*() are for settings outside rule
 *	blocks, before rules_bind(). rules_bind() registers the counter
 *	classes the rules need in c (classes are named by what they count,
 *	so binding a reloaded rule set to the same counters keeps the counts
 *	of unchanged conditions) and remembers c and af (borrowed, must
 *	outlive the rules; af may be NULL: every auth failure line then
 *	counts its attempts, with no correlation).
 *
 *	rules_set_crowdsec() sets who answers `crowdsec` conditions (NULL:
 *	nobody, they never hold); rules_use_crowdsec() says whether any
 *	rule has such a condition (1) or a crowdsec-alert (2), or both (3).
 *
 *	rules_check() first counts the request in every counter the rules
 *	use, then evaluates the rules, and fills *ret. rules_observe_event()
 *	counts one log event in the history counters, at the event's time
 *	(now_usec when it has none or it lies in the future).
 *
 *	rules_print() writes the rules back in a normalised form (one
 *	condition per line, lists merged, actions upper-cased): what
 *	`mxledger check-config` shows.
 * RETURNS
 *	rules_parse(): 0 (errors are counted in d->n_errors), -ENOMEM.
 *	rules_bind(): 0, or what counters_class() returned (-E2BIG: too many
 *	counting conditions; -EEXIST cannot happen with names from here).
 *	rules_check(): 0 with *ret filled; on an internal error (-ENOMEM,
 *	-EINVAL when not bound) *ret holds the fail action (DUNNO by default,
 *	see rules_set_fail_action()) and the -errno is returned for the
 *	caller to log. rules_observe_event(): 0 or -errno.
 *	rules_set_*(): 0, -EINVAL for a bad value; rules_set_net_prefix():
 *	-EBUSY after rules_bind() (the keys are fixed then).
 * OWNERSHIP
 *	The strings in a decision (rule names, actions, condition texts)
 *	belong to the rules: valid until rules_free(). rules_check() keeps
 *	per-request scratch in the rules: one caller at a time.
 * SEE ALSO
 *	policy_proto.h, counters.h, authfail.h, config_tree.h,
 *	mxledger.conf(5), tests/check_rules.c
 */
#ifndef MX_RULES_H
#define MX_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "authfail.h"
#include "config_tree.h"
#include "counters.h"
#include "event.h"
#include "policy_proto.h"

/* Matches reported per decision: dry-run hits before the deciding one. */
#define RULES_HITS_MAX		4
/* Counting conditions per rule (each is reported with its value). */
#define RULES_COUNT_MAX		8
/* Key text kept in a report; longer keys are cut (the counter uses the whole). */
#define RULES_KEY_SHOW		128
/* Longest rule name. */
#define RULES_NAME_MAX		64
/* Longest counting window: 30 days. */
#define RULES_WINDOW_MAX	(30 * 86400 * INT64_C(1000000))

enum rules_mode {
	RULES_MODE_ENFORCE = 0,
	RULES_MODE_WARN,
};

/* CrowdSec decisions kept per lookup, and the text of one in a report. */
#define RULES_CS_MAX		4
#define RULES_CS_SHOW		192

struct rules_value {
	const char *condition;	/* normalised condition text: "rate messages by ... per 1m" */
	char key[RULES_KEY_SHOW];	/* the key it was counted for: "192.0.2.7" */
	uint64_t value;		/* the counter (distinct: number of values) */
	uint64_t limit;		/* N of the condition */
	int crowdsec;		/* a `crowdsec` condition: value = decisions of its types,
				 * limit 1, the decision in the hit's crowdsec text */
};

struct rules_hit {
	const char *rule;	/* rule name */
	const char *action;	/* the rule's action, normalised */
	int dry_run;		/* 1: reported only (mode warn, rule or global) */
	unsigned n_values;
	struct rules_value values[RULES_COUNT_MAX + 1];
	/* the CrowdSec decision a `crowdsec` condition matched: "ban
	 * crowdsecurity/postfix-spam (origin crowdsec, 3h59m left)"; "" if none */
	char crowdsec[RULES_CS_SHOW];
	/* crowdsec-alert of the rule: push the finding (crowdsec.h); NULL if none */
	const char *alert_type;
	int64_t alert_usec;	/* the decision's duration */
};

/* One CrowdSec decision covering an address (rules_set_crowdsec()). */
struct rules_cs_decision {
	char type[32];		/* "ban", "captcha", ... (lower case) */
	char scenario[96];
	char origin[32];
	int64_t expires_usec;	/* CLOCK_REALTIME */
};

struct rules_cs_match {
	size_t n;		/* decisions covering the address (may exceed RULES_CS_MAX) */
	struct rules_cs_decision d[RULES_CS_MAX];	/* strongest first */
};

/*
 * Who answers `crowdsec` conditions: fills *ret with the active decisions
 * covering the address (family AF_INET: 4 bytes, AF_INET6: 16); returns 0,
 * or -errno (the conditions then see no decision: fail open).
 */
typedef int (*rules_cs_lookup_fn)(void *ud, int family, const unsigned char *addr,
    int64_t now_usec, struct rules_cs_match *ret);

struct rules_decision {
	const char *action;	/* the answer to send: the deciding rule's action, or DUNNO */
	const char *rule;	/* the rule that decided; NULL when none did (DUNNO) */
	int failed;		/* 1: internal error, action is the fail action */
	unsigned n_hits;	/* dry-run hits in rule order, then the deciding one */
	unsigned n_hits_lost;	/* dry-run hits beyond RULES_HITS_MAX (not reported) */
	struct rules_hit hits[RULES_HITS_MAX];
};

struct mx_rules;

struct mx_rules *rules_new(void);
struct mx_rules *rules_free(struct mx_rules *rules);
int rules_parse(struct config_diag *d, const struct config_stmt *rule_stmt,
    struct mx_rules *rules);
int rules_set_mode(struct mx_rules *rules, enum rules_mode mode);
int rules_set_net_prefix(struct mx_rules *rules, unsigned v4_len, unsigned v6_len);
int rules_set_fail_action(struct mx_rules *rules, const char *action);
int rules_bind(struct mx_rules *rules, struct counters *c, struct authfail *af);
void rules_set_crowdsec(struct mx_rules *rules, rules_cs_lookup_fn lookup, void *ud);
int rules_use_crowdsec(const struct mx_rules *rules);
int rules_check(struct mx_rules *rules, const struct policy_request *req, int64_t now_usec,
    struct rules_decision *ret);
int rules_observe_event(struct mx_rules *rules, const struct mx_event *ev, int64_t now_usec);
void rules_print(const struct mx_rules *rules, FILE *f);
size_t rules_count(const struct mx_rules *rules);
/* Validate and normalise an action ("defer  x" -> "DEFER x"); 0 or -EINVAL with *ret_why. */
int rules_action_normalise(const char *const *words, size_t n, char **ret_action,
    const char **ret_why);

#endif
