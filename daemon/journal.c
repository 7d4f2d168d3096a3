/*
 * NAME
 *	journal - systemd journal input through sd-journal
 * SYNOPSIS
 *	#include "journal.h"
 *
 *	int journal_input_new(sd_event *e, const struct mx_input_conf *ic,
 *	    const struct journal_ops *ops, void *ud, struct journal_input **ret);
 *	struct journal_input *journal_input_free(struct journal_input *j);
 *	int journal_input_rewind(struct journal_input *j, const char *cursor);
 *	int journal_input_pause(struct journal_input *j, int paused);
 *	int journal_input_poll(struct journal_input *j);
 *	const char *journal_input_key(const struct journal_input *j);
 * DESCRIPTION
 *	Opens the local system journal, or the directory ic->path (journals
 *	copied off another machine, tests), and filters it on the mail
 *	daemons. ic->matches are "FIELD=value" strings in sd-journal's sense
 *	(values of one field are OR'ed, different fields AND'ed, a lone "+"
 *	starts an alternative, as in journalctl). Without them the filter is
 *
 *	    _COMM=smtpd|postscreen|anvil|master|dovecot|imap-login|pop3-login|
 *	          submission-logi|managesieve-log|auth|auth-worker
 *	    OR SYSLOG_IDENTIFIER=dovecot
 *
 *	that is the Postfix daemons we parse, and Dovecot whether it logs
 *	through syslog (identifier "dovecot", written by its log process) or
 *	to stderr (_COMM holds at most 15 bytes of the executable's name,
 *	hence "submission-logi"). Postfix is matched by _COMM, which the
 *	kernel sets, rather than by its tag, which logger(1) can forge; the
 *	Dovecot identifier cannot be avoided (its log process writes for all).
 *
 *	The source key is "journal:<machine-id>" for the system journal (the
 *	local machine's entries only) and "journal:<path>" for a directory
 *	(a path too long for MX_POSITION_KEY_MAX is replaced by a hash). At
 *	creation ops->position() returns the stored cursor: reading resumes
 *	just after that entry (if it was vacuumed away, at the closest later
 *	one). Without a cursor reading starts after the last existing entry,
 *	or at the first one with ic->start_at == MX_START_BEGINNING.
 *
 *	Each entry goes to ops->entry() with its fields and its cursor. The
 *	message is copied into a buffer of MX_LINE_MAX bytes owned by the
 *	input; an entry whose MESSAGE is longer is delivered with
 *	f->message == NULL and f->message_len set to its length, so that the
 *	caller counts it as oversized and still moves the cursor past it.
 *	Entries without MESSAGE are delivered with an empty message.
 *
 *	The loop is woken by sd_journal_get_fd() (inotify) and by
 *	sd_journal_get_timeout() where the journal asks for polling. At most
 *	JOURNAL_ROUND entries are read per wake-up; a defer source continues a
 *	backlog in the next loop iteration, so signals, timers and other inputs
 *	keep running while a large journal is read.
 *
 *	ops->entry() may call journal_input_pause() or journal_input_rewind()
 *	on its own input (after a failed commit): the round stops and nothing
 *	more is read until the input is resumed. A negative return from
 *	ops->entry() also ends the round; the entry counts as delivered.
 * RETURNS
 *	-errno from sd-journal on failure. journal_input_poll() returns the
 *	number of entries delivered by one round.
 * OWNERSHIP
 *	journal_input_free() closes the journal and releases the sources;
 *	journal_input_free(NULL) is a no-op. The mx_journal_fields handed to
 *	ops->entry() and the cursor are valid during the call only.
 * SEE ALSO
 *	sd-journal(3), sd_journal_get_fd(3), journalctl(1), ingest.h, tail.h
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "event.h"
#include "journal.h"
#include "log.h"
#include "store.h"

/*
 * Entries per wake-up: a few milliseconds of work, so a journal with a
 * backlog of millions of entries still lets signals and flush timers run.
 */
#define JOURNAL_ROUND	1000

