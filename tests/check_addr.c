/*
 * NAME
 *	check_addr - client address forms: canonical text and name[addr]:port
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "testutil.h"

static const struct canon_case {
	const char *name, *in, *want;	/* want NULL: must be rejected */
} canon_cases[] = {
	{ "a plain IPv4 address stays as it is", "192.0.2.7", "192.0.2.7" },
	{ "IPv6 is lower-cased and compressed", "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
	{ "an IPv6 literal with the IPv6: prefix loses the prefix", "IPv6:2001:db8::5",
	  "2001:db8::5" },
	{ "an IPv4-mapped IPv6 address is the IPv4 client", "::ffff:198.51.100.9",
	  "198.51.100.9" },
	{ "the loopback ::1 is kept", "::1", "::1" },
	{ "an octet above 255 is not an address", "999.1.1.1", NULL },
	{ "three octets are not an address", "192.0.2", NULL },
	{ "five octets are not an address", "192.0.2.1.5", NULL },
	{ "a leading zero is refused, as inet_pton does", "192.0.2.01", NULL },
	{ "a single zero octet is fine", "0.0.0.0", "0.0.0.0" },
	{ "the top of the range is fine", "255.255.255.255", "255.255.255.255" },
	{ "a trailing dot is not an address", "192.0.2.1.", NULL },
	{ "a four-digit octet is not an address", "1920.0.2.1", NULL },
	{ "a host name is not an address", "mail.example.net", NULL },
	{ "an empty string is not an address", "", NULL },
	{ "a non-hex IPv6 group is not an address", "2001:db8::g", NULL },
	{ "the word unknown is not an address", "unknown", NULL },
};

START_TEST(addr_canon_gives_canonical_text)
{
	const struct canon_case *c = &canon_cases[_i];
	char buf[MX_ADDR_MAX];
	int n;

	n = addr_canon(c->in, strlen(c->in), buf, sizeof(buf));
	if (c->want == NULL) {
		ck_assert_msg(n < 0, "%s: accepted as %s", c->name, buf);
	} else {
		ck_assert_msg(n > 0, "%s: rejected", c->name);
		ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got %s", c->name, buf);
	}
}
END_TEST

static const struct namaddr_case {
	const char *name, *in;
	int want_ret;
	const char *want_name, *want_ip;
	unsigned want_port;
	size_t want_end;
} namaddr_cases[] = {
	{ "smtpd designation without port", "unknown[192.0.2.1]", 0, "unknown", "192.0.2.1",
	  0, 18 },
	{ "smtpd designation with port", "mx.example.org[198.51.100.3]:2525 x", 0,
	  "mx.example.org", "198.51.100.3", 2525, 33 },
	{ "postscreen designation has no name", "[203.0.113.7]:52144", 0, "", "203.0.113.7",
	  52144, 19 },
	{ "IPv6 inside brackets", "unknown[2001:db8::25]:25", 0, "unknown", "2001:db8::25",
	  25, 24 },
	{ "unknown[unknown] splits but has no address", "unknown[unknown]", 0, "unknown",
	  "unknown", 0, 16 },
	{ "a port above 65535 is rejected", "x[192.0.2.1]:99999", -1, NULL, NULL, 0, 0 },
	{ "no brackets is rejected", "192.0.2.1", -1, NULL, NULL, 0, 0 },
	{ "an unterminated bracket is rejected", "x[192.0.2.1", -1, NULL, NULL, 0, 0 },
	{ "empty brackets are rejected", "x[]", -1, NULL, NULL, 0, 0 },
};

START_TEST(addr_parse_namaddr_splits_designation)
{
	const struct namaddr_case *c = &namaddr_cases[_i];
	struct mx_addr a;
	int r;

	r = addr_parse_namaddr(c->in, strlen(c->in), &a);
	if (c->want_ret < 0) {
		ck_assert_msg(r < 0, "%s: accepted", c->name);
		return;
	}
	ck_assert_msg(r == 0, "%s: rejected", c->name);
	ck_assert_msg(a.name_len == strlen(c->want_name) &&
	    memcmp(a.name, c->want_name, a.name_len) == 0, "%s: name", c->name);
	ck_assert_msg(a.ip_len == strlen(c->want_ip) &&
	    memcmp(a.ip, c->want_ip, a.ip_len) == 0, "%s: ip", c->name);
	ck_assert_uint_eq(a.port, c->want_port);
	ck_assert_uint_eq(a.end, c->want_end);
}
END_TEST

START_TEST(addr_set_namaddr_fills_event_and_skips_unknown)
{
	struct mx_event *ev = tst_event();
	const char *s;

	event_reset(ev);
	s = "mail.example.org[IPv6:2001:DB8::1]:587";
	ck_assert_int_eq(addr_set_namaddr(ev, s, strlen(s)), 0);
	ck_assert_str_eq(ev->client_ip, "2001:db8::1");
	ck_assert_str_eq(ev->client_name, "mail.example.org");
	ck_assert_uint_eq(ev->client_port, 587);

	event_reset(ev);
	s = "unknown[unknown]";
	ck_assert_int_eq(addr_set_namaddr(ev, s, strlen(s)), 0);
	ck_assert_ptr_null(ev->client_ip);
	ck_assert_str_eq(ev->client_name, "unknown");

	event_reset(ev);
	s = "bad[300.1.1.1]";
	ck_assert_int_lt(addr_set_namaddr(ev, s, strlen(s)), 0);
	ck_assert_ptr_null(ev->client_ip);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("forms");

	tcase_add_loop_test(tc, addr_canon_gives_canonical_text, 0, N(canon_cases));
	tcase_add_loop_test(tc, addr_parse_namaddr_splits_designation, 0, N(namaddr_cases));
	tcase_add_test(tc, addr_set_namaddr_fills_event_and_skips_unknown);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
