package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	testSpecies = "wrk.hello.greeter"
	auditCtrl   = "ctrl.obs.audit_log_append_only"
	hashA       = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hashB       = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)

func testInput() RouteInput {
	return RouteInput{CapabilityID: "cap.hello.greet", Env: "dev", DataLabel: "PUBLIC", TenantRisk: "low",
		QoSClass: "P2", TenantID: "tenant-a", CorrelationID: "corr-0001", Request: map[string]any{}}
}

func testRule(mut func(*Rule)) Rule {
	r := Rule{
		RuleID: "r_hello",
		Match:  Match{CapabilityID: Condition{Kind: Eq, Value: "cap.hello.greet"}},
		Decision: RuleDecision{
			CandidateWorkersRanked:    []CandidateSpec{{WorkerSpeciesID: testSpecies}},
			RequiredControlsSuggested: []string{auditCtrl},
			Preconditions:             DefaultPreconditions(),
		},
	}
	if mut != nil {
		mut(&r)
	}
	return r
}

func testRegistry(t *testing.T) *MemRegistry {
	t.Helper()
	reg := NewMemRegistry()
	if err := reg.Enroll(RegistryRecord{WorkerID: "org.acme.greeter", WorkerSpeciesID: testSpecies,
		Capabilities: []string{"cap.hello.greet"}, CurrentlyImplements: []string{auditCtrl}}); err != nil {
		t.Fatal(err)
	}
	return reg
}

func fixedGate(decision, version, reason string) PolicyGate {
	return PolicyGateFunc(func(PolicyContext) (PolicyResult, error) {
		return PolicyResult{Decision: decision, PolicyVersion: version, Reason: reason}, nil
	})
}

type privStub struct {
	ok     bool
	reason string
	err    error
}

func (p privStub) Envelope(string) (map[string]any, error) { return map[string]any{}, nil }
func (p privStub) Allows(string, string, map[string]any) (bool, string, error) {
	return p.ok, p.reason, p.err
}

type panicky struct{}

func (panicky) ControlPresent(string) bool  { panic("registry down") }
func (panicky) WorkerAvailable(string) bool { panic("registry down") }

func gated(r *Rule) { r.Decision.Escalation.PolicyGate = true }
func withPrivCtrl(r *Rule) {
	r.Decision.RequiredControlsSuggested = append(r.Decision.RequiredControlsSuggested, ControlPrivilegeEnvelopes)
}

