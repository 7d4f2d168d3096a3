#!/usr/bin/env python3
"""
NAME
	corpus_peers.py - acceptance test: mxledger parse on the peers' annotated lines
SYNOPSIS
	corpus_peers.py MXLEDGER CORPUS_DIR
DESCRIPTION
	Reads CORPUS_DIR/peers/*.jsonl at test time (the peer corpus has other
	licences and is never copied into the repository): log samples that
	fail2ban, CrowdSec, whyscream's grok patterns, sshguard and three
	postfix_exporters annotate in their own tests, plus Postfix's smtpd_check
	references and PROXY header vectors. For every source all lines go
	through ONE `mxledger parse --format jsonl` process; each record line is
	preceded by a marker line (an RFC 3339 smtpd "connect" from host
	mxledger-marker with pid 900000+i), so the events between two markers
	belong to one record and the record lines stay byte for byte as the
	peer wrote them.

	Records that are only a message (grok, Postfix refs) get an envelope
	"Nov 22 02:22:24 peer PROGRAM[4242]: " with PROGRAM from program_hint, or
	postfix/smtpd; "<queue id>" becomes NOQUEUE (what a real smtpd writes
	there, per the corpus README). sshguard lines without any envelope get
	one for the service sshguard names (dovecot or postfix/smtpd). Literal
	CR/LF inside a grok message become the \\r \\n escapes Postfix writes.
	PROXY header vectors become "warning: haproxy read: ERROR: BYTES" lines.

	Assertions (see check_* below):
	  all      the process exits 0; at most one event per line; a line of a
	           daemon mxledger does not parse (delivery agents, sshd,
	           postgrey, ...) gives no event; a line whose shape event.h
	           names gives exactly that kind (contract_kind()).
	  fail2ban every annotated match (any mode) gives an event with that
	           client address; fail2ban_auth_failure lines give auth_failure
	           (SMTP SASL, Dovecot login process) or auth_lookup_failure
	           (Dovecot auth process, dovecot_origin); annotated user equal.
	  crowdsec source_ip (parser meta or scenario meta) as client_ip; user,
	           reply code, command, remote host, port; crowdsec_auth_failure
	           as for fail2ban; non-SMTP command and PREGREET kinds.
	  grok     client ip/name/port, server ip/port, stage, queue id, reply,
	           and the kind implied by the violation/action/access fields.
	  sshguard attack lines of dovecot/postfix give an event with addr;
	           ssh/dropbear lines give none.
	  exporter the counter kind each metric implies (plus method, reply
	           code and command labels); lines the exporter counts as
	           errors, foreign or unsupported programs give no event.
	  smtpd_check_ref  action reject -> reject with the derived stage,
	           client address and name, reply code; no queue id.
	  haproxy  proxy_error without a client address.

	ALLOWED below lists, with the reason, the records we consciously treat
	differently; they are reported but do not fail. An allowed record that
	passes fails the test ("stale allow-list entry"), so the list stays true.
RETURNS
	0 all pass, 1 a failure, 77 corpus or binary missing.
SEE ALSO
	tests/corpus_peers.sh, CORPUS_DIR/peers/README.md, include/event.h
"""

import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile
import time

PARSE_TIMEOUT = 60
MARKER_HOST = "mxledger-marker"
MARKER_PID = 900000
MARKER = ("2026-01-01T00:00:00.000000+00:00 " + MARKER_HOST +
    " postfix/smtpd[%d]: connect from unknown[192.0.2.1]")
SYNTH = "Nov 22 02:22:24 peer %s[4242]: %s"

# ALLOWED: record id -> why mxledger consciously differs from the peer.
# Record ids are printed with every failure ("[id]").
ALLOWED = {
	# The timestamp runs into the host name ("...974296k2dls"): no envelope
	# can be split off, so mxledger counts the line as malformed. fail2ban
	# only finds it because its regex searches the whole line for rip=.
	"fail2ban-history/dovecot:#3": "mangled envelope (timestamp glued to host)",
	# postgrey is a policy server, not Postfix; program.c has no parser for
	# it (sshguard files it under "postfix" because it blocks mail clients).
	"sshguard/postfix#12": "postgrey line: not a daemon mxledger parses",
}

