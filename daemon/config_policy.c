/*
 * NAME
 *	config_policy - the policy service's statements of mxledger.conf(5)
 * SYNOPSIS
 *	#include "config_impl.h"
 *
 *	void config_apply_policy(struct config_reader *c, const struct config_stmt *st);
 *	void config_apply_rule(struct config_reader *c, const struct config_stmt *st);
 *	void config_apply_auth_policy(struct config_reader *c, const struct config_stmt *st);
 *	int config_policy_init(struct mx_config *cfg);
 *	int config_policy_finish(struct config_reader *c);
 *	void config_policy_done(struct mx_config *cfg);
 *	void config_policy_print(const struct mx_config *cfg, FILE *f);
 *
 *	int config_rules_new(const struct mx_config *cfg, FILE *err, struct mx_rules **ret);
 *	int config_policy_enabled(const struct mx_config *cfg);
 * DESCRIPTION
 *	The `policy { ... }` block (listeners, limits, mode, fail-action,
 *	network prefix, counters memory, history window), the top-level
 *	`rule NAME { ... }` statements and the `auth-policy { ... }` block
 *	(listen, reports, defer-delay, api-key, api-header: the settings of
 *	auth_policy.h's struct auth_policy_conf).
 *
 *	A policy block is read into a scratch struct mx_policy_conf and
 *	replaces the defaults only when none of its statements had an error
 *	(a statement with an error changes nothing, config.c's rule). Each
 *	setting may appear once per block; `listen` as often as there are
 *	sockets (at most CONFIG_LISTENS_MAX, each address once).
 *
 *	Rule statements go to rules_parse() (rules.h knows the language) in
 *	file order into cfg->rules, which is what check-config prints and
 *	counts; a copy of each statement is kept in cfg->rule_stmts so that
 *	config_rules_new() can give every user its own fresh rule set (rules
 *	hold per-request scratch and are bound to one set of counters). The
 *	policy block's mode, network prefix and fail-action apply to the rule
 *	set once the whole file is read, wherever the block stands.
 * SEE ALSO
 *	config_impl.h, config.c, rules.h, policy.h, mxledger.conf(5)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "config_tree.h"
#include "counters.h"
#include "policy_proto.h"
#include "rules.h"

#define CONFIG_LISTENS_MAX		16	/* sockets of the policy service */
#define CONFIG_CONNECTIONS_MAX		1000000	/* a file descriptor each */
#define CONFIG_DEFAULT_CONNECTIONS	4096
#define CONFIG_DEFAULT_IDLE_MSEC	(330 * 1000)	/* Postfix's max_idle (300 s) + 30 s */
#define CONFIG_IDLE_MSEC_MAX		(86400 * 1000)
#define CONFIG_REQUEST_MIN		1024	/* a real request is 300-1500 bytes */
#define CONFIG_COUNTERS_MEM_MAX		((unsigned long long)64 << 30)
#define CONFIG_DEFAULT_HISTORY_MSEC	(86400ULL * 1000)
#define CONFIG_HISTORY_MSEC_MAX		(30ULL * 86400 * 1000)	/* RULES_WINDOW_MAX */
#define CONFIG_MODE_DEFAULT		0660

#define CONFIG_N(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const config_yesno[] = { "no", "yes" };
static const char *const config_modes[] = { "enforce", "warn" };

/* ------------------------------------------------------------ statements */

/* config_stmt_free - free statement copies (a list, with their blocks) */
static void
config_stmt_free(struct config_stmt *st)
{
	struct config_stmt *next;

	for (; st != NULL; st = next) {
		next = st->next;
		config_stmt_free(st->block);	/* depth bounded by CONFIG_TREE_DEPTH_MAX */
		for (size_t i = 0; i < st->n_args; i++)
			free(st->args[i]);
		free(st->args);
		free(st->keyword);
		free((char *)st->file);
		free(st);
	}
}

