/* test_ledger.c - grade intervals, report periods, and the CSV import parser's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "due.h"
#include "fieldsync.h"
#include "import.h"
#include "report.h"
#include "util.h"

static void test_due(void **state)
{
	(void)state;
	struct fs_due d;
	char buf[64];
	int due;
	assert_int_equal(fs_due_parse(NULL, &d), 0);
	fs_due_format(&d, buf, sizeof buf);
	assert_string_equal(buf, "A=7,B=14,C=30,VIP=7,none=30");
	assert_int_equal(fs_due_parse("b=20, none=45", &d), 0);
	assert_int_equal(fs_due_interval(&d, "B"), 20);
	assert_int_equal(fs_due_interval(&d, NULL), 45);
	assert_int_equal(fs_due_interval(&d, "X"), 45);
	assert_int_equal(fs_due_interval(&d, "A"), 7);
	const char *bad[] = { "A=0", "A=3651", "D=7", "A", "A=7x", "=7", "A=-1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(fs_due_parse(bad[i], &d), FIELDSYNC_EINVAL);
		assert_int_equal(fs_due_interval(&d, "A"), 7);	/* a refused value leaves the defaults */
	}
	assert_int_equal(fs_due_parse("A=10", &d), 0);
	assert_int_equal(fs_due_check_in(&d, "A", "2026-11-01", "2026-11-10", &due), 0);
	assert_int_equal(due, 0);
	assert_int_equal(fs_due_check_in(&d, "A", "2026-11-01", "2026-11-11", &due), 0);
	assert_int_equal(due, 1);
	assert_int_equal(fs_due_check_in(&d, "A", NULL, "2026-11-11", &due), 0);
	assert_int_equal(due, 1);
	assert_int_equal(fs_due_check_in(&d, "A", NULL, "11/11/2026", &due), FIELDSYNC_EINVAL);
}

static void test_period(void **state)
{
	(void)state;
	struct fs_period p;
	assert_int_equal(fs_period_month("2026-12", &p), 0);
	assert_string_equal(p.from, "2026-12-01");
	assert_string_equal(p.to, "2027-01-01");
	assert_int_equal(fs_period_month("2026-02", &p), 0);
	assert_string_equal(p.to, "2026-03-01");
	assert_int_equal(fs_period_month(NULL, &p), 0);
	assert_string_equal(p.from, "0000-01-01");
	const char *bad[] = { "2026-13", "2026-1", "2026-011", "26-01", "2026/01", "abcd-ef" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(fs_period_month(bad[i], &p), FIELDSYNC_EINVAL);
}

/* Parse CSV text; rc, and the error message in msg. */
static int parse(const char *text, struct fs_import *im, char *msg, size_t n)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(fp);
	int rc = fs_import_read(fp, &fs_tbl_customer, 0, im);
	fclose(fp);
	snprintf(msg, n, "%s", rc ? fs_errmsg_get() : "");
	return rc;
}

static void test_import_parse(void **state)
{
	(void)state;
	struct fs_import im;
	char msg[256];
	/* BOM, CRLF, quotes, a quoted newline, a blank line; lines counted from the header */
	assert_int_equal(parse("\xef\xbb\xbf" "Code,name,Territory\r\nA1,\"x, \"\"y\"\"\",T\r\n"
			       "A2,\"two\nlines\",T\r\n\r\nA3,z,T", &im, msg, sizeof msg), 0);
	assert_int_equal(im.n, 3);
	assert_int_equal(im.rows[0].line, 2);
	assert_int_equal(im.rows[1].line, 3);
	assert_int_equal(im.rows[2].line, 6);
	assert_string_equal(im.rows[0].code, "A1");
	int nf = fs_field_find(&fs_tbl_customer, "name");
	assert_string_equal(im.rows[0].c.v[nf].s, "x, \"y\"");
	assert_string_equal(im.rows[1].c.v[nf].s, "two\nlines");
	fs_import_release(&im);

	static const struct {
		const char *csv, *msg;
	} bad[] = {
		{ "code,name\nA1,x\nA2,y,z\n", "line 3: more cells" },
		{ "code,name,grade\nA1,x,A\n\"A2\",\"m\nn\",Q\n", "line 3: grade: 'Q'" },
		{ "name\nx\n", "line 1: the header has no column 'code'" },
		{ "code,code\n", "line 1: column 'code' appears twice" },
		{ "code,deleted\n", "line 1: unknown column 'deleted'" },
		{ "code,name\nA1,x\nA1,y\n", "line 3: code 'A1' is already on line 2" },
		{ "code,name\n,x\n", "line 2: code is empty" },
		{ "code,name\nA1,\"x\n", "line 2: not valid CSV" },
		{ "code,name\nA1,x\"y\n", "line 2: not valid CSV" },
		{ "", "line 1: the file is empty" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i].csv, &im, msg, sizeof msg), FIELDSYNC_EINVAL);
		if (strncmp(msg, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("case %zu: '%s' does not start with '%s'", i, msg, bad[i].msg);
		assert_int_equal(im.n, 0);
	}
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_import_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
