/*
 * NAME
 *	cmd_report - `mxledger report`: canned SQL reports over the history
 * SYNOPSIS
 *	mxledger report NAME [ARG] [--config PATH] [--db PATH]
 *	    [--since DURATION | --from TIME [--to TIME]]
 *	    [--format table|csv|json] [--limit N]
 *	    [--by WHAT] [--group ip|net|user] [--internal-networks CIDR,...]
 * DESCRIPTION
 *	Runs the report's SQL (sql/reports/NAME.sql, embedded: report.h) on
 *	the database, opened read-only (MX_STORE_RDONLY): in WAL mode a reader
 *	never blocks the daemon's writes, and all statements of a report run
 *	in one read transaction, so they see one consistent snapshot.
 *
 *	The command line becomes the SQL's named parameters: :from and :to
 *	(unix seconds; --since D is now-D .. now, the default being 24h),
 *	:limit, and per report :net (ip), :user (user), :by and :group (top),
 *	:internal (listeners). Everything else is in the SQL, so that running
 *	the file with sqlite3(1) and the same parameters gives the same rows.
 *
 *	A database older than schema version 2 has no decisions table: an
 *	empty TEMP one stands in for it (the only write a report makes, and
 *	not to the database file), and a note says so.
 *
 *	Static helpers are named report_*; the argument parsers are in
 *	report_args.c, the output writer in report_render.c.
 * EXIT STATUS
 *	0 success; 64 (EX_USAGE) unknown report, bad option or argument;
 *	66 (EX_NOINPUT) no database (missing, empty, unreadable); 70
 *	(EX_SOFTWARE) the query failed; 74 (EX_IOERR) writing the output
 *	failed; 78 (EX_CONFIG) configuration errors.
 * SEE ALSO
 *	report.h, report_args.c, report_render.c, sql/reports/, store.h,
 *	mxledger(8) "report"
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "event.h"
#include "report.h"
#include "store.h"

#define REPORT_OPT_BY		0x1	/* --by, --group */
#define REPORT_OPT_INTERNAL	0x2	/* --internal-networks */

/* Columns of a report: ours have at most 7. */
#define REPORT_COLS_MAX		64
/* Default of --internal-networks: loopback, where the proxy hops and health checks live. */
#define REPORT_INTERNAL_DEFAULT	"127.0.0.0/8,::1/128"

struct report_def {
	const char *name;
	const char *arg;	/* the positional argument, NULL = none */
	const char *param;	/* its SQL parameter */
	unsigned opts;		/* REPORT_OPT_* it takes */
	int default_limit;	/* 0 = all */
	const char *summary;
};

static const struct report_def report_defs[] = {
	{ "summary", NULL, NULL, 0, 10,
	  "sessions, verdicts, logins, rejects, decisions, top lists" },
	{ "ip", "ADDR|CIDR", ":net", 0, 1000,
	  "timeline of an address or network, with policy decisions" },
	{ "user", "NAME", ":user", 0, 10, "logins and failures of one user, by address" },
	{ "top", NULL, NULL, REPORT_OPT_BY, 10,
	  "addresses, networks or users with the most of --by" },
	{ "listeners", NULL, NULL, REPORT_OPT_INTERNAL, 0,
	  "sessions, PROXY errors, fatals, share from internal nets" },
	{ "policy", NULL, NULL, 0, 0, "policy decisions by rule, action, dry run or enforced" },
};

/* The summary's sections, titled for the table format. */
static const struct {
	const char *name, *title;
} report_sections[] = {
	{ "connections", "Sessions by listener" },
	{ "postscreen", "Postscreen verdicts" },
	{ "auth", "Authentication (failed attempts, successful logins)" },
	{ "rejects", "Rejects by reply and reason" },
	{ "decisions", "Policy decisions by rule and action" },
	{ "problems", "PROXY errors, crashes, throttling and rate limits" },
	{ "top_clients", "Top client addresses" },
	{ "top_users", "Top users" },
};

/* What binds to the SQL's named parameters. */
struct report_params {
	int64_t from_usec, to_usec;
	int limit;
	const char *arg;	/* :net or :user */
	const char *by, *group, *internal;
	char canonical[INET6_ADDRSTRLEN];	/* ip ADDR as logged */
};

/* The command line. */
struct report_cmd {
	const char *config, *db, *since, *from, *to, *limit;
	enum report_format format;
	const struct report_def *def;
	struct report_params p;
};

