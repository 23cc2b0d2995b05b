package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hallmonitor/hallapi/workers"
)

// routeClient is the HTTP client of the route load: kept-alive connections
// for every agent, or for every request in flight at a fixed offered rate.
func routeClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConns: 1024,
		MaxIdleConnsPerHost: 1024}}
}

// enrollWorkers enrolls n workers through the API: wrk.doc.summarizer (the
// one routed to) and n-1 others, each serving a capability of its own.
func enrollWorkers(c *http.Client, base, token string, n int) error {
	for i := 0; i < n; i++ {
		id, sp, capID := "x.bench.summarizer", "wrk.doc.summarizer", "cap.doc.summarize"
		if i > 0 {
			id, sp, capID = fmt.Sprintf("x.bench.w%04d", i), fmt.Sprintf("wrk.bench.w%04d", i), fmt.Sprintf("cap.bench.w%04d", i)
		}
		rec := map[string]any{"worker_id": id, "worker_species_id": sp, "capabilities": []any{capID},
			"blast_score": json.Number("10"), "guarantee": "at-least-once", "dlq_handler": "dlq.bench",
			"currently_implements": []any{"ctrl.obs.audit_log_append_only"}, "risk_tier": "low"}
		h, err := workers.RecordArtifactHash(rec)
		if err != nil {
			return err
		}
		rec["artifact_hash"] = h
		body, _ := json.Marshal(map[string]any{"record": rec})
		if _, err := do(c, base+"/api/workers/enroll", token, body, http.StatusOK, http.StatusCreated); err != nil {
			return fmt.Errorf("enroll %s: %w", id, err)
		}
	}
	return nil
}

func do(c *http.Client, url, token string, body []byte, want ...int) ([]byte, error) {
	r, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, w := range want {
		if resp.StatusCode == w {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%d %s", resp.StatusCode, b)
}

// cpuTicks is utime+stime of a process in clock ticks (/proc/<pid>/stat).
func cpuTicks(pid int) (int64, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	return ut + st, err1 == nil && err2 == nil
}

// clockTick is the kernel's USER_HZ (100 on Linux for every architecture Go supports here).
const clockTick = 100

// routeLoad sends n decisions to POST /wcp/route from agents concurrent
// agents (closed loop) or, with rate > 0, at a fixed offered rate (open loop:
// latency counts from the scheduled send time, so a stalled server is not
// hidden). It prints decisions/s, p50, p99 and the server's CPU per decision.
func routeLoad(c *http.Client, base, token string, n, agents int, rate float64, pid int, label string) {
	bodies := make([][]byte, 8)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{"input": map[string]any{"capability_id": "cap.doc.summarize", "env": "dev",
			"data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P2", "tenant_id": fmt.Sprintf("t%d", i),
			"correlation_id": fmt.Sprintf("load-%d", i), "request": map[string]any{"text": "hi"}}})
	}
	lat := make([]time.Duration, n)
	var next, errs atomic.Int64
	var firstErr atomic.Value
	send := func(i int, from time.Time) {
		_, err := do(c, base+"/wcp/route", token, bodies[i%len(bodies)], http.StatusOK)
		lat[i] = time.Since(from)
		if err != nil {
			errs.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
		}
	}
	t0, ok0 := cpuTicks(pid)
	start := time.Now()
	var wg sync.WaitGroup
	if rate <= 0 {
		for range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= n {
						return
					}
					send(i, time.Now())
				}
			}()
		}
	} else {
		interval := time.Duration(float64(time.Second) / rate)
		for i := 0; i < n; i++ {
			at := start.Add(time.Duration(i) * interval)
			time.Sleep(time.Until(at))
			wg.Add(1)
			go func() { defer wg.Done(); send(i, at) }()
		}
	}
	wg.Wait()
	el := time.Since(start)
	t1, ok1 := cpuTicks(pid)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	cpu := "n/a"
	if ok0 && ok1 {
		cpu = fmt.Sprintf("%.0f", float64(t1-t0)/clockTick*1e6/float64(n))
	}
	mode := fmt.Sprintf("%d agents", agents)
	if rate > 0 {
		mode = fmt.Sprintf("offered %.0f/s", rate)
	}
	fmt.Printf("route %-10s %-14s %6d decisions in %7v: %7.0f decisions/s  p50 %8v  p99 %8v  server CPU %s µs/decision  %d failed\n",
		label, mode, n, el.Round(time.Millisecond), float64(n)/el.Seconds(), lat[n/2].Round(time.Microsecond),
		lat[n*99/100].Round(time.Microsecond), cpu, errs.Load())
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "first error:", e)
	}
}
