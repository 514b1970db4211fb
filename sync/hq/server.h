/*
 * server.h - fieldsyncd's HTTP layer (libmicrohttpd).
 *
 * The server owns everything about HTTP: listening on one address, a thread
 * pool, admission of requests from their headers, request bodies (bounded,
 * gzip-decoded with a cap), response gzip and security headers, per-request
 * logging, rate limiting of failed authentications, deadlines for slow
 * clients, a small pool for slow work (password hashing) apart from the
 * connection threads, and a graceful stop. It knows nothing of records: the
 * headers of each request go to `admit`, which says how much body it may
 * send or refuses it, and each complete request is handed to `handler`,
 * which fills a response.
 *
 * Limits enforced here, each answered with a JSON error body
 * {"error": code, "message": text} and never reaching the handler:
 *   a refusal by `admit` (unknown path, wrong method, no or bad
 *   credentials), before a byte of the body is read   its status and body
 *   body larger than the admitted cap (Content-Length up front, running
 *   count for chunked bodies)                          413 body_too_large
 *   gzip body inflating beyond the admitted cap        413 body_too_large
 *   bodies buffered by all connections together would pass max_buffered
 *                                                      503 busy (Retry-After)
 *   Content-Encoding other than identity/gzip          415 unsupported_encoding
 *   corrupt gzip                                       400 bad_gzip
 *   more than auth_fail_limit responses 401/403 to one client address within
 *   auth_fail_window_s seconds                         429 rate_limited (Retry-After)
 * and without an answer, by closing the connection:
 *   more than max_conns_per_ip connections from one address (refused at accept)
 *   request line and headers not complete header_timeout_s after the
 *   connection opened (or after the connection's previous request plus its
 *   idle timeout), however the bytes trickle in
 *   a body slower than body_min_rate bytes/s on average once body_grace_s
 *   have passed (Apache's mod_reqtimeout rule)
 *   no byte at all for timeout_s (idle connections)
 *
 * Every response carries X-Content-Type-Options: nosniff, Referrer-Policy:
 * no-referrer, X-Frame-Options: DENY, Cache-Control: no-store, a
 * Content-Security-Policy (the handler's, or one that loads nothing and
 * lets no page frame it) and, over TLS, Strict-Transport-Security.
 */
#ifndef FS_HQ_SERVER_H
#define FS_HQ_SERVER_H

#include <stddef.h>
#include <stdio.h>

struct hq_request {
	const char *method;	/* "GET", "POST", ... */
	const char *path;	/* "/v1/push" (no query string) */
	const char *query;	/* raw query string after '?', or NULL */
	const char *token;	/* from "Authorization: Bearer <token>", or NULL */
	const char *cookie;	/* raw Cookie header, or NULL */
	const char *content_type;
	const char *client_ip;	/* textual peer address */
	const char *body;	/* decoded body, NUL-terminated (body[body_len] == 0) */
	size_t body_len;	/* may contain NUL bytes before body_len */
	const char *csrf;	/* X-CSRF-Token header, or NULL */
	int tls;		/* 1 when served over HTTPS (cookies get Secure) */
	void *srv;		/* the server's own state of this request (hq_request_defer) */
};

struct hq_response {
	int status;		/* HTTP status */
	char *body;		/* malloc'd; the server frees it */
	size_t body_len;
	const char *content_type;	/* default "application/json" */
	char *set_cookie;	/* malloc'd Set-Cookie value or NULL */
	const char *location;	/* for redirects, static */
	int records;		/* for the log line */
	int retry_after;	/* seconds, for 429/503 */
	const char *csp;	/* Content-Security-Policy, static; NULL: HQ_CSP_NONE */
};

/* The policy of every response that sets none: nothing loads, no page may
 * frame it. */
#define HQ_CSP_NONE "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/* What a request may send, decided from its headers. */
struct hq_admission {
	size_t max_body;	/* bytes of body as sent; 0: no body at all */
	size_t max_inflated;	/* bytes once gzip-decoded */
};

