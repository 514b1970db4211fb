/* test_record.c - values, version vectors, dots, HLC and the store encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "record.h"
#include "util.h"

static struct fs_rid rid(int k)
{
	struct fs_rid r;
	memset(r.b, 0, sizeof r.b);
	r.b[0] = (unsigned char)k;
	return r;
}

static void test_money(void **state)
{
	(void)state;
	int64_t v;
	char buf[32];
	assert_int_equal(fs_parse_money("12", &v), 0);
	assert_int_equal(v, 1200);
	assert_int_equal(fs_parse_money("12.5", &v), 0);
	assert_int_equal(v, 1250);
	assert_int_equal(fs_parse_money("0.07", &v), 0);
	assert_int_equal(v, 7);
	assert_int_not_equal(fs_parse_money("-1", &v), 0);
	assert_int_not_equal(fs_parse_money("1.234", &v), 0);
	assert_int_not_equal(fs_parse_money("1e3", &v), 0);
	assert_int_not_equal(fs_parse_money("", &v), 0);
	assert_int_not_equal(fs_parse_money(".5", &v), 0);
	/* the 2^53 edge: 90071992547409.91 is exactly 2^53 - 1 minor units */
	assert_int_equal(fs_parse_money("90071992547409.91", &v), 0);
	assert_true(v == 9007199254740991LL);
	assert_int_equal(fs_parse_money("90071992547409.92", &v), FIELDSYNC_ELIMIT);
	assert_int_equal(fs_parse_money("99999999999999999999999", &v), FIELDSYNC_ELIMIT);
	fs_fmt_money(9007199254740991LL, buf);
	assert_string_equal(buf, "90071992547409.91");
	fs_fmt_money(5, buf);
	assert_string_equal(buf, "0.05");
}

