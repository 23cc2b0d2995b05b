// Package otelcoltest runs a real OpenTelemetry Collector OTLP receiver for
// tests: internal/tools/otelcol (the collector's official otlpreceiver, in
// its own Go module) is built once with `go build` and cached by the hash
// of its sources, started on two free loopback ports, and what it received
// is read back as spans and log records.
package otelcoltest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Collector is a running OTLP receiver.
type Collector struct {
	HTTPURL string // http://127.0.0.1:PORT (otlp_protocol "http")
	GRPCURL string // http://127.0.0.1:PORT (otlp_protocol "grpc")
	out     string
}

// toolDir is internal/tools/otelcol, found from this file's path.
func toolDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "tools", "otelcol")
}

// Build builds the receiver (or reuses the cached build of the same
// sources) and returns the binary's path.
func Build(t testing.TB) string {
	t.Helper()
	dir := toolDir()
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum", "main.go"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("otelcoltest: %v", err)
		}
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "hallmonitor-test", "otelcol-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	cmd := exec.Command("go", "build", "-o", tmp, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("otelcoltest: build %s (go build in its module): %v\n%s", dir, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start builds and runs the receiver until the test ends.
func Start(t testing.TB) *Collector {
	t.Helper()
	bin := Build(t)
	httpAddr, grpcAddr := freePort(t), freePort(t)
	c := &Collector{HTTPURL: "http://" + httpAddr, GRPCURL: "http://" + grpcAddr, out: filepath.Join(t.TempDir(), "received.jsonl")}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-http", httpAddr, "-grpc", grpcAddr, "-out", c.out)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("otelcoltest: the receiver exited before it was ready: %s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("otelcoltest: the receiver did not start in 30 s: %s", stderr.String())
	}
	return c
}

// Span is one received span, flattened.
type Span struct {
	TraceID, SpanID, ParentSpanID, Name string
	Attrs                               map[string]string
	Resource                            map[string]string
}

// Log is one received log record, flattened.
type Log struct {
	TraceID, SpanID, Body, Severity, EventName string
	Attrs                                      map[string]string
	Resource                                   map[string]string
}

type kv struct {
	Key   string         `json:"key"`
	Value map[string]any `json:"value"`
}

func flat(kvs []kv) map[string]string {
	m := map[string]string{}
	for _, a := range kvs {
		for _, v := range a.Value {
			m[a.Key] = fmt.Sprint(v)
		}
	}
	return m
}

type batch struct {
	ResourceSpans []struct {
		Resource   struct{ Attributes []kv } `json:"resource"`
		ScopeSpans []struct {
			Spans []struct {
				TraceID      string `json:"traceId"`
				SpanID       string `json:"spanId"`
				ParentSpanID string `json:"parentSpanId"`
				Name         string `json:"name"`
				Attributes   []kv   `json:"attributes"`
			} `json:"spans"`
		} `json:"scopeSpans"`
	} `json:"resourceSpans"`
	ResourceLogs []struct {
		Resource  struct{ Attributes []kv } `json:"resource"`
		ScopeLogs []struct {
			LogRecords []struct {
				TraceID      string         `json:"traceId"`
				SpanID       string         `json:"spanId"`
				SeverityText string         `json:"severityText"`
				EventName    string         `json:"eventName"`
				Body         map[string]any `json:"body"`
				Attributes   []kv           `json:"attributes"`
			} `json:"logRecords"`
		} `json:"scopeLogs"`
	} `json:"resourceLogs"`
}

// Received reads every span and log record received so far.
func (c *Collector) Received(t testing.TB) ([]Span, []Log) {
	t.Helper()
	b, err := os.ReadFile(c.out)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var spans []Span
	var logs []Log
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		var bt batch
		if err := json.Unmarshal([]byte(line), &bt); err != nil {
			t.Fatalf("otelcoltest: a received line is not OTLP/JSON: %v", err)
		}
		for _, rs := range bt.ResourceSpans {
			res := flat(rs.Resource.Attributes)
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					spans = append(spans, Span{TraceID: s.TraceID, SpanID: s.SpanID, ParentSpanID: s.ParentSpanID, Name: s.Name,
						Attrs: flat(s.Attributes), Resource: res})
				}
			}
		}
		for _, rl := range bt.ResourceLogs {
			res := flat(rl.Resource.Attributes)
			for _, sl := range rl.ScopeLogs {
				for _, r := range sl.LogRecords {
					body := ""
					for _, v := range r.Body {
						body = fmt.Sprint(v)
					}
					logs = append(logs, Log{TraceID: r.TraceID, SpanID: r.SpanID, Body: body, Severity: r.SeverityText,
						EventName: r.EventName, Attrs: flat(r.Attributes), Resource: res})
				}
			}
		}
	}
	return spans, logs
}

// Wait polls Received until done says it has what the test waits for (or 30 s pass).
func (c *Collector) Wait(t testing.TB, what string, done func([]Span, []Log) bool) ([]Span, []Log) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		spans, logs := c.Received(t)
		if done(spans, logs) {
			return spans, logs
		}
		if time.Now().After(deadline) {
			t.Fatalf("otelcoltest: the collector did not receive %s in 30 s (received %d spans, %d logs)", what, len(spans), len(logs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
