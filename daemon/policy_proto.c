/*
 * NAME
 *	policy_proto - Postfix SMTPD policy delegation framing
 * SYNOPSIS
 *	#include "policy_proto.h"
 *
 *	p = policy_parser_new(0, 0);
 *	while (len > 0) {
 *		r = policy_parser_feed(p, data, len, &used);
 *		if (r < 0) -> log policy_strerror(r), close the connection
 *		data += used; len -= used;
 *		if (r == POLICY_REQUEST) -> answer policy_parser_request(p)
 *	}
 * DESCRIPTION
 *	Bytes are copied into one buffer of max_request bytes a line at a
 *	time (memchr() finds the newline, so a large read costs little more
 *	than a copy). When a line is complete it is split in place: the '='
 *	and the newline become NULs and the field of the request points at
 *	the value. A request has some 35 lines, so this is the parser's inner
 *	loop and each line costs one memchr() for its end and one copy; the
 *	whole input consumed by a call is searched for NUL bytes once, before
 *	anything is answered or refused. Each line is first compared with the
 *	name the same line of the connection's previous request had (smtpd(8)
 *	always sends them in the same order), which finds its '=' too; else
 *	the '=' is searched for and the name looked up in a small
 *	open-addressing hash table built once. Nothing is allocated after
 *	policy_parser_new().
 * SEE ALSO
 *	policy_proto.h (the contract), tests/check_policy_proto.c
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "policy_proto.h"

/* Lines whose definition is remembered for the next request of a connection. */
#define POLICY_ORDER_MAX	64

struct policy_parser {
	size_t max;			/* request size limit, terminator included */
	unsigned max_attrs;
	size_t len;			/* bytes held of the current request */
	size_t line_start;		/* where the line being read starts in buf */
	int error;			/* sticky -errno */
	int done;			/* req is complete; reset at the next feed */
	unsigned n_order;		/* lines of the previous request in order[] */
	unsigned char order[POLICY_ORDER_MAX];	/* their definitions; POLICY_N_DEFS: unknown */
	struct policy_request req;
	char buf[];
};

struct policy_attr_def {
	const char *name;
	enum policy_attr attr;
	size_t offset;			/* of the const char * in struct policy_request */
};

#define POLICY_DEF(n, a)	{ #n, a, offsetof(struct policy_request, n) }

/* Sorted by name; check_policy_proto sends every name and wants it known. */
static const struct policy_attr_def policy_attr_defs[] = {
	POLICY_DEF(ccert_fingerprint, POLICY_ATTR_CCERT_FINGERPRINT),
	POLICY_DEF(ccert_issuer, POLICY_ATTR_CCERT_ISSUER),
	POLICY_DEF(ccert_pubkey_fingerprint, POLICY_ATTR_CCERT_PUBKEY_FINGERPRINT),
	POLICY_DEF(ccert_subject, POLICY_ATTR_CCERT_SUBJECT),
	POLICY_DEF(client_address, POLICY_ATTR_CLIENT_ADDRESS),
	POLICY_DEF(client_name, POLICY_ATTR_CLIENT_NAME),
	POLICY_DEF(client_port, POLICY_ATTR_CLIENT_PORT),
	POLICY_DEF(compatibility_level, POLICY_ATTR_COMPATIBILITY_LEVEL),
	POLICY_DEF(encryption_cipher, POLICY_ATTR_ENCRYPTION_CIPHER),
	POLICY_DEF(encryption_keysize, POLICY_ATTR_ENCRYPTION_KEYSIZE),
	POLICY_DEF(encryption_protocol, POLICY_ATTR_ENCRYPTION_PROTOCOL),
	POLICY_DEF(etrn_domain, POLICY_ATTR_ETRN_DOMAIN),
	POLICY_DEF(helo_name, POLICY_ATTR_HELO_NAME),
	POLICY_DEF(instance, POLICY_ATTR_INSTANCE),
	POLICY_DEF(mail_version, POLICY_ATTR_MAIL_VERSION),
	POLICY_DEF(policy_context, POLICY_ATTR_POLICY_CONTEXT),
	POLICY_DEF(protocol_name, POLICY_ATTR_PROTOCOL_NAME),
	POLICY_DEF(protocol_state, POLICY_ATTR_PROTOCOL_STATE),
	POLICY_DEF(queue_id, POLICY_ATTR_QUEUE_ID),
	POLICY_DEF(recipient, POLICY_ATTR_RECIPIENT),
	POLICY_DEF(recipient_count, POLICY_ATTR_RECIPIENT_COUNT),
	POLICY_DEF(request, POLICY_ATTR_REQUEST),
	POLICY_DEF(reverse_client_name, POLICY_ATTR_REVERSE_CLIENT_NAME),
	POLICY_DEF(sasl_method, POLICY_ATTR_SASL_METHOD),
	POLICY_DEF(sasl_sender, POLICY_ATTR_SASL_SENDER),
	POLICY_DEF(sasl_username, POLICY_ATTR_SASL_USERNAME),
	POLICY_DEF(sender, POLICY_ATTR_SENDER),
	POLICY_DEF(server_address, POLICY_ATTR_SERVER_ADDRESS),
	POLICY_DEF(server_port, POLICY_ATTR_SERVER_PORT),
	POLICY_DEF(size, POLICY_ATTR_SIZE),
	POLICY_DEF(stress, POLICY_ATTR_STRESS),
};

