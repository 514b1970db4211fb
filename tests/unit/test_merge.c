/*
 * test_merge.c - the merge rules of DESIGN.md, and a property test over
 * random histories: 2-5 replicas write random fields (including deletes) of
 * one record with skewed clocks and exchange states in random order; at the
 * end of every history
 *   - every replica holds the identical record and the same conflict records,
 *   - merge is commutative, associative and idempotent on states of the run,
 *   - no written value is lost without a trace: each write is the winner, a
 *     kept sibling (with a conflict record when its value differs), or was
 *     overwritten by a write whose author had seen it.
 * FIELDSYNC_MERGE_CASES overrides the number of histories (default 1500).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "prng.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "record.h"
#include "util.h"

static uint64_t rng;
static int rnd(int n)
{
	return (int)(prng_next(&rng) % (uint64_t)n);
}

static const struct fs_table *T;
static const char *const FIELDS[] = { "name", "grade", "phone", "notes", "loyalty", "deleted" };
#define NF 6
#define MAXR 5
#define MAXC 512
#define MAXW 256

struct replica {
	struct fs_rid rid;
	struct fs_rec rec;
	int64_t clock, skew;
	char conflicts[MAXC][33];
	int nconf;
};

struct write {
	struct fs_dot dot;
	int field;
	struct fs_vv ctx;
};

static struct replica R[MAXR];
static struct write W[MAXW];
static int nw, nrep;
static int64_t tick;

static void val_for(int fi, struct fs_val *v)
{
	const struct fs_field *f = &T->fields[fi];
	if (f->type == FS_T_INT) {
		fs_val_set_int(v, 1 + rnd(5));
	} else if (f->type == FS_T_BOOL) {
		fs_val_set_int(v, rnd(2));
	} else if (f->type == FS_T_ENUM) {
		const char *g = f->vocab[rnd(4)];
		fs_val_set_text(v, g, strlen(g));
	} else {
		char buf[16];
		snprintf(buf, sizeof buf, "v%d", rnd(6));	/* small pool: equal values happen */
		fs_val_set_text(v, buf, strlen(buf));
	}
}

static int has_conf(const struct replica *r, const char *id)
{
	for (int i = 0; i < r->nconf; i++)
		if (!strcmp(r->conflicts[i], id))
			return 1;
	return 0;
}

static void add_conf(struct replica *r, const char *id)
{
	if (!has_conf(r, id)) {
		assert_true(r->nconf < MAXC);
		strcpy(r->conflicts[r->nconf++], id);
	}
}

static int note(void *ctx, const struct fs_rec *rec, int field, const struct fs_sib *loser)
{
	char id[33];
	fs_conflict_id(rec->t->name, rec->id, rec->t->fields[field].name, &loser->dot, id);
	add_conf(ctx, id);
	return 0;
}

static void local_write(int r)
{
	struct replica *p = &R[r];
	struct fs_chg c;
	struct fs_val v = { 0 };
	int fields[NF], n = 1 + rnd(3);
	fs_chg_init(&c, T);
	for (int k = 0; k < n; k++) {
		int fi = fs_field_find(T, FIELDS[rnd(NF)]);
		val_for(fi, &v);
		fs_chg_set(&c, fi, &v);
		fields[k] = fi;
	}
	int64_t wall = tick * 10 + p->skew;
	int64_t hlc = wall > p->clock + 1 ? wall : p->clock + 1;
	int wrote = fs_rec_write(&p->rec, &c, &p->rid, hlc);
	assert_true(wrote >= 0);
	if (wrote > 0) {
		p->clock = hlc;
		int64_t cnt = fs_vv_get(&p->rec.vv, &p->rid);
		/* record each field this write stamped */
		for (int fi = 0; fi < T->nfields; fi++) {
			struct fs_fstate *f = &p->rec.f[fi];
			if (f->dot.c != cnt || fs_rid_cmp(&f->dot.rid, &p->rid))
				continue;
			int dup = 0;
			for (int k = 0; k < nw; k++)
				dup |= W[k].field == fi && fs_dot_same(&W[k].dot, &f->dot);
			if (dup || nw >= MAXW)
				continue;
			W[nw].dot = f->dot;
			W[nw].field = fi;
			memset(&W[nw].ctx, 0, sizeof W[nw].ctx);
			fs_vv_copy(&W[nw].ctx, &p->rec.vv);
			nw++;
		}
	}
	(void)fields;
	fs_val_release(&v);
	fs_chg_release(&c);
}

