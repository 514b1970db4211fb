#!/bin/sh
# CSV in and out: customer import (all or nothing, line numbers, --dry-run,
# update by code, BOM, quoted newlines, CJK and Cyrillic) on the device and
# at HQ; exports that a spreadsheet opens and that import back.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20

n_customers() { "$FS" --db "$1" --json customer list | jq length; }

test_expect_success 'a spreadsheet file: BOM, quoted commas, quotes and newlines, CJK and Cyrillic' '
	printf "\357\273\277code,Name,territory,grade,address,notes,monthly-demand\r\n" >c.csv &&
	printf "AC-1,\"Acme, Tea \"\"Best\"\"\",MOW-1,A,\"Line 1\nLine 2\",,1250.50\r\n" >>c.csv &&
	printf "BS-2,Борис и сыновья,MOW-1,b,Москва,\"многострочная\nзаметка\",\r\n\r\n" >>c.csv &&
	printf "BJ-3,北京茶行,MOW-1,C,北京市,,\r\n" >>c.csv &&
	"$FS" --db a.db customer add --name Seed --territory MOW-1 >/dev/null
'

test_expect_success 'import --dry-run reports and writes nothing' '
	"$FS" --db a.db --json customer import c.csv --dry-run >dry.json &&
	jq -e "[.[].line] == [2, 4, 7] and all(.[]; .action == \"created\")" dry.json &&
	test "$(n_customers a.db)" = 1 &&
	test "$(sqlite3 a.db "select count(*) from changelog")" = 1
'

test_expect_success 'import creates; the values come through exactly' '
	"$FS" --db a.db customer import c.csv >out &&
	grep -q "3 created, 0 updated, 0 unchanged" out &&
	test "$(n_customers a.db)" = 4 &&
	"$FS" --db a.db --json customer show AC-1 | jq -e ".customer | .name == \"Acme, Tea \\\"Best\\\"\" and
		.address == \"Line 1\nLine 2\" and .monthly_demand == 125050 and .grade == \"A\"" &&
	"$FS" --db a.db --json customer show BS-2 | jq -e ".customer | .name == \"Борис и сыновья\" and
		.grade == \"B\" and .notes == \"многострочная\nзаметка\"" &&
	test "$(field a.db BJ-3 name)" = "北京茶行"
'

test_expect_success 're-import updates by code instead of duplicating' '
	"$FS" --db a.db customer import c.csv >out && grep -q "0 created, 0 updated, 3 unchanged" out &&
	sed "s/^BJ-3,北京茶行,MOW-1,C/BJ-3,北京茶行,MOW-1,VIP/" c.csv >c2.csv &&
	"$FS" --db a.db --json customer import c2.csv | jq -e "[.[].action] == [\"unchanged\", \"unchanged\", \"updated\"]" &&
	test "$(field a.db BJ-3 grade)" = VIP && test "$(n_customers a.db)" = 4
'

