package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"testing"
	"time"

	"hallmonitor/hallapi/store"
)

func newBenchEnv(b *testing.B) *env { return newEnv(b, testRules) }

func postErr(e *env, path string, body []byte) error {
	r, _ := http.NewRequest("POST", e.base+path, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+e.token)
	r.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(r)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 && resp.StatusCode != 200 {
		return fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return nil
}

func post(b *testing.B, e *env, path string, body []byte) {
	if err := postErr(e, path, body); err != nil {
		b.Fatal(err)
	}
}

func decisionJSON(prefix string, i int) map[string]any {
	return map[string]any{"decision_id": fmt.Sprintf("%s-%d", prefix, i), "capability_id": "cap.doc.summarize", "tenant_id": fmt.Sprintf("t%d", i%4),
		"env": "dev", "denied": i%5 == 0, "correlation_id": fmt.Sprintf("corr-%d", i), "selected_worker_species_id": "wrk.doc.summarizer"}
}

// BenchmarkIngestSingle: one decision per HTTP request (each is its own durable transaction).
func BenchmarkIngestSingle(b *testing.B) {
	e := newBenchEnv(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body, _ := json.Marshal(decisionJSON("s", i))
		post(b, e, "/api/decisions/ingest", body)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkIngestBatch1000: batches of 1000 decisions per request.
func BenchmarkIngestBatch1000(b *testing.B) {
	e := newBenchEnv(b)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		ds := make([]map[string]any, 1000)
		for j := range ds {
			ds[j] = decisionJSON(fmt.Sprintf("b%d", i), j)
		}
		bodies[i], _ = json.Marshal(map[string]any{"decisions": ds})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		post(b, e, "/api/decisions/ingest", bodies[i])
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkRoute: POST /wcp/route (core.Decide + receipt + event, one transaction per request).
func BenchmarkRoute(b *testing.B) {
	e := newBenchEnv(b)
	rec := workerRecord(b, nil)
	body, _ := json.Marshal(map[string]any{"record": rec})
	post(b, e, "/api/workers/enroll", body)
	in, _ := json.Marshal(map[string]any{"input": routeInput("dev", "PUBLIC")})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		post(b, e, "/wcp/route", in)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkEventLatency: time from sending an ingest request to the SSE
// client receiving its decision.recorded event.
func BenchmarkEventLatency(b *testing.B) {
	e := newBenchEnv(b)
	ch, stop := openSSE(b, e, "")
	defer stop()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body, _ := json.Marshal(decisionJSON("l", i))
		start := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- postErr(e, "/api/decisions/ingest", body) }()
		select {
		case <-ch:
			lat = append(lat, time.Since(start))
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			b.Fatal("event not received")
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkFeedQuery1M: feed queries over 1,000,000 decisions (set HALLMONITOR_BENCH_BIG=1).
func BenchmarkFeedQuery1M(b *testing.B) {
	if os.Getenv("HALLMONITOR_BENCH_BIG") != "1" {
		b.Skip("set HALLMONITOR_BENCH_BIG=1 to build a 1,000,000-decision database")
	}
	e := newBenchEnv(b)
	const n = 1_000_000
	start := time.Now()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := e.st.Write(context.Background(), func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			outcome := store.OutcomeAllowed
			if i%5 == 0 {
				outcome = store.OutcomeDenied
			}
			w := store.DecisionWrite{Summary: store.DecisionSummary{DecisionID: fmt.Sprintf("big-%07d", i), Outcome: outcome,
				CapabilityID: fmt.Sprintf("cap.c%d", i%50), TenantID: fmt.Sprintf("t%d", i%20), Env: "dev", Source: store.SourceIngest,
				CorrelationID: fmt.Sprintf("corr-%d", i), SelectedWorkerSpeciesID: fmt.Sprintf("wrk.w%d", i%10)},
				Time: base.Add(time.Duration(i) * time.Second), Decision: []byte(`{}`)}
			if _, err := tx.RecordDecision(&w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d decisions in %v", n, time.Since(start))
	for _, q := range []string{"", "outcome=denied", "tenant=t7", "capability=cap.c3&outcome=denied", "worker=wrk.w4",
		"from=2026-01-05T00:00:00Z&to=2026-01-06T00:00:00Z", "q=corr-99999"} {
		b.Run("q="+q, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				code, _, body := e.req("GET", "/api/decisions?limit=100&"+q, nil)
				lat = append(lat, time.Since(t0))
				if code != 200 {
					b.Fatalf("%d %s", code, body)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
