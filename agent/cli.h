/*
 * cli.h - what every `fieldsync` subcommand shares: the global options, the
 * open store, argument scanning and the exit-code convention.
 *
 * Exit codes (documented in README and fieldsync(1)):
 *   0 ok, 1 finished with problems (e.g. sync with rejected records),
 *   2 invalid input or usage, 3 not found, then 1 - rc for every other
 *   FIELDSYNC_E* code (4 out of memory, 5 store I/O, 6 newer store,
 *   7 server unreachable, 8 not authorised, 9 protocol, 10 busy, 11 state,
 *   12 limit, 13 server error, 14 timeout).
 */
#ifndef AGENT_CLI_H
#define AGENT_CLI_H

#include <stdio.h>
#include "fieldsync.h"
#include "clikit.h"

struct cli {
	const char *db;		/* --db or NULL for the default */
	const char *cacert;	/* --cacert FILE ("": forget it), saved in the store; NULL: not given */
	int json;		/* --json */
	int csv;		/* --csv */
	int quiet;
	fieldsync_store *s;
};

/* Command entry: argv[0] is the command name; returns the exit code. */
typedef int (*cmd_fn)(struct cli *c, int argc, char **argv);

int cmd_customer(struct cli *c, int argc, char **argv);
int cmd_contact(struct cli *c, int argc, char **argv);
int cmd_plan(struct cli *c, int argc, char **argv);
int cmd_visit(struct cli *c, int argc, char **argv);
int cmd_today(struct cli *c, int argc, char **argv);
int cmd_route(struct cli *c, int argc, char **argv);
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_sync(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_conflicts(struct cli *c, int argc, char **argv);
int cmd_quarantine(struct cli *c, int argc, char **argv);
int cmd_products(struct cli *c, int argc, char **argv);
/* --retry-for SECONDS into ms (cmd_sync.c); 2 with a message if bad. */
int cli_retry_for(const char *v, long *ms);
/* A retry of a request to HQ, shown on a terminal. */
void cli_retry_notice(void *ctx, int attempt, long wait_ms, const char *why);
int cmd_report(struct cli *c, int argc, char **argv);
int cmd_due(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_schedule(struct cli *c, int argc, char **argv);
int cmd_purge(struct cli *c, int argc, char **argv);
int cmd_repair(struct cli *c, int argc, char **argv);
int cmd_dispute(struct cli *c, int argc, char **argv);

/* Open the store (creating it when `create`); prints the error itself. */
int cli_open(struct cli *c, int create);
/* Print "fieldsync: <detail>" for rc and return its exit code. */
int cli_fail(int rc);
/* Usage error: prints the message and the hint to --help; returns 2. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Scan a command's words with the kit (clikit.h): argv[0] is the command,
 * scanning starts at argv[1]; the global options (--json, --csv, --db,
 * --cacert) are taken anywhere into c. */
void cli_args(struct kit_args *a, struct cli *c, int argc, char **argv);
extern const struct kit_globals cli_globals;
#define cli_pick(cmd, sub, names) kit_pick("fieldsync", cmd, sub, names)
/* The struct cli behind a scan. */
#define CLI_OF(a) ((struct cli *)(a)->ctx)

/* Print rows per the global format, with `cols` for the human table. */
int cli_print(struct cli *c, fieldsync_rows *r, const char *cols);
/* Resolve a user-typed id of `table`; prints the error itself. */
int cli_lookup(struct cli *c, const char *table, const char *key, char id[33]);
/* Set "field" from an option on a record, or print why not. */
int cli_set(fieldsync_rec *r, const char *field, const char *value);
/* For commands made of named options only: the value of option names[i]
 * goes to vals[i] (names NULL-terminated, may be NULL). --help prints `help`.
 * Returns 0 to go on, CLI_HELPED after --help, or 2 after a usage error. */
#define CLI_HELPED (-1)
int cli_options(struct cli *c, int argc, char **argv, const char *help, const char *const *names,
		const char **vals);

/* Generic record subcommands (records.c). */
int rec_fields(struct kit_args *a, const char *table, fieldsync_rec *r, const char **id);
int rec_one_id(struct kit_args *a, const char **key);
int rec_add(struct cli *c, struct kit_args *a, const char *table, const char *parent_field);
int rec_edit(struct cli *c, struct kit_args *a, const char *table);
int rec_delete(struct cli *c, struct kit_args *a, const char *table);
int rec_list(struct cli *c, struct kit_args *a, const char *table, const char *cols, const char *parent_field);
int rec_wants_help(int argc, char **argv);

/* A contact of customer `cust` by id prefix or exact name (cmd_plan.c). */
int find_contact(struct cli *c, const char *cust, const char *key, char id[33]);

/* `customer import FILE [--dry-run]` (cmd_csv.c); a is past the subcommand. */
int cmd_customer_import(struct cli *c, struct kit_args *a);

/* Print the fields a record type takes (for --help). */
void cli_print_fields(const char *table);

#endif
