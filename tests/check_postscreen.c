/*
 * NAME
 *	check_postscreen - postscreen(8) lines in, exact events out
 * SYNOPSIS
 *	TZ=UTC ./tests/check_postscreen
 * DESCRIPTION
 *	One table row per line shape: the syslog tag and message go through
 *	program_parse() (tst_parse()), and every event field postscreen_parse()
 *	may set is compared; a field the row leaves out must stay unset. Rows
 *	with ret 0 are lines that must not become events. Addresses are
 *	documentation addresses (RFC 5737, RFC 3849).
 * SEE ALSO
 *	parsers/postscreen.c, tests/testutil.h
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define PS	"postfix/postscreen"
#define PS25	"postfix/smtpd-proxy25/postscreen"

static const struct ps_case {
	const char *name, *program, *msg;
	int ret;
	enum mx_event_kind kind;
	const char *listener, *ip;
	unsigned port;
	const char *sip;
	unsigned sport;
	const char *stage, *reason, *reply, *sender, *recipient, *helo;
} ps_cases[] = {
	{ .name = "CONNECT gives client and server end", .program = PS,
	  .msg = "CONNECT from [192.0.2.10]:51077 to [203.0.113.254]:25",
	  .ret = 1, .kind = MX_EVENT_CONNECT, .ip = "192.0.2.10", .port = 51077,
	  .sip = "203.0.113.254", .sport = 25 },
	{ .name = "CONNECT behind a PROXY listener keeps the listener", .program = PS25,
	  .msg = "CONNECT from [198.51.100.198]:51077 to [203.0.113.254]:25",
	  .ret = 1, .kind = MX_EVENT_CONNECT, .listener = "postfix/smtpd-proxy25",
	  .ip = "198.51.100.198", .port = 51077, .sip = "203.0.113.254", .sport = 25 },
	{ .name = "CONNECT over IPv6 is canonicalised", .program = PS25,
	  .msg = "CONNECT from [2001:DB8:0:0::1]:4711 to [2001:db8:b::25]:25",
	  .ret = 1, .kind = MX_EVENT_CONNECT, .listener = "postfix/smtpd-proxy25",
	  .ip = "2001:db8::1", .port = 4711, .sip = "2001:db8:b::25", .sport = 25 },
	{ .name = "an IPv4-mapped IPv6 client is the IPv4 client", .program = PS,
	  .msg = "CONNECT from [::ffff:192.0.2.5]:4711 to [::ffff:127.0.0.1]:25",
	  .ret = 1, .kind = MX_EVENT_CONNECT, .ip = "192.0.2.5", .port = 4711,
	  .sip = "127.0.0.1", .sport = 25 },
	{ .name = "DISCONNECT", .program = PS, .msg = "DISCONNECT [192.0.2.10]:51077",
	  .ret = 1, .kind = MX_EVENT_DISCONNECT, .ip = "192.0.2.10", .port = 51077 },
	{ .name = "PASS NEW", .program = PS, .msg = "PASS NEW [2001:db8::a:1]:36051",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_PASS_NEW, .ip = "2001:db8::a:1", .port = 36051 },
	{ .name = "PASS OLD", .program = PS, .msg = "PASS OLD [192.0.2.10]:16653",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_PASS_OLD, .ip = "192.0.2.10", .port = 16653 },
	{ .name = "PREGREET keeps the escaped client text as reason", .program = PS,
	  .msg = "PREGREET 11 after 0.2 from [198.51.100.7]:41657: EHLO User\\r\\n",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_PREGREET, .ip = "198.51.100.7", .port = 41657,
	  .reason = "EHLO User\\r\\n" },
	{ .name = "PREGREET text with an address in it does not move the client", .program = PS,
	  .msg = "PREGREET 23 after 0 from [192.0.2.1]:4711: EHLO [1.2.3.4]:5 from "
	      "[198.51.100.9]:25",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_PREGREET, .ip = "192.0.2.1", .port = 4711,
	  .reason = "EHLO [1.2.3.4]:5 from [198.51.100.9]:25" },
	{ .name = "PREGREET with binary escapes and an integer time", .program = PS,
	  .msg = "PREGREET 47 after 16 from [203.0.113.62]:62873: \\003\\000\\000/*\\340Cookie: "
	      "mstshash=Administr\\r\\n",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_PREGREET, .ip = "203.0.113.62", .port = 62873,
	  .reason = "\\003\\000\\000/*\\340Cookie: mstshash=Administr\\r\\n" },
	{ .name = "HANGUP before the handshake", .program = PS25,
	  .msg = "HANGUP after 0 from [127.0.0.10]:40049 in tests before SMTP handshake",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_HANGUP, .listener = "postfix/smtpd-proxy25",
	  .ip = "127.0.0.10", .port = 40049, .reason = "tests before SMTP handshake" },
	{ .name = "HANGUP after the handshake", .program = PS,
	  .msg = "HANGUP after 2.5 from [192.0.2.212]:12266 in tests after SMTP handshake",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_HANGUP, .ip = "192.0.2.212", .port = 12266,
	  .reason = "tests after SMTP handshake" },
	{ .name = "DNSBL rank", .program = PS, .msg = "DNSBL rank 6 for [192.0.2.30]:52340",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_DNSBL, .ip = "192.0.2.30", .port = 52340,
	  .reason = "rank 6" },
	{ .name = "COMMAND PIPELINING names the command and the excess input", .program = PS25,
	  .msg = "COMMAND PIPELINING from [192.0.2.157]:17725 after MAIL: "
	      "RCPT TO:<frank@example.net>\\r\\nDATA\\r\\n",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_PIPELINING, .listener = "postfix/smtpd-proxy25",
	  .ip = "192.0.2.157", .port = 17725, .stage = "MAIL",
	  .reason = "RCPT TO:<frank@example.net>\\r\\nDATA\\r\\n" },
	{ .name = "COMMAND PIPELINING after an empty command", .program = PS,
	  .msg = "COMMAND PIPELINING from [198.51.100.45]:12345 after : \\r\\n",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_PIPELINING, .ip = "198.51.100.45", .port = 12345,
	  .reason = "\\r\\n" },
	{ .name = "COMMAND TIME LIMIT", .program = PS,
	  .msg = "COMMAND TIME LIMIT from [192.0.2.77]:3608 after CONNECT",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_COMMAND_LIMIT, .ip = "192.0.2.77", .port = 3608,
	  .stage = "CONNECT", .reason = "COMMAND TIME LIMIT" },
	{ .name = "COMMAND COUNT LIMIT", .program = PS,
	  .msg = "COMMAND COUNT LIMIT from [192.0.2.26]:15592 after RCPT",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_COMMAND_LIMIT, .ip = "192.0.2.26", .port = 15592,
	  .stage = "RCPT", .reason = "COMMAND COUNT LIMIT" },
	{ .name = "COMMAND LENGTH LIMIT", .program = PS,
	  .msg = "COMMAND LENGTH LIMIT from [2001:db8::77]:3608 after HELO",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_COMMAND_LIMIT, .ip = "2001:db8::77", .port = 3608,
	  .stage = "HELO", .reason = "COMMAND LENGTH LIMIT" },
	{ .name = "BARE NEWLINE keeps the command line it was in", .program = PS25,
	  .msg = "BARE NEWLINE from [203.0.113.176]:43937 after EHLO User",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_BARE_NEWLINE, .listener = "postfix/smtpd-proxy25",
	  .ip = "203.0.113.176", .port = 43937, .stage = "EHLO User" },
	{ .name = "NON-SMTP COMMAND with an address in the command", .program = PS25,
	  .msg = "NON-SMTP COMMAND from [2001:db8:b501:d6da:d4f9::116c]:34275 after CONNECT: "
	      "CONNECT 192.0.2.200:443 HTTP/1.1",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_NON_SMTP_COMMAND,
	  .listener = "postfix/smtpd-proxy25",
	  .ip = "2001:db8:b501:d6da:d4f9::116c", .port = 34275, .stage = "CONNECT",
	  .reason = "CONNECT 192.0.2.200:443 HTTP/1.1" },
	{ .name = "DATA without valid RCPT", .program = PS,
	  .msg = "DATA without valid RCPT from [192.0.2.157]:17725",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_DATA_WITHOUT_RCPT, .ip = "192.0.2.157",
	  .port = 17725, .stage = "DATA" },
	{ .name = "BDAT without valid RCPT", .program = PS,
	  .msg = "BDAT without valid RCPT from [192.0.2.157]:17726",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_DATA_WITHOUT_RCPT, .ip = "192.0.2.157",
	  .port = 17726, .stage = "BDAT" },
	{ .name = "DENYLISTED", .program = PS, .msg = "DENYLISTED [203.0.113.195]:3548",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_DENYLIST, .ip = "203.0.113.195", .port = 3548 },
	{ .name = "BLACKLISTED (before respectful_logging)", .program = PS,
	  .msg = "BLACKLISTED [203.0.113.195]:3549",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_DENYLIST, .ip = "203.0.113.195", .port = 3549 },
	{ .name = "ALLOWLISTED", .program = PS, .msg = "ALLOWLISTED [::1]:47771",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_ALLOWLIST, .ip = "::1", .port = 47771 },
	{ .name = "WHITELISTED (before respectful_logging)", .program = PS,
	  .msg = "WHITELISTED [203.0.113.196]:59246",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_ALLOWLIST, .ip = "203.0.113.196", .port = 59246 },
	{ .name = "ALLOWLIST VETO", .program = PS, .msg = "ALLOWLIST VETO [192.0.2.86]:53024",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_ALLOWLIST_VETO, .ip = "192.0.2.86", .port = 53024 },
	{ .name = "WHITELIST VETO", .program = PS, .msg = "WHITELIST VETO [192.0.2.86]:53025",
	  .ret = 1, .kind = MX_EVENT_POSTSCREEN_ALLOWLIST_VETO, .ip = "192.0.2.86", .port = 53025 },
	{ .name = "postscreen's own RCPT reject with the comma-separated tail", .program = PS25,
	  .msg = "NOQUEUE: reject: RCPT from [198.51.100.198]:51077: 450 4.3.2 Service currently "
	      "unavailable; from=<sender@relay.example>, to=<frank@example.net>, proto=ESMTP, "
	      "helo=<mail.relay.example>",
	  .ret = 1, .kind = MX_EVENT_REJECT, .listener = "postfix/smtpd-proxy25",
	  .ip = "198.51.100.198", .port = 51077, .stage = "RCPT", .reply = "450 4.3.2",
	  .reason = "Service currently unavailable", .sender = "sender@relay.example",
	  .recipient = "frank@example.net", .helo = "mail.relay.example" },
	{ .name = "an RBL reply naming an address does not move the client", .program = PS,
	  .msg = "NOQUEUE: reject: RCPT from [192.0.2.184]:2413: 550 5.7.1 Service unavailable; "
	      "client [198.51.100.1] blocked using zen.example; from=<>, to=<tom@example.com>, "
	      "proto=SMTP, helo=<[198.51.100.2]>",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "192.0.2.184", .port = 2413, .stage = "RCPT",
	  .reply = "550 5.7.1",
	  .reason = "Service unavailable; client [198.51.100.1] blocked using zen.example",
	  .sender = "", .recipient = "tom@example.com", .helo = "[198.51.100.2]" },
	{ .name = "CONNECT reject: too many connections", .program = PS,
	  .msg = "NOQUEUE: reject: CONNECT from [192.0.2.4]:1337: too many connections",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "192.0.2.4", .port = 1337, .stage = "CONNECT",
	  .reason = "too many connections" },
	{ .name = "all screening ports busy has its own lower-case shape", .program = PS,
	  .msg = "reject: connect from [192.0.2.4]:1338: all screening ports busy",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "192.0.2.4", .port = 1338, .stage = "CONNECT",
	  .reason = "all screening ports busy" },
	{ .name = "haproxy read EOF is a proxy error without client", .program = PS25,
	  .msg = "warning: haproxy read: EOF",
	  .ret = 1, .kind = MX_EVENT_PROXY_ERROR, .listener = "postfix/smtpd-proxy25",
	  .reason = "haproxy read: EOF" },
	{ .name = "PROXY header timeout", .program = PS25,
	  .msg = "warning: haproxy read: time limit exceeded",
	  .ret = 1, .kind = MX_EVENT_PROXY_ERROR, .listener = "postfix/smtpd-proxy25",
	  .reason = "haproxy read: time limit exceeded" },
	{ .name = "a bad PROXY header names no client", .program = PS25,
	  .msg = "warning: haproxy read: bad or missing client address: PROXY TCP6 1.2.3.4 "
	      "4.3.2.1 123 321\\r\\n",
	  .ret = 1, .kind = MX_EVENT_PROXY_ERROR, .listener = "postfix/smtpd-proxy25",
	  .reason = "haproxy read: bad or missing client address: PROXY TCP6 1.2.3.4 4.3.2.1 "
	      "123 321\\r\\n" },
	{ .name = "getpeername failure drops the connection", .program = PS25,
	  .msg = "warning: getpeername: Transport endpoint is not connected -- dropping this "
	      "connection",
	  .ret = 1, .kind = MX_EVENT_PROXY_ERROR, .listener = "postfix/smtpd-proxy25",
	  .reason = "getpeername: Transport endpoint is not connected -- dropping this "
	      "connection" },
	{ .name = "fatal", .program = PS,
	  .msg = "fatal: unsupported postscreen_upstream_proxy_protocol value: bogus",
	  .ret = 1, .kind = MX_EVENT_FATAL,
	  .reason = "unsupported postscreen_upstream_proxy_protocol value: bogus" },
	/* lines that are not events */
	{ .name = "cache cleanup statistics are not an event", .program = PS25,
	  .msg = "cache btree:/var/lib/postfix/postscreen_2525_cache full cleanup: retained=0 "
	      "dropped=0 entries" },
	{ .name = "the respectful_logging compatibility note is not an event", .program = PS,
	  .msg = "using backwards-compatible default setting respectful_logging=no for client "
	      "[192.0.2.1]:25" },
	{ .name = "other warnings are not events", .program = PS,
	  .msg = "warning: psc_cache_update: btree:/var/lib/postfix/psc_cache update "
	      "average delay is 200 ms" },
	{ .name = "a malformed client address is not an event", .program = PS,
	  .msg = "PASS OLD [999.1.1.1]:25" },
	{ .name = "a malformed address first stops at the fixed position", .program = PS,
	  .msg = "PREGREET 30 after 0.1 from [999.1.1.1]:4711: from [192.0.2.1]:25" },
	{ .name = "a port past 65535 is malformed", .program = PS,
	  .msg = "DISCONNECT [192.0.2.1]:70000" },
	{ .name = "a truncated line is not an event", .program = PS,
	  .msg = "CONNECT from [192.0.2.10]:51077 to [203.0.113." },
	{ .name = "an address without brackets is not postscreen's", .program = PS,
	  .msg = "PASS OLD 192.0.2.10:16653" },
	{ .name = "trailing text after a complete shape is not accepted", .program = PS,
	  .msg = "DNSBL rank 6 for [192.0.2.30]:52340 extra" },
	{ .name = "an empty message is not an event", .program = PS, .msg = "" },
	{ .name = "garbage is not an event", .program = PS, .msg = "\x01\x02\xff PASS" },
	{ .name = "smtpd text under the postscreen tag is not an event", .program = PS,
	  .msg = "connect from unknown[192.0.2.1]" },
};

