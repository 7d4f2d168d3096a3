/*
 * NAME
 *	reader - read a whole log file (plain or gzip) line by line
 * SYNOPSIS
 *	#include "reader.h"
 * DESCRIPTION
 *	See reader.h. One buffer of READER_BUF + MX_LINE_MAX bytes: lines are
 *	handed out in place; a partial line at the end of the buffer is moved
 *	to the front before the next read. An over-long line is skipped up to
 *	its newline without growing the buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "event.h"
#include "reader.h"

#define READER_BUF	(256 * 1024)

struct reader {
	gzFile gz;
	int fd;
	int eof;
	int skipping;		/* inside an over-long line */
	uint64_t offset;	/* decompressed bytes consumed up to `start` */
	int64_t mtime_usec;
	uint64_t size;
	char *buf;
	size_t start, end;	/* unconsumed bytes are buf[start..end) */
};

int
reader_open(const char *path, struct reader **ret)
{
	struct reader *r;
	struct stat sb;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = dup(STDIN_FILENO);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->buf = malloc(READER_BUF + MX_LINE_MAX + 1)) == NULL) {
		free(r);
		close(fd);
		return -ENOMEM;
	}
	if (fstat(fd, &sb) == 0) {
		r->mtime_usec = (int64_t)sb.st_mtim.tv_sec * 1000000 + sb.st_mtim.tv_nsec / 1000;
		r->size = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
	}
	r->fd = fd;
	r->gz = gzdopen(fd, "rb");
	if (r->gz == NULL) {
		close(fd);
		free(r->buf);
		free(r);
		return -ENOMEM;
	}
	gzbuffer(r->gz, 128 * 1024);
	*ret = r;
	return 0;
}

struct reader *
reader_free(struct reader *r)
{
	if (r == NULL)
		return NULL;
	gzclose(r->gz);	/* closes fd */
	free(r->buf);
	free(r);
	return NULL;
}

/* reader_fill - compact and read more; 0 at EOF, >0 bytes read, -errno */
static int
reader_fill(struct reader *r)
{
	int n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->eof || r->end >= READER_BUF + MX_LINE_MAX)
		return 0;
	n = gzread(r->gz, r->buf + r->end, (unsigned)(READER_BUF + MX_LINE_MAX - r->end));
	if (n < 0) {
		int errnum;

		gzerror(r->gz, &errnum);
		return errnum == Z_ERRNO ? -errno : -EIO;
	}
	if (n == 0) {
		int errnum;

		/* a gzip stream cut short ends in Z_BUF_ERROR, not a clean EOF */
		gzerror(r->gz, &errnum);
		if (errnum != Z_OK)
			return -EIO;
		r->eof = 1;
	}
	r->end += (size_t)n;
	return n;
}

int
reader_next(struct reader *r, char **ret_line, size_t *ret_len, uint64_t *ret_end_offset)
{
	for (;;) {
		char *s = r->buf + r->start, *nl;
		size_t avail = r->end - r->start, len;
		int n;

		nl = memchr(s, '\n', avail);
		if (nl != NULL) {
			len = (size_t)(nl - s);
			r->start += len + 1;
			r->offset += len + 1;
			if (r->skipping || len > MX_LINE_MAX) {
				r->skipping = 0;
				*ret_line = NULL;
				*ret_len = 0;
				*ret_end_offset = r->offset;
				return 2;
			}
			if (len > 0 && s[len - 1] == '\r')
				len--;
			s[len] = '\0';
			*ret_line = s;
			*ret_len = len;
			*ret_end_offset = r->offset;
			return 1;
		}
		if (avail > MX_LINE_MAX) {
			/* over-long: drop what we have, remember to skip to the newline */
			r->offset += avail;
			r->start = r->end;
			r->skipping = 1;
		}
		n = reader_fill(r);
		if (n < 0)
			return n;
		if (n > 0)
			continue;
		/* end of file: a last line without newline */
		s = r->buf + r->start;
		avail = r->end - r->start;
		if (avail == 0 && !r->skipping)
			return 0;
		r->start = r->end;
		r->offset += avail;
		*ret_end_offset = r->offset;
		if (r->skipping) {
			r->skipping = 0;
			*ret_line = NULL;
			*ret_len = 0;
			return 2;
		}
		if (avail > 0 && s[avail - 1] == '\r')
			avail--;
		s[avail] = '\0';
		*ret_line = s;
		*ret_len = avail;
		return 1;
	}
}

int64_t
reader_mtime_usec(const struct reader *r)
{
	return r->mtime_usec;
}

int
reader_progress(const struct reader *r, uint64_t *ret_done, uint64_t *ret_total)
{
	z_off_t off = gzoffset(r->gz);

	*ret_done = off < 0 ? 0 : (uint64_t)off;
	*ret_total = r->size;
	return 0;
}
