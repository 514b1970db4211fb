/*
 * test_server.c - the HTTP layer of fieldsyncd (sync/hq/server.c) against a
 * real libmicrohttpd on 127.0.0.1, talked to with libcurl and raw sockets:
 * request fields, body limits, gzip both ways (and a gzip bomb), rate
 * limiting of failed authentications, slowloris timeout, huge headers,
 * broken framing, handler failures, the log, graceful stop, start errors,
 * TLS and IPv6; admission before the body, the budget of buffered bodies,
 * deadlines for slow clients, connections per address, the work pool for
 * deferred requests, security headers and the TLS key's file mode. Every
 * test starts its own server so that limits and the rate-limit table never
 * leak from one test into the next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "fieldsync.h"
#include "server.h"

/* ---- the test handler ---- */

static atomic_int calls;		/* handler invocations */
static atomic_int slow_entered;		/* /slow is inside the handler */

static uint32_t fnv(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* Deferred work: waits `defer_ms` (a password hash, say), then answers
 * with the status in the argument. */
static atomic_int defer_ms;
static atomic_int deferred_done;

static void defer_work(void *arg, struct hq_response *r)
{
	int status = *(int *)arg;
	usleep((useconds_t)atomic_load(&defer_ms) * 1000);
	if (status == 200) {
		r->status = 200;
		r->body = strdup("{\"deferred\":true}");
		r->body_len = strlen(r->body);
	} else {
		hq_response_error(r, status, "unauthorized", "deferred refusal");
	}
	atomic_fetch_add(&deferred_done, 1);
}

/* Echoes what it was given; a few paths misbehave on purpose. */
static int handler(void *ctx, const struct hq_request *q, struct hq_response *r)
{
	(void)ctx;
	atomic_fetch_add(&calls, 1);
	if (!strcmp(q->path, "/defer") || !strcmp(q->path, "/defer401")) {
		int *st = malloc(sizeof *st);
		*st = q->path[6] ? 401 : 200;
		if (hq_request_defer(q, defer_work, st, free) != 0) {
			free(st);
			hq_response_error(r, 503, "busy", "work queue full");
			r->retry_after = 1;
		}
		return 0;
	}
	if (!strcmp(q->path, "/page")) {
		r->status = 200;
		r->body = strdup("<!doctype html><title>p</title>");
		r->body_len = strlen(r->body);
		r->content_type = "text/html; charset=utf-8";
		r->csp = "default-src 'self'; frame-ancestors 'none'";
		return 0;
	}
	if (q->token && !strcmp(q->token, "bad")) {
		hq_response_error(r, 401, "unauthorized", "token %s refused", "bad");
		return 0;
	}
	if (!strcmp(q->path, "/forbidden")) {
		hq_response_error(r, 403, "forbidden", "no");
		return 0;
	}
	if (!strcmp(q->path, "/fail")) {
		r->body = strdup("{\"half\":");	/* must not leak or be sent */
		return -1;
	}
	if (!strcmp(q->path, "/zero"))
		return 0;
	if (!strcmp(q->path, "/slow")) {
		atomic_store(&slow_entered, 1);
		usleep(300 * 1000);
	}
	if (!strcmp(q->path, "/big")) {
		/* 64 KiB of compressible JSON */
		size_t n = 64 * 1024;
		char *b = malloc(n + 1);
		if (!b)
			return -1;
		b[0] = '[';
		for (size_t i = 1; i < n - 1; i++)
			b[i] = (i % 8 == 0) ? ',' : '7';
		b[n - 1] = ']';
		b[n] = 0;
		r->status = 200;
		r->body = b;
		r->body_len = n;
		return 0;
	}
	if (!strcmp(q->path, "/small")) {
		r->status = 200;
		r->body = strdup("{\"ok\":true}");
		r->body_len = strlen(r->body);
		return 0;
	}
	if (!strcmp(q->path, "/headers")) {
		r->status = 302;
		r->body = strdup("{}");	/* body_len left 0: the server measures it */
		r->set_cookie = strdup("sid=abc; HttpOnly; Secure; SameSite=Strict");
		r->location = "/elsewhere";
		r->retry_after = 7;
		r->content_type = "application/json; charset=utf-8";
		return 0;
	}
	cJSON *o = cJSON_CreateObject();
	add_str(o, "method", q->method);
	add_str(o, "path", q->path);
	add_str(o, "query", q->query);
	add_str(o, "token", q->token);
	add_str(o, "cookie", q->cookie);
	add_str(o, "content_type", q->content_type);
	add_str(o, "csrf", q->csrf);
	add_str(o, "ip", q->client_ip);
	cJSON_AddNumberToObject(o, "body_len", (double)q->body_len);
	cJSON_AddNumberToObject(o, "body_hash", fnv(q->body, q->body_len));
	cJSON_AddBoolToObject(o, "body_nul", q->body && q->body[q->body_len] == 0);
	r->body = cJSON_PrintUnformatted(o);
	r->body_len = strlen(r->body);
	cJSON_Delete(o);
	r->status = 200;
	r->records = 7;
	return 0;
}

/* ---- server fixture ---- */

static struct hq_server *srv;
static FILE *srv_log;
static int srv_port;
static const char *srv_host = "127.0.0.1";

static void default_opts(struct hq_server_opts *o)
{
	memset(o, 0, sizeof *o);
	o->listen = "127.0.0.1:0";
	o->threads = 2;
	o->max_body = 1 << 20;
	o->max_inflated = 1 << 20;
	o->timeout_s = 5;
	o->auth_fail_limit = 3;
	o->auth_fail_window_s = 60;
	o->handler = handler;
}

static void start_with(struct hq_server_opts *o)
{
	srv_log = tmpfile();
	assert_non_null(srv_log);
	o->log = srv_log;
	assert_int_equal(hq_server_start(o, &srv), 0);
	assert_non_null(srv);
	srv_port = hq_server_port(srv);
	assert_true(srv_port > 0 && srv_port < 65536);
	atomic_store(&calls, 0);
}

static void start_default(void)
{
	struct hq_server_opts o;
	default_opts(&o);
	start_with(&o);
}

static int teardown(void **state)
{
	(void)state;
	hq_server_stop(srv);
	srv = NULL;
	if (srv_log)
		fclose(srv_log);
	srv_log = NULL;
	srv_host = "127.0.0.1";
	return 0;
}

/* The whole log, after the server has stopped (every line flushed). */
static char *log_contents(void)
{
	fflush(srv_log);
	long n = ftell(srv_log);
	char *b = calloc(1, (size_t)n + 1);
	rewind(srv_log);
	assert_int_equal(fread(b, 1, (size_t)n, srv_log), (size_t)n);
	return b;
}

/* ---- libcurl client ---- */

struct res {
	CURLcode cc;
	long status;
	char *body;
	size_t len;
	char hdrs[16384];
	size_t hlen;
};

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
	struct res *r = u;
	char *nb = realloc(r->body, r->len + sz * n + 1);
	if (!nb)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, sz * n);
	r->len += sz * n;
	r->body[r->len] = 0;
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
	struct res *r = u;
	size_t k = sz * n;
	if (r->hlen + k < sizeof r->hdrs) {
		memcpy(r->hdrs + r->hlen, p, k);
		r->hlen += k;
		r->hdrs[r->hlen] = 0;
	}
	return k;
}

