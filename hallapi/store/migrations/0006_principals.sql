-- Agents and the person are different principals (issue 11): each agent has
-- its own named token, kept here only as a SHA-256 hash; every decision,
-- approval and dispatch names the principal that made it.
CREATE TABLE agents (
    agent_id     TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    token_hint   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    last_used_at TEXT NOT NULL DEFAULT '',
    revoked_at   TEXT NOT NULL DEFAULT '',
    revoked_by   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX agents_active_name ON agents(name) WHERE revoked_at = '';

ALTER TABLE decisions ADD COLUMN agent TEXT NOT NULL DEFAULT '';
CREATE INDEX decisions_agent ON decisions(agent, ts_us, seq);

-- The approval's grant: the exact call a person approved, used once.
ALTER TABLE approvals ADD COLUMN agent TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN grant_json TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN used_at TEXT NOT NULL DEFAULT '';

ALTER TABLE dispatches ADD COLUMN agent TEXT NOT NULL DEFAULT '';

-- Approvals' resolutions (approved, denied, expired) are signed receipts in
-- the tenant's chain too, so a chain is ordered by its own sequence, not by
-- the decisions': receipt_key is the decision id for a decision's receipt
-- and "<approval_id>:<status>" for an approval's.
CREATE TABLE receipts_v2 (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_key        TEXT NOT NULL UNIQUE,
    decision_id        TEXT NOT NULL REFERENCES decisions(decision_id) ON DELETE CASCADE,
    kind               TEXT NOT NULL DEFAULT 'decision' CHECK (kind IN ('decision','approval')),
    tenant_id          TEXT NOT NULL,
    receipt_hash       TEXT NOT NULL,
    prev_receipt_hash  TEXT NOT NULL DEFAULT '',
    receipt_json       TEXT NOT NULL
);
INSERT INTO receipts_v2(receipt_key, decision_id, kind, tenant_id, receipt_hash, prev_receipt_hash, receipt_json)
    SELECT r.decision_id, r.decision_id, 'decision', r.tenant_id, r.receipt_hash, r.prev_receipt_hash, r.receipt_json
    FROM receipts r JOIN decisions d ON d.decision_id = r.decision_id ORDER BY d.seq;
DROP TABLE receipts;
ALTER TABLE receipts_v2 RENAME TO receipts;
CREATE INDEX receipts_chain ON receipts(tenant_id, seq);
CREATE INDEX receipts_decision ON receipts(decision_id);
