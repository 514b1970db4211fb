/* replica.c - HQ's replica: reading and writing records, the clock, conflict resolution. */
#include "hq_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "query.h"
#include "replica.h"
#include "route.h"
#include "rowcodec.h"
#include "settings.h"
#include "wire.h"

static const char *const q_clock = "SELECT hlc FROM hq_clock WHERE id = 1";
static const char *const q_scope = "SELECT scope FROM customer WHERE id = $1";
static const char *const q_clock_set = "UPDATE hq_clock SET hlc = $1 WHERE id = 1 AND hlc < $1";
static const char *const q_evict = "INSERT INTO evictions (seq, scope, tbl, id) VALUES ($1, $2, $3, $4)";

/* ---- records ---- */

static int rec_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct rec_ctx *x = vctx;
	int n = FS_ROW_COLS(x->t);
	if (ncol < n + 2)
		return x->rc = fs_err(FIELDSYNC_EIO, "short row from the HQ store");
	x->rc = fs_rec_from_row(x->t, v, x->out);
	x->found = x->rc == 0;
	x->seq = v[n].t == FS_V_INT ? v[n].i : 0;
	snprintf(x->origin, sizeof x->origin, "%s", v[n + 1].t == FS_V_TEXT ? v[n + 1].s : "");
	return x->rc;
}

int hq_rec_get(struct hq *h, struct hq_db *db, const struct fs_table *t, const char *id, int lock,
		   struct fs_rec *out, struct rec_ctx *meta)
{
	struct rec_ctx x = { t, out, 0, 0, 0, "" };
	struct fs_val p = fs_vref(id);
	int rc = h->be->exec(db, lock ? h->q_lock[t->idx] : h->q_get[t->idx], 1, &p, rec_row, &x);
	if (rc == 0 && x.rc)
		rc = x.rc;
	if (rc == 0 && !x.found)
		rc = fs_err(FIELDSYNC_ENOTFOUND, "no %s with id %s", t->name, id);
	if (meta)
		*meta = x;
	return rc;
}

int hq_get(struct hq *h, struct hq_db *db, const struct fs_table *t, const char *id, int lock, struct fs_rec *out)
{
	return hq_rec_get(h, db, t, id, lock, out, NULL);
}

/* A write batch's state, kept on its connection (backend.h, hq_db_head):
 * a block of reserved sequence numbers and the scopes of the customers the
 * batch has touched. Open only between hq_batch_begin() and hq_batch_end()
 * on that connection; elsewhere everything is looked up afresh. */
#define SEQ_BLOCK 256
#define SCOPE_SLOTS 4096
struct batch_state {
	int open;
	int64_t seq_next, seq_end;
	char author_dev[33], author_rep[101];	/* the last device looked up (author_of) */
	uint64_t gen;	/* this batch's number: slots of others are stale */
	struct {
		uint64_t gen;
		char id[33], scope[65];
	} scope[SCOPE_SLOTS];
};

/* The connection's open batch, or NULL. */
static struct batch_state *batch_of(struct hq_db *db)
{
	struct batch_state *b = HQ_DB_HEAD(db)->batch;
	return b && b->open ? b : NULL;
}

int hq_batch_begin(struct hq_db *db)
{
	struct batch_state *b = HQ_DB_HEAD(db)->batch;
	if (!b && !(b = HQ_DB_HEAD(db)->batch = calloc(1, sizeof *b)))
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	b->open = 1;
	b->seq_next = b->seq_end = 0;
	b->author_dev[0] = '\0';	/* a device's rep may have changed since */
	b->gen++;
	return 0;
}

static const char *const q_seq_set = "UPDATE hq_seq SET seq = $1 WHERE id = 1";

/* End of the write batch's work: the unused rest of the reserved block is
 * given back (the counter is left at the last number used), so that the
 * counter always equals the highest sequence number in the store. Returns
 * rc, or the error of giving back. */
int hq_batch_end(struct hq *h, struct hq_db *db, int rc)
{
	struct batch_state *b = batch_of(db);
	if (!b)
		return rc;
	b->open = 0;
	if (rc == 0 && b->seq_next > 0 && b->seq_next <= b->seq_end) {
		struct fs_val p = fs_vint(b->seq_next - 1);
		rc = h->be->exec(db, q_seq_set, 1, &p, NULL, NULL);
	}
	return rc;
}