/* j receives i's state. Returns 1 if j changed. */
static int send(int i, int j)
{
	struct fs_rec m;
	assert_int_equal(fs_merge(&R[j].rec, &R[i].rec, &m), 0);
	int changed = !fs_rec_same(&m, &R[j].rec);
	fs_rec_release(&R[j].rec);
	R[j].rec = m;
	if (R[i].rec.hlc > R[j].clock)
		R[j].clock = R[i].rec.hlc;
	for (int k = 0; k < R[i].nconf; k++)	/* conflict records sync too */
		if (!has_conf(&R[j], R[i].conflicts[k])) {
			add_conf(&R[j], R[i].conflicts[k]);
			changed = 1;
		}
	int before = R[j].nconf;
	fs_rec_clashes(&R[j].rec, note, &R[j]);
	return changed || R[j].nconf != before;
}

static int same_state(const struct fs_rec *a, const struct fs_rec *b)
{
	if (!fs_rec_same(a, b))
		return 0;
	for (int i = 0; i < a->t->nfields; i++)
		for (int k = 0; k < a->f[i].nsib; k++)
			if (!fs_val_eq(&a->f[i].sib[k].v, &b->f[i].sib[k].v))
				return 0;
	return 1;
}

static void check_algebra(const struct fs_rec *a, const struct fs_rec *b, const struct fs_rec *c)
{
	struct fs_rec ab, ba, aa, ab_c, bc, a_bc;
	assert_int_equal(fs_merge(a, b, &ab), 0);
	assert_int_equal(fs_merge(b, a, &ba), 0);
	assert_true(same_state(&ab, &ba));
	assert_int_equal(fs_merge(a, a, &aa), 0);
	assert_true(same_state(&aa, a));
	assert_int_equal(fs_merge(&ab, c, &ab_c), 0);
	assert_int_equal(fs_merge(b, c, &bc), 0);
	assert_int_equal(fs_merge(a, &bc, &a_bc), 0);
	assert_true(same_state(&ab_c, &a_bc));
	fs_rec_release(&ab);
	fs_rec_release(&ba);
	fs_rec_release(&aa);
	fs_rec_release(&ab_c);
	fs_rec_release(&bc);
	fs_rec_release(&a_bc);
}

