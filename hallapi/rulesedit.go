package hallapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"hallmonitor/core"
	"hallmonitor/hallapi/rulebook"
	"hallmonitor/hallapi/workers"
)

// HTTP adapter of the Rules screen (domain: hallapi/rulebook).

type rulesBody struct {
	Rules json.RawMessage `json:"rules"`
	Limit int             `json:"limit"`
}

// rulesResponse is GET /api/rules: the rules file as the editor sees it,
// with when the Hall last loaded it.
func (s *Server) rulesResponse(w http.ResponseWriter, d rulebook.Doc, status int) {
	var loadedAt any
	if at := s.rules.get().loadedAt; !at.IsZero() {
		loadedAt = at.UTC().Format(time.RFC3339)
	}
	shadowed := []string{}
	for _, sw := range d.Shadows {
		shadowed = append(shadowed, sw.ShadowedID)
	}
	w.Header().Set("ETag", d.ETag)
	writeJSON(w, status, map[string]any{"rules": d.Rules, "rules_hash": d.Hash, "path": d.Path, "loaded_at": loadedAt,
		"error": d.Error, "shadowed_rule_ids": shadowed, "shadow_warnings": d.Shadows, "etag": d.ETag})
}

func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	s.reloadRulesIfChanged(r.Context())
	s.rulesResponse(w, rulebook.Read(s.rules.path()), http.StatusOK)
}

// rulesError maps rulebook errors: a *ValidationError is 400 naming the
// first field (all of them in "errors"), ErrPrecondition 412.
func (s *Server) rulesError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *rulebook.ValidationError
	switch {
	case errors.As(err, &ve):
		f := ve.Errors[0]
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": APIError{Code: "invalid_field", Message: f.Field + ": " + f.Message, Field: f.Field},
			"errors": ve.Errors})
	case errors.Is(err, rulebook.ErrPrecondition):
		s.fail(w, r, errf(http.StatusPreconditionFailed, "precondition_failed", "If-Match", "%v", err))
	default:
		s.fail(w, r, err)
	}
}

// handlePutRules saves the edited rule list; If-Match must be the ETag of GET /api/rules.
func (s *Server) handlePutRules(w http.ResponseWriter, r *http.Request) {
	var body rulesBody
	if he := readJSON(w, r, rulebook.MaxFile, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	ifMatch := r.Header.Get("If-Match")
	if ifMatch == "" {
		s.fail(w, r, errf(http.StatusPreconditionRequired, "precondition_required", "If-Match", "If-Match is required: send the ETag of GET /api/rules so a concurrent edit is not overwritten"))
		return
	}
	d, err := s.rulebook.Save(s.rules.path(), ifMatch, body.Rules)
	if err != nil {
		s.rulesError(w, r, err)
		return
	}
	s.reloadRules(r.Context())
	s.rulesResponse(w, d, http.StatusOK)
}

// handlePreviewRules replays the last `limit` recorded requests through the
// rules in force and the edited rules (dry runs, nothing recorded).
func (s *Server) handlePreviewRules(w http.ResponseWriter, r *http.Request) {
	var body rulesBody
	if he := readJSON(w, r, rulebook.MaxFile, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	if body.Limit == 0 {
		body.Limit = rulebook.DefaultReplay
	}
	if body.Limit < 1 || body.Limit > rulebook.MaxReplay {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "limit", "limit must be 1 to %d (default %d)", rulebook.MaxReplay, rulebook.DefaultReplay))
		return
	}
	next, err := rulebook.Compile(body.Rules)
	if err != nil {
		s.rulesError(w, r, err)
		return
	}
	s.reloadRulesIfChanged(r.Context())
	cur := s.rules.get().set
	if cur == nil {
		cur, _ = core.CompileRules(nil)
	}
	recent, err := s.st.RecentInputs(r.Context(), body.Limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs := make([]rulebook.Recorded, len(recent))
	for i, x := range recent {
		recs[i] = rulebook.Recorded{DecisionID: x.DecisionID, Input: x.Input}
	}
	decide, err := s.replayDecider(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := rulebook.Replay(recs, decide, cur, next)
	writeJSON(w, http.StatusOK, map[string]any{"preview": p, "limit": body.Limit, "rules_hash": next.Hash(),
		"in_force_hash": cur.Hash(), "shadow_warnings": next.ShadowWarnings()})
}

// replayDecider decides like Route (same registry view, configuration and
// policy gate) without recording: the preview's engine.
func (s *Server) replayDecider(ctx context.Context) (rulebook.Decider, error) {
	ws, err := s.st.ListWorkers(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := s.st.ListMCPServers(ctx)
	if err != nil {
		return nil, err
	}
	ws = append(ws, mcpWorkers(ms)...)
	src := s.AttestationSource()
	view := workers.NewView(ws, src)
	cfg := core.DefaultHallConfig()
	if s.opts.Config.HallConfig != nil {
		cfg = *s.opts.Config.HallConfig
	}
	cfg.RequireWorkerAttestation = cfg.RequireWorkerAttestation || workers.AttestationRequired(ws)
	opts := core.Options{Config: &cfg, PolicyGate: s.opts.PolicyGate, Privilege: view, DryRun: true, Now: s.opts.Now, TaskID: "rules_preview"}
	if src != nil {
		opts.Attestation, opts.Attests = view, view.Attests
	}
	return func(in core.RouteInput, set *core.RuleSet) core.RouteDecision {
		return core.Decide(in, set, view, opts)
	}, nil
}