static unsigned scope_slot(const char *id)
{
	unsigned v = 0;
	for (int i = 0; i < 7 && id[i]; i++)
		v = v * 16 + (unsigned)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
	return v % SCOPE_SLOTS;
}

static void scope_note(struct hq_db *db, const char *id, const char *scope)
{
	struct batch_state *b = batch_of(db);
	if (!b)
		return;
	unsigned k = scope_slot(id);
	b->scope[k].gen = b->gen;
	snprintf(b->scope[k].id, sizeof b->scope[k].id, "%s", id);
	snprintf(b->scope[k].scope, sizeof b->scope[k].scope, "%s", scope);
}

static const char *const q_seq_block =
	"UPDATE hq_seq SET seq = seq + $1 WHERE id = 1 RETURNING seq";

/* The next change sequence number. The first one a transaction takes locks
 * the sequence row until commit, so sequence order is commit order; numbers
 * are reserved in blocks, one UPDATE per block, and hq_batch_end() gives back
 * what the transaction did not use. */
static int next_seq(struct hq *h, struct hq_db *db, int64_t *seq)
{
	struct batch_state *b = batch_of(db);
	if (b && b->seq_next > 0 && b->seq_next <= b->seq_end) {
		*seq = b->seq_next++;
		return 0;
	}
	int64_t n = b ? SEQ_BLOCK : 1, top = 0;
	struct fs_val p = fs_vint(n);
	int rc = h->be->exec(db, q_seq_block, 1, &p, hq_one_int, &top);
	if (rc == 0 && top <= 0)
		rc = fs_err(FIELDSYNC_EIO, "HQ change sequence is missing");
	if (rc)
		return rc;
	*seq = top - n + 1;
	if (b) {
		b->seq_next = *seq + 1;
		b->seq_end = top;
	}
	return 0;
}

/* ---- authors ---- */

const struct fs_dot *hq_author_dot(const struct fs_rec *r)
{
	if (!hq_authored(r->t))
		return NULL;
	int f = r->t == &fs_tbl_visit ? fs_field_find(r->t, "status") : -1;
	/* a visit is its reporter's once done, missed or cancelled */
	if (f >= 0 && r->f[f].dot.c && r->f[f].v.t == FS_V_TEXT && strcmp(r->f[f].v.s, "planned"))
		return &r->f[f].dot;
	f = fs_field_find(r->t, "customer_id");	/* required and immutable: written at creation */
	return f >= 0 && r->f[f].dot.c ? &r->f[f].dot : NULL;
}

/* "DEVICE\0REP" of a replica_owners row, malloc'd. */
static int owner_rep_row(void *ctx, int ncol, const struct fs_val *v)
{
	char **out = ctx;
	if (ncol < 2 || v[0].t != FS_V_TEXT || v[1].t != FS_V_TEXT || strlen(v[0].s) != 32)
		return 0;
	if (!(*out = malloc(33 + strlen(v[1].s) + 1)))
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	memcpy(*out, v[0].s, 33);
	strcpy(*out + 33, v[1].s);
	return 0;
}

/* The rep and device of a record's author: HQ itself ("HQ"), an enrolled
 * device (its rep), or a replica HQ does not know (the device only). The
 * batch remembers the last device looked up: a push is one device's. */
static int author_of(struct hq *h, struct hq_db *db, const struct fs_rec *r, char rep[101], char dev[33])
{
	const struct fs_dot *d = hq_author_dot(r);
	rep[0] = dev[0] = '\0';
	if (!d)
		return 0;
	if (!fs_rid_cmp(&d->rid, &h->self)) {
		strcpy(rep, "HQ");
		return 0;
	}
	fs_rid_fmt(&d->rid, dev);
	struct batch_state *b = batch_of(db);
	if (b && !strcmp(b->author_dev, dev)) {
		memcpy(rep, b->author_rep, 101);
		return 0;
	}
	char *found = NULL;
	struct fs_val p = fs_vref(dev);
	int rc = h->be->exec(db, "SELECT rep FROM devices WHERE id = $1", 1, &p, hq_one_text, &found);
	if (rc == 0 && !found) {	/* a store's id from before its enrolment */
		char *owner = NULL;
		rc = h->be->exec(db, "SELECT o.device, d.rep FROM replica_owners o JOIN devices d ON d.id = o.device"
				 " WHERE o.replica = $1", 1, &p, owner_rep_row, &owner);
		if (rc == 0 && owner) {
			snprintf(dev, 33, "%.32s", owner);
			found = strdup(owner + 33);
		}
		free(owner);
	}
	if (rc == 0 && found)
		snprintf(rep, 101, "%s", found);
	free(found);
	if (rc == 0 && b) {
		memcpy(b->author_dev, dev, 33);
		memcpy(b->author_rep, rep, 101);
	}
	return rc;
}

