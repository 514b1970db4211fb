/*
 * gc.c - garbage collection of tombstones and evictions at HQ.
 *
 * A deleted record stays at HQ as a tombstone (a row with deleted = 1), and
 * a customer that changed territory leaves an eviction where it was, so that
 * every device in the territory learns of it. Once every device that can
 * still hold the record has acknowledged a version at least as new (its
 * pull cursor for the territory, device_acks), neither is needed: this
 * removes them and raises the territory's horizon (gc_horizon) to the
 * highest sequence number removed.
 *
 * Who is waited for, per territory T: every device that is not revoked, of
 * a rep that is not revoked and has T, heard from within the lapse_days
 * setting (default 90). A device silent for longer is not waited for. When
 * it comes back its cursor is below the horizon, so its pull turns into a
 * resync of T (endpoints.c): a backfill after which the device drops what the
 * backfill did not bring; and a record it still pushes with an HQ version
 * HQ no longer holds is refused, not stored again (merge_in).
 *
 * Kept whatever the acknowledgements: records flagged disputed (kept
 * forever everywhere), and a tombstone that rows of other tables still
 * reference through an immutable reference (a deleted customer whose
 * visits are still there, or whose tombstones are not collectable yet);
 * conflict records and the change log do not hold a tombstone: they are
 * the history of a record and stay after it.
 * Children are collected before parents, in one transaction, so a customer
 * deleted with its visits goes in the same run.
 */
#include "hq.h"
#include "settings.h"

#include <stdlib.h>
#include <string.h>
#include "rowcodec.h"
#include "util.h"

struct names {
	char (*v)[65];
	int n, cap;
};

static int name_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct names *x = ctx;
	if (ncol < 1 || v[0].t != FS_V_TEXT)
		return 0;
	for (int i = 0; i < x->n; i++)
		if (!strcmp(x->v[i], v[0].s))
			return 0;
	if (x->n == x->cap) {
		int cap = x->cap ? x->cap * 2 : 16;
		void *p = realloc(x->v, (size_t)cap * sizeof *x->v);
		if (!p)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		x->v = p;
		x->cap = cap;
	}
	snprintf(x->v[x->n++], 65, "%s", v[0].s);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

struct two {
	int64_t a, b;
	int null_b;
};

static int two_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct two *x = ctx;
	if (ncol > 0 && v[0].t == FS_V_INT)
		x->a = v[0].i;
	x->null_b = ncol < 2 || v[1].t != FS_V_INT;
	if (!x->null_b)
		x->b = v[1].i;
	return 0;
}

/* The condition for a collectable tombstone of t, after "scope = $1 AND
 * deleted = 1 AND seq <= $2": not disputed, not referenced. */
static int keep_clause(const struct fs_table *t, struct fs_buf *b)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < t->nfields; i++) {
		const struct fs_field *f = &t->fields[i];
		if (!strcmp(f->name, "disputed"))
			rc = fs_buf_adds(b, " AND coalesce(disputed, 0) = 0");
		/* what belongs to a disputed record (a visit of a disputed
		 * customer, an order line of a disputed visit) is kept with it */
		const struct fs_table *u = f->type == FS_T_REF && (f->flags & FS_F_IMMUTABLE) ? fs_table_find(f->ref) : NULL;
		int ud = 0;
		for (int k = 0; u && k < u->nfields; k++)
			ud |= !strcmp(u->fields[k].name, "disputed");
		if (rc == 0 && ud)
			rc = fs_buf_printf(b, " AND NOT EXISTS (SELECT 1 FROM %s d WHERE d.id = %s.%s AND d.disputed = 1)",
					   u->name, t->name, f->name);
	}
	for (int k = 0; rc == 0 && k < fs_ntables; k++) {
		const struct fs_table *u = fs_tables[k];
		/* records about records (conflicts, the change log) outlive them */
		if (u->flags & FS_TBL_NO_CONFLICT_ROWS)
			continue;
		for (int i = 0; rc == 0 && i < u->nfields; i++) {
			const struct fs_field *f = &u->fields[i];
			if (f->type == FS_T_REF && (f->flags & FS_F_IMMUTABLE) && !strcmp(f->ref, t->name))
				rc = fs_buf_printf(b, " AND NOT EXISTS (SELECT 1 FROM %s r WHERE r.%s = %s.id)", u->name,
						   f->name, t->name);
		}
	}
	return rc;
}

