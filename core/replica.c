/* replica.c - the replica engine: local writes and clash records (see replica.h). */
#include "replica.h"

#include <string.h>
#include "reg.h"
#include "util.h"

int fs_replica_write(const struct fs_replica *rp, const struct fs_chg *c, const char *id, char id_out[33])
{
	const struct fs_table *t = c->t;
	struct fs_rec r, old;
	int rc, creating = !id || !*id;

	fs_rec_init(&old, t);
	if (creating) {
		fs_rec_init(&r, t);
		fs_random_id(r.id);
	} else {
		if ((rc = rp->get(rp->ctx, t, id, 1, &r)))
			return rc;
		if (fs_rec_deleted(&r) && !(t->deleted_field >= 0 && c->set[t->deleted_field])) {
			fs_rec_release(&r);
			return fs_err(FIELDSYNC_ENOTFOUND, "%s %s is deleted", t->name, id);
		}
	}
	rc = fs_chg_validate(c, creating ? NULL : &r);
	if (rc == 0 && rp->check)
		rc = rp->check(rp->ctx, &r, c);
	int64_t hlc = 0;
	if (rc == 0)
		rc = rp->tick(rp->ctx, &hlc);
	if (rc == 0 && !creating)
		rc = fs_rec_copy(&old, &r);
	int n = rc ? 0 : fs_rec_write(&r, c, rp->self, hlc);
	if (n < 0)
		rc = n;
	if (rc == 0 && (n > 0 || creating)) {
		int moves = t->scope_field >= 0 && c->set[t->scope_field];
		rc = rp->scope(rp->ctx, &r, creating || moves);
		if (rc == 0)
			rc = rp->store(rp->ctx, creating ? NULL : &old, &r, hlc);
	}
	if (rc == 0 && id_out)
		memcpy(id_out, r.id, 33);
	fs_rec_release(&r);
	fs_rec_release(&old);
	return rc;
}

static int note_clash(void *vctx, const struct fs_rec *r, int field, const struct fs_sib *loser)
{
	const struct fs_replica *rp = vctx;
	struct fs_chg c;
	struct fs_rec have, nr;
	char cid[33];
	int rc = fs_conflict_build(r, field, loser, &c, cid);
	if (rc)
		return rc == FIELDSYNC_EINVAL ? 0 : rc;	/* a clash no record describes */
	rc = rp->get(rp->ctx, &fs_tbl_conflict, cid, 0, &have);
	if (rc == 0)
		fs_rec_release(&have);
	if (rc != FIELDSYNC_ENOTFOUND) {
		fs_chg_release(&c);
		return rc;	/* held already, or a failure */
	}
	/* written with the derived id through the ordinary write steps */
	int64_t hlc = 0;
	fs_rec_init(&nr, &fs_tbl_conflict);
	memcpy(nr.id, cid, 33);
	rc = rp->tick(rp->ctx, &hlc);
	if (rc == 0 && (rc = fs_rec_write(&nr, &c, rp->self, hlc)) > 0)
		rc = 0;
	if (rc == 0) {
		memcpy(nr.scope, r->scope, sizeof nr.scope);
		rc = rp->store(rp->ctx, NULL, &nr, hlc);
	}
	fs_rec_release(&nr);
	fs_chg_release(&c);
	return rc;
}

int fs_replica_clashes(const struct fs_replica *rp, const struct fs_rec *r)
{
	return fs_rec_clashes(r, note_clash, (void *)rp);
}
