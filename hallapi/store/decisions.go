package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"hallmonitor/hallapi/events"
)

// Decision outcomes and sources.
const (
	OutcomeAllowed = "allowed"
	OutcomeDenied  = "denied"
	OutcomePending = "pending"

	SourceRoute  = "route"
	SourceIngest = "ingest"
	SourceMCP    = "mcp"
)

// DecisionSummary is one row of the feed (docs/api.md).
type DecisionSummary struct {
	DecisionID              string `json:"decision_id"`
	Timestamp               string `json:"timestamp"`
	Outcome                 string `json:"outcome"`
	Denied                  bool   `json:"denied"`
	DenyCode                string `json:"deny_code"`
	DenyMessage             string `json:"deny_message"`
	CapabilityID            string `json:"capability_id"`
	TenantID                string `json:"tenant_id"`
	Env                     string `json:"env"`
	DataLabel               string `json:"data_label"`
	CorrelationID           string `json:"correlation_id"`
	MatchedRuleID           string `json:"matched_rule_id"`
	SelectedWorkerSpeciesID string `json:"selected_worker_species_id"`
	BlastScore              *int   `json:"blast_score"`
	SupervisorRequired      bool   `json:"supervisor_required"`
	PendingApprovalID       string `json:"pending_approval_id"`
	DryRun                  bool   `json:"dry_run"`
	Source                  string `json:"source"`
	// Agent names the principal that asked: an agent's name, or
	// "person:<login>" when the person routed ("" on rows from before
	// principals were recorded).
	Agent string `json:"agent"`
}

// ReceiptFunc builds the evidence receipt of a decision inside the recording
// transaction, given the receipt at the head of the tenant's chain (nil for
// the first receipt of the tenant).
type ReceiptFunc func(prev json.RawMessage) (receiptJSON []byte, receiptHash string, err error)

// DecisionWrite is one decision to record.
type DecisionWrite struct {
	Summary   DecisionSummary
	Time      time.Time       // when the decision was made (orders the feed)
	Decision  json.RawMessage // the full RouteDecision
	Input     json.RawMessage // the (redacted) RouteInput, or nil
	RulesHash string
	Receipt   ReceiptFunc // nil: no receipt
	// Approval, when set, is created with the decision (outcome pending).
	Approval *Approval
}

// RecordDecision stores one decision (+ receipt, approval, events) in t.
// It reports false when a decision with that id already exists.
func (t *Tx) RecordDecision(d *DecisionWrite) (bool, error) {
	stored, _, err := t.recordDecision(d)
	return stored, err
}

// recordDecision is RecordDecision that also returns the receipt it built.
func (t *Tx) recordDecision(d *DecisionWrite) (bool, json.RawMessage, error) {
	sm := &d.Summary
	if sm.DecisionID == "" {
		return false, nil, errors.New("decision_id is empty")
	}
	if d.Time.IsZero() {
		d.Time = t.now
	}
	if sm.Timestamp == "" {
		sm.Timestamp = formatTime(d.Time)
	}
	if d.Approval != nil {
		sm.Outcome = OutcomePending
		sm.PendingApprovalID = d.Approval.ApprovalID
	}
	input := string(d.Input)
	if input == "" {
		input = "null"
	}
	var blast any
	if sm.BlastScore != nil {
		blast = *sm.BlastScore
	}
	res, err := t.execCached(sqlInsertDecision,
		sm.DecisionID, sm.Timestamp, d.Time.UnixMicro(), sm.Outcome, sm.DenyCode, sm.DenyMessage,
		sm.CapabilityID, sm.TenantID, sm.Env, sm.DataLabel, sm.CorrelationID, sm.MatchedRuleID,
		sm.SelectedWorkerSpeciesID, blast, boolInt(sm.SupervisorRequired), sm.PendingApprovalID,
		boolInt(sm.DryRun), sm.Source, d.RulesHash, string(d.Decision), input, sm.Agent)
	if err != nil {
		return false, nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil, t.sameDecision(sm)
	}
	var rc json.RawMessage
	if d.Receipt != nil {
		if rc, err = t.appendReceipt(sm.DecisionID, sm.DecisionID, kindDecision, sm.TenantID, d.Receipt); err != nil {
			return false, nil, err
		}
	}
	if _, err := t.Emit(events.DecisionRecorded, sm); err != nil {
		return false, nil, err
	}
	if d.Approval != nil {
		a := d.Approval
		a.DecisionID = sm.DecisionID
		if err := t.insertApproval(a); err != nil {
			return false, nil, err
		}
	}
	return true, rc, nil
}

