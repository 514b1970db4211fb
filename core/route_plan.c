/*
 * route_plan.c - the route planner over the store: which stops, where the
 * rep starts and ends, the solver call (route.c), the legs, and storing the
 * order as route_seq through the ordinary versioned write path.
 *
 * Points handed to the solver: the routed stops sorted by record id (so that
 * the answer depends on the stops and positions, not on the order they were
 * stored in), then the start, then a distinct end. Modes:
 *   start   end            solver
 *   fixed   -              OPEN from the start
 *   fixed   back           START_END, end = start
 *   fixed   fixed          START_END
 *   free    -              exact OPEN from every stop (n <= 12), else the
 *                          closed tour cut at its longest edge, improved as
 *                          an open path from either end
 *   free    back           CLOSED through the stops, from the first listed
 *   free    fixed          OPEN from the end, reversed
 * The new order replaces the stored one only when it is strictly shorter.
 */
#include "api.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "due.h"
#include "route.h"

#define RP_SEQ_MAX 1000000000	/* route_seq's registry range */

/* The options behind the opaque public handle. */
struct fieldsync_route_opts {
	char *date;		/* YYYY-MM-DD; NULL: today (local) */
	char *territory;	/* only customers of this territory; NULL: all */
	char *from;		/* start; NULL: "home" if set, else the best first stop */
	char *to;		/* fixed end; NULL: end at the last stop */
	int ret;		/* 1: come back to the start (excludes `to`) */
	int select;		/* FIELDSYNC_ROUTE_PLANS, _DUE or _ALL */
	int save;		/* _DUE/_ALL: store the order as customer.route_seq */
	int budget_ms;		/* search time limit; 0: the iteration cap alone */
};

struct rp_stop {
	char *visit_id, *customer_id, *name, *address, *city, *ptime, *grade, *last_done;
	double lat, lon;
	int has_pos;
	int64_t seq;		/* stored route_seq */
	int has_seq;
	int64_t new_seq;	/* what the plan stores */
	int has_new;
};

struct rp_place {
	int set;
	double lat, lon;
	char label[64];
};

struct rp {
	struct fs_store *s;
	const fieldsync_route_opts *o;
	int planning;		/* plan (1) or show (0) */
	int writes;		/* the plan stores its order */
	char date[11];
	struct rp_stop *st;
	size_t n, cap;
	size_t *routed;		/* stops with a position, in stored order */
	size_t nr;
	size_t *order;		/* the route: nr indexes into st */
	struct rp_place from, to;
	int ret;
	int64_t total, prev;
	int has_prev;
	int exact, budget_hit;
	uint64_t iters;
	int written;
	int64_t seq_base;
	struct fs_due due;	/* HQ's visit intervals */
	int rc;			/* failure inside a row callback */
};

/* ---- places ---- */

static void fmt_coord(double v, char *buf, size_t n)
{
	snprintf(buf, n, "%.7f", v);
	char *dot = strchr(buf, '.');
	if (!dot)
		return;
	char *e = buf + strlen(buf) - 1;
	while (e > dot && *e == '0')
		*e-- = '\0';
	if (e == dot)
		*e = '\0';
	if (!strcmp(buf, "-0"))
		strcpy(buf, "0");
}

static int parse_latlon(const char *what, const char *text, double *lat, double *lon)
{
	char buf[128];
	const char *t = text ? text : "";
	if (strlen(t) >= sizeof buf)
		return fs_err(FIELDSYNC_EINVAL, "%s: '%.40s...' is not LAT,LON", what, t);
	snprintf(buf, sizeof buf, "%s", t);
	char *comma = strchr(buf, ',');
	if (!comma || strchr(comma + 1, ','))
		return fs_err(FIELDSYNC_EINVAL, "%s: '%s' is not LAT,LON (decimal degrees, e.g. 55.75,37.61)",
			      what, t);
	*comma = '\0';
	char *a = buf, *b = comma + 1;
	while (*a == ' ')
		a++;
	while (*b == ' ')
		b++;
	for (char *e = a + strlen(a); e > a && e[-1] == ' ';)
		*--e = '\0';
	for (char *e = b + strlen(b); e > b && e[-1] == ' ';)
		*--e = '\0';
	if (fs_parse_double(a, lat) || fs_parse_double(b, lon))
		return fs_err(FIELDSYNC_EINVAL, "%s: '%s' is not LAT,LON (decimal degrees, e.g. 55.75,37.61)",
			      what, t);
	if (*lat < -90 || *lat > 90)
		return fs_err(FIELDSYNC_EINVAL, "%s: latitude %s is outside [-90, 90]", what, a);
	if (*lon < -180 || *lon > 180)
		return fs_err(FIELDSYNC_EINVAL, "%s: longitude %s is outside [-180, 180]", what, b);
	return 0;
}

static const char *place_key(const char *name)
{
	if (name && !strcasecmp(name, "home"))
		return "route_home";
	if (name && !strcasecmp(name, "office"))
		return "route_office";
	return NULL;
}

