#!/bin/sh
# Route planning in the agent: `fieldsync route plan|show|set-home|set-office`,
# the order stored on the plans and seen by `today`, GeoJSON and SVG output,
# customers due by grade, bad input, and the order travelling through HQ.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_DB="$TRASH/rep.db"
export FIELDSYNC_RETRY_MS=20
D=2026-11-23

# Great-circle metres between two points (haversine, R = 6371008.8 m).
hav() {
	awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN {
		r = atan2(0, -1) / 180
		x = sin((c - a) * r / 2) ^ 2 + cos(a * r) * cos(c * r) * sin((d - b) * r / 2) ^ 2
		printf "%.3f\n", 2 * 6371008.8 * atan2(sqrt(x), sqrt(1 - x))
	}'
}
# near A B TOL: |A - B| <= TOL
near() {
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }' ||
		{ echo "$1 is not within $3 of $2" >&2; return 1; }
}
# The names of the routed stops, in order, joined by "|".
order_of() {
	jq -r '[.stops[] | select(.kind == "stop") | .name] | join("|")' "$1"
}
seq_of() {
	sql "$FIELDSYNC_DB" "SELECT v.route_seq FROM visit v JOIN customer c ON c.id = v.customer_id
		WHERE c.code = '$1' AND v.planned_date = '$D' AND v.status = 'planned'"
}

FWD="L0|L1|L2 & <Co>|L3|L4"
REV="L4|L3|L2 & <Co>|L1|L0"
LEG=$(hav 55 37.0 55 37.1)	# the distance between neighbours on the line

test_expect_success 'five customers on a line, planned in a bad order, one without a position' '
	i=0 && for t in 09:00 11:00 13:00 10:00 12:00; do
		name=L$i; [ $i = 2 ] && name="L2 & <Co>"
		"$FS" customer add --name "$name" --territory MOW-1 --code L$i --lat 55 --lon 37.$i --address "Line st. $i" >/dev/null &&
		"$FS" plan L$i --date $D --time $t >/dev/null || return 1
		i=$((i + 1))
	done &&
	"$FS" customer add --name NoGeo --territory MOW-1 --code NG >/dev/null &&
	"$FS" plan NG --date $D --time 08:00 >/dev/null &&
	"$FS" --json today --date $D | jq -r "[.[].customer] | join(\"|\")" >before &&
	test "$(cat before)" = "NoGeo|L0|L3|L1|L4|L2 & <Co>"
'

test_expect_success 'plan orders the day, prints legs, total and the saving, stores route_seq' '
	"$FS" --json route plan --date $D >p.json &&
	o=$(order_of p.json) && { test "$o" = "$FWD" || test "$o" = "$REV"; } &&
	total=$(jq .summary.total_m p.json) && near "$total" "$(awk -v l=$LEG "BEGIN{print 4*l}")" 4 &&
	prev=$(jq .summary.previous_m p.json) && test "$prev" -gt "$total" &&
	test "$(jq .summary.saving_m p.json)" = $((prev - total)) &&
	test "$(jq .summary.written p.json)" = 5 &&
	jq -e "[.stops[] | select(.kind == \"stop\") | .stop] == [1, 2, 3, 4, 5]" p.json >/dev/null &&
	jq -e "[.stops[] | select(.kind == \"stop\") | .leg_m] | .[0] == 0 and (.[1:] | all(. > 0))" p.json >/dev/null &&
	jq -e "(.stops | map(select(.kind == \"stop\")) | last | .total_m) == .summary.total_m" p.json >/dev/null &&
	if test "$o" = "$FWD"; then first=L0; else first=L4; fi &&
	test "$(seq_of $first)" = 1 && test "$(seq_of L2)" = 3 &&
	test -z "$(seq_of NG)" &&
	"$FS" route plan --date $D >p.txt &&
	grep -q "^route: 5 stops, " p.txt &&
	grep -q "^previous order: .* km; saving 0.00 km (0.0 %)" p.txt &&
	grep -q "Line st. 2" p.txt && grep -q "L2 & <Co>" p.txt
