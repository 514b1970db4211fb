/*
 * test_route_plan.c - the route planner over a store (core/route_plan.c) and
 * the due intervals (core/due.c): interval boundaries, the free-start open
 * path on a circle (the heuristic branch), a fixed end, the order written as
 * route_seq, a failed call leaving the store alone, and export errors.
 * Every search runs with budget_ms = 0 (the iteration cap alone).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fieldsync.h"
#include "due.h"

static void test_due_intervals(void **state)
{
	(void)state;
	assert_int_equal(fs_due_interval_days("A"), 7);
	assert_int_equal(fs_due_interval_days("B"), 14);
	assert_int_equal(fs_due_interval_days("C"), 30);
	assert_int_equal(fs_due_interval_days("VIP"), 7);
	assert_int_equal(fs_due_interval_days(NULL), 30);
	assert_int_equal(fs_due_interval_days(""), 30);
	assert_int_equal(fs_due_interval_days("Z"), 30);
}

static void test_due_boundaries(void **state)
{
	int due = -1;
	(void)state;
	assert_int_equal(fs_due_check("A", "2026-11-16", "2026-11-23", &due), 0);
	assert_int_equal(due, 1);
	assert_int_equal(fs_due_check("A", "2026-11-17", "2026-11-23", &due), 0);
	assert_int_equal(due, 0);
	assert_int_equal(fs_due_check("B", "2026-11-09", "2026-11-23", &due), 0);
	assert_int_equal(due, 1);
	assert_int_equal(fs_due_check(NULL, "2025-12-24", "2026-01-23", &due), 0);
	assert_int_equal(due, 1);	/* 30 days over the year end */
	assert_int_equal(fs_due_check("C", "2025-12-25", "2026-01-23", &due), 0);
	assert_int_equal(due, 0);
	assert_int_equal(fs_due_check("A", NULL, "2026-11-23", &due), 0);
	assert_int_equal(due, 1);	/* never visited */
	assert_int_equal(fs_due_check("A", NULL, "2026-02-30", &due), FIELDSYNC_EINVAL);
}

