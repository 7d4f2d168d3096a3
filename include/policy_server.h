/*
 * NAME
 *	policy_server - Postfix policy delegation listeners on an sd-event loop
 * SYNOPSIS
 *	#include "policy_server.h"
 *
 *	int policy_server_new(sd_event *e, const struct policy_server_conf *conf,
 *	    policy_decide_fn decide, void *ud, struct policy_server **ret);
 *	struct policy_server *policy_server_free(struct policy_server *s);
 *	void policy_server_get_stats(const struct policy_server *s,
 *	    struct policy_server_stats *ret);
 *	int policy_server_listener_fd(const struct policy_server *s, size_t i);
 * DESCRIPTION
 *	Owns the sockets of the policy service: inet listeners (IPv4 or IPv6
 *	"host:port", "[::1]:port"), UNIX stream sockets (path, owner, group,
 *	mode; a stale socket file is replaced), and sockets passed by systemd
 *	socket activation (sd_listen_fds(), conf->socket_activation). Each
 *	connection reads requests with policy_proto.h's incremental parser,
 *	calls decide() once per complete request, in order, and writes
 *	"action=...\n\n" back; Postfix keeps connections open and may
 *	pipeline. A framing error (oversized, NUL, malformed line) is logged
 *	with the peer and closes that connection only. Limits: at most
 *	conf->max_connections at once (further accepts are closed at once and
 *	counted), conf->idle_timeout_usec without a byte read closes the
 *	connection, output that the peer does not read is bounded too. Many
 *	idle or slow connections cost a file descriptor and a small buffer
 *	each and never block the loop.
 *
 *	decide() must answer synchronously and fast: it runs on the loop. It
 *	writes the action text (without "action=") into ret_action and
 *	returns >= 0; a negative return makes the server answer
 *	conf->fail_action (default "DUNNO": fail open).
 *
 *	policy_server_listener_fd() gives the socket of listener i: first
 *	those of conf->listens in order, then the activated ones. It is
 *	there for getsockname() (the port bound for "127.0.0.1:0", the
 *	address for a metric); the server keeps owning it.
 * RETURNS
 *	policy_server_new(): 0, or -errno when a listener cannot be set up
 *	(the message, naming the listener, is logged).
 *	policy_server_listener_fd(): a descriptor, -ENOENT past the last one.
 */
#ifndef MX_POLICY_SERVER_H
#define MX_POLICY_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "policy_proto.h"

enum policy_listen_type {
	POLICY_LISTEN_INET,
	POLICY_LISTEN_UNIX,
};

struct policy_listen_conf {
	enum policy_listen_type type;
	char *address;		/* "127.0.0.1:10040", "[::1]:10040", or a socket path */
	char *owner;		/* UNIX: user name or NULL */
	char *group;		/* UNIX: group name or NULL */
	mode_t mode;		/* UNIX: 0 = 0660 */
	const char *file;	/* where it was declared (for messages) */
	unsigned line;
};

struct policy_server_conf {
	struct policy_listen_conf *listens;
	size_t n_listens;
	int socket_activation;		/* also take sockets from sd_listen_fds() */
	unsigned max_connections;	/* default 4096 */
	uint64_t idle_timeout_usec;	/* default 330 s (Postfix's max_idle is 300 s) */
	size_t request_max;		/* default 16 KiB */
	unsigned attrs_max;		/* default 64 */
	const char *fail_action;	/* answer when decide() fails; default "DUNNO" */
};

struct policy_server_stats {
	uint64_t connections;		/* accepted and served, since start */
	uint64_t connections_refused;	/* accepted and closed at once: max_connections */
	uint64_t connections_open;	/* now */
	uint64_t requests;		/* answered (or answer queued) */
	uint64_t errors_framing;	/* closed for a bad request or answers not read */
	uint64_t errors_decide;		/* decide() < 0: fail_action given */
	uint64_t idle_closed;		/* connections closed by idle_timeout_usec */
};

typedef int (*policy_decide_fn)(void *ud, const struct policy_request *req, char *ret_action,
    size_t size);

struct policy_server;

int policy_server_new(sd_event *e, const struct policy_server_conf *conf, policy_decide_fn decide,
    void *ud, struct policy_server **ret);
struct policy_server *policy_server_free(struct policy_server *s);
void policy_server_get_stats(const struct policy_server *s, struct policy_server_stats *ret);
int policy_server_listener_fd(const struct policy_server *s, size_t i);

#endif
