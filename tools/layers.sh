#!/bin/bash
# layers.sh BUILD_DIR [--dot]: the structure of the house, from the objects
# the build made. Every call from one source file into another (a symbol
# one object uses and another defines, read with nm) is an arrow; each file
# sits on a floor (the table below, lowest first) and may call only its
# own floor or those below. Fails, naming the arrows, on an arrow running
# back up or on any circle (tsort finds them), in the whole tree and inside
# sync/hq. With --dot, prints the drawing (Graphviz) instead.
# docs/architecture.md explains the floors.
set -u
build=${1:?usage: tools/layers.sh BUILD_DIR [--dot]}
top=${FIELDSYNC_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1

# floor  files (shell patterns, relative to the top)
floors='
5 cli/*.c
10 core/*.c
20 sync/wire.c sync/position.c formats/out.c formats/tsplib.c formats/csvtab.c
21 formats/route_out.c formats/import.c
22 sync/client.c
30 sync/hq/backend_sqlite.c sync/hq/backend_pg.c sync/hq/server.c sync/hq/ops.c
31 sync/hq/db.c
32 sync/hq/settings.c
33 sync/hq/replica.c
34 sync/hq/endpoints.c sync/hq/gc.c sync/hq/admin.c sync/hq/report.c sync/hq/history.c sync/hq/catalogue.c
35 sync/hq/reply.c
36 sync/hq/web.c
37 sync/hq/router.c sync/hq/parts.c
38 sync/hq/daemon.c
39 sync/hq/serve.c sync/hq/main.c
40 agent/*.c
'
# Circles known and not yet taken apart (each line: the files of one);
# none today.
known_circles=''

declare -A floor
while read -r f pats; do
	[ -n "$f" ] || continue
	for p in $pats; do
		for s in $p; do
			[ -f "$s" ] && floor[$s]=$f
		done
	done
done <<<"$floors"

edges=$(
	for s in "${!floor[@]}"; do
		o=$build/obj/${s%.c}.o
		[ -f "$o" ] || { echo "layers: $o is missing (build first)" >&2; exit 2; }
		nm --defined-only -g "$o" | awk -v f="$s" '$2 ~ /^[TDBR]$/ {print "D", $3, f}'
		nm -u "$o" | awk -v f="$s" '{print "U", $2, f}'
	done | awk '$1 == "D" {def[$2] = $3; next}
		{u[++n] = $2 " " $3}
		END {for (i = 1; i <= n; i++) {split(u[i], a, " ");
			if (a[1] in def && def[a[1]] != a[2]) print a[2], def[a[1]]}}' | sort -u
) || exit 2
for s in $(find cli core formats sync agent -name '*.c' ! -path 'sync/hq/web/*' | sort); do
	[ -n "${floor[$s]:-}" ] || { echo "layers: $s has no floor in tools/layers.sh" >&2; exit 2; }
done

if [ "${2:-}" = --dot ]; then
	# core/ and agent/ each drawn as one box, every other file as its own;
	# one rank per floor, the lowest at the bottom
	node() { case $1 in core/*) echo "core/" ;; agent/*) echo "agent/ (fieldsync)" ;; *) echo "$1" ;; esac; }
	echo "digraph fieldsync {"
	echo "  rankdir=TB; ranksep=0.45; nodesep=0.25;"
	echo "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef4f4\", color=\"#2a6f6f\", fontname=\"DejaVu Sans\", fontsize=11];"
	echo "  edge [color=\"#55616c\", arrowsize=0.6];"
	for f in $(printf '%s\n' "${floor[@]}" | sort -un); do
		printf '  { rank=same;'
		for s in "${!floor[@]}"; do [ "${floor[$s]}" = "$f" ] && printf ' "%s";' "$(node "$s")"; done | tr ';' '\n' | sort -u | tr '\n' ';'
		echo " }"
	done
	echo "  subgraph cluster_hq { label=\"sync/hq/ (fieldsyncd)\"; fontname=\"DejaVu Sans\"; color=\"#9aa5ad\";"
	for s in "${!floor[@]}"; do case $s in sync/hq/*) echo "    \"$s\" [label=\"$(basename "$s")\"];" ;; esac; done
	echo "  }"
	for s in "${!floor[@]}"; do case $s in sync/hq/*) ;; sync/*|formats/*) echo "  \"$s\" [label=\"$s\"];" ;; esac; done
	echo "$edges" | while read -r a b; do
		na=$(node "$a") nb=$(node "$b")
		[ "$na" = "$nb" ] || echo "  \"$na\" -> \"$nb\";"
	done | sort -u
	echo "}"
	exit 0
fi

bad=0
while read -r a b; do
	[ -n "$a" ] || continue
	if [ "${floor[$b]}" -gt "${floor[$a]}" ]; then
		echo "layers: $a (floor ${floor[$a]}) calls up into $b (floor ${floor[$b]}):" \
			"$(nm -u "$build/obj/${a%.c}.o" | awk '{print $2}' |
				grep -xF -f <(nm --defined-only -g "$build/obj/${b%.c}.o" | awk '{print $3}') | head -3 | tr '\n' ' ')"
		bad=1
	fi
done <<<"$edges"

# circles: tsort names every file on one; known ones are reported, not failed
loops=$(echo "$edges" | tsort 2>&1 >/dev/null | grep -v "input contains a loop" | sed 's/^tsort: //' | sort -u)
if [ -n "$loops" ]; then
	for f in $loops; do
		if ! grep -qw -- "$f" <<<"$known_circles"; then
			echo "layers: $f is on a circle of calls:" $loops
			bad=1
			break
		fi
	done
	[ $bad = 1 ] || echo "layers: known circle, not yet taken apart:" $loops
fi
n=$(echo "$edges" | grep -c .)
[ $bad = 0 ] && echo "layers: ${#floor[@]} files, $n arrows, none running up${loops:+; only the known circles}${loops:-; no circle}"
exit $bad