struct ll {
	double lat, lon;
	int have;
};

static int ll_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct ll *x = ctx;
	if (ncol >= 2 && v[0].t == FS_V_REAL && v[1].t == FS_V_REAL) {
		x->lat = v[0].r;
		x->lon = v[1].r;
		x->have = 1;
	}
	return 0;
}

/* A visit checked in at a position: its great-circle distance in metres
 * from its customer's position (*m < 0: either has none). */
static int visit_distance(struct hq *h, struct hq_db *db, const struct fs_rec *r, int64_t *m)
{
	int la = fs_field_find(r->t, "lat"), lo = fs_field_find(r->t, "lon"), c = fs_field_find(r->t, "customer_id");
	struct ll cust = { 0, 0, 0 };
	*m = -1;
	if (la < 0 || lo < 0 || c < 0 || r->f[la].v.t != FS_V_REAL || r->f[lo].v.t != FS_V_REAL ||
	    r->f[c].v.t != FS_V_TEXT)
		return 0;
	struct fs_val p = fs_vref(r->f[c].v.s);
	int rc = h->be->exec(db, "SELECT lat, lon FROM customer WHERE id = $1", 1, &p, ll_row, &cust);
	if (rc == 0 && cust.have && fs_route_distance(FS_ROUTE_GREAT_CIRCLE, r->f[la].v.r, r->f[lo].v.r, cust.lat,
						      cust.lon, m))
		*m = -1;
	return rc;
}

/* Store a version with the next sequence number. no_author: leave the
 * author columns as they are (a write credited to no one, or dependants
 * re-filed with their customer). */
static int rec_put(struct hq *h, struct hq_db *db, const struct fs_rec *r, const char *origin, int64_t *seq_out,
		   int no_author)
{
	int64_t dist = -1;
	struct fs_val row[FS_MAX_FIELDS + 12];
	char *enc[3], rep[101], dev[33];
	int64_t seq;
	int rc = next_seq(h, db, &seq);
	if (seq_out)
		*seq_out = seq;
	rep[0] = dev[0] = '\0';
	if (rc == 0 && hq_authored(r->t) && !no_author)
		rc = author_of(h, db, r, rep, dev);
	if (rc == 0 && r->t == &fs_tbl_visit)
		rc = visit_distance(h, db, r, &dist);
	if (rc)
		return rc;
	if ((rc = fs_rec_to_row(r, row, enc)))
		return rc;
	int n = FS_ROW_COLS(r->t);
	row[n] = fs_vint(seq);
	row[n + 1] = fs_vref(origin && *origin ? origin : NULL);
	if (hq_authored(r->t)) {
		row[n + 2] = fs_vref(rep[0] ? rep : NULL);
		row[n + 3] = fs_vref(dev[0] ? dev : NULL);
	}
	int np = n + 2 + 2 * hq_authored(r->t);
	if (r->t == &fs_tbl_visit)
		row[np++] = dist >= 0 ? fs_vint(dist) : fs_vref(NULL);
	rc = h->be->exec(db, h->q_put[r->t->idx], np, row, NULL, NULL);
	for (int k = 0; k < 3; k++)
		free(enc[k]);
	if (rc == 0 && r->t == &fs_tbl_customer)
		scope_note(db, r->id, r->scope);
	return rc;
}

int hq_clock_limit(struct hq *h, struct hq_db *db, int64_t *limit, int64_t *minutes)
{
	int64_t m = FS_CLOCK_AHEAD_DEFAULT;
	int rc = hq_setting_int(h, db, "clock_ahead_minutes", &m);
	*limit = fs_hlc_limit(fs_wall_ms(), m);
	if (minutes)
		*minutes = m;
	return rc;
}