/* Called once the request line and headers are in, before any byte of the
 * body is read (req->body is NULL, body_len 0), from a server thread; must
 * be thread-safe. `adm` comes preset to the server's own limits: lower them
 * and return 0 to admit (larger values are cut back to the server's), or
 * fill `refusal` (hq_response_error) and return non-zero to answer at once;
 * the body is then never read and the connection is closed. */
typedef int (*hq_admit_fn)(void *ctx, const struct hq_request *req, struct hq_admission *adm,
			   struct hq_response *refusal);

/* Slow work of a deferred request (hq_request_defer), run on a pool thread:
 * fills `resp` as a handler would. */
typedef void (*hq_work_fn)(void *arg, struct hq_response *resp);

/* Called once per complete request, from a server thread; must be
 * thread-safe. Returns 0; a negative return becomes a 500 JSON error. */
typedef int (*hq_handler_fn)(void *ctx, const struct hq_request *req, struct hq_response *resp);

struct hq_server_opts {
	const char *listen;		/* "127.0.0.1:8080" or "[::1]:8080"; port 0 = pick one */
	int threads;			/* thread pool size (default 4) */
	size_t max_body;		/* default 8 MiB */
	size_t max_inflated;		/* default 64 MiB */
	int timeout_s;			/* idle connection timeout (default 30) */
	int header_timeout_s;		/* request line and headers complete within (default 20) */
	int body_grace_s;		/* a body may take this long before ... (default 20) */
	int body_min_rate;		/* ... it must average this many bytes/s (default 500) */
	size_t max_buffered;		/* request bodies held by all connections (default 128 MiB) */
	int max_conns_per_ip;		/* connections from one address (default 256) */
	int work_threads;		/* the pool for slow work (default 1) */
	int work_queue;			/* requests waiting for it at most (default 16) */
	int auth_fail_limit;		/* default 20 */
	int auth_fail_window_s;		/* default 60 */
	int log_json;			/* one JSON object per line instead of text */
	FILE *log;			/* default stderr */
	const char *tls_cert, *tls_key;	/* PEM files: serve HTTPS (NULL: plain HTTP); the key file
					 * must not be open to group or others (see hq_server_start) */
	const char *tls_priorities;	/* GnuTLS priority string (NULL: HQ_TLS_PRIORITIES) */
	hq_admit_fn admit;		/* NULL: every request may send up to max_body */
	hq_handler_fn handler;
	void *ctx;
};

/* TLS 1.2 and 1.3 only, GnuTLS's NORMAL set of ciphers otherwise. */
#define HQ_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct hq_server;

/* Start listening; returns 0 and the running server. The chosen port is
 * available from hq_server_port() (useful with port 0). */
int hq_server_start(const struct hq_server_opts *o, struct hq_server **out);
/* The key file rule of hq_server_start, as PostgreSQL's for its key: owned
 * by this user and mode 0600 or less, or owned by root and 0640 or less
 * (a root:service group key). 0, or FIELDSYNC_EINVAL/EIO with the reason in
 * fs_errmsg_get(). */
int hq_server_check_key(const char *path);
int hq_server_port(const struct hq_server *s);
/* Stop accepting, let in-flight requests finish, free everything. */
void hq_server_stop(struct hq_server *s);
/* Block until SIGTERM or SIGINT (blocked in all threads by the caller before
 * hq_server_start so that only this call sees them). Returns the signal. */
int hq_server_wait_signal(void);
/* The same, for at most `seconds` (> 0): 0 when none came. */
int hq_server_wait_signal_for(int seconds);

/* From a handler: answer this request later. `fn(arg, resp)` runs on the
 * server's work pool, the connection waits suspended (no connection thread
 * is held), then its response is sent as if the handler had made it. On 0
 * the handler returns at once leaving its response empty, and the server
 * owns `arg` (free_arg(arg) after fn, may be NULL). FIELDSYNC_EBUSY when the
 * pool's queue is full (arg untouched: answer 503 yourself). */
int hq_request_defer(const struct hq_request *req, hq_work_fn fn, void *arg, void (*free_arg)(void *));

/* Helpers for handlers: a JSON error response {"error":code,"message":msg}. */
void hq_response_error(struct hq_response *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
