/*
 * route.c - the route planner (algorithm, modes and ownership: route.h).
 *
 * Internals in one place:
 *   struct pt     per point data the metric needs (planar x/y, GEO radians,
 *                 or a unit vector for great circle: the chord c between two
 *                 unit vectors gives the haversine distance 2R asin(c/2)).
 *   struct rt     the working state of one heuristic run: the tour as an
 *                 array (tour[] / pos[]), neighbour lists, the queue that
 *                 plays the part of don't-look bits, and the journal that
 *                 lets an ILS step be undone in time proportional to what it
 *                 changed.
 * Node ids are int32; the cycle has m = n nodes, or n + 1 with the dummy of
 * OPEN mode (the last id). At most one edge (fa, fb) is fixed.
 */
#include "route.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEO_PI     3.141592
#define GEO_RRR    6378.388
#define EARTH_R    6371008.8	/* IUGG mean Earth radius, metres */
#define COORD_MAX  5e8
#define N_LIMIT    ((size_t)1 << 28)
#define MATRIX_CAP 4096		/* never more than 64 MB of matrix */
#define KD_LEAF    8
#define KICK_SEG   30		/* longest segment of a double-bridge kick */
#define RESTART_KICKS 10	/* back to the best after 10 m fruitless kicks */

struct pt {
	double x, y, z;
};

/* ---- metrics ---- */

static int check_point(enum fs_route_metric metric, double a, double b, size_t i)
{
	if (!isfinite(a) || !isfinite(b))
		return fs_err(FIELDSYNC_EINVAL, "route: point %zu: coordinate is not a finite number", i);
	if (metric == FS_ROUTE_GREAT_CIRCLE) {
		if (a < -90.0 || a > 90.0)
			return fs_err(FIELDSYNC_EINVAL, "route: point %zu: latitude %g is outside [-90, 90]", i, a);
		if (b < -180.0 || b > 180.0)
			return fs_err(FIELDSYNC_EINVAL, "route: point %zu: longitude %g is outside [-180, 180]", i, b);
	} else if (fabs(a) > COORD_MAX || fabs(b) > COORD_MAX) {
		return fs_err(FIELDSYNC_EINVAL, "route: point %zu: coordinate beyond +-%g", i, COORD_MAX);
	}
	return 0;
}

static int check_metric(enum fs_route_metric metric)
{
	switch (metric) {
	case FS_ROUTE_GREAT_CIRCLE:
	case FS_ROUTE_EUC_2D:
	case FS_ROUTE_ATT:
	case FS_ROUTE_GEO:
		return 0;
	}
	return fs_err(FIELDSYNC_EINVAL, "route: unknown metric %d", (int)metric);
}

/* TSPLIB95 GEO: DDD.MM to radians, degrees truncated as in the reference code. */
static double geo_rad(double v)
{
	double deg = (double)(long long)v;
	return GEO_PI * (deg + 5.0 * (v - deg) / 3.0) / 180.0;
}

static struct pt make_pt(enum fs_route_metric metric, double a, double b)
{
	struct pt p = { a, b, 0.0 };
	if (metric == FS_ROUTE_GEO) {
		p.x = geo_rad(a);
		p.y = geo_rad(b);
	} else if (metric == FS_ROUTE_GREAT_CIRCLE) {
		double la = a * (M_PI / 180.0), lo = b * (M_PI / 180.0);
		p.x = cos(la) * cos(lo);
		p.y = cos(la) * sin(lo);
		p.z = sin(la);
	}
	return p;
}

static int32_t pt_dist(enum fs_route_metric metric, const struct pt *p, const struct pt *q)
{
	double dx = p->x - q->x, dy = p->y - q->y, dz, r, q1, q2, q3, c;
	int32_t t;

	switch (metric) {
	case FS_ROUTE_EUC_2D:
		return (int32_t)(sqrt(dx * dx + dy * dy) + 0.5);
	case FS_ROUTE_ATT:
		r = sqrt((dx * dx + dy * dy) / 10.0);
		t = (int32_t)(r + 0.5);
		return t < r ? t + 1 : t;
	case FS_ROUTE_GEO:
		q1 = cos(p->y - q->y);
		q2 = cos(p->x - q->x);
		q3 = cos(p->x + q->x);
		c = 0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3);
		if (c > 1.0)
			c = 1.0;
		if (c < -1.0)
			c = -1.0;
		return (int32_t)(GEO_RRR * acos(c) + 1.0);
	case FS_ROUTE_GREAT_CIRCLE:
		break;
	}
	dz = p->z - q->z;
	c = 0.5 * sqrt(dx * dx + dy * dy + dz * dz);
	if (c > 1.0)
		c = 1.0;
	return (int32_t)(2.0 * EARTH_R * asin(c) + 0.5);
}

/* ---- checks on what the caller passed ---- */

static int check_points(const struct fs_route_points *p)
{
	int rc;
	if (!p)
		return fs_err(FIELDSYNC_EINVAL, "route: no points");
	if ((rc = check_metric(p->metric)))
		return rc;
	if (p->n >= N_LIMIT)
		return fs_err(FIELDSYNC_ELIMIT, "route: %zu points is too many", p->n);
	if (p->n && (!p->a || !p->b))
		return fs_err(FIELDSYNC_EINVAL, "route: no coordinates");
	for (size_t i = 0; i < p->n; i++)
		if ((rc = check_point(p->metric, p->a[i], p->b[i], i)))
			return rc;
	return 0;
}