# DIFFERENT: rules (not single lines) under which mxledger deliberately
# expects something else than the peer; the changed expectation is asserted.
DIFFERENT = {
	# Postfix's smtpd_check test driver logs "dummy[dummy]" for its fake
	# client. Real smtpd never does: a namaddr is name[IP], unknown[IP] or
	# unknown[unknown]. mxledger treats a malformed client address as an
	# unrecognised line (as tests/bad_input.sh requires), so these lines
	# must give NO event.
	"dummy-client": "smtpd_check ref with the test driver's dummy[dummy] client",
}

# ---------------------------------------------------------------- helpers

ENVELOPES = [
	# RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG
	re.compile(r"^<\d+>1 \S+ \S+ (?P<prog>\S+) (?P<pid>\S+) \S+ (?:-|\[.*?\])(?: (?P<msg>.*))?$"),
]
ENV_PREFIX = re.compile(
    r"^(?:@[0-9a-f]{24} |"
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)? |"
    r"(?:<\d+>)?[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d )")
TAG = re.compile(r"^(?:(?P<host>[^\s\[\]:]+) )?(?P<prog>[^\s\[\]:()]+)(?:\[\d+\]|\([^)]*\))?: (?P<msg>.*)$")


def split_line(line):
	"""split_line - (program, message) of a log line, or (None, line)"""
	for rx in ENVELOPES:
		m = rx.match(line)
		if m:
			return m.group("prog"), m.group("msg") or ""
	m = ENV_PREFIX.match(line)
	rest = line[m.end():] if m else line
	m = TAG.match(rest)
	if not m:
		return None, rest
	return m.group("prog"), m.group("msg")


def daemon_of(prog):
	"""daemon_of - the parser mxledger dispatches a syslog tag to, or the tag"""
	if prog is None:
		return None
	if prog.startswith("postfix"):
		return prog.rpartition("/")[2] if "/" in prog else prog
	if prog in ("dovecot", "dovecot-auth", "auth", "auth-worker") or prog.endswith("-login"):
		return "dovecot"
	return prog


PS_KINDS = [
	(r"^CONNECT from \[", "connect"),
	(r"^DISCONNECT \[", "disconnect"),
	(r"^PASS NEW \[", "postscreen_pass_new"),
	(r"^PASS OLD \[", "postscreen_pass_old"),
	(r"^PREGREET \d+ after ", "postscreen_pregreet"),
	(r"^HANGUP after ", "postscreen_hangup"),
	(r"^COMMAND PIPELINING from ", "postscreen_pipelining"),
	(r"^BARE NEWLINE from ", "postscreen_bare_newline"),
	(r"^NON-SMTP COMMAND from ", "postscreen_non_smtp_command"),
	(r"^DNSBL rank \d+ for ", "postscreen_dnsbl"),
	(r"^(?:DENY|BLACK)LISTED \[", "postscreen_denylist"),
	(r"^(?:ALLOW|WHITE)LISTED \[", "postscreen_allowlist"),
	(r"^(?:ALLOW|WHITE)LIST VETO \[", "postscreen_allowlist_veto"),
	(r"^COMMAND (?:TIME|COUNT|LENGTH) LIMIT from ", "postscreen_command_limit"),
	(r"^(?:DATA|BDAT) without valid RCPT from ", "postscreen_data_without_rcpt"),
	(r"^NOQUEUE: reject: (?:RCPT|CONNECT) from \[", "reject"),
	(r"^warning: haproxy read: ", "proxy_error"),
	(r"^warning: getpeername: ", "proxy_error"),
]
SMTPD_KINDS = [
	(r"^connect from \S+\[[^\]]*\]$", "connect"),
	(r"^disconnect from \S+\[[^\]]*\](?::\d+)?(?: .*)?$", "disconnect"),
	(r"^(?:\w+: )?lost connection after \S+(?: \(\d+ bytes\))? from ", "lost_connection"),
	(r"^(?:\w+: )?timeout after \S+(?: \(\d+ bytes\))? from ", "timeout"),
	(r"^(?:\w+: )?too many errors after \S+(?: \(\d+ bytes\))? from ", "too_many_errors"),
	(r"^improper command pipelining after \S+ from ", "improper_pipelining"),
	(r"^warning: non-SMTP command from ", "non_smtp_command"),
	(r"^warning: \S+\[[^\]]*\](?::\d+)?: SASL \S+ authentication failed", "auth_failure"),
	(r"^\w+: client=\S+\[[^\]]*\](?::\d+)?, sasl_method=\S+, sasl_username=", "auth_success"),
	(r"^\w+: client=\S+\[[^\]]*\](?::\d+)?$", "queued"),
	(r"^\w+: reject: \S+ from ", "reject"),
	(r"^\w+: reject_warning: \S+ from ", "reject_warning"),
	(r"^warning: (?:Connection rate|Connection concurrency|Message delivery request rate|"
	 r"Recipient address rate|New TLS session rate|AUTH command rate) limit exceeded: ",
	 "rate_limit"),
	(r"^warning: hostname \S+ does not resolve to address ", "reverse_dns_mismatch"),
	(r"^warning: haproxy read: ", "proxy_error"),
	(r"^(?:fatal|panic): ", "fatal"),
]
ANVIL_KINDS = [(r"^statistics: max \S+ (?:rate|count) \S+ for \(", "anvil_statistics")]
MASTER_KINDS = [
	(r"^warning: process \S+ pid \d+ (?:exit status|killed by signal) \d+$", "process_exit"),
	(r"^warning: \S+: bad command startup -- throttling$", "service_throttled"),
]
DOVECOT_KINDS = [
	(r"^(?:[\w-]+-login: )(?:Info: )?(?:Login|Logged in): ", "auth_success"),
	(r"^(?:[\w-]+-login: )(?:Info: )?.*\(auth failed, \d+ attempts", "auth_failure"),
	(r"^(?:[\w-]+-login: )(?:Info: )?.*\(no auth attempts", "disconnect"),
	(r"^(?:auth(?:-worker)?(?:\(\w*\))?: )?(?:Info: )?(?:conn unix:auth-worker \([^)]*\): "
	 r"auth-worker<\d+>: )?(?:passwd-file|pam|sql|ldap|passwd|shadow)\([^)]*\): "
	 r"(?:unknown user|Password mismatch|pam_authenticate\(\) failed)", "auth_lookup_failure"),
]
PARSED = {"postscreen": PS_KINDS, "smtpd": SMTPD_KINDS, "anvil": ANVIL_KINDS,
    "master": MASTER_KINDS, "dovecot": DOVECOT_KINDS}


