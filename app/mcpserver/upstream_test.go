package mcpserver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/core"
	"hallmonitor/core/attest"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/mcpclient"
	"hallmonitor/hallapi/store"
	"hallmonitor/internal/testservers/mcptest"
)

func TestMain(m *testing.M) {
	mcptest.ServeStdioIfAsked() // the stdio upstream of TestProxiedUpstreamTools
	os.Exit(m.Run())
}

// Rules for the proxied servers: up-tools and local-tools are allowed,
// gated-tools needs a human (the test gate), locked-tools has no rule.
const upstreamRules = `{"rules":[
 {"rule_id":"r_mcp_up","match":{"capability_id":{"in":["cap.mcp.up-tools","cap.mcp.local-tools"]}},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.mcp.up-tools"},{"worker_species_id":"wrk.mcp.local-tools"}]}},
 {"rule_id":"r_mcp_gated","match":{"capability_id":"cap.mcp.gated-tools"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.mcp.gated-tools"}],"escalation":{"policy_gate":true}}}
]}`

type upstreamHall struct {
	st  *store.Store
	srv *Server
	cs  *mcp.ClientSession
}

func startUpstreamHall(t *testing.T) *upstreamHall {
	t.Helper()
	ctx := context.Background()
	tmp := t.TempDir()
	st, err := store.Open(filepath.Join(tmp, "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rules := filepath.Join(tmp, "rules.json")
	if err := os.WriteFile(rules, []byte(upstreamRules), 0o600); err != nil {
		t.Fatal(err)
	}
	_, key, _ := attest.GenerateKey(nil)
	gate := core.PolicyGateFunc(func(core.PolicyContext) (core.PolicyResult, error) {
		return core.PolicyResult{Decision: core.GateRequireHuman, PolicyVersion: "test.v1", Reason: "test_requires_human"}, nil
	})
	dec, err := decide.New(decide.Options{Store: st, RulesPath: rules, SigningKey: key, PolicyGate: gate})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Deps{Decide: dec, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ct, sst := mcp.NewInMemoryTransports()
	ss, err := srv.MCP().Connect(ctx, sst, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return &upstreamHall{st: st, srv: srv, cs: cs}
}

// connect registers a server as Settings does: add, then ping.
func (h *upstreamHall) connect(t *testing.T, name, transport, url string, argv []string) store.MCPServer {
	t.Helper()
	ctx := context.Background()
	m, err := h.st.AddMCPServer(ctx, name, transport, url, argv)
	if err != nil {
		t.Fatal(err)
	}
	m, err = h.st.RecordMCPPing(ctx, m.ID, mcpclient.Ping(ctx, m, "test"))
	if err != nil || m.Status != store.MCPOnline {
		t.Fatalf("ping %s: %+v %v", name, m, err)
	}
	return m
}

func (h *upstreamHall) toolNames(t *testing.T) []string {
	t.Helper()
	res, err := h.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	return names
}

func listen(t *testing.T) *mcptest.HTTP {
	t.Helper()
	up, err := mcptest.ListenHTTP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	return up
}

func governance(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	b, _ := json.Marshal(res.Meta["wcp_governance"])
	var g map[string]any
	if err := json.Unmarshal(b, &g); err != nil || g["decision_id"] == nil {
		t.Fatalf("no governance in _meta: %v", res.Meta)
	}
	return g
}

func TestProxiedUpstreamTools(t *testing.T) {
	h := startUpstreamHall(t)
	ctx := context.Background()
	up, locked, gated := listen(t), listen(t), listen(t)
	h.connect(t, "up-tools", store.MCPTransportHTTP, up.URL, nil)
	lockedSrv := h.connect(t, "locked-tools", store.MCPTransportHTTP, locked.URL, nil)
	h.connect(t, "gated-tools", store.MCPTransportHTTP, gated.URL, nil)
	h.connect(t, "local-tools", store.MCPTransportStdio, "", mcptest.StdioArgv())
	if err := h.srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	names := h.toolNames(t)
	for _, want := range []string{"up-tools__echo", "up-tools__add", "locked-tools__echo", "gated-tools__echo", "local-tools__add"} {
		if !slices.Contains(names, want) {
			t.Fatalf("proxied tool %s missing from %v", want, names)
		}
	}

	// No rule: refused with the deny code, recorded, and the upstream never called.
	res, err := h.cs.CallTool(ctx, &mcp.CallToolParams{Name: "locked-tools__echo", Arguments: map[string]any{"text": "let me in"}})
	if err != nil {
		t.Fatal(err)
	}
	var denied map[string]any
	json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &denied)
	if !res.IsError || denied["deny_code"] != core.DenyNoMatchingRule || denied["capability_id"] != "cap.mcp.locked-tools" {
		t.Fatalf("call without a rule: %v", denied)
	}
	if n := locked.Calls(); n != 0 {
		t.Fatalf("a refused call reached the upstream server (%d calls)", n)
	}
	det, err := h.st.GetDecision(ctx, denied["decision_id"].(string))
	if err != nil || det.Summary.Outcome != store.OutcomeDenied || det.Summary.Source != store.SourceMCP || det.Dispatch != nil {
		t.Fatalf("denied decision: %+v %v", det.Summary, err)
	}

	// Allowed by a rule: forwarded, the upstream's result returned, decision and dispatch recorded.
	res, err = h.cs.CallTool(ctx, &mcp.CallToolParams{Name: "up-tools__echo", Arguments: map[string]any{"text": "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || res.Content[0].(*mcp.TextContent).Text != "echo: hi" || up.Calls() != 1 {
		t.Fatalf("allowed call: %+v (upstream calls %d)", res, up.Calls())
	}
	gov := governance(t, res)
	if gov["matched_rule_id"] != "r_mcp_up" || gov["selected_worker"] != "wrk.mcp.up-tools" || gov["dispatch_id"] == "" || gov["result_hash"] == "" {
		t.Fatalf("governance: %v", gov)
	}
	det, err = h.st.GetDecision(ctx, gov["decision_id"].(string))
	if err != nil || det.Summary.Outcome != store.OutcomeAllowed || det.Summary.CapabilityID != "cap.mcp.up-tools" ||
		det.Dispatch == nil || det.Dispatch.Outcome != store.DispatchSucceeded || det.Receipt == nil {
		t.Fatalf("allowed decision: %+v %v", det, err)
	}
	if !strings.Contains(string(det.Input), `"tool":"echo"`) {
		t.Fatalf("recorded request does not name the tool: %s", det.Input)
	}

	// Arguments are checked against the upstream schema before anything is decided.
	res, _ = h.cs.CallTool(ctx, &mcp.CallToolParams{Name: "up-tools__add", Arguments: map[string]any{"a": "one"}})
	if !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "invalid_arguments") || up.Calls() != 1 {
		t.Fatalf("bad arguments: %+v", res)
	}

	// A stdio server is proxied the same way.
	res, err = h.cs.CallTool(ctx, &mcp.CallToolParams{Name: "local-tools__add", Arguments: map[string]any{"a": 2, "b": 3}})
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "5" {
		t.Fatalf("stdio call: %+v %v", res, err)
	}

	// A human is required: held, not forwarded until approved, then run once.
	res, _ = h.cs.CallTool(ctx, &mcp.CallToolParams{Name: "gated-tools__echo", Arguments: map[string]any{"text": "careful"}})
	var held map[string]any
	json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &held)
	if !res.IsError || held["wcp_pending"] != true || gated.Calls() != 0 {
		t.Fatalf("gated call: %v (upstream calls %d)", held, gated.Calls())
	}
	res, _ = h.cs.CallTool(ctx, &mcp.CallToolParams{Name: ToolDispatchApproved, Arguments: map[string]any{"decision_id": held["decision_id"]}})
	if !res.IsError || gated.Calls() != 0 {
		t.Fatalf("unapproved call was forwarded: %+v", res)
	}
	if _, err := h.st.Resolve(ctx, held["pending_approval_id"].(string), store.Resolution{Action: "approve", By: "test"}); err != nil {
		t.Fatal(err)
	}
	res, _ = h.cs.CallTool(ctx, &mcp.CallToolParams{Name: ToolDispatchApproved, Arguments: map[string]any{"decision_id": held["decision_id"]}})
	if res.IsError || res.Content[0].(*mcp.TextContent).Text != "echo: careful" || gated.Calls() != 1 {
		t.Fatalf("approved call: %+v", res)
	}

	// An approval is for the server it was decided for: one removed and added
	// again under the same name (perhaps somewhere else) does not inherit it.
	res, _ = h.cs.CallTool(ctx, &mcp.CallToolParams{Name: "gated-tools__echo", Arguments: map[string]any{"text": "again"}})
	held = nil
	json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &held)
	if _, err := h.st.Resolve(ctx, held["pending_approval_id"].(string), store.Resolution{Action: "approve", By: "test"}); err != nil {
		t.Fatal(err)
	}
	old, err := h.st.ListMCPServers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range old {
		if m.Name == "gated-tools" {
			if _, err := h.st.RemoveMCPServer(ctx, m.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.connect(t, "gated-tools", store.MCPTransportHTTP, gated.URL, nil)
	res, _ = h.cs.CallTool(ctx, &mcp.CallToolParams{Name: ToolDispatchApproved, Arguments: map[string]any{"decision_id": held["decision_id"]}})
	if !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "another was added under its name") || gated.Calls() != 1 {
		t.Fatalf("an approval carried over to a new server of the same name: %+v (upstream calls %d)", res, gated.Calls())
	}

	// A removed server's tools are withdrawn; an offline one is no available worker.
	if _, err := h.st.RemoveMCPServer(ctx, lockedSrv.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if names := h.toolNames(t); slices.Contains(names, "locked-tools__echo") || !slices.Contains(names, "up-tools__echo") {
		t.Fatalf("after remove: %v", names)
	}
}
