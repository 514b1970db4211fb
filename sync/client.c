/*
 * client.c - the device half of sync: enrolment and the push/pull loop over
 * libcurl (see docs/protocol.md).
 *
 * Crash safety, step by step:
 *  - push reads a batch and the change-log position of each record in one
 *    read; HQ commits before it answers; the answer is recorded (change-log
 *    entries up to that position deleted, rejections quarantined) in one
 *    local transaction. A crash before that transaction resends the batch,
 *    which HQ merges to the same result (push is idempotent).
 *  - pull applies a whole page and stores the new cursor in one transaction;
 *    a crash re-pulls the same page, and merging it again changes nothing.
 *  - an eviction never removes unpushed work: a page that would is not
 *    applied; the loop pushes first and pulls again.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "api.h"
#include <sodium.h>
#include "retention.h"
#include "synctab.h"
#include "wire.h"

#define MAX_RESPONSE (256u << 20)
#define NEED_PUSH 1

struct http {
	CURL *c;
	char base[512];
	char auth[320];
	char cacert[4096];	/* stored CA file (fieldsync_set_cacert); "" = system CAs */
	long timeout_ms;
	int retries, retry_ms;
	long retry_for_ms;		/* the retry budget of one request */
	fieldsync_retry_fn notice;
	void *notice_ctx;
	long requests;
	int schema;		/* the record fields HQ knows: its last reply's "schema" (wire.h) */
	int wipe;		/* HQ answered "revoked" with a wipe request */
	long kept;		/* ... and kept this many pushed records (-1: none said) */
};

static long env_long(const char *name, long def, long lo, long hi)
{
	const char *v = getenv(name);
	int64_t x;
	if (!v || fs_parse_int(v, &x) || x < lo || x > hi)
		return def;
	return (long)x;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct fs_buf *b = ctx;
	return fs_buf_add(b, p, size * n) ? 0 : size * n;	/* 0 aborts the transfer past the cap */
}

static int http_init(struct http *h, const char *base, const char *token)
{
	static int global;
	memset(h, 0, sizeof *h);
	if (!global) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global = 1;
	}
	if (strlen(base) >= sizeof h->base || (token && strlen(token) > 256))
		return fs_err(FIELDSYNC_EINVAL, "server URL or token too long");
	if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8))
		return fs_err(FIELDSYNC_EINVAL, "server URL must start with http:// or https://");
	snprintf(h->base, sizeof h->base, "%s", base);
	size_t n = strlen(h->base);
	while (n && h->base[n - 1] == '/')
		h->base[--n] = '\0';
	if (token)
		snprintf(h->auth, sizeof h->auth, "Authorization: Bearer %s", token);
	h->timeout_ms = env_long("FIELDSYNC_TIMEOUT_MS", 60000, 100, 3600000);
	h->retries = (int)env_long("FIELDSYNC_RETRIES", 5, 0, 100);
	h->retry_ms = (int)env_long("FIELDSYNC_RETRY_MS", 500, 1, 60000);
	h->retry_for_ms = env_long("FIELDSYNC_RETRY_FOR_MS", 5000, 0, 86400000L);
	h->c = curl_easy_init();	/* one handle: the connection is kept alive across requests */
	return h->c ? 0 : fs_err(FIELDSYNC_ENOMEM, "curl init failed");
}

/* The caller's retry policy (fieldsync_set_retry) over the defaults. */
static void http_policy(struct http *h, const fieldsync_store *hs)
{
	if (hs->retry_for_ms > 0)
		h->retry_for_ms = hs->retry_for_ms;
	h->notice = hs->retry_fn;
	h->notice_ctx = hs->retry_ctx;
}

FIELDSYNC_API void fieldsync_set_retry(fieldsync_store *s, long retry_for_ms, fieldsync_retry_fn fn, void *ctx)
{
	s->retry_for_ms = retry_for_ms > 0 ? retry_for_ms : 0;
	s->retry_fn = fn;
	s->retry_ctx = ctx;
}

static long mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* curl's "... after N ms: ..." is one try's time: left out where the
 * whole is said (msg is at most n bytes). */
static void one_try_text(char *msg, size_t n, const char *from)
{
	char *a;
	snprintf(msg, n, "%s", from);
	if ((a = strstr(msg, " after ")) && strstr(a, " ms"))
		memmove(a, strstr(a, " ms") + 3, strlen(strstr(a, " ms") + 3) + 1);
}

static void http_release(struct http *h)
{
	if (h->c)
		curl_easy_cleanup(h->c);
	memset(h->auth, 0, sizeof h->auth);
}

/* The CA file kept in the store (fieldsync_set_cacert), if any. */
static int http_cacert(struct http *h, struct fs_store *s)
{
	char *ca = NULL;
	int rc = fs_meta_get(s, "cacert", &ca);
	if (rc == 0 && ca)
		snprintf(h->cacert, sizeof h->cacert, "%s", ca);
	free(ca);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One attempt. Returns 0 with *doc, or a code; *retry says whether trying
 * again can help, *wait_ms a server-requested delay. */
static int http_once(struct http *h, const char *path, const char *body, size_t len, int gz, cJSON **doc,
		     int *retry, long *wait_ms)
{
	char url[640];
	struct fs_buf resp;
	struct curl_slist *hdrs = NULL;
	long status = 0;
	int rc = 0;
	*doc = NULL;
	*retry = 0;
	*wait_ms = 0;
	snprintf(url, sizeof url, "%s%s", h->base, path);
	fs_buf_init(&resp, MAX_RESPONSE);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (gz)
		hdrs = curl_slist_append(hdrs, "Content-Encoding: gzip");
	if (h->auth[0])
		hdrs = curl_slist_append(hdrs, h->auth);
	CURL *c = h->c;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	/* a host that drops the connection attempt is given the retry budget at
	 * most (5 s by default), not the whole request timeout */
	long ct = h->timeout_ms < 10000 ? h->timeout_ms : 10000L;
	if (h->retry_for_ms >= 1000 && h->retry_for_ms < ct)
		ct = h->retry_for_ms;
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ct);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "fieldsync/" FIELDSYNC_VERSION);
	/* the environment overrides the store's setting */
	const char *ca = getenv("FIELDSYNC_CACERT");
	if (!ca || !*ca)
		ca = h->cacert[0] ? h->cacert : NULL;
	if (ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	char detail[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
	h->requests++;
	CURLcode cr = curl_easy_perform(c);
	curl_slist_free_all(hdrs);
	if (cr != CURLE_OK) {
		int tls = cr == CURLE_SSL_CACERT || cr == CURLE_PEER_FAILED_VERIFICATION || cr == CURLE_SSL_CACERT_BADFILE;
		*retry = cr != CURLE_WRITE_ERROR && !tls;
		if (cr == CURLE_WRITE_ERROR)
			rc = fs_err(FIELDSYNC_ELIMIT, "reply from HQ larger than %u bytes", MAX_RESPONSE);
		else if (tls)
			rc = fs_err(FIELDSYNC_ENET, "%s: HQ's TLS certificate could not be verified (%s)%s", h->base,
				    detail[0] ? detail : curl_easy_strerror(cr),
				    ca ? "" : "; for a private CA or a self-signed certificate give its PEM file with --cacert FILE");
		else
			rc = fs_err(cr == CURLE_OPERATION_TIMEDOUT ? FIELDSYNC_ETIMEOUT : FIELDSYNC_ENET, "%s: %s", h->base,
				    detail[0] ? detail : curl_easy_strerror(cr));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	const char *code;
	cJSON *j = resp.len ? fs_wire_parse(resp.p, resp.len, FS_WIRE_MAX_DEPTH, &code) : NULL;
	if (status == 200) {
		if (!j) {
			/* a cut or garbled reply: nothing was applied, trying again is safe */
			*retry = 1;
			rc = fs_err_wrap(FIELDSYNC_EPROTO, "malformed reply from HQ");
		} else if ((rc = fs_wire_check_version(j))) {
			cJSON_Delete(j);
		} else {
			/* an HQ that names no schema (or a bad one) knows the first fields */
			if (fs_wire_schema(j, &h->schema))
				h->schema = FS_WIRE_SCHEMA_BASE;
			fs_err_clear();
			*doc = j;
		}
		goto out;
	}
	const char *err = j ? fs_wire_str(j, "error") : NULL, *msg = j ? fs_wire_str(j, "message") : NULL;
	if (status == 429 || status == 503 || status >= 500) {
		double ra = 0;
		curl_off_t rao = 0;
		if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &rao) == CURLE_OK)
			ra = (double)rao;
		*wait_ms = (long)(ra * 1000);
		*retry = 1;
		rc = fs_err(status == 429 ? FIELDSYNC_EBUSY : FIELDSYNC_ESERVER, "HQ answered %ld%s%s", status,
			    msg ? ": " : "", msg ? msg : "");
	} else if (status == 401 || status == 403) {
		if (err && !strcmp(err, "revoked")) {
			const cJSON *kept = cJSON_GetObjectItemCaseSensitive(j, "kept");
			h->wipe = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "wipe"));
			h->kept = cJSON_IsNumber(kept) ? (long)kept->valuedouble : -1;
			rc = fs_err(FIELDSYNC_EAUTH, "this device was revoked by HQ%s", h->wipe ? " (wipe requested)" : "");
		} else
			rc = fs_err(FIELDSYNC_EAUTH, "HQ refused the token: %s", msg ? msg : "unauthorized");
	} else if (status == 413) {
		rc = fs_err(FIELDSYNC_ELIMIT, "HQ refused the request size: %s", msg ? msg : "too large");
	} else if (err && !strcmp(err, "protocol_version")) {
		rc = fs_err(FIELDSYNC_EPROTO, "protocol mismatch: %s", msg ? msg : "");
	} else {
		rc = fs_err(FIELDSYNC_EPROTO, "HQ answered %ld %s: %s", status, err ? err : "",
			    msg ? msg : "(no detail)");
	}
	cJSON_Delete(j);
