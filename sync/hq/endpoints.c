/* endpoints.c - what devices call: authentication, push, pull, enrolment. */
#include "hq_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "query.h"
#include "rowcodec.h"
#include "hq_report.h"
#include "settings.h"
#include "wire.h"

static const char *const q_evict_feed =
	"SELECT seq, tbl, id FROM evictions WHERE scope = $1 AND seq > $2 AND seq <= $3 ORDER BY seq";

static int in_scope(const struct hq_device *d, const char *scope)
{
	for (int i = 0; i < d->nterr; i++)
		if (strcmp(d->terr[i], scope) == 0)
			return 1;
	return 0;
}

/* ---- auth ---- */

struct dev_ctx {
	struct hq_device *d;
	int found;
};

static int dev_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct dev_ctx *x = vctx;
	struct hq_device *d = x->d;
	if (ncol < 5)
		return 0;
	x->found = 1;
	snprintf(d->id, sizeof d->id, "%s", v[0].t == FS_V_TEXT ? v[0].s : "");
	snprintf(d->rep, sizeof d->rep, "%s", v[1].t == FS_V_TEXT ? v[1].s : "");
	snprintf(d->name, sizeof d->name, "%s", v[2].t == FS_V_TEXT ? v[2].s : "");
	d->revoked = (v[3].t == FS_V_INT && v[3].i) || (v[4].t == FS_V_INT && v[4].i);
	d->wipe = ncol > 5 && v[5].t == FS_V_INT && v[5].i;
	d->schema = FS_SCHEMA_VERSION;	/* the request's "schema" says otherwise */
	return 0;
}

static int terr_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct hq_device *d = ctx;
	if (ncol > 0 && v[0].t == FS_V_TEXT && d->nterr < HQ_MAX_TERR)
		snprintf(d->terr[d->nterr++], 65, "%s", v[0].s);
	return 0;
}

int hq_auth(struct hq *h, struct hq_db *db, const char *token, struct hq_device *out)
{
	char hash[65];
	memset(out, 0, sizeof *out);
	if (!token || strlen(token) < 16 || strlen(token) > 256)
		return fs_err(FIELDSYNC_EAUTH, "missing or malformed device token");
	hq_token_hash(token, hash);
	struct dev_ctx x = { out, 0 };
	struct fs_val p = fs_vref(hash);
	int rc = h->be->exec(db, "SELECT d.id, d.rep, d.name, d.revoked, r.revoked, r.wipe FROM devices d"
			     " JOIN reps r ON r.name = d.rep WHERE d.token_hash = $1", 1, &p, dev_row, &x);
	if (rc)
		return rc;
	if (!x.found)
		return fs_err(FIELDSYNC_EAUTH, "unknown device token");
	struct fs_val r = fs_vref(out->rep);
	rc = h->be->exec(db, "SELECT territory FROM rep_territories WHERE rep = $1 ORDER BY territory", 1, &r,
			 terr_row, out);
	if (rc == 0 && out->revoked)
		rc = fs_err(FIELDSYNC_EAUTH, "device revoked");
	return rc;
}

static int load_device(struct hq *h, struct hq_db *db, const char *id, struct hq_device *out)
{
	struct dev_ctx x = { out, 0 };
	struct fs_val p = fs_vref(id);
	memset(out, 0, sizeof *out);
	int rc = h->be->exec(db, "SELECT d.id, d.rep, d.name, d.revoked, r.revoked, r.wipe FROM devices d"
			     " JOIN reps r ON r.name = d.rep WHERE d.id = $1", 1, &p, dev_row, &x);
	if (rc == 0 && !x.found)
		return fs_err(FIELDSYNC_ENOTFOUND, "no device %s", id);
	struct fs_val r = fs_vref(out->rep);
	if (rc == 0)
		rc = h->be->exec(db, "SELECT territory FROM rep_territories WHERE rep = $1 ORDER BY territory", 1,
				 &r, terr_row, out);
	return rc;
}

/* ---- push ---- */

