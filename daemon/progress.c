/*
 * NAME
 *	progress - a one-line progress display for long one-shot commands
 * SYNOPSIS
 *	#include "progress.h"
 * DESCRIPTION
 *	See progress.h. The line is kept under 80 columns: the file name is
 *	shortened to its last PROGRESS_NAME_MAX bytes. Rates are averages since
 *	the start (of the run for lines/s, of the file for the ETA): steadier
 *	than a sliding window and right for a read that goes at one pace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "progress.h"

/* Longest file name shown; the rest of the line needs ~55 columns. */
#define PROGRESS_NAME_MAX	24

struct progress {
	FILE *f;
	int enabled;
	int drawn;		/* something is on the line */
	int64_t start_usec;	/* progress_new() */
	int64_t file_usec;	/* progress_file() */
	int64_t last_usec;	/* last redraw */
	char name[PROGRESS_NAME_MAX + 4];
	unsigned index, count;
	uint64_t total_bytes;
};

static void progress_draw(struct progress *p, uint64_t lines, uint64_t done_bytes, int64_t now);

/* progress_new - a display on f; draws nothing unless enabled */
struct progress *
progress_new(FILE *f, int enabled)
{
	struct progress *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->f = f;
	p->enabled = enabled;
	p->start_usec = p->file_usec = clock_mono_usec();
	return p;
}

/* progress_free - clear the line and free */
struct progress *
progress_free(struct progress *p)
{
	if (p == NULL)
		return NULL;
	progress_clear(p);
	free(p);
	return NULL;
}

/* progress_file - a new file starts: name, n-th of count, its size (0 = unknown) */
void
progress_file(struct progress *p, const char *name, unsigned index, unsigned count,
    uint64_t total_bytes)
{
	size_t len = strlen(name);

	if (len > PROGRESS_NAME_MAX)
		snprintf(p->name, sizeof(p->name), "...%s", name + len - (PROGRESS_NAME_MAX - 3));
	else
		snprintf(p->name, sizeof(p->name), "%s", name);
	p->index = index;
	p->count = count;
	p->total_bytes = total_bytes;
	p->file_usec = clock_mono_usec();
	p->last_usec = 0;	/* draw the new name at the next update */
}

/* progress_update - redraw if the last redraw is 1/PROGRESS_HZ s old */
void
progress_update(struct progress *p, uint64_t lines, uint64_t done_bytes)
{
	int64_t now;

	if (!p->enabled)
		return;
	now = clock_mono_usec();
	if (p->last_usec != 0 && now - p->last_usec < 1000000 / PROGRESS_HZ)
		return;
	p->last_usec = now;
	progress_draw(p, lines, done_bytes, now);
}

/* progress_clear - erase the line (before other output) */
void
progress_clear(struct progress *p)
{
	if (!p->enabled || !p->drawn)
		return;
	fputs("\r\033[K", p->f);
	fflush(p->f);
	p->drawn = 0;
	p->last_usec = 0;
}

/* progress_hms - "h:mm:ss" or "m:ss" */
const char *
progress_hms(double seconds, char *buf, size_t size)
{
	unsigned long s = seconds < 0 ? 0 : (unsigned long)(seconds + 0.5);

	if (s >= 3600)
		snprintf(buf, size, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%lu:%02lu", s / 60, s % 60);
	return buf;
}

/* progress_draw - one line: [i/n] name  pct  lines  lines/s  ETA */
static void
progress_draw(struct progress *p, uint64_t lines, uint64_t done_bytes, int64_t now)
{
	double run = (double)(now - p->start_usec) / 1e6;
	double file = (double)(now - p->file_usec) / 1e6;
	char pct[8] = "", eta[32] = "", hms[16];

	if (p->total_bytes > 0) {
		if (done_bytes > p->total_bytes)
			done_bytes = p->total_bytes;
		snprintf(pct, sizeof(pct), "%3u%%",
		    (unsigned)(done_bytes * 100 / p->total_bytes));
		if (done_bytes > 0 && file > 0.5)
			snprintf(eta, sizeof(eta), "  ETA %s", progress_hms(
			    (double)(p->total_bytes - done_bytes) * file / (double)done_bytes,
			    hms, sizeof(hms)));
	}
	fprintf(p->f, "\r[%u/%u] %s  %s  %llu lines  %.0f lines/s%s\033[K", p->index, p->count,
	    p->name, pct, (unsigned long long)lines, run > 0 ? (double)lines / run : 0.0, eta);
	fflush(p->f);
	p->drawn = 1;
}
