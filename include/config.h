/*
 * NAME
 *	config - the mxledger configuration file
 * SYNOPSIS
 *	#include "config.h"
 *
 *	int config_load(const char *path, int must_exist, struct mx_config **ret);
 *	int config_load_file(const char *path, int must_exist, FILE *err,
 *	    struct mx_config **ret);
 *	int config_parse_text(const char *name, const char *text, size_t len,
 *	    FILE *err, struct mx_config **ret);
 *	struct mx_config *config_free(struct mx_config *cfg);
 *	void config_print(const struct mx_config *cfg, FILE *f);
 *	struct mx_config *config_default(void);
 *	int config_rules_new(const struct mx_config *cfg, FILE *err,
 *	    struct mx_rules **ret);
 *	int config_policy_enabled(const struct mx_config *cfg);
 * DESCRIPTION
 *	The file is a list of statements, one per line: a keyword followed by
 *	arguments (words or "quoted strings"), "#" starts a comment, a block
 *	in { } groups statements (input, policy, auth-policy and rule blocks).
 *	`include "path"` reads another file. See mxledger.conf(5).
 *
 *	config_load() reads and validates everything, printing every error as
 *	"file:line: message" on stderr, and returns -EINVAL after the last one
 *	(the caller exits EX_CONFIG, 78). A missing file is an error only with
 *	must_exist; otherwise the defaults are used. A file that cannot be read
 *	gives "path: cannot open: reason" and -errno (-ENOENT, -EACCES, ...);
 *	callers exit EX_CONFIG for that too. path NULL = MX_CONFIG_DEFAULT_PATH.
 *
 *	config_load_file() is config_load() with the messages going to err
 *	(NULL = stderr); config_parse_text() reads a configuration from
 *	memory, `name` standing for its file name (in messages, and as the
 *	base of relative include paths). Both exist for tests and tools.
 *
 *	Without any input statement one default input is added: the file
 *	MX_CONFIG_MAIL_LOG when it exists at load time, else the journal.
 *	The syntax is read by config_tree.c (config_tree.h).
 * OWNERSHIP
 *	The returned config is owned by the caller: config_free().
 */
#ifndef MX_CONFIG_H
#define MX_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "envelope.h"
#include "program.h"

struct config_stmt;	/* config_tree.h */
struct mx_rules;	/* rules.h */

#define MX_CONFIG_DEFAULT_PATH	SYSCONFDIR "/mxledger/mxledger.conf"
/* The file followed when the configuration names no input (else the journal). */
#define MX_CONFIG_MAIL_LOG	"/var/log/mail.log"

enum mx_input_type {
	MX_INPUT_FILE,
	MX_INPUT_JOURNAL,
};

enum mx_start_at {
	MX_START_END = 0,	/* a new input starts at its end (default) */
	MX_START_BEGINNING,
};

struct mx_input_conf {
	enum mx_input_type type;
	char *path;			/* file: path to follow; journal: directory or NULL = system */
	enum mx_envelope envelope;	/* file only; AUTO by default */
	enum mx_start_at start_at;
	char **matches;			/* journal: "FIELD=value" matches, NULL-terminated;
					 * NULL = built-in defaults */
	char *file;			/* where it was declared; "(default)" when added */
	unsigned line;
};

enum mx_listen_type {
	MX_LISTEN_INET,
	MX_LISTEN_UNIX,
};

/* policy { listen inet "HOST:PORT" } or policy { listen unix "PATH" { owner; group; mode } } */
struct mx_listen_conf {
	enum mx_listen_type type;
	char *address;			/* "127.0.0.1:10040", "[::1]:10040", or an absolute path */
	char *owner;			/* UNIX: user name, NULL = the daemon's */
	char *group;			/* UNIX: group name, NULL = the daemon's */
	unsigned mode;			/* UNIX: permission bits (default 0660) */
	char *file;			/* where it was declared */
	unsigned line;
};

/* The policy { } block (mxledger.conf(5) POLICY SERVICE); defaults when absent. */
struct mx_policy_conf {
	int present;			/* a policy block was read */
	struct mx_listen_conf *listens;
	size_t n_listens;
	int socket_activation;		/* also take sockets passed by systemd */
	unsigned max_connections;	/* default 4096 */
	uint64_t idle_timeout_usec;	/* default 330 s (Postfix's max_idle is 300 s) */
	size_t request_max;		/* bytes, default 16 KiB (POLICY_REQUEST_DEFAULT) */
	int warn;			/* mode warn: every rule is a dry run */
	char *fail_action;		/* normalised; NULL = "DUNNO" (fail open) */
	unsigned net_v4, net_v6;	/* client_net prefix lengths (24, 64) */
	size_t counters_memory;		/* cap of the counters, bytes (256 MiB) */
	int64_t history_window_usec;	/* replayed from the database at start (1 d) */
	char *file;			/* where the block was, NULL when absent */
	unsigned line;
};

