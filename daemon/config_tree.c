/*
 * NAME
 *	config_tree - the statement syntax of mxledger.conf(5): tokens, blocks, includes
 * SYNOPSIS
 *	#include "config_tree.h"
 * DESCRIPTION
 *	A small hand-written lexer (words, strings, "{", "}", end of
 *	statement) and a recursive-descent reader of statement lists. See
 *	config_tree.h for the syntax and mxledger.conf(5) for the manual.
 *
 *	Error recovery is per statement: after a problem the rest of the
 *	statement is skipped (a block that follows it included, by counting
 *	braces) and reading goes on with the next line, so one run reports
 *	every problem. An unclosed block is reported at the line that opened it.
 * SEE ALSO
 *	config_tree.h, config.c (the meaning of the statements)
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_tree.h"

enum config_tok {
	CONFIG_TOK_EOF,
	CONFIG_TOK_NL,		/* end of line or ";" */
	CONFIG_TOK_WORD,
	CONFIG_TOK_STRING,
	CONFIG_TOK_LBRACE,
	CONFIG_TOK_RBRACE,
	CONFIG_TOK_ERROR,	/* already reported */
};

/* One file being read. */
struct config_lexer {
	struct config_diag *d;
	config_stmt_fn fn;
	void *ud;
	const char *file;
	const char *buf;
	size_t len, pos;
	unsigned line;
	int depth;			/* include depth of this file, 0 = main */
	int pushed;			/* return the current token again */
	enum config_tok tok;
	unsigned tok_line;
	char text[CONFIG_TREE_TOKEN_MAX + 1];
};

static int config_tree_list(struct config_lexer *lx, int block_depth, unsigned block_line,
    struct config_stmt **ret_list);

/* config_tree_error - print "file:line: message", counting; quiet after the cap */
void
config_tree_error(struct config_diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (++d->n_errors > CONFIG_TREE_ERRORS_MAX)
		return;
	if (line > 0)
		fprintf(d->err, "%s:%u: ", file, line);
	else
		fprintf(d->err, "%s: ", file);
	va_start(ap, fmt);
	vfprintf(d->err, fmt, ap);
	va_end(ap);
	fputc('\n', d->err);
}

/* config_tree_diag_done - report the errors not shown, free the file names */
void
config_tree_diag_done(struct config_diag *d)
{
	if (d->n_errors > CONFIG_TREE_ERRORS_MAX)
		fprintf(d->err, "... and %u more errors\n", d->n_errors - CONFIG_TREE_ERRORS_MAX);
	for (size_t i = 0; i < d->n_files; i++)
		free(d->files[i]);
	free(d->files);
	d->files = NULL;
	d->n_files = 0;
}

/* config_tree_remember - keep a file name for the statements that cite it */
static const char *
config_tree_remember(struct config_diag *d, const char *name)
{
	char **n;
	char *copy;

	if ((copy = strdup(name)) == NULL)
		return NULL;
	if ((n = reallocarray(d->files, d->n_files + 1, sizeof(*n))) == NULL) {
		free(copy);
		return NULL;
	}
	d->files = n;
	d->files[d->n_files++] = copy;
	return copy;
}

/* config_tree_free - free a list of statements and their blocks */
static void
config_tree_free(struct config_stmt *st)
{
	struct config_stmt *next;

	for (; st != NULL; st = next) {
		next = st->next;
		config_tree_free(st->block);	/* depth bounded by CONFIG_TREE_DEPTH_MAX */
		for (size_t i = 0; i < st->n_args; i++)
			free(st->args[i]);
		free(st->args);
		free(st->keyword);
		free(st);
	}
}

/* ----------------------------------------------------------------- lexer */

/* config_tree_put - append one byte of a token, reporting an overlong one once */
static int
config_tree_put(struct config_lexer *lx, size_t *n, char ch, const char *what, int bad)
{
	if (*n == CONFIG_TREE_TOKEN_MAX) {
		if (!bad)
			config_tree_error(lx->d, lx->file, lx->tok_line, "%s longer than %d bytes",
			    what, CONFIG_TREE_TOKEN_MAX);
		return 1;
	}
	lx->text[(*n)++] = ch;
	return bad;
}

