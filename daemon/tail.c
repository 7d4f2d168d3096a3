/*
 * NAME
 *	tail - follow a log file like tail -F, on inotify through sd-event
 * SYNOPSIS
 *	#include "tail.h"
 *
 *	r = tail_new(e, "/var/log/mail.log", &ops, ud, &t);
 *	... sd_event_loop(e) ...
 *	t = tail_free(t);
 * DESCRIPTION
 *	A struct tail holds at most two open files: cur, the one whose lines
 *	are being delivered, and next, the file that now sits at `path` after
 *	cur was renamed away or replaced. Everything happens in a round
 *	(tail_round()), run from a defer source that inotify events, the
 *	re-check timer, tail_rewind() and tail_pause(t, 0) enable. A round does
 *	not interpret inotify events: it looks at the files as they are, so a
 *	lost or coalesced event costs nothing but latency. One step of a round:
 *
 *	    cur not identified -> read its first line, ask ops->identity()
 *	    cur truncated      -> deliver what is held, identify it again at 0
 *	    read cur to EOF (at most the round's budget), delivering lines
 *	    at EOF, look at `path`:
 *		same file      -> done until the next wake-up
 *		nothing there  -> cur deleted (no links left): leave it; else wait
 *		another file   -> once its first line is complete: identify it,
 *				  leave cur, it becomes cur (from its start offset)
 *
 *	Identity is source_fingerprint() of the first line, computed from the
 *	first MX_FINGERPRINT_MAX bytes kept in f->head; the same bytes are
 *	compared again at each round to notice a file truncated and rewritten
 *	past our offset between two rounds.
 *
 *	Callbacks may call tail_rewind(), tail_pause() and tail_free() on the
 *	tail they are called for: t->gen, t->paused and t->dead are looked at
 *	after each one, and the real free waits until the round unwinds.
 * SEE ALSO
 *	tail.h (the contract), linebuf.h, ingest.h (source_fingerprint),
 *	tests/check_tail.c, tests/tail_rotation.sh
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "ingest.h"
#include "linebuf.h"
#include "log.h"
#include "store.h"
#include "tail.h"

#define TAIL_FILE_MASK	(IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB)
#define TAIL_DIR_MASK	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)
#define TAIL_RECHECK_ACCURACY	(1000000ULL)
/* The first line as kept for the fingerprint and the truncation check (+ "\r\n"). */
#define TAIL_HEAD_MAX	(MX_FINGERPRINT_MAX + 2)
/* pread() size while looking for the first line or the last one before the end. */
#define TAIL_SCAN_CHUNK	(16 * 1024)
/* MX_TAIL_END looks this far back for the last newline; further means an oversized line. */
#define TAIL_END_WINDOW	((uint64_t)MX_LINE_MAX + 2)
/* File switches per round: more means something keeps changing; the next round goes on. */
#define TAIL_ROUND_STEPS	8
/* tail_poll() without a loop: at most this many rounds (of TAIL_ROUND_BYTES) per call. */
#define TAIL_POLL_ROUNDS	1024
/* Start-up search for a rotated sibling: directory entries read, candidates opened. */
#define TAIL_DIRENTS_MAX	4096
#define TAIL_SIBLINGS_MAX	64

/* Step results; errors are -errno. */
enum {
	TAIL_SETTLED = 0,	/* nothing more to do until a wake-up */
	TAIL_AGAIN,		/* state changed: take another step */
	TAIL_BUDGET,		/* this round's bytes are used up: yield, then go on */
	TAIL_STOP,		/* a callback paused, rewound or freed us */
};

struct tail_file {
	int fd;
	dev_t dev;
	ino_t ino;
	char *path;		/* `path`, or a rotated sibling's */
	sd_event_source *watch;
	int initial;		/* passed to ops->identity() */
	int draining;		/* rotated sibling: read to its end, then back to `path` */
	uint64_t size_at_open;	/* MX_TAIL_END is the last line boundary before this */
	int64_t mtime_usec;
	char head[TAIL_HEAD_MAX];
	size_t head_len;
	uint64_t scanned;	/* bytes of the first line looked at so far */
	char last;		/* the last of them (a '\r' before the '\n'?) */
	int keyed;		/* the first line is complete and key is set */
	uint64_t first_end;	/* offset just past the first '\n' */
	char key[MX_POSITION_KEY_MAX];
	int accepted;		/* ops->identity() said where to start */
	uint64_t start;
	int start_skip;		/* start is inside a line: skip to its end */
};

