/*
 * server.c - fieldsyncd's HTTP layer on libmicrohttpd (0.9.75).
 *
 * How a request flows through MHD here:
 *   conn_cb       a connection opens (after the per-address limit): its
 *                 deadline for a complete request line and headers starts.
 *   uri_cb        request line parsed: allocate the per-request state (so that
 *                 even requests MHD later rejects by itself are counted, timed
 *                 and logged), keep the raw query string.
 *   access_cb #1  headers complete: rate limit, Content-Encoding and
 *                 Content-Length checks, then admission (`admit`: is this path,
 *                 method and credential allowed to send a body, how large).
 *                 An error is queued right away, so the body is never read
 *                 (MHD then closes the connection). The body's share of the
 *                 buffer budget is taken here when its length is known.
 *   access_cb #n  one call per body chunk: append to a buffer bounded by the
 *                 admitted cap, or count and discard once past it.
 *   access_cb end *upload_data_size == 0: inflate, call the handler, queue;
 *                 or suspend the connection while the work pool answers
 *                 (hq_request_defer), and queue when it is resumed.
 *   completed_cb  log line, free the state, give the budget back, wake a
 *                 pending graceful stop.
 * All of these run on the MHD worker thread that owns the connection, so the
 * per-request state needs no locking; only the server-wide pieces (rate table,
 * connection table, budget, work queue, in-flight counter, log file) do.
 *
 * MHD's own timeout counts idle time only: a client trickling one byte every
 * few seconds never reaches it. The reaper thread closes such clients on
 * total deadlines kept in the connection table, by shutting the socket down
 * under the table's lock; MHD then sees the end of the stream and cleans up
 * on its own thread (it reports a connection closed, and removes it from the
 * table, before it closes the descriptor, so a descriptor number is never
 * shut down after being reused).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "fieldsync.h"
#include "server.h"
#include "util.h"

#define DEF_THREADS		4
#define DEF_MAX_BODY		(8u << 20)
#define DEF_MAX_INFLATED	(64u << 20)
#define DEF_TIMEOUT_S		30
#define DEF_HEADER_TIMEOUT_S	20
#define DEF_BODY_GRACE_S	20
#define DEF_BODY_MIN_RATE	500
#define DEF_MAX_BUFFERED	((size_t)128 << 20)
#define DEF_MAX_CONNS_PER_IP	256
#define DEF_WORK_THREADS	1
#define DEF_WORK_QUEUE		16
#define DEF_AUTH_FAIL_LIMIT	20
#define DEF_AUTH_FAIL_WINDOW_S	60

/* Responses above this size are worth gzipping; below, the gzip header and
 * the CPU cost eat the gain. */
#define GZIP_MIN_BYTES		1024
/* Per-connection memory pool of MHD: the request line and all headers must
 * fit, so this is also the header size limit (MHD answers on its own when it
 * is exceeded). 64 KiB leaves room for big bearer tokens and cookies. */
#define CONN_MEMORY_LIMIT	(64u << 10)
/* A graceful stop waits at most this long for in-flight requests. */
#define STOP_GRACE_S		30
/* Rate-limit table: RL_BUCKETS x RL_WAYS client addresses at most. */
#define RL_BUCKETS		1024
#define RL_WAYS			4
/* PEM files larger than this are certainly not a certificate or key. */
#define PEM_MAX_BYTES		(1u << 20)
/* Bytes of path kept for the log line. */
#define LOG_PATH_MAX		256
/* How often the reaper looks for connections past their deadline. */
#define REAP_EVERY_MS		200
/* A 503 for a full budget or work queue asks the client to come back in: */
#define BUSY_RETRY_S		1
/* A request refused from its headers with a body of at most this many
 * bytes (Content-Length) has the body read and dropped before the answer:
 * answering and closing while the client still sends makes its kernel
 * report a reset instead of the answer, and a device must read why it was
 * refused. A larger body is not waited for. */
#define REFUSED_BODY_MAX	((size_t)1 << 20)

struct rl_entry {
	char ip[INET6_ADDRSTRLEN];	/* "" = free slot */
	int64_t start_ms;		/* monotonic ms when the window opened */
	int fails;
};

/* A connection's phase, for its deadline. */
enum conn_phase {
	PH_HEADERS,	/* reading a request line and headers: until `deadline` */
	PH_BODY,	/* reading a body: at body_min_rate after body_grace_s */
	PH_BUSY,	/* handler, work pool or response: MHD's idle timeout only */
};

/* One open connection (MHD's socket context), in the server's table. */
struct conn {
	struct conn *prev, *next;
	int fd;
	enum conn_phase phase;
	int64_t deadline_ms;		/* PH_HEADERS */
	int64_t body_start_ms;		/* PH_BODY */
	size_t body_bytes;		/* PH_BODY: received so far */
	const char *killed;		/* why the reaper closed it, or NULL */
	int in_request;			/* a request of it is logged by completed_cb */
	char ip[INET6_ADDRSTRLEN];
};

/* A deferred request waiting for the work pool. */
struct job {
	struct job *next;
	struct req *r;
	hq_work_fn fn;
	void *arg;
	void (*free_arg)(void *);
};

struct hq_server {
	struct MHD_Daemon *d;
	hq_handler_fn handler;
	hq_admit_fn admit;
	void *ctx;
	size_t max_body, max_inflated;
	int auth_fail_limit, auth_fail_window_s;
	int idle_s, header_timeout_s, body_grace_s, body_min_rate;
	int log_json;
	FILE *log;
	int port;
	char *cert_pem, *key_pem, *priorities;

	/* in-flight requests, for the graceful stop; the body budget */
	pthread_mutex_t mu;
	pthread_cond_t idle;
	int active;
	int stopping;
	size_t max_buffered, buffered;

	/* failed authentications per client address */
	pthread_mutex_t rl_mu;
	uint64_t rl_seed;
	struct rl_entry rl[RL_BUCKETS][RL_WAYS];

	/* open connections and the reaper of slow ones */
	pthread_mutex_t conn_mu;
	pthread_cond_t conn_cv;
	struct conn *conns;
	int reaper_stop;
	pthread_t reaper;
	int reaper_started;

	/* the work pool: jobs queued (at most work_queue, counting those
	 * reserved by hq_request_defer and not yet queued) */
	pthread_mutex_t work_mu;
	pthread_cond_t work_cv;
	struct job *work_head, *work_tail;
	int work_pending, work_queue, work_stop, nworkers;
	pthread_t *workers;
};

struct req {
	struct hq_server *s;
	struct MHD_Connection *c;
	struct conn *conn;		/* NULL if MHD gave none */
	struct timespec t0;
	char ip[INET6_ADDRSTRLEN];
	char method[16];		/* "-" until the headers are in */
	char log_path[LOG_PATH_MAX];	/* raw path, sanitised, no query */
	char *query;			/* raw query after '?', or NULL */
	int started;			/* access_cb has seen the headers */
	int queued;			/* a response has been queued */
	int gzip_in;			/* Content-Encoding: gzip */
	int too_large;			/* body passed max_body; discarding */
	int over_budget;		/* the budget ran out mid-body; discarding */
	int refused;			/* admission refused it (answer in resp); discarding */
	size_t max_body, max_inflated;	/* as admitted */
	size_t clen;			/* Content-Length, 0 if none (chunked) */
	size_t charged;			/* bytes of the budget this request holds */
	char *body;
	size_t len, cap;
	size_t bytes_in;		/* body bytes received, before inflating */
	int status;			/* queued status, 0 = none */
	size_t bytes_out;
	int records;
	/* hq_request_defer: 1 reserved by the handler, 2 queued (connection
	 * suspended), 3 answered (resp below, connection resumed) */
	int deferred;
	struct job job;
	struct hq_response resp;
};

