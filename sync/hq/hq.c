/* hq.c - the HQ replica: schema, records, push, pull, enrolment, the HTTP handler. */
#include "hq.h"
#include "hq_report.h"

#include <inttypes.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "query.h"
#include "store.h"
#include "web.h"
#include "wire.h"

#define POOL 32

struct hq {
	const struct hq_backend *be;
	char *conninfo;
	struct fs_rid self;
	char self_hex[33];
	struct hq_limits lim;
	pthread_mutex_t mu;
	struct hq_db *pool[POOL];
	int npool;
	/* statement texts, built once so that backends can cache by pointer */
	char *q_get[FS_MAX_TABLES], *q_lock[FS_MAX_TABLES], *q_put[FS_MAX_TABLES];
	char *q_feed[FS_MAX_TABLES], *q_kids[FS_MAX_TABLES], *q_scope[FS_MAX_TABLES];
	char *q_cut;
};

static const char *const q_clock = "SELECT hlc FROM hq_clock WHERE id = 1";
static const char *const q_scope = "SELECT scope FROM customer WHERE id = $1";
static const char *const q_clock_set = "UPDATE hq_clock SET hlc = $1 WHERE id = 1 AND hlc < $1";
static const char *const q_evict = "INSERT INTO evictions (seq, scope, tbl, id) VALUES ($1, $2, $3, $4)";
static const char *const q_evict_feed =
	"SELECT seq, tbl, id FROM evictions WHERE scope = $1 AND seq > $2 AND seq <= $3 ORDER BY seq";

/* ---- small helpers ---- */


static int one_int(void *ctx, int ncol, const struct fs_val *v)
{
	if (ncol > 0 && v[0].t == FS_V_INT)
		*(int64_t *)ctx = v[0].i;
	return 0;
}

static int one_text(void *ctx, int ncol, const struct fs_val *v)
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

static int in_scope(const struct hq_device *d, const char *scope)
{
	for (int i = 0; i < d->nterr; i++)
		if (strcmp(d->terr[i], scope) == 0)
			return 1;
	return 0;
}

/* ---- schema ---- */

static int gc_schema(const struct hq_backend *be, struct fs_buf *b);
static int gc_indexes(struct fs_buf *b);

static int schema(const struct hq_backend *be, struct fs_buf *b)
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
	if (rc == 0)
		rc = hq_web_schema(be, b);	/* the dashboard's tables (web.c) */
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

/* The store schema version of HQ's record tables at each HQ schema. */
static const int rec_version[HQ_SCHEMA_VERSION + 1] = { 0, 1, 3, 4 };

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
	int rc = be->exec(db, "SELECT value FROM hq_meta WHERE key = 'schema'", 0, NULL, one_text, &s);
	if (rc == 0 && s)
		*v = atoi(s);
	free(s);
	return rc;
}