/* HQ's next hlc. A clock already beyond the bound (poisoned by a write
 * accepted before HQ checked clocks, or a system date that was far ahead)
 * is not counted on from: it would run past 2^53 and stop every device's
 * sync; the repair is explicit (hq_repair_clock). */
static int next_hlc(struct hq *h, struct hq_db *db, int64_t *hlc)
{
	int64_t last = 0, lim, m;
	int rc = h->be->exec(db, q_clock, 0, NULL, hq_one_int, &last);
	if (rc == 0)
		rc = hq_clock_limit(h, db, &lim, &m);
	if (rc)
		return rc;
	if (last > lim) {
		char at[32];
		fs_iso_utc(fs_hlc_ms(last < FS_HLC_MAX ? last : FS_HLC_MAX), at);
		return fs_err(FIELDSYNC_ESTATE, "HQ's clock stands at %s, more than %" PRId64 " minutes ahead of the"
			      " system time: run 'fieldsyncd repair clock'", at, m);
	}
	*hlc = fs_hlc_next(last);
	struct fs_val p = fs_vint(*hlc);
	return h->be->exec(db, q_clock_set, 1, &p, NULL, NULL);
}

/* Only writes within the bound move HQ's clock (the caller checked). */
int hq_observe_hlc(struct hq *h, struct hq_db *db, int64_t hlc)
{
	struct fs_val p = fs_vint(hlc);
	return h->be->exec(db, q_clock_set, 1, &p, NULL, NULL);
}

/* Scope of a record at HQ: a customer's territory, or its customer's scope. */
int hq_scope_of(struct hq *h, struct hq_db *db, const struct fs_rec *r, char scope[65])
{
	int p = r->t->scope_field;
	scope[0] = '\0';
	if (p < 0)
		return 0;
	if (r->t->fields[p].flags & FS_F_SCOPE) {
		if (r->f[p].v.t != FS_V_TEXT)
			return fs_err(FIELDSYNC_EINVAL, "%s has no territory", r->t->name);
		snprintf(scope, 65, "%s", r->f[p].v.s);
		return 0;
	}
	if (r->f[p].v.t != FS_V_TEXT)
		return fs_err(FIELDSYNC_EINVAL, "%s has no customer", r->t->name);
	const char *cid = r->f[p].v.s;
	unsigned k = scope_slot(cid);
	struct batch_state *b = batch_of(db);
	if (b && b->scope[k].gen == b->gen && strcmp(b->scope[k].id, cid) == 0) {
		memcpy(scope, b->scope[k].scope, 65);
		return 0;
	}
	char *found = NULL;
	struct fs_val id = fs_vref(cid);
	int rc = h->be->exec(db, q_scope, 1, &id, hq_one_text, &found);
	if (rc == 0 && !found)
		rc = fs_err(FIELDSYNC_ENOTFOUND, "unknown customer %s", cid);
	if (rc == 0) {
		snprintf(scope, 65, "%s", found);
		scope_note(db, cid, scope);
	}
	free(found);
	return rc;
}

/* A customer changed territory: leave an eviction where it was, and move
 * its dependants along (new sequence numbers: a backfill where it went). */
static int move_customer(struct hq *h, struct hq_db *db, const char *id, const char *from, const char *to)
{
	int64_t seq;
	int rc = next_seq(h, db, &seq);
	if (rc)
		return rc;
	struct fs_val p[4] = { fs_vint(seq), fs_vref(from), fs_vref("customer"), fs_vref(id) };
	if ((rc = h->be->exec(db, q_evict, 4, p, NULL, NULL)))
		return rc;
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		if (!h->q_kids[i])
			continue;
		struct fs_ids k = { 0 };
		struct fs_val pid = fs_vref(id);
		rc = h->be->exec(db, h->q_kids[i], 1, &pid, fs_ids_row, &k);
		for (int j = 0; rc == 0 && j < k.n; j++) {
			struct fs_rec r;
			struct rec_ctx m;
			if ((rc = hq_rec_get(h, db, fs_tables[i], k.id[j], 1, &r, &m)))
				break;
			snprintf(r.scope, sizeof r.scope, "%s", to);
			/* no origin: a device that had it may have evicted it meanwhile */
			rc = rec_put(h, db, &r, NULL, NULL, 1);
			fs_rec_release(&r);
		}
		free(k.id);
	}
	return rc;
}

