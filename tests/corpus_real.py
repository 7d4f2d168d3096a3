#!/usr/bin/env python3
"""
NAME
	corpus_real.py - acceptance test: mxledger parse on the real-log corpus
SYNOPSIS
	corpus_real.py MXLEDGER DATADIR
DESCRIPTION
	Runs `mxledger parse --year 2026` over the two envelope styles of the
	real-sample corpus (tests/data/real-sample-mail.log, BSD syslog, and
	real-sample-mail-rfc3339.log, RFC 3339 with microseconds), turns the
	events back into the per-address counters of real-sample-expected.json
	(the counter definitions there are regular expressions over the log; the
	mapping to event kinds and fields is in COUNTER MAPPING below) and
	compares them: integers exactly, {min, max} ranges inclusive. It also
	checks that

	  - no address of never_client_ips is ever a client_ip, and every
	    client_ip is an address the corpus knows;
	  - the global no-address events (haproxy read / getpeername warnings,
	    smtpd fatal, master exit and throttling) have the expected counts;
	  - both files give the same events, field for field, except for the
	    precision of ts (seconds vs microseconds);
	  - every event has daemon/listener/proxied consistent with its syslog
	    tag, and a few known lines give exactly the fields listed in
	    KNOWN_LINES;
	  - no line gives more than one event.

	Events are mapped back to their line through (ts, program, pid), which
	is unique in the RFC 3339 file; failures print the lines involved.
	Only the standard library is used.
RETURNS
	Exit 0 when every check passes, 1 otherwise (the reason is printed),
	77 when the binary cannot be run at all.
SEE ALSO
	tests/corpus_real.sh, tests/data/README.md, include/event.h
"""

import collections
import json
import os
import re
import subprocess
import sys

PARSE_TIMEOUT = 60      # seconds; 540 lines take milliseconds
MAX_SHOWN = 12          # lines printed per failure

# COUNTER MAPPING: expected.json counter -> what it is in events.
#   ps_connect                  connect, daemon postscreen
#   ps_disconnect               disconnect, daemon postscreen
#   ps_noqueue                  reject, daemon postscreen
#   ps_verdict:<V>              the postscreen_* kind in PS_VERDICTS
#   smtpd_connect / _disconnect connect / disconnect, daemon smtpd
#                               (no client_ip or "unknown" -> address "unknown")
#   smtpd_noqueue:<class>       reject, daemon smtpd, no queue_id, class of reason
#   smtpd_reject_queued:<class> reject, daemon smtpd, with queue_id
#   smtp_auth_fail              auth_failure, daemon smtpd
#   smtp_auth_tempfail          ... whose reason says "Connection lost to authentication server"
#   smtp_auth_ok                N of "auth=N" / "auth=N/M" in smtpd disconnect stats
#   dovecot_auth_fail_smtp      auth_lookup_failure without session
#   imap_auth_fail              auth_lookup_failure with session
#   imap_login_ok               auth_success, daemon dovecot
#   imap_session                auth_success/auth_failure/disconnect, listener imap-login
#   dovecot_haproxy_error       proxy_error, daemon dovecot
#   queue_client                queued, or auth_success from smtpd
#   rate:<class>                rate_limit, class of reason
#   improper_pipelining         improper_pipelining
#   smtpd_lost_connection       lost_connection, daemon smtpd
#   connections                 the formula of definitions["connections"]
#   global (no address): haproxy_read_warning / getpeername_warning = postfix
#   proxy_error without client_ip (getpeername if the reason says so);
#   smtpd_fatal_hostaddr = fatal; master_exit_status = process_exit;
#   master_throttling = service_throttled.
PS_VERDICTS = {
	"postscreen_pass_new": "PASS NEW",
	"postscreen_pass_old": "PASS OLD",
	"postscreen_pregreet": "PREGREET",
	"postscreen_pipelining": "COMMAND PIPELINING",
	"postscreen_non_smtp_command": "NON-SMTP COMMAND",
	"postscreen_bare_newline": "BARE NEWLINE",
	"postscreen_hangup": "HANGUP",
	"postscreen_denylist": "DENYLISTED",
	"postscreen_allowlist": "ALLOWLISTED",
}

