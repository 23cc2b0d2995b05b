#!/usr/bin/env bash
# Desktop figures of the real binary, rerunnable: seconds from start to a visible window (Xvfb), idle RSS of the
# window process and of its WebKit children after 30 s, idle RSS of `serve`, and the binary's size.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bin=$(realpath "${1:-build/bin/hallmonitor}")
idle=${IDLE_SECONDS:-30}
scratch
hall_env "$tmp" "$(free_port)"
echo "binary: $(stat -c %s "$bin") bytes"

start_xvfb /dev/null
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

"$bin" serve --port "$(free_port)" >"$tmp/serve.log" 2>&1 & srv=$!; pids+=($srv)
sleep "$idle"
echo "serve idle RSS after ${idle} s: $(ps -o rss= -p "$srv") KiB"
