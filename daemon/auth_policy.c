/*
 * NAME
 *	auth_policy - Dovecot's HTTP authentication policy server on the policy loop
 * SYNOPSIS
 *	#include "auth_policy.h"
 *
 *	r = auth_policy_new(e, &conf, policy, &ap);
 *	... sd_event_loop(e) ...
 *	ap = auth_policy_free(ap);
 * DESCRIPTION
 *	Two layers. auth_policy_handle() turns (command, JSON body) into a
 *	Dovecot answer with policy_decide() / policy_observe_packed(): pure
 *	apart from the policy it is given. The rest is HTTP, by
 *	libmicrohttpd in "external epoll" mode: MHD keeps its sockets in an
 *	epoll set of its own, whose descriptor is one io source on the
 *	caller's sd-event loop; MHD_run() is called when it is readable and
 *	when the one time source armed from MHD_get_timeout() fires
 *	(connection timeouts, data MHD already holds). So requests are
 *	answered on the loop that owns the policy, as Postfix's are, with no
 *	thread and no lock; the alternative, MHD's internal thread plus a
 *	mutex around every policy call, would make Postfix's answers wait
 *	on Dovecot's and add a second writer to single-threaded counters.
 *
 *	A request is read in MHD's connection-handler calls: the first (all
 *	headers read) checks the method, the API key and a declared
 *	Content-Length; the next ones append the body, up to body_max; the
 *	last one answers. A body over the limit is not stored, only noticed,
 *	and answered 413.
 * SEE ALSO
 *	auth_policy.h (the contract), policy.h, tests/check_auth_policy.c
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "auth_policy.h"
#include "authfail.h"
#include "clock.h"
#include "log.h"

/* Longest login name kept; longer ones are cut (counters cut keys at 256 anyway). */
#define AUTH_POLICY_FIELD_MAX	POLICY_TEXT_MAX
/* Headers of one request: Dovecot sends about 300 bytes of them. */
#define AUTH_POLICY_CONN_MEMORY	(32 * 1024)
/* Longest wait between MHD_run() calls, whatever MHD says. */
#define AUTH_POLICY_TICK_MAX_MS	(60 * 1000)

struct auth_policy {
	sd_event *e;
	sd_event_source *io, *timer;
	struct MHD_Daemon *mhd;
	struct policy *policy;
	struct auth_policy_conf conf;
	char *listen, *api_header, *api_key;	/* owned copies behind conf */
	int fd;					/* listening socket (MHD closes it) */
	struct auth_policy_stats stats;
};

/* One HTTP request being read. */
struct auth_policy_req {
	char *body;
	size_t len, size;
	int too_big;
};

/* The attributes of one Dovecot request that we read, as NUL-terminated copies. */
struct auth_policy_fields {
	char login[AUTH_POLICY_FIELD_MAX];
	char remote[POLICY_ADDR_MAX];
	char local[POLICY_ADDR_MAX];
	char protocol[POLICY_WORD_MAX];
	char session[POLICY_WORD_MAX];
	char remote_port[8], local_port[8];
	int success;
};

static int auth_policy_parse(const char *body, size_t len, struct auth_policy_fields *f,
    char *why, size_t size);
static void auth_policy_request(const struct auth_policy_fields *f, struct policy_request *req);
static void auth_policy_run(struct auth_policy *ap);

/* ------------------------------------------------------------ the answer */

/* auth_policy_skip_status - past an enhanced status code "4.7.1 " at s, if there is one */
static const char *
auth_policy_skip_status(const char *s)
{
	const char *p = s;

	if (!isdigit((unsigned char)p[0]) || p[1] != '.')
		return s;
	for (p += 2; isdigit((unsigned char)*p); p++)
		;
	if (*p++ != '.' || !isdigit((unsigned char)*p))
		return s;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p != ' ' && *p != '\0')
		return s;
	while (*p == ' ')
		p++;
	return p;
}

