package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/telemetry"
	"hallmonitor/hallapi/workers"
	"hallmonitor/internal/testservers/halltest"
)

// rules: cap.doc.summarize is allowed in dev and waits for a person's
// approval in prod (policy gate).
const rules = `{"rules":[
 {"rule_id":"r_doc_dev","match":{"capability_id":"cap.doc.summarize","env":{"in":["dev","stage"]}},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.doc.summarizer","score_hint":1.0}]}},
 {"rule_id":"r_doc_prod","match":{"capability_id":"cap.doc.summarize","env":"prod"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.doc.summarizer"}],"escalation":{"policy_gate":true}}}
]}`

// hall is a real Hall API (SQLite file in a temp dir, loopback HTTP) with telemetry mounted.
type hall struct {
	t      testing.TB
	srv    *httpapi.Server
	st     *store.Store
	tel    *telemetry.Telemetry
	base   string
	cfgDir string
	cfg    config.Config
}

func newHall(t testing.TB, opts telemetry.Options, otlp otelSettings) *hall {
	t.Helper()
	var tel *telemetry.Telemetry
	h := halltest.Start(t, halltest.Options{
		Rules: rules,
		HTTP: func(o *httpapi.Options) {
			o.Config.Port = 8765
			o.Config.OTLPEndpoint, o.Config.OTLPProtocol, o.Config.OTLPIncludeInputs = otlp.endpoint, otlp.protocol, otlp.inputs
		},
		Mount: func(ctx context.Context, h *halltest.Hall) (func(), error) {
			if err := config.Save(h.ConfigDir, h.Config); err != nil {
				return nil, err
			}
			_, pub := h.Decide.SigningPublicKey()
			var err error
			if tel, err = telemetry.Mount(h.Server, h.ConfigDir, pub, "test", opts); err != nil {
				return nil, err
			}
			if err := tel.Start(ctx, h.Config); err != nil {
				return nil, err
			}
			return tel.Export.Close, nil
		},
	})
	return &hall{t: t, srv: h.Server, st: h.Store, tel: tel, base: h.Base, cfgDir: h.ConfigDir, cfg: h.Config}
}

type otelSettings struct {
	endpoint, protocol string
	inputs             bool
}

// call sends a request with the API token and decodes the JSON answer.
func (h *hall) call(want int, method, path string, body any) map[string]any {
	h.t.Helper()
	code, b := h.raw(method, path, body)
	if code != want {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	var m map[string]any
	if len(b) > 0 && json.Unmarshal(b, &m) != nil {
		h.t.Fatalf("%s %s: not JSON: %s", method, path, b)
	}
	return m
}

func (h *hall) raw(method, path string, body any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+string(h.srv.AdminToken()))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func workerRecord(t testing.TB) map[string]any {
	rec := map[string]any{"worker_id": "org.acme.summarizer", "worker_species_id": "wrk.doc.summarizer",
		"capabilities": []any{"cap.doc.summarize"}, "blast_score": json.Number("10"), "guarantee": "at-least-once",
		"dlq_handler": "dlq.doc", "currently_implements": []any{"ctrl.obs.audit_log_append_only"}, "risk_tier": "low"}
	h, err := workers.RecordArtifactHash(rec)
	if err != nil {
		t.Fatal(err)
	}
	rec["artifact_hash"] = h
	return rec
}

func routeInput(env string) map[string]any {
	label := "PUBLIC"
	if env == "prod" {
		label = "RESTRICTED" // the policy gate holds it for a person
	}
	return map[string]any{"capability_id": "cap.doc.summarize", "env": env, "data_label": label, "tenant_risk": "low",
		"qos_class": "P2", "tenant_id": "tenant-a", "correlation_id": "corr-" + env, "request": map[string]any{"text": "secret-body-" + env}}
}

// flow routes one allowed decision and one that waits for approval,
// approves it and records its dispatch. It returns the two decision ids.
func (h *hall) flow() (allowed, approved string) {
	h.t.Helper()
	h.call(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(h.t)})
	d := h.call(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev")})["decision"].(map[string]any)
	if d["denied"] != false {
		h.t.Fatalf("dev route denied: %v", d)
	}
	allowed = d["decision_id"].(string)
	p := h.call(200, "POST", "/wcp/route", map[string]any{"input": routeInput("prod")})["decision"].(map[string]any)
	apr, _ := p["pending_approval_id"].(string)
	if apr == "" {
		h.t.Fatalf("prod route has no pending approval: %v", p)
	}
	approved = p["decision_id"].(string)
	h.call(200, "POST", "/api/approvals/"+apr+"/resolve", map[string]any{"action": "approve", "note": "ok"})
	ds := h.call(201, "POST", "/api/dispatches", map[string]any{"decision_id": approved})
	h.call(200, "POST", "/api/dispatches/"+ds["dispatch_id"].(string)+"/finish", map[string]any{"outcome": "succeeded"})
	return allowed, approved
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
