/*
 * isolation - territory isolation under random attack: devices of several
 * territories send seeded random requests to a running fieldsyncd and every
 * answer, then the HQ store itself, is checked for rows outside the scope.
 *
 *   tools/isolation --hq-db HQ.db --url http://127.0.0.1:PORT
 *                   [--requests 10000] [--seed 1] [--parallel 4]
 *
 * Setup (through the HQ library on the same store): territories ISO-A..D
 * with customers each, and six reps whose territories overlap (one has
 * two). Each device enrols over HTTP. Then, at most --parallel at a time,
 * a random device sends one of:
 *   pull     with a forged cursor: keys drawn from every territory (its own
 *            and others, plus made-up ones), values random, any limit
 *   create   a new customer in a foreign territory
 *   guess    an edit of a foreign customer whose id it guessed (known ids of
 *            other scopes), with a dominating version vector
 *   steal    the same, claiming the record's territory is its own
 *   visit    a visit report for a foreign customer
 *   move     a new customer of its own territory, then moved to a foreign one
 *   legit    a new customer or visit of its own territory (must be accepted)
 * Every pulled change must belong to the device's territories (by the
 * record's own scope and by what the tool knows of the id); every attack
 * must be refused. At the end, the HQ store holds exactly the customers and
 * visits the tool created (setup + legit), each with the territory and name
 * it was created with: no foreign write got in anywhere.
 *
 * Prints one JSON line of counts; exit status 0 only with zero violations.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hq.h"
#include "wire.h"
#include "clikit.h"

#define NTERR		4
#define NREP		6
#define CUST_PER_TERR	40
#define MAX_IDS		200000

enum kind { K_PULL, K_CREATE, K_GUESS, K_STEAL, K_VISIT, K_MOVE, K_LEGIT, K_N };
static const char *const kind_name[K_N] = { "pull", "create", "guess", "steal", "visit", "move", "legit" };

static const char *const terr_name[NTERR] = { "ISO-A", "ISO-B", "ISO-C", "ISO-D" };
/* rep -> bit set of territories */
static const unsigned rep_terr[NREP] = { 1, 2, 4 | 8, 1 | 2, 8, 4 };

/* What the tool knows of every record id: its table, territory, name. */
struct known {
	char id[33];
	char tbl;		/* 'c' customer, 'v' visit */
	int terr;
	char name[48];
	int attack;		/* an id only ever sent in an attack: must not exist */
	int confirmed;		/* at HQ (setup, or a legit create was accepted) */
};

static struct known ids[MAX_IDS];
static int nids;
/* id -> index + 1 in ids[], open addressing */
#define HASH_SLOTS	(1 << 19)
static int slot[HASH_SLOTS];

struct dev {
	int rep;
	char token[80], rid[33];
	int64_t counter;	/* its vv counter */
	CURL *h;
	struct curl_slist *hdrs;
	struct fs_buf resp;
	char *body;
	enum kind kind;
	int expect_ok;		/* push: 1 all accepted, 0 all refused */
	struct known *created;	/* legit: the record it creates */
	int busy;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: small, seeded, the same run for the same seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static int rnd(int n)
{
	return (int)(rng() % (uint64_t)n);
}

static void rnd_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++)
		out[i] = hex[rng() & 15];
	out[32] = '\0';
}

static unsigned hash_id(const char *id)
{
	unsigned h = 2166136261u;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h & (HASH_SLOTS - 1);
}

static struct known *find(const char *id)
{
	for (unsigned k = hash_id(id); slot[k]; k = (k + 1) & (HASH_SLOTS - 1))
		if (!strcmp(ids[slot[k] - 1].id, id))
			return &ids[slot[k] - 1];
	return NULL;
}

static struct known *add_id(const char *id, char tbl, int terr, const char *name, int attack)
{
	if (nids >= MAX_IDS)
		return NULL;
	struct known *k = &ids[nids++];
	snprintf(k->id, sizeof k->id, "%s", id);
	k->tbl = tbl;
	k->terr = terr;
	snprintf(k->name, sizeof k->name, "%s", name);
	k->attack = attack;
	k->confirmed = 0;
	unsigned h = hash_id(id);
	while (slot[h])
		h = (h + 1) & (HASH_SLOTS - 1);
	slot[h] = nids;
	return k;
}

static int terr_index(const char *s)
{
	for (int t = 0; t < NTERR; t++)
		if (!strcmp(s, terr_name[t]))
			return t;
	return -1;
}

