#!/bin/sh
# HQ's SQLite store made and used by the release's fieldsyncd is upgraded
# in place: this fieldsyncd refuses to serve it before `migrate` if its
# schema is older (and says to run it), `migrate` keeps everything (records,
# reps, devices and their tokens, unused enrolment tokens, quarantine, open
# conflicts, settings, dashboard accounts, the change sequence and the HQ
# replica id), and then this fieldsyncd serves the devices of the release
# (which carry on from their cursors, with the work they did meanwhile) and
# a new device enrolled with a token the old HQ issued. The release's
# fieldsyncd refuses the migrated store if its schema is newer.
. "$(dirname "$0")/lib.sh"

old_hq() { "$FSD_OLD" --db "$HQ_DB" "$@"; }
new_hq() { "$FSD" --db "$HQ_DB" "$@"; }
# login URL NAME PASSWORD: a dashboard session opens (303), /admin/api/me answers
login() {
	rm -f jar && curl -s -c jar "$1/admin/login" >/dev/null &&
	_tk=$(awk '$6 == "fs_login" {print $7}' jar) && test -n "$_tk" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -b jar -c jar --data-urlencode "name=$2" \
		--data-urlencode "password=$3" --data-urlencode "csrf=$_tk" "$1/admin/login")" = 303 &&
	curl -s -b jar "$1/admin/api/me" | jq -e ".csrf | length == 64" >/dev/null
}

test_expect_success 'the release'"'"'s fieldsyncd serves a fleet of the release'"'"'s agents' '
	HQ_DB=$TRASH/hq.db && old_hq init >/dev/null && serve hq "$FSD_OLD" "$HQ_DB" &&
	join "$FS_OLD" "$FSD_OLD" "$hq_URL" anna a.db MOW-1 &&
	join "$FS_OLD" "$FSD_OLD" "$hq_URL" boris b.db MOW-1 &&
	join "$FS_OLD" "$FSD_OLD" "$hq_URL" vera v.db SPB-1 &&
	old_hq customer add --name Acme --territory MOW-1 --code AC-1 >/dev/null &&
	old_hq customer add --name Nevsky --territory SPB-1 --code NV-1 >/dev/null &&
	old_hq customer add --name Volga --territory MOW-1 --code VO-1 >/dev/null &&
	synced "$FS_OLD" a.db &&
	old a.db contact add AC-1 --name "Ivan Petrov" --title Director >/dev/null &&
	old a.db visit log AC-1 --outcome "Winter order" --order "Green tea:24:3.20" --receivable 76.80 --collected 50 >/dev/null &&
	old b.db customer add --name "Kedr Opt" --territory MOW-1 --code KD-2 >/dev/null &&
	synced "$FS_OLD" a.db && synced "$FS_OLD" b.db && synced "$FS_OLD" v.db &&
	old a.db customer edit AC-1 --phone 111 >/dev/null && old b.db customer edit AC-1 --phone 222 >/dev/null &&
	synced "$FS_OLD" a.db && synced "$FS_OLD" b.db && synced "$FS_OLD" a.db &&
	old_hq --json conflicts | jq -e "length == 1" >/dev/null &&
	old a.db customer add --name Intruder --territory SPB-1 >/dev/null &&
	test_status 1 "$FS_OLD" --db a.db sync >/dev/null 2>&1 &&
	old_hq customer edit VO-1 --territory SPB-1 >/dev/null &&
	old b.db customer delete KD-2 >/dev/null &&
	synced "$FS_OLD" a.db && synced "$FS_OLD" b.db && synced "$FS_OLD" v.db &&
	old_hq setting set due-days A=10,B=20 >/dev/null &&
	old_hq admin add maria 2>/dev/null >maria.pw && test -s maria.pw &&
	old_hq rep token anna 2>/dev/null >unused.token && test -s unused.token
'

test_expect_success 'the devices keep working while HQ is down for the upgrade' '
	unserve hq &&
	old a.db customer edit AC-1 --city Moscow >/dev/null &&
	old b.db visit log AC-1 --outcome "Spring order" --order "Black tea:12:5.90" --collected 70.80 >/dev/null &&
	old v.db customer edit VO-1 --grade B >/dev/null &&
	old_hq backup hq-old-backup.db >/dev/null &&
	sqlite3 hq.db ".backup hq-before.db" &&
	old_hq --json rep list >reps-before.json &&
	sql hq.db "select value from hq_meta where key = '\''replica_id'\''; select seq from hq_seq" >id-before
'

test_expect_success 'this fieldsyncd asks for migrate on an older HQ schema, or opens the store as it is' '
	"$FSD" --db fresh-hq.db init >/dev/null &&
	s_old=$(hq_schema hq.db) && s_new=$(hq_schema fresh-hq.db) && echo "$s_old $s_new" >versions &&
	test "$s_old" -le "$s_new" &&
	cp hq-before.db probe.db &&
	if [ "$s_old" -lt "$s_new" ]; then
		refused 6 "fieldsyncd migrate" "$FSD" --db probe.db rep list &&
		refused 6 "fieldsyncd migrate" "$FSD" --db probe.db serve --listen 127.0.0.1:0
	else
		"$FSD" --db probe.db --json rep list | jq -e "length == 3" >/dev/null
	fi
'

