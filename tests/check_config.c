/*
 * NAME
 *	check_config - mxledger.conf: values read, every error as file:line, includes, printing
 * DESCRIPTION
 *	Texts are read with config_parse_text() as "t.conf" and the messages
 *	captured in memory; include cases write real files into a fresh
 *	directory. Time zones are looked up in a fake TZDIR made by the test,
 *	so the result does not depend on the tzdata installed.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "testutil.h"

/*
 * A text that reads without error, and lines its normalised form must
 * contain, in this order; "...\n" stands for any lines in between.
 */
static const struct ok_case {
	const char *name, *text, *want_lines;
} ok_cases[] = {
	{ "an empty file gives every default", "",
	  "proxied-listeners \"*proxy*\"\ndovecot-proxy-ports none\n"
	  "batch-events 2000\nbatch-interval 1s\nretention 90d\n...\nlog-level info\n" },
	{ "comments and blank lines are ignored", "# a comment\n\n   # indented\n\t\n",
	  "log-level info\n" },
	{ "the database path is kept as given", "database \"/srv/mx/ledger.db\"\n",
	  "database \"/srv/mx/ledger.db\"\n" },
	{ "a bare word is as good as a quoted string", "database /srv/mx/ledger.db\n",
	  "database \"/srv/mx/ledger.db\"\n" },
	{ "a file input without a block gets the default envelope and start",
	  "input file \"/var/log/mail.log\"\n",
	  "input file \"/var/log/mail.log\" {\n\tenvelope auto\n\tstart-at end\n}\n" },
	{ "a one-line block separates statements with semicolons",
	  "input file \"/var/log/mail.log\" { envelope syslog; start-at beginning }\n",
	  "input file \"/var/log/mail.log\" {\n\tenvelope syslog\n\tstart-at beginning\n}\n" },
	{ "a block over several lines",
	  "input file \"/srv/dovecot.log\" {\n\tenvelope dovecot\n\tstart-at end\n}\n",
	  "input file \"/srv/dovecot.log\" {\n\tenvelope dovecot\n" },
	{ "a journal input with a directory and its own matches",
	  "input journal \"/srv/journal\" {\n\tmatch \"_COMM=smtpd\" \"_COMM=postscreen\"\n"
	  "\tmatch SYSLOG_IDENTIFIER=dovecot\n\tstart-at beginning\n}\n",
	  "input journal \"/srv/journal\" {\n\tstart-at beginning\n\tmatch \"_COMM=smtpd\"\n"
	  "\tmatch \"_COMM=postscreen\"\n\tmatch \"SYSLOG_IDENTIFIER=dovecot\"\n}\n" },
	{ "a lone + separates alternative match groups",
	  "input journal { match \"_COMM=smtpd\" + \"SYSLOG_IDENTIFIER=dovecot\" }\n",
	  "\tmatch \"_COMM=smtpd\"\n\tmatch \"+\"\n\tmatch \"SYSLOG_IDENTIFIER=dovecot\"\n" },
	{ "the system journal keeps the built-in matches",
	  "input journal\n",
	  "input journal {\n\tstart-at end\n"
	  "\t# match: built in (the Postfix and Dovecot processes)\n}\n" },
	{ "two inputs are both kept, in order",
	  "input file \"/var/log/mail.log\"\ninput journal\n",
	  "\tstart-at end\n}\ninput journal {\n" },
	{ "escaped quote and backslash survive and are printed escaped",
	  "input file \"/srv/we\\\"ird\\\\name.log\"\n",
	  "input file \"/srv/we\\\"ird\\\\name.log\" {\n" },
	{ "a trailing comment after a statement", "retention 30d # a month\n",
	  "retention 30d\n" },
	{ "a backslash at the end of a line continues the statement",
	  "proxied-listeners \"postfix/smtpd-proxy*\" \\\n\t\"postfix/*-proxy*\"\n",
	  "proxied-listeners \"postfix/smtpd-proxy*\" \"postfix/*-proxy*\"\n" },
	{ "CRLF line ends are accepted", "retention 30d\r\nlog-level debug\r\n",
	  "retention 30d\n...\nlog-level debug\n" },
	{ "a last line without a newline is read", "log-level notice", "log-level notice\n" },
	{ "no listener is proxied with none", "proxied-listeners none\n",
	  "proxied-listeners none\n" },
	{ "dovecot proxy ports are kept in order", "dovecot-proxy-ports 10993 10143\n",
	  "dovecot-proxy-ports 10993 10143\n" },
	{ "batch settings", "batch-events 500\nbatch-interval 250ms\n",
	  "batch-events 500\nbatch-interval 250ms\n" },
	{ "a bare number of seconds is printed in the largest exact unit",
	  "batch-interval 60\n", "batch-interval 1m\n" },
	{ "combined units add up", "retention 1h30m\n", "retention 90m\n" },
	{ "fourteen days are two weeks", "retention 14d\n", "retention 2w\n" },
	{ "retention 0 keeps everything", "retention 0\n", "retention off\n" },
	{ "retention off keeps everything", "retention off\n", "retention off\n" },
	{ "a time zone from the zone database", "timezone \"Europe/Berlin\"\n",
	  "timezone \"Europe/Berlin\"\n" },
	{ "a POSIX TZ string is passed through", "timezone \"CET-1CEST,M3.5.0,M10.5.0/3\"\n",
	  "timezone \"CET-1CEST,M3.5.0,M10.5.0/3\"\n" },
	{ "no time zone is printed as a comment", "",
	  "# timezone: not set, RFC 3164 times are read in the local time zone\n" },
	{ "every log level name", "log-level warning\n", "log-level warning\n" },
	{ "statements may share a line with semicolons", "log-level err; retention 1w\n",
	  "retention 1w\n...\nlog-level err\n" },
	{ "without a metrics block nothing is served, and the output says so", "",
	  "# metrics: no metrics block; no /metrics endpoint, no alerts\n" },
	{ "an empty metrics block serves on loopback port 9154, nothing else", "metrics { }\n",
	  "metrics {\n\tlisten \"127.0.0.1:9154\"\n\t# textfile: none\n\ttextfile-interval 15s\n"
	  "\tproxy-networks none\n\talerts no\n\t# alertmanager-url: none\n}\n" },
	{ "every metrics setting",
	  "metrics {\n\tlisten \"[::1]:9155\"\n"
	  "\ttextfile \"/var/lib/prometheus/node-exporter/mxledger.prom\"\n"
	  "\ttextfile-interval 1m\n\tproxy-networks \"10.0.0.0/8\" \"fd00::/8\"\n"
	  "\talerts yes\n\talertmanager-url \"http://127.0.0.1:9093\"\n}\n",
	  "metrics {\n\tlisten \"[::1]:9155\"\n"
	  "\ttextfile \"/var/lib/prometheus/node-exporter/mxledger.prom\"\n"
	  "\ttextfile-interval 1m\n\tproxy-networks \"10.0.0.0/8\" \"fd00::/8\"\n"
	  "\talerts yes\n\talertmanager-url \"http://127.0.0.1:9093\"\n}\n" },
	{ "listen none keeps the textfile and the alerts without an endpoint",
	  "metrics { listen none; textfile \"/srv/m.prom\"; alerts yes }\n",
	  "metrics {\n\tlisten none\n\ttextfile \"/srv/m.prom\"\n...\n\talerts yes\n"
	  "\t# alertmanager-url: none, alerts go to the journal\n}\n" },
	{ "port 0 asks for any free port", "metrics { listen 127.0.0.1:0 }\n",
	  "\tlisten \"127.0.0.1:0\"\n" },
	{ "an address without a prefix length is a proxy network of one",
	  "metrics { proxy-networks 192.0.2.7 2001:db8::1 }\n",
	  "\tproxy-networks \"192.0.2.7\" \"2001:db8::1\"\n" },
	{ "a textfile interval in plain seconds", "metrics { textfile-interval 90 }\n",
	  "\ttextfile-interval 90s\n" },
	{ "an https Alertmanager", "metrics { alerts yes; alertmanager-url https://am.example.net/ }\n",
	  "\talertmanager-url \"https://am.example.net/\"\n" },
	{ "without a crowdsec block CrowdSec is not asked, and the output says so", "",
	  "# crowdsec: no crowdsec block; CrowdSec is not asked\n" },
#ifdef HAVE_CROWDSEC
	{ "a crowdsec block with only a key: defaults, the key hidden",
	  "crowdsec { api-key 0123456789abcdef0123456789abcdef }\n",
	  "crowdsec {\n\turl \"http://127.0.0.1:8080/\"\n\tapi-key \"(hidden)\"\n"
	  "\tinterval 10s\n\ttimeout 2s\n\tstale-after 1m\n"
	  "\t# watcher: none; nothing is pushed to CrowdSec\n}\n" },
	{ "every crowdsec setting, a watcher, and rules asking CrowdSec",
	  "crowdsec {\n\turl https://lapi.example.net:8443/\n\tapi-key k\n\tinterval 30s\n"
	  "\ttimeout 500ms\n\tstale-after 5m\n\twatcher {\n\t\tmachine-id mx1\n"
	  "\t\tpassword \"p w\"\n\t\tproxy-errors yes\n\t}\n}\n"
	  "rule cs { crowdsec ban; action 521 5.7.1 blocked; crowdsec-alert ban 4h }\n",
	  "rule cs {\n\tcrowdsec ban\n\taction \"521 5.7.1 blocked\"\n\tcrowdsec-alert ban 4h\n}\n"
	  "...\ncrowdsec {\n\turl \"https://lapi.example.net:8443/\"\n\tapi-key \"(hidden)\"\n"
	  "\tinterval 30s\n\ttimeout 500ms\n\tstale-after 5m\n\twatcher {\n"
	  "\t\tmachine-id \"mx1\"\n\t\tpassword \"(hidden)\"\n\t\tproxy-errors yes\n\t}\n}\n" },
#endif
};

