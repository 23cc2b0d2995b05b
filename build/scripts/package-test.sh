#!/usr/bin/env bash
# Package test: the .deb a user installs, end to end on this machine.
#  1. version.sh maps git tags to Debian versions (table, on scratch repositories)
#  2. the .deb's control data and file list (dpkg-deb), lintian (no errors), its AppStream metainfo
#     (appstreamcli validate), its desktop entry (desktop-file-validate), its man page (man --warnings)
#  3. apt-get install ./the.deb; the file list (dpkg -L) is kept
#  4. with a fresh HOME and XDG folders, from / (nothing may be looked up relative to a checkout): the CLI
#     enrolls a worker and writes a rule (as the README tour does); the desktop entry's Exec line starts the
#     installed binary under Xvfb; its window must show (title, a non-blank screenshot, the dashboard's words);
#     an agent routes a request over the Hall API and the Hall runs the chosen worker
#  5. apt-get remove: no file of the package is left, and the user's config and data are still there.
# Between 2 and 3 it also checks the per-user install (install-user.sh, make install PREFIX=...) and its uninstall.
# Anything it cannot do fails the test with the reason. Needs root, or sudo in $SUDO.
# Usage: package-test.sh build/dist/hallmonitor_<version>_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/../.."
. build/scripts/lib.sh
deb=$(realpath "${1:?usage: package-test.sh DEB}")
SUDO=${SUDO:-}
art=$PWD/build/test-artifacts/package
mkdir -p "$art"
rm -f "$art"/*
scratch
start=$(date +%s)
installed_by_us=""
fail() {
  echo "package-test: FAIL: $*" >&2
  [ -f "$tmp/app.log" ] && sed 's/^/  app: /' "$tmp/app.log" >&2
  echo "0 passed, 1 failed"
  exit 1
}
step() { echo "package-test: $*"; }
apt_get() { DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 "$@"; }
# If the test stops half-way, the package it installed goes again (the scratch trap then kills the processes).
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  [ -n "$installed_by_us" ] && apt_get remove -y -qq hallmonitor >/dev/null 2>&1; rm -rf "$tmp"' EXIT

for tool in dpkg-deb lintian appstreamcli desktop-file-validate man Xvfb xdotool import convert tesseract curl python3 git; do
  command -v "$tool" >/dev/null || fail "$tool is not installed: run 'make deps' (APT_PACKAGES in the Makefile)"
done
[ "$(id -u)" = 0 ] || [ -n "$SUDO" ] || fail "installing the .deb needs root: run as root or set SUDO=sudo"

# 1. version.sh: tags -> Debian versions.
repo=$tmp/vrepo
mkdir -p "$repo" && git -C "$repo" init -q && cp wails.json "$repo/"
gitc() { git -C "$repo" -c user.name=t -c user.email=t@t -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
gitc add wails.json && gitc commit -qm one
sha() { git -C "$repo" rev-parse --short=7 HEAD; }
check_version() {
  got=$(bash build/scripts/version.sh "$repo")
  [ "$got" = "$2" ] || fail "version.sh $1: got '$got', want '$2'"
  dpkg --validate-version "$got" 2>/dev/null || fail "version.sh $1: '$got' is not a valid Debian version"
}
base=$(python3 -c 'import json; print(json.load(open("wails.json"))["info"]["productVersion"])')
check_version "with no tag" "$base+git1.$(sha)"
gitc tag v1.2.3 && check_version "on tag v1.2.3" "1.2.3"
gitc commit -q --allow-empty -m two && gitc commit -q --allow-empty -m three && check_version "2 commits after v1.2.3" "1.2.3+git2.$(sha)"
echo edited >>"$repo/wails.json" && check_version "with an uncommitted change" "1.2.3+git2.$(sha).dirty"
git -C "$repo" checkout -q wails.json && gitc tag 2.0.0-rc1 && check_version "on tag 2.0.0-rc1" "2.0.0~rc1"
step "version.sh maps git tags to Debian versions (no tag, on a tag, after a tag, dirty, a pre-release)"

# 2. What the .deb holds.
[ -f "$deb" ] || fail "$deb does not exist: run 'make package'"
version=$(dpkg-deb --field "$deb" Version)
dpkg-deb --info "$deb" >"$art/info.txt"
dpkg-deb --contents "$deb" >"$art/contents.txt"
[ "$(dpkg-deb --field "$deb" Package)" = hallmonitor ] || fail "the package is not named hallmonitor"
[ "$(dpkg-deb --field "$deb" Architecture)" = amd64 ] || fail "the package is not for amd64"
depends=$(dpkg-deb --field "$deb" Depends)
for want in libc6 libgtk-3-0 libwebkit2gtk-4.1-0 libjavascriptcoregtk-4.1-0 libsoup-3.0-0 libglib2.0-0; do
  grep -qE "(^|, )$want( |,|$)" <<<"$depends" || fail "Depends lacks $want: $depends"
done
grep -q -- '-dev\b' <<<"$depends" && fail "Depends names a -dev package: $depends"
for f in usr/bin/hallmonitor usr/share/applications/hallmonitor.desktop \
  usr/share/metainfo/io.github.hallmonitor.HallMonitor.metainfo.xml usr/share/man/man1/hallmonitor.1.gz \
  usr/share/doc/hallmonitor/copyright usr/share/doc/hallmonitor/changelog.gz \
  usr/share/icons/hicolor/{16x16,24x24,32x32,48x48,64x64,128x128,256x256,512x512}/apps/hallmonitor.png; do
  grep -q " \./$f\$" "$art/contents.txt" || fail "the package lacks /$f (file list in $art/contents.txt)"
done
ex=$tmp/deb
dpkg-deb -x "$deb" "$ex"
# Every binary the package ships needs only libraries of the packages it depends on.
while read -r lib; do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !n++ {print $NF}')
  [ -n "$path" ] || fail "the binary needs $lib, which no installed package provides"
  owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | cut -d: -f1 | head -1) || true
  [ -n "$owner" ] || owner=$(dpkg -S "$path" 2>/dev/null | cut -d: -f1 | head -1) || true
  grep -qE "(^|, )$owner( |,|$)" <<<"$depends" || fail "the binary needs $lib (package $owner), which Depends does not name: $depends"
done < <(objdump -p "$ex/usr/bin/hallmonitor" | awk '$1 == "NEEDED" {print $2}')
for s in 16 24 32 48 64 128 256 512; do
  got=$(identify -format '%wx%h' "$ex/usr/share/icons/hicolor/${s}x$s/apps/hallmonitor.png")
  [ "$got" = "${s}x$s" ] || fail "the ${s}x$s icon is $got"
done
# Running as root, lintian says so on stderr; its verdict is its exit status (2: an error tag) and the E: tags.
lintian --fail-on error "$deb" >"$art/lintian.txt" 2>&1 || fail "lintian reports errors: $(grep '^E:' "$art/lintian.txt" || cat "$art/lintian.txt")"
grep -q '^E:' "$art/lintian.txt" && fail "lintian reports errors: $(grep '^E:' "$art/lintian.txt")"
appstreamcli validate --no-net "$ex/usr/share/metainfo/io.github.hallmonitor.HallMonitor.metainfo.xml" >"$art/appstream.txt" 2>&1 ||
  fail "appstreamcli validate: $(cat "$art/appstream.txt")"
desktop-file-validate "$ex/usr/share/applications/hallmonitor.desktop" >"$art/desktop-file-validate.txt" 2>&1 ||
  fail "desktop-file-validate: $(cat "$art/desktop-file-validate.txt")"
grep -qE '^(error|warning):|: error:' "$art/desktop-file-validate.txt" && fail "desktop-file-validate: $(cat "$art/desktop-file-validate.txt")"
manwarn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$ex/usr/share/man/man1/hallmonitor.1.gz" 2>&1 >"$art/man.txt")
[ -z "$manwarn" ] || fail "man --warnings on hallmonitor.1: $manwarn"
grep -q 'hallmonitor serve' "$art/man.txt" || fail "the man page has no 'hallmonitor serve' section ($art/man.txt)"
step "the .deb ($version) holds the binary, desktop entry, icons, metainfo, man page, copyright, changelog; Depends covers every NEEDED library; lintian, appstreamcli, desktop-file-validate and man are clean"

# The per-user install (make install PREFIX=...) of the same staged tree, and its uninstall.
prefix=$tmp/prefix
mkdir -p "$prefix/share/applications"
echo keep >"$prefix/share/applications/other.desktop"
bash build/scripts/install-user.sh install "$prefix" >"$art/install-user.txt" 2>&1 || fail "install-user.sh install: $(cat "$art/install-user.txt")"
[ "$("$prefix/bin/hallmonitor" version)" = "hallmonitor $version" ] || fail "the per-user install's binary is not version $version"
grep -qx "Exec=$prefix/bin/hallmonitor" "$prefix/share/applications/hallmonitor.desktop" || fail "the per-user desktop entry does not run $prefix/bin/hallmonitor"
desktop-file-validate "$prefix/share/applications/hallmonitor.desktop" || fail "desktop-file-validate on the per-user desktop entry"
for f in share/man/man1/hallmonitor.1.gz share/icons/hicolor/48x48/apps/hallmonitor.png share/metainfo/io.github.hallmonitor.HallMonitor.metainfo.xml; do
  [ -f "$prefix/$f" ] || fail "the per-user install lacks $prefix/$f"
done
bash build/scripts/install-user.sh uninstall "$prefix" >>"$art/install-user.txt" 2>&1 || fail "install-user.sh uninstall: $(cat "$art/install-user.txt")"
left=$(cd "$prefix" && find . -mindepth 1 ! -path ./share ! -path ./share/applications ! -path ./share/applications/other.desktop)
[ -z "$left" ] || fail "install-user.sh uninstall left: $left"
[ -f "$prefix/share/applications/other.desktop" ] || fail "install-user.sh uninstall removed a file it did not install"
step "the per-user install (make install PREFIX=...) puts the binary, desktop entry (Exec=PREFIX/bin/hallmonitor), icons, man page and metainfo under PREFIX; uninstall removes exactly those"

# 3. Install it as a user would.
if dpkg -s hallmonitor >/dev/null 2>&1 && dpkg -s hallmonitor | grep -q '^Status: install ok installed'; then
  fail "hallmonitor $(dpkg-query -W -f '${Version}' hallmonitor) is already installed with dpkg; this test installs and removes it, so remove it first (apt-get remove hallmonitor)"
fi
installed_by_us=1
apt_get install -y -qq --no-install-recommends "$deb" >"$art/apt-install.txt" 2>&1 || fail "apt-get install $deb: $(tail -5 "$art/apt-install.txt")"
[ "$(dpkg-query -W -f '${Version}' hallmonitor)" = "$version" ] || fail "apt-get install did not install version $version"
dpkg -L hallmonitor >"$art/dpkg-L.txt"
[ "$(/usr/bin/hallmonitor version)" = "hallmonitor $version" ] || fail "/usr/bin/hallmonitor version says '$(/usr/bin/hallmonitor version)', not $version"
step "apt-get install put $(wc -l <"$art/dpkg-L.txt") paths in place; /usr/bin/hallmonitor version = $version"

# 4. A user's first run, from /, with a fresh home.
home=$tmp/home
export HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share XDG_STATE_HOME=$home/.local/state XDG_CACHE_HOME=$home/.cache
unset HALLMONITOR_CONFIG_DIR HALLMONITOR_DATA_DIR HALLMONITOR_PORT HALLMONITOR_REGISTRY_URL
export WEBKIT_DISABLE_DMABUF_RENDERER=1
cfg=$XDG_CONFIG_HOME/hallmonitor
data=$XDG_DATA_HOME/hallmonitor
mkdir -p "$cfg" "$home/workers"
port=$(free_port)
cat >"$cfg/config.json" <<JSON
{"port": $port, "registry_url": "http://127.0.0.1:9", "workers_dir": "$home/workers", "rules_path": "$cfg/rules.json",
 "default_profile": "prof.dev.permissive", "setup_completed_at": "2026-01-01T00:00:00Z"}
JSON
cp -r examples/echo-worker "$home/workers/echo-worker"
cd /
hm=/usr/bin/hallmonitor
$hm attest keygen --namespace x.example --out "$cfg/keys" >"$tmp/cli.log" 2>&1 || fail "attest keygen: $(cat "$tmp/cli.log")"
$hm attest build --package "$home/workers/echo-worker" --worker-id x.example.echo --species wrk.example.echo --version 1.0.0 \
  --key "$cfg/keys/x.example.key" >>"$tmp/cli.log" 2>&1 || fail "attest build: $(cat "$tmp/cli.log")"
$hm enroll --record "$home/workers/echo-worker/registry_record.json" --package "$home/workers/echo-worker" \
  --public-key "$cfg/keys/x.example.pub" >>"$tmp/cli.log" 2>&1 || fail "enroll: $(cat "$tmp/cli.log")"
cat >"$cfg/rules.json" <<'JSON'
{"rules": [{"rule_id": "r_echo", "match": {"capability_id": "cap.example.echo"},
            "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.example.echo"}]}}]}
JSON
[ -f "$data/hall.db" ] || fail "enroll wrote no database at $data/hall.db (XDG_DATA_HOME is not honoured)"

# The menu's way to start it: the desktop entry's Exec line, field codes (%U, %f, ...) dropped, run from /.
entry=/usr/share/applications/hallmonitor.desktop
exec_line=$(awk '/^Exec=/ && !n++ {sub(/^Exec=/, ""); print}' "$entry")
[ -n "$exec_line" ] || fail "$entry has no Exec line"
read -r -a argv <<<"$(sed -E 's/ ?%[fFuUdDnNickvm]//g' <<<"$exec_line")"
resolved=$(command -v "${argv[0]}") || fail "the Exec line's program '${argv[0]}' is not on PATH"
[ "$(realpath "$resolved")" = "$hm" ] || fail "the Exec line '$exec_line' runs $resolved, not $hm"
start_xvfb "$tmp/xvfb.log"
"${argv[@]}" >"$tmp/app.log" 2>&1 & app=$!; pids+=($app)
wait_window "$app"
shot=$art/window.png
ok=""
ocr_until 20 "$shot" 'Hall status|Decisions today' && ok=1
printf '%s\n' "$text" >"$art/window-ocr.txt"
colors=$(convert "$shot" -format '%k' info:)
[ "$colors" -gt 16 ] || fail "the screenshot has only $colors colours: the window is blank ($shot)"
[ -n "$ok" ] || fail "the dashboard's text is not on screen (OCR in $art/window-ocr.txt, screenshot $shot)"
step "the desktop entry's Exec ('$exec_line', from /) opened the window: $colors colours, the dashboard on screen ($shot)"

tok=$(cat "$cfg/api-token") || fail "the app wrote no API token in $cfg"
api() { curl -fsS -H "Content-Type: application/json" -H "Authorization: Bearer $tok" "http://127.0.0.1:$port$1" -d "$2"; }
api /wcp/route '{"input": {"capability_id": "cap.example.echo", "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low",
  "qos_class": "P2", "tenant_id": "t1", "correlation_id": "pkg-1", "request": {"text": "hi from the package test"}}}' \
  >"$art/route.json" 2>"$tmp/curl.log" || fail "POST /wcp/route to the installed app: $(cat "$tmp/curl.log")"
read -r denied species id < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["decision"]; print(d["denied"], d["selected_worker_species_id"], d["decision_id"])' "$art/route.json") ||
  fail "the route answer is not a decision: $(cat "$art/route.json")"
[ "$denied" = False ] && [ "$species" = wrk.example.echo ] || fail "the request was not routed to wrk.example.echo: $(cat "$art/route.json")"
api /wcp/dispatch "{\"decision_id\": \"$id\"}" >"$art/dispatch.json" 2>"$tmp/curl.log" || fail "POST /wcp/dispatch: $(cat "$tmp/curl.log")"
grep -q 'hi from the package test' "$art/dispatch.json" || fail "the worker's answer lacks the request: $(cat "$art/dispatch.json")"
# The window shows it: its status bar (the window's bottom line, read on its own) counts the decision, brought by
# the event stream.
eval "$(xdotool getwindowgeometry --shell "$wid")"
seen=""
for _ in $(seq 10); do
  sleep 1
  import -window root "$art/window-routed.png"
  convert "$art/window-routed.png" -crop "600x30+$X+$((Y + HEIGHT - 32))" +repage -colorspace Gray -resize 300% "$tmp/ocr.png"
  text=$(tesseract "$tmp/ocr.png" - --psm 7 2>/dev/null || true)
  if grep -qE '\b1 decisions?\b' <<<"$text"; then seen=1; break; fi # OCR misreads the small print after it
done
printf '%s\n' "$text" >"$art/window-routed-ocr.txt"
[ -n "$seen" ] || fail "the window does not show the routed decision ('1 decisions today'; OCR in $art/window-routed-ocr.txt)"
step "an agent's request was routed to wrk.example.echo (decision $id), the installed Hall ran the worker, and the window counts the decision"
kill "$app" && wait "$app" 2>/dev/null || true

# 5. Remove it: nothing of the package stays, the user's Hall does.
apt_get remove -y -qq hallmonitor >"$art/apt-remove.txt" 2>&1 || fail "apt-get remove hallmonitor: $(tail -5 "$art/apt-remove.txt")"
installed_by_us=""
dpkg -s hallmonitor 2>/dev/null | grep -q '^Status: install ok installed' && fail "hallmonitor is still installed after apt-get remove"
left=""
while read -r p; do
  if [ -f "$p" ] || [ -L "$p" ]; then left="$left $p"
  elif [ -d "$p" ] && ! dpkg -S "$p" >/dev/null 2>&1 && [ -z "$(ls -A "$p")" ]; then left="$left $p/"; fi
done <"$art/dpkg-L.txt"
[ -z "$left" ] || fail "apt-get remove left files of the package behind:$left"
for f in "$cfg/config.json" "$cfg/api-token" "$cfg/rules.json" "$data/hall.db"; do
  [ -s "$f" ] || fail "apt-get remove took the user's $f"
done
step "apt-get remove left none of the package's $(wc -l <"$art/dpkg-L.txt") paths; the user's config, token, rules and database are kept"
echo "package-test: took $(($(date +%s) - start)) s"
echo "1 passed, 0 failed"