/* config_stmt_copy - deep copy of one statement and its block (not its ->next) */
static struct config_stmt *
config_stmt_copy(const struct config_stmt *st)
{
	struct config_stmt *n, **tail;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->has_block = st->has_block;
	n->line = st->line;
	if ((n->keyword = strdup(st->keyword)) == NULL || (n->file = strdup(st->file)) == NULL ||
	    (st->n_args > 0 && (n->args = calloc(st->n_args, sizeof(char *))) == NULL))
		goto fail;
	for (; n->n_args < st->n_args; n->n_args++)
		if ((n->args[n->n_args] = strdup(st->args[n->n_args])) == NULL)
			goto fail;
	tail = &n->block;
	for (const struct config_stmt *b = st->block; b != NULL; b = b->next) {
		if ((*tail = config_stmt_copy(b)) == NULL)
			goto fail;
		tail = &(*tail)->next;
	}
	return n;
fail:
	config_stmt_free(n);
	return NULL;
}

/* ----------------------------------------------------------------- values */

/* config_parse_size - "256M", "16K", "1G", "16384" (bytes; K M G are powers of 1024) */
static int
config_parse_size(const char *s, unsigned long long *ret)
{
	static const char units[] = "KMG";
	unsigned long long v, mult = 1;
	char num[32];
	size_t n = strspn(s, "0123456789");
	const char *u;
	int r;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	if (s[n] != '\0') {
		if ((u = strchr(units, s[n] & ~0x20)) == NULL || s[n + 1] != '\0')
			return -EINVAL;
		mult = 1ULL << (10 * (u - units + 1));
	}
	memcpy(num, s, n);
	num[n] = '\0';
	if ((r = config_parse_uint(num, ULLONG_MAX / mult, &v)) < 0)
		return r;
	*ret = v * mult;
	return 0;
}

/* config_format_size - bytes in the largest exact unit */
static void
config_format_size(unsigned long long v, char *buf, size_t size)
{
	static const char units[] = "GMK";

	for (int i = 0; i < 3; i++) {
		unsigned long long m = 1ULL << (10 * (3 - i));

		if (v >= m && v % m == 0) {
			snprintf(buf, size, "%llu%c", v / m, units[i]);
			return;
		}
	}
	snprintf(buf, size, "%llu", v);
}

/* config_policy_inet_why - what is wrong with an inet listener's "HOST:PORT" */
static const char *
config_policy_inet_why(const char *s)
{
	return config_hostport_why(s, 1, 0, "an IPv6 address goes in brackets: [::1]:10040");
}

/* ------------------------------------------------------------ policy block */

/* config_listen_done - free one listener's strings */
static void
config_listen_done(struct mx_listen_conf *l)
{
	free(l->address);
	free(l->owner);
	free(l->group);
	free(l->file);
	memset(l, 0, sizeof(*l));
}

/* config_pconf_done - free what a policy configuration owns */
static void
config_pconf_done(struct mx_policy_conf *p)
{
	for (size_t i = 0; i < p->n_listens; i++)
		config_listen_done(&p->listens[i]);
	free(p->listens);
	free(p->fail_action);
	free(p->file);
	memset(p, 0, sizeof(*p));
}

/* config_pconf_defaults - the settings of an absent policy block */
static void
config_pconf_defaults(struct mx_policy_conf *p)
{
	memset(p, 0, sizeof(*p));
	p->max_connections = CONFIG_DEFAULT_CONNECTIONS;
	p->idle_timeout_usec = (uint64_t)CONFIG_DEFAULT_IDLE_MSEC * 1000;
	p->request_max = POLICY_REQUEST_DEFAULT;
	p->net_v4 = 24;
	p->net_v6 = 64;
	p->counters_memory = COUNTERS_MEM_DEFAULT;
	p->history_window_usec = (int64_t)CONFIG_DEFAULT_HISTORY_MSEC * 1000;
}

