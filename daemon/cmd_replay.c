/*
 * NAME
 *	cmd_replay - `mxledger policy-replay`: a candidate rule set over the stored history
 * SYNOPSIS
 *	mxledger policy-replay [--config NEW.conf] [--db PATH] [--since 7d|TIME]
 *	    [--until TIME] [--format table|json] [--top N]
 * DESCRIPTION
 *	Loads the rules of --config into a fresh policy (policy.h) and walks
 *	the events stored between --since and --until oldest first
 *	(history_replay()). The database holds log lines, not the policy
 *	requests Postfix and Dovecot sent, so for each event the requests it
 *	implies are rebuilt (replay_event(), table below), decided by
 *	policy_decide() at the event's time, and only then is the event
 *	itself counted with policy_observe(): the same order as live, where
 *	the request comes before the line the server logs about it. What the
 *	rules would have answered is collected through the policy's recorder
 *	and reported per rule and per (client, rule).
 *
 *	    event                              request(s)
 *	    smtpd connect                      CONNECT
 *	    smtpd auth_failure                 AUTH (protocol_name SMTP), once per
 *	    Dovecot auth lookup without a      attempt: a Postfix SASL warning and
 *	      session                          Dovecot's line for it make one
 *	    Dovecot auth lookup with a session AUTH (one attempt of that session)
 *	    Dovecot login "auth failed, N      AUTH for the attempts no lookup line
 *	      attempts"                        of the session showed
 *	    Dovecot Login:                     AUTH (the attempt that succeeded)
 *	    smtpd auth_success (client=,       AUTH, then RCPT with sasl_username and
 *	      sasl_username=)                  instance = queue id
 *	    smtpd queued (QID: client=)        RCPT, instance = queue id
 *	    smtpd reject / reject_warning      a request at the logged stage (RCPT,
 *	                                       MAIL, DATA, HELO, ...) with sender,
 *	                                       recipient and helo as logged
 *	    everything else                    none (only counted)
 *
 *	Events of the history window before --since are counted first
 *	without decisions, so the counters start as warm as the daemon's do
 *	after policy_rebuild().
 * CAVEATS
 *	An approximation, stated in mxledger(8): accepted recipients are not
 *	logged by smtpd (one RCPT per queued message), server_port and
 *	policy_context are unknown (rules on them never match), smtpd's
 *	"client=" line comes at the first accepted recipient, not at AUTH, and
 *	a client the rules would have refused still shows up in the history
 *	afterwards, so counts after a first refusal are upper bounds.
 * EXIT STATUS
 *	0 success; 64 usage; 66 the database cannot be opened; 70 internal
 *	error; 74 reading the database failed; 78 configuration error.
 * SEE ALSO
 *	policy.h, history.h, rules.h, mxledger(8), tests/policy_replay.sh
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "history.h"
#include "policy.h"
#include "store.h"

#define REPLAY_SEC		INT64_C(1000000)
/* The two lines of one SMTP AUTH attempt (smtpd, Dovecot auth) are this close (authfail.h). */
#define REPLAY_PAIR_USEC	(15 * REPLAY_SEC)
/* Unpaired SMTP AUTH lines remembered: attempts in flight at once, with slack. */
#define REPLAY_PAIRS		128
/* Dovecot sessions whose lookup lines are counted (direct-mapped, a collision forgets). */
#define REPLAY_SESSIONS		4096
/* Rows of the per-client table printed by default. */
#define REPLAY_TOP_DEFAULT	50

enum replay_side {
	REPLAY_SIDE_SMTPD = 1,
	REPLAY_SIDE_LOOKUP,
};

struct replay_pair {
	int64_t at;
	int side;		/* 0 = free */
	char ip[POLICY_ADDR_MAX];
};

struct replay_session {
	uint64_t hash;		/* 0 = free */
	unsigned lookups;
};

/* What the rules did for one (rule, client); a rule's totals use client "". */
struct replay_tally {
	char *rule, *client, *action;
	uint64_t decisions, dry_run;
	int64_t first, last;
};

/* The states of the requests made, for the summary line. */
enum replay_state {
	REPLAY_CONNECT, REPLAY_HELO, REPLAY_EHLO, REPLAY_AUTH, REPLAY_MAIL, REPLAY_RCPT,
	REPLAY_DATA, REPLAY_EOM, REPLAY_VRFY, REPLAY_ETRN, REPLAY_STATE__MAX
};

