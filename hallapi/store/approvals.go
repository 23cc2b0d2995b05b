package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"hallmonitor/hallapi/events"
)

// Approval statuses.
const (
	ApprovalPending   = "pending"
	ApprovalApproved  = "approved"
	ApprovalDenied    = "denied"
	ApprovalEscalated = "escalated"
	ApprovalExpired   = "expired"
)

// ValidApprovalStatus reports whether s is an approval status.
func ValidApprovalStatus(s string) bool {
	switch s {
	case ApprovalPending, ApprovalApproved, ApprovalDenied, ApprovalEscalated, ApprovalExpired:
		return true
	}
	return false
}

// Approval is a human decision a supervisor_required route waits for.
type Approval struct {
	ApprovalID    string `json:"approval_id"`
	DecisionID    string `json:"decision_id"`
	CapabilityID  string `json:"capability_id"`
	TenantID      string `json:"tenant_id"`
	MatchedRuleID string `json:"matched_rule_id"`
	Reason        string `json:"reason"`
	Status        string `json:"status"`
	CreatedAt     string `json:"created_at"`
	ExpiresAt     string `json:"expires_at"`
	ResolvedAt    string `json:"resolved_at"`
	ResolvedBy    string `json:"resolved_by"`
	Note          string `json:"note"`
	// Agent is the principal whose call waits (DecisionSummary.Agent).
	Agent string `json:"agent"`
	// Grant is what an approval allows, set when a person approves: one
	// dispatch of exactly this call before ExpiresAt (see decide.Grant).
	Grant json.RawMessage `json:"grant"`
	// UsedAt is when the grant's one dispatch started ("" while unused).
	UsedAt string `json:"used_at"`

	// TTL is how long the approval stays pending (used on creation only; default 1 h).
	TTL time.Duration `json:"-"`
}

const approvalCols = `approval_id, decision_id, capability_id, tenant_id, matched_rule_id, reason, status,
	created_at, expires_at, resolved_at, resolved_by, note, agent, grant_json, used_at`

func scanApproval(sc scanner) (Approval, error) {
	var a Approval
	var grant string
	err := sc.Scan(&a.ApprovalID, &a.DecisionID, &a.CapabilityID, &a.TenantID, &a.MatchedRuleID, &a.Reason, &a.Status,
		&a.CreatedAt, &a.ExpiresAt, &a.ResolvedAt, &a.ResolvedBy, &a.Note, &a.Agent, &grant, &a.UsedAt)
	if grant != "" {
		a.Grant = json.RawMessage(grant)
	}
	return a, err
}

