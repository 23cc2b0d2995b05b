#!/usr/bin/env bash
# Tray test: the real desktop binary under Xvfb on a private D-Bus session bus, where build/scripts/traytest
# plays the desktop's tray (a StatusNotifierWatcher with a host). Checks that the app's StatusNotifierItem
# registers with its menu; that menu items (com.canonical.dbusmenu "clicked") navigate the window (OCR of the
# screen); that closing the window hides it while the process lives; that the icon (Activate) and a second
# launch bring it back; that turning close_to_tray off in the settings makes the next close quit; that Quit
# quits, also from the tray; and, with no D-Bus session at all, that the app starts, Settings says there is no
# tray and closing quits. Screenshots are kept in build/test-artifacts/tray.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bin=$(realpath "${1:-build/bin/hallmonitor}")
art=build/test-artifacts/tray
mkdir -p "$art"
rm -f "$art"/*
scratch
passed=0
fail() {
  echo "tray-smoke: FAIL: $*" >&2
  for f in "$tmp"/app*.log "$tmp/watch.log"; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" >&2; done
  echo "$passed passed, 1 failed"
  exit 1
}
ok() { passed=$((passed + 1)); echo "tray-smoke: ok (${SECONDS} s): $*"; }

go build -o "$tmp/traytest" ./build/scripts/traytest
tt() { "$tmp/traytest" "$@" || fail "traytest $* failed"; }

start_xvfb "$tmp/xvfb.log"
port=$(free_port)
hall_env "$tmp" "$port"
api() { curl -fsS -H "Content-Type: application/json" -H "Authorization: Bearer $(cat "$tmp/config/admin-token")" "$@"; } # the person's credential: settings are theirs

# the window's X id once it is visible ("" if it is not)
visible() { xdotool search --onlyvisible --name '^Hall Monitor$' 2>/dev/null | head -1 || true; }
wait_visible() { # $1 = what brought it up
  for _ in $(seq 100); do
    wid=$(visible)
    [ -n "$wid" ] && return 0
    kill -0 "$app" 2>/dev/null || fail "the app exited while waiting for the window ($1)"
    sleep 0.2
  done
  fail "no visible 'Hall Monitor' window within 20 s ($1)"
}
wait_hidden() {
  for _ in $(seq 25); do [ -z "$(visible)" ] && return 0; sleep 0.2; done
  fail "the window is still visible 5 s after $1"
}
wait_exit() { # $1 = what should have ended the app; its exit code must be 0
  for _ in $(seq 50); do
    if ! kill -0 "$app" 2>/dev/null; then
      local rc=0
      wait "$app" || rc=$?
      [ "$rc" = 0 ] || fail "the app exited with $rc after $1"
      return 0
    fi
    sleep 0.2
  done
  fail "the app still runs 10 s after $1"
}
screen_has() { # $1 = regexp that OCR must find on screen within 15 tries, $2 = picture name, $3 = "small": small print
  local text="" zoom=(-crop 1070x860+210+0) # the content beside the sidebar (whose labels would always match)
  [ "${3:-}" = small ] && zoom=(-crop 1070x480+210+380 -resize 300%) # the lower half (Settings: Display), larger
  for _ in $(seq 15); do
    import -window root "$art/$2.png"
    convert "$art/$2.png" -colorspace Gray "${zoom[@]}" "$tmp/ocr.png"
    text=$(tesseract "$tmp/ocr.png" - 2>/dev/null || true)
    grep -qiE "$1" <<<"$text" && return 0
    sleep 1
  done
  printf '%s\n' "$text" >"$art/$2-ocr.txt"
  fail "'$1' is not on screen (OCR text in $art/$2-ocr.txt)"
}
open_settings() { # clicks Settings in the sidebar (OCR of the sidebar alone, see window-smoke.sh), retrying
  for _ in $(seq 5); do click_word Settings 0 210x860+0+0 && sleep 1 && return 0; sleep 1; done
  fail "OCR found no 'Settings' in the sidebar"
}
start_app() { # $1 = log name
  "$bin" >"$tmp/$1.log" 2>&1 &
  app=$!
  pids+=($app)
  wait_visible "start"
}

# ---- a desktop with a tray ----
{ read -r bus && read -r buspid; } < <(dbus-daemon --session --fork --nopidfile --print-address=1 --print-pid=1) || true
[ -n "${buspid:-}" ] || fail "could not start a private D-Bus session bus"
pids+=("$buspid")
export DBUS_SESSION_BUS_ADDRESS="$bus"
"$tmp/traytest" watch >"$tmp/watch.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q watching "$tmp/watch.log" && break; sleep 0.1; done

start_app app
screen_has 'Decisions today' dashboard
menu=""
for _ in $(seq 50); do menu=$("$tmp/traytest" menu 2>/dev/null || true); grep -q '^Quit$' <<<"$menu" && break; sleep 0.2; done
printf '%s\n' "$menu" >"$art/menu.txt"
want=$'Open Dashboard\n-\nLive Feed\nWorkers\nAlerts\n-\nQuit'
[ "$(sed -n '3,$p' <<<"$menu")" = "-"$'\n'"$want" ] || fail "tray menu is not what the reference has (see $art/menu.txt): $menu"
grep -qE '^Hall: (local|local, signed in|connected to registry), no open alerts \(disabled\)$' <<<"$(sed -n 2p <<<"$menu")" || fail "tray status line: $(sed -n 2p <<<"$menu")"
grep -qE '^icon (16|22|24|32|48|64)x' <<<"$menu" || fail "tray icon: $(head -1 <<<"$menu")"
ok "a StatusNotifierItem registered on the bus with the menu and status line ($(sed -n 2p <<<"$menu" | sed 's/ (disabled)//'))"

tt click Alerts
screen_has 'Alerts .{0,3}open|No alerts' nav-alerts
tt click Workers
screen_has 'Workers .{0,3}enrolled|No workers enrolled' nav-workers
tt click 'Live Feed'
screen_has 'Pause|No decisions yet|DENY CODE' nav-feed
tt click 'Open Dashboard'
screen_has 'Decisions today' nav-dashboard
ok "each tray menu item navigated the window (Alerts, Workers, Live Feed, Open Dashboard)"

open_settings
screen_has 'tray found: with this on' settings-tray small
ok "Settings says a system tray was found"

wid=$(visible)
tt close "$wid"
wait_hidden "closing it (close_to_tray is on by default)"
sleep 1
kill -0 "$app" 2>/dev/null || fail "closing the window ended the app although a tray is there"
tt activate
wait_visible "activating the tray icon"
ok "closing hid the window to the tray and the process lived on; activating the icon showed it again"

tt close "$wid"
wait_hidden "closing it a second time"
"$bin" >"$tmp/app-second.log" 2>&1 || true
wait_visible "a second launch"
kill -0 "$app" 2>/dev/null || fail "the first instance ended at the second launch"
ok "a second launch showed the window hidden in the tray"

put_close_to_tray() { # $1 = true|false: read the settings, change close_to_tray, write them back (If-Match)
  local cur etag
  cur=$(api -D "$tmp/h.txt" "http://127.0.0.1:$port/api/settings") || fail "GET /api/settings"
  etag=$(awk 'tolower($1) == "etag:" {print $2}' "$tmp/h.txt" | tr -d '\r')
  sed -e 's/^{"settings"://' -e 's/}$//' -e "s/\"close_to_tray\":[a-z]*/\"close_to_tray\":$1/" <<<"$cur" >"$tmp/settings.json"
  api -X PUT -H "If-Match: $etag" --data @"$tmp/settings.json" "http://127.0.0.1:$port/api/settings" | grep -q "\"close_to_tray\":$1" ||
    fail "PUT /api/settings with close_to_tray=$1"
}
put_close_to_tray false
tt close "$wid"
wait_exit "closing the window with close_to_tray switched off (no restart)"
ok "with close_to_tray switched off, closing quit at once (exit 0)"

start_app app-quit
put_close_to_tray true
for _ in $(seq 50); do "$tmp/traytest" menu 2>/dev/null | grep -q '^Quit$' && break; sleep 0.2; done
wid=$(visible)
tt close "$wid"
wait_hidden "closing it with close_to_tray on again"
tt click Quit
wait_exit "Quit in the tray menu (window hidden)"
ok "Quit in the tray menu quit the app hidden in the tray (exit 0)"

# ---- no D-Bus session at all ----
kill "$buspid" 2>/dev/null || true
unset DBUS_SESSION_BUS_ADDRESS
mkdir -p "$tmp/run"
export XDG_RUNTIME_DIR="$tmp/run" # no bus socket there
start_app app-nobus
screen_has 'Decisions today' nobus-dashboard # drawn: the Settings link can be clicked
open_settings
screen_has 'tray found: closing quits' nobus-settings small
wid=$(visible)
tt close "$wid"
wait_exit "closing the window with no D-Bus session"
ok "with no D-Bus session the app started, Settings said there is no tray, and closing quit (exit 0)"
echo "$passed passed, 0 failed"
