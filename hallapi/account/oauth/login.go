// Package oauth signs the Hall in to the WCP registry with OAuth 2
// (golang.org/x/oauth2): Authorization Code + PKCE (S256) with the system
// browser and a one-shot loopback listener on 127.0.0.1 and a random port
// (RFC 8252), or, for the public registry's flow, the Hall's own
// /api/auth/callback as redirect target; the device authorization flow
// (RFC 8628) for headless machines. Each login is bound to the click that
// started it: a random state and the PKCE verifier never leave the Hall, a
// callback is accepted once, and no token is ever handed to a caller — the
// session is stored (TokenStore: OS keyring or a 0600 file) and used by the
// Hall itself.
package oauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"hallmonitor/hallapi/registry"
)

// Login statuses.
const (
	StatusPending   = "pending"
	StatusDone      = "done"
	StatusFailed    = "failed"
	StatusExpired   = "expired"
	StatusCancelled = "cancelled"
)

// Defaults.
const (
	DefaultClientID   = "hallmonitor"
	DefaultTimeout    = 5 * time.Minute
	loopbackPath      = "/callback"
	exchangeTimeout   = 30 * time.Second
	keepFinished      = 10 * time.Minute
	maxPendingLogins  = 8
	modeLoopback      = "loopback"
	modeHall          = "hall"
	modeDevice        = "device"
	revokeTimeout     = 5 * time.Second
	callbackReadLimit = 10 * time.Second
)

// Errors.
var (
	ErrNotLoggedIn     = errors.New("not signed in to the registry: sign in first")
	ErrSessionExpired  = errors.New("the registry session expired or was revoked: sign in again")
	ErrUnknownLogin    = errors.New("no such login_id (it may have expired): start the sign-in again")
	ErrTooManyLogins   = errors.New("too many sign-ins in progress: cancel one or wait for it to expire")
	errStateMismatched = errors.New("state does not match a sign-in in progress")
	errNotPending      = errors.New("this sign-in was cancelled or expired in Hall Monitor: start it again from Hall Monitor")
)

// Options configure a Manager.
type Options struct {
	RegistryURL string         // registry base URL; default registry.DefaultBaseURL
	Paths       registry.Paths // authorize, token, device, revoke paths (defaults: registry.DefaultPaths)
	ClientID    string         // OAuth client id; default "hallmonitor"
	Scopes      []string
	// CallbackURL, when set, is the redirect_uri (the Hall's own
	// http://127.0.0.1:8765/api/auth/callback, as the public registry expects);
	// mount Manager.HandleCallback there. Empty: a one-shot loopback listener
	// on 127.0.0.1:<random port> per login (RFC 8252).
	CallbackURL string
	// OpenURL opens the authorization URL in the system browser (desktop: the
	// Wails runtime's BrowserOpenURL). Nil: the caller shows Attempt.AuthURL.
	OpenURL    func(string) error
	Timeout    time.Duration // how long a login may take; default 5 min
	Store      *TokenStore   // required
	HTTPClient *http.Client  // for token/device/revoke calls; default a client with a 30 s timeout
	Logger     *slog.Logger
}

