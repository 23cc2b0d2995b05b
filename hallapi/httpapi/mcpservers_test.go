package httpapi_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"hallmonitor/internal/testservers/mcptest"
)

func TestMain(m *testing.M) {
	mcptest.ServeStdioIfAsked() // the stdio MCP server of TestMCPServersStdio
	os.Exit(m.Run())
}

type mcpServer struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Transport       string   `json:"transport"`
	URL             string   `json:"url"`
	Argv            []string `json:"argv"`
	Status          string   `json:"status"`
	ToolCount       int      `json:"tool_count"`
	Tools           []struct{ Name, Description string }
	LastPingAt      string `json:"last_ping_at"`
	LastError       string `json:"last_error"`
	CapabilityID    string `json:"capability_id"`
	WorkerSpeciesID string `json:"worker_species_id"`
}

func (e *env) mcpServers() []mcpServer {
	e.t.Helper()
	_, _, b := e.req("GET", "/api/mcp/servers", nil)
	var out struct{ Servers []mcpServer }
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("GET /api/mcp/servers: %s", b)
	}
	return out.Servers
}

func (e *env) addMCP(body map[string]any) mcpServer {
	e.t.Helper()
	code, _, b := e.req("POST", "/api/mcp/servers", body)
	var out struct{ Server mcpServer }
	if code != 201 || json.Unmarshal(b, &out) != nil {
		e.t.Fatalf("POST /api/mcp/servers %v: %d %s", body, code, b)
	}
	return out.Server
}

func (e *env) pingMCP(id string) mcpServer {
	e.t.Helper()
	code, _, b := e.req("POST", "/api/mcp/servers/"+id+"/ping", nil)
	var out struct {
		Status string
		Server mcpServer
	}
	if code != 200 || json.Unmarshal(b, &out) != nil || out.Status != out.Server.Status {
		e.t.Fatalf("ping %s: %d %s", id, code, b)
	}
	return out.Server
}

func toolNames(m mcpServer) string {
	var n []string
	for _, t := range m.Tools {
		n = append(n, t.Name)
	}
	return strings.Join(n, ",")
}

// A real go-sdk MCP server over streamable HTTP: add pings it (online, its
// tools), a stopped server pings offline, something that is not MCP pings
// error, remove deletes it; every change is an event.
func TestMCPServersHTTP(t *testing.T) {
	e := newEnv(t, testRules)
	up, err := mcptest.ListenHTTP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := e.addMCP(map[string]any{"name": "test-tools", "transport": "http", "url": up.URL})
	if m.Status != "online" || m.ToolCount != 2 || toolNames(m) != strings.Join(mcptest.Tools, ",") || m.LastPingAt == "" || m.LastError != "" {
		t.Fatalf("added server: %+v", m)
	}
	if m.CapabilityID != "cap.mcp.test-tools" || m.WorkerSpeciesID != "wrk.mcp.test-tools" || m.URL != up.URL {
		t.Fatalf("ids: %+v", m)
	}
	if list := e.mcpServers(); len(list) != 1 || list[0].ID != m.ID || list[0].Status != "online" {
		t.Fatalf("list: %+v", list)
	}
	// Same name again: conflict on the name, nothing stored.
	e.apiErr(409, "conflict", "name", "POST", "/api/mcp/servers", map[string]any{"name": "test-tools", "transport": "http", "url": up.URL})

	// The server stops: offline, with the reason, tools kept at zero.
	if err := up.Close(); err != nil {
		t.Fatal(err)
	}
	p := e.pingMCP(m.ID)
	if p.Status != "offline" || p.ToolCount != 0 || p.LastError == "" {
		t.Fatalf("stopped server: %+v", p)
	}

	// Something answers HTTP but is not an MCP server: error.
	notMCP := e.addMCP(map[string]any{"name": "not-mcp", "transport": "http", "url": e.base + "/api/health"})
	if notMCP.Status != "error" || notMCP.LastError == "" {
		t.Fatalf("non-MCP endpoint: %+v", notMCP)
	}

	e.ok(200, "DELETE", "/api/mcp/servers/"+m.ID, nil)
	e.apiErr(404, "not_found", "id", "DELETE", "/api/mcp/servers/"+m.ID, nil)
	e.apiErr(404, "not_found", "id", "POST", "/api/mcp/servers/"+m.ID+"/ping", nil)
	if list := e.mcpServers(); len(list) != 1 || list[0].Name != "not-mcp" {
		t.Fatalf("after remove: %+v", list)
	}
	var types []string
	for _, ev := range e.ok(200, "GET", "/api/events?since=0&timeout=0&types=mcp.server.added,mcp.server.pinged,mcp.server.removed", nil)["events"].([]any) {
		m := ev.(map[string]any)
		types = append(types, m["type"].(string))
		data := m["data"].(map[string]any)
		for _, secret := range []string{"url", "argv", "last_error"} {
			if _, leaked := data[secret]; leaked {
				t.Errorf("%s event carries %s (it can hold the server's keys): %v", m["type"], secret, data)
			}
		}
	}
	want := "mcp.server.added,mcp.server.pinged,mcp.server.pinged,mcp.server.added,mcp.server.pinged,mcp.server.removed"
	if strings.Join(types, ",") != want {
		t.Fatalf("events %v, want %s", types, want)
	}
}

