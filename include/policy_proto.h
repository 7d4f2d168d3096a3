/*
 * NAME
 *	policy_proto - Postfix SMTPD policy delegation framing
 * SYNOPSIS
 *	#include "policy_proto.h"
 *
 *	struct policy_parser *policy_parser_new(size_t max_request, unsigned max_attrs);
 *	struct policy_parser *policy_parser_free(struct policy_parser *p);
 *	int policy_parser_feed(struct policy_parser *p, const char *data, size_t len,
 *	    size_t *ret_used);
 *	const struct policy_request *policy_parser_request(const struct policy_parser *p);
 *	int policy_parser_finish(const struct policy_parser *p);
 *	int policy_format_response(char *buf, size_t size, const char *action);
 *	const char *policy_strerror(int r);
 *	const char *policy_attr_name(enum policy_attr a);
 *	const char *policy_request_attr(const struct policy_request *req,
 *	    enum policy_attr a);
 * DESCRIPTION
 *	The protocol of SMTPD_POLICY_README: a request is "name=value" lines
 *	ended by "\n", terminated by an empty line; the answer is one
 *	"action=..." line and an empty line. Postfix keeps the connection
 *	open and may send the next request before reading the answer, so one
 *	read can hold several requests, and any request can be split across
 *	reads at any byte.
 *
 *	policy_parser_feed() consumes bytes up to and including the end of
 *	the first complete request it finds and says how many it used in
 *	*ret_used; the caller calls it again with the rest (in order: answers
 *	go out in request order). The request is then available from
 *	policy_parser_request() until the next feed. Bytes of an incomplete
 *	request are kept (copied) inside the parser, so the caller's buffer
 *	can be reused at once.
 *
 *	A value is everything after the first '=' (values may hold '=',
 *	ccert_subject does). One '\r' before a "\n" is dropped, so a request
 *	typed through telnet works. Values are bytes: invalid UTF-8 is passed
 *	through untouched, but a NUL byte anywhere is an error. Attributes
 *	this file does not know are ignored and counted (n_unknown); a known
 *	attribute given twice keeps the last value (n_duplicate counts).
 *
 *	Every attribute up to Postfix 3.9 is a field of struct policy_request:
 *	absent and empty both read as "" (never NULL); the bit
 *	POLICY_HAS(req, POLICY_ATTR_X) tells whether it was sent. Numeric
 *	attributes are also parsed (0 when absent, empty or not a number).
 *
 *	Limits: the whole request, terminator included, must fit in
 *	max_request bytes (0 = POLICY_REQUEST_DEFAULT) and carry at most
 *	max_attrs lines (0 = POLICY_ATTRS_DEFAULT). Past a limit, or on bad
 *	bytes, feed() returns an error and stays in that error: the server
 *	logs once and closes the connection (the next request's framing
 *	cannot be trusted). Memory is one buffer of max_request bytes.
 *
 *	policy_format_response() writes "action=ACTION\n\n". ACTION is copied
 *	with every control byte (newline, CR, NUL before the end, ...) turned
 *	into a space, so no text can inject a second line; it is cut at
 *	POLICY_ACTION_MAX bytes, not inside a UTF-8 sequence.
 * RETURNS
 *	policy_parser_feed(): POLICY_MORE (0) when all len bytes were used and
 *	no request is complete yet; POLICY_REQUEST (1) when one is;
 *	-EMSGSIZE (request too large), -E2BIG (too many attributes), -EBADMSG
 *	(NUL byte, a line without '=' or with an empty name). After an error
 *	every further call returns the same error with *ret_used 0.
 *	policy_parser_finish() at end of input: 0 when no bytes of a request
 *	are pending, -ENODATA when a request was cut off (no empty line), or
 *	the sticky error. policy_format_response(): the length written
 *	(NUL-terminated), -ENOBUFS if size < POLICY_RESPONSE_MAX and the
 *	answer does not fit.
 * OWNERSHIP
 *	The request's strings point into the parser's buffer: valid until the
 *	next policy_parser_feed() or policy_parser_free(). The parser is
 *	owned by the caller (policy_parser_free()); new returns NULL only for
 *	ENOMEM.
 * SEE ALSO
 *	https://www.postfix.org/SMTPD_POLICY_README.html, rules.h,
 *	tests/check_policy_proto.c
 */
#ifndef MX_POLICY_PROTO_H
#define MX_POLICY_PROTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Postfix 3.9 sends about 31 attributes, most short: a full request with
 * certificate subjects and long addresses stays under 4 KiB; 16 KiB leaves
 * room and still bounds what a confused client can make us hold.
 */
#define POLICY_REQUEST_DEFAULT	(16 * 1024)
#define POLICY_REQUEST_MAX	(1024 * 1024)
/* Twice the attributes Postfix 3.9 knows, for newer versions. */
#define POLICY_ATTRS_DEFAULT	64
/*
 * An SMTP reply line is at most 512 bytes (RFC 5321 4.5.3.1.5); Postfix
 * folds longer texts itself. 1 KiB of action text is generous.
 */
#define POLICY_ACTION_MAX	1024
#define POLICY_RESPONSE_MAX	(POLICY_ACTION_MAX + sizeof("action=\n\n"))

