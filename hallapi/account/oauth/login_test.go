package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"hallmonitor/hallapi/account/oauth"
	"hallmonitor/hallapi/registry"
	"hallmonitor/internal/testservers/registrytest"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type env struct {
	reg    *registrytest.Server
	m      *oauth.Manager
	store  *oauth.TokenStore
	dir    string
	logs   *syncBuffer
	opened chan string
	client *registry.Client
}

// newEnv starts a test registry and a Manager whose keyring is unavailable
// (as on this machine: no Secret Service daemon), so the 0600 file is used.
func newEnv(t *testing.T, mod func(*oauth.Options)) *env {
	t.Helper()
	keyring.MockInitWithError(errors.New("no Secret Service on this bus"))
	e := &env{reg: registrytest.New(t, registrytest.Options{ClientID: oauth.DefaultClientID}), dir: t.TempDir(),
		logs: &syncBuffer{}, opened: make(chan string, 4)}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.store = oauth.NewTokenStore(e.dir, logger)
	o := oauth.Options{RegistryURL: e.reg.URL, Store: e.store, Logger: logger,
		OpenURL: func(u string) error { e.opened <- u; return nil }}
	if mod != nil {
		mod(&o)
	}
	m, err := oauth.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	e.client, err = registry.New(registry.Options{BaseURL: e.reg.URL, Logger: logger, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) openedURL(t *testing.T) string {
	t.Helper()
	select {
	case u := <-e.opened:
		return u
	case <-time.After(2 * time.Second):
		t.Fatal("OpenURL was not called")
		return ""
	}
}

func (e *env) wait(t *testing.T, id string) oauth.AttemptStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := e.m.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// assertNoSecrets fails when a token the registry issued appears in the logs.
func (e *env) assertNoSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	logs := e.logs.String()
	if logs == "" {
		t.Fatal("no logs captured; the check would prove nothing")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Fatalf("a secret appears in the logs:\n%s", logs)
		}
	}
}

func TestLoopbackLoginFullFlow(t *testing.T) {
	e := newEnv(t, nil)
	a, err := e.m.Start()
	if err != nil {
		t.Fatal(err)
	}
	if got := e.openedURL(t); got != a.AuthURL {
		t.Fatalf("OpenURL got %q, want the attempt's URL %q", got, a.AuthURL)
	}
	for _, want := range []string{"/auth/github?desktop=1&", "code_challenge_method=S256", "code_challenge=", "state=",
		"redirect_uri=http%3A%2F%2F127.0.0.1%3A"} {
		if !strings.Contains(a.AuthURL, want) {
			t.Fatalf("auth URL %q lacks %q", a.AuthURL, want)
		}
	}
	if strings.Contains(a.AuthURL, a.ID) {
		t.Fatal("the login_id must not be the state (the state is a separate secret)")
	}
	if st, _ := e.m.Status(a.ID); st.Status != oauth.StatusPending || e.m.LoggedIn() {
		t.Fatalf("before the browser: %+v", st)
	}

	page, err := registrytest.Browse(nil, a.AuthURL, true)
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != 200 || !strings.Contains(page.Body, "Signed in") || page.URL.Hostname() != "127.0.0.1" {
		t.Fatalf("callback page: %d %s %s", page.Status, page.URL, page.Body)
	}
	if st := e.wait(t, a.ID); st.Status != oauth.StatusDone {
		t.Fatalf("status %+v", st)
	}
	if !e.m.LoggedIn() {
		t.Fatal("not logged in after the callback")
	}

	// The session works against the registry and sits in a 0600 file.
	tok, err := e.m.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := e.client.Standing(context.Background(), tok); err != nil || st.GitHubLogin != "octocat" {
		t.Fatalf("standing with the new session: %+v %v", st, err)
	}
	fi, err := os.Stat(filepath.Join(e.dir, oauth.TokenFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v mode %v", err, fi.Mode())
	}

	// Replaying the callback: the one-shot listener is gone.
	if resp, err := http.Get(page.URL.String()); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("the callback accepted a replay")
		}
	}

	// A restarted Hall finds the session again.
	m2, err := oauth.New(oauth.Options{RegistryURL: e.reg.URL, Store: e.store})
	if err != nil || !m2.LoggedIn() {
		t.Fatalf("session not reloaded: %v", err)
	}

	stored, _ := e.store.Load()
	if err := e.m.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.m.LoggedIn() || e.reg.Sessions() != 0 {
		t.Fatalf("after logout: logged in %v, registry sessions %d", e.m.LoggedIn(), e.reg.Sessions())
	}
	if _, err := os.Stat(filepath.Join(e.dir, oauth.TokenFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token file still there after logout: %v", err)
	}
	if _, err := e.m.AccessToken(context.Background()); !errors.Is(err, oauth.ErrNotLoggedIn) {
		t.Fatalf("AccessToken after logout: %v", err)
	}
	e.assertNoSecrets(t, tok.Reveal(), stored.AccessToken, stored.RefreshToken)
}

