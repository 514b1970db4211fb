/* reply.c - HQ's HTTP answers: JSON bodies and the one error-to-status table. */
#include "reply.h"

#include <string.h>
#include "fieldsync.h"
#include "util.h"

void hq_reply_json(struct hq_response *r, int status, cJSON *doc)
{
	char *txt = doc ? cJSON_PrintUnformatted(doc) : NULL;
	cJSON_Delete(doc);
	if (!txt) {
		hq_response_error(r, 500, "internal", "out of memory");
		return;
	}
	r->status = status;
	r->body = txt;
	r->body_len = strlen(txt);
}

static const struct {
	int rc, status;
	const char *code;
} statuses[] = {
	{ FIELDSYNC_EINVAL, 400, "bad_request" },
	{ FIELDSYNC_EPROTO, 400, "protocol_version" },
	{ FIELDSYNC_EAUTH, 401, "unauthorized" },
	{ FIELDSYNC_ENOTFOUND, 404, "not_found" },
	{ FIELDSYNC_ESTATE, 409, "conflict" },
	{ FIELDSYNC_ELIMIT, 413, "limit" },
	{ FIELDSYNC_EBUSY, 503, "busy" },
};

void hq_reply_rc(struct hq_response *r, int rc, const char *what)
{
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		if (statuses[i].rc != rc)
			continue;
		if (rc == FIELDSYNC_EBUSY) {
			hq_response_error(r, 503, "busy", "HQ store busy, retry");
			r->retry_after = 1;
		} else {
			hq_response_error(r, statuses[i].status, statuses[i].code, "%s", fs_errmsg_get());
		}
		return;
	}
	hq_response_error(r, 500, "internal", "%s failed: %s", what, fs_errmsg_get());
}