/* The metrics { } block (mxledger.conf(5) METRICS); nothing is served when absent. */
struct mx_metrics_conf {
	int present;			/* a metrics block was read */
	char *listen;			/* "127.0.0.1:9154" (default); NULL = listen none */
	char *textfile;			/* node_exporter textfile ("*.prom"); NULL = none */
	unsigned textfile_msec;		/* how often it is written (default 15 s) */
	char **proxy_networks;		/* "10.0.0.0/8", ..., NULL-terminated; NULL = none */
	int alerts;			/* evaluate the alert thresholds here (default no) */
	char *alertmanager_url;		/* POST alerts there too; NULL = journal only */
	char *file;			/* where the block was, NULL when absent */
	unsigned line;
};

/*
 * The crowdsec { } block (mxledger.conf(5) CROWDSEC, config_crowdsec.c):
 * the LAPI's decisions for `crowdsec` rule conditions (bouncer side) and,
 * with a watcher block, mxledger's findings pushed as alerts. Off when absent.
 */
struct mx_crowdsec_conf {
	int present;			/* a crowdsec block was read */
	char *url;			/* LAPI base URL, "http://127.0.0.1:8080/" by default */
	char *api_key;			/* the bouncer key (api-key, or read from api-key-file) */
	char *api_key_file;		/* where it was read from; NULL = given inline */
	unsigned interval_msec;		/* pull the decision stream this often (10 s) */
	unsigned timeout_msec;		/* per HTTP request (2 s) */
	unsigned stale_msec;		/* no good pull for this long = stale (1 min) */
	int watcher;			/* a watcher block was read */
	char *machine_id;		/* watcher login */
	char *password;			/* its password (password, or read from password-file) */
	char *password_file;		/* NULL = given inline */
	int proxy_errors;		/* push PROXY protocol errors as alerts (no decision) */
	char *file;			/* where the block was */
	unsigned line;
};

struct mx_config {
	char *path;			/* file read, NULL for built-in defaults */
	char *database;			/* NULL = store_default_path() */
	struct mx_input_conf *inputs;
	size_t n_inputs;
	struct mx_proxy_conf proxy;	/* proxied-listeners, dovecot-proxy-ports */
	unsigned batch_events;		/* commit after this many events (default 2000) */
	unsigned batch_msec;		/* ... or after this long (default 1000) */
	int64_t retention_sec;		/* prune events older than this; 0 = keep (default 90d) */
	char *timezone;			/* TZ for RFC 3164 timestamps; NULL = process TZ */
	int log_level;			/* LOG_ERR..LOG_DEBUG (default LOG_INFO) */
	struct mx_policy_conf policy;
	/*
	 * The `rule NAME { ... }` statements: checked and parsed into rules (not
	 * bound; for printing and counting), and kept as statement copies in file
	 * order (linked by ->next) for config_rules_new(), which gives every user
	 * (the policy service, policy-test, a reload) a rule set of its own.
	 */
	struct mx_rules *rules;		/* never NULL in a loaded configuration */
	struct config_stmt *rule_stmts;
	/* auth-policy { listen "HOST:PORT" ... }: Dovecot's HTTP auth policy endpoint */
	int auth_policy_present;	/* the block was read */
	char *auth_policy_listen;	/* NULL = no endpoint */
	int auth_policy_count_reports;	/* reports count (1, default) | ignore (0) */
	unsigned auth_policy_defer_sec;	/* defer-delay: DEFER/4xx delay Dovecot (0 = refuse) */
	char *auth_policy_api_key;	/* api-key; NULL = none required */
	char *auth_policy_api_header;	/* api-header; NULL = "X-API-Key" */
	char *auth_policy_file;		/* where the block was */
	unsigned auth_policy_line;
	struct mx_metrics_conf metrics;	/* config_metrics.c */
	struct mx_crowdsec_conf crowdsec;	/* config_crowdsec.c */
};

int config_load(const char *path, int must_exist, struct mx_config **ret);
int config_load_file(const char *path, int must_exist, FILE *err, struct mx_config **ret);
int config_parse_text(const char *name, const char *text, size_t len, FILE *err,
    struct mx_config **ret);
struct mx_config *config_free(struct mx_config *cfg);
struct mx_config *config_default(void);
void config_print(const struct mx_config *cfg, FILE *f);
/*
 * A new, unbound rule set from cfg's rule statements with the policy
 * block's mode, fail-action and network prefix applied. Messages (none for
 * a configuration config_load() accepted) go to err (NULL = stderr).
 * Returns 0, -EINVAL, -ENOMEM. The caller frees it with rules_free().
 */
int config_rules_new(const struct mx_config *cfg, FILE *err, struct mx_rules **ret);
/*
 * Whether `mxledger run` starts the policy service: a policy listener, socket
 * activation, or an auth-policy block.
 */
int config_policy_enabled(const struct mx_config *cfg);

#endif
