/*
 * history.c - past visits, orders and payments from a spreadsheet
 * (`fieldsyncd import visits FILE.csv`), so a company moves its paper or
 * Excel ledger in without enrolling a device to type it. All or nothing in
 * one write transaction; the first bad row stops it with its line; a row
 * whose external_id HQ already holds is left as it is, so running the same
 * file again changes nothing.
 *
 * Columns (header names in any case, '-' or '_'): external_id, date,
 * customer (a code or an id) are required; rep (an existing rep: the
 * author credited), status (done, missed or cancelled; default done),
 * outcome, met, purpose, discussed, problem, countermeasure, follow_up,
 * next_date, miss_reason, check_in, check_out, lat, lon, orders
 * ("PRODUCT:QTY:PRICE; ..."), receivable, collected, method.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csvtab.h"
#include "hq.h"
#include "hq_report.h"
#include "query.h"
#include "util.h"

#define HISTORY_MAX_ROWS 200000
#define HISTORY_MAX_BYTES (128L * 1024 * 1024)

/* A column and the visit field it fills (NULL: handled apart). */
static const struct {
	const char *col, *field;
} cols[] = {
	{ "external_id", NULL }, { "date", NULL }, { "customer", NULL }, { "rep", NULL }, { "status", NULL },
	{ "orders", NULL }, { "receivable", NULL }, { "collected", NULL }, { "method", NULL },
	{ "outcome", "outcome" }, { "met", "met_name" }, { "purpose", "purpose" }, { "discussed", "discussed" },
	{ "problem", "problem" }, { "countermeasure", "countermeasure" }, { "follow_up", "follow_up" },
	{ "next_date", "next_date" }, { "miss_reason", "miss_reason" }, { "check_in", "check_in" },
	{ "check_out", "check_out" }, { "lat", "lat" }, { "lon", "lon" },
};
#define NCOLS ((int)(sizeof cols / sizeof cols[0]))

struct hist {
	const struct fs_csvtab *t;
	int col[NCOLS];		/* the file's column of each, -1: absent */
	struct fieldsync_rows *out;
};

static const char *cell(const struct hist *x, int row, const char *name)
{
	for (int k = 0; k < NCOLS; k++)
		if (!strcmp(cols[k].col, name))
			return fs_csvtab_cell(x->t, row, x->col[k]);
	return NULL;
}

/* Set field `name` of c from text, naming the line and column on failure. */
static int set_text(struct fs_chg *c, const char *name, const char *text, int line, const char *col)
{
	int fi = fs_field_find(c->t, name);
	struct fs_val v = { 0 };
	int rc = fs_field_parse(&c->t->fields[fi], text, FS_PARSE_USER, &v);
	if (rc == 0)
		rc = fs_chg_set(c, fi, &v);
	fs_val_release(&v);
	return rc ? fs_err(FIELDSYNC_EINVAL, "line %d: %s: %s", line, col, fs_errmsg_get()) : 0;
}

static int one_text(void *ctx, int ncol, const struct fs_val *v)
{
	if (ncol > 0 && v[0].t == FS_V_TEXT)
		snprintf(ctx, 33, "%s", v[0].s);
	return 0;
}

/* Credit a record HQ wrote for the import to the rep the ledger names. */
static int credit(struct hq *h, struct hq_db *db, const char *table, const char *id, const char *rep,
		  const char *ext)
{
	char sql[160];
	struct fs_val p[3] = { fs_vref(rep), fs_vref(ext ? ext : id), fs_vref(id) };
	snprintf(sql, sizeof sql, "UPDATE %s SET author_rep = $1%s WHERE id = $%d", table,
		 ext ? ", external_id = $2" : "", ext ? 3 : 2);
	return hq_be(h)->exec(db, sql, ext ? 3 : 2, p, NULL, NULL);
}

/* One child record (order line, payment) of the visit: fields as text. */
static int child(struct hq *h, struct hq_db *db, const struct fs_table *t, const char *const *names,
		 const char *const *vals, int n, int line, const char *rep)
{
	struct fs_chg c;
	char id[33];
	int rc = 0;
	fs_chg_init(&c, t);
	for (int k = 0; rc == 0 && k < n; k++)
		if (vals[k])
			rc = set_text(&c, names[k], vals[k], line, names[k]);
	if (rc == 0)
		rc = hq_write_in(h, db, &c, NULL, id);
	if (rc == FIELDSYNC_EINVAL && !strstr(fs_errmsg_get(), "line "))
		rc = fs_err(FIELDSYNC_EINVAL, "line %d: %s", line, fs_errmsg_get());
	fs_chg_release(&c);
	return rc == 0 && rep ? credit(h, db, t->name, id, rep, NULL) : rc;
}

