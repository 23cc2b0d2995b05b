package decide

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"hallmonitor/core"
	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
)

const rules = `{"rules":[{"rule_id":"r","match":{"capability_id":"cap.x"},
 "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.x"}],"escalation":{"policy_gate":true}}}]}`

// A held call records its agent; only the person resolves it, and the
// approve is bound to the call (its grant) and receipted in the chain.
func TestRouteRecordsPrincipalAndOnlyThePersonApproves(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := os.WriteFile(filepath.Join(dir, "rules.json"), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	gate := core.PolicyGateFunc(func(core.PolicyContext) (core.PolicyResult, error) {
		return core.PolicyResult{Decision: core.GateRequireHuman, PolicyVersion: "test.v1", Reason: "always"}, nil
	})
	s, err := New(Options{Store: st, KeyDir: dir, RulesPath: filepath.Join(dir, "rules.json"), PolicyGate: gate})
	if err != nil {
		t.Fatal(err)
	}
	w := store.Worker{WorkerID: "org.a.x", WorkerSpeciesID: "wrk.x", Capabilities: []string{"cap.x"}, Controls: []string{}, Record: json.RawMessage(`{}`)}
	if _, _, err := st.UpsertWorker(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	agent := principal.With(context.Background(), principal.Principal{Kind: principal.Agent, Name: "ci-bot", Via: principal.ViaAgent})
	in := `{"capability_id":"cap.x","env":"dev","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"t","correlation_id":"c"}`
	res, err := s.Route(agent, []byte(in), false, store.SourceRoute)
	if err != nil || !res.Decision.SupervisorRequired || res.Decision.PendingApprovalID == nil {
		t.Fatalf("route: %+v %v", res.Decision, err)
	}
	det, err := st.GetDecision(context.Background(), res.Decision.DecisionID)
	if err != nil || det.Summary.Agent != "ci-bot" || det.Approval == nil || det.Approval.Agent != "ci-bot" {
		t.Fatalf("recorded: %+v %v", det, err)
	}
	id := *res.Decision.PendingApprovalID
	var e *apierr.Error
	if _, err := s.ResolveApproval(agent, id, "approve", ""); !errors.As(err, &e) || e.Code != apierr.Forbidden {
		t.Fatalf("an agent approved its own call: %v", err)
	}
	person := principal.With(context.Background(), principal.Principal{Kind: principal.Person, Name: "octocat", Via: principal.ViaDesktop})
	a, err := s.ResolveApproval(person, id, "approve", "ok")
	if err != nil || a.ResolvedBy != "octocat" {
		t.Fatalf("approve: %+v %v", a, err)
	}
	var g Grant
	if err := json.Unmarshal(a.Grant, &g); err != nil || g.DecisionID != res.Decision.DecisionID || g.Agent != "ci-bot" ||
		g.WorkerSpeciesID != "wrk.x" || g.PolicyVersion != "test.v1" || g.Uses != 1 || g.ApprovedBy != "octocat" {
		t.Fatalf("grant: %+v %v", g, err)
	}
	chain, err := st.ReceiptChain(context.Background(), "t")
	if err != nil || len(chain) != 2 {
		t.Fatalf("chain: %d receipts %v, want the decision's and the approval's", len(chain), err)
	}
}
