/*
 * test_converge.c - convergence property test over the real system: a
 * fieldsyncd process on loopback, 2-6 device stores per seed (public API),
 * HQ edits through the HQ library on the same store file (what the admin
 * commands do). Each seed runs a random history of offline edits, creates,
 * deletes, HQ edits, customer and rep moves, conflict resolutions, and
 * syncs in random order, some cut short. At the end every device holds
 * exactly HQ's records of its scope (record for record, sync state
 * included) and every write ever made is accounted for: the value shown,
 * a kept sibling with its conflict record, overwritten by a write that had
 * seen it, or in HQ's quarantine.
 * FIELDSYNC_CONVERGE_SEEDS (default 200), FIELDSYNC_CONVERGE_FIRST (1).
 * FIELDSYNC_CONVERGE_PG: a PostgreSQL connection string (an empty database)
 * to use as HQ's store instead of an SQLite file, served by
 * FIELDSYNC_CONVERGE_HQS fieldsyncd processes (default 1, at most 4); the
 * devices of a seed are spread over them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "store_int.h"
#include "prng.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "api.h"
#include "hq.h"

#define MAXDEV 6
#define MAXW 4096

#define MAXHQ 4

static char dir[256], hqpath[1024], url[MAXHQ][64];
static pid_t server[MAXHQ];
static int nhq = 1;
static struct hq *H;
static uint64_t rng;

static int rnd(int n)
{
	return (int)(prng_next(&rng) % (uint64_t)n);
}

struct dev {
	fieldsync_store *s;
	char rep[32];
	int mask;	/* territories of its rep (bit i: territory i) */
};

struct write {
	char tbl[16], id[33];
	int field;
	struct fs_dot dot;
	struct fs_vv ctx;
};

static struct dev D[MAXDEV];
static int ndev, seed;
static struct write W[MAXW];
static int nw;
static char terr[3][16];

/* ---- server ---- */

