/*
 * loadgen - many agents' nightly sync against one fieldsyncd, from one
 * process (libcurl multi).
 *
 *   tools/loadgen --hq-db HQ.db --url http://127.0.0.1:PORT[,URL...] [--agents 200]
 *                 [--push 50] [--pull 200] [--parallel 200] [--territories 20]
 *
 * Several URLs (fieldsyncd processes over one store, HQ.db then being the
 * PostgreSQL connection string): agent i talks to URL i mod n, as behind a
 * round-robin load balancer.
 *
 * Setup (not timed): through the HQ library on the same store it creates a
 * rep per agent (each with one of the territories) and enough customers per
 * territory for the pulls; every agent enrols over HTTP like a device. Then
 * all agents run at once (at most --parallel transfers in flight): each
 * pushes --push new visit reports of customers of its territory, then pulls
 * one page of --pull records. Against a loopback URL each agent connects
 * from its own address (127.0.X.Y), as devices in the field do, so that
 * HQ's per-address limits see a fleet, not one client. Prints one JSON line: agents, errors, push and
 * pull latency p50/p99 (ms), records ingested per second, and the share of
 * one core this process used, so the figure is honest about the client.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "hq.h"
#include "wire.h"
#include "clikit.h"

#define MAXURL 16

struct agent {
	char token[80], rid[33], terr[32];
	char src[20];	/* its own source address on loopback ("" elsewhere) */
	const char *url;
	char *push_body, *pull_body;
	struct fs_buf resp;
	double t0, push_ms, pull_ms;
	int state;	/* 0 push, 1 pull, 2 done */
	int errors;
	CURL *h;
	struct curl_slist *hdrs;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	return fs_buf_add(ctx, p, size * n) ? 0 : size * n;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof *v, cmpd);
	int i = (int)ceil(p * n) - 1;
	return v[i < 0 ? 0 : i];
}

static void start(CURLM *m, struct agent *a)
{
	char u[300];
	snprintf(u, sizeof u, "%s/v1/%s", a->url, a->state == 0 ? "push" : "pull");
	fs_buf_reset(&a->resp);
	curl_easy_setopt(a->h, CURLOPT_URL, u);
	curl_easy_setopt(a->h, CURLOPT_POSTFIELDS, a->state == 0 ? a->push_body : a->pull_body);
	a->t0 = now_ms();
	curl_multi_add_handle(m, a->h);
}

