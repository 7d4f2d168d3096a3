/*
 * NAME
 *	dovecot_login - recognise Dovecot login-process records
 * SYNOPSIS
 *	#include "dovecot.h"
 *
 *	int dovecot_login_parse(const struct dovecot_line *dl, struct mx_event *ev);
 * DESCRIPTION
 *	The login processes (imap-login, pop3-login, submission-login,
 *	managesieve-login) log one line when a pre-login session ends:
 *	login_log_format "%$: %s" (2.3) / "%{message}: %{elements}" (2.4),
 *	i.e. a message, ": ", and the elements "user=<U>, method=M, rip=IP,
 *	lip=IP, mpid=N, TLS, session=<S>" joined by ", " (empty ones left
 *	out, user=<> always written). dovecot_login_parse() maps
 *
 *	  "Login" (2.3), "Logged in" (2.4), "proxy(U): started proxying"
 *	      -> auth_success
 *	  "Disconnected...", "Aborted login...", "Login aborted: ..." (2.4),
 *	  "Client has quit the connection", "Remote closed connection" with
 *	  the extra reason "(auth failed, N attempts[ in M secs])", "(tried
 *	  to use disallowed|disabled plaintext|cleartext auth[, ...])" or
 *	  "(proxy dest auth failed[, ...])"
 *	      -> auth_failure, attempts N (1 when the line states no count:
 *	         fail2ban and CrowdSec count these lines as one failure)
 *	  the same words with any other extra reason ("no auth attempts",
 *	  "disconnected before auth was ready", "client didn't finish SASL
 *	  auth", TLS handshake failures, "authorization failed", "user
 *	  disabled", ...), and "Maximum number of connections from user+IP
 *	  exceeded (...)"
 *	      -> disconnect, attempts 0 (peers do not count these either; the
 *	         reason keeps the numbers)
 *	  "haproxy[(v1|v2)]: ... (..., rip=IP)"  -> proxy_error; rip is the
 *	      TCP peer there (the proxy or a health probe), not a client
 *	  "access(...): Client refused (rip=IP)" -> disconnect
 *
 *	so each session yields exactly one event. reason is the parenthesised
 *	extra reason ("auth failed, 3 attempts in 13 secs"; 2.4's machine
 *	reason "(auth_failed)" is dropped), or when there is none the text
 *	after the leading word ("Inactivity").
 *
 *	Elements are found by key, not by position: rip is the LAST ", rip="
 *	(a user name may contain ", rip=" but comes before the real one),
 *	method the element right before it, user everything between "user=<"
 *	and the ">, " in front of method/rip (so a user may contain spaces,
 *	commas and '>'), lip, rport, lport and session are looked for after
 *	rip only. The split between message and elements is the first ": "
 *	that starts an element; lines without any element (the fail2ban
 *	"a: a: a: ... test no match" probe) are not session lines.
 * RETURNS
 *	1 with the event filled (listener/daemon are set by the caller), 0
 *	for other login-process lines (warnings, errors, proxy chatter).
 * SEE ALSO
 *	dovecot.c, FORMATS.md sections 5 and 7 of the peers corpus
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "dovecot.h"

/* A session id, pid or port never needs more; caps a scan for '>'. */
#define LOGIN_VALUE_MAX	128

struct login_elems {
	const char *user, *method, *rip, *lip, *session;
	size_t user_len, method_len, rip_len, lip_len, session_len;
	unsigned rport, lport;
};

enum login_class {
	LOGIN_OTHER,		/* not a session line */
	LOGIN_SUCCESS,
	LOGIN_END,		/* session closed before login */
	LOGIN_LIMIT,		/* refused after auth: too many connections */
};

#define W(s)	{ s, sizeof(s) - 1 }
static const struct login_word {
	const char *word;
	size_t len;
} login_end_words[] = {
	W("Disconnected"),
	W("Aborted login"),
	W("Login aborted"),
	W("Client has quit the connection"),
	W("Remote closed connection"),
};
/* extra reasons that mean a failed credential attempt (2.3 and 2.4 words) */
static const struct login_word login_fail_extras[] = {
	W("auth failed"),
	W("tried to use disallowed "),
	W("tried to use disabled "),
	W("proxy dest auth"),
};
/* 2.4 machine reasons of the same */
static const struct login_word login_fail_machine[] = {
	W("auth_failed"),
	W("cleartext_auth_disabled"),
	W("proxy_dest_auth_failed"),
};
#undef W

static int
login_addr_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	    c == ':' || c == '.';
}

