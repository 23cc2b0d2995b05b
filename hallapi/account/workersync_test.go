package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"hallmonitor/hallapi/account"
	"hallmonitor/hallapi/account/oauth"
	"hallmonitor/hallapi/registry"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
	"hallmonitor/internal/testservers/registrytest"
)

// The registry's answers about enrolled workers reach the store: a ban by
// worker id or by package hash marks the worker banned (routing leaves it
// out) with one REGISTRY_BANNED alert; an unreachable registry keeps the
// last known answer and says why.
func TestSyncWorkersStoresBansAndVerification(t *testing.T) {
	keyring.MockInitWithError(errors.New("no Secret Service"))
	ctx := context.Background()
	reg := registrytest.New(t, registrytest.Options{})
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lm, err := oauth.New(oauth.Options{RegistryURL: reg.URL, Store: oauth.NewTokenStore(dir, nil)})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := registry.New(registry.Options{BaseURL: reg.URL, Backoff: time.Millisecond, MaxRetries: 1, CacheTTL: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := account.New(account.Options{Login: lm, Registry: rc, Workers: st})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"x.acme.good", "x.acme.evil", "x.acme.pkg"} {
		rec, _ := json.Marshal(map[string]any{"worker_id": id, "worker_species_id": "wrk." + strings.TrimPrefix(id, "x.acme."),
			"capabilities": []string{"cap.doc.summarize"}, "blast_score": 10, "guarantee": "at-least-once"})
		if _, err := workers.Enroll(ctx, st, workers.EnrollRequest{Record: rec}); err != nil {
			t.Fatal(err)
		}
	}
	bad := strings.Repeat("c", 64)
	if _, err := st.SetWorkerAttestation(ctx, "x.acme.pkg", store.Attestation{State: store.AttestationVerified, PackageHash: bad}); err != nil {
		t.Fatal(err)
	}
	reg.PutWorker(registry.VerifyResponse{WorkerID: "x.acme.good", Status: "active", CurrentHash: "sha256:aa"})
	reg.PutWorker(registry.VerifyResponse{WorkerID: "x.acme.evil", Status: "banned", Banned: true, BanReason: "malware"})
	reg.Ban(registry.BanEntry{SHA256: bad, Reason: "crypto miner"})

	if n, err := svc.SyncWorkers(ctx); err != nil || n != 3 {
		t.Fatalf("sync: %d %v", n, err)
	}
	byID := func() map[string]store.Worker {
		ws, err := st.ListWorkers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]store.Worker{}
		for _, w := range ws {
			m[w.WorkerID] = w
		}
		return m
	}
	m := byID()
	if g := m["x.acme.good"]; g.Status == store.WorkerBanned || g.Registry.Status != "active" || g.Registry.CurrentHash != "sha256:aa" || g.Registry.CheckedAt == "" {
		t.Fatalf("good: %+v", g)
	}
	if e := m["x.acme.evil"]; e.Status != store.WorkerBanned || e.Registry.BanReason != "malware" {
		t.Fatalf("evil: %+v", e)
	}
	if p := m["x.acme.pkg"]; p.Status != store.WorkerBanned || !strings.Contains(p.Registry.BanReason, "crypto miner") {
		t.Fatalf("banned package hash: %+v", p)
	}
	if v := workers.NewView(mapValues(m), nil); v.WorkerAvailable("wrk.evil") || v.WorkerAvailable("wrk.pkg") || !v.WorkerAvailable("wrk.good") {
		t.Fatal("banned workers must be unavailable for routing")
	}
	alerts, err := st.ListAlerts(ctx, store.AlertFilter{})
	if err != nil || len(alerts) != 2 {
		t.Fatalf("want two REGISTRY_BANNED alerts: %v %+v", err, alerts)
	}

	// Registry down: the last known answers stay, each with the error.
	reg.Fail(registrytest.RouteAll, registrytest.Failure{Status: 500})
	if _, err := svc.SyncWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	m = byID()
	if e := m["x.acme.evil"]; e.Status != store.WorkerBanned || e.Registry.Error == "" {
		t.Fatalf("evil while the registry is down: %+v", e.Registry)
	}
	if p := m["x.acme.pkg"]; p.Status != store.WorkerBanned {
		t.Fatalf("a ban-list ban must survive an unreachable registry: %+v", p.Registry)
	}
	if g := m["x.acme.good"]; g.Registry.Status != "active" || g.Registry.Error == "" {
		t.Fatalf("good while the registry is down: %+v", g.Registry)
	}
	if alerts, _ := st.ListAlerts(ctx, store.AlertFilter{}); len(alerts) != 2 {
		t.Fatalf("an unreachable registry raised ban alerts again: %+v", alerts)
	}
}

func mapValues(m map[string]store.Worker) []store.Worker {
	out := make([]store.Worker, 0, len(m))
	for _, w := range m {
		out = append(out, w)
	}
	return out
}
