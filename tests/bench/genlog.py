#!/usr/bin/env python3
"""
NAME
	genlog.py - write a large, realistic Postfix/Dovecot mail log for benchmarks
SYNOPSIS
	genlog.py LINES [SEED] > mail.log
DESCRIPTION
	Writes at least LINES lines of BSD syslog (Nov 22 00:00:00 onwards, host
	"mx1", year 2026 implied) built from the message shapes of the real-sample
	corpus (tests/data/real-sample-mail.log): whole sessions rather than
	independent lines, so the mix looks like a busy MX behind postscreen:

	  - bots: postscreen CONNECT + PREGREET/HANGUP/DNSBL/COMMAND ... +
	    DISCONNECT, some with NOQUEUE rejects;
	  - good MTAs: CONNECT, PASS OLD/NEW, smtpd connect, TLS, client=,
	    cleanup message-id, qmgr from=/removed, virtual delivery, disconnect;
	  - rejected senders: smtpd NOQUEUE reject (relay, unknown user, helo);
	  - submission: SASL failures and successes, rate-limit warnings;
	  - Dovecot: imap-login Login / auth failed / no auth attempts, auth
	    process passwd-file lines; anvil statistics now and then.

	Client addresses come from 198.18.0.0/15 (RFC 2544, benchmarking) and
	2001:db8::/32, drawn so that a few addresses are frequent and most are
	rare. Deterministic for a given SEED. Standard library only.
"""

import random
import sys

MONTH = "Nov"
DAY = 22