/* A text with errors, and exactly what is printed about it. */
static const struct err_case {
	const char *name, *text, *want;
} err_cases[] = {
	{ "an unknown keyword is named", "databse \"/srv/x.db\"\n",
	  "t.conf:1: unknown keyword \"databse\"\n" },
#ifdef HAVE_CROWDSEC
	{ "a crowdsec block needs a bouncer key", "crowdsec {\n interval 5s\n}\n",
	  "t.conf:1: crowdsec: needs api-key-file (or api-key): a bouncer key from "
	  "`cscli bouncers add mxledger`\n" },
	{ "crowdsec values are checked, each at its line",
	  "crowdsec {\n url ftp://x\n interval 0\n timeout 2m\n stale-after 8d\n colour red\n"
	  " api-key-file relative.key\n}\n",
	  "t.conf:2: url: \"ftp://x\": expected an http:// or https:// URL\n"
	  "t.conf:3: interval: \"0\" is not between 1s and 1h\n"
	  "t.conf:4: timeout: \"2m\" is not between 100ms and 1m\n"
	  "t.conf:5: stale-after: \"8d\" is not between 1s and 7d\n"
	  "t.conf:6: unknown keyword \"colour\" in a crowdsec block\n"
	  "t.conf:7: api-key-file: \"relative.key\" is not an absolute path\n" },
	{ "a key file that cannot be read",
	  "crowdsec { api-key-file /nonexistent/k }\n",
	  "t.conf:1: api-key-file: \"/nonexistent/k\": cannot read: No such file or directory\n" },
	{ "an empty key file", "crowdsec { api-key-file /dev/null }\n",
	  "t.conf:1: api-key-file: \"/dev/null\": the secret is empty\n" },
	{ "a key given inline and as a file",
	  "crowdsec {\n api-key a\n api-key-file /proc/self/comm\n}\n",
	  "t.conf:3: api-key-file: api-key is set too (line 2); give one of them\n" },
	{ "a timeout longer than the interval",
	  "crowdsec {\n api-key a\n interval 1s\n timeout 2s\n}\n",
	  "t.conf:4: timeout: longer than the interval\n" },
	{ "two crowdsec blocks", "crowdsec { api-key a }\ncrowdsec { api-key b }\n",
	  "t.conf:2: crowdsec: already set at t.conf:1\n" },
	{ "a watcher without credentials",
	  "crowdsec {\n api-key a\n watcher {\n  proxy-errors maybe\n }\n watcher { }\n}\n",
	  "t.conf:4: proxy-errors: \"maybe\" is not one of no, yes\n"
	  "t.conf:6: watcher: already set in this block at line 3\n" },
#else
	{ "a crowdsec block in a build without CrowdSec support",
	  "crowdsec { api-key a }\n",
	  "t.conf:1: crowdsec: this mxledger was built without CrowdSec support (configure "
	  "--with-crowdsec; needs libcurl and json-c)\n" },
#endif
	{ "rules that ask CrowdSec without the block",
	  "rule a { crowdsec ban; action REJECT }\nrule b { not crowdsec captcha; action DUNNO }\n"
	  "rule c { action DUNNO; crowdsec-alert ban 1h }\n",
	  "t.conf:1: rule a: crowdsec: there is no crowdsec block to ask (mxledger.conf(5) "
	  "CROWDSEC)\n"
	  "t.conf:2: rule b: crowdsec: there is no crowdsec block to ask (mxledger.conf(5) "
	  "CROWDSEC)\n"
	  "t.conf:3: rule c: crowdsec-alert: needs a watcher block in the crowdsec block\n" },
	{ "every error is reported, not just the first",
	  "foo\nbatch-events 0\nretention 5x\nlog-level loud\n",
	  "t.conf:1: unknown keyword \"foo\"\n"
	  "t.conf:2: batch-events: \"0\" is not a number from 1 to 100000\n"
	  "t.conf:3: retention: \"5x\" is not a duration (e.g. 500ms, 30s, 15m, 1h, 1d, 1w)\n"
	  "t.conf:4: log-level: \"loud\" is not one of debug, info, notice, warning, err\n" },
	{ "syntax and meaning errors come out in line order",
	  "bogus 1\ndatabase \"/x.db\ntimezone \"Mars/Olympus\"\n",
	  "t.conf:1: unknown keyword \"bogus\"\n"
	  "t.conf:2: unterminated string\n"
	  "t.conf:3: timezone: unknown time zone \"Mars/Olympus\" (not in TZDIR)\n" },
	{ "a singleton given twice names the first place",
	  "database \"/a.db\"\n# again\ndatabase \"/b.db\"\n",
	  "t.conf:3: database: already set at t.conf:1\n" },
	{ "a number with a suffix is not a number", "batch-events 12k\n",
	  "t.conf:1: batch-events: \"12k\" is not a number from 1 to 100000\n" },
	{ "a batch above the cap is refused", "batch-events 100001\n",
	  "t.conf:1: batch-events: \"100001\" is not a number from 1 to 100000\n" },
	{ "a negative number is not a number", "batch-events -5\n",
	  "t.conf:1: batch-events: \"-5\" is not a number from 1 to 100000\n" },
	{ "a batch interval above an hour is refused", "batch-interval 2h\n",
	  "t.conf:1: batch-interval: \"2h\" is not between 10ms and 1h\n" },
	{ "a fractional duration is not a duration", "batch-interval 1.5s\n",
	  "t.conf:1: batch-interval: \"1.5s\" is not a duration "
	  "(e.g. 500ms, 30s, 15m, 1h, 1d, 1w)\n" },
	{ "a unit must follow every number after the first", "retention 1h30\n",
	  "t.conf:1: retention: \"1h30\" is not a duration (e.g. 500ms, 30s, 15m, 1h, 1d, 1w)\n" },
	{ "retention beyond a century is refused", "retention 99999w\n",
	  "t.conf:1: retention: \"99999w\" is too long\n" },
	{ "retention in milliseconds is refused", "retention 1500ms\n",
	  "t.conf:1: retention: \"1500ms\" is not a whole number of seconds\n" },
	{ "an unknown envelope lists the known ones",
	  "input file \"/var/log/mail.log\" {\n\tenvelope rfc3164\n}\n",
	  "t.conf:2: envelope: \"rfc3164\" is not one of auto, syslog, rfc3339, rfc5424, dovecot, "
	  "cri, docker, journal-json, bare\n" },
	{ "an unknown start position", "input journal { start-at middle }\n",
	  "t.conf:1: start-at: \"middle\" is not one of end, beginning\n" },
	{ "start-at twice in one block",
	  "input journal {\n\tstart-at end\n\tstart-at beginning\n}\n",
	  "t.conf:3: start-at: already set in this block at line 2\n" },
	{ "an unterminated string is reported and the next line still read",
	  "database \"/var/lib/x.db\nlog-level chatty\n",
	  "t.conf:1: unterminated string\n"
	  "t.conf:2: log-level: \"chatty\" is not one of debug, info, notice, warning, err\n" },
	{ "a block left open is reported where it opened", "input journal {\n\tstart-at end\n",
	  "t.conf:1: block is not closed (missing \"}\")\n" },
	{ "a closing brace without a block", "log-level info\n}\n",
	  "t.conf:2: unexpected \"}\"\n" },
	{ "a block must open on its statement's line", "input journal\n{\n\tstart-at end\n}\n",
	  "t.conf:2: unexpected \"{\" (a block opens on the line of its statement)\n" },
	{ "text after a closing brace", "input journal { start-at end } extra\n",
	  "t.conf:1: unexpected \"extra\" after \"}\"\n" },
	{ "a keyword cannot be quoted", "\"database\" \"/x.db\"\n",
	  "t.conf:1: expected a keyword, got the string \"database\"\n" },
	{ "only two escapes are known", "database \"/srv/x\\y.db\"\n",
	  "t.conf:1: invalid escape \"\\y\" in string (only \\\" and \\\\ are known)\n" },
	{ "a control character in a string", "database \"/srv/x\001.db\"\n",
	  "t.conf:1: control character 0x01 in string\n" },
	{ "a relative database path is refused", "database \"mx.db\"\n",
	  "t.conf:1: database: \"mx.db\" is not an absolute path\n" },
	{ "a relative input path is refused", "input file \"mail.log\"\n",
	  "t.conf:1: input file: \"mail.log\" is not an absolute path\n" },
	{ "too many arguments", "database \"/a.db\" \"/b.db\"\n",
	  "t.conf:1: database: expected 1 argument, got 2\n" },
	{ "a missing argument", "timezone\n", "t.conf:1: timezone: expected 1 argument, got 0\n" },
	{ "a plain setting takes no block", "retention 1d { }\n",
	  "t.conf:1: retention: does not take a block\n" },
	{ "an input kind must be file or journal", "input socket \"/run/x\"\n",
	  "t.conf:1: input: expected \"file\" or \"journal\", got \"socket\"\n" },
	{ "a file input needs exactly one path", "input file\n",
	  "t.conf:1: input file: expected one path, got 0 arguments\n" },
	{ "the same file twice is refused",
	  "input file \"/var/log/mail.log\"\ninput file \"/var/log/mail.log\"\n",
	  "t.conf:2: input: file \"/var/log/mail.log\" already declared at t.conf:1\n" },
	{ "the system journal twice is refused", "input journal\ninput journal\n",
	  "t.conf:2: input: journal already declared at t.conf:1\n" },
	{ "match belongs to journal inputs",
	  "input file \"/var/log/mail.log\" { match \"_COMM=smtpd\" }\n",
	  "t.conf:1: match: not valid in an input file block\n" },
	{ "envelope belongs to file inputs", "input journal { envelope syslog }\n",
	  "t.conf:1: envelope: not valid in an input journal block\n" },
	{ "a journal match needs an upper-case FIELD=value",
	  "input journal { match \"comm=smtpd\" }\n",
	  "t.conf:1: match: \"comm=smtpd\" is not FIELD=value (FIELD in upper case, "
	  "e.g. _COMM=smtpd) or +\n" },
	{ "an unknown statement inside an input block", "input journal {\n\tfollow yes\n}\n",
	  "t.conf:2: unknown keyword \"follow\" in an input block\n" },
	{ "a port out of range", "dovecot-proxy-ports 10143 70000\n",
	  "t.conf:1: dovecot-proxy-ports: \"70000\" is not a port (1-65535)\n" },
	{ "port zero is not a port", "dovecot-proxy-ports 0\n",
	  "t.conf:1: dovecot-proxy-ports: \"0\" is not a port (1-65535)\n" },
	{ "none cannot be mixed with patterns", "proxied-listeners none \"*proxy*\"\n",
	  "t.conf:1: proxied-listeners: \"none\" must stand alone\n" },
	{ "an empty pattern is refused", "proxied-listeners \"\"\n",
	  "t.conf:1: proxied-listeners: empty pattern\n" },
	{ "an unknown time zone", "timezone \"Europe/Berln\"\n",
	  "t.conf:1: timezone: unknown time zone \"Europe/Berln\" (not in TZDIR)\n" },
	{ "a time zone cannot climb out of the zone directory", "timezone \"../../etc/passwd\"\n",
	  "t.conf:1: timezone: unknown time zone \"../../etc/passwd\" (not in TZDIR)\n" },
	{ "include is a top-level statement", "input journal {\n\tinclude \"x.conf\"\n}\n",
	  "t.conf:2: include: only allowed at the top level\n" },
	{ "include takes one file name", "include\n",
	  "t.conf:1: include: expected one file name\n" },
	{ "metrics takes a block", "metrics\n",
	  "t.conf:1: metrics: expected { settings } and no arguments "
	  "(metrics { } serves 127.0.0.1:9154)\n" },
	{ "metrics takes no arguments", "metrics 127.0.0.1:9154 { }\n",
	  "t.conf:1: metrics: expected { settings } and no arguments "
	  "(metrics { } serves 127.0.0.1:9154)\n" },
	{ "a host name is not a metrics address", "metrics { listen \"localhost:9154\" }\n",
	  "t.conf:1: listen: \"localhost:9154\": not a numeric IPv4 address "
	  "(host names are not resolved)\n" },
	{ "an IPv6 metrics address goes in brackets", "metrics { listen \"::1:9154\" }\n",
	  "t.conf:1: listen: \"::1:9154\": an IPv6 address goes in brackets: [::1]:9154\n" },
	{ "a metrics port beyond 65535", "metrics { listen 127.0.0.1:65536 }\n",
	  "t.conf:1: listen: \"127.0.0.1:65536\": the port is not a number from 0 to 65535\n" },
	{ "a metrics address without a port", "metrics { listen 127.0.0.1 }\n",
	  "t.conf:1: listen: \"127.0.0.1\": expected ADDRESS:PORT\n" },
	{ "the textfile path is absolute", "metrics { textfile mxledger.prom }\n",
	  "t.conf:1: textfile: \"mxledger.prom\" is not an absolute path\n" },
	{ "node_exporter reads only *.prom files", "metrics { textfile /srv/mxledger.txt }\n",
	  "t.conf:1: textfile: \"/srv/mxledger.txt\": node_exporter reads only files named "
	  "*.prom\n" },
	{ "a textfile interval under a second", "metrics { textfile-interval 500ms }\n",
	  "t.conf:1: textfile-interval: \"500ms\" is not between 1s and 1h\n" },
	{ "an IPv4 prefix longer than 32", "metrics { proxy-networks 10.0.0.0/33 }\n",
	  "t.conf:1: proxy-networks: \"10.0.0.0/33\" is not an address or a network "
	  "(e.g. 10.0.0.0/8, fd00::/8)\n" },
	{ "an IPv6 prefix longer than 128", "metrics { proxy-networks fd00::/129 }\n",
	  "t.conf:1: proxy-networks: \"fd00::/129\" is not an address or a network "
	  "(e.g. 10.0.0.0/8, fd00::/8)\n" },
	{ "a host name is not a proxy network", "metrics { proxy-networks haproxy.lan }\n",
	  "t.conf:1: proxy-networks: \"haproxy.lan\" is not an address or a network "
	  "(e.g. 10.0.0.0/8, fd00::/8)\n" },
	{ "none stands alone among proxy networks", "metrics { proxy-networks 10.0.0.0/8 none }\n",
	  "t.conf:1: proxy-networks: \"none\" is not an address or a network "
	  "(e.g. 10.0.0.0/8, fd00::/8); none must stand alone\n" },
	{ "alerts is yes or no", "metrics { alerts maybe }\n",
	  "t.conf:1: alerts: \"maybe\" is not one of no, yes\n" },
	{ "the Alertmanager is reached over http or https",
	  "metrics {\n\talerts yes\n\talertmanager-url \"ftp://127.0.0.1:9093\"\n}\n",
	  "t.conf:3: alertmanager-url: \"ftp://127.0.0.1:9093\": expected an http:// or https:// "
	  "URL\n" },
	{ "an Alertmanager URL without a host", "metrics { alerts yes; alertmanager-url http:// }\n",
	  "t.conf:1: alertmanager-url: \"http://\": no host in the URL\n" },
	{ "an Alertmanager without alerts yes is a mistake",
	  "metrics {\n\talertmanager-url \"http://127.0.0.1:9093\"\n}\n",
	  "t.conf:2: alertmanager-url: alerts are off in this block (add alerts yes)\n" },
	{ "an unknown keyword in a metrics block", "metrics {\n\tport 9154\n}\n",
	  "t.conf:2: unknown keyword \"port\" in a metrics block\n" },
	{ "a top-level statement inside a block is named as one",
	  "metrics {\n\tdatabase \"/srv/x.db\"\n}\n",
	  "t.conf:2: unknown keyword \"database\" in a metrics block (it is a top-level statement)\n" },
	{ "a metrics setting given twice names the first",
	  "metrics {\n\tlisten 127.0.0.1:9154\n\tlisten none\n}\n",
	  "t.conf:3: listen: already set in this block at line 2\n" },
	{ "one metrics block only", "metrics { }\nmetrics { alerts yes }\n",
	  "t.conf:2: metrics: already set at t.conf:1\n" },
	{ "blocks nest at most eight deep",
	  "input journal { a { b { c { d { e { f { g { h { } } } } } } } } }\n",
	  "t.conf:1: blocks nested more than 8 deep\n"
	  "t.conf:1: unknown keyword \"a\" in an input block\n" },
};