def contract_kind(line):
	"""contract_kind - the kind event.h gives this line; None = no event; "?" = not said

	Derived from the event.h comments and FORMATS.md, not from the peer.
	"""
	prog, msg = split_line(line)
	daemon = daemon_of(prog)
	if daemon is None:
		return "?"
	if daemon not in PARSED:
		if prog.startswith("postfix") or daemon in ("sshd", "dropbear", "postgrey"):
			return None
		return "?"
	if daemon == "dovecot" and prog != "dovecot" and not msg.startswith(prog + ":"):
		msg = prog + ": " + msg		# log_path: the service is the tag
	if daemon == "dovecot" and msg.startswith("dovecot: "):
		msg = msg[len("dovecot: "):]
	for rx, kind in PARSED[daemon]:
		if re.search(rx, msg):
			return kind
	return "?"


def same_ip(a, b):
	if a == b:
		return True
	try:
		return a is not None and b is not None and \
		    ipaddress.ip_address(a) == ipaddress.ip_address(b)
	except ValueError:
		return False


class Record:
	"""One peer record: the line fed, its id, and its assertions' results."""

	def __init__(self, rid, line, raw):
		self.rid = rid
		self.line = line
		self.raw = raw
		self.events = []
		self.results = []		# (ok, text)
		self.different = None		# key of DIFFERENT when a rule applies

	def check(self, ok, text):
		self.results.append((bool(ok), text))
		return ok

	def failed(self):
		return [t for ok, t in self.results if not ok]

	def one(self):
		return self.events[0] if len(self.events) == 1 else None

	def kind(self, kinds, why):
		"""kind - exactly one event, of one of kinds"""
		if isinstance(kinds, str):
			kinds = (kinds,)
		got = [e.get("event") for e in self.events]
		return self.check(len(got) == 1 and got[0] in kinds,
		    "%s: want one %s event, got %s" % (why, "|".join(kinds), got or "none"))

	def field(self, name, want, why):
		ev = self.one()
		if ev is None:
			return False
		got = ev.get(name)
		if name in ("client_ip", "server_ip") and want is not None:
			ok = same_ip(got, want) and got == want
		else:
			ok = got == want
		return self.check(ok, "%s: %s=%r, want %r" % (why, name, got, want))

	def has_ip(self, ip, why):
		ok = any(e.get("client_ip") == ip for e in self.events)
		return self.check(ok, "%s: want an event with client_ip %s, got %s" %
		    (why, ip, [e.get("client_ip") for e in self.events] or "no event"))

	def none(self, why):
		return self.check(not self.events, "%s: want no event, got %s" %
		    (why, [e.get("event") for e in self.events]))


