// Package core is the WCP (Worker Class Protocol) decision engine of Hall
// Monitor: models, rule compilation and the routing decision pipeline. It is
// a pure library: no I/O, no mutable package state, and Decide never panics.
//
// # API
//
//	rs, err := core.ParseRules(data)              // a list or {"rules":[...]}; errors are *core.RuleError (joined)
//	rs, err := core.CompileRules([]core.Rule{...}) // programmatic rules (use core.DefaultPreconditions())
//	in, verrs := core.ParseRouteInput(data)       // pydantic-compatible; verrs is core.ValidationErrors{Loc, Type, Msg}
//	cfg, verrs := core.ParseHallConfig(data)      // or core.DefaultHallConfig() and set fields
//
//	reg := core.NewMemRegistry()                  // RegistryView + PrivilegeChecker + AttestationSource
//	err = reg.Enroll(core.RegistryRecord{...})    // plus SetControlsPresent, SetWorkersAvailable,
//	                                              // SetPrivilegeEnvelope, SetAttestation, SetEgressAllowlist
//	dec := core.Decide(in, rs, reg, core.Options{
//		Config:      &cfg, // nil: DefaultHallConfig()
//		PolicyGate:  gate, // core.PolicyGate (core.PolicyGateFunc); nil: policy_gate rules deny UNCONFIGURED
//		Privilege:   reg,  // core.PrivilegeChecker; nil: the privilege step denies UNCONFIGURED
//		Attestation: reg,  // core.AttestationSource; nil: the attestation step denies UNCONFIGURED
//		Credentials: v,    // core.CredentialVerifier, used when cfg.RequireCredential
//		TaskID:      "task-1",
//		Approvals:   core.HoldForApproval, // or core.DenyRequireHuman (reference behaviour)
//		ApprovalTTL: 15 * time.Minute,
//		Now:         clock, NewID: ids, // deterministic tests; defaults time.Now / core.NewUUID
//	})
//	dec.Denied, dec.Code(), dec.SupervisorRequired, dec.PendingApprovalID
//
// RegistryView is only ControlPresent(control) and WorkerAvailable(species);
// privilege envelopes and worker hashes come through the optional
// PrivilegeChecker and AttestationSource so that "not configured" is
// explicit (nil), as the reference's deny codes require.
//
// # Compatibility
//
// The decision matches the public reference implementation (pyhall 0.3.0)
// on well-formed input: deny codes and messages, matched rule, selected
// worker, required controls, telemetry event ids and order, blast score
// and artifact_hash (byte-compatible canonical JSON, see package canon).
// Deliberate differences from the reference's defects are listed in
// docs/wcp-compatibility.md. The main one: a REQUIRE_HUMAN gate answer is
// not a denial; the decision has denied=false, supervisor_required=true,
// pending_approval_id and approval_expires_at (spec 5.8), and package
// approval resolves it.
//
// # Performance
//
// CompileRules validates, runs shadow-rule detection once and indexes rules
// by capability, so a decision costs the same with 2 or 2000 rules. A
// RuleSet is immutable and safe for concurrent use; MemRegistry reads are
// lock-free snapshots. DecideInto(&dec, &in, rs, reg, opts) writes a
// decision into the storage of the previous one, for callers that decide
// in a loop and are done with each answer before the next: it allocates
// only the decision id and the artifact hash. Run
// `go test -bench . -run '^$' ./core/...`.
//
// Sub-packages: canon (canonical JSON), wcpid (WCP id validation),
// receipt (signed, hash-chained evidence receipts), approval (pending
// approvals state machine), conformance (the JSON conformance runner behind
// `hallmonitor route`).
package core
