-- A decision's dispatches are looked up by decision (its detail view, and the
-- one-run-per-decision check when a dispatch starts): index them.
CREATE INDEX dispatches_decision ON dispatches(decision_id, started_us);