/* ---- small helpers ---- */

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Milliseconds, not seconds: a window of whole seconds would otherwise
 * open and close on second boundaries rather than window_s after the first
 * failure. */
static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void utc_now(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Copy for a log line: client-controlled bytes must not forge lines or break
 * the text format, so anything outside printable ASCII (and space, quote,
 * backslash) becomes '?'. */
static void sanitize(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i, j = 0;
	for (i = 0; i < n && src[i] && j + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[j++] = (ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\') ? (char)ch : '?';
	}
	dst[j] = 0;
}

/* A line to the log, written in one piece so that lines from different
 * threads never interleave. */
static void log_write(FILE *f, const char *line)
{
	flockfile(f);
	fputs(line, f);
	fputc('\n', f);
	fflush(f);
	funlockfile(f);
}

/* Server messages (start failures, MHD's own complaints) in the log's format. */
static void log_vmsg(FILE *f, int json, const char *fmt, va_list ap)
{
	char msg[512], ts[32];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = 0;
	utc_now(ts);
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *txt = NULL;
		if (o && cJSON_AddStringToObject(o, "ts", ts) && cJSON_AddStringToObject(o, "level", "error")
		    && cJSON_AddStringToObject(o, "msg", msg))
			txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (txt) {
			log_write(f, txt);
			cJSON_free(txt);
			return;
		}
	}
	char line[600];
	snprintf(line, sizeof line, "%s hq_server: %s", ts, msg);
	log_write(f, line);
}

static void log_msg(FILE *f, int json, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void log_msg(FILE *f, int json, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(f, json, fmt, ap);
	va_end(ap);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct hq_server *s = cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* MHD quotes the whole HTML page of its own error responses (431, 414,
	 * 400 ...); the status code before it is all the log needs */
	char *html = strstr(msg, " ('<html>");
	if (html)
		snprintf(html, sizeof msg - (size_t)(html - msg), ")");
	log_msg(s->log, s->log_json, "mhd: %s", msg);
}

/* ---- responses ---- */

void hq_response_error(struct hq_response *r, int status, const char *code, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);

	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	r->status = status;
	r->content_type = "application/json";

	cJSON *o = cJSON_CreateObject();
	if (o && cJSON_AddStringToObject(o, "error", code ? code : "error")
	    && cJSON_AddStringToObject(o, "message", msg ? msg : ""))
		r->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(msg);
	if (!r->body)	/* out of memory: the status alone still says enough */
		return;
	r->body_len = strlen(r->body);
}

/* Does the Accept-Encoding value allow gzip? An explicit "gzip;q=0" refuses
 * it even when "*" would allow it. */
static int accepts_gzip(const char *ae)
{
	int gz = -1, star = -1;
	const char *p = ae;
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *q = p, *e = p + n;
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		const char *name = q;
		while (q < e && *q != ';' && *q != ' ' && *q != '\t')
			q++;
		size_t nl = (size_t)(q - name);
		int ok = 1;
		/* q=0, q=0.0, q=0.000: a weight with no non-zero digit refuses */
		const char *w = q;
		while (w < e && (w = memchr(w, 'q', (size_t)(e - w))) != NULL) {
			const char *v = w + 1;
			while (v < e && *v == ' ')
				v++;
			if (v < e && *v == '=') {
				ok = 0;
				for (v++; v < e && *v != ';'; v++)
					if (*v >= '1' && *v <= '9')
						ok = 1;
				break;
			}
			w++;
		}
		if ((nl == 4 && !strncasecmp(name, "gzip", 4)) || (nl == 6 && !strncasecmp(name, "x-gzip", 6)))
			gz = ok;
		else if (nl == 1 && *name == '*')
			star = ok;
		p = end ? end + 1 : NULL;
	}
	return gz >= 0 ? gz : star == 1;
}

/* gzip `in`; 0 and a malloc'd *out, or -1. */
static int gzip_buf(const char *in, size_t len, char **out, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	/* level 1: pages of JSON records still shrink ~5x, far cheaper than 6 */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t cap = deflateBound(&z, (uLong)len);
	char *buf = malloc(cap);
	if (!buf) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.next_out = (Bytef *)buf;
	size_t in_left = len, out_left = cap;
	int rc;
	do {
		/* avail_* are 32-bit: feed in slices */
		uInt ai = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
		uInt ao = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
		z.avail_in = ai;
		z.avail_out = ao;
		rc = deflate(&z, in_left == ai ? Z_FINISH : Z_NO_FLUSH);
		in_left -= ai - z.avail_in;
		out_left -= ao - z.avail_out;
	} while (rc == Z_OK && out_left > 0);
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = cap - out_left;
	return 0;
}

/* ---- the budget of buffered request bodies ---- */

/* Take n bytes of the server-wide budget for request bodies into *charged;
 * -1 (nothing taken) when the budget cannot cover them. */
static int budget_take(struct hq_server *s, size_t *charged, size_t n)
{
	int ok;
	pthread_mutex_lock(&s->mu);
	ok = s->buffered <= s->max_buffered && n <= s->max_buffered - s->buffered;
	if (ok)
		s->buffered += n;
	pthread_mutex_unlock(&s->mu);
	if (!ok)
		return -1;
	*charged += n;
	return 0;
}

/* Give back everything *charged holds. */
static void budget_give(struct hq_server *s, size_t *charged)
{
	if (!*charged)
		return;
	pthread_mutex_lock(&s->mu);
	s->buffered -= *charged;
	pthread_mutex_unlock(&s->mu);
	*charged = 0;
}

/* Inflate a gzip body into a malloc'd NUL-terminated buffer, never holding
 * more than max_out + 1 bytes of output: a gzip bomb is cut off as soon as it
 * passes the cap instead of after it has eaten the memory. Every byte of the
 * buffer is taken from the server's budget into *charged as it grows.
 * Concatenated gzip members are accepted (RFC 1952 allows them). Returns 0,
 * 400 (corrupt), 413 (too large) or 503 (budget exhausted); -1 when out of
 * memory. */
