/* ledger.c - the public report calls on a device's store (reports in report.c). */
#include "api.h"

#include <stdlib.h>
#include <string.h>
#include "fieldsync.h"
#include "report.h"
#include "util.h"

int fs_store_due(struct fs_store *s, struct fs_due *d)
{
	char *text = NULL;
	int rc = fs_meta_get(s, "hq.due_days", &text);
	if (rc == 0 && fs_due_parse(text, d))
		fs_due_defaults(d);	/* a value this version cannot read: the defaults */
	fs_err_clear();
	free(text);
	return rc;
}

FIELDSYNC_API int fieldsync_report_day(fieldsync_store *s, const char *date, fieldsync_rows **out)
{
	char today[11];
	if (!date) {
		fs_today_local(today);
		date = today;
	}
	struct fs_exec x = fs_store_execer(s->st);
	return fs_report_day(&x, date, out);
}

FIELDSYNC_API int fieldsync_report_plan(fieldsync_store *s, const char *month, fieldsync_rows **out)
{
	char today[11];
	if (!month) {
		fs_today_local(today);
		today[7] = '\0';
		month = today;
	}
	struct fs_exec x = fs_store_execer(s->st);
	return fs_report_plan(&x, month, out);
}

FIELDSYNC_API int fieldsync_report_money(fieldsync_store *s, const char *month, const char *by,
					 fieldsync_rows **out)
{
	struct fs_exec x = fs_store_execer(s->st);
	return fs_report_money(&x, month, by, NULL, out);
}

FIELDSYNC_API int fieldsync_due(fieldsync_store *s, const char *territory, const char *date, fieldsync_rows **out)
{
	char today[11];
	struct fs_due d;
	*out = NULL;
	if (!date) {
		fs_today_local(today);
		date = today;
	}
	int rc = fs_store_due(s->st, &d);
	if (rc)
		return rc;
	struct fs_exec x = fs_store_execer(s->st);
	return fs_report_due(&x, &d, territory && *territory ? territory : NULL, date, out);
}

FIELDSYNC_API int fieldsync_due_intervals(fieldsync_store *s, fieldsync_rows **out)
{
	struct fs_due d;
	char *text = NULL;
	*out = NULL;
	int rc = fs_store_due(s->st, &d);
	if (rc == 0)
		rc = fs_meta_get(s->st, "hq.due_days", &text);
	struct fieldsync_rows *r = rc ? NULL : fs_rows_new(3);
	if (rc == 0 && !r)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	if (rc == 0 && !(rc = fs_rows_set_col(r, 0, "grade", FS_T_TEXT)) &&
	    !(rc = fs_rows_set_col(r, 1, "days", FS_T_INT)))
		rc = fs_rows_set_col(r, 2, "source", FS_T_TEXT);
	for (int i = 0; rc == 0 && i < FS_DUE_NGRADES; i++) {
		char n[16];
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		snprintf(n, sizeof n, "%d", d.days[i]);
		if (!(rc = fs_rows_set(r, row, 0, fs_due_grade(i))) && !(rc = fs_rows_set(r, row, 1, n)))
			rc = fs_rows_set(r, row, 2, text && *text ? "HQ" : "default");
	}
	free(text);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

FIELDSYNC_API int fieldsync_export(fieldsync_store *s, const char *what, const char *from, const char *to,
				   fieldsync_rows **out)
{
	struct fs_exec x = fs_store_execer(s->st);
	return fs_export(&x, what ? what : "", from && *from ? from : NULL, to && *to ? to : NULL, out);
}
