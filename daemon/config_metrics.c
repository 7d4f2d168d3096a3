/*
 * NAME
 *	config_metrics - the metrics { } block of mxledger.conf(5)
 * SYNOPSIS
 *	#include "config_impl.h"
 *
 *	void config_apply_metrics(struct config_reader *c, const struct config_stmt *st);
 *	void config_metrics_done(struct mx_config *cfg);
 *	void config_metrics_print(const struct mx_config *cfg, FILE *f);
 * DESCRIPTION
 *	  metrics {
 *		listen "127.0.0.1:9154"		numeric ADDR:PORT, [IPv6]:PORT, or none
 *		textfile "/var/lib/prometheus/node-exporter/mxledger.prom"
 *		textfile-interval 15s		1s to 1h
 *		proxy-networks "10.0.0.0/8" "fd00::/8"	or none
 *		alerts yes|no
 *		alertmanager-url "http://127.0.0.1:9093"	needs alerts yes
 *	  }
 *
 *	Without a metrics block nothing is served or written (struct
 *	mx_metrics_conf.present is 0). `metrics { }` alone serves /metrics and
 *	/healthz on METRICS_HTTP_LISTEN_DEFAULT, loopback, as the endpoint has
 *	no authentication. Port 0 takes any free port (mxledger run logs the
 *	one it got): meant for tests. proxy-networks are the networks of the
 *	PROXY hops and health checks besides loopback, for
 *	mxledger_real_ip_lost_total (metrics.h).
 *
 *	Like the policy block, the block is read into a scratch struct and
 *	replaces the defaults only when none of its statements had an error;
 *	each setting may be given once per block.
 * SEE ALSO
 *	config_impl.h, config.c, metrics.h, metrics_http.h, alerts.h, run_metrics.c,
 *	mxledger.conf(5) METRICS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "config_tree.h"
#include "metrics.h"
#include "metrics_http.h"

#define CONFIG_METRICS_INTERVAL_DEFAULT	(15 * 1000)	/* node_exporter's usual scrape */
#define CONFIG_METRICS_INTERVAL_MIN	1000
#define CONFIG_METRICS_INTERVAL_MAX	(3600 * 1000)

#define CONFIG_N(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const config_metrics_yesno[] = { "no", "yes" };

enum {
	CONFIG_METRICS_LISTEN,
	CONFIG_METRICS_TEXTFILE,
	CONFIG_METRICS_INTERVAL,
	CONFIG_METRICS_NETWORKS,
	CONFIG_METRICS_ALERTS,
	CONFIG_METRICS_URL,
	CONFIG_METRICS__MAX,
};

static const char *const config_metrics_kw[CONFIG_METRICS__MAX] = {
	[CONFIG_METRICS_LISTEN] = "listen",
	[CONFIG_METRICS_TEXTFILE] = "textfile",
	[CONFIG_METRICS_INTERVAL] = "textfile-interval",
	[CONFIG_METRICS_NETWORKS] = "proxy-networks",
	[CONFIG_METRICS_ALERTS] = "alerts",
	[CONFIG_METRICS_URL] = "alertmanager-url",
};

/* ---------------------------------------------------------------- values */

/* config_metrics_net_ok - "ADDR" or "ADDR/LEN", IPv4 (LEN <= 32) or IPv6 (LEN <= 128) */
static int
config_metrics_net_ok(const char *s)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char a[16];
	unsigned long long len;
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	int v6;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1)
		v6 = 0;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		v6 = 1;
	else
		return 0;
	return slash == NULL || config_parse_uint(slash + 1, v6 ? 128 : 32, &len) == 0;
}

/* ----------------------------------------------------------------- block */

/* config_mconf_done - free what a metrics configuration owns */
static void
config_mconf_done(struct mx_metrics_conf *m)
{
	free(m->listen);
	free(m->textfile);
	config_free_strv(m->proxy_networks);
	free(m->alertmanager_url);
	free(m->file);
	memset(m, 0, sizeof(*m));
}

