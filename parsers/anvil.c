/*
 * NAME
 *	anvil - recognise anvil(8) statistics records
 * SYNOPSIS
 *	#include "parser.h"
 *
 *	int anvil_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 * DESCRIPTION
 *	anvil logs the peak of each counter every $anvil_status_update_time:
 *	"statistics: max connection rate 10/60s for (5587:203.0.113.172) at
 *	Nov 22 02:23:22" (also connection count, message, recipient, newtls,
 *	auth and tlstrace rates) and "statistics: max cache size 18 at ...".
 *	Each becomes one anvil_statistics event whose reason is the counter,
 *	its value and the service: "max connection rate 10/60s for 5587"
 *	("max cache size 18" has neither service nor client).
 *
 *	The parenthesised key is "service:address" and both halves may contain
 *	colons (service "127.0.0.1:2525", address "2001:db8::1"). The split is
 *	the leftmost colon after which a valid address (or the literal
 *	"unknown") follows and before which the service is not itself an IP
 *	address, so an IPv6 client keeps all its groups. A key that cannot be
 *	split that way is not an event. "fatal:"/"panic:" become fatal.
 * RETURNS
 *	1 with *ret_ev filled for a known event; 0 otherwise. Never logs, never
 *	allocates after the first call.
 * SEE ALSO
 *	event.h, tests/check_anvil_master.c, Postfix src/anvil/anvil.c
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "parser.h"
#include "pattern.h"

/*
 * Room for the reason: the counter text is at most ~50 bytes (the pattern
 * bounds the numbers); service names are master.cf names, cut at
 * ANVIL_SERVICE_MAX should one ever be longer.
 */
#define ANVIL_SERVICE_MAX	160
#define ANVIL_REASON_MAX	256

static struct mx_pattern *anvil_stat_re;
static int anvil_g_stat, anvil_g_key;
static pthread_once_t anvil_once = PTHREAD_ONCE_INIT;

/* anvil_init - compile the pattern (once per process) */
static void
anvil_init(void)
{
	anvil_stat_re = pattern_compile(
	    "^statistics: (?<stat>max [a-z]+(?: [a-z]+)? \\d{1,10}(?:/\\d{1,10}[smhd])?)"
	    "(?: for \\((?<key>[^()\\s]{3,}?)\\))? at .{1,15}$");
	anvil_g_stat = pattern_group(anvil_stat_re, "stat");
	anvil_g_key = pattern_group(anvil_stat_re, "key");
}

/* anvil_is_ip - is s[0..len) an IP literal */
static int
anvil_is_ip(const char *s, size_t len)
{
	char buf[MX_ADDR_MAX];

	return addr_canon(s, len, buf, sizeof(buf)) >= 0;
}

/* anvil_split_key - service length in "service:address"; -1 when there is none */
static long
anvil_split_key(const char *key, size_t len)
{
	for (size_t i = 1; i + 1 < len; i++) {
		const char *ip = key + i + 1;
		size_t iplen = len - i - 1;

		if (key[i] != ':')
			continue;
		if ((iplen == 7 && memcmp(ip, "unknown", 7) == 0) ||
		    (anvil_is_ip(ip, iplen) && !anvil_is_ip(key, i)))
			return (long)i;
	}
	return -1;
}

/* anvil_parse - one anvil message to one event */
int
anvil_parse(const struct mx_record *rec, struct mx_event *ret_ev)
{
	struct mx_match m;
	const char *stat, *key;
	size_t stat_len, key_len;
	char reason[ANVIL_REASON_MAX];
	long svc_len;
	int n;

	if (rec->msg_len > 7 &&
	    (memcmp(rec->msg, "fatal: ", 7) == 0 || memcmp(rec->msg, "panic: ", 7) == 0)) {
		ret_ev->kind = MX_EVENT_FATAL;
		return event_set(ret_ev, &ret_ev->reason, rec->msg + 7, rec->msg_len - 7) == 0;
	}
	if (rec->msg_len < 12 || memcmp(rec->msg, "statistics: ", 12) != 0)
		return 0;
	pthread_once(&anvil_once, anvil_init);
	if (pattern_match(anvil_stat_re, rec->msg, rec->msg_len, &m) != 1 ||
	    match_span(&m, anvil_g_stat, &stat, &stat_len) < 0)
		return 0;
	if (match_span(&m, anvil_g_key, &key, &key_len) < 0) {
		n = snprintf(reason, sizeof(reason), "%.*s", (int)stat_len, stat);
	} else {
		if ((svc_len = anvil_split_key(key, key_len)) < 0 ||
		    addr_set_client(ret_ev, key + svc_len + 1, key_len - (size_t)svc_len - 1) < 0)
			return 0;
		n = snprintf(reason, sizeof(reason), "%.*s for %.*s", (int)stat_len, stat,
		    svc_len > ANVIL_SERVICE_MAX ? ANVIL_SERVICE_MAX : (int)svc_len, key);
	}
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(reason))
		n = (int)sizeof(reason) - 1;
	if (event_set(ret_ev, &ret_ev->reason, reason, (size_t)n) < 0)
		return 0;
	ret_ev->kind = MX_EVENT_ANVIL_STATISTICS;
	return 1;
}