/* A stored place; p->set stays 0 when it is not set. */
static int load_place(struct fs_store *s, const char *name, struct rp_place *p)
{
	char *v = NULL;
	memset(p, 0, sizeof *p);
	int rc = fs_meta_get(s, place_key(name), &v);
	if (rc == 0 && v && *v) {
		if (parse_latlon(name, v, &p->lat, &p->lon))
			rc = fs_err(FIELDSYNC_EIO, "the stored %s position '%.40s' is unreadable", name, v);
		else
			p->set = 1;
		snprintf(p->label, sizeof p->label, "%s", name);
	}
	free(v);
	return rc;
}

static int resolve_place(struct fs_store *s, const char *what, const char *text, struct rp_place *p)
{
	memset(p, 0, sizeof *p);
	const char *key = place_key(text);
	if (key) {
		char name[8];
		snprintf(name, sizeof name, "%s", !strcasecmp(text, "home") ? "home" : "office");
		int rc = load_place(s, name, p);
		if (rc == 0 && !p->set)
			rc = fs_err(FIELDSYNC_EINVAL, "%s: no %s position is set (route set-%s LAT,LON)", what, name,
				    name);
		return rc;
	}
	int rc = parse_latlon(what, text, &p->lat, &p->lon);
	if (rc == 0) {
		char a[32], b[32];
		fmt_coord(p->lat, a, sizeof a);
		fmt_coord(p->lon, b, sizeof b);
		snprintf(p->label, sizeof p->label, "%s,%s", a, b);
		p->set = 1;
	}
	return rc;
}

FIELDSYNC_API int fieldsync_route_place_set(fieldsync_store *s, const char *place, const char *latlon)
{
	const char *key = place_key(place);
	char val[80] = "";
	if (!key)
		return fs_err(FIELDSYNC_EINVAL, "place: '%.40s' is not home or office", place ? place : "");
	if (latlon && *latlon) {
		double lat, lon;
		char a[32], b[32];
		int rc = parse_latlon(!strcasecmp(place, "home") ? "home" : "office", latlon, &lat, &lon);
		if (rc)
			return rc;
		fmt_coord(lat, a, sizeof a);
		fmt_coord(lon, b, sizeof b);
		snprintf(val, sizeof val, "%s,%s", a, b);
	}
	int rc = fs_store_begin(s->st);
	if (rc)
		return rc;
	rc = fs_meta_set(s->st, key, *val ? val : NULL);
	if (rc) {
		fs_store_rollback(s->st);
		return rc;
	}
	return fs_store_commit(s->st);
}

FIELDSYNC_API int fieldsync_route_places(fieldsync_store *s, fieldsync_rows **out)
{
	static const char *const names[] = { "home", "office" };
	struct fieldsync_rows *r = fs_rows_new(3);
	int rc = 0;
	*out = NULL;
	if (!r)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	if ((rc = fs_rows_set_col(r, 0, "place", FS_T_TEXT)) || (rc = fs_rows_set_col(r, 1, "lat", FS_T_LAT)) ||
	    (rc = fs_rows_set_col(r, 2, "lon", FS_T_LON)))
		goto out;
	for (int i = 0; i < 2; i++) {
		struct rp_place p;
		char a[32], b[32];
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			goto out;
		}
		if ((rc = load_place(s->st, names[i], &p)) || (rc = fs_rows_set(r, row, 0, names[i])))
			goto out;
		if (p.set) {
			fmt_coord(p.lat, a, sizeof a);
			fmt_coord(p.lon, b, sizeof b);
			if ((rc = fs_rows_set(r, row, 1, a)) || (rc = fs_rows_set(r, row, 2, b)))
				goto out;
		}
	}
out:
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- loading the stops ---- */

static void rp_release(struct rp *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct rp_stop *t = &p->st[i];
		free(t->visit_id);
		free(t->customer_id);
		free(t->name);
		free(t->address);
		free(t->city);
		free(t->ptime);
		free(t->grade);
		free(t->last_done);
	}
	free(p->st);
	free(p->routed);
	free(p->order);
}

static int dup_text(const struct fs_val *v, char **out)
{
	*out = NULL;
	if (v->t == FS_V_NULL)
		return 0;
	*out = fs_val_canon(v);
	return *out ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
}

static int num(const struct fs_val *v, double *d)
{
	if (v->t == FS_V_REAL)
		*d = v->r;
	else if (v->t == FS_V_INT)
		*d = (double)v->i;
	else
		return 0;
	return isfinite(*d);
}

/* Columns: visit id, customer id, name, address, city, planned time, grade,
 * last done, lat, lon, route_seq. */
