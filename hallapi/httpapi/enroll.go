package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"hallmonitor/core/canon"
	"hallmonitor/core/wcpid"
	"hallmonitor/hallapi/store"
)

// Check is one enrollment validation result.
type Check struct {
	Field   string `json:"field"`
	OK      bool   `json:"ok"`
	Warning bool   `json:"warning"`
	Message string `json:"message"`
	code    string // error code when !OK
}

// enrollBody is the body of /api/workers/validate and /api/workers/enroll.
type enrollBody struct {
	Record      json.RawMessage `json:"record"`
	PackagePath string          `json:"package_path"`
}

// RecordArtifactHash is the reference Hall API's record hash:
// "sha256:" + SHA-256 of the record without artifact_hash as sorted, compact JSON.
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

type validation struct {
	checks  []Check
	record  map[string]any
	worker  store.Worker
	hashOK  bool
	failing *Check
}

func (v *validation) add(c Check) {
	v.checks = append(v.checks, c)
	if !c.OK && v.failing == nil {
		v.failing = &v.checks[len(v.checks)-1]
	}
}

func (v *validation) valid() bool { return v.failing == nil }

// validateRecord runs the enrollment checks: the five UP-RS checks of the
// reference desktop app (species id, capabilities, blast score, guarantee,
// DLQ handler), WCP id validation, the reference Hall API's artifact_hash
// check, control ids, and the package attestation when package_path is set.
func (s *Server) validateRecord(ctx context.Context, raw json.RawMessage, packagePath string, requireHash bool) (*validation, *httpError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errf(http.StatusBadRequest, "missing_field", "record", "record is required: the worker's registry record (a JSON object)")
	}
	g, err := canon.Decode(raw)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "bad_json", "record", "record is not valid JSON: %v", err)
	}
	rec, ok := g.(map[string]any)
	if !ok {
		return nil, errf(http.StatusBadRequest, "invalid_field", "record", "record must be a JSON object")
	}
	v := &validation{record: rec}
	w := &v.worker

	// 1. species id (WCP worker_species_id; UP-RS species_id accepted).
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
		v.add(Check{Field: "worker_species_id", Message: "Missing required field: worker_species_id (or species_id)", code: "missing_field"})
	case !isStr || !strings.HasPrefix(spStr, "wrk."):
		v.add(Check{Field: key, Message: "Species ID must start with 'wrk.'", code: "invalid_field"})
	default:
		if err := wcpid.Validate(wcpid.Species, spStr); err != nil {
			v.add(Check{Field: key, Message: "Species ID is not a valid WCP id: " + err.Error(), code: "invalid_field"})
		} else {
			v.add(Check{Field: key, OK: true, Message: "Species ID format valid"})
			w.WorkerSpeciesID = spStr
		}
	}

	// 2. capabilities.
	switch caps, present := rec["capabilities"]; {
	case !present:
		v.add(Check{Field: "capabilities", Message: "Missing required field: capabilities", code: "missing_field"})
	default:
		list, ok := caps.([]any)
		if !ok || len(list) == 0 {
			v.add(Check{Field: "capabilities", Message: "No capabilities declared", code: "invalid_field"})
			break
		}
		bad := ""
		for i, c := range list {
			cs, ok := c.(string)
			if !ok {
				bad = fmt.Sprintf("capabilities[%d] is not a string", i)
				break
			}
			if err := wcpid.Validate(wcpid.Capability, cs); err != nil {
				bad = fmt.Sprintf("capabilities[%d]: %v", i, err)
				break
			}
			if !contains(w.Capabilities, cs) {
				w.Capabilities = append(w.Capabilities, cs)
			}
		}
		if bad != "" {
			v.add(Check{Field: "capabilities", Message: bad, code: "invalid_field"})
		} else {
			v.add(Check{Field: "capabilities", OK: true, Message: fmt.Sprintf("Capabilities declared (%d)", len(w.Capabilities))})
		}
	}

	// 3. blast_score.
	bs, ok := rec["blast_score"].(json.Number)
	if !ok {
		v.add(Check{Field: "blast_score", Message: "Missing or invalid blast_score (required, 0–100)", code: "missing_field"})
	} else if f, err := bs.Float64(); err != nil || f < 0 || f > 100 || f != float64(int(f)) {
		v.add(Check{Field: "blast_score", Message: "Blast score must be 0–100", code: "invalid_field"})
	} else {
		n := int(f)
		w.BlastScore = &n
		v.add(Check{Field: "blast_score", OK: true, Message: fmt.Sprintf("Blast score in bounds (%d/100)", n)})
	}

	// 4. guarantee.
	switch g, present := rec["guarantee"]; {
	case !present:
		v.add(Check{Field: "guarantee", Message: "Missing required field: guarantee", code: "missing_field"})
	case g == "best-effort" || g == "at-least-once" || g == "exactly-once":
		w.Guarantee = g.(string)
		v.add(Check{Field: "guarantee", OK: true, Message: fmt.Sprintf("Guarantee '%s' is valid", w.Guarantee)})
	default:
		v.add(Check{Field: "guarantee", Message: "Guarantee must be: best-effort | at-least-once | exactly-once", code: "invalid_field"})
	}

	// 5. dlq_handler (presence only).
	if d, ok := rec["dlq_handler"]; ok && d != nil && d != "" {
		v.add(Check{Field: "dlq_handler", OK: true, Message: "DLQ handler declared"})
	} else {
		v.add(Check{Field: "dlq_handler", OK: true, Warning: true, Message: "WARNING: No DLQ handler declared (recommended for production workers)"})
	}

	// WCP worker id (the enrollment key).
	switch id, present := rec["worker_id"]; {
	case !present:
		v.add(Check{Field: "worker_id", Message: "Missing required field: worker_id (e.g. org.acme.summarizer)", code: "missing_field"})
	default:
		ids, ok := id.(string)
		if !ok {
			v.add(Check{Field: "worker_id", Message: "worker_id must be a string", code: "invalid_field"})
		} else if err := wcpid.Validate(wcpid.Worker, ids); err != nil {
			v.add(Check{Field: "worker_id", Message: "worker_id is not a valid WCP worker id: " + err.Error(), code: "invalid_field"})
		} else {
			w.WorkerID = ids
			v.add(Check{Field: "worker_id", OK: true, Message: "Worker ID valid"})
		}
	}

	// Controls the worker implements.
	if ci, present := rec["currently_implements"]; present {
		list, ok := ci.([]any)
		bad := ""
		if !ok {
			bad = "currently_implements must be a list of control ids"
		}
		for i, c := range list {
			cs, ok := c.(string)
			if !ok {
				bad = fmt.Sprintf("currently_implements[%d] is not a string", i)
				break
			}
			if err := wcpid.Validate(wcpid.Control, cs); err != nil {
				bad = fmt.Sprintf("currently_implements[%d]: %v", i, err)
				break
			}
			w.Controls = append(w.Controls, cs)
		}
		if bad != "" {
			v.add(Check{Field: "currently_implements", Message: bad, code: "invalid_field"})
		} else {
			v.add(Check{Field: "currently_implements", OK: true, Message: fmt.Sprintf("Controls declared (%d)", len(w.Controls))})
		}
	}
	if rt, ok := rec["risk_tier"].(string); ok {
		w.RiskTier = rt
	}

	// Record integrity (reference Hall API /enroll).
	want, err := RecordArtifactHash(rec)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "invalid_field", "record", "record cannot be hashed: %v", err)
	}
	switch ah, present := rec["artifact_hash"]; {
	case !present && !requireHash:
		v.add(Check{Field: "artifact_hash", OK: true, Warning: true, Message: "WARNING: no artifact_hash: the record's integrity cannot be checked (expected " + want + ")"})
	case !present:
		v.add(Check{Field: "artifact_hash", Message: "Missing required field: artifact_hash (" + want + " for this record)", code: "missing_field"})
	case ah != want:
		v.add(Check{Field: "artifact_hash", Message: "DENY_WORKER_TAMPERED: artifact_hash mismatch — record was tampered (expected " + want + ")", code: "invalid_field"})
	default:
		v.hashOK = true
		w.ArtifactHash = want
		v.add(Check{Field: "artifact_hash", OK: true, Message: "artifact_hash verified"})
	}

	// Package attestation.
	// The record goes in first: the package verifier reads the namespace key recorded in it.
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "invalid_field", "record", "record cannot be stored: %v", err)
	}
	w.Record = b
	w.Attestation = store.Attestation{State: store.AttestationUnknown, Reason: "no package_path given"}
	if packagePath != "" {
		s.checkPackage(ctx, v, packagePath)
	}
	return v, nil
}

