/* report.c - the ledger's reports over any fs_exec (see report.h). */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldsync.h"
#include "util.h"

#define LIVE(t) "coalesce(" t ".deleted, 0) = 0"

int fs_period_month(const char *month, struct fs_period *p)
{
	int y, m, d;
	char buf[16];
	if (!month || !*month) {
		snprintf(p->from, sizeof p->from, "0000-01-01");
		snprintf(p->to, sizeof p->to, "9999-12-31");
		return 0;
	}
	snprintf(buf, sizeof buf, "%.7s-01", month);
	if (strlen(month) != 7 || fs_parse_date(buf, &y, &m, &d))
		return fs_err(FIELDSYNC_EINVAL, "month: '%.40s' is not a month YYYY-MM", month);
	if (y < 1 || y > 9998)
		return fs_err(FIELDSYNC_EINVAL, "month: '%.40s' is out of range", month);
	snprintf(p->from, sizeof p->from, "%04d-%02d-01", y % 10000, m % 100);
	if (++m > 12) {
		m = 1;
		y++;
	}
	snprintf(p->to, sizeof p->to, "%04d-%02d-01", y % 10000, m % 100);
	return 0;
}

/* ---- building result tables ---- */

static struct fieldsync_rows *table(const char *const *names, const int *types, int *rc)
{
	int n = 0;
	while (names[n])
		n++;
	struct fieldsync_rows *r = fs_rows_new(n);
	*rc = r ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; *rc == 0 && c < n; c++)
		*rc = fs_rows_set_col(r, c, names[c], types[c]);
	return r;
}

static int64_t num(const struct fieldsync_rows *r, int row, int col)
{
	const char *s = fs_rows_cell(r, row, col);
	return s ? strtoll(s, NULL, 10) : 0;
}

static int64_t day_number(const char *date)
{
	int y, m, d;
	return date && !fs_parse_date(date, &y, &m, &d) ? fs_days_from_civil(y, m, d) : INT64_MIN;
}

/* ---- the day ---- */

int fs_report_day(const struct fs_exec *x, const char *date, struct fieldsync_rows **out)
{
	int y, m, d;
	*out = NULL;
	if (!date || fs_parse_date(date, &y, &m, &d))
		return fs_err(FIELDSYNC_EINVAL, "date: '%.40s' is not a date YYYY-MM-DD", date ? date : "");
	static const char sql[] =
		"SELECT v.planned_time, v.status, c.name, c.code, v.check_in, v.check_out,"
		" coalesce(v.met_name, (SELECT k.name FROM contact k WHERE k.id = v.met_contact_id)),"
		" v.purpose, v.outcome, v.problem, v.countermeasure, v.follow_up, v.next_date, v.miss_reason,"
		" (SELECT sum(o.amount) FROM order_line o WHERE o.visit_id = v.id AND " LIVE("o") "),"
		" (SELECT sum(p.receivable) FROM payment p WHERE p.visit_id = v.id AND " LIVE("p") "),"
		" (SELECT sum(p.received) FROM payment p WHERE p.visit_id = v.id AND " LIVE("p") "),"
		/* what this visit's receivable still lacks: a collection beyond it is
		 * the customer's (it pays older debt, or is credit), never a negative */
		" (SELECT CASE WHEN z.s > 0 THEN z.s ELSE 0 END FROM (SELECT sum(coalesce(p.receivable, 0)"
		"   - coalesce(p.received, 0)) AS s FROM payment p WHERE p.visit_id = v.id AND " LIVE("p") ") z),"
		" v.id, c.id"
		" FROM visit v JOIN customer c ON c.id = v.customer_id"
		" WHERE v.planned_date = $1 AND " LIVE("v")
		" ORDER BY v.route_seq IS NULL, v.route_seq, v.planned_time IS NULL, v.planned_time, v.check_in,"
		" c.name, v.id";
	static const char *const names[] = { "planned_time", "status", "customer", "code", "check_in",
		"check_out", "met", "purpose", "outcome", "problem", "countermeasure", "follow_up", "next_date",
		"miss_reason", "ordered", "receivable", "received", "outstanding", "visit_id", "customer_id",
		NULL };
	static const int types[] = { FS_T_TIME, FS_T_ENUM, FS_T_TEXT, FS_T_TEXT, FS_T_DATETIME,
		FS_T_DATETIME, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_DATE,
		FS_T_TEXT, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY, FS_T_REF, FS_T_REF };
	struct fs_val p = fs_vref(date);
	return fs_exec_rows(x, sql, 1, &p, names, types, out);
}

