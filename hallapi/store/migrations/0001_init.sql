-- Hall Monitor schema v1. Times are stored twice: RFC 3339 text (as shown by the
-- API) and integer microseconds since the Unix epoch (for ordering and ranges).

CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    type    TEXT    NOT NULL,
    time    TEXT    NOT NULL,
    data    TEXT    NOT NULL
);
CREATE INDEX events_type ON events(type, id);

CREATE TABLE enrollments (
    worker_id           TEXT PRIMARY KEY,
    worker_species_id   TEXT NOT NULL,
    capabilities        TEXT NOT NULL,           -- JSON array of capability ids
    risk_tier           TEXT NOT NULL DEFAULT '',
    blast_score         INTEGER,
    controls            TEXT NOT NULL DEFAULT '[]', -- JSON array of control ids
    guarantee           TEXT NOT NULL DEFAULT '',
    package_path        TEXT NOT NULL DEFAULT '',
    record              TEXT NOT NULL,           -- the registry record as enrolled (JSON object)
    artifact_hash       TEXT NOT NULL DEFAULT '',
    enrolled_at         TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    attestation         TEXT NOT NULL,           -- JSON Attestation
    registry            TEXT NOT NULL            -- JSON RegistryState
);
CREATE INDEX enrollments_species ON enrollments(worker_species_id);

CREATE TABLE decisions (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id         TEXT    NOT NULL UNIQUE,
    ts                  TEXT    NOT NULL,
    ts_us               INTEGER NOT NULL,
    outcome             TEXT    NOT NULL CHECK (outcome IN ('allowed','denied','pending')),
    deny_code           TEXT    NOT NULL DEFAULT '',
    deny_message        TEXT    NOT NULL DEFAULT '',
    capability_id       TEXT    NOT NULL DEFAULT '',
    tenant_id           TEXT    NOT NULL DEFAULT '',
    env                 TEXT    NOT NULL DEFAULT '',
    data_label          TEXT    NOT NULL DEFAULT '',
    correlation_id      TEXT    NOT NULL DEFAULT '',
    matched_rule_id     TEXT    NOT NULL DEFAULT '',
    selected_worker     TEXT    NOT NULL DEFAULT '',
    blast_score         INTEGER,
    supervisor_required INTEGER NOT NULL DEFAULT 0,
    pending_approval_id TEXT    NOT NULL DEFAULT '',
    dry_run             INTEGER NOT NULL DEFAULT 0,
    source              TEXT    NOT NULL CHECK (source IN ('route','ingest','mcp')),
    rules_hash          TEXT    NOT NULL DEFAULT '',
    decision_json       TEXT    NOT NULL,
    input_json          TEXT    NOT NULL DEFAULT 'null'
);
CREATE INDEX decisions_time       ON decisions(ts_us, seq);
CREATE INDEX decisions_outcome    ON decisions(outcome, ts_us, seq);
CREATE INDEX decisions_capability ON decisions(capability_id, ts_us, seq);
CREATE INDEX decisions_tenant     ON decisions(tenant_id, ts_us, seq);
CREATE INDEX decisions_worker     ON decisions(selected_worker, ts_us, seq);

CREATE TABLE receipts (
    decision_id        TEXT PRIMARY KEY REFERENCES decisions(decision_id) ON DELETE CASCADE,
    tenant_id          TEXT NOT NULL,
    receipt_hash       TEXT NOT NULL,
    prev_receipt_hash  TEXT NOT NULL DEFAULT '',
    receipt_json       TEXT NOT NULL
);

-- The head of each tenant's receipt chain.
CREATE TABLE receipt_heads (
    tenant_id     TEXT PRIMARY KEY,
    decision_id   TEXT NOT NULL,
    receipt_hash  TEXT NOT NULL,
    length        INTEGER NOT NULL
);

CREATE TABLE dispatches (
    dispatch_id        TEXT PRIMARY KEY,
    decision_id        TEXT NOT NULL REFERENCES decisions(decision_id),
    capability_id      TEXT NOT NULL,
    tenant_id          TEXT NOT NULL,
    worker_species_id  TEXT NOT NULL,
    worker_id          TEXT NOT NULL DEFAULT '',
    started_at         TEXT NOT NULL,
    started_us         INTEGER NOT NULL,
    finished_at        TEXT NOT NULL DEFAULT '',
    duration_ms        INTEGER,
    outcome            TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('','succeeded','failed','timed_out','cancelled')),
    error              TEXT NOT NULL DEFAULT '',
    result_hash        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dispatches_started ON dispatches(started_us, dispatch_id);
CREATE INDEX dispatches_active  ON dispatches(started_us) WHERE finished_at = '';

CREATE TABLE alerts (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id         TEXT NOT NULL UNIQUE,
    type             TEXT NOT NULL,
    severity         TEXT NOT NULL CHECK (severity IN ('critical','error','warning','info')),
    title            TEXT NOT NULL,
    body             TEXT NOT NULL DEFAULT '',
    worker_id        TEXT NOT NULL DEFAULT '',
    decision_id      TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    last_event_at    TEXT NOT NULL,
    count            INTEGER NOT NULL DEFAULT 1,
    acknowledged     INTEGER NOT NULL DEFAULT 0,
    acknowledged_at  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alerts_open ON alerts(type, worker_id, decision_id) WHERE acknowledged = 0;

CREATE TABLE approvals (
    approval_id      TEXT PRIMARY KEY,
    decision_id      TEXT NOT NULL REFERENCES decisions(decision_id),
    capability_id    TEXT NOT NULL,
    tenant_id        TEXT NOT NULL,
    matched_rule_id  TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('pending','approved','denied','escalated','expired')),
    created_at       TEXT NOT NULL,
    created_us       INTEGER NOT NULL,
    expires_at       TEXT NOT NULL,
    expires_us       INTEGER NOT NULL,
    resolved_at      TEXT NOT NULL DEFAULT '',
    resolved_by      TEXT NOT NULL DEFAULT '',
    note             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approvals_status ON approvals(status, created_us);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL     -- JSON
);
