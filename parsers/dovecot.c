/*
 * NAME
 *	dovecot - recognise Dovecot log records and hand them to the service's parser
 * SYNOPSIS
 *	#include "parser.h"
 *
 *	int dovecot_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 * DESCRIPTION
 *	Dovecot writes one service prefix before every message, and where
 *	that prefix sits depends on where the log goes:
 *
 *	  syslog (ident "dovecot"):  "imap-login: Login: user=<u>, ..."
 *	  stderr -> journald:        "imap-login: Info: Login: user=<u>, ..."
 *	  log_path file:             program "imap-login", msg "Info: Login: ..."
 *
 *	The prefix is a service name, optionally followed by "(args)" and up
 *	to two "<...>" groups: "auth-worker(123): ", 2.2's "auth(default): ",
 *	2.4's "auth(user,ip,sasl:login)<session>: ", the mail processes'
 *	"imap(user)<pid><session>: ". dovecot_parse() splits it off (from the
 *	message, or from the program name in the log_path case), drops one
 *	level word ("Info: ", "Error: ", ...) and calls the login parser for
 *	"*-login" services or the auth parser for "auth"/"auth-worker" and
 *	PAM module lines ("pam_unix(dovecot:auth): authentication failure;
 *	..."). Everything else (master, imap, pop3, lmtp, ...) is not ours.
 *
 *	On success the event's daemon is "dovecot" and its listener the
 *	service without args ("imap-login", "auth", "auth-worker").
 *
 *	No regular expressions: each step is a bounded forward scan, so the
 *	hostile "a: a: a: ..." lines peers test against cost one pass.
 * RETURNS
 *	1 with *ret_ev filled for a known event; 0 when the line is not one we
 *	know. Never logs, never allocates.
 * SEE ALSO
 *	dovecot.h, dovecot_login.c, dovecot_auth.c, tests/check_dovecot.c,
 *	FORMATS.md sections 0, 5, 6 and 7 of the peers corpus
 */
#include <string.h>

#include "dovecot.h"
#include "parser.h"

/* A service name is short ("managesieve-login" is the longest we know). */
#define DOVECOT_SERVICE_MAX	64
/*
 * The "(args)" part carries a sanitised user (cut at 64 bytes by Dovecot,
 * plus "..."), an address, "sasl:mech", "master": 512 bytes is ample.
 */
#define DOVECOT_ARGS_MAX	512
/* "<pid>" and "<session>" groups: a session id is 16-32 base64 chars. */
#define DOVECOT_ANGLE_MAX	128

static size_t dovecot_prefix(const char *s, size_t len, struct dovecot_line *dl);

static int
dovecot_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * dovecot_prefix - parse NAME[(ARGS)][<x>][<y>] at the start of s.
 * Returns the number of bytes used, 0 when s does not start with one.
 * ARGS end at the first ')' that is followed by '<', ':' or the end: a
 * user name containing ")<" or "):" therefore cuts the args short (the
 * line then simply lacks an address). Of the "<...>" groups a first one
 * of digits is a pid (2.3 mail processes, 2.4 auth workers), the other
 * one the session id.
 */
static size_t
dovecot_prefix(const char *s, size_t len, struct dovecot_line *dl)
{
	size_t i = 0, j, lim;

	while (i < len && i < DOVECOT_SERVICE_MAX && dovecot_name_char(s[i]))
		i++;
	if (i == 0 || i == DOVECOT_SERVICE_MAX)
		return 0;
	dl->service = s;
	dl->service_len = i;
	dl->args = dl->session = NULL;
	dl->args_len = dl->session_len = 0;
	if (i < len && s[i] == '(') {
		lim = len - i > DOVECOT_ARGS_MAX ? i + DOVECOT_ARGS_MAX : len;
		for (j = i + 1; j < lim; j++)
			if (s[j] == ')' && (j + 1 == len || s[j + 1] == '<' || s[j + 1] == ':'))
				break;
		if (j >= lim)
			return 0;
		dl->args = s + i + 1;
		dl->args_len = j - i - 1;
		i = j + 1;
	}
	for (int group = 0; group < 2 && i < len && s[i] == '<'; group++) {
		int digits = 1;

		lim = len - i > DOVECOT_ANGLE_MAX ? i + DOVECOT_ANGLE_MAX : len;
		for (j = i + 1; j < lim && s[j] != '>'; j++) {
			if (s[j] == ' ')
				return 0;
			if (s[j] < '0' || s[j] > '9')
				digits = 0;
		}
		if (j >= lim)
			return 0;
		if (!(group == 0 && digits && j > i + 1)) {
			dl->session = s + i + 1;
			dl->session_len = j - i - 1;
		}
		i = j + 1;
	}
	return i;
}

