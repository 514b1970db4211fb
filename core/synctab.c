/* synctab.c - the replica's tables its sync works on (see synctab.h). */
#include "synctab.h"
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "reg.h"
#include "util.h"

/* ---- the change log ---- */

static int int_row(void *ctx, int ncol, const struct fs_val *v)
{
	if (ncol > 0 && v[0].t == FS_V_INT)
		*(int64_t *)ctx = v[0].i;
	return 0;
}

int fs_log_pending(struct fs_store *s, int64_t *n)
{
	static const char q[] = "SELECT count(*) FROM (SELECT DISTINCT tbl, id FROM changelog)";
	*n = 0;
	return fs_store_run(s, q, 0, NULL, int_row, n);
}

static const char q_log_after[] = "SELECT seq, tbl, id FROM changelog WHERE seq > ?2 ORDER BY seq LIMIT ?1";
static const char q_log_max[] = "SELECT max(seq) FROM changelog WHERE tbl = ?1 AND id = ?2";
static const char q_log_drop[] = "DELETE FROM changelog WHERE tbl = ?1 AND id = ?2";

struct pend {
	char tbl[32], id[33];
};

int fs_log_next(struct fs_store *s, int64_t *after, int max, fs_log_fn fn, void *ctx, int *n)
{
	sqlite3_stmt *st, *mx, *hq[FS_MAX_TABLES] = { NULL };
	struct pend *seen = calloc((size_t)max + 1, sizeof *seen);
	int orphans = 0, rc;
	*n = 0;
	if (!seen)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	rc = fs_store_begin(s);	/* one snapshot for records and positions */
	if (rc) {
		free(seen);
		return rc;
	}
	if ((rc = fs_store_stmt(s, q_log_after, &st)) || (rc = fs_store_stmt(s, q_log_max, &mx))) {
		free(seen);
		fs_store_rollback(s);
		return rc;
	}
	/* a record changed several times has several entries: scan ahead */
	sqlite3_bind_int(st, 1, max * 4);
	sqlite3_bind_int64(st, 2, *after);
	while (rc == 0 && *n < max && sqlite3_step(st) == SQLITE_ROW) {
		*after = sqlite3_column_int64(st, 0);
		const char *tbl = (const char *)sqlite3_column_text(st, 1), *id = (const char *)sqlite3_column_text(st, 2);
		int dup = 0;
		for (int k = 0; k < *n && !dup; k++)
			dup = !strcmp(seen[k].id, id) && !strcmp(seen[k].tbl, tbl);
		const struct fs_table *t = fs_table_find(tbl);
		if (dup || !t)
			continue;
		struct fs_rec r;
		rc = fs_store_get(s, t, id, &r);
		if (rc == FIELDSYNC_ENOTFOUND) {
			/* the row is gone (nothing any path leaves this way, but a
			 * change-log entry must never stay pending forever) */
			struct fs_val p[2] = { fs_vref(tbl), fs_vref(id) };
			rc = fs_store_run(s, q_log_drop, 2, p, NULL, NULL);
			if (rc == 0)
				orphans++;
			continue;
		}
		if (rc)
			break;
		snprintf(seen[*n].tbl, sizeof seen[*n].tbl, "%s", tbl);
		snprintf(seen[*n].id, sizeof seen[*n].id, "%s", id);
		sqlite3_bind_text(mx, 1, tbl, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(mx, 2, id, -1, SQLITE_TRANSIENT);
		int64_t upto = sqlite3_step(mx) == SQLITE_ROW ? sqlite3_column_int64(mx, 0) : 0, hqseq = 0;
		sqlite3_reset(mx);
		if (!hq[t->idx]) {
			char sql[128];
			snprintf(sql, sizeof sql, "SELECT hqseq FROM %s WHERE id = ?1", t->name);
			if (sqlite3_prepare_v2(s->db, sql, -1, &hq[t->idx], NULL) != SQLITE_OK) {
				fs_rec_release(&r);
				rc = fs_sqlite_err(s->db, sqlite3_errcode(s->db), "reading hqseq");
				break;
			}
		}
		sqlite3_bind_text(hq[t->idx], 1, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(hq[t->idx]) == SQLITE_ROW)
			hqseq = sqlite3_column_int64(hq[t->idx], 0);
		sqlite3_reset(hq[t->idx]);
		rc = fn(ctx, &r, upto, hqseq > 0 ? hqseq : 0);
		fs_rec_release(&r);
		if (rc == 0)
			(*n)++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_clear_bindings(mx);
	for (int i = 0; i < FS_MAX_TABLES; i++)
		sqlite3_finalize(hq[i]);
	free(seen);
	if (rc == 0 && orphans)
		return fs_store_commit(s);
	fs_store_rollback(s);	/* read only */
	return rc;
}

int fs_log_newer(struct fs_store *s, const struct fs_table *t, const char *id, int64_t upto, int *newer)
{
	static const char q[] = "SELECT count(*) FROM changelog WHERE tbl = ?1 AND id = ?2 AND seq > ?3";
	struct fs_val p[3] = { fs_vref(t->name), fs_vref(id), fs_vint(upto) };
	int64_t n = 0;
	int rc = fs_store_run(s, q, 3, p, int_row, &n);
	*newer = n > 0;
	return rc;
}

int fs_log_done(struct fs_store *s, const char *tbl, const char *id, int64_t upto)
{
	static const char q[] = "DELETE FROM changelog WHERE tbl = ?1 AND id = ?2 AND seq <= ?3";
	struct fs_val p[3] = { fs_vref(tbl), fs_vref(id), fs_vint(upto) };
	return fs_store_run(s, q, 3, p, NULL, NULL);
}

int fs_log_requeue_all(struct fs_store *s)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		char sql[256];
		const char *t = fs_tables[i]->name;	/* parents first: customers lead the registry */
		snprintf(sql, sizeof sql, "INSERT INTO changelog (tbl, id) SELECT '%s', id FROM %s"
			 " ORDER BY coalesce(hqseq, 0), id; UPDATE %s SET hqseq = NULL", t, t, t);
		char *msg = NULL;
		if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK)
			rc = fs_err(FIELDSYNC_EIO, "queueing %s again: %s", t, msg ? msg : "?");
		sqlite3_free(msg);
	}
	return rc;
}

