// Package halltest starts a real Hall API for Go tests: a SQLite file and a
// config folder in a temp dir, the decision service, and the HTTP server on a
// loopback port, stopped when the test ends.
package halltest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
)

// Options shape the Hall. The zero value is a Hall with no rules file and a
// discarded log.
type Options struct {
	// Rules is the rules file's content ("": no rules file).
	Rules string
	// Logger is the Hall's log (nil: discarded).
	Logger *slog.Logger
	// HTTP changes the server's options (config included) before the
	// decision service and the server are built; a Decide it sets is used
	// as it is.
	HTTP func(*httpapi.Options)
	// Mount runs once the server is built, before it serves: it may add
	// routes and start work under ctx, which ends with the test. The stop
	// it returns (may be nil) runs after the server has stopped, before the
	// store closes.
	Mount func(ctx context.Context, h *Hall) (stop func(), err error)
}

// Hall is a running Hall API.
type Hall struct {
	Server    *httpapi.Server
	Decide    *decide.Service
	Store     *store.Store
	Config    config.Config
	ConfigDir string
	DataDir   string
	Addr      string // host:port of the loopback listener
	Base      string // http://Addr
}

// Start starts a Hall for t. Its workers folder is the parent of t's temp
// dirs, so packages the test makes in t.TempDir() can be enrolled.
func Start(t testing.TB, o Options) *Hall {
	t.Helper()
	dir := t.TempDir()
	cfgDir, dataDir := filepath.Join(dir, "config"), filepath.Join(dir, "data")
	rulesPath := filepath.Join(cfgDir, "rules.json")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if o.Rules != "" {
		if err := os.WriteFile(rulesPath, []byte(o.Rules), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(filepath.Join(dataDir, "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Defaults(cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.RulesPath, cfg.Port = dataDir, rulesPath, 0
	cfg.WorkersDir = filepath.Dir(dir)
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ho := httpapi.Options{Store: st, ConfigDir: cfgDir, Config: cfg, Version: "test", Logger: o.Logger}
	if o.HTTP != nil {
		o.HTTP(&ho)
	}
	if ho.Decide == nil {
		if ho.Decide, err = decide.New(decide.Options{Store: st, Logger: ho.Logger, KeyDir: dataDir, HallConfig: ho.Config.HallConfig,
			RulesPath: ho.Config.RulesPath}); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := httpapi.New(ho)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &Hall{Server: srv, Decide: ho.Decide, Store: st, Config: ho.Config, ConfigDir: ho.ConfigDir, DataDir: dataDir,
		Addr: ln.Addr().String(), Base: "http://" + ln.Addr().String()}
	ctx, cancel := context.WithCancel(context.Background())
	var stop func()
	if o.Mount != nil {
		if stop, err = o.Mount(ctx, h); err != nil {
			cancel()
			ln.Close()
			st.Close()
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if stop != nil {
			stop()
		}
		st.Close()
	})
	return h
}
