/*
 * api.h - what the public handles wrap. Internal to the library.
 */
#ifndef FS_API_H
#define FS_API_H

#include "fieldsync.h"
#include "record.h"
#include "rows.h"
#include "query.h"
#include "store.h"

struct fieldsync_store {
	struct fs_store *st;
	long retry_for_ms;		/* fieldsync_set_retry: 0 the default */
	fieldsync_retry_fn retry_fn;
	void *retry_ctx;
};

struct fieldsync_rec {
	struct fs_chg c;
};

/* The store as an fs_exec for the shared queries (query.h). */
struct fs_exec fs_store_execer(struct fs_store *s);
/* HQ's visit intervals as the store last received them (defaults until then). */
struct fs_due;
int fs_store_due(struct fs_store *s, struct fs_due *d);

#endif