static void report_usage(FILE *f);
static int report_getopt(int argc, char **argv, struct report_cmd *a);
static int report_positional(int argc, char **argv, struct report_cmd *a);
static const struct report_def *report_def_find(const char *name);
static int report_check_args(const struct report_def *def, struct report_params *p,
    const char *arg_since, const char *arg_from, const char *arg_to);
static const char *report_canonical(const char *s, char *buf, size_t size);
static int report_open(const char *path, struct store **ret);
static int report_decisions_stand_in(sqlite3 *db);
static int report_run(sqlite3 *db, const char *sql, const struct report_params *p,
    struct report_out *out, const char *param_arg);

/* report_usage - the --help text */
static void
report_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxledger report NAME [ARG] [OPTIONS]\n"
	    "Reports over the database (read-only: never blocks the daemon).\n\n"
	    "reports:\n");
	for (size_t i = 0; i < sizeof(report_defs) / sizeof(report_defs[0]); i++)
		fprintf(f, "  %-19s %s\n", report_defs[i].arg == NULL ? report_defs[i].name :
		    report_defs[i].name[0] == 'i' ? "ip ADDR|CIDR" : "user NAME",
		    report_defs[i].summary);
	fprintf(f,
	    "\noptions:\n"
	    "  -s, --since DURATION     the period up to now: 30m, 24h (default), 7d, 1h30m\n"
	    "  -F, --from TIME          the period from TIME to --to TIME (default now);\n"
	    "  -T, --to TIME            TIME is RFC 3339, local \"YYYY-MM-DD[ HH:MM[:SS]]\"\n"
	    "                           or @SECONDS\n"
	    "  -f, --format FORMAT      table (default, 80 columns), csv (RFC 4180), json\n"
	    "  -n, --limit N            rows of each ranked list (0 = all; default 10,\n"
	    "                           ip: the last 1000 events, listeners/policy: all)\n"
	    "  -b, --by WHAT            top: auth-failures (default), connections, rejects,\n"
	    "                           decisions\n"
	    "  -g, --group BY           top: ip (default), net (/24, /64), user\n"
	    "  -i, --internal-networks CIDR,...\n"
	    "                           listeners: proxy hops and health checks\n"
	    "                           (default " REPORT_INTERNAL_DEFAULT ")\n"
	    "  -d, --db PATH            database (default: from the configuration, else\n"
	    "                           %s)\n"
	    "  -c, --config PATH        configuration (database, time zone; default\n"
	    "                           %s)\n"
	    "  -h, --help               this text\n"
	    "Each report is also an SQL file for sqlite3(1):\n  %s/sql/reports/NAME.sql\n"
	    "Exit status: 0 ok, 64 usage, 66 no database, 70 query failed, 74 output failed,\n"
	    "78 configuration error.\n",
	    store_default_path(), MX_CONFIG_DEFAULT_PATH, PKGDATADIR);
}

/* report_sql_find - the SQL of a report, NULL for an unknown name */
const char *
report_sql_find(const char *name)
{
	for (size_t i = 0; i < report_n_sqls; i++)
		if (strcmp(report_sqls[i].name, name) == 0)
			return report_sqls[i].sql;
	return NULL;
}

/* report_def_find - a report's definition, NULL for an unknown name */
static const struct report_def *
report_def_find(const char *name)
{
	for (size_t i = 0; i < sizeof(report_defs) / sizeof(report_defs[0]); i++)
		if (strcmp(report_defs[i].name, name) == 0)
			return &report_defs[i];
	return NULL;
}

/* report_section_title - the table title of a summary section */
static const char *
report_section_title(const char *section)
{
	for (size_t i = 0; i < sizeof(report_sections) / sizeof(report_sections[0]); i++)
		if (strcmp(report_sections[i].name, section) == 0)
			return report_sections[i].title;
	return NULL;
}

/* report_getopt - the command line into *a; -1 to go on, else the exit status */
static int
report_getopt(int argc, char **argv, struct report_cmd *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'n' },
		{ "by", required_argument, NULL, 'b' },
		{ "group", required_argument, NULL, 'g' },
		{ "internal-networks", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:d:s:F:T:f:n:b:g:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'd': a->db = optarg; break;
		case 's': a->since = optarg; break;
		case 'F': a->from = optarg; break;
		case 'T': a->to = optarg; break;
		case 'n': a->limit = optarg; break;
		case 'b': a->p.by = optarg; break;
		case 'g': a->p.group = optarg; break;
		case 'i': a->p.internal = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				a->format = REPORT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				a->format = REPORT_CSV;
			else if (strcmp(optarg, "json") == 0)
				a->format = REPORT_JSON;
			else {
				fprintf(stderr, "mxledger: report: unknown format \"%.32s\" "
				    "(table, csv or json)\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return EX_USAGE;
		}
	}
	return report_positional(argc, argv, a);
}

