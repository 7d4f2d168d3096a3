/*
 * NAME
 *	check_event - the event contract: kind names, arena, JSONL and TSV rendering
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "testutil.h"

static char out[MX_EVENT_FORMAT_MAX];

START_TEST(every_kind_has_a_unique_snake_case_name_that_round_trips)
{
	for (int k = 1; k < MX_EVENT__MAX; k++) {
		const char *name = event_kind_name((enum mx_event_kind)k);

		ck_assert_msg(strcmp(name, "none") != 0, "kind %d has no name", k);
		for (const char *p = name; *p != '\0'; p++)
			ck_assert_msg((*p >= 'a' && *p <= 'z') || *p == '_',
			    "kind name %s is not snake_case", name);
		ck_assert_int_eq(event_kind_from_name(name), k);
	}
	ck_assert_int_eq(event_kind_from_name("no_such_kind"), MX_EVENT_NONE);
	ck_assert_str_eq(event_kind_name(MX_EVENT__MAX), "none");
}
END_TEST

START_TEST(jsonl_writes_known_fields_in_contract_order_and_omits_unknown)
{
	struct mx_event *ev = tst_event();
	int n;

	event_reset(ev);
	ev->kind = MX_EVENT_AUTH_FAILURE;
	ev->ts_usec = 1795309323123456LL;
	event_setz(ev, &ev->host, "mail");
	event_setz(ev, &ev->program, "postfix/submission/smtpd");
	event_setz(ev, &ev->daemon, "smtpd");
	event_setz(ev, &ev->listener, "postfix/submission");
	ev->pid = 32129;
	event_setz(ev, &ev->client_ip, "192.0.2.6");
	event_setz(ev, &ev->client_name, "unknown");
	ev->proxied = 0;
	event_setz(ev, &ev->user, "heidi@example.net");
	event_setz(ev, &ev->method, "PLAIN");
	event_setz(ev, &ev->reason, "(reason unavailable)");
	n = event_format_jsonl(ev, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(out,
	    "{\"ts\":\"2026-11-22T01:02:03.123456Z\",\"host\":\"mail\","
	    "\"program\":\"postfix/submission/smtpd\",\"daemon\":\"smtpd\","
	    "\"listener\":\"postfix/submission\",\"pid\":32129,\"event\":\"auth_failure\","
	    "\"client_ip\":\"192.0.2.6\",\"client_name\":\"unknown\",\"proxied\":false,"
	    "\"user\":\"heidi@example.net\",\"method\":\"PLAIN\","
	    "\"reason\":\"(reason unavailable)\"}\n");
	ck_assert_int_eq(n, (int)strlen(out));
}
END_TEST

START_TEST(jsonl_escapes_control_bytes_quotes_and_invalid_utf8)
{
	struct mx_event *ev = tst_event();

	event_reset(ev);
	ev->kind = MX_EVENT_POSTSCREEN_PREGREET;
	event_setz(ev, &ev->reason, "EHLO \"x\"\\\r\n\x01\xff caf\xc3\xa9");
	ck_assert_int_gt(event_format_jsonl(ev, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "{\"event\":\"postscreen_pregreet\",\"reason\":"
	    "\"EHLO \\\"x\\\"\\\\\\r\\n\\u0001\\u00ff caf\xc3\xa9\"}\n");

	/* a surrogate, an overlong '/', an emoji, a sequence cut short by the end */
	event_setz(ev, &ev->reason, "s\xed\xa0\x80 o\xc0\xaf e\xf0\x9f\x98\x80 t\xe2\x82");
	ck_assert_int_gt(event_format_jsonl(ev, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "{\"event\":\"postscreen_pregreet\",\"reason\":"
	    "\"s\\u00ed\\u00a0\\u0080 o\\u00c0\\u00af e\xf0\x9f\x98\x80 t\\u00e2\\u0082\"}\n");
}
END_TEST

START_TEST(jsonl_renders_smtpd_stats_as_an_object_of_strings)
{
	struct mx_event *ev = tst_event();

	event_reset(ev);
	ev->kind = MX_EVENT_DISCONNECT;
	event_setz(ev, &ev->stats, "ehlo=1 auth=0/1 commands=1/2");
	ck_assert_int_gt(event_format_jsonl(ev, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "{\"event\":\"disconnect\",\"stats\":"
	    "{\"ehlo\":\"1\",\"auth\":\"0/1\",\"commands\":\"1/2\"}}\n");
}
END_TEST

START_TEST(tsv_has_one_cell_per_header_column_with_dash_for_unknown)
{
	struct mx_event *ev = tst_event();
	size_t tabs_header = 0, tabs_row = 0;

	event_reset(ev);
	ev->kind = MX_EVENT_CONNECT;
	event_setz(ev, &ev->client_ip, "203.0.113.7");
	event_setz(ev, &ev->reason, "a\tb");
	ck_assert_int_gt(event_format_tsv(ev, out, sizeof(out)), 0);
	for (const char *p = event_tsv_header; *p; p++)
		tabs_header += *p == '\t';
	for (const char *p = out; *p; p++)
		tabs_row += *p == '\t';
	ck_assert_uint_eq(tabs_header, tabs_row);
	ck_assert_ptr_nonnull(strstr(out, "\tconnect\t203.0.113.7\t"));
	ck_assert_ptr_nonnull(strstr(out, "a\\tb"));
	ck_assert_int_eq(out[0], '-');
}
END_TEST

START_TEST(a_too_small_buffer_is_an_error_not_a_truncated_line)
{
	struct mx_event *ev = tst_event();
	char small[16];

	event_reset(ev);
	ev->kind = MX_EVENT_CONNECT;
	event_setz(ev, &ev->client_ip, "203.0.113.7");
	ck_assert_int_lt(event_format_jsonl(ev, small, sizeof(small)), 0);
	ck_assert_int_lt(event_format_tsv(ev, small, sizeof(small)), 0);
}
END_TEST

START_TEST(the_arena_holds_every_field_of_a_maximal_line_and_refuses_beyond)
{
	struct mx_event *ev = tst_event();
	static char big[MX_LINE_MAX];

	memset(big, 'a', sizeof(big));
	event_reset(ev);
	ck_assert_int_eq(event_set(ev, &ev->reason, big, sizeof(big)), 0);
	ck_assert_int_eq(event_set(ev, &ev->sender, big, sizeof(big)), 0);
	ck_assert_int_eq(event_set(ev, &ev->recipient, big, 1000), 0);
	ck_assert_int_eq(event_set(ev, &ev->helo, big, sizeof(big)), -ENOBUFS);
	ck_assert_ptr_null(ev->helo);
	ck_assert_uint_eq(strlen(ev->reason), sizeof(big));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("contract");

	tcase_add_test(tc, every_kind_has_a_unique_snake_case_name_that_round_trips);
	tcase_add_test(tc, jsonl_writes_known_fields_in_contract_order_and_omits_unknown);
	tcase_add_test(tc, jsonl_escapes_control_bytes_quotes_and_invalid_utf8);
	tcase_add_test(tc, jsonl_renders_smtpd_stats_as_an_object_of_strings);
	tcase_add_test(tc, tsv_has_one_cell_per_header_column_with_dash_for_unknown);
	tcase_add_test(tc, a_too_small_buffer_is_an_error_not_a_truncated_line);
	tcase_add_test(tc, the_arena_holds_every_field_of_a_maximal_line_and_refuses_beyond);
	suite_add_tcase(s, tc);
	return tst_run_suite(s);
}
