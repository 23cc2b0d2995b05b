package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
	"hallmonitor/internal/testservers/halltest"
)

const testRules = `{"rules":[
 {"rule_id":"r_doc_dev","match":{"capability_id":"cap.doc.summarize","env":{"in":["dev","stage"]}},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.doc.summarizer","score_hint":1.0}]}},
 {"rule_id":"r_doc_prod","match":{"capability_id":"cap.doc.summarize","env":"prod"},
  "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.doc.summarizer"}],"escalation":{"policy_gate":true}}}
]}`

type env struct {
	t   testing.TB
	srv *httpapi.Server
	dec *decide.Service
	// token is the person's admin credential; agentToken is agent
	// "default"'s token.
	agentToken string
	st         *store.Store
	base       string
	host       string
	token      string
	cfgDir     string
	dataDir    string
	client     *http.Client
}

type envOpt func(*httpapi.Options)

func newEnv(t testing.TB, rules string, opts ...envOpt) *env {
	t.Helper()
	h := halltest.Start(t, halltest.Options{
		Rules:  rules,
		Logger: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		HTTP: func(o *httpapi.Options) {
			o.UI = fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Hall</title>")}, "assets/app.js": {Data: []byte("console.log(1)")}}
			for _, f := range opts {
				f(o)
			}
		},
	})
	return &env{t: t, srv: h.Server, dec: h.Decide, st: h.Store, base: h.Base, host: h.Addr,
		token: string(h.Server.AdminToken()), agentToken: string(h.Server.Token()), cfgDir: h.ConfigDir, dataDir: h.DataDir,
		client: &http.Client{Timeout: 70 * time.Second}}
}

// req sends a request with the token unless a header "Authorization" is given explicitly in hdr ("" removes it).
func (e *env) req(method, path string, body any, hdr ...string) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+e.token)
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			r.Host = hdr[i+1]
			continue
		}
		if hdr[i+1] == "" {
			r.Header.Del(hdr[i])
			continue
		}
		r.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// ok sends a request, requires the status, and decodes the JSON answer.
func (e *env) ok(want int, method, path string, body any, hdr ...string) map[string]any {
	e.t.Helper()
	code, _, b := e.req(method, path, body, hdr...)
	if code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	var m map[string]any
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("%s %s: bad JSON %s", method, path, b)
		}
	}
	return m
}

// apiErr sends a request and checks the JSON error's status, code and field.
func (e *env) apiErr(status int, code, field, method, path string, body any, hdr ...string) {
	e.t.Helper()
	got, _, b := e.req(method, path, body, hdr...)
	var m struct {
		Error httpapi.APIError `json:"error"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s %s: error body is not JSON: %s", method, path, b)
	}
	if got != status || (code != "*" && m.Error.Code != code) || (field != "*" && m.Error.Field != field) || m.Error.Message == "" {
		e.t.Fatalf("%s %s: got %d %+v, want %d %s field %q", method, path, got, m.Error, status, code, field)
	}
}

func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	err := e.st.Write(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func workerRecord(t testing.TB, mods map[string]any) map[string]any {
	t.Helper()
	rec := map[string]any{"worker_id": "org.acme.summarizer", "worker_species_id": "wrk.doc.summarizer",
		"capabilities": []any{"cap.doc.summarize"}, "blast_score": json.Number("10"), "guarantee": "at-least-once",
		"dlq_handler": "dlq.doc", "currently_implements": []any{"ctrl.obs.audit_log_append_only"}, "risk_tier": "low"}
	for k, v := range mods {
		if v == nil {
			delete(rec, k)
		} else {
			rec[k] = v
		}
	}
	h, err := workers.RecordArtifactHash(rec)
	if err != nil {
		t.Fatal(err)
	}
	rec["artifact_hash"] = h
	return rec
}

func routeInput(env, label string) map[string]any {
	return map[string]any{"capability_id": "cap.doc.summarize", "env": env, "data_label": label, "tenant_risk": "low",
		"qos_class": "P2", "tenant_id": "tenant-a", "correlation_id": "corr-1", "request": map[string]any{"text": "hi"}}
}

type testLog struct{ t testing.TB }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
