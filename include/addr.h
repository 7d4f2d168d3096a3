/*
 * NAME
 *	addr - client address forms shared by all parsers
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	int addr_canon(const char *s, size_t len, char *buf, size_t size);
 *	int addr_parse_namaddr(const char *s, size_t len, struct mx_addr *ret);
 *	int addr_set_client(struct mx_event *ev, const char *s, size_t len);
 *	int addr_set_namaddr(struct mx_event *ev, const char *s, size_t len);
 * DESCRIPTION
 *	Postfix writes a client as name[addr] or name[addr]:port (smtpd), or
 *	[addr]:port (postscreen); Dovecot as a bare address (rip=...). IPv6
 *	addresses appear bare inside the brackets, sometimes with an "IPv6:"
 *	prefix (smtpd_check references). The literal "unknown" stands for an
 *	address Postfix could not obtain (a peer that reset early).
 *
 *	addr_canon() validates an IPv4 or IPv6 literal with inet_pton() and
 *	writes its canonical text (lower-case, RFC 5952 compressed; IPv4-mapped
 *	IPv6 ::ffff:a.b.c.d becomes a.b.c.d) so the same client is always the
 *	same key. It returns the length, or -EINVAL for anything else.
 *
 *	addr_parse_namaddr() splits "name[addr]" / "name[addr]:port" /
 *	"[addr]:port" (s need not be NUL-terminated; trailing text after the
 *	designation is ignored and its offset returned in ret->end).
 *
 *	addr_set_client() canonicalises and stores client_ip ("unknown" and
 *	malformed addresses leave it unset and return 0 / -EINVAL);
 *	addr_set_namaddr() also stores client_name and client_port.
 * SEE ALSO
 *	inet_pton(3), RFC 5952
 */
#ifndef MX_ADDR_H
#define MX_ADDR_H

#include <stddef.h>

#include "event.h"

/* INET6_ADDRSTRLEN plus slack. */
#define MX_ADDR_MAX	64

struct mx_addr {
	const char *name;	/* points into s; may be empty ("[addr]:port") */
	size_t name_len;
	const char *ip;		/* points into s, without brackets or "IPv6:" */
	size_t ip_len;
	unsigned port;		/* 0 when absent */
	size_t end;		/* offset in s just past the designation */
};

int addr_canon(const char *s, size_t len, char *buf, size_t size);
int addr_parse_namaddr(const char *s, size_t len, struct mx_addr *ret);
int addr_set_client(struct mx_event *ev, const char *s, size_t len);
int addr_set_server(struct mx_event *ev, const char *s, size_t len);
int addr_set_namaddr(struct mx_event *ev, const char *s, size_t len);

#endif
