/*
 * NAME
 *	cmd - the subcommands of mxledger(8)
 * SYNOPSIS
 *	#include "cmd.h"
 *
 *	int cmd_parse(int argc, char **argv);
 *	int cmd_ingest(int argc, char **argv);
 *	int cmd_run(int argc, char **argv);
 *	int cmd_check_config(int argc, char **argv);
 *	int cmd_report(int argc, char **argv);
 *	int cmd_policy_test(int argc, char **argv);
 *	int cmd_policy_replay(int argc, char **argv);
 * DESCRIPTION
 *	Each takes the arguments after the subcommand name (argv[0] is the
 *	subcommand), handles --help, --config PATH and (where it touches the
 *	database) --db PATH, and returns the process exit status: 0, EX_USAGE
 *	(64) for bad arguments, EX_CONFIG (78) for configuration errors,
 *	EX_NOINPUT (66), EX_CANTCREAT (73), EX_SOFTWARE (70) otherwise.
 */
#ifndef MX_CMD_H
#define MX_CMD_H

int cmd_parse(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_policy_test(int argc, char **argv);
int cmd_policy_replay(int argc, char **argv);

#endif