# Reject classes of expected.json, first match wins (reason text, then stage).
REJECT_CLASSES = [
	("unknown_user", re.compile(r"User unknown", re.I)),
	("relay", re.compile(r"Relay access denied", re.I)),
	("helo", re.compile(r"Helo command rejected", re.I)),
	("client", re.compile(r"Client host rejected", re.I)),
	("sender", re.compile(r"Sender address rejected", re.I)),
	("recipient_other", re.compile(r"Recipient address rejected", re.I)),
]

RATE_CLASSES = [
	("conc", re.compile(r"concurrency", re.I)),
	("msg", re.compile(r"message", re.I)),
	("auth", re.compile(r"auth", re.I)),
	("conn", re.compile(r"connection", re.I)),
]

# Lines whose event must have exactly these fields (and values). Found by
# message text; checked in both files.
KNOWN_LINES = [
	("postfix/smtpd-proxy25/postscreen[32119]: CONNECT from [198.51.100.198]:51077 to "
	 "[203.0.113.254]:25",
	 {"event": "connect", "program": "postfix/smtpd-proxy25/postscreen",
	  "daemon": "postscreen", "listener": "postfix/smtpd-proxy25", "proxied": True,
	  "pid": 32119, "host": "mail", "client_ip": "198.51.100.198", "client_port": 51077,
	  "server_ip": "203.0.113.254", "server_port": 25}),
	("postfix/smtpd[32120]: connect from unknown[198.51.100.198]",
	 {"event": "connect", "program": "postfix/smtpd", "daemon": "smtpd",
	  "listener": "postfix", "proxied": False, "pid": 32120, "host": "mail",
	  "client_ip": "198.51.100.198", "client_name": "unknown"}),
	("postfix/postscreen[32140]: PREGREET 11 after 0.2 from [127.0.5.2]:41657: EHLO User\\r\\n",
	 {"event": "postscreen_pregreet", "program": "postfix/postscreen",
	  "daemon": "postscreen", "listener": "postfix", "proxied": False, "pid": 32140,
	  "host": "mail", "client_ip": "127.0.5.2", "client_port": 41657}),
	("postfix/smtpd-proxy587/smtpd[32128]: improper command pipelining after CONNECT from "
	 "unknown[203.0.113.194]: EHLO User\\r\\n",
	 {"event": "improper_pipelining", "program": "postfix/smtpd-proxy587/smtpd",
	  "daemon": "smtpd", "listener": "postfix/smtpd-proxy587", "proxied": True,
	  "pid": 32128, "host": "mail", "client_ip": "203.0.113.194", "client_name": "unknown",
	  "stage": "CONNECT"}),
	("postfix/submission/smtpd[32129]: warning: unknown[127.0.5.6]: SASL PLAIN "
	 "authentication failed: (reason unavailable), sasl_username=heidi@example.net",
	 {"event": "auth_failure", "program": "postfix/submission/smtpd", "daemon": "smtpd",
	  "listener": "postfix/submission", "proxied": False, "pid": 32129, "host": "mail",
	  "client_ip": "127.0.5.6", "client_name": "unknown", "method": "PLAIN",
	  "user": "heidi@example.net"}),
	("postfix/smtpd[32120]: NOQUEUE: reject: RCPT from unknown[203.0.113.227]: 554 5.7.1 "
	 "<bob@corp.example>: Relay access denied;",
	 {"event": "reject", "daemon": "smtpd", "listener": "postfix", "proxied": False,
	  "client_ip": "203.0.113.227", "client_name": "unknown", "stage": "RCPT",
	  "reply": "554 5.7.1", "sender": "promo@offers.example",
	  "recipient": "bob@corp.example", "helo": "mail-203-0-113-227.relay.example"}),
	("postfix/submission/smtpd[32129]: 871531041F1: reject: RCPT from unknown[127.0.5.5]: "
	 "550 5.1.1 <root@example.net>",
	 {"event": "reject", "daemon": "smtpd", "listener": "postfix/submission",
	  "proxied": False, "client_ip": "127.0.5.5", "queue_id": "871531041F1",
	  "stage": "RCPT", "reply": "550 5.1.1", "sender": "grace@example.net",
	  "recipient": "root@example.net"}),
	("postfix/smtpd-proxy587/smtpd[32131]: 626261041E7: client=unknown[192.0.2.175], "
	 "sasl_method=PLAIN, sasl_username=frank@example.net",
	 {"event": "auth_success", "daemon": "smtpd", "listener": "postfix/smtpd-proxy587",
	  "proxied": True, "client_ip": "192.0.2.175", "client_name": "unknown",
	  "queue_id": "626261041E7", "method": "PLAIN", "user": "frank@example.net"}),
	("dovecot: imap-login: Login: user=<grace@example.net>, method=PLAIN, rip=203.0.113.139, "
	 "lip=127.0.0.1, mpid=32143, TLS, session=<Z/2VKdRgsbvLAHGL>",
	 {"event": "auth_success", "program": "dovecot", "daemon": "dovecot",
	  "listener": "imap-login", "host": "mail", "client_ip": "203.0.113.139",
	  "server_ip": "127.0.0.1", "user": "grace@example.net", "method": "PLAIN",
	  "session": "Z/2VKdRgsbvLAHGL"}),
	("dovecot: imap-login: Disconnected: Aborted login by logging out (auth failed, 3 attempts "
	 "in 13 secs): user=<frank@example.net>, method=PLAIN, rip=192.0.2.136",
	 {"event": "auth_failure", "daemon": "dovecot", "listener": "imap-login",
	  "client_ip": "192.0.2.136", "server_ip": "203.0.113.254", "attempts": 3,
	  "user": "frank@example.net", "method": "PLAIN", "session": "7CoSJtRg/9fAAAKI"}),
	("dovecot: auth: passwd-file(heidi@example.net,192.0.2.136,<7CoSJtRg/9fAAAKI>): "
	 "Password mismatch",
	 {"event": "auth_lookup_failure", "daemon": "dovecot", "listener": "auth",
	  "client_ip": "192.0.2.136", "user": "heidi@example.net",
	  "session": "7CoSJtRg/9fAAAKI"}),
	("dovecot: imap-login: haproxy: Client disconnected (rip=127.0.0.10): Connection reset "
	 "by peer",
	 {"event": "proxy_error", "daemon": "dovecot", "listener": "imap-login",
	  "client_ip": "127.0.0.10"}),
	("postfix/smtpd-proxy25/postscreen[32119]: warning: haproxy read: EOF",
	 {"event": "proxy_error", "daemon": "postscreen", "listener": "postfix/smtpd-proxy25",
	  "proxied": True}),
	("postfix/smtpd-proxy587/smtpd[32541]: fatal: smtpd_peer_hostaddr_to_sockaddr: cannot "
	 "convert client address/port to string",
	 {"event": "fatal", "daemon": "smtpd", "listener": "postfix/smtpd-proxy587",
	  "proxied": True, "pid": 32541}),
	("postfix/master[31988]: warning: process /usr/lib/postfix/sbin/smtpd pid 32541 exit "
	 "status 1",
	 {"event": "process_exit", "daemon": "master", "listener": "postfix", "pid": 31988}),
	("postfix/master[31988]: warning: /usr/lib/postfix/sbin/smtpd: bad command startup",
	 {"event": "service_throttled", "daemon": "master", "listener": "postfix"}),
	("postfix/smtpd-proxy587/smtpd[32131]: warning: AUTH command rate limit exceeded: 7 from "
	 "unknown[203.0.113.193] for service 5587",
	 {"event": "rate_limit", "daemon": "smtpd", "client_ip": "203.0.113.193",
	  "client_name": "unknown"}),
	("postfix/anvil[32123]: statistics: max connection rate 10/60s for (5587:203.0.113.172)",
	 {"event": "anvil_statistics", "daemon": "anvil", "client_ip": "203.0.113.172"}),
]