func TestDecideTable(t *testing.T) {
	attest := func() *HallConfig { c := DefaultHallConfig(); c.RequireWorkerAttestation = true; return &c }
	type tc struct {
		name     string
		in       func(*RouteInput)
		rules    []Rule
		reg      func(*MemRegistry)
		opts     Options
		noReg    bool
		wantCode string
		wantRule string
		wantEv   []string
		check    func(*testing.T, RouteDecision)
	}
	allowEv := []string{EvtTaskRouted, EvtWorkerSelected, EvtPolicyGated}
	denyEv := []string{EvtTaskDenied}
	var reused RouteDecision
	cases := []tc{
		{name: "allow dev", wantRule: "r_hello", wantEv: allowEv, check: func(t *testing.T, d RouteDecision) {
			if d.ArtifactHash == nil || len(*d.ArtifactHash) != 64 || d.SelectedWorkerSpeciesID == nil || *d.SelectedWorkerSpeciesID != testSpecies {
				t.Errorf("allow decision incomplete: %+v", d)
			}
		}},
		{name: "allow prod emits blast and attestation-skipped", in: func(i *RouteInput) { i.Env = "prod" }, wantRule: "r_hello",
			wantEv: []string{EvtBlastScored, EvtAttestationSkipped, EvtTaskRouted, EvtWorkerSelected, EvtPolicyGated},
			check: func(t *testing.T, d RouteDecision) {
				if d.TelemetryEnvelopes[0].BlastScore != 25 {
					t.Errorf("blast score %d, want 25", d.TelemetryEnvelopes[0].BlastScore)
				}
			}},
		{name: "allow with gate uses gate policy version", rules: []Rule{testRule(gated)}, opts: Options{PolicyGate: fixedGate(GateAllow, "pol.v9", "ok")},
			wantRule: "r_hello", wantEv: allowEv, check: func(t *testing.T, d RouteDecision) {
				if ev := d.TelemetryEnvelopes[2]; ev.PolicyVersion != "pol.v9" || ev.Reason != "policy_gate_allow" {
					t.Errorf("gated event %+v", ev)
				}
			}},
		{name: "require human holds for approval", rules: []Rule{testRule(gated)}, opts: Options{PolicyGate: fixedGate(GateRequireHuman, "pol.v9", "big spend"), ApprovalTTL: time.Hour},
			wantRule: "r_hello", wantEv: append(slices.Clone(allowEv), EvtApprovalRequested), check: func(t *testing.T, d RouteDecision) {
				if d.Denied || !d.SupervisorRequired || d.PendingApprovalID == nil || d.ApprovalExpiresAt == nil {
					t.Fatalf("not a pending approval: %+v", d)
				}
				if got := time.Time(*d.ApprovalExpiresAt); !got.Equal(testNow.Add(time.Hour)) {
					t.Errorf("expiry %v", got)
				}
				if ev := d.TelemetryEnvelopes[2]; ev.Decision != GateRequireHuman || ev.Reason != "big spend" {
					t.Errorf("gated event %+v", ev)
				}
				if !d.EscalationEffective.HumanRequiredDefault || *d.EscalationEffective.Rationale != "big spend" {
					t.Errorf("escalation %+v", d.EscalationEffective)
				}
			}},
		{name: "unknown tenant", opts: Options{Config: &HallConfig{RequireSignatory: true, AllowedTenants: []string{"tenant-b"}}},
			wantCode: DenyUnknownTenant, wantRule: MatchedPreRouting, wantEv: denyEv},
		{name: "credential required without verifier", in: func(i *RouteInput) { c := "tok"; i.TenantCredential = &c },
			opts: Options{Config: &HallConfig{RequireCredential: true}}, wantCode: DenyTenantCredentialInvalid, wantRule: MatchedPreRouting, wantEv: denyEv},
		{name: "missing tenant id (validation bypassed)", in: func(i *RouteInput) { i.TenantID = " \x1c" },
			wantCode: DenyMissingTenantID, wantRule: MatchedPreRouting, wantEv: denyEv},
		{name: "blast score out of range", in: func(i *RouteInput) { v := int64(-1); i.BlastScore = &v },
			wantCode: DenyInvalidInput, wantRule: MatchedPreRouting, wantEv: denyEv},
		{name: "shadow rules in edge", in: func(i *RouteInput) { i.Env = "edge" },
			rules:    []Rule{testRule(func(r *Rule) { r.RuleID = "r1"; r.Match = Match{} }), testRule(func(r *Rule) { r.RuleID = "r2" })},
			wantCode: DenyShadowRulesDetected, wantRule: MatchedNoMatch, wantEv: denyEv, check: func(t *testing.T, d RouteDecision) {
				if r := d.DenyReasonIfDenied; *r.ShadowCount != 1 || !slices.Equal(r.ShadowedRuleIDs, []string{"r2"}) {
					t.Errorf("shadow reason %+v", r)
				}
			}},
		{name: "no matching rule", in: func(i *RouteInput) { i.CapabilityID = "cap.other" }, wantCode: DenyNoMatchingRule, wantRule: MatchedNoMatch, wantEv: denyEv},
		{name: "nil rule set fails closed", rules: []Rule{}, wantCode: DenyNoMatchingRule, wantRule: MatchedNoMatch, wantEv: denyEv},
		{name: "missing correlation id", in: func(i *RouteInput) { i.CorrelationID = "\t" }, wantCode: DenyMissingCorrelationID, wantRule: "r_hello", wantEv: denyEv},
		{name: "correlation relaxed only when both off", in: func(i *RouteInput) { i.CorrelationID = "" },
			rules: []Rule{testRule(func(r *Rule) { r.Decision.Preconditions.MustHaveCorrelationID = false })},
			opts:  Options{Config: &HallConfig{EnforceRequiredControls: true}}, wantRule: "r_hello", wantEv: allowEv},
		{name: "missing required controls", rules: []Rule{testRule(func(r *Rule) {
			r.Decision.RequiredControlsSuggested = []string{"ctrl.z", auditCtrl, "ctrl.a", "ctrl.a"}
		})}, wantCode: DenyMissingRequiredControls, wantRule: "r_hello", wantEv: denyEv, check: func(t *testing.T, d RouteDecision) {
			if !slices.Equal(d.DenyReasonIfDenied.Missing, []string{"ctrl.a", "ctrl.z"}) || len(d.RequiredControlsEffective) != 3 {
				t.Errorf("missing %v effective %v", d.DenyReasonIfDenied.Missing, d.RequiredControlsEffective)
			}
		}},
		{name: "rule without controls denied keeps an empty control list", rules: []Rule{testRule(func(r *Rule) {
			r.Decision.RequiredControlsSuggested = nil
			r.Decision.CandidateWorkersRanked = nil
		})}, wantCode: DenyNoAvailableWorker, wantRule: "r_hello", wantEv: denyEv},
		{name: "nil registry has no controls", noReg: true, wantCode: DenyMissingRequiredControls, wantRule: "r_hello", wantEv: denyEv},
		{name: "high blast requires human", in: func(i *RouteInput) {
			i.Env, i.DataLabel, i.QoSClass, i.Request = "prod", "INTERNAL", "P0", map[string]any{"egress": true, "writes": json.Number("1")}
		}, wantCode: DenyRequiresHuman, wantRule: "r_hello", wantEv: denyEv, check: func(t *testing.T, d RouteDecision) {
			if *d.DenyReasonIfDenied.BlastScore != 85 || *d.EscalationEffective.Rationale != "REQUIRE_HUMAN_HIGH_BLAST" {
				t.Errorf("reason %+v", d.DenyReasonIfDenied)
			}
		}},
		{name: "caller blast score raises the gate", in: func(i *RouteInput) { v := int64(90); i.Env, i.BlastScore = "prod", &v },
			wantCode: DenyRequiresHuman, wantRule: "r_hello", wantEv: denyEv},
		{name: "policy gate unconfigured", rules: []Rule{testRule(gated)}, wantCode: DenyPolicyGateUnconfigured, wantRule: "r_hello", wantEv: denyEv},
		{name: "policy gate error", rules: []Rule{testRule(gated)}, opts: Options{PolicyGate: PolicyGateFunc(func(PolicyContext) (PolicyResult, error) {
			return PolicyResult{}, errors.New("boom")
		})}, wantCode: DenyInternalError, wantRule: "r_hello", wantEv: denyEv},
		{name: "policy gate panic", rules: []Rule{testRule(gated)}, opts: Options{PolicyGate: PolicyGateFunc(func(PolicyContext) (PolicyResult, error) {
			panic("bad gate")
		})}, wantCode: DenyInternalError, wantRule: "r_hello", wantEv: denyEv},
		{name: "policy gate deny", rules: []Rule{testRule(gated)}, opts: Options{PolicyGate: fixedGate(GateDeny, "p1", "nope")},
			wantCode: DenyPolicyGate, wantRule: "r_hello", wantEv: denyEv, check: func(t *testing.T, d RouteDecision) {
				if *d.DenyReasonIfDenied.Reason != "nope" || *d.DenyReasonIfDenied.PolicyVersion != "p1" || *d.EscalationEffective.Rationale != "nope" {
					t.Errorf("reason %+v", d.DenyReasonIfDenied)
				}
			}},
		{name: "require human in reference mode", rules: []Rule{testRule(gated)}, opts: Options{PolicyGate: fixedGate(GateRequireHuman, "p1", "why"), Approvals: DenyRequireHuman},
			wantCode: DenyRequiresHumanApproval, wantRule: "r_hello", wantEv: denyEv},
		{name: "invalid gate response", rules: []Rule{testRule(gated)}, opts: Options{PolicyGate: fixedGate("allow", "p1", "")},
			wantCode: DenyPolicyGateInvalidResponse, wantRule: "r_hello", wantEv: denyEv, check: func(t *testing.T, d RouteDecision) {
				if !strings.Contains(d.DenyReasonIfDenied.Message, "decision: 'allow'. Expected") {
					t.Errorf("message %q", d.DenyReasonIfDenied.Message)
				}
			}},
		{name: "no available worker lists candidates", rules: []Rule{testRule(func(r *Rule) {
			r.Decision.CandidateWorkersRanked = []CandidateSpec{{WorkerSpeciesID: "wrk.gone"}, {}}
		})}, wantCode: DenyNoAvailableWorker, wantRule: "r_hello", wantEv: denyEv, check: func(t *testing.T, d RouteDecision) {
			c := d.CandidateWorkersRanked
			if len(c) != 2 || c[1].WorkerSpeciesID != "__missing__" || *c[0].SkipReason != "unavailable" {
				t.Errorf("candidates %+v", c)
			}
		}},
		{name: "panicking registry: controls step fails closed", reg: nil, wantCode: DenyInternalError, wantRule: MatchedPreRouting, wantEv: denyEv},
		{name: "attestation unconfigured", opts: Options{Config: attest()}, wantCode: DenyAttestationUnconfigured, wantRule: "r_hello", wantEv: denyEv,
			check: func(t *testing.T, d RouteDecision) {
				if d.WorkerAttestationChecked {
					t.Error("unconfigured attestation reported as checked")
				}
			}},
		{name: "attestation missing", reg: func(r *MemRegistry) { r.SetAttestation(testSpecies, "", hashA) }, opts: Options{Config: attest()},
			wantCode: DenyWorkerAttestationMissing, wantRule: "r_hello", wantEv: denyEv},
		{name: "attestation invalid hash (trailing newline)", reg: func(r *MemRegistry) { r.SetAttestation(testSpecies, hashA+"\n", hashA) }, opts: Options{Config: attest()},
			wantCode: DenyWorkerAttestationInvalidHash, wantRule: "r_hello", wantEv: denyEv},
		{name: "current hash unavailable", reg: func(r *MemRegistry) { r.SetAttestation(testSpecies, hashA, "") }, opts: Options{Config: attest()},
			wantCode: DenyWorkerHashUnavailable, wantRule: "r_hello", wantEv: denyEv},
		{name: "tampered", reg: func(r *MemRegistry) { r.SetAttestation(testSpecies, hashA, hashB) }, opts: Options{Config: attest()},
			wantCode: DenyWorkerTampered, wantRule: "r_hello", wantEv: denyEv, check: func(t *testing.T, d RouteDecision) {
				if !d.WorkerAttestationChecked || d.WorkerAttestationValid == nil || *d.WorkerAttestationValid {
					t.Error("tampered must be checked=true valid=false")
				}
				if strings.Contains(d.DenyReasonIfDenied.Message, hashA) {
					t.Error("hash echoed")
				}
			}},
		{name: "attestation valid", reg: func(r *MemRegistry) { r.SetAttestation(testSpecies, hashA, hashA) }, opts: Options{Config: attest()},
			wantRule: "r_hello", wantEv: allowEv, check: func(t *testing.T, d RouteDecision) {
				if !d.WorkerAttestationChecked || !*d.WorkerAttestationValid {
					t.Error("attestation flags")
				}
			}},
		{name: "privilege unconfigured", rules: []Rule{testRule(withPrivCtrl)}, reg: func(r *MemRegistry) {
			_ = r.SetControlsPresent([]string{auditCtrl, ControlPrivilegeEnvelopes})
		}, wantCode: DenyPrivilegeEnvelopeUnconfigured, wantRule: "r_hello", wantEv: denyEv},
		{name: "privilege error", opts: Options{Config: &HallConfig{EnforcePrivilegeEnvelopes: true}, Privilege: privStub{err: errors.New("x")}},
			wantCode: DenyInternalError, wantRule: "r_hello", wantEv: denyEv, check: func(t *testing.T, d RouteDecision) {
				if d.DenyReasonIfDenied.Message != msgPrivilegeRaised {
					t.Errorf("message %q", d.DenyReasonIfDenied.Message)
				}
			}},
		{name: "privilege violated", opts: Options{Config: &HallConfig{EnforcePrivilegeEnvelopes: true}, Privilege: privStub{reason: "egress_not_allowlisted:x"}},
			wantCode: DenyPrivilegeEnvelopeViolated, wantRule: "r_hello", wantEv: denyEv, check: func(t *testing.T, d RouteDecision) {
				if d.DenyReasonIfDenied.Message != "Worker privilege envelope denied for dev/PUBLIC: egress_not_allowlisted:x" {
					t.Errorf("message %q", d.DenyReasonIfDenied.Message)
				}
			}},
		{name: "privilege allowed emits event", opts: Options{Config: &HallConfig{EnforcePrivilegeEnvelopes: true}, Privilege: privStub{ok: true}},
			wantRule: "r_hello", wantEv: append([]string{EvtPrivilegeChecked}, allowEv...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := testInput()
			if c.in != nil {
				c.in(&in)
			}
			rules := c.rules
			if rules == nil {
				rules = []Rule{testRule(nil)}
			}
			rs, err := CompileRules(rules)
			if err != nil {
				t.Fatal(err)
			}
			if len(rules) == 0 {
				rs = nil
			}
			opts := c.opts
			var reg RegistryView
			switch {
			case c.noReg:
			case c.name == "panicking registry: controls step fails closed":
				reg = panicky{}
			default:
				m := testRegistry(t)
				if c.reg != nil {
					c.reg(m)
					if opts.Config != nil && opts.Config.RequireWorkerAttestation {
						opts.Attestation = m
					}
				}
				reg = m
			}
			opts.Now = func() time.Time { return testNow }
			d := Decide(in, rs, reg, opts)
			// The same case decided into storage every earlier case reused
			// answers the same (but for its random ids).
			DecideInto(&reused, &in, rs, reg, opts)
			cmp := reused
			cmp.DecisionID, cmp.PendingApprovalID = d.DecisionID, d.PendingApprovalID
			if d.PendingApprovalID != nil {
				cmp.TelemetryEnvelopes = slices.Clone(cmp.TelemetryEnvelopes)
				cmp.TelemetryEnvelopes[len(cmp.TelemetryEnvelopes)-1].PendingApprovalID = *d.PendingApprovalID
			}
			if !reflect.DeepEqual(d, cmp) {
				t.Errorf("DecideInto over a reused decision differs:\n got %+v\nwant %+v", cmp, d)
			}
			if fresh, again := mustJSON(t, d), mustJSON(t, cmp); fresh != again {
				t.Errorf("DecideInto over a reused decision differs:\n got %s\nwant %s", again, fresh)
			}
			if d.Code() != c.wantCode || d.Denied != (c.wantCode != "") {
				t.Fatalf("code %q denied=%v, want %q (%+v)", d.Code(), d.Denied, c.wantCode, d.DenyReasonIfDenied)
			}
			if d.MatchedRuleID != c.wantRule {
				t.Errorf("matched %q, want %q", d.MatchedRuleID, c.wantRule)
			}
			var ev []string
			for _, e := range d.TelemetryEnvelopes {
				ev = append(ev, e.EventID)
			}
			if !slices.Equal(ev, c.wantEv) {
				t.Errorf("events %v, want %v", ev, c.wantEv)
			}
			if d.Denied && (d.ArtifactHash != nil || d.SelectedWorkerSpeciesID != nil) {
				t.Error("deny carries artifact hash or selected worker")
			}
			raw, err := json.Marshal(d)
			if err != nil {
				t.Fatalf("decision does not marshal: %v", err)
			}
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			for _, k := range []string{"candidate_workers_ranked", "required_controls_effective", "recommended_profiles_effective", "telemetry_envelopes"} {
				if _, isList := m[k].([]any); !isList {
					t.Errorf("%s is %v, want a list", k, m[k])
				}
			}
			if c.check != nil {
				c.check(t, d)
			}
		})
	}
}