/* config_listen_unix_block - owner, group and mode of a UNIX socket */
static int
config_listen_unix_block(struct config_reader *c, const struct config_stmt *block,
    struct mx_listen_conf *l)
{
	const struct config_stmt *seen[3] = { NULL, NULL, NULL };
	static const char *const kw[] = { "owner", "group", "mode" };
	unsigned long long v;
	int bad = 0;

	for (const struct config_stmt *st = block; st != NULL; st = st->next) {
		size_t k;

		for (k = 0; k < CONFIG_N(kw) && strcmp(st->keyword, kw[k]) != 0; k++)
			;
		if (k == CONFIG_N(kw)) {
			config_error(c, st->file, st->line,
			    "unknown keyword \"%s\" in a listen unix block (owner, group, mode)",
			    st->keyword);
			bad = 1;
			continue;
		}
		if (seen[k] != NULL) {
			config_error(c, st->file, st->line, "%s: already set in this block at line %u",
			    st->keyword, seen[k]->line);
			bad = 1;
			continue;
		}
		seen[k] = st;
		if (config_want_args(c, st, 1, 1) < 0) {
			bad = 1;
		} else if (k == 2) {
			if (st->args[0][0] != '0' || strspn(st->args[0], "01234567") !=
			    strlen(st->args[0]) || strlen(st->args[0]) > 4) {
				config_error(c, st->file, st->line,
				    "mode: \"%s\" is not octal permission bits (e.g. 0660)",
				    st->args[0]);
				bad = 1;
			} else {
				v = strtoull(st->args[0], NULL, 8);
				l->mode = (unsigned)v;
			}
		} else if (st->args[0][0] == '\0' || strpbrk(st->args[0], ":/ \t") != NULL) {
			config_error(c, st->file, st->line, "%s: \"%s\" is not a user or group name",
			    st->keyword, st->args[0]);
			bad = 1;
		} else if (config_set_string(c, k == 0 ? &l->owner : &l->group, st->args[0]) < 0) {
			return -ENOMEM;
		}
	}
	return bad ? -EINVAL : 0;
}

/* config_listen - `listen inet "HOST:PORT"` or `listen unix "/path" [{ ... }]` */
static int
config_listen(struct config_reader *c, const struct config_stmt *st, struct mx_policy_conf *p)
{
	struct mx_listen_conf l = { .mode = CONFIG_MODE_DEFAULT, .line = st->line };
	struct mx_listen_conf *n;
	const char *why;
	int r;

	if (st->n_args != 2 || (strcmp(st->args[0], "inet") != 0 &&
	    strcmp(st->args[0], "unix") != 0)) {
		config_error(c, st->file, st->line,
		    "listen: expected inet \"HOST:PORT\" or unix \"/path/to/socket\"");
		return -EINVAL;
	}
	l.type = strcmp(st->args[0], "inet") == 0 ? MX_LISTEN_INET : MX_LISTEN_UNIX;
	if (l.type == MX_LISTEN_INET) {
		if (st->has_block) {
			config_error(c, st->file, st->line,
			    "listen inet: does not take a block (owner, group and mode are for "
			    "unix sockets)");
			return -EINVAL;
		}
		if ((why = config_policy_inet_why(st->args[1])) != NULL) {
			config_error(c, st->file, st->line, "listen inet: \"%s\": %s", st->args[1],
			    why);
			return -EINVAL;
		}
	} else if (config_absolute(c, st, "listen unix", st->args[1]) < 0) {
		return -EINVAL;
	} else if (strlen(st->args[1]) >= 108) {	/* sizeof(sockaddr_un.sun_path) */
		config_error(c, st->file, st->line,
		    "listen unix: \"%s\" is longer than a socket path may be (107 bytes)",
		    st->args[1]);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n_listens; i++)
		if (p->listens[i].type == l.type && strcmp(p->listens[i].address, st->args[1]) == 0) {
			config_error(c, st->file, st->line, "listen: \"%s\" already declared at %s:%u",
			    st->args[1], p->listens[i].file, p->listens[i].line);
			return -EINVAL;
		}
	if (p->n_listens == CONFIG_LISTENS_MAX) {
		config_error(c, st->file, st->line, "listen: more than %d listeners",
		    CONFIG_LISTENS_MAX);
		return -EINVAL;
	}
	if ((l.address = strdup(st->args[1])) == NULL || (l.file = strdup(st->file)) == NULL)
		goto nomem;
	if (l.type == MX_LISTEN_UNIX &&
	    (r = config_listen_unix_block(c, st->block, &l)) < 0) {
		config_listen_done(&l);
		if (r == -ENOMEM)
			goto nomem;
		return r;
	}
	if ((n = reallocarray(p->listens, p->n_listens + 1, sizeof(*n))) == NULL)
		goto nomem;
	p->listens = n;
	p->listens[p->n_listens++] = l;
	return 0;
nomem:
	config_listen_done(&l);
	c->nomem = 1;
	return -ENOMEM;
}

