/*
 * NAME
 *	authfail - count every failed authentication exactly once, whatever logged it
 * SYNOPSIS
 *	#include "authfail.h"
 *
 *	af = authfail_new(0, 0);
 *	n = authfail_observe(af, ev, ev->ts_usec);	-> add n to the counters
 * DESCRIPTION
 *	Two set-associative caches (AUTHFAIL_WAYS entries per set, the set
 *	chosen by an FNV-1a hash): sessions by Dovecot session id, and
 *	clients by address, each client holding a short queue of SMTP AUTH
 *	attempts still waiting for lines (smtpd failures, session-less
 *	lookups, auth-policy reports), a bit per side seen. Lookups
 *	compare the hash and the stored id; an entry past its lifetime is
 *	free. A full set gives up its least recently used entry. Every
 *	operation touches one set: O(AUTHFAIL_WAYS).
 *
 *	Session and client names come from the daemons' logs (Dovecot makes
 *	the session ids; addresses are few per attacker), so a plain FNV hash
 *	is enough here; a crafted collision only shares one small set.
 * SEE ALSO
 *	authfail.h (the contract and the reasoning), tests/check_rules.c
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "authfail.h"

#define AUTHFAIL_WAYS	8
/* Unpaired SMTP-side lines kept per address: one attempt in flight, and slack. */
#define AUTHFAIL_QUEUE	6

enum authfail_state {
	AUTHFAIL_FREE = 0,
	AUTHFAIL_OPEN,			/* lookups seen, no summary yet */
	AUTHFAIL_CLOSED,		/* summary seen: absorbs late lookups */
};

struct authfail_session {
	uint64_t hash;
	int64_t at;			/* last line of the session */
	uint32_t lookups;		/* failures seen in lookup lines */
	uint32_t reported;		/* failures seen in auth-policy reports */
	uint32_t credit;		/* CLOSED: late lookups already counted by the summary */
	int state;
	char id[AUTHFAIL_SESSION_ID_MAX];
};

/* Who said an SMTP AUTH attempt failed; one attempt has at most one line of each. */
enum authfail_side {
	AUTHFAIL_SMTPD = 1,		/* smtpd "SASL ... authentication failed" */
	AUTHFAIL_LOOKUP = 2,		/* Dovecot auth lookup without session id */
	AUTHFAIL_REPORT = 4,		/* Dovecot's auth-policy report (auth_policy.c) */
};

/* One SMTP AUTH attempt that may still get lines from the other sides. */
struct authfail_line {
	int64_t at;
	uint64_t user;			/* hash of the lower-cased user, 0 unknown */
	uint64_t local;			/* ... of its local part */
	int sides;			/* the lines seen, AUTHFAIL_* bits */
};

struct authfail_client {
	uint64_t hash;
	int64_t at;			/* last line */
	unsigned n;
	struct authfail_line q[AUTHFAIL_QUEUE];	/* oldest first */
	char ip[MX_ADDR_MAX];
};

struct authfail {
	unsigned session_sets, client_sets;	/* powers of two */
	struct authfail_session *sessions;
	struct authfail_client *clients;
	struct authfail_stats stats;
	int reports;			/* auth-policy reports come: attempts have 3 lines */
};

/* authfail_sets - sets for about n entries: a power of two, at least 1 */
static unsigned
authfail_sets(unsigned n)
{
	unsigned sets = 1;

	while (sets * AUTHFAIL_WAYS < n && sets < (1u << 20))
		sets <<= 1;
	return sets;
}

/* authfail_new - empty tables for about max_sessions sessions and max_clients addresses */
struct authfail *
authfail_new(unsigned max_sessions, unsigned max_clients)
{
	struct authfail *af;

	if ((af = calloc(1, sizeof(*af))) == NULL)
		return NULL;
	af->session_sets = authfail_sets(max_sessions ? max_sessions : AUTHFAIL_SESSIONS_DEFAULT);
	af->client_sets = authfail_sets(max_clients ? max_clients : AUTHFAIL_CLIENTS_DEFAULT);
	af->sessions = calloc((size_t)af->session_sets * AUTHFAIL_WAYS, sizeof(*af->sessions));
	af->clients = calloc((size_t)af->client_sets * AUTHFAIL_WAYS, sizeof(*af->clients));
	if (af->sessions == NULL || af->clients == NULL)
		return authfail_free(af);
	return af;
}

/* authfail_free - release af; returns NULL */
struct authfail *
authfail_free(struct authfail *af)
{
	if (af == NULL)
		return NULL;
	free(af->sessions);
	free(af->clients);
	free(af);
	return NULL;
}

/* authfail_get_stats - what was counted, absorbed and dropped */
void
authfail_get_stats(const struct authfail *af, struct authfail_stats *ret)
{
	*ret = af->stats;
}

