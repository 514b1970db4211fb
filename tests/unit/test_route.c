/*
 * test_route.c - the route planner (core/route.c): metrics, the exact solver
 * against brute force, the local search's guarantees, TSPLIB optima, modes,
 * edge cases and determinism. Nothing here reads the clock: every search runs
 * with budget_ms = 0 and an iteration cap. TSPLIB coordinates are embedded.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fieldsync.h"
#include "route.h"

/* ---- TSPLIB95 instances (coordinates as in the .tsp files) ---- */
static const double ulysses16_x[16] = {
	38.24, 39.57, 40.56, 36.26, 33.48, 37.56, 38.42, 37.52,
	41.23, 41.17, 36.08, 38.47, 38.15, 37.51, 35.49, 39.36,
};
static const double ulysses16_y[16] = {
	20.42, 26.15, 25.32, 23.12, 10.54, 12.19, 13.11, 20.44,
	9.10, 13.05, -5.21, 15.13, 15.35, 15.17, 14.32, 19.56,
};
static const double att48_x[48] = {
	6734, 2233, 5530, 401, 3082, 7608, 7573, 7265,
	6898, 1112, 5468, 5989, 4706, 4612, 6347, 6107,
	7611, 7462, 7732, 5900, 4483, 6101, 5199, 1633,
	4307, 675, 7555, 7541, 3177, 7352, 7545, 3245,
	6426, 4608, 23, 7248, 7762, 7392, 3484, 6271,
	4985, 1916, 7280, 7509, 10, 6807, 5185, 3023,
};
static const double att48_y[48] = {
	1453, 10, 1424, 841, 1644, 4458, 3716, 1268,
	1885, 2049, 2606, 2873, 2674, 2035, 2683, 669,
	5184, 3590, 4723, 3561, 3369, 1110, 2182, 2809,
	2322, 1006, 4819, 3981, 756, 4506, 2801, 3305,
	3173, 1198, 2216, 3779, 4595, 2244, 2829, 2135,
	140, 1569, 4899, 3239, 2676, 2993, 3258, 1942,
};
static const double berlin52_x[52] = {
	565.0, 25.0, 345.0, 945.0, 845.0, 880.0, 25.0, 525.0,
	580.0, 650.0, 1605.0, 1220.0, 1465.0, 1530.0, 845.0, 725.0,
	145.0, 415.0, 510.0, 560.0, 300.0, 520.0, 480.0, 835.0,
	975.0, 1215.0, 1320.0, 1250.0, 660.0, 410.0, 420.0, 575.0,
	1150.0, 700.0, 685.0, 685.0, 770.0, 795.0, 720.0, 760.0,
	475.0, 95.0, 875.0, 700.0, 555.0, 830.0, 1170.0, 830.0,
	605.0, 595.0, 1340.0, 1740.0,
};
static const double berlin52_y[52] = {
	575.0, 185.0, 750.0, 685.0, 655.0, 660.0, 230.0, 1000.0,
	1175.0, 1130.0, 620.0, 580.0, 200.0, 5.0, 680.0, 370.0,
	665.0, 635.0, 875.0, 365.0, 465.0, 585.0, 415.0, 625.0,
	580.0, 245.0, 315.0, 400.0, 180.0, 250.0, 555.0, 665.0,
	1160.0, 580.0, 595.0, 610.0, 610.0, 645.0, 635.0, 650.0,
	960.0, 260.0, 920.0, 500.0, 815.0, 485.0, 65.0, 610.0,
	625.0, 360.0, 725.0, 245.0,
};

/* Optimal tours (1-based, TSPLIB .opt.tour files; lengths re-derived). */
static const int ulysses16_opt[16] = { 1, 14, 13, 12, 7, 6, 15, 5, 11, 9, 10, 16, 3, 2, 4, 8 };
static const int att48_opt[48] = {
	1, 8, 38, 31, 44, 18, 7, 28, 6, 37, 19, 27, 17, 43, 30, 36,
	46, 33, 20, 47, 21, 32, 39, 48, 5, 42, 24, 10, 45, 35, 4, 26,
	2, 29, 34, 41, 16, 22, 3, 23, 14, 25, 13, 11, 12, 15, 40, 9,
};
static const int berlin52_opt[52] = {
	1, 49, 32, 45, 19, 41, 8, 9, 10, 43, 33, 51, 11, 52, 14, 13,
	47, 26, 27, 28, 12, 25, 4, 6, 15, 5, 24, 48, 38, 37, 40, 39,
	36, 35, 34, 44, 46, 16, 29, 50, 20, 23, 30, 2, 7, 42, 21, 17,
	3, 18, 31, 22,
};

/* ---- helpers ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [lo, hi) */
static double urand(double lo, double hi)
{
	return lo + (hi - lo) * ((double)(rnd() >> 11) / 9007199254740992.0);
}

static size_t below(size_t n)
{
	return (size_t)(rnd() % n);
}

struct set {
	enum fs_route_metric metric;
	size_t n;
	double a[20000], b[20000];
};