func TestWrongStateIsRefusedAndLoginStaysPending(t *testing.T) {
	e := newEnv(t, nil)
	a, err := e.m.Start()
	if err != nil {
		t.Fatal(err)
	}
	// A forged callback to the loopback listener (attacker guessing): refused.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := registrytest.Browse(noFollow, a.AuthURL, true)
	if err != nil {
		t.Fatal(err)
	}
	real := page.URL
	forged := *real
	q := forged.Query()
	q.Set("state", strings.Repeat("0", 64))
	forged.RawQuery = q.Encode()
	resp, err := http.Get(forged.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("wrong state: HTTP %d, want 400", resp.StatusCode)
	}
	if st, _ := e.m.Status(a.ID); st.Status != oauth.StatusPending || e.m.LoggedIn() {
		t.Fatalf("a wrong state must not end or complete the login: %+v", st)
	}
	// The genuine callback still completes it.
	resp, err = http.Get(real.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := e.wait(t, a.ID); st.Status != oauth.StatusDone || resp.StatusCode != 200 {
		t.Fatalf("genuine callback: HTTP %d, %+v", resp.StatusCode, st)
	}
}

func TestHallCallbackModeReplayedCodeAndStates(t *testing.T) {
	// The public registry's flow: the browser comes back to the Hall's own
	// /api/auth/callback. The Hall server is simulated by an httptest-like
	// listener serving HandleCallback.
	ln := listen(t)
	cb := "http://" + ln.Addr().String() + "/api/auth/callback"
	e := newEnv(t, func(o *oauth.Options) { o.CallbackURL = cb })
	srv := &http.Server{Handler: http.HandlerFunc(e.m.HandleCallback)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	a1, _ := e.m.Start()
	a2, _ := e.m.Start()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p1, err := registrytest.Browse(noFollow, a1.AuthURL, true)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := registrytest.Browse(noFollow, a2.AuthURL, true)
	if err != nil {
		t.Fatal(err)
	}
	// Login 2's code delivered with login 1's state: bound to the wrong PKCE
	// verifier, so the registry refuses it and login 1 fails.
	mixed := *p1.URL
	q := mixed.Query()
	q.Set("code", p2.URL.Query().Get("code"))
	mixed.RawQuery = q.Encode()
	resp, err := http.Get(mixed.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := e.wait(t, a1.ID); st.Status != oauth.StatusFailed || !strings.Contains(st.Error, "PKCE") {
		t.Fatalf("a code from another login must fail on PKCE: %+v", st)
	}
	// Login 2's code was burned by that attempt: codes are single-use.
	resp, err = http.Get(p2.URL.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := e.wait(t, a2.ID); st.Status != oauth.StatusFailed || !strings.Contains(st.Error, "already used") {
		t.Fatalf("login 2 with a burned code: %+v", st)
	}
	// A clean login completes; replaying its callback is refused (state consumed).
	a3, _ := e.m.Start()
	p3, err := registrytest.Browse(nil, a3.AuthURL, true)
	if err != nil || p3.Status != 200 {
		t.Fatalf("login 3: %+v %v", p3, err)
	}
	if st := e.wait(t, a3.ID); st.Status != oauth.StatusDone {
		t.Fatalf("login 3: %+v", st)
	}
	resp, err = http.Get(p3.URL.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("replayed callback answered %d", resp.StatusCode)
	}
	// No state at all.
	resp, _ = http.Get(cb + "?code=abc")
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("callback without state answered %d", resp.StatusCode)
	}
}

func TestHallCallbackCompletesLoopbackLogin(t *testing.T) {
	// The public registry sends the browser to the Hall's /api/auth/callback
	// whatever redirect_uri it got: that completes the loopback login too.
	e := newEnv(t, nil)
	a, _ := e.m.Start()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := registrytest.Browse(noFollow, a.AuthURL, true)
	if err != nil {
		t.Fatal(err)
	}
	hall := httptest.NewServer(http.HandlerFunc(e.m.HandleCallback))
	defer hall.Close()

	rec := httptest.NewRecorder()
	e.m.HandleCallback(rec, httptest.NewRequest("GET", "/api/auth/callback?state=forged&code="+page.URL.Query().Get("code"), nil))
	if rec.Code != 400 || e.m.LoggedIn() {
		t.Fatalf("forged state at the Hall callback: %d", rec.Code)
	}
	resp, err := http.Get(hall.URL + "/api/auth/callback?" + page.URL.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := e.wait(t, a.ID); st.Status != oauth.StatusDone || resp.StatusCode != 200 {
		t.Fatalf("loopback login via the Hall callback: %d %+v", resp.StatusCode, st)
	}
	// The loopback listener closed with the login.
	time.Sleep(100 * time.Millisecond)
	if resp, err := http.Get(page.URL.String()); err == nil {
		resp.Body.Close()
		t.Fatalf("loopback listener still answering (%d) after the login ended", resp.StatusCode)
	}
}

func TestDeniedCancelledAndExpired(t *testing.T) {
	e := newEnv(t, func(o *oauth.Options) { o.Timeout = 300 * time.Millisecond })
	a, _ := e.m.Start()
	if _, err := registrytest.Browse(nil, a.AuthURL, false); err != nil {
		t.Fatal(err)
	}
	if st := e.wait(t, a.ID); st.Status != oauth.StatusFailed || !strings.Contains(st.Error, "access_denied") {
		t.Fatalf("denied: %+v", st)
	}

	b, _ := e.m.Start()
	if st, err := e.m.Cancel(b.ID); err != nil || st.Status != oauth.StatusCancelled {
		t.Fatalf("cancel: %+v %v", st, err)
	}
	page, err := registrytest.Browse(nil, b.AuthURL, true)
	if err == nil && page.Status == 200 {
		t.Fatalf("a cancelled login completed: %+v", page)
	}
	if e.m.LoggedIn() {
		t.Fatal("logged in through a cancelled login")
	}

	c, _ := e.m.Start()
	if st := e.wait(t, c.ID); st.Status != oauth.StatusExpired {
		t.Fatalf("timeout: %+v", st)
	}
	if _, err := e.m.Status("nope"); !errors.Is(err, oauth.ErrUnknownLogin) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := e.m.Cancel("nope"); !errors.Is(err, oauth.ErrUnknownLogin) {
		t.Fatalf("cancel unknown id: %v", err)
	}
}

func TestRegistryDownDuringExchange(t *testing.T) {
	e := newEnv(t, nil)
	a, _ := e.m.Start()
	e.reg.Fail(registrytest.RouteToken, registrytest.Failure{Status: 500})
	page, err := registrytest.Browse(nil, a.AuthURL, true)
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusBadGateway {
		t.Fatalf("callback page: %d", page.Status)
	}
	if st := e.wait(t, a.ID); st.Status != oauth.StatusFailed || !strings.Contains(st.Error, "500") {
		t.Fatalf("%+v", st)
	}
	if e.m.LoggedIn() {
		t.Fatal("logged in although the exchange failed")
	}
}

func TestExpiredTokenIsRefreshedThenSessionLoss(t *testing.T) {
	e := newEnv(t, nil)
	a, _ := e.m.Start()
	if _, err := registrytest.Browse(nil, a.AuthURL, true); err != nil {
		t.Fatal(err)
	}
	e.wait(t, a.ID)
	ctx := context.Background()
	old, _ := e.m.AccessToken(ctx)
	e.reg.ExpireTokens()
	if _, err := e.client.Standing(ctx, old); !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("expired token: %v", err)
	}
	changes := make(chan bool, 2)
	e.m.OnChange(func(in bool) { changes <- in })
	nt, err := e.m.Refresh(ctx, old)
	if err != nil || nt == old {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := e.client.Standing(ctx, nt); err != nil {
		t.Fatalf("refreshed token refused: %v", err)
	}
	stored, _ := e.store.Load()
	if stored.AccessToken != nt.Reveal() {
		t.Fatal("the refreshed token was not persisted")
	}
	// Revoked at the registry: the refresh fails and the session is dropped.
	e.reg.RevokeAll()
	if _, err := e.m.Refresh(ctx, nt); !errors.Is(err, oauth.ErrSessionExpired) {
		t.Fatalf("want ErrSessionExpired, got %v", err)
	}
	if e.m.LoggedIn() {
		t.Fatal("still logged in with a revoked session")
	}
	if _, err := e.store.Load(); !errors.Is(err, oauth.ErrNoToken) {
		t.Fatalf("revoked session still stored: %v", err)
	}
	select {
	case in := <-changes:
		if in {
			t.Fatal("OnChange(true) for a lost session")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("OnChange not called for the lost session")
	}
	e.assertNoSecrets(t, old.Reveal(), nt.Reveal(), stored.RefreshToken)
}

func TestDeviceFlow(t *testing.T) {
	e := newEnv(t, func(o *oauth.Options) { o.OpenURL = nil })
	d, err := e.m.StartDevice(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d.UserCode == "" || !strings.HasPrefix(d.VerificationURI, e.reg.URL) || d.Interval != 1 {
		t.Fatalf("device attempt: %+v", d)
	}
	if st, _ := e.m.Status(d.ID); st.Status != oauth.StatusPending {
		t.Fatalf("%+v", st)
	}
	if err := e.reg.DecideDevice(d.UserCode, true); err != nil {
		t.Fatal(err)
	}
	if st := e.wait(t, d.ID); st.Status != oauth.StatusDone || !e.m.LoggedIn() {
		t.Fatalf("device flow: %+v", st)
	}

	d2, err := e.m.StartDevice(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.reg.DecideDevice(d2.UserCode, false); err != nil {
		t.Fatal(err)
	}
	if st := e.wait(t, d2.ID); st.Status != oauth.StatusFailed || !strings.Contains(st.Error, "access_denied") {
		t.Fatalf("denied device flow: %+v", st)
	}
	e.reg.Fail(registrytest.RouteDevice, registrytest.Failure{Status: 503})
	if _, err := e.m.StartDevice(context.Background()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("device start with the registry down: %v", err)
	}
}

func TestOptionsErrors(t *testing.T) {
	store := oauth.NewTokenStore(t.TempDir(), nil)
	for _, o := range []oauth.Options{
		{},
		{Store: store, RegistryURL: "gopher://x"},
		{Store: store, CallbackURL: "https://example.com/api/auth/callback"},
		{Store: store, CallbackURL: "http://127.0.0.1/api/auth/callback"},
		{Store: store, Paths: registry.Paths{Token: "token"}},
	} {
		if _, err := oauth.New(o); err == nil {
			t.Errorf("%+v: accepted", o)
		}
	}
}

func TestCancelDuringCodeExchangeStoresNothing(t *testing.T) {
	e := newEnv(t, nil)
	a, _ := e.m.Start()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := registrytest.Browse(noFollow, a.AuthURL, true)
	if err != nil {
		t.Fatal(err)
	}
	e.reg.SetDelay(500 * time.Millisecond) // the token endpoint answers slowly
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get(page.URL.String())
		if err != nil {
			done <- result{0, err}
			return
		}
		resp.Body.Close()
		done <- result{resp.StatusCode, nil}
	}()
	time.Sleep(150 * time.Millisecond)
	if st, err := e.m.Cancel(a.ID); err != nil || st.Status != oauth.StatusCancelled {
		t.Fatalf("cancel: %+v %v", st, err)
	}
	r := <-done
	if r.err != nil || r.status != http.StatusConflict {
		t.Fatalf("callback after cancel: %d %v", r.status, r.err)
	}
	if e.m.LoggedIn() {
		t.Fatal("a session was kept from a cancelled login")
	}
	if _, err := e.store.Load(); !errors.Is(err, oauth.ErrNoToken) {
		t.Fatalf("a session was stored from a cancelled login: %v", err)
	}
}
