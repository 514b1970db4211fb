/* db.c - the HQ store: schema, opening, the connection pool, query helpers. */
#include "hq_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include "fieldsync.h"
#include <sodium.h>
#include "query.h"
#include "store.h"
#include "wire.h"

/* ---- small helpers ---- */


int hq_one_int(void *ctx, int ncol, const struct fs_val *v)
{
	if (ncol > 0 && v[0].t == FS_V_INT)
		*(int64_t *)ctx = v[0].i;
	return 0;
}

int hq_one_text(void *ctx, int ncol, const struct fs_val *v)
{
	char **out = ctx;
	if (ncol > 0 && v[0].t == FS_V_TEXT && !*out)
		*out = strdup(v[0].s);
	return 0;
}

const struct hq_backend *hq_be(const struct hq *h)
{
	return h->be;
}

const char *hq_replica_id(const struct hq *h)
{
	return h->self_hex;
}

void hq_set_limits(struct hq *h, const struct hq_limits *l)
{
	h->lim = *l;
}

void hq_token_hash(const char *token, char out[65])
{
	unsigned char hash[32];
	crypto_generichash(hash, sizeof hash, (const unsigned char *)token, strlen(token), NULL, 0);
	fs_hex(hash, sizeof hash, out);
}

int hq_parse_territories(const char *list, char terr[][65], int max, int *n)
{
	*n = 0;
	const char *p = list;
	while (p && *p) {
		size_t len = strcspn(p, ",");
		if (len == 0 || len > 64)
			return fs_err(FIELDSYNC_EINVAL, "territory: '%.*s' must be 1-64 characters", (int)len, p);
		for (size_t k = 0; k < len; k++)
			if ((unsigned char)p[k] <= ' ' || p[k] == '"' || p[k] == '\\')
				return fs_err(FIELDSYNC_EINVAL, "territory: '%.*s' has a space or control character",
					      (int)len, p);
		if (*n == max)
			return fs_err(FIELDSYNC_ELIMIT, "territory: at most %d per rep", max);
		memcpy(terr[*n], p, len);
		terr[*n][len] = '\0';
		if (!fs_utf8_valid(terr[*n], len))
			return fs_err(FIELDSYNC_EINVAL, "territory: not valid UTF-8");
		(*n)++;
		p += len;
		if (*p == ',')
			p++;
	}
	if (*n == 0)
		return fs_err(FIELDSYNC_EINVAL, "territory: at least one is needed");
	return 0;
}


/* ---- schema ---- */

static int gc_schema(const struct hq_backend *be, struct fs_buf *b);
static int author_schema(struct fs_buf *b);
static int catalogue_schema(const struct hq_backend *be, struct fs_buf *b);
static int gc_indexes(struct fs_buf *b);

