package mcpserver

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/core"
	"hallmonitor/core/attest"
	"hallmonitor/hallapi/agents"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

const rulesJSON = `{"rules":[
 {"rule_id":"r_echo","match":{"capability_id":"cap.example.echo"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.example.echo"}],
              "required_controls_suggested":["ctrl.obs.audit_log_append_only"]}},
 {"rule_id":"r_gated","match":{"capability_id":"cap.example.gated"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.example.echo"}],
              "escalation":{"policy_gate":true}}}
]}`

// copyExample copies examples/echo-worker (the real example package) and
// signs it with a fresh namespace key.
func copyExample(t *testing.T) (dir, pubHex string) {
	t.Helper()
	src := filepath.Join("..", "..", "examples", "echo-worker")
	dir = filepath.Join(t.TempDir(), "echo-worker")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(dst, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := attest.GenerateKey(nil)
	m, err := attest.Build(os.DirFS(dir), attest.BuildOptions{WorkerID: "x.example.echo", WorkerSpeciesID: "wrk.example.echo",
		WorkerVersion: "1.0.0", Now: time.Now(), Signer: attest.Ed25519Signer{Key: priv}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, attest.ManifestName), m.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, attest.EncodePublicKey(pub)
}

type hall struct {
	st     *store.Store
	svc    *workers.Service
	srv    *Server
	dec    *decide.Service
	agents *agents.Service
	cs     *mcp.ClientSession
	pkg    string
	// agentToken is agent "test-agent"'s, for the HTTP transport.
	agentToken string
	agentID    string
}

// personCtx is the person's context (as the window's requests carry).
var personCtx = principal.With(context.Background(), principal.Principal{Kind: principal.Person, Name: "octocat", Via: principal.ViaDesktop})

func startHall(t *testing.T) *hall {
	t.Helper()
	ctx := context.Background()
	tmp := t.TempDir()
	st, err := store.Open(filepath.Join(tmp, "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pkg, pub := copyExample(t)
	rec, err := os.ReadFile(filepath.Join(pkg, "registry_record.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	json.Unmarshal(rec, &r)
	r["capabilities"] = []string{"cap.example.echo", "cap.example.gated"}
	delete(r, "artifact_hash") // the record was changed: its self-hash no longer holds
	rec, _ = json.Marshal(r)
	if _, err := workers.Enroll(ctx, st, workers.EnrollRequest{Record: rec, PackagePath: pkg, PublicKeyEd25519: pub}); err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(tmp, "rules.json")
	if err := os.WriteFile(rules, []byte(rulesJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	svc := workers.NewService(st, workers.Options{})
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	_, key, _ := attest.GenerateKey(nil)
	gate := core.PolicyGateFunc(func(core.PolicyContext) (core.PolicyResult, error) {
		return core.PolicyResult{Decision: core.GateRequireHuman, PolicyVersion: "test.v1", Reason: "test_requires_human"}, nil
	})
	dec, err := decide.New(decide.Options{Store: st, RulesPath: rules, SigningKey: key, PolicyGate: gate,
		Attestation: svc, Dispatcher: workers.NewExecutor(st, svc, workers.ExecOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	ag := agents.New(st, nil)
	agent, agentToken, err := ag.Create(personCtx, "test-agent")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Deps{Decide: dec, Agents: ag, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Refresh(ctx); err != nil {
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
	return &hall{st: st, svc: svc, srv: srv, dec: dec, agents: ag, cs: cs, pkg: pkg, agentToken: agentToken, agentID: agent.AgentID}
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args any) (map[string]any, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &out); err != nil {
		t.Fatal(err)
	}
	return out, res.IsError
}

func TestMCPGovernedCalls(t *testing.T) {
	h := startHall(t)
	ctx := context.Background()
	tools, err := h.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	for _, want := range []string{"cap.example.echo", "cap.example.gated", ToolRoute, ToolApprovalsPending, ToolDispatchApproved} {
		if !strings.Contains(","+strings.Join(names, ",")+",", ","+want+",") {
			t.Fatalf("tool %s missing from %v", want, names)
		}
	}

	// An allowed call runs the real example worker (a #!/bin/sh script).
	out, isErr := call(t, h.cs, "cap.example.echo", map[string]any{"request": map[string]any{"text": "hello"}})
	if isErr {
		t.Fatalf("allowed call failed: %v", out)
	}
	result := out["result"].(map[string]any)
	echo := result["echo"].(map[string]any)
	if result["ok"] != true || echo["request"].(map[string]any)["text"] != "hello" || echo["capability_id"] != "cap.example.echo" {
		t.Fatalf("worker result: %v", out)
	}
	gov := out["wcp_governance"].(map[string]any)
	if gov["matched_rule_id"] != "r_echo" || gov["selected_worker"] != "wrk.example.echo" || gov["dispatch_id"] == "" || gov["package_hash"] == "" || gov["receipt_hash"] == "" {
		t.Fatalf("governance: %v", gov)
	}
	// The decision is in the shared store with source mcp, with a receipt
	// and a finished dispatch.
	det, err := h.st.GetDecision(ctx, gov["decision_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if det.Summary.Source != store.SourceMCP || det.Summary.Outcome != store.OutcomeAllowed || det.Receipt == nil ||
		det.Dispatch == nil || det.Dispatch.Outcome != store.DispatchSucceeded {
		t.Fatalf("stored decision: %+v", det)
	}
	var rc struct {
		PackageHash string `json:"package_hash"`
	}
	if err := json.Unmarshal(det.Receipt, &rc); err != nil || rc.PackageHash != gov["package_hash"] {
		t.Fatalf("receipt package_hash %q, dispatch ran package %v (%v)", rc.PackageHash, gov["package_hash"], err)
	}

	// An unknown capability is refused by the rules (fail closed).
	out, isErr = call(t, h.cs, ToolRoute, map[string]any{"capability_id": "cap.nobody.serves"})
	if !isErr || out["wcp_denied"] != true || out["deny_code"] != core.DenyNoMatchingRule {
		t.Fatalf("unknown capability: %v", out)
	}
	// A request that breaks the package's config.schema.json is refused before anything is decided.
	before, _, _ := h.st.QueryDecisions(ctx, store.DecisionFilter{Limit: 500})
	out, isErr = call(t, h.cs, "cap.example.echo", map[string]any{"request": map[string]any{"text": 5}})
	if !isErr || out["error"].(map[string]any)["code"] != "invalid_arguments" || !strings.Contains(out["error"].(map[string]any)["message"].(string), "text") {
		t.Fatalf("schema violation: %v", out)
	}
	if after, _, _ := h.st.QueryDecisions(ctx, store.DecisionFilter{Limit: 500}); len(after) != len(before) {
		t.Fatalf("a refused call recorded a decision: %d -> %d", len(before), len(after))
	}
	// Bad arguments name the field.
	out, isErr = call(t, h.cs, "cap.example.echo", map[string]any{"env": "PROD"})
	if !isErr || !strings.Contains(out["error"].(map[string]any)["message"].(string), "env") {
		t.Fatalf("bad env: %v", out)
	}
}

func TestMCPApprovalFlow(t *testing.T) {
	h := startHall(t)
	out, isErr := call(t, h.cs, "cap.example.gated", map[string]any{"request": map[string]any{"text": "needs a human"}})
	if !isErr || out["wcp_pending"] != true {
		t.Fatalf("gated call: %v", out)
	}
	approvalID, decisionID := out["pending_approval_id"].(string), out["decision_id"].(string)
	out, _ = call(t, h.cs, ToolApprovalsPending, map[string]any{})
	if list := out["approvals"].([]any); len(list) != 1 || list[0].(map[string]any)["approval_id"] != approvalID {
		t.Fatalf("pending: %v", out)
	}
	// Not yet approved: the dispatch is refused.
	out, isErr = call(t, h.cs, ToolDispatchApproved, map[string]any{"decision_id": decisionID})
	if !isErr {
		t.Fatalf("unapproved dispatch ran: %v", out)
	}
	// Only a person resolves approvals: no MCP tool can, and the decision
	// service refuses an agent's context.
	if _, err := h.dec.ResolveApproval(principal.With(context.Background(), principal.Principal{Kind: principal.Agent, Name: "mcp"}),
		approvalID, "approve", ""); err == nil {
		t.Fatal("an agent resolved an approval")
	}
	a, err := h.dec.ResolveApproval(personCtx, approvalID, "approve", "ok")
	if err != nil || a.Status != store.ApprovalApproved || a.ResolvedBy != "octocat" || a.Agent != "mcp" || a.Grant == nil {
		t.Fatalf("resolve: %+v %v", a, err)
	}
	out, isErr = call(t, h.cs, ToolDispatchApproved, map[string]any{"decision_id": decisionID})
	if isErr || out["result"].(map[string]any)["ok"] != true {
		t.Fatalf("approved dispatch: %v", out)
	}
	// The grant is single use.
	if out, isErr = call(t, h.cs, ToolDispatchApproved, map[string]any{"decision_id": decisionID}); !isErr {
		t.Fatalf("an approval granted a second run: %v", out)
	}
}

// The end-to-end check: tamper a file of an enrolled package while
// the Hall runs; the alert arrives on the event stream and the next call is
// denied DENY_WORKER_TAMPERED.
func TestMCPTamperedWorkerIsDenied(t *testing.T) {
	h := startHall(t)
	sub := h.st.Bus().Subscribe(64)
	defer sub.Close()
	if err := os.WriteFile(filepath.Join(h.pkg, "code", "run"), []byte("#!/bin/sh\necho '{\"pwned\":true}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(time.Second)
	for alerted := false; !alerted; {
		select {
		case ev := <-sub.C:
			if ev.Type == events.AlertRaised && strings.Contains(string(ev.Data), store.AlertWorkerTampered) {
				alerted = true
			}
		case <-deadline:
			t.Fatal("no WORKER_TAMPERED alert within 1s of the change")
		}
	}
	out, isErr := call(t, h.cs, "cap.example.echo", map[string]any{"request": map[string]any{"text": "hi"}})
	if !isErr || out["deny_code"] != core.DenyWorkerTampered {
		t.Fatalf("tampered worker: %v", out)
	}
	list, _, err := h.st.QueryDecisions(context.Background(), store.DecisionFilter{Outcome: store.OutcomeDenied})
	if err != nil || len(list) != 1 || list[0].DenyCode != core.DenyWorkerTampered || list[0].Source != store.SourceMCP {
		t.Fatalf("feed: %v %+v", err, list)
	}
}

func TestHTTPRejectsForeignHostAndOrigin(t *testing.T) {
	h := startHall(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	go h.srv.ServeHTTP(ctx, "127.0.0.1:0", func(a net.Addr) { addrc <- a.String() })
	addr := <-addrc
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
	token := "Bearer " + h.agentToken
	post := func(host, origin string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		req.Header.Set("Accept", "application/json, text/event-stream")
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("", ""); code != http.StatusOK {
		t.Fatalf("local client: %d", code)
	}
	for _, tok := range []string{"", "Bearer wrong", h.agentToken} {
		token = tok
		if code := post("", ""); code != http.StatusUnauthorized {
			t.Fatalf("Authorization %q: %d, want 401", tok, code)
		}
	}
	token = "Bearer " + h.agentToken
	if code := post("evil.example", ""); code != http.StatusForbidden {
		t.Fatalf("foreign Host: %d", code)
	}
	if code := post("", "http://evil.example"); code != http.StatusForbidden {
		t.Fatalf("cross-origin browser request: %d", code)
	}
	if err := h.srv.ServeHTTP(ctx, "0.0.0.0:0", nil); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("non-loopback listen: %v", err)
	}
}

// A token rotated or revoked in another process (the window, `serve`: here
// another store handle on the same database) stops working in `mcp --http`
// once agents.CacheTTL has passed: never more than a second.
func TestHTTPAgentTokenRotatedElsewhereStops(t *testing.T) {
	h := startHall(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	go h.srv.ServeHTTP(ctx, "127.0.0.1:0", func(a net.Addr) { addrc <- a.String() })
	addr := <-addrc
	initialize := func(tok string) int {
		body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
		req, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := initialize(h.agentToken); code != http.StatusOK {
		t.Fatalf("agent token: %d", code)
	}
	other, err := store.Open(h.st.Path(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	elsewhere := agents.New(other, nil)
	_, fresh, err := elsewhere.Rotate(personCtx, h.agentID)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(agents.CacheTTL + 100*time.Millisecond)
	if code := initialize(h.agentToken); code != http.StatusUnauthorized {
		t.Fatalf("rotated-away token still works after %v: %d", agents.CacheTTL, code)
	}
	if code := initialize(fresh); code != http.StatusOK {
		t.Fatalf("new token: %d", code)
	}
	if _, err := elsewhere.Revoke(personCtx, h.agentID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(agents.CacheTTL + 100*time.Millisecond)
	if code := initialize(fresh); code != http.StatusUnauthorized {
		t.Fatalf("revoked token still works: %d", code)
	}
}

// The desktop app and `hallmonitor mcp` are two processes on one database:
// here two store handles, each with its own package watcher.
func TestMCPBesideRunningApp(t *testing.T) {
	h := startHall(t)
	ctx := context.Background()
	app, err := store.Open(h.st.Path(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	appWatcher := workers.NewService(app, workers.Options{})
	if err := appWatcher.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer appWatcher.Stop()
	since := app.LastEventID()

	out, isErr := call(t, h.cs, "cap.example.echo", map[string]any{"request": map[string]any{"text": "hi"}})
	if isErr {
		t.Fatalf("call: %v", out)
	}
	evs, err := app.EventsSince(ctx, since, 100, []string{events.DecisionRecorded, events.DispatchStarted, events.DispatchFinished})
	if err != nil || len(evs) != 3 || !strings.Contains(string(evs[0].Data), `"source":"mcp"`) {
		t.Fatalf("the app does not see the MCP decision and dispatch: %v %d", err, len(evs))
	}

	if err := os.WriteFile(filepath.Join(h.pkg, "code", "run"), []byte("#!/bin/sh\necho changed\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		a1, _ := appWatcher.Attestation("x.example.echo")
		a2, _ := h.svc.Attestation("x.example.echo")
		if a1.State == workers.StateTampered && a2.State == workers.StateTampered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watchers: app %s, mcp %s", a1.State, a2.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A watcher records its state before it writes the alert: wait for the alert too.
	var alerts []store.Alert
	for {
		alerts, err = app.ListAlerts(ctx, store.AlertFilter{})
		if err != nil || len(alerts) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || len(alerts) != 1 || alerts[0].Type != store.AlertWorkerTampered || alerts[0].Count != 1 {
		t.Fatalf("one WORKER_TAMPERED alert for one change, got %v %+v", err, alerts)
	}
	if out, _ := call(t, h.cs, "cap.example.echo", map[string]any{}); out["deny_code"] != core.DenyWorkerTampered {
		t.Fatalf("after tamper: %v", out)
	}
}

// A call that names no env runs in the env of the Hall's default profile.
func TestDefaultProfileSetsTheEnv(t *testing.T) {
	h := startHall(t)
	ctx := context.Background()
	cur, err := h.st.GetSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := cur
	next.DefaultProfile = "prof.prod.strict"
	if _, err := h.st.PutSettings(ctx, next, cur.ETag()); err != nil {
		t.Fatal(err)
	}
	out, isErr := call(t, h.cs, "cap.example.echo", map[string]any{"request": map[string]any{"text": "hi"}})
	if isErr {
		t.Fatalf("call: %v", out)
	}
	det, err := h.st.GetDecision(ctx, out["wcp_governance"].(map[string]any)["decision_id"].(string))
	if err != nil || det.Summary.Env != "prod" {
		t.Fatalf("env %q under prof.prod.strict (%v)", det.Summary.Env, err)
	}
	out, _ = call(t, h.cs, "cap.example.echo", map[string]any{"env": "stage"})
	det, _ = h.st.GetDecision(ctx, out["wcp_governance"].(map[string]any)["decision_id"].(string))
	if det.Summary.Env != "stage" {
		t.Fatalf("an explicit env must win: %q", det.Summary.Env)
	}
	for profile, env := range map[string]string{"prof.dev.permissive": "dev", "prof.edge.isolated": "edge", "prof.custom": "dev", "": "dev"} {
		if got := ProfileEnv(profile); got != env {
			t.Errorf("ProfileEnv(%q) = %q, want %q", profile, got, env)
		}
	}
}

// wcp_approvals_pending lists the calling agent's held calls only: another
// agent's wait stays out of sight, and cannot be run from here.
func TestMCPPendingApprovalsAreTheCallersOwn(t *testing.T) {
	h := startHall(t)
	other := principal.With(context.Background(), principal.Principal{Kind: principal.Agent, Name: "other-bot", Via: principal.ViaAgent})
	in := `{"capability_id":"cap.example.gated","env":"dev","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"t1","correlation_id":"o1"}`
	res, err := h.dec.Route(other, []byte(in), false, store.SourceRoute)
	if err != nil || res.Decision.PendingApprovalID == nil {
		t.Fatalf("another agent's held call: %+v %v", res.Decision, err)
	}
	out, _ := call(t, h.cs, ToolApprovalsPending, map[string]any{})
	if list := out["approvals"].([]any); len(list) != 0 {
		t.Fatalf("agent mcp sees another agent's approvals: %v", list)
	}
	if _, err := h.dec.ResolveApproval(personCtx, *res.Decision.PendingApprovalID, "approve", ""); err != nil {
		t.Fatal(err)
	}
	if out, isErr := call(t, h.cs, ToolDispatchApproved, map[string]any{"decision_id": res.Decision.DecisionID}); !isErr {
		t.Fatalf("agent mcp ran another agent's approved call: %v", out)
	}
}
