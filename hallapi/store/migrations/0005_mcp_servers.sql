-- Connected MCP servers (Settings -> Connected MCPs). A server is reached over streamable HTTP (url) or
-- started as a subprocess speaking MCP on stdio (argv: a JSON list, executed without a shell). The last
-- ping's answer is kept: status, the tools it listed (names, descriptions, input schemas) and its error.
CREATE TABLE mcp_servers (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    transport    TEXT NOT NULL CHECK (transport IN ('http', 'stdio')),
    url          TEXT NOT NULL DEFAULT '',
    argv         TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings (stdio)
    status       TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN ('online', 'offline', 'error', 'unknown')),
    tool_count   INTEGER NOT NULL DEFAULT 0,
    tools        TEXT NOT NULL DEFAULT '[]',  -- JSON array of {name, description, input_schema}
    last_ping_at TEXT NOT NULL DEFAULT '',
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
