package decide

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"hallmonitor/hallapi/apierr"

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

// RunDecision executes a recorded decision that may run: allowed and not a
// dry run, or held for a human and since approved. The worker receives the
// stored request (the input as recorded, tenant credential redacted).
// Errors are *apierr.Error values for the caller's mistakes.
func (s *Service) RunDecision(ctx context.Context, decisionID string) (workers.Run, error) {
	d := s.dispatcher()
	if d == nil {
		return workers.Run{}, apierr.New(apierr.Unavailable, "",
			"this Hall runs no workers (no executor is configured): start it with `hallmonitor serve` or the window")
	}
	det, err := s.st.GetDecision(ctx, decisionID)
	if errors.Is(err, store.ErrNotFound) {
		return workers.Run{}, apierr.New(apierr.NotFound, "decision_id", "no decision %s", apierr.Quote(decisionID))
	}
	if err != nil {
		return workers.Run{}, err
	}
	if det.Summary.Source == store.SourceIngest {
		return workers.Run{}, apierr.New(apierr.Conflict, "decision_id", "decision %s was ingested: it is evidence of a call the Hall did not decide, and is never run; route the request through POST /wcp/route", apierr.Quote(decisionID))
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
				return workers.Run{}, apierr.New(apierr.Conflict, "decision_id",
					"worker %s was banned by the registry after decision %s (%s): it is not run", w.WorkerID, decisionID, w.Registry.BanReason)
			}
		}
	}
	run, err := d.Dispatch(ctx, job)
	var refused *store.DispatchRefusedError
	switch {
	case errors.As(err, &refused):
		return run, apierr.New(apierr.Conflict, "decision_id", "%s", refused.Reason)
	case errors.Is(err, store.ErrNotYours):
		return run, apierr.New(apierr.Forbidden, "decision_id", "%v: an agent runs only the decisions the Hall made for it", err)
	case errors.Is(err, store.ErrNotFound):
		return run, apierr.New(apierr.NotFound, "decision_id", "no decision %s", apierr.Quote(decisionID))
	}
	return run, err
}