static const char *const replay_state_names[REPLAY_STATE__MAX] = {
	"CONNECT", "HELO", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE", "VRFY",
	"ETRN",
};

struct replay {
	struct policy *policy;
	int oom;
	int warming;		/* before --since: tables and counters only, no decisions */
	uint64_t events, warmup, requests[REPLAY_STATE__MAX];
	uint64_t decisions, dry_run, errors;
	struct replay_pair pairs[REPLAY_PAIRS];
	unsigned pair_next;
	struct replay_session *sessions;
	struct replay_tally *tallies;	/* open addressing, key (rule, client) */
	size_t n_tallies, size_tallies;
};

static void replay_usage(FILE *f);

/* --------------------------------------------------------------- tallies */

/* replay_hash - FNV-1a of rule, a NUL and client */
static uint64_t
replay_hash(const char *rule, const char *client)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *s = rule; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h *= 0x100000001b3ULL;
	for (const char *s = client; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* replay_slot - the slot of (rule, client): its tally or the free slot for it */
static struct replay_tally *
replay_slot(struct replay_tally *t, size_t size, const char *rule, const char *client)
{
	size_t i = (size_t)replay_hash(rule, client) & (size - 1);

	while (t[i].rule != NULL && (strcmp(t[i].rule, rule) != 0 ||
	    strcmp(t[i].client, client) != 0))
		i = (i + 1) & (size - 1);
	return &t[i];
}

/* replay_grow - twice the table (kept at most half full) */
static int
replay_grow(struct replay *rp)
{
	size_t size = rp->size_tallies ? rp->size_tallies * 2 : 256;
	struct replay_tally *t = calloc(size, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < rp->size_tallies; i++)
		if (rp->tallies[i].rule != NULL)
			*replay_slot(t, size, rp->tallies[i].rule, rp->tallies[i].client) =
			    rp->tallies[i];
	free(rp->tallies);
	rp->tallies = t;
	rp->size_tallies = size;
	return 0;
}

/* replay_tally - count one decision of rule for client ("" = the rule's total) */
static int
replay_tally(struct replay *rp, const struct policy_record *rec, const char *client)
{
	struct replay_tally *t;

	if ((rp->n_tallies + 1) * 2 > rp->size_tallies && replay_grow(rp) < 0)
		return -ENOMEM;
	t = replay_slot(rp->tallies, rp->size_tallies, rec->rule, client);
	if (t->rule == NULL) {
		t->rule = strdup(rec->rule);
		t->client = strdup(client);
		t->action = strdup(rec->action);
		if (t->rule == NULL || t->client == NULL || t->action == NULL) {
			free(t->rule);
			free(t->client);
			free(t->action);
			t->rule = NULL;
			return -ENOMEM;
		}
		t->first = rec->ts_usec;
		rp->n_tallies++;
	}
	t->decisions += !rec->dry_run;
	t->dry_run += rec->dry_run != 0;
	t->last = rec->ts_usec;
	return 0;
}

/* replay_record - the policy's recorder: every answer a rule gave or would have given */
static void
replay_record(void *ud, const struct policy_record *rec)
{
	struct replay *rp = ud;

	if (rec->error != 0 || rec->rule[0] == '\0') {
		rp->errors++;
		return;
	}
	if (rec->dry_run)
		rp->dry_run++;
	else
		rp->decisions++;
	if (replay_tally(rp, rec, "") < 0 ||
	    (rec->client_address[0] != '\0' && replay_tally(rp, rec, rec->client_address) < 0))
		rp->oom = 1;
}

/* ------------------------------------------------------ pseudo requests */

/* replay_str - an event field as a request value ("" when unknown) */
static const char *
replay_str(const char *s)
{
	return s != NULL ? s : "";
}

/* replay_request - an empty request with the client of ev filled in */
static void
replay_request(const struct mx_event *ev, const char *state, struct policy_request *req)
{
	static const struct policy_request empty = {
		.request = "", .protocol_state = "", .protocol_name = "", .helo_name = "",
		.queue_id = "", .sender = "", .recipient = "", .recipient_count = "",
		.client_address = "", .client_name = "", .reverse_client_name = "",
		.instance = "", .sasl_method = "", .sasl_username = "", .sasl_sender = "",
		.size = "", .ccert_subject = "", .ccert_issuer = "", .ccert_fingerprint = "",
		.encryption_protocol = "", .encryption_cipher = "", .encryption_keysize = "",
		.etrn_domain = "", .stress = "", .ccert_pubkey_fingerprint = "",
		.client_port = "", .policy_context = "", .server_address = "",
		.server_port = "", .compatibility_level = "", .mail_version = "",
	};

	*req = empty;
	req->request = "policy_replay";
	req->protocol_state = state;
	req->client_address = replay_str(ev->client_ip);
	req->client_name = replay_str(ev->client_name);
	req->reverse_client_name = req->client_name;
	req->helo_name = replay_str(ev->helo);
	req->present = UINT64_C(1) << POLICY_ATTR_REQUEST |
	    UINT64_C(1) << POLICY_ATTR_PROTOCOL_STATE | UINT64_C(1) << POLICY_ATTR_CLIENT_ADDRESS;
}

/* replay_decide - let the rules decide req at time t; the recorder tallies */
static void
replay_decide(struct replay *rp, const struct policy_request *req, int64_t t)
{
	struct rules_decision d;

	if (rp->warming)
		return;
	for (unsigned i = 0; i < REPLAY_STATE__MAX; i++)
		if (strcmp(req->protocol_state, replay_state_names[i]) == 0)
			rp->requests[i]++;
	(void)policy_decide(rp->policy, req, t, &d);
}

/* replay_protocol - "IMAP" for a Dovecot "imap-login" listener, "" for others */
static void
replay_protocol(const struct mx_event *ev, char *buf, size_t size)
{
	const char *l = replay_str(ev->listener), *dash = strstr(l, "-login");
	size_t n = dash != NULL ? (size_t)(dash - l) : 0;

	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)toupper((unsigned char)l[i]);
	buf[n] = '\0';
}

