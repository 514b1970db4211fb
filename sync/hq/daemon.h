/*
 * daemon.h - what fieldsyncd's commands share: the global options, the
 * configuration file, the option scanner, and how a command fails. The
 * commands are in serve.c (the server) and main.c (administration).
 */
#ifndef FS_HQ_DAEMON_H
#define FS_HQ_DAEMON_H

#include "clikit.h"
#include "fieldsync.h"
#include "hq.h"
#include "ops.h"

extern const char *fsd_db_path;	/* --db, $FIELDSYNCD_DB, the file's db, or the default */
extern int fsd_json;		/* --json */
extern int fsd_csv;		/* --csv: CSV for listings */
extern struct hq_conf fsd_conf;	/* the configuration file (ops.h) */
extern int fsd_log_json;	/* serve --log-format json: messages as JSON lines too */

/* Log rc's message and return its exit status. */
int fsd_fail(int rc);
/* "fieldsyncd: MESSAGE (see 'fieldsyncd --help')" on stderr; returns 2. */
int fsd_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The command running (for usage errors: "see 'fieldsyncd CMD --help'"). */
extern const char *fsd_cmd;
/* The options every command takes anywhere: --json, --csv (clikit.h). */
extern const struct kit_globals fsd_globals;

/* The store as printed: a PostgreSQL password is never shown. */
const char *fsd_shown_db(void);
/* An SQLite file, not a PostgreSQL database. */
int fsd_is_file_store(void);
int fsd_no_dump(const char *cmd);
int fsd_open_hq(struct hq **h);
int fsd_print_rows(struct fieldsync_rows *r, const char *cols);

/* serve.c */
int fsd_cmd_serve(struct kit_args *o);

#endif