/* config_tree_string - read a "quoted string" after its opening quote */
static enum config_tok
config_tree_string(struct config_lexer *lx)
{
	size_t n = 0;
	int bad = 0;

	for (;;) {
		char ch;

		if (lx->pos >= lx->len || lx->buf[lx->pos] == '\n') {
			config_tree_error(lx->d, lx->file, lx->tok_line, "unterminated string");
			return CONFIG_TOK_ERROR;
		}
		ch = lx->buf[lx->pos++];
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (lx->pos >= lx->len || lx->buf[lx->pos] == '\n')
				continue;	/* reported as unterminated above */
			ch = lx->buf[lx->pos++];
			if (ch != '"' && ch != '\\' && !bad) {
				config_tree_error(lx->d, lx->file, lx->tok_line,
				    "invalid escape \"\\%c\" in string "
				    "(only \\\" and \\\\ are known)",
				    isprint((unsigned char)ch) ? ch : '?');
				bad = 1;
			}
		} else if (iscntrl((unsigned char)ch) && ch != '\t' && !bad) {
			config_tree_error(lx->d, lx->file, lx->tok_line,
			    "control character 0x%02x in string", (unsigned char)ch);
			bad = 1;
		}
		bad = config_tree_put(lx, &n, ch, "string", bad);
	}
	lx->text[n] = '\0';
	return bad ? CONFIG_TOK_ERROR : CONFIG_TOK_STRING;
}

/* config_tree_is_continuation - a backslash that ends the line */
static int
config_tree_is_continuation(const struct config_lexer *lx)
{
	size_t p = lx->pos;

	if (p >= lx->len || lx->buf[p] != '\\')
		return 0;
	p++;
	if (p < lx->len && lx->buf[p] == '\r')
		p++;
	return p < lx->len && lx->buf[p] == '\n';
}

/* config_tree_word - read a bare word starting at the current position */
static enum config_tok
config_tree_word(struct config_lexer *lx)
{
	size_t n = 0;
	int bad = 0;

	while (lx->pos < lx->len && !config_tree_is_continuation(lx)) {
		char ch = lx->buf[lx->pos];

		if (strchr(" \t\r\n\"{};#", ch) != NULL)
			break;
		lx->pos++;
		if (iscntrl((unsigned char)ch) && !bad) {
			config_tree_error(lx->d, lx->file, lx->tok_line,
			    "control character 0x%02x", (unsigned char)ch);
			bad = 1;
		}
		bad = config_tree_put(lx, &n, ch, "word", bad);
	}
	lx->text[n] = '\0';
	return bad ? CONFIG_TOK_ERROR : CONFIG_TOK_WORD;
}

/* config_tree_next - the next token; a pushed-back token is returned again */
static enum config_tok
config_tree_next(struct config_lexer *lx)
{
	if (lx->pushed) {
		lx->pushed = 0;
		return lx->tok;
	}
	for (;;) {
		char ch;

		lx->tok_line = lx->line;
		if (lx->pos >= lx->len)
			return lx->tok = CONFIG_TOK_EOF;
		ch = lx->buf[lx->pos];
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			lx->pos++;
		} else if (config_tree_is_continuation(lx)) {
			lx->pos = (char *)memchr(lx->buf + lx->pos, '\n', lx->len - lx->pos) -
			    lx->buf + 1;
			lx->line++;
		} else if (ch == '#') {
			while (lx->pos < lx->len && lx->buf[lx->pos] != '\n')
				lx->pos++;
		} else if (ch == '\n' || ch == ';') {
			lx->pos++;
			lx->line += ch == '\n';
			return lx->tok = CONFIG_TOK_NL;
		} else if (ch == '{' || ch == '}') {
			lx->pos++;
			return lx->tok = ch == '{' ? CONFIG_TOK_LBRACE : CONFIG_TOK_RBRACE;
		} else if (ch == '"') {
			lx->pos++;
			return lx->tok = config_tree_string(lx);
		} else {
			return lx->tok = config_tree_word(lx);
		}
	}
}