/* dovecot_skip_level - drop one "Info: "/"Warning: "/... level word */
static void
dovecot_skip_level(struct dovecot_line *dl)
{
	static const struct {
		const char *word;
		size_t len;
	} levels[] = {
		{ "Info: ", 6 }, { "Warning: ", 9 }, { "Error: ", 7 },
		{ "Fatal: ", 7 }, { "Panic: ", 7 }, { "Debug: ", 7 },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (dl->body_len >= levels[i].len &&
		    memcmp(dl->body, levels[i].word, levels[i].len) == 0) {
			dl->body += levels[i].len;
			dl->body_len -= levels[i].len;
			return;
		}
}

/* dovecot_split_syslog - "[dovecot: ]SERVICE...: BODY" from the message */
static int
dovecot_split_syslog(const char *s, size_t len, struct dovecot_line *dl)
{
	size_t n;

	/* stderr captured by a syslog daemon repeats the ident once */
	if (dovecot_starts(s, len, "dovecot: ")) {
		s += 9;
		len -= 9;
	}
	if (dovecot_auth_is_pam(s, len, 0, &n)) {
		dl->service = "auth";
		dl->service_len = 4;
		dl->body = s;
		dl->body_len = len;
		return 1;
	}
	n = dovecot_prefix(s, len, dl);
	if (n == 0 || n + 2 > len || s[n] != ':' || s[n + 1] != ' ')
		return 0;
	dl->body = s + n + 2;
	dl->body_len = len - n - 2;
	return 1;
}

/*
 * dovecot_split_tag - log_path file (or a PAM module's own tag): the
 * program name is the prefix. Returns 2 for a PAM module tag, whose
 * message is then the PAM text itself.
 */
static int
dovecot_split_tag(const struct mx_record *rec, struct dovecot_line *dl)
{
	const char *tag = rec->program != NULL ? rec->program : rec->daemon;
	size_t tlen = strlen(tag), n;

	dl->body = rec->msg;
	dl->body_len = rec->msg_len;
	if (dovecot_auth_is_pam(tag, tlen, 1, &n) && n == tlen) {
		dl->service = "auth";
		dl->service_len = 4;
		return 2;
	}
	if (strcmp(rec->daemon, "dovecot-auth") == 0) {
		/* Dovecot 1.x: the auth process logged under its own name */
		dl->service = "auth";
		dl->service_len = 4;
		return 1;
	}
	n = dovecot_prefix(tag, tlen, dl);
	if (n != tlen) {
		dl->service = rec->daemon;
		dl->service_len = strlen(rec->daemon);
		dl->args = dl->session = NULL;
		dl->args_len = dl->session_len = 0;
	}
	return 1;
}

/* dovecot_is - is the service exactly name? */
static int
dovecot_is(const struct dovecot_line *dl, const char *name)
{
	size_t n = strlen(name);

	return dl->service_len == n && memcmp(dl->service, name, n) == 0;
}

/* dovecot_parse - split the prefix, dispatch on the service */
int
dovecot_parse(const struct mx_record *rec, struct mx_event *ret_ev)
{
	struct dovecot_line dl;
	int r;

	memset(&dl, 0, sizeof(dl));
	if (rec->daemon == NULL || rec->msg == NULL)
		return 0;
	if (strcmp(rec->daemon, "dovecot") == 0)
		r = dovecot_split_syslog(rec->msg, rec->msg_len, &dl);
	else
		r = dovecot_split_tag(rec, &dl);
	if (r == 0)
		return 0;
	if (r == 2) {
		r = dovecot_auth_pam_parse(dl.body, dl.body_len, ret_ev);
	} else {
		dovecot_skip_level(&dl);
		if (dl.service_len > 6 &&
		    memcmp(dl.service + dl.service_len - 6, "-login", 6) == 0)
			r = dovecot_login_parse(&dl, ret_ev);
		else if (dovecot_is(&dl, "auth") || dovecot_is(&dl, "auth-worker"))
			r = dovecot_auth_parse(&dl, ret_ev);
		else
			r = 0;
	}
	if (r != 1)
		return 0;
	if (event_set(ret_ev, &ret_ev->listener, dl.service, dl.service_len) < 0 ||
	    event_setz(ret_ev, &ret_ev->daemon, "dovecot") < 0)
		return 0;
	return 1;
}