static struct set *set_new(enum fs_route_metric metric, size_t n)
{
	struct set *s = calloc(1, sizeof *s);
	assert_non_null(s);
	s->metric = metric;
	s->n = n;
	return s;
}

/* Random points: great circle within a ~200 km box (a sales territory),
 * planar in [0, 1000)^2. */
static struct set *random_set(enum fs_route_metric metric, size_t n)
{
	struct set *s = set_new(metric, n);
	for (size_t i = 0; i < n; i++) {
		if (metric == FS_ROUTE_GREAT_CIRCLE) {
			s->a[i] = urand(47.0, 49.0);
			s->b[i] = urand(7.0, 10.0);
		} else {
			s->a[i] = urand(0, 1000);
			s->b[i] = urand(0, 1000);
		}
	}
	return s;
}

static struct fs_route_points pts_of(const struct set *s)
{
	struct fs_route_points p = { s->metric, s->a, s->b, s->n };
	return p;
}

static struct fs_route_opts det_opts(enum fs_route_mode mode, size_t start, size_t end, uint64_t iters)
{
	struct fs_route_opts o;
	fs_route_opts_init(&o);
	o.mode = mode;
	o.start = start;
	o.end = end;
	o.budget_ms = 0;	/* no clock: deterministic */
	o.max_iters = iters;
	return o;
}

static int mode_closed(const struct fs_route_opts *o)
{
	return o->mode == FS_ROUTE_CLOSED || (o->mode == FS_ROUTE_START_END && o->start == o->end);
}

/* order[] is a permutation, obeys the mode, and res->length is its length. */
static void assert_route(const struct set *s, const struct fs_route_opts *o,
			 const size_t *order, const struct fs_route_result *res)
{
	struct fs_route_points p = pts_of(s);
	unsigned char *seen = calloc(s->n + 1, 1);
	int64_t len = -1;
	assert_non_null(seen);
	for (size_t i = 0; i < s->n; i++) {
		assert_true(order[i] < s->n);
		assert_false(seen[order[i]]);
		seen[order[i]] = 1;
	}
	free(seen);
	if (!s->n)
		return;
	assert_int_equal(order[0], o->start);
	if (o->mode == FS_ROUTE_START_END && o->end != o->start)
		assert_int_equal(order[s->n - 1], o->end);
	assert_int_equal(fs_route_length(&p, mode_closed(o), order, &len), 0);
	assert_int_equal(len, res->length);
}

/* Brute force: the shortest route over every permutation of the free points. */
struct brute {
	int64_t d[12][12];
	size_t n, perm[12];
	int closed;
	size_t end;		/* SIZE_MAX: free end */
	int64_t best;
};

static void brute_rec(struct brute *b, size_t k, int64_t len)
{
	size_t last = b->end == SIZE_MAX ? b->n : b->n - 1;
	if (len >= b->best)
		return;
	if (k == last) {
		if (b->end != SIZE_MAX && k < b->n)
			len += b->d[b->perm[k - 1]][b->end];
		if (b->closed)
			len += b->d[b->perm[b->n - 1]][b->perm[0]];
		if (len < b->best)
			b->best = len;
		return;
	}
	for (size_t i = k; i < last; i++) {
		size_t t = b->perm[k];
		b->perm[k] = b->perm[i];
		b->perm[i] = t;
		brute_rec(b, k + 1, len + b->d[b->perm[k - 1]][b->perm[k]]);
		b->perm[i] = b->perm[k];
		b->perm[k] = t;
	}
}

static int64_t brute_force(const struct set *s, const struct fs_route_opts *o)
{
	struct brute b;
	size_t k = 1;
	memset(&b, 0, sizeof b);
	b.n = s->n;
	b.best = INT64_MAX;
	b.closed = mode_closed(o);
	b.end = o->mode == FS_ROUTE_START_END && !b.closed ? o->end : SIZE_MAX;
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = 0; j < s->n; j++)
			assert_int_equal(fs_route_distance(s->metric, s->a[i], s->b[i], s->a[j], s->b[j],
							   &b.d[i][j]), 0);
	if (s->n == 1)
		return 0;
	b.perm[0] = o->start;
	for (size_t i = 0; i < s->n; i++)
		if (i != o->start && i != b.end)
			b.perm[k++] = i;
	if (b.end != SIZE_MAX)
		b.perm[k] = b.end;
	brute_rec(&b, 1, 0);
	return b.best;
}

static struct set *tsplib_set(enum fs_route_metric metric, const double *x, const double *y, size_t n)
{
	struct set *s = set_new(metric, n);
	memcpy(s->a, x, n * sizeof *x);
	memcpy(s->b, y, n * sizeof *y);
	return s;
}

static int64_t tour_length(const struct set *s, const int *tour1)
{
	struct fs_route_points p = pts_of(s);
	size_t order[64];
	int64_t len = -1;
	for (size_t i = 0; i < s->n; i++)
		order[i] = (size_t)tour1[i] - 1;
	assert_int_equal(fs_route_length(&p, 1, order, &len), 0);
	return len;
}

