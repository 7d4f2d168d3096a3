/*
 * NAME
 *	smtpd - recognise smtpd(8) log records
 * SYNOPSIS
 *	#include "parser.h"
 *
 *	int smtpd_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 * DESCRIPTION
 *	Turns the message part of one smtpd record into one typed event:
 *	connect / disconnect (with the raw command statistics), the abnormal
 *	session ends (lost connection, timeout, too many errors, and the
 *	short-lived "bare <LF> received" of 3.5.23/3.6.13/3.7.9/3.8.4, kept as
 *	lost_connection with that reason), improper command pipelining,
 *	non-SMTP commands, SASL failures, the "QID: client=" line (auth_success
 *	when it names a SASL user, queued otherwise), policy decisions (reject,
 *	reject_warning, milter-reject, discard, hold, ...), the anvil rate and
 *	concurrency warnings, FCrDNS failures, "haproxy read:" warnings and
 *	fatal errors (including the PROXY-listener crash
 *	"smtpd_peer_hostaddr_to_sockaddr: cannot convert client address/port
 *	to string").
 *
 *	Lines may start with a queue id or NOQUEUE ("QID: reject: ...",
 *	"NOQUEUE: lost connection after ..." from 3.10 on). The token before
 *	the first ": " is taken as that prefix when the rest is a shape that
 *	allows one; queue_id is set only for a real queue id (letters and
 *	digits, not NOQUEUE), so Postfix's own test outputs with a placeholder
 *	there still parse.
 *
 *	The client is the namaddr in its fixed position ("from name[addr]",
 *	"warning: name[addr]: SASL"); IP addresses inside reply texts,
 *	"helo=<...>" or client text never are. "unknown[unknown]" gives an event
 *	without client_ip; an address that is not an IP address gives 0.
 *
 *	Fields: reply is the SMTP code plus the enhanced code ("550 5.1.1");
 *	reason the reply text after it up to the "; from=" tail; for
 *	rate limits the text before " from" ("Connection rate limit exceeded:
 *	9"); for SASL failures the backend reason as logged, user the tried
 *	name unless "(unavailable)"; for warnings without a client the text
 *	after "warning: "; for fatal errors the text after "fatal: ".
 *
 *	TLS session lines, SSL_accept errors, "discarding EHLO keywords",
 *	Cyrus "SASL authentication failure:" library messages (no client),
 *	warn/info/filter/redirect/bcc decisions and proxy-accept/-reject (no
 *	client) are not events (return 0).
 * RETURNS
 *	1 with *ret_ev filled for a known event; 0 when the line is not one we
 *	know (the caller counts it as unrecognised). Never logs, never
 *	allocates after the first call.
 * OWNERSHIP
 *	Event fields are copied into the event's arena (event_set()).
 * SEE ALSO
 *	event.h, shape.h, tests/check_smtpd.c, Postfix src/smtpd/smtpd.c,
 *	smtpd_check.c, smtpd_sasl_glue.c, smtpd_peer.c
 */
#include <pthread.h>
#include <string.h>

#include "parser.h"
#include "shape.h"

/* shape flags: may / must the message carry a "QID: " or "NOQUEUE: " prefix */
#define SMTPD_QID_MAY	1
#define SMTPD_QID_MUST	2

/* the longest token we take for a queue id (long ids are 15-17 characters) */
#define SMTPD_QID_MAX	32

#define NAMADDR \
	"(?<namaddr>[^\\s\\[\\]]*\\[[^\\s\\[\\]]{1,64}\\](?::\\d{1,5})?)"
#define REPLY	"(?:(?<reply>\\d{3}(?: \\d\\.\\d{1,3}\\.\\d{1,3})?) )?"
/*
 * The key/value tail of a policy decision: each key only when known; 3.10
 * adds the SASL keys (bare), Milter replies write sasl_username=<...>.
 */
#define WHATSUP \
	"(?:;(?: from=<(?<from>[^>]*)>)?(?: to=<(?<to>[^>]*)>)?(?: proto=\\S*)?" \
	"(?: helo=<?(?<helo>.*?)>?)?(?: sasl_method=(?<method>\\S*))?" \
	"(?: sasl_username=<?(?<user>.*?)>?)?(?: sasl_sender=<?.*?>?)?)?"