START_TEST(postscreen_line_gives_expected_event)
{
	const struct ps_case *c = &ps_cases[_i];
	struct mx_event *ev = tst_event();
	int r;

	r = tst_parse(c->program, c->msg, ev);
	ck_assert_msg(r == c->ret, "%s: returned %d, want %d", c->name, r, c->ret);
	if (c->ret != 1)
		return;
	tst_event_is(ev, &(struct tst_want){
		.kind = c->kind, .daemon = "postscreen",
		.listener = c->listener != NULL ? c->listener : "postfix",
		.client_ip = c->ip, .client_port = c->port,
		.server_ip = c->sip, .server_port = c->sport,
		.stage = c->stage, .reason = c->reason, .reply = c->reply,
		.sender = c->sender, .recipient = c->recipient, .helo = c->helo,
	}, c->name);
}
END_TEST

/* every postscreen event kind has at least one row */
START_TEST(postscreen_table_covers_every_kind)
{
	static const enum mx_event_kind kinds[] = {
		MX_EVENT_CONNECT, MX_EVENT_DISCONNECT, MX_EVENT_REJECT, MX_EVENT_PROXY_ERROR,
		MX_EVENT_FATAL, MX_EVENT_POSTSCREEN_PASS_NEW, MX_EVENT_POSTSCREEN_PASS_OLD,
		MX_EVENT_POSTSCREEN_PREGREET, MX_EVENT_POSTSCREEN_HANGUP,
		MX_EVENT_POSTSCREEN_PIPELINING, MX_EVENT_POSTSCREEN_BARE_NEWLINE,
		MX_EVENT_POSTSCREEN_NON_SMTP_COMMAND, MX_EVENT_POSTSCREEN_DNSBL,
		MX_EVENT_POSTSCREEN_DENYLIST, MX_EVENT_POSTSCREEN_ALLOWLIST,
		MX_EVENT_POSTSCREEN_ALLOWLIST_VETO, MX_EVENT_POSTSCREEN_COMMAND_LIMIT,
		MX_EVENT_POSTSCREEN_DATA_WITHOUT_RCPT,
	};

	for (size_t k = 0; k < N(kinds); k++) {
		int found = 0;

		for (size_t i = 0; i < N(ps_cases); i++)
			found |= ps_cases[i].ret == 1 && ps_cases[i].kind == kinds[k];
		ck_assert_msg(found, "no row for %s", event_kind_name(kinds[k]));
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("postscreen");
	TCase *tc = tcase_create("lines");

	tcase_add_loop_test(tc, postscreen_line_gives_expected_event, 0, (int)N(ps_cases));
	tcase_add_test(tc, postscreen_table_covers_every_kind);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
