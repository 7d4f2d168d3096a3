/*
 * NAME
 *	loadgen - Postfix policy delegation load generator (benchmark only)
 * SYNOPSIS
 *	loadgen (-t HOST:PORT | -u PATH) [-c K] [-w WARMUP] [-d SECONDS]
 *	    [-n POOL] [-H HOTPCT] [-S SEED] [-l LABEL] [-P | -1]
 * DESCRIPTION
 *	Holds K persistent connections (TCP to an IPv4 HOST:PORT, or a UNIX
 *	stream socket PATH) to a policy server, driven by one epoll(7) loop.
 *	Each connection behaves like one smtpd(8) process: it sends an
 *	RCPT-state request with every attribute Postfix 3.7 sends (request,
 *	protocol_state, protocol_name, helo_name, queue_id, sender, recipient,
 *	recipient_count, client_address, client_name, reverse_client_name,
 *	instance, sasl_*, size, ccert_*, encryption_*, etrn_domain, stress,
 *	client_port, policy_context, server_address, server_port,
 *	compatibility_level, mail_version), waits for "action=...\n\n", and
 *	sends the next one; like Postfix it never pipelines on one connection.
 *
 *	Requests come in mail transactions: one client, one sender, one to
 *	three recipients sharing an `instance`, queue_id empty at the first
 *	RCPT. Clients are drawn from a pool of POOL (default 100 000, at most
 *	131 070) distinct addresses in 198.18.0.0/15 (RFC 2544, benchmarking);
 *	HOTPCT percent (default 2) of transactions come from 100 hot clients,
 *	so that rate rules do trip. One transaction in ten is SASL-authenticated
 *	on port 587 (10 000 users), seven in ten use TLS; sender domains come
 *	from 1000 domains under .example.
 *
 *	The run starts with WARMUP seconds (default 1, at most 60) of load
 *	that is not recorded, prolonged until every connection has had one
 *	answer (a server that accepts slowly) but by LG_WARM_EXTRA seconds at
 *	most, then SECONDS (default 5, at most 300) in which every answer
 *	received is counted and its latency (send of the first byte to receipt
 *	of the empty line, CLOCK_MONOTONIC) goes into a histogram of log
 *	buckets with 64 sub-buckets per power of two (under 1.6 % error, like
 *	HdrHistogram with two significant digits). Then no new request is sent
 *	and the answers still due are awaited (LG_DRAIN_SEC at most) before the
 *	connections close, as Postfix never hangs up in the middle of a
 *	request. It prints one line:
 *
 *	  LABEL k=K requests=N seconds=S rps=R mean_us=.. p50_us=.. p99_us=..
 *	      p999_us=.. max_us=.. non_dunno=N errors=N stalled=N warm_s=W
 *	      answers_total=N
 *
 *	non_dunno counts answers other than DUNNO; errors counts connections
 *	closed by the server or answers that are not "action=...\n\n" (the
 *	connection is then opened again); stalled counts connections that got
 *	no answer at all during the measured seconds (a server serving fewer
 *	connections than K); answers_total counts every answer of the run,
 *	warm-up and end included (to divide the server's CPU time by).
 *
 *	-P (pre-warm) sends exactly one request for each pool address, in
 *	order, over the K connections, and stops after SECONDS at the latest;
 *	it prints "LABEL prewarm=N seconds=S". -1 (probe) sends one request on
 *	one connection and exits 0 when an answer arrives within 2 seconds.
 * RETURNS
 *	0; 1 when the server cannot be reached or (probe) does not answer;
 *	64 for bad arguments. A hard alarm ends a run that overstays its time
 *	by more than 60 seconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LG_CONN_MAX	10000	/* more than any K of the benchmark */
