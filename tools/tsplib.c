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

#include "fieldsync.h"
#include "route.h"
#include "util.h"

#define MAX_CITIES 10000000L

struct inst {
	char name[128];
	enum fs_route_metric metric;
	size_t n;
	double *x, *y;
};

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

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A whole unsigned decimal number, nothing else. */
static int parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
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

/* Next coordinate field: a finite number followed by space or the end. */
static int parse_coord(char **s, double *out)
{
	char *end;
	double v;
	while (isspace((unsigned char)**s))
		(*s)++;
	if (!**s)
		return -1;
	errno = 0;
	v = strtod(*s, &end);
	if (end == *s || errno || !isfinite(v) || (*end && !isspace((unsigned char)*end)))
		return -1;
	*s = end;
	*out = v;
	return 0;
}

static void read_tsp(const char *path, struct inst *in)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *key, *val, *colon, *s;
	size_t cap = 0, got = 0, lineno = 0;
	unsigned char *seen = NULL;
	long dim = -1, id;
	int have_type = 0, in_coords = 0, ended = 0;

	path_for_msgs = path;
	if (!f)
		die("cannot read: %s", strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		s = trim(line);
		if (!*s)
			continue;
		if (!strcmp(s, "EOF")) {
			ended = 1;
			break;
		}
		if (in_coords) {
			double x, y;
			char *p = s, *end;
			if (got == (size_t)dim)
				die("line %zu: more than DIMENSION = %ld coordinates", lineno, dim);
			errno = 0;
			id = strtol(p, &end, 10);
			if (end == p || errno || (*end && !isspace((unsigned char)*end)))
				die("line %zu: bad city id", lineno);
			if (id < 1 || id > dim)
				die("line %zu: city id %ld is outside 1..%ld", lineno, id, dim);
			if (seen[id - 1])
				die("line %zu: city id %ld appears twice", lineno, id);
			p = end;
			if (parse_coord(&p, &x) || parse_coord(&p, &y))
				die("line %zu: city %ld: coordinates are not two numbers", lineno, id);
			if (*trim(p))
				die("line %zu: city %ld: junk after the coordinates", lineno, id);
			seen[id - 1] = 1;
			in->x[id - 1] = x;
			in->y[id - 1] = y;
			got++;
			continue;
		}
		if (!strcmp(s, "NODE_COORD_SECTION")) {
			if (dim < 0)
				die("NODE_COORD_SECTION before DIMENSION");
			if (!have_type)
				die("NODE_COORD_SECTION before EDGE_WEIGHT_TYPE");
			in_coords = 1;
			continue;
		}
		colon = strchr(s, ':');
		if (!colon) {
			if (strstr(s, "_SECTION"))
				die("line %zu: %s is not supported", lineno, s);
			die("line %zu: expected KEY : value", lineno);
		}
		*colon = '\0';
		key = trim(s);
		val = trim(colon + 1);
		if (!strcmp(key, "NAME")) {
			size_t l = strlen(val);
			if (l > 4 && !strcmp(val + l - 4, ".tsp"))
				val[l - 4] = '\0';
			snprintf(in->name, sizeof in->name, "%s", val);
		} else if (!strcmp(key, "TYPE")) {
			if (strcmp(val, "TSP"))
				die("TYPE %s is not supported (only TSP)", val);
		} else if (!strcmp(key, "DIMENSION")) {
			if (dim >= 0)
				die("DIMENSION given twice");
			if (parse_count(val, MAX_CITIES, &dim) || dim < 1)
				die("DIMENSION '%s' is not a number in 1..%ld", val, MAX_CITIES);
			in->x = malloc((size_t)dim * sizeof *in->x);
			in->y = malloc((size_t)dim * sizeof *in->y);
			seen = calloc((size_t)dim, 1);
			if (!in->x || !in->y || !seen)
				die("out of memory");
		} else if (!strcmp(key, "EDGE_WEIGHT_TYPE")) {
			if (!strcmp(val, "EUC_2D"))
				in->metric = FS_ROUTE_EUC_2D;
			else if (!strcmp(val, "ATT"))
				in->metric = FS_ROUTE_ATT;
			else if (!strcmp(val, "GEO"))
				in->metric = FS_ROUTE_GEO;
			else
				die("EDGE_WEIGHT_TYPE %s is not supported (EUC_2D, ATT, GEO)", val);
			have_type = 1;
		} else if (!strcmp(key, "NODE_COORD_TYPE")) {
			if (strcmp(val, "TWOD_COORDS"))
				die("NODE_COORD_TYPE %s is not supported", val);
		} else if (!strcmp(key, "EDGE_WEIGHT_FORMAT") || !strcmp(key, "EDGE_DATA_FORMAT")) {
			die("%s is not supported", key);
		}
		/* COMMENT, DISPLAY_DATA_TYPE, CAPACITY and the like: ignored */
	}
	if (ferror(f))
		die("read error: %s", strerror(errno));
	fclose(f);
	free(line);
	free(seen);
	if (dim < 0)
		die("no DIMENSION");
	if (!have_type)
		die("no EDGE_WEIGHT_TYPE");
	if (!in_coords)
		die("no NODE_COORD_SECTION");
	if (got != (size_t)dim)
		die("%zu coordinates for DIMENSION = %ld%s", got, dim, ended ? "" : " (file ends early)");
	in->n = (size_t)dim;
	if (!in->name[0]) {
		const char *b = strrchr(path, '/');
		size_t l;
		snprintf(in->name, sizeof in->name, "%s", b ? b + 1 : path);
		l = strlen(in->name);
		if (l > 4 && !strcmp(in->name + l - 4, ".tsp"))
			in->name[l - 4] = '\0';
	}
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void make_random(long n, uint64_t seed, struct inst *in)
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

static const char *arg_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		die("%s needs a value", argv[*i]);
	return argv[++*i];
}

int main(int argc, char **argv)
{
	struct inst in;
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
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--budget-ms")) {
			v = parse_u64(a, arg_value(argc, argv, &i));
			if (v > 86400000)
				die("--budget-ms: at most one day");
			o.budget_ms = (uint32_t)v;
		} else if (!strcmp(a, "--seed")) {
			o.seed = parse_u64(a, arg_value(argc, argv, &i));
		} else if (!strcmp(a, "--iters")) {
			o.max_iters = parse_u64(a, arg_value(argc, argv, &i));
		} else if (!strcmp(a, "--random")) {
			if (parse_count(arg_value(argc, argv, &i), MAX_CITIES, &random_n) || random_n < 1)
				die("--random needs a number of points in 1..%ld", MAX_CITIES);
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage();
		} else if (a[0] == '-' && a[1]) {
			die("unknown option %s", a);
		} else if (file) {
			die("one file at a time");
		} else {
			file = a;
		}
	}
	if ((file != NULL) == (random_n > 0))
		usage();
	if (!o.budget_ms && !o.max_iters)
		die("--budget-ms 0 needs --iters");
	if (file)
		read_tsp(file, &in);
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
	free(in.x);
	free(in.y);
	return fflush(stdout) ? 1 : 0;
}
