#!/bin/sh
# The HQ dashboard (/admin/) in a real browser: headless Chromium, driven by
# tests/dashboard.py over the DevTools protocol, against a real fieldsyncd
# with generated data. It logs in, opens every page and the DOM must show
# the counts the store holds; it resolves a conflict and decides on two
# quarantined writes with the pages' own buttons, and the devices get the
# results on their next sync. Then the JSON twins, and the security rules:
# no session -> login, CSRF, device tokens, cookie flags (Secure over TLS),
# rate-limited wrong passwords. A screenshot of each page is written to
# $FIELDSYNC_SCREENSHOTS (default BUILD/screenshots) for a person to look at.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 || [ -z "$PY" ]; then
	echo "1..0 # SKIP chromium or python3 missing (tools/deps.sh installs them)"
	exit 0
fi
SHOTS=${FIELDSYNC_SCREENSHOTS:-$FIELDSYNC_BUILD/screenshots}
D=$(date +%F)
M=$(date +%Y-%m)
F="$TRASH/facts.json"
echo "# screenshots of every page: $SHOTS"

q() { sql "$HQ_DB" "$1"; }
# jq on the browser's findings: fact FILTER
fact() { jq -r "$1" "$F"; }
# expect WHAT GOT WANT
expect() {
	[ "$2" = "$3" ] || { echo "$1: got '$2', want '$3'" >&2; return 1; }
}

# What the store holds, computed here independently of the server's code.
VISITS_SQL="FROM visit v JOIN customer c ON c.id = v.customer_id WHERE coalesce(v.deleted, 0) = 0
	AND coalesce(c.deleted, 0) = 0 AND v.planned_date BETWEEN '$M-01' AND '$M-31'"
# days since the last visit, in the HQ store's SQL (SQLite, or PostgreSQL
# with FIELDSYNC_HQ_PG)
DAYS="julianday('$D') - julianday(last)"
[ -z "${FIELDSYNC_HQ_PG:-}" ] || DAYS="DATE '$D' - CAST(last AS date)"
OVERDUE_SQL="SELECT count(*) FROM (SELECT c.grade, (SELECT max(v.planned_date) FROM visit v
	WHERE v.customer_id = c.id AND v.status = 'done' AND coalesce(v.deleted, 0) = 0) AS last
	FROM customer c WHERE coalesce(c.deleted, 0) = 0) x WHERE last IS NULL OR $DAYS >=
	CASE grade WHEN 'A' THEN 7 WHEN 'B' THEN 14 WHEN 'C' THEN 30 WHEN 'VIP' THEN 7 ELSE 30 END"