/* A random known customer (not an attack id) inside or outside the mask. */
static struct known *pick_customer(unsigned mask, int inside)
{
	for (int tries = 0; tries < 1000; tries++) {
		struct known *k = &ids[rnd(nids)];
		if (k->tbl == 'c' && k->confirmed && (((mask >> k->terr) & 1) != 0) == inside)
			return k;
	}
	return NULL;
}

static int pick_terr(unsigned mask, int inside)
{
	for (;;) {
		int t = rnd(NTERR);
		if ((((mask >> t) & 1) != 0) == inside)
			return t;
	}
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	return fs_buf_add(ctx, p, size * n) ? 0 : size * n;
}

static void rec_customer(struct fs_buf *b, struct dev *d, const char *id, const char *name, const char *terr)
{
	int64_t c = ++d->counter, hlc = fs_wall_ms() * 1024;
	fs_buf_printf(b, "{\"t\":\"customer\",\"id\":\"%s\",\"vv\":{\"%s\":%lld},\"h\":%lld,"
		      "\"f\":{\"name\":\"%s\",\"territory\":\"%s\"},\"d\":[[\"%s\",%lld,%lld,[\"name\",\"territory\"]]]}",
		      id, d->rid, (long long)c, (long long)hlc, name, terr, d->rid, (long long)c, (long long)hlc);
}

static void rec_visit(struct fs_buf *b, struct dev *d, const char *id, const char *cust, const char *outcome)
{
	int64_t c = ++d->counter, hlc = fs_wall_ms() * 1024;
	fs_buf_printf(b, "{\"t\":\"visit\",\"id\":\"%s\",\"vv\":{\"%s\":%lld},\"h\":%lld,"
		      "\"f\":{\"customer_id\":\"%s\",\"status\":\"done\",\"planned_date\":\"2026-11-23\","
		      "\"outcome\":\"%s\"},\"d\":[[\"%s\",%lld,%lld,[\"customer_id\",\"status\",\"planned_date\","
		      "\"outcome\"]]]}",
		      id, d->rid, (long long)c, (long long)hlc, cust, outcome, d->rid, (long long)c, (long long)hlc);
}

/* Builds the next request of `d` into d->body; 0, or -1 (out of ids). */
static int build(struct dev *d, const char *url)
{
	unsigned mask = rep_terr[d->rep];
	struct fs_buf b;
	char id[33], name[48], u[300];
	fs_buf_init(&b, 0);
	/* a third pulls, the rest spread over pushes */
	int r = rnd(30);
	d->kind = r < 10 ? K_PULL : (enum kind)(1 + (r - 10) % (K_N - 1));
	d->expect_ok = 0;
	d->created = NULL;
	if (d->kind == K_PULL) {
		/* any subset of every territory, a made-up one and "", each once
		 * (a repeated key would be a 400 duplicate_key) */
		const char *keys[NTERR + 2] = { "ISO-E", "" };
		for (int t = 0; t < NTERR; t++)
			keys[2 + t] = terr_name[t];
		fs_buf_adds(&b, "{\"v\":1,\"cursor\":{");
		for (int i = 0, first = 1; i < NTERR + 2; i++) {
			if (rnd(3) == 0)
				continue;
			int64_t v = rnd(3) == 0 ? 0 : (int64_t)(rng() % 100000) - 50000;
			if (rnd(10) == 0)
				v = rnd(2) ? 9007199254740991LL : -9007199254740991LL;
			fs_buf_printf(&b, "%s\"%s\":%lld", first ? "" : ",", keys[i], (long long)v);
			first = 0;
		}
		fs_buf_printf(&b, "},\"limit\":%d}", 1 + rnd(rnd(4) ? 200 : 5000));
	} else {
		fs_buf_adds(&b, "{\"v\":1,\"records\":[");
		struct known *k;
		switch (d->kind) {
		case K_CREATE: {
			int t = pick_terr(mask, 0);
			rnd_id(id);
			snprintf(name, sizeof name, "attack create %d", nids);
			if (!add_id(id, 'c', t, name, 1))
				return -1;
			rec_customer(&b, d, id, name, terr_name[t]);
			break;
		}
		case K_GUESS:
		case K_STEAL:
			if (!(k = pick_customer(mask, 0)))
				return -1;
			snprintf(name, sizeof name, "attack %s", kind_name[d->kind]);
			d->counter += 1000000;	/* dominate whatever HQ has */
			rec_customer(&b, d, k->id, name,
				     d->kind == K_GUESS ? terr_name[k->terr] : terr_name[pick_terr(mask, 1)]);
			break;
		case K_VISIT:
			if (!(k = pick_customer(mask, 0)))
				return -1;
			rnd_id(id);
			if (!add_id(id, 'v', k->terr, "attack visit", 1))
				return -1;
			rec_visit(&b, d, id, k->id, "attack visit");
			break;
		case K_MOVE:
			/* own customer, created legitimately first, then moved out */
			if (!(k = pick_customer(mask, 1)))
				return -1;
			d->counter += 1000000;
			rec_customer(&b, d, k->id, k->name, terr_name[pick_terr(mask, 0)]);
			break;
		default:	/* K_LEGIT */
			d->expect_ok = 1;
			rnd_id(id);
			if (rnd(2)) {
				int t = pick_terr(mask, 1);
				snprintf(name, sizeof name, "legit %d", nids);
				if (!(d->created = add_id(id, 'c', t, name, 0)))
					return -1;
				rec_customer(&b, d, id, name, terr_name[t]);
			} else {
				if (!(k = pick_customer(mask, 1)) || !(d->created = add_id(id, 'v', k->terr, "legit visit", 0)))
					return -1;
				rec_visit(&b, d, id, k->id, "legit visit");
			}
		}
		fs_buf_adds(&b, "]}");
	}
	free(d->body);
	d->body = fs_buf_detach(&b);
	fs_buf_reset(&d->resp);
	snprintf(u, sizeof u, "%s/v1/%s", url, d->kind == K_PULL ? "pull" : "push");
	curl_easy_setopt(d->h, CURLOPT_URL, u);
	curl_easy_setopt(d->h, CURLOPT_POSTFIELDS, d->body);
	return 0;
}

