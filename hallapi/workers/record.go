package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"hallmonitor/core/attest"
	"hallmonitor/core/canon"
	"hallmonitor/core/wcpid"
	"hallmonitor/hallapi/store"
)

// RecordCheck is one enrollment validation result (docs/api.md, POST /api/workers/validate).
type RecordCheck struct {
	Field   string `json:"field"`
	OK      bool   `json:"ok"`
	Warning bool   `json:"warning"`
	Message string `json:"message"`
	// Code is the API error code when !OK: missing_field or invalid_field.
	Code string `json:"-"`
}

// RecordError is a record that cannot be validated at all (not JSON, not an object).
type RecordError struct {
	Code, Message string
}

func (e *RecordError) Error() string { return "record: " + e.Message }

// PackageVerifier checks a worker's package for enrollment (*Service, or
// StaticVerifier when no Hall is running).
type PackageVerifier interface {
	VerifyPackage(ctx context.Context, w store.Worker) (store.Attestation, error)
}

// StaticVerifier verifies a package once, with no watcher: what the CLI uses.
type StaticVerifier struct {
	HMACSecret []byte
	Now        func() time.Time
}

// VerifyPackage checks the package like Service.VerifyPackage.
func (v StaticVerifier) VerifyPackage(_ context.Context, w store.Worker) (store.Attestation, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	return verifyForEnrollment(w, v.HMACSecret, now())
}

// EnrollRequest is one enrollment or validation: a registry record and,
// optionally, the worker's package directory and the namespace's Ed25519
// public key (hex). It is the one input of the Hall's one enrollment rule,
// used by POST /api/workers/validate and /enroll, `hallmonitor enroll` and
// the Enroll screen.
type EnrollRequest struct {
	Record      json.RawMessage
	PackagePath string
	// PublicKeyEd25519 is recorded in the record's attestation block; the
	// package's manifest must verify with it.
	PublicKeyEd25519 string
	// RequireArtifactHash makes artifact_hash mandatory (the reference's
	// POST /enroll); otherwise a missing one is a warning.
	RequireArtifactHash bool
	// WorkersDir resolves a relative PackagePath ("" refuses it).
	WorkersDir string
	// Confined refuses a package that does not resolve (symbolic links
	// followed) inside WorkersDir: the API's rule, so that what the window
	// or a browser enrolls is only ever code in the person's workers
	// folder. The CLI, given an explicit folder at the person's own shell,
	// is not confined.
	Confined bool
	// Packages verifies the package; nil is StaticVerifier{} (no HMAC).
	Packages PackageVerifier
}

// Validation is the outcome of ValidateRecord.
type Validation struct {
	Checks []RecordCheck
	// Record is the record as sent (decoded, numbers kept exact).
	Record map[string]any
	// Worker is what enrollment stores; Worker.Record includes the
	// attestation block (namespace key, registered package hash).
	Worker store.Worker
	// HashOK reports a present and matching artifact_hash.
	HashOK bool
}

func (v *Validation) add(c RecordCheck) { v.Checks = append(v.Checks, c) }

// Failing returns the first failed check, nil when the record is valid.
func (v *Validation) Failing() *RecordCheck {
	for i := range v.Checks {
		if !v.Checks[i].OK {
			return &v.Checks[i]
		}
	}
	return nil
}

// Valid reports whether every check passed (warnings allowed).
func (v *Validation) Valid() bool { return v.Failing() == nil }

