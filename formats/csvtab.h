/*
 * csvtab.h - a CSV file read whole, as a table of text cells under its
 * header (libcsv, RFC 4180: quoted cells may hold commas, quotes and
 * newlines), each row with the line it starts on; and the line-by-line
 * feeder every CSV reader here shares (import.c).
 */
#ifndef FS_CSVTAB_H
#define FS_CSVTAB_H

#include <stdio.h>

/* Where a CSV read fed a line at a time stands: the line being fed, the
 * line the current record started on (0: none yet), whether a record has
 * started, and the first error. */
struct fs_csv_pos {
	int line, start, in_row, rc;
	int delim;	/* ',', ';' or '\t'; 0: found from the header line (fs_csv_feed sets it) */
};

/* Feed fp through libcsv with libcsv's callbacks (ctx is theirs): a UTF-8
 * byte order mark skipped, at most max_bytes. The delimiter is pos->delim,
 * or when 0 the one of ',', ';' and TAB the header line has most of
 * outside quotes (comma on a tie or none): Excel writes ';' where the
 * decimal separator is a comma. The callbacks keep pos
 * (in_row, start) as they see records; errors go to pos->rc as
 * FIELDSYNC_EINVAL "line N: not valid CSV (...)", FIELDSYNC_ELIMIT or
 * FIELDSYNC_EIO. Returns pos->rc. */
int fs_csv_feed(FILE *fp, long max_bytes, struct fs_csv_pos *pos, void (*cell)(void *, size_t, void *),
		void (*row)(int, void *), void *ctx);

struct fs_csvtab {
	int ncol, nrow;
	int delim;	/* the delimiter read (fs_csv_feed) */
	char **head;	/* column names, lowercase, '-' as '_' */
	char **cells;	/* nrow * ncol; NULL: empty */
	int *line;	/* the line each row starts on (the header is line 1) */
};

/* Read fp whole: a header, then rows (rows of empty cells are skipped);
 * FIELDSYNC_EINVAL "line N: reason" on a bad file (a duplicate column, a
 * row longer than the header), FIELDSYNC_ELIMIT beyond the limits. */
int fs_csvtab_read(FILE *fp, long max_bytes, int max_rows, struct fs_csvtab *t);
/* The delimiter a user names: ",", ";", "tab" (or a TAB), "auto" (0).
 * -1 for anything else. */
int fs_csv_delim_parse(const char *s);
void fs_csvtab_free(struct fs_csvtab *t);
/* A number as a cell has it, with a decimal comma ("3,20") as a point
 * when the file's delimiter is not a comma; anything else unchanged. The
 * result is the cell or buf (NULL cell: NULL). */
const char *fs_csv_number(const char *cell, int delim, char buf[64]);
/* The column's index, or -1. */
int fs_csvtab_col(const struct fs_csvtab *t, const char *name);
/* A cell; NULL when empty or the column is -1. */
const char *fs_csvtab_cell(const struct fs_csvtab *t, int row, int col);

#endif
