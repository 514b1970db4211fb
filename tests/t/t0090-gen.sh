#!/bin/sh
# t0090-gen.sh - tools/gen: seeded, deterministic demo data written through
# the public API. Content (not ids) must be the same for the same seed.
. "$(dirname "$0")/../lib.sh"

GEN="$TOOLS/gen"
D=2026-11-23

# Everything a person can see, without ids or sync metadata, in a fixed order.
content() {
	sqlite3 "$1" "
	SELECT name, code, legal_form, address, city, region, lat, lon, phone, email, website,
	       territory, owner_rep, route_seq, nature, grade, status, size, priority, loyalty,
	       satisfaction, credit_rating, payment_terms, price_package, monthly_demand,
	       main_products, suppliers, competitors, notes
	  FROM customer ORDER BY code;
	SELECT c.code, k.name, k.role, k.title, k.phone, k.email, k.birthday, k.notes
	  FROM contact k JOIN customer c ON c.id = k.customer_id ORDER BY 1, 2, 3, 4, 5, 6, 7;
	SELECT c.code, v.status, v.planned_date, v.planned_time, v.purpose, v.route_seq,
	       v.check_in, v.check_out, v.lat, v.lon, v.met_name, v.discussed, v.outcome,
	       v.problem, v.countermeasure, v.follow_up, v.next_date, v.miss_reason,
	       (SELECT name FROM contact WHERE id = v.contact_id),
	       (SELECT name FROM contact WHERE id = v.met_contact_id)
	  FROM visit v JOIN customer c ON c.id = v.customer_id
	 ORDER BY 1, 3, 4, 7, 2, 5, 6, 8, 9, 10, 11, 12, 13;
	SELECT c.code, v.planned_date, v.check_in, o.product, o.quantity, o.unit_price, o.amount
	  FROM order_line o JOIN visit v ON v.id = o.visit_id JOIN customer c ON c.id = o.customer_id
	 ORDER BY 1, 2, 3, 4;
	SELECT c.code, p.date, p.receivable, p.received, p.method, p.note
	  FROM payment p JOIN customer c ON c.id = p.customer_id ORDER BY 1, 2, 3, 4, 5;"
}

q() {
	sqlite3 "$1" "$2"
}

# Objects in a JSON array as the CLI prints it (one "key": value per line).
count_json() {
	grep -c "^[[:space:]]*\"$1\":"
}

test_expect_success 'a small generation succeeds' '
	"$GEN" --db s.db --seed 7 --customers 40 --territories 2 --date $D --json >sum.json 2>err &&
	grep "^generated 40 customers, 80 contacts, 400 visits" err &&
	grep "\"customers\": 40," sum.json &&
	grep "\"name\": \"MOW-1\"" sum.json && grep "\"name\": \"SHA-1\"" sum.json
'

test_expect_success 'the CLI sees the customers, contacts and visit history' '
	test "$("$FS" --db s.db customer list --json | count_json id)" -eq 40 &&
	test "$(q s.db "SELECT count(*) FROM contact")" -eq 80 &&
	test "$(q s.db "SELECT count(*) FROM visit WHERE status <> '\''planned'\''")" -eq 400 &&
	test "$(q s.db "SELECT count(DISTINCT territory) FROM customer")" -eq 2 &&
	test "$(q s.db "SELECT count(DISTINCT code) FROM customer")" -eq 40 &&
	test "$("$FS" --db s.db customer list --territory SHA-1 --json | count_json id)" -eq 20 &&
	"$FS" --db s.db customer show MOW1-000001 >card &&
	grep "Moscow" card
'

test_expect_success 'values are consistent' '
	test "$(q s.db "SELECT count(*) FROM order_line WHERE amount <> quantity * unit_price")" -eq 0 &&
	test "$(q s.db "SELECT count(*) FROM payment WHERE received > receivable")" -eq 0 &&
	test "$(q s.db "SELECT count(*) FROM visit WHERE status = '\''done'\''
		AND (check_in IS NULL OR check_out < check_in OR outcome IS NULL)")" -eq 0 &&
	test "$(q s.db "SELECT count(*) FROM visit WHERE status <> '\''planned'\''
		AND (planned_date >= '\''$D'\'' OR planned_date < date('\''$D'\'', '\''-3 years'\'', '\''-1 day'\''))")" -eq 0 &&
	test "$(q s.db "SELECT count(*) FROM visit WHERE strftime('\''%w'\'', planned_date) IN ('\''0'\'', '\''6'\'')
		AND status <> '\''planned'\''")" -eq 0 &&
	test "$(q s.db "SELECT count(*) FROM customer WHERE grade NOT IN ('\''A'\'', '\''B'\'', '\''C'\'', '\''VIP'\'')
		OR abs(lat - 55.7558) > 0.3 AND territory = '\''MOW-1'\''")" -eq 0 &&
	test "$(q s.db "SELECT count(*) FROM contact k WHERE (SELECT count(*) FROM contact j
		WHERE j.customer_id = k.customer_id) > 4")" -eq 0
'

test_expect_success 'the same seed gives the same content' '
	"$GEN" --db s2.db --seed 7 --customers 40 --territories 2 --date $D --quiet &&
	content s.db >a.txt && content s2.db >b.txt &&
	test -s a.txt && cmp a.txt b.txt
