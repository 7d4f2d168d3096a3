#!/usr/bin/env python3
"""
NAME
	report.py - `mxledger report` against the real-log corpus: exact numbers
SYNOPSIS
	report.py MXLEDGER SRCDIR WORKDIR
DESCRIPTION
	Ingests tests/data/real-sample-mail.log (`mxledger ingest --year 2026`)
	into WORKDIR/mx.db and checks, for the day of the corpus:

	  - numbers against real-sample-expected.json (per address: auth
	    failures, sessions, rejects, postscreen verdicts; totals: auth
	    failures and successes per protocol, sessions) and against
	    real-sample-truth.jsonl (sessions per listener and their internal
	    share, rejects by reply, failures and logins per user and address);
	    EXPECTED NUMBERS below says how each is derived;
	  - top lists: ranking and ties, --group net (/24, /64) and user;
	  - ip: ADDR and CIDR (IPv4, IPv6, ::1), --limit shows the last rows;
	  - policy decisions (rows added with sqlite3) in policy, summary, ip,
	    top; a schema-version-1 database (no decisions table) still works;
	  - every format of every report: CSV (RFC 4180, csv module) and JSON
	    (json module: numbers are numbers) give the same rows, the table
	    shows the same numbers and the same text (or a cut prefix of it);
	  - sqlite3 running sql/reports/NAME.sql with the same parameters gives
	    the same rows as the command (`sqlite3 -json`), and the shared CTE
	    blocks of the SQL files are identical;
	  - tables fit 80 columns, in a UTF-8 locale (cut with U+2026) and in
	    the C locale (cut with "...");
	  - --since against MXLEDGER_FAKE_NOW, time formats, exit codes (64 for
	    usage errors, 66 for a missing database);
	  - a writer holding its transaction does not block a report (WAL),
	    and reports leave the database file unchanged;
	  - the example query of mxledger(8) runs and counts what it says.
EXPECTED NUMBERS
	Auth failures of an address: smtp_auth_fail + imap_auth_fail of
	expected.json (each failed attempt once). Sessions: its `connections`.
	Rejects: ps_noqueue + smtpd_noqueue:* + smtpd_reject_queued:*.

	Sessions per listener, from the truth rows' expected line counts:
	postscreen CONNECT on the row's listener, minus PASS OLD / ALLOWLISTED
	(the hand-off), smtpd connect on the row's listener or, after
	postscreen, on "postfix" (postscreen hands over to the stock smtpd);
	Dovecot sessions and haproxy errors on imap-login. Counts the daemons
	may race over are {min, max}: the report must lie inside.

	Failures per user: the truth rows' AUTH/LOGIN replies in order,
	paired with the user names tried; 535 and IMAP NO are failures; a 454
	"Connection lost to authentication server" is logged by Postfix 3.7
	with the user name of the failure before it (observed in the corpus).
	Rate-limited AUTH (450) and 530 are not authentication failures.
RETURNS
	0 all passed, 1 a check failed (each failure is printed), 77 the
	binary cannot run at all.
"""

import collections
import csv
import io
import ipaddress
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys

TIMEOUT = 60
FROM, TO = "2026-11-22", "2026-11-23"
FROM_S, TO_S = 1795305600, 1795392000        # the same, unix seconds
WIDTH = 80
PERIOD = ["--from", FROM, "--to", TO]

PS_VERDICTS = {
	"pass_new": "PASS NEW", "pass_old": "PASS OLD", "pregreet": "PREGREET",
	"pipelining": "COMMAND PIPELINING", "non_smtp_command": "NON-SMTP COMMAND",
	"bare_newline": "BARE NEWLINE", "hangup": "HANGUP", "denylist": "DENYLISTED",
	"allowlist": "ALLOWLISTED",
}
REJECT_CLASSES = [
	("unknown_user", re.compile(r"User unknown", re.I)),
	("relay", re.compile(r"Relay access denied", re.I)),
	("helo", re.compile(r"Helo command rejected", re.I)),
	("client", re.compile(r"Client host rejected", re.I)),
	("sender", re.compile(r"Sender address rejected", re.I)),
	("recipient_other", re.compile(r"Recipient address rejected", re.I)),
]
PS_REJECT = re.compile(r"^(Service currently unavailable|Protocol error)$")


class Checks:
	def __init__(self):
		self.n = 0
		self.failed = 0

	def ok(self, cond, what, detail=""):
		self.n += 1
		if cond:
			return True
		self.failed += 1
		print("not ok %d - %s%s" % (self.n, what, (": " + detail) if detail else ""))
		return False

	def eq(self, got, want, what):
		return self.ok(got == want, what, "got %r, want %r" % (got, want))

	def within(self, got, want, what):
		"""want is an int or {min, max} / [min, max]"""
		lo, hi = bounds(want)
		return self.ok(lo <= got <= hi, what, "got %r, want %s" % (
		    got, lo if lo == hi else "%d..%d" % (lo, hi)))


def bounds(v):
	if isinstance(v, dict):
		return v["min"], v["max"]
	if isinstance(v, (list, tuple)):
		return v[0], v[1]
	return v, v


def badd(a, b, sign=1):
	"""bounds a + sign * b"""
	(alo, ahi), (blo, bhi) = bounds(a), bounds(b)
	if sign > 0:
		return (alo + blo, ahi + bhi)
	return (alo - bhi, ahi - blo)