/* Value of response header `name` (last occurrence), or NULL. */
static const char *hdr(const struct res *r, const char *name)
{
	static char val[1024];
	const char *found = NULL;
	size_t nl = strlen(name);
	for (const char *l = r->hdrs; l && *l;) {
		if (!strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1;
			while (*v == ' ')
				v++;
			size_t m = strcspn(v, "\r\n");
			if (m >= sizeof val)
				m = sizeof val - 1;
			memcpy(val, v, m);
			val[m] = 0;
			found = val;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return found;
}

struct upload {
	size_t left;
};

static size_t on_read(char *buf, size_t sz, size_t n, void *u)
{
	struct upload *up = u;
	size_t k = sz * n < up->left ? sz * n : up->left;
	memset(buf, 'x', k);
	up->left -= k;
	return k;
}

struct call {
	const char *method;		/* NULL: GET, or POST when a body is given */
	const char *path;
	const char *const *headers;	/* NULL-terminated */
	const void *body;
	size_t len;
	size_t chunked;			/* >0: stream that many bytes chunked */
	const char *accept_encoding;	/* curl decodes what it asked for */
	int expect_100;			/* keep curl's Expect: 100-continue */
	int tls;
};

static void http(const struct call *c, struct res *r)
{
	memset(r, 0, sizeof *r);
	CURL *h = curl_easy_init();
	assert_non_null(h);
	char url[512];
	int v6 = strchr(srv_host, ':') != NULL;
	snprintf(url, sizeof url, "%s://%s%s%s:%d%s", c->tls ? "https" : "http", v6 ? "[" : "", srv_host,
		 v6 ? "]" : "", srv_port, c->path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 15L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (c->tls) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	struct curl_slist *sl = NULL;
	for (const char *const *p = c->headers; p && *p; p++)
		sl = curl_slist_append(sl, *p);
	if (!c->expect_100)
		sl = curl_slist_append(sl, "Expect:");
	struct upload up = { c->chunked };
	if (c->chunked) {
		sl = curl_slist_append(sl, "Transfer-Encoding: chunked");
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &up);
	} else if (c->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->len);
	}
	if (c->method)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
	if (c->accept_encoding)
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, c->accept_encoding);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, sl);
	r->cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(sl);
	curl_easy_cleanup(h);
}

static void get(const char *path, struct res *r)
{
	struct call c = { .path = path };
	http(&c, r);
}

static void res_free(struct res *r)
{
	free(r->body);
	r->body = NULL;
}

/* The JSON error body the server (or hq_response_error) produced. */
static void assert_error_body(const struct res *r, const char *code)
{
	assert_non_null(r->body);
	cJSON *j = cJSON_Parse(r->body);
	assert_non_null(j);
	cJSON *e = cJSON_GetObjectItem(j, "error");
	assert_true(cJSON_IsString(e));
	assert_string_equal(e->valuestring, code);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "message")));
	cJSON_Delete(j);
	const char *ct = hdr(r, "Content-Type");
	assert_non_null(ct);
	assert_string_equal(ct, "application/json");
}

static cJSON *echo(const struct res *r)
{
	assert_int_equal(r->cc, CURLE_OK);
	assert_int_equal(r->status, 200);
	cJSON *j = cJSON_Parse(r->body);
	assert_non_null(j);
	return j;
}

static const char *jstr(cJSON *j, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(j, k);
	assert_non_null(v);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(cJSON *j, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(j, k);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* ---- raw sockets ---- */

static int raw_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)srv_port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

/* Send what the peer takes; a server that answers early and closes is fine. */
static void raw_send(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		c += k;
		n -= (size_t)k;
	}
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Read until EOF/reset or `timeout_s`; returns bytes read, sets *closed. */
static size_t raw_read(int fd, char *buf, size_t cap, double timeout_s, int *closed)
{
	size_t len = 0;
	double end = now_s() + timeout_s;
	*closed = 0;
	while (len + 1 < cap) {
		double left = end - now_s();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);
		if (k <= 0) {
			*closed = 1;
			break;
		}
		len += (size_t)k;
	}
	buf[len] = 0;
	return len;
}

/* Status of the first response in `buf`, 0 if none. */
static int raw_status(const char *buf)
{
	int st = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &st) != 1)
		return 0;
	return st;
}

static void assert_alive(void)
{
	struct res r;
	get("/small", &r);
	assert_int_equal(r.cc, CURLE_OK);
	assert_int_equal(r.status, 200);
	res_free(&r);
}

/* ---- gzip helpers ---- */

static unsigned char *gz(const void *in, size_t n, size_t *out_n)
{
	uLong cap = compressBound((uLong)n) + 64;
	unsigned char *out = malloc(cap);
	z_stream z;
	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_n = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/* gzip of `zeros` zero bytes, compressed from a small buffer so the test
 * itself never holds the inflated size. */
static unsigned char *gz_zeros(size_t zeros, size_t *out_n)
{
	static const unsigned char zbuf[64 * 1024];
	size_t cap = zeros / 500 + 4096, len = 0;
	unsigned char *out = malloc(cap);
	z_stream z;
	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
	int rc;
	do {
		size_t k = zeros < sizeof zbuf ? zeros : sizeof zbuf;
		zeros -= k;
		z.next_in = (Bytef *)(uintptr_t)zbuf;
		z.avail_in = (uInt)k;
		do {
			z.next_out = out + len;
			z.avail_out = (uInt)(cap - len);
			rc = deflate(&z, zeros ? Z_NO_FLUSH : Z_FINISH);
			len = cap - z.avail_out;
			assert_true(z.avail_out > 0 || rc == Z_STREAM_END);
		} while (z.avail_in > 0);
	} while (zeros > 0);
	assert_int_equal(rc, Z_STREAM_END);
	deflateEnd(&z);
	*out_n = len;
	return out;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* ---- tests ---- */

static void test_get_fields(void **state)
{
	(void)state;
	start_default();
	struct res r;
	const char *h1[] = { "Authorization: Bearer tok-123", "Cookie: sid=s1; other=2", "X-CSRF-Token: c5rf",
			     NULL };
	struct call c = { .path = "/v1/echo/x?a=1&b=%20two", .headers = h1 };
	http(&c, &r);
	cJSON *j = echo(&r);
	assert_string_equal(jstr(j, "method"), "GET");
	assert_string_equal(jstr(j, "path"), "/v1/echo/x");
	assert_string_equal(jstr(j, "query"), "a=1&b=%20two");
	assert_string_equal(jstr(j, "token"), "tok-123");
	assert_string_equal(jstr(j, "cookie"), "sid=s1; other=2");
	assert_string_equal(jstr(j, "csrf"), "c5rf");
	assert_string_equal(jstr(j, "ip"), "127.0.0.1");
	assert_int_equal((int)jnum(j, "body_len"), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "body_nul")));
	cJSON_Delete(j);
	assert_string_equal(hdr(&r, "Content-Type"), "application/json");
	assert_string_equal(hdr(&r, "Cache-Control"), "no-store");
	res_free(&r);

	/* no query, and only Bearer counts as a token */
	const char *h2[] = { "Authorization: Basic dXNlcjpwYXNz", NULL };
	struct call c2 = { .path = "/plain", .headers = h2 };
	http(&c2, &r);
	j = echo(&r);
	assert_null(jstr(j, "query"));
	assert_null(jstr(j, "token"));
	assert_null(jstr(j, "cookie"));
	assert_null(jstr(j, "csrf"));
	cJSON_Delete(j);
	res_free(&r);

	const char *h3[] = { "Authorization: bearer   lower", NULL };
	struct call c3 = { .method = "DELETE", .path = "/d?", .headers = h3 };
	http(&c3, &r);
	j = echo(&r);
	assert_string_equal(jstr(j, "method"), "DELETE");
	assert_string_equal(jstr(j, "token"), "lower");
	assert_string_equal(jstr(j, "query"), "");
	cJSON_Delete(j);
	res_free(&r);

	/* MHD percent-decodes the path it hands over; the query stays raw */
	get("/v1/a%20b?q=%20", &r);
	j = echo(&r);
	assert_string_equal(jstr(j, "path"), "/v1/a b");
	assert_string_equal(jstr(j, "query"), "q=%20");
	cJSON_Delete(j);
	res_free(&r);
}

static void test_post_body(void **state)
{
	(void)state;
	start_default();
	size_t n = 300 * 1024;
	char *b = malloc(n);
	for (size_t i = 0; i < n; i++)
		b[i] = (char)(i * 7 % 251);	/* includes NUL bytes */
	const char *h[] = { "Content-Type: application/octet-stream", NULL };
	struct call c = { .path = "/v1/push", .headers = h, .body = b, .len = n };
	struct res r;
	http(&c, &r);
	cJSON *j = echo(&r);
	assert_string_equal(jstr(j, "method"), "POST");
	assert_string_equal(jstr(j, "content_type"), "application/octet-stream");
	assert_int_equal((size_t)jnum(j, "body_len"), n);
	assert_int_equal((uint32_t)jnum(j, "body_hash"), fnv(b, n));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "body_nul")));
	cJSON_Delete(j);
	res_free(&r);

	/* exactly max_body is allowed */
	char *m = calloc(1, 1 << 20);
	struct call c2 = { .path = "/v1/push", .body = m, .len = 1 << 20 };
	http(&c2, &r);
	j = echo(&r);
	assert_int_equal((size_t)jnum(j, "body_len"), (size_t)1 << 20);
	cJSON_Delete(j);
	res_free(&r);

	/* a chunked body under the cap arrives whole */
	struct call c3 = { .path = "/v1/push", .chunked = 200 * 1024 };
	http(&c3, &r);
	j = echo(&r);
	assert_int_equal((size_t)jnum(j, "body_len"), (size_t)200 * 1024);
	cJSON_Delete(j);
	res_free(&r);
	free(m);
	free(b);
}