state() {
	N_CUST=$(q "SELECT count(*) FROM customer WHERE coalesce(deleted, 0) = 0")
	N_OVERDUE=$(q "$OVERDUE_SQL")
	N_PLANNED=$(q "SELECT count(*) $VISITS_SQL")
	N_DONE=$(q "SELECT count(*) $VISITS_SQL AND v.status = 'done'")
	N_PLACED=$(q "SELECT count(*) FROM customer WHERE territory = 'MOW-1' AND lat IS NOT NULL AND lon IS NOT NULL
		AND coalesce(deleted, 0) = 0")
	N_STOPS=$(q "SELECT count(*) FROM visit v JOIN customer c ON c.id = v.customer_id WHERE c.territory = 'MOW-1'
		AND v.planned_date = '$D' AND coalesce(v.deleted, 0) = 0")
}

setup() {
	hq_start &&
	"$TOOLS/gen" --db import.db --territory MOW-1,SHA-1 --customers 60 --visits 600 --plans 6 --date "$D" \
		--seed 7 --quiet &&
	enroll import import.db MOW-1,SHA-1 && "$FS" --db import.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" rep revoke import &&
	enroll anna a.db MOW-1 && enroll boris b.db MOW-1 && enroll chen c.db SHA-1 && enroll dasha d.db MOW-1 &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null && "$FS" --db c.db sync >/dev/null &&
	# one clash: the same phone number changed on two laptops
	X=$(q "SELECT code FROM customer WHERE territory = 'MOW-1' ORDER BY code LIMIT 1") &&
	"$FS" --db a.db customer edit "$X" --phone "+7 495 111 11 11" >/dev/null &&
	"$FS" --db b.db customer edit "$X" --phone "+7 495 222 22 22" >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null && "$FS" --db a.db sync >/dev/null &&
	# two writes outside anna's territory, from a device that does not check
	# them before saving (an older release): refused by HQ and quarantined
	sqlite3 a.db "delete from meta where key = 'territories'" &&
	"$FS" --db a.db customer add --name "Outpost Keep" --code OK-1 --territory SHA-1 --lat 31.25 --lon 121.45 \
		--grade B >/dev/null &&
	"$FS" --db a.db customer add --name "Outpost Drop" --territory ZZZ-9 >/dev/null &&
	test_status 1 "$FS" --db a.db sync >/dev/null 2>&1 &&
	expect quarantined "$(q "SELECT count(*) FROM quarantine")" 2 &&
	"$FSD" --db "$HQ_DB" --json conflicts | jq -e 'length == 1 and .[0].field == "phone"' >/dev/null &&
	OTHER=$("$FSD" --db "$HQ_DB" --json conflicts | jq -r '.[0].other') &&
	PW=$("$FSD" --db "$HQ_DB" admin add boss 2>/dev/null) && test -n "$PW" &&
	"$FSD" --db "$HQ_DB" --json admin list | jq -e 'length == 1 and .[0].admin == "boss"' >/dev/null &&
	expect "stored hash" "$(q "SELECT substr(pw_hash, 1, 10) FROM admins")" '$argon2id$' &&
	state && B_CUST=$N_CUST && B_OVERDUE=$N_OVERDUE
}
test_expect_success 'HQ with two generated territories, four reps, a clash, two refused writes, an admin' 'setup'

browse() {
	rm -rf "$SHOTS" &&
	"$PY" "$FIELDSYNC_TOP/tests/dashboard.py" --url "$HQ_URL" --name boss --password "$PW" --out "$SHOTS" \
		--facts "$F" --map-territory MOW-1 --date "$D" --resolve-field phone --accept "Outpost Keep" \
		--discard "Outpost Drop" &&
	for p in login overview devices quarantine conflicts conflicts-resolved visits customers map log; do
		test -s "$SHOTS/$p.png" || { echo "no screenshot $p.png" >&2; return 1; }
		expect "$p.png" "$(head -c 4 "$SHOTS/$p.png" | od -An -tx1 | tr -d " \n")" 89504e47
	done
}
test_expect_success 'headless Chromium logs in, opens every page, uses the buttons, writes screenshots' 'browse'

test_expect_success 'without a session the browser lands on the login page; a wrong password is refused there' '
	expect redirect "$(fact .no_session)" /admin/login &&
	expect "wrong password" "$(fact .wrong_password.path)" /admin/login &&
	fact .wrong_password.error | grep -q "Wrong name or password" &&
	expect "HttpOnly cookie seen by scripts" "$(fact .cookie_visible_to_js)" false
'

test_expect_success 'overview: devices synced, quarantine, conflicts, visits of the month, overdue customers' '
	expect error "$(fact .overview.error)" null &&
	expect who "$(fact .overview.who)" boss &&
	expect synced "$(fact .overview.tiles.synced)" "3 / 4" &&
	expect quarantine "$(fact .overview.tiles.quarantine)" 2 &&
	expect conflicts "$(fact .overview.tiles.conflicts)" 1 &&
	expect visits "$(fact .overview.tiles.visits)" "$N_DONE / $N_PLANNED" &&
	expect overdue "$(fact .overview.tiles.overdue)" "$B_OVERDUE" &&
	expect "territory cards" "$(fact .overview.cards)" 2 && expect "mini maps" "$(fact .overview.minimaps)" 2 &&
	expect "active devices listed" "$(fact .overview.tables[\"overview-devices\"].rows)" 4 &&
	expect badges "$(fact ".overview.badges | \"\(.quarantine)/\(.conflicts)\"")" "2/1"
'

test_expect_success 'devices: every device, the three that synced marked fresh' '
	expect rows "$(fact .devices.tables.devices.rows)" "$(q "SELECT count(*) FROM devices")" &&
	expect total "$(fact .devices.tables.devices.total)" 5 &&
	expect fresh "$(fact .devices.fresh_rows)" 3
'

test_expect_success 'quarantine: two waiting; accept and discard from the page, both logged' '
	expect pending "$(fact .quarantine.tables.quarantine.rows)" 2 &&
	expect buttons "$(fact .quarantine.accept_buttons)" 2 &&
	expect "after accept" "$(fact .accepted.tables.quarantine.rows)" 1 &&
	fact .accepted.flash | grep -q "accepted by boss" &&
	fact .accepted.flash | grep -q "SHA-1" &&
	expect "after discard" "$(fact .discarded.tables.quarantine.rows)" 0 &&
	fact .discarded.flash | grep -q "discarded by boss" &&
	expect "accepted filter" "$(fact .quarantine_accepted_filter.rows)" 1 &&
	"$FSD" --db "$HQ_DB" --json quarantine >qj &&
	jq -e "map(select(.decision | test(\"^accepted by boss at \"))) | length == 1" qj >/dev/null &&
	jq -e "map(select(.decision | test(\"^discarded by boss at \"))) | length == 1" qj >/dev/null &&
	expect "accepted at HQ" "$(q "SELECT territory FROM customer WHERE name = '\''Outpost Keep'\''")" SHA-1 &&
	expect "discarded at HQ" "$(q "SELECT count(*) FROM customer WHERE name = '\''Outpost Drop'\''")" 0
'

test_expect_success 'conflicts: both values side by side; keeping the other one from the page resolves it at HQ' '
	expect open "$(fact .conflicts.tables.conflicts.rows)" 1 &&
	expect "keep buttons" "$(fact .conflicts.keep_buttons)" 2 &&
	expect "open after" "$(fact .resolved.tables.conflicts.rows)" 0 &&
	fact .resolved.flash | grep -qF "kept $OTHER" &&
	"$FSD" --db "$HQ_DB" --json conflicts --all |
		jq -e ".[0].status == \"resolved\" and (.[0].resolution | test(\"kept loser at HQ\"))" >/dev/null &&
	expect "HQ phone" "$("$FSD" --db "$HQ_DB" --json customer show "$X" | jq -r .phone)" "$OTHER"
'

test_expect_success 'the resolution and the accepted record reach the devices on their next sync' '
	"$FS" --db b.db sync >/dev/null && expect "boris phone" "$(field b.db "$X" phone)" "$OTHER" &&
	"$FS" --db b.db --json conflicts --all | jq -e ".[0].status == \"resolved\"" >/dev/null &&
	"$FS" --db b.db --json conflicts | jq -e "length == 0" >/dev/null &&
	{ "$FS" --db a.db sync >/dev/null 2>&1 || true; } && expect "anna phone" "$(field a.db "$X" phone)" "$OTHER" &&
	"$FS" --db c.db sync >/dev/null && expect "chen has it" "$(field c.db OK-1 name)" "Outpost Keep" &&
	expect "same id" "$(sql c.db "SELECT id FROM customer WHERE code = '\''OK-1'\''")" \
		"$(sql a.db "SELECT id FROM quarantine WHERE record LIKE '\''%Outpost Keep%'\''")"
'

test_expect_success 'visits: planned vs done by rep and week, totals as in the store' '
	state &&
	expect planned "$(fact .visits.tables.visits.planned)" "$N_PLANNED" &&
	expect done "$(fact .visits.tables.visits.done)" "$N_DONE" &&
	expect "rep rows" "$(fact .visits.tables.visits.rows)" 5
'

test_expect_success 'customers: every customer, overdue ones highlighted, the grade x territory matrix; sort and filter' '
	expect customers "$(fact .customers.tables.customers.total)" "$N_CUST" &&
	expect "customers after accept" "$N_CUST" $((B_CUST + 1)) &&
	expect overdue "$(fact .customers.overdue_rows)" "$N_OVERDUE" &&
	expect matrix "$(fact .customers.tables.matrix.rows)" 2 &&
	expect "overdue filter" "$(fact .customers_overdue_filter.rows)" "$N_OVERDUE" &&
	expect sorted "$(fact .customers_sort.asc_sorted)" true &&
	expect reversed "$(fact .customers_sort.desc_is_reverse)" true &&
	expect aria "$(fact .customers_sort.aria)" descending &&
	test "$(fact .customers_text_filter.rows)" -ge 1 &&
	test "$(fact .customers_text_filter.rows)" -lt "$N_CUST"
'

test_expect_success 'map: an SVG of the territory from customer coordinates, with the day'"'"'s route' '
	expect error "$(fact .map.error)" null &&
	expect customers "$(fact .map.map.customers)" "$N_PLACED" &&
	expect circles "$(fact .map.map.circles)" "$N_PLACED" &&
	expect stops "$(fact .map.map.stops)" "$N_STOPS" && test "$N_STOPS" -gt 0 &&
	expect markers "$(fact .map.map.markers)" "$N_STOPS" &&
	expect route "$(fact .map.map.route)" true &&
	fact .map.map.xml >map.svg && xmllint --noout map.svg
'

test_expect_success 'log: the three decisions, also in fieldsyncd admin log; signing out ends the session' '
	expect rows "$(fact .log.tables.log.rows)" 3 &&
	expect badges "$(fact ".log.badges | \"\(.quarantine)/\(.conflicts)\"")" "/" &&
	"$FSD" --db "$HQ_DB" --json admin log | jq -e "length == 3 and (map(.kind) | sort) == [\"conflict\", \"quarantine\", \"quarantine\"] and all(.admin == \"boss\")" >/dev/null &&
	expect "after sign-out" "$(fact .after_logout)" /admin/login &&
	expect sessions "$(q "SELECT count(*) FROM admin_sessions")" 0
