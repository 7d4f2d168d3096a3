/*
 * NAME
 *	crowdsec_http - one HTTP exchange with the CrowdSec Local API (libcurl)
 * SYNOPSIS
 *	#include "crowdsec_impl.h"
 *
 *	int crowdsec_http_init(struct crowdsec_http *h, const char *base_url,
 *	    int64_t timeout_usec);
 *	void crowdsec_http_done(struct crowdsec_http *h);
 *	int crowdsec_http(struct crowdsec_http *h, const char *path, const char *header,
 *	    const char *post_body, long *ret_status);
 * DESCRIPTION
 *	A reused curl easy handle (the connection is kept alive between
 *	pulls) with the configured timeout for connecting and for the whole
 *	exchange, no signals, http and https only, no redirects. The answer's
 *	body lands in h->body (NUL-terminated, h->len bytes, at most
 *	CROWDSEC_BODY_MAX: a longer one fails the exchange). header is one
 *	extra header line ("X-Api-Key: ..." or "Authorization: Bearer ...");
 *	post_body NULL makes a GET, else a POST of that JSON.
 * RETURNS
 *	0 when an answer came (any status, in *ret_status); -EIO when none
 *	did (refused, timeout, reset, too large), h->err saying why; -ENOMEM.
 * SEE ALSO
 *	crowdsec.h, crowdsec.c, libcurl-easy(3)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "crowdsec_impl.h"

static pthread_once_t crowdsec_http_once = PTHREAD_ONCE_INIT;

static void
crowdsec_http_global(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* crowdsec_http_init - a client for base_url ("http://127.0.0.1:8080/", slash optional) */
int
crowdsec_http_init(struct crowdsec_http *h, const char *base_url, int64_t timeout_usec)
{
	size_t n = strlen(base_url);

	pthread_once(&crowdsec_http_once, crowdsec_http_global);
	memset(h, 0, sizeof(*h));
	if ((h->base = malloc(n + 2)) == NULL)
		return -ENOMEM;
	memcpy(h->base, base_url, n + 1);
	if (n == 0 || base_url[n - 1] != '/')
		strcpy(h->base + n, "/");
	h->timeout_ms = timeout_usec > 0 ? (long)(timeout_usec / 1000) : 2000;
	if (h->timeout_ms < 1)
		h->timeout_ms = 1;
	if ((h->curl = curl_easy_init()) == NULL) {
		free(h->base);
		h->base = NULL;
		return -ENOMEM;
	}
	return 0;
}

void
crowdsec_http_done(struct crowdsec_http *h)
{
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->base);
	free(h->body);
	memset(h, 0, sizeof(*h));
}

/* crowdsec_http_write - curl's write callback: append to h->body, refuse past the cap */
static size_t
crowdsec_http_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct crowdsec_http *h = ud;
	size_t n = size * nmemb;
	char *nb;

	if (n > CROWDSEC_BODY_MAX - h->len) {
		h->too_large = 1;
		return 0;
	}
	if (h->len + n + 1 > h->cap) {
		size_t cap = h->cap > 0 ? h->cap : 16384;

		while (cap < h->len + n + 1)
			cap *= 2;
		if ((nb = realloc(h->body, cap)) == NULL)
			return 0;
		h->body = nb;
		h->cap = cap;
	}
	memcpy(h->body + h->len, data, n);
	h->len += n;
	h->body[h->len] = '\0';
	return n;
}

/* crowdsec_http - one request of path (relative to the base URL); see above */
int
crowdsec_http(struct crowdsec_http *h, const char *path, const char *header,
    const char *post_body, long *ret_status)
{
	struct curl_slist *hdrs = NULL, *t;
	char errbuf[CURL_ERROR_SIZE] = "";
	size_t ul = strlen(h->base) + strlen(path) + 1;
	char *url;
	CURLcode rc;
	long status = 0;

	h->len = 0;
	h->too_large = 0;
	h->err[0] = '\0';
	if (h->body != NULL)
		h->body[0] = '\0';
	if ((url = malloc(ul)) == NULL)
		return -ENOMEM;
	snprintf(url, ul, "%s%s", h->base, path);
	if (header != NULL) {
		if ((t = curl_slist_append(hdrs, header)) == NULL)
			goto nomem;
		hdrs = t;
	}
	if (post_body != NULL) {
		if ((t = curl_slist_append(hdrs, "Content-Type: application/json")) == NULL)
			goto nomem;
		hdrs = t;
	}
	curl_easy_reset(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
	if (post_body != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, post_body);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(post_body));
	}
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, crowdsec_http_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "mxledger/" PACKAGE_VERSION);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
	rc = curl_easy_perform(h->curl);
	curl_slist_free_all(hdrs);
	free(url);
	if (rc != CURLE_OK) {
		if (h->too_large)
			snprintf(h->err, sizeof(h->err), "answer larger than %u MiB",
			    CROWDSEC_BODY_MAX >> 20);
		else
			snprintf(h->err, sizeof(h->err), "%s", errbuf[0] != '\0' ? errbuf :
			    curl_easy_strerror(rc));
		return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (h->body == NULL) {
		if ((h->body = malloc(1)) == NULL)
			return -ENOMEM;
		h->body[0] = '\0';
		h->cap = 1;
	}
	*ret_status = status;
	return 0;
nomem:
	curl_slist_free_all(hdrs);
	free(url);
	return -ENOMEM;
}