static char tzdir[4096];

/* fake_tzdir - a TZDIR holding only Europe/Berlin, so results do not depend on tzdata */
static void
fake_tzdir(void)
{
	FILE *f;

	snprintf(tzdir, sizeof(tzdir), "%s/zoneinfo", tst_tmpdir());
	mkdir(tzdir, 0755);
	snprintf(tzdir, sizeof(tzdir), "%s/zoneinfo/Europe", tst_tmpdir());
	mkdir(tzdir, 0755);
	snprintf(tzdir, sizeof(tzdir), "%s/zoneinfo/Europe/Berlin", tst_tmpdir());
	f = fopen(tzdir, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(tzdir, sizeof(tzdir), "%s/zoneinfo", tst_tmpdir());
	setenv("TZDIR", tzdir, 1);
}

/* replace_all - the messages with the fake TZDIR path written as "TZDIR" */
static char *
replace_tzdir(char *s)
{
	char *p;
	size_t n = strlen(tzdir);

	while (n > 0 && (p = strstr(s, tzdir)) != NULL) {
		memcpy(p, "TZDIR", 5);
		memmove(p + 5, p + n, strlen(p + n) + 1);
	}
	return s;
}

/* parse - read text as "t.conf"; the messages land in *ret_err (caller frees) */
static int
parse(const char *text, struct mx_config **ret, char **ret_err)
{
	size_t len;
	FILE *err = open_memstream(ret_err, &len);
	int r;

	ck_assert_ptr_nonnull(err);
	r = config_parse_text("t.conf", text, strlen(text), err, ret);
	fclose(err);
	replace_tzdir(*ret_err);
	return r;
}

/* contains_in_order - every piece of want (split at "...\n") found in s, in order */
static int
contains_in_order(const char *s, const char *want)
{
	char piece[4096];

	while (*want != '\0') {
		const char *gap = strstr(want, "...\n");
		size_t n = gap != NULL ? (size_t)(gap - want) : strlen(want);

		snprintf(piece, sizeof(piece), "%.*s", (int)n, want);
		if ((s = strstr(s, piece)) == NULL)
			return 0;
		s += n;
		want += n + (gap != NULL ? 4 : 0);
	}
	return 1;
}

/* print - config_print() into a string (caller frees) */
static char *
print(const struct mx_config *cfg)
{
	char *out;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	config_print(cfg, f);
	fclose(f);
	return out;
}

START_TEST(valid_text_gives_expected_settings)
{
	const struct ok_case *c = &ok_cases[_i];
	struct mx_config *cfg = NULL;
	char *err, *out;

	fake_tzdir();
	ck_assert_msg(parse(c->text, &cfg, &err) == 0, "%s: rejected: %s", c->name, err);
	ck_assert_msg(err[0] == '\0', "%s: messages for a valid file: %s", c->name, err);
	out = print(cfg);
	ck_assert_msg(contains_in_order(out, c->want_lines), "%s: want\n%s\nin\n%s", c->name,
	    c->want_lines, out);
	free(out);
	free(err);
	config_free(cfg);
}
END_TEST

START_TEST(printed_config_reads_back_the_same)
{
	const struct ok_case *c = &ok_cases[_i];
	struct mx_config *cfg = NULL, *again = NULL;
	char *err, *err2, *out, *out2;

	fake_tzdir();
	ck_assert_int_eq(parse(c->text, &cfg, &err), 0);
	out = print(cfg);
	ck_assert_msg(parse(out, &again, &err2) == 0, "%s: printed form rejected: %s\n%s",
	    c->name, err2, out);
	out2 = print(again);
	ck_assert_msg(strcmp(out, out2) == 0, "%s: first\n%s\nsecond\n%s", c->name, out, out2);
	free(out);
	free(out2);
	free(err);
	free(err2);
	config_free(cfg);
	config_free(again);
}
END_TEST

START_TEST(invalid_text_gives_every_error_with_its_line)
{
	const struct err_case *c = &err_cases[_i];
	struct mx_config *cfg = NULL;
	char *err;

	fake_tzdir();
	ck_assert_msg(parse(c->text, &cfg, &err) == -EINVAL, "%s: accepted", c->name);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strcmp(err, c->want) == 0, "%s: want\n%sgot\n%s", c->name, c->want, err);
	free(err);
}
END_TEST

