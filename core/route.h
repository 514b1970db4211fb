/*
 * route.h - the route planner: orders n points into a short visiting route
 * (see docs/route.md for the measured figures).
 *
 * Input: n points given as two parallel arrays a[] and b[] and a metric:
 *   FS_ROUTE_GREAT_CIRCLE  a = latitude, b = longitude, decimal degrees,
 *                          lat in [-90, 90], lon in [-180, 180]; distances are
 *                          great-circle (haversine, sphere of radius 6371008.8 m)
 *                          rounded to whole metres.
 *   FS_ROUTE_EUC_2D, FS_ROUTE_ATT, FS_ROUTE_GEO
 *                          the TSPLIB95 definitions, to the letter (EUC_2D: nint
 *                          of the Euclidean distance; ATT: pseudo-Euclidean;
 *                          GEO: a, b = latitude, longitude as DDD.MM, PI =
 *                          3.141592, RRR = 6378.388, (int)(RRR*acos(..) + 1.0)).
 * Coordinates that are NaN, infinite, out of range (great circle) or larger
 * than 5e8 in magnitude (the others, so that every distance fits an int32)
 * are refused with FIELDSYNC_EINVAL.
 *
 * Output: order[0..n-1], a permutation of 0..n-1, and the route length in the
 * metric's unit (metres for great circle). Modes (struct fs_route_opts):
 *   FS_ROUTE_CLOSED     closed tour; order[0] == start; the length includes
 *                       the way back from order[n-1] to order[0].
 *   FS_ROUTE_OPEN       path from start that ends wherever is shortest.
 *   FS_ROUTE_START_END  path from start to end (order[n-1] == end). With
 *                       end == start it is the closed tour through that depot,
 *                       i.e. FS_ROUTE_CLOSED: "leave home, come back home" is
 *                       one point, not two. (Two distinct points at the same
 *                       place work too: the path then has a 0 m last leg.)
 * The agent passes the rep's position as one of the points (say index 0) with
 * start = 0, and, to come back, mode START_END with end = start or, for a
 * different end point (the office), end = that point's index.
 *
 * Algorithm:
 *   n <= exact_max (default 12, at most FS_ROUTE_EXACT_LIMIT): Held-Karp
 *   dynamic programming, exact in every mode (O(2^n n^2) time, O(2^n n) memory).
 *   Larger n: every mode is a closed tour with one fixed edge. START_END fixes
 *   the edge end-start; OPEN adds a dummy node at distance 0 from everything
 *   and fixes dummy-start. Moves never remove the fixed edge. Then
 *     1. neighbour lists: the K (default 10) nearest points of each point, from
 *        a k-d tree (planar coordinates, or unit vectors on the sphere);
 *     2. greedy-edge construction on the candidate edges, fragments joined
 *        nearest-endpoint first;
 *     3. local search: 2-opt and Or-opt (segments of 1-3 points moved, either
 *        way round) over the neighbour lists, first improvement, a queue of
 *        "dirty" points standing for don't-look bits;
 *     4. iterated local search: a double-bridge kick on short segments near a
 *        random position, local search from the 8 touched points, keep the
 *        result if not longer, else undo (a journal of changed positions).
 *   Stops at max_iters kicks or budget_ms milliseconds, whichever comes first;
 *   0 switches either limit off (not both). Distances come from an int32
 *   matrix while n <= matrix_max (default 2000), else are computed on the fly
 *   (memory is then O(n K)).
 *
 * Determinism: the solver uses its own PRNG (splitmix64) seeded with
 * opts.seed. With an iteration cap and budget_ms == 0 (or a budget that does
 * not bind) the same input gives the same order on every run and machine
 * that computes IEEE doubles alike. The exact solver is deterministic always.
 *
 * Ownership: the caller owns a[], b[] and order[] (n entries); nothing is kept
 * after a call returns; the solver allocates its working memory and frees it
 * before returning. Functions are reentrant (no global state). No I/O.
 * Errors: 0, or FIELDSYNC_EINVAL (bad points, options or order; detail in
 * fs_errmsg_get()), FIELDSYNC_ENOMEM, FIELDSYNC_ELIMIT (n >= 2^28). On error
 * order[] may have been written.
 */
#ifndef FS_ROUTE_H
#define FS_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define FS_ROUTE_EXACT_LIMIT 16	/* largest n the exact solver accepts */

enum fs_route_metric {
	FS_ROUTE_GREAT_CIRCLE = 0,
	FS_ROUTE_EUC_2D,
	FS_ROUTE_ATT,
	FS_ROUTE_GEO
};

enum fs_route_mode {
	FS_ROUTE_CLOSED = 0,
	FS_ROUTE_OPEN,
	FS_ROUTE_START_END
};

struct fs_route_points {
	enum fs_route_metric metric;
	const double *a;	/* latitude (GREAT_CIRCLE, GEO) or x */
	const double *b;	/* longitude (GREAT_CIRCLE, GEO) or y */
	size_t n;
};

struct fs_route_opts {
	enum fs_route_mode mode;
	size_t start;		/* first point of the route (CLOSED too) */
	size_t end;		/* last point, START_END only */
	uint64_t seed;		/* PRNG seed (default 1) */
	uint32_t budget_ms;	/* time limit, 0 = none (default 100) */
	uint64_t max_iters;	/* ILS kick limit, 0 = none (default 0) */
	unsigned neighbours;	/* K nearest per point, 4..32 (default 10) */
	size_t exact_max;	/* Held-Karp up to this n (default 12, max 16) */
	size_t matrix_max;	/* distance matrix up to this n (default 2000) */
};

struct fs_route_result {
	int64_t length;		/* in the metric's unit; metres for great circle */
	uint64_t iterations;	/* ILS kicks done */
	int exact;		/* 1: proven optimal (exact solver) */
	int budget_hit;		/* 1: the time budget stopped the search */
};

/* Defaults: CLOSED from point 0, seed 1, 100 ms, no iteration cap, K = 10. */
void fs_route_opts_init(struct fs_route_opts *o);

/* Plan a route through all points; order[] gets n entries. res may be NULL. */
int fs_route_solve(const struct fs_route_points *p, const struct fs_route_opts *o,
		   size_t *order, struct fs_route_result *res);

/* Held-Karp for n <= FS_ROUTE_EXACT_LIMIT (else FIELDSYNC_EINVAL); ignores the
 * search options (seed, budget, ...). res->exact is 1. */
int fs_route_exact(const struct fs_route_points *p, const struct fs_route_opts *o,
		   size_t *order, struct fs_route_result *res);

/* Local search and ILS from the route already in order[] (a permutation that
 * obeys the mode: order[0] == start, order[n-1] == end for START_END); the
 * result is never longer than what was passed in. For re-planning a route the
 * rep has edited by hand, and for tests. */
int fs_route_improve(const struct fs_route_points *p, const struct fs_route_opts *o,
		     size_t *order, struct fs_route_result *res);

/* Length of order[] (must be a permutation of 0..n-1), closed or open. */
int fs_route_length(const struct fs_route_points *p, int closed,
		    const size_t *order, int64_t *length);

/* Distance between two points under a metric (the same numbers the solver
 * uses). Note TSPLIB GEO gives 1, not 0, for two identical points. */
int fs_route_distance(enum fs_route_metric metric, double a1, double b1,
		      double a2, double b2, int64_t *d);

#endif
