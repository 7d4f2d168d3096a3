/*
 * NAME
 *	config - the meaning of mxledger.conf(5): statements into struct mx_config
 * SYNOPSIS
 *	#include "config.h"
 *
 *	int config_load(const char *path, int must_exist, struct mx_config **ret);
 *	int config_load_file(const char *path, int must_exist, FILE *err,
 *	    struct mx_config **ret);
 *	int config_parse_text(const char *name, const char *text, size_t len,
 *	    FILE *err, struct mx_config **ret);
 *	struct mx_config *config_default(void);
 *	void config_print(const struct mx_config *cfg, FILE *f);
 *	struct mx_config *config_free(struct mx_config *cfg);
 *	(config_rules_new() and config_policy_enabled() are in config_policy.c)
 * DESCRIPTION
 *	config_tree.c reads the syntax and hands over each top-level statement
 *	(with its { block } as a tree) in file order; here a table of
 *	keywords, one handler each, checks it and fills struct mx_config. A
 *	new statement is one more row in config_keywords[] whose handler walks
 *	its own block; the policy service's statements (policy, rule,
 *	auth-policy) are handled in config_policy.c, the metrics block in
 *	config_metrics.c.
 *
 *	Every problem is printed as "file:line: message" on the error stream
 *	and reading goes on, so one run shows all of them; a statement with an
 *	error changes nothing. Singletons given twice, unknown keywords, bad
 *	numbers, durations and names, relative paths, duplicate inputs are all
 *	errors. When no input is configured, one is added: the file
 *	MX_CONFIG_MAIL_LOG if it exists at load time, otherwise the journal.
 *
 *	config_print() writes every setting, defaults included, in the same
 *	syntax (the policy block and the rules normalised, config_policy.c);
 *	its output read back prints the same again.
 * RETURNS
 *	0 with *ret set; -EINVAL after printing the errors of an invalid file;
 *	-errno (after printing "path: cannot open: reason") when the file named
 *	cannot be read; -ENOMEM. Only the main file may be missing, and only
 *	without must_exist: the defaults are used then.
 * OWNERSHIP
 *	The configuration returned is owned by the caller (config_free()).
 *	The statement tree lives only while config_load() runs.
 * SEE ALSO
 *	mxledger.conf(5), config_tree.c, cmd_config.c, tests/check_config.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "config_impl.h"
#include "config_tree.h"
#include "rules.h"
#include "store.h"

/* Each input holds an inotify watch or a journal handle. */
#define CONFIG_INPUTS_MAX	64
/* A transaction of this many events still commits in well under a second. */
#define CONFIG_BATCH_EVENTS_MAX	100000
#define CONFIG_BATCH_MSEC_MIN	10
#define CONFIG_BATCH_MSEC_MAX	(3600 * 1000)
#define CONFIG_RETENTION_MAX	(36500LL * 86400)	/* 100 years, in seconds */

#define CONFIG_DEFAULT_BATCH_EVENTS	2000
#define CONFIG_DEFAULT_BATCH_MSEC	1000
#define CONFIG_DEFAULT_RETENTION	(90LL * 86400)
#define CONFIG_DEFAULT_LISTENERS	"*proxy*"


#define CONFIG_N(a)	(sizeof(a) / sizeof((a)[0]))

typedef void (*config_handler)(struct config_reader *c, const struct config_stmt *st);

struct config_keyword {
	const char *name;
	config_handler apply;
	int singleton;
};

static void config_apply_database(struct config_reader *c, const struct config_stmt *st);
static void config_apply_input(struct config_reader *c, const struct config_stmt *st);
static void config_apply_listeners(struct config_reader *c, const struct config_stmt *st);
static void config_apply_ports(struct config_reader *c, const struct config_stmt *st);
static void config_apply_batch_events(struct config_reader *c, const struct config_stmt *st);
static void config_apply_batch_interval(struct config_reader *c, const struct config_stmt *st);
static void config_apply_retention(struct config_reader *c, const struct config_stmt *st);
static void config_apply_timezone(struct config_reader *c, const struct config_stmt *st);
static void config_apply_log_level(struct config_reader *c, const struct config_stmt *st);

/* The top-level statements ("include" is config_tree.c's). */
static const struct config_keyword config_keywords[] = {
	{ "database", config_apply_database, 1 },
	{ "input", config_apply_input, 0 },
	{ "proxied-listeners", config_apply_listeners, 1 },
	{ "dovecot-proxy-ports", config_apply_ports, 1 },
	{ "batch-events", config_apply_batch_events, 1 },
	{ "batch-interval", config_apply_batch_interval, 1 },
	{ "retention", config_apply_retention, 1 },
	{ "timezone", config_apply_timezone, 1 },
	{ "log-level", config_apply_log_level, 1 },
	{ "policy", config_apply_policy, 1 },
	{ "rule", config_apply_rule, 0 },
	{ "auth-policy", config_apply_auth_policy, 1 },
	{ "metrics", config_apply_metrics, 1 },
	{ "crowdsec", config_apply_crowdsec, 1 },
};

