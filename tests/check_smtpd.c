/*
 * NAME
 *	check_smtpd - smtpd(8) lines in, exact events out
 * SYNOPSIS
 *	TZ=UTC ./tests/check_smtpd
 * DESCRIPTION
 *	One table row per line shape: the syslog tag and message go through
 *	program_parse() (tst_parse()), and every event field smtpd_parse() may
 *	set is compared; a field the row leaves out must stay unset. Rows with
 *	ret 0 are lines that must not become events. Addresses are
 *	documentation addresses (RFC 5737, RFC 3849).
 * SEE ALSO
 *	parsers/smtpd.c, tests/testutil.h
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define SD	"postfix/smtpd"
#define SUB	"postfix/submission/smtpd"
#define PX587	"postfix/smtpd-proxy587/smtpd"

static const struct sd_case {
	const char *name, *program, *msg;
	int ret;
	enum mx_event_kind kind;
	const char *listener, *ip;
	unsigned port;
	const char *cname, *user, *method, *qid, *stage, *reply, *reason;
	const char *sender, *recipient, *helo, *stats;
} sd_cases[] = {
	/* sessions */
	{ .name = "connect from an unverified client", .program = SD,
	  .msg = "connect from unknown[198.51.100.198]",
	  .ret = 1, .kind = MX_EVENT_CONNECT, .ip = "198.51.100.198", .cname = "unknown" },
	{ .name = "connect with client port logging", .program = SD,
	  .msg = "connect from mail.example.net[192.0.2.25]:52144",
	  .ret = 1, .kind = MX_EVENT_CONNECT, .ip = "192.0.2.25", .port = 52144,
	  .cname = "mail.example.net" },
	{ .name = "connect over IPv6 on a PROXY listener", .program = PX587,
	  .msg = "connect from unknown[2001:db8:bb49:eb52:3c0d::9eb6]",
	  .ret = 1, .kind = MX_EVENT_CONNECT, .listener = "postfix/smtpd-proxy587",
	  .ip = "2001:db8:bb49:eb52:3c0d::9eb6", .cname = "unknown" },
	{ .name = "an IPv6: address literal is canonicalised", .program = SD,
	  .msg = "connect from mail.example.net[IPv6:2001:DB8::7]",
	  .ret = 1, .kind = MX_EVENT_CONNECT, .ip = "2001:db8::7", .cname = "mail.example.net" },
	{ .name = "unknown[unknown] is a connect without client_ip", .program = PX587,
	  .msg = "connect from unknown[unknown]",
	  .ret = 1, .kind = MX_EVENT_CONNECT, .listener = "postfix/smtpd-proxy587",
	  .cname = "unknown" },
	{ .name = "disconnect keeps the raw command statistics", .program = PX587,
	  .msg = "disconnect from unknown[203.0.113.193] ehlo=1 auth=0/1 quit=1 commands=2/3",
	  .ret = 1, .kind = MX_EVENT_DISCONNECT, .listener = "postfix/smtpd-proxy587",
	  .ip = "203.0.113.193", .cname = "unknown",
	  .stats = "ehlo=1 auth=0/1 quit=1 commands=2/3" },
	{ .name = "disconnect of a probe without address", .program = PX587,
	  .msg = "disconnect from unknown[unknown] commands=0/0",
	  .ret = 1, .kind = MX_EVENT_DISCONNECT, .listener = "postfix/smtpd-proxy587",
	  .cname = "unknown", .stats = "commands=0/0" },
	{ .name = "disconnect without statistics (Postfix < 3.0)", .program = SD,
	  .msg = "disconnect from mail.example.net[192.0.2.61]",
	  .ret = 1, .kind = MX_EVENT_DISCONNECT, .ip = "192.0.2.61", .cname = "mail.example.net" },
	{ .name = "lost connection after EHLO", .program = SD,
	  .msg = "lost connection after EHLO from unknown[198.51.100.198]",
	  .ret = 1, .kind = MX_EVENT_LOST_CONNECTION, .ip = "198.51.100.198", .cname = "unknown",
	  .stage = "EHLO" },
	{ .name = "lost connection inside DATA with a byte count", .program = SD,
	  .msg = "lost connection after DATA (7774180 bytes) from unknown[192.0.2.7]",
	  .ret = 1, .kind = MX_EVENT_LOST_CONNECTION, .ip = "192.0.2.7", .cname = "unknown",
	  .stage = "DATA" },
	{ .name = "Postfix 3.10 NOQUEUE prefix on lost connection", .program = SD,
	  .msg = "NOQUEUE: lost connection after CONNECT from unknown[192.0.2.25]",
	  .ret = 1, .kind = MX_EVENT_LOST_CONNECTION, .ip = "192.0.2.25", .cname = "unknown",
	  .stage = "CONNECT" },
	{ .name = "Postfix 3.10 queue id prefix on lost connection", .program = SD,
	  .msg = "4Bx7Yt3Qz1z9vHk: lost connection after BDAT (0 bytes) from x.example[192.0.2.26]",
	  .ret = 1, .kind = MX_EVENT_LOST_CONNECTION, .ip = "192.0.2.26", .cname = "x.example",
	  .qid = "4Bx7Yt3Qz1z9vHk", .stage = "BDAT" },
	{ .name = "lost connection with port logging, IPv6", .program = "postfix/smtps/smtpd",
	  .msg = "lost connection after AUTH from host.example.net[2001:db8::a11:beef:7ac0]:59123",
	  .ret = 1, .kind = MX_EVENT_LOST_CONNECTION, .listener = "postfix/smtps",
	  .ip = "2001:db8::a11:beef:7ac0", .port = 59123, .cname = "host.example.net",
	  .stage = "AUTH" },
	{ .name = "timeout", .program = SD,
	  .msg = "timeout after END-OF-MESSAGE from unknown[192.0.2.8]",
	  .ret = 1, .kind = MX_EVENT_TIMEOUT, .ip = "192.0.2.8", .cname = "unknown",
	  .stage = "END-OF-MESSAGE" },
	{ .name = "too many errors", .program = SD,
	  .msg = "too many errors after RCPT from example.com[192.0.2.11]",
	  .ret = 1, .kind = MX_EVENT_TOO_MANY_ERRORS, .ip = "192.0.2.11", .cname = "example.com",
	  .stage = "RCPT" },
	{ .name = "bare <LF> received (3.7.9 only) is a lost connection with reason", .program = SD,
	  .msg = "bare <LF> received after CONNECT from example.net[192.0.2.4]",
	  .ret = 1, .kind = MX_EVENT_LOST_CONNECTION, .ip = "192.0.2.4", .cname = "example.net",
	  .stage = "CONNECT", .reason = "bare <LF> received" },
	{ .name = "improper pipelining keeps the client text", .program = PX587,
	  .msg = "improper command pipelining after CONNECT from unknown[203.0.113.194]: "
	      "EHLO User\\r\\n",
	  .ret = 1, .kind = MX_EVENT_IMPROPER_PIPELINING, .listener = "postfix/smtpd-proxy587",
	  .ip = "203.0.113.194", .cname = "unknown", .stage = "CONNECT",
	  .reason = "EHLO User\\r\\n" },
	{ .name = "improper pipelining with an address in the text", .program = SD,
	  .msg = "improper command pipelining after EHLO from unknown[192.0.2.7]: "
	      "MAIL FROM:<a@[198.51.100.1]>\\r\\n",
	  .ret = 1, .kind = MX_EVENT_IMPROPER_PIPELINING, .ip = "192.0.2.7", .cname = "unknown",
	  .stage = "EHLO", .reason = "MAIL FROM:<a@[198.51.100.1]>\\r\\n" },
	{ .name = "improper pipelining with empty text", .program = SD,
	  .msg = "improper command pipelining after DATA from unknown[192.0.2.88]:",
	  .ret = 1, .kind = MX_EVENT_IMPROPER_PIPELINING, .ip = "192.0.2.88", .cname = "unknown",
	  .stage = "DATA" },
	{ .name = "non-SMTP command", .program = SUB,
	  .msg = "warning: non-SMTP command from unknown[192.0.2.1]: GET / HTTP/1.1",
	  .ret = 1, .kind = MX_EVENT_NON_SMTP_COMMAND, .listener = "postfix/submission",
	  .ip = "192.0.2.1", .cname = "unknown", .reason = "GET / HTTP/1.1" },
	/* authentication */
	{ .name = "SASL failure with the tried user (3.7.11)", .program = SUB,
	  .msg = "warning: unknown[127.0.5.6]: SASL PLAIN authentication failed: "
	      "(reason unavailable), sasl_username=heidi@example.net",
	  .ret = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "postfix/submission",
	  .ip = "127.0.5.6", .cname = "unknown", .user = "heidi@example.net", .method = "PLAIN",
	  .reason = "(reason unavailable)" },
	{ .name = "SASL failure when Dovecot timed out", .program = PX587,
	  .msg = "warning: unknown[203.0.113.193]: SASL PLAIN authentication failed: Connection "
	      "lost to authentication server, sasl_username=heidi@example.net",
	  .ret = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "postfix/smtpd-proxy587",
	  .ip = "203.0.113.193", .cname = "unknown", .user = "heidi@example.net",
	  .method = "PLAIN", .reason = "Connection lost to authentication server" },
	{ .name = "SASL failure without username (old Postfix), base64 reason", .program = SUB,
	  .msg = "warning: unknown[192.0.2.233]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
	  .ret = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "postfix/submission",
	  .ip = "192.0.2.233", .cname = "unknown", .method = "LOGIN", .reason = "UGFzc3dvcmQ6" },
	{ .name = "SASL failure with an empty reason and client port", .program = SD,
	  .msg = "warning: mail.example.com[192.0.2.237]:55729: SASL Plain authentication failed:",
	  .ret = 1, .kind = MX_EVENT_AUTH_FAILURE, .ip = "192.0.2.237", .port = 55729,
	  .cname = "mail.example.com", .method = "Plain" },
	{ .name = "(unavailable) is no user", .program = PX587,
	  .msg = "warning: unknown[2001:db8::5]: SASL LOGIN authentication failed: "
	      "(reason unavailable), sasl_username=(unavailable)",
	  .ret = 1, .kind = MX_EVENT_AUTH_FAILURE, .listener = "postfix/smtpd-proxy587",
	  .ip = "2001:db8::5", .cname = "unknown", .method = "LOGIN",
	  .reason = "(reason unavailable)" },
	{ .name = "a user name with spaces and commas is kept whole", .program = SD,
	  .msg = "warning: unknown[192.0.2.152]: SASL LOGIN authentication failed: "
	      "authentication failure, sasl_username=john doe, sales@example.com",
	  .ret = 1, .kind = MX_EVENT_AUTH_FAILURE, .ip = "192.0.2.152", .cname = "unknown",
	  .user = "john doe, sales@example.com", .method = "LOGIN",
	  .reason = "authentication failure" },
	{ .name = "SASL aborted by the client", .program = SD,
	  .msg = "warning: unknown[192.0.2.153]: SASL LOGIN authentication aborted",
	  .ret = 1, .kind = MX_EVENT_AUTH_FAILURE, .ip = "192.0.2.153", .cname = "unknown",
	  .method = "LOGIN", .reason = "authentication aborted" },
	{ .name = "client= with SASL is a successful login", .program = PX587,
	  .msg = "626261041E7: client=unknown[192.0.2.175], sasl_method=PLAIN, "
	      "sasl_username=frank@example.net",
	  .ret = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "postfix/smtpd-proxy587",
	  .ip = "192.0.2.175", .cname = "unknown", .user = "frank@example.net", .method = "PLAIN",
	  .qid = "626261041E7" },
	{ .name = "client= with SASL and the optional keys after it", .program = SUB,
	  .msg = "3F2A1C0B1: client=host.example[192.0.2.176], sasl_method=LOGIN, "
	      "sasl_username=grace@example.net, sasl_sender=grace@example.net, "
	      "orig_queue_id=1A2B3C, orig_client=x[192.0.2.99]",
	  .ret = 1, .kind = MX_EVENT_AUTH_SUCCESS, .listener = "postfix/submission",
	  .ip = "192.0.2.176", .cname = "host.example", .user = "grace@example.net",
	  .method = "LOGIN", .qid = "3F2A1C0B1" },
	{ .name = "client= without SASL is a queued message", .program = SD,
	  .msg = "0F7C61041AF: client=unknown[2001:db8:bb49:eb52:3c0d::9eb6]",
	  .ret = 1, .kind = MX_EVENT_QUEUED, .ip = "2001:db8:bb49:eb52:3c0d::9eb6",
	  .cname = "unknown", .qid = "0F7C61041AF" },
	/* policy decisions */
	{ .name = "NOQUEUE reject with the full tail", .program = SD,
	  .msg = "NOQUEUE: reject: RCPT from unknown[198.51.100.175]: 554 5.7.1 "
	      "<unknown[198.51.100.175]>: Client host rejected: Access denied; "
	      "from=<promo@offers.example> to=<heidi@example.net> proto=ESMTP "
	      "helo=<mail.relay.example>",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "198.51.100.175", .cname = "unknown",
	  .stage = "RCPT", .reply = "554 5.7.1",
	  .reason = "<unknown[198.51.100.175]>: Client host rejected: Access denied",
	  .sender = "promo@offers.example", .recipient = "heidi@example.net",
	  .helo = "mail.relay.example" },
	{ .name = "reject with a queue id (an earlier recipient was accepted)", .program = SUB,
	  .msg = "871531041F1: reject: RCPT from unknown[127.0.5.5]: 550 5.1.1 <root@example.net>: "
	      "Recipient address rejected: User unknown in virtual mailbox table; "
	      "from=<grace@example.net> to=<root@example.net> proto=ESMTP helo=<[127.0.5.5]>",
	  .ret = 1, .kind = MX_EVENT_REJECT, .listener = "postfix/submission", .ip = "127.0.5.5",
	  .cname = "unknown", .qid = "871531041F1", .stage = "RCPT", .reply = "550 5.1.1",
	  .reason = "<root@example.net>: Recipient address rejected: User unknown in virtual "
	      "mailbox table",
	  .sender = "grace@example.net", .recipient = "root@example.net", .helo = "[127.0.5.5]" },
	{ .name = "an RBL reply with semicolons and addresses in it", .program = SD,
	  .msg = "NOQUEUE: reject: RCPT from bad.example[192.0.2.34]: 454 4.7.1 Service "
	      "unavailable; Client host [198.51.100.34] blocked using rbl.example; "
	      "http://rbl.example/q?ip=198.51.100.34; from=<> to=<good@example.com> "
	      "proto=ESMTP helo=<bad.example>",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "192.0.2.34", .cname = "bad.example",
	  .stage = "RCPT", .reply = "454 4.7.1",
	  .reason = "Service unavailable; Client host [198.51.100.34] blocked using rbl.example; "
	      "http://rbl.example/q?ip=198.51.100.34",
	  .sender = "", .recipient = "good@example.com", .helo = "bad.example" },
	{ .name = "reject at HELO without sender or recipient", .program = "postfix-incoming/smtpd",
	  .msg = "NOQUEUE: reject: EHLO from s1.example[192.0.2.38]: 504 5.5.2 <User>: Helo "
	      "command rejected: need fully-qualified hostname; proto=SMTP helo=<User>",
	  .ret = 1, .kind = MX_EVENT_REJECT, .listener = "postfix-incoming", .ip = "192.0.2.38",
	  .cname = "s1.example", .stage = "EHLO", .reply = "504 5.5.2",
	  .reason = "<User>: Helo command rejected: need fully-qualified hostname",
	  .helo = "User" },
	{ .name = "reject without enhanced code or tail", .program = SD,
	  .msg = "NOQUEUE: reject: RCPT from unknown[192.0.2.41]: 554 Service unavailable",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "192.0.2.41", .cname = "unknown",
	  .stage = "RCPT", .reply = "554", .reason = "Service unavailable" },
	{ .name = "reject over IPv6 from a named client", .program = SD,
	  .msg = "NOQUEUE: reject: RCPT from v6.example.net[2001:db8:456:123::1]: 554 5.7.1 "
	      "<x@example.com>: Relay access denied; from=<a@example.org> to=<x@example.com> "
	      "proto=ESMTP helo=<v6.example.net>",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "2001:db8:456:123::1", .cname = "v6.example.net",
	  .stage = "RCPT", .reply = "554 5.7.1", .reason = "<x@example.com>: Relay access denied",
	  .sender = "a@example.org", .recipient = "x@example.com", .helo = "v6.example.net" },
	{ .name = "Postfix 3.10 SASL keys in the tail", .program = SUB,
	  .msg = "NOQUEUE: reject: RCPT from unknown[192.0.2.42]: 553 5.7.1 <f@example.com>: "
	      "Sender address rejected: not owned by user bob; from=<f@example.com> "
	      "to=<t@example.net> proto=ESMTP helo=<pc> sasl_method=PLAIN sasl_username=bob",
	  .ret = 1, .kind = MX_EVENT_REJECT, .listener = "postfix/submission", .ip = "192.0.2.42",
	  .cname = "unknown", .user = "bob", .method = "PLAIN", .stage = "RCPT",
	  .reply = "553 5.7.1", .reason = "<f@example.com>: Sender address rejected: not owned by "
	      "user bob",
	  .sender = "f@example.com", .recipient = "t@example.net", .helo = "pc" },
	{ .name = "reject_warning is its own kind", .program = SD,
	  .msg = "NOQUEUE: reject_warning: RCPT from example.com[192.0.2.43]: 553 5.7.1 "
	      "<s@example.com>: Sender address rejected: not owned by user ph123; "
	      "from=<s@example.com> to=<r@example.com> proto=ESMTP helo=<example.com>",
	  .ret = 1, .kind = MX_EVENT_REJECT_WARNING, .ip = "192.0.2.43", .cname = "example.com",
	  .stage = "RCPT", .reply = "553 5.7.1",
	  .reason = "<s@example.com>: Sender address rejected: not owned by user ph123",
	  .sender = "s@example.com", .recipient = "r@example.com", .helo = "example.com" },
	{ .name = "milter-reject with a queue id", .program = SD,
	  .msg = "1D8CC1CA0A7F: milter-reject: DATA from m.example.com[192.0.2.151]: 550 5.7.1 "
	      "Command rejected; from=<sec@example.com> to=<hm@example.com> proto=ESMTP "
	      "helo=<m.example.com>",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "192.0.2.151", .cname = "m.example.com",
	  .qid = "1D8CC1CA0A7F", .stage = "DATA", .reply = "550 5.7.1",
	  .reason = "Command rejected", .sender = "sec@example.com", .recipient = "hm@example.com",
	  .helo = "m.example.com" },
	{ .name = "discard has no reply code", .program = SD,
	  .msg = "NOQUEUE: discard: MAIL from ccm.example[192.0.2.231]: <b@example.com>: Sender "
	      "address SPAM; from=<b@example.com> proto=ESMTP helo=<ccm.example>",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "192.0.2.231", .cname = "ccm.example",
	  .stage = "MAIL", .reason = "<b@example.com>: Sender address SPAM",
	  .sender = "b@example.com", .helo = "ccm.example" },
	{ .name = "a placeholder token instead of a queue id still parses", .program = SD,
	  .msg = "<queue id>: reject: CONNECT from foo.example[192.0.2.17]: 554 5.7.1 "
	      "<foo.example[192.0.2.17]>: Client host rejected: Access denied; proto=SMTP",
	  .ret = 1, .kind = MX_EVENT_REJECT, .ip = "192.0.2.17", .cname = "foo.example",
	  .stage = "CONNECT", .reply = "554 5.7.1",
	  .reason = "<foo.example[192.0.2.17]>: Client host rejected: Access denied" },
	/* warnings and daemon health */
	{ .name = "connection rate limit", .program = PX587,
	  .msg = "warning: Connection rate limit exceeded: 9 from unknown[203.0.113.172] for "
	      "service 5587",
	  .ret = 1, .kind = MX_EVENT_RATE_LIMIT, .listener = "postfix/smtpd-proxy587",
	  .ip = "203.0.113.172", .cname = "unknown",
	  .reason = "Connection rate limit exceeded: 9" },
	{ .name = "connection concurrency limit", .program = SD,
	  .msg = "warning: Connection concurrency limit exceeded: 6 from mail.example.co.uk"
	      "[192.0.2.20] for service smtp",
	  .ret = 1, .kind = MX_EVENT_RATE_LIMIT, .ip = "192.0.2.20", .cname = "mail.example.co.uk",
	  .reason = "Connection concurrency limit exceeded: 6" },
	{ .name = "message delivery request rate limit", .program = SD,
	  .msg = "warning: Message delivery request rate limit exceeded: 5 from unknown"
	      "[192.0.2.195] for service smtpd",
	  .ret = 1, .kind = MX_EVENT_RATE_LIMIT, .ip = "192.0.2.195", .cname = "unknown",
	  .reason = "Message delivery request rate limit exceeded: 5" },
	{ .name = "recipient address rate limit", .program = SD,
	  .msg = "warning: Recipient address rate limit exceeded: 31 from unknown[192.0.2.196] "
	      "for service smtp",
	  .ret = 1, .kind = MX_EVENT_RATE_LIMIT, .ip = "192.0.2.196", .cname = "unknown",
	  .reason = "Recipient address rate limit exceeded: 31" },
	{ .name = "new TLS session rate limit", .program = SD,
	  .msg = "warning: New TLS session rate limit exceeded: 12 from unknown[2001:db8::12] "
	      "for service smtp",
	  .ret = 1, .kind = MX_EVENT_RATE_LIMIT, .ip = "2001:db8::12", .cname = "unknown",
	  .reason = "New TLS session rate limit exceeded: 12" },
	{ .name = "AUTH command rate limit", .program = PX587,
	  .msg = "warning: AUTH command rate limit exceeded: 7 from unknown[203.0.113.193] for "
	      "service 5587",
	  .ret = 1, .kind = MX_EVENT_RATE_LIMIT, .listener = "postfix/smtpd-proxy587",
	  .ip = "203.0.113.193", .cname = "unknown",
	  .reason = "AUTH command rate limit exceeded: 7" },
	{ .name = "hostname does not resolve to the address", .program = SD,
	  .msg = "warning: hostname bad.example.com does not resolve to address 192.0.2.44: "
	      "Name or service not known",
	  .ret = 1, .kind = MX_EVENT_REVERSE_DNS_MISMATCH, .ip = "192.0.2.44",
	  .cname = "bad.example.com", .reason = "Name or service not known" },
	{ .name = "hostname does not resolve to an IPv6 address, no reason", .program = SD,
	  .msg = "warning: hostname v6.example.com does not resolve to address 2001:db8::44",
	  .ret = 1, .kind = MX_EVENT_REVERSE_DNS_MISMATCH, .ip = "2001:db8::44",
	  .cname = "v6.example.com" },
	{ .name = "haproxy read on a PROXY-aware smtpd", .program = PX587,
	  .msg = "warning: haproxy read: EOF",
	  .ret = 1, .kind = MX_EVENT_PROXY_ERROR, .listener = "postfix/smtpd-proxy587",
	  .reason = "haproxy read: EOF" },
	{ .name = "the PROXY-listener crash is fatal", .program = PX587,
	  .msg = "fatal: smtpd_peer_hostaddr_to_sockaddr: cannot convert client address/port to "
	      "string: Servname not supported for ai_socktype",
	  .ret = 1, .kind = MX_EVENT_FATAL, .listener = "postfix/smtpd-proxy587",
	  .reason = "smtpd_peer_hostaddr_to_sockaddr: cannot convert client address/port to "
	      "string: Servname not supported for ai_socktype" },
	/* lines that are not events */
	{ .name = "TLS established is not an event", .program = PX587,
	  .msg = "Anonymous TLS connection established from unknown[192.0.2.135]: TLSv1.3 with "
	      "cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" },
	{ .name = "SSL_accept error is not an event", .program = SD,
	  .msg = "SSL_accept error from a[192.0.2.1]: lost connection" },
	{ .name = "the Cyrus library message has no client", .program = SD,
	  .msg = "warning: SASL authentication failure: Password verification failed" },
	{ .name = "discarding EHLO keywords is not an event", .program = SD,
	  .msg = "discarding EHLO keywords: CHUNKING ETRN DSN 8BITMIME" },
	{ .name = "a table change is not an event", .program = SD,
	  .msg = "table hash:/etc/postfix/virtual(0,lock|fold_fix) has changed -- restarting" },
	{ .name = "a FILTER decision is not a reject", .program = SD,
	  .msg = "NOQUEUE: filter: RCPT from unknown[192.0.2.55]: <m@example.com>: Sender address "
	      "triggers FILTER smtp-amavis:[127.0.0.1]:10024; from=<m@example.com> "
	      "to=<u@example.com> proto=ESMTP helo=<x.example>" },
	{ .name = "a WARN decision is not a reject", .program = SD,
	  .msg = "NOQUEUE: warn: RCPT from unknown[192.0.2.56]: Suspicious; from=<a@example.com> "
	      "proto=ESMTP helo=<x.example>" },
	{ .name = "proxy-reject names no client", .program = SD,
	  .msg = "proxy-reject: END-OF-MESSAGE: 554 5.7.0 Reject, id=31619-02 - spam; from=<> "
	      "to=<u@example.com> proto=SMTP helo=<x.example>" },
	{ .name = "a reject without queue prefix is not Postfix output", .program = SD,
	  .msg = "reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Relay access denied" },
	{ .name = "client= without queue id is not Postfix output", .program = SD,
	  .msg = "client=unknown[192.0.2.1]" },
	{ .name = "NOQUEUE with an unknown action is not an event", .program = SD,
	  .msg = "NOQUEUE: reject: Unsupported" },
	{ .name = "a delivery agent line under the smtpd tag is not an event", .program = SD,
	  .msg = "AAB4D259B1: removed" },
	{ .name = "a malformed client address is not an event", .program = SD,
	  .msg = "connect from unknown[999.1.1.1]" },
	{ .name = "a test driver's dummy address is not an event", .program = SD,
	  .msg = "<queue id>: reject: HELO from dummy[dummy]: 554 5.0.0 <x>: Helo command "
	      "rejected: reject; proto=SMTP helo=<x>" },
	{ .name = "trailing text after the client is not lost connection", .program = SD,
	  .msg = "lost connection after EHLO from unknown[192.0.2.1] and more" },
	{ .name = "an empty message is not an event", .program = SD, .msg = "" },
	{ .name = "garbage is not an event", .program = SD, .msg = "\x01\xfe: :[" },
	{ .name = "postscreen text under the smtpd tag is not an event", .program = SD,
	  .msg = "CONNECT from [192.0.2.10]:51077 to [203.0.113.254]:25" },
};

