#!/usr/bin/env python3
"""
NAME
	logwriter.py - append a live mail log for mxledger to follow during the benchmark
SYNOPSIS
	logwriter.py SOURCE DEST RATE SECONDS
DESCRIPTION
	Appends the lines of SOURCE (BSD syslog lines as written by
	tests/bench/genlog.py) to DEST at RATE lines per second, in bursts every
	100 ms, for at most SECONDS seconds, starting SOURCE again when it runs
	out. Each line's time stamp (its first 16 characters, "Nov 22 00:00:00 ")
	is replaced by the current local time, so the events are live ones: the
	history rules of the policy benchmark count them in their windows. Each
	burst is one write(2) of whole lines, as syslog daemons write. Ends on
	SIGTERM or after SECONDS; prints the number of lines written to stderr.
	Standard library only.
"""

import os
import signal
import sys
import time


def main():
	if len(sys.argv) != 5:
		sys.stderr.write("usage: logwriter.py SOURCE DEST RATE SECONDS\n")
		return 64
	with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
		lines = [l[16:] for l in f if len(l) > 16]
	if not lines:
		sys.stderr.write("logwriter: %s has no lines\n" % sys.argv[1])
		return 1
	rate = max(1, int(sys.argv[3]))
	seconds = min(max(1, int(sys.argv[4])), 86400)
	per_tick = max(1, rate // 10)
	stop = [False]
	signal.signal(signal.SIGTERM, lambda s, f: stop.__setitem__(0, True))
	fd = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
	start = time.monotonic()
	pos = written = tick = 0
	while not stop[0] and time.monotonic() - start < seconds:
		stamp = time.strftime("%b %e %H:%M:%S ")
		chunk = []
		for _ in range(per_tick):
			chunk.append(stamp + lines[pos])
			pos = (pos + 1) % len(lines)
		os.write(fd, "".join(chunk).encode())
		written += per_tick
		tick += 1
		delay = start + tick * 0.1 - time.monotonic()
		if delay > 0:
			time.sleep(delay)
	os.close(fd)
	sys.stderr.write("logwriter: %d lines in %.1f s\n" % (written, time.monotonic() - start))
	return 0


if __name__ == "__main__":
	sys.exit(main())
