/* cmd_status.c - `fieldsync status`: where this replica stands. */
#include "cli.h"

int cmd_status(struct cli *c, int argc, char **argv)
{
	struct args a;
	int k;
	args_init(&a, c, argc, argv);
	while ((k = args_next(&a)) > 0) {
		if (k == 1 && (args_is(&a, "help") || args_is(&a, "h"))) {
			printf("usage: fieldsync status [--json]\n\n"
			       "Server, replica id, rep and territories, last successful sync, changes\n"
			       "waiting to be pushed, quarantined records and open conflicts.\n");
			return 0;
		}
		return cli_usage("status", k == 1 ? "unknown option --%s" : "unexpected argument '%s'",
				 k == 1 ? a.opt : a.word);
	}
	if (a.bad)
		return 2;
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_status(c->s, &r);
	if (e)
		return cli_fail(e);
	fieldsync_rows_print(r, stdout, c->json ? FIELDSYNC_FMT_OBJECT : FIELDSYNC_FMT_RECORD, NULL);
	fieldsync_rows_free(r);
	return 0;
}
