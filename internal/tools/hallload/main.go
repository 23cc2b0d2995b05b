// Command hallload is a rerunnable load generator for a running Hall
// (`hallmonitor serve`). Mode ingest (the default) ingests decisions over
// HTTP with several clients and batch sizes while an SSE subscriber measures
// the latency from ingest to event, then prints throughput and latency
// percentiles. Mode route sends POST /wcp/route from concurrent agents (or at
// a fixed offered rate) and prints decisions/s, p50, p99 and, given the
// server's pid, its CPU time per decision; -enroll first enrolls workers.
// Mode mcp compares a tool call proxied by the Hall's MCP server with a
// direct call to the same upstream server (p50, p99, overhead).
//
//	hallload -url http://127.0.0.1:8765 -token-file ~/.config/hallmonitor/api-token -n 100000 -batch 1000 -clients 2
//	hallload -mode route -url ... -token-file ... -enroll 100 -agents 32 -n 20000 -pid 1234
//	hallload -mode mcp -token-file ... -mcp-hall http://127.0.0.1:P1/ -mcp-direct http://127.0.0.1:P2/mcp -mcp-server bench -n 2000
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8765", "Hall URL")
	tokenFile := flag.String("token-file", "", "file holding the API token (default $HALLMONITOR_TOKEN)")
	n := flag.Int("n", 20000, "decisions to ingest")
	batch := flag.Int("batch", 1000, "decisions per request (1 = single ingest)")
	clients := flag.Int("clients", 2, "concurrent clients")
	mode := flag.String("mode", "ingest", "ingest, route or mcp")
	mcpHall := flag.String("mcp-hall", "", "mcp: the Hall's MCP endpoint (hallmonitor mcp --http), e.g. http://127.0.0.1:PORT/")
	mcpDirect := flag.String("mcp-direct", "", "mcp: the upstream MCP server's endpoint, called directly for comparison")
	mcpServer := flag.String("mcp-server", "", "mcp: the upstream server's name in the Hall (its tools are <name>__<tool>)")
	agents := flag.Int("agents", 1, "route: concurrent agents (closed loop)")
	rate := flag.Float64("rate", 0, "route: fixed offered rate in decisions/s (open loop; 0 = closed loop)")
	enroll := flag.Int("enroll", 0, "route: enroll this many workers first (wrk.doc.summarizer and n-1 others)")
	pid := flag.Int("pid", 0, "route: the server's pid, to report its CPU time per decision")
	label := flag.String("label", "", "route: a label for the printed line")
	flag.Parse()
	token := os.Getenv("HALLMONITOR_TOKEN")
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fail(err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" || *batch < 1 || *batch > 1000 || *clients < 1 || *n < 1 {
		fail(fmt.Errorf("need a token (-token-file or HALLMONITOR_TOKEN), 1 <= -batch <= 1000, -clients >= 1, -n >= 1"))
	}
	if *mode == "mcp" {
		if err := mcpOverhead(*mcpHall, token, *mcpDirect, *mcpServer, *n); err != nil {
			fail(err)
		}
		return
	}
	if *mode == "route" {
		c := routeClient()
		if *enroll > 0 {
			if err := enrollWorkers(c, *base, token, *enroll); err != nil {
				fail(err)
			}
		}
		if *agents < 1 {
			fail(fmt.Errorf("-agents must be >= 1"))
		}
		routeLoad(c, *base, token, *n, *agents, *rate, *pid, *label)
		return
	}
	ingestLoad(*base, token, *n, *batch, *clients)
}

// ingestLoad sends n decisions to /api/decisions/ingest in batches from
// concurrent clients, and prints the rate and the ingest -> SSE latency.
func ingestLoad(base, token string, n, batch, clients int) {
	run := time.Now().UnixNano()
	sent := sync.Map{} // decision id -> send time
	var got atomic.Int64
	lat := &latencies{}
	go subscribe(base, token, &sent, lat, &got)
	time.Sleep(200 * time.Millisecond)

	jobs := make(chan int)
	var wg sync.WaitGroup
	var errs atomic.Int64
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := range jobs {
				var ds []map[string]any
				for i := first; i < first+batch && i < n; i++ {
					ds = append(ds, map[string]any{"decision_id": fmt.Sprintf("load-%d-%d", run, i), "capability_id": "cap.load.test",
						"tenant_id": fmt.Sprintf("t%d", i%8), "env": "dev", "denied": i%5 == 0})
				}
				var body []byte
				if batch == 1 {
					body, _ = json.Marshal(ds[0])
				} else {
					body, _ = json.Marshal(map[string]any{"decisions": ds})
				}
				now := time.Now()
				for _, d := range ds {
					sent.Store(d["decision_id"], now)
				}
				if err := post(base+"/api/decisions/ingest", token, body); err != nil {
					errs.Add(1)
					fmt.Fprintln(os.Stderr, err)
				}
			}
		}()
	}
	for i := 0; i < n; i += batch {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start)
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	lat.mu.Lock()
	ls := append([]time.Duration(nil), lat.d...)
	lat.mu.Unlock()
	sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
	fmt.Printf("ingested %d decisions in %v with %d clients, batch %d: %.0f decisions/s, %d failed requests\n",
		n, el.Round(time.Millisecond), clients, batch, float64(n)/el.Seconds(), errs.Load())
	if len(ls) > 0 {
		fmt.Printf("ingest -> SSE event latency over %d events: p50 %v  p99 %v  max %v\n", len(ls),
			ls[len(ls)/2].Round(time.Microsecond), ls[len(ls)*99/100].Round(time.Microsecond), ls[len(ls)-1].Round(time.Microsecond))
	}
}

func post(url, token string, body []byte) error {
	r, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("ingest: %d %s", resp.StatusCode, b)
	}
	return nil
}

// subscribe follows the SSE stream from the current head and records the
// latency of every decision this run sent.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func subscribe(base, token string, sent *sync.Map, lat *latencies, got *atomic.Int64) {
	r, _ := http.NewRequest("GET", base+"/api/events?types=decision.recorded&timeout=0&limit=1", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		fail(err)
	}
	var head struct {
		LastID int64 `json:"last_id"`
	}
	json.NewDecoder(resp.Body).Decode(&head)
	resp.Body.Close()
	r, _ = http.NewRequest("GET", fmt.Sprintf("%s/api/events?since=%d&types=decision.recorded", base, head.LastID), nil)
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Accept", "text/event-stream")
	resp, err = http.DefaultClient.Do(r)
	if err != nil {
		fail(err)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		var ev struct {
			Data struct {
				DecisionID string `json:"decision_id"`
			} `json:"data"`
		}
		if json.Unmarshal([]byte(line[6:]), &ev) != nil {
			continue
		}
		if t, ok := sent.Load(ev.Data.DecisionID); ok {
			lat.mu.Lock()
			lat.d = append(lat.d, time.Since(t.(time.Time)))
			lat.mu.Unlock()
			got.Add(1)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hallload:", err)
	os.Exit(1)
}