static int gunzip_capped(struct hq_server *s, size_t *charged, const char *in, size_t in_len, size_t max_out,
			 char **out, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return -1;
	size_t cap = in_len < (4u << 10) ? (16u << 10) : in_len * 4;
	if (cap > max_out + 1)
		cap = max_out + 1;
	if (budget_take(s, charged, cap + 1)) {
		inflateEnd(&z);
		return 503;
	}
	char *buf = malloc(cap + 1);
	if (!buf) {
		inflateEnd(&z);
		return -1;
	}
	size_t len = 0, in_left = in_len;
	const char *ip = in;
	int ret = 0;
	for (;;) {
		if (len == cap) {
			if (cap > max_out) {	/* holds max_out + 1 bytes: over the cap */
				ret = 413;
				break;
			}
			size_t ncap = cap * 2 > max_out + 1 ? max_out + 1 : cap * 2;
			if (budget_take(s, charged, ncap - cap)) {
				ret = 503;
				break;
			}
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				ret = -1;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		uInt ai = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
		uInt ao = cap - len > (1u << 30) ? (1u << 30) : (uInt)(cap - len);
		z.next_in = (Bytef *)(uintptr_t)ip;
		z.avail_in = ai;
		z.next_out = (Bytef *)buf + len;
		z.avail_out = ao;
		int rc = inflate(&z, Z_NO_FLUSH);
		ip += ai - z.avail_in;
		in_left -= ai - z.avail_in;
		len += ao - z.avail_out;
		if (rc == Z_STREAM_END) {
			if (in_left == 0)
				break;
			/* another gzip member follows */
			if (inflateReset(&z) != Z_OK) {
				ret = 400;
				break;
			}
			continue;
		}
		if (rc == Z_BUF_ERROR && z.avail_out != 0) {
			/* no progress with output room left: input ended mid-stream */
			ret = 400;
			break;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			ret = rc == Z_MEM_ERROR ? -1 : 400;
			break;
		}
		if (len > max_out) {
			ret = 413;
			break;
		}
	}
	inflateEnd(&z);
	if (ret == 0 && len > max_out)
		ret = 413;
	if (ret != 0) {
		free(buf);
		return ret;
	}
	buf[len] = 0;
	*out = buf;
	*out_len = len;
	return 0;
}

/* ---- connections and their deadlines ---- */

static void client_ip(struct MHD_Connection *c, char out[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, INET6_ADDRSTRLEN, "-");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, INET6_ADDRSTRLEN);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		/* one client, one text: ::ffff:1.2.3.4 is 1.2.3.4 */
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], out, INET6_ADDRSTRLEN);
		else
			inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN);
	}
}

/* MHD_OPTION_NOTIFY_CONNECTION: a connection opens or closes, on the
 * thread that owns it. */
static void conn_cb(void *cls, struct MHD_Connection *c, void **socket_context,
		    enum MHD_ConnectionNotificationCode toe)
{
	struct hq_server *s = cls;
	struct conn *k = *socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(k = calloc(1, sizeof *k)))
			return;	/* untracked: MHD's idle timeout still applies */
		k->fd = ci->connect_fd;
		client_ip(c, k->ip);
		k->phase = PH_HEADERS;
		k->deadline_ms = mono_ms() + (int64_t)s->header_timeout_s * 1000;
		pthread_mutex_lock(&s->conn_mu);
		k->next = s->conns;
		if (s->conns)
			s->conns->prev = k;
		s->conns = k;
		pthread_mutex_unlock(&s->conn_mu);
		*socket_context = k;
		return;
	}
	if (!k)
		return;
	pthread_mutex_lock(&s->conn_mu);
	if (k->prev)
		k->prev->next = k->next;
	else
		s->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	pthread_mutex_unlock(&s->conn_mu);
	*socket_context = NULL;
	free(k);
}

/* The connection enters phase `ph`; in_request: a request of it is under
 * way (its end is logged by completed_cb). */
static void conn_set(struct req *r, enum conn_phase ph, int64_t deadline_ms, int in_request)
{
	struct conn *k = r->conn;
	if (!k)
		return;
	pthread_mutex_lock(&r->s->conn_mu);
	k->in_request = in_request;
	k->phase = ph;
	k->deadline_ms = deadline_ms;
	k->body_start_ms = mono_ms();
	k->body_bytes = 0;
	pthread_mutex_unlock(&r->s->conn_mu);
}

static void conn_progress(struct req *r, size_t n)
{
	struct conn *k = r->conn;
	if (!k)
		return;
	pthread_mutex_lock(&r->s->conn_mu);
	k->body_bytes += n;
	pthread_mutex_unlock(&r->s->conn_mu);
}

/* Why the connection is past its deadline at `now`, or NULL. A body gets
 * body_grace_s, plus one second for every body_min_rate bytes it has sent
 * (mod_reqtimeout's rule): an honest slow link keeps going, a trickle does
 * not. */
static const char *conn_late(const struct hq_server *s, const struct conn *k, int64_t now)
{
	if (k->killed)
		return NULL;
	if (k->phase == PH_HEADERS && now >= k->deadline_ms)
		return "slow_headers";
	if (k->phase == PH_BODY) {
		int64_t allowed = (int64_t)s->body_grace_s * 1000 + (int64_t)(k->body_bytes * 1000 / (size_t)s->body_min_rate);
		if (now - k->body_start_ms >= allowed)
			return "slow_body";
	}
	return NULL;
}

static void *reaper_main(void *arg)
{
	struct hq_server *s = arg;
	pthread_mutex_lock(&s->conn_mu);
	while (!s->reaper_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += REAP_EVERY_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->conn_cv, &s->conn_mu, &ts);
		int64_t now = mono_ms();
		for (struct conn *k = s->conns; k && !s->reaper_stop; k = k->next) {
			const char *why = conn_late(s, k, now);
			if (!why)
				continue;
			/* under conn_mu: k is still in the table, so MHD has not
			 * closed k->fd yet and the number is still this client's */
			k->killed = why;
			(void)shutdown(k->fd, SHUT_RDWR);
			/* no request line yet: completed_cb will not say it */
			if (!k->in_request)
				log_msg(s->log, s->log_json, "closed a connection from %s: no complete request line"
					" within %d s", k->ip, s->header_timeout_s);
		}
	}
	pthread_mutex_unlock(&s->conn_mu);
	return NULL;
}

/* The same on every answer, errors included. Answers carry tokens, CSRF
 * tokens and private data, so none is ever cached, pages included: the
 * few static files are small and compiled in. No page of this server may
 * be framed by another (clickjacking), nor any answer sniffed into
 * something else than its Content-Type says. */