static pid_t serve(const char *bin, int k)
{
	char logf[320], portf[320], port[16] = "";
	snprintf(portf, sizeof portf, "%s/port%d", dir, k);
	pid_t pid = fork();
	if (pid == 0) {
		snprintf(logf, sizeof logf, "%s/hq%d.log", dir, k);
		if (!freopen(logf, "w", stderr))
			_exit(127);
		execl(bin, "fieldsyncd", "--db", hqpath, "serve", "--listen", "127.0.0.1:0", "--port-file", portf,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400 && !port[0]; i++) {
		FILE *f = fopen(portf, "r");
		if (f) {
			if (!fgets(port, sizeof port, f))
				port[0] = '\0';
			fclose(f);
		}
		if (!port[0])
			usleep(25000);
	}
	if (!port[0])
		return -1;
	port[strcspn(port, "\n")] = '\0';
	snprintf(url[k], sizeof url[k], "http://127.0.0.1:%s", port);
	return pid;
}

static int setup(void **state)
{
	(void)state;
	const char *b = getenv("FIELDSYNC_BUILD"), *pg = getenv("FIELDSYNC_CONVERGE_PG");
	const char *n = getenv("FIELDSYNC_CONVERGE_HQS");
	char bin[512];
	snprintf(dir, sizeof dir, "%s/fs-conv-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	if (pg && *pg)
		snprintf(hqpath, sizeof hqpath, "%s", pg);
	else
		snprintf(hqpath, sizeof hqpath, "%s/hq.db", dir);
	nhq = n ? atoi(n) : 1;
	if (nhq < 1 || nhq > MAXHQ)
		return -1;
	snprintf(bin, sizeof bin, "%s/fieldsyncd", b ? b : "build");
	if (hq_init(hqpath))
		return -1;
	for (int k = 0; k < nhq; k++)
		if ((server[k] = serve(bin, k)) < 0)
			return -1;
	setenv("FIELDSYNC_RETRY_MS", "10", 1);
	setenv("FIELDSYNC_BATCH", "4", 1);
	setenv("FIELDSYNC_PAGE", "5", 1);
	return hq_open(hqpath, &H);
}

static int teardown(void **state)
{
	(void)state;
	hq_close(H);
	for (int k = 0; k < nhq; k++)
		if (server[k] > 0) {
			kill(server[k], SIGTERM);
			waitpid(server[k], NULL, 0);
		}
	if (!getenv("FIELDSYNC_KEEP")) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

/* ---- helpers ---- */

static void terr_list(int mask, char *out, size_t n)
{
	out[0] = '\0';
	for (int i = 0; i < 3; i++)
		if (mask & (1 << i))
			snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? "," : "", terr[i]);
}

/* Remember the fields a write just stamped: those whose dot is the newest
 * write of `self` in the record. */
static void note_write(const struct fs_rec *r, const struct fs_rid *self)
{
	int64_t c = fs_vv_get(&r->vv, self);
	for (int i = 0; i < r->t->nfields && nw < MAXW; i++) {
		if (r->f[i].dot.c != c || fs_rid_cmp(&r->f[i].dot.rid, self))
			continue;
		struct write *w = &W[nw++];
		snprintf(w->tbl, sizeof w->tbl, "%s", r->t->name);
		memcpy(w->id, r->id, 33);
		w->field = i;
		w->dot = r->f[i].dot;
		memset(&w->ctx, 0, sizeof w->ctx);
		fs_vv_copy(&w->ctx, &r->vv);
	}
}

static void note_dev(struct dev *d, const char *tbl, const char *id)
{
	struct fs_rec r;
	if (fs_store_get(d->s->st, fs_table_find(tbl), id, &r) == 0) {
		note_write(&r, &d->s->st->self);
		fs_rec_release(&r);
	}
}

static void note_hq(const char *tbl, const char *id)
{
	struct hq_db *db;
	struct fs_rec r;
	struct fs_rid self;
	fs_rid_parse(hq_replica_id(H), &self);
	if (hq_acquire(H, &db))
		return;
	if (hq_get(H, db, fs_table_find(tbl), id, 0, &r) == 0) {
		note_write(&r, &self);
		fs_rec_release(&r);
	}
	hq_release(H, db);
}

/* A random live record id of `tbl` on a device ("" if none). */
static void pick(struct dev *d, const char *tbl, char id[33])
{
	fieldsync_rows *r;
	id[0] = '\0';
	if (fieldsync_list(d->s, tbl, NULL, NULL, &r))
		return;
	int n = fieldsync_rows_count(r);
	if (n)
		snprintf(id, 33, "%s", fieldsync_rows_value(r, rnd(n), 0));
	fieldsync_rows_free(r);
}

static void pick_hq(const char *tbl, char id[33])
{
	struct fieldsync_rows *r;
	id[0] = '\0';
	if (hq_list(H, fs_table_find(tbl), NULL, NULL, &r))
		return;
	if (r->nrow) {
		const char *v = r->cells[(size_t)rnd(r->nrow) * (size_t)r->ncol];
		snprintf(id, 33, "%s", v ? v : "");
	}
	fs_rows_free(r);
}

static const char *const cust_fields[] = { "name", "grade", "phone", "notes", "city", "loyalty" };

static void value_for(const char *field, char *buf, size_t n)
{
	if (!strcmp(field, "grade"))
		snprintf(buf, n, "%s", (const char *[]){ "A", "B", "C", "VIP" }[rnd(4)]);
	else if (!strcmp(field, "loyalty"))
		snprintf(buf, n, "%d", 1 + rnd(5));
	else
		snprintf(buf, n, "%s-%d", field, rnd(5));	/* small pool: equal values happen */
}

static int cancel_after;
static void dev_edit(struct dev *d, char id[33]);
static void hq_move(const char *id);

/* Between the sync's transactions: sometimes cut it short, sometimes write
 * as another process on the device would (the rep keeps working), or move
 * a customer at HQ (an administrator at work meanwhile). */
static int progress(void *ctx, long pushed, long pulled)
{
	(void)pushed;
	(void)pulled;
	char id[33] = "";
	int k = rnd(8);
	if (k < 2) {
		dev_edit(ctx, id);
	} else if (k == 2) {
		hq_move(NULL);
	} else if (k == 3) {	/* the rep edits a customer HQ is moving away */
		dev_edit(ctx, id);
		if (*id)
			hq_move(id);
	}
	return cancel_after >= 0 && --cancel_after < 0;
}

/* busy: others keep writing while it syncs (the random history);
 * interrupt: and it is cut short after a few steps. */
static long dev_sync(struct dev *d, int busy, int interrupt)
{
	fieldsync_rows *sum = NULL;
	cancel_after = interrupt ? rnd(4) : -1;
	int rc = fieldsync_sync(d->s, busy ? progress : NULL, d, &sum);
	long moved = 0;
	if (sum) {
		moved = atol(fieldsync_rows_value(sum, 0, fieldsync_rows_find(sum, "pushed"))) +
			atol(fieldsync_rows_value(sum, 0, fieldsync_rows_find(sum, "pulled"))) +
			atol(fieldsync_rows_value(sum, 0, fieldsync_rows_find(sum, "evicted")));
		fieldsync_rows_free(sum);
	}
	if (rc != 0 && rc != 1 && rc != FIELDSYNC_ECANCELED)
		fail_msg("seed %d: sync failed: %d %s", seed, rc, fieldsync_errmsg());
	return moved;
}

/* ---- one random history ---- */

/* A device edit of a random customer; its id in id[] ("" if none). */
static void dev_edit(struct dev *d, char id[33])
{
	char val[64];
	fieldsync_rec *r;
	pick(d, "customer", id);
	if (!*id)
		return;
	const char *f = cust_fields[rnd(6)];
	value_for(f, val, sizeof val);
	fieldsync_rec_new("customer", &r);
	fieldsync_rec_set(r, f, val);
	if (fieldsync_update(d->s, id, r) == 0)
		note_dev(d, "customer", id);
	fieldsync_rec_free(r);
}

static void hq_move(const char *which)
{
	struct fs_chg c;
	struct fs_val v = { 0 };
	char id[33];
	if (which)
		snprintf(id, sizeof id, "%s", which);
	else
		pick_hq("customer", id);
	if (!*id)
		return;
	fs_chg_init(&c, &fs_tbl_customer);
	const char *t = terr[rnd(3)];
	fs_val_set_text(&v, t, strlen(t));
	fs_chg_set(&c, fs_field_find(&fs_tbl_customer, "territory"), &v);
	if (hq_write(H, &c, id, NULL) == 0)
		note_hq("customer", id);
	fs_val_release(&v);
	fs_chg_release(&c);
}

static void op(void)
{
	struct dev *d = &D[rnd(ndev)];
	char id[33], val[64], nid[33];
	fieldsync_rec *r;
	int k = rnd(100);
	if (k < 22) {	/* device edits a customer */
		dev_edit(d, id);
	} else if (k < 30) {	/* device logs a visit */
		pick(d, "customer", id);
		if (!*id)
			return;
		fieldsync_rec_new("visit", &r);
		fieldsync_rec_set(r, "customer_id", id);
		fieldsync_rec_set(r, "status", "done");
		value_for("outcome", val, sizeof val);
		fieldsync_rec_set(r, "outcome", val);
		if (fieldsync_insert(d->s, r, nid) == 0)
			note_dev(d, "visit", nid);
		fieldsync_rec_free(r);
	} else if (k < 34) {	/* device edits a visit */
		pick(d, "visit", id);
		if (!*id)
			return;
		value_for("outcome", val, sizeof val);
		fieldsync_rec_new("visit", &r);
		fieldsync_rec_set(r, "outcome", val);
		if (fieldsync_update(d->s, id, r) == 0)
			note_dev(d, "visit", id);
		fieldsync_rec_free(r);
	} else if (k < 38) {	/* device creates a customer in one of its territories */
		int t;
		do
			t = rnd(3);
		while (!(d->mask & (1 << t)));
		fieldsync_rec_new("customer", &r);
		fieldsync_rec_set(r, "name", "new");
		fieldsync_rec_set(r, "territory", terr[t]);
		if (fieldsync_insert(d->s, r, nid) == 0)
			note_dev(d, "customer", nid);
		fieldsync_rec_free(r);
	} else if (k < 41) {	/* device deletes */
		const char *tbl = rnd(2) ? "customer" : "visit";
		pick(d, tbl, id);
		if (*id && fieldsync_delete(d->s, tbl, id) == 0)
			note_dev(d, tbl, id);
	} else if (k < 49) {	/* HQ edits */
		struct fs_chg c;
		struct fs_val v = { 0 };
		pick_hq("customer", id);
		if (!*id)
			return;
		const char *f = cust_fields[rnd(6)];
		value_for(f, val, sizeof val);
		fs_chg_init(&c, &fs_tbl_customer);
		int fi = fs_field_find(&fs_tbl_customer, f);
		fs_field_parse(&fs_tbl_customer.fields[fi], val, FS_PARSE_USER, &v);
		fs_chg_set(&c, fi, &v);
		if (hq_write(H, &c, id, NULL) == 0)
			note_hq("customer", id);
		fs_val_release(&v);
		fs_chg_release(&c);
	} else if (k < 58) {	/* HQ moves a customer */
		hq_move(NULL);
	} else if (k < 63) {	/* HQ moves a rep */
		char list[64];
		d->mask = 1 + rnd(7);
		terr_list(d->mask, list, sizeof list);
		assert_int_equal(hq_rep_move(H, d->rep, list), 0);
	} else if (k < 90) {
		dev_sync(d, 1, rnd(3) == 0);
	} else {	/* someone resolves an open conflict */
		fieldsync_rows *c;
		if (fieldsync_conflicts(d->s, 0, &c) == 0) {
			if (fieldsync_rows_count(c)) {
				int row = rnd(fieldsync_rows_count(c));
				const char *cid = fieldsync_rows_value(c, row, 0);
				const char *tbl = fieldsync_rows_value(c, row, 1), *rec = fieldsync_rows_value(c, row, 2);
				char t[16], rid[33];
				snprintf(t, sizeof t, "%s", tbl);
				snprintf(rid, sizeof rid, "%s", rec);
				if (fieldsync_resolve(d->s, cid, rnd(2) ? "winner" : "loser") == 0)
					note_dev(d, t, rid);
			}
			fieldsync_rows_free(c);
		}
	}
}

/* ---- checks ---- */

struct recset {
	struct fs_rec *r;
	int n, cap;
};

static void add(struct recset *out, const struct fs_rec *r)
{
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 16;
		out->r = realloc(out->r, (size_t)out->cap * sizeof *out->r);
	}
	out->r[out->n++] = *r;
}

/* A device store's records of `t` (of the territories listed in `scope`,
 * ",A,B,", or all), in id order. */
static void load(const char *path, const struct fs_table *t, const char *scope, struct recset *out)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct fs_buf cols, sql;
	fs_buf_init(&cols, 0);
	fs_buf_init(&sql, 0);
	fs_sql_columns(t, &cols);
	fs_buf_printf(&sql, "SELECT %s FROM %s WHERE %s ORDER BY id", cols.p, t->name,
		      scope ? "instr(?1, ',' || scope || ',') > 0" : "1");
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_prepare_v2(db, sql.p, -1, &st, NULL), SQLITE_OK);
	if (scope)
		sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	memset(out, 0, sizeof *out);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct fs_rec r;
		assert_int_equal(fs_row_read(st, 0, t, &r), 0);
		add(out, &r);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	fs_buf_release(&cols);
	fs_buf_release(&sql);
}

