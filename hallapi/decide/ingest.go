package decide

import (
	"context"
	"encoding/json"
	"time"

	"hallmonitor/hallapi/apierr"

	"hallmonitor/core"
	"hallmonitor/hallapi/store"
)

// ingestDecision is a decision made elsewhere (an SDK agent): a WCP
// RouteDecision, plus the keys of the reference Hall API's /decisions/ingest.
type ingestDecision struct {
	core.RouteDecision
	DecidedAt      string `json:"decided_at"`
	DenyReason     string `json:"deny_reason"`
	SelectedWorker string `json:"selected_worker"`
	BlastScore     *int   `json:"blast_score"`
	Source         string `json:"source"`
}

// ParseIngest checks one ingested decision (field names it in a batch) and
// turns it into a write without a receipt.
func (s *Service) ParseIngest(raw json.RawMessage, field string) (store.DecisionWrite, *apierr.Error) {
	var d ingestDecision
	if he := apierr.DecodeStrict(raw, &d); he != nil {
		return store.DecisionWrite{}, apierr.Prefix(he, field)
	}
	dec := d.RouteDecision
	if dec.DecisionID == "" {
		dec.DecisionID = core.NewUUID()
	} else if he := apierr.ValidID("decision_id", dec.DecisionID); he != nil {
		return store.DecisionWrite{}, apierr.Prefix(he, field)
	}
	if time.Time(dec.Timestamp).IsZero() {
		if d.DecidedAt != "" {
			t, err := time.Parse(time.RFC3339Nano, d.DecidedAt)
			if err != nil {
				return store.DecisionWrite{}, apierr.Prefix(apierr.New(apierr.InvalidField, "decided_at", "decided_at must be an RFC 3339 time"), field)
			}
			dec.Timestamp = core.Timestamp(t)
		} else {
			dec.Timestamp = core.Timestamp(s.opts.Now())
		}
	}
	if dec.SelectedWorkerSpeciesID == nil && d.SelectedWorker != "" {
		w := d.SelectedWorker
		dec.SelectedWorkerSpeciesID = &w
	}
	if dec.Denied && dec.DenyReasonIfDenied == nil && d.DenyReason != "" {
		dec.DenyReasonIfDenied = &core.DenyReason{Code: d.DenyReason, Message: d.DenyReason}
	}
	if d.BlastScore != nil && (*d.BlastScore < 0 || *d.BlastScore > 100) {
		return store.DecisionWrite{}, apierr.Prefix(apierr.New(apierr.InvalidField, "blast_score", "blast_score must be from 0 to 100"), field)
	}
	source := store.SourceIngest
	switch d.Source {
	case "", store.SourceIngest:
	case store.SourceMCP:
		source = store.SourceMCP
	default:
		return store.DecisionWrite{}, apierr.Prefix(apierr.New(apierr.InvalidField, "source", "source must be ingest or mcp"), field)
	}
	for name, v := range map[string]string{"capability_id": dec.CapabilityID, "tenant_id": dec.TenantID, "correlation_id": dec.CorrelationID,
		"matched_rule_id": dec.MatchedRuleID, "env": dec.Env, "data_label": dec.DataLabel} {
		if len(v) > 512 {
			return store.DecisionWrite{}, apierr.Prefix(apierr.New(apierr.InvalidField, name, "%s must be at most 512 characters", name), field)
		}
	}
	if dec.CandidateWorkersRanked == nil {
		dec.CandidateWorkersRanked = []core.CandidateWorker{}
	}
	if dec.RequiredControlsEffective == nil {
		dec.RequiredControlsEffective = []string{}
	}
	if dec.RecommendedProfilesEffective == nil {
		dec.RecommendedProfilesEffective = []map[string]any{}
	}
	if dec.TelemetryEnvelopes == nil {
		dec.TelemetryEnvelopes = []core.TelemetryEnvelope{}
	}
	full, err := json.Marshal(dec)
	if err != nil {
		return store.DecisionWrite{}, apierr.Prefix(apierr.New(apierr.InvalidField, "", "decision cannot be encoded: %v", err), field)
	}
	// No Hall receipt: the Hall did not make this decision, and a receipt it
	// signed would vouch for an evaluation that never happened here.
	return store.DecisionWrite{Summary: Summarize(&dec, source, d.BlastScore), Time: time.Time(dec.Timestamp), Decision: full}, nil
}

// Ingest records decisions made elsewhere, in one transaction; a failed
// write raises DECISION_WRITE_FAILED.
func (s *Service) Ingest(ctx context.Context, writes []store.DecisionWrite) (int, error) {
	n, err := s.st.RecordDecisions(ctx, writes)
	if err != nil {
		s.recordFailed(ctx, len(writes), err)
	}
	return n, err
}