int hq_quarantine(struct hq *h, struct hq_db *db, const struct hq_device *d, const struct fs_rec *r,
		      const char *reason)
{
	char *vv = NULL, now[32];
	cJSON *j = fs_wire_rec_encode(r, NULL, FS_SCHEMA_VERSION);
	char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	int rc = fs_vv_encode(&r->vv, &vv);
	fs_iso_utc(fs_wall_ms(), now);
	if (rc == 0 && txt) {
		struct fs_val p[7] = { fs_vref(d->id), fs_vref(r->t->name), fs_vref(r->id), fs_vref(vv), fs_vref(reason),
			fs_vref(txt), fs_vref(now) };
		rc = h->be->exec(db, "INSERT INTO quarantine (device, tbl, rec_id, vv, reason, record, at)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7)"
				 " ON CONFLICT (device, tbl, rec_id, vv) DO NOTHING", 7, p, NULL, NULL);
	} else if (rc == 0) {
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	free(vv);
	free(txt);
	return rc;
}

/* ---- judging a version a device sent ----
 * Every value in it is checked as if a hostile rep wrote it: its clock, its
 * counters, whose writes it claims, what it refers to, where it lands. */

/* Counters above this are refused: no replica writes one record 2^48 times,
 * and headroom keeps every counter far from 2^53 (the JSON limit). */
#define HQ_COUNTER_MAX (1LL << 48)

/* Counters of other replicas are bounded (a device's own may run to the
 * wire limit: only its own writes would stop), and writes in `in` that the HQ version `old`
 * (NULL: none) has not seen are never HQ's own: HQ holds every write its
 * current replica id made (a restore gives HQ a new id), so such a dot is
 * forged. Other replicas' dots cannot be told from relays of writes HQ
 * lost in a restore, or a store's own writes from before its enrolment;
 * records name their author apart from the dots. */
static int check_authors(struct hq *h, const struct hq_device *d, const struct fs_rec *in, const struct fs_rec *old,
			 char *why, size_t n)
{
	struct fs_rid own;
	int have_own = fs_rid_parse(d->id, &own) == 0;
	for (int i = 0; i < in->vv.n; i++) {
		const struct fs_vv_ent *e = &in->vv.e[i];
		if (e->c > HQ_COUNTER_MAX && !(have_own && fs_rid_cmp(&e->rid, &own) == 0)) {
			snprintf(why, n, "a version counter is out of range");
			return 0;
		}
		if (fs_rid_cmp(&e->rid, &h->self) == 0 && e->c > (old ? fs_vv_get(&old->vv, &e->rid) : 0)) {
			snprintf(why, n, "it claims a write by HQ that HQ never made");
			return 0;
		}
	}
	return 0;
}

static int owner_row(void *ctx, int ncol, const struct fs_val *v)
{
	if (ncol > 0 && v[0].t == FS_V_TEXT)
		snprintf(ctx, 33, "%s", v[0].s);
	return 0;
}

/* The write that makes a record someone's (a visit's report, a payment's
 * or order line's creation), new here, is credited only when it is the
 * pushing device's own: a device cannot log for another. A replica id that
 * is no device's (the store's id before it was enrolled) is the first
 * pusher's from then on. */
static int check_author(struct hq *h, struct hq_db *db, const struct hq_device *d, const struct fs_rec *m,
			const struct fs_rec *old, int *unverified)
{
	const struct fs_dot *ad = hq_author_dot(m), *od = old ? hq_author_dot(old) : NULL;
	char rid[33], owner[33] = "";
	if (!ad || (od && fs_dot_same(ad, od)) || (old && fs_vv_covers(&old->vv, ad)))
		return 0;
	fs_rid_fmt(&ad->rid, rid);
	if (!strcmp(rid, d->id))
		return 0;
	struct fs_val p = fs_vref(rid);
	int rc = h->be->exec(db, "SELECT id FROM devices WHERE id = $1", 1, &p, owner_row, owner);
	if (rc == 0 && !owner[0])
		rc = h->be->exec(db, "SELECT device FROM replica_owners WHERE replica = $1", 1, &p, owner_row, owner);
	if (rc == 0 && !owner[0] && fs_rid_cmp(&ad->rid, &h->self)) {
		struct fs_val q[2] = { fs_vref(rid), fs_vref(d->id) };
		return h->be->exec(db, "INSERT INTO replica_owners (replica, device) VALUES ($1, $2)", 2, q, NULL, NULL);
	}
	/* another device's write, new here: a device re-sending what HQ lost in
	 * a restore does this, and so would one claiming another's work. The
	 * record is kept (nothing is lost); no one is credited with it. */
	if (rc == 0 && strcmp(owner, d->id))
		*unverified = 1;
	return rc;
}

/* Ids a record carries besides its own and its customer's: references to
 * other records (a visit's contact, an order line's visit) and the record a
 * change log entry or a conflict is about. Each must stay in the record's
 * territory: an id from another territory is how one would be reached. */
static int check_refs(struct hq *h, struct hq_db *db, const struct fs_rec *m, const struct fs_rec *old,
		      char *why, size_t n)
{
	const struct fs_table *t = m->t;
	int tf = fs_field_find(t, "tbl");
	for (int i = 0; i < t->nfields; i++) {
		const struct fs_field *f = &t->fields[i];
		const struct fs_table *rt = NULL;
		if (i == t->scope_field || m->f[i].v.t != FS_V_TEXT)
			continue;
		if (old && fs_val_eq(&old->f[i].v, &m->f[i].v))
			continue;	/* checked when it was set */
		if (f->type == FS_T_REF)
			rt = fs_table_find(f->ref);
		else if (!strcmp(f->name, "rec_id") && tf >= 0 && m->f[tf].v.t == FS_V_TEXT)
			rt = fs_table_find(m->f[tf].v.s);
		if (!rt)
			continue;
		char *scope = NULL;
		struct fs_val p = fs_vref(m->f[i].v.s);
		int rc = h->be->exec(db, h->q_scope[rt->idx], 1, &p, hq_one_text, &scope);
		if (rc == 0 && scope && strcmp(scope, m->scope))
			snprintf(why, n, "%s refers to a %s of another territory", f->name, rt->name);
		free(scope);
		if (rc || why[0])
			return rc;
	}
	return 0;
}

/* Judge the version `in` a device sent, against HQ's `old` (NULL: none):
 * on 0 with why[0] == 0 it is acceptable and *m (initialised here) is the
 * merged version with its scope; on 0 with a reason in why it is refused;
 * a negative code is a store failure. limit: the clock bound. */
static int judge(struct hq *h, struct hq_db *db, const struct hq_device *d, const struct fs_rec *in,
		 const struct fs_rec *old, int64_t limit, struct fs_rec *m, char *why, size_t n, int *unverified)
{
	int64_t mx = fs_rec_max_hlc(in);
	int rc;
	why[0] = '\0';
	fs_rec_init(m, in->t);
	if (mx > limit) {
		char at[32], hq[32];
		fs_iso_utc(fs_hlc_ms(mx < FS_HLC_MAX ? mx : FS_HLC_MAX), at);
		fs_iso_utc(fs_wall_ms(), hq);
		snprintf(why, n, "clock: a write is stamped %s, too far ahead of HQ's clock (%s); set the"
			 " device's date and time, then run 'fieldsync repair clock' on it", at, hq);
		return 0;
	}
	if ((rc = check_authors(h, d, in, old, why, n)) || why[0])
		return rc;
	if (in->t == &fs_tbl_conflict && !old) {
		snprintf(why, n, "conflict records are made by HQ's merge, and HQ holds no such conflict");
		return 0;
	}
	rc = old ? fs_merge(old, in, m) : fs_rec_copy(m, in);
	/* a device of an older schema never erases the fields it cannot see */
	if (rc == 0 && d->schema < FS_SCHEMA_VERSION)
		rc = fs_rec_keep_unknown(m, old, d->schema);
	if (rc)
		return rc;
	for (int i = 0; i < in->t->nfields; i++) {
		const struct fs_field *f = &in->t->fields[i];
		if ((f->flags & FS_F_REQUIRED) && m->f[i].v.t == FS_V_NULL) {
			snprintf(why, n, "a required field is missing");
			return 0;
		}
		if (old && (f->flags & FS_F_IMMUTABLE) && old->f[i].dot.c && !fs_val_eq(&old->f[i].v, &m->f[i].v)) {
			snprintf(why, n, "a field that cannot change was changed");
			return 0;
		}
	}
	char scope[65];
	rc = hq_scope_of(h, db, m, scope);
	if (rc == FIELDSYNC_ENOTFOUND || rc == FIELDSYNC_EINVAL) {
		fs_err_clear();
		snprintf(why, n, "its customer is unknown at HQ");
		return 0;
	}
	if (rc)
		return rc;
	if (!in_scope(d, scope)) {
		snprintf(why, n, "%s", in->t == &fs_tbl_customer ? "territory is not one of the rep's"
			 : "out of scope: its customer belongs to another territory");
		return 0;
	}
	snprintf(m->scope, sizeof m->scope, "%s", scope);
	if ((rc = check_refs(h, db, m, old, why, n)) || why[0])
		return rc;
	return check_author(h, db, d, m, old, unverified);
}

/* Merge one pushed record. Returns 0 with why[0] == 0 (accepted, merged vv
 * in *vv_out, its hlc in *hlc_out), 0 with a reason in why (rejected), or a
 * negative code (store failure: the whole batch is rolled back). */
static int merge_in(struct hq *h, struct hq_db *db, const struct hq_device *d, const struct fs_rec *in,
		    int64_t in_q, int64_t limit, char *why, size_t nwhy, struct fs_vv *vv_out, int64_t *seq_out,
		    char scope_out[65], int64_t *hlc_out, cJSON **current)
{
	struct fs_rec old, m;
	struct rec_ctx meta;
	int rc = hq_rec_get(h, db, in->t, in->id, 1, &old, &meta), have = rc == 0;
	why[0] = '\0';
	if (rc && rc != FIELDSYNC_ENOTFOUND)
		return rc;
	fs_err_clear();
	*current = NULL;
	/* The device had this record from HQ (in_q: the HQ version it last
	 * reflected), and HQ holds nothing: only garbage collection removes a
	 * row, so it was deleted here and its tombstone purged (gc.c) while the
	 * device was away. Storing it would bring a deleted record back. */
	if (!have && in_q > 0) {
		if (!fs_rec_deleted(in)) {
			snprintf(why, nwhy, "deleted at HQ while this device was away (tombstone purged); kept for review");
			return 0;
		}
		/* a deletion HQ had, and has collected since: nothing to store */
		*seq_out = in_q;
		snprintf(scope_out, 65, "%s", in->scope);
		return fs_vv_copy(vv_out, &in->vv);
	}
	if (have && !in_scope(d, old.scope)) {
		fs_rec_release(&old);
		snprintf(why, nwhy, "out of scope: the record belongs to another territory");
		return 0;
	}
	int unverified = 0;
	rc = judge(h, db, d, in, have ? &old : NULL, limit, &m, why, nwhy, &unverified);
	if (rc == 0 && !why[0]) {
		*seq_out = have ? meta.seq : 0;
		*hlc_out = m.hlc;
		memcpy(scope_out, m.scope, 65);
		if (!have || !fs_rec_same(&old, &m) || strcmp(old.scope, m.scope)) {
			/* origin: the device already holds exactly this version, under
			 * the same scope (else an eviction there could remove it) */
			int echo = fs_rec_same(&m, in) && strcmp(m.scope, in->scope) == 0;
			rc = hq_store_version(h, db, have ? &old : NULL, &m, echo ? d->id : NULL, seq_out,
					      unverified ? HQ_STORE_NO_AUTHOR : 0);
		}
		if (rc == 0)
			rc = fs_vv_copy(vv_out, &m.vv);
	}
	/* a refused write leaves the device: it gets the version it may hold */
	if (rc == 0 && why[0] && have && in_scope(d, old.scope)) {
		*current = fs_wire_rec_encode(&old, old.scope, d->schema);
		if (*current)
			cJSON_AddNumberToObject(*current, "q", (double)meta.seq);
	}
	if (have)
		fs_rec_release(&old);
	fs_rec_release(&m);
	return rc;
}

/* The push's one write batch: every record judged and stored, the answers
 * in request order. */
struct push_ctx {
	const struct hq_device *d;
	struct fs_rec *recs;
	const int64_t *qs;
	int n;
	cJSON *out;
	int *accepted, *rejected;
};

static int push_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct push_ctx *x = vctx;
	const struct hq_device *d = x->d;
	struct fs_rec *recs = x->recs;
	int n = x->n;
	int64_t max_hlc = 0, limit = 0;
	int rc = hq_clock_limit(h, db, &limit, NULL);
	/* answers in request order; conflict records merged after the rest of
	 * the batch, so that the record whose merge makes a conflict at HQ comes
	 * first and the device's copy of that conflict finds it held */
	cJSON **res = rc ? NULL : calloc((size_t)n + 1, sizeof *res);
	if (rc == 0 && !res)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	*x->accepted = *x->rejected = 0;
	for (int pass = 0; rc == 0 && pass < 2; pass++)
	for (int k = 0; rc == 0 && k < n; k++) {
		if ((recs[k].t == &fs_tbl_conflict) != pass)
			continue;
		char why[256];
		struct fs_vv vv = { 0 };
		int64_t seq = 0, hlc = 0;
		char scope[65] = "";
		cJSON *current = NULL;
		rc = merge_in(h, db, d, &recs[k], x->qs[k], limit, why, sizeof why, &vv, &seq, scope, &hlc, &current);
		if (rc == 0 && why[0])
			rc = hq_quarantine(h, db, d, &recs[k], why);
		if (rc == 0) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "t", recs[k].t->name);
			cJSON_AddStringToObject(o, "id", recs[k].id);
			cJSON_AddBoolToObject(o, "ok", !why[0]);
			if (why[0]) {
				cJSON_AddStringToObject(o, "reason", why);
				if (current)
					cJSON_AddItemToObject(o, "current", current), current = NULL;
				(*x->rejected)++;
			} else {
				cJSON_AddItemToObject(o, "vv", fs_wire_vv_encode(&vv));
				cJSON_AddNumberToObject(o, "q", (double)seq);
				cJSON_AddStringToObject(o, "scope", scope);
				if (hlc > max_hlc)
					max_hlc = hlc;
				(*x->accepted)++;
			}
			res[k] = o;
		}
		cJSON_Delete(current);
		fs_vv_release(&vv);
	}
	/* HQ's clock follows what it accepted, all of it within the bound */
	if (rc == 0 && max_hlc)
		rc = hq_observe_hlc(h, db, max_hlc);
	for (int k = 0; res && k < n; k++)
		if (rc == 0)
			cJSON_AddItemToArray(x->out, res[k]);
		else
			cJSON_Delete(res[k]);
	free(res);
	if (rc == 0 && h->lim.hold_ms > 0)
		usleep((useconds_t)h->lim.hold_ms * 1000);	/* tests: a slow writer holding the lock */
	return rc;
}