// A stdio server is started from argv without a shell (this test binary,
// re-executed as an MCP server); a command that does not exist is an error.
func TestMCPServersStdio(t *testing.T) {
	e := newEnv(t, testRules)
	argv := mcptest.StdioArgv()
	m := e.addMCP(map[string]any{"name": "stdio-tools", "transport": "stdio", "command": `"` + argv[0] + `" ` + strings.Join(argv[1:], " ")})
	if m.Status != "online" || m.ToolCount != 2 || strings.Join(m.Argv, "\x00") != strings.Join(argv, "\x00") {
		t.Fatalf("stdio server: %+v", m)
	}
	if p := e.pingMCP(m.ID); p.Status != "online" || p.ToolCount != 2 {
		t.Fatalf("ping: %+v", p)
	}
	// ';' and the rest are plain arguments without a shell: refused, not run.
	e.apiErr(400, "invalid_field", "command", "POST", "/api/mcp/servers", map[string]any{"name": "x", "transport": "stdio", "command": "echo hi ; rm -rf /tmp/x"})
	bad := e.addMCP(map[string]any{"name": "missing", "transport": "stdio", "command": "/nonexistent/mcp-server --flag"})
	if bad.Status != "error" || !strings.Contains(bad.LastError, "nonexistent") {
		t.Fatalf("missing command: %+v", bad)
	}
}

// Bad input names the field and stores nothing; every route needs the token.
func TestMCPServersValidation(t *testing.T) {
	e := newEnv(t, testRules)
	for _, c := range []struct {
		body        any
		code, field string
	}{
		{map[string]any{"transport": "http", "url": "http://127.0.0.1:1/mcp"}, "missing_field", "name"},
		{map[string]any{"name": "Has Spaces", "transport": "http", "url": "http://127.0.0.1:1/mcp"}, "invalid_field", "name"},
		{map[string]any{"name": "1abc", "transport": "http", "url": "http://127.0.0.1:1/mcp"}, "invalid_field", "name"},
		{map[string]any{"name": strings.Repeat("a", 33), "transport": "http", "url": "http://127.0.0.1:1/mcp"}, "invalid_field", "name"},
		{map[string]any{"name": "ok"}, "missing_field", "transport"},
		{map[string]any{"name": "ok", "transport": "sse"}, "invalid_field", "transport"},
		{map[string]any{"name": "ok", "transport": "http"}, "missing_field", "url"},
		{map[string]any{"name": "ok", "transport": "http", "url": "ftp://x/mcp"}, "invalid_field", "url"},
		{map[string]any{"name": "ok", "transport": "http", "url": "localhost:3001/mcp"}, "invalid_field", "url"},
		{map[string]any{"name": "ok", "transport": "http", "url": "http://127.0.0.1:1/mcp", "command": "x"}, "invalid_field", "command"},
		{map[string]any{"name": "ok", "transport": "stdio"}, "missing_field", "command"},
		{map[string]any{"name": "ok", "transport": "stdio", "command": "   "}, "missing_field", "command"},
		{map[string]any{"name": "ok", "transport": "stdio", "command": "server | tee log"}, "invalid_field", "command"},
		{map[string]any{"name": "ok", "transport": "stdio", "command": "server $(id)"}, "invalid_field", "command"},
		{map[string]any{"name": "ok", "transport": "stdio", "command": "server 'open"}, "invalid_field", "command"},
		{map[string]any{"name": "ok", "transport": "stdio", "command": "x", "url": "http://a/"}, "invalid_field", "url"},
		{map[string]any{"name": "ok", "transport": "stdio", "command": "x", "argv": []string{"x"}}, "unknown_field", "argv"},
	} {
		e.apiErr(400, c.code, c.field, "POST", "/api/mcp/servers", c.body)
	}
	e.apiErr(400, "invalid_field", "id", "POST", "/api/mcp/servers/a%20b/ping", nil)
	for _, p := range [][2]string{{"GET", "/api/mcp/servers"}, {"POST", "/api/mcp/servers"}, {"DELETE", "/api/mcp/servers/x"}, {"POST", "/api/mcp/servers/x/ping"}} {
		e.apiErr(401, "unauthorized", "", p[0], p[1], `{"name":"tok","transport":"stdio","command":"x"}`, "Authorization", "")
	}
	if n := e.count("mcp_servers"); n != 0 {
		t.Fatalf("refused requests stored %d servers", n)
	}
}
