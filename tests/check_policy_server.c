/*
 * NAME
 *	check_policy_server - policy listeners and connections over real sockets
 * DESCRIPTION
 *	Each test builds a real sd-event loop with a policy server on
 *	127.0.0.1 port 0 (the port is read back with getsockname()), ::1, or a
 *	UNIX socket under the test's directory, and talks to it through
 *	client sockets in the same process: the loop is driven with
 *	sd_event_run() and short timeouts between the client's non-blocking
 *	reads and writes, every wait bounded by TST_WAIT_USEC.
 *
 *	decide() answers "REJECT seen CLIENT in STATE", so the order of
 *	answers shows the order of requests; client 198.51.100.66 makes it
 *	fail, an empty request gets DUNNO. Warnings go to a file (stderr is
 *	redirected) and are compared with the exact text expected.
 *
 *	Socket activation runs in a child process, which can put sockets at
 *	descriptors 3, 4, 5 without disturbing Check.
 * SEE ALSO
 *	policy_server.h, policy_proto.h, tests/check_policy_proto.c
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "policy_server.h"
#include "testutil.h"

#define TST_WAIT_USEC	(3 * 1000000ULL)	/* longest wait for an answer or a close */
#define TST_TICK_USEC	(2 * 1000ULL)		/* one sd_event_run() */
#define TST_QUIET_USEC	(30 * 1000ULL)		/* nothing more arrives after the answer */
#define TST_OUT_MAX	(64 * 1024)
#define TST_FAIL_ACTION	"DEFER_IF_PERMIT policy service unavailable"

#define REQ(state, client) \
	"request=smtpd_access_policy\nprotocol_state=" state "\nclient_address=" client "\n\n"
#define ANS(state, client)	"action=REJECT seen " client " in " state "\n\n"
#define NUL_REQ	"request=smtpd_access_policy\nclient_address=192.0.2.9\0\n\n"
#define X64	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct tst {
	sd_event *e;
	struct policy_server *s;
	struct policy_server_conf conf;
	struct policy_listen_conf listen[2];
	struct sockaddr_storage addr;	/* of listener 0: where clients connect */
	socklen_t addr_len;
	unsigned decided;
	char log_path[PATH_MAX];
	int saved_stderr;
};

static uint64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
tst_decide(void *ud, const struct policy_request *req, char *ret_action, size_t size)
{
	struct tst *t = ud;

	t->decided++;
	if (strcmp(req->client_address, "198.51.100.66") == 0)
		return -EIO;
	if (*req->client_address == '\0')
		snprintf(ret_action, size, "DUNNO");
	else
		snprintf(ret_action, size, "REJECT seen %s in %s", req->client_address,
		    req->protocol_state);
	return 0;
}

/* tst_init - a loop and a configuration: one inet listener on 127.0.0.1, any port */
static void
tst_init(struct tst *t)
{
	int fd;

	memset(t, 0, sizeof(*t));
	ck_assert_int_ge(sd_event_new(&t->e), 0);
	t->listen[0].type = POLICY_LISTEN_INET;
	t->listen[0].address = "127.0.0.1:0";
	t->conf.listens = t->listen;
	t->conf.n_listens = 1;
	t->conf.fail_action = TST_FAIL_ACTION;
	/* warnings go to a file the test reads */
	snprintf(t->log_path, sizeof(t->log_path), "%s/stderr.%d.log", tst_tmpdir(), (int)getpid());
	fflush(stderr);
	t->saved_stderr = dup(2);
	fd = open(t->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
}

/* tst_start - make the server; remember where listener 0 is */
static void
tst_start(struct tst *t)
{
	int r = policy_server_new(t->e, &t->conf, tst_decide, t, &t->s);
	int fd;

	ck_assert_msg(r == 0, "policy_server_new: %s", strerror(-r));
	fd = policy_server_listener_fd(t->s, 0);
	ck_assert_int_ge(fd, 0);
	t->addr_len = sizeof(t->addr);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&t->addr, &t->addr_len), 0);
}

static void
tst_fini(struct tst *t)
{
	ck_assert_ptr_null(policy_server_free(t->s));
	t->s = NULL;
	sd_event_unref(t->e);
	fflush(stderr);
	dup2(t->saved_stderr, 2);
	close(t->saved_stderr);
}

static struct policy_server_stats
tst_stats(const struct tst *t)
{
	struct policy_server_stats st;

	policy_server_get_stats(t->s, &st);
	return st;
}

