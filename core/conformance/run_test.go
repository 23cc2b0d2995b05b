package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallmonitor/core"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestRunGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Run(bytes.NewReader(in), &out, 0); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "cases.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		gl, wl := strings.Split(out.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("output has %d lines, golden %d", len(gl), len(wl))
	}
}

// TestEveryDenyCodeCovered makes sure the cases file exercises each deny code
// reachable through validated input (DENY_MISSING_TENANT_ID needs an input
// that bypassed validation and is covered by the core tests).
func TestEveryDenyCodeCovered(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "cases.golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	outcomes := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Outcome string `json:"outcome"`
			Summary struct {
				Code   *string `json:"code"`
				Denied bool    `json:"denied"`
			} `json:"summary"`
			Decision struct {
				SupervisorRequired bool `json:"supervisor_required"`
			} `json:"decision"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		outcomes[line.Outcome] = true
		switch {
		case line.Summary.Code != nil:
			seen[*line.Summary.Code] = true
		case line.Outcome == OutcomeDecision && line.Decision.SupervisorRequired:
			seen["pending_approval"] = true
		case line.Outcome == OutcomeDecision:
			seen["allow"] = true
		}
	}
	want := []string{"allow", "pending_approval", core.DenyUnknownTenant, core.DenyInvalidInput, core.DenyShadowRulesDetected,
		core.DenyNoMatchingRule, core.DenyMissingCorrelationID, core.DenyMissingRequiredControls, core.DenyRequiresHuman,
		core.DenyPolicyGateUnconfigured, core.DenyInternalError, core.DenyPolicyGate, core.DenyRequiresHumanApproval,
		core.DenyPolicyGateInvalidResponse, core.DenyNoAvailableWorker, core.DenyAttestationUnconfigured,
		core.DenyWorkerAttestationMissing, core.DenyWorkerAttestationInvalidHash, core.DenyWorkerHashUnavailable,
		core.DenyWorkerTampered, core.DenyPrivilegeEnvelopeUnconfigured, core.DenyPrivilegeEnvelopeViolated,
		core.DenyTenantCredentialInvalid}
	for _, c := range want {
		if !seen[c] {
			t.Errorf("cases.json has no case producing %s", c)
		}
	}
	for _, o := range []string{OutcomeDecision, OutcomeValidationError, OutcomeRulesLoadError} {
		if !outcomes[o] {
			t.Errorf("no case with outcome %s", o)
		}
	}
}

func TestRunBench(t *testing.T) {
	in := `{"cases":[{"id":"b","input":{"capability_id":"c","env":"dev","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"t","correlation_id":"x"},"rules":[{"rule_id":"r","decision":{"candidate_workers_ranked":[{"worker_species_id":"w"}]}}],"registry":{"set_workers_available":["w"]}},{"id":"v","input":{}}]}`
	var out bytes.Buffer
	if err := Run(strings.NewReader(in), &out, 50); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"decisions_per_sec"`) || !strings.Contains(lines[1], `"validation_error"`) {
		t.Fatalf("unexpected bench output:\n%s", out.String())
	}
}

func TestRunRejectsBadDocuments(t *testing.T) {
	for _, doc := range []string{``, `[]`, `{"cases":{}}`, `{"cases":[1]}`} {
		if err := Run(strings.NewReader(doc), &bytes.Buffer{}, 0); err == nil {
			t.Errorf("Run(%q) succeeded", doc)
		}
	}
}

// FuzzRun feeds arbitrary case documents to the runner: it may reject a
// document but must never panic, and each accepted case yields one line.
func FuzzRun(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "cases.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"cases":[{"id":1,"input":{"capability_id":"c","env":"prod","data_label":"RESTRICTED","tenant_risk":"high","qos_class":"P0","tenant_id":"t","correlation_id":""},"rules":[{"rule_id":"r","decision":{"escalation":{"policy_gate":1}}}],"policy_gate":{"kind":"table","rules":[{"when":{"env":["prod"],"nope":1},"result":[1,2,3]}]},"privilege":{"kind":"fixed","result":[0]},"attestation":{"registered":{"w":7}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		if err := Run(bytes.NewReader(data), &out, 0); err != nil {
			return
		}
		for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			if line != "" && !json.Valid([]byte(line)) {
				t.Fatalf("invalid output line %q", line)
			}
		}
	})
}
