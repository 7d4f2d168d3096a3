/*
 * NAME
 *	cmd_policy_test - mxledger policy-test: what would the policy answer?
 * SYNOPSIS
 *	#include "cmd.h"
 *
 *	int cmd_policy_test(int argc, char **argv);
 *
 *	mxledger policy-test [--config PATH] [--db PATH] [--now TIME]
 * DESCRIPTION
 *	Reads Postfix policy delegation requests on stdin -- "name=value"
 *	lines, an empty line after each (the last one may end at end of
 *	input instead) -- and decides each with the rules of the
 *	configuration, as `mxledger run` would, one after the other: the
 *	requests count in the counters like live ones, so a rate limit can be
 *	tried with a series of requests. For each request it prints
 *
 *	    action=ACTION              the answer Postfix would get
 *	    rule=NAME                  the rule that decided ("-": none)
 *	    counter=CONDITION: KEY = N its counting conditions, with the
 *	                               key counted and the value reached
 *	    dry-run=NAME ACTION        each dry-run hit (mode warn), in rule
 *	    counter=...                order, followed by its counters
 *	    crowdsec=TEXT              the CrowdSec decision a crowdsec
 *	                               condition matched
 *	    error=TEXT                 an internal error (answer: fail-action)
 *
 *	and an empty line. With --db the history of the configured
 *	history-window before TIME is first replayed from that database (read
 *	only), as `mxledger run` does at start-up: auth failures and
 *	postscreen verdicts already stored count. --now TIME (RFC 3339 UTC,
 *	"2026-11-22T01:02:03Z", or seconds since the epoch) is the time of
 *	every request; the default is now. With a crowdsec block the LAPI's
 *	decisions are pulled once first (a LAPI that does not answer is
 *	reported on stderr; its conditions then never hold, as in mxledger
 *	run). Nothing is written anywhere.
 * RETURNS
 *	The exit status: 0 every request decided; EX_DATAERR (65) a request
 *	that breaks the protocol, or none at all (the requests before it are
 *	printed); EX_USAGE (64); EX_CONFIG (78); EX_NOINPUT (66) the database
 *	cannot be read; EX_SOFTWARE (70) out of memory.
 * SEE ALSO
 *	policy.h, policy_proto.h, mxledger(8)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "crowdsec.h"
#include "policy.h"
#include "policy_proto.h"
#include "store.h"

struct policy_test {
	struct policy *policy;
	struct crowdsec *crowdsec;	/* with a crowdsec block: pulled once */
	int64_t now;
	unsigned n;			/* requests decided */
};

static void
policy_test_usage(FILE *f)
{
	fprintf(f,
	    "usage: mxledger policy-test [--config PATH] [--db PATH] [--now TIME]\n"
	    "\n"
	    "Read policy requests (name=value lines, an empty line after each) on stdin and\n"
	    "print the action, the rule that decided and its counters for each.\n"
	    "\n"
	    "  -c, --config PATH   configuration file (default %s)\n"
	    "  -d, --db PATH       replay the history-window of this database first\n"
	    "  -n, --now TIME      the time of the requests: 2026-11-22T01:02:03Z or epoch\n"
	    "                      seconds (default: now)\n"
	    "  -h, --help          show this help\n"
	    "\n"
	    "Exit status: 0 decided, 64 usage, 65 bad request, 66 database unreadable,\n"
	    "78 configuration error.\n",
	    MX_CONFIG_DEFAULT_PATH);
}

/* policy_test_time - "2026-11-22T01:02:03Z" (or a blank for T, Z optional) or epoch seconds */
static int
policy_test_time(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	const char *end;
	char *e;
	long long v;

	if (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		v = strtoll(s, &e, 10);
		if (errno != 0 || v > INT64_MAX / 1000000)
			return -ERANGE;
		*ret = (int64_t)v * 1000000;
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0))
		return -EINVAL;
	*ret = (int64_t)timegm(&tm) * 1000000;
	return 0;
}