int hq_push(struct hq *h, const struct hq_device *d, const cJSON *records, const char *hq_id, cJSON **results,
	    int *accepted, int *rejected)
{
	/* q counts only in the sequence of this HQ store, not of one restored over */
	int same_hq = hq_id && !strcmp(hq_id, h->self_hex);
	int n = cJSON_GetArraySize(records), rc = 0, i = 0;
	struct fs_rec *recs;
	int64_t *qs;
	*results = NULL;
	*accepted = *rejected = 0;
	if (n > h->lim.max_batch)
		return fs_err(FIELDSYNC_ELIMIT, "batch of %d records; the limit is %d", n, h->lim.max_batch);
	recs = calloc((size_t)n + 1, sizeof *recs);
	qs = calloc((size_t)n + 1, sizeof *qs);
	if (!recs || !qs) {
		free(recs);
		free(qs);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	/* decode everything first: a malformed record rejects the request, untouched */
	for (const cJSON *e = records->child; e && rc == 0; e = e->next, i++) {
		rc = fs_wire_rec_decode(e, &recs[i]);
		/* q: the HQ version the device's copy reflects; it counts only in
		 * the sequence of this HQ store (same_hq), not of one restored over */
		if (rc == 0 && same_hq && cJSON_GetObjectItemCaseSensitive(e, "q") &&
		    fs_wire_int(e, "q", 1, FS_INT_MAX_EXACT, &qs[i]))
			rc = fs_err(FIELDSYNC_EINVAL, "\"q\" must be a sequence number");
		if (rc)
			fs_err_wrap(rc, "records[%d]", i);
	}
	cJSON *out = rc ? NULL : cJSON_CreateArray();
	if (rc == 0 && !out)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	struct push_ctx x = { d, recs, qs, n, out, accepted, rejected };
	if (rc == 0)
		rc = hq_write_batch(h, push_tx, &x, 1);	/* nothing is acknowledged before its commit */
	for (int k = 0; k < n; k++)
		fs_rec_release(&recs[k]);
	free(recs);
	free(qs);
	if (rc) {
		cJSON_Delete(out);
		*accepted = *rejected = 0;
		return rc;
	}
	*results = out;
	return 0;
}

/* ---- accepting a quarantined write (web.h) ---- */

static int dev_row(void *vctx, int ncol, const struct fs_val *v);
static int terr_row(void *ctx, int ncol, const struct fs_val *v);

/* A device by its id (revoked or not), with its rep's territories now. */
static int load_device(struct hq *h, struct hq_db *db, const char *id, struct hq_device *out);

int hq_accept_locked(struct hq *h, struct hq_db *db, const char *device, const struct fs_rec *in,
		     const char *into, char scope_out[65])
{
	int unverified = 0;
	struct fs_rec old, m;
	struct hq_device d;
	char why[256];
	int64_t limit;
	int rc = load_device(h, db, device, &d);
	if (rc)
		return rc;
	rc = hq_rec_get(h, db, in->t, in->id, 1, &old, NULL);
	int have = rc == 0;
	if (rc && rc != FIELDSYNC_ENOTFOUND)
		return rc;
	fs_err_clear();
	/* accepted as if that device pushed it now: the same judge, with its
	 * rep's territories as they are today */
	if (have && !in_scope(&d, old.scope)) {
		rc = fs_err(FIELDSYNC_EINVAL, "cannot accept: the record is in territory %s, not one of %s's",
			    old.scope, d.rep);
		fs_rec_release(&old);
		return rc;
	}
	/* a record for a territory that is not the rep's goes in only where
	 * the admin named that territory: a decision taken knowingly */
	int sf = in->t->scope_field;
	if (into && *into && sf >= 0 && in->f[sf].v.t == FS_V_TEXT && !strcmp(in->f[sf].v.s, into) &&
	    !in_scope(&d, into) && d.nterr < HQ_MAX_TERR)
		snprintf(d.terr[d.nterr++], sizeof d.terr[0], "%s", into);
	rc = hq_clock_limit(h, db, &limit, NULL);
	if (rc == 0)
		rc = judge(h, db, &d, in, have ? &old : NULL, limit, &m, why, sizeof why, &unverified);
	if (rc == 0 && why[0]) {
		if (!strcmp(why, "territory is not one of the rep's") && in->t->scope_field >= 0 &&
		    in->f[in->t->scope_field].v.t == FS_V_TEXT)
			rc = fs_err(FIELDSYNC_EINVAL, "cannot accept: territory %s is not one of %s's"
				    " (accept it into %s to create it there)", in->f[in->t->scope_field].v.s, d.rep,
				    in->f[in->t->scope_field].v.s);
		else
			rc = fs_err(FIELDSYNC_EINVAL, "cannot accept: %s", why);
	}
	if (rc == 0 && (!have || !fs_rec_same(&old, &m) || strcmp(old.scope, m.scope)))
		rc = hq_store_version(h, db, have ? &old : NULL, &m, NULL, NULL, unverified ? HQ_STORE_NO_AUTHOR : 0);
	if (rc == 0)
		rc = hq_observe_hlc(h, db, m.hlc);
	if (rc == 0 && scope_out)
		memcpy(scope_out, m.scope, 65);
	if (have)
		fs_rec_release(&old);
	fs_rec_release(&m);
	return rc;
}

/* ---- pull ---- */

struct cut_ctx {
	int64_t last;
	int n;
};

static int cut_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct cut_ctx *x = vctx;
	if (ncol > 0 && v[0].t == FS_V_INT) {
		x->last = v[0].i;
		x->n++;
	}
	return 0;
}