def main():
	want = int(sys.argv[1])
	rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
	out = sys.stdout
	buf = []
	n = 0
	t = [0.0]		# seconds since midnight, grows with every line
	step = 86000.0 / max(want, 1)
	pid = {"ps": 1100, "smtpd": 2000, "sub": 3000, "cleanup": 4000, "qmgr": 1010,
	    "virtual": 5000, "anvil": 1020}
	qn = [0x1A2B3C4D5E]
	hot = [rand_ip(rng) for _ in range(200)]

	def stamp():
		s = min(int(t[0]), 86399)
		return "%s %2d %02d:%02d:%02d mx1 " % (MONTH, DAY, s // 3600 % 24, s // 60 % 60, s % 60)

	def emit(tag, msg):
		nonlocal n
		t[0] += step * rng.uniform(0.0, 2.0)
		buf.append(stamp() + tag + ": " + msg + "\n")
		n += 1

	def qid():
		qn[0] += rng.randrange(1, 5000)
		return "%X" % qn[0]

	while n < want:
		ip = rng.choice(hot) if rng.random() < 0.3 else rand_ip(rng)
		port = rng.randrange(1024, 65535)
		kind = rng.random()
		ps = "postfix/postscreen[%d]" % pid["ps"]
		sd = "postfix/smtpd[%d]" % pid["smtpd"]
		if kind < 0.35:
			bot_session(rng, emit, ps, ip, port)
		elif kind < 0.60:
			good_session(rng, emit, ps, sd, ip, port, qid, pid)
		elif kind < 0.72:
			reject_session(rng, emit, ps, sd, ip, port)
		elif kind < 0.82:
			submission_session(rng, emit, ip, qid, pid)
		else:
			dovecot_session(rng, emit, ip)
		if rng.random() < 0.01:
			emit("postfix/anvil[%d]" % pid["anvil"],
			    "statistics: max connection rate %d/60s for (smtpd:%s) at %s"
			    % (rng.randrange(1, 30), ip, stamp()[:15]))
		if rng.random() < 0.02:
			pid["smtpd"] += 1
		if len(buf) >= 4096:
			out.write("".join(buf))
			buf.clear()
	out.write("".join(buf))


def rand_ip(rng):
	if rng.random() < 0.1:
		return "2001:db8:%x:%x::%x" % (rng.randrange(65536), rng.randrange(65536),
		    rng.randrange(1, 65536))
	return "198.%d.%d.%d" % (rng.choice((18, 19)), rng.randrange(256), rng.randrange(1, 255))


def bot_session(rng, emit, ps, ip, port):
	emit(ps, "CONNECT from [%s]:%d to [192.0.2.25]:25" % (ip, port))
	r = rng.random()
	if r < 0.35:
		emit(ps, "PREGREET 11 after 0.%d from [%s]:%d: EHLO User\\r\\n" % (rng.randrange(99), ip, port))
	elif r < 0.55:
		emit(ps, "DNSBL rank %d for [%s]:%d" % (rng.randrange(2, 8), ip, port))
	elif r < 0.70:
		emit(ps, "COMMAND PIPELINING from [%s]:%d after MAIL: RCPT TO:<frank@example.net>\\r\\n" % (ip, port))
		emit(ps, "NOQUEUE: reject: RCPT from [%s]:%d: 550 5.5.1 Protocol error; from=<promo@offers.example>, "
		    "to=<frank@example.net>, proto=ESMTP, helo=<User>" % (ip, port))
	elif r < 0.80:
		emit(ps, "COMMAND TIME LIMIT from [%s]:%d after CONNECT" % (ip, port))
	elif r < 0.90:
		emit(ps, "PASS NEW [%s]:%d" % (ip, port))
		emit(ps, "NOQUEUE: reject: RCPT from [%s]:%d: 450 4.3.2 Service currently unavailable; "
		    "from=<sender@relay.example>, to=<frank@example.net>, proto=ESMTP, helo=<mail.relay.example>"
		    % (ip, port))
	emit(ps, "HANGUP after %d.%d from [%s]:%d in tests after SMTP handshake" %
	    (rng.randrange(10), rng.randrange(10), ip, port))
	emit(ps, "DISCONNECT [%s]:%d" % (ip, port))


def good_session(rng, emit, ps, sd, ip, port, qid, pid):
	emit(ps, "CONNECT from [%s]:%d to [192.0.2.25]:25" % (ip, port))
	emit(ps, "PASS OLD [%s]:%d" % (ip, port))
	emit(sd, "connect from mail-%d.relay.example[%s]" % (port, ip))
	emit(sd, "Anonymous TLS connection established from mail-%d.relay.example[%s]: TLSv1.3 with "
	    "cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature "
	    "RSA-PSS (2048 bits) server-digest SHA256" % (port, ip))
	msgs = 1 if rng.random() < 0.9 else rng.randrange(2, 5)
	for _ in range(msgs):
		q = qid()
		emit(sd, "%s: client=mail-%d.relay.example[%s]" % (q, port, ip))
		emit("postfix/cleanup[%d]" % pid["cleanup"], "%s: message-id=<%x@relay.example>" % (q, rng.getrandbits(48)))
		emit("postfix/qmgr[%d]" % pid["qmgr"], "%s: from=<news@relay.example>, size=%d, nrcpt=1 (queue active)" %
		    (q, rng.randrange(800, 90000)))
		emit("postfix/virtual[%d]" % pid["virtual"], "%s: to=<frank@example.net>, relay=virtual, delay=0.03, "
		    "delays=0.02/0.01/0/0, dsn=2.0.0, status=sent (delivered to maildir)" % q)
		emit("postfix/qmgr[%d]" % pid["qmgr"], "%s: removed" % q)
	emit(sd, "disconnect from mail-%d.relay.example[%s] ehlo=2 starttls=1 mail=%d rcpt=%d data=%d "
	    "quit=1 commands=%d" % (port, ip, msgs, msgs, msgs, 4 + 3 * msgs))


def reject_session(rng, emit, ps, sd, ip, port):
	emit(ps, "CONNECT from [%s]:%d to [192.0.2.25]:25" % (ip, port))
	emit(ps, "PASS OLD [%s]:%d" % (ip, port))
	emit(sd, "connect from unknown[%s]" % ip)
	r = rng.random()
	if r < 0.4:
		emit(sd, "NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 <bob@corp.example>: Relay access "
		    "denied; from=<promo@offers.example> to=<bob@corp.example> proto=ESMTP helo=<x.example>" % ip)
	elif r < 0.8:
		emit(sd, "NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <root@example.net>: Recipient address "
		    "rejected: User unknown in virtual mailbox table; from=<promo@offers.example> "
		    "to=<root@example.net> proto=ESMTP helo=<x.example>" % ip)
	else:
		emit(sd, "NOQUEUE: reject: RCPT from unknown[%s]: 504 5.5.2 <User>: Helo command rejected: need "
		    "fully-qualified hostname; from=<promo@offers.example> to=<frank@example.net> proto=SMTP "
		    "helo=<User>" % ip)
	if rng.random() < 0.3:
		emit(sd, "lost connection after RCPT from unknown[%s]" % ip)
	emit(sd, "disconnect from unknown[%s] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4" % ip)


def submission_session(rng, emit, ip, qid, pid):
	sub = "postfix/submission/smtpd[%d]" % pid["sub"]
	emit(sub, "connect from unknown[%s]" % ip)
	if rng.random() < 0.7:
		fails = rng.randrange(1, 4)
		for _ in range(fails):
			emit(sub, "warning: unknown[%s]: SASL LOGIN authentication failed: (reason unavailable), "
			    "sasl_username=%s@example.net" % (ip, rng.choice(("admin", "info", "office", "root"))))
			emit("dovecot", "auth: passwd-file(office@example.net,%s): unknown user" % ip)
		if rng.random() < 0.1:
			emit(sub, "warning: AUTH command rate limit exceeded: 7 from unknown[%s] for service submission" % ip)
		emit(sub, "disconnect from unknown[%s] ehlo=1 auth=0/%d quit=1 commands=2/%d" % (ip, fails, 2 + fails))
	else:
		q = qid()
		emit(sub, "%s: client=unknown[%s], sasl_method=PLAIN, sasl_username=grace@example.net" % (q, ip))
		emit("postfix/cleanup[%d]" % pid["cleanup"], "%s: message-id=<%x@example.net>" % (q, rng.getrandbits(48)))
		emit("postfix/qmgr[%d]" % pid["qmgr"], "%s: removed" % q)
		emit(sub, "disconnect from unknown[%s] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 "
		    "commands=8" % ip)


def dovecot_session(rng, emit, ip):
	sess = "%016x" % rng.getrandbits(64)
	r = rng.random()
	if r < 0.5:
		emit("dovecot", "imap-login: Login: user=<frank@example.net>, method=PLAIN, rip=%s, "
		    "lip=192.0.2.143, mpid=%d, TLS, session=<%s>" % (ip, rng.randrange(1000, 99999), sess))
	elif r < 0.85:
		n = rng.randrange(1, 4)
		for _ in range(n):
			emit("dovecot", "auth: passwd-file(heidi@example.net,%s,<%s>): Password mismatch" % (ip, sess))
		emit("dovecot", "imap-login: Disconnected: Aborted login by logging out (auth failed, %d attempts "
		    "in %d secs): user=<heidi@example.net>, method=PLAIN, rip=%s, lip=192.0.2.143, TLS, "
		    "session=<%s>" % (n, rng.randrange(1, 30), ip, sess))
	else:
		emit("dovecot", "imap-login: Disconnected: Connection closed (no auth attempts in 0 secs): "
		    "user=<>, rip=%s, lip=192.0.2.143, session=<%s>" % (ip, sess))


if __name__ == "__main__":
	main()
