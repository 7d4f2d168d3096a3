/*
 * NAME
 *	postscreen - recognise postscreen(8) log records
 * SYNOPSIS
 *	#include "parser.h"
 *
 *	int postscreen_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 * DESCRIPTION
 *	Turns the message part of one postscreen record into one typed event:
 *	CONNECT (client and server end), DISCONNECT, PASS NEW/OLD, the test
 *	verdicts (PREGREET, HANGUP, COMMAND PIPELINING, BARE NEWLINE, NON-SMTP
 *	COMMAND, COMMAND TIME|COUNT|LENGTH LIMIT, DATA|BDAT without valid RCPT,
 *	DNSBL rank), the permanent allow/deny list and its DNS veto, postscreen's
 *	own rejects, PROXY-protocol and endpoint failures, and fatal errors.
 *	Time, host and listener were already split off by envelope.c and
 *	program.c.
 *
 *	postscreen writes the client as "[addr]:port", the address bare inside
 *	the brackets (IPv6 included); behind a PROXY listener it is the address
 *	from the PROXY header. Every pattern anchors the address to its fixed
 *	position right after the keyword, so client text logged later in the
 *	line (PREGREET bytes, NON-SMTP commands, "client [addr] blocked using")
 *	never becomes the client.
 *
 *	Fields: reason is the client text for PREGREET, COMMAND PIPELINING and
 *	NON-SMTP COMMAND, the test phase for HANGUP ("tests after SMTP
 *	handshake"), "rank N" for DNSBL, the limit for COMMAND ... LIMIT
 *	("COMMAND TIME LIMIT"), the reply text for rejects and the warning text
 *	(after "warning: ") for PROXY errors. stage is the SMTP command named
 *	after "after" (for BARE NEWLINE that is the escaped command line itself,
 *	as postscreen logs it), "RCPT"/"CONNECT" for rejects.
 *
 *	Cache cleanup statistics, "using backwards-compatible default setting"
 *	notes and every other line are not events (return 0).
 * RETURNS
 *	1 with *ret_ev filled for a known event; 0 when the line is not one we
 *	know or its client address is not an IP address (the caller counts it
 *	as unrecognised). Never logs, never allocates after the first call.
 * OWNERSHIP
 *	Event fields are copied into the event's arena (event_set()).
 * SEE ALSO
 *	event.h (the event contract), shape.h, tests/check_postscreen.c,
 *	Postfix src/postscreen/
 */
#include <pthread.h>

#include "parser.h"
#include "shape.h"

/* the client designation, always right after its keyword */
#define PS_CLIENT	"\\[(?<ip>[^\\s\\[\\]]{1,64})\\]:(?<port>\\d{1,5})"
/* "450 4.3.2" / "550" in front of a reply text */
#define PS_REPLY	"(?:(?<reply>\\d{3}(?: \\d\\.\\d{1,3}\\.\\d{1,3})?) )?"
/* the tail of postscreen's own RCPT reject (comma-separated, all four keys) */
#define PS_WHATSUP \
	"(?:; from=<(?<from>[^>]*)>,? to=<(?<to>[^>]*)>,? proto=[^,\\s]*,? helo=<(?<helo>.*)>)?"

