/*
 * fuzz_wire - libFuzzer target for the sync wire format: everything a peer
 * sends goes through fs_wire_parse(); pushed records and pulled changes
 * then through fs_wire_rec_decode(). Encoding a decoded record again must
 * give a record that decodes (round trip).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"

static void records(const cJSON *arr)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) {
		struct fs_rec r;
		if (fs_wire_rec_decode(e, &r) == 0) {
			/* what we encode, we must read back: through the text, as
			 * the peer gets it (the encoder writes raw numbers) */
			cJSON *again = fs_wire_rec_encode(&r, "T", FS_SCHEMA_VERSION);
			char *txt = again ? cJSON_PrintUnformatted(again) : NULL;
			const char *code = NULL;
			cJSON *back = txt ? fs_wire_parse(txt, strlen(txt), FS_WIRE_MAX_DEPTH, &code) : NULL;
			struct fs_rec r2;
			if (!back || fs_wire_rec_decode(back, &r2)) {
				fprintf(stderr, "round trip: %s\n%s\n", fs_errmsg_get(), txt ? txt : "");
				abort();
			}
			fs_rec_release(&r2);
			cJSON_Delete(back);
			free(txt);
			cJSON_Delete(again);
		}
		fs_rec_release(&r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *code = NULL;
	cJSON *j = fs_wire_parse((const char *)data, size, FS_WIRE_MAX_DEPTH, &code);
	if (!j)
		return 0;
	(void)fs_wire_check_version(j);
	records(cJSON_GetObjectItemCaseSensitive(j, "records"));
	records(cJSON_GetObjectItemCaseSensitive(j, "changes"));
	int64_t v;
	(void)fs_wire_int(j, "limit", 1, 5000, &v);
	struct fs_vv vv = { 0 };
	(void)fs_wire_vv_decode(cJSON_GetObjectItemCaseSensitive(j, "vv"), &vv);
	fs_vv_release(&vv);	/* a failed decode may have filled part of it */
	cJSON_Delete(j);
	return 0;
}
