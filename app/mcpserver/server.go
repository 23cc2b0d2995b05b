// Package mcpserver is `hallmonitor mcp`: an MCP server (official
// modelcontextprotocol/go-sdk) that exposes every capability of an enrolled
// worker package as a tool. Every tool call is decided by core.Decide under
// the Hall's rules, recorded (decision, receipt, approval) in the Hall's
// SQLite store with source "mcp" so it shows in the desktop app's feed, and,
// when allowed, dispatched to the worker package as a subprocess. A denial is
// a tool error carrying the WCP deny code. Approval tools list and resolve
// pending approvals. The tools of connected MCP servers (Settings →
// Connected MCPs) are proxied as <server>__<tool> under the same governance
// (upstream.go).
package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/core"
	"hallmonitor/hallapi/agents"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/mcpclient"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
)

// Deps are the Hall parts the MCP server uses.
type Deps struct {
	// Decide decides and records every call (decide.Service.Route) and
	// runs allowed ones through its dispatcher. Required.
	Decide *decide.Service
	// Agents authenticates the agent tokens `mcp --http` requires (nil
	// refuses every HTTP request).
	Agents *agents.Service
	// Stdio is the principal calls over stdio are recorded as (the agent
	// host that started `hallmonitor mcp`); zero: agent "mcp".
	Stdio principal.Principal
	// Store lists the enrollments that become tools and the approvals
	// (normally Decide.Store()); required.
	Store   *store.Store
	Logger  *slog.Logger
	Version string
	// Refresh is how often the tool list is synced with the enrollments
	// (default 1 s).
	Refresh time.Duration
}

// Server is the Hall's MCP server.
type Server struct {
	hall    *decide.Service
	agents  *agents.Service
	stdio   principal.Principal
	st      *store.Store
	log     *slog.Logger
	refresh time.Duration
	mcp     *mcp.Server

	mu    sync.Mutex
	tools map[string]string // capability tool name -> schema fingerprint

	version  string        // sent to connected MCP servers as the client version
	upstream upstreamTools // proxied tools of connected MCP servers
	// pool holds one session per connected server for the proxied calls.
	pool *mcpclient.Pool
}

// Fixed tool names (capability tools are named by their capability id).
const (
	ToolRoute            = "wcp_route"
	ToolApprovalsPending = "wcp_approvals_pending"
	ToolDispatchApproved = "wcp_dispatch_approved"
)

// New builds the MCP server and registers the fixed tools; call Refresh (or
// Run, which keeps refreshing) to publish the capability tools.
func New(d Deps) (*Server, error) {
	if d.Decide == nil || d.Store == nil {
		return nil, errors.New("mcpserver: Decide and Store are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Refresh <= 0 {
		d.Refresh = time.Second
	}
	if d.Version == "" {
		d.Version = "dev"
	}
	s := &Server{hall: d.Decide, agents: d.Agents, stdio: d.Stdio, st: d.Store, log: d.Logger.With("component", "mcp"), refresh: d.Refresh, tools: map[string]string{}, version: d.Version,
		pool: mcpclient.NewPool(d.Version)}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "hallmonitor", Title: "Hall Monitor", Version: d.Version},
		&mcp.ServerOptions{Logger: s.log, Instructions: "Each tool is a WCP capability served by an enrolled, attested worker. " +
			"Every call is decided by the Hall's rules and recorded; a refusal is a tool error whose deny_code says why. " +
			"A call that needs a person returns pending_approval_id: the person approves it in Hall Monitor, " +
			"then run it with " + ToolDispatchApproved + "."})
	if s.stdio.Name == "" {
		s.stdio = principal.Principal{Kind: principal.Agent, Name: "mcp", Via: principal.ViaMCP}
	}
	s.mcp.AddReceivingMiddleware(s.withPrincipal)
	s.addFixedTools()
	return s, nil
}

// MCP returns the underlying go-sdk server (for in-memory transports).
func (s *Server) MCP() *mcp.Server { return s.mcp }

