package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"hallmonitor/hallapi/principal"

	"hallmonitor/hallapi/events"
)

// Dispatch outcomes.
const (
	DispatchSucceeded = "succeeded"
	DispatchFailed    = "failed"
	DispatchTimedOut  = "timed_out"
	DispatchCancelled = "cancelled"
)

// ValidDispatchOutcome reports whether o is a finish outcome.
func ValidDispatchOutcome(o string) bool {
	switch o {
	case DispatchSucceeded, DispatchFailed, DispatchTimedOut, DispatchCancelled:
		return true
	}
	return false
}

// Dispatch is the execution of an allowed decision (docs/api.md).
type Dispatch struct {
	DispatchID      string `json:"dispatch_id"`
	DecisionID      string `json:"decision_id"`
	CapabilityID    string `json:"capability_id"`
	TenantID        string `json:"tenant_id"`
	WorkerSpeciesID string `json:"worker_species_id"`
	WorkerID        string `json:"worker_id"`
	StartedAt       string `json:"started_at"`
	FinishedAt      string `json:"finished_at"`
	DurationMS      *int64 `json:"duration_ms"`
	Outcome         string `json:"outcome"`
	Error           string `json:"error"`
	ResultHash      string `json:"result_hash,omitempty"`
}

const dispatchCols = `dispatch_id, decision_id, capability_id, tenant_id, worker_species_id, worker_id, started_at,
	finished_at, duration_ms, outcome, error, result_hash, started_us`

func scanDispatchUS(sc scanner) (Dispatch, int64, error) {
	var d Dispatch
	var dur sql.NullInt64
	var us int64
	err := sc.Scan(&d.DispatchID, &d.DecisionID, &d.CapabilityID, &d.TenantID, &d.WorkerSpeciesID, &d.WorkerID,
		&d.StartedAt, &d.FinishedAt, &dur, &d.Outcome, &d.Error, &d.ResultHash, &us)
	if dur.Valid {
		v := dur.Int64
		d.DurationMS = &v
	}
	return d, us, err
}

func scanDispatch(sc scanner) (Dispatch, error) {
	d, _, err := scanDispatchUS(sc)
	return d, err
}

// NewID returns a random id with a prefix ("dsp_1f2e...").
func NewID(prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "_" + hex.EncodeToString(b)
}

// DispatchRefusedError explains why a decision cannot be dispatched.
type DispatchRefusedError struct{ Reason string }

func (e *DispatchRefusedError) Error() string { return e.Reason }

// StartDispatch starts executing an allowed, non-dry-run decision (or a
// pending one whose approval was approved) for an agent that reports the
// finish itself.
func (s *Store) StartDispatch(ctx context.Context, decisionID string) (Dispatch, error) {
	return s.StartDispatchBy(ctx, decisionID, "")
}

