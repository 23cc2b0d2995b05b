package decide

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/principal"

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
	if he := ingestShape(raw); he != nil {
		return store.DecisionWrite{}, apierr.Prefix(he, field)
	}
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
	if ts := time.Time(dec.Timestamp); ts.After(s.opts.Now().Add(maxIngestSkew)) || ts.Before(minIngestTime) {
		return store.DecisionWrite{}, apierr.Prefix(apierr.New(apierr.InvalidField, "timestamp",
			"timestamp %s is not when a decision could have been made: it must be after 2000-01-01 and at most 5 minutes ahead of the Hall's clock",
			dec.Timestamp.String()), field)
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
	// The Hall says where a decision came from: whatever arrives here was
	// decided elsewhere, so it is evidence ("ingest"), never "route" or
	// "mcp", which only the Hall's own decisions are.
	if d.Source != "" && d.Source != store.SourceIngest {
		return store.DecisionWrite{}, apierr.Prefix(apierr.New(apierr.InvalidField, "source",
			"source is set by the Hall: an ingested decision is always \"ingest\" (evidence the Hall did not decide); remove source"), field)
	}
	source := store.SourceIngest
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
	sm := Summarize(&dec, source, d.BlastScore)
	// Evidence only: an ingested decision is never held for a person, so it
	// names no approval of this Hall's.
	sm.PendingApprovalID = ""
	return store.DecisionWrite{Summary: sm, Time: time.Time(dec.Timestamp), Decision: full}, nil
}

const maxIngestSkew = 5 * time.Minute

var minIngestTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ingestShape refuses what is not a decision before it is decoded: null, a
// non-object, and an object without capability_id or denied.
func ingestShape(raw json.RawMessage) *apierr.Error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil || probe == nil {
		return apierr.New(apierr.InvalidField, "", "a decision must be a JSON object with at least capability_id and denied")
	}
	for _, k := range []string{"capability_id", "denied"} {
		if v, ok := probe[k]; !ok || string(v) == "null" || string(v) == `""` {
			return apierr.New(apierr.MissingField, k, "%s is required: an ingested decision names its capability_id and whether it was denied", k)
		}
	}
	return nil
}

// Ingest records decisions made elsewhere, in one transaction, as evidence
// of ctx's principal; a decision id already stored with other content is a
// conflict (the batch is refused whole), the same one again is skipped. A
// failed write raises DECISION_WRITE_FAILED.
func (s *Service) Ingest(ctx context.Context, writes []store.DecisionWrite) (int, error) {
	by := principal.Label(ctx)
	for i := range writes {
		writes[i].Summary.Agent = by
	}
	n, err := s.st.RecordDecisions(ctx, writes)
	var dup *store.DuplicateError
	switch {
	case errors.As(err, &dup):
		field := "decision_id"
		if len(writes) > 1 {
			field = fmt.Sprintf("decisions[%d].decision_id", dup.Index)
		}
		return 0, apierr.New(apierr.Conflict, field, "%v", dup)
	case err != nil:
		s.recordFailed(ctx, len(writes), err)
	}
	return n, err
}