'

test_expect_success 'a different seed gives different content' '
	"$GEN" --db s3.db --seed 8 --customers 40 --territories 2 --date $D --quiet &&
	content s3.db >c.txt &&
	! cmp -s a.txt c.txt &&
	q s.db "SELECT name, code, grade, city FROM customer ORDER BY code" >n1 &&
	q s3.db "SELECT name, code, grade, city FROM customer ORDER BY code" >n3 &&
	! cmp -s n1 n3
'

test_expect_success 'customer cards do not depend on the other sizes' '
	"$GEN" --db s4.db --seed 7 --customers 40 --territories 2 --date $D --visits 5 --contacts 3 --quiet &&
	q s.db "SELECT name, code, address, grade, lat, lon FROM customer ORDER BY code" >k1 &&
	q s4.db "SELECT name, code, address, grade, lat, lon FROM customer ORDER BY code" >k4 &&
	cmp k1 k4 &&
	test "$(q s4.db "SELECT count(*) FROM visit WHERE status <> '\''planned'\''")" -eq 5
'

test_expect_success 'today lists the plans in route order' '
	"$FS" --db s.db today --date $D --json >today.json &&
	test "$(count_json visit_id <today.json)" -eq 24 &&
	test "$(grep -c "\"status\":[[:space:]]*\"planned\"" today.json)" -eq 24 &&
	sed -n "s/.*\"route_seq\":[[:space:]]*\([0-9]*\).*/\1/p" today.json >seq &&
	test "$(wc -l <seq)" -eq 24 && sort -n -c seq && test "$(head -n 1 seq)" -eq 1 &&
	grep "\"planned_time\":[[:space:]]*\"09:00\"" today.json &&
	test "$(q s.db "SELECT count(*) FROM visit WHERE status = '\''planned'\''
		AND planned_date > '\''$D'\'' AND planned_date <= date('\''$D'\'', '\''+14 days'\'')")" -eq 8
'

test_expect_success '--territory names the territories and their codes' '
	"$GEN" --db t.db --territory "North, Юг" --customers 6 --plans 2 --date $D --quiet &&
	test "$(q t.db "SELECT group_concat(DISTINCT territory) FROM customer ORDER BY territory")" = "North,Юг" &&
	test "$(q t.db "SELECT code FROM customer WHERE territory = '\''North'\'' ORDER BY code LIMIT 1")" = NORTH-000001 &&
	test "$(q t.db "SELECT DISTINCT city FROM customer WHERE territory = '\''Юг'\''")" = Shanghai &&
	test "$("$FS" --db t.db today --date $D --json | count_json visit_id)" -eq 4
'

test_expect_success 'UTF-8 names in Cyrillic and CJK are generated' '
	"$GEN" --db u.db --customers 120 --territories 2 --visits 0 --plans 0 --date $D --quiet &&
	q u.db "SELECT name FROM customer WHERE territory = '\''MOW-1'\''" | grep "[АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯабвгдежзиклмнопрстуфхцчшщэюя]" &&
	q u.db "SELECT name FROM customer WHERE territory = '\''SHA-1'\''" | grep "超市\|便利店\|商贸\|批发\|百货\|中学\|医院\|幼儿园\|供应链\|烟酒店"
'

test_expect_success 'a second run into the same store is refused' '
	before=$(q s.db "SELECT count(*) FROM customer") &&
	test_status 1 "$GEN" --db s.db --seed 7 --customers 40 --territories 2 --date $D --quiet 2>err &&
	grep "already has a customer MOW1-000001" err &&
	test "$(q s.db "SELECT count(*) FROM customer")" -eq "$before"
'

test_expect_success 'bad arguments exit 2' '
	test_status 2 "$GEN" --db x.db --bogus 2>err && grep "unknown option" err &&
	test_status 2 "$GEN" --db x.db --customers -3 2>err && grep "customers" err &&
	test_status 2 "$GEN" --db x.db --customers ten 2>err &&
	test_status 2 "$GEN" --db x.db --visits 1.5 2>err &&
	test_status 2 "$GEN" --db x.db --seed abc 2>err &&
	test_status 2 "$GEN" --db x.db --date 2026-02-30 2>err && grep "date" err &&
	test_status 2 "$GEN" --db x.db --date tomorrow 2>err &&
	test_status 2 "$GEN" --db x.db --territories 0 2>err &&
	test_status 2 "$GEN" --db x.db --territories 2 --territory A 2>err &&
	test_status 2 "$GEN" --db x.db --territory A,,B 2>err &&
	test_status 2 "$GEN" --db x.db --customers 2 --contacts 9 2>err &&
	test_status 2 "$GEN" --db x.db --customers 2>err &&
	test_status 2 "$GEN" --customers 5 2>err && grep "db" err &&
	test_status 2 "$GEN" --db x.db stray 2>err &&
	test ! -e x.db
'

test_expect_success 'an engine error is reported with a non-zero exit' '
	echo "not a store" >junk.db &&
	! "$GEN" --db junk.db --customers 3 --quiet 2>err &&
	grep "^gen: junk.db:" err
'

test_expect_success '--help prints the usage' '
	"$GEN" --help >out && grep "^usage: gen --db PATH" out
'

test_done