/* replay_auth - n AUTH requests (attempts) for ev's client and user */
static void
replay_auth(struct replay *rp, const struct mx_event *ev, const char *protocol, unsigned n)
{
	struct policy_request req;

	replay_request(ev, "AUTH", &req);
	req.request = "dovecot_auth_policy";
	req.protocol_name = protocol;
	req.sasl_username = replay_str(ev->user);
	req.sasl_method = replay_str(ev->method);
	for (unsigned i = 0; i < n; i++)
		replay_decide(rp, &req, ev->ts_usec);
}

/* replay_paired - an SMTP AUTH line: 1 if it is the second line of an attempt already made */
static int
replay_paired(struct replay *rp, const struct mx_event *ev, int side)
{
	int64_t t = ev->ts_usec;
	struct replay_pair *p;

	for (unsigned i = 0; i < REPLAY_PAIRS; i++) {
		p = &rp->pairs[i];
		if (p->side != 0 && p->side != side && strcmp(p->ip, ev->client_ip) == 0 &&
		    (t > p->at ? t - p->at : p->at - t) <= REPLAY_PAIR_USEC) {
			p->side = 0;
			return 1;
		}
	}
	p = &rp->pairs[rp->pair_next++ % REPLAY_PAIRS];
	p->side = side;
	p->at = t;
	snprintf(p->ip, sizeof(p->ip), "%s", ev->client_ip);
	return 0;
}

/* replay_session - the lookup count of a Dovecot session (created; NULL without an id) */
static struct replay_session *
replay_session(struct replay *rp, const char *id)
{
	uint64_t h = replay_hash(replay_str(id), "") | 1;
	struct replay_session *s;

	if (id == NULL || *id == '\0')
		return NULL;
	s = &rp->sessions[h % REPLAY_SESSIONS];
	if (s->hash != h) {
		s->hash = h;
		s->lookups = 0;
	}
	return s;
}

