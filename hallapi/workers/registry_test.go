package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"hallmonitor/hallapi/store"
)

func upsert(t *testing.T, st *store.Store, id, species string) {
	t.Helper()
	if _, _, err := st.UpsertWorker(context.Background(), store.Worker{WorkerID: id, WorkerSpeciesID: species,
		Capabilities: []string{"cap." + id}, Record: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
}

// The snapshot is shared by every decision until a change; an in-process
// change rebuilds it before the write returns (decisions never load), and
// another process's change is picked up from the event log.
func TestRegistrySnapshotIsSharedAndRebuiltOnChange(t *testing.T) {
	st := openStore(t)
	var loads atomic.Int64
	load := func(ctx context.Context) ([]store.Worker, error) {
		loads.Add(1)
		return st.ListWorkers(ctx)
	}
	reg := NewRegistry(st, load, 10*time.Millisecond)
	st.OnCommit(reg.Changed)
	ctx := context.Background()
	s1, err := reg.Snapshot(ctx)
	if err != nil || s1.Workers != 0 {
		t.Fatal(s1, err)
	}
	s2, _ := reg.Snapshot(ctx)
	if s1 != s2 || loads.Load() != 1 {
		t.Fatalf("unchanged registry: snapshots %p %p, %d loads; want one shared snapshot", s1, s2, loads.Load())
	}

	upsert(t, st, "x.a.one", "wrk.one")
	n := loads.Load()
	s3, _ := reg.Snapshot(ctx)
	if s3.Version <= s1.Version || !s3.View.WorkerAvailable("wrk.one") || loads.Load() != n {
		t.Fatalf("after enrollment: version %d (was %d), available %v, loads by the decision %d",
			s3.Version, s1.Version, s3.View.WorkerAvailable("wrk.one"), loads.Load()-n)
	}
	// Settings and decisions do not rebuild it.
	if _, err := st.Emit(ctx, "settings.changed", map[string]int{}); err != nil {
		t.Fatal(err)
	}
	if s4, _ := reg.Snapshot(ctx); s4 != s3 {
		t.Fatal("a settings change rebuilt the registry view")
	}

	// Another process (another store on the same file) enrolls a worker.
	other, err := store.Open(st.Path(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	upsert(t, other, "x.a.two", "wrk.two")
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := reg.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.View.WorkerAvailable("wrk.two") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("another process's enrollment never reached the registry view")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A failed rebuild is retried by the next decision, which reports the error.
func TestRegistryRebuildErrorIsReported(t *testing.T) {
	st := openStore(t)
	var fail atomic.Bool
	reg := NewRegistry(st, func(ctx context.Context) ([]store.Worker, error) {
		if fail.Load() {
			return nil, fmt.Errorf("disk gone")
		}
		return st.ListWorkers(ctx)
	}, time.Hour)
	st.OnCommit(reg.Changed)
	fail.Store(true)
	upsert(t, st, "x.a.one", "wrk.one")
	if _, err := reg.Snapshot(context.Background()); err == nil {
		t.Fatal("a registry view that cannot be built must be an error, not a stale view")
	}
	fail.Store(false)
	if s, err := reg.Snapshot(context.Background()); err != nil || !s.View.WorkerAvailable("wrk.one") {
		t.Fatalf("retry: %v", err)
	}
}

// A package that changed is not verified for routing until its re-check
// ran: no current hash, so core denies DENY_WORKER_HASH_UNAVAILABLE.
func TestPendingRecheckIsNotVerified(t *testing.T) {
	st := openStore(t)
	dir := filepath.Join(t.TempDir(), "echo")
	pub := writePackage(t, dir, "x.test.echo", "wrk.test.echo", echoScript)
	enroll(t, st, dir, "x.test.echo", "wrk.test.echo", pub)
	svc := NewService(st, Options{Debounce: time.Hour})
	if err := svc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := svc.CurrentHash("wrk.test.echo"); !ok {
		t.Fatal("fresh package must verify")
	}
	svc.changed(fsnotify.Event{Name: filepath.Join(dir, "code", "run"), Op: fsnotify.Write})
	if h, ok := svc.CurrentHash("wrk.test.echo"); ok {
		t.Fatalf("package with a pending re-check answers current hash %s", h)
	}
	if _, ok := svc.RegisteredHash("wrk.test.echo"); !ok {
		t.Fatal("the registered hash stays known")
	}
	if code := decide(t, st, svc); code == "" {
		t.Fatal("a worker whose package changed was routed to before its re-check")
	}
}

// More packages change at once than any queue would hold: every one is
// re-checked (none is dropped and left "verified").
func TestRechecksAreNeverDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("enrolls 300 packages")
	}
	st := openStore(t)
	const n = 300
	dirs := make([]string, n)
	for i := range n {
		dirs[i] = filepath.Join(t.TempDir(), fmt.Sprintf("p%03d", i))
		id, sp := fmt.Sprintf("x.test.w%03d", i), fmt.Sprintf("wrk.test.w%03d", i)
		enroll(t, st, dirs[i], id, sp, writePackage(t, dirs[i], id, sp, echoScript))
	}
	svc := NewService(st, Options{Debounce: time.Millisecond})
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "code", "run"), []byte(echoScript+"# changed\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		left := 0
		for i := range n {
			if a, _ := svc.Attestation(fmt.Sprintf("x.test.w%03d", i)); a.State != StateTampered {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d changed packages were never re-checked", left, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
