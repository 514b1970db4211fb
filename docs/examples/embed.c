/*
 * embed.c - embedding the fieldsync engine in an app, with nothing but the
 * public header <fieldsync.h>.
 *
 *   embed STORE SERVER_URL [TOKEN [NOTE]]
 *
 * Opens (creating it if needed) the local store STORE, enrols it with HQ at
 * SERVER_URL using the one-time TOKEN the first time (`fieldsyncd rep add`
 * prints one; "-" when the store is already enrolled), then, the way a
 * field app would after a visit:
 *   0. right after enrolment, syncs once to receive the territories,
 *   1. finds the demo customer EMB-1 (creates it in the rep's first
 *      territory if HQ has none),
 *   2. logs a done visit with one order line and writes NOTE on the
 *      customer card, all in one transaction,
 *   3. syncs with HQ, printing progress and the summary,
 *   4. prints the open conflicts (the same field changed at HQ and here).
 * Exit status: 0 synced, 1 synced but HQ refused records, 2 usage,
 * 3 and above: the failing call's error (as the `fieldsync` command does).
 *
 * Build against an installed fieldsync:
 *   cc -o embed embed.c $(pkg-config --cflags --libs fieldsync)
 * or statically:
 *   cc -o embed embed.c $(pkg-config --cflags fieldsync) \
 *       $(pkg-config --static --libs fieldsync)   (with only libfieldsync.a installed)
 */
#include <fieldsync.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if FIELDSYNC_VERSION_NUMBER < 1000
#error "this example needs fieldsync 0.1.0 or later"
#endif

/* Report a failed call the way the fieldsync command does and give its
 * exit status: 1 - rc for FIELDSYNC_E* codes (3 not found, 5 store I/O, 7
 * server unreachable, 8 not authorised ...). */
static int fail(const char *what, int rc)
{
	const char *detail = fieldsync_errmsg();
	fprintf(stderr, "embed: %s: %s\n", what, *detail ? detail : fieldsync_strerror(rc));
	return rc > 0 ? rc : 1 - rc;
}

/* The value of column `name` in row `row`, "" for NULL. */
static const char *cell(const fieldsync_rows *r, int row, const char *name)
{
	const char *v = fieldsync_rows_value(r, row, fieldsync_rows_find(r, name));
	return v ? v : "";
}

static int progress(void *ctx, long pushed, long pulled)
{
	(void)ctx;
	printf("  progress: %ld sent, %ld received\n", pushed, pulled);
	return 0;	/* non-zero would stop the sync here; the next one resumes */
}

/* Enrol the store unless it already is (then receive what HQ has for the
 * rep's territories); the first territory of the rep into terr. */
static int ensure_enrolled(fieldsync_store *s, const char *url, const char *token, char terr[65])
{
	fieldsync_rows *st;
	int rc = fieldsync_status(s, &st);
	if (rc)
		return fail("status", rc);
	int enrolled = *cell(st, 0, "server") != '\0';
	fieldsync_rows_free(st);
	if (!enrolled) {
		if (!token || !strcmp(token, "-")) {
			fprintf(stderr, "embed: the store is not enrolled yet: give the enrolment TOKEN\n");
			return 2;
		}
		if ((rc = fieldsync_enroll(s, url, token, "embed-example", 0)))
			return fail("enrolment", rc);
		printf("enrolled as replica %s\n", fieldsync_replica_id(s));
		if ((rc = fieldsync_sync(s, NULL, NULL, NULL)) < 0)	/* the first pull */
			return fail("first sync", rc);
	}
	if ((rc = fieldsync_status(s, &st)))
		return fail("status", rc);
	snprintf(terr, 65, "%.*s", (int)strcspn(cell(st, 0, "territories"), ","), cell(st, 0, "territories"));
	fieldsync_rows_free(st);
	return 0;
}

/* Set a field, or say which one was refused. */
static int set(fieldsync_rec *r, const char *field, const char *value)
{
	int rc = fieldsync_rec_set(r, field, value);
	return rc ? fail(field, rc) : 0;
}

/* The customer EMB-1: found by its code, or created. */
static int demo_customer(fieldsync_store *s, const char *terr, char id[33])
{
	int rc = fieldsync_lookup(s, "customer", "EMB-1", id);
	if (rc != FIELDSYNC_ENOTFOUND)
		return rc ? fail("lookup", rc) : 0;
	fieldsync_rec *c;
	if ((rc = fieldsync_rec_new("customer", &c)))
		return fail("customer", rc);
	rc = set(c, "name", "Embedded Example Store");
	if (!rc)
		rc = set(c, "code", "EMB-1");
	if (!rc)
		rc = set(c, "territory", terr);
	if (!rc)
		rc = set(c, "grade", "B");
	if (!rc && (rc = fieldsync_insert(s, c, id)))
		rc = fail("adding the customer", rc);
	fieldsync_rec_free(c);
	if (!rc)
		printf("created customer EMB-1 in %s\n", terr);
	return rc;
}

