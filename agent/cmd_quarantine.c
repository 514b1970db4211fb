/* cmd_quarantine.c - `fieldsync quarantine`: what HQ refused, and why. */
#include "cli.h"

int cmd_quarantine(struct cli *c, int argc, char **argv)
{
	struct args a;
	int k;
	args_init(&a, c, argc, argv);
	while ((k = args_next(&a)) > 0) {
		if (k == 1 && (args_is(&a, "help") || args_is(&a, "h"))) {
			printf("usage: fieldsync quarantine [--json]\n\n"
			       "Records HQ refused at the last syncs, with the reason. HQ keeps a copy of\n"
			       "each in its own quarantine for an administrator to decide on.\n");
			return 0;
		}
		return cli_usage("quarantine", k == 1 ? "unknown option --%s" : "unexpected argument '%s'",
				 k == 1 ? a.opt : a.word);
	}
	if (a.bad)
		return 2;
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_quarantine(c->s, &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, "at,tbl,id,reason");
	fieldsync_rows_free(r);
	return rc;
}
