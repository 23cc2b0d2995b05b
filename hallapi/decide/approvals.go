package decide

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"hallmonitor/core"
	"hallmonitor/core/receipt"
	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
)

// Grant is what a person's approve allows: one dispatch of exactly this
// call (the decision, for this agent, on this worker with this package and
// artifact, under this policy version), before ExpiresAt. It is stored with
// the approval and its hash is in the approval's signed receipt.
type Grant struct {
	DecisionID      string  `json:"decision_id"`
	Agent           string  `json:"agent"`
	WorkerSpeciesID string  `json:"worker_species_id"`
	PackageHash     *string `json:"package_hash"`
	ArtifactHash    *string `json:"artifact_hash"`
	PolicyVersion   string  `json:"policy_version"`
	ExpiresAt       string  `json:"expires_at"`
	ApprovedBy      string  `json:"approved_by"`
	Uses            int     `json:"uses"`
}

// ResolveApproval records the person's answer (approve, deny or escalate)
// to a pending approval. Only the person may: an agent's call is refused
// with forbidden_scope whatever it asks. The resolver recorded is the
// person's name (GitHub login or OS user), never a token.
func (s *Service) ResolveApproval(ctx context.Context, id, action, note string) (store.Approval, error) {
	p, ok := principal.From(ctx)
	if !ok || !p.IsPerson() {
		return store.Approval{}, apierr.New(apierr.Forbidden, "", "resolving an approval needs the person's scope (approvals): an agent cannot approve a call, its own or another's")
	}
	if e := apierr.ValidID("approval_id", id); e != nil {
		return store.Approval{}, e
	}
	switch action {
	case store.ActionApprove, store.ActionDeny, store.ActionEscalate:
	case "":
		return store.Approval{}, apierr.New(apierr.MissingField, "action", "action is required: approve, deny or escalate")
	default:
		return store.Approval{}, apierr.New(apierr.InvalidField, "action", "action must be approve, deny or escalate, not %s", apierr.Quote(action))
	}
	if len(note) > 2000 {
		return store.Approval{}, apierr.New(apierr.InvalidField, "note", "note must be at most 2000 characters")
	}
	a, err := s.st.Resolve(ctx, id, store.Resolution{Action: action, Note: note, By: p.Name,
		Grant: func(a store.Approval) (json.RawMessage, error) { return s.grant(ctx, a, p.Name) }})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return a, apierr.New(apierr.NotFound, "approval_id", "no approval %s", apierr.Quote(id))
	case errors.Is(err, store.ErrConflict):
		return a, apierr.New(apierr.Conflict, "approval_id", "%v", err)
	}
	return a, err
}

// grant binds an approve to the exact call the decision holds.
func (s *Service) grant(ctx context.Context, a store.Approval, by string) (json.RawMessage, error) {
	det, err := s.st.GetDecision(ctx, a.DecisionID)
	if err != nil {
		return nil, fmt.Errorf("decision %s of approval %s: %w", a.DecisionID, a.ApprovalID, err)
	}
	var dec core.RouteDecision
	if err := json.Unmarshal(det.Decision, &dec); err != nil {
		return nil, fmt.Errorf("stored decision %s is unreadable: %w", a.DecisionID, err)
	}
	g := Grant{DecisionID: a.DecisionID, Agent: det.Summary.Agent, WorkerSpeciesID: det.Summary.SelectedWorkerSpeciesID,
		ArtifactHash: dec.ArtifactHash, ExpiresAt: a.ExpiresAt, ApprovedBy: by, Uses: 1}
	for _, e := range dec.TelemetryEnvelopes {
		if e.PolicyVersion != "" {
			g.PolicyVersion = e.PolicyVersion
		}
	}
	if det.Receipt != nil {
		var rc receipt.Receipt
		if err := json.Unmarshal(det.Receipt, &rc); err != nil {
			return nil, fmt.Errorf("receipt of %s is unreadable: %w", a.DecisionID, err)
		}
		g.PackageHash = rc.PackageHash
	}
	return json.Marshal(g)
}

// approvalReceipt signs an approval's resolution into the tenant's chain
// (installed on the store by New).
func (s *Service) approvalReceipt(a store.Approval, decisionReceipt json.RawMessage) store.ReceiptFunc {
	sg := s.signer()
	return func(prevJSON json.RawMessage) ([]byte, string, error) {
		var dr receipt.Receipt
		if err := json.Unmarshal(decisionReceipt, &dr); err != nil {
			return nil, "", fmt.Errorf("receipt of decision %s is corrupt: %w", a.DecisionID, err)
		}
		prev, err := prevReceipt(prevJSON, a.TenantID)
		if err != nil {
			return nil, "", err
		}
		ev := receipt.ApprovalEvidence{ApprovalID: a.ApprovalID, Status: a.Status, ResolvedBy: a.ResolvedBy,
			ResolvedAt: a.ResolvedAt, Agent: a.Agent}
		if a.Grant != nil {
			h, err := receipt.GrantHash(a.Grant)
			if err != nil {
				return nil, "", err
			}
			ev.GrantHash = &h
		}
		rc, err := receipt.NewApproval(dr, ev, prev, sg, store.NewID("rct"), s.opts.Now())
		if err != nil {
			return nil, "", err
		}
		b, err := json.Marshal(rc)
		return b, rc.ReceiptHash, err
	}
}
