/*
 * fuzz_csv - libFuzzer target for the customer CSV import reader
 * (formats/import.c on libcsv): any bytes as a file. An accepted file must
 * give rows in file order (line numbers never go back; they count LF, so
 * records split by bare CRs share one), none before line 1; a refused one
 * an error message saying why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "import.h"
#include "reg.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *fp = fmemopen((void *)data, size, "r");
	if (!fp)
		return 0;
	struct fs_import im;
	int rc = fs_import_read(fp, &fs_tbl_customer, 0, &im);
	fclose(fp);
	if (rc == 0) {
		int prev = 1;
		for (int i = 0; i < im.n; i++) {
			if (im.rows[i].line < prev)
				abort();	/* rows out of file order */
			prev = im.rows[i].line;
		}
		if (im.n > FS_IMPORT_MAX_ROWS)
			abort();
	} else if (!fs_errmsg_get()[0]) {
		abort();	/* a refusal says why */
	}
	fs_import_release(&im);
	return 0;
}
