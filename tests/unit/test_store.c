/* test_store.c - the local SQLite replica: schema, migrations, writes, HLC, merge-in, evictions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "store_int.h"

static char dir[256];

static void path(char *out, const char *name)
{
	snprintf(out, 512, "%s/%s", dir, name);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s/fs-store-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static void set(struct fs_chg *c, const char *field, const char *text)
{
	struct fs_val v = { 0 };
	int fi = fs_field_find(c->t, field);
	assert_true(fi >= 0);
	assert_int_equal(fs_field_parse(&c->t->fields[fi], text, FS_PARSE_USER, &v), 0);
	fs_chg_set(c, fi, &v);
	fs_val_release(&v);
}

static void new_customer(struct fs_store *s, const char *name, const char *terr, char id[33])
{
	struct fs_chg c;
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "name", name);
	set(&c, "territory", terr);
	assert_int_equal(fs_store_write(s, &c, NULL, id), 0);
	fs_chg_release(&c);
}

/* Every row of every table, as one string: "unchanged" means equal dumps. */
static char *dump(struct fs_store *s)
{
	struct fs_buf b;
	sqlite3_stmt *t, *r;
	fs_buf_init(&b, 0);
	sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name", -1, &t, NULL);
	while (sqlite3_step(t) == SQLITE_ROW) {
		char sql[200];
		snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", sqlite3_column_text(t, 0));
		sqlite3_prepare_v2(s->db, sql, -1, &r, NULL);
		while (sqlite3_step(r) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(r); c++) {
				const unsigned char *v = sqlite3_column_text(r, c);
				fs_buf_printf(&b, "%s|", v ? (const char *)v : "NULL");
			}
		sqlite3_finalize(r);
	}
	sqlite3_finalize(t);
	return fs_buf_detach(&b);
}

