package core

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"hallmonitor/core/canon"
)

// Deny codes (exact reference strings) plus DenyTenantCredentialInvalid,
// this engine's enforcement of HallConfig.RequireCredential.
const (
	DenyUnknownTenant                       = "DENY_UNKNOWN_TENANT"
	DenyMissingTenantID                     = "DENY_MISSING_TENANT_ID"
	DenyInvalidInput                        = "DENY_INVALID_INPUT"
	DenyShadowRulesDetected                 = "DENY_SHADOW_RULES_DETECTED"
	DenyNoMatchingRule                      = "DENY_NO_MATCHING_RULE"
	DenyMissingCorrelationID                = "DENY_MISSING_CORRELATION_ID"
	DenyMissingRequiredControls             = "DENY_MISSING_REQUIRED_CONTROLS"
	DenyRequiresHuman                       = "DENY_REQUIRES_HUMAN"
	DenyPolicyGateUnconfigured              = "DENY_POLICY_GATE_UNCONFIGURED"
	DenyInternalError                       = "DENY_INTERNAL_ERROR"
	DenyPolicyGate                          = "DENY_POLICY_GATE"
	DenyRequiresHumanApproval               = "DENY_REQUIRES_HUMAN_APPROVAL"
	DenyPolicyGateInvalidResponse           = "DENY_POLICY_GATE_INVALID_RESPONSE"
	DenyNoAvailableWorker                   = "DENY_NO_AVAILABLE_WORKER"
	DenyAttestationUnconfigured             = "DENY_ATTESTATION_UNCONFIGURED"
	DenyWorkerAttestationMissing            = "DENY_WORKER_ATTESTATION_MISSING"
	DenyWorkerAttestationInvalidHash        = "DENY_WORKER_ATTESTATION_INVALID_HASH"
	DenyWorkerHashUnavailable               = "DENY_WORKER_HASH_UNAVAILABLE"
	DenyWorkerTampered                      = "DENY_WORKER_TAMPERED"
	DenyPrivilegeEnvelopeUnconfigured       = "DENY_PRIVILEGE_ENVELOPE_UNCONFIGURED"
	DenyPrivilegeEnvelopeViolated           = "DENY_PRIVILEGE_ENVELOPE_VIOLATED"
	DenyTenantCredentialInvalid             = "DENY_TENANT_CREDENTIAL_INVALID"
	MatchedPreRouting                       = "PRE_ROUTING"
	MatchedNoMatch                          = "NO_MATCH"
	DefaultPolicyVersion                    = "policy.v0"
	DefaultTaskID                           = "task_default"
	DefaultApprovalTTL                      = 15 * time.Minute
	BlastGateThreshold                int64 = 85
	reasonHighBlast                         = "REQUIRE_HUMAN_HIGH_BLAST"
	reasonInvalidGateResponse               = "invalid_gate_response"
	missingSpecies                          = "__missing__"
	skipUnavailable                         = "unavailable"
	skipAlreadySelected                     = "already_selected"
)

// Exact reference messages (templates take the species, env, label, ...).
const (
	msgUnknownTenant           = "Tenant is not registered as a signatory. Register via the Hall configuration before dispatching workers."
	msgCredentialInvalid       = "Tenant credential is missing or could not be verified. Pass tenant_credential and configure a credential verifier."
	msgMissingTenantID         = "tenant_id is required and must not be empty or whitespace."
	msgInvalidBlast            = "blast_score must be in [0, 100]"
	msgShadowRules             = "Rule set contains shadow rules in prod/edge environment. Fix rule ordering before deploying to production."
	msgNoMatchingRule          = "No routing rule matched. Fail-closed per WCP spec section 5.1."
	msgMissingCorrelationID    = "correlation_id is required but absent or empty."
	msgMissingControls         = "Required controls not present in registry."
	msgRequiresHuman           = "Blast radius too high for autonomous execution."
	msgGateUnconfigured        = "policy_gate_eval is required when escalation.policy_gate is True. Pass a PolicyGate instance's .evaluate method."
	msgGateRaised              = "policy_gate_eval raised an exception. See server logs for details."
	msgPrivilegeRaised         = "Privilege envelope check raised an exception."
	msgPipelineRaised          = "Decision pipeline raised an exception. See server logs for details."
	msgPolicyGateDenied        = "Policy gate denied."
	msgRequiresHumanApproval   = "Policy gate requires human approval before this worker can be dispatched. Submit the pending approval via wcp.approval.resolve."
	msgGateInvalidFmt          = "policy_gate_eval returned unrecognized decision: %s. Expected 'ALLOW', 'DENY', or 'REQUIRE_HUMAN'. Failing closed."
	msgNoAvailableWorker       = "No available worker candidates. Route to review queue."
	msgAttestationUnconfigured = "require_worker_attestation is True but hash callables were not provided. Pass registry_get_worker_hash and get_current_worker_hash to make_decision()."
	msgAttestationMissingFmt   = "Worker '%s' has no registered code hash. Register the worker with an attestation hash before enabling require_worker_attestation."
	msgAttestationInvalidFmt   = "Worker '%s' registered hash is not a valid SHA-256 digest. Re-register with a 64-character lowercase hex SHA-256 hash."
	msgHashUnavailableFmt      = "Worker '%s' current code hash could not be retrieved or is invalid. Verify the get_current_worker_hash implementation."
	msgTamperedFmt             = "Worker '%s' code hash mismatch. Worker may have been modified after attestation. Re-attest the worker or investigate for tampering."
	msgPrivilegeUnconfigured   = "ctrl.privilege_envelopes_required is set but privilege envelope callables were not provided. Pass registry_get_privilege_envelope and registry_policy_allows_privilege to make_decision()."
	msgPrivilegeViolatedFmt    = "Worker privilege envelope denied for %s/%s: %s"
)

