/* router.c - HQ's HTTP requests: admission, routing, health, the device endpoints' replies. */
#include "hq_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "query.h"
#include "rowcodec.h"
#include "reply.h"
#include "wire.h"
#include "web.h"
#include "router.h"

/* ---- the HTTP handler ---- */

/* 401 revoked, with "wipe" for a device revoked for erasure and "kept"
 * (when >= 0) for the records it handed in. */
static void reply_revoked(struct hq_response *resp, const struct hq_device *d, int kept, int stored)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "error", "revoked");
	cJSON_AddStringToObject(e, "message", "this device was revoked by HQ");
	cJSON_AddBoolToObject(e, "wipe", d->wipe);
	if (kept >= 0) {
		cJSON_AddNumberToObject(e, "kept", kept);
		cJSON_AddNumberToObject(e, "stored", stored);
	}
	hq_reply_json(resp, 401, e);
}

/* The one routing table: what a path is, and whether its method is right
 * (else resp holds the 404 or 405). Used from the headers (hq_admit) and
 * again with the body (hq_handle), which may be called without admission. */
enum route { R_REFUSED, R_ADMIN, R_HEALTH, R_ENROLL, R_PUSH, R_PULL };

static enum route route(const struct hq_request *req, struct hq_response *resp)
{
	static const struct {
		const char *path, *method;
		enum route r;
	} routes[] = {
		{ "/v1/health", "GET", R_HEALTH },
		{ "/v1/enroll", "POST", R_ENROLL },
		{ "/v1/push", "POST", R_PUSH },
		{ "/v1/pull", "POST", R_PULL },
	};
	if (!strncmp(req->path, "/admin", 6) && (req->path[6] == '\0' || req->path[6] == '/'))
		return R_ADMIN;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (strcmp(req->path, routes[i].path))
			continue;
		if (!strcmp(req->method, routes[i].method))
			return routes[i].r;
		hq_response_error(resp, 405, "method_not_allowed", "use %s", routes[i].method);
		return R_REFUSED;
	}
	hq_response_error(resp, 404, "not_found", "no such endpoint");
	return R_REFUSED;
}

int hq_admit(void *ctx, const struct hq_request *req, struct hq_admission *adm, struct hq_response *resp)
{
	struct hq *h = ctx;
	struct hq_device d;
	struct hq_db *db = NULL;

	enum route r = route(req, resp);
	int push = r == R_PUSH;
	if (r == R_REFUSED)
		return 1;
	if (r == R_ADMIN)
		return hq_web_admit(h, req, adm, resp);
	if (r == R_HEALTH) {
		adm->max_body = adm->max_inflated = 0;
		return 0;
	}
	if (r == R_ENROLL) {
		/* anyone may try a token: the body stays small */
		adm->max_body = adm->max_inflated = HQ_SMALL_BODY;
		return 0;
	}
	/* Only an enrolled device makes HQ hold a sync body (up to max_body):
	 * its token is looked up now, from the headers. hq_handle looks again
	 * (the device may be revoked meanwhile). */
	int rc = hq_acquire(h, &db);
	if (rc == 0) {
		rc = hq_auth(h, db, req->token, &d);
		hq_release(h, db);
	}
	if (rc == 0)
		return 0;
	if (rc == FIELDSYNC_EAUTH && d.revoked) {
		if (d.wipe && push)
			return 0;	/* it hands in its records before it wipes itself */
		reply_revoked(resp, &d, -1, 0);
	} else if (rc == FIELDSYNC_EAUTH) {
		hq_response_error(resp, 401, "unauthorized", "%s", fs_errmsg_get());
	} else {
		hq_reply_rc(resp, rc, "authentication");
	}
	return 1;
}

