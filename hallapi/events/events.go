// Package events is Hall Monitor's numbered event bus. Every change the Hall
// records gets a strictly increasing id that the store persists in the same
// transaction as the change; after the commit the store hands the events to
// the Bus, which fans them out to live subscribers. A subscriber has a bounded
// channel: when it falls behind it is dropped (Lagged is closed) instead of
// blocking the writer, and resumes by reading from the store with since=<last id>.
package events

import (
	"encoding/json"
	"sync"
	"time"
)

// Event types published by the Hall.
const (
	DecisionRecorded   = "decision.recorded"
	DispatchStarted    = "dispatch.started"
	DispatchFinished   = "dispatch.finished"
	AlertRaised        = "alert.raised"
	AlertAcknowledged  = "alert.acknowledged"
	ApprovalCreated    = "approval.created"
	ApprovalResolved   = "approval.resolved"
	WorkerEnrolled     = "worker.enrolled"
	WorkerUpdated      = "worker.updated"
	WorkerUnenrolled   = "worker.unenrolled"
	WorkerAttestation  = "worker.attestation"
	StandingChanged    = "standing.changed"
	SettingsChanged    = "settings.changed"
	AuthChanged        = "auth.changed"
	SecurityDenied     = "security.denied"
	RulesReloaded      = "rules.reloaded"
	SetupChanged       = "setup.changed"
	MCPServerAdded     = "mcp.server.added"
	MCPServerPinged    = "mcp.server.pinged"
	MCPServerRemoved   = "mcp.server.removed"
	UILock             = "ui.lock"
	AgentChanged       = "agent.changed"
	defaultSubscriberN = 256
)

// Coordination event types (the multi-agent task board, hallapi/store/coord.go).
const (
	CoordAgent         = "coord.agent"
	CoordTaskCreated   = "coord.task.created"
	CoordTaskUpdated   = "coord.task.updated"
	CoordTaskCompleted = "coord.task.completed"
	CoordLockAcquired  = "coord.lock.acquired"
	CoordLockReleased  = "coord.lock.released"
	CoordMessage       = "coord.message"
)

// Known reports whether t is one of the event types above.
func Known(t string) bool {
	switch t {
	case DecisionRecorded, DispatchStarted, DispatchFinished, AlertRaised, AlertAcknowledged,
		ApprovalCreated, ApprovalResolved, WorkerEnrolled, WorkerUpdated, WorkerUnenrolled,
		WorkerAttestation, StandingChanged, SettingsChanged, AuthChanged, SecurityDenied,
		RulesReloaded, SetupChanged, MCPServerAdded, MCPServerPinged, MCPServerRemoved, UILock, AgentChanged:
		return true
	case CoordAgent, CoordTaskCreated, CoordTaskUpdated, CoordTaskCompleted, CoordLockAcquired, CoordLockReleased, CoordMessage:
		return true
	}
	return false
}

// Event is one numbered change.
type Event struct {
	ID   int64           `json:"id"`
	Type string          `json:"type"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data"`
}

// Subscription receives events published after it was created.
type Subscription struct {
	// C delivers events in id order. It is never closed; watch Lagged and Done.
	C <-chan Event
	// Lagged is closed when the subscriber fell behind and was dropped; read
	// the missed events from the store (since the last id received) and subscribe again.
	Lagged <-chan struct{}

	c      chan Event
	lagged chan struct{}
	bus    *Bus
	once   sync.Once
}

// Close unsubscribes.
func (s *Subscription) Close() { s.bus.remove(s) }

// Bus fans out committed events to subscribers without ever blocking the publisher.
type Bus struct {
	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	lastID int64
}

// NewBus returns a bus whose last id starts at lastID (the store's highest event id).
func NewBus(lastID int64) *Bus {
	return &Bus{subs: map[*Subscription]struct{}{}, lastID: lastID}
}

// LastID is the id of the newest published event.
func (b *Bus) LastID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastID
}

// Subscribe registers a subscriber with a channel of capacity buf (256 if buf <= 0).
func (b *Bus) Subscribe(buf int) *Subscription {
	if buf <= 0 {
		buf = defaultSubscriberN
	}
	s := &Subscription{c: make(chan Event, buf), lagged: make(chan struct{}), bus: b}
	s.C, s.Lagged = s.c, s.lagged
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

func (b *Bus) remove(s *Subscription) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

// Publish delivers committed events (in id order) to every subscriber. It never
// blocks: a subscriber whose channel is full is dropped and told so via Lagged.
// Callers must publish in commit order (the store does so under its writer lock).
func (b *Bus) Publish(evs ...Event) {
	if len(evs) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range evs {
		if e.ID > b.lastID {
			b.lastID = e.ID
		}
	}
	for s := range b.subs {
		for _, e := range evs {
			select {
			case s.c <- e:
				continue
			default:
			}
			delete(b.subs, s)
			s.once.Do(func() { close(s.lagged) })
			break
		}
	}
}

// Subscribers is the number of live subscribers (for status and tests).
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Decode unmarshals an event's data into a T (false for a malformed one).
func Decode[T any](ev Event) (T, bool) {
	var v T
	err := json.Unmarshal(ev.Data, &v)
	return v, err == nil
}
