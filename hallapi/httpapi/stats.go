package httpapi

import (
	"net/http"
	"time"
)

// handleDecisionStats: GET /api/stats/decisions?window=1h&day_start=RFC3339 (the Status screen's charts).
func (s *Server) handleDecisionStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	window := time.Hour
	if v := q.Get("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 24*time.Hour {
			WriteError(w, http.StatusBadRequest, "invalid_field", "window must be a duration from 1m to 24h, like 1h", "window")
			return
		}
		window = d
	}
	now := s.opts.Now()
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	if v := q.Get("day_start"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil || t.After(now) || now.Sub(t) > 48*time.Hour {
			WriteError(w, http.StatusBadRequest, "invalid_field", "day_start must be an RFC 3339 time in the last 48 hours (the start of your day)", "day_start")
			return
		}
		dayStart = t
	}
	st, err := s.st.DecisionStats(r.Context(), window, dayStart)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}
