/*
 * replica.h - the replica engine: how a replica writes a change of its own
 * and how it records the clashes a merge leaves, the same for the device's
 * store (store.c) and for HQ over either of its stores (sync/hq/replica.c).
 *
 * A local write: the record is read (locked for the write), a deleted one
 * refused unless the change undeletes it, the change validated against the
 * record's rules (fs_chg_validate) and the store's own checks, stamped
 * with the next tick of the replica's hybrid clock (fs_rec_write: vv[self]
 * + 1, a dot per changed field), given its scope, and stored. A change
 * that changes nothing writes nothing.
 *
 * Clash records: for each open clash of a merged record (fs_rec_clashes)
 * whose conflict record is missing, one is written with an id derived from
 * the clash (fs_conflict_build), so that every replica that merges the
 * same versions makes the same record.
 *
 * The store under the engine is an interface of five calls; everything a
 * store adds (the device's change log and field history, HQ's sequence
 * numbers and territory moves) happens in its `store` call.
 */
#ifndef FS_REPLICA_H
#define FS_REPLICA_H

#include "record.h"

struct fs_replica {
	const struct fs_rid *self;	/* this replica's id */
	void *ctx;			/* the store's, handed to every call */
	/* Read a record into out (initialised by the call); ENOTFOUND if
	 * absent. lock: it will be written in this transaction. */
	int (*get)(void *ctx, const struct fs_table *t, const char *id, int lock, struct fs_rec *out);
	/* The next stamp of the replica's hybrid clock (in the write transaction). */
	int (*tick)(void *ctx, int64_t *hlc);
	/* The store's checks of a change beyond the record's rules
	 * (references that must exist); NULL: none. */
	int (*check)(void *ctx, const struct fs_rec *r, const struct fs_chg *c);
	/* Set r->scope. fresh: the record is new or its scope field changed. */
	int (*scope)(void *ctx, struct fs_rec *r, int fresh);
	/* Store version r; old: the version it replaces (NULL: new), hlc: its stamp. */
	int (*store)(void *ctx, const struct fs_rec *old, const struct fs_rec *r, int64_t hlc);
};

/* Write change c: create (id NULL or "": a new id into id_out) or update
 * record id. In the caller's transaction; nothing is stored on error. */
int fs_replica_write(const struct fs_replica *rp, const struct fs_chg *c, const char *id, char id_out[33]);
/* The missing conflict records of r's open clashes. */
int fs_replica_clashes(const struct fs_replica *rp, const struct fs_rec *r);

#endif