/* login_span - length of the run of address characters at p (bounded by end) */
static size_t
login_addr_span(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && q - p < LOGIN_VALUE_MAX && login_addr_char(*q))
		q++;
	return (size_t)(q - p);
}

/* login_number - an unsigned number at p, 0 when none (capped, never overflows) */
static unsigned
login_number(const char *p, const char *end)
{
	unsigned n = 0;

	for (int i = 0; p < end && *p >= '0' && *p <= '9' && i < 9; p++, i++)
		n = n * 10 + (unsigned)(*p - '0');
	return n;
}

/* login_word_in - does s[0..len) start with one of the words? */
static int
login_word_in(const char *s, size_t len, const struct login_word *w, size_t n, int exact)
{
	for (size_t i = 0; i < n; i++)
		if (len >= w[i].len && memcmp(s, w[i].word, w[i].len) == 0 &&
		    (!exact || len == w[i].len))
			return 1;
	return 0;
}

/*
 * login_split - find where the elements start. Returns a pointer to the
 * first element and the message length in *ret_msg_len, or NULL. The
 * message part is written by Dovecot, so the first ": user=<" (or
 * ": method=", ": rip=" when user= is not logged) is the real split.
 * Anonymised samples ("(auth failed, 6 attempts): XYZ rip=...") split at
 * the last "): " before " rip=".
 */
static const char *
login_split(const char *s, size_t len, size_t *ret_msg_len)
{
	static const char *const keys[] = { ": user=<", ": method=", ": rip=" };
	const char *best = NULL, *p;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		p = memmem(s, best != NULL ? (size_t)(best - s) : len, keys[i], strlen(keys[i]));
		if (p != NULL)
			best = p;
	}
	if (best != NULL) {
		*ret_msg_len = (size_t)(best - s);
		return best + 2;
	}
	p = dovecot_find(s, len, " rip=");
	if (p == NULL)
		return NULL;
	best = dovecot_find_last(s, (size_t)(p - s), "): ");
	if (best == NULL)
		return NULL;
	*ret_msg_len = (size_t)(best + 1 - s);
	return best + 3;
}

/* login_classify - what kind of line the message part makes */
static enum login_class
login_classify(const char *m, size_t mlen)
{
	if ((mlen == 5 && memcmp(m, "Login", 5) == 0) ||
	    (mlen == 9 && memcmp(m, "Logged in", 9) == 0))
		return LOGIN_SUCCESS;
	if (dovecot_starts(m, mlen, "proxy(") &&
	    dovecot_find(m, mlen, "): started proxying") != NULL)
		return LOGIN_SUCCESS;
	if (login_word_in(m, mlen, login_end_words,
	    sizeof(login_end_words) / sizeof(login_end_words[0]), 0))
		return LOGIN_END;
	if (dovecot_starts(m, mlen, "Maximum number of connections"))
		return LOGIN_LIMIT;
	return LOGIN_OTHER;
}

/* login_open_paren - index of the '(' matching the ')' at s[close], or -1 */
static long
login_open_paren(const char *s, size_t close)
{
	int depth = 0;

	for (size_t i = close + 1; i-- > 0;) {
		if (s[i] == ')')
			depth++;
		else if (s[i] == '(' && --depth == 0)
			return (long)i;
	}
	return -1;
}

static int
login_is_machine(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * login_extra - the trailing "(reason)" of the message: 2.3 "... (auth
 * failed, 1 attempts in 2 secs)", 2.4 "... (human reason) (machine)".
 * Sets *ret_x (NULL when there is none) and *ret_mach (2.4 only).
 */
static void
login_extra(const char *m, size_t mlen, const char **ret_x, size_t *ret_xlen,
    const char **ret_mach, size_t *ret_machlen)
{
	long open;

	*ret_x = *ret_mach = NULL;
	*ret_xlen = *ret_machlen = 0;
	while (mlen > 0 && m[mlen - 1] == ' ')
		mlen--;
	for (int k = 0; k < 2; k++) {
		if (mlen == 0 || m[mlen - 1] != ')')
			return;
		open = login_open_paren(m, mlen - 1);
		if (open < 0)
			return;
		*ret_x = m + open + 1;
		*ret_xlen = mlen - (size_t)open - 2;
		if (k > 0 || !login_is_machine(*ret_x, *ret_xlen))
			return;
		*ret_mach = *ret_x;
		*ret_machlen = *ret_xlen;
		if (open < 2 || m[open - 1] != ' ' || m[open - 2] != ')')
			return;
		mlen = (size_t)open - 1;
	}
}

