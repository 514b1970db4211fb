#!/bin/sh
# Install and embed: the library's exported symbols and public header, the
# embedding example (in-tree and against an installed copy found with
# pkg-config only), make install / uninstall into a DESTDIR, the man pages
# against --help, the systemd unit.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20 FIELDSYNCD_CONFIG=
TOP=$FIELDSYNC_TOP
HDR=$TOP/core/include/fieldsync.h
DEST=$TRASH/dest
EX=$FIELDSYNC_BUILD/examples/embed

# exported: the dynamic symbols a shared library defines
exported() {
	nm -D --defined-only "$1" | awk '{print $NF}' | sort -u
}
# declared: every FIELDSYNC_API function of the header
declared() {
	sed -n 's/^FIELDSYNC_API[^(]*[ *]\(fieldsync_[a-z0-9_]*\)(.*/\1/p' "$HDR" | sort -u
}

# undocumented: FIELDSYNC_API declarations not right after a comment (a run
# of declarations, continuation lines included, shares the comment before it)
undocumented() {
	awk '/^FIELDSYNC_API/ { if (!api && prev !~ /\*\/[ \t]*$/) print FILENAME ":" NR ": " $0; api = 1; next }
	     /^[ \t]+[^ \t*].*[,;]$/ && api { next }
	     { api = 0 }
	     $0 !~ /^[ \t]*$/ { prev = $0 }' "$HDR"
}

test_expect_success 'the shared library exports fieldsync_* only, exactly the header' '
	exported "$FIELDSYNC_BUILD/libfieldsync.so" >exp &&
	test -s exp &&
	! grep -v "^fieldsync_" exp &&
	declared >decl &&
	diff -u decl exp
'

test_expect_success 'every public function is documented; no struct layout in the header' '
	undocumented >undoc &&
	if test -s undoc; then cat undoc; return 1; fi &&
	! grep -nE "^(typedef )?struct [a-z_]+ *[{]" "$HDR" &&
	grep -q "^#define FIELDSYNC_VERSION \"" "$HDR" &&
	grep -q "fieldsync_version(void)" "$HDR"
'

test_expect_success 'the embedding example (in-tree build) enrols, writes a visit, syncs' '
	hq_start &&
	tok=$("$FSD" --db "$HQ_DB" rep add emma --territory MOW-1 2>/dev/null) &&
	"$EX" ex.db "$HQ_URL" "$tok" >out1 &&
	grep -q "^libfieldsync " out1 &&
	grep -q "^created customer EMB-1 in MOW-1" out1 &&
	grep -q "^sync: 4 pushed (4 accepted, 0 rejected)" out1 &&
	grep -q "^0 open conflicts" out1 &&
	test "$(sql "$HQ_DB" "select count(*) from visit v join customer c on c.id = v.customer_id
		where c.code = '"'"'EMB-1'"'"' and v.status = '"'"'done'"'"'")" = 1 &&
	test "$(sql "$HQ_DB" "select count(*) from order_line where product = '"'"'Green tea 100g'"'"'")" = 1
'

test_expect_success 'the example prints the conflict of a field changed at HQ and on the device' '
	"$FSD" --db "$HQ_DB" customer edit EMB-1 --notes "HQ: key account" >/dev/null &&
	"$EX" ex.db "$HQ_URL" - "device: moved to the new shop" >out2 &&
	grep -q "^logged visit" out2 &&
	grep -q "^1 open conflict$" out2 &&
	grep -q "conflict [0-9a-f]*: customer.notes kept" out2 &&
	test "$(sql "$HQ_DB" "select count(*) from visit")" = 2
'

test_expect_success 'the example refuses a store it cannot enrol, with the command'"'"'s exit codes' '
	test_status 2 "$EX" new.db "$HQ_URL" &&
	test_status 8 "$EX" new2.db "$HQ_URL" 00000000000000000000000000000000 2>err &&
	grep -q "enrolment" err &&
	test_status 2 "$EX"
'