// RecordArtifactHash is the record self-hash of the reference Hall API
// (wcp-reference §5.3): "sha256:" + SHA-256 of the record without
// artifact_hash as sorted, compact JSON.
func RecordArtifactHash(rec map[string]any) (string, error) {
	m := make(map[string]any, len(rec))
	for k, v := range rec {
		if k != "artifact_hash" {
			m[k] = v
		}
	}
	b, err := canon.Marshal(canon.Compact, m)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// ValidateRecord runs the enrollment checks: the five UP-RS checks of the
// reference desktop app (species id, capabilities, blast score, guarantee,
// DLQ handler), WCP ids, control ids, the record self-hash (artifact_hash)
// and, with a package, its attestation: a package that does not verify
// fails. It does not store anything.
func ValidateRecord(ctx context.Context, req EnrollRequest) (*Validation, error) {
	raw := req.Record
	if len(raw) == 0 || string(raw) == "null" {
		return nil, &RecordError{"missing_field", "record is required: the worker's registry record (a JSON object)"}
	}
	g, err := canon.Decode(raw)
	if err != nil {
		return nil, &RecordError{"bad_json", fmt.Sprintf("record is not valid JSON: %v", err)}
	}
	rec, ok := g.(map[string]any)
	if !ok {
		return nil, &RecordError{"invalid_field", "record must be a JSON object"}
	}
	v := &Validation{Record: rec}
	checkIDs(v, rec)
	checkScores(v, rec)
	checkWorkerID(v, rec)
	checkControls(v, rec)
	if err := checkSelfHash(v, rec, req.RequireArtifactHash); err != nil {
		return nil, err
	}
	w := &v.Worker
	w.Attestation = store.Attestation{State: store.AttestationUnknown, Reason: "no package_path given"}
	stored := maps(rec)
	if req.PackagePath == "" {
		if req.PublicKeyEd25519 != "" {
			v.add(RecordCheck{Field: "public_key", Code: "invalid_field", Message: "a namespace key is only recorded with a package: give the package folder too"})
		}
	} else {
		checkPackage(ctx, v, req, stored)
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return nil, &RecordError{"invalid_field", fmt.Sprintf("record cannot be stored: %v", err)}
	}
	w.Record = b
	return v, nil
}

// maps copies the top level of a record (the attestation block is replaced, never edited in place).
func maps(rec map[string]any) map[string]any {
	m := make(map[string]any, len(rec)+1)
	for k, v := range rec {
		m[k] = v
	}
	return m
}

func checkIDs(v *Validation, rec map[string]any) {
	w := &v.Worker
	key := "worker_species_id"
	sp, present := rec[key]
	if !present {
		if alt, ok := rec["species_id"]; ok {
			key, sp, present = "species_id", alt, true
		}
	}
	spStr, isStr := sp.(string)
	switch {
	case !present:
		v.add(RecordCheck{Field: "worker_species_id", Message: "Missing required field: worker_species_id (or species_id)", Code: "missing_field"})
	case !isStr || !strings.HasPrefix(spStr, "wrk."):
		v.add(RecordCheck{Field: key, Message: "Species ID must start with 'wrk.'", Code: "invalid_field"})
	default:
		if err := wcpid.Validate(wcpid.Species, spStr); err != nil {
			v.add(RecordCheck{Field: key, Message: "Species ID is not a valid WCP id: " + err.Error(), Code: "invalid_field"})
		} else {
			v.add(RecordCheck{Field: key, OK: true, Message: "Species ID format valid"})
			w.WorkerSpeciesID = spStr
		}
	}

	caps, present := rec["capabilities"]
	list, isList := caps.([]any)
	switch {
	case !present:
		v.add(RecordCheck{Field: "capabilities", Message: "Missing required field: capabilities", Code: "missing_field"})
	case !isList || len(list) == 0:
		v.add(RecordCheck{Field: "capabilities", Message: "No capabilities declared", Code: "invalid_field"})
	default:
		if bad := stringIDs(list, "capabilities", wcpid.Capability, &w.Capabilities); bad != "" {
			v.add(RecordCheck{Field: "capabilities", Message: bad, Code: "invalid_field"})
		} else {
			v.add(RecordCheck{Field: "capabilities", OK: true, Message: fmt.Sprintf("Capabilities declared (%d)", len(w.Capabilities))})
		}
	}
}

func checkWorkerID(v *Validation, rec map[string]any) {
	w := &v.Worker
	switch id, present := rec["worker_id"]; {
	case !present:
		v.add(RecordCheck{Field: "worker_id", Message: "Missing required field: worker_id (e.g. x.you.summarizer)", Code: "missing_field"})
	default:
		ids, ok := id.(string)
		if !ok {
			v.add(RecordCheck{Field: "worker_id", Message: "worker_id must be a string", Code: "invalid_field"})
		} else if err := wcpid.Validate(wcpid.Worker, ids); err != nil {
			v.add(RecordCheck{Field: "worker_id", Message: "worker_id is not a valid WCP worker id: " + err.Error(), Code: "invalid_field"})
		} else {
			w.WorkerID = ids
			v.add(RecordCheck{Field: "worker_id", OK: true, Message: "Worker ID valid"})
		}
	}
}

// stringIDs appends the distinct ids of list to dst; it returns what is wrong, "" when nothing.
func stringIDs(list []any, field string, kind wcpid.Kind, dst *[]string) string {
	for i, c := range list {
		cs, ok := c.(string)
		if !ok {
			return fmt.Sprintf("%s[%d] is not a string", field, i)
		}
		if err := wcpid.Validate(kind, cs); err != nil {
			return fmt.Sprintf("%s[%d]: %v", field, i, err)
		}
		if !slices.Contains(*dst, cs) {
			*dst = append(*dst, cs)
		}
	}
	return ""
}

func checkScores(v *Validation, rec map[string]any) {
	w := &v.Worker
	bs, ok := rec["blast_score"].(json.Number)
	if !ok {
		v.add(RecordCheck{Field: "blast_score", Message: "Missing or invalid blast_score (required, 0–100)", Code: "missing_field"})
	} else if f, err := bs.Float64(); err != nil || f < 0 || f > 100 || f != float64(int(f)) {
		v.add(RecordCheck{Field: "blast_score", Message: "Blast score must be 0–100", Code: "invalid_field"})
	} else {
		n := int(f)
		w.BlastScore = &n
		v.add(RecordCheck{Field: "blast_score", OK: true, Message: fmt.Sprintf("Blast score in bounds (%d/100)", n)})
	}

	switch g, present := rec["guarantee"]; {
	case !present:
		v.add(RecordCheck{Field: "guarantee", Message: "Missing required field: guarantee (best-effort | at-least-once | exactly-once)", Code: "missing_field"})
	case g == "best-effort" || g == "at-least-once" || g == "exactly-once":
		w.Guarantee = g.(string)
		v.add(RecordCheck{Field: "guarantee", OK: true, Message: fmt.Sprintf("Guarantee '%s' is valid", w.Guarantee)})
	default:
		v.add(RecordCheck{Field: "guarantee", Message: "Guarantee must be: best-effort | at-least-once | exactly-once", Code: "invalid_field"})
	}

	if d, ok := rec["dlq_handler"]; ok && d != nil && d != "" {
		v.add(RecordCheck{Field: "dlq_handler", OK: true, Message: "DLQ handler declared"})
	} else {
		v.add(RecordCheck{Field: "dlq_handler", OK: true, Warning: true, Message: "WARNING: No DLQ handler declared (recommended for production workers)"})
	}
	if rt, ok := rec["risk_tier"].(string); ok {
		w.RiskTier = rt
	}
}

func checkControls(v *Validation, rec map[string]any) {
	ci, present := rec["currently_implements"]
	if !present {
		return
	}
	list, ok := ci.([]any)
	bad := "currently_implements must be a list of control ids"
	if ok {
		bad = stringIDs(list, "currently_implements", wcpid.Control, &v.Worker.Controls)
	}
	if bad != "" {
		v.add(RecordCheck{Field: "currently_implements", Message: bad, Code: "invalid_field"})
		return
	}
	v.add(RecordCheck{Field: "currently_implements", OK: true, Message: fmt.Sprintf("Controls declared (%d)", len(v.Worker.Controls))})
}

func checkSelfHash(v *Validation, rec map[string]any, require bool) error {
	want, err := RecordArtifactHash(rec)
	if err != nil {
		return &RecordError{"invalid_field", fmt.Sprintf("record cannot be hashed: %v", err)}
	}
	switch ah, present := rec["artifact_hash"]; {
	case !present && !require:
		v.add(RecordCheck{Field: "artifact_hash", OK: true, Warning: true, Message: "WARNING: no artifact_hash: the record's integrity cannot be checked (this record's is " + want + ")"})
	case !present:
		v.add(RecordCheck{Field: "artifact_hash", Message: "Missing required field: artifact_hash (" + want + " for this record)", Code: "missing_field"})
	case ah != want:
		v.add(RecordCheck{Field: "artifact_hash", Message: "DENY_WORKER_TAMPERED: artifact_hash mismatch — record was tampered (expected " + want + ")", Code: "invalid_field"})
	default:
		v.HashOK = true
		v.Worker.ArtifactHash = want
		v.add(RecordCheck{Field: "artifact_hash", OK: true, Message: "artifact_hash verified"})
	}
	return nil
}

// checkPackage resolves the package folder, records the namespace key in the
// stored record's attestation block and verifies the package with it. A
// package that does not verify fails the check, naming what is missing.
func checkPackage(ctx context.Context, v *Validation, req EnrollRequest, stored map[string]any) {
	w := &v.Worker
	p := req.PackagePath
	if !filepath.IsAbs(p) {
		if req.WorkersDir == "" {
			v.add(RecordCheck{Field: "package_path", Message: "package_path " + p + " is relative and no workers_dir is configured: give an absolute directory path", Code: "invalid_field"})
			return
		}
		p = filepath.Join(req.WorkersDir, p)
	}
	p = filepath.Clean(p)
	if req.Confined {
		if msg := outsideWorkersDir(p, req.WorkersDir); msg != "" {
			v.add(RecordCheck{Field: "package_path", Message: msg, Code: "invalid_field"})
			return
		}
	}
	if err := CheckLayout(p); err != nil {
		v.add(RecordCheck{Field: "package_path", Message: err.Error(), Code: "invalid_field"})
		return
	}
	w.PackagePath = p
	if !v.Valid() {
		return // the verifier needs a well-formed record
	}
	ra, _ := recordAttestation(stored)
	if k := strings.TrimSpace(req.PublicKeyEd25519); k != "" {
		ra.PublicKeyEd25519 = k
	}
	ra.SourceFile = p
	stored["attestation"] = ra
	b, err := json.Marshal(stored)
	if err != nil {
		v.add(RecordCheck{Field: "record", Message: "record cannot be stored: " + err.Error(), Code: "invalid_field"})
		return
	}
	w.Record = b
	pv := req.Packages
	if pv == nil {
		pv = StaticVerifier{}
	}
	att, err := pv.VerifyPackage(ctx, *w)
	if err != nil {
		v.add(RecordCheck{Field: "package_path", Message: "package could not be verified: " + err.Error(), Code: "invalid_field"})
		return
	}
	w.Attestation = att
	switch att.State {
	case store.AttestationVerified:
		ra.CodeHash = att.RegisteredHash
		stored["attestation"] = ra
		v.add(RecordCheck{Field: "package_path", OK: true, Message: "Package attested (sha256:" + att.PackageHash + ")"})
	case store.AttestationTampered:
		v.add(RecordCheck{Field: "package_path", Message: "DENY_WORKER_TAMPERED: package does not match its attestation: " + att.Reason, Code: "invalid_field"})
	case store.AttestationMissing:
		msg := "package unsigned: " + p + " has no manifest.json: sign it with “Sign this package” on the Enroll screen or `hallmonitor attest build`"
		if att.DenyCode != attest.CodeManifestMissing || !strings.Contains(att.Reason, "manifest") {
			msg = "package " + att.State + ": " + att.Reason
		}
		v.add(RecordCheck{Field: "package_path", Message: msg, Code: "invalid_field"})
	default:
		v.add(RecordCheck{Field: "package_path", Message: "package " + att.State + ": " + att.Reason + " (choose the namespace public key its manifest was signed with)", Code: "invalid_field"})
	}
}

// outsideWorkersDir explains why package p may not be enrolled from the
// workers folder dir ("" when it may): p must resolve, symbolic links
// followed, to a folder inside dir, so the Hall only ever runs code the
// person put in their workers folder.
func outsideWorkersDir(p, dir string) string {
	if dir == "" {
		return "no workers folder is configured: set workers_dir in Settings › Setup and put the package there"
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "the workers folder " + dir + " cannot be read (" + err.Error() + "): create it, or set workers_dir in Settings › Setup"
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "package_path " + p + " does not exist: give the package's folder inside the workers folder " + dir
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "package_path " + p + " resolves to " + real + ", outside the workers folder " + root +
			": copy the package into the workers folder (workers_dir) and enroll it from there"
	}
	return ""
}

// recordAttestation reads the record's attestation block, if any.
func recordAttestation(rec map[string]any) (RecordAttestation, error) {
	a, ok := rec["attestation"]
	if !ok || a == nil {
		return RecordAttestation{}, nil
	}
	b, err := json.Marshal(map[string]any{"attestation": a})
	if err != nil {
		return RecordAttestation{}, err
	}
	return ReadRecordAttestation(b)
}

// verifyForEnrollment is the package check of (re-)enrollment: the
// namespace key and any pinned code_hash come from w.Record; what verifies
// now is registered unless the record pins a hash.
func verifyForEnrollment(w store.Worker, hmacSecret []byte, now time.Time) (store.Attestation, error) {
	e, err := EnrollmentOf(w)
	if err != nil {
		return store.Attestation{}, err
	}
	if e.PackagePath == "" {
		return store.Attestation{}, fmt.Errorf("package_path is empty: pass the worker's package directory")
	}
	if e.PackagePath, err = filepath.Abs(e.PackagePath); err != nil {
		return store.Attestation{}, fmt.Errorf("package_path %q: %w", w.PackagePath, err)
	}
	ra, _ := ReadRecordAttestation(w.Record)
	e.RegisteredHash = ra.CodeHash
	a := Check(e, hmacSecret, now)
	if a.State == StateVerified && a.RegisteredHash == "" {
		a.RegisteredHash = a.PackageHash
	}
	return a, nil
}

// RefusedError is an enrollment refused by a failing check.
type RefusedError struct {
	Validation *Validation
}

func (e *RefusedError) Error() string {
	return e.Field() + ": " + e.Validation.Failing().Message
}

// Field is the request field the failing check names: package_path or
// public_key as such, record.<field> otherwise.
func (e *RefusedError) Field() string {
	f := e.Validation.Failing().Field
	if f == "package_path" || f == "public_key" {
		return f
	}
	return "record." + f
}