out:
	/* `detail` dies with this frame: libcurl must not write there later */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	fs_buf_release(&resp);
	return rc;
}

static int http_post(struct http *h, const char *path, cJSON *body, cJSON **doc)
{
	char *txt = cJSON_PrintUnformatted(body), *gz = NULL;
	size_t len = txt ? strlen(txt) : 0, gzlen = 0;
	int rc = txt ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	/* libcurl does not compress request bodies: do it here for real payloads */
	/* level 1: JSON still shrinks ~5x, at a fraction of level 6's CPU */
	int use_gz = rc == 0 && len > 1024 && fs_gzip(txt, len, 1, &gz, &gzlen) == 0;
	long t0 = mono_ms();
	int tries = 0, retry = 0;
	for (int attempt = 0; rc == 0; attempt++) {
		long wait;
		tries++;
		rc = http_once(h, path, use_gz ? gz : txt, use_gz ? gzlen : len, use_gz, doc, &retry, &wait);
		if (rc == 0 || !retry || attempt >= h->retries)
			break;
		long backoff = (long)h->retry_ms << (attempt < 5 ? attempt : 5);
		wait = wait > backoff ? (wait < 30000 ? wait : 30000) : backoff;
		/* within the budget: the next try must start before it runs out */
		if (mono_ms() - t0 + wait > h->retry_for_ms)
			break;
		if (h->notice) {
			char msg[600];
			one_try_text(msg, sizeof msg, fs_errmsg_get());
			h->notice(h->notice_ctx, attempt + 1, wait, msg);
		}
		sleep_ms(wait);
		rc = 0;
	}
	if (rc && retry) {
		/* curl's own "after N ms" is one try's; say what the whole took */
		char msg[600];
		one_try_text(msg, sizeof msg, fs_errmsg_get());
		rc = fs_err(rc, "%s (%d tr%s in %.1f s)", msg, tries, tries == 1 ? "y" : "ies",
			    (double)(mono_ms() - t0) / 1000.0);
	}
	free(txt);
	free(gz);
	return rc;
}

static cJSON *new_body(void)
{
	cJSON *b = cJSON_CreateObject();
	if (b) {
		cJSON_AddNumberToObject(b, "v", FS_PROTOCOL);
		cJSON_AddNumberToObject(b, "schema", FS_SCHEMA_VERSION);	/* the fields this side knows */
	}
	return b;
}

/* The HQ store this replica knows (absent before the first pull): HQ trusts
 * the sequence numbers a request carries only if they are its own. */
static int add_hq_id(struct fs_store *s, cJSON *body)
{
	char *id = NULL;
	int rc = fs_meta_get(s, "hq_id", &id);
	if (rc == 0 && id && !cJSON_AddStringToObject(body, "hq_id", id))
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	free(id);
	return rc;
}

/* ---- HQ restored from a backup ----
 * A restore gives HQ a new replica id (docs/operations.md). Everything HQ
 * acknowledged after the backup may be gone, and its change sequence starts
 * again below this device's cursor. Starting over is safe and complete:
 * every local record is queued for push again (HQ merges what it already
 * holds into itself, a no-op, and gets back what it lost), the hqseq of
 * every row is forgotten (it counts in the lost sequence and would make an
 * eviction in the new one look stale), and the cursor is emptied so that
 * every territory is a backfill that skips nothing. One local transaction,
 * inside the caller's. */
/* Compare HQ's replica id in a reply with the one this store knows. A first
 * sight is stored; a change starts over (above) and returns NEED_PUSH, and
 * the reply, computed from a cursor of the old sequence, is not used. */
static int check_hq_id(struct fs_store *s, const char *id, int *restarted)
{
	char *have = NULL;
	*restarted = 0;
	if (!id)
		return 0;	/* an HQ that does not say */
	if (!fs_is_id(id))
		return fs_err(FIELDSYNC_EPROTO, "HQ sent a malformed hq_id");
	int rc = fs_meta_get(s, "hq_id", &have);
	if (rc || (have && !strcmp(have, id))) {
		free(have);
		return rc;
	}
	rc = fs_store_begin(s);
	if (rc == 0 && have) {
		rc = fs_log_requeue_all(s);
		if (rc == 0)
			rc = fs_meta_set(s, "cursor", "{}");
	}
	if (rc == 0)
		rc = fs_meta_set(s, "hq_id", id);
	if (rc == 0)
		rc = fs_store_commit(s);
	else
		fs_store_rollback(s);
	*restarted = rc == 0 && have;
	free(have);
	return rc;
}

/* ---- enrolment ---- */

