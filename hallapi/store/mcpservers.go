package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"hallmonitor/hallapi/events"
)

// MCP server transports and statuses.
const (
	MCPTransportHTTP  = "http"
	MCPTransportStdio = "stdio"

	MCPOnline  = "online"
	MCPOffline = "offline"
	MCPError   = "error"
	MCPUnknown = "unknown"
)

// MCPTool is one tool a connected MCP server listed at its last ping.
type MCPTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
}

// MCPServer is a connected MCP server (docs/api.md). Argv is the command of a
// stdio server, run without a shell.
type MCPServer struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Transport  string    `json:"transport"`
	URL        string    `json:"url"`
	Argv       []string  `json:"argv"`
	Status     string    `json:"status"`
	ToolCount  int       `json:"tool_count"`
	Tools      []MCPTool `json:"tools"`
	LastPingAt string    `json:"last_ping_at"`
	LastError  string    `json:"last_error"`
	CreatedAt  string    `json:"created_at"`
}

// MCPPing is the result of one ping of a server.
type MCPPing struct {
	Status string
	Tools  []MCPTool
	Error  string
}

const mcpCols = `id, name, transport, url, argv, status, tool_count, tools, last_ping_at, last_error, created_at`

func scanMCPServer(sc scanner) (MCPServer, error) {
	var m MCPServer
	var argv, tools string
	if err := sc.Scan(&m.ID, &m.Name, &m.Transport, &m.URL, &argv, &m.Status, &m.ToolCount, &tools, &m.LastPingAt, &m.LastError, &m.CreatedAt); err != nil {
		return m, err
	}
	if err := errors.Join(json.Unmarshal([]byte(argv), &m.Argv), json.Unmarshal([]byte(tools), &m.Tools)); err != nil {
		return m, err
	}
	if m.Argv == nil {
		m.Argv = []string{}
	}
	if m.Tools == nil {
		m.Tools = []MCPTool{}
	}
	return m, nil
}

// AddMCPServer stores a new server (status unknown until its first ping) with
// an mcp.server.added event. A name already in use is ErrConflict.
func (s *Store) AddMCPServer(ctx context.Context, name, transport, url string, argv []string) (MCPServer, error) {
	if argv == nil {
		argv = []string{}
	}
	var m MCPServer
	err := s.Write(ctx, func(t *Tx) error {
		m = MCPServer{ID: NewID("mcp"), Name: name, Transport: transport, URL: url, Argv: argv, Status: MCPUnknown,
			Tools: []MCPTool{}, CreatedAt: formatTime(t.now)}
		_, err := t.tx.Exec(`INSERT INTO mcp_servers(id, name, transport, url, argv, created_at) VALUES (?,?,?,?,?,?)`,
			m.ID, m.Name, m.Transport, m.URL, mustJSON(m.Argv), m.CreatedAt)
		var se sqlite3.Error
		if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
			return ErrConflict
		}
		if err != nil {
			return err
		}
		_, err = t.Emit(events.MCPServerAdded, m.event())
		return err
	})
	return m, err
}

// ListMCPServers lists the connected servers by name.
func (s *Store) ListMCPServers(ctx context.Context) ([]MCPServer, error) {
	return queryAll(ctx, s.r, scanMCPServer, `SELECT `+mcpCols+` FROM mcp_servers ORDER BY name`)
}

// GetMCPServer reads one server (ErrNotFound when there is none).
func (s *Store) GetMCPServer(ctx context.Context, id string) (MCPServer, error) {
	m, err := scanMCPServer(s.r.QueryRowContext(ctx, `SELECT `+mcpCols+` FROM mcp_servers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

// RecordMCPPing stores the result of a ping (status, tools, error, time)
// with an mcp.server.pinged event. ErrNotFound when the server was removed
// meanwhile.
func (s *Store) RecordMCPPing(ctx context.Context, id string, p MCPPing) (MCPServer, error) {
	if p.Tools == nil {
		p.Tools = []MCPTool{}
	}
	var m MCPServer
	err := s.Write(ctx, func(t *Tx) error {
		res, err := t.tx.Exec(`UPDATE mcp_servers SET status = ?, tool_count = ?, tools = ?, last_ping_at = ?, last_error = ? WHERE id = ?`,
			p.Status, len(p.Tools), mustJSON(p.Tools), formatTime(t.now), strings.TrimSpace(p.Error), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, ErrNotFound)
		}
		if m, err = scanMCPServer(t.tx.QueryRow(`SELECT `+mcpCols+` FROM mcp_servers WHERE id = ?`, id)); err != nil {
			return err
		}
		_, err = t.Emit(events.MCPServerPinged, m.event())
		return err
	})
	return m, err
}

// RemoveMCPServer deletes a server with an mcp.server.removed event
// (ErrNotFound when there is none).
func (s *Store) RemoveMCPServer(ctx context.Context, id string) (MCPServer, error) {
	var m MCPServer
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		m, err = scanMCPServer(t.tx.QueryRow(`SELECT `+mcpCols+` FROM mcp_servers WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := t.tx.Exec(`DELETE FROM mcp_servers WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = t.Emit(events.MCPServerRemoved, map[string]string{"id": m.ID, "name": m.Name})
		return err
	})
	return m, err
}

// mcpServerEvent is what the mcp.server.* events carry: no URL, command or
// error text, which can hold the keys a server is started with (events are
// kept and streamed to every subscriber).
type mcpServerEvent struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Transport  string `json:"transport"`
	Status     string `json:"status"`
	ToolCount  int    `json:"tool_count"`
	LastPingAt string `json:"last_ping_at"`
}

func (m MCPServer) event() mcpServerEvent {
	return mcpServerEvent{ID: m.ID, Name: m.Name, Transport: m.Transport, Status: m.Status, ToolCount: m.ToolCount, LastPingAt: m.LastPingAt}
}
