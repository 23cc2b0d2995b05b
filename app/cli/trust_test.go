package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hallmonitor/app/hall"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
)

// serveChildEnv makes the test binary run `hallmonitor serve` with the
// arguments that follow "--" (TestMain): the real serve, in its own process.
const serveChildEnv = "HALLMONITOR_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveChildEnv) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Exit(Main(os.Args[i+1:], Resources{}, os.Stdout, os.Stderr))
			}
		}
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// liveHall is a real `serve` process on a fresh config and data folder.
type liveHall struct {
	t        *testing.T
	base     string
	admin    string // the person's credential (admin-token)
	agent    string // agent default's token (api-token)
	cfg, dat string
}

const trustRules = `{"rules":[
 {"rule_id":"r_dev","match":{"capability_id":"cap.example.echo","env":"dev"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.example.echo"}]}},
 {"rule_id":"r_prod","match":{"capability_id":"cap.example.echo","env":"prod"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.example.echo"}],"escalation":{"policy_gate":true}}}]}`

func startServe(t *testing.T) *liveHall {
	t.Helper()
	dir := t.TempDir()
	h := &liveHall{t: t, cfg: filepath.Join(dir, "config"), dat: filepath.Join(dir, "data")}
	if err := os.MkdirAll(h.cfg, 0o700); err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(h.cfg, "rules.json")
	if err := os.WriteFile(rules, []byte(trustRules), 0o600); err != nil {
		t.Fatal(err)
	}
	// The example worker, enrolled from its record (it runs from no package).
	t.Setenv(config.EnvConfigDir, h.cfg)
	t.Setenv(config.EnvDataDir, h.dat)
	if code, _, errs := run(t, runEnroll, "--record", filepath.Join("..", "..", "examples", "echo-worker", "registry_record.json")); code != 0 {
		t.Fatalf("enroll the example: %s", errs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "serve", "--port", strconv.Itoa(port), "--rules", rules)
	cmd.Env = append(os.Environ(), serveChildEnv+"=1", config.EnvConfigDir+"="+h.cfg, config.EnvDataDir+"="+h.dat,
		"HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "#token=") {
				line <- sc.Text()
			}
		}
	}()
	select {
	case l := <-line:
		m := regexp.MustCompile(`(http://\S+)/#token=(\S+)`).FindStringSubmatch(l)
		h.base, h.admin = m[1], m[2]
	case <-time.After(30 * time.Second):
		t.Fatalf("serve printed no URL: %s", stderr.String())
	}
	tok, err := os.ReadFile(filepath.Join(h.cfg, config.TokenFileName))
	if err != nil {
		t.Fatal(err)
	}
	h.agent = strings.TrimSpace(string(tok))
	if h.admin == h.agent || !strings.HasPrefix(h.admin, config.AdminTokenPrefix) {
		t.Fatalf("serve's link carries %q, the agent token is %q", h.admin, h.agent)
	}
	return h
}

// call sends a request as who (a bearer token, or "" for none) through
// client (nil: a cookie-less client).
func (h *liveHall) call(client *http.Client, method, path, who string, body any) (int, map[string]any) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+who)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (h *liveHall) count(table string) int {
	h.t.Helper()
	st, err := store.Open(filepath.Join(h.dat, "hall.db"), store.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.Write(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n)
	}); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// mountedRoutes are the routes a Hall mounts, read from a Hall built and