def is_ip(s):
	try:
		ipaddress.ip_address(s)
		return True
	except ValueError:
		return False


def generic_checks(rec, contract=True):
	rec.check(len(rec.events) <= 1, "all: at most one event per line, got %d" %
	    len(rec.events))
	for ev in rec.events:
		for f in ("client_ip", "server_ip"):
			if f in ev:
				rec.check(isinstance(ev[f], str) and is_ip(ev[f]),
				    "all: %s %r is not an IP address" % (f, ev[f]))
	k = contract_kind(rec.line) if contract else "?"
	if k is None:
		rec.none("contract: a daemon mxledger does not parse")
	elif k != "?":
		rec.kind(k, "contract (event.h) kind")


def auth_kind(origin):
	"""auth_kind - the kind an authentication failure line must give"""
	if origin == "auth" or origin == "pam_unix":
		return "auth_lookup_failure"
	return "auth_failure"


# ---------------------------------------------------------------- sources

def load(path):
	with open(path, encoding="utf-8") as f:
		return [json.loads(l) for l in f if l.strip()]


def fail2ban_records(peers, name):
	out = []
	for i, r in enumerate(load(os.path.join(peers, name))):
		rid = "%s:%s" % (r["source"], r.get("file_line") or "#%d" % i)
		rec = Record(rid, r["line"], r)

		def checks(rec, r=r):
			generic_checks(rec)
			if r.get("match") and r.get("host"):
				rec.has_ip(r["host"], "fail2ban match")
			if r.get("fail2ban_auth_failure"):
				rec.kind(auth_kind(r.get("dovecot_origin")),
				    "fail2ban auth failure (origin %s)" % r.get("dovecot_origin", "smtp"))
			if r.get("match") and r.get("user"):
				rec.field("user", r["user"], "fail2ban user")
		rec.checks = checks
		out.append(rec)
	return out


def crowdsec_records(peers):
	out = []
	for r in load(os.path.join(peers, "crowdsec.jsonl")):
		rec = Record("%s:%s" % (r["source"], r["line_no"]), r["line"], r)

		def checks(rec, r=r):
			generic_checks(rec)
			exp = r.get("expect") or {}
			parsed = exp.get("parsed") or {}
			meta = exp.get("meta") or {}
			sc = r.get("scenario_expect") or {}
			smeta = sc.get("event_meta") or {}
			ip = meta.get("source_ip") or smeta.get("source_ip")
			if ip is None and "source_ip" in (sc.get("mapped_by") or "") and \
			    len(sc.get("overflow_sources") or []) == 1:
				ip = sc["overflow_sources"][0]
			if ip:
				rec.has_ip(ip, "crowdsec source_ip")
			if r.get("crowdsec_auth_failure"):
				rec.kind(auth_kind(r.get("dovecot_origin")),
				    "crowdsec auth failure (origin %s)" % r.get("dovecot_origin", "smtp"))
			if "dovecot_user" in parsed:
				rec.field("user", parsed["dovecot_user"], "crowdsec dovecot_user")
			if "smtp_return_codes" in parsed:
				rec.field("reply", parsed["smtp_return_codes"], "crowdsec smtp_return_codes")
			enh = meta.get("log_type_enh")
			if enh == "non-smtp-command":
				rec.kind("non_smtp_command", "crowdsec non-smtp-command")
			elif "command" in parsed:
				rec.field("stage", parsed["command"], "crowdsec command")
			host = parsed.get("remote_host") or smeta.get("source_hostname")
			if host:
				rec.field("client_name", host, "crowdsec remote_host")
			if parsed.get("pregreet"):
				rec.kind("postscreen_pregreet", "crowdsec pregreet")
				rec.field("client_port", int(parsed["port"]), "crowdsec port")
		rec.checks = checks
		out.append(rec)
	return out


