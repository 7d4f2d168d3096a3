/*
 * NAME
 *	config_tree - the statement syntax of mxledger.conf(5): tokens, blocks, includes
 * SYNOPSIS
 *	#include "config_tree.h"
 *
 *	int config_tree_parse(struct config_diag *d, const char *name,
 *	    const char *text, size_t len, config_stmt_fn fn, void *ud);
 *	int config_tree_read_file(const char *path, char **ret_buf, size_t *ret_len);
 *	const char *config_tree_strerror(int r);
 *	void config_tree_error(struct config_diag *d, const char *file, unsigned line,
 *	    const char *fmt, ...);
 *	void config_tree_diag_done(struct config_diag *d);
 * DESCRIPTION
 *	Knows the syntax, not the meaning. A file is statements, one per line
 *	(or separated by ";"): a keyword, arguments that are bare words or
 *	"quoted strings" (escapes \" and \\ only), and optionally a { block }
 *	of statements opened on the same line. "#" outside a string starts a
 *	comment; a backslash at the end of a line continues it. A top-level
 *	`include "path"` statement is replaced by the statements of that file
 *	(relative paths are relative to the including file).
 *
 *	config_tree_parse() hands every top-level statement, with its block
 *	as a tree, to fn() in file order (included files spliced in), so the
 *	errors of both passes come out in reading order. The statement is
 *	freed when fn() returns. A statement with a syntax error is reported
 *	and not handed on.
 *
 *	Every problem goes through config_tree_error() as "file:line: message"
 *	on d->err; d->n_errors counts them (after CONFIG_TREE_ERRORS_MAX they
 *	are only counted; config_tree_diag_done() prints how many more).
 * RETURNS
 *	config_tree_parse(): 0 (look at d->n_errors), or -ENOMEM, or what fn()
 *	returned when negative. config_tree_read_file(): 0, -errno, -EFBIG past
 *	CONFIG_TREE_FILE_MAX, -EISDIR.
 * OWNERSHIP
 *	Statement strings and the file names they cite stay valid until
 *	config_tree_diag_done() (file names) or fn() returns (the rest).
 */
#ifndef MX_CONFIG_TREE_H
#define MX_CONFIG_TREE_H

#include <stddef.h>
#include <stdio.h>

/* A configuration file is a few kilobytes; a megabyte means a wrong file. */
#define CONFIG_TREE_FILE_MAX	(1024 * 1024)
/* The longest thing a statement names is a path: PATH_MAX. */
#define CONFIG_TREE_TOKEN_MAX	4096
/* Port lists and listener patterns are short; 64 is generous. */
#define CONFIG_TREE_ARGS_MAX	64
/* Depth of includes, and of nested blocks (each bounds a recursion). */
#define CONFIG_TREE_DEPTH_MAX	8
/* A binary file read by mistake would give one error per line. */
#define CONFIG_TREE_ERRORS_MAX	100

struct config_stmt {
	char *keyword;
	char **args;
	size_t n_args;
	int has_block;			/* "{ }" given, possibly empty */
	struct config_stmt *block;	/* first child statement */
	struct config_stmt *next;	/* next statement in the same block */
	const char *file;		/* where it was written */
	unsigned line;
};

struct config_diag {
	FILE *err;			/* where messages go */
	unsigned n_errors;
	char **files;			/* names of the files read (owned) */
	size_t n_files;
};

typedef int (*config_stmt_fn)(void *ud, const struct config_stmt *st);

int config_tree_parse(struct config_diag *d, const char *name, const char *text, size_t len,
    config_stmt_fn fn, void *ud);
int config_tree_read_file(const char *path, char **ret_buf, size_t *ret_len);
const char *config_tree_strerror(int r);
void config_tree_error(struct config_diag *d, const char *file, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void config_tree_diag_done(struct config_diag *d);

#endif