/* replay_smtpd - the requests an smtpd line stands for */
static void
replay_smtpd(struct replay *rp, const struct mx_event *ev)
{
	struct policy_request req;
	const char *stage = replay_str(ev->stage);

	switch (ev->kind) {
	case MX_EVENT_CONNECT:
		replay_request(ev, "CONNECT", &req);
		replay_decide(rp, &req, ev->ts_usec);
		break;
	case MX_EVENT_AUTH_FAILURE:
		if (ev->client_ip != NULL && !replay_paired(rp, ev, REPLAY_SIDE_SMTPD))
			replay_auth(rp, ev, "SMTP", 1);
		break;
	case MX_EVENT_AUTH_SUCCESS:
	case MX_EVENT_QUEUED:
		if (ev->kind == MX_EVENT_AUTH_SUCCESS)
			replay_auth(rp, ev, "SMTP", 1);
		replay_request(ev, "RCPT", &req);
		req.sasl_username = replay_str(ev->user);
		req.sasl_method = replay_str(ev->method);
		req.queue_id = req.instance = replay_str(ev->queue_id);
		req.sender = replay_str(ev->sender);
		req.recipient = replay_str(ev->recipient);
		replay_decide(rp, &req, ev->ts_usec);
		break;
	case MX_EVENT_REJECT:
	case MX_EVENT_REJECT_WARNING:
		if (*stage == '\0' || strcasecmp(stage, "CONNECT") == 0)
			break;	/* the CONNECT request came with the connect line */
		for (unsigned i = 0; i < REPLAY_STATE__MAX; i++)
			if (strcasecmp(stage, replay_state_names[i]) == 0) {
				replay_request(ev, replay_state_names[i], &req);
				req.sender = replay_str(ev->sender);
				req.recipient = replay_str(ev->recipient);
				req.queue_id = req.instance = replay_str(ev->queue_id);
				replay_decide(rp, &req, ev->ts_usec);
				break;
			}
		break;
	default:
		break;
	}
}

/* replay_dovecot - the AUTH requests a Dovecot line stands for */
static void
replay_dovecot(struct replay *rp, const struct mx_event *ev)
{
	struct replay_session *s = replay_session(rp, ev->session);
	char protocol[POLICY_WORD_MAX];
	unsigned n;

	replay_protocol(ev, protocol, sizeof(protocol));
	switch (ev->kind) {
	case MX_EVENT_AUTH_LOOKUP_FAILURE:
		if (s != NULL) {
			s->lookups++;
			replay_auth(rp, ev, protocol, 1);
		} else if (ev->client_ip != NULL && !replay_paired(rp, ev, REPLAY_SIDE_LOOKUP)) {
			replay_auth(rp, ev, "SMTP", 1);	/* no session: Postfix asked */
		}
		break;
	case MX_EVENT_AUTH_FAILURE:
		n = ev->attempts > 0 ? (unsigned)ev->attempts : 1;
		n = s != NULL && s->lookups < n ? n - s->lookups : s != NULL ? 0 : n;
		replay_auth(rp, ev, protocol, n);
		if (s != NULL)
			s->hash = 0;
		break;
	case MX_EVENT_AUTH_SUCCESS:
		replay_auth(rp, ev, protocol, 1);
		if (s != NULL)
			s->hash = 0;
		break;
	default:
		break;
	}
}

/*
 * replay_event - history_replay() callback: the requests first, then the event is
 * counted. While warming up (the window before --since) no request is decided, but
 * the pairing and session tables follow the lines, so an attempt whose first line
 * came before --since is not taken for a new one.
 */
static int
replay_event(void *ud, const struct mx_event *ev)
{
	struct replay *rp = ud;
	const char *daemon = replay_str(ev->daemon);

	if (rp->warming)
		rp->warmup++;
	else
		rp->events++;
	if (strcmp(daemon, "smtpd") == 0)
		replay_smtpd(rp, ev);
	else if (strcmp(daemon, "dovecot") == 0)
		replay_dovecot(rp, ev);
	(void)policy_observe(rp->policy, ev, ev->ts_usec);
	return rp->oom ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------- output */

/* replay_ts - RFC 3339 UTC to the second */
static const char *
replay_ts(int64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / REPLAY_SEC);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "-");
	return buf;
}

/* replay_json_str - s as a JSON string */
static void
replay_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* replay_cmp - most decisions (dry-run hits included) first, then rule, then client */
static int
replay_cmp(const void *a, const void *b)
{
	const struct replay_tally *x = *(const struct replay_tally *const *)a;
	const struct replay_tally *y = *(const struct replay_tally *const *)b;
	uint64_t nx = x->decisions + x->dry_run, ny = y->decisions + y->dry_run;
	int r;

	if (nx != ny)
		return nx > ny ? -1 : 1;
	if ((r = strcmp(x->rule, y->rule)) != 0)
		return r;
	return strcmp(x->client, y->client);
}

/* replay_sorted - the rule totals (per_client 0) or the (client, rule) tallies, sorted */
static struct replay_tally **
replay_sorted(const struct replay *rp, int per_client, size_t *ret_n)
{
	struct replay_tally **v = calloc(rp->n_tallies + 1, sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < rp->size_tallies; i++) {
		struct replay_tally *t = &rp->tallies[i];

		if (t->rule != NULL && (t->client[0] != '\0') == per_client)
			v[n++] = t;
	}
	qsort(v, n, sizeof(*v), replay_cmp);
	*ret_n = n;
	return v;
}

