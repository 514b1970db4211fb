#!/bin/bash
# A hostile rep with an enrolled device, talking to HQ with its own device
# token and hand-made requests: every value it sends is checked as if it
# meant harm. A clock near 2^53 is refused and HQ's clock never moves by
# it; a conflict record aimed at another territory, or an id pointing into
# one, is refused; an enrolment token cannot be replayed for a second
# device token; a device revoked for erasure hands in once, bounded; and
# "accept as is" re-checks the territory. Each attack is followed by a check
# that the other territory's rep still syncs and writes.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20 FIELDSYNC_RETRIES=2

id32() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
meta() { sql "$1" "select value from meta where key = '$2'"; }
# push_raw TOKEN FILE: POST a hand-made push body; the reply on stdout
push_raw() {
	curl -s -H "Authorization: Bearer $1" -H "Content-Type: application/json" \
		--data-binary @"$2" "$HQ_URL/v1/push"
}
# a record of one write by replica $rid at hlc $h: rec TABLE ID H FIELDS-JSON
rec() {
	jq -cn --arg t "$1" --arg id "$2" --arg rid "$rid" --argjson h "$3" --argjson f "$4" \
		'{t: $t, id: $id, vv: {($rid): 1}, h: $h, f: $f, d: [[$rid, 1, $h, ($f | keys_unsorted)]], scope: "T1"}'
}
body() { jq -cn --argjson r "$1" '{v: 1, records: [$r]}'; }
now_h() { echo $(( $(date +%s%3N) * 1024 )); }
hq_clock() { sql "$HQ_DB" "select hlc from hq_clock"; }

test_expect_success 'setup: anna (T1) and boris (T2) enrolled, each with a customer' '
	hq_start &&
	enroll anna a.db T1 && enroll boris b.db T2 &&
	mine=$("$FS" --db a.db customer add --name "Mine" --territory T1) &&
	victim=$("$FS" --db b.db customer add --name "Victim" --territory T2) &&
	"$FS" --db b.db contact add "$victim" --name "Olga" >/dev/null &&
	bvisit=$("$FS" --db b.db visit log "$victim" --outcome "boris was here") &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	echo "$mine" >mine && echo "$victim" >victim && echo "$bvisit" >bvisit &&
	test "$(sql "$HQ_DB" "select count(*) from customer")" = 2
'
mine=$(cat mine) victim=$(cat victim) bvisit=$(cat bvisit)
tok=$(meta a.db device_token) rid=$(meta a.db replica_id)

# --- 1. a clock near 2^53 ---

test_expect_success 'a write stamped near 2^53 is refused, quarantined with the reason' '
	before=$(hq_clock) &&
	x=$(id32) &&
	body "$(rec customer "$x" 9007199254740981 "{\"name\": \"Clock\", \"territory\": \"T1\"}")" >clock.json &&
	push_raw "$tok" clock.json >out &&
	jq -e ".results[0].ok == false and (.results[0].reason | test(\"clock\"))" out &&
	test "$(sql "$HQ_DB" "select count(*) from customer where id = '\''$x'\''")" = 0 &&
	sql "$HQ_DB" "select reason from quarantine where rec_id = '\''$x'\''" | grep -q "ahead of HQ" &&
	test "$(hq_clock)" -le $(( $(now_h) + 1024 * 60000 ))
'