int hq_init(const char *conninfo)
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
		rc = v == 0 ? schema(be, &b) : upgrade(be, v, &b);
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
		if (rc == 0)
			rc = fs_buf_printf(&b, "INSERT INTO %s (%s, seq, origin) VALUES ($1", t->name, cols.p);
		for (int k = 2; rc == 0 && k <= FS_ROW_COLS(t) + 2; k++)
			rc = fs_buf_printf(&b, ", $%d", k);
		if (rc == 0)
			rc = fs_buf_adds(&b, ") ON CONFLICT (id) DO UPDATE SET ");
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
					   " AND seq <= $3 ORDER BY seq", cols.p, t->name);
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
		h->be->close(db);
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
		rc = h->be->exec(db, "SELECT value FROM hq_meta WHERE key = 'replica_id'", 0, NULL, one_text, &rid);
	if (rc == 0 && (!rid || fs_rid_parse(rid, &h->self)))
		rc = fs_err(FIELDSYNC_EIO, "HQ store has no valid replica id");
	if (rc == 0)
		memcpy(h->self_hex, rid, 33);
	free(rid);
	if (rc == 0)
		rc = build_sql(h);
	if (rc) {
		if (db)
			h->be->close(db);
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
		rc = be->exec(db, "SELECT value FROM hq_meta WHERE key = 'replica_id'", 0, NULL, one_text, &old);
	if (rc == 0)
		rc = be->exec(db, "SELECT value FROM hq_meta WHERE key = 'replica_ids_before'", 0, NULL, one_text,
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
		h->be->close(h->pool[i]);
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

/* ---- records ---- */

struct rec_ctx {
	const struct fs_table *t;
	struct fs_rec *out;
	int found, rc;
	int64_t seq;
	char origin[33];
};

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

static int rec_get(struct hq *h, struct hq_db *db, const struct fs_table *t, const char *id, int lock,
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
	return rec_get(h, db, t, id, lock, out, NULL);
}

/* Per write transaction, per thread (a server thread serves one request at
 * a time): a block of reserved sequence numbers and the scopes of the
 * customers the batch has touched. Valid only between txn_start() and
 * txn_end() on that connection; elsewhere everything is looked up afresh. */
#define SEQ_BLOCK 256
#define SCOPE_SLOTS 4096
static _Thread_local struct txn_cache {
	struct hq_db *db;
	int64_t seq_next, seq_end;
	uint64_t gen;	/* this transaction's number: slots of others are stale */
	struct {
		uint64_t gen;
		char id[33], scope[65];
	} scope[SCOPE_SLOTS];
} tc;

static void txn_start(struct hq_db *db)
{
	tc.db = db;
	tc.seq_next = tc.seq_end = 0;
	tc.gen++;
}

static const char *const q_seq_set = "UPDATE hq_seq SET seq = $1 WHERE id = 1";

/* End of the write transaction's work: the unused rest of the reserved block
 * is given back (the counter is left at the last number used), so that the
 * counter always equals the highest sequence number in the store. Returns
 * rc, or the error of giving back. */
static int txn_end(struct hq *h, int rc)
{
	struct hq_db *db = tc.db;
	tc.db = NULL;
	if (rc == 0 && db && tc.seq_next > 0 && tc.seq_next <= tc.seq_end) {
		struct fs_val p = fs_vint(tc.seq_next - 1);
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
	if (tc.db != db)
		return;
	unsigned k = scope_slot(id);
	tc.scope[k].gen = tc.gen;
	snprintf(tc.scope[k].id, sizeof tc.scope[k].id, "%s", id);
	snprintf(tc.scope[k].scope, sizeof tc.scope[k].scope, "%s", scope);
}

static const char *const q_seq_block =
	"UPDATE hq_seq SET seq = seq + $1 WHERE id = 1 RETURNING seq";

/* The next change sequence number. The first one a transaction takes locks
 * the sequence row until commit, so sequence order is commit order; numbers
 * are reserved in blocks, one UPDATE per block, and txn_end() gives back
 * what the transaction did not use. */
static int next_seq(struct hq *h, struct hq_db *db, int64_t *seq)
{
	if (tc.db == db && tc.seq_next > 0 && tc.seq_next <= tc.seq_end) {
		*seq = tc.seq_next++;
		return 0;
	}
	int64_t n = tc.db == db ? SEQ_BLOCK : 1, top = 0;
	struct fs_val p = fs_vint(n);
	int rc = h->be->exec(db, q_seq_block, 1, &p, one_int, &top);
	if (rc == 0 && top <= 0)
		rc = fs_err(FIELDSYNC_EIO, "HQ change sequence is missing");
	if (rc)
		return rc;
	*seq = top - n + 1;
	if (tc.db == db) {
		tc.seq_next = *seq + 1;
		tc.seq_end = top;
	}
	return 0;
}

static int rec_put(struct hq *h, struct hq_db *db, const struct fs_rec *r, const char *origin, int64_t *seq_out)
{
	struct fs_val row[FS_MAX_FIELDS + 8];
	char *enc[3];
	int64_t seq;
	int rc = next_seq(h, db, &seq);
	if (seq_out)
		*seq_out = seq;
	if (rc)
		return rc;
	if ((rc = fs_rec_to_row(r, row, enc)))
		return rc;
	int n = FS_ROW_COLS(r->t);
	row[n] = fs_vint(seq);
	row[n + 1] = fs_vref(origin && *origin ? origin : NULL);
	rc = h->be->exec(db, h->q_put[r->t->idx], n + 2, row, NULL, NULL);
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
	int rc = h->be->exec(db, q_clock, 0, NULL, one_int, &last);
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
static int observe_hlc(struct hq *h, struct hq_db *db, int64_t hlc)
{
	struct fs_val p = fs_vint(hlc);
	return h->be->exec(db, q_clock_set, 1, &p, NULL, NULL);
}

/* Scope of a record at HQ: a customer's territory, or its customer's scope. */
static int scope_of(struct hq *h, struct hq_db *db, const struct fs_rec *r, char scope[65])
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
	if (tc.db == db && tc.scope[k].gen == tc.gen && strcmp(tc.scope[k].id, cid) == 0) {
		memcpy(scope, tc.scope[k].scope, 65);
		return 0;
	}
	char *found = NULL;
	struct fs_val id = fs_vref(cid);
	int rc = h->be->exec(db, q_scope, 1, &id, one_text, &found);
	if (rc == 0 && !found)
		rc = fs_err(FIELDSYNC_ENOTFOUND, "unknown customer %s", cid);
	if (rc == 0) {
		snprintf(scope, 65, "%s", found);
		scope_note(db, cid, scope);
	}
	free(found);
	return rc;
}

struct kids {
	char (*ids)[33];
	int n, cap;
};

static int kid_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct kids *k = ctx;
	if (ncol < 1 || v[0].t != FS_V_TEXT)
		return 0;
	if (k->n == k->cap) {
		int cap = k->cap ? k->cap * 2 : 64;
		void *p = realloc(k->ids, (size_t)cap * sizeof *k->ids);
		if (!p)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		k->ids = p;
		k->cap = cap;
	}
	snprintf(k->ids[k->n++], 33, "%s", v[0].s);
	return 0;
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
		struct kids k = { 0 };
		struct fs_val pid = fs_vref(id);
		rc = h->be->exec(db, h->q_kids[i], 1, &pid, kid_row, &k);
		for (int j = 0; rc == 0 && j < k.n; j++) {
			struct fs_rec r;
			struct rec_ctx m;
			if ((rc = rec_get(h, db, fs_tables[i], k.ids[j], 1, &r, &m)))
				break;
			snprintf(r.scope, sizeof r.scope, "%s", to);
			/* no origin: a device that had it may have evicted it meanwhile */
			rc = rec_put(h, db, &r, NULL, NULL);
			fs_rec_release(&r);
		}
		free(k.ids);
	}
	return rc;
}

/* Conflict records for the open clashes of `r`, written by HQ if missing. */
struct note_ctx {
	struct hq *h;
	struct hq_db *db;
};

static int note_clash(void *vctx, const struct fs_rec *r, int field, const struct fs_sib *loser)
{
	struct note_ctx *x = vctx;
	struct fs_chg c;
	struct fs_rec have, nr;
	char cid[33];
	int rc = fs_conflict_build(r, field, loser, &c, cid);
	if (rc)
		return rc == FIELDSYNC_EINVAL ? 0 : rc;
	rc = rec_get(x->h, x->db, &fs_tbl_conflict, cid, 0, &have, NULL);
	if (rc == 0)
		fs_rec_release(&have);
	if (rc != FIELDSYNC_ENOTFOUND) {
		fs_chg_release(&c);
		return rc;
	}
	int64_t hlc;
	fs_rec_init(&nr, &fs_tbl_conflict);
	memcpy(nr.id, cid, 33);
	rc = next_hlc(x->h, x->db, &hlc);
	if (rc == 0 && (rc = fs_rec_write(&nr, &c, &x->h->self, hlc)) > 0)
		rc = 0;
	if (rc == 0) {
		memcpy(nr.scope, r->scope, sizeof nr.scope);
		rc = rec_put(x->h, x->db, &nr, NULL, NULL);
	}
	fs_rec_release(&nr);
	fs_chg_release(&c);
	return rc;
}

/* Store a new version: the row, the territory move if any, the conflicts. */
static int store_version(struct hq *h, struct hq_db *db, const struct fs_rec *old, struct fs_rec *r,
			 const char *origin, int64_t *seq)
{
	int rc = rec_put(h, db, r, origin, seq);
	if (rc == 0 && old && r->t == &fs_tbl_customer && old->scope[0] && strcmp(old->scope, r->scope))
		rc = move_customer(h, db, r->id, old->scope, r->scope);
	if (rc == 0) {
		struct note_ctx x = { h, db };
		rc = fs_rec_clashes(r, note_clash, &x);
	}
	return rc;
}

static int write_locked(struct hq *h, struct hq_db *db, const struct fs_chg *c, const char *id, char id_out[33])
{
	const struct fs_table *t = c->t;
	struct fs_rec r, old;
	int creating = !id || !*id, rc;
	fs_rec_init(&old, t);
	if (creating) {
		fs_rec_init(&r, t);
		fs_random_id(r.id);
	} else {
		if ((rc = rec_get(h, db, t, id, 1, &r, NULL)))
			return rc;
		if (fs_rec_deleted(&r) && !(t->deleted_field >= 0 && c->set[t->deleted_field])) {
			fs_rec_release(&r);
			return fs_err(FIELDSYNC_ENOTFOUND, "%s %s is deleted", t->name, id);
		}
		fs_rec_copy(&old, &r);
	}
	int64_t hlc = 0;
	rc = fs_chg_validate(c, creating ? NULL : &r);
	if (rc == 0)
		rc = next_hlc(h, db, &hlc);
	int n = rc ? 0 : fs_rec_write(&r, c, &h->self, hlc);
	if (n < 0)
		rc = n;
	if (rc == 0 && (n > 0 || creating)) {
		rc = scope_of(h, db, &r, r.scope);
		if (rc == 0)
			rc = store_version(h, db, creating ? NULL : &old, &r, NULL, NULL);
	}
	if (rc == 0 && id_out)
		memcpy(id_out, r.id, 33);
	fs_rec_release(&r);
	fs_rec_release(&old);
	return rc;
}

int hq_write(struct hq *h, const struct fs_chg *c, const char *id, char id_out[33])
{
	struct hq_db *db;
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	rc = h->be->begin(db, 1);
	if (rc == 0) {
		txn_start(db);
		rc = txn_end(h, write_locked(h, db, c, id, id_out));
		if (rc == 0)
			rc = h->be->commit(db);
		else
			h->be->rollback(db);
	}
	hq_release(h, db);
	return rc;
}

int hq_write_in(struct hq *h, struct hq_db *db, const struct fs_chg *c, const char *id, char id_out[33])
{
	return write_locked(h, db, c, id, id_out);
}

int hq_write_batch(struct hq *h, int (*fn)(struct hq *h, struct hq_db *db, void *ctx), void *ctx, int commit)
{
	struct hq_db *db;
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	rc = h->be->begin(db, 1);
	if (rc == 0) {
		txn_start(db);
		rc = txn_end(h, fn(h, db, ctx));
		if (rc == 0 && commit)
			rc = h->be->commit(db);
		else
			h->be->rollback(db);
	}
	hq_release(h, db);
	return rc;
}

int hq_resolve(struct hq *h, const char *cid, int keep_loser)
{
	const struct fs_table *ct = &fs_tbl_conflict;
	struct hq_db *db;
	struct fs_rec k, r;
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	if ((rc = h->be->begin(db, 1))) {
		hq_release(h, db);
		return rc;
	}
	txn_start(db);
	if ((rc = rec_get(h, db, ct, cid, 1, &k, NULL)) == 0) {
		const struct fs_val *tbl = &k.f[fs_field_find(ct, "tbl")].v, *rid = &k.f[fs_field_find(ct, "rec_id")].v;
		const struct fs_table *t = tbl->t == FS_V_TEXT ? fs_table_find(tbl->s) : NULL;
		if (!t || rid->t != FS_V_TEXT)
			rc = fs_err(FIELDSYNC_EIO, "conflict %s is malformed", cid);
		else if ((rc = rec_get(h, db, t, rid->s, 1, &r, NULL)) == 0) {
			struct fs_chg field, res;
			char note[64];
			snprintf(note, sizeof note, "kept %s at HQ", keep_loser ? "loser" : "winner");
			if ((rc = fs_conflict_plan(&k, &r, keep_loser, note, &field, &res)) == 0) {
				rc = write_locked(h, db, &field, r.id, NULL);
				if (rc == 0)
					rc = write_locked(h, db, &res, cid, NULL);
				fs_chg_release(&field);
				fs_chg_release(&res);
			}
			fs_rec_release(&r);
		}
		fs_rec_release(&k);
	}
	rc = txn_end(h, rc);
	if (rc == 0)
		rc = h->be->commit(db);
	else
		h->be->rollback(db);
	hq_release(h, db);
	return rc;
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
	int rc = h->be->exec(db, q_clock, 0, NULL, one_int, &last);
	if (rc == 0)
		rc = hq_clock_limit(h, db, &limit, NULL);
	if (rc == 0 && last > limit) {
		x->was = last;
		struct fs_val p = fs_vint(fs_wall_ms() * 1024);
		rc = h->be->exec(db, "UPDATE hq_clock SET hlc = $1 WHERE id = 1", 1, &p, NULL, NULL);
	}
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		struct kids k = { 0 };
		char sql[128];
		struct fs_val p = fs_vint(limit);
		snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE hlc > $1 ORDER BY id", fs_tables[i]->name);
		rc = h->be->exec(db, sql, 1, &p, kid_row, &k);
		for (int j = 0; rc == 0 && j < k.n; j++) {
			struct fs_rec r, old;
			int64_t hlc;
			if ((rc = rec_get(h, db, fs_tables[i], k.ids[j], 1, &r, NULL)))
				break;
			fs_rec_init(&old, r.t);
			rc = fs_rec_copy(&old, &r);
			if (rc == 0)
				rc = next_hlc(h, db, &hlc);
			int n = rc ? 0 : fs_rec_restamp(&r, limit, &h->self, hlc);
			if (n < 0)
				rc = n;
			if (rc == 0 && n > 0) {
				rc = store_version(h, db, &old, &r, NULL, NULL);
				x->records++;
			}
			fs_rec_release(&old);
			fs_rec_release(&r);
		}
		free(k.ids);
	}
	return rc;
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

static int quarantine(struct hq *h, struct hq_db *db, const struct hq_device *d, const struct fs_rec *r,
		      const char *reason)
{
	char *vv = NULL, now[32];
	cJSON *j = fs_wire_rec_encode(r, NULL);
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
		int rc = h->be->exec(db, h->q_scope[rt->idx], 1, &p, one_text, &scope);
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
		 const struct fs_rec *old, int64_t limit, struct fs_rec *m, char *why, size_t n)
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
	rc = scope_of(h, db, m, scope);
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
	return check_refs(h, db, m, old, why, n);
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
	int rc = rec_get(h, db, in->t, in->id, 1, &old, &meta), have = rc == 0;
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
	rc = judge(h, db, d, in, have ? &old : NULL, limit, &m, why, nwhy);
	if (rc == 0 && !why[0]) {
		*seq_out = have ? meta.seq : 0;
		*hlc_out = m.hlc;
		memcpy(scope_out, m.scope, 65);
		if (!have || !fs_rec_same(&old, &m) || strcmp(old.scope, m.scope)) {
			/* origin: the device already holds exactly this version, under
			 * the same scope (else an eviction there could remove it) */
			int echo = fs_rec_same(&m, in) && strcmp(m.scope, in->scope) == 0;
			rc = store_version(h, db, have ? &old : NULL, &m, echo ? d->id : NULL, seq_out);
		}
		if (rc == 0)
			rc = fs_vv_copy(vv_out, &m.vv);
	}
	/* a refused write leaves the device: it gets the version it may hold */
	if (rc == 0 && why[0] && have && in_scope(d, old.scope)) {
		*current = fs_wire_rec_encode(&old, old.scope);
		if (*current)
			cJSON_AddNumberToObject(*current, "q", (double)meta.seq);
	}
	if (have)
		fs_rec_release(&old);
	fs_rec_release(&m);
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
	struct hq_db *db = NULL;
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
	int64_t max_hlc = 0, limit = 0;
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
	if (rc == 0)
		rc = hq_acquire(h, &db);
	if (rc == 0)
		rc = h->be->begin(db, 1);
	if (rc == 0)
		txn_start(db);
	if (rc == 0)
		rc = hq_clock_limit(h, db, &limit, NULL);
	/* answers in request order; conflict records merged after the rest of
	 * the batch, so that the record whose merge makes a conflict at HQ comes
	 * first and the device's copy of that conflict finds it held */
	cJSON **res = rc ? NULL : calloc((size_t)n + 1, sizeof *res);
	if (rc == 0 && !res)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int pass = 0; rc == 0 && pass < 2; pass++)
	for (int k = 0; rc == 0 && k < n; k++) {
		if ((recs[k].t == &fs_tbl_conflict) != pass)
			continue;
		char why[256];
		struct fs_vv vv = { 0 };
		int64_t seq = 0, hlc = 0;
		char scope[65] = "";
		cJSON *current = NULL;
		rc = merge_in(h, db, d, &recs[k], qs[k], limit, why, sizeof why, &vv, &seq, scope, &hlc, &current);
		if (rc == 0 && why[0])
			rc = quarantine(h, db, d, &recs[k], why);
		if (rc == 0) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "t", recs[k].t->name);
			cJSON_AddStringToObject(o, "id", recs[k].id);
			cJSON_AddBoolToObject(o, "ok", !why[0]);
			if (why[0]) {
				cJSON_AddStringToObject(o, "reason", why);
				if (current)
					cJSON_AddItemToObject(o, "current", current), current = NULL;
				(*rejected)++;
			} else {
				cJSON_AddItemToObject(o, "vv", fs_wire_vv_encode(&vv));
				cJSON_AddNumberToObject(o, "q", (double)seq);
				cJSON_AddStringToObject(o, "scope", scope);
				if (hlc > max_hlc)
					max_hlc = hlc;
				(*accepted)++;
			}
			res[k] = o;
		}
		cJSON_Delete(current);
		fs_vv_release(&vv);
	}
	/* HQ's clock follows what it accepted, all of it within the bound */
	if (rc == 0 && max_hlc)
		rc = observe_hlc(h, db, max_hlc);
	for (int k = 0; res && k < n; k++)
		if (rc == 0)
			cJSON_AddItemToArray(out, res[k]);
		else
			cJSON_Delete(res[k]);
	free(res);
	rc = txn_end(h, rc);
	if (rc == 0 && h->lim.hold_ms > 0)
		usleep((useconds_t)h->lim.hold_ms * 1000);
	if (db) {
		if (rc == 0)
			rc = h->be->commit(db);	/* nothing is acknowledged before this */
		else
			h->be->rollback(db);
		hq_release(h, db);
	}
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
	struct fs_rec old, m;
	struct hq_device d;
	char why[256];
	int64_t limit;
	int rc = load_device(h, db, device, &d);
	if (rc)
		return rc;
	rc = rec_get(h, db, in->t, in->id, 1, &old, NULL);
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
		rc = judge(h, db, &d, in, have ? &old : NULL, limit, &m, why, sizeof why);
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
		rc = store_version(h, db, have ? &old : NULL, &m, NULL, NULL);
	if (rc == 0)
		rc = observe_hlc(h, db, m.hlc);
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
		j = fs_wire_rec_encode(&r, r.scope);
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
	struct fs_val p[3] = { fs_vref(scope), fs_vint(from), fs_vint(limit) };
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
		rc = h->be->exec(db, x.evict ? q_evict_feed : h->q_feed[i], 3, p, feed_row, &x);
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

