/*
 * NAME
 *	policy_server - Postfix policy delegation listeners on an sd-event loop
 * SYNOPSIS
 *	#include "policy_server.h"
 *
 *	r = policy_server_new(e, &conf, decide, ud, &s);
 *	... sd_event_loop(e) ...
 *	s = policy_server_free(s);
 * DESCRIPTION
 *	Everything runs on the caller's loop, without threads. Sources:
 *
 *	    listener io (EPOLLIN)   accept4() at most POLICY_ACCEPT_BURST
 *				    connections per wake-up, so a connect flood
 *				    cannot hold the loop; epoll is level-
 *				    triggered and wakes us again for the rest.
 *	    connections io (one)    the server's private epoll descriptor
 *				    (EPOLLIN), see below.
 *	    idle timer (one)	    see below.
 *	    resume timer (one)	    listeners paused after EMFILE/ENFILE.
 *
 *	Connections are not sources of the loop: they are in a private
 *	epoll instance whose descriptor is one io source. Each connection
 *	wants EPOLLIN always (until the peer's EOF), EPOLLOUT only while
 *	answers wait to be sent (epoll_ctl(EPOLL_CTL_MOD) on the private
 *	descriptor). sd-event dispatches one pending source per iteration
 *	and polls its epoll again before the next, so with a source per
 *	connection every answer paid an epoll_wait() that reported all K
 *	busy connections again (164 us of CPU per answer at K = 1000, most
 *	of it in the kernel's tcp_poll()). Now one wake-up takes the ready
 *	connections POLICY_IO_EVENTS at a time, in at most POLICY_IO_ROUNDS
 *	epoll_wait() calls, each connection once per call; epoll is level-
 *	triggered and puts a connection that is still ready behind the
 *	others, so a busy peer cannot keep the loop or the others waiting,
 *	and the loop wakes us again for what is left.
 *
 *	A readable connection gets one recv() of at most POLICY_READ_MAX
 *	bytes into a buffer shared by all connections (the parser copies
 *	what it keeps), then every complete request in it is answered in
 *	order: decide(), policy_format_response(), appended to the
 *	connection's output, sent with one non-blocking send() at the end.
 *	The parser (request_max bytes) is made at a connection's first byte
 *	and the output buffer grows on demand and is given back when drained
 *	past POLICY_OUT_KEEP, so an idle connection costs a descriptor and
 *	about 150 bytes.
 *
 *	Idle timeouts: every connection has the same timeout, so deadlines
 *	come in the order of the last reads. The connections are kept in a
 *	list in that order (a read moves one to the tail: O(1)) and one time
 *	source is armed for the head's deadline; when it fires, expired
 *	connections are closed from the head and it is armed for the new
 *	head. A time source per connection would put every one of thousands
 *	of connections in sd-event's priority queue and re-arm it on every
 *	read; a heap would pay O(log n) per read for an order the list keeps
 *	for free.
 *
 *	Bounds: max_connections (an accept beyond it is closed at once and
 *	counted), request_max and attrs_max (the parser's), POLICY_OUT_MAX
 *	bytes of answers a peer has not read (a peer that pipelines and
 *	never reads is closed), idle_timeout_usec without a byte read.
 *	Warnings an outsider can cause (framing errors, refused connections,
 *	failed decisions) are rate-limited: POLICY_LOG_BURST per
 *	POLICY_LOG_INTERVAL, then one line saying how many were suppressed.
 *
 *	Sockets are made by policy_listen.c (addresses, UNIX file mode and
 *	owner, stale files, which activated sockets are ours). With socket
 *	activation the environment is left alone and the passed descriptors
 *	are not closed by policy_server_free(), so a server made again on
 *	reload finds them.
 *
 *	decide() must not free the server.
 * SEE ALSO
 *	policy_server.h (the contract), policy_proto.h (framing),
 *	policy_listen.c (the sockets), contrib/mxledger.socket,
 *	tests/check_policy_server.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "policy_listen.h"
#include "policy_proto.h"
#include "policy_server.h"

/* Defaults of struct policy_server_conf (see policy_server.h for why). */
#define POLICY_DEFAULT_MAX_CONNECTIONS	4096
#define POLICY_DEFAULT_IDLE_USEC	(330ULL * 1000000)
#define POLICY_DEFAULT_FAIL_ACTION	"DUNNO"