static struct mx_shape postscreen_shapes[] = {
	/* the everyday lines first */
	SHAPE("CONNECT from ", MX_EVENT_CONNECT,
	  "^CONNECT from " PS_CLIENT " to \\[(?<sip>[^\\s\\[\\]]{1,64})\\]:(?<sport>\\d{1,5})$"),
	SHAPE("PASS OLD ", MX_EVENT_POSTSCREEN_PASS_OLD, "^PASS OLD " PS_CLIENT "$"),
	SHAPE("PASS NEW ", MX_EVENT_POSTSCREEN_PASS_NEW, "^PASS NEW " PS_CLIENT "$"),
	SHAPE("DISCONNECT ", MX_EVENT_DISCONNECT, "^DISCONNECT " PS_CLIENT "$"),
	/* before-220 tests */
	SHAPE("PREGREET ", MX_EVENT_POSTSCREEN_PREGREET,
	  "(?s)^PREGREET \\d+ after \\S+ from " PS_CLIENT ": (?<reason>.*)$"),
	SHAPE("HANGUP after ", MX_EVENT_POSTSCREEN_HANGUP,
	  "(?s)^HANGUP after \\S+ from " PS_CLIENT " in (?<reason>.*)$"),
	SHAPE("DNSBL rank ", MX_EVENT_POSTSCREEN_DNSBL,
	  "^DNSBL (?<reason>rank \\d+) for " PS_CLIENT "$"),
	/* after-220 (deep protocol) tests */
	SHAPE("COMMAND PIPELINING from ", MX_EVENT_POSTSCREEN_PIPELINING,
	  "(?s)^COMMAND PIPELINING from " PS_CLIENT " after (?<stage>\\S*?): (?<reason>.*)$"),
	SHAPE("COMMAND ", MX_EVENT_POSTSCREEN_COMMAND_LIMIT,
	  "(?s)^(?<reason>COMMAND (?:TIME|COUNT|LENGTH) LIMIT) from " PS_CLIENT
	  " after (?<stage>.*)$"),
	SHAPE("BARE NEWLINE from ", MX_EVENT_POSTSCREEN_BARE_NEWLINE,
	  "(?s)^BARE NEWLINE from " PS_CLIENT " after (?<stage>.*)$"),
	SHAPE("NON-SMTP COMMAND from ", MX_EVENT_POSTSCREEN_NON_SMTP_COMMAND,
	  "(?s)^NON-SMTP COMMAND from " PS_CLIENT " after (?<stage>\\S*?): (?<reason>.*)$"),
	SHAPE("DATA without valid RCPT from ", MX_EVENT_POSTSCREEN_DATA_WITHOUT_RCPT,
	  "^(?<stage>DATA) without valid RCPT from " PS_CLIENT "$"),
	SHAPE("BDAT without valid RCPT from ", MX_EVENT_POSTSCREEN_DATA_WITHOUT_RCPT,
	  "^(?<stage>BDAT) without valid RCPT from " PS_CLIENT "$"),
	/* permanent access list; the old words before respectful_logging */
	SHAPE("DENYLISTED ", MX_EVENT_POSTSCREEN_DENYLIST, "^DENYLISTED " PS_CLIENT "$"),
	SHAPE("BLACKLISTED ", MX_EVENT_POSTSCREEN_DENYLIST, "^BLACKLISTED " PS_CLIENT "$"),
	SHAPE("ALLOWLISTED ", MX_EVENT_POSTSCREEN_ALLOWLIST, "^ALLOWLISTED " PS_CLIENT "$"),
	SHAPE("WHITELISTED ", MX_EVENT_POSTSCREEN_ALLOWLIST, "^WHITELISTED " PS_CLIENT "$"),
	SHAPE("ALLOWLIST VETO ", MX_EVENT_POSTSCREEN_ALLOWLIST_VETO,
	  "^ALLOWLIST VETO " PS_CLIENT "$"),
	SHAPE("WHITELIST VETO ", MX_EVENT_POSTSCREEN_ALLOWLIST_VETO,
	  "^WHITELIST VETO " PS_CLIENT "$"),
	/* postscreen's own rejects */
	SHAPE("NOQUEUE: reject: RCPT from ", MX_EVENT_REJECT,
	  "(?s)^NOQUEUE: reject: (?<stage>RCPT) from " PS_CLIENT ": " PS_REPLY
	  "(?<reason>.*?)" PS_WHATSUP "$"),
	SHAPE("NOQUEUE: reject: CONNECT from ", MX_EVENT_REJECT,
	  "(?s)^NOQUEUE: reject: (?<stage>CONNECT) from " PS_CLIENT ": " PS_REPLY
	  "(?<reason>.*)$"),
	/* "all screening ports busy": no NOQUEUE, lower-case connect (2.8 .. 3.12) */
	SHAPE_X("reject: connect from ", MX_EVENT_REJECT,
	  "(?s)^reject: connect from " PS_CLIENT ": (?<reason>.*)$", "CONNECT", NULL, 0),
	/* PROXY protocol and endpoint trouble: no client address in the line */
	SHAPE("warning: haproxy read: ", MX_EVENT_PROXY_ERROR,
	  "(?s)^warning: (?<reason>haproxy read: .*)$"),
	SHAPE("warning: ", MX_EVENT_PROXY_ERROR,
	  "(?s)^warning: (?<reason>.* -- dropping this connection)$"),
	SHAPE("fatal: ", MX_EVENT_FATAL, "(?s)^fatal: (?<reason>.*)$"),
	SHAPE("panic: ", MX_EVENT_FATAL, "(?s)^panic: (?<reason>.*)$"),
};

#define PS_NSHAPES	(sizeof(postscreen_shapes) / sizeof(postscreen_shapes[0]))

static pthread_once_t postscreen_once = PTHREAD_ONCE_INIT;

/* postscreen_init - compile the patterns (once per process) */
static void
postscreen_init(void)
{
	shape_compile(postscreen_shapes, PS_NSHAPES);
}

/* postscreen_parse - one postscreen message to one event */
int
postscreen_parse(const struct mx_record *rec, struct mx_event *ret_ev)
{
	const struct mx_shape *sh;

	pthread_once(&postscreen_once, postscreen_init);
	sh = shape_find(postscreen_shapes, PS_NSHAPES, rec->msg, rec->msg_len);
	if (sh == NULL)
		return 0;
	return shape_apply(sh, rec->msg, rec->msg_len, ret_ev);
}
