package decide

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"hallmonitor/core"
	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/mcpclient"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

// HallPolicyGate is the Hall's policy gate for rules with escalation.policy_gate:
// prod/edge requests on RESTRICTED data or from high-risk tenants need a
// human (REQUIRE_HUMAN, held as a pending approval); everything else is allowed.
var HallPolicyGate = core.PolicyGateFunc(func(c core.PolicyContext) (core.PolicyResult, error) {
	const version = "hall.policy.v1"
	if (c.Env == "prod" || c.Env == "edge") && (c.DataLabel == "RESTRICTED" || c.TenantRisk == "high") {
		return core.PolicyResult{Decision: core.GateRequireHuman, PolicyVersion: version, Reason: "prod_restricted_or_high_risk_requires_human"}, nil
	}
	return core.PolicyResult{Decision: core.GateAllow, PolicyVersion: version, Reason: "hall_policy_allow"}, nil
})

// engineInputs are what core.Decide needs besides the input and the rules:
// the shared registry snapshot (workers.Registry, rebuilt on change, not
// per decision) of the enrolled workers (banned ones unavailable,
// tampered ones available so that the attestation step answers
// DENY_WORKER_TAMPERED) and of the connected MCP servers whose last ping
// answered, and the options (Hall config, policy gate, attestation).
func (s *Service) engineInputs(ctx context.Context, dryRun bool, taskID string) (workers.View, core.Options, core.AttestationSource, error) {
	snap, err := s.registry.Snapshot(ctx)
	if err != nil {
		return workers.View{}, core.Options{}, nil, err
	}
	view, src := snap.View, snap.Source
	cfg := core.DefaultHallConfig()
	if s.opts.HallConfig != nil {
		cfg = *s.opts.HallConfig
	}
	// The Hall runs worker packages, so it attests them once any enrolled
	// worker runs from one (workers without a package are not checked:
	// View.Attests); without a source that is DENY_ATTESTATION_UNCONFIGURED.
	cfg.RequireWorkerAttestation = cfg.RequireWorkerAttestation || snap.AttestationRequired
	opts := core.Options{Config: &cfg, PolicyGate: s.opts.PolicyGate, Privilege: view, DryRun: dryRun, Now: s.opts.Now, TaskID: taskID}
	if src != nil {
		opts.Attestation, opts.Attests = view, view.Attests
	}
	return view, opts, src, nil
}

// registryWorkers are what the registry view holds: the enrolled workers and
// the online MCP servers as workers (mcpWorkers).
func (s *Service) registryWorkers(ctx context.Context) ([]store.Worker, error) {
	ws, err := s.st.ListWorkers(ctx)
	if err != nil {
		return nil, fmt.Errorf("load enrolled workers: %w", err)
	}
	ms, err := s.st.ListMCPServers(ctx)
	if err != nil {
		return nil, fmt.Errorf("load connected MCP servers: %w", err)
	}
	return append(ws, mcpWorkers(ms)...), nil
}

// Replayer decides like Route (same registry view, configuration and policy
// gate) as a dry run that records nothing: the rules preview's engine.
func (s *Service) Replayer(ctx context.Context) (func(in core.RouteInput, set *core.RuleSet) core.RouteDecision, error) {
	view, opts, _, err := s.engineInputs(ctx, true, "rules_preview")
	if err != nil {
		return nil, err
	}
	return func(in core.RouteInput, set *core.RuleSet) core.RouteDecision {
		return core.Decide(in, set, view, opts)
	}, nil
}

// RouteResult is the answer of POST /wcp/route.
type RouteResult struct {
	Decision core.RouteDecision `json:"decision"`
	Receipt  json.RawMessage    `json:"receipt"`
}

