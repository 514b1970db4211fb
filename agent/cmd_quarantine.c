/* cmd_quarantine.c - `fieldsync quarantine`: what HQ refused, and why. */
#include "cli.h"

int cmd_quarantine(struct cli *c, int argc, char **argv)
{
	int rc = cli_options(c, argc, argv,
			     "usage: fieldsync quarantine [--json]\n\n"
			     "Records HQ refused at the last syncs, with the reason. HQ keeps a copy of\n"
			     "each in its own quarantine for an administrator to decide on.\n", NULL, NULL);
	if (rc)
		return rc == CLI_HELPED ? 0 : rc;
	if ((rc = cli_open(c, 0)))
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_quarantine(c->s, &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, "at,tbl,id,reason");
	fieldsync_rows_free(r);
	return rc;
}
