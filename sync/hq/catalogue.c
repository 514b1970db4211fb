/*
 * catalogue.c - HQ's price list: products (SKU, name, unit, price, active)
 * kept by HQ alone and sent to every device with its pulls, and the sales
 * report over the order lines taken from it.
 *
 * A product is never deleted: one withdrawn is made inactive, so that old
 * order lines keep their SKU's name and devices stop offering it. Every
 * change takes the next number of the catalogue's own sequence (table
 * catalogue_seq, taken under the write transaction's row lock, so changes
 * commit in the order of their numbers); a device sends the highest number
 * it holds ("catalogue" in its pull) and gets the products changed since,
 * at most CATALOGUE_PAGE per reply (docs/ledger.md, "The price list").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "csvtab.h"
#include "hq.h"
#include "hq_int.h"
#include "hq_report.h"
#include "query.h"
#include "report.h"
#include "util.h"

#define CATALOGUE_PAGE 1000
#define CATALOGUE_MAX_ROWS 100000
#define CATALOGUE_MAX_BYTES (32L * 1024 * 1024)

/* ---- checks shared by the commands and the import ---- */

int hq_sku_check(const char *sku)
{
	size_t n = sku ? strlen(sku) : 0;
	if (n < 1 || n > 40)
		return fs_err(FIELDSYNC_EINVAL, "SKU must be 1 to 40 characters");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)sku[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.' || ch == '/'))
			return fs_err(FIELDSYNC_EINVAL, "SKU '%.40s': letters, digits and - _ . / only"
				      " (no spaces, no ':')", sku);
	}
	return 0;
}

static int text_check(const char *what, const char *s, size_t lo, size_t hi)
{
	size_t n = s ? strlen(s) : 0;
	if (n < lo || n > hi || (n && !fs_utf8_valid(s, n)))
		return fs_err(FIELDSYNC_EINVAL, "%s must be %zu to %zu bytes of UTF-8", what, lo, hi);
	return 0;
}

static int bool_parse(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "1", "y", NULL }, *const no[] = { "no", "false", "0",
		"n", NULL };
	for (int i = 0; yes[i]; i++)
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
	for (int i = 0; no[i]; i++)
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	return fs_err(FIELDSYNC_EINVAL, "active: '%.20s' is not yes or no", s);
}

/* ---- writes ---- */

struct put_ctx {
	const struct hq_product *p;
	int mode;
	int created;		/* out: 1 created, 0 changed, -1 unchanged */
};

struct cur_product {
	int found;
	char name[201], unit[21];
	int64_t price, active;
};

static int cur_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct cur_product *c = vctx;
	if (ncol < 4)
		return 0;
	c->found = 1;
	snprintf(c->name, sizeof c->name, "%s", v[0].t == FS_V_TEXT ? v[0].s : "");
	snprintf(c->unit, sizeof c->unit, "%s", v[1].t == FS_V_TEXT ? v[1].s : "");
	c->price = v[2].t == FS_V_INT ? v[2].i : 0;
	c->active = v[3].t == FS_V_INT ? v[3].i : 1;
	return 0;
}

