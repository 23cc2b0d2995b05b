// Package otelexport exports what the Hall decides to an OpenTelemetry
// collector over OTLP (HTTP/protobuf or gRPC) with the official
// go.opentelemetry.io/otel SDK. It is a subscriber of the Hall's numbered
// event bus, so the decision path never waits for it: each decision
// becomes a trace (a "wcp.route" span; the approval and the dispatch of the
// same decision are spans of that trace, found by the decision id), and
// alerts and approval requests become log records.
//
// Events pass through one bounded queue to one exporting goroutine that
// batches spans and logs and sends them with the exporters' retry and
// backoff. When the collector is slow, down or hangs, the queue fills and
// further events are dropped and counted (Status), never waited for.
// Nothing is sent anywhere unless an endpoint is set; request inputs are
// sent only with IncludeInputs.
package otelexport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Settings are the three otlp_* configuration keys.
type Settings struct {
	Endpoint      string // collector URL; "" exports nothing
	Protocol      string // "http" (default) or "grpc"
	IncludeInputs bool
}

// FromConfig reads the otlp_* keys of a configuration.
func FromConfig(c config.Config) Settings {
	return Settings{Endpoint: c.OTLPEndpoint, Protocol: c.OTLPProtocol, IncludeInputs: c.OTLPIncludeInputs}
}

// DecisionSource reads what a span adds to a decision's feed row (receipt
// id, artifact hash, agent, input) and missed events; *store.Store is one.
type DecisionSource interface {
	DecisionSpanFields(ctx context.Context, id string, withInput bool) (store.SpanFields, error)
	EventsSince(ctx context.Context, since int64, limit int, types []string) ([]events.Event, error)
}

// Options configure an Exporter. Zero values take the defaults in brackets.
type Options struct {
	Bus    *events.Bus    // required
	Store  DecisionSource // required
	Logger *slog.Logger
	// ServiceVersion and InstanceID go into the OTLP resource
	// (service.version, service.instance.id: the Hall's receipt key id, so
	// many Halls exporting into one collector stay apart).
	ServiceVersion string
	InstanceID     string
	QueueSize      int           // events waiting to be exported [2048]
	BatchSize      int           // spans or logs per export request [256]
	FlushInterval  time.Duration // a partial batch is sent after this [1s]
	ExportTimeout  time.Duration // one export attempt [5s]
	RetryFor       time.Duration // retries with backoff stop after this [15s]
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 2048
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.ExportTimeout <= 0 {
		o.ExportTimeout = 5 * time.Second
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 15 * time.Second
	}
}

// Status is what GET /api/status reports under "export".
type Status struct {
	Enabled       bool   `json:"enabled"`
	Endpoint      string `json:"endpoint"`
	Protocol      string `json:"protocol"`
	IncludeInputs bool   `json:"include_inputs"`
	// Queued events wait in the queue of QueueCapacity.
	Queued        int `json:"queued"`
	QueueCapacity int `json:"queue_capacity"`
	// ExportedSpans and ExportedLogs the collector accepted.
	ExportedSpans int64 `json:"exported_spans"`
	ExportedLogs  int64 `json:"exported_logs"`
	// Dropped counts events not exported because the queue was full, and
	// spans and logs whose export failed after every retry.
	Dropped      int64  `json:"dropped"`
	LastError    string `json:"last_error"`
	LastErrorAt  string `json:"last_error_at"`
	LastExportAt string `json:"last_export_at"`
}

// Exporter is the Hall's OpenTelemetry export. Apply starts, changes or
// stops it; it runs until Close.
type Exporter struct {
	opts Options

	mu  sync.Mutex // guards cur and set
	cur *pipeline
	set Settings

	exportedSpans, exportedLogs, dropped atomic.Int64
	errMu                                sync.Mutex
	lastErr                              string
	lastErrAt, lastOKAt                  time.Time
}

// New returns a stopped Exporter; call Apply.
func New(opts Options) (*Exporter, error) {
	if opts.Bus == nil || opts.Store == nil {
		return nil, errors.New("otelexport: Options.Bus and Options.Store are required")
	}
	opts.defaults()
	return &Exporter{opts: opts}, nil
}

// Apply starts exporting to s.Endpoint (stopping a previous pipeline after
// flushing what it holds, for at most ExportTimeout), or stops exporting
// when s.Endpoint is "". It returns an error naming the bad key.
func (e *Exporter) Apply(s Settings) error {
	c := config.Config{OTLPEndpoint: s.Endpoint, OTLPProtocol: s.Protocol}
	if err := c.ValidateOTLP(); err != nil {
		return err
	}
	if s.Protocol == "" {
		s.Protocol = "http"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil && e.set == s {
		return nil
	}
	if e.cur != nil {
		e.cur.stop(e.opts.ExportTimeout)
		e.cur = nil
	}
	e.set = s
	if s.Endpoint == "" {
		return nil
	}
	p, err := e.start(s)
	if err != nil {
		return err
	}
	e.cur = p
	e.opts.Logger.Info("exporting decisions to an OpenTelemetry collector", "endpoint", s.Endpoint, "protocol", s.Protocol,
		"include_inputs", s.IncludeInputs)
	return nil
}

// Close flushes (for at most ExportTimeout) and stops exporting.
func (e *Exporter) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil {
		e.cur.stop(e.opts.ExportTimeout)
		e.cur = nil
	}
}

