package workers

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"hallmonitor/core/attest"
	"hallmonitor/hallapi/store"
)

// Attestation states (docs/api.md Worker.attestation.state).
const (
	StateVerified = store.AttestationVerified
	StateTampered = store.AttestationTampered
	StateUnsigned = store.AttestationUnsigned
	StateMissing  = store.AttestationMissing
	StateUnknown  = store.AttestationUnknown
)

// Attestation is the attestation object of a Worker in the Hall API.
type Attestation = store.Attestation

// Enrollment is what the workers service needs to know about an enrolled
// worker.
type Enrollment struct {
	WorkerID        string
	WorkerSpeciesID string
	PackagePath     string
	// RegisteredHash is the package hash recorded at enrollment (the
	// record's attestation.code_hash).
	RegisteredHash string
	// PublicKeyEd25519 is the namespace's public key recorded at
	// enrollment (hex), "" when none.
	PublicKeyEd25519 string
	// Attestation is the last stored attestation state.
	Attestation Attestation
}

// EnrollmentOf reads the enrollment facts of a stored worker: the
// registered hash and namespace key come from the record's attestation block
// (code_hash, public_key_ed25519), the registered hash falling back to the
// stored attestation's.
func EnrollmentOf(w store.Worker) (Enrollment, error) {
	ra, err := ReadRecordAttestation(w.Record)
	e := Enrollment{WorkerID: w.WorkerID, WorkerSpeciesID: w.WorkerSpeciesID, PackagePath: w.PackagePath,
		RegisteredHash: ra.CodeHash, PublicKeyEd25519: ra.PublicKeyEd25519, Attestation: w.Attestation}
	if e.RegisteredHash == "" {
		e.RegisteredHash = w.Attestation.RegisteredHash
	}
	return e, err
}

// RecordAttestation is the attestation block of a registry record as this
// Hall reads it: code_hash (the registered package hash, 64 lowercase hex)
// and public_key_ed25519 (the namespace key, hex).
type RecordAttestation struct {
	CodeHash         string `json:"code_hash,omitempty"`
	SourceFile       string `json:"source_file,omitempty"`
	PublicKeyEd25519 string `json:"public_key_ed25519,omitempty"`
}

// ReadRecordAttestation extracts the attestation block of a raw registry
// record; a record without one yields the zero value.
func ReadRecordAttestation(record json.RawMessage) (RecordAttestation, error) {
	var r struct {
		Attestation *RecordAttestation `json:"attestation"`
	}
	if len(record) == 0 {
		return RecordAttestation{}, nil
	}
	if err := json.Unmarshal(record, &r); err != nil {
		return RecordAttestation{}, fmt.Errorf("record.attestation must be an object with string fields code_hash and public_key_ed25519: %w", err)
	}
	if r.Attestation == nil {
		return RecordAttestation{}, nil
	}
	return *r.Attestation, nil
}

// Trust builds the attest.Trust for an enrollment: the recorded namespace key
// plus the Hall's HMAC secret (compatibility; may be empty).
func (e Enrollment) Trust(hmacSecret []byte) (attest.Trust, error) {
	t := attest.Trust{HMACSecret: hmacSecret}
	if e.PublicKeyEd25519 != "" {
		k, err := attest.ParsePublicKey(e.PublicKeyEd25519)
		if err != nil {
			return t, fmt.Errorf("worker %s: record.attestation.public_key_ed25519: %w", e.WorkerID, err)
		}
		t.Ed25519 = k
	}
	return t, nil
}

// Check verifies an enrolled package now and returns its attestation state:
// verified (manifest valid and files hash to the registered hash), tampered
// (files or manifest changed: ATTEST_HASH_MISMATCH, ATTEST_SIG_INVALID,
// ATTEST_MANIFEST_ID_MISMATCH, or a valid manifest for other files than the
// registered ones), missing (no package or manifest), unsigned (no signature
// the Hall can check).
func Check(e Enrollment, hmacSecret []byte, now time.Time) Attestation {
	a := Attestation{RegisteredHash: e.RegisteredHash, CheckedAt: now.UTC().Format(time.RFC3339)}
	if e.PackagePath == "" {
		a.State, a.Reason = StateUnknown, "no package directory is enrolled for this worker"
		return a
	}
	if st, err := os.Stat(e.PackagePath); err != nil || !st.IsDir() {
		a.State, a.DenyCode = StateMissing, attest.CodeManifestMissing
		a.Reason = fmt.Sprintf("package directory %s is gone or not a directory: restore it or re-enroll the worker", e.PackagePath)
		return a
	}
	trust, err := e.Trust(hmacSecret)
	if err != nil {
		a.State, a.DenyCode, a.Reason = StateUnsigned, attest.CodeSignatureMissing, err.Error()
		return a
	}
	r := attest.Verify(os.DirFS(e.PackagePath), attest.VerifyOptions{
		WorkerID: e.WorkerID, WorkerSpeciesID: e.WorkerSpeciesID, Trust: trust, Now: now,
	})
	a.PackageHash = r.PackageHash
	if a.PackageHash == "" {
		// The check stopped before hashing; hash anyway so the registry
		// view can compare files with the registered hash.
		if h, err := attest.PackageHash(os.DirFS(e.PackagePath)); err == nil {
			a.PackageHash = h
		}
	}
	switch {
	case r.OK && e.RegisteredHash != "" && r.PackageHash != e.RegisteredHash:
		a.State, a.DenyCode = StateTampered, attest.CodeHashMismatch
		a.Reason = fmt.Sprintf("package now hashes to sha256:%s but sha256:%s was registered at enrollment: the package and its manifest were replaced; re-enroll it if intended", r.PackageHash, e.RegisteredHash)
	case r.OK:
		a.State = StateVerified
	case r.Code == attest.CodeManifestMissing:
		a.State, a.DenyCode, a.Reason = StateMissing, r.Code, r.Message
	case r.Code == attest.CodeSignatureMissing:
		a.State, a.DenyCode, a.Reason = StateUnsigned, r.Code, r.Message
	default:
		a.State, a.DenyCode, a.Reason = StateTampered, r.Code, r.Message
	}
	return a
}