// Receipt kinds: a decision's own receipt, or an approval's resolution.
const (
	kindDecision = "decision"
	kindApproval = "approval"
)

// DuplicateError refuses a decision whose id is already stored with other
// content (a replay of the same decision is skipped, not refused).
type DuplicateError struct {
	Index      int // in a batch
	DecisionID string
	Field      string // the first field that differs
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("decision_id %s is already recorded with a different %s: a decision id names one decision; give this one its own id",
		e.DecisionID, e.Field)
}

// sameDecision checks that the stored decision with sm's id is sm (a replay).
func (t *Tx) sameDecision(sm *DecisionSummary) error {
	var cap, tenant, outcome, code, worker, corr, source, agent string
	err := t.tx.QueryRow(`SELECT capability_id, tenant_id, outcome, deny_code, selected_worker, correlation_id, source, agent
		FROM decisions WHERE decision_id = ?`, sm.DecisionID).Scan(&cap, &tenant, &outcome, &code, &worker, &corr, &source, &agent)
	if err != nil {
		return err
	}
	for _, f := range []struct{ name, stored, got string }{{"capability_id", cap, sm.CapabilityID}, {"tenant_id", tenant, sm.TenantID},
		{"outcome", outcome, sm.Outcome}, {"deny code", code, sm.DenyCode}, {"selected worker", worker, sm.SelectedWorkerSpeciesID},
		{"correlation_id", corr, sm.CorrelationID}, {"source", source, sm.Source}, {"agent", agent, sm.Agent}} {
		if f.stored != f.got {
			return &DuplicateError{DecisionID: sm.DecisionID, Field: f.name}
		}
	}
	return nil
}

// appendReceipt builds the next receipt of tenant's chain on its head (as
// left by the writes before it in t) and stores it as the new head
// (receipt_heads.decision_id holds the head's receipt_key).
func (t *Tx) appendReceipt(key, decisionID, kind, tenant string, build ReceiptFunc) (json.RawMessage, error) {
	head, ok := t.heads[tenant]
	if !ok {
		var prevJSON sql.NullString
		err := t.queryRowCached(sqlReceiptHead, tenant).Scan(&prevJSON, &head.hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if prevJSON.Valid {
			head.receipt = json.RawMessage(prevJSON.String)
		}
	}
	prev, prevHash := head.receipt, head.hash
	body, hash, err := build(prev)
	if err != nil {
		return nil, fmt.Errorf("build receipt: %w", err)
	}
	if _, err := t.execCached(sqlInsertReceipt, key, decisionID, kind, tenant, hash, prevHash, string(body)); err != nil {
		return nil, err
	}
	if _, err = t.execCached(sqlUpsertHead, tenant, key, hash); err != nil {
		return nil, err
	}
	if t.heads == nil {
		t.heads = map[string]chainHead{}
	}
	t.heads[tenant] = chainHead{receipt: body, hash: hash}
	return json.RawMessage(body), nil
}

// DecisionFilter selects feed rows. Zero fields do not filter.
type DecisionFilter struct {
	Outcome    string
	Worker     string // selected worker species id
	Capability string
	Tenant     string
	Agent      string    // the principal that asked (DecisionSummary.Agent)
	From, To   time.Time // inclusive range on the decision time
	Q          string    // substring of ids, codes, messages
	Limit      int
	Cursor     string // opaque, from a previous page's NextCursor
}

// ErrBadCursor reports a cursor that was not produced by this store.
var ErrBadCursor = errors.New("cursor is not valid: pass next_cursor from a previous page unchanged")

type cursor struct{ us, seq int64 }

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.us, 10) + ":" + strconv.FormatInt(c.seq, 10)))
}

func parseCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	a, bb, ok := strings.Cut(string(b), ":")
	us, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(bb, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return cursor{}, ErrBadCursor
	}
	return cursor{us, seq}, nil
}

