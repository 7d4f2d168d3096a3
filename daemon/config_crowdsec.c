/*
 * NAME
 *	config_crowdsec - the crowdsec { } block of mxledger.conf(5)
 * SYNOPSIS
 *	#include "config_impl.h"
 *
 *	void config_apply_crowdsec(struct config_reader *c, const struct config_stmt *st);
 *	int config_crowdsec_finish(struct config_reader *c);
 *	void config_crowdsec_done(struct mx_config *cfg);
 *	void config_crowdsec_print(const struct mx_config *cfg, FILE *f);
 * DESCRIPTION
 *	  crowdsec {
 *		url "http://127.0.0.1:8080/"	the Local API (LAPI)
 *		api-key-file "/etc/mxledger/crowdsec-bouncer.key"   or: api-key "KEY"
 *		interval 10s			pull the decision stream (1s to 1h)
 *		timeout 2s			per HTTP request (100ms to 1m)
 *		stale-after 1m			no good pull for this long: stale
 *		watcher {			push mxledger's findings as alerts
 *			machine-id "mxledger"
 *			password-file "/etc/mxledger/crowdsec-watcher.secret"   or: password "P"
 *			proxy-errors yes|no	alerts without decision (default no)
 *		}
 *	  }
 *
 *	A bouncer key is required (`cscli bouncers add mxledger`). Key and
 *	password files are read when the configuration is loaded, so a
 *	missing or unreadable one is an error naming the statement (and
 *	`mxledger check-config` finds it); their trailing white space (the
 *	newline of `echo KEY > file`) is dropped. Neither secret is printed
 *	by config_print().
 *
 *	config_crowdsec_finish() runs once the whole file is read: a rule
 *	with a `crowdsec` condition needs this block, a rule with
 *	`crowdsec-alert` needs its watcher block.
 * SEE ALSO
 *	config_impl.h, config.c, crowdsec.h, mxledger.conf(5) CROWDSEC,
 *	contrib/crowdsec/
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "config_tree.h"

#define CONFIG_CS_URL_DEFAULT		"http://127.0.0.1:8080/"
#define CONFIG_CS_INTERVAL_DEFAULT	(10 * 1000)
#define CONFIG_CS_TIMEOUT_DEFAULT	(2 * 1000)
#define CONFIG_CS_STALE_DEFAULT		(60 * 1000)
/* A key or password longer than this is not one (cscli makes 32 bytes). */
#define CONFIG_CS_SECRET_MAX		4096

static const char *const config_cs_yesno[] = { "no", "yes" };

enum {
	CONFIG_CS_URL,
	CONFIG_CS_KEY,
	CONFIG_CS_KEY_FILE,
	CONFIG_CS_INTERVAL,
	CONFIG_CS_TIMEOUT,
	CONFIG_CS_STALE,
	CONFIG_CS_WATCHER,
	CONFIG_CS__MAX,
};

static const char *const config_cs_kw[CONFIG_CS__MAX] = {
	[CONFIG_CS_URL] = "url",
	[CONFIG_CS_KEY] = "api-key",
	[CONFIG_CS_KEY_FILE] = "api-key-file",
	[CONFIG_CS_INTERVAL] = "interval",
	[CONFIG_CS_TIMEOUT] = "timeout",
	[CONFIG_CS_STALE] = "stale-after",
	[CONFIG_CS_WATCHER] = "watcher",
};

enum {
	CONFIG_CSW_MACHINE,
	CONFIG_CSW_PASSWORD,
	CONFIG_CSW_PASSWORD_FILE,
	CONFIG_CSW_PROXY,
	CONFIG_CSW__MAX,
};

static const char *const config_csw_kw[CONFIG_CSW__MAX] = {
	[CONFIG_CSW_MACHINE] = "machine-id",
	[CONFIG_CSW_PASSWORD] = "password",
	[CONFIG_CSW_PASSWORD_FILE] = "password-file",
	[CONFIG_CSW_PROXY] = "proxy-errors",
};

/* ---------------------------------------------------------------- values */

/* config_cs_secret_why - what is wrong with a key or password, NULL if nothing */
static const char *
config_cs_secret_why(const char *s, size_t n)
{
	if (n == 0)
		return "is empty";
	if (n > CONFIG_CS_SECRET_MAX)
		return "is longer than 4096 bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return "holds a control character (one line expected)";
	return NULL;
}

