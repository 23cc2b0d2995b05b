package otelexport

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"hallmonitor/hallapi/events"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// exportedTypes are the events that become spans or log records.
var exportedTypes = []string{events.DecisionRecorded, events.ApprovalCreated, events.ApprovalResolved,
	events.DispatchFinished, events.AlertRaised, events.AlertAcknowledged}

func exportedType(t string) bool {
	for _, x := range exportedTypes {
		if x == t {
			return true
		}
	}
	return false
}

// pipeline is one running export: bus subscriber -> bounded queue -> worker
// (spans and logs into batches) -> OTLP exporters.
type pipeline struct {
	e      *Exporter
	set    Settings
	queue  chan events.Event
	cancel context.CancelFunc // ends the subscriber
	// exportCtx is what in-flight exports run under: stop cancels it first,
	// so a hanging collector holds a stop for at most the final flush.
	exportCtx    context.Context
	cancelExport context.CancelFunc
	done         chan struct{}
	spanExp      sdktrace.SpanExporter
	logExp       sdklog.Exporter
	spans        *spanBuffer
	logs         *logBuffer
	tp           *sdktrace.TracerProvider
	lp           *sdklog.LoggerProvider
	tracer       trace.Tracer
	stopped      chan time.Duration // stop asks the worker to flush within the duration
}

func (e *Exporter) start(s Settings) (*pipeline, error) {
	ctx, cancel := context.WithCancel(context.Background())
	te, le, err := e.exporters(ctx, s)
	if err != nil {
		cancel()
		return nil, err
	}
	p := &pipeline{e: e, set: s, queue: make(chan events.Event, e.opts.QueueSize), cancel: cancel, done: make(chan struct{}),
		spanExp: te, logExp: le, spans: &spanBuffer{}, logs: &logBuffer{}, stopped: make(chan time.Duration)}
	p.exportCtx, p.cancelExport = context.WithCancel(context.Background())
	res := e.resource()
	p.tp = sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithIDGenerator(fixedIDs{}),
		sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(p.spans))
	p.lp = sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(p.logs))
	p.tracer = p.tp.Tracer("hallmonitor/hallapi/telemetry/otelexport")
	sub := e.opts.Bus.Subscribe(1024)
	fwdDone := make(chan struct{})
	go func() {
		defer close(fwdDone)
		p.forward(ctx, sub)
	}()
	go func() {
		defer close(p.done)
		p.work(ctx)
		<-fwdDone
	}()
	return p, nil
}

// stop ends the subscriber, flushes what was queued (within d) and shuts the exporters down.
func (p *pipeline) stop(d time.Duration) {
	p.cancelExport()
	select {
	case p.stopped <- d:
	case <-p.done:
	}
	<-p.done
}

// forward moves exported event types from the bus into the queue without
// ever waiting: when the queue is full the event is dropped and counted.
// A subscriber the bus dropped (it fell behind) reads the events it missed
// from the store and subscribes again.
func (p *pipeline) forward(ctx context.Context, sub *events.Subscription) {
	defer func() { sub.Close() }()
	var last int64
	put := func(ev events.Event) {
		last = ev.ID
		if !exportedType(ev.Type) {
			return
		}
		select {
		case p.queue <- ev:
		default:
			p.e.dropped.Add(1)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.C:
			put(ev)
		case <-sub.Lagged:
			for len(sub.C) > 0 {
				put(<-sub.C)
			}
			sub = p.e.opts.Bus.Subscribe(1024)
			for last > 0 {
				evs, err := p.e.opts.Store.EventsSince(ctx, last, 1000, exportedTypes)
				if err != nil || len(evs) == 0 {
					break
				}
				for _, ev := range evs {
					put(ev)
				}
			}
		}
	}
}

// work turns queued events into spans and logs and exports them in batches.
func (p *pipeline) work(ctx context.Context) {
	tick := time.NewTicker(p.e.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case ev := <-p.queue:
			p.handle(ctx, ev)
			if p.spans.len() >= p.e.opts.BatchSize || p.logs.len() >= p.e.opts.BatchSize {
				p.flush(p.exportCtx)
			}
		case <-tick.C:
			p.flush(p.exportCtx)
		case d := <-p.stopped:
			p.cancel() // ends forward
			fctx, cancel := context.WithTimeout(context.Background(), d)
			for done := false; !done; {
				select {
				case ev := <-p.queue:
					p.handle(fctx, ev)
				default:
					done = true
				}
			}
			p.flush(fctx)
			p.spanExp.Shutdown(fctx)
			p.logExp.Shutdown(fctx)
			cancel()
			return
		}
	}
}

