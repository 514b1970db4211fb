/* reg.c - the record types of DOMAIN.md as registry entries. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "reg.h"

#define TXT(n, mx, fl, h) { n, FS_T_TEXT, fl, 0, mx, NULL, NULL, 1, h }
#define INT(n, lo, hi, fl, h) { n, FS_T_INT, fl, lo, hi, NULL, NULL, 1, h }
#define TYP(n, ty, fl, h) { n, ty, fl, 0, 0, NULL, NULL, 1, h }
#define ENM(n, v, fl, h) { n, FS_T_ENUM, fl, 0, 0, v, NULL, 1, h }
#define REF(n, tb, fl, h) { n, FS_T_REF, fl, 0, 0, NULL, tb, 1, h }
#define DELETED { "deleted", FS_T_BOOL, FS_F_INTERNAL, 0, 1, NULL, NULL, 1, "tombstone" }

static const char *const v_grade[] = { "A", "B", "C", "VIP", NULL };
static const char *const v_nature[] = { "individual", "retailer", "specialty_store",
	"supermarket", "chain", "mail_order", "wholesaler", "dealer", "manufacturer",
	"government", "institution", NULL };
static const char *const v_status[] = { "potential", "new", "active", "problem", "lapsed", NULL };
static const char *const v_size[] = { "large", "medium", "small", NULL };
static const char *const v_priority[] = { "A", "B", "C", NULL };
static const char *const v_role[] = { "decision_maker", "influencer", "user", NULL };
static const char *const v_vstatus[] = { "planned", "done", "missed", "cancelled", NULL };
static const char *const v_method[] = { "cash", "transfer", "card", "cheque", "other", NULL };

static const struct fs_field customer_fields[] = {
	TXT("name", 200, FS_F_REQUIRED, "customer name"),
	TXT("code", 64, 0, "customer code (meant to be unique; not enforced offline)"),
	TXT("legal_form", 64, 0, "legal form (LLC, sole trader, ...)"),
	TXT("address", 500, 0, "street address"),
	TXT("city", 100, 0, "city"),
	TXT("region", 100, 0, "region / province"),
	TYP("lat", FS_T_LAT, 0, "latitude, degrees"),
	TYP("lon", FS_T_LON, 0, "longitude, degrees"),
	TXT("phone", 64, FS_F_SENSITIVE, "phone"),
	TXT("email", 254, FS_F_SENSITIVE, "e-mail"),
	TXT("website", 254, 0, "website"),
	TXT("territory", 64, FS_F_REQUIRED | FS_F_SCOPE, "territory (decides who sees it)"),
	TXT("owner_rep", 100, 0, "owning rep"),
	INT("route_seq", 0, 1000000000, 0, "standing route order in the territory"),
	ENM("nature", v_nature, 0, "nature of business"),
	ENM("grade", v_grade, 0, "grade A/B/C/VIP"),
	ENM("status", v_status, 0, "status by trading history"),
	ENM("size", v_size, 0, "size"),
	ENM("priority", v_priority, 0, "strategic priority A/B/C"),
	INT("loyalty", 1, 5, 0, "loyalty score 1-5"),
	INT("satisfaction", 1, 5, 0, "satisfaction score 1-5"),
	TXT("credit_rating", 32, 0, "credit rating"),
	TXT("payment_terms", 100, 0, "payment terms"),
	TXT("price_package", 100, 0, "price / terms package"),
	TYP("monthly_demand", FS_T_MONEY, 0, "monthly demand (amount)"),
	TXT("main_products", 1000, 0, "main products bought"),
	TXT("suppliers", 1000, 0, "current suppliers"),
	TXT("competitors", 1000, 0, "competitors present"),
	TXT("notes", 4000, FS_F_SENSITIVE, "free notes"),
	TYP("disputed", FS_T_BOOL, 0, "under dispute: kept forever"),
	DELETED,
};
static const char *const customer_idx[] = { "territory, route_seq", "code", "name", NULL };

static const struct fs_field contact_fields[] = {
	REF("customer_id", "customer", FS_F_REQUIRED | FS_F_IMMUTABLE | FS_F_PARENT, "customer"),
	TXT("name", 200, FS_F_REQUIRED, "contact name"),
	ENM("role", v_role, 0, "role in the buying decision"),
	TXT("title", 100, 0, "job title"),
	TXT("phone", 64, FS_F_SENSITIVE, "phone"),
	TXT("email", 254, FS_F_SENSITIVE, "e-mail"),
	TYP("birthday", FS_T_DATE, FS_F_SENSITIVE, "birthday"),
	TXT("notes", 2000, FS_F_SENSITIVE, "notes"),
	DELETED,
};
static const char *const contact_idx[] = { "customer_id", NULL };

static const struct fs_field visit_fields[] = {
	REF("customer_id", "customer", FS_F_REQUIRED | FS_F_IMMUTABLE | FS_F_PARENT, "customer"),
	ENM("status", v_vstatus, FS_F_REQUIRED, "planned, done, missed or cancelled"),
	TYP("planned_date", FS_T_DATE, 0, "planned date"),
	TYP("planned_time", FS_T_TIME, 0, "planned time"),
	TXT("purpose", 1000, 0, "purpose of the visit"),
	REF("contact_id", "contact", 0, "contact to meet"),
	INT("route_seq", 0, 1000000000, 0, "position in the day's route"),
	TYP("check_in", FS_T_DATETIME, 0, "check-in time"),
	TYP("check_out", FS_T_DATETIME, 0, "check-out time"),
	TYP("lat", FS_T_LAT, 0, "position at check-in"),
	TYP("lon", FS_T_LON, 0, "position at check-in"),
	REF("met_contact_id", "contact", 0, "contact met"),
	TXT("met_name", 200, 0, "name of the person met"),
	TXT("discussed", 4000, 0, "what was discussed"),
	TXT("outcome", 2000, 0, "result / outcome"),
	TXT("problem", 2000, 0, "problems found"),
	TXT("countermeasure", 2000, 0, "countermeasure"),
	TXT("follow_up", 2000, 0, "follow-up action"),
	TYP("next_date", FS_T_DATE, 0, "next visit date"),
	TXT("miss_reason", 1000, 0, "why the visit was missed or cancelled"),
	TYP("disputed", FS_T_BOOL, 0, "under dispute: kept forever"),
	DELETED,
};
static const char *const visit_idx[] = { "customer_id, planned_date", "planned_date, status",
	NULL };

static const struct fs_field order_line_fields[] = {
	REF("visit_id", "visit", FS_F_REQUIRED | FS_F_IMMUTABLE, "visit"),
	REF("customer_id", "customer", FS_F_REQUIRED | FS_F_IMMUTABLE | FS_F_PARENT, "customer"),
	TXT("product", 200, FS_F_REQUIRED, "product"),
	INT("quantity", 0, 1000000000, FS_F_REQUIRED, "quantity"),
	TYP("unit_price", FS_T_MONEY, FS_F_REQUIRED | FS_F_SENSITIVE, "unit price"),
	TYP("amount", FS_T_MONEY, FS_F_REQUIRED | FS_F_SENSITIVE, "line amount"),
	DELETED,
	/* schema 5: the price list (a line taken from it names its SKU and the
	 * list price; unit_price differing from list_price is an override) */
	{ "sku", FS_T_TEXT, 0, 0, 40, NULL, NULL, 5, "product SKU from HQ's price list" },
	{ "list_price", FS_T_MONEY, FS_F_SENSITIVE, 0, 0, NULL, NULL, 5, "price in the price list" },
};
static const char *const order_line_idx[] = { "visit_id", "customer_id", NULL };

