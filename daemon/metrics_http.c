/*
 * NAME
 *	metrics_http - serve /metrics and /healthz over HTTP (libmicrohttpd)
 * SYNOPSIS
 *	#include "metrics_http.h"
 *
 *	metrics_http_new(m, "127.0.0.1:9154", NULL, NULL, &h);
 *	...
 *	h = metrics_http_free(h);
 * DESCRIPTION
 *	We bind the socket ourselves (so a bind error has its errno and
 *	port 0 its real port) and hand it to libmicrohttpd, which runs one
 *	internal polling thread. Every request is answered on its first
 *	call to the access handler: nothing we serve reads a body. The
 *	registry has its own lock, so the thread formats it directly.
 *
 *	Without libmicrohttpd (configure --without-microhttpd) the functions
 *	exist and metrics_http_new() says -EOPNOTSUPP.
 * SEE ALSO
 *	metrics_http.h (the contract), metrics.c
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_http.h"

#ifdef HAVE_MICROHTTPD

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"

struct metrics_http {
	struct metrics *m;
	metrics_health_fn health;
	void *ud;
	struct MHD_Daemon *mhd;
	unsigned port;
};

static int metrics_http_listen(const char *addr, unsigned *ret_port);

/* metrics_http_addr - "1.2.3.4:80" / "[::1]:80" into a socket address */
static int
metrics_http_addr(const char *s, struct sockaddr_storage *ss, socklen_t *ret_len)
{
	char host[INET6_ADDRSTRLEN + 1], *end;
	const char *colon, *h = s;
	unsigned long port;
	size_t hlen;

	if (s == NULL || (colon = strrchr(s, ':')) == NULL || colon[1] == '\0')
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (*s == '[') {
		if (hlen < 2 || s[hlen - 1] != ']')
			return -EINVAL;
		h = s + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || port > 65535 || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (*s != '[' && inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(struct sockaddr_in);
		return AF_INET;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(struct sockaddr_in6);
		return AF_INET6;
	}
	return -EINVAL;
}

/* metrics_http_listen - a listening socket on addr; its port in *ret_port */
static int
metrics_http_listen(const char *addr, unsigned *ret_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, family, one = 1, r;

	if ((family = metrics_http_addr(addr, &ss, &len)) < 0)
		return family;
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0)
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto fail;
	*ret_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

static void
metrics_http_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t len;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	log_info("metrics http: %s", buf);	/* mostly clients' mistakes */
}

/* metrics_http_reply - queue a response of len bytes; buf is taken (free(3)) */
static enum MHD_Result
metrics_http_reply(struct MHD_Connection *c, unsigned status, const char *type, char *buf,
    size_t len, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result
metrics_http_text(struct MHD_Connection *c, unsigned status, const char *text,
    const char *allow)
{
	char *buf = strdup(text);

	if (buf == NULL)
		return MHD_NO;
	return metrics_http_reply(c, status, "text/plain; charset=utf-8", buf, strlen(buf),
	    allow);
}

static enum MHD_Result
metrics_http_metrics(struct metrics_http *h, struct MHD_Connection *c)
{
	char *buf;
	size_t len;
	int r;

	if ((r = metrics_format(h->m, &buf, &len)) < 0)
		return metrics_http_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot format the metrics\n", NULL);
	return metrics_http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
	    buf, len, NULL);
}

static enum MHD_Result
metrics_http_healthz(struct metrics_http *h, struct MHD_Connection *c)
{
	char reason[METRICS_HEALTH_MAX], text[METRICS_HEALTH_MAX + 32];
	int ok;

	reason[0] = '\0';
	ok = h->health != NULL ? h->health(h->ud, reason, sizeof(reason)) :
	    metrics_get_health(h->m, reason, sizeof(reason));
	if (ok)
		return metrics_http_text(c, MHD_HTTP_OK, "ok\n", NULL);
	reason[sizeof(reason) - 1] = '\0';
	snprintf(text, sizeof(text), "unhealthy: %s\n", reason[0] != '\0' ? reason : "unknown");
	return metrics_http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, text, NULL);
}

/* metrics_http_handler - every request, answered on its first call */
static enum MHD_Result
metrics_http_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct metrics_http *h = cls;
	int known = strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0;

	if (!known)
		return metrics_http_text(c, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return metrics_http_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
		    "GET, HEAD");
	if (strcmp(url, "/metrics") == 0)
		return metrics_http_metrics(h, c);
	return metrics_http_healthz(h, c);
}

/* metrics_http_new - bind listen and serve m from libmicrohttpd's thread */
int
metrics_http_new(struct metrics *m, const char *listen, metrics_health_fn health, void *ud,
    struct metrics_http **ret)
{
	struct metrics_http *h;
	int fd;

	if (m == NULL || ret == NULL)
		return -EINVAL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->m = m;
	h->health = health;
	h->ud = ud;
	if ((fd = metrics_http_listen(listen, &h->port)) < 0) {
		free(h);
		return fd;
	}
	h->mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
	    NULL, metrics_http_handler, h,
	    MHD_OPTION_EXTERNAL_LOGGER, metrics_http_log, h,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_HTTP_MEMORY,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		close(fd);
		free(h);
		return -EIO;
	}
	*ret = h;
	return 0;
}

/* metrics_http_free - stop serving, close the socket; returns NULL */
struct metrics_http *
metrics_http_free(struct metrics_http *h)
{
	if (h == NULL)
		return NULL;
	MHD_stop_daemon(h->mhd);	/* closes the listening socket too */
	free(h);
	return NULL;
}

unsigned
metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

#else /* !HAVE_MICROHTTPD */

int
metrics_http_new(struct metrics *m, const char *listen, metrics_health_fn health, void *ud,
    struct metrics_http **ret)
{
	return -EOPNOTSUPP;
}

struct metrics_http *
metrics_http_free(struct metrics_http *h)
{
	return NULL;
}

unsigned
metrics_http_port(const struct metrics_http *h)
{
	return 0;
}

#endif /* HAVE_MICROHTTPD */