struct item {
	int64_t seq;
	cJSON *j;
};

struct feed_ctx {
	const struct fs_table *t;
	const struct hq_device *d;
	struct item *items;
	int n, cap, rc;
	int evict;
	int echo_ok;	/* skipping the device's own versions is safe */
};

static int feed_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct feed_ctx *x = vctx;
	cJSON *j = NULL;
	int64_t seq;
	if (x->n == x->cap)
		return x->rc = fs_err(FIELDSYNC_EIO, "feed page overflow");
	if (x->evict) {
		if (ncol < 3)
			return 0;
		seq = v[0].i;
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "evict", v[1].s);
		cJSON_AddStringToObject(j, "id", v[2].s);
		cJSON_AddNumberToObject(j, "q", (double)seq);
	} else {
		int n = FS_ROW_COLS(x->t);
		struct fs_rec r;
		if (ncol < n + 2)
			return 0;
		seq = v[n].i;
		/* the device already holds exactly this version: skip, cursor still moves */
		if (x->echo_ok && v[n + 1].t == FS_V_TEXT && strcmp(v[n + 1].s, x->d->id) == 0)
			return 0;
		if ((x->rc = fs_rec_from_row(x->t, v, &r)))
			return x->rc;
		j = fs_wire_rec_encode(&r, r.scope, x->d->schema);
		fs_rec_release(&r);
		if (j)
			cJSON_AddNumberToObject(j, "q", (double)seq);
	}
	if (!j)
		return x->rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	x->items[x->n].seq = seq;
	x->items[x->n].j = j;
	x->n++;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One territory's slice of a page: rows with cursor < seq <= cut, in order.
 * During a backfill (a territory the device does not hold yet, or held and
 * dropped) it may lack rows it once pushed itself: send everything. */