func TestDenyCodesHaveReferenceStrings(t *testing.T) {
	codes := []string{DenyUnknownTenant, DenyMissingTenantID, DenyInvalidInput, DenyShadowRulesDetected, DenyNoMatchingRule,
		DenyMissingCorrelationID, DenyMissingRequiredControls, DenyRequiresHuman, DenyPolicyGateUnconfigured, DenyInternalError,
		DenyPolicyGate, DenyRequiresHumanApproval, DenyPolicyGateInvalidResponse, DenyNoAvailableWorker, DenyAttestationUnconfigured,
		DenyWorkerAttestationMissing, DenyWorkerAttestationInvalidHash, DenyWorkerHashUnavailable, DenyWorkerTampered,
		DenyPrivilegeEnvelopeUnconfigured, DenyPrivilegeEnvelopeViolated}
	if len(codes) != 21 {
		t.Fatalf("%d codes", len(codes))
	}
	for _, c := range codes {
		if !strings.HasPrefix(c, "DENY_") || strings.ToUpper(c) != c {
			t.Errorf("bad code %q", c)
		}
	}
}

func TestDecisionJSONShape(t *testing.T) {
	rs, _ := CompileRules([]Rule{testRule(nil)})
	in := testInput()
	in.DryRun = true
	in.CorrelationID = "c\x01d"
	d := Decide(in, rs, testRegistry(t), Options{Now: func() time.Time { return testNow }, NewID: func() string { return "id-1" }, TaskID: "t1"})
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	keys := []string{"decision_id", "timestamp", "correlation_id", "tenant_id", "capability_id", "matched_rule_id", "env",
		"data_label", "tenant_risk", "qos_class", "denied", "deny_reason_if_denied", "selected_worker_species_id",
		"candidate_workers_ranked", "required_controls_effective", "recommended_profiles_effective", "escalation_effective",
		"preconditions_checked", "artifact_hash", "worker_attestation_checked", "worker_attestation_valid", "dry_run",
		"telemetry_envelopes", "supervisor_required", "pending_approval_id", "approval_expires_at"}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("decision lacks %q", k)
		}
	}
	if len(m) != len(keys) {
		t.Errorf("decision has %d keys, want %d", len(m), len(keys))
	}
	if m["timestamp"] != "2026-03-04T05:06:07.890123+00:00" || m["correlation_id"] != "c\x01d" {
		t.Errorf("timestamp %v correlation %q", m["timestamp"], m["correlation_id"])
	}
	ev := m["telemetry_envelopes"].([]any)
	routed := ev[0].(map[string]any)
	if routed["correlation_id"] != "cd" || routed["dry_run"] != true || routed["task_id"] != "t1" || len(routed) != 11 {
		t.Errorf("routed event %v", routed)
	}
	if got := Timestamp(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).String(); got != "2026-01-01T00:00:00+00:00" {
		t.Errorf("whole-second timestamp %q", got)
	}
}