'

# ---- the JSON twins, with curl ----

# admin_login JAR [curl options]: a session in the cookie jar (303 to /admin/)
admin_login() {
	_jar=$1
	shift
	rm -f "$_jar" && curl -s "$@" -c "$_jar" "$HQ_URL/admin/login" >/dev/null &&
	_t=$(awk '$6 == "fs_login" {print $7}' "$_jar") && test -n "$_t" &&
	curl -s "$@" -o /dev/null -D login.h -w "%{http_code}" -b "$_jar" -c "$_jar" --data-urlencode "name=boss" \
		--data-urlencode "password=$PW" --data-urlencode "csrf=$_t" "$HQ_URL/admin/login" >login.code &&
	expect "login status" "$(cat login.code)" 303
}
api() { curl -s -b jar "$HQ_URL/admin/api/$1"; }
csrf_of() { curl -s -b "$1" "$HQ_URL/admin/api/me" | jq -r .csrf; }

test_expect_success 'every page has a JSON twin under /admin/api/ with the same numbers' '
	admin_login jar &&
	api devices | jq -e ".rows | length == 5" >/dev/null &&
	api devices | jq -e ".summary.synced_24h == 3 and .summary.active == 4 and .summary.never_synced == 1" >/dev/null &&
	api quarantine | jq -e ".summary == {total: 2, pending: 0, accepted: 1, discarded: 1}" >/dev/null &&
	api conflicts | jq -e ".summary.open == 0" >/dev/null &&
	api "conflicts?all=1" | jq -e ".rows | length == 1 and .[0].status == \"resolved\"" >/dev/null &&
	api "visits?month=$M" | jq -e ".total.total.planned == $N_PLANNED and .total.total.done == $N_DONE" >/dev/null &&
	api "visits?month=$M" | jq -e "[.rows[].rep] == [\"anna\", \"boris\", \"chen\", \"dasha\", \"import\"]" >/dev/null &&
	# every visit is one rep'"'"'s: the rows add up to the total (the import device logged them all)
	api "visits?month=$M" | jq -e "([.rows[].total.planned] | add) == .total.total.planned and
		([.rows[] | select(.rep == \"import\")][0] | .active == false and .total.done == $N_DONE)" >/dev/null &&
	api "customers?date=$D" | jq -e ".summary.customers == $N_CUST and .summary.overdue == $N_OVERDUE" >/dev/null &&
	api "customers?date=$D&overdue=1" | jq -e ".rows | length == $N_OVERDUE and all(.overdue)" >/dev/null &&
	api "customers?territory=SHA-1&grade=B" | jq -e ".rows | length > 0 and all(.territory == \"SHA-1\" and .grade == \"B\")" >/dev/null &&
	api "map?territory=MOW-1&date=$D" | jq -e "(.route | length) == $N_STOPS and ([.customers[] | select(.lat)] | length) == $N_PLACED" >/dev/null &&
	api "map?territory=MOW-1&date=$D" | jq -e "[.route[].route_seq] == ([.route[].route_seq] | sort)" >/dev/null &&
	api log | jq -e ".rows | length == 3" >/dev/null &&
	api summary | jq -e ".quarantine.pending == 0 and .conflicts.open == 0" >/dev/null &&
	api "visits?month=2026-13" | jq -e ".error == \"bad_request\"" >/dev/null
'

# ---- security: from their own loopback addresses, so that the failures
# they provoke do not rate-limit the rest of this test ----
S="--interface 127.0.0.3"

test_expect_success 'no session: pages redirect to the login page, the API answers 401 without data' '
	expect page "$(curl -s $S -o /dev/null -w "%{http_code} %{redirect_url}" "$HQ_URL/admin/devices")" \
		"302 $HQ_URL/admin/login" &&
	expect root "$(curl -s $S -o /dev/null -w "%{http_code} %{redirect_url}" "$HQ_URL/admin")" "302 $HQ_URL/admin/" &&
	curl -s $S -o body -w "%{http_code}" "$HQ_URL/admin/api/devices" >code && expect api "$(cat code)" 401 &&
	! grep -q rows body &&
	curl -s $S -o /dev/null -w "%{http_code}" -b "fs_admin=$(printf %064d 0)" "$HQ_URL/admin/api/devices" >code &&
	expect "forged cookie" "$(cat code)" 401
'

test_expect_success 'the session cookie is HttpOnly, SameSite=Strict, not Secure over plain HTTP; only its hash is stored' '
	admin_login jar2 $S &&
	grep -i "^set-cookie: fs_admin=" login.h >sc &&
	grep -q "; HttpOnly" sc && grep -q "; SameSite=Strict" sc && grep -q "; Path=/admin;" sc && ! grep -q Secure sc &&
	sid=$(awk "\$6 == \"fs_admin\" {print \$7}" jar2) && test ${#sid} = 64 &&
	expect "raw id stored" "$(q "SELECT count(*) FROM admin_sessions WHERE id_hash = '\''$sid'\''")" 0 &&
	expect sessions "$(q "SELECT count(*) FROM admin_sessions")" 2
'

test_expect_success 'CSRF: a POST without the token, with a wrong one or another session'"'"'s is 403' '
	body="{\"id\": \"$(printf %032d 0)\", \"keep\": \"other\"}" &&
	curl -s $S -o out -w "%{http_code}" -b jar -H "Content-Type: application/json" -d "$body" \
		"$HQ_URL/admin/api/conflicts/resolve" >code && expect missing "$(cat code)" 403 && grep -q csrf out &&
	curl -s $S -o /dev/null -w "%{http_code}" -b jar -H "X-CSRF-Token: $(printf %064d 0)" -d "$body" \
		"$HQ_URL/admin/api/conflicts/resolve" >code && expect wrong "$(cat code)" 403 &&
	curl -s $S -o /dev/null -w "%{http_code}" -b jar -H "X-CSRF-Token: $(csrf_of jar2)" -d "$body" \
		"$HQ_URL/admin/api/conflicts/resolve" >code && expect "other session" "$(cat code)" 403 &&
	curl -s $S -o out -w "%{http_code}" -b jar -H "X-CSRF-Token: $(csrf_of jar)" -d "$body" \
		"$HQ_URL/admin/api/conflicts/resolve" >code && expect "right token" "$(cat code)" 404 &&
	curl -s $S -o /dev/null -w "%{http_code}" -d "name=boss&password=$PW&csrf=$(printf %064d 0)" \
		"$HQ_URL/admin/login" >code && expect "login without its form cookie" "$(cat code)" 403 &&
	curl -s $S -o /dev/null -w "%{http_code}" -b jar -H "X-CSRF-Token: $(csrf_of jar)" \
		-H "Content-Type: application/json" -d "{\"device\": \"x\", \"tbl\": \"customer\", \"rec_id\": \"x\", \"vv\": \"x\", \"decision\": \"accept\"}" \
		"$HQ_URL/admin/api/quarantine/decide" >code && expect "unknown quarantine row" "$(cat code)" 404
'

test_expect_success 'a device token never opens the dashboard (401, no data); the admin cookie never syncs' '
	tok=$(sql b.db "SELECT value FROM meta WHERE key = '\''device_token'\''") && test ${#tok} = 64 &&
	curl -s $S -o body -w "%{http_code}" -H "Authorization: Bearer $tok" "$HQ_URL/admin/api/devices" >code &&
	expect "device token" "$(cat code)" 401 && jq -e ".error == \"device_token\"" body >/dev/null && ! grep -q rows body &&
	curl -s $S -o body -w "%{http_code}" -b jar -H "Authorization: Bearer $tok" "$HQ_URL/admin/api/customers" >code &&
	expect "device token and cookie" "$(cat code)" 401 && ! grep -q rows body &&
	curl -s $S -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $tok" "$HQ_URL/admin/" >code &&
	expect "device token, page" "$(cat code)" 401 &&
	curl -s $S -o /dev/null -w "%{http_code}" -b jar -H "Content-Type: application/json" \
		-d "{\"v\": 1, \"cursor\": {}}" "$HQ_URL/v1/pull" >code && expect "cookie on pull" "$(cat code)" 401
'

test_expect_success 'expired sessions and signed-out sessions are refused' '
	csrf=$(csrf_of jar2) &&
	curl -s $S -o /dev/null -w "%{http_code}" -b jar2 -H "X-CSRF-Token: $csrf" -X POST "$HQ_URL/admin/logout" >code &&
	expect logout "$(cat code)" 200 &&
	curl -s $S -o /dev/null -w "%{http_code}" -b jar2 "$HQ_URL/admin/api/me" >code && expect "signed out" "$(cat code)" 401 &&
	q "UPDATE admin_sessions SET expires_ms = 1" &&
	curl -s $S -o /dev/null -w "%{http_code} %{redirect_url}" -b jar "$HQ_URL/admin/" >code &&
	expect expired "$(cat code)" "302 $HQ_URL/admin/login"
'

test_expect_success 'admin reset gives a new password and ends sessions; admin remove' '
	admin_login jar &&
	NEW=$("$FSD" --db "$HQ_DB" admin reset boss 2>/dev/null) && test "$NEW" != "$PW" &&
	curl -s -o /dev/null -w "%{http_code}" -b jar "$HQ_URL/admin/api/me" >code && expect "after reset" "$(cat code)" 401 &&
	PW=$NEW && admin_login jar &&
	"$FSD" --db "$HQ_DB" admin add eve >/dev/null 2>&1 && "$FSD" --db "$HQ_DB" admin remove eve &&
	test_status 3 "$FSD" --db "$HQ_DB" admin remove eve 2>/dev/null &&
	test_status 2 "$FSD" --db "$HQ_DB" admin add "bad name" 2>/dev/null &&
	test_status 2 "$FSD" --db "$HQ_DB" admin add boss 2>/dev/null
'

test_expect_success 'over TLS the cookies are Secure' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=127.0.0.1 \
		>/dev/null 2>&1 &&
	"$FSD" --db tls.db init >/dev/null && "$FSD" --db tls.db admin add boss >/dev/null 2>&1 || return 1
	# the server alone in the background: $! must be its pid, not a subshell'"'"'s
	"$FSD" --db tls.db serve --listen 127.0.0.1:0 --port-file tls.port --tls-cert cert.pem --tls-key key.pem \
		2>>tls.log &
	tls_pid=$! && test_at_exit "kill $tls_pid 2>/dev/null; wait $tls_pid 2>/dev/null" &&
	n=0 && while [ ! -s tls.port ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done &&
	curl -sk -D h -o /dev/null "https://127.0.0.1:$(cat tls.port)/admin/login" &&
	grep -i "^set-cookie: fs_login=" h | grep -q "; Secure" &&
	kill $tls_pid && wait $tls_pid
'

test_expect_success 'wrong passwords are rate-limited per client address (429), then even the right one waits' '
	rm -f rl.jar && curl -s --interface 127.0.0.2 -c rl.jar "$HQ_URL/admin/login" >/dev/null &&
	t=$(awk "\$6 == \"fs_login\" {print \$7}" rl.jar) &&
	n=0 && got="" && while [ $n -lt 30 ]; do
		got=$(curl -s --interface 127.0.0.2 -o /dev/null -w "%{http_code}" -b rl.jar \
			-d "name=boss&password=wrong-$n&csrf=$t" "$HQ_URL/admin/login")
		[ "$got" = 401 ] || break
		n=$((n + 1))
	done &&
	expect "status after $n wrong passwords" "$got" 429 && test $n -ge 10 &&
	curl -s --interface 127.0.0.2 -D h -o /dev/null -w "%{http_code}" -b rl.jar \
		--data-urlencode "name=boss" --data-urlencode "password=$PW" --data-urlencode "csrf=$t" \
		"$HQ_URL/admin/login" >code && expect "right password while limited" "$(cat code)" 429 &&
	grep -qi "^retry-after:" h &&
	admin_login jar
'

test_done
