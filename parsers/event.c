/*
 * NAME
 *	event - event kind names, field setters and JSONL/TSV rendering
 * SYNOPSIS
 *	#include "event.h"
 * DESCRIPTION
 *	The implementation of the contract in event.h. The kind names below
 *	are the stable words of the `mxledger parse` output, the SQL `event`
 *	column and the man page.
 *
 *	Rendering writes fields in one fixed order and omits unknown ones.
 *	JSON strings are escaped per RFC 8259; bytes that are not valid UTF-8
 *	are written as \u00XX of the byte (Latin-1 reading) so the output is
 *	always valid JSON and still shows what the log said. The smtpd
 *	command statistics ("ehlo=1 auth=0/1 commands=1/2") are rendered as a
 *	JSON object of strings. TSV replaces tab, newline and backslash by
 *	\t, \n, \\ and writes "-" for unknown fields.
 * SEE ALSO
 *	event.h, mxledger(8) "EVENTS"
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "utf8.h"

static const char *const event_names[MX_EVENT__MAX] = {
	[MX_EVENT_NONE] = "none",
	[MX_EVENT_CONNECT] = "connect",
	[MX_EVENT_DISCONNECT] = "disconnect",
	[MX_EVENT_LOST_CONNECTION] = "lost_connection",
	[MX_EVENT_TIMEOUT] = "timeout",
	[MX_EVENT_TOO_MANY_ERRORS] = "too_many_errors",
	[MX_EVENT_IMPROPER_PIPELINING] = "improper_pipelining",
	[MX_EVENT_NON_SMTP_COMMAND] = "non_smtp_command",
	[MX_EVENT_QUEUED] = "queued",
	[MX_EVENT_AUTH_FAILURE] = "auth_failure",
	[MX_EVENT_AUTH_SUCCESS] = "auth_success",
	[MX_EVENT_AUTH_LOOKUP_FAILURE] = "auth_lookup_failure",
	[MX_EVENT_REJECT] = "reject",
	[MX_EVENT_REJECT_WARNING] = "reject_warning",
	[MX_EVENT_RATE_LIMIT] = "rate_limit",
	[MX_EVENT_REVERSE_DNS_MISMATCH] = "reverse_dns_mismatch",
	[MX_EVENT_PROXY_ERROR] = "proxy_error",
	[MX_EVENT_FATAL] = "fatal",
	[MX_EVENT_PROCESS_EXIT] = "process_exit",
	[MX_EVENT_SERVICE_THROTTLED] = "service_throttled",
	[MX_EVENT_ANVIL_STATISTICS] = "anvil_statistics",
	[MX_EVENT_POSTSCREEN_PASS_NEW] = "postscreen_pass_new",
	[MX_EVENT_POSTSCREEN_PASS_OLD] = "postscreen_pass_old",
	[MX_EVENT_POSTSCREEN_PREGREET] = "postscreen_pregreet",
	[MX_EVENT_POSTSCREEN_HANGUP] = "postscreen_hangup",
	[MX_EVENT_POSTSCREEN_PIPELINING] = "postscreen_pipelining",
	[MX_EVENT_POSTSCREEN_BARE_NEWLINE] = "postscreen_bare_newline",
	[MX_EVENT_POSTSCREEN_NON_SMTP_COMMAND] = "postscreen_non_smtp_command",
	[MX_EVENT_POSTSCREEN_DNSBL] = "postscreen_dnsbl",
	[MX_EVENT_POSTSCREEN_DENYLIST] = "postscreen_denylist",
	[MX_EVENT_POSTSCREEN_ALLOWLIST] = "postscreen_allowlist",
	[MX_EVENT_POSTSCREEN_ALLOWLIST_VETO] = "postscreen_allowlist_veto",
	[MX_EVENT_POSTSCREEN_COMMAND_LIMIT] = "postscreen_command_limit",
	[MX_EVENT_POSTSCREEN_DATA_WITHOUT_RCPT] = "postscreen_data_without_rcpt",
};

const char event_tsv_header[] =
    "ts\thost\tprogram\tdaemon\tlistener\tpid\tevent\tclient_ip\tclient_port\t"
    "client_name\tserver_ip\tserver_port\tproxied\tuser\tmethod\tattempts\tqueue_id\t"
    "sender\trecipient\thelo\tstage\treply\treason\tsession\tstats";

/* event_reset - forget every field; the arena is reused, not cleared */
void
event_reset(struct mx_event *ev)
{
	ev->kind = MX_EVENT_NONE;
	ev->ts_usec = MX_TS_UNKNOWN;
	ev->host = ev->program = ev->daemon = ev->listener = NULL;
	ev->pid = -1;
	ev->client_ip = ev->client_name = ev->server_ip = NULL;
	ev->client_port = ev->server_port = 0;
	ev->proxied = -1;
	ev->user = ev->method = NULL;
	ev->attempts = 0;
	ev->queue_id = ev->sender = ev->recipient = ev->helo = NULL;
	ev->stage = ev->reply = ev->reason = ev->session = ev->stats = NULL;
	ev->arena_used = 0;
}

