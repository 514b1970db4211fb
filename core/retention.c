/* retention.c - purging old ordinary visit records from a device (see retention.h). */
#include "retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldsync.h"
#include "query.h"
#include "util.h"

int fs_retention_parse(const char *text, int *years)
{
	int64_t n;
	if (!text || fs_parse_int(text, &n) || n < FS_RETENTION_MIN || n > FS_RETENTION_MAX)
		return fs_err(FIELDSYNC_EINVAL, "retention: '%.40s' is not a number of years %d..%d",
			      text ? text : "", FS_RETENTION_MIN, FS_RETENTION_MAX);
	*years = (int)n;
	return 0;
}

static int one_text(void *ctx, int ncol, const struct fs_val *v)
{
	char *out = ctx;
	if (ncol > 0 && v[0].t == FS_V_TEXT)
		snprintf(out, 11, "%s", v[0].s);
	return 0;
}

/* Today (UTC) minus `years` calendar years, with SQLite's date() arithmetic. */
static int cutoff(struct fs_store *s, int years, char before[11])
{
	char now[32], mod[32];
	fs_iso_utc(fs_wall_ms(), now);
	now[10] = '\0';
	snprintf(mod, sizeof mod, "-%d years", years);
	struct fs_val p[2] = { fs_vref(now), fs_vref(mod) };
	before[0] = '\0';
	int rc = fs_store_exec(s, "SELECT date($1, $2)", 2, p, one_text, before);
	if (rc == 0 && strlen(before) != 10)
		rc = fs_err(FIELDSYNC_EIO, "retention: no cut-off date for %s minus %d years", now, years);
	return rc;
}

int fs_retention_get(struct fs_store *s, int *years, int *from_hq, char before[11])
{
	char *text = NULL;
	int y = FS_RETENTION_DEFAULT, hq = 0;
	int rc = fs_meta_get(s, "hq.retention_years", &text);
	if (rc)
		return rc;
	if (text && *text) {
		/* a value this version cannot read: the default, as for the due intervals */
		hq = fs_retention_parse(text, &y) == 0;
		if (!hq)
			y = FS_RETENTION_DEFAULT;
		fs_err_clear();
	}
	free(text);
	*years = y;
	if (from_hq)
		*from_hq = hq;
	return before ? cutoff(s, y, before) : 0;
}

/*
 * Every old visit and payment, and the lines and payments of old visits,
 * go into temp.fs_purge with the verdict: 'purge', or why they stay
 * ('disputed' before 'unsynced'). A visit's verdict is its children's.
 * $1 is the cut-off date.
 */
static const char *const classify[] = {
	"CREATE TEMP TABLE IF NOT EXISTS fs_purge (tbl TEXT NOT NULL, id TEXT NOT NULL, why TEXT NOT NULL,"
	" PRIMARY KEY (tbl, id))",
	"DELETE FROM temp.fs_purge",
	"INSERT INTO temp.fs_purge (tbl, id, why)"
	" SELECT 'visit', v.id, CASE"
	"  WHEN v.disputed = 1"
	"   OR EXISTS (SELECT 1 FROM customer c WHERE c.id = v.customer_id AND c.disputed = 1)"
	"   OR EXISTS (SELECT 1 FROM payment p WHERE p.visit_id = v.id AND p.disputed = 1) THEN 'disputed'"
	"  WHEN EXISTS (SELECT 1 FROM changelog l WHERE l.tbl = 'visit' AND l.id = v.id)"
	"   OR EXISTS (SELECT 1 FROM order_line o JOIN changelog l ON l.tbl = 'order_line' AND l.id = o.id"
	"              WHERE o.visit_id = v.id)"
	"   OR EXISTS (SELECT 1 FROM payment p JOIN changelog l ON l.tbl = 'payment' AND l.id = p.id"
	"              WHERE p.visit_id = v.id) THEN 'unsynced'"
	"  ELSE 'purge' END"
	" FROM visit v WHERE coalesce(substr(v.check_in, 1, 10), v.planned_date) < $1",
	"INSERT INTO temp.fs_purge (tbl, id, why)"
	" SELECT 'order_line', o.id, f.why FROM order_line o"
	" JOIN temp.fs_purge f ON f.tbl = 'visit' AND f.id = o.visit_id",
	"INSERT INTO temp.fs_purge (tbl, id, why)"
	" SELECT 'payment', p.id, f.why FROM payment p"
	" JOIN temp.fs_purge f ON f.tbl = 'visit' AND f.id = p.visit_id",
	/* payments without a visit on the device go by their own date */
	"INSERT INTO temp.fs_purge (tbl, id, why)"
	" SELECT 'payment', p.id, CASE"
	"  WHEN p.disputed = 1"
	"   OR EXISTS (SELECT 1 FROM customer c WHERE c.id = p.customer_id AND c.disputed = 1) THEN 'disputed'"
	"  WHEN EXISTS (SELECT 1 FROM changelog l WHERE l.tbl = 'payment' AND l.id = p.id) THEN 'unsynced'"
	"  ELSE 'purge' END"
	" FROM payment p WHERE p.date < $1"
	" AND (p.visit_id IS NULL OR NOT EXISTS (SELECT 1 FROM visit v WHERE v.id = p.visit_id))",
};

