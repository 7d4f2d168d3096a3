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
 *	is (1 for the file found at tail_new()). An empty first line is keyed
 *	by its terminator ("\n" or "\r\n"). MX_TAIL_END means just after
 *	the last complete line the file held when it was opened; an offset past
 *	the file's size is taken as a truncation (reading starts at 0).
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
 *
 *	Restart after a rotation while we were down: the optional
 *	ops->previous() returns the last identity stored for this input (1,
 *	key in ret_key) or 0 when none. If the file at `path` does not have that
 *	identity, a rotated sibling in the same directory (a name that starts
 *	with the basename, mail.log.1, mail.log-20261122, but not a compressed
 *	.gz/.bz2/.xz/.zst/.lz4/.lzma/.Z) whose identity is that key is read
 *	first, through identity(..., initial=1, ...); the file at `path` comes
 *	next as a file that appeared after start-up (initial=0). Only one
 *	rotation while down is bridged this way.
 *
 *	Switching files. A file renamed away is read to its end; the file that
 *	then appears at `path` is taken once its first line is complete (or at
 *	once if the old file was deleted), and ops->identity() for the new file
 *	is called only after the last line of the old one was delivered. If it
 *	fails, the old file stays current (tail_rewind() still applies to it)
 *	and the switch is retried. A last line without a newline in a file
 *	we leave (rotated, deleted, truncated) is delivered as it is.
 *	A file shorter than our offset, or whose first line changed, was
 *	truncated in place (copytruncate) and is read again from 0 under its
 *	new identity; lines written to it after our last read and before the
 *	truncation are not seen here (they are in the copy). Likewise, lines
 *	the writer still appends to a renamed file after we switched to the new
 *	one are lost: writers reopen right after rotation, before writing the
 *	first line of the new file, which is what makes us switch.
 *
 *	Wake-ups: inotify on the file (IN_MODIFY, IN_MOVE_SELF, IN_DELETE_SELF,
 *	IN_ATTRIB) and on its directory (creation and renames of the name), and
 *	a re-check every TAIL_RECHECK_USEC for what inotify misses (NFS, queue
 *	overflow). Each round reads at most TAIL_ROUND_BYTES, then yields to
 *	the loop (a defer source), so a large backlog does not starve others.
 *	With e == NULL there are no event sources: only tail_poll() reads.
 * RETURNS
 *	-errno on failure; callbacks returning < 0 stop delivery for this round:
 *	a line whose ops->line() failed is delivered again at the next round
 *	(the next wake-up, tail_poll(), tail_pause(t, 0) or tail_rewind(),
 *	which all schedule one); an identity() that failed is asked again at
 *	the next round.
 *	tail_poll() returns the number of lines delivered (-EBUSY from inside
 *	a callback). tail_rewind() returns -ESRCH when no file is current.
 * OWNERSHIP
 *	tail_free() may be called from inside a callback: the tail is released
 *	when the callback returns, and no callback runs after it.
 */
#ifndef MX_TAIL_H
#define MX_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#define MX_TAIL_END	UINT64_MAX

/* Bytes read per round before yielding to the loop. */
#define TAIL_ROUND_BYTES	(1024 * 1024)
/* Safety re-check period: catches events inotify misses (NFS, IN_Q_OVERFLOW). */
#define TAIL_RECHECK_USEC	(5 * 1000000ULL)

struct tail;

struct tail_ops {
	int (*identity)(void *ud, struct tail *t, const char *key, const char *path, int initial,
	    uint64_t *ret_offset);
	int (*line)(void *ud, struct tail *t, char *line, size_t len, uint64_t end_offset);
	void (*oversized)(void *ud, struct tail *t, uint64_t end_offset);
	/* optional: information for logs/metrics ("rotated", "truncated", "deleted") */
	void (*notice)(void *ud, struct tail *t, const char *what);
	/* optional: the identity last stored for this input; 1 and ret_key filled, or 0 */
	int (*previous)(void *ud, struct tail *t, char *ret_key, size_t size);
};

int tail_new(sd_event *e, const char *path, const struct tail_ops *ops, void *ud,
    struct tail **ret);
struct tail *tail_free(struct tail *t);
int tail_rewind(struct tail *t, uint64_t offset);
int tail_pause(struct tail *t, int paused);
int tail_poll(struct tail *t);
const char *tail_path(const struct tail *t);

#endif
