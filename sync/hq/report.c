/* report.c - HQ's reports (see hq_report.h). */
#include "hq_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "due.h"
#include "import.h"
#include "query.h"
#include "report.h"
#include "retention.h"
#include "util.h"

/* ---- reports ---- */

/* Composition: count per value of one customer field, with the share. */
static int report_customers(const struct fs_exec *x, const char *by, struct fieldsync_rows **out)
{
	static const char *const ok[] = { "grade", "nature", "status", "territory", "size", NULL };
	char sql[256];
	int k = -1;
	for (int i = 0; ok[i]; i++)
		if (by && !strcmp(by, ok[i]))
			k = i;
	if (k < 0)
		return fs_err(FIELDSYNC_EINVAL, "--by: '%.40s' is not one of grade, nature, status, territory, size",
			      by ? by : "");
	/* the column name comes from the fixed list above, never from input */
	snprintf(sql, sizeof sql, "SELECT %s, count(*) FROM customer WHERE coalesce(deleted, 0) = 0"
		 " GROUP BY %s ORDER BY %s", ok[k], ok[k], ok[k]);
	const char *rn[] = { ok[k], "customers", NULL };
	struct fieldsync_rows *raw;
	int rc = fs_exec_rows(x, sql, 0, NULL, rn, NULL, &raw);
	if (rc)
		return rc;
	static const char *const cn[] = { "value", "customers", "pct" };
	static const int ct[] = { FS_T_TEXT, FS_T_INT, FS_T_INT };
	struct fieldsync_rows *r = fs_rows_new(3);
	int64_t total = 0;
	for (int i = 0; i < raw->nrow; i++)
		total += strtoll(fs_rows_cell(raw, i, 1), NULL, 10);
	if (!r)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < 3; c++)
		rc = fs_rows_set_col(r, c, c ? cn[c] : ok[k], ct[c]);
	for (int i = 0; rc == 0 && i <= raw->nrow; i++) {
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		int64_t n = i < raw->nrow ? strtoll(fs_rows_cell(raw, i, 1), NULL, 10) : total;
		rc = fs_rows_set(r, row, 0, i < raw->nrow ? (fs_rows_cell(raw, i, 0) ? fs_rows_cell(raw, i, 0) : "(none)") : "(total)");
		if (rc == 0)
			rc = fs_rows_set_int(r, row, 1, n);
		if (rc == 0)
			rc = fs_rows_set_int(r, row, 2, total ? (n * 100 + total / 2) / total : 0);
	}
	fs_rows_free(raw);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* Planned vs done per rep (who logged each visit, or whom a plan is for) or territory. */