class Runner:
	def __init__(self, mxledger, db):
		self.m = mxledger
		self.db = db

	def run(self, args, env=None, db=True):
		e = dict(os.environ, TZ="UTC", LC_ALL="C.UTF-8")
		e.pop("MXLEDGER_FAKE_NOW", None)
		e.update(env or {})
		cmd = [self.m, "report"] + args + (["--db", self.db] if db else [])
		p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, env=e)
		return p.returncode, p.stdout.decode("utf-8", "replace"), \
		    p.stderr.decode("utf-8", "replace")

	def json(self, args, db=None):
		rc, out, err = self.run(args + ["--format", "json"] +
		    (["--db", db] if db else []), db=db is None)
		if rc != 0:
			raise RuntimeError("report %s: exit %d: %s" % (" ".join(args), rc, err))
		return json.loads(out)


def by_hand(srcdir, db, report, params):
	"""sqlite3 running sql/reports/REPORT.sql with named parameters"""
	cmd = ["sqlite3", "-readonly", "-json"]
	for k, v in params.items():
		val = str(v) if isinstance(v, int) else "\"'%s'\"" % v
		cmd += ["-cmd", ".parameter set :%s %s" % (k, val)]
	cmd.append(db)
	with open(os.path.join(srcdir, "sql", "reports", report + ".sql"), "rb") as f:
		p = subprocess.run(cmd, stdin=f, capture_output=True, timeout=TIMEOUT)
	if p.returncode != 0:
		raise RuntimeError("sqlite3 %s.sql: %s" % (report, p.stderr.decode()))
	out = p.stdout.decode()
	return json.loads(out) if out.strip() else []


# ---------------------------------------------------------------- truth
def truth_listener_sessions(truth, inside=None):
	"""{listener: bounds} of sessions, see EXPECTED NUMBERS"""
	terms = [("ps_connect", "ps", 1), ("smtpd_connect", "smtpd", 1),
	    ("ps_verdict:PASS OLD", "ps", -1), ("ps_verdict:ALLOWLISTED", "ps", -1),
	    ("imap_session", "dovecot", 1), ("dovecot_haproxy_error", "dovecot", 1)]
	out = collections.defaultdict(lambda: (0, 0))
	for r in truth:
		if inside is not None and not inside(r["real_client_ip"]):
			continue
		e = r["expect"]
		where = {"ps": r["listener"], "dovecot": "imap-login",
		    "smtpd": "postfix" if "ps_connect" in e else r["listener"]}
		for key, w, sign in terms:
			if key in e:
				out[where[w]] = badd(out[where[w]], e[key], sign)
	return {k: v for k, v in out.items() if v != (0, 0)}


def truth_auth(truth):
	"""({(user, ip, proto): failures}, {(user, ip, proto): logins})"""
	fails, logins = collections.Counter(), collections.Counter()
	for r in truth:
		names = r.get("usernames") or ([r["username"]] if "username" in r else [])
		proto = "imap" if r["listener"] == "dovecot" else "smtp"
		ip = r["real_client_ip"]
		# final answers only (AUTH LOGIN's 334 challenges are not)
		answers = [x for x in r["replies"] if x[0] in ("AUTH", "AUTH_PASS", "LOGIN",
		    "AUTHENTICATE") and x[1] != 334]
		if len(names) == 1 and len(answers) > 1:
			names = names * len(answers)
		last_failed = None
		for name, (cmd, code, text) in zip(names, answers):
			if code in (235, "OK"):
				logins[(name, ip, proto)] += 1
			elif code in (535, "NO"):
				fails[(name, ip, proto)] += 1
				last_failed = name
			elif code == 454 and last_failed is not None:
				fails[(last_failed, ip, proto)] += 1
	return fails, logins


def truth_rejects_by_reply(truth):
	c = collections.Counter()
	for r in truth:
		for cmd, code, text in r["replies"]:
			if cmd == "RCPT" and isinstance(code, int) and code >= 400:
				c[" ".join(text.split()[:2])] += 1
	return c


def net_of(ip):
	a = ipaddress.ip_address(ip)
	return str(ipaddress.ip_network("%s/%d" % (ip, 24 if a.version == 4 else 64),
	    strict=False))


# ---------------------------------------------------------------- formats
def parse_table(text):
	"""rows of a table with a header (split by its rule line) -> (names, rows)"""
	lines = text.split("\n")
	rule = next((i for i, l in enumerate(lines) if l.strip() and set(l.strip()) <= {"-", " "}),
	    None)
	if rule is None:
		return None, []
	spans, pos = [], 0
	for m in re.finditer(r"-+", lines[rule]):
		spans.append((m.start(), m.end()))
	rows = []
	for l in lines[rule + 1:]:
		if not l.strip():
			continue
		if not l.startswith(" " * spans[0][0]) and spans[0][0] > 0:
			rows.append(("day", l.strip()))
			continue
		rows.append(("row", [l[a:b].strip() if b < len(l) else l[a:].strip()
		    for a, b in spans]))
	return spans, rows


def cell_matches(shown, value, ell):
	"""a table cell shows value: whole, or cut with the ellipsis; times shortened"""
	if value is None:
		return shown == ""
	if isinstance(value, float):
		return shown == ("%.15g" % value)
	if isinstance(value, int):
		return shown == str(value)
	v = re.sub(r"[\x00-\x1f\x7f]", "?", value)
	m = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)Z", v)
	if m:
		full = m.group(1) + " " + m.group(2)
		return shown in (full, full[:16], full[5:16], m.group(2))
	if shown == v:
		return True
	return shown.endswith(ell) and v.startswith(shown[:-len(ell)])