GROK_ACCESS = {"PASS OLD": "postscreen_pass_old", "PASS NEW": "postscreen_pass_new",
    "WHITELISTED": "postscreen_allowlist", "ALLOWLISTED": "postscreen_allowlist",
    "BLACKLISTED": "postscreen_denylist", "DENYLISTED": "postscreen_denylist",
    "WHITELIST VETO": "postscreen_allowlist_veto", "ALLOWLIST VETO": "postscreen_allowlist_veto"}
GROK_VIOLATION = {"PREGREET": "postscreen_pregreet", "DNSBL": "postscreen_dnsbl",
    "HANGUP": "postscreen_hangup", "COMMAND TIME LIMIT": "postscreen_command_limit",
    "COMMAND COUNT LIMIT": "postscreen_command_limit",
    "COMMAND LENGTH LIMIT": "postscreen_command_limit",
    "NON-SMTP COMMAND": "postscreen_non_smtp_command",
    "COMMAND PIPELINING": "postscreen_pipelining", "BARE NEWLINE": "postscreen_bare_newline"}
GROK_LOSTCONN = {"lost connection": "lost_connection", "timeout": "timeout"}
GROK_ACTION = {"reject": "reject", "reject_warning": "reject_warning"}


def grok_records(peers):
	out = []
	for r in load(os.path.join(peers, "grok_postfix_patterns.jsonl")):
		msg = r["message"].replace("\r", "\\r").replace("\n", "\\n")
		line = SYNTH % (r["program_hint"] or "postfix/smtpd", msg)
		rec = Record(r["source"], line, r)

		def checks(rec, r=r):
			generic_checks(rec)
			e = r["expect"]
			daemon = daemon_of(r["program_hint"])
			if daemon not in PARSED:
				return
			kind = (GROK_ACCESS.get(e.get("postfix_postscreen_access")) or
			    GROK_VIOLATION.get(e.get("postfix_postscreen_violation")) or
			    GROK_LOSTCONN.get(e.get("postfix_smtpd_lostconn_data")) or
			    GROK_ACTION.get(e.get("postfix_action")))
			if kind:
				rec.kind(kind, "grok kind")
			if rec.one() is None:
				return
			if "postfix_client_ip" in e:
				rec.field("client_ip", e["postfix_client_ip"], "grok client ip")
			elif e.get("postfix_client_ip_unknown") == "unknown":
				rec.field("client_ip", None, "grok unknown client")
			if "postfix_client_hostname" in e:
				rec.field("client_name", e["postfix_client_hostname"], "grok client hostname")
			if "postfix_client_port" in e:
				rec.field("client_port", e["postfix_client_port"], "grok client port")
			if "postfix_server_ip" in e:
				rec.field("server_ip", e["postfix_server_ip"], "grok server ip")
			if "postfix_server_port" in e:
				rec.field("server_port", e["postfix_server_port"], "grok server port")
			if "postfix_smtp_stage" in e and daemon in ("smtpd", "postscreen"):
				rec.field("stage", e["postfix_smtp_stage"], "grok stage")
			qid = e.get("postfix_queueid")
			if qid and daemon == "smtpd":
				rec.field("queue_id", None if qid == "NOQUEUE" else qid, "grok queue id")
			if "postfix_status_code" in e:
				want = str(e["postfix_status_code"])
				if e.get("postfix_status_code_enhanced"):
					want += " " + e["postfix_status_code_enhanced"]
				rec.field("reply", want, "grok status code")
		rec.checks = checks
		out.append(rec)
	return out


NO_ENVELOPE = re.compile(r"^(?![<@{]|\d{4}-|[A-Z][a-z]{2} [ \d]?\d )")


def sshguard_records(peers):
	out = []
	for i, r in enumerate(load(os.path.join(peers, "sshguard.jsonl"))):
		line = r["line"]
		e = r["expect"]
		if NO_ENVELOPE.match(line) and e.get("service") in (210, 260):
			prog = "dovecot" if e["service"] == 210 else "postfix/smtpd"
			line = ("Nov 22 02:22:24 peer %s: %s" % (prog, line) if prog == "dovecot"
			    else SYNTH % (prog, line))
		rec = Record("%s#%d" % (r["source"], i), line, r)

		def checks(rec, e=e):
			generic_checks(rec)
			if e.get("attack") and e.get("service") in (210, 260):
				rec.has_ip(e["addr"], "sshguard attack addr")
			elif e.get("service") in (100, 101) or not e.get("attack"):
				rec.none("sshguard: not a mail daemon / no attack")
		rec.checks = checks
		out.append(rec)
	return out


