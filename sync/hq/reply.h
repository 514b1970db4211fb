/*
 * reply.h - how HQ answers over HTTP, for every part that answers (the
 * device endpoints in router.c, the dashboard in web.c): a JSON document,
 * or an error code mapped to its status by the one table in reply.c.
 */
#ifndef FS_HQ_REPLY_H
#define FS_HQ_REPLY_H

#include <cjson/cJSON.h>
#include "server.h"

/* `doc` as the body with `status` (doc is consumed; NULL or out of memory:
 * 500). */
void hq_reply_json(struct hq_response *r, int status, cJSON *doc);
/* The error `rc` (FIELDSYNC_E*) with fs_errmsg_get() as the message:
 *   EINVAL 400 bad_request      EPROTO 400 protocol_version
 *   EAUTH 401 unauthorized      ENOTFOUND 404 not_found
 *   ESTATE 409 conflict         ELIMIT 413 limit
 *   EBUSY 503 busy (Retry-After: 1)
 *   anything else 500 internal, "WHAT failed: message". */
void hq_reply_rc(struct hq_response *r, int rc, const char *what);

#endif