/* report_positional - NAME [ARG] and --limit; -1 to go on, else the exit status */
static int
report_positional(int argc, char **argv, struct report_cmd *a)
{
	if (optind >= argc) {
		fprintf(stderr, "mxledger: report: which report? (summary, ip, user, top, "
		    "listeners, policy)\n");
		report_usage(stderr);
		return EX_USAGE;
	}
	if ((a->def = report_def_find(argv[optind])) == NULL ||
	    report_sql_find(a->def->name) == NULL) {
		fprintf(stderr, "mxledger: report: unknown report \"%.32s\" (summary, ip, user, "
		    "top, listeners, policy)\n", argv[optind]);
		return EX_USAGE;
	}
	optind++;
	if (a->def->arg != NULL) {
		if (optind >= argc) {
			fprintf(stderr, "mxledger: report: %s needs %s\n", a->def->name,
			    a->def->arg);
			return EX_USAGE;
		}
		a->p.arg = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, "mxledger: report: unexpected argument \"%.64s\"\n", argv[optind]);
		return EX_USAGE;
	}
	a->p.limit = a->def->default_limit;
	if (a->limit != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(a->limit, &end, 10);
		if (!isdigit((unsigned char)*a->limit) || *end != '\0' || errno != 0 ||
		    v > INT_MAX) {
			fprintf(stderr, "mxledger: report: bad --limit \"%.32s\" (a number, "
			    "0 for all)\n", a->limit);
			return EX_USAGE;
		}
		a->p.limit = (int)v;
	}
	return -1;
}

/* report_table_opts - how a table looks: title, ellipsis, sections, hidden column */
static void
report_table_opts(const struct report_cmd *a, char *title, size_t size,
    struct report_table_opts *ret)
{
	const char *codeset;
	char from[32], to[32];

	memset(ret, 0, sizeof(*ret));
	setlocale(LC_CTYPE, "");
	codeset = nl_langinfo(CODESET);
	ret->utf8 = codeset != NULL && (strcasecmp(codeset, "UTF-8") == 0 ||
	    strcasecmp(codeset, "utf8") == 0);
	ret->section_title = report_section_title;
	/* one address: its column would repeat what the title says */
	if (a->def->param != NULL && strcmp(a->def->param, ":net") == 0 &&
	    strchr(a->p.arg, '/') == NULL)
		ret->hide_column = "client_ip";
	event_format_ts(a->p.from_usec, from, sizeof(from));
	event_format_ts(a->p.to_usec, to, sizeof(to));
	snprintf(title, size, "%s%s%.48s: %.10s %.8s .. %.10s %.8s UTC", a->def->name,
	    a->p.arg != NULL ? " " : "", a->p.arg != NULL ? a->p.arg : "", from, from + 11, to,
	    to + 11);
	ret->title = title;
}

/* report_output - run the report on st and write it; the exit status */
static int
report_output(struct store *st, const struct report_cmd *a, const struct mx_crowdsec_conf *cs)
{
	struct report_table_opts topts;
	struct report_out *out = NULL;
	char title[256];
	int r, status = 0;

	report_table_opts(a, title, sizeof(title), &topts);
	r = report_out_new(stdout, a->format, &topts, &out);
	if (r >= 0)
		r = report_decisions_stand_in(store_db(st));
	if (r >= 0)
		r = report_run(store_db(st), report_sql_find(a->def->name), &a->p, out,
		    a->def->param);
	if (r >= 0 && cs != NULL && strcmp(a->def->name, "ip") == 0)
		r = report_crowdsec(out, cs, a->p.arg);
	if (r == -EIO || (r >= 0 && (r = report_out_end(out)) == -EIO)) {
		fprintf(stderr, "mxledger: report: writing the output failed\n");
		status = EX_IOERR;
	} else if (r == -E2BIG) {
		fprintf(stderr, "mxledger: report: more than %d rows for a table: use --limit, "
		    "--format csv or --format json\n", REPORT_TABLE_ROWS_MAX);
		status = EX_SOFTWARE;
	} else if (r == -ENOMEM) {
		fprintf(stderr, "mxledger: report: out of memory\n");
		status = EX_SOFTWARE;
	} else if (r < 0) {
		status = EX_SOFTWARE;	/* the query failed: report_run() said why */
	}
	report_out_free(out);
	return status;
}