static int schema(const struct hq_backend *be, const struct hq_part *const *parts, struct fs_buf *b)
{
	const char *types[3] = { be->t_int, be->t_real, be->t_text };
	char extra[128];
	int rc = fs_buf_printf(b,
		"CREATE TABLE IF NOT EXISTS hq_meta (key TEXT PRIMARY KEY, value TEXT);\n"
		"CREATE TABLE hq_seq (id INTEGER PRIMARY KEY, seq %s NOT NULL);\n"
		"INSERT INTO hq_seq VALUES (1, 0);\n"
		"CREATE TABLE hq_clock (id INTEGER PRIMARY KEY, hlc %s NOT NULL);\n"
		"INSERT INTO hq_clock VALUES (1, 0);\n"
		"CREATE TABLE reps (name TEXT PRIMARY KEY, created_at TEXT NOT NULL,"
		" revoked INTEGER NOT NULL DEFAULT 0, wipe INTEGER NOT NULL DEFAULT 0);\n"
		"CREATE TABLE rep_territories (rep TEXT NOT NULL REFERENCES reps(name), territory TEXT NOT NULL,"
		" PRIMARY KEY (rep, territory));\n"
		"CREATE TABLE enroll_tokens (hash TEXT PRIMARY KEY, rep TEXT NOT NULL REFERENCES reps(name),"
		" created_at TEXT NOT NULL, expires_ms %s NOT NULL, used_at TEXT, nonce TEXT, device TEXT);\n"
		"CREATE TABLE devices (id TEXT PRIMARY KEY, rep TEXT NOT NULL REFERENCES reps(name), name TEXT,"
		" token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, last_seen TEXT, last_sync TEXT,"
		" app_version TEXT, pending %s, revoked INTEGER NOT NULL DEFAULT 0, wiped_at TEXT);\n"
		"CREATE TABLE quarantine (device TEXT NOT NULL, tbl TEXT NOT NULL, rec_id TEXT NOT NULL,"
		" vv TEXT NOT NULL, reason TEXT NOT NULL, record TEXT NOT NULL, at TEXT NOT NULL,"
		" decision TEXT, PRIMARY KEY (device, tbl, rec_id, vv));\n"
		"CREATE TABLE evictions (seq %s PRIMARY KEY, scope TEXT NOT NULL, tbl TEXT NOT NULL,"
		" id TEXT NOT NULL);\n"
		"CREATE INDEX evictions_scope ON evictions(scope, seq);\n",
		be->t_int, be->t_int, be->t_int, be->t_int, be->t_int);
	if (rc == 0)
		rc = gc_schema(be, b);
	for (int i = 0; rc == 0 && parts && parts[i]; i++)
		rc = parts[i]->schema(be, b);	/* the tables of the parts above (the dashboard's) */
	snprintf(extra, sizeof extra, "seq %s NOT NULL, origin TEXT", be->t_int);
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		for (int v = 1; rc == 0 && v <= FS_SCHEMA_VERSION; v++)
			rc = fs_sql_table_ddl(fs_tables[i], v, extra, types, b);
		if (rc == 0)
			rc = fs_buf_printf(b, "CREATE INDEX %s_feed ON %s(scope, seq);\n", fs_tables[i]->name,
					   fs_tables[i]->name);
	}
	if (rc == 0)
		rc = gc_indexes(b);
	if (rc == 0)
		rc = author_schema(b);
	if (rc == 0)
		rc = catalogue_schema(be, b);
	if (rc == 0) {
		char rid[33];
		fs_random_id(rid);
		rc = fs_buf_printf(b, "INSERT INTO hq_meta VALUES ('replica_id', '%s');\n"
				   "INSERT INTO hq_meta VALUES ('schema', '%d');\n", rid, HQ_SCHEMA_VERSION);
	}
	return rc;
}

/* The tables of tombstone garbage collection (gc.c), from HQ schema 3:
 * what each device has acknowledged per territory (its pull cursor), and
 * per territory the highest sequence number collected. */
static int gc_schema(const struct hq_backend *be, struct fs_buf *b)
{
	return fs_buf_printf(b,
		"CREATE TABLE device_acks (device TEXT NOT NULL, territory TEXT NOT NULL, seq %s NOT NULL,"
		" at TEXT NOT NULL, PRIMARY KEY (device, territory));\n"
		"CREATE TABLE gc_horizon (territory TEXT PRIMARY KEY, seq %s NOT NULL, at TEXT NOT NULL);\n",
		be->t_int, be->t_int);
}

/* Tombstones by territory, for garbage collection (after the record tables). */
static int gc_indexes(struct fs_buf *b)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < fs_ntables; i++)
		rc = fs_buf_printf(b, "CREATE INDEX IF NOT EXISTS %s_tomb ON %s(scope, seq) WHERE deleted = 1;\n",
				   fs_tables[i]->name,
				   fs_tables[i]->name);
	return rc;
}

/* The price list, from HQ schema 5 (catalogue.c): products kept by HQ
 * alone, each change numbered by the catalogue's own sequence. */
static int catalogue_schema(const struct hq_backend *be, struct fs_buf *b)
{
	return fs_buf_printf(b,
		"CREATE TABLE product (sku TEXT PRIMARY KEY, name TEXT NOT NULL, unit TEXT,"
		" price %s NOT NULL, active INTEGER NOT NULL DEFAULT 1, q %s NOT NULL,"
		" updated_at TEXT NOT NULL);\n"
		"CREATE INDEX product_q ON product(q);\n"
		"CREATE TABLE catalogue_seq (id INTEGER PRIMARY KEY, seq %s NOT NULL);\n"
		"INSERT INTO catalogue_seq VALUES (1, 0);\n"
		"CREATE INDEX order_line_sku ON order_line(sku);\n", be->t_int, be->t_int, be->t_int);
}

