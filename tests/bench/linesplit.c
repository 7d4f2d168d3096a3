/*
 * NAME
 *	linesplit - the benchmark baseline: read a file and split it into lines
 * SYNOPSIS
 *	linesplit FILE
 * DESCRIPTION
 *	Reads FILE with read(2) into a 1 MiB buffer and finds every newline
 *	with memchr(3), touching each line (its length and first byte) so the
 *	work cannot be optimised away. Prints "LINES BYTES CHECKSUM". This is
 *	the least any log parser must do; bench.sh reports mxledger's speed as
 *	a fraction of it.
 * RETURNS
 *	0, or 1 when FILE cannot be read.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BUF	(1 << 20)

static char buf[BUF];

int
main(int argc, char **argv)
{
	uint64_t lines = 0, bytes = 0, sum = 0;
	size_t have = 0;
	ssize_t n;
	int fd;

	if (argc != 2 || (fd = open(argv[1], O_RDONLY)) < 0) {
		fprintf(stderr, "usage: linesplit FILE\n");
		return 1;
	}
	while ((n = read(fd, buf + have, BUF - have)) > 0) {
		char *p = buf, *end = buf + have + n, *nl;

		bytes += (uint64_t)n;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			sum += (uint64_t)(nl - p) + (unsigned char)*p;
			lines++;
			p = nl + 1;
		}
		have = (size_t)(end - p);
		if (have == BUF)	/* a line longer than the buffer: count it as is */
			have = 0;
		memmove(buf, p, have);
	}
	close(fd);
	if (n < 0) {
		perror("read");
		return 1;
	}
	printf("%llu %llu %llu\n", (unsigned long long)lines, (unsigned long long)bytes,
	    (unsigned long long)sum);
	return 0;
}