struct fx {
	char dir[64], path[96];
	fieldsync_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/fs-route-plan.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
	if (fieldsync_open(f->path, FIELDSYNC_OPEN_CREATE, &f->s))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[128];
	fieldsync_close(f->s);
	const char *sfx[] = { "", "-wal", "-shm" };
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A customer at (lat, lon) (no position: lat NAN) with a plan on the day. */
static void add_stop(fieldsync_store *s, const char *name, double lat, double lon, char vid[33])
{
	fieldsync_rec *r;
	char cid[33], a[32], b[32];
	assert_int_equal(fieldsync_rec_new("customer", &r), 0);
	assert_int_equal(fieldsync_rec_set(r, "name", name), 0);
	assert_int_equal(fieldsync_rec_set(r, "territory", "T1"), 0);
	if (!isnan(lat)) {
		snprintf(a, sizeof a, "%.7f", lat);
		snprintf(b, sizeof b, "%.7f", lon);
		assert_int_equal(fieldsync_rec_set(r, "lat", a), 0);
		assert_int_equal(fieldsync_rec_set(r, "lon", b), 0);
	}
	assert_int_equal(fieldsync_insert(s, r, cid), 0);
	fieldsync_rec_free(r);
	assert_int_equal(fieldsync_rec_new("visit", &r), 0);
	assert_int_equal(fieldsync_rec_set(r, "customer_id", cid), 0);
	assert_int_equal(fieldsync_rec_set(r, "status", "planned"), 0);
	assert_int_equal(fieldsync_rec_set(r, "planned_date", "2026-11-23"), 0);
	assert_int_equal(fieldsync_insert(s, r, vid), 0);
	fieldsync_rec_free(r);
}

static long cell_int(const fieldsync_rows *r, int row, const char *col)
{
	const char *v = fieldsync_rows_value(r, row, fieldsync_rows_find(r, col));
	return v ? strtol(v, NULL, 10) : -1;
}

static const char *cell(const fieldsync_rows *r, int row, const char *col)
{
	return fieldsync_rows_value(r, row, fieldsync_rows_find(r, col));
}

/* 24 stops evenly on a small circle: the shortest open path from anywhere
 * walks round it leaving out one side, 23 chords; the heuristic branch
 * (n > 12: closed tour cut at its longest edge) must find it. */
static void test_free_start_circle(void **state)
{
	struct fx *f = *state;
	enum { N = 24 };
	char vid[N][33], name[16];
	for (int i = 0; i < N; i++) {
		double t = 2 * M_PI * ((i * 7) % N) / N;	/* stored out of order */
		snprintf(name, sizeof name, "P%02d", (i * 7) % N);
		add_stop(f->s, name, 50 + 0.05 * sin(t), 10 + 0.05 * cos(t) / cos(50 * M_PI / 180), vid[i]);
	}
	fieldsync_route_opts *o;
	fieldsync_rows *st, *sum;
	assert_int_equal(fieldsync_route_opts_new(&o), 0);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_DATE, "2026-11-23"), 0);
	assert_int_equal(fieldsync_route_opts_set_int(o, FIELDSYNC_ROUTE_OPT_BUDGET_MS, 0), 0);
	assert_int_equal(fieldsync_route_plan(f->s, o, &st, &sum), 0);
	assert_int_equal(fieldsync_rows_count(st), N);
	assert_int_equal(cell_int(sum, 0, "stops"), N);
	assert_int_equal(cell_int(sum, 0, "exact"), 0);
	/* neighbours on the circle, one gap */
	int gaps = 0;
	for (int k = 1; k < N; k++) {
		int a = atoi(cell(st, k - 1, "name") + 1), b = atoi(cell(st, k, "name") + 1);
		int d = abs(a - b);
		gaps += d != 1 && d != N - 1;
		assert_int_equal(cell_int(st, k, "stop"), k + 1);
		assert_int_equal(cell_int(st, k, "route_seq"), k + 1);
	}
	assert_int_equal(gaps, 0);
	long chord = cell_int(st, 1, "leg_m"), total = cell_int(sum, 0, "total_m");
	assert_true(labs(total - (N - 1) * chord) <= total / 200);
	assert_true(cell_int(sum, 0, "saving_m") > 0);
	fieldsync_rows_free(st);
	fieldsync_rows_free(sum);

	/* the same again: deterministic, and nothing left to write */
	fieldsync_rows *st2, *sum2;
	assert_int_equal(fieldsync_route_plan(f->s, o, &st2, &sum2), 0);
	assert_int_equal(cell_int(sum2, 0, "written"), 0);
	assert_int_equal(cell_int(sum2, 0, "total_m"), total);
	fieldsync_rows_free(st2);
	fieldsync_rows_free(sum2);
	fieldsync_route_opts_free(o);
}

/* A fixed end with a free start: the route finishes there. */
static void test_fixed_end(void **state)
{
	struct fx *f = *state;
	char vid[4][33];
	add_stop(f->s, "B", 50, 10.2, vid[0]);
	add_stop(f->s, "D", 50, 10.4, vid[1]);
	add_stop(f->s, "A", 50, 10.1, vid[2]);
	add_stop(f->s, "NOPOS", NAN, 0, vid[3]);
	fieldsync_route_opts *o;
	fieldsync_rows *st, *sum;
	assert_int_equal(fieldsync_route_opts_new(&o), 0);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_DATE, "2026-11-23"), 0);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_TO, "50,10"), 0);
	assert_int_equal(fieldsync_route_opts_set_int(o, FIELDSYNC_ROUTE_OPT_BUDGET_MS, 0), 0);
	assert_int_equal(fieldsync_route_plan(f->s, o, &st, &sum), 0);
	assert_int_equal(fieldsync_rows_count(st), 5);
	assert_string_equal(cell(st, 0, "name"), "D");
	assert_string_equal(cell(st, 1, "name"), "B");
	assert_string_equal(cell(st, 2, "name"), "A");
	assert_string_equal(cell(st, 3, "kind"), "end");
	assert_string_equal(cell(st, 3, "name"), "50,10");
	assert_string_equal(cell(st, 4, "kind"), "unrouted");
	assert_null(cell(st, 4, "route_seq"));
	assert_int_equal(cell_int(sum, 0, "unrouted"), 1);
	fieldsync_rows_free(st);
	fieldsync_rows_free(sum);
	fieldsync_route_opts_free(o);
}