/* event_set - copy s[0..len) into the arena and point *field at it */
int
event_set(struct mx_event *ev, const char **field, const char *s, size_t len)
{
	char *p;

	if (s == NULL) {
		*field = NULL;
		return 0;
	}
	if (len + 1 > sizeof(ev->arena) - ev->arena_used)
		return -ENOBUFS;
	p = ev->arena + ev->arena_used;
	memcpy(p, s, len);
	p[len] = '\0';
	ev->arena_used += len + 1;
	*field = p;
	return 0;
}

/* event_setz - event_set() for a NUL-terminated string */
int
event_setz(struct mx_event *ev, const char **field, const char *s)
{
	return event_set(ev, field, s, s == NULL ? 0 : strlen(s));
}

/* event_kind_name - the stable snake_case name of a kind */
const char *
event_kind_name(enum mx_event_kind kind)
{
	if ((unsigned)kind >= MX_EVENT__MAX || event_names[kind] == NULL)
		return "none";
	return event_names[kind];
}

/* event_kind_from_name - the kind for a name, MX_EVENT_NONE when unknown */
enum mx_event_kind
event_kind_from_name(const char *name)
{
	for (int k = 1; k < MX_EVENT__MAX; k++)
		if (strcmp(event_names[k], name) == 0)
			return (enum mx_event_kind)k;
	return MX_EVENT_NONE;
}

/*
 * event_format_ts - RFC 3339 UTC with microseconds. The date and time of
 * the last second formatted are cached (per thread): consecutive log lines
 * mostly share their second, and gmtime_r + printf per line was a tenth of
 * the cost of `mxledger parse`.
 */
int
event_format_ts(int64_t ts_usec, char *buf, size_t size)
{
	static __thread int64_t cached_secs = INT64_MIN;
	static __thread char cached[64];	/* "YYYY-MM-DDTHH:MM:SS"; room for what -Wformat fears */
	int64_t secs;
	long usec;

	if (size < 28)
		return -ENOBUFS;
	secs = ts_usec / 1000000;
	usec = (long)(ts_usec % 1000000);
	if (usec < 0) {
		usec += 1000000;
		secs--;
	}
	if (secs != cached_secs) {
		time_t t = (time_t)secs;
		struct tm tm;

		if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
		    tm.tm_year + 1900 < 0)
			return -EINVAL;
		snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec);
		cached_secs = secs;
	}
	memcpy(buf, cached, 19);
	buf[19] = '.';
	for (int i = 25; i >= 20; i--) {
		buf[i] = (char)('0' + usec % 10);
		usec /= 10;
	}
	buf[26] = 'Z';
	buf[27] = '\0';
	return 27;
}

/*
 * Output cursor: all writers check space and latch an overflow flag, so
 * the callers stay linear and test the flag once at the end.
 */
struct out {
	char *p, *end;
	int overflow;
};

static inline void
out_mem(struct out *o, const char *s, size_t len)
{
	if (o->overflow || (size_t)(o->end - o->p) <= len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p, s, len);
	o->p += len;
}

static inline void
out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static inline void
out_char(struct out *o, char c)
{
	if (o->overflow || o->p + 1 >= o->end) {
		o->overflow = 1;
		return;
	}
	*o->p++ = c;
}

/*
 * json_plain - bytes that go out as they are: printable ASCII but '"' and
 * '\\'. Everything else takes the slow path (escapes, UTF-8 validation).
 */
static const unsigned char json_plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
	R16(0), R16(0),
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x20: '"' is 0x22 */
	R16(1), R16(1),
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x50: '\\' is 0x5c */
	R16(1),
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,	/* 0x7f: DEL escaped */
	R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};