static int stop_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct rp *p = ctx;
	if (ncol < 11)
		return p->rc = fs_err(FIELDSYNC_EIO, "route: short row");
	if (p->o->select != FIELDSYNC_ROUTE_PLANS) {
		int due = 1;
		const char *grade = v[6].t == FS_V_TEXT ? v[6].s : NULL;
		const char *last = v[7].t == FS_V_TEXT ? v[7].s : NULL;
		if (p->o->select == FIELDSYNC_ROUTE_DUE && (p->rc = fs_due_check_in(&p->due, grade, last, p->date, &due)))
			return p->rc;
		if (!due)
			return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct rp_stop *st = realloc(p->st, cap * sizeof *st);
		if (!st)
			return p->rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		p->st = st;
		p->cap = cap;
	}
	struct rp_stop *t = &p->st[p->n];
	memset(t, 0, sizeof *t);
	p->n++;
	char **dst[] = { &t->visit_id, &t->customer_id, &t->name, &t->address, &t->city, &t->ptime,
		&t->grade, &t->last_done };
	for (int i = 0; i < 8; i++)
		if ((p->rc = dup_text(&v[i], dst[i])))
			return p->rc;
	double lat = 0, lon = 0;
	t->has_pos = num(&v[8], &lat) && num(&v[9], &lon) && lat >= -90 && lat <= 90 && lon >= -180 &&
		     lon <= 180;
	t->lat = lat;
	t->lon = lon;
	if (v[10].t == FS_V_INT) {
		t->seq = v[10].i;
		t->has_seq = 1;
	}
	return 0;
}

static int base_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct rp *p = ctx;
	if (ncol > 0 && v[0].t == FS_V_INT)
		p->seq_base = v[0].i;
	return 0;
}

#define LAST_DONE \
	"(SELECT max(coalesce(p.planned_date, substr(p.check_out, 1, 10))) FROM visit p" \
	" WHERE p.customer_id = c.id AND p.status = 'done' AND p.deleted IS NOT 1" \
	" AND coalesce(p.planned_date, substr(p.check_out, 1, 10)) <= $1)"

static int load_stops(struct rp *p)
{
	const fieldsync_route_opts *o = p->o;
	int terr = o->territory && *o->territory;
	struct fs_val prm[2] = { { 0 }, { 0 } };
	struct fs_buf b;
	int rc;
	prm[0].t = FS_V_TEXT;
	prm[0].s = p->date;
	if (terr) {
		prm[1].t = FS_V_TEXT;
		prm[1].s = (char *)o->territory;
	}
	fs_buf_init(&b, 0);
	if (o->select == FIELDSYNC_ROUTE_PLANS) {
		rc = fs_buf_printf(&b,
			"SELECT v.id, c.id, c.name, c.address, c.city, v.planned_time, c.grade, " LAST_DONE ","
			" c.lat, c.lon, v.route_seq"
			" FROM visit v JOIN customer c ON c.id = v.customer_id"
			" WHERE v.planned_date = $1 AND v.deleted IS NOT 1 AND c.deleted IS NOT 1 AND %s%s"
			" ORDER BY v.route_seq IS NULL, v.route_seq, v.planned_time IS NULL, v.planned_time,"
			" c.name, v.id",
			p->planning ? "v.status = 'planned'" : "v.status <> 'cancelled'",
			terr ? " AND c.territory = $2" : "");
	} else {
		rc = fs_buf_printf(&b,
			"SELECT NULL, c.id, c.name, c.address, c.city, NULL, c.grade, " LAST_DONE ","
			" c.lat, c.lon, c.route_seq"
			" FROM customer c WHERE c.deleted IS NOT 1%s"
			" ORDER BY c.route_seq IS NULL, c.route_seq, c.name, c.id",
			terr ? " AND c.territory = $2" : "");
	}
	if (rc == 0)
		rc = fs_store_exec(p->s, b.p, terr ? 2 : 1, prm, stop_row, p);
	if (rc == 0)
		rc = p->rc;
	if (rc == 0 && p->planning && o->select == FIELDSYNC_ROUTE_PLANS) {
		/* a re-plan during the day numbers after the visits already made */
		fs_buf_reset(&b);
		rc = fs_buf_printf(&b, "SELECT max(v.route_seq) FROM visit v JOIN customer c ON c.id = v.customer_id"
				   " WHERE v.planned_date = $1 AND v.deleted IS NOT 1"
				   " AND v.status IN ('done', 'missed')%s", terr ? " AND c.territory = $2" : "");
		if (rc == 0)
			rc = fs_store_exec(p->s, b.p, terr ? 2 : 1, prm, base_row, p);
	}
	fs_buf_release(&b);
	if (rc)
		return rc;
	p->routed = malloc((p->n + 1) * sizeof *p->routed);
	p->order = malloc((p->n + 1) * sizeof *p->order);
	if (!p->routed || !p->order)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->n; i++)
		if (p->st[i].has_pos)
			p->routed[p->nr++] = i;
	memcpy(p->order, p->routed, p->nr * sizeof *p->order);
	if (p->seq_base < 0 || p->seq_base > RP_SEQ_MAX - (int64_t)p->n)
		p->seq_base = 0;
	return 0;
}

