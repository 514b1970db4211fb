/*
 * fuzz_fields - libFuzzer target for the validators behind every CLI
 * argument and API value: fs_field_parse() for each field of the registry
 * (user and wire forms), and the date, time, number, money, replica id and
 * dot parsers. Input: byte 0 picks the table, byte 1 the field, byte 2 the
 * mode; the rest is the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "reg.h"
#include "record.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3 || size > 1 << 16)
		return 0;
	const struct fs_table *t = fs_tables[data[0] % fs_ntables];
	const struct fs_field *f = &t->fields[data[1] % t->nfields];
	int mode = data[2] & 1 ? FS_PARSE_USER : 0;
	char *text = malloc(size - 2);
	if (!text)
		return 0;
	memcpy(text, data + 3, size - 3);
	text[size - 3] = '\0';
	struct fs_val v = { 0 };
	if (fs_field_parse(f, text, mode, &v) == 0)
		fs_val_release(&v);
	int y, m, d, h, mi;
	int64_t i;
	double x;
	struct fs_rid rid;
	struct fs_dot dot;
	(void)fs_parse_date(text, &y, &m, &d);
	(void)fs_parse_hhmm(text, &h, &mi);
	(void)fs_parse_datetime(text, &i);
	(void)fs_parse_int(text, &i);
	(void)fs_parse_double(text, &x);
	(void)fs_parse_money(text, &i);
	(void)fs_rid_parse(text, &rid);
	(void)fs_dot_parse(text, &dot);
	free(text);
	return 0;
}
