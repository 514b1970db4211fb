/*
 * main.c - `fieldsyncd`: the HQ server and its admin commands.
 * Admin commands work on the store whether or not the server runs (SQLite
 * in WAL mode takes one writer at a time; readers never block).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "fieldsync.h"
#include "hq.h"
#include "hq_report.h"
#include "daemon.h"
#include "ops.h"
#include "router.h"
#include "server.h"
#include "util.h"
#include "web.h"

/* ---- reps and devices (admin.c) ---- */
static int fsd_cmd_rep(struct kit_args *o)
{
	static const char *const subs[] = { "add", "token", "move", "revoke", "list", NULL };
	int which = kit_sub(o, subs), wipe = 0, k;
	const char *sub = which < 0 ? NULL : subs[which], *name = NULL, *terr = NULL, *v;
	if (!sub)
		return 2;
	while ((k = kit_next(o)) > 0) {
		if (k == 2) {
			if (name)
				return fsd_usage_err("rep %s: unexpected argument '%s'", sub, o->word);
			name = o->word;
		} else if (kit_is(o, "territory") || kit_is(o, "territories")) {
			if (!(v = kit_value(o)))
				return 2;
			terr = v;
		} else if (kit_flag(o, "wipe")) {
			wipe = 1;
		} else {
			return kit_unknown(o);
		}
	}
	struct hq *h;
	char token[65];
	int rc;
	if (strcmp(sub, "list") && !name)
		return fsd_usage_err("rep %s: which rep?", sub);
	if ((!strcmp(sub, "add") || !strcmp(sub, "move")) && !terr)
		return fsd_usage_err("rep %s needs --territory T1[,T2...]", sub);
	if ((rc = fsd_open_hq(&h)))
		return rc;
	if (!strcmp(sub, "add") || !strcmp(sub, "token")) {
		rc = !strcmp(sub, "add") ? hq_rep_add(h, name, terr, token) : hq_rep_token(h, name, token);
		if (rc == 0) {
			if (fsd_json)
				printf("{\"rep\": \"%s\", \"enroll_token\": \"%s\", \"expires_days\": 7}\n", name, token);
			else
				printf("%s\n", token);
			fprintf(stderr, "fieldsyncd: enrolment token for %s (valid 7 days, once); on the device:\n"
				"  fieldsync init --server URL --token %s\n", name, token);
		}
	} else if (!strcmp(sub, "move")) {
		rc = hq_rep_move(h, name, terr);
	} else if (!strcmp(sub, "revoke")) {
		rc = hq_rep_revoke(h, name, wipe);
	} else {
		struct fieldsync_rows *r;
		rc = hq_rep_list(h, &r);
		if (rc == 0) {
			hq_close(h);
			return fsd_print_rows(r, NULL);
		}
	}
	hq_close(h);
	return rc ? fsd_fail(rc) : 0;
}

static int fsd_cmd_device(struct kit_args *o)
{
	static const char *const subs[] = { "list", NULL };
	struct hq *h;
	struct fieldsync_rows *r;
	int rc;
	if (o->i < o->argc && kit_sub(o, subs) < 0)
		return 2;
	while ((rc = kit_next(o)) > 0)
		return kit_unknown(o);
	if (o->bad)
		return 2;
	if ((rc = fsd_open_hq(&h)))
		return rc;
	rc = hq_device_list(h, &r);
	hq_close(h);
	return rc ? fsd_fail(rc) : fsd_print_rows(r, NULL);
}

/* ---- the archive ---- */

static int fields(struct kit_args *o, struct fs_chg *c, const char **key)
{
	int k;
	const char *v;
	while ((k = kit_next(o)) > 0) {
		if (k == 2) {
			if (!key || *key)
				return fsd_usage_err("unexpected argument '%s'", o->word);
			*key = o->word;
			continue;
		}
		if (!(v = kit_value(o)))
			return 2;
		int fi = fs_field_find(c->t, o->opt);
		if (fi < 0 || (c->t->fields[fi].flags & FS_F_INTERNAL)) {
			fprintf(stderr, "fieldsyncd: unknown field '%s' for %s\n", o->opt, c->t->name);
			return 2;
		}
		struct fs_val val = { 0 };
		int rc = *v ? fs_field_parse(&c->t->fields[fi], v, FS_PARSE_USER, &val) : 0;
		if (rc == 0)
			rc = fs_chg_set(c, fi, &val);
		fs_val_release(&val);
		if (rc)
			return fsd_fail(rc);
	}
	return 0;
}

static int fsd_cmd_customer_import(struct kit_args *o)
{
	const char *file = NULL;
	int dry = 0, k;
	while ((k = kit_next(o)) > 0) {
		if (k == 2 && !file)
			file = o->word;
		else if (k == 1 && kit_flag(o, "dry-run"))
			dry = 1;
		else
			return fsd_usage_err("customer import FILE.csv [--dry-run]");
	}
	if (!file)
		return fsd_usage_err("customer import needs a FILE.csv (\"-\" for standard input)");
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	rc = hq_import(h, file, dry, &r);
	hq_close(h);
	if (rc)
		return fsd_fail(rc);
	if (!fsd_json) {
		int n[3] = { 0 };
		for (int i = 0; i < r->nrow; i++) {
			const char *a = r->cells[(size_t)i * (size_t)r->ncol + 1];
			n[!strcmp(a, "created") ? 0 : !strcmp(a, "updated") ? 1 : 2]++;
		}
		fprintf(stderr, "fieldsyncd: %s%d created, %d updated, %d unchanged\n",
			dry ? "dry run, nothing written: " : "", n[0], n[1], n[2]);
	}
	return fsd_print_rows(r, NULL);
}

