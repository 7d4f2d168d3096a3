/*
 * NAME
 *	auth_policy - Dovecot's HTTP authentication policy server, from the same rules
 * SYNOPSIS
 *	#include "auth_policy.h"
 *
 *	int auth_policy_new(sd_event *e, const struct auth_policy_conf *conf,
 *	    struct policy *p, struct auth_policy **ret);
 *	struct auth_policy *auth_policy_free(struct auth_policy *ap);
 *	void auth_policy_set_policy(struct auth_policy *ap, struct policy *p);
 *	int auth_policy_local_port(const struct auth_policy *ap);
 *	void auth_policy_get_stats(const struct auth_policy *ap,
 *	    struct auth_policy_stats *ret);
 *	int auth_policy_handle(struct policy *p, const struct auth_policy_conf *conf,
 *	    const char *command, const char *body, size_t len, int64_t now_usec,
 *	    struct auth_policy_answer *ret);
 *	int auth_policy_status(const char *action, unsigned defer_delay,
 *	    char *msg, size_t size);
 * DESCRIPTION
 *	Dovecot (2.2.27 and later) asks an HTTP server before and after each
 *	authentication when auth_policy_server_url is set:
 *
 *	    POST URL?command=allow    before the password is checked, and
 *	                              again after a successful check
 *	    POST URL?command=report   when the authentication is over, with
 *	                              "success" and "policy_reject" added
 *
 *	with a JSON object of the auth_policy_request_attributes as body
 *	(Content-Type application/json; every attribute a string). Dovecot's
 *	default attributes are what this module reads:
 *
 *	    login       the user name tried        -> sasl_username
 *	    remote      the client's address       -> client_address
 *	    protocol    "imap", "pop3", "smtp" ... -> protocol_name, upper case
 *	    session_id  the login session          (reports: correlation)
 *	    local       the server's address, when configured -> server_address
 *
 *	pwhash, device_id, tls and unknown attributes are accepted and
 *	ignored. The answer is {"status":N,"msg":"..."}: 0 lets the
 *	authentication go on, a negative number fails it (before the
 *	password is even looked at, for the check before authentication), a
 *	positive number delays it by N seconds.
 *
 *	command=allow becomes a policy request with protocol_state AUTH
 *	(request "dovecot_auth_policy") decided by policy_decide(): the same
 *	rules, counters and history as Postfix's policy requests, first
 *	match wins. Rules meant only for Postfix name their protocol_state;
 *	rules meant for Dovecot say `protocol_state AUTH`. The deciding
 *	action maps to a status by auth_policy_status():
 *
 *	    REJECT, 5NN                          -1 (refused), msg = the text
 *	    DEFER, DEFER_IF_PERMIT, 4NN          conf->defer_delay seconds
 *	                                         when set, else -1 like REJECT
 *	    DUNNO, OK, anything else             0 (Dovecot goes on)
 *
 *	A dry-run (mode warn) decision and the fail-action DUNNO answer 0.
 *
 *	command=report with "success":false counts one failed login into
 *	the auth-failure history when conf->count_reports is set
 *	(policy_observe_packed(): an auth_lookup_failure of daemon
 *	AUTHFAIL_REPORT_DAEMON with that address, user and session, at the
 *	time of the report): failures over SMTP AUTH (Dovecot SASL) and
 *	IMAP/POP3 count against each other at once, before any log line is
 *	read. authfail.h takes a report for the auth process's log line of
 *	the same attempt, so each attempt still counts once with the login
 *	process's "auth failed, N attempts" line, smtpd's SASL warning and,
 *	with auth_verbose = yes, the auth line itself. A refused attempt
 *	("policy_reject":true) is a failed attempt too. Successes are not
 *	passed on. The answer to a report is {"status":0} (Dovecot ignores
 *	it).
 *
 *	HTTP: POST only (405 otherwise), body at most conf->body_max bytes
 *	(413), JSON that does not parse into an object, or a missing or
 *	unknown command -> 400, a missing or wrong API key -> 401 (when
 *	conf->api_key is set: Dovecot's auth_policy_server_api_header =
 *	"X-API-Key: KEY", or another header named by conf->api_header).
 *	Dovecot treats any of these like an unreachable server
 *	(auth_policy_reject_on_fail decides). Keep-alive connections, at
 *	most conf->max_connections, closed after conf->timeout_sec idle.
 *
 *	The server is libmicrohttpd without a thread of its own: its epoll
 *	descriptor is one io source on the caller's sd-event loop and its
 *	next timeout one time source, so every decision runs on the loop
 *	that owns the policy (struct policy is single-threaded): no lock,
 *	and Postfix's and Dovecot's requests see each other's counts at once.
 *	A decision is a few hash look-ups, so answering inline does not
 *	hold up the loop.
 *
 *	auth_policy_handle() is the whole request-to-answer step without
 *	HTTP, for tests and fuzzing; the server calls it.
 * RETURNS
 *	auth_policy_new(): 0, or -errno (-EINVAL: listen is not
 *	"host:port"; bind errors; -ENOMEM). auth_policy_local_port(): the
 *	bound TCP port (the one chosen for port 0), or -errno.
 *	auth_policy_handle(): 0 with *ret filled (ret->http is the HTTP
 *	status: 200, or 400 with ret->msg saying why), -ENOMEM.
 *	auth_policy_status(): the Dovecot status for an action.
 * OWNERSHIP
 *	p is borrowed: it must outlive the server (auth_policy_set_policy()
 *	replaces it, for a policy rebuilt on reload). conf is copied.
 *	auth_policy_free() closes every connection and returns NULL.
 * SEE ALSO
 *	policy.h, rules.h, authfail.h, mxledger.conf(5) (auth-policy),
 *	https://doc.dovecot.org/configuration_manual/authentication/auth_policy/,
 *	tests/check_auth_policy.c, tests/integration/dovecot_auth_policy.sh
 */