func (s *Server) checkPackage(ctx context.Context, v *validation, p string) {
	w := &v.worker
	if !filepath.IsAbs(p) {
		// A relative path names a package in the workers directory (the
		// wizard's workers_dir; a re-run setup applies at once).
		dir := *s.workersDir.Load()
		if dir == "" {
			v.add(Check{Field: "package_path", Message: "package_path " + p + " is relative and no workers_dir is configured: give an absolute directory path", code: "invalid_field"})
			return
		}
		p = filepath.Join(dir, p)
	}
	p = filepath.Clean(p)
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		v.add(Check{Field: "package_path", Message: "package_path " + p + " is not a readable directory", code: "invalid_field"})
		return
	}
	w.PackagePath = p
	pv := s.packages.Load()
	if pv == nil || *pv == nil {
		w.Attestation.Reason = "the Hall has no package verifier configured"
		v.add(Check{Field: "package_path", OK: true, Warning: true, Message: "WARNING: package not verified (no package verifier configured)"})
		return
	}
	if !v.valid() {
		return // the verifier needs a well-formed record
	}
	att, err := (*pv).VerifyPackage(ctx, *w)
	if err != nil {
		v.add(Check{Field: "package_path", Message: "package could not be verified: " + err.Error(), code: "invalid_field"})
		return
	}
	w.Attestation = att
	switch att.State {
	case store.AttestationVerified:
		v.add(Check{Field: "package_path", OK: true, Message: "Package attested (" + att.PackageHash + ")"})
	case store.AttestationTampered:
		v.add(Check{Field: "package_path", Message: "DENY_WORKER_TAMPERED: package does not match its attestation: " + att.Reason, code: "invalid_field"})
	default:
		v.add(Check{Field: "package_path", OK: true, Warning: true, Message: "WARNING: package " + att.State + ": " + att.Reason})
	}
}

