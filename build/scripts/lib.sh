# Shared by the scripts that start the real binary (window-smoke.sh, tray-smoke.sh, measure-desktop.sh,
# bench-load.sh): source it, then use its functions. Callers keep the pids they start in the array `pids`,
# and the screen helpers write their pictures into the caller's scratch folder `$tmp`.

# free_port prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

# hall_env DIR PORT writes a Hall whose first-time setup is done (so the window opens on the dashboard) under DIR
# and exports the variables that point the binary, and XDG config files, at it.
hall_env() {
  mkdir -p "$1/config" "$1/data"
  cat >"$1/config/config.json" <<JSON
{"data_dir": "$1/data", "port": $2, "registry_url": "http://127.0.0.1:9", "workers_dir": "$1/workers",
 "rules_path": "$1/config/rules.json", "default_profile": "prof.dev.permissive", "setup_completed_at": "2026-01-01T00:00:00Z"}
JSON
  export HALLMONITOR_CONFIG_DIR="$1/config" HALLMONITOR_DATA_DIR="$1/data" XDG_CONFIG_HOME="$1/xdg" WEBKIT_DISABLE_DMABUF_RENDERER=1
}

# start_xvfb LOG starts an X display of our own (never the developer's) and exports DISPLAY.
start_xvfb() {
  local disp=99
  while [ -e "/tmp/.X11-unix/X$disp" ] || [ -e "/tmp/.X$disp-lock" ]; do disp=$((disp + 1)); done
  Xvfb ":$disp" -screen 0 1280x860x24 -nolisten tcp >"$1" 2>&1 &
  pids+=($!)
  export DISPLAY=":$disp"
  for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done 2>/dev/null || true
}

# wait_window PID: waits up to 30 s for the visible window titled 'Hall Monitor' and sets $wid; calls the script's
# fail when PID exits first or no window shows.
wait_window() {
  wid=""
  for _ in $(seq 150); do
    kill -0 "$1" 2>/dev/null || fail "the app exited before opening a window"
    wid=$(xdotool search --onlyvisible --name '^Hall Monitor$' 2>/dev/null | head -1 || true)
    [ -n "$wid" ] && return 0
    sleep 0.2
  done
  fail "no visible window titled 'Hall Monitor' within 30 s"
}

# ocr_until TRIES SHOT REGEX...: once a second, up to TRIES times, screenshots the screen into SHOT until OCR of it
# finds every REGEX (case-insensitive). The last OCR text is in $text; returns 1 when it never does.
ocr_until() {
  local tries=$1 shot=$2 re all
  shift 2
  text=""
  for _ in $(seq "$tries"); do
    sleep 1
    import -window root "$shot"
    convert "$shot" -colorspace Gray -resize 200% "$tmp/ocr.png"
    text=$(tesseract "$tmp/ocr.png" - 2>/dev/null || true)
    all=1
    for re in "$@"; do grep -qiE "$re" <<<"$text" || all=""; done
    [ -n "$all" ] && return 0
  done
  return 1
}

# click_word clicks the first on-screen word $1 that OCR finds, $2 pixels to its right (negative: left).
# $3, optional, is the part of the screen to read (an ImageMagick geometry WxH+X+Y, e.g. the sidebar): OCR of a
# whole window sometimes loses a column of short labels next to icons, and reads the same column whole once it is
# cropped. If the default page layout finds nothing, it tries again as sparse text (--psm 11).
click_word() {
  local region=${3:-} ox=0 oy=0 x="" y="" psm
  import -window root "$tmp/click.png"
  if [ -n "$region" ]; then
    convert "$tmp/click.png" -crop "$region" +repage "$tmp/click.png"
    ox=${region#*+}; oy=${ox#*+}; ox=${ox%%+*}
  fi
  convert "$tmp/click.png" -colorspace Gray -resize 200% "$tmp/click2.png"
  for psm in 3 11; do
    read -r x y < <(tesseract "$tmp/click2.png" - --psm "$psm" tsv 2>/dev/null |
      awk -F'\t' -v w="$1" -v dx="${2:-0}" -v ox="$ox" -v oy="$oy" \
        '$12 == w {printf "%d %d\n", $7 / 2 + dx + ox, ($8 + $10 / 2) / 2 + oy; exit}') || true
    [ -n "${x:-}" ] && break
  done
  [ -n "${x:-}" ] && xdotool mousemove "$x" "$y" click 1
}

# scratch: a fresh temp dir in $tmp and the list $pids of processes the script starts; on exit the processes
# are killed and the dir removed.
scratch() {
  tmp=$(mktemp -d)
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
}