/* Who did what, from HQ schema 4 (HQ's own columns: they do not travel).
 * author_rep, author_device: the rep and device whose write made the
 * record theirs (a visit's report, else its creation), read from that
 * write's dot when HQ stores the version (replica.c, hq_author); "HQ" for
 * HQ's own writes; NULL for rows stored before, shown as "unknown".
 * assignee: the rep a plan made at HQ is for (fieldsyncd plan add --rep);
 * such a visit travels to that rep's devices only. distance_m: how far from
 * the customer's position a visit was checked in, in metres, as HQ first
 * stored it with a position (kept when the customer moves later).
 * external_id: a visit's key in the ledger it was imported from
 * (fieldsyncd import visits), which makes a second import a no-op.
 * replica_owners: the
 * device behind a replica id that is not a device's own (a store used
 * before it was enrolled): the first device to push its writes. */
static int author_schema(struct fs_buf *b)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		const char *t = fs_tables[i]->name;
		if (hq_authored(fs_tables[i]))
			rc = fs_buf_printf(b, "ALTER TABLE %s ADD COLUMN author_rep TEXT;\n"
					   "ALTER TABLE %s ADD COLUMN author_device TEXT;\n"
					   "CREATE INDEX %s_author ON %s(author_rep);\n", t, t, t, t);
	}
	return rc ? rc : fs_buf_adds(b, "ALTER TABLE visit ADD COLUMN assignee TEXT;\n"
				      "ALTER TABLE visit ADD COLUMN distance_m " "INTEGER;\n"
				      "ALTER TABLE visit ADD COLUMN external_id TEXT;\n"
				      "CREATE UNIQUE INDEX visit_external_id ON visit(external_id);\n"
				      "CREATE TABLE replica_owners (replica TEXT PRIMARY KEY, device TEXT NOT NULL);\n");
}

int hq_authored(const struct fs_table *t)
{
	return t == &fs_tbl_visit || t == &fs_tbl_payment || t == &fs_tbl_order_line;
}

/* The store schema version of HQ's record tables at each HQ schema. */
static const int rec_version[HQ_SCHEMA_VERSION + 1] = { 0, 1, 3, 4, 4, 5 };

/* HQ schema 1 -> 2: the record tables and fields added since the first
 * store schema (the registry's `since`; the change log); 2 -> 3: the
 * garbage collection tables. */
static int upgrade(const struct hq_backend *be, int from, struct fs_buf *b)
{
	const char *types[3] = { be->t_int, be->t_real, be->t_text };
	char extra[128];
	int rc = 0;
	snprintf(extra, sizeof extra, "seq %s NOT NULL, origin TEXT", be->t_int);
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		for (int v = rec_version[from] + 1; rc == 0 && v <= FS_SCHEMA_VERSION; v++)
			rc = fs_sql_table_ddl(fs_tables[i], v, extra, types, b);
		if (rc == 0 && fs_tables[i]->since > rec_version[from])
			rc = fs_buf_printf(b, "CREATE INDEX %s_feed ON %s(scope, seq);\n", fs_tables[i]->name,
					   fs_tables[i]->name);
	}
	if (rc == 0 && from < 3)
		rc = gc_schema(be, b);
	if (rc == 0 && from < 3)
		rc = gc_indexes(b);
	if (rc == 0 && from < 4)
		rc = author_schema(b);
	if (rc == 0 && from < 5)
		rc = catalogue_schema(be, b);
	if (rc == 0)
		rc = fs_buf_printf(b, "UPDATE hq_meta SET value = '%d' WHERE key = 'schema';\n", HQ_SCHEMA_VERSION);
	return rc;
}

