#!/usr/bin/env bash
# Desktop figures of the real binary, rerunnable: seconds from start to a visible window (Xvfb), idle RSS of the
# window process and of its WebKit children after 30 s, idle RSS of `serve`, and the binary's size.
set -euo pipefail
bin=$(realpath "${1:-build/bin/hallmonitor}")
idle=${IDLE_SECONDS:-30}
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/config" "$tmp/data"
cat >"$tmp/config/config.json" <<JSON
{"data_dir": "$tmp/data", "port": $port, "registry_url": "http://127.0.0.1:9", "workers_dir": "$tmp/workers",
 "rules_path": "$tmp/config/rules.json", "default_profile": "prof.dev.permissive", "setup_completed_at": "2026-01-01T00:00:00Z"}
JSON
export HALLMONITOR_CONFIG_DIR="$tmp/config" HALLMONITOR_DATA_DIR="$tmp/data" XDG_CONFIG_HOME="$tmp/xdg" WEBKIT_DISABLE_DMABUF_RENDERER=1
echo "binary: $(stat -c %s "$bin") bytes"

disp=99; while [ -e "/tmp/.X11-unix/X$disp" ] || [ -e "/tmp/.X$disp-lock" ]; do disp=$((disp + 1)); done
Xvfb ":$disp" -screen 0 1280x860x24 -nolisten tcp >/dev/null 2>&1 & pids+=($!)
export DISPLAY=":$disp"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done 2>/dev/null || true
t0=$(date +%s%N)
"$bin" >"$tmp/app.log" 2>&1 & app=$!; pids+=($app)
until xdotool search --onlyvisible --name '^Hall Monitor$' >/dev/null 2>&1; do
  kill -0 "$app" 2>/dev/null || { cat "$tmp/app.log"; exit 1; }
  sleep 0.05
done
echo "start to visible window: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
sleep "$idle"
main=$(ps -o rss= -p "$app")
tree=$(ps -o rss= --pid "$app" --ppid "$app" | awk '{s+=$1} END {print s}')
echo "window idle RSS after ${idle} s: ${main} KiB (with WebKit processes: ${tree} KiB)"
kill "$app"; wait "$app" 2>/dev/null || true

port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --port "$port2" >"$tmp/serve.log" 2>&1 & srv=$!; pids+=($srv)
sleep "$idle"
echo "serve idle RSS after ${idle} s: $(ps -o rss= -p "$srv") KiB"
