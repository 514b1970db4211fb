#!/bin/sh
# The ledger's reports: a rep's day, planned vs done, collections, the due
# list with HQ's grade intervals (a setting that syncs), and HQ's month.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20

test_expect_success 'HQ and a rep with three customers in MOW-1' '
	hq_start && enroll anna a.db MOW-1 && enroll boris b.db SPB-1 &&
	"$FSD" --db "$HQ_DB" customer add --name "Acme Tea" --code AC-1 --territory MOW-1 --grade A >/dev/null &&
	"$FSD" --db "$HQ_DB" customer add --name "Борис и сыновья" --code BS-2 --territory MOW-1 --grade B \
		--nature wholesaler >/dev/null &&
	"$FSD" --db "$HQ_DB" customer add --name "北京茶行" --code BJ-3 --territory MOW-1 --grade C >/dev/null &&
	"$FSD" --db "$HQ_DB" customer add --name "Nevsky" --code NV-1 --territory SPB-1 --grade A >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null
'

test_expect_success 'a month of plans and a day of visits, offline' '
	"$FS" --db a.db plan AC-1 --date 2026-11-02 --every week --until 2026-11-30 --time 10:00 \
		--purpose "weekly order" >/dev/null &&
	"$FS" --db a.db plan BS-2 --date 2026-11-09 --time 11:00 >/dev/null &&
	"$FS" --db a.db plan BJ-3 --date 2026-11-10 >/dev/null &&
	"$FS" --db a.db visit log AC-1 --date 2026-11-02 --outcome "ordered tea" --met Olga \
		--problem "late delivery" --countermeasure "ship Monday" --action "call Friday" \
		--next 2026-11-09 --order Tea:10:2.50 --order Cups:4:1.25 --receivable 30 --collected 10 \
		--check-in 10:00 --check-out 10:30 >/dev/null &&
	"$FS" --db a.db visit log BS-2 --date 2026-11-09 --outcome "no order" --receivable 100 >/dev/null &&
	"$FS" --db a.db visit log AC-1 --date 2026-11-09 --outcome paid --collected 25 >/dev/null &&
	v=$("$FS" --db a.db --json visit list --date 2026-11-10 | jq -r ".[0].id") &&
	"$FS" --db a.db visit miss "$v" --reason closed >/dev/null
'

