package hall

import (
	"context"
	"fmt"
	"net"
	"os"

	"hallmonitor/hallapi/account"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/registry"
	"hallmonitor/hallapi/workers"
)

// Services are the Hall's long-running parts beside the HTTP API: the registry account (login, standing,
// verification) and the worker packages (fsnotify attestation watcher and the subprocess executor).
type Services struct {
	Account  *account.Service
	Workers  *workers.Service
	Executor *workers.Executor
}

// EnvHMACKey names the shared secret that verifies reference-compatible HMAC-signed worker manifests.
const EnvHMACKey = "WCP_ATTEST_HMAC_KEY"

// Start mounts and starts the services; they run until ctx ends. agents is the address of the agents'
// HTTP listener (nil when there is none): the registry login then sends the browser back to the Hall's
// own /api/auth/callback on it, as the public registry does; without it, or with config
// registry_callback "loopback", each login opens a one-shot loopback listener of its own (RFC 8252).
func (h *Hall) Start(ctx context.Context, agents net.Addr) (*Services, error) {
	callback := ""
	if tcp, ok := agents.(*net.TCPAddr); ok && tcp != nil && h.Config.RegistryCallback != "loopback" {
		callback = fmt.Sprintf("http://127.0.0.1:%d/api/auth/callback", tcp.Port)
	}
	var paths registry.Paths
	if h.Config.RegistryPaths != nil {
		paths = *h.Config.RegistryPaths
	}
	acct, err := account.Open(account.Config{ConfigDir: h.ConfigDir, RegistryURL: h.Config.RegistryURL,
		Paths: paths, ClientID: h.Config.RegistryClientID,
		CallbackURL: callback, Publisher: h.Store, Workers: h.Store, Logger: h.Logger})
	if err != nil {
		return nil, fmt.Errorf("registry account: %w", err)
	}
	h.Server.MountAccount(acct)
	acct.Start(ctx)

	// The export's otlp_* settings are read from config.json now (the
	// Settings screen may have changed them since Open).
	cfg := h.Config
	if cur, err := config.Load(h.ConfigDir); err == nil {
		cfg.OTLPEndpoint, cfg.OTLPProtocol, cfg.OTLPIncludeInputs = cur.OTLPEndpoint, cur.OTLPProtocol, cur.OTLPIncludeInputs
	}
	if err := h.Telemetry.Start(ctx, cfg); err != nil {
		return nil, fmt.Errorf("OpenTelemetry export: %w", err)
	}

	ws, exec, err := h.StartWorkers(ctx, nil, workers.ExecOptions{})
	if err != nil {
		return nil, err
	}
	return &Services{Account: acct, Workers: ws, Executor: exec}, nil
}

// StartWorkers starts the worker packages' watcher (until ctx ends) and
// installs it and the subprocess executor in the Hall API: the watcher
// verifies enrollments and answers the attestation step of every decision,
// the executor runs allowed decisions (POST /wcp/dispatch, MCP tool calls).
// hmacSecret verifies HMAC-signed manifests (nil: $WCP_ATTEST_HMAC_KEY);
// exec's Logger defaults to the Hall's.
func (h *Hall) StartWorkers(ctx context.Context, hmacSecret []byte, exec workers.ExecOptions) (*workers.Service, *workers.Executor, error) {
	secret := hmacSecret
	if secret == nil {
		secret = []byte(os.Getenv(EnvHMACKey))
	}
	ws := workers.NewService(h.Store, workers.Options{Logger: h.Logger, HMACSecret: secret})
	if err := ws.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("worker packages: %w", err)
	}
	go func() { <-ctx.Done(); ws.Stop() }()
	if n, err := workers.RecoverDispatches(ctx, h.Store); err != nil {
		h.Logger.Warn("finish the dispatches of a Hall process that ended", "err", err)
	} else if n > 0 {
		h.Logger.Warn("dispatches of a Hall process that ended mid-run finished as cancelled", "dispatches", n)
	}
	if exec.Logger == nil {
		exec.Logger = h.Logger
	}
	x := workers.NewExecutor(h.Store, ws, exec)
	h.Server.SetPackageVerifier(ws)
	h.Decide.SetAttestationSource(ws)
	h.Decide.SetDispatcher(x)
	return ws, x, nil
}
