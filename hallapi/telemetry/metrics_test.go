package telemetry_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"hallmonitor/hallapi/telemetry"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads GET /metrics with the token and parses it as Prometheus does.
func scrape(t *testing.T, h *hall) map[string]*dto.MetricFamily {
	t.Helper()
	code, b := h.raw("GET", "/metrics", nil)
	if code != 200 {
		t.Fatalf("GET /metrics: %d %s", code, b)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("GET /metrics is not the Prometheus text format: %v", err)
	}
	return fams
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestMetricsScrape(t *testing.T) {
	h := newHall(t, telemetry.Options{}, otelSettings{})
	// Without the token: 401, like every Token route.
	resp, err := http.Get(h.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /metrics without the token: %d", resp.StatusCode)
	}
	h.flow()
	// One more decision, denied (no rule for the capability).
	in := routeInput("dev")
	in["capability_id"] = "cap.unknown.thing"
	h.call(200, "POST", "/wcp/route", map[string]any{"input": in})
	h.call(400, "POST", "/wcp/route", map[string]any{"input": "not an object"}) // never decided: a 4xx is measured too

	var fams map[string]*dto.MetricFamily
	// The counters follow the event bus: wait until all three decisions are counted.
	for i := 0; ; i++ {
		fams = scrape(t, h)
		total := 0.0
		for _, m := range fams["hallmonitor_decisions_total"].GetMetric() {
			total += m.GetCounter().GetValue()
		}
		if total == 3 && fams["hallmonitor_dispatch_duration_seconds"] != nil {
			break
		}
		if i == 500 {
			t.Fatalf("decisions counted: %v", total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := map[[3]string]float64{}
	for _, m := range fams["hallmonitor_decisions_total"].GetMetric() {
		l := labels(m)
		got[[3]string{l["outcome"], l["deny_code"], l["capability"]}] = m.GetCounter().GetValue()
	}
	want := map[[3]string]float64{
		{"allowed", "", "cap.doc.summarize"}: 1, {"pending", "", "cap.doc.summarize"}: 1,
		{"denied", "DENY_NO_MATCHING_RULE", "cap.unknown.thing"}: 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("hallmonitor_decisions_total%v = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	route := map[string]uint64{}
	for _, m := range fams["hallmonitor_route_duration_seconds"].GetMetric() {
		route[labels(m)["code"]] = m.GetHistogram().GetSampleCount()
	}
	if route["200"] != 3 || route["400"] != 1 {
		t.Errorf("route latency samples by code: %v, want 3 × 200 and 1 × 400", route)
	}
	d := fams["hallmonitor_dispatch_duration_seconds"].GetMetric()
	if len(d) != 1 || labels(d[0])["outcome"] != "succeeded" || d[0].GetHistogram().GetSampleCount() != 1 {
		t.Errorf("dispatch durations: %v", d)
	}
	for name, v := range map[string]float64{"hallmonitor_pending_approvals": 0, "hallmonitor_open_alerts": 0,
		"hallmonitor_workers_enrolled": 1, "hallmonitor_export_queue_depth": 0, "hallmonitor_export_dropped_total": 0} {
		f := fams[name]
		if f == nil || len(f.GetMetric()) != 1 {
			t.Errorf("%s missing", name)
			continue
		}
		m := f.GetMetric()[0]
		if got := m.GetGauge().GetValue() + m.GetCounter().GetValue(); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if f := fams["hallmonitor_event_subscribers"]; f == nil || f.GetMetric()[0].GetGauge().GetValue() < 1 {
		t.Errorf("event subscribers (the metrics counter itself subscribes): %v", f)
	}
}

func TestOTLPSettingsEndpoint(t *testing.T) {
	h := newHall(t, telemetry.Options{}, otelSettings{})
	if st := h.call(200, "GET", "/api/telemetry/otlp", nil)["export"].(map[string]any); st["enabled"] != false || st["endpoint"] != "" {
		t.Fatalf("off by default: %v", st)
	}
	for _, tc := range []struct {
		body  map[string]any
		code  int
		field string
	}{
		{map[string]any{"otlp_endpoint": "ftp://x", "otlp_protocol": "http", "otlp_include_inputs": false}, 400, "otlp_endpoint"},
		{map[string]any{"otlp_endpoint": "http://127.0.0.1:4318", "otlp_protocol": "udp", "otlp_include_inputs": false}, 400, "otlp_protocol"},
		{map[string]any{"otlp_endpoint": "http://127.0.0.1:4318", "otlp_protocol": "http"}, 400, "otlp_include_inputs"},
		{map[string]any{"otlp_endpoint": "", "otlp_protocol": "", "otlp_include_inputs": false, "extra": 1}, 400, ""},
	} {
		m := h.call(tc.code, "PUT", "/api/telemetry/otlp", tc.body)
		if e := m["error"].(map[string]any); e["field"] != tc.field {
			t.Errorf("%v: error %v, want field %q", tc.body, e, tc.field)
		}
	}
	st := h.call(200, "PUT", "/api/telemetry/otlp", map[string]any{"otlp_endpoint": "http://127.0.0.1:1", "otlp_protocol": "grpc", "otlp_include_inputs": true})["export"].(map[string]any)
	if st["enabled"] != true || st["protocol"] != "grpc" || st["include_inputs"] != true {
		t.Fatalf("applied at once: %v", st)
	}
	st = h.call(200, "GET", "/api/status", nil)["export"].(map[string]any)
	if st["endpoint"] != "http://127.0.0.1:1" {
		t.Fatalf("status export: %v", st)
	}
	cfg := h.call(200, "GET", "/api/setup", nil)["config"].(map[string]any)
	if cfg["otlp_endpoint"] != "http://127.0.0.1:1" || cfg["otlp_protocol"] != "grpc" || cfg["otlp_include_inputs"] != true {
		t.Fatalf("config.json: %v", cfg)
	}
	st = h.call(200, "PUT", "/api/telemetry/otlp", map[string]any{"otlp_endpoint": "", "otlp_protocol": "", "otlp_include_inputs": false})["export"].(map[string]any)
	if st["enabled"] != false {
		t.Fatalf("turned off: %v", st)
	}
}