const struct hq_backend *hq_backend_for(const char *conninfo)
{
	if (!conninfo || !*conninfo) {
		fs_err(FIELDSYNC_EINVAL, "no HQ store given");
		return NULL;
	}
	/* a PostgreSQL URL, or a libpq "key=value ..." connection string */
	if (!strncmp(conninfo, "postgres://", 11) || !strncmp(conninfo, "postgresql://", 13) ||
	    (strchr(conninfo, '=') && (strstr(conninfo, "dbname=") || strstr(conninfo, "host=") ||
				       strstr(conninfo, "port=") || strstr(conninfo, "user=") ||
				       strstr(conninfo, "service="))))
		return &hq_backend_pg;
	return &hq_backend_sqlite;
}

static int schema_version(const struct hq_backend *be, struct hq_db *db, int *v)
{
	char *s = NULL;
	*v = 0;
	/* probe the meta table first: a fresh database has none */
	int rc = be->exec(db, "SELECT value FROM hq_meta WHERE key = 'schema'", 0, NULL, hq_one_text, &s);
	if (rc == 0 && s)
		*v = atoi(s);
	free(s);
	return rc;
}

int hq_init_parts(const char *conninfo, const struct hq_part *const *parts)
{
	const struct hq_backend *be = hq_backend_for(conninfo);
	struct hq_db *db;
	struct fs_buf b;
	if (!be)
		return FIELDSYNC_EINVAL;
	int rc = be->open(conninfo, 1, &db), v = 0;
	if (rc)
		return rc;
	/* all under the write lock: several hosts may migrate one database at once */
	fs_buf_init(&b, 0);
	rc = be->begin(db, 1);
	if (rc == 0)
		rc = be->script(db, "CREATE TABLE IF NOT EXISTS hq_meta (key TEXT PRIMARY KEY, value TEXT)");
	if (rc == 0)
		rc = schema_version(be, db, &v);
	if (rc == 0 && v > HQ_SCHEMA_VERSION)
		rc = fs_err(FIELDSYNC_ESCHEMA, "HQ store schema %d is newer than this fieldsyncd (%d)", v,
			    HQ_SCHEMA_VERSION);
	if (rc == 0 && v < HQ_SCHEMA_VERSION)
		rc = v == 0 ? schema(be, parts, &b) : upgrade(be, v, &b);
	if (rc == 0 && v < HQ_SCHEMA_VERSION)
		rc = be->script(db, b.p);
	if (rc == 0)
		rc = be->commit(db);
	else
		be->rollback(db);
	fs_buf_release(&b);
	be->close(db);
	return rc;
}

/* ---- open / pool ---- */

