package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/app/hall"
	"hallmonitor/app/mcpserver"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/workers"
)

// runMCP serves the enrolled capabilities as MCP tools over stdio (the
// default) or streamable HTTP (--http 127.0.0.1:PORT). It opens the same
// database as the desktop app, so its decisions appear in the app's feed.
// Logs go to stderr (stdout carries the protocol in stdio mode).
// EnvAgentToken names the agent that `hallmonitor mcp` over stdio records
// its calls as.
const EnvAgentToken = "HALLMONITOR_AGENT_TOKEN"

func runMCP(args []string, stdout, stderr io.Writer) int {
	return serveMCP(args, os.Stdin, stdout, stderr)
}

// serveMCP is runMCP with the stdio transport's input as a parameter.
func serveMCP(args []string, stdin io.ReadCloser, stdout, stderr io.Writer) int {
	fset := newFlagSet("mcp", stderr)
	httpAddr := fset.String("http", "", "serve streamable HTTP on this loopback address (127.0.0.1:PORT) instead of stdio")
	rules := fset.String("rules", "", "routing rules file; default from config rules_path")
	timeout := fset.Duration("timeout", 30*time.Second, "time limit of one worker run")
	hmacEnv := fset.String("hmac-env", defaultHMACEnv, "environment variable with the HMAC-SHA256 secret for HMAC manifests")
	db := addHallDBFlags(fset)
	if !parseFlags(fset, args, stderr) {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := hall.Open(hall.Options{ConfigDir: *db.configDir, DataDir: *db.dataDir, RulesPath: *rules,
		Version: VersionString(), Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "mcp: %v\n", err)
		return 1
	}
	defer h.Close()
	st, cfg := h.Store, h.Config
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, _, err := h.StartWorkers(ctx, hmacSecret(*hmacEnv), workers.ExecOptions{Timeout: *timeout}); err != nil {
		fmt.Fprintf(stderr, "mcp: %v\n", err)
		return 1
	}
	go h.Decide.Maintain(ctx) // approvals expire, a changed rules file is reloaded
	// Over stdio the agent host that started this process is the caller:
	// named by its agent token when it passes one, else agent "mcp".
	var stdio principal.Principal
	if tok := os.Getenv(EnvAgentToken); tok != "" {
		p, ok := h.Server.Agents().Authenticate(ctx, tok)
		if !ok {
			fmt.Fprintf(stderr, "mcp: $%s is not a valid agent token (revoked or rotated?): create one in Settings › Agents\n", EnvAgentToken)
			return 1
		}
		stdio = p
	}
	srv, err := mcpserver.New(mcpserver.Deps{Decide: h.Decide, Agents: h.Server.Agents(), Stdio: stdio, Store: st, Logger: logger, Version: VersionString()})
	if err != nil {
		fmt.Fprintf(stderr, "mcp: %v\n", err)
		return 1
	}
	if *httpAddr != "" {
		err = srv.ServeHTTP(ctx, *httpAddr, func(a net.Addr) {
			logger.Info("MCP streamable HTTP listening", "url", "http://"+a.String()+"/", "db", st.Path(), "rules", cfg.RulesPath)
		})
	} else {
		logger.Info("MCP on stdio", "db", st.Path(), "rules", cfg.RulesPath)
		err = srv.Run(ctx, &mcp.IOTransport{Reader: stdin, Writer: nopWriteCloser{stdout}})
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "mcp: %v\n", err)
		return 1
	}
	return 0
}

// nopWriteCloser lets the MCP transport close stdout without closing it.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