static int fsd_cmd_export(struct kit_args *o)
{
	const char *what = NULL, *file = NULL, *from = NULL, *to = NULL, *v;
	int bom = 0, k;
	while ((k = kit_next(o)) > 0) {
		if (k == 2) {
			if (!what)
				what = o->word;
			else if (!file)
				file = o->word;
			else
				return fsd_usage_err("export: unexpected argument '%s'", o->word);
		} else if (kit_flag(o, "bom")) {
			bom = 1;
		} else if (kit_is(o, "from") || kit_is(o, "to")) {
			if (!(v = kit_value(o)))
				return 2;
			*(o->opt[0] == 'f' ? &from : &to) = v;
		} else {
			return kit_unknown(o);
		}
	}
	if (!what)
		return fsd_usage_err("export customers|visits|money [--from D] [--to D] [--bom] [FILE]");
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	rc = hq_export(h, what, from, to, &r);
	hq_close(h);
	if (rc)
		return fsd_fail(rc);
	FILE *fp = file && strcmp(file, "-") ? fopen(file, "wb") : stdout;
	if (!fp) {
		fs_rows_free(r);
		return fsd_fail(fs_err(FIELDSYNC_EIO, "cannot write %s: %s", file, strerror(errno)));
	}
	rc = fieldsync_rows_print(r, fp, FIELDSYNC_FMT_CSV | (bom ? FIELDSYNC_FMT_BOM : 0), NULL);
	if (fp != stdout && fclose(fp) != 0 && !rc)
		rc = fs_err(FIELDSYNC_EIO, "writing %s failed", file);
	fs_rows_free(r);
	return rc ? fsd_fail(rc) : 0;
}

/* customer opening-balance CUSTOMER AMOUNT [--date D] */
static int fsd_cmd_opening(struct kit_args *o)
{
	const char *words[2] = { NULL, NULL }, *date = NULL, *v;
	int k, n = 0;
	while ((k = kit_next(o)) > 0) {
		if (k == 2 && n < 2)
			words[n++] = o->word;
		else if (kit_take(o, "date", &v))
			date = v;
		else
			return kit_unknown(o);
	}
	if (o->bad)
		return 2;
	if (n != 2)
		return fsd_usage_err("customer opening-balance CUSTOMER AMOUNT [--date YYYY-MM-DD]");
	struct hq *h;
	char id[33];
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	rc = hq_opening_balance(h, words[0], words[1], date, id);
	hq_close(h);
	if (rc)
		return fsd_fail(rc);
	printf(fsd_json ? "{\"payment_id\": \"%s\"}\n" : "%s\n", id);
	return 0;
}

static int fsd_cmd_customer(struct kit_args *o)
{
	static const char *const subs[] = { "add", "edit", "show", "list", "delete", "import", "opening-balance",
					    NULL };
	int which = kit_sub(o, subs);
	const char *sub = which < 0 ? NULL : subs[which], *key = NULL;
	const struct fs_table *t = &fs_tbl_customer;
	struct fs_chg c;
	struct hq *h;
	char id[33];
	int rc;
	if (!sub)
		return 2;
	if (!strcmp(sub, "import"))
		return fsd_cmd_customer_import(o);
	if (!strcmp(sub, "opening-balance"))
		return fsd_cmd_opening(o);
	fs_chg_init(&c, t);
	if (!strcmp(sub, "list")) {
		const char *filters[64], *search = NULL, *v;
		char buf[64][320];
		int n = 0, k;
		while ((k = kit_next(o)) > 0) {
			if (k == 2 || n == 63)
				return fsd_usage_err("customer list: unexpected argument");
			if (!(v = kit_value(o)))
				return 2;
			if (kit_is(o, "search")) {
				search = v;
				continue;
			}
			snprintf(buf[n], sizeof buf[n], "%s=%s", o->opt, v);
			filters[n] = buf[n];
			n++;
		}
		filters[n] = NULL;
		struct fieldsync_rows *r;
		if ((rc = fsd_open_hq(&h)))
			return rc;
		rc = hq_list(h, t, filters, search, &r);
		hq_close(h);
		return rc ? fsd_fail(rc) : fsd_print_rows(r, "id,code,name,territory,route_seq,grade,status,city,phone");
	}
	int adding = !strcmp(sub, "add");
	if (!adding && strcmp(sub, "edit") && strcmp(sub, "show") && strcmp(sub, "delete"))
		return fsd_usage_err("customer: unknown subcommand '%s'", sub);
	if ((rc = fields(o, &c, adding ? NULL : &key))) {
		fs_chg_release(&c);
		return rc;
	}
	if (!adding && !key) {
		fs_chg_release(&c);
		return fsd_usage_err("customer %s: which customer?", sub);
	}
	if (!strcmp(sub, "edit") && fs_chg_count(&c) == 0) {
		fs_chg_release(&c);
		return fsd_usage_err("customer edit needs at least one --FIELD VALUE");
	}
	if ((rc = fsd_open_hq(&h))) {
		fs_chg_release(&c);
		return rc;
	}
	if (!adding)
		rc = hq_lookup(h, t, key, id);
	if (rc == 0 && !strcmp(sub, "show")) {
		struct fieldsync_rows *r;
		rc = hq_show(h, t, id, &r);
		if (rc == 0) {
			fieldsync_rows_print(r, stdout, fsd_json ? FIELDSYNC_FMT_OBJECT : FIELDSYNC_FMT_RECORD, NULL);
			fs_rows_free(r);
		}
	} else if (rc == 0) {
		if (!strcmp(sub, "delete")) {
			struct fs_val one = { 0 };
			fs_val_set_int(&one, 1);
			fs_chg_set(&c, t->deleted_field, &one);
		}
		rc = hq_write(h, &c, adding ? NULL : id, id);
		if (rc == 0)
			printf(fsd_json ? "{\"id\": \"%s\"}\n" : "%s\n", id);
	}
	hq_close(h);
	fs_chg_release(&c);
	return rc ? fsd_fail(rc) : 0;
}

