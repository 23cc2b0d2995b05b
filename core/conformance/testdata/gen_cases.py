# Regenerates cases.json (python3 gen_cases.py). Kept next to the data so the
# cases stay reviewable as code; the Go test reads cases.json only.
import copy, json

SP = "wrk.hello.greeter"
SP2 = "wrk.hello.backup"
H1 = "a" * 64
H2 = "b" * 64
AUDIT = "ctrl.obs.audit_log_append_only"

def inp(**kw):
    d = {"capability_id": "cap.hello.greet", "env": "dev", "data_label": "PUBLIC",
         "tenant_risk": "low", "qos_class": "P2", "tenant_id": "tenant-a", "correlation_id": "corr-0001"}
    d.update(kw)
    return d

def rule(rid="r_hello", match=None, **dec):
    d = {"candidate_workers_ranked": [{"worker_species_id": SP, "score_hint": 1.0}],
         "required_controls_suggested": [AUDIT]}
    d.update(dec)
    return {"rule_id": rid, "match": match if match is not None else {"capability_id": "cap.hello.greet"}, "decision": d}

REG = {"enroll": [{"worker_id": "org.acme.greeter", "worker_species_id": SP,
                   "capabilities": ["cap.hello.greet"], "currently_implements": [AUDIT]}]}

def case(cid, input=None, rules=None, **kw):
    c = {"id": cid, "input": input or inp(), "rules": rules if rules is not None else [rule()],
         "registry": copy.deepcopy(REG), "task_id": "task-" + cid}
    c.update(kw)
    return c

gate = lambda d, pv="policy.v7", r="reason-x": {"kind": "fixed", "result": [d, pv, r]}
gated_rule = lambda: rule(escalation={"policy_gate": True, "rationale": "needs gate"})
attest_cfg = {"require_worker_attestation": True}

