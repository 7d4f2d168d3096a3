/*
 * NAME
 *	crowdsec_lapi - the CrowdSec Local API's JSON, read and written
 * SYNOPSIS
 *	#include "crowdsec_lapi.h"
 *
 *	int crowdsec_lapi_duration(const char *s, int64_t *ret_usec);
 *	void crowdsec_lapi_duration_text(int64_t usec, char *buf, size_t size);
 *	int crowdsec_lapi_stream(const char *body, size_t len, int64_t now_usec,
 *	    struct crowdsec_stream *ret);
 *	int crowdsec_lapi_decisions(const char *body, size_t len, int64_t now_usec,
 *	    struct crowdsec_stream *ret);
 *	void crowdsec_stream_clear(struct crowdsec_stream *s);
 *	int crowdsec_lapi_login(const char *body, size_t len, char **ret_token,
 *	    int64_t *ret_expire_usec);
 *	char *crowdsec_lapi_alerts_json(const struct crowdsec_alert *alerts, size_t n);
 *	int crowdsec_lapi_alert_ids(const char *body, size_t len, size_t *ret_n);
 *	int crowdsec_lapi_message(const char *body, size_t len, char *buf, size_t size);
 * DESCRIPTION
 *	Pure functions over the bodies the LAPI (CrowdSec 1.4 and later)
 *	sends and takes; no I/O, so every malformed answer can be tested.
 *	The HTTP side is crowdsec.c.
 *
 *	crowdsec_lapi_duration() reads a Go time.Duration string as the LAPI
 *	writes the time left of a decision: an optional sign, then one or more
 *	number+unit pairs, numbers with an optional fraction, units h m s ms
 *	us µs (U+00B5 or U+03BC) ns: "3h59m59.041257944s", "-464.028894ms",
 *	"1h", "0". It rounds to the microsecond (toward zero).
 *	crowdsec_lapi_duration_text() writes usec (>= 1 s) the way Go parses
 *	it back: "4h", "1h30m", "90s" -> "1m30s".
 *
 *	crowdsec_lapi_stream() reads the answer of GET /v1/decisions/stream:
 *	an object with "new" and "deleted", each an array of decisions or
 *	null (the LAPI sends null for an empty list; a missing member counts
 *	as null). Each decision is an object with "id" (integer), "scope",
 *	"value", "type", "duration" (strings), "origin" and "scenario"
 *	(strings, may be missing: empty). A decision that misses id, scope,
 *	value, type or duration, has one of the wrong JSON type, a value
 *	that crowdsec_set_key() refuses, or a duration that does not parse is
 *	skipped and counted in n_malformed; one of another scope (username,
 *	country, ...) is skipped and counted in n_other_scope. expires_usec
 *	is now_usec + duration (negative for the deleted ones: fine).
 *	crowdsec_lapi_decisions() reads the answer of GET /v1/decisions?ip=
 *	(an array, or null) into ret->new_ the same way.
 *
 *	crowdsec_lapi_login() reads the answer of POST /v1/watchers/login:
 *	{"code":200,"expire":"2026-11-22T02:26:13Z","token":"..."}; the
 *	token is copied (free() it), the expiry is an RFC 3339 UTC time
 *	(a missing or unreadable "expire" gives 0: the caller assumes an
 *	hour).
 *
 *	crowdsec_lapi_alerts_json() writes the body of POST /v1/alerts: a
 *	JSON array with one alert object per alert, with every member LAPI
 *	1.4.6 requires (scenario, scenario_hash, scenario_version, message,
 *	events_count, events [], capacity, leakspeed, simulated, start_at,
 *	stop_at in RFC 3339 UTC, source {scope "Ip", value, ip}) and, when
 *	decision_type is set, one decision (duration, origin, scenario,
 *	scope "Ip", type, value) for the alert's address.
 *	crowdsec_lapi_alert_ids() reads the answer (["5","6"]: an array of
 *	id strings) and gives their number.
 *
 *	crowdsec_lapi_message() copies the "message" member of an error
 *	answer ({"message":"access forbidden"}, {"code":401,"message":...})
 *	into buf, for logs; without one, the body's first bytes made
 *	printable.
 * RETURNS
 *	0 on success; -EBADMSG when the body is not JSON or not of the
 *	expected shape at the top (not an object / array / null, "new" not an
 *	array or null, a login answer without a token); -ENOMEM.
 *	crowdsec_lapi_duration(): 0 or -EINVAL. crowdsec_lapi_alerts_json():
 *	NULL on ENOMEM (free() the string). crowdsec_lapi_message(): the
 *	length written.
 * OWNERSHIP
 *	A stream owns its decisions and their strings: crowdsec_stream_clear()
 *	frees them and zeroes the struct (which may be zeroed to start).
 * SEE ALSO
 *	crowdsec_set.h, crowdsec.h, tests/check_crowdsec_lapi.c,
 *	https://docs.crowdsec.net (LAPI swagger)
 */
#ifndef MX_CROWDSEC_LAPI_H
#define MX_CROWDSEC_LAPI_H

#include <stddef.h>
#include <stdint.h>

#include "crowdsec_set.h"

struct crowdsec_stream {
	struct crowdsec_decision *new_;		/* "new" (or the point lookup's array) */
	size_t n_new;
	struct crowdsec_decision *deleted;
	size_t n_deleted;
	size_t n_malformed;			/* skipped: missing or bad members */
	size_t n_other_scope;			/* skipped: not Ip or Range */
};

struct crowdsec_alert {
	const char *scenario;		/* "mxledger/auth-bruteforce" */
	const char *message;		/* one line for `cscli alerts list` */
	const char *ip;			/* the source, canonical text */
	int64_t start_usec;		/* CLOCK_REALTIME */
	int64_t stop_usec;
	unsigned events_count;
	const char *decision_type;	/* "ban", "captcha"; NULL = alert without decision */
	int64_t duration_usec;		/* of the decision */
	const char *origin;		/* of the decision: "mxledger" */
};

int crowdsec_lapi_duration(const char *s, int64_t *ret_usec);
void crowdsec_lapi_duration_text(int64_t usec, char *buf, size_t size);
int crowdsec_lapi_stream(const char *body, size_t len, int64_t now_usec,
    struct crowdsec_stream *ret);
int crowdsec_lapi_decisions(const char *body, size_t len, int64_t now_usec,
    struct crowdsec_stream *ret);
void crowdsec_stream_clear(struct crowdsec_stream *s);
int crowdsec_lapi_login(const char *body, size_t len, char **ret_token, int64_t *ret_expire_usec);
char *crowdsec_lapi_alerts_json(const struct crowdsec_alert *alerts, size_t n);
int crowdsec_lapi_alert_ids(const char *body, size_t len, size_t *ret_n);
int crowdsec_lapi_message(const char *body, size_t len, char *buf, size_t size);

#endif
