#!/bin/sh
# Retention: HQ's retention-years setting syncs to the devices; `fieldsync
# purge` removes old ordinary visits (with their order lines and payments)
# from the device only, and keeps what is disputed (the record, its
# customer, a payment on the visit), anything not yet pushed, and what the
# check-in date makes recent. HQ keeps everything. Disputes are set and
# lifted on the device and at HQ, and sync both ways. A sync may purge too,
# at its end: the sync that brings the shorter period runs on a clock of
# 2015 (FIELDSYNC_NOW_MS), when the old visits were not old yet, so that
# they are still there for `fieldsync purge` to find.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20 FIELDSYNCD_CONFIG=

# visit STORE OUTCOME: the id of the visit with that outcome ("" if none)
visit() {
	sql "$1" "select id from visit where outcome = '$2'"
}
# n STORE SQL-COUNT-QUERY
n() {
	sql "$1" "$2"
}
# children STORE VISIT-ID: "order lines/payments" of a visit
children() {
	echo "$(n "$1" "select count(*) from order_line where visit_id = '$2'")/$(n "$1" "select count(*) from payment where visit_id = '$2'")"
}
pending() {
	"$FS" --db "$1" --json status | jq -r .pending
}

test_expect_success 'HQ and a rep with two customers' '
	hq_start && enroll anna a.db MOW-1 &&
	"$FSD" --db "$HQ_DB" customer add --name "Acme Tea" --code AC-1 --territory MOW-1 >/dev/null &&
	"$FSD" --db "$HQ_DB" customer add --name "Dispute Ltd" --code DC-2 --territory MOW-1 >/dev/null &&
	"$FS" --db a.db sync >/dev/null
'

test_expect_success 'HQ settings: five keys with their defaults, which devices receive' '
	"$FSD" --db "$HQ_DB" --json setting show >s.json &&
	jq -e ".[4] | .key == \"currency\" and .value == \"\" and .to_devices == \"yes\"" s.json &&
	jq -e "length == 5 and .[0].key == \"due-days\" and .[0].to_devices == \"yes\"" s.json &&
	jq -e ".[1] | .key == \"retention-years\" and .value == \"3\" and .source == \"default\" and
		.to_devices == \"yes\"" s.json &&
	jq -e ".[2] | .key == \"lapse-days\" and .value == \"90\" and .source == \"default\" and
		.to_devices == \"no\"" s.json &&
	jq -e ".[3] | .key == \"clock-ahead-minutes\" and .value == \"1440\" and .to_devices == \"yes\"" s.json &&
	"$FSD" --db "$HQ_DB" setting show | grep -q "retention-years  *3  *default"
'

test_expect_success 'bad setting values are refused with the range, exit 2, nothing stored' '
	test_status 2 "$FSD" --db "$HQ_DB" setting set retention-years 0 2>err &&
	grep -q "retention-years: .0. is not a whole number 1..100" err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set retention-years abc 2>err &&
	grep -q "retention-years: .abc. is not a whole number 1..100" err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set retention-years 101 2>err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set retention-years 2.5 2>err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set lapse-days 0 2>err && grep -q "1..3650" err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set lapse-days 3651 2>err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set keep-years 2 2>err && grep -q "unknown setting" err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set retention-years 2>err &&
	test "$(n "$HQ_DB" "select count(*) from hq_meta where key like '"'"'setting.%'"'"'")" = 0
'

test_expect_success 'HQ sets lapse-days and retention-years; "" goes back to the default' '
	"$FSD" --db "$HQ_DB" --json setting set lapse-days 30 | jq -e ".[2].value == \"30\" and .[2].source == \"HQ\"" &&
	"$FSD" --db "$HQ_DB" --json setting set lapse_days "" | jq -e ".[2].value == \"90\" and .[2].source == \"default\"" &&
	"$FSD" --db "$HQ_DB" setting set lapse-days 45 >/dev/null &&
	"$FSD" --db "$HQ_DB" --json setting set retention-years 0100 |
		jq -e ".[1].value == \"100\" and .[1].source == \"HQ\""
