#!/bin/bash
# fieldsyncd against bad requests: each gets the expected 4xx with a JSON
# error body, the server stays up, and the HQ store is byte for byte the
# same. Cases: tests/data/hq-bad-input.tsv.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20

test_expect_success 'HQ and an enrolled device' '
	hq_start && enroll anna a.db T1 &&
	"$FS" --db a.db customer add --name Acme --territory T1 >/dev/null && "$FS" --db a.db sync >/dev/null
'
TOK=$(sql a.db "select value from meta where key = 'device_token'")
URL=$HQ_URL
F=$TRASH/bodies
mkdir -p "$F"
rec=$(sql a.db "select id from customer limit 1")
rid=$(sql a.db "select value from meta where key = 'replica_id'")
good="{\"t\":\"customer\",\"id\":\"$rec\",\"vv\":{\"$rid\":5},\"h\":1,\"f\":{\"name\":\"X\",\"territory\":\"T1\"},\"d\":[[\"$rid\",5,1,[\"name\",\"territory\"]]]}"
body() { printf '{"v":1,"records":[%s]}' "$1" >"$F/$2"; }
body "$good" ok.json
printf '{"v":1,"records":[' >"$F/malformed.json"
printf '{"v":1,"records":%s' "$(printf '[%.0s' $(seq 1 20))" >"$F/deep.json"
printf '%s' "$(printf ']%.0s' $(seq 1 20))}" >>"$F/deep.json"
printf '{"v":1,"records":[],"note":"\xff\xfe"}' >"$F/badutf8.json"
printf '{"v":1,"records":[],"note":"\\udc00"}' >"$F/surrogate.json"
printf '{"v":1,"records":[],"note":"a\\u0000b"}' >"$F/nul.json"
printf '{"v":1,"v":1,"records":[]}' >"$F/dupkey.json"
printf '{"v":1,"records":[],"n":9007199254740993}' >"$F/bignum.json"
body "${good/\":5\},/\":9007199254740992\},}" bigvv.json
printf '{"v":2,"records":[]}' >"$F/v2.json"
printf '{"records":[]}' >"$F/nov.json"
printf '{"v":1,"records":{}}' >"$F/notarray.json"
body "${good/\"customer\"/\"invoice\"}" badtable.json
body "${good/\"name\":\"X\"/\"colour\":\"red\"}" badfield.json
body "${good/\"h\":1/\"h\":1,\"extra\":true}" badmember.json
body "${good/\"name\":\"X\"/\"name\":42}" wrongtype.json
body "${good/\"name\":\"X\"/\"name\":\"$(printf 'x%.0s' $(seq 1 201))\"}" longname.json
body "${good/\"name\":\"X\"/\"name\":\"X\",\"grade\":\"D\"}" badgrade.json
body "${good/\"name\":\"X\"/\"name\":\"X\",\"monthly_demand\":12.5}" floatmoney.json
body "${good/,5,1,\[/,6,1,[}" badot.json
body "$good,${good/\"customer\"/\"invoice\"}" goodbad.json
printf '{"v":1,"records":[%s' "$good" >"$F/bigbatch.json"
for i in $(seq 1 1000); do printf ',%s' "$good"; done >>"$F/bigbatch.json"
printf ']}' >>"$F/bigbatch.json"
{ printf '{"v":1,"records":[],"pad":"'; head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' a; printf '"}'; } >"$F/huge.json"
{ printf '{"v":1,"records":[],"pad":"'; head -c $((100 * 1024 * 1024)) /dev/zero | tr '\0' a; printf '"}'; } | gzip -9 >"$F/bomb.gz"
printf '{"v":1,"limit":0}' >"$F/badlimit.json"
printf '{"v":1,"cursor":{"T1":"seven"}}' >"$F/badcursor.json"
printf '{"v":1,"token":"00000000000000000000000000000000"}' >"$F/enroll.json"

while IFS='	' read -r want code what args; do
	case "$want" in ''|\#*) continue ;; esac
	test_expect_success "$want $code: $what" '
		store_dump "$HQ_DB" >before &&
		eval "set -- $args" &&
		status=$(curl -s -o resp -w "%{http_code}" "$@") &&
		{ test "$status" = "$want" || { echo "status $status, wanted $want"; head -c 300 resp; return 1; }; } &&
		{ jq -e --arg c "$code" ".error == \$c and (.message | type) == \"string\"" resp >/dev/null ||
			{ echo "not the JSON error $code:"; head -c 300 resp; return 1; }; } &&
		curl -sf "$URL/v1/health" >/dev/null &&
		store_dump "$HQ_DB" >after && cmp -s before after
	'
done <"$FIELDSYNC_TOP/tests/data/hq-bad-input.tsv"

test_expect_success 'SQL metacharacters in every string field are stored and returned byte for byte' '
	nasty="Robert'\''); DROP TABLE customer;-- \"%_\\\\ ¿ 中文 «»" &&
	c=$("$FS" --db a.db customer add --territory T1 --name "$nasty" --code "$nasty" --address "$nasty" \
		--city "$nasty" --notes "$nasty" --phone "$nasty" --payment-terms "$nasty") &&
	"$FS" --db a.db contact add "$c" --name "$nasty" --title "$nasty" >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	enroll boris b.db T1 && "$FS" --db b.db sync >/dev/null &&
	for f in name code address city notes phone payment_terms; do
		got=$("$FS" --db b.db --json customer show "$c" | jq -r ".customer.$f") &&
		test "$got" = "$nasty" || { echo "$f: $got"; return 1; }
	done &&
	test "$(sql "$HQ_DB" "select count(*) from customer")" -ge 2
'

test_expect_success 'integers up to 2^53 - 1 travel exactly (vv counter and money)' '
	id=0123456789abcdef0123456789abcdef &&
	max=9007199254740991 &&
	rec="{\"t\":\"customer\",\"id\":\"$id\",\"vv\":{\"$rid\":$max},\"h\":1,\"f\":{\"name\":\"Edge\",\"territory\":\"T1\",\"monthly_demand\":$max},\"d\":[[\"$rid\",$max,1,[\"name\",\"territory\",\"monthly_demand\"]]]}" &&
	printf "{\"v\":1,\"records\":[%s]}" "$rec" >edge.json &&
	curl -s -X POST -H "Authorization: Bearer $TOK" --data-binary @edge.json "$URL/v1/push" >resp &&
	jq -e ".results[0].ok" resp >/dev/null &&
	test "$(sql "$HQ_DB" "select monthly_demand || \" \" || vv from customer where id = '\''$id'\''")" = "$max $rid:$max" &&
	curl -s -X POST -H "Authorization: Bearer $TOK" --data-binary "{\"v\":1}" "$URL/v1/pull" >pull &&
	grep -q "\"monthly_demand\":$max" pull && grep -q "\"$rid\":$max" pull
'

test_expect_success 'failed authentications are rate limited (429 with Retry-After)' '
	for i in $(seq 1 25); do
		curl -s -o /dev/null -w "%{http_code}\n" -X POST -H "Authorization: Bearer 0123456789abcdef0123456789abcdef" \
			--data-binary @$F/ok.json "$URL/v1/pull"
	done >codes &&
	grep -c "^401$" codes >n401 && test "$(cat n401)" -le 20 && grep -q "^429$" codes &&
	curl -s -D hdr -o resp -X POST --data-binary @$F/ok.json "$URL/v1/pull" &&
	grep -qi "^retry-after:" hdr && jq -e ".error == \"rate_limited\"" resp >/dev/null
'

test_expect_success 'the server is still up and serving after all of it' '
	curl -sf "$URL/v1/health" | jq -e ".status == \"ok\"" >/dev/null && kill -0 "$HQ_PID"
'

test_done