FIELDSYNC_API int fieldsync_enroll(fieldsync_store *hs, const char *url, const char *token, const char *name,
				   int flags)
{
	struct fs_store *s = hs->st;
	struct http h;
	char *have = NULL, *tls = NULL;
	int rc = fs_meta_get(s, "server_url", &have);
	if (rc == 0)
		rc = fs_meta_get(s, "tls_once", &tls);
	if (rc) {
		free(have);
		return rc;
	}
	if (have && !(flags & FIELDSYNC_ENROLL_FORCE))
		rc = fs_err(FIELDSYNC_ESTATE, "this store is already enrolled with %s (use --force to enrol again)", have);
	else if (((have && !strncasecmp(have, "https://", 8)) || tls) && url && strncasecmp(url, "https://", 8) &&
		 !(flags & FIELDSYNC_ENROLL_INSECURE))
		rc = fs_err(FIELDSYNC_EINVAL, "this store was enrolled over https; refusing %s, which is not"
			    " encrypted (use --insecure if you really mean it)", url);
	free(have);
	free(tls);
	if (rc)
		return rc;
	if (!token || !*token)
		return fs_err(FIELDSYNC_EINVAL, "an enrolment token is needed");
	/* A nonce kept in the store makes enrolment safe to repeat: if HQ's
	 * answer was lost, the same token and nonce get the same device again
	 * (with a fresh device token) instead of "token already used". */
	char *nonce = NULL;
	if ((rc = fs_meta_get(s, "enroll_nonce", &nonce)))
		return rc;
	if (!nonce) {
		char fresh[33];
		fs_random_id(fresh);
		if ((rc = fs_store_begin(s)) == 0) {
			rc = fs_meta_set(s, "enroll_nonce", fresh);
			rc = rc ? (fs_store_rollback(s), rc) : fs_store_commit(s);
		}
		if (rc || !(nonce = strdup(fresh)))
			return rc ? rc : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	if ((rc = http_init(&h, url, NULL)) || (http_policy(&h, hs), rc = http_cacert(&h, s))) {
		http_release(&h);
		free(nonce);
		return rc;
	}
	cJSON *body = new_body(), *doc = NULL;
	cJSON_AddStringToObject(body, "token", token);
	cJSON_AddStringToObject(body, "nonce", nonce);
	free(nonce);
	if (name)
		cJSON_AddStringToObject(body, "name", name);
	cJSON_AddStringToObject(body, "app_version", FIELDSYNC_VERSION);
	rc = http_post(&h, "/v1/enroll", body, &doc);
	cJSON_Delete(body);
	http_release(&h);
	if (rc)
		return rc;
	const char *rid = fs_wire_str(doc, "replica_id"), *tok = fs_wire_str(doc, "device_token");
	const char *rep = fs_wire_str(doc, "rep"), *hq = fs_wire_str(doc, "hq_id");
	struct fs_rid r;
	if (!rid || fs_rid_parse(rid, &r) || !tok || strlen(tok) > 256 || !rep || !hq) {
		cJSON_Delete(doc);
		return fs_err(FIELDSYNC_EPROTO, "HQ sent an incomplete enrolment reply");
	}
	struct fs_buf terr;
	fs_buf_init(&terr, 65536);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "territories");
	/* The first pull starts every territory at 0 as a plain cursor, not as a
	 * backfill: under this enrolment nothing was ever evicted, so what the
	 * device pushes first need not come back. */
	cJSON *cur0 = cJSON_CreateObject();
	for (const cJSON *e = t ? t->child : NULL; e; e = e->next)
		if (cJSON_IsString(e)) {
			fs_buf_printf(&terr, "%s%s", terr.len ? "," : "", e->valuestring);
			cJSON_AddItemToObject(cur0, e->valuestring, cJSON_CreateRaw("0"));
		}
	char *cursor = cJSON_PrintUnformatted(cur0);
	cJSON_Delete(cur0);
	char now[32], *prev = NULL, *prev_hq = NULL;
	fs_iso_utc(fs_wall_ms(), now);
	rc = fs_store_begin(s);
	/* enrolled before with another HQ id (a restored HQ, say): what this
	 * store holds may be missing there, so all of it goes up again */
	if (rc == 0)
		rc = fs_meta_get(s, "hq_id", &prev_hq);
	if (rc == 0 && prev_hq && strcmp(prev_hq, hq))
		rc = fs_log_requeue_all(s);
	free(prev_hq);
	if (rc == 0)
		rc = fs_meta_get(s, "replica_ids_before", &prev);
	if (rc == 0) {
		/* earlier ids of this store stay "mine" for conflict resolution */
		struct fs_buf ids;
		fs_buf_init(&ids, 0);
		fs_buf_printf(&ids, "%s%s%s", prev ? prev : "", prev ? "," : "", fs_store_replica_hex(s));
		rc = fs_meta_set(s, "replica_ids_before", ids.p);
		fs_buf_release(&ids);
	}
	free(prev);
	const char *kv[][2] = { { "server_url", h.base }, { "device_token", tok }, { "replica_id", rid },
		{ "rep", rep }, { "hq_id", hq }, { "territories", terr.p ? terr.p : "" },
		{ "enrolled_at", now }, { "cursor", cursor ? cursor : "{}" }, { "enroll_nonce", NULL },
		/* once over TLS, a later enrolment must ask for plain HTTP */
		{ "tls_once", strncasecmp(h.base, "https://", 8) ? NULL : "1" } };
	for (size_t k = 0; rc == 0 && k < sizeof kv / sizeof kv[0]; k++)
		rc = fs_meta_set(s, kv[k][0], kv[k][1]);	/* NULL: forget it */
	if (rc == 0)
		rc = fs_store_commit(s);
	else
		fs_store_rollback(s);
	if (rc == 0) {
		fs_store_set_replica(s, &r);
	}
	fs_buf_release(&terr);
	free(cursor);
	cJSON_Delete(doc);
	return rc;
}

/* ---- push ---- */

struct pending {
	char tbl[32], id[33];
	int64_t upto;
};

struct sync_state {
	struct fs_store *s;
	struct http h;
	fieldsync_progress_fn progress;
	void *pctx;
	long pushed, accepted, rejected, pulled, evicted, resynced, purged;
	int batch, page;
};

/* One pending record into the batch: its wire form with the local scope
 * (HQ skips resending it only if it agrees) and q, the HQ version this copy
 * reflects if it came from HQ (HQ refuses it if it has since deleted and
 * collected the record). */
struct batch_fill {
	struct pending *p;
	int n;
	cJSON *records;
	int schema;		/* HQ's: the fields it does not know stay here */
};

static int batch_add(void *vctx, const struct fs_rec *r, int64_t upto, int64_t hqseq)
{
	struct batch_fill *b = vctx;
	cJSON *j = fs_wire_rec_encode(r, r->scope[0] ? r->scope : NULL, b->schema);
	if (!j)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	if (hqseq > 0) {
		char num[32];
		snprintf(num, sizeof num, "%lld", (long long)hqseq);
		cJSON_AddItemToObject(j, "q", cJSON_CreateRaw(num));
	}
	snprintf(b->p[b->n].tbl, sizeof b->p[b->n].tbl, "%s", r->t->name);
	snprintf(b->p[b->n].id, sizeof b->p[b->n].id, "%s", r->id);
	b->p[b->n++].upto = upto;
	cJSON_AddItemToArray(b->records, j);
	return 0;
}

/* The next batch after change-log position *after (which moves on): with a
 * batch still in flight, the next one starts where that one ended. */
static int read_batch(struct sync_state *x, struct pending *p, int *n, cJSON *records, int64_t *after)
{
	struct batch_fill b = { p, 0, records, x->h.schema };
	return fs_log_next(x->s, after, x->batch, batch_add, &b, n);
}

static cJSON *meta_object(struct fs_store *s, const char *key);

/* A row HQ had delivered (hqseq) leaves without HQ's say: should it come
 * back into view (the rep regains its territory before this device pulled
 * the drop), an ordinary pull would not resend it, being at or below the
 * cursor, and echo suppression would skip it if it was this device's own
 * version. So the territory's cursor turns into a backfill from just below
 * the row's version (echoes not skipped), in the caller's transaction. */