static void add_security_headers(const struct hq_server *s, struct MHD_Response *mr, const char *csp)
{
	(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	(void)MHD_add_response_header(mr, "Content-Security-Policy", csp ? csp : HQ_CSP_NONE);
	(void)MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(mr, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
	if (s->cert_pem)
		(void)MHD_add_response_header(mr, "Strict-Transport-Security", "max-age=31536000");
}

/* Queue `resp` (whose body this call takes over) on the connection. */
static enum MHD_Result send_response(struct req *r, struct MHD_Connection *c, const char *accept_enc,
				     struct hq_response *resp)
{
	struct hq_server *s = r->s;
	char *body = resp->body;
	size_t len = resp->body_len;
	int gz = 0, vary = 0;
	resp->body = NULL;

	if (body && len > GZIP_MIN_BYTES) {
		vary = 1;
		char *z;
		size_t zl;
		if (accept_enc && accepts_gzip(accept_enc) && gzip_buf(body, len, &z, &zl) == 0) {
			if (zl < len) {
				free(body);
				body = z;
				len = zl;
				gz = 1;
			} else {
				free(z);
			}
		}
	}
	struct MHD_Response *mr = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
				       : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!mr) {
		free(body);
		return MHD_NO;
	}
	const char *ct = resp->content_type ? resp->content_type : "application/json";
	(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
	add_security_headers(s, mr, resp->csp);
	if (gz)
		(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (vary)
		(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	/* MHD refuses values with CR/LF itself, so a handler cannot split headers */
	if (resp->set_cookie)
		(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_SET_COOKIE, resp->set_cookie);
	if (resp->location)
		(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (resp->retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", resp->retry_after);
		(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	pthread_mutex_lock(&s->mu);
	int stopping = s->stopping;
	pthread_mutex_unlock(&s->mu);
	if (stopping)	/* shutting down: no further requests on this connection */
		(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");

	enum MHD_Result ok = MHD_queue_response(c, (unsigned int)resp->status, mr);
	MHD_destroy_response(mr);
	if (ok == MHD_YES) {
		conn_set(r, PH_BUSY, 0, 1);
		r->queued = 1;
		r->status = resp->status;
		r->bytes_out = len;
		r->records = resp->records;
	}
	return ok;
}

static enum MHD_Result send_error(struct req *r, struct MHD_Connection *c, int status, const char *code,
				  int retry_after, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static enum MHD_Result send_error(struct req *r, struct MHD_Connection *c, int status, const char *code,
				  int retry_after, const char *fmt, ...)
{
	struct hq_response resp;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memset(&resp, 0, sizeof resp);
	hq_response_error(&resp, status, code, "%s", msg);
	resp.retry_after = retry_after;
	return send_response(r, c, NULL, &resp);
}

/* ---- rate limiting of failed authentications ---- */

static struct rl_entry *rl_bucket(struct hq_server *s, const char *ip)
{
	/* FNV-1a, seeded per server so that nobody can aim addresses at one
	 * bucket to evict someone else's counter */
	uint64_t h = 0xcbf29ce484222325ULL ^ s->rl_seed;
	for (const unsigned char *p = (const unsigned char *)ip; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return s->rl[h % RL_BUCKETS];
}

/* Seconds until `ip` may try again, or 0 when it is not blocked. */
static int rl_blocked(struct hq_server *s, const char *ip)
{
	int wait = 0;
	int64_t now = mono_ms();
	pthread_mutex_lock(&s->rl_mu);
	struct rl_entry *b = rl_bucket(s, ip);
	for (int i = 0; i < RL_WAYS; i++) {
		struct rl_entry *e = &b[i];
		if (e->ip[0] && !strcmp(e->ip, ip)) {
			int64_t end = e->start_ms + (int64_t)s->auth_fail_window_s * 1000;
			if (now < end && e->fails >= s->auth_fail_limit)
				wait = (int)((end - now + 999) / 1000);	/* round up */
			break;
		}
	}
	pthread_mutex_unlock(&s->rl_mu);
	return wait;
}

/* Count one 401/403 for `ip` (fixed window opened by the first failure). */
static void rl_fail(struct hq_server *s, const char *ip)
{
	int64_t now = mono_ms();
	pthread_mutex_lock(&s->rl_mu);
	struct rl_entry *b = rl_bucket(s, ip), *e = NULL, *victim = &b[0];
	for (int i = 0; i < RL_WAYS; i++) {
		if (b[i].ip[0] && !strcmp(b[i].ip, ip)) {
			e = &b[i];
			break;
		}
		/* free slot first, else the oldest window */
		if (victim->ip[0] && (!b[i].ip[0] || b[i].start_ms < victim->start_ms))
			victim = &b[i];
	}
	if (!e) {
		e = victim;
		snprintf(e->ip, sizeof e->ip, "%s", ip);
		e->start_ms = now;
		e->fails = 0;
	} else if (now - e->start_ms >= (int64_t)s->auth_fail_window_s * 1000) {
		e->start_ms = now;
		e->fails = 0;
	}
	e->fails++;
	pthread_mutex_unlock(&s->rl_mu);
}

/* ---- per-request state ---- */

static void req_free(struct req *r)
{
	if (!r)
		return;
	budget_give(r->s, &r->charged);
	free(r->query);
	free(r->body);
	free(r->resp.body);
	free(r->resp.set_cookie);
	free(r);
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line is in. What we return
 * becomes *con_cls for the access and completed callbacks. */
static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct hq_server *s = cls;
	struct req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;	/* access_cb will refuse the request */
	r->s = s;
	r->c = c;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	r->conn = ci ? ci->socket_context : NULL;
	if (r->conn) {
		pthread_mutex_lock(&s->conn_mu);
		r->conn->in_request = 1;	/* still in its headers: same deadline */
		pthread_mutex_unlock(&s->conn_mu);
	}
	r->max_body = s->max_body;
	r->max_inflated = s->max_inflated;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	client_ip(c, r->ip);
	snprintf(r->method, sizeof r->method, "-");
	const char *q = uri ? strchr(uri, '?') : NULL;
	if (uri)
		sanitize(r->log_path, sizeof r->log_path, uri, q ? (size_t)(q - uri) : strlen(uri));
	if (q && !(r->query = strdup(q + 1))) {
		free(r);
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	s->active++;
	pthread_mutex_unlock(&s->mu);
	return r;
}

static const char *end_reason(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return NULL;
	case MHD_REQUEST_TERMINATED_WITH_ERROR:
		return "error";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return "timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return "shutdown";
	case MHD_REQUEST_TERMINATED_READ_ERROR:
		return "read_error";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return "client_abort";
	}
	return "unknown";
}

/* One line per request. Deliberately absent: query string, headers, body
 * (tokens, cookies and customer data must not end up in log files). status 0
 * means no response came from this layer (MHD answered itself, or the
 * connection broke first); `end` then says why (slow_headers, slow_body:
 * closed by the deadlines). */
static void log_request(struct hq_server *s, const struct req *r, enum MHD_RequestTerminationCode toe)
{
	char ts[32];
	double ms = ms_since(&r->t0);
	const char *end = end_reason(toe);
	const char *killed = NULL;
	if (r->conn) {
		pthread_mutex_lock(&s->conn_mu);
		killed = r->conn->killed;
		pthread_mutex_unlock(&s->conn_mu);
	}
	if (killed && end)
		end = killed;
	utc_now(ts);
	if (s->log_json) {
		cJSON *o = cJSON_CreateObject();
		char *txt = NULL;
		if (o && cJSON_AddStringToObject(o, "ts", ts) && cJSON_AddStringToObject(o, "ip", r->ip)
		    && cJSON_AddStringToObject(o, "method", r->method)
		    && cJSON_AddStringToObject(o, "path", r->log_path)
		    && cJSON_AddNumberToObject(o, "status", r->status)
		    && cJSON_AddNumberToObject(o, "records", r->records)
		    && cJSON_AddNumberToObject(o, "ms", (double)(long long)(ms * 10 + 0.5) / 10)
		    && cJSON_AddNumberToObject(o, "bytes_in", (double)r->bytes_in)
		    && cJSON_AddNumberToObject(o, "bytes_out", (double)r->bytes_out)
		    && (!end || cJSON_AddStringToObject(o, "end", end)))
			txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (txt) {
			log_write(s->log, txt);
			cJSON_free(txt);
		}
		return;
	}
	char line[LOG_PATH_MAX + 256];
	snprintf(line, sizeof line, "%s %s %s %s %d records=%d ms=%.1f bytes_in=%zu bytes_out=%zu%s%s", ts, r->ip,
		 r->method, r->log_path[0] ? r->log_path : "-", r->status, r->records, ms, r->bytes_in, r->bytes_out,
		 end ? " end=" : "", end ? end : "");
	log_write(s->log, line);
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct hq_server *s = cls;
	struct req *r = *con_cls;
	(void)c;
	if (!r)
		return;
	*con_cls = NULL;
	log_request(s, r, toe);
	/* the next request on this connection: MHD's idle timeout until its
	 * first byte, then header_timeout_s for the rest of its headers; the
	 * first byte is not seen from here, so both count from now */
	conn_set(r, PH_HEADERS, mono_ms() + (int64_t)(s->idle_s + s->header_timeout_s) * 1000, 0);
	req_free(r);
	pthread_mutex_lock(&s->mu);
	if (--s->active == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->mu);
}

/* "Bearer <token>" -> token; any other scheme, or a malformed value -> NULL. */
static const char *bearer(const char *auth)
{
	if (!auth || strncasecmp(auth, "Bearer", 6) || (auth[6] != ' ' && auth[6] != '\t'))
		return NULL;
	const char *t = auth + 6;
	while (*t == ' ' || *t == '\t')
		t++;
	if (!*t || strpbrk(t, " \t,"))
		return NULL;
	return t;
}

/* Content-Encoding: 0 identity, 1 gzip, -1 unsupported. */
static int content_encoding(const char *ce)
{
	if (!ce)
		return 0;
	while (*ce == ' ' || *ce == '\t')
		ce++;
	size_t n = strlen(ce);
	while (n && (ce[n - 1] == ' ' || ce[n - 1] == '\t'))
		n--;
	if (n == 0 || (n == 8 && !strncasecmp(ce, "identity", 8)))
		return 0;
	if ((n == 4 && !strncasecmp(ce, "gzip", 4)) || (n == 6 && !strncasecmp(ce, "x-gzip", 6)))
		return 1;
	return -1;
}

/* Counts the Content-Length headers and whether they disagree. */
struct clen_seen {
	int n, differ;
	const char *first;
};

static enum MHD_Result count_clen(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct clen_seen *cs = cls;
	(void)kind;
	if (key && !strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		if (cs->n++ == 0)
			cs->first = value;
		else if (strcmp(cs->first ? cs->first : "", value ? value : ""))
			cs->differ = 1;
	}
	return MHD_YES;
}

/* The request as the handler (and admission, without a body) sees it. */
static void request_of(struct req *r, struct MHD_Connection *c, const char *url, const char *method,
		       struct hq_request *q)
{
	memset(q, 0, sizeof *q);
	q->method = method;
	q->path = url;
	q->query = r->query;
	q->token = bearer(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
	q->cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
	q->content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	q->client_ip = r->ip;
	q->csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	q->tls = r->s->cert_pem != NULL;
	q->srv = r;
}

/* Send what a handler (or admission) produced: a failed handler becomes a
 * 500, and a 401 or 403 counts against the client address. */
static enum MHD_Result send_result(struct req *r, struct MHD_Connection *c, int rc, struct hq_response *resp)
{
	/* forgiving a handler that built a C string and left body_len at 0 */
	if (resp->body && resp->body_len == 0)
		resp->body_len = strlen(resp->body);
	if (rc < 0 || resp->status < 100 || resp->status > 599) {
		int st = resp->status;
		free(resp->set_cookie);
		resp->set_cookie = NULL;
		resp->location = NULL;
		resp->retry_after = 0;
		resp->csp = NULL;
		if (rc < 0)
			hq_response_error(resp, 500, "internal", "internal error (handler failed: %d)", rc);
		else
			hq_response_error(resp, 500, "internal", "internal error (handler gave status %d)", st);
	}
	if (resp->status == 401 || resp->status == 403)
		rl_fail(r->s, r->ip);
	enum MHD_Result ok =
		send_response(r, c, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING),
			      resp);
	free(resp->set_cookie);
	resp->set_cookie = NULL;
	return ok;
}

/* Headers are in: everything that can be refused before the body is read. */
static enum MHD_Result on_headers(struct req *r, struct MHD_Connection *c, const char *url, const char *method)
{
	struct hq_server *s = r->s;
	snprintf(r->method, sizeof r->method, "%s", method);
	for (char *p = r->method; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';

	int wait = rl_blocked(s, r->ip);
	if (wait > 0)
		return send_error(r, c, 429, "rate_limited", wait,
				  "too many failed authentications from this address; retry in %d s", wait);

	const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	int enc = content_encoding(ce);
	if (enc < 0)
		return send_error(r, c, 415, "unsupported_encoding",
				  0, "Content-Encoding '%.32s' is not supported (use gzip or identity)", ce);
	r->gzip_in = enc;

	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	/* Framing that two parsers could read two ways (a proxy in front and
	 * this server) is how requests get smuggled: refuse it outright. */
	struct clen_seen cs = { 0, 0, NULL };
	(void)MHD_get_connection_values(c, MHD_HEADER_KIND, count_clen, &cs);
	if (cs.differ)
		return send_error(r, c, 400, "bad_framing", 0, "conflicting Content-Length headers");
	if (cl && te)
		return send_error(r, c, 400, "bad_framing", 0,
				  "both Content-Length and Transfer-Encoding: the body length is ambiguous");

	/* who may send what, before a byte of it is read: a stranger's body
	 * costs nothing but its headers */
	if (s->admit) {
		struct hq_request q;
		struct hq_admission adm = { s->max_body, s->max_inflated };
		struct hq_response refusal;
		memset(&refusal, 0, sizeof refusal);
		request_of(r, c, url, method, &q);
		int rc = s->admit(s->ctx, &q, &adm, &refusal);
		if (rc != 0) {
			if (refusal.status < 400)
				hq_response_error(&refusal, 500, "internal", "internal error (admission failed: %d)", rc);
			unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;
			if (n == 0 || n > REFUSED_BODY_MAX || te)
				return send_result(r, c, 0, &refusal);
			r->refused = 1;
			r->resp = refusal;
			r->max_body = (size_t)n;
			conn_set(r, PH_BODY, 0, 1);
			return MHD_YES;
		}
		free(refusal.body);
		free(refusal.set_cookie);
		r->max_body = adm.max_body < s->max_body ? adm.max_body : s->max_body;
		r->max_inflated = adm.max_inflated < s->max_inflated ? adm.max_inflated : s->max_inflated;
	}

	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (cl[0] >= '0' && cl[0] <= '9' && end != cl) {
			/* answered now, so the body is never read (nor a 100 Continue sent) */
			if (errno == ERANGE || n > r->max_body)
				return send_error(r, c, 413, "body_too_large", 0,
						  "request body exceeds %zu bytes", r->max_body);
			/* The buffer grows to this as data actually arrives (a
			 * client announcing 8 MiB and sending nothing must not get
			 * 8 MiB allocated for each of its connections), but its
			 * share of the budget is taken now, while a 503 can still
			 * be answered before the body is sent. */
			r->clen = (size_t)n;
			if (n > 0 && budget_take(s, &r->charged, r->clen + 1))
				return send_error(r, c, 503, "busy", BUSY_RETRY_S,
						  "the server holds too many request bodies; retry in %d s",
						  BUSY_RETRY_S);
		}
	}
	conn_set(r, PH_BODY, 0, 1);
	return MHD_YES;
}

static enum MHD_Result on_chunk(struct req *r, struct MHD_Connection *c, const char *data, size_t n)
{
	struct hq_server *s = r->s;
	conn_progress(r, n);
	if (r->too_large || r->over_budget || r->refused || r->queued) {
		/* Discarding. A client that keeps streaming long after the cap
		 * gets the connection closed instead of an audience. */
		if (r->bytes_in > 2 * r->max_body + (1u << 20))
			return MHD_NO;
		return MHD_YES;
	}
	if (r->len + n > r->max_body) {
		r->too_large = 1;
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		budget_give(s, &r->charged);
		/* MHD 0.9.75 only accepts a response once the body is complete;
		 * if it takes one now, all the better */
		(void)send_error(r, c, 413, "body_too_large", 0, "request body exceeds %zu bytes", r->max_body);
		return MHD_YES;
	}
	if (r->len + n > r->cap) {
		size_t limit = r->clen && r->clen < r->max_body ? r->clen : r->max_body;
		size_t ncap = r->cap ? r->cap : 16u << 10;
		while (ncap < r->len + n)
			ncap *= 2;
		if (ncap > limit && limit >= r->len + n)
			ncap = limit;
		/* a body of known length holds its share already; a chunked
		 * one takes it as it grows */
		if (!r->clen && budget_take(s, &r->charged, ncap + 1 - (r->cap ? r->cap + 1 : 0))) {
			r->over_budget = 1;
			free(r->body);
			r->body = NULL;
			r->len = r->cap = 0;
			budget_give(s, &r->charged);
			return MHD_YES;
		}
		char *nb = realloc(r->body, ncap + 1);
		if (!nb)
			return MHD_NO;
		r->body = nb;
		r->cap = ncap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	return MHD_YES;
}

/* ---- the work pool (hq_request_defer) ---- */

int hq_request_defer(const struct hq_request *req, hq_work_fn fn, void *arg, void (*free_arg)(void *))
{
	struct req *r = req ? req->srv : NULL;
	if (!r || !fn || r->deferred)
		return fs_err(FIELDSYNC_EINVAL, "hq_request_defer: not a request being handled");
	struct hq_server *s = r->s;
	int ok;
	pthread_mutex_lock(&s->work_mu);
	ok = !s->work_stop && s->work_pending < s->work_queue;
	if (ok)
		s->work_pending++;	/* the slot is ours; queued once suspended */
	pthread_mutex_unlock(&s->work_mu);
	if (!ok)
		return fs_err(FIELDSYNC_EBUSY, "the server's work queue is full");
	r->deferred = 1;
	r->job = (struct job){ NULL, r, fn, arg, free_arg };
	return 0;
}

/* The handler asked for the work pool: suspend the connection, then queue,
 * so that the pool can never resume a connection not yet suspended. */
static void defer_start(struct req *r, struct MHD_Connection *c)
{
	struct hq_server *s = r->s;
	r->deferred = 2;
	MHD_suspend_connection(c);
	pthread_mutex_lock(&s->work_mu);
	if (s->work_tail)
		s->work_tail->next = &r->job;
	else
		s->work_head = &r->job;
	s->work_tail = &r->job;
	pthread_cond_signal(&s->work_cv);
	pthread_mutex_unlock(&s->work_mu);
}

static void *worker_main(void *arg)
{
	struct hq_server *s = arg;
	pthread_mutex_lock(&s->work_mu);
	for (;;) {
		/* on stop, the queue is drained first: every suspended
		 * connection must be resumed before MHD stops */
		while (!s->work_head && !s->work_stop)
			pthread_cond_wait(&s->work_cv, &s->work_mu);
		struct job *j = s->work_head;
		if (!j)
			break;
		s->work_head = j->next;
		if (!s->work_head)
			s->work_tail = NULL;
		pthread_mutex_unlock(&s->work_mu);

		struct req *r = j->r;
		memset(&r->resp, 0, sizeof r->resp);
		j->fn(j->arg, &r->resp);
		if (j->free_arg)
			j->free_arg(j->arg);
		r->deferred = 3;
		MHD_resume_connection(r->c);	/* access_cb sends r->resp */

		pthread_mutex_lock(&s->work_mu);
		s->work_pending--;
	}
	pthread_mutex_unlock(&s->work_mu);
	return NULL;
}

static enum MHD_Result on_complete(struct req *r, struct MHD_Connection *c, const char *url, const char *method)
{
	struct hq_server *s = r->s;
	conn_set(r, PH_BUSY, 0, 1);
	if (r->deferred == 3 || r->refused)
		return send_result(r, c, 0, &r->resp);
	if (r->too_large)
		return send_error(r, c, 413, "body_too_large", 0, "request body exceeds %zu bytes", r->max_body);
	if (r->over_budget)
		return send_error(r, c, 503, "busy", BUSY_RETRY_S,
				  "the server holds too many request bodies; retry in %d s", BUSY_RETRY_S);

	char *body = r->body;
	size_t len = r->len;
	char *inflated = NULL;
	size_t zcharged = 0;
	if (r->gzip_in && len > 0) {
		int rc = gunzip_capped(s, &zcharged, r->body, r->len, r->max_inflated, &inflated, &len);
		/* the gzip text is not needed any more, whatever happened */
		free(r->body);
		r->body = NULL;
		budget_give(s, &r->charged);
		if (rc != 0)
			budget_give(s, &zcharged);
		if (rc == 400)
			return send_error(r, c, 400, "bad_gzip", 0, "request body is not valid gzip");
		if (rc == 413)
			return send_error(r, c, 413, "body_too_large", 0,
					  "request body inflates beyond %zu bytes", r->max_inflated);
		if (rc == 503)
			return send_error(r, c, 503, "busy", BUSY_RETRY_S,
					  "the server holds too many request bodies; retry in %d s", BUSY_RETRY_S);
		if (rc != 0)
			return send_error(r, c, 500, "internal", 0, "out of memory");
		body = inflated;
	}
	if (body)
		body[len] = 0;

	struct hq_request req;
	request_of(r, c, url, method, &req);
	req.body = body ? body : "";
	req.body_len = len;
	struct hq_response resp;
	memset(&resp, 0, sizeof resp);
	int rc = s->handler(s->ctx, &req, &resp);
	free(inflated);
	budget_give(s, &zcharged);
	free(r->body);	/* the handler is done with the request body */
	r->body = NULL;
	budget_give(s, &r->charged);

	if (r->deferred == 1) {
		/* the answer comes from the work pool; anything the handler
		 * put in resp meanwhile is not it */
		free(resp.body);
		free(resp.set_cookie);
		defer_start(r, c);
		return MHD_YES;
	}
	return send_result(r, c, rc, &resp);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_data_size,
				 void **con_cls)
{
	struct req *r = *con_cls;
	(void)cls;
	(void)version;
	if (!r)		/* uri_cb could not allocate */
		return MHD_NO;
	if (!r->started) {
		r->started = 1;
		return on_headers(r, c, url, method);
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;	/* consumed (or discarded), always */
		r->bytes_in += n;
		return on_chunk(r, c, upload_data, n);
	}
	if (r->queued || r->deferred == 2)	/* answered early, or the pool has it */
		return MHD_YES;
	return on_complete(r, c, url, method);
}

/* ---- start / stop ---- */

/* "a.b.c.d:port" or "[v6]:port", numeric only: the daemon binds exactly what
 * it is told (no resolver surprises on a server). */
/* An address to listen on: HOST:PORT (an IPv4 address or a name, the
 * first address it resolves to), [V6]:PORT, or PORT and :PORT alone (that
 * port on 127.0.0.1, the default address: every interface is 0.0.0.0:PORT,
 * said in full). 0 or -1. */
static int parse_listen(const char *l, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[256];
	const char *colon, *p;
	memset(ss, 0, sizeof *ss);
	if (!l || !*l)
		return -1;
	if (strspn(l, "0123456789") == strlen(l)) {
		snprintf(host, sizeof host, "127.0.0.1");
		p = l;
	} else if (l[0] == '[') {
		const char *rb = strchr(l, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - l - 1) >= sizeof host)
			return -1;
		memcpy(host, l + 1, (size_t)(rb - l - 1));
		host[rb - l - 1] = 0;
		p = rb + 2;
	} else {
		colon = strrchr(l, ':');
		if (!colon || (size_t)(colon - l) >= sizeof host || memchr(l, ':', (size_t)(colon - l)))
			return -1;
		memcpy(host, l, (size_t)(colon - l));
		host[colon - l] = 0;
		if (!host[0])
			snprintf(host, sizeof host, "127.0.0.1");
		p = colon + 1;
	}
	if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p) || strtol(p, NULL, 10) > 65535)
		return -1;
	/* digits and dots are an IPv4 address written in full, never "1.2.3" */
	struct in_addr a4;
	if (l[0] != '[' && strspn(host, "0123456789.") == strlen(host) && inet_pton(AF_INET, host, &a4) != 1)
		return -1;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = l[0] == '[' ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (l[0] == '[' ? AI_NUMERICHOST : 0);
	if (getaddrinfo(host, p, &hints, &res) != 0 || !res)
		return -1;
	/* a name with both: its IPv4 address first, as "localhost" means to most */
	const struct addrinfo *pick = res;
	for (const struct addrinfo *a = res; a; a = a->ai_next)
		if (a->ai_family == AF_INET) {
			pick = a;
			break;
		}
	int ok = pick->ai_addrlen <= sizeof *ss;
	if (ok) {
		memcpy(ss, pick->ai_addr, pick->ai_addrlen);
		*sl = pick->ai_addrlen;
	}
	freeaddrinfo(res);
	return ok ? 0 : -1;
}

/* The listening socket is ours rather than MHD_OPTION_SOCK_ADDR's so that a
 * failure says why (address in use, permission) instead of MHD's generic
 * NULL, and so the bound port is a plain getsockname() away. */
static int open_listener(FILE *log, int json, const char *listen_s, int *port, int *why)
{
	*why = FIELDSYNC_EIO;
	struct sockaddr_storage ss;
	socklen_t sl;
	if (parse_listen(listen_s, &ss, &sl) < 0) {
		log_msg(log, json, "bad listen address '%s' (want HOST:PORT, [V6ADDR]:PORT or PORT; a name"
			" must resolve)", listen_s ? listen_s : "(null)");
		*why = FIELDSYNC_EINVAL;
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_msg(log, json, "cannot listen on %s: socket: %s", listen_s, strerror(errno));
		return -1;
	}
	int on = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (ss.ss_family == AF_INET6)	/* "[::]:p" means IPv6 only, as written */
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		if (e == EADDRINUSE)
			log_msg(log, json, "cannot listen on %s: address in use (another fieldsyncd, or another"
				" server, has that port: stop it or choose another with --listen)", listen_s);
		else
			log_msg(log, json, "cannot listen on %s: %s", listen_s, strerror(e));
		close(fd);
		if (e == EADDRINUSE)
			*why = FIELDSYNC_EADDRINUSE;
		return -1;
	}
	struct sockaddr_storage got;
	socklen_t gl = sizeof got;
	if (getsockname(fd, (struct sockaddr *)&got, &gl) < 0) {
		log_msg(log, json, "cannot listen on %s: getsockname: %s", listen_s, strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
						: ((struct sockaddr_in *)&got)->sin_port);
	return fd;
}

/* The private key's file may be read by this user, or be root's and read
 * by the service's group (PostgreSQL's rule for its key): anything wider
 * gives the key to every local user. Fills why[] when refused. */
static int key_mode_ok(const struct stat *st, char *why, size_t n)
{
	uid_t me = geteuid();
	mode_t m = st->st_mode & 07777;
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, n, "not a regular file");
		return 0;
	}
	if (st->st_uid != me && st->st_uid != 0) {
		snprintf(why, n, "owned by uid %u, neither this user (%u) nor root", (unsigned)st->st_uid, (unsigned)me);
		return 0;
	}
	if ((st->st_uid == me && (m & 077)) ||
	    (st->st_uid != me && (m & (S_IWGRP | S_IXGRP | S_IRWXO)))) {
		snprintf(why, n, "open to %s (mode %04o); chmod 600 it%s", (m & S_IRWXO) ? "others" : "its group",
			 (unsigned)m, st->st_uid == me && me != 0 ? "" : " (640 if owned by root and the service's group)");
		return 0;
	}
	return 1;
}

int hq_server_check_key(const char *path)
{
	struct stat st;
	char why[160];
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return fs_err(FIELDSYNC_EIO, "TLS key '%s': %s", path ? path : "", strerror(errno));
	int ok = fstat(fd, &st) == 0;
	int e = errno;
	close(fd);
	if (!ok)
		return fs_err(FIELDSYNC_EIO, "TLS key '%s': %s", path, strerror(e));
	if (!key_mode_ok(&st, why, sizeof why))
		return fs_err(FIELDSYNC_EINVAL, "TLS key '%s' is %s", path, why);
	return 0;
}

/* Whole PEM file into a NUL-terminated buffer (MHD takes PEM text). A
 * private key is checked on the descriptor it is read from. *rc gets the
 * error code when NULL is returned. */
static char *read_pem(FILE *log, int json, const char *what, const char *path, int is_key, int *rc)
{
	FILE *f = fopen(path, "rb");
	*rc = FIELDSYNC_EIO;
	if (!f) {
		log_msg(log, json, "TLS %s '%s': %s", what, path, strerror(errno));
		return NULL;
	}
	struct stat st;
	char why[160];
	if (is_key && (fstat(fileno(f), &st) != 0 || !key_mode_ok(&st, why, sizeof why))) {
		log_msg(log, json, "TLS %s '%s' is %s", what, path, why);
		fs_err(FIELDSYNC_EINVAL, "TLS %s '%s' is %s", what, path, why);
		fclose(f);
		*rc = FIELDSYNC_EINVAL;
		return NULL;
	}
	char *buf = malloc(PEM_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, PEM_MAX_BYTES + 1, f) : 0;
	int err = ferror(f);
	fclose(f);
	if (!buf || err || n == 0 || n > PEM_MAX_BYTES) {
		log_msg(log, json, "TLS %s '%s': %s", what, path,
			!buf ? "out of memory" : err ? "read error" : n == 0 ? "empty file" : "file too large");
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	if (!strstr(buf, "-----BEGIN ")) {
		log_msg(log, json, "TLS %s '%s': not a PEM file", what, path);
		free(buf);
		return NULL;
	}
	return buf;
}

static void free_key(char *k)
{
	if (k) {
		explicit_bzero(k, strlen(k));
		free(k);
	}
}

/* Stop the work pool (its queue drained first) and the reaper. */
static void threads_stop(struct hq_server *s)
{
	pthread_mutex_lock(&s->work_mu);
	s->work_stop = 1;
	pthread_cond_broadcast(&s->work_cv);
	pthread_mutex_unlock(&s->work_mu);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	s->nworkers = 0;
	if (s->reaper_started) {
		pthread_mutex_lock(&s->conn_mu);
		s->reaper_stop = 1;
		pthread_cond_signal(&s->conn_cv);
		pthread_mutex_unlock(&s->conn_mu);
		pthread_join(s->reaper, NULL);
		s->reaper_started = 0;
	}
}

static void server_free(struct hq_server *s)
{
	threads_stop(s);
	free(s->workers);
	free(s->cert_pem);
	free_key(s->key_pem);
	free(s->priorities);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->rl_mu);
	pthread_mutex_destroy(&s->conn_mu);
	pthread_cond_destroy(&s->conn_cv);
	pthread_mutex_destroy(&s->work_mu);
	pthread_cond_destroy(&s->work_cv);
	free(s);
}

static void cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

static int threads_start(struct hq_server *s, int nworkers)
{
	if (!(s->workers = calloc((size_t)nworkers, sizeof *s->workers)))
		return FIELDSYNC_ENOMEM;
	for (; s->nworkers < nworkers; s->nworkers++)
		if (pthread_create(&s->workers[s->nworkers], NULL, worker_main, s) != 0)
			return FIELDSYNC_ENOMEM;
	if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0)
		return FIELDSYNC_ENOMEM;
	s->reaper_started = 1;
	return 0;
}

#define DEFAULT_IF(v, d) ((v) > 0 ? (v) : (d))

int hq_server_start(const struct hq_server_opts *o, struct hq_server **out)
{
	FILE *log = o && o->log ? o->log : stderr;
	int json = o ? o->log_json : 0;
	if (out)
		*out = NULL;
	if (!o || !out || !o->handler) {
		log_msg(log, json, "hq_server_start: missing %s", !o ? "options" : !out ? "out" : "handler");
		return FIELDSYNC_EINVAL;
	}
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		log_msg(log, json, "TLS needs both a certificate and a key (got only the %s)",
			o->tls_cert ? "certificate" : "key");
		return FIELDSYNC_EINVAL;
	}
	if (o->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		log_msg(log, json, "TLS requested but this libmicrohttpd was built without TLS");
		return FIELDSYNC_EINVAL;
	}

	struct hq_server *s = calloc(1, sizeof *s);
	if (!s) {
		log_msg(log, json, "hq_server_start: out of memory");
		return FIELDSYNC_ENOMEM;
	}
	s->handler = o->handler;
	s->admit = o->admit;
	s->ctx = o->ctx;
	s->max_body = o->max_body ? o->max_body : DEF_MAX_BODY;
	s->max_inflated = o->max_inflated ? o->max_inflated : DEF_MAX_INFLATED;
	s->max_buffered = o->max_buffered ? o->max_buffered : DEF_MAX_BUFFERED;
	s->auth_fail_limit = DEFAULT_IF(o->auth_fail_limit, DEF_AUTH_FAIL_LIMIT);
	s->auth_fail_window_s = DEFAULT_IF(o->auth_fail_window_s, DEF_AUTH_FAIL_WINDOW_S);
	s->idle_s = DEFAULT_IF(o->timeout_s, DEF_TIMEOUT_S);
	s->header_timeout_s = DEFAULT_IF(o->header_timeout_s, DEF_HEADER_TIMEOUT_S);
	s->body_grace_s = DEFAULT_IF(o->body_grace_s, DEF_BODY_GRACE_S);
	s->body_min_rate = DEFAULT_IF(o->body_min_rate, DEF_BODY_MIN_RATE);
	s->work_queue = DEFAULT_IF(o->work_queue, DEF_WORK_QUEUE);
	s->log_json = json;
	s->log = log;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->rl_mu, NULL);
	pthread_mutex_init(&s->conn_mu, NULL);
	pthread_mutex_init(&s->work_mu, NULL);
	cond_init_mono(&s->idle);
	cond_init_mono(&s->conn_cv);
	pthread_cond_init(&s->work_cv, NULL);
	if (getrandom(&s->rl_seed, sizeof s->rl_seed, GRND_NONBLOCK) != (ssize_t)sizeof s->rl_seed)
		s->rl_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s;

	if (o->tls_cert) {
		int rc;
		s->cert_pem = read_pem(log, json, "certificate", o->tls_cert, 0, &rc);
		s->key_pem = s->cert_pem ? read_pem(log, json, "key", o->tls_key, 1, &rc) : NULL;
		s->priorities = strdup(o->tls_priorities ? o->tls_priorities : HQ_TLS_PRIORITIES);
		if (!s->key_pem || !s->priorities) {
			rc = s->key_pem ? FIELDSYNC_ENOMEM : rc;
			server_free(s);
			return rc;
		}
	}

	int rc = threads_start(s, DEFAULT_IF(o->work_threads, DEF_WORK_THREADS));
	if (rc) {
		log_msg(log, json, "hq_server_start: cannot start threads");
		server_free(s);
		return rc;
	}

	int why, fd = open_listener(log, json, o->listen, &s->port, &why);
	if (fd < 0) {
		server_free(s);
		return why;	/* the reason is logged: the caller says only which kind */
	}

	unsigned int threads = o->threads > 0 ? (unsigned int)o->threads : DEF_THREADS;
	unsigned int per_ip = (unsigned int)DEFAULT_IF(o->max_conns_per_ip, DEF_MAX_CONNS_PER_IP);
	/* ITC: needed by MHD_quiesce_daemon to wake the pool, and to resume */
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (s->cert_pem)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem opts[16];
	int n = 0;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, fd, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)s->idle_s, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)CONN_MEMORY_LIMIT, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)per_ip, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_cb, s };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed_cb, s };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)conn_cb, s };
	if (s->cert_pem) {
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert_pem };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, s->priorities };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	/* the logger goes first: MHD reports option errors through it */
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!s->d) {
		log_msg(log, json, "cannot start HTTP%s server on %s%s", s->cert_pem ? "S" : "", o->listen,
			s->cert_pem ? " (are the TLS certificate and key valid and matching, and the priority string"
				      " valid?)" : "");
		close(fd);
		server_free(s);
		return FIELDSYNC_EIO;
	}
	*out = s;
	return 0;
}

