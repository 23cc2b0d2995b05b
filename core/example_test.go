package core_test

import (
	"fmt"
	"time"

	"hallmonitor/core"
)

func ExampleDecide() {
	rs, err := core.ParseRules([]byte(`{"rules": [{
		"rule_id": "rr_hello",
		"match": {"capability_id": "cap.hello.greet", "env": {"in": ["dev", "stage"]}},
		"decision": {
			"candidate_workers_ranked": [{"worker_species_id": "wrk.hello.greeter", "score_hint": 1.0}],
			"required_controls_suggested": ["ctrl.obs.audit_log_append_only"],
			"escalation": {"policy_gate": true}
		}}]}`))
	if err != nil {
		panic(err)
	}
	reg := core.NewMemRegistry()
	if err := reg.Enroll(core.RegistryRecord{WorkerID: "org.acme.greeter", WorkerSpeciesID: "wrk.hello.greeter",
		Capabilities: []string{"cap.hello.greet"}, CurrentlyImplements: []string{"ctrl.obs.audit_log_append_only"}}); err != nil {
		panic(err)
	}
	in, verrs := core.ParseRouteInput([]byte(`{"capability_id": "cap.hello.greet", "env": "dev", "data_label": "PUBLIC",
		"tenant_risk": "low", "qos_class": "P2", "tenant_id": "tenant-a", "correlation_id": "corr-1"}`))
	if verrs != nil {
		panic(verrs)
	}
	gate := core.PolicyGateFunc(func(ctx core.PolicyContext) (core.PolicyResult, error) {
		if ctx.TenantRisk == "low" {
			return core.PolicyResult{Decision: core.GateAllow, PolicyVersion: "pol.v1", Reason: "low risk"}, nil
		}
		return core.PolicyResult{Decision: core.GateRequireHuman, PolicyVersion: "pol.v1", Reason: "risky tenant"}, nil
	})
	opts := core.Options{PolicyGate: gate, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}

	dec := core.Decide(in, rs, reg, opts)
	fmt.Println(dec.Denied, *dec.SelectedWorkerSpeciesID, dec.TelemetryEnvelopes[2].EventID)

	in.TenantRisk = "high"
	dec = core.Decide(in, rs, reg, opts)
	fmt.Println(dec.Denied, dec.SupervisorRequired, *dec.ApprovalExpiresAt)

	in.Env = "prod"
	dec = core.Decide(in, rs, reg, opts)
	fmt.Println(dec.Code(), dec.MatchedRuleID)
	// Output:
	// false wrk.hello.greeter evt.os.policy.gated
	// false true 2026-01-01T00:15:00+00:00
	// DENY_NO_MATCHING_RULE NO_MATCH
}
