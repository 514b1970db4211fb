#!/bin/bash
# The price list: HQ keeps products (fieldsyncd product add|edit|list|import),
# every device gets them with its sync, `visit log --order SKU:QTY` takes the
# price from the list (SKU:QTY:PRICE is an override, free text still works),
# and `fieldsyncd report sales` counts what each product, rep and customer
# sold, its totals the sum of its rows. A device that names no schema (as
# release 0.1.0 does) never gets the new fields and never erases them.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20 FIELDSYNC_RETRIES=2

meta() { sql "$1" "select value from meta where key = '$2'"; }
hqsql() { sql "$HQ_DB" "$1"; }

test_expect_success 'HQ: products added, edited, listed; bad ones refused with the reason' '
	hq_start &&
	"$FSD" --db "$HQ_DB" product add GT-100 --name "Green tea 100g" --unit pack --price 3.20 >out &&
	grep -q "^GT-100 added$" out &&
	"$FSD" --db "$HQ_DB" product add BT-250 --name "Black tea 250g" --price 5.75 >/dev/null &&
	"$FSD" --db "$HQ_DB" product edit BT-250 --price 5.50 | grep -q "^BT-250 changed$" &&
	"$FSD" --db "$HQ_DB" product edit BT-250 --price 5.50 | grep -q "^BT-250 unchanged$" &&
	test_status 2 "$FSD" --db "$HQ_DB" product add GT-100 --name X --price 1 2>err && grep -q "exists" err &&
	test_status 3 "$FSD" --db "$HQ_DB" product edit NOPE --price 1 2>err && grep -q "no product NOPE" err &&
	test_status 2 "$FSD" --db "$HQ_DB" product add "GT 1" --name X --price 1 2>err && grep -q "no spaces" err &&
	test_status 2 "$FSD" --db "$HQ_DB" product add "A:B" --name X --price 1 &&
	test_status 2 "$FSD" --db "$HQ_DB" product add NEG --name X --price -1 2>err && grep -q "negative" err &&
	test_status 2 "$FSD" --db "$HQ_DB" product add NOPRICE --name X &&
	test "$(hqsql "select price || '\''/'\'' || active from product where sku = '\''BT-250'\''")" = "550/1" &&
	"$FSD" --db "$HQ_DB" --json product list | jq -e "length == 2 and .[0].sku == \"BT-250\"" >/dev/null
'

test_expect_success 'HQ: a CSV price list in, all or nothing, naming the bad line; dry run writes nothing' '
	printf "sku,name,unit,price,active\nOL-1,Olive oil 1l,bottle,9.90,yes\nX-9,Old stock,,1.00,no\nBAD SKU,Y,,1,yes\n" >bad.csv &&
	test_status 2 "$FSD" --db "$HQ_DB" product import bad.csv 2>err &&
	grep -q "line 4" err &&
	test "$(hqsql "select count(*) from product")" = 2 &&
	printf "sku,name,unit,price,active\nOL-1,Olive oil 1l,bottle,9.90,yes\nX-9,Old stock,,1.00,no\nGT-100,Green tea 100g,pack,3.20,yes\n" >p.csv &&
	"$FSD" --db "$HQ_DB" product import --dry-run p.csv >out 2>err &&
	grep -q "dry run, nothing written: 2 products created, 0 updated, 1 unchanged" err &&
	test "$(hqsql "select count(*) from product")" = 2 &&
	"$FSD" --db "$HQ_DB" product import p.csv >out 2>err &&
	grep -q "2 products created, 0 updated, 1 unchanged" err &&
	"$FSD" --db "$HQ_DB" --json product list | jq -e "map(.sku) == [\"BT-250\", \"GT-100\", \"OL-1\"]" >/dev/null &&
	"$FSD" --db "$HQ_DB" --json product list --all | jq -e "length == 4" >/dev/null &&
	printf "sku,colour\nGT-100,green\n" >col.csv &&
	test_status 2 "$FSD" --db "$HQ_DB" product import col.csv 2>err && grep -q "unknown column .colour." err
'

test_expect_success 'devices get the list with their sync; withdrawn products are not offered' '
	"$FSD" --db "$HQ_DB" customer add --name "Kedr" --code KD-1 --territory MOW-1 >/dev/null &&
	"$FSD" --db "$HQ_DB" customer add --name "Lotos" --code LT-1 --territory MOW-1 >/dev/null &&
	enroll anna a.db MOW-1 && enroll boris b.db MOW-1 &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	"$FS" --db a.db --json products | jq -e "map(.sku) == [\"BT-250\", \"GT-100\", \"OL-1\"]" >/dev/null &&
	"$FS" --db a.db --json products --all | jq -e "map(select(.sku == \"X-9\"))[0].active == 0" >/dev/null &&
	"$FS" --db a.db products GT-100 | grep -q "Green tea 100g" &&
	test_status 3 "$FS" --db a.db products NOPE &&
	test "$(meta a.db catalogue)" = "$(hqsql "select max(q) from product")" &&
	test "$(meta a.db hq_schema)" = 5
