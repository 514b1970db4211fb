#!/bin/sh
# t0015-cli-kit.sh - every program reads its command line with one kit
# (cli/clikit.c): a mistyped command, subcommand or option is named with
# the closest one, every usage error exits 2, and `fieldsyncd CMD --help`
# shows that command alone.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_DB="$TRASH/rep.db"
HQ_DB="$TRASH/hq.db"

test_expect_success 'fieldsync: a mistyped command, subcommand or option is named' '
	"$FS" customer add --name Acme --territory T1 --code AC-1 >/dev/null &&
	test_status 2 "$FS" custmer list 2>err && grep -q "unknown command .custmer. (did you mean .customer.?)" err &&
	test_status 2 "$FS" customer lst 2>err && grep -q "did you mean .customer list.?" err &&
	test_status 2 "$FS" visit lgo AC-1 2>err && grep -q "did you mean .visit log.?" err &&
	test_status 2 "$FS" customer list --jsn 2>err && grep -q "unknown option --jsn (did you mean --json?)" err &&
	test_status 2 "$FS" customer edit AC-1 --grde A 2>err && grep -q "did you mean --grade?" err &&
	test_status 2 "$FS" visit log AC-1 --colected 5 2>err && grep -q "did you mean --collected?" err &&
	test_status 2 "$FS" --verison 2>err && grep -q "did you mean --version?" err &&
	grep -q "see .fieldsync --help." err
'

test_expect_success 'fieldsync: nothing close, no guess; the command'"'"'s help is named' '
	test_status 2 "$FS" zzzzzz 2>err && grep -q "unknown command .zzzzzz.$" err &&
	test_status 2 "$FS" customer qqqq 2>err &&
	grep -q "unknown subcommand .customer qqqq. (add, edit, show, list, delete, import or history)" err &&
	grep -q "see .fieldsync customer --help." err
'

test_expect_success 'fieldsync: global options anywhere, flags take no value' '
	"$FS" customer --json list | jq -e "length == 1" >/dev/null &&
	"$FS" customer list --json | jq -e ".[0].code == \"AC-1\"" >/dev/null &&
	test_status 2 "$FS" customer list --json=yes 2>err && grep -q "\-\-json takes no value" err &&
	test_status 2 "$FS" customer list --db 2>err && grep -q "\-\-db needs a value" err
'

test_expect_success 'fieldsync: after "--", a word that looks like an option is a word' '
	test_status 2 "$FS" customer show --x 2>err && grep -q "unknown option --x" err &&
	test_status 3 "$FS" customer show -- --x 2>err && grep -q "no customer" err
'

test_expect_success 'fieldsyncd: a mistyped command, subcommand or option is named' '
	"$FSD" --db "$HQ_DB" init >/dev/null &&
	test_status 2 "$FSD" --db "$HQ_DB" reprot visits 2>err && grep -q "did you mean .report.?" err &&
	test_status 2 "$FSD" --db "$HQ_DB" rep lst 2>err && grep -q "did you mean .rep list.?" err &&
	test_status 2 "$FSD" --db "$HQ_DB" report vists 2>err && grep -q "did you mean .report visits.?" err &&
	test_status 2 "$FSD" --db "$HQ_DB" gc --dry-rn 2>err && grep -q "did you mean --dry-run?" err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting shwo 2>err && grep -q "did you mean .setting show.?" err &&
	grep -q "see .fieldsyncd setting --help." err
'

test_expect_success 'fieldsyncd serve: an unknown option is unknown, not "needs a value"' '
	test_status 2 "$FSD" --db "$HQ_DB" serve --bogus 2>err &&
	grep -q "unknown option --bogus$" err && ! grep -q "needs a value" err &&
	test_status 2 "$FSD" --db "$HQ_DB" serve --listn 127.0.0.1:0 2>err && grep -q "did you mean --listen?" err &&
	test_status 2 "$FSD" --db "$HQ_DB" serve --listen 2>err && grep -q "\-\-listen needs a value" err
'

# serve_on ADDR: serve on ADDR in the background until its port is known;
# the port in $port, its pid in $spid
serve_on() {
	rm -f on.port
	"$FSD" --db "$HQ_DB" serve --listen "$1" --port-file on.port 2>serve.err &
	spid=$!
	test_at_exit "kill $spid 2>/dev/null"
	for _i in $(seq 1 100); do test -s on.port && break; sleep 0.05; done
	port=$(cat on.port 2>/dev/null) && test -n "$port"
}
test_expect_success 'serve --listen takes HOST:PORT, a name, :PORT, PORT and [V6]:PORT' '
	for a in localhost:0 :0 0 127.0.0.1:0; do
		serve_on "$a" || { cat serve.err; return 1; }
		curl -sf "http://127.0.0.1:$port/v1/health" | jq -e ".status == \"ok\"" >/dev/null || return 1
		kill $spid && wait $spid || true
	done &&
	if curl -sf -o /dev/null "http://[::1]:1/" 2>/dev/null || ip -6 addr show lo 2>/dev/null | grep -q "::1"; then
		serve_on "[::1]:0" && curl -sf "http://[::1]:$port/v1/health" >/dev/null && kill $spid
	fi &&
	for a in nosuchhost.invalid:80 99999 "[zz]:1" "1.2.3.4.5:80"; do
		test_status 2 "$FSD" --db "$HQ_DB" serve --listen "$a" 2>err && grep -q "bad listen address" err || return 1
	done
'

test_expect_success 'serve on a port in use: "address in use", exit 16, nothing left running' '
	serve_on 127.0.0.1:0 &&
	"$FSD" --db other.db init >/dev/null &&
	test_status 16 "$FSD" --db other.db serve --listen "127.0.0.1:$port" 2>err &&
	grep -q "address in use" err && ! grep -q "I/O" err &&
	test_status 16 "$FSD" --db other.db serve --listen "$port" &&
	kill $spid
'

test_expect_success 'fieldsyncd CMD --help shows that command alone, exit 0' '
	"$FSD" rep --help >out &&
	grep -q "rep add NAME --territory" out && grep -q "rep revoke NAME" out &&
	! grep -q "serve \[" out && ! grep -q "admin add" out &&
	"$FSD" rep add --help >out2 && cmp out out2 &&
	"$FSD" serve --help | grep -q "\-\-tls-cert" &&
	"$FSD" devices --help | grep -q "device list" &&
	"$FSD" --help >all && grep -q "rep add NAME" all && grep -q "serve \[" all && grep -q "Global options" all
'

test_expect_success 'the tools read their options with the same kit' '
	test_status 2 "$TOOLS/gen" --db x.db --custmers 5 2>err && grep -q "did you mean --customers?" err &&
	test_status 1 "$TOOLS/tsplib" --radnom 5 2>err && grep -q "did you mean --random?" err
'

test_done