static int rewind_cursor(struct fs_store *s, const char *scope, int64_t hqseq)
{
	cJSON *cur = meta_object(s, "cursor");
	cJSON *c = cur ? cJSON_GetObjectItemCaseSensitive(cur, scope) : NULL;
	int rc = cur ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	if (rc == 0 && cJSON_IsNumber(c)) {
		int64_t n = (int64_t)c->valuedouble;
		n = n < 0 ? -n : n;
		if (hqseq - 1 < n)
			n = hqseq - 1;
		if (n <= 0)
			cJSON_DeleteItemFromObjectCaseSensitive(cur, scope);	/* absent: a backfill from 0 */
		else
			cJSON_SetNumberValue(c, (double)-n);
		char *txt = cJSON_PrintUnformatted(cur);
		rc = txt ? fs_meta_set(s, "cursor", txt) : fs_err(FIELDSYNC_ENOMEM, "out of memory");
		free(txt);
	}
	cJSON_Delete(cur);
	return rc;
}

/* HQ refused a write (it keeps it in quarantine, so does this device): the
 * replica goes back to what HQ holds - its version when the rep may see
 * it, nothing otherwise - unless newer local edits still wait to be pushed. */
static int drop_refused(struct fs_store *s, const struct fs_table *t, const char *id, int64_t upto,
			const cJSON *current, int schema)
{
	int newer = 0;
	if (!t)
		return fs_err(FIELDSYNC_EPROTO, "HQ answered for an unknown table");
	int rc = fs_log_newer(s, t, id, upto, &newer);
	if (rc || newer)
		return rc;
	if (!current) {
		char scope[65];
		int64_t hqseq;
		rc = fs_store_row_hq(s, t, id, scope, &hqseq);
		if (rc == 0)
			rc = fs_store_delete_row(s, t, id);
		if (rc == 0 && hqseq > 0 && scope[0])
			rc = rewind_cursor(s, scope, hqseq);
		return rc;
	}
	struct fs_rec hq, local;
	int64_t q = 0;
	rc = fs_wire_rec_decode(current, &hq);
	if (rc)
		return fs_err_wrap(FIELDSYNC_EPROTO, "HQ sent an invalid record");
	if (hq.t != t || strcmp(hq.id, id)) {
		fs_rec_release(&hq);
		return fs_err(FIELDSYNC_EPROTO, "HQ answered with another record");
	}
	/* never reuse a counter of this replica: keep the highest it issued;
	 * and keep the fields an HQ of an older schema cannot see */
	if (fs_store_get(s, t, id, &local) == 0) {
		int64_t mine = fs_vv_get(&local.vv, fs_store_replica(s));
		if (mine > fs_vv_get(&hq.vv, fs_store_replica(s)))
			rc = fs_vv_set(&hq.vv, fs_store_replica(s), mine);
		if (rc == 0 && schema < FS_SCHEMA_VERSION)
			rc = fs_rec_keep_unknown(&hq, &local, schema);
		fs_rec_release(&local);
	}
	fs_wire_int(current, "q", 1, FS_INT_MAX_EXACT, &q);
	if (rc == 0)
		rc = fs_store_put(s, &hq);
	if (rc == 0 && q)
		rc = fs_store_set_hqseq(s, t, id, q, NULL);
	fs_rec_release(&hq);
	return rc;
}

static int record_answer(struct sync_state *x, const struct pending *p, int n, const cJSON *results,
			 const cJSON *records)
{
	struct fs_store *s = x->s;
	char now[32];
	if (cJSON_GetArraySize(results) != n)
		return fs_err(FIELDSYNC_EPROTO, "HQ answered %d results for %d records", cJSON_GetArraySize(results), n);
	fs_iso_utc(fs_wall_ms(), now);
	int rc = fs_store_begin(s);
	if (rc)
		return rc;
	const cJSON *res = results->child, *rec = records->child;
	for (int k = 0; rc == 0 && k < n; k++, res = res->next, rec = rec->next) {
		const char *t = fs_wire_str(res, "t"), *id = fs_wire_str(res, "id");
		if (!t || !id || strcmp(t, p[k].tbl) || strcmp(id, p[k].id)) {
			rc = fs_err(FIELDSYNC_EPROTO, "HQ answered results out of order");
			break;
		}
		int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "ok"));
		if (!ok) {
			const char *why = fs_wire_str(res, "reason");
			char *txt = cJSON_PrintUnformatted(rec);
			rc = drop_refused(s, fs_table_find(t), id, p[k].upto, cJSON_GetObjectItemCaseSensitive(res, "current"),
					  x->h.schema);
			if (rc == 0)
				rc = txt ? fs_quarantine_put(s, t, id, why ? why : "rejected", now, txt)
					 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
			free(txt);
			x->rejected++;
		} else {
			int64_t at = 0;
			x->accepted++;
			/* the version HQ now holds: later evictions are judged against it */
			if (fs_wire_int(res, "q", 1, FS_INT_MAX_EXACT, &at) == 0)
				rc = fs_store_set_hqseq(s, fs_table_find(t), id, at, fs_wire_str(res, "scope"));
		}
		if (rc == 0)
			rc = fs_log_done(s, t, id, p[k].upto);
	}
	if (rc) {
		fs_store_rollback(s);
		return rc;
	}
	return fs_store_commit(s);
}

/*
 * One request in flight on a worker thread while this thread works on the
 * previous answer or the next body: HQ merging batch k overlaps with this
 * device reading batch k+1; this device applying page k overlaps with HQ
 * serving page k+1. Every local transaction stays on this thread; the
 * worker only serialises, compresses, transfers and parses.
 */
struct inflight {
	pthread_t t;
	int threaded;
	struct http *h;
	const char *path;
	cJSON *body;	/* owned by the caller, untouched until bg_wait returns */
	cJSON *doc;
	int rc;
	char err[FS_ERRMSG_MAX];
};

static void *bg_main(void *arg)
{
	struct inflight *b = arg;
	b->rc = http_post(b->h, b->path, b->body, &b->doc);
	if (b->rc)	/* error details are per thread: carry it over */
		snprintf(b->err, sizeof b->err, "%s", fs_errmsg_get());
	return NULL;
}

static void bg_start(struct inflight *b, struct http *h, const char *path, cJSON *body)
{
	b->h = h;
	b->path = path;
	b->body = body;
	b->doc = NULL;
	b->rc = 0;
	b->err[0] = '\0';
	b->threaded = pthread_create(&b->t, NULL, bg_main, b) == 0;
	if (!b->threaded)	/* no thread: do it now */
		bg_main(b);
}

static int bg_wait(struct inflight *b, cJSON **doc)
{
	if (b->threaded)
		pthread_join(b->t, NULL);
	b->threaded = 0;
	*doc = b->doc;
	b->doc = NULL;
	return b->rc ? fs_err(b->rc, "%s", b->err) : 0;
}

struct batch {
	struct pending *p;
	int n;
	cJSON *body, *records;
};

static void batch_clear(struct batch *b)
{
	cJSON_Delete(b->body);
	b->body = b->records = NULL;
	b->n = 0;
}

static int batch_read(struct sync_state *x, struct batch *b, int64_t *after, int64_t left)
{
	batch_clear(b);
	b->body = new_body();
	b->records = b->body ? cJSON_AddArrayToObject(b->body, "records") : NULL;
	if (!b->records)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	int rc = read_batch(x, b->p, &b->n, b->records, after);
	if (rc == 0)
		rc = add_hq_id(x->s, b->body);
	cJSON_AddNumberToObject(b->body, "pending", (double)(left > b->n ? left - b->n : 0));
	cJSON_AddStringToObject(b->body, "app_version", FIELDSYNC_VERSION);
	return rc;
}