/*
 * One recv() per wake-up: 16 requests of a typical 1 KiB, enough to keep
 * the system calls per request low, small enough that one busy peer cannot
 * keep the loop from the others.
 */
#define POLICY_READ_MAX		(16 * 1024)
/*
 * Answers a peer has not read yet. Postfix reads each answer before its
 * next request; 64 KiB is hundreds of pipelined answers. Past it the peer
 * is not reading at all (the kernel's socket buffer is full too).
 */
#define POLICY_OUT_MAX		(64 * 1024)
/* Output buffer kept after it drained; larger ones are given back. */
#define POLICY_OUT_KEEP		2048
#define POLICY_OUT_MIN		256
/*
 * Ready connections per epoll_wait() on the private descriptor, and calls
 * per wake-up: up to 1024 answers before the loop's other sources run.
 */
#define POLICY_IO_EVENTS	256
#define POLICY_IO_ROUNDS	4
/* Accepts per listener wake-up. */
#define POLICY_ACCEPT_BURST	64
/* Listeners rest this long after running out of descriptors or memory. */
#define POLICY_PAUSE_USEC	(100ULL * 1000)
/* At most POLICY_LOG_BURST warnings of one kind per POLICY_LOG_INTERVAL. */
#define POLICY_LOG_BURST	10
#define POLICY_LOG_INTERVAL	(10ULL * 1000000)

struct policy_ratelimit {
	uint64_t begin;
	unsigned n;
	unsigned suppressed;
};

struct policy_conn {
	struct policy_server *s;
	struct policy_listener *l;
	struct policy_conn *prev, *next;	/* by last read, oldest first */
	struct policy_parser *parser;	/* made at the first byte */
	char *out;			/* answers not sent yet: out[off..len) */
	size_t out_off, out_len, out_cap;
	uint64_t last_read;		/* CLOCK_MONOTONIC */
	uint32_t events;		/* as given to the private epoll */
	int fd;
	int eof;			/* the peer shut down its side: send, then close */
	sa_family_t family;
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} peer;
};

struct policy_server {
	sd_event *e;
	policy_decide_fn decide;
	void *ud;
	unsigned max_connections;
	uint64_t idle_usec;
	size_t request_max;
	unsigned attrs_max;
	char *fail_action;
	struct policy_listener *listeners;
	size_t n_listeners;
	struct policy_conn *head, *tail;
	int epfd;			/* private epoll of the connections */
	sd_event_source *conn_io;	/* epfd on the loop */
	sd_event_source *idle_timer;
	int idle_armed;
	sd_event_source *resume_timer;
	struct policy_server_stats stats;
	struct policy_ratelimit rl_framing, rl_refused, rl_decide, rl_accept;
	char rbuf[POLICY_READ_MAX];
};

static int policy_on_accept(sd_event_source *src, int fd, uint32_t revents, void *ud);
static int policy_on_conns(sd_event_source *src, int fd, uint32_t revents, void *ud);
static int policy_on_idle(sd_event_source *src, uint64_t usec, void *ud);
static int policy_on_resume(sd_event_source *src, uint64_t usec, void *ud);
static void policy_conn_close(struct policy_conn *c);

/* policy_now - the loop's current CLOCK_MONOTONIC time */
static uint64_t
policy_now(const struct policy_server *s)
{
	uint64_t now = 0;

	(void)sd_event_now(s->e, CLOCK_MONOTONIC, &now);
	return now;
}