def check_formats(c, R, args, what, hidden=None):
	"""JSON == CSV == table, and the table fits; returns the JSON rows"""
	rows = R.json(args)
	rc, out, err = R.run(args + ["--format", "csv"])
	c.eq(rc, 0, what + ": csv exit status")
	c.ok(out.endswith("\r\n") and "\n" not in out.replace("\r\n", ""), what +
	    ": CSV lines end in CRLF (and no bare LF: RFC 4180)")
	rd = list(csv.reader(io.StringIO(out, newline="")))
	names = rd[0] if rd else []
	c.eq(len(rd) - 1, len(rows), what + ": CSV has the rows of JSON")
	for i, (j, cv) in enumerate(zip(rows, rd[1:])):
		c.eq(list(j.keys()), names, what + ": CSV header is the JSON keys")
		want = ["" if v is None else ("%.15g" % v if isinstance(v, float) else str(v))
		    for v in j.values()]
		if not c.eq(cv, want, "%s: CSV row %d equals the JSON row" % (what, i)):
			break
	for j in rows:
		for k, v in j.items():
			if isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v) and k not in (
			    "item", "key", "user", "detail", "reason", "action"):
				c.ok(False, what + ": a number as a JSON string", "%s=%r" % (k, v))
	for loc, ell in (("C.UTF-8", "\u2026"), ("C", "...")):
		rc, out, err = R.run(args, env={"LC_ALL": loc})
		c.eq(rc, 0, "%s: table exit status (%s)" % (what, loc))
		wide = [l for l in out.split("\n") if len(l) > WIDTH]
		c.ok(not wide, "%s: table fits %d columns (%s)" % (what, WIDTH, loc),
		    repr(wide[:2]))
		if loc == "C":
			c.ok(all(ord(ch) < 128 for ch in out), what + ": C locale table is ASCII")
		check_table(c, out, rows, ell, what + " (%s)" % loc, hidden)
	return rows


def check_table(c, out, rows, ell, what, hidden):
	if rows and "section" in rows[0]:
		check_sectioned(c, out, rows, what)
		return
	spans, trows = parse_table(out)
	if not rows:
		c.ok("(no rows)" in out, what + ": an empty table says so")
		return
	keys = [k for k in rows[0] if k != hidden]
	data = [r for kind, r in trows if kind == "row"]
	c.eq(len(data), len(rows), what + ": table has the rows")
	for i, (shown, j) in enumerate(zip(data, rows)):
		bad = [(k, s, j[k]) for k, s in zip(keys, shown) if not cell_matches(s, j[k], ell)]
		if not c.ok(not bad, "%s: table row %d shows the JSON row" % (what, i), repr(bad[:3])):
			break


def check_sectioned(c, out, rows, what):
	"""the summary: per section, the counts in order (last number of each line)"""
	got, cur = collections.OrderedDict(), None
	for l in out.split("\n")[1:]:
		if not l.strip():
			continue
		if not l.startswith("  "):
			cur = l
			got[cur] = []
		elif cur is not None:
			got[cur].append(int(l.split()[-1]))
	want = collections.OrderedDict()
	for r in rows:
		want.setdefault(r["section"], []).append(r["count"])
	c.eq(list(got.values()), list(want.values()), what + ": table counts per section")