static int push_all(struct sync_state *x)
{
	struct batch b[2] = { { calloc((size_t)x->batch, sizeof(struct pending)), 0, NULL, NULL },
			      { calloc((size_t)x->batch, sizeof(struct pending)), 0, NULL, NULL } };
	struct inflight fl;
	int64_t left = 0, after = 0;
	int rc = b[0].p && b[1].p ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory"), cur = 0, flying = 0;
	/* counted once: a count per batch would make a first push quadratic */
	if (rc == 0)
		rc = fs_log_pending(x->s, &left);
	while (rc == 0) {
		/* the next batch is read while the previous one is at HQ */
		rc = batch_read(x, &b[cur], &after, left);
		if (flying) {
			cJSON *doc = NULL;
			struct batch *prev = &b[1 - cur];
			int src = bg_wait(&fl, &doc);
			flying = 0;
			if (src == 0) {
				const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "results");
				src = cJSON_IsArray(res) ? record_answer(x, prev->p, prev->n, res, prev->records)
							 : fs_err(FIELDSYNC_EPROTO, "push reply without results");
			}
			cJSON_Delete(doc);
			if (src == FIELDSYNC_ELIMIT && x->batch > 1) {
				/* HQ takes smaller batches than we send: halve and start over
				 * from the oldest change not yet acknowledged */
				x->batch /= 2;
				after = 0;
				rc = 0;
				batch_clear(&b[cur]);
				continue;
			}
			if (src == 0) {
				left = left > prev->n ? left - prev->n : 0;
				x->pushed += prev->n;
				if (x->progress && x->progress(x->pctx, x->pushed, x->pulled))
					src = fs_err(FIELDSYNC_ECANCELED, "sync canceled");
			}
			batch_clear(prev);
			if (src)
				rc = src;
		}
		if (rc || b[cur].n == 0)
			break;
		bg_start(&fl, &x->h, "/v1/push", b[cur].body);
		flying = 1;
		cur = 1 - cur;
	}
	/* every way out of the loop waited for the batch in flight first */
	batch_clear(&b[0]);
	batch_clear(&b[1]);
	free(b[0].p);
	free(b[1].p);
	return rc;
}

/* ---- pull ---- */

static int page_needs_push(struct sync_state *x, const cJSON *drop, const cJSON *changes)
{
	int n, rc;
	for (const cJSON *d = drop ? drop->child : NULL; d; d = d->next)
		if (cJSON_IsString(d) && (rc = fs_store_pending_under(x->s, NULL, NULL, d->valuestring, &n)) == 0 && n)
			return NEED_PUSH;
	for (const cJSON *c = changes ? changes->child : NULL; c; c = c->next) {
		const char *ev = fs_wire_str(c, "evict"), *id = fs_wire_str(c, "id"), *scope = fs_wire_str(c, "scope");
		const struct fs_table *t = ev ? fs_table_find(ev) : NULL;
		if (t && id && scope && fs_store_pending_under(x->s, t, id, scope, &n) == 0 && n)
			return NEED_PUSH;
	}
	return 0;
}

/* Territories this replica holds rows of that are not the rep's any more
 * (dropped by HQ, or rows HQ refused in a territory the rep lost). */
struct stray {
	const cJSON *terr;
	char (*out)[65];
	int max, n;
};

static int stray_one(void *vctx, const char *scope)
{
	struct stray *x = vctx;
	int mine = 0;
	for (const cJSON *e = x->terr->child; e && !mine; e = e->next)
		mine = cJSON_IsString(e) && !strcmp(e->valuestring, scope);
	if (!mine && x->n < x->max)
		snprintf(x->out[x->n++], 65, "%s", scope);
	return 0;
}

static int stray_scopes(struct fs_store *s, const cJSON *terr, char (*out)[65], int max, int *n)
{
	struct stray x = { terr, out, max, 0 };
	int rc = fs_store_each_scope(s, stray_one, &x);
	*n = x.n;
	return rc;
}

/* HQ's settings (grade visit intervals...) as "hq.KEY" in the store's meta,
 * in the page's transaction; a device reads them offline (core/due.h). */
static int store_settings(struct fs_store *s, const cJSON *settings)
{
	int rc = 0;
	for (const cJSON *e = cJSON_IsObject(settings) ? settings->child : NULL; rc == 0 && e; e = e->next) {
		char key[64];
		size_t n = strlen(e->string);
		if (!cJSON_IsString(e) || n == 0 || n > 40 || strspn(e->string, "abcdefghijklmnopqrstuvwxyz_") != n ||
		    strlen(e->valuestring) > 1024)
			return fs_err(FIELDSYNC_EPROTO, "HQ sent a malformed setting");
		snprintf(key, sizeof key, "hq.%s", e->string);
		rc = fs_meta_set(s, key, e->valuestring);
	}
	return rc;
}

/* HQ's price list: the products changed since the mark this device sent
 * ("products"), and the new mark ("catalogue"), in the page's transaction.
 * An HQ that keeps no price list sends neither. */
static int store_products(struct fs_store *s, const cJSON *doc)
{
	const cJSON *prods = cJSON_GetObjectItemCaseSensitive(doc, "products");
	int64_t mark;
	int rc = 0;
	if (!prods)
		return 0;
	if (!cJSON_IsArray(prods) || fs_wire_int(doc, "catalogue", 0, FS_INT_MAX_EXACT, &mark))
		return fs_err(FIELDSYNC_EPROTO, "HQ sent a malformed price list");
	for (const cJSON *e = prods->child; rc == 0 && e; e = e->next) {
		const char *sku = fs_wire_str(e, "sku"), *name = fs_wire_str(e, "name"), *unit = fs_wire_str(e, "unit");
		const cJSON *active = cJSON_GetObjectItemCaseSensitive(e, "active");
		int64_t price, q;
		if (!sku || !*sku || strlen(sku) > 40 || strchr(sku, ':') || !name || !*name || strlen(name) > 200 ||
		    (unit && strlen(unit) > 20) || !cJSON_IsBool(active) ||
		    fs_wire_int(e, "price", 0, FS_INT_MAX_EXACT, &price) || fs_wire_int(e, "q", 1, mark, &q))
			return fs_err(FIELDSYNC_EPROTO, "HQ sent a malformed product");
		rc = fs_catalogue_put(s, sku, name, unit, price, cJSON_IsTrue(active), q);
	}
	if (rc == 0) {
		char num[32];
		snprintf(num, sizeof num, "%lld", (long long)mark);
		rc = fs_meta_set(s, "catalogue", num);
	}
	return rc;
}

/* ---- resync after garbage collection ----
 * HQ collects tombstones and evictions once the devices it waits for have
 * them (sync/hq/gc.c). A device that was away longer has a cursor below the
 * territory's horizon, and HQ answers with a resync of the territory:
 * {"territory": horizon} in the reply's "resync", and a backfill from 0.
 * The first page of it marks every row of the territory (resync_mark);
 * every record delivered since unmarks its row; the page
 * that completes the backfill (its cursor settles, >= 0) drops the rows
 * still marked, except those with unpushed changes (they are pushed, and
 * HQ refuses what it deleted). Meta "resync" holds the resyncs under way,
 * sent back with each pull so that HQ continues rather than restarts them.
 * All of it in the page's transaction. */

/* Before the page's records: start the resyncs the reply announces. *live:
 * some resync is under way (delivered records unmark their rows). */
static int resync_begin(struct sync_state *x, const cJSON *rs, cJSON *local, int *live)
{
	int rc = 0;
	if (rs && !cJSON_IsObject(rs))
		return fs_err(FIELDSYNC_EPROTO, "HQ sent a malformed resync");
	for (const cJSON *e = rs ? rs->child : NULL; rc == 0 && e; e = e->next) {
		if (!cJSON_IsNumber(e) || e->valuedouble < 1 || e->valuedouble > (double)FS_INT_MAX_EXACT)
			return fs_err(FIELDSYNC_EPROTO, "HQ sent a malformed resync");
		const cJSON *have = cJSON_GetObjectItemCaseSensitive(local, e->string);
		if (have && cJSON_IsNumber(have) && have->valuedouble == e->valuedouble)
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(local, e->string);
		rc = fs_resync_mark(x->s, e->string);
		if (rc == 0 && !cJSON_AddItemToObject(local, e->string, cJSON_CreateNumber(e->valuedouble)))
			rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		x->resynced++;
	}
	*live = local->child != NULL;
	return rc;
}