static int report_visits(const struct fs_exec *x, const char *by, const char *month, struct fieldsync_rows **out)
{
	struct fs_period per;
	int rep = by && !strcmp(by, "rep");
	if (!rep && by && strcmp(by, "territory"))
		return fs_err(FIELDSYNC_EINVAL, "--by: '%.40s' is not one of rep, territory", by);
	if (!month || !*month)
		return fs_err(FIELDSYNC_EINVAL, "--month: give a month YYYY-MM");
	int rc = fs_period_month(month, &per);
	if (rc)
		return rc;
	const char *sql = rep ?
		/* a visit is its author's (the rep whose device logged it); a plan
		 * still open is its assignee's, else its author's; "unknown" for
		 * visits HQ stored before it kept authors */
		"SELECT coalesce(CASE WHEN v.status = 'planned' THEN coalesce(v.assignee, v.author_rep)"
		" ELSE v.author_rep END, 'unknown'), v.status, count(*) FROM visit v"
		" WHERE coalesce(v.deleted, 0) = 0 AND v.planned_date >= $1 AND v.planned_date < $2"
		" AND v.status <> 'cancelled' GROUP BY 1, 2 ORDER BY 1, 2" :
		"SELECT v.scope, v.status, count(*) FROM visit v"
		" WHERE coalesce(v.deleted, 0) = 0 AND v.planned_date >= $1 AND v.planned_date < $2"
		" AND v.status <> 'cancelled' GROUP BY v.scope, v.status ORDER BY v.scope, v.status";
	static const char *const rn[] = { "key", "status", "n", NULL };
	struct fs_val p[2] = { fs_vref(per.from), fs_vref(per.to) };
	struct fieldsync_rows *raw, *r;
	if ((rc = fs_exec_rows(x, sql, 2, p, rn, NULL, &raw)))
		return rc;
	static const char *const cn[] = { "key", "planned", "done", "missed", "open", "done_pct" };
	r = fs_rows_new(6);
	if (!r)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < 6; c++)
		rc = fs_rows_set_col(r, c, c ? cn[c] : rep ? "rep" : "territory", c ? FS_T_INT : FS_T_TEXT);
	int64_t tot[4] = { 0 };
	for (int i = 0; rc == 0 && i <= raw->nrow; i++) {
		int64_t v[4] = { 0 };	/* planned, done, missed, open */
		int first = i;
		if (i < raw->nrow) {
			while (i < raw->nrow && !strcmp(fs_rows_cell(raw, i, 0), fs_rows_cell(raw, first, 0))) {
				const char *st = fs_rows_cell(raw, i, 1);
				int64_t n = strtoll(fs_rows_cell(raw, i, 2), NULL, 10);
				v[0] += n;
				v[1] += st && !strcmp(st, "done") ? n : 0;
				v[2] += st && !strcmp(st, "missed") ? n : 0;
				v[3] += st && !strcmp(st, "planned") ? n : 0;
				i++;
			}
			i--;
			for (int k = 0; k < 4; k++)
				tot[k] += v[k];
		} else {
			memcpy(v, tot, sizeof v);
		}
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		rc = fs_rows_set(r, row, 0, i < raw->nrow ? fs_rows_cell(raw, first, 0) : "(total)");
		for (int c = 0; rc == 0 && c < 4; c++)
			rc = fs_rows_set_int(r, row, 1 + c, v[c]);
		if (rc == 0)
			rc = fs_rows_set_int(r, row, 5, v[0] ? v[1] * 100 / v[0] : 0);
	}
	fs_rows_free(raw);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

struct report_req {
	const char *kind, *by, *month, *territory, *date;
	struct fieldsync_rows **out;
};

/* One report in one read transaction: one snapshot for the whole of it. */
static int report_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	const struct report_req *q = vctx;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	const char *kind = q->kind, *by = q->by, *date = q->date;
	int rc;
	if (!strcmp(kind, "visits")) {
		rc = report_visits(&x, by ? by : "rep", q->month, q->out);
	} else if (!strcmp(kind, "customers")) {
		rc = report_customers(&x, by ? by : "grade", q->out);
	} else if (!strcmp(kind, "money") && by && !strncmp(by, "ageing", 6) && (!by[6] || by[6] == '-')) {
		rc = fs_report_owed(&x, NULL, q->territory, date, by[6] ? by + 7 : NULL, q->out);
	} else if (!strcmp(kind, "money")) {
		rc = fs_report_money(&x, q->month, by ? by : "grade", q->territory, q->out);
	} else if (!strcmp(kind, "overdue")) {
		char today[11], *v = NULL;
		struct fs_due d;
		if (!date) {
			fs_today_local(today);
			date = today;
		}
		rc = hq_setting_get(h, db, "due_days", &v);
		if (rc == 0)
			rc = fs_due_parse(v, &d);
		free(v);
		if (rc == 0)
			rc = fs_report_due(&x, &d, q->territory, date, q->out);
	} else {
		rc = fs_err(FIELDSYNC_EINVAL, "unknown report '%.40s' (visits, customers, money, overdue)", kind);
	}
	return rc;
}

int hq_report(struct hq *h, const char *kind, const char *by, const char *month, const char *territory,
	      const char *date, struct fieldsync_rows **out)
{
	struct report_req q = { kind, by, month, territory, date, out };
	*out = NULL;
	return hq_txn(h, HQ_TXN_READ, report_tx, &q);
}

/* ---- visits checked in far from their customer ---- */

struct far_req {
	const char *month;
	int64_t metres;
	struct fieldsync_rows **out;
};

