# tests/lib.sh - the end-to-end test library (after git's t/test-lib.sh).
# A test script sources this, then calls
#   test_expect_success 'description' 'shell commands'
# and ends with test_done. Output is TAP for prove. Each script runs in its
# own scratch directory, removed at the end unless FIELDSYNC_KEEP is set.
set -u
: "${FIELDSYNC_BUILD:=$(cd "$(dirname "$0")/../../build" && pwd)}"
: "${FIELDSYNC_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
FS="$FIELDSYNC_BUILD/fieldsync"
FSD="$FIELDSYNC_BUILD/fieldsyncd"
TOOLS="$FIELDSYNC_BUILD/tools"
test_count=0
test_failed=0
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-test.XXXXXX")
cd "$TRASH" || exit 1
export HOME="$TRASH/home" XDG_DATA_HOME="$TRASH/home/.local/share" TZ="${TZ:-UTC}"
mkdir -p "$HOME"
unset FIELDSYNC_DB
test_cleanup_hooks=""

test_at_exit() {
	test_cleanup_hooks="$1
$test_cleanup_hooks"
}

_test_cleanup() {
	eval "$test_cleanup_hooks"
	cd /
	[ -n "${FIELDSYNC_KEEP:-}" ] || rm -rf "$TRASH"
}
trap _test_cleanup EXIT
trap 'exit 130' INT TERM

# The body runs in this shell (state such as a started server carries on to
# later tests); it fails with `return 1` or a failing last command.
_test_run() {
	[ -z "${FIELDSYNC_TRACE:-}" ] || set -x
	eval "$1"
}

test_expect_success() {
	test_count=$((test_count + 1))
	_out=$(mktemp "$TRASH/.out.XXXXXX")
	if _test_run "$2" >"$_out" 2>&1; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$_out" | tail -n 40
	fi
	rm -f "$_out"
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
	exit $?
}

# Expect a command to exit with a given status.
test_status() {
	_want=$1
	shift
	"$@"
	_got=$?
	if [ "$_got" -ne "$_want" ]; then
		echo "expected exit $_want, got $_got: $*" >&2
		return 1
	fi
	return 0
}

# Content fingerprint of a store: schema and every row, in one process.
store_dump() {
	sql "$1" .dump
}

# pg_start: a private PostgreSQL 15 for this script (tools/pgtmp.sh: a temp
# dir, the postgres user when run as root, a free loopback port, no fsync);
# sets PG_BASE (a URL without the database). Stopped and removed at exit.
# pg_db NAME: the URL of database NAME, created if new.
pg_start() {
	[ -z "${PG_BASE:-}" ] || return 0
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-pg.XXXXXX") || return 1
	test_at_exit "$FIELDSYNC_TOP/tools/pgtmp.sh stop $PG_DIR"
	PG_BASE=$("$FIELDSYNC_TOP/tools/pgtmp.sh" start "$PG_DIR")
}
pg_db() {
	"$FIELDSYNC_TOP/tools/pgtmp.sh" db "$PG_BASE" "$1"
}

# hq_start [DB]: init (if needed) and run fieldsyncd on 127.0.0.1, a port the
# kernel picks; sets HQ_URL, HQ_PID, HQ_DB. Stopped at exit.
# With FIELDSYNC_HQ_PG=N the store is a database on a private PostgreSQL
# (DB names it: "hq.db" becomes database hq_db) served by N fieldsyncd
# processes; HQ_URLS lists them, HQ_URL is the first, and enroll() hands
# the servers out in turn to the devices it enrols.
hq_start() {
	HQ_DB=${1:-$TRASH/hq.db}
	if [ -n "${FIELDSYNC_HQ_PG:-}" ]; then
		case "$HQ_DB" in
		postgres*) ;;
		*) pg_start && _name=$(basename "$HQ_DB" | tr -c 'a-z0-9\n' '_') &&
			HQ_DB=$(pg_db "$_name") || return 1 ;;
		esac
		"$FSD" --db "$HQ_DB" migrate >/dev/null || return 1
	else
		[ -f "$HQ_DB" ] || "$FSD" --db "$HQ_DB" init >/dev/null || return 1
	fi
	HQ_PID="" HQ_URLS=""
	_k=0
	while [ $_k -lt "${FIELDSYNC_HQ_PG:-1}" ]; do
		_k=$((_k + 1))
		_hq_start_one "$_k" || return 1
	done
	HQ_URL=${HQ_URLS%% *}
	HQ_PORT=${HQ_URL##*:}
}

