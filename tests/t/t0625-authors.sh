#!/bin/sh
# t0625-authors.sh - who did each visit, payment and order (issue "Field
# truth", Who): HQ keeps the author of every visit (the rep whose device
# logged it), payment and order line, read from the write's own dot and
# checked against the pushing device; reports by rep count what each rep
# did or was assigned, and their rows add up to the total. A plan HQ makes
# for a rep reaches that rep's devices only.
. "$(dirname "$0")/../lib.sh"

D=$(date -u +%Y-%m-%d)
M=${D%-??}
id32() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
meta() { sql "$1" "select value from meta where key = '$2'"; }
q() { sql "$HQ_DB" "$1"; }
# by_rep: "rep planned done" per row of fieldsyncd report visits --by rep
by_rep() { "$FSD" --db "$HQ_DB" --json report visits --by rep --month "$M" | jq -r '.[] | "\(.rep) \(.planned) \(.done)"'; }

test_expect_success 'setup: anna and boris share MOW-1, chen has SHA-1' '
	hq_start &&
	enroll anna a.db MOW-1 && enroll boris b.db MOW-1 && enroll chen c.db SHA-1 &&
	"$FSD" --db "$HQ_DB" customer add --code AC-1 --name "Acme" --territory MOW-1 >/dev/null &&
	"$FSD" --db "$HQ_DB" customer add --code BT-1 --name "Beta" --territory MOW-1 >/dev/null &&
	"$FSD" --db "$HQ_DB" customer add --code SH-1 --name "Shang" --territory SHA-1 >/dev/null &&
	for s in a b c; do "$FS" --db $s.db sync >/dev/null || return 1; done
'

test_expect_success 'two reps in one territory: each is credited with their own visits only' '
	"$FS" --db a.db visit log AC-1 --outcome one >/dev/null &&
	"$FS" --db a.db visit log BT-1 --outcome two --order "Tea:2:3.50" --collected 7 >/dev/null &&
	"$FS" --db a.db visit log AC-1 --outcome three >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	by_rep >rows &&
	grep -qx "anna 3 3" rows && ! grep -q "^boris" rows && ! grep -q "^chen" rows &&
	"$FS" --db b.db visit log BT-1 --outcome "boris was here" >/dev/null && "$FS" --db b.db sync >/dev/null &&
	by_rep >rows &&
	grep -qx "anna 3 3" rows && grep -qx "boris 1 1" rows &&
	"$FSD" --db "$HQ_DB" --json report visits --by rep --month "$M" >r.json &&
	jq -e "(map(select(.rep != \"(total)\")) | map(.planned) | add) == (.[] | select(.rep == \"(total)\") | .planned)" r.json
'

test_expect_success 'HQ keeps the device as well, and payments and order lines have their author' '
	arid=$(meta a.db replica_id) &&
	test "$(q "select count(*) from visit where author_rep = '\''anna'\'' and author_device = '\''$arid'\''")" = 3 &&
	test "$(q "select author_rep from payment")" = anna &&
	test "$(q "select author_rep || '\'' '\'' || author_device from order_line")" = "anna $arid"
'

