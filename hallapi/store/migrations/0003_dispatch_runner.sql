-- The process that runs a dispatch (the Hall's executor: "pid <n> <boot id>"); '' when an agent runs it
-- and reports the finish itself. A Hall that starts again finishes, as cancelled, the dispatches of a
-- runner that is gone, so Active Dispatches never shows a run nobody will finish.
ALTER TABLE dispatches ADD COLUMN runner TEXT NOT NULL DEFAULT '';
