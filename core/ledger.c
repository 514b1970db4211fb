/* ledger.c - the public report calls on a device's store (reports in report.c). */
#include "api.h"

#include <stdlib.h>
#include <string.h>
#include "fieldsync.h"
#include "report.h"
#include "util.h"

int fs_store_due(struct fs_store *s, struct fs_due *d)
{
	char *text = NULL;
	int rc = fs_meta_get(s, "hq.due_days", &text);
	if (rc == 0 && fs_due_parse(text, d))
		fs_due_defaults(d);	/* a value this version cannot read: the defaults */
	fs_err_clear();
	free(text);
	return rc;
}

FIELDSYNC_API int fieldsync_report_day(fieldsync_store *s, const char *date, fieldsync_rows **out)
{
	char today[11];
	if (!date) {
		fs_today_local(today);
		date = today;
	}
	struct fs_exec x = fs_store_execer(s->st);
	return fs_report_day(&x, date, out);
}

FIELDSYNC_API int fieldsync_report_plan(fieldsync_store *s, const char *month, fieldsync_rows **out)
{
	char today[11];
	if (!month) {
		fs_today_local(today);
		today[7] = '\0';
		month = today;
	}
	struct fs_exec x = fs_store_execer(s->st);
	return fs_report_plan(&x, month, out);
}

FIELDSYNC_API int fieldsync_report_money(fieldsync_store *s, const char *month, const char *by,
					 fieldsync_rows **out)
{
	struct fs_exec x = fs_store_execer(s->st);
	return fs_report_money(&x, month, by, NULL, out);
}

FIELDSYNC_API int fieldsync_owed(fieldsync_store *s, const char *customer_id, const char *date, fieldsync_rows **out)
{
	struct fs_exec x = fs_store_execer(s->st);
	*out = NULL;
	if (customer_id && !fs_is_id(customer_id))
		return fs_err(FIELDSYNC_EINVAL, "customer: '%.40s' is not an id", customer_id);
	return fs_report_owed(&x, customer_id, NULL, date, NULL, out);
}

FIELDSYNC_API int fieldsync_due(fieldsync_store *s, const char *territory, const char *date, fieldsync_rows **out)
{
	char today[11];
	struct fs_due d;
	*out = NULL;
	if (!date) {
		fs_today_local(today);
		date = today;
	}
	int rc = fs_store_due(s->st, &d);
	if (rc)
		return rc;
	struct fs_exec x = fs_store_execer(s->st);
	return fs_report_due(&x, &d, territory && *territory ? territory : NULL, date, out);
}