static int count(struct fs_store *s, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_create_modes(void **state)
{
	(void)state;
	char p[512], sub[512];
	struct fs_store *s;
	path(sub, "deep/er");
	path(p, "deep/er/s.db");
	assert_int_equal(fs_store_open(p, 0, &s), FIELDSYNC_ENOTFOUND);
	assert_int_equal(fs_store_open(p, FS_OPEN_CREATE, &s), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	sqlite3_stmt *q;
	sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &q, NULL);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	assert_int_equal(count(s, "PRAGMA synchronous"), 2);	/* FULL */
	assert_int_equal(count(s, "PRAGMA foreign_keys"), 1);
	assert_int_equal(count(s, "PRAGMA user_version"), FS_SCHEMA_VERSION);
	assert_int_equal(strlen(s->self_hex), 32);
	fs_store_close(s);
}

static void test_migrations(void **state)
{
	(void)state;
	/* from every earlier version (0 = empty file) to the current one, with data */
	for (int v = 0; v < FS_SCHEMA_VERSION; v++) {
		char p[512], name[32];
		sqlite3 *db;
		snprintf(name, sizeof name, "old%d.db", v);
		path(p, name);
		assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
		if (v > 0) {
			assert_int_equal(fs_store_migrate(db, v), 0);
			assert_int_equal(sqlite3_exec(db,
				"INSERT INTO customer(id, name, territory, scope, vv, dots, hlc) VALUES("
				"'0123456789abcdef0123456789abcdef', 'Old', 'T1', 'T1',"
				"'00000000000000000000000000000001:1', '0:1:5=name,territory', 5)", NULL, NULL, NULL),
				SQLITE_OK);
		}
		sqlite3_close(db);
		struct fs_store *s;
		assert_int_equal(fs_store_open(p, 0, &s), 0);
		assert_int_equal(count(s, "PRAGMA user_version"), FS_SCHEMA_VERSION);
		if (v > 0) {
			struct fs_rec r;
			assert_int_equal(fs_store_get(s, &fs_tbl_customer, "0123456789abcdef0123456789abcdef", &r), 0);
			assert_string_equal(r.f[0].v.s, "Old");
			fs_rec_release(&r);
		}
		/* and the upgraded store takes writes */
		char id[33];
		new_customer(s, "New", "T1", id);
		fs_store_close(s);
	}
}

static void test_refuse(void **state)
{
	(void)state;
	char p[512];
	struct fs_store *s;
	sqlite3 *db;
	path(p, "newer.db");
	assert_int_equal(fs_store_open(p, FS_OPEN_CREATE, &s), 0);
	fs_store_close(s);
	sqlite3_open(p, &db);
	sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(fs_store_open(p, 0, &s), FIELDSYNC_ESCHEMA);
	assert_non_null(strstr(fs_errmsg_get(), "newer"));

	path(p, "other.db");
	sqlite3_open(p, &db);
	sqlite3_exec(db, "CREATE TABLE x(a)", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(fs_store_open(p, 0, &s), FIELDSYNC_EIO);

	path(p, "garbage.db");
	FILE *f = fopen(p, "w");
	fputs("this is not a database, just some text long enough to look like a header...", f);
	fclose(f);
	assert_int_not_equal(fs_store_open(p, 0, &s), 0);
}

static void test_writes(void **state)
{
	(void)state;
	char p[512], id[33], cid[33];
	struct fs_store *s;
	struct fs_chg c;
	path(p, "w.db");
	assert_int_equal(fs_store_open(p, FS_OPEN_CREATE, &s), 0);
	new_customer(s, "Acme", "T1", id);
	char *before = dump(s);

	/* rejected writes leave the store as it was */
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "name", "No territory");
	assert_int_equal(fs_store_write(s, &c, NULL, cid), FIELDSYNC_EINVAL);
	fs_chg_release(&c);
	fs_chg_init(&c, &fs_tbl_contact);
	set(&c, "name", "Ivan");
	set(&c, "customer_id", "ffffffffffffffffffffffffffffffff");
	assert_int_equal(fs_store_write(s, &c, NULL, cid), FIELDSYNC_ENOTFOUND);
	fs_chg_release(&c);
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "name", "x");
	assert_int_equal(fs_store_write(s, &c, "ffffffffffffffffffffffffffffffff", NULL), FIELDSYNC_ENOTFOUND);
	fs_chg_release(&c);
	char *after = dump(s);
	assert_string_equal(before, after);
	free(after);

	/* a contact: scope follows its customer; immutables stay */
	fs_chg_init(&c, &fs_tbl_contact);
	set(&c, "name", "Ivan");
	set(&c, "customer_id", id);
	assert_int_equal(fs_store_write(s, &c, NULL, cid), 0);
	fs_chg_release(&c);
	struct fs_rec r;
	assert_int_equal(fs_store_get(s, &fs_tbl_contact, cid, &r), 0);
	assert_string_equal(r.scope, "T1");
	fs_rec_release(&r);
	char other[33];
	new_customer(s, "Other", "T1", other);
	fs_chg_init(&c, &fs_tbl_contact);
	set(&c, "customer_id", other);
	assert_int_equal(fs_store_write(s, &c, cid, NULL), FIELDSYNC_EINVAL);
	fs_chg_release(&c);

	/* the change log keeps local change order */
	assert_int_equal(count(s, "SELECT count(*) FROM changelog"), 3);
	assert_int_equal(count(s, "SELECT count(*) FROM changelog WHERE seq = 1 AND tbl = 'customer'"), 1);
	assert_int_equal(count(s, "SELECT count(*) FROM changelog WHERE seq = 2 AND tbl = 'contact'"), 1);

	/* a no-op edit writes nothing */
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "name", "Acme");
	assert_int_equal(fs_store_write(s, &c, id, NULL), 0);
	fs_chg_release(&c);
	assert_int_equal(count(s, "SELECT count(*) FROM changelog"), 3);

	/* a deleted record takes no edits */
	struct fs_chg del;
	struct fs_val one = { 0 };
	fs_chg_init(&del, &fs_tbl_customer);
	fs_val_set_int(&one, 1);
	fs_chg_set(&del, fs_tbl_customer.deleted_field, &one);
	assert_int_equal(fs_store_write(s, &del, other, NULL), 0);
	fs_chg_release(&del);
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "name", "Ghost");
	assert_int_equal(fs_store_write(s, &c, other, NULL), FIELDSYNC_ENOTFOUND);
	fs_chg_release(&c);
	free(before);
	fs_store_close(s);
}

static void test_hlc_persists(void **state)
{
	(void)state;
	char p[512], id[33];
	struct fs_store *s;
	struct fs_rec r;
	path(p, "hlc.db");
	setenv("FIELDSYNC_NOW_MS", "1800000000000", 1);
	assert_int_equal(fs_store_open(p, FS_OPEN_CREATE, &s), 0);
	new_customer(s, "A", "T1", id);
	fs_store_get(s, &fs_tbl_customer, id, &r);
	int64_t h1 = r.hlc;
	fs_rec_release(&r);
	fs_store_close(s);
	/* the clock goes back a day and the process restarts */
	setenv("FIELDSYNC_NOW_MS", "1799913600000", 1);
	assert_int_equal(fs_store_open(p, 0, &s), 0);
	struct fs_chg c;
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "name", "B");
	assert_int_equal(fs_store_write(s, &c, id, NULL), 0);
	fs_chg_release(&c);
	fs_store_get(s, &fs_tbl_customer, id, &r);
	assert_true(r.hlc > h1);
	fs_rec_release(&r);
	fs_store_close(s);
	unsetenv("FIELDSYNC_NOW_MS");
}

