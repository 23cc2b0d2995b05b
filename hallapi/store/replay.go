package store

import (
	"context"
	"encoding/json"
)

// RecordedInput is a decided request's stored RouteInput.
type RecordedInput struct {
	DecisionID string
	Input      json.RawMessage
}

// RecentInputs returns the stored inputs of the last n decisions the Hall
// made itself (routes and MCP calls; ingested decisions carry no input),
// newest first: what a rules preview replays.
func (s *Store) RecentInputs(ctx context.Context, n int) ([]RecordedInput, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT decision_id, input_json FROM decisions
		WHERE source IN ('route','mcp') AND input_json NOT IN ('null','')
		ORDER BY ts_us DESC, seq DESC LIMIT ?`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RecordedInput
	for rows.Next() {
		var r RecordedInput
		var in string
		if err := rows.Scan(&r.DecisionID, &in); err != nil {
			return nil, err
		}
		r.Input = json.RawMessage(in)
		out = append(out, r)
	}
	return out, rows.Err()
}
