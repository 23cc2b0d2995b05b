// Package receipt builds and verifies evidence receipts: one signed record
// per decision, hash-chained per tenant (WCP spec 5.7).
//
// receipt_hash is the SHA-256 (hex) of the receipt's canonical JSON (keys
// sorted, compact separators, ASCII-escaped; see package canon) without the
// receipt_hash and signature fields. prev_receipt_hash links each receipt to
// the previous one of the chain (null for the first). signature is the
// Ed25519 signature (hex) of the receipt_hash string, by the key named in
// signing_key_id. Verify detects any edit, deletion or reordering inside a
// chain and reports the first broken index and why. A deletion of the newest
// receipts can only be seen by comparing the head with a stored count/hash.
package receipt

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hallmonitor/core"
	"hallmonitor/core/canon"
)

// Receipt is one evidence receipt.
type Receipt struct {
	ReceiptID               string  `json:"receipt_id"`
	Sequence                uint64  `json:"sequence"`
	TenantID                string  `json:"tenant_id"`
	DecisionID              string  `json:"decision_id"`
	CorrelationID           string  `json:"correlation_id"`
	CapabilityID            string  `json:"capability_id"`
	MatchedRuleID           string  `json:"matched_rule_id"`
	Denied                  bool    `json:"denied"`
	DenyCode                *string `json:"deny_code"`
	SelectedWorkerSpeciesID *string `json:"selected_worker_species_id"`
	SupervisorRequired      bool    `json:"supervisor_required"`
	ArtifactHash            *string `json:"artifact_hash"`
	// PackageHash is the hash (64 lowercase hex) of the selected worker's
	// package files when the decision was made; null when no worker was
	// selected or the worker runs from no package. Always present in the
	// JSON, so it is always covered by receipt_hash.
	PackageHash  *string `json:"package_hash"`
	DecisionHash string  `json:"decision_hash"`
	IssuedAt     string  `json:"issued_at"`
	// Kind is "" for a decision's receipt and "approval" for a person's
	// answer (or the expiry) of a decision held for approval; Approval then
	// says which. Both are left out of the JSON of a decision's receipt, so
	// receipts made before approvals were receipted hash as they did.
	Kind            string            `json:"kind,omitempty"`
	Approval        *ApprovalEvidence `json:"approval,omitempty"`
	PrevReceiptHash *string           `json:"prev_receipt_hash"`
	SigningKeyID    string            `json:"signing_key_id"`
	ReceiptHash     string            `json:"receipt_hash"`
	Signature       string            `json:"signature"`
}

// KindApproval marks the receipt of an approval's resolution.
const KindApproval = "approval"

// ApprovalEvidence is what an approval receipt records: who answered (a
// person's GitHub login or OS user, or "hall" for an expiry), the answer,
// the agent whose call waited, and the hash of the grant an approve gave.
type ApprovalEvidence struct {
	ApprovalID string  `json:"approval_id"`
	Status     string  `json:"status"` // approved, denied or expired
	ResolvedBy string  `json:"resolved_by"`
	ResolvedAt string  `json:"resolved_at"`
	Agent      string  `json:"agent"`
	GrantHash  *string `json:"grant_hash"` // SHA-256 of the grant's canonical JSON; null unless approved
}

// Signer is the Hall's signing identity.
type Signer struct {
	KeyID string
	Key   ed25519.PrivateKey
}

// DecisionHash is the SHA-256 (hex) of a decision's compact canonical JSON.
func DecisionHash(dec core.RouteDecision) (string, error) {
	raw, err := json.Marshal(dec)
	if err != nil {
		return "", err
	}
	return DecisionHashJSON(raw)
}

// DecisionHashJSON is DecisionHash of a decision as stored (its JSON), so a
// verifier can check a receipt against the decision it signs.
func DecisionHashJSON(raw []byte) (string, error) {
	g, err := canon.Decode(raw)
	if err != nil {
		return "", err
	}
	return hashCanonical(g)
}