/* A bad place fails before anything is written. */
static void test_bad_place_writes_nothing(void **state)
{
	struct fx *f = *state;
	char vid[33];
	add_stop(f->s, "X", 50, 10, vid);
	add_stop(f->s, "Y", 50, 10.1, vid);
	fieldsync_route_opts *o;
	fieldsync_rows *st = (fieldsync_rows *)1, *sum = (fieldsync_rows *)1;
	assert_int_equal(fieldsync_route_opts_new(&o), 0);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_DATE, "2026-11-23"), 0);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_FROM, "office"), 0);
	assert_int_equal(fieldsync_route_plan(f->s, o, &st, &sum), FIELDSYNC_EINVAL);
	assert_null(st);
	assert_null(sum);
	assert_non_null(strstr(fieldsync_errmsg(), "office"));
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_FROM, "91,0"), 0);
	assert_int_equal(fieldsync_route_plan(f->s, o, &st, &sum), FIELDSYNC_EINVAL);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_FROM, NULL), 0);
	assert_int_equal(fieldsync_route_opts_set_int(o, FIELDSYNC_ROUTE_OPT_SELECT, FIELDSYNC_ROUTE_PLANS), 0);
	assert_int_equal(fieldsync_route_opts_set_int(o, FIELDSYNC_ROUTE_OPT_SAVE, 1), 0);
	assert_int_equal(fieldsync_route_plan(f->s, o, &st, &sum), FIELDSYNC_EINVAL);
	fieldsync_route_opts_free(o);
	fieldsync_rows *v;
	assert_int_equal(fieldsync_get(f->s, "visit", vid, &v), 0);
	assert_null(cell(v, 0, "route_seq"));
	fieldsync_rows_free(v);
	assert_int_equal(fieldsync_route_place_set(f->s, "garage", "1,2"), FIELDSYNC_EINVAL);
	assert_int_equal(fieldsync_route_place_set(f->s, "office", "1;2"), FIELDSYNC_EINVAL);
	assert_int_equal(fieldsync_route_place_set(f->s, "office", "-33.9, 18.42"), 0);
	assert_int_equal(fieldsync_route_places(f->s, &v), 0);
	assert_string_equal(cell(v, 1, "lat"), "-33.9");
	assert_string_equal(cell(v, 1, "lon"), "18.42");
	assert_null(cell(v, 0, "lat"));
	fieldsync_rows_free(v);
	assert_int_equal(fieldsync_route_place_set(f->s, "office", NULL), 0);
	assert_int_equal(fieldsync_route_places(f->s, &v), 0);
	assert_null(cell(v, 1, "lat"));
	fieldsync_rows_free(v);
}

/* The opaque option set: setters refuse the wrong kind, keep the value. */
static void test_opts_setters(void **state)
{
	fieldsync_route_opts *o;
	(void)state;
	assert_int_equal(fieldsync_route_opts_new(&o), 0);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_SAVE, "1"), FIELDSYNC_EINVAL);
	assert_int_equal(fieldsync_route_opts_set_int(o, FIELDSYNC_ROUTE_OPT_DATE, 1), FIELDSYNC_EINVAL);
	assert_int_equal(fieldsync_route_opts_set_int(o, 99, 1), FIELDSYNC_EINVAL);
	assert_int_equal(fieldsync_route_opts_set_int(NULL, FIELDSYNC_ROUTE_OPT_SAVE, 1), FIELDSYNC_EINVAL);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_TERRITORY, "MOW-1"), 0);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_TERRITORY, "SPB-1"), 0);
	assert_int_equal(fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_TERRITORY, NULL), 0);
	fieldsync_route_opts_free(o);
	fieldsync_route_opts_free(NULL);
}

static void test_export_errors(void **state)
{
	(void)state;
	fieldsync_rows *r;
	FILE *fp = tmpfile();
	assert_non_null(fp);
	assert_int_equal(fieldsync_fields("customer", &r), 0);
	assert_int_equal(fieldsync_route_export(r, NULL, fp, FIELDSYNC_ROUTE_SVG), FIELDSYNC_EINVAL);
	assert_int_equal(fieldsync_route_export(r, NULL, fp, 99), FIELDSYNC_EINVAL);
	fieldsync_rows_free(r);
	fclose(fp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_intervals),
		cmocka_unit_test(test_due_boundaries),
		cmocka_unit_test_setup_teardown(test_free_start_circle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_place_writes_nothing, setup, teardown),
		cmocka_unit_test(test_opts_setters),
		cmocka_unit_test(test_export_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
