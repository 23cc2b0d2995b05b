package telemetry_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"hallmonitor/hallapi/telemetry"
	"hallmonitor/internal/otelcoltest"
)

// BenchmarkExportOverhead measures route throughput (POST /wcp/route over
// loopback HTTP, 4 concurrent clients) of two Halls in the same run, one
// exporting every decision to the real collector's OTLP receiver and one
// exporting nothing, in alternating chunks so both see the same machine
// load. It reports both rates and their ratio (on/off).
func BenchmarkExportOverhead(b *testing.B) {
	col := otelcoltest.Start(b)
	off := newHall(b, telemetry.Options{}, otelSettings{})
	on := newHall(b, telemetry.Options{}, otelSettings{endpoint: col.HTTPURL, protocol: "http"})
	body, _ := json.Marshal(map[string]any{"input": routeInput("dev")})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	route := func(h *hall, n int) time.Duration {
		const workers = 4
		start := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					req, _ := http.NewRequest("POST", h.base+"/wcp/route", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+string(h.srv.Token()))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("route: %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	route(off, 50) // warm both up
	route(on, 50)
	const chunk = 100
	var tOff, tOn time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		tOff += route(off, n)
		tOn += route(on, n)
	}
	b.StopTimer()
	rOff, rOn := float64(b.N)/tOff.Seconds(), float64(b.N)/tOn.Seconds()
	b.ReportMetric(rOff, "routes/s-export-off")
	b.ReportMetric(rOn, "routes/s-export-on")
	b.ReportMetric(rOn/rOff, "ratio-on/off")
	// Everything routed with export on reached the collector (none dropped).
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := on.tel.Export.Status()
		if st.Dropped != 0 {
			b.Fatalf("export dropped %d spans under the benchmark: %+v", st.Dropped, st)
		}
		if st.ExportedSpans >= int64(b.N+50) {
			b.ReportMetric(float64(st.ExportedSpans), "spans-exported")
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("collector received %d of %d spans", st.ExportedSpans, b.N+50)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