test_expect_success 'an edit of an existing record with a far-future dot is refused too; HQ clock unmoved' '
	h=$(( $(now_h) + 1024 * 3600 * 1000 * 48 )) &&
	jq -cn --arg id "$mine" --arg rid "$rid" --argjson h "$h" \
		"{t: \"customer\", id: \$id, vv: {(\$rid): 9}, h: \$h, f: {name: \"Later\", territory: \"T1\"},
		  d: [[\$rid, 9, \$h, [\"name\", \"territory\"]]], scope: \"T1\"}" >r.json &&
	body "$(cat r.json)" >edit.json &&
	push_raw "$tok" edit.json >out &&
	jq -e ".results[0].ok == false" out &&
	test "$(sql "$HQ_DB" "select name from customer where id = '\''$mine'\''")" = Mine &&
	test "$(hq_clock)" -le $(( $(now_h) + 1024 * 60000 ))
'

test_expect_success 'after HQ edits, the other territory still syncs and writes' '
	for i in $(seq 1 12); do "$FSD" --db "$HQ_DB" customer edit "$victim" --notes "hq $i" >/dev/null || return 1; done &&
	"$FS" --db b.db sync >/dev/null &&
	"$FS" --db b.db customer edit "$victim" --notes "boris after" >/dev/null &&
	"$FS" --db b.db sync >/dev/null &&
	test "$(sql "$HQ_DB" "select notes from customer where id = '\''$victim'\''")" = "boris after" &&
	enroll carol c.db T2 && "$FS" --db c.db sync >/dev/null &&
	test "$(field c.db "$victim" notes)" = "boris after"
'

test_expect_success 'the clock bound is a setting, shown with its default and its range' '
	"$FSD" --db "$HQ_DB" --json setting show | jq -e "map(select(.key == \"clock-ahead-minutes\" and .value == \"1440\")) | length == 1" &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set clock-ahead-minutes 0 2>err && grep -q "1..43200" err &&
	"$FSD" --db "$HQ_DB" setting set clock-ahead-minutes 5 &&
	h=$(( $(now_h) + 1024 * 600 * 1000 )) &&
	body "$(rec customer "$(id32)" "$h" "{\"name\": \"Ten minutes ahead\", \"territory\": \"T1\"}")" >ten.json &&
	push_raw "$tok" ten.json | jq -e ".results[0].ok == false" &&
	"$FSD" --db "$HQ_DB" setting set clock-ahead-minutes "" &&
	push_raw "$tok" ten.json | jq -e ".results[0].ok == true"
'

test_expect_success 'a store poisoned before this check: devices refuse the poisoned write and keep their clock' '
	p=9007199254740981 &&
	sql "$HQ_DB" "update hq_clock set hlc = $p;
		update hq_seq set seq = seq + 1;
		update customer set dots = replace(dots, '\'':'\'' || hlc || '\''='\'', '\'':$p='\''), hlc = $p,
			seq = (select seq from hq_seq), origin = NULL where id = '\''$victim'\''" &&
	"$FS" --db b.db sync >/dev/null &&
	test "$(meta b.db hlc)" -lt $(( $(now_h) + 1024 * 60000 )) &&
	"$FS" --db b.db --json quarantine | jq -e "map(select(.id == \"$victim\" and (.reason | test(\"clock\")))) | length == 1" &&
	"$FS" --db b.db customer edit "$victim" --phone "+7 1" >/dev/null
'

test_expect_success 'HQ refuses its own writes from a poisoned clock and names the repair' '
	test_status 11 "$FSD" --db "$HQ_DB" customer edit "$victim" --notes "from a poisoned clock" 2>err &&
	grep -q "fieldsyncd repair clock" err
'

test_expect_success 'a server started on a poisoned store says so in its log, naming the repair' '
	hq_stop && : >"$TRASH/hq.log" && hq_start &&
	grep "clock" "$TRASH/hq.log" | grep -q "fieldsyncd repair clock"
'

test_expect_success 'fieldsyncd repair clock: HQ clock back to the wall clock, poisoned writes restamped' '
	"$FSD" --db "$HQ_DB" repair clock >out &&
	grep -q "1 record" out &&
	test "$(hq_clock)" -le $(( $(now_h) + 1024 * 60000 )) &&
	test "$(sql "$HQ_DB" "select count(*) from customer where hlc > $(( $(now_h) + 1024 * 3600000 ))")" = 0 &&
	"$FSD" --db "$HQ_DB" customer edit "$victim" --notes "after repair" >/dev/null &&
	"$FS" --db b.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	"$FS" --db c.db sync >/dev/null &&
	test "$(field b.db "$victim" notes)" = "after repair" &&
	test "$(field c.db "$victim" notes)" = "after repair" &&
	test "$(field b.db "$victim" phone)" = "+7 1" &&
	"$FS" --db b.db --json quarantine | jq -e "map(select(.id == \"$victim\")) | length == 0" &&
	"$FSD" --db "$HQ_DB" repair clock | grep -q "0 records"
'

# --- 2. conflict records and ids aimed at another territory ---

test_expect_success 'a forged conflict record naming another territory'\''s customer is refused' '
	h=$(now_h) && x=$(id32) &&
	body "$(rec conflict "$x" "$h" "{\"tbl\": \"customer\", \"rec_id\": \"$victim\", \"customer_id\": \"$mine\",
		\"field\": \"name\", \"value\": \"Forged\", \"lose_dot\": \"$rid:1:$h\"}")" >forge.json &&
	push_raw "$tok" forge.json >out &&
	jq -e ".results[0].ok == false" out &&
	test "$(sql "$HQ_DB" "select count(*) from conflict where rec_id = '\''$victim'\''")" = 0 &&
	! "$FSD" --db "$HQ_DB" conflicts | grep -q Forged
'

test_expect_success 'a conflict record for its own customer that HQ did not make is refused too' '
	h=$(now_h) &&
	body "$(rec conflict "$(id32)" "$h" "{\"tbl\": \"customer\", \"rec_id\": \"$mine\", \"customer_id\": \"$mine\",
		\"field\": \"name\", \"value\": \"Made up\", \"lose_dot\": \"$rid:7:$h\"}")" >own.json &&
	push_raw "$tok" own.json | jq -e ".results[0].ok == false" &&
	test "$(sql "$HQ_DB" "select count(*) from conflict")" = 0
'

test_expect_success 'an order line on its own customer pointing at another territory'\''s visit is refused' '
	body "$(rec order_line "$(id32)" "$(now_h)" "{\"visit_id\": \"$bvisit\", \"customer_id\": \"$mine\",
		\"product\": \"Tea\", \"quantity\": 1, \"unit_price\": 100, \"amount\": 100}")" >ol.json &&
	push_raw "$tok" ol.json >out && jq -e ".results[0].ok == false" out &&
	jq -r ".results[0].reason" out | grep -q "another territory" &&
	test "$(sql "$HQ_DB" "select count(*) from order_line")" = 0
'

test_expect_success 'a visit meeting another territory'\''s contact, a change log entry about its customer: refused' '
	olga=$(sql "$HQ_DB" "select id from contact where name = '\''Olga'\''") &&
	body "$(rec visit "$(id32)" "$(now_h)" "{\"customer_id\": \"$mine\", \"status\": \"done\", \"met_contact_id\": \"$olga\"}")" >v.json &&
	push_raw "$tok" v.json | jq -e ".results[0].ok == false" &&
	body "$(rec change_log "$(id32)" "$(now_h)" "{\"customer_id\": \"$mine\", \"tbl\": \"customer\", \"rec_id\": \"$victim\",
		\"field\": \"name\", \"new_value\": \"x\", \"at\": \"2026-12-01T10:00:00Z\"}")" >cl.json &&
	push_raw "$tok" cl.json | jq -e ".results[0].ok == false"
'

test_expect_success 'a device cannot claim a write by HQ that HQ never made, nor a huge counter for another replica' '
	hq=$(sql "$HQ_DB" "select value from hq_meta where key = '\''replica_id'\''") &&
	h=$(now_h) &&
	for who in "$hq"; do
		jq -cn --arg id "$mine" --arg w "$who" --arg rid "$rid" --argjson h "$h" \
			"{t: \"customer\", id: \$id, vv: {(\$w): 99, (\$rid): 1}, h: \$h, f: {name: \"Impostor\", territory: \"T1\"},
			  d: [[\$w, 99, \$h, [\"name\"]], [\$rid, 1, \$h, [\"territory\"]]], scope: \"T1\"}" >r.json &&
		body "$(cat r.json)" >imp.json &&
		push_raw "$tok" imp.json | jq -e ".results[0].ok == false" || return 1
	done &&
	jq -cn --arg id "$mine" --arg rid "$rid" --arg o "$(id32)" --argjson h "$h" \
		"{t: \"customer\", id: \$id, vv: {(\$o): 9007199254740000, (\$rid): 1}, h: \$h, f: {name: \"Huge\", territory: \"T1\"},
		  d: [[\$o, 9007199254740000, \$h, [\"name\"]], [\$rid, 1, \$h, [\"territory\"]]], scope: \"T1\"}" >r.json &&
	body "$(cat r.json)" >huge.json &&
	push_raw "$tok" huge.json | jq -e ".results[0].ok == false" &&
	test "$(sql "$HQ_DB" "select name from customer where id = '\''$mine'\''")" = Mine
'

test_expect_success 'real conflicts still work: both reps of T2 edit one field, resolve on a device' '
	"$FS" --db b.db customer edit "$victim" --grade A >/dev/null &&
	"$FS" --db c.db customer edit "$victim" --grade C >/dev/null &&
	"$FS" --db b.db sync >/dev/null && "$FS" --db c.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	cid=$("$FS" --db b.db --json conflicts | jq -r ".[0].id") && test -n "$cid" && test "$cid" != null &&
	"$FS" --db b.db conflicts resolve "$cid" --keep mine >/dev/null &&
	"$FS" --db b.db sync >/dev/null && "$FS" --db c.db sync >/dev/null &&
	test "$(field c.db "$victim" grade)" = A &&
	test "$(sql "$HQ_DB" "select count(*) from conflict where resolution is not null")" = 1 &&
	test "$("$FS" --db b.db --json quarantine | jq length)" = 0 &&
	test "$("$FS" --db c.db --json quarantine | jq length)" = 0
'

# --- 3. enrolment token replay ---

test_expect_success 'an enrolment retry within minutes gets the same device token, not a new one' '
	etok=$("$FSD" --db "$HQ_DB" rep add dora --territory T3 2>/dev/null) &&
	n=$(id32) &&
	jq -cn --arg t "$etok" --arg n "$n" "{v: 1, token: \$t, nonce: \$n}" >enr.json &&
	curl -s --data-binary @enr.json "$HQ_URL/v1/enroll" >e1 &&
	curl -s --data-binary @enr.json "$HQ_URL/v1/enroll" >e2 &&
	jq -e .device_token e1 && test "$(jq -r .device_token e1)" = "$(jq -r .device_token e2)" &&
	test "$(jq -r .replica_id e1)" = "$(jq -r .replica_id e2)" &&
	curl -sf -H "Authorization: Bearer $(jq -r .device_token e1)" -d "{\"v\": 1}" "$HQ_URL/v1/pull" >/dev/null &&
	test "$(sql "$HQ_DB" "select count(*) from enroll_tokens where nonce = '\''$n'\''")" = 0 &&
	test "$(sql "$HQ_DB" "select count(*) from devices where rep = '\''dora'\''")" = 1
'

test_expect_success 'the same token and nonce after the retry window or after expiry: refused' '
	sql "$HQ_DB" "update enroll_tokens set used_at = '\''2026-01-01T00:00:00Z'\'' where rep = '\''dora'\''" &&
	test "$(curl -s -o out -w "%{http_code}" --data-binary @enr.json "$HQ_URL/v1/enroll")" = 403 &&
	sql "$HQ_DB" "update enroll_tokens set used_at = strftime('\''%Y-%m-%dT%H:%M:%SZ'\'', '\''now'\''), expires_ms = 1 where rep = '\''dora'\''" &&
	test "$(curl -s -o out -w "%{http_code}" --data-binary @enr.json "$HQ_URL/v1/enroll")" = 403 &&
	curl -sf -H "Authorization: Bearer $(jq -r .device_token e1)" -d "{\"v\": 1}" "$HQ_URL/v1/pull" >/dev/null
'

# --- 4. hand-in of a device revoked for erasure ---

test_expect_success 'a wiped device hands in once, bounded; HQ store barely grows' '
	enroll eve e.db T1 && "$FS" --db e.db sync >/dev/null &&
	etok2=$(meta e.db device_token) && erid=$(meta e.db replica_id) &&
	"$FSD" --db "$HQ_DB" rep revoke eve --wipe >/dev/null &&
	note=$(head -c 3000 /dev/zero | tr "\0" n) &&
	before=$(stat -c %s "$HQ_DB") &&
	for round in 1 2 3; do
		jq -cn --arg rid "$erid" --arg note "$note" --argjson h "$(now_h)" --argjson round $round "
			{v: 1, records: [range(0; 1000) as \$i | {t: \"customer\",
			 id: ((\$round * 100000 + \$i) | tostring | (\"00000000000000000000000000000000\" + .) | .[-32:]),
			 vv: {(\$rid): 1}, h: \$h, f: {name: \"n\", territory: \"T1\", notes: \$note},
			 d: [[\$rid, 1, \$h, [\"name\", \"territory\", \"notes\"]]], scope: \"T1\"}]}" >hand.json &&
		push_raw "$etok2" hand.json >out; jq -e ".wipe == true" out || return 1
	done &&
	n=$(sql "$HQ_DB" "select count(*) from quarantine where device = (select id from devices where rep = '\''eve'\'')") &&
	test "$n" -le 1000 && test "$n" -gt 0 &&
	sql "$HQ_DB" "pragma wal_checkpoint(truncate)" >/dev/null &&
	test $(( $(stat -c %s "$HQ_DB") - before )) -lt $((6 * 1024 * 1024))
'

test_expect_success '"accept" re-checks the territory of the rep who handed it in; naming it does not reach an existing record' '
	"$FSD" --db "$HQ_DB" rep add zed --territory T1 >/dev/null 2>&1 &&
	enroll zed z.db T1 && "$FS" --db z.db sync >/dev/null &&
	zrid=$(meta z.db replica_id) && ztok=$(meta z.db device_token) &&
	"$FSD" --db "$HQ_DB" rep revoke zed --wipe >/dev/null &&
	jq -cn --arg id "$victim" --arg rid "$zrid" --argjson h "$(now_h)" \
		"{v: 1, records: [{t: \"customer\", id: \$id, vv: {(\$rid): 1}, h: \$h, f: {name: \"Stolen\", territory: \"T2\"},
		  d: [[\$rid, 1, \$h, [\"name\", \"territory\"]]], scope: \"T2\"}]}" >steal.json &&
	push_raw "$ztok" steal.json | jq -e ".wipe == true" &&
	"$FSD" --db "$HQ_DB" admin add boss >pw 2>/dev/null && PW=$(tail -n 1 pw) &&
	rm -f jar && curl -s -c jar "$HQ_URL/admin/login" >/dev/null &&
	t=$(awk "\$6 == \"fs_login\" {print \$7}" jar) &&
	curl -s -o /dev/null -b jar -c jar --data-urlencode name=boss --data-urlencode "password=$PW" \
		--data-urlencode "csrf=$t" "$HQ_URL/admin/login" &&
	csrf=$(curl -s -b jar "$HQ_URL/admin/api/me" | jq -r .csrf) &&
	dev=$(sql "$HQ_DB" "select id from devices where rep = '\''zed'\''") &&
	vv=$(sql "$HQ_DB" "select vv from quarantine where device = '\''$dev'\'' and rec_id = '\''$victim'\''") &&
	jq -cn --arg d "$dev" --arg id "$victim" --arg vv "$vv" \
		"{device: \$d, tbl: \"customer\", rec_id: \$id, vv: \$vv, decision: \"accept\"}" >dec.json &&
	code=$(curl -s -o out -w "%{http_code}" -b jar -H "X-CSRF-Token: $csrf" -H "Content-Type: application/json" \
		--data-binary @dec.json "$HQ_URL/admin/api/quarantine/decide") &&
	test "$code" = 409 && grep -q T2 out &&
	jq -c ". + {territory: \"T2\"}" dec.json >dec2.json &&
	code=$(curl -s -o out -w "%{http_code}" -b jar -H "X-CSRF-Token: $csrf" -H "Content-Type: application/json" \
		--data-binary @dec2.json "$HQ_URL/admin/api/quarantine/decide") &&
	test "$code" = 409 &&
	test "$(sql "$HQ_DB" "select name from customer where id = '\''$victim'\''")" = Victim
'

test_expect_success 'the HQ store is intact and every honest device still syncs' '
	test "$(sql "$HQ_DB" "pragma integrity_check")" = ok &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null && "$FS" --db c.db sync >/dev/null
'

test_expect_success 'fieldsync repair clock: a laptop whose date was a month ahead comes back' '
	fut=$(( ($(date +%s) + 30 * 86400) * 1000 )) &&
	FIELDSYNC_NOW_MS=$fut "$FS" --db ahead.db customer add --name Ahead --territory T1 --code AH-1 >/dev/null &&
	was=$(meta ahead.db hlc) && test "$was" -gt $(( $(now_h) + 1024 * 86400000 )) &&
	"$FS" --db ahead.db repair clock --dry-run | grep -q "would restamp [1-9]" &&
	test "$(meta ahead.db hlc)" = "$was" &&
	"$FS" --db ahead.db repair clock | grep -q "restamped [1-9]" &&
	test "$(meta ahead.db hlc)" -lt $(( $(now_h) + 1024 * 60000 )) &&
	test "$(sql ahead.db "select count(*) from customer where hlc > $(( $(now_h) + 1024 * 60000 ))")" = 0 &&
	test "$(field ahead.db AH-1 name)" = Ahead &&
	"$FS" --db ahead.db repair clock | grep -q "restamped 0 records"
'

test_done
