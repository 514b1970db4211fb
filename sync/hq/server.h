/*
 * server.h - fieldsyncd's HTTP layer (libmicrohttpd).
 *
 * The server owns everything about HTTP: listening on one address, a thread
 * pool, request bodies (bounded, gzip-decoded with a cap), response gzip,
 * per-request logging, rate limiting of failed authentications, and a
 * graceful stop. It knows nothing of records: each complete request is
 * handed to `handler`, which fills a response.
 *
 * Limits enforced here, each answered with a JSON error body
 * {"error": code, "message": text} and never reaching the handler:
 *   body larger than max_body (Content-Length up front, running count for
 *   chunked bodies)                                   413 body_too_large
 *   gzip body inflating beyond max_inflated            413 body_too_large
 *   Content-Encoding other than identity/gzip          415 unsupported_encoding
 *   corrupt gzip                                       400 bad_gzip
 *   more than auth_fail_limit responses 401/403 to one client address within
 *   auth_fail_window_s seconds                         429 rate_limited (Retry-After)
 *   idle connections (slowloris)                       closed after timeout_s
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
};

/* Called once per complete request, from a server thread; must be
 * thread-safe. Returns 0; a negative return becomes a 500 JSON error. */
typedef int (*hq_handler_fn)(void *ctx, const struct hq_request *req, struct hq_response *resp);

struct hq_server_opts {
	const char *listen;		/* "127.0.0.1:8080" or "[::1]:8080"; port 0 = pick one */
	int threads;			/* thread pool size (default 4) */
	size_t max_body;		/* default 8 MiB */
	size_t max_inflated;		/* default 64 MiB */
	int timeout_s;			/* idle connection timeout (default 30) */
	int auth_fail_limit;		/* default 20 */
	int auth_fail_window_s;		/* default 60 */
	int log_json;			/* one JSON object per line instead of text */
	FILE *log;			/* default stderr */
	const char *tls_cert, *tls_key;	/* PEM files: serve HTTPS (NULL: plain HTTP) */
	hq_handler_fn handler;
	void *ctx;
};

struct hq_server;

/* Start listening; returns 0 and the running server. The chosen port is
 * available from hq_server_port() (useful with port 0). */
int hq_server_start(const struct hq_server_opts *o, struct hq_server **out);
int hq_server_port(const struct hq_server *s);
/* Stop accepting, let in-flight requests finish, free everything. */
void hq_server_stop(struct hq_server *s);
/* Block until SIGTERM or SIGINT (blocked in all threads by the caller before
 * hq_server_start so that only this call sees them). Returns the signal. */
int hq_server_wait_signal(void);
/* The same, for at most `seconds` (> 0): 0 when none came. */
int hq_server_wait_signal_for(int seconds);

/* Helpers for handlers: a JSON error response {"error":code,"message":msg}. */
void hq_response_error(struct hq_response *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