/* replay_clients - how many clients a rule touched */
static size_t
replay_clients(const struct replay *rp, const char *rule)
{
	size_t n = 0;

	for (size_t i = 0; i < rp->size_tallies; i++)
		if (rp->tallies[i].rule != NULL && rp->tallies[i].client[0] != '\0' &&
		    strcmp(rp->tallies[i].rule, rule) == 0)
			n++;
	return n;
}

/* replay_print_table - the report for people */
static void
replay_print_table(const struct replay *rp, struct replay_tally **rules, size_t n_rules,
    struct replay_tally **clients, size_t n_clients, size_t top, FILE *f)
{
	char a[32], b[32];

	fprintf(f, "events %" PRIu64 " (plus %" PRIu64 " before --since, counted only); "
	    "requests rebuilt:", rp->events, rp->warmup);
	for (unsigned i = 0; i < REPLAY_STATE__MAX; i++)
		if (rp->requests[i] > 0)
			fprintf(f, " %s %" PRIu64, replay_state_names[i], rp->requests[i]);
	fprintf(f, "\nanswers: %" PRIu64 " by rules, %" PRIu64 " dry-run hits, %" PRIu64
	    " internal errors\n\n", rp->decisions, rp->dry_run, rp->errors);
	fprintf(f, "%-24s %9s %8s %8s  %s\n", "RULE", "DECISIONS", "DRY-RUN", "CLIENTS", "ACTION");
	for (size_t i = 0; i < n_rules; i++)
		fprintf(f, "%-24s %9" PRIu64 " %8" PRIu64 " %8zu  %s\n", rules[i]->rule,
		    rules[i]->decisions, rules[i]->dry_run, replay_clients(rp, rules[i]->rule),
		    rules[i]->action);
	if (n_rules == 0)
		fprintf(f, "(no rule would have answered anything but DUNNO)\n");
	fprintf(f, "\n%-39s %-24s %9s %8s  %-20s  %s\n", "CLIENT", "RULE", "DECISIONS", "DRY-RUN",
	    "FIRST", "LAST");
	for (size_t i = 0; i < n_clients && (top == 0 || i < top); i++)
		fprintf(f, "%-39s %-24s %9" PRIu64 " %8" PRIu64 "  %-20s  %s\n", clients[i]->client,
		    clients[i]->rule, clients[i]->decisions, clients[i]->dry_run,
		    replay_ts(clients[i]->first, a, sizeof(a)),
		    replay_ts(clients[i]->last, b, sizeof(b)));
	if (top != 0 && n_clients > top)
		fprintf(f, "(%zu more; --top 0 shows all)\n", n_clients - top);
}

/* replay_print_json - the report as one JSON object */
static void
replay_print_json(const struct replay *rp, struct replay_tally **rules, size_t n_rules,
    struct replay_tally **clients, size_t n_clients, size_t top, int64_t since, int64_t until,
    FILE *f)
{
	char a[32], b[32];
	int first = 1;

	fprintf(f, "{\"since\":\"%s\",\"until\":\"%s\",\"events\":%" PRIu64
	    ",\"warmup_events\":%" PRIu64 ",\"requests\":{", replay_ts(since, a, sizeof(a)),
	    replay_ts(until, b, sizeof(b)), rp->events, rp->warmup);
	for (unsigned i = 0; i < REPLAY_STATE__MAX; i++)
		if (rp->requests[i] > 0) {
			fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", replay_state_names[i],
			    rp->requests[i]);
			first = 0;
		}
	fprintf(f, "},\"decisions\":%" PRIu64 ",\"dry_run\":%" PRIu64 ",\"errors\":%" PRIu64
	    ",\"rules\":[", rp->decisions, rp->dry_run, rp->errors);
	for (size_t i = 0; i < n_rules; i++) {
		fprintf(f, "%s{\"rule\":", i ? "," : "");
		replay_json_str(f, rules[i]->rule);
		fprintf(f, ",\"action\":");
		replay_json_str(f, rules[i]->action);
		fprintf(f, ",\"decisions\":%" PRIu64 ",\"dry_run\":%" PRIu64 ",\"clients\":%zu}",
		    rules[i]->decisions, rules[i]->dry_run, replay_clients(rp, rules[i]->rule));
	}
	fprintf(f, "],\"clients\":[");
	for (size_t i = 0; i < n_clients && (top == 0 || i < top); i++) {
		fprintf(f, "%s{\"client\":", i ? "," : "");
		replay_json_str(f, clients[i]->client);
		fprintf(f, ",\"rule\":");
		replay_json_str(f, clients[i]->rule);
		fprintf(f, ",\"decisions\":%" PRIu64 ",\"dry_run\":%" PRIu64
		    ",\"first\":\"%s\",\"last\":\"%s\"}", clients[i]->decisions,
		    clients[i]->dry_run, replay_ts(clients[i]->first, a, sizeof(a)),
		    replay_ts(clients[i]->last, b, sizeof(b)));
	}
	fprintf(f, "]}\n");
}

