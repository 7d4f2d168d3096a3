/*
 * NAME
 *	cmd_config - mxledger check-config: validate and print the configuration
 * SYNOPSIS
 *	#include "cmd.h"
 *
 *	int cmd_check_config(int argc, char **argv);
 *
 *	mxledger check-config [--config PATH] [--quiet]
 * DESCRIPTION
 *	Reads the configuration file (MX_CONFIG_DEFAULT_PATH unless --config
 *	names one) as `mxledger run` would, prints every error as
 *	"file:line: message" on stderr, and on success prints the normalised
 *	configuration (every setting, defaults included, re-readable; the
 *	policy block and the rules one condition per line, lists merged,
 *	actions upper-cased) on stdout, unless --quiet.
 *
 *	A missing default file is not an error (the built-in defaults are
 *	printed); a file named with --config must exist. Any configuration
 *	problem, an unreadable or missing named file included, exits EX_CONFIG:
 *	for a configuration checker "cannot read the file you named" is a
 *	configuration problem, and one code is easier to script against.
 * RETURNS
 *	The exit status: 0 valid, EX_USAGE (64) bad arguments, EX_CONFIG (78)
 *	invalid or unreadable configuration, EX_SOFTWARE (70) out of memory or
 *	stdout not writable.
 * SEE ALSO
 *	config.c, mxledger(8), mxledger.conf(5)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "config.h"

/* cmd_check_config_usage - the --help text */
static void
cmd_check_config_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxledger check-config [--config PATH] [--quiet]\n"
	    "\n"
	    "Validate the configuration and print it normalised (defaults included).\n"
	    "\n"
	    "  -c, --config PATH   configuration file (default %s)\n"
	    "  -q, --quiet         print nothing on success, only errors\n"
	    "  -h, --help          show this help\n"
	    "\n"
	    "Exit status: 0 valid, 64 usage error, 78 configuration error.\n",
	    MX_CONFIG_DEFAULT_PATH);
}

int
cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *arg_config = NULL;
	int arg_quiet = 0;
	struct mx_config *cfg;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+c:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			arg_config = optarg;
			break;
		case 'q':
			arg_quiet = 1;
			break;
		case 'h':
			cmd_check_config_usage(stdout);
			return 0;
		default:
			cmd_check_config_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxledger check-config: unexpected argument \"%.64s\"\n",
		    argv[optind]);
		cmd_check_config_usage(stderr);
		return EX_USAGE;
	}
	r = config_load(arg_config, arg_config != NULL, &cfg);
	if (r == -ENOMEM) {
		fprintf(stderr, "mxledger check-config: out of memory\n");
		return EX_SOFTWARE;
	}
	if (r < 0)
		return EX_CONFIG;
	if (!arg_quiet)
		config_print(cfg, stdout);
	config_free(cfg);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "mxledger check-config: writing to stdout: %s\n", strerror(errno));
		return EX_SOFTWARE;
	}
	return 0;
}
