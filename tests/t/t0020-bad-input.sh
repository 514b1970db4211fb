#!/bin/bash
# Every bad input gets a one-line error naming the field, exit 2 (3 for an
# unknown id), and leaves the store exactly as it was. Cases: tests/data/bad-input.tsv.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_DB="$TRASH/s.db"

C=$("$FS" customer add --name "C1" --territory T1)
# two ids sharing a prefix, for the ambiguity case
for id in abcd0000000000000000000000000000 abcd1111111111111111111111111111; do
	sqlite3 "$FIELDSYNC_DB" "INSERT INTO customer (id, name, territory, scope, vv, dots, hlc)
		VALUES ('$id', 'twin', 'T1', 'T1', '00000000000000000000000000000001:1', '0:1:1=name,territory', 1)"
done
AMBIG=abcd
LONG=$(printf 'X%.0s' $(seq 1 201))
V=$("$FS" plan "$C" --date 2026-11-23 | cut -c1-32)
snapshot() { store_dump "$FIELDSYNC_DB"; }

while IFS='	' read -r want msg args; do
	case "$want" in ''|\#*) continue ;; esac
	test_expect_success "exit $want: $args" '
		snapshot >before &&
		eval "set -- $args" &&
		"$FS" "$@" >out 2>err; got=$?
		if [ "$got" -ne "$want" ]; then echo "exit $got, wanted $want"; cat err; return 1; fi
		grep -qF -- "$msg" err || { echo "error does not mention \"$msg\":"; cat err; return 1; }
		test "$(wc -l <err)" -le 2 || { echo "more than a short message:"; cat err; return 1; }
		snapshot >after && cmp -s before after || { echo "store changed"; diff before after | head; return 1; }
	'
done <"$FIELDSYNC_TOP/tests/data/bad-input.tsv"

test_expect_success 'a store from a newer fieldsync is refused, untouched' '
	cp "$FIELDSYNC_DB" newer.db && sqlite3 newer.db "PRAGMA user_version = 99" &&
	cp newer.db newer.orig &&
	test_status 6 "$FS" --db newer.db customer list 2>err &&
	grep -q "newer" err && cmp -s newer.db newer.orig
'

test_expect_success 'a file that is not a store is refused' '
	echo "hello" >not.db && ! "$FS" --db not.db customer list 2>err && grep -q "not" err &&
	sqlite3 other.db "create table x(a)" && ! "$FS" --db other.db customer list 2>err &&
	grep -q "not a fieldsync store" err
'

test_expect_success 'a missing store is reported, not created, by reading commands' '
	test_status 3 "$FS" --db missing.db today 2>err && ! test -e missing.db
'

test_done
