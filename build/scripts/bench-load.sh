#!/usr/bin/env bash
# Load test of the real binary: starts `hallmonitor serve` on a free loopback port with a fresh config and
# data directory, runs hallload (ingest over HTTP, batched and single, with an SSE subscriber measuring the
# ingest-to-event latency), prints its throughput and percentiles, and stops the server. Rerunnable.
set -euo pipefail
bin=${1:-build/bin/hallmonitor}
n_batch=${N_BATCH:-100000}
n_single=${N_SINGLE:-5000}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
port=$(free_port)
HALLMONITOR_CONFIG_DIR=$tmp/config HALLMONITOR_DATA_DIR=$tmp/data "$bin" serve --port "$port" >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/config/api-token" ] && curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
  sleep 0.1
done
go build -o "$tmp/hallload" ./internal/tools/hallload
echo "== batched ingest: $n_batch decisions, batches of 1000, 2 clients"
"$tmp/hallload" -url "http://127.0.0.1:$port" -token-file "$tmp/config/api-token" -n "$n_batch" -batch 1000 -clients 2
echo "== single ingest: $n_single decisions, one per request, 2 clients"
"$tmp/hallload" -url "http://127.0.0.1:$port" -token-file "$tmp/config/api-token" -n "$n_single" -batch 1 -clients 2
