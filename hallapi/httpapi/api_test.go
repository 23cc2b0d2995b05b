package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallmonitor/core"
	"hallmonitor/core/receipt"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/registry"
	"hallmonitor/hallapi/store"
)

func TestRouteAllowDenyAndReceipts(t *testing.T) {
	e := newEnv(t, testRules)
	// No worker enrolled yet: the rule matches but no worker is available.
	m := e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")})
	dec := m["decision"].(map[string]any)
	if dec["denied"] != true || dec["deny_reason_if_denied"].(map[string]any)["code"] != "DENY_NO_AVAILABLE_WORKER" {
		t.Fatalf("want DENY_NO_AVAILABLE_WORKER: %v", dec)
	}
	e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil)})
	m = e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")})
	dec = m["decision"].(map[string]any)
	if dec["denied"] != false || dec["selected_worker_species_id"] != "wrk.doc.summarizer" || dec["matched_rule_id"] != "r_doc_dev" {
		t.Fatalf("want allowed: %v", dec)
	}
	rc := m["receipt"].(map[string]any)
	if rc["decision_id"] != dec["decision_id"] || rc["prev_receipt_hash"] == nil {
		t.Fatalf("receipt not chained: %v", rc)
	}
	// Unknown capability: fail-closed.
	in := routeInput("dev", "PUBLIC")
	in["capability_id"] = "cap.other.thing"
	m = e.ok(200, "POST", "/wcp/route", map[string]any{"input": in})
	if m["decision"].(map[string]any)["deny_reason_if_denied"].(map[string]any)["code"] != "DENY_NO_MATCHING_RULE" {
		t.Fatalf("want DENY_NO_MATCHING_RULE: %v", m)
	}
	// Dry run is recorded as such and cannot be dispatched.
	m = e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC"), "dry_run": true})
	dry := m["decision"].(map[string]any)["decision_id"].(string)
	e.apiErr(409, "conflict", "decision_id", "POST", "/api/dispatches", map[string]any{"decision_id": dry})

	// The tenant's chain verifies with the Hall's key; the detail has everything.
	chain, err := e.st.ReceiptChain(context.Background(), "tenant-a")
	if err != nil || len(chain) != 4 {
		t.Fatalf("chain %d %v", len(chain), err)
	}
	rs := make([]receipt.Receipt, len(chain))
	for i, b := range chain {
		if err := json.Unmarshal(b, &rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	kid, pub := e.dec.SigningPublicKey()
	if err := receipt.Verify(rs, func(id string) (ed25519.PublicKey, bool) { return pub, id == kid }); err != nil {
		t.Fatalf("receipt chain does not verify: %v", err)
	}
	d := e.ok(200, "GET", "/api/decisions/"+dec["decision_id"].(string), nil)
	if d["receipt"] == nil || d["input"].(map[string]any)["tenant_id"] != "tenant-a" || d["decision"].(map[string]any)["telemetry_envelopes"] == nil {
		t.Fatalf("detail: %v", d)
	}
	// The JSONL export carries each decision's receipt, newest first: the same chain.
	_, _, exp := e.req("GET", "/api/decisions/export?format=jsonl&tenant=tenant-a", nil)
	lines := strings.Split(strings.TrimSpace(string(exp)), "\n")
	var line struct {
		Receipt receipt.Receipt `json:"receipt"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil || len(lines) != 4 || line.Receipt.ReceiptHash != rs[0].ReceiptHash {
		t.Fatalf("export receipts: %d lines, oldest %+v, %v", len(lines), line.Receipt, err)
	}
	// Key file is private.
	if fi, err := os.Stat(filepath.Join(e.dataDir, config.SigningKeyFileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key mode: %v %v", fi, err)
	}
}

func TestNoRulesFileDeniesEverything(t *testing.T) {
	e := newEnv(t, "")
	e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil)})
	m := e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")})
	if m["decision"].(map[string]any)["deny_reason_if_denied"].(map[string]any)["code"] != "DENY_NO_MATCHING_RULE" {
		t.Fatalf("no rules must deny: %v", m)
	}
	r := e.ok(200, "GET", "/api/rules", nil)
	if !strings.Contains(r["error"].(string), "does not exist") || len(r["rules"].([]any)) != 0 {
		t.Fatalf("rules report: %v", r)
	}
	// Writing the file is picked up by the reload.
	if err := os.WriteFile(filepath.Join(e.cfgDir, "rules.json"), []byte(testRules), 0o600); err != nil {
		t.Fatal(err)
	}
	e.dec.ReloadRules(context.Background())
	r = e.ok(200, "GET", "/api/rules", nil)
	if r["error"] != "" || len(r["rules"].([]any)) != 2 || r["rules_hash"] == "" {
		t.Fatalf("rules after reload: %v", r)
	}
	// A broken file is fail-closed too and says why.
	os.WriteFile(filepath.Join(e.cfgDir, "rules.json"), []byte(`{"rules":[{"match":{}}]}`), 0o600)
	e.dec.ReloadRules(context.Background())
	r = e.ok(200, "GET", "/api/rules", nil)
	if !strings.Contains(r["error"].(string), "invalid") {
		t.Fatalf("broken rules: %v", r)
	}
}

func TestApprovalFlowAndDispatch(t *testing.T) {
	e := newEnv(t, testRules)
	e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil)})
	m := e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("prod", "RESTRICTED")})
	dec := m["decision"].(map[string]any)
	if dec["supervisor_required"] != true || dec["denied"] != false || dec["pending_approval_id"] == nil {
		t.Fatalf("want a pending approval: %v", dec)
	}
	id, apr := dec["decision_id"].(string), dec["pending_approval_id"].(string)
	p := e.ok(200, "GET", "/wcp/approvals/pending", nil)["approvals"].([]any)
	if len(p) != 1 || p[0].(map[string]any)["approval_id"] != apr || p[0].(map[string]any)["decision_id"] != id {
		t.Fatalf("pending: %v", p)
	}
	s := e.ok(200, "GET", "/api/decisions?outcome=pending", nil)["decisions"].([]any)
	if len(s) != 1 || s[0].(map[string]any)["pending_approval_id"] != apr {
		t.Fatalf("feed pending: %v", s)
	}
	e.apiErr(409, "conflict", "decision_id", "POST", "/api/dispatches", map[string]any{"decision_id": id})
	e.apiErr(400, "invalid_field", "action", "POST", "/api/approvals/"+apr+"/resolve", map[string]any{"action": "maybe"})
	e.apiErr(400, "missing_field", "action", "POST", "/api/approvals/"+apr+"/resolve", map[string]any{})
	e.apiErr(404, "not_found", "approval_id", "POST", "/api/approvals/apr_nope/resolve", map[string]any{"action": "approve"})
	a := e.ok(200, "POST", "/api/approvals/"+apr+"/resolve", map[string]any{"action": "approve", "note": "ok by me"})
	if a["status"] != "approved" || a["note"] != "ok by me" || a["resolved_at"] == "" {
		t.Fatalf("resolved: %v", a)
	}
	e.apiErr(409, "conflict", "approval_id", "POST", "/api/approvals/"+apr+"/resolve", map[string]any{"action": "deny"})
	if got := e.ok(200, "GET", "/api/approvals?status=approved", nil)["approvals"].([]any); len(got) != 1 {
		t.Fatalf("approved list: %v", got)
	}
	e.apiErr(400, "invalid_field", "status", "GET", "/api/approvals?status=nope", nil)

	// Dispatch now works; active is real; finish computes the duration.
	d := e.ok(201, "POST", "/api/dispatches", map[string]any{"decision_id": id})
	did := d["dispatch_id"].(string)
	if d["worker_id"] != "org.acme.summarizer" || d["worker_species_id"] != "wrk.doc.summarizer" {
		t.Fatalf("dispatch: %v", d)
	}
	act := e.ok(200, "GET", "/api/dispatches/active", nil)["active"].([]any)
	if len(act) != 1 || act[0].(map[string]any)["dispatch_id"] != did {
		t.Fatalf("active: %v", act)
	}
	time.Sleep(20 * time.Millisecond)
	e.apiErr(400, "invalid_field", "outcome", "POST", "/api/dispatches/"+did+"/finish", map[string]any{"outcome": "ok"})
	e.apiErr(400, "invalid_field", "result_hash", "POST", "/api/dispatches/"+did+"/finish", map[string]any{"outcome": "succeeded", "result_hash": "xyz"})
	f := e.ok(200, "POST", "/api/dispatches/"+did+"/finish", map[string]any{"outcome": "succeeded"})
	if f["duration_ms"].(float64) < 20 || f["finished_at"] == "" || f["outcome"] != "succeeded" {
		t.Fatalf("finish: %v", f)
	}
	e.apiErr(409, "conflict", "dispatch_id", "POST", "/api/dispatches/"+did+"/finish", map[string]any{"outcome": "failed"})
	e.apiErr(404, "not_found", "dispatch_id", "POST", "/api/dispatches/dsp_nope/finish", map[string]any{"outcome": "failed"})
	if act := e.ok(200, "GET", "/api/dispatches/active", nil)["active"].([]any); len(act) != 0 {
		t.Fatalf("still active: %v", act)
	}
	ds := e.ok(200, "GET", "/api/dispatches?limit=1", nil)
	if len(ds["dispatches"].([]any)) != 1 || ds["next_cursor"] != "" {
		t.Fatalf("dispatches: %v", ds)
	}
	if det := e.ok(200, "GET", "/api/decisions/"+id, nil); det["dispatch"] == nil || det["approval"] == nil {
		t.Fatalf("detail lacks dispatch/approval: %v", det)
	}
	// Denied decisions cannot be dispatched; unknown ones are 404.
	in := routeInput("dev", "PUBLIC")
	in["capability_id"] = "cap.none"
	den := e.ok(200, "POST", "/wcp/route", map[string]any{"input": in})["decision"].(map[string]any)["decision_id"].(string)
	e.apiErr(409, "conflict", "decision_id", "POST", "/api/dispatches", map[string]any{"decision_id": den})
	e.apiErr(404, "not_found", "decision_id", "POST", "/api/dispatches", map[string]any{"decision_id": "nope"})
	e.apiErr(400, "missing_field", "decision_id", "POST", "/api/dispatches", map[string]any{})
}

func TestAlertsAcknowledgePersists(t *testing.T) {
	e := newEnv(t, testRules)
	ctx := context.Background()
	a, err := e.st.RaiseAlert(ctx, store.AlertInput{Type: store.AlertWorkerFailure, Severity: store.SeverityError, Title: "boom", WorkerID: "org.a.b"})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := e.st.RaiseAlert(ctx, store.AlertInput{Type: store.AlertWorkerFailure, Severity: store.SeverityError, Title: "boom", WorkerID: "org.a.b"})
	if again.AlertID != a.AlertID || again.Count != 2 {
		t.Fatalf("dedup: %+v", again)
	}
	e.st.RaiseAlert(ctx, store.AlertInput{Type: store.AlertRegistryUnreachable, Severity: store.SeverityWarning, Title: "offline"})
	if l := e.ok(200, "GET", "/api/alerts?severity=error", nil)["alerts"].([]any); len(l) != 1 {
		t.Fatalf("severity filter: %v", l)
	}
	got := e.ok(200, "POST", "/api/alerts/"+a.AlertID+"/ack", nil)
	if got["acknowledged"] != true || got["acknowledged_at"] == "" {
		t.Fatalf("ack: %v", got)
	}
	e.apiErr(404, "not_found", "alert_id", "POST", "/api/alerts/alr_nope/ack", nil)
	e.apiErr(400, "unknown_field", "x", "POST", "/api/alerts/"+a.AlertID+"/ack", `{"x":1}`)
	e.apiErr(400, "invalid_field", "acknowledged", "GET", "/api/alerts?acknowledged=maybe", nil)
	e.apiErr(400, "invalid_field", "severity", "GET", "/api/alerts?severity=loud", nil)
	if l := e.ok(200, "GET", "/api/alerts?acknowledged=false", nil)["alerts"].([]any); len(l) != 1 {
		t.Fatalf("open alerts: %v", l)
	}
	// Persisted: a new store on the same file sees the acknowledgement.
	st2, err := store.Open(e.st.Path(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	tr := true
	l, err := st2.ListAlerts(ctx, store.AlertFilter{Acknowledged: &tr})
	if err != nil || len(l) != 1 || l[0].AlertID != a.AlertID {
		t.Fatalf("persisted ack: %v %v", l, err)
	}
}

func TestFeedFiltersPaginationExport(t *testing.T) {
	e := newEnv(t, testRules)
	base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	var batch []map[string]any
	for i := 0; i < 25; i++ {
		d := map[string]any{"decision_id": fmt.Sprintf("d-%02d", i), "timestamp": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			"capability_id": "cap.a", "tenant_id": "t1", "env": "dev", "denied": i%3 == 0, "selected_worker_species_id": "wrk.a",
			"correlation_id": fmt.Sprintf("corr-%d", i)}
		if i%3 == 0 {
			d["deny_reason_if_denied"] = map[string]any{"code": "DENY_NO_MATCHING_RULE", "message": "no rule"}
			d["selected_worker_species_id"] = nil
		}
		if i >= 20 {
			d["capability_id"], d["tenant_id"] = "cap.b", "=t2"
		}
		batch = append(batch, d)
	}
	r := e.ok(201, "POST", "/api/decisions/ingest", map[string]any{"decisions": batch})
	if r["recorded"].(float64) != 25 {
		t.Fatalf("ingest: %v", r)
	}
	// Idempotent.
	if r = e.ok(201, "POST", "/api/decisions/ingest", map[string]any{"decisions": batch[:2]}); r["recorded"].(float64) != 0 {
		t.Fatalf("re-ingest recorded %v", r["recorded"])
	}
	// Keyset pagination, newest first, no duplicates or gaps.
	seen := []string{}
	cur := ""
	for {
		m := e.ok(200, "GET", "/api/decisions?limit=7&cursor="+cur, nil)
		for _, d := range m["decisions"].([]any) {
			seen = append(seen, d.(map[string]any)["decision_id"].(string))
		}
		if cur = m["next_cursor"].(string); cur == "" {
			break
		}
	}
	if len(seen) != 25 || seen[0] != "d-24" || seen[24] != "d-00" {
		t.Fatalf("pages: %v", seen)
	}
	count := func(q string) int {
		return len(e.ok(200, "GET", "/api/decisions?limit=500&"+q, nil)["decisions"].([]any))
	}
	for q, want := range map[string]int{"outcome=denied": 9, "outcome=allowed": 16, "capability=cap.b": 5, "tenant=t1": 20,
		"worker=wrk.a": 16, "q=corr-1": 11, "q=NO_MATCHING": 9, "from=2026-01-02T03:10:00Z": 15,
		"from=2026-01-02T03:10:00Z&to=2026-01-02T03:12:00Z": 3, "outcome=denied&capability=cap.b": 2, "q=%25": 0} {
		if got := count(q); got != want {
			t.Errorf("%s: %d, want %d", q, got, want)
		}
	}
	code, hdr, b := e.req("GET", "/api/decisions/export?format=csv&capability=cap.b", nil)
	if code != 200 || !strings.Contains(hdr.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", code, hdr)
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(rows) != 6 || rows[0][0] != "decision_id" || rows[1][6] != "'=t2" {
		t.Fatalf("csv rows: %v %v", rows, err)
	}
	code, _, b = e.req("GET", "/api/decisions/export?format=jsonl&outcome=denied", nil)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if code != 200 || len(lines) != 9 {
		t.Fatalf("jsonl: %d %d", code, len(lines))
	}
	var one map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &one); err != nil || one["decision"] == nil || one["outcome"] != "denied" {
		t.Fatalf("jsonl line: %v %v", one, err)
	}
	e.apiErr(400, "invalid_field", "format", "GET", "/api/decisions/export?format=xml", nil)

	// Single ingest (reference shape) answers decision_id.
	one2 := e.ok(201, "POST", "/decisions/ingest", map[string]any{"capability_id": "cap.z", "tenant_id": "t9", "denied": true, "deny_reason": "DENY_X", "blast_score": 40})
	if one2["decision_id"] == nil || one2["recorded"].(float64) != 1 {
		t.Fatalf("single ingest: %v", one2)
	}
	e.apiErr(400, "invalid_field", "blast_score", "POST", "/api/decisions/ingest", map[string]any{"capability_id": "cap.z", "denied": true, "blast_score": 101})
	e.apiErr(400, "invalid_field", "decisions", "POST", "/api/decisions/ingest", map[string]any{"decisions": []any{}})
	e.apiErr(400, "unknown_field", "extra", "POST", "/api/decisions/ingest", map[string]any{"decisions": []any{}, "extra": 1})
}

func TestWorkersEnrollment(t *testing.T) {
	e := newEnv(t, testRules)
	v := e.ok(200, "POST", "/api/workers/validate", map[string]any{"record": map[string]any{"species_id": "doc", "capabilities": []any{}}})
	if v["valid"] != false {
		t.Fatalf("validate: %v", v)
	}
	checks := v["checks"].([]any)
	want := []string{"Species ID must start with 'wrk.'", "No capabilities declared", "Missing or invalid blast_score (required, 0–100)",
		"Missing required field: guarantee (best-effort | at-least-once | exactly-once)", "WARNING: No DLQ handler declared (recommended for production workers)"}
	for i, w := range want {
		if checks[i].(map[string]any)["message"] != w {
			t.Fatalf("check %d: %v, want %q", i, checks[i], w)
		}
	}
	bad := []struct {
		mods  map[string]any
		field string
	}{
		{map[string]any{"worker_species_id": nil}, "record.worker_species_id"},
		{map[string]any{"worker_species_id": "wrk.Bad Id"}, "record.worker_species_id"},
		{map[string]any{"capabilities": []any{"not-a-cap"}}, "record.capabilities"},
		{map[string]any{"blast_score": json.Number("101")}, "record.blast_score"},
		{map[string]any{"guarantee": "maybe"}, "record.guarantee"},
		{map[string]any{"worker_id": "acme"}, "record.worker_id"},
		{map[string]any{"currently_implements": []any{"audit"}}, "record.currently_implements"},
	}
	for _, b := range bad {
		e.apiErr(400, "*", b.field, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, b.mods)})
	}
	tampered := workerRecord(t, nil)
	tampered["risk_tier"] = "high" // changed after hashing
	e.apiErr(400, "invalid_field", "record.artifact_hash", "POST", "/api/workers/enroll", map[string]any{"record": tampered})
	e.apiErr(400, "invalid_field", "package_path", "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil), "package_path": "relative/dir"})
	e.apiErr(400, "missing_field", "record", "POST", "/api/workers/enroll", map[string]any{})
	e.apiErr(400, "unknown_field", "records", "POST", "/api/workers/enroll", map[string]any{"records": 1})
	if n := e.count("enrollments"); n != 0 {
		t.Fatalf("rejected enrollments stored %d rows", n)
	}
	// Legacy /enroll requires artifact_hash.
	noHash := workerRecord(t, nil)
	delete(noHash, "artifact_hash")
	e.apiErr(400, "missing_field", "record.artifact_hash", "POST", "/enroll", noHash)

	// A package that does not verify is refused, saying what is missing.
	unsigned := filepath.Join(t.TempDir(), "pkg")
	unsignedPackage(t, unsigned)
	if _, _, b := e.req("POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil), "package_path": unsigned}); !strings.Contains(string(b), "package unsigned") {
		t.Fatalf("unsigned package: %s", b)
	}
	r := e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil)})
	w := r["worker"].(map[string]any)
	if w["status"] != "unverified" || w["attestation"].(map[string]any)["state"] != "unknown" {
		t.Fatalf("worker: %v", w)
	}
	r = e.ok(200, "POST", "/enroll", workerRecord(t, map[string]any{"risk_tier": "medium"}))
	if r["updated"] != true || r["worker"].(map[string]any)["risk_tier"] != "medium" {
		t.Fatalf("re-enroll: %v", r)
	}
	l := e.ok(200, "GET", "/api/workers", nil)["workers"].([]any)
	if len(l) != 1 {
		t.Fatalf("workers: %v", l)
	}
	caps := e.ok(200, "GET", "/wcp/capabilities", nil)["capabilities"].([]any)
	if len(caps) != 1 || caps[0].(map[string]any)["capability_id"] != "cap.doc.summarize" {
		t.Fatalf("capabilities: %v", caps)
	}
	// A tampered attestation (from the package watcher) makes the worker unroutable and raises an alert.
	if _, err := e.st.SetWorkerAttestation(context.Background(), "org.acme.summarizer",
		store.Attestation{State: store.AttestationTampered, Reason: "file changed"}); err != nil {
		t.Fatal(err)
	}
	m := e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")})
	if m["decision"].(map[string]any)["deny_reason_if_denied"].(map[string]any)["code"] != "DENY_NO_AVAILABLE_WORKER" {
		t.Fatalf("tampered worker was routed: %v", m)
	}
	if al := e.ok(200, "GET", "/api/alerts", nil)["alerts"].([]any); len(al) != 1 || al[0].(map[string]any)["type"] != "WORKER_TAMPERED" {
		t.Fatalf("alerts: %v", al)
	}
	e.ok(200, "DELETE", "/api/workers/org.acme.summarizer", nil)
	e.apiErr(404, "not_found", "worker_id", "DELETE", "/api/workers/org.acme.summarizer", nil)
}

type fakeVerifier struct{ state string }

func (f fakeVerifier) VerifyPackage(_ context.Context, w store.Worker) (store.Attestation, error) {
	return store.Attestation{State: f.state, PackageHash: strings.Repeat("a", 64), Reason: "checked " + w.PackagePath}, nil
}

func TestEnrollUsesPackageVerifier(t *testing.T) {
	e := newEnv(t, testRules, func(o *httpapi.Options) { o.Packages = fakeVerifier{store.AttestationVerified} })
	pkg := filepath.Join(t.TempDir(), "pkg")
	unsignedPackage(t, pkg)
	r := e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil), "package_path": pkg})
	if w := r["worker"].(map[string]any); w["status"] != "active" || w["attestation"].(map[string]any)["state"] != "verified" {
		t.Fatalf("verified worker: %v", w)
	}
	e.srv.SetPackageVerifier(fakeVerifier{store.AttestationTampered})
	e.apiErr(400, "invalid_field", "package_path", "POST", "/api/workers/enroll",
		map[string]any{"record": workerRecord(t, map[string]any{"worker_id": "org.acme.other"}), "package_path": pkg})
}

type fakeAccount struct{}

func (fakeAccount) AccountStatus(context.Context) httpapi.AccountStatus {
	return httpapi.AccountStatus{LoggedIn: true, GitHubLogin: "octo", Standing: "ok", Online: true, Tier: "team"}
}

func TestStatusAccountState(t *testing.T) {
	e := newEnv(t, testRules)
	s := e.ok(200, "GET", "/api/status", nil)
	if s["state"] != "offline" || s["logged_in"] != false || s["online"] != false {
		t.Fatalf("default status: %v", s)
	}
	e.srv.SetAccount(fakeAccount{})
	s = e.ok(200, "GET", "/api/status", nil)
	if s["state"] != "online" || s["github_login"] != "octo" || s["tier"] != "team" || s["server"].(map[string]any)["rules_loaded"] != true {
		t.Fatalf("account status: %v", s)
	}
	h := e.ok(200, "GET", "/wcp/health", nil)
	if h["status"] != "ok" || h["wcp_version"] != "0.1" {
		t.Fatalf("wcp health: %v", h)
	}
}

func TestSettingsETag(t *testing.T) {
	e := newEnv(t, testRules)
	_, hdr, b := e.req("GET", "/api/settings", nil)
	etag := hdr.Get("ETag")
	var got struct{ Settings store.Settings }
	json.Unmarshal(b, &got)
	if etag == "" || got.Settings.FeedMaxRows != 500 || got.Settings.Theme != "system" || !got.Settings.CloseToTray {
		t.Fatalf("defaults: %s %s", etag, b)
	}
	next := got.Settings
	next.Theme, next.Timezone, next.CloseToTray = "dark", "Europe/Paris", false
	e.apiErr(428, "precondition_failed", "", "PUT", "/api/settings", next)
	e.apiErr(412, "precondition_failed", "", "PUT", "/api/settings", next, "If-Match", `"stale"`)
	code, hdr2, b := e.req("PUT", "/api/settings", next, "If-Match", etag)
	if code != 200 || hdr2.Get("ETag") == etag || !strings.Contains(string(b), `"theme":"dark"`) || !strings.Contains(string(b), `"close_to_tray":false`) {
		t.Fatalf("put: %d %s", code, b)
	}
	// The old ETag no longer works (a second editor loses, nothing is overwritten).
	other := got.Settings
	other.Theme = "light"
	e.apiErr(412, "precondition_failed", "", "PUT", "/api/settings", other, "If-Match", etag)
	bad := map[string]func(s *store.Settings){
		"timezone":        func(s *store.Settings) { s.Timezone = "Mars/Base" },
		"locale":          func(s *store.Settings) { s.Locale = "en_GB!" },
		"feed_max_rows":   func(s *store.Settings) { s.FeedMaxRows = 1 },
		"notify_on[0]":    func(s *store.Settings) { s.NotifyOn = []string{"nope"} },
		"default_profile": func(s *store.Settings) { s.DefaultProfile = "x" },
		"theme":           func(s *store.Settings) { s.Theme = "pink" },
	}
	for field, f := range bad {
		s := next
		f(&s)
		e.apiErr(400, "invalid_field", field, "PUT", "/api/settings", s, "If-Match", hdr2.Get("ETag"))
	}
	e.apiErr(400, "missing_field", "theme", "PUT", "/api/settings", `{"timezone":"","locale":"","feed_max_rows":500,"notify_on":[],"notify_every_denial":false,"default_profile":"prof.x"}`, "If-Match", hdr2.Get("ETag"))
	e.apiErr(400, "missing_field", "close_to_tray", "PUT", "/api/settings", `{"timezone":"","locale":"","feed_max_rows":500,"notify_on":[],"notify_every_denial":false,"default_profile":"prof.dev.permissive","theme":"dark"}`, "If-Match", hdr2.Get("ETag"))
	if st := e.ok(200, "GET", "/api/settings", nil)["settings"].(map[string]any); st["close_to_tray"] != false {
		t.Fatalf("close_to_tray not stored: %v", st)
	}
	e.apiErr(400, "unknown_field", "colour", "PUT", "/api/settings", `{"colour":"red"}`, "If-Match", hdr2.Get("ETag"))
}

func TestSetupWritesConfigAndRotatesToken(t *testing.T) {
	e := newEnv(t, testRules)
	g := e.ok(200, "GET", "/api/setup", nil)
	if g["completed"] != false {
		t.Fatalf("setup: %v", g)
	}
	cfg := g["defaults"].(map[string]any)
	cfg["data_dir"], cfg["port"], cfg["rules_path"] = e.dataDir, 9999, filepath.Join(e.cfgDir, "rules.json")
	cfg["default_profile"] = "prof.prod.strict"
	delete(cfg, "setup_completed_at")
	bad := map[string]any{}
	for k, v := range cfg {
		bad[k] = v
	}
	bad["registry_url"] = "ftp://x"
	e.apiErr(400, "invalid_field", "registry_url", "POST", "/api/setup", bad)
	if _, err := os.Stat(filepath.Join(e.cfgDir, "config.json")); !os.IsNotExist(err) {
		t.Fatal("a rejected setup wrote config.json")
	}
	r := e.ok(200, "POST", "/api/setup", cfg)
	if r["completed"] != true || r["restart_required"] != true {
		t.Fatalf("setup: %v", r)
	}
	saved, err := config.Load(e.cfgDir)
	if err != nil || saved.Port != 9999 || !saved.Completed() {
		t.Fatalf("config.json: %+v %v", saved, err)
	}
	// registry_paths set in config.json by hand survive a wizard run that does not send them.
	saved.RegistryPaths = &registry.Paths{BanList: "/v2/bans"}
	if err := config.Save(e.cfgDir, saved); err != nil {
		t.Fatal(err)
	}
	e.ok(200, "POST", "/api/setup", cfg)
	if again, _ := config.Load(e.cfgDir); again.RegistryPaths == nil || again.RegistryPaths.BanList != "/v2/bans" {
		t.Fatalf("setup dropped registry_paths: %+v", again.RegistryPaths)
	}
	if st := e.ok(200, "GET", "/api/settings", nil)["settings"].(map[string]any); st["default_profile"] != "prof.prod.strict" {
		t.Fatalf("the wizard's default profile did not reach the settings the Hall reads: %v", st)
	}
	if fi, _ := os.Stat(filepath.Join(e.cfgDir, "config.json")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json mode %v", fi.Mode())
	}
	old := e.agentToken
	tok := e.ok(200, "POST", "/api/setup/token", nil)["token"].(string)
	if tok == old || len(tok) < 32 {
		t.Fatalf("rotated token %q", tok)
	}
	// The old token of agent default stops working, the new one routes;
	// the person's credential is not the agent's and did not change.
	e.apiErr(401, "unauthorized", "", "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")}, "Authorization", "Bearer "+e.agentToken)
	e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")}, "Authorization", "Bearer "+tok)
	e.ok(200, "GET", "/api/status", nil)
	onDisk, _ := config.LoadOrCreateToken(e.cfgDir)
	if string(onDisk) != tok {
		t.Fatal("rotated token not written to api-token")
	}
}

// A package folder given by name is found in the configured workers directory.
func TestRelativePackagePathIsInWorkersDir(t *testing.T) {
	wd := t.TempDir()
	unsignedPackage(t, filepath.Join(wd, "my-worker"))
	e := newEnv(t, testRules, func(o *httpapi.Options) {
		o.Config.WorkersDir, o.Packages = wd, fakeVerifier{store.AttestationVerified}
	})
	r := e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil), "package_path": "my-worker"})
	if got := r["worker"].(map[string]any)["package_path"]; got != filepath.Join(wd, "my-worker") {
		t.Fatalf("package_path %v, want it under %s", got, wd)
	}
	e.apiErr(400, "invalid_field", "package_path", "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil), "package_path": "missing"})
}

// config.json hall_config is what the Hall decides with: signatory tenants.
func TestHallConfigSignatoryTenants(t *testing.T) {
	hc := core.DefaultHallConfig()
	hc.RequireSignatory, hc.AllowedTenants = true, []string{"tenant-a"}
	e := newEnv(t, testRules, func(o *httpapi.Options) { o.Config.HallConfig = &hc })
	e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil)})
	ok := e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")})["decision"].(map[string]any)
	if ok["denied"] != false {
		t.Fatalf("allowed tenant denied: %v", ok["deny_reason_if_denied"])
	}
	in := routeInput("dev", "PUBLIC")
	in["tenant_id"] = "tenant-b"
	den := e.ok(200, "POST", "/wcp/route", map[string]any{"input": in})["decision"].(map[string]any)
	if den["deny_reason_if_denied"].(map[string]any)["code"] != core.DenyUnknownTenant {
		t.Fatalf("unknown tenant: %v", den)
	}
}

// The Workers screen's local catalog: packages in workers_dir that are not
// enrolled, with their record checks; enrolling one removes it.
func TestAvailableWorkersInWorkersDir(t *testing.T) {
	wd := t.TempDir()
	write := func(folder, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(wd, folder), 0o755); err != nil {
			t.Fatal(err)
		}
		if body != "" {
			if err := os.WriteFile(filepath.Join(wd, folder, "registry_record.json"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	good, _ := json.Marshal(workerRecord(t, nil))
	bad, _ := json.Marshal(workerRecord(t, map[string]any{"worker_id": "org.acme.bad", "worker_species_id": "summarizer"}))
	write("summarizer", string(good))
	write("broken", string(bad))
	write("garbled", "{not json")
	write("not-a-package", "")
	unsignedPackage(t, filepath.Join(wd, "summarizer"))
	e := newEnv(t, testRules, func(o *httpapi.Options) {
		o.Config.WorkersDir, o.Packages = wd, fakeVerifier{store.AttestationVerified}
	})

	list := func() map[string]map[string]any {
		r := e.ok(200, "GET", "/api/workers/available", nil)
		if r["workers_dir"] != wd || r["error"] != "" {
			t.Fatalf("listing: %v", r)
		}
		out := map[string]map[string]any{}
		for _, p := range r["packages"].([]any) {
			m := p.(map[string]any)
			out[m["folder"].(string)] = m
		}
		return out
	}
	got := list()
	if len(got) != 3 {
		t.Fatalf("want summarizer, broken, garbled; got %v", got)
	}
	if s := got["summarizer"]; s["valid"] != true || s["worker_id"] != "org.acme.summarizer" || s["problem"] != "" || s["path"] != filepath.Join(wd, "summarizer") {
		t.Errorf("valid package: %v", s)
	}
	if b := got["broken"]; b["valid"] != false || !strings.Contains(b["problem"].(string), "worker_species_id") {
		t.Errorf("invalid record names its field: %v", b)
	}
	if g := got["garbled"]; g["valid"] != false || !strings.Contains(g["problem"].(string), "not valid JSON") || g["record"] != nil {
		t.Errorf("unreadable record: %v", g)
	}
	e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil), "package_path": "summarizer"})
	if _, still := list()["summarizer"]; still {
		t.Error("an enrolled package is still listed as available")
	}
	e.apiErr(401, "unauthorized", "", "GET", "/api/workers/available", nil, "Authorization", "")
}

func TestAvailableWorkersWithoutWorkersDir(t *testing.T) {
	e := newEnv(t, testRules, func(o *httpapi.Options) { o.Config.WorkersDir = filepath.Join(t.TempDir(), "missing") })
	r := e.ok(200, "GET", "/api/workers/available", nil)
	if !strings.Contains(r["error"].(string), "does not exist") || len(r["packages"].([]any)) != 0 {
		t.Fatalf("missing workers dir: %v", r)
	}
}

// What the window or a browser enrolls must be in the workers folder: a
// package elsewhere, or a symbolic link inside the folder that leads out of
// it, is refused naming package_path, and nothing is enrolled.
func TestEnrollStaysInWorkersFolder(t *testing.T) {
	wd, outside := t.TempDir(), t.TempDir()
	unsignedPackage(t, filepath.Join(wd, "inside"))
	unsignedPackage(t, filepath.Join(outside, "elsewhere"))
	if err := os.Symlink(filepath.Join(outside, "elsewhere"), filepath.Join(wd, "sneaky")); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, testRules, func(o *httpapi.Options) {
		o.Config.WorkersDir, o.Packages = wd, fakeVerifier{store.AttestationVerified}
	})
	for _, p := range []string{filepath.Join(outside, "elsewhere"), "sneaky", filepath.Join(wd, "sneaky"), "../" + filepath.Base(outside) + "/elsewhere", wd} {
		code, _, body := e.req("POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil), "package_path": p})
		if code != 400 || !strings.Contains(string(body), `"field":"package_path"`) || !strings.Contains(string(body), "workers folder") {
			t.Errorf("package_path %s: %d %s", p, code, body)
		}
	}
	if n := e.count("enrollments"); n != 0 {
		t.Fatalf("%d workers enrolled from outside the workers folder", n)
	}
	e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil), "package_path": "inside"})
	// The setup wizard enrolls from the folder it is choosing, until setup completes.
	wizard := map[string]any{"record": workerRecord(t, map[string]any{"worker_id": "org.acme.wizard"}),
		"package_path": filepath.Join(outside, "elsewhere"), "workers_dir": outside}
	e.ok(201, "POST", "/api/workers/enroll", wizard)
	cfg, err := config.Load(e.cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.SetupCompletedAt = "2026-12-04T00:00:00Z"
	if err := config.Save(e.cfgDir, cfg); err != nil {
		t.Fatal(err)
	}
	wizard["record"] = workerRecord(t, map[string]any{"worker_id": "org.acme.later"})
	e.apiErr(400, "invalid_field", "package_path", "POST", "/api/workers/enroll", wizard)
}
