// Package registrytest is a real HTTP registry for tests and browser end-to-end
// runs. It implements the registry contract Hall Monitor uses: OAuth 2
// authorization (an HTML page with an "Authorize" button standing in for
// GitHub), the token endpoint (authorization code with mandatory PKCE S256 and
// single-use codes, refresh tokens, RFC 8628 device codes), revocation, account
// standing, profile, namespaces, worker verification and the ban list. Switches
// make any route answer an error status (401/403/429/500...) or answer slowly;
// they are Go methods for tests and POST /_test/* endpoints for browser runs
// (see ControlPrefix).
package registrytest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hallmonitor/hallapi/registry"
)

// Route names accepted by Fail and Hits. RouteAll in Fail matches every route.
const (
	RouteAuthorize  = "authorize"
	RouteToken      = "token"
	RouteDevice     = "device"
	RouteDeviceUser = "device-verify"
	RouteRevoke     = "revoke"
	RouteStanding   = "standing"
	RouteProfile    = "profile"
	RouteNamespaces = "namespaces"
	RouteVerify     = "verify"
	RouteBanList    = "ban-list"
	RouteHealth     = "health"
	RouteAll        = "*"
)

// DeviceVerifyPath is where the device flow's user enters the code.
const DeviceVerifyPath = "/auth/device/verify"

// User is the fake GitHub identity and its registry account.
type User struct {
	Login          string
	AvatarURL      string
	Tier           string
	Standing       string
	GraceSeconds   int64
	CreatedAt      string
	NamespaceLimit int
	Namespaces     []registry.Namespace
}

// DefaultUser is the identity used when Options.User is empty.
func DefaultUser() User {
	return User{
		Login: "octocat", AvatarURL: "https://avatars.githubusercontent.com/u/583231", Tier: "indie",
		Standing: registry.StandingOK, CreatedAt: "2025-01-15T10:00:00Z", NamespaceLimit: 5,
		Namespaces: []registry.Namespace{
			{Prefix: "x.octocat", WorkerCount: 2, Public: true},
			{Prefix: "org.octo-org", WorkerCount: 1, Public: false},
		},
	}
}

// Options configure a Server. Zero values take the defaults.
type Options struct {
	Addr           string         // listen address; default 127.0.0.1:0
	Paths          registry.Paths // endpoint paths; empty fields default to registry.DefaultPaths
	User           *User          // default DefaultUser()
	ClientID       string         // the only client id accepted; "" accepts any non-empty id
	TokenTTL       time.Duration  // access token lifetime; default 1 h
	CodeTTL        time.Duration  // authorization / device code lifetime; default 60 s / 10 min
	DeviceInterval int            // seconds between device-code polls; default 1
	Logger         *slog.Logger
}

// Failure makes a route answer Status instead of its normal answer.
type Failure struct {
	Status     int           // e.g. 401, 403, 429, 500
	RetryAfter time.Duration // sent as Retry-After (whole seconds) when > 0
	Count      int           // answers to fail; 0 = until cleared
}

type authCode struct {
	clientID, redirectURI, challenge string
	expires                          time.Time
	used                             bool
	issued                           []string // access tokens issued from it (revoked on replay)
}

type session struct {
	expires time.Time
	refresh string
}

type deviceCode struct {
	userCode string
	expires  time.Time
	approved bool
	denied   bool
	lastPoll time.Time
	redeemed bool
	interval time.Duration
	clientID string
}

// Server is a running test registry.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string

	o     Options
	paths registry.Paths
	ln    net.Listener
	srv   *http.Server

	mu       sync.Mutex
	user     User
	codes    map[string]*authCode
	sessions map[string]*session
	refresh  map[string]string // refresh token -> current access token
	devices  map[string]*deviceCode
	workers  map[string]registry.VerifyResponse
	bans     []registry.BanEntry
	failures map[string]*Failure
	delay    time.Duration
	hits     map[string]int
	lastID   string
}