'

test_expect_success 'today lists the day in the planned order, the unplaced visit last' '
	"$FS" --json today --date $D | jq -r "[.[].customer] | join(\"|\")" >after &&
	test "$(cat after)" = "$(order_of p.json)|NoGeo" &&
	"$FS" --json today --date $D | jq -e "[.[].route_seq] == [1, 2, 3, 4, 5, null]" >/dev/null
'

test_expect_success 'visits without a position are listed after the route, and said so' '
	jq -e ".stops | last | .kind == \"unrouted\" and .name == \"NoGeo\" and .route_seq == null and .leg_m == null" p.json >/dev/null &&
	test "$(jq .summary.unrouted p.json)" = 1 &&
	grep -q "1 visit without a position (no lat/lon) is listed after the route, not ordered" p.txt &&
	tail -n 6 p.txt | grep -q "^ *unrouted *NoGeo"
'

test_expect_success 'a re-plan with nothing to gain writes nothing' '
	store_dump "$FIELDSYNC_DB" >d1 &&
	"$FS" --json route plan --date $D >p2.json &&
	test "$(jq .summary.written p2.json)" = 0 && test "$(jq .summary.saving_m p2.json)" = 0 &&
	test "$(order_of p2.json)" = "$(order_of p.json)" &&
	store_dump "$FIELDSYNC_DB" >d2 && cmp -s d1 d2
'

snapshot() { store_dump "$FIELDSYNC_DB"; }
while IFS='|' read -r want msg args; do
	test_expect_success "bad input, exit $want: route $args" '
		snapshot >before.dump &&
		eval "set -- $args" &&
		"$FS" route "$@" >out 2>err; got=$?
		if [ "$got" -ne "$want" ]; then echo "exit $got, wanted $want"; cat err; return 1; fi
		grep -qF -- "$msg" err || { echo "error does not mention \"$msg\":"; cat err; return 1; }
		test "$(wc -l <err)" -le 2 || { echo "more than a short message:"; cat err; return 1; }
		snapshot >after.dump && cmp -s before.dump after.dump || { echo "store changed"; diff before.dump after.dump | head; return 1; }
	'
done <<'EOF'
2|LAT,LON|plan --date 2026-11-23 --from 55.7
2|LAT,LON|plan --date 2026-11-23 --from abc,def
2|LAT,LON|plan --date 2026-11-23 --to 55,37,1
2|latitude 95 is outside|plan --date 2026-11-23 --from 95,30
2|longitude 200 is outside|plan --date 2026-11-23 --to 55,200
2|LAT,LON|plan --date 2026-11-23 --from nan,inf
2|no office position|plan --date 2026-11-23 --from office
2|no home position|show --date 2026-11-23 --to home
2|--format|show --date 2026-11-23 --format kml
2|--format|plan --date 2026-11-23 --format pdf
2|date|plan --date yesterday
2|date|plan --date 2026-02-30
2|date|show --date 23.11.2026
2|exclude|plan --date 2026-11-23 --to 55,37 --return
2|--save|plan --date 2026-11-23 --save
2|--budget-ms|plan --date 2026-11-23 --budget-ms -5
2|--budget-ms|plan --date 2026-11-23 --budget-ms lots
2|exclude|plan --due --all
2|longitude|set-home 55,200
2|LAT,LON|set-office somewhere
2|needs LAT,LON|set-home
2|unknown option|plan --frob
2|unknown subcommand|frob
EOF

test_expect_success 'every route subcommand has --help' '
	"$FS" --help | grep -q "^  route " &&
	for sub in "" plan show set-home set-office places; do
		"$FS" route $sub --help >h || { echo "route $sub --help failed"; return 1; }
		grep -q "usage: fieldsync route plan" h || return 1
	done
'