static int fsd_cmd_conflicts(struct kit_args *o)
{
	const char *sub = NULL, *id = NULL, *keep = NULL;
	int all = 0, k;
	struct hq *h;
	while ((k = kit_next(o)) > 0) {
		if (k == 2) {
			if (!sub)
				sub = o->word;
			else if (!id)
				id = o->word;
			else
				return fsd_usage_err("conflicts: unexpected argument '%s'", o->word);
		} else if (kit_flag(o, "all")) {
			all = 1;
		} else if (kit_is(o, "keep")) {
			if (!(keep = kit_value(o)))
				return 2;
		} else {
			return kit_unknown(o);
		}
	}
	static const char *const subs[] = { "resolve", NULL };
	if (sub && kit_pick("fieldsyncd", "conflicts", sub, subs) < 0)
		return 2;
	if (sub && (!id || !keep || (strcmp(keep, "winner") && strcmp(keep, "loser"))))
		return fsd_usage_err("conflicts resolve ID --keep winner|loser");
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	if (sub) {
		char cid[33];
		rc = hq_lookup(h, &fs_tbl_conflict, id, cid);
		if (rc == 0)
			rc = hq_resolve(h, cid, !strcmp(keep, "loser"));
		if (rc == 0)
			printf(fsd_json ? "{\"resolved\": \"%s\"}\n" : "resolved %s\n", cid);
		hq_close(h);
		return rc ? fsd_fail(rc) : 0;
	}
	struct fieldsync_rows *r;
	rc = hq_conflict_list(h, all, &r);
	hq_close(h);
	return rc ? fsd_fail(rc) : fsd_print_rows(r, NULL);
}

static int fsd_cmd_quarantine(struct kit_args *o)
{
	struct hq *h;
	struct fieldsync_rows *r;
	int rc;
	while ((rc = kit_next(o)) > 0)
		return fsd_usage_err("quarantine: unexpected argument");
	if ((rc = fsd_open_hq(&h)))
		return rc;
	rc = hq_quarantine_list(h, &r);
	hq_close(h);
	return rc ? fsd_fail(rc) : fsd_print_rows(r, "at,rep,device,tbl,rec_id,reason,decision");
}

/* ---- dashboard administrators (web.h) ---- */

static int fsd_cmd_admin(struct kit_args *o)
{
	static const char *const subs[] = { "add", "reset", "remove", "list", "log", NULL };
	int which = kit_sub(o, subs);
	const char *sub = which < 0 ? NULL : subs[which], *name = NULL;
	char pw[HQ_ADMIN_PW_LEN];
	struct fieldsync_rows *r;
	struct hq *h;
	int k, rc;
	if (!sub)
		return 2;
	while ((k = kit_next(o)) > 0) {
		if (k != 2 || name)
			return fsd_usage_err("admin %s: unexpected argument", sub);
		name = o->word;
	}
	int named = which <= 2;
	if (named != (name != NULL))
		return fsd_usage_err(named ? "admin %s: which admin?" : "admin %s takes no name", sub);
	if ((rc = fsd_open_hq(&h)))
		return rc;
	if (!strcmp(sub, "add") || !strcmp(sub, "reset")) {
		rc = !strcmp(sub, "add") ? hq_admin_add(h, name, pw) : hq_admin_reset(h, name, pw);
		if (rc == 0) {
			if (fsd_json)
				printf("{\"admin\": \"%s\", \"password\": \"%s\"}\n", name, pw);
			else
				printf("%s\n", pw);
			sodium_memzero(pw, sizeof pw);
			fprintf(stderr, "fieldsyncd: password for %s (shown once; HQ keeps only its hash); sign in at\n"
				"  http(s)://HOST:PORT/admin/\n", name);
		}
	} else if (!strcmp(sub, "remove")) {
		rc = hq_admin_remove(h, name);
	} else {
		rc = !strcmp(sub, "list") ? hq_admin_list(h, &r) : hq_decision_list(h, &r);
		if (rc == 0) {
			hq_close(h);
			return fsd_print_rows(r, NULL);
		}
	}
	hq_close(h);
	return rc ? fsd_fail(rc) : 0;
}

/* ---- backup and restore (docs/operations.md) ---- */

static int one_file(struct kit_args *o, const char *cmd, const char **file, int *no_keep)
{
	int k;
	*file = NULL;
	while ((k = kit_next(o)) > 0) {
		if (k == 2 && !*file)
			*file = o->word;
		else if (k == 1 && no_keep && kit_flag(o, "no-keep"))
			*no_keep = 1;
		else
			return kit_unknown(o);
	}
	return *file ? 0 : fsd_usage_err("%s needs a FILE", cmd);
}

static int same_file(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static void print_done(const char *what, const char *file, const char *extra_key, const char *extra)
{
	struct stat st;
	long long bytes = stat(file, &st) == 0 ? (long long)st.st_size : -1;
	if (fsd_json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, what, file);
		cJSON_AddStringToObject(j, "store", fsd_db_path);
		cJSON_AddNumberToObject(j, "bytes", (double)bytes);
		if (extra_key)
			cJSON_AddStringToObject(j, extra_key, extra ? extra : "");
		char *t = cJSON_PrintUnformatted(j);
		if (t)
			printf("%s\n", t);
		cJSON_free(t);
		cJSON_Delete(j);
	}
}

/* ---- settings and reports (hq_report.h) ---- */