// Attempt is a started browser login.
type Attempt struct {
	ID        string    `json:"login_id"`
	AuthURL   string    `json:"auth_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// DeviceAttempt is a started device-flow login.
type DeviceAttempt struct {
	ID                      string    `json:"login_id"`
	UserCode                string    `json:"user_code"`
	VerificationURI         string    `json:"verification_uri"`
	VerificationURIComplete string    `json:"verification_uri_complete,omitempty"`
	ExpiresAt               time.Time `json:"expires_at"`
	Interval                int64     `json:"interval"`
}

// AttemptStatus is what the UI may learn about a login (never a token).
type AttemptStatus struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

type attempt struct {
	id, state, verifier string
	mode                string
	cfg                 *oauth2.Config
	expires             time.Time
	status, err         string
	finishedAt          time.Time
	cancel              context.CancelFunc
	srv                 *http.Server
}

// Manager runs logins and holds the registry session.
type Manager struct {
	o        Options
	endpoint oauth2.Endpoint
	revoke   string

	mu       sync.Mutex
	attempts map[string]*attempt // by id
	byState  map[string]*attempt // pending browser logins by state
	token    *oauth2.Token
	onChange []func(loggedIn bool)

	refreshMu sync.Mutex
}

// New loads a stored session (if any) and returns a Manager.
func New(o Options) (*Manager, error) {
	if o.Store == nil {
		return nil, errors.New("login: Options.Store is required")
	}
	base, err := registry.ParseBaseURL(o.RegistryURL)
	if err != nil {
		return nil, err
	}
	paths := o.Paths.WithDefaults()
	if err := paths.Validate(); err != nil {
		return nil, err
	}
	if o.CallbackURL != "" {
		u, err := url.Parse(o.CallbackURL)
		if err != nil || u.Scheme != "http" || !isLoopbackHost(u.Hostname()) || u.Port() == "" {
			return nil, fmt.Errorf("callback_url: %q must be http://127.0.0.1:<port>/api/auth/callback (a loopback address with a port)", o.CallbackURL)
		}
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: exchangeTimeout}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	m := &Manager{
		o: o,
		endpoint: oauth2.Endpoint{
			AuthURL: base + paths.Authorize, TokenURL: base + paths.Token,
			DeviceAuthURL: base + paths.DeviceAuthorization, AuthStyle: oauth2.AuthStyleInParams,
		},
		attempts: map[string]*attempt{}, byState: map[string]*attempt{},
	}
	if paths.Revoke != "-" {
		m.revoke = base + paths.Revoke
	}
	tok, err := o.Store.Load()
	switch {
	case err == nil:
		m.token = tok
	case errors.Is(err, ErrNoToken):
	default:
		o.Logger.Warn("stored registry session unusable; sign in again", "err", err)
	}
	return m, nil
}

// OnChange registers f to run (in its own goroutine) after a sign-in, a
// sign-out or the loss of the session.
func (m *Manager) OnChange(f func(loggedIn bool)) {
	m.mu.Lock()
	m.onChange = append(m.onChange, f)
	m.mu.Unlock()
}

func (m *Manager) notify(loggedIn bool) {
	m.mu.Lock()
	fs := append([]func(bool){}, m.onChange...)
	m.mu.Unlock()
	for _, f := range fs {
		go f(loggedIn)
	}
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (m *Manager) oauthConfig(redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: m.o.ClientID, Endpoint: m.endpoint, RedirectURL: redirect, Scopes: m.o.Scopes}
}

func (m *Manager) clientCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, m.o.HTTPClient)
}

// pruneLocked forgets finished logins after a while and counts pending ones.
func (m *Manager) pruneLocked(now time.Time) (pending int) {
	for id, a := range m.attempts {
		if a.status != StatusPending && now.Sub(a.finishedAt) > keepFinished {
			delete(m.attempts, id)
		} else if a.status == StatusPending {
			pending++
		}
	}
	return pending
}

// finishLocked ends a pending attempt; it returns false when it had already ended.
func (m *Manager) finishLocked(a *attempt, status, errMsg string) bool {
	if a.status != StatusPending {
		return false
	}
	a.status, a.err, a.finishedAt = status, errMsg, time.Now()
	delete(m.byState, a.state)
	if a.cancel != nil {
		a.cancel()
	}
	return true
}

// Start begins a browser login: it prepares state + PKCE verifier, starts the
// loopback listener (unless CallbackURL is set), opens the browser when
// OpenURL is set, and returns the attempt. The login ends on the callback, on
// Cancel, or after Timeout.
func (m *Manager) Start() (Attempt, error) {
	now := time.Now()
	m.mu.Lock()
	if m.pruneLocked(now) >= maxPendingLogins {
		m.mu.Unlock()
		return Attempt{}, ErrTooManyLogins
	}
	m.mu.Unlock()

	a := &attempt{id: randomHex(16), state: randomHex(32), verifier: oauth2.GenerateVerifier(),
		status: StatusPending, expires: now.Add(m.o.Timeout)}
	actx, cancel := context.WithDeadline(context.Background(), a.expires)
	a.cancel = cancel
	if m.o.CallbackURL != "" {
		a.mode = modeHall
		a.cfg = m.oauthConfig(m.o.CallbackURL)
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			cancel()
			return Attempt{}, fmt.Errorf("start the sign-in callback listener on 127.0.0.1: %w", err)
		}
		a.mode = modeLoopback
		a.cfg = m.oauthConfig("http://" + ln.Addr().String() + loopbackPath)
		mux := http.NewServeMux()
		mux.HandleFunc("GET "+loopbackPath, func(w http.ResponseWriter, r *http.Request) { m.callback(w, r, modeLoopback) })
		a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: callbackReadLimit}
		go func() { _ = a.srv.Serve(ln) }()
	}
	authURL := a.cfg.AuthCodeURL(a.state, oauth2.S256ChallengeOption(a.verifier))

	m.mu.Lock()
	m.attempts[a.id] = a
	m.byState[a.state] = a
	m.mu.Unlock()

	go func() {
		<-actx.Done()
		m.mu.Lock()
		expired := m.finishLocked(a, StatusExpired, "the sign-in was not completed in time")
		m.mu.Unlock()
		if expired {
			m.o.Logger.Info("registry sign-in expired", "login_id", a.id)
		}
		if a.srv != nil {
			sctx, c := context.WithTimeout(context.Background(), 2*time.Second)
			_ = a.srv.Shutdown(sctx)
			c()
		}
	}()

	m.o.Logger.Info("registry sign-in started", "login_id", a.id, "mode", a.mode, "registry", m.endpoint.AuthURL)
	if m.o.OpenURL != nil {
		if err := m.o.OpenURL(authURL); err != nil {
			m.o.Logger.Warn("could not open the browser; the UI shows the link instead", "err", err)
		}
	}
	return Attempt{ID: a.id, AuthURL: authURL, ExpiresAt: a.expires}, nil
}

// Status reports a login's status.
func (m *Manager) Status(id string) (AttemptStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.attempts[id]
	if !ok {
		return AttemptStatus{}, ErrUnknownLogin
	}
	return AttemptStatus{Status: a.status, Error: a.err}, nil
}

// Wait blocks until the login ends or ctx is done, polling its status.
func (m *Manager) Wait(ctx context.Context, id string) (AttemptStatus, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		st, err := m.Status(id)
		if err != nil || st.Status != StatusPending {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-t.C:
		}
	}
}

// Cancel ends a pending login (its loopback listener closes). Cancelling a
// login that already ended changes nothing.
func (m *Manager) Cancel(id string) (AttemptStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.attempts[id]
	if !ok {
		return AttemptStatus{}, ErrUnknownLogin
	}
	if m.finishLocked(a, StatusCancelled, "cancelled") {
		m.o.Logger.Info("registry sign-in cancelled", "login_id", a.id)
	}
	return AttemptStatus{Status: a.status, Error: a.err}, nil
}

// HandleCallback serves the Hall's /api/auth/callback, the redirect target
// when Options.CallbackURL is set. It also completes loopback logins, because
// the public registry sends the browser to the Hall's callback whatever
// redirect_uri it was given. It is safe to mount publicly: it only accepts the
// state of a browser login in progress, once, and the code is redeemed with
// that login's PKCE verifier.
func (m *Manager) HandleCallback(w http.ResponseWriter, r *http.Request) {
	m.callback(w, r, modeHall)
}

// callback completes a browser login: state check (one-shot), then the code
// exchange with the PKCE verifier. A loopback listener (via modeLoopback)
// accepts only loopback logins; the Hall's callback accepts any browser login.
func (m *Manager) callback(w http.ResponseWriter, r *http.Request, via string) {
	q := r.URL.Query()
	state := q.Get("state")
	m.mu.Lock()
	a := m.byState[state]
	if a == nil || state == "" || (via == modeLoopback && a.mode != modeLoopback) {
		m.mu.Unlock()
		m.o.Logger.Warn("sign-in callback refused", "reason", errStateMismatched.Error(), "remote", r.RemoteAddr)
		m.page(w, http.StatusBadRequest, "Sign-in link not valid",
			"This sign-in link does not belong to a sign-in in progress, or was already used. Start the sign-in again from Hall Monitor.")
		return
	}
	// One shot: the state is consumed before anything else happens.
	delete(m.byState, state)
	m.mu.Unlock()
	defer m.closeLoopback(a)

	if e := q.Get("error"); e != "" {
		msg := "the registry refused the sign-in: " + e
		if d := q.Get("error_description"); d != "" {
			msg += " (" + d + ")"
		}
		m.fail(a, msg)
		m.page(w, http.StatusOK, "Sign-in not completed", msg+". You can close this tab.")
		return
	}
	code := q.Get("code")
	if code == "" {
		m.fail(a, "the registry sent no code")
		m.page(w, http.StatusBadRequest, "Sign-in failed", "The registry sent no code. Start the sign-in again from Hall Monitor.")
		return
	}
	ctx, cancel := context.WithTimeout(m.clientCtx(context.Background()), exchangeTimeout)
	defer cancel()
	tok, err := a.cfg.Exchange(ctx, code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		msg := "the registry refused the code: " + oauthErrorText(err)
		m.fail(a, msg)
		m.page(w, http.StatusBadGateway, "Sign-in failed", msg+". Start the sign-in again from Hall Monitor.")
		return
	}
	if err := m.complete(a, tok); err != nil {
		m.page(w, http.StatusConflict, "Sign-in not completed", err.Error())
		return
	}
	m.o.Logger.Info("registry sign-in completed", "login_id", a.id, "mode", a.mode)
	m.notify(true)
	m.page(w, http.StatusOK, "Signed in", "Hall Monitor is signed in. You can close this tab.")
}

func (m *Manager) fail(a *attempt, msg string) {
	m.mu.Lock()
	m.finishLocked(a, StatusFailed, msg)
	m.mu.Unlock()
	m.o.Logger.Warn("registry sign-in failed", "login_id", a.id, "err", msg)
}

// closeLoopback shuts the one-shot listener after the answer was written.
func (m *Manager) closeLoopback(a *attempt) {
	if a.srv == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = a.srv.Shutdown(ctx)
	}()
}

// oauthErrorText turns an exchange error into text without the response body.
func oauthErrorText(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		s := re.ErrorCode
		if s == "" && re.Response != nil {
			s = "HTTP " + re.Response.Status
		}
		if re.ErrorDescription != "" {
			s += ": " + re.ErrorDescription
		}
		return s
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "registry unreachable: " + ue.Err.Error()
	}
	return err.Error()
}

var pageTmpl = template.Must(template.New("p").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} — Hall Monitor</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>{{.Title}}</h1><p>{{.Body}}</p></body></html>`))

