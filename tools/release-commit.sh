#!/bin/sh
# tools/release-commit.sh TAG - the commit a release was built from: the
# tag's, where this clone has the tag, else the one tools/releases records
# (a clone made without tags still has the history). A tag that names
# another commit than the recorded one is refused. No network.
set -eu
tag=${1:?usage: tools/release-commit.sh TAG}
top=$(cd "$(dirname "$0")/.." && pwd)

if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	echo "release-commit: $top is not a git clone: release $tag is taken from git" >&2
	exit 1
fi
recorded=$(awk -v t="$tag" '$1 == t { print $2 }' "$top/tools/releases")
if commit=$(git -C "$top" rev-parse -q --verify "refs/tags/$tag^{commit}"); then
	if [ -n "$recorded" ] && [ "$recorded" != "$commit" ]; then
		echo "release-commit: tag $tag names $commit, tools/releases says $recorded; fix one of them" >&2
		exit 1
	fi
elif [ -n "$recorded" ] && commit=$(git -C "$top" rev-parse -q --verify "$recorded^{commit}"); then
	:
else
	echo "release-commit: release $tag is not in this clone (no tag, and ${recorded:-no commit in tools/releases}" \
		"not in the history); fetch it (git fetch origin tag $tag), or name another release" \
		"with UPGRADE_FROM=TAG (tools/releases lists them)" >&2
	exit 1
fi
echo "$commit"
