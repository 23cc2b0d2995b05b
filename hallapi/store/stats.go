package store

import (
	"context"
	"time"
)

// DecisionStats is what the Status screen draws: decisions per minute by outcome over a window, and the
// most frequent deny codes and capabilities since the start of the day.
type DecisionStats struct {
	WindowStart string         `json:"window_start"` // the first minute of PerMinute (RFC 3339, UTC)
	DayStart    string         `json:"day_start"`
	PerMinute   []MinuteCounts `json:"per_minute"` // one entry per minute of the window, oldest first, zeros included
	TopDeny     []NameCount    `json:"top_deny_codes"`
	TopCaps     []NameCount    `json:"top_capabilities"`
	DayTotal    int            `json:"day_total"`
}

// MinuteCounts is the number of decisions of one minute by outcome.
type MinuteCounts struct {
	Minute  int64 `json:"minute"` // Unix seconds of the minute's start
	Allowed int   `json:"allowed"`
	Denied  int   `json:"denied"`
	Pending int   `json:"pending"`
}

// NameCount is one bar of a top list.
type NameCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// StatsTop is how many entries each top list has at most.
const StatsTop = 6

// DecisionStats counts the decisions of the last window (whole minutes, ending with the current one) and
// of the day that started at dayStart. Every query reads a time range of the decisions_time or
// decisions_outcome index; no decision row is sent to the caller.
func (s *Store) DecisionStats(ctx context.Context, window time.Duration, dayStart time.Time) (DecisionStats, error) {
	now := s.Now()
	minutes := int64(window / time.Minute)
	if minutes < 1 {
		minutes = 1
	}
	cur := now.Unix() / 60
	first := cur - minutes + 1
	out := DecisionStats{WindowStart: formatTime(time.Unix(first*60, 0)), DayStart: formatTime(dayStart),
		PerMinute: make([]MinuteCounts, minutes)}
	for i := range out.PerMinute {
		out.PerMinute[i].Minute = (first + int64(i)) * 60
	}
	rows, err := s.r.QueryContext(ctx, `SELECT ts_us / 60000000, outcome, count(*) FROM decisions
		WHERE ts_us >= ? GROUP BY 1, 2`, first*60_000_000)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var m int64
		var outcome string
		var n int
		if err := rows.Scan(&m, &outcome, &n); err != nil {
			return out, err
		}
		if m < first || m > cur {
			continue // a decision stamped in the future (clock moved back) is not in the window
		}
		b := &out.PerMinute[m-first]
		switch outcome {
		case OutcomeAllowed:
			b.Allowed += n
		case OutcomeDenied:
			b.Denied += n
		case OutcomePending:
			b.Pending += n
		}
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	day := dayStart.UnixMicro()
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM decisions WHERE ts_us >= ?`, day).Scan(&out.DayTotal); err != nil {
		return out, err
	}
	top := func(q string) ([]NameCount, error) {
		return queryAll(ctx, s.r, func(sc scanner) (NameCount, error) {
			var c NameCount
			return c, sc.Scan(&c.Name, &c.Count)
		}, q, day, StatsTop)
	}
	if out.TopDeny, err = top(`SELECT deny_code, count(*) AS n FROM decisions WHERE outcome = 'denied' AND ts_us >= ?
		GROUP BY deny_code ORDER BY n DESC, deny_code LIMIT ?`); err != nil {
		return out, err
	}
	out.TopCaps, err = top(`SELECT capability_id, count(*) AS n FROM decisions WHERE ts_us >= ?
		GROUP BY capability_id ORDER BY n DESC, capability_id LIMIT ?`)
	return out, err
}