test_expect_success 'report day: every field of the visit report and the money on it' '
	"$FS" --db a.db --json report day --date 2026-11-02 >day.json &&
	jq -e "length == 1 and .[0].customer == \"Acme Tea\" and .[0].status == \"done\" and
		.[0].met == \"Olga\" and .[0].outcome == \"ordered tea\" and .[0].problem == \"late delivery\" and
		.[0].countermeasure == \"ship Monday\" and .[0].follow_up == \"call Friday\" and
		.[0].next_date == \"2026-11-09\" and .[0].ordered == 3000 and .[0].receivable == 3000 and
		.[0].received == 1000 and .[0].outstanding == 2000 and (.[0].check_in | test(\"T\"))" day.json &&
	"$FS" --db a.db report day --date 2026-11-02 >day.txt &&
	grep -q "late delivery" day.txt && grep -q "1 visit, 1 done; ordered 30.00, received 10.00, outstanding 20.00" day.txt &&
	"$FS" --db a.db --csv report day --date 2026-11-10 >day.csv &&
	head -1 day.csv | grep -q "^\"planned_time\",\"status\",\"customer\"" &&
	grep -q "\"missed\",\"北京茶行\"" day.csv
'

test_expect_success 'report plan: planned vs done per customer and week, with a total' '
	"$FS" --db a.db --json report plan --month 2026-11 >plan.json &&
	jq -e ".[] | select(.customer == \"Acme Tea\") | .planned == 5 and .done == 2 and .open == 3 and
		.w1 == \"1/1\" and .w2 == \"1/1\" and .w5 == \"0/1\" and .done_pct == 40" plan.json &&
	jq -e ".[] | select(.customer == \"北京茶行\") | .missed == 1 and .done == 0 and .w2 == \"0/1\"" plan.json &&
	jq -e ".[-1] | .customer == \"(total)\" and .planned == 7 and .done == 3 and .missed == 1" plan.json &&
	"$FS" --db a.db --json report plan --month 2026-10 | jq -e "length == 1 and .[0].planned == 0" &&
	"$FS" --db a.db report plan --month 2026-11 | grep -q "Борис и сыновья"
'

test_expect_success 'report money: by customer, by grade, open amounts oldest first' '
	"$FS" --db a.db --json report money >m.json &&
	jq -e ".[] | select(.code == \"AC-1\") | .ordered == 3000 and .receivable == 3000 and .received == 3500
		and .outstanding == -500" m.json &&
	jq -e ".[] | select(.code == \"BS-2\") | .outstanding == 10000" m.json &&
	"$FS" --db a.db --json report money --by grade >g.json &&
	jq -e ".[-1] | .grade == \"(total)\" and .receivable == 13000 and .received == 3500 and .outstanding == 9500" g.json &&
	"$FS" --db a.db --json report money --by open >o.json &&
	jq -e "length == 1 and .[0].code == \"BS-2\" and .[0].outstanding == 10000" o.json &&
	"$FS" --db a.db --json report money --month 2026-12 | jq -e "length == 0" &&
	"$FS" --db a.db visit log BS-2 --date 2026-11-01 --outcome "old debt" --receivable 7 >/dev/null &&
	"$FS" --db a.db --json report money --by open |
		jq -e "[.[].date] == [\"2026-11-01\", \"2026-11-09\"] and .[0].outstanding == 700" &&
	"$FS" --db a.db visit log BS-2 --date 2026-11-12 --outcome "paid old debt" --collected 7 >/dev/null &&
	"$FS" --db a.db --json report money --by open | jq -e "length == 1 and .[0].date == \"2026-11-09\""
'

test_expect_success 'bad report input: usage errors, exit 2' '
	test_status 2 "$FS" --db a.db report plan --month 2026-13 2>err && grep -q "not a month" err &&
	test_status 2 "$FS" --db a.db report day --date 2026-02-30 2>err &&
	test_status 2 "$FS" --db a.db report money --by colour 2>err && grep -q "customer, grade, open" err &&
	test_status 2 "$FS" --db a.db report weekly 2>err &&
	test_status 2 "$FS" --db a.db report day --month 2026-11 2>err &&
	test_status 2 "$FS" --db a.db due --date yesterday 2>err
'

test_expect_success 'due: default intervals, most overdue first, never visited on top' '
	"$FS" --db a.db --json due --date 2026-11-23 >due.json &&
	jq -e "[.[].code] == [\"BJ-3\", \"AC-1\"] and .[0].overdue_days == null and .[0].last_done == null" due.json &&
	jq -e ".[1] | .interval_days == 7 and .last_done == \"2026-11-09\" and .days_since == 14 and
		.overdue_days == 7 and .next_planned == \"2026-11-23\"" due.json &&
	"$FS" --db a.db --json due --date 2026-11-26 | jq -e "[.[].code] == [\"BJ-3\", \"AC-1\", \"BS-2\"] and .[2].overdue_days == 0" &&
	"$FS" --db a.db --json due --territory SPB-1 --date 2026-11-23 | jq -e "length == 0" &&
	"$FS" --db a.db due --date 2026-11-23 | grep -q "北京茶行" &&
	"$FS" --db a.db --json due --intervals | jq -e ".[0].days == 7 and .[0].source == \"default\""
'

test_expect_success 'HQ changes the intervals; they sync; due and route plan --due follow' '
	test_status 2 "$FSD" --db "$HQ_DB" setting set due-days A=0 2>err && grep -q "1..3650" err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set colour blue 2>err &&
	"$FSD" --db "$HQ_DB" --json setting set due-days "A=20,B=30" |
		jq -e ".[0].value == \"A=20,B=30,C=30,VIP=7,none=30\" and .[0].source == \"HQ\"" &&
	"$FS" --db a.db --json route plan --due --date 2026-11-23 | jq -e ".summary.stops + .summary.unrouted == 2" &&
	"$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db --json due --intervals | jq -e ".[0].days == 20 and .[1].days == 30 and .[0].source == \"HQ\"" &&
	"$FS" --db a.db --json due --date 2026-11-23 | jq -e "[.[].code] == [\"BJ-3\"]" &&
	"$FS" --db a.db --json route plan --due --date 2026-11-23 | jq -e ".summary.stops + .summary.unrouted == 1" &&
	"$FSD" --db "$HQ_DB" setting set due-days "" >/dev/null && "$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db --json due --intervals | jq -e ".[0].days == 7 and .[0].source == \"default\""
'

test_expect_success 'HQ month: visits by rep and territory, composition, money by grade, overdue' '
	"$FS" --db a.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" --json report visits --by rep --month 2026-11 >v.json &&
	jq -e ".[] | select(.rep == \"anna\") | .planned == 9 and .done == 5 and .missed == 1" v.json &&
	jq -e ".[-1].rep == \"(total)\"" v.json &&
	"$FSD" --db "$HQ_DB" --json report visits --by territory --month 2026-11 |
		jq -e ".[0].territory == \"MOW-1\" and .[0].planned == 9" &&
	"$FSD" --db "$HQ_DB" --json report customers --by grade >c.json &&
	jq -e ".[] | select(.grade == \"A\") | .customers == 2 and .pct == 50" c.json &&
	jq -e ".[-1].customers == 4" c.json &&
	"$FSD" --db "$HQ_DB" --json report customers --by nature | jq -e ".[] | select(.nature == \"wholesaler\") | .customers == 1" &&
	"$FSD" --db "$HQ_DB" --json report money --by grade | jq -e ".[-1].outstanding == 9500" &&
	"$FSD" --db "$HQ_DB" --csv report money --by grade | grep -q "^\"(total)\",\"2\"," &&
	"$FSD" --db "$HQ_DB" --json report overdue --date 2026-11-23 >od.json &&
	jq -e "any(.[]; .code == \"NV-1\") and any(.[]; .code == \"AC-1\")" od.json &&
	"$FSD" --db "$HQ_DB" report overdue --territory SPB-1 --date 2026-11-23 | grep -q Nevsky &&
	test_status 2 "$FSD" --db "$HQ_DB" report visits --by colour --month 2026-11 2>err &&
	test_status 2 "$FSD" --db "$HQ_DB" report visits --month 11 2>err &&
	test_status 2 "$FSD" --db "$HQ_DB" report customers --by phone 2>err &&
	test_status 2 "$FSD" --db "$HQ_DB" report nothing 2>err
'

test_done