/* tst_log - what was logged so far */
static const char *
tst_log(const struct tst *t)
{
	static char buf[16384];
	FILE *f;
	size_t n;

	fflush(stderr);
	ck_assert_ptr_nonnull(f = fopen(t->log_path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* tst_run - drive the loop for usec */
static void
tst_run(struct tst *t, uint64_t usec)
{
	uint64_t end = now_usec() + usec;

	for (int i = 0; i < 100000 && now_usec() < end; i++)
		ck_assert_int_ge(sd_event_run(t->e, TST_TICK_USEC), 0);
}

/* tst_run_until_open - drive the loop until n connections are open */
static void
tst_run_until_open(struct tst *t, uint64_t n)
{
	uint64_t end = now_usec() + TST_WAIT_USEC;

	while (tst_stats(t).connections_open != n && now_usec() < end)
		ck_assert_int_ge(sd_event_run(t->e, TST_TICK_USEC), 0);
	ck_assert_uint_eq(tst_stats(t).connections_open, n);
}

/* tst_connect - a non-blocking client of listener 0, with a small receive buffer if rcvbuf */
static int
tst_connect_rcvbuf(struct tst *t, int rcvbuf)
{
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	if (rcvbuf > 0)
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	/* a blocking connect completes from the listen queue, before any accept() */
	ck_assert_msg(connect(fd, (struct sockaddr *)&t->addr, t->addr_len) == 0, "connect: %s",
	    strerror(errno));
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static int
tst_connect(struct tst *t)
{
	return tst_connect_rcvbuf(t, 0);
}

/* tst_peer - how the server names client fd: "127.0.0.1:40000" */
static const char *
tst_peer(int fd)
{
	static char buf[64];
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(buf, sizeof(buf), "127.0.0.1:%u", ntohs(sin.sin_port));
	return buf;
}

/* tst_send - write everything, running the loop while the socket is full */
static void
tst_send(struct tst *t, int fd, const char *data, size_t len)
{
	uint64_t end = now_usec() + TST_WAIT_USEC;

	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0) {
			ck_assert_msg(errno == EAGAIN, "send: %s", strerror(errno));
			ck_assert_msg(now_usec() < end, "send: timed out");
			ck_assert_int_ge(sd_event_run(t->e, TST_TICK_USEC), 0);
			continue;
		}
		data += n;
		len -= (size_t)n;
	}
}

/*
 * tst_read - run the loop and read from fd until stop bytes came (SIZE_MAX:
 * until the server closes) or TST_WAIT_USEC passed; *ret_closed says
 * whether the server closed. Returns the length read (buf is NUL-terminated).
 */
static size_t
tst_read(struct tst *t, int fd, char *buf, size_t size, size_t stop, int *ret_closed)
{
	uint64_t end = now_usec() + TST_WAIT_USEC;
	size_t n = 0;

	*ret_closed = 0;
	for (;;) {
		ssize_t r = recv(fd, buf + n, size - 1 - n, MSG_DONTWAIT);

		if (r > 0)
			n += (size_t)r;
		else if (r == 0 || errno == ECONNRESET) {
			*ret_closed = 1;
			break;
		} else
			ck_assert_msg(errno == EAGAIN, "recv: %s", strerror(errno));
		if (n >= stop || n == size - 1 || now_usec() > end)
			break;
		ck_assert_int_ge(sd_event_run(t->e, TST_TICK_USEC), 0);
	}
	buf[n] = '\0';
	return n;
}

/* tst_closed_now - has the server closed fd? (reads and drops what is there) */
static int
tst_closed_now(int fd)
{
	char buf[4096];

	for (int i = 0; i < 64; i++) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 1;
		if (r < 0)
			return 0;
	}
	return 0;
}

/* tst_expand - fmt with its "%s" replaced by arg */
static void
tst_expand(char *buf, size_t size, const char *fmt, const char *arg)
{
	const char *p = strstr(fmt, "%s");

	ck_assert_ptr_nonnull(p);
	snprintf(buf, size, "%.*s%s%s", (int)(p - fmt), fmt, arg, p + 2);
}

/* tst_same - long texts equal; on failure say where they differ (Check chokes on huge messages) */
static void
tst_same(const char *got, const char *want)
{
	size_t i = 0;

	while (got[i] != '\0' && got[i] == want[i])
		i++;
	ck_assert_msg(got[i] == want[i], "differ at byte %zu of %zu (want %zu): got \"%.40s\", "
	    "want \"%.40s\"", i, strlen(got), strlen(want), got + i, want + i);
}

/* tst_exchange - one request, its exact answer, connection still open */
static void
tst_exchange(struct tst *t, int fd, const char *req, const char *want)
{
	char buf[4096];
	int closed;

	tst_send(t, fd, req, strlen(req));
	tst_read(t, fd, buf, sizeof(buf), strlen(want), &closed);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(closed, 0);
}

/*
 * ------------------------------------------------------- one connection: table
 */
static const struct xcase {
	const char *name;
	const char *in;
	size_t len;			/* 0: strlen(in) */
	size_t chunk;			/* 0: one write; else bytes per write */
	int shut;			/* shutdown(SHUT_WR) after the input */
	const char *want;		/* exact bytes answered */
	int want_closed;
	unsigned want_requests, want_framing, want_decide;
	const char *want_log;		/* "%s" is the client's address; NULL: nothing logged */
} xcases[] = {
	{ "one request gets exactly one answer",
	  REQ("RCPT", "192.0.2.1"), 0, 0, 0,
	  ANS("RCPT", "192.0.2.1"), 0, 1, 0, 0, NULL },
	{ "two requests in one write are answered in order",
	  REQ("RCPT", "192.0.2.1") REQ("DATA", "192.0.2.2"), 0, 0, 0,
	  ANS("RCPT", "192.0.2.1") ANS("DATA", "192.0.2.2"), 0, 2, 0, 0, NULL },
	{ "a request written one byte at a time gets one answer",
	  REQ("RCPT", "192.0.2.3"), 0, 1, 0,
	  ANS("RCPT", "192.0.2.3"), 0, 1, 0, 0, NULL },
	{ "three requests in 7-byte writes are answered in order",
	  REQ("CONNECT", "192.0.2.4") REQ("MAIL", "192.0.2.5") REQ("RCPT", "192.0.2.6"), 0, 7, 0,
	  ANS("CONNECT", "192.0.2.4") ANS("MAIL", "192.0.2.5") ANS("RCPT", "192.0.2.6"),
	  0, 3, 0, 0, NULL },
	{ "unknown attributes and CRLF line ends are accepted",
	  "request=smtpd_access_policy\r\nfuture_attribute=1\r\nprotocol_state=RCPT\r\n"
	  "client_address=2001:db8::7\r\n\r\n", 0, 0, 0,
	  ANS("RCPT", "2001:db8::7"), 0, 1, 0, 0, NULL },
	{ "an empty request is still answered",
	  "\n", 0, 0, 0,
	  "action=DUNNO\n\n", 0, 1, 0, 0, NULL },
	{ "a failing decision answers fail_action and the connection goes on",
	  REQ("RCPT", "198.51.100.66") REQ("RCPT", "192.0.2.7"), 0, 0, 0,
	  "action=" TST_FAIL_ACTION "\n\n" ANS("RCPT", "192.0.2.7"), 0, 2, 0, 1,
	  "policy: %s: decision failed: Input/output error, answering \"" TST_FAIL_ACTION "\"" },
	{ "an oversized request closes the connection without an answer",
	  "request=smtpd_access_policy\nccert_subject=" X64 X64 X64 X64 "\n\n", 0, 0, 0,
	  "", 1, 0, 1, 0,
	  "policy: %s: request larger than 256 bytes, closing connection" },
	{ "answers due before an oversized request are sent, then the connection closes",
	  REQ("RCPT", "192.0.2.8") "ccert_subject=" X64 X64 X64 X64 "\n\n", 0, 0, 0,
	  ANS("RCPT", "192.0.2.8"), 1, 1, 1, 0,
	  "policy: %s: request larger than 256 bytes, closing connection" },
	{ "a NUL byte closes the connection",
	  NUL_REQ, sizeof(NUL_REQ) - 1, 0, 0,
	  "", 1, 0, 1, 0,
	  "policy: %s: malformed request (NUL byte, or a line that is not name=value), "
	  "closing connection" },
	{ "a line that is not name=value closes the connection",
	  "EHLO mx.example.org\r\n\r\n", 0, 0, 0,
	  "", 1, 0, 1, 0,
	  "policy: %s: malformed request (NUL byte, or a line that is not name=value), "
	  "closing connection" },
	{ "too many attributes close the connection",
	  "a=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\nh=8\ni=9\n\n", 0, 3, 0,
	  "", 1, 0, 1, 0,
	  "policy: %s: request with more than 8 attributes, closing connection" },
	{ "end of input inside a request closes without an answer or a warning",
	  "request=smtpd_access_policy\nclient_addr", 0, 0, 1,
	  "", 1, 0, 0, 0, NULL },
	{ "end of input after a request: the answer is sent, then the connection closes",
	  REQ("RCPT", "192.0.2.10"), 0, 0, 1,
	  ANS("RCPT", "192.0.2.10"), 1, 1, 0, 0, NULL },
};

START_TEST(stream_gets_exact_answers)
{
	const struct xcase *c = &xcases[_i];
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	char buf[4096], want_log[512];
	struct policy_server_stats st;
	struct tst t;
	int fd, closed;

	tst_init(&t);
	t.conf.request_max = 256;
	t.conf.attrs_max = 8;
	tst_start(&t);
	fd = tst_connect(&t);
	if (c->chunk == 0)
		tst_send(&t, fd, c->in, len);
	for (size_t off = 0; c->chunk != 0 && off < len; off += c->chunk) {
		tst_send(&t, fd, c->in + off, len - off < c->chunk ? len - off : c->chunk);
		ck_assert_int_ge(sd_event_run(t.e, TST_TICK_USEC), 0);
	}
	if (c->shut)
		ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	tst_read(&t, fd, buf, sizeof(buf), c->want_closed ? SIZE_MAX : strlen(c->want), &closed);
	if (!c->want_closed) {
		tst_run(&t, TST_QUIET_USEC);
		closed = tst_closed_now(fd);
	}
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: want \"%s\", got \"%s\"", c->name, c->want,
	    buf);
	ck_assert_msg(closed == c->want_closed, "%s: closed %d", c->name, closed);
	st = tst_stats(&t);
	ck_assert_msg(st.requests == c->want_requests && st.errors_framing == c->want_framing &&
	    st.errors_decide == c->want_decide, "%s: requests %llu framing %llu decide %llu",
	    c->name, (unsigned long long)st.requests, (unsigned long long)st.errors_framing,
	    (unsigned long long)st.errors_decide);
	ck_assert_uint_eq(st.connections, 1);
	ck_assert_uint_eq(st.connections_open, c->want_closed ? 0 : 1);
	if (c->want_log != NULL) {
		tst_expand(want_log, sizeof(want_log), c->want_log, tst_peer(fd));
		ck_assert_msg(strstr(tst_log(&t), want_log) != NULL,
		    "%s: want log \"%s\" in \"%s\"", c->name, want_log, tst_log(&t));
	} else
		ck_assert_msg(strstr(tst_log(&t), "policy:") == NULL, "%s: logged \"%s\"", c->name,
		    tst_log(&t));
	close(fd);
	tst_fini(&t);
}
END_TEST