/* After them: finish each resync whose territory's cursor settled; give up
 * (without dropping anything) one HQ no longer names. */
static int resync_end(struct sync_state *x, const cJSON *rs, const cJSON *cursor, cJSON *local)
{
	int rc = 0;
	cJSON *e = local->child;
	while (rc == 0 && e) {
		cJSON *next = e->next;
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(cursor, e->string);
		int named = rs && cJSON_GetObjectItemCaseSensitive(rs, e->string) != NULL;
		if (named && cJSON_IsNumber(c) && c->valuedouble >= 0)
			rc = fs_resync_sweep(x->s, e->string, &x->evicted);
		else if (!named)
			rc = fs_resync_forget(x->s, e->string);
		else {
			e = next;
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(local, e->string);
		e = next;
	}
	char *txt = rc ? NULL : cJSON_PrintUnformatted(local);
	if (rc == 0)
		rc = txt ? fs_meta_set(x->s, "resync", local->child ? txt : NULL) : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	free(txt);
	return rc;
}

static cJSON *meta_object(struct fs_store *s, const char *key)
{
	char *v = NULL;
	cJSON *o = NULL;
	if (fs_meta_get(s, key, &v) == 0 && v)
		o = cJSON_Parse(v);
	free(v);
	if (o && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o ? o : cJSON_CreateObject();
}

static int apply_page(struct sync_state *x, const cJSON *doc, int *more)
{
	struct fs_store *s = x->s;
	const cJSON *changes = cJSON_GetObjectItemCaseSensitive(doc, "changes");
	const cJSON *drop = cJSON_GetObjectItemCaseSensitive(doc, "drop");
	const cJSON *cursor = cJSON_GetObjectItemCaseSensitive(doc, "cursor");
	const cJSON *terr = cJSON_GetObjectItemCaseSensitive(doc, "territories");
	*more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "more"));
	if (!cJSON_IsArray(changes) || !cJSON_IsObject(cursor))
		return fs_err(FIELDSYNC_EPROTO, "pull reply without changes or cursor");
	int rc = fs_store_begin(s);
	if (rc)
		return rc;
	char stray[64][65];
	int nstray = 0;
	if (cJSON_IsArray(terr))
		rc = stray_scopes(s, terr, stray, 64, &nstray);
	for (int k = 0; rc == 0 && k < nstray; k++) {
		int n;
		if ((rc = fs_store_pending_under(s, NULL, NULL, stray[k], &n)) == 0 && n)
			rc = NEED_PUSH;
	}
	if (rc == 0 && page_needs_push(x, drop, changes))
		rc = NEED_PUSH;
	if (rc) {
		fs_store_rollback(s);
		return rc;
	}
	const cJSON *rs = cJSON_GetObjectItemCaseSensitive(doc, "resync");
	cJSON *local = meta_object(s, "resync");
	int live = 0;
	if (!local)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	if (rc == 0)
		rc = resync_begin(x, rs, local, &live);
	for (const cJSON *d = drop ? drop->child : NULL; rc == 0 && d; d = d->next)
		if (cJSON_IsString(d))
			rc = fs_store_evict_scope(s, d->valuestring);
	for (int k = 0; rc == 0 && k < nstray; k++)
		rc = fs_store_evict_scope(s, stray[k]);
	/* evictions first: they only remove what is still under the old scope */
	for (const cJSON *c = changes->child; rc == 0 && c; c = c->next) {
		const char *ev = fs_wire_str(c, "evict"), *id = fs_wire_str(c, "id"), *scope = fs_wire_str(c, "scope");
		if (!ev)
			continue;
		const struct fs_table *t = fs_table_find(ev);
		if (!t || !id || !scope)
			rc = fs_err(FIELDSYNC_EPROTO, "malformed eviction from HQ");
		else {
			int64_t q = 0;
			fs_wire_int(c, "q", 1, FS_INT_MAX_EXACT, &q);
			if ((rc = fs_store_evict(s, t, id, scope, q ? q : FS_INT_MAX_EXACT)) == 0)
				x->evicted++;
		}
	}
	long n = 0;
	/* a write stamped beyond the clock bound (a store poisoned before HQ
	 * checked clocks) is not applied: it waits in quarantine until HQ's
	 * repair sends it again restamped. The bound counts from HQ's clock
	 * when it is later than this device's (a device whose date is behind). */
	int64_t hq_now = 0, lim;
	fs_wire_int(doc, "now_ms", 1, FS_INT_MAX_EXACT, &hq_now);
	lim = fs_hlc_limit(hq_now > fs_wall_ms() ? hq_now : fs_wall_ms(), fs_store_clock_ahead(s));
	char now[32];
	fs_iso_utc(fs_wall_ms(), now);
	for (const cJSON *c = changes->child; rc == 0 && c; c = c->next) {
		if (fs_wire_str(c, "evict"))
			continue;
		struct fs_rec r;
		int changed;
		if ((rc = fs_wire_rec_decode(c, &r))) {
			rc = fs_err_wrap(FIELDSYNC_EPROTO, "HQ sent an invalid record");
			break;
		}
		int64_t q = 0, mx = fs_rec_max_hlc(&r);
		fs_wire_int(c, "q", 1, FS_INT_MAX_EXACT, &q);
		if (mx > lim) {
			char at[32], why[256], *txt = cJSON_PrintUnformatted(c);
			fs_iso_utc(fs_hlc_ms(mx), at);
			snprintf(why, sizeof why, "from HQ: a write stamped %s, more than %lld minutes ahead of the clock;"
				 " not applied until HQ runs 'fieldsyncd repair clock'", at, (long long)fs_store_clock_ahead(s));
			rc = txt ? fs_quarantine_put(s, r.t->name, r.id, why, now, txt)
				 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
			free(txt);
			fs_rec_release(&r);
			continue;
		}
		rc = fs_quarantine_clear_hq(s, r.t->name, r.id);
		if (rc == 0)
			rc = fs_store_apply_from(s, &r, r.scope[0] ? r.scope : NULL, q, x->h.schema, &changed);
		if (rc == 0 && live)
			rc = fs_resync_unmark(s, r.t->name, r.id);
		fs_rec_release(&r);
		n++;
	}
	if (rc == 0)
		rc = resync_end(x, rs, cursor, local);
	cJSON_Delete(local);
	char *cur = rc ? NULL : cJSON_PrintUnformatted(cursor);
	if (rc == 0 && !cur)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	if (rc == 0)
		rc = fs_meta_set(s, "cursor", cur);	/* in the same transaction as the page */
	free(cur);
	if (rc == 0 && cJSON_IsArray(terr)) {
		struct fs_buf b;
		fs_buf_init(&b, 65536);
		for (const cJSON *e = terr->child; e; e = e->next)
			if (cJSON_IsString(e))
				fs_buf_printf(&b, "%s%s", b.len ? "," : "", e->valuestring);
		rc = fs_meta_set(s, "territories", b.p ? b.p : "");
		fs_buf_release(&b);
	}
	if (rc == 0)
		rc = store_settings(s, cJSON_GetObjectItemCaseSensitive(doc, "settings"));
	if (rc == 0)
		rc = store_products(s, doc);
	if (rc == 0) {
		char num[16];
		snprintf(num, sizeof num, "%d", x->h.schema);
		rc = fs_meta_set(s, "hq_schema", num);
	}
	if (rc) {
		fs_store_rollback(s);
		return rc;
	}
	rc = fs_store_commit(s);
	if (rc == 0)
		x->pulled += n;
	return rc;
}

