/*
 * NAME
 *	metrics - a small Prometheus registry and its text exposition
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	m = metrics_registry_new();
 *	metrics_family_new(m, &def, &f);
 *	metrics_add(f, (const char *[]){ "postfix/smtpd-proxy25" }, 1);
 *	metrics_format(m, &buf, &len);
 * DESCRIPTION
 *	Families sit in an array sorted by name; each family keeps its
 *	series in an array of pointers sorted by label values, so a lookup
 *	is a binary search and the exposition needs no sort. A series is one
 *	allocation: the header, the histogram's bucket counts and the label
 *	strings. One mutex guards the whole registry.
 *
 *	The mxledger families and the helpers that know about events live in
 *	metrics_daemon.c; this file knows nothing of mail.
 * SEE ALSO
 *	metrics.h (the contract), metrics_daemon.c, tests/check_metrics.c
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_impl.h"

static int metrics_name_ok(const char *s, int label);
static int metrics_series_get(struct metrics_family *f, const char *const *values,
    struct metrics_series **ret);
static void metrics_clean(const char *in, char *out);
static int metrics_write_locked(struct metrics *m, FILE *f);

/* metrics_registry_new - an empty registry (but for the dropped-series family) */
struct metrics *
metrics_registry_new(void)
{
	static const struct metrics_def dropped = {
		.type = METRICS_COUNTER, .name = "mxledger_metrics_series_dropped_total",
		.help = "Updates dropped because their family reached its cap on label "
			"combinations.",
		.labels = { "family" }, .max_series = METRICS_FAMILIES_MAX,
	};
	struct metrics *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	if (metrics_family_new(m, &dropped, &m->dropped) < 0)
		return metrics_free(m);
	return m;
}

static struct metrics_family *
metrics_family_free(struct metrics_family *f)
{
	size_t i;

	if (f == NULL)
		return NULL;
	for (i = 0; i < f->n_series; i++)
		free(f->series[i]);
	free(f->series);
	for (i = 0; i < f->n_labels; i++)
		free(f->labels[i]);
	free(f->help);
	free(f);
	return NULL;
}

/* metrics_free - free the registry and every family; returns NULL */
struct metrics *
metrics_free(struct metrics *m)
{
	size_t i;

	if (m == NULL)
		return NULL;
	for (i = 0; i < m->n_families; i++)
		metrics_family_free(m->families[i]);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return NULL;
}

/* metrics_name_ok - a metric name, or with label != 0 a label name */
static int
metrics_name_ok(const char *s, int label)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) >= METRICS_NAME_MAX)
		return 0;
	if (label && (strncmp(s, "__", 2) == 0 || strcmp(s, "le") == 0))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		    (c == ':' && !label) || (i > 0 && c >= '0' && c <= '9'))
			continue;
		return 0;
	}
	return 1;
}

static int
metrics_def_ok(const struct metrics_def *def, size_t *ret_labels)
{
	size_t i, n;

	if (!metrics_name_ok(def->name, 0) || def->help == NULL ||
	    strlen(def->help) >= METRICS_HELP_MAX)
		return 0;
	for (n = 0; n <= METRICS_LABELS_MAX && def->labels[n] != NULL; n++) {
		if (n == METRICS_LABELS_MAX || !metrics_name_ok(def->labels[n], 1))
			return 0;
		for (i = 0; i < n; i++)
			if (strcmp(def->labels[i], def->labels[n]) == 0)
				return 0;
	}
	if (def->type == METRICS_HISTOGRAM) {
		if (def->buckets == NULL || def->n_buckets == 0 ||
		    def->n_buckets > METRICS_BUCKETS_MAX)
			return 0;
		for (i = 0; i < def->n_buckets; i++)
			if (!isfinite(def->buckets[i]) ||
			    (i > 0 && def->buckets[i] <= def->buckets[i - 1]))
				return 0;
	}
	*ret_labels = n;
	return 1;
}

