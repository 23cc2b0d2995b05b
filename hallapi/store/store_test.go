package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "hall.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUpsertWorker(t *testing.T) {
	s := openTest(t)
	w, created, err := s.UpsertWorker(context.Background(), Worker{WorkerID: "org.a.b", WorkerSpeciesID: "wrk.a", Capabilities: []string{"cap.x"}})
	if err != nil || !created || w.Status != WorkerUnverified {
		t.Fatalf("%v %v %+v", err, created, w)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hall.db")
	s, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, SchemaVersion()+1))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(p, Options{})
	var ne *NewerSchemaError
	if !errors.As(err, &ne) || ne.DBVersion != SchemaVersion()+1 || !strings.Contains(err.Error(), "upgrade Hall Monitor") {
		t.Fatalf("want NewerSchemaError, got %v", err)
	}
}

func TestReopenKeepsEventIDsIncreasing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hall.db")
	s, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := s.Emit(ctx, "settings.changed", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.LastEventID() != 3 {
		t.Fatalf("last id after reopen %d", s.LastEventID())
	}
	ev, err := s.Emit(ctx, "settings.changed", nil)
	if err != nil || ev.ID != 4 {
		t.Fatalf("next id %d %v", ev.ID, err)
	}
	var v, fk int
	var mode string
	s.Write(ctx, func(tx *Tx) error {
		tx.QueryRow(`PRAGMA user_version`).Scan(&v)
		tx.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
		return tx.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	})
	if v != SchemaVersion() || fk != 1 || mode != "wal" {
		t.Fatalf("user_version %d foreign_keys %d journal %s", v, fk, mode)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("db mode %v %v", fi, err)
	}
}

func TestFailedWriteStoresNothingAndPublishesNothing(t *testing.T) {
	s := openTest(t)
	sub := s.Bus().Subscribe(10)
	defer sub.Close()
	ctx := context.Background()
	err := s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Emit("settings.changed", nil); err != nil {
			return err
		}
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("want error")
	}
	evs, _ := s.EventsSince(ctx, 0, 10, nil)
	if len(evs) != 0 || len(sub.C) != 0 || s.LastEventID() != 0 {
		t.Fatalf("rolled back write left events: %v", evs)
	}
	// Foreign keys: a dispatch for an unknown decision is refused.
	_, err = s.StartDispatch(ctx, "nope")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("dispatch of unknown decision: %v", err)
	}
}

func TestApprovalExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(filepath.Join(t.TempDir(), "hall.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	_, err = s.RecordDecisions(ctx, []DecisionWrite{{Summary: DecisionSummary{DecisionID: "d1", CapabilityID: "cap.a", TenantID: "t", Source: SourceRoute},
		Decision: []byte(`{}`), Approval: &Approval{ApprovalID: "apr1", CapabilityID: "cap.a", TenantID: "t", TTL: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.ExpireApprovals(ctx); n != 0 {
		t.Fatal("expired too early")
	}
	now = now.Add(2 * time.Minute)
	if n, err := s.ExpireApprovals(ctx); n != 1 || err != nil {
		t.Fatalf("expire: %d %v", n, err)
	}
	l, _ := s.ListApprovals(ctx, ApprovalExpired)
	al, _ := s.ListAlerts(ctx, AlertFilter{})
	if len(l) != 1 || len(al) != 1 || al[0].Type != AlertApprovalExpired {
		t.Fatalf("approvals %v alerts %v", l, al)
	}
	if _, err := s.Resolve(ctx, "apr1", Resolution{Action: ActionApprove, By: "me"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("resolving an expired approval: %v", err)
	}
}

// recordMany records n allowed decisions d000000.. one second apart (oldest
// first), each adjusted by mod.
func recordMany(t *testing.T, s *Store, n int, mod func(i int, w *DecisionWrite)) {
	t.Helper()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.Write(context.Background(), func(tx *Tx) error {
		for i := 0; i < n; i++ {
			w := DecisionWrite{Summary: DecisionSummary{DecisionID: fmt.Sprintf("d%06d", i), Outcome: OutcomeAllowed, Source: SourceIngest},
				Time: base.Add(time.Duration(i) * time.Second), Decision: []byte(`{}`)}
			mod(i, &w)
			if _, err := tx.RecordDecision(&w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSearchScansABoundedWindowAndContinues(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	recordMany(t, s, SearchWindow+500, func(i int, w *DecisionWrite) {
		w.Summary.CorrelationID = fmt.Sprintf("c%d", i)
		if i == 3 || i == 7 { // the oldest rows, outside the first window
			w.Summary.DenyMessage = "needle here"
		}
	})
	page, next, err := s.QueryDecisions(ctx, DecisionFilter{Q: "needle", Limit: 10})
	if err != nil || len(page) != 0 || next == "" {
		t.Fatalf("first window: %d rows, next %q, %v", len(page), next, err)
	}
	page, next, err = s.QueryDecisions(ctx, DecisionFilter{Q: "needle", Limit: 10, Cursor: next})
	if err != nil || len(page) != 2 || page[0].DecisionID != "d000007" || next != "" {
		t.Fatalf("second window: %+v next %q %v", page, next, err)
	}
	page, next, _ = s.QueryDecisions(ctx, DecisionFilter{Q: "needle", Limit: 1, Cursor: ""})
	for next != "" && len(page) == 0 {
		page, next, _ = s.QueryDecisions(ctx, DecisionFilter{Q: "needle", Limit: 1, Cursor: next})
	}
	if len(page) != 1 || page[0].DecisionID != "d000007" || next == "" {
		t.Fatalf("limit 1: %+v %q", page, next)
	}
	page, next, _ = s.QueryDecisions(ctx, DecisionFilter{Q: "needle", Limit: 1, Cursor: next})
	if len(page) != 1 || page[0].DecisionID != "d000003" {
		t.Fatalf("limit 1, page 2: %+v %q", page, next)
	}
}

// Two field filters are windowed like a text search: the base walk uses the
// capability index, the outcome is checked on the window, and the cursor
// continues past a window that held no match.
func TestSeveralFiltersScanABoundedWindow(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	recordMany(t, s, FilterWindow+500, func(i int, w *DecisionWrite) {
		w.Summary.CapabilityID = "cap.a.b"
		if i == 5 { // old, outside the first window
			w.Summary.Outcome = OutcomeDenied
		}
	})
	f := DecisionFilter{Capability: "cap.a.b", Outcome: OutcomeDenied, Limit: 10}
	page, next, err := s.QueryDecisions(ctx, f)
	if err != nil || len(page) != 0 || next == "" {
		t.Fatalf("first window: %d rows, next %q, %v", len(page), next, err)
	}
	f.Cursor = next
	page, next, err = s.QueryDecisions(ctx, f)
	if err != nil || len(page) != 1 || page[0].DecisionID != "d000005" || next != "" {
		t.Fatalf("second window: %+v next %q %v", page, next, err)
	}
	// One filter walks its index directly: full pages, no window.
	page, next, err = s.QueryDecisions(ctx, DecisionFilter{Outcome: OutcomeDenied, Limit: 10})
	if err != nil || len(page) != 1 || next != "" {
		t.Fatalf("outcome only: %+v %q %v", page, next, err)
	}
}

func TestBackgroundCheckpoint(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		if _, err := s.Emit(ctx, "settings.changed", map[string]string{"pad": strings.Repeat("x", 2000)}); err != nil {
			t.Fatal(err)
		}
	}
	var auto int
	s.Write(ctx, func(tx *Tx) error { return tx.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto) })
	if auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d, want 0 (checkpoints run in the background)", auto)
	}
	time.Sleep(checkpointEvery + 300*time.Millisecond)
	if s.checkpoints.Load() == 0 {
		t.Fatal("no background checkpoint ran")
	}
}
