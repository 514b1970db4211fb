#!/bin/bash
# fieldsyncd against bad requests: each gets the expected 4xx with a JSON
# error body, the server stays up, and the HQ store is byte for byte the
# same. Cases: tests/data/hq-bad-input.tsv.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20

idle=3
test_expect_success 'HQ and an enrolled device' '
	HQ_ARGS="--timeout $idle" hq_start && enroll anna a.db T1 &&
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
sqlid="x' OR '1'='1" && body "${good/$rec/$sqlid}" sqlid.json
printf '{"v":1,"records":[%s' "$good" >"$F/bigbatch.json"
for i in $(seq 1 1000); do printf ',%s' "$good"; done >>"$F/bigbatch.json"
printf ']}' >>"$F/bigbatch.json"
{ printf '{"v":1,"records":[],"pad":"'; head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' a; printf '"}'; } >"$F/huge.json"
{ printf '{"v":1,"records":[],"pad":"'; head -c $((100 * 1024 * 1024)) /dev/zero | tr '\0' a; printf '"}'; } | gzip -9 >"$F/bomb.gz"
printf '{"v":1,"limit":0}' >"$F/badlimit.json"
printf '{"v":1,"cursor":{"T1":"seven"}}' >"$F/badcursor.json"
printf '{"v":1,"token":"00000000000000000000000000000000"}' >"$F/enroll.json"

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

# Raw requests: framing that curl will not produce. Those whose body must
# be read carry the device's token: without one the body is never read.
crlf() { printf '%s\r\n' "$@"; }
post="POST /v1/push HTTP/1.1"
auth="Authorization: Bearer $TOK"
{ crlf "$post" "Host: x" "Content-Length: 2" "Content-Length: 30" ""; printf '{"v":1,"records":[]}'; } >"$F/twocl.http"
{ crlf "$post" "Host: x" "Content-Length: 20" "Transfer-Encoding: chunked" "" 14; printf '{"v":1,"records":[]}\r\n0\r\n\r\n'; } >"$F/clte.http"
{ crlf "$post" "Host: x" "$auth" "Connection: close" "Content-Length: 5" ""; printf '{"v":1,"records":[]}'; } >"$F/shortcl.http"
{ crlf "$post" "Host: x" "Content-Length: abc" ""; printf '{}'; } >"$F/nancl.http"
{ crlf "$post" "Host: x" "Content-Length: 99999999999999999999999" ""; printf '{}'; } >"$F/hugecl.http"
{ crlf "$post" "Host: x" "$auth" "Transfer-Encoding: chunked" "" "ZZ" "abc" "0" ""; } >"$F/badchunk.http"
{ crlf "$post" "Host: x" "$auth" "Connection: close" "Transfer-Encoding: chunked" "" 3 "abc" 0 ""; } >"$F/chunkjunk.http"
{ crlf "$post" "Host: x" "X-Big: $(head -c 70000 /dev/zero | tr '\0' a)" "Content-Length: 2" ""; printf '{}'; } >"$F/bighdr.http"
{ crlf "GET /v1/health?$(head -c 70000 /dev/zero | tr '\0' a) HTTP/1.1" "Host: x" ""; } >"$F/bigurl.http"
{ crlf "$post" "Host: x" "$auth" "Content-Length: 500" ""; printf '{"v":1,'; } >"$F/longcl.http"
printf 'POST /v1/push HTTP/1.1\r\nHost: x\r\nX-Slow: a' >"$F/slowloris.http"

# Each verb leaves the status in ./status and the body in ./resp.
# (curl may fail to send a body the server refused early: the status counts)
http() { curl -s -o resp -w "%{http_code}" "$@" >status; test "$(cat status)" != 000; }
brute() {
	_n=$1; shift
	for _i in $(seq 1 "$_n"); do http "$@" || return 1; done
}
# raw FILE: one request on a fresh connection; the server closes it after
# answering (Connection: close, or an error) within the wait.
raw() {
	exec 3<>"/dev/tcp/127.0.0.1/$HQ_PORT" || return 1
	cat "$1" >&3
	timeout 10 cat <&3 >answer; _rc=$?
	exec 3<&-
	test $_rc = 0 || { echo "no answer or connection left open (rc $_rc)"; return 1; }
	tr -d '\r' <answer | sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' >status
	tr -d '\r' <answer | sed '1,/^$/d' >resp
}
# hold FILE: the server must hang up on a client that stops mid-request,
# within its idle timeout (--timeout $idle below), without an answer.
hold() {
	exec 3<>"/dev/tcp/127.0.0.1/$HQ_PORT" || return 1
	cat "$1" >&3
	_t0=$(date +%s)
	timeout $((idle + 5)) cat <&3 >answer; _rc=$?
	exec 3<&-
	test $_rc = 0 || { echo "connection still open after $((idle + 5)) s"; return 1; }
	test $(( $(date +%s) - _t0 )) -ge $((idle - 1)) || { echo "closed before the timeout"; return 1; }
	test ! -s answer || { echo "answered:"; head -c 300 answer; return 1; }
	echo closed >status
}

while IFS='	' read -r want code what args; do
	case "$want" in ''|\#*) continue ;; esac
	test_expect_success "$want $code: $what" '
		store_dump "$HQ_DB" >before &&
		eval "set -- $args" &&
		"$@" && got=$(cat status) &&
		{ test "$got" = "$want" || { echo "status $got, wanted $want"; head -c 300 resp; return 1; }; } &&
		{ test "$code" = - || jq -e --arg c "$code" ".error == \$c and (.message | type) == \"string\"" resp >/dev/null ||
			{ echo "not the JSON error $code:"; head -c 300 resp; return 1; }; } &&
		{ test "$(curl -s -o /dev/null -w "%{http_code}" "$URL/v1/health")" != 000 || { echo "server gone"; return 1; }; } &&
		store_dump "$HQ_DB" >after && { cmp -s before after || { echo "store changed"; diff before after | head -5; return 1; }; }
	'
done <"$FIELDSYNC_TOP/tests/data/hq-bad-input.tsv"

test_expect_success 'the brute force above was cut off after 20 tries; 429 says when to retry' '
	n401=$(grep -c " 401 " "$TRASH/hq.log") && test "$n401" -le 20 &&
	for i in $(seq 1 5); do
		curl -s -o /dev/null -w "%{http_code}\n" -X POST -H "Authorization: Bearer $TOK" \
			--data-binary @$F/ok.json "$URL/v1/pull"
	done >codes &&
	test "$(grep -c "^429$" codes)" = 5 &&
	curl -s -D hdr -o resp -X POST --data-binary @$F/ok.json "$URL/v1/pull" &&
	grep -qi "^retry-after:" hdr && jq -e ".error == \"rate_limited\"" resp >/dev/null
'

test_expect_success 'the server is still up and serving after all of it' '
	curl -sf "$URL/v1/health" | jq -e ".status == \"ok\"" >/dev/null && kill -0 "$HQ_PID"
'

test_done
