#!/usr/bin/env bash
# Load test of the real binary. Each run starts `hallmonitor serve` on a free loopback port with a fresh config
# and data directory and stops it after.
#  1. Route: hallload -mode route against POST /wcp/route with 1, 8 and 32 concurrent agents at 1, 100 and 1,000
#     enrolled workers (decisions/s, p50, p99, server CPU µs per decision from /proc/<pid>/stat), a run at a fixed
#     offered rate of 1,000 decisions/s (p99), and the engine's own rate (`hallmonitor route --bench`) for the ratio.
#  2. MCP: a tool call proxied by `hallmonitor mcp --http` (decision, receipt, dispatch, forward) against a direct call
#     to the same MCP test server (p50, p99, overhead).
#  3. Ingest: batched and single over HTTP (with an SSE subscriber measuring ingest-to-event latency), and batched
#     ingest as a ratio to the SQLite floor (build/scripts/sqlite-floor.py: same schema, WAL, synchronous=FULL).
# Rerunnable. N_ROUTE, N_BATCH, N_SINGLE, WORKER_COUNTS and AGENT_COUNTS scale it.
set -euo pipefail
bin=${1:-build/bin/hallmonitor}
n_route=${N_ROUTE:-20000}
n_batch=${N_BATCH:-100000}
n_single=${N_SINGLE:-5000}
worker_counts=${WORKER_COUNTS:-1 100 1000}
agent_counts=${AGENT_COUNTS:-1 8 32}
. "$(dirname "$0")/lib.sh"
scratch
go build -o "$tmp/hallload" ./internal/tools/hallload

# start_hall NAME: a fresh Hall under $tmp/NAME whose rules route cap.doc.summarize to wrk.doc.summarizer;
# sets port, pid, token_file.
start_hall() {
  local d=$tmp/$1
  port=$(free_port)
  hall_env "$d" "$port"
  cat >"$d/config/rules.json" <<'JSON'
{"rules":[{"rule_id":"r_doc","match":{"capability_id":"cap.doc.summarize"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.doc.summarizer","score_hint":1.0}]}},
 {"rule_id":"r_mcp","match":{"capability_id":"cap.mcp.bench"},"decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.mcp.bench"}]}}]}
JSON
  "$bin" serve --port "$port" >"$d/serve.out" 2>"$d/serve.err" &
  pid=$!
  pids+=("$pid")
  # the person's credential: the load also enrolls workers (the person's
  # scope); routing and ingest are open to it as to an agent
  token_file=$d/config/admin-token
  for _ in $(seq 100); do
    [ -s "$token_file" ] && curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "hallmonitor serve did not start:" >&2
  cat "$d/serve.err" >&2
  return 1
}

stop_hall() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }

load() { "$tmp/hallload" -url "http://127.0.0.1:$port" -token-file "$token_file" "$@"; }

echo "== $(date -u +%FT%TZ)  nproc $(nproc)  $(uname -m)"
echo "== the engine alone (hallmonitor route --bench, conformance cases)"
"$bin" route --cases core/conformance/testdata/cases.json --bench 2000 | python3 -c '
import json, statistics, sys
b = [r for r in map(json.loads, sys.stdin) if "decisions_per_sec" in r]
rate = statistics.median(r["decisions_per_sec"] for r in b)
p50 = statistics.median(r["p50_us"] for r in b)
print("engine: %d decision cases, median %.0f decisions/s, median p50 %.2f us" % (len(b), rate, p50))' | tee "$tmp/engine.txt"

echo "== route: POST /wcp/route of the real binary (one rule, receipts signed, synchronous=FULL)"
for w in $worker_counts; do
  start_hall "route-$w"
  load -mode route -enroll "$w" -agents 1 -n 200 -label warmup >/dev/null
  for a in $agent_counts; do
    load -mode route -agents "$a" -n "$n_route" -pid "$pid" -label "${w}w" | tee -a "$tmp/route.txt"
  done
  if [ "$w" = "1" ]; then
    load -mode route -rate 1000 -n 10000 -pid "$pid" -label "${w}w"
  fi
  stop_hall
done
awk 'FNR==NR { eng = $6; next } { for (i = 1; i <= NF; i++) if ($i == "decisions/s") r[$2" "$3] = $(i-1) }
     END { for (k in r) printf "route %-12s agents: %6.0f decisions/s = 1/%.0f of the engine alone (%.0f/s)\n", k, r[k], eng / r[k], eng }' \
  "$tmp/engine.txt" "$tmp/route.txt" | sort -V

echo "== MCP: a call proxied by hallmonitor mcp vs a direct call to the same MCP test server"
go build -o "$tmp/mcptestserver" ./internal/testservers/mcptest/cmd/mcptestserver
"$tmp/mcptestserver" >"$tmp/mcptest.url" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/mcptest.url" ] && break; sleep 0.1; done
upstream=$(head -n 1 "$tmp/mcptest.url")
start_hall mcp
curl -fsS -X POST -H "Authorization: Bearer $(cat "$token_file")" -H 'Content-Type: application/json' \
  -d "{\"name\":\"bench\",\"transport\":\"http\",\"url\":\"$upstream\"}" "http://127.0.0.1:$port/api/mcp/servers" >/dev/null
mport=$(free_port)
"$bin" mcp --http "127.0.0.1:$mport" >"$tmp/mcp.out" 2>"$tmp/mcp.err" &
mpid=$!
pids+=("$mpid")
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$mport/" && break; sleep 0.1; done
# hallmonitor mcp --http takes agent tokens: agent default's (the api-token file)
load -mode mcp -mcp-hall "http://127.0.0.1:$mport/" -mcp-direct "$upstream" -mcp-server bench -n "${N_MCP:-2000}" \
  -token-file "${token_file%/*}/api-token"
kill "$mpid" 2>/dev/null || true
stop_hall

echo "== ingest over HTTP"
start_hall ingest
load -n "$n_batch" -batch 1000 -clients 2 | tee "$tmp/batch.txt"
load -n "$n_single" -batch 1 -clients 2
stop_hall
echo "== the SQLite floor (python sqlite3, same schema, WAL, synchronous=FULL)"
python3 "$(dirname "$0")/sqlite-floor.py" base | tee "$tmp/floor.txt"
awk 'FNR==NR { for (i = 1; i <= NF; i++) if ($i == "decisions/s,") rate = $(i-1); next }
     { floor = $(NF-1) } END { if (floor > 0) printf "batched ingest / SQLite floor: %.2f (target >= 0.80)\n", rate / floor }' \
  "$tmp/batch.txt" "$tmp/floor.txt"
