/*
 * router.h - HQ over HTTP: the one router for every request fieldsyncd
 * serves (the device endpoints, health, the dashboard's pages under
 * /admin), with one error-to-status table. The top floor of HQ: it calls
 * down into the endpoints and the dashboard, nothing calls up into it.
 */
#ifndef FS_HQ_ROUTER_H
#define FS_HQ_ROUTER_H

#include <cjson/cJSON.h>
#include "hq.h"
#include "server.h"

/* The HTTP handler for hq_server_opts (ctx = struct hq *). */
int hq_handle(void *ctx, const struct hq_request *req, struct hq_response *resp);
/* Admission for hq_server_opts, from a request's headers: known paths and
 * methods only; /v1/push and /v1/pull only with the token of an enrolled
 * device (checked against the store), /v1/enroll with HQ_SMALL_BODY at
 * most, /admin as hq_web_admit() says. */
#define HQ_SMALL_BODY 4096
int hq_admit(void *ctx, const struct hq_request *req, struct hq_admission *adm, struct hq_response *resp);
#endif
