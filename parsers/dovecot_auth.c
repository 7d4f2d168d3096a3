/*
 * NAME
 *	dovecot_auth - recognise Dovecot auth-process failures
 * SYNOPSIS
 *	#include "dovecot.h"
 *
 *	int dovecot_auth_parse(const struct dovecot_line *dl, struct mx_event *ev);
 *	int dovecot_auth_pam_parse(const char *s, size_t len, struct mx_event *ev);
 *	int dovecot_auth_is_pam(const char *s, size_t len, int dovecot_only,
 *	    size_t *ret_used);
 * DESCRIPTION
 *	With auth_verbose = yes the auth process (and its workers) logs every
 *	failed password lookup:
 *
 *	  2.3  DRIVER(USER,IP[,master][,<SESSION>]): unknown user
 *	       DRIVER(...): Password mismatch | invalid credentials
 *	       pam(...): pam_authenticate() failed: TEXT
 *	  2.4  auth(USER,IP,sasl:MECH[,master])<SESSION>: DRIVER: Password mismatch
 *	       auth-worker(...)<PID><SESSION>: request [N]: DRIVER: ...
 *	  PAM  pam_unix(dovecot:auth): authentication failure; logname= uid=0
 *	       euid=0 tty=dovecot ruser=USER rhost=IP[  user=USER]
 *
 *	after "auth: " / "auth-worker(PID): ", a level word, and for 2.3
 *	workers "conn unix:auth-worker (pid=N,uid=N): auth-worker<N>: " with
 *	another level word. Each becomes auth_lookup_failure with user,
 *	client_ip, method = the driver ("passwd-file", "pam", "sql"), reason
 *	= the failure text and session when the request came from a login
 *	process. A line without session came from somebody else's SASL
 *	request (Postfix smtpd): the session stays unset so that stays
 *	visible. The same attempt is counted again by the login process's
 *	own line (auth_failure): these are lookups, not extra failures.
 *
 *	reason never carries a password: " (given password: ...)", " (SHA1
 *	of given password: ...)" (auth_verbose_passwords) and " - trying the
 *	next passdb" are cut off; a logwatch-style ": N Time(s)" suffix is
 *	cut too and becomes attempts.
 *
 *	The user name is not escaped by Dovecot and may hold commas and
 *	"): ". The address is therefore taken from the right of the
 *	argument list, and the list ends at the last "): FAILURE" before the
 *	first "given password: " (a password may imitate the rest of the
 *	line, a user name may imitate the beginning).
 * RETURNS
 *	1 with the event filled (listener/daemon are set by the caller), 0
 *	for any other auth line (errors, debug output, successes).
 * SEE ALSO
 *	dovecot.c, FORMATS.md section 6 of the peers corpus
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "dovecot.h"

/* Driver/passdb names ("passwd-file", "checkpassword") are short. */
#define AUTH_DRIVER_MAX	32
/* See dovecot.c: a sanitised user, an address and a session fit. */
#define AUTH_ARGS_MAX	512

struct auth_req {
	const char *user, *ip, *session, *driver, *reason;
	size_t user_len, ip_len, session_len, driver_len, reason_len;
	int attempts;
};

#define W(s)	{ s, sizeof(s) - 1 }
static const struct auth_word {
	const char *word;
	size_t len;
} auth_failures[] = {
	W("unknown user"), W("Unknown user"),
	W("Password mismatch"), W("password mismatch"),
	W("invalid credentials"), W("Invalid credentials"),
	W("pam_authenticate() failed"),
};
#undef W

static int
auth_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* auth_is_failure - does the message start with a failure we record? */
static int
auth_is_failure(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(auth_failures) / sizeof(auth_failures[0]); i++)
		if (len >= auth_failures[i].len &&
		    memcmp(s, auth_failures[i].word, auth_failures[i].len) == 0)
			return 1;
	return 0;
}

/* auth_skip - drop lit from the front of *s if it is there */
static int
auth_skip(const char **s, size_t *len, const char *lit)
{
	size_t n = strlen(lit);

	if (*len < n || memcmp(*s, lit, n) != 0)
		return 0;
	*s += n;
	*len -= n;
	return 1;
}

/* auth_skip_until - drop everything up to and including lit, searched within max bytes */
static int
auth_skip_until(const char **s, size_t *len, const char *lit, size_t max)
{
	size_t n = strlen(lit);
	const char *p = memmem(*s, *len < max ? *len : max, lit, n);

	if (p == NULL)
		return 0;
	*len -= (size_t)(p + n - *s);
	*s = p + n;
	return 1;
}

/*
 * dovecot_auth_is_pam - does s start with "pam_MODULE(SERVICE:auth)"?
 * With dovecot_only the PAM service must be "dovecot" (used for a bare
 * tag, which sshd or su could write as well).
 */