#define POLICY_N_DEFS	(sizeof(policy_attr_defs) / sizeof(policy_attr_defs[0]))

_Static_assert(POLICY_N_DEFS == POLICY_ATTR__MAX, "one definition per attribute");
_Static_assert(POLICY_ATTR__MAX <= 64, "present is a 64-bit mask");

/* The name index: a power of two at least twice the number of names. */
#define POLICY_INDEX_SIZE	128
_Static_assert(POLICY_INDEX_SIZE >= 2 * POLICY_N_DEFS, "the index stays half empty");

static struct {
	pthread_once_t once;
	unsigned char len[POLICY_N_DEFS];
	signed char slot[POLICY_INDEX_SIZE];	/* definition number, -1 for none */
} policy_index = { .once = PTHREAD_ONCE_INIT };

/* policy_name_hash - where a name of len > 0 bytes starts probing in the index */
static unsigned
policy_name_hash(const char *name, size_t len)
{
	const unsigned char *u = (const unsigned char *)name;

	return ((unsigned)len * 131 + u[0] * 31 + u[len / 2] * 7 + u[len - 1]) &
	    (POLICY_INDEX_SIZE - 1);
}

/* policy_index_build - fill the name index (once per process) */
static void
policy_index_build(void)
{
	memset(policy_index.slot, -1, sizeof(policy_index.slot));
	for (size_t i = 0; i < POLICY_N_DEFS; i++) {
		size_t len = strlen(policy_attr_defs[i].name);
		unsigned h = policy_name_hash(policy_attr_defs[i].name, len);

		while (policy_index.slot[h] >= 0)
			h = (h + 1) & (POLICY_INDEX_SIZE - 1);
		policy_index.slot[h] = (signed char)i;
		policy_index.len[i] = (unsigned char)len;
	}
}

/* policy_same - are the n bytes at a and b equal? (names are short: no memcmp() call) */
static int
policy_same(const char *a, const char *b, size_t n)
{
	while (n > 0 && *a == *b)
		a++, b++, n--;
	return n == 0;
}

/* policy_attr_find - the definition of a name of len > 0 bytes, NULL if unknown */
static const struct policy_attr_def *
policy_attr_find(const char *name, size_t len)
{
	unsigned h = policy_name_hash(name, len);
	int i;

	while ((i = policy_index.slot[h]) >= 0) {
		if (policy_index.len[i] == len && policy_same(policy_attr_defs[i].name, name, len))
			return &policy_attr_defs[i];
		h = (h + 1) & (POLICY_INDEX_SIZE - 1);
	}
	return NULL;
}

static void policy_parser_reset(struct policy_parser *p);
static int policy_parser_line(struct policy_parser *p);
static const struct policy_attr_def *policy_attr_split(struct policy_parser *p, char *line,
    size_t n, char **ret_eq);
static void policy_parser_numbers(struct policy_request *req);

