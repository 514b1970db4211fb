/*
 * store_int.h - inside a store handle. Only core/ (and the tests and tools,
 * which may look at anything) see this header: the build gives no other
 * layer its directory, so the rest of the library goes through store.h.
 */
#ifndef FS_STORE_INT_H
#define FS_STORE_INT_H

#include "store.h"

struct fs_store {
	sqlite3 *db;
	char *path;
	struct fs_rid self;
	char self_hex[33];
	int64_t hlc;		/* last HLC this replica issued or saw */
	int64_t clock_ahead;	/* minutes: HQ's clock_ahead_minutes (record.h) */
	int hlc_dirty;		/* hlc changed in this transaction: persisted at commit */
	int depth;		/* transaction nesting */
	int doomed;		/* an inner failure: outermost commit rolls back */
	sqlite3_stmt *get[FS_MAX_TABLES], *put[FS_MAX_TABLES], *del[FS_MAX_TABLES], *hqs[FS_MAX_TABLES];
	sqlite3_stmt *log_add, *meta_get, *meta_set;
	unsigned char key[32];	/* sealing key for sensitive fields */
	int has_key;
	struct {
		const char *sql;	/* the caller's static text: cached by pointer */
		sqlite3_stmt *st;
	} cache[24];		/* fs_store_stmt() */
	int ncache;
};

#endif
