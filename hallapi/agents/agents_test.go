package agents

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
)

func newService(t *testing.T) (*Service, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, nil), st
}

var person = principal.With(context.Background(), principal.Principal{Kind: principal.Person, Name: "octocat", Via: principal.ViaCLI})

func TestNamesAndScope(t *testing.T) {
	s, _ := newService(t)
	for _, tc := range []struct {
		name, code string
	}{{"", apierr.MissingField}, {"has space", apierr.InvalidField}, {"-dash-first", apierr.InvalidField},
		{"person-x", apierr.InvalidField}, {strings.Repeat("a", 65), apierr.InvalidField}} {
		_, _, err := s.Create(person, tc.name)
		var e *apierr.Error
		if !errors.As(err, &e) || e.Code != tc.code || e.Field != "name" {
			t.Errorf("name %q: %v, want %s on name", tc.name, err, tc.code)
		}
	}
	agent := principal.With(context.Background(), principal.Principal{Kind: principal.Agent, Name: "ci"})
	for what, call := range map[string]func() error{
		"create": func() error { _, _, err := s.Create(agent, "x"); return err },
		"list":   func() error { _, err := s.List(agent); return err },
		"rotate": func() error { _, _, err := s.Rotate(agent, "agt_x"); return err },
		"revoke": func() error { _, err := s.Revoke(agent, "agt_x"); return err },
		"no one": func() error { _, err := s.List(context.Background()); return err },
	} {
		var e *apierr.Error
		if err := call(); !errors.As(err, &e) || e.Code != apierr.Forbidden {
			t.Errorf("%s by an agent: %v, want forbidden_scope", what, err)
		}
	}
}

// A token authenticates as its agent; only its hash is stored; rotation and
// revocation end it, in this process at once and in any other within CacheTTL.
func TestTokenLifecycle(t *testing.T) {
	s, st := newService(t)
	a, tok, err := s.Create(person, "ci-bot")
	if err != nil || !strings.HasPrefix(tok, TokenPrefix) || a.CreatedBy != "person:octocat" {
		t.Fatalf("create: %+v %q %v", a, tok, err)
	}
	if _, _, err := s.Create(person, "ci-bot"); err == nil {
		t.Fatal("two active agents share a name")
	}
	p, ok := s.Authenticate(context.Background(), tok)
	if !ok || p.Name != "ci-bot" || p.IsPerson() || p.AgentID != a.AgentID {
		t.Fatalf("authenticate: %+v %v", p, ok)
	}
	if _, ok := s.Authenticate(context.Background(), tok+"x"); ok {
		t.Fatal("a wrong token authenticated")
	}
	if _, err := st.AgentAccountByTokenHash(context.Background(), tok); err == nil {
		t.Fatal("the token itself is stored")
	}
	other := New(st, nil) // another process with its own cache
	other.now = func() time.Time { return time.Now() }
	if _, ok := other.Authenticate(context.Background(), tok); !ok {
		t.Fatal("another process does not see the agent")
	}
	_, fresh, err := s.Rotate(person, a.AgentID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Authenticate(context.Background(), tok); ok {
		t.Fatal("the rotated-away token still works in the rotating process")
	}
	other.now = func() time.Time { return time.Now().Add(CacheTTL + time.Millisecond) } // its cache entry has aged out
	if _, ok := other.Authenticate(context.Background(), tok); ok {
		t.Fatal("the rotated-away token still works in another process after CacheTTL")
	}
	if _, ok := other.Authenticate(context.Background(), fresh); !ok {
		t.Fatal("the new token does not work")
	}
	if _, err := s.Revoke(person, a.AgentID); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Authenticate(context.Background(), fresh); ok {
		t.Fatal("a revoked token works")
	}
	if _, err := s.Revoke(person, a.AgentID); err == nil {
		t.Fatal("revoked twice")
	}
	if _, _, err := s.Create(person, "ci-bot"); err != nil {
		t.Fatalf("the name of a revoked agent cannot be used again: %v", err)
	}
}
