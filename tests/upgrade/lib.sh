# tests/upgrade/lib.sh - the library of the upgrade scenarios: tests/lib.sh,
# plus the binaries of the last release beside this tree's.
#   FS, FSD          this tree's fieldsync and fieldsyncd ($FIELDSYNC_BUILD)
#   FS_OLD, FSD_OLD  the release's ($FIELDSYNC_OLD_BUILD, built from the tag
#                    $FIELDSYNC_OLD_TAG by tools/build-release.sh; make
#                    check-upgrade and make check build it first)
# A scenario runs the two generations side by side on real stores and real
# servers, then checks that every device holds exactly HQ's records of its
# territories (converged). It speaks to the old binaries only through what
# the release already had: its command line, its wire and its files.
# UPGRADE_DIR: this directory (the scripts run in a scratch directory)
UPGRADE_DIR=$(cd "$(dirname "$0")" && pwd)
. "$UPGRADE_DIR/../lib.sh"
# each scenario chooses its HQ store itself
unset FIELDSYNC_HQ_PG
export FIELDSYNC_RETRY_MS=20
# make passes the release; a script run by hand takes the Makefile's default
: "${FIELDSYNC_OLD_TAG:=$(sed -n 's/^UPGRADE_FROM *?= *//p' "$FIELDSYNC_TOP/Makefile")}"
: "${FIELDSYNC_OLD_BUILD:=$FIELDSYNC_TOP/build/release/$FIELDSYNC_OLD_TAG/build}"
FS_OLD="$FIELDSYNC_OLD_BUILD/fieldsync"
FSD_OLD="$FIELDSYNC_OLD_BUILD/fieldsyncd"
OLD_TAG=$FIELDSYNC_OLD_TAG

# No release, no scenario: a failure, never a skip.
if [ ! -x "$FS_OLD" ] || [ ! -x "$FSD_OLD" ]; then
	echo "not ok 1 - release $OLD_TAG is built in $FIELDSYNC_OLD_BUILD"
	echo "#   no fieldsync/fieldsyncd there: make check-upgrade builds them (tools/build-release.sh)"
	echo "1..1"
	exit 1
fi

# old STORE ARGS... / new STORE ARGS...: the release's agent, this tree's
# agent, on a device store
old() {
	_s=$1
	shift
	"$FS_OLD" --db "$_s" "$@"
}
new() {
	_s=$1
	shift
	"$FS" --db "$_s" "$@"
}

# cfield AGENT STORE CUSTOMER FIELD: a customer's field as that agent shows it
cfield() {
	"$1" --db "$2" --json customer show "$3" | jq -r --arg f "$4" '.customer[$f] // ""'
}

# hfield HQBIN CUSTOMER FIELD: the same at HQ ($HQ_DB), by an HQ binary
hfield() {
	"$1" --db "$HQ_DB" --json customer show "$2" | jq -r --arg f "$3" '.[$f] // ""'
}

# serve NAME FSDBIN DB [ARGS]: FSDBIN serves DB on 127.0.0.1 at a port the
# kernel picks (the same port again when NAME is restarted: devices know
# it); sets NAME_URL and NAME_PID. Stopped at exit; the log is NAME.log.
serve() {
	_name=$1 _bin=$2 _db=$3
	shift 3
	eval "_port=\${${_name}_PORT:-0}"
	rm -f "$TRASH/$_name.port"
	"$_bin" --db "$_db" serve --listen "127.0.0.1:$_port" --port-file "$TRASH/$_name.port" \
		"$@" 2>>"$TRASH/$_name.log" &
	_pid=$!
	_n=0
	while [ ! -s "$TRASH/$_name.port" ]; do
		_n=$((_n + 1))
		if [ $_n -gt 200 ] || ! kill -0 "$_pid" 2>/dev/null; then
			echo "$_name ($_bin) did not start" >&2
			cat "$TRASH/$_name.log" >&2
			return 1
		fi
		sleep 0.05
	done
	_port=$(cat "$TRASH/$_name.port")
	eval "${_name}_PORT=$_port ${_name}_PID=$_pid ${_name}_URL=http://127.0.0.1:$_port"
	test_at_exit "kill $_pid 2>/dev/null; wait $_pid 2>/dev/null"
}

# about NAME: what server NAME runs, as JSON {version, replica, store}.
# A release that still answers it on /v1/health says so there; a newer
# server tells anyone only "ok" and names itself in its start log line.
about() {
	eval "_url=\$${1}_URL"
	_h=$(curl -sf "$_url/v1/health") || return 1
	if echo "$_h" | jq -e 'has("version")' >/dev/null; then
		echo "$_h"
		return
	fi
	sed -n 's/.*listening on .*, version \([^,]*\), HQ replica \([0-9a-f]*\), \([a-z]*\) store.*/{"version": "\1", "replica": "\2", "store": "\3"}/p' \
		"$TRASH/$1.log" | tail -n 1
}

# unserve NAME: stop it (SIGTERM, as an operator would)
unserve() {
	eval "_pid=\${${1}_PID:-}"
	[ -n "$_pid" ] || return 0
	kill "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	eval "${1}_PID="
	return 0
}

# join AGENT HQBIN URL REP STORE TERRITORIES: a rep (created by HQBIN on
# $HQ_DB if new, else a new token for it) and STORE enrolled by AGENT at URL
join() {
	_tok=$("$2" --db "$HQ_DB" rep add "$4" --territory "$6" 2>/dev/null) ||
		_tok=$("$2" --db "$HQ_DB" rep token "$4" 2>/dev/null) || return 1
	"$1" --db "$5" init --server "$3" --token "$_tok" --name "$4-$(basename "$5" .db)" >/dev/null
}