/* config_number_arg - one number in [min, max], reported as "KEYWORD: ... from min to max" */
static int
config_number_arg(struct config_reader *c, const struct config_stmt *st,
    unsigned long long min, unsigned long long max, unsigned long long *ret)
{
	if (config_parse_uint(st->args[0], max, ret) < 0 || *ret < min) {
		config_error(c, st->file, st->line, "%s: \"%s\" is not a number from %llu to %llu",
		    st->keyword, st->args[0], min, max);
		return -EINVAL;
	}
	return 0;
}

/* config_size_arg - a size in [min, max] bytes */
static int
config_size_arg(struct config_reader *c, const struct config_stmt *st,
    unsigned long long min, unsigned long long max, unsigned long long *ret)
{
	char a[32], b[32];

	if (config_parse_size(st->args[0], ret) < 0 || *ret < min || *ret > max) {
		config_format_size(min, a, sizeof(a));
		config_format_size(max, b, sizeof(b));
		config_error(c, st->file, st->line,
		    "%s: \"%s\" is not a size from %s to %s (bytes, or with K, M, G)",
		    st->keyword, st->args[0], a, b);
		return -EINVAL;
	}
	return 0;
}

/* config_window_arg - a duration in whole seconds from min_msec to max_msec ("off" = 0 if allowed) */
static int
config_window_arg(struct config_reader *c, const struct config_stmt *st,
    unsigned long long min_msec, unsigned long long max_msec, int off_ok,
    unsigned long long *ret_msec)
{
	char a[32], b[32];

	if (off_ok && strcmp(st->args[0], "off") == 0) {
		*ret_msec = 0;
		return 0;
	}
	if (config_duration_arg(c, st, ret_msec) < 0)
		return -EINVAL;
	if (*ret_msec < min_msec || *ret_msec > max_msec || *ret_msec % 1000 != 0) {
		config_format_duration(min_msec, a, sizeof(a));
		config_format_duration(max_msec, b, sizeof(b));
		config_error(c, st->file, st->line,
		    "%s: \"%s\" is not a whole number of seconds from %s to %s%s", st->keyword,
		    st->args[0], a, b, off_ok ? ", or off" : "");
		return -EINVAL;
	}
	return 0;
}

/* The keywords of a policy block; listen may be repeated. */
enum {
	CONFIG_POLICY_LISTEN,
	CONFIG_POLICY_SOCKET_ACTIVATION,
	CONFIG_POLICY_MAX_CONNECTIONS,
	CONFIG_POLICY_IDLE_TIMEOUT,
	CONFIG_POLICY_REQUEST_MAX,
	CONFIG_POLICY_MODE,
	CONFIG_POLICY_FAIL_ACTION,
	CONFIG_POLICY_NETWORK_PREFIX,
	CONFIG_POLICY_COUNTERS_MEMORY,
	CONFIG_POLICY_HISTORY_WINDOW,
	CONFIG_POLICY__MAX
};