START_TEST(settings_reach_the_structure)
{
	static const char text[] =
	    "database \"/srv/mx/ledger.db\"\n"
	    "input file \"/srv/mail.log\" { envelope rfc3339; start-at beginning }\n"
	    "input journal \"/srv/journal\" { match \"_COMM=smtpd\" }\n"
	    "proxied-listeners \"postfix/smtpd-proxy*\" \"postfix/*-proxy*\"\n"
	    "dovecot-proxy-ports 10143 10993\n"
	    "batch-events 500\nbatch-interval 250ms\nretention 90d\n"
	    "timezone \"Europe/Berlin\"\nlog-level debug\n";
	struct mx_config *cfg = NULL;
	char *err;

	fake_tzdir();
	ck_assert_msg(parse(text, &cfg, &err) == 0, "%s", err);
	ck_assert_str_eq(cfg->path, "t.conf");
	ck_assert_str_eq(cfg->database, "/srv/mx/ledger.db");
	ck_assert_uint_eq(cfg->n_inputs, 2);
	ck_assert_int_eq(cfg->inputs[0].type, MX_INPUT_FILE);
	ck_assert_str_eq(cfg->inputs[0].path, "/srv/mail.log");
	ck_assert_int_eq(cfg->inputs[0].envelope, MX_ENVELOPE_RFC3339);
	ck_assert_int_eq(cfg->inputs[0].start_at, MX_START_BEGINNING);
	ck_assert_ptr_null(cfg->inputs[0].matches);
	ck_assert_str_eq(cfg->inputs[0].file, "t.conf");
	ck_assert_uint_eq(cfg->inputs[0].line, 2);
	ck_assert_int_eq(cfg->inputs[1].type, MX_INPUT_JOURNAL);
	ck_assert_str_eq(cfg->inputs[1].path, "/srv/journal");
	ck_assert_int_eq(cfg->inputs[1].start_at, MX_START_END);
	ck_assert_str_eq(cfg->inputs[1].matches[0], "_COMM=smtpd");
	ck_assert_ptr_null(cfg->inputs[1].matches[1]);
	ck_assert_uint_eq(cfg->inputs[1].line, 3);
	ck_assert_str_eq(cfg->proxy.listeners[0], "postfix/smtpd-proxy*");
	ck_assert_str_eq(cfg->proxy.listeners[1], "postfix/*-proxy*");
	ck_assert_ptr_null(cfg->proxy.listeners[2]);
	ck_assert_uint_eq(cfg->proxy.dovecot_ports[0], 10143);
	ck_assert_uint_eq(cfg->proxy.dovecot_ports[1], 10993);
	ck_assert_uint_eq(cfg->proxy.dovecot_ports[2], 0);
	ck_assert_uint_eq(cfg->batch_events, 500);
	ck_assert_uint_eq(cfg->batch_msec, 250);
	ck_assert_int_eq(cfg->retention_sec, 90LL * 86400);
	ck_assert_str_eq(cfg->timezone, "Europe/Berlin");
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	free(err);
	config_free(cfg);
}
END_TEST