/* config_tree_push - return the current token again on the next call */
static void
config_tree_push(struct config_lexer *lx)
{
	lx->pushed = 1;
}

/* ---------------------------------------------------------------- reader */

/*
 * config_tree_skip_block - skip up to the "}" matching a "{" just read, by
 * counting braces (no recursion: the block may be nested arbitrarily deep).
 */
static void
config_tree_skip_block(struct config_lexer *lx, unsigned open_line)
{
	unsigned depth = 1;

	for (;;) {
		switch (config_tree_next(lx)) {
		case CONFIG_TOK_EOF:
			config_tree_error(lx->d, lx->file, open_line,
			    "block is not closed (missing \"}\")");
			config_tree_push(lx);
			return;
		case CONFIG_TOK_LBRACE:
			depth++;
			break;
		case CONFIG_TOK_RBRACE:
			if (--depth == 0)
				return;
			break;
		default:
			break;
		}
	}
}

/* config_tree_skip_statement - drop the rest of a statement after an error */
static void
config_tree_skip_statement(struct config_lexer *lx)
{
	for (;;) {
		switch (config_tree_next(lx)) {
		case CONFIG_TOK_EOF:
		case CONFIG_TOK_RBRACE:
			config_tree_push(lx);	/* ends the enclosing list too */
			return;
		case CONFIG_TOK_NL:
			return;
		case CONFIG_TOK_LBRACE:
			config_tree_skip_block(lx, lx->tok_line);
			break;
		default:
			break;
		}
	}
}

/* config_tree_add_arg - append the current token to a statement's arguments */
static int
config_tree_add_arg(struct config_lexer *lx, struct config_stmt *st)
{
	char **a;

	if (st->n_args == CONFIG_TREE_ARGS_MAX) {
		config_tree_error(lx->d, lx->file, lx->tok_line, "%s: more than %d arguments",
		    st->keyword, CONFIG_TREE_ARGS_MAX);
		return -E2BIG;
	}
	if ((a = reallocarray(st->args, st->n_args + 1, sizeof(*a))) == NULL)
		return -ENOMEM;
	st->args = a;
	if ((st->args[st->n_args] = strdup(lx->text)) == NULL)
		return -ENOMEM;
	st->n_args++;
	return 0;
}

/* config_tree_after_block - after "}" only the end of the statement may follow */
static int
config_tree_after_block(struct config_lexer *lx)
{
	enum config_tok t = config_tree_next(lx);

	if (t == CONFIG_TOK_NL)
		return 0;
	if (t == CONFIG_TOK_EOF || t == CONFIG_TOK_RBRACE) {
		config_tree_push(lx);
		return 0;
	}
	if (t == CONFIG_TOK_LBRACE)
		config_tree_error(lx->d, lx->file, lx->tok_line, "unexpected \"{\" after \"}\"");
	else if (t != CONFIG_TOK_ERROR)
		config_tree_error(lx->d, lx->file, lx->tok_line,
		    "unexpected \"%.64s\" after \"}\"", lx->text);
	if (t == CONFIG_TOK_LBRACE)
		config_tree_skip_block(lx, lx->tok_line);
	config_tree_skip_statement(lx);
	return -EINVAL;
}

/* config_tree_block - read the block of st after its "{" */
static int
config_tree_block(struct config_lexer *lx, int block_depth, struct config_stmt *st)
{
	int r;

	if (block_depth + 1 > CONFIG_TREE_DEPTH_MAX) {
		config_tree_error(lx->d, lx->file, lx->tok_line, "blocks nested more than %d deep",
		    CONFIG_TREE_DEPTH_MAX);
		config_tree_skip_block(lx, lx->tok_line);
		config_tree_skip_statement(lx);
		return 1;
	}
	st->has_block = 1;
	if ((r = config_tree_list(lx, block_depth + 1, st->line, &st->block)) != 0)
		return r;
	return config_tree_after_block(lx) < 0;
}