/* auth_policy_status - the Dovecot status for a Postfix-style action, its text in msg */
int
auth_policy_status(const char *action, unsigned defer_delay, char *msg, size_t size)
{
	char word[32];
	const char *text;
	size_t n;
	int refuse, defer;

	if (size > 0)
		msg[0] = '\0';
	if (action == NULL)
		return 0;
	while (*action == ' ')
		action++;
	for (n = 0; action[n] != '\0' && action[n] != ' ' && n + 1 < sizeof(word); n++)
		word[n] = (char)toupper((unsigned char)action[n]);
	word[n] = '\0';
	for (text = action + n; *text != '\0' && *text != ' '; text++)
		;
	while (*text == ' ')
		text++;
	if (n == 3 && isdigit((unsigned char)word[0]) && isdigit((unsigned char)word[1]) &&
	    isdigit((unsigned char)word[2])) {
		refuse = word[0] == '5';
		defer = word[0] == '4';
		text = auth_policy_skip_status(text);
	} else {
		refuse = strcmp(word, "REJECT") == 0;
		defer = strcmp(word, "DEFER") == 0 || strcmp(word, "DEFER_IF_PERMIT") == 0;
	}
	if (!refuse && !defer)
		return 0;
	if (size > 0)
		snprintf(msg, size, "%s", text);
	if (defer && defer_delay > AUTH_POLICY_DELAY_MAX)
		return AUTH_POLICY_DELAY_MAX;
	if (defer && defer_delay > 0)
		return (int)defer_delay;
	return -1;
}

/* auth_policy_copy - a JSON value as text into buf (cut to size); "" for null or absent */
static void
auth_policy_copy(json_object *obj, const char *key, char *buf, size_t size)
{
	json_object *v;
	const char *s;

	buf[0] = '\0';
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return;
	if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
		return;
	if ((s = json_object_get_string(v)) != NULL)
		snprintf(buf, size, "%s", s);
}

/* auth_policy_true - a boolean attribute: true, 1, "true", "yes", "1" */
static int
auth_policy_true(json_object *obj, const char *key)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_boolean:
	case json_type_int:
		return json_object_get_boolean(v);
	case json_type_string:
		s = json_object_get_string(v);
		return strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
		    strcmp(s, "1") == 0;
	default:
		return 0;
	}
}

/* auth_policy_canon_ip - s as a canonical address (inet_ntop) in place; "" if it is none */
static void
auth_policy_canon_ip(char *s, size_t size)
{
	unsigned char a[sizeof(struct in6_addr)];
	int family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(family, s, a) != 1 || inet_ntop(family, a, s, (socklen_t)size) == NULL)
		s[0] = '\0';
}

/* auth_policy_parse - the attributes we read from a JSON body; -EBADMSG with why */
static int
auth_policy_parse(const char *body, size_t len, struct auth_policy_fields *f, char *why,
    size_t size)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error err;
	size_t end;
	int r = 0;

	memset(f, 0, sizeof(*f));
	if (len == 0 || memchr(body, '\0', len) != NULL) {
		snprintf(why, size, "%s", len == 0 ? "empty body" : "NUL byte in the body");
		return -EBADMSG;
	}
	if ((tok = json_tokener_new_ex(AUTH_POLICY_JSON_DEPTH)) == NULL)
		return -ENOMEM;
	obj = json_tokener_parse_ex(tok, body, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	while (end < len && isspace((unsigned char)body[end]))
		end++;
	if (obj == NULL || err != json_tokener_success) {
		snprintf(why, size, "body is not JSON: %s", err == json_tokener_continue ?
		    "unexpected end" : json_tokener_error_desc(err));
		r = -EBADMSG;
	} else if (end != len) {
		snprintf(why, size, "body is not JSON: data after the object");
		r = -EBADMSG;
	} else if (!json_object_is_type(obj, json_type_object)) {
		snprintf(why, size, "body is not a JSON object");
		r = -EBADMSG;
	} else {
		auth_policy_copy(obj, "login", f->login, sizeof(f->login));
		auth_policy_copy(obj, "remote", f->remote, sizeof(f->remote));
		auth_policy_copy(obj, "local", f->local, sizeof(f->local));
		auth_policy_copy(obj, "protocol", f->protocol, sizeof(f->protocol));
		auth_policy_copy(obj, "session_id", f->session, sizeof(f->session));
		auth_policy_copy(obj, "remote_port", f->remote_port, sizeof(f->remote_port));
		auth_policy_copy(obj, "local_port", f->local_port, sizeof(f->local_port));
		f->success = auth_policy_true(obj, "success");
		auth_policy_canon_ip(f->remote, sizeof(f->remote));
		auth_policy_canon_ip(f->local, sizeof(f->local));
		for (char *p = f->protocol; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
	}
	json_object_put(obj);
	json_tokener_free(tok);
	return r;
}

/* auth_policy_port_number - a port attribute as a number; 0 if it is none */
static unsigned
auth_policy_port_number(const char *s)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return 0;
	v = strtoul(s, &end, 10);
	return *end == '\0' && v <= 65535 ? (unsigned)v : 0;
}