int hq_pull(struct hq *h, struct hq_db *db, const struct hq_device *d, const cJSON *cursor, const cJSON *resync,
	    int limit, cJSON *out, int *nrec)
{
	cJSON *changes = cJSON_AddArrayToObject(out, "changes");
	cJSON *cur = cJSON_AddObjectToObject(out, "cursor");
	cJSON *drop = cJSON_AddArrayToObject(out, "drop");
	cJSON *terr = cJSON_AddArrayToObject(out, "territories");
	cJSON *rsout = cJSON_CreateObject();
	int64_t hz[HQ_MAX_TERR] = { 0 };
	struct horizon_ctx hx = { d, hz };
	int rc = 0, more = 0;
	*nrec = 0;
	if (!changes || !cur || !drop || !terr || !rsout) {
		cJSON_Delete(rsout);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	if ((rc = seq_object(cursor, "cursor")) || (rc = seq_object(resync, "resync"))) {
		cJSON_Delete(rsout);
		return rc;
	}
	/* territories the device still holds but may no longer see */
	for (const cJSON *c = cursor ? cursor->child : NULL; c; c = c->next)
		if (!in_scope(d, c->string))
			cJSON_AddItemToArray(drop, cJSON_CreateString(c->string));
	if ((rc = h->be->begin(db, 0))) {
		cJSON_Delete(rsout);
		return rc;
	}
	/* per territory, the highest sequence number garbage collection took */
	rc = h->be->exec(db, "SELECT territory, seq FROM gc_horizon", 0, NULL, horizon_row, &hx);
	for (int i = 0; i < d->nterr && rc == 0; i++) {
		/* cursor per territory: the last sequence number sent; negative while
		 * a backfill of the territory is under way */
		const cJSON *c = cursor ? cJSON_GetObjectItemCaseSensitive(cursor, d->terr[i]) : NULL;
		const cJSON *r = resync ? cJSON_GetObjectItemCaseSensitive(resync, d->terr[i]) : NULL;
		int64_t from = c ? (int64_t)c->valuedouble : 0;
		int backfill = !c || from < 0, m = 0, left = limit - cJSON_GetArraySize(changes);
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
		cJSON_AddItemToArray(terr, cJSON_CreateString(d->terr[i]));
		if (rs) {
			char num[32];
			snprintf(num, sizeof num, "%lld", (long long)hz[i]);
			cJSON_AddItemToObject(rsout, d->terr[i], cJSON_CreateRaw(num));
		}
		if (left > 0 && !more)
			rc = pull_scope(h, db, d, d->terr[i], from, backfill, left, changes, &to, &m, nrec);
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
		cJSON_AddItemToObject(cur, d->terr[i], cJSON_CreateRaw(num));
	}
	if (rsout->child)
		cJSON_AddItemToObject(out, "resync", rsout);
	else
		cJSON_Delete(rsout);
	if (rc == 0)
		rc = hq_settings_reply(h, db, out);	/* HQ's settings ride along (hq_report.h) */
	h->be->rollback(db);	/* read-only */
	cJSON_AddBoolToObject(out, "more", more);
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
		rc = h->be->exec(db, "SELECT value FROM hq_meta WHERE key = 'enroll_secret'", 0, NULL, one_text, &hex);
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

int hq_enroll(struct hq *h, const char *token, const char *name, const char *nonce, const char *app_version,
	      cJSON *out)
{
	struct hq_db *db;
	char hash[65], nhash[65] = "", rid[33], devtok[65], dh[65], now[32];
	unsigned char key[32];
	struct tok_ctx x;
	memset(&x, 0, sizeof x);
	if (!token || strlen(token) < 16 || strlen(token) > 256)
		return fs_err(FIELDSYNC_EAUTH, "malformed enrolment token");
	if (name && (strlen(name) > 100 || !fs_utf8_valid(name, strlen(name))))
		return fs_err(FIELDSYNC_EINVAL, "device name must be at most 100 bytes of UTF-8");
	if (app_version && strlen(app_version) > 40)
		return fs_err(FIELDSYNC_EINVAL, "app_version too long");
	if (nonce && !fs_is_id(nonce))
		return fs_err(FIELDSYNC_EINVAL, "nonce must be 32 lowercase hex digits");
	hq_token_hash(token, hash);
	if (nonce)
		hq_token_hash(nonce, nhash);	/* kept hashed: with the token it would replay */
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	if ((rc = h->be->begin(db, 1))) {
		hq_release(h, db);
		return rc;
	}
	struct fs_val p = fs_vref(hash);
	rc = h->be->exec(db, "SELECT t.rep, t.expires_ms, t.used_at, t.nonce, t.device FROM enroll_tokens t"
			 " JOIN reps r ON r.name = t.rep WHERE t.hash = $1 AND r.revoked = 0", 1, &p, tok_row, &x);
	int64_t used_ms = 0, wall = fs_wall_ms();
	if (rc == 0 && x.used && fs_parse_datetime(x.used_at, &used_ms))
		used_ms = 0;
	/* the same token and nonce again, soon, before expiry: the answer to
	 * the first try was lost; it gets the same answer */
	int again = rc == 0 && x.found && x.used && nonce && !strcmp(x.nonce, nhash) && x.device[0] &&
		    used_ms > 0 && wall - used_ms <= ENROLL_RETRY_S * 1000LL && wall >= used_ms - 60000;
	if (rc == 0 && (!x.found || x.expires < wall || (x.used && !again)))
		rc = fs_err(FIELDSYNC_EAUTH, "enrolment token unknown, used or expired");
	if (rc == 0)
		rc = enroll_secret(h, db, key);
	if (rc == 0) {
		fs_iso_utc(wall, now);
		if (again)
			memcpy(rid, x.device, 33);
		else
			fs_random_id(rid);
		device_token(key, token, rid, nonce, devtok);
		hq_token_hash(devtok, dh);
	}
	if (rc == 0 && again) {
		/* the device must still be the one this token made */
		struct hq_device d;
		rc = load_device(h, db, rid, &d);
		if (rc == FIELDSYNC_ENOTFOUND)
			rc = fs_err(FIELDSYNC_EAUTH, "enrolment token unknown, used or expired");
	} else if (rc == 0) {
		struct fs_val q[6] = { fs_vref(rid), fs_vref(x.rep), fs_vref(name), fs_vref(dh), fs_vref(now),
			fs_vref(app_version) };
		rc = h->be->exec(db, "INSERT INTO devices (id, rep, name, token_hash, created_at, app_version)"
				 " VALUES ($1, $2, $3, $4, $5, $6)", 6, q, NULL, NULL);
		struct fs_val u[4] = { fs_vref(now), fs_vref(nonce ? nhash : NULL), fs_vref(rid), fs_vref(hash) };
		if (rc == 0)
			rc = h->be->exec(db, "UPDATE enroll_tokens SET used_at = $1, nonce = $2, device = $3"
					 " WHERE hash = $4", 4, u, NULL, NULL);
	}
	sodium_memzero(key, sizeof key);
	struct hq_device d;
	memset(&d, 0, sizeof d);
	struct fs_val r = fs_vref(x.rep);
	if (rc == 0)
		rc = h->be->exec(db, "SELECT territory FROM rep_territories WHERE rep = $1 ORDER BY territory", 1,
				 &r, terr_row, &d);
	if (rc == 0)
		rc = h->be->commit(db);
	else
		h->be->rollback(db);
	hq_release(h, db);
	if (rc) {
		sodium_memzero(devtok, sizeof devtok);
		return rc;
	}
	cJSON_AddStringToObject(out, "replica_id", rid);
	cJSON_AddStringToObject(out, "device_token", devtok);
	cJSON_AddStringToObject(out, "rep", x.rep);
	cJSON_AddStringToObject(out, "hq_id", h->self_hex);
	cJSON *t = cJSON_AddArrayToObject(out, "territories");
	for (int i = 0; i < d.nterr; i++)
		cJSON_AddItemToArray(t, cJSON_CreateString(d.terr[i]));
	sodium_memzero(devtok, sizeof devtok);
	return 0;
}

/* ---- the HTTP handler ---- */

static void reply_json(struct hq_response *resp, int status, cJSON *doc)
{
	char *txt = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!txt) {
		hq_response_error(resp, 500, "internal", "out of memory");
		return;
	}
	resp->status = status;
	resp->body = txt;
	resp->body_len = strlen(txt);
}

static void reply_rc(struct hq_response *resp, int rc, const char *what)
{
	const char *m = fs_errmsg_get();
	switch (rc) {
	case FIELDSYNC_EAUTH:
		hq_response_error(resp, 401, "unauthorized", "%s", m);
		break;
	case FIELDSYNC_ELIMIT:
		hq_response_error(resp, 413, "limit", "%s", m);
		break;
	case FIELDSYNC_EINVAL:
		hq_response_error(resp, 400, "bad_request", "%s", m);
		break;
	case FIELDSYNC_EPROTO:
		hq_response_error(resp, 400, "protocol_version", "%s", m);
		break;
	case FIELDSYNC_EBUSY:
		hq_response_error(resp, 503, "busy", "HQ store busy, retry");
		resp->retry_after = 1;
		break;
	default:
		hq_response_error(resp, 500, "internal", "%s failed: %s", what, m);
	}
}

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

static int keep_for_review(struct hq *h, struct hq_db *db, const struct hq_device *d, const cJSON *records,
			   int *kept, int *stored)
{
	int n = cJSON_GetArraySize(records), rc;
	struct handin_ctx have = { 0, 0 };
	*kept = *stored = 0;
	if (n > h->lim.max_batch)
		return fs_err(FIELDSYNC_ELIMIT, "batch of %d records; the limit is %d", n, h->lim.max_batch);
	if ((rc = h->be->begin(db, 1)))
		return rc;
	struct fs_val p[2] = { fs_vref(d->id), fs_vref(HANDIN_REASON) };
	rc = h->be->exec(db, "SELECT count(*), coalesce(sum(length(record)), 0) FROM quarantine"
			 " WHERE device = $1 AND reason = $2", 2, p, handin_row, &have);
	for (const cJSON *e = records->child; e && rc == 0; e = e->next) {
		struct fs_rec r;
		rc = fs_wire_rec_decode(e, &r);
		if (rc)
			break;
		char *txt = cJSON_PrintUnformatted(e);
		int64_t len = txt ? (int64_t)strlen(txt) : 0;
		free(txt);
		if (have.n < HANDIN_MAX_RECORDS && have.bytes + len <= HANDIN_MAX_BYTES) {
			rc = quarantine(h, db, d, &r, HANDIN_REASON);
			have.n++;
			have.bytes += len;
			(*stored)++;
		}
		fs_rec_release(&r);
	}
	if (rc == 0 && (rc = h->be->commit(db)) == 0)
		*kept = n;
	if (rc) {
		h->be->rollback(db);
		*stored = 0;
	}
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

static void touch_device(struct hq *h, struct hq_db *db, const struct hq_device *d, int synced, int pull,
			 const cJSON *body)
{
	char now[32];
	int64_t pending = -1;
	fs_iso_utc(fs_wall_ms(), now);
	fs_wire_int(body, "pending", 0, FS_INT_MAX_EXACT, &pending);
	const char *ver = fs_wire_str(body, "app_version");
	struct fs_val p[5] = { fs_vref(now), fs_vref(synced ? now : NULL), fs_vint(pending), fs_vref(ver && strlen(ver) <= 40 ? ver : NULL),
		fs_vref(d->id) };
	if (pending < 0)
		p[2] = fs_vref(NULL);
	if (h->be->begin(db, 1) == 0) {
		int rc = h->be->exec(db, "UPDATE devices SET last_seen = $1, last_sync = coalesce($2, last_sync),"
				     " pending = coalesce($3, pending), app_version = coalesce($4, app_version)"
				     " WHERE id = $5", 5, p, NULL, NULL);
		if (rc == 0 && pull && same_hq(h, body))
			rc = note_acks(h, db, d, cJSON_GetObjectItemCaseSensitive(body, "cursor"), now);
		if (rc == 0)
			h->be->commit(db);
		else
			h->be->rollback(db);
	}
}

/* 401 revoked, with "wipe" for a device revoked for erasure and "kept"
 * (when >= 0) for the records it handed in. */
static void reply_revoked(struct hq_response *resp, const struct hq_device *d, int kept, int stored)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "error", "revoked");
	cJSON_AddStringToObject(e, "message", "this device was revoked by HQ");
	cJSON_AddBoolToObject(e, "wipe", d->wipe);
	if (kept >= 0) {
		cJSON_AddNumberToObject(e, "kept", kept);
		cJSON_AddNumberToObject(e, "stored", stored);
	}
	reply_json(resp, 401, e);
}

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