struct load_ctx {
	const struct fs_table *t;
	struct recset *out;
};

static int load_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct load_ctx *x = ctx;
	struct fs_rec r;
	(void)ncol;
	assert_int_equal(fs_rec_from_row(x->t, v, &r), 0);
	add(x->out, &r);
	return 0;
}

/* The same from HQ's store, whichever backend holds it. */
static void load_hq(const struct fs_table *t, const char *scope, struct recset *out)
{
	struct hq_db *db;
	struct fs_buf cols, sql;
	struct load_ctx x = { t, out };
	struct fs_val p = fs_vref(scope ? scope : "");
	fs_buf_init(&cols, 0);
	fs_buf_init(&sql, 0);
	fs_sql_columns(t, &cols);
	/* the id order of the device's SQLite store: bytes */
	fs_buf_printf(&sql, "SELECT %s FROM %s WHERE %s ORDER BY id", cols.p, t->name,
		      scope ? "$1 LIKE '%,' || scope || ',%'" : "1 = 1");
	memset(out, 0, sizeof *out);
	assert_int_equal(hq_acquire(H, &db), 0);
	if (hq_be(H)->exec(db, sql.p, scope ? 1 : 0, &p, load_row, &x))
		fail_msg("reading HQ: %s", fieldsync_errmsg());
	hq_release(H, db);
	fs_buf_release(&cols);
	fs_buf_release(&sql);
}