# Fields of a known line that must be absent (unknown) in its event.
KNOWN_LINES_ABSENT = {
	"postfix/smtpd[32120]: NOQUEUE: reject: RCPT from unknown[203.0.113.227]": ["queue_id"],
	"postfix/smtpd-proxy25/postscreen[32119]: warning: haproxy read: EOF": ["client_ip"],
}

RFC3339_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,6})?([+-]\d\d:\d\d|Z) (\S+) "
    r"([^\s\[:]+)(?:\[(\d+)\])?: ")


class Failures:
	"""Collects failures; prints each as it is found."""

	def __init__(self):
		self.n = 0

	def add(self, where, what, lines=()):
		self.n += 1
		print("FAIL %s: %s" % (where, what))
		for i, l in enumerate(lines):
			if i == MAX_SHOWN:
				print("      ... %d more" % (len(lines) - MAX_SHOWN))
				break
			print("      | " + l)


def run_parse(mxledger, path):
	"""run_parse - run mxledger parse on one file; return (events, stderr)"""
	cmd = [mxledger, "parse", "--year", "2026", "--format", "jsonl", "--stats", path]
	print("run: " + " ".join(cmd))
	p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
	    timeout=PARSE_TIMEOUT)
	err = p.stderr.decode("utf-8", "replace")
	if p.returncode != 0:
		raise RuntimeError("exit status %d; stderr:\n%s" % (p.returncode, err))
	events = []
	for n, raw in enumerate(p.stdout.decode("utf-8").splitlines(), 1):
		try:
			ev = json.loads(raw)
		except ValueError as e:
			raise RuntimeError("output line %d is not JSON (%s): %r" % (n, e, raw[:200]))
		if not isinstance(ev, dict):
			raise RuntimeError("output line %d is not a JSON object: %r" % (n, raw[:200]))
		events.append(ev)
	return events, err


