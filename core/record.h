/*
 * record.h - values, version vectors, dots, the hybrid logical clock and the
 * in-memory record every module works on.
 *
 * A record is the state of one row of a registry table:
 *   vv      {replica -> counter}: how many writes of each replica it has seen
 *   f[i]    per field: the winning value and its dot (replica, counter, hlc),
 *           plus "siblings": concurrent writes of that field nobody has yet
 *           superseded (see merge.c for why they are kept in the record)
 *   hlc     the largest hlc of any write it contains
 * A field that was never written has no dot (dot.c == 0) and a NULL value.
 *
 * HLC: one 64-bit integer, ms * 1024 + logical, below 2^53 until the year
 * 2248 so it survives every JSON reader. Packed order == (ms, logical) order.
 *
 * Ownership: fs_val owns its text; fs_rec owns its values, siblings and vv.
 * *_release() frees what a struct holds and leaves it empty/reusable.
 */
#ifndef FS_RECORD_H
#define FS_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "reg.h"

/* ---- replica ids ---- */
struct fs_rid {
	unsigned char b[16];
};
int fs_rid_parse(const char *hex, struct fs_rid *out);	/* 32 hex chars */
void fs_rid_fmt(const struct fs_rid *r, char out[33]);
int fs_rid_cmp(const struct fs_rid *a, const struct fs_rid *b);

/* ---- values ---- */
enum { FS_V_NULL, FS_V_INT, FS_V_REAL, FS_V_TEXT };
struct fs_val {
	int t;
	int64_t i;
	double r;
	char *s;
};
void fs_val_release(struct fs_val *v);
int fs_val_copy(struct fs_val *dst, const struct fs_val *src);
int fs_val_eq(const struct fs_val *a, const struct fs_val *b);
int fs_val_set_text(struct fs_val *v, const char *s, size_t n);
void fs_val_set_int(struct fs_val *v, int64_t i);
void fs_val_set_real(struct fs_val *v, double r);
void fs_val_set_null(struct fs_val *v);
/* Values that borrow (for statement parameters): never fs_val_release them. */
static inline struct fs_val fs_vref(const char *s)
{
	struct fs_val v = { 0, 0, 0, (char *)s };
	v.t = s ? FS_V_TEXT : FS_V_NULL;
	return v;
}
static inline struct fs_val fs_vint(int64_t i)
{
	struct fs_val v = { FS_V_INT, i, 0, NULL };
	return v;
}

/* Parse `text` as a value of field `f`. FS_PARSE_USER accepts the CLI forms
 * (money "12.50", enum any case / dashes, local date-times); canonical form
 * otherwise (money in minor units, UTC date-times). Errors name the field. */
#define FS_PARSE_USER 1
int fs_field_parse(const struct fs_field *f, const char *text, int mode, struct fs_val *out);
/* Check a typed value (e.g. decoded from the wire) against its field. */
int fs_field_check(const struct fs_field *f, const struct fs_val *v);
/* Canonical text of a value (money in minor units); caller frees. NULL for null. */
char *fs_val_canon(const struct fs_val *v);

/* ---- dots and version vectors ---- */
struct fs_dot {
	struct fs_rid rid;
	int64_t c;	/* 0: no dot */
	int64_t hlc;
};
/* Order of writes for the deterministic winner: (hlc, replica id, counter). */
int fs_dot_cmp(const struct fs_dot *a, const struct fs_dot *b);
int fs_dot_same(const struct fs_dot *a, const struct fs_dot *b);
void fs_dot_fmt(const struct fs_dot *d, char out[80]);	/* "rid:c:hlc" */
int fs_dot_parse(const char *s, struct fs_dot *out);

struct fs_vv_ent {
	struct fs_rid rid;
	int64_t c;
};
struct fs_vv {
	int n, cap;
	struct fs_vv_ent *e;	/* sorted by rid */
};
enum { FS_VV_EQUAL, FS_VV_A_NEWER, FS_VV_B_NEWER, FS_VV_CONCURRENT };
void fs_vv_release(struct fs_vv *v);
int fs_vv_copy(struct fs_vv *dst, const struct fs_vv *src);
int64_t fs_vv_get(const struct fs_vv *v, const struct fs_rid *r);
int fs_vv_set(struct fs_vv *v, const struct fs_rid *r, int64_t c);
int fs_vv_cmp(const struct fs_vv *a, const struct fs_vv *b);
int fs_vv_covers(const struct fs_vv *v, const struct fs_dot *d);
int fs_vv_merge(struct fs_vv *dst, const struct fs_vv *a, const struct fs_vv *b);
int fs_vv_find(const struct fs_vv *v, const struct fs_rid *r);	/* index or -1 */

/* ---- hybrid logical clock ---- */
#define FS_HLC_MAX 9007199254740991LL
int64_t fs_hlc_next(int64_t last);		/* > last, >= wall clock */
int64_t fs_hlc_ms(int64_t hlc);

/* How far ahead of the wall clock a write may be stamped before a replica
 * refuses it (HQ for what it is pushed, a device for what it pulls), in
 * minutes: HQ's setting clock_ahead_minutes, synced to devices. A clock is
 * never moved by a write beyond it, so one device with a wrong or hostile
 * clock cannot drag the others toward 2^53 (the end of exact JSON numbers). */