/* ---- distances ---- */

static int64_t gc(double lat1, double lon1, double lat2, double lon2)
{
	int64_t d = 0;
	/* positions were range-checked on the way in: this cannot fail */
	fs_route_distance(FS_ROUTE_GREAT_CIRCLE, lat1, lon1, lat2, lon2, &d);
	return d;
}

/* The legs of a route through st[ord[0..nr-1]]: legs[k] into stop k,
 * legs[nr] the way to the end (0 when the route ends at the last stop).
 * legs may be NULL. Returns the total. */
static int64_t route_legs(const struct rp *p, const size_t *ord, int64_t *legs)
{
	int64_t total = 0, d;
	if (!p->nr)
		return 0;
	for (size_t k = 0; k <= p->nr; k++) {
		const struct rp_stop *cur = k < p->nr ? &p->st[ord[k]] : NULL;
		const struct rp_stop *prv = k ? &p->st[ord[k - 1]] : NULL;
		const struct rp_stop *first = &p->st[ord[0]];
		if (k == 0)
			d = p->from.set ? gc(p->from.lat, p->from.lon, cur->lat, cur->lon) : 0;
		else if (cur)
			d = gc(prv->lat, prv->lon, cur->lat, cur->lon);
		else if (p->to.set)
			d = gc(prv->lat, prv->lon, p->to.lat, p->to.lon);
		else if (p->ret && p->from.set)
			d = gc(prv->lat, prv->lon, p->from.lat, p->from.lon);
		else if (p->ret)
			d = gc(prv->lat, prv->lon, first->lat, first->lon);
		else
			d = 0;
		if (legs)
			legs[k] = d;
		total += d;
	}
	return total;
}

/* ---- solving ---- */

struct keyed {
	const char *key;
	size_t i;
};

static int by_key(const void *x, const void *y)
{
	const struct keyed *a = x, *b = y;
	int c = strcmp(a->key, b->key);
	return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* The routed stops sorted by record id: the solver's input order. */
static int sorted_by_id(const struct rp *p, size_t *srt)
{
	struct keyed *k = malloc((p->nr + 1) * sizeof *k);
	if (!k)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nr; i++) {
		const struct rp_stop *t = &p->st[p->routed[i]];
		k[i].key = t->visit_id ? t->visit_id : t->customer_id ? t->customer_id : "";
		k[i].i = p->routed[i];
	}
	qsort(k, p->nr, sizeof *k, by_key);
	for (size_t i = 0; i < p->nr; i++)
		srt[i] = k[i].i;
	free(k);
	return 0;
}

static uint64_t iter_cap(size_t npts)
{
	uint64_t cap = 100 * (uint64_t)npts;
	return cap < 1000 ? 1000 : cap > 100000 ? 100000 : cap;
}

/* The free-start, free-end path: the shortest open path from any stop. */
static int solve_free(struct rp *p, const struct fs_route_points *pts, struct fs_route_opts *ro, size_t *ord)
{
	size_t m = pts->n;
	struct fs_route_result res;
	int rc = 0;
	size_t *tmp = malloc(2 * m * sizeof *tmp), *alt = tmp + m;
	if (!tmp)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	ro->mode = FS_ROUTE_OPEN;
	if (m <= ro->exact_max) {
		int64_t best = INT64_MAX;
		for (size_t s = 0; s < m && rc == 0; s++) {
			ro->start = s;
			if ((rc = fs_route_exact(pts, ro, tmp, &res)) == 0 && res.length < best) {
				best = res.length;
				memcpy(ord, tmp, m * sizeof *ord);
			}
		}
		p->exact = 1;
		goto out;
	}
	ro->mode = FS_ROUTE_CLOSED;
	ro->start = 0;
	if ((rc = fs_route_solve(pts, ro, tmp, &res)))
		goto out;
	p->iters = res.iterations;
	p->budget_hit = res.budget_hit;
	/* cut the closed tour at its longest edge (the first of equals) */
	size_t cut = 0;
	int64_t longest = -1, d;
	for (size_t i = 0; i < m; i++) {
		size_t j = (i + 1) % m;
		d = gc(pts->a[tmp[i]], pts->b[tmp[i]], pts->a[tmp[j]], pts->b[tmp[j]]);
		if (d > longest) {
			longest = d;
			cut = j;
		}
	}
	for (size_t i = 0; i < m; i++) {
		ord[i] = tmp[(cut + i) % m];
		alt[m - 1 - i] = ord[i];
	}
	/* improve it as an open path from either end; keep the shorter */
	int64_t l1, l2;
	ro->mode = FS_ROUTE_OPEN;
	ro->start = ord[0];
	if ((rc = fs_route_improve(pts, ro, ord, &res)))
		goto out;
	p->iters += res.iterations;
	p->budget_hit |= res.budget_hit;
	ro->start = alt[0];
	if ((rc = fs_route_improve(pts, ro, alt, &res)))
		goto out;
	p->iters += res.iterations;
	p->budget_hit |= res.budget_hit;
	if ((rc = fs_route_length(pts, 0, ord, &l1)) || (rc = fs_route_length(pts, 0, alt, &l2)))
		goto out;
	if (l2 < l1)
		memcpy(ord, alt, m * sizeof *ord);
out:
	free(tmp);
	return rc;
}

