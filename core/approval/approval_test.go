package approval

import (
	"errors"
	"testing"
	"time"

	"hallmonitor/core"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func pendingDecision(t *testing.T, id string) core.RouteDecision {
	t.Helper()
	rs, err := core.ParseRules([]byte(`[{"rule_id":"r","decision":{"escalation":{"policy_gate":true},"candidate_workers_ranked":[{"worker_species_id":"w"}]}}]`))
	if err != nil {
		t.Fatal(err)
	}
	reg := core.NewMemRegistry()
	reg.SetWorkersAvailable([]string{"w"})
	in := core.RouteInput{CapabilityID: "cap.x", Env: "prod", DataLabel: "PUBLIC", TenantRisk: "low", QoSClass: "P2", TenantID: "t", CorrelationID: "c"}
	n := 0
	d := core.Decide(in, rs, reg, core.Options{
		PolicyGate: core.PolicyGateFunc(func(core.PolicyContext) (core.PolicyResult, error) {
			return core.PolicyResult{Decision: core.GateRequireHuman, PolicyVersion: "p", Reason: "spend > 1k"}, nil
		}),
		ApprovalTTL: 10 * time.Minute,
		Now:         func() time.Time { return t0 },
		NewID:       func() string { n++; return id + string(rune('0'+n)) },
	})
	if !d.SupervisorRequired {
		t.Fatalf("not pending: %+v", d.DenyReasonIfDenied)
	}
	return d
}

func TestFromDecision(t *testing.T) {
	a, err := FromDecision(pendingDecision(t, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "a2" || a.DecisionID != "a1" || a.Status != Pending || a.Reason != "spend > 1k" || a.SelectedWorkerSpeciesID != "w" ||
		len(a.ArtifactHash) != 64 || !a.ExpiresAt.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("approval %+v", a)
	}
	if _, err := FromDecision(core.RouteDecision{}); !errors.Is(err, ErrNotPending) {
		t.Errorf("plain decision: %v", err)
	}
}

func TestStateMachine(t *testing.T) {
	base, _ := FromDecision(pendingDecision(t, "a"))
	type step struct {
		act     Action
		after   time.Duration
		want    Status
		wantErr error
	}
	cases := []struct {
		name  string
		steps []step
		level int
	}{
		{"approve", []step{{Approve, time.Minute, Approved, nil}}, 0},
		{"deny", []step{{Deny, time.Minute, Denied, nil}}, 0},
		{"escalate then approve", []step{{Escalate, 9 * time.Minute, Escalated, nil}, {Approve, 15 * time.Minute, Approved, nil}}, 1},
		{"escalate twice then deny", []step{{Escalate, time.Minute, Escalated, nil}, {Escalate, 2 * time.Minute, Escalated, nil}, {Deny, 3 * time.Minute, Denied, nil}}, 2},
		{"expired", []step{{Approve, 10 * time.Minute, Expired, ErrExpired}}, 0},
		{"closed", []step{{Deny, time.Minute, Denied, nil}, {Approve, 2 * time.Minute, Denied, ErrClosed}}, 0},
		{"unknown action", []step{{"maybe", time.Minute, Pending, ErrUnknownAction}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := base
			for _, s := range c.steps {
				next, err := a.Apply(s.act, "alice", "note", t0.Add(s.after))
				if !errors.Is(err, s.wantErr) || next.Status != s.want {
					t.Fatalf("%s: status %s err %v, want %s %v", s.act, next.Status, err, s.want, s.wantErr)
				}
				a = next
			}
			if a.EscalationLevel != c.level {
				t.Errorf("level %d, want %d", a.EscalationLevel, c.level)
			}
			if base.Status != Pending || len(base.History) != 0 {
				t.Error("Apply mutated its receiver")
			}
		})
	}
	if _, err := base.Apply(Approve, "", "", t0); !errors.Is(err, ErrNoActor) {
		t.Errorf("anonymous approval: %v", err)
	}
}

func TestMemQueue(t *testing.T) {
	q := NewMemQueue()
	for _, id := range []string{"a", "b"} {
		if _, err := q.Add(pendingDecision(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Add(core.RouteDecision{}); err == nil {
		t.Error("non-pending decision queued")
	}
	open, _ := q.Open(t0)
	if len(open) != 2 || open[0].ID != "a2" {
		t.Fatalf("open %+v", open)
	}
	if a, err := q.Resolve("a2", Approve, "bob", "", t0.Add(time.Minute)); err != nil || a.Status != Approved {
		t.Fatalf("resolve: %v %v", a.Status, err)
	}
	if _, err := q.Resolve("zz", Approve, "bob", "", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if open, _ = q.Open(t0.Add(11 * time.Minute)); len(open) != 0 {
		t.Errorf("expired approval still open: %+v", open)
	}
	if b, _ := q.Get("b2"); b.Status != Expired {
		t.Errorf("b2 status %s", b.Status)
	}
	if _, err := q.Get("zz"); !errors.Is(err, ErrNotFound) {
		t.Error("get unknown")
	}
	var _ Resolver = q
}