func (m *Manager) page(w http.ResponseWriter, status int, title, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct{ Title, Body string }{title, body})
}

// StartDevice begins an RFC 8628 device login: the user opens
// VerificationURI on any device and enters UserCode; the Hall polls the
// token endpoint in the background.
func (m *Manager) StartDevice(ctx context.Context) (DeviceAttempt, error) {
	m.mu.Lock()
	if m.pruneLocked(time.Now()) >= maxPendingLogins {
		m.mu.Unlock()
		return DeviceAttempt{}, ErrTooManyLogins
	}
	m.mu.Unlock()
	cfg := m.oauthConfig("")
	rctx, cancel := context.WithTimeout(m.clientCtx(ctx), exchangeTimeout)
	resp, err := cfg.DeviceAuth(rctx)
	cancel()
	if err != nil {
		return DeviceAttempt{}, fmt.Errorf("start device sign-in: %s", oauthErrorText(err))
	}
	expires := time.Now().Add(m.o.Timeout)
	if !resp.Expiry.IsZero() && resp.Expiry.Before(expires) {
		expires = resp.Expiry
	}
	a := &attempt{id: randomHex(16), state: "device:" + randomHex(16), mode: modeDevice, cfg: cfg, status: StatusPending, expires: expires}
	actx, acancel := context.WithDeadline(m.clientCtx(context.Background()), expires)
	a.cancel = acancel
	m.mu.Lock()
	m.attempts[a.id] = a
	m.mu.Unlock()
	go func() {
		tok, err := cfg.DeviceAccessToken(actx, resp)
		switch {
		case err == nil:
			if m.complete(a, tok) != nil {
				return
			}
			m.o.Logger.Info("registry device sign-in completed", "login_id", a.id)
			m.notify(true)
		case errors.Is(err, context.DeadlineExceeded):
			m.mu.Lock()
			m.finishLocked(a, StatusExpired, "the code was not entered in time")
			m.mu.Unlock()
		case errors.Is(err, context.Canceled):
			// Cancel already recorded the status.
		default:
			m.fail(a, "the registry refused the device sign-in: "+oauthErrorText(err))
		}
	}()
	m.o.Logger.Info("registry device sign-in started", "login_id", a.id)
	return DeviceAttempt{ID: a.id, UserCode: resp.UserCode, VerificationURI: resp.VerificationURI,
		VerificationURIComplete: resp.VerificationURIComplete, ExpiresAt: expires, Interval: resp.Interval}, nil
}

