package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"hallmonitor/core"
	"hallmonitor/core/receipt"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

// rulesCache reloads the rules file when its modification time or size
// changes. A missing file is an empty rule set (every request is denied
// DENY_NO_MATCHING_RULE: fail closed); an invalid file is an error.
type rulesCache struct {
	path  string
	mu    sync.Mutex
	mod   time.Time
	size  int64
	rs    *core.RuleSet
	err   error
	valid bool
}

func (c *rulesCache) get() (*core.RuleSet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := os.Stat(c.path)
	if errors.Is(err, os.ErrNotExist) || c.path == "" {
		c.valid = false
		return core.CompileRules(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("rules file %s: %w", c.path, err)
	}
	if c.valid && st.ModTime().Equal(c.mod) && st.Size() == c.size {
		return c.rs, c.err
	}
	b, err := os.ReadFile(c.path)
	if err != nil {
		return nil, fmt.Errorf("rules file %s: %w", c.path, err)
	}
	c.rs, c.err = core.ParseRules(b)
	if c.err != nil {
		c.err = fmt.Errorf("rules file %s is invalid (%w): fix it; until then every MCP call is refused", c.path, c.err)
	}
	c.mod, c.size, c.valid = st.ModTime(), st.Size(), true
	return c.rs, c.err
}

// Routed is a recorded decision.
type Routed struct {
	Decision core.RouteDecision
	Receipt  receipt.Receipt
}

// route decides one request with core.Decide and records the decision, its
// receipt (chained per tenant) and, for REQUIRE_HUMAN, its pending approval
// in one transaction, with source "mcp".
func (s *Server) route(ctx context.Context, in core.RouteInput) (Routed, error) {
	rs, err := s.rules.get()
	if err != nil {
		return Routed{}, err
	}
	ws, err := s.st.ListWorkers(ctx)
	if err != nil {
		return Routed{}, fmt.Errorf("load workers: %w", err)
	}
	view := workers.NewView(ws, s.workers)
	cfg := core.DefaultHallConfig()
	// Every MCP tool runs a worker package, so its attestation is required.
	cfg.RequireWorkerAttestation = true
	dec := core.Decide(in, rs, view, core.Options{
		Config: &cfg, PolicyGate: s.gate, Privilege: view, Attestation: view, Now: s.now, TaskID: "mcp_tools_call",
	})
	decJSON, err := json.Marshal(dec)
	if err != nil {
		return Routed{}, fmt.Errorf("encode decision: %w", err)
	}
	inJSON, err := json.Marshal(redact(in))
	if err != nil {
		return Routed{}, fmt.Errorf("encode input: %w", err)
	}
	var rc receipt.Receipt
	w := store.DecisionWrite{
		Summary: summary(dec, int(core.BlastScore(&in))), Time: time.Time(dec.Timestamp), Decision: decJSON, Input: inJSON, RulesHash: rs.Hash(),
		Receipt: func(prev json.RawMessage) ([]byte, string, error) {
			var p *receipt.Receipt
			if prev != nil {
				p = new(receipt.Receipt)
				if err := json.Unmarshal(prev, p); err != nil {
					return nil, "", fmt.Errorf("previous receipt of tenant %q is unreadable: %w", dec.TenantID, err)
				}
			}
			r, err := receipt.New(dec, p, s.signer, store.NewID("rct"), s.now())
			if err != nil {
				return nil, "", err
			}
			rc = r
			b, err := json.Marshal(r)
			return b, r.ReceiptHash, err
		},
	}
	if dec.SupervisorRequired && dec.PendingApprovalID != nil && dec.ApprovalExpiresAt != nil && !dec.DryRun {
		a := &store.Approval{ApprovalID: *dec.PendingApprovalID, CapabilityID: dec.CapabilityID, TenantID: dec.TenantID,
			MatchedRuleID: dec.MatchedRuleID, Reason: "policy gate requires a human",
			TTL: time.Time(*dec.ApprovalExpiresAt).Sub(time.Time(dec.Timestamp))}
		if dec.EscalationEffective.Rationale != nil {
			a.Reason = *dec.EscalationEffective.Rationale
		}
		w.Approval = a
	}
	if _, err := s.st.RecordDecisions(ctx, []store.DecisionWrite{w}); err != nil {
		s.alertWriteFailed(ctx, dec, err)
		return Routed{}, fmt.Errorf("record decision %s: %w", dec.DecisionID, err)
	}
	return Routed{Decision: dec, Receipt: rc}, nil
}

// alertWriteFailed raises DECISION_WRITE_FAILED: a decision is never dropped
// silently.
func (s *Server) alertWriteFailed(ctx context.Context, dec core.RouteDecision, err error) {
	if _, aerr := s.st.RaiseAlert(context.WithoutCancel(ctx), store.AlertInput{Type: store.AlertDecisionWriteFailed, Severity: store.SeverityError,
		Title: "An MCP decision could not be recorded", Body: err.Error(), DecisionID: dec.DecisionID}); aerr != nil {
		s.log.Error("raise DECISION_WRITE_FAILED", "decision_id", dec.DecisionID, "err", aerr)
	}
}

// redact drops the tenant credential from the stored input.
func redact(in core.RouteInput) core.RouteInput {
	if in.TenantCredential != nil {
		r := "[redacted]"
		in.TenantCredential = &r
	}
	return in
}

// summary is the feed row of a decision (the same shape the Hall API
// records for /wcp/route).
func summary(d core.RouteDecision, blast int) store.DecisionSummary {
	sm := store.DecisionSummary{
		DecisionID: d.DecisionID, Timestamp: d.Timestamp.String(), Outcome: store.OutcomeAllowed, Denied: d.Denied,
		CapabilityID: d.CapabilityID, TenantID: d.TenantID, Env: d.Env, DataLabel: d.DataLabel,
		CorrelationID: d.CorrelationID, MatchedRuleID: d.MatchedRuleID, SupervisorRequired: d.SupervisorRequired,
		DryRun: d.DryRun, Source: store.SourceMCP, BlastScore: &blast,
	}
	if d.DenyReasonIfDenied != nil {
		sm.DenyCode, sm.DenyMessage = d.DenyReasonIfDenied.Code, d.DenyReasonIfDenied.Message
	}
	switch {
	case d.Denied:
		sm.Outcome = store.OutcomeDenied
	case d.SupervisorRequired:
		sm.Outcome = store.OutcomePending
	}
	if d.SelectedWorkerSpeciesID != nil {
		sm.SelectedWorkerSpeciesID = *d.SelectedWorkerSpeciesID
	}
	if d.PendingApprovalID != nil {
		sm.PendingApprovalID = *d.PendingApprovalID
	}
	return sm
}