#define DECISION \
	"(?s)^[a-z_-]+: (?<stage>\\S+) from " NAMADDR ": " REPLY "(?<reason>.*?)" WHATSUP "$"
#define ABNORMAL(what) \
	"^" what " after (?<stage>\\S+)(?: \\(\\d+ bytes\\))? from " NAMADDR "$"
#define RATE \
	"^warning: (?<reason>[A-Za-z ]+ limit exceeded: \\d+) from " NAMADDR " for service \\S+$"

static struct mx_shape smtpd_shapes[] = {
	SHAPE("connect from ", MX_EVENT_CONNECT, "^connect from " NAMADDR "$"),
	SHAPE("disconnect from ", MX_EVENT_DISCONNECT,
	  "^disconnect from " NAMADDR "(?: (?<stats>.*))?$"),
	SHAPE_X("client=", MX_EVENT_QUEUED,
	  "^client=" NAMADDR "(?:, sasl_method=(?<method>[^,]*))?(?:, sasl_username=(?<user>.*?))?"
	  "(?:, sasl_sender=.*?)?(?:, orig_queue_id=[^,]*)?(?:, orig_client=.*?)?$",
	  NULL, NULL, SMTPD_QID_MUST),
	SHAPE_X("lost connection after ", MX_EVENT_LOST_CONNECTION, ABNORMAL("lost connection"),
	  NULL, NULL, SMTPD_QID_MAY),
	SHAPE_X("timeout after ", MX_EVENT_TIMEOUT, ABNORMAL("timeout"), NULL, NULL, SMTPD_QID_MAY),
	SHAPE_X("too many errors after ", MX_EVENT_TOO_MANY_ERRORS, ABNORMAL("too many errors"),
	  NULL, NULL, SMTPD_QID_MAY),
	SHAPE_X("bare <LF> received after ", MX_EVENT_LOST_CONNECTION,
	  ABNORMAL("bare <LF> received"), NULL, "bare <LF> received", SMTPD_QID_MAY),
	SHAPE_X("improper command pipelining after ", MX_EVENT_IMPROPER_PIPELINING,
	  "(?s)^improper command pipelining after (?<stage>\\S+) from " NAMADDR
	  "(?::(?: (?<reason>.*))?)?$", NULL, NULL, SMTPD_QID_MAY),
	/* policy decisions (smtpd_check.c log_whatsup(), Milter replies) */
	SHAPE_X("reject: ", MX_EVENT_REJECT, DECISION, NULL, NULL, SMTPD_QID_MUST),
	SHAPE_X("reject_warning: ", MX_EVENT_REJECT_WARNING, DECISION, NULL, NULL, SMTPD_QID_MUST),
	SHAPE_X("milter-reject: ", MX_EVENT_REJECT, DECISION, NULL, NULL, SMTPD_QID_MUST),
	SHAPE_X("discard: ", MX_EVENT_REJECT, DECISION, NULL, NULL, SMTPD_QID_MUST),
	SHAPE_X("milter-discard: ", MX_EVENT_REJECT, DECISION, NULL, NULL, SMTPD_QID_MUST),
	SHAPE_X("hold: ", MX_EVENT_REJECT, DECISION, NULL, NULL, SMTPD_QID_MUST),
	SHAPE_X("milter-hold: ", MX_EVENT_REJECT, DECISION, NULL, NULL, SMTPD_QID_MUST),
	SHAPE_X("delay: ", MX_EVENT_REJECT, DECISION, NULL, NULL, SMTPD_QID_MUST),
	SHAPE_X("hangup: ", MX_EVENT_REJECT, DECISION, NULL, NULL, SMTPD_QID_MUST),
	/* warnings with a client */
	SHAPE("warning: non-SMTP command from ", MX_EVENT_NON_SMTP_COMMAND,
	  "(?s)^warning: non-SMTP command from " NAMADDR ": (?<reason>.*)$"),
	SHAPE("warning: hostname ", MX_EVENT_REVERSE_DNS_MISMATCH,
	  "(?s)^warning: hostname (?<name>\\S+) does not resolve to address "
	  "(?<ip>[0-9A-Fa-f:.]{2,64}?)(?:: (?<reason>.*))?$"),
	SHAPE("warning: Connection rate limit exceeded: ", MX_EVENT_RATE_LIMIT, RATE),
	SHAPE("warning: Connection concurrency limit exceeded: ", MX_EVENT_RATE_LIMIT, RATE),
	SHAPE("warning: Message delivery request rate limit exceeded: ", MX_EVENT_RATE_LIMIT, RATE),
	SHAPE("warning: Recipient address rate limit exceeded: ", MX_EVENT_RATE_LIMIT, RATE),
	SHAPE("warning: New TLS session rate limit exceeded: ", MX_EVENT_RATE_LIMIT, RATE),
	SHAPE("warning: AUTH command rate limit exceeded: ", MX_EVENT_RATE_LIMIT, RATE),
	/* PROXY protocol: no client address in the line */
	SHAPE("warning: haproxy read: ", MX_EVENT_PROXY_ERROR,
	  "(?s)^warning: (?<reason>haproxy read: .*)$"),
	/* "warning: name[addr]: SASL MECH authentication failed: ..." -- keep last */
	SHAPE("warning: ", MX_EVENT_AUTH_FAILURE,
	  "(?s)^warning: " NAMADDR ": SASL (?<method>\\S+) "
	  "(?|authentication failed(?::? ?(?<reason>.*?))?|(?<reason>authentication aborted))"
	  "(?:, sasl_username=(?<user>.*))?$"),
	SHAPE("fatal: ", MX_EVENT_FATAL, "(?s)^fatal: (?<reason>.*)$"),
	SHAPE("panic: ", MX_EVENT_FATAL, "(?s)^panic: (?<reason>.*)$"),
};

