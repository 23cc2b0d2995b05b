package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"hallmonitor/hallapi/events"
)

// Group commit: decision writes (route, MCP, ingest) that arrive while the
// previous transaction is committing are written together in the next one,
// so N concurrent callers share one BEGIN/COMMIT and one fsync instead of
// paying one each. synchronous=FULL is unchanged and a caller is answered
// only after the COMMIT that holds its rows has returned, so every
// acknowledged decision, receipt and event is durable.
//
// A write that fails (a constraint, a receipt that cannot be built) fails
// only its caller: the group is then run again with each caller's write in
// a SAVEPOINT, the failing ones rolled back alone, the others committed. If a
// savepoint itself cannot be rolled back, or the COMMIT fails, every caller
// of the group gets the error and nothing of the group is stored. Receipts are
// chained inside the group transaction in the order the writes are applied,
// each one reading its tenant's head as left by the writes before it, so a
// tenant's chain stays one gap-free sequence. Events are published after
// the COMMIT, in id order, and only those of writes that committed.

// maxGroupDecisions caps how many decisions one group transaction holds
// (a group always takes at least one caller, whatever its size).
const maxGroupDecisions = 4000

// ErrClosed is returned by a write submitted to a closed store.
var ErrClosed = errors.New("store is closed")

// groupReq is one caller's write in a group commit.
type groupReq struct {
	ds       []DecisionWrite
	n        int               // decisions newly stored
	receipts []json.RawMessage // per decision, nil when it has none (or was already stored)
	err      error
	done     chan struct{}
}

// submit hands a write to the group committer and waits until it is durable
// (or failed). The caller's context is deliberately not watched: a decision
// that was made is recorded even when the client that asked for it went away
// (its alert would otherwise report a write failure that never happened).
func (s *Store) submit(ds []DecisionWrite) *groupReq {
	r := &groupReq{ds: ds, done: make(chan struct{})}
	select {
	case s.group <- r:
	case <-s.groupStop:
		r.err = ErrClosed
		return r
	}
	<-r.done
	return r
}

// WriteDecision records one decision with its receipt, approval and event
// through the group committer and returns the receipt (nil when d has no
// ReceiptFunc). It returns once the decision is durable. ctx carries no
// cancellation into the write: the write outlives the request.
func (s *Store) WriteDecision(ctx context.Context, d *DecisionWrite) (json.RawMessage, error) {
	r := s.submit([]DecisionWrite{*d})
	if r.err != nil {
		return nil, r.err
	}
	*d = r.ds[0]
	if r.n == 0 {
		return nil, fmt.Errorf("decision %s: %w: a decision with this id is already stored", d.Summary.DecisionID, ErrConflict)
	}
	return r.receipts[0], nil
}

// RecordDecisions stores decisions, their receipts, approvals and events
// atomically (all or none) through the group committer. A decision whose id
// is already stored is skipped (ingest is idempotent). It returns the number
// of decisions newly stored, once they are durable. ctx carries no
// cancellation into the write.
func (s *Store) RecordDecisions(ctx context.Context, ds []DecisionWrite) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	r := s.submit(ds)
	return r.n, r.err
}

// groupLoop is the group committer: it takes the first waiting write, then
// every write already waiting (up to maxGroupDecisions), and commits them
// in one transaction.
func (s *Store) groupLoop() {
	defer close(s.groupDone)
	for {
		var first *groupReq
		select {
		case first = <-s.group:
		case <-s.groupStop:
			return
		}
		batch, n := []*groupReq{first}, len(first.ds)
	drain:
		for n < maxGroupDecisions {
			select {
			case r := <-s.group:
				batch, n = append(batch, r), n+len(r.ds)
			default:
				break drain
			}
		}
		evs := s.commitGroup(batch)
		s.afterCommit(evs)
		for _, r := range batch {
			close(r.done)
		}
	}
}

// commitGroup writes a group in one transaction (see the comment at the top
// of this file), sets every caller's result and returns the published events.
// The usual case, where every write succeeds, runs without savepoints (each
// costs statements on the single writer); when a write fails, the
// transaction is rolled back and the group runs again with a savepoint per
// write, so that only the failing writes are left out.
func (s *Store) commitGroup(batch []*groupReq) []events.Event {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	evs, retry := s.runGroup(batch, false)
	if retry {
		evs, _ = s.runGroup(batch, true)
	}
	if evs != nil {
		s.bus.Publish(evs...)
	}
	return evs
}

// runGroup runs the writes of batch in one transaction and commits it. With
// isolate, each write runs in a savepoint and a failing one is rolled back
// alone; without, the first failure rolls back everything and runGroup
// reports retry (the callers' results are then not set).
func (s *Store) runGroup(batch []*groupReq, isolate bool) (published []events.Event, retry bool) {
	failAll := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
			r.n, r.receipts = 0, nil
		}
	}
	sqlTx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		failAll(fmt.Errorf("begin decision transaction: %w", err))
		return nil, false
	}
	exec := func(q string) error {
		if !isolate {
			return nil
		}
		_, err := sqlTx.Exec(q)
		return err
	}
	t := &Tx{tx: sqlTx, s: s, now: s.Now()}
	ok := 0
	for _, r := range batch {
		if err := exec(`SAVEPOINT w`); err != nil {
			sqlTx.Rollback()
			failAll(fmt.Errorf("decision transaction: %w", err))
			return nil, false
		}
		mark := len(t.events)
		r.n, r.receipts, r.err = t.recordAll(r.ds)
		if r.err == nil {
			err = exec(`RELEASE w`)
			ok++
		} else {
			if !isolate {
				sqlTx.Rollback()
				for _, r := range batch {
					r.n, r.receipts, r.err = 0, nil, nil
				}
				return nil, true
			}
			t.events, t.heads = t.events[:mark], nil
			r.n, r.receipts = 0, nil
			if err = exec(`ROLLBACK TO w`); err == nil {
				err = exec(`RELEASE w`)
			}
		}
		if err != nil {
			// The transaction is no longer in a known state: keep none of it.
			sqlTx.Rollback()
			failAll(fmt.Errorf("decision transaction of %d writes rolled back: %w", len(batch), err))
			return nil, false
		}
	}
	if ok == 0 {
		sqlTx.Rollback()
		return nil, false
	}
	if err := sqlTx.Commit(); err != nil {
		sqlTx.Rollback()
		failAll(fmt.Errorf("commit of %d decision writes failed, none was stored: %w", len(batch), err))
		return nil, false
	}
	return t.events, false
}

// recordAll stores ds in t, stopping at the first error.
func (t *Tx) recordAll(ds []DecisionWrite) (int, []json.RawMessage, error) {
	n := 0
	rcs := make([]json.RawMessage, len(ds))
	for i := range ds {
		stored, rc, err := t.recordDecision(&ds[i])
		var dup *DuplicateError
		if errors.As(err, &dup) {
			dup.Index = i
			return 0, nil, dup
		}
		if err != nil {
			if len(ds) == 1 {
				return 0, nil, err
			}
			return 0, nil, fmt.Errorf("decision %d (%s): %w", i, ds[i].Summary.DecisionID, err)
		}
		if stored {
			n++
		}
		rcs[i] = rc
	}
	return n, rcs, nil
}
