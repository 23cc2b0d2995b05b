package decide

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"hallmonitor/core"
	"hallmonitor/core/receipt"
	"hallmonitor/hallapi/store"
)

func (s *Service) signer() receipt.Signer {
	return receipt.Signer{KeyID: KeyID(s.key.Public().(ed25519.PublicKey)), Key: s.key}
}

// KeyID names a Hall receipt-signing key: "hall-ed25519-" + 16 hex of SHA-256(public key).
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "hall-ed25519-" + hex.EncodeToString(sum[:8])
}

// SigningPublicKey is the Hall's receipt verification key and its key id.
func (s *Service) SigningPublicKey() (keyID string, pub ed25519.PublicKey) {
	pub = s.key.Public().(ed25519.PublicKey)
	return KeyID(pub), pub
}

// prevReceipt reads the receipt at the head of a tenant's chain (nil: the
// chain is empty).
func prevReceipt(prevJSON json.RawMessage, tenant string) (*receipt.Receipt, error) {
	if prevJSON == nil {
		return nil, nil
	}
	prev := new(receipt.Receipt)
	if err := json.Unmarshal(prevJSON, prev); err != nil {
		return nil, fmt.Errorf("previous receipt of tenant %q is corrupt: %w", tenant, err)
	}
	return prev, nil
}

// receiptFunc signs a decision's receipt into its tenant's chain, in the group commit's turn.
func (s *Service) receiptFunc(dec core.RouteDecision, packageHash *string) store.ReceiptFunc {
	sg := s.signer()
	// The decision hash does not depend on the chain: computed now, by the
	// request, not in the group commit's turn.
	dh, dhErr := receipt.DecisionHash(dec)
	return func(prevJSON json.RawMessage) ([]byte, string, error) {
		if dhErr != nil {
			return nil, "", dhErr
		}
		prev, err := prevReceipt(prevJSON, dec.TenantID)
		if err != nil {
			return nil, "", err
		}
		rc, err := receipt.NewHashed(dec, dh, packageHash, prev, sg, store.NewID("rct"), s.opts.Now())
		if err != nil {
			return nil, "", err
		}
		b, err := json.Marshal(rc)
		return b, rc.ReceiptHash, err
	}
}