static int solve(struct rp *p)
{
	size_t m = p->nr, npts = m + 2, *srt = NULL, *ord = NULL;
	double *a = NULL, *b = NULL;
	int rc = 0;
	if (m < 2) {
		p->exact = 1;	/* nothing to order */
		return 0;
	}
	srt = malloc(m * sizeof *srt);
	ord = malloc(npts * sizeof *ord);
	a = malloc(npts * sizeof *a);
	b = malloc(npts * sizeof *b);
	if (!srt || !ord || !a || !b) {
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = sorted_by_id(p, srt)))
		goto out;
	for (size_t i = 0; i < m; i++) {
		a[i] = p->st[srt[i]].lat;
		b[i] = p->st[srt[i]].lon;
	}
	size_t np = m, start = 0, end = 0;
	if (p->from.set) {
		start = np;
		a[np] = p->from.lat;
		b[np++] = p->from.lon;
	}
	if (p->to.set) {
		end = np;
		a[np] = p->to.lat;
		b[np++] = p->to.lon;
	}
	struct fs_route_points pts = { FS_ROUTE_GREAT_CIRCLE, a, b, np };
	struct fs_route_opts ro;
	struct fs_route_result res = { 0, 0, 0, 0 };
	fs_route_opts_init(&ro);
	ro.seed = 1;
	ro.budget_ms = p->o->budget_ms > 0 ? (uint32_t)p->o->budget_ms : 0;
	ro.max_iters = iter_cap(np);
	size_t skip = 0, take = m;
	int reverse = 0;
	if (p->from.set) {
		ro.start = start;
		ro.mode = p->to.set || p->ret ? FS_ROUTE_START_END : FS_ROUTE_OPEN;
		ro.end = p->to.set ? end : start;
		skip = 1;
	} else if (p->to.set) {
		ro.mode = FS_ROUTE_OPEN;
		ro.start = end;
		skip = 1;
		reverse = 1;
	} else if (p->ret) {
		ro.mode = FS_ROUTE_CLOSED;
		/* "back to the start": the tour begins at the first listed stop */
		for (size_t i = 0; i < m; i++)
			if (srt[i] == p->routed[0])
				ro.start = i;
	} else {
		rc = solve_free(p, &pts, &ro, ord);
		goto map;
	}
	rc = fs_route_solve(&pts, &ro, ord, &res);
	p->exact = res.exact;
	p->iters = res.iterations;
	p->budget_hit = res.budget_hit;
map:
	if (rc)
		goto out;
	for (size_t k = 0; k < take; k++) {
		size_t i = ord[skip + k];
		if (i >= m) {
			rc = fs_err(FIELDSYNC_EIO, "route: the solver returned a bad order");
			goto out;
		}
		p->order[reverse ? take - 1 - k : k] = srt[i];
	}
out:
	free(srt);
	free(ord);
	free(a);
	free(b);
	return rc;
}

/* ---- the result tables ---- */

static const char *const stop_cols[] = { "stop", "kind", "name", "address", "city", "planned_time", "grade",
	"last_done", "lat", "lon", "leg_km", "total_km", "leg_m", "total_m", "route_seq", "visit_id",
	"customer_id", NULL };
static const int stop_types[] = { FS_T_INT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TIME, FS_T_ENUM,
	FS_T_DATE, FS_T_LAT, FS_T_LON, FS_T_TEXT, FS_T_TEXT, FS_T_INT, FS_T_INT, FS_T_INT, FS_T_REF, FS_T_REF };
enum { C_STOP, C_KIND, C_NAME, C_ADDRESS, C_CITY, C_TIME, C_GRADE, C_LAST, C_LAT, C_LON, C_LEGKM, C_TOTKM,
	C_LEGM, C_TOTM, C_SEQ, C_VISIT, C_CUST, C_NCOLS };

static const char *const sum_cols[] = { "select", "date", "territory", "from", "to", "ret", "stops", "unrouted",
	"total_m", "total_km", "previous_m", "previous_km", "saving_m", "saving_km", "saving_pct", "written",
	"exact", "iterations", "budget_hit", NULL };
static const int sum_types[] = { FS_T_TEXT, FS_T_DATE, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_BOOL, FS_T_INT,
	FS_T_INT, FS_T_INT, FS_T_TEXT, FS_T_INT, FS_T_TEXT, FS_T_INT, FS_T_TEXT, FS_T_TEXT, FS_T_INT, FS_T_BOOL,
	FS_T_INT, FS_T_BOOL };