/* policy_parser_new - a parser for requests of up to max_request bytes */
struct policy_parser *
policy_parser_new(size_t max_request, unsigned max_attrs)
{
	struct policy_parser *p;

	if (max_request == 0)
		max_request = POLICY_REQUEST_DEFAULT;
	if (max_request > POLICY_REQUEST_MAX)
		max_request = POLICY_REQUEST_MAX;
	if (max_attrs == 0)
		max_attrs = POLICY_ATTRS_DEFAULT;
	(void)pthread_once(&policy_index.once, policy_index_build);
	if ((p = malloc(sizeof(*p) + max_request)) == NULL)
		return NULL;
	p->max = max_request;
	p->max_attrs = max_attrs;
	p->error = 0;
	p->n_order = 0;
	policy_parser_reset(p);
	return p;
}

/* policy_parser_free - release p; returns NULL */
struct policy_parser *
policy_parser_free(struct policy_parser *p)
{
	free(p);
	return NULL;
}

/* policy_parser_reset - start a new request: every field "" */
static void
policy_parser_reset(struct policy_parser *p)
{
	p->len = 0;
	p->line_start = 0;
	p->done = 0;
	memset(&p->req, 0, sizeof(p->req));
	for (size_t i = 0; i < POLICY_N_DEFS; i++)
		*(const char **)((char *)&p->req + policy_attr_defs[i].offset) = "";
}

/* policy_parser_fail - enter the sticky error state */
static int
policy_parser_fail(struct policy_parser *p, int r, size_t *ret_used)
{
	p->error = r;
	*ret_used = 0;
	return r;
}

/*
 * policy_parser_feed - consume bytes up to the end of the first complete request.
 * A NUL byte anywhere in what was read so far takes precedence over every other
 * error, as if each line had been searched for one before it was split.
 */
int
policy_parser_feed(struct policy_parser *p, const char *data, size_t len, size_t *ret_used)
{
	size_t pos = 0;
	int r = POLICY_MORE;

	if (p->error < 0)
		return policy_parser_fail(p, p->error, ret_used);
	if (p->done)
		policy_parser_reset(p);
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - data) + 1 : len;
		size_t n = end - pos;

		if (n > p->max - p->len) {
			pos = end;	/* the line too long is searched for a NUL too */
			r = -EMSGSIZE;
			break;
		}
		memcpy(p->buf + p->len, data + pos, n);
		p->len += n;
		pos = end;
		if (nl == NULL)
			break;
		if ((r = policy_parser_line(p)) != POLICY_MORE)
			break;
	}
	if (memchr(data, '\0', pos) != NULL)
		r = -EBADMSG;
	if (r < 0)
		return policy_parser_fail(p, r, ret_used);
	if (r == POLICY_REQUEST) {
		p->req.bytes = p->len;
		policy_parser_numbers(&p->req);
		p->done = 1;
	}
	*ret_used = pos;
	return r;
}

/*
 * policy_attr_split - find the '=' of line (n bytes, n > 0) and the definition of
 * the name before it, trying first the definition this line had in the last
 * request; NULL with *ret_eq NULL when there is no '=' or no name before it.
 */
static const struct policy_attr_def *
policy_attr_split(struct policy_parser *p, char *line, size_t n, char **ret_eq)
{
	unsigned k = p->req.n_attrs - 1, i;
	const struct policy_attr_def *def;
	char *eq;

	if (k < p->n_order && (i = p->order[k]) < POLICY_N_DEFS && n > policy_index.len[i] &&
	    line[policy_index.len[i]] == '=' &&
	    policy_same(line, policy_attr_defs[i].name, policy_index.len[i])) {
		*ret_eq = line + policy_index.len[i];
		return &policy_attr_defs[i];
	}
	for (eq = line; eq < line + n && *eq != '='; eq++)
		;
	if (eq == line + n || eq == line) {
		*ret_eq = NULL;
		return NULL;
	}
	*ret_eq = eq;
	def = policy_attr_find(line, (size_t)(eq - line));
	if (k < POLICY_ORDER_MAX) {
		p->order[k] = (unsigned char)(def != NULL ? (size_t)(def - policy_attr_defs) :
		    POLICY_N_DEFS);
		if (k >= p->n_order)
			p->n_order = k + 1;
	}
	return def;
}