struct counts {
	long requests, pulls, pushes, refused, accepted, rows_returned, out_of_scope_returned,
		unknown_returned, wrong_verdict, http_errors, store_violations, per_kind[K_N];
};

static void check(struct dev *d, long status, CURLcode cc, struct counts *n)
{
	unsigned mask = rep_terr[d->rep];
	cJSON *j = cc == CURLE_OK && status == 200 ? cJSON_Parse(d->resp.p) : NULL;
	n->requests++;
	n->per_kind[d->kind]++;
	if (!j) {
		n->http_errors++;
		fprintf(stderr, "isolation: %s: HTTP %ld (curl %d): %.200s\n", kind_name[d->kind], status, (int)cc,
			d->resp.p ? d->resp.p : "");
		return;
	}
	if (d->kind == K_PULL) {
		n->pulls++;
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "changes")) {
			n->rows_returned++;
			const char *id = fs_wire_str(c, "id"), *scope = fs_wire_str(c, "scope");
			struct known *k = id ? find(id) : NULL;
			int ts = scope ? terr_index(scope) : -1;
			if (!k || k->attack) {
				n->unknown_returned++;
				fprintf(stderr, "isolation: pull returned an id nobody legitimately wrote: %s\n",
					id ? id : "?");
			} else if (ts < 0 || !((mask >> ts) & 1) || !((mask >> k->terr) & 1)) {
				n->out_of_scope_returned++;
				fprintf(stderr, "isolation: rep %d pulled %s of %s (scope %s)\n", d->rep, id,
					terr_name[k->terr], scope ? scope : "none");
			}
		}
	} else {
		n->pushes++;
		const cJSON *r;
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(j, "results")) {
			int ok = cJSON_IsTrue(cJSON_GetObjectItem(r, "ok"));
			ok ? n->accepted++ : n->refused++;
			if (ok && d->created)
				d->created->confirmed = 1;
			/* a refusal may carry the version HQ holds: only ever an own one */
			const cJSON *cur = cJSON_GetObjectItem(r, "current");
			const char *cs = cur ? fs_wire_str(cur, "scope") : NULL;
			if (cur && (!cs || terr_index(cs) < 0 || !((mask >> terr_index(cs)) & 1))) {
				n->out_of_scope_returned++;
				fprintf(stderr, "isolation: rep %d got back a record of %s\n", d->rep, cs ? cs : "?");
			}
			if (ok != d->expect_ok) {
				n->wrong_verdict++;
				fprintf(stderr, "isolation: %s by rep %d was %s: %.300s\n", kind_name[d->kind], d->rep,
					ok ? "ACCEPTED" : "refused", d->resp.p);
			}
		}
	}
	cJSON_Delete(j);
}