test_expect_success 'make install into a DESTDIR: binaries, libraries, header, pc, man pages, unit' '
	unset MAKEFLAGS MFLAGS MAKELEVEL CFLAGS &&
	make -C "$TOP" --no-print-directory -j2 BUILD="$TRASH/build" PREFIX=/usr DESTDIR="$DEST" install \
		>make.log 2>&1 || { tail -n 30 make.log; return 1; } &&
	for f in bin/fieldsync bin/fieldsyncd lib/libfieldsync.a lib/libfieldsync.so.0.1.0 include/fieldsync.h \
		lib/pkgconfig/fieldsync.pc share/man/man1/fieldsync.1 share/man/man8/fieldsyncd.8 \
		lib/systemd/system/fieldsyncd.service lib/sysusers.d/fieldsync.conf \
		share/doc/fieldsync/examples/fieldsyncd.conf share/doc/fieldsync/examples/embed.c; do
		test -f "$DEST/usr/$f" || { echo "missing $f" >&2; return 1; }
	done &&
	test "$(readlink "$DEST/usr/lib/libfieldsync.so.0")" = libfieldsync.so.0.1.0 &&
	test "$(readlink "$DEST/usr/lib/libfieldsync.so")" = libfieldsync.so.0 &&
	readelf -d "$DEST/usr/lib/libfieldsync.so.0.1.0" | grep -q "SONAME.*\[libfieldsync.so.0\]" &&
	readelf -d "$DEST/usr/lib/libfieldsync.so.0.1.0" | grep -q "NEEDED.*libcsv" &&
	exported "$DEST/usr/lib/libfieldsync.so.0.1.0" >exp2 && declared >decl2 && diff -u decl2 exp2 &&
	grep -q "^ExecStart=/usr/bin/fieldsyncd serve$" "$DEST/usr/lib/systemd/system/fieldsyncd.service" &&
	"$DEST/usr/bin/fieldsync" --version | grep -q "^fieldsync 0.1.0$"
'

pc() {
	PKG_CONFIG_PATH="$DEST/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$DEST" pkg-config "$@"
}

test_expect_success 'pkg-config describes the installed library' '
	test "$(pc --modversion fieldsync)" = 0.1.0 &&
	pc --cflags fieldsync | grep -q -- "-I$DEST/usr/include" &&
	pc --libs fieldsync | grep -q -- "-L$DEST/usr/lib -lfieldsync" &&
	static=$(pc --static --libs fieldsync) &&
	for l in -lcsv -lm -lpthread -lsqlite3 -lcurl -lcjson -lz -lsodium; do
		echo " $static " | grep -q -- " $l " || { echo "no $l in: $static" >&2; return 1; }
	done
'

test_expect_success 'the example builds against the installed copy with pkg-config only, and runs' '
	cc -o embed-dyn "$TOP/docs/examples/embed.c" $(pc --cflags --libs fieldsync) &&
	LD_LIBRARY_PATH="$DEST/usr/lib" ldd ./embed-dyn | grep -q "libfieldsync.so.0 => $DEST/usr/lib/" &&
	tok=$("$FSD" --db "$HQ_DB" rep add olga --territory MOW-1 2>/dev/null) &&
	LD_LIBRARY_PATH="$DEST/usr/lib" ./embed-dyn inst.db "$HQ_URL" "$tok" >out3 &&
	grep -q "^libfieldsync 0.1.0 (built against 0.1.0)" out3 &&
	grep -q "^sync: 4 pushed (4 accepted, 0 rejected)" out3 &&
	grep -q "^0 open conflicts" out3 &&
	test "$(sql inst.db "select count(*) from customer where code = '"'"'EMB-1'"'"'")" = 1
'

# Static: libfieldsync.a with fieldsync.pc's own Libs.private, and the
# packages of its Requires.private linked shared (their own static flags
# need every -dev package of curl's dependencies).
test_expect_success 'the example links statically against the installed libfieldsync.a' '
	cc -o embed-static "$TOP/docs/examples/embed.c" $(pc --cflags fieldsync) \
		$(pc --static --libs --maximum-traverse-depth=2 fieldsync | sed "s/-lfieldsync/-l:libfieldsync.a/") \
		$(pkg-config --libs $(pc --print-requires-private fieldsync)) &&
	! ldd ./embed-static | grep -q libfieldsync &&
	./embed-static inst.db "$HQ_URL" >out4 &&
	grep -q "^sync: 2 pushed (2 accepted, 0 rejected)" out4
