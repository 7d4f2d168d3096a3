/*
 * NAME
 *	reader - read a whole log file (plain or gzip) line by line
 * SYNOPSIS
 *	#include "reader.h"
 *
 *	int reader_open(const char *path, struct reader **ret);
 *	struct reader *reader_free(struct reader *r);
 *	int reader_next(struct reader *r, char **ret_line, size_t *ret_len,
 *	    uint64_t *ret_end_offset);
 *	int64_t reader_mtime_usec(const struct reader *r);
 *	int reader_progress(const struct reader *r, uint64_t *ret_done, uint64_t *ret_total);
 * DESCRIPTION
 *	For the one-shot commands (parse, ingest); the daemon follows files
 *	with tail.c instead. zlib reads plain and gzip files alike; "-" is
 *	standard input. Offsets count bytes of the decompressed stream, so a
 *	file and its gzip'ed copy have the same positions.
 *
 *	reader_next() hands out the next line, NUL-terminated, without its
 *	newline ("\r\n" loses the "\r"). The buffer is reused by the next
 *	call. A line longer than MX_LINE_MAX is not handed out: reader_next()
 *	returns 2 with *ret_line = NULL and the offset past it, once per such
 *	line. A last line without a newline is handed out at end of file.
 * RETURNS
 *	1 a line, 2 an oversized line skipped, 0 end of file, -errno on a read
 *	error (a corrupt gzip stream gives -EIO).
 */
#ifndef MX_READER_H
#define MX_READER_H

#include <stddef.h>
#include <stdint.h>

struct reader;

int reader_open(const char *path, struct reader **ret);
struct reader *reader_free(struct reader *r);
int reader_next(struct reader *r, char **ret_line, size_t *ret_len, uint64_t *ret_end_offset);
int64_t reader_mtime_usec(const struct reader *r);
/* compressed bytes read so far and the file size (0 when unknown, e.g. a pipe) */
int reader_progress(const struct reader *r, uint64_t *ret_done, uint64_t *ret_total);

#endif