static int far_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	const struct far_req *q = vctx;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	struct fs_period per;
	int rc = fs_period_month(q->month, &per);
	if (rc)
		return rc;
	static const char *const names[] = { "date", "check_in", "rep", "customer", "code", "territory",
		"distance_m", "visit_id", NULL };
	static const int types[] = { FS_T_DATE, FS_T_DATETIME, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT,
		FS_T_INT, FS_T_REF };
	struct fs_val p[3] = { fs_vref(per.from), fs_vref(per.to), fs_vint(q->metres) };
	return fs_exec_rows(&x, "SELECT v.planned_date, v.check_in, coalesce(v.author_rep, 'unknown'), c.name,"
			    " c.code, v.scope, v.distance_m, v.id FROM visit v JOIN customer c ON c.id = v.customer_id"
			    " WHERE coalesce(v.deleted, 0) = 0 AND v.planned_date >= $1 AND v.planned_date < $2"
			    " AND v.distance_m > $3 ORDER BY v.distance_m DESC, v.planned_date, v.id",
			    3, p, names, types, q->out);
}

int hq_report_far(struct hq *h, const char *month, int64_t metres, struct fieldsync_rows **out)
{
	struct far_req q = { month, metres, out };
	*out = NULL;
	if (!month || !*month)
		return fs_err(FIELDSYNC_EINVAL, "--month: give a month YYYY-MM");
	if (metres < 0 || metres > 40000000)
		return fs_err(FIELDSYNC_EINVAL, "--far: metres from 0 to 40000000");
	return hq_txn(h, HQ_TXN_READ, far_tx, &q);
}

/* ---- CSV ---- */

struct imp {
	const struct fs_import *im;
	struct fieldsync_rows *out;
};

struct hq_w {
	struct hq *h;
	struct hq_db *db;
};

static int hq_import_write(void *ctx, const struct fs_chg *c, const char *id, char id_out[33], int *changed)
{
	struct hq_w *w = ctx;
	*changed = 1;
	if (id) {
		struct fs_rec r;
		int rc = hq_get(w->h, w->db, c->t, id, 1, &r);
		if (rc)
			return rc;
		*changed = 0;
		for (int i = 0; i < c->t->nfields; i++)
			*changed += c->set[i] && !fs_val_eq(&r.f[i].v, &c->v[i]);
		fs_rec_release(&r);
		if (!*changed)
			return 0;
	}
	return hq_write_in(w->h, w->db, c, id, id_out);
}

static int import_tx(struct hq *h, struct hq_db *db, void *ctx)
{
	struct imp *m = ctx;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	struct hq_w w = { h, db };
	return fs_import_apply(m->im, &x, hq_import_write, &w, &m->out);
}

int hq_import(struct hq *h, const char *path, int dry_run, struct fieldsync_rows **out)
{
	struct fs_import im;
	*out = NULL;
	FILE *fp = !strcmp(path, "-") ? stdin : fopen(path, "rb");
	if (!fp)
		return fs_err(FIELDSYNC_ENOTFOUND, "cannot open %.200s", path);
	int rc = fs_import_read(fp, &fs_tbl_customer, 0, &im);
	if (fp != stdin)
		fclose(fp);
	if (rc)
		return rc;
	struct imp m = { &im, NULL };
	rc = hq_write_batch(h, import_tx, &m, !dry_run);
	fs_import_release(&im);
	if (rc) {
		fs_rows_free(m.out);
		return rc;
	}
	*out = m.out;
	return 0;
}

struct export_req {
	const char *what, *from, *to;
	struct fieldsync_rows **out;
};

static int export_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	const struct export_req *q = vctx;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	return fs_export(&x, q->what, q->from && *q->from ? q->from : NULL, q->to && *q->to ? q->to : NULL, q->out);
}

int hq_export(struct hq *h, const char *what, const char *from, const char *to, struct fieldsync_rows **out)
{
	struct export_req q = { what, from, to, out };
	*out = NULL;
	return hq_txn(h, HQ_TXN_READ, export_tx, &q);
}