test_expect_success 'one bad row rejects the whole file, with its line number and reason' '
	before=$(sqlite3 a.db "select count(*) from changelog") &&
	printf "code,name,territory,grade\nN-1,New one,MOW-1,A\n\"N-2\",\"Two\nlines\",MOW-1,B\nN-3,Bad,MOW-1,D\n" >bad.csv &&
	test_status 2 "$FS" --db a.db customer import bad.csv 2>err &&
	grep -q "line 5: grade: .D. is not one of A, B, C, VIP" err &&
	test "$(n_customers a.db)" = 4 && test "$(sqlite3 a.db "select count(*) from changelog")" = "$before" &&
	printf "code,name,territory\nN-1,One,MOW-1\nN-2,,MOW-1\n" >bad.csv &&
	test_status 2 "$FS" --db a.db customer import bad.csv 2>err && grep -q "line 3: name: required" err &&
	printf "code,name,territory\nN-1,One,MOW-1\nN-1,Again,MOW-1\n" >bad.csv &&
	test_status 2 "$FS" --db a.db customer import bad.csv 2>err && grep -q "line 3: code .N-1. is already on line 2" err &&
	printf "code,name,colour\n" >bad.csv &&
	test_status 2 "$FS" --db a.db customer import bad.csv 2>err && grep -q "line 1: unknown column .colour." err &&
	printf "name,territory\nX,MOW-1\n" >bad.csv &&
	test_status 2 "$FS" --db a.db customer import bad.csv 2>err && grep -q "no column .code." err &&
	printf "code,name,territory\nN-1,\"open quote,MOW-1\n" >bad.csv &&
	test_status 2 "$FS" --db a.db customer import bad.csv 2>err && grep -q "line 2: not valid CSV" err &&
	printf "code,name,territory\nN-1,One,MOW-1,extra\n" >bad.csv &&
	test_status 2 "$FS" --db a.db customer import bad.csv 2>err && grep -q "line 2: more cells" err &&
	printf "code,name,territory\nN-1,\377\376,MOW-1\n" >bad.csv &&
	test_status 2 "$FS" --db a.db customer import bad.csv 2>err && grep -q "line 2: name: value is not valid UTF-8" err &&
	: >empty.csv && test_status 2 "$FS" --db a.db customer import empty.csv 2>err &&
	test_status 3 "$FS" --db a.db customer import nosuch.csv 2>err &&
	test "$(n_customers a.db)" = 4 && test "$(sqlite3 a.db "select count(*) from changelog")" = "$before"
'

test_expect_success 'export customers: RFC 4180, optional BOM, imports back unchanged' '
	"$FS" --db a.db export customers all.csv 2>/dev/null &&
	head -1 all.csv | grep -q "^\"id\",\"name\",\"code\"" &&
	grep -q "\"Acme, Tea \"\"Best\"\"\"" all.csv &&
	"$FS" --db a.db export customers --bom bom.csv 2>/dev/null &&
	test "$(head -c 3 bom.csv | od -An -tx1 | tr -d " ")" = efbbbf &&
	test "$(head -c 3 all.csv | od -An -tx1 | tr -d " ")" != efbbbf &&
	"$FS" --db a.db --json customer import bom.csv | jq -e "length == 4 and all(.[]; .action == \"unchanged\")"
'

test_expect_success 'export visits and money for a period' '
	"$FS" --db a.db visit log AC-1 --date 2026-11-02 --outcome "Заказ, большой" --order Tea:10:2.50 \
		--receivable 25 --collected 10 >/dev/null &&
	"$FS" --db a.db visit log BS-2 --date 2026-12-01 --outcome later --receivable 5 >/dev/null &&
	"$FS" --db a.db export visits --from 2026-11-01 --to 2026-11-30 >v.csv &&
	test "$(wc -l <v.csv)" = 2 && grep -q "\"Заказ, большой\"" v.csv && grep -q "\"25.00\",\"25.00\",\"10.00\"" v.csv &&
	"$FS" --db a.db export money >m.csv && test "$(wc -l <m.csv)" = 3 &&
	"$FS" --db a.db export money --from 2026-12-01 | grep -q "\"BS-2\"" &&
	test_status 2 "$FS" --db a.db export money --from 2026-13-01 2>err &&
	test_status 2 "$FS" --db a.db export colours 2>err &&
	test_status 2 "$FS" --db a.db export customers --from 2026-01-01 2>err
'

test_expect_success 'HQ imports the same file as its own writes; devices receive it; by code again' '
	hq_start && enroll anna h.db MOW-1 &&
	"$FSD" --db "$HQ_DB" --json customer import c.csv --dry-run | jq -e "length == 3" &&
	test "$(sqlite3 "$HQ_DB" "select count(*) from customer")" = 0 &&
	"$FSD" --db "$HQ_DB" customer import c.csv 2>err >/dev/null && grep -q "3 created" err &&
	"$FSD" --db "$HQ_DB" customer import c2.csv 2>err >/dev/null && grep -q "0 created, 1 updated, 2 unchanged" err &&
	test "$(sqlite3 "$HQ_DB" "select count(*) from customer")" = 3 &&
	test_status 2 "$FSD" --db "$HQ_DB" customer import bad.csv 2>err && grep -q "line 2" err &&
	"$FS" --db h.db sync >/dev/null &&
	test "$(field h.db BJ-3 grade)" = VIP && test "$(field h.db BS-2 notes)" = "многострочная