enum { C_TERR, C_DEVICES, C_LAPSED, C_ACKED, C_TOMB, C_EVICT, C_WAIT, C_DISPUTED, C_HORIZON, NCOL };

static int gc_territory(struct hq *h, struct hq_db *db, const char *terr, const char *cutoff,
			struct fieldsync_rows *out)
{
	const struct hq_backend *be = hq_be(h);
	struct fs_buf q;
	struct two dev = { 0, 0, 1 }, lapsed = { 0, 0, 1 }, old = { 0, 0, 1 };
	int64_t ack, top = 0, purged = 0, evicted = 0, waiting = 0, disputed = 0;
	struct fs_val p[2] = { fs_vref(terr), fs_vref(cutoff) };
	static const char *const in_scope =
		" FROM devices d JOIN reps r ON r.name = d.rep"
		" JOIN rep_territories rt ON rt.rep = d.rep AND rt.territory = $1"
		" LEFT JOIN device_acks a ON a.device = d.id AND a.territory = $1"
		" WHERE d.revoked = 0 AND r.revoked = 0 AND coalesce(d.last_seen, d.created_at) ";
	int rc = 0;
	fs_buf_init(&q, 0);
	rc = fs_buf_printf(&q, "SELECT count(*), min(coalesce(a.seq, 0))%s>= $2", in_scope);
	if (rc == 0)
		rc = be->exec(db, q.p, 2, p, two_row, &dev);
	fs_buf_reset(&q);
	if (rc == 0)
		rc = fs_buf_printf(&q, "SELECT count(*)%s< $2", in_scope);
	if (rc == 0)
		rc = be->exec(db, q.p, 2, p, two_row, &lapsed);
	/* nobody to wait for: everything may go */
	ack = dev.a > 0 && !dev.null_b ? dev.b : FS_INT_MAX_EXACT;
	p[1] = fs_vint(ack);
	/* children first: a parent is collectable once nothing refers to it */
	for (int i = fs_ntables - 1; rc == 0 && i >= 0; i--) {
		const struct fs_table *t = fs_tables[i];
		struct two n = { 0, 0, 1 }, w = { 0, 0, 1 }, d = { 0, 0, 1 };
		fs_buf_reset(&q);
		rc = fs_buf_printf(&q, "SELECT count(*) FROM %s WHERE scope = $1 AND deleted = 1 AND seq > $2", t->name);
		if (rc == 0)
			rc = be->exec(db, q.p, 2, p, two_row, &w);
		fs_buf_reset(&q);
		if (rc == 0)
			rc = fs_buf_printf(&q, " FROM %s WHERE scope = $1 AND deleted = 1 AND seq <= $2", t->name);
		if (rc == 0)
			rc = keep_clause(t, &q);
		if (rc == 0) {
			char *where = fs_buf_detach(&q), *sql = NULL;
			size_t len = where ? strlen(where) + 64 : 0;
			if (!where || !(sql = malloc(len)))
				rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
			if (rc == 0) {
				snprintf(sql, len, "SELECT count(*), max(seq)%s", where);
				rc = be->exec(db, sql, 2, p, two_row, &n);
			}
			if (rc == 0 && n.a > 0) {
				snprintf(sql, len, "DELETE%s", where);
				rc = be->exec(db, sql, 2, p, NULL, NULL);
			}
			if (rc == 0) {
				snprintf(sql, len, "SELECT count(*) FROM %s WHERE scope = $1 AND deleted = 1 AND seq <= $2",
					 t->name);
				rc = be->exec(db, sql, 2, p, two_row, &d);
			}
			free(where);
			free(sql);
		}
		purged += n.a;
		waiting += w.a;
		disputed += d.a;	/* what is left at or below the ack: kept on purpose */
		if (!n.null_b && n.b > top)
			top = n.b;
	}
	if (rc == 0) {
		struct two e = { 0, 0, 1 };
		rc = be->exec(db, "SELECT count(*), max(seq) FROM evictions WHERE scope = $1 AND seq <= $2", 2, p,
			      two_row, &e);
		if (rc == 0 && e.a > 0)
			rc = be->exec(db, "DELETE FROM evictions WHERE scope = $1 AND seq <= $2", 2, p, NULL, NULL);
		evicted = e.a;
		if (!e.null_b && e.b > top)
			top = e.b;
	}
	if (rc == 0)
		rc = be->exec(db, "SELECT seq, seq FROM gc_horizon WHERE territory = $1", 1, p, two_row, &old);
	if (rc == 0 && top > old.a) {
		char now[32];
		fs_iso_utc(fs_wall_ms(), now);
		struct fs_val u[3] = { fs_vref(terr), fs_vint(top), fs_vref(now) };
		rc = be->exec(db, "INSERT INTO gc_horizon (territory, seq, at) VALUES ($1, $2, $3)"
			      " ON CONFLICT (territory) DO UPDATE SET seq = excluded.seq, at = excluded.at",
			      3, u, NULL, NULL);
		old.a = top;
	}
	fs_buf_release(&q);
	if (rc)
		return rc;
	int row = fs_rows_add(out);
	if (row < 0)
		return row;
	if ((rc = fs_rows_set(out, row, C_TERR, terr)) || (rc = fs_rows_set_int(out, row, C_DEVICES, dev.a)) ||
	    (rc = fs_rows_set_int(out, row, C_LAPSED, lapsed.a)) ||
	    (dev.a > 0 && !dev.null_b && (rc = fs_rows_set_int(out, row, C_ACKED, dev.b))) ||
	    (rc = fs_rows_set_int(out, row, C_TOMB, purged)) || (rc = fs_rows_set_int(out, row, C_EVICT, evicted)) ||
	    (rc = fs_rows_set_int(out, row, C_WAIT, waiting)) || (rc = fs_rows_set_int(out, row, C_DISPUTED, disputed)))
		return rc;
	return fs_rows_set_int(out, row, C_HORIZON, old.a);
}