int
cmd_report(int argc, char **argv)
{
	struct report_cmd a = { .format = REPORT_TABLE };
	struct mx_config *cfg = NULL;
	struct store *st = NULL;
	int status;

	if ((status = report_getopt(argc, argv, &a)) >= 0)
		return status;
	if (config_load(a.config != NULL ? a.config : MX_CONFIG_DEFAULT_PATH,
	    a.config != NULL, &cfg) < 0)
		return EX_CONFIG;
	if (cfg->timezone != NULL) {
		setenv("TZ", cfg->timezone, 1);
		tzset();
	}
	if (report_check_args(a.def, &a.p, a.since, a.from, a.to) < 0)
		status = EX_USAGE;
	else if (report_open(a.db != NULL ? a.db : cfg->database, &st) < 0)
		status = EX_NOINPUT;
	if (status >= 0) {
		config_free(cfg);
		return status;
	}
	status = report_output(st, &a, &cfg->crowdsec);
	store_free(st);
	config_free(cfg);
	return status;
}

/*
 * report_check_args - the period and the report-specific options: fills
 * p, prints what is wrong.
 */
static int
report_check_args(const struct report_def *def, struct report_params *p,
    const char *arg_since, const char *arg_from, const char *arg_to)
{
	int64_t now = clock_now_usec(), since = 24LL * 3600 * 1000000;

	if (arg_since != NULL && (arg_from != NULL || arg_to != NULL)) {
		fprintf(stderr, "mxledger: report: --since or --from/--to, not both\n");
		return -EINVAL;
	}
	if (arg_to != NULL && arg_from == NULL) {
		fprintf(stderr, "mxledger: report: --to needs --from\n");
		return -EINVAL;
	}
	if (arg_since != NULL && report_parse_duration(arg_since, &since) < 0) {
		fprintf(stderr, "mxledger: report: bad --since \"%.32s\" (a duration: 30m, 24h, "
		    "7d, 2w, 1h30m)\n", arg_since);
		return -EINVAL;
	}
	p->from_usec = now - since;
	p->to_usec = now;
	if (arg_from != NULL && report_parse_time(arg_from, &p->from_usec) < 0) {
		fprintf(stderr, "mxledger: report: bad --from \"%.40s\" (RFC 3339, "
		    "YYYY-MM-DD[ HH:MM[:SS]] or @SECONDS)\n", arg_from);
		return -EINVAL;
	}
	if (arg_to != NULL && report_parse_time(arg_to, &p->to_usec) < 0) {
		fprintf(stderr, "mxledger: report: bad --to \"%.40s\" (RFC 3339, "
		    "YYYY-MM-DD[ HH:MM[:SS]] or @SECONDS)\n", arg_to);
		return -EINVAL;
	}
	if (p->to_usec <= p->from_usec) {
		fprintf(stderr, "mxledger: report: the period ends before it begins\n");
		return -EINVAL;
	}
	if ((p->by != NULL || p->group != NULL) && !(def->opts & REPORT_OPT_BY)) {
		fprintf(stderr, "mxledger: report: --by and --group are options of top\n");
		return -EINVAL;
	}
	if (p->internal != NULL && !(def->opts & REPORT_OPT_INTERNAL)) {
		fprintf(stderr, "mxledger: report: --internal-networks is an option of listeners\n");
		return -EINVAL;
	}
	if (def->opts & REPORT_OPT_BY) {
		static const char *const bys[] = { "auth-failures", "connections", "rejects",
						   "decisions" };
		size_t i;

		if (p->by == NULL)
			p->by = bys[0];
		for (i = 0; i < sizeof(bys) / sizeof(bys[0]) && strcmp(bys[i], p->by) != 0; i++)
			;
		if (i == sizeof(bys) / sizeof(bys[0])) {
			fprintf(stderr, "mxledger: report: unknown --by \"%.32s\" (auth-failures, "
			    "connections, rejects, decisions)\n", p->by);
			return -EINVAL;
		}
		if (p->group == NULL)
			p->group = "ip";
		if (strcmp(p->group, "ip") != 0 && strcmp(p->group, "net") != 0 &&
		    strcmp(p->group, "user") != 0) {
			fprintf(stderr, "mxledger: report: unknown --group \"%.32s\" (ip, net, "
			    "user)\n", p->group);
			return -EINVAL;
		}
		if (strcmp(p->group, "user") == 0 && (strcmp(p->by, "connections") == 0 ||
		    strcmp(p->by, "rejects") == 0)) {
			fprintf(stderr, "mxledger: report: %s have no user: --group ip or net\n",
			    p->by);
			return -EINVAL;
		}
	}
	if (def->opts & REPORT_OPT_INTERNAL) {
		if (p->internal == NULL)
			p->internal = REPORT_INTERNAL_DEFAULT;
		if (report_parse_nets(p->internal) < 0) {
			fprintf(stderr, "mxledger: report: bad --internal-networks \"%.64s\" "
			    "(CIDR,CIDR,...)\n", p->internal);
			return -EINVAL;
		}
	}
	if (def->param != NULL && strcmp(def->param, ":net") == 0) {
		if (report_parse_net(p->arg) < 0) {
			fprintf(stderr, "mxledger: report: ip: \"%.64s\" is not an address or a "
			    "network (192.0.2.7, 192.0.2.0/24, 2001:db8::/32)\n", p->arg);
			return -EINVAL;
		}
		p->arg = report_canonical(p->arg, p->canonical, sizeof(p->canonical));
	}
	if (def->param != NULL && strcmp(def->param, ":user") == 0 && p->arg[0] == '\0') {
		fprintf(stderr, "mxledger: report: user: the name is empty\n");
		return -EINVAL;
	}
	return 0;
}

