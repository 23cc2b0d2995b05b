package workers

import (
	"encoding/json"

	"hallmonitor/core"
	"hallmonitor/hallapi/store"
)

// View is core's registry view of the enrolled workers (controls,
// availability, privilege envelopes) combined with the live package hashes
// of the workers service for the attestation step. Banned workers are
// unavailable; tampered workers stay available so that core's attestation
// step answers DENY_WORKER_TAMPERED rather than DENY_NO_AVAILABLE_WORKER.
type View struct {
	*core.MemRegistry
	hashes core.AttestationSource
}

// NewView builds the view for one decision. hashes is normally the running
// *Service.
func NewView(ws []store.Worker, hashes core.AttestationSource) View {
	reg := core.NewMemRegistry()
	for _, w := range ws {
		if w.Registry.Banned {
			continue
		}
		var rec core.RegistryRecord
		if err := json.Unmarshal(w.Record, &rec); err != nil {
			rec = core.RegistryRecord{}
		}
		rec.WorkerID, rec.WorkerSpeciesID, rec.Capabilities = w.WorkerID, w.WorkerSpeciesID, w.Capabilities
		if len(rec.CurrentlyImplements) == 0 {
			rec.CurrentlyImplements = w.Controls
		}
		// Hashes come from the service (the files), not the record.
		rec.Attestation = nil
		_ = reg.Enroll(rec) // invalid control ids are skipped; the rest is enrolled
	}
	return View{MemRegistry: reg, hashes: hashes}
}

// RegisteredHash answers core's attestation step from the workers service.
func (v View) RegisteredHash(species string) (string, bool) { return v.hashes.RegisteredHash(species) }

// CurrentHash answers core's attestation step from the workers service.
func (v View) CurrentHash(species string) (string, bool) { return v.hashes.CurrentHash(species) }

// AttestationRequired reports whether decisions must check worker
// attestation: true as soon as any enrolled worker runs from a package (the
// Hall executes packages, so it attests them; a worker enrolled without a
// package is then refused DENY_WORKER_ATTESTATION_MISSING, since nothing
// about its code can be checked).
func AttestationRequired(ws []store.Worker) bool {
	for _, w := range ws {
		if w.PackagePath != "" {
			return true
		}
	}
	return false
}