static int
metrics_family_same(const struct metrics_family *f, const struct metrics_def *def, size_t n)
{
	size_t i;

	if (f->type != def->type || f->n_labels != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(f->labels[i], def->labels[i]) != 0)
			return 0;
	return 1;
}

/* metrics_family_slot - where name is, or would go, in the sorted family array */
static size_t
metrics_family_slot(const struct metrics *m, const char *name, int *ret_found)
{
	size_t lo = 0, hi = m->n_families;

	*ret_found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, m->families[mid]->name);

		if (c == 0) {
			*ret_found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* metrics_family_build - a new family from a checked definition */
static struct metrics_family *
metrics_family_build(struct metrics *m, const struct metrics_def *def, size_t n_labels)
{
	struct metrics_family *f;
	size_t i;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->m = m;
	f->type = def->type;
	snprintf(f->name, sizeof(f->name), "%s", def->name);
	f->max_series = def->max_series != 0 ? def->max_series : METRICS_SERIES_DEFAULT;
	if ((f->help = strdup(def->help)) == NULL)
		return metrics_family_free(f);
	for (i = 0; i < n_labels; i++) {
		if ((f->labels[i] = strdup(def->labels[i])) == NULL)
			return metrics_family_free(f);
		f->n_labels = i + 1;
	}
	if (def->type == METRICS_HISTOGRAM) {
		memcpy(f->bounds, def->buckets, def->n_buckets * sizeof(double));
		f->n_buckets = def->n_buckets;
	}
	return f;
}

/* metrics_family_new - add a family to the registry */
int
metrics_family_new(struct metrics *m, const struct metrics_def *def,
    struct metrics_family **ret)
{
	struct metrics_family *f;
	struct metrics_series *s;
	size_t n_labels, at;
	int found, r = 0;

	if (m == NULL || def == NULL || !metrics_def_ok(def, &n_labels))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	at = metrics_family_slot(m, def->name, &found);
	if (found) {
		f = m->families[at];
		r = -EEXIST;
		if (metrics_family_same(f, def, n_labels) && ret != NULL)
			*ret = f;
		goto out;
	}
	if (m->n_families == METRICS_FAMILIES_MAX) {
		r = -E2BIG;
		goto out;
	}
	if ((f = metrics_family_build(m, def, n_labels)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	memmove(&m->families[at + 1], &m->families[at],
	    (m->n_families - at) * sizeof(m->families[0]));
	m->families[at] = f;
	m->n_families++;
	/* a family without labels has its one series from the start */
	if (n_labels == 0 && (r = metrics_series_get(f, NULL, &s)) < 0)
		goto out;
	if (ret != NULL)
		*ret = f;
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* metrics_family_find - a family by name, or NULL */
struct metrics_family *
metrics_family_find(struct metrics *m, const char *name)
{
	struct metrics_family *f = NULL;
	size_t at;
	int found;

	pthread_mutex_lock(&m->lock);
	at = metrics_family_slot(m, name, &found);
	if (found)
		f = m->families[at];
	pthread_mutex_unlock(&m->lock);
	return f;
}

enum metrics_type
metrics_family_type(const struct metrics_family *f)
{
	return f->type;
}

int
metrics_family_label(const struct metrics_family *f, const char *label)
{
	size_t i;

	for (i = 0; i < f->n_labels; i++)
		if (strcmp(f->labels[i], label) == 0)
			return (int)i;
	return -ENOENT;
}

/* metrics_utf8_len - length of the valid UTF-8 sequence at s (n bytes left), or 0 */
static size_t
metrics_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * metrics_clean - copy a label value: valid UTF-8, at most METRICS_VALUE_MAX
 * bytes, cut before a character that would not fit. out has
 * METRICS_VALUE_MAX + 1 bytes.
 */
static void
metrics_clean(const char *in, char *out)
{
	const unsigned char *s = (const unsigned char *)(in != NULL ? in : "");
	size_t n = strlen((const char *)s), i = 0, o = 0;

	while (i < n) {
		size_t len = metrics_utf8_len(s + i, n - i);

		if (len == 0) {
			if (o + 1 > METRICS_VALUE_MAX)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + len > METRICS_VALUE_MAX)
			break;
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
}

static int
metrics_series_cmp(const struct metrics_family *f, char (*vals)[METRICS_VALUE_MAX + 1],
    const struct metrics_series *s)
{
	size_t i;
	int c;

	for (i = 0; i < f->n_labels; i++)
		if ((c = strcmp(vals[i], s->values[i])) != 0)
			return c;
	return 0;
}

/* metrics_series_slot - where a series is, or would go, in f->series */
static size_t
metrics_series_slot(const struct metrics_family *f, char (*vals)[METRICS_VALUE_MAX + 1],
    int *ret_found)
{
	size_t lo = 0, hi = f->n_series;

	*ret_found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = metrics_series_cmp(f, vals, f->series[mid]);

		if (c == 0) {
			*ret_found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* metrics_series_build - one allocation: header, bucket counts, label strings */
static struct metrics_series *
metrics_series_build(const struct metrics_family *f, char (*vals)[METRICS_VALUE_MAX + 1])
{
	struct metrics_series *s;
	size_t i, bytes = sizeof(*s) + f->n_buckets * sizeof(uint64_t);
	char *p;

	for (i = 0; i < f->n_labels; i++)
		bytes += strlen(vals[i]) + 1;
	if ((s = calloc(1, bytes)) == NULL)
		return NULL;
	s->buckets = (uint64_t *)(s + 1);
	p = (char *)(s->buckets + f->n_buckets);
	for (i = 0; i < f->n_labels; i++) {
		size_t len = strlen(vals[i]) + 1;

		memcpy(p, vals[i], len);
		s->values[i] = p;
		p += len;
	}
	return s;
}

/* metrics_series_get - find or create a series; -E2BIG at the cap (counted) */
static int
metrics_series_get(struct metrics_family *f, const char *const *values,
    struct metrics_series **ret)
{
	char vals[METRICS_LABELS_MAX][METRICS_VALUE_MAX + 1];
	struct metrics_series *s;
	size_t i, at;
	int found;

	for (i = 0; i < f->n_labels; i++) {
		if (values == NULL || values[i] == NULL)
			return -EINVAL;
		metrics_clean(values[i], vals[i]);
	}
	at = metrics_series_slot(f, vals, &found);
	if (found) {
		*ret = f->series[at];
		return 0;
	}
	if (f->n_series >= f->max_series) {
		const char *name[] = { f->name };

		if (f != f->m->dropped)
			metrics_update_locked(f->m->dropped, name, METRICS_OP_ADD, 1);
		return -E2BIG;
	}
	if (f->n_series == f->alloc) {
		size_t n = f->alloc == 0 ? 8 : 2 * f->alloc;
		struct metrics_series **ns = reallocarray(f->series, n, sizeof(*ns));

		if (ns == NULL)
			return -ENOMEM;
		f->series = ns;
		f->alloc = n;
	}
	if ((s = metrics_series_build(f, vals)) == NULL)
		return -ENOMEM;
	memmove(&f->series[at + 1], &f->series[at], (f->n_series - at) * sizeof(f->series[0]));
	f->series[at] = s;
	f->n_series++;
	*ret = s;
	return 0;
}

/* metrics_op_ok - whether op applies to the family's type and value */
static int
metrics_op_ok(const struct metrics_family *f, enum metrics_op op, double v)
{
	if (isnan(v))
		return 0;
	switch (op) {
	case METRICS_OP_ADD:
		return f->type == METRICS_GAUGE || (f->type == METRICS_COUNTER && v >= 0);
	case METRICS_OP_SET:
		return f->type != METRICS_HISTOGRAM && (f->type == METRICS_GAUGE || v >= 0);
	case METRICS_OP_OBSERVE:
		return f->type == METRICS_HISTOGRAM;
	}
	return 0;
}

/* metrics_update_locked - one update, with the registry locked */
int
metrics_update_locked(struct metrics_family *f, const char *const *values, enum metrics_op op,
    double v)
{
	struct metrics_series *s;
	size_t i;
	int r;

	if (!metrics_op_ok(f, op, v))
		return -EINVAL;
	if ((r = metrics_series_get(f, values, &s)) < 0)
		return r;
	switch (op) {
	case METRICS_OP_ADD:
		s->value += v;
		break;
	case METRICS_OP_SET:
		if (f->type == METRICS_COUNTER && v < s->value)
			return -ERANGE;
		s->value = v;
		break;
	case METRICS_OP_OBSERVE:
		for (i = 0; i < f->n_buckets; i++)
			if (v <= f->bounds[i]) {
				s->buckets[i]++;
				break;
			}
		s->count++;
		s->sum += v;
		break;
	}
	return 0;
}

static int
metrics_update(struct metrics_family *f, const char *const *values, enum metrics_op op, double v)
{
	int r;

	if (f == NULL)
		return -EINVAL;
	pthread_mutex_lock(&f->m->lock);
	r = metrics_update_locked(f, values, op, v);
	pthread_mutex_unlock(&f->m->lock);
	return r;
}

/* metrics_add - add to a counter (v >= 0) or a gauge */
int
metrics_add(struct metrics_family *f, const char *const *values, double v)
{
	return metrics_update(f, values, METRICS_OP_ADD, v);
}

/* metrics_set - set a gauge, or a counter to a total that never goes down */
int
metrics_set(struct metrics_family *f, const char *const *values, double v)
{
	return metrics_update(f, values, METRICS_OP_SET, v);
}

/* metrics_observe - count one observation into a histogram */
int
metrics_observe(struct metrics_family *f, const char *const *values, double v)
{
	return metrics_update(f, values, METRICS_OP_OBSERVE, v);
}

/* metrics_get - the value of one series (a histogram: its count) */
int
metrics_get(struct metrics_family *f, const char *const *values, double *ret)
{
	char vals[METRICS_LABELS_MAX][METRICS_VALUE_MAX + 1];
	size_t i, at;
	int found;

	for (i = 0; i < f->n_labels; i++) {
		if (values == NULL || values[i] == NULL)
			return -EINVAL;
		metrics_clean(values[i], vals[i]);
	}
	pthread_mutex_lock(&f->m->lock);
	at = metrics_series_slot(f, vals, &found);
	if (found)
		*ret = f->type == METRICS_HISTOGRAM ? (double)f->series[at]->count :
		    f->series[at]->value;
	pthread_mutex_unlock(&f->m->lock);
	return found ? 0 : -ENOENT;
}

/* metrics_foreach - every series of f in exposition order, registry locked */
int
metrics_foreach(struct metrics_family *f, metrics_visit_fn fn, void *ud)
{
	uint64_t cum[METRICS_BUCKETS_MAX];
	size_t i, b;

	pthread_mutex_lock(&f->m->lock);
	for (i = 0; i < f->n_series; i++) {
		const struct metrics_series *s = f->series[i];
		struct metrics_sample sm = {
			.values = (const char *const *)s->values, .n_labels = f->n_labels,
			.value = s->value, .count = s->count, .sum = s->sum,
			.cumulative = cum, .bounds = f->bounds, .n_buckets = f->n_buckets,
		};

		for (b = 0; b < f->n_buckets; b++)
			cum[b] = s->buckets[b] + (b > 0 ? cum[b - 1] : 0);
		fn(ud, &sm);
	}
	pthread_mutex_unlock(&f->m->lock);
	return (int)i;
}

/* metrics_num - a sample value in the shortest text that reads back exactly */
static void
metrics_num(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
	else {
		snprintf(buf, size, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, size, "%.17g", v);
	}
}

/* metrics_escape - write s escaping \ and newline, and " when quoted */
static void
metrics_escape(FILE *f, const char *s, int quoted)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quoted)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* metrics_labels - {a="x",b="y"[,le="L"]} or nothing */
static void
metrics_labels(FILE *f, const struct metrics_family *fam, const struct metrics_series *s,
    const char *le)
{
	size_t i;

	if (fam->n_labels == 0 && le == NULL)
		return;
	fputc('{', f);
	for (i = 0; i < fam->n_labels; i++) {
		fprintf(f, "%s%s=\"", i > 0 ? "," : "", fam->labels[i]);
		metrics_escape(f, s->values[i], 1);
		fputc('"', f);
	}
	if (le != NULL)
		fprintf(f, "%sle=\"%s\"", fam->n_labels > 0 ? "," : "", le);
	fputc('}', f);
}

static void
metrics_write_histogram(FILE *f, const struct metrics_family *fam,
    const struct metrics_series *s)
{
	char num[64];
	uint64_t cum = 0;
	size_t b;

	for (b = 0; b < fam->n_buckets; b++) {
		cum += s->buckets[b];
		metrics_num(fam->bounds[b], num, sizeof(num));
		fprintf(f, "%s_bucket", fam->name);
		metrics_labels(f, fam, s, num);
		fprintf(f, " %" PRIu64 "\n", cum);
	}
	fprintf(f, "%s_bucket", fam->name);
	metrics_labels(f, fam, s, "+Inf");
	fprintf(f, " %" PRIu64 "\n", s->count);
	metrics_num(s->sum, num, sizeof(num));
	fprintf(f, "%s_sum", fam->name);
	metrics_labels(f, fam, s, NULL);
	fprintf(f, " %s\n%s_count", num, fam->name);
	metrics_labels(f, fam, s, NULL);
	fprintf(f, " %" PRIu64 "\n", s->count);
}

static void
metrics_write_family(FILE *f, const struct metrics_family *fam)
{
	static const char *const types[] = {
		[METRICS_COUNTER] = "counter", [METRICS_GAUGE] = "gauge",
		[METRICS_HISTOGRAM] = "histogram",
	};
	char num[64];
	size_t i;

	fprintf(f, "# HELP %s ", fam->name);
	metrics_escape(f, fam->help, 0);
	fprintf(f, "\n# TYPE %s %s\n", fam->name, types[fam->type]);
	for (i = 0; i < fam->n_series; i++) {
		const struct metrics_series *s = fam->series[i];

		if (fam->type == METRICS_HISTOGRAM) {
			metrics_write_histogram(f, fam, s);
			continue;
		}
		metrics_num(s->value, num, sizeof(num));
		fputs(fam->name, f);
		metrics_labels(f, fam, s, NULL);
		fprintf(f, " %s\n", num);
	}
}

static int
metrics_write_locked(struct metrics *m, FILE *f)
{
	size_t i;

	for (i = 0; i < m->n_families; i++)
		if (m->families[i]->n_series > 0)
			metrics_write_family(f, m->families[i]);
	return ferror(f) ? -EIO : 0;
}

/* metrics_format - the whole exposition in a buffer the caller frees */
int
metrics_format(struct metrics *m, char **ret_buf, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return -errno;
	pthread_mutex_lock(&m->lock);
	r = metrics_write_locked(m, f);
	pthread_mutex_unlock(&m->lock);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* metrics_write_textfile - the exposition to path, atomically (tmp + rename) */
int
metrics_write_textfile(struct metrics *m, const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0 || (f = fdopen(fd, "w")) == NULL) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	pthread_mutex_lock(&m->lock);
	r = metrics_write_locked(m, f);
	pthread_mutex_unlock(&m->lock);
	if (r == 0 && (fflush(f) != 0 || fsync(fileno(f)) < 0))
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
