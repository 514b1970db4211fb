/*
 * sealbox.c - the sealed value format and the keys of open stores: sealing
 * and unsealing values, the store's column reader, the fs_seal() and
 * fs_unseal() SQL functions (see seal.h). Knows no file, no environment
 * and no store function: the store calls it, and seal.c sets its key.
 */
#include "seal.h"
#include "store_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "reg.h"
#include "util.h"

#define NONCE crypto_secretbox_NONCEBYTES
#define MAC crypto_secretbox_MACBYTES
/* the column reader unseals into per-thread scratch buffers, one per slot */
#define SLOTS (FS_MAX_FIELDS + 16)

/* Open connections with a key: the column reader only sees a statement. */
#define MAX_KEYED 16
static struct {
	sqlite3 *db;
	unsigned char key[crypto_secretbox_KEYBYTES];
} keyed[MAX_KEYED];
static pthread_mutex_t keyed_mu = PTHREAD_MUTEX_INITIALIZER;

static _Thread_local char *scratch[SLOTS];

int fs_seal_col(const struct fs_table *t, int col)
{
	if (col >= 1 && col <= t->nfields)
		return (t->fields[col - 1].flags & FS_F_SENSITIVE) ||
		       (t == &fs_tbl_conflict && !strcmp(t->fields[col - 1].name, "value"));
	return col == t->nfields + 4;	/* sib: losing values of concurrent edits */
}

static int key_of(sqlite3 *db, unsigned char key[crypto_secretbox_KEYBYTES])
{
	int found = 0;
	pthread_mutex_lock(&keyed_mu);
	for (int i = 0; i < MAX_KEYED && !found; i++)
		if (keyed[i].db == db) {
			memcpy(key, keyed[i].key, crypto_secretbox_KEYBYTES);
			found = 1;
		}
	pthread_mutex_unlock(&keyed_mu);
	return found;
}