static void unload(struct recset *s)
{
	for (int i = 0; i < s->n; i++)
		fs_rec_release(&s->r[i]);
	free(s->r);
}

static int same(const struct fs_rec *a, const struct fs_rec *b)
{
	if (!fs_rec_same(a, b) || strcmp(a->scope, b->scope) || a->hlc != b->hlc)
		return 0;
	for (int i = 0; i < a->t->nfields; i++)
		for (int k = 0; k < a->f[i].nsib; k++)
			if (!fs_val_eq(&a->f[i].sib[k].v, &b->f[i].sib[k].v))
				return 0;
	return 1;
}

static const struct fs_rec *find(const struct recset *s, const char *id)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->r[i].id, id))
			return &s->r[i];
	return NULL;
}

struct quar {
	const struct fs_dot *d;
	int hit;
};

static int quar_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct quar *q = ctx;
	struct fs_vv vv = { 0 };
	if (ncol > 0 && v[0].t == FS_V_TEXT && fs_vv_decode(v[0].s, &vv) == 0)
		q->hit |= fs_vv_covers(&vv, q->d);
	fs_vv_release(&vv);
	return 0;
}

static int quarantined(const char *id, const struct fs_dot *d)
{
	struct hq_db *db;
	struct quar q = { d, 0 };
	struct fs_val p = fs_vref(id);
	assert_int_equal(hq_acquire(H, &db), 0);
	assert_int_equal(hq_be(H)->exec(db, "SELECT vv FROM quarantine WHERE rec_id = $1", 1, &p, quar_row, &q), 0);
	hq_release(H, db);
	return q.hit;
}

