/*
 * synctab.h - the tables of a device's replica that its sync works on:
 * the change log (what waits to go to HQ), the quarantine (writes HQ
 * refused, or sent stamped beyond the clock bound), the resync marks (rows
 * a resync after HQ's garbage collection has not brought again), and where
 * each row stands at HQ (hqseq, scope). sync/client.c speaks HTTP and JSON
 * and calls these; it never touches a table itself. Each call runs in the
 * caller's transaction (fs_store_begin) unless it says otherwise.
 */
#ifndef FS_SYNCTAB_H
#define FS_SYNCTAB_H

#include <stdint.h>
#include "store.h"

/* ---- the change log ---- */

/* Records with unpushed changes. */
int fs_log_pending(struct fs_store *s, int64_t *n);
/* One pending record for the next batch: its current state, the change-log
 * position that state covers, and HQ's version it reflects (0: none). */
typedef int (*fs_log_fn)(void *ctx, const struct fs_rec *r, int64_t upto, int64_t hqseq);
/* The next batch after change-log position *after (which moves on): up to
 * `max` records, each once, in order of their oldest pending change; read
 * in one snapshot of its own. A change-log entry whose row is gone is
 * dropped. *n: how many fn received. */
int fs_log_next(struct fs_store *s, int64_t *after, int max, fs_log_fn fn, void *ctx, int *n);
/* Changes to the record newer than position `upto` (made while a batch
 * was in flight). */
int fs_log_newer(struct fs_store *s, const struct fs_table *t, const char *id, int64_t upto, int *newer);
/* HQ has answered for the record's changes up to `upto`: they leave the log. */
int fs_log_done(struct fs_store *s, const char *tbl, const char *id, int64_t upto);
/* Every record queued again and every hqseq forgotten (HQ restored from a
 * backup: docs/operations.md). */
int fs_log_requeue_all(struct fs_store *s);

/* ---- the quarantine ---- */

/* Keep `record` (its wire JSON, sealed in a sealed store) with the reason;
 * one row per record, the latest reason wins. */
int fs_quarantine_put(struct fs_store *s, const char *tbl, const char *id, const char *reason, const char *at,
		      const char *record);
/* The record came from HQ within the clock bound: a quarantine of an
 * earlier HQ version of it ("from HQ: ...") is over. */
int fs_quarantine_clear_hq(struct fs_store *s, const char *tbl, const char *id);
int fs_quarantine_count(struct fs_store *s, int64_t *n);

/* ---- HQ's price list ---- */

/* A product as HQ sent it (numbered q by HQ's catalogue sequence). */
int fs_catalogue_put(struct fs_store *s, const char *sku, const char *name, const char *unit, int64_t price,
		     int active, int64_t q);

/* ---- rows and HQ ---- */

/* The scope and HQ version (hqseq) of a row; scope "" and 0 when absent. */
int fs_store_row_hq(struct fs_store *s, const struct fs_table *t, const char *id, char scope[65], int64_t *hqseq);
/* Each distinct scope the replica holds rows under. */
int fs_store_each_scope(struct fs_store *s, int (*fn)(void *ctx, const char *scope), void *ctx);
/* Erase the replica: every record, the change log, conflicts, quarantine,
 * the token and the server; only the replica id and clock stay, with the
 * time of the wipe. Runs its own transactions, then rewrites the file. */
int fs_store_wipe(struct fs_store *s);

/* ---- resync after HQ's garbage collection (docs/gc.md) ---- */

/* Mark every row of the scope (a resync starts). */
int fs_resync_mark(struct fs_store *s, const char *scope);
/* The resync brought the record again. */
int fs_resync_unmark(struct fs_store *s, const char *tbl, const char *id);
/* The resync is complete: rows still marked go (those with unpushed
 * changes stay, to be pushed); *removed counts them. */
int fs_resync_sweep(struct fs_store *s, const char *scope, long *removed);
/* Give a resync up, removing nothing. */
int fs_resync_forget(struct fs_store *s, const char *scope);

#endif
