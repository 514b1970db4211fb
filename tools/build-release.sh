#!/bin/sh
# tools/build-release.sh TAG DIR - fieldsync and fieldsyncd of a past release,
# for the upgrade scenarios (tests/upgrade/): the tree of the annotated or
# lightweight tag TAG, taken from this clone with `git archive` into DIR,
# built there with the release's own Makefile, plain -O2 (no sanitizers:
# the old binaries are the release as shipped, and the tests run faster).
# The binaries end up in DIR/build/. Kept between runs: DIR/.release-commit
# names the commit they were built from, and a run rebuilds only when it is
# missing or the tag now names another commit.
#
# Needs the tag, or the commit tools/releases records for it, in this
# clone; without either, it fails and says how to get it. No network.
set -eu
tag=${1:?usage: tools/build-release.sh TAG DIR}
dir=${2:?usage: tools/build-release.sh TAG DIR}
top=$(cd "$(dirname "$0")/.." && pwd)

if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	echo "build-release: $top is not a git clone: the upgrade tests build release $tag from git" >&2
	exit 1
fi
commit=$("$top/tools/release-commit.sh" "$tag")

stamp="$dir/.release-commit"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$commit" ] &&
	[ -x "$dir/build/fieldsync" ] && [ -x "$dir/build/fieldsyncd" ]; then
	exit 0
fi

echo "build-release: building $tag ($commit) in $dir"
rm -rf "$dir"
mkdir -p "$dir"
git -C "$top" archive --format=tar "$commit" | tar -x -C "$dir"
# The release's Makefile alone decides how it builds: nothing of the
# calling make (its flags, BUILD, SAN, CFLAGS) may leak into it.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u SAN -u BUILD -u OPT \
	make -C "$dir" -j"${FIELDSYNC_JOBS:-2}" --no-print-directory BUILD=build OPT=-O2 \
	build/fieldsync build/fieldsyncd >"$dir/build.log" 2>&1 ||
	{ tail -n 30 "$dir/build.log" >&2; echo "build-release: building $tag failed (log: $dir/build.log)" >&2; exit 1; }
echo "$commit" >"$stamp"