/*
 * ------------------------------------------------------ connections over time
 */
START_TEST(thousand_requests_on_one_connection)
{
	char req[256], want[256];
	struct tst t;
	int fd;

	tst_init(&t);
	tst_start(&t);
	fd = tst_connect(&t);
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(req, sizeof(req), REQ("RCPT", "192.0.2.%u"), i % 250 + 1);
		snprintf(want, sizeof(want), ANS("RCPT", "192.0.2.%u"), i % 250 + 1);
		tst_exchange(&t, fd, req, want);
	}
	ck_assert_uint_eq(tst_stats(&t).requests, 1000);
	ck_assert_uint_eq(tst_stats(&t).connections, 1);
	close(fd);
	tst_fini(&t);
}
END_TEST

/* more requests in one write than one read of the server takes (16 KiB) */
START_TEST(long_pipeline_is_answered_in_order)
{
	static char in[64 * 1024], want[64 * 1024], got[64 * 1024];
	size_t n_in = 0, n_want = 0;
	int fd, closed, sndbuf = 4096;
	struct tst t;

	tst_init(&t);
	tst_start(&t);
	/* small kernel buffers (accepted sockets inherit SO_SNDBUF): most goes out on EPOLLOUT */
	ck_assert_int_eq(setsockopt(policy_server_listener_fd(t.s, 0), SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, sizeof(sndbuf)), 0);
	fd = tst_connect_rcvbuf(&t, 4096);
	for (unsigned i = 0; i < 500; i++) {
		n_in += (size_t)snprintf(in + n_in, sizeof(in) - n_in,
		    REQ("RCPT", "203.0.113.%u"), i % 200);
		n_want += (size_t)snprintf(want + n_want, sizeof(want) - n_want,
		    ANS("RCPT", "203.0.113.%u"), i % 200);
	}
	ck_assert_uint_gt(n_in, 2 * 16 * 1024);
	tst_send(&t, fd, in, n_in);
	tst_read(&t, fd, got, sizeof(got), n_want, &closed);
	ck_assert_int_eq(closed, 0);
	tst_same(got, want);
	ck_assert_uint_eq(tst_stats(&t).requests, 500);
	close(fd);
	tst_fini(&t);
}
END_TEST