#define LG_POOL_MAX	131070	/* addresses in 198.18.0.0/15 after 198.18.0.0 */
#define LG_HOT		100	/* hot clients */
#define LG_USERS	10000	/* SASL users */
#define LG_DOMAINS	1000	/* sender domains */
#define LG_REQ_MAX	2048	/* a request as built below is about 900 bytes */
#define LG_ANS_MAX	1024	/* Postfix itself accepts answers up to a line of 2048 */
#define LG_CONNECT_SEC	30	/* connecting K sockets to a slow server */
#define LG_WARM_EXTRA	30	/* waiting for every connection's first answer */
#define LG_DRAIN_SEC	5	/* waiting for the answers due at the end */
#define LG_SUB_BITS	6	/* 64 sub-buckets per power of two */
#define LG_SUB		(1u << LG_SUB_BITS)
#define LG_BUCKETS	((41 - LG_SUB_BITS + 1) * LG_SUB)	/* up to 2^41 ns (36 min) */

struct lg_conn {
	int fd;
	int sending;		/* 1 while out[] is not fully written */
	size_t out_len, out_off, in_len;
	uint64_t t_sent;
	uint64_t answers;	/* answers in the measured window */
	int warmed;		/* had an answer */
	int pending;		/* a request awaits its answer */
	/* the mail transaction this "smtpd" is in */
	uint32_t client, user, sdom, port;
	unsigned rcpt_left, rcpt_done, sasl, tls;
	uint64_t size;
	char instance[40], queue_id[16];
	char out[LG_REQ_MAX];
	char in[LG_ANS_MAX];
};

static struct lg_conn *lg_conns;
static unsigned lg_k = 1, lg_pool = 100000, lg_hot_pct = 2;
static unsigned lg_warm = 1, lg_dur = 5;
static int lg_prewarm, lg_probe;
static const char *lg_label = "", *lg_tcp, *lg_unix;
static uint64_t lg_rng = 0x9e3779b97f4a7c15ULL;
static uint64_t lg_hist[LG_BUCKETS];
static uint64_t lg_count, lg_sum_ns, lg_max_ns, lg_non_dunno, lg_errors;
static uint64_t lg_next_client, lg_prewarm_done, lg_instance_seq, lg_answers_total;
static unsigned lg_warmed, lg_inflight;
static uint64_t lg_measure_from = UINT64_MAX, lg_measure_to = UINT64_MAX, lg_t_start;
static int lg_epfd;

/* lg_now - CLOCK_MONOTONIC in nanoseconds */
static uint64_t
lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* lg_rand - xorshift64* */
static uint64_t
lg_rand(void)
{
	lg_rng ^= lg_rng >> 12;
	lg_rng ^= lg_rng << 25;
	lg_rng ^= lg_rng >> 27;
	return lg_rng * 0x2545F4914F6CDD1DULL;
}

static uint32_t
lg_below(uint32_t n)
{
	return (uint32_t)((lg_rand() >> 32) % n);
}

/* lg_bucket - histogram index of a value in ns: exact below 128, then 64 per power of two */
static unsigned
lg_bucket(uint64_t v)
{
	unsigned e, shift, idx;

	if (v < 2 * LG_SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);
	shift = e - LG_SUB_BITS;
	idx = (shift + 1) * LG_SUB + (unsigned)((v >> shift) - LG_SUB);
	return idx < LG_BUCKETS ? idx : LG_BUCKETS - 1;
}

/* lg_bucket_value - the middle of the values a bucket holds */
static uint64_t
lg_bucket_value(unsigned idx)
{
	unsigned shift;

	if (idx < 2 * LG_SUB)
		return idx;
	shift = idx / LG_SUB - 1;
	return ((uint64_t)(idx % LG_SUB + LG_SUB) << shift) + (((uint64_t)1 << shift) >> 1);
}

/* lg_percentile - smallest recorded value (bucket middle) with at least q of the samples */
static double
lg_percentile(double q)
{
	uint64_t want = (uint64_t)(q * (double)lg_count + 0.999999), seen = 0;

	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < LG_BUCKETS; i++) {
		seen += lg_hist[i];
		if (seen >= want)	/* the bucket middle, but no more than the maximum seen */
			return (double)(lg_bucket_value(i) < lg_max_ns ? lg_bucket_value(i) :
			    lg_max_ns) / 1000.0;
	}
	return 0;
}

