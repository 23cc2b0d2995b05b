package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallmonitor/core"
	"hallmonitor/core/attest"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

const echoRules = `{"rules":[
 {"rule_id":"r_echo","match":{"capability_id":"cap.example.echo"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.example.echo"}]}}]}`

// signedEchoPackage writes a worker package whose entrypoint echoes its
// input, with a manifest signed by a fresh namespace key.
func signedEchoPackage(t *testing.T) (dir, pubHex string, priv ed25519.PrivateKey) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "echo")
	unsignedPackage(t, dir)
	pub, priv, _ := attest.GenerateKey(nil)
	signPackage(t, dir, priv)
	return dir, attest.EncodePublicKey(pub), priv
}

// unsignedPackage writes an echo worker package without a manifest.
func unsignedPackage(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "code"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"requirements.lock": "", "config.schema.json": `{"type":"object"}`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\nset -eu\ninput=$(cat)\nprintf '{\"ok\":true,\"echo\":%s}\\n' \"$input\"\n"
	if err := os.WriteFile(filepath.Join(dir, "code", "run"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// signPackage writes the package's manifest signed with priv.
func signPackage(t *testing.T, dir string, priv ed25519.PrivateKey) {
	t.Helper()
	m, err := attest.Build(os.DirFS(dir), attest.BuildOptions{WorkerID: "x.example.echo", WorkerSpeciesID: "wrk.example.echo",
		WorkerVersion: "1.0.0", Now: time.Now(), Signer: attest.Ed25519Signer{Key: priv}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, attest.ManifestName), m.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// enrollEcho enrolls the echo package's worker in e's store.
func enrollEcho(t *testing.T, e *env, pkg, pubHex string) {
	t.Helper()
	rec := workerRecord(t, map[string]any{"worker_id": "x.example.echo", "worker_species_id": "wrk.example.echo",
		"capabilities": []any{"cap.example.echo"}})
	b, _ := json.Marshal(rec)
	if _, err := workers.Enroll(context.Background(), e.st, workers.EnrollRequest{Record: b, PackagePath: pkg, PublicKeyEd25519: pubHex}); err != nil {
		t.Fatal(err)
	}
}

// An agent routes over HTTP, then asks the Hall to run the decision: the
// real worker subprocess answers, the dispatch is recorded with its
// duration, and the receipt names the package hash the decision saw.
func TestRouteThenDispatchRunsTheWorker(t *testing.T) {
	e := newEnv(t, echoRules)
	ctx := context.Background()
	pkg, pub, _ := signedEchoPackage(t)
	enrollEcho(t, e, pkg, pub)
	in := routeInput("dev", "PUBLIC")
	in["capability_id"] = "cap.example.echo"

	// Without an attestation source a packaged worker cannot be attested,
	// and without an executor nothing runs.
	res := e.ok(200, "POST", "/wcp/route", map[string]any{"input": in})
	if d := res["decision"].(map[string]any); d["denied"] != true || d["deny_reason_if_denied"].(map[string]any)["code"] != core.DenyAttestationUnconfigured {
		t.Fatalf("no attestation source: %v", d)
	}
	e.apiErr(503, "unavailable", "", "POST", "/wcp/dispatch", map[string]any{"decision_id": res["decision"].(map[string]any)["decision_id"]})

	svc := workers.NewService(e.st, workers.Options{})
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	e.dec.SetAttestationSource(svc)
	e.dec.SetDispatcher(workers.NewExecutor(e.st, svc, workers.ExecOptions{}))

	res = e.ok(200, "POST", "/wcp/route", map[string]any{"input": in})
	d := res["decision"].(map[string]any)
	if d["denied"] != false || d["selected_worker_species_id"] != "wrk.example.echo" {
		t.Fatalf("route: %v", d)
	}
	hash, _ := svc.CurrentHash("wrk.example.echo")
	if rc := res["receipt"].(map[string]any); rc["package_hash"] != hash || !core.IsSHA256Hex(hash) {
		t.Fatalf("receipt package_hash %v, package %s", rc["package_hash"], hash)
	}
	id := d["decision_id"].(string)
	run := e.ok(200, "POST", "/wcp/dispatch", map[string]any{"decision_id": id})
	disp := run["dispatch"].(map[string]any)
	out := run["output"].(map[string]any)
	if disp["outcome"] != "succeeded" || disp["duration_ms"] == nil || run["package_hash"] != hash ||
		out["echo"].(map[string]any)["request"].(map[string]any)["text"] != "hi" {
		t.Fatalf("run: %v", run)
	}
	if det := e.ok(200, "GET", "/api/decisions/"+id, nil); det["dispatch"].(map[string]any)["dispatch_id"] != disp["dispatch_id"] {
		t.Fatalf("detail dispatch: %v", det["dispatch"])
	}

	// Bad requests name the field; denied and unknown decisions do not run.
	e.apiErr(400, "missing_field", "decision_id", "POST", "/wcp/dispatch", map[string]any{})
	e.apiErr(400, "unknown_field", "decision", "POST", "/wcp/dispatch", map[string]any{"decision": id})
	e.apiErr(404, "not_found", "decision_id", "POST", "/wcp/dispatch", map[string]any{"decision_id": "dec_nope"})
	in["capability_id"] = "cap.none"
	den := e.ok(200, "POST", "/wcp/route", map[string]any{"input": in})["decision"].(map[string]any)["decision_id"]
	e.apiErr(409, "conflict", "decision_id", "POST", "/wcp/dispatch", map[string]any{"decision_id": den})
	if code, _, _ := e.req("POST", "/wcp/dispatch", map[string]any{"decision_id": id}, "Authorization", ""); code != 401 {
		t.Fatalf("dispatch without the token: %d", code)
	}
	e.apiErr(409, "conflict", "decision_id", "POST", "/wcp/dispatch", map[string]any{"decision_id": id}) // one run per decision
	if n := e.count("dispatches"); n != 1 {
		t.Fatalf("%d dispatches recorded, want 1", n)
	}

	// A ban that arrives between the decision and the run stops the run.
	in["capability_id"] = "cap.example.echo"
	later := e.ok(200, "POST", "/wcp/route", map[string]any{"input": in})["decision"].(map[string]any)["decision_id"]
	if _, err := e.st.SetWorkerRegistry(ctx, "x.example.echo", store.RegistryState{Status: "banned", Banned: true, BanReason: "malware"}); err != nil {
		t.Fatal(err)
	}
	e.apiErr(409, "conflict", "decision_id", "POST", "/wcp/dispatch", map[string]any{"decision_id": later})
	if n := e.count("dispatches"); n != 1 {
		t.Fatalf("a banned worker was started: %d dispatches", n)
	}
}

// The receipt names the package the decision saw; if the package is
// re-attested with other code before the run, the run is refused.
func TestDispatchRefusesAPackageChangedSinceTheDecision(t *testing.T) {
	e := newEnv(t, echoRules)
	ctx := context.Background()
	pkg, pub, priv := signedEchoPackage(t)
	sign := func() {
		signPackage(t, pkg, priv)
		enrollEcho(t, e, pkg, pub)
	}
	sign()
	svc := workers.NewService(e.st, workers.Options{})
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	e.dec.SetAttestationSource(svc)
	e.dec.SetDispatcher(workers.NewExecutor(e.st, svc, workers.ExecOptions{}))
	in := routeInput("dev", "PUBLIC")
	in["capability_id"] = "cap.example.echo"
	id := e.ok(200, "POST", "/wcp/route", map[string]any{"input": in})["decision"].(map[string]any)["decision_id"].(string)
	if err := os.WriteFile(filepath.Join(pkg, "code", "run"), []byte("#!/bin/sh\necho '{\"other\":true}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sign() // re-attested: the package verifies again, with another hash
	if err := svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	run := e.ok(200, "POST", "/wcp/dispatch", map[string]any{"decision_id": id})
	d := run["dispatch"].(map[string]any)
	if d["outcome"] != "failed" || !strings.Contains(d["error"].(string), "changed since the decision") || run["output"] != nil {
		t.Fatalf("a changed package ran: %v", run)
	}
}

var _ decide.Dispatcher = (*workers.Executor)(nil)