func TestSecondCandidateAndAlreadySelected(t *testing.T) {
	rs, _ := CompileRules([]Rule{testRule(func(r *Rule) {
		r.Decision.CandidateWorkersRanked = []CandidateSpec{{WorkerSpeciesID: "wrk.gone"}, {WorkerSpeciesID: testSpecies}, {WorkerSpeciesID: "wrk.b"}}
	})})
	reg := testRegistry(t)
	reg.SetWorkersAvailable([]string{testSpecies, "wrk.b"})
	d := Decide(testInput(), rs, reg, Options{})
	var skips []string
	for _, c := range d.CandidateWorkersRanked {
		s := "-"
		if c.SkipReason != nil {
			s = *c.SkipReason
		}
		skips = append(skips, s)
	}
	if *d.SelectedWorkerSpeciesID != testSpecies || !slices.Equal(skips, []string{"unavailable", "-", "already_selected"}) {
		t.Errorf("selected %v skips %v", *d.SelectedWorkerSpeciesID, skips)
	}
}

func TestBlastScore(t *testing.T) {
	cases := []struct {
		env, label, qos string
		req             map[string]any
		want            int64
	}{
		{"prod", "PUBLIC", "P2", nil, 25},
		{"prod", "RESTRICTED", "P0", map[string]any{"egress": true}, 90},
		{"prod", "INTERNAL", "P0", map[string]any{"external_call": 1.0, "mutates_state": "yes"}, 85},
		{"dev", "RESTRICTED", "P0", map[string]any{"egress": true, "writes": true}, 90},
		{"edge", "RESTRICTED", "P0", map[string]any{"egress": true, "writes": true}, 100},
		{"prod", "PUBLIC", "P2", map[string]any{"egress": "false", "writes": "0", "external_call": []any{}, "mutates_state": map[string]any{}}, 25},
		{"prod", "PUBLIC", "P2", map[string]any{"egress": json.Number("0.0"), "writes": nil}, 25},
	}
	for _, c := range cases {
		in := RouteInput{Env: c.env, DataLabel: c.label, QoSClass: c.qos, Request: c.req}
		if got := BlastScore(&in); got != c.want {
			t.Errorf("%+v: %d, want %d", c, got, c.want)
		}
	}
}

