package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"

	"hallmonitor/hallapi/workers"
)

// maxAvailable bounds the folders one listing of the workers directory
// reads; maxRecordFile bounds each registry_record.json.
const (
	maxAvailable  = 500
	maxRecordFile = 1 << 20
)

// AvailablePackage is a worker package in the workers directory that is
// not enrolled: the local catalog of the Workers screen.
type AvailablePackage struct {
	Folder          string          `json:"folder"` // the package's folder name (enroll with package_path = folder)
	Path            string          `json:"path"`
	WorkerID        string          `json:"worker_id"`
	WorkerSpeciesID string          `json:"worker_species_id"`
	Capabilities    []string        `json:"capabilities"`
	RiskTier        string          `json:"risk_tier"`
	Valid           bool            `json:"valid"`
	Problem         string          `json:"problem"` // the first failing enrollment check, or why the record cannot be read
	Record          json.RawMessage `json:"record"`  // the registry record, null when it cannot be read
}

// handleAvailableWorkers lists the folders of workers_dir that hold a
// registry_record.json whose worker is not enrolled, each with the record's
// enrollment checks (the package itself is hashed at enrollment, not here).
func (s *Server) handleAvailableWorkers(w http.ResponseWriter, r *http.Request) {
	dir := *s.workersDir.Load()
	resp := map[string]any{"workers_dir": dir, "packages": []AvailablePackage{}, "truncated": false, "error": ""}
	if dir == "" {
		resp["error"] = "no workers directory is configured: set it in Setup (re-run it from Settings)"
		WriteJSON(w, http.StatusOK, resp)
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			resp["error"] = "the workers directory " + dir + " does not exist yet: create it and put worker packages in it"
		} else {
			resp["error"] = "cannot read the workers directory: " + err.Error()
		}
		WriteJSON(w, http.StatusOK, resp)
		return
	}
	enrolled, err := s.st.ListWorkers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids, paths := map[string]bool{}, map[string]bool{}
	for _, e := range enrolled {
		ids[e.WorkerID] = true
		paths[filepath.Clean(e.PackagePath)] = true
	}
	out := []AvailablePackage{}
	for _, e := range entries {
		if len(out) == maxAvailable {
			resp["truncated"] = true
			break
		}
		p := filepath.Join(dir, e.Name())
		if !isDir(p) || paths[p] {
			continue
		}
		raw, readErr := readRecordFile(filepath.Join(p, "registry_record.json"))
		if errors.Is(readErr, fs.ErrNotExist) {
			continue // not a worker package
		}
		pkg := AvailablePackage{Folder: e.Name(), Path: p, Capabilities: []string{}, Record: json.RawMessage("null")}
		if readErr != nil {
			pkg.Problem = "registry_record.json cannot be read: " + readErr.Error()
			out = append(out, pkg)
			continue
		}
		v, err := workers.ValidateRecord(r.Context(), workers.EnrollRequest{Record: raw})
		if err != nil {
			pkg.Problem = "registry_record.json: " + err.Error()
			out = append(out, pkg)
			continue
		}
		if ids[v.Worker.WorkerID] && v.Worker.WorkerID != "" {
			continue // enrolled from another folder
		}
		pkg.Record = raw
		pkg.WorkerID, pkg.WorkerSpeciesID, pkg.RiskTier = v.Worker.WorkerID, v.Worker.WorkerSpeciesID, v.Worker.RiskTier
		if v.Worker.Capabilities != nil {
			pkg.Capabilities = v.Worker.Capabilities
		}
		pkg.Valid = v.Valid()
		if f := v.Failing(); f != nil {
			pkg.Problem = f.Field + ": " + f.Message
		}
		out = append(out, pkg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Folder < out[j].Folder })
	resp["packages"] = out
	WriteJSON(w, http.StatusOK, resp)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// readRecordFile reads a registry record of at most maxRecordFile bytes.
func readRecordFile(p string) (json.RawMessage, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRecordFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRecordFile {
		return nil, errors.New("larger than 1 MiB")
	}
	if !json.Valid(b) {
		return nil, errors.New("not valid JSON")
	}
	return b, nil
}
