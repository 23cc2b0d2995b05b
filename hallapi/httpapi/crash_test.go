package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"hallmonitor/core/receipt"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
)

const crashChildEnv = "HALLMONITOR_TEST_CRASH_CHILD"

// TestCrashChild is the server process of TestKill9LosesNoAcknowledgedDecision;
// it only runs when re-executed with HALLMONITOR_TEST_CRASH_CHILD=<dir>.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("child process of the kill -9 test")
	}
	cfgDir, dataDir := filepath.Join(dir, "config"), filepath.Join(dir, "data")
	st, err := store.Open(filepath.Join(dataDir, "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := config.Defaults(cfgDir)
	cfg.DataDir, cfg.RulesPath = dataDir, filepath.Join(cfgDir, "rules.json")
	os.MkdirAll(cfgDir, 0o700)
	os.WriteFile(cfg.RulesPath, []byte(testRules), 0o600)
	dec, err := decide.New(decide.Options{Store: st, KeyDir: cfg.DataDir, RulesPath: cfg.RulesPath})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Options{Store: st, ConfigDir: cfgDir, Config: cfg, Decide: dec})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := config.WriteFileAtomic(filepath.Join(dir, "addr"), []byte(ln.Addr().String()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.Serve(context.Background(), ln) // until killed
}

func TestKill9LosesNoAcknowledgedDecision(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; {
		if b, err := os.ReadFile(filepath.Join(dir, "addr")); err == nil {
			addr = string(b)
		} else if time.Now().After(deadline) {
			t.Fatal("child server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tok, err := config.LoadOrCreateToken(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	receipts := map[string]string{} // decision id -> acknowledged receipt hash
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(path string, body any) (map[string]any, bool) {
		b, _ := json.Marshal(body)
		r, _ := http.NewRequest("POST", "http://"+addr+path, bytes.NewReader(b))
		r.Header.Set("Authorization", "Bearer "+string(tok))
		r.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(r)
		if err != nil {
			return nil, false
		}
		defer resp.Body.Close()
		var m map[string]any
		if json.NewDecoder(resp.Body).Decode(&m) != nil || (resp.StatusCode != 201 && resp.StatusCode != 200) {
			return nil, false
		}
		return m, true
	}
	// 8 concurrent route agents on 2 tenants (their decisions are group
	// committed together, receipts chained inside the group) and 3 ingest
	// clients.
	const routeAgents = 8
	for w := 0; w < routeAgents+3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch {
				case w < routeAgents: // routed decisions (decision + receipt + event, group committed)
					in := routeInput("dev", "PUBLIC")
					in["tenant_id"] = []string{"tenant-a", "tenant-b"}[w%2]
					if m, ok := post("/wcp/route", map[string]any{"input": in}); ok {
						id := m["decision"].(map[string]any)["decision_id"].(string)
						rc, _ := m["receipt"].(map[string]any)
						mu.Lock()
						acked[id] = true
						receipts[id], _ = rc["receipt_hash"].(string)
						mu.Unlock()
					}
				default: // batches of ingested decisions
					var ds []map[string]any
					for j := 0; j < 50; j++ {
						ds = append(ds, map[string]any{"decision_id": fmt.Sprintf("w%d-%d-%d", w, i, j), "capability_id": "cap.a", "denied": false, "tenant_id": fmt.Sprintf("t%d", w)})
					}
					if m, ok := post("/api/decisions/ingest", map[string]any{"decisions": ds}); ok {
						mu.Lock()
						for _, id := range m["decision_ids"].([]any) {
							acked[id.(string)] = true
						}
						mu.Unlock()
					}
				}
			}
		}(w)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 100 {
		t.Fatalf("only %d decisions acknowledged before the kill", len(acked))
	}
	st, err := store.Open(filepath.Join(dir, "data", "hall.db"), store.Options{})
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	for id := range acked {
		d, err := st.GetDecision(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged decision %s lost after kill -9: %v", id, err)
		}
		if want, ok := receipts[id]; ok {
			var rc struct {
				ReceiptHash string `json:"receipt_hash"`
			}
			json.Unmarshal(d.Receipt, &rc)
			if want == "" || rc.ReceiptHash != want {
				t.Fatalf("acknowledged receipt %q of decision %s is %q after kill -9", want, id, rc.ReceiptHash)
			}
		}
	}
	if len(receipts) < 50 {
		t.Fatalf("only %d routed decisions acknowledged before the kill", len(receipts))
	}
	var integrity string
	if err := st.Write(ctx, func(tx *store.Tx) error { return tx.QueryRow(`PRAGMA integrity_check`).Scan(&integrity) }); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %s %v", integrity, err)
	}
	// Every tenant's receipt chain is intact.
	key, err := config.LoadOrCreateSigningKey(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	heads, err := st.ReceiptHeads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"tenant-a", "tenant-b", "t1", "t2", "t3"} {
		raw, err := st.ReceiptChain(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := heads[tenant]; ok && h.Length != len(raw) {
			t.Fatalf("tenant %s: head records %d receipts, the chain has %d", tenant, h.Length, len(raw))
		}
		chain := make([]receipt.Receipt, len(raw))
		for i, b := range raw {
			json.Unmarshal(b, &chain[i])
		}
		if err := receipt.Verify(chain, func(string) (ed25519.PublicKey, bool) { return pub, true }); err != nil {
			t.Fatalf("tenant %s chain after kill -9: %v", tenant, err)
		}
	}
	t.Logf("kill -9 during concurrent route and ingest: %d acknowledged decisions (%d routed with receipts), all present after restart",
		len(acked), len(receipts))
}