/* authfail_hash - FNV-1a of s, lower-cased when fold; up to `stop` (or the end) */
static uint64_t
authfail_hash(const char *s, int fold, int stop)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0' && *s != stop; s++) {
		h ^= (unsigned char)(fold ? tolower((unsigned char)*s) : *s);
		h *= 0x100000001b3ULL;
	}
	return h | 1;	/* never 0: 0 means "no user" */
}

/* ---------------------------------------------------------------- sessions */

/* authfail_session - the entry of session id, created (OPEN, nothing counted) if missing */
static struct authfail_session *
authfail_session(struct authfail *af, const char *id, int64_t t, int create)
{
	uint64_t h = authfail_hash(id, 0, 0);
	struct authfail_session *set, *e, *victim = NULL;

	set = &af->sessions[((h >> 7) & (af->session_sets - 1)) * AUTHFAIL_WAYS];
	for (e = set; e < set + AUTHFAIL_WAYS; e++) {
		int64_t ttl = e->state == AUTHFAIL_OPEN ? AUTHFAIL_SESSION_USEC : AUTHFAIL_LATE_USEC;

		if (e->state != AUTHFAIL_FREE && t - e->at > ttl)
			e->state = AUTHFAIL_FREE;	/* expired */
		if (e->state != AUTHFAIL_FREE && e->hash == h &&
		    strncmp(e->id, id, sizeof(e->id) - 1) == 0)
			return e;
		if (victim == NULL || (victim->state != AUTHFAIL_FREE &&
		    (e->state == AUTHFAIL_FREE || e->at < victim->at)))
			victim = e;
	}
	if (!create)
		return NULL;
	if (victim->state != AUTHFAIL_FREE)
		af->stats.session_evictions++;
	memset(victim, 0, sizeof(*victim));
	victim->hash = h;
	victim->at = t;
	victim->state = AUTHFAIL_OPEN;
	strncpy(victim->id, id, sizeof(victim->id) - 1);
	return victim;
}

/* authfail_seen - failures a session's lookup lines or reports showed, whichever more */
static uint32_t
authfail_seen(const struct authfail_session *e)
{
	return e->lookups > e->reported ? e->lookups : e->reported;
}

/*
 * authfail_session_lookup - one failed attempt of an IMAP/POP3 session, from
 * Dovecot's auth line or (report) its auth-policy report: the two stand for the
 * same attempts, so an open session counts whichever of them saw more.
 */
static int
authfail_session_lookup(struct authfail *af, const char *id, int n, int64_t t, int report)
{
	struct authfail_session *e = authfail_session(af, id, t, 1);
	uint32_t before;

	if (e->state == AUTHFAIL_CLOSED && e->credit > 0) {
		e->credit--;		/* the summary already counted this one */
		af->stats.absorbed++;
		return 0;
	}
	if (e->state == AUTHFAIL_CLOSED)
		return n;		/* beyond what the summary said: count it */
	before = authfail_seen(e);
	if (report)
		e->reported += (uint32_t)n;
	else
		e->lookups += (uint32_t)n;
	if (t > e->at)
		e->at = t;
	if (authfail_seen(e) == before)
		af->stats.absorbed++;
	return (int)(authfail_seen(e) - before);
}

/* authfail_session_summary - the login process's "auth failed, N attempts" */
static int
authfail_session_summary(struct authfail *af, const char *id, int attempts, int64_t t)
{
	struct authfail_session *e = authfail_session(af, id, t, 1);
	int seen = (int)authfail_seen(e), extra;

	if (e->state == AUTHFAIL_CLOSED) {	/* a second summary for one session: not ours */
		af->stats.absorbed++;
		return 0;
	}
	extra = attempts > seen ? attempts - seen : 0;
	if (seen > 0)
		af->stats.absorbed++;
	e->state = AUTHFAIL_CLOSED;
	e->credit = (uint32_t)extra;
	e->at = t;
	return extra;
}

/* authfail_session_login - Login: the session's failures were counted from their lookups */
static void
authfail_session_login(struct authfail *af, const char *id, int64_t t)
{
	struct authfail_session *e = authfail_session(af, id, t, 0);

	if (e != NULL)
		e->state = AUTHFAIL_FREE;
}

/* ------------------------------------------------------------- SMTP pairs */

/* authfail_client - the entry of an address, created empty if missing */
static struct authfail_client *
authfail_client(struct authfail *af, const char *ip, int64_t t)
{
	uint64_t h = authfail_hash(ip, 0, 0);
	struct authfail_client *set, *e, *victim = NULL;

	set = &af->clients[((h >> 7) & (af->client_sets - 1)) * AUTHFAIL_WAYS];
	for (e = set; e < set + AUTHFAIL_WAYS; e++) {
		if (e->hash != 0 && t - e->at > AUTHFAIL_PAIR_USEC)
			e->hash = 0;		/* nothing in it can pair any more */
		if (e->hash == h && strcmp(e->ip, ip) == 0)
			return e;
		if (victim == NULL || (victim->hash != 0 && (e->hash == 0 || e->at < victim->at)))
			victim = e;
	}
	if (victim->hash != 0)
		af->stats.client_evictions += victim->n;
	memset(victim, 0, sizeof(*victim));
	victim->hash = h;
	victim->at = t;
	strncpy(victim->ip, ip, sizeof(victim->ip) - 1);
	return victim;
}