func TestDryRunOption(t *testing.T) {
	rs, _ := CompileRules([]Rule{testRule(nil)})
	d := Decide(testInput(), rs, testRegistry(t), Options{DryRun: true})
	for _, e := range d.TelemetryEnvelopes {
		if !e.DryRun {
			t.Errorf("event %s not dry-run", e.EventID)
		}
	}
	if !d.DryRun || d.ArtifactHash == nil {
		t.Error("dry run must still run the whole pipeline")
	}
}

func TestCredentialVerifier(t *testing.T) {
	rs, _ := CompileRules([]Rule{testRule(nil)})
	in := testInput()
	tok := "good"
	in.TenantCredential = &tok
	cfg := DefaultHallConfig()
	cfg.RequireCredential = true
	verify := credFunc(func(tenant, cred string) error {
		if tenant == "tenant-a" && cred == "good" {
			return nil
		}
		return fmt.Errorf("bad credential")
	})
	if d := Decide(in, rs, testRegistry(t), Options{Config: &cfg, Credentials: verify}); d.Denied {
		t.Errorf("valid credential denied: %s", d.Code())
	}
	tok = "bad"
	if d := Decide(in, rs, testRegistry(t), Options{Config: &cfg, Credentials: verify}); d.Code() != DenyTenantCredentialInvalid {
		t.Errorf("bad credential: %q", d.Code())
	}
}

