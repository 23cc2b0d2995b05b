package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"hallmonitor/hallapi/events"
)

// chainReceipt is a ReceiptFunc that links to the previous receipt of the
// tenant by its hash, like core/receipt does.
func chainReceipt(id string) ReceiptFunc {
	return func(prev json.RawMessage) ([]byte, string, error) {
		var p struct{ Hash string }
		if prev != nil {
			if err := json.Unmarshal(prev, &p); err != nil {
				return nil, "", err
			}
		}
		sum := sha256.Sum256([]byte(p.Hash + id))
		h := hex.EncodeToString(sum[:])
		b, err := json.Marshal(map[string]string{"Hash": h, "Prev": p.Hash, "ID": id})
		return b, h, err
	}
}

func failingReceipt(json.RawMessage) ([]byte, string, error) {
	return nil, "", errors.New("signing key unavailable")
}

func decisionWrite(id, tenant string, rc ReceiptFunc) DecisionWrite {
	return DecisionWrite{Summary: DecisionSummary{DecisionID: id, CapabilityID: "cap.a", TenantID: tenant, Outcome: OutcomeAllowed,
		Source: SourceRoute}, Decision: []byte(`{}`), Receipt: rc}
}

// checkChains verifies every tenant's chain: each receipt links to the one
// before it, and the recorded head has the chain's length and last hash.
func checkChains(t *testing.T, s *Store, tenants []string, want int) {
	t.Helper()
	ctx := context.Background()
	heads, err := s.ReceiptHeads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, tn := range tenants {
		chain, err := s.ReceiptChain(ctx, tn)
		if err != nil {
			t.Fatal(err)
		}
		prev := ""
		for i, rc := range chain {
			var r struct{ Hash, Prev string }
			if err := json.Unmarshal(rc, &r); err != nil {
				t.Fatal(err)
			}
			if r.Prev != prev {
				t.Fatalf("tenant %s receipt %d links to %q, want %q", tn, i, r.Prev, prev)
			}
			prev = r.Hash
		}
		if h := heads[tn]; len(chain) > 0 && (h.Length != len(chain) || h.Hash != prev) {
			t.Fatalf("tenant %s head %+v, chain of %d ending %s", tn, h, len(chain), prev)
		}
		total += len(chain)
	}
	if total != want {
		t.Fatalf("%d receipts in the chains, want %d", total, want)
	}
}

// Many concurrent callers: every acknowledged decision is stored with its
// receipt and event, the chains are gap-free, and the events are published
// in id order after the commit.
func TestGroupCommitConcurrentWriters(t *testing.T) {
	s := openTest(t)
	sub := s.Bus().Subscribe(10000)
	defer sub.Close()
	tenants := []string{"t0", "t1", "t2"}
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("d%03d", i)
			w := decisionWrite(id, tenants[i%len(tenants)], chainReceipt(id))
			rc, err := s.WriteDecision(context.Background(), &w)
			if err == nil && len(rc) == 0 {
				err = fmt.Errorf("%s: no receipt returned", id)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkChains(t, s, tenants, n)
	var last int64
	for range n {
		ev := <-sub.C
		if ev.Type != events.DecisionRecorded || ev.ID <= last {
			t.Fatalf("event %d %s after %d", ev.ID, ev.Type, last)
		}
		last = ev.ID
	}
}

// One group holding good and failing writes: only the failing callers get
// an error, nothing of theirs is stored or published, the chain continues
// from the last committed receipt.
func TestGroupCommitIsolatesAFailingWrite(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	sub := s.Bus().Subscribe(100)
	defer sub.Close()
	if _, err := s.RecordDecisions(ctx, []DecisionWrite{decisionWrite("dup", "t0", chainReceipt("dup"))}); err != nil {
		t.Fatal(err)
	}
	<-sub.C
	cases := []struct {
		name    string
		ds      []DecisionWrite
		wantErr bool
		wantN   int
	}{
		{"good", []DecisionWrite{decisionWrite("a", "t0", chainReceipt("a"))}, false, 1},
		{"receipt fails", []DecisionWrite{decisionWrite("b", "t0", failingReceipt)}, true, 0},
		{"batch with a failing decision", []DecisionWrite{decisionWrite("c1", "t0", chainReceipt("c1")),
			decisionWrite("c2", "t0", failingReceipt)}, true, 0},
		{"already stored is skipped", []DecisionWrite{decisionWrite("dup", "t0", chainReceipt("dup2"))}, false, 0},
		{"empty id", []DecisionWrite{decisionWrite("", "t0", nil)}, true, 0},
		{"good after failures", []DecisionWrite{decisionWrite("e", "t0", chainReceipt("e")), decisionWrite("f", "t1", nil)}, false, 2},
	}
	batch := make([]*groupReq, len(cases))
	for i, c := range cases {
		batch[i] = &groupReq{ds: c.ds}
	}
	s.commitGroup(batch)
	for i, c := range cases {
		r := batch[i]
		if (r.err != nil) != c.wantErr || r.n != c.wantN {
			t.Errorf("%s: n %d err %v, want n %d error %v", c.name, r.n, r.err, c.wantN, c.wantErr)
		}
	}
	for _, id := range []string{"b", "c1", "c2"} {
		if _, err := s.GetDecision(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("decision %s of a failed write: %v, want not found", id, err)
		}
	}
	checkChains(t, s, []string{"t0"}, 3) // dup, a, e
	var got []string
	for range 3 {
		ev := <-sub.C
		var sm DecisionSummary
		json.Unmarshal(ev.Data, &sm)
		got = append(got, sm.DecisionID)
	}
	if fmt.Sprint(got) != "[a e f]" || len(sub.C) != 0 {
		t.Fatalf("published %v (+%d), want [a e f]", got, len(sub.C))
	}
}

// A write whose caller's context is already cancelled (the client went
// away) is still recorded: the decision was made, so it is kept.
func TestWriteOutlivesTheRequestContext(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := decisionWrite("gone", "t0", chainReceipt("gone"))
	if _, err := s.WriteDecision(ctx, &w); err != nil {
		t.Fatalf("write with a cancelled context: %v", err)
	}
	if _, err := s.GetDecision(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	w2 := decisionWrite("gone", "t0", nil)
	if _, err := s.WriteDecision(ctx, &w2); !errors.Is(err, ErrConflict) {
		t.Fatalf("second write of the same id: %v, want ErrConflict", err)
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hall.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	w := decisionWrite("late", "t0", nil)
	if _, err := s.WriteDecision(context.Background(), &w); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v, want ErrClosed", err)
	}
}
