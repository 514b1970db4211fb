/* store.c - the local SQLite replica: schema, migrations, transactions, record I/O. */
#include "store_int.h"
#include "seal.h"
#include "query.h"
#include "replica.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int code = fs_err((rc & 0xff) == SQLITE_BUSY ? FIELDSYNC_EBUSY : FIELDSYNC_EIO,
				  "store: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return code;
	}
	return 0;
}

/* ---- migrations ----
 * Version N's step creates what the registry says appeared in N (tables and
 * fields carry `since`), then runs that version's own SQL. Steps never change:
 * a store at any earlier version migrates forward through each of them. */

static const char *const v1_sql =
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT);\n"
	"CREATE TABLE changelog (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" tbl TEXT NOT NULL, id TEXT NOT NULL);\n"
	"CREATE INDEX changelog_rec ON changelog(tbl, id);\n"
	"CREATE TABLE quarantine (tbl TEXT NOT NULL, id TEXT NOT NULL, reason TEXT NOT NULL,"
	" at TEXT NOT NULL, record TEXT, PRIMARY KEY (tbl, id));\n";

static int migrate_step(sqlite3 *db, int v)
{
	struct fs_buf b;
	fs_buf_init(&b, 0);
	int rc = 0;
	if (v == 1)
		rc = fs_buf_adds(&b, v1_sql);
	/* v2: each row remembers the HQ version it reflects (ordering evictions);
	 * tables that appear later are created with the column */
	for (int i = 0; rc == 0 && v == 2 && i < fs_ntables; i++)
		if (fs_tables[i]->since < 2)
			rc = fs_buf_printf(&b, "ALTER TABLE %s ADD COLUMN hqseq INTEGER;\n", fs_tables[i]->name);
	for (int i = 0; rc == 0 && i < fs_ntables; i++)
		rc = fs_sql_table_ddl(fs_tables[i], v, v >= 2 ? "hqseq INTEGER" : NULL, NULL, &b);
	/* v4: rows a resync of a territory has not brought back yet (sync/client.c) */
	if (rc == 0 && v == 4)
		rc = fs_buf_adds(&b, "CREATE TABLE resync_mark (tbl TEXT NOT NULL, id TEXT NOT NULL,"
				 " scope TEXT NOT NULL, PRIMARY KEY (tbl, id));\n"
				 "CREATE INDEX resync_mark_scope ON resync_mark(scope);\n"
				 /* the retention purge (core/retention.c) after every sync:
				  * only old visits and payments are read */
				 "CREATE INDEX visit_day ON visit(coalesce(substr(check_in, 1, 10), planned_date));\n"
				 "CREATE INDEX payment_date ON payment(date);\n");
	/* v5: the device's copy of HQ's price list (synctab.c fs_catalogue_put) */
	if (rc == 0 && v == 5)
		rc = fs_buf_adds(&b, "CREATE TABLE product (sku TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,"
				 " unit TEXT, price INTEGER NOT NULL, active INTEGER NOT NULL, q INTEGER NOT NULL);\n");
	if (rc == 0 && v == 1) {
		char rid[33], now[32];
		fs_random_id(rid);
		fs_iso_utc(fs_wall_ms(), now);
		rc = fs_buf_printf(&b, "INSERT INTO meta VALUES('replica_id', '%s');\n"
				   "INSERT INTO meta VALUES('hlc', '0');\n"
				   "INSERT INTO meta VALUES('created_at', '%s');\n", rid, now);
	}
	if (rc == 0)
		rc = fs_buf_printf(&b, "PRAGMA user_version = %d;\n", v);
	if (rc == 0)
		rc = exec(db, b.p);
	fs_buf_release(&b);
	return rc;
}

int fs_store_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fs_sqlite_err(db, rc, "reading schema version");
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fs_sqlite_err(db, rc, "reading schema version");
}