func (t *Tx) insertApproval(a *Approval) error {
	if a.ApprovalID == "" {
		a.ApprovalID = NewID("apr")
	}
	ttl := a.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	exp := t.now.Add(ttl)
	a.Status, a.CreatedAt, a.ExpiresAt = ApprovalPending, formatTime(t.now), formatTime(exp)
	if _, err := t.tx.Exec(`INSERT INTO approvals(approval_id, decision_id, capability_id, tenant_id, matched_rule_id, reason, status,
		created_at, created_us, expires_at, expires_us, agent) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		a.ApprovalID, a.DecisionID, a.CapabilityID, a.TenantID, a.MatchedRuleID, a.Reason, a.Status,
		a.CreatedAt, t.now.UnixMicro(), a.ExpiresAt, exp.UnixMicro(), a.Agent); err != nil {
		return err
	}
	_, err := t.Emit(events.ApprovalCreated, a)
	return err
}

// ApprovalRow is an approval with what a person needs to decide it, read from its decision: who asks
// (Approval.Agent: the agent whose call waits), the worker it would run on, a short text summary of
// the request, the blast score, and the latest run of the decision once it has been dispatched.
type ApprovalRow struct {
	Approval
	WorkerSpeciesID string         `json:"worker_species_id"`
	BlastScore      *int           `json:"blast_score"`
	RequestSummary  string         `json:"request_summary"`
	LastDispatch    *DispatchBrief `json:"last_dispatch"`
}

// DispatchBrief is the latest run of an approved decision, as an approval row shows it.
type DispatchBrief struct {
	DispatchID string `json:"dispatch_id"`
	Outcome    string `json:"outcome"`
	Error      string `json:"error"`
	DurationMS *int64 `json:"duration_ms"`
	FinishedAt string `json:"finished_at"`
}

// RequestSummaryMax is the most characters of a request an approval row carries.
const RequestSummaryMax = 160

// The agent is the approval's (recorded with it), else its decision's.
const approvalRowQuery = `SELECT a.approval_id, a.decision_id, a.capability_id, a.tenant_id, a.matched_rule_id, a.reason,
	a.status, a.created_at, a.expires_at, a.resolved_at, a.resolved_by, a.note,
	CASE WHEN a.agent != '' THEN a.agent ELSE coalesce(d.agent, '') END, a.grant_json, a.used_at,
	coalesce(d.selected_worker, ''), d.blast_score, coalesce(d.input_json -> '$.request', ''),
	x.dispatch_id, x.outcome, x.error, x.duration_ms, x.finished_at
FROM approvals a
LEFT JOIN decisions d ON d.decision_id = a.decision_id
LEFT JOIN dispatches x ON x.dispatch_id = (SELECT dispatch_id FROM dispatches WHERE decision_id = a.decision_id
	ORDER BY started_us DESC LIMIT 1)`

func scanApprovalRow(sc scanner) (ApprovalRow, error) {
	var r ApprovalRow
	var grant string
	var blast, dur sql.NullInt64
	var xID, xOutcome, xErr, xFinished sql.NullString
	a := &r.Approval
	err := sc.Scan(&a.ApprovalID, &a.DecisionID, &a.CapabilityID, &a.TenantID, &a.MatchedRuleID, &a.Reason, &a.Status,
		&a.CreatedAt, &a.ExpiresAt, &a.ResolvedAt, &a.ResolvedBy, &a.Note,
		&a.Agent, &grant, &a.UsedAt, &r.WorkerSpeciesID, &blast, &r.RequestSummary, &xID, &xOutcome, &xErr, &dur, &xFinished)
	if err != nil {
		return r, err
	}
	if grant != "" {
		a.Grant = json.RawMessage(grant)
	}
	if blast.Valid {
		b := int(blast.Int64)
		r.BlastScore = &b
	}
	r.RequestSummary = Shorten(readableJSON(r.RequestSummary), RequestSummaryMax)
	if xID.Valid {
		r.LastDispatch = &DispatchBrief{DispatchID: xID.String, Outcome: xOutcome.String, Error: xErr.String, FinishedAt: xFinished.String}
		if dur.Valid {
			r.LastDispatch.DurationMS = &dur.Int64
		}
	}
	return r, nil
}

// readableJSON re-encodes stored JSON without HTML escapes (the stored input has "<" as \u003c), so the
// summary reads as the caller wrote it; the UI shows it as text, never as HTML.
func readableJSON(s string) string {
	var v any
	if s == "" || json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return s
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Shorten cuts s to at most max characters (runes), ending a cut text with "…".
func Shorten(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)
	return string(rs[:max-1]) + "…"
}

// ListApprovals lists approvals (all when status is ""), newest first, each with what its decision asks.
func (s *Store) ListApprovals(ctx context.Context, status string) ([]ApprovalRow, error) {
	if _, err := s.ExpireApprovals(ctx); err != nil {
		return nil, err
	}
	q := approvalRowQuery
	var args []any
	if status != "" {
		q += ` WHERE a.status = ?`
		args = append(args, status)
	}
	return queryAll(ctx, s.r, scanApprovalRow, q+` ORDER BY a.created_us DESC LIMIT 1000`, args...)
}

// Approval actions.
const (
	ActionApprove  = "approve"
	ActionDeny     = "deny"
	ActionEscalate = "escalate"
)

// Resolution is a person's answer to an approval.
type Resolution struct {
	Action, Note, By string
	// Grant builds the grant of an approve from the approval (nil: none).
	Grant func(a Approval) (json.RawMessage, error)
}

// ApprovalReceipter builds the receipt of an approval's resolution from the
// resolved approval and the receipt of the decision it holds.
type ApprovalReceipter func(a Approval, decisionReceipt json.RawMessage) ReceiptFunc

// SetApprovalReceipter makes every approve, deny and expiry append a signed
// receipt to the tenant's chain in the same transaction (the decide service
// installs its signer; without one no approval receipt is written).
func (s *Store) SetApprovalReceipter(f ApprovalReceipter) { s.approvalReceipts.Store(&f) }

func approvalReceiptKey(approvalID, status string) string { return approvalID + ":" + status }

// receiptApproval appends the receipt of a's resolution when a receipter is
// installed and the decision it holds has a receipt.
func (t *Tx) receiptApproval(a Approval) error {
	p := t.s.approvalReceipts.Load()
	if p == nil || *p == nil || a.Status == ApprovalEscalated || a.Status == ApprovalPending {
		return nil
	}
	rc, err := t.Receipt(a.DecisionID)
	if err != nil || rc == nil {
		return err
	}
	_, err = t.appendReceipt(approvalReceiptKey(a.ApprovalID, a.Status), a.DecisionID, kindApproval, a.TenantID, (*p)(a, rc))
	return err
}

// Resolve applies a Resolution to a pending (or escalated) approval.
func (s *Store) Resolve(ctx context.Context, id string, res Resolution) (Approval, error) {
	action, note, by := res.Action, res.Note, res.By
	var status string
	switch action {
	case ActionApprove:
		status = ApprovalApproved
	case ActionDeny:
		status = ApprovalDenied
	case ActionEscalate:
		status = ApprovalEscalated
	default:
		return Approval{}, fmt.Errorf("action %q is not approve, deny or escalate", action)
	}
	if _, err := s.ExpireApprovals(ctx); err != nil {
		return Approval{}, err
	}
	var a Approval
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		a, err = scanApproval(t.tx.QueryRow(`SELECT `+approvalCols+` FROM approvals WHERE approval_id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if a.Status != ApprovalPending && a.Status != ApprovalEscalated {
			return fmt.Errorf("%w: approval %s is already %s", ErrConflict, id, a.Status)
		}
		a.Status, a.Note, a.ResolvedBy = status, note, by
		if status != ApprovalEscalated {
			a.ResolvedAt = formatTime(t.now)
		}
		if status == ApprovalApproved && res.Grant != nil {
			if a.Grant, err = res.Grant(a); err != nil {
				return err
			}
		}
		if _, err := t.tx.Exec(`UPDATE approvals SET status = ?, note = ?, resolved_by = ?, resolved_at = ?, grant_json = ? WHERE approval_id = ?`,
			a.Status, a.Note, a.ResolvedBy, a.ResolvedAt, string(a.Grant), id); err != nil {
			return err
		}
		if err := t.receiptApproval(a); err != nil {
			return fmt.Errorf("approval receipt: %w", err)
		}
		_, err = t.Emit(events.ApprovalResolved, a)
		return err
	})
	return a, err
}

