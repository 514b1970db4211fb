/* cmd_sync.c - `fieldsync sync`: push everything pending, pull until drained. */
#include <string.h>
#include <unistd.h>
#include "cli.h"

static int progress(void *ctx, long pushed, long pulled)
{
	(void)ctx;
	fprintf(stderr, "\rsync: %ld up, %ld down", pushed, pulled);
	fflush(stderr);
	return 0;
}

int cmd_sync(struct cli *c, int argc, char **argv)
{
	int rc = cli_options(c, argc, argv,
			     "usage: fieldsync sync [--json]\n\n"
			     "Pushes every pending change to HQ (in the order they were made), then pulls\n"
			     "until nothing is left, and repeats until both are drained. Interrupting it\n"
			     "loses nothing: run it again. Exit 0 when all went through, 1 when HQ\n"
			     "rejected records (see `fieldsync quarantine`), 7 server unreachable,\n"
			     "8 not authorised (revoked), 9 protocol mismatch, 10 another sync running.\n",
			     NULL, NULL);
	if (rc)
		return rc == CLI_HELPED ? 0 : rc;
	if ((rc = cli_open(c, 0)))
		return rc;
	int tty = isatty(2) && !c->json;
	fieldsync_rows *sum = NULL;
	int e = fieldsync_sync(c->s, tty ? progress : NULL, NULL, &sum);
	if (tty)
		fputc('\n', stderr);
	if (sum) {
		if (c->json) {
			fieldsync_rows_print(sum, stdout, FIELDSYNC_FMT_OBJECT, NULL);
		} else {
#define V(n) fieldsync_rows_value(sum, 0, fieldsync_rows_find(sum, n))
			printf("sync %s: %s pushed (%s accepted, %s rejected), %s pulled, %s evicted, "
			       "%s requests in %s ms\n", e < 0 ? "interrupted" : "done", V("pushed"), V("accepted"),
			       V("rejected"), V("pulled"), V("evicted"), V("requests"), V("ms"));
			if (strcmp(V("resynced"), "0"))
				printf("resynced %s territor%s: this device was away while HQ cleared deleted records\n",
				       V("resynced"), strcmp(V("resynced"), "1") ? "ies" : "y");
			if (strcmp(V("purged"), "0"))
				printf("purged %s records past the retention period from this device (HQ keeps them)\n",
				       V("purged"));
#undef V
		}
		fieldsync_rows_free(sum);
	}
	if (e == 1) {
		fprintf(stderr, "fieldsync: HQ rejected some records; see 'fieldsync quarantine'\n");
		return 1;
	}
	return e ? cli_fail(e) : 0;
}