/* _HOSTNAME, SYSLOG_IDENTIFIER, _COMM: longer values are cut (no daemon of ours has one). */
#define JOURNAL_FIELD_MAX	256

struct journal_input {
	sd_event *event;
	sd_journal *journal;
	const struct journal_ops *ops;
	void *ud;
	enum mx_start_at start_at;
	char key[MX_POSITION_KEY_MAX];
	sd_event_source *io, *timer, *defer;
	int paused;
	int pending_current;	/* read pointer is on an entry not yet delivered */
	int in_round;		/* inside journal_round(): rewind/pause end it */
	int round_broken;
	/* where a rewind to "" goes: the cursor found at start-up, "" = the head */
	char start_cursor[MX_POSITION_CURSOR_MAX];
	int last_error;		/* last sd-journal error logged, to log once per change */
	char hostname[JOURNAL_FIELD_MAX];
	char identifier[JOURNAL_FIELD_MAX];
	char comm[JOURNAL_FIELD_MAX];
	char message[MX_LINE_MAX + 1];
};

/* _COMM is the kernel's comm: at most 15 bytes, hence "submission-logi". */
static const char *const journal_default_matches[] = {
	"_COMM=smtpd", "_COMM=postscreen", "_COMM=anvil", "_COMM=master",
	"_COMM=dovecot", "_COMM=imap-login", "_COMM=pop3-login", "_COMM=submission-logi",
	"_COMM=managesieve-log", "_COMM=auth", "_COMM=auth-worker",
	"+",
	"SYSLOG_IDENTIFIER=dovecot",
	NULL,
};

static int journal_add_matches(struct journal_input *j, const char *const *matches);
static int journal_make_key(struct journal_input *j, const char *path);
static int journal_seek_start(struct journal_input *j, const char *cursor);
static int journal_seek_cursor(struct journal_input *j, const char *cursor);
static int journal_round(struct journal_input *j);
static int journal_deliver(struct journal_input *j);
static const char *journal_field(struct journal_input *j, const char *field, char *buf,
    size_t size);
static long journal_pid(struct journal_input *j);
static int journal_arm_timer(struct journal_input *j);
static int journal_on_io(sd_event_source *s, int fd, uint32_t revents, void *ud);
static int journal_on_timer(sd_event_source *s, uint64_t usec, void *ud);
static int journal_on_defer(sd_event_source *s, void *ud);
static void journal_report(struct journal_input *j, int r, const char *what);

/* journal_input_new - open, filter and position a journal, and hook it into the loop */
int
journal_input_new(sd_event *e, const struct mx_input_conf *ic, const struct journal_ops *ops,
    void *ud, struct journal_input **ret)
{
	struct journal_input *j;
	char cursor[MX_POSITION_CURSOR_MAX] = "";
	int fd, r;

	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -ENOMEM;
	j->event = sd_event_ref(e);
	j->ops = ops;
	j->ud = ud;
	j->start_at = ic->start_at;
	if (ic->path != NULL)
		r = sd_journal_open_directory(&j->journal, ic->path, 0);
	else
		r = sd_journal_open(&j->journal, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0)
		goto fail;
	if (sd_journal_has_runtime_files(j->journal) <= 0 &&
	    sd_journal_has_persistent_files(j->journal) <= 0) {
		if (ic->path != NULL)
			log_warning("journal: %s holds no journal file yet", ic->path);
		else if (geteuid() != 0)
			log_warning("journal: no journal file is readable: run mxledger as root, "
			    "or in group systemd-journal or adm");
		else
			log_warning("journal: no journal file found (is systemd-journald running?)");
	}
	/* larger than the longest message we take, so that a longer one is seen as such */
	r = sd_journal_set_data_threshold(j->journal, MX_LINE_MAX + sizeof("MESSAGE="));
	if (r < 0)
		goto fail;
	/* the fd must exist before the first read, or changes in between are missed */
	fd = sd_journal_get_fd(j->journal);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	r = journal_add_matches(j, ic->matches != NULL ? (const char *const *)ic->matches
						       : journal_default_matches);
	if (r < 0)
		goto fail;
	r = journal_make_key(j, ic->path);
	if (r < 0)
		goto fail;
	r = ops->position(ud, j, j->key, cursor, sizeof(cursor));
	if (r < 0)
		goto fail;
	r = journal_seek_start(j, cursor);
	if (r < 0)
		goto fail;

	r = sd_event_add_io(e, &j->io, fd, sd_journal_get_events(j->journal), journal_on_io, j);
	if (r < 0)
		goto fail;
	r = sd_event_add_time(e, &j->timer, CLOCK_MONOTONIC, 0, 0, journal_on_timer, j);
	if (r < 0)
		goto fail;
	r = sd_event_add_defer(e, &j->defer, journal_on_defer, j);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(j->io, "journal-io");
	(void)sd_event_source_set_description(j->defer, "journal-backlog");
	/* the backlog (or nothing) is read on the first loop iteration */
	(void)sd_event_source_set_enabled(j->defer, SD_EVENT_ONESHOT);
	r = journal_arm_timer(j);
	if (r < 0)
		goto fail;
	*ret = j;
	return 0;
fail:
	journal_input_free(j);
	return r;
}