type credFunc func(tenant, cred string) error

func (f credFunc) VerifyCredential(tenant, cred string) error { return f(tenant, cred) }

func TestReferencePrivilegePolicy(t *testing.T) {
	env := map[string]any{"egress": map[string]any{"allowlist": []any{"api.example.com"}}}
	cases := []struct {
		env, label string
		envelope   map[string]any
		allow      []string
		ok         bool
		reason     string
		err        bool
	}{
		{"dev", "RESTRICTED", env, nil, true, "stub_allow", false},
		{"prod", "PUBLIC", env, nil, true, "stub_allow", false},
		{"prod", "RESTRICTED", env, nil, false, "egress_denied_no_allowlist_configured", false},
		{"prod", "RESTRICTED", env, []string{"other"}, false, "egress_not_allowlisted:api.example.com", false},
		{"edge", "RESTRICTED", env, []string{"api.example.com"}, true, "stub_allow", false},
		{"prod", "RESTRICTED", map[string]any{"egress": "x"}, nil, false, "", true},
		{"prod", "RESTRICTED", nil, nil, true, "stub_allow", false},
	}
	for _, c := range cases {
		ok, reason, err := ReferencePrivilegePolicy(c.env, c.label, c.envelope, c.allow)
		if ok != c.ok || reason != c.reason || (err != nil) != c.err {
			t.Errorf("%+v: got %v %q %v", c, ok, reason, err)
		}
	}
}