/* "PRODUCT:QTY:PRICE; ..." into order lines of the visit. */
static int orders(struct hq *h, struct hq_db *db, const char *text, const char *vid, const char *cid, int line,
		  const char *rep)
{
	char *copy = strdup(text), *save = NULL;
	int rc = copy ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (char *o = copy ? strtok_r(copy, ";", &save) : NULL; rc == 0 && o; o = strtok_r(NULL, ";", &save)) {
		while (*o == ' ')
			o++;
		if (!*o)
			continue;
		char *p2 = strrchr(o, ':'), *p1 = p2 ? p2 - 1 : NULL;
		while (p1 && p1 > o && *p1 != ':')
			p1--;
		int64_t qty, price;
		char amount[32], q[32];
		if (!p2 || !p1 || p1 == o || *p1 != ':') {
			rc = fs_err(FIELDSYNC_EINVAL, "line %d: orders: '%.60s' is not PRODUCT:QTY:PRICE", line, o);
			break;
		}
		*p1 = *p2 = '\0';
		if (fs_parse_int(p1 + 1, &qty) || qty < 0 || qty > 1000000000 || fs_parse_money(p2 + 1, &price) ||
		    price < 0 || price > FS_INT_MAX_EXACT / 1000000000) {
			rc = fs_err(FIELDSYNC_EINVAL, "line %d: orders: '%s' needs a whole quantity and a price", line, o);
			break;
		}
		snprintf(q, sizeof q, "%lld", (long long)qty);
		fs_fmt_money(qty * price, amount);
		static const char *const names[] = { "visit_id", "customer_id", "product", "quantity", "unit_price",
			"amount" };
		const char *vals[] = { vid, cid, o, q, p2 + 1, amount };
		rc = child(h, db, &fs_tbl_order_line, names, vals, 6, line, rep);
	}
	free(copy);
	return rc;
}

static int import_row(struct hq *h, struct hq_db *db, struct hist *x, int i)
{
	const struct fs_csvtab *t = x->t;
	int line = t->line[i], rc;
	const char *ext = cell(x, i, "external_id"), *date = cell(x, i, "date"), *cust = cell(x, i, "customer");
	const char *rep = cell(x, i, "rep"), *status = cell(x, i, "status");
	char cid[33], vid[33] = "", found[33] = "";
	if (!ext || !date || !cust)
		return fs_err(FIELDSYNC_EINVAL, "line %d: external_id, date and customer are required", line);
	if (strlen(ext) > 100)
		return fs_err(FIELDSYNC_EINVAL, "line %d: external_id: at most 100 bytes", line);
	for (int k = 0; k < i; k++) {
		const char *other = cell(x, k, "external_id");
		if (other && !strcmp(other, ext))
			return fs_err(FIELDSYNC_EINVAL, "line %d: external_id '%.60s' is already on line %d", line, ext,
				      t->line[k]);
	}
	struct fs_val e = fs_vref(ext);
	if ((rc = hq_be(h)->exec(db, "SELECT id FROM visit WHERE external_id = $1", 1, &e, one_text, found)))
		return rc;
	struct hq_bexec b = { h, db };
	struct fs_exec qx = { hq_bexec, &b };
	if ((rc = fs_query_lookup(&qx, &fs_tbl_customer, cust, cid)))
		return fs_err(rc, "line %d: customer: %s", line, fs_errmsg_get());
	if (rep) {
		char have[33] = "";
		struct fs_val r = fs_vref(rep);
		if ((rc = hq_be(h)->exec(db, "SELECT name FROM reps WHERE name = $1", 1, &r, one_text, have)))
			return rc;
		if (!have[0])
			return fs_err(FIELDSYNC_EINVAL, "line %d: rep: no rep '%.60s' (add former reps with"
				      " 'fieldsyncd rep add', then revoke them)", line, rep);
	}
	if (status && strcmp(status, "done") && strcmp(status, "missed") && strcmp(status, "cancelled"))
		return fs_err(FIELDSYNC_EINVAL, "line %d: status: '%.40s' is not done, missed or cancelled", line, status);
	if (found[0]) {	/* imported before: left as it is */
		memcpy(vid, found, 33);
	} else {
		struct fs_chg c;
		fs_chg_init(&c, &fs_tbl_visit);
		rc = set_text(&c, "customer_id", cid, line, "customer");
		if (rc == 0)
			rc = set_text(&c, "status", status ? status : "done", line, "status");
		if (rc == 0)
			rc = set_text(&c, "planned_date", date, line, "date");
		for (int k = 0; rc == 0 && k < NCOLS; k++) {
			char num[64];
			const char *v = cols[k].field ? fs_csvtab_cell(t, i, x->col[k]) : NULL;
			if (v && (!strcmp(cols[k].col, "lat") || !strcmp(cols[k].col, "lon")))
				v = fs_csv_number(v, t->delim, num);
			if (v)
				rc = set_text(&c, cols[k].field, v, line, cols[k].col);
		}
		if (rc == 0)
			rc = hq_write_in(h, db, &c, NULL, vid);
		if (rc == FIELDSYNC_EINVAL && !strstr(fs_errmsg_get(), "line "))
			rc = fs_err(FIELDSYNC_EINVAL, "line %d: %s", line, fs_errmsg_get());
		fs_chg_release(&c);
		if (rc == 0)
			rc = credit(h, db, "visit", vid, rep, ext);
		char n1[64], n2[64];
		const char *o = cell(x, i, "orders"), *rcv = fs_csv_number(cell(x, i, "receivable"), t->delim, n1),
			   *col = fs_csv_number(cell(x, i, "collected"), t->delim, n2);
		if (rc == 0 && o)
			rc = orders(h, db, o, vid, cid, line, rep);
		if (rc == 0 && (rcv || col)) {
			static const char *const names[] = { "customer_id", "visit_id", "date", "receivable", "received",
				"method" };
			const char *vals[] = { cid, vid, date, rcv, col, cell(x, i, "method") };
			rc = child(h, db, &fs_tbl_payment, names, vals, 6, line, rep);
		}
	}
	int row = rc ? 0 : fs_rows_add(x->out);
	char ln[16];
	snprintf(ln, sizeof ln, "%d", line);
	if (rc == 0 && row < 0)
		rc = row;
	const char *v[] = { ln, found[0] ? "unchanged" : "created", ext, cust, vid };
	for (int k = 0; rc == 0 && k < 5; k++)
		rc = fs_rows_set(x->out, row, k, v[k]);
	return rc;
}