/* ----------------------------------------------------------- arguments */

/* replay_parse_time - "7d", "12h", "30m", "90s", "2w", or RFC 3339 UTC; into usec */
static int
replay_parse_time(const char *s, int64_t now, int64_t *ret)
{
	struct tm tm;
	const char *end;
	char *e;
	unsigned long long v;
	int64_t unit = 0;

	if (isdigit((unsigned char)s[0]) && strchr(s, '-') == NULL) {
		v = strtoull(s, &e, 10);
		switch (*e) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		case '\0': unit = 1; e--; break;
		default: return -EINVAL;
		}
		if (e[1] != '\0' || v > 3650ULL * 86400 / (unsigned long long)unit)
			return -EINVAL;
		*ret = now - (int64_t)v * unit * REPLAY_SEC;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL &&
	    (end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -EINVAL;
	if (*end != '\0' && strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return -EINVAL;
	*ret = (int64_t)timegm(&tm) * REPLAY_SEC;
	return 0;
}

/* replay_usage - the --help text */
static void
replay_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxledger policy-replay [OPTIONS]\n"
	    "Run the rules of a (candidate) configuration over the stored history and report\n"
	    "what they would have answered, by rule and by client. Requests are rebuilt from\n"
	    "the logged events: an approximation, see mxledger(8).\n\n"
	    "  -c, --config PATH     configuration with the rules to try (default %s)\n"
	    "  -d, --db PATH         database (default: from the configuration)\n"
	    "  -s, --since WHEN      start: 7d, 12h, 30m, 90s, 2w ago, or 2026-11-22T02:00:00Z\n"
	    "                        (default 7d)\n"
	    "  -u, --until WHEN      end, same forms (default now)\n"
	    "  -f, --format FORMAT   table (default) or json\n"
	    "  -t, --top N           client rows shown (default %d, 0 = all)\n"
	    "  -h, --help            this text\n"
	    "Exit status: 0 ok, 64 usage, 66 database cannot be opened, 74 reading it failed,\n"
	    "78 configuration error.\n", MX_CONFIG_DEFAULT_PATH, REPLAY_TOP_DEFAULT);
}

/* replay_report - sort and print; -ENOMEM */
static int
replay_report(const struct replay *rp, int json, size_t top, int64_t since, int64_t until)
{
	struct replay_tally **rules, **clients;
	size_t n_rules, n_clients;

	rules = replay_sorted(rp, 0, &n_rules);
	clients = replay_sorted(rp, 1, &n_clients);
	if (rules == NULL || clients == NULL) {
		free(rules);
		free(clients);
		return -ENOMEM;
	}
	if (json) {
		replay_print_json(rp, rules, n_rules, clients, n_clients, top, since, until,
		    stdout);
	} else {
		char a[32], b[32];

		printf("policy-replay: %s .. %s\n", replay_ts(since, a, sizeof(a)),
		    replay_ts(until, b, sizeof(b)));
		replay_print_table(rp, rules, n_rules, clients, n_clients, top, stdout);
	}
	free(rules);
	free(clients);
	return 0;
}

/* replay_free - the tallies and tables */
static void
replay_free(struct replay *rp)
{
	for (size_t i = 0; i < rp->size_tallies; i++) {
		free(rp->tallies[i].rule);
		free(rp->tallies[i].client);
		free(rp->tallies[i].action);
	}
	free(rp->tallies);
	free(rp->sessions);
	rp->policy = policy_free(rp->policy);
}

