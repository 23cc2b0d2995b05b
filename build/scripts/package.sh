#!/usr/bin/env bash
# Builds Hall Monitor's installable forms from the built binary:
#   build/dist/stage/                               the installed tree, relative to a prefix (bin/, share/...):
#                                                   `make install PREFIX=...` copies it
#   build/dist/hallmonitor_<version>_amd64.deb      nfpm (a pinned Go module) from build/linux/nfpm.yaml
#   build/dist/hallmonitor-<version>-linux-amd64.tar.gz   the same tree in one folder
# The man page comes from the binary (`hallmonitor help --man`), the icons from build/appicon.png (ImageMagick),
# Depends from dpkg-shlibdeps on the binary's NEEDED libraries, the changelog from git.
# Usage: package.sh BIN VERSION
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: package.sh BIN VERSION}
version=${2:?usage: package.sh BIN VERSION}
NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
ICON_SIZES="16 22 24 32 48 64 128 256 512"
fail() { echo "package: $*" >&2; exit 1; }
for tool in convert dpkg-shlibdeps gzip go; do
  command -v "$tool" >/dev/null || fail "$tool is not installed: run 'make deps' (it is in the Makefile's APT_PACKAGES)"
done
[ -x "$bin" ] || fail "$bin is not an executable: run 'make build' first"
got=$("$bin" version) || fail "$bin version failed"
[ "$got" = "hallmonitor $version" ] || fail "$bin reports '$got', not version $version: rebuild it with 'make build'"

dist=build/dist
stage=$dist/stage
rm -rf "$stage" "$dist"/hallmonitor_*.deb "$dist"/hallmonitor-*.tar.gz
mkdir -p "$stage/bin" "$stage/share/applications" "$stage/share/metainfo" "$stage/share/man/man1" "$stage/share/doc/hallmonitor"
install -m 0755 "$bin" "$stage/bin/hallmonitor"
install -m 0644 build/linux/hallmonitor.desktop "$stage/share/applications/"
install -m 0644 build/linux/copyright "$stage/share/doc/hallmonitor/"

# The release date of this version: the commit's date (so two builds of one commit are the same).
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH=$epoch
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u -d "@$epoch" +%F)/" build/linux/io.github.hallmonitor.HallMonitor.metainfo.xml \
  >"$stage/share/metainfo/io.github.hallmonitor.HallMonitor.metainfo.xml"

for s in $ICON_SIZES; do
  mkdir -p "$stage/share/icons/hicolor/${s}x$s/apps"
  convert build/appicon.png -strip -resize "${s}x$s" -depth 8 "PNG32:$stage/share/icons/hicolor/${s}x$s/apps/hallmonitor.png"
done

"$bin" help --man | gzip -9n >"$stage/share/man/man1/hallmonitor.1.gz"

# Debian changelog (a native package: changelog.gz): one entry for this version, from the commit it was built from.
{
  echo "hallmonitor ($version) unstable; urgency=medium"
  echo
  if git rev-parse --git-dir >/dev/null 2>&1; then
    echo "  * Built from commit $(git rev-parse --short=12 HEAD):"
    git log -1 --format=%s | fold -s -w 72 | sed 's/^/    /'
  else
    echo "  * Built from a source tree without git history."
  fi
  echo
  echo " -- Hall Monitor developers <maintainers@users.noreply.r-seed-1663a390.example>  $(LC_ALL=C date -u -R -d "@$epoch")"
} | gzip -9n >"$stage/share/doc/hallmonitor/changelog.gz"
touch -d "@$epoch" "$stage/share/doc/hallmonitor/changelog.gz" "$stage/share/man/man1/hallmonitor.1.gz"

# Depends: the packages (with minimum versions) that hold the libraries the binary links, from their shlibs files.
shl=$(mktemp -d)
trap 'rm -rf "$shl"' EXIT
mkdir -p "$shl/debian/hallmonitor/DEBIAN" "$shl/debian/hallmonitor/usr/bin"
printf 'Source: hallmonitor\n\nPackage: hallmonitor\nArchitecture: amd64\n' >"$shl/debian/control"
cp "$bin" "$shl/debian/hallmonitor/usr/bin/hallmonitor"
DEPENDS=$(cd "$shl" && dpkg-shlibdeps -O -e debian/hallmonitor/usr/bin/hallmonitor | sed -n 's/^shlibs:Depends=//p')
[ -n "$DEPENDS" ] || fail "dpkg-shlibdeps found no library dependencies of $bin"
case "$DEPENDS" in *-dev*) fail "Depends names a -dev package: $DEPENDS" ;; esac
echo "package: Depends: $DEPENDS"

VERSION=$version STAGE=$PWD/$stage DEPENDS=$DEPENDS go run "$NFPM" package --config build/linux/nfpm.yaml --packager deb --target "$dist/"
deb=$dist/hallmonitor_${version}_amd64.deb
[ -f "$deb" ] || fail "nfpm wrote no $deb (see its output above)"

tarname=hallmonitor-$version-linux-amd64
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$stage" --transform "s|^\.|$tarname|" -czf "$dist/$tarname.tar.gz" .
echo "package: wrote $deb and $dist/$tarname.tar.gz"
