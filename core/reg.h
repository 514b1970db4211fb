/*
 * reg.h - the table registry: every synced record type is ONE entry here.
 *
 * The store schema, migrations, validation, the wire codec, merge and scope
 * are all generic over these entries: adding a record type means adding a
 * table below, and no sync code changes.
 *
 * Scope: a record's scope (the territory that decides which devices see it)
 * comes from its FS_F_SCOPE field (customer.territory) or, for records that
 * hang off a customer, from that customer (FS_F_PARENT field customer_id).
 */
#ifndef FS_REG_H
#define FS_REG_H

#include <stddef.h>
#include <stdint.h>

enum fs_type {
	FS_T_TEXT,	/* UTF-8, max bytes in `max` */
	FS_T_INT,	/* integer in [min, max] */
	FS_T_MONEY,	/* integer minor units, 0 <= x < 2^53; "12.50" in the CLI */
	FS_T_DATE,	/* YYYY-MM-DD */
	FS_T_TIME,	/* HH:MM */
	FS_T_DATETIME,	/* UTC, stored "YYYY-MM-DDTHH:MM:SSZ" */
	FS_T_LAT,	/* degrees, [-90, 90] */
	FS_T_LON,	/* degrees, [-180, 180] */
	FS_T_ENUM,	/* one word of `vocab` */
	FS_T_BOOL,	/* 0 / 1 */
	FS_T_REF	/* id of a record of table `ref` */
};

#define FS_F_REQUIRED  0x01u	/* must be set when the record is created */
#define FS_F_IMMUTABLE 0x02u	/* cannot change after creation */
#define FS_F_SENSITIVE 0x04u	/* personal or money data: left out of text search, sealed at rest (seal.h) */
#define FS_F_SCOPE     0x08u	/* this field is the record's territory */
#define FS_F_PARENT    0x10u	/* the customer this record belongs to */
#define FS_F_INTERNAL  0x20u	/* written by commands, not by --FIELD flags */

#define FS_MAX_FIELDS 64

/* The store schema: its version names the tables and fields that exist
 * (their `since`); 5 added the price list's order_line.sku, list_price. */
#define FS_SCHEMA_VERSION 5
#define FS_MAX_TABLES 16	/* per-table statement caches are this big */
#define FS_ID_LEN 32

struct fs_field {
	const char *name;
	enum fs_type type;
	unsigned flags;
	int64_t min, max;		/* INT range; TEXT maximum length in bytes */
	const char *const *vocab;	/* ENUM words, NULL-terminated */
	const char *ref;		/* REF target table */
	int since;			/* schema version that added the field */
	const char *help;
};

#define FS_TBL_NO_CONFLICT_ROWS 0x01u	/* its own clashes make no conflict records */

struct fs_table {
	const char *name;
	const struct fs_field *fields;
	int nfields;
	int since;			/* schema version that added the table */
	unsigned flags;
	const char *const *indexes;	/* column lists, NULL-terminated */
	/* filled by fs_reg_init(): */
	int idx;
	int scope_field;		/* FS_F_SCOPE or FS_F_PARENT field */
	int deleted_field;
};

/* The registry. Tables appear in dependency order (customer first). */
extern const struct fs_table *const fs_tables[];
extern const int fs_ntables;

const struct fs_table *fs_table_find(const char *name);
/* Field by name; accepts '-' for '_' ("payment-terms"). -1 if unknown. */
int fs_field_find(const struct fs_table *t, const char *name);
const char *fs_type_name(enum fs_type t);
/* Canonical ENUM word for `s` (case-insensitive, '-' == '_'), or NULL. */
const char *fs_enum_match(const struct fs_field *f, const char *s);
/* "A, B, C, VIP" into buf. */
void fs_enum_list(const struct fs_field *f, char *buf, size_t n);

/* Tables used by name throughout the engine. */
extern struct fs_table fs_tbl_change;
extern struct fs_table fs_tbl_customer, fs_tbl_contact, fs_tbl_visit,
	fs_tbl_order_line, fs_tbl_payment, fs_tbl_conflict;

#endif