static void test_gzip_request(void **state)
{
	(void)state;
	start_default();
	size_t n = 700 * 1024, zn;	/* inflated size under max_inflated */
	char *b = malloc(n);
	for (size_t i = 0; i < n; i++)
		b[i] = "{\"customer\":\"Rossi\",\"grade\":\"A\"}\n"[i % 34];
	unsigned char *z = gz(b, n, &zn);
	assert_true(zn < n / 10);
	const char *h[] = { "Content-Encoding: gzip", NULL };
	struct call c = { .path = "/v1/push", .headers = h, .body = z, .len = zn };
	struct res r;
	http(&c, &r);
	cJSON *j = echo(&r);
	assert_int_equal((size_t)jnum(j, "body_len"), n);
	assert_int_equal((uint32_t)jnum(j, "body_hash"), fnv(b, n));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "body_nul")));
	cJSON_Delete(j);
	res_free(&r);

	/* "identity" is the absence of an encoding */
	const char *h2[] = { "Content-Encoding: identity", NULL };
	struct call c2 = { .path = "/v1/push", .headers = h2, .body = "abc", .len = 3 };
	http(&c2, &r);
	j = echo(&r);
	assert_int_equal((int)jnum(j, "body_len"), 3);
	cJSON_Delete(j);
	res_free(&r);
	free(z);
	free(b);
}

