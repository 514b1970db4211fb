/*
 * faultproxy - an HTTP/1.1 proxy that breaks things on purpose, for the
 * network fault tests (tests/t/t0170-network-faults.sh).
 *
 *   tools/faultproxy --upstream 127.0.0.1:PORT --port-file FILE
 *                    [--seed N] [--rate 0.3] [--faults LIST] [--stall-ms 3000]
 *                    [--log FILE]
 *
 * Reads each request a client sends (headers and a Content-Length body),
 * and with probability --rate applies one fault drawn (seeded) from LIST:
 *   drop      close the client's connection; the request never reaches HQ
 *   reset     HQ answers; the client gets half of the reply, then a TCP reset
 *   truncate  HQ answers; the client gets half of the reply, then a clean close
 *   stall     HQ answers; the client gets nothing for --stall-ms, then a close
 *   dup       the request reaches HQ twice; the client gets the second answer
 *   replay    an earlier request (any client's) is sent to HQ again first
 *   garble    HQ answers; bytes of the reply body are flipped
 * Otherwise the request is passed through. Every request goes to HQ on a
 * fresh connection; the client's connection is kept alive. One line per
 * request in --log: "<n> <fault|pass> <method> <path>".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "clikit.h"

#define MAX_MSG (64u << 20)
#define KEEP 16

enum fault { F_PASS, F_DROP, F_RESET, F_TRUNCATE, F_STALL, F_DUP, F_REPLAY, F_GARBLE, F_N };
static const char *const fault_name[F_N] = { "pass", "drop", "reset", "truncate", "stall", "dup", "replay",
					     "garble" };

static struct sockaddr_in upstream;
static double rate = 0.3;
static int enabled[F_N], nenabled, stall_ms = 3000;
static uint64_t rng_state = 1;
static long nreq;
static FILE *log_fp;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* earlier requests, for replay */
static struct {
	char *p;
	size_t n;
} kept[KEEP];
static int nkept;

struct msg {
	char *p;
	size_t n, cap;
};

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static int msg_add(struct msg *m, const char *p, size_t n)
{
	if (m->n + n + 1 > MAX_MSG)
		return -1;
	if (m->n + n + 1 > m->cap) {
		size_t c = m->cap ? m->cap * 2 : 8192;
		while (c < m->n + n + 1)
			c *= 2;
		char *q = realloc(m->p, c);
		if (!q)
			return -1;
		m->p = q;
		m->cap = c;
	}
	memcpy(m->p + m->n, p, n);
	m->n += n;
	m->p[m->n] = '\0';
	return 0;
}

/* Reads one HTTP message (headers + Content-Length body) from fd into m.
 * 0, or -1 on EOF/error/malformed. Only Content-Length framing: what the
 * fieldsync client sends and what fieldsyncd answers. */
static int read_msg(int fd, struct msg *m)
{
	char buf[65536];
	size_t hend = 0, need = 0;
	m->n = 0;
	for (;;) {
		if (hend) {
			if (m->n >= hend + need)
				return 0;
		}
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r <= 0)
			return -1;
		if (msg_add(m, buf, (size_t)r))
			return -1;
		if (!hend) {
			char *e = strstr(m->p, "\r\n\r\n");
			if (!e)
				continue;
			hend = (size_t)(e - m->p) + 4;
			need = 0;
			for (char *h = strstr(m->p, "\r\n"); h && h < e; h = strstr(h + 2, "\r\n"))
				if (!strncasecmp(h + 2, "Content-Length:", 15))
					need = strtoul(h + 17, NULL, 10);
		}
	}
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One request to HQ on a fresh connection; its answer in resp. */
static int roundtrip(const char *req, size_t n, struct msg *resp)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc = -1;
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&upstream, sizeof upstream) == 0 && send_all(fd, req, n) == 0)
		rc = read_msg(fd, resp);
	close(fd);
	return rc;
}

