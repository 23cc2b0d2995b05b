// Package hallapi is Hall Monitor's embedded Hall API: the local HTTP server
// the UI (desktop window and browser), the CLI and tests use. It owns the
// security middleware (Host allowlist, Origin check, bearer token, body
// limits), JSON errors, the numbered event stream (SSE and long-poll), the
// WCP routing endpoint and every handler of docs/api.md except the account
// ones, which hallapi/account mounts through Server.Handle.
package hallapi

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"hallmonitor/core"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

// Access says who may call a route mounted with Server.Handle.
type Access int

const (
	// Token routes need the bearer token (or the trusted in-process session).
	Token Access = iota
	// Public routes need no token (Host and Origin checks still apply).
	Public
)

// AccountStatus is the login/standing state reported by GET /api/status.
type AccountStatus struct {
	LoggedIn              bool   `json:"logged_in"`
	GitHubLogin           string `json:"github_login"`
	Standing              string `json:"account_standing"`
	GraceSecondsRemaining *int64 `json:"grace_seconds_remaining"`
	StandingCheckedAt     string `json:"standing_checked_at"`
	Tier                  string `json:"tier"`
	Online                bool   `json:"online"`
}

// AccountState is implemented by hallapi/account. Without one the Hall
// reports "not logged in, offline".
type AccountState interface {
	AccountStatus(ctx context.Context) AccountStatus
}

// PackageVerifier checks an enrolled worker's package directory (implemented
// by hallapi/workers). Enrollment with a package_path uses it when set.
type PackageVerifier interface {
	VerifyPackage(ctx context.Context, w store.Worker) (store.Attestation, error)
}

// Options configure a Server.
type Options struct {
	Store     *store.Store // required
	Logger    *slog.Logger
	Version   string
	ConfigDir string        // holds config.json and api-token (required)
	Config    config.Config // the effective configuration (data_dir, port, rules_path, ...)
	// Token is the API token; empty: read or create <ConfigDir>/api-token.
	Token config.Token
	// SigningKey signs receipts; nil: read or create <data_dir>/hall-key.
	SigningKey ed25519.PrivateKey
	UI         fs.FS // static UI (frontend/dist); nil serves no UI
	Account    AccountState
	Packages   PackageVerifier
	// Attestation supplies the live package hashes Route checks (the
	// running *workers.Service); see SetAttestationSource.
	Attestation core.AttestationSource
	// PolicyGate decides rules with escalation.policy_gate; nil is
	// HallPolicyGate.
	PolicyGate core.PolicyGate
	// Dispatcher runs allowed decisions (POST /wcp/dispatch, the
	// *workers.Executor); see SetDispatcher.
	Dispatcher Dispatcher
	LogPath    string
	// AllowedHosts adds Host values (host:port) to the allowlist besides
	// 127.0.0.1/localhost/[::1] on the listening port.
	AllowedHosts []string
	Now          func() time.Time
}

// Server is the Hall API.
type Server struct {
	opts    Options
	log     *slog.Logger
	st      *store.Store
	mux     *http.ServeMux
	handler http.Handler
	started time.Time
	key     ed25519.PrivateKey

	token    atomic.Pointer[string]
	account  atomic.Pointer[AccountState]
	packages atomic.Pointer[PackageVerifier]
	attest   atomic.Pointer[core.AttestationSource]
	disp     atomic.Pointer[Dispatcher]

	hostsMu sync.RWMutex
	hosts   map[string]bool
	ports   map[string]bool
	listen  atomic.Pointer[string]
	// workersDir is config workers_dir, where relative package paths are
	// looked up (setup changes it at once).
	workersDir atomic.Pointer[string]

	rules *rulesHolder
	lock  *uiLock
	// registry is the registry view every decision shares (workers.Registry).
	registry *workers.Registry

	routesMu  sync.Mutex
	routeList []Route

	secMu     sync.Mutex
	secWindow time.Time
	secCount  int
}

// New builds a Server from opts.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("hallapi: Options.Store is required")
	}
	if opts.ConfigDir == "" {
		return nil, errors.New("hallapi: Options.ConfigDir is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.PolicyGate == nil {
		opts.PolicyGate = HallPolicyGate
	}
	s := &Server{opts: opts, log: opts.Logger, st: opts.Store, mux: http.NewServeMux(), started: opts.Now().UTC(),
		hosts: map[string]bool{}, ports: map[string]bool{}}
	tok := opts.Token
	if tok == "" {
		var err error
		if tok, err = config.LoadOrCreateToken(opts.ConfigDir); err != nil {
			return nil, err
		}
	}
	t := string(tok)
	s.token.Store(&t)
	wd := opts.Config.WorkersDir
	s.workersDir.Store(&wd)
	s.key = opts.SigningKey
	if s.key == nil {
		dir := opts.Config.DataDir
		if dir == "" {
			return nil, errors.New("hallapi: Options.Config.DataDir (or SigningKey) is required")
		}
		var err error
		if s.key, err = config.LoadOrCreateSigningKey(dir); err != nil {
			return nil, err
		}
	}
	if opts.Account != nil {
		s.SetAccount(opts.Account)
	}
	if opts.Packages != nil {
		s.SetPackageVerifier(opts.Packages)
	}
	s.registry = workers.NewRegistry(opts.Store, s.registryWorkers, 0)
	opts.Store.OnCommit(s.registry.Changed)
	if opts.Attestation != nil {
		s.SetAttestationSource(opts.Attestation)
	}
	if opts.Dispatcher != nil {
		s.SetDispatcher(opts.Dispatcher)
	}
	if opts.Config.Port > 0 {
		s.allowPort(strconv.Itoa(opts.Config.Port))
	}
	for _, h := range opts.AllowedHosts {
		s.hosts[h] = true
	}
	s.rules = newRulesHolder(opts.Config.RulesPath)
	s.rules.load()
	var err error
	if s.lock, err = loadUILock(opts.ConfigDir); err != nil {
		return nil, err
	}
	s.routes()
	s.handler = s.middleware(http.HandlerFunc(s.dispatch))
	return s, nil
}