static void test_corrupt_gzip(void **state)
{
	(void)state;
	start_default();
	const char *h[] = { "Content-Encoding: gzip", NULL };
	static const char junk[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03this is not deflate data at all";
	struct call c = { .path = "/v1/push", .headers = h, .body = junk, .len = sizeof junk - 1 };
	struct res r;
	http(&c, &r);
	assert_int_equal(r.status, 400);
	assert_error_body(&r, "bad_gzip");
	res_free(&r);

	/* a valid stream cut short */
	size_t zn;
	unsigned char *z = gz("hello hello hello hello", 23, &zn);
	struct call c2 = { .path = "/v1/push", .headers = h, .body = z, .len = zn - 6 };
	http(&c2, &r);
	assert_int_equal(r.status, 400);
	assert_error_body(&r, "bad_gzip");
	res_free(&r);

	/* plain text declared as gzip */
	struct call c3 = { .path = "/v1/push", .headers = h, .body = "{\"a\":1}", .len = 7 };
	http(&c3, &r);
	assert_int_equal(r.status, 400);
	res_free(&r);
	assert_int_equal(atomic_load(&calls), 0);
	free(z);
}

static void test_gzip_bomb(void **state)
{
	(void)state;
	start_default();	/* max_inflated 1 MiB */
	size_t zn;
	unsigned char *z = gz_zeros((size_t)100 << 20, &zn);
	assert_true(zn < (1u << 20));	/* passes the max_body check */
	long before = maxrss_kb();
	const char *h[] = { "Content-Encoding: gzip", NULL };
	struct call c = { .path = "/v1/push", .headers = h, .body = z, .len = zn };
	struct res r;
	double t0 = now_s();
	http(&c, &r);
	double dt = now_s() - t0;
	assert_int_equal(r.cc, CURLE_OK);
	assert_int_equal(r.status, 413);
	assert_error_body(&r, "body_too_large");
	assert_int_equal(atomic_load(&calls), 0);
	/* the server stopped at the cap: neither 100 MiB of memory nor the
	 * time to inflate them */
	assert_true(maxrss_kb() - before < 32 * 1024);
	assert_true(dt < 3.0);
	res_free(&r);
	free(z);
}

static void test_body_too_large(void **state)
{
	(void)state;
	start_default();	/* max_body 1 MiB */
	/* Content-Length over the cap: answered from the headers alone, the
	 * body is never sent */
	int fd = raw_connect();
	const char *req = "POST /v1/push HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n";
	raw_send(fd, req, strlen(req));
	char buf[4096];
	int closed;
	raw_read(fd, buf, sizeof buf, 3.0, &closed);
	close(fd);
	assert_int_equal(raw_status(buf), 413);
	assert_non_null(strstr(buf, "\"body_too_large\""));

	/* curl with Expect: 100-continue gets the 413 instead of the 100 */
	size_t n = 2 << 20;
	char *b = calloc(1, n);
	struct call c = { .path = "/v1/push", .body = b, .len = n, .expect_100 = 1 };
	const char *h[] = { "Expect: 100-continue", NULL };
	c.headers = h;
	struct res r;
	http(&c, &r);
	assert_int_equal(r.status, 413);
	assert_error_body(&r, "body_too_large");
	res_free(&r);

	/* chunked: no length up front, the running count trips */
	struct call c2 = { .path = "/v1/push", .chunked = (1 << 20) + 4096 };
	http(&c2, &r);
	assert_int_equal(r.cc, CURLE_OK);
	assert_int_equal(r.status, 413);
	assert_error_body(&r, "body_too_large");
	res_free(&r);

	/* a Content-Length that overflows */
	fd = raw_connect();
	req = "POST /v1/push HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n";
	raw_send(fd, req, strlen(req));
	raw_read(fd, buf, sizeof buf, 3.0, &closed);
	close(fd);
	fprintf(stderr, "# Content-Length overflow -> %d%s\n", raw_status(buf),
		strstr(buf, "body_too_large") ? " (ours)" : " (MHD)");
	assert_true(raw_status(buf) >= 400 && raw_status(buf) < 500);

	assert_int_equal(atomic_load(&calls), 0);
	assert_alive();
	free(b);
}

static void test_chunked_flood(void **state)
{
	(void)state;
	start_default();
	/* far past the cap: the server stops listening rather than discard
	 * forever; either a 413 or a closed connection, never a handler call */
	struct call c = { .path = "/v1/push", .chunked = (size_t)8 << 20 };
	struct res r;
	http(&c, &r);
	fprintf(stderr, "# 8 MiB chunked vs 1 MiB cap -> curl %d, status %ld\n", (int)r.cc, r.status);
	assert_true(r.cc != CURLE_OK || r.status == 413);
	res_free(&r);
	assert_int_equal(atomic_load(&calls), 0);
	assert_alive();
}

static void test_unknown_encoding(void **state)
{
	(void)state;
	start_default();
	const char *h[] = { "Content-Encoding: br", NULL };
	struct call c = { .path = "/v1/push", .headers = h, .body = "xxxx", .len = 4 };
	struct res r;
	http(&c, &r);
	assert_int_equal(r.status, 415);
	assert_error_body(&r, "unsupported_encoding");
	res_free(&r);
	const char *h2[] = { "Content-Encoding: gzip, gzip", NULL };
	struct call c2 = { .path = "/v1/push", .headers = h2, .body = "xxxx", .len = 4 };
	http(&c2, &r);
	assert_int_equal(r.status, 415);
	res_free(&r);
	assert_int_equal(atomic_load(&calls), 0);
}

static void test_response_gzip(void **state)
{
	(void)state;
	start_default();
	struct res r;
	struct call c = { .path = "/big", .accept_encoding = "gzip" };
	http(&c, &r);
	assert_int_equal(r.cc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(hdr(&r, "Content-Encoding"));
	assert_string_equal(hdr(&r, "Content-Encoding"), "gzip");
	assert_string_equal(hdr(&r, "Vary"), "Accept-Encoding");
	assert_true(atoi(hdr(&r, "Content-Length")) < 8 * 1024);	/* 64 KiB on the wire would not be */
	assert_int_equal(r.len, 64 * 1024);	/* curl inflated it back */
	assert_int_equal(r.body[0], '[');
	assert_int_equal(r.body[r.len - 1], ']');
	res_free(&r);

	/* no Accept-Encoding: plain */
	get("/big", &r);
	assert_null(hdr(&r, "Content-Encoding"));
	assert_string_equal(hdr(&r, "Vary"), "Accept-Encoding");
	assert_int_equal(r.len, 64 * 1024);
	res_free(&r);

	/* refused by weight (curl passes the header through and decodes nothing) */
	const char *h[] = { "Accept-Encoding: gzip;q=0, *;q=1", NULL };
	struct call c2 = { .path = "/big", .headers = h };
	http(&c2, &r);
	assert_null(hdr(&r, "Content-Encoding"));
	assert_int_equal(r.len, 64 * 1024);
	res_free(&r);

	/* small bodies are not worth it */
	struct call c3 = { .path = "/small", .accept_encoding = "gzip" };
	http(&c3, &r);
	assert_null(hdr(&r, "Content-Encoding"));
	assert_string_equal(r.body, "{\"ok\":true}");
	res_free(&r);
}

static void test_rate_limit(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.auth_fail_limit = 3;
	o.auth_fail_window_s = 1;
	start_with(&o);
	const char *bad[] = { "Authorization: Bearer bad", NULL };
	const char *good[] = { "Authorization: Bearer good", NULL };
	struct call cb = { .path = "/v1/pull", .headers = bad };
	struct call cg = { .path = "/v1/pull", .headers = good };
	struct res r;
	for (int i = 0; i < 2; i++) {
		http(&cb, &r);
		assert_int_equal(r.status, 401);
		assert_error_body(&r, "unauthorized");
		res_free(&r);
	}
	/* a 403 counts too */
	get("/forbidden", &r);
	assert_int_equal(r.status, 403);
	res_free(&r);
	int before = atomic_load(&calls);
	http(&cb, &r);
	assert_int_equal(r.status, 429);
	assert_error_body(&r, "rate_limited");
	assert_non_null(hdr(&r, "Retry-After"));
	assert_int_equal(atoi(hdr(&r, "Retry-After")), 1);
	res_free(&r);
	/* every request from that address, even with a good token */
	http(&cg, &r);
	assert_int_equal(r.status, 429);
	res_free(&r);
	assert_int_equal(atomic_load(&calls), before);
	/* after the window the address is heard again */
	usleep(1100 * 1000);
	http(&cg, &r);
	assert_int_equal(r.status, 200);
	res_free(&r);
}

static void test_idle_timeout(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.timeout_s = 1;
	start_with(&o);
	int fd = raw_connect();
	raw_send(fd, "GET /v1/pu", 10);
	char buf[1024];
	int closed;
	double t0 = now_s();
	raw_read(fd, buf, sizeof buf, 5.0, &closed);
	double dt = now_s() - t0;
	close(fd);
	fprintf(stderr, "# half request line: closed=%d after %.2f s, got %zu bytes\n", closed, dt, strlen(buf));
	assert_true(closed);
	assert_true(dt >= 0.5 && dt < 4.0);
	assert_alive();
}

static void test_huge_header(void **state)
{
	(void)state;
	start_default();
	size_t n = 100 * 1024;
	char *req = malloc(n + 256);
	int k = sprintf(req, "GET /v1/pull HTTP/1.1\r\nHost: t\r\nCookie: sid=");
	memset(req + k, 'a', n);
	strcpy(req + k + n, "\r\n\r\n");
	int fd = raw_connect();
	raw_send(fd, req, strlen(req));
	char buf[4096];
	int closed;
	raw_read(fd, buf, sizeof buf, 3.0, &closed);
	close(fd);
	int st = raw_status(buf);
	fprintf(stderr, "# 100 KiB Cookie header -> %d\n", st);
	assert_true(st >= 400 && st < 500);
	assert_int_equal(atomic_load(&calls), 0);

	/* a 100 KiB request line too */
	k = sprintf(req, "GET /");
	memset(req + k, 'b', n);
	strcpy(req + k + n, " HTTP/1.1\r\nHost: t\r\n\r\n");
	fd = raw_connect();
	raw_send(fd, req, strlen(req));
	raw_read(fd, buf, sizeof buf, 3.0, &closed);
	close(fd);
	st = raw_status(buf);
	fprintf(stderr, "# 100 KiB request line -> %d\n", st);
	assert_true(st >= 400 && st < 500);
	assert_alive();
	free(req);
	hq_server_stop(srv);
	srv = NULL;
	char *log = log_contents();
	fprintf(stderr, "%s", log);
	free(log);
}

static void test_broken_framing(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.timeout_s = 1;	/* a half-closed client waits for the timeout */
	start_with(&o);
	char buf[4096];
	int closed;

	/* malformed chunk size */
	int fd = raw_connect();
	const char *req = "POST /v1/push HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n";
	raw_send(fd, req, strlen(req));
	raw_read(fd, buf, sizeof buf, 3.0, &closed);
	close(fd);
	fprintf(stderr, "# malformed chunk size -> status %d, closed=%d\n", raw_status(buf), closed);
	assert_true(raw_status(buf) == 0 || (raw_status(buf) >= 400 && raw_status(buf) < 500));

	/* a chunk longer than announced */
	fd = raw_connect();
	req = "POST /v1/push HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello world\r\n0\r\n\r\n";
	raw_send(fd, req, strlen(req));
	raw_read(fd, buf, sizeof buf, 3.0, &closed);
	close(fd);
	fprintf(stderr, "# overlong chunk -> status %d, closed=%d\n", raw_status(buf), closed);

	/* Content-Length larger than what comes, then EOF */
	fd = raw_connect();
	req = "POST /v1/push HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nonly ten b";
	raw_send(fd, req, strlen(req));
	shutdown(fd, SHUT_WR);
	raw_read(fd, buf, sizeof buf, 4.0, &closed);
	close(fd);
	fprintf(stderr, "# short body then EOF -> status %d, closed=%d\n", raw_status(buf), closed);
	assert_true(closed);

	/* Content-Length smaller than what comes: the handler sees the
	 * declared bytes, the rest is the next (bogus) request */
	fd = raw_connect();
	req = "POST /v1/push HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloGARBAGE\r\n\r\n";
	raw_send(fd, req, strlen(req));
	raw_read(fd, buf, sizeof buf, 2.0, &closed);
	close(fd);
	fprintf(stderr, "# long body -> first status %d\n", raw_status(buf));
	assert_int_equal(raw_status(buf), 200);
	assert_non_null(strstr(buf, "\"body_len\":5"));

	assert_alive();
}

static void test_handler_failure(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.threads = 1;	/* no pool: one polling thread */
	start_with(&o);
	struct res r;
	get("/fail", &r);
	assert_int_equal(r.status, 500);
	assert_error_body(&r, "internal");
	assert_null(strstr(r.body, "half"));
	res_free(&r);
	get("/zero", &r);
	assert_int_equal(r.status, 500);
	assert_error_body(&r, "internal");
	res_free(&r);
}

static void test_response_headers(void **state)
{
	(void)state;
	start_default();
	struct res r;
	get("/headers", &r);
	assert_int_equal(r.status, 302);
	assert_string_equal(hdr(&r, "Set-Cookie"), "sid=abc; HttpOnly; Secure; SameSite=Strict");
	assert_string_equal(hdr(&r, "Location"), "/elsewhere");
	assert_string_equal(hdr(&r, "Retry-After"), "7");
	assert_string_equal(hdr(&r, "Content-Type"), "application/json; charset=utf-8");
	assert_string_equal(hdr(&r, "Cache-Control"), "no-store");
	assert_string_equal(r.body, "{}");
	res_free(&r);
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void run_log_traffic(void)
{
	struct res r;
	const char *h[] = { "Authorization: Bearer sekrit-token-42", "Cookie: sid=cookie-value-99", NULL };
	struct call c = { .path = "/v1/push?token=query-secret", .headers = h, .body = "{\"body-secret\":1}",
			  .len = 17 };
	http(&c, &r);	/* 200 */
	res_free(&r);
	get("/fail", &r);	/* 500 */
	res_free(&r);
	const char *bad[] = { "Authorization: Bearer bad", NULL };
	struct call cb = { .path = "/v1/pull", .headers = bad };
	http(&cb, &r);	/* 401 */
	res_free(&r);
	const char *enc[] = { "Content-Encoding: br", NULL };
	struct call ce = { .path = "/v1/push", .headers = enc, .body = "x", .len = 1 };
	http(&ce, &r);	/* 415 */
	res_free(&r);
	get("/a%0abad%20path\"x", &r);	/* log injection attempt */
	res_free(&r);
}

static void test_log_text(void **state)
{
	(void)state;
	start_default();
	run_log_traffic();
	hq_server_stop(srv);
	srv = NULL;
	char *log = log_contents();
	assert_int_equal(count_lines(log), 5);
	assert_null(strstr(log, "sekrit"));
	assert_null(strstr(log, "cookie-value"));
	assert_null(strstr(log, "query-secret"));
	assert_null(strstr(log, "body-secret"));
	/* lines are written when requests complete, which is not always in
	 * the order the client sent them: compare as a set */
	char ts[32], ip[64], method[16], path[300];
	int status, records, n = 0, seen[600] = { 0 }, posts = 0;
	double ms;
	size_t bin, bout;
	for (char *l = log; *l; l = strchr(l, '\n') + 1, n++) {
		assert_int_equal(sscanf(l, "%31s %63s %15s %299s %d records=%d ms=%lf bytes_in=%zu bytes_out=%zu", ts,
					ip, method, path, &status, &records, &ms, &bin, &bout),
				 9);
		assert_int_equal(strlen(ts), 20);
		assert_int_equal(ts[19], 'Z');
		assert_string_equal(ip, "127.0.0.1");
		assert_true(status >= 0 && status < 600);
		seen[status]++;
		assert_null(strchr(path, '"'));
		if (status == 200 && !strcmp(method, "POST")) {
			assert_string_equal(path, "/v1/push");
			assert_int_equal(records, 7);
			assert_int_equal(bin, 17);
			assert_true(bout > 0);
			posts++;
		}
	}
	assert_int_equal(seen[200], 2);
	assert_int_equal(seen[401], 1);
	assert_int_equal(seen[415], 1);
	assert_int_equal(seen[500], 1);
	assert_int_equal(posts, 1);
	free(log);
}

static void test_log_json(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.log_json = 1;
	start_with(&o);
	run_log_traffic();
	hq_server_stop(srv);
	srv = NULL;
	char *log = log_contents();
	assert_int_equal(count_lines(log), 5);
	assert_null(strstr(log, "sekrit"));
	assert_null(strstr(log, "cookie-value"));
	assert_null(strstr(log, "query-secret"));
	int n = 0, posts = 0;
	for (char *l = log; *l; n++) {
		char *nl = strchr(l, '\n');
		*nl = 0;
		cJSON *j = cJSON_Parse(l);
		assert_non_null(j);
		static const char *const keys[] = { "ts", "ip", "method", "path", "status", "records", "ms",
						    "bytes_in", "bytes_out" };
		for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
			assert_non_null(cJSON_GetObjectItem(j, keys[k]));
		if (!strcmp(jstr(j, "method"), "POST") && (int)jnum(j, "status") == 200) {
			assert_string_equal(jstr(j, "path"), "/v1/push");
			assert_int_equal((int)jnum(j, "records"), 7);
			posts++;
		}
		cJSON_Delete(j);
		l = nl + 1;
	}
	assert_int_equal(posts, 1);
	free(log);
}

struct slow_arg {
	struct res r;
};

static void *slow_client(void *p)
{
	struct slow_arg *a = p;
	memset(&a->r, 0, sizeof a->r);
	CURL *h = curl_easy_init();
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", srv_port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a->r);
	a->r.cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->r.status);
	curl_easy_cleanup(h);
	return NULL;
}

static void test_graceful_stop(void **state)
{
	(void)state;
	start_default();
	atomic_store(&slow_entered, 0);
	struct slow_arg a;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, slow_client, &a), 0);
	double dl = now_s() + 5;
	while (!atomic_load(&slow_entered) && now_s() < dl)
		usleep(2000);
	assert_true(atomic_load(&slow_entered));
	int port = srv_port;
	double t0 = now_s();
	hq_server_stop(srv);	/* waits for /slow */
	srv = NULL;
	double dt = now_s() - t0;
	pthread_join(t, NULL);
	assert_int_equal(a.r.cc, CURLE_OK);
	assert_int_equal(a.r.status, 200);
	assert_true(dt > 0.1 && dt < 5.0);
	res_free(&a.r);
	/* nothing listens any more */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_not_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
}