const summaryCols = `seq, ts_us, decision_id, ts, outcome, deny_code, deny_message, capability_id, tenant_id, env, data_label,
	correlation_id, matched_rule_id, selected_worker, blast_score, supervisor_required, pending_approval_id, dry_run, source, agent`

// scanSummary scans the summaryCols of a row, then extra columns into extra.
func scanSummary(sc scanner, extra ...any) (DecisionSummary, cursor, error) {
	var d DecisionSummary
	var c cursor
	var blast sql.NullInt64
	var sup, dry int
	err := sc.Scan(append([]any{&c.seq, &c.us, &d.DecisionID, &d.Timestamp, &d.Outcome, &d.DenyCode, &d.DenyMessage, &d.CapabilityID,
		&d.TenantID, &d.Env, &d.DataLabel, &d.CorrelationID, &d.MatchedRuleID, &d.SelectedWorkerSpeciesID, &blast,
		&sup, &d.PendingApprovalID, &dry, &d.Source, &d.Agent}, extra...)...)
	if blast.Valid {
		v := int(blast.Int64)
		d.BlastScore = &v
	}
	d.Denied = d.Outcome == OutcomeDenied
	d.SupervisorRequired, d.DryRun = sup != 0, dry != 0
	return d, c, err
}

// where is every condition of f (for exports, which read all matches).
func (f DecisionFilter) where() (string, []any, error) {
	base, rest, err := f.conds()
	if err != nil {
		return "", nil, err
	}
	w, args := whereSQL(append(base, rest...))
	return w, args, nil
}

// cond is one SQL condition with its arguments.
type cond struct {
	sql  string
	args []any
}

func whereSQL(cs []cond) (string, []any) {
	if len(cs) == 0 {
		return "", nil
	}
	parts := make([]string, len(cs))
	var args []any
	for i, c := range cs {
		parts[i], args = c.sql, append(args, c.args...)
	}
	return " WHERE " + strings.Join(parts, " AND "), args
}

// conds splits f's conditions into base ones, which one index walk answers in
// feed order (the first field filter of capability, worker, tenant, outcome,
// plus the time range and the cursor), and the rest (further field filters
// and the text search), checked on the rows the base yields.
func (f DecisionFilter) conds() (base, rest []cond, err error) {
	fields := []cond{}
	for _, fc := range []struct{ col, v string }{{"capability_id", f.Capability}, {"selected_worker", f.Worker},
		{"tenant_id", f.Tenant}, {"agent", f.Agent}, {"outcome", f.Outcome}} {
		if fc.v != "" {
			fields = append(fields, cond{fc.col + ` = ?`, []any{fc.v}})
		}
	}
	if len(fields) > 0 {
		base = append(base, fields[0])
		// The others are checked on the base walk's rows: the unary + keeps
		// SQLite from walking their index instead (a worse window).
		for _, c := range fields[1:] {
			rest = append(rest, cond{"+" + c.sql, c.args})
		}
	}
	if !f.From.IsZero() {
		base = append(base, cond{`ts_us >= ?`, []any{f.From.UnixMicro()}})
	}
	if !f.To.IsZero() {
		base = append(base, cond{`ts_us <= ?`, []any{f.To.UnixMicro()}})
	}
	if f.Cursor != "" {
		c, err := parseCursor(f.Cursor)
		if err != nil {
			return nil, nil, err
		}
		base = append(base, cond{`(ts_us < ? OR (ts_us = ? AND seq < ?))`, []any{c.us, c.us, c.seq}})
	}
	if f.Q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Q) + "%"
		rest = append(rest, cond{`(decision_id LIKE ? ESCAPE '\' OR correlation_id LIKE ? ESCAPE '\' OR capability_id LIKE ? ESCAPE '\'
			OR tenant_id LIKE ? ESCAPE '\' OR deny_code LIKE ? ESCAPE '\' OR deny_message LIKE ? ESCAPE '\'
			OR matched_rule_id LIKE ? ESCAPE '\' OR selected_worker LIKE ? ESCAPE '\')`,
			[]any{like, like, like, like, like, like, like, like}})
	}
	return base, rest, nil
}

