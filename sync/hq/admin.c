/*
 * admin.c - what an HQ administrator does with the store, whether or not
 * the server runs: reps and their enrolment tokens, devices, the archive
 * (the same listings as the device, query.c), conflicts and quarantine.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "hq.h"
#include "query.h"
#include "wire.h"

#define ENROLL_TTL_MS (7LL * 24 * 3600 * 1000)


int hq_bexec(void *ctx, const char *sql, int n, const struct fs_val *p, fs_row_fn fn, void *rctx)
{
	struct hq_bexec *b = ctx;
	return hq_be(b->h)->exec(b->db, sql, n, p, fn, rctx);
}

int hq_query_rows(struct hq *h, struct hq_db *db, const char *sql, int n, const struct fs_val *p,
		  const char *const *names, const int *types, struct fieldsync_rows **out)
{
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	return fs_exec_rows(&x, sql, n, p, names, types, out);
}

static int valid_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 100 || !fs_utf8_valid(name, n))
		return fs_err(FIELDSYNC_EINVAL, "rep name must be 1-100 bytes of UTF-8");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20)
			return fs_err(FIELDSYNC_EINVAL, "rep name has a control character");
	return 0;
}

struct rep_ctx {
	const char *name;
	char terr[HQ_MAX_TERR][65];
	int nterr;
	char *token;
	int wipe, count;
};

static int count_row(void *ctx, int ncol, const struct fs_val *v)
{
	(void)ncol;
	(void)v;
	(*(int *)ctx)++;
	return 0;
}

static int rep_exists(struct hq *h, struct hq_db *db, const char *name, int *n)
{
	struct fs_val p = fs_vref(name);
	*n = 0;
	return hq_be(h)->exec(db, "SELECT name FROM reps WHERE name = $1", 1, &p, count_row, n);
}

static int need_rep(struct hq *h, struct hq_db *db, const char *name)
{
	int n, rc = rep_exists(h, db, name, &n);
	return rc ? rc : n ? 0 : fs_err(FIELDSYNC_ENOTFOUND, "no rep '%s'", name);
}

static int new_token(struct hq *h, struct hq_db *db, const char *rep, char *token)
{
	unsigned char raw[24];
	char hash[65], now[32];
	randombytes_buf(raw, sizeof raw);
	fs_hex(raw, sizeof raw, token);
	hq_token_hash(token, hash);
	fs_iso_utc(fs_wall_ms(), now);
	struct fs_val p[4] = { fs_vref(hash), fs_vref(rep), fs_vref(now), fs_vint(fs_wall_ms() + ENROLL_TTL_MS) };
	return hq_be(h)->exec(db, "INSERT INTO enroll_tokens (hash, rep, created_at, expires_ms)"
			      " VALUES ($1, $2, $3, $4)", 4, p, NULL, NULL);
}

static int set_territories(struct hq *h, struct hq_db *db, struct rep_ctx *x)
{
	struct fs_val p = fs_vref(x->name);
	int rc = hq_be(h)->exec(db, "DELETE FROM rep_territories WHERE rep = $1", 1, &p, NULL, NULL);
	for (int i = 0; rc == 0 && i < x->nterr; i++) {
		struct fs_val q[2] = { fs_vref(x->name), fs_vref(x->terr[i]) };
		rc = hq_be(h)->exec(db, "INSERT INTO rep_territories (rep, territory) VALUES ($1, $2)"
				    " ON CONFLICT (rep, territory) DO NOTHING", 2, q, NULL, NULL);
	}
	return rc;
}

static int rep_add_tx(struct hq *h, struct hq_db *db, void *ctx)
{
	struct rep_ctx *x = ctx;
	char now[32];
	int n, rc = rep_exists(h, db, x->name, &n);
	if (rc == 0 && n)
		rc = fs_err(FIELDSYNC_EINVAL, "rep '%s' already exists (use 'rep token' for another device)", x->name);
	fs_iso_utc(fs_wall_ms(), now);
	struct fs_val p[2] = { fs_vref(x->name), fs_vref(now) };
	if (rc == 0)
		rc = hq_be(h)->exec(db, "INSERT INTO reps (name, created_at) VALUES ($1, $2)", 2, p, NULL, NULL);
	if (rc == 0)
		rc = set_territories(h, db, x);
	if (rc == 0)
		rc = new_token(h, db, x->name, x->token);
	return rc;
}

int hq_rep_add(struct hq *h, const char *name, const char *territories, char token[65])
{
	struct rep_ctx x = { .name = name, .token = token };
	int rc = valid_name(name);
	if (rc == 0)
		rc = hq_parse_territories(territories, x.terr, HQ_MAX_TERR, &x.nterr);
	return rc ? rc : hq_write_batch(h, rep_add_tx, &x, 1);
}

static int rep_token_tx(struct hq *h, struct hq_db *db, void *ctx)
{
	struct rep_ctx *x = ctx;
	int rc = need_rep(h, db, x->name);
	return rc ? rc : new_token(h, db, x->name, x->token);
}

int hq_rep_token(struct hq *h, const char *name, char token[65])
{
	struct rep_ctx x = { .name = name, .token = token };
	return hq_write_batch(h, rep_token_tx, &x, 1);
}

static int rep_move_tx(struct hq *h, struct hq_db *db, void *ctx)
{
	struct rep_ctx *x = ctx;
	int rc = need_rep(h, db, x->name);
	return rc ? rc : set_territories(h, db, x);
}

int hq_rep_move(struct hq *h, const char *name, const char *territories)
{
	struct rep_ctx x = { .name = name };
	int rc = hq_parse_territories(territories, x.terr, HQ_MAX_TERR, &x.nterr);
	return rc ? rc : hq_write_batch(h, rep_move_tx, &x, 1);
}

static int rep_revoke_tx(struct hq *h, struct hq_db *db, void *ctx)
{
	struct rep_ctx *x = ctx;
	int rc = need_rep(h, db, x->name);
	struct fs_val p[2] = { fs_vint(x->wipe), fs_vref(x->name) };
	if (rc == 0)
		rc = hq_be(h)->exec(db, "UPDATE reps SET revoked = 1, wipe = $1 WHERE name = $2", 2, p, NULL, NULL);
	return rc;
}

int hq_rep_revoke(struct hq *h, const char *name, int wipe)
{
	struct rep_ctx x = { .name = name, .wipe = wipe };
	return hq_write_batch(h, rep_revoke_tx, &x, 1);
}

/* Listings read on one connection without a write lock. */
static int with_db(struct hq *h, struct hq_db **db)
{
	return hq_acquire(h, db);
}

