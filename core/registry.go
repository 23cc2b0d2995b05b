package core

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// RegistryView is the registry state the engine reads on every decision.
// Implementations must be safe for concurrent use and must not block.
type RegistryView interface {
	// ControlPresent reports whether a control id is implemented.
	ControlPresent(control string) bool
	// WorkerAvailable reports whether a worker species can take work.
	WorkerAvailable(species string) bool
}

// PrivilegeChecker supplies the privilege-envelope step (13). A nil
// checker in Options makes that step deny DENY_PRIVILEGE_ENVELOPE_UNCONFIGURED.
type PrivilegeChecker interface {
	// Envelope returns the species' privilege envelope (nil if none).
	Envelope(species string) (map[string]any, error)
	// Allows decides whether the envelope is acceptable for env/data label,
	// with a reason either way.
	Allows(env, dataLabel string, envelope map[string]any) (bool, string, error)
}

// AttestationSource supplies worker code hashes for step 12. A nil source
// in Options makes that step deny DENY_ATTESTATION_UNCONFIGURED. ok=false
// means "no hash".
type AttestationSource interface {
	RegisteredHash(species string) (hash string, ok bool)
	CurrentHash(species string) (hash string, ok bool)
}

// IsSHA256Hex reports whether s is exactly 64 lowercase hex characters.
func IsSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isControlID is the registry's control-id rule: ctrl.[a-z0-9][a-z0-9._-]*
// (the whole string; no trailing newline).
func isControlID(s string) bool {
	rest, ok := strings.CutPrefix(s, "ctrl.")
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != '-')) {
			return false
		}
	}
	return true
}

// MemRegistry is an in-memory registry (the reference's local Registry):
// it implements RegistryView, PrivilegeChecker (with the reference privilege
// policy, ReferencePrivilegePolicy) and AttestationSource. Safe for
// concurrent use: readers (every decision) load an immutable snapshot
// without locking; writers (enrolment, configuration) copy it, so a write
// costs O(registry size), fine for the hundreds of workers a Hall holds.
// The zero value is not usable; call NewMemRegistry.
type MemRegistry struct {
	mu    sync.Mutex // serialises writers
	state atomic.Pointer[regState]
}

type regState struct {
	records    map[string]RegistryRecord
	available  map[string]bool
	controls   map[string]bool
	byCap      map[string][]string
	envelopes  map[string]map[string]any
	registered map[string]string
	current    map[string]string
	egress     map[string][]string
}

func (s *regState) clone() *regState {
	return &regState{
		records: maps.Clone(s.records), available: maps.Clone(s.available), controls: maps.Clone(s.controls),
		byCap: maps.Clone(s.byCap), envelopes: maps.Clone(s.envelopes), registered: maps.Clone(s.registered),
		current: maps.Clone(s.current), egress: maps.Clone(s.egress),
	}
}

// NewMemRegistry returns an empty registry.
func NewMemRegistry() *MemRegistry {
	r := &MemRegistry{}
	r.state.Store(&regState{
		records: map[string]RegistryRecord{}, available: map[string]bool{}, controls: map[string]bool{},
		byCap: map[string][]string{}, envelopes: map[string]map[string]any{}, registered: map[string]string{},
		current: map[string]string{}, egress: map[string][]string{},
	})
	return r
}

// update applies f to a copy of the state and publishes it.
func (r *MemRegistry) update(f func(s *regState) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.state.Load().clone()
	err := f(s)
	r.state.Store(s)
	return err
}

// Enroll stores a record (overwriting one with the same worker_id; species,
// capabilities and controls added earlier are kept, as in the reference).
// The species becomes available, valid currently_implements controls
// become present, a non-empty privilege envelope and a valid
// attestation.code_hash are stored per species. Entries that fail
// validation are skipped and reported in the returned error; the rest of
// the record is still enrolled.
func (r *MemRegistry) Enroll(rec RegistryRecord) error {
	return r.update(func(s *regState) error { return s.enroll(rec) })
}

// EnrollAll enrolls every record as Enroll does, in order, with one copy of
// the registry instead of one per record: building a registry of n workers
// costs O(n), not O(n²). Errors of all records are joined.
func (r *MemRegistry) EnrollAll(recs []RegistryRecord) error {
	return r.update(func(s *regState) error {
		var errs []error
		for _, rec := range recs {
			errs = append(errs, s.enroll(rec))
		}
		return errors.Join(errs...)
	})
}

func (s *regState) enroll(rec RegistryRecord) error {
	id := rec.WorkerID
	if id == "" {
		id = fmt.Sprintf("unknown-%d", len(s.records))
	}
	s.records[id] = rec
	var errs []error
	if sp := rec.WorkerSpeciesID; sp != "" {
		s.available[sp] = true
		for _, c := range rec.Capabilities {
			if !slices.Contains(s.byCap[c], sp) {
				s.byCap[c] = append(slices.Clip(s.byCap[c]), sp)
			}
		}
		if len(rec.PrivilegeEnvelope) > 0 {
			s.envelopes[sp] = rec.PrivilegeEnvelope
		}
		if a := rec.Attestation; a != nil && a.CodeHash != "" {
			if IsSHA256Hex(a.CodeHash) {
				s.registered[sp] = a.CodeHash
			} else {
				errs = append(errs, fmt.Errorf("worker %q: attestation.code_hash must be 64 lowercase hex characters (no \"sha256:\" prefix); not registered", id))
			}
		}
	}
	for _, c := range rec.CurrentlyImplements {
		if isControlID(c) {
			s.controls[c] = true
		} else {
			errs = append(errs, fmt.Errorf("worker %q: control %q is not a valid control id (ctrl.<lowercase...>); skipped", id, c))
		}
	}
	return errors.Join(errs...)
}