// QueryDecisions returns one page of the feed, newest first, and the cursor of
// the next page ("" when there is none).
//
// A query with conditions beyond one index walk (a text search, or two or
// more field filters) scans at most SearchWindow (FilterWindow when a field
// filter leads) decisions per call so its latency stays bounded on a large
// database: when fewer than Limit matches
// are found in the window, NextCursor continues the scan where it stopped
// (a page may then hold fewer rows than Limit, even none).
func (s *Store) QueryDecisions(ctx context.Context, f DecisionFilter) ([]DecisionSummary, string, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	base, rest, err := f.conds()
	if err != nil {
		return nil, "", err
	}
	bw, bargs := whereSQL(base)
	if len(rest) == 0 {
		return s.queryPage(ctx, f.Limit, `SELECT `+summaryCols+` FROM decisions`+bw+
			` ORDER BY ts_us DESC, seq DESC LIMIT ?`, append(bargs, f.Limit+1)...)
	}
	// The window's oldest row, read off the base index alone (no table rows).
	// A field index walk reaches rows scattered over the table (a page read
	// each), so its window is smaller than the time index's dense one.
	window := SearchWindow
	if f.Capability != "" || f.Worker != "" || f.Tenant != "" || f.Agent != "" || f.Outcome != "" {
		window = FilterWindow
	}
	var bound cursor
	err = s.r.QueryRowContext(ctx, `SELECT ts_us, seq FROM decisions`+bw+` ORDER BY ts_us DESC, seq DESC LIMIT 1 OFFSET ?`,
		append(bargs, window-1)...).Scan(&bound.us, &bound.seq)
	windowed := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, "", err
	}
	if windowed {
		// ts_us >= is the index range that stops the walk; the rest breaks ties.
		rest = append(rest, cond{`ts_us >= ? AND (ts_us > ? OR seq >= ?)`, []any{bound.us, bound.us, bound.seq}})
	}
	all, args := whereSQL(append(base, rest...))
	page, next, err := s.queryPage(ctx, f.Limit, `SELECT `+summaryCols+` FROM decisions`+all+
		` ORDER BY ts_us DESC, seq DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil || next != "" || !windowed {
		return page, next, err
	}
	// Fewer matches than a page in a full window: continue after it.
	return page, bound.String(), nil
}

// SearchWindow is how many decisions one windowed page scans at most when
// it walks the time index (a text search without field filters);
// FilterWindow when it walks a field's index (scattered rows).
const (
	SearchWindow = 25000
	FilterWindow = 5000
)

func (s *Store) queryPage(ctx context.Context, limit int, query string, args ...any) ([]DecisionSummary, string, error) {
	f := DecisionFilter{Limit: limit}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []DecisionSummary{}
	var last cursor
	next := ""
	for rows.Next() {
		d, c, err := scanSummary(rows)
		if err != nil {
			return nil, "", err
		}
		if len(out) == f.Limit {
			next = last.String()
			break
		}
		out = append(out, d)
		last = c
	}
	return out, next, rows.Err()
}

// EachDecision streams every decision matching f (newest first, Limit and
// Cursor ignored) with its full JSON and its receipt (nil when the Hall signed
// none), for exports.
func (s *Store) EachDecision(ctx context.Context, f DecisionFilter, fn func(d DecisionSummary, full, receipt json.RawMessage) error) error {
	f.Cursor = ""
	where, args, err := f.where()
	if err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+summaryCols+`, decision_json,
		(SELECT receipt_json FROM receipts r WHERE r.receipt_key = decisions.decision_id) FROM decisions`+where+
		` ORDER BY ts_us DESC, seq DESC`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var full string
		var rc sql.NullString
		d, _, err := scanSummary(rows, &full, &rc)
		if err != nil {
			return err
		}
		var receipt json.RawMessage
		if rc.Valid {
			receipt = json.RawMessage(rc.String)
		}
		if err := fn(d, json.RawMessage(full), receipt); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DecisionDetail is everything stored about one decision.
type DecisionDetail struct {
	Summary   DecisionSummary
	Decision  json.RawMessage
	Input     json.RawMessage
	Receipt   json.RawMessage // nil when the decision has no receipt
	RulesHash string
	Dispatch  *Dispatch
	Approval  *Approval
}

// GetDecision loads one decision with its receipt, latest dispatch and approval.
func (s *Store) GetDecision(ctx context.Context, id string) (*DecisionDetail, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+summaryCols+`, decision_json, input_json, rules_hash FROM decisions WHERE decision_id = ?`, id)
	var d DecisionDetail
	var c cursor
	var blast sql.NullInt64
	var sup, dry int
	var full, input string
	sm := &d.Summary
	err := row.Scan(&c.seq, &c.us, &sm.DecisionID, &sm.Timestamp, &sm.Outcome, &sm.DenyCode, &sm.DenyMessage, &sm.CapabilityID,
		&sm.TenantID, &sm.Env, &sm.DataLabel, &sm.CorrelationID, &sm.MatchedRuleID, &sm.SelectedWorkerSpeciesID, &blast,
		&sup, &sm.PendingApprovalID, &dry, &sm.Source, &sm.Agent, &full, &input, &d.RulesHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if blast.Valid {
		v := int(blast.Int64)
		sm.BlastScore = &v
	}
	sm.Denied = sm.Outcome == OutcomeDenied
	sm.SupervisorRequired, sm.DryRun = sup != 0, dry != 0
	d.Decision, d.Input = json.RawMessage(full), json.RawMessage(input)
	var receipt string
	err = s.r.QueryRowContext(ctx, `SELECT receipt_json FROM receipts WHERE receipt_key = ?`, id).Scan(&receipt)
	switch {
	case err == nil:
		d.Receipt = json.RawMessage(receipt)
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	disp, err := scanDispatch(s.r.QueryRowContext(ctx, `SELECT `+dispatchCols+` FROM dispatches WHERE decision_id = ? ORDER BY started_us DESC LIMIT 1`, id))
	switch {
	case err == nil:
		d.Dispatch = &disp
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	ap, err := scanApproval(s.r.QueryRowContext(ctx, `SELECT `+approvalCols+` FROM approvals WHERE decision_id = ?`, id))
	switch {
	case err == nil:
		d.Approval = &ap
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	return &d, nil
}

// ReceiptChain returns the receipts of a tenant in chain order (for verification).
func (s *Store) ReceiptChain(ctx context.Context, tenant string) ([]json.RawMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT receipt_json FROM receipts WHERE tenant_id = ? ORDER BY seq`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(b))
	}
	return out, rows.Err()
}