// Policy gate decisions.
const (
	GateAllow        = "ALLOW"
	GateDeny         = "DENY"
	GateRequireHuman = "REQUIRE_HUMAN"
)

// PolicyContext is what the policy gate sees (reference keys).
type PolicyContext struct {
	CapabilityID  string `json:"capability_id"`
	TenantID      string `json:"tenant_id"`
	Env           string `json:"env"`
	DataLabel     string `json:"data_label"`
	TenantRisk    string `json:"tenant_risk"`
	QoSClass      string `json:"qos_class"`
	PolicyVersion string `json:"policy_version"`
}

// Get returns a context value by its JSON key ("" and false if unknown).
func (c PolicyContext) Get(key string) (string, bool) {
	switch key {
	case "capability_id":
		return c.CapabilityID, true
	case "tenant_id":
		return c.TenantID, true
	case "env":
		return c.Env, true
	case "data_label":
		return c.DataLabel, true
	case "tenant_risk":
		return c.TenantRisk, true
	case "qos_class":
		return c.QoSClass, true
	case "policy_version":
		return c.PolicyVersion, true
	}
	return "", false
}

// PolicyResult is a gate answer: Decision is ALLOW, DENY or REQUIRE_HUMAN
// (anything else fails closed).
type PolicyResult struct {
	Decision      string
	PolicyVersion string
	Reason        string
}

// PolicyGate evaluates rules whose escalation.policy_gate is true. An
// error (or a panic) yields DENY_INTERNAL_ERROR.
type PolicyGate interface {
	Evaluate(ctx PolicyContext) (PolicyResult, error)
}

// PolicyGateFunc adapts a function to PolicyGate.
type PolicyGateFunc func(ctx PolicyContext) (PolicyResult, error)

// Evaluate calls f.
func (f PolicyGateFunc) Evaluate(ctx PolicyContext) (PolicyResult, error) { return f(ctx) }

// CredentialVerifier checks tenant_credential when HallConfig.RequireCredential
// is set; a nil verifier (or an error) denies DENY_TENANT_CREDENTIAL_INVALID.
type CredentialVerifier interface {
	VerifyCredential(tenantID, credential string) error
}

// ApprovalMode says what a REQUIRE_HUMAN gate answer does.
type ApprovalMode uint8

const (
	// HoldForApproval (default, spec 5.8): the decision is not denied; it
	// carries supervisor_required=true, a pending_approval_id and an expiry.
	HoldForApproval ApprovalMode = iota
	// DenyRequireHuman reproduces the reference: DENY_REQUIRES_HUMAN_APPROVAL.
	// For callers that cannot hold approvals.
	DenyRequireHuman
)

// Options are the per-call collaborators and knobs of Decide. The zero value
// is usable: default Hall config, no gate, no privilege checker, no
// attestation source, wall clock and random UUIDv4 ids.
type Options struct {
	Config      *HallConfig // nil: DefaultHallConfig()
	PolicyGate  PolicyGate
	Privilege   PrivilegeChecker
	Attestation AttestationSource
	// Attests, when set, narrows require_worker_attestation to the species
	// it returns true for (those whose code the caller can hash). Another
	// selected species skips the check, and in prod/edge the skip is
	// reported as attestation_skipped with reason "worker_has_no_package".
	// nil: every selected worker is checked (the reference).
	Attests     func(species string) bool
	Credentials CredentialVerifier
	TaskID      string // "" : "task_default"
	DryRun      bool   // forces dry_run (OR-ed with the input's)
	Approvals   ApprovalMode
	ApprovalTTL time.Duration    // 0: DefaultApprovalTTL
	Now         func() time.Time // nil: time.Now
	NewID       func() string    // nil: NewUUID (decision and approval ids)
}

// NewUUID returns a random RFC 4122 version 4 UUID string.
func NewUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}

