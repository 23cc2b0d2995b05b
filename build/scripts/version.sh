#!/usr/bin/env bash
# Prints Hall Monitor's version, valid as a Debian package version, from git tags:
#   on tag v1.2.3, clean          -> 1.2.3
#   3 commits after tag v1.2.3    -> 1.2.3+git3.abc1234
#   no tag (a fresh CI clone)     -> 0.1.0+git<commits>.abc1234 (0.1.0: wails.json's productVersion)
#   uncommitted changes           -> ... + ".dirty" (frontend/dist, rebuilt by every make, does not count)
#   not a git checkout            -> <productVersion>
# The nearest tag named v<digits>... or <digits>... counts; others are ignored. A '-' in a tag becomes '~'
# (2.0.0-rc1 -> 2.0.0~rc1, which sorts before 2.0.0).
# Usage: version.sh [CHECKOUT] (default: the checkout this script is in).
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
base=$(sed -n 's/.*"productVersion": *"\([^"]*\)".*/\1/p' wails.json)
base=${base:-0.1.0}
if ! git rev-parse --git-dir >/dev/null 2>&1; then echo "$base"; exit 0; fi
sha=$(git rev-parse --short=7 HEAD)
dirty=""
git diff --quiet HEAD -- . ':!frontend/dist' 2>/dev/null || dirty=".dirty"
if desc=$(git describe --tags --long --match 'v[0-9]*' --match '[0-9]*' 2>/dev/null); then
  # desc is <tag>-<n>-g<sha>
  tag=${desc%-*-g*}
  rest=${desc#"$tag"-}
  n=${rest%%-*}
  v=${tag#v}
  # a Debian upstream version: digits first, then alphanumerics and . + ~ (a '-' would start the revision)
  v=$(tr -c 'A-Za-z0-9.+~\n' '~' <<<"$v")
  if [ "$n" = 0 ]; then echo "$v${dirty:++git0.$sha$dirty}"; else echo "$v+git$n.$sha$dirty"; fi
else
  echo "$base+git$(git rev-list --count HEAD).$sha$dirty"
fi