/* ---- planned vs done ---- */

int fs_report_plan(const struct fs_exec *x, const char *month, struct fieldsync_rows **out)
{
	struct fs_period per;
	struct fieldsync_rows *raw = NULL, *r = NULL;
	*out = NULL;
	if (!month || !*month)
		return fs_err(FIELDSYNC_EINVAL, "month: give a month YYYY-MM");
	int rc = fs_period_month(month, &per);
	if (rc)
		return rc;
	static const char sql[] =
		"SELECT c.id, c.name, c.code, c.grade, v.planned_date, v.status"
		" FROM visit v JOIN customer c ON c.id = v.customer_id"
		" WHERE v.planned_date >= $1 AND v.planned_date < $2 AND " LIVE("v")
		" AND v.status <> 'cancelled' ORDER BY c.name, c.id, v.planned_date";
	static const char *const rn[] = { "cid", "name", "code", "grade", "date", "status", NULL };
	static const char *const names[] = { "customer", "code", "grade", "planned", "done", "missed", "open",
		"done_pct", "w1", "w2", "w3", "w4", "w5", "customer_id", NULL };
	static const int types[] = { FS_T_TEXT, FS_T_TEXT, FS_T_ENUM, FS_T_INT, FS_T_INT, FS_T_INT, FS_T_INT,
		FS_T_INT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_REF };
	struct fs_val p[2] = { fs_vref(per.from), fs_vref(per.to) };
	if ((rc = fs_exec_rows(x, sql, 2, p, rn, NULL, &raw)))
		return rc;
	r = table(names, types, &rc);
	/* counts[0] total; [1..5] per week: planned, done; plus missed and open */
	int64_t tot[2][6] = { { 0 } }, tmiss = 0, topen = 0;
	for (int i = 0; rc == 0 && i <= raw->nrow; i++) {
		int last = i == raw->nrow;
		int64_t cnt[2][6] = { { 0 } }, miss = 0, open = 0;
		int first = i;
		if (!last) {
			while (i < raw->nrow && !strcmp(fs_rows_cell(raw, i, 0), fs_rows_cell(raw, first, 0))) {
				const char *st = fs_rows_cell(raw, i, 5), *dt = fs_rows_cell(raw, i, 4);
				int w = (atoi(dt + 8) - 1) / 7 + 1;
				w = w > 5 ? 5 : w < 1 ? 1 : w;
				int done = st && !strcmp(st, "done");
				cnt[0][0]++, cnt[0][w]++;
				cnt[1][0] += done, cnt[1][w] += done;
				miss += st && !strcmp(st, "missed");
				open += st && !strcmp(st, "planned");
				i++;
			}
			i--;
		} else {
			memcpy(cnt, tot, sizeof cnt);
			miss = tmiss;
			open = topen;
		}
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		if (!last) {
			for (int c = 0; rc == 0 && c < 3; c++)
				rc = fs_rows_set(r, row, c, fs_rows_cell(raw, first, c + 1));
			if (rc == 0)
				rc = fs_rows_set(r, row, 13, fs_rows_cell(raw, first, 0));
			for (int k = 0; k < 6; k++)
				tot[0][k] += cnt[0][k], tot[1][k] += cnt[1][k];
			tmiss += miss;
			topen += open;
		} else {
			rc = fs_rows_set(r, row, 0, "(total)");
		}
		int64_t v[] = { cnt[0][0], cnt[1][0], miss, open, cnt[0][0] ? cnt[1][0] * 100 / cnt[0][0] : 0 };
		for (int c = 0; rc == 0 && c < 5; c++)
			rc = fs_rows_set_int(r, row, 3 + c, v[c]);
		for (int w = 1; rc == 0 && w <= 5; w++) {
			char buf[48];
			snprintf(buf, sizeof buf, "%" PRId64 "/%" PRId64, cnt[1][w], cnt[0][w]);
			rc = fs_rows_set(r, row, 7 + w, cnt[0][w] ? buf : NULL);
		}
	}
	fs_rows_free(raw);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- money ---- */

static const char *const grades[] = { "A", "B", "C", "VIP", NULL };

static int grade_index(const char *g)
{
	for (int i = 0; grades[i]; i++)
		if (g && !strcmp(g, grades[i]))
			return i;
	return 4;	/* no grade */
}

/* Payments (and order totals) per customer, as raw text rows. */
static int money_raw(const struct fs_exec *x, const struct fs_period *per, const char *territory,
		     struct fieldsync_rows **raw)
{
	char sql[2048];
	static const char *const rn[] = { "cid", "name", "code", "grade", "territory", "ordered", "receivable",
		"received", NULL };
	snprintf(sql, sizeof sql,
		 "SELECT c.id, c.name, c.code, c.grade, c.territory,"
		 " (SELECT sum(o.amount) FROM order_line o JOIN visit v ON v.id = o.visit_id"
		 "   WHERE o.customer_id = c.id AND " LIVE("o") " AND v.planned_date >= $1 AND v.planned_date < $2),"
		 " (SELECT sum(p.receivable) FROM payment p WHERE p.customer_id = c.id AND " LIVE("p")
		 "   AND p.date >= $1 AND p.date < $2),"
		 " (SELECT sum(p.received) FROM payment p WHERE p.customer_id = c.id AND " LIVE("p")
		 "   AND p.date >= $1 AND p.date < $2)"
		 " FROM customer c WHERE " LIVE("c") "%s ORDER BY c.name, c.id",
		 territory ? " AND c.territory = $3" : "");
	struct fs_val p[3] = { fs_vref(per->from), fs_vref(per->to), fs_vref(territory) };
	return fs_exec_rows(x, sql, territory ? 3 : 2, p, rn, NULL, raw);
}

/* The open amounts, oldest first, receipts in excess set against the oldest. */
static int money_open(const struct fs_exec *x, const struct fs_period *per, const char *territory,
		      struct fieldsync_rows **out)
{
	char sql[1024];
	struct fieldsync_rows *raw = NULL, *r;
	static const char *const rn[] = { "cid", "date", "receivable", "received", "name", "code", "grade",
		"visit", "id", NULL };
	snprintf(sql, sizeof sql,
		 "SELECT p.customer_id, p.date, p.receivable, p.received, c.name, c.code, c.grade, p.visit_id, p.id"
		 " FROM payment p JOIN customer c ON c.id = p.customer_id"
		 " WHERE " LIVE("p") " AND " LIVE("c") " AND p.date >= $1 AND p.date < $2%s"
		 " ORDER BY p.customer_id, p.date, p.id", territory ? " AND c.territory = $3" : "");
	struct fs_val p[3] = { fs_vref(per->from), fs_vref(per->to), fs_vref(territory) };
	int rc = fs_exec_rows(x, sql, territory ? 3 : 2, p, rn, NULL, &raw);
	if (rc)
		return rc;
	static const char *const names[] = { "date", "customer", "code", "grade", "receivable", "received",
		"outstanding", "visit_id", "payment_id", "customer_id", NULL };
	static const int types[] = { FS_T_DATE, FS_T_TEXT, FS_T_TEXT, FS_T_ENUM, FS_T_MONEY, FS_T_MONEY,
		FS_T_MONEY, FS_T_REF, FS_T_REF, FS_T_REF };
	r = table(names, types, &rc);
	for (int i = 0; rc == 0 && i < raw->nrow;) {
		int first = i;
		int64_t credit = 0;
		while (i < raw->nrow && !strcmp(fs_rows_cell(raw, i, 0), fs_rows_cell(raw, first, 0))) {
			int64_t due = num(raw, i, 2) - num(raw, i, 3);
			credit += due < 0 ? -due : 0;
			i++;
		}
		for (int k = first; rc == 0 && k < i; k++) {
			int64_t open = num(raw, k, 2) - num(raw, k, 3);
			if (open <= 0)
				continue;
			int64_t take = credit < open ? credit : open;
			credit -= take;
			open -= take;
			if (open == 0)
				continue;
			int row = fs_rows_add(r);
			if (row < 0) {
				rc = row;
				break;
			}
			const int from[] = { 1, 4, 5, 6, 2, 3, -1, 7, 8, 0 };
			for (int c = 0; rc == 0 && c < 10; c++)
				rc = from[c] < 0 ? fs_rows_set_int(r, row, c, open) : fs_rows_set(r, row, c, fs_rows_cell(raw, k, from[c]));
		}
	}
	fs_rows_free(raw);
	/* oldest first across customers; ties by customer */
	for (int i = 1; rc == 0 && i < r->nrow; i++)
		for (int k = i; k > 0; k--) {
			char **a = r->cells + (size_t)(k - 1) * (size_t)r->ncol, **b = a + r->ncol;
			int c = strcmp(a[0], b[0]);
			if (c < 0 || (c == 0 && strcmp(a[1] ? a[1] : "", b[1] ? b[1] : "") <= 0))
				break;
			for (int j = 0; j < r->ncol; j++) {
				char *t = a[j];
				a[j] = b[j];
				b[j] = t;
			}
		}
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int fs_report_money(const struct fs_exec *x, const char *month, const char *by, const char *territory,
		    struct fieldsync_rows **out)
{
	struct fs_period per;
	struct fieldsync_rows *raw = NULL, *r = NULL;
	*out = NULL;
	int rc = fs_period_month(month, &per), bygrade = 0;
	if (rc)
		return rc;
	if (by && !strcmp(by, "open"))
		return money_open(x, &per, territory, out);
	if (by && !strncmp(by, "ageing", 6) && (!by[6] || by[6] == '-'))
		return fs_report_owed(x, NULL, territory, NULL, by[6] ? by + 7 : NULL, out);
	if (by && !strcmp(by, "grade"))
		bygrade = 1;
	else if (by && strcmp(by, "customer"))
		return fs_err(FIELDSYNC_EINVAL, "by: '%.40s' is not one of customer, grade, open, ageing,"
			      " ageing-rep, ageing-territory", by);
	if ((rc = money_raw(x, &per, territory, &raw)))
		return rc;
	static const char *const cn[] = { "customer", "code", "grade", "territory", "ordered", "receivable",
		"received", "outstanding", "customer_id", NULL };
	static const int ct[] = { FS_T_TEXT, FS_T_TEXT, FS_T_ENUM, FS_T_TEXT, FS_T_MONEY, FS_T_MONEY,
		FS_T_MONEY, FS_T_MONEY, FS_T_REF };
	static const char *const gn[] = { "grade", "customers", "ordered", "receivable", "received",
		"outstanding", NULL };
	static const int gt[] = { FS_T_TEXT, FS_T_INT, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY };
	r = bygrade ? table(gn, gt, &rc) : table(cn, ct, &rc);
	int64_t g[6][5] = { { 0 } };	/* per grade (and total): customers, ordered, receivable, received, outstanding */
	for (int i = 0; rc == 0 && i < raw->nrow; i++) {
		if (!fs_rows_cell(raw, i, 5) && !fs_rows_cell(raw, i, 6) && !fs_rows_cell(raw, i, 7))
			continue;	/* no money in the period */
		int64_t v[4] = { num(raw, i, 5), num(raw, i, 6), num(raw, i, 7), 0 };
		v[3] = v[1] - v[2];
		if (bygrade) {
			int k = grade_index(fs_rows_cell(raw, i, 3));
			g[k][0]++, g[5][0]++;
			for (int j = 0; j < 4; j++)
				g[k][j + 1] += v[j], g[5][j + 1] += v[j];
			continue;
		}
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		for (int c = 0; rc == 0 && c < 4; c++)
			rc = fs_rows_set(r, row, c, fs_rows_cell(raw, i, c + 1));
		for (int c = 0; rc == 0 && c < 4; c++)
			rc = fs_rows_set_int(r, row, 4 + c, v[c]);
		if (rc == 0)
			rc = fs_rows_set(r, row, 8, fs_rows_cell(raw, i, 0));
	}
	for (int k = 0; bygrade && rc == 0 && k < 6; k++) {
		if (k < 5 && !g[k][0])
			continue;
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		rc = fs_rows_set(r, row, 0, k < 4 ? grades[k] : k == 4 ? "(none)" : "(total)");
		for (int c = 0; rc == 0 && c < 5; c++)
			rc = fs_rows_set_int(r, row, 1 + c, g[k][c]);
	}
	fs_rows_free(raw);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- due ---- */

struct due_item {
	int row;
	int64_t overdue;	/* INT64_MAX: never visited */
};

static int due_cmp(const void *a, const void *b)
{
	const struct due_item *x = a, *y = b;
	if (x->overdue != y->overdue)
		return x->overdue > y->overdue ? -1 : 1;
	return x->row - y->row;
}

int fs_report_due(const struct fs_exec *x, const struct fs_due *d, const char *territory, const char *date,
		  struct fieldsync_rows **out)
{
	char sql[1024];
	struct fieldsync_rows *raw = NULL, *r = NULL;
	*out = NULL;
	int64_t today = day_number(date);
	if (today == INT64_MIN)
		return fs_err(FIELDSYNC_EINVAL, "date: '%.40s' is not a date YYYY-MM-DD", date ? date : "");
	snprintf(sql, sizeof sql,
		 "SELECT c.id, c.name, c.code, c.territory, c.grade,"
		 " (SELECT max(v.planned_date) FROM visit v WHERE v.customer_id = c.id AND v.status = 'done'"
		 "   AND " LIVE("v") " AND v.planned_date <= $1),"
		 " (SELECT min(v.planned_date) FROM visit v WHERE v.customer_id = c.id AND v.status = 'planned'"
		 "   AND " LIVE("v") " AND v.planned_date >= $1)"
		 " FROM customer c WHERE " LIVE("c") "%s ORDER BY c.name, c.id",
		 territory ? " AND c.territory = $2" : "");
	static const char *const rn[] = { "cid", "name", "code", "territory", "grade", "last", "next", NULL };
	struct fs_val p[2] = { fs_vref(date), fs_vref(territory) };
	int rc = fs_exec_rows(x, sql, territory ? 2 : 1, p, rn, NULL, &raw);
	if (rc)
		return rc;
	static const char *const names[] = { "customer", "code", "territory", "grade", "interval_days",
		"last_done", "days_since", "overdue_days", "next_planned", "customer_id", NULL };
	static const int types[] = { FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_ENUM, FS_T_INT, FS_T_DATE, FS_T_INT,
		FS_T_INT, FS_T_DATE, FS_T_REF };
	struct due_item *it = calloc((size_t)raw->nrow + 1, sizeof *it);
	int n = 0;
	r = table(names, types, &rc);
	if (!it && rc == 0)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < raw->nrow; i++) {
		int64_t last = day_number(fs_rows_cell(raw, i, 5));
		int iv = fs_due_interval(d, fs_rows_cell(raw, i, 4));
		if (last != INT64_MIN && today - last < iv)
			continue;
		it[n].row = i;
		it[n++].overdue = last == INT64_MIN ? INT64_MAX : today - last - iv;
	}
	if (rc == 0)
		qsort(it, (size_t)n, sizeof *it, due_cmp);
	for (int k = 0; rc == 0 && k < n; k++) {
		int i = it[k].row, row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		const int from[] = { 1, 2, 3, 4 };
		for (int c = 0; rc == 0 && c < 4; c++)
			rc = fs_rows_set(r, row, c, fs_rows_cell(raw, i, from[c]));
		if (rc == 0)
			rc = fs_rows_set_int(r, row, 4, fs_due_interval(d, fs_rows_cell(raw, i, 4)));
		if (rc == 0)
			rc = fs_rows_set(r, row, 5, fs_rows_cell(raw, i, 5));
		if (rc == 0 && it[k].overdue != INT64_MAX) {
			rc = fs_rows_set_int(r, row, 6, today - day_number(fs_rows_cell(raw, i, 5)));
			if (rc == 0)
				rc = fs_rows_set_int(r, row, 7, it[k].overdue);
		}
		if (rc == 0)
			rc = fs_rows_set(r, row, 8, fs_rows_cell(raw, i, 6));
		if (rc == 0)
			rc = fs_rows_set(r, row, 9, fs_rows_cell(raw, i, 0));
	}
	free(it);
	fs_rows_free(raw);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- exports ---- */

int fs_export(const struct fs_exec *x, const char *what, const char *from, const char *to,
	      struct fieldsync_rows **out)
{
	*out = NULL;
	if ((from && day_number(from) == INT64_MIN) || (to && day_number(to) == INT64_MIN))
		return fs_err(FIELDSYNC_EINVAL, "--from/--to: '%.40s' is not a date YYYY-MM-DD",
			      from && day_number(from) == INT64_MIN ? from : to);
	struct fs_val p[2] = { fs_vref(from ? from : "0000-01-01"), fs_vref(to ? to : "9999-12-31") };
	if (!strcmp(what, "customers")) {
		if (from || to)
			return fs_err(FIELDSYNC_EINVAL, "export customers takes no --from/--to");
		return fs_query_list(x, &fs_tbl_customer, NULL, NULL, out);
	}
	if (!strcmp(what, "visits")) {
		static const char sql[] =
			"SELECT v.planned_date, v.planned_time, v.status, c.code, c.name, v.purpose, v.check_in,"
			" v.check_out, coalesce(v.met_name, (SELECT k.name FROM contact k WHERE k.id = v.met_contact_id)),"
			" v.discussed, v.outcome, v.problem, v.countermeasure, v.follow_up, v.next_date, v.miss_reason,"
			" (SELECT sum(o.amount) FROM order_line o WHERE o.visit_id = v.id AND " LIVE("o") "),"
			" (SELECT sum(m.receivable) FROM payment m WHERE m.visit_id = v.id AND " LIVE("m") "),"
			" (SELECT sum(m.received) FROM payment m WHERE m.visit_id = v.id AND " LIVE("m") "),"
			" v.disputed, v.id, c.id"
			" FROM visit v JOIN customer c ON c.id = v.customer_id"
			" WHERE " LIVE("v") " AND v.planned_date >= $1 AND v.planned_date <= $2"
			" ORDER BY v.planned_date, v.planned_time, c.name, v.id";
		static const char *const names[] = { "planned_date", "planned_time", "status", "code", "customer",
			"purpose", "check_in", "check_out", "met", "discussed", "outcome", "problem", "countermeasure",
			"follow_up", "next_date", "miss_reason", "ordered", "receivable", "received", "disputed",
			"visit_id", "customer_id", NULL };
		static const int types[] = { FS_T_DATE, FS_T_TIME, FS_T_ENUM, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT,
			FS_T_DATETIME, FS_T_DATETIME, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT,
			FS_T_DATE, FS_T_TEXT, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY, FS_T_BOOL, FS_T_REF, FS_T_REF };
		return fs_exec_rows(x, sql, 2, p, names, types, out);
	}
	if (!strcmp(what, "money")) {
		static const char sql[] =
			"SELECT m.date, c.code, c.name, c.grade, m.receivable, m.received,"
			" coalesce(m.receivable, 0) - coalesce(m.received, 0), m.method, m.note, m.disputed,"
			" m.visit_id, m.id, c.id"
			" FROM payment m JOIN customer c ON c.id = m.customer_id"
			" WHERE " LIVE("m") " AND m.date >= $1 AND m.date <= $2 ORDER BY m.date, c.name, m.id";
		static const char *const names[] = { "date", "code", "customer", "grade", "receivable", "received",
			"balance", "method", "note", "disputed", "visit_id", "payment_id", "customer_id", NULL };
		static const int types[] = { FS_T_DATE, FS_T_TEXT, FS_T_TEXT, FS_T_ENUM, FS_T_MONEY, FS_T_MONEY,
			FS_T_MONEY, FS_T_ENUM, FS_T_TEXT, FS_T_BOOL, FS_T_REF, FS_T_REF, FS_T_REF };
		return fs_exec_rows(x, sql, 2, p, names, types, out);
	}
	return fs_err(FIELDSYNC_EINVAL, "export: '%.40s' is not one of customers, visits, money", what);
}

/* ---- what is owed: balance, credit and ageing ---- */

/* Days from the date text (YYYY-MM-DD...) to `asof` (days since 1970). */
static int64_t age_days(const char *date, int64_t asof)
{
	int y, m, d;
	char buf[11];
	snprintf(buf, sizeof buf, "%.10s", date ? date : "");
	return fs_parse_date(buf, &y, &m, &d) ? 0 : asof - fs_days_from_civil(y, m, d);
}

enum { OW_BAL, OW_CREDIT, OW_A0, OW_A31, OW_A61, OW_A91, OW_N };

struct owed {
	const char *key[4];	/* name, code, territory, rep (a group: its key in [0]) */
	const char *id;
	char oldest[11];	/* date of the oldest amount still open; "" none */
	int64_t v[OW_N];
};

/* Add b into a (a group row). */
static void owed_add(struct owed *a, const struct owed *b)
{
	for (int k = 0; k < OW_N; k++)
		a->v[k] += b->v[k];
	if (b->oldest[0] && (!a->oldest[0] || strcmp(b->oldest, a->oldest) < 0))
		memcpy(a->oldest, b->oldest, sizeof a->oldest);
}

static int owed_cmp(const void *x, const void *y)
{
	const struct owed *a = x, *b = y;
	/* oldest debt first; then the largest balance; customers without debt last */
	if (!a->oldest[0] != !b->oldest[0])
		return a->oldest[0] ? -1 : 1;
	int c = strcmp(a->oldest, b->oldest);
	if (c)
		return c;
	if (a->v[OW_BAL] != b->v[OW_BAL])
		return a->v[OW_BAL] > b->v[OW_BAL] ? -1 : 1;
	return strcmp(a->key[0] ? a->key[0] : "", b->key[0] ? b->key[0] : "");
}

int fs_report_owed(const struct fs_exec *x, const char *customer, const char *territory, const char *date,
		   const char *group, struct fieldsync_rows **out)
{
	char sql[1024], today[11];
	int y, m, d, by = 0;	/* 0 customer, 1 rep, 2 territory */
	*out = NULL;
	if (!date) {
		fs_today_local(today);
		date = today;
	}
	if (fs_parse_date(date, &y, &m, &d))
		return fs_err(FIELDSYNC_EINVAL, "date: '%.40s' is not a date YYYY-MM-DD", date);
	if (group && !strcmp(group, "rep"))
		by = 1;
	else if (group && !strcmp(group, "territory"))
		by = 2;
	else if (group && strcmp(group, "customer"))
		return fs_err(FIELDSYNC_EINVAL, "ageing: by '%.40s' is not one of customer, rep, territory", group);
	int64_t asof = fs_days_from_civil(y, m, d);
	snprintf(sql, sizeof sql,
		 "SELECT p.customer_id, p.date, coalesce(p.receivable, 0), coalesce(p.received, 0), c.name, c.code,"
		 " c.territory, c.owner_rep FROM payment p JOIN customer c ON c.id = p.customer_id"
		 " WHERE " LIVE("p") " AND " LIVE("c") " AND p.date <= $1%s%s ORDER BY p.customer_id, p.date, p.id",
		 customer ? " AND c.id = $2" : "", territory ? (customer ? " AND c.territory = $3" : " AND c.territory = $2") : "");
	struct fs_val p[3] = { fs_vref(date), fs_vref(customer ? customer : territory), fs_vref(territory) };
	static const char *const rn[] = { "cid", "date", "receivable", "received", "name", "code", "territory",
		"rep", NULL };
	struct fieldsync_rows *raw = NULL;
	int rc = fs_exec_rows(x, sql, 1 + !!customer + !!territory, p, rn, NULL, &raw);
	if (rc)
		return rc;
	struct owed *o = calloc((size_t)raw->nrow + 2, sizeof *o), *g = calloc((size_t)raw->nrow + 2, sizeof *g);
	int n = 0, ng = 0;
	if (!o || !g)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	/* per customer: collections pay the oldest receivables first; what
	 * they do not absorb is the customer's credit */
	for (int i = 0; rc == 0 && i < raw->nrow;) {
		int first = i;
		int64_t paid = 0, owed = 0;
		while (i < raw->nrow && !strcmp(fs_rows_cell(raw, i, 0), fs_rows_cell(raw, first, 0))) {
			paid += num(raw, i, 3);
			owed += num(raw, i, 2) > 0 ? num(raw, i, 2) : 0;
			i++;
		}
		struct owed *c = &o[n++];
		c->id = fs_rows_cell(raw, first, 0);
		for (int k = 0; k < 4; k++)
			c->key[k] = fs_rows_cell(raw, first, 4 + k);
		c->v[OW_CREDIT] = paid > owed ? paid - owed : 0;
		for (int k = first; k < i; k++) {
			int64_t due = num(raw, k, 2);
			if (due <= 0)
				continue;
			int64_t take = paid < due ? paid : due;
			paid -= take;
			due -= take;
			if (!due)
				continue;
			int64_t age = age_days(fs_rows_cell(raw, k, 1), asof);
			c->v[OW_BAL] += due;
			c->v[age <= 30 ? OW_A0 : age <= 60 ? OW_A31 : age <= 90 ? OW_A61 : OW_A91] += due;
			if (!c->oldest[0])
				snprintf(c->oldest, sizeof c->oldest, "%.10s", fs_rows_cell(raw, k, 1));
		}
	}
	if (rc == 0 && by) {	/* one row per rep or territory */
		for (int i = 0; i < n; i++) {
			const char *k = o[i].key[by == 1 ? 3 : 2];
			int j = 0;
			while (j < ng && strcmp(g[j].key[0] ? g[j].key[0] : "", k ? k : ""))
				j++;
			if (j == ng)
				g[ng++].key[0] = k;
			owed_add(&g[j], &o[i]);
		}
	}
	struct owed *rows = by ? g : o;
	int nrows = by ? ng : n;
	qsort(rows, (size_t)nrows, sizeof *rows, owed_cmp);
	static const char *const cn[] = { "customer", "code", "territory", "rep", "balance", "credit", "days_0_30",
		"days_31_60", "days_61_90", "days_over_90", "oldest_open", "customer_id", NULL };
	static const int ct[] = { FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY,
		FS_T_MONEY, FS_T_MONEY, FS_T_MONEY, FS_T_DATE, FS_T_REF };
	static const char *const gn[] = { "rep", "balance", "credit", "days_0_30", "days_31_60", "days_61_90",
		"days_over_90", "oldest_open", NULL };
	static const int gt[] = { FS_T_TEXT, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY, FS_T_MONEY,
		FS_T_DATE };
	/* one customer: its row alone, without the names (zero if it owes nothing) */
	int one = customer != NULL, nkey = one ? 0 : by ? 1 : 4;
	static const char *const on[] = { "balance", "credit", "days_0_30", "days_31_60", "days_61_90",
		"days_over_90", "oldest_open", NULL };
	struct fieldsync_rows *r = rc ? NULL : table(one ? on : by ? gn : cn, one ? gt + 1 : by ? gt : ct, &rc);
	if (rc == 0 && by == 2)
		rc = fs_rows_set_col(r, 0, "territory", FS_T_TEXT);
	struct owed tot = { { "(total)" }, NULL, "", { 0 } };
	for (int i = 0; rc == 0 && i <= nrows && !(one && i > 0); i++) {
		const struct owed *e = i < nrows ? &rows[i] : &tot;
		int row = fs_rows_add(r), c = 0;
		if (row < 0) {
			rc = row;
			break;
		}
		if (i < nrows)
			owed_add(&tot, e);
		for (int k = 0; rc == 0 && k < nkey; k++)
			rc = fs_rows_set(r, row, c++, k == 0 && by && !e->key[0] ? "(none)" : e->key[k]);
		for (int k = 0; rc == 0 && k < OW_N; k++)
			rc = fs_rows_set_int(r, row, c++, e->v[k]);
		if (rc == 0)
			rc = fs_rows_set(r, row, c++, e->oldest[0] ? e->oldest : NULL);
		if (rc == 0 && !by && !one)
			rc = fs_rows_set(r, row, c++, e->id);
	}
	free(o);
	free(g);
	if (rc) {
		fs_rows_free(raw);
		fs_rows_free(r);
		return rc;
	}
	/* the rows point into raw: r owns copies (fs_rows_set copies) */
	fs_rows_free(raw);
	*out = r;
	return 0;
}