/*
 * config_tree_statement - read the arguments and block of a statement whose
 * keyword was just read. Returns 0 with *ret, which is NULL when the
 * statement had an error (reported) and was dropped; or -ENOMEM.
 */
static int
config_tree_statement(struct config_lexer *lx, int block_depth, struct config_stmt **ret)
{
	struct config_stmt *st;
	int r = 0, bad = 0;

	*ret = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL || (st->keyword = strdup(lx->text)) == NULL) {
		free(st);
		return -ENOMEM;
	}
	st->file = lx->file;
	st->line = lx->tok_line;
	for (;;) {
		enum config_tok t = config_tree_next(lx);

		if (t == CONFIG_TOK_WORD || t == CONFIG_TOK_STRING) {
			if (!bad && (r = config_tree_add_arg(lx, st)) == -ENOMEM)
				break;
			bad |= r < 0;
		} else if (t == CONFIG_TOK_ERROR) {
			bad = 1;
		} else if (t == CONFIG_TOK_LBRACE) {
			if ((r = config_tree_block(lx, block_depth, st)) < 0)
				break;
			bad |= r > 0;
			r = 0;
			break;
		} else {
			if (t != CONFIG_TOK_NL)
				config_tree_push(lx); /* EOF or "}": list ends too */
			break;
		}
	}
	if (r < 0 || bad) {
		config_tree_free(st);
		return r == -ENOMEM ? r : 0;
	}
	*ret = st;
	return 0;
}

/* config_tree_join - resolve an include path against the including file */
static char *
config_tree_join(const char *from, const char *path)
{
	const char *slash = strrchr(from, '/');
	char *r;

	if (path[0] == '/' || slash == NULL)
		return strdup(path);
	if (asprintf(&r, "%.*s/%s", (int)(slash - from), from, path) < 0)
		return NULL;
	return r;
}

/* config_tree_read_file - read a whole (bounded) file into memory */
int
config_tree_read_file(const char *path, char **ret_buf, size_t *ret_len)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -errno;
	if (fstat(fd, &sb) < 0)
		r = -errno;
	else if (S_ISDIR(sb.st_mode))
		r = -EISDIR;
	else if (sb.st_size > CONFIG_TREE_FILE_MAX)
		r = -EFBIG;
	else if ((buf = malloc(CONFIG_TREE_FILE_MAX + 1)) == NULL)
		r = -ENOMEM;
	while (r == 0) {
		ssize_t n = read(fd, buf + len, CONFIG_TREE_FILE_MAX + 1 - len);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n == 0)
			break;
		else if (n > 0 && (len += (size_t)n) > CONFIG_TREE_FILE_MAX)
			r = -EFBIG;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* config_tree_strerror - the reason a file could not be read, in words */
const char *
config_tree_strerror(int r)
{
	if (r == -EFBIG)
		return "larger than 1 MiB, not a configuration file";
	return strerror(-r);
}

static int config_tree_file(struct config_diag *d, const char *name, const char *text,
    size_t len, int depth, config_stmt_fn fn, void *ud);

/* config_tree_include - read an included file's statements in place */
static int
config_tree_include(struct config_lexer *lx, const struct config_stmt *st)
{
	char *path, *buf;
	size_t len;
	int r;

	if (st->n_args != 1 || st->has_block || st->args[0][0] == '\0') {
		config_tree_error(lx->d, st->file, st->line, "include: %s",
		    st->has_block ? "does not take a block" : "expected one file name");
		return 0;
	}
	if (lx->depth + 1 > CONFIG_TREE_DEPTH_MAX) {
		config_tree_error(lx->d, st->file, st->line,
		    "include: nested more than %d deep (does a file include itself?)",
		    CONFIG_TREE_DEPTH_MAX);
		return 0;
	}
	if ((path = config_tree_join(st->file, st->args[0])) == NULL)
		return -ENOMEM;
	r = config_tree_read_file(path, &buf, &len);
	if (r < 0 && r != -ENOMEM) {
		config_tree_error(lx->d, st->file, st->line, "include: %s: cannot open: %s", path,
		    config_tree_strerror(r));
		r = 0;
	} else if (r == 0) {
		r = config_tree_file(lx->d, path, buf, len, lx->depth + 1, lx->fn, lx->ud);
		free(buf);
	}
	free(path);
	return r;
}