/* journal_input_free - close the journal and release the event sources */
struct journal_input *
journal_input_free(struct journal_input *j)
{
	if (j == NULL)
		return NULL;
	sd_event_source_disable_unref(j->io);
	sd_event_source_disable_unref(j->timer);
	sd_event_source_disable_unref(j->defer);
	if (j->journal != NULL)
		sd_journal_close(j->journal);
	sd_event_unref(j->event);
	free(j);
	return NULL;
}

/* journal_input_key - the source key, "journal:<machine-id>" or "journal:<path>" */
const char *
journal_input_key(const struct journal_input *j)
{
	return j->key;
}

/*
 * journal_input_rewind - continue after `cursor` (the last committed entry)
 *
 * An empty cursor goes back to where this input started.
 */
int
journal_input_rewind(struct journal_input *j, const char *cursor)
{
	int r;

	if (j->in_round)
		j->round_broken = 1;
	if (cursor == NULL || cursor[0] == '\0')
		cursor = j->start_cursor;
	if (cursor[0] != '\0')
		r = journal_seek_cursor(j, cursor);
	else {
		j->pending_current = 0;
		r = sd_journal_seek_head(j->journal);
	}
	if (r < 0)
		return r;
	if (!j->paused && j->defer != NULL)
		(void)sd_event_source_set_enabled(j->defer, SD_EVENT_ONESHOT);
	return 0;
}

/* journal_input_pause - stop (1) or resume (0) reading; resuming reads what arrived meanwhile */
int
journal_input_pause(struct journal_input *j, int paused)
{
	int r;

	j->paused = paused != 0;
	if (j->in_round && j->paused)
		j->round_broken = 1;
	if (j->io == NULL)
		return 0;
	r = sd_event_source_set_enabled(j->io, j->paused ? SD_EVENT_OFF : SD_EVENT_ON);
	if (r < 0)
		return r;
	if (j->paused) {
		(void)sd_event_source_set_enabled(j->timer, SD_EVENT_OFF);
		return sd_event_source_set_enabled(j->defer, SD_EVENT_OFF);
	}
	r = journal_arm_timer(j);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(j->defer, SD_EVENT_ONESHOT);
}

/* journal_input_poll - take notice of journal changes and read one round now */
int
journal_input_poll(struct journal_input *j)
{
	int r;

	r = sd_journal_process(j->journal);
	if (r < 0)
		return r;
	return journal_round(j);
}

