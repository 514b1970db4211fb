/* test_clikit.c - the command-line kit: scanning, suggestions, the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "clikit.h"

static void test_suggest(void **state)
{
	(void)state;
	static const char *const cmds[] = { "customer", "contact", "conflicts", "plan", "visit", "report", "route" };
	size_t n = sizeof cmds / sizeof *cmds;
	assert_string_equal(kit_suggest("custmer", cmds, n), "customer");	/* a letter left out */
	assert_string_equal(kit_suggest("cutsomer", cmds, n), "customer");	/* two swapped */
	assert_string_equal(kit_suggest("vist", cmds, n), "visit");
	assert_string_equal(kit_suggest("reprot", cmds, n), "report");
	assert_string_equal(kit_suggest("cust", cmds, n), "customer");	/* an unambiguous beginning */
	assert_null(kit_suggest("co", cmds, n));			/* customer, contact, conflicts */
	assert_null(kit_suggest("zzzzzz", cmds, n));			/* nothing close */
	assert_null(kit_suggest("", cmds, n));
	assert_null(kit_suggest("customer", cmds, n));			/* the word itself is no typo */
	static const char *const subs[] = { "list", "add" };
	assert_string_equal(kit_suggest("lst", subs, 2), "list");
	assert_null(kit_suggest("xy", subs, 2));	/* two letters: only exact beginnings */
}

static void test_scan(void **state)
{
	(void)state;
	char *argv[] = { "cmd", "word", "--name", "v1", "--flag", "--x=y=z", "--", "--not-an-option", NULL };
	struct kit_args a;
	kit_args_init(&a, "prog", "cmd", 8, argv, 1, NULL, NULL);
	assert_int_equal(kit_next(&a), 2);
	assert_string_equal(a.word, "word");
	assert_int_equal(kit_next(&a), 1);
	assert_true(kit_is(&a, "name"));
	assert_string_equal(kit_value(&a), "v1");
	assert_int_equal(kit_next(&a), 1);
	assert_true(kit_flag(&a, "flag"));
	assert_int_equal(kit_next(&a), 1);
	assert_false(kit_is(&a, "x=y"));
	assert_true(kit_is(&a, "x"));
	assert_string_equal(kit_value(&a), "y=z");	/* the first '=' splits */
	assert_int_equal(kit_next(&a), 2);		/* after "--", words only */
	assert_string_equal(a.word, "--not-an-option");
	assert_int_equal(kit_next(&a), 0);
	assert_false(a.bad);
}

static void test_errors(void **state)
{
	(void)state;
	char *argv[] = { "cmd", "--flag=1", NULL };
	struct kit_args a;
	kit_args_init(&a, "prog", "cmd", 2, argv, 1, NULL, NULL);
	assert_int_equal(kit_next(&a), 1);
	assert_false(kit_flag(&a, "flag"));	/* a flag given a value */
	assert_true(a.bad);
	assert_int_equal(kit_next(&a), 0);	/* nothing more after an error */

	char *argv2[] = { "cmd", "--name", NULL };
	kit_args_init(&a, "prog", "cmd", 2, argv2, 1, NULL, NULL);
	assert_int_equal(kit_next(&a), 1);
	const char *v = "unchanged";
	assert_false(kit_take(&a, "name", &v));	/* the value is missing */
	assert_true(a.bad);
	assert_int_equal(kit_unknown(&a), KIT_USAGE);	/* no second message */

	char *argv3[] = { "cmd", "lst", NULL };
	static const char *const subs[] = { "add", "list", NULL };
	kit_args_init(&a, "prog", "cmd", 2, argv3, 1, NULL, NULL);
	assert_int_equal(kit_sub(&a, subs), -1);
	assert_true(a.bad);
	kit_args_init(&a, "prog", "cmd", 1, argv3, 1, NULL, NULL);
	assert_int_equal(kit_sub(&a, subs), -1);	/* none given */
	char *argv4[] = { "cmd", "list", NULL };
	kit_args_init(&a, "prog", "cmd", 2, argv4, 1, NULL, NULL);
	assert_int_equal(kit_sub(&a, subs), 1);
}

static int hits;
static int take(struct kit_args *a)
{
	if (kit_flag(a, "json")) {
		hits++;
		return 1;
	}
	return a->bad ? -1 : 0;
}

static void test_globals(void **state)
{
	(void)state;
	static const char *const names[] = { "json", NULL };
	static const struct kit_globals g = { take, names };
	char *argv[] = { "cmd", "--json", "a", "--json", "--own", NULL };
	struct kit_args a;
	hits = 0;
	kit_args_init(&a, "prog", "cmd", 5, argv, 1, &g, NULL);
	assert_int_equal(kit_next(&a), 2);	/* --json taken by the hook */
	assert_int_equal(kit_next(&a), 1);
	assert_string_equal(a.opt, "own");
	assert_int_equal(hits, 2);
	char *argv2[] = { "cmd", "--json=1", NULL };
	kit_args_init(&a, "prog", "cmd", 2, argv2, 1, &g, NULL);
	assert_int_equal(kit_next(&a), 0);	/* the hook refused it */
	assert_true(a.bad);
}

static int ran;
static int run(void *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argv;
	ran = argc;
	return 7;
}

static void test_table(void **state)
{
	(void)state;
	static const struct kit_cmd cmds[] = {
		{ "device", "devices", "d", "  device list\n", run },
		{ "plain", NULL, "p", NULL, run },
	};
	char *a1[] = { "devices", "x", NULL };
	ran = 0;
	assert_int_equal(kit_run("prog", cmds, 2, NULL, 2, a1), 7);	/* by its alias */
	assert_int_equal(ran, 2);
	char *a2[] = { "device", "--help", NULL };
	ran = 0;
	assert_int_equal(kit_run("prog", cmds, 2, NULL, 2, a2), 0);	/* its help, not the command */
	assert_int_equal(ran, 0);
	char *a3[] = { "plain", "--help", NULL };
	assert_int_equal(kit_run("prog", cmds, 2, NULL, 2, a3), 7);	/* no help text: it prints its own */
	char *a4[] = { "devcie", NULL };
	assert_int_equal(kit_run("prog", cmds, 2, NULL, 1, a4), KIT_USAGE);
	assert_null(kit_find("prog", cmds, 2, "nothing"));
	char *a5[] = { "x", "--", "--help", NULL };
	assert_false(kit_wants_help(3, a5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_globals),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