/* config_tree_top - a complete top-level statement: include it, or hand it on */
static int
config_tree_top(struct config_lexer *lx, struct config_stmt *st)
{
	if (strcmp(st->keyword, "include") == 0)
		return config_tree_include(lx, st);
	return lx->fn(lx->ud, st);
}

/*
 * config_tree_list - read statements up to the end of the file (block_depth
 * 0: each goes to fn() and is freed) or up to the "}" closing a block opened
 * on block_line (they are linked at *ret_list). Returns 0; 1 when the block
 * is not closed (reported); < 0 to abort.
 */
static int
config_tree_list(struct config_lexer *lx, int block_depth, unsigned block_line,
    struct config_stmt **ret_list)
{
	struct config_stmt *st, **tail = ret_list;
	int r;

	for (;;) {
		switch (config_tree_next(lx)) {
		case CONFIG_TOK_NL:
			break;
		case CONFIG_TOK_EOF:
			if (block_depth == 0)
				return 0;
			config_tree_push(lx);
			config_tree_error(lx->d, lx->file, block_line,
			    "block is not closed (missing \"}\")");
			return 1;
		case CONFIG_TOK_RBRACE:
			if (block_depth > 0)
				return 0;
			config_tree_error(lx->d, lx->file, lx->tok_line, "unexpected \"}\"");
			break;
		case CONFIG_TOK_LBRACE:
			config_tree_error(lx->d, lx->file, lx->tok_line,
			    "unexpected \"{\" (a block opens on the line of its statement)");
			config_tree_skip_block(lx, lx->tok_line);
			break;
		case CONFIG_TOK_STRING:
			config_tree_error(lx->d, lx->file, lx->tok_line,
			    "expected a keyword, got the string \"%.64s\"", lx->text);
			config_tree_skip_statement(lx);
			break;
		case CONFIG_TOK_ERROR:
			config_tree_skip_statement(lx);
			break;
		case CONFIG_TOK_WORD:
			if ((r = config_tree_statement(lx, block_depth, &st)) < 0)
				return r;
			if (st == NULL)
				break;
			if (block_depth > 0 && strcmp(st->keyword, "include") == 0) {
				config_tree_error(lx->d, st->file, st->line,
				    "include: only allowed at the top level");
				config_tree_free(st);
			} else if (block_depth > 0) {
				*tail = st;
				tail = &st->next;
			} else {
				r = config_tree_top(lx, st);
				config_tree_free(st);
				if (r < 0)
					return r;
			}
			break;
		}
	}
}

/* config_tree_file - read one file's text at an include depth */
static int
config_tree_file(struct config_diag *d, const char *name, const char *text, size_t len,
    int depth, config_stmt_fn fn, void *ud)
{
	struct config_lexer *lx;
	const char *nul;
	int r;

	if ((name = config_tree_remember(d, name)) == NULL)
		return -ENOMEM;
	if ((nul = memchr(text, '\0', len)) != NULL) {
		unsigned line = 1;

		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		config_tree_error(d, name, line, "NUL byte: not a text file");
		return 0;
	}
	if ((lx = calloc(1, sizeof(*lx))) == NULL)
		return -ENOMEM;
	*lx = (struct config_lexer){ .d = d, .fn = fn, .ud = ud, .file = name, .buf = text,
	    .len = len, .line = 1, .depth = depth };
	r = config_tree_list(lx, 0, 0, NULL);
	free(lx);
	return r;
}

int
config_tree_parse(struct config_diag *d, const char *name, const char *text, size_t len,
    config_stmt_fn fn, void *ud)
{
	return config_tree_file(d, name, text, len, 0, fn, ud);
}