static int fsd_cmd_setting(struct kit_args *o)
{
	static const char *const subs[] = { "show", "set", NULL };
	const char *sub = "show", *words[2] = { NULL, NULL };
	int k, n = 0;
	if (o->i < o->argc) {
		int which = kit_sub(o, subs);
		if (which < 0)
			return 2;
		sub = subs[which];
	}
	while ((k = kit_next(o)) > 0) {
		if (k != 2 || n == 2)
			return fsd_usage_err("setting %s: unexpected argument", sub);
		words[n++] = o->word;
	}
	if (!strcmp(sub, "set") && n != 2)
		return fsd_usage_err("setting set KEY VALUE (due-days A=7,B=14,..., retention-years N, lapse-days N;"
				 " \"\" = the default)");
	if (!strcmp(sub, "show") && n)
		return fsd_usage_err("setting show takes no argument");
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	if (!strcmp(sub, "set")) {
		char key[64];
		snprintf(key, sizeof key, "%s", words[0]);
		for (char *p = key; *p; p++)
			*p = *p == '-' ? '_' : *p;
		rc = hq_setting_set(h, key, words[1]);
	}
	if (rc == 0)
		rc = hq_settings(h, &r);
	hq_close(h);
	return rc ? fsd_fail(rc) : fsd_print_rows(r, NULL);
}

/* fieldsyncd dispute visit|payment|customer ID [--clear]: HQ's own write of `disputed`. */
static int fsd_cmd_dispute(struct kit_args *o)
{
	const char *table = NULL, *key = NULL;
	int clear = 0, k;
	while ((k = kit_next(o)) > 0) {
		if (k == 1 && kit_flag(o, "clear"))
			clear = 1;
		else if (k == 1)
			return kit_unknown(o);
		else if (!table)
			table = o->word;
		else if (!key)
			key = o->word;
		else
			return fsd_usage_err("dispute: unexpected argument '%s'", o->word);
	}
	if (!table || (strcmp(table, "visit") && strcmp(table, "payment") && strcmp(table, "customer")))
		return fsd_usage_err("dispute: '%s' is not visit, payment or customer", table ? table : "");
	if (!key)
		return fsd_usage_err("dispute %s: which %s? (an ID)", table, table);
	const struct fs_table *t = fs_table_find(table);
	struct fieldsync_rows *cur = NULL;
	struct hq *h;
	char id[33];
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	if ((rc = hq_lookup(h, t, key, id)) == 0)
		rc = hq_show(h, t, id, &cur);
	int was = 0;
	for (int c = 0; rc == 0 && c < cur->ncol; c++)
		if (!strcmp(cur->names[c], "disputed"))
			was = fs_rows_cell(cur, 0, c) && !strcmp(fs_rows_cell(cur, 0, c), "1");
	fs_rows_free(cur);
	if (rc == 0 && was != !clear) {
		struct fs_chg c;
		struct fs_val v = { 0 };
		fs_chg_init(&c, t);
		fs_val_set_int(&v, !clear);
		rc = fs_chg_set(&c, fs_field_find(t, "disputed"), &v);
		if (rc == 0)
			rc = hq_write(h, &c, id, NULL);
		fs_chg_release(&c);
	}
	hq_close(h);
	if (rc)
		return fsd_fail(rc);
	fieldsync_dispute_print(stdout, fsd_json, table, id, was, clear);
	return 0;
}

static int fsd_cmd_report(struct kit_args *o)
{
	static const char *const kinds[] = { "visits", "customers", "money", "overdue", "sales", NULL };
	int which = kit_sub(o, kinds), k;
	const char *kind = which < 0 ? NULL : kinds[which], *v;
	const char *by = NULL, *month = NULL, *terr = NULL, *date = NULL, *far = NULL;
	if (!kind)
		return 2;
	while ((k = kit_next(o)) > 0) {
		if (k == 2)
			return fsd_usage_err("report %s: unexpected argument '%s'", kind, o->word);
		const char **dst = kit_is(o, "by") ? &by : kit_is(o, "month") ? &month :
				   kit_is(o, "territory") ? &terr : kit_is(o, "date") ? &date :
				   kit_is(o, "far") ? &far : NULL;
		if (!dst)
			return kit_unknown(o);
		if (!(v = kit_value(o)))
			return 2;
		*dst = v;
	}
	if (o->bad)
		return 2;
	int64_t metres = 0;
	if (far && (strcmp(kind, "visits") || by || terr || date))
		return fsd_usage_err("--far goes with report visits --month M alone");
	if (far && (fs_parse_int(far, &metres) || metres < 0))
		return fsd_usage_err("--far: '%s' is not a distance in metres", far);
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	if (!strcmp(kind, "sales") && (terr || date)) {
		hq_close(h);
		return fsd_usage_err("report sales takes --by product|rep|customer and --month YYYY-MM");
	}
	rc = far ? hq_report_far(h, month, metres, &r)
	     : !strcmp(kind, "sales") ? hq_report_sales(h, by, month, &r)
	     : hq_report(h, kind, by, month, terr, date, &r);
	hq_close(h);
	if (rc)
		return fsd_fail(rc);
	const char *cols = NULL;
	if (far)
		cols = "date,check_in,rep,customer,code,territory,distance_m";
	else if (!strcmp(kind, "overdue"))
		cols = "customer,code,territory,grade,interval_days,last_done,days_since,overdue_days,next_planned";
	else if (!strcmp(kind, "money") && by && !strcmp(by, "open"))
		cols = "date,customer,grade,receivable,received,outstanding,visit_id";
	else if (!strcmp(kind, "money") && by && !strcmp(by, "customer"))
		cols = "customer,code,grade,territory,ordered,receivable,received,outstanding";
	return fsd_print_rows(r, cols);
}

/* ---- garbage collection (gc.c) ---- */

static int fsd_cmd_gc(struct kit_args *o)
{
	int k, dry = 0;
	while ((k = kit_next(o)) > 0) {
		if (k == 2)
			return fsd_usage_err("gc: unexpected argument '%s'", o->word);
		if (kit_flag(o, "dry-run"))
			dry = 1;
		else
			return kit_unknown(o);
	}
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	rc = hq_gc(h, dry, &r);
	hq_close(h);
	if (rc)
		return fsd_fail(rc);
	if (!fsd_json && !fsd_csv)
		printf("%s\n", dry ? "dry run: nothing was removed" : "garbage collection done");
	return fsd_print_rows(r, NULL);
}