#define SMTPD_NSHAPES	(sizeof(smtpd_shapes) / sizeof(smtpd_shapes[0]))

static pthread_once_t smtpd_once = PTHREAD_ONCE_INIT;

/* smtpd_init - compile the patterns (once per process) */
static void
smtpd_init(void)
{
	shape_compile(smtpd_shapes, SMTPD_NSHAPES);
}

/* smtpd_qid_len - length of a leading "TOKEN: " queue prefix, 0 when none */
static size_t
smtpd_qid_len(const char *msg, size_t len)
{
	for (size_t i = 0; i < len && i <= SMTPD_QID_MAX; i++) {
		if (msg[i] == '[')
			return 0;
		if (msg[i] == ':')
			return i > 0 && i + 1 < len && msg[i + 1] == ' ' ? i : 0;
	}
	return 0;
}

/* smtpd_is_queue_id - a real queue id: letters and digits, not NOQUEUE */
static int
smtpd_is_queue_id(const char *s, size_t len)
{
	if (len == 7 && memcmp(s, "NOQUEUE", 7) == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z')))
			return 0;
	return 1;
}

/* smtpd_finish - the SASL user decides between queued and auth_success */
static void
smtpd_finish(struct mx_event *ev)
{
	if (ev->user != NULL && strcmp(ev->user, "(unavailable)") == 0)
		ev->user = NULL;
	if (ev->kind == MX_EVENT_QUEUED && ev->user != NULL)
		ev->kind = MX_EVENT_AUTH_SUCCESS;
}

/* smtpd_parse - one smtpd message to one event */
int
smtpd_parse(const struct mx_record *rec, struct mx_event *ret_ev)
{
	const struct mx_shape *sh;
	const char *msg = rec->msg;
	size_t len = rec->msg_len, qlen;

	pthread_once(&smtpd_once, smtpd_init);
	sh = shape_find(smtpd_shapes, SMTPD_NSHAPES, msg, len);
	if (sh != NULL) {
		if ((sh->flags & SMTPD_QID_MUST) || !shape_apply(sh, msg, len, ret_ev))
			return 0;
		smtpd_finish(ret_ev);
		return 1;
	}
	if ((qlen = smtpd_qid_len(msg, len)) == 0)
		return 0;
	sh = shape_find(smtpd_shapes, SMTPD_NSHAPES, msg + qlen + 2, len - qlen - 2);
	if (sh == NULL || (sh->flags & (SMTPD_QID_MAY | SMTPD_QID_MUST)) == 0 ||
	    !shape_apply(sh, msg + qlen + 2, len - qlen - 2, ret_ev))
		return 0;
	if (smtpd_is_queue_id(msg, qlen) && event_set(ret_ev, &ret_ev->queue_id, msg, qlen) < 0)
		return 0;
	smtpd_finish(ret_ev);
	return 1;
}