// Run serves one transport (e.g. &mcp.StdioTransport{}) until the client
// disconnects or ctx ends, keeping the tool list in sync with enrollments.
func (s *Server) Run(ctx context.Context, t mcp.Transport) error {
	if err := s.Refresh(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.keepRefreshing(ctx)
	defer s.pool.Close()
	return s.mcp.Run(ctx, t)
}

// ServeHTTP serves the streamable HTTP transport on addr, which must be a
// loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT), until
// ctx ends. The go-sdk handler rejects non-localhost Host headers (DNS
// rebinding protection). ready, if non-nil, receives the bound address.
func (s *Server) ServeHTTP(ctx context.Context, addr string, ready func(net.Addr)) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--http %q: want 127.0.0.1:PORT: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--http %q: the MCP server only listens on loopback; use 127.0.0.1:PORT", addr)
	}
	if err := s.Refresh(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--http %s: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.keepRefreshing(ctx)
	defer s.pool.Close()
	srv := &http.Server{Handler: s.HTTPHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, c := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer c()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// HTTPHandler is the streamable HTTP transport handler. Every request needs
// an agent token (Authorization: Bearer hma_…, Settings › Agents), checked
// on every request, so a rotated or revoked token stops working at once
// (within agents.CacheTTL across processes); the MCP session is bound to its
// agent. Cross-origin browser requests are refused
// (http.CrossOriginProtection) and the go-sdk handler rejects a Host that is
// not loopback (DNS rebinding).
func (s *Server) HTTPHandler() http.Handler {
	h := http.NewCrossOriginProtection().Handler(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp },
		&mcp.StreamableHTTPOptions{Logger: s.log}))
	return auth.RequireBearerToken(s.verifyAgent, nil)(h)
}

// verifyAgent checks an agent token for the HTTP transport.
func (s *Server) verifyAgent(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	if s.agents == nil {
		return nil, fmt.Errorf("%w: this MCP server takes no HTTP clients", auth.ErrInvalidToken)
	}
	p, ok := s.agents.Authenticate(ctx, token)
	if !ok {
		return nil, fmt.Errorf("%w: send an agent token (Settings › Agents, or `hallmonitor agent add NAME`) as Authorization: Bearer hma_…", auth.ErrInvalidToken)
	}
	return &auth.TokenInfo{UserID: p.AgentID, Expiration: time.Now().Add(time.Minute), Extra: map[string]any{"agent": p.Name}}, nil
}

// withPrincipal puts the caller on every request's context: the agent of
// the HTTP transport's token, else the stdio principal.
func (s *Server) withPrincipal(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		p := s.stdio
		if ex := req.GetExtra(); ex != nil && ex.TokenInfo != nil {
			name, _ := ex.TokenInfo.Extra["agent"].(string)
			p = principal.Principal{Kind: principal.Agent, Name: name, AgentID: ex.TokenInfo.UserID, Via: principal.ViaAgent}
		}
		return next(principal.With(ctx, p), method, req)
	}
}

func (s *Server) keepRefreshing(ctx context.Context) {
	t := time.NewTicker(s.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("refresh MCP tools", "err", err)
			}
		}
	}
}

// Refresh publishes one tool per capability of an enrolled worker package
// and one per tool of an online connected MCP server, and withdraws tools
// whose capability or server is gone.
func (s *Server) Refresh(ctx context.Context) error {
	ws, err := s.st.ListWorkers(ctx)
	if err != nil {
		return fmt.Errorf("list enrolled workers: %w", err)
	}
	type capInfo struct {
		species []string
		schema  json.RawMessage
	}
	caps := map[string]*capInfo{}
	for _, w := range ws {
		if w.PackagePath == "" {
			continue
		}
		for _, c := range w.Capabilities {
			if err := validToolName(c); err != nil {
				s.log.Warn("capability cannot be an MCP tool", "capability_id", c, "err", err)
				continue
			}
			ci := caps[c]
			if ci == nil {
				ci = &capInfo{schema: requestSchema(w.PackagePath)}
				caps[c] = ci
			}
			if !slices.Contains(ci.species, w.WorkerSpeciesID) {
				ci.species = append(ci.species, w.WorkerSpeciesID)
			}
		}
	}
	want := map[string]offeredTool{}
	for c, ci := range caps {
		sort.Strings(ci.species)
		capID := c
		want[c] = offeredTool{
			fingerprint: strings.Join(ci.species, ",") + "|" + string(ci.schema),
			schema:      inputSchema(ci.schema, false), // the package's config.schema.json for request
			description: fmt.Sprintf("WCP capability %s, served by %s. Governed: the Hall's rules decide every call; a refusal is a tool error with its deny_code.", capID, strings.Join(ci.species, ", ")),
			call: func(ctx context.Context, args json.RawMessage) *mcp.CallToolResult {
				return s.callCapability(ctx, capID, args)
			},
		}
	}
	s.mu.Lock()
	s.syncTools(s.tools, want, "capability")
	s.mu.Unlock()
	return s.refreshUpstream(ctx)
}

