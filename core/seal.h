/*
 * seal.h - sealing of sensitive values at rest in the agent store.
 *
 * Opt-in: a store is sealed from the first read-write open with a key
 * source in the environment, and from then on cannot be opened without it:
 *   FIELDSYNC_KEY_FILE   a 32-byte key file (created 0600, in directories
 *                        created 0700, when it does not exist yet)
 *   FIELDSYNC_PASSPHRASE a passphrase; the key is crypto_pwhash(passphrase,
 *                        meta.seal_salt) (Argon2id, "interactive" limits)
 * meta.seal_check holds a keyed hash that tells a wrong key from the right
 * one; the key itself is never in the store.
 *
 * What is sealed: every field flagged FS_F_SENSITIVE, the sibling column
 * (losing values of concurrent edits), conflict.value and quarantine.record
 * (writes HQ refused). A sealed value is
 * a BLOB:
 *   "FSs1" | nonce (24 bytes) | crypto_secretbox( type | payload )
 * type 'i' (payload: int64 little-endian), 'r' (double), 't' (UTF-8 text).
 * Reads through the store's column reader (every record read, listing and
 * report) unseal transparently; SQL that computes on a sealed column uses
 * fs_unseal(col).
 */
#ifndef FS_SEAL_H
#define FS_SEAL_H

#include <sqlite3.h>
#include "store.h"

#define FS_SEAL_MAGIC "FSs1"
#define FS_SEAL_MAGIC_LEN 4

/* seal.c. Called by fs_store_open once the schema is current: sets up the key from
 * the environment, checks it, seals an unsealed store on its first keyed
 * read-write open. 0, FIELDSYNC_EAUTH (sealed store, no or wrong key), or
 * another negative code. */
int fs_seal_open(struct fs_store *s, int readonly);
/* sealbox.c from here on. */
/* The fs_seal(x) and fs_unseal(x) SQL functions on the store's connection:
 * SQLITE_OK or SQLite's code. */
int fs_seal_sql_functions(struct fs_store *s);
/* Remember s->key for s->db, for the column reader: 0, or -1 when too many
 * sealed stores are open. */
int fs_seal_keyed_add(struct fs_store *s);
/* Forget the store's key (fs_store_close). */
void fs_seal_close(struct fs_store *s);
/* Is column `col` (0 = id) of table t's row sealed? */
int fs_seal_col(const struct fs_table *t, int col);
/* Seal v into a malloc'd blob; 0 and *out / *len, or a negative code. */
int fs_seal_val(const struct fs_store *s, const struct fs_val *v, unsigned char **out, int *len);
/* If column c of the current row of st is a sealed blob, unseal it into *v
 * (text in a per-thread scratch buffer valid until the next call for the
 * same column slot) and return 1; 0 when it is not sealed; -1 when it
 * cannot be opened (no key in this process): *v is then the text
 * "(sealed)", for display only. */
int fs_unseal_column(sqlite3_stmt *st, int c, int slot, struct fs_val *v);
/* Free this thread's scratch buffers. */
void fs_seal_scratch_free(void);

#endif