// Start listens on o.Addr and serves the registry until Close.
func Start(o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	paths := o.Paths.WithDefaults()
	if err := paths.Validate(); err != nil {
		return nil, err
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = time.Hour
	}
	if o.DeviceInterval <= 0 {
		o.DeviceInterval = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	u := DefaultUser()
	if o.User != nil {
		u = *o.User
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("registrytest: listen on %s: %w", o.Addr, err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(), o: o, paths: paths, ln: ln, user: u,
		codes: map[string]*authCode{}, sessions: map[string]*session{}, refresh: map[string]string{},
		devices: map[string]*deviceCode{}, workers: map[string]registry.VerifyResponse{},
		failures: map[string]*Failure{}, hits: map[string]int{},
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// New starts a server for a test and closes it when the test ends.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Paths returns the effective endpoint paths.
func (s *Server) Paths() registry.Paths { return s.paths }

// Handler returns the registry's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	pathOnly := func(p string) string { return strings.SplitN(p, "?", 2)[0] }
	handle := func(route, method, path string, h http.HandlerFunc) {
		mux.Handle(method+" "+pathOnly(path), s.wrap(route, h))
	}
	handle(RouteAuthorize, "GET", s.paths.Authorize, s.authorizePage)
	handle(RouteAuthorize, "POST", s.paths.Authorize, s.authorizeDecision)
	handle(RouteToken, "POST", s.paths.Token, s.token)
	handle(RouteDevice, "POST", s.paths.DeviceAuthorization, s.deviceAuthorization)
	handle(RouteDeviceUser, "GET", DeviceVerifyPath, s.devicePage)
	handle(RouteDeviceUser, "POST", DeviceVerifyPath, s.deviceDecision)
	if s.paths.Revoke != "-" {
		handle(RouteRevoke, "POST", s.paths.Revoke, s.revoke)
	}
	handle(RouteStanding, "GET", s.paths.Standing, s.standing)
	handle(RouteProfile, "GET", s.paths.Profile, s.profile)
	handle(RouteNamespaces, "GET", s.paths.Namespaces, s.namespaces)
	handle(RouteVerify, "GET", s.paths.Verify, s.verify)
	handle(RouteBanList, "GET", s.paths.BanList, s.banList)
	handle(RouteHealth, "GET", s.paths.Health, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "version": "registrytest"})
	})
	s.control(mux)
	return mux
}

// wrap counts hits, applies the delay and injected failures.
func (s *Server) wrap(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[route]++
		delay := s.delay
		f := s.failures[route]
		key := route
		if f == nil {
			f, key = s.failures[RouteAll], RouteAll
		}
		var fail Failure
		if f != nil {
			fail = *f
			if f.Count > 0 {
				f.Count--
				if f.Count == 0 {
					delete(s.failures, key)
				}
			}
		}
		s.mu.Unlock()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if fail.Status != 0 {
			if fail.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((fail.RetryAfter+time.Second-1)/time.Second)))
			}
			writeJSON(w, fail.Status, map[string]string{"error": "injected failure " + strconv.Itoa(fail.Status), "message": http.StatusText(fail.Status)})
			return
		}
		h(w, r)
	})
}

// Fail makes route (or RouteAll) answer f.Status.
func (s *Server) Fail(route string, f Failure) {
	s.mu.Lock()
	s.failures[route] = &f
	s.mu.Unlock()
}

// ClearFailures removes every injected failure.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	clear(s.failures)
	s.mu.Unlock()
}

// SetDelay makes every answer wait d first (0 = no delay).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Hits returns how many requests reached route (failed ones included).
func (s *Server) Hits(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[route]
}

// LastVerifiedID returns the (unescaped) id of the last verify request.
func (s *Server) LastVerifiedID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastID
}

// SetStanding changes the account's standing (and grace countdown in seconds).
func (s *Server) SetStanding(standing string, graceSeconds int64) {
	s.mu.Lock()
	s.user.Standing, s.user.GraceSeconds = standing, graceSeconds
	s.mu.Unlock()
}

// SetUser replaces the fake identity.
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	s.user = u
	s.mu.Unlock()
}

// PutWorker adds or replaces a worker known to the registry.
func (s *Server) PutWorker(v registry.VerifyResponse) {
	s.mu.Lock()
	s.workers[v.WorkerID] = v
	s.mu.Unlock()
}

// Ban adds a ban-list entry.
func (s *Server) Ban(e registry.BanEntry) {
	s.mu.Lock()
	s.bans = append(s.bans, e)
	s.mu.Unlock()
}