// offeredTool is one tool the MCP server should offer.
type offeredTool struct {
	fingerprint string // the tool is offered again when it changes
	schema      json.RawMessage
	description string
	call        func(ctx context.Context, args json.RawMessage) *mcp.CallToolResult
}

// syncTools makes one family of tools (have: name -> fingerprint of what is
// offered; the caller holds its lock) match want: tools no longer wanted are
// withdrawn, new and changed ones are offered, in name order. The SDK leaves
// argument validation to a raw tool's handler, so each handler checks the
// arguments against the tool's schema before anything is decided; a tool
// whose schema is not usable is not offered.
func (s *Server) syncTools(have map[string]string, want map[string]offeredTool, family string) {
	var stale []string
	for name := range have {
		if _, ok := want[name]; !ok {
			stale = append(stale, name)
			delete(have, name)
		}
	}
	if len(stale) > 0 {
		s.mcp.RemoveTools(stale...)
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t := want[name]
		if have[name] == t.fingerprint {
			continue
		}
		var js jsonschema.Schema
		var resolved *jsonschema.Resolved
		err := json.Unmarshal(t.schema, &js)
		if err == nil {
			resolved, err = js.Resolve(nil)
		}
		if err != nil {
			s.log.Warn(family+" tool's input schema is not usable; the tool is not offered", "tool", name, "err", err)
			continue
		}
		have[name] = t.fingerprint
		call := t.call
		s.mcp.AddTool(&mcp.Tool{Name: name, Title: name, Description: t.description, InputSchema: t.schema},
			func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				if msg := validateArgs(resolved, req.Params.Arguments); msg != "" {
					return toolError("invalid_arguments", msg), nil
				}
				return call(ctx, req.Params.Arguments), nil
			})
	}
}

// validateArgs checks tool arguments against the tool's resolved schema;
// "" when they conform, else what is wrong.
func validateArgs(rs *jsonschema.Resolved, raw json.RawMessage) string {
	var args any = map[string]any{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &args); err != nil {
			return "arguments must be a JSON object: " + err.Error()
		}
	}
	if err := rs.Validate(args); err != nil {
		return "arguments do not match the tool's input schema: " + err.Error()
	}
	return ""
}

func validToolName(name string) error {
	if name == "" || len(name) > 128 {
		return errors.New("tool names are 1..128 characters")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return fmt.Errorf("character %q is not allowed in an MCP tool name", r)
		}
	}
	return nil
}

// requestSchema is the package's config.schema.json when it is a JSON
// object, else a plain object schema.
func requestSchema(pkg string) json.RawMessage {
	b, err := os.ReadFile(filepath.Join(pkg, "config.schema.json"))
	if err == nil && len(b) < 64<<10 {
		var m map[string]any
		if json.Unmarshal(b, &m) == nil && m != nil {
			delete(m, "$schema")
			if out, err := json.Marshal(m); err == nil {
				return out
			}
		}
	}
	return json.RawMessage(`{"type":"object"}`)
}

// inputSchema is the JSON Schema of a capability tool's arguments: the
// worker request plus the RouteInput fields (with defaults for a local
// agent).
func inputSchema(request json.RawMessage, withCapability bool) json.RawMessage {
	props := map[string]any{
		"request":        json.RawMessage(request),
		"env":            map[string]any{"type": "string", "enum": core.Envs, "description": "defaults to the env of the Hall's default profile (Settings), e.g. dev for prof.dev.permissive"},
		"data_label":     map[string]any{"type": "string", "enum": core.DataLabels, "default": defaultDataLabel},
		"tenant_id":      map[string]any{"type": "string", "default": defaultTenant},
		"tenant_risk":    map[string]any{"type": "string", "enum": core.TenantRisks, "default": defaultTenantRisk},
		"qos_class":      map[string]any{"type": "string", "enum": core.QoSClasses, "default": defaultQoS},
		"correlation_id": map[string]any{"type": "string", "description": "defaults to a fresh UUID"},
		"dry_run":        map[string]any{"type": "boolean", "default": false},
	}
	schema := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if withCapability {
		props["capability_id"] = map[string]any{"type": "string", "description": "the WCP capability to route, e.g. cap.doc.summarize"}
		schema["required"] = []string{"capability_id"}
	}
	b, _ := json.Marshal(schema) // plain maps and strings always marshal
	return b
}

// Defaults of the RouteInput fields an MCP client may leave out.
const (
	defaultEnv        = "dev"
	defaultDataLabel  = "PUBLIC"
	defaultTenant     = "mcp-client"
	defaultTenantRisk = "low"
	defaultQoS        = "P2"
)