# ---------------------------------------------------------------- checks
def check_summary(c, R, exp, truth):
	rows = R.json(["summary", "--limit", "0"] + PERIOD)
	sec = collections.defaultdict(list)
	for r in rows:
		sec[r["section"]].append(r)
	c.ok(all(isinstance(r["count"], int) for r in rows), "summary: counts are JSON integers")
	tot = exp["totals"]
	auth = {(r["item"], r["detail"]): r["count"] for r in sec["auth"]}
	c.eq(auth.get(("smtp", "failures")), tot["smtp_auth_fail"], "summary: SMTP auth failures")
	c.eq(auth.get(("imap", "failures")), tot["imap_auth_fail"],
	    "summary: IMAP auth failures (attempts, each once)")
	c.eq(auth.get(("smtp", "successes")), tot["smtp_auth_ok"], "summary: SMTP auth successes")
	c.eq(auth.get(("imap", "successes")), tot["imap_login_ok"], "summary: IMAP logins")
	for r in sec["postscreen"]:
		if r["item"] in PS_VERDICTS:
			c.within(r["count"], tot.get("ps_verdict:" + PS_VERDICTS[r["item"]], 0),
			    "summary: postscreen %s" % r["item"])
	for v in PS_VERDICTS:
		c.ok(any(r["item"] == v for r in sec["postscreen"]) or
		    bounds(tot.get("ps_verdict:" + PS_VERDICTS[v], 0))[0] == 0,
		    "summary: postscreen verdict %s listed" % v)
	c.within(sum(r["count"] for r in sec["connections"]), tot["connections"],
	    "summary: sessions in total")
	lb = truth_listener_sessions(truth)
	got = {r["item"]: r["count"] for r in sec["connections"]}
	c.eq(sorted(got), sorted(lb), "summary: the listeners with sessions")
	for l, b in lb.items():
		c.within(got.get(l, 0), b, "summary: sessions on %s" % l)
	c.eq({r["item"]: r["detail"] for r in sec["connections"]},
	    {"postfix": "stock", "postfix/smtpd-proxy25": "proxied", "imap-login": "unknown",
	     "postfix/smtpd-proxy587": "proxied", "postfix/smtpd-proxy465": "proxied",
	     "postfix/submission": "stock", "postfix/smtps": "stock"},
	    "summary: proxied vs stock listeners")
	by_reply = collections.Counter()
	classes = collections.Counter()
	for r in sec["rejects"]:
		by_reply[r["item"]] += r["count"]
		if PS_REJECT.match(r["detail"]):
			classes["ps_noqueue"] += r["count"]
			continue
		cl = next((n for n, rx in REJECT_CLASSES if rx.search(r["detail"])), "other")
		classes[cl] += r["count"]
	c.eq(dict(by_reply), dict(truth_rejects_by_reply(truth)), "summary: rejects by reply")
	want = collections.Counter({"ps_noqueue": tot["ps_noqueue"]})
	for k, v in tot.items():
		if k.startswith("smtpd_noqueue:") or k.startswith("smtpd_reject_queued:"):
			want[k.split(":", 1)[1]] += v
	c.eq(dict(classes), dict(want), "summary: rejects by reason")
	fails, logins = truth_auth(truth)
	per_user = collections.Counter()
	for (u, ip, p), n in fails.items():
		per_user[u] += n
	c.eq({r["item"]: r["count"] for r in sec["top_users"] if r["detail"] == "auth failures"},
	    dict(per_user), "summary: failed logins per user")
	c.eq(sec["decisions"], [], "summary: no policy decisions in the corpus")
	probs = collections.Counter()
	for r in sec["problems"]:
		probs[r["item"]] += r["count"]
	g = exp["global_events_without_client_ip"]
	c.within(probs["fatal"], g["smtpd_fatal_hostaddr"], "summary: smtpd fatals")
	c.within(probs["process_exit"], g["master_exit_status"], "summary: master exits")
	c.within(probs["service_throttled"], g["master_throttling"], "summary: throttling")
	c.within(probs["proxy_error"], badd(badd(g["haproxy_read_warning"],
	    g["getpeername_warning"]), tot["dovecot_haproxy_error"]), "summary: PROXY errors")
	c.eq(probs["rate_limit"], sum(tot.get("rate:" + k, 0) for k in ("conn", "conc", "msg",
	    "auth")), "summary: rate limits")
	short = R.json(["summary"] + PERIOD)
	c.eq(len([r for r in short if r["section"] == "top_clients"]), 20,
	    "summary: top lists have 10 rows by default")
	return rows


def expected_per_ip(exp, f):
	"""{address: counter} of the addresses where f is not 0; not smtpd's unknown[unknown]"""
	out = {}
	for ip, d in exp["per_ip"].items():
		if ip == "unknown":
			continue
		v = f(d["counters"])
		if bounds(v) != (0, 0):
			out[ip] = v
	return out


def check_top(c, R, exp, truth):
	def ipsum(keys, prefix=()):
		def f(ctr):
			t = (0, 0)
			for k, v in ctr.items():
				if k in keys or any(k.startswith(p) for p in prefix):
					t = badd(t, v)
			return t
		return f
	want_af = expected_per_ip(exp, ipsum({"smtp_auth_fail", "imap_auth_fail"}))
	got = {r["key"]: r["count"] for r in R.json(["top", "--limit", "0"] + PERIOD)}
	c.eq(sorted(got), sorted(want_af), "top auth-failures: the addresses")
	for ip, v in want_af.items():
		c.within(got.get(ip, 0), v, "top auth-failures: %s" % ip)
	ranked = sorted(((bounds(v)[0], ip) for ip, v in want_af.items()),
	    key=lambda t: (-t[0], t[1]))
	top10 = R.json(["top"] + PERIOD)
	c.eq([(r["count"], r["key"]) for r in top10], ranked[:10],
	    "top auth-failures: the default ten, most first, ties by address")
	c.ok(all(isinstance(r["count"], int) for r in top10), "top: counts are JSON integers")

	want_conn = expected_per_ip(exp, lambda ctr: ctr.get("connections", 0))
	got = {r["key"]: r["count"] for r in R.json(["top", "--by", "connections", "--limit", "0"] +
	    PERIOD)}
	c.eq(sorted(got), sorted(want_conn), "top connections: the addresses")
	for ip, v in want_conn.items():
		c.within(got.get(ip, 0), v, "top connections: %s" % ip)
	c.within(sum(got.values()), badd(exp["totals"]["connections"],
	    exp["per_ip"]["unknown"]["counters"]["connections"], -1),
	    "top connections: the total but the sessions without address")

	want_rej = expected_per_ip(exp, ipsum({"ps_noqueue"}, ("smtpd_noqueue:",
	    "smtpd_reject_queued:")))
	got = {r["key"]: r["count"] for r in R.json(["top", "--by", "rejects", "--limit", "0"] +
	    PERIOD)}
	c.eq(got, {ip: bounds(v)[0] for ip, v in want_rej.items()}, "top rejects: per address")

	for by, want in (("auth-failures", want_af), ("connections", want_conn)):
		nets = collections.defaultdict(lambda: (0, 0))
		for ip, v in want.items():
			nets[net_of(ip)] = badd(nets[net_of(ip)], v)
		got = {r["key"]: r["count"] for r in R.json(["top", "--by", by, "--group", "net",
		    "--limit", "0"] + PERIOD)}
		c.eq(sorted(got), sorted(k for k, v in nets.items() if bounds(v)[1] > 0),
		    "top %s --group net: the networks (/24, /64)" % by)
		for n, v in nets.items():
			c.within(got.get(n, 0), v, "top %s --group net: %s" % (by, n))
	c.ok(any(":" in k for k in got), "top --group net has IPv6 /64 networks")

	fails, logins = truth_auth(truth)
	per_user = collections.Counter()
	for (u, ip, p), n in fails.items():
		per_user[u] += n
	got = {r["key"]: r["count"] for r in R.json(["top", "--group", "user", "--limit", "0"] +
	    PERIOD)}
	c.eq(got, dict(per_user), "top --group user: failures per user")