// ExpireTokens makes every issued access token expired (refresh tokens stay valid).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	for _, ss := range s.sessions {
		ss.expires = time.Now().Add(-time.Second)
	}
	s.mu.Unlock()
}

// RevokeAll revokes every access and refresh token.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	clear(s.sessions)
	clear(s.refresh)
	s.mu.Unlock()
}

// Sessions returns the number of valid access tokens.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		if time.Now().Before(ss.expires) {
			n++
		}
	}
	return n
}

// ---- OAuth authorization (the fake GitHub page) ----

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
{{if .Login}}<p>Fake GitHub: signing in as <strong id="login">{{.Login}}</strong> for <code>{{.ClientID}}</code>.</p>{{end}}
{{if .Action}}<form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{if .AskUserCode}}<label>Code <input name="user_code" value="{{.UserCode}}" autocomplete="off"></label>
{{end}}<button type="submit" name="decision" value="approve" id="authorize">Authorize</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>{{end}}
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}
</body></html>`))

type page struct {
	Title, Error, Login, ClientID, Action, UserCode, Message string
	Fields                                                   map[string]string
	AskUserCode                                              bool
}

func renderPage(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, p)
}

// authRequest is a validated authorization request.
type authRequest struct {
	clientID, redirectURI, state, challenge string
}

// parseAuthRequest validates the request; redirectOK says whether errors may be
// sent back to redirect_uri (only once redirect_uri itself is valid).
func (s *Server) parseAuthRequest(v url.Values) (ar authRequest, redirectOK bool, err error) {
	ar = authRequest{clientID: v.Get("client_id"), redirectURI: v.Get("redirect_uri"), state: v.Get("state"), challenge: v.Get("code_challenge")}
	if ar.clientID == "" || (s.o.ClientID != "" && ar.clientID != s.o.ClientID) {
		return ar, false, fmt.Errorf("unknown client_id %q", ar.clientID)
	}
	if err := checkLoopbackRedirect(ar.redirectURI); err != nil {
		return ar, false, err
	}
	switch {
	case v.Get("response_type") != "code":
		return ar, true, errors.New("response_type must be code")
	case ar.state == "":
		return ar, true, errors.New("state is required")
	case v.Get("code_challenge_method") != "S256":
		return ar, true, errors.New("code_challenge_method must be S256 (PKCE is required)")
	case len(ar.challenge) != 43:
		return ar, true, errors.New("code_challenge must be a base64url SHA-256 (43 characters)")
	}
	return ar, true, nil
}

// checkLoopbackRedirect accepts http loopback redirect URIs on any port (RFC 8252 §7.3).
func checkLoopbackRedirect(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return fmt.Errorf("redirect_uri %q is not a URL", raw)
	}
	host := u.Hostname()
	if u.Scheme != "http" || (host != "127.0.0.1" && host != "localhost" && host != "::1") || u.Port() == "" || u.Fragment != "" {
		return fmt.Errorf("redirect_uri %q must be http://127.0.0.1:<port>/... (loopback, RFC 8252)", raw)
	}
	return nil
}

func redirectWith(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, _ := url.Parse(redirectURI)
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ar, redirectOK, err := s.parseAuthRequest(q)
	if err != nil {
		if redirectOK {
			redirectWith(w, r, ar.redirectURI, url.Values{"error": {"invalid_request"}, "error_description": {err.Error()}, "state": {ar.state}})
			return
		}
		renderPage(w, http.StatusBadRequest, page{Title: "Authorization failed", Error: err.Error()})
		return
	}
	fields := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "response_type", "scope"} {
		fields[k] = q.Get(k)
	}
	s.mu.Lock()
	login := s.user.Login
	s.mu.Unlock()
	renderPage(w, http.StatusOK, page{Title: "Authorize Hall Monitor", Login: login, ClientID: ar.clientID,
		Action: strings.SplitN(s.paths.Authorize, "?", 2)[0], Fields: fields})
}

func (s *Server) authorizeDecision(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		renderPage(w, http.StatusBadRequest, page{Title: "Authorization failed", Error: "unreadable form"})
		return
	}
	ar, redirectOK, err := s.parseAuthRequest(r.PostForm)
	if err != nil {
		if redirectOK {
			redirectWith(w, r, ar.redirectURI, url.Values{"error": {"invalid_request"}, "error_description": {err.Error()}, "state": {ar.state}})
			return
		}
		renderPage(w, http.StatusBadRequest, page{Title: "Authorization failed", Error: err.Error()})
		return
	}
	if r.PostForm.Get("decision") != "approve" {
		redirectWith(w, r, ar.redirectURI, url.Values{"error": {"access_denied"}, "error_description": {"the user denied the request"}, "state": {ar.state}})
		return
	}
	code := randomToken("code_")
	ttl := s.o.CodeTTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	s.mu.Lock()
	s.codes[code] = &authCode{clientID: ar.clientID, redirectURI: ar.redirectURI, challenge: ar.challenge, expires: time.Now().Add(ttl)}
	s.mu.Unlock()
	redirectWith(w, r, ar.redirectURI, url.Values{"code": {code}, "state": {ar.state}})
}

// ---- token endpoint ----

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) clientID(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
	}
	return r.PostForm.Get("client_id")
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	clientID := s.clientID(r)
	if clientID == "" || (s.o.ClientID != "" && clientID != s.o.ClientID) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id")
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		s.tokenFromCode(w, r, clientID)
	case "refresh_token":
		s.tokenFromRefresh(w, r)
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.tokenFromDevice(w, r, clientID)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+strconv.Quote(gt)+" is not supported")
	}
}

func (s *Server) tokenFromCode(w http.ResponseWriter, r *http.Request, clientID string) {
	f := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[f.Get("code")]
	switch {
	case c == nil:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown authorization code")
		return
	case c.used:
		// RFC 6749 §4.1.2: a replayed code revokes what it issued.
		for _, tok := range c.issued {
			if ss := s.sessions[tok]; ss != nil {
				delete(s.refresh, ss.refresh)
			}
			delete(s.sessions, tok)
		}
		oauthError(w, http.StatusBadRequest, "invalid_grant", "authorization code already used")
		return
	case time.Now().After(c.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "authorization code expired")
		return
	case c.clientID != clientID:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code was issued to another client")
		return
	case c.redirectURI != f.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
		return
	}
	c.used = true
	verifier := f.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	if len(verifier) < 43 || len(verifier) > 128 || subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) != 1 {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE code_verifier does not match the code_challenge")
		return
	}
	access := s.issueLocked(w)
	c.issued = append(c.issued, access)
}

// issueLocked creates an access + refresh token pair and writes the answer.
func (s *Server) issueLocked(w http.ResponseWriter) string {
	access, refresh := randomToken("rat_"), randomToken("rrt_")
	s.sessions[access] = &session{expires: time.Now().Add(s.o.TokenTTL), refresh: refresh}
	s.refresh[refresh] = access
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "refresh_token": refresh,
		"expires_in": int(s.o.TokenTTL / time.Second),
	})
	return access
}

func (s *Server) tokenFromRefresh(w http.ResponseWriter, r *http.Request) {
	rt := r.PostForm.Get("refresh_token")
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.refresh[rt]
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or revoked refresh token")
		return
	}
	delete(s.refresh, rt)
	delete(s.sessions, old)
	s.issueLocked(w)
}

func (s *Server) tokenFromDevice(w http.ResponseWriter, r *http.Request, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[r.PostForm.Get("device_code")]
	now := time.Now()
	switch {
	case d == nil || d.redeemed || d.clientID != clientID:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown device code")
		return
	case now.After(d.expires):
		oauthError(w, http.StatusBadRequest, "expired_token", "device code expired")
		return
	case d.denied:
		oauthError(w, http.StatusBadRequest, "access_denied", "the user denied the request")
		return
	}
	tooFast := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval-100*time.Millisecond
	d.lastPoll = now
	switch {
	case tooFast:
		d.interval += time.Second
		oauthError(w, http.StatusBadRequest, "slow_down", "polling too fast")
	case !d.approved:
		oauthError(w, http.StatusBadRequest, "authorization_pending", "waiting for the user")
	default:
		d.redeemed = true
		s.issueLocked(w)
	}
}

// ---- device authorization (RFC 8628) ----

func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	clientID := s.clientID(r)
	if clientID == "" || (s.o.ClientID != "" && clientID != s.o.ClientID) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id")
		return
	}
	ttl := s.o.CodeTTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	dc := randomToken("dc_")
	uc := userCode()
	s.mu.Lock()
	s.devices[dc] = &deviceCode{userCode: uc, expires: time.Now().Add(ttl), interval: time.Duration(s.o.DeviceInterval) * time.Second, clientID: clientID}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": dc, "user_code": uc, "verification_uri": s.URL + DeviceVerifyPath,
		"verification_uri_complete": s.URL + DeviceVerifyPath + "?user_code=" + url.QueryEscape(uc),
		"expires_in":                int(ttl / time.Second), "interval": s.o.DeviceInterval,
	})
}

func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	login := s.user.Login
	s.mu.Unlock()
	renderPage(w, http.StatusOK, page{Title: "Authorize a device", Login: login, ClientID: "device", Action: DeviceVerifyPath,
		AskUserCode: true, UserCode: r.URL.Query().Get("user_code"), Fields: map[string]string{}})
}

func (s *Server) deviceDecision(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		renderPage(w, http.StatusBadRequest, page{Title: "Device authorization failed", Error: "unreadable form"})
		return
	}
	if err := s.DecideDevice(r.PostForm.Get("user_code"), r.PostForm.Get("decision") == "approve"); err != nil {
		renderPage(w, http.StatusBadRequest, page{Title: "Device authorization failed", Error: err.Error()})
		return
	}
	renderPage(w, http.StatusOK, page{Title: "Done", Message: "You can return to Hall Monitor."})
}

// DecideDevice approves or denies the device login holding userCode, as the
// user would on the verification page.
func (s *Server) DecideDevice(userCode string, approve bool) error {
	userCode = strings.ToUpper(strings.TrimSpace(userCode))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices {
		if d.userCode == userCode && !d.redeemed && time.Now().Before(d.expires) {
			d.approved, d.denied = approve, !approve
			return nil
		}
	}
	return fmt.Errorf("user code %q is unknown or expired", userCode)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	if ss := s.sessions[tok]; ss != nil {
		delete(s.refresh, ss.refresh)
		delete(s.sessions, tok)
	}
	if acc, ok := s.refresh[tok]; ok {
		delete(s.sessions, acc)
		delete(s.refresh, tok)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK) // RFC 7009: 200 even for unknown tokens
}

// ---- account API ----

// authorized returns the user for a valid bearer token, or answers 401.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) (User, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[tok]
	if !ok || ss == nil || time.Now().After(ss.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "missing, expired or revoked token"})
		return User{}, false
	}
	return s.user, true
}

func (s *Server) standing(w http.ResponseWriter, r *http.Request) {
	u, ok := s.authorized(w, r)
	if !ok {
		return
	}
	body := map[string]any{"standing": u.Standing, "tier_id": u.Tier, "github_login": u.Login, "checked_at": time.Now().UTC().Format(time.RFC3339)}
	if u.Standing == registry.StandingGrace {
		body["grace_seconds_remaining"] = u.GraceSeconds
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	u, ok := s.authorized(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"github_login": u.Login, "avatar_url": u.AvatarURL, "tier": u.Tier,
		"created_at": u.CreatedAt, "namespace_limit": u.NamespaceLimit, "namespaces_used": len(u.Namespaces)})
}

func (s *Server) namespaces(w http.ResponseWriter, r *http.Request) {
	u, ok := s.authorized(w, r)
	if !ok {
		return
	}
	list := make([]map[string]any, 0, len(u.Namespaces))
	for _, n := range u.Namespaces {
		list = append(list, map[string]any{"prefix": n.Prefix, "worker_count": n.WorkerCount, "public": n.Public})
	}
	writeJSON(w, http.StatusOK, map[string]any{"namespaces": list})
}

// ---- public registry API ----

func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("worker_id")
	s.mu.Lock()
	s.lastID = id
	v, ok := s.workers[id]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "worker not found"})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) banList(w http.ResponseWriter, r *http.Request) {
	limit := 500
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a positive integer"})
			return
		}
		limit = n
	}
	s.mu.Lock()
	list := append([]registry.BanEntry{}, s.bans[:min(limit, len(s.bans))]...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, list)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomToken(prefix string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// userCode returns an RFC 8628 style code such as "BDFG-HJKL" (no vowels, no look-alikes).
func userCode() string {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}
