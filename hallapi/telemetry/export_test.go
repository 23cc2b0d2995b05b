package telemetry_test

import (
	"context"
	"encoding/json"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/telemetry"
	"hallmonitor/hallapi/telemetry/otelexport"
	"hallmonitor/internal/otelcoltest"
)

// TestExportToRealCollector routes, approves and dispatches through a real
// Hall API exporting to the collector's own OTLP receiver, over HTTP and
// gRPC, and checks the trace of each decision and the alert logs.
func TestExportToRealCollector(t *testing.T) {
	col := otelcoltest.Start(t)
	for _, tc := range []struct {
		protocol, url string
		inputs        bool
	}{
		{"http", col.HTTPURL, false},
		{"grpc", col.GRPCURL, true},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			h := newHall(t, telemetry.Options{Export: otelexport.Options{FlushInterval: 100 * time.Millisecond}},
				otelSettings{endpoint: tc.url, protocol: tc.protocol, inputs: tc.inputs})
			allowed, approved := h.flow()
			alert, err := h.st.RaiseAlert(context.Background(), store.AlertInput{Type: store.AlertWorkerTampered, Severity: store.SeverityCritical,
				Title: "package changed", Body: "code/run", WorkerID: "org.acme.summarizer", DecisionID: approved})
			if err != nil {
				t.Fatal(err)
			}
			instance := h.tel.Export.Status()
			if !instance.Enabled || instance.Protocol != tc.protocol {
				t.Fatalf("export status: %+v", instance)
			}
			mine := func(s otelcoltest.Span) bool {
				return s.Attrs[otelexport.AttrDecisionID] == allowed || s.Attrs[otelexport.AttrDecisionID] == approved
			}
			spans, logs := col.Wait(t, "3 spans of "+approved+" and the alert", func(ss []otelcoltest.Span, ls []otelcoltest.Log) bool {
				n := 0
				for _, s := range ss {
					if mine(s) {
						n++
					}
				}
				found := false
				for _, l := range ls {
					found = found || l.Attrs["hall.alert.id"] == alert.AlertID
				}
				return n == 4 && found
			})
			byName := map[string]otelcoltest.Span{}
			var allowedRoute otelcoltest.Span
			for _, s := range spans {
				switch {
				case !mine(s):
				case s.Attrs[otelexport.AttrDecisionID] == allowed:
					allowedRoute = s
				default:
					byName[s.Name] = s
				}
			}
			route, apr, disp := byName["wcp.route"], byName["wcp.approval"], byName["wcp.dispatch"]
			if route.TraceID == "" || apr.TraceID != route.TraceID || disp.TraceID != route.TraceID {
				t.Fatalf("the approval and dispatch spans must be in the route's trace: %+v", byName)
			}
			if apr.ParentSpanID != route.SpanID || disp.ParentSpanID != route.SpanID || route.ParentSpanID != "" {
				t.Fatalf("approval and dispatch must be children of the route span: route %s, approval parent %s, dispatch parent %s",
					route.SpanID, apr.ParentSpanID, disp.ParentSpanID)
			}
			det, err := h.st.GetDecision(context.Background(), allowed)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				otelexport.AttrCapability: "cap.doc.summarize", otelexport.AttrWorker: "wrk.doc.summarizer",
				otelexport.AttrOutcome: store.OutcomeAllowed, otelexport.AttrRule: "r_doc_dev", otelexport.AttrDenyCode: "",
				otelexport.AttrTenant: "tenant-a", otelexport.AttrAgent: det.Summary.Agent,
			}
			if det.Summary.Agent == "" {
				t.Fatal("the routed decision names no principal")
			}
			for k, v := range want {
				if got, ok := allowedRoute.Attrs[k]; !ok || got != v {
					t.Errorf("route span %s = %q (present %v), want %q", k, got, ok, v)
				}
			}
			if rid := allowedRoute.Attrs[otelexport.AttrReceiptID]; rid == "" || !contains(string(det.Receipt), `"receipt_id":"`+rid+`"`) {
				t.Errorf("route span receipt id %q is not the decision's receipt %s", rid, det.Receipt)
			}
			if ah := allowedRoute.Attrs[otelexport.AttrArtifactHash]; ah == "" || !contains(string(det.Decision), ah) {
				t.Errorf("route span artifact_hash %q is not the decision's", ah)
			}
			input, sent := allowedRoute.Attrs[otelexport.AttrInput]
			if sent != tc.inputs || (tc.inputs && !contains(input, "secret-body-dev")) {
				t.Errorf("otlp_include_inputs %v: span input %q (present %v)", tc.inputs, input, sent)
			}
			if route.Attrs[otelexport.AttrOutcome] != store.OutcomePending || apr.Attrs["wcp.approval.status"] != "approved" ||
				disp.Attrs["wcp.dispatch.outcome"] != store.DispatchSucceeded || disp.Attrs[otelexport.AttrWorker] != "wrk.doc.summarizer" {
				t.Errorf("approved decision's spans: route %v approval %v dispatch %v", route.Attrs, apr.Attrs, disp.Attrs)
			}
			if allowedRoute.Resource["service.name"] != "hallmonitor" || allowedRoute.Resource["service.instance.id"] == "" {
				t.Errorf("resource: %v", allowedRoute.Resource)
			}
			var alertLog, requested *otelcoltest.Log
			for i, l := range logs {
				switch {
				case l.Attrs["hall.alert.id"] == alert.AlertID:
					alertLog = &logs[i]
				case l.EventName == "approval.created" && l.Attrs[otelexport.AttrDecisionID] == approved:
					requested = &logs[i]
				}
			}
			if alertLog.Body != "package changed" || alertLog.Severity != "ERROR" || alertLog.TraceID != route.TraceID ||
				alertLog.Attrs["hall.alert.type"] != store.AlertWorkerTampered {
				t.Errorf("alert log: %+v", alertLog)
			}
			if requested == nil || requested.TraceID != route.TraceID {
				t.Errorf("approval request log missing or outside the trace: %+v", requested)
			}
		})
	}
}