/* auth_policy_request - the policy request (protocol_state AUTH) standing for f */
static void
auth_policy_request(const struct auth_policy_fields *f, struct policy_request *req)
{
	static const struct policy_request empty = {
		.request = "", .protocol_state = "", .protocol_name = "", .helo_name = "",
		.queue_id = "", .sender = "", .recipient = "", .recipient_count = "",
		.client_address = "", .client_name = "", .reverse_client_name = "",
		.instance = "", .sasl_method = "", .sasl_username = "", .sasl_sender = "",
		.size = "", .ccert_subject = "", .ccert_issuer = "", .ccert_fingerprint = "",
		.encryption_protocol = "", .encryption_cipher = "", .encryption_keysize = "",
		.etrn_domain = "", .stress = "", .ccert_pubkey_fingerprint = "",
		.client_port = "", .policy_context = "", .server_address = "",
		.server_port = "", .compatibility_level = "", .mail_version = "",
	};

	*req = empty;
	req->request = "dovecot_auth_policy";
	req->protocol_state = "AUTH";
	req->protocol_name = f->protocol;
	req->client_address = f->remote;
	req->sasl_username = f->login;
	req->server_address = f->local;
	req->client_port = f->remote_port;
	req->server_port = f->local_port;
	req->client_port_n = auth_policy_port_number(f->remote_port);
	req->server_port_n = auth_policy_port_number(f->local_port);
	req->present = UINT64_C(1) << POLICY_ATTR_REQUEST |
	    UINT64_C(1) << POLICY_ATTR_PROTOCOL_STATE;
	if (f->protocol[0] != '\0')
		req->present |= UINT64_C(1) << POLICY_ATTR_PROTOCOL_NAME;
	if (f->remote[0] != '\0')
		req->present |= UINT64_C(1) << POLICY_ATTR_CLIENT_ADDRESS;
	if (f->login[0] != '\0')
		req->present |= UINT64_C(1) << POLICY_ATTR_SASL_USERNAME;
	if (f->local[0] != '\0')
		req->present |= UINT64_C(1) << POLICY_ATTR_SERVER_ADDRESS;
	if (f->remote_port[0] != '\0')
		req->present |= UINT64_C(1) << POLICY_ATTR_CLIENT_PORT;
	if (f->local_port[0] != '\0')
		req->present |= UINT64_C(1) << POLICY_ATTR_SERVER_PORT;
}