// flush exports the buffered spans and logs, each in batches.
func (p *pipeline) flush(ctx context.Context) {
	for _, batch := range chunks(p.spans.take(), p.e.opts.BatchSize) {
		if err := p.spanExp.ExportSpans(ctx, batch); err != nil {
			p.e.failed(len(batch), err)
		} else {
			p.e.exportedSpans.Add(int64(len(batch)))
			p.e.exported()
		}
	}
	for _, batch := range chunks(p.logs.take(), p.e.opts.BatchSize) {
		if err := p.logExp.Export(ctx, batch); err != nil {
			p.e.failed(len(batch), err)
		} else {
			p.e.exportedLogs.Add(int64(len(batch)))
			p.e.exported()
		}
	}
}

func chunks[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > 0 {
		k := min(n, len(xs))
		out = append(out, xs[:k])
		xs = xs[k:]
	}
	return out
}

// spanBuffer is the span processor: it keeps ended spans for the worker's next flush.
type spanBuffer struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (b *spanBuffer) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (b *spanBuffer) OnEnd(s sdktrace.ReadOnlySpan) {
	b.mu.Lock()
	b.spans = append(b.spans, s)
	b.mu.Unlock()
}
func (b *spanBuffer) Shutdown(context.Context) error   { return nil }
func (b *spanBuffer) ForceFlush(context.Context) error { return nil }
func (b *spanBuffer) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.spans)
}
func (b *spanBuffer) take() []sdktrace.ReadOnlySpan {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.spans
	b.spans = nil
	return s
}

// logBuffer is the log processor: it keeps emitted records for the worker's next flush.
type logBuffer struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (b *logBuffer) OnEmit(_ context.Context, r *sdklog.Record) error {
	b.mu.Lock()
	b.recs = append(b.recs, r.Clone())
	b.mu.Unlock()
	return nil
}
func (b *logBuffer) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (b *logBuffer) Shutdown(context.Context) error                         { return nil }
func (b *logBuffer) ForceFlush(context.Context) error                       { return nil }
func (b *logBuffer) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.recs)
}
func (b *logBuffer) take() []sdklog.Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.recs
	b.recs = nil
	return r
}

// Trace and span ids are derived from the Hall's own ids, so the spans of
// one decision land in one trace whatever order and time they are exported
// in: the trace id from the decision id, each span id from its record's id.

// TraceID is the trace of a decision.
func TraceID(decisionID string) trace.TraceID {
	var t trace.TraceID
	sum := sha256.Sum256([]byte("hallmonitor/trace/" + decisionID))
	copy(t[:], sum[:])
	return t
}

// SpanID is the span of one record ("route" + decision id, "approval" +
// approval id, "dispatch" + dispatch id).
func SpanID(kind, id string) trace.SpanID {
	var s trace.SpanID
	sum := sha256.Sum256([]byte("hallmonitor/span/" + kind + "/" + id))
	copy(s[:], sum[:])
	return s
}

type idsKey struct{}

type ids struct {
	trace trace.TraceID
	span  trace.SpanID
}

// fixedIDs is the tracer's IDGenerator: it hands out the ids the context carries.
type fixedIDs struct{}

func (fixedIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	v, _ := ctx.Value(idsKey{}).(ids)
	return v.trace, v.span
}

func (fixedIDs) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	v, _ := ctx.Value(idsKey{}).(ids)
	return v.span
}

// withIDs returns a context whose next span gets spanID in the decision's
// trace; a child span (parent set) is a child of the decision's route span.
func withIDs(ctx context.Context, decisionID string, spanID trace.SpanID, child bool) context.Context {
	tid := TraceID(decisionID)
	ctx = context.WithValue(ctx, idsKey{}, ids{tid, spanID})
	if child {
		ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: tid, SpanID: SpanID("route", decisionID), TraceFlags: trace.FlagsSampled, Remote: true}))
	}
	return ctx
}
