package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Token is the local API bearer token. It redacts itself in logs.
type Token string

// LogValue implements slog.LogValuer so a token is never logged.
func (Token) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String redacts the token for %v / %s formatting; use string(t) for the value.
func (Token) String() string { return "[redacted]" }

const tokenBytes = 32

// LoadOrCreateToken returns the API token in <configDir>/api-token, creating
// a new random one (mode 0600) when the file does not exist. A file that is
// readable by group or others is refused: fix its mode or rotate the token.
func LoadOrCreateToken(configDir string) (Token, error) {
	return loadOrCreateSecret(configDir, TokenFileName, "")
}

// AdminTokenFileName holds the person's credential for the CLI and for
// opening a browser session (docs/api.md "Who may call what").
const AdminTokenFileName = "admin-token"

// AdminTokenPrefix starts every admin credential, so a pasted credential
// says what it is.
const AdminTokenPrefix = "hmp_"

// LoadOrCreateAdminToken returns the person's credential in
// <configDir>/admin-token (0600), creating it when missing. Agents never get
// it: it governs (approvals, rules, enrollment, settings, agent tokens).
func LoadOrCreateAdminToken(configDir string) (Token, error) {
	return loadOrCreateSecret(configDir, AdminTokenFileName, AdminTokenPrefix)
}

func loadOrCreateSecret(configDir, name, prefix string) (Token, error) {
	p := filepath.Join(configDir, name)
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return writeSecret(configDir, name, prefix)
	}
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by other users (mode %o): run chmod 600 on it or delete it to generate a new token", p, st.Mode().Perm())
	}
	b, err := readLimited(p, 4096)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if len(t) < 32 {
		return "", fmt.Errorf("%s holds a token shorter than 32 characters: delete the file to generate a new token", p)
	}
	return Token(t), nil
}

// RotateToken generates a new random token and writes it to <configDir>/api-token (0600).
func RotateToken(configDir string) (Token, error) {
	return writeSecret(configDir, TokenFileName, "")
}

// WriteToken writes t as the api-token file (0600): the token the first
// agent reads.
func WriteToken(configDir string, t Token) error {
	if err := WriteFileAtomic(filepath.Join(configDir, TokenFileName), []byte(string(t)+"\n"), 0o600); err != nil {
		return fmt.Errorf("write api token: %w", err)
	}
	return nil
}

func writeSecret(configDir, name, prefix string) (Token, error) {
	buf := make([]byte, tokenBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	t := prefix + hex.EncodeToString(buf)
	if err := WriteFileAtomic(filepath.Join(configDir, name), []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return Token(t), nil
}

// LoadOrCreateSigningKey returns the Hall's Ed25519 key stored in
// <dataDir>/hall-key (hex of the 32-byte seed, mode 0600), creating it when missing.
func LoadOrCreateSigningKey(dataDir string) (ed25519.PrivateKey, error) {
	k, err := LoadSigningKey(dataDir)
	if !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(dataDir, SigningKeyFileName), []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// LoadSigningKey reads the Hall's key from <dataDir>/hall-key and never
// creates it: a missing key is an error matching os.ErrNotExist (the CLI
// reading another Hall's evidence must not make a key of its own).
func LoadSigningKey(dataDir string) (ed25519.PrivateKey, error) {
	p := filepath.Join(dataDir, SigningKeyFileName)
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by other users (mode %o): run chmod 600 on it", p, st.Mode().Perm())
	}
	b, err := readLimited(p, 4096)
	if err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s is not a hex Ed25519 seed of %d bytes: restore it from a backup (receipts signed with it cannot be re-signed)", p, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