static int usage(void)
{
	fprintf(stderr, "usage: loadgen --hq-db STORE --url URL[,URL...] [--agents N] [--push N] [--pull N]"
		" [--parallel N] [--territories N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *db = NULL, *url = NULL;
	int agents = 200, npush = 50, npull = 200, parallel = 200, nterr = 20;
	struct kit_args o;
	const char *ov;
	kit_args_init(&o, "loadgen", NULL, argc, argv, 1, NULL, NULL);
	while (kit_next(&o) > 0) {
		if (kit_take(&o, "hq-db", &ov)) db = ov;
		else if (kit_take(&o, "url", &ov)) url = ov;
		else if (kit_take(&o, "agents", &ov)) agents = atoi(ov);
		else if (kit_take(&o, "push", &ov)) npush = atoi(ov);
		else if (kit_take(&o, "pull", &ov)) npull = atoi(ov);
		else if (kit_take(&o, "parallel", &ov)) parallel = atoi(ov);
		else if (kit_take(&o, "territories", &ov)) nterr = atoi(ov);
		else return o.bad ? 2 : (kit_unknown(&o), usage());
	}
	if (o.bad)
		return usage();
	char *urlbuf = url ? strdup(url) : NULL, *urls[MAXURL], *save = NULL;
	int nurl = 0;
	for (char *t = urlbuf ? strtok_r(urlbuf, ",", &save) : NULL; t && nurl < MAXURL; t = strtok_r(NULL, ",", &save))
		urls[nurl++] = t;
	if (!db || nurl == 0 || agents < 1 || npush < 0 || npush > 1000 || npull < 1 || parallel < 1 || nterr < 1)
		return usage();
	struct hq *h;
	if (hq_open(db, &h)) {
		fprintf(stderr, "loadgen: %s\n", fs_errmsg_get());
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* customers: enough per territory that every pull fills its page */
	char (*cust)[33] = calloc((size_t)nterr * (size_t)(npull + 1), 33);
	int per = npull + 1;
	for (int t = 0; t < nterr; t++) {
		char terr[32];
		snprintf(terr, sizeof terr, "LG-%d", t);
		for (int k = 0; k < per; k++) {
			struct fs_chg c;
			struct fs_val v = { 0 };
			char name[64];
			fs_chg_init(&c, &fs_tbl_customer);
			snprintf(name, sizeof name, "Load customer %d-%d", t, k);
			fs_val_set_text(&v, name, strlen(name));
			fs_chg_set(&c, fs_field_find(&fs_tbl_customer, "name"), &v);
			fs_val_set_text(&v, terr, strlen(terr));
			fs_chg_set(&c, fs_field_find(&fs_tbl_customer, "territory"), &v);
			if (hq_write(h, &c, NULL, cust[t * per + k])) {
				fprintf(stderr, "loadgen: %s\n", fs_errmsg_get());
				return 1;
			}
			fs_val_release(&v);
			fs_chg_release(&c);
		}
	}
	/* agents: a rep each, enrolled over HTTP like a device */
	struct agent *A = calloc((size_t)agents, sizeof *A);
	unsigned run = (unsigned)time(NULL);
	for (int i = 0; i < agents; i++) {
		struct agent *a = &A[i];
		char rep[64], tok[65], body[300];
		snprintf(a->terr, sizeof a->terr, "LG-%d", i % nterr);
		a->url = urls[i % nurl];
		if (!strncmp(a->url, "http://127.", 11) || !strncmp(a->url, "https://127.", 12))
			snprintf(a->src, sizeof a->src, "127.0.%d.%d", 1 + i / 250, 2 + i % 250);
		snprintf(rep, sizeof rep, "load-%u-%d", run, i);
		if (hq_rep_add(h, rep, a->terr, tok)) {
			fprintf(stderr, "loadgen: %s\n", fs_errmsg_get());
			return 1;
		}
		struct fs_buf r;
		fs_buf_init(&r, 1 << 20);
		CURL *e = curl_easy_init();
		char u[300];
		snprintf(u, sizeof u, "%s/v1/enroll", a->url);
		snprintf(body, sizeof body, "{\"v\":1,\"token\":\"%s\",\"name\":\"%s\"}", tok, rep);
		curl_easy_setopt(e, CURLOPT_URL, u);
		if (a->src[0])
			curl_easy_setopt(e, CURLOPT_INTERFACE, a->src);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &r);
		cJSON *j = curl_easy_perform(e) == CURLE_OK ? cJSON_Parse(r.p) : NULL;
		const char *dt = fs_wire_str(j, "device_token"), *rid = fs_wire_str(j, "replica_id");
		if (!dt || !rid) {
			fprintf(stderr, "loadgen: enrolment failed: %s\n", r.p ? r.p : "no answer");
			return 1;
		}
		snprintf(a->token, sizeof a->token, "%s", dt);
		snprintf(a->rid, sizeof a->rid, "%s", rid);
		cJSON_Delete(j);
		curl_easy_cleanup(e);
		fs_buf_release(&r);
		/* its nightly push: new visit reports, as a device encodes them */
		struct fs_buf b;
		fs_buf_init(&b, 0);
		fs_buf_printf(&b, "{\"v\":1,\"records\":[");
		for (int k = 0; k < npush; k++) {
			char id[33];
			fs_random_id(id);
			int c = (i * 7 + k) % per;
			fs_buf_printf(&b, "%s{\"t\":\"visit\",\"id\":\"%s\",\"vv\":{\"%s\":1},\"h\":%lld,"
				      "\"f\":{\"customer_id\":\"%s\",\"status\":\"done\",\"planned_date\":\"2026-11-23\","
				      "\"outcome\":\"load test visit %d\"},\"d\":[[\"%s\",1,%lld,"
				      "[\"customer_id\",\"status\",\"planned_date\",\"outcome\"]]],\"scope\":\"%s\"}",
				      k ? "," : "", id, a->rid, (long long)fs_wall_ms() * 1024, cust[(i % nterr) * per + c],
				      k, a->rid, (long long)fs_wall_ms() * 1024, a->terr);
		}
		fs_buf_adds(&b, "]}");
		a->push_body = fs_buf_detach(&b);
		fs_buf_init(&b, 0);
		fs_buf_printf(&b, "{\"v\":1,\"cursor\":{\"%s\":0},\"limit\":%d}", a->terr, npull);
		a->pull_body = fs_buf_detach(&b);
		fs_buf_init(&a->resp, 64u << 20);
		a->h = curl_easy_init();
		char auth[120];
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", a->token);
		a->hdrs = curl_slist_append(NULL, auth);
		a->hdrs = curl_slist_append(a->hdrs, "Content-Type: application/json");
		a->hdrs = curl_slist_append(a->hdrs, "Expect:");
		curl_easy_setopt(a->h, CURLOPT_HTTPHEADER, a->hdrs);
		curl_easy_setopt(a->h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(a->h, CURLOPT_WRITEDATA, &a->resp);
		curl_easy_setopt(a->h, CURLOPT_ACCEPT_ENCODING, "gzip");
		curl_easy_setopt(a->h, CURLOPT_PRIVATE, a);
		curl_easy_setopt(a->h, CURLOPT_TIMEOUT, 300L);
		if (a->src[0])
			curl_easy_setopt(a->h, CURLOPT_INTERFACE, a->src);
	}
	hq_close(h);

	/* the run */
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	CURLM *m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)parallel);
	double t0 = now_ms();
	int next = 0, active = 0, errors = 0;
	long ingested = 0, pulled = 0;
	while (next < agents && active < parallel) {
		start(m, &A[next++]);
		active++;
	}
	while (active > 0) {
		int running, msgs;
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 100, NULL);
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(m, &msgs))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct agent *a;
			long status = 0;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&a);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(m, a->h);
			double ms = now_ms() - a->t0;
			cJSON *j = msg->data.result == CURLE_OK && status == 200 ? cJSON_Parse(a->resp.p) : NULL;
			if (a->state == 0) {
				a->push_ms = ms;
				double acc = j ? cJSON_GetNumberValue(cJSON_GetObjectItem(j, "accepted")) : 0;
				if (!j || (int)acc != npush)
					a->errors++;
				else
					ingested += npush;
				a->state = 1;
				start(m, a);
			} else {
				a->pull_ms = ms;
				int n = j ? cJSON_GetArraySize(cJSON_GetObjectItem(j, "changes")) : -1;
				if (n < npull)
					a->errors++;
				else
					pulled += n;
				a->state = 2;
				errors += a->errors;
				active--;
				if (next < agents) {
					start(m, &A[next++]);
					active++;
				}
			}
			cJSON_Delete(j);
		}
	}
	double wall = now_ms() - t0;
	getrusage(RUSAGE_SELF, &r1);
	double cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e3 +
		     (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e3;
	double *pu = calloc((size_t)agents, sizeof *pu), *pl = calloc((size_t)agents, sizeof *pl);
	for (int i = 0; i < agents; i++) {
		pu[i] = A[i].push_ms;
		pl[i] = A[i].pull_ms;
	}
	printf("{\"agents\":%d,\"errors\":%d,\"wall_ms\":%.0f,\"push_p50_ms\":%.1f,\"push_p99_ms\":%.1f,"
	       "\"pull_p50_ms\":%.1f,\"pull_p99_ms\":%.1f,\"ingested_per_s\":%.0f,\"pulled\":%ld,"
	       "\"loadgen_cpu_share\":%.2f}\n", agents, errors, wall, pct(pu, agents, 0.5), pct(pu, agents, 0.99),
	       pct(pl, agents, 0.5), pct(pl, agents, 0.99), ingested / (wall / 1e3), pulled, cpu / wall);
	for (int i = 0; i < agents; i++) {
		curl_easy_cleanup(A[i].h);
		curl_slist_free_all(A[i].hdrs);
		free(A[i].push_body);
		free(A[i].pull_body);
		fs_buf_release(&A[i].resp);
	}
	curl_multi_cleanup(m);
	free(A);
	free(pu);
	free(pl);
	free(urlbuf);
	free(cust);
	return errors ? 1 : 0;
}