// complete stores the session of a login that is still pending (not
// cancelled, expired or signed out meanwhile) and marks it done.
func (m *Manager) complete(a *attempt, tok *oauth2.Token) error {
	m.mu.Lock()
	pending := a.status == StatusPending
	m.mu.Unlock()
	if !pending {
		return errNotPending
	}
	if err := m.setToken(tok); err != nil {
		m.fail(a, err.Error())
		return err
	}
	m.mu.Lock()
	m.finishLocked(a, StatusDone, "")
	m.mu.Unlock()
	return nil
}

// setToken stores a new session and keeps it in memory.
func (m *Manager) setToken(tok *oauth2.Token) error {
	where, err := m.o.Store.Save(tok)
	if err != nil {
		return fmt.Errorf("could not store the registry session: %w", err)
	}
	m.mu.Lock()
	m.token = tok
	m.mu.Unlock()
	m.o.Logger.Debug("registry session stored", "where", where)
	return nil
}

// LoggedIn reports whether a registry session is held.
func (m *Manager) LoggedIn() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.token != nil
}

// AccessToken returns a usable access token, refreshing an expired one.
// ErrNotLoggedIn without a session; ErrSessionExpired when the registry no
// longer accepts it (the session is then dropped).
func (m *Manager) AccessToken(ctx context.Context) (registry.Secret, error) {
	m.mu.Lock()
	tok := m.token
	m.mu.Unlock()
	if tok == nil {
		return "", ErrNotLoggedIn
	}
	if tok.Valid() {
		return registry.Secret(tok.AccessToken), nil
	}
	return m.refresh(ctx, tok)
}

