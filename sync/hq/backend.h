/*
 * backend.h - the HQ store behind a narrow interface.
 *
 * A backend gives connections, transactions and parameterised SQL with
 * typed values; it knows nothing of merge, scope or the change feed, which
 * live once in db.c, replica.c and endpoints.c over every backend. Their SQL is the common subset
 * of SQLite and PostgreSQL (INSERT ... ON CONFLICT, RETURNING); parameters
 * are written $1, $2 ... in order of first appearance, and the few dialect
 * differences (column types, row locks) come from the fields below.
 *
 * A connection is used by one thread at a time. begin(db, 1) starts a
 * write transaction that excludes every other write transaction on the
 * store until it ends (SQLite BEGIN IMMEDIATE; PostgreSQL an advisory lock
 * taken first, so several processes over one database serialise too):
 * sequence numbers are then handed out in commit order (see replica.c) and a
 * record read in a write transaction cannot change before it is written.
 * begin(db, 0) starts a read transaction on one snapshot.
 */
#ifndef FS_HQ_BACKEND_H
#define FS_HQ_BACKEND_H

#include "query.h"
#include "record.h"

struct hq_db;

/* Every backend's connection (its struct hq_db) starts with this header:
 * what the HQ store keeps per connection whatever the backend. `batch` is
 * the write batch's state (replica.c), made on the connection's first batch
 * and freed with the connection (db.c); the backend never touches it. */
struct hq_db_head {
	void *batch;
};
#define HQ_DB_HEAD(db) ((struct hq_db_head *)(void *)(db))

/* Result rows: typed values owned by the backend, valid during the call. */
typedef fs_row_fn hq_row_fn;

struct hq_backend {
	const char *name;		/* "sqlite", "postgres" */
	const char *t_int, *t_real, *t_text;	/* column types for DDL */
	const char *for_update;		/* appended to row reads that will be written */
	int (*open)(const char *conninfo, int create, struct hq_db **out);
	void (*close)(struct hq_db *db);
	/* Run one statement; params may be NULL when n == 0. */
	int (*exec)(struct hq_db *db, const char *sql, int n, const struct fs_val *params,
		    hq_row_fn fn, void *ctx);
	/* Several ';'-separated statements without parameters (DDL). */
	int (*script)(struct hq_db *db, const char *sql);
	int (*begin)(struct hq_db *db, int write);
	int (*commit)(struct hq_db *db);
	void (*rollback)(struct hq_db *db);
	/* A consistent online copy of the store into `path` (SQLite backup API):
	 * the state of one commit, taken while others keep writing; checked and
	 * renamed into place only when complete. */
	int (*backup)(struct hq_db *db, const char *path);
	/* Replace the store at `conninfo` (created if missing) by the copy in
	 * `from`, which is checked first and never written. `fix` (may be NULL)
	 * runs on a private copy before it goes in; the store changes in one
	 * transaction. The caller makes sure no server uses the store. */
	int (*restore)(const char *conninfo, const char *from, int (*fix)(struct hq_db *db, void *ctx), void *ctx);
};

extern const struct hq_backend hq_backend_sqlite;
extern const struct hq_backend hq_backend_pg;

/* The backend for a --db argument: a PostgreSQL URL (postgres://...,
 * postgresql://...) or libpq connection string (host=... dbname=...), else
 * an SQLite file path. NULL with fs_err detail when there is none.
 * backup/restore may be NULL (PostgreSQL: pg_dump). */
const struct hq_backend *hq_backend_for(const char *conninfo);

#endif
