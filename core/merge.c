/*
 * merge.c - the field-level merge of two versions of one record.
 *
 * DESIGN.md "Merge (must)":
 *   1. vv(A) == vv(B): same version.
 *   2. vv(A) dominates vv(B): keep A (and vice versa).
 *   3. concurrent: field by field - same dot: same value; if B's vv covers
 *      A's dot for the field, B has seen A's write: take B's (and vice versa);
 *      if neither has seen the other's write it is a real conflict: the
 *      winner is the larger (hlc, replica id), the loser is kept.
 *
 * Why siblings. With a hybrid logical clock, keeping one dot per field and
 * taking the later write picks the same VALUE in any merge order (a write
 * whose author saw another is always later). It does not pick the same
 * LOSERS. Three writes a, b, c of one field, where c's author had seen a but
 * not b, and b > c > a by (hlc, replica):
 *     (A + B) + C:  a loses to b (a clash), then c loses to b (a clash);
 *     (A + C) + B:  c replaces a (its author saw it: no clash), c loses to b.
 * Conflict records are themselves synced records, so replicas would report
 * different clashes depending on the order they happened to merge in, and
 * the first order reports "a lost" although c's author overwrote a on
 * purpose.
 * So each field holds the SET of writes not yet superseded (an MV-register
 * "dot kernel"): a write survives the merge if the other side has it too or
 * has not seen it. That join is commutative, associative and idempotent; the
 * displayed value is the set's maximum; every other member is an open clash
 * that the store turns into a conflict record (id derived from the losing
 * dot, so replicas that find it on their own make the same record). A new
 * local write of the field covers the whole set and closes the clash.
 */
#include <stdlib.h>
#include <string.h>
#include "record.h"
#include "util.h"

struct cand {
	const struct fs_dot *dot;
	const struct fs_val *v;
};

static int has_dot(const struct fs_fstate *f, const struct fs_dot *d)
{
	if (f->dot.c && fs_dot_same(&f->dot, d))
		return 1;
	for (int k = 0; k < f->nsib; k++)
		if (fs_dot_same(&f->sib[k].dot, d))
			return 1;
	return 0;
}

static int cand_cmp(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	return -fs_dot_cmp(a->dot, b->dot);	/* largest first */
}

/* Members of side `s` that survive against side `o` (vv `ovv`). */
static int survivors(const struct fs_fstate *s, const struct fs_fstate *o, const struct fs_vv *ovv,
		     int skip_shared, struct cand *out, int n)
{
	if (s->dot.c == 0)
		return n;
	for (int k = -1; k < s->nsib; k++) {
		const struct fs_dot *d = k < 0 ? &s->dot : &s->sib[k].dot;
		const struct fs_val *v = k < 0 ? &s->v : &s->sib[k].v;
		int shared = has_dot(o, d);
		if (shared ? skip_shared : fs_vv_covers(ovv, d))
			continue;
		out[n].dot = d;
		out[n].v = v;
		n++;
	}
	return n;
}

static int merge_field(const struct fs_fstate *a, const struct fs_vv *avv, const struct fs_fstate *b,
		       const struct fs_vv *bvv, struct fs_fstate *out)
{
	int cap = 2 + a->nsib + b->nsib, n = 0;
	struct cand stackbuf[8], *c = cap <= 8 ? stackbuf : malloc((size_t)cap * sizeof *c);
	if (!c)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	n = survivors(a, b, bvv, 0, c, n);
	n = survivors(b, a, avv, 1, c, n);
	if (n == 0) {
		/* Only possible when the inputs break causality (each covers the
		 * other's write yet they differ); keep the larger rather than lose. */
		if (a->dot.c)
			c[n++] = (struct cand){ &a->dot, &a->v };
		if (b->dot.c)
			c[n++] = (struct cand){ &b->dot, &b->v };
	}
	int rc = 0;
	if (n) {
		qsort(c, (size_t)n, sizeof *c, cand_cmp);
		out->dot = *c[0].dot;
		rc = fs_val_copy(&out->v, c[0].v);
		if (rc == 0 && n > 1) {
			out->sib = calloc((size_t)(n - 1), sizeof *out->sib);
			if (!out->sib)
				rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
			for (int k = 1; rc == 0 && k < n; k++) {
				out->sib[k - 1].dot = *c[k].dot;
				out->nsib++;
				rc = fs_val_copy(&out->sib[k - 1].v, c[k].v);
			}
		}
	}
	if (c != stackbuf)
		free(c);
	return rc;
}

int fs_merge(const struct fs_rec *a, const struct fs_rec *b, struct fs_rec *out)
{
	fs_rec_init(out, a->t);
	if (a->t != b->t || strcmp(a->id, b->id) != 0)
		return fs_err(FIELDSYNC_EINVAL, "merge of two different records");
	switch (fs_vv_cmp(&a->vv, &b->vv)) {
	case FS_VV_EQUAL:
	case FS_VV_A_NEWER:
		return fs_rec_copy(out, a);
	case FS_VV_B_NEWER:
		return fs_rec_copy(out, b);
	}
	memcpy(out->id, a->id, sizeof out->id);
	memcpy(out->scope, a->scope, sizeof out->scope);
	out->hlc = a->hlc > b->hlc ? a->hlc : b->hlc;
	int rc = fs_vv_merge(&out->vv, &a->vv, &b->vv);
	for (int i = 0; rc == 0 && i < a->t->nfields; i++)
		rc = merge_field(&a->f[i], &a->vv, &b->f[i], &b->vv, &out->f[i]);
	if (rc)
		fs_rec_release(out);
	return rc;
}