PS_ACTION = {"ALLOWLISTED": "postscreen_allowlist", "WHITELISTED": "postscreen_allowlist",
    "BLACKLISTED": "postscreen_denylist", "DENYLISTED": "postscreen_denylist",
    "BARE NEWLINE": "postscreen_bare_newline", "BDAT": "postscreen_data_without_rcpt",
    "DATA": "postscreen_data_without_rcpt", "COMMAND COUNT LIMIT": "postscreen_command_limit",
    "COMMAND LENGTH LIMIT": "postscreen_command_limit",
    "COMMAND TIME LIMIT": "postscreen_command_limit",
    "COMMAND PIPELINING": "postscreen_pipelining", "CONNECT": "connect",
    "DISCONNECT": "disconnect", "DNSBL": "postscreen_dnsbl", "HANGUP": "postscreen_hangup",
    "NON-SMTP COMMAND": "postscreen_non_smtp_command", "NOQUEUE: CONNECT": "reject",
    "NOQUEUE: RCPT": "reject", "PASS NEW": "postscreen_pass_new",
    "PASS OLD": "postscreen_pass_old", "PREGREET": "postscreen_pregreet",
    "WHITELIST VETO": "postscreen_allowlist_veto", "ALLOWLIST VETO": "postscreen_allowlist_veto"}


def metric_kind(m):
	"""metric_kind - the event kind a postfix_exporter counter implies, or None"""
	name, lab = m["metric"], m.get("labels") or {}
	if name in ("postfix_connects_total", "postfix_smtpd_connects_total"):
		return "connect"
	if name in ("postfix_disconnects_total", "postfix_smtpd_disconnects_total"):
		return "disconnect"
	if name in ("postfix_login_failures_total",
	    "postfix_smtpd_sasl_authentication_failures_total"):
		return "auth_failure"
	if name == "postfix_lost_connections_total":
		return "lost_connection"
	if name == "postfix_noqueue_reject_replies_total":
		return "reject"
	if name == "postfix_not_resolved_hostnames_total":
		return "reverse_dns_mismatch"
	if name == "postfix_postscreen_connects_total":
		return "connect"
	if name == "postfix_postscreen_passes_total":
		return "postscreen_pass_" + lab["type"]
	if name == "postfix_postscreen_hangups_total":
		return "postscreen_hangup"
	if name == "postfix_postscreen_dnsbl_rank":
		return "postscreen_dnsbl"
	if name == "postfix_postscreen_tests_failed_total" and lab.get("test") == "PREGREET":
		return "postscreen_pregreet"
	if name in ("postfix_postscreen_messages_rejected_total",
	    "postfix_postscreen_connects_rejected_total"):
		return "reject"
	if name == "postfix_postscreen_access_list_matches_total":
		return {"allow": "postscreen_allowlist", "deny": "postscreen_denylist"}[lab["action"]]
	if name == "postfix_postscreen_actions_total":
		return PS_ACTION[lab["action"]]
	if name == "postfix_smtpd_messages_processed_total":
		return "queued" if lab.get("sasl_method") in ("", "NONE", None) else "auth_success"
	if name == "postfix_unsupported_log_entries_total" and lab.get("level") == "fatal":
		return "fatal"
	return None


def exporter_records(peers):
	out = []
	for r in load(os.path.join(peers, "postfix_exporter.jsonl")):
		rid = "%s:%s:%s" % (r["source"], r.get("test_case", "mail.log"), r["line_index"])
		rec = Record(rid, r["line"], r)

		def checks(rec, r=r):
			generic_checks(rec)
			metrics = r.get("expect") or []
			kinds = {metric_kind(m) for m in metrics} - {None}
			if len(kinds) > 1:
				rec.check(False, "test bug: metrics imply kinds %s" % sorted(kinds))
				return
			if kinds:
				rec.kind(kinds.pop(), "exporter counter kind")
			junk = {m["metric"] for m in metrics} & {"postfix_errors_total",
			    "postfix_foreign_total", "postfix_unsupported_total"}
			if junk:
				rec.none("exporter %s (malformed, foreign or unknown program)" %
				    "/".join(sorted(junk)))
			for m in metrics:
				lab = m.get("labels") or {}
				if m["metric"] == "postfix_login_failures_total":
					rec.field("method", lab["method"], "exporter method label")
				if m["metric"] == "postfix_noqueue_reject_replies_total":
					rec.field("reply", "%s %s" % (lab["code"], lab["enhanced_code"]),
					    "exporter reply code labels")
					rec.field("stage", lab["command"], "exporter command label")
				if m["metric"] == "postfix_postscreen_messages_rejected_total":
					ev = rec.one() or {}
					rec.check((ev.get("reply") or "").split(" ")[0] == lab["code"],
					    "exporter code label: reply=%r, want code %s" %
					    (ev.get("reply"), lab["code"]))
		rec.checks = checks
		out.append(rec)
	return out