static int pull_slice(struct hq *h, struct hq_db *db, const struct hq_device *d, const char *scope,
		      int64_t from, int backfill, int limit, cJSON *changes, int64_t *to, int *more, int *nrec);

static int pull_scope(struct hq *h, struct hq_db *db, const struct hq_device *d, const char *scope,
		      int64_t from, int backfill, int limit, cJSON *changes, int64_t *to, int *more, int *nrec)
{
	/* Rows the device already holds (its own pushes) are skipped, not sent:
	 * keep reading slices until the page is full, so that a device that
	 * pushed thousands of records does not pull back as many empty pages
	 * (bounded: at most 10 slices a request). */
	int rc = 0, sent = cJSON_GetArraySize(changes), start = sent;
	*to = from;
	*more = 0;
	for (int round = 0; rc == 0 && round < 10; round++) {
		int m = 0, left = limit - (sent - start);
		if (left <= 0) {
			*more = 1;
			break;
		}
		rc = pull_slice(h, db, d, scope, *to, backfill, left, changes, to, &m, nrec);
		sent = cJSON_GetArraySize(changes);
		*more = m;
		if (!m)
			break;
	}
	return rc;
}

static int pull_slice(struct hq *h, struct hq_db *db, const struct hq_device *d, const char *scope,
		      int64_t from, int backfill, int limit, cJSON *changes, int64_t *to, int *more, int *nrec)
{
	struct cut_ctx cut = { from, 0 };
	struct fs_val p[4] = { fs_vref(scope), fs_vint(from), fs_vint(limit), fs_vref(d->rep) };
	int rc = h->be->exec(db, h->q_cut, 3, p, cut_row, &cut);
	*to = from;
	*more = cut.n >= limit;
	if (rc || cut.n == 0)
		return rc;
	struct feed_ctx x = { NULL, d, calloc((size_t)cut.n + 1, sizeof(struct item)), 0, cut.n + 1, 0, 0, !backfill };
	if (!x.items)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	p[2] = fs_vint(cut.last);
	for (int i = 0; rc == 0 && i <= fs_ntables; i++) {
		x.t = i < fs_ntables ? fs_tables[i] : NULL;
		x.evict = i == fs_ntables;
		/* a visit assigned to a rep goes to that rep's devices only ($4) */
		rc = h->be->exec(db, x.evict ? q_evict_feed : h->q_feed[i], x.t == &fs_tbl_visit ? 4 : 3, p,
				 feed_row, &x);
		if (rc == 0)
			rc = x.rc;
	}
	qsort(x.items, (size_t)x.n, sizeof *x.items, item_cmp);
	for (int i = 0; i < x.n; i++) {
		cJSON *j = x.items[i].j;
		if (rc == 0) {
			if (!cJSON_GetObjectItemCaseSensitive(j, "scope"))
				cJSON_AddStringToObject(j, "scope", scope);
			cJSON_AddItemToArray(changes, j);
			*nrec += cJSON_GetObjectItemCaseSensitive(j, "evict") == NULL;
		} else {
			cJSON_Delete(j);
		}
	}
	free(x.items);
	if (rc == 0)
		*to = cut.last;
	return rc;
}

struct horizon_ctx {
	const struct hq_device *d;
	int64_t *seq;
};

static int horizon_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct horizon_ctx *x = vctx;
	if (ncol < 2 || v[0].t != FS_V_TEXT || v[1].t != FS_V_INT)
		return 0;
	for (int i = 0; i < x->d->nterr; i++)
		if (!strcmp(x->d->terr[i], v[0].s))
			x->seq[i] = v[1].i;
	return 0;
}

/* A {"territory": sequence number} object from a request, or absent. */
static int seq_object(const cJSON *o, const char *what)
{
	if (o && !cJSON_IsObject(o))
		return fs_err(FIELDSYNC_EINVAL, "\"%s\" is not an object", what);
	for (const cJSON *c = o ? o->child : NULL; c; c = c->next)
		if (!cJSON_IsNumber(c) || c->valuedouble != (double)(int64_t)c->valuedouble ||
		    c->valuedouble > (double)FS_INT_MAX_EXACT || c->valuedouble < -(double)FS_INT_MAX_EXACT)
			return fs_err(FIELDSYNC_EINVAL, "%s values are sequence numbers", what);
	return 0;
}

/* The pull's one read transaction: per territory of the device, the
 * changes after its cursor, then HQ's settings. */
struct pull_ctx {
	const struct hq_device *d;
	const cJSON *cursor, *resync;
	int64_t catalogue;	/* the price list's mark the device holds; -1: it keeps none */
	int limit;
	cJSON *out, *changes, *cur, *terr, *rsout;
	int *nrec, more;
};