int hq_handle(void *ctx, const struct hq_request *req, struct hq_response *resp)
{
	struct hq *h = ctx;
	const char *code;
	struct hq_device d;
	struct hq_db *db = NULL;
	cJSON *body = NULL, *out;
	int rc;

	enum route r = route(req, resp);
	int enroll = r == R_ENROLL, push = r == R_PUSH;	/* else R_PULL */
	if (r == R_REFUSED)
		return 0;
	if (r == R_ADMIN)
		return hq_web_handle(h, req, resp);	/* the dashboard (web.c) */
	if (r == R_HEALTH) {
		/* anyone may ask whether HQ is up; what it runs is for admins
		 * (/admin/api/health, hq_health_details) */
		out = cJSON_CreateObject();
		cJSON_AddNumberToObject(out, "v", FS_PROTOCOL);
		cJSON_AddStringToObject(out, "status", "ok");
		hq_reply_json(resp, 200, out);
		return 0;
	}
	body = fs_wire_parse(req->body, req->body_len, FS_WIRE_MAX_DEPTH, &code);
	if (!body) {
		hq_response_error(resp, 400, code, "%s", fs_errmsg_get());
		return 0;
	}
	if ((rc = fs_wire_check_version(body))) {
		hq_response_error(resp, 400, "protocol_version", "%s", fs_errmsg_get());
		cJSON_Delete(body);
		return 0;
	}
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "v", FS_PROTOCOL);
	cJSON_AddNumberToObject(out, "schema", FS_SCHEMA_VERSION);	/* the fields HQ knows */
	if (enroll) {
		rc = hq_enroll(h, fs_wire_str(body, "token"), fs_wire_str(body, "name"), fs_wire_str(body, "nonce"),
			       fs_wire_str(body, "app_version"), out);
		if (rc == FIELDSYNC_EAUTH)
			hq_response_error(resp, 403, "bad_enroll_token", "%s", fs_errmsg_get());
		else if (rc)
			hq_reply_rc(resp, rc, "enrolment");
		else
			hq_reply_json(resp, 200, out), out = NULL;
		goto done;
	}
	if ((rc = hq_acquire(h, &db))) {
		hq_reply_rc(resp, rc, "store");
		goto done;
	}
	rc = hq_auth(h, db, req->token, &d);
	if (rc == FIELDSYNC_EAUTH) {
		if (d.revoked) {
			const cJSON *recs = cJSON_GetObjectItemCaseSensitive(body, "records");
			int kept = -1, stored = 0;
			if (d.wipe && push && cJSON_IsArray(recs) && hq_keep_for_review(h, db, &d, recs, &kept, &stored) != 0)
				kept = -1;
			reply_revoked(resp, &d, kept, stored);
		} else {
			hq_response_error(resp, 401, "unauthorized", "%s", fs_errmsg_get());
		}
		goto done;
	}
	if (rc) {
		hq_reply_rc(resp, rc, "authentication");
		goto done;
	}
	if (fs_wire_schema(body, &d.schema)) {
		hq_response_error(resp, 400, "bad_request", "%s", fs_errmsg_get());
		goto done;
	}
	if (push) {
		const cJSON *recs = cJSON_GetObjectItemCaseSensitive(body, "records");
		cJSON *results;
		int acc, rej;
		if (!cJSON_IsArray(recs)) {
			hq_response_error(resp, 400, "bad_request", "\"records\" must be an array");
			goto done;
		}
		hq_release(h, db);	/* hq_push takes its own connection */
		db = NULL;
		rc = hq_push(h, &d, recs, fs_wire_str(body, "hq_id"), &results, &acc, &rej);
		if (rc == FIELDSYNC_ELIMIT) {
			hq_response_error(resp, 413, "batch_too_large", "%s", fs_errmsg_get());
			goto done;
		}
		if (rc) {
			hq_reply_rc(resp, rc, "push");
			goto done;
		}
		cJSON_AddItemToObject(out, "results", results);
		cJSON_AddNumberToObject(out, "accepted", acc);
		cJSON_AddNumberToObject(out, "rejected", rej);
		resp->records = acc + rej;
		hq_reply_json(resp, 200, out);
		out = NULL;
		if (hq_acquire(h, &db) == 0)
			hq_touch_device(h, db, &d, 0, 0, body);
	} else {
		int64_t limit = h->lim.def_page;
		int nrec;
		if (cJSON_GetObjectItemCaseSensitive(body, "limit") &&
		    fs_wire_int(body, "limit", 1, h->lim.max_page, &limit)) {
			hq_response_error(resp, 400, "bad_request", "\"limit\" must be 1..%d", h->lim.max_page);
			goto done;
		}
		int64_t catalogue = -1;	/* the price list's mark the device holds; none: it keeps none */
		if (cJSON_GetObjectItemCaseSensitive(body, "catalogue") &&
		    fs_wire_int(body, "catalogue", 0, FS_INT_MAX_EXACT, &catalogue)) {
			hq_response_error(resp, 400, "bad_request", "\"catalogue\" must be a sequence number");
			goto done;
		}
		rc = hq_pull(h, db, &d, cJSON_GetObjectItemCaseSensitive(body, "cursor"),
			     cJSON_GetObjectItemCaseSensitive(body, "resync"), catalogue, (int)limit, out, &nrec);
		if (rc) {
			hq_reply_rc(resp, rc, "pull");
			goto done;
		}
		int more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "more"));
		resp->records = nrec;
		hq_reply_json(resp, 200, out);
		out = NULL;
		hq_touch_device(h, db, &d, !more, 1, body);
	}
done:
	if (db)
		hq_release(h, db);
	cJSON_Delete(out);
	cJSON_Delete(body);
	return 0;
}