/*
 * config_cs_read_secret - the first line of path, trailing white space
 * dropped, into *field; errors name the statement
 */
static int
config_cs_read_secret(struct config_reader *c, const struct config_stmt *st, const char *path,
    char **field)
{
	char buf[CONFIG_CS_SECRET_MAX + 2];
	const char *why;
	size_t n;
	FILE *f;
	int r;

	if (config_absolute(c, st, st->keyword, path) < 0)
		return -EINVAL;
	if ((f = fopen(path, "re")) == NULL) {
		config_error(c, st->file, st->line, "%s: \"%s\": cannot read: %s", st->keyword,
		    path, strerror(errno));
		return -EINVAL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
	    buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if ((why = config_cs_secret_why(buf, n)) != NULL) {
		config_error(c, st->file, st->line, "%s: \"%s\": the secret %s", st->keyword, path,
		    why);
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	r = config_set_string(c, field, buf);
	explicit_bzero(buf, sizeof(buf));
	return r;
}

/* config_cs_msec - a duration argument between min and max milliseconds */
static int
config_cs_msec(struct config_reader *c, const struct config_stmt *st, unsigned long long min,
    unsigned long long max, const char *range, unsigned *ret)
{
	unsigned long long msec;

	if (config_duration_arg(c, st, &msec) < 0)
		return -EINVAL;
	if (msec < min || msec > max) {
		config_error(c, st->file, st->line, "%s: \"%s\" is not between %s", st->keyword,
		    st->args[0], range);
		return -EINVAL;
	}
	*ret = (unsigned)msec;
	return 0;
}

/* ----------------------------------------------------------------- block */

/* config_cs_conf_done - free what a crowdsec configuration owns */
static void
config_cs_conf_done(struct mx_crowdsec_conf *cs)
{
	free(cs->url);
	if (cs->api_key != NULL)
		explicit_bzero(cs->api_key, strlen(cs->api_key));
	free(cs->api_key);
	free(cs->api_key_file);
	free(cs->machine_id);
	if (cs->password != NULL)
		explicit_bzero(cs->password, strlen(cs->password));
	free(cs->password);
	free(cs->password_file);
	free(cs->file);
	memset(cs, 0, sizeof(*cs));
}

/* config_cs_watcher_setting - one statement of a watcher block */
static int
config_cs_watcher_setting(struct config_reader *c, const struct config_stmt *st, int k, void *ud)
{
	struct mx_crowdsec_conf *cs = ud;
	const char *a, *why;
	int r;

	if (config_want_args(c, st, 1, 1) < 0)
		return -EINVAL;
	a = st->args[0];
	switch (k) {
	case CONFIG_CSW_MACHINE:
		if ((why = config_cs_secret_why(a, strlen(a))) != NULL || strchr(a, ' ') != NULL) {
			config_error(c, st->file, st->line, "machine-id: \"%.64s\": not a machine "
			    "name (one word, as given to cscli machines add)", a);
			return -EINVAL;
		}
		return config_set_string(c, &cs->machine_id, a);
	case CONFIG_CSW_PASSWORD:
		if ((why = config_cs_secret_why(a, strlen(a))) != NULL) {
			config_error(c, st->file, st->line, "password: the password %s", why);
			return -EINVAL;
		}
		return config_set_string(c, &cs->password, a);
	case CONFIG_CSW_PASSWORD_FILE:
		if (config_cs_read_secret(c, st, a, &cs->password) < 0)
			return -EINVAL;
		return config_set_string(c, &cs->password_file, a);
	default:	/* CONFIG_CSW_PROXY */
		if ((r = config_enum(c, st, a, config_cs_yesno, 2)) < 0)
			return r;
		cs->proxy_errors = r;
		return 0;
	}
}

/* config_cs_watcher - a watcher { } block into cs */
static int
config_cs_watcher(struct config_reader *c, const struct config_stmt *w, struct mx_crowdsec_conf *cs)
{
	const struct config_stmt *seen[CONFIG_CSW__MAX] = { NULL };

	if (w->n_args > 0 || !w->has_block) {
		config_error(c, w->file, w->line, "watcher: expected { settings } and no arguments");
		return -EINVAL;
	}
	if (config_block_settings(c, w->block, "watcher", config_csw_kw, CONFIG_CSW__MAX, 0, seen,
	    config_cs_watcher_setting, cs) < 0)
		return -EINVAL;
	if (seen[CONFIG_CSW_PASSWORD] != NULL && seen[CONFIG_CSW_PASSWORD_FILE] != NULL) {
		config_error(c, seen[CONFIG_CSW_PASSWORD_FILE]->file,
		    seen[CONFIG_CSW_PASSWORD_FILE]->line,
		    "password-file: password is set too (line %u); give one of them",
		    seen[CONFIG_CSW_PASSWORD]->line);
		return -EINVAL;
	}
	if (cs->machine_id == NULL || cs->password == NULL) {
		config_error(c, w->file, w->line, "watcher: needs machine-id and password-file (or "
		    "password): the credentials of `cscli machines add NAME --password P -f -`");
		return -EINVAL;
	}
	cs->watcher = 1;
	return 0;
}

/* config_cs_setting - one statement of a crowdsec block (k: its keyword) */
static int
config_cs_setting(struct config_reader *c, const struct config_stmt *st, int k, void *ud)
{
	struct mx_crowdsec_conf *cs = ud;
	const char *a, *why;

	if (k == CONFIG_CS_WATCHER)
		return config_cs_watcher(c, st, cs);
	if (config_want_args(c, st, 1, 1) < 0)
		return -EINVAL;
	a = st->args[0];
	switch (k) {
	case CONFIG_CS_URL:
		if ((why = config_url_why(a, 1)) != NULL) {
			config_error(c, st->file, st->line, "url: \"%.64s\": %s", a, why);
			return -EINVAL;
		}
		return config_set_string(c, &cs->url, a);
	case CONFIG_CS_KEY:
		if ((why = config_cs_secret_why(a, strlen(a))) != NULL) {
			config_error(c, st->file, st->line, "api-key: the key %s", why);
			return -EINVAL;
		}
		return config_set_string(c, &cs->api_key, a);
	case CONFIG_CS_KEY_FILE:
		if (config_cs_read_secret(c, st, a, &cs->api_key) < 0)
			return -EINVAL;
		return config_set_string(c, &cs->api_key_file, a);
	case CONFIG_CS_INTERVAL:
		return config_cs_msec(c, st, 1000, 3600 * 1000, "1s and 1h", &cs->interval_msec);
	case CONFIG_CS_TIMEOUT:
		return config_cs_msec(c, st, 100, 60 * 1000, "100ms and 1m", &cs->timeout_msec);
	default:	/* CONFIG_CS_STALE */
		return config_cs_msec(c, st, 1000, 7 * 86400 * 1000ULL, "1s and 7d",
		    &cs->stale_msec);
	}
}

/* config_cs_block - the statements of a crowdsec block into cs */
static int
config_cs_block(struct config_reader *c, const struct config_stmt *block,
    const struct config_stmt *head, struct mx_crowdsec_conf *cs)
{
	const struct config_stmt *seen[CONFIG_CS__MAX] = { NULL };

	if (config_block_settings(c, block, "crowdsec", config_cs_kw, CONFIG_CS__MAX, 0, seen,
	    config_cs_setting, cs) < 0)
		return -EINVAL;
	if (seen[CONFIG_CS_KEY] != NULL && seen[CONFIG_CS_KEY_FILE] != NULL) {
		config_error(c, seen[CONFIG_CS_KEY_FILE]->file, seen[CONFIG_CS_KEY_FILE]->line,
		    "api-key-file: api-key is set too (line %u); give one of them",
		    seen[CONFIG_CS_KEY]->line);
		return -EINVAL;
	}
	if (cs->api_key == NULL) {
		config_error(c, head->file, head->line, "crowdsec: needs api-key-file (or api-key): "
		    "a bouncer key from `cscli bouncers add mxledger`");
		return -EINVAL;
	}
	if (cs->timeout_msec > cs->interval_msec) {
		config_error(c, seen[CONFIG_CS_TIMEOUT] != NULL ? seen[CONFIG_CS_TIMEOUT]->file :
		    head->file, seen[CONFIG_CS_TIMEOUT] != NULL ? seen[CONFIG_CS_TIMEOUT]->line :
		    head->line, "timeout: longer than the interval");
		return -EINVAL;
	}
	return c->nomem ? -EINVAL : 0;
}

void
config_apply_crowdsec(struct config_reader *c, const struct config_stmt *st)
{
	struct mx_crowdsec_conf cs = {
		.interval_msec = CONFIG_CS_INTERVAL_DEFAULT,
		.timeout_msec = CONFIG_CS_TIMEOUT_DEFAULT,
		.stale_msec = CONFIG_CS_STALE_DEFAULT,
	};

#ifndef HAVE_CROWDSEC
	config_error(c, st->file, st->line, "crowdsec: this mxledger was built without CrowdSec "
	    "support (configure --with-crowdsec; needs libcurl and json-c)");
	return;
#endif
	if (st->n_args > 0 || !st->has_block) {
		config_error(c, st->file, st->line,
		    "crowdsec: expected { settings } and no arguments (at least api-key-file)");
		return;
	}
	if ((cs.url = strdup(CONFIG_CS_URL_DEFAULT)) == NULL) {
		c->nomem = 1;
		return;
	}
	if (config_cs_block(c, st->block, st, &cs) < 0 ||
	    config_set_string(c, &cs.file, st->file) < 0) {
		config_cs_conf_done(&cs);
		return;
	}
	cs.present = 1;
	cs.line = st->line;
	config_cs_conf_done(&c->cfg->crowdsec);
	c->cfg->crowdsec = cs;
}

/*
 * config_crowdsec_finish - rules asking CrowdSec need the block: a
 * `crowdsec` condition the block, `crowdsec-alert` its watcher
 */
int
config_crowdsec_finish(struct config_reader *c)
{
	const struct mx_crowdsec_conf *cs = &c->cfg->crowdsec;

	for (const struct config_stmt *r = c->cfg->rule_stmts; r != NULL; r = r->next)
		for (const struct config_stmt *st = r->block; st != NULL; st = st->next) {
			const char *name = r->n_args > 0 ? r->args[0] : "?";

			if ((strcmp(st->keyword, "crowdsec") == 0 ||
			    (strcmp(st->keyword, "not") == 0 && st->n_args > 0 &&
			    strcmp(st->args[0], "crowdsec") == 0)) && !cs->present)
				config_error(c, st->file, st->line, "rule %s: crowdsec: there is no "
				    "crowdsec block to ask (mxledger.conf(5) CROWDSEC)", name);
			else if (strcmp(st->keyword, "crowdsec-alert") == 0 && !cs->watcher)
				config_error(c, st->file, st->line, "rule %s: crowdsec-alert: needs a "
				    "watcher block in the crowdsec block", name);
		}
	return 0;
}

void
config_crowdsec_done(struct mx_config *cfg)
{
	config_cs_conf_done(&cfg->crowdsec);
}

/* -------------------------------------------------------------- printing */

void
config_crowdsec_print(const struct mx_config *cfg, FILE *f)
{
	const struct mx_crowdsec_conf *cs = &cfg->crowdsec;
	char d[32];

	if (!cs->present) {
		fprintf(f, "# crowdsec: no crowdsec block; CrowdSec is not asked\n");
		return;
	}
	fprintf(f, "crowdsec {\n\turl ");
	config_print_string(f, cs->url);
	if (cs->api_key_file != NULL) {
		fprintf(f, "\n\tapi-key-file ");
		config_print_string(f, cs->api_key_file);
		fputc('\n', f);
	} else {
		fprintf(f, "\n\tapi-key \"(hidden)\"\n");
	}
	config_format_duration(cs->interval_msec, d, sizeof(d));
	fprintf(f, "\tinterval %s\n", d);
	config_format_duration(cs->timeout_msec, d, sizeof(d));
	fprintf(f, "\ttimeout %s\n", d);
	config_format_duration(cs->stale_msec, d, sizeof(d));
	fprintf(f, "\tstale-after %s\n", d);
	if (!cs->watcher) {
		fprintf(f, "\t# watcher: none; nothing is pushed to CrowdSec\n}\n");
		return;
	}
	fprintf(f, "\twatcher {\n\t\tmachine-id ");
	config_print_string(f, cs->machine_id);
	if (cs->password_file != NULL) {
		fprintf(f, "\n\t\tpassword-file ");
		config_print_string(f, cs->password_file);
		fputc('\n', f);
	} else {
		fprintf(f, "\n\t\tpassword \"(hidden)\"\n");
	}
	fprintf(f, "\t\tproxy-errors %s\n\t}\n}\n", config_cs_yesno[cs->proxy_errors != 0]);
}
