/* cmd_sync.c - `fieldsync sync`: push everything pending, pull until drained. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

/* What a sync on a terminal shows as it goes. */
struct shown {
	long pending;		/* changes waiting to go up when it started */
	double t0;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int progress(void *ctx, long pushed, long pulled)
{
	struct shown *x = ctx;
	double dt = now_s() - x->t0;
	long rate = dt > 0.05 ? (long)((double)(pushed + pulled) / dt) : 0;
	if (x->pending > 0)
		fprintf(stderr, "\rsync: %ld/%ld up (%ld%%), %ld down, %ld records/s   ", pushed, x->pending,
			pushed >= x->pending ? 100L : pushed * 100 / x->pending, pulled, rate);
	else
		fprintf(stderr, "\rsync: %ld up, %ld down, %ld records/s   ", pushed, pulled, rate);
	fflush(stderr);
	return 0;
}

void cli_retry_notice(void *ctx, int attempt, long wait_ms, const char *why)
{
	(void)ctx;
	fprintf(stderr, "\rfieldsync: HQ unreachable, retry %d in %.1f s (%s)\n", attempt,
		(double)wait_ms / 1000.0, why);
	fflush(stderr);
}

int cli_retry_for(const char *v, long *ms)
{
	char *end;
	double sec = v ? strtod(v, &end) : -1;
	if (!v || end == v || *end || sec < 0 || sec > 86400) {
		fprintf(stderr, "fieldsync: --retry-for: '%s' is not a number of seconds (0 to 86400)\n",
			v ? v : "");
		return 2;
	}
	*ms = (long)(sec * 1000);
	if (*ms == 0)
		*ms = 1;	/* no retry at all */
	return 0;
}

int cmd_sync(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = { "retry-for", NULL };
	const char *vals[1] = { NULL };
	int rc = cli_options(c, argc, argv,
			     "usage: fieldsync sync [--json] [--retry-for SECONDS]\n\n"
			     "Pushes every pending change to HQ (in the order they were made), then pulls\n"
			     "until nothing is left, and repeats until both are drained. Interrupting it\n"
			     "loses nothing: run it again. Exit 0 when all went through, 1 when HQ\n"
			     "rejected records (see `fieldsync quarantine`), 7 server unreachable,\n"
			     "8 not authorised (revoked), 9 protocol mismatch, 10 another sync running.\n\n"
			     "An HQ that does not answer is tried again for 5 s (each retry shown on a\n"
			     "terminal); --retry-for SECONDS waits longer. On a terminal the sync shows\n"
			     "what went up of what was pending, what came down, and the rate.\n",
			     names, vals);
	if (rc)
		return rc == CLI_HELPED ? 0 : rc;
	if ((rc = cli_open(c, 0)))
		return rc;
	int tty = isatty(2) && !c->json;
	long retry_ms = 0;
	if (vals[0] && (rc = cli_retry_for(vals[0], &retry_ms)))
		return rc;
	struct shown x = { 0, now_s() };
	fieldsync_rows *sum = NULL, *st = NULL;
	if (tty && fieldsync_status(c->s, &st) == 0 && fieldsync_rows_count(st) > 0)
		x.pending = strtol(fieldsync_rows_value(st, 0, fieldsync_rows_find(st, "pending")), NULL, 10);
	fieldsync_rows_free(st);
	fieldsync_set_retry(c->s, retry_ms, tty ? cli_retry_notice : NULL, NULL);
	int e = fieldsync_sync(c->s, tty ? progress : NULL, &x, &sum);
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