/* out_json_string - a quoted, escaped JSON string */
static void
out_json_string(struct out *o, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *run = s;
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	out_char(o, '"');
	for (;;) {
		size_t n;

		while (json_plain[*s])
			s++;
		if (*s == '\0')
			break;
		if (*s >= 0x80 && (n = utf8_len(s, SIZE_MAX)) > 0) {
			s += n;
			continue;
		}
		out_mem(o, (const char *)run, (size_t)(s - run));
		switch (*s) {
		case '"': out_str(o, "\\\""); break;
		case '\\': out_str(o, "\\\\"); break;
		case '\n': out_str(o, "\\n"); break;
		case '\r': out_str(o, "\\r"); break;
		case '\t': out_str(o, "\\t"); break;
		default:
			esc[4] = hex[*s >> 4];
			esc[5] = hex[*s & 0xf];
			out_mem(o, esc, 6);
		}
		run = ++s;
	}
	out_mem(o, (const char *)run, (size_t)(s - run));
	out_char(o, '"');
}

/* out_json_key - ,"key": ; the key is a literal, its length known at compile time */
#define out_json_key(o, first, key) out_json_key_((o), (first), "\"" key "\":", sizeof(key) + 2)
static void
out_json_key_(struct out *o, int *first, const char *quoted, size_t len)
{
	if (!*first)
		out_char(o, ',');
	*first = 0;
	out_mem(o, quoted, len);
}

#define out_json_field(o, first, key, val) do {					\
	const char *v_ = (val);							\
	if (v_ != NULL) {							\
		out_json_key((o), (first), key);				\
		out_json_string((o), v_);					\
	}									\
} while (0)

/* fmt_ulong - decimal digits of v into buf (no NUL); returns the length */
static size_t
fmt_ulong(char *buf, unsigned long long v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static void
out_number(struct out *o, long long val)
{
	char num[24];
	size_t n = 0;

	if (val < 0) {
		num[n++] = '-';
		n += fmt_ulong(num + n, (unsigned long long)-(val + 1) + 1);
	} else {
		n = fmt_ulong(num, (unsigned long long)val);
	}
	out_mem(o, num, n);
}

#define out_json_number(o, first, key, val) do {				\
	out_json_key((o), (first), key);					\
	out_number((o), (val));							\
} while (0)

/*
 * out_json_stats - "ehlo=1 auth=0/1 commands=1/2" as {"ehlo":"1",...}.
 * Words without '=' are skipped; the raw text is what smtpd printed.
 */
static void
out_json_stats(struct out *o, const char *stats)
{
	char key[64], val[64];
	const char *p = stats;
	int first = 1;

	out_char(o, '{');
	while (*p != '\0') {
		const char *w, *eq, *we;

		while (*p == ' ')
			p++;
		w = p;
		while (*p != '\0' && *p != ' ')
			p++;
		we = p;
		eq = memchr(w, '=', (size_t)(we - w));
		if (eq == NULL || eq == w || (size_t)(eq - w) >= sizeof(key) ||
		    (size_t)(we - eq - 1) >= sizeof(val))
			continue;
		memcpy(key, w, (size_t)(eq - w));
		key[eq - w] = '\0';
		memcpy(val, eq + 1, (size_t)(we - eq - 1));
		val[we - eq - 1] = '\0';
		if (!first)
			out_char(o, ',');
		first = 0;
		out_json_string(o, key);
		out_char(o, ':');
		out_json_string(o, val);
	}
	out_char(o, '}');
}

