package attest

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Signer signs a manifest's SigningPayload and records the signature in it.
type Signer interface {
	SignManifest(m *Manifest) error
}

// Ed25519Signer signs with a namespace's Ed25519 private key (the default).
type Ed25519Signer struct{ Key ed25519.PrivateKey }

// SignManifest sets SignatureEd25519 and PublicKeyEd25519 (hex).
func (s Ed25519Signer) SignManifest(m *Manifest) error {
	if len(s.Key) != ed25519.PrivateKeySize {
		return fmt.Errorf("ed25519 private key must be %d bytes, got %d: generate one with `hallmonitor attest keygen`", ed25519.PrivateKeySize, len(s.Key))
	}
	m.SignatureEd25519 = hex.EncodeToString(ed25519.Sign(s.Key, m.SigningPayload()))
	m.PublicKeyEd25519 = hex.EncodeToString(s.Key.Public().(ed25519.PublicKey))
	return nil
}

// HMACSigner signs with a shared secret (HMAC-SHA256, reference-compatible).
type HMACSigner struct{ Secret []byte }

// SignManifest sets SignatureHMAC.
func (s HMACSigner) SignManifest(m *Manifest) error {
	if len(s.Secret) == 0 {
		return fmt.Errorf("HMAC secret is empty: set a non-empty secret (WCP_ATTEST_HMAC_KEY)")
	}
	m.SignatureHMAC = hmacHex(s.Secret, m.SigningPayload())
	return nil
}

func hmacHex(secret, payload []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(payload)
	return hex.EncodeToString(mac.Sum(nil))
}

// GenerateKey creates an Ed25519 key pair from rand (crypto/rand.Reader in
// production).
func GenerateKey(rand io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand)
}

// EncodePrivateKey returns the text form of a private key file: the 32-byte
// seed in hex followed by a newline.
func EncodePrivateKey(k ed25519.PrivateKey) string { return hex.EncodeToString(k.Seed()) + "\n" }

// EncodePublicKey returns the text form of a public key: 64 hex characters.
func EncodePublicKey(k ed25519.PublicKey) string { return hex.EncodeToString(k) }

// ParsePrivateKey reads a private key written by EncodePrivateKey.
func ParsePrivateKey(text string) (ed25519.PrivateKey, error) {
	seed, err := hex.DecodeString(strings.TrimSpace(text))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("private key must be %d hex characters (an Ed25519 seed): generate one with `hallmonitor attest keygen`", 2*ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKey reads a public key written by EncodePublicKey.
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(strings.TrimSpace(text))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key must be %d hex characters (Ed25519): use the .pub file written by `hallmonitor attest keygen`", 2*ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}
