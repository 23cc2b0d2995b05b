package store

import (
	"context"
	"database/sql"
	"errors"
)

// SpanFields are what the OpenTelemetry export adds to a decision's span
// beyond its feed row: read with one query, without the full records.
type SpanFields struct {
	ArtifactHash string
	ReceiptID    string
	Input        string // the (redacted) input JSON; only when asked for
}

// DecisionSpanFields reads the SpanFields of one decision (ErrNotFound when it is not stored).
func (s *Store) DecisionSpanFields(ctx context.Context, id string, withInput bool) (SpanFields, error) {
	var f SpanFields
	var art, rid, input sql.NullString
	q := `SELECT json_extract(d.decision_json, '$.artifact_hash'),
		json_extract(r.receipt_json, '$.receipt_id'), CASE WHEN ? THEN d.input_json END
		FROM decisions d LEFT JOIN receipts r ON r.receipt_key = d.decision_id WHERE d.decision_id = ?`
	err := s.r.QueryRowContext(ctx, q, withInput, id).Scan(&art, &rid, &input)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	}
	f.ArtifactHash, f.ReceiptID = art.String, rid.String
	if input.Valid && input.String != "null" {
		f.Input = input.String
	}
	return f, err
}
