#!/bin/sh
# Change history per customer: the change log that devices write with each
# edit syncs, so HQ and every rep of the territory see who changed what when.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20

test_expect_success 'a customer from HQ, two reps of its territory' '
	hq_start && enroll anna a.db MOW-1 && enroll boris b.db MOW-1 &&
	"$FSD" --db "$HQ_DB" customer add --name "Acme" --code AC-1 --territory MOW-1 --grade C >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null
'

# pinned times for the edits: ten minutes ahead, on a whole minute (ahead
# of every stamp so far, and well within the bound HQ puts on device clocks)
T0=$(( ($(date +%s) / 60 + 10) * 60000 ))
iso() { date -u -d "@$(( $1 / 1000 ))" +%Y-%m-%dT%H:%M:%SZ; }

test_expect_success 'edits on two devices are logged with who, when, old and new' '
	FIELDSYNC_NOW_MS=$T0 "$FS" --db a.db customer edit AC-1 --grade B --city Moscow >/dev/null &&
	"$FS" --db a.db contact add AC-1 --name Olga --role decision-maker >/dev/null &&
	FIELDSYNC_NOW_MS=$((T0 + 100000)) "$FS" --db a.db contact edit "$("$FS" --db a.db --json contact list AC-1 | jq -r ".[0].id")" --title Buyer >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	FIELDSYNC_NOW_MS=$((T0 + 200000)) "$FS" --db b.db customer edit AC-1 --grade A >/dev/null &&
	"$FS" --db b.db sync >/dev/null && "$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db --json customer history AC-1 >h.json &&
	jq -e "[.[] | select(.source == \"change\") | [.by, .record, .field, .old_value, .new_value]] ==
		[[\"anna\", \"customer\", \"city\", null, \"Moscow\"], [\"anna\", \"customer\", \"grade\", \"C\", \"B\"],
		 [\"anna\", \"contact Olga\", \"title\", null, \"Buyer\"], [\"boris\", \"customer\", \"grade\", \"B\", \"A\"]]" h.json &&
	jq -e "[.[] | select(.source == \"change\") | .at] == [\"$(iso $T0)\", \"$(iso $T0)\",
		\"$(iso $((T0 + 100000)))\", \"$(iso $((T0 + 200000)))\"]" h.json
'

test_expect_success 'what the log does not hold comes from the dots: creation at HQ' '
	jq -e "any(.[]; .source == \"last write\" and .by == \"HQ\" and .field == \"name\" and .new_value == \"Acme\")" h.json &&
	jq -e "any(.[]; .source == \"last write\" and .record == \"contact Olga\" and .field == \"name\" and .by == \"anna\")" h.json &&
	jq -e "all(.[]; .field != \"grade\" or .source == \"change\")" h.json &&
	"$FS" --db b.db customer history AC-1 | grep -q "boris.*grade.*B.*A"
'

test_expect_success 'the change log reaches HQ; planner rewrites of route_seq are not logged' '
	test "$(sqlite3 "$HQ_DB" "select count(*) from change_log")" = 4 &&
	"$FS" --db a.db customer edit AC-1 --route-seq 5 >/dev/null &&
	test "$(sqlite3 a.db "select count(*) from change_log")" = 4 &&
	"$FS" --db a.db customer edit AC-1 --grade A >/dev/null &&
	test "$(sqlite3 a.db "select count(*) from change_log")" = 4 &&
	test_status 3 "$FS" --db a.db customer history NOPE 2>err
'

# What HQ schema 4 added (authors, assignees, distances), taken out of a
# fresh store to make an older one: undo4 STORE
undo4() {
	sqlite3 "$1" "DROP TABLE product; DROP TABLE catalogue_seq; DROP INDEX order_line_sku;
		ALTER TABLE order_line DROP COLUMN sku; ALTER TABLE order_line DROP COLUMN list_price;
		DROP TABLE replica_owners; DROP INDEX visit_author; DROP INDEX payment_author;
		DROP INDEX order_line_author; DROP INDEX visit_external_id; ALTER TABLE visit DROP COLUMN external_id;
		ALTER TABLE visit DROP COLUMN assignee;
		ALTER TABLE visit DROP COLUMN distance_m;
		ALTER TABLE visit DROP COLUMN author_rep; ALTER TABLE visit DROP COLUMN author_device;
		ALTER TABLE payment DROP COLUMN author_rep; ALTER TABLE payment DROP COLUMN author_device;
		ALTER TABLE order_line DROP COLUMN author_rep; ALTER TABLE order_line DROP COLUMN author_device"
}

test_expect_success 'an HQ store of schema 1 is refused until migrate adds the change log' '
	"$FSD" --db old.db init >/dev/null && undo4 old.db &&
	sqlite3 old.db "DROP TABLE change_log; DROP TABLE device_acks; DROP TABLE gc_horizon;
		UPDATE hq_meta SET value = '\''1'\'' WHERE key = '\''schema'\''" &&
	test_status 6 "$FSD" --db old.db rep list 2>err && grep -q "fieldsyncd migrate" err &&
	"$FSD" --db old.db migrate >/dev/null &&
	test "$(sqlite3 old.db "select value from hq_meta where key = '\''schema'\''")" = 5 &&
	sqlite3 old.db "select sku, list_price from order_line; select count(*) from product" >/dev/null &&
	sqlite3 old.db "select author_rep, assignee, distance_m from visit; select count(*) from replica_owners" >/dev/null &&
	test "$(sqlite3 old.db "select count(*) from change_log")" = 0 &&
	test "$(sqlite3 old.db "select count(*) from device_acks") $(sqlite3 old.db "select count(*) from gc_horizon")" = "0 0" &&
	"$FSD" --db old.db migrate >/dev/null && "$FSD" --db old.db rep list >/dev/null
'

test_expect_success 'an HQ store of schema 2 gets the garbage collection tables from migrate' '
	"$FSD" --db two.db init >/dev/null && undo4 two.db &&
	sqlite3 two.db "DROP TABLE device_acks; DROP TABLE gc_horizon;
		UPDATE hq_meta SET value = '\''2'\'' WHERE key = '\''schema'\''" &&
	test_status 6 "$FSD" --db two.db gc 2>err && grep -q "fieldsyncd migrate" err &&
	"$FSD" --db two.db migrate >/dev/null &&
	test "$(sqlite3 two.db "select value from hq_meta where key = '\''schema'\''")" = 5 &&
	"$FSD" --db two.db gc >/dev/null
'

test_done