static const char *const config_policy_kw[CONFIG_POLICY__MAX] = {
	[CONFIG_POLICY_LISTEN] = "listen",
	[CONFIG_POLICY_SOCKET_ACTIVATION] = "socket-activation",
	[CONFIG_POLICY_MAX_CONNECTIONS] = "max-connections",
	[CONFIG_POLICY_IDLE_TIMEOUT] = "idle-timeout",
	[CONFIG_POLICY_REQUEST_MAX] = "request-max",
	[CONFIG_POLICY_MODE] = "mode",
	[CONFIG_POLICY_FAIL_ACTION] = "fail-action",
	[CONFIG_POLICY_NETWORK_PREFIX] = "network-prefix",
	[CONFIG_POLICY_COUNTERS_MEMORY] = "counters-memory",
	[CONFIG_POLICY_HISTORY_WINDOW] = "history-window",
};

/* config_policy_setting - config_setting_fn: statement st (keyword k) of a policy block */
static int
config_policy_setting(struct config_reader *c, const struct config_stmt *st, int k, void *ud)
{
	struct mx_policy_conf *p = ud;
	const char *why;
	unsigned long long v, v6;
	char *action;
	int r;

	if (k == CONFIG_POLICY_LISTEN)
		return config_listen(c, st, p);
	if (config_want_args(c, st, 1, k == CONFIG_POLICY_FAIL_ACTION ? CONFIG_TREE_ARGS_MAX :
	    k == CONFIG_POLICY_NETWORK_PREFIX ? 2 : 1) < 0)
		return -EINVAL;
	switch (k) {
	case CONFIG_POLICY_SOCKET_ACTIVATION:
		if ((r = config_enum(c, st, st->args[0], config_yesno, 2)) < 0)
			return r;
		p->socket_activation = r;
		return 0;
	case CONFIG_POLICY_MODE:
		if ((r = config_enum(c, st, st->args[0], config_modes, 2)) < 0)
			return r;
		p->warn = r;
		return 0;
	case CONFIG_POLICY_MAX_CONNECTIONS:
		if (config_number_arg(c, st, 1, CONFIG_CONNECTIONS_MAX, &v) < 0)
			return -EINVAL;
		p->max_connections = (unsigned)v;
		return 0;
	case CONFIG_POLICY_IDLE_TIMEOUT:
		if (config_window_arg(c, st, 1000, CONFIG_IDLE_MSEC_MAX, 0, &v) < 0)
			return -EINVAL;
		p->idle_timeout_usec = v * 1000;
		return 0;
	case CONFIG_POLICY_REQUEST_MAX:
		if (config_size_arg(c, st, CONFIG_REQUEST_MIN, POLICY_REQUEST_MAX, &v) < 0)
			return -EINVAL;
		p->request_max = (size_t)v;
		return 0;
	case CONFIG_POLICY_COUNTERS_MEMORY:
		if (config_size_arg(c, st, COUNTERS_MEM_MIN, CONFIG_COUNTERS_MEM_MAX, &v) < 0)
			return -EINVAL;
		p->counters_memory = (size_t)v;
		return 0;
	case CONFIG_POLICY_HISTORY_WINDOW:
		if (config_window_arg(c, st, 1000, CONFIG_HISTORY_MSEC_MAX, 1, &v) < 0)
			return -EINVAL;
		p->history_window_usec = (int64_t)v * 1000;
		return 0;
	case CONFIG_POLICY_NETWORK_PREFIX:
		if (st->n_args != 2 || config_parse_uint(st->args[0], 32, &v) < 0 || v == 0 ||
		    config_parse_uint(st->args[1], 128, &v6) < 0 || v6 == 0) {
			config_error(c, st->file, st->line,
			    "network-prefix: expected the IPv4 and the IPv6 prefix length "
			    "(1-32 and 1-128, e.g. 24 64)");
			return -EINVAL;
		}
		p->net_v4 = (unsigned)v;
		p->net_v6 = (unsigned)v6;
		return 0;
	default:	/* CONFIG_POLICY_FAIL_ACTION */
		r = rules_action_normalise((const char *const *)st->args, st->n_args, &action, &why);
		if (r == -ENOMEM) {
			c->nomem = 1;
			return r;
		}
		if (r < 0) {
			config_error(c, st->file, st->line, "fail-action: %s", why);
			return r;
		}
		free(p->fail_action);
		p->fail_action = action;
		return 0;
	}
}