'

test_expect_success 'the device learns the retention period at its next sync; status shows it' '
	"$FS" --db a.db --json status | jq -e ".retention_years == 3 and .retention_source == \"default\"" &&
	"$FS" --db a.db status | grep -q "^retention  *3 years (default): visits dated before 20" &&
	"$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db --json status | jq -e ".retention_years == 100 and .retention_source == \"HQ\" and .pending == 0" &&
	test "$(n a.db "select value from meta where key = '"'"'hq.retention_years'"'"'")" = 100 &&
	test "$(n a.db "select count(*) from meta where key = '"'"'hq.lapse_days'"'"'")" = 0
'

test_expect_success 'a rep logs visits of long ago and of today; some are disputed, at HQ and on the device' '
	"$FS" --db a.db visit log AC-1 --date 2015-03-02 --check-in 2015-03-02T10:00 --outcome "old ordinary" \
		--order Tea:10:2.50 --receivable 25 --collected 10 >/dev/null &&
	"$FS" --db a.db visit log AC-1 --date 2016-04-04 --check-in 2016-04-04T10:00 \
		--outcome "old disputed at HQ" --order Cups:2:1.00 >/dev/null &&
	"$FS" --db a.db visit log AC-1 --date 2017-05-05 --check-in 2017-05-05T10:00 \
		--outcome "old disputed payment" --order Jam:1:3.00 --receivable 40 --collected 5 >/dev/null &&
	"$FS" --db a.db visit log DC-2 --date 2018-06-06 --check-in 2018-06-06T10:00 \
		--outcome "old of a disputed customer" --receivable 9 >/dev/null &&
	"$FS" --db a.db visit log AC-1 --date 2015-07-07 --check-in "$(date +%FT%H:%M)" \
		--outcome "planned long ago, checked in today" >/dev/null &&
	"$FS" --db a.db plan AC-1 --date 2014-01-06 --purpose "never visited" >/dev/null &&
	"$FS" --db a.db visit log AC-1 --outcome "today" --order Coffee:1:9.00 --collected 9 >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	test "$(pending a.db)" = 0 &&
	"$FSD" --db "$HQ_DB" dispute visit "$(visit a.db "old disputed at HQ" | cut -c1-8)" >out &&
	grep -q "is disputed: kept forever" out &&
	p=$(n a.db "select p.id from payment p join visit v on v.id = p.visit_id where v.outcome = '"'"'old disputed payment'"'"'") &&
	"$FS" --db a.db dispute payment "$(echo "$p" | cut -c1-8)" | grep -q "is disputed" &&
	"$FS" --db a.db --json dispute customer DC-2 | jq -e ".disputed == true and .changed == true" &&
	"$FS" --db a.db --json dispute customer DC-2 | jq -e ".changed == false" &&
	"$FS" --db a.db sync >/dev/null &&
	test "$(n a.db "select disputed from visit where outcome = '"'"'old disputed at HQ'"'"'")" = 1 &&
	test "$(n "$HQ_DB" "select disputed from payment where id = '"'"'$p'"'"'")" = 1 &&
	test "$(n "$HQ_DB" "select disputed from customer where code = '"'"'DC-2'"'"'")" = 1
'

test_expect_success 'HQ shortens the retention to 2 years; a visit of long ago is logged and not yet synced' '
	"$FSD" --db "$HQ_DB" setting set retention-years 2 >/dev/null &&
	FIELDSYNC_NOW_MS=$(($(date -u -d 2015-06-01 +%s) * 1000)) "$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db --json status >st.json &&
	jq -e ".retention_years == 2 and .retention_source == \"HQ\"" st.json &&
	test "$(jq -r .retention_before st.json)" = "$(sql a.db "select date('"'"'now'"'"', '"'"'-2 years'"'"')")" &&
	"$FS" --db a.db status | grep -q "^retention  *2 years (HQ): visits dated before 20" &&
	"$FS" --db a.db visit log AC-1 --date 2015-08-08 --check-in 2015-08-08T10:00 --outcome "old unsynced" >/dev/null &&
	test "$(pending a.db)" = 1
