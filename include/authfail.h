/*
 * NAME
 *	authfail - count every failed authentication exactly once, whatever logged it
 * SYNOPSIS
 *	#include "authfail.h"
 *
 *	struct authfail *authfail_new(unsigned max_sessions, unsigned max_clients);
 *	struct authfail *authfail_free(struct authfail *af);
 *	int authfail_observe(struct authfail *af, const struct mx_event *ev, int64_t t_usec);
 *	void authfail_get_stats(const struct authfail *af, struct authfail_stats *ret);
 * DESCRIPTION
 *	One failed password can be logged zero, one or two times, depending
 *	on who asked and how Dovecot is configured (real-sample README, "Logs
 *	versus truth"):
 *
 *	IMAP/POP3 (login process + auth process, auth_verbose = yes)
 *	    the auth process logs one auth_lookup_failure per attempt, with
 *	    the session id; the login process logs one line per session: an
 *	    auth_failure stating "N attempts" when it ended without login, or
 *	    a Login: (auth_success) when it ended with one -- and then says
 *	    nothing of the failures before it. With auth_verbose = no only the
 *	    login line exists.
 *	SMTP AUTH through Dovecot SASL
 *	    smtpd logs an auth_failure (no attempts, no session) and the auth
 *	    process an auth_lookup_failure WITHOUT session id, for the same
 *	    address and user, usually within a second, in either order; when
 *	    Dovecot's penalty delay outlasts smtpd's 10 s timeout smtpd logs a
 *	    failure ("Connection lost to authentication server") and Dovecot's
 *	    line may come seconds later or never.
 *
 *	authfail_observe() returns how many failures an event adds, at once
 *	(a live policy must not wait for a session to end):
 *
 *	- a lookup failure with a session counts 1 and is remembered in the
 *	  session table; the session's auth_failure later counts only the
 *	  attempts not already counted (N - lookups seen, never below 0), so
 *	  both configurations give N; a Login: just forgets the session (its
 *	  earlier failures were counted from their lookup lines). Lookup lines
 *	  that arrive after their session's summary (reordered inputs) are
 *	  absorbed by what the summary counted for them, for
 *	  AUTHFAIL_LATE_USEC.
 *	- smtpd failures and session-less lookup failures are paired per
 *	  client address: each counts 1 unless a line of the other kind for
 *	  the same address and a compatible user (equal ignoring case, equal
 *	  local part -- Dovecot's auth_username_format may drop the domain --
 *	  or unknown on one side) is waiting unpaired from the last
 *	  AUTHFAIL_PAIR_USEC, in which case it consumes that line and counts
 *	  0. Pairs are taken oldest first, so an attempt Dovecot never logged
 *	  (smtpd tempfail) stays counted once.
 *	- an auth_failure with neither session nor smtpd origin counts its
 *	  attempts (at least 1); everything else counts 0.
 *	- Dovecot's auth-policy reports of failed logins (auth_policy.h:
 *	  auth_lookup_failure events of daemon AUTHFAIL_REPORT_DAEMON, at the
 *	  time the report came) stand for the auth process's line of the same
 *	  attempt, which is logged only with auth_verbose = yes: in a session
 *	  the larger of the two counts counts (a report and its auth line are
 *	  one attempt, a report without auth line is one too), and without a
 *	  session a report is a third side of the SMTP pairing: an attempt
 *	  takes at most one line of each side. Either way every attempt counts
 *	  once whether Dovecot logs per attempt or not and whether its log is
 *	  read or not. (Until the first report, a pair of log lines is taken
 *	  as a whole attempt: a first report arriving after both its log lines
 *	  -- reports come at once, logs later, so hardly ever -- counts again.)
 *
 *	t_usec is the event's time (the caller passes now for events without
 *	one): windows here follow the log's clock, so a history replay at
 *	start-up correlates exactly like the live stream did.
 *
 *	Both tables are set-associative caches of fixed size (max_sessions,
 *	max_clients; 0 = defaults): a full set drops its least recently used
 *	entry (counted in stats). A dropped open session means its lookups
 *	may be counted again by its summary; a dropped client entry means a
 *	line may go unpaired: the error is bounded by what the tables can
 *	hold, and visible in the stats.
 * RETURNS
 *	authfail_observe(): the number of failed attempts to add (>= 0).
 * OWNERSHIP
 *	authfail_new() returns NULL only for ENOMEM; authfail_free() returns
 *	NULL. Nothing of ev is kept beyond copies of ids and hashes.
 * SEE ALSO
 *	rules.h (rules_observe_event()), parsers/dovecot_login.c,
 *	parsers/dovecot_auth.c, parsers/smtpd.c, tests/check_rules.c
 */
#ifndef MX_AUTHFAIL_H
#define MX_AUTHFAIL_H

#include <stdint.h>

#include "event.h"

/*
 * Dovecot's login processes drop a client that has not logged in after 3
 * minutes (auth timeout); 10 minutes covers slow brute-forcers' sessions.
 */
#define AUTHFAIL_SESSION_USEC	(10 * 60 * INT64_C(1000000))
/* Lookup lines logged after their session's summary line: same second in practice. */
#define AUTHFAIL_LATE_USEC	(30 * INT64_C(1000000))
/*
 * smtpd gives up on Dovecot after 10 s, Dovecot's penalty delay is at
 * most 15 s: the two lines of one SMTP attempt are at most ~5 s apart in
 * that worst case, within a second normally. 15 s leaves room for 1 s
 * syslog time stamps and slow log delivery.
 */
#define AUTHFAIL_PAIR_USEC	(15 * INT64_C(1000000))
#define AUTHFAIL_SESSIONS_DEFAULT	4096
#define AUTHFAIL_CLIENTS_DEFAULT	4096
/* The daemon of events made from Dovecot's auth-policy reports (auth_policy.c). */
#define AUTHFAIL_REPORT_DAEMON	"auth-policy"
/* Dovecot session ids are 16-32 base64 characters. */
#define AUTHFAIL_SESSION_ID_MAX		48

struct authfail_stats {
	uint64_t counted;		/* failures returned in total */
	uint64_t absorbed;		/* lines recognised as a failure already counted */
	uint64_t session_evictions;	/* sessions dropped from a full set */
	uint64_t client_evictions;	/* waiting lines dropped (full set or full queue) */
};

struct authfail;

struct authfail *authfail_new(unsigned max_sessions, unsigned max_clients);
struct authfail *authfail_free(struct authfail *af);
int authfail_observe(struct authfail *af, const struct mx_event *ev, int64_t t_usec);
void authfail_get_stats(const struct authfail *af, struct authfail_stats *ret);

#endif