/* config_metrics_networks - the arguments of proxy-networks into m */
static int
config_metrics_networks(struct config_reader *c, const struct config_stmt *st,
    struct mx_metrics_conf *m)
{
	char **v;

	if (strcmp(st->args[0], "none") == 0 && st->n_args == 1)
		return 0;
	if (st->n_args > METRICS_PROXY_NETS_MAX) {
		config_error(c, st->file, st->line, "proxy-networks: more than %d networks",
		    METRICS_PROXY_NETS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < st->n_args; i++)
		if (!config_metrics_net_ok(st->args[i])) {
			config_error(c, st->file, st->line,
			    "proxy-networks: \"%s\" is not an address or a network "
			    "(e.g. 10.0.0.0/8, fd00::/8)%s", st->args[i],
			    strcmp(st->args[i], "none") == 0 ? "; none must stand alone" : "");
			return -EINVAL;
		}
	if ((v = calloc(st->n_args + 1, sizeof(*v))) == NULL)
		goto nomem;
	for (size_t i = 0; i < st->n_args; i++)
		if ((v[i] = strdup(st->args[i])) == NULL)
			goto nomem;
	m->proxy_networks = v;
	return 0;
nomem:
	config_free_strv(v);
	c->nomem = 1;
	return -ENOMEM;
}

/* config_metrics_setting - one statement of a metrics block (k: its keyword) */
static int
config_metrics_setting(struct config_reader *c, const struct config_stmt *st, int k,
    struct mx_metrics_conf *m)
{
	unsigned long long msec;
	const char *why, *a;
	size_t n;
	int r;

	if (config_want_args(c, st, 1, k == CONFIG_METRICS_NETWORKS ? CONFIG_TREE_ARGS_MAX : 1) < 0)
		return -EINVAL;
	a = st->args[0];
	switch (k) {
	case CONFIG_METRICS_LISTEN:
		if (strcmp(a, "none") == 0) {
			free(m->listen);
			m->listen = NULL;
			return 0;
		}
		if ((why = config_hostport_why(a, 0, 1,
		    "an IPv6 address goes in brackets: [::1]:9154")) != NULL) {
			config_error(c, st->file, st->line, "listen: \"%s\": %s", a, why);
			return -EINVAL;
		}
		return config_set_string(c, &m->listen, a);
	case CONFIG_METRICS_TEXTFILE:
		if (config_absolute(c, st, "textfile", a) < 0)
			return -EINVAL;
		n = strlen(a);
		if (n < 6 || strcmp(a + n - 5, ".prom") != 0 || a[n - 6] == '/') {
			config_error(c, st->file, st->line,
			    "textfile: \"%s\": node_exporter reads only files named *.prom", a);
			return -EINVAL;
		}
		return config_set_string(c, &m->textfile, a);
	case CONFIG_METRICS_INTERVAL:
		if (config_duration_arg(c, st, &msec) < 0)
			return -EINVAL;
		if (msec < CONFIG_METRICS_INTERVAL_MIN || msec > CONFIG_METRICS_INTERVAL_MAX) {
			config_error(c, st->file, st->line, "%s: \"%s\" is not between 1s and 1h",
			    st->keyword, a);
			return -EINVAL;
		}
		m->textfile_msec = (unsigned)msec;
		return 0;
	case CONFIG_METRICS_NETWORKS:
		return config_metrics_networks(c, st, m);
	case CONFIG_METRICS_ALERTS:
		if ((r = config_enum(c, st, a, config_metrics_yesno, 2)) < 0)
			return r;
		m->alerts = r;
		return 0;
	default:	/* CONFIG_METRICS_URL */
		if ((why = config_url_why(a, 0)) != NULL) {
			config_error(c, st->file, st->line, "alertmanager-url: \"%.64s\": %s", a,
			    why);
			return -EINVAL;
		}
		return config_set_string(c, &m->alertmanager_url, a);
	}
}

/* config_metrics_one - config_setting_fn for a metrics block */
static int
config_metrics_one(struct config_reader *c, const struct config_stmt *st, int k, void *ud)
{
	return config_metrics_setting(c, st, k, ud);
}

/* config_metrics_block - the statements of a metrics block into m */
static int
config_metrics_block(struct config_reader *c, const struct config_stmt *block,
    struct mx_metrics_conf *m)
{
	const struct config_stmt *seen[CONFIG_METRICS__MAX] = { NULL };