static int check_opts(const struct fs_route_opts *o, size_t n, int search)
{
	if (!o)
		return fs_err(FIELDSYNC_EINVAL, "route: no options");
	if (o->mode != FS_ROUTE_CLOSED && o->mode != FS_ROUTE_OPEN && o->mode != FS_ROUTE_START_END)
		return fs_err(FIELDSYNC_EINVAL, "route: unknown mode %d", (int)o->mode);
	if (n && o->start >= n)
		return fs_err(FIELDSYNC_EINVAL, "route: start %zu is not one of the %zu points", o->start, n);
	if (n && o->mode == FS_ROUTE_START_END && o->end >= n)
		return fs_err(FIELDSYNC_EINVAL, "route: end %zu is not one of the %zu points", o->end, n);
	if (!search)
		return 0;
	if (o->neighbours < 4 || o->neighbours > 32)
		return fs_err(FIELDSYNC_EINVAL, "route: neighbours must be in 4..32");
	if (!o->budget_ms && !o->max_iters)
		return fs_err(FIELDSYNC_EINVAL, "route: neither a time budget nor an iteration cap");
	return 0;
}

/* START_END with end == start is the closed tour through start. */
static int is_closed(const struct fs_route_opts *o)
{
	return o->mode == FS_ROUTE_CLOSED || (o->mode == FS_ROUTE_START_END && o->end == o->start);
}

static int check_order(const size_t *order, size_t n)
{
	unsigned char *seen;
	int rc = 0;
	if (!n)
		return 0;
	if (!order)
		return fs_err(FIELDSYNC_EINVAL, "route: no order");
	seen = calloc(n, 1);
	if (!seen)
		return fs_err(FIELDSYNC_ENOMEM, "route: out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		if (order[i] >= n || seen[order[i]])
			rc = fs_err(FIELDSYNC_EINVAL, "route: order is not a permutation (entry %zu)", i);
		else
			seen[order[i]] = 1;
	}
	free(seen);
	return rc;
}

/* Reverse order[1..n-1] when that makes order[1] < order[n-1]: a closed tour
 * has two directions, and callers are better off always getting the same one. */
