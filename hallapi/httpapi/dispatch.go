package httpapi

import (
	"net/http"
)

// readDecisionID reads a {decision_id} body; false means the error was
// written.
func (s *Server) readDecisionID(w http.ResponseWriter, r *http.Request) (string, bool) {
	var body struct {
		DecisionID string `json:"decision_id"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return "", false
	}
	if body.DecisionID == "" {
		s.fail(w, r, errf(http.StatusBadRequest, "missing_field", "decision_id", "decision_id is required: the id of an allowed decision from POST /wcp/route"))
		return "", false
	}
	if he := validID("decision_id", body.DecisionID); he != nil {
		s.fail(w, r, he)
		return "", false
	}
	return body.DecisionID, true
}

// handleRunDispatch is POST /wcp/dispatch {decision_id}: run the selected
// worker of a decision and answer with the finished dispatch and the
// worker's output.
func (s *Server) handleRunDispatch(w http.ResponseWriter, r *http.Request) {
	id, ok := s.readDecisionID(w, r)
	if !ok {
		return
	}
	run, err := s.dec.RunDecision(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, run)
}