/* a peer that sends many requests and shuts down its side still gets every answer */
START_TEST(half_closed_peer_gets_every_answer_then_the_close)
{
	static char in[96 * 1024], want[64 * 1024], got[64 * 1024];
	size_t n_in = 0, n_want = 0;
	int fd, closed, sndbuf = 4096;
	struct tst t;

	tst_init(&t);
	tst_start(&t);
	/* small kernel buffers (accepted sockets inherit SO_SNDBUF): answers wait in ours */
	ck_assert_int_eq(setsockopt(policy_server_listener_fd(t.s, 0), SOL_SOCKET, SO_SNDBUF,
	    &sndbuf, sizeof(sndbuf)), 0);
	fd = tst_connect_rcvbuf(&t, 4096);
	for (unsigned i = 0; i < 1200; i++) {
		n_in += (size_t)snprintf(in + n_in, sizeof(in) - n_in,
		    REQ("RCPT", "192.0.2.%u"), i % 200 + 1);
		n_want += (size_t)snprintf(want + n_want, sizeof(want) - n_want,
		    ANS("RCPT", "192.0.2.%u"), i % 200 + 1);
	}
	ck_assert_uint_lt(n_want, 64 * 1024);	/* under the server's bound */
	tst_send(&t, fd, in, n_in);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	tst_run(&t, TST_QUIET_USEC);		/* the server sees EOF with answers pending */
	tst_read(&t, fd, got, sizeof(got), SIZE_MAX, &closed);
	ck_assert_int_eq(closed, 1);
	tst_same(got, want);
	ck_assert_uint_eq(tst_stats(&t).connections_open, 0);
	close(fd);
	tst_fini(&t);
}
END_TEST

START_TEST(bad_request_closes_only_its_connection)
{
	static const char big[] = "request=smtpd_access_policy\nccert_subject=" X64 X64 X64 X64;
	char buf[256];
	struct tst t;
	int a, b, closed;

	tst_init(&t);
	t.conf.request_max = 256;
	tst_start(&t);
	a = tst_connect(&t);
	b = tst_connect(&t);
	tst_exchange(&t, b, REQ("RCPT", "192.0.2.20"), ANS("RCPT", "192.0.2.20"));
	tst_send(&t, a, big, sizeof(big) - 1);
	tst_read(&t, a, buf, sizeof(buf), SIZE_MAX, &closed);
	ck_assert_int_eq(closed, 1);
	ck_assert_str_eq(buf, "");
	tst_exchange(&t, b, REQ("RCPT", "192.0.2.21"), ANS("RCPT", "192.0.2.21"));
	ck_assert_uint_eq(tst_stats(&t).errors_framing, 1);
	ck_assert_uint_eq(tst_stats(&t).connections_open, 1);
	close(a);
	close(b);
	tst_fini(&t);
}
END_TEST