/* journal_add_matches - install "FIELD=value" matches, "+" between alternatives */
static int
journal_add_matches(struct journal_input *j, const char *const *matches)
{
	int r;

	for (; *matches != NULL; matches++) {
		if (strcmp(*matches, "+") == 0)
			r = sd_journal_add_disjunction(j->journal);
		else
			r = sd_journal_add_match(j->journal, *matches, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* journal_make_key - "journal:<path>" for a directory, "journal:<machine-id>" otherwise */
static int
journal_make_key(struct journal_input *j, const char *path)
{
	sd_id128_t id;
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a 64 */
	const char *p;
	int n;

	if (path == NULL) {
		if (sd_id128_get_machine(&id) < 0)
			n = snprintf(j->key, sizeof(j->key), "journal:local");
		else
			n = snprintf(j->key, sizeof(j->key), "journal:" SD_ID128_FORMAT_STR,
			    SD_ID128_FORMAT_VAL(id));
		return n < 0 ? -EINVAL : 0;
	}
	n = snprintf(j->key, sizeof(j->key), "journal:%s", path);
	if (n >= 0 && (size_t)n < sizeof(j->key))
		return 0;
	for (p = path; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	snprintf(j->key, sizeof(j->key), "journal:#%016" PRIx64, h);
	return 0;
}

/*
 * journal_seek_start - position the read pointer at start-up
 *
 * With a stored cursor: just after it. Without: after the last matching
 * entry (start-at end), or before the first (start-at beginning). The entry
 * found at the tail is remembered, so that a rewind before the first commit
 * comes back here instead of reading the whole journal.
 */
static int
journal_seek_start(struct journal_input *j, const char *cursor)
{
	char *c = NULL;
	int r;

	if (cursor[0] != '\0') {
		snprintf(j->start_cursor, sizeof(j->start_cursor), "%s", cursor);
		return journal_seek_cursor(j, cursor);
	}
	if (j->start_at == MX_START_BEGINNING)
		return sd_journal_seek_head(j->journal);
	r = sd_journal_seek_tail(j->journal);
	if (r < 0)
		return r;
	r = sd_journal_previous(j->journal);
	if (r < 0)
		return r;
	if (r == 0)	/* empty: everything that comes is new */
		return sd_journal_seek_head(j->journal);
	r = sd_journal_get_cursor(j->journal, &c);
	if (r < 0)
		return r;
	snprintf(j->start_cursor, sizeof(j->start_cursor), "%s", c);
	free(c);
	return 0;
}

/*
 * journal_seek_cursor - put the read pointer just after the entry at `cursor`
 *
 * When that entry is gone (vacuumed, or another journal), the journal seeks
 * to the closest later one, which is then not yet read: it is delivered
 * first by the next round (pending_current).
 */
static int
journal_seek_cursor(struct journal_input *j, const char *cursor)
{
	int r;

	j->pending_current = 0;
	r = sd_journal_seek_cursor(j->journal, cursor);
	if (r < 0)
		return r;
	r = sd_journal_next(j->journal);
	if (r <= 0)
		return r;
	r = sd_journal_test_cursor(j->journal, cursor);
	if (r < 0)
		return r;
	j->pending_current = r == 0;
	return 0;
}

/* journal_round - deliver at most JOURNAL_ROUND entries; the count, or -errno */
static int
journal_round(struct journal_input *j)
{
	int n, r = 0;

	j->in_round = 1;
	j->round_broken = 0;
	for (n = 0; n < JOURNAL_ROUND && !j->paused && !j->round_broken; n++) {
		if (j->pending_current) {
			j->pending_current = 0;
			r = 1;
		} else
			r = sd_journal_next(j->journal);
		if (r <= 0)
			break;
		r = journal_deliver(j);
		if (r < 0) {
			n++;
			break;
		}
	}
	j->in_round = 0;
	if (r < 0 && n == 0)
		return r;
	/* a full round may have left more: continue on the next iteration */
	if (n == JOURNAL_ROUND && !j->paused && j->defer != NULL)
		(void)sd_event_source_set_enabled(j->defer, SD_EVENT_ONESHOT);
	return n;
}

/* journal_deliver - hand the entry under the read pointer to ops->entry() */
static int
journal_deliver(struct journal_input *j)
{
	struct mx_journal_fields f = { .pid = -1 };
	const void *data;
	size_t len;
	char *cursor = NULL;
	int r;

	r = sd_journal_get_cursor(j->journal, &cursor);
	if (r < 0)
		return r;
	if (sd_journal_get_realtime_usec(j->journal, &f.realtime_usec) < 0)
		f.realtime_usec = 0;
	f.hostname = journal_field(j, "_HOSTNAME", j->hostname, sizeof(j->hostname));
	f.identifier = journal_field(j, "SYSLOG_IDENTIFIER", j->identifier,
	    sizeof(j->identifier));
	f.comm = journal_field(j, "_COMM", j->comm, sizeof(j->comm));
	f.pid = journal_pid(j);

	r = sd_journal_get_data(j->journal, "MESSAGE", &data, &len);
	if (r < 0 || len < sizeof("MESSAGE=") - 1) {
		j->message[0] = '\0';
		f.message = j->message;
		f.message_len = 0;
	} else {
		len -= sizeof("MESSAGE=") - 1;
		f.message_len = len;
		if (len <= MX_LINE_MAX) {
			memcpy(j->message, (const char *)data + sizeof("MESSAGE=") - 1, len);
			j->message[len] = '\0';
			f.message = j->message;
		}
	}
	r = j->ops->entry(j->ud, j, &f, cursor);
	free(cursor);
	return r;
}

/* journal_field - copy FIELD's value into buf (cut to size - 1); NULL when absent */
static const char *
journal_field(struct journal_input *j, const char *field, char *buf, size_t size)
{
	const void *data;
	size_t len, flen = strlen(field) + 1;
	const char *v, *nul;

	if (sd_journal_get_data(j->journal, field, &data, &len) < 0 || len < flen)
		return NULL;
	v = (const char *)data + flen;
	len -= flen;
	nul = memchr(v, '\0', len);
	if (nul != NULL)
		len = (size_t)(nul - v);
	if (len >= size)
		len = size - 1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return buf;
}

/* journal_pid - SYSLOG_PID, else _PID (the process that logged), else -1 */
static long
journal_pid(struct journal_input *j)
{
	static const char *const fields[] = { "SYSLOG_PID", "_PID" };
	char buf[32], *end;
	long pid;
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (journal_field(j, fields[i], buf, sizeof(buf)) == NULL)
			continue;
		errno = 0;
		pid = strtol(buf, &end, 10);
		if (errno == 0 && end != buf && *end == '\0' && pid > 0)
			return pid;
	}
	return -1;
}

/* journal_arm_timer - wake up when the journal wants to be polled (network file systems) */
static int
journal_arm_timer(struct journal_input *j)
{
	uint64_t t;
	int r;

	r = sd_journal_get_timeout(j->journal, &t);
	if (r < 0)
		return r;
	if (t == UINT64_MAX || j->paused)
		return sd_event_source_set_enabled(j->timer, SD_EVENT_OFF);
	r = sd_event_source_set_time(j->timer, t);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(j->timer, SD_EVENT_ONESHOT);
}

/* journal_report - log a read error once per change of error (not per entry) */
static void
journal_report(struct journal_input *j, int r, const char *what)
{
	if (r >= 0) {
		if (j->last_error != 0)
			log_notice("journal: %s: reading again", j->key);
		j->last_error = 0;
		return;
	}
	if (r != j->last_error)
		log_warning("journal: %s: %s failed: %s; will retry on the next change",
		    j->key, what, strerror(-r));
	j->last_error = r;
}

/* journal_on_io - the journal changed (inotify): take notice, read a round */
static int
journal_on_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct journal_input *j = ud;
	int r;

	r = sd_journal_process(j->journal);
	if (r < 0) {
		journal_report(j, r, "processing changes");
		return 0;
	}
	journal_report(j, journal_round(j), "reading");
	(void)journal_arm_timer(j);
	return 0;
}

/* journal_on_timer - the journal asked to be polled (files it cannot watch) */
static int
journal_on_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	return journal_on_io(s, -1, 0, ud);
}

/* journal_on_defer - go on with a backlog, or read after a rewind or resume */
static int
journal_on_defer(sd_event_source *s, void *ud)
{
	struct journal_input *j = ud;

	journal_report(j, journal_round(j), "reading");
	return 0;
}