static void hard_close(int fd)
{
	struct linger l = { 1, 0 };	/* RST instead of FIN */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

static void *serve(void *arg)
{
	int cfd = (int)(intptr_t)arg;
	struct msg req = { 0 }, resp = { 0 }, junk = { 0 };
	while (read_msg(cfd, &req) == 0) {
		enum fault f = F_PASS;
		char *replay = NULL;
		size_t replay_n = 0;
		long n;
		pthread_mutex_lock(&mu);
		n = ++nreq;
		if (nenabled && (double)(rng() % 1000000) / 1e6 < rate) {
			int k = (int)(rng() % (uint64_t)nenabled);
			for (int i = 1; i < F_N; i++)
				if (enabled[i] && k-- == 0)
					f = (enum fault)i;
		}
		if (f == F_REPLAY && nkept) {
			int k = (int)(rng() % (uint64_t)nkept);
			replay = malloc(kept[k].n);
			if (replay) {
				memcpy(replay, kept[k].p, kept[k].n);
				replay_n = kept[k].n;
			}
		}
		/* keep this one for later replays */
		int slot = nkept < KEEP ? nkept++ : (int)(rng() % KEEP);
		free(kept[slot].p);
		kept[slot].p = malloc(req.n);
		kept[slot].n = kept[slot].p ? req.n : 0;
		if (kept[slot].p)
			memcpy(kept[slot].p, req.p, req.n);
		char line[160];
		sscanf(req.p, "%159[^\r\n]", line);
		if (log_fp) {
			fprintf(log_fp, "%ld %s %s\n", n, fault_name[f], line);
			fflush(log_fp);
		}
		pthread_mutex_unlock(&mu);

		if (f == F_DROP) {
			hard_close(cfd);
			goto out;
		}
		if (replay) {
			roundtrip(replay, replay_n, &junk);
			free(replay);
		}
		if (f == F_DUP)
			roundtrip(req.p, req.n, &junk);
		if (roundtrip(req.p, req.n, &resp)) {
			hard_close(cfd);
			goto out;
		}
		switch (f) {
		case F_RESET:
			send_all(cfd, resp.p, resp.n / 2);
			hard_close(cfd);
			goto out;
		case F_TRUNCATE:
			send_all(cfd, resp.p, resp.n / 2);
			close(cfd);
			goto out;
		case F_STALL: {
			struct timespec ts = { stall_ms / 1000, (long)(stall_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			close(cfd);
			goto out;
		}
		case F_GARBLE: {
			char *b = strstr(resp.p, "\r\n\r\n");
			if (b) {
				b += 4;
				size_t len = resp.n - (size_t)(b - resp.p);
				for (size_t i = 0; i < len; i += 1 + len / 8)
					b[i] ^= 0x5a;
			}
			break;
		}
		default:
			break;
		}
		if (send_all(cfd, resp.p, resp.n))
			break;
	}
	close(cfd);
out:
	free(req.p);
	free(resp.p);
	free(junk.p);
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: faultproxy --upstream HOST:PORT --port-file FILE [--seed N] [--rate R]"
		" [--faults drop,reset,truncate,stall,dup,replay,garble] [--stall-ms MS] [--log FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *up = NULL, *port_file = NULL, *faults = "drop,reset,truncate,stall,dup,replay,garble";
	struct kit_args o;
	const char *ov;
	kit_args_init(&o, "faultproxy", NULL, argc, argv, 1, NULL, NULL);
	while (kit_next(&o) > 0) {
		if (kit_take(&o, "upstream", &ov)) up = ov;
		else if (kit_take(&o, "port-file", &ov)) port_file = ov;
		else if (kit_take(&o, "seed", &ov)) rng_state = strtoull(ov, NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
		else if (kit_take(&o, "rate", &ov)) rate = atof(ov);
		else if (kit_take(&o, "faults", &ov)) faults = ov;
		else if (kit_take(&o, "stall-ms", &ov)) stall_ms = atoi(ov);
		else if (kit_take(&o, "log", &ov)) log_fp = fopen(ov, "a");
		else return o.bad ? 2 : (kit_unknown(&o), usage());
	}
	if (o.bad)
		return usage();
	char host[64];
	int port;
	if (!up || !port_file || sscanf(up, "%63[^:]:%d", host, &port) != 2 || rate < 0 || rate > 1 || stall_ms < 0)
		return usage();
	for (int f = 1; f < F_N; f++) {
		const char *p = strstr(faults, fault_name[f]);
		size_t l = strlen(fault_name[f]);
		if (p && (p == faults || p[-1] == ',') && (p[l] == ',' || p[l] == '\0'))
			enabled[f] = 1, nenabled++;
	}
	memset(&upstream, 0, sizeof upstream);
	upstream.sin_family = AF_INET;
	upstream.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &upstream.sin_addr) != 1)
		return usage();
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 64) ||
	    getsockname(lfd, (struct sockaddr *)&a, &al)) {
		perror("faultproxy: listen");
		return 1;
	}
	FILE *pf = fopen(port_file, "w");
	if (!pf)
		return 1;
	fprintf(pf, "%d\n", ntohs(a.sin_port));
	fclose(pf);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		pthread_t t;
		if (pthread_create(&t, NULL, serve, (void *)(intptr_t)cfd) == 0)
			pthread_detach(t);
		else
			close(cfd);
	}
}