static const struct fs_field payment_fields[] = {
	REF("customer_id", "customer", FS_F_REQUIRED | FS_F_IMMUTABLE | FS_F_PARENT, "customer"),
	REF("visit_id", "visit", FS_F_IMMUTABLE, "visit it was collected on"),
	TYP("date", FS_T_DATE, FS_F_REQUIRED, "date"),
	TYP("receivable", FS_T_MONEY, FS_F_SENSITIVE, "amount due"),
	TYP("received", FS_T_MONEY, FS_F_SENSITIVE, "amount collected"),
	ENM("method", v_method, 0, "cash, transfer, card, cheque, other"),
	TXT("note", 1000, FS_F_SENSITIVE, "note"),
	TYP("disputed", FS_T_BOOL, 0, "under dispute: kept forever"),
	DELETED,
};
static const char *const payment_idx[] = { "customer_id, date", "visit_id", NULL };

static const struct fs_field conflict_fields[] = {
	TXT("tbl", 32, FS_F_REQUIRED | FS_F_IMMUTABLE, "table of the record"),
	TXT("rec_id", FS_ID_LEN, FS_F_REQUIRED | FS_F_IMMUTABLE, "record id"),
	REF("customer_id", "customer", FS_F_REQUIRED | FS_F_IMMUTABLE | FS_F_PARENT, "customer"),
	TXT("field", 64, FS_F_REQUIRED | FS_F_IMMUTABLE, "field"),
	TXT("value", 8192, FS_F_IMMUTABLE, "the losing value"),
	TXT("lose_dot", 80, FS_F_REQUIRED | FS_F_IMMUTABLE, "dot of the losing write"),
	TXT("win_dot", 80, 0, "dot of the winning write when detected"),
	TXT("resolution", 200, 0, "how it was resolved"),
	TYP("resolved_at", FS_T_DATETIME, 0, "when it was resolved"),
	DELETED,
};
static const char *const conflict_idx[] = { "rec_id", NULL };