static void test_apply_and_conflicts(void **state)
{
	(void)state;
	char p1[512], p2[512], id[33];
	struct fs_store *a, *b;
	struct fs_rec ra, rb;
	int changed;
	path(p1, "a.db");
	path(p2, "b.db");
	assert_int_equal(fs_store_open(p1, FS_OPEN_CREATE, &a), 0);
	assert_int_equal(fs_store_open(p2, FS_OPEN_CREATE, &b), 0);
	new_customer(a, "Acme", "T1", id);
	fs_store_get(a, &fs_tbl_customer, id, &ra);
	assert_int_equal(fs_store_apply(b, &ra, "T1", 0, &changed), 0);
	assert_true(changed);
	assert_int_equal(fs_store_apply(b, &ra, "T1", 0, &changed), 0);
	assert_false(changed);	/* idempotent */
	fs_rec_release(&ra);
	/* same field on both sides, different fields too */
	struct fs_chg c;
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "phone", "111");
	set(&c, "city", "Kazan");
	assert_int_equal(fs_store_write(a, &c, id, NULL), 0);
	fs_chg_release(&c);
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "phone", "222");
	set(&c, "grade", "B");
	assert_int_equal(fs_store_write(b, &c, id, NULL), 0);
	fs_chg_release(&c);
	fs_store_get(a, &fs_tbl_customer, id, &ra);
	fs_store_get(b, &fs_tbl_customer, id, &rb);
	assert_int_equal(fs_store_apply(a, &rb, NULL, 0, &changed), 0);
	assert_int_equal(fs_store_apply(b, &ra, NULL, 0, &changed), 0);
	struct fs_rec ma, mb;
	fs_store_get(a, &fs_tbl_customer, id, &ma);
	fs_store_get(b, &fs_tbl_customer, id, &mb);
	assert_true(fs_rec_same(&ma, &mb));
	assert_string_equal(ma.f[fs_field_find(&fs_tbl_customer, "city")].v.s, "Kazan");
	assert_string_equal(ma.f[fs_field_find(&fs_tbl_customer, "grade")].v.s, "B");
	/* conflict records: both replicas derive the same id on their own */
	assert_int_equal(fs_store_note_clashes(a, &ma), 0);
	assert_int_equal(fs_store_note_clashes(b, &mb), 0);
	assert_int_equal(count(a, "SELECT count(*) FROM conflict"), 1);
	assert_int_equal(count(b, "SELECT count(*) FROM conflict"), 1);
	sqlite3_stmt *q1, *q2;
	sqlite3_prepare_v2(a->db, "SELECT id, value, field FROM conflict", -1, &q1, NULL);
	sqlite3_prepare_v2(b->db, "SELECT id, value, field FROM conflict", -1, &q2, NULL);
	sqlite3_step(q1);
	sqlite3_step(q2);
	assert_string_equal(sqlite3_column_text(q1, 0), sqlite3_column_text(q2, 0));
	assert_string_equal(sqlite3_column_text(q1, 2), "phone");
	const char *winner = ma.f[fs_field_find(&fs_tbl_customer, "phone")].v.s;
	assert_string_equal(sqlite3_column_text(q1, 1), strcmp(winner, "111") ? "111" : "222");
	sqlite3_finalize(q1);
	sqlite3_finalize(q2);
	/* noting again adds nothing */
	assert_int_equal(fs_store_note_clashes(a, &ma), 0);
	assert_int_equal(count(a, "SELECT count(*) FROM conflict"), 1);
	fs_rec_release(&ra);
	fs_rec_release(&rb);
	fs_rec_release(&ma);
	fs_rec_release(&mb);
	fs_store_close(a);
	fs_store_close(b);
}