int
dovecot_auth_is_pam(const char *s, size_t len, int dovecot_only, size_t *ret_used)
{
	const char *close;
	size_t i = 4, room;

	if (!dovecot_starts(s, len, "pam_"))
		return 0;
	while (i < len && i < AUTH_DRIVER_MAX && auth_name_char(s[i]))
		i++;
	if (i >= len || s[i] != '(')
		return 0;
	room = len - i < AUTH_DRIVER_MAX ? len - i : AUTH_DRIVER_MAX;
	close = memchr(s + i, ')', room);
	if (close == NULL || close - (s + i) < 6 || memcmp(close - 5, ":auth", 5) != 0)
		return 0;
	if (dovecot_only && !(close - (s + i) == 13 && memcmp(s + i, "(dovecot:auth", 13) == 0))
		return 0;
	*ret_used = (size_t)(close + 1 - s);
	return 1;
}

/*
 * auth_args - split "USER,IP[,master][,<SESSION>]" or 2.4's
 * "USER,IP,sasl:MECH[,master]". Trailing tokens are peeled off from the
 * right; the last remaining token is the address if it is one, and the
 * user is everything before it (so a user may contain commas).
 */
static void
auth_args(const char *a, size_t alen, struct auth_req *req)
{
	char buf[MX_ADDR_MAX];
	const char *c, *t;
	size_t tl;

	for (int i = 0; i < 4; i++) {
		c = memrchr(a, ',', alen);
		if (c == NULL)
			break;
		t = c + 1;
		tl = (size_t)(a + alen - t);
		if (tl >= 2 && t[0] == '<' && t[tl - 1] == '>') {
			req->session = t + 1;
			req->session_len = tl - 2;
		} else if (!(tl == 0 || (tl == 6 && memcmp(t, "master", 6) == 0) ||
		    (tl > 5 && memcmp(t, "sasl:", 5) == 0))) {
			break;
		}
		alen = (size_t)(c - a);
	}
	c = memrchr(a, ',', alen);
	if (c != NULL && addr_canon(c + 1, (size_t)(a + alen - c - 1), buf, sizeof(buf)) >= 0) {
		req->ip = c + 1;
		req->ip_len = (size_t)(a + alen - req->ip);
		alen = (size_t)(c - a);
	}
	if (!(alen == 1 && a[0] == '?')) {	/* "?" = user not known yet */
		req->user = a;
		req->user_len = alen;
	}
}

/*
 * auth_reason - the failure text without password or logwatch tails.
 * A ": N Time(s)" suffix (logwatch summaries) becomes attempts.
 */
static void
auth_reason(const char *m, size_t mlen, struct auth_req *req)
{
	const char *p, *q;

	if ((p = dovecot_find(m, mlen, "given password")) != NULL &&
	    (q = dovecot_find_last(m, (size_t)(p - m), " (")) != NULL)
		mlen = (size_t)(q - m);
	if ((p = dovecot_find(m, mlen, " - trying the next passdb")) != NULL)
		mlen = (size_t)(p - m);
	while (mlen > 0 && m[mlen - 1] == ' ')
		mlen--;
	if (mlen > 9 && memcmp(m + mlen - 8, " Time(s)", 8) == 0) {
		int n = 0, mul = 1;

		for (p = m + mlen - 8; p > m && p[-1] >= '0' && p[-1] <= '9' && mul < 100000000;
		    p--, mul *= 10)
			n += (p[-1] - '0') * mul;
		if (p < m + mlen - 8 && p - m >= 2 && p[-1] == ' ' && p[-2] == ':') {
			req->attempts = n;
			mlen = (size_t)(p - 2 - m);
		}
	}
	req->reason = m;
	req->reason_len = mlen;
}

/*
 * auth_split23 - "DRIVER(ARGS): FAILURE": the driver, and the end of ARGS
 * at the last "): FAILURE" that comes before the first "given password: "
 * (see DESCRIPTION). Returns the message start, or NULL.
 */
static const char *
auth_split23(const char *s, size_t len, struct auth_req *req)
{
	const char *end = s + len, *open, *lim, *p, *best = NULL, *gp = NULL;
	size_t i = 0;

	while (i < len && i < AUTH_DRIVER_MAX && auth_name_char(s[i]))
		i++;
	if (i == 0 || i >= len || s[i] != '(')
		return NULL;
	open = s + i;
	lim = end - open > AUTH_ARGS_MAX ? open + AUTH_ARGS_MAX : end;
	for (p = open; (p = memmem(p, (size_t)(lim - p), "): ", 3)) != NULL; p++) {
		if (gp != NULL && p > gp)
			break;
		if (!auth_is_failure(p + 3, (size_t)(end - p - 3)))
			continue;
		best = p;
		if (gp == NULL)
			gp = dovecot_find(p, (size_t)(end - p), "given password: ");
		if (gp == NULL)
			gp = end;
	}
	if (best == NULL)
		return NULL;
	req->driver = s;
	req->driver_len = i;
	auth_args(open + 1, (size_t)(best - open - 1), req);
	return best + 3;
}

