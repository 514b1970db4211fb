/*
 * mutate - real edits on a store through the public API, for benchmarks:
 *   tools/mutate --db STORE --edits N [--seed S] [--table customer|visit]
 * N random live records of the table get one field changed each, in one
 * transaction, as the CLI would write them (versioned, in the change log).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldsync.h"
#include "clikit.h"

int main(int argc, char **argv)
{
	const char *db = NULL, *table = "customer";
	long edits = 100;
	unsigned long long seed = 1;
	struct kit_args o;
	const char *ov;
	kit_args_init(&o, "mutate", NULL, argc, argv, 1, NULL, NULL);
	while (kit_next(&o) > 0) {
		if (kit_take(&o, "db", &ov)) db = ov;
		else if (kit_take(&o, "edits", &ov)) edits = atol(ov);
		else if (kit_take(&o, "seed", &ov)) seed = strtoull(ov, NULL, 10);
		else if (kit_take(&o, "table", &ov)) table = ov;
		else if (!o.bad) kit_unknown(&o);
	}
	if (o.bad || !db || edits < 0 || (strcmp(table, "customer") && strcmp(table, "visit"))) {
		fprintf(stderr, "usage: mutate --db STORE --edits N [--seed S] [--table customer|visit]\n");
		return 2;
	}
	fieldsync_store *s;
	fieldsync_rows *r;
	if (fieldsync_open(db, 0, &s) || fieldsync_list(s, table, NULL, NULL, &r)) {
		fprintf(stderr, "mutate: %s\n", fieldsync_errmsg());
		return 1;
	}
	int n = fieldsync_rows_count(r), rc = fieldsync_begin(s);
	for (long k = 0; rc == 0 && n > 0 && k < edits; k++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		const char *id = fieldsync_rows_value(r, (int)((seed >> 33) % (unsigned long long)n), 0);
		char val[64];
		fieldsync_rec *e;
		snprintf(val, sizeof val, "edit %llu", seed >> 40);
		fieldsync_rec_new(table, &e);
		fieldsync_rec_set(e, strcmp(table, "visit") ? "notes" : "outcome", val);
		rc = fieldsync_update(s, id, e);
		fieldsync_rec_free(e);
	}
	if (rc == 0)
		rc = fieldsync_commit(s);
	else
		fieldsync_rollback(s);
	if (rc)
		fprintf(stderr, "mutate: %s\n", fieldsync_errmsg());
	fieldsync_rows_free(r);
	fieldsync_close(s);
	return rc ? 1 : 0;
}
