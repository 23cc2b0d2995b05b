package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"hallmonitor/hallapi/store"
)

const maxIngestBatch = 1000

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
			wr, he := s.dec.ParseIngest(it, fmt.Sprintf("decisions[%d]", i))
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
		wr, he := s.dec.ParseIngest(b, "")
		if he != nil {
			s.fail(w, r, he)
			return
		}
		writes = append(writes, wr)
	}
	n, err := s.dec.Ingest(r.Context(), writes)
	if err != nil {
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
	WriteJSON(w, http.StatusCreated, resp)
}
