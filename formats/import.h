/*
 * import.h - customers from a CSV file (libcsv), all or nothing.
 *
 * The file: UTF-8 with or without a byte order mark, RFC 4180 (quoted
 * fields may hold commas, quotes and newlines), a header row naming fields
 * as fieldsync names them ("payment_terms" or "payment-terms", any case).
 * A column "code" (or "id") is required: a row whose id (when the file has
 * the column, as an export does) or else whose code names an existing
 * customer updates it (its non-empty cells); any other row creates one,
 * and needs a code. Empty cells leave a field as it is (unset on a new
 * customer).
 *
 * The parse checks every cell against the registry before anything is
 * written; the apply runs inside the caller's one transaction and stops at
 * the first refused row. Every error names the row's line (the line its
 * record starts on, counting the header as line 1) and the reason.
 */
#ifndef FS_IMPORT_H
#define FS_IMPORT_H

#include <stdio.h>
#include "query.h"

#define FS_IMPORT_MAX_ROWS 100000
#define FS_IMPORT_MAX_BYTES (64L * 1024 * 1024)

struct fs_import_row {
	int line;
	struct fs_chg c;
	char *code;	/* NULL: empty */
	char *id;	/* the "id" column, NULL: empty */
};

struct fs_import {
	const struct fs_table *t;
	struct fs_import_row *rows;
	int n, cap;
};

/* Read and check the whole file; FIELDSYNC_EINVAL "line N: reason" on the
 * first bad row, FIELDSYNC_ELIMIT beyond the limits above, FIELDSYNC_EIO on
 * a read error. `im` is initialised by the call; release it either way. */
/* delim: ',', ';' or '\t'; 0: found from the header (csvtab.h). With a
 * delimiter other than a comma, money and coordinates may have a decimal
 * comma ("3,20"). */
int fs_import_read(FILE *fp, const struct fs_table *t, int delim, struct fs_import *im);
void fs_import_release(struct fs_import *im);

/* Writes one change: id NULL creates (new id to id_out), else updates.
 * Returns 0 and sets *changed (fields written, 0: nothing changed). */
typedef int (*fs_import_write_fn)(void *ctx, const struct fs_chg *c, const char *id, char id_out[33],
				  int *changed);

/* Apply every row through `write`, looking codes up through x (which must
 * see the rows written so far: the same transaction). A report of one row
 * per imported row goes to *out: line, action (created, updated,
 * unchanged), code, name, id. */
int fs_import_apply(const struct fs_import *im, const struct fs_exec *x, fs_import_write_fn write, void *ctx,
		    struct fieldsync_rows **out);

#endif
