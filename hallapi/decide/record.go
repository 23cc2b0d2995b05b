package decide

import (
	"context"
	"fmt"

	"hallmonitor/core"
	"hallmonitor/hallapi/store"
)

// Summarize is the feed row of a decision: outcome, deny code, worker, blast
// score; source says where it came from (route, mcp or ingest).
func Summarize(dec *core.RouteDecision, source string, blast *int) store.DecisionSummary {
	sm := store.DecisionSummary{DecisionID: dec.DecisionID, Timestamp: dec.Timestamp.String(), Outcome: store.OutcomeAllowed,
		Denied: dec.Denied, CapabilityID: dec.CapabilityID, TenantID: dec.TenantID, Env: dec.Env, DataLabel: dec.DataLabel,
		CorrelationID: dec.CorrelationID, MatchedRuleID: dec.MatchedRuleID, BlastScore: blast,
		SupervisorRequired: dec.SupervisorRequired, DryRun: dec.DryRun, Source: source}
	if dec.DenyReasonIfDenied != nil {
		sm.DenyCode, sm.DenyMessage = dec.DenyReasonIfDenied.Code, dec.DenyReasonIfDenied.Message
		if dec.DenyReasonIfDenied.BlastScore != nil && blast == nil {
			v := int(*dec.DenyReasonIfDenied.BlastScore)
			sm.BlastScore = &v
		}
	}
	switch {
	case dec.Denied:
		sm.Outcome = store.OutcomeDenied
	case dec.SupervisorRequired:
		sm.Outcome = store.OutcomePending
	}
	if dec.SelectedWorkerSpeciesID != nil {
		sm.SelectedWorkerSpeciesID = *dec.SelectedWorkerSpeciesID
	}
	if dec.PendingApprovalID != nil {
		sm.PendingApprovalID = *dec.PendingApprovalID
	}
	return sm
}

// recordFailed raises DECISION_WRITE_FAILED: a decision is never dropped silently.
func (s *Service) recordFailed(ctx context.Context, n int, err error) {
	s.log.Error("decision write failed", "decisions", n, "err", err)
	if _, aerr := s.st.RaiseAlert(context.WithoutCancel(ctx), store.AlertInput{Type: store.AlertDecisionWriteFailed,
		Severity: store.SeverityCritical, Title: "Decisions could not be recorded",
		Body: fmt.Sprintf("%d decision(s) could not be written to the Hall database: %v. Check disk space and the Hall log.", n, err)}); aerr != nil {
		s.log.Error("raise alert failed", "err", aerr)
	}
}
