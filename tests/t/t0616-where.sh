#!/bin/sh
# t0616-where.sh - where a visit was checked in (issue "Field truth",
# Where): --lat/--lon (or --at), --here from gpsd (a real gpsd started by
# gpsfake, replaying a recorded NMEA log), no position never an error, and
# at HQ each visit's distance from its customer and the visits checked in
# far away.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_DB="$TRASH/rep.db"
M=$(date +%Y-%m)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_port PORT: until something listens there (at most 10 s)
wait_port() {
	python3 -c 'import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)' "$1"
}
pos() { "$FS" --json visit show "$1" | jq -r '"\(.visit.lat) \(.visit.lon)"'; }

# A position log as a GPS receiver writes it: RMC and GGA sentences, a fix
# at 55.7558 N, 37.6173 E (Moscow), once a second.
nmea() {
	python3 - <<'PY'
def ck(s):
    c = 0
    for ch in s:
        c ^= ord(ch)
    return "$%s*%02X" % (s, c)
out = []
for i in range(30):
    t = "1200%02d.00" % i
    out.append(ck("GPRMC,%s,A,5545.3480,N,03737.0380,E,0.0,0.0,061226,,,A" % t))
    out.append(ck("GPGGA,%s,5545.3480,N,03737.0380,E,1,08,0.9,150.0,M,14.0,M,," % t))
print("\r\n".join(out), end="\r\n")
PY
}

test_expect_success 'setup: a customer with a position' '
	"$FS" customer add --code AC-1 --name Acme --territory MOW-1 --lat 55.7500 --lon 37.6000 >/dev/null
'

test_expect_success '--lat/--lon and --at record the check-in position' '
	v1=$("$FS" visit log AC-1 --outcome one --lat 55.7501 --lon 37.6002) &&
	test "$(pos "$v1")" = "55.7501 37.6002" &&
	v2=$("$FS" visit log AC-1 --outcome two --at 55.6,37.5) && test "$(pos "$v2")" = "55.6 37.5"
'

test_expect_success 'a bad position is refused before anything is written' '
	n=$("$FS" --json visit list | jq length) &&
	test_status 2 "$FS" visit log AC-1 --outcome x --lat 91 --lon 37 &&
	test_status 2 "$FS" visit log AC-1 --outcome x --lat 55.7 2>err && grep -q "go together" err &&
	test_status 2 "$FS" visit log AC-1 --outcome x --at 55,37 --here 2>err && grep -q "one position" err &&
	test "$("$FS" --json visit list | jq length)" = "$n"
'

test_expect_success '--here reads the position from gpsd (gpsfake replaying an NMEA log)' '
	nmea >moscow.nmea && port=$(free_port) &&
	{ timeout 60 gpsfake -P "$port" -q -c 0.2 -1 moscow.nmea >gpsfake.log 2>&1 & } &&
	gp=$! && test_at_exit "kill $gp 2>/dev/null; pkill -f \"gpsd.*-S $port\" 2>/dev/null; true" &&
	wait_port "$port" &&
	FIELDSYNC_GPSD=127.0.0.1:$port FIELDSYNC_GPS_TIMEOUT_MS=15000 "$FS" visit log AC-1 --outcome here --here >id 2>err &&
	test "$(pos "$(cat id)")" = "55.7558 37.6173"
'

test_expect_success 'no gpsd: the visit is logged without a position, and the rep is told why' '
	port=$(free_port) &&
	FIELDSYNC_GPSD=127.0.0.1:$port "$FS" visit log AC-1 --outcome "no gps" --here >id 2>err &&
	grep -q "no position" err && test "$(pos "$(cat id)")" = "null null"
'

test_expect_success 'HQ keeps each visit'"'"'s distance from its customer; report visits --far lists the far ones' '
	hq_start && enroll anna a.db MOW-1 &&
	"$FS" --db a.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" customer add --code FAR-1 --name Faraway --territory MOW-1 --lat 55.7500 --lon 37.6000 >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db visit log FAR-1 --outcome near --lat 55.7504 --lon 37.6000 >/dev/null &&
	far=$("$FS" --db a.db visit log FAR-1 --outcome "from home" --lat 55.8400 --lon 37.6000) &&
	"$FS" --db a.db visit log FAR-1 --outcome "no position" >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" --json report visits --far 1000 --month "$M" >far.json &&
	jq -e "length == 1 and .[0].visit_id == \"$far\" and .[0].rep == \"anna\" and .[0].code == \"FAR-1\"" far.json >/dev/null &&
	d=$(jq ".[0].distance_m" far.json) && test "$d" -gt 9900 && test "$d" -lt 10100 &&
	test "$(sql "$HQ_DB" "select count(*) from visit where distance_m between 40 and 50")" = 1 &&
	"$FSD" --db "$HQ_DB" report visits --far 1000 --month "$M" | grep -q "Faraway"
'

test_expect_success 'the distance is kept when the customer moves later' '
	"$FSD" --db "$HQ_DB" customer edit FAR-1 --lat 55.8400 >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db a.db visit show "$far" >/dev/null &&
	"$FSD" --db "$HQ_DB" --json report visits --far 1000 --month "$M" | jq -e "length == 1" >/dev/null
'

test_expect_success 'report visits --far: bad input is refused' '
	test_status 2 "$FSD" --db "$HQ_DB" report visits --far lots --month "$M" &&
	test_status 2 "$FSD" --db "$HQ_DB" report visits --far 100 2>err && grep -q month err &&
	test_status 2 "$FSD" --db "$HQ_DB" report visits --far 100 --month "$M" --by rep
'

test_done