static void test_evict(void **state)
{
	(void)state;
	char p[512], c1[33], c2[33], k[33];
	struct fs_store *s;
	struct fs_chg c;
	int n;
	path(p, "ev.db");
	assert_int_equal(fs_store_open(p, FS_OPEN_CREATE, &s), 0);
	new_customer(s, "One", "T1", c1);
	new_customer(s, "Two", "T2", c2);
	fs_chg_init(&c, &fs_tbl_contact);
	set(&c, "name", "Ivan");
	set(&c, "customer_id", c1);
	assert_int_equal(fs_store_write(s, &c, NULL, k), 0);
	fs_chg_release(&c);
	assert_int_equal(fs_store_pending_under(s, &fs_tbl_customer, c1, "T1", &n), 0);
	assert_int_equal(n, 2);	/* the customer and its contact */
	sqlite3_exec(s->db, "DELETE FROM changelog", NULL, NULL, NULL);
	assert_int_equal(fs_store_pending_under(s, &fs_tbl_customer, c1, "T1", &n), 0);
	assert_int_equal(n, 0);
	/* an eviction for a scope the record no longer has is ignored */
	assert_int_equal(fs_store_evict(s, &fs_tbl_customer, c1, "T9", 100), 0);
	assert_int_equal(count(s, "SELECT count(*) FROM customer"), 2);
	/* a row that reflects a later HQ version than the eviction stays */
	assert_int_equal(fs_store_set_hqseq(s, &fs_tbl_customer, c1, 150, NULL), 0);
	assert_int_equal(fs_store_evict(s, &fs_tbl_customer, c1, "T1", 100), 0);
	assert_int_equal(count(s, "SELECT count(*) FROM customer"), 2);
	assert_int_equal(fs_store_evict(s, &fs_tbl_customer, c1, "T1", 200), 0);
	assert_int_equal(count(s, "SELECT count(*) FROM customer"), 1);
	assert_int_equal(count(s, "SELECT count(*) FROM contact"), 0);
	assert_int_equal(fs_store_evict_scope(s, "T2"), 0);
	assert_int_equal(count(s, "SELECT count(*) FROM customer"), 0);
	fs_store_close(s);
}

static void test_nested_txn(void **state)
{
	(void)state;
	char p[512], id[33];
	struct fs_store *s;
	path(p, "txn.db");
	assert_int_equal(fs_store_open(p, FS_OPEN_CREATE, &s), 0);
	assert_int_equal(fs_store_begin(s), 0);
	new_customer(s, "Inside", "T1", id);
	struct fs_chg c;
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "name", "bad");
	assert_int_not_equal(fs_store_write(s, &c, NULL, id), 0);	/* inner failure */
	fs_chg_release(&c);
	/* the caller gives up: nothing of the group remains */
	fs_store_rollback(s);
	assert_int_equal(count(s, "SELECT count(*) FROM customer"), 0);
	assert_int_equal(count(s, "SELECT count(*) FROM changelog"), 0);
	fs_store_close(s);
}

/* A store sealed by another process after this one opened it without a
 * key: a record with sealed values is not read (a write would save the
 * placeholder back), and nothing changes. */
static void test_sealed_after_open(void **state)
{
	(void)state;
	char p[512], key[512], id[33], id2[33];
	struct fs_store *a, *b;
	struct fs_rec r;
	path(p, "sealed.db");
	path(key, "seal.key");
	unsetenv("FIELDSYNC_KEY_FILE");
	unsetenv("FIELDSYNC_PASSPHRASE");
	assert_int_equal(fs_store_open(p, FS_OPEN_CREATE, &a), 0);
	struct fs_chg c;
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "name", "Acme");
	set(&c, "territory", "T1");
	set(&c, "phone", "+7 495 111 22 33");
	assert_int_equal(fs_store_write(a, &c, NULL, id), 0);
	fs_chg_release(&c);
	new_customer(a, "Plain", "T1", id2);	/* nothing sensitive in it */
	setenv("FIELDSYNC_KEY_FILE", key, 1);
	assert_int_equal(fs_store_open(p, 0, &b), 0);	/* seals the store */
	unsetenv("FIELDSYNC_KEY_FILE");
	assert_int_equal(fs_store_get(a, &fs_tbl_customer, id, &r), FIELDSYNC_EAUTH);
	fs_chg_init(&c, &fs_tbl_customer);
	set(&c, "city", "Kazan");
	assert_int_not_equal(fs_store_write(a, &c, id, NULL), 0);
	fs_chg_release(&c);
	assert_int_equal(fs_store_get(a, &fs_tbl_customer, id2, &r), 0);	/* no sealed value: readable */
	fs_rec_release(&r);
	/* the keyed side still reads the phone as written */
	assert_int_equal(fs_store_get(b, &fs_tbl_customer, id, &r), 0);
	assert_string_equal(r.f[fs_field_find(&fs_tbl_customer, "phone")].v.s, "+7 495 111 22 33");
	assert_int_equal(r.f[fs_field_find(&fs_tbl_customer, "city")].v.t, FS_V_NULL);
	fs_rec_release(&r);
	fs_store_close(a);
	fs_store_close(b);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_modes),
		cmocka_unit_test(test_migrations),
		cmocka_unit_test(test_refuse),
		cmocka_unit_test(test_writes),
		cmocka_unit_test(test_hlc_persists),
		cmocka_unit_test(test_apply_and_conflicts),
		cmocka_unit_test(test_evict),
		cmocka_unit_test(test_nested_txn),
		cmocka_unit_test(test_sealed_after_open),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
