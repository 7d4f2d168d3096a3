/*
 * NAME
 *	clock - the one place that reads the time, replaceable in tests
 * SYNOPSIS
 *	#include "clock.h"
 * DESCRIPTION
 *	See clock.h. MXLEDGER_FAKE_NOW accepts seconds since the epoch or
 *	"YYYY-MM-DDTHH:MM:SSZ".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static int64_t clock_fake;	/* 0 = real clock */
static int clock_env_read;

static void
clock_read_env(void)
{
	const char *s = getenv("MXLEDGER_FAKE_NOW");
	struct tm tm;

	clock_env_read = 1;
	if (s == NULL || *s == '\0' || clock_fake != 0)
		return;
	memset(&tm, 0, sizeof(tm));
	if (strchr(s, '-') != NULL) {
		const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

		if (end != NULL)
			clock_fake = (int64_t)timegm(&tm) * 1000000;
	} else {
		clock_fake = (int64_t)strtoll(s, NULL, 10) * 1000000;
	}
}

/* clock_now_usec - realtime in UTC microseconds (or the frozen fake) */
int64_t
clock_now_usec(void)
{
	struct timespec ts;

	if (!clock_env_read)
		clock_read_env();
	if (clock_fake != 0)
		return clock_fake;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* clock_mono_usec - monotonic microseconds, for intervals */
int64_t
clock_mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* clock_set_fake - freeze realtime (tests); 0 restores the real clock */
void
clock_set_fake(int64_t realtime_usec)
{
	clock_env_read = 1;
	clock_fake = realtime_usec;
}
