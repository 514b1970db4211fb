/*
 * hq.h - headquarters: the HQ replica over a backend (backend.h),
 * implemented on three floors (docs/architecture.md): the store and its
 * transaction runner (db.c), the versioned records and the clock
 * (replica.c), what devices call (endpoints.c); gc.c and admin.c beside
 * the endpoints. HTTP is above, in router.c (router.h).
 *
 * One body of merge, scope and change-feed logic for every backend:
 *  - push: a batch merges in ONE transaction; each record is accepted (with
 *    the merged vv) or rejected with a reason and quarantined; nothing is
 *    acknowledged before COMMIT; a resent batch changes nothing.
 *  - feed: every stored version gets the next value of the change sequence
 *    (hq_seq, one row, locked by each writing transaction, so sequence order
 *    is commit order on every backend); a device pulls, per territory, the
 *    rows with seq beyond its cursor for that territory, plus evictions.
 *  - scope: a device sees what is in its rep's territories; a customer that
 *    moves leaves an eviction in its old territory and its dependants follow
 *    it with new sequence numbers.
 * Thread-safety: struct hq is shared by server threads; each request takes
 * its own connection from the pool.
 */
#ifndef FS_HQ_H
#define FS_HQ_H

#include <cjson/cJSON.h>
#include "backend.h"
#include "rows.h"

#define HQ_MAX_TERR 64
#define HQ_SCHEMA_VERSION 5	/* 2: the change log table; 3: tombstone GC; 4: authors, assignees;
				 * 5: the price list (order_line.sku, list_price; product) */

struct hq;

struct hq_device {
	char id[33];
	char rep[101];
	char name[101];
	int revoked;		/* device or its rep revoked */
	int wipe;		/* revoked with --wipe */
	int nterr;
	char terr[HQ_MAX_TERR][65];
	int schema;		/* the record fields this request's device knows (wire.h) */
};

struct hq_limits {
	int max_batch;		/* records per push (default 1000) */
	int max_page;		/* records per pull page at most (default 5000) */
	int def_page;		/* default page size (default 1000) */
	int hold_ms;		/* tests only: a push waits this long before its commit
				 * ($FIELDSYNCD_TEST_HOLD_MS), to interleave slow and
				 * fast writers across processes */
};

/* Create the HQ store's schema if there is none, upgrade an older one
 * (1 -> 2: the change log); refuse a newer one. */
int hq_init(const char *conninfo);
/* A part of HQ above the replica that keeps tables of its own in the store
 * (the dashboard): their DDL joins a new store's schema. hq_init() (in
 * parts.c) creates a store with every part fieldsyncd is made of;
 * hq_init_parts() with the NULL-terminated list given. */
struct fs_buf;
struct hq_part {
	const char *name;
	int (*schema)(const struct hq_backend *be, struct fs_buf *b);
};
int hq_init_parts(const char *conninfo, const struct hq_part *const *parts);
/* Open a store; fails with ENOTFOUND / ESCHEMA if missing or newer. */
int hq_open(const char *conninfo, struct hq **out);
void hq_close(struct hq *h);
const char *hq_replica_id(const struct hq *h);
void hq_set_limits(struct hq *h, const struct hq_limits *l);

/* A consistent copy of the running store into `path` (online: writers
 * keep going; the copy is the state of one commit). */
int hq_backup(struct hq *h, const char *path);
/* Replace the store at `conninfo` by the backup `from` (checked first: an
 * SQLite file that passes its integrity check and holds an HQ store of a
 * schema this build knows). The restored store gets a new HQ replica id,
 * which devices see in every pull reply: a device that held the old id
 * pushes all it holds again and pulls everything anew, so nothing written
 * after the backup is lost while a device still has it, and no device
 * skips what HQ writes after the restore (docs/operations.md). The old id
 * goes to hq_meta.replica_ids_before. No server may be running on the
 * store (the caller checks). new_id (33 bytes, may be NULL) gets the new id. */
int hq_restore(const char *conninfo, const char *from, char new_id[33]);

/* A pooled connection for one thread's unit of work. */
int hq_acquire(struct hq *h, struct hq_db **db);
void hq_release(struct hq *h, struct hq_db *db);
const struct hq_backend *hq_be(const struct hq *h);

/* The one transaction runner: fn on a pooled connection inside a
 * transaction, taken with the write lock unless HQ_TXN_READ; committed
 * when fn returns 0 and mode is HQ_TXN_WRITE, else rolled back (a read, a
 * dry run, a failure). Returns fn's error, or the store's. */
#define HQ_TXN_READ 0
#define HQ_TXN_WRITE 1
#define HQ_TXN_DRY_RUN 2
int hq_txn(struct hq *h, int mode, int (*fn)(struct hq *h, struct hq_db *db, void *ctx), void *ctx);
/* The same on a connection the caller holds (a request authenticated on it). */
int hq_txn_on(struct hq *h, struct hq_db *db, int mode, int (*fn)(struct hq *h, struct hq_db *db, void *ctx),
	      void *ctx);

/* HQ's own versioned write (admin edits): create (id NULL) or update. */
int hq_write(struct hq *h, const struct fs_chg *c, const char *id, char id_out[33]);
/* Many writes in one transaction: fn calls hq_write_in() on db; committed
 * when fn returns 0 and `commit`, else rolled back (a dry run). */
int hq_write_batch(struct hq *h, int (*fn)(struct hq *h, struct hq_db *db, void *ctx), void *ctx, int commit);
int hq_write_in(struct hq *h, struct hq_db *db, const struct fs_chg *c, const char *id, char id_out[33]);
int hq_get(struct hq *h, struct hq_db *db, const struct fs_table *t, const char *id, int lock,
	   struct fs_rec *out);
