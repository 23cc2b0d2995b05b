package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"hallmonitor/core"
	"hallmonitor/hallapi/store"
)

// EnrollStore is the store part enrollment needs (*store.Store).
type EnrollStore interface {
	UpsertWorker(ctx context.Context, w store.Worker) (store.Worker, bool, error)
}

// EnrollRequest is one enrollment: a registry record and, optionally, the
// worker's package directory and the namespace's Ed25519 public key (hex).
type EnrollRequest struct {
	Record           json.RawMessage
	PackagePath      string
	PublicKeyEd25519 string
	HMACSecret       []byte
	Now              time.Time
}

// Enroll validates the record, verifies the package when one is given (a
// package that does not verify is refused), records the registered package
// hash and the namespace key in the record's attestation block, and upserts
// the worker. It reports whether the worker is new. Errors name the field.
func Enroll(ctx context.Context, st EnrollStore, req EnrollRequest) (store.Worker, bool, error) {
	var rec core.RegistryRecord
	if err := json.Unmarshal(req.Record, &rec); err != nil {
		return store.Worker{}, false, fmt.Errorf("record: not a registry record JSON object: %w", err)
	}
	switch {
	case strings.TrimSpace(rec.WorkerID) == "":
		return store.Worker{}, false, fmt.Errorf("record.worker_id is missing: set it to the worker's id, e.g. x.<you>.<worker>")
	case strings.TrimSpace(rec.WorkerSpeciesID) == "":
		return store.Worker{}, false, fmt.Errorf("record.worker_species_id is missing: set it to the species the worker implements, e.g. wrk.doc.summarizer")
	case len(rec.Capabilities) == 0:
		return store.Worker{}, false, fmt.Errorf("record.capabilities is empty: list at least one capability id, e.g. [\"cap.doc.summarize\"]")
	}
	var generic map[string]any
	if err := json.Unmarshal(req.Record, &generic); err != nil {
		return store.Worker{}, false, fmt.Errorf("record: %w", err)
	}
	w := store.Worker{WorkerID: rec.WorkerID, WorkerSpeciesID: rec.WorkerSpeciesID, Capabilities: rec.Capabilities,
		RiskTier: rec.RiskTier, Controls: rec.CurrentlyImplements, ArtifactHash: rec.ArtifactHash}
	if req.PackagePath != "" {
		ra, a, err := PreparePackage(req.PackagePath, rec.WorkerID, rec.WorkerSpeciesID, req.PublicKeyEd25519, req.HMACSecret, req.Now)
		if err != nil {
			return store.Worker{}, false, fmt.Errorf("package_path: %w", err)
		}
		generic["attestation"] = ra
		w.PackagePath, w.Attestation = ra.SourceFile, a
	} else if req.PublicKeyEd25519 != "" {
		return store.Worker{}, false, fmt.Errorf("public_key: a namespace key is only recorded with a package: pass the package directory too")
	}
	b, err := json.Marshal(generic)
	if err != nil {
		return store.Worker{}, false, fmt.Errorf("record: %w", err)
	}
	w.Record = b
	return st.UpsertWorker(ctx, w)
}