static int fsd_cmd_repair(struct kit_args *o)
{
	int k, dry = 0, clock = 0;
	while ((k = kit_next(o)) > 0) {
		if (k == 2 && !clock) {
			static const char *const what[] = { "clock", NULL };
			if (kit_pick("fieldsyncd", "repair", o->word, what) < 0)
				return 2;
			clock = 1;
		} else if (k == 2)
			return fsd_usage_err("repair: unexpected argument '%s'", o->word);
		else if (kit_flag(o, "dry-run"))
			dry = 1;
		else
			return kit_unknown(o);
	}
	if (!clock)
		return fsd_usage_err("repair: what to repair? (only 'clock' is known)");
	struct hq *h;
	long n = 0;
	int64_t was = 0;
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	rc = hq_repair_clock(h, dry, &n, &was);
	hq_close(h);
	if (rc)
		return fsd_fail(rc);
	char at[32] = "";
	if (was)
		fs_iso_utc(fs_hlc_ms(was < FS_HLC_MAX ? was : FS_HLC_MAX), at);
	if (fsd_json)
		printf("{\"records\": %ld, \"clock_was\": %s%s%s, \"dry_run\": %s}\n", n, was ? "\"" : "",
		       was ? at : "null", was ? "\"" : "", dry ? "true" : "false");
	else
		printf("%s%s%s%s %ld record%s\n", was ? "HQ clock set back from " : "", was ? at : "",
		       was ? "; " : "", dry ? "would restamp" : "restamped", n, n == 1 ? "" : "s");
	return 0;
}

static int fsd_cmd_backup(struct kit_args *o)
{
	const char *file;
	int rc = one_file(o, "backup", &file, NULL);
	if (rc)
		return rc;
	if (!fsd_is_file_store())
		return fsd_no_dump("backup");
	if (same_file(file, fsd_db_path))
		return fsd_usage_err("backup: %s is the store itself", file);
	struct hq *h;
	if ((rc = fsd_open_hq(&h)))
		return rc;
	rc = hq_backup(h, file);
	hq_close(h);
	if (rc)
		return fsd_fail(rc);
	print_done("backup", file, NULL, NULL);
	if (!fsd_json)
		printf("backup of %s written to %s\n", fsd_db_path, file);
	return 0;
}

static int fsd_cmd_restore(struct kit_args *o)
{
	const char *file;
	int no_keep = 0, lockfd, rc = one_file(o, "restore", &file, &no_keep);
	char keep[4200] = "", old[33] = "", now[32], id[33];
	if (rc)
		return rc;
	if (!fsd_is_file_store())
		return fsd_no_dump("restore");
	if (same_file(file, fsd_db_path))
		return fsd_usage_err("restore: %s is the store itself", file);
	/* no server on the store while its content is replaced under it */
	if ((rc = hq_store_lock(fsd_db_path, 1, &lockfd)))
		return fsd_fail(rc);
	if (!no_keep && access(fsd_db_path, F_OK) == 0) {
		/* what is replaced stays at hand: STORE.pre-restore-<time> */
		struct hq *h;
		fs_iso_utc(fs_wall_ms(), now);
		for (char *p = now; *p; p++)
			if (*p == ':' || *p == '-')
				memmove(p, p + 1, strlen(p));
		snprintf(keep, sizeof keep, "%s.pre-restore-%s", fsd_db_path, now);
		rc = hq_open(fsd_db_path, &h);
		if (rc == 0) {
			snprintf(old, sizeof old, "%s", hq_replica_id(h));
			rc = hq_backup(h, keep);
			hq_close(h);
		}
		if (rc) {
			fs_err_wrap(rc, "cannot keep a copy of the current store (--no-keep replaces it without one)");
			close(lockfd);
			return fsd_fail(rc);
		}
	}
	rc = hq_restore(fsd_db_path, file, id);
	close(lockfd);
	if (rc)
		return fsd_fail(rc);
	print_done("restored", file, "replica_id", id);
	if (!fsd_json)
		printf("restored %s from %s; HQ replica id %s%s%s (devices send what they hold again and pull"
		       " everything anew on their next sync)\n", fsd_db_path, file, id, old[0] ? ", was " : "", old);
	if (keep[0])
		fprintf(stderr, "fieldsyncd: the replaced store is kept as %s\n", keep);
	return 0;
}

/* ---- plans for a rep ---- */

static int fsd_cmd_plan(struct kit_args *o)
{
	static const char *const subs[] = { "add", NULL };
	const char *cust = NULL, *rep = NULL, *date = NULL, *time = NULL, *v;
	int k;
	if (kit_sub(o, subs) < 0)
		return 2;
	while ((k = kit_next(o)) > 0) {
		if (k == 2 && !cust)
			cust = o->word;
		else if (kit_take(o, "rep", &v))
			rep = v;
		else if (kit_take(o, "date", &v))
			date = v;
		else if (kit_take(o, "time", &v))
			time = v;
		else
			return kit_unknown(o);
	}
	if (o->bad)
		return 2;
	if (!cust)
		return fsd_usage_err("plan add: which customer? (its code, id or id prefix)");
	if (!rep || !date)
		return fsd_usage_err("plan add needs --rep NAME and --date YYYY-MM-DD");
	struct hq *h;
	char id[33];
	int rc = fsd_open_hq(&h);
	if (rc)
		return rc;
	rc = hq_plan_add(h, cust, rep, date, time, id);
	hq_close(h);
	if (rc)
		return fsd_fail(rc);
	printf(fsd_json ? "{\"id\": \"%s\"}\n" : "%s\n", id);
	return 0;
}

/* ---- the price list (catalogue.c) ---- */