static int build_sql(struct hq *h)
{
	struct fs_buf cols, b;
	int rc = 0;
	fs_buf_init(&cols, 0);
	fs_buf_init(&b, 0);
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		const struct fs_table *t = fs_tables[i];
		fs_buf_reset(&cols);
		rc = fs_sql_columns(t, &cols);
		if (rc == 0)
			rc = fs_buf_printf(&b, "SELECT %s, seq, origin FROM %s WHERE id = $1", cols.p, t->name);
		if (rc == 0 && !(h->q_get[i] = strdup(b.p)))
			rc = FIELDSYNC_ENOMEM;
		if (rc == 0)
			rc = fs_buf_adds(&b, h->be->for_update);
		if (rc == 0 && !(h->q_lock[i] = fs_buf_detach(&b)))
			rc = FIELDSYNC_ENOMEM;
		int authored = hq_authored(t), placed = t == &fs_tbl_visit;
		if (rc == 0)
			rc = fs_buf_printf(&b, "INSERT INTO %s (%s, seq, origin%s%s) VALUES ($1", t->name, cols.p,
					   authored ? ", author_rep, author_device" : "", placed ? ", distance_m" : "");
		for (int k = 2; rc == 0 && k <= FS_ROW_COLS(t) + 2 + 2 * authored + placed; k++)
			rc = fs_buf_printf(&b, ", $%d", k);
		if (rc == 0)
			rc = fs_buf_adds(&b, ") ON CONFLICT (id) DO UPDATE SET ");
		if (rc == 0 && placed)
			rc = fs_buf_printf(&b, "distance_m = coalesce(%s.distance_m, excluded.distance_m), ", t->name);
		/* an author once known stays when a version arrives without one,
		 * and HQ's own later writes (an admin's flag, an import's rep) do
		 * not take a record over */
		if (rc == 0 && authored)
			rc = fs_buf_printf(&b, "author_rep = CASE WHEN excluded.author_rep = 'HQ' AND %s.author_rep IS NOT NULL"
					   " THEN %s.author_rep ELSE coalesce(excluded.author_rep, %s.author_rep) END,"
					   " author_device = coalesce(excluded.author_device, %s.author_device), ",
					   t->name, t->name, t->name, t->name);
		for (int k = 0; rc == 0 && k < t->nfields; k++)
			rc = fs_buf_printf(&b, "%s = excluded.%s, ", t->fields[k].name, t->fields[k].name);
		if (rc == 0)
			rc = fs_buf_adds(&b, "scope = excluded.scope, vv = excluded.vv, dots = excluded.dots,"
					 " sib = excluded.sib, hlc = excluded.hlc, seq = excluded.seq,"
					 " origin = excluded.origin");
		if (rc == 0 && !(h->q_put[i] = fs_buf_detach(&b)))
			rc = FIELDSYNC_ENOMEM;
		if (rc == 0)
			rc = fs_buf_printf(&b, "SELECT %s, seq, origin FROM %s WHERE scope = $1 AND seq > $2"
					   " AND seq <= $3%s ORDER BY seq", cols.p, t->name,
					   t == &fs_tbl_visit ? " AND (assignee IS NULL OR assignee = $4)" : "");
		if (rc == 0 && !(h->q_feed[i] = fs_buf_detach(&b)))
			rc = FIELDSYNC_ENOMEM;
		if (rc == 0)
			rc = fs_buf_printf(&b, "SELECT scope FROM %s WHERE id = $1", t->name);
		if (rc == 0 && !(h->q_scope[i] = fs_buf_detach(&b)))
			rc = FIELDSYNC_ENOMEM;
		int p = t->scope_field;
		if (rc == 0 && p >= 0 && (t->fields[p].flags & FS_F_PARENT)) {
			rc = fs_buf_printf(&b, "SELECT id FROM %s WHERE %s = $1 ORDER BY id", t->name,
					   t->fields[p].name);
			if (rc == 0 && !(h->q_kids[i] = fs_buf_detach(&b)))
				rc = FIELDSYNC_ENOMEM;
		}
	}
	/* the page cut: the first N sequence numbers of a territory over all tables */
	for (int i = 0; rc == 0 && i < fs_ntables; i++)
		rc = fs_buf_printf(&b, "SELECT seq FROM %s WHERE scope = $1 AND seq > $2 UNION ALL ",
				   fs_tables[i]->name);
	if (rc == 0)
		rc = fs_buf_adds(&b, "SELECT seq FROM evictions WHERE scope = $1 AND seq > $2 ORDER BY seq LIMIT $3");
	if (rc == 0 && !(h->q_cut = fs_buf_detach(&b)))
		rc = FIELDSYNC_ENOMEM;
	fs_buf_release(&cols);
	fs_buf_release(&b);
	return rc;
}

int hq_acquire(struct hq *h, struct hq_db **db)
{
	pthread_mutex_lock(&h->mu);
	if (h->npool > 0) {
		*db = h->pool[--h->npool];
		pthread_mutex_unlock(&h->mu);
		return 0;
	}
	pthread_mutex_unlock(&h->mu);
	return h->be->open(h->conninfo, 0, db);
}

/* Close a connection of the pool, with what the store kept on it. */
static void db_close(struct hq *h, struct hq_db *db)
{
	free(HQ_DB_HEAD(db)->batch);
	h->be->close(db);
}