/* The replica engine (core/replica.h) over HQ's store: reads locked for
 * update, HQ's clock, the scope from HQ's customers, and storing a
 * version with its sequence number, territory move and clash records. */
struct hq_rp {
	struct hq *h;
	struct hq_db *db;
};

static int rp_get(void *ctx, const struct fs_table *t, const char *id, int lock, struct fs_rec *out)
{
	struct hq_rp *x = ctx;
	return hq_rec_get(x->h, x->db, t, id, lock, out, NULL);
}

static int rp_tick(void *ctx, int64_t *hlc)
{
	struct hq_rp *x = ctx;
	return next_hlc(x->h, x->db, hlc);
}

static int rp_scope(void *ctx, struct fs_rec *r, int fresh)
{
	struct hq_rp *x = ctx;
	(void)fresh;	/* HQ holds every customer: the scope is always looked up */
	return hq_scope_of(x->h, x->db, r, r->scope);
}

static int rp_store(void *ctx, const struct fs_rec *old, const struct fs_rec *r, int64_t hlc)
{
	struct hq_rp *x = ctx;
	(void)hlc;
	return hq_store_version(x->h, x->db, old, r, NULL, NULL, 0);
}

static void replica_of(struct hq_rp *x, struct fs_replica *rp)
{
	*rp = (struct fs_replica){ &x->h->self, x, rp_get, rp_tick, NULL, rp_scope, rp_store };
}

/* Store a new version: the row, the territory move if any, the conflicts. */
int hq_store_version(struct hq *h, struct hq_db *db, const struct fs_rec *old, const struct fs_rec *r,
			 const char *origin, int64_t *seq, int flags)
{
	int rc = rec_put(h, db, r, origin, seq, flags & HQ_STORE_NO_AUTHOR);
	if (rc == 0 && old && r->t == &fs_tbl_customer && old->scope[0] && strcmp(old->scope, r->scope))
		rc = move_customer(h, db, r->id, old->scope, r->scope);
	if (rc == 0) {
		struct hq_rp x = { h, db };
		struct fs_replica rp;
		replica_of(&x, &rp);
		rc = fs_replica_clashes(&rp, r);
	}
	return rc;
}

int hq_write_in(struct hq *h, struct hq_db *db, const struct fs_chg *c, const char *id, char id_out[33])
{
	struct hq_rp x = { h, db };
	struct fs_replica rp;
	replica_of(&x, &rp);
	return fs_replica_write(&rp, c, id, id_out);
}

struct batch {
	int (*fn)(struct hq *h, struct hq_db *db, void *ctx);
	void *ctx;
};

static int batch_run(struct hq *h, struct hq_db *db, void *vctx)
{
	struct batch *b = vctx;
	int rc = hq_batch_begin(db);
	return rc ? rc : hq_batch_end(h, db, b->fn(h, db, b->ctx));
}

int hq_write_batch(struct hq *h, int (*fn)(struct hq *h, struct hq_db *db, void *ctx), void *ctx, int commit)
{
	struct batch b = { fn, ctx };
	return hq_txn(h, commit ? HQ_TXN_WRITE : HQ_TXN_DRY_RUN, batch_run, &b);
}

struct one_write {
	const struct fs_chg *c;
	const char *id;
	char *id_out;
};

static int one_write(struct hq *h, struct hq_db *db, void *vctx)
{
	struct one_write *x = vctx;
	return hq_write_in(h, db, x->c, x->id, x->id_out);
}

int hq_write(struct hq *h, const struct fs_chg *c, const char *id, char id_out[33])
{
	struct one_write x = { c, id, id_out };
	return hq_write_batch(h, one_write, &x, 1);
}

struct resolve {
	const char *cid;
	int keep_loser;
};

