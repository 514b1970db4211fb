#!/bin/bash
# bench-gc.sh BUILD_DIR - garbage collection at HQ and the retention purge on
# a device, on generated data (tools/gen; BENCH_CUSTOMERS, default 10000, and
# BENCH_VISITS, default 100000, as `make bench`).
#
# A device pushes everything to a fresh HQ; then one row in ten of visit,
# order_line and payment is marked deleted at HQ (directly: collection reads
# only deleted, scope and seq) and the device is made lapsed, so that every
# tombstone is collectable. Prints the median of 3 `fieldsyncd gc` runs, each
# on a fresh copy of that HQ store, and of 3 `fieldsync purge --dry-run` on
# the device, with `fieldsync status` on the same store for scale.
set -eu

build=$(cd "${1:?usage: tools/bench-gc.sh BUILD_DIR}" && pwd)
customers=${BENCH_CUSTOMERS:-10000} visits=${BENCH_VISITS:-100000}
FS=$build/fieldsync FSD=$build/fieldsyncd
work=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ms() {	# ms COMMAND...: wall time of one run in milliseconds
	local s e
	s=$(date +%s%N)
	"$@" >/dev/null
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}

cd "$work"
"$build/tools/gen" --db dev.db --territory MOW-1 --customers "$customers" --visits "$visits" --date "$(date -u +%F)" --quiet
"$FSD" --db hq.db init >/dev/null
"$FSD" --db hq.db serve --listen 127.0.0.1:0 --port-file port 2>hq.log &
pid=$!
while [ ! -s port ]; do sleep 0.05; done
tok=$("$FSD" --db hq.db rep add bench --territory MOW-1 2>/dev/null)
"$FS" --db dev.db init --force --server "http://127.0.0.1:$(cat port)" --token "$tok" >/dev/null
"$FS" --db dev.db sync >/dev/null
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=

records=$(sqlite3 hq.db "select (select count(*) from customer) + (select count(*) from contact) +
	(select count(*) from visit) + (select count(*) from order_line) + (select count(*) from payment)")
sqlite3 hq.db "update visit set deleted = 1 where rowid % 10 = 0; update order_line set deleted = 1 where rowid % 10 = 0;
	update payment set deleted = 1 where rowid % 10 = 0; update devices set last_seen = '2000-01-01T00:00:00Z'"
tombs=$(sqlite3 hq.db "select (select count(*) from visit where deleted = 1) +
	(select count(*) from order_line where deleted = 1) + (select count(*) from payment where deleted = 1)")
for i in 1 2 3; do
	cp hq.db "gc$i.db"
	ms "$FSD" --db "gc$i.db" gc
done | median >gc.ms
"$FSD" --db gc1.db --json gc >/dev/null
removed=$(sqlite3 gc1.db "select $tombs - ((select count(*) from visit where deleted = 1) +
	(select count(*) from order_line where deleted = 1) + (select count(*) from payment where deleted = 1))")
for i in 1 2 3; do ms "$FS" --db dev.db purge --dry-run; done | median >purge.ms
for i in 1 2 3; do ms "$FS" --db dev.db status; done | median >status.ms

printf '%-70s %8s %s\n' "figure" "value" "unit"
printf '%-70s %8s %s\n' "HQ store, records" "$records" ""
printf '%-70s %8s %s\n' "fieldsyncd gc, $tombs tombstones, $removed removed (median of 3)" "$(cat gc.ms)" "ms"
printf '%-70s %8s %s\n' "fieldsync purge --dry-run, $(sqlite3 dev.db 'select count(*) from visit') visits (median of 3)" \
	"$(cat purge.ms)" "ms"
printf '%-70s %8s %s\n' "fieldsync status on the same store (median of 3)" "$(cat status.ms)" "ms"