/* replay_run - warm up, replay, report; the exit status */
static int
replay_run(struct replay *rp, struct store *st, int64_t since, int64_t until, int json,
    size_t top)
{
	int64_t window = policy_history_window(rp->policy);
	uint64_t kinds = 0;
	int r;

	for (unsigned k = 0; k < MX_EVENT__MAX; k++)
		if (policy_event_wanted((enum mx_event_kind)k))
			kinds |= history_kind_bit((enum mx_event_kind)k);
	rp->warming = 1;
	r = history_replay(st, since - window, since, kinds, replay_event, rp);
	rp->warming = 0;
	if (r >= 0)
		r = history_replay(st, since, until, 0, replay_event, rp);
	if (r == -ENOMEM || rp->oom) {
		fprintf(stderr, "mxledger policy-replay: out of memory\n");
		return EX_SOFTWARE;
	}
	if (r < 0) {
		fprintf(stderr, "mxledger policy-replay: reading the history: %s\n", strerror(-r));
		return EX_IOERR;
	}
	if (replay_report(rp, json, top, since, until) < 0) {
		fprintf(stderr, "mxledger policy-replay: out of memory\n");
		return EX_SOFTWARE;
	}
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

int
cmd_policy_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *arg_config = NULL, *arg_db = NULL, *arg_since = "7d", *arg_until = NULL;
	int arg_json = 0, c, r, status;
	unsigned long arg_top = REPLAY_TOP_DEFAULT;
	int64_t now = clock_now_usec(), since, until = now;
	struct mx_config *cfg = NULL;
	struct store *st = NULL;
	struct replay rp;
	char *end;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+c:d:s:u:f:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': arg_config = optarg; break;
		case 'd': arg_db = optarg; break;
		case 's': arg_since = optarg; break;
		case 'u': arg_until = optarg; break;
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0) {
				fprintf(stderr,
				    "mxledger policy-replay: --format: table or json\n");
				return EX_USAGE;
			}
			arg_json = strcmp(optarg, "json") == 0;
			break;
		case 't':
			arg_top = strtoul(optarg, &end, 10);
			if (*end != '\0' || !isdigit((unsigned char)*optarg)) {
				fprintf(stderr, "mxledger policy-replay: --top: a number\n");
				return EX_USAGE;
			}
			break;
		case 'h':
			replay_usage(stdout);
			return 0;
		default:
			replay_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxledger policy-replay: unexpected argument \"%.64s\"\n",
		    argv[optind]);
		return EX_USAGE;
	}
	if (replay_parse_time(arg_since, now, &since) < 0 ||
	    (arg_until != NULL && replay_parse_time(arg_until, now, &until) < 0)) {
		fprintf(stderr, "mxledger policy-replay: --since/--until: \"%.64s\" is not 7d, "
		    "12h, 30m or 2026-11-22T02:00:00Z\n", arg_until != NULL ? arg_until :
		    arg_since);
		return EX_USAGE;
	}
	if (since >= until) {
		fprintf(stderr, "mxledger policy-replay: --since is not before --until\n");
		return EX_USAGE;
	}
	r = config_load(arg_config, arg_config != NULL, &cfg);
	if (r == -ENOMEM) {
		fprintf(stderr, "mxledger policy-replay: out of memory\n");
		return EX_SOFTWARE;
	}
	if (r < 0)
		return EX_CONFIG;
	if (arg_db == NULL)
		arg_db = cfg->database != NULL ? cfg->database : store_default_path();
	if ((r = store_open(arg_db, MX_STORE_RDONLY, &st)) < 0) {
		fprintf(stderr, "mxledger policy-replay: %s: cannot open the database: %s\n",
		    arg_db, strerror(-r));
		config_free(cfg);
		return EX_NOINPUT;
	}
	memset(&rp, 0, sizeof(rp));
	rp.sessions = calloc(REPLAY_SESSIONS, sizeof(*rp.sessions));
	r = rp.sessions == NULL ? -ENOMEM : policy_new(cfg, &rp.policy);
	config_free(cfg);
	if (r < 0) {
		fprintf(stderr, "mxledger policy-replay: cannot build the policy: %s\n",
		    strerror(-r));
		status = r == -EINVAL ? EX_CONFIG : EX_SOFTWARE;
	} else {
		policy_set_recorder(rp.policy, replay_record, &rp);
		status = replay_run(&rp, st, since, until, arg_json, arg_top);
	}
	replay_free(&rp);
	store_free(st);
	return status;
}