static int64_t gc(double la1, double lo1, double la2, double lo2)
{
	int64_t d = -1;
	assert_int_equal(fs_route_distance(FS_ROUTE_GREAT_CIRCLE, la1, lo1, la2, lo2, &d), 0);
	return d;
}

/* ---- metrics ---- */

static void test_tsplib_metrics(void **state)
{
	int64_t d;
	(void)state;
	/* EUC_2D: nint of the Euclidean distance */
	assert_int_equal(fs_route_distance(FS_ROUTE_EUC_2D, 0, 0, 3, 4, &d), 0);
	assert_int_equal(d, 5);
	assert_int_equal(fs_route_distance(FS_ROUTE_EUC_2D, 0, 0, 1, 1, &d), 0);
	assert_int_equal(d, 1);
	assert_int_equal(fs_route_distance(FS_ROUTE_EUC_2D, 0, 0, 1.5, 0, &d), 0);
	assert_int_equal(d, 2);
	assert_int_equal(fs_route_distance(FS_ROUTE_EUC_2D, 7, 7, 7, 7, &d), 0);
	assert_int_equal(d, 0);
	/* ATT: r = sqrt(100/10) = 3.16, t = 3 < r, so 4; r = sqrt(90/10) = 3 exactly */
	assert_int_equal(fs_route_distance(FS_ROUTE_ATT, 0, 0, 10, 0, &d), 0);
	assert_int_equal(d, 4);
	assert_int_equal(fs_route_distance(FS_ROUTE_ATT, 0, 0, 9, 3, &d), 0);
	assert_int_equal(d, 3);
	/* GEO: identical points are 1 apart in TSPLIB95 */
	assert_int_equal(fs_route_distance(FS_ROUTE_GEO, 38.24, 20.42, 38.24, 20.42, &d), 0);
	assert_int_equal(d, 1);
	/* GEO, ulysses16 cities 1 and 2 (independently computed: 509) */
	assert_int_equal(fs_route_distance(FS_ROUTE_GEO, 38.24, 20.42, 39.57, 26.15, &d), 0);
	assert_int_equal(d, 509);
}

static void test_great_circle(void **state)
{
	(void)state;
	assert_int_equal(gc(0, 0, 1, 0), 111195);		/* one degree of latitude */
	assert_int_equal(gc(48.8566, 2.3522, 51.5074, -0.1278), 343557); /* Paris-London */
	assert_int_equal(gc(0, 0, 0, 180), 20015114);		/* half the equator */
	assert_int_equal(gc(0, 179.9, 0, -179.9), 22239);	/* across the antimeridian */
	assert_int_equal(gc(0, 180, 0, -180), 0);
	assert_int_equal(gc(89.99, 0, 89.99, 180), 2224);	/* over the pole */
	assert_int_equal(gc(90, 0, 90, 123), 0);		/* the pole is one point */
	assert_int_equal(gc(-90, -180, -90, 45), 0);
	assert_int_equal(gc(12.5, 33.3, 12.5, 33.3), 0);
	assert_int_equal(gc(10, 20, 30, 40), gc(30, 40, 10, 20));
}

