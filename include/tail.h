/*
 * NAME
 *	tail - follow a log file like tail -F, on inotify through sd-event
 * SYNOPSIS
 *	#include "tail.h"
 *
 *	int tail_new(sd_event *e, const char *path, const struct tail_ops *ops,
 *	    void *ud, struct tail **ret);
 *	struct tail *tail_free(struct tail *t);
 *	int tail_rewind(struct tail *t, uint64_t offset);
 *	int tail_pause(struct tail *t, int paused);
 *	int tail_poll(struct tail *t);
 * DESCRIPTION
 *	Follows `path` across its life: it may not exist yet (the parent
 *	directory is watched), be renamed away by rotation (the old file is
 *	read to its end before switching to the new one), be truncated in place
 *	(copytruncate: reading restarts at 0), be deleted, or end in a partial
 *	line (held until its newline arrives). No busy polling: inotify on the
 *	file and on its directory wake the loop.
 *
 *	A file is known by its identity (source_fingerprint() of its first
 *	line). As soon as the first line of a newly opened file is complete,
 *	ops->identity() is called with the key, and returns in *ret_offset
 *	where reading must start: a stored position, 0 for a file that
 *	appeared after start-up, or the end (MX_TAIL_END) for the first file
 *	of a new input that starts at its end. `initial` tells which case it
 *	is (1 for the file found at tail_new()).
 *
 *	Complete lines go to ops->line() NUL-terminated, without the newline,
 *	with end_offset = the offset just past the newline. Lines longer than
 *	MX_LINE_MAX are not delivered: ops->oversized() is called once for each
 *	with its end offset.
 *
 *	tail_rewind() re-reads the current file from offset (after a failed
 *	commit). tail_pause() stops reading (inotify events are remembered)
 *	until resumed. tail_poll() reads whatever is available now (used at
 *	start-up and by tests without an event loop).
 * RETURNS
 *	-errno on failure; callbacks returning < 0 stop delivery for this round.
 */
#ifndef MX_TAIL_H
#define MX_TAIL_H

#include <stdint.h>

#include <systemd/sd-event.h>

#define MX_TAIL_END	UINT64_MAX

struct tail;

struct tail_ops {
	int (*identity)(void *ud, struct tail *t, const char *key, const char *path, int initial,
	    uint64_t *ret_offset);
	int (*line)(void *ud, struct tail *t, char *line, size_t len, uint64_t end_offset);
	void (*oversized)(void *ud, struct tail *t, uint64_t end_offset);
	/* optional: information for logs/metrics ("rotated", "truncated", "deleted") */
	void (*notice)(void *ud, struct tail *t, const char *what);
};

int tail_new(sd_event *e, const char *path, const struct tail_ops *ops, void *ud,
    struct tail **ret);
struct tail *tail_free(struct tail *t);
int tail_rewind(struct tail *t, uint64_t offset);
int tail_pause(struct tail *t, int paused);
int tail_poll(struct tail *t);
const char *tail_path(const struct tail *t);

#endif
