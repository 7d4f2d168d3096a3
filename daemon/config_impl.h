/*
 * NAME
 *	config_impl - what config.c (general statements) and config_policy.c share
 * DESCRIPTION
 *	Private to the configuration reader: the state of one load and the
 *	value helpers both files use. config.c dispatches top-level keywords
 *	(its config_keywords[] table) and calls config_policy.c for the
 *	policy, rule and auth-policy statements, for their defaults, for the
 *	settings applied once the whole file is read, for freeing and for
 *	printing; config_metrics.c likewise for the metrics block.
 * SEE ALSO
 *	config.h, config.c, config_policy.c, config_metrics.c
 */
#ifndef MX_CONFIG_IMPL_H
#define MX_CONFIG_IMPL_H

#include <stdio.h>

#include "config.h"
#include "config_tree.h"

/* State of one load. */
struct config_reader {
	struct config_diag d;
	struct mx_config *cfg;		/* being filled */
	int nomem;
	const char *seen_file[16];	/* where each singleton was first set */
	unsigned seen_line[16];
};

#define config_error(c, file, line, ...)	config_tree_error(&(c)->d, file, line, __VA_ARGS__)

/* config.c: values and checks (each reports its own error) */
int config_parse_uint(const char *s, unsigned long long max, unsigned long long *ret);
const char *config_hostport_why(const char *s, int names, int port0, const char *hint);
int config_parse_duration(const char *s, unsigned long long *ret_msec);
void config_format_duration(unsigned long long msec, char *buf, size_t size);
int config_want_args(struct config_reader *c, const struct config_stmt *st, size_t min,
    size_t max);
int config_set_string(struct config_reader *c, char **field, const char *value);
int config_absolute(struct config_reader *c, const struct config_stmt *st, const char *what,
    const char *path);
/* The longest URL accepted (an API base is a host, a port and perhaps a path prefix). */
#define CONFIG_URL_MAX	1024
const char *config_url_why(const char *s, int base);
typedef int (*config_setting_fn)(struct config_reader *c, const struct config_stmt *st, int k,
    void *ud);
int config_block_settings(struct config_reader *c, const struct config_stmt *block,
    const char *what, const char *const *kw, int n, uint64_t repeatable,
    const struct config_stmt **seen, config_setting_fn fn, void *ud);
int config_enum(struct config_reader *c, const struct config_stmt *st, const char *value,
    const char *const *names, size_t n);
int config_duration_arg(struct config_reader *c, const struct config_stmt *st,
    unsigned long long *ret_msec);
void config_free_strv(char **v);
void config_print_string(FILE *f, const char *s);

/* config_policy.c */
void config_apply_policy(struct config_reader *c, const struct config_stmt *st);
void config_apply_rule(struct config_reader *c, const struct config_stmt *st);
void config_apply_auth_policy(struct config_reader *c, const struct config_stmt *st);
int config_policy_init(struct mx_config *cfg);
int config_policy_finish(struct config_reader *c);
void config_policy_done(struct mx_config *cfg);
void config_policy_print(const struct mx_config *cfg, FILE *f);

/* config_metrics.c */
void config_apply_metrics(struct config_reader *c, const struct config_stmt *st);
void config_metrics_done(struct mx_config *cfg);
void config_metrics_print(const struct mx_config *cfg, FILE *f);

/* config_crowdsec.c */
void config_apply_crowdsec(struct config_reader *c, const struct config_stmt *st);
int config_crowdsec_finish(struct config_reader *c);
void config_crowdsec_done(struct mx_config *cfg);
void config_crowdsec_print(const struct mx_config *cfg, FILE *f);

#endif