static void test_start_errors(void **state)
{
	(void)state;
	start_default();
	FILE *log = tmpfile();
	struct hq_server_opts o;
	struct hq_server *s2 = (struct hq_server *)1;
	default_opts(&o);
	o.log = log;
	static const char *const bad[] = { "nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "::1:80",
					   "[::1]80", "nosuchhost.invalid:80", "1.2.3:80", "127.0.0.1:8a", "" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		o.listen = bad[i];
		assert_true(hq_server_start(&o, &s2) < 0);
		assert_null(s2);
	}
	char in_use[64];
	snprintf(in_use, sizeof in_use, "127.0.0.1:%d", srv_port);
	o.listen = in_use;
	assert_true(hq_server_start(&o, &s2) < 0);
	o.listen = "127.0.0.1:0";
	o.tls_cert = "/nonexistent/cert.pem";
	o.tls_key = "/nonexistent/key.pem";
	assert_true(hq_server_start(&o, &s2) < 0);
	o.tls_key = NULL;
	assert_true(hq_server_start(&o, &s2) < 0);
	o.tls_cert = NULL;
	o.handler = NULL;
	assert_true(hq_server_start(&o, &s2) < 0);

	fflush(log);
	long n = ftell(log);
	char *b = calloc(1, (size_t)n + 1);
	rewind(log);
	assert_int_equal(fread(b, 1, (size_t)n, log), (size_t)n);
	fclose(log);
	assert_non_null(strstr(b, "bad listen address 'nonsense'"));
	assert_non_null(strstr(b, "address in use"));
	assert_non_null(strstr(b, "/nonexistent/cert.pem"));
	free(b);
}

static void test_tls(void **state)
{
	(void)state;
	char dir[] = "/tmp/fs_tls_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[512], cert[64], key[64];
	snprintf(cert, sizeof cert, "%s/c.pem", dir);
	snprintf(key, sizeof key, "%s/k.pem", dir);
	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
		 "-subj /CN=localhost -keyout %s -out %s >/dev/null 2>&1",
		 key, cert);
	if (system(cmd) != 0) {
		rmdir(dir);
		skip();
	}
	struct hq_server_opts o;
	default_opts(&o);
	o.tls_cert = cert;
	o.tls_key = key;
	start_with(&o);
	struct res r;
	struct call c = { .path = "/tls?x=1", .tls = 1 };
	http(&c, &r);
	cJSON *j = echo(&r);
	assert_string_equal(jstr(j, "path"), "/tls");
	cJSON_Delete(j);
	res_free(&r);

	/* a key that is not the certificate's: refused at start */
	struct hq_server *s2 = NULL;
	FILE *log = tmpfile();
	o.log = log;
	o.tls_key = cert;
	assert_true(hq_server_start(&o, &s2) < 0);
	assert_null(s2);
	fclose(log);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

static void test_ipv6(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.listen = "[::1]:0";
	srv_log = tmpfile();
	o.log = srv_log;
	if (hq_server_start(&o, &srv) != 0)
		skip();	/* no IPv6 loopback here */
	srv_port = hq_server_port(srv);
	srv_host = "::1";
	struct res r;
	get("/six", &r);
	cJSON *j = echo(&r);
	assert_string_equal(jstr(j, "ip"), "::1");
	cJSON_Delete(j);
	res_free(&r);
}

