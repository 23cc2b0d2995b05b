package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"hallmonitor/hallapi/events"
)

// Attestation states and worker statuses.
const (
	AttestationVerified = "verified"
	AttestationTampered = "tampered"
	AttestationUnsigned = "unsigned"
	AttestationMissing  = "missing"
	AttestationUnknown  = "unknown"

	WorkerActive     = "active"
	WorkerTampered   = "tampered"
	WorkerBanned     = "banned"
	WorkerUnverified = "unverified"
)

// Attestation is the last package check of an enrolled worker.
type Attestation struct {
	State          string `json:"state"`
	PackageHash    string `json:"package_hash"`
	RegisteredHash string `json:"registered_hash"`
	CheckedAt      string `json:"checked_at"`
	DenyCode       string `json:"deny_code"`
	Reason         string `json:"reason"`
}

// RegistryState is the last registry verification of an enrolled worker.
type RegistryState struct {
	Status      string `json:"status"`
	Banned      bool   `json:"banned"`
	BanReason   string `json:"ban_reason"`
	CurrentHash string `json:"current_hash"`
	CheckedAt   string `json:"checked_at"`
	AgeSeconds  *int64 `json:"age_seconds"`
	Error       string `json:"error"`
}

// Worker is an enrolled worker (docs/api.md).
type Worker struct {
	WorkerID        string          `json:"worker_id"`
	WorkerSpeciesID string          `json:"worker_species_id"`
	Capabilities    []string        `json:"capabilities"`
	RiskTier        string          `json:"risk_tier"`
	BlastScore      *int            `json:"blast_score"`
	Controls        []string        `json:"controls"`
	Guarantee       string          `json:"guarantee"`
	EnrolledAt      string          `json:"enrolled_at"`
	UpdatedAt       string          `json:"updated_at"`
	PackagePath     string          `json:"package_path"`
	Status          string          `json:"status"`
	ArtifactHash    string          `json:"artifact_hash"`
	Attestation     Attestation     `json:"attestation"`
	Registry        RegistryState   `json:"registry"`
	Record          json.RawMessage `json:"record"`
}

// Routable reports whether the worker may be selected by the router.
func (w Worker) Routable() bool { return w.Status == WorkerActive || w.Status == WorkerUnverified }

func deriveStatus(w *Worker) {
	switch {
	case w.Registry.Banned:
		w.Status = WorkerBanned
	case w.Attestation.State == AttestationTampered:
		w.Status = WorkerTampered
	case w.Attestation.State == AttestationVerified:
		w.Status = WorkerActive
	default:
		w.Status = WorkerUnverified
	}
}

const workerCols = `worker_id, worker_species_id, capabilities, risk_tier, blast_score, controls, guarantee, package_path,
	record, artifact_hash, enrolled_at, updated_at, attestation, registry`

func scanWorker(sc scanner) (Worker, error) {
	var w Worker
	var caps, ctrls, rec, att, reg string
	var blast sql.NullInt64
	err := sc.Scan(&w.WorkerID, &w.WorkerSpeciesID, &caps, &w.RiskTier, &blast, &ctrls, &w.Guarantee, &w.PackagePath,
		&rec, &w.ArtifactHash, &w.EnrolledAt, &w.UpdatedAt, &att, &reg)
	if err != nil {
		return w, err
	}
	if blast.Valid {
		v := int(blast.Int64)
		w.BlastScore = &v
	}
	w.Record = json.RawMessage(rec)
	if err := errors.Join(json.Unmarshal([]byte(caps), &w.Capabilities), json.Unmarshal([]byte(ctrls), &w.Controls),
		json.Unmarshal([]byte(att), &w.Attestation), json.Unmarshal([]byte(reg), &w.Registry)); err != nil {
		return w, err
	}
	if w.Capabilities == nil {
		w.Capabilities = []string{}
	}
	if w.Controls == nil {
		w.Controls = []string{}
	}
	deriveStatus(&w)
	return w, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs and string slices are marshalled here
	}
	return string(b)
}

