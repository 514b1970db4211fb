/* test_retention.c - the retention period in force and the device purge's rules (core/retention.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "store_int.h"
#include "retention.h"
#include "util.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s/fs-retention-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	/* "today" is 2028-02-29 12:00 UTC: a year earlier SQLite's date() says 2027-03-01 */
	char now[32];
	snprintf(now, sizeof now, "%lld", (long long)(fs_days_from_civil(2028, 2, 29) * 86400000LL + 43200000LL));
	return setenv("FIELDSYNC_NOW_MS", now, 1);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	unsetenv("FIELDSYNC_NOW_MS");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static struct fs_store *open_store(const char *name)
{
	char p[512];
	struct fs_store *s;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	assert_int_equal(fs_store_open(p, FS_OPEN_CREATE, &s), 0);
	return s;
}

static int count(struct fs_store *s, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Write a record: NULL-terminated field, value pairs; id NULL creates (new id in out). */
static void put(struct fs_store *s, const struct fs_table *t, const char *id, char *out, ...)
{
	struct fs_chg c;
	va_list ap;
	fs_chg_init(&c, t);
	va_start(ap, out);
	for (const char *f; (f = va_arg(ap, const char *));) {
		const char *text = va_arg(ap, const char *);
		struct fs_val v = { 0 };
		int fi = fs_field_find(t, f);
		assert_true(fi >= 0);
		if (!strcmp(f, "deleted"))
			fs_val_set_int(&v, 1);
		else
			assert_int_equal(fs_field_parse(&t->fields[fi], text, FS_PARSE_USER, &v), 0);
		assert_int_equal(fs_chg_set(&c, fi, &v), 0);
		fs_val_release(&v);
	}
	va_end(ap);
	char tmp[33];
	assert_int_equal(fs_store_write(s, &c, id, id ? NULL : out ? out : tmp), 0);
	fs_chg_release(&c);
}

static void meta(struct fs_store *s, const char *v)
{
	assert_int_equal(fs_meta_set(s, "hq.retention_years", v), 0);
}

static void test_period(void **state)
{
	(void)state;
	int y, hq;
	char before[11];
	assert_int_equal(fs_retention_parse("3", &y), 0);
	assert_int_equal(y, 3);
	assert_int_equal(fs_retention_parse("100", &y), 0);
	const char *bad[] = { "0", "101", "-1", "abc", "2.5", "", "3 years" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(fs_retention_parse(bad[i], &y), FIELDSYNC_EINVAL);
		assert_non_null(strstr(fs_errmsg_get(), "1..100"));
	}

	struct fs_store *s = open_store("period.db");
	assert_int_equal(fs_retention_get(s, &y, &hq, before), 0);
	assert_int_equal(y, FS_RETENTION_DEFAULT);
	assert_int_equal(hq, 0);
	assert_string_equal(before, "2025-03-01");	/* 2025-02-29 does not exist */
	meta(s, "1");
	assert_int_equal(fs_retention_get(s, &y, &hq, before), 0);
	assert_int_equal(y, 1);
	assert_int_equal(hq, 1);
	assert_string_equal(before, "2027-03-01");
	meta(s, "4");
	assert_int_equal(fs_retention_get(s, &y, &hq, before), 0);
	assert_string_equal(before, "2024-02-29");
	/* HQ's "" (its default), and values this version cannot read: the default */
	const char *unreadable[] = { "", "0", "abc", "1000" };
	for (size_t i = 0; i < sizeof unreadable / sizeof unreadable[0]; i++) {
		meta(s, unreadable[i]);
		assert_int_equal(fs_retention_get(s, &y, &hq, NULL), 0);
		assert_int_equal(y, FS_RETENTION_DEFAULT);
		assert_int_equal(hq, 0);
	}
	fs_store_close(s);
}

/* The purge table's cell (row of `table`, column `col`) as a number. */
static long long cell(struct fieldsync_rows *r, const char *table, const char *col)
{
	int c = -1;
	for (int k = 0; k < r->ncol; k++)
		if (!strcmp(r->names[k], col))
			c = k;
	assert_true(c >= 0);
	for (int i = 0; i < r->nrow; i++)
		if (!strcmp(fs_rows_cell(r, i, 0), table))
			return strtoll(fs_rows_cell(r, i, c), NULL, 10);
	fail_msg("no row %s", table);
	return -1;
}

static int present(struct fs_store *s, const char *table, const char *id)
{
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE id = '%s'", table, id);
	return count(s, sql);
}

static void test_rules(void **state)
{
	(void)state;
	struct fs_store *s = open_store("rules.db");
	const struct fs_table *V = &fs_tbl_visit, *L = &fs_tbl_order_line, *P = &fs_tbl_payment;
	char c[33], d[33];
	put(s, &fs_tbl_customer, NULL, c, "name", "Ordinary", "territory", "T", NULL);
	put(s, &fs_tbl_customer, NULL, d, "name", "Disputed", "territory", "T", "disputed", "1", NULL);
	meta(s, "1");	/* old: dated before 2027-03-01 */

	/* purged */
	char v_old[33], l_old[33], p_old[33], v_plan[33], v_gone[33], p_free[33], p_orphan[33], v_orphan[33];
	put(s, V, NULL, v_old, "customer_id", c, "status", "done", "planned_date", "2028-01-01",
	    "check_in", "2027-02-28T23:30:00Z", NULL);	/* the check-in's date decides */
	put(s, L, NULL, l_old, "visit_id", v_old, "customer_id", c, "product", "Tea", "quantity", "1",
	    "unit_price", "1", "amount", "1", NULL);
	put(s, P, NULL, p_old, "customer_id", c, "visit_id", v_old, "date", "2028-02-01", "received", "5", NULL);
	put(s, V, NULL, v_plan, "customer_id", c, "status", "planned", "planned_date", "2020-01-01", NULL);
	put(s, V, NULL, v_gone, "customer_id", c, "status", "planned", "planned_date", "2020-01-01", NULL);
	put(s, V, v_gone, NULL, "deleted", "1", NULL);	/* a tombstone goes too */
	put(s, P, NULL, p_free, "customer_id", c, "date", "2026-05-05", "received", "1", NULL);
	put(s, V, NULL, v_orphan, "customer_id", c, "status", "done", "planned_date", "2028-01-01", NULL);
	put(s, P, NULL, p_orphan, "customer_id", c, "visit_id", v_orphan, "date", "2019-01-01", NULL);

	/* not old */
	char v_edge[33], v_recent_in[33], v_nodate[33], p_recent[33], p_on_recent[33];
	put(s, V, NULL, v_edge, "customer_id", c, "status", "done", "check_in", "2027-03-01T00:00:00Z", NULL);
	put(s, V, NULL, v_recent_in, "customer_id", c, "status", "done", "planned_date", "2020-01-01",
	    "check_in", "2028-01-01T10:00:00Z", NULL);
	put(s, V, NULL, v_nodate, "customer_id", c, "status", "planned", NULL);
	put(s, P, NULL, p_recent, "customer_id", c, "date", "2027-03-01", NULL);
	put(s, P, NULL, p_on_recent, "customer_id", c, "visit_id", v_edge, "date", "2019-01-01", NULL);

	/* kept: disputed */
	char v_disp[33], l_disp[33], v_of_d[33], v_dpay[33], p_dpay[33], p_dpay2[33], p_free_disp[33], p_free_d[33];
	put(s, V, NULL, v_disp, "customer_id", c, "status", "done", "planned_date", "2020-01-01", "disputed", "1", NULL);
	put(s, L, NULL, l_disp, "visit_id", v_disp, "customer_id", c, "product", "Tea", "quantity", "1",
	    "unit_price", "1", "amount", "1", NULL);
	put(s, V, NULL, v_of_d, "customer_id", d, "status", "done", "planned_date", "2020-01-01", NULL);
	put(s, V, NULL, v_dpay, "customer_id", c, "status", "done", "planned_date", "2020-01-01", NULL);
	put(s, P, NULL, p_dpay, "customer_id", c, "visit_id", v_dpay, "date", "2020-01-01", "disputed", "yes", NULL);
	put(s, P, NULL, p_dpay2, "customer_id", c, "visit_id", v_dpay, "date", "2020-01-01", NULL);
	put(s, P, NULL, p_free_disp, "customer_id", c, "date", "2020-01-01", "disputed", "1", NULL);
	put(s, P, NULL, p_free_d, "customer_id", d, "date", "2020-01-01", NULL);

	/* everything so far reached HQ; then local changes that have not */
	assert_int_equal(sqlite3_exec(s->db, "DELETE FROM changelog", NULL, NULL, NULL), SQLITE_OK);
	char sql[128];
	snprintf(sql, sizeof sql, "DELETE FROM visit WHERE id = '%s'", v_orphan);	/* its payment stays */
	assert_int_equal(sqlite3_exec(s->db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(present(s, "visit", v_orphan), 0);
	char v_pl[33], l_pl[33], v_pp[33], p_pp[33], v_pv[33], p_free_pend[33];
	put(s, V, NULL, v_pv, "customer_id", c, "status", "done", "planned_date", "2019-01-01", NULL);
	assert_int_equal(sqlite3_exec(s->db, "DELETE FROM changelog", NULL, NULL, NULL), SQLITE_OK);
	put(s, V, NULL, v_pl, "customer_id", c, "status", "done", "planned_date", "2019-01-01", NULL);
	put(s, V, NULL, v_pp, "customer_id", c, "status", "done", "planned_date", "2019-01-01", NULL);
	put(s, L, NULL, l_pl, "visit_id", v_pl, "customer_id", c, "product", "Tea", "quantity", "1",
	    "unit_price", "1", "amount", "1", NULL);
	put(s, P, NULL, p_pp, "customer_id", c, "visit_id", v_pp, "date", "2019-01-01", NULL);
	put(s, P, NULL, p_free_pend, "customer_id", c, "date", "2019-01-01", NULL);
	assert_int_equal(sqlite3_exec(s->db, "DELETE FROM changelog WHERE tbl = 'visit'", NULL, NULL, NULL),
			 SQLITE_OK);
	put(s, V, v_pv, NULL, "outcome", "edited, not pushed", NULL);
	int log = count(s, "SELECT count(*) FROM changelog");
	assert_int_equal(log, 4);	/* l_pl, p_pp, p_free_pend, v_pv */

	/* a dry run counts and changes nothing */
	struct fieldsync_rows *r;
	int64_t n = -1;
	int rows = count(s, "SELECT (SELECT count(*) FROM visit) + (SELECT count(*) FROM order_line)"
			    " + (SELECT count(*) FROM payment)");
	assert_int_equal(fs_retention_purge(s, 1, &n, &r), 0);
	assert_int_equal(n, 7);
	assert_int_equal(rows, count(s, "SELECT (SELECT count(*) FROM visit) + (SELECT count(*) FROM order_line)"
				     " + (SELECT count(*) FROM payment)"));
	assert_int_equal(cell(r, "visit", "purged"), 3);	/* v_old, v_plan, v_gone */
	assert_int_equal(cell(r, "visit", "kept_disputed"), 3);	/* v_disp, v_of_d, v_dpay */
	assert_int_equal(cell(r, "visit", "kept_unsynced"), 3);	/* v_pv, v_pl, v_pp */
	assert_int_equal(cell(r, "order_line", "purged"), 1);
	assert_int_equal(cell(r, "order_line", "kept_disputed"), 1);
	assert_int_equal(cell(r, "order_line", "kept_unsynced"), 1);
	assert_int_equal(cell(r, "payment", "purged"), 3);	/* p_old, p_free, p_orphan */
	assert_int_equal(cell(r, "payment", "kept_disputed"), 4);	/* p_dpay, p_dpay2, p_free_disp, p_free_d */
	assert_int_equal(cell(r, "payment", "kept_unsynced"), 2);	/* p_pp, p_free_pend */
	assert_int_equal(cell(r, "visit", "years"), 1);
	assert_string_equal(fs_rows_cell(r, 0, 5), "2027-03-01");
	fs_rows_free(r);

	/* inside a caller's transaction, without a table */
	assert_int_equal(fs_store_begin(s), 0);
	assert_int_equal(fs_retention_purge(s, 0, &n, NULL), 0);
	assert_int_equal(fs_store_commit(s), 0);
	assert_int_equal(n, 7);
	const char *gone[][2] = { { "visit", v_old }, { "order_line", l_old }, { "payment", p_old },
		{ "visit", v_plan }, { "visit", v_gone }, { "payment", p_free }, { "payment", p_orphan } };
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
		if (present(s, gone[i][0], gone[i][1]) != 0)
			fail_msg("%s %s is still there", gone[i][0], gone[i][1]);
	const char *kept[][2] = { { "visit", v_edge }, { "visit", v_recent_in }, { "visit", v_nodate },
		{ "payment", p_recent }, { "payment", p_on_recent }, { "visit", v_disp }, { "order_line", l_disp },
		{ "visit", v_of_d }, { "visit", v_dpay }, { "payment", p_dpay }, { "payment", p_dpay2 },
		{ "payment", p_free_disp }, { "payment", p_free_d }, { "visit", v_pl }, { "order_line", l_pl },
		{ "visit", v_pp }, { "payment", p_pp }, { "visit", v_pv }, { "payment", p_free_pend },
		{ "customer", c }, { "customer", d } };
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		if (present(s, kept[i][0], kept[i][1]) != 1)
			fail_msg("%s %s is gone", kept[i][0], kept[i][1]);
	/* nothing to push: the purge is local */
	assert_int_equal(count(s, "SELECT count(*) FROM changelog"), log);

	/* again: nothing left to purge, the same kept */
	assert_int_equal(fs_retention_purge(s, 0, &n, &r), 0);
	assert_int_equal(n, 0);
	assert_int_equal(cell(r, "visit", "kept_disputed"), 3);
	assert_int_equal(cell(r, "payment", "kept_unsynced"), 2);
	fs_rows_free(r);
	fs_store_close(s);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_rules),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