def in_range(want, got):
	"""in_range - expected.json counter: integer, or {min, max} inclusive"""
	if isinstance(want, dict):
		return want["min"] <= got <= want["max"]
	return got == want


def fmt_want(want):
	if isinstance(want, dict):
		return "%d..%d" % (want["min"], want["max"])
	return str(want)


def classify(table, text, default):
	for name, rx in table:
		if rx.search(text or ""):
			return name
	return default


def auth_ok_of(stats):
	"""auth_ok_of - N of auth=N or auth=N/M in smtpd disconnect statistics

	parse renders stats as an object ({"ehlo":"1","auth":"0/1",...}).
	"""
	if not isinstance(stats, dict):
		return 0
	m = re.match(r"^(\d+)(?:/\d+)?$", str(stats.get("auth", "")))
	return int(m.group(1)) if m else 0


def counters_of(ev):
	"""counters_of - the (address, counter, n) an event contributes"""
	kind = ev.get("event")
	daemon = ev.get("daemon")
	ip = ev.get("client_ip")
	out = []

	def add(counter, n=1, key=ip):
		out.append((key, counter, n))

	if daemon == "postscreen":
		if kind == "connect":
			add("ps_connect")
		elif kind == "disconnect":
			add("ps_disconnect")
		elif kind == "reject":
			add("ps_noqueue")
		elif kind in PS_VERDICTS:
			add("ps_verdict:" + PS_VERDICTS[kind])
	elif daemon == "smtpd":
		if kind in ("connect", "disconnect"):
			key = ip if ip not in (None, "unknown") else "unknown"
			add("smtpd_" + kind, key=key)
			if kind == "disconnect" and auth_ok_of(ev.get("stats")):
				add("smtp_auth_ok", auth_ok_of(ev.get("stats")), key=key)
		elif kind == "reject":
			cls = classify(REJECT_CLASSES, ev.get("reason"), None)
			if cls is None:
				cls = "data" if ev.get("stage") in ("DATA", "BDAT") else "other"
			add(("smtpd_reject_queued:" if ev.get("queue_id") else "smtpd_noqueue:") + cls)
		elif kind == "auth_failure":
			add("smtp_auth_fail")
			if "Connection lost to authentication server" in (ev.get("reason") or ""):
				add("smtp_auth_tempfail")
		elif kind in ("queued", "auth_success"):
			add("queue_client")
		elif kind == "rate_limit":
			add("rate:" + classify(RATE_CLASSES, ev.get("reason"), "unclassified"))
		elif kind == "improper_pipelining":
			add("improper_pipelining")
		elif kind == "lost_connection":
			add("smtpd_lost_connection")
	elif daemon == "dovecot":
		login = ev.get("listener") == "imap-login"
		if kind == "auth_lookup_failure":
			add("imap_auth_fail" if ev.get("session") else "dovecot_auth_fail_smtp")
		elif kind == "auth_success":
			add("imap_login_ok")
			if login:
				add("imap_session")
		elif kind in ("auth_failure", "disconnect") and login:
			add("imap_session")
		elif kind == "proxy_error":
			add("dovecot_haproxy_error")
	return out