/* authfail_users_match - could two lines be about the same login name? */
static int
authfail_users_match(const struct authfail_line *a, const struct authfail_line *b)
{
	if (a->user == 0 || b->user == 0)
		return 1;
	return a->user == b->user || a->local == b->local;
}

/* authfail_complete - every line an attempt can have was seen */
static int
authfail_complete(const struct authfail *af, int sides)
{
	int all = AUTHFAIL_SMTPD | AUTHFAIL_LOOKUP | (af->reports ? AUTHFAIL_REPORT : 0);

	return (sides & all) == all;
}

/*
 * authfail_pair - an SMTP AUTH line: 0 if it is another line of an attempt
 * waiting for it (a line of this side not seen yet), else 1 and it waits.
 */
static int
authfail_pair(struct authfail *af, const struct mx_event *ev, int side, int64_t t)
{
	struct authfail_client *e = authfail_client(af, ev->client_ip, t);
	struct authfail_line l = { .at = t, .sides = side };
	unsigned i, k;

	if (ev->user != NULL && *ev->user != '\0') {
		l.user = authfail_hash(ev->user, 1, 0);
		l.local = authfail_hash(ev->user, 1, '@');
	}
	for (i = 0; i < e->n; i++) {
		const struct authfail_line *w = &e->q[i];
		int64_t d = t > w->at ? t - w->at : w->at - t;

		if (!(w->sides & side) && d <= AUTHFAIL_PAIR_USEC && authfail_users_match(w, &l))
			break;
	}
	if (t > e->at)
		e->at = t;
	if (i < e->n) {
		e->q[i].sides |= side;
		if (authfail_complete(af, e->q[i].sides)) {
			for (k = i; k + 1 < e->n; k++)
				e->q[k] = e->q[k + 1];
			e->n--;
		}
		af->stats.absorbed++;
		return 0;
	}
	/* keep it for the other side's line; drop what can no longer pair */
	for (i = k = 0; i < e->n; i++)
		if (t - e->q[i].at <= AUTHFAIL_PAIR_USEC)
			e->q[k++] = e->q[i];
	e->n = k;
	if (e->n == AUTHFAIL_QUEUE) {
		memmove(e->q, e->q + 1, (AUTHFAIL_QUEUE - 1) * sizeof(e->q[0]));
		e->n--;
		af->stats.client_evictions++;
	}
	e->q[e->n++] = l;
	return 1;
}

/* ------------------------------------------------------------------- entry */

/* authfail_is_smtpd - a Postfix SASL failure (program postfix/.../smtpd) */
static int
authfail_is_smtpd(const struct mx_event *ev)
{
	return ev->daemon != NULL && strcmp(ev->daemon, "smtpd") == 0;
}

/* authfail_is_report - Dovecot's auth-policy report of a failed attempt */
static int
authfail_is_report(const struct mx_event *ev)
{
	return ev->daemon != NULL && strcmp(ev->daemon, AUTHFAIL_REPORT_DAEMON) == 0;
}

/* authfail_count - the failures one event adds */
static int
authfail_count(struct authfail *af, const struct mx_event *ev, int64_t t)
{
	int n = ev->attempts > 0 ? ev->attempts : 1;
	int report = authfail_is_report(ev);

	switch (ev->kind) {
	case MX_EVENT_AUTH_LOOKUP_FAILURE:
		if (report)
			af->reports = 1;
		if (ev->session != NULL)
			return authfail_session_lookup(af, ev->session, n, t, report);
		if (ev->client_ip == NULL || n > 1)
			return n;	/* a summary ("N Time(s)") cannot be paired */
		return authfail_pair(af, ev, report ? AUTHFAIL_REPORT : AUTHFAIL_LOOKUP, t);
	case MX_EVENT_AUTH_FAILURE:
		if (authfail_is_smtpd(ev))
			return ev->client_ip != NULL && n == 1 ?
			    authfail_pair(af, ev, AUTHFAIL_SMTPD, t) : n;
		if (ev->session != NULL)
			return authfail_session_summary(af, ev->session, n, t);
		return n;
	case MX_EVENT_AUTH_SUCCESS:
		if (ev->session != NULL)
			authfail_session_login(af, ev->session, t);
		return 0;
	default:
		return 0;
	}
}

/* authfail_observe - how many failed attempts this event adds */
int
authfail_observe(struct authfail *af, const struct mx_event *ev, int64_t t_usec)
{
	int n = authfail_count(af, ev, t_usec);

	af->stats.counted += (uint64_t)n;
	return n;
}
