/*
 * NAME
 *	clock - the one place that reads the time, replaceable in tests
 * SYNOPSIS
 *	#include "clock.h"
 *
 *	int64_t clock_now_usec(void);		realtime, UTC microseconds
 *	int64_t clock_mono_usec(void);		monotonic microseconds
 *	void clock_set_fake(int64_t realtime_usec);	tests: freeze realtime (0 = real clock)
 * DESCRIPTION
 *	The environment variable MXLEDGER_FAKE_NOW (RFC 3339 or seconds since
 *	the epoch) also freezes realtime, so scripts can pin year inference.
 */
#ifndef MX_CLOCK_H
#define MX_CLOCK_H

#include <stdint.h>

int64_t clock_now_usec(void);
int64_t clock_mono_usec(void);
void clock_set_fake(int64_t realtime_usec);

#endif