static void
lg_ip(uint32_t client, char *buf, size_t size)
{
	uint32_t a = 0xC6120001u + client;	/* 198.18.0.1 + index */

	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* lg_new_transaction - a new client (or the next pool address when pre-warming) and message */
static void
lg_new_transaction(struct lg_conn *c)
{
	if (lg_prewarm) {
		c->client = (uint32_t)lg_next_client++;
		c->rcpt_left = 1;
	} else {
		if (lg_below(100) < lg_hot_pct)
			c->client = lg_below(LG_HOT);
		else
			c->client = lg_below(lg_pool);
		c->rcpt_left = lg_below(10) < 7 ? 1 : 2 + lg_below(2);
	}
	c->rcpt_done = 0;
	c->sasl = lg_below(10) == 0;
	c->tls = c->sasl || lg_below(10) < 7;
	c->user = lg_below(LG_USERS);
	c->sdom = lg_below(LG_DOMAINS);
	c->port = 1024 + lg_below(64511);
	c->size = lg_below(4) == 0 ? 0 : 1000 + lg_below(200000);
	snprintf(c->instance, sizeof(c->instance), "%x.%08x.%05x.0", 1000 + (unsigned)(c - lg_conns),
	    (unsigned)(lg_rand() >> 32), (unsigned)(lg_instance_seq++ & 0xfffff));
	c->queue_id[0] = '\0';
}

/* lg_build - the next RCPT request of c, attributes in the order Postfix 3.7 writes them */
static void
lg_build(struct lg_conn *c)
{
	char ip[20], name[64], sender[96], rcpt[64], user[64];
	uint32_t a = 0xC6120001u + c->client;
	int n;

	if (c->rcpt_left == 0)
		lg_new_transaction(c);
	lg_ip(c->client, ip, sizeof(ip));
	if (c->client % 10 == 9)
		snprintf(name, sizeof(name), "unknown");
	else
		snprintf(name, sizeof(name), "host-%u-%u.dyn%u.example.net", (a >> 8) & 255,
		    a & 255, (a >> 16) & 255);
	snprintf(user, sizeof(user), "user%u@example.com", c->user);
	if (c->sasl)
		snprintf(sender, sizeof(sender), "%s", user);
	else
		snprintf(sender, sizeof(sender), "news%u@mail.s%u.example", c->client % 50,
		    c->sdom);
	snprintf(rcpt, sizeof(rcpt), "rcpt%u@example.%s", lg_below(5000),
	    lg_below(2) ? "com" : "net");
	if (c->rcpt_done > 0 && c->queue_id[0] == '\0')
		snprintf(c->queue_id, sizeof(c->queue_id), "%010X",
		    (unsigned)(lg_rand() >> 28) & 0xffffffffu);
	n = snprintf(c->out, sizeof(c->out),
	    "request=smtpd_access_policy\n"
	    "protocol_state=RCPT\n"
	    "protocol_name=ESMTP\n"
	    "helo_name=%s\n"
	    "queue_id=%s\n"
	    "sender=%s\n"
	    "recipient=%s\n"
	    "recipient_count=%u\n"
	    "client_address=%s\n"
	    "client_name=%s\n"
	    "reverse_client_name=%s\n"
	    "instance=%s\n"
	    "sasl_method=%s\n"
	    "sasl_username=%s\n"
	    "sasl_sender=\n"
	    "size=%llu\n"
	    "ccert_subject=\n"
	    "ccert_issuer=\n"
	    "ccert_fingerprint=\n"
	    "ccert_pubkey_fingerprint=\n"
	    "encryption_protocol=%s\n"
	    "encryption_cipher=%s\n"
	    "encryption_keysize=%s\n"
	    "etrn_domain=\n"
	    "stress=\n"
	    "client_port=%u\n"
	    "policy_context=%s\n"
	    "server_address=192.0.2.25\n"
	    "server_port=%s\n"
	    "compatibility_level=3.6\n"
	    "mail_version=3.7.11\n"
	    "\n",
	    strcmp(name, "unknown") == 0 ? "localhost" : name, c->queue_id, sender, rcpt,
	    c->rcpt_done, ip, name, name, c->instance, c->sasl ? "PLAIN" : "",
	    c->sasl ? user : "", (unsigned long long)c->size, c->tls ? "TLSv1.3" : "",
	    c->tls ? "TLS_AES_256_GCM_SHA384" : "", c->tls ? "256" : "0", c->port,
	    c->sasl ? "submission" : "", c->sasl ? "587" : "25");
	c->out_len = (size_t)n < sizeof(c->out) ? (size_t)n : sizeof(c->out) - 1;
	c->out_off = 0;
	c->rcpt_left--;
	c->rcpt_done++;
}

/* lg_connect - a blocking connect bounded by LG_CONNECT_SEC, then non-blocking; fd or -1 */
static int
lg_connect(void)
{
	struct timeval tv = { LG_CONNECT_SEC, 0 };
	int fd, one = 1;

	if (lg_unix != NULL) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(lg_unix) >= sizeof(sun.sun_path))
			return -1;
		strcpy(sun.sun_path, lg_unix);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			goto fail;
	} else {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		char host[64];
		const char *colon = strrchr(lg_tcp, ':');

		if (colon == NULL || (size_t)(colon - lg_tcp) >= sizeof(host))
			return -1;
		memcpy(host, lg_tcp, (size_t)(colon - lg_tcp));
		host[colon - lg_tcp] = '\0';
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return -1;
		sin.sin_port = htons((uint16_t)atoi(colon + 1));
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static void
lg_watch(struct lg_conn *c, int op)
{
	struct epoll_event ev = { .events = EPOLLIN | (c->sending ? EPOLLOUT : 0) };

	ev.data.ptr = c;
	if (epoll_ctl(lg_epfd, op, c->fd, &ev) < 0 && op != EPOLL_CTL_DEL) {
		perror("loadgen: epoll_ctl");
		exit(1);
	}
}

/* lg_flush - write what is left of the request; 0, or -1 when the connection broke */
static int
lg_flush(struct lg_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!c->sending) {
				c->sending = 1;
				lg_watch(c, EPOLL_CTL_MOD);
			}
			return 0;
		}
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	if (c->sending) {
		c->sending = 0;
		lg_watch(c, EPOLL_CTL_MOD);
	}
	return 0;
}

