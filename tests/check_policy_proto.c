/*
 * NAME
 *	check_policy_proto - policy delegation framing: splits, pipelining, limits, answers
 * DESCRIPTION
 *	Each case is a byte stream and the exact outcome: every request it
 *	holds, rendered as "name=value" of the attributes sent (in
 *	SMTPD_POLICY_README order) plus the ignored/duplicate counts, then
 *	how the stream ended (an error, or -ENODATA for a cut-off request).
 *	Every case is fed whole, split in two at every byte position, and one
 *	byte at a time; all must give the same outcome. A seeded random
 *	stream checks the same against a whole-chunk feed.
 * SEE ALSO
 *	policy_proto.h
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_proto.h"
#include "testutil.h"

#define OUT_MAX		8192

/* A full RCPT request as Postfix 3.9 sends it (documentation addresses). */
#define FULL_REQUEST \
	"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n" \
	"helo_name=mx.example.org\nqueue_id=\nsender=alice@example.org\n" \
	"recipient=bob@example.net\nrecipient_count=0\nclient_address=192.0.2.7\n" \
	"client_name=mx.example.org\nreverse_client_name=mx.example.org\n" \
	"instance=8c4.6740f1a3.a12e.0\nsasl_method=PLAIN\nsasl_username=alice\n" \
	"sasl_sender=\nsize=12345\nccert_subject=CN=mx.example.org\nccert_issuer=Example CA\n" \
	"ccert_fingerprint=C2:9D\nencryption_protocol=TLSv1.3\n" \
	"encryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\netrn_domain=\n" \
	"stress=\nccert_pubkey_fingerprint=68:B3\nclient_port=52144\n" \
	"policy_context=submission\nserver_address=203.0.113.254\nserver_port=587\n" \
	"compatibility_level=3.6\nmail_version=3.9.1\n\n"

#define FULL_WANT \
	"request=smtpd_access_policy protocol_state=RCPT protocol_name=ESMTP " \
	"helo_name=mx.example.org queue_id= sender=alice@example.org " \
	"recipient=bob@example.net recipient_count=0 client_address=192.0.2.7 " \
	"client_name=mx.example.org reverse_client_name=mx.example.org " \
	"instance=8c4.6740f1a3.a12e.0 sasl_method=PLAIN sasl_username=alice sasl_sender= " \
	"size=12345 ccert_subject=CN=mx.example.org ccert_issuer=Example CA " \
	"ccert_fingerprint=C2:9D encryption_protocol=TLSv1.3 " \
	"encryption_cipher=TLS_AES_256_GCM_SHA384 encryption_keysize=256 etrn_domain= " \
	"stress= ccert_pubkey_fingerprint=68:B3 client_port=52144 " \
	"policy_context=submission server_address=203.0.113.254 server_port=587 " \
	"compatibility_level=3.6 mail_version=3.9.1 [31 attrs]\n"