START_TEST(metrics_settings_reach_the_structure)
{
	static const char text[] =
	    "input journal\n"
	    "metrics {\n"
	    "\tlisten \"0.0.0.0:9154\"\n"
	    "\ttextfile \"/srv/mxledger.prom\"\n"
	    "\ttextfile-interval 30s\n"
	    "\tproxy-networks 10.0.0.0/8 \"2001:db8:ffff::/48\"\n"
	    "\talerts yes\n"
	    "\talertmanager-url \"http://192.0.2.9:9093\"\n"
	    "}\n";
	struct mx_config *cfg = NULL;
	char *err;

	ck_assert_msg(parse(text, &cfg, &err) == 0, "%s", err);
	ck_assert_int_eq(cfg->metrics.present, 1);
	ck_assert_str_eq(cfg->metrics.file, "t.conf");
	ck_assert_uint_eq(cfg->metrics.line, 2);
	ck_assert_str_eq(cfg->metrics.listen, "0.0.0.0:9154");
	ck_assert_str_eq(cfg->metrics.textfile, "/srv/mxledger.prom");
	ck_assert_uint_eq(cfg->metrics.textfile_msec, 30000);
	ck_assert_str_eq(cfg->metrics.proxy_networks[0], "10.0.0.0/8");
	ck_assert_str_eq(cfg->metrics.proxy_networks[1], "2001:db8:ffff::/48");
	ck_assert_ptr_null(cfg->metrics.proxy_networks[2]);
	ck_assert_int_eq(cfg->metrics.alerts, 1);
	ck_assert_str_eq(cfg->metrics.alertmanager_url, "http://192.0.2.9:9093");
	free(err);
	config_free(cfg);
	ck_assert_int_eq(parse("metrics { listen none }\n", &cfg, &err), 0);
	ck_assert_int_eq(cfg->metrics.present, 1);
	ck_assert_ptr_null(cfg->metrics.listen);
	ck_assert_ptr_null(cfg->metrics.textfile);
	ck_assert_ptr_null(cfg->metrics.proxy_networks);
	ck_assert_uint_eq(cfg->metrics.textfile_msec, 15000);
	free(err);
	config_free(cfg);
}
END_TEST