/* event_format_jsonl - one JSON object and a newline */
int
event_format_jsonl(const struct mx_event *ev, char *buf, size_t size)
{
	struct out o = { buf, buf + size, 0 };
	char ts[40];
	int first = 1;

	if (size == 0)
		return -ENOBUFS;
	out_char(&o, '{');
	if (ev->ts_usec != MX_TS_UNKNOWN && event_format_ts(ev->ts_usec, ts, sizeof(ts)) > 0)
		out_json_field(&o, &first, "ts", ts);
	out_json_field(&o, &first, "host", ev->host);
	out_json_field(&o, &first, "program", ev->program);
	out_json_field(&o, &first, "daemon", ev->daemon);
	out_json_field(&o, &first, "listener", ev->listener);
	if (ev->pid >= 0)
		out_json_number(&o, &first, "pid", ev->pid);
	out_json_field(&o, &first, "event", event_kind_name(ev->kind));
	out_json_field(&o, &first, "client_ip", ev->client_ip);
	if (ev->client_port > 0)
		out_json_number(&o, &first, "client_port", ev->client_port);
	out_json_field(&o, &first, "client_name", ev->client_name);
	out_json_field(&o, &first, "server_ip", ev->server_ip);
	if (ev->server_port > 0)
		out_json_number(&o, &first, "server_port", ev->server_port);
	if (ev->proxied >= 0) {
		out_json_key(&o, &first, "proxied");
		out_str(&o, ev->proxied ? "true" : "false");
	}
	out_json_field(&o, &first, "user", ev->user);
	out_json_field(&o, &first, "method", ev->method);
	if (ev->attempts > 0)
		out_json_number(&o, &first, "attempts", ev->attempts);
	out_json_field(&o, &first, "queue_id", ev->queue_id);
	out_json_field(&o, &first, "sender", ev->sender);
	out_json_field(&o, &first, "recipient", ev->recipient);
	out_json_field(&o, &first, "helo", ev->helo);
	out_json_field(&o, &first, "stage", ev->stage);
	out_json_field(&o, &first, "reply", ev->reply);
	out_json_field(&o, &first, "reason", ev->reason);
	out_json_field(&o, &first, "session", ev->session);
	if (ev->stats != NULL) {
		out_json_key(&o, &first, "stats");
		out_json_stats(&o, ev->stats);
	}
	out_str(&o, "}\n");
	if (o.overflow || o.p >= o.end)
		return -ENOBUFS;
	*o.p = '\0';
	return (int)(o.p - buf);
}

/* out_tsv - one TSV cell, "-" when unknown */
static void
out_tsv(struct out *o, const char *val, int last)
{
	const char *s;

	if (val == NULL || *val == '\0') {
		out_char(o, '-');
	} else {
		for (s = val; *s != '\0'; s++) {
			switch (*s) {
			case '\t': out_str(o, "\\t"); break;
			case '\n': out_str(o, "\\n"); break;
			case '\r': out_str(o, "\\r"); break;
			case '\\': out_str(o, "\\\\"); break;
			default: out_char(o, *s);
			}
		}
	}
	out_char(o, last ? '\n' : '\t');
}

static void
out_tsv_num(struct out *o, long long val, int known)
{
	char num[32];

	if (!known) {
		out_tsv(o, NULL, 0);
		return;
	}
	snprintf(num, sizeof(num), "%lld", val);
	out_tsv(o, num, 0);
}

/* event_format_tsv - the columns of event_tsv_header */
int
event_format_tsv(const struct mx_event *ev, char *buf, size_t size)
{
	struct out o = { buf, buf + size, 0 };
	char ts[40];

	if (size == 0)
		return -ENOBUFS;
	out_tsv(&o, ev->ts_usec != MX_TS_UNKNOWN &&
	    event_format_ts(ev->ts_usec, ts, sizeof(ts)) > 0 ? ts : NULL, 0);
	out_tsv(&o, ev->host, 0);
	out_tsv(&o, ev->program, 0);
	out_tsv(&o, ev->daemon, 0);
	out_tsv(&o, ev->listener, 0);
	out_tsv_num(&o, ev->pid, ev->pid >= 0);
	out_tsv(&o, event_kind_name(ev->kind), 0);
	out_tsv(&o, ev->client_ip, 0);
	out_tsv_num(&o, ev->client_port, ev->client_port > 0);
	out_tsv(&o, ev->client_name, 0);
	out_tsv(&o, ev->server_ip, 0);
	out_tsv_num(&o, ev->server_port, ev->server_port > 0);
	out_tsv(&o, ev->proxied < 0 ? NULL : ev->proxied ? "true" : "false", 0);
	out_tsv(&o, ev->user, 0);
	out_tsv(&o, ev->method, 0);
	out_tsv_num(&o, ev->attempts, ev->attempts > 0);
	out_tsv(&o, ev->queue_id, 0);
	out_tsv(&o, ev->sender, 0);
	out_tsv(&o, ev->recipient, 0);
	out_tsv(&o, ev->helo, 0);
	out_tsv(&o, ev->stage, 0);
	out_tsv(&o, ev->reply, 0);
	out_tsv(&o, ev->reason, 0);
	out_tsv(&o, ev->session, 0);
	out_tsv(&o, ev->stats, 1);
	if (o.overflow || o.p >= o.end)
		return -ENOBUFS;
	*o.p = '\0';
	return (int)(o.p - buf);
}