/* config_policy_block - the statements of a policy block into p */
static int
config_policy_block(struct config_reader *c, const struct config_stmt *block,
    struct mx_policy_conf *p)
{
	const struct config_stmt *seen[CONFIG_POLICY__MAX] = { NULL };

	return config_block_settings(c, block, "policy", config_policy_kw, CONFIG_POLICY__MAX,
	    UINT64_C(1) << CONFIG_POLICY_LISTEN, seen, config_policy_setting, p);
}

void
config_apply_policy(struct config_reader *c, const struct config_stmt *st)
{
	struct mx_policy_conf p;

	if (st->n_args > 0 || !st->has_block) {
		config_error(c, st->file, st->line, "policy: expected { settings } and no %s",
		    st->n_args > 0 ? "arguments" : "other form");
		return;
	}
	config_pconf_defaults(&p);
	if (config_policy_block(c, st->block, &p) < 0) {
		config_pconf_done(&p);
		return;
	}
	if ((p.file = strdup(st->file)) == NULL) {
		c->nomem = 1;
		config_pconf_done(&p);
		return;
	}
	p.present = 1;
	p.line = st->line;
	config_pconf_done(&c->cfg->policy);
	c->cfg->policy = p;
}

/* ------------------------------------------------------------------ rules */

void
config_apply_rule(struct config_reader *c, const struct config_stmt *st)
{
	struct config_stmt **tail, *copy;
	unsigned errors = c->d.n_errors;

	if (rules_parse(&c->d, st, c->cfg->rules) < 0) {
		c->nomem = 1;
		return;
	}
	if (c->d.n_errors != errors)
		return;
	if ((copy = config_stmt_copy(st)) == NULL) {
		c->nomem = 1;
		return;
	}
	for (tail = &c->cfg->rule_stmts; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = copy;
}

/* config_rules_settings - the policy block's settings onto a rule set */
static int
config_rules_settings(const struct mx_config *cfg, struct mx_rules *rules)
{
	const struct mx_policy_conf *p = &cfg->policy;
	int r;

	if ((r = rules_set_mode(rules, p->warn ? RULES_MODE_WARN : RULES_MODE_ENFORCE)) < 0 ||
	    (r = rules_set_net_prefix(rules, p->net_v4, p->net_v6)) < 0)
		return r;
	if (p->fail_action != NULL && (r = rules_set_fail_action(rules, p->fail_action)) < 0)
		return r;
	return 0;
}

int
config_rules_new(const struct mx_config *cfg, FILE *err, struct mx_rules **ret)
{
	struct config_diag d = { .err = err != NULL ? err : stderr };
	struct mx_rules *rules;
	int r;

	if ((rules = rules_new()) == NULL)
		return -ENOMEM;
	r = config_rules_settings(cfg, rules);
	for (const struct config_stmt *st = cfg->rule_stmts; st != NULL && r >= 0; st = st->next)
		r = rules_parse(&d, st, rules);
	if (r >= 0 && d.n_errors > 0)
		r = -EINVAL;
	config_tree_diag_done(&d);
	if (r < 0) {
		rules_free(rules);
		return r;
	}
	*ret = rules;
	return 0;
}

int
config_policy_enabled(const struct mx_config *cfg)
{
	return (cfg->policy.present && (cfg->policy.n_listens > 0 ||
	    cfg->policy.socket_activation)) || cfg->auth_policy_present;
}

/* ------------------------------------------------------------ auth-policy */

#define CONFIG_AUTH_DELAY_MSEC_MAX	(300 * 1000)	/* Dovecot's longest auth delay */

static const char *const config_reports[] = { "ignore", "count" };

/* config_auth_setting - config_setting_fn: statement st (keyword k) of an auth-policy block */
static int
config_auth_setting(struct config_reader *c, const struct config_stmt *st, int k, void *ud)
{
	struct mx_config *cfg = c->cfg;
	unsigned long long v;
	const char *why;
	int r;

	(void)ud;
	if (config_want_args(c, st, 1, 1) < 0)
		return -EINVAL;
	switch (k) {
	case 0:		/* listen */
		if ((why = config_policy_inet_why(st->args[0])) != NULL) {
			config_error(c, st->file, st->line, "listen: \"%s\": %s", st->args[0], why);
			return -EINVAL;
		}
		return config_set_string(c, &cfg->auth_policy_listen, st->args[0]);
	case 1:		/* reports */
		if ((r = config_enum(c, st, st->args[0], config_reports, 2)) < 0)
			return r;
		cfg->auth_policy_count_reports = r;
		return 0;
	case 2:		/* defer-delay */
		if (config_window_arg(c, st, 1000, CONFIG_AUTH_DELAY_MSEC_MAX, 1, &v) < 0)
			return -EINVAL;
		cfg->auth_policy_defer_sec = (unsigned)(v / 1000);
		return 0;
	default:	/* api-key, api-header */
		if (st->args[0][0] == '\0' || strpbrk(st->args[0], "\r\n") != NULL ||
		    (k == 4 && strpbrk(st->args[0], ": \t") != NULL)) {
			config_error(c, st->file, st->line, "%s: \"%s\" is not a %s", st->keyword,
			    st->args[0], k == 4 ? "header name" : "key");
			return -EINVAL;
		}
		return config_set_string(c, k == 3 ? &cfg->auth_policy_api_key :
		    &cfg->auth_policy_api_header, st->args[0]);
	}
}

void
config_apply_auth_policy(struct config_reader *c, const struct config_stmt *st)
{
	static const char *const kw[] = { "listen", "reports", "defer-delay", "api-key",
		"api-header" };
	const struct config_stmt *seen[CONFIG_N(kw)] = { NULL };
	int bad;

	if (st->n_args > 0 || !st->has_block) {
		config_error(c, st->file, st->line,
		    "auth-policy: expected { listen \"HOST:PORT\" } and no arguments");
		return;
	}
	bad = config_block_settings(c, st->block, "auth-policy", kw, (int)CONFIG_N(kw), 0, seen,
	    config_auth_setting, NULL) < 0;
	if (!bad && seen[0] == NULL) {
		config_error(c, st->file, st->line,
		    "auth-policy: expected listen \"HOST:PORT\" in the block");
		bad = 1;
	}
	if (bad || config_set_string(c, &c->cfg->auth_policy_file, st->file) < 0)
		return;
	c->cfg->auth_policy_present = 1;
	c->cfg->auth_policy_line = st->line;
}

/* ------------------------------------------------------------- life cycle */

int
config_policy_init(struct mx_config *cfg)
{
	config_pconf_defaults(&cfg->policy);
	cfg->auth_policy_count_reports = 1;
	if ((cfg->rules = rules_new()) == NULL)
		return -ENOMEM;
	return 0;
}

/* config_policy_finish - once the file is read: the policy settings onto the rules */
int
config_policy_finish(struct config_reader *c)
{
	int r = config_rules_settings(c->cfg, c->cfg->rules);

	return r == -ENOMEM ? r : 0;	/* values were checked when read */
}

void
config_policy_done(struct mx_config *cfg)
{
	config_pconf_done(&cfg->policy);
	cfg->rules = rules_free(cfg->rules);
	config_stmt_free(cfg->rule_stmts);
	cfg->rule_stmts = NULL;
	free(cfg->auth_policy_listen);
	free(cfg->auth_policy_file);
	free(cfg->auth_policy_api_key);
	free(cfg->auth_policy_api_header);
	cfg->auth_policy_listen = cfg->auth_policy_file = NULL;
	cfg->auth_policy_api_key = cfg->auth_policy_api_header = NULL;
}

/* -------------------------------------------------------------- printing */

/* config_print_listen - one listen statement of a policy block */
static void
config_print_listen(const struct mx_listen_conf *l, FILE *f)
{
	fprintf(f, "\tlisten %s ", l->type == MX_LISTEN_INET ? "inet" : "unix");
	config_print_string(f, l->address);
	if (l->type == MX_LISTEN_INET) {
		fputc('\n', f);
		return;
	}
	fprintf(f, " {\n");
	if (l->owner != NULL) {
		fprintf(f, "\t\towner ");
		config_print_string(f, l->owner);
		fputc('\n', f);
	}
	if (l->group != NULL) {
		fprintf(f, "\t\tgroup ");
		config_print_string(f, l->group);
		fputc('\n', f);
	}
	fprintf(f, "\t\tmode 0%03o\n\t}\n", l->mode);
}

/* config_policy_print - the policy block, the rules and the auth-policy block */
void
config_policy_print(const struct mx_config *cfg, FILE *f)
{
	const struct mx_policy_conf *p = &cfg->policy;
	char d[32];

	if (!p->present) {
		fprintf(f, "# policy: no policy block; the policy service is off\n");
	} else {
		fprintf(f, "policy {\n");
		if (p->n_listens == 0)
			fprintf(f, "\t# listen: none%s\n", p->socket_activation ?
			    " (sockets come from systemd)" : "; the policy service is off");
		for (size_t i = 0; i < p->n_listens; i++)
			config_print_listen(&p->listens[i], f);
		fprintf(f, "\tsocket-activation %s\n", config_yesno[p->socket_activation != 0]);
		fprintf(f, "\tmax-connections %u\n", p->max_connections);
		config_format_duration(p->idle_timeout_usec / 1000, d, sizeof(d));
		fprintf(f, "\tidle-timeout %s\n", d);
		config_format_size(p->request_max, d, sizeof(d));
		fprintf(f, "\trequest-max %s\n", d);
		fprintf(f, "\tmode %s\n", config_modes[p->warn != 0]);
		fprintf(f, "\tfail-action ");
		config_print_string(f, p->fail_action != NULL ? p->fail_action : "DUNNO");
		fprintf(f, "\n\tnetwork-prefix %u %u\n", p->net_v4, p->net_v6);
		config_format_size(p->counters_memory, d, sizeof(d));
		fprintf(f, "\tcounters-memory %s\n", d);
		config_format_duration((unsigned long long)p->history_window_usec / 1000, d,
		    sizeof(d));
		fprintf(f, "\thistory-window %s\n}\n", p->history_window_usec == 0 ? "off" : d);
	}
	if (rules_count(cfg->rules) > 0) {
		fprintf(f, "# %zu rule%s, tried in this order; the first that matches decides\n",
		    rules_count(cfg->rules), rules_count(cfg->rules) == 1 ? "" : "s");
		rules_print(cfg->rules, f);
	} else if (p->present) {
		fprintf(f, "# no rules: every request is answered DUNNO\n");
	}
	if (cfg->auth_policy_present) {
		fprintf(f, "auth-policy {\n\tlisten ");
		config_print_string(f, cfg->auth_policy_listen);
		fprintf(f, "\n\treports %s\n", config_reports[cfg->auth_policy_count_reports != 0]);
		if (cfg->auth_policy_defer_sec == 0)
			fprintf(f, "\tdefer-delay off\n");
		else
			fprintf(f, "\tdefer-delay %us\n", cfg->auth_policy_defer_sec);
		if (cfg->auth_policy_api_header != NULL) {
			fprintf(f, "\tapi-header ");
			config_print_string(f, cfg->auth_policy_api_header);
			fputc('\n', f);
		}
		if (cfg->auth_policy_api_key != NULL) {	/* as secret as the file itself */
			fprintf(f, "\tapi-key ");
			config_print_string(f, cfg->auth_policy_api_key);
			fputc('\n', f);
		}
		fprintf(f, "}\n");
	}
}