START_TEST(smtpd_line_gives_expected_event)
{
	const struct sd_case *c = &sd_cases[_i];
	struct mx_event *ev = tst_event();
	int r;

	r = tst_parse(c->program, c->msg, ev);
	ck_assert_msg(r == c->ret, "%s: returned %d, want %d", c->name, r, c->ret);
	if (c->ret != 1)
		return;
	tst_event_is(ev, &(struct tst_want){
		.kind = c->kind, .daemon = "smtpd",
		.listener = c->listener != NULL ? c->listener : "postfix",
		.client_ip = c->ip, .client_port = c->port, .client_name = c->cname,
		.user = c->user, .method = c->method, .queue_id = c->qid, .stage = c->stage,
		.reply = c->reply, .reason = c->reason, .sender = c->sender,
		.recipient = c->recipient, .helo = c->helo, .stats = c->stats,
	}, c->name);
}
END_TEST

/* every smtpd event kind has at least one row */
START_TEST(smtpd_table_covers_every_kind)
{
	static const enum mx_event_kind kinds[] = {
		MX_EVENT_CONNECT, MX_EVENT_DISCONNECT, MX_EVENT_LOST_CONNECTION, MX_EVENT_TIMEOUT,
		MX_EVENT_TOO_MANY_ERRORS, MX_EVENT_IMPROPER_PIPELINING, MX_EVENT_NON_SMTP_COMMAND,
		MX_EVENT_QUEUED, MX_EVENT_AUTH_FAILURE, MX_EVENT_AUTH_SUCCESS, MX_EVENT_REJECT,
		MX_EVENT_REJECT_WARNING, MX_EVENT_RATE_LIMIT, MX_EVENT_REVERSE_DNS_MISMATCH,
		MX_EVENT_PROXY_ERROR, MX_EVENT_FATAL,
	};

	for (size_t k = 0; k < N(kinds); k++) {
		int found = 0;

		for (size_t i = 0; i < N(sd_cases); i++)
			found |= sd_cases[i].ret == 1 && sd_cases[i].kind == kinds[k];
		ck_assert_msg(found, "no row for %s", event_kind_name(kinds[k]));
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtpd");
	TCase *tc = tcase_create("lines");

	tcase_add_loop_test(tc, smtpd_line_gives_expected_event, 0, (int)N(sd_cases));
	tcase_add_test(tc, smtpd_table_covers_every_kind);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
