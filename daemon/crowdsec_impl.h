/*
 * NAME
 *	crowdsec_impl - what crowdsec.c and crowdsec_http.c share
 * DESCRIPTION
 *	Private to the CrowdSec client: the HTTP exchange (crowdsec_http.c)
 *	used by the pulling thread and by crowdsec_query().
 * SEE ALSO
 *	crowdsec.h
 */
#ifndef MX_CROWDSEC_IMPL_H
#define MX_CROWDSEC_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "crowdsec.h"

struct crowdsec_http {
	void *curl;			/* CURL * */
	char *base;			/* base URL ending in "/" */
	long timeout_ms;
	char *body;			/* the last answer, NUL-terminated */
	size_t len, cap;
	int too_large;
	char err[256];			/* why no answer came */
};

int crowdsec_http_init(struct crowdsec_http *h, const char *base_url, int64_t timeout_usec);
void crowdsec_http_done(struct crowdsec_http *h);
int crowdsec_http(struct crowdsec_http *h, const char *path, const char *header,
    const char *post_body, long *ret_status);

#endif