static void test_field_parse(void **state)
{
	(void)state;
	const struct fs_table *t = &fs_tbl_customer;
	struct fs_val v = { 0 };
	const struct fs_field *grade = &t->fields[fs_field_find(t, "grade")];
	const struct fs_field *lat = &t->fields[fs_field_find(t, "lat")];
	const struct fs_field *name = &t->fields[fs_field_find(t, "name")];
	const struct fs_field *md = &t->fields[fs_field_find(t, "monthly-demand")];

	assert_int_equal(fs_field_parse(grade, "vip", FS_PARSE_USER, &v), 0);
	assert_string_equal(v.s, "VIP");
	assert_int_equal(fs_field_parse(grade, "vip", 0, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(grade, "D", FS_PARSE_USER, &v), FIELDSYNC_EINVAL);
	assert_non_null(strstr(fs_errmsg_get(), "grade"));
	assert_int_equal(fs_field_parse(lat, "90", FS_PARSE_USER, &v), 0);
	assert_int_equal(fs_field_parse(lat, "90.0001", FS_PARSE_USER, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(lat, "nan", FS_PARSE_USER, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(lat, "inf", FS_PARSE_USER, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(lat, "0x10", FS_PARSE_USER, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(name, "caf\xc3\xa9", 0, &v), 0);
	assert_int_equal(fs_field_parse(name, "bad\xc3", 0, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(name, "\xed\xa0\x80", 0, &v), FIELDSYNC_EINVAL); /* surrogate */
	assert_int_equal(fs_field_parse(name, "\xc0\xaf", 0, &v), FIELDSYNC_EINVAL);	 /* overlong */
	char big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(fs_field_parse(name, big, 0, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(md, "12.50", FS_PARSE_USER, &v), 0);
	assert_true(v.t == FS_V_INT && v.i == 1250);
	assert_int_equal(fs_field_parse(md, "1250", 0, &v), 0);
	assert_true(v.i == 1250);
	assert_int_equal(fs_field_parse(md, "9007199254740992", 0, &v), FIELDSYNC_EINVAL);

	const struct fs_table *vt = &fs_tbl_visit;
	const struct fs_field *pd = &vt->fields[fs_field_find(vt, "planned_date")];
	const struct fs_field *ci = &vt->fields[fs_field_find(vt, "check_in")];
	assert_int_equal(fs_field_parse(pd, "2024-02-29", 0, &v), 0);
	assert_int_equal(fs_field_parse(pd, "2023-02-29", 0, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(pd, "2023-13-01", 0, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(pd, "23-1-1", 0, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(ci, "2026-11-23T09:30:00+03:00", FS_PARSE_USER, &v), 0);
	assert_string_equal(v.s, "2026-11-23T06:30:00Z");
	assert_int_equal(fs_field_parse(ci, "2026-11-23T09:30:00+03:00", 0, &v), FIELDSYNC_EINVAL);
	assert_int_equal(fs_field_parse(ci, "2026-11-23T25:30:00Z", 0, &v), FIELDSYNC_EINVAL);
	fs_val_release(&v);
}

static void test_field_check(void **state)
{
	(void)state;
	const struct fs_table *t = &fs_tbl_customer;
	const struct fs_field *md = &t->fields[fs_field_find(t, "monthly_demand")];
	const struct fs_field *grade = &t->fields[fs_field_find(t, "grade")];
	struct fs_val v = { 0 };
	fs_val_set_int(&v, FS_INT_MAX_EXACT);
	assert_int_equal(fs_field_check(md, &v), 0);
	fs_val_set_int(&v, FS_INT_MAX_EXACT + 1);
	assert_int_equal(fs_field_check(md, &v), FIELDSYNC_EINVAL);
	fs_val_set_int(&v, -1);
	assert_int_equal(fs_field_check(md, &v), FIELDSYNC_EINVAL);
	fs_val_set_text(&v, "12", 2);
	assert_int_equal(fs_field_check(md, &v), FIELDSYNC_EINVAL);	/* wrong type */
	fs_val_set_text(&v, "b", 1);
	assert_int_equal(fs_field_check(grade, &v), FIELDSYNC_EINVAL);	/* not canonical */
	fs_val_set_text(&v, "B", 1);
	assert_int_equal(fs_field_check(grade, &v), 0);
	fs_val_release(&v);
}

static void test_vv(void **state)
{
	(void)state;
	struct fs_vv a = { 0 }, b = { 0 }, m = { 0 };
	struct fs_rid r1 = rid(1), r2 = rid(2), r3 = rid(3);
	assert_int_equal(fs_vv_cmp(&a, &b), FS_VV_EQUAL);
	fs_vv_set(&a, &r2, 3);
	fs_vv_set(&a, &r1, 1);
	assert_int_equal(a.n, 2);
	assert_int_equal(fs_rid_cmp(&a.e[0].rid, &r1), 0);	/* kept sorted */
	assert_int_equal(fs_vv_cmp(&a, &b), FS_VV_A_NEWER);
	fs_vv_set(&b, &r2, 3);
	assert_int_equal(fs_vv_cmp(&a, &b), FS_VV_A_NEWER);
	fs_vv_set(&b, &r3, 1);
	assert_int_equal(fs_vv_cmp(&a, &b), FS_VV_CONCURRENT);
	fs_vv_merge(&m, &a, &b);
	assert_int_equal(m.n, 3);
	assert_int_equal(fs_vv_cmp(&m, &a), FS_VV_A_NEWER);
	assert_int_equal(fs_vv_cmp(&m, &b), FS_VV_A_NEWER);
	struct fs_dot d = { r2, 3, 0 };
	assert_true(fs_vv_covers(&a, &d));
	d.c = 4;
	assert_false(fs_vv_covers(&a, &d));

	char *enc;
	struct fs_vv back = { 0 };
	assert_int_equal(fs_vv_encode(&m, &enc), 0);
	assert_int_equal(fs_vv_decode(enc, &back), 0);
	assert_int_equal(fs_vv_cmp(&m, &back), FS_VV_EQUAL);
	free(enc);
	assert_int_not_equal(fs_vv_decode("zz:1", &back), 0);
	assert_int_not_equal(fs_vv_decode("0200000000000000000000000000000:1", &back), 0);
	fs_vv_release(&a);
	fs_vv_release(&b);
	fs_vv_release(&m);
	fs_vv_release(&back);
}

static void test_hlc(void **state)
{
	(void)state;
	setenv("FIELDSYNC_NOW_MS", "1700000000000", 1);
	int64_t h1 = fs_hlc_next(0);
	assert_true(h1 == 1700000000000LL * 1024);
	int64_t h2 = fs_hlc_next(h1);
	assert_true(h2 > h1);
	/* the wall clock jumps back an hour: still monotonic */
	setenv("FIELDSYNC_NOW_MS", "1699996400000", 1);
	int64_t h3 = fs_hlc_next(h2);
	assert_true(h3 > h2);
	assert_true(fs_hlc_ms(h3) == 1700000000000LL);
	/* 1024 events in one ms spill into the next ms, never repeat */
	int64_t h = h3;
	for (int i = 0; i < 3000; i++) {
		int64_t n = fs_hlc_next(h);
		assert_true(n > h);
		h = n;
	}
	/* below 2^53 until the year 2248 */
	assert_true((int64_t)8000000000000LL * 1024 < FS_HLC_MAX);
	unsetenv("FIELDSYNC_NOW_MS");
}

static void test_write_and_encode(void **state)
{
	(void)state;
	const struct fs_table *t = &fs_tbl_customer;
	struct fs_rec r, back;
	struct fs_chg c;
	struct fs_val v = { 0 };
	struct fs_rid me = rid(7);
	fs_rec_init(&r, t);
	strcpy(r.id, "0123456789abcdef0123456789abcdef");
	fs_chg_init(&c, t);
	fs_val_set_text(&v, "Acme", 4);
	fs_chg_set(&c, fs_field_find(t, "name"), &v);
	fs_val_set_text(&v, "T1", 2);
	fs_chg_set(&c, fs_field_find(t, "territory"), &v);
	assert_int_equal(fs_rec_write(&r, &c, &me, 100), 2);
	assert_int_equal(fs_vv_get(&r.vv, &me), 1);
	/* the same values again: nothing changes, vv untouched */
	assert_int_equal(fs_rec_write(&r, &c, &me, 101), 0);
	assert_int_equal(fs_vv_get(&r.vv, &me), 1);
	fs_chg_release(&c);
	fs_chg_init(&c, t);
	fs_val_set_text(&v, "Acme Ltd", 8);
	fs_chg_set(&c, fs_field_find(t, "name"), &v);
	assert_int_equal(fs_rec_write(&r, &c, &me, 102), 1);
	assert_int_equal(r.f[fs_field_find(t, "name")].dot.c, 2);
	assert_int_equal(r.f[fs_field_find(t, "territory")].dot.c, 1);

	/* a sibling with an awkward value survives the text encoding */
	struct fs_fstate *f = &r.f[fs_field_find(t, "notes")];
	struct fs_rid other = rid(9);
	fs_vv_set(&r.vv, &other, 4);
	f->dot = (struct fs_dot){ other, 4, 99 };
	fs_val_set_text(&f->v, "a", 1);
	f->sib = calloc(1, sizeof *f->sib);
	f->nsib = 1;
	f->sib[0].dot = (struct fs_dot){ me, 2, 98 };
	fs_val_set_text(&f->sib[0].v, "line1\nline2 with spaces \xe4\xb8\xad", 26);

	char *vv, *dots, *sib;
	assert_int_equal(fs_vv_encode(&r.vv, &vv), 0);
	assert_int_equal(fs_dots_encode(&r, &dots), 0);
	assert_int_equal(fs_sib_encode(&r, &sib), 0);
	assert_non_null(sib);
	fs_rec_init(&back, t);
	strcpy(back.id, r.id);
	assert_int_equal(fs_vv_decode(vv, &back.vv), 0);
	assert_int_equal(fs_dots_decode(dots, &back), 0);
	assert_int_equal(fs_sib_decode(sib, &back), 0);
	for (int i = 0; i < t->nfields; i++)
		fs_val_copy(&back.f[i].v, &r.f[i].v);
	assert_true(fs_rec_same(&r, &back));
	assert_string_equal(back.f[fs_field_find(t, "notes")].sib[0].v.s, f->sib[0].v.s);
	assert_int_not_equal(fs_sib_decode("notes 0:1:1 s99:short\n", &back), 0);
	free(vv);
	free(dots);
	free(sib);
	fs_val_release(&v);
	fs_chg_release(&c);
	fs_rec_release(&r);
	fs_rec_release(&back);
}

/* A peer of schema 4 edits an order line whose sku (schema 5) it never
 * saw: the merge alone drops the sku (the peer's version dominates), and
 * fs_rec_keep_unknown puts back the receiver's state of it. */
static void test_keep_unknown(void **state)
{
	(void)state;
	const struct fs_table *t = &fs_tbl_order_line;
	struct fs_rid a = rid(1), b = rid(2);
	struct fs_rec old, in, m;
	struct fs_chg c;
	struct fs_val v = { 0 };
	int fsku = fs_field_find(t, "sku"), fq = fs_field_find(t, "quantity"), fp = fs_field_find(t, "product");
	assert_true(fsku >= 0 && t->fields[fsku].since == 5 && t->fields[fq].since <= 4);
	fs_rec_init(&old, t);
	strcpy(old.id, "0123456789abcdef0123456789abcdef");
	fs_chg_init(&c, t);
	fs_val_set_text(&v, "Green tea", 9);
	fs_chg_set(&c, fp, &v);
	fs_val_set_text(&v, "GT-100", 6);
	fs_chg_set(&c, fsku, &v);
	fs_val_set_int(&v, 24);
	fs_chg_set(&c, fq, &v);
	assert_true(fs_rec_write(&old, &c, &a, 100) > 0);
	fs_chg_release(&c);
	/* what the old peer holds: everything but the field it does not know */
	fs_rec_init(&in, t);
	assert_int_equal(fs_rec_copy(&in, &old), 0);
	fs_val_release(&in.f[fsku].v);
	memset(&in.f[fsku], 0, sizeof in.f[fsku]);
	fs_chg_init(&c, t);
	fs_val_set_int(&v, 25);
	fs_chg_set(&c, fq, &v);
	assert_int_equal(fs_rec_write(&in, &c, &b, 200), 1);
	fs_chg_release(&c);
	assert_int_equal(fs_merge(&old, &in, &m), 0);
	assert_int_equal(m.f[fsku].dot.c, 0);	/* the merge alone loses it */
	assert_int_equal(fs_rec_keep_unknown(&m, &old, 5), 0);	/* a peer that knows it: as merged */
	assert_int_equal(m.f[fsku].dot.c, 0);
	assert_int_equal(fs_rec_keep_unknown(&m, &old, 4), 0);
	assert_string_equal(m.f[fsku].v.s, "GT-100");
	assert_true(fs_dot_same(&m.f[fsku].dot, &old.f[fsku].dot));
	assert_int_equal(m.f[fq].v.i, 25);
	assert_int_equal(fs_vv_cmp(&m.vv, &old.vv), FS_VV_A_NEWER);
	/* a new record from such a peer: the field stays unset */
	assert_int_equal(fs_rec_keep_unknown(&in, NULL, 4), 0);
	assert_int_equal(in.f[fsku].dot.c, 0);
	assert_int_equal(in.f[fsku].v.t, FS_V_NULL);
	fs_val_release(&v);
	fs_rec_release(&old);
	fs_rec_release(&in);
	fs_rec_release(&m);
}

static void test_conflict_id(void **state)
{
	(void)state;
	char a[33], b[33], c[33];
	struct fs_dot d = { rid(1), 3, 1000 };
	fs_conflict_id("customer", "0123456789abcdef0123456789abcdef", "name", &d, a);
	d.hlc = 2000;	/* same write: (rid, counter) fix it */
	fs_conflict_id("customer", "0123456789abcdef0123456789abcdef", "name", &d, b);
	assert_string_equal(a, b);
	fs_conflict_id("customer", "0123456789abcdef0123456789abcdef", "phone", &d, c);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 32);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_money),
		cmocka_unit_test(test_keep_unknown),
		cmocka_unit_test(test_field_parse),
		cmocka_unit_test(test_field_check),
		cmocka_unit_test(test_vv),
		cmocka_unit_test(test_hlc),
		cmocka_unit_test(test_write_and_encode),
		cmocka_unit_test(test_conflict_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