static int import_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct hist *x = vctx;
	int rc = 0;
	for (int i = 0; rc == 0 && i < x->t->nrow; i++)
		rc = import_row(h, db, x, i);
	return rc;
}

int hq_import_visits(struct hq *h, FILE *fp, int dry_run, struct fieldsync_rows **out)
{
	struct fs_csvtab t;
	struct hist x;
	*out = NULL;
	int rc = fs_csvtab_read(fp, HISTORY_MAX_BYTES, HISTORY_MAX_ROWS, &t);
	if (rc)
		return rc;
	memset(&x, 0, sizeof x);
	x.t = &t;
	for (int k = 0; k < NCOLS; k++)
		x.col[k] = fs_csvtab_col(&t, cols[k].col);
	for (int c = 0; rc == 0 && c < t.ncol; c++) {
		int known = 0;
		for (int k = 0; k < NCOLS; k++)
			known |= !strcmp(cols[k].col, t.head[c]);
		if (!known)
			rc = fs_err(FIELDSYNC_EINVAL, "line 1: unknown column '%.60s' (external_id, date, customer, rep,"
				    " status, outcome, met, purpose, discussed, problem, countermeasure, follow_up,"
				    " next_date, miss_reason, check_in, check_out, lat, lon, orders, receivable,"
				    " collected, method)", t.head[c]);
	}
	for (int k = 0; rc == 0 && k < 3; k++)
		if (x.col[k] < 0)
			rc = fs_err(FIELDSYNC_EINVAL, "line 1: the header has no column '%s'", cols[k].col);
	static const char *const names[] = { "line", "action", "external_id", "customer", "visit_id" };
	static const int types[] = { FS_T_INT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_REF };
	if (rc == 0 && !(x.out = fs_rows_new(5)))
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < 5; c++)
		rc = fs_rows_set_col(x.out, c, names[c], types[c]);
	if (rc == 0)
		rc = hq_write_batch(h, import_tx, &x, !dry_run);
	fs_csvtab_free(&t);
	if (rc) {
		fs_rows_free(x.out);
		return rc;
	}
	*out = x.out;
	return 0;
}