// Status reports the export's state and counters.
func (e *Exporter) Status() Status {
	e.mu.Lock()
	s, p := e.set, e.cur
	e.mu.Unlock()
	st := Status{Enabled: p != nil, Endpoint: s.Endpoint, Protocol: s.Protocol, IncludeInputs: s.IncludeInputs,
		QueueCapacity: e.opts.QueueSize, ExportedSpans: e.exportedSpans.Load(), ExportedLogs: e.exportedLogs.Load(),
		Dropped: e.dropped.Load()}
	if p != nil {
		st.Queued = len(p.queue)
	}
	e.errMu.Lock()
	st.LastError = e.lastErr
	st.LastErrorAt = stamp(e.lastErrAt)
	st.LastExportAt = stamp(e.lastOKAt)
	e.errMu.Unlock()
	return st
}

// QueueDepth is the number of events waiting (0 when not exporting).
func (e *Exporter) QueueDepth() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil {
		return 0
	}
	return len(e.cur.queue)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (e *Exporter) failed(n int, err error) {
	e.dropped.Add(int64(n))
	e.errMu.Lock()
	e.lastErr, e.lastErrAt = err.Error(), time.Now()
	e.errMu.Unlock()
	e.opts.Logger.Warn("OpenTelemetry export failed: items dropped", "items", n, "err", err)
}

func (e *Exporter) exported() {
	e.errMu.Lock()
	e.lastOKAt = time.Now()
	e.errMu.Unlock()
}

// exporters builds the OTLP span and log exporters for s.
func (e *Exporter) exporters(ctx context.Context, s Settings) (sdktrace.SpanExporter, sdklog.Exporter, error) {
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		return nil, nil, err
	}
	insecure := u.Scheme == "http"
	base := strings.TrimSuffix(u.Path, "/")
	timeout := e.opts.ExportTimeout
	retry := struct {
		Enabled                                      bool
		InitialInterval, MaxInterval, MaxElapsedTime time.Duration
	}{true, 250 * time.Millisecond, 2 * time.Second, e.opts.RetryFor}
	if s.Protocol == "grpc" {
		topts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(u.Host), otlptracegrpc.WithTimeout(timeout),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig(retry))}
		lopts := []otlploggrpc.Option{otlploggrpc.WithEndpoint(u.Host), otlploggrpc.WithTimeout(timeout),
			otlploggrpc.WithRetry(otlploggrpc.RetryConfig(retry))}
		if insecure {
			topts = append(topts, otlptracegrpc.WithInsecure())
			lopts = append(lopts, otlploggrpc.WithInsecure())
		}
		te, err := otlptracegrpc.New(ctx, topts...)
		if err != nil {
			return nil, nil, fmt.Errorf("OTLP/gRPC trace exporter: %w", err)
		}
		le, err := otlploggrpc.New(ctx, lopts...)
		if err != nil {
			te.Shutdown(ctx)
			return nil, nil, fmt.Errorf("OTLP/gRPC log exporter: %w", err)
		}
		return te, le, nil
	}
	topts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithURLPath(base + "/v1/traces"),
		otlptracehttp.WithTimeout(timeout), otlptracehttp.WithRetry(otlptracehttp.RetryConfig(retry))}
	lopts := []otlploghttp.Option{otlploghttp.WithEndpoint(u.Host), otlploghttp.WithURLPath(base + "/v1/logs"),
		otlploghttp.WithTimeout(timeout), otlploghttp.WithRetry(otlploghttp.RetryConfig(retry))}
	if insecure {
		topts = append(topts, otlptracehttp.WithInsecure())
		lopts = append(lopts, otlploghttp.WithInsecure())
	}
	te, err := otlptracehttp.New(ctx, topts...)
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP/HTTP trace exporter: %w", err)
	}
	le, err := otlploghttp.New(ctx, lopts...)
	if err != nil {
		te.Shutdown(ctx)
		return nil, nil, fmt.Errorf("OTLP/HTTP log exporter: %w", err)
	}
	return te, le, nil
}

func (e *Exporter) resource() *resource.Resource {
	attrs := []attribute.KeyValue{attribute.String("service.name", "hallmonitor")}
	if e.opts.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", e.opts.ServiceVersion))
	}
	if e.opts.InstanceID != "" {
		attrs = append(attrs, attribute.String("service.instance.id", e.opts.InstanceID))
	}
	return resource.NewSchemaless(attrs...)
}

// DroppedTotal is Status().Dropped (for the Prometheus counter).
func (e *Exporter) DroppedTotal() int64 { return e.dropped.Load() }