/* lg_send - build and send the next request, unless pre-warming is through the pool */
static int
lg_send(struct lg_conn *c)
{
	if (lg_prewarm && c->rcpt_left == 0 && lg_next_client >= lg_pool)
		return 0;
	if (lg_now() >= lg_measure_to)	/* draining */
		return 0;
	lg_build(c);
	c->pending = 1;
	lg_inflight++;
	c->in_len = 0;
	c->t_sent = lg_now();
	return lg_flush(c);
}

/* lg_reopen - replace a broken connection (counted as an error) and send on it */
static void
lg_reopen(struct lg_conn *c)
{
	lg_errors++;
	if (c->pending) {
		c->pending = 0;
		lg_inflight--;
	}
	epoll_ctl(lg_epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->sending = 0;
	c->fd = lg_connect();
	if (c->fd < 0) {
		fprintf(stderr, "loadgen: reconnect failed: %s\n", strerror(errno));
		exit(1);
	}
	lg_watch(c, EPOLL_CTL_ADD);
	c->rcpt_left = 0;
	if (lg_send(c) < 0) {
		fprintf(stderr, "loadgen: server closes every connection\n");
		exit(1);
	}
}

/* lg_answer - one complete answer arrived at time now */
static void
lg_answer(struct lg_conn *c, uint64_t now, int measure)
{
	uint64_t lat = now - c->t_sent;

	c->pending = 0;
	lg_inflight--;
	lg_answers_total++;
	if (measure) {
		lg_hist[lg_bucket(lat)]++;
		lg_count++;
		lg_sum_ns += lat;
		if (lat > lg_max_ns)
			lg_max_ns = lat;
		c->answers++;
		if (strncasecmp(c->in + 7, "dunno\n", 6) != 0)
			lg_non_dunno++;
	}
	if (lg_prewarm)
		lg_prewarm_done++;
	if (!c->warmed) {
		c->warmed = 1;
		lg_warmed++;
	}
}

/* lg_read - read what the server sent; answers one request, sends the next */
static void
lg_read(struct lg_conn *c)
{
	char *end;
	ssize_t n;
	uint64_t now;

	n = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		lg_reopen(c);
		return;
	}
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	end = memmem(c->in, c->in_len, "\n\n", 2);
	if (end == NULL) {
		if (c->in_len == sizeof(c->in) - 1)
			lg_reopen(c);
		return;
	}
	if (!c->pending || strncmp(c->in, "action=", 7) != 0 || end + 2 != c->in + c->in_len) {
		lg_reopen(c);
		return;
	}
	now = lg_now();
	lg_answer(c, now, now >= lg_measure_from && now < lg_measure_to);
	if (lg_send(c) < 0)
		lg_reopen(c);
}

