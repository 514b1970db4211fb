/*
 * web.h - the HQ dashboard served by fieldsyncd under /admin/.
 *
 * Pages (HTML/CSS/JS from sync/hq/web/, compiled into the binary by the
 * Makefile: no file is read at run time and nothing comes from the
 * network) and their JSON twins under /admin/api/, which the pages use:
 *
 *   /admin/            overview          /admin/api/summary
 *   /admin/devices     devices           /admin/api/devices
 *   /admin/quarantine  refused writes    /admin/api/quarantine   POST .../quarantine/decide
 *   /admin/conflicts   clashes           /admin/api/conflicts    POST .../conflicts/resolve
 *   /admin/visits      planned vs done   /admin/api/visits?month=YYYY-MM
 *   /admin/customers   grade/territory   /admin/api/customers?territory=&grade=&overdue=1&date=
 *   /admin/map         territory map     /admin/api/map?territory=T&date=D
 *   /admin/log         decision log      /admin/api/log
 *                                        /admin/api/me (who, CSRF token)
 *                                        /admin/api/health (what HQ runs, memory)
 *
 * Security:
 *  - Admins are created with `fieldsyncd admin add NAME`, which prints a
 *    random password once; HQ keeps its Argon2id hash (crypto_pwhash_str).
 *  - Login (POST /admin/login, an HTML form) is itself protected against
 *    cross-site requests: GET /admin/login sets a random `fs_login` cookie
 *    (SameSite=Strict) and puts the same value in the form; both must match.
 *    A wrong name or password answers 401, which the server's limiter of
 *    failed authentications counts per client address. Each name, whether
 *    an admin has it or not, may fail HQ_LOGIN_FAIL_LIMIT times in
 *    HQ_LOGIN_FAIL_WINDOW_S; then every login with it answers 429 until
 *    the window ends. The password hash (Argon2id, 64 MiB) is checked on
 *    the server's work pool, never on a connection thread: a full pool
 *    answers 503 and sync requests do not wait behind logins.
 *  - Every request is admitted from its headers (hq_web_admit): GET and
 *    HEAD send no body, the login form at most HQ_LOGIN_MAX_BODY, and any
 *    other POST needs a valid session and its CSRF token before its body
 *    (at most HQ_ADMIN_MAX_BODY) is read.
 *  - Pages are served with a Content-Security-Policy that allows only this
 *    server's own scripts, styles and images (none inline) and no framing.
 *  - A session is 32 random bytes in the `fs_admin` cookie (HttpOnly,
 *    SameSite=Strict, Path=/admin, Secure when served over TLS), valid 12 h;
 *    HQ stores only its BLAKE2b hash. The CSRF token is a keyed hash of the
 *    session id (so it is tied to the session and never stored); every POST
 *    under /admin/ except the login must carry it in X-CSRF-Token (403).
 *  - Any /admin request that carries a device token (Authorization: Bearer)
 *    is refused with 401 before anything else: device tokens never open the
 *    dashboard, and the sync endpoints never accept the admin cookie.
 *  - Pages without a session redirect to /admin/login; API calls get 401.
 */
#ifndef FS_HQ_WEB_H
#define FS_HQ_WEB_H

#include <stddef.h>
#include "backend.h"
#include "hq.h"
#include "server.h"
#include "util.h"

/* One embedded file (generated: build/.../gen/web_assets.c). */
struct hq_asset {
	const char *name;	/* file name under sync/hq/web/, e.g. "app.js" */
	const char *type;	/* Content-Type */
	const unsigned char *data;
	size_t len;
};
extern const struct hq_asset hq_assets[];
extern const int hq_nassets;

/* Every request whose path is /admin or starts with /admin/. */
int hq_web_handle(struct hq *h, const struct hq_request *req, struct hq_response *resp);
/* Admission (hq_admit_fn) of the same requests, from their headers. */
#define HQ_LOGIN_MAX_BODY 4096
#define HQ_ADMIN_MAX_BODY (64 * 1024)
int hq_web_admit(struct hq *h, const struct hq_request *req, struct hq_admission *adm, struct hq_response *resp);
#define HQ_LOGIN_FAIL_LIMIT 30
#define HQ_LOGIN_FAIL_WINDOW_S 900

/* The dashboard's tables in the HQ schema (admins, admin_sessions, decisions). */
extern const struct hq_part hq_web_part;

/* Administrators. `password` receives a new random password (shown once). */
#define HQ_ADMIN_PW_LEN 24
int hq_admin_add(struct hq *h, const char *name, char password[HQ_ADMIN_PW_LEN]);
/* A new password for an existing admin; every open session of theirs ends. */
int hq_admin_reset(struct hq *h, const char *name, char password[HQ_ADMIN_PW_LEN]);
int hq_admin_remove(struct hq *h, const char *name);
int hq_admin_list(struct hq *h, struct fieldsync_rows **out);
/* The decision log (quarantine decisions, conflicts resolved from the dashboard). */
int hq_decision_list(struct hq *h, struct fieldsync_rows **out);

#endif