/* a flood of bad requests: every connection closed, ten warnings logged */
START_TEST(framing_warnings_are_rate_limited)
{
	const char *log, *p;
	unsigned n_lines = 0;
	char buf[64];
	struct tst t;
	int fd, closed;

	tst_init(&t);
	tst_start(&t);
	for (int i = 0; i < 15; i++) {
		fd = tst_connect(&t);
		tst_send(&t, fd, "EHLO x\n\n", 8);
		tst_read(&t, fd, buf, sizeof(buf), SIZE_MAX, &closed);
		ck_assert_int_eq(closed, 1);
		close(fd);
	}
	ck_assert_uint_eq(tst_stats(&t).errors_framing, 15);
	log = tst_log(&t);
	for (p = log; (p = strstr(p, "closing connection")) != NULL; p++)
		n_lines++;
	ck_assert_msg(n_lines == 10, "%u warnings: %s", n_lines, log);
	tst_fini(&t);
}
END_TEST

START_TEST(connections_beyond_the_limit_are_closed_others_work)
{
	char buf[256], want_log[256];
	int fd[3], extra, late, closed;
	struct tst t;

	tst_init(&t);
	t.conf.max_connections = 3;
	tst_start(&t);
	for (int i = 0; i < 3; i++)
		fd[i] = tst_connect(&t);
	tst_run_until_open(&t, 3);
	extra = tst_connect(&t);
	tst_read(&t, extra, buf, sizeof(buf), SIZE_MAX, &closed);
	ck_assert_int_eq(closed, 1);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(tst_stats(&t).connections_refused, 1);
	for (int i = 0; i < 3; i++)
		tst_exchange(&t, fd[i], REQ("RCPT", "192.0.2.30"), ANS("RCPT", "192.0.2.30"));
	/* a closed connection frees its place */
	close(fd[0]);
	tst_run_until_open(&t, 2);
	late = tst_connect(&t);
	tst_exchange(&t, late, REQ("RCPT", "192.0.2.31"), ANS("RCPT", "192.0.2.31"));
	ck_assert_uint_eq(tst_stats(&t).connections, 4);
	ck_assert_uint_eq(tst_stats(&t).connections_refused, 1);
	snprintf(want_log, sizeof(want_log),
	    "policy: listen inet 127.0.0.1:0: 3 connections open, closing a new one");
	ck_assert_msg(strstr(tst_log(&t), want_log) != NULL, "log: %s", tst_log(&t));
	close(extra);
	close(late);
	close(fd[1]);
	close(fd[2]);
	tst_fini(&t);
}
END_TEST

/*
 * With a 200 ms timeout: an idle connection and one holding half a request
 * are closed after 200 ms (not before), one that sends every 50 ms stays.
 */
START_TEST(idle_connections_are_closed_active_ones_stay)
{
	const uint64_t idle = 200 * 1000;
	uint64_t start, closed_at[2] = { 0, 0 }, end;
	char req[128], want[128];
	int quiet, partial, busy, closed;
	unsigned n = 0;
	struct tst t;

	tst_init(&t);
	t.conf.idle_timeout_usec = idle;
	tst_start(&t);
	start = now_usec();
	quiet = tst_connect(&t);
	partial = tst_connect(&t);
	busy = tst_connect(&t);
	tst_send(&t, partial, "request=smtpd_access_policy\n", 28);
	end = start + 3 * idle + 100 * 1000;
	while (now_usec() < end) {
		snprintf(req, sizeof(req), REQ("RCPT", "192.0.2.%u"), ++n);
		snprintf(want, sizeof(want), ANS("RCPT", "192.0.2.%u"), n);
		tst_exchange(&t, busy, req, want);
		for (uint64_t until = now_usec() + 50 * 1000; now_usec() < until;) {
			ck_assert_int_ge(sd_event_run(t.e, TST_TICK_USEC), 0);
			if (closed_at[0] == 0 && tst_closed_now(quiet))
				closed_at[0] = now_usec();
			if (closed_at[1] == 0 && tst_closed_now(partial))
				closed_at[1] = now_usec();
		}
	}
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(closed_at[i] != 0, "connection %d not closed", i);
		ck_assert_uint_ge(closed_at[i] - start, idle);
		ck_assert_uint_lt(closed_at[i] - start, idle + 400 * 1000);
	}
	ck_assert_int_eq(tst_closed_now(busy), 0);
	ck_assert_uint_eq(tst_stats(&t).idle_closed, 2);
	/* once quiet, the busy one goes too */
	tst_read(&t, busy, req, sizeof(req), SIZE_MAX, &closed);
	ck_assert_int_eq(closed, 1);
	ck_assert_uint_eq(tst_stats(&t).idle_closed, 3);
	ck_assert_uint_eq(tst_stats(&t).connections_open, 0);
	close(quiet);
	close(partial);
	close(busy);
	tst_fini(&t);
}
END_TEST

START_TEST(crowd_of_idle_connections_does_not_slow_an_active_one)
{
	enum { N_IDLE = 200, N_REQ = 200 };
	static int idle[N_IDLE];
	uint64_t start, worst = 0;
	char req[128], want[128];
	struct tst t;
	int active;

	tst_init(&t);
	tst_start(&t);
	for (int i = 0; i < N_IDLE; i++) {
		idle[i] = tst_connect(&t);
		if (i % 2 == 0)		/* half of them hold half a request */
			tst_send(&t, idle[i], "request=smtpd_access_policy\nclient_add", 38);
	}
	active = tst_connect(&t);
	tst_run_until_open(&t, N_IDLE + 1);
	start = now_usec();
	for (unsigned i = 0; i < N_REQ; i++) {
		uint64_t t0 = now_usec();

		snprintf(req, sizeof(req), REQ("RCPT", "203.0.113.%u"), i % 250);
		snprintf(want, sizeof(want), ANS("RCPT", "203.0.113.%u"), i % 250);
		tst_exchange(&t, active, req, want);
		if (now_usec() - t0 > worst)
			worst = now_usec() - t0;
	}
	ck_assert_msg(worst < 100 * 1000, "slowest answer took %llu us", (unsigned long long)worst);
	ck_assert_uint_lt(now_usec() - start, 2 * 1000000);
	ck_assert_uint_eq(tst_stats(&t).connections_open, N_IDLE + 1);
	ck_assert_uint_eq(tst_stats(&t).requests, N_REQ);
	for (int i = 0; i < N_IDLE; i++)
		close(idle[i]);
	close(active);
	tst_fini(&t);
}
END_TEST