static void
lg_usage(void)
{
	fprintf(stderr, "usage: loadgen (-t HOST:PORT | -u PATH) [-c K] [-w WARMUP] "
			"[-d SECONDS] [-n POOL] [-H HOTPCT] [-S SEED] [-l LABEL] [-P | -1]\n");
	exit(64);
}

static unsigned
lg_arg(const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		lg_usage();
	return (unsigned)v;
}

static void
lg_args(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "t:u:c:w:d:n:H:S:l:P1")) != -1) {
		switch (opt) {
		case 't': lg_tcp = optarg; break;
		case 'u': lg_unix = optarg; break;
		case 'c': lg_k = lg_arg(optarg, 1, LG_CONN_MAX); break;
		case 'w': lg_warm = lg_arg(optarg, 0, 60); break;
		case 'd': lg_dur = lg_arg(optarg, 1, 300); break;
		case 'n': lg_pool = lg_arg(optarg, LG_HOT, LG_POOL_MAX); break;
		case 'H': lg_hot_pct = lg_arg(optarg, 0, 100); break;
		case 'S': lg_rng ^= lg_arg(optarg, 0, 0x7fffffff) * 0x100000001b3ULL; break;
		case 'l': lg_label = optarg; break;
		case 'P': lg_prewarm = 1; break;
		case '1': lg_probe = 1; break;
		default: lg_usage();
		}
	}
	if (optind != argc || (lg_tcp == NULL) == (lg_unix == NULL))
		lg_usage();
}

/* lg_probe_once - one request on one connection, answered within 2 s */
static int
lg_probe_once(void)
{
	struct lg_conn *c = &lg_conns[0];
	uint64_t deadline = lg_now() + 2000000000u;
	struct epoll_event ev;

	c->fd = lg_connect();
	if (c->fd < 0)
		return 1;
	lg_watch(c, EPOLL_CTL_ADD);
	if (lg_send(c) < 0)
		return 1;
	while (lg_now() < deadline) {
		if (epoll_wait(lg_epfd, &ev, 1, 100) == 1) {
			if (ev.events & EPOLLOUT && lg_flush(c) < 0)
				return 1;
			if (ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				ssize_t n = read(c->fd, c->in + c->in_len,
				    sizeof(c->in) - 1 - c->in_len);

				if (n <= 0)
					return 1;
				c->in_len += (size_t)n;
				if (memmem(c->in, c->in_len, "\n\n", 2) != NULL)
					return strncmp(c->in, "action=", 7) != 0;
				if (c->in_len == sizeof(c->in) - 1)
					return 1;
			}
		}
	}
	return 1;
}

