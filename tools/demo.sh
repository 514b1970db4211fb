#!/bin/sh
# tools/demo.sh BUILD_DIR - the main job end to end, narrated.
# HQ on a free loopback port over an SQLite file; an archive generated for
# one territory; two reps enrolled; a day of offline work (plans, visits,
# an order, a collection, edits, one clash on the same field); the nightly
# sync; the merged card, the conflict and its resolution; a customer moved
# to another territory and evicted from the reps' laptops. Everything runs
# in a scratch directory that is removed at the end (DEMO_KEEP=1 keeps it).
set -eu
build=$(cd "${1:-build}" && pwd)
FS="$build/fieldsync"
FSD="$build/fieldsyncd"
GEN="$build/tools/gen"
dir=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-demo.XXXXXX")
pid=""
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	[ -n "${DEMO_KEEP:-}" ] && echo "(kept $dir)" || rm -rf "$dir"
}
trap cleanup EXIT INT TERM
cd "$dir"
export TZ="${TZ:-Europe/Moscow}" FIELDSYNC_RETRY_MS=100
today=$("$FS" --version >/dev/null && date +%F)

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() {
	printf '$'
	for a in "$@"; do
		case "$a" in
		*[[:space:]]*|*\"*) printf ' "%s"' "$a" ;;
		*) printf ' %s' "$a" ;;
		esac
	done | sed "s|$build/||g"
	printf '\n'
	"$@"
}

say "HQ: create the store and start fieldsyncd on a free loopback port"
run "$FSD" --db hq.db init
"$FSD" --db hq.db serve --listen 127.0.0.1:0 --port-file hq.port 2>hq.log &
pid=$!
while [ ! -s hq.port ]; do sleep 0.1; done
url="http://127.0.0.1:$(cat hq.port)"
echo "fieldsyncd is serving $url (log: hq.log)"

say "HQ: import the archive of territory MOW-1 (generated: customers around Moscow, 3 years of visits)"
run "$GEN" --db import.db --territory MOW-1 --customers 40 --visits 400 --plans 6 --date "$today" --seed 7
tok=$("$FSD" --db hq.db rep add import --territory MOW-1 2>/dev/null)
"$FS" --db import.db init --server "$url" --token "$tok" --name importer >/dev/null
run "$FS" --db import.db sync
run "$FSD" --db hq.db rep revoke import

say "HQ: two reps for MOW-1; each gets a one-time enrolment token"
anna=$("$FSD" --db hq.db rep add anna --territory MOW-1 2>/dev/null)
boris=$("$FSD" --db hq.db rep add boris --territory MOW-1 2>/dev/null)
echo "anna: $anna"
echo "boris: $boris"

say "Anna and Boris enrol their laptops and take the territory along"
run "$FS" --db anna.db init --server "$url" --token "$anna" --name anna-laptop
run "$FS" --db anna.db sync
run "$FS" --db boris.db init --server "$url" --token "$boris" --name boris-laptop
run "$FS" --db boris.db sync

say "Morning, no network: Anna opens today's list"
run "$FS" --db anna.db today
first=$("$FS" --db anna.db --json today | jq -r '.[0].customer_id')
second=$("$FS" --db anna.db --json today | jq -r '.[1].customer_id')

say "Anna logs her first visit on the spot: met the buyer, took an order, collected cash"
contact=$("$FS" --db anna.db --json contact list "$first" | jq -r '.[0].name // "the owner"')
run "$FS" --db anna.db visit log "$first" --met "$contact" --outcome "Order for the winter season" \
	--discussed "New price list" --order "Green tea 100g:24:3.20" --order "Black tea 250g:12:5.90" \
	--receivable 147.60 --collected 100 --next "$(date -d '+14 days' +%F)" --at 55.7601,37.6189
run "$FS" --db anna.db visit log "$second" --outcome "Owner away, left samples" --problem "Competitor on the shelf" \
	--countermeasure "Offer a display stand" --action "Call the owner on Friday"
run "$FS" --db anna.db today

say "Offline edits of the same customer card: different fields, and one same-field clash"
run "$FS" --db anna.db customer edit "$first" --phone "+7 495 111 11 11" --loyalty 5
run "$FS" --db boris.db customer edit "$first" --phone "+7 495 222 22 22" --grade A
run "$FSD" --db hq.db customer edit "$first" --payment-terms "Net 30"

say "Evening: both laptops sync"
run "$FS" --db anna.db sync
run "$FS" --db boris.db sync
run "$FS" --db anna.db sync

say "The merged card, identical on HQ and both laptops (every edit kept; one phone number won)"
for s in anna boris; do
	printf '%-6s ' "$s:"; "$FS" --db $s.db --json customer show "$first" |
		jq -r '.customer | "phone \(.phone), grade \(.grade), loyalty \(.loyalty), terms \(.payment_terms)"'
done
printf '%-6s ' "HQ:"; "$FSD" --db hq.db --json customer show "$first" |
	jq -r '"phone \(.phone), grade \(.grade), loyalty \(.loyalty), terms \(.payment_terms)"'

say "The losing phone number is not lost: it is a conflict record, everywhere"
run "$FS" --db boris.db conflicts
run "$FSD" --db hq.db conflicts
k=$("$FS" --db anna.db --json conflicts | jq -r '.[0].id')
say "Anna calls the customer: her number is the right one. She keeps it (a new versioned write that syncs)"
run "$FS" --db anna.db conflicts resolve "$k" --keep mine
run "$FS" --db anna.db sync
run "$FS" --db boris.db sync
printf 'phone on boris: '; "$FS" --db boris.db --json customer show "$first" | jq -r .customer.phone
printf 'phone at HQ:    '; "$FSD" --db hq.db --json customer show "$first" | jq -r .phone
run "$FS" --db boris.db conflicts --all

say "HQ moves the customer to territory MOW-2: it leaves the laptops, visits and all"
run "$FSD" --db hq.db customer edit "$first" --territory MOW-2
run "$FS" --db anna.db sync
if "$FS" --db anna.db customer show "$first" >/dev/null 2>&1; then
	echo "unexpected: the customer is still on Anna's laptop"; exit 1
fi
left=$(sqlite3 anna.db "select count(*) from visit where customer_id = '$first'")
echo "customer ${first%"${first#????????}"} is gone from Anna's laptop ($left of its visits left there); today's list:"
run "$FS" --db anna.db today
run "$FS" --db anna.db status

say "HQ's view: reps, devices and the archive"
run "$FSD" --db hq.db rep list
run "$FSD" --db hq.db customer list --territory MOW-2

say "Stop the server (SIGTERM: requests in flight finish first)"
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""
tail -n 3 hq.log
echo
echo "Demo done."