def check_user(c, R, truth):
	fails, logins = truth_auth(truth)
	users = sorted({k[0] for k in fails} | {k[0] for k in logins})
	c.ok(len(users) >= 6, "user: the corpus has users")
	for u in users:
		rows = R.json(["user", u, "--limit", "0"] + PERIOD)
		got = {(r["client_ip"], r["protocol"]): (r["logins"], r["failures"]) for r in rows}
		want = {}
		for (uu, ip, p), n in fails.items():
			if uu == u:
				want[(ip, p)] = (0, n)
		for (uu, ip, p), n in logins.items():
			if uu == u:
				want[(ip, p)] = (n, want.get((ip, p), (0, 0))[1])
		c.eq(got, want, "user %s: logins and failures per address and protocol" % u)
		c.eq([r["failures"] for r in rows], sorted((r["failures"] for r in rows), reverse=True),
		    "user %s: most failures first" % u)


def check_ip(c, R, exp):
	per_ip = exp["per_ip"]
	# IPv4 addresses are matched as ::ffff:a.b.c.d: ::/0 is every client
	rows = R.json(["ip", "::/0", "--limit", "0"] + PERIOD)
	c.eq(len(R.json(["ip", "0.0.0.0/0", "--limit", "0"] + PERIOD)),
	    len([r for r in rows if "." in r["client_ip"]]), "ip 0.0.0.0/0: the IPv4 clients")
	seen = collections.defaultdict(collections.Counter)
	for r in rows:
		seen[r["client_ip"]][r["event"]] += 1
	for ip, d in per_ip.items():
		if ip == "unknown":
			continue
		ctr = d["counters"]
		c.within(seen[ip]["connect"], badd(ctr.get("ps_connect", 0), ctr.get("smtpd_connect",
		    0)), "ip %s: connect events" % ip)
		rej = (0, 0)
		for k, v in ctr.items():
			if k == "ps_noqueue" or k.startswith("smtpd_noqueue:") or \
			    k.startswith("smtpd_reject_queued:"):
				rej = badd(rej, v)
		c.within(seen[ip]["reject"], rej, "ip %s: rejects" % ip)
		c.within(seen[ip]["postscreen_pass_new"], ctr.get("ps_verdict:PASS NEW", 0),
		    "ip %s: PASS NEW" % ip)
		c.within(seen[ip]["auth_lookup_failure"], badd(ctr.get("imap_auth_fail", 0),
		    ctr.get("dovecot_auth_fail_smtp", 0)), "ip %s: Dovecot auth-process failures" % ip)
	for ip in exp["never_client_ips"]:
		c.eq(R.json(["ip", ip] + PERIOD), [], "ip %s (never a client) has no timeline" % ip)
	for net in ("192.0.2.0/24", "198.51.100.128/25", "2001:db8::/32", "2001:db8:8000::/33",
	    "127.0.0.0/8", "::1", "203.0.113.193"):
		n = ipaddress.ip_network(net)
		want = sorted(ip for ip in per_ip if ip != "unknown" and
		    ipaddress.ip_address(ip) in n and ip in seen)
		got = sorted({r["client_ip"] for r in R.json(["ip", net, "--limit", "0"] + PERIOD)})
		c.eq(got, want, "ip %s: exactly the addresses in it" % net)
	full = R.json(["ip", "203.0.113.193", "--limit", "0"] + PERIOD)
	last5 = R.json(["ip", "203.0.113.193", "--limit", "5"] + PERIOD)
	c.eq(last5, full[-5:], "ip --limit 5: the last five rows, oldest first")
	c.eq([r["time"] for r in full], sorted(r["time"] for r in full), "ip: oldest first")


def add_decisions(c, db):
	"""policy decisions for the policy report; None when the schema has none"""
	con = sqlite3.connect(db)
	try:
		if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'decisions'").fetchall():
			return False
		rows = [
			(1795314185.5, "auth-flood", "DEFER too many failed logins", 0, None,
			 "203.0.113.193", "heidi@example.net"),
			(1795314190.25, "auth-flood", "DEFER too many failed logins", 0, None,
			 "203.0.113.193", None),
			(1795314191.0, "auth-flood", "DEFER too many failed logins", 0, None,
			 "192.0.2.135", None),
			(1795314200.0, "new-net", "REJECT not from here, sorry", 1, None,
			 "203.0.113.193", None),
			(1795314210.0, None, "DUNNO", 0, "Cannot allocate memory", "198.51.100.7",
			 None),
			(1795400000.0, "auth-flood", "DEFER too many failed logins", 0, None,
			 "203.0.113.193", None),	# the next day: outside the period
		]
		con.executemany("INSERT INTO decisions (ts, rule, action, dry_run, error, request,"
		    " client_address, sasl_username) VALUES (?, ?, ?, ?, ?, 'smtpd_access_policy',"
		    " ?, ?)", rows)
		con.commit()
		return True
	finally:
		con.close()