/* policy_ratelimit_ok - may a warning of this kind be logged now? */
static int
policy_ratelimit_ok(struct policy_server *s, struct policy_ratelimit *rl)
{
	uint64_t now = policy_now(s);

	if (rl->n == 0 || now - rl->begin >= POLICY_LOG_INTERVAL) {
		if (rl->suppressed > 0)
			log_warning("policy: %u similar warnings suppressed in %llu s",
			    rl->suppressed, (unsigned long long)(POLICY_LOG_INTERVAL / 1000000));
		rl->begin = now;
		rl->n = 0;
		rl->suppressed = 0;
	}
	if (rl->n < POLICY_LOG_BURST) {
		rl->n++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}

/* policy_conn_peer - the peer's name for messages: "192.0.2.1:40000", "[::1]:40000" */
static const char *
policy_conn_peer(const struct policy_conn *c, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	struct ucred cred;
	socklen_t len = sizeof(cred);

	switch (c->family) {
	case AF_INET:
		inet_ntop(AF_INET, &c->peer.in.sin_addr, addr, sizeof(addr));
		snprintf(buf, size, "%s:%u", addr, ntohs(c->peer.in.sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &c->peer.in6.sin6_addr, addr, sizeof(addr));
		snprintf(buf, size, "[%s]:%u", addr, ntohs(c->peer.in6.sin6_port));
		break;
	case AF_UNIX:
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
			snprintf(buf, size, "pid %ld on %s", (long)cred.pid,
			    c->l->path != NULL ? c->l->path : c->l->name);
		else
			snprintf(buf, size, "%s", c->l->path != NULL ? c->l->path : c->l->name);
		break;
	default:
		snprintf(buf, size, "%s", c->l->name);
		break;
	}
	return buf;
}

/*
 * --------------------------------------------------------------- connections
 */

/* policy_idle_arm - arm the idle timer for the oldest connection's deadline */
static void
policy_idle_arm(struct policy_server *s)
{
	if (s->head == NULL) {
		(void)sd_event_source_set_enabled(s->idle_timer, SD_EVENT_OFF);
		s->idle_armed = 0;
		return;
	}
	if (sd_event_source_set_time(s->idle_timer, s->head->last_read + s->idle_usec) < 0 ||
	    sd_event_source_set_enabled(s->idle_timer, SD_EVENT_ONESHOT) < 0) {
		s->idle_armed = 0;
		return;
	}
	s->idle_armed = 1;
}

/* policy_conn_unlink - take c out of the idle list */
static void
policy_conn_unlink(struct policy_conn *c)
{
	struct policy_server *s = c->s;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	c->prev = c->next = NULL;
}

/* policy_conn_link - put c at the tail of the idle list (its deadline is the latest) */
static void
policy_conn_link(struct policy_conn *c)
{
	struct policy_server *s = c->s;

	c->next = NULL;
	c->prev = s->tail;
	if (s->tail != NULL)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
}

/* policy_conn_touch - a byte was read: c's deadline is the latest now */
static void
policy_conn_touch(struct policy_conn *c)
{
	c->last_read = policy_now(c->s);
	if (c->s->tail != c) {
		policy_conn_unlink(c);
		policy_conn_link(c);
	}
}

/* policy_conn_watch - add c to the private epoll or change its events */
static int
policy_conn_watch(struct policy_conn *c, int op, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(c->s->epfd, op, c->fd, &ev) < 0 ? -errno : 0;
}

/* policy_conn_new - serve an accepted connection; takes fd (closed on error) */
static int
policy_conn_new(struct policy_listener *l, int fd, const union policy_sockaddr *peer)
{
	struct policy_server *s = l->s;
	struct policy_conn *c;
	static const int one = 1;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->s = s;
	c->l = l;
	c->fd = fd;
	c->family = peer->sa.sa_family;
	if (c->family == AF_INET)
		c->peer.in = peer->in;
	else if (c->family == AF_INET6)
		c->peer.in6 = peer->in6;
	/* answers are written whole: do not let Nagle hold the next one for an ACK */
	if (c->family == AF_INET || c->family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->events = EPOLLIN;
	if ((r = policy_conn_watch(c, EPOLL_CTL_ADD, c->events)) < 0) {
		close(fd);
		free(c);
		return r;
	}
	s->stats.connections++;
	s->stats.connections_open++;
	c->last_read = policy_now(s);
	policy_conn_link(c);
	if (!s->idle_armed)
		policy_idle_arm(s);
	return 0;
}

/* policy_conn_close - close and free c */
static void
policy_conn_close(struct policy_conn *c)
{
	struct policy_server *s = c->s;

	policy_conn_unlink(c);
	/* explicitly: a forked child may hold the socket open, epoll would keep c */
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->parser = policy_parser_free(c->parser);
	free(c->out);
	free(c);
	s->stats.connections_open--;
}

/* policy_conn_flush - send what the socket takes; -errno when the peer is gone */
static int
policy_conn_flush(struct policy_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	if (c->out_cap > POLICY_OUT_KEEP) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	return 0;
}

/* policy_conn_append - queue n bytes of answer; -ENOBUFS when the peer does not read */
static int
policy_conn_append(struct policy_conn *c, const char *data, size_t n)
{
	char peer[128];
	size_t cap;
	char *out;
	int r;

	if (c->out_len - c->out_off + n > POLICY_OUT_MAX) {
		if ((r = policy_conn_flush(c)) < 0)
			return r;
		if (c->out_len - c->out_off + n > POLICY_OUT_MAX) {
			c->s->stats.errors_framing++;
			if (policy_ratelimit_ok(c->s, &c->s->rl_framing))
				log_warning("policy: %s: more than %d bytes of answers not read, "
				    "closing connection", policy_conn_peer(c, peer, sizeof(peer)),
				    POLICY_OUT_MAX);
			return -ENOBUFS;
		}
	}
	if (c->out_off > 0 && c->out_len + n > c->out_cap) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + n > c->out_cap) {
		for (cap = c->out_cap > 0 ? c->out_cap : POLICY_OUT_MIN; cap < c->out_len + n;)
			cap *= 2;
		if ((out = realloc(c->out, cap)) == NULL)
			return -ENOMEM;
		c->out = out;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
	return 0;
}

/* policy_conn_answer - decide on one request and queue the answer */
static int
policy_conn_answer(struct policy_conn *c, const struct policy_request *req)
{
	struct policy_server *s = c->s;
	char action[POLICY_ACTION_MAX + 1], resp[POLICY_RESPONSE_MAX], peer[128];
	const char *answer = action;
	int r, n;

	s->stats.requests++;
	action[0] = '\0';
	r = s->decide(s->ud, req, action, sizeof(action));
	action[sizeof(action) - 1] = '\0';
	if (r < 0) {
		s->stats.errors_decide++;
		answer = s->fail_action;
		if (policy_ratelimit_ok(s, &s->rl_decide))
			log_warning("policy: %s: decision failed: %s, answering \"%s\"",
			    policy_conn_peer(c, peer, sizeof(peer)), strerror(-r), answer);
	}
	n = policy_format_response(resp, sizeof(resp), answer);
	if (n < 0)
		return n;	/* cannot happen: resp holds the longest answer */
	return policy_conn_append(c, resp, (size_t)n);
}

/* policy_conn_framing - log a bad request once, send what is answered, fail */
static int
policy_conn_framing(struct policy_conn *c, int r)
{
	struct policy_server *s = c->s;
	char peer[128], why[96];

	s->stats.errors_framing++;
	if (policy_ratelimit_ok(s, &s->rl_framing)) {
		if (r == -EMSGSIZE)
			snprintf(why, sizeof(why), "request larger than %zu bytes", s->request_max);
		else if (r == -E2BIG)
			snprintf(why, sizeof(why), "request with more than %u attributes",
			    s->attrs_max);
		else
			snprintf(why, sizeof(why), "%s", policy_strerror(r));
		log_warning("policy: %s: %s, closing connection",
		    policy_conn_peer(c, peer, sizeof(peer)), why);
	}
	(void)policy_conn_flush(c);
	return r;
}

/* policy_conn_read - one read: answer every complete request in it; < 0: close */
static int
policy_conn_read(struct policy_conn *c)
{
	struct policy_server *s = c->s;
	const char *p = s->rbuf;
	char peer[128];
	ssize_t n;
	size_t len, used;
	int r;

	n = recv(c->fd, s->rbuf, sizeof(s->rbuf), MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		r = -errno;
		log_debug("policy: %s: read: %s, closing connection",
		    policy_conn_peer(c, peer, sizeof(peer)), strerror(-r));
		return r;
	}
	if (n == 0) {
		if (c->parser != NULL && policy_parser_pending(c->parser) > 0) {
			log_debug("policy: %s: connection closed inside a request",
			    policy_conn_peer(c, peer, sizeof(peer)));
			return -ENODATA;
		}
		c->eof = 1;
		return 0;
	}
	policy_conn_touch(c);
	if (c->parser == NULL &&
	    (c->parser = policy_parser_new(s->request_max, s->attrs_max)) == NULL)
		return -ENOMEM;
	for (len = (size_t)n; len > 0; p += used, len -= used) {
		r = policy_parser_feed(c->parser, p, len, &used);
		if (r < 0)
			return policy_conn_framing(c, r);
		if (r == POLICY_REQUEST &&
		    (r = policy_conn_answer(c, policy_parser_request(c->parser))) < 0)
			return r;
	}
	return 0;
}

/* policy_conn_io - c is readable or writable: read, answer, send; may close c */
static void
policy_conn_io(struct policy_conn *c, uint32_t revents)
{
	uint32_t want;

	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->eof && policy_conn_read(c) < 0)
		goto close;
	if (policy_conn_flush(c) < 0)
		goto close;
	if (c->eof && c->out_len == 0)
		goto close;
	want = (c->eof ? 0 : EPOLLIN) | (c->out_len > 0 ? EPOLLOUT : 0);
	if (want != c->events) {
		if (policy_conn_watch(c, EPOLL_CTL_MOD, want) < 0)
			goto close;
		c->events = want;
	}
	return;
close:
	policy_conn_close(c);
}

/*
 * policy_on_conns - the private epoll is readable: serve every ready
 * connection, in at most POLICY_IO_ROUNDS rounds
 */
static int
policy_on_conns(sd_event_source *src, int fd, uint32_t revents, void *ud)
{
	struct policy_server *s = ud;
	struct epoll_event ev[POLICY_IO_EVENTS];
	int n;

	(void)src;
	(void)revents;
	for (int round = 0; round < POLICY_IO_ROUNDS; round++) {
		n = epoll_wait(fd, ev, POLICY_IO_EVENTS, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (policy_ratelimit_ok(s, &s->rl_accept))
				log_warning("policy: epoll_wait: %s", strerror(errno));
			break;
		}
		/* only the connection being served is ever closed: the others stay valid */
		for (int i = 0; i < n; i++)
			policy_conn_io(ev[i].data.ptr, ev[i].events);
		if (n < POLICY_IO_EVENTS)
			break;	/* every ready connection had its turn */
	}
	return 0;
}

/* policy_on_idle - close every connection that read nothing for idle_usec */
static int
policy_on_idle(sd_event_source *src, uint64_t usec, void *ud)
{
	struct policy_server *s = ud;
	uint64_t now = policy_now(s);	/* usec is when it was due, maybe a little earlier */
	char peer[128];

	(void)src;
	(void)usec;
	while (s->head != NULL && s->head->last_read + s->idle_usec <= now) {
		log_debug("policy: %s: idle for %" PRIu64 " ms, closing connection",
		    policy_conn_peer(s->head, peer, sizeof(peer)), s->idle_usec / 1000);
		s->stats.idle_closed++;
		policy_conn_close(s->head);
	}
	policy_idle_arm(s);
	return 0;
}

/*
 * ----------------------------------------------------------------- listeners
 */

/* policy_pause - stop accepting for POLICY_PAUSE_USEC (out of descriptors) */
static void
policy_pause(struct policy_server *s)
{
	for (size_t i = 0; i < s->n_listeners; i++)
		if (s->listeners[i].io != NULL)
			(void)sd_event_source_set_enabled(s->listeners[i].io, SD_EVENT_OFF);
	(void)sd_event_source_set_time_relative(s->resume_timer, POLICY_PAUSE_USEC);
	(void)sd_event_source_set_enabled(s->resume_timer, SD_EVENT_ONESHOT);
}

/* policy_on_resume - accept again after a pause */
static int
policy_on_resume(sd_event_source *src, uint64_t usec, void *ud)
{
	struct policy_server *s = ud;

	(void)src;
	(void)usec;
	for (size_t i = 0; i < s->n_listeners; i++)
		if (s->listeners[i].io != NULL)
			(void)sd_event_source_set_enabled(s->listeners[i].io, SD_EVENT_ON);
	return 0;
}

/* policy_accept_failed - an accept4() error: 1 to go on accepting, 0 to stop */
static int
policy_accept_failed(struct policy_listener *l, int err)
{
	struct policy_server *s = l->s;

	switch (err) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return 0;
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case EPERM:
		return 1;	/* that connection is gone; the next one may be fine */
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		if (policy_ratelimit_ok(s, &s->rl_accept))
			log_warning("policy: listen %s: accept: %s, pausing for %llu ms", l->name,
			    strerror(err), (unsigned long long)(POLICY_PAUSE_USEC / 1000));
		policy_pause(s);
		return 0;
	default:
		if (policy_ratelimit_ok(s, &s->rl_accept))
			log_warning("policy: listen %s: accept: %s", l->name, strerror(err));
		return 0;
	}
}

/* policy_on_accept - take up to POLICY_ACCEPT_BURST new connections */
static int
policy_on_accept(sd_event_source *src, int fd, uint32_t revents, void *ud)
{
	struct policy_listener *l = ud;
	struct policy_server *s = l->s;
	union policy_sockaddr peer;
	socklen_t len;
	int cfd, r;

	(void)src;
	(void)revents;
	for (int i = 0; i < POLICY_ACCEPT_BURST; i++) {
		len = sizeof(peer);
		memset(&peer.sa, 0, sizeof(peer.sa));
		cfd = accept4(fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (policy_accept_failed(l, errno))
				continue;
			break;
		}
		if (s->stats.connections_open >= s->max_connections) {
			close(cfd);
			s->stats.connections_refused++;
			if (policy_ratelimit_ok(s, &s->rl_refused))
				log_warning("policy: listen %s: %u connections open, "
				    "closing a new one", l->name, s->max_connections);
			continue;
		}
		if ((r = policy_conn_new(l, cfd, &peer)) < 0 &&
		    policy_ratelimit_ok(s, &s->rl_accept))
			log_warning("policy: listen %s: cannot serve a connection: %s",
			    l->name, strerror(-r));
	}
	return 0;
}

/* policy_listener_start - watch l->fd for connections; logs why not */
static int
policy_listener_start(struct policy_listener *l)
{
	int r;

	r = sd_event_add_io(l->s->e, &l->io, l->fd, EPOLLIN, policy_on_accept, l);
	if (r < 0) {
		log_err("policy: listen %s: %s", l->name, strerror(-r));
		return r;
	}
	(void)sd_event_source_set_description(l->io, "policy-listen");
	return 0;
}

/*
 * -------------------------------------------------------------------- server
 */

/* policy_server_alloc - the server with conf's settings, no listener yet */
static struct policy_server *
policy_server_alloc(sd_event *e, const struct policy_server_conf *conf, size_t n_listeners)
{
	struct policy_server *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->e = sd_event_ref(e);
	s->max_connections = conf->max_connections > 0 ? conf->max_connections :
	    POLICY_DEFAULT_MAX_CONNECTIONS;
	s->idle_usec = conf->idle_timeout_usec > 0 ? conf->idle_timeout_usec :
	    POLICY_DEFAULT_IDLE_USEC;
	s->request_max = conf->request_max > 0 ? conf->request_max : POLICY_REQUEST_DEFAULT;
	if (s->request_max > POLICY_REQUEST_MAX)
		s->request_max = POLICY_REQUEST_MAX;
	s->attrs_max = conf->attrs_max > 0 ? conf->attrs_max : POLICY_ATTRS_DEFAULT;
	s->fail_action = strdup(conf->fail_action != NULL && *conf->fail_action != '\0' ?
	    conf->fail_action : POLICY_DEFAULT_FAIL_ACTION);
	s->listeners = calloc(n_listeners > 0 ? n_listeners : 1, sizeof(*s->listeners));
	if (s->fail_action == NULL || s->listeners == NULL)
		return policy_server_free(s);
	s->epfd = -1;
	for (size_t i = 0; i < n_listeners; i++) {
		s->listeners[i].s = s;
		s->listeners[i].fd = -1;
	}
	return s;
}

/* policy_server_conns - the private epoll of the connections, on the loop */
static int
policy_server_conns(struct policy_server *s)
{
	int r;

	if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -errno;
	r = sd_event_add_io(s->e, &s->conn_io, s->epfd, EPOLLIN, policy_on_conns, s);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(s->conn_io, "policy-conns");
	return 0;
}

/* policy_server_timers - the idle and resume timers, both off */
static int
policy_server_timers(struct policy_server *s)
{
	/* timeouts are minutes in production, 200 ms in tests: accuracy scales with them */
	uint64_t accuracy = s->idle_usec / 16;
	int r;

	if (accuracy < 1000)
		accuracy = 1000;
	if (accuracy > 1000000)
		accuracy = 1000000;
	r = sd_event_add_time(s->e, &s->idle_timer, CLOCK_MONOTONIC, 0, accuracy,
	    policy_on_idle, s);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(s->idle_timer, "policy-idle");
	(void)sd_event_source_set_enabled(s->idle_timer, SD_EVENT_OFF);
	r = sd_event_add_time(s->e, &s->resume_timer, CLOCK_MONOTONIC, 0, 0, policy_on_resume, s);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(s->resume_timer, "policy-resume");
	return sd_event_source_set_enabled(s->resume_timer, SD_EVENT_OFF);
}

/* policy_server_new - set up every listener of conf on loop e */
int
policy_server_new(sd_event *e, const struct policy_server_conf *conf, policy_decide_fn decide,
    void *ud, struct policy_server **ret)
{
	struct policy_server *s;
	char **names = NULL;
	int n_fds = 0, r = 0;

	if (e == NULL || conf == NULL || decide == NULL || ret == NULL)
		return -EINVAL;
	if (conf->socket_activation && (n_fds = sd_listen_fds_with_names(0, &names)) < 0) {
		log_err("policy: socket activation: %s", strerror(-n_fds));
		return n_fds;
	}
	if ((s = policy_server_alloc(e, conf, conf->n_listens + (size_t)n_fds)) == NULL)
		r = -ENOMEM;
	else {
		s->decide = decide;
		s->ud = ud;
		if ((r = policy_server_conns(s)) < 0)
			log_err("policy: epoll: %s", strerror(-r));
		else if ((r = policy_server_timers(s)) < 0)
			log_err("policy: timers: %s", strerror(-r));
	}
	for (size_t i = 0; r >= 0 && i < conf->n_listens; i++) {
		struct policy_listener *l = &s->listeners[s->n_listeners++];

		if ((r = policy_listen_open(l, &conf->listens[i])) >= 0)
			r = policy_listener_start(l);
	}
	for (int i = 0; r >= 0 && i < n_fds; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		struct policy_listener *l = &s->listeners[s->n_listeners];

		if (!policy_listen_wanted(fd, names != NULL ? names[i] : NULL))
			continue;
		s->n_listeners++;
		if ((r = policy_listen_adopt(l, fd)) >= 0)
			r = policy_listener_start(l);
	}
	for (int i = 0; names != NULL && i < n_fds; i++)
		free(names[i]);
	free(names);
	if (r < 0) {
		if (r == -ENOMEM && s == NULL)
			log_err("policy: %s", strerror(-r));
		policy_server_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* policy_server_free - close every connection and listener; returns NULL */
struct policy_server *
policy_server_free(struct policy_server *s)
{
	if (s == NULL)
		return NULL;
	while (s->head != NULL)
		policy_conn_close(s->head);
	for (size_t i = 0; i < s->n_listeners; i++) {
		s->listeners[i].io = sd_event_source_disable_unref(s->listeners[i].io);
		policy_listen_close(&s->listeners[i]);
	}
	free(s->listeners);
	s->conn_io = sd_event_source_disable_unref(s->conn_io);
	if (s->epfd >= 0)
		close(s->epfd);
	s->idle_timer = sd_event_source_disable_unref(s->idle_timer);
	s->resume_timer = sd_event_source_disable_unref(s->resume_timer);
	free(s->fail_action);
	sd_event_unref(s->e);
	free(s);
	return NULL;
}

/* policy_server_get_stats - a copy of the counters */
void
policy_server_get_stats(const struct policy_server *s, struct policy_server_stats *ret)
{
	*ret = s->stats;
}

/* policy_server_listener_fd - the socket of listener i */
int
policy_server_listener_fd(const struct policy_server *s, size_t i)
{
	if (s == NULL || i >= s->n_listeners)
		return -ENOENT;
	return s->listeners[i].fd;
}
