/* daemon.c - what fieldsyncd's commands share (see daemon.h). */
#include "daemon.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

const char *fsd_db_path;
int fsd_json;
int fsd_csv;			/* --csv: CSV for listings */
struct hq_conf fsd_conf;	/* the configuration file (ops.h) */
int fsd_log_json;		/* serve --log-format json: messages as JSON lines too */

int fsd_fail(int rc)
{
	const char *m = fs_errmsg_get();
	hq_log(fsd_log_json, "error", "%s", m && *m ? m : fieldsync_strerror(rc));
	return fieldsync_exit_code(rc);
}

const char *fsd_cmd;

int fsd_usage_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return kit_usage("fieldsyncd", fsd_cmd, "%s", msg);
}

/* --json and --csv anywhere after the command */
static int take_global(struct kit_args *a)
{
	if (kit_flag(a, "json"))
		fsd_json = 1;
	else if (kit_flag(a, "csv"))
		fsd_csv = 1;
	else
		return a->bad ? -1 : 0;
	return 1;
}

static const char *const global_names[] = { "json", "csv", "help", NULL };
const struct kit_globals fsd_globals = { take_global, global_names };

/* The store as printed: a PostgreSQL password is never shown. */
const char *fsd_shown_db(void)
{
	static char b[1024];
	const char *p = fsd_db_path, *at, *colon, *pw;
	if ((p = strstr(fsd_db_path, "://")) && (at = strchr(p + 3, '@')) && (colon = memchr(p + 3, ':', at - p - 3))) {
		snprintf(b, sizeof b, "%.*s:***%s", (int)(colon - fsd_db_path), fsd_db_path, at);
		return b;
	}
	if ((pw = strstr(fsd_db_path, "password="))) {
		const char *end = pw + strcspn(pw, " ");
		snprintf(b, sizeof b, "%.*spassword=***%s", (int)(pw - fsd_db_path), fsd_db_path, end);
		return b;
	}
	return fsd_db_path;
}

/* An SQLite file, not a PostgreSQL database. */
int fsd_is_file_store(void)
{
	return hq_backend_for(fsd_db_path) == &hq_backend_sqlite;
}

int fsd_no_dump(const char *cmd)
{
	return fsd_fail(fs_err(FIELDSYNC_EINVAL, "%s: a PostgreSQL store is saved and restored with pg_dump and"
			   " pg_restore (see docs/scale.md)", cmd));
}

int fsd_open_hq(struct hq **h)
{
	int rc = hq_open(fsd_db_path, h);
	return rc ? fsd_fail(rc) : 0;
}

int fsd_print_rows(struct fieldsync_rows *r, const char *cols)
{
	int rc = fieldsync_rows_print(r, stdout, fsd_json ? FIELDSYNC_FMT_JSON : fsd_csv ? FIELDSYNC_FMT_CSV : FIELDSYNC_FMT_TABLE,
				      fsd_json ? NULL : cols);
	fs_rows_free(r);
	return rc ? fsd_fail(rc) : 0;
}

