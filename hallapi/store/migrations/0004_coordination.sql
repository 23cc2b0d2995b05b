-- Coordination (multi-agent task board): the agents that heartbeat, the tasks they and people share,
-- advisory file locks and messages. Times as in v1: RFC 3339 text plus integer microseconds where
-- the Hall orders or compares by time.

CREATE TABLE coord_agents (
    id            TEXT PRIMARY KEY,
    name          TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    registered_at TEXT    NOT NULL,
    last_seen     TEXT    NOT NULL,
    last_seen_us  INTEGER NOT NULL
);

CREATE TABLE coord_tasks (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    title        TEXT    NOT NULL,
    details      TEXT    NOT NULL DEFAULT '',
    owner        TEXT    NOT NULL DEFAULT 'any',
    priority     TEXT    NOT NULL CHECK (priority IN ('P0','P1','P2')),
    agent_type   TEXT    NOT NULL DEFAULT 'any',
    section      TEXT    NOT NULL DEFAULT '',
    location     TEXT    NOT NULL DEFAULT '',
    predecessors TEXT    NOT NULL DEFAULT '[]', -- JSON array of task ids
    dep_type     TEXT    NOT NULL CHECK (dep_type IN ('FS','SS','FF','SF')),
    status       TEXT    NOT NULL CHECK (status IN ('pending','in_progress','done')),
    claimed_by   TEXT    NOT NULL DEFAULT '',
    result       TEXT    NOT NULL DEFAULT '',
    created_by   TEXT    NOT NULL,
    updated_by   TEXT    NOT NULL,
    completed_by TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    claimed_at   TEXT    NOT NULL DEFAULT '',
    completed_at TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX coord_tasks_claimed ON coord_tasks(claimed_by, status);

CREATE TABLE coord_locks (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    path        TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    acquired_at TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    expires_us  INTEGER NOT NULL,
    released_at TEXT    NOT NULL DEFAULT '',
    released_by TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX coord_locks_path ON coord_locks(path, released_at, expires_us);

CREATE TABLE coord_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    from_id    TEXT NOT NULL,
    to_id      TEXT NOT NULL,
    message    TEXT NOT NULL,
    task_id    TEXT NOT NULL DEFAULT '',
    msg_type   TEXT NOT NULL CHECK (msg_type IN ('message','result','alert')),
    created_at TEXT NOT NULL
);
CREATE INDEX coord_messages_to ON coord_messages(to_id, id);