/* One product written in the caller's write transaction. */
static int put_in(struct hq *h, struct hq_db *db, const struct hq_product *p, int mode, int *created)
{
	struct cur_product c = { 0 };
	int64_t price = 0, seq = 0;
	int active = 1, rc;
	if ((rc = hq_sku_check(p->sku)))
		return rc;
	if (p->name && (rc = text_check("name", p->name, 1, 200)))
		return rc;
	if (p->unit && (rc = text_check("unit", p->unit, 0, 20)))
		return rc;
	if (p->price && (fs_parse_money(p->price, &price) || price < 0))
		return fs_err(FIELDSYNC_EINVAL, "price: '%.40s' is not an amount (3.20), or it is negative", p->price);
	if (p->active && (rc = bool_parse(p->active, &active)))
		return rc;
	struct fs_val k = fs_vref(p->sku);
	char q[160];
	snprintf(q, sizeof q, "SELECT name, unit, price, active FROM product WHERE sku = $1%s", h->be->for_update);
	if ((rc = h->be->exec(db, q, 1, &k, cur_row, &c)))
		return rc;
	if (mode == HQ_PRODUCT_ADD && c.found)
		return fs_err(FIELDSYNC_EINVAL, "product %s exists (fieldsyncd product edit %s ...)", p->sku, p->sku);
	if (mode == HQ_PRODUCT_EDIT && !c.found)
		return fs_err(FIELDSYNC_ENOTFOUND, "no product %s in the price list", p->sku);
	if (!c.found && (!p->name || !p->price))
		return fs_err(FIELDSYNC_EINVAL, "a new product needs a name and a price (%s)", p->sku);
	const char *name = p->name ? p->name : c.name;
	const char *unit = p->unit ? p->unit : c.unit;
	price = p->price ? price : c.price;
	active = p->active ? active : c.found ? (int)c.active : 1;
	*created = c.found ? 0 : 1;
	if (c.found && !strcmp(name, c.name) && !strcmp(unit, c.unit) && price == c.price && active == c.active) {
		*created = -1;
		return 0;
	}
	rc = h->be->exec(db, "UPDATE catalogue_seq SET seq = seq + 1 WHERE id = 1", 0, NULL, NULL, NULL);
	if (rc == 0)
		rc = h->be->exec(db, "SELECT seq FROM catalogue_seq WHERE id = 1", 0, NULL, hq_one_int, &seq);
	char now[32];
	fs_iso_utc(fs_wall_ms(), now);
	struct fs_val v[7] = { fs_vref(p->sku), fs_vref(name), fs_vref(unit[0] ? unit : NULL),
		fs_vint(price), fs_vint(active), fs_vint(seq), fs_vref(now) };
	if (rc == 0)
		rc = h->be->exec(db, "INSERT INTO product (sku, name, unit, price, active, q, updated_at)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sku) DO UPDATE SET"
				 " name = $2, unit = $3, price = $4, active = $5, q = $6, updated_at = $7",
				 7, v, NULL, NULL);
	return rc;
}

static int put_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct put_ctx *x = vctx;
	return put_in(h, db, x->p, x->mode, &x->created);
}

int hq_product_put(struct hq *h, const struct hq_product *p, int mode, int *created)
{
	struct put_ctx x = { p, mode, 0 };
	int rc = hq_txn(h, HQ_TXN_WRITE, put_tx, &x);
	if (created)
		*created = x.created;
	return rc;
}

/* ---- reads ---- */

struct list_req {
	int all;
	struct fieldsync_rows **out;
};

static int list_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct list_req *q = vctx;
	static const char *const names[] = { "sku", "name", "unit", "price", "active", "updated_at", NULL };
	static const int types[] = { FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_MONEY, FS_T_BOOL, FS_T_DATETIME };
	return hq_query_rows(h, db, q->all ? "SELECT sku, name, unit, price, active, updated_at FROM product ORDER BY sku"
				     : "SELECT sku, name, unit, price, active, updated_at FROM product"
				       " WHERE active = 1 ORDER BY sku", 0, NULL, names, types, q->out);
}

int hq_product_list(struct hq *h, int all, struct fieldsync_rows **out)
{
	struct list_req q = { all, out };
	*out = NULL;
	return hq_txn(h, HQ_TXN_READ, list_tx, &q);
}

/* ---- the import: all or nothing, one row per product ---- */

struct imp_ctx {
	const struct fs_csvtab *t;
	int col[5];
	struct fieldsync_rows *out;
};

static const char *const imp_cols[] = { "sku", "name", "unit", "price", "active" };

static int import_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct imp_ctx *x = vctx;
	int rc = 0;
	for (int i = 0; rc == 0 && i < x->t->nrow; i++) {
		char num[64];
		struct hq_product p = { fs_csvtab_cell(x->t, i, x->col[0]), fs_csvtab_cell(x->t, i, x->col[1]),
					fs_csvtab_cell(x->t, i, x->col[2]),
					fs_csv_number(fs_csvtab_cell(x->t, i, x->col[3]), x->t->delim, num),
					fs_csvtab_cell(x->t, i, x->col[4]) };
		int created = 0;
		/* an empty unit cell clears it; absent column: unchanged */
		if (x->col[2] >= 0 && !p.unit)
			p.unit = "";
		rc = put_in(h, db, &p, HQ_PRODUCT_UPSERT, &created);
		if (rc) {
			rc = fs_err(rc, "line %d: %s", x->t->line[i], fs_errmsg_get());
			break;
		}
		int r = fs_rows_add(x->out);
		if (r < 0)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		rc = fs_rows_set_int(x->out, r, 0, x->t->line[i]);
		if (rc == 0)
			rc = fs_rows_set(x->out, r, 1, created > 0 ? "created" : created == 0 ? "updated" : "unchanged");
		if (rc == 0)
			rc = fs_rows_set(x->out, r, 2, p.sku);
	}
	return rc;
}