static void test_defaults(void **state)
{
	(void)state;
	struct hq_server_opts o;
	memset(&o, 0, sizeof o);	/* every limit at its default */
	o.listen = "127.0.0.1:0";
	o.handler = handler;
	start_with(&o);
	size_t n = (size_t)3 << 20;	/* over the tests' 1 MiB, under 8 MiB */
	char *b = calloc(1, n);
	struct call c = { .path = "/v1/push", .body = b, .len = n };
	struct res r;
	http(&c, &r);
	cJSON *j = echo(&r);
	assert_int_equal((size_t)jnum(j, "body_len"), n);
	cJSON_Delete(j);
	res_free(&r);
	free(b);
	/* 9 MiB is over the default cap */
	int fd = raw_connect();
	const char *req = "POST /v1/push HTTP/1.1\r\nHost: t\r\nContent-Length: 9437184\r\n\r\n";
	raw_send(fd, req, strlen(req));
	char buf[2048];
	int closed;
	raw_read(fd, buf, sizeof buf, 3.0, &closed);
	close(fd);
	assert_int_equal(raw_status(buf), 413);
}

static void test_wait_signal(void **state)
{
	(void)state;
	/* SIGTERM/SIGINT are blocked in main() before any thread exists */
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_int_equal(hq_server_wait_signal(), SIGTERM);
	assert_int_equal(kill(getpid(), SIGINT), 0);
	assert_int_equal(hq_server_wait_signal(), SIGINT);
}

static void test_response_error_helper(void **state)
{
	(void)state;
	struct hq_response r;
	memset(&r, 0, sizeof r);
	r.body = strdup("old");
	hq_response_error(&r, 404, "not_found", "no record \"%s\" (%d)", "a\nb", 3);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.body_len, strlen(r.body));
	assert_string_equal(r.content_type, "application/json");
	cJSON *j = cJSON_Parse(r.body);
	assert_non_null(j);
	assert_string_equal(jstr(j, "error"), "not_found");
	assert_string_equal(jstr(j, "message"), "no record \"a\nb\" (3)");
	cJSON_Delete(j);
	free(r.body);
}

/* ---- admission, budget, deadlines, connections per address, work pool ---- */

static atomic_int admits;
static atomic_int admit_saw_body;

/* /deny: refused from the headers; /tiny: 100 bytes at most; /nobody: no
 * body at all; /greedy asks for more than the server allows; else the
 * server's limits. */
static int admit(void *ctx, const struct hq_request *q, struct hq_admission *adm, struct hq_response *r)
{
	(void)ctx;
	atomic_fetch_add(&admits, 1);
	if (q->body || q->body_len)
		atomic_store(&admit_saw_body, 1);
	if (!strcmp(q->path, "/deny")) {
		hq_response_error(r, 401, "unauthorized", "no entry for %s %s", q->method, q->path);
		return 1;
	}
	if (!strcmp(q->path, "/tiny"))
		adm->max_body = adm->max_inflated = 100;
	else if (!strcmp(q->path, "/nobody"))
		adm->max_body = adm->max_inflated = 0;
	else if (!strcmp(q->path, "/greedy"))
		adm->max_body = adm->max_inflated = SIZE_MAX;
	return 0;
}

static void start_admit(struct hq_server_opts *o)
{
	o->admit = admit;
	atomic_store(&admits, 0);
	atomic_store(&admit_saw_body, 0);
	start_with(o);
}

static void test_admission(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.auth_fail_limit = 50;
	start_admit(&o);

	/* refused before the body: the 8 MiB a stranger sends are never
	 * read, and the answer comes at once */
	int fd = raw_connect();
	const char *req = "POST /deny HTTP/1.1\r\nHost: t\r\nContent-Length: 8388608\r\n\r\n";
	raw_send(fd, req, strlen(req));
	char buf[4096];
	int closed;
	double t0 = now_s();
	raw_read(fd, buf, sizeof buf, 3.0, &closed);
	close(fd);
	assert_int_equal(raw_status(buf), 401);
	assert_non_null(strstr(buf, "no entry for POST /deny"));
	assert_true(now_s() - t0 < 2.0);

	/* a body of up to 1 MiB is read and dropped first, so that the
	 * client reads the answer instead of a reset; never a handler */
	size_t n = (size_t)1 << 20;
	char *b = calloc(1, n + 1);	/* + 1: the greedy call below sends one more */
	struct call c = { .path = "/deny", .body = b, .len = n };
	struct res r;
	for (int i = 0; i < 5; i++) {
		http(&c, &r);
		assert_int_equal(r.cc, CURLE_OK);
		assert_int_equal(r.status, 401);
		assert_error_body(&r, "unauthorized");
		res_free(&r);
	}

	/* a lower cap from admission, by Content-Length and for chunked */
	struct call ct = { .path = "/tiny", .body = b, .len = 101 };
	http(&ct, &r);
	assert_int_equal(r.status, 413);
	assert_error_body(&r, "body_too_large");
	assert_non_null(strstr(r.body, "exceeds 100 bytes"));
	res_free(&r);
	struct call ctc = { .path = "/tiny", .chunked = 1000 };
	http(&ctc, &r);
	assert_int_equal(r.status, 413);
	res_free(&r);
	struct call ct2 = { .path = "/tiny", .body = b, .len = 100 };
	http(&ct2, &r);
	cJSON *j = echo(&r);
	assert_int_equal((int)jnum(j, "body_len"), 100);
	cJSON_Delete(j);
	res_free(&r);

	/* no body at all: one byte is too many, none is fine */
	struct call cn = { .path = "/nobody", .body = "x", .len = 1 };
	http(&cn, &r);
	assert_int_equal(r.status, 413);
	res_free(&r);
	get("/nobody", &r);
	assert_int_equal(r.status, 200);
	res_free(&r);

	/* admission cannot raise the server's own limit (1 MiB here) */
	struct call cg = { .path = "/greedy", .body = b, .len = n + 1 };
	http(&cg, &r);
	assert_int_equal(r.status, 413);
	res_free(&r);
	assert_int_equal(atomic_load(&calls), 2);	/* the two 200s above */

	/* refusals count as failed authentications (401 here) */
	char *log = NULL;
	hq_server_stop(srv);
	srv = NULL;
	log = log_contents();
	assert_non_null(strstr(log, "POST /deny 401"));
	assert_null(strstr(log, "POST /deny 401 records=0 ms=0.0 bytes_in=8388608"));
	free(log);
	assert_int_equal(atomic_load(&admit_saw_body), 0);
	assert_true(atomic_load(&admits) >= 12);
	free(b);
}

static void test_body_budget(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.threads = 1;	/* one connection thread: headers are handled in arrival order */
	o.max_body = 4 << 20;
	o.max_inflated = 8 << 20;
	o.max_buffered = 1 << 20;
	start_admit(&o);

	/* A holds 600 KB of the 1 MiB budget from its headers on */
	int fa = raw_connect();
	const char *ha = "POST /v1/push HTTP/1.1\r\nHost: t\r\nContent-Length: 600000\r\n\r\n";
	raw_send(fa, ha, strlen(ha));
	double dl = now_s() + 5;
	while (atomic_load(&admits) < 1 && now_s() < dl)
		usleep(2000);
	assert_int_equal(atomic_load(&admits), 1);

	/* B would pass the budget: 503 at once, before its body */
	int fb = raw_connect();
	const char *hb = "POST /v1/push HTTP/1.1\r\nHost: t\r\nContent-Length: 600000\r\n\r\n";
	raw_send(fb, hb, strlen(hb));
	char buf[4096];
	int closed;
	raw_read(fb, buf, sizeof buf, 3.0, &closed);
	close(fb);
	assert_int_equal(raw_status(buf), 503);
	assert_non_null(strstr(buf, "\"busy\""));
	assert_non_null(strcasestr(buf, "Retry-After: 1"));

	/* A completes and is answered; its share comes back */
	char *body = malloc(600000);
	memset(body, 'a', 600000);
	raw_send(fa, body, 600000);
	raw_read(fa, buf, sizeof buf, 3.0, &closed);
	close(fa);
	assert_int_equal(raw_status(buf), 200);
	struct call cb = { .path = "/v1/push", .body = body, .len = 600000 };
	struct res r;
	http(&cb, &r);
	assert_int_equal(r.status, 200);
	res_free(&r);

	/* over the budget by Content-Length alone, and chunked (discovered as
	 * it grows: answered once the body is in) */
	size_t big = (size_t)2 << 20;
	char *bb = calloc(1, big);
	struct call c2 = { .path = "/v1/push", .body = bb, .len = big, .expect_100 = 1 };
	const char *expect[] = { "Expect: 100-continue", NULL };
	c2.headers = expect;
	http(&c2, &r);
	assert_int_equal(r.status, 503);
	assert_error_body(&r, "busy");
	assert_string_equal(hdr(&r, "Retry-After"), "1");
	res_free(&r);
	struct call c3 = { .path = "/v1/push", .chunked = big };
	http(&c3, &r);
	assert_int_equal(r.status, 503);
	res_free(&r);

	/* a gzip body inflating past the budget */
	size_t zn;
	unsigned char *z = gz_zeros((size_t)3 << 20, &zn);
	const char *gzh[] = { "Content-Encoding: gzip", NULL };
	struct call c4 = { .path = "/v1/push", .headers = gzh, .body = z, .len = zn };
	http(&c4, &r);
	assert_int_equal(r.status, 503);
	res_free(&r);
	free(z);

	/* and the budget is whole again */
	http(&cb, &r);
	assert_int_equal(r.status, 200);
	res_free(&r);
	free(bb);
	free(body);
}