def check_policy(c, R, db):
	rows = R.json(["policy"] + PERIOD, db=db)
	c.eq([(r["rule"], r["action"], r["mode"], r["decisions"], r["clients"]) for r in rows],
	    [("auth-flood", "DEFER too many failed logins", "enforced", 3, 2),
	     (None, "DUNNO", "error", 1, 1),
	     ("new-net", "REJECT not from here, sorry", "dry-run", 1, 1)],
	    "policy: decisions by rule, action and mode")
	c.eq(rows[0]["first"], "2026-11-22T02:23:05Z", "policy: first decision time")
	s = [r for r in R.json(["summary"] + PERIOD, db=db) if r["section"] == "decisions"]
	c.eq([(r["item"], r["detail"], r["count"]) for r in s],
	    [("auth-flood", "DEFER too many failed logins", 3),
	     ("(error)", "DUNNO", 1),
	     ("new-net", "REJECT not from here, sorry (dry run)", 1)],
	    "summary: policy decisions by rule and action")
	t = [r for r in R.json(["ip", "203.0.113.193"] + PERIOD, db=db) if r["event"] == "decision"]
	c.eq([(r["time"], r["listener"], r["user"], r["detail"]) for r in t],
	    [("2026-11-22T02:23:05Z", "policy", "heidi@example.net",
	      "auth-flood: DEFER too many failed logins"),
	     ("2026-11-22T02:23:10Z", "policy", None, "auth-flood: DEFER too many failed logins"),
	     ("2026-11-22T02:23:20Z", "policy", None,
	      "new-net: REJECT not from here, sorry (dry run)")],
	    "ip: the decisions a client received, in its timeline")
	c.eq([(r["key"], r["count"]) for r in R.json(["top", "--by", "decisions"] + PERIOD, db=db)],
	    [("203.0.113.193", 3), ("192.0.2.135", 1), ("198.51.100.7", 1)],
	    "top --by decisions")
	c.eq([(r["key"], r["count"]) for r in R.json(["top", "--by", "decisions", "--group",
	    "user"] + PERIOD, db=db)], [("heidi@example.net", 1)], "top --by decisions --group user")


def check_old_schema(c, R, work, db):
	old = os.path.join(work, "v1.db")
	shutil.copy(db, old)
	con = sqlite3.connect(old)
	con.execute("DROP TABLE IF EXISTS decisions")
	con.execute("PRAGMA user_version = 1")
	con.commit()
	con.close()
	rc, out, err = R.run(["policy", "--format", "json"] + PERIOD + ["--db", old], db=False)
	c.eq((rc, out), (0, "[]\n"), "a schema-1 database: policy report is empty, exit 0")
	c.ok("no decisions table" in err, "a schema-1 database: a note says why", err)
	rc, out, err = R.run(["summary", "--format", "json"] + PERIOD + ["--db", old], db=False)
	c.eq(rc, 0, "a schema-1 database: summary runs")
	rc, out, err = R.run(["summary", "--format", "json"] + PERIOD + ["--db", old], db=False)
	con = sqlite3.connect(old)
	c.eq(con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'decisions'").fetchone(),
	    (0,), "a schema-1 database stays unchanged (the stand-in is TEMP)")
	con.close()


def check_by_hand(c, R, srcdir, db, cases):
	for report, args, params in cases:
		mine = R.json([report] + args + PERIOD, db=db)
		p = dict(params, **{"from": FROM_S, "to": TO_S})
		hand = by_hand(srcdir, db, report, p)
		c.eq(hand, mine, "sqlite3 < sql/reports/%s.sql %s gives the command's rows" % (
		    report, " ".join(args)))


def check_cte_blocks(c, srcdir):
	blocks = collections.defaultdict(dict)
	d = os.path.join(srcdir, "sql", "reports")
	for f in sorted(os.listdir(d)):
		text = open(os.path.join(d, f)).read()
		for m in re.finditer(r"^-- BEGIN cte (\w+)\n(.*?)^-- END cte \1\n", text, re.S | re.M):
			blocks[m.group(1)][f] = m.group(2)
	for name, files in sorted(blocks.items()):
		c.ok(len(set(files.values())) == 1, "the CTE block %s is the same in %s" % (
		    name, ", ".join(sorted(files))))
	c.eq(sorted(blocks), ["addr", "authfail", "conn", "net"], "the shared CTE blocks")


def check_never_blocks(c, R, db):
	"""a writer in the middle of its transaction neither blocks nor shows in a report"""
	import hashlib
	import time
	before = hashlib.sha256(open(db, "rb").read()).hexdigest()
	rc, want, err = R.run(["summary", "--format", "csv"] + PERIOD)
	con = sqlite3.connect(db, isolation_level=None, timeout=1)
	try:
		con.execute("BEGIN IMMEDIATE")
		con.execute("INSERT INTO events (ts, event, daemon, client_ip) VALUES "
		    "(1795314300, 'auth_failure', 'smtpd', '192.0.2.1')")
		t = time.monotonic()
		rc, out, err = R.run(["summary", "--format", "csv"] + PERIOD)
		c.ok(rc == 0 and time.monotonic() - t < 5, "a report runs while a writer holds its "
		    "transaction", "exit %d after %.1f s: %s" % (rc, time.monotonic() - t, err))
		c.eq(out, want, "a report does not see an uncommitted transaction")
		con.execute("ROLLBACK")
	finally:
		con.close()
	c.eq(hashlib.sha256(open(db, "rb").read()).hexdigest(), before,
	    "reports leave the database file as it was")