# point STORE URL: send the device's next syncs to another server of the
# same HQ (what a load balancer does between requests)
point() {
	sqlite3 -cmd ".timeout 20000" "$1" "update meta set value = '$2' where key = 'server_url'"
}

# synced AGENT STORE: a sync that must succeed with nothing refused
synced() {
	"$1" --db "$2" sync >/dev/null 2>"$TRASH/sync.err" ||
		{ echo "sync of $2 by $1 failed:" >&2; cat "$TRASH/sync.err" >&2; return 1; }
}

# refused STATUS TEXT COMMAND...: COMMAND fails with exit STATUS and says
# TEXT on its standard error (what a binary must do with a store or a
# peer it does not support)
refused() {
	_st=$1 _txt=$2
	shift 2
	"$@" 2>"$TRASH/refused.err"
	_got=$?
	[ "$_got" = "$_st" ] && grep -q -- "$_txt" "$TRASH/refused.err" && return 0
	echo "expected exit $_st and \"$_txt\", got $_got: $*" >&2
	cat "$TRASH/refused.err" >&2
	return 1
}

# user_version FILE: a device store's schema version
user_version() {
	sqlite3 "$1" "pragma user_version"
}
# hq_schema STORE: an HQ store's schema version
hq_schema() {
	sql "$1" "select value from hq_meta where key = 'schema'"
}

# The record tables a replica holds, and the columns that are not the same
# between replicas that have converged: HQ's seq and origin, a device's
# hqseq, and the scope the comparison selects on.
REC_TABLES="customer contact visit order_line payment conflict"
_rec_skip="'seq', 'origin', 'scope', 'hqseq'"
_rec_in="'customer', 'contact', 'visit', 'order_line', 'payment', 'conflict'"

# _rec_columns STORE: "table column" of each record table, sorted
_rec_columns() {
	case "$1" in
	postgres*) sql "$1" "select table_name || ' ' || column_name from information_schema.columns
		where table_schema = current_schema() and table_name in ($_rec_in)
		and column_name not in ($_rec_skip)" ;;
	*) sql "$1" "select m.name || ' ' || p.name from sqlite_master m, pragma_table_info(m.name) p
		where m.type = 'table' and m.name in ($_rec_in) and p.name not in ($_rec_skip)" ;;
	esac | LC_ALL=C sort
}

# records STORE TERRITORY COLUMNS-FROM: every record of TERRITORY in STORE
# (SQLite file or PostgreSQL URL) with its sync state, in the columns that
# COLUMNS-FROM (another store) has too, by name: two replicas that have
# converged give the same text, and an old device compares with a newer
# HQ on what both generations know: a field only one side has is also left
# out of the field lists of the dots ("R:C:H=f1,f2;..."), where the newer
# side names it. One sqlite3 or psql run for the rows.
records() {
	_rec_columns "$1" >"$TRASH/cols.mine" && _rec_columns "$3" >"$TRASH/cols.theirs" || return 1
	LC_ALL=C comm -12 "$TRASH/cols.mine" "$TRASH/cols.theirs" >"$TRASH/cols.both"
	_strip=$(LC_ALL=C comm -23 "$TRASH/cols.mine" "$TRASH/cols.theirs" | awk '{print $2}' | sort -u |
		awk '{printf "s/,%s([,;|])/\\1/g; s/,%s$//; s/=%s,/=/g; ", $1, $1, $1}')
	for _tbl in $REC_TABLES; do
		_c=$(sed -n "s/^$_tbl //p" "$TRASH/cols.both" | paste -s -d, -)
		[ -n "$_c" ] || { echo "records: no columns of $_tbl in both $1 and $3" >&2; return 1; }
		echo "select '== $_tbl';"
		echo "select $_c from $_tbl where scope = '$2' order by id;"
	done >"$TRASH/records.sql"
	case "$1" in
	postgres*) psql -X -q -tA -v ON_ERROR_STOP=1 -d "$1" -f "$TRASH/records.sql" ;;
	*) sqlite3 -cmd ".timeout 20000" "$1" <"$TRASH/records.sql" ;;
	esac | sed -E "${_strip:-}"
}

# converged HQSTORE DEVICE TERRITORIES: the device holds exactly HQ's
# records of each of its territories (comma-separated), sync state
# included, and nothing of any other territory; prints a diff if not.
converged() {
	_in=$(echo "$3" | sed "s/[^,][^,]*/'&'/g")
	for _terr in $(echo "$3" | tr ',' ' '); do
		records "$1" "$_terr" "$2" >"$TRASH/conv.hq" || return 1
		records "$2" "$_terr" "$1" >"$TRASH/conv.dev" || return 1
		grep -q -v '^== ' "$TRASH/conv.hq" || { echo "HQ has no records in $_terr" >&2; return 1; }
		cmp -s "$TRASH/conv.hq" "$TRASH/conv.dev" ||
			{ echo "$2 differs from HQ in $_terr:" >&2; diff "$TRASH/conv.hq" "$TRASH/conv.dev" | head -n 20 >&2; return 1; }
	done
	_q=""
	for _tbl in $REC_TABLES; do
		_q="$_q${_q:+ union all }select '$_tbl' t, count(*) n from $_tbl where scope is null or scope not in ($_in)"
	done
	_out=$(sql "$2" "select t, n from ($_q) where n > 0") || return 1
	[ -z "$_out" ] || { echo "$2 holds rows outside $3: $_out" >&2; return 1; }
}