def global_of(ev):
	"""global_of - the no-address counter of an event, or None"""
	kind = ev.get("event")
	if kind == "proxy_error" and ev.get("daemon") in ("postscreen", "smtpd"):
		if "getpeername" in (ev.get("reason") or ""):
			return "getpeername_warning"
		return "haproxy_read_warning"
	return {"fatal": "smtpd_fatal_hostaddr", "process_exit": "master_exit_status",
	    "service_throttled": "master_throttling"}.get(kind)


def compute(events):
	"""compute - per-address counters and global counters from events"""
	per = collections.defaultdict(collections.Counter)
	glob = collections.Counter()
	contrib = collections.defaultdict(list)		# (ip, counter) -> event indexes
	for i, ev in enumerate(events):
		for key, counter, n in counters_of(ev):
			if key is None:
				key = "(none)"
			per[key][counter] += n
			contrib[(key, counter)].append(i)
		g = global_of(ev)
		if g and not ev.get("client_ip"):
			glob[g] += 1
			contrib[("(global)", g)].append(i)
	for key, c in per.items():
		conn = (c["ps_connect"] + c["smtpd_connect"] + c["imap_session"] +
		    c["dovecot_haproxy_error"] - c["ps_verdict:PASS OLD"] -
		    c["ps_verdict:ALLOWLISTED"])
		if conn:
			c["connections"] = conn
	return per, glob, contrib


def line_index(lines):
	"""line_index - (ts to the microsecond, program, pid) -> line number of an RFC 3339 file"""
	idx = {}
	for n, l in enumerate(lines):
		m = RFC3339_LINE.match(l)
		if not m:
			continue
		frac = (m.group(2) or ".")[1:].ljust(6, "0")
		key = (m.group(1) + "." + frac, m.group(5), int(m.group(6)) if m.group(6) else None)
		idx[key] = n
	return idx


def event_key(ev):
	ts = ev.get("ts") or ""
	return (ts[:26], ev.get("program"), ev.get("pid"))


def normalised(ev):
	"""normalised - the event with ts cut to the second, for comparing the two files"""
	d = dict(ev)
	if isinstance(d.get("ts"), str):
		d["ts"] = d["ts"][:19]
	return json.dumps(d, sort_keys=True)


def check_counters(name, events, expected, fails, describe):
	per, glob, contrib = compute(events)
	per_ip = expected["per_ip"]
	names = sorted({c for v in per_ip.values() for c in v.get("counters", {})} |
	    {c for v in per.values() for c in v})
	passed = collections.Counter()
	total = collections.Counter()
	for counter in names:
		for ip in sorted(set(per_ip) | set(per)):
			want = per_ip.get(ip, {}).get("counters", {}).get(counter, 0)
			got = per.get(ip, collections.Counter())[counter]
			if want == 0 and got == 0:
				continue
			total[counter] += 1
			if in_range(want, got):
				passed[counter] += 1
				continue
			fails.add(name, "%s for %s: expected %s, got %d" %
			    (counter, ip, fmt_want(want), got),
			    describe(contrib.get((ip, counter), []), ip))
	print("%s: per-address counters" % name)
	for counter in names:
		print("  %-34s %3d/%-3d %s" % (counter, passed[counter], total[counter],
		    "ok" if passed[counter] == total[counter] else "FAIL"))
	unknown = sorted(set(per) - set(per_ip))
	for ip in unknown:
		fails.add(name, "address %s is not in the corpus (counters %s)" %
		    (ip, dict(per[ip])), describe([i for (k, c), v in contrib.items()
		    if k == ip for i in v], ip))
	gpass = 0
	gexp = expected["global_events_without_client_ip"]
	for g, want in sorted(gexp.items()):
		got = glob[g]
		if in_range(want, got):
			gpass += 1
		else:
			fails.add(name, "global %s: expected %s, got %d" % (g, fmt_want(want), got),
			    describe(contrib.get(("(global)", g), []), None))
	print("%s: global (no-address) counters %d/%d" % (name, gpass, len(gexp)))
	tpass = 0
	for counter, want in sorted(expected["totals"].items()):
		got = sum(c[counter] for c in per.values())
		if in_range(want, got):
			tpass += 1
		else:
			fails.add(name, "total %s: expected %s, got %d" %
			    (counter, fmt_want(want), got))
	print("%s: totals %d/%d" % (name, tpass, len(expected["totals"])))
	return sum(passed.values()), sum(total.values())


