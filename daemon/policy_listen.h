/*
 * NAME
 *	policy_listen - the listening sockets of the policy service
 * SYNOPSIS
 *	#include "policy_listen.h"	(private to policy_server.c and policy_listen.c)
 *
 *	int policy_listen_open(struct policy_listener *l,
 *	    const struct policy_listen_conf *lc);
 *	int policy_listen_wanted(int fd, const char *name);
 *	int policy_listen_adopt(struct policy_listener *l, int fd);
 *	void policy_listen_close(struct policy_listener *l);
 * DESCRIPTION
 *	policy_listen_open() makes the socket a configured listener
 *	describes: inet "192.0.2.1:10040" or "[2001:db8::1]:10040" (explicit
 *	addresses only; SO_REUSEADDR, IPV6_V6ONLY), or a UNIX socket file
 *	with its mode (0 = 0660), owner and group. policy_listen_wanted() says
 *	whether descriptor fd passed by systemd under name is a policy
 *	listener, policy_listen_adopt() takes it over. policy_listen_close()
 *	closes what open() made and removes its socket file; an adopted
 *	socket is left open (systemd's, found again after a reload). The
 *	server owns l->s and l->io; this file never touches them.
 * RETURNS
 *	open() and adopt(): 0 with l->fd listening, non-blocking and
 *	close-on-exec; or -errno after logging "policy: listen NAME: why".
 *	Either way l must go through policy_listen_close().
 * SEE ALSO
 *	policy_server.h, policy_listen.c
 */
#ifndef MX_POLICY_LISTEN_H
#define MX_POLICY_LISTEN_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <systemd/sd-event.h>

#include "policy_server.h"

union policy_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_un un;
	struct sockaddr_storage ss;
};

struct policy_listener {
	struct policy_server *s;	/* the server's */
	sd_event_source *io;		/* the server's */
	int fd;				/* -1 before open() */
	int activated;			/* from systemd: neither closed nor unlinked */
	char *name;			/* "inet 127.0.0.1:10040", "unix /run/...", "fd 3" */
	char *path;			/* UNIX: the socket file (for peers' names) */
	dev_t dev;			/* of the socket file we made, to unlink only it */
	ino_t ino;
};

int policy_listen_open(struct policy_listener *l, const struct policy_listen_conf *lc);
int policy_listen_wanted(int fd, const char *name);
int policy_listen_adopt(struct policy_listener *l, int fd);
void policy_listen_close(struct policy_listener *l);

#endif