заметка" &&
	"$FSD" --db "$HQ_DB" export customers --bom hq.csv && test "$(head -c 3 hq.csv | od -An -tx1 | tr -d " ")" = efbbbf &&
	grep -q "北京茶行" hq.csv &&
	"$FS" --db h.db visit log AC-1 --date 2026-11-03 --outcome ok --receivable 7 >/dev/null && "$FS" --db h.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" export money --from 2026-11-01 --to 2026-11-30 | grep -q "\"7.00\",,\"7.00\"" &&
	"$FSD" --db "$HQ_DB" export visits | grep -q "\"AC-1\",\"Acme, Tea \"\"Best\"\"\""
'

test_expect_success 'a semicolon file with decimal commas (Excel in most of Europe and Russia) imports' '
	printf "code;name;territory;lat;lon;monthly_demand\r\nSC-1;\"Kedr; Ltd\";MOW-1;55,7601;37,6189;1500,50\r\nSC-2;Lotos;MOW-1;55.1;37.2;20\r\n" >semi.csv &&
	"$FS" --db semi.db customer import semi.csv >out &&
	grep -q "2 created" out &&
	"$FS" --db semi.db --json customer show SC-1 >c.json &&
	jq -e ".customer | .name == \"Kedr; Ltd\" and .lat == 55.7601 and .lon == 37.6189 and .monthly_demand == 150050" c.json >/dev/null &&
	printf "code\tname\tterritory\tlat\nTB-1\tTab, one\tMOW-1\t55,5\n" >tab.csv &&
	"$FS" --db semi.db customer import tab.csv >/dev/null &&
	test "$("$FS" --db semi.db --json customer show TB-1 | jq -r ".customer.name + \"/\" + (.customer.lat | tostring)")" = "Tab, one/55.5"
'

test_expect_success '--delimiter overrides the guess; a wrong one is named; a decimal comma in a comma file is refused' '
	test_status 2 "$FS" --db semi.db customer import --delimiter , semi.csv 2>err &&
	grep -q "unknown column .code;name" err &&
	test_status 2 "$FS" --db semi.db customer import --delimiter pipe semi.csv 2>err &&
	grep -q "not one of , ; tab auto" err &&
	"$FS" --db semi.db customer import --delimiter ";" semi.csv | grep -q "2 unchanged" &&
	printf "code,name,territory,lat\nCM-1,Comma,MOW-1,\"55,5\"\n" >comma.csv &&
	test_status 2 "$FS" --db semi.db customer import comma.csv 2>err && grep -q "line 2" err
'

test_expect_success 'importing into a new store creates it' '
	test ! -e fresh.db &&
	"$FS" --db fresh.db customer import c.csv >/dev/null &&
	test "$("$FS" --db fresh.db --json customer list | jq length)" = 3
'

test_expect_success 'export writes coordinates as typed (7 decimals at most), and they import back unchanged' '
	"$FS" --db semi.db export customers >sx.csv &&
	grep -q "\"55.7601\",\"37.6189\"" sx.csv && ! grep -q "0000000" sx.csv &&
	"$FS" --db semi.db customer import sx.csv | grep -q "0 created, 0 updated, 3 unchanged"
'

test_expect_success 'HQ reads a semicolon price list and history with decimal commas' '
	printf "sku;name;price\nSC-TEA;Tea;3,20\n" >p.csv &&
	"$FSD" --db "$HQ_DB" product import p.csv >/dev/null 2>&1 &&
	test "$(sqlite3 "$HQ_DB" "select price from product where sku = '"'"'SC-TEA'"'"'")" = 320 &&
	printf "external_id;date;customer;collected\nX-1;2026-11-02;AC-1;12,50\n" >h.csv &&
	"$FSD" --db "$HQ_DB" import visits h.csv >/dev/null 2>&1 &&
	test "$(sqlite3 "$HQ_DB" "select received from payment p join visit v on v.id = p.visit_id where v.external_id = '"'"'X-1'"'"'")" = 1250
'

test_done
