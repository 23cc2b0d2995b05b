package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/telemetry/otelexport"
	"hallmonitor/hallapi/workers"
	"hallmonitor/internal/otelcoltest"
)

// hallmonitorBinary is $HALLMONITOR_BIN, or the binary built from this
// checkout into the test's temporary directory.
func hallmonitorBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("HALLMONITOR_BIN"); b != "" {
		return b
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "hallmonitor")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build hallmonitor: %v\n%s", err, out)
	}
	return bin
}

// TestServeExportsToRealCollector runs the real `hallmonitor serve` with
// otlp_endpoint set to the collector's OTLP receiver, routes an allowed
// decision and one that a person approves and that is dispatched, and
// finds their traces and the approval request's log in the collector.
func TestServeExportsToRealCollector(t *testing.T) {
	col := otelcoltest.Start(t)
	bin := hallmonitorBinary(t)
	tmp := t.TempDir()
	cfgDir, dataDir := filepath.Join(tmp, "config"), filepath.Join(tmp, "data")
	cfg, err := config.Defaults(cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.RulesPath = dataDir, filepath.Join(cfgDir, "rules.json")
	cfg.OTLPEndpoint, cfg.OTLPProtocol = col.HTTPURL, "http"
	cfg.SetupCompletedAt = time.Now().UTC().Format(time.RFC3339)
	if err := config.Save(cfgDir, cfg); err != nil {
		t.Fatal(err)
	}
	rules := `{"rules":[
 {"rule_id":"r_dev","match":{"capability_id":"cap.doc.summarize","env":"dev"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.doc.summarizer"}]}},
 {"rule_id":"r_prod","match":{"capability_id":"cap.doc.summarize","env":"prod"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.doc.summarizer"}],"escalation":{"policy_gate":true}}}]}`
	if err := os.WriteFile(cfg.RulesPath, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "--config-dir", cfgDir, "--data-dir", dataDir, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DISPLAY=", "WAYLAND_DISPLAY=", config.EnvPort+"=", config.EnvDataDir+"=", config.EnvConfigDir+"=")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("serve's log:\n%s", stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/#token=(\S+)`).FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("serve did not print its URL: %q %v\n%s", line, err, stderr.String())
	}
	base, token := "http://"+m[1], m[2]
	call := func(want int, method, path string, body any) map[string]any {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		var out map[string]any
		json.Unmarshal(b, &out)
		return out
	}
	rec := map[string]any{"worker_id": "org.acme.summarizer", "worker_species_id": "wrk.doc.summarizer",
		"capabilities": []any{"cap.doc.summarize"}, "blast_score": json.Number("10"), "guarantee": "at-least-once",
		"dlq_handler": "dlq.doc", "currently_implements": []any{"ctrl.obs.audit_log_append_only"}, "risk_tier": "low"}
	if rec["artifact_hash"], err = workers.RecordArtifactHash(rec); err != nil {
		t.Fatal(err)
	}
	call(201, "POST", "/api/workers/enroll", map[string]any{"record": rec})
	input := func(env, label string) map[string]any {
		return map[string]any{"input": map[string]any{"capability_id": "cap.doc.summarize", "env": env, "data_label": label,
			"tenant_risk": "low", "qos_class": "P2", "tenant_id": "tenant-a", "correlation_id": "corr-" + env}}
	}
	allowed := call(200, "POST", "/wcp/route", input("dev", "PUBLIC"))["decision"].(map[string]any)["decision_id"].(string)
	held := call(200, "POST", "/wcp/route", input("prod", "RESTRICTED"))["decision"].(map[string]any)
	approved, apr := held["decision_id"].(string), held["pending_approval_id"].(string)
	call(200, "POST", "/api/approvals/"+apr+"/resolve", map[string]any{"action": "approve"})
	dsp := call(201, "POST", "/api/dispatches", map[string]any{"decision_id": approved})["dispatch_id"].(string)
	call(200, "POST", "/api/dispatches/"+dsp+"/finish", map[string]any{"outcome": "succeeded"})

	spans, logs := col.Wait(t, "the spans of both decisions", func(ss []otelcoltest.Span, ls []otelcoltest.Log) bool {
		n := 0
		for _, s := range ss {
			if s.Attrs[otelexport.AttrDecisionID] == allowed || s.Attrs[otelexport.AttrDecisionID] == approved {
				n++
			}
		}
		return n == 4 && len(ls) > 0
	})
	names := map[string]otelcoltest.Span{}
	for _, s := range spans {
		if s.Attrs[otelexport.AttrDecisionID] == approved {
			names[s.Name] = s
		}
		if s.Attrs[otelexport.AttrDecisionID] == allowed && (s.Attrs[otelexport.AttrRule] != "r_dev" ||
			s.Attrs[otelexport.AttrOutcome] != "allowed" || s.Attrs[otelexport.AttrReceiptID] == "" || s.Attrs[otelexport.AttrArtifactHash] == "") {
			t.Errorf("allowed decision's span: %v", s.Attrs)
		}
	}
	route := names["wcp.route"]
	if route.TraceID == "" || names["wcp.approval"].ParentSpanID != route.SpanID || names["wcp.dispatch"].ParentSpanID != route.SpanID ||
		names["wcp.dispatch"].TraceID != route.TraceID || names["wcp.dispatch"].Attrs[otelexport.AttrDispatchID] != dsp {
		t.Fatalf("route -> approval -> dispatch must be one trace: %+v", names)
	}
	if l := logs[0]; l.EventName != "approval.created" || l.TraceID != route.TraceID || !strings.Contains(l.Body, "cap.doc.summarize") {
		t.Fatalf("approval request log: %+v", l)
	}
	st := call(200, "GET", "/api/status", nil)["export"].(map[string]any)
	if st["enabled"] != true || st["dropped"] != 0.0 || st["exported_spans"].(float64) < 4 {
		t.Fatalf("status export: %v", st)
	}
}