// Records returns a copy of the enrolled records by worker_id.
func (r *MemRegistry) Records() map[string]RegistryRecord {
	return maps.Clone(r.state.Load().records)
}

// WorkersForCapability lists species enrolled for a capability.
func (r *MemRegistry) WorkersForCapability(capability string) []string {
	return slices.Clone(r.state.Load().byCap[capability])
}

// SetControlsPresent replaces the present-control set; invalid ids are
// skipped and reported.
func (r *MemRegistry) SetControlsPresent(controls []string) error {
	return r.update(func(s *regState) error {
		s.controls = map[string]bool{}
		var errs []error
		for _, c := range controls {
			if isControlID(c) {
				s.controls[c] = true
			} else {
				errs = append(errs, fmt.Errorf("control %q is not a valid control id (ctrl.<lowercase...>); skipped", c))
			}
		}
		return errors.Join(errs...)
	})
}

// SetWorkersAvailable replaces the available-species set.
func (r *MemRegistry) SetWorkersAvailable(species []string) {
	_ = r.update(func(s *regState) error {
		s.available = map[string]bool{}
		for _, sp := range species {
			s.available[sp] = true
		}
		return nil
	})
}

// SetPrivilegeEnvelope sets (or with nil, removes) a species' envelope.
func (r *MemRegistry) SetPrivilegeEnvelope(species string, envelope map[string]any) {
	_ = r.update(func(s *regState) error {
		if envelope == nil {
			delete(s.envelopes, species)
		} else {
			s.envelopes[species] = envelope
		}
		return nil
	})
}

// SetAttestation sets the registered and current code hash of a species;
// "" means none.
func (r *MemRegistry) SetAttestation(species, registered, current string) {
	_ = r.update(func(s *regState) error {
		set := func(m map[string]string, v string) {
			if v == "" {
				delete(m, species)
			} else {
				m[species] = v
			}
		}
		set(s.registered, registered)
		set(s.current, current)
		return nil
	})
}

// SetEgressAllowlist sets the per-env egress allowlist used by Allows.
func (r *MemRegistry) SetEgressAllowlist(env string, dests []string) {
	_ = r.update(func(s *regState) error {
		s.egress[env] = slices.Clone(dests)
		return nil
	})
}

// ControlPresent implements RegistryView.
func (r *MemRegistry) ControlPresent(control string) bool { return r.state.Load().controls[control] }

// WorkerAvailable implements RegistryView.
func (r *MemRegistry) WorkerAvailable(species string) bool {
	return r.state.Load().available[species]
}

// Envelope implements PrivilegeChecker. The map is shared with the
// registry: do not modify it.
func (r *MemRegistry) Envelope(species string) (map[string]any, error) {
	return r.state.Load().envelopes[species], nil
}

// Allows implements PrivilegeChecker with ReferencePrivilegePolicy and the
// registry's egress allowlists.
func (r *MemRegistry) Allows(env, dataLabel string, envelope map[string]any) (bool, string, error) {
	return ReferencePrivilegePolicy(env, dataLabel, envelope, r.state.Load().egress[env])
}

// RegisteredHash implements AttestationSource.
func (r *MemRegistry) RegisteredHash(species string) (string, bool) {
	h, ok := r.state.Load().registered[species]
	return h, ok
}

// CurrentHash implements AttestationSource.
func (r *MemRegistry) CurrentHash(species string) (string, bool) {
	h, ok := r.state.Load().current[species]
	return h, ok
}

// ReferencePrivilegePolicy is the reference's policy_allows_privilege: only
// in prod/edge with RESTRICTED data, every envelope.egress.allowlist
// destination must be in the env allowlist.
func ReferencePrivilegePolicy(env, dataLabel string, envelope map[string]any, envAllowlist []string) (bool, string, error) {
	if !isProdEdge(env) || dataLabel != "RESTRICTED" {
		return true, "stub_allow", nil
	}
	var dests []any
	if ev, ok := envelope["egress"]; ok && ev != nil {
		eg, ok := ev.(map[string]any)
		if !ok {
			return false, "", errors.New("privilege envelope: egress must be an object")
		}
		if al, ok := eg["allowlist"].([]any); ok {
			dests = al
		}
	}
	if len(dests) == 0 {
		return true, "stub_allow", nil
	}
	if len(envAllowlist) == 0 {
		return false, "egress_denied_no_allowlist_configured", nil
	}
	for _, d := range dests {
		s := fmt.Sprint(d)
		if !slices.Contains(envAllowlist, s) {
			return false, "egress_not_allowlisted:" + s, nil
		}
	}
	return true, "stub_allow", nil
}
