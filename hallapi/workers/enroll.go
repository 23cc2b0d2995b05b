package workers

import (
	"context"

	"hallmonitor/hallapi/store"
)

// EnrollStore is the store part enrollment needs (*store.Store).
type EnrollStore interface {
	UpsertWorker(ctx context.Context, w store.Worker) (store.Worker, bool, error)
}

// Enrolled is a stored enrollment.
type Enrolled struct {
	Worker     store.Worker
	Created    bool
	Validation *Validation
}

// Enroll validates the request with ValidateRecord and upserts the worker;
// a failing check refuses it with a *RefusedError (nothing is stored), an
// unusable record with a *RecordError.
func Enroll(ctx context.Context, st EnrollStore, req EnrollRequest) (Enrolled, error) {
	v, err := ValidateRecord(ctx, req)
	if err != nil {
		return Enrolled{}, err
	}
	if !v.Valid() {
		return Enrolled{Validation: v}, &RefusedError{Validation: v}
	}
	w, created, err := st.UpsertWorker(ctx, v.Worker)
	if err != nil {
		return Enrolled{Validation: v}, err
	}
	return Enrolled{Worker: w, Created: created, Validation: v}, nil
}