cases = [
    case("allow_dev"),
    case("allow_prod_reference_hash", inp(env="prod")),
    case("allow_gate_allow", rules=[gated_rule()], policy_gate=gate("ALLOW")),
    case("allow_gate_table", rules=[gated_rule()], policy_gate={"kind": "table",
         "rules": [{"when": {"env": ["prod", "edge"]}, "result": ["DENY", "p1", "prod closed"]},
                   {"when": {"tenant_id": "tenant-a"}, "result": ["ALLOW", "p2", "tenant ok"]}],
         "default": ["DENY", "p0", "default deny"]}),
    case("pending_approval_require_human", rules=[gated_rule()], policy_gate=gate("REQUIRE_HUMAN", r="supervisor must sign")),
    case("allow_dry_run", inp(dry_run="yes")),
    case("allow_second_candidate", rules=[rule(candidate_workers_ranked=[
        {"worker_species_id": "wrk.hello.absent"}, {"worker_species_id": None}, {"worker_species_id": SP, "score_hint": 0.5},
        {"worker_species_id": SP2, "score_hint": "2"}])],
        registry={"enroll": REG["enroll"], "set_workers_available": [SP, SP2]}),
    case("allow_privilege_reference_policy", rules=[rule(required_controls_suggested=[AUDIT, "ctrl.privilege_envelopes_required"])],
         registry={"enroll": REG["enroll"], "set_controls_present": [AUDIT, "ctrl.privilege_envelopes_required"]}),
    case("allow_attestation_valid", hall_config=attest_cfg, attestation={"registered": {SP: H1}, "current": {SP: H1}}),
    case("allow_sanitized_telemetry_ids", inp(correlation_id="corr\u0001-7\u007f", capability_id="cap.hello.greet")),
    case("allow_recommended_profiles_and_preconditions",
         rules=[rule(recommended_profiles=[{"profile_id": "prof.fast"}], preconditions={"deny_if_unsigned_artifact_in_prod": "on"})]),
    case("allow_blast_score_string_coerced", inp(blast_score=" 90 ", request={"egress": True, "n": 1.5, "big": 10000000000000000.0})),
    case("deny_unknown_tenant", hall_config={"require_signatory": True, "allowed_tenants": ["tenant-b"]}),
    case("deny_invalid_input_blast_score", inp(blast_score=101)),
    case("deny_shadow_rules_prod", inp(env="prod"), rules=[rule("r_catch_all", match={}), rule("r2"), rule("r3")]),
    case("shadow_rules_ignored_in_dev", rules=[rule("r_catch_all", match={}), rule("r2")]),
    case("deny_no_matching_rule", inp(capability_id="cap.unknown")),
    case("deny_no_rules_doc_key", rules_doc={}),
    case("deny_missing_correlation_id", inp(correlation_id=" \t")),
    case("deny_missing_required_controls", rules=[rule(required_controls_suggested=[AUDIT, "ctrl.zz.missing", "ctrl.aa.missing"])]),
    case("deny_requires_human_high_blast", inp(env="prod", data_label="RESTRICTED", qos_class="P0", request={"egress": True})),
    case("deny_policy_gate_unconfigured", rules=[gated_rule()]),
    case("deny_internal_error_gate", rules=[gated_rule()], policy_gate={"kind": "fixed", "result": ["ALLOW", "p"]}),
    case("deny_internal_error_privilege", inp(env="prod", data_label="RESTRICTED"),
         rules=[rule(required_controls_suggested=[AUDIT, "ctrl.privilege_envelopes_required"])],
         registry={"enroll": REG["enroll"], "set_controls_present": [AUDIT, "ctrl.privilege_envelopes_required"],
                   "set_privilege_envelopes": {SP: {"egress": "not-an-object"}}}),
    case("deny_policy_gate", rules=[gated_rule()], policy_gate=gate("DENY", r="blocked by policy")),
    case("deny_requires_human_approval_reference_mode", rules=[gated_rule()], policy_gate=gate("REQUIRE_HUMAN"), approvals={"mode": "deny"}),
    case("deny_policy_gate_invalid_response", rules=[gated_rule()], policy_gate=gate("allow")),
    case("deny_no_available_worker", registry={"enroll": REG["enroll"], "set_workers_available": []}),
    case("deny_attestation_unconfigured", hall_config=attest_cfg),
    case("deny_worker_attestation_missing", hall_config=attest_cfg, attestation={"registered": {SP: None}, "current": {SP: H1}}),
    case("deny_worker_attestation_invalid_hash", hall_config=attest_cfg, attestation={"registered": {SP: "sha256:" + H1}, "current": {SP: H1}}),
    case("deny_worker_attestation_trailing_newline", hall_config=attest_cfg, attestation={"registered": {SP: H1 + "\n"}, "current": {SP: H1}}),
    case("deny_worker_hash_unavailable", hall_config=attest_cfg, attestation={"registered": {SP: H1}, "current": {SP: None}}),
    case("deny_worker_tampered", hall_config=attest_cfg, attestation={"registered": {SP: H1}, "current": {SP: H2}}),
    case("deny_privilege_envelope_unconfigured", rules=[rule(required_controls_suggested=[AUDIT, "ctrl.privilege_envelopes_required"])],
         registry={"enroll": REG["enroll"], "set_controls_present": [AUDIT, "ctrl.privilege_envelopes_required"]}, privilege={"kind": "none"}),
    case("deny_privilege_envelope_violated", hall_config={"enforce_privilege_envelopes": True},
         privilege={"kind": "fixed", "envelope": {"egress": {"allowlist": ["x.example"]}}, "result": [False, "egress_not_allowlisted:x.example"]}),
    case("deny_tenant_credential_required", inp(tenant_credential="secret"), hall_config={"require_credential": True}),
    case("quirk_string_false_is_not_truthy", inp(env="prod", data_label="RESTRICTED", qos_class="P0", request={"egress": "false", "writes": "no"})),
    case("quirk_catalog_blast_control_spelling", rules=[rule(required_controls_suggested=[AUDIT, "ctrl.blast-radius-scoring"])],
         registry={"enroll": REG["enroll"], "set_controls_present": [AUDIT, "ctrl.blast-radius-scoring"]}),
    case("quirk_ignored_input_key_not_hashed", inp(env="prod", policy_version="policy.v9")),
    case("validation_error_fields", inp(env="PROD", tenant_id=" ", blast_score="90.5", dry_run="maybe", request=None)),
    case("validation_error_missing_fields", {"capability_id": 7}),
    case("validation_error_hall_config", hall_config={"require_signatory": "sometimes"}),
    case("rules_load_error_missing_rule_id", rules=[{"match": {}}]),
    case("rules_load_error_string_in", rules=[rule(match={"env": {"in": "devstage"}})]),
    case("rules_load_error_unknown_match_key", rules=[rule(match={"capability_id": "cap.hello.greet", "tenant_id": "tenant-a"})]),
    case("rules_load_error_escalation_null", rules=[rule(escalation={"policy_gate": None})]),
    case("rules_load_error_unknown_operator", rules=[rule(match={"env": {"eq": "dev"}})]),
]
for c in cases:
    if "rules_doc" in c:
        del c["rules"]
with open("cases.json", "w") as f:
    json.dump({"cases": cases}, f, indent=1, ensure_ascii=False)
    f.write("\n")
