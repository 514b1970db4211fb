#!/bin/sh
# A laptop's store made and used by the release's agent, with work not yet
# synced, is opened by this agent after the update: it migrates the store
# in place (if its schema is older), keeps every record, the enrolment,
# the cursor, the pending changes and the quarantine, and its first sync
# pushes everything. A sealed store (key file) opens with the same key. The
# release's agent then refuses the store if it was migrated to a newer
# schema, with a clear message and exit 6, and leaves it as it is.
. "$(dirname "$0")/lib.sh"

# state STORE: what a device knows of its sync, in a form to compare
state() {
	sql "$1" "select key, value from meta where key in ('replica_id', 'server_url', 'rep', 'hq_id',
		'territories', 'cursor', 'enrolled_at', 'replica_ids_before') order by key;
		select '-- changelog'; select tbl, id from changelog order by seq;
		select '-- quarantine'; select tbl, id, reason, record from quarantine order by tbl, id"
}

# sealed COMMAND...: with the sealed store's key file
sealed() {
	(export FIELDSYNC_KEY_FILE="$TRASH/keys/dev.key" && "$@")
}

test_expect_success 'the release'"'"'s agent works offline, then enrols and syncs with HQ' '
	HQ_DB=$TRASH/hq.db && "$FSD" --db "$HQ_DB" init >/dev/null && serve hq "$FSD" "$HQ_DB" &&
	"$FSD" --db "$HQ_DB" customer add --name Acme --territory MOW-1 --code AC-1 --phone 100 >/dev/null &&
	old a.db customer add --name "Made before enrolment" --territory MOW-1 --code PRE-1 >/dev/null &&
	join "$FS_OLD" "$FSD" "$hq_URL" anna a.db MOW-1 &&
	join "$FS_OLD" "$FSD" "$hq_URL" boris b.db MOW-1 &&
	synced "$FS_OLD" a.db && synced "$FS_OLD" b.db &&
	test "$(cfield "$FS_OLD" b.db PRE-1 name)" = "Made before enrolment"
'

test_expect_success 'it keeps working offline: edits, a contact, a visit with an order and a payment, a delete, a refusal' '
	old a.db customer add --name Intruder --territory SPB-1 --code IN-1 >/dev/null &&
	test_status 1 "$FS_OLD" --db a.db sync >/dev/null 2>&1 &&
	old a.db --json quarantine | jq -e "length == 1" >/dev/null &&
	old a.db customer edit AC-1 --phone 200 --city Moscow >/dev/null &&
	old a.db contact add AC-1 --name "Ivan Petrov" --title Director >/dev/null &&
	old a.db plan AC-1 --date 2031-03-03 --purpose Review >/dev/null &&
	old a.db visit log AC-1 --outcome "Winter order" --order "Green tea:24:3.20" --order "Black tea:12:5.90" \
		--receivable 147.60 --collected 100 >/dev/null &&
	old a.db customer add --name "Made offline" --territory MOW-1 --code OFF-1 >/dev/null &&
	old a.db customer delete PRE-1 >/dev/null &&
	"$FSD" --db "$HQ_DB" customer edit AC-1 --phone 300 >/dev/null &&
	old a.db --json status >st.json && pending=$(jq .pending st.json) && echo "$pending" >pending &&
	test "$pending" -ge 7 && jq -e ".quarantined == 1" st.json >/dev/null &&
	sqlite3 a.db ".backup a-before.db" && state a.db >state-before
'

test_expect_success 'a sealed store made by the release'"'"'s agent, with pending work' '
	sealed join "$FS_OLD" "$FSD" "$hq_URL" sasha s.db MOW-1 && sealed synced "$FS_OLD" s.db &&
	sealed old s.db customer add --name "Sealed Co" --territory MOW-1 --code SE-1 --phone "+41 79 555 01 01" \
		--notes "Private remark" >/dev/null &&
	sealed old s.db visit log SE-1 --outcome "met" --collected 12.50 >/dev/null &&
	test "$(sql s.db "select typeof(phone) || typeof(notes) from customer where code = '\''SE-1'\''")" = blobblob &&
	! grep -a -q -e "+41 79 555" -e "Private remark" s.db*
'

