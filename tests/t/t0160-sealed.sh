#!/bin/bash
# Sealing at rest: with a key file or a passphrase, the sensitive fields
# (phones, e-mails, notes, money) and the losing values of conflicts are
# sealed in the device's store, which then opens only with the right key.
# Sync works as before: HQ and other devices see the values in clear.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20

secret() { grep -a -l -e "+41 79 555" -e "Private remark" -e "ceo@acme" "$@"; }

test_expect_success 'a store in clear, then its first open with a key file seals it' '
	hq_start && enroll sam s.db T1 &&
	c=$("$FS" --db s.db customer add --name Acme --territory T1 --phone "+41 79 555 01 01" \
		--notes "Private remark" --email ceo@acme.example) &&
	echo "$c" >cid &&
	"$FS" --db s.db visit log "$c" --outcome "met" --collected 12.50 >/dev/null &&
	secret s.db* >/dev/null &&
	FIELDSYNC_KEY_FILE="$TRASH/keys/dev.key" "$FS" --db s.db customer show "$c" >show &&
	grep -q "+41 79 555 01 01" show && grep -q "Private remark" show &&
	test "$(stat -c %a "$TRASH/keys/dev.key")" = 600 && test "$(stat -c %a "$TRASH/keys")" = 700 &&
	test "$(stat -c %s "$TRASH/keys/dev.key")" = 32 &&
	test "$(sql s.db "select typeof(phone) || typeof(notes) || typeof(email) from customer")" = blobblobblob &&
	test "$(sql s.db "select typeof(received) from payment")" = blob &&
	test "$(sql s.db "select typeof(name) || typeof(territory) from customer")" = texttext &&
	! secret s.db*
'

export FIELDSYNC_KEY_FILE="$TRASH/keys/dev.key"
c=$(cat cid)

test_expect_success 'reads, sums and syncs as before; pulled records are sealed too' '
	"$FS" --db s.db --json today --date "$(date +%F)" | jq -e ".[0].outstanding == -1250" >/dev/null &&
	"$FS" --db s.db sync >/dev/null &&
	test "$(sql "$HQ_DB" "select phone from customer where id = '\''$c'\''")" = "+41 79 555 01 01" &&
	(unset FIELDSYNC_KEY_FILE && enroll tim t.db T1 && "$FS" --db t.db sync >/dev/null &&
		test "$(field t.db "$c" notes)" = "Private remark" &&
		"$FS" --db t.db contact add "$c" --name Ann --phone "+41 79 555 02 02" >/dev/null &&
		"$FS" --db t.db sync >/dev/null) &&
	"$FS" --db s.db sync >/dev/null &&
	"$FS" --db s.db --json contact list "$c" | jq -e ".[0].phone == \"+41 79 555 02 02\"" >/dev/null &&
	test "$(sql s.db "select typeof(phone) from contact")" = blob &&
	! secret s.db*
'

test_expect_success 'the losing value of a concurrent edit is sealed as well' '
	(unset FIELDSYNC_KEY_FILE && "$FS" --db t.db customer edit "$c" --notes "Private remark two" >/dev/null &&
		"$FS" --db t.db sync >/dev/null) &&
	"$FS" --db s.db customer edit "$c" --notes "Private remark three" >/dev/null &&
	"$FS" --db s.db sync >/dev/null &&
	test "$("$FS" --db s.db --json conflicts | jq length)" -ge 1 &&
	! secret s.db*
'

test_expect_success 'without the key, or with another, the store does not open' '
	test_status 8 env -u FIELDSYNC_KEY_FILE "$FS" --db s.db customer list 2>err && grep -q "sealed" err &&
	head -c 32 /dev/urandom >other.key && chmod 600 other.key &&
	test_status 8 env FIELDSYNC_KEY_FILE=other.key "$FS" --db s.db customer list 2>err &&
	grep -q "wrong key" err &&
	test_status 8 env -u FIELDSYNC_KEY_FILE FIELDSYNC_PASSPHRASE=guess "$FS" --db s.db customer list 2>err &&
	cp "$FIELDSYNC_KEY_FILE" loose.key && chmod 644 loose.key &&
	test_status 8 env FIELDSYNC_KEY_FILE=loose.key "$FS" --db s.db customer list 2>err &&
	grep -q "readable by others" err
'

test_expect_success 'a passphrase instead of a key file' '
	(unset FIELDSYNC_KEY_FILE && export FIELDSYNC_PASSPHRASE="correct horse" &&
		"$FS" --db p.db customer add --name Pia --territory T1 --phone "+41 79 555 03 03" >/dev/null &&
		test "$(sql p.db "select typeof(phone) from customer")" = blob &&
		test -n "$(sql p.db "select value from meta where key = '\''seal_salt'\''")" &&
		"$FS" --db p.db --json customer list | jq -e ".[0].phone == \"+41 79 555 03 03\"" >/dev/null &&
		! secret p.db* &&
		test_status 8 env FIELDSYNC_PASSPHRASE="wrong horse" "$FS" --db p.db customer list 2>err &&
		grep -q "wrong key" err)
'

test_done