'

# on the device: how many of the old ordinary records are there (visits, lines, payments)
ordinary() {
	old=$(visit "$HQ_DB" "old ordinary") &&
	never=$(n "$HQ_DB" "select id from visit where purpose = 'never visited'") &&
	test -n "$old" && test -n "$never" &&
	echo "$(n a.db "select count(*) from visit where id in ('$old', '$never')") $(children a.db "$old" | tr / " ")"
}

test_expect_success 'purge --dry-run counts what would go and changes nothing' '
	set -- $(ordinary) && test "$*" = "2 1 1" &&
	store_dump a.db >before.dump &&
	"$FS" --db a.db --json purge --dry-run >dry.json &&
	store_dump a.db >after.dump &&
	cmp before.dump after.dump &&
	jq -e ".[0] | .table == \"visit\" and .purged == $1 and .kept_disputed == 3 and .kept_unsynced == 1 and
		.years == 2" dry.json &&
	jq -e ".[1] | .table == \"order_line\" and .purged == $2 and .kept_disputed == 2 and .kept_unsynced == 0" dry.json &&
	jq -e ".[2] | .table == \"payment\" and .purged == $3 and .kept_disputed == 2 and .kept_unsynced == 0" dry.json &&
	"$FS" --db a.db purge --dry-run >dry.txt &&
	grep -q "dry run, nothing removed" dry.txt &&
	grep -q "would purge: visits $1, order lines $2, payments $3; kept: 7 disputed, 1 unsynced" dry.txt &&
	store_dump a.db >after.dump && cmp before.dump after.dump
'

test_expect_success 'purge removes old ordinary visits, their lines and payments, from the device only' '
	set -- $(ordinary) && test "$*" = "2 1 1" &&
	old=$(visit "$HQ_DB" "old ordinary") &&
	never=$(n "$HQ_DB" "select id from visit where purpose = '"'"'never visited'"'"'") &&
	"$FS" --db a.db purge >purge.txt &&
	grep -q "^purged: visits $1, order lines $2, payments $3; kept: 7 disputed, 1 unsynced" purge.txt &&
	test "$(ordinary)" = "0 0 0" &&
	test -z "$(visit a.db "old ordinary")" &&
	test "$(pending a.db)" = 1 &&
	test "$(n "$HQ_DB" "select count(*) from visit where id in ('"'"'$old'"'"', '"'"'$never'"'"') and deleted is not 1")" = 2 &&
	test "$(children "$HQ_DB" "$old")" = 1/1 &&
	"$FSD" --db "$HQ_DB" export visits --from 2015-03-01 --to 2015-03-31 | grep -q "old ordinary"
'

test_expect_success 'kept: disputed visits, the visit of a disputed payment, a disputed customer, unsynced, recent' '
	for o in "old disputed at HQ" "old disputed payment" "old of a disputed customer" "old unsynced" \
		"planned long ago, checked in today" "today"; do
		test -n "$(visit a.db "$o")" || { echo "missing: $o"; return 1; }
	done &&
	test "$(children a.db "$(visit a.db "old disputed at HQ")")" = 1/0 &&
	test "$(children a.db "$(visit a.db "old disputed payment")")" = 1/1 &&
	test "$(children a.db "$(visit a.db "old of a disputed customer")")" = 0/1 &&
	test "$(children a.db "$(visit a.db "old unsynced")")" = 0/0 &&
	test "$(children a.db "$(visit a.db "today")")" = 1/1 &&
	test "$(n a.db "select count(*) from changelog")" = 1 &&
	"$FS" --db a.db --json purge | jq -e "map(.purged) == [0, 0, 0]"
'

