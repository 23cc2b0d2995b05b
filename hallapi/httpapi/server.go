// Package httpapi is Hall Monitor's embedded Hall API: the local HTTP server
// the UI (desktop window and browser), the CLI and tests use. It owns the
// security middleware (Host allowlist, Origin check, bearer token, body
// limits), JSON errors, the numbered event stream (SSE and long-poll), the
// WCP routing endpoint and every handler of docs/api.md except the account
// ones, which hallapi/account mounts through Server.Handle.
package httpapi

import (
	"context"
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

	"hallmonitor/hallapi/agents"
	"hallmonitor/hallapi/decide"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/rulebook"
	"hallmonitor/hallapi/store"
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
	// Token is the first agent's token; empty: read or create
	// <ConfigDir>/api-token. It becomes agent "default" on upgrade.
	Token config.Token
	// AdminToken is the person's credential; empty: read or create
	// <ConfigDir>/admin-token.
	AdminToken config.Token
	// Agents authenticates agent tokens; nil: one over Store.
	Agents *agents.Service
	// Decide is the decision service the routes call (required).
	Decide   *decide.Service
	UI       fs.FS // static UI (frontend/dist); nil serves no UI
	Account  AccountState
	Packages PackageVerifier
	LogPath  string
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
	dec     *decide.Service

	token      atomic.Pointer[string]
	adminToken config.Token
	agents     *agents.Service
	sessions   *sessions
	account    atomic.Pointer[AccountState]
	packages   atomic.Pointer[PackageVerifier]

	hostsMu sync.RWMutex
	hosts   map[string]bool
	ports   map[string]bool
	listen  atomic.Pointer[string]
	// workersDir is config workers_dir, where relative package paths are
	// looked up (setup changes it at once).
	workersDir atomic.Pointer[string]

	rulebook rulebook.Book // serialises PUT /api/rules
	lock     *uiLock

	routesMu  sync.Mutex
	routeList []Route

	// sections are extra objects of GET /api/status (SetStatusSection).
	sections sync.Map

	secMu     sync.Mutex
	secWindow time.Time
	secCount  int
}

// New builds a Server from opts.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("httpapi: Options.Store is required")
	}
	if opts.Decide == nil {
		return nil, errors.New("httpapi: Options.Decide is required")
	}
	if opts.ConfigDir == "" {
		return nil, errors.New("httpapi: Options.ConfigDir is required")
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
	s := &Server{opts: opts, log: opts.Logger, st: opts.Store, dec: opts.Decide, mux: http.NewServeMux(), started: opts.Now().UTC(),
		hosts: map[string]bool{}, ports: map[string]bool{}}
	tok := opts.Token
	var err error
	if tok == "" {
		if tok, err = config.LoadOrCreateToken(opts.ConfigDir); err != nil {
			return nil, err
		}
	}
	t := string(tok)
	s.token.Store(&t)
	if s.adminToken = opts.AdminToken; s.adminToken == "" {
		if s.adminToken, err = config.LoadOrCreateAdminToken(opts.ConfigDir); err != nil {
			return nil, err
		}
	}
	if s.agents = opts.Agents; s.agents == nil {
		s.agents = agents.New(opts.Store, opts.Logger)
	}
	// The api-token of a Hall from before agents is the first agent's.
	if err := s.agents.Import(context.Background(), agents.DefaultAgent, t); err != nil {
		return nil, fmt.Errorf("record the api-token as agent %q: %w", agents.DefaultAgent, err)
	}
	s.sessions = newSessions()
	wd := opts.Config.WorkersDir
	s.workersDir.Store(&wd)
	if opts.Account != nil {
		s.SetAccount(opts.Account)
	}
	if opts.Packages != nil {
		s.SetPackageVerifier(opts.Packages)
	}
	if opts.Config.Port > 0 {
		s.allowPort(strconv.Itoa(opts.Config.Port))
	}
	for _, h := range opts.AllowedHosts {
		s.hosts[h] = true
	}
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

// Decide is the decision service behind the routes.
func (s *Server) Decide() *decide.Service { return s.dec }

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
// behind the security middleware; access says which principals may call it.
func (s *Server) Handle(pattern string, h http.Handler, access Access) {
	if access != Public {
		h = s.authorize(h, access)
	}
	s.mux.Handle(pattern, h)
	s.routesMu.Lock()
	s.routeList = append(s.routeList, Route{Pattern: pattern, Access: access})
	s.routesMu.Unlock()
}

// Wrap installs mw around the whole handler chain (Host, Origin, token,
// routes): call it before Serve. The wiring measures route latency with it.
func (s *Server) Wrap(mw func(http.Handler) http.Handler) { s.handler = mw(s.handler) }

// SetStatusSection adds the object f returns to GET /api/status under name
// (e.g. "export": the OpenTelemetry export's queue and drops).
func (s *Server) SetStatusSection(name string, f func() any) { s.sections.Store(name, f) }

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

// Token returns the token of agent "default" (the api-token file).
func (s *Server) Token() config.Token { return config.Token(*s.token.Load()) }

// AdminToken returns the person's credential (the admin-token file).
func (s *Server) AdminToken() config.Token { return s.adminToken }

// Agents is the agent-token service the routes authenticate with.
func (s *Server) Agents() *agents.Service { return s.agents }

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
		s.dec.Maintain(base)
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