/* The change log: one record per field a device changed on a customer or a
 * contact (written with the change, synced like any record), so that every
 * change stays traceable after later writes replace the field's dot. */
static const struct fs_field change_fields[] = {
	REF("customer_id", "customer", FS_F_REQUIRED | FS_F_IMMUTABLE | FS_F_PARENT, "customer"),
	TXT("tbl", 32, FS_F_REQUIRED | FS_F_IMMUTABLE, "table of the changed record"),
	TXT("rec_id", FS_ID_LEN, FS_F_REQUIRED | FS_F_IMMUTABLE, "changed record"),
	TXT("field", 64, FS_F_REQUIRED | FS_F_IMMUTABLE, "changed field"),
	TXT("old_value", 8192, FS_F_IMMUTABLE | FS_F_SENSITIVE, "value before"),
	TXT("new_value", 8192, FS_F_IMMUTABLE | FS_F_SENSITIVE, "value after"),
	TXT("by_name", 100, FS_F_IMMUTABLE, "who: the rep of the device"),
	TXT("replica", FS_ID_LEN, FS_F_IMMUTABLE, "replica that wrote"),
	TYP("at", FS_T_DATETIME, FS_F_REQUIRED | FS_F_IMMUTABLE, "when"),
	DELETED,
};
static const char *const change_idx[] = { "customer_id", NULL };

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define TABLE_SINCE(var, nm, f, ix, fl, since) \
	struct fs_table var = { nm, f, N(f), since, fl, ix, 0, 0, 0 }
#define TABLE(var, nm, f, ix, fl) TABLE_SINCE(var, nm, f, ix, fl, 1)

TABLE(fs_tbl_customer, "customer", customer_fields, customer_idx, 0);
TABLE(fs_tbl_contact, "contact", contact_fields, contact_idx, 0);
TABLE(fs_tbl_visit, "visit", visit_fields, visit_idx, 0);
TABLE(fs_tbl_order_line, "order_line", order_line_fields, order_line_idx, 0);
TABLE(fs_tbl_payment, "payment", payment_fields, payment_idx, 0);
TABLE(fs_tbl_conflict, "conflict", conflict_fields, conflict_idx, FS_TBL_NO_CONFLICT_ROWS);
TABLE_SINCE(fs_tbl_change, "change_log", change_fields, change_idx, FS_TBL_NO_CONFLICT_ROWS, 3);

const struct fs_table *const fs_tables[] = {
	&fs_tbl_customer, &fs_tbl_contact, &fs_tbl_visit, &fs_tbl_order_line,
	&fs_tbl_payment, &fs_tbl_conflict, &fs_tbl_change,
};
const int fs_ntables = N(fs_tables);
_Static_assert(N(fs_tables) <= FS_MAX_TABLES, "raise FS_MAX_TABLES");

const struct fs_table *fs_table_find(const char *name)
{
	for (int i = 0; i < fs_ntables; i++)
		if (strcmp(fs_tables[i]->name, name) == 0)
			return fs_tables[i];
	return NULL;
}

static int name_eq(const char *canon, const char *s)
{
	for (; *canon && *s; canon++, s++) {
		char c = *s == '-' ? '_' : *s;
		if (c != *canon)
			return 0;
	}
	return *canon == *s;
}

int fs_field_find(const struct fs_table *t, const char *name)
{
	for (int i = 0; i < t->nfields; i++)
		if (name_eq(t->fields[i].name, name))
			return i;
	return -1;
}

const char *fs_type_name(enum fs_type t)
{
	static const char *const n[] = { "text", "integer", "money", "date", "time",
		"datetime", "latitude", "longitude", "enum", "boolean", "reference" };
	return (unsigned)t < sizeof n / sizeof n[0] ? n[t] : "?";
}

const char *fs_enum_match(const struct fs_field *f, const char *s)
{
	for (const char *const *v = f->vocab; v && *v; v++) {
		const char *a = *v, *b = s;
		for (; *a && *b; a++, b++) {
			char c = *b == '-' ? '_' : *b;
			if ((c | 0x20) != (*a | 0x20))
				break;
		}
		if (!*a && !*b)
			return *v;
	}
	return NULL;
}

void fs_enum_list(const struct fs_field *f, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (const char *const *v = f->vocab; v && *v && k < n; v++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "", *v);
}

/* Resolve the derived indexes once; the registry is otherwise const data. */
__attribute__((constructor)) static void fs_reg_init(void)
{
	for (int i = 0; i < fs_ntables; i++) {
		struct fs_table *t = (struct fs_table *)fs_tables[i];
		t->idx = i;
		t->scope_field = -1;
		t->deleted_field = -1;
		for (int j = 0; j < t->nfields; j++) {
			if (t->fields[j].flags & (FS_F_SCOPE | FS_F_PARENT))
				t->scope_field = j;
			if (strcmp(t->fields[j].name, "deleted") == 0)
				t->deleted_field = j;
		}
	}
}
