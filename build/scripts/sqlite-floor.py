#!/usr/bin/env python3
"""The SQLite floor of batched ingest on this machine, without Go, HTTP or JSON.

Applies the Hall's own migrations (hallapi/store/migrations/*.sql) to a fresh WAL database with
synchronous=FULL (as the store opens it) and inserts 20 batches of 1000 decisions, each decision
with its event row, one transaction per batch, through Python's sqlite3. Variants drop the event rows
or the four feed-filter indexes, to show what each costs. Prints ms per 1000 and decisions/s.

    python3 build/scripts/sqlite-floor.py [base|noev|noidx ...]
"""
import glob
import json
import os
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = sorted(glob.glob(os.path.join(HERE, "..", "..", "hallapi", "store", "migrations", "*.sql")))
FULL = json.dumps({"decision_id": "x", "capability_id": "cap.doc.summarize", "tenant_id": "t1", "env": "dev", "denied": False,
                   "candidate_workers_ranked": [], "required_controls_effective": [], "recommended_profiles_effective": [],
                   "telemetry_envelopes": []})
SUMMARY = json.dumps({"decision_id": "b1-1", "timestamp": "2026-12-01T23:00:00.000000Z", "outcome": "allowed", "denied": False,
                      "deny_code": "", "deny_message": "", "capability_id": "cap.doc.summarize", "tenant_id": "t1", "env": "dev",
                      "data_label": "", "correlation_id": "corr-1", "matched_rule_id": "", "selected_worker_species_id": "wrk.doc.summarizer",
                      "blast_score": None, "supervisor_required": False, "pending_approval_id": "", "dry_run": False, "source": "ingest"})
FILTER_INDEXES = ("decisions_outcome", "decisions_capability", "decisions_tenant", "decisions_worker")


def run(name, events=True, drop=(), batches=20):
    with tempfile.TemporaryDirectory() as d:
        c = sqlite3.connect(os.path.join(d, "hall.db"), isolation_level=None)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=FULL")
        for m in MIGRATIONS:
            c.executescript(open(m).read())
        for ix in drop:
            c.execute(f"DROP INDEX {ix}")
        t0 = time.perf_counter()
        for i in range(batches):
            c.execute("BEGIN")
            for j in range(1000):
                c.execute(
                    "INSERT OR IGNORE INTO decisions(decision_id,ts,ts_us,outcome,deny_code,deny_message,capability_id,tenant_id,env,"
                    "data_label,correlation_id,matched_rule_id,selected_worker,blast_score,supervisor_required,pending_approval_id,"
                    "dry_run,source,rules_hash,decision_json,input_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (f"b{i}-{j}", "2026-12-01T23:00:00Z", i * 1000 + j, "allowed", "", "", "cap.doc.summarize", f"t{j % 4}", "dev", "",
                     f"corr-{j}", "", "wrk.doc.summarizer", None, 0, "", 0, "ingest", "", FULL, "null"))
                if events:
                    c.execute("INSERT INTO events(type,time,data) VALUES (?,?,?)", ("decision.recorded", "2026-12-01T23:00:00Z", SUMMARY))
            c.execute("COMMIT")
        dt = time.perf_counter() - t0
        c.close()
    print(f"{name:6s} {dt / batches * 1000:6.1f} ms per 1000 decisions  {batches * 1000 / dt:8.0f} decisions/s")


VARIANTS = {"base": {}, "noev": {"events": False}, "noidx": {"drop": FILTER_INDEXES}}
for v in sys.argv[1:] or ["base", "noev", "noidx"]:
    run(v, **VARIANTS[v])