func isProdEdge(env string) bool { return env == "prod" || env == "edge" }

// decider holds one decision's state. The input and the answer are held by
// value (copied in and out): escape analysis is not field-sensitive, and a
// pointer to the caller's input or decision kept here would move both to the
// heap.
type decider struct {
	in      RouteInput
	dec     RouteDecision
	rs      *RuleSet
	reg     RegistryView
	opts    Options
	cfg     HallConfig
	now     Timestamp
	dry     bool
	corrS   string
	tenantS string
	capS    string
	// Storage of the decision dst held before DecideInto, reused.
	ranked       []CandidateWorker
	controls     []string
	events       []TelemetryEnvelope
	selected     *string
	artifactHash *string
	// What the pipeline learned once a rule matched.
	match matchState
}

// Candidates share these skip reasons: replace a SkipReason pointer, never
// write through it.
var skipReasonUnavailable, skipReasonAlreadySelected = skipUnavailable, skipAlreadySelected

// Decide runs the WCP decision pipeline. It never panics and does no I/O
// beyond what the supplied collaborators do. A nil rs is an empty rule set;
// a nil reg has no controls and no workers.
func Decide(in RouteInput, rs *RuleSet, reg RegistryView, opts Options) RouteDecision {
	var dec RouteDecision
	DecideInto(&dec, &in, rs, reg, opts)
	return dec
}

// DecideInto is Decide writing its answer into dst. It reuses the storage of
// the decision dst held before (its candidate, control and telemetry slices
// and the strings its selected-worker and artifact-hash pointers refer to),
// so a caller that is done with each decision before the next one, like the
// conformance benchmark, allocates only the decision id and the artifact
// hash. Do not keep any part of dst's previous decision across the call. in
// is only read.
func DecideInto(dst *RouteDecision, in *RouteInput, rs *RuleSet, reg RegistryView, opts Options) {
	d := decider{in: *in, rs: rs, reg: reg, opts: opts, dry: in.DryRun || opts.DryRun,
		ranked: dst.CandidateWorkersRanked[:0], controls: dst.RequiredControlsEffective[:0],
		events: dst.TelemetryEnvelopes[:0], selected: dst.SelectedWorkerSpeciesID, artifactHash: dst.ArtifactHash}
	d.corrS, d.tenantS, d.capS = SanitizeID(in.CorrelationID), SanitizeID(in.TenantID), SanitizeID(in.CapabilityID)
	defer func() {
		if recover() != nil {
			d.opts.NewID = nil // the caller's id generator may be what failed
			d.deny(MatchedPreRouting, DenyReason{Code: DenyInternalError, Message: msgPipelineRaised}, nil)
		}
		*dst = d.dec
	}()
	if opts.Config != nil {
		d.cfg = *opts.Config
	} else {
		d.cfg = DefaultHallConfig()
	}
	if opts.Now != nil {
		d.now = Timestamp(opts.Now())
	} else {
		d.now = Timestamp(time.Now())
	}
	d.run()
}

func (d *decider) newID() string {
	if d.opts.NewID != nil {
		return d.opts.NewID()
	}
	return NewUUID()
}

// begin resets the decision to the common fields of every answer.
func (d *decider) begin(matched string) *RouteDecision {
	in := &d.in
	d.dec = RouteDecision{
		DecisionID:                   d.newID(),
		Timestamp:                    d.now,
		CorrelationID:                in.CorrelationID,
		TenantID:                     in.TenantID,
		CapabilityID:                 in.CapabilityID,
		MatchedRuleID:                matched,
		Env:                          in.Env,
		DataLabel:                    in.DataLabel,
		TenantRisk:                   in.TenantRisk,
		QoSClass:                     in.QoSClass,
		CandidateWorkersRanked:       nonNil(d.ranked[:0]),
		RequiredControlsEffective:    []string{},
		RecommendedProfilesEffective: []map[string]any{},
		EscalationEffective:          Escalation{HumanRequiredIf: []map[string]any{}},
		PreconditionsChecked:         DefaultPreconditions(),
		DryRun:                       d.dry,
	}
	return &d.dec
}

// nonNil keeps empty lists marshalling as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// eventSlots returns n zeroed envelopes, in the reused storage when it is
// large enough.
func (d *decider) eventSlots(n int) []TelemetryEnvelope {
	if cap(d.events) < n {
		return make([]TelemetryEnvelope, n)
	}
	ev := d.events[:n]
	clear(ev)
	return ev
}

// ruleControls copies the rule's effective controls (never nil: compiled
// as []string{}).
func (d *decider) ruleControls(cr *compiledRule) []string {
	return nonNil(append(d.controls[:0], cr.controls...))
}