static void check(void)
{
	char scope[64];
	/* every device holds exactly HQ's records of its scope */
	for (int i = 0; i < ndev; i++) {
		scope[0] = ',';
		terr_list(D[i].mask, scope + 1, sizeof scope - 2);
		strcat(scope, ",");
		for (int t = 0; t < fs_ntables; t++) {
			struct recset hq, dv, all;
			load_hq(fs_tables[t], scope, &hq);
			load(D[i].s->st->path, fs_tables[t], scope, &dv);
			load(D[i].s->st->path, fs_tables[t], NULL, &all);
			if (hq.n != dv.n || all.n != dv.n) {
				for (int k = 0; k < hq.n; k++)
					if (!find(&dv, hq.r[k].id))
						print_message("missing on device: %s %s scope %s\n", fs_tables[t]->name,
							      hq.r[k].id, hq.r[k].scope);
				for (int k = 0; k < all.n; k++)
					if (!find(&hq, all.r[k].id))
						print_message("extra on device: %s %s scope %s\n", fs_tables[t]->name,
							      all.r[k].id, all.r[k].scope);
			}
			if (hq.n != dv.n || all.n != dv.n)
				fail_msg("seed %d device %d %s: HQ has %d in scope %s, device %d (%d in all)", seed, i,
					 fs_tables[t]->name, hq.n, scope, dv.n, all.n);
			for (int k = 0; k < hq.n && hq.n == dv.n; k++)
				if (!same(&hq.r[k], &dv.r[k]))
					fail_msg("seed %d device %d: %s %s differs", seed, i, fs_tables[t]->name, hq.r[k].id);
			unload(&hq);
			unload(&dv);
			unload(&all);
		}
	}
	/* every write is accounted for, judged on HQ's state (the union of all) */
	struct recset hqs[16];
	for (int t = 0; t < fs_ntables; t++)
		load_hq(fs_tables[t], NULL, &hqs[t]);
	int *acc = calloc((size_t)nw + 1, sizeof *acc), grew = 1;
	for (int w = 0; w < nw; w++) {
		const struct fs_table *t = fs_table_find(W[w].tbl);
		const struct fs_rec *r = find(&hqs[t->idx], W[w].id);
		if (!r) {
			acc[w] = quarantined(W[w].id, &W[w].dot);
			continue;
		}
		const struct fs_fstate *f = &r->f[W[w].field];
		if (fs_dot_same(&f->dot, &W[w].dot))
			acc[w] = 1;
		for (int k = 0; k < f->nsib; k++) {
			if (!fs_dot_same(&f->sib[k].dot, &W[w].dot))
				continue;
			char cid[33];
			fs_conflict_id(t->name, r->id, t->fields[W[w].field].name, &W[w].dot, cid);
			if (!fs_val_eq(&f->sib[k].v, &f->v) && !find(&hqs[fs_tbl_conflict.idx], cid))
				fail_msg("seed %d: open clash on %s.%s without a conflict record", seed, r->id,
					 t->fields[W[w].field].name);
			acc[w] = 1;
		}
		if (!acc[w])
			acc[w] = quarantined(W[w].id, &W[w].dot);
	}
	while (grew) {
		grew = 0;
		for (int w = 0; w < nw; w++)
			for (int x = 0; x < nw && !acc[w]; x++)
				if (acc[x] && x != w && W[x].field == W[w].field && !strcmp(W[x].id, W[w].id) &&
				    fs_vv_covers(&W[x].ctx, &W[w].dot) && !fs_dot_same(&W[x].dot, &W[w].dot))
					acc[w] = grew = 1;
	}
	for (int w = 0; w < nw; w++)
		if (!acc[w])
			fail_msg("seed %d: a write to %s %s.%s vanished", seed, W[w].tbl, W[w].id,
				 fs_table_find(W[w].tbl)->fields[W[w].field].name);
	free(acc);
	for (int t = 0; t < fs_ntables; t++)
		unload(&hqs[t]);
}

