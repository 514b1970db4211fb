/*
 * wire.h - the sync wire format (see docs/protocol.md).
 *
 * Bodies are JSON objects carrying "v": FS_PROTOCOL. A record travels as
 *   {"t": table, "id": 32-hex, "vv": {replica: counter, ...}, "h": hlc,
 *    "f": {field: value, ...},                 every field that has a dot
 *    "d": [[replica, counter, hlc, [field, ...]], ...],  the dots, grouped
 *    "s": [[field, replica, counter, hlc, value], ...]}  siblings (optional)
 * plus "scope" (territory) and "q" (HQ change sequence of this version) on
 * records HQ sends; a device sends its local "scope" with pushed records. Integers are below 2^53 so
 * that every JSON reader keeps them exact; money is in minor units.
 *
 * Everything read from the network goes through fs_wire_parse(), which
 * rejects what cJSON would silently accept: invalid UTF-8, "\u0000",
 * control characters, nesting deeper than the limit, duplicate keys, and
 * numbers beyond +-(2^53 - 1).
 */
#ifndef FS_WIRE_H
#define FS_WIRE_H

#include <cjson/cJSON.h>
#include "record.h"
#include "util.h"

#define FS_PROTOCOL 1
#define FS_WIRE_MAX_DEPTH 16

/* Parse and check a body. On failure returns NULL and sets fs_err detail;
 * *code gets a short machine code ("bad_json", "bad_utf8", "too_deep", ...). */
cJSON *fs_wire_parse(const char *body, size_t len, int max_depth, const char **code);
/* The protocol version check shared by both ends. */
int fs_wire_check_version(const cJSON *doc);

/* The record fields a peer knows: the store schema it names in a body's
 * "schema" member. A peer that names none (release 0.1.0) knows those of
 * schema 4. fs_wire_schema: that schema, at most this side's own
 * (FS_SCHEMA_VERSION); EINVAL if the member is not an integer >= 4. */
#define FS_WIRE_SCHEMA_BASE 4
int fs_wire_schema(const cJSON *doc, int *schema);

/* Records. encode adds "scope" when scope is non-NULL and leaves out the
 * fields a peer of that schema does not know (fs_table's since). decode validates
 * everything against the registry (unknown table or field, types, limits,
 * dots outside the version vector). */
cJSON *fs_wire_rec_encode(const struct fs_rec *r, const char *scope, int schema);
int fs_wire_rec_decode(const cJSON *o, struct fs_rec *out);
cJSON *fs_wire_vv_encode(const struct fs_vv *vv);
int fs_wire_vv_decode(const cJSON *o, struct fs_vv *out);

/* Integer member in [lo, hi]; FIELDSYNC_EINVAL if missing or not one. */
int fs_wire_int(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t *out);
/* String member; NULL if missing or not a string. */
const char *fs_wire_str(const cJSON *o, const char *key);

/* gzip: compress with a level; inflate with a hard output cap
 * (FIELDSYNC_ELIMIT beyond it). Both return a malloc'd buffer. */
int fs_gzip(const void *in, size_t n, int level, char **out, size_t *outlen);
int fs_gunzip(const void *in, size_t n, size_t max, char **out, size_t *outlen);

#endif
