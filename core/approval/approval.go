// Package approval models pending human approvals (WCP spec 5.8): a
// REQUIRE_HUMAN policy-gate answer holds a decision until a supervisor
// approves, denies or escalates it, or it expires.
//
// The package is a pure state machine: Apply and Expire return the new
// state and never mutate their receiver. Persistence is the caller's job
// (the Hall store implements Resolver on top of Apply); MemQueue is an
// in-memory Resolver for single-process use and tests.
package approval

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"hallmonitor/core"
)

// Status of an approval.
type Status string

// Statuses. Pending and Escalated are open; the others are final.
const (
	Pending   Status = "pending"
	Escalated Status = "escalated"
	Approved  Status = "approved"
	Denied    Status = "denied"
	Expired   Status = "expired"
)

// Open reports whether the approval can still be resolved.
func (s Status) Open() bool { return s == Pending || s == Escalated }

// Action is a supervisor's resolution.
type Action string

// Actions.
const (
	Approve  Action = "approve"
	Deny     Action = "deny"
	Escalate Action = "escalate"
)

// Errors returned by Apply and Resolver implementations.
var (
	ErrClosed        = errors.New("approval is already resolved")
	ErrExpired       = errors.New("approval has expired")
	ErrUnknownAction = errors.New("unknown action: use approve, deny or escalate")
	ErrNotFound      = errors.New("approval not found")
	ErrNoActor       = errors.New("actor is required")
	ErrNotPending    = errors.New("decision does not require a supervisor (no pending_approval_id)")
)

// Transition records one state change.
type Transition struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	From   Status    `json:"from"`
	To     Status    `json:"to"`
	Note   string    `json:"note,omitempty"`
}

// Approval is one pending (or resolved) approval.
type Approval struct {
	ID                      string       `json:"approval_id"`
	DecisionID              string       `json:"decision_id"`
	CorrelationID           string       `json:"correlation_id"`
	TenantID                string       `json:"tenant_id"`
	CapabilityID            string       `json:"capability_id"`
	MatchedRuleID           string       `json:"matched_rule_id"`
	SelectedWorkerSpeciesID string       `json:"selected_worker_species_id"`
	ArtifactHash            string       `json:"artifact_hash"`
	Reason                  string       `json:"reason"`
	Status                  Status       `json:"status"`
	EscalationLevel         int          `json:"escalation_level"`
	CreatedAt               time.Time    `json:"created_at"`
	ExpiresAt               time.Time    `json:"expires_at"`
	History                 []Transition `json:"history"`
}

// FromDecision creates the pending approval of a decision that has
// supervisor_required=true.
func FromDecision(dec core.RouteDecision) (Approval, error) {
	if !dec.SupervisorRequired || dec.PendingApprovalID == nil || dec.ApprovalExpiresAt == nil {
		return Approval{}, ErrNotPending
	}
	a := Approval{
		ID: *dec.PendingApprovalID, DecisionID: dec.DecisionID, CorrelationID: dec.CorrelationID,
		TenantID: dec.TenantID, CapabilityID: dec.CapabilityID, MatchedRuleID: dec.MatchedRuleID,
		Status: Pending, CreatedAt: time.Time(dec.Timestamp), ExpiresAt: time.Time(*dec.ApprovalExpiresAt),
		History: []Transition{},
	}
	if dec.SelectedWorkerSpeciesID != nil {
		a.SelectedWorkerSpeciesID = *dec.SelectedWorkerSpeciesID
	}
	if dec.ArtifactHash != nil {
		a.ArtifactHash = *dec.ArtifactHash
	}
	if r := dec.EscalationEffective.Rationale; r != nil {
		a.Reason = *r
	}
	return a, nil
}

// Expire returns the approval marked expired if it is open and now is at
// or after ExpiresAt; otherwise it returns it unchanged and false.
func (a Approval) Expire(now time.Time) (Approval, bool) {
	if !a.Status.Open() || now.Before(a.ExpiresAt) {
		return a, false
	}
	return a.with(Transition{At: now, Actor: "system", Action: "expire", From: a.Status, To: Expired}), true
}

// Apply resolves the approval. Approve and Deny are final; Escalate raises
// EscalationLevel, keeps it open and restarts the approval window. An
// expired approval becomes Expired and Apply returns ErrExpired.
func (a Approval) Apply(act Action, actor, note string, now time.Time) (Approval, error) {
	if actor == "" {
		return a, ErrNoActor
	}
	if !a.Status.Open() {
		return a, fmt.Errorf("%w (%s)", ErrClosed, a.Status)
	}
	if b, expired := a.Expire(now); expired {
		return b, ErrExpired
	}
	t := Transition{At: now, Actor: actor, Action: string(act), From: a.Status, Note: note}
	switch act {
	case Approve:
		t.To = Approved
	case Deny:
		t.To = Denied
	case Escalate:
		t.To = Escalated
		window := a.ExpiresAt.Sub(a.CreatedAt)
		b := a.with(t)
		b.EscalationLevel++
		b.ExpiresAt = now.Add(window)
		return b, nil
	default:
		return a, ErrUnknownAction
	}
	return a.with(t), nil
}

func (a Approval) with(t Transition) Approval {
	a.History = append(slices.Clone(a.History), t)
	a.Status = t.To
	return a
}

// Resolver is what the Hall API exposes to supervisors.
type Resolver interface {
	// Open lists open approvals (expiring overdue ones first), oldest first.
	Open(now time.Time) ([]Approval, error)
	// Get returns one approval.
	Get(id string) (Approval, error)
	// Resolve applies an action.
	Resolve(id string, act Action, actor, note string, now time.Time) (Approval, error)
}

// MemQueue is an in-memory Resolver, safe for concurrent use.
type MemQueue struct {
	mu    sync.Mutex
	items map[string]Approval
}

// NewMemQueue returns an empty queue.
func NewMemQueue() *MemQueue { return &MemQueue{items: map[string]Approval{}} }

// Add stores the pending approval of a decision.
func (q *MemQueue) Add(dec core.RouteDecision) (Approval, error) {
	a, err := FromDecision(dec)
	if err != nil {
		return a, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items[a.ID] = a
	return a, nil
}

// Open implements Resolver.
func (q *MemQueue) Open(now time.Time) ([]Approval, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Approval
	for id, a := range q.items {
		if b, expired := a.Expire(now); expired {
			q.items[id] = b
			continue
		}
		if a.Status.Open() {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Get implements Resolver.
func (q *MemQueue) Get(id string) (Approval, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	a, ok := q.items[id]
	if !ok {
		return a, ErrNotFound
	}
	return a, nil
}

// Resolve implements Resolver.
func (q *MemQueue) Resolve(id string, act Action, actor, note string, now time.Time) (Approval, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	a, ok := q.items[id]
	if !ok {
		return a, ErrNotFound
	}
	b, err := a.Apply(act, actor, note, now)
	if b.Status != a.Status || err == nil {
		q.items[id] = b
	}
	return b, err
}
