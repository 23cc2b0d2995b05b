package hallapi

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hallmonitor/core"
	"hallmonitor/core/receipt"
	"hallmonitor/hallapi/store"
)

const maxIngestBatch = 1000

// ---- feed ----

func parseDecisionFilter(r *http.Request) (store.DecisionFilter, *httpError) {
	q := r.URL.Query()
	f := store.DecisionFilter{Outcome: q.Get("outcome"), Worker: q.Get("worker"), Capability: q.Get("capability"),
		Tenant: q.Get("tenant"), Q: q.Get("q"), Cursor: q.Get("cursor")}
	switch f.Outcome {
	case "", store.OutcomeAllowed, store.OutcomeDenied, store.OutcomePending:
	default:
		return f, errf(http.StatusBadRequest, "invalid_field", "outcome", "outcome must be allowed, denied or pending, not %s", quoteForMessage(f.Outcome))
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, errf(http.StatusBadRequest, "invalid_field", p.name, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %s", p.name, quoteForMessage(v))
			}
			*p.dst = t
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return f, errf(http.StatusBadRequest, "invalid_field", "to", "to must not be before from")
	}
	for name, v := range map[string]string{"q": f.Q, "worker": f.Worker, "capability": f.Capability, "tenant": f.Tenant} {
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
	writeJSON(w, http.StatusOK, map[string]any{"decisions": ds, "next_cursor": next})
}

func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("decision_id")
	if he := validID("decision_id", id); he != nil {
		s.fail(w, r, he)
		return
	}
	d, err := s.st.GetDecision(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, errf(http.StatusNotFound, "not_found", "decision_id", "no decision %s", quoteForMessage(id)))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"decision": d.Decision, "input": d.Input, "receipt": d.Receipt,
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

// ---- receipts ----

func (s *Server) signer() receipt.Signer {
	return receipt.Signer{KeyID: KeyID(s.key.Public().(ed25519.PublicKey)), Key: s.key}
}

// KeyID names a Hall receipt-signing key: "hall-ed25519-" + 16 hex of SHA-256(public key).
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "hall-ed25519-" + hex.EncodeToString(sum[:8])
}

// SigningPublicKey is the Hall's receipt verification key and its key id.
func (s *Server) SigningPublicKey() (keyID string, pub ed25519.PublicKey) {
	pub = s.key.Public().(ed25519.PublicKey)
	return KeyID(pub), pub
}

func (s *Server) receiptFunc(dec core.RouteDecision, packageHash *string) store.ReceiptFunc {
	sg := s.signer()
	// The decision hash does not depend on the chain: computed now, by the
	// request, not in the group commit's turn.
	dh, dhErr := receipt.DecisionHash(dec)
	return func(prevJSON json.RawMessage) ([]byte, string, error) {
		if dhErr != nil {
			return nil, "", dhErr
		}
		var prev *receipt.Receipt
		if prevJSON != nil {
			prev = new(receipt.Receipt)
			if err := json.Unmarshal(prevJSON, prev); err != nil {
				return nil, "", fmt.Errorf("previous receipt of tenant %q is corrupt: %w", dec.TenantID, err)
			}
		}
		rc, err := receipt.NewHashed(dec, dh, packageHash, prev, sg, store.NewID("rct"), s.opts.Now())
		if err != nil {
			return nil, "", err
		}
		b, err := json.Marshal(rc)
		return b, rc.ReceiptHash, err
	}
}