_hq_start_one() {
	_pf="$TRASH/hq.port.$1"
	rm -f "$_pf"
	# a restarted server keeps its port: devices know it
	eval "_port=\${HQ_PORT_$1:-0}"
	[ "$1" -ne 1 ] || _port=${HQ_PORT:-0}
	"$FSD" --db "$HQ_DB" serve --listen "127.0.0.1:$_port" --port-file "$_pf" \
		${HQ_ARGS:-} 2>>"$TRASH/hq.log" &
	_pid=$!
	_n=0
	while [ ! -s "$_pf" ]; do
		_n=$((_n + 1))
		if [ $_n -gt 200 ] || ! kill -0 "$_pid" 2>/dev/null; then
			echo "fieldsyncd did not start" >&2
			cat "$TRASH/hq.log" >&2
			return 1
		fi
		sleep 0.05
	done
	HQ_PID="${HQ_PID:+$HQ_PID }$_pid"
	eval "HQ_PORT_$1=$(cat "$_pf")"
	HQ_URLS="$HQ_URLS http://127.0.0.1:$(cat "$_pf")"
	HQ_URLS=${HQ_URLS# }
	test_at_exit "kill $_pid 2>/dev/null; wait $_pid 2>/dev/null"
}

hq_stop() {
	for _p in $HQ_PID; do
		kill "$_p" 2>/dev/null
	done
	for _p in $HQ_PID; do
		wait "$_p" 2>/dev/null
	done
	return 0
}

# The server the next device enrols with, in HQ_NEXT: each of HQ_URLS in
# turn (no subshell: the turn must advance).
_hq_next=0
hq_next_url() {
	set -- $HQ_URLS
	_i=$((_hq_next % $# + 1))
	_hq_next=$((_hq_next + 1))
	eval "HQ_NEXT=\${$_i}"
}

# enroll NAME STORE TERRITORIES: a rep (created if new) and an enrolled store.
enroll() {
	_tok=$("$FSD" --db "$HQ_DB" rep add "$1" --territory "$3" 2>/dev/null) ||
		_tok=$("$FSD" --db "$HQ_DB" rep token "$1" 2>/dev/null) || return 1
	hq_next_url
	"$FS" --db "$2" init --server "$HQ_NEXT" --token "$_tok" --name "$1-device" >/dev/null
}

# A customer's field as a store shows it: field STORE ID FIELD
field() {
	"$FS" --db "$1" --json customer show "$2" | jq -r --arg f "$3" '.customer[$f] // ""'
}

# sqlite3 that waits for a writer instead of failing with "database is locked";
# psql (unaligned, no header) for a PostgreSQL HQ store: sql STORE QUERY.
sql() {
	case "$1" in
	postgres*) psql -X -q -tA -v ON_ERROR_STOP=1 -d "$1" -c "$2" ;;
	*) sqlite3 -cmd ".timeout 20000" "$@" ;;
	esac
}

# content STORE TERRITORY: every record of that territory with its sync
# state (vv, dots, siblings, hlc), in a form equal between replicas that
# have converged (device stores and the HQ store alike). One sqlite3 run.
_content_sql=""
content() {
	if [ -z "$_content_sql" ]; then
		for _t in customer contact visit order_line payment conflict; do
			_cols=$(sql "$1" "select group_concat(name, ',') from pragma_table_info('$_t')
				where name not in ('seq', 'origin', 'scope', 'hqseq', 'author_rep', 'author_device', 'assignee', 'distance_m', 'external_id')")
			_content_sql="$_content_sql select '== $_t'; select $_cols from $_t where scope = \$terr order by id;"
		done
	fi
	sql "$1" -cmd ".parameter set \$terr '$2'" "$_content_sql"
}

# rand N: a pseudo-random number in [0, N) from the test's seeded sequence.
_rand_state=${FIELDSYNC_SEED:-12345}
rand() {
	_rand_state=$(( (_rand_state * 1103515245 + 12345) % 2147483648 ))
	echo $(( _rand_state / 65536 % $1 ))
}