int fs_store_migrate(sqlite3 *db, int version)
{
	int cur, rc = exec(db, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	rc = fs_store_version(db, &cur);
	if (rc == 0 && cur > FS_SCHEMA_VERSION)
		rc = fs_err(FIELDSYNC_ESCHEMA,
			    "store schema version %d is newer than this fieldsync (%d); upgrade fieldsync",
			    cur, FS_SCHEMA_VERSION);
	for (int v = cur + 1; rc == 0 && v <= version; v++)
		rc = migrate_step(db, v);
	if (rc == 0)
		return exec(db, "COMMIT");
	exec(db, "ROLLBACK");
	return rc;
}

/* ---- open / close ---- */

int fs_mkdirs(const char *dir)
{
	char tmp[4096];
	if (strlen(dir) >= sizeof tmp)
		return fs_err(FIELDSYNC_EINVAL, "path too long");
	strcpy(tmp, dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return fs_err(FIELDSYNC_EIO, "cannot create %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return fs_err(FIELDSYNC_EIO, "cannot create %s: %s", tmp, strerror(errno));
	return 0;
}

static int prepare(struct fs_store *s, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	return rc == SQLITE_OK ? 0 : fs_sqlite_err(s->db, rc, "preparing statement");
}

static int prepare_record_stmts(struct fs_store *s)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		const struct fs_table *t = fs_tables[i];
		struct fs_buf cols, sql;
		fs_buf_init(&cols, 0);
		fs_buf_init(&sql, 0);
		rc = fs_sql_columns(t, &cols);
		if (rc == 0)
			rc = fs_buf_printf(&sql, "SELECT %s FROM %s WHERE id = ?1", cols.p, t->name);
		if (rc == 0)
			rc = prepare(s, sql.p, &s->get[i]);
		fs_buf_reset(&sql);
		if (rc == 0) {
			rc = fs_buf_printf(&sql, "INSERT INTO %s (%s, hqseq) VALUES (?1", t->name, cols.p);
			for (int k = 2; rc == 0 && k <= t->nfields + 7; k++)
				rc = fs_buf_printf(&sql, ", ?%d", k);
			if (rc == 0)
				rc = fs_buf_adds(&sql, ") ON CONFLICT(id) DO UPDATE SET ");
			for (int k = 0; rc == 0 && k < t->nfields; k++)
				rc = fs_buf_printf(&sql, "%s = excluded.%s, ", t->fields[k].name,
						   t->fields[k].name);
			if (rc == 0)
				rc = fs_buf_adds(&sql, "scope = excluded.scope, vv = excluded.vv, "
						 "dots = excluded.dots, sib = excluded.sib, hlc = excluded.hlc, "
						 "hqseq = max(coalesce(excluded.hqseq, 0), coalesce(hqseq, 0))");
			if (rc == 0)
				rc = prepare(s, sql.p, &s->put[i]);
		}
		fs_buf_reset(&sql);
		if (rc == 0)
			rc = fs_buf_printf(&sql, "DELETE FROM %s WHERE id = ?1", t->name);
		if (rc == 0)
			rc = prepare(s, sql.p, &s->del[i]);
		fs_buf_release(&cols);
		fs_buf_release(&sql);
	}
	if (rc == 0)
		rc = prepare(s, "INSERT INTO changelog(tbl, id) VALUES (?1, ?2)", &s->log_add);
	if (rc == 0)
		rc = prepare(s, "SELECT value FROM meta WHERE key = ?1", &s->meta_get);
	if (rc == 0)
		rc = prepare(s, "INSERT INTO meta(key, value) VALUES (?1, ?2) "
			     "ON CONFLICT(key) DO UPDATE SET value = excluded.value", &s->meta_set);
	return rc;
}

static void load_clock_ahead(struct fs_store *s);

int fs_store_open_plain(const char *path, unsigned flags, struct fs_store **out)
{
	struct fs_store *s;
	struct stat sb;
	int exists = stat(path, &sb) == 0, rc;

	*out = NULL;
	if (!exists && !(flags & FS_OPEN_CREATE))
		return fs_err(FIELDSYNC_ENOTFOUND, "no store at %s", path);
	if (!exists) {
		char *dup = strdup(path);
		if (!dup)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		rc = fs_mkdirs(dirname(dup));
		free(dup);
		if (rc)
			return rc;
		/* create it 0600 ourselves: SQLite gives -wal/-shm the same mode */
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return fs_err(FIELDSYNC_EIO, "cannot create %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	int oflags = (flags & FS_OPEN_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	rc = sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = fs_sqlite_err(s->db, rc, path);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_extended_result_codes(s->db, 1);
	if (!(flags & FS_OPEN_READONLY) &&
	    (rc = exec(s->db, "PRAGMA journal_mode = WAL")))
		goto fail;
	/* 8 MiB of page cache: big stores sync much faster, and the agent
	 * stays well under its memory budget */
	if ((rc = exec(s->db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
		       " PRAGMA cache_size = -8192;")))
		goto fail;
	int ver;
	if ((rc = fs_store_version(s->db, &ver)))
		goto fail;
	if (ver == 0) {
		/* an SQLite file that is not a store, or a fresh one */
		sqlite3_stmt *st;
		int n = 0;
		if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				n = sqlite3_column_int(st, 0);
			sqlite3_finalize(st);
		} else {
			rc = fs_err(FIELDSYNC_EIO, "%s is not a fieldsync store", path);
			goto fail;
		}
		if (n > 0) {
			rc = fs_err(FIELDSYNC_EIO, "%s is an SQLite file but not a fieldsync store", path);
			goto fail;
		}
	}
	if (ver > FS_SCHEMA_VERSION) {
		rc = fs_err(FIELDSYNC_ESCHEMA,
			    "store %s has schema version %d, newer than this fieldsync (%d); upgrade fieldsync",
			    path, ver, FS_SCHEMA_VERSION);
		goto fail;
	}
	if (ver < FS_SCHEMA_VERSION) {
		if (flags & FS_OPEN_READONLY) {
			rc = fs_err(FIELDSYNC_ESTATE, "store %s needs an upgrade; open it read-write", path);
			goto fail;
		}
		if ((rc = fs_store_migrate(s->db, FS_SCHEMA_VERSION)))
			goto fail;
	}
	if ((rc = prepare_record_stmts(s)))
		goto fail;
	char *rid = NULL, *hlc = NULL;
	if ((rc = fs_meta_get(s, "replica_id", &rid)) == 0 && rid && fs_rid_parse(rid, &s->self) == 0) {
		memcpy(s->self_hex, rid, 33);
	} else if (rc == 0) {
		rc = fs_err(FIELDSYNC_EIO, "store %s has no valid replica id", path);
	}
	free(rid);
	if (rc == 0 && (rc = fs_meta_get(s, "hlc", &hlc)) == 0 && hlc)
		s->hlc = strtoll(hlc, NULL, 10);
	free(hlc);
	if (rc == 0)
		load_clock_ahead(s);
	if (rc)
		goto fail;
	*out = s;
	return 0;
fail:
	fs_store_close(s);
	return rc;
}

void fs_store_close(struct fs_store *s)
{
	if (!s)
		return;
	while (s->depth > 0)
		fs_store_rollback(s);
	for (int i = 0; i < FS_MAX_TABLES; i++) {
		sqlite3_finalize(s->get[i]);
		sqlite3_finalize(s->put[i]);
		sqlite3_finalize(s->del[i]);
		sqlite3_finalize(s->hqs[i]);
	}
	sqlite3_finalize(s->log_add);
	sqlite3_finalize(s->meta_get);
	sqlite3_finalize(s->meta_set);
	for (int i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	fs_seal_close(s);
	if (s->db)
		sqlite3_close_v2(s->db);
	sodium_memzero(s->key, sizeof s->key);
	free(s->path);
	free(s);
}

static int persist_hlc(struct fs_store *s);

/* HQ's bound on clocks ahead of the wall clock, as the last pull brought it
 * (meta "hq.clock_ahead_minutes"; absent or unreadable: the default). */
static void load_clock_ahead(struct fs_store *s)
{
	char *v = NULL, keep[FS_ERRMSG_MAX];
	int64_t m = FS_CLOCK_AHEAD_DEFAULT;
	/* a failed read falls back to the default and leaves the message of
	 * whatever failed before it (a rollback path may begin again) */
	snprintf(keep, sizeof keep, "%s", fs_errmsg_get());
	if (fs_meta_get(s, "hq.clock_ahead_minutes", &v) == 0 && v && fs_parse_int(v, &m) == 0 &&
	    m >= FS_CLOCK_AHEAD_MIN && m <= FS_CLOCK_AHEAD_MAX)
		s->clock_ahead = m;
	else
		s->clock_ahead = FS_CLOCK_AHEAD_DEFAULT;
	free(v);
	if (keep[0])
		fs_err(0, "%s", keep);
	else
		fs_err_clear();
}

int64_t fs_store_hlc_limit(const struct fs_store *s)
{
	return fs_hlc_limit(fs_wall_ms(), s->clock_ahead);
}

/* ---- transactions ---- */

const struct fs_rid *fs_store_replica(const struct fs_store *s)
{
	return &s->self;
}

const char *fs_store_replica_hex(const struct fs_store *s)
{
	return s->self_hex;
}

const char *fs_store_path(const struct fs_store *s)
{
	return s->path;
}

int64_t fs_store_clock_ahead(const struct fs_store *s)
{
	return s->clock_ahead;
}

void fs_store_set_replica(struct fs_store *s, const struct fs_rid *rid)
{
	s->self = *rid;
	fs_rid_fmt(rid, s->self_hex);
}

int fs_store_begin(struct fs_store *s)
{
	if (s->depth++ > 0)
		return 0;
	s->doomed = 0;
	int rc = exec(s->db, "BEGIN IMMEDIATE");
	if (rc) {
		s->depth = 0;
		return rc;
	}
	/* another process may have written since we opened: reload our clock */
	char *h = NULL;
	if (fs_meta_get(s, "hlc", &h) == 0 && h) {
		int64_t v = strtoll(h, NULL, 10);
		if (v > s->hlc)
			s->hlc = v;
	}
	free(h);
	load_clock_ahead(s);
	return 0;
}

int fs_store_commit(struct fs_store *s)
{
	if (s->depth <= 0)
		return fs_err(FIELDSYNC_ESTATE, "commit without a transaction");
	if (--s->depth > 0)
		return 0;
	if (s->doomed) {
		exec(s->db, "ROLLBACK");
		return fs_err(FIELDSYNC_ESTATE, "transaction was rolled back");
	}
	/* the clock goes to disk in the same transaction as what used it */
	int rc = s->hlc_dirty ? persist_hlc(s) : 0;
	if (rc) {
		exec(s->db, "ROLLBACK");
		return rc;
	}
	rc = exec(s->db, "COMMIT");
	if (rc)
		exec(s->db, "ROLLBACK");
	return rc;
}

void fs_store_rollback(struct fs_store *s)
{
	if (s->depth <= 0)
		return;
	if (--s->depth > 0) {
		s->doomed = 1;
		return;
	}
	exec(s->db, "ROLLBACK");
}

/* ---- meta ---- */

int fs_meta_get(struct fs_store *s, const char *key, char **out)
{
	*out = NULL;
	sqlite3_stmt *st = s->meta_get;
	if (!st) {
		int rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL);
		if (rc != SQLITE_OK)
			return fs_sqlite_err(s->db, rc, "reading settings");
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), sealed = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB) {
		/* a secret (fs_meta_secret), sealed with the store's key */
		struct fs_val v;
		sealed = fs_unseal_column(st, 0, FS_MAX_FIELDS + 15, &v);
		if (sealed == 1 && v.t == FS_V_TEXT && !(*out = strdup(v.s)))
			rc = SQLITE_NOMEM;
	}
	if (rc == SQLITE_ROW && !sealed && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = strdup((const char *)sqlite3_column_text(st, 0));
		if (!*out)
			rc = SQLITE_NOMEM;
	}
	if (st == s->meta_get)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	if (sealed < 0)
		return fs_err(FIELDSYNC_EAUTH, "meta.%s is sealed: this process has no key for it", key);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return fs_sqlite_err(s->db, rc, "reading settings");
}

int fs_meta_secret(const char *key)
{
	return !strcmp(key, "device_token");
}

int fs_meta_set(struct fs_store *s, const char *key, const char *value)
{
	unsigned char *blob = NULL;
	int len = 0;
	sqlite3_bind_text(s->meta_set, 1, key, -1, SQLITE_STATIC);
	if (value && s->has_key && fs_meta_secret(key)) {
		struct fs_val v = fs_vref(value);
		int e = fs_seal_val(s, &v, &blob, &len);
		if (e) {
			sqlite3_reset(s->meta_set);
			sqlite3_clear_bindings(s->meta_set);
			return e;
		}
		sqlite3_bind_blob(s->meta_set, 2, blob, len, free);
	} else {
		sqlite3_bind_text(s->meta_set, 2, value, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(s->meta_set);
	sqlite3_reset(s->meta_set);
	sqlite3_clear_bindings(s->meta_set);
	return rc == SQLITE_DONE ? 0 : fs_sqlite_err(s->db, rc, "writing settings");
}

/* ---- HLC ---- */

static int persist_hlc(struct fs_store *s)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRId64, s->hlc);
	int rc = fs_meta_set(s, "hlc", buf);
	if (rc == 0)
		s->hlc_dirty = 0;
	return rc;
}

int fs_store_next_hlc(struct fs_store *s, int64_t *hlc)
{
	/* A store clock ahead of the system time does not stop local writes:
	 * a laptop whose date fell back (a flat clock battery) must go on
	 * logging visits. HQ judges the stamps; 'fieldsync repair clock'
	 * restamps writes from a date that was set too far ahead. */
	int64_t n = fs_hlc_next(s->hlc);
	if (n > FS_HLC_MAX)
		return fs_err(FIELDSYNC_ESTATE, "clock beyond year 2248: check the system time");
	if (s->depth <= 0)
		return fs_err(FIELDSYNC_ESTATE, "a clock tick outside a write transaction");
	s->hlc = n;
	s->hlc_dirty = 1;	/* written with the transaction that uses it */
	*hlc = n;
	return 0;
}

int fs_store_observe_hlc(struct fs_store *s, int64_t hlc)
{
	/* a write stamped too far ahead never drags this clock along */
	if (hlc <= s->hlc || hlc > fs_store_hlc_limit(s))
		return 0;
	s->hlc = hlc;
	s->hlc_dirty = 1;
	return s->depth > 0 ? 0 : persist_hlc(s);
}

int fs_store_stmt(struct fs_store *s, const char *sql, sqlite3_stmt **out)
{
	for (int i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql) {
			*out = s->cache[i].st;
			return 0;
		}
	*out = NULL;
	if (s->ncache == (int)(sizeof s->cache / sizeof s->cache[0]))
		return fs_err(FIELDSYNC_ENOMEM, "statement cache full");
	int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
	if (rc != SQLITE_OK)
		return fs_sqlite_err(s->db, rc, "query");
	s->cache[s->ncache].sql = sql;
	s->cache[s->ncache++].st = *out;
	return 0;
}

int fs_store_run(struct fs_store *s, const char *sql, int n, const struct fs_val *p,
		 int (*fn)(void *ctx, int ncol, const struct fs_val *vals), void *ctx)
{
	sqlite3_stmt *st;
	int rc = fs_store_stmt(s, sql, &st);
	return rc ? rc : fs_sqlite_run(s->db, st, n, p, fn, ctx);
}

int fs_store_exec(void *store, const char *sql, int n, const struct fs_val *p,
		  int (*fn)(void *ctx, int ncol, const struct fs_val *vals), void *ctx)
{
	struct fs_store *s = store;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fs_sqlite_err(s->db, rc, "query");
	rc = fs_sqlite_run(s->db, st, n, p, fn, ctx);
	sqlite3_finalize(st);
	return rc;
}

int fs_store_get(struct fs_store *s, const struct fs_table *t, const char *id, struct fs_rec *out)
{
	sqlite3_stmt *st = s->get[t->idx];
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = fs_row_read(st, 0, t, out);
	else if (rc == SQLITE_DONE)
		rc = fs_err(FIELDSYNC_ENOTFOUND, "no %s with id %s", t->name, id);
	else
		rc = fs_sqlite_err(s->db, rc, "reading record");
	sqlite3_reset(st);
	return rc;
}

int fs_store_put(struct fs_store *s, const struct fs_rec *r)
{
	return fs_store_put_hq(s, r, 0);
}

int fs_store_put_hq(struct fs_store *s, const struct fs_rec *r, int64_t hqseq)
{
	sqlite3_stmt *st = s->put[r->t->idx];
	struct fs_val row[FS_MAX_FIELDS + 6];
	char *enc[3];
	int rc = fs_rec_to_row(r, row, enc);
	if (rc)
		return rc;
	for (int c = 0; rc == 0 && c < FS_ROW_COLS(r->t); c++) {
		unsigned char *sealed;
		int len;
		if (!s->has_key || row[c].t == FS_V_NULL || !fs_seal_col(r->t, c)) {
			fs_sqlite_bind(st, c + 1, &row[c]);
		} else if ((rc = fs_seal_val(s, &row[c], &sealed, &len)) == 0) {
			sqlite3_bind_blob(st, c + 1, sealed, len, free);
		}
	}
	if (rc) {
		sqlite3_clear_bindings(st);
		for (int k = 0; k < 3; k++)
			free(enc[k]);
		return rc;
	}
	if (hqseq > 0)
		sqlite3_bind_int64(st, FS_ROW_COLS(r->t) + 1, hqseq);
	else
		sqlite3_bind_null(st, FS_ROW_COLS(r->t) + 1);
	int src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		rc = fs_sqlite_err(s->db, src, "writing record");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (int k = 0; k < 3; k++)
		free(enc[k]);
	return rc;
}

int fs_store_delete_row(struct fs_store *s, const struct fs_table *t, const char *id)
{
	sqlite3_stmt *st = s->del[t->idx];
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fs_sqlite_err(s->db, rc, "deleting record");
}

/* ---- scope ---- */

const char *fs_rec_customer(const struct fs_rec *r)
{
	if (r->t == &fs_tbl_customer)
		return r->id;
	int p = r->t->scope_field;
	if (p >= 0 && (r->t->fields[p].flags & FS_F_PARENT) && r->f[p].v.t == FS_V_TEXT)
		return r->f[p].v.s;
	return NULL;
}

int fs_store_derive_scope(struct fs_store *s, struct fs_rec *r)
{
	int p = r->t->scope_field;
	if (p < 0)
		return 0;
	if (r->t->fields[p].flags & FS_F_SCOPE) {
		snprintf(r->scope, sizeof r->scope, "%s", r->f[p].v.t == FS_V_TEXT ? r->f[p].v.s : "");
		return 0;
	}
	const char *cid = fs_rec_customer(r);
	if (!cid)
		return fs_err(FIELDSYNC_EINVAL, "%s has no customer", r->t->name);
	struct fs_rec c;
	int rc = fs_store_get(s, &fs_tbl_customer, cid, &c);
	if (rc)
		return rc;
	memcpy(r->scope, c.scope, sizeof r->scope);
	fs_rec_release(&c);
	return 0;
}

/* ---- local writes ---- */

static int check_refs(struct fs_store *s, const struct fs_rec *r, const struct fs_chg *c)
{
	for (int i = 0; i < r->t->nfields; i++) {
		const struct fs_field *f = &r->t->fields[i];
		if (f->type != FS_T_REF || !c->set[i] || c->v[i].t != FS_V_TEXT)
			continue;
		const struct fs_table *rt = fs_table_find(f->ref);
		struct fs_rec ref;
		int rc = fs_store_get(s, rt, c->v[i].s, &ref);
		if (rc == FIELDSYNC_ENOTFOUND)
			return fs_err(FIELDSYNC_ENOTFOUND, "%s: no %s with id %s", f->name, rt->name, c->v[i].s);
		if (rc)
			return rc;
		int gone = fs_rec_deleted(&ref);
		/* a contact met on a visit must belong to the visit's customer */
		const char *mine = fs_rec_customer(r), *theirs = fs_rec_customer(&ref);
		int other = rt != &fs_tbl_customer && mine && theirs && strcmp(mine, theirs) != 0;
		fs_rec_release(&ref);
		if (gone)
			return fs_err(FIELDSYNC_ENOTFOUND, "%s: %s %s is deleted", f->name, rt->name, c->v[i].s);
		if (other)
			return fs_err(FIELDSYNC_EINVAL, "%s: %s %s belongs to another customer", f->name,
				      rt->name, c->v[i].s);
	}
	return 0;
}

static int log_change(struct fs_store *s, const struct fs_rec *r)
{
	sqlite3_bind_text(s->log_add, 1, r->t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->log_add, 2, r->id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s->log_add);
	sqlite3_reset(s->log_add);
	return rc == SQLITE_DONE ? 0 : fs_sqlite_err(s->db, rc, "writing change log");
}

static int write_locked(struct fs_store *s, const struct fs_chg *c, const char *id, char id_out[33]);

/* The change log (reg.c, change_log): a record per field this device
 * changed on an existing customer or contact, in the write's transaction.
 * route_seq is left out: it is the planner's, rewritten wholesale. */
static int log_fields(struct fs_store *s, const struct fs_rec *before, const struct fs_rec *after, int64_t hlc)
{
	const struct fs_table *t = after->t, *lt = &fs_tbl_change;
	if (t != &fs_tbl_customer && t != &fs_tbl_contact)
		return 0;
	char at[32], *rep = NULL;
	fs_iso_utc(fs_hlc_ms(hlc), at);
	int rc = fs_meta_get(s, "rep", &rep);
	const char *cust = fs_rec_customer(after);
	for (int i = 0; rc == 0 && cust && i < t->nfields; i++) {
		if (fs_val_eq(&before->f[i].v, &after->f[i].v) || !strcmp(t->fields[i].name, "route_seq"))
			continue;
		char *ov = fs_val_canon(&before->f[i].v), *nv = fs_val_canon(&after->f[i].v);
		const char *vals[] = { cust, t->name, after->id, t->fields[i].name, ov, nv, rep ? rep : "",
			s->self_hex, at };
		const char *names[] = { "customer_id", "tbl", "rec_id", "field", "old_value", "new_value",
			"by_name", "replica", "at" };
		struct fs_chg lc;
		fs_chg_init(&lc, lt);
		for (int k = 0; rc == 0 && k < 9; k++) {
			/* every logged field is at most 4000 bytes: old_value/new_value hold 8192 */
			struct fs_val v = fs_vref(vals[k] && *vals[k] ? vals[k] : NULL);
			rc = fs_chg_set(&lc, fs_field_find(lt, names[k]), &v);
		}
		if (rc == 0)
			rc = write_locked(s, &lc, NULL, NULL);
		fs_chg_release(&lc);
		free(ov);
		free(nv);
	}
	free(rep);
	return rc;
}

/* The replica engine (replica.h) over this store: reads, the clock, the
 * reference checks, the scope from the local customer, and storing with
 * the change log (and, for an edit of a card, its field history). */
static int rp_get(void *ctx, const struct fs_table *t, const char *id, int lock, struct fs_rec *out)
{
	(void)lock;	/* the write transaction holds SQLite's write lock */
	return fs_store_get(ctx, t, id, out);
}

static int rp_tick(void *ctx, int64_t *hlc)
{
	return fs_store_next_hlc(ctx, hlc);
}

static int rp_check(void *ctx, const struct fs_rec *r, const struct fs_chg *c)
{
	return check_refs(ctx, r, c);
}

/* The scope comes from HQ once HQ has seen the record; a local write
 * re-derives it only when it creates the record or moves it. */
static int rp_scope(void *ctx, struct fs_rec *r, int fresh)
{
	return fresh || !r->scope[0] ? fs_store_derive_scope(ctx, r) : 0;
}

static int rp_store(void *ctx, const struct fs_rec *old, const struct fs_rec *r, int64_t hlc)
{
	struct fs_store *s = ctx;
	int rc = old ? log_fields(s, old, r, hlc) : 0;
	if (rc == 0)
		rc = fs_store_put(s, r);
	return rc ? rc : log_change(s, r);
}

static void replica_of(struct fs_store *s, struct fs_replica *rp)
{
	*rp = (struct fs_replica){ &s->self, s, rp_get, rp_tick, rp_check, rp_scope, rp_store };
}

static int write_locked(struct fs_store *s, const struct fs_chg *c, const char *id, char id_out[33])
{
	struct fs_replica rp;
	replica_of(s, &rp);
	return fs_replica_write(&rp, c, id, id_out);
}

/* Scope before saving: on an enrolled store, a customer is created in or
 * moved to one of the rep's territories only (meta.territories, from HQ at
 * enrolment and every pull); anything else HQ would refuse at the next
 * sync, so it is refused now, naming the territories. */
static int check_scope(struct fs_store *s, const struct fs_chg *c)
{
	int f = fs_field_find(&fs_tbl_customer, "territory");
	if (c->t != &fs_tbl_customer || f < 0 || !c->set[f] || c->v[f].t != FS_V_TEXT)
		return 0;
	char *mine = NULL;
	int rc = fs_meta_get(s, "territories", &mine);
	if (rc == 0 && mine && *mine) {
		const char *want = c->v[f].s, *p = mine;
		size_t n = strlen(want);
		int found = 0;
		while (*p && !found) {
			size_t len = strcspn(p, ",");
			found = len == n && !strncmp(p, want, n);
			p += len;
			if (*p == ',')
				p++;
		}
		if (!found)
			rc = fs_err(FIELDSYNC_EINVAL, "territory: '%.64s' is not one of this rep's territories (%.200s);"
				    " HQ would refuse it at the next sync", want, mine);
	}
	free(mine);
	return rc;
}

int fs_store_write(struct fs_store *s, const struct fs_chg *c, const char *id, char id_out[33])
{
	int rc = check_scope(s, c);
	if (rc)
		return rc;
	rc = fs_store_begin(s);
	if (rc)
		return rc;
	rc = write_locked(s, c, id, id_out);
	if (rc) {
		fs_store_rollback(s);
		return rc;
	}
	return fs_store_commit(s);
}

/* ---- conflict records ---- */

int fs_store_note_clashes(struct fs_store *s, const struct fs_rec *r)
{
	struct fs_replica rp;
	replica_of(s, &rp);
	/* its own (nested) transaction: conflict records take clock ticks */
	int rc = fs_store_begin(s);
	if (rc == 0)
		rc = fs_replica_clashes(&rp, r);
	if (rc == 0)
		return fs_store_commit(s);
	fs_store_rollback(s);
	return rc;
}

/* ---- remote versions ---- */

int fs_store_set_hqseq(struct fs_store *s, const struct fs_table *t, const char *id, int64_t hqseq,
		       const char *scope)
{
	char sql[200];
	sqlite3_stmt *st = s->hqs[t->idx];
	int rc;
	if (!st) {
		snprintf(sql, sizeof sql, "UPDATE %s SET hqseq = ?2, scope = coalesce(?3, scope)"
			 " WHERE id = ?1 AND (hqseq IS NULL OR hqseq < ?2)", t->name);
		rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return fs_sqlite_err(s->db, rc, "recording HQ version");
		s->hqs[t->idx] = st;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, hqseq);
	if (scope)
		sqlite3_bind_text(st, 3, scope, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : fs_sqlite_err(s->db, rc, "recording HQ version");
}

int fs_store_apply(struct fs_store *s, const struct fs_rec *remote, const char *scope, int64_t hqseq,
		   int *changed)
{
	return fs_store_apply_from(s, remote, scope, hqseq, FS_SCHEMA_VERSION, changed);
}

int fs_store_apply_from(struct fs_store *s, const struct fs_rec *remote, const char *scope, int64_t hqseq,
			int schema, int *changed)
{
	struct fs_rec local, merged;
	int rc = fs_store_get(s, remote->t, remote->id, &local);
	*changed = 0;
	if (rc == FIELDSYNC_ENOTFOUND) {
		fs_rec_init(&merged, remote->t);
		if (fs_rec_copy(&merged, remote) != 0)
			return FIELDSYNC_ENOMEM;
		rc = 0;
	} else if (rc) {
		return rc;
	} else {
		rc = fs_merge(&local, remote, &merged);
		/* from an HQ of an older schema: what it cannot see stays as it is */
		if (rc == 0 && schema < FS_SCHEMA_VERSION)
			rc = fs_rec_keep_unknown(&merged, &local, schema);
		if (rc == 0 && fs_rec_same(&local, &merged) &&
		    (!scope || strcmp(scope, local.scope) == 0)) {
			fs_rec_release(&local);
			fs_rec_release(&merged);
			rc = fs_store_observe_hlc(s, remote->hlc);
			return rc == 0 && hqseq > 0 ? fs_store_set_hqseq(s, remote->t, remote->id, hqseq, NULL) : rc;
		}
		fs_rec_release(&local);
		if (rc)
			return rc;
	}
	if (scope)
		snprintf(merged.scope, sizeof merged.scope, "%s", scope);
	else
		rc = fs_store_derive_scope(s, &merged);
	if (rc == 0 || rc == FIELDSYNC_ENOTFOUND)
		rc = fs_store_put_hq(s, &merged, hqseq);
	if (rc == 0)
		rc = fs_store_observe_hlc(s, merged.hlc);
	if (rc == 0)
		*changed = 1;
	fs_rec_release(&merged);
	return rc;
}

/* ---- evictions ---- */

static int exec_bind2(struct fs_store *s, const char *sql, const char *a, const char *b, int64_t n,
		      int *count)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fs_sqlite_err(s->db, rc, "preparing statement");
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (n)
		sqlite3_bind_int64(st, 3, n);
	rc = sqlite3_step(st);
	if (count && rc == SQLITE_ROW)
		*count = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fs_sqlite_err(s->db, rc, "evicting");
}

int fs_store_evict(struct fs_store *s, const struct fs_table *t, const char *id, const char *scope,
		   int64_t eseq)
{
	char sql[256];
	int rc = 0;
	/* only rows still under the old scope, older than the eviction */
	snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ?1 AND scope = ?2 AND (hqseq IS NULL OR hqseq < ?3)",
		 t->name);
	rc = exec_bind2(s, sql, id, scope, eseq, NULL);
	if (rc == 0 && t == &fs_tbl_customer) {
		for (int i = 0; rc == 0 && i < fs_ntables; i++) {
			const struct fs_table *ct = fs_tables[i];
			int p = ct->scope_field;
			if (p < 0 || !(ct->fields[p].flags & FS_F_PARENT))
				continue;
			snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = ?1 AND scope = ?2"
				 " AND (hqseq IS NULL OR hqseq < ?3)", ct->name, ct->fields[p].name);
			rc = exec_bind2(s, sql, id, scope, eseq, NULL);
		}
	}
	return rc;
}