/* One visit report: the visit, an order line and a note on the customer,
 * in one transaction - all of it or nothing reaches the store. */
static int log_visit(fieldsync_store *s, const char *cust, const char *note)
{
	fieldsync_rec *v = NULL, *line = NULL, *card = NULL;
	char vid[33], lid[33];
	int rc = fieldsync_begin(s);
	if (rc)
		return fail("begin", rc);
	if ((rc = fieldsync_rec_new("visit", &v)) || (rc = fieldsync_rec_new("order_line", &line)) ||
	    (rc = fieldsync_rec_new("customer", &card))) {
		rc = fail("records", rc);
		goto out;
	}
	if ((rc = set(v, "customer_id", cust)) || (rc = set(v, "status", "done")) ||
	    (rc = set(v, "check_out", "now")) || (rc = set(v, "outcome", "Order for the next month")))
		goto out;
	if ((rc = fieldsync_insert(s, v, vid))) {
		rc = fail("logging the visit", rc);
		goto out;
	}
	if ((rc = set(line, "visit_id", vid)) || (rc = set(line, "customer_id", cust)) ||
	    (rc = set(line, "product", "Green tea 100g")) || (rc = set(line, "quantity", "2")) ||
	    (rc = set(line, "unit_price", "3.50")) || (rc = set(line, "amount", "7.00")))
		goto out;
	if ((rc = fieldsync_insert(s, line, lid))) {
		rc = fail("adding the order line", rc);
		goto out;
	}
	if ((rc = set(card, "notes", note)))
		goto out;
	if ((rc = fieldsync_update(s, cust, card))) {
		rc = fail("updating the customer", rc);
		goto out;
	}
	if ((rc = fieldsync_commit(s)))
		rc = fail("commit", rc);
	else
		printf("logged visit %.8s with 1 order line\n", vid);
out:
	if (rc)
		fieldsync_rollback(s);	/* nothing of the report stays */
	fieldsync_rec_free(v);
	fieldsync_rec_free(line);
	fieldsync_rec_free(card);
	return rc;
}

static int sync_and_report(fieldsync_store *s)
{
	fieldsync_rows *sum = NULL, *k;
	int rc = fieldsync_sync(s, progress, NULL, &sum);
	if (sum) {
		printf("sync: %s pushed (%s accepted, %s rejected), %s pulled, %s requests\n", cell(sum, 0, "pushed"),
		       cell(sum, 0, "accepted"), cell(sum, 0, "rejected"), cell(sum, 0, "pulled"),
		       cell(sum, 0, "requests"));
		fieldsync_rows_free(sum);
	}
	if (rc < 0)
		return fail("sync", rc);
	if (rc == 1)
		printf("HQ refused some records; fieldsync_quarantine() lists them\n");
	int qrc = fieldsync_conflicts(s, 0, &k);
	if (qrc)
		return fail("conflicts", qrc);
	int n = fieldsync_rows_count(k);
	printf("%d open conflict%s\n", n, n == 1 ? "" : "s");
	for (int i = 0; i < n; i++)
		printf("  conflict %.8s: %s.%s kept '%s', the other value was '%s'\n", cell(k, i, "id"),
		       cell(k, i, "table"), cell(k, i, "field"), cell(k, i, "current"), cell(k, i, "other"));
	fieldsync_rows_free(k);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: embed STORE SERVER_URL [TOKEN [NOTE]]\n");
		return 2;
	}
	printf("libfieldsync %s (built against %s)\n", fieldsync_version(), FIELDSYNC_VERSION);
	fieldsync_store *s;
	int rc = fieldsync_open(argv[1], FIELDSYNC_OPEN_CREATE, &s);
	if (rc)
		return fail(argv[1], rc);
	char terr[65], cust[33];
	rc = ensure_enrolled(s, argv[2], argc > 3 ? argv[3] : NULL, terr);
	if (rc == 0)
		rc = demo_customer(s, terr, cust);
	if (rc == 0)
		rc = log_visit(s, cust, argc > 4 ? argv[4] : "visited by the embedding example");
	if (rc == 0)
		rc = sync_and_report(s);
	fieldsync_close(s);
	return rc;
}