// started by the same wiring as serve (app/hall: the Hall API, the account,
// evidence and telemetry routes), so no route is left out.
func mountedRoutes(t *testing.T) []httpapi.Route {
	dir := t.TempDir()
	h, err := hall.Open(hall.Options{ConfigDir: filepath.Join(dir, "config"), DataDir: filepath.Join(dir, "data"),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := h.Start(ctx, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}); err != nil {
		t.Fatal(err)
	}
	return h.Server.Routes()
}

func input(env, label string, n int) map[string]any {
	return map[string]any{"input": map[string]any{"capability_id": "cap.example.echo", "env": env, "data_label": label,
		"tenant_risk": "low", "qos_class": "P2", "tenant_id": "t1", "correlation_id": "c" + strconv.Itoa(n)}}
}

// TestTrustBoundaryAgainstRealServe: every mounted route x {no credential,
// an agent token, a revoked agent token, the person's browser session},
// against a real `serve`; then the attacks of issue 11 as regressions.
func TestTrustBoundaryAgainstRealServe(t *testing.T) {
	h := startServe(t)
	// The person opens a browser session with the link's credential.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	code, sess := h.call(browser, "POST", "/api/session", h.admin, nil)
	session, _ := sess["session_token"].(string)
	if code != 200 || !strings.HasPrefix(session, "hms_") {
		t.Fatalf("open a browser session: %d %v", code, sess)
	}
	if code, m := h.call(nil, "GET", "/api/status", session, nil); code != 401 {
		t.Fatalf("the session token without its browser's cookie answered %d %v", code, m)
	}
	if code, m := h.call(nil, "POST", "/api/session", h.agent, nil); code != 403 || errCode(m) != "forbidden_scope" {
		t.Fatalf("an agent token opened a browser session: %d %v", code, m)
	}
	// A second agent, then revoked: its token is a revoked one.
	code, made := h.call(browser, "POST", "/api/agents", session, map[string]any{"name": "gone-bot"})
	if code != 201 {
		t.Fatalf("create agent: %d %v", code, made)
	}
	revoked := made["token"].(string)
	agentID := made["agent"].(map[string]any)["agent_id"].(string)
	if code, m := h.call(browser, "DELETE", "/api/agents/"+agentID, session, nil); code != 200 {
		t.Fatalf("revoke: %d %v", code, m)
	}
	before := map[string]int{}
	tables := []string{"decisions", "enrollments", "approvals", "dispatches", "agents", "mcp_servers", "coord_tasks"}
	for _, tb := range tables {
		before[tb] = h.count(tb)
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, rt := range mountedRoutes(t) {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = param.ReplaceAllString(path, "x")
		for _, who := range []struct {
			name, token string
			client      *http.Client
		}{{"no credential", "", nil}, {"agent", h.agent, nil}, {"revoked agent", revoked, nil}, {"person session", session, browser}} {
			if who.name == "person session" && rt.Pattern == "DELETE /api/session" {
				continue // it would end the session the rest of the table uses
			}
			code, m := h.call(who.client, method, path, who.token, map[string]any{})
			if who.name == "person session" && rt.Pattern == "POST /api/session" && code == 200 {
				session = m["session_token"].(string) // a new session replaced this browser's
			}
			if who.name == "person session" && rt.Pattern == "POST /api/setup/token" && code == 200 {
				h.agent = m["token"].(string) // agent default's token was rotated
			}
			var want int
			switch {
			case rt.Access == httpapi.Public:
				want = 0 // anyone: whatever the endpoint answers
			case who.name == "no credential" || who.name == "revoked agent":
				want = 401
			case who.name == "agent" && rt.Access == httpapi.Person:
				want = 403
			}
			switch {
			case want != 0 && code != want:
				t.Errorf("%s as %s: %d %v, want %d", rt.Pattern, who.name, code, m, want)
			case want == 403 && errCode(m) != "forbidden_scope":
				t.Errorf("%s as agent: code %q, want forbidden_scope", rt.Pattern, errCode(m))
			case want == 0 && (code == 401 || code == 403):
				t.Errorf("%s as %s was refused: %d %v", rt.Pattern, who.name, code, m)
			}
		}
	}
	for _, tb := range tables {
		if tb == "decisions" || tb == "coord_tasks" || tb == "dispatches" {
			continue // the agent and the person may write these with a valid body; {} is refused anyway
		}
		if n := h.count(tb); n != before[tb] {
			t.Errorf("the table walk changed %s: %d rows, was %d", tb, n, before[tb])
		}
	}

	// Self-approval: an agent's call held for a person stays held.
	code, r := h.call(nil, "POST", "/wcp/route", h.agent, input("prod", "RESTRICTED", 1))
	dec, _ := r["decision"].(map[string]any)
	if code != 200 || dec["supervisor_required"] != true {
		t.Fatalf("prod RESTRICTED route: %d %v", code, r)
	}
	approvalID, decisionID := dec["pending_approval_id"].(string), dec["decision_id"].(string)
	if code, m := h.call(nil, "POST", "/api/approvals/"+approvalID+"/resolve", h.agent, map[string]any{"action": "approve"}); code != 403 || errCode(m) != "forbidden_scope" {
		t.Fatalf("an agent approved its own call: %d %v", code, m)
	}
	if code, m := h.call(nil, "POST", "/wcp/dispatch", h.agent, map[string]any{"decision_id": decisionID}); code != 409 {
		t.Fatalf("an unapproved call ran: %d %v", code, m)
	}
	if code, m := h.call(nil, "PUT", "/api/settings", h.agent, map[string]any{}); code != 403 {
		t.Fatalf("an agent changed settings: %d %v", code, m)
	}
	code, a := h.call(browser, "POST", "/api/approvals/"+approvalID+"/resolve", session, map[string]any{"action": "approve"})
	if code != 200 || a["resolved_by"] == "" || a["resolved_by"] == "api-token" || a["agent"] != "default" || a["grant"] == nil {
		t.Fatalf("the person's approve: %d %v", code, a)
	}
	// Another agent cannot read the decision the Hall made for agent default.
	code, other := h.call(browser, "POST", "/api/agents", session, map[string]any{"name": "other-bot"})
	if code != 201 {
		t.Fatalf("create agent: %d %v", code, other)
	}
	if code, m := h.call(nil, "GET", "/api/decisions/"+decisionID, other["token"].(string), nil); code != 404 {
		t.Fatalf("an agent read another agent's decision: %d %v", code, m)
	}
	if code, m := h.call(nil, "GET", "/api/decisions/"+decisionID, h.agent, nil); code != 200 || m["approval"] == nil {
		t.Fatalf("the agent reads its own decision: %d %v", code, m)
	}

	// Ingest cannot forge.
	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, "capability_id"},
		{json.RawMessage("null"), ""},
		{map[string]any{"capability_id": "cap.x", "denied": false, "source": "mcp"}, "source"},
		{map[string]any{"capability_id": "cap.x", "denied": false, "timestamp": "2999-01-01T00:00:00Z"}, "timestamp"},
	} {
		code, m := h.call(nil, "POST", "/api/decisions/ingest", h.agent, c.body)
		e, _ := m["error"].(map[string]any)
		if code != 400 || e["field"] != c.field {
			t.Errorf("ingest %v: %d %v, want 400 naming %q", c.body, code, m, c.field)
		}
	}
	forged := map[string]any{"decision_id": "forged-1", "capability_id": "cap.example.echo", "tenant_id": "t1", "denied": false,
		"selected_worker_species_id": "wrk.example.echo"}
	if code, m := h.call(nil, "POST", "/api/decisions/ingest", h.agent, forged); code != 201 {
		t.Fatalf("ingest: %d %v", code, m)
	}
	if code, _ := h.call(nil, "POST", "/api/decisions/ingest", h.agent, forged); code != 201 {
		t.Fatalf("the same decision again must be skipped, not refused: %d", code)
	}
	forged["selected_worker_species_id"] = "wrk.other"
	if code, m := h.call(nil, "POST", "/api/decisions/ingest", h.agent, forged); code != 409 || errCode(m) != "conflict" {
		t.Fatalf("a conflicting duplicate decision_id: %d %v", code, m)
	}
	for _, path := range []string{"/api/dispatches", "/wcp/dispatch"} {
		if code, m := h.call(nil, "POST", path, h.agent, map[string]any{"decision_id": "forged-1"}); code != 409 || !strings.Contains(m["error"].(map[string]any)["message"].(string), "ingested") {
			t.Errorf("%s of an ingested decision: %d %v", path, code, m)
		}
	}
	// The approval is a signed receipt in tenant t1's chain, which verifies
	// (in the database and in an evidence bundle); an edit of who approved it
	// is reported.
	if code, out, errs := run(t, runVerify, "--receipts", "--json"); code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Fatalf("verify --receipts with the approval's receipt: %d %s %s", code, out, errs)
	}
	bundle := filepath.Join(t.TempDir(), "evidence.dsse.json")
	day := time.Now().UTC().Format("2006-01-02")
	if code, out, errs := run(t, runExport, "evidence", "--from", day, "--to", day, "--tenant", "t1", "--out", bundle); code != 0 {
		t.Fatalf("export evidence with an approval receipt: %d %s %s", code, out, errs)
	}
	if code, out, errs := run(t, runVerify, "--bundle", bundle); code != 0 {
		t.Fatalf("verify --bundle with an approval receipt: %d %s %s", code, out, errs)
	}
	db, err := store.Open(filepath.Join(h.dat, "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var approvalReceipts int
	if err := db.Write(context.Background(), func(tx *store.Tx) error {
		if err := tx.QueryRow(`SELECT count(*) FROM receipts WHERE kind = 'approval'`).Scan(&approvalReceipts); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE receipts SET receipt_json = replace(receipt_json, '"resolved_by":"', '"resolved_by":"x') WHERE kind = 'approval'`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if approvalReceipts != 1 {
		t.Fatalf("%d approval receipts, want 1", approvalReceipts)
	}
	if code, out, _ := run(t, runVerify, "--receipts"); code != 1 || !strings.Contains(out, "receipt_hash does not match") {
		t.Fatalf("an edited approval receipt: %d %s", code, out)
	}
	code, f := h.call(browser, "GET", "/api/decisions?agent=default", session, nil)
	if code != 200 {
		t.Fatalf("feed by agent: %d %v", code, f)
	}
	for _, d := range f["decisions"].([]any) {
		if d.(map[string]any)["agent"] != "default" {
			t.Errorf("filter agent=default returned %v", d)
		}
	}
}