/* Send the first `at_once` bytes of `msg`, then trickle the rest one byte
 * every `gap_ms` until the server closes (or `max_s`); returns the seconds
 * it took, or -1 if never closed. */
static double trickle(const char *msg, size_t at_once, size_t len, int gap_ms, double max_s)
{
	int fd = raw_connect();
	double t0 = now_s();
	raw_send(fd, msg, at_once);
	for (size_t i = at_once; now_s() - t0 < max_s; i++) {
		if (i < len && send(fd, msg + i, 1, MSG_NOSIGNAL) != 1)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, gap_ms) > 0) {
			char c;
			if (recv(fd, &c, 1, MSG_DONTWAIT) <= 0)
				break;
		}
	}
	double dt = now_s() - t0;
	close(fd);
	return dt < max_s ? dt : -1;
}

static void test_slow_headers(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.timeout_s = 10;	/* a byte every 0.2 s would keep an idle timeout at bay forever */
	o.header_timeout_s = 1;
	start_with(&o);
	static const char slow[] = "GET /v1/pull HTTP/1.1\r\nHost: t\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	/* request line still incomplete at the deadline */
	double dt = trickle(slow, 0, 12, 200, 8.0);
	fprintf(stderr, "# request line trickled: closed after %.2f s\n", dt);
	assert_true(dt >= 0.9 && dt < 3.0);
	/* request line in at once, headers trickling */
	dt = trickle(slow, strlen("GET /v1/pull HTTP/1.1\r\n"), sizeof slow - 1, 200, 8.0);
	fprintf(stderr, "# headers trickled: closed after %.2f s\n", dt);
	assert_true(dt >= 0.9 && dt < 3.0);
	assert_alive();
	hq_server_stop(srv);
	srv = NULL;
	char *log = log_contents();
	assert_non_null(strstr(log, "closed a connection from 127.0.0.1: no complete request line within 1 s"));
	assert_non_null(strstr(log, " - /v1/pull 0 "));	/* method unknown: headers never came */
	assert_non_null(strstr(log, "end=slow_headers"));
	free(log);
}

static void test_slow_body(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.timeout_s = 10;
	o.body_grace_s = 1;
	o.body_min_rate = 1000;
	start_with(&o);
	/* 100 bytes/s against 1000: closed once the grace is over */
	int fd = raw_connect();
	const char *h = "POST /v1/push HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n";
	raw_send(fd, h, strlen(h));
	double t0 = now_s();
	char buf[512];
	int closed = 0;
	while (now_s() - t0 < 8.0) {
		memset(buf, 'x', 10);
		if (send(fd, buf, 10, MSG_NOSIGNAL) != 10)
			break;
		raw_read(fd, buf, sizeof buf, 0.1, &closed);
		if (closed)
			break;
	}
	double dt = now_s() - t0;
	close(fd);
	fprintf(stderr, "# body at 100 B/s: closed after %.2f s\n", dt);
	assert_true(dt >= 0.9 && dt < 3.5);

	/* 1 MB at full speed after a pause inside the grace: fine */
	fd = raw_connect();
	const char *h2 = "POST /v1/push HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 1000000\r\n\r\n";
	raw_send(fd, h2, strlen(h2));
	usleep(500 * 1000);
	char *b = malloc(1000000);
	memset(b, 'y', 1000000);
	raw_send(fd, b, 1000000);
	raw_read(fd, buf, sizeof buf, 3.0, &closed);
	close(fd);
	free(b);
	assert_int_equal(raw_status(buf), 200);
	hq_server_stop(srv);
	srv = NULL;
	char *log = log_contents();
	assert_non_null(strstr(log, "POST /v1/push 0 "));
	assert_non_null(strstr(log, "end=slow_body"));
	free(log);
}

/* Whether the server hangs up on a fresh connection at once. */
static int refused_at_accept(void)
{
	int fd = raw_connect();
	char buf[256];
	int closed;
	const char *req = "GET /small HTTP/1.1\r\nHost: t\r\n\r\n";
	raw_send(fd, req, strlen(req));
	raw_read(fd, buf, sizeof buf, 2.0, &closed);
	close(fd);
	return closed && raw_status(buf) == 0;
}

static void test_conns_per_ip(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.max_conns_per_ip = 2;
	start_with(&o);
	int a = raw_connect(), b = raw_connect();
	/* both are served (keep-alive: they stay open) */
	char buf[2048];
	int closed;
	const char *req = "GET /small HTTP/1.1\r\nHost: t\r\n\r\n";
	raw_send(a, req, strlen(req));
	raw_read(a, buf, sizeof buf, 0.5, &closed);
	assert_int_equal(raw_status(buf), 200);
	raw_send(b, req, strlen(req));
	raw_read(b, buf, sizeof buf, 0.5, &closed);
	assert_int_equal(raw_status(buf), 200);
	assert_true(refused_at_accept());
	close(a);
	close(b);
	/* the slots come back once the server has seen them close */
	struct res r;
	double dl = now_s() + 5;
	do {
		get("/small", &r);
		res_free(&r);
	} while (r.status != 200 && now_s() < dl);
	assert_int_equal(r.status, 200);
}

struct defer_arg {
	const char *path;
	struct res r;
};

static void *defer_client(void *p)
{
	struct defer_arg *a = p;
	struct call c = { .path = a->path };
	http(&c, &a->r);
	return NULL;
}

static void test_work_pool(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	o.work_threads = 1;
	o.work_queue = 2;
	o.auth_fail_limit = 3;
	start_with(&o);
	atomic_store(&defer_ms, 1500);
	atomic_store(&deferred_done, 0);
	enum { N = 5 };
	struct defer_arg a[N];
	pthread_t t[N];
	for (int i = 0; i < N; i++) {
		a[i].path = "/defer";
		assert_int_equal(pthread_create(&t[i], NULL, defer_client, &a[i]), 0);
	}
	/* the pool is busy for seconds; the connection threads are not */
	double dl = now_s() + 5;
	while (atomic_load(&calls) < N && now_s() < dl)
		usleep(2000);
	double t0 = now_s();
	assert_alive();
	double fast = now_s() - t0;
	fprintf(stderr, "# /small while the pool works: %.0f ms\n", fast * 1000);
	assert_true(fast < 1.0);
	assert_int_equal(atomic_load(&deferred_done), 0);
	int ok = 0, busy = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		if (a[i].r.status == 200) {
			assert_string_equal(a[i].r.body, "{\"deferred\":true}");
			ok++;
		} else if (a[i].r.status == 503) {
			assert_non_null(hdr(&a[i].r, "Retry-After"));
			busy++;
		}
		res_free(&a[i].r);
	}
	assert_int_equal(ok, 2);	/* the queue holds two */
	assert_int_equal(busy, N - 2);

	/* a deferred 401 counts against the address like any other */
	atomic_store(&defer_ms, 0);
	struct res r;
	for (int i = 0; i < 3; i++) {
		get("/defer401", &r);
		assert_int_equal(r.status, 401);
		assert_error_body(&r, "unauthorized");
		res_free(&r);
	}
	get("/defer401", &r);
	assert_int_equal(r.status, 429);
	res_free(&r);
}

