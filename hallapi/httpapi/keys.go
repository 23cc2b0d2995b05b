package httpapi

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"

	"hallmonitor/hallapi/nskeys"
)

// keysDir is where keys made from the window live (<config dir>/keys, the
// README's `attest keygen --out`). Private keys never leave it.
func (s *Server) keysDir() string { return filepath.Join(s.opts.ConfigDir, "keys") }

// handleKeys lists the public keys known for ?namespace= (all when empty).
func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	ns := r.URL.Query().Get("namespace")
	if ns != "" {
		var err error
		if ns, err = nskeys.NamespaceOf(ns); err != nil {
			s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "namespace", "%v", err))
			return
		}
	}
	ws, err := s.st.ListWorkers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	keys, err := nskeys.Known(s.keysDir(), ns, ws)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"keys": keys, "keys_dir": s.keysDir()})
}

// handleMakeKey is `attest keygen` for the namespace: 201 with the public key.
func (s *Server) handleMakeKey(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Namespace string `json:"namespace"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	k, err := nskeys.Generate(s.keysDir(), body.Namespace, false)
	switch {
	case errors.Is(err, nskeys.ErrExists):
		s.fail(w, r, errf(http.StatusConflict, "conflict", "namespace", "%v", err))
	case errors.Is(err, nskeys.ErrBadNamespace):
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "namespace", "%v", err))
	case err != nil:
		s.fail(w, r, err)
	default:
		WriteJSON(w, http.StatusCreated, k)
	}
}

// handleSignPackage is `attest build` with the namespace's key from the key
// directory: it writes the package's signed manifest.json.
func (s *Server) handleSignPackage(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PackagePath     string `json:"package_path"`
		WorkerID        string `json:"worker_id"`
		WorkerSpeciesID string `json:"worker_species_id"`
		WorkerVersion   string `json:"worker_version"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	for _, f := range [][2]string{{"package_path", body.PackagePath}, {"worker_id", body.WorkerID}, {"worker_species_id", body.WorkerSpeciesID}} {
		if strings.TrimSpace(f[1]) == "" {
			s.fail(w, r, errf(http.StatusBadRequest, "missing_field", f[0], "%s is required", f[0]))
			return
		}
	}
	if body.WorkerVersion == "" {
		body.WorkerVersion = "1.0.0"
	}
	ns, err := nskeys.NamespaceOf(body.WorkerID)
	if err != nil {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "worker_id", "%v", err))
		return
	}
	pkg := body.PackagePath
	if !filepath.IsAbs(pkg) {
		pkg = filepath.Join(*s.workersDir.Load(), pkg)
	}
	signer, key, err := nskeys.LoadSigner(s.keysDir(), ns)
	if err != nil {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "namespace", "%v", err))
		return
	}
	m, path, err := nskeys.WriteManifest(pkg, nskeys.BuildOptions{WorkerID: body.WorkerID, WorkerSpeciesID: body.WorkerSpeciesID,
		WorkerVersion: body.WorkerVersion, BuildSource: "hallmonitor-ui", Signer: signer, Now: s.opts.Now()})
	if err != nil {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "package_path", "%v", err))
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"namespace": ns, "public_key": key.PublicKey, "manifest_path": path,
		"package_hash": m.PackageHash, "package_path": pkg})
}