/* check_default_input - the one input added when none is configured */
static void
check_default_input(const struct mx_config *cfg)
{
	ck_assert_uint_eq(cfg->n_inputs, 1);
	ck_assert_str_eq(cfg->inputs[0].file, "(default)");
	ck_assert_int_eq(cfg->inputs[0].start_at, MX_START_END);
	if (access(MX_CONFIG_MAIL_LOG, F_OK) == 0) {
		ck_assert_int_eq(cfg->inputs[0].type, MX_INPUT_FILE);
		ck_assert_str_eq(cfg->inputs[0].path, MX_CONFIG_MAIL_LOG);
		ck_assert_int_eq(cfg->inputs[0].envelope, MX_ENVELOPE_AUTO);
	} else {
		ck_assert_int_eq(cfg->inputs[0].type, MX_INPUT_JOURNAL);
		ck_assert_ptr_null(cfg->inputs[0].path);
		ck_assert_ptr_null(cfg->inputs[0].matches);
	}
}

START_TEST(defaults_are_documented_values)
{
	struct mx_config *cfg = config_default();

	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_null(cfg->path);
	ck_assert_ptr_null(cfg->database);
	ck_assert_ptr_null(cfg->proxy.listeners);
	ck_assert_ptr_null(cfg->proxy.dovecot_ports);
	ck_assert_uint_eq(cfg->batch_events, 2000);
	ck_assert_uint_eq(cfg->batch_msec, 1000);
	ck_assert_int_eq(cfg->retention_sec, 90LL * 86400);
	ck_assert_ptr_null(cfg->timezone);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert_int_eq(cfg->metrics.present, 0);
	ck_assert_ptr_null(cfg->metrics.listen);
	check_default_input(cfg);
	ck_assert_ptr_null(config_free(cfg));
	ck_assert_ptr_null(config_free(NULL));
}
END_TEST