static int pull_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct pull_ctx *x = vctx;
	const struct hq_device *d = x->d;
	const cJSON *cursor = x->cursor, *resync = x->resync;
	int64_t hz[HQ_MAX_TERR] = { 0 };
	struct horizon_ctx hx = { d, hz };
	int rc, more = 0;
	/* per territory, the highest sequence number garbage collection took */
	rc = h->be->exec(db, "SELECT territory, seq FROM gc_horizon", 0, NULL, horizon_row, &hx);
	for (int i = 0; i < d->nterr && rc == 0; i++) {
		/* cursor per territory: the last sequence number sent; negative while
		 * a backfill of the territory is under way */
		const cJSON *c = cursor ? cJSON_GetObjectItemCaseSensitive(cursor, d->terr[i]) : NULL;
		const cJSON *r = resync ? cJSON_GetObjectItemCaseSensitive(resync, d->terr[i]) : NULL;
		int64_t from = c ? (int64_t)c->valuedouble : 0;
		int backfill = !c || from < 0, m = 0, left = x->limit - cJSON_GetArraySize(x->changes);
		from = from < 0 ? -from : from;
		/* A settled cursor below the horizon may have missed a collected
		 * tombstone or eviction: the device resyncs the territory, a
		 * backfill from 0 after which it drops what the backfill did not
		 * bring. While it runs, the request's resync member names the
		 * horizon it started under and the resync goes on; any other
		 * unsettled cursor (a backfill, or a resync under an older
		 * horizon) starts one. A settled cursor at or above the horizon
		 * is an ordinary pull, and ends a resync. */
		int rs = 0;
		if (hz[i] > 0 && !resync && backfill) {
			/* a client that does not know resyncs (it sends no resync
			 * member): its backfill goes on, never restarted */
		} else if (hz[i] > 0 && (backfill || from < hz[i])) {
			rs = 1;
			if (!(backfill && r && (int64_t)r->valuedouble == hz[i])) {
				from = 0;
				c = NULL;
				backfill = 1;
			}
		}
		int64_t to = from;
		cJSON_AddItemToArray(x->terr, cJSON_CreateString(d->terr[i]));
		if (rs) {
			char num[32];
			snprintf(num, sizeof num, "%lld", (long long)hz[i]);
			cJSON_AddItemToObject(x->rsout, d->terr[i], cJSON_CreateRaw(num));
		}
		if (left > 0 && !more)
			rc = pull_scope(h, db, d, d->terr[i], from, backfill, left, x->changes, &to, &m, x->nrec);
		else
			m = 1;
		more |= m;
		if (backfill && m && to == 0)
			continue;	/* not started: stays absent, so still a backfill next time */
		/* all of the territory sent: nothing is left up to the horizon */
		if (!m && to < hz[i])
			to = hz[i];
		char num[32];
		snprintf(num, sizeof num, "%lld", (long long)(backfill && m ? -to : to));
		cJSON_AddItemToObject(x->cur, d->terr[i], cJSON_CreateRaw(num));
	}
	if (rc == 0)
		rc = hq_settings_reply(h, db, x->out);	/* HQ's settings ride along (hq_report.h) */
	if (rc == 0 && x->catalogue >= 0) {
		int m = 0;	/* and the price list's changes (catalogue.c) */
		rc = hq_catalogue_feed(h, db, x->catalogue, x->out, &m);
		more |= m;
	}
	x->more = more;
	return rc;
}

int hq_pull(struct hq *h, struct hq_db *db, const struct hq_device *d, const cJSON *cursor, const cJSON *resync,
	    int64_t catalogue, int limit, cJSON *out, int *nrec)
{
	struct pull_ctx x = { d, cursor, resync, catalogue, limit, out, cJSON_AddArrayToObject(out, "changes"),
			      cJSON_AddObjectToObject(out, "cursor"), NULL, NULL, nrec, 0 };
	cJSON *drop = cJSON_AddArrayToObject(out, "drop");
	int rc;
	x.terr = cJSON_AddArrayToObject(out, "territories");
	x.rsout = cJSON_CreateObject();
	*nrec = 0;
	if (!x.changes || !x.cur || !drop || !x.terr || !x.rsout) {
		cJSON_Delete(x.rsout);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	if ((rc = seq_object(cursor, "cursor")) || (rc = seq_object(resync, "resync"))) {
		cJSON_Delete(x.rsout);
		return rc;
	}
	/* territories the device still holds but may no longer see */
	for (const cJSON *c = cursor ? cursor->child : NULL; c; c = c->next)
		if (!in_scope(d, c->string))
			cJSON_AddItemToArray(drop, cJSON_CreateString(c->string));
	rc = hq_txn_on(h, db, HQ_TXN_READ, pull_tx, &x);
	if (x.rsout->child)
		cJSON_AddItemToObject(out, "resync", x.rsout);
	else
		cJSON_Delete(x.rsout);
	cJSON_AddBoolToObject(out, "more", x.more);
	cJSON_AddStringToObject(out, "rep", d->rep);
	/* a device that knew another id talks to a restored store: it must start over */
	cJSON_AddStringToObject(out, "hq_id", h->self_hex);
	/* a device whose date is behind judges clocks against HQ's */
	cJSON_AddNumberToObject(out, "now_ms", (double)fs_wall_ms());
	return rc;
}

/* ---- enrolment ---- */

struct tok_ctx {
	char rep[101], nonce[65], device[33], used_at[32];
	int64_t expires;
	int used, found;
};

static int tok_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct tok_ctx *x = vctx;
	if (ncol < 5)
		return 0;
	x->found = 1;
	snprintf(x->rep, sizeof x->rep, "%s", v[0].t == FS_V_TEXT ? v[0].s : "");
	x->expires = v[1].t == FS_V_INT ? v[1].i : 0;
	x->used = v[2].t != FS_V_NULL;
	snprintf(x->used_at, sizeof x->used_at, "%s", v[2].t == FS_V_TEXT ? v[2].s : "");
	snprintf(x->nonce, sizeof x->nonce, "%s", v[3].t == FS_V_TEXT ? v[3].s : "");
	snprintf(x->device, sizeof x->device, "%s", v[4].t == FS_V_TEXT ? v[4].s : "");
	return 0;
}

/* An answer to an enrolment can be lost; the device then repeats it with
 * the same token and nonce. Within this many seconds of the first use it
 * gets the same answer; after it, or once the token has expired, nothing. */
#define ENROLL_RETRY_S 600