int hq_product_import(struct hq *h, FILE *fp, int dry_run, struct fieldsync_rows **out)
{
	struct fs_csvtab t;
	struct imp_ctx x;
	*out = NULL;
	int rc = fs_csvtab_read(fp, CATALOGUE_MAX_BYTES, CATALOGUE_MAX_ROWS, &t);
	if (rc)
		return rc;
	memset(&x, 0, sizeof x);
	x.t = &t;
	for (int k = 0; k < 5; k++)
		x.col[k] = fs_csvtab_col(&t, imp_cols[k]);
	for (int c = 0; rc == 0 && c < t.ncol; c++) {
		int known = 0;
		for (int k = 0; k < 5; k++)
			known |= !strcmp(imp_cols[k], t.head[c]);
		if (!known)
			rc = fs_err(FIELDSYNC_EINVAL, "line 1: unknown column '%.60s' (sku, name, unit, price, active)",
				    t.head[c]);
	}
	if (rc == 0 && x.col[0] < 0)
		rc = fs_err(FIELDSYNC_EINVAL, "line 1: the header has no column 'sku'");
	static const char *const names[] = { "line", "action", "sku" };
	static const int types[] = { FS_T_INT, FS_T_TEXT, FS_T_TEXT };
	if (rc == 0 && !(x.out = fs_rows_new(3)))
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < 3; c++)
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

/* ---- the price list in a pull ---- */

struct feed_ctx {
	cJSON *arr;
	int n, more;
	int64_t last;
};

static int feed_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct feed_ctx *x = vctx;
	if (ncol < 6 || v[0].t != FS_V_TEXT || v[1].t != FS_V_TEXT || v[5].t != FS_V_INT)
		return 0;
	if (x->n == CATALOGUE_PAGE) {	/* one beyond the page: more to come */
		x->more = 1;
		return 0;
	}
	cJSON *o = cJSON_CreateObject();
	char num[32];
	if (!o)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	cJSON_AddStringToObject(o, "sku", v[0].s);
	cJSON_AddStringToObject(o, "name", v[1].s);
	if (v[2].t == FS_V_TEXT)
		cJSON_AddStringToObject(o, "unit", v[2].s);
	snprintf(num, sizeof num, "%lld", (long long)(v[3].t == FS_V_INT ? v[3].i : 0));
	cJSON_AddItemToObject(o, "price", cJSON_CreateRaw(num));
	cJSON_AddBoolToObject(o, "active", v[4].t == FS_V_INT && v[4].i);
	snprintf(num, sizeof num, "%lld", (long long)v[5].i);
	cJSON_AddItemToObject(o, "q", cJSON_CreateRaw(num));
	cJSON_AddItemToArray(x->arr, o);
	x->n++;
	x->last = v[5].i;
	return 0;
}

int hq_catalogue_feed(struct hq *h, struct hq_db *db, int64_t from, cJSON *out, int *more)
{
	struct feed_ctx x = { cJSON_AddArrayToObject(out, "products"), 0, 0, from };
	char sql[200], num[32];
	if (!x.arr)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	snprintf(sql, sizeof sql, "SELECT sku, name, unit, price, active, q FROM product WHERE q > $1"
		 " ORDER BY q LIMIT %d", CATALOGUE_PAGE + 1);
	struct fs_val p = fs_vint(from);
	int rc = h->be->exec(db, sql, 1, &p, feed_row, &x);
	if (rc)
		return rc;
	*more = x.more;
	snprintf(num, sizeof num, "%lld", (long long)x.last);
	cJSON_AddItemToObject(out, "catalogue", cJSON_CreateRaw(num));
	return 0;
}

/* ---- sales ---- */

struct sales_req {
	const char *by, *month;
	struct fieldsync_rows **out;
};

