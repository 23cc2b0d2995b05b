package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"hallmonitor/core"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

// Dispatcher runs an allowed decision's worker (the *workers.Executor): it
// records the dispatch start, runs the package and records the finish. A
// worker failure is the run's outcome, not an error; errors are
// *store.DispatchRefusedError, store.ErrNotFound or a failure to record.
type Dispatcher interface {
	Dispatch(ctx context.Context, job workers.Job) (workers.Run, error)
}

func (s *Server) dispatcher() Dispatcher {
	if p := s.disp.Load(); p != nil {
		return *p
	}
	return nil
}

// RunDecision executes a recorded decision that may run: allowed and not a
// dry run, or held for a human and since approved. The worker receives the
// stored request (the input as recorded, tenant credential redacted).
// Errors are *APIError values for the caller's mistakes.
func (s *Server) RunDecision(ctx context.Context, decisionID string) (workers.Run, error) {
	d := s.dispatcher()
	if d == nil {
		return workers.Run{}, errf(http.StatusServiceUnavailable, "unavailable", "",
			"this Hall runs no workers (no executor is configured): start it with `hallmonitor serve` or the window")
	}
	det, err := s.st.GetDecision(ctx, decisionID)
	if errors.Is(err, store.ErrNotFound) {
		return workers.Run{}, errf(http.StatusNotFound, "not_found", "decision_id", "no decision %s", quoteForMessage(decisionID))
	}
	if err != nil {
		return workers.Run{}, err
	}
	var in core.RouteInput
	if err := json.Unmarshal(det.Input, &in); err != nil {
		return workers.Run{}, fmt.Errorf("stored input of %s is unreadable: %w", decisionID, err)
	}
	job := workers.Job{DecisionID: decisionID, CorrelationID: in.CorrelationID, Request: in.Request}
	if det.Receipt != nil {
		var rc struct {
			PackageHash *string `json:"package_hash"`
		}
		if err := json.Unmarshal(det.Receipt, &rc); err != nil {
			return workers.Run{}, fmt.Errorf("receipt of %s is unreadable: %w", decisionID, err)
		}
		if rc.PackageHash != nil {
			job.PackageHash = *rc.PackageHash
		}
	}
	// A ban that arrived after the decision still stops the run.
	if sp := det.Summary.SelectedWorkerSpeciesID; sp != "" {
		ws, err := s.st.ListWorkers(ctx)
		if err != nil {
			return workers.Run{}, err
		}
		for _, w := range ws {
			if w.WorkerSpeciesID == sp && w.Registry.Banned {
				return workers.Run{}, errf(http.StatusConflict, "conflict", "decision_id",
					"worker %s was banned by the registry after decision %s (%s): it is not run", w.WorkerID, decisionID, w.Registry.BanReason)
			}
		}
	}
	run, err := d.Dispatch(ctx, job)
	var refused *store.DispatchRefusedError
	switch {
	case errors.As(err, &refused):
		return run, errf(http.StatusConflict, "conflict", "decision_id", "%s", refused.Reason)
	case errors.Is(err, store.ErrNotFound):
		return run, errf(http.StatusNotFound, "not_found", "decision_id", "no decision %s", quoteForMessage(decisionID))
	}
	return run, err
}

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
	run, err := s.RunDecision(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}