/* auth_fill - the event from a parsed request */
static int
auth_fill(struct mx_event *ev, const struct auth_req *req)
{
	int r;

	ev->kind = MX_EVENT_AUTH_LOOKUP_FAILURE;
	ev->attempts = req->attempts;
	if (req->ip_len > 0) {
		r = addr_set_client(ev, req->ip, req->ip_len);
		if (r < 0 && r != -EINVAL)
			return 0;
	}
	if (dovecot_set(ev, &ev->user, req->user, req->user_len) < 0 ||
	    dovecot_set(ev, &ev->method, req->driver, req->driver_len) < 0 ||
	    dovecot_set(ev, &ev->reason, req->reason, req->reason_len) < 0 ||
	    dovecot_set(ev, &ev->session, req->session, req->session_len) < 0)
		return 0;
	return 1;
}

/*
 * dovecot_auth_pam_parse - the PAM module's own line, after its
 * "pam_unix(dovecot:auth): ". The address is the LAST " rhost=" (ruser
 * is the client's user name and may contain " rhost="); the user is the
 * "  user=" that follows it when PAM knew the account, else ruser.
 */
int
dovecot_auth_pam_parse(const char *s, size_t len, struct mx_event *ev)
{
	const char *end = s + len, *rh, *ip, *p, *ru;
	struct auth_req req;

	if (!dovecot_starts(s, len, "authentication failure;"))
		return 0;
	rh = dovecot_find_last(s, len, " rhost=");
	if (rh == NULL)
		return 0;
	memset(&req, 0, sizeof(req));
	ip = rh + 7;
	p = memchr(ip, ' ', (size_t)(end - ip));
	if (p == NULL)
		p = end;
	req.ip = ip;
	req.ip_len = (size_t)(p - ip);
	while (p < end && *p == ' ')
		p++;
	if (dovecot_starts(p, (size_t)(end - p), "user=")) {
		req.user = p + 5;
		req.user_len = (size_t)(end - req.user);
	} else if ((ru = dovecot_find(s, (size_t)(rh - s), " ruser=")) != NULL) {
		req.user = ru + 7;
		req.user_len = (size_t)(rh - req.user);
	}
	while (req.user_len > 0 && req.user[req.user_len - 1] == ' ')
		req.user_len--;
	req.driver = "pam";
	req.driver_len = 3;
	req.reason = "authentication failure";
	req.reason_len = 22;
	return auth_fill(ev, &req);
}

/* dovecot_auth_parse - one auth or auth-worker line to one event */
int
dovecot_auth_parse(const struct dovecot_line *dl, struct mx_event *ev)
{
	const char *s = dl->body, *m, *p;
	size_t len = dl->body_len, n;
	struct auth_req req;

	/* 2.3 worker connection prefix, with a level word before or after it */
	if (dovecot_starts(s, len, "conn ")) {
		if (!auth_skip_until(&s, &len, "): auth-worker<", 128) ||
		    !auth_skip_until(&s, &len, ">: ", 16))
			return 0;
		(void)(auth_skip(&s, &len, "Info: ") || auth_skip(&s, &len, "Warning: ") ||
		    auth_skip(&s, &len, "Error: "));
	}
	/* 2.4 worker: "request [N]: " */
	if (dovecot_starts(s, len, "request [") && !auth_skip_until(&s, &len, "]: ", 32))
		return 0;
	if (dovecot_auth_is_pam(s, len, 0, &n)) {
		if (n + 2 > len || s[n] != ':' || s[n + 1] != ' ')
			return 0;
		return dovecot_auth_pam_parse(s + n + 2, len - n - 2, ev);
	}
	memset(&req, 0, sizeof(req));
	if (dl->args != NULL && memchr(dl->args, ',', dl->args_len) != NULL) {
		/* 2.4: the request is in the prefix, "DRIVER: FAILURE" follows */
		p = dovecot_find(s, len < AUTH_DRIVER_MAX + 2 ? len : AUTH_DRIVER_MAX + 2, ": ");
		if (p == NULL || p == s || !auth_is_failure(p + 2, (size_t)(s + len - p - 2)))
			return 0;
		for (const char *q = s; q < p; q++)
			if (!auth_name_char(*q))
				return 0;
		req.driver = s;
		req.driver_len = (size_t)(p - s);
		auth_args(dl->args, dl->args_len, &req);
		if (dl->session != NULL) {
			req.session = dl->session;
			req.session_len = dl->session_len;
		}
		m = p + 2;
	} else if ((m = auth_split23(s, len, &req)) == NULL) {
		return 0;
	}
	auth_reason(m, (size_t)(s + len - m), &req);
	return auth_fill(ev, &req);
}
