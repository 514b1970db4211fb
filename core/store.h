/*
 * store.h - the local SQLite replica (see docs/store.md).
 *
 * One store = one SQLite file in WAL mode with synchronous=FULL, foreign keys
 * on and a busy timeout. Every write path runs inside fs_store_begin() /
 * fs_store_commit(); transactions nest (only the outermost one talks to
 * SQLite) and any failure inside means the caller must fs_store_rollback().
 *
 * Local writes go through fs_store_write(): it loads the record, applies the
 * change as this replica (vv[self] += 1, dots stamped with a fresh HLC),
 * stores it, and appends to the change log that orders the next push - all in
 * one transaction. Remote versions arrive through fs_store_apply(), which
 * merges (merge.c) and never touches the change log of records it did not
 * change.
 *
 * Thread-safety: a store handle is used by one thread at a time; several
 * processes may open the same file (SQLite locking serialises writers).
 */
#ifndef FS_STORE_H
#define FS_STORE_H

#include <sqlite3.h>
#include "record.h"
#include "rowcodec.h"
#include "util.h"

#define FS_OPEN_CREATE   0x01	/* create the file (0600, dir 0700) if missing */
#define FS_OPEN_READONLY 0x02

/* A store handle: opaque outside core/ (core/internal/store_int.h). */
struct fs_store;


/* Open a store with its seal, if any (defined in seal.c, above this file). */
int fs_store_open(const char *path, unsigned flags, struct fs_store **out);
/* The store without its seal: schema, statements, replica id, clock. */
int fs_store_open_plain(const char *path, unsigned flags, struct fs_store **out);
void fs_store_close(struct fs_store *s);
/* Bring a store (or a fresh file) to `version` (tests use it to build old stores). */
int fs_store_migrate(sqlite3 *db, int version);
int fs_store_version(sqlite3 *db, int *version);

/* What the handle knows of itself: its replica id (binary and hex), the
 * file, and HQ's bound on clocks ahead (minutes) as the last pull brought
 * it. fs_store_set_replica: after the enrolment that gave the store a new
 * id has committed (meta "replica_id"). */
const struct fs_rid *fs_store_replica(const struct fs_store *s);
const char *fs_store_replica_hex(const struct fs_store *s);
const char *fs_store_path(const struct fs_store *s);
int64_t fs_store_clock_ahead(const struct fs_store *s);
void fs_store_set_replica(struct fs_store *s, const struct fs_rid *rid);

int fs_store_begin(struct fs_store *s);
int fs_store_commit(struct fs_store *s);
void fs_store_rollback(struct fs_store *s);

/* Record access. fs_store_get initialises `out`; ENOTFOUND if absent. */
int fs_store_get(struct fs_store *s, const struct fs_table *t, const char *id, struct fs_rec *out);
int fs_store_put(struct fs_store *s, const struct fs_rec *r);
/* The same, also noting HQ's version of it (0: keep what the row had). */
int fs_store_put_hq(struct fs_store *s, const struct fs_rec *r, int64_t hqseq);
int fs_store_delete_row(struct fs_store *s, const struct fs_table *t, const char *id);

/* Local write: create (id == NULL or *id == 0: a new id is written to id_out)
 * or update. Validates required/immutable fields and references. Returns
 * 0 or a negative code; nothing is written on error. */
int fs_store_write(struct fs_store *s, const struct fs_chg *c, const char *id, char id_out[33]);

/* Merge a remote version in. *changed tells whether the local row changed.
 * `scope` is the authoritative scope sent by HQ (NULL: derive locally);
 * `hqseq` (0: unknown) the HQ sequence number of the remote version. */
int fs_store_apply(struct fs_store *s, const struct fs_rec *remote, const char *scope, int64_t hqseq,
		   int *changed);
/* The same for a version from an HQ that knows only the fields of store
 * schema `schema` (wire.h): the fields it cannot see keep their local state. */
int fs_store_apply_from(struct fs_store *s, const struct fs_rec *remote, const char *scope, int64_t hqseq,
			int schema, int *changed);
/* Note that the local row reflects HQ's version `hqseq` (kept at the
 * maximum) and, when given, the scope HQ holds it under. */
int fs_store_set_hqseq(struct fs_store *s, const struct fs_table *t, const char *id, int64_t hqseq,
		       const char *scope);
/* Create the conflict records for the open clashes of `r` that are missing.
 * In a deployment every write passes through HQ, which records each clash
 * as it merges (sync/hq/replica.c); devices receive those records. This is for
 * a store that merges remote versions on its own. */
int fs_store_note_clashes(struct fs_store *s, const struct fs_rec *r);

/* The record `r` belongs to for scoping: its own id for a customer. */
const char *fs_rec_customer(const struct fs_rec *r);
/* Derive r->scope from the local store. */
int fs_store_derive_scope(struct fs_store *s, struct fs_rec *r);

/* Evictions: remove a record (a customer takes its dependants with it) if
 * its local scope is still `scope` and the local row predates the eviction
 * (HQ sequence `eseq`): a row that already reflects a later version (the
 * record came back) stays. Remove everything of a scope. */
int fs_store_evict(struct fs_store *s, const struct fs_table *t, const char *id, const char *scope,
		   int64_t eseq);
int fs_store_evict_scope(struct fs_store *s, const char *scope);
/* Number of unpushed changes touching what an eviction would remove. */
int fs_store_pending_under(struct fs_store *s, const struct fs_table *t, const char *id,
			   const char *scope, int *count);

/* HLC: next timestamp for a local write (inside a write transaction), and
 * remembering a timestamp seen on a remote record. The clock is written to
 * the store once, when the outermost transaction commits. */
int fs_store_next_hlc(struct fs_store *s, int64_t *hlc);
int fs_store_observe_hlc(struct fs_store *s, int64_t hlc);
/* The largest hlc this store accepts from elsewhere now (record.h). */
int64_t fs_store_hlc_limit(const struct fs_store *s);
/* Repair of a clock pushed beyond the limit (fieldsync repair clock): the
 * clock goes back to the wall clock and every record carrying a write
 * stamped beyond the limit is restamped by this replica, in one
 * transaction. *records: how many were restamped. */
int fs_store_repair_clock(struct fs_store *s, int dry_run, long *records);

/* Small key/value settings of the store (meta table). *out is malloc'd or NULL. */
int fs_meta_get(struct fs_store *s, const char *key, char **out);
int fs_meta_set(struct fs_store *s, const char *key, const char *value);
/* Meta keys kept sealed in a sealed store (the device token): whoever
 * copies the file without the key cannot sync as the device. */
int fs_meta_secret(const char *key);

/* A prepared statement for `sql`, a static string (cached by its pointer
 * for the store's life; reset it after use). */
int fs_store_stmt(struct fs_store *s, const char *sql, sqlite3_stmt **out);
/* Run a cached statement (fs_store_stmt) as fs_store_exec does. */
int fs_store_run(struct fs_store *s, const char *sql, int n, const struct fs_val *p,
		 int (*fn)(void *ctx, int ncol, const struct fs_val *vals), void *ctx);
/* An fs_exec over a store (one-off statements). */
int fs_store_exec(void *store, const char *sql, int n, const struct fs_val *p,
		  int (*fn)(void *ctx, int ncol, const struct fs_val *vals), void *ctx);

/* Create directory `dir` and its parents, each 0700 (existing ones are
 * left as they are). */
int fs_mkdirs(const char *dir);

#endif