int hq_rep_list(struct hq *h, struct fieldsync_rows **out)
{
	static const char *const names[] = { "rep", "territories", "devices", "last_sync", "revoked", "wipe", NULL };
	static const int types[] = { FS_T_TEXT, FS_T_TEXT, FS_T_INT, FS_T_DATETIME, FS_T_BOOL, FS_T_BOOL };
	struct hq_db *db;
	int rc = with_db(h, &db);
	if (rc)
		return rc;
	/* territories are joined in C: string aggregation differs between dialects */
	rc = hq_query_rows(h, db, "SELECT r.name, '', (SELECT count(*) FROM devices d WHERE d.rep = r.name),"
			   " (SELECT max(d.last_sync) FROM devices d WHERE d.rep = r.name), r.revoked, r.wipe"
			   " FROM reps r ORDER BY r.name", 0, NULL, names, types, out);
	for (int i = 0; rc == 0 && i < (*out)->nrow; i++) {
		struct fieldsync_rows *t;
		static const char *const tn[] = { "territory", NULL };
		struct fs_val p = fs_vref((*out)->cells[(size_t)i * (size_t)(*out)->ncol]);
		rc = hq_query_rows(h, db, "SELECT territory FROM rep_territories WHERE rep = $1 ORDER BY territory",
				   1, &p, tn, NULL, &t);
		if (rc)
			break;
		struct fs_buf b;
		fs_buf_init(&b, 0);
		for (int k = 0; rc == 0 && k < t->nrow; k++)
			rc = fs_buf_printf(&b, "%s%s", k ? "," : "", t->cells[k]);
		if (rc == 0)
			rc = fs_rows_set(*out, i, 1, b.p ? b.p : "");
		fs_buf_release(&b);
		fs_rows_free(t);
	}
	hq_release(h, db);
	return rc;
}

