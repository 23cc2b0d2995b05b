package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"hallmonitor/hallapi/store"
)

// Each link of the outer chain, tested alone over a handler that records
// whether it was reached.
func TestMiddlewareLinks(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Server{st: st, log: slog.New(slog.DiscardHandler), hosts: map[string]bool{}, ports: map[string]bool{"8765": true}}
	reached := false
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })
	do := func(h http.Handler, r *http.Request) int {
		reached = false
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	req := func(host, origin string) *http.Request {
		r := httptest.NewRequest("GET", "http://"+host+"/api/status", nil)
		r.Host = host
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	for _, tc := range []struct {
		name   string
		h      http.Handler
		r      *http.Request
		status int
		reach  bool
	}{
		{"host: loopback port", s.checkHost(next), req("127.0.0.1:8765", ""), 200, true},
		{"host: localhost", s.checkHost(next), req("localhost:8765", ""), 200, true},
		{"host: rebinding name", s.checkHost(next), req("evil.example:8765", ""), 403, false},
		{"host: other port", s.checkHost(next), req("127.0.0.1:9999", ""), 403, false},
		{"host: the window needs none", s.checkHost(next), req("wails.localhost", "").WithContext(context.WithValue(context.Background(), trustedKey{}, true)), 200, true},
		{"origin: none (a CLI)", s.checkOrigin(next), req("127.0.0.1:8765", ""), 200, true},
		{"origin: the Hall's page", s.checkOrigin(next), req("127.0.0.1:8765", "http://127.0.0.1:8765"), 200, true},
		{"origin: the window", s.checkOrigin(next), req("127.0.0.1:8765", "wails://wails"), 200, true},
		{"origin: another site", s.checkOrigin(next), req("127.0.0.1:8765", "http://evil.example"), 403, false},
	} {
		if got := do(tc.h, tc.r); got != tc.status || reached != tc.reach {
			t.Errorf("%s: %d (reached %v), want %d (%v)", tc.name, got, reached, tc.status, tc.reach)
		}
	}
	rec := httptest.NewRecorder()
	securityHeaders(next).ServeHTTP(rec, req("127.0.0.1:8765", ""))
	if rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("security headers: %v", rec.Header())
	}
	rec = httptest.NewRecorder()
	s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })).ServeHTTP(rec, req("127.0.0.1:8765", ""))
	if rec.Code != 500 {
		t.Errorf("a panic answered %d, want 500", rec.Code)
	}
}