START_TEST(a_file_without_inputs_gets_the_default_input)
{
	struct mx_config *cfg = NULL;
	char *err;

	ck_assert_int_eq(parse("retention 1w\n", &cfg, &err), 0);
	check_default_input(cfg);
	free(err);
	config_free(cfg);
}
END_TEST

START_TEST(errors_past_the_hundredth_are_counted)
{
	struct mx_config *cfg = NULL;
	char text[105 * 5 + 1] = "", *err;
	size_t lines = 0;

	for (int i = 0; i < 105; i++)
		strcat(text, "foo\n");
	ck_assert_int_eq(parse(text, &cfg, &err), -EINVAL);
	for (const char *p = err; *p != '\0'; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines, 101);
	ck_assert_ptr_nonnull(strstr(err, "t.conf:100: unknown keyword \"foo\"\n"
	    "... and 5 more errors\n"));
	free(err);
}
END_TEST

START_TEST(a_nul_byte_means_not_a_text_file)
{
	static const char text[] = "log-level info\nretention\0 1d\n";
	struct mx_config *cfg = NULL;
	char *err;
	size_t len;
	FILE *f = open_memstream(&err, &len);

	ck_assert_int_eq(config_parse_text("t.conf", text, sizeof(text) - 1, f, &cfg), -EINVAL);
	fclose(f);
	ck_assert_str_eq(err, "t.conf:2: NUL byte: not a text file\n");
	free(err);
}
END_TEST

/* write_file - create dir/name (and its directory) with text */
static void
write_file(const char *name, const char *text)
{
	char path[4096], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tst_tmpdir(), name);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdir(path, 0755);
	*slash = '/';
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* load - config_load_file() of a file in the test directory, messages in *ret_err */
static int
load(const char *name, int must_exist, struct mx_config **ret, char **ret_err)
{
	char path[4096];
	size_t len;
	FILE *err = open_memstream(ret_err, &len);
	int r;

	snprintf(path, sizeof(path), "%s/%s", tst_tmpdir(), name);
	r = config_load_file(path, must_exist, err, ret);
	fclose(err);
	return r;
}

