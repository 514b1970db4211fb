/*
 * tsplib - run the route planner on a TSPLIB95 instance (or on random points)
 * and print one JSON line: {"name":..,"n":..,"length":..,"ms":..}.
 *
 *   tsplib FILE.tsp [--budget-ms N] [--seed S] [--iters N]
 *   tsplib --random N [--seed S] [--budget-ms N] [--iters N]
 *
 * FILE.tsp: a symmetric TSP with NODE_COORD_SECTION and EDGE_WEIGHT_TYPE
 * EUC_2D, ATT or GEO. --random: N points uniform in a 1e6 x 1e6 square
 * (EUC_2D), drawn from the seed. The tour is closed; its length is the TSPLIB
 * integer length. Defaults: 100 ms, seed 1, no iteration cap (--budget-ms 0
 * needs --iters). Exit status: 0; 1 on a malformed or unreadable file or bad
 * usage (one line on stderr); 2 if the solver fails; abort() if its tour is
 * not a permutation of the cities or its length does not add up.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clikit.h"
#include "fieldsync.h"
#include "route.h"
#include "tsplib.h"
#include "util.h"

#define MAX_CITIES FS_TSPLIB_MAX_CITIES

static const char *path_for_msgs = "";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tsplib: %s%s", path_for_msgs, *path_for_msgs ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;
	if (!s || !isdigit((unsigned char)*s))
		die("%s needs a whole number", opt);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		die("%s: '%s' is not a whole number", opt, s);
	return v;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void make_random(long n, uint64_t seed, struct fs_tsplib *in)
{
	uint64_t s = seed ^ 0x5eed5eed5eedULL;
	snprintf(in->name, sizeof in->name, "random%ld", n);
	in->metric = FS_ROUTE_EUC_2D;
	in->n = (size_t)n;
	in->x = malloc((size_t)n * sizeof *in->x);
	in->y = malloc((size_t)n * sizeof *in->y);
	if (!in->x || !in->y)
		die("out of memory");
	for (long i = 0; i < n; i++) {
		in->x[i] = (double)(splitmix(&s) >> 11) * (1e6 / 9007199254740992.0);
		in->y[i] = (double)(splitmix(&s) >> 11) * (1e6 / 9007199254740992.0);
	}
}

static void put_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void usage(void)
{
	fprintf(stderr, "usage: tsplib FILE.tsp [--budget-ms N] [--seed S] [--iters N]\n"
			"       tsplib --random N [--seed S] [--budget-ms N] [--iters N]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	struct fs_tsplib in;
	struct fs_route_opts o;
	struct fs_route_points pts;
	struct fs_route_result res;
	struct timespec t0, t1;
	const char *file = NULL;
	long random_n = -1;
	size_t *order;
	unsigned char *seen;
	int64_t check;
	uint64_t v;
	double ms;
	int rc;

	memset(&in, 0, sizeof in);
	fs_route_opts_init(&o);
	struct kit_args ka;
	const char *ov;
	int k;
	kit_args_init(&ka, "tsplib", NULL, argc, argv, 1, NULL, NULL);
	while ((k = kit_next(&ka)) > 0) {
		if (k == 2 && !strcmp(ka.word, "-h"))
			usage();
		else if (k == 2 && file)
			die("one file at a time");
		else if (k == 2)
			file = ka.word;
		else if (kit_flag(&ka, "help"))
			usage();
		else if (kit_take(&ka, "budget-ms", &ov)) {
			v = parse_u64("--budget-ms", ov);
			if (v > 86400000)
				die("--budget-ms: at most one day");
			o.budget_ms = (uint32_t)v;
		} else if (kit_take(&ka, "seed", &ov)) {
			o.seed = parse_u64("--seed", ov);
		} else if (kit_take(&ka, "iters", &ov)) {
			o.max_iters = parse_u64("--iters", ov);
		} else if (kit_take(&ka, "random", &ov)) {
			char *end = (char *)ov;
			errno = 0;
			random_n = isdigit((unsigned char)*ov) ? strtol(ov, &end, 10) : -1;
			if (random_n < 1 || errno || *end || random_n > MAX_CITIES)
				die("--random needs a number of points in 1..%ld", MAX_CITIES);
		} else if (!ka.bad) {
			kit_unknown(&ka);
			exit(1);
		}
	}
	if (ka.bad)
		exit(1);
	if ((file != NULL) == (random_n > 0))
		usage();
	if (!o.budget_ms && !o.max_iters)
		die("--budget-ms 0 needs --iters");
	if (file) {
		char err[256];
		path_for_msgs = file;
		if (fs_tsplib_read(file, &in, err, sizeof err))
			die("%s", err);
		path_for_msgs = "";
	}
	else
		make_random(random_n, o.seed, &in);

	order = malloc(in.n * sizeof *order);
	seen = calloc(in.n, 1);
	if (!order || !seen)
		die("out of memory");
	pts.metric = in.metric;
	pts.a = in.x;
	pts.b = in.y;
	pts.n = in.n;
	o.mode = FS_ROUTE_CLOSED;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = fs_route_solve(&pts, &o, order, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		fprintf(stderr, "tsplib: %s: %s (%s)\n", in.name, fieldsync_strerror(rc), fs_errmsg_get());
		return 2;
	}
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;

	/* Trust nothing: the tour must visit every city once and add up. */
	for (size_t i = 0; i < in.n; i++) {
		if (order[i] >= in.n || seen[order[i]]) {
			fprintf(stderr, "tsplib: %s: the tour is not a permutation of 1..%zu\n", in.name, in.n);
			abort();
		}
		seen[order[i]] = 1;
	}
	if (fs_route_length(&pts, 1, order, &check) || check != res.length) {
		fprintf(stderr, "tsplib: %s: the tour's length does not add up\n", in.name);
		abort();
	}
	printf("{\"name\":");
	put_json_string(in.name);
	printf(",\"n\":%zu,\"length\":%lld,\"ms\":%.1f}\n", in.n, (long long)res.length, ms);
	free(order);
	free(seen);
	fs_tsplib_free(&in);
	return fflush(stdout) ? 1 : 0;
}
