// Package hall wires one Hall: configuration, the SQLite store and the Hall
// API server. `hallmonitor serve` and the desktop window both build their
// Hall with Open, so they behave the same.
package hall

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/evidence"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/telemetry"
)

// Options override the configuration (flags win over env, env over config.json).
type Options struct {
	ConfigDir string // "" : HALLMONITOR_CONFIG_DIR or the XDG default
	DataDir   string
	Port      int    // 0 keeps the configured port; use Listen "127.0.0.1:0" for a random one
	Listen    string // host:port to listen on; "" : 127.0.0.1:<port>
	RulesPath string
	Version   string
	UI        fs.FS
	// Logger, when set, is used as it is. Otherwise Open logs to LogOutput (when set) and to
	// <data dir>/hallmonitor.log, whose path the Hall API reports so the UI can show it.
	Logger    *slog.Logger
	LogOutput io.Writer
	LogPath   string
	// Telemetry tunes the OpenTelemetry export's queue and batches (tests).
	Telemetry telemetry.Options
}

// Hall is an opened Hall: close it when done.
type Hall struct {
	ConfigDir string
	Config    config.Config
	Store     *store.Store
	Decide    *decide.Service
	Server    *httpapi.Server
	Logger    *slog.Logger
	// Telemetry is GET /metrics and the OpenTelemetry export (started by Start).
	Telemetry *telemetry.Telemetry
	listen    string
	logFile   *rotatingFile
}

// Resolve computes the configuration directory and the effective configuration
// (config.json, then env, then opts) without opening anything.
func Resolve(opts Options) (string, config.Config, error) {
	cdir := opts.ConfigDir
	if cdir == "" {
		var err error
		if cdir, err = config.ConfigDir(); err != nil {
			return "", config.Config{}, err
		}
	}
	cdir, err := filepath.Abs(cdir)
	if err != nil {
		return "", config.Config{}, err
	}
	cfg, err := config.Load(cdir)
	if err != nil {
		return "", config.Config{}, err
	}
	if opts.DataDir != "" {
		if cfg.DataDir, err = filepath.Abs(opts.DataDir); err != nil {
			return "", config.Config{}, err
		}
	}
	if opts.Port != 0 {
		cfg.Port = opts.Port
	}
	if opts.RulesPath != "" {
		if cfg.RulesPath, err = filepath.Abs(opts.RulesPath); err != nil {
			return "", config.Config{}, err
		}
	}
	return cdir, cfg, nil
}

// Open loads the configuration, opens (and migrates) the database and builds the server.
func Open(opts Options) (*Hall, error) {
	cdir, cfg, err := Resolve(opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cdir, 0o700); err != nil {
		return nil, fmt.Errorf("create config directory %s: %w", cdir, err)
	}
	listen := opts.Listen
	if listen == "" {
		listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port))
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return nil, fmt.Errorf("listen address %q must be host:port, e.g. 127.0.0.1:8765", listen)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", cfg.DataDir, err)
	}
	log, logFile := opts.Logger, (*rotatingFile)(nil)
	if log == nil && opts.LogOutput != nil {
		out := opts.LogOutput
		path := filepath.Join(cfg.DataDir, "hallmonitor.log")
		f, err := openRotating(path, logMaxBytes)
		if err != nil {
			fmt.Fprintf(out, "hallmonitor: no log file %s: %v\n", path, err)
		} else {
			logFile, opts.LogPath, out = f, path, io.MultiWriter(out, f)
		}
		log = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(cfg.DatabasePath(), store.Options{})
	if err != nil {
		closeFile(logFile)
		return nil, err
	}
	// The Hall's one signing key: receipts (decide) and evidence bundles.
	key, err := config.LoadOrCreateSigningKey(cfg.DataDir)
	if err != nil {
		st.Close()
		closeFile(logFile)
		return nil, err
	}
	dec, err := decide.New(decide.Options{Store: st, Logger: log, SigningKey: key, HallConfig: cfg.HallConfig, RulesPath: cfg.RulesPath})
	if err != nil {
		st.Close()
		closeFile(logFile)
		return nil, err
	}
	srv, err := httpapi.New(httpapi.Options{Store: st, Logger: log, Version: opts.Version, ConfigDir: cdir, Config: cfg,
		Decide: dec, UI: opts.UI, LogPath: opts.LogPath})
	if err != nil {
		st.Close()
		closeFile(logFile)
		return nil, err
	}
	evidence.Mount(srv, key)
	_, pub := dec.SigningPublicKey()
	tel, err := telemetry.Mount(srv, cdir, pub, opts.Version, opts.Telemetry)
	if err != nil {
		st.Close()
		closeFile(logFile)
		return nil, err
	}
	return &Hall{ConfigDir: cdir, Config: cfg, Store: st, Decide: dec, Server: srv, Logger: log, Telemetry: tel, listen: listen, logFile: logFile}, nil
}

// Listen opens the TCP listener (127.0.0.1:<port> unless Options.Listen said otherwise).
func (h *Hall) Listen() (net.Listener, error) {
	host, _, _ := net.SplitHostPort(h.listen)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		h.Logger.Warn("listening on a non-loopback address: the API token is the only protection", "listen", h.listen)
	}
	ln, err := net.Listen("tcp", h.listen)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return nil, fmt.Errorf("cannot listen on %s (%v): is another Hall running? use --port to pick another port", h.listen, op.Err)
		}
		return nil, err
	}
	return ln, nil
}

// Close closes the database and the log file.
func (h *Hall) Close() error {
	err := h.Store.Close()
	closeFile(h.logFile)
	return err
}

func closeFile(f *rotatingFile) {
	if f != nil {
		f.Close()
	}
}
