package store

import (
	"context"
	"database/sql"
	"errors"

	"hallmonitor/hallapi/events"
)

// Alert types and severities.
const (
	AlertWorkerTampered      = "WORKER_TAMPERED"
	AlertDecisionWriteFailed = "DECISION_WRITE_FAILED"
	AlertBlastRadiusExceeded = "BLAST_RADIUS_EXCEEDED"
	AlertApprovalExpired     = "APPROVAL_EXPIRED"
	AlertRegistryBanned      = "REGISTRY_BANNED"
	AlertWorkerFailure       = "WORKER_FAILURE"
	AlertRegistryUnreachable = "REGISTRY_UNREACHABLE"
	SeverityCritical         = "critical"
	SeverityError            = "error"
	SeverityWarning          = "warning"
	SeverityInfo             = "info"
)

// ValidSeverity reports whether s is an alert severity.
func ValidSeverity(s string) bool {
	switch s {
	case SeverityCritical, SeverityError, SeverityWarning, SeverityInfo:
		return true
	}
	return false
}

// Alert is something a person should look at (docs/api.md).
type Alert struct {
	AlertID        string `json:"alert_id"`
	Type           string `json:"type"`
	Severity       string `json:"severity"`
	Title          string `json:"title"`
	Body           string `json:"body"`
	WorkerID       string `json:"worker_id"`
	DecisionID     string `json:"decision_id"`
	CreatedAt      string `json:"created_at"`
	LastEventAt    string `json:"last_event_at"`
	Count          int    `json:"count"`
	Acknowledged   bool   `json:"acknowledged"`
	AcknowledgedAt string `json:"acknowledged_at"`
}

// AlertInput describes an alert to raise.
type AlertInput struct {
	Type, Severity, Title, Body, WorkerID, DecisionID string
}

const alertCols = `alert_id, type, severity, title, body, worker_id, decision_id, created_at, last_event_at, count, acknowledged, acknowledged_at`

func scanAlert(sc scanner) (Alert, error) {
	var a Alert
	var ack int
	err := sc.Scan(&a.AlertID, &a.Type, &a.Severity, &a.Title, &a.Body, &a.WorkerID, &a.DecisionID, &a.CreatedAt,
		&a.LastEventAt, &a.Count, &ack, &a.AcknowledgedAt)
	a.Acknowledged = ack != 0
	return a, err
}

// RaiseAlert records an alert (with an alert.raised event). An open alert of
// the same type, worker and decision is bumped (count, last_event_at) instead
// of duplicated.
func (s *Store) RaiseAlert(ctx context.Context, in AlertInput) (Alert, error) {
	var a Alert
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		a, err = t.RaiseAlert(in)
		return err
	})
	return a, err
}

// RaiseAlert raises an alert inside a transaction (see Store.RaiseAlert).
func (t *Tx) RaiseAlert(in AlertInput) (Alert, error) {
	if !ValidSeverity(in.Severity) {
		in.Severity = SeverityError
	}
	now := formatTime(t.now)
	a, err := scanAlert(t.tx.QueryRow(`SELECT `+alertCols+` FROM alerts WHERE acknowledged = 0 AND type = ? AND worker_id = ? AND decision_id = ?`,
		in.Type, in.WorkerID, in.DecisionID))
	switch {
	case err == nil:
		a.Count++
		a.LastEventAt, a.Title, a.Body, a.Severity = now, in.Title, in.Body, in.Severity
		if _, err := t.tx.Exec(`UPDATE alerts SET count = ?, last_event_at = ?, title = ?, body = ?, severity = ? WHERE alert_id = ?`,
			a.Count, a.LastEventAt, a.Title, a.Body, a.Severity, a.AlertID); err != nil {
			return Alert{}, err
		}
	case errors.Is(err, sql.ErrNoRows):
		a = Alert{AlertID: NewID("alr"), Type: in.Type, Severity: in.Severity, Title: in.Title, Body: in.Body,
			WorkerID: in.WorkerID, DecisionID: in.DecisionID, CreatedAt: now, LastEventAt: now, Count: 1}
		if _, err := t.tx.Exec(`INSERT INTO alerts(alert_id, type, severity, title, body, worker_id, decision_id, created_at, last_event_at)
			VALUES (?,?,?,?,?,?,?,?,?)`, a.AlertID, a.Type, a.Severity, a.Title, a.Body, a.WorkerID, a.DecisionID, now, now); err != nil {
			return Alert{}, err
		}
	default:
		return Alert{}, err
	}
	_, err = t.Emit(events.AlertRaised, a)
	return a, err
}

// AcknowledgeAlert marks an alert acknowledged (persisted). Acknowledging
// twice returns the alert unchanged.
func (s *Store) AcknowledgeAlert(ctx context.Context, id string) (Alert, error) {
	var a Alert
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		a, err = scanAlert(t.tx.QueryRow(`SELECT `+alertCols+` FROM alerts WHERE alert_id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || a.Acknowledged {
			return err
		}
		a.Acknowledged, a.AcknowledgedAt = true, formatTime(t.now)
		if _, err := t.tx.Exec(`UPDATE alerts SET acknowledged = 1, acknowledged_at = ? WHERE alert_id = ?`, a.AcknowledgedAt, id); err != nil {
			return err
		}
		_, err = t.Emit(events.AlertAcknowledged, a)
		return err
	})
	return a, err
}

// AlertFilter selects alerts; Acknowledged nil means both.
type AlertFilter struct {
	Severity     string
	Acknowledged *bool
	Limit        int
}

// ListAlerts lists alerts newest first.
func (s *Store) ListAlerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	q := `SELECT ` + alertCols + ` FROM alerts WHERE 1=1`
	var args []any
	if f.Severity != "" {
		q += ` AND severity = ?`
		args = append(args, f.Severity)
	}
	if f.Acknowledged != nil {
		q += ` AND acknowledged = ?`
		args = append(args, boolInt(*f.Acknowledged))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	return queryAll(ctx, s.r, scanAlert, q+` ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)...)
}