def check_man_example(c, srcdir, db, exp):
	"""the query of mxledger(8) "report" that shows how to write your own"""
	man = open(os.path.join(srcdir, "man", "mxledger.8")).read()
	m = re.search(r"^\$ cat > authfail-hourly.sql <<'EOF'\n(.*?)^EOF$", man, re.S | re.M)
	if not c.ok(m is not None, "mxledger(8) has the authfail-hourly.sql example"):
		return
	p = subprocess.run(["sqlite3", "-readonly", "-json", "-cmd", ".parameter set :from %d" %
	    FROM_S, "-cmd", ".parameter set :to %d" % TO_S, db], input=m.group(1).encode(),
	    capture_output=True, timeout=TIMEOUT)
	rows = json.loads(p.stdout.decode() or "[]")
	dovecot = sum(r["attempts"] for r in events_where(db, "event = 'auth_failure' AND "
	    "daemon = 'dovecot'"))
	c.eq(rows, [{"hour": "2026-11-22 02:00", "protocol": "imap", "failures": dovecot},
	    {"hour": "2026-11-22 02:00", "protocol": "smtp",
	     "failures": exp["totals"]["smtp_auth_fail"]}],
	    "the man page's example query runs and counts " + p.stderr.decode())


def events_where(db, cond):
	con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
	con.row_factory = sqlite3.Row
	try:
		return [dict(r) for r in con.execute("SELECT * FROM events WHERE " + cond)]
	finally:
		con.close()


def check_cli(c, R, work):
	cases = [
		(64, ["frobnicate"], "an unknown report"),
		(64, [], "no report"),
		(64, ["summary", "--no-such-option"], "an unknown option"),
		(64, ["summary", "--format", "xml"], "an unknown format"),
		(64, ["summary", "--since", "3 days"], "a bad duration"),
		(64, ["summary", "--since", "1h", "--from", FROM], "--since with --from"),
		(64, ["summary", "--from", "2026-02-30"], "a date that does not exist"),
		(64, ["summary", "--to", TO], "--to without --from"),
		(64, ["summary", "--from", TO, "--to", FROM], "a period that ends before it begins"),
		(64, ["summary", "--limit", "-1"], "a negative limit"),
		(64, ["summary", "--by", "rejects"], "--by with another report than top"),
		(64, ["top", "--by", "bytes"], "an unknown --by"),
		(64, ["top", "--group", "asn"], "an unknown --group"),
		(64, ["top", "--by", "connections", "--group", "user"], "connections by user"),
		(64, ["ip"], "ip without an address"),
		(64, ["ip", "203.0.113.300"], "ip with a bad address"),
		(64, ["ip", "2001:db8::/129"], "ip with a bad prefix length"),
		(64, ["user"], "user without a name"),
		(64, ["listeners", "--internal-networks", "10.0.0.0/8,bogus"], "bad internal networks"),
		(64, ["summary", "extra"], "an extra argument"),
	]
	for want, args, what in cases:
		rc, out, err = R.run(args)
		c.eq(rc, want, "exit %d for %s" % (want, what))
		c.ok(want != 64 or "mxledger: report:" in err or "usage:" in err,
		    what + ": says why on stderr", err[:200])
	rc, out, err = R.run(["summary", "--db", os.path.join(work, "missing.db")], db=False)
	c.eq(rc, 66, "exit 66 for a missing database")
	open(os.path.join(work, "empty.db"), "w").close()
	rc, out, err = R.run(["summary", "--db", os.path.join(work, "empty.db")], db=False)
	c.eq(rc, 66, "exit 66 for an empty file as database")
	rc, out, err = R.run(["--help"], db=False)
	c.ok(rc == 0 and "usage: mxledger report" in out, "--help prints the usage, exit 0")


def check_times(c, R):
	whole = R.json(["summary", "--limit", "0"] + PERIOD)
	for env, args, what in (
		({"MXLEDGER_FAKE_NOW": "2026-11-22T03:00:00Z"}, ["--since", "1h"], "--since 1h"),
		({"MXLEDGER_FAKE_NOW": "2026-11-22T03:00:00Z"}, ["--since", "45m30s"],
		 "--since 45m30s"),
		({"MXLEDGER_FAKE_NOW": "2026-11-23T00:00:00Z"}, [], "the default --since 24h"),
		({}, ["--from", "2026-11-22T02:00:00+00:00", "--to", "2026-11-22 03:00"],
		 "--from RFC 3339 --to local time"),
		({}, ["--from", "2026-11-22T03:22:00+01:00", "--to", "@1795314600"],
		 "--from with an offset --to @SECONDS"),
		({"TZ": "Europe/Berlin"}, ["--from", "2026-11-22 03:00", "--to", "2026-11-22 04:00"],
		 "local times in TZ"),
	):
		rc, out, err = R.run(["summary", "--limit", "0", "--format", "json"] + args, env=env)
		c.ok(rc == 0 and json.loads(out) == whole, what + " selects the whole corpus", err)
	rc, out, err = R.run(["summary", "--format", "json", "--from", "2026-11-22T02:24:00Z",
	    "--to", "2026-11-22T02:24:00.5Z"])
	c.eq(rc, 0, "fractional seconds in --to")
	part = R.json(["ip", "::/0", "--from", "2026-11-22T02:23:59Z", "--to",
	    "2026-11-22T02:24:01Z", "--limit", "0"])
	c.ok(part and all(r["time"] in ("2026-11-22T02:23:59Z", "2026-11-22T02:24:00Z")
	    for r in part), "--from/--to: from <= ts < to", repr(part[:2]))
	rc, out, err = R.run(["summary", "--format", "json"],
	    env={"MXLEDGER_FAKE_NOW": "2026-11-25T00:00:00Z"})
	c.eq((rc, out), (0, "[]\n"), "a period without events: an empty JSON array")