/*
 * report_canonical - one address in the text form the logs use (the SQL
 * matches a single address by its text, through the index); a network
 * as it is (it is matched by value).
 */
static const char *
report_canonical(const char *s, char *buf, size_t size)
{
	unsigned char bin[16];
	int af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	if (strchr(s, '/') != NULL || inet_pton(af, s, bin) != 1 ||
	    inet_ntop(af, bin, buf, (socklen_t)size) == NULL)
		return s;
	return buf;
}

/* report_open - the database, read-only; says why when it cannot be had */
static int
report_open(const char *path, struct store **ret)
{
	int r;

	if (path == NULL)
		path = store_default_path();
	if (access(path, F_OK) < 0) {
		fprintf(stderr, "mxledger: report: %s: no database (%s); `mxledger run` or "
		    "`mxledger ingest` creates it\n", path, strerror(errno));
		return -errno;
	}
	r = store_open(path, MX_STORE_RDONLY, ret);
	if (r == -ENOENT)
		fprintf(stderr, "mxledger: report: %s: not an mxledger database (no schema)\n",
		    path);
	else if (r < 0)
		fprintf(stderr, "mxledger: report: %s: cannot open database: %s\n", path,
		    strerror(-r));
	return r;
}

/*
 * report_decisions_stand_in - an empty TEMP decisions table when the
 * database predates it (schema version 1), so that every report runs.
 * TEMP lives in memory, not in the database file; query_only forbids it
 * too, so it is lifted for this one statement.
 */
static int
report_decisions_stand_in(sqlite3 *db)
{
	static const char sql[] =
	    "PRAGMA query_only = 0;"
	    "CREATE TEMP TABLE decisions (id INTEGER PRIMARY KEY, ts REAL NOT NULL, rule TEXT,"
	    " action TEXT NOT NULL, dry_run INTEGER NOT NULL DEFAULT 0, error TEXT,"
	    " request TEXT, protocol_state TEXT, client_address TEXT, client_name TEXT,"
	    " helo_name TEXT, sasl_username TEXT, sender TEXT, recipient TEXT, instance TEXT,"
	    " queue_id TEXT, server_port INTEGER, policy_context TEXT, counters TEXT);"
	    "PRAGMA query_only = 1;";
	sqlite3_stmt *s = NULL;
	int rc, have;

	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM main.sqlite_master "
	    "WHERE type = 'table' AND name = 'decisions'", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		rc = SQLITE_OK;
	have = rc == SQLITE_OK ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc == SQLITE_OK && !have) {
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			fprintf(stderr, "mxledger: report: the database has no decisions table "
			    "(schema version 1): no policy decisions shown\n");
	}
	if (rc != SQLITE_OK) {
		fprintf(stderr, "mxledger: report: reading the database failed: %s\n",
		    sqlite3_errmsg(db));
		return -EINVAL;
	}
	return 0;
}

/* report_bind_time - a time as unix seconds: an integer when whole */
static int
report_bind_time(sqlite3_stmt *s, int i, int64_t usec)
{
	if (usec % 1000000 == 0)
		return sqlite3_bind_int64(s, i, usec / 1000000);
	return sqlite3_bind_double(s, i, (double)usec / 1e6);
}