int hq_device_list(struct hq *h, struct fieldsync_rows **out)
{
	static const char *const names[] = { "id", "rep", "name", "created_at", "last_seen", "last_sync",
		"app_version", "pending", "revoked", NULL };
	static const int types[] = { FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_DATETIME, FS_T_DATETIME, FS_T_DATETIME,
		FS_T_TEXT, FS_T_INT, FS_T_BOOL };
	struct hq_db *db;
	int rc = with_db(h, &db);
	if (rc == 0)
		rc = hq_query_rows(h, db, "SELECT d.id, d.rep, d.name, d.created_at, d.last_seen, d.last_sync,"
				   " d.app_version, d.pending, CASE WHEN d.revoked = 1 OR r.revoked = 1 THEN 1 ELSE 0 END"
				   " FROM devices d JOIN reps r ON r.name = d.rep ORDER BY d.rep, d.created_at",
				   0, NULL, names, types, out);
	hq_release(h, db);
	return rc;
}

int hq_quarantine_list(struct hq *h, struct fieldsync_rows **out)
{
	static const char *const names[] = { "at", "rep", "device", "tbl", "rec_id", "reason", "decision",
		"record", NULL };
	static const int types[] = { FS_T_DATETIME, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT,
		FS_T_TEXT, FS_T_TEXT };
	struct hq_db *db;
	int rc = with_db(h, &db);
	if (rc == 0)
		rc = hq_query_rows(h, db, "SELECT q.at, d.rep, q.device, q.tbl, q.rec_id, q.reason, q.decision, q.record"
				   " FROM quarantine q LEFT JOIN devices d ON d.id = q.device ORDER BY q.at, q.rec_id",
				   0, NULL, names, types, out);
	hq_release(h, db);
	return rc;
}

static int be_get(void *ctx, const struct fs_table *t, const char *id, struct fs_rec *out)
{
	struct hq_bexec *b = ctx;
	return hq_get(b->h, b->db, t, id, 0, out);
}

int hq_conflict_list(struct hq *h, int all, struct fieldsync_rows **out)
{
	struct hq_db *db;
	int rc = with_db(h, &db);
	if (rc)
		return rc;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	rc = fs_query_conflicts(&x, be_get, &b, all, out);
	hq_release(h, db);
	return rc;
}

int hq_list(struct hq *h, const struct fs_table *t, const char *const *filters, const char *search,
	    struct fieldsync_rows **out)
{
	struct hq_db *db;
	int rc = with_db(h, &db);
	if (rc)
		return rc;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	rc = fs_query_list(&x, t, filters, search, out);
	hq_release(h, db);
	return rc;
}

int hq_lookup(struct hq *h, const struct fs_table *t, const char *key, char id[33])
{
	struct hq_db *db;
	int rc = with_db(h, &db);
	if (rc)
		return rc;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	rc = fs_query_lookup(&x, t, key, id);
	hq_release(h, db);
	return rc;
}

int hq_show(struct hq *h, const struct fs_table *t, const char *id, struct fieldsync_rows **out)
{
	struct hq_db *db;
	struct fs_rec r;
	int rc = with_db(h, &db);
	if (rc)
		return rc;
	rc = hq_get(h, db, t, id, 0, &r);
	hq_release(h, db);
	if (rc)
		return rc;
	rc = fs_rows_from_rec(&r, out);
	fs_rec_release(&r);
	return rc;
}

/* ---- plans made at HQ for a rep ---- */

struct plan_ctx {
	const char *cust, *rep, *date, *time;
	char *id_out;
};

static int covers_row(void *ctx, int ncol, const struct fs_val *v)
{
	(void)v;
	*(int *)ctx += ncol > 0;
	return 0;
}