// StartDispatchBy is StartDispatch for a run by runner (the executor of a
// Hall process; see RecoverDispatches).
func (s *Store) StartDispatchBy(ctx context.Context, decisionID, runner string) (Dispatch, error) {
	var d Dispatch
	err := s.Write(ctx, func(t *Tx) error {
		var outcome, capID, tenant, worker, approvalID, source, agent string
		var dry int
		err := t.tx.QueryRow(`SELECT outcome, capability_id, tenant_id, selected_worker, dry_run, pending_approval_id, source, agent
			FROM decisions WHERE decision_id = ?`, decisionID).Scan(&outcome, &capID, &tenant, &worker, &dry, &approvalID, &source, &agent)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := mayRun(ctx, decisionID, source, agent); err != nil {
			return err
		}
		switch {
		case dry != 0:
			return &DispatchRefusedError{"decision " + decisionID + " is a dry run: route it again without dry_run to dispatch"}
		case outcome == OutcomeDenied:
			return &DispatchRefusedError{"decision " + decisionID + " was denied: a denied decision cannot be dispatched"}
		case outcome == OutcomePending:
			if err := t.useGrant(decisionID, approvalID); err != nil {
				return err
			}
		}
		if worker == "" {
			return &DispatchRefusedError{"decision " + decisionID + " selected no worker"}
		}
		// One decision authorises one run: a second start is refused while
		// the first runs or after it succeeded (a failed run may be retried).
		var prevID, prevOutcome string
		err = t.tx.QueryRow(`SELECT dispatch_id, outcome FROM dispatches WHERE decision_id = ? AND (finished_at = '' OR outcome = ?) LIMIT 1`,
			decisionID, DispatchSucceeded).Scan(&prevID, &prevOutcome)
		switch {
		case err == nil && prevOutcome == DispatchSucceeded:
			return &DispatchRefusedError{"decision " + decisionID + " was already dispatched (" + prevID + ", succeeded): route the request again for another run"}
		case err == nil:
			return &DispatchRefusedError{"decision " + decisionID + " is being dispatched (" + prevID + "): wait for it to finish"}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var workerID string
		err = t.tx.QueryRow(`SELECT worker_id FROM enrollments WHERE worker_species_id = ? ORDER BY enrolled_at LIMIT 1`, worker).Scan(&workerID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := t.now
		d = Dispatch{DispatchID: NewID("dsp"), DecisionID: decisionID, CapabilityID: capID, TenantID: tenant,
			WorkerSpeciesID: worker, WorkerID: workerID, StartedAt: formatTime(now)}
		if _, err := t.tx.Exec(`INSERT INTO dispatches(dispatch_id, decision_id, capability_id, tenant_id, worker_species_id, worker_id, started_at, started_us, runner, agent)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, d.DispatchID, decisionID, capID, tenant, worker, workerID, d.StartedAt, now.UnixMicro(), runner,
			principal.Label(ctx)); err != nil {
			return err
		}
		_, err = t.Emit(events.DispatchStarted, d)
		return err
	})
	return d, err
}

// ErrNotYours refuses an agent's run of a decision the Hall made for
// another principal.
var ErrNotYours = errors.New("decision belongs to another principal")

// mayRun refuses what no principal may run (an ingested decision: evidence
// of a call the Hall did not decide) and an agent's run of a decision made
// for someone else. The person may run any decision the Hall made; in-process
// work without a principal is the Hall's own.
func mayRun(ctx context.Context, decisionID, source, agent string) error {
	if source == SourceIngest {
		return &DispatchRefusedError{"decision " + decisionID + " was ingested: it is evidence of a call the Hall did not decide, and is never dispatched; route the request through POST /wcp/route"}
	}
	if !principal.Owns(ctx, agent) {
		p, _ := principal.From(ctx)
		return fmt.Errorf("%w: decision %s was made for %q, not for agent %q", ErrNotYours, decisionID, agent, p.Name)
	}
	return nil
}

// useGrant spends the grant of a held decision's approval: approved, before
// its expiry, once.
func (t *Tx) useGrant(decisionID, approvalID string) error {
	var status, usedAt string
	var expUS int64
	if err := t.tx.QueryRow(`SELECT status, used_at, expires_us FROM approvals WHERE approval_id = ?`, approvalID).Scan(&status, &usedAt, &expUS); err != nil {
		return err
	}
	switch {
	case status != ApprovalApproved:
		return &DispatchRefusedError{"decision " + decisionID + " waits for approval " + approvalID + " (status " + status + "): approve it first"}
	case usedAt != "":
		return &DispatchRefusedError{"the approval " + approvalID + " of decision " + decisionID + " granted one dispatch, used at " + usedAt + ": route the request again for another run"}
	case t.now.UnixMicro() >= expUS:
		return &DispatchRefusedError{"the approval " + approvalID + " of decision " + decisionID + " expired before the dispatch: route the request again"}
	}
	_, err := t.tx.Exec(`UPDATE approvals SET used_at = ? WHERE approval_id = ?`, formatTime(t.now), approvalID)
	return err
}

// RecoverDispatches finishes, as cancelled, every unfinished dispatch whose
// runner is not alive (a Hall process that was killed mid-run), and returns
// them. Dispatches run by agents (no runner) are left alone.
func (s *Store) RecoverDispatches(ctx context.Context, alive func(runner string) bool) ([]Dispatch, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT dispatch_id, runner FROM dispatches WHERE finished_at = '' AND runner != ''`)
	if err != nil {
		return nil, err
	}
	type orphan struct{ id, runner string }
	var list []orphan
	for rows.Next() {
		var o orphan
		if err := rows.Scan(&o.id, &o.runner); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Dispatch
	for _, o := range list {
		if alive(o.runner) {
			continue
		}
		d, err := s.FinishDispatch(ctx, o.id, DispatchCancelled, "the Hall process that ran it ("+o.runner+") ended before it finished", "")
		if errors.Is(err, ErrConflict) {
			continue // finished meanwhile
		}
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// FinishDispatch records the end of a dispatch; the duration is computed here.
// Finishing twice is a conflict.
func (s *Store) FinishDispatch(ctx context.Context, dispatchID, outcome, errText, resultHash string) (Dispatch, error) {
	if !ValidDispatchOutcome(outcome) {
		return Dispatch{}, fmt.Errorf("outcome %q is not one of succeeded, failed, timed_out, cancelled", outcome)
	}
	var d Dispatch
	err := s.Write(ctx, func(t *Tx) error {
		var us int64
		var err error
		d, us, err = scanDispatchUS(t.tx.QueryRow(`SELECT `+dispatchCols+` FROM dispatches WHERE dispatch_id = ?`, dispatchID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if p, ok := principal.From(ctx); ok && !p.IsPerson() {
			var agent string
			if err := t.tx.QueryRow(`SELECT agent FROM dispatches WHERE dispatch_id = ?`, dispatchID).Scan(&agent); err != nil {
				return err
			}
			if !principal.Owns(ctx, agent) {
				return fmt.Errorf("%w: dispatch %s was started by %q, not by agent %q", ErrNotYours, dispatchID, agent, p.Name)
			}
		}
		if d.FinishedAt != "" {
			return fmt.Errorf("%w: dispatch %s already finished (%s)", ErrConflict, dispatchID, d.Outcome)
		}
		dur := t.now.Sub(time.UnixMicro(us)).Milliseconds()
		if dur < 0 {
			dur = 0
		}
		d.FinishedAt, d.DurationMS, d.Outcome, d.Error, d.ResultHash = formatTime(t.now), &dur, outcome, errText, resultHash
		if _, err := t.tx.Exec(`UPDATE dispatches SET finished_at = ?, duration_ms = ?, outcome = ?, error = ?, result_hash = ? WHERE dispatch_id = ?`,
			d.FinishedAt, dur, outcome, errText, resultHash, dispatchID); err != nil {
			return err
		}
		_, err = t.Emit(events.DispatchFinished, d)
		return err
	})
	return d, err
}

// ActiveDispatches lists dispatches started and not finished, oldest first.
func (s *Store) ActiveDispatches(ctx context.Context) ([]Dispatch, error) {
	return s.listDispatches(ctx, `SELECT `+dispatchCols+` FROM dispatches WHERE finished_at = '' ORDER BY started_us`)
}

// ListDispatches returns one page of dispatches, newest first.
func (s *Store) ListDispatches(ctx context.Context, limit int, cur string) ([]Dispatch, string, error) {
	where := ""
	var args []any
	if cur != "" {
		b, err := hex.DecodeString(cur)
		if err != nil {
			return nil, "", ErrBadCursor
		}
		c, err := parseCursor(string(b))
		if err != nil {
			return nil, "", ErrBadCursor
		}
		where = ` WHERE started_us < ? OR (started_us = ? AND rowid < ?)`
		args = append(args, c.us, c.us, c.seq)
	}
	q := `SELECT ` + dispatchCols + `, rowid FROM dispatches` + where + ` ORDER BY started_us DESC, rowid DESC LIMIT ?`
	rows, err := s.r.QueryContext(ctx, q, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []Dispatch{}
	next := ""
	var last cursor
	for rows.Next() {
		var d Dispatch
		var dur sql.NullInt64
		var c cursor
		if err := rows.Scan(&d.DispatchID, &d.DecisionID, &d.CapabilityID, &d.TenantID, &d.WorkerSpeciesID, &d.WorkerID,
			&d.StartedAt, &d.FinishedAt, &dur, &d.Outcome, &d.Error, &d.ResultHash, &c.us, &c.seq); err != nil {
			return nil, "", err
		}
		if dur.Valid {
			v := dur.Int64
			d.DurationMS = &v
		}
		if len(out) == limit {
			next = hex.EncodeToString([]byte(last.String()))
			break
		}
		out = append(out, d)
		last = c
	}
	return out, next, rows.Err()
}

func (s *Store) listDispatches(ctx context.Context, q string, args ...any) ([]Dispatch, error) {
	return queryAll(ctx, s.r, scanDispatch, q, args...)
}