func TestMemRegistryEnrollValidation(t *testing.T) {
	reg := NewMemRegistry()
	err := reg.Enroll(RegistryRecord{WorkerID: "org.a.w", WorkerSpeciesID: "wrk.a", Capabilities: []string{"cap.a"},
		CurrentlyImplements: []string{"ctrl.ok", "CTRL.bad", "ctrl.ok\n"}, Attestation: &RecordAttestation{CodeHash: "sha256:" + hashA},
		PrivilegeEnvelope: map[string]any{"egress": map[string]any{}}})
	if err == nil || !strings.Contains(err.Error(), "CTRL.bad") || !strings.Contains(err.Error(), "code_hash") {
		t.Errorf("enroll error %v", err)
	}
	if !reg.ControlPresent("ctrl.ok") || reg.ControlPresent("ctrl.ok\n") || !reg.WorkerAvailable("wrk.a") {
		t.Error("valid parts not enrolled")
	}
	if _, ok := reg.RegisteredHash("wrk.a"); ok {
		t.Error("prefixed hash registered")
	}
	if e, _ := reg.Envelope("wrk.a"); e == nil {
		t.Error("envelope not stored")
	}
	if got := reg.WorkersForCapability("cap.a"); !slices.Equal(got, []string{"wrk.a"}) {
		t.Errorf("workers for cap %v", got)
	}
	if len(reg.Records()) != 1 {
		t.Error("records")
	}
	envelope := map[string]any{"egress": map[string]any{"allowlist": []any{"api.example.com"}}}
	if ok, why, _ := reg.Allows("prod", "RESTRICTED", envelope); ok || why != "egress_denied_no_allowlist_configured" {
		t.Errorf("no allowlist: %v %q", ok, why)
	}
	reg.SetEgressAllowlist("prod", []string{"api.example.com"})
	if ok, why, _ := reg.Allows("prod", "RESTRICTED", envelope); !ok || why != "stub_allow" {
		t.Errorf("allowlisted: %v %q", ok, why)
	}
	reg.SetPrivilegeEnvelope("wrk.a", nil)
	if e, _ := reg.Envelope("wrk.a"); e != nil {
		t.Error("envelope not removed")
	}
}