/* a peer that pipelines and never reads: closed once 64 KiB of answers wait */
START_TEST(peer_that_never_reads_is_closed)
{
	static char chunk[8192];
	size_t n = 0, sent = 0;
	char want_log[256], peer[64];
	uint64_t end;
	struct tst t;
	int fd, other;

	tst_init(&t);
	tst_start(&t);
	fd = tst_connect_rcvbuf(&t, 4096);
	snprintf(peer, sizeof(peer), "%s", tst_peer(fd));
	other = tst_connect(&t);
	while (n + 64 < sizeof(chunk))
		n += (size_t)snprintf(chunk + n, sizeof(chunk) - n, REQ("RCPT", "192.0.2.40"));
	end = now_usec() + 10 * TST_WAIT_USEC;
	while (tst_stats(&t).errors_framing == 0 && sent < 64 * 1024 * 1024 && now_usec() < end) {
		ssize_t r = send(fd, chunk, n, MSG_NOSIGNAL);

		if (r > 0)
			sent += (size_t)r;
		else if (r < 0 && errno != EAGAIN)
			break;		/* the server closed it */
		ck_assert_int_ge(sd_event_run(t.e, r > 0 ? 0 : TST_TICK_USEC), 0);
	}
	tst_run(&t, TST_QUIET_USEC);
	snprintf(want_log, sizeof(want_log),
	    "policy: %s: more than 65536 bytes of answers not read, closing connection", peer);
	ck_assert_msg(strstr(tst_log(&t), want_log) != NULL, "sent %zu, log: %s", sent,
	    tst_log(&t));
	ck_assert_uint_eq(tst_stats(&t).connections_open, 1);
	tst_exchange(&t, other, REQ("RCPT", "192.0.2.41"), ANS("RCPT", "192.0.2.41"));
	close(fd);
	close(other);
	tst_fini(&t);
}
END_TEST

/*
 * --------------------------------------------------------------- listeners
 */
START_TEST(ipv6_listener_answers)
{
	struct tst t;
	int fd;

	tst_init(&t);
	t.listen[0].address = "[::1]:0";
	tst_start(&t);
	ck_assert_int_eq(t.addr.ss_family, AF_INET6);
	fd = tst_connect(&t);
	tst_exchange(&t, fd, REQ("RCPT", "2001:db8::1"), ANS("RCPT", "2001:db8::1"));
	close(fd);
	tst_fini(&t);
}
END_TEST

static const struct acase {
	const char *name, *address;
} bad_addresses[] = {
	{ "an address without a port", "127.0.0.1" },
	{ "an empty port", "127.0.0.1:" },
	{ "a port past 65535", "127.0.0.1:65536" },
	{ "a port that is not a number", "127.0.0.1:smtp" },
	{ "an IPv6 address without brackets", "::1:10040" },
	{ "brackets without a colon before the port", "[::1]10040" },
	{ "a host name (explicit addresses only)", "localhost:10040" },
	{ "an IPv4 address in brackets", "[127.0.0.1]:10040" },
	{ "an empty address", "" },
};

START_TEST(bad_inet_address_is_refused_and_named)
{
	const struct acase *c = &bad_addresses[_i];
	struct policy_server *s = (struct policy_server *)1;
	char want[256];
	struct tst t;

	tst_init(&t);
	t.listen[0].address = (char *)c->address;
	t.listen[0].file = "test.conf";
	t.listen[0].line = 3;
	ck_assert_int_eq(policy_server_new(t.e, &t.conf, tst_decide, &t, &s), -EINVAL);
	ck_assert_msg(s == (struct policy_server *)1, "%s: *ret written on failure", c->name);
	snprintf(want, sizeof(want), "policy: listen inet %s: not an address and port "
	    "(like 127.0.0.1:10040 or [::1]:10040) (test.conf:3)", c->address);
	ck_assert_msg(strstr(tst_log(&t), want) != NULL, "%s: log: %s", c->name, tst_log(&t));
	tst_fini(&t);
}
END_TEST

START_TEST(address_in_use_is_refused_and_named)
{
	struct policy_server *s2 = NULL;
	struct tst t;
	char addr[64], want[256];

	tst_init(&t);
	tst_start(&t);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&t.addr)->sin_port));
	t.listen[0].address = addr;
	t.listen[0].file = "test.conf";
	t.listen[0].line = 7;
	ck_assert_int_eq(policy_server_new(t.e, &t.conf, tst_decide, &t, &s2), -EADDRINUSE);
	ck_assert_ptr_null(s2);
	snprintf(want, sizeof(want), "policy: listen inet %s: Address already in use (test.conf:7)",
	    addr);
	ck_assert_msg(strstr(tst_log(&t), want) != NULL, "log: %s", tst_log(&t));
	tst_fini(&t);
}
END_TEST