def check_never_client(name, events, expected, fails, describe):
	bad = [i for i, ev in enumerate(events)
	    if ev.get("client_ip") in expected["never_client_ips"]]
	if bad:
		fails.add(name, "%d events have a never-client address as client_ip" % len(bad),
		    describe(bad, None))
	print("%s: never-client addresses as client_ip: %d" % (name, len(bad)))


def program_parts(program):
	"""program_parts - (listener, daemon) a syslog tag must give"""
	if program.startswith("postfix"):
		listener, _, daemon = program.rpartition("/")
		return listener, daemon
	return None, "dovecot" if program.startswith("dovecot") else None


def check_envelope_fields(name, events, fails, describe):
	bad = []
	for i, ev in enumerate(events):
		prog = ev.get("program") or ""
		listener, daemon = program_parts(prog)
		probs = []
		if ev.get("host") != "mail":
			probs.append("host %r" % ev.get("host"))
		if prog.startswith("dovecot"):
			if "pid" in ev:
				probs.append("pid %r for a tag without [pid]" % ev.get("pid"))
		elif not isinstance(ev.get("pid"), int):
			probs.append("pid %r" % ev.get("pid"))
		if not isinstance(ev.get("ts"), str) or not re.match(
		    r"^2026-11-22T\d\d:\d\d:\d\d\.\d{6}Z$", ev.get("ts")):
			probs.append("ts %r" % ev.get("ts"))
		if daemon is None or ev.get("daemon") != daemon:
			probs.append("daemon %r for program %r" % (ev.get("daemon"), prog))
		if listener is not None:
			if ev.get("listener") != listener:
				probs.append("listener %r, want %r" % (ev.get("listener"), listener))
			want = "proxy" in listener
			if ev.get("proxied") is not want:
				probs.append("proxied %r, want %r" % (ev.get("proxied"), want))
		elif ev.get("listener") not in ("imap-login", "auth"):
			probs.append("dovecot listener %r" % ev.get("listener"))
		if probs:
			bad.append(i)
			fails.add(name, "event %d: %s" % (i, "; ".join(probs)), describe([i], None))
	print("%s: envelope/listener/proxied consistent in %d/%d events" %
	    (name, len(events) - len(bad), len(events)))


def check_known_lines(name, events, ev_line, lines, fails):
	ok = 0
	for text, want in KNOWN_LINES:
		hits = [n for n, l in enumerate(lines) if text in l]
		if len(hits) < 1:
			fails.add(name, "known line not found in the file: %s" % text)
			continue
		n = hits[0]
		evs = [i for i, ln in ev_line.items() if ln == n]
		if len(evs) != 1:
			fails.add(name, "known line gave %d events, want 1" % len(evs), [lines[n]])
			continue
		ev = events[evs[0]]
		probs = ["%s=%r (want %r)" % (k, ev.get(k), v) for k, v in want.items()
		    if ev.get(k) != v or type(ev.get(k)) != type(v)]
		for prefix, absent in KNOWN_LINES_ABSENT.items():
			if prefix in text:
				probs += ["%s=%r (want absent)" % (k, ev[k]) for k in absent if k in ev]
		if probs:
			fails.add(name, "known line: " + "; ".join(probs),
			    [lines[n], "event: " + json.dumps(ev, sort_keys=True)])
		else:
			ok += 1
	print("%s: known lines %d/%d" % (name, ok, len(KNOWN_LINES)))


