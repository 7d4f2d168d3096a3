/*
 * NAME
 *	addr - client address forms shared by all parsers
 * SYNOPSIS
 *	#include "addr.h"
 * DESCRIPTION
 *	See addr.h. Validation goes through inet_pton(), so "999.1.1.1",
 *	"1.2.3" or "[2001:db8::g]" never become a client address; the
 *	canonical text from inet_ntop() makes one client one key whatever
 *	the log wrote (upper-case hex, leading zeros, IPv4-mapped IPv6).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "addr.h"

/*
 * addr_canon_ipv4 - the dotted quad fast path: validate and write the
 * canonical form by hand (glibc's inet_ntop formats through snprintf, which
 * showed in profiles). Same rules as inet_pton: four decimal octets, no
 * leading zeros... except inet_pton accepts none either, so we match it.
 */
static int
addr_canon_ipv4(const char *s, size_t len, char *buf, size_t size)
{
	const char *p = s, *end = s + len;
	size_t n = 0;

	if (size < 16)
		return -ENOBUFS;
	for (int octet = 0; octet < 4; octet++) {
		unsigned v = 0, digits = 0;

		if (octet > 0) {
			if (p >= end || *p != '.')
				return -EINVAL;
			buf[n++] = *p++;
		}
		while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
			if (digits == 1 && v == 0)
				return -EINVAL;	/* leading zero: inet_pton refuses it */
			v = v * 10 + (unsigned)(*p - '0');
			buf[n++] = *p++;
			digits++;
		}
		if (digits == 0 || v > 255)
			return -EINVAL;
	}
	if (p != end)
		return -EINVAL;
	buf[n] = '\0';
	return (int)n;
}

/* addr_canon - validate an IP literal and write its canonical form */
int
addr_canon(const char *s, size_t len, char *buf, size_t size)
{
	char tmp[MX_ADDR_MAX];
	unsigned char bin[16];

	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	if (len > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
	}
	if (memchr(s, ':', len) == NULL)
		return addr_canon_ipv4(s, len, buf, size);
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	/* a zone index (fe80::1%eth0) is not part of a client address */
	if (inet_pton(AF_INET6, tmp, bin) != 1)
		return -EINVAL;
	if (memcmp(bin, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		if (inet_ntop(AF_INET, bin + 12, buf, (socklen_t)size) == NULL)
			return -ENOBUFS;
	} else if (inet_ntop(AF_INET6, bin, buf, (socklen_t)size) == NULL) {
		return -ENOBUFS;
	}
	return (int)strlen(buf);
}

/*
 * addr_parse_namaddr - split name[addr], name[addr]:port or [addr]:port.
 * The name is everything before the last '[' that starts the designation;
 * Postfix names never contain '[' (they are DNS names or "unknown").
 */
int
addr_parse_namaddr(const char *s, size_t len, struct mx_addr *ret)
{
	const char *lb, *rb, *end = s + len, *p;
	unsigned port = 0;

	lb = memchr(s, '[', len);
	if (lb == NULL)
		return -EINVAL;
	rb = memchr(lb, ']', (size_t)(end - lb));
	if (rb == NULL || rb == lb + 1)
		return -EINVAL;
	p = rb + 1;
	if (p < end && *p == ':' && p + 1 < end && p[1] >= '0' && p[1] <= '9') {
		p++;
		while (p < end && *p >= '0' && *p <= '9' && port <= 65535)
			port = port * 10 + (unsigned)(*p++ - '0');
		if (port > 65535)
			return -EINVAL;
	}
	ret->name = s;
	ret->name_len = (size_t)(lb - s);
	ret->ip = lb + 1;
	ret->ip_len = (size_t)(rb - lb - 1);
	ret->port = port;
	ret->end = (size_t)(p - s);
	return 0;
}

static int
addr_set(struct mx_event *ev, const char **field, const char *s, size_t len)
{
	char buf[MX_ADDR_MAX];
	int n;

	if (len == 7 && memcmp(s, "unknown", 7) == 0)
		return 0;
	n = addr_canon(s, len, buf, sizeof(buf));
	if (n < 0)
		return n;
	return event_set(ev, field, buf, (size_t)n);
}

/* addr_set_client - canonicalise and store client_ip */
int
addr_set_client(struct mx_event *ev, const char *s, size_t len)
{
	return addr_set(ev, &ev->client_ip, s, len);
}

/* addr_set_server - canonicalise and store server_ip */
int
addr_set_server(struct mx_event *ev, const char *s, size_t len)
{
	return addr_set(ev, &ev->server_ip, s, len);
}

/* addr_set_namaddr - client_name, client_ip and client_port from name[addr][:port] */
int
addr_set_namaddr(struct mx_event *ev, const char *s, size_t len)
{
	struct mx_addr a;
	int r;

	r = addr_parse_namaddr(s, len, &a);
	if (r < 0)
		return r;
	r = addr_set_client(ev, a.ip, a.ip_len);
	if (r < 0)
		return r;
	if (a.name_len > 0 && (r = event_set(ev, &ev->client_name, a.name, a.name_len)) < 0)
		return r;
	ev->client_port = a.port;
	return 0;
}