static void run_seed(int s)
{
	char path[480], token[65], list[64], name[32], nid[33];
	seed = s;
	rng = (uint64_t)s * 1000003u;
	nw = 0;
	ndev = 2 + rnd(MAXDEV - 1);
	for (int i = 0; i < 3; i++)
		snprintf(terr[i], sizeof terr[i], "S%d%c", s, 'A' + i);
	for (int i = 0; i < 3 + rnd(4); i++) {	/* HQ's starting customers */
		struct fs_chg c;
		struct fs_val v = { 0 };
		fs_chg_init(&c, &fs_tbl_customer);
		fs_val_set_text(&v, "hq", 2);
		fs_chg_set(&c, 0, &v);
		fs_val_set_text(&v, terr[rnd(3)], strlen(terr[0]));
		fs_chg_set(&c, fs_field_find(&fs_tbl_customer, "territory"), &v);
		assert_int_equal(hq_write(H, &c, NULL, nid), 0);
		note_hq("customer", nid);
		fs_val_release(&v);
		fs_chg_release(&c);
	}
	for (int i = 0; i < ndev; i++) {
		D[i].mask = 1 + rnd(7);
		snprintf(D[i].rep, sizeof D[i].rep, "s%dd%d", s, i);
		terr_list(D[i].mask, list, sizeof list);
		assert_int_equal(hq_rep_add(H, D[i].rep, list, token), 0);
		snprintf(path, sizeof path, "%s/s%d-d%d.db", dir, s, i);
		assert_int_equal(fieldsync_open(path, FIELDSYNC_OPEN_CREATE, &D[i].s), 0);
		snprintf(name, sizeof name, "dev%d", i);
		if (fieldsync_enroll(D[i].s, url[i % nhq], token, name, 0))
			fail_msg("seed %d: enrol: %s", s, fieldsync_errmsg());
	}
	int ops = 15 + rnd(30);
	for (int k = 0; k < ops; k++)
		op();
	/* anti-entropy until a whole round moves nothing */
	long moved = 1;
	for (int round = 0; moved && round < 8; round++) {
		moved = 0;
		for (int i = 0; i < ndev; i++)
			moved += dev_sync(&D[i], 0, 0);
	}
	assert_int_equal(moved, 0);
	check();
	for (int i = 0; i < ndev; i++) {
		char p2[420];
		snprintf(p2, sizeof p2, "%s", D[i].s->st->path);
		fieldsync_close(D[i].s);
		unlink(p2);
		snprintf(path, sizeof path, "%s-wal", p2);
		unlink(path);
		snprintf(path, sizeof path, "%s-shm", p2);
		unlink(path);
		snprintf(path, sizeof path, "%s.sync-lock", p2);
		unlink(path);
	}
	for (int w = 0; w < nw; w++)
		fs_vv_release(&W[w].ctx);
}

