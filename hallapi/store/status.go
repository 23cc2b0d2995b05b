package store

import (
	"context"
	"time"
)

// Counts are the numbers on the status screen.
type Counts struct {
	Workers          int `json:"workers"`
	DecisionsToday   int `json:"decisions_today"`
	DenialsToday     int `json:"denials_today"`
	ActiveDispatches int `json:"active_dispatches"`
	OpenAlerts       int `json:"open_alerts"`
	PendingApprovals int `json:"pending_approvals"`
}

// Counts computes the status counts; "today" starts at midnight in loc.
func (s *Store) Counts(ctx context.Context, loc *time.Location) (Counts, error) {
	if loc == nil {
		loc = time.Local
	}
	n := s.Now().In(loc)
	midnight := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc).UnixMicro()
	var c Counts
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM enrollments),
		(SELECT count(*) FROM decisions WHERE ts_us >= ?),
		(SELECT count(*) FROM decisions WHERE outcome = 'denied' AND ts_us >= ?),
		(SELECT count(*) FROM dispatches WHERE finished_at = ''),
		(SELECT count(*) FROM alerts WHERE acknowledged = 0),
		(SELECT count(*) FROM approvals WHERE status = 'pending')`, midnight, midnight).
		Scan(&c.Workers, &c.DecisionsToday, &c.DenialsToday, &c.ActiveDispatches, &c.OpenAlerts, &c.PendingApprovals)
	return c, err
}
