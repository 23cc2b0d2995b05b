package core

import (
	"encoding/json"
	"time"
)

// Enumerated RouteInput values (exact, case-sensitive). Read-only: the
// validator uses its own copies, so changing these changes nothing.
var (
	Envs        = envs()
	DataLabels  = dataLabels()
	TenantRisks = tenantRisks()
	QoSClasses  = qosClasses()
)

func envs() []string        { return []string{"dev", "stage", "prod", "edge"} }
func dataLabels() []string  { return []string{"PUBLIC", "INTERNAL", "RESTRICTED"} }
func tenantRisks() []string { return []string{"low", "medium", "high"} }
func qosClasses() []string  { return []string{"P0", "P1", "P2", "P3"} }

// RouteInput is one dispatch request (reference model pyhall.models.RouteInput).
// Build it with ParseRouteInput (or json.Unmarshal, which uses it) so that
// the reference's validation and coercions apply.
type RouteInput struct {
	CapabilityID  string `json:"capability_id"`
	Env           string `json:"env"`
	DataLabel     string `json:"data_label"`
	TenantRisk    string `json:"tenant_risk"`
	QoSClass      string `json:"qos_class"`
	TenantID      string `json:"tenant_id"`
	CorrelationID string `json:"correlation_id"`
	// Request is a JSON object; numbers are json.Number when parsed so the
	// artifact hash keeps the int/float distinction of the source.
	Request          map[string]any `json:"request"`
	BlastRadius      map[string]any `json:"blast_radius"`
	BlastScore       *int64         `json:"blast_score"`
	PrivilegeContext map[string]any `json:"privilege_context"`
	DryRun           bool           `json:"dry_run"`
	TenantCredential *string        `json:"tenant_credential"`
	// IgnoredKeys lists top-level input keys that are not RouteInput fields
	// (e.g. the spec's policy_version). They are dropped, as in the
	// reference, and listed here so callers can warn about them.
	IgnoredKeys []string `json:"-"`
}

// UnmarshalJSON validates like ParseRouteInput; failures are ValidationErrors.
func (in *RouteInput) UnmarshalJSON(b []byte) error {
	v, errs := ParseRouteInput(b)
	if len(errs) > 0 {
		return errs
	}
	*in = v
	return nil
}

// Escalation is the rule's escalation block (only PolicyGate changes
// behaviour; the rest is echoed in the decision).
type Escalation struct {
	PolicyGate           bool             `json:"policy_gate"`
	MSAVXStepUp          bool             `json:"msavx_step_up"`
	HumanRequiredDefault bool             `json:"human_required_default"`
	HumanRequiredIf      []map[string]any `json:"human_required_if"`
	Rationale            *string          `json:"rationale"`
}

// MarshalJSON always emits human_required_if as a list.
func (e Escalation) MarshalJSON() ([]byte, error) {
	type plain Escalation
	p := plain(e)
	if p.HumanRequiredIf == nil {
		p.HumanRequiredIf = []map[string]any{}
	}
	return json.Marshal(p)
}

// Preconditions is the rule's preconditions block, merged over
// DefaultPreconditions (the reference's PreconditionsChecked).
type Preconditions struct {
	MustHaveCorrelationID            bool `json:"must_have_correlation_id"`
	MustAttachPolicyVersion          bool `json:"must_attach_policy_version"`
	MustRecordArtifactHashIfExecutes bool `json:"must_record_artifact_hash_if_executes"`
	DenyIfMissingRequiredControls    bool `json:"deny_if_missing_required_controls"`
	DenyIfUnsignedArtifactInProd     bool `json:"deny_if_unsigned_artifact_in_prod"`
	DenyIfNoAttestationInProd        bool `json:"deny_if_no_attestation_in_prod"`
}

// DefaultPreconditions returns the reference defaults (first four true).
func DefaultPreconditions() Preconditions {
	return Preconditions{
		MustHaveCorrelationID:            true,
		MustAttachPolicyVersion:          true,
		MustRecordArtifactHashIfExecutes: true,
		DenyIfMissingRequiredControls:    true,
	}
}

// HallConfig holds the Hall's floors. Use DefaultHallConfig and change
// fields: the zero value turns every floor off.
type HallConfig struct {
	RequireSignatory          bool     `json:"require_signatory"`
	AllowedTenants            []string `json:"allowed_tenants"`
	RequireCredential         bool     `json:"require_credential"`
	RequireWorkerAttestation  bool     `json:"require_worker_attestation"`
	EnforceCorrelationID      bool     `json:"enforce_correlation_id"`
	EnforceRequiredControls   bool     `json:"enforce_required_controls"`
	EnforceBlastScoringInProd bool     `json:"enforce_blast_scoring_in_prod"`
	EnforcePrivilegeEnvelopes bool     `json:"enforce_privilege_envelopes"`
}

// DefaultHallConfig is the reference default (equivalent to hall_config=None).
func DefaultHallConfig() HallConfig {
	return HallConfig{
		AllowedTenants:            []string{},
		EnforceCorrelationID:      true,
		EnforceRequiredControls:   true,
		EnforceBlastScoringInProd: true,
	}
}

// UnmarshalJSON starts from DefaultHallConfig and applies the reference's
// lax boolean coercion; errors are ValidationErrors.
func (c *HallConfig) UnmarshalJSON(b []byte) error {
	v, errs := ParseHallConfig(b)
	if len(errs) > 0 {
		return errs
	}
	*c = v
	return nil
}