static struct fieldsync_rows *new_table(const char *const *names, const int *types)
{
	int n = 0;
	while (names[n])
		n++;
	struct fieldsync_rows *r = fs_rows_new(n);
	for (int c = 0; r && c < n; c++)
		if (fs_rows_set_col(r, c, names[c], types[c])) {
			fs_rows_free(r);
			return NULL;
		}
	return r;
}

static int set_int(struct fieldsync_rows *r, int row, int col, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRId64, v);
	return fs_rows_set(r, row, col, buf);
}

static int set_km(struct fieldsync_rows *r, int row, int col, int64_t m)
{
	char buf[48];
	snprintf(buf, sizeof buf, "%.2f", (double)m / 1000.0);
	return fs_rows_set(r, row, col, buf);
}

static int set_real(struct fieldsync_rows *r, int row, int col, double v)
{
	char buf[40];
	snprintf(buf, sizeof buf, "%.17g", v);
	return fs_rows_set(r, row, col, buf);
}

/* A start or end row at a place. */
static int place_row(struct fieldsync_rows *r, const char *kind, const char *label, double lat, double lon,
		     int64_t leg, int64_t total)
{
	int row = fs_rows_add(r), rc;
	if (row < 0)
		return row;
	if ((rc = fs_rows_set(r, row, C_KIND, kind)) || (rc = fs_rows_set(r, row, C_NAME, label)) ||
	    (rc = set_real(r, row, C_LAT, lat)) || (rc = set_real(r, row, C_LON, lon)) ||
	    (rc = set_km(r, row, C_LEGKM, leg)) || (rc = set_km(r, row, C_TOTKM, total)) ||
	    (rc = set_int(r, row, C_LEGM, leg)) || (rc = set_int(r, row, C_TOTM, total)))
		return rc;
	return 0;
}

static int stop_fill(struct fieldsync_rows *r, int row, const struct rp_stop *t, int stored)
{
	int rc;
	int has = stored ? t->has_new : t->has_seq;
	int64_t seq = stored ? t->new_seq : t->seq;
	if ((rc = fs_rows_set(r, row, C_NAME, t->name)) || (rc = fs_rows_set(r, row, C_ADDRESS, t->address)) ||
	    (rc = fs_rows_set(r, row, C_CITY, t->city)) || (rc = fs_rows_set(r, row, C_TIME, t->ptime)) ||
	    (rc = fs_rows_set(r, row, C_GRADE, t->grade)) || (rc = fs_rows_set(r, row, C_LAST, t->last_done)) ||
	    (rc = fs_rows_set(r, row, C_VISIT, t->visit_id)) || (rc = fs_rows_set(r, row, C_CUST, t->customer_id)))
		return rc;
	if (has && (rc = set_int(r, row, C_SEQ, seq)))
		return rc;
	if (t->has_pos && ((rc = set_real(r, row, C_LAT, t->lat)) || (rc = set_real(r, row, C_LON, t->lon))))
		return rc;
	return 0;
}

