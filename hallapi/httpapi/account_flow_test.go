package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"hallmonitor/hallapi/account"
	"hallmonitor/hallapi/account/oauth"
	"hallmonitor/hallapi/registry"
	"hallmonitor/hallapi/store"
	"hallmonitor/internal/testservers/halltest"
	"hallmonitor/internal/testservers/registrytest"
)

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

type acctEnv struct {
	reg   *registrytest.Server
	svc   *account.Service
	login *oauth.Manager
	st    *store.Store
	api   *halltest.Hall // the Hall API, with the account mounted
	logs  *syncBuffer
	now   time.Time
	mu    sync.Mutex
}

func (e *acctEnv) clock() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }
func (e *acctEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func newAcctEnv(t *testing.T, user *registrytest.User) *acctEnv {
	t.Helper()
	keyring.MockInitWithError(errors.New("no Secret Service"))
	e := &acctEnv{reg: registrytest.New(t, registrytest.Options{User: user}), logs: &syncBuffer{}, now: time.Now()}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.login, err = oauth.New(oauth.Options{RegistryURL: e.reg.URL, Store: oauth.NewTokenStore(dir, logger), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := registry.New(registry.Options{BaseURL: e.reg.URL, Logger: logger, Backoff: 5 * time.Millisecond, MaxRetries: 1, Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = account.New(account.Options{Login: e.login, Registry: rc, Publisher: st, Logger: logger, Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.api = serveAccount(t, e.svc)
	return e
}

func (e *acctEnv) do(t *testing.T, method, path, body string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.api.Base+path, rd)
	req.Header.Set("Authorization", "Bearer "+string(e.api.Server.AdminToken()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: not JSON: %v", method, path, err)
	}
	return resp.StatusCode, m, resp.Header
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// signIn runs the whole browser login over HTTP: POST /api/auth/login, the
// simulated browser on the registry's authorize page, the loopback callback,
// then polls GET /api/auth/login/{id} like the UI.
func (e *acctEnv) signIn(t *testing.T) {
	t.Helper()
	status, a, _ := e.do(t, "POST", "/api/auth/login", "{}")
	if status != 200 || a["login_id"] == "" || a["auth_url"] == "" || a["expires_at"] == "" {
		t.Fatalf("login start: %d %v", status, a)
	}
	if _, leaked := a["token"]; leaked {
		t.Fatal("login answer carries a token")
	}
	page, err := registrytest.Browse(nil, a["auth_url"].(string), true)
	if err != nil || page.Status != 200 {
		t.Fatalf("browser: %+v %v", page, err)
	}
	id := a["login_id"].(string)
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, st, _ := e.do(t, "GET", "/api/auth/login/"+id, "")
		if status != 200 {
			t.Fatalf("login status: %d %v", status, st)
		}
		if st["status"] == "done" {
			if len(st) != 1 {
				t.Fatalf("login status must carry only the status, got %v", st)
			}
			break
		}
		if st["status"] != "pending" || time.Now().After(deadline) {
			t.Fatalf("login ended %v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The OnChange hook loads the profile in the background; wait for it.
	for deadline := time.Now().Add(5 * time.Second); e.svc.GitHubLogin() == ""; {
		if time.Now().After(deadline) {
			t.Fatal("profile not loaded after sign-in")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *acctEnv) eventTypes(t *testing.T) []string {
	t.Helper()
	evs, err := e.st.EventsSince(context.Background(), 0, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type+":"+string(ev.Data))
	}
	return out
}

// waitEvent waits until a recorded event contains want.
func (e *acctEnv) waitEvent(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := strings.Join(e.eventTypes(t), "\n")
		if strings.Contains(evs, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event contains %s:\n%s", want, evs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSignInProfileGoOnlineOfflineLogout(t *testing.T) {
	e := newAcctEnv(t, nil)
	status, p, _ := e.do(t, "GET", "/api/profile", "")
	if status != 200 || p["logged_in"] != false || len(p["namespaces"].([]any)) != 0 {
		t.Fatalf("profile before sign-in: %v", p)
	}
	if status, m, _ := e.do(t, "POST", "/api/server/go-online", ""); status != 409 || errCode(m) != account.CodeNotLoggedIn {
		t.Fatalf("go-online signed out: %d %v", status, m)
	}

	e.signIn(t)
	status, p, _ = e.do(t, "GET", "/api/profile", "")
	if status != 200 || p["logged_in"] != true || p["github_login"] != "octocat" || p["tier"] != "indie" ||
		!strings.HasPrefix(p["avatar_url"].(string), "https://") {
		t.Fatalf("profile: %v", p)
	}
	ns := p["namespaces"].([]any)
	if len(ns) != 2 || ns[0].(map[string]any)["kind"] != "x" || ns[1].(map[string]any)["kind"] != "org" ||
		ns[0].(map[string]any)["worker_count"] != 2.0 || ns[0].(map[string]any)["public"] != true {
		t.Fatalf("namespaces: %v", ns)
	}
	if sv := p["standing"].(map[string]any); sv["standing"] != "ok" || sv["checked_at"] == nil || sv["grace_seconds_remaining"] != nil {
		t.Fatalf("standing: %v", sv)
	}

	status, m, _ := e.do(t, "POST", "/api/server/go-online", `{"desktop_hash":"sha256:`+strings.Repeat("ab", 32)+`"}`)
	if status != 200 || m["ok"] != true || m["account_standing"] != "ok" || m["tier"] != "indie" || !e.svc.Online() {
		t.Fatalf("go-online: %d %v", status, m)
	}
	if status, m, _ := e.do(t, "POST", "/api/server/go-offline", ""); status != 200 || m["ok"] != true || e.svc.Online() {
		t.Fatalf("go-offline: %d %v", status, m)
	}
	if status, m, _ := e.do(t, "POST", "/api/server/go-offline", ""); status != 200 || m["ok"] != true {
		t.Fatalf("go-offline twice: %d %v", status, m)
	}

	status, m, _ = e.do(t, "POST", "/api/auth/logout", "")
	if status != 200 || m["logged_out"] != true || e.svc.LoggedIn() || e.reg.Sessions() != 0 {
		t.Fatalf("logout: %d %v sessions=%d", status, m, e.reg.Sessions())
	}
	for deadline := time.Now().Add(5 * time.Second); e.svc.GitHubLogin() != ""; {
		if time.Now().After(deadline) {
			t.Fatal("identity kept after logout")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, p, _ = e.do(t, "GET", "/api/profile", ""); p["logged_in"] != false || p["github_login"] != "" {
		t.Fatalf("profile after logout: %v", p)
	}

	for _, want := range []string{`auth.changed:{"github_login":"octocat","logged_in":true}`, `"online":true`, `"standing":"ok"`,
		`auth.changed:{"github_login":"","logged_in":false}`} {
		e.waitEvent(t, want)
	}
	if strings.Contains(e.logs.String(), "rat_") || strings.Contains(e.logs.String(), "rrt_") {
		t.Fatalf("a token reached the log:\n%s", e.logs.String())
	}
}

func TestSuspendedAccountCannotGoOnline(t *testing.T) {
	u := registrytest.DefaultUser()
	u.Standing = registry.StandingSuspended
	e := newAcctEnv(t, &u)
	e.signIn(t)
	status, m, _ := e.do(t, "POST", "/api/server/go-online", "{}")
	if status != 403 || errCode(m) != "standing_forbids" || m["account_standing"] != "suspended" || e.svc.Online() {
		t.Fatalf("suspended go-online: %d %v", status, m)
	}
	e.reg.SetStanding(registry.StandingDegraded, 0)
	if status, m, _ := e.do(t, "POST", "/api/server/go-online", ""); status != 403 || m["account_standing"] != "degraded" {
		t.Fatalf("degraded go-online: %d %v", status, m)
	}
	if v := e.svc.Standing(); v.Standing != "degraded" {
		t.Fatalf("standing kept: %+v", v)
	}
}

func TestGraceCountdownAndStandingDropTakesHallOffline(t *testing.T) {
	u := registrytest.DefaultUser()
	u.Standing, u.GraceSeconds = registry.StandingGrace, 600
	e := newAcctEnv(t, &u)
	e.signIn(t)
	status, m, _ := e.do(t, "POST", "/api/server/go-online", "")
	if status != 200 || m["account_standing"] != "grace" || m["grace_seconds_remaining"] != 600.0 {
		t.Fatalf("grace go-online: %d %v", status, m)
	}
	e.advance(100 * time.Second)
	// The sign-in's own standing read may land a fraction of a second after the
	// test clock's start, so the age is 99 or 100 s; the countdown follows it.
	if v := e.svc.Standing(); v.GraceSecondsRemaining == nil || *v.GraceSecondsRemaining != 600-v.AgeSeconds || v.AgeSeconds < 99 || v.AgeSeconds > 100 {
		t.Fatalf("countdown: %+v", v)
	}
	e.advance(time.Hour)
	if v := e.svc.Standing(); v.GraceSecondsRemaining == nil || *v.GraceSecondsRemaining != 0 {
		t.Fatalf("countdown below zero: %+v", v)
	}
	e.reg.SetStanding(registry.StandingSuspended, 0)
	if _, err := e.svc.CheckStanding(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.svc.Online() {
		t.Fatal("a suspended account stayed online")
	}
	// The drop is an event (the account's background loop may add others after it).
	evs := e.eventTypes(t)
	found := false
	for _, ev := range evs {
		if strings.HasPrefix(ev, "standing.changed:") && strings.Contains(ev, `"standing":"suspended"`) && strings.Contains(ev, `"online":false`) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no standing.changed event going offline as suspended in %v", evs)
	}
}

func TestGoOnlineRegistryErrors(t *testing.T) {
	e := newAcctEnv(t, nil)
	e.signIn(t)
	cases := []struct {
		status   int
		wantHTTP int
		wantCode string
	}{
		{500, 503, "registry_unavailable"},
		{403, 403, "standing_forbids"},
		{429, 429, "rate_limited"}, // last: the client then waits out Retry-After
	}
	for _, c := range cases {
		e.reg.Fail(registrytest.RouteStanding, registrytest.Failure{Status: c.status, RetryAfter: 30 * time.Second})
		status, m, h := e.do(t, "POST", "/api/server/go-online", "")
		if status != c.wantHTTP || errCode(m) != c.wantCode || e.svc.Online() {
			t.Fatalf("registry %d: got %d %v", c.status, status, m)
		}
		if c.status == 429 && h.Get("Retry-After") != "30" {
			t.Fatalf("Retry-After not passed on: %q", h.Get("Retry-After"))
		}
		e.reg.ClearFailures()
	}
	// The last known standing stays, with the error and its age.
	v := e.svc.Standing()
	if v.Standing != "ok" || v.Error == "" {
		t.Fatalf("last known standing: %+v", v)
	}
}

func TestExpiredSessionIsRefreshedAndRevokedSessionSignsOut(t *testing.T) {
	e := newAcctEnv(t, nil)
	e.signIn(t)
	e.reg.ExpireTokens()
	if status, m, _ := e.do(t, "POST", "/api/server/go-online", ""); status != 200 {
		t.Fatalf("go-online with an expired (refreshable) token: %d %v", status, m)
	}
	e.reg.RevokeAll()
	status, m, _ := e.do(t, "POST", "/api/server/go-online", "")
	if status != 409 || errCode(m) != account.CodeNotLoggedIn || !strings.Contains(m["error"].(map[string]any)["message"].(string), "sign in") {
		t.Fatalf("revoked session: %d %v", status, m)
	}
	if e.svc.LoggedIn() || e.svc.Online() {
		t.Fatal("a revoked session must sign the Hall out and take it offline")
	}
}

func TestRequestValidation(t *testing.T) {
	e := newAcctEnv(t, nil)
	e.signIn(t)
	for _, c := range []struct{ path, body, code, field string }{
		{"/api/server/go-online", `{"desktop_hash":"nothex"}`, "invalid_field", "desktop_hash"},
		{"/api/server/go-online", `{"desktop":"x"}`, "unknown_field", "desktop"},
		{"/api/server/go-online", `{`, "bad_json", ""},
		{"/api/auth/login", `{"token":"x"}`, "unknown_field", "token"},
	} {
		status, m, _ := e.do(t, "POST", c.path, c.body)
		ef := m["error"].(map[string]any)
		if status != 400 || ef["code"] != c.code || ef["field"] != c.field {
			t.Errorf("%s %s: %d %v", c.path, c.body, status, m)
		}
	}
	if status, m, _ := e.do(t, "GET", "/api/auth/login/unknown", ""); status != 404 || errCode(m) != "not_found" {
		t.Fatalf("unknown login id: %d %v", status, m)
	}
	status, a, _ := e.do(t, "POST", "/api/auth/login", "")
	if status != 200 {
		t.Fatal(a)
	}
	if status, m, _ := e.do(t, "DELETE", "/api/auth/login/"+a["login_id"].(string), ""); status != 200 || m["status"] != "cancelled" {
		t.Fatalf("cancel: %d %v", status, m)
	}
}

func TestDeviceLoginOverHTTP(t *testing.T) {
	e := newAcctEnv(t, nil)
	status, d, _ := e.do(t, "POST", "/api/auth/device", "")
	if status != 200 || d["user_code"] == "" || d["verification_uri"] == "" {
		t.Fatalf("device start: %d %v", status, d)
	}
	// The user opens the verification page and approves (form POST, as a browser).
	resp, err := http.PostForm(d["verification_uri"].(string), map[string][]string{"user_code": {d["user_code"].(string)}, "decision": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("verification page: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, st, _ := e.do(t, "GET", "/api/auth/login/"+d["login_id"].(string), "")
		if st["status"] == "done" {
			break
		}
		if st["status"] != "pending" || time.Now().After(deadline) {
			t.Fatalf("device login: %v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !e.svc.LoggedIn() {
		t.Fatal("not signed in after the device flow")
	}
}

func TestRegistryProxies(t *testing.T) {
	e := newAcctEnv(t, nil)
	e.reg.PutWorker(registry.VerifyResponse{WorkerID: "org.acme/evil", Status: "banned", Banned: true, BanReason: "malware"})
	e.reg.Ban(registry.BanEntry{SHA256: strings.Repeat("c", 64), Reason: "malware"})

	status, v, _ := e.do(t, "GET", "/wcp/registry/verify/org.acme%2Fevil", "")
	if status != 200 || v["banned"] != true || v["status"] != "banned" || v["cached"] != false || v["checked_at"] == nil {
		t.Fatalf("verify: %d %v", status, v)
	}
	status, v, _ = e.do(t, "GET", "/wcp/registry/verify/org.acme%2Fevil", "")
	if status != 200 || v["cached"] != true {
		t.Fatalf("second verify not cached: %v", v)
	}
	if status, v, _ = e.do(t, "GET", "/wcp/registry/verify/x.nobody", ""); status != 200 || v["status"] != "unknown" || v["banned"] != false {
		t.Fatalf("unknown worker: %d %v", status, v)
	}
	status, b, _ := e.do(t, "GET", "/wcp/registry/ban-list?limit=10", "")
	if status != 200 || len(b["entries"].([]any)) != 1 || b["cached"] != false {
		t.Fatalf("ban list: %d %v", status, b)
	}
	if status, m, _ := e.do(t, "GET", "/wcp/registry/ban-list?limit=0", ""); status != 400 || errCode(m) != "invalid_field" {
		t.Fatalf("bad limit: %d %v", status, m)
	}

	// Registry down: the last known answer, marked stale, with the error; a
	// never-seen worker is a 503 (never a silent "unknown").
	e.reg.Fail(registrytest.RouteAll, registrytest.Failure{Status: 500})
	if status, m, _ := e.do(t, "GET", "/wcp/registry/verify/x.never", ""); status != 503 || errCode(m) != "registry_unavailable" {
		t.Fatalf("registry down, nothing cached: %d %v", status, m)
	}
	e.reg.Fail(registrytest.RouteAll, registrytest.Failure{Status: 429, RetryAfter: time.Minute})
	status, m, h := e.do(t, "GET", "/wcp/registry/verify/x.never2", "")
	if status != 429 || errCode(m) != "rate_limited" || h.Get("Retry-After") != "60" {
		t.Fatalf("rate limited: %d %v %v", status, m, h)
	}
}

func TestOfflineVerifyServesStale(t *testing.T) {
	e := newAcctEnv(t, nil)
	e.reg.PutWorker(registry.VerifyResponse{WorkerID: "x.a.w", Status: "active", CurrentHash: "sha256:ff"})
	if status, _, _ := e.do(t, "GET", "/wcp/registry/verify/x.a.w", ""); status != 200 {
		t.Fatal(status)
	}
	// Outlive the cache TTL (the registry client uses the real clock).
	rc, err := registry.New(registry.Options{BaseURL: e.reg.URL, CacheTTL: time.Millisecond, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := account.New(account.Options{Login: e.login, Registry: rc})
	if err != nil {
		t.Fatal(err)
	}
	e.api = serveAccount(t, svc)
	get := func() (int, map[string]any) {
		code, m, _ := e.do(t, "GET", "/wcp/registry/verify/x.a.w", "")
		return code, m
	}
	if code, _ := get(); code != 200 {
		t.Fatal(code)
	}
	time.Sleep(5 * time.Millisecond)
	e.reg.Fail(registrytest.RouteVerify, registrytest.Failure{Status: 502})
	code, m := get()
	if code != 200 || m["stale"] != true || m["cached"] != true || m["current_hash"] != "sha256:ff" || !strings.Contains(m["error"].(string), "502") {
		t.Fatalf("stale answer: %d %v", code, m)
	}
}

// serveAccount serves a real Hall API with svc's routes mounted, as app/hall
// does.
func serveAccount(t *testing.T, svc *account.Service) *halltest.Hall {
	t.Helper()
	return halltest.Start(t, halltest.Options{Mount: func(_ context.Context, h *halltest.Hall) (func(), error) {
		h.Server.MountAccount(svc)
		return nil, nil
	}})
}
