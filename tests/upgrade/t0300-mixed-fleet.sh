#!/bin/sh
# A mixed fleet: in one territory, anna still runs the release's agent and
# boris this one, both against this fieldsyncd; vera (the other territory)
# runs the release's. The story of tests/upgrade/story.sh, then the two
# generations editing the same records at the same time: a contact edited
# on both sides (different fields, then the same one), a contact deleted on
# one side while edited on the other, a visit missed on one side while
# planned anew on the other, and both laptops' days of work pushed
# concurrently. Everything converges.
. "$(dirname "$0")/lib.sh"
HQBIN=$FSD A_AG=$FS_OLD B_AG=$FS V_AG=$FS_OLD
. "$UPGRADE_DIR/story.sh"

test_expect_success 'one contact edited by both generations: different fields merge, the same field clashes' '
	B contact add KD-2 --name "Olga" --role influencer >/dev/null && sync_all b a &&
	olga=$(A --json contact list KD-2 | jq -r ".[] | select(.name == \"Olga\") | .id") && test -n "$olga" &&
	A contact edit "$olga" --title "Buyer" --notes "old side" >/dev/null &&
	B contact edit "$olga" --email olga@kedr.example --notes "new side" >/dev/null &&
	sync_all a b a &&
	for s in "$A_AG a.db" "$B_AG b.db"; do
		set -- $s
		"$1" --db "$2" --json contact list KD-2 >c.json &&
		jq -e --arg id "$olga" ".[] | select(.id == \$id) | .title == \"Buyer\" and .email == \"olga@kedr.example\"" c.json >/dev/null &&
		"$1" --db "$2" --json conflicts | jq -e "map(select(.field == \"notes\")) | length == 1" >/dev/null || return 1
	done &&
	test "$(A --json contact list KD-2 | jq -r ".[] | select(.name == \"Olga\") | .notes")" = \
	     "$(B --json contact list KD-2 | jq -r ".[] | select(.name == \"Olga\") | .notes")" &&
	hq --json conflicts | jq -e "map(select(.field == \"notes\")) | length == 1" >/dev/null
'

test_expect_success 'the old side resolves the new clash; a contact deleted on one side, edited on the other' '
	k=$(A --json conflicts | jq -r ".[0].id") && A conflicts resolve "$k" --keep winner >/dev/null &&
	B contact add KD-2 --name "Pyotr" >/dev/null && sync_all b a &&
	pyotr=$(A --json contact list KD-2 | jq -r ".[] | select(.name == \"Pyotr\") | .id") &&
	A contact delete "$pyotr" >/dev/null &&
	B contact edit "$pyotr" --title "Storekeeper" >/dev/null &&
	sync_all b a b &&
	test "$(count "$HQ_DB" "select deleted || '\''/'\'' || title from contact where id = '\''$pyotr'\''")" = "1/Storekeeper" &&
	! A --json contact list KD-2 | jq -e "map(select(.name == \"Pyotr\")) | length > 0" >/dev/null &&
	! B --json contact list KD-2 | jq -e "map(select(.name == \"Pyotr\")) | length > 0" >/dev/null &&
	hq --json conflicts | jq -e "length == 0" >/dev/null
'

test_expect_success 'a plan missed on the old side while the new side plans again' '
	B plan KD-2 --date 2031-04-01 --purpose "Tasting" >/dev/null && sync_all b a &&
	p=$(A --json visit list --customer KD-2 --status planned | jq -r ".[0].id") && test -n "$p" &&
	A visit miss "$p" --reason "shop closed" >/dev/null &&
	B plan KD-2 --date 2031-04-08 --every week --until 2031-04-29 >/dev/null &&
	sync_all a b a &&
	for s in "$A_AG a.db" "$B_AG b.db"; do
		set -- $s
		"$1" --db "$2" --json visit list --customer KD-2 >v.json &&
		jq -e "map(select(.status == \"missed\")) | length == 1" v.json >/dev/null &&
		jq -e "map(select(.status == \"planned\")) | length == 4" v.json >/dev/null || return 1
	done
'

test_expect_success 'a day of work on both laptops, pushed at the same time, converges' '
	for i in 1 2 3 4 5 6 7 8; do
		A customer add --name "Old side $i" --territory MOW-1 --code OS-$i >/dev/null &&
		A visit log OS-$i --outcome "old visit $i" --order "Tea:$i:1.25" --collected $i >/dev/null &&
		B customer add --name "New side $i" --territory MOW-1 --code NS-$i >/dev/null &&
		B visit log NS-$i --outcome "new visit $i" --order "Tea:$i:1.25" --receivable $i >/dev/null || return 1
	done &&
	A customer edit KD-2 --region Moscow >/dev/null && B customer edit KD-2 --city Moscow >/dev/null ||
		return 1
	"$A_AG" --db a.db sync >a.out 2>&1 & pa=$!
	"$B_AG" --db b.db sync >b.out 2>&1 & pb=$!
	wait $pa; ra=$?; wait $pb; rb=$?
	test $ra -eq 0 && test $rb -eq 0 || { cat a.out b.out; return 1; }
	sync_all a b &&
	test "$(count "$HQ_DB" "select count(*) from customer where code like '\''OS-%'\'' or code like '\''NS-%'\''")" = 16 &&
	test "$(cfield "$A_AG" a.db KD-2 city)" = Moscow && test "$(cfield "$B_AG" b.db KD-2 region)" = Moscow &&
	test "$(count b.db "select count(*) from visit where outcome like '\''old visit %'\''")" = 8 &&
	test "$(count a.db "select count(*) from visit where outcome like '\''new visit %'\''")" = 8
'

test_expect_success 'each generation'"'"'s visits are its own rep'"'"'s at HQ (the old agent'"'"'s too)' '
	test "$(count "$HQ_DB" "select count(*) from visit where outcome like '\''old visit %'\'' and author_rep = '\''anna'\''")" = 8 &&
	test "$(count "$HQ_DB" "select count(*) from visit where outcome like '\''new visit %'\'' and author_rep = '\''boris'\''")" = 8 &&
	test "$(count "$HQ_DB" "select count(*) from order_line where author_rep is null")" = 0
'

test_expect_success 'the new side orders from the price list; the old side syncs on and the SKU stays everywhere' '
	hq product add GT-100 --name "Green tea 100g" --price 3.20 >/dev/null &&
	sync_all b &&
	B --json products | jq -e "length == 1" >/dev/null &&
	v=$(B visit log KD-2 --outcome "list order" --order GT-100:12) &&
	sync_all b a &&
	test "$(count "$HQ_DB" "select sku || '\''/'\'' || list_price || '\''/'\'' || amount from order_line where visit_id = '\''$v'\''")" = "GT-100/320/3840" &&
	test "$(count a.db "select product || '\''/'\'' || amount from order_line where visit_id = '\''$v'\''")" = "Green tea 100g/3840" &&
	A visit show "$v" | grep -q "Green tea 100g" &&
	A customer edit KD-2 --notes "after the list order" >/dev/null &&
	sync_all a b &&
	test "$(count b.db "select sku from order_line where visit_id = '\''$v'\''")" = GT-100
'

test_expect_success 'in the end both generations hold exactly HQ'"'"'s records' '
	sync_all a b v a b v &&
	converged "$HQ_DB" a.db MOW-1 && converged "$HQ_DB" b.db MOW-1 && converged "$HQ_DB" v.db SPB-1 &&
	test "$(count "$HQ_DB" "select count(*) from quarantine")" = 0
'

test_done
