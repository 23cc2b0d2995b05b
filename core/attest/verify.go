package attest

import (
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// Deny codes returned by Verify.
const (
	CodeManifestMissing    = "ATTEST_MANIFEST_MISSING"
	CodeManifestIDMismatch = "ATTEST_MANIFEST_ID_MISMATCH"
	CodeHashMismatch       = "ATTEST_HASH_MISMATCH"
	CodeSignatureMissing   = "ATTEST_SIGNATURE_MISSING"
	CodeSigInvalid         = "ATTEST_SIG_INVALID"
	// CodeNamespaceInvalid is returned when the worker_id carries no x.* or
	// org.* namespace (the reference raises ValueError instead).
	CodeNamespaceInvalid = "ATTEST_NAMESPACE_INVALID"
)

// Signature schemes reported in Result.Scheme.
const (
	SchemeEd25519 = "ed25519"
	SchemeHMAC    = "hmac-sha256"
)

// Trust holds what the Hall trusts for one worker's namespace: the Ed25519
// public key recorded at enrollment and/or an HMAC secret (compatibility).
type Trust struct {
	Ed25519    ed25519.PublicKey
	HMACSecret []byte
}

// VerifyOptions name the worker the package is expected to be.
type VerifyOptions struct {
	WorkerID        string
	WorkerSpeciesID string
	Trust           Trust
	// Manifest is the manifest JSON; when nil it is read from ManifestName
	// at the package root.
	Manifest []byte
	Now      time.Time // recorded as VerifiedAtUTC
}

// Result is the outcome of Verify. OK is true only when Code is empty.
type Result struct {
	OK             bool           `json:"ok"`
	Code           string         `json:"deny_code,omitempty"`
	Message        string         `json:"message,omitempty"`
	Namespace      string         `json:"namespace,omitempty"`
	PackageHash    string         `json:"package_hash,omitempty"`  // recomputed from the files
	ManifestHash   string         `json:"manifest_hash,omitempty"` // claimed by the manifest
	Scheme         string         `json:"scheme,omitempty"`
	ManifestSchema string         `json:"manifest_schema,omitempty"`
	AttestedAtUTC  string         `json:"attested_at_utc,omitempty"`
	VerifiedAtUTC  string         `json:"verified_at_utc,omitempty"`
	TrustStatement string         `json:"trust_statement,omitempty"`
	Meta           map[string]any `json:"meta,omitempty"`
}

func deny(r Result, code, msg string, meta map[string]any) Result {
	r.OK, r.Code, r.Message, r.Meta = false, code, msg, meta
	return r
}

// Verify checks the package in fsys against its manifest, in the reference
// order: manifest present and parseable, ids match, namespace valid, package
// hash matches, a signature the Hall can check is present, the signature is
// valid. An Ed25519 signature is checked with Trust.Ed25519; an HMAC
// signature with Trust.HMACSecret; any checkable signature that fails denies.
func Verify(fsys fs.FS, opts VerifyOptions) Result {
	r := Result{VerifiedAtUTC: opts.Now.UTC().Truncate(time.Second).Format(TimeFormat)}
	data := opts.Manifest
	if data == nil {
		b, err := readManifest(fsys)
		if errors.Is(err, fs.ErrNotExist) {
			return deny(r, CodeManifestMissing, "The package has no manifest.json: build one with `hallmonitor attest build`.", map[string]any{})
		}
		if err != nil {
			return deny(r, CodeManifestMissing, "The package manifest cannot be read: "+err.Error(), map[string]any{"error": err.Error()})
		}
		data = b
	}
	m, err := ParseManifest(data)
	if err != nil {
		return deny(r, CodeManifestMissing, "The package manifest is invalid: "+err.Error()+"; rebuild it with `hallmonitor attest build`.", map[string]any{"error": err.Error()})
	}
	r.ManifestHash, r.ManifestSchema, r.TrustStatement = m.PackageHash, m.SchemaVersion, m.TrustStatement
	r.AttestedAtUTC = m.AttestedAtUTC
	if r.AttestedAtUTC == "" {
		r.AttestedAtUTC = "unknown"
	}
	if m.WorkerID != opts.WorkerID || m.WorkerSpeciesID != opts.WorkerSpeciesID {
		return deny(r, CodeManifestIDMismatch,
			fmt.Sprintf("The manifest is for worker %q (species %q) but the package is enrolled as %q (species %q): rebuild the manifest for the enrolled ids.", m.WorkerID, m.WorkerSpeciesID, opts.WorkerID, opts.WorkerSpeciesID),
			map[string]any{"manifest_worker_id": m.WorkerID, "expected_worker_id": opts.WorkerID, "manifest_worker_species_id": m.WorkerSpeciesID, "expected_worker_species_id": opts.WorkerSpeciesID})
	}
	ns, err := Namespace(opts.WorkerID)
	if err != nil {
		return deny(r, CodeNamespaceInvalid, err.Error(), map[string]any{"worker_id": opts.WorkerID})
	}
	r.Namespace = ns
	computed, err := PackageHash(fsys)
	if err != nil {
		return deny(r, CodeHashMismatch, "The package cannot be hashed: "+err.Error(), map[string]any{"expected_hash": m.PackageHash, "computed_hash": "", "error": err.Error()})
	}
	r.PackageHash = computed
	if m.PackageHash == "" || m.PackageHash != computed {
		return deny(r, CodeHashMismatch,
			fmt.Sprintf("The package files do not match the manifest (manifest sha256:%s, files sha256:%s): the package changed after attestation; re-attest it or investigate tampering.", m.PackageHash, computed),
			map[string]any{"expected_hash": m.PackageHash, "computed_hash": computed})
	}
	payload := m.SigningPayload()
	switch {
	case m.SignatureEd25519 != "" && len(opts.Trust.Ed25519) == ed25519.PublicKeySize:
		r.Scheme = SchemeEd25519
		sig, err := hex.DecodeString(m.SignatureEd25519)
		if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(opts.Trust.Ed25519, payload, sig) {
			return deny(r, CodeSigInvalid, fmt.Sprintf("The manifest's Ed25519 signature does not verify with the public key recorded for namespace %s: re-sign with that namespace's key or re-enroll with the right public key.", ns), map[string]any{})
		}
	case m.SignatureHMAC != "" && len(opts.Trust.HMACSecret) > 0:
		r.Scheme = SchemeHMAC
		if !hmac.Equal([]byte(m.SignatureHMAC), []byte(hmacHex(opts.Trust.HMACSecret, payload))) {
			return deny(r, CodeSigInvalid, "The manifest's HMAC-SHA256 signature does not match the configured secret: re-sign with the right secret.", map[string]any{})
		}
	default:
		return deny(r, CodeSignatureMissing, signatureMissingMessage(m, opts.Trust, ns), map[string]any{
			"signature_present":   m.SignatureEd25519 != "" || m.SignatureHMAC != "",
			"ed25519_signature":   m.SignatureEd25519 != "",
			"hmac_signature":      m.SignatureHMAC != "",
			"public_key_recorded": len(opts.Trust.Ed25519) == ed25519.PublicKeySize,
			"secret_env_set":      len(opts.Trust.HMACSecret) > 0,
			"secret_env":          "WCP_ATTEST_HMAC_KEY",
		})
	}
	r.OK = true
	return r
}

func signatureMissingMessage(m *Manifest, t Trust, ns string) string {
	switch {
	case m.SignatureEd25519 == "" && m.SignatureHMAC == "":
		return "The manifest is unsigned: sign it with `hallmonitor attest build --key <namespace key>`."
	case m.SignatureEd25519 != "":
		return fmt.Sprintf("The manifest is signed with Ed25519 but no public key is recorded for namespace %s: enroll the worker with --public-key.", ns)
	default:
		return "The manifest has only an HMAC-SHA256 signature and no HMAC secret is configured: set WCP_ATTEST_HMAC_KEY or re-sign with Ed25519."
	}
}

func readManifest(fsys fs.FS) ([]byte, error) {
	f, err := fsys.Open(ManifestName)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxManifestSize+1))
	if err != nil {
		return nil, err
	}
	return b, nil
}
