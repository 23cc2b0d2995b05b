package core

import (
	"strconv"

	"unicode/utf8"
)

// Telemetry event ids, in the order the allow path emits them.
const (
	EvtBlastScored        = "evt.gov.blast_scored"
	EvtPrivilegeChecked   = "evt.gov.privilege_envelope.checked"
	EvtAttestationSkipped = "evt.os.worker.attestation_skipped"
	EvtTaskRouted         = "evt.os.task.routed"
	EvtWorkerSelected     = "evt.os.worker.selected"
	EvtPolicyGated        = "evt.os.policy.gated"
	EvtApprovalRequested  = "evt.os.approval.requested"
	EvtTaskDenied         = "evt.os.task.denied"
	attestationSkipReason = "require_worker_attestation=False or hall_config=None"
	// attestationNoPackageReason: Options.Attests excluded the worker.
	attestationNoPackageReason = "worker_has_no_package"
	workerSelectedReason       = "first_available_candidate"
	policyGateAllowReason      = "policy_gate_allow"
	policyNoGateReason         = "no_gate_required"
	attestationSkipSeverity    = "warn"
)

// TelemetryEnvelope is one telemetry event. Only the keys the reference
// defines for EventID are serialized (see MarshalJSON). Ids are sanitized
// (control characters removed).
type TelemetryEnvelope struct {
	EventID                 string    `json:"event_id"`
	Timestamp               Timestamp `json:"timestamp"`
	CorrelationID           string    `json:"correlation_id,omitempty"`
	TenantID                string    `json:"tenant_id,omitempty"`
	CapabilityID            string    `json:"capability_id,omitempty"`
	Env                     string    `json:"env,omitempty"`
	DataLabel               string    `json:"data_label,omitempty"`
	PolicyVersion           string    `json:"policy_version,omitempty"`
	BlastScore              int64     `json:"blast_score,omitempty"`
	Decision                string    `json:"decision,omitempty"`
	WorkerSpeciesID         string    `json:"worker_species_id,omitempty"`
	SelectedWorkerSpeciesID string    `json:"selected_worker_species_id,omitempty"`
	TaskID                  string    `json:"task_id,omitempty"`
	MatchedRuleID           string    `json:"matched_rule_id,omitempty"`
	QoSClass                string    `json:"qos_class,omitempty"`
	Reason                  string    `json:"reason,omitempty"`
	Severity                string    `json:"severity,omitempty"`
	DenyCode                string    `json:"deny_code,omitempty"`
	DenyMessage             string    `json:"deny_message,omitempty"`
	PendingApprovalID       string    `json:"pending_approval_id,omitempty"`
	ExpiresAt               string    `json:"expires_at,omitempty"`
	DryRun                  bool      `json:"dry_run,omitempty"`
}

// MarshalJSON writes exactly the reference keys of the event, in the
// reference order, plus dry_run:true on dry runs.
func (e TelemetryEnvelope) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 320)
	b = append(b, `{"event_id":`...)
	b = appendString(b, e.EventID)
	str := func(k, v string) {
		b = append(b, ',', '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		b = appendString(b, v)
	}
	ts := func() { str("timestamp", e.Timestamp.String()) }
	switch e.EventID {
	case EvtBlastScored, EvtPrivilegeChecked:
		ts()
		str("correlation_id", e.CorrelationID)
		str("tenant_id", e.TenantID)
		str("env", e.Env)
		str("data_label", e.DataLabel)
		str("policy_version", e.PolicyVersion)
		if e.EventID == EvtBlastScored {
			b = append(b, `,"blast_score":`...)
			b = strconv.AppendInt(b, e.BlastScore, 10)
		} else {
			str("worker_species_id", e.WorkerSpeciesID)
		}
		str("decision", e.Decision)
	case EvtAttestationSkipped:
		str("correlation_id", e.CorrelationID)
		str("worker_species_id", e.WorkerSpeciesID)
		str("env", e.Env)
		str("reason", e.Reason)
		str("severity", e.Severity)
	case EvtTaskRouted:
		ts()
		str("correlation_id", e.CorrelationID)
		str("tenant_id", e.TenantID)
		str("task_id", e.TaskID)
		str("capability_id", e.CapabilityID)
		str("matched_rule_id", e.MatchedRuleID)
		str("selected_worker_species_id", e.SelectedWorkerSpeciesID)
		str("policy_version", e.PolicyVersion)
		str("qos_class", e.QoSClass)
	case EvtWorkerSelected:
		ts()
		str("correlation_id", e.CorrelationID)
		str("tenant_id", e.TenantID)
		str("capability_id", e.CapabilityID)
		str("selected_worker_species_id", e.SelectedWorkerSpeciesID)
		str("reason", e.Reason)
	case EvtPolicyGated:
		ts()
		str("correlation_id", e.CorrelationID)
		str("tenant_id", e.TenantID)
		str("capability_id", e.CapabilityID)
		str("decision", e.Decision)
		str("policy_version", e.PolicyVersion)
		str("reason", e.Reason)
	case EvtApprovalRequested:
		ts()
		str("correlation_id", e.CorrelationID)
		str("tenant_id", e.TenantID)
		str("capability_id", e.CapabilityID)
		str("selected_worker_species_id", e.SelectedWorkerSpeciesID)
		str("pending_approval_id", e.PendingApprovalID)
		str("expires_at", e.ExpiresAt)
		str("policy_version", e.PolicyVersion)
		str("reason", e.Reason)
	default: // EvtTaskDenied
		ts()
		str("correlation_id", e.CorrelationID)
		str("tenant_id", e.TenantID)
		str("capability_id", e.CapabilityID)
		str("deny_code", e.DenyCode)
		str("deny_message", e.DenyMessage)
		str("matched_rule_id", e.MatchedRuleID)
	}
	if e.DryRun {
		b = append(b, `,"dry_run":true`...)
	}
	return append(b, '}'), nil
}

// SanitizeID removes characters U+0000..U+001F and U+007F, as the
// reference does for ids in telemetry.
func SanitizeID(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x20 && s[i] != 0x7f {
			out = append(out, s[i])
		}
	}
	return string(out)
}

const hexChars = "0123456789abcdef"

// appendString appends s as a JSON string (UTF-8 kept, invalid bytes as
// U+FFFD).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexChars[c>>4], hexChars[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