test_expect_success 'a purge is not synced: HQ keeps the records and does not send them back' '
	"$FS" --db a.db sync >/dev/null &&
	test "$(pending a.db)" = 0 &&
	test "$(n "$HQ_DB" "select count(*) from visit where deleted = 1")" = 0 &&
	test "$(n "$HQ_DB" "select count(*) from visit")" = 8 &&
	test -z "$(visit a.db "old ordinary")" &&
	unsynced=$(visit "$HQ_DB" "old unsynced") && test -n "$unsynced" &&
	"$FS" --db a.db purge >/dev/null &&
	test -z "$(visit a.db "old unsynced")" &&
	test "$(children a.db "$unsynced")" = 0/0 &&
	test "$(n "$HQ_DB" "select status from visit where id = '"'"'$unsynced'"'"'")" = done &&
	test -n "$(visit a.db "old disputed at HQ")"
'

test_expect_success 'a dispute lifted at HQ reaches the device; the next purge removes those visits' '
	"$FSD" --db "$HQ_DB" dispute customer DC-2 --clear | grep -q "is no longer disputed" &&
	"$FSD" --db "$HQ_DB" dispute customer DC-2 --clear | grep -q "is not disputed" &&
	"$FS" --db a.db sync >/dev/null &&
	test "$(n a.db "select disputed from customer where code = '"'"'DC-2'"'"'")" = 0 &&
	"$FS" --db a.db purge >/dev/null &&
	test -z "$(visit a.db "old of a disputed customer")" &&
	test -n "$(visit "$HQ_DB" "old of a disputed customer")" &&
	test "$(n a.db "select count(*) from customer where code = '"'"'DC-2'"'"'")" = 1
'

test_expect_success 'HQ retention 100 years: nothing is old any more' '
	"$FSD" --db "$HQ_DB" setting set retention-years 100 >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db --json purge --dry-run | jq -e "map(.purged + .kept_disputed + .kept_unsynced) == [0, 0, 0]" &&
	"$FSD" --db "$HQ_DB" setting set retention-years "" >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db --json status | jq -e ".retention_years == 3 and .retention_source == \"default\""
'

test_expect_success 'bad dispute and purge input: clear errors, non-zero exit' '
	test_status 2 "$FS" --db a.db dispute nosuch 1234 2>err &&
	grep -q "'"'"'nosuch'"'"' is not visit, payment or customer" err &&
	test_status 2 "$FS" --db a.db dispute contact 1234 2>err &&
	test_status 2 "$FS" --db a.db dispute visit 2>err && grep -q "which visit" err &&
	test_status 3 "$FS" --db a.db dispute visit ffffffff 2>err &&
	test_status 3 "$FS" --db a.db dispute customer NO-SUCH 2>err &&
	test_status 2 "$FS" --db a.db dispute visit abcd --force 2>err &&
	test_status 2 "$FS" --db a.db purge now 2>err &&
	test_status 2 "$FS" --db a.db purge --older-than 1 2>err &&
	test_status 2 "$FSD" --db "$HQ_DB" dispute nosuch 1234 2>err &&
	grep -q "'"'"'nosuch'"'"' is not visit, payment or customer" err &&
	test_status 2 "$FSD" --db "$HQ_DB" dispute payment 2>err &&
	test_status 3 "$FSD" --db "$HQ_DB" dispute visit ffffffff 2>err &&
	"$FS" --db a.db purge --help | grep -q "dry-run" &&
	"$FS" --db a.db dispute --help | grep -q "clear" &&
	"$FS" --help | grep -q "purge" &&
	"$FSD" --help | grep -q "dispute visit|payment|customer"
'

test_expect_success 'retention_years in the configuration file is written to the settings at serve' '
	hq_stop &&
	printf "retention_years = 7\n" >fsd.conf &&
	FIELDSYNCD_CONFIG="$TRASH/fsd.conf" && export FIELDSYNCD_CONFIG &&
	hq_start "$HQ_DB"; rc=$?; FIELDSYNCD_CONFIG=; test $rc = 0 &&
	grep -q "retention_years = 7 from the configuration written to the settings" hq.log &&
	"$FSD" --db "$HQ_DB" --json setting show | jq -e ".[1].value == \"7\" and .[1].source == \"HQ\"" &&
	"$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db --json status | jq -e ".retention_years == 7"
'

test_done
