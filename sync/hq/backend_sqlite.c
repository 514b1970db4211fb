/*
 * backend_sqlite.c - the embedded HQ store: one SQLite file in WAL mode.
 * Statements are prepared once per connection and cached by their text.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend.h"
#include "rowcodec.h"
#include "util.h"

#define CACHE 128

struct hq_db {
	struct hq_db_head head;	/* first (backend.h) */
	sqlite3 *db;
	struct {
		const char *key;	/* the SQL text pointer the caller passed */
		char *sql;
		sqlite3_stmt *st;
	} cache[CACHE];
	int ncache;
	int in_txn;
};

static int sq_open(const char *path, int create, struct hq_db **out)
{
	struct hq_db *d = calloc(1, sizeof *d);
	*out = NULL;
	if (!d)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	if (create && access(path, F_OK) != 0) {
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
		else if (errno != EEXIST) {
			free(d);
			return fs_err(FIELDSYNC_EIO, "cannot create %s: %s", path, strerror(errno));
		}
	} else if (access(path, F_OK) != 0) {
		free(d);
		return fs_err(FIELDSYNC_ENOTFOUND, "no HQ store at %s (create it with 'fieldsyncd init')", path);
	}
	int rc = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = fs_sqlite_err(d->db, rc, path);
		sqlite3_close(d->db);
		free(d);
		return rc;
	}
	sqlite3_busy_timeout(d->db, 15000);
	sqlite3_extended_result_codes(d->db, 1);
	char *msg = NULL;
	/* 16 MiB of page cache per connection (one per server thread): the hot
	 * part of the store; more bought little and cost 40 MiB a thread */
	if (sqlite3_exec(d->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
			 " PRAGMA cache_size=-16384;",
			 NULL, NULL, &msg) != SQLITE_OK) {
		rc = fs_err(FIELDSYNC_EIO, "%s: %s", path, msg ? msg : "cannot configure");
		sqlite3_free(msg);
		sqlite3_close(d->db);
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

static void sq_close(struct hq_db *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->ncache; i++) {
		sqlite3_finalize(d->cache[i].st);
		free(d->cache[i].sql);
	}
	sqlite3_close_v2(d->db);
	free(d);
}

/* $N parameters: SQLite numbers named parameters in order of first
 * appearance, which is how sync/hq writes them; checked here once. */
static int prepare(struct hq_db *d, const char *sql, sqlite3_stmt **out)
{
	for (int i = 0; i < d->ncache; i++)
		if (d->cache[i].key == sql && strcmp(d->cache[i].sql, sql) == 0) {
			*out = d->cache[i].st;
			return 0;
		}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		return fs_sqlite_err(d->db, rc, "preparing HQ statement");
	for (int k = 1; k <= sqlite3_bind_parameter_count(st); k++) {
		char want[16];
		snprintf(want, sizeof want, "$%d", k);
		const char *name = sqlite3_bind_parameter_name(st, k);
		if (!name || strcmp(name, want)) {
			sqlite3_finalize(st);
			return fs_err(FIELDSYNC_EINVAL, "HQ statement parameters out of order: %.80s", sql);
		}
	}
	if (d->ncache < CACHE) {
		d->cache[d->ncache].key = sql;
		d->cache[d->ncache].sql = strdup(sql);
		d->cache[d->ncache].st = st;
		if (d->cache[d->ncache].sql) {
			d->ncache++;
			*out = st;
			return 0;
		}
	}
	*out = st;	/* uncached: finalized by the caller (key NULL) */
	return 1;
}

static int sq_exec(struct hq_db *d, const char *sql, int n, const struct fs_val *p, hq_row_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int owned = prepare(d, sql, &st);
	if (owned < 0)
		return owned;
	int rc = fs_sqlite_run(d->db, st, n, p, fn, ctx);
	if (owned)
		sqlite3_finalize(st);
	return rc;
}

static int sq_script(struct hq_db *d, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(d->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		rc = fs_err((rc & 0xff) == SQLITE_BUSY ? FIELDSYNC_EBUSY : FIELDSYNC_EIO, "HQ store: %s",
			    msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static int sq_begin(struct hq_db *d, int write)
{
	int rc = sq_script(d, write ? "BEGIN IMMEDIATE" : "BEGIN");
	d->in_txn = rc == 0;
	return rc;
}

static int sq_commit(struct hq_db *d)
{
	int rc = sq_script(d, "COMMIT");
	if (rc)
		sq_script(d, "ROLLBACK");
	d->in_txn = 0;
	return rc;
}

static void sq_rollback(struct hq_db *d)
{
	if (d->in_txn)
		sq_script(d, "ROLLBACK");
	d->in_txn = 0;
}

/* "ok", or why not, from PRAGMA integrity_check on `db`. */
static int check_integrity(sqlite3 *db, const char *what)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fs_sqlite_err(db, rc, what);
	rc = sqlite3_step(st);
	const char *r = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	int out = r && !strcmp(r, "ok") ? 0
		  : rc == SQLITE_ROW ? fs_err(FIELDSYNC_EIO, "%s: integrity check failed: %s", what, r ? r : "?")
		  : fs_sqlite_err(db, rc, what);
	sqlite3_finalize(st);
	return out;
}

/* Copy the whole database `src` into `dst` (both open) in one step: the
 * backup API holds one read transaction on src for the whole copy, so the
 * result is the state of one commit even while other connections write,
 * and dst changes in one write transaction of its own. */
static int copy_db(sqlite3 *dst, sqlite3 *src, const char *what)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b)
		return fs_sqlite_err(dst, sqlite3_errcode(dst), what);
	int rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc == SQLITE_DONE)
		return 0;
	return fs_sqlite_err(NULL, rc, what);
}