func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) {
	var body enrollBody
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	v, he := s.validateRecord(r.Context(), body.Record, body.PackagePath, false)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": v.valid(), "checks": v.checks, "record": v.record})
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request, raw json.RawMessage, packagePath string, legacy bool) {
	v, he := s.validateRecord(r.Context(), raw, packagePath, legacy)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	if f := v.failing; f != nil {
		field := "record." + f.Field
		if f.Field == "package_path" {
			field = "package_path"
		}
		resp := map[string]any{"error": APIError{Code: f.code, Message: f.Field + ": " + f.Message, Field: field}, "checks": v.checks}
		if strings.HasPrefix(f.Message, "DENY_WORKER_TAMPERED") {
			resp["code"] = "DENY_WORKER_TAMPERED"
		}
		writeJSON(w, http.StatusBadRequest, resp)
		return
	}
	wk, created, err := s.st.UpsertWorker(r.Context(), v.worker)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"enrolled": true, "worker": wk, "worker_id": wk.WorkerID, "enrolled_at": wk.EnrolledAt,
		"artifact_hash_verified": v.hashOK, "checks": v.checks}
	if created {
		writeJSON(w, http.StatusCreated, resp)
		return
	}
	resp["updated"] = true
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	var body enrollBody
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	s.enroll(w, r, body.Record, body.PackagePath, false)
}

// handleLegacyEnroll is the reference Hall API's POST /enroll: the body is the
// record itself and artifact_hash is required.
func (s *Server) handleLegacyEnroll(w http.ResponseWriter, r *http.Request) {
	b, he := readBody(w, r, maxBody)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	s.enroll(w, r, b, "", true)
}