// ChainEntry is one receipt of a tenant's chain with the decision it signs.
type ChainEntry struct {
	Receipt  json.RawMessage
	Decision json.RawMessage
}

// ReceiptChainEntries is ReceiptChain with each receipt's stored decision,
// so a verifier can recompute decision_hash.
func (s *Store) ReceiptChainEntries(ctx context.Context, tenant string) ([]ChainEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT r.receipt_json, d.decision_json FROM receipts r JOIN decisions d ON d.decision_id = r.decision_id
		WHERE r.tenant_id = ? ORDER BY r.seq`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChainEntry
	for rows.Next() {
		var rc, dec string
		if err := rows.Scan(&rc, &dec); err != nil {
			return nil, err
		}
		out = append(out, ChainEntry{Receipt: json.RawMessage(rc), Decision: json.RawMessage(dec)})
	}
	return out, rows.Err()
}

// ReceiptHead is what the store recorded of a tenant's chain as it grew:
// its length and last receipt hash. A chain shorter than its head, or
// ending elsewhere, lost receipts.
type ReceiptHead struct {
	Hash   string
	Length int
}

// ReceiptHeads returns the recorded head of every tenant's chain.
func (s *Store) ReceiptHeads(ctx context.Context) (map[string]ReceiptHead, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT tenant_id, receipt_hash, length FROM receipt_heads`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]ReceiptHead{}
	for rows.Next() {
		var t string
		var h ReceiptHead
		if err := rows.Scan(&t, &h.Hash, &h.Length); err != nil {
			return nil, err
		}
		out[t] = h
	}
	return out, rows.Err()
}

// Receipt returns the receipt of a decision written earlier in t (nil if none).
func (t *Tx) Receipt(decisionID string) (json.RawMessage, error) {
	var b string
	err := t.tx.QueryRow(`SELECT receipt_json FROM receipts WHERE receipt_key = ?`, decisionID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return json.RawMessage(b), err
}
