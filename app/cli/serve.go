package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"syscall"

	"hallmonitor/app/hall"
	"hallmonitor/hallapi/config"
)

// runServe runs the Hall API and web UI headless until SIGINT/SIGTERM.
// The one line with the token goes to stdout; logs go to stderr and
// <data dir>/hallmonitor.log.
func runServe(args []string, stdout, stderr io.Writer, ui fs.FS) int {
	fset := newFlagSet("serve", stderr)
	dataDir := fset.String("data-dir", "", "directory of hall.db and the signing key (env "+config.EnvDataDir+")")
	configDir := fset.String("config-dir", "", "directory of config.json and api-token (env "+config.EnvConfigDir+")")
	port := fset.Int("port", 0, "TCP port on 127.0.0.1 (env "+config.EnvPort+"; default 8765; 0 keeps the configured one)")
	listen := fset.String("listen", "", "listen address host:port (default 127.0.0.1:<port>; a non-loopback address exposes the API)")
	rules := fset.String("rules", "", "routing rules file (JSON list or {\"rules\":[...]}); default from config rules_path")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "serve: unexpected argument %q\n", fset.Arg(0))
		return 2
	}
	if *port < 0 || *port > 65535 {
		fmt.Fprintln(stderr, "serve: --port must be from 0 to 65535")
		return 2
	}
	opts := hall.Options{ConfigDir: *configDir, DataDir: *dataDir, Port: *port, Listen: *listen, RulesPath: *rules,
		Version: VersionString(), UI: ui, LogOutput: stderr}
	h, err := hall.Open(opts)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	defer h.Close()
	logger := h.Logger
	ln, err := h.Listen()
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("Hall API listening", "listen", ln.Addr().String(), "db", h.Store.Path(), "config_dir", h.ConfigDir)
	if _, err := h.Start(ctx, ln.Addr()); err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Hall Monitor serving on http://127.0.0.1:%s/#token=%s\n", p, string(h.Server.AdminToken()))
	if err := h.Server.Serve(ctx, ln); err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	logger.Info("Hall API stopped")
	return 0
}