static void canonical_direction(size_t *order, size_t n)
{
	if (n < 3 || order[1] < order[n - 1])
		return;
	for (size_t i = 1, j = n - 1; i < j; i++, j--) {
		size_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

static void fill_result(struct fs_route_result *res, int64_t length, uint64_t iters, int exact, int hit)
{
	if (!res)
		return;
	res->length = length;
	res->iterations = iters;
	res->exact = exact;
	res->budget_hit = hit;
}

/* ---- public helpers ---- */

void fs_route_opts_init(struct fs_route_opts *o)
{
	memset(o, 0, sizeof *o);
	o->mode = FS_ROUTE_CLOSED;
	o->seed = 1;
	o->budget_ms = 100;
	o->neighbours = 10;
	o->exact_max = 12;
	o->matrix_max = 2000;
}

int fs_route_distance(enum fs_route_metric metric, double a1, double b1,
		      double a2, double b2, int64_t *d)
{
	int rc;
	struct pt p, q;
	if ((rc = check_metric(metric)) || (rc = check_point(metric, a1, b1, 0)) ||
	    (rc = check_point(metric, a2, b2, 1)))
		return rc;
	p = make_pt(metric, a1, b1);
	q = make_pt(metric, a2, b2);
	*d = pt_dist(metric, &p, &q);
	return 0;
}

static int64_t order_length(const struct fs_route_points *p, int closed, const size_t *order)
{
	int64_t len = 0;
	struct pt first, prev, cur;
	if (p->n < 2)
		return 0;
	first = prev = make_pt(p->metric, p->a[order[0]], p->b[order[0]]);
	for (size_t i = 1; i < p->n; i++) {
		cur = make_pt(p->metric, p->a[order[i]], p->b[order[i]]);
		len += pt_dist(p->metric, &prev, &cur);
		prev = cur;
	}
	if (closed)
		len += pt_dist(p->metric, &prev, &first);
	return len;
}

int fs_route_length(const struct fs_route_points *p, int closed,
		    const size_t *order, int64_t *length)
{
	int rc;
	if ((rc = check_points(p)) || (rc = check_order(order, p->n)))
		return rc;
	*length = order_length(p, closed, order);
	return 0;
}

/* ---- exact: Held-Karp ---- */

int fs_route_exact(const struct fs_route_points *p, const struct fs_route_opts *o,
		   size_t *order, struct fs_route_result *res)
{
	int32_t d[FS_ROUTE_EXACT_LIMIT][FS_ROUTE_EXACT_LIMIT];
	struct pt pts[FS_ROUTE_EXACT_LIMIT];
	size_t oth[FS_ROUTE_EXACT_LIMIT];	/* the points other than start */
	size_t n, k, s, full, jend = 0;
	int64_t *dp, best = INT64_MAX;
	int rc, closed;

	if ((rc = check_points(p)) || (rc = check_opts(o, p->n, 0)))
		return rc;
	n = p->n;
	if (n > FS_ROUTE_EXACT_LIMIT)
		return fs_err(FIELDSYNC_EINVAL, "route: %zu points is too many for the exact solver", n);
	if (!n) {
		fill_result(res, 0, 0, 1, 0);
		return 0;
	}
	closed = is_closed(o);
	s = o->start;
	for (size_t i = 0; i < n; i++)
		pts[i] = make_pt(p->metric, p->a[i], p->b[i]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			d[i][j] = i == j ? 0 : pt_dist(p->metric, &pts[i], &pts[j]);
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (i != s)
			oth[k++] = i;
	order[0] = s;
	if (!k) {
		fill_result(res, 0, 0, 1, 0);
		return 0;
	}

	/* dp[S * k + j]: shortest path from s through exactly the set S of
	 * others, ending at others[j] (j in S). */
	full = ((size_t)1 << k) - 1;
	dp = malloc(((size_t)1 << k) * k * sizeof *dp);
	if (!dp)
		return fs_err(FIELDSYNC_ENOMEM, "route: out of memory");
	for (size_t i = 0; i < ((size_t)1 << k) * k; i++)
		dp[i] = INT64_MAX;
	for (size_t j = 0; j < k; j++)
		dp[((size_t)1 << j) * k + j] = d[s][oth[j]];
	for (size_t S = 1; S < full; S++) {
		for (size_t j = 0; j < k; j++) {
			int64_t v = dp[S * k + j];
			if (v == INT64_MAX)
				continue;
			for (size_t t = 0; t < k; t++) {
				size_t T = S | ((size_t)1 << t);
				if (T == S)
					continue;
				if (v + d[oth[j]][oth[t]] < dp[T * k + t])
					dp[T * k + t] = v + d[oth[j]][oth[t]];
			}
		}
	}
	for (size_t j = 0; j < k; j++) {
		int64_t v = dp[full * k + j];
		if (closed)
			v += d[oth[j]][s];
		else if (o->mode == FS_ROUTE_START_END && oth[j] != o->end)
			continue;
		if (v < best) {
			best = v;
			jend = j;
		}
	}
	/* Walk back: the predecessor is any j' whose value plus the edge gives
	 * exactly the value at hand (integers, so equality is exact). */
	{
		size_t S = full, j = jend;
		for (size_t at = k; at >= 1; at--) {
			size_t R = S & ~((size_t)1 << j), jp = 0;
			order[at] = oth[j];
			if (!R)
				break;
			while (!(R & ((size_t)1 << jp)) ||
			       dp[R * k + jp] + d[oth[jp]][oth[j]] != dp[S * k + j])
				jp++;
			S = R;
			j = jp;
		}
	}
	free(dp);
	if (closed)
		canonical_direction(order, n);
	fill_result(res, best, 0, 1, 0);
	return 0;
}

/* ---- the heuristic's state ---- */

struct rt {
	enum fs_route_metric metric;
	int32_t n, m;		/* points; nodes in the cycle */
	int32_t dummy;		/* OPEN mode's extra node, or -1 */
	int32_t fa, fb;		/* the fixed edge, or -1 -1 */
	struct pt *pts;
	int32_t *mat;		/* m * m, or NULL */
	int32_t k;		/* neighbour list stride */
	int32_t *nb, *nbc;	/* nb[i*k .. i*k+nbc[i]), nearest first */
	int32_t *tour, *pos;
	int32_t *saved;		/* the accepted tour (journal base) */
	int32_t *best;		/* the best tour found */
	unsigned char *dirty;
	int32_t *dlist, dn;	/* positions written since the last accept */
	int32_t *queue, qh, qn;
	unsigned char *inq;
	int32_t *kick;		/* scratch for the kick */
	int32_t kick_max;
	int64_t len;		/* current tour length */
	uint64_t rng;
	uint32_t budget_ms;
	struct timespec t0;
	int budget_hit;
};

static uint64_t rng_next(struct rt *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int32_t rng_below(struct rt *r, int32_t n)
{
	return (int32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static int time_up(struct rt *r)
{
	struct timespec t;
	int64_t ms;
	if (!r->budget_ms)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t);
	ms = ((int64_t)(t.tv_sec - r->t0.tv_sec) * 1000000000 + (t.tv_nsec - r->t0.tv_nsec)) / 1000000;
	if (ms < (int64_t)r->budget_ms)
		return 0;
	r->budget_hit = 1;
	return 1;
}

static int32_t dcalc(const struct rt *r, int32_t i, int32_t j)
{
	if (i == r->dummy || j == r->dummy)
		return 0;
	return pt_dist(r->metric, &r->pts[i], &r->pts[j]);
}

static inline int32_t dist(const struct rt *r, int32_t i, int32_t j)
{
	if (r->mat)
		return r->mat[(size_t)i * (size_t)r->m + (size_t)j];
	return dcalc(r, i, j);
}

static inline int fixed(const struct rt *r, int32_t a, int32_t b)
{
	return (a == r->fa && b == r->fb) || (a == r->fb && b == r->fa);
}

static inline int32_t succ(const struct rt *r, int32_t v)
{
	int32_t p = r->pos[v] + 1;
	return r->tour[p == r->m ? 0 : p];
}

static inline int32_t pred(const struct rt *r, int32_t v)
{
	int32_t p = r->pos[v];
	return r->tour[p ? p - 1 : r->m - 1];
}

static inline int32_t wrap(const struct rt *r, int32_t p)
{
	if (p >= r->m)
		return p - r->m;
	if (p < 0)
		return p + r->m;
	return p;
}

static void rt_release(struct rt *r)
{
	free(r->pts);
	free(r->mat);
	free(r->nb);
	free(r->nbc);
	free(r->tour);
	free(r->pos);
	free(r->saved);
	free(r->best);
	free(r->dirty);
	free(r->dlist);
	free(r->queue);
	free(r->inq);
	free(r->kick);
	memset(r, 0, sizeof *r);
}

/* ---- neighbour lists: K nearest from a k-d tree ---- */

struct kd {
	const struct pt *q;	/* proxy coordinates: distance order = metric order */
	int32_t *idx;		/* the tree: idx[lo..hi) split at mid = (lo+hi)/2 */
	unsigned char *axis;	/* axis[mid] of each split */
	int32_t k;
	double bd[32];		/* current best: squared distance, ascending */
	int32_t bi[32];
	int32_t bn;
};

static double kd_coord(const struct pt *p, int axis)
{
	return axis == 0 ? p->x : axis == 1 ? p->y : p->z;
}

/* Compare points a and b along axis, index as tie-break (a total order). */
static int kd_less(const struct kd *t, int axis, int32_t a, int32_t b)
{
	double ca = kd_coord(&t->q[a], axis), cb = kd_coord(&t->q[b], axis);
	return ca < cb || (ca == cb && a < b);
}

/* Quickselect: put the element of rank `nth` at idx[nth], smaller before. */
static void kd_select(struct kd *t, int axis, int32_t lo, int32_t hi, int32_t nth)
{
	int32_t *v = t->idx;
	while (hi - lo > 1) {
		int32_t a = lo, b = (lo + hi) / 2, c = hi - 1, piv, i, j, tmp;
		/* median of three as the pivot */
		if (kd_less(t, axis, v[b], v[a])) { tmp = v[a]; v[a] = v[b]; v[b] = tmp; }
		if (kd_less(t, axis, v[c], v[b])) { tmp = v[b]; v[b] = v[c]; v[c] = tmp; }
		if (kd_less(t, axis, v[b], v[a])) { tmp = v[a]; v[a] = v[b]; v[b] = tmp; }
		piv = v[b];
		i = lo;
		j = hi - 1;
		while (i <= j) {
			while (kd_less(t, axis, v[i], piv))
				i++;
			while (kd_less(t, axis, piv, v[j]))
				j--;
			if (i <= j) {
				tmp = v[i]; v[i] = v[j]; v[j] = tmp;
				i++;
				j--;
			}
		}
		if (nth <= j)
			hi = j + 1;
		else if (nth >= i)
			lo = i;
		else
			return;
	}
}

static void kd_build(struct kd *t, int32_t lo, int32_t hi)
{
	double mn[3] = { INFINITY, INFINITY, INFINITY }, mx[3] = { -INFINITY, -INFINITY, -INFINITY };
	int axis = 0;
	int32_t mid;
	if (hi - lo <= KD_LEAF)
		return;
	for (int32_t i = lo; i < hi; i++)
		for (int a = 0; a < 3; a++) {
			double c = kd_coord(&t->q[t->idx[i]], a);
			if (c < mn[a])
				mn[a] = c;
			if (c > mx[a])
				mx[a] = c;
		}
	for (int a = 1; a < 3; a++)
		if (mx[a] - mn[a] > mx[axis] - mn[axis])
			axis = a;
	mid = (lo + hi) / 2;
	kd_select(t, axis, lo, hi, mid);
	t->axis[mid] = (unsigned char)axis;
	kd_build(t, lo, mid);
	kd_build(t, mid + 1, hi);
}

static void kd_offer(struct kd *t, int32_t self, int32_t j)
{
	const struct pt *a = &t->q[self], *b = &t->q[j];
	double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z, d = dx * dx + dy * dy + dz * dz;
	int32_t i;
	if (j == self)
		return;
	if (t->bn == t->k && !(d < t->bd[t->bn - 1] || (d == t->bd[t->bn - 1] && j < t->bi[t->bn - 1])))
		return;
	i = t->bn < t->k ? t->bn++ : t->bn - 1;
	while (i > 0 && (d < t->bd[i - 1] || (d == t->bd[i - 1] && j < t->bi[i - 1]))) {
		t->bd[i] = t->bd[i - 1];
		t->bi[i] = t->bi[i - 1];
		i--;
	}
	t->bd[i] = d;
	t->bi[i] = j;
}

static void kd_query(struct kd *t, int32_t self, int32_t lo, int32_t hi)
{
	int32_t mid;
	int axis;
	double diff;
	if (hi - lo <= KD_LEAF) {
		for (int32_t i = lo; i < hi; i++)
			kd_offer(t, self, t->idx[i]);
		return;
	}
	mid = (lo + hi) / 2;
	axis = t->axis[mid];
	diff = kd_coord(&t->q[self], axis) - kd_coord(&t->q[t->idx[mid]], axis);
	if (diff < 0)
		kd_query(t, self, lo, mid);
	else
		kd_query(t, self, mid + 1, hi);
	kd_offer(t, self, t->idx[mid]);
	if (t->bn < t->k || diff * diff < t->bd[t->bn - 1]) {
		if (diff < 0)
			kd_query(t, self, mid + 1, hi);
		else
			kd_query(t, self, lo, mid);
	}
}

static int kd_neighbours(struct rt *r)
{
	struct kd t;
	struct pt *q = malloc((size_t)r->n * sizeof *q);
	int rc = 0;

	memset(&t, 0, sizeof t);
	t.idx = malloc((size_t)r->n * sizeof *t.idx);
	t.axis = calloc((size_t)r->n, 1);
	if (!q || !t.idx || !t.axis) {
		rc = fs_err(FIELDSYNC_ENOMEM, "route: out of memory");
		goto out;
	}
	/* Proxy space: planar as is; GEO as unit vectors (great circle already is). */
	for (int32_t i = 0; i < r->n; i++) {
		q[i] = r->pts[i];
		if (r->metric == FS_ROUTE_EUC_2D || r->metric == FS_ROUTE_ATT) {
			q[i].z = 0;
		} else if (r->metric == FS_ROUTE_GEO) {
			double la = r->pts[i].x, lo = r->pts[i].y;
			q[i].x = cos(la) * cos(lo);
			q[i].y = cos(la) * sin(lo);
			q[i].z = sin(la);
		}
		t.idx[i] = i;
	}
	t.q = q;
	t.k = r->n - 1 < r->k ? r->n - 1 : r->k;
	kd_build(&t, 0, r->n);
	for (int32_t i = 0; i < r->n; i++) {
		int32_t *l = r->nb + (size_t)i * (size_t)r->k, c;
		t.bn = 0;
		kd_query(&t, i, 0, r->n);
		/* nearest first by the metric itself (rounding makes ties) */
		for (c = 0; c < t.bn; c++) {
			int32_t j = t.bi[c], dj = dist(r, i, j), x = c;
			while (x > 0 && (dist(r, i, l[x - 1]) > dj || (dist(r, i, l[x - 1]) == dj && l[x - 1] > j))) {
				l[x] = l[x - 1];
				x--;
			}
			l[x] = j;
		}
		r->nbc[i] = t.bn;
	}
out:
	free(q);
	free(t.idx);
	free(t.axis);
	return rc;
}

/* Set up everything but the tour: points, matrix, neighbour lists. */
static int rt_init(struct rt *r, const struct fs_route_points *p, const struct fs_route_opts *o)
{
	int32_t n = (int32_t)p->n, m;
	int closed = is_closed(o);

	memset(r, 0, sizeof *r);
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->metric = p->metric;
	r->n = n;
	r->m = m = n + (o->mode == FS_ROUTE_OPEN ? 1 : 0);
	r->dummy = o->mode == FS_ROUTE_OPEN ? n : -1;
	r->fa = r->fb = -1;
	if (o->mode == FS_ROUTE_OPEN) {
		r->fa = r->dummy;
		r->fb = (int32_t)o->start;
	} else if (!closed) {
		r->fa = (int32_t)o->end;
		r->fb = (int32_t)o->start;
	}
	r->budget_ms = o->budget_ms;
	r->rng = o->seed;
	r->k = (int32_t)o->neighbours;
	if (r->k > n - 1)
		r->k = n - 1 > 0 ? n - 1 : 1;

	r->pts = malloc((size_t)n * sizeof *r->pts);
	r->nb = malloc((size_t)m * (size_t)r->k * sizeof *r->nb);
	r->nbc = calloc((size_t)m, sizeof *r->nbc);
	r->tour = malloc((size_t)m * sizeof *r->tour);
	r->pos = malloc((size_t)m * sizeof *r->pos);
	r->saved = malloc((size_t)m * sizeof *r->saved);
	r->best = malloc((size_t)m * sizeof *r->best);
	r->dirty = calloc((size_t)m, 1);
	r->dlist = malloc((size_t)m * sizeof *r->dlist);
	r->queue = malloc((size_t)m * sizeof *r->queue);
	r->inq = calloc((size_t)m, 1);
	r->kick_max = KICK_SEG < (m - 1) / 3 ? KICK_SEG : (m - 1) / 3;
	r->kick = malloc((size_t)(3 * r->kick_max + 1) * sizeof *r->kick);
	if (!r->pts || !r->nb || !r->nbc || !r->tour || !r->pos || !r->saved || !r->best || !r->dirty ||
	    !r->dlist || !r->queue || !r->inq || !r->kick)
		return fs_err(FIELDSYNC_ENOMEM, "route: out of memory");
	for (int32_t i = 0; i < n; i++)
		r->pts[i] = make_pt(p->metric, p->a[i], p->b[i]);

	if ((size_t)m <= o->matrix_max && m <= MATRIX_CAP) {
		int32_t *mat = malloc((size_t)m * (size_t)m * sizeof *mat);
		if (!mat)
			return fs_err(FIELDSYNC_ENOMEM, "route: out of memory");
		for (int32_t i = 0; i < m; i++) {
			mat[(size_t)i * (size_t)m + (size_t)i] = 0;
			for (int32_t j = i + 1; j < m; j++)
				mat[(size_t)i * (size_t)m + (size_t)j] =
					mat[(size_t)j * (size_t)m + (size_t)i] = dcalc(r, i, j);
		}
		r->mat = mat;
	}
	return kd_neighbours(r);
}

/* ---- construction: greedy edge ---- */

struct cedge {
	int32_t d, a, b;
};

static int cedge_cmp(const void *x, const void *y)
{
	const struct cedge *e = x, *f = y;
	if (e->d != f->d)
		return e->d < f->d ? -1 : 1;
	if (e->a != f->a)
		return e->a < f->a ? -1 : 1;
	return (e->b > f->b) - (e->b < f->b);
}

static int32_t uf_find(int32_t *up, int32_t x)
{
	while (up[x] != x)
		x = up[x] = up[up[x]];
	return x;
}

static int has_neighbour(const struct rt *r, int32_t i, int32_t j)
{
	for (int32_t c = 0; c < r->nbc[i]; c++)
		if (r->nb[(size_t)i * (size_t)r->k + (size_t)c] == j)
			return 1;
	return 0;
}

static void add_adj(int32_t *adj, int32_t a, int32_t b)
{
	adj[2 * a + (adj[2 * a] >= 0)] = b;
}

static void link_nodes(int32_t *adj, int32_t *up, int32_t a, int32_t b)
{
	add_adj(adj, a, b);
	add_adj(adj, b, a);
	up[uf_find(up, a)] = uf_find(up, b);
}

/* The other end of the path that starts at `at` (reached from `from`). */
static int32_t fragment_end(const int32_t *adj, int32_t at, int32_t from)
{
	for (;;) {
		int32_t nx = adj[2 * at] != from ? adj[2 * at] : adj[2 * at + 1];
		if (nx < 0)
			return at;
		from = at;
		at = nx;
	}
}

static int greedy(struct rt *r)
{
	int32_t m = r->m, ne = 0, nend = 0, first, other, prev, cur;
	struct cedge *e = malloc((size_t)m * (size_t)r->k * sizeof *e);
	int32_t *adj = malloc((size_t)m * 2 * sizeof *adj);
	int32_t *up = malloc((size_t)m * sizeof *up);
	int32_t *ends = malloc((size_t)m * 2 * sizeof *ends);
	int rc = 0;

	if (!e || !adj || !up || !ends) {
		rc = fs_err(FIELDSYNC_ENOMEM, "route: out of memory");
		goto out;
	}
	for (int32_t i = 0; i < m; i++) {
		adj[2 * i] = adj[2 * i + 1] = -1;
		up[i] = i;
		for (int32_t c = 0; c < r->nbc[i]; c++) {
			int32_t j = r->nb[(size_t)i * (size_t)r->k + (size_t)c];
			if (i < j || !has_neighbour(r, j, i))
				e[ne++] = (struct cedge){ dist(r, i, j), i < j ? i : j, i < j ? j : i };
		}
	}
	qsort(e, (size_t)ne, sizeof *e, cedge_cmp);
	if (r->fa >= 0)
		link_nodes(adj, up, r->fa, r->fb);
	for (int32_t c = 0; c < ne; c++) {
		int32_t a = e[c].a, b = e[c].b;
		if (adj[2 * a + 1] < 0 && adj[2 * b + 1] < 0 && uf_find(up, a) != uf_find(up, b))
			link_nodes(adj, up, a, b);
	}

	/* Join the fragments: from the far end of the current one to the
	 * nearest free end of another. ends[] holds the free ends (a lone node
	 * is listed once and is both ends of its fragment). */
	for (int32_t i = 0; i < m; i++)
		if (adj[2 * i + 1] < 0)
			ends[nend++] = i;
	first = other = ends[0];
	for (int32_t at = first, from = -1;;) {
		int32_t bc = 0, bd;
		other = fragment_end(adj, at, from);
		for (int32_t c = 0; c < nend;) {
			if (ends[c] == at || ends[c] == other)
				ends[c] = ends[--nend];
			else
				c++;
		}
		if (!nend)
			break;
		bd = dist(r, other, ends[0]);
		for (int32_t c = 1; c < nend && bd > 0; c++) {
			int32_t dc = dist(r, other, ends[c]);
			if (dc < bd) {
				bd = dc;
				bc = c;
			}
		}
		from = other;
		at = ends[bc];
		add_adj(adj, other, at);
		add_adj(adj, at, other);
	}
	add_adj(adj, other, first);
	add_adj(adj, first, other);
	/* walk the cycle into tour[] */
	prev = -1;
	cur = 0;
	for (int32_t p = 0; p < m; p++) {
		int32_t nx = adj[2 * cur] != prev ? adj[2 * cur] : adj[2 * cur + 1];
		r->tour[p] = cur;
		r->pos[cur] = p;
		prev = cur;
		cur = nx;
	}
out:
	free(e);
	free(adj);
	free(up);
	free(ends);
	return rc;
}

/* ---- tour changes, journalled ---- */

static inline void put(struct rt *r, int32_t p, int32_t v)
{
	if (!r->dirty[p]) {
		r->dirty[p] = 1;
		r->dlist[r->dn++] = p;
	}
	r->tour[p] = v;
	r->pos[v] = p;
}

static void journal_accept(struct rt *r)
{
	for (int32_t c = 0; c < r->dn; c++) {
		int32_t p = r->dlist[c];
		r->saved[p] = r->tour[p];
		r->dirty[p] = 0;
	}
	r->dn = 0;
}

static void journal_undo(struct rt *r)
{
	for (int32_t c = 0; c < r->dn; c++) {
		int32_t p = r->dlist[c];
		r->tour[p] = r->saved[p];
		r->pos[r->saved[p]] = p;
		r->dirty[p] = 0;
	}
	r->dn = 0;
}

/* Reverse tour positions i..j (cyclic, inclusive), or the rest of the cycle
 * when that is shorter: both give the same cycle. */
static void reverse(struct rt *r, int32_t i, int32_t j)
{
	int32_t len = j - i;
	if (len < 0)
		len += r->m;
	len++;
	if (2 * len > r->m) {
		int32_t t = i;
		i = wrap(r, j + 1);
		j = wrap(r, t - 1);
		len = r->m - len;
	}
	for (int32_t c = 0; c < len / 2; c++) {
		int32_t a = r->tour[i], b = r->tour[j];
		put(r, i, b);
		put(r, j, a);
		if (++i == r->m)
			i = 0;
		if (--j < 0)
			j = r->m - 1;
	}
}

/* Move the segment seg[0..L-1] (consecutive, s1 = seg[0], s2 = seg[L-1];
 * dir 0: seg runs forward) between the adjacent nodes c and e, s1 next to c.
 * Shifts whichever side of the cycle between old and new place is shorter. */
static void or_move(struct rt *r, const int32_t *seg, int32_t L, int dir, int32_t c, int32_t e)
{
	int32_t want[3], i, u, v, k1, k2, t;
	i = dir == 0 ? r->pos[seg[0]] : r->pos[seg[L - 1]];
	if (succ(r, c) == e) {
		u = c;
		v = e;
		for (t = 0; t < L; t++)
			want[t] = seg[t];
	} else {
		u = e;
		v = c;
		for (t = 0; t < L; t++)
			want[t] = seg[L - 1 - t];
	}
	t = (r->pos[u] - i - L) % r->m;
	if (t < 0)
		t += r->m;
	k1 = t + 1;
	k2 = r->m - L - k1;
	if (k1 <= k2) {
		for (t = 0; t < k1; t++)
			put(r, wrap(r, i + t), r->tour[wrap(r, i + L + t)]);
		for (t = 0; t < L; t++)
			put(r, wrap(r, i + k1 + t), want[t]);
	} else {
		int32_t pv = r->pos[v];
		for (t = k2 - 1; t >= 0; t--) {
			int32_t src = wrap(r, pv + t);
			put(r, wrap(r, src + L), r->tour[src]);
		}
		for (t = 0; t < L; t++)
			put(r, wrap(r, pv + t), want[t]);
	}
}

static void push(struct rt *r, int32_t v)
{
	int32_t p;
	if (r->inq[v])
		return;
	r->inq[v] = 1;
	p = r->qh + r->qn;
	r->queue[p >= r->m ? p - r->m : p] = v;
	r->qn++;
}

static int32_t pop(struct rt *r)
{
	int32_t v = r->queue[r->qh];
	if (++r->qh == r->m)
		r->qh = 0;
	r->qn--;
	r->inq[v] = 0;
	return v;
}

/* ---- local search ---- */

static int try_2opt(struct rt *r, int32_t a)
{
	const int32_t *l = r->nb + (size_t)a * (size_t)r->k;
	for (int dir = 0; dir < 2; dir++) {
		int32_t b = dir ? pred(r, a) : succ(r, a), dab;
		if (fixed(r, a, b))
			continue;
		dab = dist(r, a, b);
		for (int32_t x = 0; x < r->nbc[a]; x++) {
			int32_t c = l[x], g1 = dab - dist(r, a, c), d;
			int64_t gain;
			if (g1 <= 0)
				break;
			d = dir ? pred(r, c) : succ(r, c);
			if (c == b || d == a || fixed(r, c, d))
				continue;
			gain = (int64_t)g1 + dist(r, c, d) - dist(r, b, d);
			if (gain <= 0)
				continue;
			if (dir == 0)
				reverse(r, r->pos[b], r->pos[c]);
			else
				reverse(r, r->pos[a], r->pos[d]);
			r->len -= gain;
			push(r, a);
			push(r, b);
			push(r, c);
			push(r, d);
			return 1;
		}
	}
	return 0;
}

static int in_seg(const int32_t *seg, int32_t L, int32_t v)
{
	for (int32_t t = 0; t < L; t++)
		if (seg[t] == v)
			return 1;
	return 0;
}

static int try_oropt(struct rt *r, int32_t a)
{
	const int32_t *l = r->nb + (size_t)a * (size_t)r->k;
	for (int dir = 0; dir < 2; dir++) {
		int32_t seg[3], s2 = a, p = dir ? succ(r, a) : pred(r, a);
		seg[0] = a;
		if (fixed(r, p, a))
			continue;
		for (int32_t L = 1; L <= 3 && r->m >= L + 3; L++) {
			int32_t nx;
			int64_t g0;
			if (L > 1) {
				s2 = dir ? pred(r, s2) : succ(r, s2);
				seg[L - 1] = s2;
			}
			nx = dir ? pred(r, s2) : succ(r, s2);
			if (fixed(r, s2, nx))
				continue;
			g0 = (int64_t)dist(r, p, a) + dist(r, s2, nx) - dist(r, p, nx);
			if (g0 <= 0)
				continue;
			for (int32_t x = 0; x < r->nbc[a]; x++) {
				int32_t c = l[x];
				int64_t g1 = g0 - dist(r, a, c);
				if (g1 <= 0)
					break;
				if (in_seg(seg, L, c))
					continue;
				for (int side = 0; side < 2; side++) {
					int32_t e = side ? pred(r, c) : succ(r, c);
					int64_t gain;
					if (in_seg(seg, L, e) || fixed(r, c, e))
						continue;
					gain = g1 + dist(r, c, e) - dist(r, s2, e);
					if (gain <= 0)
						continue;
					or_move(r, seg, L, dir, c, e);
					r->len -= gain;
					push(r, p);
					push(r, nx);
					push(r, a);
					push(r, s2);
					push(r, c);
					push(r, e);
					return 1;
				}
			}
		}
	}
	return 0;
}

/* Run until the queue is empty; 1 if the budget ran out first. */
static int local_search(struct rt *r)
{
	uint32_t steps = 0;
	if (r->m < 4) {
		while (r->qn)
			pop(r);
		return 0;
	}
	while (r->qn) {
		int32_t a;
		if (r->budget_ms && (++steps & 255) == 0 && time_up(r)) {
			while (r->qn)
				pop(r);
			return 1;
		}
		a = pop(r);
		if (!try_2opt(r, a))
			try_oropt(r, a);
	}
	return 0;
}

/* Double bridge on three short segments after a random position:
 * A B C D -> A D C B. 0 if the kick would have cut the fixed edge. */
static int kick(struct rt *r)
{
	int32_t l1, l2, l3, L, p0, a1, b0, b1, c0, c1, d0, d1, a0, t;
	int64_t delta;
	if (r->kick_max < 1)
		return 0;
	p0 = rng_below(r, r->m);
	l1 = 1 + rng_below(r, r->kick_max);
	l2 = 1 + rng_below(r, r->kick_max);
	l3 = 1 + rng_below(r, r->kick_max);
	L = l1 + l2 + l3;
	a1 = r->tour[p0];
	b0 = r->tour[wrap(r, p0 + 1)];
	b1 = r->tour[wrap(r, p0 + l1)];
	c0 = r->tour[wrap(r, p0 + l1 + 1)];
	c1 = r->tour[wrap(r, p0 + l1 + l2)];
	d0 = r->tour[wrap(r, p0 + l1 + l2 + 1)];
	d1 = r->tour[wrap(r, p0 + L)];
	a0 = r->tour[wrap(r, p0 + L + 1)];
	if (fixed(r, a1, b0) || fixed(r, b1, c0) || fixed(r, c1, d0) || fixed(r, d1, a0))
		return 0;
	delta = (int64_t)dist(r, a1, d0) + dist(r, d1, c0) + dist(r, c1, b0) + dist(r, b1, a0)
		- dist(r, a1, b0) - dist(r, b1, c0) - dist(r, c1, d0) - dist(r, d1, a0);
	for (t = 0; t < l3; t++)
		r->kick[t] = r->tour[wrap(r, p0 + l1 + l2 + 1 + t)];
	for (t = 0; t < l2; t++)
		r->kick[l3 + t] = r->tour[wrap(r, p0 + l1 + 1 + t)];
	for (t = 0; t < l1; t++)
		r->kick[l3 + l2 + t] = r->tour[wrap(r, p0 + 1 + t)];
	for (t = 0; t < L; t++)
		put(r, wrap(r, p0 + 1 + t), r->kick[t]);
	r->len += delta;
	push(r, a1);
	push(r, b0);
	push(r, b1);
	push(r, c0);
	push(r, c1);
	push(r, d0);
	push(r, d1);
	push(r, a0);
	return 1;
}

static void load_tour(struct rt *r, const int32_t *from)
{
	memcpy(r->tour, from, (size_t)r->m * sizeof *r->tour);
	memcpy(r->saved, from, (size_t)r->m * sizeof *r->saved);
	for (int32_t i = 0; i < r->m; i++)
		r->pos[r->tour[i]] = i;
}

/*
 * Local search from the tour in r, then ILS; r->tour ends as the best found.
 * Acceptance: the kicked and repaired tour replaces the current one when it is
 * at most one average edge longer (strict "not longer" sticks in deep local
 * optima: a280 reached its optimum in 1 of 6 seeds that way, 6 of 6 with
 * this); after RESTART_KICKS * m kicks without a new best the walk goes back
 * to the best tour.
 */
static void optimise(struct rt *r, uint64_t max_iters, uint64_t *iters)
{
	int64_t best, cur;
	uint64_t it = 0, since_best = 0;

	for (int32_t i = 0; i < r->m; i++)
		push(r, r->tour[i]);
	local_search(r);
	journal_accept(r);
	best = cur = r->len;
	memcpy(r->best, r->tour, (size_t)r->m * sizeof *r->best);
	if (r->m >= 5 && !r->budget_hit) {
		for (; !max_iters || it < max_iters; it++, since_best++) {
			int stop;
			if (time_up(r))
				break;
			if (since_best > (uint64_t)RESTART_KICKS * (uint64_t)r->m && cur != best) {
				load_tour(r, r->best);
				r->len = cur = best;
				since_best = 0;
			}
			if (!kick(r))
				continue;
			stop = local_search(r);
			if (r->len <= cur + cur / r->m) {
				journal_accept(r);
				cur = r->len;
				if (cur < best) {
					best = cur;
					since_best = 0;
					memcpy(r->best, r->tour, (size_t)r->m * sizeof *r->best);
				}
			} else {
				journal_undo(r);
				r->len = cur;
			}
			if (stop) {
				it++;
				break;
			}
		}
	}
	load_tour(r, r->best);
	r->len = best;
	*iters = it;
}

/* The route in r, read from start, into order[]; returns its real length. */
static void extract(const struct rt *r, const struct fs_route_points *p,
		    const struct fs_route_opts *o, size_t *order, int64_t *length)
{
	int32_t s = (int32_t)o->start, step = 1, n = r->n;
	int32_t other = r->fa == s ? r->fb : r->fb == s ? r->fa : -1;

	/* walk away from the fixed partner (dummy or end) */
	if (other >= 0 && succ(r, s) == other)
		step = -1;
	for (int32_t c = 0, at = r->pos[s]; c < n; c++, at = wrap(r, at + step))
		order[c] = (size_t)r->tour[at];
	if (is_closed(o))
		canonical_direction(order, (size_t)n);
	*length = order_length(p, is_closed(o), order);
}

int fs_route_improve(const struct fs_route_points *p, const struct fs_route_opts *o,
		     size_t *order, struct fs_route_result *res)
{
	struct rt r;
	uint64_t iters = 0;
	int64_t len;
	int rc;

	if ((rc = check_points(p)) || (rc = check_opts(o, p->n, 1)) || (rc = check_order(order, p->n)))
		return rc;
	if (p->n && order[0] != o->start)
		return fs_err(FIELDSYNC_EINVAL, "route: the order does not begin at start");
	if (p->n && o->mode == FS_ROUTE_START_END && o->end != o->start && order[p->n - 1] != o->end)
		return fs_err(FIELDSYNC_EINVAL, "route: the order does not finish at end");
	if (p->n <= 3) {
		/* nothing to search: the exact answer is never longer */
		struct fs_route_result ex;
		size_t best[3];
		if ((rc = fs_route_exact(p, o, best, &ex)))
			return rc;
		if (ex.length < order_length(p, is_closed(o), order))
			memcpy(order, best, p->n * sizeof *order);
		fill_result(res, ex.length, 0, 1, 0);
		return 0;
	}
	if ((rc = rt_init(&r, p, o)))
		goto out;
	for (int32_t i = 0; i < r.n; i++) {
		r.tour[i] = (int32_t)order[i];
		r.pos[order[i]] = i;
	}
	if (r.dummy >= 0) {
		r.tour[r.n] = r.dummy;
		r.pos[r.dummy] = r.n;
	}
	memcpy(r.saved, r.tour, (size_t)r.m * sizeof *r.tour);
	r.len = 0;
	for (int32_t i = 0; i < r.m; i++)
		r.len += dist(&r, r.tour[i], r.tour[wrap(&r, i + 1)]);
	optimise(&r, o->max_iters, &iters);
	extract(&r, p, o, order, &len);
	fill_result(res, len, iters, 0, r.budget_hit);
out:
	rt_release(&r);
	return rc;
}

int fs_route_solve(const struct fs_route_points *p, const struct fs_route_opts *o,
		   size_t *order, struct fs_route_result *res)
{
	struct rt r;
	uint64_t iters = 0;
	size_t exact_max;
	int64_t len;
	int rc;

	if ((rc = check_points(p)) || (rc = check_opts(o, p->n, 1)))
		return rc;
	exact_max = o->exact_max < FS_ROUTE_EXACT_LIMIT ? o->exact_max : FS_ROUTE_EXACT_LIMIT;
	if (p->n <= exact_max || p->n <= 3)
		return fs_route_exact(p, o, order, res);
	if ((rc = rt_init(&r, p, o)) || (rc = greedy(&r)))
		goto out;
	memcpy(r.saved, r.tour, (size_t)r.m * sizeof *r.tour);
	r.len = 0;
	for (int32_t i = 0; i < r.m; i++)
		r.len += dist(&r, r.tour[i], r.tour[wrap(&r, i + 1)]);
	optimise(&r, o->max_iters, &iters);
	extract(&r, p, o, order, &len);
	fill_result(res, len, iters, 0, r.budget_hit);
out:
	rt_release(&r);
	return rc;
}
