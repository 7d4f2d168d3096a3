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
 * DESCRIPTION
 *	The file is a list of statements, one per line: a keyword followed by
 *	arguments (words or "quoted strings"), "#" starts a comment, a block
 *	in { } groups statements (input blocks, and rules in later versions).
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
};

int config_load(const char *path, int must_exist, struct mx_config **ret);
int config_load_file(const char *path, int must_exist, FILE *err, struct mx_config **ret);
int config_parse_text(const char *name, const char *text, size_t len, FILE *err,
    struct mx_config **ret);
struct mx_config *config_free(struct mx_config *cfg);
struct mx_config *config_default(void);
void config_print(const struct mx_config *cfg, FILE *f);

#endif