void hq_release(struct hq *h, struct hq_db *db)
{
	if (!db)
		return;
	h->be->rollback(db);	/* never hand on an open transaction */
	pthread_mutex_lock(&h->mu);
	if (h->npool < POOL) {
		h->pool[h->npool++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&h->mu);
	if (db)
		db_close(h, db);
}

int hq_open(const char *conninfo, struct hq **out)
{
	struct hq *h = calloc(1, sizeof *h);
	struct hq_db *db = NULL;
	int rc, v;
	*out = NULL;
	if (!h || !(h->conninfo = strdup(conninfo))) {
		free(h);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	if (sodium_init() < 0) {
		free(h->conninfo);
		free(h);
		return fs_err(FIELDSYNC_EIO, "libsodium failed to initialise");
	}
	h->be = hq_backend_for(conninfo);
	if (!h->be) {
		free(h->conninfo);
		free(h);
		return FIELDSYNC_EINVAL;
	}
	h->lim = (struct hq_limits){ 1000, 5000, 1000, 0 };
	pthread_mutex_init(&h->mu, NULL);
	rc = h->be->open(conninfo, 0, &db);
	if (rc == 0)
		rc = schema_version(h->be, db, &v);
	if (rc == 0 && v == 0)
		rc = fs_err(FIELDSYNC_ENOTFOUND, "%s is not an HQ store (create it with 'fieldsyncd init')", conninfo);
	if (rc == 0 && v > HQ_SCHEMA_VERSION)
		rc = fs_err(FIELDSYNC_ESCHEMA, "HQ store schema %d is newer than this fieldsyncd (%d)", v,
			    HQ_SCHEMA_VERSION);
	if (rc == 0 && v < HQ_SCHEMA_VERSION)
		rc = fs_err(FIELDSYNC_ESCHEMA, "HQ store schema %d is older than this fieldsyncd (%d):"
			    " run 'fieldsyncd migrate'", v, HQ_SCHEMA_VERSION);
	char *rid = NULL;
	if (rc == 0)
		rc = h->be->exec(db, "SELECT value FROM hq_meta WHERE key = 'replica_id'", 0, NULL, hq_one_text, &rid);
	if (rc == 0 && (!rid || fs_rid_parse(rid, &h->self)))
		rc = fs_err(FIELDSYNC_EIO, "HQ store has no valid replica id");
	if (rc == 0)
		memcpy(h->self_hex, rid, 33);
	free(rid);
	if (rc == 0)
		rc = build_sql(h);
	if (rc) {
		if (db)
			db_close(h, db);
		hq_close(h);
		return rc;
	}
	hq_release(h, db);
	*out = h;
	return 0;
}

int hq_backup(struct hq *h, const char *path)
{
	struct hq_db *db;
	if (!h->be->backup)
		return fs_err(FIELDSYNC_EINVAL, "the %s backend has no online backup", h->be->name);
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	rc = h->be->backup(db, path);
	hq_release(h, db);
	return rc;
}

struct restore_ctx {
	const struct hq_backend *be;
	char new_id[33];
};

/* On the private copy of the backup: is it an HQ store we know; then a new
 * replica id (HQ's writes after the restore must never reuse a dot it gave
 * out after the backup was taken), the old one remembered. */
static int restore_fix(struct hq_db *db, void *vctx)
{
	struct restore_ctx *x = vctx;
	const struct hq_backend *be = x->be;
	char *old = NULL, *before = NULL, now[32];
	int v = 0, rc = be->begin(db, 1);
	if (rc)
		return rc;
	rc = schema_version(be, db, &v);
	if (rc)
		rc = fs_err(FIELDSYNC_EINVAL, "the backup is not an HQ store (%s)", fs_errmsg_get());
	else if (v == 0)
		rc = fs_err(FIELDSYNC_EINVAL, "the backup is not an HQ store");
	else if (v > HQ_SCHEMA_VERSION)
		rc = fs_err(FIELDSYNC_ESCHEMA, "the backup has HQ schema %d, newer than this fieldsyncd (%d)", v,
			    HQ_SCHEMA_VERSION);
	if (rc == 0)
		rc = be->exec(db, "SELECT value FROM hq_meta WHERE key = 'replica_id'", 0, NULL, hq_one_text, &old);
	if (rc == 0)
		rc = be->exec(db, "SELECT value FROM hq_meta WHERE key = 'replica_ids_before'", 0, NULL, hq_one_text,
			      &before);
	if (rc == 0 && !old)
		rc = fs_err(FIELDSYNC_EINVAL, "the backup has no HQ replica id");
	struct fs_buf ids;
	fs_buf_init(&ids, 0);
	if (rc == 0) {
		fs_random_id(x->new_id);
		fs_iso_utc(fs_wall_ms(), now);
		rc = fs_buf_printf(&ids, "%s%s%s", before ? before : "", before ? "," : "", old);
	}
	const char *kv[][2] = { { "replica_id", x->new_id }, { "replica_ids_before", ids.p }, { "restored_at", now } };
	for (size_t k = 0; rc == 0 && k < sizeof kv / sizeof kv[0]; k++) {
		struct fs_val p[2] = { fs_vref(kv[k][0]), fs_vref(kv[k][1]) };
		rc = be->exec(db, "INSERT INTO hq_meta (key, value) VALUES ($1, $2)"
			      " ON CONFLICT (key) DO UPDATE SET value = excluded.value", 2, p, NULL, NULL);
	}
	fs_buf_release(&ids);
	free(old);
	free(before);
	if (rc == 0)
		return be->commit(db);
	be->rollback(db);
	return rc;
}

int hq_restore(const char *conninfo, const char *from, char new_id[33])
{
	struct restore_ctx x;
	memset(&x, 0, sizeof x);
	x.be = hq_backend_for(conninfo);
	if (!x.be)
		return FIELDSYNC_EINVAL;
	if (!x.be->restore)
		return fs_err(FIELDSYNC_EINVAL, "the %s backend cannot restore", x.be->name);
	if (sodium_init() < 0)
		return fs_err(FIELDSYNC_EIO, "libsodium failed to initialise");
	int rc = x.be->restore(conninfo, from, restore_fix, &x);
	if (rc == 0 && new_id)
		memcpy(new_id, x.new_id, 33);
	return rc;
}

void hq_close(struct hq *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->npool; i++)
		db_close(h, h->pool[i]);
	for (int i = 0; i < FS_MAX_TABLES; i++) {
		free(h->q_get[i]);
		free(h->q_lock[i]);
		free(h->q_put[i]);
		free(h->q_feed[i]);
		free(h->q_kids[i]);
		free(h->q_scope[i]);
	}
	free(h->q_cut);
	pthread_mutex_destroy(&h->mu);
	free(h->conninfo);
	free(h);
}

/* ---- what HQ runs ---- */

/* Peak and current resident memory of this process (kB), from the kernel's
 * own counters: VmHWM is what the process ever held, VmRSS what it holds. */
static void memory_kb(double *hwm, double *rss)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	*hwm = *rss = -1;
	while (f && fgets(line, sizeof line, f)) {
		if (!strncmp(line, "VmHWM:", 6))
			*hwm = strtod(line + 6, NULL);
		else if (!strncmp(line, "VmRSS:", 6))
			*rss = strtod(line + 6, NULL);
	}
	if (f)
		fclose(f);
	if (*hwm < 0) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		*hwm = (double)ru.ru_maxrss;
	}
}