static void unlink_db(const char *path)
{
	char side[4200];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-journal", path);
	unlink(side);
}

/* A fresh SQLite file (mode 0600) at `path`, replacing any. */
static int create_db(const char *path, sqlite3 **out)
{
	*out = NULL;
	unlink_db(path);
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return fs_err(FIELDSYNC_EIO, "cannot create %s: %s", path, strerror(errno));
	close(fd);
	int rc = sqlite3_open_v2(path, out, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rc = fs_sqlite_err(*out, rc, path);
		sqlite3_close(*out);
		*out = NULL;
		unlink_db(path);
		return rc;
	}
	return 0;
}

/* The copy goes to "<path>.tmp", is checked, and is renamed over `path` only
 * when complete: `path` never holds half a backup. */
static int sq_backup(struct hq_db *d, const char *path)
{
	char tmp[4200];
	sqlite3 *dst;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return fs_err(FIELDSYNC_EINVAL, "backup path too long");
	int rc = create_db(tmp, &dst);
	if (rc)
		return rc;
	rc = copy_db(dst, d->db, "backup");
	if (rc == 0)
		rc = check_integrity(dst, "backup copy");
	/* a standalone file: fold any WAL content into it before it is renamed */
	if (rc == 0 && sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
		rc = fs_sqlite_err(dst, sqlite3_errcode(dst), "backup copy");
	if (sqlite3_close(dst) != SQLITE_OK && rc == 0)
		rc = fs_err(FIELDSYNC_EIO, "backup: closing %s failed", tmp);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = fs_err(FIELDSYNC_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	if (rc)
		unlink_db(tmp);
	return rc;
}

/* Restore: check `from`, copy it to "<store>.restore" (where `fix` adapts
 * it), then copy that into the store in one write transaction of the store
 * (so other connections see the old or the new content, never a mix) and
 * remove the temporary copy. `from` is only read. */
static int sq_restore(const char *conninfo, const char *from, int (*fix)(struct hq_db *db, void *ctx), void *ctx)
{
	char tmp[4200];
	sqlite3 *src = NULL, *t = NULL;
	struct hq_db *fixdb = NULL, *dst = NULL;
	if (snprintf(tmp, sizeof tmp, "%s.restore", conninfo) >= (int)sizeof tmp)
		return fs_err(FIELDSYNC_EINVAL, "store path too long");
	if (access(from, R_OK) != 0)
		return fs_err(errno == ENOENT ? FIELDSYNC_ENOTFOUND : FIELDSYNC_EIO, "cannot read %s: %s", from,
			      strerror(errno));
	int rc = sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		rc = fs_sqlite_err(src, rc, from);
		sqlite3_close(src);
		return rc;
	}
	sqlite3_busy_timeout(src, 15000);
	rc = check_integrity(src, from);
	if (rc == FIELDSYNC_EIO && strstr(fs_errmsg_get(), "not a database"))
		rc = fs_err(FIELDSYNC_EINVAL, "%s is not an SQLite file", from);
	if (rc == 0)
		rc = create_db(tmp, &t);
	if (rc == 0)
		rc = copy_db(t, src, "restore copy");
	sqlite3_close(src);
	if (t && sqlite3_close(t) != SQLITE_OK && rc == 0)
		rc = fs_err(FIELDSYNC_EIO, "restore: closing %s failed", tmp);
	if (rc == 0)
		rc = sq_open(tmp, 0, &fixdb);
	if (rc == 0 && fix)
		rc = fix(fixdb, ctx);
	if (rc == 0)
		rc = sq_open(conninfo, 1, &dst);
	if (rc == 0) {
		rc = copy_db(dst->db, fixdb->db, "restore");
		if (rc == 0)
			rc = check_integrity(dst->db, conninfo);
	}
	sq_close(dst);
	sq_close(fixdb);
	unlink_db(tmp);
	return rc;
}

const struct hq_backend hq_backend_sqlite = {
	.name = "sqlite",
	.t_int = "INTEGER",
	.t_real = "REAL",
	.t_text = "TEXT",
	.for_update = "",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.script = sq_script,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.backup = sq_backup,
	.restore = sq_restore,
};