static void
lg_report(double seconds)
{
	unsigned stalled = 0;

	for (unsigned i = 0; i < lg_k; i++)
		stalled += lg_conns[i].answers == 0;
	if (lg_prewarm) {
		printf("%s prewarm=%llu seconds=%.2f errors=%llu\n", lg_label,
		    (unsigned long long)lg_prewarm_done, seconds, (unsigned long long)lg_errors);
		return;
	}
	printf("%s k=%u requests=%llu seconds=%.3f rps=%.0f mean_us=%.1f p50_us=%.1f "
	       "p99_us=%.1f p999_us=%.1f max_us=%.1f non_dunno=%llu errors=%llu stalled=%u "
	       "warm_s=%.2f answers_total=%llu\n",
	    lg_label, lg_k, (unsigned long long)lg_count, seconds,
	    (double)lg_count / seconds,
	    lg_count ? (double)lg_sum_ns / (double)lg_count / 1000.0 : 0.0, lg_percentile(0.50),
	    lg_percentile(0.99), lg_percentile(0.999), (double)lg_max_ns / 1000.0,
	    (unsigned long long)lg_non_dunno, (unsigned long long)lg_errors, stalled,
	    (double)(lg_measure_from - lg_t_start) / 1e9, (unsigned long long)lg_answers_total);
}

int
main(int argc, char **argv)
{
	static struct epoll_event evs[256];
	struct rlimit rl;
	uint64_t t_connect;

	lg_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	lg_conns = calloc(lg_k, sizeof(*lg_conns));
	lg_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lg_conns == NULL || lg_epfd < 0) {
		perror("loadgen");
		return 1;
	}
	if (lg_probe)
		return lg_probe_once();
	alarm(LG_CONNECT_SEC + lg_warm + LG_WARM_EXTRA + lg_dur + LG_DRAIN_SEC + 60);

	t_connect = lg_now();
	for (unsigned i = 0; i < lg_k; i++) {
		lg_conns[i].fd = lg_connect();
		if (lg_conns[i].fd < 0) {
			fprintf(stderr, "loadgen: %s: connection %u of %u: %s\n",
			    lg_unix ? lg_unix : lg_tcp, i + 1, lg_k, strerror(errno));
			return 1;
		}
		if (lg_now() - t_connect > LG_CONNECT_SEC * 1000000000ull) {
			fprintf(stderr, "loadgen: connecting %u sockets took over %u s\n", lg_k,
			    LG_CONNECT_SEC);
			return 1;
		}
		lg_watch(&lg_conns[i], EPOLL_CTL_ADD);
	}

	lg_t_start = lg_now();
	if (lg_prewarm) {
		lg_measure_from = lg_t_start;
		lg_measure_to = lg_t_start + lg_dur * 1000000000ull;
	}
	for (unsigned i = 0; i < lg_k; i++)
		if (lg_send(&lg_conns[i]) < 0)
			lg_reopen(&lg_conns[i]);

	for (;;) {
		uint64_t now = lg_now();
		int n;

		if (lg_measure_from == UINT64_MAX && now >= lg_t_start + lg_warm * 1000000000ull &&
		    (lg_warmed == lg_k ||
			now >= lg_t_start + (lg_warm + LG_WARM_EXTRA) * 1000000000ull)) {
			lg_measure_from = now;
			lg_measure_to = now + lg_dur * 1000000000ull;
		}
		if (now >= lg_measure_to && (lg_inflight == 0 ||
			now >= lg_measure_to + LG_DRAIN_SEC * 1000000000ull))
			break;
		if (lg_prewarm && lg_next_client >= lg_pool && lg_prewarm_done >= lg_pool)
			break;
		n = epoll_wait(lg_epfd, evs, 256, 50);
		if (n < 0 && errno != EINTR) {
			perror("loadgen: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct lg_conn *c = evs[i].data.ptr;

			if (evs[i].events & EPOLLOUT && c->sending && lg_flush(c) < 0) {
				lg_reopen(c);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				lg_read(c);
		}
	}
	lg_report((double)((lg_prewarm ? lg_now() : lg_measure_to) - lg_measure_from) / 1e9);
	return 0;
}
