package httpapi

import "net/http"

// handleAgents is GET /api/agents.
func (s *Server) handleAgents(w http.ResponseWriter, r *http.Request) {
	as, err := s.agents.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"agents": as})
}

// handleCreateAgent is POST /api/agents {name}: the token is in this answer
// only.
func (s *Server) handleCreateAgent(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	a, tok, err := s.agents.Create(r.Context(), body.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]any{"agent": a, "token": tok})
}

// handleRotateAgent is POST /api/agents/{agent_id}/rotate.
func (s *Server) handleRotateAgent(w http.ResponseWriter, r *http.Request) {
	if he := emptyBody(w, r); he != nil {
		s.fail(w, r, he)
		return
	}
	a, tok, err := s.agents.Rotate(r.Context(), r.PathValue("agent_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"agent": a, "token": tok})
}

// handleRevokeAgent is DELETE /api/agents/{agent_id}.
func (s *Server) handleRevokeAgent(w http.ResponseWriter, r *http.Request) {
	a, err := s.agents.Revoke(r.Context(), r.PathValue("agent_id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"agent": a})
}