/* report_bind - every named parameter the statement has; unknown ones stay NULL */
static int
report_bind(sqlite3_stmt *s, const struct report_params *p, const char *param_arg)
{
	int n = sqlite3_bind_parameter_count(s), rc = SQLITE_OK;

	for (int i = 1; i <= n && rc == SQLITE_OK; i++) {
		const char *name = sqlite3_bind_parameter_name(s, i), *text = NULL;

		if (name == NULL)
			continue;
		if (strcmp(name, ":from") == 0)
			rc = report_bind_time(s, i, p->from_usec);
		else if (strcmp(name, ":to") == 0)
			rc = report_bind_time(s, i, p->to_usec);
		else if (strcmp(name, ":limit") == 0)
			rc = sqlite3_bind_int(s, i, p->limit);
		else if (strcmp(name, ":by") == 0)
			text = p->by;
		else if (strcmp(name, ":group") == 0)
			text = p->group;
		else if (strcmp(name, ":internal") == 0)
			text = p->internal;
		else if (param_arg != NULL && strcmp(name, param_arg) == 0)
			text = p->arg;
		if (text != NULL)
			rc = sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
	}
	return rc;
}

/* report_row - one result row as cells to out */
static int
report_row(sqlite3_stmt *s, int n_cols, struct report_cell *cells, struct report_out *out)
{
	for (int i = 0; i < n_cols; i++) {
		struct report_cell *c = &cells[i];

		memset(c, 0, sizeof(*c));
		switch (sqlite3_column_type(s, i)) {
		case SQLITE_INTEGER:
			c->type = REPORT_INT;
			c->i = sqlite3_column_int64(s, i);
			break;
		case SQLITE_FLOAT:
			c->type = REPORT_REAL;
			c->d = sqlite3_column_double(s, i);
			break;
		case SQLITE_NULL:
			c->type = REPORT_NULL;
			break;
		default:
			c->type = REPORT_TEXT;
			c->s = (const char *)sqlite3_column_text(s, i);
			c->len = (size_t)sqlite3_column_bytes(s, i);
			if (c->s == NULL)
				c->type = REPORT_NULL;
		}
	}
	return report_out_row(out, cells);
}

/*
 * report_run - every statement of sql, in one read transaction, rows to
 * out. All statements of a report give the same columns.
 */
static int
report_run(sqlite3 *db, const char *sql, const struct report_params *p,
    struct report_out *out, const char *param_arg)
{
	struct report_cell *cells = NULL;
	sqlite3_stmt *s = NULL;
	const char *tail = sql;
	int rc, r = 0, n_cols = -1;

	rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	while (rc == SQLITE_OK && r >= 0 && *tail != '\0') {
		rc = sqlite3_prepare_v2(db, tail, -1, &s, &tail);
		if (rc != SQLITE_OK || s == NULL)
			break;		/* an error, or only comments left */
		if ((rc = report_bind(s, p, param_arg)) != SQLITE_OK)
			break;
		if (n_cols < 0) {
			const char *names[REPORT_COLS_MAX];

			n_cols = sqlite3_column_count(s);
			if (n_cols <= 0 || (size_t)n_cols > sizeof(names) / sizeof(names[0]) ||
			    (cells = calloc((size_t)n_cols, sizeof(*cells))) == NULL) {
				r = -ENOMEM;
				break;
			}
			for (int i = 0; i < n_cols; i++)
				names[i] = sqlite3_column_name(s, i);
			r = report_out_begin(out, (size_t)n_cols, names);
		} else if (sqlite3_column_count(s) != n_cols) {
			fprintf(stderr, "mxledger: report: the statements of the report give "
			    "different columns\n");
			r = -EINVAL;
		}
		while (r >= 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
			r = report_row(s, n_cols, cells, out);
		if (rc == SQLITE_DONE || rc == SQLITE_ROW)	/* ROW: r < 0 stopped it */
			rc = SQLITE_OK;
		sqlite3_finalize(s);
		s = NULL;
	}
	if (rc != SQLITE_OK) {
		fprintf(stderr, "mxledger: report: the query failed: %s\n", sqlite3_errmsg(db));
		if (r >= 0)
			r = -EINVAL;
	}
	sqlite3_finalize(s);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	free(cells);
	if (r >= 0 && n_cols < 0)
		r = -EINVAL;	/* a report without a statement: our mistake */
	return r;
}