static int build_stops(const struct rp *p, struct fieldsync_rows **out)
{
	struct fieldsync_rows *r = new_table(stop_cols, stop_types);
	int64_t *legs = malloc((p->nr + 1) * sizeof *legs);
	int rc = 0, row;
	*out = NULL;
	if (!r || !legs) {
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		goto out;
	}
	int64_t run = 0;
	route_legs(p, p->order, legs);
	if (p->nr && p->from.set && (rc = place_row(r, "start", p->from.label, p->from.lat, p->from.lon, 0, 0)))
		goto out;
	for (size_t k = 0; k < p->nr; k++) {
		const struct rp_stop *t = &p->st[p->order[k]];
		run += legs[k];
		if ((row = fs_rows_add(r)) < 0) {
			rc = row;
			goto out;
		}
		if ((rc = set_int(r, row, C_STOP, (int64_t)k + 1)) || (rc = fs_rows_set(r, row, C_KIND, "stop")) ||
		    (rc = stop_fill(r, row, t, p->writes)) || (rc = set_km(r, row, C_LEGKM, legs[k])) ||
		    (rc = set_km(r, row, C_TOTKM, run)) || (rc = set_int(r, row, C_LEGM, legs[k])) ||
		    (rc = set_int(r, row, C_TOTM, run)))
			goto out;
	}
	if (p->nr && (p->to.set || p->ret)) {
		const struct rp_stop *first = &p->st[p->order[0]];
		const struct rp_place *e = p->to.set ? &p->to : &p->from;
		run += legs[p->nr];
		if (e->set)
			rc = place_row(r, "end", e->label, e->lat, e->lon, legs[p->nr], run);
		else
			rc = place_row(r, "end", first->name, first->lat, first->lon, legs[p->nr], run);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct rp_stop *t = &p->st[i];
		if (t->has_pos)
			continue;
		if ((row = fs_rows_add(r)) < 0) {
			rc = row;
			goto out;
		}
		if ((rc = fs_rows_set(r, row, C_KIND, "unrouted")) || (rc = stop_fill(r, row, t, p->writes)))
			goto out;
	}
out:
	free(legs);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int build_summary(const struct rp *p, struct fieldsync_rows **out)
{
	static const char *const sel[] = { "plans", "due", "all" };
	struct fieldsync_rows *r = new_table(sum_cols, sum_types);
	int rc, row;
	*out = NULL;
	if (!r)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	if ((row = fs_rows_add(r)) < 0) {
		rc = row;
		goto out;
	}
	if ((rc = fs_rows_set(r, row, 0, sel[p->o->select])) || (rc = fs_rows_set(r, row, 1, p->date)) ||
	    (rc = fs_rows_set(r, row, 2, p->o->territory && *p->o->territory ? p->o->territory : NULL)) ||
	    (rc = fs_rows_set(r, row, 3, p->from.set ? p->from.label : NULL)) ||
	    (rc = fs_rows_set(r, row, 4, p->to.set ? p->to.label : NULL)) ||
	    (rc = set_int(r, row, 5, p->ret)) || (rc = set_int(r, row, 6, (int64_t)p->nr)) ||
	    (rc = set_int(r, row, 7, (int64_t)(p->n - p->nr))) || (rc = set_int(r, row, 8, p->total)) ||
	    (rc = set_km(r, row, 9, p->total)) || (rc = set_int(r, row, 15, p->written)) ||
	    (rc = set_int(r, row, 16, p->exact)) || (rc = set_int(r, row, 17, (int64_t)p->iters)) ||
	    (rc = set_int(r, row, 18, p->budget_hit)))
		goto out;
	if (p->has_prev) {
		char pct[32];
		int64_t save = p->prev - p->total;
		snprintf(pct, sizeof pct, "%.1f", p->prev > 0 ? 100.0 * (double)save / (double)p->prev : 0.0);
		if ((rc = set_int(r, row, 10, p->prev)) || (rc = set_km(r, row, 11, p->prev)) ||
		    (rc = set_int(r, row, 12, save)) || (rc = set_km(r, row, 13, save)) ||
		    (rc = fs_rows_set(r, row, 14, pct)))
			goto out;
	}
out:
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- storing the order ---- */

static int write_seq(struct fs_store *s, const struct fs_table *t, const char *id, int has, int64_t seq)
{
	struct fs_chg c;
	struct fs_val v = { 0 };
	fs_chg_init(&c, t);
	if (has)
		fs_val_set_int(&v, seq);
	int rc = fs_chg_set(&c, fs_field_find(t, "route_seq"), &v);
	if (rc == 0)
		rc = fs_store_write(s, &c, id, NULL);
	fs_val_release(&v);
	fs_chg_release(&c);
	return rc;
}

static int store_order(struct rp *p)
{
	int plans = p->o->select == FIELDSYNC_ROUTE_PLANS;
	const struct fs_table *t = plans ? &fs_tbl_visit : &fs_tbl_customer;
	for (size_t k = 0; k < p->nr; k++) {
		struct rp_stop *s = &p->st[p->order[k]];
		s->has_new = 1;
		s->new_seq = (plans ? p->seq_base : 0) + (int64_t)k + 1;
	}
	if (!plans && !p->o->save)
		return 0;
	for (size_t i = 0; i < p->n; i++) {
		struct rp_stop *s = &p->st[i];
		if (s->has_new == s->has_seq && (!s->has_new || s->new_seq == s->seq))
			continue;
		int rc = write_seq(p->s, t, plans ? s->visit_id : s->customer_id, s->has_new, s->new_seq);
		if (rc)
			return rc;
		p->written++;
	}
	return 0;
}

/* ---- the calls ---- */

FIELDSYNC_API int fieldsync_route_opts_new(fieldsync_route_opts **out)
{
	fieldsync_route_opts *o = calloc(1, sizeof *o);
	*out = o;
	if (!o)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	o->select = FIELDSYNC_ROUTE_PLANS;
	o->budget_ms = FIELDSYNC_ROUTE_BUDGET_MS;
	return 0;
}

FIELDSYNC_API void fieldsync_route_opts_free(fieldsync_route_opts *o)
{
	if (!o)
		return;
	free(o->date);
	free(o->territory);
	free(o->from);
	free(o->to);
	free(o);
}

FIELDSYNC_API int fieldsync_route_opts_set_text(fieldsync_route_opts *o, int option, const char *value)
{
	char **slot = !o ? NULL : option == FIELDSYNC_ROUTE_OPT_DATE ? &o->date :
		      option == FIELDSYNC_ROUTE_OPT_TERRITORY ? &o->territory :
		      option == FIELDSYNC_ROUTE_OPT_FROM ? &o->from : option == FIELDSYNC_ROUTE_OPT_TO ? &o->to : NULL;
	if (!slot)
		return fs_err(FIELDSYNC_EINVAL, "route: option %d is not a text option", option);
	char *v = NULL;
	if (value && !(v = strdup(value)))
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	free(*slot);
	*slot = v;
	return 0;
}

FIELDSYNC_API int fieldsync_route_opts_set_int(fieldsync_route_opts *o, int option, int value)
{
	int *slot = !o ? NULL : option == FIELDSYNC_ROUTE_OPT_RETURN ? &o->ret :
		    option == FIELDSYNC_ROUTE_OPT_SELECT ? &o->select : option == FIELDSYNC_ROUTE_OPT_SAVE ? &o->save :
		    option == FIELDSYNC_ROUTE_OPT_BUDGET_MS ? &o->budget_ms : NULL;
	if (!slot)
		return fs_err(FIELDSYNC_EINVAL, "route: option %d is not an integer option", option);
	*slot = value;
	return 0;
}

static int check_opts(struct rp *p, const fieldsync_route_opts *o)
{
	int y, m, d, rc;
	if (!o)
		return fs_err(FIELDSYNC_EINVAL, "route: no options");
	if (o->select < FIELDSYNC_ROUTE_PLANS || o->select > FIELDSYNC_ROUTE_ALL)
		return fs_err(FIELDSYNC_EINVAL, "route: unknown selection %d", o->select);
	if (o->save && o->select == FIELDSYNC_ROUTE_PLANS)
		return fs_err(FIELDSYNC_EINVAL, "save: only with the due or all customers (plans are always stored)");
	if (o->budget_ms < 0 || o->budget_ms > 600000)
		return fs_err(FIELDSYNC_EINVAL, "budget: %d ms is outside 0..600000", o->budget_ms);
	if (o->ret && o->to && *o->to)
		return fs_err(FIELDSYNC_EINVAL, "route: back to the start and a different end exclude each other");
	if (!o->date)
		fs_today_local(p->date);
	else if (fs_parse_date(o->date, &y, &m, &d))
		return fs_err(FIELDSYNC_EINVAL, "date: '%.40s' is not a date YYYY-MM-DD", o->date);
	else
		snprintf(p->date, sizeof p->date, "%s", o->date);
	if (o->from && *o->from)
		rc = resolve_place(p->s, "from", o->from, &p->from);
	else
		rc = load_place(p->s, "home", &p->from);
	if (rc == 0 && o->to && *o->to)
		rc = resolve_place(p->s, "to", o->to, &p->to);
	if (rc)
		return rc;
	p->ret = o->ret;
	if (p->to.set && p->from.set && p->to.lat == p->from.lat && p->to.lon == p->from.lon) {
		p->to.set = 0;	/* "to home" from home: the way back */
		p->ret = 1;
	}
	return 0;
}

static int route_run(fieldsync_store *s, const fieldsync_route_opts *o, int planning, fieldsync_rows **stops,
		     fieldsync_rows **summary)
{
	struct rp p;
	int rc, txn = 0;
	memset(&p, 0, sizeof p);
	*stops = NULL;
	if (summary)
		*summary = NULL;
	p.s = s->st;
	p.o = o;
	p.planning = planning;
	if ((rc = check_opts(&p, o)) || (rc = fs_store_due(p.s, &p.due)))
		goto out;
	p.writes = planning && (o->select == FIELDSYNC_ROUTE_PLANS || o->save);
	/* read, plan and write in one transaction: what was planned is what is stored */
	if (p.writes) {
		if ((rc = fs_store_begin(p.s)))
			goto out;
		txn = 1;
	}
	if ((rc = load_stops(&p)))
		goto out;
	p.prev = route_legs(&p, p.routed, NULL);
	p.total = p.prev;
	if (planning) {
		p.has_prev = 1;
		if ((rc = solve(&p)))
			goto out;
		p.total = route_legs(&p, p.order, NULL);
		if (p.total >= p.prev) {
			/* not shorter: the stored order stands */
			memcpy(p.order, p.routed, p.nr * sizeof *p.order);
			p.total = p.prev;
		}
		if ((rc = store_order(&p)))
			goto out;
	}
	if ((rc = build_stops(&p, stops)) || (summary && (rc = build_summary(&p, summary))))
		goto out;
	if (txn) {
		txn = 0;
		rc = fs_store_commit(p.s);
	}
out:
	if (txn)
		fs_store_rollback(p.s);
	if (rc) {
		fs_rows_free(*stops);
		*stops = NULL;
		if (summary) {
			fs_rows_free(*summary);
			*summary = NULL;
		}
	}
	rp_release(&p);
	return rc;
}

FIELDSYNC_API int fieldsync_route_plan(fieldsync_store *s, const fieldsync_route_opts *o, fieldsync_rows **stops,
				       fieldsync_rows **summary)
{
	return route_run(s, o, 1, stops, summary);
}

FIELDSYNC_API int fieldsync_route_show(fieldsync_store *s, const fieldsync_route_opts *o, fieldsync_rows **stops,
				       fieldsync_rows **summary)
{
	return route_run(s, o, 0, stops, summary);
}