/* auth_policy_allow - command=allow: let the rules decide */
static void
auth_policy_allow(struct policy *p, const struct auth_policy_conf *conf,
    const struct auth_policy_fields *f, int64_t now_usec, struct auth_policy_answer *ret)
{
	struct policy_request req;
	struct rules_decision d;
	char action[POLICY_ACTION_MAX + 1];
	int r;

	auth_policy_request(f, &req);
	r = policy_decide(p, &req, now_usec, &d);
	ret->failed = r < 0 || d.failed;
	if (policy_format_action(&d, action, sizeof(action)) < 0)
		snprintf(action, sizeof(action), "DUNNO");
	ret->status = auth_policy_status(action, conf->defer_delay, ret->msg, sizeof(ret->msg));
}

/*
 * auth_policy_report - command=report: a failed login counts in the history, as
 * the auth process's line of that attempt would (authfail.h pairs the two). A
 * success is not passed on: the session's auth lines, read from the log later
 * than the report came, must still find the session's reports.
 */
static void
auth_policy_report(struct policy *p, const struct auth_policy_conf *conf,
    const struct auth_policy_fields *f, int64_t now_usec, struct auth_policy_answer *ret)
{
	struct policy_event pe;

	if (!conf->count_reports || f->remote[0] == '\0' || f->success)
		return;
	memset(&pe, 0, sizeof(pe));
	pe.kind = MX_EVENT_AUTH_LOOKUP_FAILURE;
	pe.ts_usec = now_usec;
	pe.attempts = 1;
	snprintf(pe.daemon, sizeof(pe.daemon), "%s", AUTHFAIL_REPORT_DAEMON);
	snprintf(pe.client_ip, sizeof(pe.client_ip), "%s", f->remote);
	snprintf(pe.user, sizeof(pe.user), "%s", f->login);
	snprintf(pe.session, sizeof(pe.session), "%s", f->session);
	if (policy_observe_packed(p, &pe, now_usec) >= 0)
		ret->counted = 1;
}

/* auth_policy_handle - one Dovecot request, without HTTP */
int
auth_policy_handle(struct policy *p, const struct auth_policy_conf *conf, const char *command,
    const char *body, size_t len, int64_t now_usec, struct auth_policy_answer *ret)
{
	struct auth_policy_fields f;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->http = 400;
	if (command == NULL || (strcmp(command, "allow") != 0 && strcmp(command, "report") != 0)) {
		snprintf(ret->msg, sizeof(ret->msg), command == NULL ? "no command in the URL" :
		    "unknown command (allow, report)");
		return 0;
	}
	r = auth_policy_parse(body, len, &f, ret->msg, sizeof(ret->msg));
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	ret->http = 200;
	ret->msg[0] = '\0';
	if (strcmp(command, "allow") == 0)
		auth_policy_allow(p, conf, &f, now_usec, ret);
	else
		auth_policy_report(p, conf, &f, now_usec, ret);
	return 0;
}

/* ------------------------------------------------------------------ HTTP */

/* auth_policy_reply - queue a JSON answer: {"status":N[,"msg":...]} or {"error":...} */
static enum MHD_Result
auth_policy_reply(struct MHD_Connection *c, unsigned http, int status, const char *msg)
{
	struct MHD_Response *resp;
	json_object *obj;
	const char *s;
	enum MHD_Result r = MHD_NO;

	if ((obj = json_object_new_object()) == NULL)
		return MHD_NO;
	if (http == 200) {
		json_object_object_add(obj, "status", json_object_new_int(status));
		if (msg != NULL && *msg != '\0')
			json_object_object_add(obj, "msg", json_object_new_string(msg));
	} else {
		json_object_object_add(obj, "error", json_object_new_string(msg));
	}
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	resp = MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
	if (resp != NULL) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		r = MHD_queue_response(c, http, resp);
		MHD_destroy_response(resp);
	}
	json_object_put(obj);
	return r;
}

/* auth_policy_refuse - answer an HTTP error and count it */
static enum MHD_Result
auth_policy_refuse(struct auth_policy *ap, struct MHD_Connection *c, unsigned http,
    const char *why)
{
	ap->stats.bad_requests++;
	log_debug("auth-policy: answering %u: %s", http, why);
	return auth_policy_reply(c, http, 0, why);
}