/* Resolve an open conflict by writing the kept value (keep_loser 0/1). */
int hq_resolve(struct hq *h, const char *conflict_id, int keep_loser);

/* The clock bound now: the largest hlc HQ accepts from a device, and the
 * setting clock_ahead_minutes it comes from (minutes may be NULL). */
int hq_clock_limit(struct hq *h, struct hq_db *db, int64_t *limit, int64_t *minutes);
/* fieldsyncd repair clock: HQ's clock back to the wall clock if it is beyond
 * the bound, and every record carrying a write stamped beyond it restamped
 * by HQ (a new version every device takes), in one transaction.
 * *records: how many; *was: HQ's clock before (0 if it was fine). */
int hq_repair_clock(struct hq *h, int dry_run, long *records, int64_t *was);
/* Is HQ's clock beyond the bound now (1, with *clock)? One row read: a
 * write stamped ahead moved the clock when it was accepted. 0 otherwise
 * or when the store cannot be read. */
int hq_clock_beyond(struct hq *h, int64_t *clock);

/* Sync operations on parsed bodies (the HTTP handler calls these). */
int hq_auth(struct hq *h, struct hq_db *db, const char *token, struct hq_device *out);
/* hq_id: the HQ id the request names (may be NULL). When it is this
 * store's, the records' `q` (the HQ version a device's copy reflects) can
 * be trusted: a record with a q that HQ no longer holds was deleted and
 * garbage collected, and is refused rather than stored again. */
int hq_push(struct hq *h, const struct hq_device *d, const cJSON *records, const char *hq_id, cJSON **results,
	    int *accepted, int *rejected);
/* resync: the request's {"territory": horizon} of resyncs under way;
 * catalogue: the highest price list number the device holds (-1: it
 * keeps no price list, none is sent). */
int hq_pull(struct hq *h, struct hq_db *db, const struct hq_device *d, const cJSON *cursor, const cJSON *resync,
	    int64_t catalogue, int limit, cJSON *out, int *nrecords);
/* Enrol a device with a one-time token. The same token with the same nonce
 * again (the first answer was lost) gives the same device a fresh device
 * token; anything else with a used token is refused. */
int hq_enroll(struct hq *h, const char *token, const char *name, const char *nonce, const char *app_version,
	      cJSON *out);

/* What HQ runs (replica, version, store, memory), for admins only:
 * members added to `out`. */
void hq_health_details(struct hq *h, cJSON *out);

/* Garbage collection of tombstones and evictions every device in their
 * territory has acknowledged (gc.c): one row per territory with something
 * to collect. dry_run: the same work, rolled back. */
int hq_gc(struct hq *h, int dry_run, struct fieldsync_rows **out);

/* Admin (admin.c) */
int hq_rep_add(struct hq *h, const char *name, const char *territories, char token[65]);
int hq_rep_token(struct hq *h, const char *name, char token[65]);
int hq_rep_move(struct hq *h, const char *name, const char *territories);
int hq_rep_revoke(struct hq *h, const char *name, int wipe);
/* The amount a customer owed before the ledger began, as a payment row
 * with that receivable dated `date` (NULL: today), note "opening
 * balance"; set again, it is changed. It syncs like any payment. */
int hq_opening_balance(struct hq *h, const char *customer, const char *amount, const char *date, char id_out[33]);
/* A visit planned at HQ for `rep` (who must cover the customer's
 * territory): it reaches that rep's devices only. time may be NULL. */
int hq_plan_add(struct hq *h, const char *customer, const char *rep, const char *date, const char *time,
		char id_out[33]);
int hq_rep_list(struct hq *h, struct fieldsync_rows **out);
int hq_device_list(struct hq *h, struct fieldsync_rows **out);
int hq_conflict_list(struct hq *h, int all, struct fieldsync_rows **out);
int hq_quarantine_list(struct hq *h, struct fieldsync_rows **out);
int hq_list(struct hq *h, const struct fs_table *t, const char *const *filters, const char *search,
	    struct fieldsync_rows **out);
int hq_show(struct hq *h, const struct fs_table *t, const char *id, struct fieldsync_rows **out);
int hq_lookup(struct hq *h, const struct fs_table *t, const char *key, char id[33]);

/* An fs_exec over one HQ connection: { hq_bexec, &(struct hq_bexec){ h, db } }
 * runs the shared query code (core/query.c) on HQ's backend. */
struct hq_bexec {
	struct hq *h;
	struct hq_db *db;
};
int hq_bexec(void *ctx, const char *sql, int n, const struct fs_val *p, fs_row_fn fn, void *rctx);

/* Run SQL and collect the rows into a result table with the given column
 * names and types (types NULL: text). */
int hq_query_rows(struct hq *h, struct hq_db *db, const char *sql, int n, const struct fs_val *p,
		  const char *const *names, const int *types, struct fieldsync_rows **out);
/* Split "T1,T2" into territories (validated: 1-64 chars, no spaces/commas). */
int hq_parse_territories(const char *list, char terr[][65], int max, int *n);
/* Token hashing (BLAKE2b, hex). */
void hq_token_hash(const char *token, char out[65]);

/* Defined in endpoints.c: merge a write HQ refused (a quarantined record) that
 * `device` sent, on an administrator's decision, inside the caller's write
 * transaction on `db`: judged exactly as if that device pushed it now (its
 * rep's territories today, the clock bound, the writes it claims, the ids it
 * carries). A changed result is stored as a new version (it syncs to the
 * devices of its territory). `into` (NULL: none) is a territory the admin
 * named for a record refused for its territory: it may then go there.
 * FIELDSYNC_EINVAL with the reason when it still cannot be stored. */
int hq_accept_locked(struct hq *h, struct hq_db *db, const char *device, const struct fs_rec *in,
		     const char *into, char scope_out[65]);

#endif
