// Package telemetry mounts the Hall's export endpoints on the Hall API: the
// Prometheus metrics (GET /metrics, package metrics), the OpenTelemetry
// export (package otelexport: its state under "export" in GET /api/status,
// its otlp_* settings at GET/PUT /api/telemetry/otlp, applied at once).
package telemetry

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/telemetry/metrics"
	"hallmonitor/hallapi/telemetry/otelexport"
)

// Telemetry is the Hall's metrics and OpenTelemetry export.
type Telemetry struct {
	Metrics   *metrics.Metrics
	Export    *otelexport.Exporter
	srv       *httpapi.Server
	configDir string
	mu        sync.Mutex // serialises PUT /api/telemetry/otlp
}

// Options tune the export (tests use a small queue); zero is the default.
type Options struct {
	Export otelexport.Options
}

// Mount builds the metrics and the exporter (stopped) for srv and mounts
// their endpoints; call it before srv serves. pub is the Hall's receipt
// public key (its key id names this Hall in the exported resource).
func Mount(srv *httpapi.Server, configDir string, pub ed25519.PublicKey, version string, opts Options) (*Telemetry, error) {
	eo := opts.Export
	eo.Bus, eo.Store, eo.Logger = srv.Bus(), srv.Store(), srv.Logger()
	if eo.ServiceVersion == "" {
		eo.ServiceVersion = version
	}
	if eo.InstanceID == "" && pub != nil {
		eo.InstanceID = decide.KeyID(pub)
	}
	exp, err := otelexport.New(eo)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{Export: exp, srv: srv, configDir: configDir,
		Metrics: metrics.New(srv.Bus(), srv.Store(), exp, srv.Logger())}
	srv.Wrap(t.Metrics.Wrap)
	srv.Handle("GET /metrics", t.Metrics.Handler(), httpapi.Person)
	srv.Handle("GET /api/telemetry/otlp", http.HandlerFunc(t.handleGet), httpapi.Person)
	srv.Handle("PUT /api/telemetry/otlp", http.HandlerFunc(t.handlePut), httpapi.Person)
	srv.SetStatusSection("export", func() any { return exp.Status() })
	return t, nil
}

// Start counts metrics from the event bus and starts the export the
// configuration asks for; both stop when ctx ends.
func (t *Telemetry) Start(ctx context.Context, cfg config.Config) error {
	go t.Metrics.Run(ctx)
	if err := t.Export.Apply(otelexport.FromConfig(cfg)); err != nil {
		return err
	}
	go func() { <-ctx.Done(); t.Export.Close() }()
	return nil
}

// otlpBody is the otlp_* keys of config.json.
type otlpBody struct {
	Endpoint      *string `json:"otlp_endpoint"`
	Protocol      *string `json:"otlp_protocol"`
	IncludeInputs *bool   `json:"otlp_include_inputs"`
}

func (t *Telemetry) handleGet(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"export": t.Export.Status()})
}

// handlePut saves the otlp_* keys to config.json and applies them at once.
func (t *Telemetry) handlePut(w http.ResponseWriter, r *http.Request) {
	var b otlpBody
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, "invalid_json", "the body must be {\"otlp_endpoint\":..., \"otlp_protocol\":..., \"otlp_include_inputs\":...}: "+err.Error(), "")
		return
	}
	for field, missing := range map[string]bool{"otlp_endpoint": b.Endpoint == nil, "otlp_protocol": b.Protocol == nil, "otlp_include_inputs": b.IncludeInputs == nil} {
		if missing {
			httpapi.WriteError(w, http.StatusBadRequest, "missing_field", "PUT /api/telemetry/otlp sets all three keys: include "+field, field)
			return
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cfg, err := config.Load(t.configDir)
	if err != nil {
		httpapi.WriteError(w, http.StatusInternalServerError, "internal", err.Error(), "")
		return
	}
	cfg.OTLPEndpoint, cfg.OTLPProtocol, cfg.OTLPIncludeInputs = *b.Endpoint, *b.Protocol, *b.IncludeInputs
	if err := cfg.ValidateOTLP(); err != nil {
		var fe *config.FieldError
		if errors.As(err, &fe) {
			httpapi.WriteError(w, http.StatusBadRequest, "invalid_field", fe.Error(), fe.Field)
			return
		}
	}
	// config.Save validates every key; a Hall not set up yet keeps its defaults.
	if err := config.Save(t.configDir, cfg); err != nil {
		httpapi.WriteError(w, http.StatusConflict, "invalid_config", "config.json cannot be saved ("+err.Error()+"): complete the setup first", "")
		return
	}
	if err := t.Export.Apply(otelexport.FromConfig(cfg)); err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, "invalid_field", err.Error(), "otlp_endpoint")
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"export": t.Export.Status()})
}