static const struct {
	const char *name;
	int level;
} config_levels[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING }, { "err", LOG_ERR },
};

static const char *const config_start_names[] = {
	[MX_START_END] = "end",
	[MX_START_BEGINNING] = "beginning",
};


/* --------------------------------------------------------------- values */

/* config_parse_uint - a plain decimal number, at most max */
int
config_parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (ULLONG_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/*
 * config_hostport_why - what is wrong with "HOST:PORT", NULL if nothing. HOST is
 * an IPv4 address, an IPv6 address in brackets, or, when names is set, a host
 * name; the port goes from 1 (from 0 when port0 is set) to 65535. hint is the
 * example shown for an IPv6 address without brackets ("[::1]:10040").
 */
const char *
config_hostport_why(const char *s, int names, int port0, const char *hint)
{
	static const char name_chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";
	const char *expected = names ? "expected HOST:PORT" : "expected ADDRESS:PORT";
	unsigned char a[16];
	unsigned long long port;
	char host[256];
	const char *colon;
	size_t hl;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':')
			return "expected [IPv6]:PORT";
		hl = (size_t)(end - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return "not an IPv6 address in the brackets";
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, a) != 1)
			return "not an IPv6 address in the brackets";
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return expected;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl) != NULL)
			return hint;
		if (hl == 0 || hl >= sizeof(host))
			return expected;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, a) != 1) {
			if (!names)
				return "not a numeric IPv4 address (host names are not resolved)";
			if (strspn(host, name_chars) != hl || host[0] == '-' || host[0] == '.')
				return "not an address or a host name";
		}
	}
	if (config_parse_uint(colon + 1, 65535, &port) < 0 || (port == 0 && !port0))
		return port0 ? "the port is not a number from 0 to 65535" :
		    "the port is not a number from 1 to 65535";
	return NULL;
}

/*
 * config_parse_duration - "90d", "1h30m", "500ms", "30" (seconds) into
 * milliseconds. Units: ms s m h d w. Returns -EINVAL for a malformed one,
 * -ERANGE beyond CONFIG_RETENTION_MAX.
 */
int
config_parse_duration(const char *s, unsigned long long *ret_msec)
{
	static const struct {
		const char *unit;
		unsigned long long msec;
	} units[] = {	/* "ms" before "m" */
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "w", 7 * 86400000ULL },
	};
	const unsigned long long max = CONFIG_RETENTION_MAX * 1000;
	unsigned long long total = 0;

	if (*s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		unsigned long long v = 0, mult = 0;
		size_t i;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (unsigned)(*s - '0');
			if (v > max)
				return -ERANGE;
		}
		if (*s == '\0' && total == 0) {
			mult = 1000;		/* a bare number is seconds */
		} else {
			for (i = 0; i < CONFIG_N(units); i++)
				if (strncmp(s, units[i].unit, strlen(units[i].unit)) == 0)
					break;
			if (i == CONFIG_N(units))
				return -EINVAL;
			mult = units[i].msec;
			s += strlen(units[i].unit);
		}
		if (v > (max - total) / mult)
			return -ERANGE;
		total += v * mult;
	}
	*ret_msec = total;
	return 0;
}

/* config_format_duration - milliseconds in the largest unit that is exact */
void
config_format_duration(unsigned long long msec, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		unsigned long long msec;
	} units[] = {
		{ "w", 7 * 86400000ULL }, { "d", 86400000 }, { "h", 3600000 },
		{ "m", 60000 }, { "s", 1000 },
	};

	for (size_t i = 0; i < CONFIG_N(units); i++)
		if (msec >= units[i].msec && msec % units[i].msec == 0) {
			snprintf(buf, size, "%llu%s", msec / units[i].msec, units[i].unit);
			return;
		}
	snprintf(buf, size, "%llums", msec);
}