/* ---- the quarantine ---- */

int fs_quarantine_put(struct fs_store *s, const char *tbl, const char *id, const char *reason, const char *at,
		      const char *record)
{
	static const char q[] = "INSERT INTO quarantine (tbl, id, reason, at, record) VALUES (?1, ?2, ?3, ?4,"
				" fs_seal(?5)) ON CONFLICT (tbl, id) DO UPDATE SET reason = excluded.reason,"
				" at = excluded.at, record = excluded.record";
	struct fs_val p[5] = { fs_vref(tbl), fs_vref(id), fs_vref(reason), fs_vref(at), fs_vref(record) };
	return fs_store_run(s, q, 5, p, NULL, NULL);
}

int fs_quarantine_clear_hq(struct fs_store *s, const char *tbl, const char *id)
{
	static const char q[] = "DELETE FROM quarantine WHERE tbl = ?1 AND id = ?2 AND reason LIKE 'from HQ:%'";
	struct fs_val p[2] = { fs_vref(tbl), fs_vref(id) };
	return fs_store_run(s, q, 2, p, NULL, NULL);
}

int fs_quarantine_count(struct fs_store *s, int64_t *n)
{
	*n = 0;
	return fs_store_run(s, "SELECT count(*) FROM quarantine", 0, NULL, int_row, n);
}

/* ---- HQ's price list ---- */

int fs_catalogue_put(struct fs_store *s, const char *sku, const char *name, const char *unit, int64_t price,
		     int active, int64_t q)
{
	static const char sql[] = "INSERT INTO product (sku, name, unit, price, active, q) VALUES (?1, ?2, ?3, ?4,"
				  " ?5, ?6) ON CONFLICT (sku) DO UPDATE SET name = excluded.name, unit = excluded.unit,"
				  " price = excluded.price, active = excluded.active, q = excluded.q";
	struct fs_val p[6] = { fs_vref(sku), fs_vref(name), fs_vref(unit), fs_vint(price), fs_vint(active != 0),
		fs_vint(q) };
	return fs_store_run(s, sql, 6, p, NULL, NULL);
}

/* ---- rows and HQ ---- */

struct row_hq {
	char *scope;
	int64_t *hqseq;
};

static int row_hq_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct row_hq *x = ctx;
	if (ncol >= 2) {
		snprintf(x->scope, 65, "%s", v[0].t == FS_V_TEXT ? v[0].s : "");
		*x->hqseq = v[1].t == FS_V_INT ? v[1].i : 0;
	}
	return 0;
}

int fs_store_row_hq(struct fs_store *s, const struct fs_table *t, const char *id, char scope[65], int64_t *hqseq)
{
	char sql[128];
	struct fs_val p = fs_vref(id);
	struct row_hq x = { scope, hqseq };
	scope[0] = '\0';
	*hqseq = 0;
	snprintf(sql, sizeof sql, "SELECT scope, hqseq FROM %s WHERE id = ?1", t->name);
	return fs_store_exec(s, sql, 1, &p, row_hq_row, &x);
}