/* auth_policy_key_ok - the API key, compared in constant time, when one is required */
static int
auth_policy_key_ok(const struct auth_policy *ap, struct MHD_Connection *c)
{
	const char *got, *want = ap->conf.api_key;
	size_t n, i;
	unsigned char diff = 0;

	if (want == NULL || *want == '\0')
		return 1;
	got = MHD_lookup_connection_value(c, MHD_HEADER_KIND, ap->conf.api_header);
	if (got == NULL)
		return 0;
	while (*got == ' ')
		got++;
	n = strlen(want);
	if (strlen(got) != n)
		return 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(got[i] ^ want[i]);
	return diff == 0;
}

/* auth_policy_first - the headers are in: method, key, declared length */
static enum MHD_Result
auth_policy_first(struct auth_policy *ap, struct MHD_Connection *c, const char *method,
    void **con_cls)
{
	const char *cl;
	struct auth_policy_req *rq;

	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return auth_policy_refuse(ap, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only POST");
	if (!auth_policy_key_ok(ap, c))
		return auth_policy_refuse(ap, c, MHD_HTTP_UNAUTHORIZED, "missing or wrong API key");
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && strtoull(cl, NULL, 10) > ap->conf.body_max)
		return auth_policy_refuse(ap, c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return MHD_NO;
	*con_cls = rq;
	return MHD_YES;
}

/* auth_policy_append - a piece of the body; beyond body_max only noted */
static int
auth_policy_append(struct auth_policy *ap, struct auth_policy_req *rq, const char *data,
    size_t n)
{
	if (rq->too_big || n > ap->conf.body_max - rq->len) {
		rq->too_big = 1;
		return 0;
	}
	if (rq->len + n > rq->size) {
		size_t size = rq->size == 0 ? 1024 : rq->size;
		char *nb;

		while (size < rq->len + n)
			size *= 2;
		if (size > ap->conf.body_max)
			size = ap->conf.body_max;
		if ((nb = realloc(rq->body, size)) == NULL)
			return -ENOMEM;
		rq->body = nb;
		rq->size = size;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	return 0;
}

/* auth_policy_answer - the whole request is in: decide and answer */
static enum MHD_Result
auth_policy_answer(struct auth_policy *ap, struct MHD_Connection *c, struct auth_policy_req *rq)
{
	struct auth_policy_answer a;
	const char *command;
	int r;

	if (rq->too_big)
		return auth_policy_refuse(ap, c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	command = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "command");
	r = auth_policy_handle(ap->policy, &ap->conf, command, rq->body == NULL ? "" : rq->body,
	    rq->len, clock_now_usec(), &a);
	if (r < 0) {
		ap->stats.errors++;
		return auth_policy_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, 0, "out of memory");
	}
	if (a.http != 200)
		return auth_policy_refuse(ap, c, a.http, a.msg);
	if (strcmp(command, "report") == 0) {
		ap->stats.reports++;
		ap->stats.failures_counted += (uint64_t)a.counted;
	} else {
		ap->stats.allow++;
		ap->stats.refused += a.status < 0;
		ap->stats.delayed += a.status > 0;
		ap->stats.errors += (uint64_t)a.failed;
	}
	return auth_policy_reply(c, 200, a.status, a.msg);
}

/* auth_policy_access - MHD's connection handler: called per header block and body piece */
static enum MHD_Result
auth_policy_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct auth_policy *ap = cls;
	struct auth_policy_req *rq = *con_cls;

	if (rq == NULL)
		return auth_policy_first(ap, c, method, con_cls);
	if (*upload_data_size > 0) {
		if (auth_policy_append(ap, rq, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return auth_policy_answer(ap, c, rq);
}

/* auth_policy_completed - MHD is done with a request: free what we kept for it */
static void
auth_policy_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct auth_policy_req *rq = *con_cls;

	if (rq != NULL) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* auth_policy_mhd_log - MHD's own messages (malformed HTTP, ...) at debug level */
static void
auth_policy_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_debug("auth-policy: http: %s", buf);
}

/* ------------------------------------------------------- the event loop */

/* auth_policy_arm - the time source at MHD's next deadline, or off */
static void
auth_policy_arm(struct auth_policy *ap)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now;

	if (MHD_get_timeout(ap->mhd, &ms) != MHD_YES) {
		sd_event_source_set_enabled(ap->timer, SD_EVENT_OFF);
		return;
	}
	if (ms > AUTH_POLICY_TICK_MAX_MS)
		ms = AUTH_POLICY_TICK_MAX_MS;
	if (sd_event_now(ap->e, CLOCK_MONOTONIC, &now) < 0)
		now = (uint64_t)clock_mono_usec();
	sd_event_source_set_time(ap->timer, now + (uint64_t)ms * 1000);
	sd_event_source_set_enabled(ap->timer, SD_EVENT_ONESHOT);
}

/* auth_policy_run - let MHD accept, read, answer and time out; then re-arm */
static void
auth_policy_run(struct auth_policy *ap)
{
	if (MHD_run(ap->mhd) != MHD_YES)
		log_debug("auth-policy: MHD_run failed");
	auth_policy_arm(ap);
}

/* auth_policy_on_io - MHD's epoll set has something ready */
static int
auth_policy_on_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	auth_policy_run(ud);
	return 0;
}