def main():
	if len(sys.argv) != 3:
		print("usage: corpus_real.py MXLEDGER DATADIR", file=sys.stderr)
		return 2
	mxledger, datadir = sys.argv[1], sys.argv[2]
	if not os.access(mxledger, os.X_OK):
		print("SKIP: %s is not executable" % mxledger)
		return 77
	with open(os.path.join(datadir, "real-sample-expected.json")) as f:
		expected = json.load(f)
	files = [("mail.log", "real-sample-mail.log"),
	    ("mail-rfc3339.log", "real-sample-mail-rfc3339.log")]
	lines = {}
	for short, fn in files:
		with open(os.path.join(datadir, fn), encoding="utf-8") as f:
			lines[short] = f.read().splitlines()
	fails = Failures()
	runs = {}
	for short, fn in files:
		try:
			runs[short], err = run_parse(mxledger, os.path.join(datadir, fn))
		except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
			fails.add(short, "mxledger parse failed: %s" % e)
			continue
		print("%s: %d lines -> %d events" % (short, len(lines[short]), len(runs[short])))
		if err.strip():
			print("%s: --stats:\n    %s" % (short, err.strip().replace("\n", "\n    ")))
	if len(runs) != 2:
		print("FAILED: mxledger parse did not run on both files")
		return 1

	# Map events to lines: RFC 3339 by (ts, program, pid); the syslog file by
	# position when both runs agree (same messages in the same order).
	rlines = lines["mail-rfc3339.log"]
	idx = line_index(rlines)
	ev_line = {"mail-rfc3339.log": {}, "mail.log": {}}
	unmapped = []
	for i, ev in enumerate(runs["mail-rfc3339.log"]):
		n = idx.get(event_key(ev))
		if n is None:
			unmapped.append(i)
		else:
			ev_line["mail-rfc3339.log"][i] = n
	if unmapped:
		fails.add("mail-rfc3339.log", "%d events have no line with the same "
		    "(ts, program, pid)" % len(unmapped),
		    [json.dumps(runs["mail-rfc3339.log"][i], sort_keys=True) for i in unmapped])
	per_line = collections.Counter(ev_line["mail-rfc3339.log"].values())
	multi = sorted(n for n, c in per_line.items() if c > 1)
	if multi:
		fails.add("mail-rfc3339.log", "%d lines gave more than one event" % len(multi),
		    [rlines[n] for n in multi])

	a = [normalised(e) for e in runs["mail.log"]]
	b = [normalised(e) for e in runs["mail-rfc3339.log"]]
	if a == b:
		print("both files: identical events (%d) except ts precision" % len(a))
		ev_line["mail.log"] = dict(ev_line["mail-rfc3339.log"])
	else:
		import difflib
		diff = list(difflib.unified_diff(a, b, "mail.log events", "mail-rfc3339.log events",
		    n=0, lineterm=""))
		fails.add("both files", "events differ beyond ts precision (%d vs %d events)" %
		    (len(a), len(b)), diff)
		# Fall back to mapping syslog events by (second, program, pid) where unique.
		sec = collections.defaultdict(list)
		for n, l in enumerate(rlines):
			m = RFC3339_LINE.match(l)
			if m:
				sec[(m.group(1), m.group(5), int(m.group(6)) if m.group(6) else None)
				    ].append(n)
		for i, ev in enumerate(runs["mail.log"]):
			c = sec.get(((ev.get("ts") or "")[:19], ev.get("program"), ev.get("pid")), [])
			if len(c) == 1:
				ev_line["mail.log"][i] = c[0]

	def describer(short):
		evs = runs[short]
		emap = ev_line[short]

		def describe(indexes, ip):
			out = []
			for i in indexes:
				n = emap.get(i)
				src = rlines[n][33:] if n is not None else "(line not found)"
				out.append("%s  =>  %s" % (src, json.dumps(evs[i], sort_keys=True)))
			if ip:
				# lines naming the address that gave no event at all
				used = set(emap.values())
				pat = re.compile(r"[\[=,(:]" + re.escape(ip) + r"[\]),:]")
				out += ["%s  =>  (no event)" % l[33:] for n, l in enumerate(rlines)
				    if n not in used and pat.search(l)]
			return out
		return describe

	grand_pass = grand_total = 0
	for short, _ in files:
		d = describer(short)
		p, t = check_counters(short, runs[short], expected, fails, d)
		grand_pass += p
		grand_total += t
		check_never_client(short, runs[short], expected, fails, d)
		check_envelope_fields(short, runs[short], fails, d)
		check_known_lines(short, runs[short], ev_line[short], rlines if short != "mail.log"
		    else lines["mail.log"], fails)
		kinds = collections.Counter(e.get("event") for e in runs[short])
		print("%s: events by kind: %s" % (short, ", ".join("%s=%d" % kv
		    for kv in sorted(kinds.items(), key=str))))
	print("per-address counters: %d/%d pass over both files" % (grand_pass, grand_total))
	if fails.n:
		print("FAILED: %d problems" % fails.n)
		return 1
	print("PASS")
	return 0


if __name__ == "__main__":
	sys.exit(main())