/* Children first, so that no line or payment is ever left without its visit. */
static const char *const purge[] = {
	"DELETE FROM order_line WHERE id IN (SELECT id FROM temp.fs_purge WHERE tbl = 'order_line' AND why = 'purge')",
	"DELETE FROM payment WHERE id IN (SELECT id FROM temp.fs_purge WHERE tbl = 'payment' AND why = 'purge')",
	"DELETE FROM visit WHERE id IN (SELECT id FROM temp.fs_purge WHERE tbl = 'visit' AND why = 'purge')",
};

static const char *const tables[] = { "visit", "order_line", "payment" };
static const char *const whys[] = { "purge", "disputed", "unsynced" };

struct tally {
	int64_t n[3][3];	/* [table][why] */
};

static int tally_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct tally *t = ctx;
	if (ncol < 3 || v[0].t != FS_V_TEXT || v[1].t != FS_V_TEXT || v[2].t != FS_V_INT)
		return 0;
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			if (!strcmp(v[0].s, tables[i]) && !strcmp(v[1].s, whys[k]))
				t->n[i][k] = v[2].i;
	return 0;
}

static int tally_rows(const struct tally *t, int years, const char *before, struct fieldsync_rows **out)
{
	static const char *const names[] = { "table", "purged", "kept_disputed", "kept_unsynced", "years",
		"before" };
	static const int types[] = { FS_T_TEXT, FS_T_INT, FS_T_INT, FS_T_INT, FS_T_INT, FS_T_DATE };
	struct fieldsync_rows *r = fs_rows_new(6);
	int rc = r ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < 6; c++)
		rc = fs_rows_set_col(r, c, names[c], types[c]);
	for (int i = 0; rc == 0 && i < 3; i++) {
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		rc = fs_rows_set(r, row, 0, tables[i]);
		for (int k = 0; rc == 0 && k < 3; k++)
			rc = fs_rows_set_int(r, row, 1 + k, t->n[i][k]);
		if (rc == 0)
			rc = fs_rows_set_int(r, row, 4, years);
		if (rc == 0)
			rc = fs_rows_set(r, row, 5, before);
	}
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int purge_locked(struct fs_store *s, int dry_run, struct tally *t, int *years, char before[11])
{
	int rc = fs_retention_get(s, years, NULL, before);
	struct fs_val p = fs_vref(before);
	for (size_t i = 0; rc == 0 && i < sizeof classify / sizeof classify[0]; i++)
		rc = fs_store_exec(s, classify[i], strstr(classify[i], "$1") ? 1 : 0, &p, NULL, NULL);
	if (rc == 0)
		rc = fs_store_exec(s, "SELECT tbl, why, count(*) FROM temp.fs_purge GROUP BY tbl, why", 0, NULL,
				   tally_row, t);
	for (size_t i = 0; rc == 0 && !dry_run && i < sizeof purge / sizeof purge[0]; i++)
		rc = fs_store_exec(s, purge[i], 0, NULL, NULL, NULL);
	if (rc == 0)
		rc = fs_store_exec(s, "DELETE FROM temp.fs_purge", 0, NULL, NULL, NULL);
	return rc;
}

int fs_retention_purge(struct fs_store *s, int dry_run, int64_t *purged, struct fieldsync_rows **out)
{
	struct tally t;
	char before[11] = "";
	int years = 0;
	memset(&t, 0, sizeof t);
	if (out)
		*out = NULL;
	if (purged)
		*purged = 0;
	int rc = fs_store_begin(s);
	if (rc)
		return rc;
	/* a dry run changes nothing but the scratch table, which it empties:
	 * it commits too, so that it never dooms a caller's transaction */
	rc = purge_locked(s, dry_run, &t, &years, before);
	if (rc) {
		fs_store_rollback(s);
		return rc;
	}
	if ((rc = fs_store_commit(s)))
		return rc;
	if (purged)
		*purged = t.n[0][0] + t.n[1][0] + t.n[2][0];
	return out ? tally_rows(&t, years, before, out) : 0;
}