'

test_expect_success 'an order from the list takes its price; another price is an override; free text works' '
	v=$("$FS" --db a.db visit log KD-1 --outcome "order taken" --order GT-100:24 --order OL-1:2:9.50 \
		--order "Honey: linden 500g:3:7.00") &&
	"$FS" --db a.db --json visit show "$v" >v.json &&
	jq -e ".order_lines | length == 3" v.json >/dev/null &&
	jq -e ".order_lines[] | select(.sku == \"GT-100\") | .product == \"Green tea 100g\" and .unit_price == 320 and .list_price == 320 and .amount == 7680" v.json >/dev/null &&
	jq -e ".order_lines[] | select(.sku == \"OL-1\") | .unit_price == 950 and .list_price == 990" v.json >/dev/null &&
	jq -e ".order_lines[] | select(.product == \"Honey: linden 500g\") | .sku == null and .list_price == null" v.json >/dev/null &&
	"$FS" --db a.db visit show "$v" | grep -q "^GT-100 *Green tea 100g *24 *3.20 *3.20 *76.80"
'

test_expect_success 'an unknown or withdrawn SKU is refused and nothing of the visit is written' '
	before=$("$FS" --db a.db --json visit list | jq length) &&
	test_status 3 "$FS" --db a.db visit log LT-1 --outcome x --order NOPE:1 2>err &&
	grep -q "no product .NOPE. in the price list" err &&
	test_status 2 "$FS" --db a.db visit log LT-1 --outcome x --order X-9:1 2>err &&
	grep -q "withdrawn" err &&
	test_status 2 "$FS" --db a.db visit log LT-1 --outcome x --order GT-100:many 2>err &&
	test "$("$FS" --db a.db --json visit list | jq length)" = "$before"
'

test_expect_success 'a price changed at HQ reaches devices; lines already taken keep their price' '
	"$FSD" --db "$HQ_DB" product edit GT-100 --price 3.40 >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	"$FS" --db a.db --json products GT-100 | jq -e ".[0].price == 340" >/dev/null &&
	test "$(hqsql "select unit_price from order_line where sku = '\''GT-100'\''")" = 320 &&
	v=$("$FS" --db b.db visit log LT-1 --outcome "order" --order GT-100:10 --order BT-250:4) &&
	"$FS" --db b.db sync >/dev/null &&
	"$FS" --db b.db --json visit show "$v" | jq -e ".order_lines | map(select(.sku == \"GT-100\"))[0].unit_price == 340" >/dev/null
'

