/* cmd_status.c - `fieldsync status`: where this replica stands. */
#include "cli.h"

int cmd_status(struct cli *c, int argc, char **argv)
{
	int rc = cli_options(c, argc, argv,
			     "usage: fieldsync status [--json]\n\n"
			     "Server, replica id, rep and territories, last successful sync, changes\n"
			     "waiting to be pushed, quarantined records and open conflicts.\n", NULL, NULL);
	if (rc)
		return rc == CLI_HELPED ? 0 : rc;
	if ((rc = cli_open(c, 0)))
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_status(c->s, &r);
	if (e)
		return cli_fail(e);
	fieldsync_rows_print(r, stdout, c->json ? FIELDSYNC_FMT_OBJECT : FIELDSYNC_FMT_RECORD, NULL);
	fieldsync_rows_free(r);
	return 0;
}