func TestDecisionJSONRoundTrip(t *testing.T) {
	rs, _ := CompileRules([]Rule{testRule(gated)})
	in := testInput()
	in.Env = "prod"
	d := Decide(in, rs, testRegistry(t), Options{PolicyGate: fixedGate(GateRequireHuman, "p", "r"), Now: func() time.Time { return testNow }})
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back RouteDecision
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(back)
	if err != nil || string(again) != string(raw) {
		t.Errorf("round trip differs:\n%s\n%s", raw, again)
	}
}

func TestPyRepr(t *testing.T) {
	cases := map[string]string{"allow": "'allow'", "it's": `"it's"`, `a'b"c`: `'a\'b"c'`, "x\ny\x01": `'x\ny\x01'`, `back\slash`: `'back\\slash'`, "é": "'é'"}
	for in, want := range cases {
		if got := PyRepr(in); got != want {
			t.Errorf("PyRepr(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMemRegistryConcurrentDecisions(t *testing.T) {
	rs, _ := CompileRules([]Rule{testRule(nil)})
	reg := testRegistry(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			reg.SetWorkersAvailable([]string{testSpecies, fmt.Sprint("wrk.", i)})
			_ = reg.Enroll(RegistryRecord{WorkerID: fmt.Sprint("org.x.", i), WorkerSpeciesID: testSpecies, Capabilities: []string{"cap.hello.greet"}})
		}
	}()
	for range 500 {
		if d := Decide(testInput(), rs, reg, Options{}); d.Denied {
			t.Fatalf("denied during concurrent updates: %s", d.Code())
		}
	}
	<-done
	if got := reg.WorkersForCapability("cap.hello.greet"); !slices.Equal(got, []string{testSpecies}) {
		t.Errorf("workers %v", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// EnrollAll builds the same registry as one Enroll per record, and reports
// the errors of every record.
func TestMemRegistryEnrollAllMatchesEnroll(t *testing.T) {
	recs := []RegistryRecord{
		{WorkerID: "org.a.w", WorkerSpeciesID: "wrk.a", Capabilities: []string{"cap.a", "cap.b"}, CurrentlyImplements: []string{auditCtrl},
			Attestation: &RecordAttestation{CodeHash: hashA}, PrivilegeEnvelope: map[string]any{"egress": map[string]any{}}},
		{WorkerID: "org.b.w", WorkerSpeciesID: "wrk.b", Capabilities: []string{"cap.a"}, CurrentlyImplements: []string{"CTRL.bad"}},
		{WorkerID: "org.a.w2", WorkerSpeciesID: "wrk.a", Capabilities: []string{"cap.c"}},
	}
	one := NewMemRegistry()
	var errs []error
	for _, r := range recs {
		errs = append(errs, one.Enroll(r))
	}
	all := NewMemRegistry()
	err := all.EnrollAll(recs)
	if fmt.Sprint(err) != fmt.Sprint(errors.Join(errs...)) || err == nil {
		t.Errorf("EnrollAll error %v, Enroll errors %v", err, errors.Join(errs...))
	}
	if !reflect.DeepEqual(one.state.Load(), all.state.Load()) {
		t.Errorf("EnrollAll state differs:\n%+v\n%+v", all.state.Load(), one.state.Load())
	}
}
