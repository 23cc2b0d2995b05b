package workers

import (
	"encoding/json"

	"hallmonitor/core"
	"hallmonitor/hallapi/store"
)

// View is core's registry view of the enrolled workers (controls,
// availability, privilege envelopes) combined with the live package hashes
// of the workers service for the attestation step. It is the Hall's one
// registry view: decide.Service.Route builds it for every decision. Banned
// workers are unavailable. A tampered worker whose package the attestation
// step checks stays available, so that core answers DENY_WORKER_TAMPERED
// rather than DENY_NO_AVAILABLE_WORKER; one that step cannot check (no
// package, or no hash source) is unavailable: fail closed.
type View struct {
	*core.MemRegistry
	hashes   core.AttestationSource
	blocked  map[string]bool // species only known to be tampered from the store
	packaged map[string]bool // species with an enrolled package
}

// NewView builds the view of ws (Registry keeps the one every decision
// shares: build it per change, not per decision). hashes is normally the running
// *Service; with nil the view knows no hashes (do not pass it to core as the
// attestation source then: core's "unconfigured" answer is the honest one).
func NewView(ws []store.Worker, hashes core.AttestationSource) View {
	reg := core.NewMemRegistry()
	recs := make([]core.RegistryRecord, 0, len(ws))
	var blocked map[string]bool
	packaged := map[string]bool{}
	for _, w := range ws {
		if w.Registry.Banned {
			continue
		}
		if w.PackagePath != "" {
			packaged[w.WorkerSpeciesID] = true
		}
		if w.Status == store.WorkerTampered && (hashes == nil || w.PackagePath == "") {
			if blocked == nil {
				blocked = map[string]bool{}
			}
			blocked[w.WorkerSpeciesID] = true
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
		recs = append(recs, rec)
	}
	_ = reg.EnrollAll(recs) // invalid control ids are skipped; the rest is enrolled
	return View{MemRegistry: reg, hashes: hashes, blocked: blocked, packaged: packaged}
}

// Attests reports whether the attestation step checks a species: those
// enrolled with a package (core.Options.Attests). A worker enrolled from its
// record alone runs outside the Hall, so there is no code here to hash; in
// prod/edge its decisions say so (attestation_skipped, worker_has_no_package).
func (v View) Attests(species string) bool { return v.packaged[species] }

// WorkerAvailable answers core's availability step: enrolled, not banned,
// and not tampered beyond what the attestation step checks.
func (v View) WorkerAvailable(species string) bool {
	return !v.blocked[species] && v.MemRegistry.WorkerAvailable(species)
}

// RegisteredHash answers core's attestation step from the workers service.
func (v View) RegisteredHash(species string) (string, bool) {
	if v.hashes == nil {
		return "", false
	}
	return v.hashes.RegisteredHash(species)
}

// CurrentHash answers core's attestation step from the workers service.
func (v View) CurrentHash(species string) (string, bool) {
	if v.hashes == nil {
		return "", false
	}
	return v.hashes.CurrentHash(species)
}

// AttestationRequired reports whether decisions must check worker
// attestation: true as soon as any enrolled worker runs from a package (the
// Hall executes packages, so it attests them). With View.Attests as
// core.Options.Attests the check applies to the packaged workers.
func AttestationRequired(ws []store.Worker) bool {
	for _, w := range ws {
		if w.PackagePath != "" {
			return true
		}
	}
	return false
}