/* The store holds exactly what was legitimately written. */
static long check_store(const char *db)
{
	sqlite3 *s;
	sqlite3_stmt *st;
	long bad = 0, seen = 0, want = 0;
	if (sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return 1;
	sqlite3_busy_timeout(s, 20000);
	const char *q = "SELECT 'c', id, territory, name FROM customer UNION ALL "
			"SELECT 'v', v.id, c.territory, v.outcome FROM visit v LEFT JOIN customer c ON c.id = v.customer_id";
	if (sqlite3_prepare_v2(s, q, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_close(s);
		return 1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 1);
		const char *terr = (const char *)sqlite3_column_text(st, 2);
		const char *name = (const char *)sqlite3_column_text(st, 3);
		struct known *k = find(id);
		seen++;
		if (!k || k->attack || terr_index(terr ? terr : "") != k->terr || strcmp(name ? name : "", k->name)) {
			bad++;
			fprintf(stderr, "isolation: HQ store holds %s %s (%s, \"%s\")%s\n",
				sqlite3_column_text(st, 0)[0] == 'c' ? "customer" : "visit", id, terr ? terr : "?",
				name ? name : "", !k ? ": unknown id" : k->attack ? ": written by an attack" : ": altered");
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(s);
	for (int i = 0; i < nids; i++)
		want += !ids[i].attack;
	if (seen != want) {
		fprintf(stderr, "isolation: HQ store has %ld customers and visits, %ld were written\n", seen, want);
		bad++;
	}
	return bad;
}

static int usage(void)
{
	fprintf(stderr, "usage: isolation --hq-db HQ.db --url URL [--requests N] [--seed N] [--parallel N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *db = NULL, *url = NULL;
	long requests = 10000;
	int parallel = 4;
	unsigned long long seed = 1;
	struct kit_args o;
	const char *ov;
	kit_args_init(&o, "isolation", NULL, argc, argv, 1, NULL, NULL);
	while (kit_next(&o) > 0) {
		if (kit_take(&o, "hq-db", &ov)) db = ov;
		else if (kit_take(&o, "url", &ov)) url = ov;
		else if (kit_take(&o, "requests", &ov)) requests = atol(ov);
		else if (kit_take(&o, "seed", &ov)) seed = strtoull(ov, NULL, 10);
		else if (kit_take(&o, "parallel", &ov)) parallel = atoi(ov);
		else return o.bad ? 2 : (kit_unknown(&o), usage());
	}
	if (o.bad)
		return usage();
	if (!db || !url || requests < 1 || requests > 1000000 || parallel < 1 || parallel > NREP)
		return usage();
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	struct hq *h;
	if (hq_open(db, &h)) {
		fprintf(stderr, "isolation: %s\n", fs_errmsg_get());
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int t = 0; t < NTERR; t++) {
		for (int k = 0; k < CUST_PER_TERR; k++) {
			struct fs_chg c;
			struct fs_val v = { 0 };
			char name[48], id[33];
			fs_chg_init(&c, &fs_tbl_customer);
			snprintf(name, sizeof name, "%s customer %d", terr_name[t], k);
			fs_val_set_text(&v, name, strlen(name));
			fs_chg_set(&c, fs_field_find(&fs_tbl_customer, "name"), &v);
			fs_val_set_text(&v, terr_name[t], strlen(terr_name[t]));
			fs_chg_set(&c, fs_field_find(&fs_tbl_customer, "territory"), &v);
			if (hq_write(h, &c, NULL, id)) {
				fprintf(stderr, "isolation: %s\n", fs_errmsg_get());
				return 1;
			}
			fs_val_release(&v);
			fs_chg_release(&c);
			add_id(id, 'c', t, name, 0)->confirmed = 1;
		}
	}
	struct dev D[NREP];
	memset(D, 0, sizeof D);
	for (int i = 0; i < NREP; i++) {
		struct dev *d = &D[i];
		char rep[32], terr[64] = "", tok[65], body[300], u[300], auth[120];
		d->rep = i;
		for (int t = 0; t < NTERR; t++)
			if ((rep_terr[i] >> t) & 1)
				snprintf(terr + strlen(terr), sizeof terr - strlen(terr), "%s%s", terr[0] ? "," : "",
					 terr_name[t]);
		snprintf(rep, sizeof rep, "iso-%d", i);
		if (hq_rep_add(h, rep, terr, tok)) {
			fprintf(stderr, "isolation: %s\n", fs_errmsg_get());
			return 1;
		}
		fs_buf_init(&d->resp, 64u << 20);
		d->h = curl_easy_init();
		snprintf(u, sizeof u, "%s/v1/enroll", url);
		snprintf(body, sizeof body, "{\"v\":1,\"token\":\"%s\",\"name\":\"%s\"}", tok, rep);
		curl_easy_setopt(d->h, CURLOPT_URL, u);
		curl_easy_setopt(d->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(d->h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(d->h, CURLOPT_WRITEDATA, &d->resp);
		cJSON *j = curl_easy_perform(d->h) == CURLE_OK ? cJSON_Parse(d->resp.p) : NULL;
		const char *dt = fs_wire_str(j, "device_token"), *rid = fs_wire_str(j, "replica_id");
		if (!dt || !rid) {
			fprintf(stderr, "isolation: enrolment failed: %s\n", d->resp.p ? d->resp.p : "no answer");
			return 1;
		}
		snprintf(d->token, sizeof d->token, "%s", dt);
		snprintf(d->rid, sizeof d->rid, "%s", rid);
		cJSON_Delete(j);
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", d->token);
		d->hdrs = curl_slist_append(NULL, auth);
		d->hdrs = curl_slist_append(d->hdrs, "Content-Type: application/json");
		d->hdrs = curl_slist_append(d->hdrs, "Expect:");
		curl_easy_setopt(d->h, CURLOPT_HTTPHEADER, d->hdrs);
		curl_easy_setopt(d->h, CURLOPT_ACCEPT_ENCODING, "gzip");
		curl_easy_setopt(d->h, CURLOPT_PRIVATE, d);
		curl_easy_setopt(d->h, CURLOPT_TIMEOUT, 120L);
	}
	hq_close(h);

	struct counts n;
	memset(&n, 0, sizeof n);
	CURLM *m = curl_multi_init();
	long sent = 0;
	int active = 0, stop = 0;
	while (!stop || active) {
		/* start requests on idle devices, a random one each time */
		while (!stop && active < parallel && sent < requests) {
			struct dev *d = &D[rnd(NREP)];
			if (d->busy)
				continue;
			if (build(d, url)) {
				fprintf(stderr, "isolation: out of ids after %ld requests\n", sent);
				stop = 1;
				break;
			}
			d->busy = 1;
			curl_multi_add_handle(m, d->h);
			active++;
			sent++;
		}
		if (sent >= requests)
			stop = 1;
		int running, msgs;
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 100, NULL);
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(m, &msgs))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct dev *d;
			long status = 0;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			CURLcode cc = msg->data.result;
			curl_multi_remove_handle(m, d->h);
			check(d, status, cc, &n);
			d->busy = 0;
			active--;
		}
	}
	n.store_violations = check_store(db);
	printf("{\"seed\":%llu,\"requests\":%ld,\"pulls\":%ld,\"pushes\":%ld,\"rows_returned\":%ld,"
	       "\"attacks_refused\":%ld,\"legit_accepted\":%ld,\"out_of_scope_returned\":%ld,"
	       "\"unknown_returned\":%ld,\"wrong_verdicts\":%ld,\"http_errors\":%ld,\"store_violations\":%ld,"
	       "\"by_kind\":{", seed, n.requests, n.pulls, n.pushes, n.rows_returned, n.refused, n.accepted,
	       n.out_of_scope_returned, n.unknown_returned, n.wrong_verdict, n.http_errors, n.store_violations);
	for (int k = 0; k < K_N; k++)
		printf("%s\"%s\":%ld", k ? "," : "", kind_name[k], n.per_kind[k]);
	printf("}}\n");
	for (int i = 0; i < NREP; i++) {
		curl_easy_cleanup(D[i].h);
		curl_slist_free_all(D[i].hdrs);
		free(D[i].body);
		fs_buf_release(&D[i].resp);
	}
	curl_multi_cleanup(m);
	curl_global_cleanup();
	long bad = n.out_of_scope_returned + n.unknown_returned + n.wrong_verdict + n.http_errors +
		   n.store_violations;
	return bad || n.requests < requests ? 1 : 0;
}
