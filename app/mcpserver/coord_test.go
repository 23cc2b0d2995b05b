package mcpserver

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/hallapi/coord"
	"hallmonitor/hallapi/events"
)

func toolErr(t *testing.T, out map[string]any, isErr bool, code, field string) {
	t.Helper()
	e, _ := out["error"].(map[string]any)
	if !isErr || e == nil || e["code"] != code || e["field"] != field || e["message"] == "" {
		t.Fatalf("want tool error %s on %q, got %v (isError %v)", code, field, out, isErr)
	}
}

// Two agents coordinate through the MCP tools; everything lands in the
// Hall's store (what the Coordination screen reads) with events.
func TestMCPCoordinationTools(t *testing.T) {
	h := startHall(t)
	ctx := context.Background()
	since := h.st.LastEventID()
	tools, err := h.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tl := range tools.Tools {
		have[tl.Name] = true
	}
	for _, n := range []string{ToolCoordHeartbeat, ToolCoordTasks, ToolCoordCreate, ToolCoordClaim, ToolCoordComplete, ToolCoordMessage,
		ToolCoordInbox, ToolCoordLock, ToolCoordUnlock} {
		if !have[n] {
			t.Fatalf("tool %s missing", n)
		}
	}

	// Nothing before a heartbeat.
	out, isErr := call(t, h.cs, ToolCoordCreate, map[string]any{"agent_id": "claude", "title": "x"})
	toolErr(t, out, isErr, "invalid_field", "agent_id")
	for _, id := range []string{"claude", "codex"} {
		if out, isErr := call(t, h.cs, ToolCoordHeartbeat, map[string]any{"agent_id": id, "type": "llm"}); isErr || out["agent"].(map[string]any)["status"] != "active" {
			t.Fatalf("heartbeat %s: %v", id, out)
		}
	}
	out, isErr = call(t, h.cs, ToolCoordHeartbeat, map[string]any{"agent_id": "bad id"})
	toolErr(t, out, isErr, "invalid_field", "id")

	out, isErr = call(t, h.cs, ToolCoordCreate, map[string]any{"agent_id": "claude", "title": "write the parser", "priority": "P0", "location": "core/parse.go"})
	if isErr || out["task"].(map[string]any)["id"] != "T1" || out["task"].(map[string]any)["created_by"] != "claude" {
		t.Fatalf("create: %v", out)
	}
	out, isErr = call(t, h.cs, ToolCoordCreate, map[string]any{"agent_id": "claude", "title": "x", "predecessors": []string{"T7"}})
	toolErr(t, out, isErr, "invalid_field", "predecessors[0]")
	out, isErr = call(t, h.cs, ToolCoordCreate, map[string]any{"agent_id": "claude", "title": "x", "priority": "urgent"})
	toolErr(t, out, isErr, "invalid_field", "priority")

	if out, isErr = call(t, h.cs, ToolCoordClaim, map[string]any{"agent_id": "codex", "task_id": "T1"}); isErr || out["task"].(map[string]any)["claimed_by"] != "codex" {
		t.Fatalf("claim: %v", out)
	}
	out, isErr = call(t, h.cs, ToolCoordClaim, map[string]any{"agent_id": "claude", "task_id": "T1"})
	toolErr(t, out, isErr, "conflict", "id")

	// File locks: codex holds it, claude is refused until it is released.
	if out, isErr = call(t, h.cs, ToolCoordLock, map[string]any{"agent_id": "codex", "path": "core/parse.go", "ttl_seconds": 60}); isErr {
		t.Fatalf("lock: %v", out)
	}
	out, isErr = call(t, h.cs, ToolCoordLock, map[string]any{"agent_id": "claude", "path": "core/parse.go"})
	toolErr(t, out, isErr, "conflict", "path")
	if !strings.Contains(out["error"].(map[string]any)["message"].(string), "codex") {
		t.Fatalf("the conflict does not name the holder: %v", out)
	}
	out, isErr = call(t, h.cs, ToolCoordUnlock, map[string]any{"agent_id": "claude", "path": "core/parse.go"})
	toolErr(t, out, isErr, "conflict", "path")
	if out, isErr = call(t, h.cs, ToolCoordUnlock, map[string]any{"agent_id": "codex", "path": "core/parse.go"}); isErr || out["lock"].(map[string]any)["released_by"] != "codex" {
		t.Fatalf("unlock: %v", out)
	}
	if out, isErr = call(t, h.cs, ToolCoordLock, map[string]any{"agent_id": "claude", "path": "core/parse.go"}); isErr {
		t.Fatalf("lock after release: %v", out)
	}

	out, isErr = call(t, h.cs, ToolCoordComplete, map[string]any{"agent_id": "codex", "task_id": "T1", "summary": "parser done", "notify": true,
		"follow_up": map[string]any{"title": "fuzz the parser", "owner": "claude", "dep_type": "SF", "location": "core/parse_test.go"}})
	if isErr {
		t.Fatalf("complete: %v", out)
	}
	fu := out["follow_up"].(map[string]any)
	if out["task"].(map[string]any)["status"] != "done" || fu["dep_type"] != "SF" || fu["location"] != "core/parse_test.go" || fu["predecessors"].([]any)[0] != "T1" {
		t.Fatalf("completion: %v", out)
	}

	if out, isErr = call(t, h.cs, ToolCoordMessage, map[string]any{"agent_id": "claude", "to": "codex", "message": "thanks"}); isErr {
		t.Fatalf("message: %v", out)
	}
	out, isErr = call(t, h.cs, ToolCoordMessage, map[string]any{"agent_id": "claude", "to": "nobody", "message": "x"})
	toolErr(t, out, isErr, "invalid_field", "to")
	out, isErr = call(t, h.cs, ToolCoordInbox, map[string]any{"agent_id": "codex"})
	if isErr || len(out["messages"].([]any)) != 3 || out["messages"].([]any)[0].(map[string]any)["message"] != "thanks" {
		t.Fatalf("inbox: %v", out)
	}

	out, isErr = call(t, h.cs, ToolCoordTasks, map[string]any{"status": "pending"})
	if isErr || len(out["tasks"].([]any)) != 1 || len(out["agents"].([]any)) != 2 || len(out["locks"].([]any)) != 1 {
		t.Fatalf("board: %v", out)
	}

	// The same rows the Coordination screen lists, with their events.
	tasks, err := coord.New(h.st).ListTasks(ctx, coord.TaskFilter{})
	if err != nil || len(tasks) != 2 || tasks[0].CompletedBy != "codex" {
		t.Fatalf("store: %v %+v", err, tasks)
	}
	evs, err := h.st.EventsSince(ctx, since, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, ev := range evs {
		types[ev.Type]++
	}
	if types[events.CoordAgent] != 2 || types[events.CoordTaskCreated] != 2 || types[events.CoordTaskCompleted] != 1 ||
		types[events.CoordLockAcquired] != 2 || types[events.CoordLockReleased] != 1 || types[events.CoordMessage] != 3 {
		t.Fatalf("events: %v", types)
	}
}

// An agent that reaches `mcp --http` with its token is on the board as
// itself, whatever agent_id it sends.
func TestCoordOverHTTPIsTheTokensAgent(t *testing.T) {
	h := startHall(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	go h.srv.ServeHTTP(ctx, "127.0.0.1:0", func(a net.Addr) { addrc <- a.String() })
	addr := <-addrc
	hc := &http.Client{Transport: bearerTransport{token: h.agentToken, next: http.DefaultTransport}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "spoofer", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/", HTTPClient: hc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	out, isErr := call(t, cs, ToolCoordHeartbeat, map[string]any{"agent_id": "someone-else", "name": "x"})
	if isErr || out["agent"].(map[string]any)["id"] != "test-agent" {
		t.Fatalf("heartbeat over HTTP recorded %v, want the token's agent test-agent", out)
	}
}

type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