int fs_store_evict_scope(struct fs_store *s, const char *scope)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		char sql[128];
		snprintf(sql, sizeof sql, "DELETE FROM %s WHERE scope = ?1", fs_tables[i]->name);
		rc = exec_bind2(s, sql, scope, NULL, 0, NULL);
	}
	return rc;
}

int fs_store_pending_under(struct fs_store *s, const struct fs_table *t, const char *id,
			   const char *scope, int *count)
{
	*count = 0;
	int rc = 0;
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		const struct fs_table *ct = fs_tables[i];
		char sql[512];
		int n = 0;
		if (!t) {
			snprintf(sql, sizeof sql, "SELECT count(*) FROM changelog l JOIN %s r ON r.id = l.id"
				 " WHERE l.tbl = '%s' AND r.scope = ?1", ct->name, ct->name);
			rc = exec_bind2(s, sql, scope, NULL, 0, &n);
		} else if (ct == t) {
			snprintf(sql, sizeof sql, "SELECT count(*) FROM changelog WHERE tbl = '%s' AND id = ?1",
				 ct->name);
			rc = exec_bind2(s, sql, id, NULL, 0, &n);
		} else if (t == &fs_tbl_customer && ct->scope_field >= 0 &&
			   (ct->fields[ct->scope_field].flags & FS_F_PARENT)) {
			snprintf(sql, sizeof sql, "SELECT count(*) FROM changelog l JOIN %s r ON r.id = l.id"
				 " WHERE l.tbl = '%s' AND r.%s = ?1 AND r.scope = ?2", ct->name, ct->name,
				 ct->fields[ct->scope_field].name);
			rc = exec_bind2(s, sql, id, scope, 0, &n);
		}
		*count += n;
	}
	return rc;
}