/* config_timezone_ok - a zone file under TZDIR, an absolute path, or a POSIX TZ string */
static int
config_timezone_ok(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	struct stat sb;

	if (*tz == ':')
		tz++;
	if (*tz == '\0' || strstr(tz, "..") != NULL)
		return 0;
	if (tz[0] != '/' && strpbrk(tz, "0123456789,") != NULL)
		return 1;		/* POSIX form, e.g. "CET-1CEST,M3.5.0,M10.5.0/3" */
	if (tz[0] == '/')
		snprintf(path, sizeof(path), "%s", tz);
	else if (snprintf(path, sizeof(path), "%s/%s",
	    dir != NULL && *dir != '\0' ? dir : "/usr/share/zoneinfo", tz) >= (int)sizeof(path))
		return 0;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* ------------------------------------------------------------ statements */

/* config_want_args - check the argument count and that there is no block */
int
config_want_args(struct config_reader *c, const struct config_stmt *st, size_t min, size_t max)
{
	if (st->has_block) {
		config_error(c, st->file, st->line, "%s: does not take a block", st->keyword);
		return -EINVAL;
	}
	if (st->n_args < min || st->n_args > max) {
		if (min == max)
			config_error(c, st->file, st->line, "%s: expected %zu argument%s, got %zu",
			    st->keyword, min, min == 1 ? "" : "s", st->n_args);
		else if (st->n_args < min)
			config_error(c, st->file, st->line,
			    "%s: expected at least %zu argument%s", st->keyword, min,
			    min == 1 ? "" : "s");
		else
			config_error(c, st->file, st->line,
			    "%s: expected at most %zu arguments, got %zu", st->keyword, max,
			    st->n_args);
		return -EINVAL;
	}
	return 0;
}

/* config_set_string - replace an owned string */
int
config_set_string(struct config_reader *c, char **field, const char *value)
{
	char *s = strdup(value);

	if (s == NULL) {
		c->nomem = 1;
		return -ENOMEM;
	}
	free(*field);
	*field = s;
	return 0;
}

/* config_absolute - paths must be absolute: a daemon's cwd is "/" anyway */
int
config_absolute(struct config_reader *c, const struct config_stmt *st, const char *what,
    const char *path)
{
	if (path[0] == '/')
		return 0;
	config_error(c, st->file, st->line, "%s: \"%s\" is not an absolute path", what, path);
	return -EINVAL;
}

static void
config_apply_database(struct config_reader *c, const struct config_stmt *st)
{
	if (config_want_args(c, st, 1, 1) < 0 ||
	    config_absolute(c, st, st->keyword, st->args[0]) < 0)
		return;
	config_set_string(c, &c->cfg->database, st->args[0]);
}

/*
 * config_url_why - what is wrong with an http:// or https:// URL, NULL if
 * nothing: a host, at most CONFIG_URL_MAX bytes, no blanks or control
 * characters; with base, no query or fragment either (paths get appended)
 */
const char *
config_url_why(const char *s, int base)
{
	const char *host;

	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return "expected an http:// or https:// URL";
	if (*host == '\0' || *host == '/')
		return "no host in the URL";
	if (strlen(s) > CONFIG_URL_MAX)
		return "longer than 1024 bytes";
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return "a URL has no spaces or control characters";
		if (base && (*s == '?' || *s == '#'))
			return "a base URL has no query or fragment";
	}
	return NULL;
}

/* config_top_level - is keyword one of the top-level statements? */
static int
config_top_level(const char *keyword)
{
	if (strcmp(keyword, "include") == 0)
		return 1;
	for (size_t i = 0; i < CONFIG_N(config_keywords); i++)
		if (strcmp(keyword, config_keywords[i].name) == 0)
			return 1;
	return 0;
}

/*
 * config_block_settings - the statements of a block whose keywords are
 * kw[0..n-1] (n <= 64), each at most once unless its bit is set in
 * repeatable: unknown keywords ("... in a WHAT block", with a hint when it
 * is a top-level statement) and repeated ones are reported, every other
 * statement goes to fn with its keyword's index, and seen[k] (n entries,
 * zeroed by the caller) gets the first statement of keyword k. Returns 0,
 * or -EINVAL after any error.
 */
int
config_block_settings(struct config_reader *c, const struct config_stmt *block,
    const char *what, const char *const *kw, int n, uint64_t repeatable,
    const struct config_stmt **seen, config_setting_fn fn, void *ud)
{
	int bad = 0;

	for (const struct config_stmt *st = block; st != NULL && !c->nomem; st = st->next) {
		int k;

		for (k = 0; k < n && strcmp(st->keyword, kw[k]) != 0; k++)
			;
		if (k == n) {
			config_error(c, st->file, st->line,
			    "unknown keyword \"%s\" in a%s %s block%s", st->keyword,
			    strchr("aeiou", what[0]) != NULL ? "n" : "", what,
			    config_top_level(st->keyword) ? " (it is a top-level statement)" : "");
			bad = 1;
		} else if (seen[k] != NULL && !(repeatable >> k & 1)) {
			config_error(c, st->file, st->line, "%s: already set in this block at line %u",
			    st->keyword, seen[k]->line);
			bad = 1;
		} else {
			if (seen[k] == NULL)
				seen[k] = st;
			bad |= fn(c, st, k, ud) < 0;
		}
	}
	return bad || c->nomem ? -EINVAL : 0;
}