int hq_admit(void *ctx, const struct hq_request *req, struct hq_admission *adm, struct hq_response *resp)
{
	struct hq *h = ctx;
	struct hq_device d;
	struct hq_db *db = NULL;

	if (!strncmp(req->path, "/admin", 6) && (req->path[6] == '\0' || req->path[6] == '/'))
		return hq_web_admit(h, req, adm, resp);
	if (!strcmp(req->path, "/v1/health")) {
		if (strcmp(req->method, "GET")) {
			hq_response_error(resp, 405, "method_not_allowed", "use GET");
			return 1;
		}
		adm->max_body = adm->max_inflated = 0;
		return 0;
	}
	int enroll = !strcmp(req->path, "/v1/enroll"), push = !strcmp(req->path, "/v1/push"),
	    pull = !strcmp(req->path, "/v1/pull");
	if (!enroll && !push && !pull) {
		hq_response_error(resp, 404, "not_found", "no such endpoint");
		return 1;
	}
	if (strcmp(req->method, "POST")) {
		hq_response_error(resp, 405, "method_not_allowed", "use POST");
		return 1;
	}
	if (enroll) {
		/* anyone may try a token: the body stays small */
		adm->max_body = adm->max_inflated = HQ_SMALL_BODY;
		return 0;
	}
	/* Only an enrolled device makes HQ hold a sync body (up to max_body):
	 * its token is looked up now, from the headers. hq_handle looks again
	 * (the device may be revoked meanwhile). */
	int rc = hq_acquire(h, &db);
	if (rc == 0) {
		rc = hq_auth(h, db, req->token, &d);
		hq_release(h, db);
	}
	if (rc == 0)
		return 0;
	if (rc == FIELDSYNC_EAUTH && d.revoked) {
		if (d.wipe && push)
			return 0;	/* it hands in its records before it wipes itself */
		reply_revoked(resp, &d, -1, 0);
	} else if (rc == FIELDSYNC_EAUTH) {
		hq_response_error(resp, 401, "unauthorized", "%s", fs_errmsg_get());
	} else {
		reply_rc(resp, rc, "authentication");
	}
	return 1;
}

