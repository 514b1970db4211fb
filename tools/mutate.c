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

int main(int argc, char **argv)
{
	const char *db = NULL, *table = "customer";
	long edits = 100;
	unsigned long long seed = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--db")) db = argv[i + 1];
		else if (!strcmp(argv[i], "--edits")) edits = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--table")) table = argv[i + 1];
		else break;
	}
	if (!db || edits < 0 || (strcmp(table, "customer") && strcmp(table, "visit"))) {
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