void hq_health_details(struct hq *h, cJSON *out)
{
	double hwm, rss;
	memory_kb(&hwm, &rss);
	cJSON_AddStringToObject(out, "status", "ok");
	cJSON_AddStringToObject(out, "replica", h->self_hex);
	cJSON_AddStringToObject(out, "version", FIELDSYNC_VERSION);
	cJSON_AddStringToObject(out, "store", h->be->name);
	cJSON_AddNumberToObject(out, "max_rss_kb", hwm);
	if (rss >= 0)
		cJSON_AddNumberToObject(out, "rss_kb", rss);
}

/* ---- the transaction runner ---- */

int hq_txn_on(struct hq *h, struct hq_db *db, int mode, int (*fn)(struct hq *h, struct hq_db *db, void *ctx),
	      void *ctx)
{
	int rc = h->be->begin(db, mode != HQ_TXN_READ);
	if (rc == 0) {
		rc = fn(h, db, ctx);
		if (rc == 0 && mode == HQ_TXN_WRITE)
			rc = h->be->commit(db);
		else
			h->be->rollback(db);	/* a read, a dry run, or a failure */
	}
	return rc;
}

int hq_txn(struct hq *h, int mode, int (*fn)(struct hq *h, struct hq_db *db, void *ctx), void *ctx)
{
	struct hq_db *db;
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	rc = hq_txn_on(h, db, mode, fn, ctx);
	hq_release(h, db);
	return rc;
}