	if (config_block_settings(c, block, "metrics", config_metrics_kw, CONFIG_METRICS__MAX, 0,
	    seen, config_metrics_one, m) < 0)
		return -EINVAL;
	if (m->alertmanager_url != NULL && !m->alerts) {
		config_error(c, seen[CONFIG_METRICS_URL]->file, seen[CONFIG_METRICS_URL]->line,
		    "alertmanager-url: alerts are off in this block (add alerts yes)");
		return -EINVAL;
	}
	return 0;
}

void
config_apply_metrics(struct config_reader *c, const struct config_stmt *st)
{
	struct mx_metrics_conf m = { .textfile_msec = CONFIG_METRICS_INTERVAL_DEFAULT };

	if (st->n_args > 0 || !st->has_block) {
		config_error(c, st->file, st->line,
		    "metrics: expected { settings } and no arguments (metrics { } serves %s)",
		    METRICS_HTTP_LISTEN_DEFAULT);
		return;
	}
	if ((m.listen = strdup(METRICS_HTTP_LISTEN_DEFAULT)) == NULL) {
		c->nomem = 1;
		return;
	}
	if (config_metrics_block(c, st->block, &m) < 0 ||
	    config_set_string(c, &m.file, st->file) < 0) {
		config_mconf_done(&m);
		return;
	}
	m.present = 1;
	m.line = st->line;
	config_mconf_done(&c->cfg->metrics);
	c->cfg->metrics = m;
}

void
config_metrics_done(struct mx_config *cfg)
{
	config_mconf_done(&cfg->metrics);
}

/* -------------------------------------------------------------- printing */

/* config_metrics_print_opt - `\tKEYWORD "value"`, or a comment saying it is not set */
static void
config_metrics_print_opt(FILE *f, const char *kw, const char *value, const char *unset)
{
	if (value == NULL) {
		fprintf(f, "\t# %s: %s\n", kw, unset);
		return;
	}
	fprintf(f, "\t%s ", kw);
	config_print_string(f, value);
	fputc('\n', f);
}

void
config_metrics_print(const struct mx_config *cfg, FILE *f)
{
	const struct mx_metrics_conf *m = &cfg->metrics;
	char d[32];

	if (!m->present) {
		fprintf(f, "# metrics: no metrics block; no /metrics endpoint, no alerts\n");
		return;
	}
	fprintf(f, "metrics {\n");
	if (m->listen != NULL)
		config_metrics_print_opt(f, "listen", m->listen, NULL);
	else
		fprintf(f, "\tlisten none\n");
	config_metrics_print_opt(f, "textfile", m->textfile, "none");
	config_format_duration(m->textfile_msec, d, sizeof(d));
	fprintf(f, "\ttextfile-interval %s\n", d);
	fprintf(f, "\tproxy-networks");
	if (m->proxy_networks == NULL)
		fprintf(f, " none");
	for (size_t i = 0; m->proxy_networks != NULL && m->proxy_networks[i] != NULL; i++) {
		fputc(' ', f);
		config_print_string(f, m->proxy_networks[i]);
	}
	fprintf(f, "\n\talerts %s\n", config_metrics_yesno[m->alerts != 0]);
	config_metrics_print_opt(f, "alertmanager-url", m->alertmanager_url,
	    m->alerts ? "none, alerts go to the journal" : "none");
	fprintf(f, "}\n");
}