int hq_server_port(const struct hq_server *s)
{
	return s ? s->port : -1;
}

void hq_server_stop(struct hq_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_mutex_unlock(&s->mu);

	/* No new connections from here on; the listening socket is handed back
	 * to us to close. Connections already accepted are still served. It is
	 * closed only once MHD has stopped: a pool thread may still take it out
	 * of its epoll set after the quiesce, and MHD 0.9.75 aborts the process
	 * if the descriptor is gone by then (EBADF). */
	MHD_socket lfd = MHD_quiesce_daemon(s->d);

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += STOP_GRACE_S;
	pthread_mutex_lock(&s->mu);
	while (s->active > 0)
		if (pthread_cond_timedwait(&s->idle, &s->mu, &deadline) == ETIMEDOUT)
			break;
	int left = s->active;
	pthread_mutex_unlock(&s->mu);
	if (left > 0)
		log_msg(s->log, s->log_json, "stopping with %d request%s still in flight after %d s", left,
			left == 1 ? "" : "s", STOP_GRACE_S);

	/* every deferred request is answered (MHD must not stop with a
	 * connection suspended), then MHD closes idle keep-alive connections
	 * and joins its pool */
	threads_stop(s);
	MHD_stop_daemon(s->d);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	server_free(s);
}

/* The caller blocks SIGTERM and SIGINT with pthread_sigmask() before
 * hq_server_start(), so every thread (MHD's pool included) inherits the
 * mask and the signals stay pending until sigwait() takes them here: no
 * async-signal-safety concerns, and the shutdown runs on a normal thread. */
int hq_server_wait_signal(void)
{
	return hq_server_wait_signal_for(0);
}

int hq_server_wait_signal_for(int seconds)
{
	sigset_t set;
	int sig = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (seconds <= 0)
		return sigwait(&set, &sig) == 0 ? sig : -1;
	struct timespec ts = { seconds, 0 };
	for (;;) {
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (errno == EAGAIN)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}