test_expect_success 'this agent opens it: migrated in place, every record, its enrolment and its pending work kept' '
	new fresh.db customer add --name Fresh --territory T >/dev/null &&
	uv_old=$(user_version a.db) && uv_new=$(user_version fresh.db) &&
	echo "$uv_old $uv_new" >versions && test "$uv_old" -le "$uv_new" &&
	new a.db --json status >st.json &&
	test "$(user_version a.db)" = "$uv_new" &&
	jq -e --argjson p "$(cat pending)" ".pending == \$p and .quarantined == 1 and .rep == \"anna\"" st.json >/dev/null &&
	state a.db >state-after && diff state-before state-after &&
	for t in MOW-1 SPB-1; do
		records a-before.db $t a.db >before.$t && records a.db $t a-before.db >after.$t &&
		diff before.$t after.$t || return 1
	done &&
	test "$(cfield "$FS" a.db AC-1 phone)" = 200 && test "$(cfield "$FS" a.db AC-1 city)" = Moscow &&
	! new a.db customer show PRE-1 >/dev/null 2>&1
'

test_expect_success 'its first sync pushes everything the release'"'"'s agent left pending' '
	new a.db --json sync >sync.json &&
	jq -e ".rejected == 0 and .pushed >= $(cat pending)" sync.json >/dev/null &&
	new a.db --json status | jq -e ".pending == 0" >/dev/null &&
	test "$(hfield "$FSD" AC-1 city)" = Moscow && test "$(hfield "$FSD" OFF-1 name)" = "Made offline" &&
	test "$(sql "$HQ_DB" "select deleted from customer where code = '\''PRE-1'\''")" = 1 &&
	test "$(sql "$HQ_DB" "select count(*) from visit")" = 2 &&
	test "$(sql "$HQ_DB" "select count(*) from order_line")" = 2 &&
	test "$(sql "$HQ_DB" "select received from payment")" = 10000 &&
	test "$(sql "$HQ_DB" "select title from contact")" = Director
'

test_expect_success 'the clash with HQ made while the laptop was offline is a conflict on both sides' '
	w=$(hfield "$FSD" AC-1 phone) && test "$(cfield "$FS" a.db AC-1 phone)" = "$w" &&
	new a.db --json conflicts | jq -e "length == 1 and .[0].field == \"phone\"" >/dev/null &&
	"$FSD" --db "$HQ_DB" --json conflicts | jq -e "length == 1" >/dev/null
'

test_expect_success 'the sealed store opens with its key under this agent and syncs; HQ has the values in clear' '
	refused 8 sealed "$FS" --db s.db customer list &&
	sealed new s.db --json customer show SE-1 >se.json &&
	jq -e ".customer.phone == \"+41 79 555 01 01\" and .customer.notes == \"Private remark\"" se.json >/dev/null &&
	sealed synced "$FS" s.db &&
	test "$(hfield "$FSD" SE-1 notes)" = "Private remark" &&
	test "$(sql "$HQ_DB" "select received from payment where customer_id = (select id from customer where code = '\''SE-1'\'')")" = 1250 &&
	! grep -a -q -e "+41 79 555" -e "Private remark" s.db*
'

test_expect_success 'the release'"'"'s agent refuses a store migrated past it, or still uses one it can read' '
	set -- $(cat versions) &&
	if [ "$1" -lt "$2" ]; then
		sql a.db .dump >dump-before &&
		refused 6 "newer than this fieldsync" "$FS_OLD" --db a.db customer list &&
		refused 6 "newer than this fieldsync" "$FS_OLD" --db a.db sync &&
		sql a.db .dump >dump-after && cmp dump-before dump-after
	else
		old a.db customer edit OFF-1 --city Tver >/dev/null && synced "$FS_OLD" a.db &&
		test "$(hfield "$FSD" OFF-1 city)" = Tver
	fi
'

test_expect_success 'every device holds exactly HQ'"'"'s records' '
	synced "$FS" a.db && synced "$FS_OLD" b.db && synced "$FS" a.db && synced "$FS_OLD" b.db &&
	sealed synced "$FS" s.db &&
	converged "$HQ_DB" a.db MOW-1 && converged "$HQ_DB" b.db MOW-1 &&
	test "$(cfield "$FS_OLD" b.db OFF-1 name)" = "Made offline"
'

test_done