/* policy_test_hit - a hit's counting conditions, one line each */
static void
policy_test_values(const struct rules_hit *hit)
{
	for (unsigned k = 0; k < hit->n_values; k++) {
		const struct rules_value *v = &hit->values[k];

		printf("counter=%s: %s = %" PRIu64 "\n", v->condition, v->key, v->value);
	}
	if (hit->crowdsec[0] != '\0')
		printf("crowdsec=%s\n", hit->crowdsec);
}

/* policy_test_print - the answer to one request, as documented above */
static void
policy_test_print(const struct rules_decision *d, int r)
{
	char action[POLICY_ACTION_MAX + 1];

	(void)policy_format_action(d, action, sizeof(action));
	printf("action=%s\nrule=%s\n", action, d->rule != NULL ? d->rule : "-");
	if (r < 0)
		printf("error=%s\n", strerror(-r));
	/* the deciding hit, if any, is the last one */
	if (d->n_hits > 0 && !d->hits[d->n_hits - 1].dry_run)
		policy_test_values(&d->hits[d->n_hits - 1]);
	for (unsigned i = 0; i < d->n_hits; i++) {
		const struct rules_hit *hit = &d->hits[i];

		if (!hit->dry_run)
			continue;
		printf("dry-run=%s %s\n", hit->rule, hit->action);
		policy_test_values(hit);
	}
	if (d->n_hits_lost > 0)
		printf("dry-run-lost=%u\n", d->n_hits_lost);
	putchar('\n');
}

/*
 * policy_test_crowdsec - CrowdSec's decisions, pulled once, for the crowdsec
 * conditions; a LAPI that does not answer is reported and left out (as
 * mxledger run would answer then)
 */
static int
policy_test_crowdsec(struct policy_test *t, const struct mx_config *cfg)
{
	struct crowdsec_stats s;
	int r;

	if ((r = crowdsec_new(&cfg->crowdsec, NULL, &t->crowdsec)) < 0) {
		fprintf(stderr, "mxledger policy-test: crowdsec: %s\n", strerror(-r));
		return r;
	}
	if ((r = crowdsec_sync(t->crowdsec)) < 0) {
		crowdsec_get_stats(t->crowdsec, &s);
		fprintf(stderr, "mxledger policy-test: crowdsec: %s: %s; deciding without its "
		    "decisions\n", cfg->crowdsec.url, s.last_error);
		return 0;
	}
	crowdsec_get_stats(t->crowdsec, &s);
	fprintf(stderr, "mxledger policy-test: crowdsec: %zu decisions from %s\n", s.decisions,
	    cfg->crowdsec.url);
	policy_set_crowdsec(t->policy, crowdsec_lookup, t->crowdsec);
	return 0;
}

/* policy_test_feed - feed bytes, deciding every complete request; -errno of the framing */
static int
policy_test_feed(struct policy_test *t, struct policy_parser *pp, const char *buf, size_t len)
{
	struct rules_decision d;
	size_t used;
	int r;

	while (len > 0) {
		r = policy_parser_feed(pp, buf, len, &used);
		if (r < 0)
			return r;
		buf += used;
		len -= used;
		if (r == POLICY_REQUEST) {
			r = policy_decide(t->policy, policy_parser_request(pp), t->now, &d);
			policy_test_print(&d, r);
			t->n++;
		}
	}
	return 0;
}