static int run_case(uint64_t seed)
{
	rng = seed * 7919 + 1;
	nrep = 2 + rnd(MAXR - 1);
	nw = 0;
	tick = 0;
	struct fs_rec snaps[8];
	int nsnap = 0;
	for (int r = 0; r < nrep; r++) {
		memset(&R[r], 0, sizeof R[r]);
		R[r].rid.b[0] = (unsigned char)(r + 1);
		R[r].rid.b[15] = (unsigned char)rnd(256);
		fs_rec_init(&R[r].rec, T);
		strcpy(R[r].rec.id, "00000000000000000000000000000001");
		R[r].skew = rnd(200) - 100;
	}
	int ops = 5 + rnd(40);
	for (int k = 0; k < ops; k++, tick++) {
		if (rnd(10) < 6) {
			local_write(rnd(nrep));
		} else {
			int i = rnd(nrep), j = rnd(nrep);
			if (i != j)
				send(i, j);
		}
		if (nsnap < 8 && rnd(4) == 0) {
			fs_rec_init(&snaps[nsnap], T);
			fs_rec_copy(&snaps[nsnap], &R[rnd(nrep)].rec);
			nsnap++;
		}
	}
	/* properties of the merge on states that really occurred */
	for (int k = 0; k + 2 < nsnap; k++)
		check_algebra(&snaps[k], &snaps[k + 1], &snaps[k + 2]);
	for (int k = 0; k < nsnap; k++)
		fs_rec_release(&snaps[k]);

	/* anti-entropy until quiet */
	int rounds = 0, changed = 1;
	while (changed && rounds++ < 20) {
		changed = 0;
		for (int i = 0; i < nrep; i++)
			for (int j = 0; j < nrep; j++)
				if (i != j)
					changed |= send(i, j);
	}
	assert_false(changed);

	/* every replica identical */
	for (int r = 1; r < nrep; r++) {
		assert_true(same_state(&R[0].rec, &R[r].rec));
		assert_int_equal(R[0].nconf, R[r].nconf);
		for (int k = 0; k < R[r].nconf; k++)
			assert_true(has_conf(&R[0], R[r].conflicts[k]));
	}

	/* every clash still open has its conflict record */
	const struct fs_rec *fin = &R[0].rec;
	for (int fi = 0; fi < T->nfields; fi++)
		for (int k = 0; k < fin->f[fi].nsib; k++) {
			const struct fs_sib *s = &fin->f[fi].sib[k];
			char id[33];
			fs_conflict_id(T->name, fin->id, T->fields[fi].name, &s->dot, id);
			if (!fs_val_eq(&s->v, &fin->f[fi].v))
				assert_true(has_conf(&R[0], id));
		}

	/* no write vanishes without a trace */
	int acc[MAXW] = { 0 }, grew = 1;
	for (int w = 0; w < nw; w++) {
		const struct fs_fstate *f = &fin->f[W[w].field];
		char id[33];
		fs_conflict_id(T->name, fin->id, T->fields[W[w].field].name, &W[w].dot, id);
		if (fs_dot_same(&f->dot, &W[w].dot) || has_conf(&R[0], id))
			acc[w] = 1;
		for (int k = 0; k < f->nsib; k++)
			acc[w] |= fs_dot_same(&f->sib[k].dot, &W[w].dot);
	}
	while (grew) {
		grew = 0;
		for (int w = 0; w < nw; w++)
			for (int x = 0; x < nw && !acc[w]; x++)
				if (x != w && acc[x] && W[x].field == W[w].field &&
				    fs_vv_covers(&W[x].ctx, &W[w].dot) && !fs_dot_same(&W[x].dot, &W[w].dot))
					acc[w] = grew = 1;
	}
	for (int w = 0; w < nw; w++) {
		if (!acc[w])
			fail_msg("seed %llu: write %d of %s vanished", (unsigned long long)seed, w,
				 T->fields[W[w].field].name);
	}
	int nconf = R[0].nconf;
	for (int r = 0; r < nrep; r++)
		fs_rec_release(&R[r].rec);
	for (int w = 0; w < nw; w++)
		fs_vv_release(&W[w].ctx);
	return nconf;
}

static void test_property(void **state)
{
	(void)state;
	const char *e = getenv("FIELDSYNC_MERGE_CASES");
	int cases = e ? atoi(e) : 1500, with_conflicts = 0;
	for (int k = 0; k < cases; k++)
		with_conflicts += run_case((uint64_t)k) > 0;
	print_message("%d histories, %d with conflict records\n", cases, with_conflicts);
	/* the generator must actually produce clashes, or the test proves little */
	assert_true(with_conflicts > cases / 10);
}

/* Fixed scenarios of DESIGN.md's rules, each on its own. */
static struct fs_rid me, you;

static void write1(struct fs_rec *r, const struct fs_rid *who, int64_t hlc, const char *field, const char *val)
{
	struct fs_chg c;
	struct fs_val v = { 0 };
	fs_chg_init(&c, T);
	fs_val_set_text(&v, val, strlen(val));
	fs_chg_set(&c, fs_field_find(T, field), &v);
	assert_true(fs_rec_write(r, &c, who, hlc) > 0);
	fs_val_release(&v);
	fs_chg_release(&c);
}

static void base(struct fs_rec *a)
{
	fs_rec_init(a, T);
	strcpy(a->id, "00000000000000000000000000000002");
	write1(a, &me, 10, "name", "Acme");
}

static const char *fval(const struct fs_rec *r, const char *f)
{
	return r->f[fs_field_find(T, f)].v.s;
}