func summarize(dec *core.RouteDecision, source string, blast *int) store.DecisionSummary {
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
func (s *Server) recordFailed(ctx context.Context, n int, err error) {
	s.log.Error("decision write failed", "decisions", n, "err", err)
	if _, aerr := s.st.RaiseAlert(context.WithoutCancel(ctx), store.AlertInput{Type: store.AlertDecisionWriteFailed,
		Severity: store.SeverityCritical, Title: "Decisions could not be recorded",
		Body: fmt.Sprintf("%d decision(s) could not be written to the Hall database: %v. Check disk space and the Hall log.", n, err)}); aerr != nil {
		s.log.Error("raise alert failed", "err", aerr)
	}
}

// ---- route ----

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

type routeBody struct {
	Input  json.RawMessage `json:"input"`
	DryRun bool            `json:"dry_run"`
}

// RouteResult is the answer of POST /wcp/route.
type RouteResult struct {
	Decision core.RouteDecision `json:"decision"`
	Receipt  json.RawMessage    `json:"receipt"`
}

// Route decides a request with core.Decide and records the decision, its
// receipt, its approval (when a human is required) and the event in one
// transaction. It is the Hall's one route-and-record path: POST /wcp/route
// and `hallmonitor mcp` both call it. The registry is the shared snapshot
// (workers.Registry, rebuilt on change, not per decision) of the view of the
// enrolled workers (banned ones unavailable, tampered ones available so that
// the attestation step answers DENY_WORKER_TAMPERED) and of the connected MCP
// servers whose last ping answered (wrk.mcp.<name>, see mcpWorkers); a selected worker with
// a package is attested with the hashes of the attestation source
// (SetAttestationSource), and the receipt records its current package hash.
// source is "route" or "mcp". Input errors are *APIError values.
func (s *Server) Route(ctx context.Context, inputJSON []byte, dryRun bool, source string) (RouteResult, error) {
	in, verrs := core.ParseRouteInput(inputJSON)
	if len(verrs) > 0 {
		e := verrs[0]
		field := "input"
		if len(e.Loc) > 0 {
			field += "." + strings.Join(e.Loc, ".")
		}
		return RouteResult{}, errf(http.StatusBadRequest, "invalid_field", field, "%s", e.Msg)
	}
	// The shared registry view (enrolled workers and connected MCP servers).
	snap, err := s.registry.Snapshot(ctx)
	if err != nil {
		return RouteResult{}, err
	}
	view, src := snap.View, snap.Source
	cfg := core.DefaultHallConfig()
	if s.opts.Config.HallConfig != nil {
		cfg = *s.opts.Config.HallConfig
	}
	// The Hall runs worker packages, so it attests them once any enrolled
	// worker runs from one (workers without a package are not checked:
	// View.Attests); without a source that is DENY_ATTESTATION_UNCONFIGURED.
	cfg.RequireWorkerAttestation = cfg.RequireWorkerAttestation || snap.AttestationRequired
	rs := s.rules.get()
	set := rs.set
	if set == nil {
		if set, err = core.CompileRules(nil); err != nil {
			return RouteResult{}, err
		}
	}
	opts := core.Options{Config: &cfg, PolicyGate: s.opts.PolicyGate, Privilege: view, DryRun: dryRun, Now: s.opts.Now,
		TaskID: "hall_route"}
	if source == store.SourceMCP {
		opts.TaskID = "mcp_tools_call"
	}
	if src != nil {
		opts.Attestation, opts.Attests = view, view.Attests
	}
	dec := core.Decide(in, set, view, opts)
	var packageHash *string
	if dec.SelectedWorkerSpeciesID != nil && src != nil {
		if h, ok := src.CurrentHash(*dec.SelectedWorkerSpeciesID); ok && core.IsSHA256Hex(h) {
			packageHash = &h
		}
	}
	blast := int(core.BlastScore(&in))
	sm := summarize(&dec, source, &blast)
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
		RulesHash: rs.hash, Receipt: s.receiptFunc(dec, packageHash)}
	if dec.SupervisorRequired && dec.PendingApprovalID != nil && !dec.DryRun {
		a := &store.Approval{ApprovalID: *dec.PendingApprovalID, CapabilityID: dec.CapabilityID, TenantID: dec.TenantID,
			MatchedRuleID: dec.MatchedRuleID, Reason: "policy gate requires a human"}
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
	res, err := s.Route(r.Context(), body.Input, body.DryRun, store.SourceRoute)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