/* resync: the resyncs under way as the page before this one leaves them
 * (a reply's "resync", or the stored one), NULL: none. */
static cJSON *pull_body(struct sync_state *x, const cJSON *cursor, const cJSON *resync, int64_t left,
			int64_t mark)
{
	cJSON *body = new_body();
	if (!body)
		return NULL;
	if (add_hq_id(x->s, body)) {
		cJSON_Delete(body);
		return NULL;
	}
	cJSON_AddItemToObject(body, "cursor", cursor ? cJSON_Duplicate(cursor, 1) : cJSON_CreateObject());
	/* always, even empty: it tells HQ this device knows resyncs */
	cJSON_AddItemToObject(body, "resync", cJSON_IsObject(resync) ? cJSON_Duplicate(resync, 1) : cJSON_CreateObject());
	cJSON_AddNumberToObject(body, "limit", x->page);
	cJSON_AddNumberToObject(body, "pending", (double)left);
	/* the price list this device holds, up to HQ's number (0: none yet) */
	char num[32];
	snprintf(num, sizeof num, "%lld", (long long)mark);
	cJSON_AddItemToObject(body, "catalogue", cJSON_CreateRaw(num));
	cJSON_AddStringToObject(body, "app_version", FIELDSYNC_VERSION);
	return body;
}

static int pull_all(struct sync_state *x, int *need_push)
{
	struct inflight fl;
	int64_t left = 0;
	char *cur = NULL;
	*need_push = 0;
	fs_log_pending(x->s, &left);	/* once: pulls do not change it */
	int rc = fs_meta_get(x->s, "cursor", &cur);
	if (rc)
		return rc;
	cJSON *c0 = cJSON_Parse(cur && *cur ? cur : "{}"), *r0 = meta_object(x->s, "resync");
	free(cur);
	cur = NULL;
	int64_t mark = 0;	/* the price list's: stored, then each page's */
	if (fs_meta_get(x->s, "catalogue", &cur) == 0 && cur && fs_parse_int(cur, &mark))
		mark = 0;
	free(cur);
	fs_err_clear();
	cJSON *body = pull_body(x, c0, r0, left, mark);
	cJSON_Delete(c0);
	cJSON_Delete(r0);
	if (!body)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	bg_start(&fl, &x->h, "/v1/pull", body);
	int flying = 1;
	while (rc == 0 && flying) {
		cJSON *doc = NULL, *next = NULL;
		rc = bg_wait(&fl, &doc);
		flying = 0;
		cJSON_Delete(body);
		body = NULL;
		int restarted = 0, more = 0;
		if (rc == 0)
			rc = check_hq_id(x->s, fs_wire_str(doc, "hq_id"), &restarted);
		if (rc == 0 && restarted) {
			rc = NEED_PUSH;	/* push everything again, then pull from scratch */
		} else if (rc == 0) {
			/* ask for the next page before applying this one: the cursor
			 * it continues from is the one this page will store */
			more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "more"));
			const cJSON *nc = cJSON_GetObjectItemCaseSensitive(doc, "cursor");
			int64_t m;
			if (fs_wire_int(doc, "catalogue", 0, FS_INT_MAX_EXACT, &m) == 0)
				mark = m;
			fs_err_clear();
			if (more && cJSON_IsObject(nc) &&
			    (next = pull_body(x, nc, cJSON_GetObjectItemCaseSensitive(doc, "resync"), left, mark))) {
				bg_start(&fl, &x->h, "/v1/pull", next);
				flying = 1;
				body = next;
			}
			rc = apply_page(x, doc, &more);
		}
		cJSON_Delete(doc);
		if (rc == 0 && x->progress && x->progress(x->pctx, x->pushed, x->pulled))
			rc = fs_err(FIELDSYNC_ECANCELED, "sync canceled");
		if (rc == 0 && more && !flying)	/* could not ask ahead: ask now */
			rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	if (flying) {	/* a page asked for ahead is not applied: the next pull asks again */
		cJSON *doc = NULL;
		bg_wait(&fl, &doc);
		cJSON_Delete(doc);
	}
	cJSON_Delete(body);
	if (rc == NEED_PUSH) {
		*need_push = 1;
		rc = 0;
	}
	return rc;
}

/* ---- the sync loop ---- */

static int lock_store(struct fs_store *s, int *fd)
{
	char path[4200];
	snprintf(path, sizeof path, "%s.sync-lock", fs_store_path(s));
	*fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0)
		return fs_err(FIELDSYNC_EIO, "cannot open %s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		close(*fd);
		*fd = -1;
		return fs_err(FIELDSYNC_EBUSY, "another sync of this store is running");
	}
	return 0;
}