test_expect_success 'report sales by product, rep and customer: totals are the sum of the rows' '
	"$FS" --db a.db sync >/dev/null &&
	all=$(hqsql "select sum(amount) from order_line") && test "$all" = $((7680 + 1900 + 2100 + 3400 + 2200)) &&
	for by in product rep customer; do
		"$FSD" --db "$HQ_DB" --json report sales --by $by >s.json || return 1
		jq -e --argjson all "$all" "(map(select(.[\"$( [ $by = product ] && echo product || echo $by)\"] == \"(total)\"))[0].amount == \$all) and
			(map(select(.[\"$( [ $by = product ] && echo product || echo $by)\"] != \"(total)\") | .amount) | add) == \$all" s.json >/dev/null || { cat s.json; return 1; }
	done &&
	"$FSD" --db "$HQ_DB" --json report sales --by rep >r.json &&
	jq -e "map(select(.rep == \"anna\"))[0].amount == 11680 and map(select(.rep == \"boris\"))[0].amount == 5600" r.json >/dev/null &&
	"$FSD" --db "$HQ_DB" --json report sales --by product >p.json &&
	jq -e "map(select(.sku == \"GT-100\"))[0] | .quantity == 34 and .lines == 2 and .overrides == 0" p.json >/dev/null &&
	jq -e "map(select(.sku == \"OL-1\"))[0].overrides == 1" p.json >/dev/null &&
	jq -e "map(select(.product == \"Honey: linden 500g\"))[0].sku == null" p.json >/dev/null &&
	"$FSD" --db "$HQ_DB" report sales --by customer --month 2001-01 >e.txt &&
	grep -q "(total)" e.txt &&
	test_status 2 "$FSD" --db "$HQ_DB" report sales --by colour &&
	test_status 2 "$FSD" --db "$HQ_DB" report sales --month 2026-13
'

test_expect_success 'a long price list arrives whole in one sync, page after page' '
	{ echo "sku,name,price"; for i in $(seq 1 2500); do echo "BULK-$i,Bulk item $i,$i.00"; done; } >bulk.csv &&
	"$FSD" --db "$HQ_DB" product import bulk.csv >/dev/null 2>&1 &&
	"$FS" --db b.db sync >/dev/null &&
	test "$("$FS" --db b.db --json products --all | jq length)" = 2504 &&
	test "$(meta b.db catalogue)" = "$(hqsql "select max(q) from product")" &&
	"$FS" --db b.db --json products BULK-2500 | jq -e ".[0].price == 250000" >/dev/null
'

# A device that names no schema in its requests (release 0.1.0 does not)
# gets the order lines without sku and list_price, and its edit of such a
# line leaves HQ's sku and list_price as they were.
push_raw() {
	curl -s -H "Authorization: Bearer $1" -H "Content-Type: application/json" \
		--data-binary @"$2" "$HQ_URL/$3"
}
test_expect_success 'a device of schema 4 never sees sku or list_price, and never erases them' '
	tok=$(meta a.db device_token) && rid=$(meta a.db replica_id) &&
	printf "{\"v\": 1, \"cursor\": {}, \"limit\": 1000}" >pull.json &&
	push_raw "$tok" pull.json v1/pull >old.json &&
	jq -e ".changes | map(select(.t == \"order_line\")) | length == 5" old.json >/dev/null &&
	jq -e "[.changes[] | select(.t == \"order_line\") | .f | has(\"sku\") or has(\"list_price\")] | any | not" old.json >/dev/null &&
	jq -e "has(\"products\") | not" old.json >/dev/null &&
	jq -e ".schema == 5" old.json >/dev/null &&
	line=$(hqsql "select id from order_line where sku = '\''GT-100'\'' and quantity = 24") &&
	jq -c --arg id "$line" ".changes[] | select(.id == \$id)" old.json >line.json &&
	c=$(jq -r --arg r "$rid" ".vv[\$r] // 0" line.json) && c=$((c + 1)) &&
	h=$(( $(date +%s%3N) * 1024 )) &&
	jq -c --arg r "$rid" --argjson c "$c" --argjson h "$h" "del(.q) | .vv[\$r] = \$c | .h = \$h | .f.quantity = 25 |
		.f.amount = 8000 | .d = ([.d[] | .[3] -= [\"quantity\", \"amount\"] | select(.[3] | length > 0)] +
		[[\$r, \$c, \$h, [\"quantity\", \"amount\"]]])" line.json >edit.json &&
	jq -c "{v: 1, records: [.]}" edit.json >push.json &&
	push_raw "$tok" push.json v1/push >res.json &&
	jq -e ".results[0].ok == true" res.json >/dev/null || { cat res.json; return 1; } &&
	test "$(hqsql "select quantity || '\''/'\'' || sku || '\''/'\'' || list_price from order_line where id = '\''$line'\''")" = "25/GT-100/320" &&
	"$FS" --db b.db sync >/dev/null &&
	"$FS" --db b.db --json visit list --customer KD-1 >/dev/null &&
	test "$(sql b.db "select quantity || '\''/'\'' || sku || '\''/'\'' || list_price from order_line where id = '\''$line'\''")" = "25/GT-100/320"
'

test_expect_success 'HQ refuses a schema or a price list mark that is not a number' '
	tok=$(meta a.db device_token) &&
	printf "{\"v\": 1, \"schema\": 3, \"cursor\": {}}" >s3.json &&
	test "$(curl -s -o r.json -w "%{http_code}" -H "Authorization: Bearer $tok" --data-binary @s3.json "$HQ_URL/v1/pull")" = 400 &&
	jq -e ".error == \"bad_request\"" r.json >/dev/null &&
	printf "{\"v\": 1, \"schema\": 5, \"catalogue\": -1, \"cursor\": {}}" >cm.json &&
	test "$(curl -s -o r.json -w "%{http_code}" -H "Authorization: Bearer $tok" --data-binary @cm.json "$HQ_URL/v1/pull")" = 400 &&
	printf "{\"v\": 1, \"schema\": 99, \"catalogue\": 0, \"cursor\": {}, \"limit\": 1}" >s99.json &&
	test "$(curl -s -o r.json -w "%{http_code}" -H "Authorization: Bearer $tok" --data-binary @s99.json "$HQ_URL/v1/pull")" = 200
'

test_done