struct gc_run {
	struct fieldsync_rows *out;
	struct names terr;
};

static int gc_all(struct hq *h, struct hq_db *db, void *ctx)
{
	struct gc_run *x = ctx;
	struct fs_buf q;
	int64_t lapse = 0;
	char cutoff[32];
	int rc = hq_setting_int(h, db, "lapse_days", &lapse);
	fs_iso_utc(fs_wall_ms() - lapse * 86400000LL, cutoff);
	/* the territories with something to collect */
	fs_buf_init(&q, 0);
	for (int i = 0; rc == 0 && i < fs_ntables; i++)
		rc = fs_buf_printf(&q, "SELECT DISTINCT scope FROM %s WHERE deleted = 1 AND scope IS NOT NULL UNION ",
				   fs_tables[i]->name);
	if (rc == 0)
		rc = fs_buf_adds(&q, "SELECT DISTINCT scope FROM evictions");
	if (rc == 0)
		rc = hq_be(h)->exec(db, q.p, 0, NULL, name_row, &x->terr);
	fs_buf_release(&q);
	if (rc == 0 && x->terr.n > 1)
		qsort(x->terr.v, (size_t)x->terr.n, sizeof *x->terr.v, name_cmp);
	for (int i = 0; rc == 0 && i < x->terr.n; i++)
		rc = gc_territory(h, db, x->terr.v[i], cutoff, x->out);
	return rc;
}

int hq_gc(struct hq *h, int dry_run, struct fieldsync_rows **out)
{
	static const char *const cols[NCOL] = { "territory", "devices", "lapsed", "acked", "tombstones_purged",
		"evictions_purged", "waiting", "kept", "horizon" };
	struct gc_run x = { fs_rows_new(NCOL), { NULL, 0, 0 } };
	*out = NULL;
	int rc = x.out ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < NCOL; i++)
		rc = fs_rows_set_col(x.out, i, cols[i], i == C_TERR ? FS_T_TEXT : FS_T_INT);
	/* one write transaction; a dry run does the same work and rolls it back */
	if (rc == 0)
		rc = hq_write_batch(h, gc_all, &x, !dry_run);
	free(x.terr.v);
	if (rc) {
		fs_rows_free(x.out);
		return rc;
	}
	*out = x.out;
	return 0;
}
