#!/bin/bash
# tools/bench-local.sh BUILD STORE DATE [RUNS]
# `fieldsync today` and `fieldsync visit log` on STORE against the sqlite3
# CLI running the equivalent statements, process start included on both
# sides. Prints medians (ms) and the ratios, one JSON line per figure.
set -eu
build=$(cd "$1" && pwd); db=$2; day=$3; runs=${4:-21}
FS="$build/fieldsync"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# ms of one run of "$@"
one() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )) | awk '{printf "%.2f\n", $1/1000}'; }

# the statements `fieldsync today` runs (core/api.c fieldsync_today)
today_sql="SELECT v.route_seq, v.planned_time, v.status, c.name, c.address, c.city, v.purpose,
 (SELECT p.outcome FROM visit p WHERE p.customer_id = v.customer_id AND p.status = 'done'
   AND p.deleted IS NOT 1 AND p.id <> v.id AND p.planned_date <= v.planned_date
   ORDER BY p.planned_date DESC, p.check_out DESC LIMIT 1),
 (SELECT coalesce(sum(coalesce(receivable, 0) - coalesce(received, 0)), 0) FROM payment m
   WHERE m.customer_id = v.customer_id AND m.deleted IS NOT 1),
 v.id, c.id, c.lat, c.lon FROM visit v JOIN customer c ON c.id = v.customer_id
 WHERE v.planned_date = '$day' AND v.deleted IS NOT 1 AND v.status <> 'cancelled'
 ORDER BY v.route_seq IS NULL, v.route_seq, v.planned_time IS NULL, v.planned_time, c.name"

cp "$db" "$work/a.db"; cp "$db" "$work/b.db"
cust=$(sqlite3 "$work/a.db" "select id from customer limit 1 offset 77")
for i in $(seq "$runs"); do one "$FS" --db "$work/a.db" today --date "$day"; done | median >"$work/t1"
for i in $(seq "$runs"); do one sqlite3 "$work/a.db" "$today_sql"; done | median >"$work/t2"
# a visit report with one order line and a collection, in one transaction,
# as `visit log` writes it (sync metadata and the change log included)
for i in $(seq "$runs"); do
	one "$FS" --db "$work/a.db" visit log "$cust" --date "$day" --outcome "bench $i" --order "Tea:2:3.50" --collected 7
done | median >"$work/l1"
for i in $(seq "$runs"); do
	v=$(printf '%032x' "$i"); o=$(printf 'a%031x' "$i"); p=$(printf 'b%031x' "$i")
	one sqlite3 "$work/b.db" "BEGIN IMMEDIATE;
	 SELECT value FROM meta WHERE key = 'hlc';
	 SELECT * FROM customer WHERE id = '$cust';
	 SELECT * FROM visit WHERE customer_id = '$cust' AND planned_date = '$day' AND status = 'planned';
	 INSERT INTO visit (id, customer_id, status, planned_date, check_in, check_out, outcome, scope, vv, dots, hlc)
	  VALUES ('$v', '$cust', 'done', '$day', '2026-11-23T09:00:00Z', '2026-11-23T09:30:00Z', 'bench $i', 'MOW-1',
	  '0000000000000000000000000000000a:1', '0:1:1=customer_id,status,planned_date,check_in,check_out,outcome', 1);
	 INSERT INTO changelog (tbl, id) VALUES ('visit', '$v');
	 INSERT INTO order_line (id, visit_id, customer_id, product, quantity, unit_price, amount, scope, vv, dots, hlc)
	  VALUES ('$o', '$v', '$cust', 'Tea', 2, 350, 700, 'MOW-1', '0000000000000000000000000000000a:1',
	  '0:1:1=visit_id,customer_id,product,quantity,unit_price,amount', 1);
	 INSERT INTO changelog (tbl, id) VALUES ('order_line', '$o');
	 INSERT INTO payment (id, customer_id, visit_id, date, received, scope, vv, dots, hlc)
	  VALUES ('$p', '$cust', '$v', '$day', 700, 'MOW-1', '0000000000000000000000000000000a:1',
	  '0:1:1=customer_id,visit_id,date,received', 1);
	 INSERT INTO changelog (tbl, id) VALUES ('payment', '$p');
	 UPDATE meta SET value = '2' WHERE key = 'hlc'; COMMIT;"
done | median >"$work/l2"
rows=$("$FS" --db "$work/a.db" --json today --date "$day" | jq length)
emit() { awk -v f="$1" -v a="$2" -v b="$3" 'BEGIN {printf "{\"figure\":\"%s\",\"value\":%.2f,\"unit\":\"ms\",\"reference\":%.2f,\"ratio\":%.2f}\n", f, a, b, a/b}'; }
emit "fieldsync today ($rows visits) vs sqlite3 (median of $runs)" "$(cat "$work/t1")" "$(cat "$work/t2")"
emit "fieldsync visit log vs sqlite3 (median of $runs)" "$(cat "$work/l1")" "$(cat "$work/l2")"
