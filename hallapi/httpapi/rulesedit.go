package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"hallmonitor/core"
	"hallmonitor/hallapi/rulebook"
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
	if at := s.dec.Rules().LoadedAt; !at.IsZero() {
		loadedAt = at.UTC().Format(time.RFC3339)
	}
	shadowed := []string{}
	for _, sw := range d.Shadows {
		shadowed = append(shadowed, sw.ShadowedID)
	}
	w.Header().Set("ETag", d.ETag)
	WriteJSON(w, status, map[string]any{"rules": d.Rules, "rules_hash": d.Hash, "path": d.Path, "loaded_at": loadedAt,
		"error": d.Error, "shadowed_rule_ids": shadowed, "shadow_warnings": d.Shadows, "etag": d.ETag})
}

func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	s.dec.ReloadRulesIfChanged(r.Context())
	s.rulesResponse(w, rulebook.Read(s.dec.Rules().Path), http.StatusOK)
}

// rulesError maps rulebook errors: a *ValidationError is 400 naming the
// first field (all of them in "errors"), ErrPrecondition 412.
func (s *Server) rulesError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *rulebook.ValidationError
	switch {
	case errors.As(err, &ve):
		f := ve.Errors[0]
		WriteJSON(w, http.StatusBadRequest, map[string]any{"error": APIError{Code: "invalid_field", Message: f.Field + ": " + f.Message, Field: f.Field},
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
	d, err := s.rulebook.Save(s.dec.Rules().Path, ifMatch, body.Rules)
	if err != nil {
		s.rulesError(w, r, err)
		return
	}
	s.dec.ReloadRules(r.Context())
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
	s.dec.ReloadRulesIfChanged(r.Context())
	cur := s.dec.Rules().Set
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
	decide, err := s.dec.Replayer(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := rulebook.Replay(recs, rulebook.Decider(decide), cur, next)
	WriteJSON(w, http.StatusOK, map[string]any{"preview": p, "limit": body.Limit, "rules_hash": next.Hash(),
		"in_force_hash": cur.Hash(), "shadow_warnings": next.ShadowWarnings()})
}