/*
 * ------------------------------------------------------------ UNIX sockets
 */
static void
tst_unix(struct tst *t, const char *name, mode_t mode)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tst_tmpdir(), name);
	t->listen[0].type = POLICY_LISTEN_UNIX;
	t->listen[0].address = path;
	t->listen[0].mode = mode;
}

START_TEST(unix_socket_gets_mode_and_owner_and_answers)
{
	struct passwd *pw = getpwuid(getuid());
	struct group *gr = getgrgid(getgid());
	char path[PATH_MAX], buf[256], want[PATH_MAX + 128];
	struct stat st;
	struct tst t;
	int fd, closed;

	ck_assert_ptr_nonnull(pw);
	ck_assert_ptr_nonnull(gr);
	tst_init(&t);
	tst_unix(&t, "policy.sock", 0640);
	t.listen[0].owner = pw->pw_name;
	t.listen[0].group = gr->gr_name;
	snprintf(path, sizeof(path), "%s", t.listen[0].address);
	tst_start(&t);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_uint_eq(st.st_uid, getuid());
	ck_assert_uint_eq(st.st_gid, getgid());
	fd = tst_connect(&t);
	tst_exchange(&t, fd, REQ("RCPT", "192.0.2.50"), ANS("RCPT", "192.0.2.50"));
	/* a peer over a UNIX socket is named by its pid */
	tst_send(&t, fd, "no equals sign\n\n", 16);
	tst_read(&t, fd, buf, sizeof(buf), SIZE_MAX, &closed);
	ck_assert_int_eq(closed, 1);
	snprintf(want, sizeof(want), "policy: pid %d on %s: malformed request", (int)getpid(),
	    path);
	ck_assert_msg(strstr(tst_log(&t), want) != NULL, "log: %s", tst_log(&t));
	close(fd);
	tst_fini(&t);
	ck_assert_int_eq(lstat(path, &st), -1);		/* removed by policy_server_free() */
}
END_TEST

START_TEST(unix_socket_default_mode_is_0660)
{
	struct stat st;
	struct tst t;

	tst_init(&t);
	tst_unix(&t, "default.sock", 0);
	umask(0);
	tst_start(&t);
	ck_assert_int_eq(lstat(t.listen[0].address, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	tst_fini(&t);
}
END_TEST

START_TEST(unix_stale_socket_replaced_live_one_kept)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct policy_server *s2 = NULL;
	struct tst t;
	int fd;

	tst_init(&t);
	tst_unix(&t, "stale.sock", 0600);
	/* a socket file left by a process that died */
	ck_assert_uint_lt(strlen(t.listen[0].address), sizeof(sun.sun_path));
	memcpy(sun.sun_path, t.listen[0].address, strlen(t.listen[0].address) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	tst_start(&t);
	/* a second server must neither take nor remove the live socket */
	ck_assert_int_eq(policy_server_new(t.e, &t.conf, tst_decide, &t, &s2), -EADDRINUSE);
	ck_assert_ptr_null(s2);
	ck_assert_msg(strstr(tst_log(&t), "another process listens on it") != NULL, "log: %s",
	    tst_log(&t));
	fd = tst_connect(&t);
	tst_exchange(&t, fd, REQ("RCPT", "192.0.2.51"), ANS("RCPT", "192.0.2.51"));
	close(fd);
	tst_fini(&t);
}
END_TEST

START_TEST(unix_path_errors_are_refused_and_named)
{
	struct policy_server *s = NULL;
	char longpath[200], want[512];
	struct stat st;
	struct tst t;
	FILE *f;

	tst_init(&t);
	/* a regular file is never removed */
	tst_unix(&t, "regular", 0600);
	ck_assert_ptr_nonnull(f = fopen(t.listen[0].address, "w"));
	fputs("keep me\n", f);
	fclose(f);
	ck_assert_int_eq(policy_server_new(t.e, &t.conf, tst_decide, &t, &s), -EEXIST);
	ck_assert_int_eq(lstat(t.listen[0].address, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	snprintf(want, sizeof(want), "policy: listen unix %s: exists and is not a socket",
	    t.listen[0].address);
	ck_assert_msg(strstr(tst_log(&t), want) != NULL, "log: %s", tst_log(&t));
	/* unknown owner: nothing created */
	tst_unix(&t, "owner.sock", 0600);
	t.listen[0].owner = "no-such-user-mxledger";
	ck_assert_int_eq(policy_server_new(t.e, &t.conf, tst_decide, &t, &s), -ENOENT);
	ck_assert_int_eq(lstat(t.listen[0].address, &st), -1);
	ck_assert_msg(strstr(tst_log(&t), "unknown user \"no-such-user-mxledger\"") != NULL,
	    "log: %s", tst_log(&t));
	t.listen[0].owner = NULL;
	t.listen[0].group = "no-such-group-mxledger";
	ck_assert_int_eq(policy_server_new(t.e, &t.conf, tst_decide, &t, &s), -ENOENT);
	t.listen[0].group = NULL;
	/* longer than sun_path */
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	t.listen[0].address = longpath;
	ck_assert_int_eq(policy_server_new(t.e, &t.conf, tst_decide, &t, &s), -ENAMETOOLONG);
	ck_assert_ptr_null(s);
	tst_fini(&t);
}
END_TEST

/* when the second listener fails, the first one is undone: its socket file is gone */
START_TEST(failed_listener_undoes_the_others)
{
	struct policy_server *s = NULL;
	char path[PATH_MAX];
	struct stat st;
	struct tst t;

	tst_init(&t);
	tst_unix(&t, "first.sock", 0600);
	snprintf(path, sizeof(path), "%s", t.listen[0].address);
	t.listen[1].type = POLICY_LISTEN_INET;
	t.listen[1].address = "127.0.0.1";
	t.conf.n_listens = 2;
	ck_assert_int_eq(policy_server_new(t.e, &t.conf, tst_decide, &t, &s), -EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(lstat(path, &st), -1);
	tst_fini(&t);
}
END_TEST

/*
 * ---------------------------------------------------------- socket activation
 */

/* tst_activated_child - serve one request from descriptors 3..5 as systemd passes them */
static int
tst_activated_child(int lfd, int ufd, int ofd)
{
	struct policy_server_conf conf = { .socket_activation = 1 };
	struct policy_server *s;
	struct policy_server_stats st = { 0 };
	uint64_t end = now_usec() + TST_WAIT_USEC;
	char pid[32];
	sd_event *e;
	struct tst t = { 0 };

	if (dup2(lfd, 3) != 3 || dup2(ufd, 4) != 4 || dup2(ofd, 5) != 5)
		return 10;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "3", 1);
	setenv("LISTEN_FDNAMES", "policy:policy:metrics", 1);
	if (sd_event_new(&e) < 0 || policy_server_new(e, &conf, tst_decide, &t, &s) < 0)
		return 11;
	/* the stream socket is taken; the datagram one and "metrics" are not */
	if (policy_server_listener_fd(s, 0) != 3 || policy_server_listener_fd(s, 1) != -ENOENT)
		return 12;
	while (st.requests == 0 && now_usec() < end) {
		if (sd_event_run(e, TST_TICK_USEC) < 0)
			return 13;
		policy_server_get_stats(s, &st);
	}
	for (uint64_t q = now_usec() + TST_QUIET_USEC; now_usec() < q;)
		(void)sd_event_run(e, TST_TICK_USEC);
	policy_server_free(s);
	sd_event_unref(e);
	return st.requests == 1 ? 0 : 14;
}

static int
tst_listen_tcp(struct sockaddr_in *ret)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)ret, &len), 0);
	return fd;
}