/* HQ's secret for device tokens (hq_meta "enroll_secret"), made once. */
static int enroll_secret(struct hq *h, struct hq_db *db, unsigned char key[32])
{
	char *hex = NULL, fresh[65];
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	fs_hex(raw, sizeof raw, fresh);
	struct fs_val p = fs_vref(fresh);
	int rc = h->be->exec(db, "INSERT INTO hq_meta (key, value) VALUES ('enroll_secret', $1)"
			     " ON CONFLICT (key) DO NOTHING", 1, &p, NULL, NULL);
	if (rc == 0)
		rc = h->be->exec(db, "SELECT value FROM hq_meta WHERE key = 'enroll_secret'", 0, NULL, hq_one_text, &hex);
	if (rc == 0 && (!hex || strlen(hex) != 64 || fs_unhex(hex, 64, key)))
		rc = fs_err(FIELDSYNC_EIO, "HQ's enrolment secret is unreadable");
	free(hex);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(fresh, sizeof fresh);
	return rc;
}

/* The device token for (enrolment token, device, nonce): a keyed hash with
 * HQ's secret, so that a retry of a lost answer gets the very same token
 * without HQ keeping it (HQ stores only its hash), and nobody without both
 * the enrolment token and HQ's secret can compute it. */
static void device_token(const unsigned char key[32], const char *token, const char *rid, const char *nonce,
			 char out[65])
{
	unsigned char t[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, key, 32, sizeof t);
	crypto_generichash_update(&st, (const unsigned char *)"fieldsync device token", 23);
	crypto_generichash_update(&st, (const unsigned char *)token, strlen(token) + 1);
	crypto_generichash_update(&st, (const unsigned char *)rid, strlen(rid) + 1);
	crypto_generichash_update(&st, (const unsigned char *)(nonce ? nonce : ""), nonce ? strlen(nonce) : 0);
	crypto_generichash_final(&st, t, sizeof t);
	fs_hex(t, sizeof t, out);
	sodium_memzero(t, sizeof t);
}

/* The enrolment's one write transaction: the token checked and used, the
 * device made (or, for a retry of a lost answer, found again). */
struct enroll_ctx {
	const char *token, *name, *nonce, *app_version;
	char hash[65], nhash[65];
	char rid[33], devtok[65];
	struct tok_ctx x;
	struct hq_device d;
};

static int enroll_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct enroll_ctx *e = vctx;
	struct tok_ctx *x = &e->x;
	char dh[65], now[32];
	unsigned char key[32];
	struct fs_val p = fs_vref(e->hash);
	int rc = h->be->exec(db, "SELECT t.rep, t.expires_ms, t.used_at, t.nonce, t.device FROM enroll_tokens t"
			     " JOIN reps r ON r.name = t.rep WHERE t.hash = $1 AND r.revoked = 0", 1, &p, tok_row, x);
	int64_t used_ms = 0, wall = fs_wall_ms();
	if (rc == 0 && x->used && fs_parse_datetime(x->used_at, &used_ms))
		used_ms = 0;
	/* the same token and nonce again, soon, before expiry: the answer to
	 * the first try was lost; it gets the same answer */
	int again = rc == 0 && x->found && x->used && e->nonce && !strcmp(x->nonce, e->nhash) && x->device[0] &&
		    used_ms > 0 && wall - used_ms <= ENROLL_RETRY_S * 1000LL && wall >= used_ms - 60000;
	if (rc == 0 && (!x->found || x->expires < wall || (x->used && !again)))
		rc = fs_err(FIELDSYNC_EAUTH, "enrolment token unknown, used or expired");
	if (rc == 0)
		rc = enroll_secret(h, db, key);
	if (rc == 0) {
		fs_iso_utc(wall, now);
		if (again)
			memcpy(e->rid, x->device, 33);
		else
			fs_random_id(e->rid);
		device_token(key, e->token, e->rid, e->nonce, e->devtok);
		hq_token_hash(e->devtok, dh);
		sodium_memzero(key, sizeof key);
	}
	if (rc == 0 && again) {
		/* the device must still be the one this token made */
		struct hq_device d;
		rc = load_device(h, db, e->rid, &d);
		if (rc == FIELDSYNC_ENOTFOUND)
			rc = fs_err(FIELDSYNC_EAUTH, "enrolment token unknown, used or expired");
	} else if (rc == 0) {
		struct fs_val q[6] = { fs_vref(e->rid), fs_vref(x->rep), fs_vref(e->name), fs_vref(dh), fs_vref(now),
			fs_vref(e->app_version) };
		rc = h->be->exec(db, "INSERT INTO devices (id, rep, name, token_hash, created_at, app_version)"
				 " VALUES ($1, $2, $3, $4, $5, $6)", 6, q, NULL, NULL);
		struct fs_val u[4] = { fs_vref(now), fs_vref(e->nonce ? e->nhash : NULL), fs_vref(e->rid),
			fs_vref(e->hash) };
		if (rc == 0)
			rc = h->be->exec(db, "UPDATE enroll_tokens SET used_at = $1, nonce = $2, device = $3"
					 " WHERE hash = $4", 4, u, NULL, NULL);
	}
	struct fs_val r = fs_vref(x->rep);
	if (rc == 0)
		rc = h->be->exec(db, "SELECT territory FROM rep_territories WHERE rep = $1 ORDER BY territory", 1,
				 &r, terr_row, &e->d);
	return rc;
}

int hq_enroll(struct hq *h, const char *token, const char *name, const char *nonce, const char *app_version,
	      cJSON *out)
{
	struct enroll_ctx e;
	memset(&e, 0, sizeof e);
	if (!token || strlen(token) < 16 || strlen(token) > 256)
		return fs_err(FIELDSYNC_EAUTH, "malformed enrolment token");
	if (name && (strlen(name) > 100 || !fs_utf8_valid(name, strlen(name))))
		return fs_err(FIELDSYNC_EINVAL, "device name must be at most 100 bytes of UTF-8");
	if (app_version && strlen(app_version) > 40)
		return fs_err(FIELDSYNC_EINVAL, "app_version too long");
	if (nonce && !fs_is_id(nonce))
		return fs_err(FIELDSYNC_EINVAL, "nonce must be 32 lowercase hex digits");
	e.token = token;
	e.name = name;
	e.nonce = nonce;
	e.app_version = app_version;
	hq_token_hash(token, e.hash);
	if (nonce)
		hq_token_hash(nonce, e.nhash);	/* kept hashed: with the token it would replay */
	int rc = hq_txn(h, HQ_TXN_WRITE, enroll_tx, &e);
	if (rc == 0) {
		cJSON_AddStringToObject(out, "replica_id", e.rid);
		cJSON_AddStringToObject(out, "device_token", e.devtok);
		cJSON_AddStringToObject(out, "rep", e.x.rep);
		cJSON_AddStringToObject(out, "hq_id", h->self_hex);
		cJSON *t = cJSON_AddArrayToObject(out, "territories");
		for (int i = 0; i < e.d.nterr; i++)
			cJSON_AddItemToArray(t, cJSON_CreateString(e.d.terr[i]));
	}
	sodium_memzero(e.devtok, sizeof e.devtok);
	return rc;
}