/* policy_parser_line - split the line just completed; POLICY_REQUEST at the empty line */
static int
policy_parser_line(struct policy_parser *p)
{
	char *line = p->buf + p->line_start;
	size_t n = p->len - 1 - p->line_start;	/* without the '\n' */
	const struct policy_attr_def *def;
	const char **field;
	char *eq;

	p->line_start = p->len;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (n == 0)
		return POLICY_REQUEST;
	if (++p->req.n_attrs > p->max_attrs)
		return -E2BIG;
	def = policy_attr_split(p, line, n, &eq);
	if (eq == NULL)
		return -EBADMSG;
	*eq = '\0';
	line[n] = '\0';
	if (def == NULL) {
		p->req.n_unknown++;
		return POLICY_MORE;
	}
	if (POLICY_HAS(&p->req, def->attr))
		p->req.n_duplicate++;
	p->req.present |= UINT64_C(1) << def->attr;
	field = (const char **)((char *)&p->req + def->offset);
	*field = eq + 1;
	return POLICY_MORE;
}

/* policy_number - a decimal number, 0 for "" or anything else, saturating at max */
static uint64_t
policy_number(const char *s, uint64_t max)
{
	uint64_t v = 0;

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return max;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	return v;
}

/* policy_parser_numbers - fill the numeric copies of the numeric attributes */
static void
policy_parser_numbers(struct policy_request *req)
{
	req->size_n = policy_number(req->size, UINT64_MAX);
	req->recipient_count_n = (unsigned)policy_number(req->recipient_count, UINT32_MAX);
	req->client_port_n = (unsigned)policy_number(req->client_port, 65535);
	req->server_port_n = (unsigned)policy_number(req->server_port, 65535);
	req->encryption_keysize_n = (unsigned)policy_number(req->encryption_keysize, UINT32_MAX);
}

/* policy_parser_request - the request completed by the last feed, NULL if none */
const struct policy_request *
policy_parser_request(const struct policy_parser *p)
{
	return p->done ? &p->req : NULL;
}

/* policy_parser_finish - at end of input: was a request cut off? */
int
policy_parser_finish(const struct policy_parser *p)
{
	if (p->error < 0)
		return p->error;
	if (!p->done && p->len > 0)
		return -ENODATA;
	return 0;
}

/* policy_parser_pending - bytes of an incomplete request */
size_t
policy_parser_pending(const struct policy_parser *p)
{
	return p->done ? 0 : p->len;
}

/* policy_format_response - "action=ACTION\n\n" with ACTION on one line */
int
policy_format_response(char *buf, size_t size, const char *action)
{
	static const char prefix[] = "action=";
	size_t n, len, i;

	if (action == NULL || *action == '\0')
		action = "DUNNO";
	n = strnlen(action, POLICY_ACTION_MAX + 1);
	if (n > POLICY_ACTION_MAX) {
		n = POLICY_ACTION_MAX;
		/* back up to the start of a UTF-8 sequence cut in two */
		while (n > 0 && ((unsigned char)action[n] & 0xc0) == 0x80)
			n--;
	}
	len = sizeof(prefix) - 1 + n + 2;
	if (len + 1 > size)
		return -ENOBUFS;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)action[i];

		buf[sizeof(prefix) - 1 + i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	memcpy(buf + sizeof(prefix) - 1 + n, "\n\n", 3);
	return (int)len;
}

/* policy_strerror - why a request was refused */
const char *
policy_strerror(int r)
{
	switch (r) {
	case -EMSGSIZE:
		return "request too large";
	case -E2BIG:
		return "too many attributes";
	case -EBADMSG:
		return "malformed request (NUL byte, or a line that is not name=value)";
	case -ENODATA:
		return "request cut off (no empty line before end of input)";
	case 0:
		return "no error";
	default:
		return "policy protocol error";
	}
}

/* policy_attr_name - the protocol name of a known attribute */
const char *
policy_attr_name(enum policy_attr a)
{
	for (size_t i = 0; i < POLICY_N_DEFS; i++)
		if (policy_attr_defs[i].attr == a)
			return policy_attr_defs[i].name;
	return NULL;
}

/* policy_request_attr - the value of attribute a in req, by number */
const char *
policy_request_attr(const struct policy_request *req, enum policy_attr a)
{
	for (size_t i = 0; i < POLICY_N_DEFS; i++)
		if (policy_attr_defs[i].attr == a)
			return *(const char *const *)((const char *)req + policy_attr_defs[i].offset);
	return NULL;
}