enum {
	POLICY_MORE = 0,
	POLICY_REQUEST = 1,
};

/* Known attributes, in SMTPD_POLICY_README order (the bit numbers of `present`). */
enum policy_attr {
	POLICY_ATTR_REQUEST,			/* 2.1 */
	POLICY_ATTR_PROTOCOL_STATE,
	POLICY_ATTR_PROTOCOL_NAME,
	POLICY_ATTR_HELO_NAME,
	POLICY_ATTR_QUEUE_ID,
	POLICY_ATTR_SENDER,
	POLICY_ATTR_RECIPIENT,
	POLICY_ATTR_RECIPIENT_COUNT,
	POLICY_ATTR_CLIENT_ADDRESS,
	POLICY_ATTR_CLIENT_NAME,
	POLICY_ATTR_REVERSE_CLIENT_NAME,
	POLICY_ATTR_INSTANCE,
	POLICY_ATTR_SASL_METHOD,		/* 2.2 */
	POLICY_ATTR_SASL_USERNAME,
	POLICY_ATTR_SASL_SENDER,
	POLICY_ATTR_SIZE,
	POLICY_ATTR_CCERT_SUBJECT,
	POLICY_ATTR_CCERT_ISSUER,
	POLICY_ATTR_CCERT_FINGERPRINT,
	POLICY_ATTR_ENCRYPTION_PROTOCOL,	/* 2.3 */
	POLICY_ATTR_ENCRYPTION_CIPHER,
	POLICY_ATTR_ENCRYPTION_KEYSIZE,
	POLICY_ATTR_ETRN_DOMAIN,
	POLICY_ATTR_STRESS,			/* 2.5 */
	POLICY_ATTR_CCERT_PUBKEY_FINGERPRINT,	/* 2.9 */
	POLICY_ATTR_CLIENT_PORT,		/* 3.0 */
	POLICY_ATTR_POLICY_CONTEXT,		/* 3.1 */
	POLICY_ATTR_SERVER_ADDRESS,		/* 3.2 */
	POLICY_ATTR_SERVER_PORT,
	POLICY_ATTR_COMPATIBILITY_LEVEL,	/* 3.8 */
	POLICY_ATTR_MAIL_VERSION,
	POLICY_ATTR__MAX
};

struct policy_request {
	const char *request;		/* "smtpd_access_policy" */
	const char *protocol_state;	/* CONNECT EHLO HELO MAIL RCPT DATA END-OF-MESSAGE VRFY ETRN */
	const char *protocol_name;	/* SMTP, ESMTP */
	const char *helo_name;
	const char *queue_id;
	const char *sender;		/* "" for the null sender */
	const char *recipient;
	const char *recipient_count;
	const char *client_address;
	const char *client_name;
	const char *reverse_client_name;
	const char *instance;		/* same for every request about one mail transaction */
	const char *sasl_method;
	const char *sasl_username;	/* "" when not authenticated */
	const char *sasl_sender;
	const char *size;
	const char *ccert_subject;
	const char *ccert_issuer;
	const char *ccert_fingerprint;
	const char *encryption_protocol;
	const char *encryption_cipher;
	const char *encryption_keysize;
	const char *etrn_domain;
	const char *stress;		/* "yes" under stress */
	const char *ccert_pubkey_fingerprint;
	const char *client_port;
	const char *policy_context;
	const char *server_address;
	const char *server_port;
	const char *compatibility_level;
	const char *mail_version;

	/* numbers parsed from the strings above; 0 when absent or not a number */
	uint64_t size_n;
	unsigned recipient_count_n;
	unsigned client_port_n;
	unsigned server_port_n;
	unsigned encryption_keysize_n;

	uint64_t present;		/* bit (1 << POLICY_ATTR_X) per attribute sent */
	unsigned n_attrs;		/* lines in the request */
	unsigned n_unknown;		/* lines with a name we do not know (ignored) */
	unsigned n_duplicate;		/* known names given more than once (last wins) */
	size_t bytes;			/* size of the request, terminator included */
};

#define POLICY_HAS(req, attr)	(((req)->present >> (attr)) & 1)

struct policy_parser;

struct policy_parser *policy_parser_new(size_t max_request, unsigned max_attrs);
struct policy_parser *policy_parser_free(struct policy_parser *p);
int policy_parser_feed(struct policy_parser *p, const char *data, size_t len, size_t *ret_used);
const struct policy_request *policy_parser_request(const struct policy_parser *p);
int policy_parser_finish(const struct policy_parser *p);
/* Bytes of an incomplete request held (0 between requests): idle-timeout decisions. */
size_t policy_parser_pending(const struct policy_parser *p);
int policy_format_response(char *buf, size_t size, const char *action);
/* A short reason for a feed()/finish() error, for the caller's log line. */
const char *policy_strerror(int r);
/* Name of a known attribute ("client_address"), NULL for an invalid value. */
const char *policy_attr_name(enum policy_attr a);
/* Value of a known attribute in req ("" when absent), NULL for an invalid a. */
const char *policy_request_attr(const struct policy_request *req, enum policy_attr a);

#endif
