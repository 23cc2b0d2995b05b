package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/workers"
)

// enrollBody is the body of /api/workers/validate and /api/workers/enroll.
type enrollBody struct {
	Record           json.RawMessage `json:"record"`
	PackagePath      string          `json:"package_path"`
	PublicKeyEd25519 string          `json:"public_key_ed25519"`
	// WorkersDir is the workers folder the setup wizard is choosing: it is
	// honoured only until setup completes (then the configured one is).
	WorkersDir string `json:"workers_dir"`
}

// enrollRequest adapts a request body to the one enrollment rule
// (workers.ValidateRecord): package paths resolve in workers_dir and must
// stay inside it, packages are verified by the Hall's verifier.
func (s *Server) enrollRequest(b enrollBody, requireHash bool) workers.EnrollRequest {
	req := workers.EnrollRequest{Record: b.Record, PackagePath: b.PackagePath, PublicKeyEd25519: b.PublicKeyEd25519,
		RequireArtifactHash: requireHash, WorkersDir: *s.workersDir.Load(), Confined: true}
	if b.WorkersDir != "" && filepath.IsAbs(b.WorkersDir) {
		if cfg, err := config.Load(s.opts.ConfigDir); err == nil && !cfg.Completed() {
			req.WorkersDir = filepath.Clean(b.WorkersDir)
		}
	}
	if pv := s.packages.Load(); pv != nil && *pv != nil {
		req.Packages = *pv
	}
	return req
}

func (s *Server) validate(ctx context.Context, req workers.EnrollRequest) (*workers.Validation, error) {
	v, err := workers.ValidateRecord(ctx, req)
	var re *workers.RecordError
	if errors.As(err, &re) {
		return nil, errf(http.StatusBadRequest, re.Code, "record", "%s", re.Message)
	}
	return v, err
}

func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) {
	var body enrollBody
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	v, err := s.validate(r.Context(), s.enrollRequest(body, false))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"valid": v.Valid(), "checks": v.Checks, "record": v.Record})
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request, req workers.EnrollRequest) {
	got, err := workers.Enroll(r.Context(), s.st, req)
	var re *workers.RecordError
	var refused *workers.RefusedError
	switch {
	case errors.As(err, &re):
		s.fail(w, r, errf(http.StatusBadRequest, re.Code, "record", "%s", re.Message))
		return
	case errors.As(err, &refused):
		f := refused.Validation.Failing()
		resp := map[string]any{"error": APIError{Code: f.Code, Message: f.Field + ": " + f.Message, Field: refused.Field()}, "checks": refused.Validation.Checks}
		if strings.HasPrefix(f.Message, "DENY_WORKER_TAMPERED") {
			resp["code"] = "DENY_WORKER_TAMPERED"
		}
		WriteJSON(w, http.StatusBadRequest, resp)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	wk := got.Worker
	resp := map[string]any{"enrolled": true, "worker": wk, "worker_id": wk.WorkerID, "enrolled_at": wk.EnrolledAt,
		"artifact_hash_verified": got.Validation.HashOK, "checks": got.Validation.Checks}
	if got.Created {
		WriteJSON(w, http.StatusCreated, resp)
		return
	}
	resp["updated"] = true
	WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	var body enrollBody
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	s.enroll(w, r, s.enrollRequest(body, false))
}

// handleLegacyEnroll is the reference Hall API's POST /enroll: the body is the
// record itself and artifact_hash is required.
func (s *Server) handleLegacyEnroll(w http.ResponseWriter, r *http.Request) {
	b, he := readBody(w, r, maxBody)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	s.enroll(w, r, s.enrollRequest(enrollBody{Record: b}, true))
}