test_expect_success '--from: the route starts at the given position' '
	"$FS" --json route plan --date $D --from 55,36.9 >f.json &&
	test "$(order_of f.json)" = "$FWD" &&
	jq -e ".stops[0] | .kind == \"start\" and .name == \"55,36.9\" and .lat == 55 and .lon == 36.9" f.json >/dev/null &&
	near "$(jq .summary.total_m f.json)" "$(awk -v l=$LEG "BEGIN{print 5*l}")" 5 &&
	near "$(jq "[.stops[] | select(.kind == \"stop\")][0].leg_m" f.json)" "$(hav 55 36.9 55 37)" 1 &&
	test "$(seq_of L0)" = 1 && test "$(seq_of L4)" = 5
'

test_expect_success '--from and --to: a fixed start and end' '
	"$FS" --json route plan --date $D --from 55,37.5 --to 55,36.9 >ft.json &&
	test "$(order_of ft.json)" = "$REV" &&
	jq -e ".stops | map(select(.kind != \"unrouted\")) | last | .kind == \"end\" and .name == \"55,36.9\"" ft.json >/dev/null &&
	near "$(jq .summary.total_m ft.json)" "$(awk -v l=$LEG "BEGIN{print 6*l}")" 6 &&
	test "$(seq_of L4)" = 1
'

test_expect_success '--return: back to the start' '
	"$FS" --json route plan --date $D --from 55,36.9 --return >r.json &&
	o=$(order_of r.json) && { test "$o" = "$FWD" || test "$o" = "$REV"; } &&
	jq -e ".stops | map(select(.kind == \"end\")) | length == 1 and .[0].name == \"55,36.9\"" r.json >/dev/null &&
	near "$(jq .summary.total_m r.json)" "$(awk -v l=$LEG "BEGIN{print 10*l}")" 10 &&
	test "$(jq .summary.ret r.json)" = 1
'

test_expect_success 'home and office: set once, the default start, usable as --from/--to' '
	"$FS" route set-home 55,36.9 | grep -q "^home: 55,36.9$" &&
	"$FS" --json route set-office "55.0, 37.5" | jq -e ".place == \"office\" and .lat == 55 and .lon == 37.5" >/dev/null &&
	"$FS" --json route places | jq -e "map(.place) == [\"home\", \"office\"] and .[1].lon == 37.5" >/dev/null &&
	test "$(sql "$FIELDSYNC_DB" "select value from meta where key = '\''route_home'\''")" = "55,36.9" &&
	"$FS" --json route plan --date $D >h.json &&
	jq -e ".stops[0] | .kind == \"start\" and .name == \"home\"" h.json >/dev/null &&
	test "$(jq -r .summary.from h.json)" = home && test "$(order_of h.json)" = "$FWD" &&
	"$FS" --json route plan --date $D --to office >o.json &&
	test "$(order_of o.json)" = "$FWD" && test "$(jq -r .summary.to o.json)" = office &&
	near "$(jq .summary.total_m o.json)" "$(awk -v l=$LEG "BEGIN{print 6*l}")" 6 &&
	"$FS" --json route plan --date $D --from office --to home >oh.json &&
	test "$(order_of oh.json)" = "$REV" && test "$(seq_of L4)" = 1 &&
	"$FS" --json route plan --date $D --to home >hh.json &&
	test "$(jq .summary.ret hh.json)" = 1 &&
	"$FS" route plan --date $D --return >ret.txt && grep -q "from home, back to the start" ret.txt
'

test_expect_success 'the home position is local: it is not a record and makes no change to sync' '
	pend=$(sql "$FIELDSYNC_DB" "select count(*) from changelog") &&
	"$FS" route set-home 55,36.95 >/dev/null &&
	test "$(sql "$FIELDSYNC_DB" "select count(*) from changelog")" = "$pend" &&
	"$FS" route set-home 55,36.9 >/dev/null
'

test_expect_success 'show --format geojson: a FeatureCollection of numbered points and the route line' '
	"$FS" route plan --date $D >/dev/null &&
	"$FS" route show --date $D --format geojson >r.geojson &&
	jq -e ".type == \"FeatureCollection\"" r.geojson >/dev/null &&
	test "$(jq ".features | length" r.geojson)" = 7 &&
	test "$(jq "[.features[] | select(.geometry.type == \"LineString\")] | length" r.geojson)" = 1 &&
	test "$(jq ".features[] | select(.geometry.type == \"LineString\") | .geometry.coordinates | length" r.geojson)" = 6 &&
	jq -e "[.features[] | select(.properties.kind == \"stop\") | .properties.stop] == [1, 2, 3, 4, 5]" r.geojson >/dev/null &&
	jq -e "[.features[] | select(.properties.kind == \"stop\")][0] | .geometry.coordinates == [37, 55] and .properties.name == \"L0\"" r.geojson >/dev/null &&
	jq -e ".features[] | select(.geometry.type == \"LineString\") | .geometry.coordinates[0] == [36.9, 55]" r.geojson >/dev/null &&
	jq -e "[.features[] | select(.geometry.type == \"Point\") | .geometry.coordinates | (.[0] >= -180 and .[0] <= 180 and .[1] >= -90 and .[1] <= 90)] | all" r.geojson >/dev/null &&
	"$FS" route show --date $D --return --format geojson >rr.geojson &&
	test "$(jq ".features | length" rr.geojson)" = 8 &&
	test "$(jq ".features[] | select(.geometry.type == \"LineString\") | .geometry.coordinates | length" rr.geojson)" = 7
'

test_expect_success 'show --format svg: well-formed, numbered stops, a scale bar in km' '
	"$FS" route show --date $D --format svg >r.svg &&
	xmllint --noout r.svg &&
	head -n 2 r.svg | grep -q "<svg xmlns=\"http://www.w3.org/2000/svg\"" &&
	test "$(grep -c "<circle" r.svg)" = 5 &&
	for n in 1 2 3 4 5; do grep -q "font-weight=\"bold\">$n</text>" r.svg || return 1; done &&
	grep -q ">S</text>" r.svg &&
	grep -q "<g class=\"scale\">.* km</text>" r.svg &&
	grep -q "L2 &amp; &lt;Co&gt;" r.svg &&
	! grep -q "<Co>" r.svg
'

test_expect_success 'show --format text and --json without planning' '
	store_dump "$FIELDSYNC_DB" >s1 &&
	"$FS" route show --date $D >show.txt && grep -q "^route: 5 stops" show.txt &&
	! grep -q "previous order" show.txt &&
	"$FS" --json route show --date $D | jq -e ".summary.stops == 5 and .summary.previous_m == null" >/dev/null &&
	store_dump "$FIELDSYNC_DB" >s2 && cmp -s s1 s2
'

test_expect_success 'an empty day says so' '
	"$FS" route plan --date 2026-12-25 >e.txt && grep -q "no planned visits on 2026-12-25" e.txt &&
	"$FS" --json route plan --date 2026-12-25 | jq -e ".stops == [] and .summary.stops == 0" >/dev/null &&
	"$FS" route show --date 2026-12-25 --format svg | xmllint --noout - &&
	"$FS" route show --date 2026-12-25 --format geojson | jq -e ".features == []" >/dev/null
'

# Territory DUE-1 on the line lat 56: who is due on $D by grade.
#   code grade  last done   due?
#   DA   A      D-8         yes (7)
#   DA2  A      D-3         no
#   DB   B      D-10        no (14)
#   DB2  B      D-14        yes
#   DC   C      D-29        no (30)
#   DV   VIP    D-7         yes (7)
#   DN   -      never       yes (no position: unrouted)
#   DN2  -      D-31        yes (30)
#   DM   A      only missed yes (never done)
test_expect_success '--due picks the customers due by their grade interval' '
	add() { "$FS" customer add --name "$1" --code "$1" --territory DUE-1 $2 >/dev/null; } &&
	add DA "--grade A --lat 56 --lon 30.1" && add DA2 "--grade A --lat 56 --lon 30.2" &&
	add DB "--grade B --lat 56 --lon 30.3" && add DB2 "--grade B --lat 56 --lon 30.4" &&
	add DC "--grade C --lat 56 --lon 30.5" && add DV "--grade VIP --lat 56 --lon 30.6" &&
	add DN "" && add DN2 "--lat 56 --lon 30.8" && add DM "--grade A --lat 56 --lon 30.9" &&
	log() { "$FS" visit log $1 --date $2 --outcome ok >/dev/null; } &&
	log DA 2026-11-15 && log DA2 2026-11-20 && log DB 2026-11-13 && log DB2 2026-11-09 &&
	log DC 2026-10-25 && log DV 2026-11-16 && log DN2 2026-10-23 &&
	v=$("$FS" plan DM --date 2026-11-22 | cut -c1-32) && "$FS" visit miss "$v" --reason closed >/dev/null &&
	store_dump "$FIELDSYNC_DB" >d1 &&
	"$FS" --json route plan --due --territory DUE-1 --date $D --from 56,30 >due.json &&
	jq -r "[.stops[] | select(.kind == \"stop\") | .name] | join(\" \")" due.json >names &&
	test "$(cat names)" = "DA DB2 DV DN2 DM" &&
	jq -e "[.stops[] | select(.kind == \"unrouted\") | .name] == [\"DN\"]" due.json >/dev/null &&
	jq -e "[.stops[] | select(.name == \"DA\")][0].last_done == \"2026-11-15\"" due.json >/dev/null &&
	test "$(jq .summary.written due.json)" = 0 &&
	store_dump "$FIELDSYNC_DB" >d2 && cmp -s d1 d2 &&
	"$FS" route plan --due --territory DUE-1 --date $D >due.txt &&
	grep -q "nothing stored" due.txt && grep -q "1 customer without a position" due.txt &&
	test "$("$FS" --json route plan --due --territory DUE-1 --date 2026-11-17 --from 56,30 | jq -r "[.stops[] | select(.kind == \"stop\") | .name] | join(\" \")")" = "DA2 DM"
'

test_expect_success '--due --save writes the standing order to customer.route_seq' '
	"$FS" --json route plan --due --save --territory DUE-1 --date $D --from 56,30 >ds.json &&
	test "$(jq .summary.written ds.json)" = 5 &&
	test "$(sql "$FIELDSYNC_DB" "select group_concat(code || '\'':'\'' || coalesce(route_seq, '\''-'\''), '\'' '\'') from (select * from customer where territory = '\''DUE-1'\'' order by code)")" = \
		"DA:1 DA2:- DB:- DB2:2 DC:- DM:5 DN:- DN2:4 DV:3" &&
	"$FS" --json route show --due --territory DUE-1 --date $D --from 56,30 | jq -r "[.stops[] | select(.kind == \"stop\") | .route_seq | tostring] | join(\",\")" >rs &&
	test "$(cat rs)" = "1,2,3,4,5" &&
	"$FS" --json route plan --all --save --territory DUE-1 --date $D --from 56,30 >all.json &&
	jq -r "[.stops[] | select(.kind == \"stop\") | .name] | join(\" \")" all.json >names &&
	test "$(cat names)" = "DA DA2 DB DB2 DC DV DN2 DM"
'

test_expect_success 'a larger day is planned deterministically (heuristic search, free start)' '
	i=0 && while [ $i -lt 40 ]; do
		lat=$(awk -v i=$i "BEGIN { printf \"%.4f\", 59.9 + ((i * 37) % 40) / 200 }") &&
		lon=$(awk -v i=$i "BEGIN { printf \"%.4f\", 30.2 + ((i * 23) % 40) / 150 }") &&
		"$FS" customer add --name "S$i" --code S$i --territory BIG-1 --lat $lat --lon $lon >/dev/null &&
		"$FS" plan S$i --date 2026-11-24 >/dev/null || return 1
		i=$((i + 1))
	done &&
	sql "$FIELDSYNC_DB" ".backup big.db" &&
	"$FS" route set-home --clear >/dev/null &&
	"$FS" --json route plan --date 2026-11-24 --territory BIG-1 --budget-ms 0 >b1.json &&
	"$FS" --db big.db route set-home --clear >/dev/null &&
	"$FS" --db big.db --json route plan --date 2026-11-24 --territory BIG-1 --budget-ms 0 >b2.json &&
	test "$(order_of b1.json)" = "$(order_of b2.json)" &&
	test "$(jq .summary.stops b1.json)" = 40 && test "$(jq .summary.exact b1.json)" = 0 &&
	test "$(jq .summary.iterations b1.json)" -gt 0 &&
	test "$(jq .summary.saving_m b1.json)" -gt 0 &&
	"$FS" --json today --date 2026-11-24 | jq -e "[.[].route_seq] == [range(1; 41)]" >/dev/null &&
	"$FS" route set-home 55,36.9 >/dev/null
'

test_expect_success 'the order syncs through HQ and reaches a second device' '
	hq_start && enroll anna a.db MOW-2 && enroll boris b.db MOW-2 &&
	for i in 0 1 2 3; do
		"$FSD" --db "$HQ_DB" customer add --name "M$i" --code M$i --territory MOW-2 --lat 55.5 --lon 37.$((i * 2)) >/dev/null || return 1
	done &&
	"$FS" --db a.db sync >/dev/null &&
	for t in 3 1 0 2; do "$FS" --db a.db plan M$t --date $D >/dev/null || return 1; done &&
	"$FS" --db a.db --json route plan --date $D --from 55.5,36.9 >s.json &&
	test "$(order_of s.json)" = "M0|M1|M2|M3" &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	test "$(sql "$HQ_DB" "select group_concat(route_seq, '\'','\'') from (select v.route_seq from visit v join customer c on c.id = v.customer_id order by c.code)")" = "1,2,3,4" &&
	"$FS" --db b.db --json today --date $D | jq -r "[.[].customer] | join(\"|\")" >b.today &&
	test "$(cat b.today)" = "M0|M1|M2|M3" &&
	"$FS" --db a.db --json route plan --all --save --territory MOW-2 --from 55.5,38 >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	test "$(field b.db M3 route_seq)" = 1 && test "$(field b.db M0 route_seq)" = 4 &&
	"$FSD" --db "$HQ_DB" customer edit M0 --route-seq 9 >/dev/null &&
	"$FS" --db a.db sync >/dev/null && test "$(field a.db M0 route_seq)" = 9 &&
	"$FS" --db a.db --json route show --all --territory MOW-2 | jq -r "[.stops[] | select(.kind == \"stop\") | .name] | join(\"|\")" >std &&
	test "$(cat std)" = "M3|M2|M1|M0"
'

test_expect_success 'a re-plan during the day keeps the visits made and numbers after them' '
	"$FS" route plan --date $D --from 55,36.9 >/dev/null && test "$(seq_of L0)" = 1 &&
	"$FS" visit log L0 --date $D --outcome "done first" >/dev/null &&
	"$FS" --json route plan --date $D --from 55,37.45 >mid.json &&
	test "$(order_of mid.json)" = "L4|L3|L2 & <Co>|L1" &&
	"$FS" --json today --date $D | jq -r "[.[] | \"\(.customer):\(.route_seq)\"] | join(\" \")" >mid.today &&
	test "$(cat mid.today)" = "L0:1 L4:2 L3:3 L2 & <Co>:4 L1:5 NoGeo:null"
'

test_done