/* The "(total)" row: every count and amount summed, the rest empty. */
static int add_total(struct fieldsync_rows *r)
{
	int row = fs_rows_add(r), rc = row < 0 ? fs_err(FIELDSYNC_ENOMEM, "out of memory") : 0;
	for (int c = 0; rc == 0 && c < r->ncol; c++) {
		if (r->types[c] != FS_T_INT && r->types[c] != FS_T_MONEY)
			continue;
		int64_t sum = 0;
		for (int i = 0; i < row; i++) {
			const char *v = fs_rows_cell(r, i, c);
			sum += v ? strtoll(v, NULL, 10) : 0;
		}
		rc = fs_rows_set_int(r, row, c, sum);
	}
	return rc ? rc : fs_rows_set(r, row, r->types[0] == FS_T_TEXT && r->ncol > 1 &&
				     !strcmp(r->names[0], "sku") ? 1 : 0, "(total)");
}

static int sales_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	const struct sales_req *q = vctx;
	struct fs_period per;
	int rc = fs_period_month(q->month, &per);
	if (rc)
		return rc;
	struct fs_val p[2] = { fs_vref(per.from), fs_vref(per.to) };
	static const char from[] = " FROM order_line ol JOIN visit v ON v.id = ol.visit_id"
		" JOIN customer c ON c.id = ol.customer_id LEFT JOIN product pr ON pr.sku = ol.sku"
		" WHERE coalesce(ol.deleted, 0) = 0 AND coalesce(v.deleted, 0) = 0"
		" AND v.planned_date >= $1 AND v.planned_date < $2";
	char sql[1200];
	if (!strcmp(q->by, "product")) {
		static const char *const names[] = { "sku", "product", "lines", "quantity", "amount", "overrides", NULL };
		static const int types[] = { FS_T_TEXT, FS_T_TEXT, FS_T_INT, FS_T_INT, FS_T_MONEY, FS_T_INT };
		/* a line from the list counts under its SKU (named as the list
		 * names it now); a free-text line under its text */
		snprintf(sql, sizeof sql, "SELECT ol.sku, coalesce(max(pr.name), max(ol.product)), count(*),"
			 " sum(ol.quantity), sum(ol.amount),"
			 " sum(CASE WHEN ol.sku IS NOT NULL AND ol.unit_price <> ol.list_price THEN 1 ELSE 0 END)"
			 "%s GROUP BY ol.sku, CASE WHEN ol.sku IS NULL THEN ol.product ELSE '' END"
			 " ORDER BY sum(ol.amount) DESC, 2", from);
		rc = hq_query_rows(h, db, sql, 2, p, names, types, q->out);
		return rc ? rc : add_total(*q->out);
	}
	if (!strcmp(q->by, "rep")) {
		static const char *const names[] = { "rep", "visits", "lines", "quantity", "amount", NULL };
		static const int types[] = { FS_T_TEXT, FS_T_INT, FS_T_INT, FS_T_INT, FS_T_MONEY };
		snprintf(sql, sizeof sql, "SELECT coalesce(ol.author_rep, 'unknown'), count(DISTINCT ol.visit_id),"
			 " count(*), sum(ol.quantity), sum(ol.amount)%s GROUP BY coalesce(ol.author_rep, 'unknown')"
			 " ORDER BY sum(ol.amount) DESC, 1", from);
		rc = hq_query_rows(h, db, sql, 2, p, names, types, q->out);
		return rc ? rc : add_total(*q->out);
	}
	if (!strcmp(q->by, "customer")) {
		static const char *const names[] = { "customer", "code", "territory", "visits", "lines", "quantity",
			"amount", NULL };
		static const int types[] = { FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_INT, FS_T_INT, FS_T_INT,
			FS_T_MONEY };
		snprintf(sql, sizeof sql, "SELECT c.name, c.code, c.territory, count(DISTINCT ol.visit_id), count(*),"
			 " sum(ol.quantity), sum(ol.amount)%s GROUP BY c.id, c.name, c.code, c.territory"
			 " ORDER BY sum(ol.amount) DESC, 1", from);
		rc = hq_query_rows(h, db, sql, 2, p, names, types, q->out);
		return rc ? rc : add_total(*q->out);
	}
	return fs_err(FIELDSYNC_EINVAL, "report sales --by product, rep or customer");
}

int hq_report_sales(struct hq *h, const char *by, const char *month, struct fieldsync_rows **out)
{
	struct sales_req q = { by ? by : "product", month, out };
	*out = NULL;
	return hq_txn(h, HQ_TXN_READ, sales_tx, &q);
}