/* auth_policy_on_time - MHD's deadline */
static int
auth_policy_on_time(sd_event_source *s, uint64_t usec, void *ud)
{
	auth_policy_run(ud);
	return 0;
}

/* ---------------------------------------------------------- life cycle */

/* auth_policy_listen - a listening TCP socket for "host:port" or "[v6]:port" */
static int
auth_policy_listen(const char *spec)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = spec;
	size_t hlen;
	struct sockaddr_storage ss;
	socklen_t slen;
	unsigned port;
	char *end;
	unsigned long v;
	int fd, one = 1;

	if (spec == NULL || (colon = strrchr(spec, ':')) == NULL)
		return -EINVAL;
	hlen = (size_t)(colon - spec);
	if (*h == '[') {
		if (hlen < 2 || spec[hlen - 1] != ']')
			return -EINVAL;
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host) || !isdigit((unsigned char)colon[1]))
		return -EINVAL;
	v = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || v > 65535)
		return -EINVAL;
	port = (unsigned)v;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		slen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		slen = sizeof(*sin6);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, slen) < 0 || listen(fd, SOMAXCONN) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* auth_policy_conf_copy - conf with defaults filled and strings owned by ap */
static int
auth_policy_conf_copy(struct auth_policy *ap, const struct auth_policy_conf *conf)
{
	ap->conf = *conf;
	ap->listen = strdup(conf->listen != NULL ? conf->listen : "");
	ap->api_header = strdup(conf->api_header != NULL && *conf->api_header != '\0' ?
	    conf->api_header : "X-API-Key");
	ap->api_key = conf->api_key != NULL ? strdup(conf->api_key) : NULL;
	if (ap->listen == NULL || ap->api_header == NULL ||
	    (conf->api_key != NULL && ap->api_key == NULL))
		return -ENOMEM;
	ap->conf.listen = ap->listen;
	ap->conf.api_header = ap->api_header;
	ap->conf.api_key = ap->api_key;
	if (ap->conf.max_connections == 0)
		ap->conf.max_connections = AUTH_POLICY_CONNECTIONS_DEFAULT;
	if (ap->conf.timeout_sec == 0)
		ap->conf.timeout_sec = AUTH_POLICY_TIMEOUT_DEFAULT;
	if (ap->conf.body_max == 0)
		ap->conf.body_max = AUTH_POLICY_BODY_DEFAULT;
	if (ap->conf.body_max > AUTH_POLICY_BODY_MAX)
		ap->conf.body_max = AUTH_POLICY_BODY_MAX;
	if (ap->conf.defer_delay > AUTH_POLICY_DELAY_MAX)
		ap->conf.defer_delay = AUTH_POLICY_DELAY_MAX;
	return 0;
}