// Refresh forces a refresh after the registry answered 401 to a token that
// looked valid. It returns the new token or ErrSessionExpired.
func (m *Manager) Refresh(ctx context.Context, rejected registry.Secret) (registry.Secret, error) {
	m.mu.Lock()
	tok := m.token
	m.mu.Unlock()
	if tok == nil {
		return "", ErrNotLoggedIn
	}
	if tok.AccessToken != rejected.Reveal() && tok.Valid() {
		return registry.Secret(tok.AccessToken), nil // someone refreshed meanwhile
	}
	return m.refresh(ctx, tok)
}

func (m *Manager) refresh(ctx context.Context, tok *oauth2.Token) (registry.Secret, error) {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	m.mu.Lock()
	cur := m.token
	m.mu.Unlock()
	if cur == nil {
		return "", ErrNotLoggedIn
	}
	if cur != tok && cur.Valid() {
		return registry.Secret(cur.AccessToken), nil
	}
	if cur.RefreshToken == "" {
		m.dropSession("no refresh token")
		return "", ErrSessionExpired
	}
	rctx, cancel := context.WithTimeout(m.clientCtx(ctx), exchangeTimeout)
	defer cancel()
	nt, err := m.oauthConfig("").TokenSource(rctx, &oauth2.Token{RefreshToken: cur.RefreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && (re.Response.StatusCode == http.StatusBadRequest || re.Response.StatusCode == http.StatusUnauthorized) {
			m.dropSession(oauthErrorText(err))
			return "", ErrSessionExpired
		}
		return "", fmt.Errorf("%w: refreshing the session: %s", registry.ErrUnavailable, oauthErrorText(err))
	}
	if nt.RefreshToken == "" {
		nt.RefreshToken = cur.RefreshToken
	}
	if err := m.setToken(nt); err != nil {
		return "", err
	}
	m.o.Logger.Info("registry session refreshed")
	return registry.Secret(nt.AccessToken), nil
}

// dropSession forgets a session the registry no longer accepts.
func (m *Manager) dropSession(reason string) {
	m.mu.Lock()
	had := m.token != nil
	m.token = nil
	m.mu.Unlock()
	if err := m.o.Store.Delete(); err != nil {
		m.o.Logger.Error("could not delete the expired registry session", "err", err)
	}
	if had {
		m.o.Logger.Warn("registry session expired; sign in again", "reason", reason)
		m.notify(false)
	}
}

// Logout revokes the session at the registry (best effort), removes it from
// the keyring and the token file, and cancels logins in progress.
func (m *Manager) Logout(ctx context.Context) error {
	m.mu.Lock()
	tok := m.token
	m.token = nil
	for _, a := range m.attempts {
		m.finishLocked(a, StatusCancelled, "signed out")
	}
	m.mu.Unlock()
	if tok != nil && m.revoke != "" {
		m.revokeAtRegistry(ctx, tok)
	}
	err := m.o.Store.Delete()
	m.o.Logger.Info("signed out of the registry", "had_session", tok != nil)
	m.notify(false)
	return err
}

func (m *Manager) revokeAtRegistry(ctx context.Context, tok *oauth2.Token) {
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	for _, t := range []struct{ v, hint string }{{tok.RefreshToken, "refresh_token"}, {tok.AccessToken, "access_token"}} {
		if t.v == "" {
			continue
		}
		form := url.Values{"token": {t.v}, "token_type_hint": {t.hint}, "client_id": {m.o.ClientID}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.revoke, strings.NewReader(form.Encode()))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := m.o.HTTPClient.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			m.o.Logger.Warn("could not revoke the session at the registry; it is removed locally", "err", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			m.o.Logger.Warn("registry refused to revoke the session; it is removed locally", "status", resp.StatusCode)
		}
	}
}