func hashCanonical(v any) (string, error) {
	b, err := canon.Marshal(canon.Compact, v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// New builds and signs the receipt of dec, chained after prev (nil for the
// first receipt of a tenant's chain). packageHash is the selected worker's
// package hash (64 lowercase hex) at decision time, nil when there is none.
func New(dec core.RouteDecision, packageHash *string, prev *Receipt, s Signer, receiptID string, issuedAt time.Time) (Receipt, error) {
	dh, err := DecisionHash(dec)
	if err != nil {
		return Receipt{}, fmt.Errorf("receipt: %w", err)
	}
	return NewHashed(dec, dh, packageHash, prev, s, receiptID, issuedAt)
}

// NewHashed is New with the decision's DecisionHash computed beforehand: it
// does not depend on the chain, so a caller that chains receipts one at a
// time (the Hall's group commit) computes it before taking its turn.
func NewHashed(dec core.RouteDecision, decisionHash string, packageHash *string, prev *Receipt, s Signer, receiptID string, issuedAt time.Time) (Receipt, error) {
	if len(s.Key) != ed25519.PrivateKeySize || s.KeyID == "" {
		return Receipt{}, errors.New("receipt: signer needs a key id and an Ed25519 private key")
	}
	if packageHash != nil && !core.IsSHA256Hex(*packageHash) {
		return Receipt{}, fmt.Errorf("receipt: package hash %q must be 64 lowercase hex characters (no \"sha256:\" prefix)", *packageHash)
	}
	if !core.IsSHA256Hex(decisionHash) {
		return Receipt{}, fmt.Errorf("receipt: decision hash %q must be 64 lowercase hex characters", decisionHash)
	}
	r := Receipt{
		ReceiptID: receiptID, TenantID: dec.TenantID, DecisionID: dec.DecisionID,
		CorrelationID: dec.CorrelationID, CapabilityID: dec.CapabilityID, MatchedRuleID: dec.MatchedRuleID,
		Denied: dec.Denied, SelectedWorkerSpeciesID: dec.SelectedWorkerSpeciesID,
		SupervisorRequired: dec.SupervisorRequired, ArtifactHash: dec.ArtifactHash, PackageHash: packageHash, DecisionHash: decisionHash,
		IssuedAt: core.Timestamp(issuedAt).String(), SigningKeyID: s.KeyID,
	}
	if dec.Denied {
		code := dec.Code()
		r.DenyCode = &code
	}
	return r.chainAndSign(prev, s)
}

// NewApproval builds and signs the receipt of an approval's resolution:
// the decision's fields (and decision_hash) from the decision's own receipt
// dec, the answer in ev, chained after prev in the tenant's chain.
func NewApproval(dec Receipt, ev ApprovalEvidence, prev *Receipt, s Signer, receiptID string, issuedAt time.Time) (Receipt, error) {
	if len(s.Key) != ed25519.PrivateKeySize || s.KeyID == "" {
		return Receipt{}, errors.New("receipt: signer needs a key id and an Ed25519 private key")
	}
	if ev.ApprovalID == "" || ev.Status == "" || ev.ResolvedBy == "" {
		return Receipt{}, errors.New("receipt: an approval receipt needs the approval id, its status and who resolved it")
	}
	r := dec
	r.ReceiptID, r.IssuedAt, r.SigningKeyID = receiptID, core.Timestamp(issuedAt).String(), s.KeyID
	r.Kind, r.Approval = KindApproval, &ev
	r.PrevReceiptHash, r.Sequence, r.ReceiptHash, r.Signature = nil, 0, "", ""
	return r.chainAndSign(prev, s)
}

// GrantHash is the SHA-256 (hex) of a grant's canonical JSON.
func GrantHash(grantJSON []byte) (string, error) {
	g, err := canon.Decode(grantJSON)
	if err != nil {
		return "", err
	}
	return hashCanonical(g)
}

func (r Receipt) chainAndSign(prev *Receipt, s Signer) (Receipt, error) {
	if prev != nil {
		if prev.TenantID != r.TenantID {
			return Receipt{}, fmt.Errorf("receipt: previous receipt belongs to tenant %q, not %q", prev.TenantID, r.TenantID)
		}
		h := prev.ReceiptHash
		r.PrevReceiptHash = &h
		r.Sequence = prev.Sequence + 1
	}
	var err error
	if r.ReceiptHash, err = r.ComputeHash(); err != nil {
		return Receipt{}, err
	}
	r.Signature = hex.EncodeToString(ed25519.Sign(s.Key, []byte(r.ReceiptHash)))
	return r, nil
}

// ComputeHash recomputes receipt_hash from the other fields.
func (r Receipt) ComputeHash() (string, error) {
	r.ReceiptHash, r.Signature = "", ""
	raw, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	g, err := canon.Decode(raw)
	if err != nil {
		return "", err
	}
	m := g.(map[string]any)
	delete(m, "receipt_hash")
	delete(m, "signature")
	return hashCanonical(m)
}

// KeyResolver returns the public key for a signing_key_id.
type KeyResolver func(keyID string) (ed25519.PublicKey, bool)

// ChainError says which receipt broke the chain and why.
type ChainError struct {
	Index     int
	ReceiptID string
	Reason    string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("receipt chain broken at index %d (receipt %q): %s", e.Index, e.ReceiptID, e.Reason)
}

// Verify checks a whole chain from its first receipt: every hash, every
// signature, the links and the sequence numbers. It returns nil or a
// *ChainError for the first problem.
func Verify(chain []Receipt, keys KeyResolver) error {
	for i, r := range chain {
		fail := func(format string, args ...any) error {
			return &ChainError{Index: i, ReceiptID: r.ReceiptID, Reason: fmt.Sprintf(format, args...)}
		}
		h, err := r.ComputeHash()
		if err != nil {
			return fail("cannot hash receipt: %v", err)
		}
		if h != r.ReceiptHash {
			return fail("receipt_hash does not match the content (receipt edited)")
		}
		pub, ok := keys(r.SigningKeyID)
		if !ok || len(pub) != ed25519.PublicKeySize {
			return fail("unknown signing key %q", r.SigningKeyID)
		}
		sig, err := hex.DecodeString(r.Signature)
		if err != nil || !ed25519.Verify(pub, []byte(r.ReceiptHash), sig) {
			return fail("invalid signature")
		}
		if i == 0 {
			if r.PrevReceiptHash != nil || r.Sequence != 0 {
				return fail("chain does not start at its first receipt (earlier receipts deleted?)")
			}
			continue
		}
		prev := chain[i-1]
		switch {
		case r.TenantID != prev.TenantID:
			return fail("tenant %q differs from the previous receipt's %q", r.TenantID, prev.TenantID)
		case r.PrevReceiptHash == nil || *r.PrevReceiptHash != prev.ReceiptHash:
			return fail("prev_receipt_hash does not match receipt %d (receipt deleted, inserted or reordered)", i-1)
		case r.Sequence != prev.Sequence+1:
			return fail("sequence %d does not follow %d", r.Sequence, prev.Sequence)
		}
	}
	return nil
}
