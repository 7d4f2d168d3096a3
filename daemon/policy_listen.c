/*
 * NAME
 *	policy_listen - the listening sockets of the policy service
 * SYNOPSIS
 *	#include "policy_listen.h"
 *
 *	r = policy_listen_open(l, &conf->listens[i]);
 *	if (policy_listen_wanted(fd, name)) r = policy_listen_adopt(l, fd);
 *	policy_listen_close(l);
 * DESCRIPTION
 *	inet: "host:port" with host an IPv4 literal, or "[v6]:port"; no
 *	names, no wildcard shorthand ("0.0.0.0:10040" and "[::]:10040" say
 *	it). IPv6 sockets are IPV6_V6ONLY, so a v4 and a v6 listener on one
 *	port do not collide. Port 0 asks the kernel for one (tests).
 *
 *	UNIX: the owner and group names are resolved first, then the path is
 *	looked at: a socket file nobody listens on is removed, a live one
 *	(connect() succeeds) is -EADDRINUSE, anything else there is -EEXIST
 *	and is left alone. After bind() the file gets its mode and owner,
 *	then listen(): nobody can connect before the permissions are right.
 *	Its device and inode are kept so that policy_listen_close() removes
 *	that file and not one another process put there since.
 *
 *	Socket activation: a passed descriptor is a policy listener if it is
 *	a stream socket in listening state and its FileDescriptorName= is
 *	"policy", the default (the unit name, "*.socket") or "unknown" (no
 *	names passed). Other names are for other parts of the process.
 * SEE ALSO
 *	policy_listen.h, policy_server.c, contrib/mxledger.socket
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "policy_listen.h"

/* policy_listen_parse_inet - "192.0.2.1:10040" or "[2001:db8::1]:10040" to a socket address */
static int
policy_listen_parse_inet(const char *addr, union policy_sockaddr *ret, socklen_t *ret_len)
{
	char host[INET6_ADDRSTRLEN];
	const char *end, *port;
	unsigned long p = 0;
	int v6 = addr[0] == '[';

	if (v6) {
		addr++;
		if ((end = strchr(addr, ']')) == NULL || end[1] != ':')
			return -EINVAL;
		port = end + 2;
	} else {
		if ((end = strrchr(addr, ':')) == NULL || memchr(addr, ':', (size_t)(end - addr)))
			return -EINVAL;
		port = end + 1;
	}
	if ((size_t)(end - addr) >= sizeof(host) || *port == '\0' || strlen(port) > 5)
		return -EINVAL;
	memcpy(host, addr, (size_t)(end - addr));
	host[end - addr] = '\0';
	for (const char *q = port; *q != '\0'; q++) {
		if (*q < '0' || *q > '9')
			return -EINVAL;
		p = p * 10 + (unsigned long)(*q - '0');
	}
	if (p > 65535)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (v6) {
		ret->in6.sin6_family = AF_INET6;
		ret->in6.sin6_port = htons((uint16_t)p);
		*ret_len = sizeof(ret->in6);
		return inet_pton(AF_INET6, host, &ret->in6.sin6_addr) == 1 ? 0 : -EINVAL;
	}
	ret->in.sin_family = AF_INET;
	ret->in.sin_port = htons((uint16_t)p);
	*ret_len = sizeof(ret->in);
	return inet_pton(AF_INET, host, &ret->in.sin_addr) == 1 ? 0 : -EINVAL;
}