/* auth_policy_start - MHD on the listening socket, hooked into the loop */
static int
auth_policy_start(struct auth_policy *ap)
{
	const union MHD_DaemonInfo *info;
	int r;

	ap->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    auth_policy_access, ap,
	    MHD_OPTION_LISTEN_SOCKET, ap->fd,
	    MHD_OPTION_CONNECTION_LIMIT, ap->conf.max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, ap->conf.timeout_sec,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)AUTH_POLICY_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, auth_policy_completed, ap,
	    MHD_OPTION_EXTERNAL_LOGGER, auth_policy_mhd_log, ap,
	    MHD_OPTION_END);
	if (ap->mhd == NULL)
		return -EIO;
	ap->fd = -1;		/* MHD owns it now */
	if ((info = MHD_get_daemon_info(ap->mhd, MHD_DAEMON_INFO_EPOLL_FD)) == NULL)
		return -EIO;
	r = sd_event_add_io(ap->e, &ap->io, info->epoll_fd, EPOLLIN, auth_policy_on_io, ap);
	if (r < 0)
		return r;
	r = sd_event_add_time(ap->e, &ap->timer, CLOCK_MONOTONIC, 0, 0, auth_policy_on_time, ap);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(ap->io, "auth-policy");
	(void)sd_event_source_set_description(ap->timer, "auth-policy-timer");
	auth_policy_arm(ap);
	return 0;
}

/* auth_policy_new - listen on conf->listen and answer from p on loop e */
int
auth_policy_new(sd_event *e, const struct auth_policy_conf *conf, struct policy *p,
    struct auth_policy **ret)
{
	struct auth_policy *ap;
	int r;

	if ((ap = calloc(1, sizeof(*ap))) == NULL)
		return -ENOMEM;
	ap->fd = -1;
	ap->e = sd_event_ref(e);
	ap->policy = p;
	if ((r = auth_policy_conf_copy(ap, conf)) < 0)
		goto fail;
	if ((ap->fd = auth_policy_listen(ap->conf.listen)) < 0) {
		r = ap->fd;
		goto fail;
	}
	if ((r = auth_policy_start(ap)) < 0)
		goto fail;
	*ret = ap;
	return 0;
fail:
	auth_policy_free(ap);
	return r;
}

/* auth_policy_free - stop listening, close every connection; returns NULL */
struct auth_policy *
auth_policy_free(struct auth_policy *ap)
{
	if (ap == NULL)
		return NULL;
	sd_event_source_disable_unref(ap->io);
	sd_event_source_disable_unref(ap->timer);
	if (ap->mhd != NULL)
		MHD_stop_daemon(ap->mhd);
	if (ap->fd >= 0)
		close(ap->fd);
	sd_event_unref(ap->e);
	free(ap->listen);
	free(ap->api_header);
	free(ap->api_key);
	free(ap);
	return NULL;
}

/* auth_policy_set_policy - answer from p from now on (a policy rebuilt on reload) */
void
auth_policy_set_policy(struct auth_policy *ap, struct policy *p)
{
	ap->policy = p;
}

/* auth_policy_local_port - the TCP port listened on */
int
auth_policy_local_port(const struct auth_policy *ap)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	info = MHD_get_daemon_info(ap->mhd, MHD_DAEMON_INFO_LISTEN_FD);
	if (info == NULL)
		return -EBADF;
	if (getsockname(info->listen_fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

/* auth_policy_get_stats - what was answered */
void
auth_policy_get_stats(const struct auth_policy *ap, struct auth_policy_stats *ret)
{
	*ret = ap->stats;
}
