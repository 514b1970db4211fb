/* cmd_status.c - `fieldsync status`: where this replica stands. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* A JSON object printed into memory: its members, without the braces. */
static char *members(fieldsync_rows *r)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&buf, &n);
	if (!fp)
		return NULL;
	int rc = fieldsync_rows_print(r, fp, FIELDSYNC_FMT_OBJECT, NULL);
	if (fclose(fp) != 0 || rc || !buf) {
		free(buf);
		return NULL;
	}
	char *open = strchr(buf, '{'), *close = strrchr(buf, '}');
	if (!open || !close || close < open) {
		free(buf);
		return NULL;
	}
	*close = '\0';
	while (close > open + 1 && (close[-1] == '\n' || close[-1] == ' ' || close[-1] == '\t'))
		*--close = '\0';
	memmove(buf, open + 1, strlen(open + 1) + 1);
	return buf;
}

/* The status and the retention in force as one JSON object. */
static int print_json(fieldsync_rows *st, fieldsync_rows *ret)
{
	char *a = members(st), *b = members(ret);
	int ok = a && b;
	if (ok)
		printf("{%s,\n\t\"retention_years\":\t%s,\n\t\"retention_source\":\t\"%s\",\n"
		       "\t\"retention_before\":\t\"%s\"\n}\n", a,
		       fieldsync_rows_value(ret, 0, 0), fieldsync_rows_value(ret, 0, 1),
		       fieldsync_rows_value(ret, 0, 2));
	free(a);
	free(b);
	if (!ok)
		fprintf(stderr, "fieldsync: out of memory\n");
	return ok ? 0 : 4;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	int rc = cli_options(c, argc, argv,
			     "usage: fieldsync status [--json]\n\n"
			     "Server, replica id, rep and territories, last successful sync, changes\n"
			     "waiting to be pushed, quarantined records and open conflicts, and the\n"
			     "retention in force: visits dated before the cut-off leave this device at\n"
			     "the next purge (HQ's setting, 3 years until a sync brings it).\n", NULL, NULL);
	if (rc)
		return rc == CLI_HELPED ? 0 : rc;
	if ((rc = cli_open(c, 0)))
		return rc;
	fieldsync_rows *r, *ret;
	int e = fieldsync_status(c->s, &r);
	if (e)
		return cli_fail(e);
	if ((e = fieldsync_retention(c->s, &ret))) {
		fieldsync_rows_free(r);
		return cli_fail(e);
	}
	if (c->json) {
		rc = print_json(r, ret);
	} else {
		int w = 0;
		for (int i = 0; i < fieldsync_rows_columns(r); i++)
			if ((int)strlen(fieldsync_rows_name(r, i)) > w)
				w = (int)strlen(fieldsync_rows_name(r, i));
		fieldsync_rows_print(r, stdout, FIELDSYNC_FMT_RECORD, NULL);
		printf("%-*s  %s years (%s): visits dated before %s leave this device\n", w, "retention",
		       fieldsync_rows_value(ret, 0, 0), fieldsync_rows_value(ret, 0, 1),
		       fieldsync_rows_value(ret, 0, 2));
	}
	fieldsync_rows_free(r);
	fieldsync_rows_free(ret);
	return rc;
}
