// Package core is the WCP (Worker Class Protocol) decision engine of Hall
// Monitor: models, rule compilation and the routing decision pipeline. It is
// a pure library: no I/O, no mutable globals, and Decide never panics.
//
// Typical use:
//
//	rs, err := core.ParseRules(rulesJSON)        // list or {"rules":[...]}; or core.CompileRules([]core.Rule)
//	in, verrs := core.ParseRouteInput(inputJSON) // pydantic-compatible validation, []ValidationError{Loc, Type, Msg}
//	reg := core.NewMemRegistry()                 // or any core.RegistryView
//	reg.Enroll(core.RegistryRecord{...})
//	dec := core.Decide(in, rs, reg, core.Options{
//		Config:      &cfg,        // nil: core.DefaultHallConfig()
//		PolicyGate:  gate,        // core.PolicyGate; nil: rules with policy_gate deny UNCONFIGURED
//		Privilege:   reg,         // core.PrivilegeChecker; nil: privilege step denies UNCONFIGURED
//		Attestation: reg,         // core.AttestationSource; nil: attestation step denies UNCONFIGURED
//		TaskID:      "task-1",
//		Now:         clock, NewID: ids, // deterministic tests; defaults time.Now / core.NewUUID
//	})
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
// Performance: CompileRules validates, runs shadow-rule detection once and
// indexes rules by capability, so a decision costs the same with 2 or 200
// rules. A RuleSet is immutable and safe for concurrent use.
//
// Sub-packages: canon (canonical JSON), wcpid (WCP id validation),
// receipt (signed, hash-chained evidence receipts), approval (pending
// approvals state machine), conformance (the JSON conformance runner behind
// `hallmonitor route`).
package core