static void test_converge(void **state)
{
	(void)state;
	const char *e = getenv("FIELDSYNC_CONVERGE_SEEDS"), *f = getenv("FIELDSYNC_CONVERGE_FIRST");
	int n = e ? atoi(e) : 200, first = f ? atoi(f) : 1;
	long writes = 0;
	for (int s = first; s < first + n; s++) {
		run_seed(s);
		writes += nw;
	}
	print_message("%d seeds, %ld writes, all converged and accounted for\n", n, writes);
}

static int stop_now(void *ctx, long pushed, long pulled)
{
	(void)ctx;
	(void)pushed;
	(void)pulled;
	return 1;
}

/* A device's edit is refused because the rep lost the customer's territory
 * meanwhile, and the sync stops before its pull brings the drop; the rep
 * then gets the territory back. The refused row left the device, and the
 * next sync must bring HQ's version back although it is below the cursor
 * (it was found by the property test above, under load, seed 28). */
static void test_regain_after_refusal(void **state)
{
	(void)state;
	char token[65], id[33], path[480];
	struct fs_chg c;
	struct fs_val v = { 0 };
	fieldsync_store *s;
	fieldsync_rec *r;
	fieldsync_rows *rows;
	fs_chg_init(&c, &fs_tbl_customer);
	fs_val_set_text(&v, "Regained", 8);
	fs_chg_set(&c, 0, &v);
	fs_val_set_text(&v, "RG-B", 4);
	fs_chg_set(&c, fs_field_find(&fs_tbl_customer, "territory"), &v);
	assert_int_equal(hq_write(H, &c, NULL, id), 0);
	fs_val_release(&v);
	fs_chg_release(&c);
	assert_int_equal(hq_rep_add(H, "regain", "RG-A,RG-B", token), 0);
	snprintf(path, sizeof path, "%s/regain.db", dir);
	assert_int_equal(fieldsync_open(path, FIELDSYNC_OPEN_CREATE, &s), 0);
	assert_int_equal(fieldsync_enroll(s, url[0], token, "regain", 0), 0);
	assert_int_equal(fieldsync_sync(s, NULL, NULL, NULL), 0);
	assert_int_equal(fieldsync_get(s, "customer", id, &rows), 0);
	fieldsync_rows_free(rows);
	/* edited on the device while HQ takes the territory away */
	fieldsync_rec_new("customer", &r);
	fieldsync_rec_set(r, "notes", "edited while RG-B was taken away");
	assert_int_equal(fieldsync_update(s, id, r), 0);
	fieldsync_rec_free(r);
	assert_int_equal(hq_rep_move(H, "regain", "RG-A"), 0);
	/* push (refused, the row leaves), then stop before the pull */
	assert_int_equal(fieldsync_sync(s, stop_now, NULL, NULL), FIELDSYNC_ECANCELED);
	assert_int_equal(fieldsync_get(s, "customer", id, &rows), FIELDSYNC_ENOTFOUND);
	assert_int_equal(hq_rep_move(H, "regain", "RG-A,RG-B"), 0);
	assert_int_equal(fieldsync_sync(s, NULL, NULL, NULL), 0);
	if (fieldsync_get(s, "customer", id, &rows))
		fail_msg("the customer of the regained territory did not come back: %s", fieldsync_errmsg());
	assert_string_equal(fieldsync_rows_value(rows, 0, fieldsync_rows_find(rows, "name")), "Regained");
	fieldsync_rows_free(rows);
	fieldsync_close(s);
}

