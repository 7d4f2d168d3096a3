/*
 * NAME
 *	check_envelope - raw line in, exact record (time, host, program, pid, message) out
 * DESCRIPTION
 *	One table row per envelope shape and per malformed form, each with a
 *	sentence as its name; then year inference over sequences of lines, local
 *	time in a zone with DST, joining of partial container lines (and their
 *	overflow), the journal fields, and robustness: every prefix of every
 *	sample line, and bounded random mutations, in exactly-sized heap
 *	buffers so that AddressSanitizer sees any read past len.
 *
 *	The peer samples (sshguard "Banner formats", fail2ban, CrowdSec,
 *	postfix_exporter) are represented by our own equivalent lines with
 *	documentation addresses; they are never copied here.
 *
 *	Times are written as UTC "YYYY-MM-DDTHH:MM:SS.uuuuuu" ("-" = unknown)
 *	and converted with timegm(3). The tables run with TZ=UTC.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"
#include "testutil.h"

/* table rows leave their trailing fields (fmt, ref, len) zero on purpose */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define REF_DEFAULT	"2026-11-22T12:00:00.000000"

struct envcase {
	const char *name;
	const char *line;
	int want_ret;
	const char *want_ts;		/* UTC, "-" = MX_TS_UNKNOWN */
	const char *want_host, *want_program;
	long want_pid;
	const char *want_msg;
	enum mx_envelope fmt;		/* 0 = auto */
	const char *ref;		/* NULL = REF_DEFAULT */
	size_t len;			/* 0 = strlen(line) */
};