'

# Commands as --help lists them: the "  name ..." lines under "Commands:",
# up to the description (two spaces), alternatives split at " | "; the first
# word and, for fieldsyncd, a lower-case second word (rep add).
help_cmds() {
	"$1" --help | awk -v two="$2" '/^Commands:/ {on = 1; next} on && /^$/ {on = 0}
		on && /^  [a-z]/ { syn = substr($0, 3); sub(/  .*/, "", syn); n = split(syn, alt, / \| /)
			for (i = 1; i <= n; i++) { split(alt[i], w, " "); c = w[1]
				if (two && w[2] ~ /^[a-z][a-z-]*$/) c = c " " w[2]; print c } }' | sort -u
}
# The same from a man page: the tag line after each .TP in COMMANDS.
man_cmds() {
	awk -v two="$2" '/^\.SH/ {on = ($2 == "COMMANDS"); next} on && /^\.TP/ {tag = 1; next}
		on && tag { tag = 0; gsub(/\\f[BIRP]/, ""); gsub(/\\-/, "-"); sub(/^\.B +/, ""); c = $1;
			if (two && $2 ~ /^[a-z][a-z-]*$/) c = c " " $2; print c }' "$1" | sort -u
}

test_expect_success 'fieldsync(1) lists the commands of fieldsync --help' '
	help_cmds "$FS" "" >h1 && man_cmds "$DEST/usr/share/man/man1/fieldsync.1" "" >m1 &&
	test "$(wc -l <h1)" -ge 10 && diff -u h1 m1
'

test_expect_success 'fieldsyncd(8) lists the commands of fieldsyncd --help' '
	help_cmds "$FSD" 1 >h8 && man_cmds "$DEST/usr/share/man/man8/fieldsyncd.8" 1 >m8 &&
	grep -q "^rep add$" h8 && grep -q "^backup$" h8 && grep -q "^restore$" h8 &&
	diff -u h8 m8
'

test_expect_success 'the man pages render without warnings' '
	for m in "$DEST/usr/share/man/man1/fieldsync.1" "$DEST/usr/share/man/man8/fieldsyncd.8"; do
		groff -man -Tutf8 -ww -z "$m" >warn 2>&1 && ! test -s warn || { cat warn; return 1; }
	done
'

test_expect_success 'the systemd unit: hardening, state and config directories, no reload' '
	u="$DEST/usr/lib/systemd/system/fieldsyncd.service" &&
	for k in "NoNewPrivileges=yes" "ProtectSystem=strict" "PrivateTmp=yes" "StateDirectory=fieldsync" \
		"ConfigurationDirectory=fieldsync" "User=fieldsync" "ProtectHome=yes" "CapabilityBoundingSet=$"; do
		grep -q "^$k" "$u" || { echo "no $k" >&2; return 1; }
	done &&
	! grep -q "^ExecReload" "$u" &&
	grep -q "^u fieldsync " "$DEST/usr/lib/sysusers.d/fieldsync.conf" &&
	if command -v systemd-analyze >/dev/null 2>&1; then
		sed "s|/usr/bin/|$DEST/usr/bin/|" "$u" >fieldsyncd.service &&
		systemd-analyze verify --man=no ./fieldsyncd.service >verify 2>&1 &&
		! grep -Ei "unknown|ignoring|invalid|fail" verify &&
		systemd-analyze security --offline=yes --threshold=20 ./fieldsyncd.service >/dev/null 2>&1
	fi
'

test_expect_success 'the example configuration is one fieldsyncd accepts' '
	"$FSD" --config "$DEST/usr/share/doc/fieldsync/examples/fieldsyncd.conf" --db "$HQ_DB" rep list >/dev/null
'

test_expect_success 'make uninstall removes every installed file' '
	make -C "$TOP" --no-print-directory BUILD="$TRASH/build" PREFIX=/usr DESTDIR="$DEST" uninstall >make2.log 2>&1 &&
	find "$DEST" \( -type f -o -type l \) >left &&
	if test -s left; then cat left; return 1; fi
'

test_done