/* policy_test_stdin - every request on stdin; 0 or EX_DATAERR */
static int
policy_test_stdin(struct policy_test *t, struct policy_parser *pp)
{
	char buf[8192];
	ssize_t n;
	int r = 0;

	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "mxledger policy-test: reading stdin: %s\n", strerror(errno));
			return EX_NOINPUT;
		}
		if (n == 0)
			break;
		if ((r = policy_test_feed(t, pp, buf, (size_t)n)) < 0)
			break;
	}
	/* the last request may end at the end of the input */
	for (int i = 0; r == 0 && i < 2 && policy_parser_pending(pp) > 0; i++)
		r = policy_test_feed(t, pp, "\n", 1);
	if (r == 0)
		r = policy_parser_finish(pp);
	if (r < 0) {
		fprintf(stderr, "mxledger policy-test: request %u: %s\n", t->n + 1,
		    policy_strerror(r));
		return EX_DATAERR;
	}
	if (t->n == 0) {
		fprintf(stderr, "mxledger policy-test: no request on stdin\n");
		return EX_DATAERR;
	}
	return 0;
}

/* policy_test_history - replay the database's history-window before t->now */
static int
policy_test_history(struct policy_test *t, const char *db)
{
	struct store *st;
	int r;

	r = store_open(db, MX_STORE_RDONLY, &st);
	if (r < 0) {
		fprintf(stderr, "mxledger policy-test: %s: cannot open: %s\n", db, strerror(-r));
		return EX_NOINPUT;
	}
	r = policy_rebuild(t->policy, st, t->now);
	store_free(st);
	if (r < 0) {
		fprintf(stderr, "mxledger policy-test: %s: reading the history: %s\n", db,
		    strerror(-r));
		return EX_NOINPUT;
	}
	fprintf(stderr, "mxledger policy-test: %d stored events replayed from %s\n", r, db);
	return 0;
}

/* policy_test_args - options; -1 to go on, else the exit status */
static int
policy_test_args(int argc, char **argv, const char **ret_config, const char **ret_db,
    int64_t *ret_now)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+c:d:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*ret_config = optarg;
			break;
		case 'd':
			*ret_db = optarg;
			break;
		case 'n':
			if (policy_test_time(optarg, ret_now) < 0) {
				fprintf(stderr, "mxledger policy-test: --now: \"%.64s\" is not "
				    "2026-11-22T01:02:03Z or epoch seconds\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			policy_test_usage(stdout);
			return 0;
		default:
			policy_test_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxledger policy-test: unexpected argument \"%.64s\"\n",
		    argv[optind]);
		policy_test_usage(stderr);
		return EX_USAGE;
	}
	return -1;
}

int
cmd_policy_test(int argc, char **argv)
{
	struct policy_test t = { .now = clock_now_usec() };
	const char *arg_config = NULL, *arg_db = NULL;
	struct policy_parser *pp = NULL;
	struct mx_config *cfg = NULL;
	int r, status;

	if ((status = policy_test_args(argc, argv, &arg_config, &arg_db, &t.now)) >= 0)
		return status;
	r = config_load(arg_config, arg_config != NULL, &cfg);
	if (r == -ENOMEM)
		goto nomem;
	if (r < 0)
		return EX_CONFIG;
	if ((r = policy_new(cfg, &t.policy)) < 0 ||
	    (pp = policy_parser_new(cfg->policy.request_max, 0)) == NULL) {
		if (r == -EINVAL) {
			config_free(cfg);
			return EX_CONFIG;
		}
		goto nomem;
	}
	if (cfg->crowdsec.present && policy_test_crowdsec(&t, cfg) == -ENOMEM)
		goto nomem;
	status = arg_db != NULL ? policy_test_history(&t, arg_db) : 0;
	if (status == 0)
		status = policy_test_stdin(&t, pp);
	if (fflush(stdout) != 0 && status == 0) {
		fprintf(stderr, "mxledger policy-test: writing to stdout: %s\n", strerror(errno));
		status = EX_SOFTWARE;
	}
	policy_parser_free(pp);
	policy_free(t.policy);
	crowdsec_free(t.crowdsec);
	config_free(cfg);
	return status;
nomem:
	fprintf(stderr, "mxledger policy-test: out of memory\n");
	policy_free(t.policy);
	crowdsec_free(t.crowdsec);
	config_free(cfg);
	return EX_SOFTWARE;
}