/* ---- clock repair ---- */

int fs_store_repair_clock(struct fs_store *s, int dry_run, long *records)
{
	int rc = fs_store_begin(s);
	*records = 0;
	if (rc)
		return rc;
	int64_t lim = fs_store_hlc_limit(s);
	if (s->hlc > lim) {
		s->hlc = fs_wall_ms() * 1024;
		s->hlc_dirty = 1;
	}
	for (int i = 0; rc == 0 && i < fs_ntables; i++) {
		const struct fs_table *t = fs_tables[i];
		struct fs_ids l = { 0 };
		char sql[128];
		struct fs_val p = fs_vint(lim);
		snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE hlc > ?1 ORDER BY id", t->name);
		rc = fs_store_exec(s, sql, 1, &p, fs_ids_row, &l);
		for (int k = 0; rc == 0 && k < l.n; k++) {
			struct fs_rec r;
			int64_t hlc = 0;
			if ((rc = fs_store_get(s, t, l.id[k], &r)))
				break;
			rc = fs_store_next_hlc(s, &hlc);
			int n = rc ? 0 : fs_rec_restamp(&r, lim, &s->self, hlc);
			if (n < 0)
				rc = n;
			if (rc == 0 && n > 0) {
				rc = fs_store_put(s, &r);
				if (rc == 0)
					rc = log_change(s, &r);	/* the new version goes to HQ */
				(*records)++;
			}
			fs_rec_release(&r);
		}
		free(l.id);
	}
	if (rc == 0 && !dry_run)
		return fs_store_commit(s);
	fs_store_rollback(s);
	return rc;
}