// UpsertWorker enrolls a worker, or updates it when worker_id is already
// enrolled (keeping enrolled_at). It reports whether the worker is new.
func (s *Store) UpsertWorker(ctx context.Context, w Worker) (Worker, bool, error) {
	created := false
	err := s.Write(ctx, func(t *Tx) error {
		old, err := scanWorker(t.tx.QueryRow(`SELECT `+workerCols+` FROM enrollments WHERE worker_id = ?`, w.WorkerID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			created = true
			w.EnrolledAt = formatTime(t.now)
		case err != nil:
			return err
		default:
			w.EnrolledAt = old.EnrolledAt
			if w.Registry == (RegistryState{}) {
				w.Registry = old.Registry
			}
		}
		w.UpdatedAt = formatTime(t.now)
		if w.Attestation.State == "" {
			w.Attestation.State = AttestationUnknown
		}
		if w.Capabilities == nil {
			w.Capabilities = []string{}
		}
		if w.Controls == nil {
			w.Controls = []string{}
		}
		if len(w.Record) == 0 {
			w.Record = json.RawMessage("{}")
		}
		deriveStatus(&w)
		var blast any
		if w.BlastScore != nil {
			blast = *w.BlastScore
		}
		if _, err := t.tx.Exec(`INSERT INTO enrollments(`+workerCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(worker_id) DO UPDATE SET worker_species_id=excluded.worker_species_id, capabilities=excluded.capabilities,
			risk_tier=excluded.risk_tier, blast_score=excluded.blast_score, controls=excluded.controls, guarantee=excluded.guarantee,
			package_path=excluded.package_path, record=excluded.record, artifact_hash=excluded.artifact_hash,
			updated_at=excluded.updated_at, attestation=excluded.attestation, registry=excluded.registry`,
			w.WorkerID, w.WorkerSpeciesID, mustJSON(w.Capabilities), w.RiskTier, blast, mustJSON(w.Controls), w.Guarantee,
			w.PackagePath, string(w.Record), w.ArtifactHash, w.EnrolledAt, w.UpdatedAt, mustJSON(w.Attestation), mustJSON(w.Registry)); err != nil {
			return err
		}
		typ := events.WorkerUpdated
		if created {
			typ = events.WorkerEnrolled
		}
		if _, err := t.Emit(typ, w); err != nil {
			return err
		}
		if w.Attestation.State == AttestationTampered {
			if _, err := t.RaiseAlert(tamperedAlert(w)); err != nil {
				return err
			}
		}
		return nil
	})
	return w, created, err
}

func tamperedAlert(w Worker) AlertInput {
	return AlertInput{Type: AlertWorkerTampered, Severity: SeverityCritical,
		Title:    "Worker package changed: " + w.WorkerID,
		Body:     "The package of " + w.WorkerSpeciesID + " at " + w.PackagePath + " no longer matches its attestation (" + w.Attestation.Reason + "). The Hall will not route to it until it is re-attested.",
		WorkerID: w.WorkerID}
}

// GetWorker loads one enrolled worker.
func (s *Store) GetWorker(ctx context.Context, id string) (Worker, error) {
	w, err := scanWorker(s.r.QueryRowContext(ctx, `SELECT `+workerCols+` FROM enrollments WHERE worker_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	return w, err
}

// ListWorkers lists enrolled workers, newest enrollment first.
func (s *Store) ListWorkers(ctx context.Context) ([]Worker, error) {
	return queryAll(ctx, s.r, scanWorker, `SELECT `+workerCols+` FROM enrollments ORDER BY enrolled_at DESC, worker_id`)
}

// DeleteWorker un-enrolls a worker.
func (s *Store) DeleteWorker(ctx context.Context, id string) error {
	return s.Write(ctx, func(t *Tx) error {
		w, err := scanWorker(t.tx.QueryRow(`SELECT `+workerCols+` FROM enrollments WHERE worker_id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := t.tx.Exec(`DELETE FROM enrollments WHERE worker_id = ?`, id); err != nil {
			return err
		}
		_, err = t.Emit(events.WorkerUnenrolled, w)
		return err
	})
}

// SetWorkerAttestation stores the result of a package check (worker.attestation
// event). A transition into "tampered" raises a WORKER_TAMPERED alert.
func (s *Store) SetWorkerAttestation(ctx context.Context, id string, a Attestation) (Worker, error) {
	var w Worker
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		w, err = scanWorker(t.tx.QueryRow(`SELECT `+workerCols+` FROM enrollments WHERE worker_id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		was := w.Attestation.State
		if a.CheckedAt == "" {
			a.CheckedAt = formatTime(t.now)
		}
		w.Attestation, w.UpdatedAt = a, formatTime(t.now)
		deriveStatus(&w)
		if _, err := t.tx.Exec(`UPDATE enrollments SET attestation = ?, updated_at = ? WHERE worker_id = ?`, mustJSON(a), w.UpdatedAt, id); err != nil {
			return err
		}
		if _, err := t.Emit(events.WorkerAttestation, w); err != nil {
			return err
		}
		if a.State == AttestationTampered && was != AttestationTampered {
			_, err = t.RaiseAlert(tamperedAlert(w))
		}
		return err
	})
	return w, err
}

// SetWorkerRegistry stores the result of a registry verification (worker.updated
// event). A transition into "banned" raises a REGISTRY_BANNED alert.
func (s *Store) SetWorkerRegistry(ctx context.Context, id string, r RegistryState) (Worker, error) {
	var w Worker
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		w, err = scanWorker(t.tx.QueryRow(`SELECT `+workerCols+` FROM enrollments WHERE worker_id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		was := w.Registry.Banned
		if r.CheckedAt == "" {
			r.CheckedAt = formatTime(t.now)
		}
		r.AgeSeconds = nil
		w.Registry, w.UpdatedAt = r, formatTime(t.now)
		deriveStatus(&w)
		if _, err := t.tx.Exec(`UPDATE enrollments SET registry = ?, updated_at = ? WHERE worker_id = ?`, mustJSON(r), w.UpdatedAt, id); err != nil {
			return err
		}
		if _, err := t.Emit(events.WorkerUpdated, w); err != nil {
			return err
		}
		if r.Banned && !was {
			_, err = t.RaiseAlert(AlertInput{Type: AlertRegistryBanned, Severity: SeverityCritical,
				Title:    "Worker banned by the registry: " + w.WorkerID,
				Body:     "The registry lists " + w.WorkerID + " as banned (" + r.BanReason + "). The Hall will not route to it.",
				WorkerID: w.WorkerID})
		}
		return err
	})
	return w, err
}