static const struct envcase cases[] = {
	/* ---- RFC 3164 / BSD syslog */
	{ "Postfix through syslog gives host, tag, pid and message",
	  "Nov 22 01:02:03 mail postfix/smtpd[123]: connect from unknown[192.0.2.1]",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 123,
	  "connect from unknown[192.0.2.1]" },
	{ "a space-padded day is read (BSD syslog)",
	  "Nov  2 01:02:03 mail postfix/smtpd[9]: x",
	  1, "2026-11-02T01:02:03.000000", "mail", "postfix/smtpd", 9, "x" },
	{ "a zero-padded day is read (Postfix maillog_file)",
	  "Jun 04 10:11:12 mail postfix/postscreen[77]: PASS NEW [198.51.100.20]:4711",
	  1, "2026-06-04T10:11:12.000000", "mail", "postfix/postscreen", 77,
	  "PASS NEW [198.51.100.20]:4711" },
	{ "a single-space single-digit day is read (CrowdSec samples)",
	  "Sep 8 07:46:30 mx dovecot: auth-worker(24544): pam(u,192.0.2.9): unknown user",
	  1, "2026-09-08T07:46:30.000000", "mx", "dovecot", -1,
	  "auth-worker(24544): pam(u,192.0.2.9): unknown user" },
	{ "a leading <PRI> is skipped",
	  "<22>Nov 22 01:02:03 mail postfix/smtpd[1]: lost connection after AUTH",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 1,
	  "lost connection after AUTH" },
	{ "a proxied listener keeps its whole tag",
	  "Nov 22 01:02:03 mail postfix/smtpd-proxy25/postscreen[4]: CONNECT from "
	  "[198.51.100.7]:52144 to [203.0.113.254]:25",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd-proxy25/postscreen", 4,
	  "CONNECT from [198.51.100.7]:52144 to [203.0.113.254]:25" },
	{ "Dovecot through syslog is tag dovecot[pid] with the service in the message",
	  "Nov 22 01:02:03 mail dovecot[812]: imap-login: Disconnected (auth failed, 1 attempts)",
	  1, "2026-11-22T01:02:03.000000", "mail", "dovecot", 812,
	  "imap-login: Disconnected (auth failed, 1 attempts)" },
	{ "a tag without pid ends at its colon",
	  "Oct 12 11:19:11 mx dovecot: pop3-login: Aborted login: rip=192.0.2.21",
	  1, "2026-10-12T11:19:11.000000", "mx", "dovecot", -1,
	  "pop3-login: Aborted login: rip=192.0.2.21" },
	{ "a busybox facility.level word before the tag is skipped",
	  "Jun 20 02:18:39 vps auth.info sshd[13482]: Invalid user admin from 192.0.2.2",
	  1, "2026-06-20T02:18:39.000000", "vps", "sshd", 13482,
	  "Invalid user admin from 192.0.2.2" },
	{ "busybox without a host name: the first token is the tag",
	  "May 9 11:11:17 sshd[30876]: Invalid user www from 203.0.113.9 port 51066",
	  1, "2026-05-09T11:11:17.000000", NULL, "sshd", 30876,
	  "Invalid user www from 203.0.113.9 port 51066" },
	{ "FreeBSD syslogd -v puts <facility.level> before the host, which is skipped",
	  "Jan  1 00:00:00 <10.5> foxtrot sshd[1234]: Invalid user admin from 192.0.2.4",
	  1, "2026-01-01T00:00:00.000000", "foxtrot", "sshd", 1234,
	  "Invalid user admin from 192.0.2.4" },
	{ "an empty message after the tag is an empty string",
	  "Nov 22 01:02:03 mail postfix/anvil[5]:",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/anvil", 5, "" },
	{ "a trailing CR LF is not part of the message",
	  "Nov 22 01:02:03 mail postfix/smtpd[1]: disconnect from x[192.0.2.3]\r\n",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 1,
	  "disconnect from x[192.0.2.3]" },
	{ "a UTF-8 BOM at the start of a file's first line is skipped",
	  "\xef\xbb\xbfNov 22 01:02:03 mail postfix/smtpd[1]: x",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 1, "x" },
	{ "a forced syslog envelope reads a BSD line",
	  "Nov 22 01:02:03 mail postfix/smtpd[1]: x",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 1, "x",
	  .fmt = MX_ENVELOPE_SYSLOG },

	/* ---- RFC 3339 / rsyslog high precision */
	{ "rsyslog high precision with microseconds and +00:00",
	  "2026-11-22T02:22:16.068758+00:00 mail postfix/master[31988]: daemon started",
	  1, "2026-11-22T02:22:16.068758", "mail", "postfix/master", 31988, "daemon started" },
	{ "nine fraction digits and Z are read to the microsecond (CRI style)",
	  "2026-11-22T01:02:03.123456789Z mail postfix/smtpd[1]: x",
	  1, "2026-11-22T01:02:03.123456", "mail", "postfix/smtpd", 1, "x" },
	{ "a negative offset is applied",
	  "2026-11-22T01:02:03-05:00 mail postfix/smtpd[1]: x",
	  1, "2026-11-22T06:02:03.000000", "mail", "postfix/smtpd", 1, "x" },
	{ "a space instead of T and a +hhmm offset (macOS) are read",
	  "2018-12-20 10:09:05.180218+0000 localhost sshd[67566]: Invalid user git from 192.0.2.9",
	  1, "2018-12-20T10:09:05.180218", "localhost", "sshd", 67566,
	  "Invalid user git from 192.0.2.9" },
	{ "no offset means local time (TZ=UTC here)",
	  "2026-11-22 01:02:03 mail postfix/smtpd[1]: x",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 1, "x" },
	{ "an RFC 3339 line without host starts with the tag",
	  "2026-11-22T01:02:03Z postfix/smtpd[1]: x",
	  1, "2026-11-22T01:02:03.000000", NULL, "postfix/smtpd", 1, "x" },
	{ "rsyslog's tag[pid] without a colon is still a tag (sshguard sample)",
	  "2020-05-29T11:28:56.058908+02:00 bastion sshd[20974] error: PAM: Authentication "
	  "error for illegal user plop from 192.0.2.13",
	  1, "2020-05-29T09:28:56.058908", "bastion", "sshd", 20974,
	  "error: PAM: Authentication error for illegal user plop from 192.0.2.13" },
	{ "RFC 5424 fields without PRI and version are read (sshguard dropbear sample)",
	  "2022-02-24T21:00:42.021457+00:00 evse dropbear 6052 - - Bad password attempt for "
	  "'root' from 192.0.2.4:50532",
	  1, "2022-02-24T21:00:42.021457", "evse", "dropbear", 6052,
	  "Bad password attempt for 'root' from 192.0.2.4:50532" },
	{ "socklog's facility word with a colon becomes the program, the rest the message",
	  "2015-05-27T04:31:28.10040 auth.info: May 27 04:31:28 sshd[30993]: Invalid user admin",
	  1, "2015-05-27T04:31:28.100400", NULL, "auth.info", -1,
	  "May 27 04:31:28 sshd[30993]: Invalid user admin" },
	{ "a timestamp followed by plain words has no tag (sshguard sample)",
	  "2018-06-26 13:22:02.108781500 Failed password for woold from 192.0.2.76 port 34718",
	  .want_ret = -EINVAL },
	{ "a forced rfc3339 envelope reads an RFC 3339 line",
	  "2026-11-22T01:02:03Z mail postfix/smtpd[1]: x",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 1, "x",
	  .fmt = MX_ENVELOPE_RFC3339 },

	/* ---- RFC 5424 */
	{ "RFC 5424 gives APP as program and PROCID as pid",
	  "<34>1 2026-11-22T01:02:03.123Z mail postfix/smtpd 123 - - connect from x[192.0.2.1]",
	  1, "2026-11-22T01:02:03.123000", "mail", "postfix/smtpd", 123,
	  "connect from x[192.0.2.1]" },
	{ "RFC 5424 structured data with escapes is skipped and the BOM dropped",
	  "<165>1 2026-11-22T01:02:03.5+01:00 mx.example.org dovecot 4711 ID47 "
	  "[ex@32473 iut=\"3\" src=\"a\\]b \\\"q\\\"\"][second x=\"y\"] "
	  "\xef\xbb\xbfimap-login: Login",
	  1, "2026-11-22T00:02:03.500000", "mx.example.org", "dovecot", 4711,
	  "imap-login: Login" },
	{ "RFC 5424 nil values give unknown time, host, program and pid",
	  "<34>1 - - - - - - hello", 1, "-", NULL, NULL, -1, "hello" },
	{ "RFC 5424 with a non-numeric PROCID has no pid (sshguard sample)",
	  "<35>1 2020-01-03T11:57:14.257387-05:00 192.0.2.4 sshd worker-1 - - error: PAM",
	  1, "2020-01-03T16:57:14.257387", "192.0.2.4", "sshd", -1, "error: PAM" },
	{ "RFC 5424 without a message is an empty message",
	  "<34>1 2026-11-22T01:02:03Z mail app 1 - -",
	  1, "2026-11-22T01:02:03.000000", "mail", "app", 1, "" },
	{ "a forced rfc5424 envelope reads an RFC 5424 line",
	  "<34>1 2026-11-22T01:02:03Z mail app 1 - - m",
	  1, "2026-11-22T01:02:03.000000", "mail", "app", 1, "m", .fmt = MX_ENVELOPE_RFC5424 },
	{ "RFC 5424 cut after the host is malformed",
	  "<34>1 2026-11-22T01:02:03Z mail", .want_ret = -EINVAL },
	{ "RFC 5424 with unterminated structured data is malformed",
	  "<34>1 2026-11-22T01:02:03Z mail app 1 - [a b=\"c]\"", .want_ret = -EINVAL },
	{ "RFC 5424 needs a T in its timestamp",
	  "<34>1 2026-11-22 01:02:03Z mail app 1 - - m", .want_ret = -EINVAL },

	/* ---- Dovecot log_path */
	{ "Dovecot log_path: the service is the program, Info: starts the message",
	  "Nov 22 01:02:03 imap-login: Info: Login: user=<u@example.org>, method=PLAIN, "
	  "rip=192.0.2.5, lip=192.0.2.1",
	  1, "2026-11-22T01:02:03.000000", NULL, "imap-login", -1,
	  "Info: Login: user=<u@example.org>, method=PLAIN, rip=192.0.2.5, lip=192.0.2.1" },
	{ "Dovecot log_timestamp with the year is read too",
	  "2026-11-22 01:02:03 pop3-login: Info: Aborted login (auth failed, 1 attempts in 2 "
	  "secs): user=<grace>, method=PLAIN, rip=192.0.2.3",
	  1, "2026-11-22T01:02:03.000000", NULL, "pop3-login", -1,
	  "Info: Aborted login (auth failed, 1 attempts in 2 secs): user=<grace>, "
	  "method=PLAIN, rip=192.0.2.3" },
	{ "Dovecot auth-worker(pid) gives program auth-worker and the pid",
	  "Jan 29 13:54:06 auth-worker(22401): Info: sql(a@example.org,192.0.2.5,<n4JL>): "
	  "unknown user",
	  1, "2026-01-29T13:54:06.000000", NULL, "auth-worker", 22401,
	  "Info: sql(a@example.org,192.0.2.5,<n4JL>): unknown user" },
	{ "a Dovecot 2.4 auth(...)<session> prefix stays whole as program",
	  "Aug 30 00:10:57 auth(i@example.com,192.0.2.110,sasl:login)<CvN+E95U>: Info: sql: "
	  "Password mismatch",
	  1, "2026-08-30T00:10:57.000000", NULL,
	  "auth(i@example.com,192.0.2.110,sasl:login)<CvN+E95U>", -1,
	  "Info: sql: Password mismatch" },
	{ "a forced dovecot envelope reads a log_path line",
	  "Nov 22 01:02:03 auth: Info: ldap(dog,192.0.2.52,): invalid credentials",
	  1, "2026-11-22T01:02:03.000000", NULL, "auth", -1,
	  "Info: ldap(dog,192.0.2.52,): invalid credentials", .fmt = MX_ENVELOPE_DOVECOT },
	{ "a forced dovecot envelope rejects a line with a host",
	  "Nov 22 01:02:03 mail postfix/smtpd[1]: x", .want_ret = -EINVAL,
	  .fmt = MX_ENVELOPE_DOVECOT },

	/* ---- TAI64N (multilog) */
	{ "a TAI64N label gives the time of a Dovecot line without timestamp (fail2ban sample)",
	  "@400000004c91b044077a9e94 imap-login: Info: Aborted login (auth failed, 1 attempts): "
	  "user=<u@example.org>, method=CRAM-MD5, rip=192.0.2.10",
	  1, "2010-09-16T05:50:50.125476", NULL, "imap-login", -1,
	  "Info: Aborted login (auth failed, 1 attempts): user=<u@example.org>, "
	  "method=CRAM-MD5, rip=192.0.2.10" },
	{ "a TAI64N label with a non-hex digit is malformed",
	  "@400000004c91b044077a9e9x imap-login: Info: x", .want_ret = -EINVAL },

	/* ---- CRI */
	{ "CRI: the inner syslog timestamp wins over the runtime's",
	  "2026-11-22T01:02:04.5Z stdout F Nov 22 01:02:03 mail postfix/smtpd[1]: connect",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 1, "connect" },
	{ "CRI: a Dovecot line without timestamp takes the runtime's",
	  "2026-11-22T01:02:03.123456789Z stderr F imap-login: Info: Login: user=<u>",
	  1, "2026-11-22T01:02:03.123456", NULL, "imap-login", -1, "Info: Login: user=<u>" },
	{ "CRI: a bare Postfix tag line takes the runtime's timestamp",
	  "2026-11-22T01:02:03Z stdout F postfix/smtpd[1]: connect from x[192.0.2.1]",
	  1, "2026-11-22T01:02:03.000000", NULL, "postfix/smtpd", 1,
	  "connect from x[192.0.2.1]" },
	{ "CRI: an inner BSD timestamp takes its year from the runtime's",
	  "2030-01-01T00:00:01Z stdout F Dec 31 23:59:59 mail postfix/smtpd[1]: x",
	  1, "2029-12-31T23:59:59.000000", "mail", "postfix/smtpd", 1, "x" },
	{ "CRI: an inner RFC 3339 line is read with its own time",
	  "2026-11-22T01:02:04Z stdout F 2026-11-22T01:02:03.25Z mail postfix/smtpd[1]: x",
	  1, "2026-11-22T01:02:03.250000", "mail", "postfix/smtpd", 1, "x" },
	{ "CRI: a partial line alone gives nothing yet",
	  "2026-11-22T01:02:03Z stdout P Nov 22 01:02:03 mail postfix/sm", .want_ret = 0 },
	{ "CRI: an empty full line gives nothing",
	  "2026-11-22T01:02:03Z stderr F ", .want_ret = 0 },
	{ "CRI: inner text without a tag is malformed",
	  "2026-11-22T01:02:03Z stdout F hello world", .want_ret = -EINVAL },
	{ "CRI: an inner JSON object is not unpacked again",
	  "2026-11-22T01:02:03Z stdout F {\"log\":\"x\\n\"}", .want_ret = -EINVAL },
	{ "a forced cri envelope reads a CRI line",
	  "2026-11-22T01:02:03Z stdout F postfix/smtpd[1]: x",
	  1, "2026-11-22T01:02:03.000000", NULL, "postfix/smtpd", 1, "x", .fmt = MX_ENVELOPE_CRI },
	{ "a forced cri envelope rejects a syslog line",
	  "2026-11-22T01:02:03Z mail postfix/smtpd[1]: x", .want_ret = -EINVAL,
	  .fmt = MX_ENVELOPE_CRI },

	/* ---- Docker json-file */
	{ "Docker: the log string is the inner line, its trailing newline dropped",
	  "{\"log\":\"Nov 22 01:02:03 mail postfix/smtpd[1]: connect from x[192.0.2.1]\\n\","
	  "\"stream\":\"stdout\",\"time\":\"2026-11-22T01:02:04.5Z\"}",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 1,
	  "connect from x[192.0.2.1]" },
	{ "Docker: JSON escapes become bytes and \\u escapes UTF-8, surrogate pairs included",
	  "{\"log\":\"imap-login: Info: user=\\u003cu@example.org\\u003e \\\"q\\\" \\\\ \\/ "
	  "\\u00e9 \\ud83d\\ude00\\t.\\r\\n\",\"stream\":\"stderr\","
	  "\"time\":\"2026-11-22T01:02:03.5Z\"}",
	  1, "2026-11-22T01:02:03.500000", NULL, "imap-login", -1,
	  "Info: user=<u@example.org> \"q\" \\ / \xc3\xa9 \xf0\x9f\x98\x80\t." },
	{ "Docker: \\u0000 and a lone surrogate become U+FFFD, never a NUL",
	  "{\"log\":\"postfix/smtpd[1]: a\\u0000b\\udc00c\\n\",\"time\":\"2026-11-22T01:02:03Z\"}",
	  1, "2026-11-22T01:02:03.000000", NULL, "postfix/smtpd", 1,
	  "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c" },
	{ "Docker: unknown keys with nested values are skipped, spaces allowed",
	  "{ \"attrs\" : {\"tag\":[1,{\"a\":\"}\"}]} , \"log\" : \"postfix/smtpd[2]: y\\n\" , "
	  "\"n\": -1.5e3, \"ok\": true }",
	  1, "-", NULL, "postfix/smtpd", 2, "y" },
	{ "Docker: a log string without newline is a partial line held for joining",
	  "{\"log\":\"Nov 22 01:02:03 mail postfix/smtpd[1]: conn\",\"stream\":\"stdout\","
	  "\"time\":\"2026-11-22T01:02:03Z\"}", .want_ret = 0 },
	{ "Docker: a bad time string is malformed",
	  "{\"log\":\"postfix/smtpd[1]: y\\n\",\"time\":\"yesterday\"}", .want_ret = -EINVAL },
	{ "JSON without a closing brace is malformed",
	  "{\"log\":\"postfix/smtpd[1]: y\\n\"", .want_ret = -EINVAL },
	{ "JSON with an unknown escape is malformed",
	  "{\"log\":\"postfix/smtpd[1]: \\x41\\n\"}", .want_ret = -EINVAL },
	{ "JSON with a short \\u escape is malformed",
	  "{\"log\":\"postfix/smtpd[1]: \\u12\"}", .want_ret = -EINVAL },
	{ "JSON with an unterminated string is malformed",
	  "{\"log\":\"postfix/smtpd[1]: y", .want_ret = -EINVAL },
	{ "JSON with garbage after the object is malformed",
	  "{\"log\":\"postfix/smtpd[1]: y\\n\"} x", .want_ret = -EINVAL },
	{ "JSON without a value is malformed",
	  "{\"log\":}", .want_ret = -EINVAL },
	{ "JSON with neither log nor MESSAGE is malformed",
	  "{\"stream\":\"stdout\"}", .want_ret = -EINVAL },
	{ "a forced docker envelope rejects a journal entry",
	  "{\"MESSAGE\":\"x\",\"SYSLOG_IDENTIFIER\":\"postfix/smtpd\"}", .want_ret = -EINVAL,
	  .fmt = MX_ENVELOPE_DOCKER },

	/* ---- journalctl -o json */
	{ "journal JSON gives realtime, hostname, identifier, SYSLOG_PID and MESSAGE",
	  "{\"__CURSOR\":\"s=1;i=2\",\"__REALTIME_TIMESTAMP\":\"1795309323000000\","
	  "\"_HOSTNAME\":\"mail\",\"SYSLOG_IDENTIFIER\":\"postfix/smtpd\",\"SYSLOG_PID\":\"123\","
	  "\"_PID\":\"124\",\"_COMM\":\"smtpd\",\"MESSAGE\":\"connect from x[192.0.2.1]\"}",
	  1, "2026-11-22T01:02:03.000000", "mail", "postfix/smtpd", 123,
	  "connect from x[192.0.2.1]" },
	{ "journal JSON without identifier falls back to _COMM and _PID",
	  "{\"MESSAGE\":\"imap-login: Login\",\"_COMM\":\"imap-login\",\"_PID\":\"77\","
	  "\"__REALTIME_TIMESTAMP\":\"1795309323500000\"}",
	  1, "2026-11-22T01:02:03.500000", NULL, "imap-login", 77, "imap-login: Login" },
	{ "journal JSON with a binary MESSAGE (array of bytes) is malformed",
	  "{\"__REALTIME_TIMESTAMP\":\"1795309323000000\",\"SYSLOG_IDENTIFIER\":\"x\","
	  "\"MESSAGE\":[104,105,0]}", .want_ret = -EINVAL },
	{ "journal JSON with a null MESSAGE (too large for journalctl) is malformed",
	  "{\"SYSLOG_IDENTIFIER\":\"x\",\"MESSAGE\":null}", .want_ret = -EINVAL },
	{ "journal JSON without identifier or _COMM is malformed",
	  "{\"MESSAGE\":\"x\"}", .want_ret = -EINVAL },
	{ "journal JSON with a non-numeric realtime is malformed",
	  "{\"__REALTIME_TIMESTAMP\":\"soon\",\"SYSLOG_IDENTIFIER\":\"x\",\"MESSAGE\":\"m\"}",
	  .want_ret = -EINVAL },
	{ "a forced journal-json envelope reads a journal entry",
	  "{\"SYSLOG_IDENTIFIER\":\"dovecot\",\"MESSAGE\":\"auth: x\"}",
	  1, "-", NULL, "dovecot", -1, "auth: x", .fmt = MX_ENVELOPE_JOURNAL_JSON },
	{ "a forced journal-json envelope rejects a Docker line",
	  "{\"log\":\"postfix/smtpd[1]: y\\n\"}", .want_ret = -EINVAL,
	  .fmt = MX_ENVELOPE_JOURNAL_JSON },

	/* ---- bare */
	{ "the bare envelope takes the whole line as message",
	  "Nov 22 01:02:03 mail postfix/smtpd[1]: x", 1, "-", NULL, NULL, -1,
	  "Nov 22 01:02:03 mail postfix/smtpd[1]: x", .fmt = MX_ENVELOPE_BARE },

	/* ---- not records */
	{ "an empty line is not a record", "", .want_ret = 0 },
	{ "a line of blanks is not a record", "  \t ", .want_ret = 0 },
	{ "a comment line is not a record", "# Postscreen", .want_ret = 0 },

	/* ---- malformed */
	{ "February 30 is impossible",
	  "Feb 30 01:02:03 mail postfix/smtpd[1]: x", .want_ret = -EINVAL },
	{ "February 29 of a non-leap year is impossible",
	  "Feb 29 01:02:03 mail postfix/smtpd[1]: x", .want_ret = -EINVAL },
	{ "hour 25 is impossible",
	  "Nov 22 25:00:00 mail postfix/smtpd[1]: x", .want_ret = -EINVAL },
	{ "minute 60 is impossible",
	  "Nov 22 01:60:00 mail postfix/smtpd[1]: x", .want_ret = -EINVAL },
	{ "an unknown month name is malformed", "Foo 1 00:00:00 hostname", .want_ret = -EINVAL },
	{ "a colon after the month is malformed (postfix_exporter sample)",
	  "Jan: 1 00:00:00 hostname postfix/postscreen[12345]: foo", .want_ret = -EINVAL },
	{ "a pid that is not a number is malformed",
	  "Jan 1 00:00:00 hostname postfix/postscreen[abcde]: foo", .want_ret = -EINVAL },
	{ "an empty pid is malformed",
	  "Jan 1 00:00:00 hostname postfix/smtpd[]: foo", .want_ret = -EINVAL },
	{ "a pid too long for a pid is malformed",
	  "Jan 1 00:00:00 hostname postfix/smtpd[123456789012]: foo", .want_ret = -EINVAL },
	{ "a line cut inside the pid is malformed",
	  "Jan 1 00:00:00 hostname postfix/postscreen[12345", .want_ret = -EINVAL },
	{ "a tag without colon or pid is malformed", "Jan 1 00:00:00 hostname postfix/postscreen",
	  .want_ret = -EINVAL },
	{ "a line cut after the host is malformed",
	  "Jan 1 00:00:00 hostname", .want_ret = -EINVAL },
	{ "a line cut after the time is malformed", "Jan 1 00:00:00", .want_ret = -EINVAL },
	{ "a line of only a month is malformed", "Jan", .want_ret = -EINVAL },
	{ "a bare colon is not a tag", "Nov 22 01:02:03 mail : x", .want_ret = -EINVAL },
	{ "a message without envelope is malformed",
	  "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed", .want_ret = -EINVAL },
	{ "a PRI above 191 is malformed", "<192>Nov 22 01:02:03 mail postfix/smtpd[1]: x",
	  .want_ret = -EINVAL },
	{ "a PRI that is not a number is malformed",
	  "<1a>Nov 22 01:02:03 mail postfix/smtpd[1]: x", .want_ret = -EINVAL },
	{ "RFC 3339 February 30 is impossible", "2026-02-30T01:02:03Z mail postfix/smtpd[1]: x",
	  .want_ret = -EINVAL },
	{ "RFC 3339 hour 24 is impossible", "2026-11-22T24:00:00Z mail postfix/smtpd[1]: x",
	  .want_ret = -EINVAL },
	{ "RFC 3339 with a dot but no fraction digits is malformed",
	  "2026-11-22T01:02:03.Z mail postfix/smtpd[1]: x", .want_ret = -EINVAL },
	{ "RFC 3339 with ten fraction digits is malformed",
	  "2026-11-22T01:02:03.1234567890Z mail postfix/smtpd[1]: x", .want_ret = -EINVAL },
	{ "RFC 3339 with a cut offset is malformed",
	  "2026-11-22T01:02:03+01 mail postfix/smtpd[1]: x", .want_ret = -EINVAL },
	{ "RFC 3339 with letters glued to the time is malformed",
	  "2026-11-22T01:02:03Zmail postfix/smtpd[1]: x", .want_ret = -EINVAL },
	{ "a NUL byte inside the line is malformed",
	  "Nov 22 01:02:03 mail post\0fix/smtpd[1]: x", .want_ret = -EINVAL, .len = 40 },
	{ "a forced syslog envelope rejects an RFC 3339 line",
	  "2026-11-22T01:02:03Z mail postfix/smtpd[1]: x", .want_ret = -EINVAL,
	  .fmt = MX_ENVELOPE_SYSLOG },
	{ "a forced rfc3339 envelope rejects a BSD line",
	  "Nov 22 01:02:03 mail postfix/smtpd[1]: x", .want_ret = -EINVAL,
	  .fmt = MX_ENVELOPE_RFC3339 },
	{ "a forced rfc5424 envelope rejects a line without PRI",
	  "2026-11-22T01:02:03Z mail app 1 - - m", .want_ret = -EINVAL,
	  .fmt = MX_ENVELOPE_RFC5424 },
};

/* tst_usec - "YYYY-MM-DDTHH:MM:SS.uuuuuu" (UTC) to microseconds, "-" unknown */
static int64_t
tst_usec(const char *s)
{
	struct tm tm = { 0 };
	int usec = 0;

	if (strcmp(s, "-") == 0)
		return MX_TS_UNKNOWN;
	ck_assert_int_ge(sscanf(s, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &usec), 6);
	tm.tm_year -= 1900;
	tm.tm_mon--;
	return (int64_t)timegm(&tm) * 1000000 + usec;
}

static void
tst_utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

/* tst_line - a heap copy of exactly len + 1 bytes, so ASan sees reads past len */
static char *
tst_line(const char *line, size_t len)
{
	char *buf = malloc(len + 1);

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, line, len);
	buf[len] = 'Z';			/* must be overwritten, never read as content */
	return buf;
}