struct tail {
	sd_event *e;
	char *path, *dir;
	const char *base;	/* points into path */
	const struct tail_ops *ops;
	void *ud;
	struct linebuf *lb;
	struct tail_file *cur, *next;
	sd_event_source *dir_watch, *defer, *timer;
	int dir_lost;		/* the directory watch went away (IN_IGNORED) */
	int started;		/* ops->previous() was asked */
	int paused, pending;
	int kick;		/* a round is wanted */
	int busy, dead;
	unsigned gen;		/* bumped by tail_rewind() */
	uint64_t delivered;	/* lines, for tail_poll() */
	int last_errno;		/* last I/O error logged, to log each once */
};

static struct tail_file *tail_file_free(struct tail_file *f);

/* tail_syserr - an I/O error on path: log it once (until it changes), return -errno */
static int
tail_syserr(struct tail *t, const char *path, const char *what, int err)
{
	if (err != t->last_errno)
		log_warning("tail: \"%.200s\": %s failed: %s, will retry", path, what,
		    strerror(err));
	t->last_errno = err;
	return -err;
}

/* tail_notice - tell the caller what happened to the file */
static void
tail_notice(struct tail *t, const char *what)
{
	if (t->ops->notice != NULL)
		t->ops->notice(t->ud, t, what);
}

/* tail_schedule - ask for a round at the next loop iteration */
static void
tail_schedule(struct tail *t)
{
	t->kick = 1;
	if (t->defer != NULL)
		(void)sd_event_source_set_enabled(t->defer, SD_EVENT_ONESHOT);
}

/* tail_on_file - inotify on the followed file(s): something changed */
static int
tail_on_file(sd_event_source *s, const struct inotify_event *ev, void *ud)
{
	tail_schedule(ud);
	return 0;
}

/* tail_on_dir - inotify on the directory: only our name matters */
static int
tail_on_dir(sd_event_source *s, const struct inotify_event *ev, void *ud)
{
	struct tail *t = ud;

	if (ev->mask & IN_IGNORED)
		t->dir_lost = 1;
	if ((ev->mask & (IN_Q_OVERFLOW | IN_IGNORED)) ||
	    (ev->len > 0 && strcmp(ev->name, t->base) == 0))
		tail_schedule(t);
	return 0;
}

/* tail_on_timer - the slow safety re-check */
static int
tail_on_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)sd_event_source_set_time_relative(s, TAIL_RECHECK_USEC);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	tail_schedule(ud);
	return 0;
}

/* tail_watch_dir - (re)install the directory watch; a missing directory is retried later */
static void
tail_watch_dir(struct tail *t)
{
	if (t->e == NULL)
		return;
	if (t->dir_lost) {
		t->dir_watch = sd_event_source_disable_unref(t->dir_watch);
		t->dir_lost = 0;
	}
	if (t->dir_watch == NULL)
		(void)sd_event_add_inotify(t->e, &t->dir_watch, t->dir, TAIL_DIR_MASK,
		    tail_on_dir, t);
}

/* tail_file_open - open path (no reading yet); -ENOENT when there is nothing */
static int
tail_file_open(struct tail *t, const char *path, int initial, int watch,
    struct tail_file **ret)
{
	struct tail_file *f;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int r = S_ISREG(st.st_mode) ? -errno : -EINVAL;

		close(fd);
		return r;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->path = strdup(path)) == NULL) {
		free(f);
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->initial = initial;
	f->size_at_open = (uint64_t)st.st_size;
	f->mtime_usec = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
	/* Without a watch (inotify limits) the re-check timer still finds changes. */
	if (watch && t->e != NULL)
		(void)sd_event_add_inotify_fd(t->e, &f->watch, fd, TAIL_FILE_MASK, tail_on_file,
		    t);
	*ret = f;
	return 0;
}

/* tail_file_free - close f; returns NULL */
static struct tail_file *
tail_file_free(struct tail_file *f)
{
	if (f == NULL)
		return NULL;
	sd_event_source_disable_unref(f->watch);
	close(f->fd);
	free(f->path);
	free(f);
	return NULL;
}