// SetAccount installs the account state provider (hallapi/account).
func (s *Server) SetAccount(a AccountState) { s.account.Store(&a) }

// SetPackageVerifier installs the package verifier (hallapi/workers).
func (s *Server) SetPackageVerifier(p PackageVerifier) { s.packages.Store(&p) }

// SetAttestationSource installs the source of the registered and current
// package hashes Route checks (the running *workers.Service). Without one,
// routes that need attestation (any enrolled worker runs from a package) are
// denied DENY_ATTESTATION_UNCONFIGURED.
func (s *Server) SetAttestationSource(a core.AttestationSource) {
	s.attest.Store(&a)
	s.registry.SetSource(a)
}

// AttestationSource returns the installed attestation source (nil if none).
func (s *Server) AttestationSource() core.AttestationSource {
	if p := s.attest.Load(); p != nil {
		return *p
	}
	return nil
}

// SetDispatcher installs what runs allowed decisions (the *workers.Executor).
func (s *Server) SetDispatcher(d Dispatcher) { s.disp.Store(&d) }

// Store is the Hall's store.
func (s *Server) Store() *store.Store { return s.st }

// Bus is the Hall's event bus (publish by writing through Store().Write / Emit).
func (s *Server) Bus() *events.Bus { return s.st.Bus() }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Handler is the full middleware chain (Host, Origin, token, limits) over
// every route: use it with httptest, or wrap it with TrustedHandler for the
// desktop window's in-process AssetServer.
func (s *Server) Handler() http.Handler { return s.handler }

// Handle mounts h on pattern (net/http ServeMux syntax, e.g. "POST /api/auth/login")
// behind the security middleware; Token access requires the bearer token.
func (s *Server) Handle(pattern string, h http.Handler, access Access) {
	if access == Token {
		h = s.requireToken(h)
	}
	s.mux.Handle(pattern, h)
	s.routesMu.Lock()
	s.routeList = append(s.routeList, Route{Pattern: pattern, Access: access})
	s.routesMu.Unlock()
}

// Route is one mounted endpoint and who may call it.
type Route struct {
	Pattern string // net/http pattern, e.g. "POST /wcp/route"
	Access  Access
}

// Routes lists every mounted endpoint in mount order (the security tests
// check each one's access; docs/api.md documents each one).
func (s *Server) Routes() []Route {
	s.routesMu.Lock()
	defer s.routesMu.Unlock()
	return slices.Clone(s.routeList)
}

// Token returns the current API token.
func (s *Server) Token() config.Token { return config.Token(*s.token.Load()) }

// RotateToken writes a new API token and makes it the only valid one.
func (s *Server) RotateToken() (config.Token, error) {
	t, err := config.RotateToken(s.opts.ConfigDir)
	if err != nil {
		return "", err
	}
	v := string(t)
	s.token.Store(&v)
	return t, nil
}

// Listen returns the address the server is serving on ("" before Serve).
func (s *Server) Listen() string {
	if p := s.listen.Load(); p != nil {
		return *p
	}
	return ""
}

func (s *Server) allowPort(port string) {
	s.hostsMu.Lock()
	defer s.hostsMu.Unlock()
	s.ports[port] = true
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully
// (up to 5 s for in-flight requests; event streams are closed).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	addr := ln.Addr().String()
	s.listen.Store(&addr)
	if _, port, err := net.SplitHostPort(addr); err == nil {
		s.allowPort(port)
	}
	s.hostsMu.Lock()
	s.hosts[addr] = true
	s.hostsMu.Unlock()
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	maintainDone := make(chan struct{})
	go func() {
		defer close(maintainDone)
		s.Maintain(base)
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		cancel()
		<-maintainDone
		return err
	case <-ctx.Done():
	}
	cancel() // ends event streams so Shutdown does not wait for them
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	err := hs.Shutdown(sctx)
	<-maintainDone
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Maintain expires approvals and reloads a changed rules file (every 5 s)
// until ctx ends. Serve runs it; call it when the Server is used without a
// listener (as `hallmonitor mcp` does).
func (s *Server) Maintain(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.st.ExpireApprovals(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("expire approvals", "err", err)
			}
			s.reloadRulesIfChanged(ctx)
		}
	}
}