static void
tst_check_rec(const char *name, const struct mx_record *rec, const char *want_ts,
    const char *want_host, const char *want_program, long want_pid, const char *want_msg)
{
	int64_t want = tst_usec(want_ts);

	ck_assert_msg(rec->ts_usec == want, "%s: ts %lld, want %lld (%s)", name,
	    (long long)rec->ts_usec, (long long)want, want_ts);
	tst_str_eq(rec->host, want_host, name);
	tst_str_eq(rec->program, want_program, name);
	ck_assert_msg(rec->pid == want_pid, "%s: pid %ld, want %ld", name, rec->pid, want_pid);
	tst_str_eq(rec->msg, want_msg, name);
	ck_assert_msg(strlen(rec->msg) == rec->msg_len, "%s: msg_len %zu, strlen %zu", name,
	    rec->msg_len, strlen(rec->msg));
	ck_assert_ptr_null(rec->listener);
	ck_assert_ptr_null(rec->daemon);
}

START_TEST(envelope_line_gives_expected_record)
{
	const struct envcase *c = &cases[_i];
	struct envelope_ctx ctx;
	struct mx_record rec;
	size_t len = c->len != 0 ? c->len : strlen(c->line);
	char *buf = tst_line(c->line, len);
	int r;

	tst_utc();
	envelope_init(&ctx, c->fmt, tst_usec(c->ref != NULL ? c->ref : REF_DEFAULT));
	memset(&rec, 0xa5, sizeof(rec));
	r = envelope_parse(&ctx, buf, len, &rec);
	ck_assert_msg(r == c->want_ret, "%s: returned %d, want %d", c->name, r, c->want_ret);
	if (r == 1)
		tst_check_rec(c->name, &rec, c->want_ts, c->want_host, c->want_program,
		    c->want_pid, c->want_msg);
	envelope_done(&ctx);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------ year inference */

static const struct yearcase {
	const char *name, *ref;
	const char *lines[4];
	const char *want[4];		/* NULL: -EINVAL */
} year_cases[] = {
	{ "a Dec 31 line read on Jan 2 is from last year", "2027-01-02T12:00:00",
	  { "Dec 31 23:59:59" }, { "2026-12-31T23:59:59" } },
	{ "a line 3 days in the future stays in the reference year", "2027-01-02T12:00:00",
	  { "Jan  5 10:00:00" }, { "2027-01-05T10:00:00" } },
	{ "a line 30 days in the future is from last year", "2027-01-02T12:00:00",
	  { "Feb  1 10:00:00" }, { "2026-02-01T10:00:00" } },
	{ "Dec -> Jan within one context moves to the next year", "2026-12-30T00:00:00",
	  { "Dec 30 23:59:58", "Dec 31 23:59:59", "Jan  1 00:00:01", "Jan  1 00:00:02" },
	  { "2026-12-30T23:59:58", "2026-12-31T23:59:59", "2027-01-01T00:00:01",
	    "2027-01-01T00:00:02" } },
	{ "a late December line after January ones is last year and changes nothing",
	  "2027-01-01T00:10:00",
	  { "Dec 31 23:59:59", "Jan  1 00:00:01", "Dec 31 23:59:58", "Jan  1 00:00:03" },
	  { "2026-12-31T23:59:59", "2027-01-01T00:00:01", "2026-12-31T23:59:58",
	    "2027-01-01T00:00:03" } },
	{ "lines one month out of order stay in the same year", "2026-11-22T12:00:00",
	  { "Nov  1 00:00:00", "Oct 31 23:59:59", "Nov  2 00:00:00" },
	  { "2026-11-01T00:00:00", "2026-10-31T23:59:59", "2026-11-02T00:00:00" } },
	{ "February 29 is valid in a leap reference year", "2028-03-01T00:00:00",
	  { "Feb 29 12:00:00" }, { "2028-02-29T12:00:00" } },
	{ "February 29 read in early 2029 is from 2028", "2029-01-10T00:00:00",
	  { "Feb 29 12:00:00" }, { "2028-02-29T12:00:00" } },
	{ "February 29 after a year change to a non-leap year is impossible",
	  "2028-12-31T00:00:00",
	  { "Dec 31 10:00:00", "Feb 29 12:00:00" }, { "2028-12-31T10:00:00", NULL } },
};

START_TEST(envelope_year_is_inferred)
{
	const struct yearcase *c = &year_cases[_i];
	struct envelope_ctx ctx;
	struct mx_record rec;
	char line[128];
	int i, r;

	tst_utc();
	envelope_init(&ctx, MX_ENVELOPE_AUTO, tst_usec(c->ref));
	for (i = 0; i < 4 && c->lines[i] != NULL; i++) {
		snprintf(line, sizeof(line), "%s mail postfix/smtpd[1]: x", c->lines[i]);
		r = envelope_parse(&ctx, line, strlen(line), &rec);
		if (c->want[i] == NULL) {
			ck_assert_msg(r == -EINVAL, "%s: line %d: returned %d", c->name, i, r);
			continue;
		}
		ck_assert_msg(r == 1, "%s: line %d: returned %d", c->name, i, r);
		ck_assert_msg(rec.ts_usec == tst_usec(c->want[i]), "%s: line %d: ts %lld, want %s",
		    c->name, i, (long long)rec.ts_usec, c->want[i]);
	}
	envelope_done(&ctx);
}
END_TEST

/* -------------------------------------------------------------- local time */

static const struct localcase {
	const char *name, *line, *want;
} local_cases[] = {
	{ "a BSD winter time in Berlin is UTC+1", "Nov 22 01:02:03", "2026-11-22T00:02:03" },
	{ "a BSD summer time in Berlin is UTC+2", "Jul  1 12:00:00", "2026-07-01T10:00:00" },
	{ "the same hour again uses the cached offset", "Jul  1 12:59:59", "2026-07-01T10:59:59" },
	{ "the last second before the spring change is still UTC+1", "Mar 29 01:59:59",
	  "2026-03-29T00:59:59" },
	{ "the first second after the spring change is UTC+2", "Mar 29 03:00:00",
	  "2026-03-29T01:00:00" },
	{ "an RFC 3339 time without offset is local", "2026-07-01 12:00:00.25",
	  "2026-07-01T10:00:00.250000" },
	{ "an RFC 3339 time with an offset ignores TZ", "2026-07-01T12:00:00+00:00",
	  "2026-07-01T12:00:00" },
};

START_TEST(envelope_local_time_follows_tz)
{
	struct envelope_ctx ctx;
	struct mx_record rec;
	char line[128];
	size_t i;

	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	envelope_init(&ctx, MX_ENVELOPE_AUTO, tst_usec("2026-11-22T12:00:00"));
	for (i = 0; i < N(local_cases); i++) {
		const struct localcase *c = &local_cases[i];

		snprintf(line, sizeof(line), "%s mail postfix/smtpd[1]: x", c->line);
		ck_assert_msg(envelope_parse(&ctx, line, strlen(line), &rec) == 1, "%s", c->name);
		ck_assert_msg(rec.ts_usec == tst_usec(c->want), "%s: ts %lld, want %s", c->name,
		    (long long)rec.ts_usec, c->want);
	}
	envelope_done(&ctx);
	tst_utc();
}
END_TEST

/* ----------------------------------------------------------------- joining */

/* tst_feed - parse one line of a sequence in a fresh exact-size buffer */
static int
tst_feed(struct envelope_ctx *ctx, const char *line, struct mx_record *rec)
{
	size_t len = strlen(line);
	char *buf = tst_line(line, len);
	static char keep[4][512];
	static int k;
	int r;

	r = envelope_parse(ctx, buf, len, rec);
	/* the record may point into buf: keep a copy of the message for the caller */
	if (r == 1 && rec->msg >= buf && rec->msg <= buf + len) {
		k = (k + 1) % 4;
		snprintf(keep[k], sizeof(keep[k]), "%s", rec->msg);
		rec->msg = keep[k];
		rec->program = NULL;
		rec->host = NULL;
	}
	free(buf);
	return r;
}

START_TEST(envelope_cri_partial_lines_are_joined)
{
	struct envelope_ctx ctx;
	struct mx_record rec;

	tst_utc();
	envelope_init(&ctx, MX_ENVELOPE_AUTO, tst_usec(REF_DEFAULT));
	ck_assert_int_eq(tst_feed(&ctx, "2026-11-22T01:02:03.1Z stdout P Nov 22 01:02:03 mail "
	    "post", &rec), 0);
	ck_assert_int_eq(tst_feed(&ctx, "2026-11-22T01:02:03.2Z stdout P fix/smtpd[1]: connect "
	    "from ", &rec), 0);
	ck_assert_int_eq(tst_feed(&ctx, "2026-11-22T01:02:03.3Z stdout F unknown[192.0.2.1]",
	    &rec), 1);
	/* the joined record lives in the context's buffer, not in the last line */
	tst_check_rec("joined CRI line", &rec, "2026-11-22T01:02:03", "mail", "postfix/smtpd", 1,
	    "connect from unknown[192.0.2.1]");
	ck_assert_int_eq(tst_feed(&ctx, "2026-11-22T01:02:05Z stdout F postfix/smtpd[2]: next",
	    &rec), 1);
	ck_assert_str_eq(rec.msg, "next");
	ck_assert_int_eq(rec.pid, 2);
	envelope_done(&ctx);
}
END_TEST

/* tst_big - "<prefix><n x fill><suffix>" in a static buffer */
static const char *
tst_big(const char *prefix, size_t n, char fill, const char *suffix)
{
	static char buf[MX_LINE_MAX + 256];
	size_t pl = strlen(prefix);

	ck_assert_uint_lt(pl + n + strlen(suffix), sizeof(buf));
	memcpy(buf, prefix, pl);
	memset(buf + pl, fill, n);
	strcpy(buf + pl + n, suffix);
	return buf;
}

START_TEST(envelope_cri_join_overflow_drops_the_line)
{
	struct envelope_ctx ctx;
	struct mx_record rec;
	int i;

	tst_utc();
	envelope_init(&ctx, MX_ENVELOPE_CRI, tst_usec(REF_DEFAULT));
	ck_assert_int_eq(tst_feed(&ctx, "2026-11-22T01:02:03Z stdout P postfix/smtpd[1]: ", &rec),
	    0);
	for (i = 0; i < 3; i++)		/* 3 x 30000 bytes > MX_LINE_MAX */
		ck_assert_int_eq(tst_feed(&ctx, tst_big("2026-11-22T01:02:03Z stdout P ", 30000,
		    'a', ""), &rec), 0);
	ck_assert_int_eq(tst_feed(&ctx, "2026-11-22T01:02:03Z stdout F end", &rec), -E2BIG);
	/* the next line starts afresh */
	ck_assert_int_eq(tst_feed(&ctx, "2026-11-22T01:02:04Z stdout F postfix/smtpd[3]: ok",
	    &rec), 1);
	ck_assert_str_eq(rec.msg, "ok");
	/* exactly MX_LINE_MAX bytes still fit */
	ck_assert_int_eq(tst_feed(&ctx, tst_big("2026-11-22T01:02:03Z stdout P postfix/smtpd[4]: ",
	    MX_LINE_MAX - 18 - 1, 'b', ""), &rec), 0);
	ck_assert_int_eq(tst_feed(&ctx, "2026-11-22T01:02:03Z stdout F c", &rec), 1);
	ck_assert_int_eq(rec.msg_len, MX_LINE_MAX - 18);
	envelope_done(&ctx);
}
END_TEST

START_TEST(envelope_docker_partial_lines_are_joined)
{
	struct envelope_ctx ctx;
	struct mx_record rec;

	tst_utc();
	envelope_init(&ctx, MX_ENVELOPE_AUTO, tst_usec(REF_DEFAULT));
	ck_assert_int_eq(tst_feed(&ctx, "{\"log\":\"Nov 22 01:02:03 mail postfix/smtpd[1]: conn\","
	    "\"stream\":\"stdout\",\"time\":\"2026-11-22T01:02:03.1Z\"}", &rec), 0);
	ck_assert_int_eq(tst_feed(&ctx, "{\"log\":\"ect from unknown[192.0.2.1] \\u00e9\\n\","
	    "\"stream\":\"stdout\",\"time\":\"2026-11-22T01:02:03.2Z\"}", &rec), 1);
	tst_check_rec("joined Docker line", &rec, "2026-11-22T01:02:03", "mail", "postfix/smtpd",
	    1, "connect from unknown[192.0.2.1] \xc3\xa9");
	/* overflow of a Docker line split in 16 KiB pieces */
	ck_assert_int_eq(tst_feed(&ctx, tst_big("{\"log\":\"", 40000, 'x', "\"}"), &rec), 0);
	ck_assert_int_eq(tst_feed(&ctx, tst_big("{\"log\":\"", 40000, 'x', "\"}"), &rec), 0);
	ck_assert_int_eq(tst_feed(&ctx, "{\"log\":\"end\\n\"}", &rec), -E2BIG);
	ck_assert_int_eq(tst_feed(&ctx, "{\"log\":\"postfix/smtpd[1]: ok\\n\"}", &rec), 1);
	ck_assert_str_eq(rec.msg, "ok");
	envelope_done(&ctx);
}
END_TEST

/* --------------------------------------------------------- journal fields */

START_TEST(envelope_from_fields_builds_the_record)
{
	struct envelope_ctx ctx;
	struct mx_record rec;
	char msg[] = "connect from unknown[192.0.2.1]\n";
	char bin[] = "a\0b";
	struct mx_journal_fields f = {
		.realtime_usec = 1795309323000000ULL, .hostname = "mail",
		.identifier = "postfix/smtpd", .comm = "smtpd", .pid = 123,
		.message = msg, .message_len = sizeof(msg) - 1,
	};

	envelope_init(&ctx, MX_ENVELOPE_AUTO, 0);
	ck_assert_int_eq(envelope_from_fields(&ctx, &f, &rec), 1);
	tst_check_rec("journal fields", &rec, "2026-11-22T01:02:03", "mail", "postfix/smtpd", 123,
	    "connect from unknown[192.0.2.1]");

	ck_assert_uint_eq(rec.msg_len, strlen(msg));	/* the newline was cut in place */
	f.message_len = strlen(msg);
	f.identifier = NULL;
	f.pid = -1;
	f.realtime_usec = 0;
	ck_assert_int_eq(envelope_from_fields(&ctx, &f, &rec), 1);
	ck_assert_str_eq(rec.program, "smtpd");
	ck_assert_int_eq(rec.pid, -1);
	ck_assert(rec.ts_usec == MX_TS_UNKNOWN);

	f.comm = NULL;
	ck_assert_int_eq(envelope_from_fields(&ctx, &f, &rec), -EINVAL);

	f.comm = "smtpd";
	f.message = bin;
	f.message_len = 3;
	ck_assert_int_eq(envelope_from_fields(&ctx, &f, &rec), -EINVAL);
	f.message = NULL;
	f.message_len = 0;
	ck_assert_int_eq(envelope_from_fields(&ctx, &f, &rec), -EINVAL);
	envelope_done(&ctx);
}
END_TEST

/* ------------------------------------------------------------------- names */

START_TEST(envelope_names_round_trip)
{
	static const char *const names[] = {
		"auto", "syslog", "rfc3339", "rfc5424", "dovecot", "cri", "docker",
		"journal-json", "bare",
	};
	enum mx_envelope fmt;
	size_t i;

	ck_assert_int_eq(N(names), MX_ENVELOPE__MAX);
	for (i = 0; i < N(names); i++) {
		ck_assert_str_eq(envelope_name((enum mx_envelope)i), names[i]);
		ck_assert_int_eq(envelope_from_name(names[i], &fmt), 0);
		ck_assert_int_eq(fmt, (enum mx_envelope)i);
	}
	ck_assert_int_eq(envelope_from_name("json", &fmt), -EINVAL);
	ck_assert_int_eq(envelope_from_name("", &fmt), -EINVAL);
	ck_assert_ptr_null(envelope_name(MX_ENVELOPE__MAX));
}
END_TEST

/* -------------------------------------------------------------- robustness */

/*
 * Every prefix of every table line, and random byte mutations of them, in
 * exact-size buffers: the result is always one of the documented values and
 * a record always has a NUL-terminated message of msg_len bytes.
 */
static void
tst_survives(const char *line, size_t len, enum mx_envelope fmt)
{
	struct envelope_ctx ctx;
	struct mx_record rec;
	char *buf = tst_line(line, len);
	int r;

	envelope_init(&ctx, fmt, tst_usec(REF_DEFAULT));
	r = envelope_parse(&ctx, buf, len, &rec);
	ck_assert_msg(r == 1 || r == 0 || r == -EINVAL || r == -E2BIG, "returned %d for \"%.*s\"",
	    r, (int)len, line);
	if (r == 1)
		ck_assert_uint_eq(strlen(rec.msg), rec.msg_len);
	envelope_done(&ctx);
	free(buf);
}

START_TEST(envelope_every_prefix_is_handled)
{
	const struct envcase *c = &cases[_i];
	size_t len = c->len != 0 ? c->len : strlen(c->line), n;

	tst_utc();
	for (n = 0; n <= len; n++)
		tst_survives(c->line, n, c->fmt);
}
END_TEST

START_TEST(envelope_mutated_lines_are_handled)
{
	static const char bytes[] = " :[]<>{}\"\\-.T0123456789ZPF\n\xef\xbb";
	char buf[1024];
	unsigned seed = 12345;
	size_t len, j;
	int i, k;

	tst_utc();
	for (i = 0; i < 20000; i++) {		/* bounded: about 0.5 s under ASan */
		const struct envcase *c = &cases[i % N(cases)];

		len = c->len != 0 ? c->len : strlen(c->line);
		if (len >= sizeof(buf))
			continue;
		memcpy(buf, c->line, len);
		for (k = 0; k < 3; k++) {
			seed = seed * 1103515245 + 12345;
			j = len > 0 ? (seed >> 8) % len : 0;
			if (len > 0)
				buf[j] = bytes[(seed >> 20) % (sizeof(bytes) - 1)];
		}
		tst_survives(buf, len, c->fmt);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("envelope");
	TCase *tc = tcase_create("envelopes");
	TCase *tr = tcase_create("robustness");

	tcase_add_loop_test(tc, envelope_line_gives_expected_record, 0, N(cases));
	tcase_add_loop_test(tc, envelope_year_is_inferred, 0, N(year_cases));
	tcase_add_test(tc, envelope_local_time_follows_tz);
	tcase_add_test(tc, envelope_cri_partial_lines_are_joined);
	tcase_add_test(tc, envelope_cri_join_overflow_drops_the_line);
	tcase_add_test(tc, envelope_docker_partial_lines_are_joined);
	tcase_add_test(tc, envelope_from_fields_builds_the_record);
	tcase_add_test(tc, envelope_names_round_trip);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(tr, envelope_every_prefix_is_handled, 0, N(cases));
	tcase_add_test(tr, envelope_mutated_lines_are_handled);
	tcase_set_timeout(tr, 120);
	suite_add_tcase(s, tr);
	return tst_run_suite(s);
}