/* login_attempts - N from "..., N attempts ..." in the extra reason, 0 if absent */
static int
login_attempts(const char *x, size_t xlen)
{
	const char *p = dovecot_find(x, xlen, " attempts"), *q;

	if (p == NULL)
		return 0;
	for (q = p; q > x && p - q < 9 && q[-1] >= '0' && q[-1] <= '9'; q--)
		;
	return (int)login_number(q, p);
}

/* login_rip - the rip= element (last one), or NULL */
static const char *
login_find_rip(const char *e, size_t elen)
{
	const char *p;

	if ((p = dovecot_find_last(e, elen, ", rip=")) != NULL)
		return p + 2;
	if (dovecot_starts(e, elen, "rip="))
		return e;
	if ((p = dovecot_find_last(e, elen, " rip=")) != NULL)
		return p + 1;
	return NULL;
}

/* login_elements - pick the elements we store out of e[0..elen) */
static void
login_elements(const char *e, size_t elen, struct login_elems *le)
{
	const char *end = e + elen, *rip, *key, *p, *after;

	memset(le, 0, sizeof(*le));
	rip = login_find_rip(e, elen);
	key = rip;
	after = e;
	if (rip != NULL) {
		le->rip = rip + 4;
		le->rip_len = login_addr_span(le->rip, end);
		after = rip;
		/* method is the element just before rip */
		if (rip - e >= 2 && rip[-2] == ',') {
			p = dovecot_find_last(e, (size_t)(rip - 2 - e), ", ");
			p = p != NULL ? p + 2 : e;
			if (dovecot_starts(p, (size_t)(rip - p), "method=")) {
				le->method = p + 7;
				le->method_len = (size_t)(rip - 2 - le->method);
				key = p;
			}
		}
	} else if ((p = dovecot_find(e, elen, ", method=")) != NULL) {
		key = p + 2;
		le->method = key + 7;
		p = memchr(le->method, ',', (size_t)(end - le->method));
		le->method_len = (size_t)((p != NULL ? p : end) - le->method);
	}
	/* user ends at the '>' right before ", method=" / ", rip=" */
	if (dovecot_starts(e, elen, "user=<")) {
		le->user = e + 6;
		if (key != NULL && key - 3 >= le->user && key[-3] == '>' && key[-2] == ',')
			p = key - 3;
		else if ((p = dovecot_find(le->user, (size_t)(end - le->user), ">, ")) == NULL)
			p = memchr(le->user, '>', (size_t)(end - le->user));
		le->user_len = p != NULL ? (size_t)(p - le->user) : 0;
		if (p == NULL)
			le->user = NULL;
	}
	/* the rest is written by Dovecot after rip */
	if ((p = dovecot_find(after, (size_t)(end - after), ", lip=")) != NULL) {
		le->lip = p + 6;
		le->lip_len = login_addr_span(le->lip, end);
	}
	if ((p = dovecot_find(after, (size_t)(end - after), ", rport=")) != NULL)
		le->rport = login_number(p + 8, end);
	if ((p = dovecot_find(after, (size_t)(end - after), ", lport=")) != NULL)
		le->lport = login_number(p + 8, end);
	if ((p = dovecot_find_last(after, (size_t)(end - after), ", session=<")) != NULL) {
		const char *v = p + 11, *gt;
		size_t room = (size_t)(end - v);

		gt = memchr(v, '>', room < LOGIN_VALUE_MAX ? room : LOGIN_VALUE_MAX);
		if (gt != NULL) {
			le->session = v;
			le->session_len = (size_t)(gt - v);
		}
	}
}

/* login_addr_ok - an address that does not parse is left unset, not an error */
static int
login_addr_ok(int r)
{
	return r >= 0 || r == -EINVAL;
}

/* login_fill - store the elements in the event */
static int
login_fill(struct mx_event *ev, const struct login_elems *le)
{
	/* a rip= that is not an address makes the whole line unrecognised */
	if (le->rip_len > 0 && addr_set_client(ev, le->rip, le->rip_len) < 0)
		return -EINVAL;
	if (le->lip_len > 0 && !login_addr_ok(addr_set_server(ev, le->lip, le->lip_len)))
		return -ENOBUFS;
	ev->client_port = le->rport <= 65535 ? le->rport : 0;
	ev->server_port = le->lport <= 65535 ? le->lport : 0;
	if (dovecot_set(ev, &ev->user, le->user, le->user_len) < 0 ||
	    dovecot_set(ev, &ev->method, le->method, le->method_len) < 0 ||
	    dovecot_set(ev, &ev->session, le->session, le->session_len) < 0)
		return -ENOBUFS;
	return 0;
}

/*
 * login_end - a session closed before login: auth_failure when the extra
 * reason says credentials were tried and refused, disconnect otherwise.
 */