def main():
	if len(sys.argv) != 4:
		print("usage: report.py MXLEDGER SRCDIR WORKDIR", file=sys.stderr)
		return 2
	mx, srcdir, work = sys.argv[1:]
	data = os.path.join(srcdir, "tests", "data")
	db = os.path.join(work, "mx.db")
	exp = json.load(open(os.path.join(data, "real-sample-expected.json")))
	truth = [json.loads(l) for l in open(os.path.join(data, "real-sample-truth.jsonl"))]
	p = subprocess.run([mx, "ingest", "--quiet", "--year", "2026", "--db", db,
	    os.path.join(data, "real-sample-mail.log")], capture_output=True, timeout=TIMEOUT,
	    env=dict(os.environ, TZ="UTC"))
	if p.returncode != 0:
		print("mxledger ingest failed: %s" % p.stderr.decode())
		return 77 if p.returncode == 126 else 1
	c = Checks()
	R = Runner(mx, db)
	check_summary(c, R, exp, truth)
	check_top(c, R, exp, truth)
	check_user(c, R, truth)
	check_ip(c, R, exp)
	check_cli(c, R, work)
	check_never_blocks(c, R, db)
	check_man_example(c, srcdir, db, exp)
	check_times(c, R)
	check_cte_blocks(c, srcdir)
	check_old_schema(c, R, work, db)

	ddb = os.path.join(work, "decisions.db")
	shutil.copy(db, ddb)
	have_decisions = add_decisions(c, ddb)
	if have_decisions:
		check_policy(c, R, ddb)
	else:
		print("# the database has no decisions table: policy decisions not checked")
	fmt_db = ddb if have_decisions else db
	R2 = Runner(mx, fmt_db)
	for args, what, hidden in (
		(["summary"], "summary", None),
		(["summary", "--limit", "0"], "summary --limit 0", None),
		(["ip", "203.0.113.193"], "ip ADDR", "client_ip"),
		(["ip", "198.51.100.0/24", "--limit", "0"], "ip CIDR", None),
		(["ip", "2001:db8::/32"], "ip IPv6 CIDR", None),
		(["user", "heidi@example.net"], "user", None),
		(["top"], "top", None),
		(["top", "--by", "connections", "--group", "net", "--limit", "0"], "top net", None),
		(["top", "--by", "rejects"], "top rejects", None),
		(["top", "--by", "decisions"], "top decisions", None),
		(["listeners"], "listeners", None),
		(["listeners", "--internal-networks", "198.51.100.0/24,2001:db8::/32"],
		 "listeners --internal-networks", None),
		(["policy"], "policy", None),
	):
		check_formats(c, R2, args + PERIOD, what, hidden)
	if not have_decisions:
		print("# by hand: skipped, sql/reports/ need the decisions table (schema 2)")
	check_by_hand(c, R2, srcdir, fmt_db, [] if not have_decisions else [
		("summary", [], {"limit": 10}),
		("summary", ["--limit", "0"], {"limit": 0}),
		("ip", ["203.0.113.193"], {"net": "203.0.113.193", "limit": 1000}),
		("ip", ["2001:db8::/32", "--limit", "3"], {"net": "2001:db8::/32", "limit": 3}),
		("user", ["frank@example.net"], {"user": "frank@example.net", "limit": 10}),
		("top", [], {"by": "auth-failures", "group": "ip", "limit": 10}),
		("top", ["--by", "connections", "--group", "net"],
		 {"by": "connections", "group": "net", "limit": 10}),
		("top", ["--by", "decisions", "--group", "user"],
		 {"by": "decisions", "group": "user", "limit": 10}),
		("listeners", [], {"internal": "127.0.0.0/8,::1/128"}),
		("listeners", ["--internal-networks", "198.51.100.0/25"],
		 {"internal": "198.51.100.0/25"}),
		("policy", [], {"limit": 0}),
	])

	# listeners: the internal share from the truth, with the default networks
	loop = lambda ip: ipaddress.ip_address(ip).is_loopback
	inside = truth_listener_sessions(truth, loop)
	total = truth_listener_sessions(truth)
	rows = R.json(["listeners"] + PERIOD)
	for r in rows:
		c.within(r["connections"], total.get(r["listener"], 0), "listeners: sessions on %s" %
		    r["listener"])
		c.within(r["internal"], inside.get(r["listener"], 0),
		    "listeners: sessions from loopback on %s" % r["listener"])
		c.eq(r["internal_pct"], round(100.0 * r["internal"] / r["connections"], 1),
		    "listeners: internal_pct of %s" % r["listener"])
	errs = {r["listener"]: r["proxy_errors"] for r in rows}
	c.eq(errs.get("imap-login"), exp["totals"]["dovecot_haproxy_error"],
	    "listeners: Dovecot haproxy errors")
	c.eq(sum(r["fatals"] for r in rows), sum(r["count"] for r in R.json(["summary"] + PERIOD)
	    if r["section"] == "problems" and r["item"] == "fatal"), "listeners: fatals")

	print("report: %d checks, %d failed" % (c.n, c.failed))
	return 1 if c.failed else 0


if __name__ == "__main__":
	sys.exit(main())