static int plan_add_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct plan_ctx *x = vctx;
	struct fs_rec c;
	struct fs_chg chg;
	int rc = need_rep(h, db, x->rep), n = 0;
	if (rc == 0)
		rc = hq_get(h, db, &fs_tbl_customer, x->cust, 0, &c);
	if (rc)
		return rc;
	/* the rep must cover the customer's territory: a plan travels there */
	struct fs_val p[2] = { fs_vref(x->rep), fs_vref(c.scope) };
	rc = hq_be(h)->exec(db, "SELECT 1 FROM rep_territories rt JOIN reps r ON r.name = rt.rep"
			    " WHERE rt.rep = $1 AND rt.territory = $2 AND r.revoked = 0", 2, p, covers_row, &n);
	if (rc == 0 && !n)
		rc = fs_err(FIELDSYNC_EINVAL, "%s does not cover territory %s, where customer %s is", x->rep,
			    c.scope[0] ? c.scope : "(none)", x->cust);
	if (rc == 0 && fs_rec_deleted(&c))
		rc = fs_err(FIELDSYNC_ENOTFOUND, "customer %s is deleted", x->cust);
	fs_rec_release(&c);
	if (rc)
		return rc;
	const struct fs_table *t = &fs_tbl_visit;
	const char *names[] = { "customer_id", "status", "planned_date", "planned_time" };
	const char *vals[] = { x->cust, "planned", x->date, x->time };
	fs_chg_init(&chg, t);
	for (int k = 0; rc == 0 && k < 4; k++) {
		struct fs_val v = { 0 };
		int fi = fs_field_find(t, names[k]);
		if (!vals[k])
			continue;
		rc = fs_field_parse(&t->fields[fi], vals[k], FS_PARSE_USER, &v);
		if (rc == 0)
			rc = fs_chg_set(&chg, fi, &v);
		fs_val_release(&v);
		if (rc)
			fs_err_wrap(rc, "%s", k == 2 ? "--date" : k == 3 ? "--time" : names[k]);
	}
	if (rc == 0)
		rc = hq_write_in(h, db, &chg, NULL, x->id_out);
	fs_chg_release(&chg);
	/* whom it is for: HQ's column, read by the pull (a visit assigned to
	 * a rep goes to that rep's devices only) and the reports */
	struct fs_val a[2] = { fs_vref(x->rep), fs_vref(x->id_out) };
	if (rc == 0)
		rc = hq_be(h)->exec(db, "UPDATE visit SET assignee = $1 WHERE id = $2", 2, a, NULL, NULL);
	return rc;
}

int hq_plan_add(struct hq *h, const char *customer, const char *rep, const char *date, const char *time,
		char id_out[33])
{
	char cid[33];
	if (!date || !*date)
		return fs_err(FIELDSYNC_EINVAL, "--date: a plan needs a date (YYYY-MM-DD)");
	int rc = hq_lookup(h, &fs_tbl_customer, customer, cid);
	struct plan_ctx x = { cid, rep, date, time, id_out };
	return rc ? rc : hq_write_batch(h, plan_add_tx, &x, 1);
}

/* ---- a customer's opening balance ---- */

#define OPENING_NOTE "opening balance"

struct opening_ctx {
	const char *cust, *amount, *date;
	char *id_out;
};

static int id_row(void *ctx, int ncol, const struct fs_val *v)
{
	if (ncol > 0 && v[0].t == FS_V_TEXT)
		snprintf(ctx, 33, "%s", v[0].s);
	return 0;
}

static int opening_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct opening_ctx *x = vctx;
	const struct fs_table *t = &fs_tbl_payment;
	char have[33] = "";
	struct fs_val p[2] = { fs_vref(x->cust), fs_vref(OPENING_NOTE) };
	int rc = hq_be(h)->exec(db, "SELECT id FROM payment WHERE customer_id = $1 AND note = $2 AND visit_id IS NULL"
				" AND coalesce(deleted, 0) = 0 ORDER BY id LIMIT 1", 2, p, id_row, have);
	struct fs_chg c;
	fs_chg_init(&c, t);
	const char *names[] = { "customer_id", "date", "receivable", "note" };
	const char *vals[] = { have[0] ? NULL : x->cust, x->date, x->amount, have[0] ? NULL : OPENING_NOTE };
	for (int k = 0; rc == 0 && k < 4; k++) {
		struct fs_val v = { 0 };
		int fi = fs_field_find(t, names[k]);
		if (!vals[k])
			continue;
		rc = fs_field_parse(&t->fields[fi], vals[k], FS_PARSE_USER, &v);
		if (rc == 0)
			rc = fs_chg_set(&c, fi, &v);
		fs_val_release(&v);
		if (rc)
			fs_err_wrap(rc, "%s", k == 1 ? "--date" : k == 2 ? "amount" : names[k]);
	}
	/* one per customer: set again, it is changed, not added */
	if (rc == 0)
		rc = hq_write_in(h, db, &c, have[0] ? have : NULL, x->id_out);
	fs_chg_release(&c);
	return rc;
}

int hq_opening_balance(struct hq *h, const char *customer, const char *amount, const char *date, char id_out[33])
{
	char cid[33], today[11];
	int64_t minor;
	if (!amount || fs_parse_money(amount, &minor))
		return fs_err(FIELDSYNC_EINVAL, "amount: '%.40s' is not an amount like 1250.50", amount ? amount : "");
	if (!date) {
		fs_today_local(today);
		date = today;
	}
	int rc = hq_lookup(h, &fs_tbl_customer, customer, cid);
	struct opening_ctx x = { cid, amount, date, id_out };
	return rc ? rc : hq_write_batch(h, opening_tx, &x, 1);
}
