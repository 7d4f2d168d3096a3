#!/usr/bin/env python3
"""
NAME
	policy_ask.py - one Postfix policy request on a fresh loopback connection
SYNOPSIS
	policy_ask.py PORT CLIENT [STATE [RECIPIENT]]
DESCRIPTION
	Connects to 127.0.0.1:PORT, sends one smtpd_access_policy request for
	client_address CLIENT in protocol_state STATE (default RCPT), from
	a@example.net to RECIPIENT (default b@example.org; "-" sends no
	recipient line), and prints the first line of the answer ("action=...").
	Prints what it got so far if the server closes early; exits 1 if it
	cannot connect. Five seconds per socket operation. Standard library only.
"""

import socket
import sys


def main():
	if len(sys.argv) not in (3, 4, 5):
		sys.stderr.write("usage: policy_ask.py PORT CLIENT [STATE [RECIPIENT]]\n")
		return 64
	state = sys.argv[3] if len(sys.argv) > 3 else "RCPT"
	rcpt = sys.argv[4] if len(sys.argv) > 4 else "b@example.org"
	req = ("request=smtpd_access_policy\nprotocol_state=%s\nclient_address=%s\n"
	       "client_name=unknown\nsender=a@example.net\n" % (state, sys.argv[2]))
	if rcpt != "-":
		req += "recipient=%s\n" % rcpt
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
	s.sendall((req + "\n").encode())
	buf = b""
	while not buf.endswith(b"\n\n"):
		chunk = s.recv(4096)
		if not chunk:
			break
		buf += chunk
	print(buf.decode().split("\n")[0])
	return 0


if __name__ == "__main__":
	sys.exit(main())
