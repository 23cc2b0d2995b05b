// Package evidence builds and verifies evidence bundles: one file that
// proves, offline and without the Hall's database, what a Hall decided in
// a time range. A bundle is a DSSE envelope (payload type
// application/vnd.in-toto+json) signed with the Hall's Ed25519 receipt key
// around one in-toto v1 Statement. Its subjects are the receipts of the
// range (name "receipt:<receipt_id>", digest sha256 = receipt_hash); its
// predicate holds, per tenant chain, the receipts with the decisions they
// sign, the receipt just before the range (the link into the older chain)
// and the chain's head when the bundle was made (the link to the newer).
//
// One statement for the range, rather than one per receipt: the chain
// links between receipts are what a range proves, and one signature over
// the whole range also proves nothing was added to or left out of it; each
// receipt still carries its own signature, checked one by one.
//
// Verify checks everything with nothing but the file (and, to pin it, the
// Hall's public key) and reports each problem with where it is: the JSON
// path in the statement and the byte range in the file.
package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"hallmonitor/core/receipt"
)

// Names fixed by the formats.
const (
	PayloadType   = "application/vnd.in-toto+json"
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://hallmonitor.dev/evidence/receipt-range/v1"
)

// Envelope is a DSSE envelope.
type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"` // standard base64 of the statement
	Signatures  []Signature `json:"signatures"`
}

// Signature is one DSSE signature (standard base64 of Ed25519 over PAE).
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// Statement is an in-toto v1 statement.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Subject names one receipt by its hash.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Predicate is the range: who signed, which times, and the chains.
type Predicate struct {
	HallKeyID     string  `json:"hall_key_id"`
	HallPublicKey string  `json:"hall_public_key"` // hex Ed25519 public key
	From          string  `json:"from"`            // RFC 3339, inclusive
	To            string  `json:"to"`              // RFC 3339, inclusive
	Tenant        string  `json:"tenant"`          // "" = every tenant
	GeneratedAt   string  `json:"generated_at"`
	Chains        []Chain `json:"chains"`
}

// Chain is one tenant's receipts in the range, with its anchors.
type Chain struct {
	TenantID string `json:"tenant_id"`
	// Before is the receipt just before the range (null when the range
	// starts the chain): the first entry must link to it.
	Before  *receipt.Receipt `json:"before"`
	Entries []Entry          `json:"entries"`
	// Head is the chain's newest receipt when the bundle was made and
	// HeadLength the number of receipts the chain then had.
	Head       receipt.Receipt `json:"head"`
	HeadLength int             `json:"head_length"`
}

// Entry is one receipt and the decision (as stored) it signs.
type Entry struct {
	Receipt  receipt.Receipt `json:"receipt"`
	Decision json.RawMessage `json:"decision"`
}

// KeyID names a Hall receipt key as the Hall does (hallapi.KeyID):
// "hall-ed25519-" + 16 hex of SHA-256(public key).
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "hall-ed25519-" + hex.EncodeToString(sum[:8])
}

// PAE is DSSE's pre-authentication encoding of a payload.
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

// Build fills the statement's header and subjects from p and returns the
// signed bundle file (the envelope's JSON and a newline).
func Build(p Predicate, key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("evidence: the Hall's Ed25519 receipt key is required")
	}
	pub := key.Public().(ed25519.PublicKey)
	p.HallKeyID, p.HallPublicKey = KeyID(pub), hex.EncodeToString(pub)
	st := Statement{Type: StatementType, PredicateType: PredicateType, Predicate: p, Subject: []Subject{}}
	for _, c := range p.Chains {
		if c.Entries == nil {
			return nil, fmt.Errorf("evidence: chain %q has no entries list", c.TenantID)
		}
		for _, e := range c.Entries {
			st.Subject = append(st.Subject, Subject{Name: "receipt:" + e.Receipt.ReceiptID, Digest: map[string]string{"sha256": e.Receipt.ReceiptHash}})
		}
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	env := Envelope{PayloadType: PayloadType, Payload: base64.StdEncoding.EncodeToString(payload),
		Signatures: []Signature{{KeyID: p.HallKeyID, Sig: base64.StdEncoding.EncodeToString(ed25519.Sign(key, PAE(PayloadType, payload)))}}}
	return encodeEnvelope(env)
}

// encodeEnvelope is the one byte form of an envelope a bundle file has.
func encodeEnvelope(env Envelope) ([]byte, error) {
	b, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