// CandidateWorker is one entry of candidate_workers_ranked in a decision.
type CandidateWorker struct {
	WorkerSpeciesID string   `json:"worker_species_id"`
	ScoreHint       *float64 `json:"score_hint"`
	// RequiresControlsMinimum is part of the reference schema and never
	// populated by it; kept (always null) for wire compatibility.
	RequiresControlsMinimum []string `json:"requires_controls_minimum"`
	SkipReason              *string  `json:"skip_reason"`
}

// DenyReason is deny_reason_if_denied: code, message and the extra keys of
// the reference table (only those that apply are emitted).
type DenyReason struct {
	Code               string   `json:"code"`
	Message            string   `json:"message"`
	TenantID           *string  `json:"tenant_id,omitempty"`
	BlastScore         *int64   `json:"blast_score,omitempty"`
	ShadowedRuleIDs    []string `json:"shadowed_rule_ids,omitempty"`
	ShadowCount        *int     `json:"shadow_count,omitempty"`
	Missing            []string `json:"missing,omitempty"`
	Reason             *string  `json:"reason,omitempty"`
	PolicyVersion      *string  `json:"policy_version,omitempty"`
	SupervisorRequired bool     `json:"supervisor_required,omitempty"`
	WorkerSpeciesID    *string  `json:"worker_species_id,omitempty"`
}

// RouteDecision is the engine's answer. Every key is always present.
// SupervisorRequired, PendingApprovalID and ApprovalExpiresAt are the
// spec 5.8 extension: a REQUIRE_HUMAN gate answer yields denied=false,
// supervisor_required=true and a pending approval.
type RouteDecision struct {
	DecisionID                   string              `json:"decision_id"`
	Timestamp                    Timestamp           `json:"timestamp"`
	CorrelationID                string              `json:"correlation_id"`
	TenantID                     string              `json:"tenant_id"`
	CapabilityID                 string              `json:"capability_id"`
	MatchedRuleID                string              `json:"matched_rule_id"`
	Env                          string              `json:"env"`
	DataLabel                    string              `json:"data_label"`
	TenantRisk                   string              `json:"tenant_risk"`
	QoSClass                     string              `json:"qos_class"`
	Denied                       bool                `json:"denied"`
	DenyReasonIfDenied           *DenyReason         `json:"deny_reason_if_denied"`
	SelectedWorkerSpeciesID      *string             `json:"selected_worker_species_id"`
	CandidateWorkersRanked       []CandidateWorker   `json:"candidate_workers_ranked"`
	RequiredControlsEffective    []string            `json:"required_controls_effective"`
	RecommendedProfilesEffective []map[string]any    `json:"recommended_profiles_effective"`
	EscalationEffective          Escalation          `json:"escalation_effective"`
	PreconditionsChecked         Preconditions       `json:"preconditions_checked"`
	ArtifactHash                 *string             `json:"artifact_hash"`
	WorkerAttestationChecked     bool                `json:"worker_attestation_checked"`
	WorkerAttestationValid       *bool               `json:"worker_attestation_valid"`
	DryRun                       bool                `json:"dry_run"`
	SupervisorRequired           bool                `json:"supervisor_required"`
	PendingApprovalID            *string             `json:"pending_approval_id"`
	ApprovalExpiresAt            *Timestamp          `json:"approval_expires_at"`
	TelemetryEnvelopes           []TelemetryEnvelope `json:"telemetry_envelopes"`
}

// Code returns the deny code, or "" for an allowed (or pending) decision.
func (d RouteDecision) Code() string {
	if d.DenyReasonIfDenied == nil {
		return ""
	}
	return d.DenyReasonIfDenied.Code
}

// Timestamp marshals like Python's datetime.isoformat() in UTC:
// YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00.
type Timestamp time.Time

// String formats the timestamp.
func (t Timestamp) String() string {
	u := time.Time(t).UTC()
	if u.Nanosecond()/1000 == 0 {
		return u.Format("2006-01-02T15:04:05+00:00")
	}
	return u.Format("2006-01-02T15:04:05.000000+00:00")
}

// MarshalJSON writes the isoformat string.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.String())
}

// UnmarshalJSON reads an RFC 3339 / isoformat string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = Timestamp(v)
	return nil
}

// RegistryRecord is a worker enrollment record. Routing reads worker_id,
// worker_species_id, capabilities, currently_implements, privilege_envelope
// and attestation; the other fields are carried for compliance grading and
// the Hall API.
type RegistryRecord struct {
	WorkerID            string             `json:"worker_id"`
	WorkerSpeciesID     string             `json:"worker_species_id"`
	Capabilities        []string           `json:"capabilities"`
	CurrentlyImplements []string           `json:"currently_implements"`
	PrivilegeEnvelope   map[string]any     `json:"privilege_envelope,omitempty"`
	Attestation         *RecordAttestation `json:"attestation,omitempty"`
	RiskTier            string             `json:"risk_tier,omitempty"`
	RequiredControls    []string           `json:"required_controls,omitempty"`
	AllowedEnvironments []string           `json:"allowed_environments,omitempty"`
	BlastRadius         map[string]any     `json:"blast_radius,omitempty"`
	Owner               any                `json:"owner,omitempty"`
	ArtifactHash        string             `json:"artifact_hash,omitempty"`
	Idempotency         any                `json:"idempotency,omitempty"`
}

// RecordAttestation is the attestation block of a registry record.
type RecordAttestation struct {
	CodeHash   string `json:"code_hash,omitempty"`
	SourceFile string `json:"source_file,omitempty"`
}