// deny builds a denial. With a rule (cr != nil) the effective controls and
// preconditions are the rule's; escalation is set by the caller.
func (d *decider) deny(matched string, reason DenyReason, cr *compiledRule) *RouteDecision {
	dec := d.begin(matched)
	dec.Denied = true
	dec.DenyReasonIfDenied = &reason
	if cr != nil {
		dec.RequiredControlsEffective = d.ruleControls(cr)
		dec.PreconditionsChecked = cr.rule.Decision.Preconditions
	}
	ev := d.eventSlots(1)
	ev[0] = TelemetryEnvelope{
		EventID: EvtTaskDenied, Timestamp: d.now, CorrelationID: d.corrS, TenantID: d.tenantS,
		CapabilityID: d.capS, DenyCode: reason.Code, DenyMessage: reason.Message,
		MatchedRuleID: matched, DryRun: d.dry,
	}
	dec.TelemetryEnvelopes = ev
	return dec
}

func (d *decider) ruleDeny(cr *compiledRule, esc Escalation, reason DenyReason) *RouteDecision {
	dec := d.deny(cr.rule.RuleID, reason, cr)
	dec.EscalationEffective = esc
	return dec
}

func ptr[T any](v T) *T { return &v }

// run is the decision pipeline (spec section 5), one named step per stage.
// Each step returns the denial that ends the pipeline, or nil to go on; the
// steps after matchRule read and fill the matched rule's state in d.match.
func (d *decider) run() *RouteDecision {
	if dec := d.checkPreRouting(); dec != nil {
		return dec
	}
	if dec := d.matchRule(); dec != nil {
		return dec
	}
	if dec := d.checkPreconditions(); dec != nil {
		return dec
	}
	if dec := d.gateBlastRadius(); dec != nil {
		return dec
	}
	if dec := d.askPolicyGate(); dec != nil {
		return dec
	}
	if dec := d.selectWorker(); dec != nil {
		return dec
	}
	if dec := d.checkAttestation(); dec != nil {
		return dec
	}
	if dec := d.checkPrivilegeEnvelope(); dec != nil {
		return dec
	}
	dec := d.routed()
	d.recordRouted(dec)
	return dec
}

// matchState is what the pipeline learns once a rule matched (steps 6-13),
// read by the steps after it and by the routed answer.
type matchState struct {
	cr       *compiledRule
	esc      Escalation // the rule's escalation, HumanRequiredIf never nil
	prodEdge bool
	// Blast radius (step 9): active for the rule or in prod/edge by config.
	blastActive bool
	gated       int64
	// Policy gate (step 10): the version it answered with, and its
	// REQUIRE_HUMAN answer when the decision is held for a supervisor.
	policyVersion string
	pending       PolicyResult
	held          bool
	// Worker selection and attestation (steps 11-12).
	worker     string
	attChecked bool
	attValid   *bool
	attSkip    string
	// Privilege envelope (step 13).
	privActive bool
}

// checkPreRouting is steps 1-5: signatory tenants, the tenant credential
// (enforced here; the reference only warns), a blank tenant, the range of a
// given blast_score, and shadowed rules in prod/edge.
func (d *decider) checkPreRouting() *RouteDecision {
	in, cfg := &d.in, &d.cfg
	if cfg.RequireSignatory && !containsString(cfg.AllowedTenants, in.TenantID) {
		return d.deny(MatchedPreRouting, DenyReason{Code: DenyUnknownTenant, Message: msgUnknownTenant, TenantID: ptr(in.TenantID)}, nil)
	}
	if cfg.RequireCredential {
		cred := in.TenantCredential
		if cred == nil || IsBlank(*cred) || d.opts.Credentials == nil || d.verifyCredential(*cred) != nil {
			return d.deny(MatchedPreRouting, DenyReason{Code: DenyTenantCredentialInvalid, Message: msgCredentialInvalid, TenantID: ptr(in.TenantID)}, nil)
		}
	}
	if IsBlank(in.TenantID) {
		return d.deny(MatchedPreRouting, DenyReason{Code: DenyMissingTenantID, Message: msgMissingTenantID}, nil)
	}
	if bs := in.BlastScore; bs != nil && (*bs < 0 || *bs > 100) {
		return d.deny(MatchedPreRouting, DenyReason{Code: DenyInvalidInput, Message: msgInvalidBlast, BlastScore: ptr(*bs)}, nil)
	}
	// Shadowed rules are computed once at compile time.
	if isProdEdge(in.Env) && d.rs != nil && len(d.rs.shadowed) > 0 {
		return d.deny(MatchedNoMatch, DenyReason{Code: DenyShadowRulesDetected, Message: msgShadowRules,
			ShadowedRuleIDs: append([]string(nil), d.rs.shadowed...), ShadowCount: ptr(len(d.rs.shadowed))}, nil)
	}
	return nil
}