static void test_work_pool_stop(void **state)
{
	(void)state;
	struct hq_server_opts o;
	default_opts(&o);
	start_with(&o);
	atomic_store(&defer_ms, 400);
	struct defer_arg a = { .path = "/defer" };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, defer_client, &a), 0);
	double dl = now_s() + 5;
	while (atomic_load(&calls) < 1 && now_s() < dl)
		usleep(2000);
	/* stopping waits for the deferred answer, which still goes out */
	hq_server_stop(srv);
	srv = NULL;
	pthread_join(t, NULL);
	assert_int_equal(a.r.cc, CURLE_OK);
	assert_int_equal(a.r.status, 200);
	res_free(&a.r);
}

static void test_security_headers(void **state)
{
	(void)state;
	start_default();
	struct res r;
	get("/small", &r);
	assert_string_equal(hdr(&r, "Content-Security-Policy"), HQ_CSP_NONE);
	assert_non_null(strstr(hdr(&r, "Content-Security-Policy"), "frame-ancestors 'none'"));
	assert_string_equal(hdr(&r, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(hdr(&r, "X-Frame-Options"), "DENY");
	assert_string_equal(hdr(&r, "Referrer-Policy"), "no-referrer");
	assert_string_equal(hdr(&r, "Cache-Control"), "no-store");
	assert_null(hdr(&r, "Strict-Transport-Security"));	/* plain HTTP */
	res_free(&r);
	/* a page sets its own policy; the rest stays */
	get("/page", &r);
	assert_string_equal(hdr(&r, "Content-Security-Policy"), "default-src 'self'; frame-ancestors 'none'");
	assert_string_equal(hdr(&r, "Cache-Control"), "no-store");
	assert_string_equal(hdr(&r, "X-Frame-Options"), "DENY");
	res_free(&r);
	/* errors made by the server itself carry them too */
	const char *h[] = { "Content-Encoding: br", NULL };
	struct call c = { .path = "/v1/push", .headers = h, .body = "x", .len = 1 };
	http(&c, &r);
	assert_int_equal(r.status, 415);
	assert_string_equal(hdr(&r, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(hdr(&r, "Content-Security-Policy"), HQ_CSP_NONE);
	res_free(&r);
}

/* A certificate and key in a fresh directory; 0 if openssl is missing. */
static int make_cert(char dir[], char cert[64], char key[64])
{
	char cmd[512];
	if (!mkdtemp(dir))
		return 0;
	snprintf(cert, 64, "%s/c.pem", dir);
	snprintf(key, 64, "%s/k.pem", dir);
	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
		 "-subj /CN=localhost -keyout %s -out %s >/dev/null 2>&1",
		 key, cert);
	if (system(cmd) != 0) {
		rmdir(dir);
		return 0;
	}
	chmod(key, 0600);
	return 1;
}

static void remove_cert(const char *dir, const char *cert, const char *key)
{
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

static void test_tls_key_mode(void **state)
{
	(void)state;
	char dir[] = "/tmp/fs_key_XXXXXX", cert[64], key[64];
	if (!make_cert(dir, cert, key))
		skip();
	assert_int_equal(hq_server_check_key(key), 0);
	static const mode_t bad[] = { 0644, 0604, 0660, 0640, 0602 };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(chmod(key, bad[i]), 0);
		/* this user's own key: not even its group may read it */
		assert_int_equal(hq_server_check_key(key), FIELDSYNC_EINVAL);
	}
	assert_int_equal(hq_server_check_key("/nonexistent/key.pem"), FIELDSYNC_EIO);

	/* the server refuses to start with it, and says why */
	assert_int_equal(chmod(key, 0644), 0);
	struct hq_server_opts o;
	default_opts(&o);
	o.tls_cert = cert;
	o.tls_key = key;
	FILE *log = tmpfile();
	o.log = log;
	struct hq_server *s2 = (struct hq_server *)1;
	assert_int_equal(hq_server_start(&o, &s2), FIELDSYNC_EINVAL);
	assert_null(s2);
	fflush(log);
	long n = ftell(log);
	char *b = calloc(1, (size_t)n + 1);
	rewind(log);
	assert_int_equal(fread(b, 1, (size_t)n, log), (size_t)n);
	fclose(log);
	assert_non_null(strstr(b, "open to others (mode 0644); chmod 600 it"));
	free(b);

	/* root's key readable by the service's group (root:fieldsync 0640) */
	if (geteuid() != 0 && chown(key, 0, (gid_t)-1) == 0) {
		assert_int_equal(chmod(key, 0640), 0);
		assert_int_equal(hq_server_check_key(key), 0);
	}
	remove_cert(dir, cert, key);
}

/* One TLS handshake with the protocol versions [min, max]; CURLE_OK if it
 * went through. The client allows everything it can (SECLEVEL=0) so that a
 * refusal is the server's. */
static CURLcode tls_version(long min, long max)
{
	CURL *h = curl_easy_init();
	char url[128];
	struct res r;
	memset(&r, 0, sizeof r);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/small", srv_port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, min | max);
	curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, "DEFAULT@SECLEVEL=0");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	CURLcode cc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	res_free(&r);
	return cc;
}

static void test_tls_versions(void **state)
{
	(void)state;
	char dir[] = "/tmp/fs_tlsv_XXXXXX", cert[64], key[64];
	if (!make_cert(dir, cert, key))
		skip();
	struct hq_server_opts o;
	default_opts(&o);
	o.tls_cert = cert;
	o.tls_key = key;
	/* first a server that allows TLS 1.0: the client really speaks it */
	o.tls_priorities = "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1";
	start_with(&o);
	CURLcode old10 = tls_version(CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_0);
	hq_server_stop(srv);
	srv = NULL;
	fclose(srv_log);
	srv_log = NULL;
	if (old10 != CURLE_OK) {
		fprintf(stderr, "# this TLS client cannot speak TLS 1.0 (%d): skipped\n", (int)old10);
		remove_cert(dir, cert, key);
		skip();
	}
	/* the default refuses 1.0 and 1.1, speaks 1.2 and 1.3 */
	o.tls_priorities = NULL;
	start_with(&o);
	assert_int_not_equal(tls_version(CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_0), CURLE_OK);
	assert_int_not_equal(tls_version(CURL_SSLVERSION_TLSv1_1, CURL_SSLVERSION_MAX_TLSv1_1), CURLE_OK);
	assert_int_equal(tls_version(CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_2), CURLE_OK);
	assert_int_equal(tls_version(CURL_SSLVERSION_TLSv1_3, CURL_SSLVERSION_MAX_TLSv1_3), CURLE_OK);
	/* and says so over HTTPS */
	struct res r;
	struct call c = { .path = "/small", .tls = 1 };
	http(&c, &r);
	assert_string_equal(hdr(&r, "Strict-Transport-Security"), "max-age=31536000");
	res_free(&r);

	/* a priority string GnuTLS does not know stops the start */
	struct hq_server *s2 = NULL;
	FILE *log = tmpfile();
	o.log = log;
	o.tls_priorities = "NORMAL:+NO-SUCH-THING";
	assert_true(hq_server_start(&o, &s2) < 0);
	assert_null(s2);
	fclose(log);
	remove_cert(dir, cert, key);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	/* hq_server_wait_signal's contract: block before threads start */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		T(test_get_fields),
		T(test_post_body),
		T(test_gzip_request),
		T(test_corrupt_gzip),
		T(test_gzip_bomb),
		T(test_body_too_large),
		T(test_chunked_flood),
		T(test_unknown_encoding),
		T(test_response_gzip),
		T(test_rate_limit),
		T(test_idle_timeout),
		T(test_huge_header),
		T(test_broken_framing),
		T(test_handler_failure),
		T(test_response_headers),
		T(test_log_text),
		T(test_log_json),
		T(test_graceful_stop),
		T(test_start_errors),
		T(test_tls),
		T(test_ipv6),
		T(test_defaults),
		T(test_wait_signal),
		T(test_response_error_helper),
		T(test_admission),
		T(test_body_budget),
		T(test_slow_headers),
		T(test_slow_body),
		T(test_conns_per_ip),
		T(test_work_pool),
		T(test_work_pool_stop),
		T(test_security_headers),
		T(test_tls_key_mode),
		T(test_tls_versions),
	};
	int rc = cmocka_run_group_tests_name("server", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
