/*
 * NAME
 *	main - mxledger's entry point: subcommand dispatch and exit codes
 * SYNOPSIS
 *	mxledger [--version] [--help] COMMAND [ARGS]
 * DESCRIPTION
 *	Each subcommand lives in its own cmd_*.c and returns the process exit
 *	status (sysexits.h). Nothing here touches configuration or the
 *	database; that is the subcommands' business.
 * SEE ALSO
 *	cmd.h, mxledger(8)
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cmd_run, "follow the mail logs and keep the history (the daemon)" },
	{ "parse", cmd_parse, "print the events of log files as JSON lines or TSV" },
	{ "ingest", cmd_ingest, "backfill log files (plain or gzip) into the database" },
	{ "check-config", cmd_check_config, "validate the configuration and print it normalised" },
	{ "report", cmd_report, "reports: summary, ip, user, top, listeners, policy" },
	{ "policy-test", cmd_policy_test, "decide policy requests read on stdin (rule, counters)" },
	{ "policy-replay", cmd_policy_replay, "what a candidate rule set would have done to the history" },
};

static void
main_usage(FILE *f)
{
	fprintf(f, "usage: mxledger [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'mxledger COMMAND --help' describes a command; see mxledger(8).\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		main_usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("mxledger %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		main_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "mxledger: unknown command \"%.64s\"\n", argv[1]);
	main_usage(stderr);
	return EX_USAGE;
}