test_expect_success 'a device cannot log a visit for another device: kept, credited to no one' '
	tok=$(meta a.db device_token) && brid=$(meta b.db replica_id) &&
	cust=$(q "select id from customer where code = '\''AC-1'\''") && x=$(id32) && h=$(( $(date +%s%3N) * 1024 )) &&
	jq -cn --arg id "$x" --arg c "$cust" --arg rid "$brid" --argjson h "$h" --arg d "$D" \
		"{v: 1, records: [{t: \"visit\", id: \$id, vv: {(\$rid): 1}, h: \$h, scope: \"MOW-1\",
		  f: {customer_id: \$c, status: \"done\", planned_date: \$d},
		  d: [[\$rid, 1, \$h, [\"customer_id\", \"status\", \"planned_date\"]]]}]}" >forge.json &&
	curl -s -H "Authorization: Bearer $tok" -H "Content-Type: application/json" --data-binary @forge.json \
		"$HQ_URL/v1/push" >out &&
	jq -e ".results[0].ok == true" out &&
	test "$(q "select coalesce(author_rep, '\''none'\'') from visit where id = '\''$x'\''")" = none &&
	by_rep >rows && grep -qx "boris 1 1" rows && grep -qx "unknown 1 1" rows &&
	# boris sending the very same version later does not change who is credited
	"$FS" --db b.db sync >/dev/null && by_rep | grep -qx "boris 1 1"
'

test_expect_success 'a store used before its enrolment: its visits are its rep'\''s, and no one else'\''s' '
	"$FS" --db d.db customer add --code DZ-1 --name "Dzeta" --territory MOW-1 >/dev/null &&
	"$FS" --db d.db visit log DZ-1 --outcome "before enrolment" >/dev/null &&
	old=$(meta d.db replica_id) && enroll dasha d.db MOW-1 && "$FS" --db d.db sync >/dev/null &&
	test "$(meta d.db replica_id)" != "$old" &&
	by_rep | grep -qx "dasha 1 1" &&
	test "$(q "select device from replica_owners where replica = '\''$old'\''")" = "$(meta d.db replica_id)" &&
	cust=$(q "select id from customer where code = '\''DZ-1'\''") && x=$(id32) && h=$(( $(date +%s%3N) * 1024 )) &&
	jq -cn --arg id "$x" --arg c "$cust" --arg rid "$old" --argjson h "$h" --arg d "$D" \
		"{v: 1, records: [{t: \"payment\", id: \$id, vv: {(\$rid): 9}, h: \$h, scope: \"MOW-1\",
		  f: {customer_id: \$c, date: \$d, received: 100},
		  d: [[\$rid, 9, \$h, [\"customer_id\", \"date\", \"received\"]]]}]}" >claim.json &&
	curl -s -H "Authorization: Bearer $(meta a.db device_token)" -H "Content-Type: application/json" \
		--data-binary @claim.json "$HQ_URL/v1/push" | jq -e ".results[0].ok == true" &&
	test "$(q "select coalesce(author_rep, '\''none'\'') from payment where id = '\''$x'\''")" = none
'

test_expect_success 'a plan HQ makes for a rep reaches that rep'\''s devices only' '
	p=$("$FSD" --db "$HQ_DB" plan add AC-1 --rep boris --date "$D" --time 15:00) &&
	test ${#p} = 32 &&
	test "$(q "select assignee || '\'' '\'' || status from visit where id = '\''$p'\''")" = "boris planned" &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	"$FS" --db b.db --json visit show "$p" | jq -e ".visit.status == \"planned\"" >/dev/null &&
	test_status 3 "$FS" --db a.db visit show "$p" &&
	by_rep | grep -qx "boris 2 1"
'

test_expect_success 'the assigned rep logs the plan: it is theirs, done' '
	"$FS" --db b.db visit log AC-1 --date "$D" --outcome "as planned" >/dev/null &&
	"$FS" --db b.db --json visit show "$p" | jq -e ".visit.status == \"done\"" >/dev/null &&
	"$FS" --db b.db sync >/dev/null &&
	by_rep >rows && grep -qx "boris 2 2" rows && grep -qx "anna 3 3" rows
'

test_expect_success 'plan add refuses a rep who does not cover the customer, and says why' '
	test_status 2 "$FSD" --db "$HQ_DB" plan add SH-1 --rep anna --date "$D" 2>err &&
	grep -q "anna does not cover territory SHA-1" err &&
	test_status 3 "$FSD" --db "$HQ_DB" plan add AC-1 --rep nobody --date "$D" 2>err && grep -q "no rep" err &&
	test_status 2 "$FSD" --db "$HQ_DB" plan add AC-1 --rep anna 2>err && grep -q "\-\-date" err &&
	test_status 2 "$FSD" --db "$HQ_DB" plan add AC-1 --rep anna --date 2026-02-30 2>err &&
	test_status 3 "$FSD" --db "$HQ_DB" plan add NO-SUCH --rep anna --date "$D"
'

test_expect_success 'a rep moved to another territory keeps their past visits' '
	"$FSD" --db "$HQ_DB" rep move anna --territory SPB-1 &&
	by_rep | grep -qx "anna 3 3"
'

test_expect_success 'visits HQ stored before it kept authors are "unknown", not spread over reps' '
	q "update visit set author_rep = NULL, author_device = NULL where id in
		(select id from visit where author_rep = '\''anna'\'' order by id limit 1)" &&
	by_rep >rows && grep -qx "anna 2 2" rows && grep -qx "unknown 2 2" rows &&
	"$FSD" --db "$HQ_DB" --json report visits --by rep --month "$M" |
		jq -e "(map(select(.rep != \"(total)\")) | map(.done) | add) == $(q "select count(*) from visit where status = '\''done'\''")"
'

test_done
