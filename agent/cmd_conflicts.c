/* cmd_conflicts.c - `fieldsync conflicts [resolve ID --keep ...]`. */
#include <string.h>
#include "cli.h"

int cmd_conflicts(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	const char *sub = NULL, *id = NULL, *keep = NULL;
	int all = 0, k;
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 1 && (kit_is(&a, "help") || kit_is(&a, "h"))) {
			printf("usage: fieldsync conflicts [--all] [--json]\n"
			       "       fieldsync conflicts resolve ID --keep mine|theirs|winner|loser\n\n"
			       "When two people changed the same field without seeing each other's change,\n"
			       "every replica shows the same winner (the later write) and keeps the other\n"
			       "value here. Resolving writes the value you keep as a new change, which\n"
			       "syncs to HQ and every device like any edit.\n");
			return 0;
		}
		if (k == 2) {
			if (!sub)
				sub = a.word;
			else if (!id)
				id = a.word;
			else
				return cli_usage("conflicts", "unexpected argument '%s'", a.word);
		} else if (kit_is(&a, "all") && !a.inl) {
			all = 1;
		} else if (kit_is(&a, "keep")) {
			if (!(keep = kit_value(&a)))
				return 2;
		} else {
			return kit_unknown(&a);
		}
	}
	if (a.bad)
		return 2;
	static const char *const subs[] = { "resolve", NULL };
	if (sub && cli_pick("conflicts", sub, subs) < 0)
		return 2;
	if (sub && (!id || !keep))
		return cli_usage("conflicts", "resolve needs an ID and --keep mine|theirs|winner|loser");
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	if (sub) {
		int e = fieldsync_resolve(c->s, id, keep);
		if (e)
			return cli_fail(e);
		printf(c->json ? "{\"resolved\": \"%s\", \"keep\": \"%s\"}\n" : "resolved %s (kept %s)\n", id, keep);
		return 0;
	}
	fieldsync_rows *r;
	int e = fieldsync_conflicts(c->s, all, &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, NULL);
	fieldsync_rows_free(r);
	return rc;
}
