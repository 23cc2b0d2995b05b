package workers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"hallmonitor/core"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"
)

// RegistryEvents are the event types after which the registry view is
// rebuilt: enrollment, registry state (ban, update), stored attestation
// state, and the connected MCP servers (added, pinged, removed).
var RegistryEvents = []string{events.WorkerEnrolled, events.WorkerUpdated, events.WorkerUnenrolled, events.WorkerAttestation,
	events.MCPServerAdded, events.MCPServerPinged, events.MCPServerRemoved}

// RegistryStore is what Registry reads of the Hall's store (*store.Store):
// the event log, to notice changes made by another process sharing the
// database (the desktop app and `hallmonitor mcp`).
type RegistryStore interface {
	EventsSince(ctx context.Context, since int64, limit int, types []string) ([]events.Event, error)
	LastEventID() int64
}

// Snapshot is one immutable registry view, shared by every decision made
// while it is current. Nothing in it may be modified.
type Snapshot struct {
	// Version is the change count the snapshot was built at.
	Version uint64
	View    View
	// Source is the attestation source the view answers hashes from (nil
	// when none is installed: then it must not be passed to core).
	Source core.AttestationSource
	// AttestationRequired is AttestationRequired of the workers it holds.
	AttestationRequired bool
	// Workers is how many workers the view holds (enrolled and MCP).
	Workers int
}

// Registry keeps the registry view every decision shares: one immutable,
// versioned Snapshot, rebuilt when something it is made of changes (an
// event of RegistryEvents, or SetSource's change of the attestation
// source), not per decision. Rebuilding reads the store and parses every
// record, once per change; a decision only loads a pointer (Snapshot), takes
// no lock, reads no store and touches no disk. The live package hashes are
// answered by the attestation source itself (the running *Service, which
// answers them lock-free too).
//
// In-process changes rebuild the snapshot in the writer's goroutine before
// its write returns (Changed, registered with store.OnCommit), so a route
// made after an enrollment returned sees the worker. Changes made by another
// process are read from the event log by a check that a decision starts in
// the background, at most once per poll interval, and does not wait for:
// the decisions after that check see them.
type Registry struct {
	st     RegistryStore
	load   func(context.Context) ([]store.Worker, error)
	source atomic.Pointer[core.AttestationSource]
	poll   time.Duration

	gen atomic.Uint64 // changes seen
	cur atomic.Pointer[Snapshot]
	mu  sync.Mutex // serialises rebuilds

	lastPoll atomic.Int64 // unix nanoseconds of the last event-log check
	polling  atomic.Bool
	polled   atomic.Int64 // newest event id the checks have seen
	// seenMu guards seen: ids of registry events this process committed
	// (Changed rebuilt for them), which the event-log check skips.
	seenMu sync.Mutex
	seen   map[int64]bool
}

// NewRegistry returns a Registry whose snapshots hold the workers load
// returns (the enrolled workers and the MCP servers as workers). poll is how
// often the event log is checked for other processes' changes (default 1 s).
func NewRegistry(st RegistryStore, load func(context.Context) ([]store.Worker, error), poll time.Duration) *Registry {
	if poll <= 0 {
		poll = time.Second
	}
	r := &Registry{st: st, load: load, poll: poll, seen: map[int64]bool{}}
	r.polled.Store(st.LastEventID())
	r.lastPoll.Store(time.Now().UnixNano())
	r.gen.Store(1) // no snapshot yet: the first Snapshot builds one
	return r
}

// SetSource installs the attestation source (the running *Service; nil for
// none) and rebuilds the snapshot.
func (r *Registry) SetSource(src core.AttestationSource) {
	r.source.Store(&src)
	r.Invalidate()
}

func (r *Registry) sourceOf() core.AttestationSource {
	if p := r.source.Load(); p != nil {
		return *p
	}
	return nil
}

// Changed is the store's commit hook (store.OnCommit): when the committed
// events include a registry event, the snapshot is rebuilt now.
func (r *Registry) Changed(evs []events.Event) {
	changed := false
	for _, ev := range evs {
		if slices.Contains(RegistryEvents, ev.Type) {
			r.seenMu.Lock()
			r.seen[ev.ID] = true
			r.seenMu.Unlock()
			changed = true
		}
	}
	if changed {
		r.Invalidate()
	}
}

// Invalidate records a change and rebuilds the snapshot. If the rebuild
// fails, the next Snapshot tries again (and reports the error).
func (r *Registry) Invalidate() {
	r.gen.Add(1)
	_, _ = r.rebuild(context.Background())
}

// Snapshot returns the current registry view. It is a pointer load unless a
// change was recorded and its rebuild has not finished (or failed): then it
// rebuilds first.
func (r *Registry) Snapshot(ctx context.Context) (*Snapshot, error) {
	r.checkOtherProcesses()
	if s := r.cur.Load(); s != nil && s.Version == r.gen.Load() {
		return s, nil
	}
	// The snapshot is shared: one caller giving up must not fail its build.
	return r.rebuild(context.WithoutCancel(ctx))
}

func (r *Registry) rebuild(ctx context.Context) (*Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.gen.Load()
	if s := r.cur.Load(); s != nil && s.Version == g {
		return s, nil
	}
	ws, err := r.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("build the registry view: %w", err)
	}
	src := r.sourceOf()
	// A change recorded while loading leaves g behind r.gen: the next
	// Snapshot rebuilds again.
	s := &Snapshot{Version: g, View: NewView(ws, src), Source: src, AttestationRequired: AttestationRequired(ws), Workers: len(ws)}
	r.cur.Store(s)
	return s, nil
}

// checkOtherProcesses starts, at most once per poll interval and never
// twice at once, a background read of the event log; a registry event
// written since the last check (by any process) rebuilds the snapshot.
func (r *Registry) checkOtherProcesses() {
	now := time.Now().UnixNano()
	if now-r.lastPoll.Load() < int64(r.poll) || !r.polling.CompareAndSwap(false, true) {
		return
	}
	r.lastPoll.Store(now)
	go func() {
		defer r.polling.Store(false)
		evs, err := r.st.EventsSince(context.Background(), r.polled.Load(), 1000, RegistryEvents)
		if err != nil || len(evs) == 0 {
			return
		}
		last := evs[len(evs)-1].ID
		r.polled.Store(last)
		other := false
		r.seenMu.Lock()
		for _, ev := range evs {
			other = other || !r.seen[ev.ID]
		}
		for id := range r.seen {
			if id <= last {
				delete(r.seen, id)
			}
		}
		r.seenMu.Unlock()
		if other {
			r.Invalidate()
		}
	}()
}