/* tail_file_forget - f was truncated: identify it again from its start */
static void
tail_file_forget(struct tail_file *f, uint64_t size)
{
	f->keyed = f->accepted = 0;
	f->head_len = 0;
	f->scanned = 0;
	f->initial = 0;
	f->size_at_open = size;
}

/* tail_file_key - the first line is complete: compute its key */
static int
tail_file_key(struct tail_file *f, char before_nl)
{
	uint64_t len = f->first_end - 1;
	int r;

	if (len > 0 && before_nl == '\r')
		len--;
	if (len == 0)	/* an empty first line: fingerprint the terminator itself */
		r = source_fingerprint("\n", 1, f->key, sizeof(f->key));
	else
		r = source_fingerprint(f->head, len < MX_FINGERPRINT_MAX ? len :
		    MX_FINGERPRINT_MAX, f->key, sizeof(f->key));
	if (r < 0)
		return r;
	f->keyed = 1;
	return 1;
}

/* tail_file_identify - look for the end of the first line; 1 keyed, 0 not yet */
static int
tail_file_identify(struct tail_file *f, uint64_t *budget)
{
	char buf[TAIL_SCAN_CHUNK];

	while (!f->keyed) {
		size_t want = *budget < sizeof(buf) ? (size_t)*budget : sizeof(buf), take, i;
		ssize_t n;
		char *nl;

		if (want == 0)
			return 0;
		n = pread(f->fd, buf, want, (off_t)f->scanned);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		*budget -= (uint64_t)n;
		nl = memchr(buf, '\n', (size_t)n);
		take = nl != NULL ? (size_t)(nl - buf) + 1 : (size_t)n;
		if (f->head_len < TAIL_HEAD_MAX) {
			size_t c = TAIL_HEAD_MAX - f->head_len;

			memcpy(f->head + f->head_len, buf, take < c ? take : c);
			f->head_len += take < c ? take : c;
		}
		if (nl == NULL) {
			f->last = buf[n - 1];
			f->scanned += (uint64_t)n;
			continue;
		}
		i = (size_t)(nl - buf);
		f->first_end = f->scanned + i + 1;
		f->scanned = f->first_end;
		return tail_file_key(f, i > 0 ? buf[i - 1] : f->last);
	}
	return 1;
}