// matchRule is step 6: the first matching rule, failing closed when none
// matches.
func (d *decider) matchRule() *RouteDecision {
	idx := -1
	if d.rs != nil {
		idx = d.rs.firstMatch(&d.in)
	}
	if idx < 0 {
		return d.deny(MatchedNoMatch, DenyReason{Code: DenyNoMatchingRule, Message: msgNoMatchingRule}, nil)
	}
	cr := &d.rs.rules[idx]
	esc := cr.rule.Decision.Escalation
	if esc.HumanRequiredIf == nil {
		esc.HumanRequiredIf = []map[string]any{}
	}
	d.match = matchState{cr: cr, esc: esc, prodEdge: isProdEdge(d.in.Env), policyVersion: DefaultPolicyVersion}
	return nil
}

// checkPreconditions is steps 7-8: the correlation id and the required
// controls, each when the rule's preconditions or the config ask for it.
// These denials carry the default escalation, not the rule's.
func (d *decider) checkPreconditions() *RouteDecision {
	cr, cfg := d.match.cr, &d.cfg
	pre := &cr.rule.Decision.Preconditions
	if (pre.MustHaveCorrelationID || cfg.EnforceCorrelationID) && IsBlank(d.in.CorrelationID) {
		return d.ruleDeny(cr, Escalation{HumanRequiredIf: []map[string]any{}}, DenyReason{Code: DenyMissingCorrelationID, Message: msgMissingCorrelationID})
	}
	if pre.DenyIfMissingRequiredControls || cfg.EnforceRequiredControls {
		var missing []string
		for _, c := range cr.controls {
			if d.reg == nil || !d.reg.ControlPresent(c) {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return d.ruleDeny(cr, Escalation{HumanRequiredIf: []map[string]any{}}, DenyReason{Code: DenyMissingRequiredControls, Message: msgMissingControls, Missing: missing})
		}
	}
	return nil
}

// gateBlastRadius is step 9: when blast scoring is active, the gated score is
// the larger of the computed and the given score; in prod/edge a score at or
// over BlastGateThreshold requires a human.
func (d *decider) gateBlastRadius() *RouteDecision {
	m := &d.match
	m.blastActive = m.cr.blast || (m.prodEdge && d.cfg.EnforceBlastScoringInProd)
	if !m.blastActive {
		return nil
	}
	m.gated = BlastScore(&d.in)
	if d.in.BlastScore != nil && *d.in.BlastScore > m.gated {
		m.gated = *d.in.BlastScore
	}
	if m.prodEdge && m.gated >= BlastGateThreshold {
		e := m.esc
		e.HumanRequiredDefault = true
		e.Rationale = ptr(reasonHighBlast)
		return d.ruleDeny(m.cr, e, DenyReason{Code: DenyRequiresHuman, Message: msgRequiresHuman, BlastScore: ptr(m.gated), Reason: ptr(reasonHighBlast)})
	}
	return nil
}

// askPolicyGate is step 10: a rule with a policy gate asks the configured
// gate; DENY denies, REQUIRE_HUMAN denies or holds the decision for a
// supervisor (Options.Approvals), anything but ALLOW is an invalid answer.
func (d *decider) askPolicyGate() *RouteDecision {
	m := &d.match
	if !m.esc.PolicyGate {
		return nil
	}
	if d.opts.PolicyGate == nil {
		return d.ruleDeny(m.cr, m.esc, DenyReason{Code: DenyPolicyGateUnconfigured, Message: msgGateUnconfigured})
	}
	res, err := d.evaluateGate()
	if err != nil {
		return d.ruleDeny(m.cr, m.esc, DenyReason{Code: DenyInternalError, Message: msgGateRaised})
	}
	switch res.Decision {
	case GateDeny:
		e := m.esc
		e.Rationale = ptr(res.Reason)
		return d.ruleDeny(m.cr, e, DenyReason{Code: DenyPolicyGate, Message: msgPolicyGateDenied, Reason: ptr(res.Reason), PolicyVersion: ptr(res.PolicyVersion)})
	case GateRequireHuman:
		if d.opts.Approvals == DenyRequireHuman {
			e := m.esc
			e.HumanRequiredDefault = true
			e.Rationale = ptr(res.Reason)
			return d.ruleDeny(m.cr, e, DenyReason{Code: DenyRequiresHumanApproval, Message: msgRequiresHumanApproval,
				Reason: ptr(res.Reason), PolicyVersion: ptr(res.PolicyVersion), SupervisorRequired: true})
		}
		m.pending, m.held = res, true
	case GateAllow:
	default:
		e := m.esc
		e.Rationale = ptr(reasonInvalidGateResponse)
		return d.ruleDeny(m.cr, e, DenyReason{Code: DenyPolicyGateInvalidResponse, Message: fmt.Sprintf(msgGateInvalidFmt, PyRepr(res.Decision))})
	}
	m.policyVersion = res.PolicyVersion
	return nil
}

// selectWorker is step 11: the rule's candidates in rank order, the first
// available one selected, each other one with its skip reason.
func (d *decider) selectWorker() *RouteDecision {
	m := &d.match
	cands := m.cr.rule.Decision.CandidateWorkersRanked
	ranked := d.ranked
	if cap(ranked) < len(cands) {
		ranked = make([]CandidateWorker, len(cands))
	}
	ranked = nonNil(ranked[:len(cands)])
	d.ranked = ranked
	found := false
	for i, c := range cands {
		wid := c.WorkerSpeciesID
		available := wid != "" && d.workerAvailable(wid)
		cw := CandidateWorker{WorkerSpeciesID: wid, ScoreHint: c.ScoreHint}
		if wid == "" {
			cw.WorkerSpeciesID = missingSpecies
		}
		switch {
		case !available:
			cw.SkipReason = &skipReasonUnavailable
		case found:
			cw.SkipReason = &skipReasonAlreadySelected
		default:
			found, m.worker = true, wid
		}
		ranked[i] = cw
	}
	if !found {
		dec := d.ruleDeny(m.cr, m.esc, DenyReason{Code: DenyNoAvailableWorker, Message: msgNoAvailableWorker})
		dec.CandidateWorkersRanked = ranked
		return dec
	}
	return nil
}

// checkAttestation is step 12: when the config requires worker attestation
// (and the selected worker has a package, Options.Attests), its registered
// and current package hashes must be valid and equal.
func (d *decider) checkAttestation() *RouteDecision {
	m := &d.match
	m.attSkip = attestationSkipReason
	required := d.cfg.RequireWorkerAttestation
	if required && d.opts.Attests != nil && !d.opts.Attests(m.worker) {
		required, m.attSkip = false, attestationNoPackageReason
	}
	if !required {
		return nil
	}
	src := d.opts.Attestation
	if src == nil {
		return d.ruleDeny(m.cr, m.esc, DenyReason{Code: DenyAttestationUnconfigured, Message: msgAttestationUnconfigured})
	}
	reg, regOK := d.hash(src.RegisteredHash, m.worker)
	cur, curOK := d.hash(src.CurrentHash, m.worker)
	var code, msg string
	switch {
	case !regOK:
		code, msg = DenyWorkerAttestationMissing, fmt.Sprintf(msgAttestationMissingFmt, m.worker)
	case !IsSHA256Hex(reg):
		code, msg = DenyWorkerAttestationInvalidHash, fmt.Sprintf(msgAttestationInvalidFmt, m.worker)
	case !curOK || !IsSHA256Hex(cur):
		code, msg = DenyWorkerHashUnavailable, fmt.Sprintf(msgHashUnavailableFmt, m.worker)
	case cur != reg:
		code, msg = DenyWorkerTampered, fmt.Sprintf(msgTamperedFmt, m.worker)
	}
	if code != "" {
		reason := DenyReason{Code: code, Message: msg}
		if code == DenyWorkerTampered {
			reason.WorkerSpeciesID = ptr(m.worker)
		}
		dec := d.ruleDeny(m.cr, m.esc, reason)
		dec.WorkerAttestationChecked = true
		dec.WorkerAttestationValid = ptr(false)
		return dec
	}
	m.attChecked, m.attValid = true, ptr(true)
	return nil
}

// checkPrivilegeEnvelope is step 13: when the rule or the config enforces
// privilege envelopes, the selected worker's envelope must allow the input's
// env and data label.
func (d *decider) checkPrivilegeEnvelope() *RouteDecision {
	m := &d.match
	m.privActive = m.cr.priv || d.cfg.EnforcePrivilegeEnvelopes
	if !m.privActive {
		return nil
	}
	pc := d.opts.Privilege
	if pc == nil {
		return d.ruleDeny(m.cr, m.esc, DenyReason{Code: DenyPrivilegeEnvelopeUnconfigured, Message: msgPrivilegeUnconfigured})
	}
	ok, why, err := d.checkPrivilege(pc, m.worker)
	if err != nil {
		return d.ruleDeny(m.cr, m.esc, DenyReason{Code: DenyInternalError, Message: msgPrivilegeRaised})
	}
	if !ok {
		return d.ruleDeny(m.cr, m.esc, DenyReason{Code: DenyPrivilegeEnvelopeViolated,
			Message: fmt.Sprintf(msgPrivilegeViolatedFmt, d.in.Env, d.in.DataLabel, why),
			Reason:  ptr(why), WorkerSpeciesID: ptr(m.worker)})
	}
	return nil
}

// routed is step 14's answer: the selected worker, the ranked candidates, the
// rule's controls, profiles, escalation and preconditions, the attestation
// result and the artifact hash.
func (d *decider) routed() *RouteDecision {
	m := &d.match
	rule := m.cr.rule
	if d.selected == nil || d.artifactHash == nil {
		// One allocation holds the decision's two optional strings.
		box := &struct{ selected, hash string }{}
		d.selected, d.artifactHash = &box.selected, &box.hash
	}
	dec := d.begin(rule.RuleID)
	*d.selected, *d.artifactHash = m.worker, ArtifactHash(&d.in)
	dec.SelectedWorkerSpeciesID = d.selected
	dec.CandidateWorkersRanked = d.ranked
	dec.RequiredControlsEffective = d.ruleControls(m.cr)
	if p := rule.Decision.RecommendedProfiles; len(p) > 0 {
		dec.RecommendedProfilesEffective = append([]map[string]any(nil), p...)
	}
	dec.EscalationEffective = m.esc
	dec.PreconditionsChecked = rule.Decision.Preconditions
	dec.WorkerAttestationChecked, dec.WorkerAttestationValid = m.attChecked, m.attValid
	dec.ArtifactHash = d.artifactHash
	return dec
}

// recordRouted is step 14's telemetry: the events of the active gates, then
// task routed, worker selected and policy gated; a decision held for a
// supervisor (spec 5.8) also gets its approval id, expiry and an approval
// requested event.
func (d *decider) recordRouted(dec *RouteDecision) {
	m, in := &d.match, &d.in
	skipped := !m.attChecked && m.prodEdge
	n := 3
	for _, on := range [...]bool{m.blastActive, m.privActive, skipped, m.held} {
		if on {
			n++
		}
	}
	// Events are filled in place (no temporaries: an envelope is ~400 bytes).
	ev := d.eventSlots(n)
	k := 0
	next := func(id string, withTime bool) *TelemetryEnvelope {
		e := &ev[k]
		k++
		e.EventID, e.CorrelationID, e.DryRun = id, d.corrS, d.dry
		if withTime {
			e.Timestamp, e.TenantID = d.now, d.tenantS
		}
		return e
	}
	if m.blastActive {
		e := next(EvtBlastScored, true)
		e.Env, e.DataLabel, e.PolicyVersion, e.BlastScore, e.Decision = in.Env, in.DataLabel, m.policyVersion, m.gated, GateAllow
	}
	if m.privActive {
		e := next(EvtPrivilegeChecked, true)
		e.Env, e.DataLabel, e.PolicyVersion, e.WorkerSpeciesID, e.Decision = in.Env, in.DataLabel, m.policyVersion, m.worker, GateAllow
	}
	if skipped {
		e := next(EvtAttestationSkipped, false)
		e.WorkerSpeciesID, e.Env, e.Reason, e.Severity = m.worker, in.Env, m.attSkip, attestationSkipSeverity
	}
	e := next(EvtTaskRouted, true)
	e.TaskID, e.CapabilityID, e.MatchedRuleID, e.SelectedWorkerSpeciesID = d.taskID(), d.capS, m.cr.rule.RuleID, m.worker
	e.PolicyVersion, e.QoSClass = m.policyVersion, in.QoSClass
	e = next(EvtWorkerSelected, true)
	e.CapabilityID, e.SelectedWorkerSpeciesID, e.Reason = d.capS, m.worker, workerSelectedReason
	gated := next(EvtPolicyGated, true)
	gated.CapabilityID, gated.Decision, gated.PolicyVersion, gated.Reason = d.capS, GateAllow, m.policyVersion, policyNoGateReason
	if m.esc.PolicyGate {
		gated.Reason = policyGateAllowReason
	}
	dec.TelemetryEnvelopes = ev
	if !m.held {
		return
	}
	ttl := d.opts.ApprovalTTL
	if ttl <= 0 {
		ttl = DefaultApprovalTTL
	}
	expires := Timestamp(time.Time(d.now).Add(ttl))
	approvalID := d.newID()
	dec.SupervisorRequired = true
	dec.PendingApprovalID = ptr(approvalID)
	dec.ApprovalExpiresAt = &expires
	dec.EscalationEffective.HumanRequiredDefault = true
	dec.EscalationEffective.Rationale = ptr(m.pending.Reason)
	gated.Decision, gated.Reason = GateRequireHuman, m.pending.Reason
	e = next(EvtApprovalRequested, true)
	e.CapabilityID, e.SelectedWorkerSpeciesID, e.PendingApprovalID = d.capS, m.worker, approvalID
	e.ExpiresAt, e.PolicyVersion, e.Reason = expires.String(), m.policyVersion, m.pending.Reason
}

func (d *decider) taskID() string {
	if d.opts.TaskID == "" {
		return DefaultTaskID
	}
	return d.opts.TaskID
}

func (d *decider) context() PolicyContext {
	in := &d.in
	return PolicyContext{CapabilityID: in.CapabilityID, TenantID: in.TenantID, Env: in.Env, DataLabel: in.DataLabel,
		TenantRisk: in.TenantRisk, QoSClass: in.QoSClass, PolicyVersion: DefaultPolicyVersion}
}

func (d *decider) evaluateGate() (res PolicyResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("policy gate panicked: %v", r)
		}
	}()
	return d.opts.PolicyGate.Evaluate(d.context())
}