/* dir_relative - the messages with the test directory written as "DIR" */
static char *
dir_relative(char *s)
{
	const char *dir = tst_tmpdir();
	size_t n = strlen(dir);
	char *p;

	while ((p = strstr(s, dir)) != NULL) {
		memcpy(p, "DIR", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
	return s;
}

START_TEST(includes_are_relative_to_the_including_file)
{
	struct mx_config *cfg = NULL;
	char *err;

	write_file("main.conf", "include \"conf.d/inputs.conf\"\nlog-level debug\n");
	write_file("conf.d/inputs.conf", "input file \"/srv/mail.log\"\ninclude \"more.conf\"\n");
	write_file("conf.d/more.conf", "retention 7d\n");
	ck_assert_msg(load("main.conf", 1, &cfg, &err) == 0, "%s", err);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(cfg->n_inputs, 1);
	ck_assert_str_eq(cfg->inputs[0].path, "/srv/mail.log");
	ck_assert_str_eq(dir_relative(cfg->inputs[0].file), "DIR/conf.d/inputs.conf");
	ck_assert_int_eq(cfg->retention_sec, 7 * 86400);
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	free(err);
	config_free(cfg);
}
END_TEST

START_TEST(errors_in_included_files_name_that_file)
{
	struct mx_config *cfg = NULL;
	char *err;

	write_file("main.conf", "database \"/srv/a.db\"\ninclude \"inc.conf\"\n"
	    "include \"missing.conf\"\nbogus\n");
	write_file("inc.conf", "# included\ndatabase \"/srv/b.db\"\nlog-level loud\n");
	ck_assert_int_eq(load("main.conf", 1, &cfg, &err), -EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(dir_relative(err),
	    "DIR/inc.conf:2: database: already set at DIR/main.conf:1\n"
	    "DIR/inc.conf:3: log-level: \"loud\" is not one of debug, info, notice, warning, err\n"
	    "DIR/main.conf:3: include: DIR/missing.conf: cannot open: No such file or directory\n"
	    "DIR/main.conf:4: unknown keyword \"bogus\"\n");
	free(err);
}
END_TEST

START_TEST(a_file_including_itself_stops_at_the_depth_limit)
{
	struct mx_config *cfg = NULL;
	char *err;

	write_file("loop.conf", "include \"loop.conf\"\n");
	ck_assert_int_eq(load("loop.conf", 1, &cfg, &err), -EINVAL);
	ck_assert_str_eq(dir_relative(err),
	    "DIR/loop.conf:1: include: nested more than 8 deep (does a file include itself?)\n");
	free(err);
}
END_TEST

START_TEST(a_missing_named_file_is_an_error)
{
	struct mx_config *cfg = NULL;
	char *err;

	ck_assert_int_eq(load("nothere.conf", 1, &cfg, &err), -ENOENT);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(dir_relative(err),
	    "DIR/nothere.conf: cannot open: No such file or directory\n");
	free(err);
}
END_TEST

START_TEST(a_missing_default_file_gives_the_defaults)
{
	struct mx_config *cfg = NULL;
	char *err;

	ck_assert_int_eq(load("nothere.conf", 0, &cfg, &err), 0);
	ck_assert_str_eq(err, "");
	ck_assert_ptr_null(cfg->path);
	ck_assert_uint_eq(cfg->batch_events, 2000);
	check_default_input(cfg);
	free(err);
	config_free(cfg);
}
END_TEST

START_TEST(a_directory_is_not_a_config_file)
{
	struct mx_config *cfg = NULL;
	char *err;

	write_file("sub/x.conf", "");
	ck_assert_int_eq(load("sub", 0, &cfg, &err), -EISDIR);
	ck_assert_str_eq(dir_relative(err), "DIR/sub: cannot open: Is a directory\n");
	free(err);
}
END_TEST

static const struct cli_case {
	const char *name;
	const char *args[6];
	int want;
} cli_cases[] = {
	{ "a valid file exits 0", { "check-config", "--quiet", "--config", "good.conf" }, 0 },
	{ "an invalid file exits EX_CONFIG", { "check-config", "-q", "-c", "bad.conf" },
	  EX_CONFIG },
	{ "a missing named file exits EX_CONFIG", { "check-config", "--config", "none.conf" },
	  EX_CONFIG },
	{ "an unknown option exits EX_USAGE", { "check-config", "--bogus" }, EX_USAGE },
	{ "a stray argument exits EX_USAGE", { "check-config", "extra" }, EX_USAGE },
	{ "--help exits 0", { "check-config", "--help" }, 0 },
};

START_TEST(check_config_exit_status)
{
	const struct cli_case *c = &cli_cases[_i];
	char *argv[6] = { NULL }, paths[6][4096];
	int argc = 0, null, saved_out, saved_err, status;

	write_file("good.conf", "retention 1w\n");
	write_file("bad.conf", "retention soon\n");
	for (; c->args[argc] != NULL; argc++) {
		if (strstr(c->args[argc], ".conf") != NULL)
			snprintf(paths[argc], sizeof(paths[argc]), "%s/%s", tst_tmpdir(),
			    c->args[argc]);
		else
			snprintf(paths[argc], sizeof(paths[argc]), "%s", c->args[argc]);
		argv[argc] = paths[argc];
	}
	fflush(stdout);
	fflush(stderr);
	null = open("/dev/null", O_WRONLY);
	saved_out = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	ck_assert(null >= 0 && saved_out >= 0 && saved_err >= 0);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	status = cmd_check_config(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(null);
	close(saved_out);
	close(saved_err);
	ck_assert_msg(status == c->want, "%s: exit %d, want %d", c->name, status, c->want);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_loop_test(tc, valid_text_gives_expected_settings, 0, N(ok_cases));
	tcase_add_loop_test(tc, printed_config_reads_back_the_same, 0, N(ok_cases));
	tcase_add_loop_test(tc, invalid_text_gives_every_error_with_its_line, 0, N(err_cases));
	tcase_add_test(tc, settings_reach_the_structure);
	tcase_add_test(tc, metrics_settings_reach_the_structure);
	tcase_add_test(tc, defaults_are_documented_values);
	tcase_add_test(tc, a_file_without_inputs_gets_the_default_input);
	tcase_add_test(tc, errors_past_the_hundredth_are_counted);
	tcase_add_test(tc, a_nul_byte_means_not_a_text_file);
	tcase_add_test(tc, includes_are_relative_to_the_including_file);
	tcase_add_test(tc, errors_in_included_files_name_that_file);
	tcase_add_test(tc, a_file_including_itself_stops_at_the_depth_limit);
	tcase_add_test(tc, a_missing_named_file_is_an_error);
	tcase_add_test(tc, a_missing_default_file_gives_the_defaults);
	tcase_add_test(tc, a_directory_is_not_a_config_file);
	tcase_add_loop_test(tc, check_config_exit_status, 0, N(cli_cases));
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