static int resolve_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	const struct resolve *x = vctx;
	const struct fs_table *ct = &fs_tbl_conflict;
	const char *cid = x->cid;
	struct fs_rec k, r;
	int rc;
	if ((rc = hq_rec_get(h, db, ct, cid, 1, &k, NULL)) == 0) {
		const struct fs_val *tbl = &k.f[fs_field_find(ct, "tbl")].v, *rid = &k.f[fs_field_find(ct, "rec_id")].v;
		const struct fs_table *t = tbl->t == FS_V_TEXT ? fs_table_find(tbl->s) : NULL;
		if (!t || rid->t != FS_V_TEXT)
			rc = fs_err(FIELDSYNC_EIO, "conflict %s is malformed", cid);
		else if ((rc = hq_rec_get(h, db, t, rid->s, 1, &r, NULL)) == 0) {
			struct fs_chg field, res;
			char note[64];
			snprintf(note, sizeof note, "kept %s at HQ", x->keep_loser ? "loser" : "winner");
			if ((rc = fs_conflict_plan(&k, &r, x->keep_loser, note, &field, &res)) == 0) {
				rc = hq_write_in(h, db, &field, r.id, NULL);
				if (rc == 0)
					rc = hq_write_in(h, db, &res, cid, NULL);
				fs_chg_release(&field);
				fs_chg_release(&res);
			}
			fs_rec_release(&r);
		}
		fs_rec_release(&k);
	}
	return rc;
}

int hq_resolve(struct hq *h, const char *cid, int keep_loser)
{
	struct resolve x = { cid, keep_loser };
	return hq_write_batch(h, resolve_tx, &x, 1);
}

/* ---- clock repair ---- */

struct repair_ctx {
	long records;
	int64_t was;
};

static int repair_clock(struct hq *h, struct hq_db *db, void *vctx)
{
	struct repair_ctx *x = vctx;
	int64_t last = 0, limit;
	int rc = h->be->exec(db, q_clock, 0, NULL, hq_one_int, &last);
	if (rc == 0)
		rc = hq_clock_limit(h, db, &limit, NULL);
	if (rc == 0 && last > limit) {
		x->was = last;
		struct fs_val p = fs_vint(fs_wall_ms() * 1024);
		rc = h->be->exec(db, "UPDATE hq_clock SET hlc = $1 WHERE id = 1", 1, &p, NULL, NULL);
	}
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		struct fs_ids k = { 0 };
		char sql[128];
		struct fs_val p = fs_vint(limit);
		snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE hlc > $1 ORDER BY id", fs_tables[i]->name);
		rc = h->be->exec(db, sql, 1, &p, fs_ids_row, &k);
		for (int j = 0; rc == 0 && j < k.n; j++) {
			struct fs_rec r, old;
			int64_t hlc;
			if ((rc = hq_rec_get(h, db, fs_tables[i], k.id[j], 1, &r, NULL)))
				break;
			fs_rec_init(&old, r.t);
			rc = fs_rec_copy(&old, &r);
			if (rc == 0)
				rc = next_hlc(h, db, &hlc);
			int n = rc ? 0 : fs_rec_restamp(&r, limit, &h->self, hlc);
			if (n < 0)
				rc = n;
			if (rc == 0 && n > 0) {
				rc = hq_store_version(h, db, &old, &r, NULL, NULL, HQ_STORE_NO_AUTHOR);
				x->records++;
			}
			fs_rec_release(&old);
			fs_rec_release(&r);
		}
		free(k.id);
	}
	return rc;
}

struct clock_now {
	int64_t clock, limit;
};

static int clock_read(struct hq *h, struct hq_db *db, void *vctx)
{
	struct clock_now *x = vctx;
	int rc = h->be->exec(db, q_clock, 0, NULL, hq_one_int, &x->clock);
	return rc ? rc : hq_clock_limit(h, db, &x->limit, NULL);
}

int hq_clock_beyond(struct hq *h, int64_t *clock)
{
	struct clock_now x = { 0, 0 };
	int rc = hq_txn(h, HQ_TXN_READ, clock_read, &x);
	*clock = x.clock;
	return rc == 0 && x.clock > x.limit;
}

int hq_repair_clock(struct hq *h, int dry_run, long *records, int64_t *was)
{
	struct repair_ctx x = { 0, 0 };
	int rc = hq_write_batch(h, repair_clock, &x, !dry_run);
	*records = rc ? 0 : x.records;
	if (was)
		*was = rc ? 0 : x.was;
	return rc;
}

