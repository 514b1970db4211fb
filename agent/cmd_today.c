/* cmd_today.c - `fieldsync today`: the morning list, in route order. */
#include <string.h>
#include "cli.h"

int cmd_today(struct cli *c, int argc, char **argv)
{
	struct args a;
	const char *date = NULL;
	int k;
	args_init(&a, c, argc, argv);
	while ((k = args_next(&a)) > 0) {
		if (k == 1 && (args_is(&a, "help") || args_is(&a, "h"))) {
			printf("usage: fieldsync today [--date YYYY-MM-DD]\n\n"
			       "The day's visits in route order (set by `fieldsync route plan` or HQ),\n"
			       "with customer, address, purpose, the last visit's outcome and the\n"
			       "amount outstanding.\n");
			return 0;
		}
		if (k == 1 && args_is(&a, "date")) {
			if (!(date = args_value(&a)))
				return 2;
			continue;
		}
		return cli_usage("today", k == 1 ? "unknown option --%s" : "unexpected argument '%s'",
				 k == 1 ? a.opt : a.word);
	}
	if (a.bad)
		return 2;
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_today(c->s, date, &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, "route_seq,planned_time,status,customer,address,purpose,last_outcome,outstanding,visit_id");
	fieldsync_rows_free(r);
	return rc;
}