func (d *decider) workerAvailable(species string) (ok bool) {
	if d.reg == nil {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return d.reg.WorkerAvailable(species)
}

func (d *decider) hash(f func(string) (string, bool), species string) (h string, ok bool) {
	defer func() {
		if recover() != nil {
			h, ok = "", false
		}
	}()
	return f(species)
}

func (d *decider) checkPrivilege(pc PrivilegeChecker, species string) (ok bool, why string, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, why, err = false, "", fmt.Errorf("privilege check panicked: %v", r)
		}
	}()
	env, err := pc.Envelope(species)
	if err != nil {
		return false, "", err
	}
	return pc.Allows(d.in.Env, d.in.DataLabel, env)
}

func (d *decider) verifyCredential(cred string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("credential verifier panicked: %v", r)
		}
	}()
	return d.opts.Credentials.VerifyCredential(d.in.TenantID, cred)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// BlastScore computes the reference blast score of an input (0..100),
// ignoring the caller's blast_score.
func BlastScore(in *RouteInput) int64 {
	score := int64(10)
	switch in.DataLabel {
	case "INTERNAL":
		score += 20
	case "RESTRICTED":
		score += 40
	}
	if isProdEdge(in.Env) {
		score += 15
	}
	if in.QoSClass == "P0" {
		score += 10
	}
	if Truthy(in.Request["egress"]) || Truthy(in.Request["external_call"]) {
		score += 15
	}
	if Truthy(in.Request["writes"]) || Truthy(in.Request["mutates_state"]) {
		score += 15
	}
	return min(score, 100)
}

