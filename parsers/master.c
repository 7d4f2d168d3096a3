/*
 * NAME
 *	master - recognise master(8) log records
 * SYNOPSIS
 *	#include "parser.h"
 *
 *	int master_parse(const struct mx_record *rec, struct mx_event *ret_ev);
 * DESCRIPTION
 *	The Postfix master daemon matters to mxledger for what happens after a
 *	child died: "warning: process PATH pid N exit status N" or "... killed
 *	by signal N" (process_exit), and "warning: PATH: bad command startup --
 *	throttling" (service_throttled: the service accepts nothing for
 *	$service_throttle_time, typically after the PROXY-listener smtpd
 *	crash). "fatal:"/"panic:" become fatal. The reason is the text after
 *	the severity word. Start, reload and stop notices are not events.
 * RETURNS
 *	1 with *ret_ev filled for a known event; 0 otherwise. Never logs, never
 *	allocates after the first call.
 * SEE ALSO
 *	event.h, shape.h, tests/check_anvil_master.c
 */
#include <pthread.h>

#include "parser.h"
#include "shape.h"

static struct mx_shape master_shapes[] = {
	SHAPE("warning: process ", MX_EVENT_PROCESS_EXIT,
	  "^warning: (?<reason>process \\S+ pid \\d+ (?:exit status \\d+|killed by signal \\d+))$"),
	SHAPE("warning: ", MX_EVENT_SERVICE_THROTTLED,
	  "^warning: (?<reason>\\S+: bad command startup -- throttling)$"),
	SHAPE("fatal: ", MX_EVENT_FATAL, "(?s)^fatal: (?<reason>.*)$"),
	SHAPE("panic: ", MX_EVENT_FATAL, "(?s)^panic: (?<reason>.*)$"),
};

#define MASTER_NSHAPES	(sizeof(master_shapes) / sizeof(master_shapes[0]))

static pthread_once_t master_once = PTHREAD_ONCE_INIT;

/* master_init - compile the patterns (once per process) */
static void
master_init(void)
{
	shape_compile(master_shapes, MASTER_NSHAPES);
}

/* master_parse - one master message to one event */
int
master_parse(const struct mx_record *rec, struct mx_event *ret_ev)
{
	const struct mx_shape *sh;

	pthread_once(&master_once, master_init);
	sh = shape_find(master_shapes, MASTER_NSHAPES, rec->msg, rec->msg_len);
	if (sh == NULL)
		return 0;
	return shape_apply(sh, rec->msg, rec->msg_len, ret_ev);
}