def smtpd_ref_records(peers):
	out = []
	for r in load(os.path.join(peers, "postfix_smtpd_check_ref.jsonl")):
		msg = r["message"].replace("<queue id>", "NOQUEUE", 1)
		rec = Record("%s:%s" % (r["source"], r["ref_line"]), SYNTH % ("postfix/smtpd", msg), r)

		def checks(rec, d=r["derived"]):
			if not is_ip(d["client_addr"]):
				rec.different = "dummy-client"
				generic_checks(rec, contract=False)
				rec.none("DIFFERENT dummy-client: malformed client address")
				return
			generic_checks(rec)
			if d["action"] != "reject":
				return
			rec.kind("reject", "smtpd_check ref action")
			rec.field("stage", d["stage"], "smtpd_check ref stage")
			rec.field("client_ip", d["client_addr"], "smtpd_check ref client address")
			rec.field("client_name", d["client_name"], "smtpd_check ref client name")
			want = d["reply_code"] + (" " + d["enhanced_code"] if d["enhanced_code"] else "")
			rec.field("reply", want, "smtpd_check ref reply")
			rec.field("queue_id", None, "smtpd_check ref NOQUEUE")
		rec.checks = checks
		out.append(rec)
	return out


def c_escape(s):
	return "".join("\\r" if c == "\r" else "\\n" if c == "\n" else "\\t" if c == "\t"
	    else c if " " <= c < "\x7f" else "\\%03o" % ord(c) for c in s)


def haproxy_records(peers):
	out = []
	progs = ("postfix/smtpd-proxy25/postscreen", "postfix/smtpd-proxy587/smtpd")
	for i, r in enumerate(load(os.path.join(peers, "postfix_haproxy_srvr_cases.jsonl"))):
		e = r["expect"]
		if e.get("ok"):
			continue
		hdr = r["proxy_header_v1"]
		msg = ("warning: haproxy read: EOF" if hdr == "" else
		    "warning: haproxy read: %s: %s" % (e["error"], c_escape(hdr)))
		rec = Record("haproxy_srvr:%d" % i, SYNTH % (progs[i % 2], msg), r)

		def checks(rec):
			generic_checks(rec)
			rec.kind("proxy_error", "PROXY header error")
			rec.field("client_ip", None, "no client address from a rejected header")
			rec.field("proxied", True, "PROXY listener")
		rec.checks = checks
		out.append(rec)
	return out


# ---------------------------------------------------------------- running

def run_source(mxledger, name, records, tmpdir):
	"""run_source - feed every record through one mxledger parse; attach events"""
	path = os.path.join(tmpdir, name + ".log")
	with open(path, "w", encoding="utf-8", newline="\n") as f:
		for i, rec in enumerate(records):
			f.write(MARKER % (MARKER_PID + i) + "\n")
			f.write(rec.line + "\n")
		f.write(MARKER % (MARKER_PID + len(records)) + "\n")
	cmd = [mxledger, "parse", "--year", "2026", "--format", "jsonl", "--stats", path]
	t0 = time.monotonic()
	p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
	    timeout=PARSE_TIMEOUT)
	secs = time.monotonic() - t0
	problems = []
	if p.returncode != 0:
		problems.append("mxledger parse exited %d: %s" % (p.returncode,
		    p.stderr.decode("utf-8", "replace")[-2000:]))
	cur = None
	seen = set()
	for n, raw in enumerate(p.stdout.decode("utf-8", "replace").splitlines(), 1):
		try:
			ev = json.loads(raw)
		except ValueError:
			problems.append("output line %d is not JSON: %r" % (n, raw[:200]))
			continue
		if ev.get("host") == MARKER_HOST and isinstance(ev.get("pid"), int):
			cur = ev["pid"] - MARKER_PID
			seen.add(cur)
			continue
		if cur is None or cur >= len(records):
			problems.append("event outside any record: %s" % raw[:300])
			continue
		records[cur].events.append(ev)
	missing = [i for i in range(len(records) + 1) if i not in seen]
	if missing:
		problems.append("%d marker lines gave no event (first: record %d); events of "
		    "the records before them are attributed to the wrong record" %
		    (len(missing), missing[0]))
	return problems, secs, p.stderr.decode("utf-8", "replace")