FIELDSYNC_API int fieldsync_due_intervals(fieldsync_store *s, fieldsync_rows **out)
{
	struct fs_due d;
	char *text = NULL;
	*out = NULL;
	int rc = fs_store_due(s->st, &d);
	if (rc == 0)
		rc = fs_meta_get(s->st, "hq.due_days", &text);
	struct fieldsync_rows *r = rc ? NULL : fs_rows_new(3);
	if (rc == 0 && !r)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	if (rc == 0 && !(rc = fs_rows_set_col(r, 0, "grade", FS_T_TEXT)) &&
	    !(rc = fs_rows_set_col(r, 1, "days", FS_T_INT)))
		rc = fs_rows_set_col(r, 2, "source", FS_T_TEXT);
	for (int i = 0; rc == 0 && i < FS_DUE_NGRADES; i++) {
		char n[16];
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		snprintf(n, sizeof n, "%d", d.days[i]);
		if (!(rc = fs_rows_set(r, row, 0, fs_due_grade(i))) && !(rc = fs_rows_set(r, row, 1, n)))
			rc = fs_rows_set(r, row, 2, text && *text ? "HQ" : "default");
	}
	free(text);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

FIELDSYNC_API int fieldsync_export(fieldsync_store *s, const char *what, const char *from, const char *to,
				   fieldsync_rows **out)
{
	struct fs_exec x = fs_store_execer(s->st);
	return fs_export(&x, what ? what : "", from && *from ? from : NULL, to && *to ? to : NULL, out);
}

/* ---- change history ---- */

struct hrow {
	char at[32];
	char *cells[8];	/* at, by, record, field, old, new, source, replica */
};

static int hrow_cmp(const void *a, const void *b)
{
	const struct hrow *x = a, *y = b;
	int c = strcmp(x->at, y->at);
	if (c)
		return c;
	c = strcmp(x->cells[2] ? x->cells[2] : "", y->cells[2] ? y->cells[2] : "");
	return c ? c : strcmp(x->cells[3] ? x->cells[3] : "", y->cells[3] ? y->cells[3] : "");
}

struct hist {
	struct hrow *r;
	int n, cap;
	struct fieldsync_rows *log;	/* the change log rows of the customer */
	char *me, *hq;			/* this device's rep, HQ's replica id */
	const char *self;
};

static int hist_add(struct hist *h, const char *const vals[8])
{
	if (h->n == h->cap) {
		int cap = h->cap ? h->cap * 2 : 64;
		struct hrow *r = realloc(h->r, (size_t)cap * sizeof *r);
		if (!r)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		h->r = r;
		h->cap = cap;
	}
	struct hrow *r = &h->r[h->n++];
	memset(r, 0, sizeof *r);
	snprintf(r->at, sizeof r->at, "%s", vals[0] ? vals[0] : "");
	for (int k = 0; k < 8; k++)
		if (vals[k] && !(r->cells[k] = strdup(vals[k])))
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	return 0;
}

/* Who a replica is: this device's rep, HQ, or a name the change log gives it. */
static const char *who(struct hist *h, const char *replica, char *buf, size_t n)
{
	if (!strcmp(replica, h->self))
		return h->me && *h->me ? h->me : "this device";
	if (h->hq && !strcmp(replica, h->hq))
		return "HQ";
	for (int i = 0; i < h->log->nrow; i++) {
		const char *rp = h->log->cells[(size_t)i * (size_t)h->log->ncol + 7];
		const char *nm = h->log->cells[(size_t)i * (size_t)h->log->ncol + 1];
		if (rp && nm && !strcmp(rp, replica))
			return nm;
	}
	snprintf(n ? buf : buf, n, "device %.8s", replica);
	return buf;
}

/* The last write of each field of one record, unless the change log has it. */
static int hist_dots(struct hist *h, struct fs_store *st, const struct fs_table *t, const char *id)
{
	struct fs_rec r;
	int rc = fs_store_get(st, t, id, &r);
	if (rc)
		return rc;
	char label[300];
	int nf = fs_field_find(t, "name");
	if (t == &fs_tbl_customer)
		snprintf(label, sizeof label, "customer");
	else
		snprintf(label, sizeof label, "contact %.200s", r.f[nf].v.t == FS_V_TEXT ? r.f[nf].v.s : r.id);
	for (int i = 0; rc == 0 && i < t->nfields; i++) {
		const struct fs_dot *d = &r.f[i].dot;
		char at[32], rid[33], wb[48];
		int logged = 0;
		if (!d->c)
			continue;
		fs_iso_utc(fs_hlc_ms(d->hlc), at);
		fs_rid_fmt(&d->rid, rid);
		for (int k = 0; !logged && k < h->log->nrow; k++) {
			char **c = h->log->cells + (size_t)k * (size_t)h->log->ncol;
			logged = c[0] && c[4] && c[5] && c[7] && !strcmp(c[0], at) && !strcmp(c[4], id) &&
				 !strcmp(c[5], t->fields[i].name) && !strcmp(c[7], rid);
		}
		if (logged)
			continue;
		char *v = fs_val_canon(&r.f[i].v), num[32];
		if (r.f[i].v.t == FS_V_REAL && v) {
			snprintf(num, sizeof num, "%.15g", r.f[i].v.r);	/* as typed, not every binary digit */
			free(v);
			v = strdup(num);
		}
		const char *vals[8] = { at, who(h, rid, wb, sizeof wb), label, t->fields[i].name, NULL, v,
			"last write", rid };
		rc = hist_add(h, vals);
		free(v);
	}
	fs_rec_release(&r);
	return rc;
}

FIELDSYNC_API int fieldsync_customer_history(fieldsync_store *s, const char *id, fieldsync_rows **out)
{
	static const char *const ln[] = { "at", "by", "tbl", "old", "rec_id", "field", "new", "replica", "who",
		NULL };
	static const char *const names[] = { "at", "by", "record", "field", "old_value", "new_value", "source",
		"replica" };
	static const int types[] = { FS_T_DATETIME, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT,
		FS_T_TEXT, FS_T_REF };
	struct hist h;
	struct fieldsync_rows *kids = NULL, *r = NULL;
	struct fs_exec x = fs_store_execer(s->st);
	struct fs_val p = fs_vref(id);
	*out = NULL;
	memset(&h, 0, sizeof h);
	h.self = fs_store_replica_hex(s->st);
	/* the log, with each contact change labelled by the contact's name */
	int rc = fs_exec_rows(&x, "SELECT l.at, l.by_name, l.tbl, l.old_value, l.rec_id, l.field, l.new_value,"
			      " l.replica, (SELECT k.name FROM contact k WHERE k.id = l.rec_id)"
			      " FROM change_log l WHERE l.customer_id = $1 AND coalesce(l.deleted, 0) = 0",
			      1, &p, ln, NULL, &h.log);
	static const char *const kn[] = { "id", NULL };
	if (rc == 0)
		rc = fs_exec_rows(&x, "SELECT id FROM contact WHERE customer_id = $1 ORDER BY id", 1, &p, kn, NULL, &kids);
	if (rc == 0 && !(rc = fs_meta_get(s->st, "rep", &h.me)))
		rc = fs_meta_get(s->st, "hq_id", &h.hq);
	for (int i = 0; rc == 0 && i < h.log->nrow; i++) {
		char **c = h.log->cells + (size_t)i * (size_t)h.log->ncol, label[300], wb[48];
		if (c[2] && !strcmp(c[2], "contact"))
			snprintf(label, sizeof label, "contact %.200s", c[8] ? c[8] : c[4] ? c[4] : "");
		else
			snprintf(label, sizeof label, "%.64s", c[2] ? c[2] : "");
		const char *vals[8] = { c[0], c[1] ? c[1] : c[7] ? who(&h, c[7], wb, sizeof wb) : NULL, label, c[5],
			c[3], c[6], "change", c[7] };
		rc = hist_add(&h, vals);
	}
	/* log rows name replicas by column 7 and the rep by column 1 (as who() reads them) */
	if (rc == 0)
		rc = hist_dots(&h, s->st, &fs_tbl_customer, id);
	for (int i = 0; rc == 0 && kids && i < kids->nrow; i++)
		rc = hist_dots(&h, s->st, &fs_tbl_contact, kids->cells[i]);
	if (rc == 0) {
		qsort(h.r, (size_t)h.n, sizeof *h.r, hrow_cmp);
		if (!(r = fs_rows_new(8)))
			rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	for (int c = 0; rc == 0 && c < 8; c++)
		rc = fs_rows_set_col(r, c, names[c], types[c]);
	for (int i = 0; rc == 0 && i < h.n; i++) {
		int row = fs_rows_add(r);
		if (row < 0)
			rc = row;
		for (int c = 0; rc == 0 && c < 8; c++)
			rc = fs_rows_set(r, row, c, h.r[i].cells[c]);
	}
	for (int i = 0; i < h.n; i++)
		for (int c = 0; c < 8; c++)
			free(h.r[i].cells[c]);
	free(h.r);
	free(h.me);
	free(h.hq);
	fs_rows_free(h.log);
	fs_rows_free(kids);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

FIELDSYNC_API int fieldsync_products(fieldsync_store *s, const char *sku, int all, fieldsync_rows **out)
{
	static const char *const names[] = { "sku", "name", "unit", "price", "active", NULL };
	static const int types[] = { FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_MONEY, FS_T_BOOL };
	struct fs_exec x = fs_store_execer(s->st);
	struct fs_val p = fs_vref(sku);
	*out = NULL;
	if (sku)
		return fs_exec_rows(&x, "SELECT sku, name, unit, price, active FROM product WHERE sku = ?1", 1, &p,
				    names, types, out);
	return fs_exec_rows(&x, all ? "SELECT sku, name, unit, price, active FROM product ORDER BY sku"
				    : "SELECT sku, name, unit, price, active FROM product WHERE active = 1 ORDER BY sku",
			    0, NULL, names, types, out);
}
