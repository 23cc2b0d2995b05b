package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallmonitor/hallapi/httpapi"
)

const ui = httpapi.UIHeader

// The UI passphrase locks the Hall's own UI (window and browser) and
// never the agents that hold the token.
func TestUIPassphraseLock(t *testing.T) {
	e := newEnv(t, testRules)
	st := e.ok(200, "GET", "/api/auth/passphrase-status", nil, ui, "1")
	if st["passphrase_set"] != false || st["locked"] != false {
		t.Fatalf("fresh status: %v", st)
	}
	e.apiErr(409, "conflict", "", "POST", "/api/auth/lock", nil) // nothing could unlock it again
	e.apiErr(400, "invalid_field", "passphrase", "POST", "/api/auth/set-passphrase", map[string]any{"passphrase": "short"})
	e.apiErr(400, "missing_field", "passphrase", "POST", "/api/auth/set-passphrase", map[string]any{})
	file := filepath.Join(e.cfgDir, "ui-passphrase")
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("a refused passphrase was stored: %v", err)
	}
	e.ok(201, "POST", "/api/auth/set-passphrase", map[string]any{"passphrase": "correct horse"})
	e.apiErr(409, "conflict", "passphrase", "POST", "/api/auth/set-passphrase", map[string]any{"passphrase": "another one"})
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("passphrase file: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(file); strings.Contains(string(b), "correct horse") {
		t.Fatal("the passphrase is stored in clear")
	}

	e.ok(200, "POST", "/api/auth/lock", nil, ui, "1")
	e.apiErr(423, "locked", "", "GET", "/api/decisions", nil, ui, "1")
	e.apiErr(423, "locked", "", "GET", "/workers", nil, ui, "1") // legacy aliases too
	if code, _, _ := e.req("GET", "/", nil, ui, "1"); code != 200 {
		t.Fatalf("the UI's page while locked: %d", code)
	}
	e.apiErr(423, "locked", "", "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")}, ui, "1")
	e.ok(200, "GET", "/api/decisions", nil)       // an agent with the token
	e.ok(200, "GET", "/api/health", nil, ui, "1") // public
	if st := e.ok(200, "GET", "/api/auth/passphrase-status", nil, ui, "1"); st["locked"] != true {
		t.Fatalf("locked status: %v", st)
	}
	// the desktop window's in-process requests are UI requests too
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/status", nil)
	httpapi.TrustedHandler(e.srv.Handler()).ServeHTTP(rec, req)
	if rec.Code != http.StatusLocked {
		t.Fatalf("window request while locked: %d %s", rec.Code, rec.Body)
	}

	e.apiErr(403, "wrong_passphrase", "passphrase", "POST", "/api/auth/unlock", map[string]any{"passphrase": "wrong horse"}, ui, "1")
	e.ok(200, "POST", "/api/auth/unlock", map[string]any{"passphrase": "correct horse"}, ui, "1")
	e.ok(200, "GET", "/api/decisions", nil, ui, "1")

	// every start begins locked
	e2 := newEnv(t, testRules, func(o *httpapi.Options) { o.ConfigDir = e.cfgDir })
	e2.apiErr(423, "locked", "", "GET", "/api/status", nil, ui, "1")

	e.apiErr(403, "wrong_passphrase", "current_passphrase", "POST", "/api/auth/change-passphrase",
		map[string]any{"current_passphrase": "nope nope", "new_passphrase": "battery staple"})
	e.apiErr(400, "invalid_field", "new_passphrase", "POST", "/api/auth/change-passphrase",
		map[string]any{"current_passphrase": "correct horse", "new_passphrase": "tiny"})
	e.ok(200, "POST", "/api/auth/change-passphrase", map[string]any{"current_passphrase": "correct horse", "new_passphrase": "battery staple"})
	e.ok(200, "POST", "/api/auth/lock", nil)
	e.apiErr(403, "wrong_passphrase", "passphrase", "POST", "/api/auth/unlock", map[string]any{"passphrase": "correct horse"})
	e.ok(200, "POST", "/api/auth/unlock", map[string]any{"passphrase": "battery staple"})
	e.ok(200, "POST", "/api/auth/remove-passphrase", map[string]any{"current_passphrase": "battery staple"})
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("removed passphrase still on disk: %v", err)
	}
	e.ok(200, "GET", "/api/status", nil, ui, "1")
}

// Guessing is slowed down: after five wrong passphrases each try waits.
func TestUIPassphraseBackoff(t *testing.T) {
	e := newEnv(t, testRules)
	e.ok(201, "POST", "/api/auth/set-passphrase", map[string]any{"passphrase": "correct horse"})
	e.ok(200, "POST", "/api/auth/lock", nil)
	for range 5 {
		e.apiErr(403, "wrong_passphrase", "passphrase", "POST", "/api/auth/unlock", map[string]any{"passphrase": "guess guess"})
	}
	e.apiErr(429, "rate_limited", "passphrase", "POST", "/api/auth/unlock", map[string]any{"passphrase": "correct horse"})
	if st := e.ok(200, "GET", "/api/auth/passphrase-status", nil); st["retry_after_seconds"].(float64) < 1 || st["locked"] != true {
		t.Fatalf("status during back-off: %v", st)
	}
}

// Locking ends the UI's open event streams at once: a waiting long-poll
// answers 423 and an SSE stream closes; the CLI's (admin credential, not UI)
// stream goes on.
func TestLockEndsUIStreams(t *testing.T) {
	e := newEnv(t, testRules)
	e.ok(201, "POST", "/api/auth/set-passphrase", map[string]any{"passphrase": "correct horse"})
	poll := make(chan int, 1)
	go func() {
		code, _, _ := e.req("GET", "/api/events?since=999999&timeout=30", nil, ui, "1")
		poll <- code
	}()
	sse, err := http.NewRequest("GET", e.base+"/api/events?since=999999", nil)
	if err != nil {
		t.Fatal(err)
	}
	sse.Header.Set("Authorization", "Bearer "+e.token)
	sse.Header.Set("Accept", "text/event-stream")
	sse.Header.Set(ui, "1")
	resp, err := http.DefaultClient.Do(sse)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("SSE: %v %v", resp, err)
	}
	defer resp.Body.Close()
	cli := make(chan int, 1)
	go func() {
		code, _, _ := e.req("GET", "/api/events?since=999999&timeout=2", nil)
		cli <- code
	}()
	time.Sleep(300 * time.Millisecond) // the streams are open
	e.ok(200, "POST", "/api/auth/lock", nil)
	select {
	case code := <-poll:
		if code != http.StatusLocked {
			t.Fatalf("the UI's long-poll answered %d on lock, want 423", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the UI's long-poll stayed open after the lock")
	}
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); done <- err }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the UI's SSE stream stayed open after the lock")
	}
	if code := <-cli; code != http.StatusOK {
		t.Fatalf("the CLI's long-poll (not UI) answered %d", code)
	}
}