static void test_invalid_input(void **state)
{
	struct fs_route_opts o = det_opts(FS_ROUTE_CLOSED, 0, 0, 10);
	double a[3] = { 1, 2, 3 }, b[3] = { 1, 2, 3 };
	struct fs_route_points p = { FS_ROUTE_GREAT_CIRCLE, a, b, 3 };
	size_t order[3] = { 0, 1, 2 };
	int64_t d;
	(void)state;

	assert_int_equal(fs_route_solve(&p, &o, order, NULL), 0);
	a[1] = NAN;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	assert_int_equal(fs_route_exact(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	a[1] = 2;
	b[2] = INFINITY;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	b[2] = -INFINITY;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	b[2] = 3;
	a[0] = 90.0001;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	a[0] = -90.5;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	a[0] = 1;
	b[0] = 180.01;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	b[0] = -181;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	b[0] = 1;
	assert_int_equal(fs_route_distance(FS_ROUTE_GREAT_CIRCLE, NAN, 0, 0, 0, &d), FIELDSYNC_EINVAL);
	assert_int_equal(fs_route_distance(FS_ROUTE_GREAT_CIRCLE, 0, 0, 0, 200, &d), FIELDSYNC_EINVAL);
	assert_int_equal(fs_route_distance(FS_ROUTE_EUC_2D, 1e9, 0, 0, 0, &d), FIELDSYNC_EINVAL);
	assert_int_equal(fs_route_distance(FS_ROUTE_EUC_2D, 0, NAN, 0, 0, &d), FIELDSYNC_EINVAL);
	assert_int_equal(fs_route_distance((enum fs_route_metric)42, 0, 0, 0, 0, &d), FIELDSYNC_EINVAL);

	/* planar metrics take any finite coordinate up to 5e8 */
	p.metric = FS_ROUTE_EUC_2D;
	a[0] = -400;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), 0);
	a[0] = 1;
	p.metric = FS_ROUTE_GREAT_CIRCLE;

	/* options */
	o.start = 3;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	o.start = 0;
	o.mode = FS_ROUTE_START_END;
	o.end = 3;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	o.mode = (enum fs_route_mode)7;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	o.mode = FS_ROUTE_CLOSED;
	o.max_iters = 0;	/* neither limit */
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	o.max_iters = 10;
	o.neighbours = 2;
	assert_int_equal(fs_route_solve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	o.neighbours = 10;
	assert_int_equal(fs_route_solve(NULL, &o, order, NULL), FIELDSYNC_EINVAL);
	assert_int_equal(fs_route_solve(&p, NULL, order, NULL), FIELDSYNC_EINVAL);

	/* improve wants a permutation that obeys the mode */
	order[0] = 0; order[1] = 1; order[2] = 1;
	assert_int_equal(fs_route_improve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	order[0] = 0; order[1] = 1; order[2] = 3;
	assert_int_equal(fs_route_improve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	order[0] = 1; order[1] = 0; order[2] = 2;
	assert_int_equal(fs_route_improve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	o.mode = FS_ROUTE_START_END;
	o.end = 1;
	order[0] = 0; order[1] = 1; order[2] = 2;
	assert_int_equal(fs_route_improve(&p, &o, order, NULL), FIELDSYNC_EINVAL);
	assert_int_equal(fs_route_length(&p, 1, order, &d), 0);
	order[2] = 0;
	assert_int_equal(fs_route_length(&p, 1, order, &d), FIELDSYNC_EINVAL);

	/* the exact solver's limit */
	{
		struct set *s = random_set(FS_ROUTE_EUC_2D, FS_ROUTE_EXACT_LIMIT + 1);
		struct fs_route_points q = pts_of(s);
		size_t big[FS_ROUTE_EXACT_LIMIT + 1];
		o = det_opts(FS_ROUTE_CLOSED, 0, 0, 10);
		assert_int_equal(fs_route_exact(&q, &o, big, NULL), FIELDSYNC_EINVAL);
		free(s);
	}
}

/* ---- exact solver ---- */

static void check_exact_all_modes(const struct set *s)
{
	struct fs_route_points p = pts_of(s);
	size_t order[16];
	for (int mode = 0; mode < 4; mode++) {
		struct fs_route_opts o;
		struct fs_route_result res;
		size_t st = s->n ? below(s->n) : 0, en = s->n ? below(s->n) : 0;
		if (mode == 2 && s->n > 1)
			while (en == st)
				en = below(s->n);
		if (mode == 3)
			en = st;	/* START_END back to the start */
		o = det_opts(mode == 0 ? FS_ROUTE_CLOSED : mode == 1 ? FS_ROUTE_OPEN : FS_ROUTE_START_END,
			     st, en, 10);
		assert_int_equal(fs_route_exact(&p, &o, order, &res), 0);
		assert_int_equal(res.exact, 1);
		assert_route(s, &o, order, &res);
		if (s->n)
			assert_int_equal(res.length, brute_force(s, &o));
		/* solve() takes the exact path for these sizes too */
		assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
		assert_route(s, &o, order, &res);
		if (s->n)
			assert_int_equal(res.length, brute_force(s, &o));
	}
}

static void test_exact_equals_brute_force(void **state)
{
	static const enum fs_route_metric metrics[] = {
		FS_ROUTE_GREAT_CIRCLE, FS_ROUTE_EUC_2D, FS_ROUTE_ATT, FS_ROUTE_GEO
	};
	(void)state;
	rng_state = 1;
	for (size_t n = 0; n <= 9; n++)
		for (size_t m = 0; m < 4; m++)
			for (int rep = 0; rep < (n <= 7 ? 4 : 1); rep++) {
				struct set *s = random_set(metrics[m], n);
				if (metrics[m] == FS_ROUTE_GEO)	/* DDD.MM around Greece */
					for (size_t i = 0; i < n; i++) {
						s->a[i] = urand(35, 42);
						s->b[i] = urand(-6, 27);
					}
				check_exact_all_modes(s);
				free(s);
			}
}

/* The heuristic path (exact_max = 0) is valid in every mode, never below the
 * optimum, and on these tiny sets finds it. */
static void test_heuristic_small_all_modes(void **state)
{
	(void)state;
	rng_state = 2;
	for (size_t n = 4; n <= 12; n++)
		for (int rep = 0; rep < 3; rep++) {
			struct set *s = random_set(FS_ROUTE_EUC_2D, n);
			struct fs_route_points p = pts_of(s);
			for (int mode = 0; mode < 4; mode++) {
				size_t st = below(n), en = below(n), order[12];
				struct fs_route_opts o;
				struct fs_route_result res;
				while (mode == 2 && en == st)
					en = below(n);
				if (mode == 3)
					en = st;
				o = det_opts(mode == 0 ? FS_ROUTE_CLOSED : mode == 1 ? FS_ROUTE_OPEN
					     : FS_ROUTE_START_END, st, en, 200);
				o.exact_max = 0;
				assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
				assert_int_equal(res.exact, 0);
				assert_route(s, &o, order, &res);
				assert_int_equal(res.length, brute_force(s, &o));
			}
			free(s);
		}
}

/* ---- local search ---- */

static void test_improve_never_worse(void **state)
{
	static const size_t sizes[] = { 4, 5, 6, 9, 17, 50, 200, 600 };
	(void)state;
	rng_state = 3;
	for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
		size_t n = sizes[z];
		for (int mode = 0; mode < 3; mode++) {
			struct set *s = random_set(mode == 1 ? FS_ROUTE_GREAT_CIRCLE : FS_ROUTE_EUC_2D, n);
			struct fs_route_points p = pts_of(s);
			size_t *order = malloc(n * sizeof *order), st = below(n), en = below(n);
			struct fs_route_opts o;
			struct fs_route_result res;
			int64_t before;
			while (en == st)
				en = below(n);
			o = det_opts((enum fs_route_mode)mode, st, en, z & 1 ? 0 : 30);
			if (z & 1) {
				o.max_iters = 1;	/* little more than the local search itself */
				o.matrix_max = 0;	/* and distances on the fly */
			}
			assert_non_null(order);
			/* a random start route that obeys the mode */
			for (size_t i = 0; i < n; i++)
				order[i] = i;
			for (size_t i = n - 1; i > 0; i--) {
				size_t j = below(i + 1), t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
			for (size_t i = 0; i < n; i++)
				if (order[i] == st) {
					order[i] = order[0];
					order[0] = st;
				}
			if (mode == FS_ROUTE_START_END)
				for (size_t i = 1; i < n; i++)
					if (order[i] == en) {
						order[i] = order[n - 1];
						order[n - 1] = en;
					}
			assert_int_equal(fs_route_length(&p, mode == FS_ROUTE_CLOSED, order, &before), 0);
			assert_int_equal(fs_route_improve(&p, &o, order, &res), 0);
			assert_route(s, &o, order, &res);
			assert_true(res.length <= before);
			if (n >= 17)	/* a random route is far from any local optimum */
				assert_true(res.length < before);
			/* from a local optimum, improving again changes nothing for the worse */
			before = res.length;
			assert_int_equal(fs_route_improve(&p, &o, order, &res), 0);
			assert_route(s, &o, order, &res);
			assert_true(res.length <= before);
			free(order);
			free(s);
		}
	}
}

static void test_improve_tiny(void **state)
{
	double a[3] = { 0, 10, 1 }, b[3] = { 0, 0, 0 };
	struct fs_route_points p = { FS_ROUTE_EUC_2D, a, b, 3 };
	struct fs_route_opts o = det_opts(FS_ROUTE_OPEN, 0, 0, 5);
	struct fs_route_result res;
	size_t order[3] = { 0, 1, 2 };
	(void)state;
	/* 0 -> 10 -> 1 is 19; 0 -> 1 -> 10 is 10 */
	assert_int_equal(fs_route_improve(&p, &o, order, &res), 0);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 1);
	assert_int_equal(res.length, 10);
	/* already optimal: stays */
	assert_int_equal(fs_route_improve(&p, &o, order, &res), 0);
	assert_int_equal(order[1], 2);
	assert_int_equal(res.length, 10);
}

/* ---- TSPLIB optima ---- */

static void test_tsplib_known_tours(void **state)
{
	struct set *s;
	(void)state;
	s = tsplib_set(FS_ROUTE_GEO, ulysses16_x, ulysses16_y, 16);
	assert_int_equal(tour_length(s, ulysses16_opt), 6859);
	free(s);
	s = tsplib_set(FS_ROUTE_ATT, att48_x, att48_y, 48);
	assert_int_equal(tour_length(s, att48_opt), 10628);
	free(s);
	s = tsplib_set(FS_ROUTE_EUC_2D, berlin52_x, berlin52_y, 52);
	assert_int_equal(tour_length(s, berlin52_opt), 7542);
	free(s);
}

static void solve_to(enum fs_route_metric metric, const double *x, const double *y, size_t n,
		     uint64_t iters, int64_t optimum)
{
	struct set *s = tsplib_set(metric, x, y, n);
	struct fs_route_points p = pts_of(s);
	struct fs_route_opts o = det_opts(FS_ROUTE_CLOSED, 0, 0, iters);
	struct fs_route_result res;
	size_t order[64];
	o.exact_max = 0;	/* the heuristic, not Held-Karp */
	assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
	assert_route(s, &o, order, &res);
	assert_int_equal(res.length, optimum);
	free(s);
}

static void test_tsplib_solver_reaches_optimum(void **state)
{
	struct set *s = tsplib_set(FS_ROUTE_GEO, ulysses16_x, ulysses16_y, 16);
	struct fs_route_points p = pts_of(s);
	struct fs_route_opts o = det_opts(FS_ROUTE_CLOSED, 0, 0, 10);
	struct fs_route_result res;
	size_t order[16];
	(void)state;
	/* Held-Karp proves it ... */
	assert_int_equal(fs_route_exact(&p, &o, order, &res), 0);
	assert_int_equal(res.length, 6859);
	free(s);
	/* ... and the search finds it */
	solve_to(FS_ROUTE_GEO, ulysses16_x, ulysses16_y, 16, 2000, 6859);
	solve_to(FS_ROUTE_ATT, att48_x, att48_y, 48, 5000, 10628);
	solve_to(FS_ROUTE_EUC_2D, berlin52_x, berlin52_y, 52, 5000, 7542);
}

/* ---- edge cases ---- */

static void test_tiny_sets(void **state)
{
	double a[3] = { 0, 3, 0 }, b[3] = { 0, 0, 4 };
	struct fs_route_points p = { FS_ROUTE_EUC_2D, a, b, 0 };
	struct fs_route_opts o = det_opts(FS_ROUTE_CLOSED, 0, 0, 10);
	struct fs_route_result res;
	size_t order[3] = { 9, 9, 9 };
	(void)state;

	/* n = 0: nothing to do, any start */
	o.start = 5;
	for (int mode = 0; mode < 3; mode++) {
		o.mode = (enum fs_route_mode)mode;
		assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
		assert_int_equal(res.length, 0);
		assert_int_equal(order[0], 9);
		assert_int_equal(fs_route_improve(&p, &o, order, &res), 0);
	}
	/* n = 1 */
	p.n = 1;
	o.start = o.end = 0;
	for (int mode = 0; mode < 3; mode++) {
		o.mode = (enum fs_route_mode)mode;
		assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
		assert_int_equal(order[0], 0);
		assert_int_equal(res.length, 0);
	}
	/* n = 2: 3 apart */
	p.n = 2;
	o.mode = FS_ROUTE_CLOSED;
	o.start = 1;
	assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 0);
	assert_int_equal(res.length, 6);
	o.mode = FS_ROUTE_OPEN;
	assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
	assert_int_equal(res.length, 3);
	o.mode = FS_ROUTE_START_END;
	o.start = 0;
	o.end = 1;
	assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	assert_int_equal(res.length, 3);
	o.end = 0;	/* back home: the closed tour */
	assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
	assert_int_equal(res.length, 6);
	/* n = 3: the 3-4-5 triangle */
	p.n = 3;
	o.mode = FS_ROUTE_CLOSED;
	assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
	assert_int_equal(res.length, 12);
	o.mode = FS_ROUTE_OPEN;
	o.start = 1;	/* from (3,0): to (0,0) then (0,4) is 7 */
	assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 2);
	assert_int_equal(res.length, 7);
	o.mode = FS_ROUTE_START_END;
	o.end = 0;	/* (3,0) -> (0,4) -> (0,0) */
	assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
	assert_int_equal(order[1], 2);
	assert_int_equal(res.length, 9);
}

static void test_duplicates(void **state)
{
	(void)state;
	rng_state = 4;
	/* 8 places, each listed twice: the best route is the 8-place route */
	for (int metric = 0; metric < 2; metric++) {
		struct set *u = random_set(metric ? FS_ROUTE_EUC_2D : FS_ROUTE_GREAT_CIRCLE, 8);
		struct set *d = set_new(u->metric, 16);
		struct fs_route_points pu = pts_of(u), pd;
		struct fs_route_result ru, rd;
		size_t order[16];
		for (int mode = 0; mode < 2; mode++) {
			struct fs_route_opts o = det_opts((enum fs_route_mode)mode, 0, 0, 300);
			for (size_t i = 0; i < 16; i++) {
				d->a[i] = u->a[i % 8];
				d->b[i] = u->b[i % 8];
			}
			pd = pts_of(d);
			assert_int_equal(fs_route_solve(&pu, &o, order, &ru), 0);
			o.exact_max = 0;
			assert_int_equal(fs_route_solve(&pd, &o, order, &rd), 0);
			assert_route(d, &o, order, &rd);
			assert_int_equal(rd.length, ru.length);
			/* the exact solver agrees */
			assert_int_equal(fs_route_exact(&pd, &o, order, &rd), 0);
			assert_int_equal(rd.length, ru.length);
		}
		free(u);
		free(d);
	}
}

static void test_identical_points(void **state)
{
	(void)state;
	for (int metric = 0; metric < 4; metric++) {
		for (size_t n = 1; n <= 300; n += 299) {
			struct set *s = set_new((enum fs_route_metric)metric, n);
			struct fs_route_points p = pts_of(s);
			struct fs_route_result res;
			size_t *order = malloc(n * sizeof *order);
			for (int mode = 0; mode < 3; mode++) {
				struct fs_route_opts o = det_opts((enum fs_route_mode)mode, n / 2, n - 1, 20);
				for (size_t i = 0; i < n; i++) {
					s->a[i] = 45.5;
					s->b[i] = -73.5;
				}
				assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
				assert_route(s, &o, order, &res);
				/* TSPLIB GEO puts identical points 1 apart */
				if (metric == FS_ROUTE_GEO)
					assert_int_equal(res.length, (int64_t)(n - 1 + (mode == 0 && n > 1)));
				else
					assert_int_equal(res.length, 0);
			}
			free(order);
			free(s);
		}
	}
}

static void test_antimeridian(void **state)
{
	struct set *s = set_new(FS_ROUTE_GREAT_CIRCLE, 41);
	struct fs_route_points p;
	struct fs_route_result res;
	size_t order[41], west = 0;
	int64_t straight;
	(void)state;
	rng_state = 5;
	/* 41 points on the equator from 170 E to 170 W, shuffled: the best path
	 * from the west end crosses 180 in a straight line, 20 degrees long. */
	for (size_t i = 0; i < 41; i++) {
		double lon = 170.0 + 0.5 * (double)i;
		s->a[i] = 0;
		s->b[i] = lon > 180.0 ? lon - 360.0 : lon;
	}
	for (size_t i = 40; i > 0; i--) {
		size_t j = below(i + 1);
		double t = s->b[i];
		s->b[i] = s->b[j];
		s->b[j] = t;
	}
	for (size_t i = 0; i < 41; i++)
		if (s->b[i] == 170.0)
			west = i;
	p = pts_of(s);
	{
		struct fs_route_opts o = det_opts(FS_ROUTE_OPEN, west, 0, 200);
		assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
		assert_route(s, &o, order, &res);
		straight = 40 * gc(0, 170, 0, 170.5);
		assert_int_equal(res.length, straight);
		assert_true(res.length < 2300000);	/* not the 340 degrees the other way */
		for (size_t i = 1; i < 41; i++) {	/* eastwards all the way */
			double prev = s->b[order[i - 1]], cur = s->b[order[i]];
			double step = cur - prev < -180 ? cur - prev + 360 : cur - prev;
			assert_true(step > 0.49 && step < 0.51);
		}
	}
	free(s);
}

static void test_poles(void **state)
{
	(void)state;
	for (int south = 0; south < 2; south++) {
		/* eight points on a ring 0.1 degree from the pole, lons in scrambled order */
		static const double lons[8] = { 0, 180, 45, -135, 90, -90, 135, -45 };
		struct set *s = set_new(FS_ROUTE_GREAT_CIRCLE, 9);
		struct fs_route_points p = pts_of(s);
		struct fs_route_opts o = det_opts(FS_ROUTE_CLOSED, 0, 0, 50);
		struct fs_route_result res;
		size_t order[9];
		int64_t ring = 0;
		for (size_t i = 0; i < 8; i++) {
			s->a[i] = south ? -89.9 : 89.9;
			s->b[i] = lons[i];
		}
		s->n = 8;
		p = pts_of(s);
		for (int e = 0; e < 8; e++) {
			double l1 = 45.0 * e, l2 = 45.0 * (e + 1);
			ring += gc(89.9, l1 > 180 ? l1 - 360 : l1, 89.9, l2 > 180 ? l2 - 360 : l2);
		}
		assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
		assert_route(s, &o, order, &res);
		assert_int_equal(res.length, ring);	/* round the ring, ~68 km */
		assert_true(res.length > 67000 && res.length < 69000);
		/* with the pole itself added, and the heuristic doing it */
		s->a[8] = south ? -90 : 90;
		s->b[8] = 77;
		s->n = 9;
		p = pts_of(s);
		o.exact_max = 0;
		o.start = 8;
		assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
		assert_route(s, &o, order, &res);
		o.exact_max = 12;
		{
			struct fs_route_result ex;
			assert_int_equal(fs_route_solve(&p, &o, order, &ex), 0);
			assert_int_equal(res.length, ex.length);
		}
		free(s);
	}
}

/* ---- modes on the heuristic path ---- */

static void test_modes_heuristic(void **state)
{
	struct set *s;
	struct fs_route_points p;
	struct fs_route_result rc, rse, ro, rpath;
	size_t a[120], b[120];
	(void)state;
	rng_state = 6;
	s = random_set(FS_ROUTE_GREAT_CIRCLE, 120);
	p = pts_of(s);
	{
		struct fs_route_opts oc = det_opts(FS_ROUTE_CLOSED, 7, 0, 500);
		struct fs_route_opts ose = det_opts(FS_ROUTE_START_END, 7, 7, 500);
		struct fs_route_opts oo = det_opts(FS_ROUTE_OPEN, 7, 0, 500);
		struct fs_route_opts op = det_opts(FS_ROUTE_START_END, 7, 99, 500);
		/* START_END with end == start is the closed tour, to the last bit */
		assert_int_equal(fs_route_solve(&p, &oc, a, &rc), 0);
		assert_route(s, &oc, a, &rc);
		assert_int_equal(fs_route_solve(&p, &ose, b, &rse), 0);
		assert_route(s, &ose, b, &rse);
		assert_memory_equal(a, b, sizeof a);
		assert_int_equal(rc.length, rse.length);
		/* an open path is shorter than the tour minus its longest edge
		 * could ever need to be; a fixed end costs more than a free one */
		assert_int_equal(fs_route_solve(&p, &oo, a, &ro), 0);
		assert_route(s, &oo, a, &ro);
		assert_int_equal(fs_route_solve(&p, &op, a, &rpath), 0);
		assert_route(s, &op, a, &rpath);
		assert_true(ro.length < rc.length);
		assert_true(ro.length <= rpath.length);
	}
	free(s);
}

/* Home as two points (start and end at the same place) = the closed tour. */
static void test_depot_as_two_points(void **state)
{
	struct set *s = random_set(FS_ROUTE_GREAT_CIRCLE, 12);
	struct set *t = set_new(FS_ROUTE_GREAT_CIRCLE, 11);
	struct fs_route_points ps, pt;
	struct fs_route_opts os = det_opts(FS_ROUTE_START_END, 0, 11, 100);
	struct fs_route_opts ot = det_opts(FS_ROUTE_CLOSED, 0, 0, 100);
	struct fs_route_result rs, rt;
	size_t order[12];
	(void)state;
	rng_state = 7;
	s->a[11] = s->a[0];
	s->b[11] = s->b[0];
	memcpy(t->a, s->a, 11 * sizeof *t->a);
	memcpy(t->b, s->b, 11 * sizeof *t->b);
	ps = pts_of(s);
	pt = pts_of(t);
	assert_int_equal(fs_route_solve(&ps, &os, order, &rs), 0);
	assert_route(s, &os, order, &rs);
	assert_int_equal(fs_route_solve(&pt, &ot, order, &rt), 0);
	assert_int_equal(rs.length, rt.length);
	/* the heuristic models it the same way */
	os.exact_max = ot.exact_max = 0;
	assert_int_equal(fs_route_solve(&ps, &os, order, &rs), 0);
	assert_route(s, &os, order, &rs);
	assert_int_equal(rs.length, rt.length);
	free(s);
	free(t);
}

/* ---- determinism and size ---- */

static void test_deterministic(void **state)
{
	struct set *s;
	struct fs_route_points p;
	struct fs_route_result r1, r2, r3;
	size_t *a = malloc(400 * sizeof *a), *b = malloc(400 * sizeof *b);
	struct fs_route_opts o = det_opts(FS_ROUTE_OPEN, 3, 0, 3000);
	(void)state;
	rng_state = 8;
	s = random_set(FS_ROUTE_GREAT_CIRCLE, 400);
	p = pts_of(s);
	assert_non_null(a);
	assert_non_null(b);
	o.seed = 77;
	assert_int_equal(fs_route_solve(&p, &o, a, &r1), 0);
	assert_int_equal(fs_route_solve(&p, &o, b, &r2), 0);
	assert_route(s, &o, a, &r1);
	assert_memory_equal(a, b, 400 * sizeof *a);
	assert_int_equal(r1.length, r2.length);
	assert_int_equal(r1.iterations, 3000);
	assert_int_equal(r1.budget_hit, 0);
	/* the same numbers with distances computed on the fly */
	o.matrix_max = 0;
	assert_int_equal(fs_route_solve(&p, &o, b, &r3), 0);
	assert_memory_equal(a, b, 400 * sizeof *a);
	/* another seed: still a valid route */
	o.seed = 78;
	assert_int_equal(fs_route_solve(&p, &o, b, &r3), 0);
	assert_route(s, &o, b, &r3);
	free(a);
	free(b);
	free(s);
}

/* 20000 points: no n^2 matrix (it would be 1.6 GB), a few kicks. */
static void test_large(void **state)
{
	struct set *s;
	struct fs_route_points p;
	struct fs_route_result res;
	size_t *order = malloc(20000 * sizeof *order);
	struct fs_route_opts o = det_opts(FS_ROUTE_START_END, 0, 19999, 100);
	(void)state;
	rng_state = 9;
	s = random_set(FS_ROUTE_EUC_2D, 20000);
	p = pts_of(s);
	assert_non_null(order);
	assert_int_equal(fs_route_solve(&p, &o, order, &res), 0);
	assert_route(s, &o, order, &res);
	/* a good route through 20000 uniform points of [0,1000)^2 is about
	 * 0.7124 sqrt(n A) = 100750; a bad one is many times that */
	assert_true(res.length < 110000);
	free(order);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsplib_metrics),
		cmocka_unit_test(test_great_circle),
		cmocka_unit_test(test_invalid_input),
		cmocka_unit_test(test_exact_equals_brute_force),
		cmocka_unit_test(test_heuristic_small_all_modes),
		cmocka_unit_test(test_improve_never_worse),
		cmocka_unit_test(test_improve_tiny),
		cmocka_unit_test(test_tsplib_known_tours),
		cmocka_unit_test(test_tsplib_solver_reaches_optimum),
		cmocka_unit_test(test_tiny_sets),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_identical_points),
		cmocka_unit_test(test_antimeridian),
		cmocka_unit_test(test_poles),
		cmocka_unit_test(test_modes_heuristic),
		cmocka_unit_test(test_depot_as_two_points),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