static int summary_rows(const struct sync_state *x, int rounds, long ms, struct fieldsync_rows **out)
{
	static const char *const names[] = { "pushed", "accepted", "rejected", "pulled", "evicted", "requests",
		"rounds", "ms", "max_rss_kb", "resynced", "purged" };
	enum { N = sizeof names / sizeof *names };
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	long vals[N] = { x->pushed, x->accepted, x->rejected, x->pulled, x->evicted, x->h.requests, rounds, ms,
		ru.ru_maxrss, x->resynced, x->purged };
	struct fieldsync_rows *r = fs_rows_new(N);
	int rc = r ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	int row = rc ? -1 : fs_rows_add(r);
	for (int c = 0; rc == 0 && row >= 0 && c < N; c++) {
		char buf[32];
		snprintf(buf, sizeof buf, "%ld", vals[c]);
		rc = fs_rows_set_col(r, c, names[c], FS_T_INT);
		if (rc == 0)
			rc = fs_rows_set(r, row, c, buf);
	}
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- lost device: hand in, then wipe ---- */

/* HQ asked for erasure: push every pending record once more (HQ keeps them
 * for review, answering each batch "revoked" with the count kept). 0 when
 * all batches were answered, or a transport/server error: then nothing is
 * wiped now and the next contact tries again. */
static int hand_in(struct sync_state *x, long *kept)
{
	struct batch b = { calloc((size_t)x->batch, sizeof(struct pending)), 0, NULL, NULL };
	int64_t after = 0;
	int rc = b.p ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	*kept = 0;
	while (rc == 0) {
		cJSON *doc = NULL;
		int64_t start = after;
		if ((rc = batch_read(x, &b, &after, 0)) || b.n == 0)
			break;
		x->h.wipe = 0;
		x->h.kept = -1;
		rc = http_post(&x->h, "/v1/push", b.body, &doc);
		cJSON_Delete(doc);
		if (rc == FIELDSYNC_EAUTH && x->h.wipe && x->h.kept == b.n) {
			*kept += x->h.kept;
			rc = 0;
		} else if (rc == FIELDSYNC_EAUTH && x->h.wipe && x->h.kept < 0 && x->batch > 1) {
			/* HQ could not keep this batch (too large for it, say):
			 * smaller ones from the same place */
			x->batch /= 2;
			after = start;
			rc = 0;
		} else if (rc == FIELDSYNC_EAUTH && x->h.wipe) {
			/* only what HQ holds may be erased here */
			rc = fs_err(FIELDSYNC_ESERVER, "HQ kept %ld of %d records handed in; not wiping this time",
				    x->h.kept < 0 ? 0L : x->h.kept, b.n);
		} else if (rc == 0) {
			rc = fs_err(FIELDSYNC_ESTATE, "HQ accepted a push after asking for erasure; not wiping");
		}
		batch_clear(&b);
	}
	batch_clear(&b);
	free(b.p);
	return rc;
}

FIELDSYNC_API int fieldsync_sync(fieldsync_store *hs, fieldsync_progress_fn progress, void *ctx,
				 fieldsync_rows **summary)
{
	struct fs_store *s = hs->st;
	struct sync_state x;
	char *url = NULL, *tok = NULL;
	int fd = -1, rc, rounds = 0;
	int64_t t0 = fs_wall_ms();
	if (summary)
		*summary = NULL;
	memset(&x, 0, sizeof x);
	x.s = s;
	x.progress = progress;
	x.pctx = ctx;
	x.batch = (int)env_long("FIELDSYNC_BATCH", 500, 1, 1000);
	x.page = (int)env_long("FIELDSYNC_PAGE", 500, 1, 5000);
	if ((rc = lock_store(s, &fd)))
		return rc;
	rc = fs_meta_get(s, "server_url", &url);
	if (rc == 0)
		rc = fs_meta_get(s, "device_token", &tok);
	if (rc == 0 && (!url || !tok))
		rc = fs_err(FIELDSYNC_ESTATE, "this store is not enrolled: run 'fieldsync init --server URL --token T'");
	if (rc == 0)
		rc = http_init(&x.h, url, tok);
	if (rc == 0) {
		http_policy(&x.h, hs);
		rc = http_cacert(&x.h, s);
	}
	x.h.schema = FS_WIRE_SCHEMA_BASE;	/* HQ's, as its last reply said */
	char *known = NULL;
	int64_t kv;
	if (rc == 0 && fs_meta_get(s, "hq_schema", &known) == 0 && known && fs_parse_int(known, &kv) == 0 &&
	    kv >= FS_WIRE_SCHEMA_BASE)
		x.h.schema = kv > FS_SCHEMA_VERSION ? FS_SCHEMA_VERSION : (int)kv;
	free(known);
	if (rc == 0)
		fs_err_clear();
	if (tok)
		sodium_memzero(tok, strlen(tok));
	free(tok);
	free(url);
	int need = 1;
	for (; rc == 0 && need && rounds < 20; rounds++) {
		int need_push;
		int64_t left = 0;
		rc = push_all(&x);
		if (rc == 0)
			rc = pull_all(&x, &need_push);
		if (rc == 0)
			rc = fs_log_pending(s, &left);
		need = rc == 0 && (need_push || left > 0);
	}
	if (rc == 0 && need)
		rc = fs_err(FIELDSYNC_EBUSY, "changes kept coming for %d rounds; run sync again", rounds);
	if (rc == FIELDSYNC_EAUTH && x.h.wipe) {
		long kept = 0;
		if ((rc = hand_in(&x, &kept)) == 0 && (rc = fs_store_wipe(s)) == 0)
			rc = fs_err(FIELDSYNC_EAUTH, "this device was revoked by HQ: its local data was wiped"
				    " (%ld unsynced record%s handed in to HQ for review)", kept, kept == 1 ? "" : "s");
	}
	if (rc == 0) {
		char now[32];
		fs_iso_utc(fs_wall_ms(), now);
		if (fs_store_begin(s) == 0) {
			if (fs_meta_set(s, "last_sync", now) == 0)
				fs_store_commit(s);
			else
				fs_store_rollback(s);
		}
		/* HQ's retention, now that its setting is current: visits past it
		 * leave this device. The sync is done whatever becomes of it: a
		 * purge that fails removed nothing, and the next sync tries again. */
		int64_t n = 0;
		if (fs_retention_purge(s, 0, &n, NULL) == 0)
			x.purged = (long)n;
	}
	http_release(&x.h);
	if (fd >= 0)
		close(fd);	/* releases the lock */
	if (summary && (rc == 0 || x.pushed || x.pulled)) {
		int src = summary_rows(&x, rounds, (long)(fs_wall_ms() - t0), summary);
		if (rc == 0)
			rc = src;
	}
	if (rc == 0 && x.rejected)
		return 1;
	return rc;
}

/* ---- trust ---- */

FIELDSYNC_API int fieldsync_set_cacert(fieldsync_store *hs, const char *path)
{
	struct fs_store *s = hs->st;
	char abs[4096], head[65536];
	const char *val = NULL;
	if (path && *path) {
		if (!realpath(path, abs))
			return fs_err(errno == ENOENT ? FIELDSYNC_ENOTFOUND : FIELDSYNC_EINVAL, "CA file %s: %s", path,
				      strerror(errno));
		FILE *f = fopen(abs, "r");
		if (!f)
			return fs_err(FIELDSYNC_EINVAL, "CA file %s: %s", path, strerror(errno));
		size_t n = fread(head, 1, sizeof head - 1, f);
		fclose(f);
		head[n] = '\0';
		if (!strstr(head, "-----BEGIN CERTIFICATE-----"))
			return fs_err(FIELDSYNC_EINVAL, "CA file %s: no PEM certificate in it", path);
		val = abs;
	}
	int rc = fs_store_begin(s);
	if (rc == 0)
		rc = fs_meta_set(s, "cacert", val);	/* NULL: forget it */
	if (rc == 0)
		return fs_store_commit(s);
	fs_store_rollback(s);
	return rc;
}

/* ---- status and quarantine ---- */

FIELDSYNC_API int fieldsync_status(fieldsync_store *hs, fieldsync_rows **out)
{
	struct fs_store *s = hs->st;
	static const char *const keys[] = { "server_url", "rep", "territories", "last_sync", "enrolled_at" };
	static const char *const names[] = { "server", "rep", "territories", "last_sync", "enrolled_at",
		"replica_id", "pending", "quarantined", "open_conflicts", "currency" };
	struct fieldsync_rows *r = fs_rows_new(10), *k = NULL;
	int rc = r ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	int row = rc ? -1 : fs_rows_add(r);
	for (int c = 0; rc == 0 && c < 10; c++)
		rc = fs_rows_set_col(r, c, names[c], c == 3 || c == 4 ? FS_T_DATETIME : c >= 6 && c < 9 ? FS_T_INT
										   : FS_T_TEXT);
	for (int c = 0; rc == 0 && c < 5; c++) {
		char *v = NULL;
		rc = fs_meta_get(s, keys[c], &v);
		if (rc == 0)
			rc = fs_rows_set(r, row, c, v);
		free(v);
	}
	if (rc == 0)
		rc = fs_rows_set(r, row, 5, fs_store_replica_hex(s));
	int64_t pend = 0, quar = 0;
	if (rc == 0)
		rc = fs_log_pending(s, &pend);
	if (rc == 0)
		rc = fs_quarantine_count(s, &quar);
	if (rc == 0)
		rc = fieldsync_conflicts(hs, 0, &k);
	char buf[3][32];
	snprintf(buf[0], 32, "%lld", (long long)pend);
	snprintf(buf[1], 32, "%lld", (long long)quar);
	snprintf(buf[2], 32, "%d", k ? k->nrow : 0);
	for (int c = 0; rc == 0 && c < 3; c++)
		rc = fs_rows_set(r, row, 6 + c, buf[c]);
	/* HQ's currency (fieldsyncd setting set currency), as the last pull brought it */
	char *cur = NULL;
	if (rc == 0 && (rc = fs_meta_get(s, "hq.currency", &cur)) == 0)
		rc = fs_rows_set(r, row, 9, cur && *cur ? cur : NULL);
	free(cur);
	fs_rows_free(k);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

FIELDSYNC_API int fieldsync_quarantine(fieldsync_store *hs, fieldsync_rows **out)
{
	static const char *const names[] = { "tbl", "id", "reason", "at", "record", NULL };
	static const int types[] = { FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_DATETIME, FS_T_TEXT };
	struct fs_exec x = fs_store_execer(hs->st);
	return fs_exec_rows(&x, "SELECT tbl, id, reason, at, record FROM quarantine ORDER BY at, id", 0, NULL,
			    names, types, out);
}