// Truthy decides whether a request flag is set: JSON true, a non-zero
// number, a non-empty list/object, or a string other than "", "0", "false",
// "f", "no", "n", "off" (case-insensitive). Unlike the reference, the string
// "false" is false. Unknown types count as set (over-scoring is the safe
// side).
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	case float64:
		return x != 0 && !math.IsNaN(x)
	case float32:
		return x != 0
	case int:
		return x != 0
	case int64:
		return x != 0
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "", "0", "false", "f", "no", "n", "off":
			return false
		}
		return true
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// ArtifactHash is the reference artifact_hash of an input: SHA-256 (hex) of
// Python json.dumps(input.model_dump(), sort_keys=True).
func ArtifactHash(in *RouteInput) string {
	var buf [512]byte
	b := append(buf[:0], `{"blast_radius": `...)
	b = appendDict(b, in.BlastRadius, true)
	b = append(b, `, "blast_score": `...)
	if in.BlastScore == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *in.BlastScore, 10)
	}
	b = append(b, `, "capability_id": `...)
	b = canon.AppendString(b, in.CapabilityID)
	b = append(b, `, "correlation_id": `...)
	b = canon.AppendString(b, in.CorrelationID)
	b = append(b, `, "data_label": `...)
	b = canon.AppendString(b, in.DataLabel)
	if in.DryRun {
		b = append(b, `, "dry_run": true, "env": `...)
	} else {
		b = append(b, `, "dry_run": false, "env": `...)
	}
	b = canon.AppendString(b, in.Env)
	b = append(b, `, "privilege_context": `...)
	b = appendDict(b, in.PrivilegeContext, true)
	b = append(b, `, "qos_class": `...)
	b = canon.AppendString(b, in.QoSClass)
	b = append(b, `, "request": `...)
	b = appendDict(b, in.Request, false)
	b = append(b, `, "tenant_credential": `...)
	if in.TenantCredential == nil {
		b = append(b, "null"...)
	} else {
		b = canon.AppendString(b, *in.TenantCredential)
	}
	b = append(b, `, "tenant_id": `...)
	b = canon.AppendString(b, in.TenantID)
	b = append(b, `, "tenant_risk": `...)
	b = canon.AppendString(b, in.TenantRisk)
	b = append(b, '}')
	sum := sha256.Sum256(b)
	var h [64]byte
	hex.Encode(h[:], sum[:])
	return string(h[:])
}

// appendDict writes a dict field; canon never fails on a map (unencodable
// values fall back to strings), so its error is always nil here.
func appendDict(b []byte, m map[string]any, nullable bool) []byte {
	switch {
	case m == nil && nullable:
		return append(b, "null"...)
	case len(m) == 0:
		return append(b, "{}"...)
	}
	out, err := canon.Python.Append(b, m)
	if err != nil {
		return append(b, "null"...)
	}
	return out
}

// PyRepr renders a string like Python's repr().
func PyRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0xa0 || r == 0xad:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