/* policy_listen_inet - bind and listen on an inet address; why explains -EINVAL */
static int
policy_listen_inet(struct policy_listener *l, const struct policy_listen_conf *lc,
    char *why, size_t size)
{
	union policy_sockaddr sa;
	socklen_t len;
	static const int one = 1;
	int fd;

	if (policy_listen_parse_inet(lc->address, &sa, &len) < 0) {
		snprintf(why, size, "not an address and port "
		    "(like 127.0.0.1:10040 or [::1]:10040)");
		return -EINVAL;
	}
	if ((fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	l->fd = fd;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (sa.sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, &sa.sa, len) < 0 || listen(fd, SOMAXCONN) < 0)
		return -errno;
	return 0;
}

/* policy_listen_ids - the uid and gid of conf owner and group; -1 for "leave it" */
static int
policy_listen_ids(const struct policy_listen_conf *lc, uid_t *ret_uid, gid_t *ret_gid,
    char *why, size_t size)
{
	struct passwd *pw;
	struct group *gr;

	*ret_uid = (uid_t)-1;
	*ret_gid = (gid_t)-1;
	if (lc->owner != NULL && *lc->owner != '\0') {
		errno = 0;
		if ((pw = getpwnam(lc->owner)) == NULL) {
			snprintf(why, size, "unknown user \"%.64s\"", lc->owner);
			return errno > 0 ? -errno : -ENOENT;
		}
		*ret_uid = pw->pw_uid;
	}
	if (lc->group != NULL && *lc->group != '\0') {
		errno = 0;
		if ((gr = getgrnam(lc->group)) == NULL) {
			snprintf(why, size, "unknown group \"%.64s\"", lc->group);
			return errno > 0 ? -errno : -ENOENT;
		}
		*ret_gid = gr->gr_gid;
	}
	return 0;
}

/* policy_listen_stale - remove a socket file nobody listens on; anything else is an error */
static int
policy_listen_stale(const union policy_sockaddr *sa, char *why, size_t size)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->un.sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, size, "exists and is not a socket");
		return -EEXIST;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	r = connect(fd, &sa->sa, sizeof(sa->un)) == 0 || errno == EAGAIN ? -EADDRINUSE : 0;
	close(fd);
	if (r < 0) {
		snprintf(why, size, "another process listens on it");
		return r;
	}
	if (unlink(sa->un.sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* policy_listen_unix - make the socket file with its mode and owner, then listen */
static int
policy_listen_unix(struct policy_listener *l, const struct policy_listen_conf *lc,
    char *why, size_t size)
{
	union policy_sockaddr sa;
	mode_t mode = lc->mode != 0 ? lc->mode & 07777 : 0660;
	struct stat st;
	uid_t uid;
	gid_t gid;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.un.sun_family = AF_UNIX;
	if (lc->address[0] == '\0') {
		snprintf(why, size, "empty socket path");
		return -EINVAL;
	}
	if (strlen(lc->address) >= sizeof(sa.un.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.un.sun_path, lc->address);
	if ((r = policy_listen_ids(lc, &uid, &gid, why, size)) < 0 ||
	    (r = policy_listen_stale(&sa, why, size)) < 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	l->fd = fd;
	if (bind(fd, &sa.sa, sizeof(sa.un)) < 0)
		return -errno;
	if ((l->path = strdup(lc->address)) == NULL)
		return -ENOMEM;
	if (lstat(l->path, &st) < 0)
		return -errno;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	if (chmod(l->path, mode) < 0)
		return -errno;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(l->path, uid, gid) < 0)
		return -errno;
	if (listen(fd, SOMAXCONN) < 0)
		return -errno;
	return 0;
}

/* policy_listen_open - set up listener l from its configuration; logs why not */
int
policy_listen_open(struct policy_listener *l, const struct policy_listen_conf *lc)
{
	char why[160] = "", where[256] = "";
	int r;

	if (asprintf(&l->name, "%s %s", lc->type == POLICY_LISTEN_UNIX ? "unix" : "inet",
	    lc->address != NULL ? lc->address : "") < 0) {
		l->name = NULL;
		return -ENOMEM;
	}
	if (lc->address == NULL) {
		snprintf(why, sizeof(why), "no address");
		r = -EINVAL;
	}
	else if (lc->type == POLICY_LISTEN_UNIX)
		r = policy_listen_unix(l, lc, why, sizeof(why));
	else
		r = policy_listen_inet(l, lc, why, sizeof(why));
	if (r < 0) {
		if (lc->file != NULL)
			snprintf(where, sizeof(where), " (%s:%u)", lc->file, lc->line);
		log_err("policy: listen %s: %s%s", l->name, why[0] != '\0' ? why : strerror(-r),
		    where);
	}
	return r;
}

/* policy_listen_wanted - is socket fd, passed by systemd as name, a policy listener? */
int
policy_listen_wanted(int fd, const char *name)
{
	size_t n;

	if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
		return 0;
	if (name == NULL || strcmp(name, "policy") == 0 || strcmp(name, "unknown") == 0)
		return 1;
	n = strlen(name);
	return n > 7 && strcmp(name + n - 7, ".socket") == 0;
}

/* policy_listen_adopt - take over socket fd passed by systemd */
int
policy_listen_adopt(struct policy_listener *l, int fd)
{
	union policy_sockaddr sa;
	socklen_t len = sizeof(sa);
	int flags, r;

	l->fd = fd;
	l->activated = 1;
	if (asprintf(&l->name, "fd %d", fd) < 0) {
		l->name = NULL;
		return -ENOMEM;
	}
	if (getsockname(fd, &sa.sa, &len) == 0 && sa.sa.sa_family == AF_UNIX &&
	    len > offsetof(struct sockaddr_un, sun_path) && sa.un.sun_path[0] != '\0') {
		sa.un.sun_path[sizeof(sa.un.sun_path) - 1] = '\0';
		if ((l->path = strdup(sa.un.sun_path)) == NULL)
			return -ENOMEM;
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = -errno;
		log_err("policy: listen %s (socket activation): %s", l->name, strerror(-r));
		return r;
	}
	return 0;
}

/* policy_listen_close - close what open() made and remove its socket file */
void
policy_listen_close(struct policy_listener *l)
{
	struct stat st;

	if (!l->activated && l->fd >= 0) {
		close(l->fd);
		if (l->path != NULL && lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
		    st.st_ino == l->ino)
			(void)unlink(l->path);
	}
	l->fd = -1;
	free(l->name);
	free(l->path);
	l->name = l->path = NULL;
}