START_TEST(socket_activation_takes_passed_stream_sockets)
{
	static const char req[] = REQ("RCPT", "192.0.2.60");
	static const char want[] = ANS("RCPT", "192.0.2.60");
	struct sockaddr_in policy_addr, other_addr;
	struct timeval tv = { .tv_sec = 5 };
	char buf[256];
	size_t n = 0;
	int lfd, ufd, ofd, fd, status;
	pid_t pid;

	/* descriptors above 5, so that dup2() to 3..5 in the child cannot clobber them */
	lfd = fcntl(tst_listen_tcp(&policy_addr), F_DUPFD_CLOEXEC, 20);
	ofd = fcntl(tst_listen_tcp(&other_addr), F_DUPFD_CLOEXEC, 20);
	ufd = fcntl(socket(AF_INET, SOCK_DGRAM, 0), F_DUPFD_CLOEXEC, 20);
	ck_assert_int_ge(lfd, 20);
	ck_assert_int_ge(ofd, 20);
	ck_assert_int_ge(ufd, 20);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(tst_activated_child(lfd, ufd, ofd));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&policy_addr, sizeof(policy_addr)), 0);
	ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
	for (int i = 0; i < 16 && n < sizeof(want) - 1; i++) {
		ssize_t r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_str_eq(buf, want);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	close(fd);
	close(lfd);
	close(ofd);
	close(ufd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy_server");
	TCase *tc = tcase_create("connections");
	TCase *tl = tcase_create("listeners");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, stream_gets_exact_answers, 0, N(xcases));
	tcase_add_test(tc, thousand_requests_on_one_connection);
	tcase_add_test(tc, long_pipeline_is_answered_in_order);
	tcase_add_test(tc, half_closed_peer_gets_every_answer_then_the_close);
	tcase_add_test(tc, bad_request_closes_only_its_connection);
	tcase_add_test(tc, framing_warnings_are_rate_limited);
	tcase_add_test(tc, connections_beyond_the_limit_are_closed_others_work);
	tcase_add_test(tc, idle_connections_are_closed_active_ones_stay);
	tcase_add_test(tc, crowd_of_idle_connections_does_not_slow_an_active_one);
	tcase_add_test(tc, peer_that_never_reads_is_closed);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tl, 60);
	tcase_add_test(tl, ipv6_listener_answers);
	tcase_add_loop_test(tl, bad_inet_address_is_refused_and_named, 0, N(bad_addresses));
	tcase_add_test(tl, address_in_use_is_refused_and_named);
	tcase_add_test(tl, unix_socket_gets_mode_and_owner_and_answers);
	tcase_add_test(tl, unix_socket_default_mode_is_0660);
	tcase_add_test(tl, unix_stale_socket_replaced_live_one_kept);
	tcase_add_test(tl, unix_path_errors_are_refused_and_named);
	tcase_add_test(tl, failed_listener_undoes_the_others);
	tcase_add_test(tl, socket_activation_takes_passed_stream_sockets);
	suite_add_tcase(s, tl);
	return tst_run_suite(s);
}