static const struct pcase {
	const char *name;
	const char *in;
	size_t len;			/* 0: strlen(in) */
	size_t max_request;		/* 0: default */
	unsigned max_attrs;		/* 0: default */
	const char *want;
} cases[] = {
	{ "a full Postfix 3.9 request fills every field and nothing is unknown",
	  FULL_REQUEST, 0, 0, 0, FULL_WANT },
	{ "three pipelined requests in one read come out in order",
	  "protocol_state=CONNECT\nclient_address=192.0.2.1\n\n"
	  "protocol_state=EHLO\nclient_address=192.0.2.1\n\n"
	  "protocol_state=RCPT\nclient_address=2001:db8::25\n\n", 0, 0, 0,
	  "protocol_state=CONNECT client_address=192.0.2.1 [2 attrs]\n"
	  "protocol_state=EHLO client_address=192.0.2.1 [2 attrs]\n"
	  "protocol_state=RCPT client_address=2001:db8::25 [2 attrs]\n" },
	{ "unknown attributes are ignored and counted",
	  "protocol_state=RCPT\nfuture_attribute=1\nx_other=\nsender=a@example.org\n\n", 0, 0, 0,
	  "protocol_state=RCPT sender=a@example.org [4 attrs, 2 unknown]\n" },
	{ "names that nearly match a known one are unknown: a prefix, longer, another case",
	  "client_addres=192.0.2.9\nclient_address2=192.0.2.8\nSENDER=x@example.org\n"
	  "sende=y@example.org\nsenders=z@example.org\nsize=10\n\n", 0, 0, 0,
	  "size=10 [6 attrs, 5 unknown]\n" },
	{ "a value keeps every '=' after the first",
	  "ccert_subject=CN=a=b,O=Example\n\n", 0, 0, 0,
	  "ccert_subject=CN=a=b,O=Example [1 attrs]\n" },
	{ "CRLF line ends are accepted (telnet)",
	  "protocol_state=RCPT\r\nsender=a@example.org\r\n\r\n", 0, 0, 0,
	  "protocol_state=RCPT sender=a@example.org [2 attrs]\n" },
	{ "an attribute given twice keeps the last value",
	  "sender=a@example.org\nsender=b@example.org\n\n", 0, 0, 0,
	  "sender=b@example.org [2 attrs, 1 duplicate]\n" },
	{ "bytes that are not UTF-8 pass through untouched",
	  "helo_name=\xff\xfe\xc3(\n\n", 0, 0, 0, "helo_name=\xff\xfe\xc3( [1 attrs]\n" },
	{ "an empty line alone is an empty request",
	  "\n", 0, 0, 0, "[0 attrs]\n" },
	{ "a NUL byte closes the connection",
	  "protocol_state=RCPT\nsender=a\0b\n\n", 32, 0, 0, "ERROR -EBADMSG\n" },
	{ "a NUL byte after a good request: the request, then the error",
	  "protocol_state=RCPT\n\n\0", 22, 0, 0, "protocol_state=RCPT [1 attrs]\nERROR -EBADMSG\n" },
	{ "a NUL byte is reported before a later line too long",
	  "sender=a\0b\nhelo_name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\n", 67, 32, 0,
	  "ERROR -EBADMSG\n" },
	{ "a NUL byte is reported before a later line without '='",
	  "sender=a\0b\nGET / HTTP/1.0\n\n", 27, 0, 0, "ERROR -EBADMSG\n" },
	{ "a NUL byte early in a line too long is reported as a NUL byte",
	  "sender=a\0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\n", 56, 32, 0,
	  "ERROR -EBADMSG\n" },
	{ "requests on one connection may change the order of their attributes",
	  "protocol_state=RCPT\nsender=a@example.org\nsize=1\n\n"
	  "sender=b@example.org\nprotocol_state=DATA\nfuture=1\nsize=2\n\n"
	  "future=1\nsize=3\nsender=c@example.org\nprotocol_state=RCPT\n\n", 0, 0, 0,
	  "protocol_state=RCPT sender=a@example.org size=1 [3 attrs]\n"
	  "protocol_state=DATA sender=b@example.org size=2 [4 attrs, 1 unknown]\n"
	  "protocol_state=RCPT sender=c@example.org size=3 [4 attrs, 1 unknown]\n" },
	{ "a line without '=' closes the connection",
	  "protocol_state=RCPT\nGET / HTTP/1.0\n\n", 0, 0, 0, "ERROR -EBADMSG\n" },
	{ "an empty attribute name closes the connection",
	  "=RCPT\n\n", 0, 0, 0, "ERROR -EBADMSG\n" },
	{ "a request without its empty line at end of input is incomplete",
	  "protocol_state=RCPT\nsender=a@example.org\n", 0, 0, 0, "EOF -ENODATA\n" },
	{ "a complete request then a cut-off one",
	  "protocol_state=RCPT\n\nprotocol_state=DA", 0, 0, 0,
	  "protocol_state=RCPT [1 attrs]\nEOF -ENODATA\n" },
	{ "a request that fits the size limit exactly is accepted",
	  "sender=a@example.org\n\n", 0, 22, 0, "sender=a@example.org [1 attrs]\n" },
	{ "one byte over the size limit closes the connection",
	  "sender=ab@example.org\n\n", 0, 22, 0, "ERROR -EMSGSIZE\n" },
	{ "an endless line without newline hits the size limit",
	  "sender=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 32, 0, "ERROR -EMSGSIZE\n" },
	{ "the size limit applies per request, not per connection",
	  "sender=a@example.org\n\nsender=b@example.org\n\n", 0, 22, 0,
	  "sender=a@example.org [1 attrs]\nsender=b@example.org [1 attrs]\n" },
	{ "more attributes than allowed closes the connection",
	  "a=1\nb=2\nc=3\n\n", 0, 0, 2, "ERROR -E2BIG\n" },
};

/* render - the attributes sent in req, in protocol order */
static void
render(const struct policy_request *req, char *out, size_t size)
{
	size_t n = strlen(out);

	for (int a = 0; a < POLICY_ATTR__MAX; a++)
		if (POLICY_HAS(req, a))
			n += (size_t)snprintf(out + n, size - n, "%s=%s ", policy_attr_name(a),
			    policy_request_attr(req, a));
	n += (size_t)snprintf(out + n, size - n, "[%u attrs", req->n_attrs);
	if (req->n_unknown > 0)
		n += (size_t)snprintf(out + n, size - n, ", %u unknown", req->n_unknown);
	if (req->n_duplicate > 0)
		n += (size_t)snprintf(out + n, size - n, ", %u duplicate", req->n_duplicate);
	snprintf(out + n, size - n, "]\n");
}

static const char *
errname(int r)
{
	switch (r) {
	case -EBADMSG: return "-EBADMSG";
	case -EMSGSIZE: return "-EMSGSIZE";
	case -E2BIG: return "-E2BIG";
	case -ENODATA: return "-ENODATA";
	default: return "?";
	}
}

/*
 * run - feed in[0, len) in chunks of `step` bytes (0 = whole), or split once
 * at `cut` when step is SIZE_MAX; render the outcome into out.
 */
static void
run(const struct pcase *c, const char *in, size_t len, size_t step, size_t cut, char *out)
{
	struct policy_parser *p = policy_parser_new(c->max_request, c->max_attrs);
	size_t pos = 0, used, end;
	int r;

	ck_assert_ptr_nonnull(p);
	out[0] = '\0';
	while (pos < len) {
		end = step == SIZE_MAX ? (pos < cut ? cut : len) :
		    step == 0 ? len : (pos + step < len ? pos + step : len);
		while (pos < end) {
			r = policy_parser_feed(p, in + pos, end - pos, &used);
			if (r < 0) {
				snprintf(out + strlen(out), OUT_MAX - strlen(out), "ERROR %s\n",
				    errname(r));
				ck_assert_int_eq(policy_parser_finish(p), r);
				policy_parser_free(p);
				return;
			}
			ck_assert_uint_le(used, end - pos);
			pos += used;
			if (r == POLICY_REQUEST)
				render(policy_parser_request(p), out, OUT_MAX);
			else
				ck_assert_uint_eq(pos, end);
		}
	}
	if ((r = policy_parser_finish(p)) < 0)
		snprintf(out + strlen(out), OUT_MAX - strlen(out), "EOF %s\n", errname(r));
	policy_parser_free(p);
}

START_TEST(stream_gives_same_requests_however_split)
{
	const struct pcase *c = &cases[_i];
	size_t len = c->len ? c->len : strlen(c->in);
	static char out[OUT_MAX];

	run(c, c->in, len, 0, 0, out);
	ck_assert_msg(strcmp(out, c->want) == 0, "%s (whole):\nwant %s\ngot  %s", c->name,
	    c->want, out);
	run(c, c->in, len, 1, 0, out);
	ck_assert_msg(strcmp(out, c->want) == 0, "%s (byte by byte):\ngot %s", c->name, out);
	for (size_t cut = 1; cut < len; cut++) {
		run(c, c->in, len, SIZE_MAX, cut, out);
		ck_assert_msg(strcmp(out, c->want) == 0, "%s (cut at %zu):\ngot %s", c->name, cut,
		    out);
	}
}
END_TEST

START_TEST(numbers_are_parsed_and_bad_ones_are_zero)
{
	static const char in[] = "size=12345\nrecipient_count=3\nclient_port=52144\n"
	    "server_port=99999\nencryption_keysize=x256\n\n";
	struct policy_parser *p = policy_parser_new(0, 0);
	const struct policy_request *req;
	size_t used;

	ck_assert_int_eq(policy_parser_feed(p, in, sizeof(in) - 1, &used), POLICY_REQUEST);
	req = policy_parser_request(p);
	ck_assert_uint_eq(req->size_n, 12345);
	ck_assert_uint_eq(req->recipient_count_n, 3);
	ck_assert_uint_eq(req->client_port_n, 52144);
	ck_assert_uint_eq(req->server_port_n, 65535);		/* saturates */
	ck_assert_uint_eq(req->encryption_keysize_n, 0);	/* not a number */
	ck_assert_str_eq(req->sender, "");			/* absent reads as "" */
	ck_assert(!POLICY_HAS(req, POLICY_ATTR_SENDER));
	ck_assert_uint_eq(req->bytes, sizeof(in) - 1);
	policy_parser_free(p);
}
END_TEST

START_TEST(error_is_sticky_and_pending_counts_partial_bytes)
{
	struct policy_parser *p = policy_parser_new(0, 0);
	size_t used;

	ck_assert_int_eq(policy_parser_feed(p, "sender=a\n", 9, &used), POLICY_MORE);
	ck_assert_uint_eq(used, 9);
	ck_assert_uint_eq(policy_parser_pending(p), 9);
	ck_assert_ptr_null(policy_parser_request(p));
	ck_assert_int_eq(policy_parser_feed(p, "\n", 1, &used), POLICY_REQUEST);
	ck_assert_uint_eq(policy_parser_pending(p), 0);
	ck_assert_int_eq(policy_parser_finish(p), 0);
	ck_assert_int_eq(policy_parser_feed(p, "bad\n", 4, &used), -EBADMSG);
	ck_assert_int_eq(policy_parser_feed(p, "sender=a\n\n", 10, &used), -EBADMSG);
	ck_assert_uint_eq(used, 0);
	ck_assert_str_ne(policy_strerror(-EBADMSG), policy_strerror(-EMSGSIZE));
	policy_parser_free(p);
	ck_assert_ptr_null(policy_parser_free(NULL));
}
END_TEST

static const struct rcase {
	const char *name, *action;
	size_t size;
	int want_ret;
	const char *want;
} responses[] = {
	{ "a plain action is framed with an empty line", "DUNNO", 64, 14, "action=DUNNO\n\n" },
	{ "text with newlines stays on one line", "DEFER too\nmany\r\nmessages", 64, 33,
	  "action=DEFER too many  messages\n\n" },
	{ "no action at all answers DUNNO", NULL, 64, 14, "action=DUNNO\n\n" },
	{ "a buffer too small is refused", "REJECT go away", 10, -ENOBUFS, NULL },
};

START_TEST(response_is_one_sanitised_line)
{
	const struct rcase *c = &responses[_i];
	char buf[128];

	ck_assert_msg(policy_format_response(buf, c->size, c->action) == c->want_ret, "%s",
	    c->name);
	if (c->want != NULL)
		ck_assert_str_eq(buf, c->want);
}
END_TEST

START_TEST(long_response_is_cut_before_a_utf8_sequence)
{
	static char action[POLICY_ACTION_MAX + 8], buf[POLICY_RESPONSE_MAX];
	int n;

	memset(action, 'a', sizeof(action) - 1);
	/* a 2-byte "é" straddling the cut */
	action[POLICY_ACTION_MAX - 1] = (char)0xc3;
	action[POLICY_ACTION_MAX] = (char)0xa9;
	n = policy_format_response(buf, sizeof(buf), action);
	ck_assert_int_eq(n, (int)(sizeof("action=") - 1 + POLICY_ACTION_MAX - 1 + 2));
	ck_assert_int_eq(buf[n - 3], 'a');
	ck_assert_int_eq(buf[n - 2], '\n');
}
END_TEST

/* rng - xorshift, seeded: the same stream every run */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

START_TEST(random_stream_same_outcome_in_random_chunks)
{
	static char in[4096], whole[OUT_MAX], chunked[OUT_MAX];
	struct pcase c = { .name = "random", .max_request = 300, .max_attrs = 10 };
	static const char *const pieces[] = { "sender=", "a", "=", "\n", "\n", "\r", "x",
	    "client_address=192.0.2.1", "\0", "protocol_state=RCPT\n" };

	for (int round = 0; round < 300; round++) {
		size_t n = 0;

		while (n < sizeof(in) - 32) {
			const char *pc = pieces[rng() % N(pieces)];
			size_t pl = *pc == '\0' ? 1 : strlen(pc);

			if (*pc == '\0' && rng() % 20 != 0)
				continue;	/* NUL rarely, so most streams get far */
			memcpy(in + n, pc, pl);
			n += pl;
		}
		run(&c, in, n, 0, 0, whole);
		run(&c, in, n, 1 + rng() % 700, 0, chunked);	/* the same in other chunks */
		ck_assert_str_eq(chunked, whole);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy_proto");
	TCase *tc = tcase_create("framing");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, stream_gives_same_requests_however_split, 0, N(cases));
	tcase_add_test(tc, numbers_are_parsed_and_bad_ones_are_zero);
	tcase_add_test(tc, error_is_sticky_and_pending_counts_partial_bytes);
	tcase_add_loop_test(tc, response_is_one_sanitised_line, 0, N(responses));
	tcase_add_test(tc, long_response_is_cut_before_a_utf8_sequence);
	tcase_add_test(tc, random_stream_same_outcome_in_random_chunks);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