def main():
	if len(sys.argv) != 3:
		print("usage: corpus_peers.py MXLEDGER CORPUS_DIR", file=sys.stderr)
		return 2
	mxledger, corpus = sys.argv[1], sys.argv[2]
	peers = os.path.join(corpus, "peers")
	if not os.path.isdir(peers):
		print("SKIP: peer corpus not found at %s" % peers)
		return 77
	if not os.access(mxledger, os.X_OK):
		print("SKIP: %s is not executable" % mxledger)
		return 77
	sources = [
		("fail2ban", fail2ban_records(peers, "fail2ban.jsonl")),
		("fail2ban_history", fail2ban_records(peers, "fail2ban_history.jsonl")),
		("crowdsec", crowdsec_records(peers)),
		("grok", grok_records(peers)),
		("sshguard", sshguard_records(peers)),
		("postfix_exporter", exporter_records(peers)),
		("postfix_smtpd_check_ref", smtpd_ref_records(peers)),
		("postfix_haproxy_srvr", haproxy_records(peers)),
	]
	with tempfile.TemporaryDirectory(prefix="mxledger-peers.") as tmpdir:
		return run_all(mxledger, sources, tmpdir)


def run_all(mxledger, sources, tmpdir):
	"""run_all - run and check every source; print per-source counts and the total"""
	total_pass = total = 0
	failed = allowed = stale = 0
	allowed_used = set()
	summary = []
	for name, records in sources:
		try:
			problems, secs, stats = run_source(mxledger, name, records, tmpdir)
		except subprocess.TimeoutExpired:
			problems, secs, stats = ["mxledger parse did not finish in %d s" %
			    PARSE_TIMEOUT], PARSE_TIMEOUT, ""
		for p in problems:
			print("FAIL %s: %s" % (name, p))
			failed += 1
		npass = nallowed = nchecks = 0
		ndiff = {}
		for rec in records:
			rec.checks(rec)
			nchecks += len(rec.results)
			if rec.different:
				ndiff[rec.different] = ndiff.get(rec.different, 0) + 1
			bad = rec.failed()
			why = ALLOWED.get(rec.rid)
			if why is not None:
				allowed_used.add(rec.rid)
				if bad:
					nallowed += 1
					allowed += 1
					print("ALLOWED %s [%s]: %s\n    line: %s\n    (%s)" %
					    (name, rec.rid, "; ".join(bad), rec.line, why))
				else:
					stale += 1
					print("FAIL %s [%s]: allow-listed but passes now; remove it from "
					    "ALLOWED\n    line: %s" % (name, rec.rid, rec.line))
				continue
			if not bad:
				npass += 1
				continue
			failed += 1
			print("FAIL %s [%s]\n    line:   %s" % (name, rec.rid, rec.line))
			for t in bad:
				print("    check:  " + t)
			for ev in rec.events:
				print("    event:  " + json.dumps(ev, sort_keys=True))
		n = len(records)
		total_pass += npass
		total += n - nallowed
		summary.append("%s: %d/%d pass%s, %d checks, %d lines in %.2f s%s" % (name, npass,
		    n - nallowed, " (+%d allowed)" % nallowed if nallowed else "", nchecks, n, secs,
		    "".join("; %d under rule %s (%s)" % (c, k, DIFFERENT[k])
		    for k, c in sorted(ndiff.items()))))
		ok = "ok" if not problems else "FAIL"
		print("%-24s %s" % (name, ok))
	for rid in sorted(set(ALLOWED) - allowed_used):
		print("FAIL: ALLOWED entry %r matches no record" % rid)
		stale += 1
	print("")
	for s in summary:
		print(s)
	print("total: %d/%d records pass, %d allowed (listed in ALLOWED with reasons), "
	    "%d failures" % (total_pass, total, allowed, failed + stale))
	return 1 if failed or stale else 0


if __name__ == "__main__":
	sys.exit(main())