int hq_handle(void *ctx, const struct hq_request *req, struct hq_response *resp)
{
	struct hq *h = ctx;
	const char *code;
	struct hq_device d;
	struct hq_db *db = NULL;
	cJSON *body = NULL, *out;
	int rc;

	if (!strncmp(req->path, "/admin", 6) && (req->path[6] == '\0' || req->path[6] == '/'))
		return hq_web_handle(h, req, resp);	/* the dashboard (web.c) */
	if (!strcmp(req->path, "/v1/health")) {
		if (strcmp(req->method, "GET")) {
			hq_response_error(resp, 405, "method_not_allowed", "use GET");
			return 0;
		}
		/* anyone may ask whether HQ is up; what it runs is for admins
		 * (/admin/api/health, hq_health_details) */
		out = cJSON_CreateObject();
		cJSON_AddNumberToObject(out, "v", FS_PROTOCOL);
		cJSON_AddStringToObject(out, "status", "ok");
		reply_json(resp, 200, out);
		return 0;
	}
	int enroll = !strcmp(req->path, "/v1/enroll"), push = !strcmp(req->path, "/v1/push"),
	    pull = !strcmp(req->path, "/v1/pull");
	if (!enroll && !push && !pull) {
		hq_response_error(resp, 404, "not_found", "no such endpoint");
		return 0;
	}
	if (strcmp(req->method, "POST")) {
		hq_response_error(resp, 405, "method_not_allowed", "use POST");
		return 0;
	}
	body = fs_wire_parse(req->body, req->body_len, FS_WIRE_MAX_DEPTH, &code);
	if (!body) {
		hq_response_error(resp, 400, code, "%s", fs_errmsg_get());
		return 0;
	}
	if ((rc = fs_wire_check_version(body))) {
		hq_response_error(resp, 400, "protocol_version", "%s", fs_errmsg_get());
		cJSON_Delete(body);
		return 0;
	}
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "v", FS_PROTOCOL);
	if (enroll) {
		rc = hq_enroll(h, fs_wire_str(body, "token"), fs_wire_str(body, "name"), fs_wire_str(body, "nonce"),
			       fs_wire_str(body, "app_version"), out);
		if (rc == FIELDSYNC_EAUTH)
			hq_response_error(resp, 403, "bad_enroll_token", "%s", fs_errmsg_get());
		else if (rc)
			reply_rc(resp, rc, "enrolment");
		else
			reply_json(resp, 200, out), out = NULL;
		goto done;
	}
	if ((rc = hq_acquire(h, &db))) {
		reply_rc(resp, rc, "store");
		goto done;
	}
	rc = hq_auth(h, db, req->token, &d);
	if (rc == FIELDSYNC_EAUTH) {
		if (d.revoked) {
			const cJSON *recs = cJSON_GetObjectItemCaseSensitive(body, "records");
			int kept = -1, stored = 0;
			if (d.wipe && push && cJSON_IsArray(recs) && keep_for_review(h, db, &d, recs, &kept, &stored) != 0)
				kept = -1;
			reply_revoked(resp, &d, kept, stored);
		} else {
			hq_response_error(resp, 401, "unauthorized", "%s", fs_errmsg_get());
		}
		goto done;
	}
	if (rc) {
		reply_rc(resp, rc, "authentication");
		goto done;
	}
	if (push) {
		const cJSON *recs = cJSON_GetObjectItemCaseSensitive(body, "records");
		cJSON *results;
		int acc, rej;
		if (!cJSON_IsArray(recs)) {
			hq_response_error(resp, 400, "bad_request", "\"records\" must be an array");
			goto done;
		}
		hq_release(h, db);	/* hq_push takes its own connection */
		db = NULL;
		rc = hq_push(h, &d, recs, fs_wire_str(body, "hq_id"), &results, &acc, &rej);
		if (rc == FIELDSYNC_ELIMIT) {
			hq_response_error(resp, 413, "batch_too_large", "%s", fs_errmsg_get());
			goto done;
		}
		if (rc) {
			reply_rc(resp, rc, "push");
			goto done;
		}
		cJSON_AddItemToObject(out, "results", results);
		cJSON_AddNumberToObject(out, "accepted", acc);
		cJSON_AddNumberToObject(out, "rejected", rej);
		resp->records = acc + rej;
		reply_json(resp, 200, out);
		out = NULL;
		if (hq_acquire(h, &db) == 0)
			touch_device(h, db, &d, 0, 0, body);
	} else {
		int64_t limit = h->lim.def_page;
		int nrec;
		if (cJSON_GetObjectItemCaseSensitive(body, "limit") &&
		    fs_wire_int(body, "limit", 1, h->lim.max_page, &limit)) {
			hq_response_error(resp, 400, "bad_request", "\"limit\" must be 1..%d", h->lim.max_page);
			goto done;
		}
		rc = hq_pull(h, db, &d, cJSON_GetObjectItemCaseSensitive(body, "cursor"),
			     cJSON_GetObjectItemCaseSensitive(body, "resync"), (int)limit, out, &nrec);
		if (rc) {
			reply_rc(resp, rc, "pull");
			goto done;
		}
		int more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "more"));
		resp->records = nrec;
		reply_json(resp, 200, out);
		out = NULL;
		touch_device(h, db, &d, !more, 1, body);
	}
done:
	if (db)
		hq_release(h, db);
	cJSON_Delete(out);
	cJSON_Delete(body);
	return 0;
}
