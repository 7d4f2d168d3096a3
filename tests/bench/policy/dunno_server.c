/*
 * NAME
 *	dunno_server - the policy benchmark baseline: answer DUNNO to everything
 * SYNOPSIS
 *	dunno_server [-t HOST:PORT] [-u PATH]
 * DESCRIPTION
 *	The least a Postfix policy server must do: accept connections on an
 *	IPv4 TCP address and/or a UNIX stream socket, read each connection
 *	until an empty line ("\n\n") ends a request, and answer
 *	"action=DUNNO\n\n" to every request, pipelined requests in order. One
 *	thread, one edge-free (level-triggered) epoll(7) loop, no parsing of
 *	the attributes. bench.sh reports policy servers against it.
 *
 *	A request larger than 64 KiB without an empty line, or an answer the
 *	client does not read (64 KiB pending), closes that connection.
 *	SIGTERM or SIGINT ends the server (the UNIX socket file is removed).
 * RETURNS
 *	0 after a signal; 1 when a socket cannot be set up; 64 for bad
 *	arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DS_BUF		65536	/* request and pending output bound per connection */
#define DS_ANSWER	"action=DUNNO\n\n"

struct ds_conn {
	int fd;
	size_t in_len, out_len;
	int scan_from;		/* where the search for "\n\n" resumes */
	char in[DS_BUF];
	char out[DS_BUF];
};

static volatile sig_atomic_t ds_stop;
static int ds_epfd;

static void
ds_on_signal(int sig)
{
	(void)sig;
	ds_stop = 1;
}

/* ds_listen_tcp - a listening IPv4 socket on "host:port"; fd or -1 */
static int
ds_listen_tcp(const char *hp)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *colon = strrchr(hp, ':');
	char host[64];
	int fd, one = 1;

	if (colon == NULL || (size_t)(colon - hp) >= sizeof(host))
		return -1;
	memcpy(host, hp, (size_t)(colon - hp));
	host[colon - hp] = '\0';
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -1;
	sin.sin_port = htons((unsigned short)atoi(colon + 1));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 4096) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ds_listen_unix - a listening UNIX socket at path (a stale file is replaced); fd or -1 */
static int
ds_listen_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 4096) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
ds_close(struct ds_conn *c)
{
	close(c->fd);
	free(c);
}

/* ds_flush - write pending answers; 0, or -1 when the connection is to be closed */
static int
ds_flush(struct ds_conn *c)
{
	size_t off = 0;

	while (off < c->out_len) {
		ssize_t n = write(c->fd, c->out + off, c->out_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	memmove(c->out, c->out + off, c->out_len - off);
	c->out_len -= off;
	struct epoll_event ev = { .events = EPOLLIN | (c->out_len ? EPOLLOUT : 0) };
	ev.data.ptr = c;
	epoll_ctl(ds_epfd, EPOLL_CTL_MOD, c->fd, &ev);
	return 0;
}

/* ds_read - read, answer every complete request; 0, or -1 to close */
static int
ds_read(struct ds_conn *c)
{
	ssize_t n;
	size_t start = 0, from;

	n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	c->in_len += (size_t)n;
	/* the empty line may start with the last byte of the previous read */
	from = c->scan_from > 0 ? (size_t)c->scan_from - 1 : 0;
	for (;;) {
		char *p = memmem(c->in + from, c->in_len - from, "\n\n", 2);

		if (p == NULL)
			break;
		if (c->out_len + sizeof(DS_ANSWER) - 1 > sizeof(c->out))
			return -1;
		memcpy(c->out + c->out_len, DS_ANSWER, sizeof(DS_ANSWER) - 1);
		c->out_len += sizeof(DS_ANSWER) - 1;
		start = from = (size_t)(p - c->in) + 2;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	c->scan_from = (int)c->in_len;
	if (c->in_len == sizeof(c->in))
		return -1;
	return c->out_len ? ds_flush(c) : 0;
}

static void
ds_accept(int lfd)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct ds_conn *c;

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			return;
		}
		c->fd = fd;
		struct epoll_event ev = { .events = EPOLLIN };
		ev.data.ptr = c;
		if (epoll_ctl(ds_epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			ds_close(c);
	}
}

int
main(int argc, char **argv)
{
	static struct epoll_event evs[256];
	const char *tcp = NULL, *path = NULL;
	int lfd[2] = { -1, -1 }, opt;
	struct rlimit rl;

	while ((opt = getopt(argc, argv, "t:u:")) != -1) {
		if (opt == 't')
			tcp = optarg;
		else if (opt == 'u')
			path = optarg;
		else
			goto usage;
	}
	if (optind != argc || (tcp == NULL && path == NULL))
		goto usage;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, ds_on_signal);
	signal(SIGINT, ds_on_signal);
	ds_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (tcp != NULL && (lfd[0] = ds_listen_tcp(tcp)) < 0) {
		fprintf(stderr, "dunno_server: %s: %s\n", tcp, strerror(errno));
		return 1;
	}
	if (path != NULL && (lfd[1] = ds_listen_unix(path)) < 0) {
		fprintf(stderr, "dunno_server: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		ev.data.u64 = (uint64_t)i + 1;	/* 1, 2: listeners; pointers otherwise */
		if (lfd[i] >= 0)
			epoll_ctl(ds_epfd, EPOLL_CTL_ADD, lfd[i], &ev);
	}
	while (!ds_stop) {
		int n = epoll_wait(ds_epfd, evs, 256, 500);

		for (int i = 0; i < n; i++) {
			struct ds_conn *c;

			if (evs[i].data.u64 == 1 || evs[i].data.u64 == 2) {
				ds_accept(lfd[evs[i].data.u64 - 1]);
				continue;
			}
			c = evs[i].data.ptr;
			if ((evs[i].events & EPOLLOUT && ds_flush(c) < 0) ||
			    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR) && ds_read(c) < 0))
				ds_close(c);
		}
	}
	if (path != NULL)
		unlink(path);
	return 0;
usage:
	fprintf(stderr, "usage: dunno_server [-t HOST:PORT] [-u PATH]\n");
	return 64;
}