/* ---- hand-in, acknowledgements, device bookkeeping ---- */

/* A device revoked for erasure hands in what it has not synced before it
 * wipes itself: each record is kept in quarantine for review, never merged
 * (whoever holds the device now may not be the rep). Whoever holds it can
 * also send anything at all: the hand-in is bounded per device, in all
 * (HANDIN_MAX_RECORDS records, HANDIN_MAX_BYTES of them); once that is
 * full nothing more is stored. The answer's "kept" is what the device may
 * erase: all it sent (erasure matters more than a stolen laptop's last
 * edits); "stored" what HQ actually kept this time. */
#define HANDIN_REASON "handed in by a device revoked for erasure"
#define HANDIN_MAX_RECORDS 1000
#define HANDIN_MAX_BYTES (4 << 20)

struct handin_ctx {
	int64_t n, bytes;
};

static int handin_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct handin_ctx *x = vctx;
	if (ncol >= 2) {
		x->n = v[0].t == FS_V_INT ? v[0].i : 0;
		x->bytes = v[1].t == FS_V_INT ? v[1].i : 0;
	}
	return 0;
}

struct handin_tx_ctx {
	const struct hq_device *d;
	const cJSON *records;
	int *stored;
};

static int handin_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct handin_tx_ctx *x = vctx;
	struct handin_ctx have = { 0, 0 };
	struct fs_val p[2] = { fs_vref(x->d->id), fs_vref(HANDIN_REASON) };
	int rc = h->be->exec(db, "SELECT count(*), coalesce(sum(length(record)), 0) FROM quarantine"
			     " WHERE device = $1 AND reason = $2", 2, p, handin_row, &have);
	for (const cJSON *e = x->records->child; e && rc == 0; e = e->next) {
		struct fs_rec r;
		rc = fs_wire_rec_decode(e, &r);
		if (rc)
			break;
		char *txt = cJSON_PrintUnformatted(e);
		int64_t len = txt ? (int64_t)strlen(txt) : 0;
		free(txt);
		if (have.n < HANDIN_MAX_RECORDS && have.bytes + len <= HANDIN_MAX_BYTES) {
			rc = hq_quarantine(h, db, x->d, &r, HANDIN_REASON);
			have.n++;
			have.bytes += len;
			(*x->stored)++;
		}
		fs_rec_release(&r);
	}
	return rc;
}

int hq_keep_for_review(struct hq *h, struct hq_db *db, const struct hq_device *d, const cJSON *records,
			   int *kept, int *stored)
{
	int n = cJSON_GetArraySize(records);
	struct handin_tx_ctx x = { d, records, stored };
	*kept = *stored = 0;
	if (n > h->lim.max_batch)
		return fs_err(FIELDSYNC_ELIMIT, "batch of %d records; the limit is %d", n, h->lim.max_batch);
	int rc = hq_txn_on(h, db, HQ_TXN_WRITE, handin_tx, &x);
	if (rc == 0)
		*kept = n;
	else
		*stored = 0;
	return rc;
}

/* The request names this HQ store (a device that talked to a store since
 * restored over names the old one: its sequence numbers mean nothing here). */
static int same_hq(const struct hq *h, const cJSON *body)
{
	const char *id = fs_wire_str(body, "hq_id");
	return id && !strcmp(id, h->self_hex);
}

/* What a pulling device has acknowledged, per territory of its rep: the
 * cursor it sends is what it has stored (a backfill's too: everything up to
 * it). Garbage collection waits for these (gc.c). */
static int note_acks(struct hq *h, struct hq_db *db, const struct hq_device *d, const cJSON *cursor,
		     const char *now)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < d->nterr; i++) {
		const cJSON *c = cJSON_IsObject(cursor) ? cJSON_GetObjectItemCaseSensitive(cursor, d->terr[i]) : NULL;
		int64_t seq = cJSON_IsNumber(c) ? (int64_t)c->valuedouble : 0;
		struct fs_val p[4] = { fs_vref(d->id), fs_vref(d->terr[i]), fs_vint(seq < 0 ? -seq : seq), fs_vref(now) };
		rc = h->be->exec(db, "INSERT INTO device_acks (device, territory, seq, at) VALUES ($1, $2, $3, $4)"
				 " ON CONFLICT (device, territory) DO UPDATE SET seq = excluded.seq, at = excluded.at",
				 4, p, NULL, NULL);
	}
	return rc;
}

struct touch_ctx {
	const struct hq_device *d;
	int synced, pull;
	const cJSON *body;
};

static int touch_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct touch_ctx *x = vctx;
	char now[32];
	int64_t pending = -1;
	fs_iso_utc(fs_wall_ms(), now);
	fs_wire_int(x->body, "pending", 0, FS_INT_MAX_EXACT, &pending);
	const char *ver = fs_wire_str(x->body, "app_version");
	struct fs_val p[5] = { fs_vref(now), fs_vref(x->synced ? now : NULL), fs_vint(pending),
		fs_vref(ver && strlen(ver) <= 40 ? ver : NULL), fs_vref(x->d->id) };
	if (pending < 0)
		p[2] = fs_vref(NULL);
	int rc = h->be->exec(db, "UPDATE devices SET last_seen = $1, last_sync = coalesce($2, last_sync),"
			     " pending = coalesce($3, pending), app_version = coalesce($4, app_version)"
			     " WHERE id = $5", 5, p, NULL, NULL);
	if (rc == 0 && x->pull && same_hq(h, x->body))
		rc = note_acks(h, db, x->d, cJSON_GetObjectItemCaseSensitive(x->body, "cursor"), now);
	return rc;
}

void hq_touch_device(struct hq *h, struct hq_db *db, const struct hq_device *d, int synced, int pull,
			 const cJSON *body)
{
	struct touch_ctx x = { d, synced, pull, body };
	hq_txn_on(h, db, HQ_TXN_WRITE, touch_tx, &x);	/* bookkeeping: a failure is not the request's */
}