/* Whether HQ still holds a row of `t` with this id (live or tombstone). */
static int hq_has(const char *t, const char *id)
{
	struct fs_rec r;
	struct hq_db *db;
	assert_int_equal(hq_acquire(H, &db), 0);
	int rc = hq_get(H, db, fs_table_find(t), id, 0, &r);
	hq_release(H, db);
	if (rc == 0)
		fs_rec_release(&r);
	return rc == 0;
}

static void set_disputed(const char *id, const char *val)
{
	struct fs_chg c;
	struct fs_val v = { 0 };
	fs_chg_init(&c, &fs_tbl_customer);
	int f = fs_field_find(&fs_tbl_customer, "disputed");
	assert_int_equal(fs_field_parse(&fs_tbl_customer.fields[f], val, FS_PARSE_USER, &v), 0);
	fs_chg_set(&c, f, &v);
	assert_int_equal(hq_write(H, &c, id, NULL), 0);
	fs_val_release(&v);
	fs_chg_release(&c);
}

/* Garbage collection keeps the tombstone of a visit while its customer is
 * disputed (what belongs to a disputed record is kept with it), and
 * collects it once the dispute is cleared and every device has it. */
static void test_gc_keeps_what_a_dispute_covers(void **state)
{
	(void)state;
	char token[65], cid[33], vid[33], path[480];
	fieldsync_store *s;
	fieldsync_rec *r;
	fieldsync_rows *out;
	assert_int_equal(hq_rep_add(H, "gcd", "GD-A", token), 0);
	snprintf(path, sizeof path, "%s/gcd.db", dir);
	assert_int_equal(fieldsync_open(path, FIELDSYNC_OPEN_CREATE, &s), 0);
	assert_int_equal(fieldsync_enroll(s, url[0], token, "gcd", 0), 0);
	fieldsync_rec_new("customer", &r);
	fieldsync_rec_set(r, "name", "Under dispute");
	fieldsync_rec_set(r, "territory", "GD-A");
	assert_int_equal(fieldsync_insert(s, r, cid), 0);
	fieldsync_rec_free(r);
	fieldsync_rec_new("visit", &r);
	fieldsync_rec_set(r, "customer_id", cid);
	fieldsync_rec_set(r, "status", "planned");
	fieldsync_rec_set(r, "planned_date", "2026-01-15");
	assert_int_equal(fieldsync_insert(s, r, vid), 0);
	fieldsync_rec_free(r);
	assert_int_equal(fieldsync_sync(s, NULL, NULL, NULL), 0);
	set_disputed(cid, "1");
	assert_int_equal(fieldsync_delete(s, "visit", vid), 0);
	for (int i = 0; i < 2; i++)	/* the second pull acknowledges the first */
		assert_int_equal(fieldsync_sync(s, NULL, NULL, NULL), 0);
	assert_int_equal(hq_gc(H, 0, &out), 0);
	fieldsync_rows_free(out);
	if (!hq_has("visit", vid))
		fail_msg("the deleted visit of a disputed customer was collected");
	set_disputed(cid, "0");
	for (int i = 0; i < 2; i++)
		assert_int_equal(fieldsync_sync(s, NULL, NULL, NULL), 0);
	assert_int_equal(hq_gc(H, 0, &out), 0);
	fieldsync_rows_free(out);
	if (hq_has("visit", vid))
		fail_msg("the deleted visit stayed once the dispute was cleared");
	assert_true(hq_has("customer", cid));
	fieldsync_close(s);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regain_after_refusal),
		cmocka_unit_test(test_gc_keeps_what_a_dispute_covers),
		cmocka_unit_test(test_converge),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
