#!/usr/bin/env bash
# readme-tour.sh BIN: runs the README's "A five-minute tour (CLI)" as written, against the real binary BIN,
# in a fresh HOME (so ~/.config/hallmonitor and ~/.local/share/hallmonitor are new and empty) with a copy of
# examples/ in the working folder. It fails when a command of the tour fails, when the tour's last answer is
# not a succeeded run of the echo worker, or when the README section or its sh block is gone.
#
# What is substituted in the README text, and only this:
#   - `hallmonitor` is a shell function that runs BIN (the binary under test, not one on PATH);
#   - the line `hallmonitor serve &` starts BIN serve in the background with its output in serve.log, and waits
#     until it answers /api/health (the README's `&` leaves the user's shell to wait by hand);
#   - the port 8765 in the curl URLs is a free port (HALLMONITOR_PORT), so the test never meets a Hall the
#     developer already runs on the default port.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$bin" ] || { echo "readme-tour: no binary at $1 (run make build)"; exit 1; }

# The section runs from its heading to the next heading; every ```sh block in it is the tour, in order.
tour=$(awk '/^### A five-minute tour \(CLI\)/ {on=1; next} on && !code && /^#+ / {exit}
  on && /^```sh$/ {code=1; next} on && code && /^```$/ {code=0; next} on && code {print}' "$root/README.md")
[ -n "$tour" ] || { echo "readme-tour: README.md has no sh block under '### A five-minute tour (CLI)'"; exit 1; }
grep -q '^hallmonitor serve &' <<<"$tour" ||
  { echo "readme-tour: the tour no longer starts the Hall with a line 'hallmonitor serve &'; update this script"; exit 1; }

scratch
port=$(free_port)
mkdir -p "$tmp/home"
cp -r "$root/examples" "$tmp/home/"
script="$tmp/tour.sh"
{
  echo 'set -euo pipefail'
  echo "hallmonitor() { \"$bin\" \"\$@\"; }"
  echo 'serve_in_background() {'
  echo "  \"$bin\" serve >\"$tmp/serve.log\" 2>&1 & echo \$! >\"$tmp/serve.pid\""
  echo "  for _ in \$(seq 100); do curl -fsS http://127.0.0.1:$port/api/health >/dev/null 2>&1 && return 0; sleep 0.1; done"
  echo "  echo 'readme-tour: serve did not answer within 10 s:'; cat \"$tmp/serve.log\"; return 1"
  echo '}'
  sed -e 's/^hallmonitor serve &.*/serve_in_background/' -e "s/127\\.0\\.0\\.1:8765/127.0.0.1:$port/g" <<<"$tour"
} >"$script"

set +e
(
  cd "$tmp/home"
  env -i PATH="$PATH" HOME="$tmp/home" HALLMONITOR_PORT="$port" bash "$script"
) >"$tmp/out.log" 2>&1
rc=$?
set -e
[ -f "$tmp/serve.pid" ] && pids+=("$(cat "$tmp/serve.pid")")
cat "$tmp/out.log"; echo
if [ $rc -ne 0 ]; then
  echo "readme-tour: FAILED (exit $rc) running the README tour; the script that ran:"; cat -n "$script"
  [ -f "$tmp/serve.log" ] && { echo "--- serve.log"; cat "$tmp/serve.log"; }
  exit 1
fi
# the answers are JSON without a final newline: the last line ends with the run's answer
last=$(tail -n 1 "$tmp/out.log")
if ! jq -se 'last | .dispatch.outcome == "succeeded" and .output.echo.request.text == "hi"' >/dev/null 2>&1 <<<"$last"; then
  echo "readme-tour: FAILED: the tour's last answer is not a succeeded echo run of {\"text\": \"hi\"}"; exit 1
fi
echo "readme-tour: the README tour ran as written and the echo worker answered"
