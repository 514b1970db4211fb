/* cmd_today.c - `fieldsync today`: the morning list, in route order. */
#include "cli.h"

int cmd_today(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = { "date", NULL };
	const char *date = NULL;
	int rc = cli_options(c, argc, argv,
			     "usage: fieldsync today [--date YYYY-MM-DD]\n\n"
			     "The day's visits in route order (set by `fieldsync route plan` or HQ),\n"
			     "with customer, address, purpose, the last visit's outcome and the\n"
			     "amount outstanding.\n", names, &date);
	if (rc)
		return rc == CLI_HELPED ? 0 : rc;
	if ((rc = cli_open(c, 0)))
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_today(c->s, date, &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, "route_seq,planned_time,status,customer,address,purpose,last_outcome,outstanding,visit_id");
	fieldsync_rows_free(r);
	return rc;
}