static void
login_end(const char *m, size_t mlen, struct mx_event *ev, const char **ret_reason,
    size_t *ret_rlen)
{
	const char *x, *mach;
	size_t xlen, machlen;
	int fail;

	login_extra(m, mlen, &x, &xlen, &mach, &machlen);
	fail = (x != NULL && login_word_in(x, xlen, login_fail_extras,
	    sizeof(login_fail_extras) / sizeof(login_fail_extras[0]), 0)) ||
	    (mach != NULL && login_word_in(mach, machlen, login_fail_machine,
	    sizeof(login_fail_machine) / sizeof(login_fail_machine[0]), 1));
	ev->kind = fail ? MX_EVENT_AUTH_FAILURE : MX_EVENT_DISCONNECT;
	if (fail) {
		ev->attempts = x != NULL ? login_attempts(x, xlen) : 0;
		if (ev->attempts == 0)
			ev->attempts = 1;
	}
	if (x != NULL && xlen > 0) {
		*ret_reason = x;
		*ret_rlen = xlen;
		return;
	}
	/* no extra reason: "Disconnected: Inactivity" -> "Inactivity" */
	for (size_t i = 0; i < sizeof(login_end_words) / sizeof(login_end_words[0]); i++) {
		const struct login_word *w = &login_end_words[i];

		if (mlen > w->len + 2 && memcmp(m, w->word, w->len) == 0 &&
		    m[w->len] == ':' && m[w->len + 1] == ' ') {
			*ret_reason = m + w->len + 2;
			*ret_rlen = mlen - w->len - 2;
			return;
		}
	}
	*ret_reason = m;
	*ret_rlen = mlen;
}

/*
 * login_haproxy - master-service-haproxy errors: "haproxy[(v1|v2)]: TEXT"
 * where TEXT names the TCP peer as "rip=IP" inside parentheses.
 */
static int
login_haproxy(const char *s, size_t len, struct mx_event *ev)
{
	const char *p = s + 7, *end = s + len, *rip;

	if (dovecot_starts(p, (size_t)(end - p), "(v1)") ||
	    dovecot_starts(p, (size_t)(end - p), "(v2)"))
		p += 4;
	if (!dovecot_starts(p, (size_t)(end - p), ": "))
		return 0;
	p += 2;
	rip = dovecot_find_last(p, (size_t)(end - p), "rip=");
	if (rip == NULL)
		return 0;
	ev->kind = MX_EVENT_PROXY_ERROR;
	rip += 4;
	if (!login_addr_ok(addr_set_client(ev, rip, login_addr_span(rip, end))) ||
	    dovecot_set(ev, &ev->reason, p, (size_t)(end - p)) < 0)
		return 0;
	return 1;
}

/* login_access - "access(tcpwrap): Client refused (rip=IP)" */
static int
login_access(const char *s, size_t len, struct mx_event *ev)
{
	const char *end = s + len, *p, *rip;

	p = dovecot_find(s, len, "): Client refused (rip=");
	if (p == NULL)
		return 0;
	rip = p + 23;
	ev->kind = MX_EVENT_DISCONNECT;
	if (!login_addr_ok(addr_set_client(ev, rip, login_addr_span(rip, end))) ||
	    event_setz(ev, &ev->reason, "Client refused") < 0)
		return 0;
	return 1;
}

/* dovecot_login_parse - one login-process line to one event */
int
dovecot_login_parse(const struct dovecot_line *dl, struct mx_event *ev)
{
	const char *s = dl->body, *e, *reason = NULL;
	size_t len = dl->body_len, mlen, rlen = 0;
	struct login_elems le;

	if (dovecot_starts(s, len, "haproxy"))
		return login_haproxy(s, len, ev);
	if (dovecot_starts(s, len, "access("))
		return login_access(s, len, ev);
	e = login_split(s, len, &mlen);
	if (e == NULL)
		return 0;
	switch (login_classify(s, mlen)) {
	case LOGIN_SUCCESS:
		ev->kind = MX_EVENT_AUTH_SUCCESS;
		break;
	case LOGIN_END:
		login_end(s, mlen, ev, &reason, &rlen);
		break;
	case LOGIN_LIMIT:
		ev->kind = MX_EVENT_DISCONNECT;
		reason = s;
		rlen = mlen;
		break;
	default:
		return 0;
	}
	login_elements(e, (size_t)(s + len - e), &le);
	if (login_fill(ev, &le) < 0 || dovecot_set(ev, &ev->reason, reason, rlen) < 0)
		return 0;
	return 1;
}