// hangingCollector accepts connections and never answers.
func hangingCollector(t *testing.T) (url string, accepted *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int64{}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns = append(conns, c) // held open, never read nor answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String(), accepted
}

// TestHangingCollectorNeverBlocksRouting routes while the collector holds
// the export's connection without answering: every route answers, the
// overflow is dropped and counted, and GET /api/status shows the count.
func TestHangingCollectorNeverBlocksRouting(t *testing.T) {
	for _, protocol := range []string{"http", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			url, accepted := hangingCollector(t)
			h := newHall(t, telemetry.Options{Export: otelexport.Options{QueueSize: 8, BatchSize: 4, FlushInterval: 10 * time.Millisecond,
				ExportTimeout: 3 * time.Second, RetryFor: 3 * time.Second}}, otelSettings{endpoint: url, protocol: protocol})
			// The first batch goes out and hangs in the collector.
			for range 4 {
				h.call(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev")})
			}
			for accepted.Load() == 0 {
				time.Sleep(10 * time.Millisecond)
			}
			const n = 60
			for range n {
				h.call(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev")})
			}
			if st := h.tel.Export.Status(); st.ExportedSpans != 0 {
				t.Fatalf("the hanging collector accepted spans: %+v", st)
			}
			// 64 decisions, at most 4 in the stuck batch and 8 queued: the rest were dropped.
			for {
				st := h.call(200, "GET", "/api/status", nil)["export"].(map[string]any)
				if st["dropped"].(float64) >= n-8 {
					if st["enabled"] != true || st["queue_capacity"].(float64) != 8 || st["endpoint"] != url {
						t.Fatalf("status export: %v", st)
					}
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			var decided int
			if err := h.st.EachDecision(context.Background(), store.DecisionFilter{}, func(store.DecisionSummary, json.RawMessage, json.RawMessage) error {
				decided++
				return nil
			}); err != nil || decided != n+4 {
				t.Fatalf("decisions recorded: %d (%v), want %d", decided, err, n+4)
			}
		})
	}
}