static int seal_raw(const unsigned char *key, char type, const void *p, size_t n, unsigned char **out, int *len)
{
	size_t plen = 1 + n, total = FS_SEAL_MAGIC_LEN + NONCE + MAC + plen;
	unsigned char *plain = malloc(plen), *b = malloc(total);
	if (!plain || !b || total > INT32_MAX) {
		free(plain);
		free(b);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	plain[0] = (unsigned char)type;
	memcpy(plain + 1, p, n);
	memcpy(b, FS_SEAL_MAGIC, FS_SEAL_MAGIC_LEN);
	randombytes_buf(b + FS_SEAL_MAGIC_LEN, NONCE);
	crypto_secretbox_easy(b + FS_SEAL_MAGIC_LEN + NONCE, plain, plen, b + FS_SEAL_MAGIC_LEN, key);
	sodium_memzero(plain, plen);
	free(plain);
	*out = b;
	*len = (int)total;
	return 0;
}

static int seal_value(const unsigned char *key, int t, int64_t i, double r, const char *s, size_t slen,
		      unsigned char **out, int *len)
{
	unsigned char le[8];
	if (t == FS_V_INT) {
		for (int k = 0; k < 8; k++)
			le[k] = (unsigned char)((uint64_t)i >> (8 * k));
		return seal_raw(key, 'i', le, 8, out, len);
	}
	if (t == FS_V_REAL)
		return seal_raw(key, 'r', &r, sizeof r, out, len);
	return seal_raw(key, 't', s, slen, out, len);
}

int fs_seal_val(const struct fs_store *s, const struct fs_val *v, unsigned char **out, int *len)
{
	return seal_value(s->key, v->t, v->i, v->r, v->s, v->t == FS_V_TEXT ? strlen(v->s) : 0, out, len);
}

static int is_sealed(const void *p, int n)
{
	return p && n >= (int)(FS_SEAL_MAGIC_LEN + NONCE + MAC + 1) && !memcmp(p, FS_SEAL_MAGIC, FS_SEAL_MAGIC_LEN);
}

/* Opens a sealed blob into a malloc'd buffer (type byte first, then the
 * payload and a NUL); NULL when the key does not open it. */
static unsigned char *open_blob(const unsigned char *key, const unsigned char *b, int n, size_t *plen)
{
	size_t clen = (size_t)n - FS_SEAL_MAGIC_LEN - NONCE;
	unsigned char *plain = malloc(clen - MAC + 1);
	if (!plain)
		return NULL;
	if (crypto_secretbox_open_easy(plain, b + FS_SEAL_MAGIC_LEN + NONCE, clen, b + FS_SEAL_MAGIC_LEN, key)) {
		free(plain);
		return NULL;
	}
	*plen = clen - MAC;
	plain[*plen] = '\0';
	return plain;
}

int fs_unseal_column(sqlite3_stmt *st, int c, int slot, struct fs_val *v)
{
	const unsigned char *b = sqlite3_column_blob(st, c);
	int n = sqlite3_column_bytes(st, c);
	unsigned char key[crypto_secretbox_KEYBYTES];
	if (!is_sealed(b, n) || slot < 0 || slot >= SLOTS)
		return 0;
	size_t plen = 0;
	unsigned char *plain = key_of(sqlite3_db_handle(st), key) ? open_blob(key, b, n, &plen) : NULL;
	sodium_memzero(key, sizeof key);
	memset(v, 0, sizeof *v);
	free(scratch[slot]);
	scratch[slot] = (char *)plain;
	if (!plain) {
		/* not openable: shown for what it is in listings; a record read
		 * (which a write could save back) fails on the -1 */
		v->t = FS_V_TEXT;
		v->s = "(sealed)";
		return -1;
	}
	if (plain[0] == 'i' && plen == 9) {
		uint64_t u = 0;
		for (int k = 0; k < 8; k++)
			u |= (uint64_t)plain[1 + k] << (8 * k);
		v->t = FS_V_INT;
		v->i = (int64_t)u;
	} else if (plain[0] == 'r' && plen == 1 + sizeof(double)) {
		v->t = FS_V_REAL;
		memcpy(&v->r, plain + 1, sizeof v->r);
	} else {
		v->t = FS_V_TEXT;
		v->s = (char *)plain + 1;
	}
	return 1;
}

void fs_seal_scratch_free(void)
{
	for (int i = 0; i < SLOTS; i++) {
		free(scratch[i]);
		scratch[i] = NULL;
	}
}

/* ---- SQL functions: fs_seal(x) and fs_unseal(x) ---- */

static void sql_unseal(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct fs_store *s = sqlite3_user_data(cx);
	(void)argc;
	const unsigned char *b = sqlite3_value_blob(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB || !is_sealed(b, n)) {
		sqlite3_result_value(cx, argv[0]);
		return;
	}
	size_t plen;
	unsigned char *plain = s->has_key ? open_blob(s->key, b, n, &plen) : NULL;
	if (!plain) {
		sqlite3_result_null(cx);
		return;
	}
	if (plain[0] == 'i' && plen == 9) {
		uint64_t u = 0;
		for (int k = 0; k < 8; k++)
			u |= (uint64_t)plain[1 + k] << (8 * k);
		sqlite3_result_int64(cx, (int64_t)u);
	} else if (plain[0] == 'r' && plen == 1 + sizeof(double)) {
		double r;
		memcpy(&r, plain + 1, sizeof r);
		sqlite3_result_double(cx, r);
	} else {
		sqlite3_result_text(cx, (char *)plain + 1, (int)plen - 1, SQLITE_TRANSIENT);
	}
	sodium_memzero(plain, plen);
	free(plain);
}

static void sql_seal(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct fs_store *s = sqlite3_user_data(cx);
	(void)argc;
	int t = sqlite3_value_type(argv[0]);
	const void *b = sqlite3_value_blob(argv[0]);
	if (!s->has_key || t == SQLITE_NULL || (t == SQLITE_BLOB && is_sealed(b, sqlite3_value_bytes(argv[0])))) {
		sqlite3_result_value(cx, argv[0]);
		return;
	}
	unsigned char *out;
	int len, rc;
	if (t == SQLITE_INTEGER)
		rc = seal_value(s->key, FS_V_INT, sqlite3_value_int64(argv[0]), 0, NULL, 0, &out, &len);
	else if (t == SQLITE_FLOAT)
		rc = seal_value(s->key, FS_V_REAL, 0, sqlite3_value_double(argv[0]), NULL, 0, &out, &len);
	else
		rc = seal_value(s->key, FS_V_TEXT, 0, 0, (const char *)sqlite3_value_text(argv[0]),
				(size_t)sqlite3_value_bytes(argv[0]), &out, &len);
	if (rc) {
		sqlite3_result_error_nomem(cx);
		return;
	}
	sqlite3_result_blob(cx, out, len, free);
}


int fs_seal_sql_functions(struct fs_store *s)
{
	int rc = sqlite3_create_function(s->db, "fs_unseal", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, s, sql_unseal,
					 NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(s->db, "fs_seal", 1, SQLITE_UTF8, s, sql_seal, NULL, NULL);
	return rc;
}

int fs_seal_keyed_add(struct fs_store *s)
{
	int slot = -1;
	pthread_mutex_lock(&keyed_mu);
	for (int i = 0; i < MAX_KEYED && slot < 0; i++)
		if (!keyed[i].db)
			slot = i;
	if (slot >= 0) {
		keyed[slot].db = s->db;
		memcpy(keyed[slot].key, s->key, sizeof s->key);
	}
	pthread_mutex_unlock(&keyed_mu);
	return slot < 0 ? -1 : 0;
}

void fs_seal_close(struct fs_store *s)
{
	pthread_mutex_lock(&keyed_mu);
	for (int i = 0; i < MAX_KEYED; i++)
		if (s->db && keyed[i].db == s->db) {
			sodium_memzero(keyed[i].key, sizeof keyed[i].key);
			keyed[i].db = NULL;
		}
	pthread_mutex_unlock(&keyed_mu);
	fs_seal_scratch_free();
	s->has_key = 0;
}