// ExpireApprovals marks pending approvals past their expiry as expired (each
// with an event and an APPROVAL_EXPIRED alert) and returns how many expired.
func (s *Store) ExpireApprovals(ctx context.Context) (int, error) {
	var n int
	nowUS := s.Now().UnixMicro()
	var due int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM approvals WHERE status IN ('pending','escalated') AND expires_us <= ?`, nowUS).Scan(&due); err != nil {
		return 0, err
	}
	if due == 0 {
		return 0, nil
	}
	err := s.Write(ctx, func(t *Tx) error {
		rows, err := t.tx.Query(`SELECT `+approvalCols+` FROM approvals WHERE status IN ('pending','escalated') AND expires_us <= ?`, t.now.UnixMicro())
		if err != nil {
			return err
		}
		var due []Approval
		for rows.Next() {
			a, err := scanApproval(rows)
			if err != nil {
				rows.Close()
				return err
			}
			due = append(due, a)
		}
		rows.Close()
		for _, a := range due {
			a.Status, a.ResolvedAt, a.ResolvedBy = ApprovalExpired, formatTime(t.now), "hall"
			if _, err := t.tx.Exec(`UPDATE approvals SET status = ?, resolved_at = ?, resolved_by = ? WHERE approval_id = ?`,
				a.Status, a.ResolvedAt, a.ResolvedBy, a.ApprovalID); err != nil {
				return err
			}
			if err := t.receiptApproval(a); err != nil {
				return fmt.Errorf("approval receipt: %w", err)
			}
			if _, err := t.Emit(events.ApprovalResolved, a); err != nil {
				return err
			}
			if _, err := t.RaiseAlert(AlertInput{Type: AlertApprovalExpired, Severity: SeverityWarning,
				Title:      "Approval expired: " + a.CapabilityID,
				Body:       "Nobody resolved approval " + a.ApprovalID + " for tenant " + a.TenantID + " before " + a.ExpiresAt + "; the request stays refused.",
				DecisionID: a.DecisionID}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
