/*
 * NAME
 *	progress - a one-line progress display for long one-shot commands
 * SYNOPSIS
 *	#include "progress.h"
 *
 *	struct progress *progress_new(FILE *f, int enabled);
 *	struct progress *progress_free(struct progress *p);
 *	void progress_file(struct progress *p, const char *name, unsigned index,
 *	    unsigned count, uint64_t total_bytes);
 *	void progress_update(struct progress *p, uint64_t lines, uint64_t done_bytes);
 *	void progress_clear(struct progress *p);
 * DESCRIPTION
 *	Draws "[2/5] mail.log.2.gz  45%  123456 lines  98765 lines/s  ETA 0:12"
 *	on f, overwriting itself with "\r" and erasing the rest of the line.
 *	Nothing is drawn unless `enabled` (the caller passes isatty() && !quiet),
 *	so callers call it unconditionally.
 *
 *	progress_file() starts a new file: name, its position in the list and
 *	its size in bytes as read (compressed size for gzip; 0 = unknown, e.g.
 *	a pipe: then no percentage and no ETA). progress_update() is cheap to
 *	call often: it redraws at most PROGRESS_HZ times a second (monotonic
 *	clock from clock.c). `lines` counts from the start of the run, so the
 *	rate is lines per second since progress_new(); the percentage and ETA
 *	are those of the current file, from done_bytes (bytes of the file
 *	consumed so far) and the byte rate of this file.
 *
 *	progress_clear() erases the line, so that an error message or the
 *	final summary starts on a clean line; the next update draws again.
 * OWNERSHIP
 *	progress_free(NULL) is a no-op; it clears the line first.
 */
#ifndef MX_PROGRESS_H
#define MX_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

/* Redraws per second at most: smooth enough to watch, cheap on a slow terminal. */
#define PROGRESS_HZ	10

struct progress;

struct progress *progress_new(FILE *f, int enabled);
struct progress *progress_free(struct progress *p);
void progress_file(struct progress *p, const char *name, unsigned index, unsigned count,
    uint64_t total_bytes);
void progress_update(struct progress *p, uint64_t lines, uint64_t done_bytes);
void progress_clear(struct progress *p);
/* Format a duration in seconds as "1:02:03" / "2:03" into buf; returns buf. */
const char *progress_hms(double seconds, char *buf, size_t size);

#endif
