#!/bin/sh
# t0626-history-import.sh - past visits, orders and payments from a
# spreadsheet at HQ (issue "Field truth", History in bulk): all or nothing,
# the bad line named, a second run a no-op, the rep named credited, and
# the history reaches the devices of its territory.
. "$(dirname "$0")/../lib.sh"

q() { sql "$HQ_DB" "$1"; }
imp() { "$FSD" --db "$HQ_DB" "$@"; }

test_expect_success 'setup: HQ, a rep who left and one who stays, two customers' '
	hq_start && enroll anna a.db MOW-1 &&
	imp rep add oleg --territory MOW-1 >/dev/null 2>&1 && imp rep revoke oleg &&
	imp customer add --code AC-1 --name Acme --territory MOW-1 >/dev/null &&
	imp customer add --code BT-1 --name "Бета" --territory MOW-1 >/dev/null &&
	cat >ledger.csv <<-\EOF
	external_id,date,customer,rep,status,outcome,met,orders,receivable,collected,method
	P-2025-001,2025-03-04,AC-1,oleg,done,"Order, winter tea",Ivan,"Green tea:24:3.20; Black tea:12:5.90",147.60,100,cash
	P-2025-002,2025-03-11,BT-1,oleg,missed,,,,,,
	P-2025-003,2025-04-01,AC-1,anna,done,Paid the rest,,,,47.60,transfer
	EOF
	:
'

test_expect_success '--dry-run checks everything and writes nothing' '
	imp import visits ledger.csv --dry-run >out 2>err &&
	grep -q "dry run, nothing written: 3 visits created" err &&
	test "$(q "select count(*) from visit")" = 0
'

test_expect_success 'the import: visits, order lines, payments, each credited to the rep named' '
	imp import visits ledger.csv >out 2>err && grep -q "3 visits created, 0 already" err &&
	test "$(q "select count(*) from visit where external_id like '\''P-2025-%'\''")" = 3 &&
	test "$(q "select author_rep || '\'' '\'' || status from visit where external_id = '\''P-2025-002'\''")" = "oleg missed" &&
	test "$(q "select count(*) || '\'' '\'' || sum(amount) from order_line where author_rep = '\''oleg'\''")" = "2 14760" &&
	test "$(q "select sum(receivable) || '\'' '\'' || sum(received) from payment")" = "14760 14760" &&
	imp --json report visits --by rep --month 2025-03 | jq -e ".[0].rep == \"oleg\" and .[0].done == 1 and .[0].missed == 1" >/dev/null &&
	imp --json report money --by ageing | jq -e ".[0].code == \"AC-1\" and .[0].balance == 0" >/dev/null
'

test_expect_success 'a second run changes nothing' '
	before=$(q "select max(seq) from visit") &&
	imp import visits ledger.csv >out 2>err && grep -q "0 visits created, 3 already imported" err &&
	test "$(q "select count(*) from visit")" = 3 && test "$(q "select max(seq) from visit")" = "$before"
'

test_expect_success 'the history reaches the devices of the territory' '
	"$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db --json visit list --customer AC-1 | jq -e "length == 2" >/dev/null &&
	"$FS" --db a.db --json customer show AC-1 | jq -e ".owed.balance == 0" >/dev/null
'

test_expect_success 'all or nothing: a bad line stops it, named, and nothing is written' '
	printf "%s\n" "external_id,date,customer,rep,outcome" "N-1,2025-05-01,AC-1,anna,fine" \
		"N-2,2025-05-02,NO-SUCH,anna,lost" >bad1.csv &&
	test_status 3 imp import visits bad1.csv 2>err && grep -q "line 3: customer" err &&
	printf "%s\n" "external_id,date,customer" "N-1,2025-05-01,AC-1" "N-1,2025-05-03,AC-1" >bad2.csv &&
	test_status 2 imp import visits bad2.csv 2>err && grep -q "line 3: external_id .N-1. is already on line 2" err &&
	printf "%s\n" "external_id,date,customer,colour" "N-1,2025-05-01,AC-1,red" >bad3.csv &&
	test_status 2 imp import visits bad3.csv 2>err && grep -q "unknown column .colour." err &&
	printf "%s\n" "external_id,date,customer,rep" "N-1,2025-13-01,AC-1,anna" >bad4.csv &&
	test_status 2 imp import visits bad4.csv 2>err && grep -q "line 2: date" err &&
	printf "%s\n" "external_id,date,customer,rep" "N-1,2025-05-01,AC-1,nobody" >bad5.csv &&
	test_status 2 imp import visits bad5.csv 2>err && grep -q "line 2: rep: no rep" err &&
	printf "%s\n" "external_id,date,customer,orders" "N-1,2025-05-01,AC-1,tea" >bad6.csv &&
	test_status 2 imp import visits bad6.csv 2>err && grep -q "line 2: orders" err &&
	printf "%s\n" "date,customer" "2025-05-01,AC-1" >bad7.csv &&
	test_status 2 imp import visits bad7.csv 2>err && grep -q "no column .external_id." err &&
	test_status 3 imp import visits no-such.csv &&
	test "$(q "select count(*) from visit where external_id like '\''N-%'\''")" = 0
'

test_done