static int fsd_cmd_product(struct kit_args *o)
{
	static const char *const subs[] = { "add", "edit", "list", "import", NULL };
	int which = kit_sub(o, subs), k, all = 0, dry = 0;
	struct hq_product p = { NULL, NULL, NULL, NULL, NULL };
	const char *v, *word = NULL;
	if (which < 0)
		return 2;
	while ((k = kit_next(o)) > 0) {
		if (k == 2 && !word)
			word = o->word;
		else if (k == 2)
			return fsd_usage_err("product %s: unexpected argument '%s'", subs[which], o->word);
		else if (which <= 1 && kit_take(o, "name", &v))
			p.name = v;
		else if (which <= 1 && kit_take(o, "unit", &v))
			p.unit = v;
		else if (which <= 1 && kit_take(o, "price", &v))
			p.price = v;
		else if (which == 1 && kit_take(o, "active", &v))
			p.active = v;
		else if (which == 2 && kit_flag(o, "all"))
			all = 1;
		else if (which == 3 && kit_flag(o, "dry-run"))
			dry = 1;
		else
			return kit_unknown(o);
	}
	if (o->bad)
		return 2;
	if (which <= 1 && !word)
		return fsd_usage_err("product %s: which SKU?", subs[which]);
	if (which == 0 && (!p.name || !p.price))
		return fsd_usage_err("product add SKU --name NAME --price PRICE [--unit UNIT]");
	if (which == 1 && !p.name && !p.unit && !p.price && !p.active)
		return fsd_usage_err("product edit SKU: nothing to change (--name, --unit, --price, --active yes|no)");
	if (which == 2 && word)
		return fsd_usage_err("product list: unexpected argument '%s'", word);
	if (which == 3 && !word)
		return fsd_usage_err("product import needs a FILE.csv (\"-\" for standard input)");
	FILE *fp = NULL;
	if (which == 3 && !(fp = strcmp(word, "-") ? fopen(word, "rb") : stdin)) {
		fprintf(stderr, "fieldsyncd: cannot read %s: %s\n", word, strerror(errno));
		return 3;
	}
	struct hq *h;
	struct fieldsync_rows *r = NULL;
	int created = 0, rc = fsd_open_hq(&h);
	if (rc == 0) {
		p.sku = word;
		rc = which == 2 ? hq_product_list(h, all, &r)
		     : which == 3 ? hq_product_import(h, fp, dry, &r)
		     : hq_product_put(h, &p, which == 0 ? HQ_PRODUCT_ADD : HQ_PRODUCT_EDIT, &created);
		hq_close(h);
		rc = rc ? fsd_fail(rc) : 0;
	}
	if (fp && fp != stdin)
		fclose(fp);
	if (rc)
		return rc;
	if (which <= 1) {
		const char *what = created > 0 ? "added" : created == 0 ? "changed" : "unchanged";
		printf(fsd_json ? "{\"sku\": \"%s\", \"result\": \"%s\"}\n" : "%s %s\n", word, what);
		return 0;
	}
	if (which == 3 && !fsd_json) {
		int n[3] = { 0, 0, 0 };
		for (int i = 0; i < r->nrow; i++) {
			const char *a = r->cells[(size_t)i * (size_t)r->ncol + 1];
			n[!strcmp(a, "created") ? 0 : !strcmp(a, "updated") ? 1 : 2]++;
		}
		fprintf(stderr, "fieldsyncd: %s%d products created, %d updated, %d unchanged\n",
			dry ? "dry run, nothing written: " : "", n[0], n[1], n[2]);
	}
	return fsd_print_rows(r, NULL);
}

/* ---- past visits from a spreadsheet (history.c) ---- */

static int fsd_cmd_import(struct kit_args *o)
{
	static const char *const subs[] = { "visits", NULL };
	const char *file = NULL;
	int dry = 0, k;
	if (kit_sub(o, subs) < 0)
		return 2;
	while ((k = kit_next(o)) > 0) {
		if (k == 2 && !file)
			file = o->word;
		else if (kit_flag(o, "dry-run"))
			dry = 1;
		else
			return kit_unknown(o);
	}
	if (o->bad)
		return 2;
	if (!file)
		return fsd_usage_err("import visits needs a FILE.csv (\"-\" for standard input)");
	FILE *fp = strcmp(file, "-") ? fopen(file, "rb") : stdin;
	if (!fp) {
		fprintf(stderr, "fieldsyncd: cannot read %s: %s\n", file, strerror(errno));
		return 3;
	}
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = fsd_open_hq(&h);
	if (rc == 0) {
		rc = hq_import_visits(h, fp, dry, &r);
		hq_close(h);
		rc = rc ? fsd_fail(rc) : 0;
	}
	if (fp != stdin)
		fclose(fp);
	if (rc)
		return rc;
	if (!fsd_json) {
		int n[2] = { 0, 0 };
		for (int i = 0; i < r->nrow; i++)
			n[!strcmp(r->cells[(size_t)i * (size_t)r->ncol + 1], "created") ? 0 : 1]++;
		fprintf(stderr, "fieldsyncd: %s%d visits created, %d already imported (unchanged)\n",
			dry ? "dry run, nothing written: " : "", n[0], n[1]);
	}
	return fsd_print_rows(r, NULL);
}

/* ---- init / migrate ---- */

static int fsd_cmd_init(struct kit_args *o)
{
	if (kit_next(o) > 0)
		return kit_unknown(o);
	if (o->bad)
		return 2;
	int rc = hq_init(fsd_db_path);
	if (rc)
		return fsd_fail(rc);
	struct hq *h;
	if ((rc = fsd_open_hq(&h)))
		return rc;
	printf(fsd_json ? "{\"store\": \"%s\", \"replica_id\": \"%s\"}\n" : "HQ store %s ready, replica %s\n",
	       fsd_shown_db(), hq_replica_id(h));
	hq_close(h);
	return 0;
}