// Route decides a request with core.Decide and records the decision, its
// receipt, its approval (when a human is required) and the event in one
// transaction. It is the Hall's one route-and-record path: POST /wcp/route
// and `hallmonitor mcp` both call it. The registry is workers.NewView of the
// enrolled workers (banned ones unavailable, tampered ones available so that
// the attestation step answers DENY_WORKER_TAMPERED) and of the connected MCP
// servers whose last ping answered (wrk.mcp.<name>, see mcpWorkers); a selected worker with
// a package is attested with the hashes of the attestation source
// (SetAttestationSource), and the receipt records its current package hash.
// source is "route" or "mcp". Input errors are *APIError values.
func (s *Service) Route(ctx context.Context, inputJSON []byte, dryRun bool, source string) (RouteResult, error) {
	in, verrs := core.ParseRouteInput(inputJSON)
	if len(verrs) > 0 {
		e := verrs[0]
		field := "input"
		if len(e.Loc) > 0 {
			field += "." + strings.Join(e.Loc, ".")
		}
		return RouteResult{}, apierr.New(apierr.InvalidField, field, "%s", e.Msg)
	}
	rs := s.rules.get()
	set := rs.Set
	if set == nil {
		var err error
		if set, err = core.CompileRules(nil); err != nil {
			return RouteResult{}, err
		}
	}
	taskID := "hall_route"
	if source == store.SourceMCP {
		taskID = "mcp_tools_call"
	}
	view, opts, src, err := s.engineInputs(ctx, dryRun, taskID)
	if err != nil {
		return RouteResult{}, err
	}
	dec := core.Decide(in, set, view, opts)
	var packageHash *string
	if dec.SelectedWorkerSpeciesID != nil && src != nil {
		if h, ok := src.CurrentHash(*dec.SelectedWorkerSpeciesID); ok && core.IsSHA256Hex(h) {
			packageHash = &h
		}
	}
	blast := int(core.BlastScore(&in))
	sm := Summarize(&dec, source, &blast)
	sm.Agent = principal.Label(ctx)
	raw, err := json.Marshal(dec)
	if err != nil {
		return RouteResult{}, err
	}
	if in.TenantCredential != nil {
		red := "[redacted]"
		in.TenantCredential = &red
	}
	inputRaw, err := json.Marshal(in)
	if err != nil {
		return RouteResult{}, err
	}
	wr := store.DecisionWrite{Summary: sm, Time: time.Time(dec.Timestamp), Decision: raw, Input: inputRaw,
		RulesHash: rs.Hash, Receipt: s.receiptFunc(dec, packageHash)}
	if dec.SupervisorRequired && dec.PendingApprovalID != nil && !dec.DryRun {
		a := &store.Approval{ApprovalID: *dec.PendingApprovalID, CapabilityID: dec.CapabilityID, TenantID: dec.TenantID,
			MatchedRuleID: dec.MatchedRuleID, Reason: "policy gate requires a human", Agent: sm.Agent}
		if dec.EscalationEffective.Rationale != nil {
			a.Reason = *dec.EscalationEffective.Rationale
		}
		if dec.ApprovalExpiresAt != nil {
			a.TTL = time.Time(*dec.ApprovalExpiresAt).Sub(s.opts.Now())
		}
		wr.Approval = a
	}
	rc, err := s.st.WriteDecision(ctx, &wr)
	if err != nil {
		s.recordFailed(ctx, 1, err)
		return RouteResult{}, err
	}
	return RouteResult{Decision: dec, Receipt: rc}, nil
}

// mcpWorkers are the connected MCP servers as routable workers: each one
// whose last ping answered (online) is species wrk.mcp.<name> serving
// cap.mcp.<name>, without a package (so no attestation: the Hall runs no
// code of it) and without controls.
func mcpWorkers(ms []store.MCPServer) []store.Worker {
	var ws []store.Worker
	for _, m := range ms {
		if m.Status != store.MCPOnline {
			continue
		}
		ws = append(ws, store.Worker{WorkerID: "mcp." + m.Name, WorkerSpeciesID: mcpclient.SpeciesID(m.Name),
			Capabilities: []string{mcpclient.CapabilityID(m.Name)}, Controls: []string{}, Status: store.WorkerUnverified,
			Record: json.RawMessage("{}")})
	}
	return ws
}