/* config_enum - the index of value in names[], or report and return -EINVAL */
int
config_enum(struct config_reader *c, const struct config_stmt *st, const char *value,
    const char *const *names, size_t n)
{
	char list[256] = "";

	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(value, names[i]) == 0)
			return (int)i;
	for (size_t i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		if (list[0] != '\0')
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
	}
	config_error(c, st->file, st->line, "%s: \"%s\" is not one of %s", st->keyword,
	    value, list);
	return -EINVAL;
}

/* config_match_ok - "FIELD=value" as sd_journal_add_match() wants it, or "+" (OR) */
static int
config_match_ok(const char *m)
{
	const char *eq = strchr(m, '=');

	if (strcmp(m, "+") == 0)
		return 1;
	if (eq == NULL || eq == m || (m[0] >= '0' && m[0] <= '9'))
		return 0;
	for (const char *p = m; p < eq; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

/* config_input_match - add the FIELD=value arguments of a "match" statement */
static int
config_input_match(struct config_reader *c, const struct config_stmt *st, struct mx_input_conf *in)
{
	size_t n = 0;
	char **m;

	if (config_want_args(c, st, 1, CONFIG_TREE_ARGS_MAX) < 0)
		return -EINVAL;
	for (size_t i = 0; i < st->n_args; i++)
		if (!config_match_ok(st->args[i])) {
			config_error(c, st->file, st->line,
			    "match: \"%s\" is not FIELD=value (FIELD in upper case, "
			    "e.g. _COMM=smtpd) or +", st->args[i]);
			return -EINVAL;
		}
	while (in->matches != NULL && in->matches[n] != NULL)
		n++;
	if (n + st->n_args > CONFIG_TREE_ARGS_MAX) {
		config_error(c, st->file, st->line, "match: more than %d matches",
		    CONFIG_TREE_ARGS_MAX);
		return -EINVAL;
	}
	if ((m = reallocarray(in->matches, n + st->n_args + 1, sizeof(*m))) == NULL)
		goto nomem;
	in->matches = m;
	for (size_t i = 0; i < st->n_args; i++) {
		if ((m[n] = strdup(st->args[i])) == NULL)
			goto nomem;
		m[++n] = NULL;
	}
	return 0;
nomem:
	c->nomem = 1;
	return -ENOMEM;
}

/* config_input_block - the statements inside input file|journal { ... } */
static int
config_input_block(struct config_reader *c, const struct config_stmt *block,
    struct mx_input_conf *in)
{
	const struct config_stmt *seen_env = NULL, *seen_start = NULL;
	int bad = 0, v;

	for (const struct config_stmt *st = block; st != NULL; st = st->next) {
		const struct config_stmt **seen = NULL;

		if (strcmp(st->keyword, "envelope") == 0 && in->type == MX_INPUT_FILE)
			seen = &seen_env;
		else if (strcmp(st->keyword, "start-at") == 0)
			seen = &seen_start;
		if (seen != NULL && *seen != NULL) {
			config_error(c, st->file, st->line,
			    "%s: already set in this block at line %u", st->keyword,
			    (*seen)->line);
			bad = 1;
			continue;
		}
		if (seen != NULL)
			*seen = st;
		if (seen == &seen_env) {
			const char *names[MX_ENVELOPE__MAX];

			for (int i = 0; i < MX_ENVELOPE__MAX; i++)
				names[i] = envelope_name((enum mx_envelope)i);
			if (config_want_args(c, st, 1, 1) < 0 ||
			    (v = config_enum(c, st, st->args[0], names, MX_ENVELOPE__MAX)) < 0)
				bad = 1;
			else
				in->envelope = (enum mx_envelope)v;
		} else if (seen == &seen_start) {
			if (config_want_args(c, st, 1, 1) < 0 ||
			    (v = config_enum(c, st, st->args[0], config_start_names,
			    CONFIG_N(config_start_names))) < 0)
				bad = 1;
			else
				in->start_at = (enum mx_start_at)v;
		} else if (strcmp(st->keyword, "match") == 0 && in->type == MX_INPUT_JOURNAL) {
			bad |= config_input_match(c, st, in) < 0;
		} else if (strcmp(st->keyword, "envelope") == 0 ||
		    strcmp(st->keyword, "match") == 0) {
			config_error(c, st->file, st->line, "%s: not valid in an input %s block",
			    st->keyword, in->type == MX_INPUT_FILE ? "file" : "journal");
			bad = 1;
		} else {
			config_error(c, st->file, st->line,
			    "unknown keyword \"%s\" in an input block", st->keyword);
			bad = 1;
		}
	}
	return bad ? -EINVAL : 0;
}

/* config_input_conf_done - free the strings of one input */
static void
config_input_conf_done(struct mx_input_conf *in)
{
	free(in->path);
	for (size_t i = 0; in->matches != NULL && in->matches[i] != NULL; i++)
		free(in->matches[i]);
	free(in->matches);
	free(in->file);
	memset(in, 0, sizeof(*in));
}

/* config_same_input - two inputs that would read the same thing twice */
static int
config_same_input(const struct mx_input_conf *a, const struct mx_input_conf *b)
{
	if (a->type != b->type)
		return 0;
	if (a->path == NULL || b->path == NULL)
		return a->path == b->path;
	return strcmp(a->path, b->path) == 0;
}

/* config_add_input - append a parsed input, refusing duplicates */
static void
config_add_input(struct config_reader *c, const struct config_stmt *st, struct mx_input_conf *in)
{
	struct mx_config *cfg = c->cfg;
	struct mx_input_conf *n;

	for (size_t i = 0; i < cfg->n_inputs; i++)
		if (config_same_input(&cfg->inputs[i], in)) {
			config_error(c, st->file, st->line,
			    "input: %s%s%s%s already declared at %s:%u",
			    in->type == MX_INPUT_FILE ? "file" : "journal",
			    in->path != NULL ? " \"" : "", in->path != NULL ? in->path : "",
			    in->path != NULL ? "\"" : "", cfg->inputs[i].file,
			    cfg->inputs[i].line);
			goto drop;
		}
	if (cfg->n_inputs == CONFIG_INPUTS_MAX) {
		config_error(c, st->file, st->line, "input: more than %d inputs",
		    CONFIG_INPUTS_MAX);
		goto drop;
	}
	if ((n = reallocarray(cfg->inputs, cfg->n_inputs + 1, sizeof(*n))) == NULL) {
		c->nomem = 1;
		goto drop;
	}
	cfg->inputs = n;
	cfg->inputs[cfg->n_inputs++] = *in;
	return;
drop:
	config_input_conf_done(in);
}

static void
config_apply_input(struct config_reader *c, const struct config_stmt *st)
{
	struct mx_input_conf in = { .envelope = MX_ENVELOPE_AUTO, .start_at = MX_START_END };
	const char *path = NULL;

	if (st->n_args >= 1 && strcmp(st->args[0], "file") == 0) {
		in.type = MX_INPUT_FILE;
		if (st->n_args != 2) {
			config_error(c, st->file, st->line,
			    "input file: expected one path, got %zu arguments", st->n_args - 1);
			return;
		}
		path = st->args[1];
	} else if (st->n_args >= 1 && strcmp(st->args[0], "journal") == 0) {
		in.type = MX_INPUT_JOURNAL;
		if (st->n_args > 2) {
			config_error(c, st->file, st->line,
			    "input journal: expected at most one directory, got %zu arguments",
			    st->n_args - 1);
			return;
		}
		path = st->n_args == 2 ? st->args[1] : NULL;
	} else {
		config_error(c, st->file, st->line,
		    "input: expected \"file\" or \"journal\"%s%s%s",
		    st->n_args > 0 ? ", got \"" : "", st->n_args > 0 ? st->args[0] : "",
		    st->n_args > 0 ? "\"" : "");
		return;
	}
	if (path != NULL && config_absolute(c, st,
	    in.type == MX_INPUT_FILE ? "input file" : "input journal", path) < 0)
		return;
	if ((path != NULL && (in.path = strdup(path)) == NULL) ||
	    (in.file = strdup(st->file)) == NULL) {
		c->nomem = 1;
		config_input_conf_done(&in);
		return;
	}
	in.line = st->line;
	if (config_input_block(c, st->block, &in) < 0) {
		config_input_conf_done(&in);
		return;
	}
	config_add_input(c, st, &in);
}

/* config_free_strv - free a NULL-terminated list of strings */
void
config_free_strv(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
config_apply_listeners(struct config_reader *c, const struct config_stmt *st)
{
	char **v;
	size_t n = 0;

	if (config_want_args(c, st, 1, CONFIG_TREE_ARGS_MAX) < 0)
		return;
	for (size_t i = 0; i < st->n_args; i++) {
		if (st->args[i][0] == '\0' ||
		    (strcmp(st->args[i], "none") == 0 && st->n_args > 1)) {
			config_error(c, st->file, st->line, "%s: %s", st->keyword,
			    st->args[i][0] == '\0' ? "empty pattern" :
			    "\"none\" must stand alone");
			return;
		}
	}
	if ((v = calloc(st->n_args + 1, sizeof(*v))) == NULL)
		goto nomem;
	if (strcmp(st->args[0], "none") != 0)
		for (; n < st->n_args; n++)
			if ((v[n] = strdup(st->args[n])) == NULL)
				goto nomem;
	config_free_strv(c->cfg->proxy.listeners);
	c->cfg->proxy.listeners = v;
	return;
nomem:
	config_free_strv(v);
	c->nomem = 1;
}

static void
config_apply_ports(struct config_reader *c, const struct config_stmt *st)
{
	unsigned *ports;
	unsigned long long v;

	if (config_want_args(c, st, 1, CONFIG_TREE_ARGS_MAX) < 0)
		return;
	if (strcmp(st->args[0], "none") == 0 && st->n_args == 1) {
		free(c->cfg->proxy.dovecot_ports);
		c->cfg->proxy.dovecot_ports = NULL;
		return;
	}
	if ((ports = calloc(st->n_args + 1, sizeof(*ports))) == NULL) {
		c->nomem = 1;
		return;
	}
	for (size_t i = 0; i < st->n_args; i++) {
		if (config_parse_uint(st->args[i], 65535, &v) < 0 || v == 0) {
			config_error(c, st->file, st->line, "%s: \"%s\" is not a port (1-65535)",
			    st->keyword, st->args[i]);
			free(ports);
			return;
		}
		ports[i] = (unsigned)v;
	}
	free(c->cfg->proxy.dovecot_ports);
	c->cfg->proxy.dovecot_ports = ports;
}

static void
config_apply_batch_events(struct config_reader *c, const struct config_stmt *st)
{
	unsigned long long v;

	if (config_want_args(c, st, 1, 1) < 0)
		return;
	if (config_parse_uint(st->args[0], CONFIG_BATCH_EVENTS_MAX, &v) < 0 || v == 0) {
		config_error(c, st->file, st->line, "%s: \"%s\" is not a number from 1 to %d",
		    st->keyword, st->args[0], CONFIG_BATCH_EVENTS_MAX);
		return;
	}
	c->cfg->batch_events = (unsigned)v;
}

/* config_duration_arg - parse a duration argument, reporting a malformed one */
int
config_duration_arg(struct config_reader *c, const struct config_stmt *st,
    unsigned long long *ret_msec)
{
	int r = config_parse_duration(st->args[0], ret_msec);

	if (r == -ERANGE)
		config_error(c, st->file, st->line, "%s: \"%s\" is too long", st->keyword,
		    st->args[0]);
	else if (r < 0)
		config_error(c, st->file, st->line,
		    "%s: \"%s\" is not a duration (e.g. 500ms, 30s, 15m, 1h, 1d, 1w)",
		    st->keyword, st->args[0]);
	return r;
}

static void
config_apply_batch_interval(struct config_reader *c, const struct config_stmt *st)
{
	unsigned long long msec;

	if (config_want_args(c, st, 1, 1) < 0 || config_duration_arg(c, st, &msec) < 0)
		return;
	if (msec < CONFIG_BATCH_MSEC_MIN || msec > CONFIG_BATCH_MSEC_MAX) {
		config_error(c, st->file, st->line, "%s: \"%s\" is not between 10ms and 1h",
		    st->keyword, st->args[0]);
		return;
	}
	c->cfg->batch_msec = (unsigned)msec;
}

static void
config_apply_retention(struct config_reader *c, const struct config_stmt *st)
{
	unsigned long long msec;

	if (config_want_args(c, st, 1, 1) < 0)
		return;
	if (strcmp(st->args[0], "off") == 0) {
		c->cfg->retention_sec = 0;
		return;
	}
	if (config_duration_arg(c, st, &msec) < 0)
		return;
	if (msec % 1000 != 0) {
		config_error(c, st->file, st->line, "%s: \"%s\" is not a whole number of seconds",
		    st->keyword, st->args[0]);
		return;
	}
	c->cfg->retention_sec = (int64_t)(msec / 1000);
}

static void
config_apply_timezone(struct config_reader *c, const struct config_stmt *st)
{
	const char *dir = getenv("TZDIR");

	if (config_want_args(c, st, 1, 1) < 0)
		return;
	if (!config_timezone_ok(st->args[0])) {
		config_error(c, st->file, st->line, "%s: unknown time zone \"%s\" (not in %s)",
		    st->keyword, st->args[0],
		    dir != NULL && *dir != '\0' ? dir : "/usr/share/zoneinfo");
		return;
	}
	config_set_string(c, &c->cfg->timezone, st->args[0]);
}

static void
config_apply_log_level(struct config_reader *c, const struct config_stmt *st)
{
	const char *names[CONFIG_N(config_levels)];
	int v;

	if (config_want_args(c, st, 1, 1) < 0)
		return;
	for (size_t i = 0; i < CONFIG_N(config_levels); i++)
		names[i] = config_levels[i].name;
	if ((v = config_enum(c, st, st->args[0], names, CONFIG_N(names))) < 0)
		return;
	c->cfg->log_level = config_levels[v].level;
}

/* ------------------------------------------------------------- defaults */

/* config_new - a configuration with every default, and no input yet */
static struct mx_config *
config_new(void)
{
	struct mx_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->batch_events = CONFIG_DEFAULT_BATCH_EVENTS;
	cfg->batch_msec = CONFIG_DEFAULT_BATCH_MSEC;
	cfg->retention_sec = CONFIG_DEFAULT_RETENTION;
	cfg->log_level = LOG_INFO;
	if (config_policy_init(cfg) < 0)
		return config_free(cfg);
	return cfg;
}

/* config_default_input - follow MX_CONFIG_MAIL_LOG if it exists, else the journal */
static int
config_default_input(struct mx_config *cfg)
{
	struct mx_input_conf *in = calloc(1, sizeof(*in));

	if (in == NULL)
		return -ENOMEM;
	in->envelope = MX_ENVELOPE_AUTO;
	in->start_at = MX_START_END;
	if (access(MX_CONFIG_MAIL_LOG, F_OK) == 0) {
		in->type = MX_INPUT_FILE;
		if ((in->path = strdup(MX_CONFIG_MAIL_LOG)) == NULL)
			goto nomem;
	} else {
		in->type = MX_INPUT_JOURNAL;
	}
	if ((in->file = strdup("(default)")) == NULL)
		goto nomem;
	cfg->inputs = in;
	cfg->n_inputs = 1;
	return 0;
nomem:
	config_input_conf_done(in);
	free(in);
	return -ENOMEM;
}

struct mx_config *
config_default(void)
{
	struct mx_config *cfg = config_new();

	if (cfg != NULL && config_default_input(cfg) < 0)
		cfg = config_free(cfg);
	return cfg;
}

struct mx_config *
config_free(struct mx_config *cfg)
{
	if (cfg == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->n_inputs; i++)
		config_input_conf_done(&cfg->inputs[i]);
	free(cfg->inputs);
	config_free_strv(cfg->proxy.listeners);
	free(cfg->proxy.dovecot_ports);
	free(cfg->path);
	free(cfg->database);
	free(cfg->timezone);
	config_policy_done(cfg);
	config_metrics_done(cfg);
	config_crowdsec_done(cfg);
	free(cfg);
	return NULL;
}

/* ---------------------------------------------------------------- entry */

/* config_apply - one top-level statement, through its keyword's handler */
static int
config_apply(void *ud, const struct config_stmt *st)
{
	struct config_reader *c = ud;
	size_t k;

	_Static_assert(CONFIG_N(config_keywords) <= CONFIG_N(c->seen_file),
	    "seen_file[] too small");
	for (k = 0; k < CONFIG_N(config_keywords); k++)
		if (strcmp(st->keyword, config_keywords[k].name) == 0)
			break;
	if (k == CONFIG_N(config_keywords)) {
		config_error(c, st->file, st->line, "unknown keyword \"%s\"", st->keyword);
		return 0;
	}
	if (config_keywords[k].singleton && c->seen_file[k] != NULL) {
		config_error(c, st->file, st->line, "%s: already set at %s:%u", st->keyword,
		    c->seen_file[k], c->seen_line[k]);
		return 0;
	}
	c->seen_file[k] = st->file;
	c->seen_line[k] = st->line;
	config_keywords[k].apply(c, st);
	return c->nomem ? -ENOMEM : 0;
}

/* config_build - parse and apply text, then add the default input if none */
static int
config_build(const char *name, const char *text, size_t len, FILE *err,
    struct mx_config **ret)
{
	struct config_reader c = { .d.err = err != NULL ? err : stderr };
	int r;

	if ((c.cfg = config_new()) == NULL)
		return -ENOMEM;
	r = config_tree_parse(&c.d, name, text, len, config_apply, &c);
	if (r == 0)
		r = config_policy_finish(&c);
	if (r == 0)
		r = config_crowdsec_finish(&c);
	if (r == 0 && c.d.n_errors > 0)
		r = -EINVAL;
	if (r == 0 && c.cfg->n_inputs == 0)
		r = config_default_input(c.cfg);
	if (r == 0 && (c.cfg->path = strdup(name)) == NULL)
		r = -ENOMEM;
	config_tree_diag_done(&c.d);
	if (r < 0) {
		config_free(c.cfg);
		return r;
	}
	*ret = c.cfg;
	return 0;
}

int
config_parse_text(const char *name, const char *text, size_t len, FILE *err,
    struct mx_config **ret)
{
	return config_build(name, text, len, err, ret);
}

int
config_load_file(const char *path, int must_exist, FILE *err, struct mx_config **ret)
{
	struct mx_config *cfg;
	char *buf;
	size_t len;
	int r;

	if (path == NULL)
		path = MX_CONFIG_DEFAULT_PATH;
	r = config_tree_read_file(path, &buf, &len);
	if (r == -ENOENT && !must_exist) {
		if ((cfg = config_default()) == NULL)
			return -ENOMEM;
		*ret = cfg;
		return 0;
	}
	if (r < 0) {
		if (r != -ENOMEM)
			fprintf(err != NULL ? err : stderr, "%s: cannot open: %s\n", path,
			    config_tree_strerror(r));
		return r;
	}
	r = config_build(path, buf, len, err, ret);
	free(buf);
	return r;
}

int
config_load(const char *path, int must_exist, struct mx_config **ret)
{
	return config_load_file(path, must_exist, stderr, ret);
}

/* ---------------------------------------------------------------- print */

/* config_print_string - a quoted string with \" and \\ escaped */
void
config_print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void
config_print_input(const struct mx_input_conf *in, FILE *f)
{
	fprintf(f, "input %s", in->type == MX_INPUT_FILE ? "file" : "journal");
	if (in->path != NULL) {
		fputc(' ', f);
		config_print_string(f, in->path);
	}
	fprintf(f, " {\n");
	if (in->type == MX_INPUT_FILE)
		fprintf(f, "\tenvelope %s\n", envelope_name(in->envelope));
	fprintf(f, "\tstart-at %s\n", config_start_names[in->start_at == MX_START_BEGINNING]);
	if (in->type == MX_INPUT_JOURNAL && in->matches == NULL)
		fprintf(f, "\t# match: built in (the Postfix and Dovecot processes)\n");
	for (size_t i = 0; in->matches != NULL && in->matches[i] != NULL; i++) {
		fprintf(f, "\tmatch ");
		config_print_string(f, in->matches[i]);
		fputc('\n', f);
	}
	fprintf(f, "}\n");
}

void
config_print(const struct mx_config *cfg, FILE *f)
{
	char d[32];
	const char *level = "info";

	if (cfg->path != NULL)
		fprintf(f, "# mxledger configuration as read from %s, defaults included\n",
		    cfg->path);
	else
		fprintf(f, "# mxledger configuration: the built-in defaults (no file read)\n");
	fprintf(f, "database ");
	config_print_string(f, cfg->database != NULL ? cfg->database : store_default_path());
	fputc('\n', f);
	for (size_t i = 0; i < cfg->n_inputs; i++)
		config_print_input(&cfg->inputs[i], f);
	fprintf(f, "proxied-listeners");
	if (cfg->proxy.listeners == NULL)
		fprintf(f, " \"" CONFIG_DEFAULT_LISTENERS "\"");
	else if (cfg->proxy.listeners[0] == NULL)
		fprintf(f, " none");
	for (size_t i = 0; cfg->proxy.listeners != NULL && cfg->proxy.listeners[i] != NULL; i++) {
		fputc(' ', f);
		config_print_string(f, cfg->proxy.listeners[i]);
	}
	fprintf(f, "\ndovecot-proxy-ports");
	if (cfg->proxy.dovecot_ports == NULL || cfg->proxy.dovecot_ports[0] == 0)
		fprintf(f, " none");
	for (size_t i = 0; cfg->proxy.dovecot_ports != NULL && cfg->proxy.dovecot_ports[i]; i++)
		fprintf(f, " %u", cfg->proxy.dovecot_ports[i]);
	fprintf(f, "\nbatch-events %u\n", cfg->batch_events);
	config_format_duration(cfg->batch_msec, d, sizeof(d));
	fprintf(f, "batch-interval %s\n", d);
	config_format_duration((unsigned long long)cfg->retention_sec * 1000, d, sizeof(d));
	fprintf(f, "retention %s\n", cfg->retention_sec == 0 ? "off" : d);
	if (cfg->timezone != NULL) {
		fprintf(f, "timezone ");
		config_print_string(f, cfg->timezone);
		fputc('\n', f);
	} else {
		fprintf(f, "# timezone: not set, RFC 3164 times are read in the local "
		    "time zone\n");
	}
	for (size_t i = 0; i < CONFIG_N(config_levels); i++)
		if (config_levels[i].level == cfg->log_level)
			level = config_levels[i].name;
	fprintf(f, "log-level %s\n", level);
	config_policy_print(cfg, f);
	config_metrics_print(cfg, f);
	config_crowdsec_print(cfg, f);
}