/* ---- the command table ---- */

#define RUN(f)                                                                          \
	static int run_##f(void *ctx, int argc, char **argv)                            \
	{                                                                               \
		struct kit_args o;                                                      \
		(void)ctx;                                                              \
		kit_args_init(&o, "fieldsyncd", argv[0], argc, argv, 1, &fsd_globals, NULL); \
		return fsd_cmd_##f(&o);                                                 \
	}
RUN(init) RUN(serve) RUN(gc) RUN(backup) RUN(repair) RUN(restore) RUN(rep) RUN(device) RUN(customer)
RUN(export) RUN(conflicts) RUN(quarantine) RUN(admin) RUN(setting) RUN(dispute) RUN(report) RUN(plan)
RUN(import) RUN(product)
#undef RUN

/* Each command's help: the lines `fieldsyncd --help` lists for it. */
static const struct kit_cmd cmds[] = {
	{ "init", NULL, "create the HQ store",
	  "  init                       create the HQ store\n", run_init },
	{ "migrate", NULL, "create or upgrade the HQ store's schema",
	  "  migrate                    create or upgrade the HQ store's schema\n", run_init },
	{ "serve", NULL, "run the sync server",
	  "  serve [--listen HOST:PORT|[V6]:PORT|PORT] [--threads N] [--log-format text|json]\n"
	  "        [--port-file FILE] [--batch N] [--page N] [--max-body BYTES]\n"
	  "        [--timeout SECONDS] [--header-timeout SECONDS] [--body-timeout SECONDS]\n"
	  "        [--body-min-rate BYTES_PER_S] [--max-buffered BYTES] [--max-conns-per-ip N]\n"
	  "        [--tls-cert PEM --tls-key PEM] [--tls-priorities GNUTLS_PRIORITIES]\n"
	  "        [--gc-every HOURS]\n"
	  "                             run the sync server until SIGTERM/SIGINT\n", run_serve },
	{ "gc", NULL, "remove tombstones every device has",
	  "  gc [--dry-run]             remove tombstones and evictions every device in\n"
	  "                             their territory has (devices silent for lapse-days\n"
	  "                             are not waited for: they resync when they return)\n", run_gc },
	{ "backup", NULL, "a consistent copy of the store, taken online",
	  "  backup FILE                a consistent copy of the store, taken online\n", run_backup },
	{ "repair", NULL, "HQ's clock back after it was pushed ahead",
	  "  repair clock [--dry-run]   HQ's clock back to the system time after it was pushed\n"
	  "                             beyond clock-ahead-minutes, and the writes stamped\n"
	  "                             beyond it restamped (devices take them at their sync)\n", run_repair },
	{ "restore", NULL, "replace the store by a backup",
	  "  restore FILE [--no-keep]   replace the store by a backup (server stopped; the\n"
	  "                             replaced one is kept as STORE.pre-restore-TIME)\n", run_restore },
	{ "rep", NULL, "reps: add, token, move, revoke, list",
	  "  rep add NAME --territory T1[,T2...]   create a rep; prints a one-time enrolment token\n"
	  "  rep token NAME             another enrolment token (a new device for the rep)\n"
	  "  rep move NAME --territory T1[,T2...]  change a rep's territories\n"
	  "  rep revoke NAME [--wipe]   refuse the rep's devices (--wipe: flag them for erasure)\n"
	  "  rep list                   reps, territories, devices, last successful sync\n", run_rep },
	{ "device", "devices", "every enrolled device",
	  "  device list                every enrolled device\n", run_device },
	{ "customer", NULL, "the customer archive, as HQ's own writes",
	  "  customer add|edit|show|list|delete    as in fieldsync, as HQ's own writes\n"
	  "  customer import FILE.csv [--dry-run]  customers from CSV, all or nothing, by code\n"
	  "  customer opening-balance CUSTOMER AMOUNT [--date D]   what the customer owed before\n"
	  "                             the ledger began (set again: changed); it syncs\n", run_customer },
	{ "plan", NULL, "a visit planned for a rep",
	  "  plan add CUSTOMER --rep NAME --date YYYY-MM-DD [--time HH:MM]   a visit planned for a rep\n"
	  "                             (who must cover the customer's territory); it reaches that\n"
	  "                             rep's devices only\n", run_plan },
	{ "import", NULL, "past visits, orders and payments from CSV",
	  "  import visits FILE.csv [--dry-run]   past visits, orders and payments from a spreadsheet:\n"
	  "                             all or nothing, a second run changes nothing (external_id)\n",
	  run_import },
	{ "product", "products", "the price list devices take orders from",
	  "  product add SKU --name NAME --price PRICE [--unit UNIT]   a product in the price list\n"
	  "  product edit SKU [--name N] [--price P] [--unit U] [--active yes|no]   change it\n"
	  "                             (--active no withdraws it; products are never deleted)\n"
	  "  product list [--all]       the active products (--all: withdrawn ones too)\n"
	  "  product import FILE.csv [--dry-run]   sku,name,unit,price,active rows, all or\n"
	  "                             nothing, by SKU; devices get the list with their sync\n", run_product },
	{ "export", NULL, "CSV out",
	  "  export customers|visits|money [--from D] [--to D] [--bom] [FILE]   CSV out\n", run_export },
	{ "conflicts", NULL, "open conflicts, and resolving them",
	  "  conflicts [--all]          open conflicts (--all: resolved ones too)\n"
	  "  conflicts resolve ID --keep winner|loser\n", run_conflicts },
	{ "quarantine", NULL, "writes HQ refused, with the reason",
	  "  quarantine                 writes HQ refused, with the reason\n", run_quarantine },
	{ "admin", NULL, "dashboard administrators",
	  "  admin add NAME             a dashboard administrator (/admin/); prints a password once\n"
	  "  admin reset NAME           a new password (ends the admin's sessions)\n"
	  "  admin remove NAME | admin list | admin log (decisions taken in the dashboard)\n", run_admin },
	{ "setting", "settings", "HQ's settings",
	  "  setting set due-days A=7,B=14,C=30,VIP=7,none=30   grade visit intervals (devices\n"
	  "                             receive them with their next sync; \"\" = defaults)\n"
	  "  setting set retention-years N   devices purge ordinary visits older than N years\n"
	  "                             (1-100, default 3; disputed records stay)\n"
	  "  setting set lapse-days N   a device silent for N days (1-3650, default 90) is not\n"
	  "                             waited for by tombstone garbage collection (HQ only)\n"
	  "  setting set currency CODE  the one currency of every amount (EUR, RUB, CNY...; \"\": none);\n"
	  "                             devices get it\n"
	  "  setting set clock-ahead-minutes N   refuse writes stamped more than N minutes ahead\n"
	  "                             of HQ's clock (1-43200, default 1440); devices get it\n"
	  "  setting show               every setting, its source and whether devices get it\n", run_setting },
	{ "dispute", NULL, "flag a record as disputed",
	  "  dispute visit|payment|customer ID [--clear]   flag a record as disputed (kept\n"
	  "                             forever everywhere), or lift the flag; syncs\n", run_dispute },
	{ "report", NULL, "reports over the whole archive",
	  "  report visits [--by rep|territory] --month YYYY-MM   planned vs done (a rep's: the\n"
	  "                             visits the rep logged, and plans still open made for the rep)\n"
	  "  report visits --far METRES --month YYYY-MM   visits checked in farther than that from\n"
	  "                             their customer, with rep, customer and distance\n"
	  "  report customers [--by grade|nature|status|territory|size]   composition\n"
	  "  report money [--by grade|customer|open] [--month YYYY-MM] [--territory T]\n"
	  "  report money --by ageing|ageing-rep|ageing-territory [--date D] [--territory T]\n"
	  "                             what is owed on the date: balance, credit, 0-30, 31-60,\n"
	  "                             61-90, over 90 days, oldest debt first\n"
	  "  report overdue [--territory T] [--date YYYY-MM-DD]   customers past their interval\n"
	  "  report sales [--by product|rep|customer] [--month YYYY-MM]   lines, quantity and\n"
	  "                             amount ordered (by product: price list overrides too)\n", run_report },
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static const char global_help[] =
	"Global options:\n"
	"  --db STORE   SQLite file, or a PostgreSQL URL (postgres://USER@HOST/DB) or\n"
	"               connection string ('host=H dbname=DB'); default: $FIELDSYNCD_DB,\n"
	"               the configuration's db, or ./fieldsync-hq.db\n"
	"  --config FILE  key = value settings (default: $FIELDSYNCD_CONFIG, or\n"
	"               " HQ_CONF_DEFAULT " if it exists); options override it\n"
	"  --json       JSON output for listings\n"
	"  --csv        CSV output for listings (RFC 4180)\n\n"
	"Exit codes: 0 ok, 2 invalid input, 3 not found, 5 store I/O, 6 store from a newer version,\n"
	"10 busy (restore while a server runs on the store), 11 wrong state, 16 address in use (serve).\n";

static void usage(FILE *fp)
{
	fprintf(fp, "usage: fieldsyncd [--db STORE] [--json] COMMAND [ARGS]\n\n"
		"HQ for fieldsync: the sync server and the administration of reps, devices\n"
		"and the customer archive. 'fieldsyncd COMMAND --help' shows one command.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		fputs(cmds[i].help, fp);
	fprintf(fp, "\n%s", global_help);
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "db", "config", "json", "csv", "help", "version", NULL };
	static const struct kit_globals globals = { NULL, names };
	struct kit_args o;
	const char *db_flag = NULL, *config = NULL;
	int k;
	fsd_db_path = getenv("FIELDSYNCD_DB");
	if (!fsd_db_path || !*fsd_db_path)
		fsd_db_path = NULL;
	kit_args_init(&o, "fieldsyncd", NULL, argc, argv, 1, &globals, NULL);
	while ((k = kit_next(&o)) == 1) {
		if (kit_is(&o, "db") || kit_is(&o, "config")) {
			const char *v = kit_value(&o);
			if (!v)
				return 2;
			*(o.opt[0] == 'd' ? &db_flag : &config) = v;
		} else if (kit_flag(&o, "json")) {
			fsd_json = 1;
		} else if (kit_flag(&o, "csv")) {
			fsd_csv = 1;
		} else if (kit_flag(&o, "help")) {
			usage(stdout);
			return 0;
		} else if (kit_flag(&o, "version")) {
			printf("fieldsyncd %s\n", FIELDSYNC_VERSION);
			return 0;
		} else {
			return kit_unknown(&o);
		}
	}
	if (o.bad)
		return 2;
	if (k == 0) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(o.word, "-h")) {
		usage(stdout);
		return 0;
	}
	const struct kit_cmd *c = kit_find("fieldsyncd", cmds, NCMDS, o.word);
	if (!c)
		return 2;
	fsd_cmd = c->name;
	argc -= o.i - 1;
	argv += o.i - 1;
	if (kit_wants_help(argc, argv)) {
		printf("usage: fieldsyncd [GLOBAL OPTIONS] %s ...\n\n%s\n(global options and exit codes:"
		       " fieldsyncd --help)\n", c->name, c->help);
		return 0;
	}
	/* the store: --db, else $FIELDSYNCD_DB, else the configuration's db */
	int crc = hq_conf_load(config, &fsd_conf);
	if (crc)
		return fsd_fail(crc);
	fsd_db_path = db_flag ? db_flag : fsd_db_path ? fsd_db_path : fsd_conf.db ? fsd_conf.db : "fieldsync-hq.db";
	return c->fn(NULL, argc, argv);
}
