package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
)

// ---- feed ----

func parseDecisionFilter(r *http.Request) (store.DecisionFilter, *httpError) {
	q := r.URL.Query()
	f := store.DecisionFilter{Outcome: q.Get("outcome"), Worker: q.Get("worker"), Capability: q.Get("capability"),
		Tenant: q.Get("tenant"), Agent: q.Get("agent"), Q: q.Get("q"), Cursor: q.Get("cursor")}
	// An agent reads its own decisions only.
	if p, ok := principal.From(r.Context()); ok && !p.IsPerson() {
		if f.Agent != "" && f.Agent != p.Label() {
			return f, errf(http.StatusForbidden, "forbidden_scope", "agent", "agent %s reads its own decisions only", apierr.Quote(p.Name))
		}
		f.Agent = p.Label()
	}
	switch f.Outcome {
	case "", store.OutcomeAllowed, store.OutcomeDenied, store.OutcomePending:
	default:
		return f, errf(http.StatusBadRequest, "invalid_field", "outcome", "outcome must be allowed, denied or pending, not %s", apierr.Quote(f.Outcome))
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, errf(http.StatusBadRequest, "invalid_field", p.name, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %s", p.name, apierr.Quote(v))
			}
			*p.dst = t
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return f, errf(http.StatusBadRequest, "invalid_field", "to", "to must not be before from")
	}
	for name, v := range map[string]string{"q": f.Q, "worker": f.Worker, "capability": f.Capability, "tenant": f.Tenant, "agent": f.Agent} {
		if len(v) > 200 {
			return f, errf(http.StatusBadRequest, "invalid_field", name, "%s must be at most 200 characters", name)
		}
	}
	var he *httpError
	f.Limit, he = intParam(r, "limit", 100, 1, 500)
	return f, he
}

func (s *Server) handleDecisions(w http.ResponseWriter, r *http.Request) {
	f, he := parseDecisionFilter(r)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	ds, next, err := s.st.QueryDecisions(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "cursor", "%v", err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"decisions": ds, "next_cursor": next})
}

func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("decision_id")
	if he := validID("decision_id", id); he != nil {
		s.fail(w, r, he)
		return
	}
	d, err := s.st.GetDecision(r.Context(), id)
	if err == nil && !principal.Owns(r.Context(), d.Summary.Agent) {
		err = store.ErrNotFound // another principal's decision: as if it did not exist
	}
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, errf(http.StatusNotFound, "not_found", "decision_id", "no decision %s", apierr.Quote(id)))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"decision": d.Decision, "input": d.Input, "receipt": d.Receipt,
		"dispatch": d.Dispatch, "approval": d.Approval, "summary": d.Summary, "rules_hash": d.RulesHash})
}

var csvColumns = []string{"decision_id", "timestamp", "outcome", "deny_code", "deny_message", "capability_id", "tenant_id",
	"env", "data_label", "correlation_id", "matched_rule_id", "selected_worker_species_id", "blast_score",
	"supervisor_required", "pending_approval_id", "dry_run", "source"}

// csvSafe neutralises spreadsheet formulas in exported cells.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	f, he := parseDecisionFilter(r)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "csv" {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "format", "format must be jsonl or csv"))
		return
	}
	name := "hall-decisions-" + s.opts.Now().UTC().Format("20060102-150405") + "." + format
	h := w.Header()
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	var err error
	if format == "jsonl" {
		h.Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		err = s.st.EachDecision(r.Context(), f, func(d store.DecisionSummary, full, rc json.RawMessage) error {
			// The receipt makes the export verifiable offline
			// (hallmonitor verify --receipts --jsonl FILE); null when
			// the Hall signed none (ingested decisions).
			if rc == nil {
				rc = json.RawMessage("null")
			}
			return enc.Encode(struct {
				store.DecisionSummary
				Decision json.RawMessage `json:"decision"`
				Receipt  json.RawMessage `json:"receipt"`
			}{d, full, rc})
		})
	} else {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		cw := csv.NewWriter(w)
		if err = cw.Write(csvColumns); err == nil {
			err = s.st.EachDecision(r.Context(), f, func(d store.DecisionSummary, _, _ json.RawMessage) error {
				blast := ""
				if d.BlastScore != nil {
					blast = strconv.Itoa(*d.BlastScore)
				}
				row := []string{d.DecisionID, d.Timestamp, d.Outcome, d.DenyCode, d.DenyMessage, d.CapabilityID, d.TenantID,
					d.Env, d.DataLabel, d.CorrelationID, d.MatchedRuleID, d.SelectedWorkerSpeciesID, blast,
					strconv.FormatBool(d.SupervisorRequired), d.PendingApprovalID, strconv.FormatBool(d.DryRun), d.Source}
				for i := range row {
					row[i] = csvSafe(row[i])
				}
				return cw.Write(row)
			})
		}
		cw.Flush()
	}
	if err != nil {
		// Headers are sent; the truncated download is the only signal left.
		s.log.Error("export failed", "err", err)
	}
}

type routeBody struct {
	Input  json.RawMessage `json:"input"`
	DryRun bool            `json:"dry_run"`
}

func (s *Server) handleRoute(w http.ResponseWriter, r *http.Request) {
	var body routeBody
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	if len(body.Input) == 0 || string(body.Input) == "null" {
		s.fail(w, r, errf(http.StatusBadRequest, "missing_field", "input", "input is required: a RouteInput object (capability_id, env, data_label, tenant_risk, qos_class, tenant_id, correlation_id)"))
		return
	}
	res, err := s.dec.Route(r.Context(), body.Input, body.DryRun, store.SourceRoute)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}
