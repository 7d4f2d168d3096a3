/*
 * NAME
 *	metrics_http - serve /metrics and /healthz over HTTP (libmicrohttpd)
 * SYNOPSIS
 *	#include "metrics_http.h"
 *
 *	int metrics_http_new(struct metrics *m, const char *listen,
 *	    metrics_health_fn health, void *ud, struct metrics_http **ret);
 *	struct metrics_http *metrics_http_free(struct metrics_http *h);
 *	unsigned metrics_http_port(const struct metrics_http *h);
 * DESCRIPTION
 *	metrics_http_new() binds listen ("127.0.0.1:9154", "[::1]:9154",
 *	"0.0.0.0:9154"; a numeric address, no names; port 0 picks a free
 *	port, see metrics_http_port()) and serves from libmicrohttpd's own
 *	thread, so it needs no event loop and keeps answering while the main
 *	loop is busy committing:
 *
 *	  GET /metrics   200, metrics_format(m), Content-Type
 *	                 "text/plain; version=0.0.4; charset=utf-8"
 *	  GET /healthz   200 "ok\n", or 503 "unhealthy: REASON\n"
 *	  other paths    404;  other methods than GET and HEAD: 405 (Allow: GET, HEAD)
 *
 *	Health comes from health(ud, buf, size) when given -- it returns 1
 *	healthy, or 0 with a reason written to buf, and runs on the HTTP
 *	thread, so it may read only thread-safe state -- or else from
 *	metrics_set_health() on m, which any thread may call.
 *
 *	Bounds: METRICS_HTTP_CONNECTIONS connections at once
 *	(METRICS_HTTP_PER_IP from one address), METRICS_HTTP_TIMEOUT seconds
 *	of idleness, METRICS_HTTP_MEMORY bytes of request memory per
 *	connection; a longer request is refused by libmicrohttpd. The
 *	library's messages (mostly about clients' bad requests) are logged at
 *	info level as "metrics http: ...".
 * RETURNS
 *	metrics_http_new(): 0; -EINVAL (listen does not parse); -errno of
 *	socket(2)/bind(2)/listen(2) (-EADDRINUSE, -EACCES); -EOPNOTSUPP when
 *	mxledger was built without libmicrohttpd; -ENOMEM; -EIO when
 *	libmicrohttpd refuses to start.
 * OWNERSHIP
 *	m is borrowed: it must outlive the server. metrics_http_free() stops
 *	the thread (waiting for a request in progress), closes the socket and
 *	returns NULL.
 * SEE ALSO
 *	metrics.h, libmicrohttpd, tests/check_metrics_http.c
 */
#ifndef MX_METRICS_HTTP_H
#define MX_METRICS_HTTP_H

#include <stddef.h>

#include "metrics.h"

#define METRICS_HTTP_LISTEN_DEFAULT	"127.0.0.1:9154"
/* Prometheus scrapes with one connection; a few humans with curl. */
#define METRICS_HTTP_CONNECTIONS	16
#define METRICS_HTTP_PER_IP		8
#define METRICS_HTTP_TIMEOUT		10
/* A scrape request is a few hundred bytes of headers. */
#define METRICS_HTTP_MEMORY		(16 * 1024)

typedef int (*metrics_health_fn)(void *ud, char *buf, size_t size);

struct metrics_http;

int metrics_http_new(struct metrics *m, const char *listen, metrics_health_fn health,
    void *ud, struct metrics_http **ret);
struct metrics_http *metrics_http_free(struct metrics_http *h);
unsigned metrics_http_port(const struct metrics_http *h);

#endif