#define FS_CLOCK_AHEAD_DEFAULT 1440
#define FS_CLOCK_AHEAD_MIN 1
#define FS_CLOCK_AHEAD_MAX 43200
/* The largest hlc acceptable at wall clock `wall_ms` with that bound. */
int64_t fs_hlc_limit(int64_t wall_ms, int64_t ahead_minutes);

/* ---- records ---- */
struct fs_sib {
	struct fs_dot dot;
	struct fs_val v;
};
struct fs_fstate {
	struct fs_val v;
	struct fs_dot dot;
	int nsib;
	struct fs_sib *sib;	/* sorted by dot, largest first */
};
struct fs_rec {
	const struct fs_table *t;
	char id[FS_ID_LEN + 1];
	struct fs_vv vv;
	int64_t hlc;
	char scope[65];		/* derived territory; not part of the merge */
	struct fs_fstate f[FS_MAX_FIELDS];
};
void fs_rec_init(struct fs_rec *r, const struct fs_table *t);
void fs_rec_release(struct fs_rec *r);
/* dst must be initialised (fs_rec_init); what it held is released first. */
int fs_rec_copy(struct fs_rec *dst, const struct fs_rec *src);
/* A version merged from a peer that knows only the fields of store schema
 * `schema` keeps the fields it could not see as they were in old (NULL: a
 * new record, so unset): a replica never erases what it cannot see. */
int fs_rec_keep_unknown(struct fs_rec *merged, const struct fs_rec *old, int schema);
int fs_rec_deleted(const struct fs_rec *r);
/* Same vv, dots, siblings and values: the "nothing changed" test. */
int fs_rec_same(const struct fs_rec *a, const struct fs_rec *b);

/* A set of field assignments for one local write. */
struct fs_chg {
	const struct fs_table *t;
	unsigned char set[FS_MAX_FIELDS];
	struct fs_val v[FS_MAX_FIELDS];
};
void fs_chg_init(struct fs_chg *c, const struct fs_table *t);
void fs_chg_release(struct fs_chg *c);
int fs_chg_set(struct fs_chg *c, int field, const struct fs_val *v);
int fs_chg_count(const struct fs_chg *c);

/* Record-level rules of a local write: required fields on create (existing
 * NULL), required fields never cleared, immutable fields never changed. */
int fs_chg_validate(const struct fs_chg *c, const struct fs_rec *existing);

/* Apply a local write by replica `self` at `hlc`: every field of `c` whose
 * value differs (or that has siblings) gets the new value and the dot
 * (self, vv[self]+1, hlc); vv[self] is bumped once. Returns the number of
 * fields written (0: nothing changed, vv untouched) or a negative code. */
int fs_rec_write(struct fs_rec *r, const struct fs_chg *c, const struct fs_rid *self, int64_t hlc);

/* The largest hlc of any dot in r (winners and siblings) and of r->hlc. */
int64_t fs_rec_max_hlc(const struct fs_rec *r);

/* Repair after a clock beyond `limit` was written into r: every field whose
 * dot or a sibling's dot is stamped beyond it is written again by `self`
 * at `hlc` with its current value (one new dot; the siblings it covers are
 * kept by their conflict records), and r->hlc becomes the largest hlc left.
 * Returns the number of fields restamped (0: r untouched), or a negative code. */
int fs_rec_restamp(struct fs_rec *r, int64_t limit, const struct fs_rid *self, int64_t hlc);

/* Merge two versions of one record (merge.c): a pure function, commutative,
 * associative and idempotent. `out` is initialised by the call. */
int fs_merge(const struct fs_rec *a, const struct fs_rec *b, struct fs_rec *out);

/* A clash still open in `r`: field `field`, sibling `loser` beaten by the
 * winner's dot. Siblings holding the winner's value are not clashes. */
typedef int (*fs_clash_fn)(void *ctx, const struct fs_rec *r, int field,
			   const struct fs_sib *loser);
int fs_rec_clashes(const struct fs_rec *r, fs_clash_fn fn, void *ctx);
/* The conflict record id for a losing write: derived from what it describes. */
void fs_conflict_id(const char *tbl, const char *rec_id, const char *field,
		    const struct fs_dot *lose, char out[33]);

/* The conflict record for one clash of `r`: its derived id and the field
 * assignments to write (c is initialised by the call). */
int fs_conflict_build(const struct fs_rec *r, int field, const struct fs_sib *loser,
		      struct fs_chg *c, char id[33]);

/* Store encodings of the sync metadata (compact text; see docs/store.md). */
int fs_vv_encode(const struct fs_vv *v, char **out);
int fs_vv_decode(const char *s, struct fs_vv *out);
int fs_dots_encode(const struct fs_rec *r, char **out);
int fs_dots_decode(const char *s, struct fs_rec *r);	/* needs r->vv */
int fs_sib_encode(const struct fs_rec *r, char **out);	/* *out NULL: no siblings */
int fs_sib_decode(const char *s, struct fs_rec *r);	/* needs r->vv */

#endif