test_expect_success 'migrate upgrades it in place and keeps everything; a second migrate changes nothing' '
	new_hq migrate >/dev/null &&
	test "$(hq_schema hq.db)" = "$(cut -d" " -f2 versions)" &&
	test "$(sql hq.db "pragma integrity_check")" = ok &&
	sql hq.db "select value from hq_meta where key = '\''replica_id'\''; select seq from hq_seq" >id-after &&
	diff id-before id-after &&
	for t in MOW-1 SPB-1; do
		records hq-before.db $t hq.db >before.$t && records hq.db $t hq-before.db >after.$t &&
		diff before.$t after.$t || return 1
	done &&
	new_hq --json rep list >reps-after.json &&
	jq -S "map({rep, territories, devices, revoked})" reps-before.json >r1 &&
	jq -S "map({rep, territories, devices, revoked})" reps-after.json >r2 && diff r1 r2 &&
	new_hq --json conflicts | jq -e "length == 1 and .[0].field == \"phone\"" >/dev/null &&
	new_hq --json quarantine | jq -e "length == 1 and .[0].rep == \"anna\"" >/dev/null &&
	new_hq --json setting show | jq -e ".[] | select(.key == \"due-days\") | .value | startswith(\"A=10,B=20\")" >/dev/null &&
	new_hq --json admin list | jq -e ".[0].admin == \"maria\"" >/dev/null &&
	sql hq.db .dump >dump1 && new_hq migrate >/dev/null && sql hq.db .dump >dump2 && cmp dump1 dump2
'

test_expect_success 'this fieldsyncd serves the release'"'"'s devices on: they push their work and carry on from their cursors' '
	serve hq "$FSD" "$HQ_DB" &&
	about hq | jq -e --arg r "$(head -n 1 id-before)" ".replica == \$r" >/dev/null &&
	for d in a b v; do "$FS_OLD" --db $d.db --json sync >$d.json || return 1; done &&
	jq -e ".resynced == 0 and .rejected == 0 and .pushed >= 1" a.json b.json v.json >/dev/null &&
	test "$(hfield "$FSD" AC-1 city)" = Moscow && test "$(hfield "$FSD" VO-1 grade)" = B &&
	test "$(sql hq.db "select count(*) from visit where outcome = '\''Spring order'\''")" = 1 &&
	test "$(sql hq.db "select sum(received) from payment")" = 12080 &&
	login "$hq_URL" maria "$(cat maria.pw)"
'

test_expect_success 'a token the old HQ issued enrols this agent; it gets the whole territory' '
	new c.db init --server "$hq_URL" --token "$(cat unused.token)" >/dev/null &&
	synced "$FS" c.db &&
	test "$(cfield "$FS" c.db AC-1 city)" = Moscow &&
	new c.db --json conflicts | jq -e "length == 1" >/dev/null &&
	test "$(sql c.db "select count(*) from visit")" = 2
'

test_expect_success 'the fleet goes on: HQ resolves the old conflict, devices of both generations edit' '
	k=$(new_hq --json conflicts | jq -r ".[0].id") && new_hq conflicts resolve "$k" --keep loser >/dev/null &&
	new c.db customer edit AC-1 --address "Tverskaya 1" >/dev/null &&
	old b.db customer edit AC-1 --grade A >/dev/null &&
	new_hq customer add --name "After the upgrade" --territory MOW-1 --code AU-1 >/dev/null &&
	synced "$FS" c.db && synced "$FS_OLD" b.db && synced "$FS_OLD" a.db &&
	for d in "$FS_OLD a.db" "$FS_OLD b.db" "$FS c.db"; do
		set -- $d
		"$1" --db "$2" --json conflicts | jq -e "length == 0" >/dev/null || return 1
		test "$(cfield "$1" "$2" AU-1 name)" = "After the upgrade" || return 1
	done
'

test_expect_success 'the release'"'"'s fieldsyncd refuses the migrated store if it is newer, or still serves it' '
	set -- $(cat versions) &&
	if [ "$1" -lt "$2" ]; then
		refused 6 "newer than this fieldsyncd" "$FSD_OLD" --db hq.db rep list &&
		refused 6 "newer than this fieldsyncd" "$FSD_OLD" --db hq.db serve --listen 127.0.0.1:0
	else
		"$FSD_OLD" --db hq.db --json rep list | jq -e "length == 3" >/dev/null
	fi
'

test_expect_success 'a backup the release took restores under this fieldsyncd and migrates' '
	"$FSD" --db restored.db restore hq-old-backup.db >/dev/null &&
	"$FSD" --db restored.db migrate >/dev/null &&
	test "$(hq_schema restored.db)" = "$(cut -d" " -f2 versions)" &&
	"$FSD" --db restored.db --json rep list | jq -e "length == 3" >/dev/null &&
	test "$(sql restored.db "select count(*) from customer")" = "$(sql hq-before.db "select count(*) from customer")"
'

test_expect_success 'every device holds exactly HQ'"'"'s records' '
	synced "$FS" c.db && synced "$FS_OLD" b.db && synced "$FS_OLD" a.db && synced "$FS_OLD" v.db &&
	synced "$FS" c.db && synced "$FS_OLD" b.db &&
	converged "$HQ_DB" a.db MOW-1 && converged "$HQ_DB" b.db MOW-1 &&
	converged "$HQ_DB" c.db MOW-1 && converged "$HQ_DB" v.db SPB-1
'

test_done
