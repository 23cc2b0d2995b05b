package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

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

func prefixField(he *httpError, prefix string) *httpError {
	if prefix == "" {
		return he
	}
	c := *he
	if c.Field != "" {
		c.Field = prefix + "." + c.Field
	} else {
		c.Field = prefix
	}
	c.Message = prefix + ": " + c.Message
	return &c
}

func (s *Server) parseIngest(raw json.RawMessage, field string) (store.DecisionWrite, *httpError) {
	var d ingestDecision
	if he := decodeStrict(raw, &d); he != nil {
		return store.DecisionWrite{}, prefixField(he, field)
	}
	dec := d.RouteDecision
	if dec.DecisionID == "" {
		dec.DecisionID = core.NewUUID()
	} else if he := validID("decision_id", dec.DecisionID); he != nil {
		return store.DecisionWrite{}, prefixField(he, field)
	}
	if time.Time(dec.Timestamp).IsZero() {
		if d.DecidedAt != "" {
			t, err := time.Parse(time.RFC3339Nano, d.DecidedAt)
			if err != nil {
				return store.DecisionWrite{}, prefixField(errf(http.StatusBadRequest, "invalid_field", "decided_at", "decided_at must be an RFC 3339 time"), field)
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
		return store.DecisionWrite{}, prefixField(errf(http.StatusBadRequest, "invalid_field", "blast_score", "blast_score must be from 0 to 100"), field)
	}
	source := store.SourceIngest
	switch d.Source {
	case "", store.SourceIngest:
	case store.SourceMCP:
		source = store.SourceMCP
	default:
		return store.DecisionWrite{}, prefixField(errf(http.StatusBadRequest, "invalid_field", "source", "source must be ingest or mcp"), field)
	}
	for name, v := range map[string]string{"capability_id": dec.CapabilityID, "tenant_id": dec.TenantID, "correlation_id": dec.CorrelationID,
		"matched_rule_id": dec.MatchedRuleID, "env": dec.Env, "data_label": dec.DataLabel} {
		if len(v) > 512 {
			return store.DecisionWrite{}, prefixField(errf(http.StatusBadRequest, "invalid_field", name, "%s must be at most 512 characters", name), field)
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
		return store.DecisionWrite{}, prefixField(errf(http.StatusBadRequest, "invalid_field", "", "decision cannot be encoded: %v", err), field)
	}
	// No Hall receipt: the Hall did not make this decision, and a receipt it
	// signed would vouch for an evaluation that never happened here.
	return store.DecisionWrite{Summary: summarize(&dec, source, d.BlastScore), Time: time.Time(dec.Timestamp), Decision: full}, nil
}

func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	b, he := readBody(w, r, maxBatchBody)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		s.fail(w, r, jsonError(err))
		return
	}
	var writes []store.DecisionWrite
	batch, isBatch := probe["decisions"]
	if isBatch {
		if len(probe) != 1 {
			for k := range probe {
				if k != "decisions" {
					s.fail(w, r, errf(http.StatusBadRequest, "unknown_field", k, "a batch is {\"decisions\":[...]} only: remove %q", k))
					return
				}
			}
		}
		var items []json.RawMessage
		if err := json.Unmarshal(batch, &items); err != nil {
			s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "decisions", "decisions must be an array of decision objects"))
			return
		}
		if len(items) == 0 || len(items) > maxIngestBatch {
			s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "decisions", "a batch holds 1 to %d decisions, not %d", maxIngestBatch, len(items)))
			return
		}
		writes = make([]store.DecisionWrite, 0, len(items))
		for i, it := range items {
			wr, he := s.parseIngest(it, fmt.Sprintf("decisions[%d]", i))
			if he != nil {
				s.fail(w, r, he)
				return
			}
			writes = append(writes, wr)
		}
	} else {
		if len(b) > maxBody {
			s.fail(w, r, errf(http.StatusRequestEntityTooLarge, "too_large", "", "a single decision is limited to %d bytes", maxBody))
			return
		}
		wr, he := s.parseIngest(b, "")
		if he != nil {
			s.fail(w, r, he)
			return
		}
		writes = append(writes, wr)
	}
	n, err := s.st.RecordDecisions(r.Context(), writes)
	if err != nil {
		s.recordFailed(r.Context(), len(writes), err)
		s.fail(w, r, err)
		return
	}
	ids := make([]string, len(writes))
	for i := range writes {
		ids[i] = writes[i].Summary.DecisionID
	}
	resp := map[string]any{"recorded": n, "decision_ids": ids}
	if !isBatch {
		resp["decision_id"] = ids[0] // reference /decisions/ingest key
	}
	writeJSON(w, http.StatusCreated, resp)
}