struct scope_each {
	int (*fn)(void *ctx, const char *scope);
	void *ctx;
};

static int scope_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct scope_each *x = ctx;
	return ncol > 0 && v[0].t == FS_V_TEXT ? x->fn(x->ctx, v[0].s) : 0;
}

int fs_store_each_scope(struct fs_store *s, int (*fn)(void *ctx, const char *scope), void *ctx)
{
	struct fs_buf q;
	struct scope_each x = { fn, ctx };
	int rc = 0;
	fs_buf_init(&q, 0);
	for (int i = 0; rc == 0 && i < fs_ntables; i++)
		rc = fs_buf_printf(&q, "%sSELECT scope FROM %s WHERE scope IS NOT NULL", i ? " UNION " : "",
				   fs_tables[i]->name);
	if (rc == 0)
		rc = fs_store_exec(s, q.p, 0, NULL, scope_row, &x);
	fs_buf_release(&q);
	return rc;
}

int fs_store_wipe(struct fs_store *s)
{
	sqlite3_stmt *st;
	char now[32];
	int rc = sqlite3_exec(s->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return fs_sqlite_err(s->db, rc, "wiping the store");
	if ((rc = fs_store_begin(s)))
		return rc;
	rc = sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_master WHERE type = 'table'"
				" AND name NOT LIKE 'sqlite_%'", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = fs_sqlite_err(s->db, rc, "wiping the store");
		fs_store_rollback(s);
		return rc;
	}
	while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		/* table names from the schema, not data: quoted all the same */
		char *q = sqlite3_mprintf(strcmp((const char *)sqlite3_column_text(st, 0), "meta")
						  ? "DELETE FROM \"%w\""
						  : "DELETE FROM \"%w\" WHERE key NOT IN ('replica_id', 'hlc', 'created_at')",
					  (const char *)sqlite3_column_text(st, 0));
		rc = q ? sqlite3_exec(s->db, q, NULL, NULL, NULL) : SQLITE_NOMEM;
		sqlite3_free(q);
	}
	sqlite3_finalize(st);
	fs_iso_utc(fs_wall_ms(), now);
	if (rc == SQLITE_OK)
		rc = fs_meta_set(s, "wiped_at", now);
	if (rc != 0) {
		rc = fs_sqlite_err(s->db, sqlite3_errcode(s->db), "wiping the store");
		fs_store_rollback(s);
		return rc;
	}
	if ((rc = fs_store_commit(s)))
		return rc;
	rc = sqlite3_exec(s->db, "VACUUM; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fs_sqlite_err(s->db, rc, "wiping the store");
}

/* ---- resync ---- */

int fs_resync_forget(struct fs_store *s, const char *scope)
{
	struct fs_val p = fs_vref(scope);
	return fs_store_run(s, "DELETE FROM resync_mark WHERE scope = ?1", 1, &p, NULL, NULL);
}

int fs_resync_mark(struct fs_store *s, const char *scope)
{
	struct fs_val p = fs_vref(scope);
	int rc = fs_resync_forget(s, scope);
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		char sql[256];
		snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO resync_mark (tbl, id, scope) SELECT '%s', id, scope"
			 " FROM %s WHERE scope = ?1", fs_tables[i]->name, fs_tables[i]->name);
		rc = fs_store_exec(s, sql, 1, &p, NULL, NULL);
	}
	return rc;
}

int fs_resync_unmark(struct fs_store *s, const char *tbl, const char *id)
{
	struct fs_val p[2] = { fs_vref(tbl), fs_vref(id) };
	return fs_store_run(s, "DELETE FROM resync_mark WHERE tbl = ?1 AND id = ?2", 2, p, NULL, NULL);
}

int fs_resync_sweep(struct fs_store *s, const char *scope, long *removed)
{
	struct fs_val p = fs_vref(scope);
	int rc = 0;
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		char sql[512];
		const char *t = fs_tables[i]->name;
		snprintf(sql, sizeof sql, "DELETE FROM %s WHERE scope = ?1 AND id IN (SELECT id FROM resync_mark"
			 " WHERE tbl = '%s' AND scope = ?1) AND id NOT IN (SELECT id FROM changelog WHERE tbl = '%s')",
			 t, t, t);
		rc = fs_store_exec(s, sql, 1, &p, NULL, NULL);
		if (rc == 0)
			*removed += sqlite3_changes(s->db);
	}
	return rc ? rc : fs_resync_forget(s, scope);
}