static void test_rules(void **state)
{
	(void)state;
	struct fs_rec a, b, m;
	base(&a);
	fs_rec_init(&b, T);
	fs_rec_copy(&b, &a);
	/* 1: equal */
	assert_int_equal(fs_merge(&a, &b, &m), 0);
	assert_true(fs_rec_same(&m, &a));
	fs_rec_release(&m);
	/* 2: dominates */
	write1(&b, &you, 20, "name", "Acme Ltd");
	assert_int_equal(fs_merge(&a, &b, &m), 0);
	assert_string_equal(fval(&m, "name"), "Acme Ltd");
	assert_int_equal(m.f[fs_field_find(T, "name")].nsib, 0);
	fs_rec_release(&m);
	/* 3a: concurrent edits to different fields both survive */
	write1(&a, &me, 30, "phone", "123");
	assert_int_equal(fs_merge(&a, &b, &m), 0);
	assert_string_equal(fval(&m, "name"), "Acme Ltd");
	assert_string_equal(fval(&m, "phone"), "123");
	for (int i = 0; i < T->nfields; i++)
		assert_int_equal(m.f[i].nsib, 0);
	fs_rec_release(&m);
	/* 3b: same field: larger (hlc, replica) wins, the loser stays as sibling */
	write1(&a, &me, 40, "notes", "mine");
	write1(&b, &you, 35, "notes", "yours");
	assert_int_equal(fs_merge(&b, &a, &m), 0);
	const struct fs_fstate *f = &m.f[fs_field_find(T, "notes")];
	assert_string_equal(f->v.s, "mine");
	assert_int_equal(f->nsib, 1);
	assert_string_equal(f->sib[0].v.s, "yours");
	/* a later write that saw both closes the clash */
	write1(&m, &you, 50, "notes", "agreed");
	assert_int_equal(m.f[fs_field_find(T, "notes")].nsib, 0);
	struct fs_rec m2;
	assert_int_equal(fs_merge(&a, &m, &m2), 0);
	assert_string_equal(fval(&m2, "notes"), "agreed");
	assert_int_equal(m2.f[fs_field_find(T, "notes")].nsib, 0);
	fs_rec_release(&m2);
	fs_rec_release(&m);
	/* equal hlc: the replica id decides, the same way on both sides */
	struct fs_rec c, d, m3, m4;
	base(&c);
	fs_rec_init(&d, T);
	fs_rec_copy(&d, &c);
	write1(&c, &me, 60, "city", "Kazan");
	write1(&d, &you, 60, "city", "Perm");
	fs_merge(&c, &d, &m3);
	fs_merge(&d, &c, &m4);
	assert_string_equal(fval(&m3, "city"), fs_rid_cmp(&me, &you) > 0 ? "Kazan" : "Perm");
	assert_string_equal(fval(&m3, "city"), fval(&m4, "city"));
	fs_rec_release(&m3);
	fs_rec_release(&m4);
	fs_rec_release(&c);
	fs_rec_release(&d);
	fs_rec_release(&a);
	fs_rec_release(&b);
}

/* The case that breaks a one-dot-per-field merge (see merge.c). */
static void test_three_way_order(void **state)
{
	(void)state;
	struct fs_rid third = { { 3 } };
	struct fs_rec a, b, c, x, y, t1, t2;
	base(&a);
	fs_rec_init(&b, T);
	fs_rec_copy(&b, &a);
	write1(&a, &me, 100, "grade", "A");	/* a */
	write1(&b, &you, 300, "grade", "B");	/* b: concurrent with a, largest hlc */
	fs_rec_init(&c, T);
	fs_rec_copy(&c, &a);
	write1(&c, &third, 200, "grade", "C");	/* c: saw a, not b */
	fs_merge(&a, &b, &t1);
	fs_merge(&t1, &c, &x);
	fs_merge(&c, &b, &t2);
	fs_merge(&t2, &a, &y);
	assert_true(same_state(&x, &y));
	assert_string_equal(fval(&x, "grade"), "B");
	/* a was superseded by c (its author saw it): only c is an open clash */
	const struct fs_fstate *f = &x.f[fs_field_find(T, "grade")];
	assert_int_equal(f->nsib, 1);
	assert_string_equal(f->sib[0].v.s, "C");
	fs_rec_release(&a);
	fs_rec_release(&b);
	fs_rec_release(&c);
	fs_rec_release(&x);
	fs_rec_release(&y);
	fs_rec_release(&t1);
	fs_rec_release(&t2);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	T = &fs_tbl_customer;
	me.b[0] = 0x10;
	you.b[0] = 0x20;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_three_way_order),
		cmocka_unit_test(test_property),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