/* tail_file_same_head - 1 when the file still starts with the first line we keyed, else 0 */
static int
tail_file_same_head(struct tail_file *f)
{
	char buf[TAIL_HEAD_MAX];
	ssize_t n;

	do
		n = pread(f->fd, buf, f->head_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == f->head_len && memcmp(buf, f->head, f->head_len) == 0;
}

/* tail_end_offset - MX_TAIL_END: just after the last newline the file held when opened */
static int
tail_end_offset(struct tail_file *f)
{
	uint64_t lim = f->size_at_open, lo, hi;
	char buf[TAIL_SCAN_CHUNK];

	f->start = 0;
	f->start_skip = 0;
	if (lim < f->first_end)	/* the first line was completed after we opened it */
		return 0;
	lo = lim > TAIL_END_WINDOW ? lim - TAIL_END_WINDOW : 0;
	if (lo < f->first_end - 1)
		lo = f->first_end - 1;
	for (hi = lim; hi > lo;) {
		size_t n = hi - lo < sizeof(buf) ? (size_t)(hi - lo) : sizeof(buf);
		ssize_t r = pread(f->fd, buf, n, (off_t)(hi - n));
		char *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if ((size_t)r != n)	/* shrank meanwhile: the truncation check follows */
			return 0;
		nl = memrchr(buf, '\n', n);
		if (nl != NULL) {
			f->start = hi - n + (uint64_t)(nl - buf) + 1;
			return 0;
		}
		hi -= n;
	}
	/* The last line is longer than MX_LINE_MAX: start after it, quietly. */
	f->start = lim;
	f->start_skip = 1;
	return 0;
}

/* tail_accept - ask ops->identity() where reading f starts */
static int
tail_accept(struct tail *t, struct tail_file *f)
{
	uint64_t off = 0;
	struct stat st;
	int r;

	r = t->ops->identity(t->ud, t, f->key, f->path, f->initial, &off);
	if (r < 0)
		return r;
	if (off == MX_TAIL_END) {
		r = tail_end_offset(f);
		if (r < 0)
			return tail_syserr(t, f->path, "read", -r);
	} else {
		if (fstat(f->fd, &st) < 0)
			return tail_syserr(t, f->path, "fstat", errno);
		f->start_skip = 0;
		f->start = off;
		if (off > (uint64_t)st.st_size) {
			f->start = 0;
			tail_notice(t, "truncated");
		}
	}
	f->accepted = 1;
	return 0;
}

/* tail_promote - f becomes the file whose lines are delivered */
static void
tail_promote(struct tail *t, struct tail_file *f)
{
	t->cur = f;
	linebuf_reset(t->lb, f->start, f->start_skip);
}

/* tail_deliver - hand held lines to the caller; with final, a last unterminated one too */
static int
tail_deliver(struct tail *t, int final)
{
	unsigned gen = t->gen;
	struct linebuf_line l;
	int r;

	for (;;) {
		if (t->dead || t->paused) {
			t->pending = 1;
			return TAIL_STOP;
		}
		r = linebuf_next(t->lb, &l);
		if (r == LINEBUF_NONE && final)
			r = linebuf_flush(t->lb, &l);
		if (r == LINEBUF_NONE)
			return TAIL_SETTLED;
		if (r == LINEBUF_OVERSIZED) {
			if (t->ops->oversized != NULL)
				t->ops->oversized(t->ud, t, l.end_offset);
		} else {
			r = t->ops->line(t->ud, t, l.line, l.len, l.end_offset);
			if (r < 0) {
				if (t->gen == gen)
					linebuf_unget(t->lb);
				return r;
			}
			t->delivered++;
		}
		if (t->gen != gen)
			return TAIL_STOP;
	}
}

/* tail_leave - deliver the rest of cur and close it */
static int
tail_leave(struct tail *t, const char *what)
{
	int r = tail_deliver(t, 1);

	if (r != TAIL_SETTLED)
		return r;
	tail_notice(t, what);
	t->cur = tail_file_free(t->cur);
	return TAIL_AGAIN;
}

/* tail_drain - read cur up to EOF or the budget, delivering lines */
static int
tail_drain(struct tail *t, uint64_t *budget)
{
	for (;;) {
		size_t room;
		ssize_t n;
		char *p;
		int r;

		r = tail_deliver(t, 0);
		if (r != TAIL_SETTLED)
			return r;
		if (*budget == 0)
			return TAIL_BUDGET;
		room = linebuf_space(t->lb, &p);
		if (room > *budget)
			room = (size_t)*budget;
		n = pread(t->cur->fd, p, room, (off_t)linebuf_offset(t->lb));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tail_syserr(t, t->cur->path, "read", errno);
		if (n == 0)
			return TAIL_SETTLED;
		linebuf_fill(t->lb, (size_t)n);
		*budget -= (uint64_t)n;
	}
}

/* tail_check_truncated - cur shrank below our offset or got a new first line */
static int
tail_check_truncated(struct tail *t)
{
	struct tail_file *f = t->cur;
	struct stat st;
	int r;

	if (fstat(f->fd, &st) < 0)
		return tail_syserr(t, f->path, "fstat", errno);
	if ((uint64_t)st.st_size >= linebuf_offset(t->lb)) {
		r = tail_file_same_head(f);
		if (r < 0)
			return tail_syserr(t, f->path, "read", -r);
		if (r == 1)
			return TAIL_SETTLED;
	}
	r = tail_deliver(t, 1);
	if (r != TAIL_SETTLED)
		return r;
	tail_file_forget(f, (uint64_t)st.st_size);
	linebuf_reset(t->lb, 0, 0);
	tail_notice(t, "truncated");
	return TAIL_AGAIN;
}

/* tail_check_unkeyed - cur has no complete first line: is it still the file at path? */
static int
tail_check_unkeyed(struct tail *t)
{
	struct tail_file *f = t->cur;
	struct stat st, fst;
	int there = stat(t->path, &st) == 0;

	if (there && st.st_dev == f->dev && st.st_ino == f->ino)
		return TAIL_SETTLED;
	if (fstat(f->fd, &fst) < 0)
		return tail_syserr(t, f->path, "fstat", errno);
	if (!there && fst.st_nlink > 0)
		return TAIL_SETTLED;	/* renamed away; nothing new at path yet */
	/* Deleted or replaced before it had a complete line: nothing was delivered. */
	t->cur = tail_file_free(t->cur);
	return TAIL_AGAIN;
}

/* tail_check_path - cur is read to EOF: has the file at path changed? */
static int
tail_check_path(struct tail *t, uint64_t *budget)
{
	struct tail_file *f = t->cur;
	struct stat st, fst;
	int r, gone;

	if (f->draining)
		return tail_leave(t, "drained");
	if (stat(t->path, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return tail_syserr(t, t->path, "stat", errno);
		st.st_ino = 0;
		st.st_dev = 0;
		st.st_mode = 0;
	}
	if (S_ISREG(st.st_mode) && st.st_dev == f->dev && st.st_ino == f->ino) {
		t->next = tail_file_free(t->next);
		return TAIL_SETTLED;
	}
	if (fstat(f->fd, &fst) < 0)
		return tail_syserr(t, f->path, "fstat", errno);
	gone = fst.st_nlink == 0;
	if (!S_ISREG(st.st_mode))
		return gone ? tail_leave(t, "deleted") : TAIL_SETTLED;

	if (t->next != NULL && (t->next->dev != st.st_dev || t->next->ino != st.st_ino))
		t->next = tail_file_free(t->next);
	if (t->next == NULL) {
		r = tail_file_open(t, t->path, 0, 1, &t->next);
		if (r == -ENOENT)
			return TAIL_SETTLED;	/* gone again: the directory watch tells */
		if (r < 0)
			return tail_syserr(t, t->path, "open", -r);
	}
	r = tail_file_identify(t->next, budget);
	if (r < 0)
		return tail_syserr(t, t->path, "read", -r);
	if (r == 0) {
		/* Not identifiable yet: keep reading the old file unless it is gone. */
		if (!gone)
			return *budget == 0 ? TAIL_BUDGET : TAIL_SETTLED;
		r = tail_leave(t, "deleted");
		if (r == TAIL_AGAIN) {
			t->cur = t->next;
			t->next = NULL;
		}
		return r;
	}
	r = tail_deliver(t, 1);
	if (r != TAIL_SETTLED)
		return r;
	if (!t->next->accepted) {
		r = tail_accept(t, t->next);
		if (r < 0)
			return r;
	}
	if (t->dead)
		return TAIL_STOP;
	tail_notice(t, gone ? "deleted" : "rotated");
	t->cur = tail_file_free(t->cur);
	tail_promote(t, t->next);
	t->next = NULL;
	return TAIL_AGAIN;
}

/* tail_step - one step of a round on cur */
static int
tail_step(struct tail *t, uint64_t *budget)
{
	struct tail_file *f = t->cur;
	int r;

	if (!f->accepted) {
		r = tail_file_identify(f, budget);
		if (r < 0)
			return tail_syserr(t, f->path, "read", -r);
		if (r == 0)
			return *budget == 0 ? TAIL_BUDGET : tail_check_unkeyed(t);
		r = tail_accept(t, f);
		if (r < 0)
			return r;
		tail_promote(t, f);
		if (t->dead || t->paused)
			return TAIL_STOP;
	}
	r = tail_check_truncated(t);
	if (r != TAIL_SETTLED)
		return r;
	r = tail_drain(t, budget);
	if (r != TAIL_SETTLED)
		return r;
	return tail_check_path(t, budget);
}

/* tail_is_sibling - name looks like a rotated, uncompressed copy of base */
static int
tail_is_sibling(const char *base, const char *name)
{
	static const char *const compressed[] = {
		".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".Z",
	};
	size_t blen = strlen(base), nlen = strlen(name), i;

	if (nlen <= blen || strncmp(name, base, blen) != 0)
		return 0;
	for (i = 0; i < sizeof(compressed) / sizeof(compressed[0]); i++) {
		size_t slen = strlen(compressed[i]);

		if (nlen >= slen && strcmp(name + nlen - slen, compressed[i]) == 0)
			return 0;
	}
	return 1;
}

/* tail_find_sibling - the newest rotated sibling whose identity is key, or none (0) */
static int
tail_find_sibling(struct tail *t, const char *key, struct tail_file **ret)
{
	struct tail_file *best = NULL, *f;
	unsigned entries = 0, tried = 0;
	struct dirent *de;
	DIR *d;

	d = opendir(t->dir);
	if (d == NULL)
		return 0;
	while (entries++ < TAIL_DIRENTS_MAX && tried < TAIL_SIBLINGS_MAX &&
	    (de = readdir(d)) != NULL) {
		uint64_t budget = TAIL_ROUND_BYTES;
		char *path;

		if (!tail_is_sibling(t->base, de->d_name))
			continue;
		tried++;
		if (asprintf(&path, "%s/%s", t->dir, de->d_name) < 0)
			break;
		if (tail_file_open(t, path, 1, 0, &f) < 0) {
			free(path);
			continue;
		}
		free(path);
		if ((t->cur == NULL || f->dev != t->cur->dev || f->ino != t->cur->ino) &&
		    tail_file_identify(f, &budget) == 1 && strcmp(f->key, key) == 0 &&
		    (best == NULL || f->mtime_usec > best->mtime_usec)) {
			tail_file_free(best);
			best = f;
		} else
			tail_file_free(f);
	}
	closedir(d);
	if (best == NULL)
		return 0;
	*ret = best;
	return 1;
}

/* tail_start - first round: bridge a rotation that happened while we were down */
static int
tail_start(struct tail *t)
{
	char prev[MX_POSITION_KEY_MAX] = "";
	struct tail_file *sib;
	uint64_t budget = TAIL_ROUND_BYTES;
	int r;

	if (t->ops->previous == NULL) {
		t->started = 1;
		return 0;
	}
	r = t->ops->previous(t->ud, t, prev, sizeof(prev));
	if (r < 0)
		return r;
	t->started = 1;
	if (r == 0 || prev[0] == '\0')
		return 0;
	if (t->cur != NULL) {
		r = tail_file_identify(t->cur, &budget);
		if (r < 0)
			return tail_syserr(t, t->cur->path, "read", -r);
		if (t->cur->keyed && strcmp(t->cur->key, prev) == 0)
			return 0;
	}
	if (tail_find_sibling(t, prev, &sib) <= 0)
		return 0;
	sib->draining = 1;
	if (t->e != NULL)
		(void)sd_event_add_inotify_fd(t->e, &sib->watch, sib->fd, TAIL_FILE_MASK,
		    tail_on_file, t);
	/* The file at path is opened again after the sibling, as a new file. */
	tail_file_free(t->cur);
	t->cur = sib;
	return 0;
}

/* tail_round - read what there is, up to TAIL_ROUND_BYTES, following file changes */
static int
tail_round(struct tail *t)
{
	uint64_t budget = TAIL_ROUND_BYTES;
	unsigned step;
	int r;

	t->kick = 0;
	if (t->paused) {
		t->pending = 1;
		return 0;
	}
	tail_watch_dir(t);
	if (!t->started) {
		r = tail_start(t);
		if (r < 0)
			return r;
	}
	for (step = 0; step < TAIL_ROUND_STEPS; step++) {
		if (t->dead)
			return 0;
		if (t->cur == NULL) {
			r = tail_file_open(t, t->path, 0, 1, &t->cur);
			if (r == -ENOENT || r == -ENOTDIR)
				return 0;	/* the directory watch wakes us */
			if (r < 0)
				return tail_syserr(t, t->path, "open", -r);
		}
		r = tail_step(t, &budget);
		if (r < 0)
			return r;
		if (r == TAIL_SETTLED || r == TAIL_STOP) {
			t->last_errno = 0;
			return 0;
		}
		if (r == TAIL_BUDGET)
			break;
	}
	tail_schedule(t);
	return 0;
}

/* tail_destroy - release everything */
static void
tail_destroy(struct tail *t)
{
	t->cur = tail_file_free(t->cur);
	t->next = tail_file_free(t->next);
	sd_event_source_disable_unref(t->dir_watch);
	sd_event_source_disable_unref(t->defer);
	sd_event_source_disable_unref(t->timer);
	sd_event_unref(t->e);
	linebuf_free(t->lb);
	free(t->path);
	free(t->dir);
	free(t);
}

/* tail_on_defer - a round from the loop */
static int
tail_on_defer(sd_event_source *s, void *ud)
{
	struct tail *t = ud;

	t->busy++;
	(void)tail_round(t);
	t->busy--;
	if (t->dead && t->busy == 0)
		tail_destroy(t);
	return 0;
}

/* tail_split_path - dir and base of path ("." for a bare name) */
static int
tail_split_path(struct tail *t, const char *path)
{
	const char *slash;

	t->path = strdup(path);
	if (t->path == NULL)
		return -ENOMEM;
	slash = strrchr(t->path, '/');
	if (slash == NULL) {
		t->dir = strdup(".");
		t->base = t->path;
	} else {
		t->dir = slash == t->path ? strdup("/") : strndup(t->path,
		    (size_t)(slash - t->path));
		t->base = slash + 1;
	}
	if (t->dir == NULL)
		return -ENOMEM;
	return *t->base == '\0' ? -EINVAL : 0;
}

/* tail_add_sources - the directory watch, the re-check timer and the round's defer source */
static int
tail_add_sources(struct tail *t)
{
	int r;

	tail_watch_dir(t);
	r = sd_event_add_time_relative(t->e, &t->timer, CLOCK_MONOTONIC, TAIL_RECHECK_USEC,
	    TAIL_RECHECK_ACCURACY, tail_on_timer, t);
	if (r < 0)
		return r;
	r = sd_event_add_defer(t->e, &t->defer, tail_on_defer, t);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(t->defer, SD_EVENT_OFF);
}

/* tail_new - follow path; the first round runs from the loop (or tail_poll()) */
int
tail_new(sd_event *e, const char *path, const struct tail_ops *ops, void *ud,
    struct tail **ret)
{
	struct tail *t;
	int r;

	if (path == NULL || *path == '\0' || ops == NULL || ops->identity == NULL ||
	    ops->line == NULL || ret == NULL)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->ops = ops;
	t->ud = ud;
	t->e = e != NULL ? sd_event_ref(e) : NULL;
	r = tail_split_path(t, path);
	if (r < 0)
		goto fail;
	t->lb = linebuf_new(LINEBUF_READ_SIZE);
	if (t->lb == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (e != NULL) {
		r = tail_add_sources(t);
		if (r < 0)
			goto fail;
	}
	r = tail_file_open(t, path, 1, 1, &t->cur);
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		goto fail;
	tail_schedule(t);
	*ret = t;
	return 0;
fail:
	tail_destroy(t);
	return r;
}

/* tail_free - stop following; from inside a callback, once it has returned */
struct tail *
tail_free(struct tail *t)
{
	if (t == NULL)
		return NULL;
	if (t->busy) {
		t->dead = 1;
		if (t->defer != NULL)
			(void)sd_event_source_set_enabled(t->defer, SD_EVENT_OFF);
		return NULL;
	}
	tail_destroy(t);
	return NULL;
}

/* tail_rewind - deliver the current file again from offset (after a failed commit) */
int
tail_rewind(struct tail *t, uint64_t offset)
{
	if (t->cur == NULL || !t->cur->accepted)
		return -ESRCH;
	linebuf_reset(t->lb, offset, 0);
	t->gen++;
	tail_schedule(t);
	return 0;
}

/* tail_pause - stop (1) or resume (0) reading; wake-ups while paused are not lost */
int
tail_pause(struct tail *t, int paused)
{
	t->paused = paused != 0;
	if (!t->paused) {
		t->pending = 0;
		tail_schedule(t);
	}
	return 0;
}

/* tail_poll - read what is there now; returns the number of lines delivered */
int
tail_poll(struct tail *t)
{
	uint64_t before = t->delivered, n;
	unsigned i;
	int r = 0;

	if (t->busy)
		return -EBUSY;
	t->busy++;
	t->kick = 1;
	for (i = 0; i < TAIL_POLL_ROUNDS && t->kick && !t->paused && !t->dead; i++) {
		r = tail_round(t);
		if (r < 0)
			break;
	}
	t->busy--;
	n = t->delivered - before;
	if (t->dead) {
		tail_destroy(t);
		return r < 0 ? r : 0;
	}
	if (r < 0)
		return r;
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* tail_path - the path being followed, as given */
const char *
tail_path(const struct tail *t)
{
	return t->path;
}
