// Package metrics is the Hall's Prometheus endpoint (GET /metrics, with
// prometheus/client_golang): decisions by outcome, deny code and
// capability and dispatch durations (counted from the event bus), the
// route latency histogram (fed by Wrap, around the HTTP handler), and, read
// at each scrape, open alerts, pending approvals, event subscribers and
// the OpenTelemetry export queue.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Counts is what the scrape reads from the store (*store.Store is one).
type Counts interface {
	Counts(ctx context.Context, loc *time.Location) (store.Counts, error)
}

// ExportState reports the OpenTelemetry export's queue and drops (the
// *otelexport.Exporter); nil when there is none.
type ExportState interface {
	QueueDepth() int
	DroppedTotal() int64
}

// Metrics holds the Hall's Prometheus registry.
type Metrics struct {
	reg       *prometheus.Registry
	decisions *prometheus.CounterVec
	dispatch  *prometheus.HistogramVec
	route     *prometheus.HistogramVec
	bus       *events.Bus
	log       *slog.Logger
}

// New registers the Hall's metrics. bus feeds the decision and dispatch
// metrics once Run runs; counts and export are read at each scrape.
func New(bus *events.Bus, counts Counts, export ExportState, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), bus: bus, log: log,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hallmonitor_decisions_total",
			Help: "Decisions recorded by this Hall since it started, by outcome (allowed, denied, pending), deny code and capability."},
			[]string{"outcome", "deny_code", "capability"}),
		dispatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hallmonitor_dispatch_duration_seconds",
			Help:    "Duration of finished dispatches, by outcome (succeeded, failed, timed_out, cancelled).",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"outcome"}),
		route: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hallmonitor_route_duration_seconds",
			Help:    "Latency of POST /wcp/route requests, from the request to the response (decided, recorded, receipt signed), by HTTP status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}, []string{"code"}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(m.decisions, m.dispatch, m.route,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{counts: counts, log: log},
		gauge("hallmonitor_event_subscribers", "Live subscribers of the Hall's event bus (UI streams, exporters).",
			func() float64 { return float64(bus.Subscribers()) }))
	if export != nil {
		m.reg.MustRegister(
			gauge("hallmonitor_export_queue_depth", "Events waiting in the OpenTelemetry export queue.",
				func() float64 { return float64(export.QueueDepth()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hallmonitor_export_dropped_total",
				Help: "Events, spans and logs the OpenTelemetry export dropped (queue full, or the collector failed after every retry)."},
				func() float64 { return float64(export.DroppedTotal()) }))
	}
	return m
}

// Registry is the Prometheus registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)})
}

// Wrap measures POST /wcp/route around next (install it around the Hall
// API's handler chain).
func (m *Metrics) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/wcp/route" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		m.route.WithLabelValues(httpCode(sw.code)).Observe(time.Since(start).Seconds())
	})
}

func httpCode(c int) string {
	const digits = "0123456789"
	if c < 100 || c > 999 {
		return "unknown"
	}
	return string([]byte{digits[c/100], digits[c/10%10], digits[c%10]})
}

// statusWriter records the status code; Unwrap keeps http.ResponseController working.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(c int) {
	s.code = c
	s.ResponseWriter.WriteHeader(c)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Run counts decisions and dispatch durations from the event bus until ctx
// ends. A subscriber the bus dropped (it fell behind) subscribes again; the
// counts then miss what it missed, as a counter reset would.
func (m *Metrics) Run(ctx context.Context) {
	sub := m.bus.Subscribe(4096)
	defer func() { sub.Close() }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Lagged:
			m.log.Warn("metrics fell behind the event bus: some decisions were not counted")
			sub = m.bus.Subscribe(4096)
		case ev := <-sub.C:
			m.observe(ev)
		}
	}
}

func (m *Metrics) observe(ev events.Event) {
	switch ev.Type {
	case events.DecisionRecorded:
		if d, ok := events.Decode[store.DecisionSummary](ev); ok {
			m.decisions.WithLabelValues(d.Outcome, d.DenyCode, d.CapabilityID).Inc()
		}
	case events.DispatchFinished:
		if d, ok := events.Decode[store.Dispatch](ev); ok && d.DurationMS != nil {
			m.dispatch.WithLabelValues(d.Outcome).Observe(float64(*d.DurationMS) / 1000)
		}
	}
}

// storeCollector reads the open alerts and pending approvals at each scrape.
type storeCollector struct {
	counts Counts
	log    *slog.Logger
}

var (
	descAlerts    = prometheus.NewDesc("hallmonitor_open_alerts", "Alerts not acknowledged yet.", nil, nil)
	descApprovals = prometheus.NewDesc("hallmonitor_pending_approvals", "Approvals waiting for a person.", nil, nil)
	descActive    = prometheus.NewDesc("hallmonitor_active_dispatches", "Dispatches running now.", nil, nil)
	descWorkers   = prometheus.NewDesc("hallmonitor_workers_enrolled", "Enrolled workers.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAlerts
	ch <- descApprovals
	ch <- descActive
	ch <- descWorkers
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.counts.Counts(ctx, time.UTC)
	if err != nil {
		c.log.Warn("metrics: read the status counts", "err", err)
		ch <- prometheus.NewInvalidMetric(descAlerts, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descAlerts, prometheus.GaugeValue, float64(n.OpenAlerts))
	ch <- prometheus.MustNewConstMetric(descApprovals, prometheus.GaugeValue, float64(n.PendingApprovals))
	ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(n.ActiveDispatches))
	ch <- prometheus.MustNewConstMetric(descWorkers, prometheus.GaugeValue, float64(n.Workers))
}
