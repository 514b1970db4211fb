/*
 * api.h - what the public handles wrap. Internal to the library.
 */
#ifndef FS_API_H
#define FS_API_H

#include "fieldsync.h"
#include "record.h"
#include "rows.h"
#include "store.h"

struct fieldsync_store {
	struct fs_store *st;
};

struct fieldsync_rec {
	struct fs_chg c;
};

/* Map a public handle's result to a rows table from SQL with bound text args. */
int fs_query_rows(struct fs_store *s, const char *sql, const char *const *args, int nargs,
		  const struct fs_table *t, struct fieldsync_rows **out);

#endif