#ifndef MX_AUTH_POLICY_H
#define MX_AUTH_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "policy.h"

/*
 * Dovecot's default attributes make a body of about 250 bytes; a long
 * login name and extra attributes stay far below 8 KiB.
 */
#define AUTH_POLICY_BODY_DEFAULT	(8 * 1024)
#define AUTH_POLICY_BODY_MAX		(1024 * 1024)
/* Dovecot keeps at most 100 parallel connections per auth process. */
#define AUTH_POLICY_CONNECTIONS_DEFAULT	256
/* Dovecot's http client drops idle connections after 10 s; be a bit longer. */
#define AUTH_POLICY_TIMEOUT_DEFAULT	30
/* Dovecot's own longest auth delay (AUTH_REQUEST_MAX_DELAY_SECS) is 5 minutes. */
#define AUTH_POLICY_DELAY_MAX		300
/* Longest "msg" sent back; Dovecot logs it and may show it to the client. */
#define AUTH_POLICY_MSG_MAX		256
/* JSON nesting accepted (Dovecot nests "a/b" attribute names). */
#define AUTH_POLICY_JSON_DEPTH		8

struct auth_policy_conf {
	const char *listen;		/* "127.0.0.1:10080", "[::1]:10080"; port 0: any (tests) */
	const char *api_header;		/* header carrying the key; NULL = "X-API-Key" */
	const char *api_key;		/* NULL or "": no key required */
	unsigned defer_delay;		/* seconds; 0: DEFER/4xx refuse like REJECT */
	int count_reports;		/* 1: failed logins reported by Dovecot are counted */
	unsigned max_connections;	/* 0 = AUTH_POLICY_CONNECTIONS_DEFAULT */
	unsigned timeout_sec;		/* 0 = AUTH_POLICY_TIMEOUT_DEFAULT */
	size_t body_max;		/* 0 = AUTH_POLICY_BODY_DEFAULT */
};

struct auth_policy_answer {
	unsigned http;			/* 200, 400 */
	int status;			/* Dovecot status: 0 allow, < 0 refuse, > 0 delay (s) */
	char msg[AUTH_POLICY_MSG_MAX];	/* "" for none */
	int failed;			/* allow: decision failed; status from the fail-action */
	int counted;			/* report: failures fed to the history (0 or 1) */
};

struct auth_policy_stats {
	uint64_t allow;			/* command=allow answered */
	uint64_t refused;		/* ... with a negative status */
	uint64_t delayed;		/* ... with a positive status */
	uint64_t reports;		/* command=report received */
	uint64_t failures_counted;	/* reported failures fed to the history */
	uint64_t bad_requests;		/* 400, 401, 405, 413 */
	uint64_t errors;		/* decisions that failed (answered with the fail-action) */
};

struct auth_policy;

int auth_policy_new(sd_event *e, const struct auth_policy_conf *conf, struct policy *p,
    struct auth_policy **ret);
struct auth_policy *auth_policy_free(struct auth_policy *ap);
void auth_policy_set_policy(struct auth_policy *ap, struct policy *p);
int auth_policy_local_port(const struct auth_policy *ap);
void auth_policy_get_stats(const struct auth_policy *ap, struct auth_policy_stats *ret);
int auth_policy_handle(struct policy *p, const struct auth_policy_conf *conf, const char *command,
    const char *body, size_t len, int64_t now_usec, struct auth_policy_answer *ret);
int auth_policy_status(const char *action, unsigned defer_delay, char *msg, size_t size);

#endif
