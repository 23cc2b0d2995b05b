// Package agents keeps the agents' credentials: each agent (an AI agent, an
// SDK, an MCP client) has its own named token, which the person creates,
// rotates and revokes. Only a SHA-256 hash of a token is stored, in the
// Hall's database, so every process that shares the database (the window,
// `serve`, `mcp --http`) sees a rotation or a revocation: a lookup is cached
// for at most CacheTTL.
package agents

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/coord"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
)

// TokenPrefix starts every agent token, so a pasted token says what it is.
const TokenPrefix = "hma_"

// CacheTTL bounds how long a token lookup is reused: a revoked or rotated
// token stops working in every process within this time.
const CacheTTL = 500 * time.Millisecond

// DefaultAgent is the agent the api-token of a Hall from before agents
// becomes on upgrade (and that the setup wizard's token belongs to).
const DefaultAgent = "default"

// Service creates, lists, rotates, revokes and authenticates agent tokens.
type Service struct {
	st  *store.Store
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cached // token hash -> lookup
}

type cached struct {
	agent store.AgentAccount
	at    time.Time
}

// New builds a Service over st.
func New(st *store.Store, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, log: log, now: time.Now, cache: map[string]cached{}}
}

// Hash is the stored form of a token.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newToken() (token, hint string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	token = TokenPrefix + hex.EncodeToString(b)
	return token, hintOf(token)
}

func hintOf(token string) string {
	if len(token) < 8 {
		return "…"
	}
	return token[:min(4, len(token))] + "…" + token[len(token)-4:]
}

// ValidateName checks an agent name: 1 to 64 letters, digits, '.', '_' or
// '-', starting with a letter or digit.
func ValidateName(name string) *apierr.Error {
	if name == "" {
		return apierr.New(apierr.MissingField, "name", "name is required: what the agent is, e.g. claude-desktop or ci-bot")
	}
	// An agent's name is its id on the coordination board: the board's rule.
	if coord.ValidAgentID("name", name) != nil || strings.HasPrefix(name, "person") {
		return apierr.New(apierr.InvalidField, "name", "name %s must be 1 to 64 letters, digits, '.', '_' or '-', start with a letter or digit, and not start with \"person\"", apierr.Quote(name))
	}
	return nil
}

func requirePerson(ctx context.Context, what string) (principal.Principal, *apierr.Error) {
	p, ok := principal.From(ctx)
	if !ok || !p.IsPerson() {
		return p, apierr.New(apierr.Forbidden, "", "%s needs the person's scope (agents): an agent token cannot manage agent tokens", what)
	}
	return p, nil
}

// Create makes a new agent and returns its token (shown once).
func (s *Service) Create(ctx context.Context, name string) (store.AgentAccount, string, error) {
	p, e := requirePerson(ctx, "creating an agent token")
	if e != nil {
		return store.AgentAccount{}, "", e
	}
	if e := ValidateName(name); e != nil {
		return store.AgentAccount{}, "", e
	}
	tok, hint := newToken()
	a, err := s.st.CreateAgentAccount(ctx, name, Hash(tok), hint, p.Label())
	if errors.Is(err, store.ErrNameTaken) {
		return a, "", apierr.New(apierr.Conflict, "name", "an active agent is already named %s: pick another name, or rotate that agent's token", apierr.Quote(name))
	}
	return a, tok, err
}

// Import stores token as agent name's token (the api-token of a Hall from
// before agents), unless an agent already uses it or has the name.
func (s *Service) Import(ctx context.Context, name, token string) error {
	if _, err := s.st.AgentAccountByTokenHash(ctx, Hash(token)); err == nil {
		return nil // read first: most starts write nothing
	}
	return s.st.ImportAgentAccount(ctx, name, Hash(token), hintOf(token))
}

// List lists every agent (revoked ones too, marked).
func (s *Service) List(ctx context.Context) ([]store.AgentAccount, error) {
	if _, e := requirePerson(ctx, "listing agent tokens"); e != nil {
		return nil, e
	}
	return s.st.ListAgentAccounts(ctx)
}

// Find returns the id of the active agent called nameOrID (or with that
// id); "" when there is none.
func (s *Service) Find(ctx context.Context, nameOrID string) (string, error) {
	as, err := s.List(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range as {
		if a.Active() && (a.Name == nameOrID || a.AgentID == nameOrID) {
			return a.AgentID, nil
		}
	}
	return "", nil
}

// RotateOrCreate gives the agent called name a new token: a rotation when
// it is active (the old token stops working), else a new agent.
func (s *Service) RotateOrCreate(ctx context.Context, name string) (string, error) {
	id, err := s.Find(ctx, name)
	if err != nil {
		return "", err
	}
	var tok string
	if id != "" {
		_, tok, err = s.Rotate(ctx, id)
	} else {
		_, tok, err = s.Create(ctx, name)
	}
	return tok, err
}

// Rotate gives an agent a new token; the old one stops working.
func (s *Service) Rotate(ctx context.Context, id string) (store.AgentAccount, string, error) {
	p, e := requirePerson(ctx, "rotating an agent token")
	if e != nil {
		return store.AgentAccount{}, "", e
	}
	tok, hint := newToken()
	a, err := s.st.RotateAgentAccount(ctx, id, Hash(tok), hint, p.Label())
	s.forget()
	return a, tok, s.storeErr(err, id)
}

// Revoke ends an agent's token for good.
func (s *Service) Revoke(ctx context.Context, id string) (store.AgentAccount, error) {
	p, e := requirePerson(ctx, "revoking an agent token")
	if e != nil {
		return store.AgentAccount{}, e
	}
	a, err := s.st.RevokeAgentAccount(ctx, id, p.Label())
	s.forget()
	return a, s.storeErr(err, id)
}

func (s *Service) storeErr(err error, id string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierr.New(apierr.NotFound, "agent_id", "no agent %s", apierr.Quote(id))
	case errors.Is(err, store.ErrConflict):
		return apierr.New(apierr.Conflict, "agent_id", "%v", err)
	}
	return err
}

// forget drops this process's cached lookups (other processes age theirs
// out within CacheTTL).
func (s *Service) forget() {
	s.mu.Lock()
	clear(s.cache)
	s.mu.Unlock()
}

// Authenticate returns the agent whose token this is; false for an unknown,
// rotated or revoked token.
func (s *Service) Authenticate(ctx context.Context, token string) (principal.Principal, bool) {
	if !strings.HasPrefix(token, TokenPrefix) && len(token) != 64 {
		return principal.Principal{}, false // neither an agent token nor a pre-agents api-token
	}
	h := Hash(token)
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[h]
	s.mu.Unlock()
	if !ok || now.Sub(c.at) > CacheTTL {
		a, err := s.st.AgentAccountByTokenHash(ctx, h)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				s.log.Warn("agent token lookup failed", "err", err)
			}
			return principal.Principal{}, false
		}
		c = cached{agent: a, at: now}
		s.mu.Lock()
		if len(s.cache) > 1024 {
			clear(s.cache)
		}
		s.cache[h] = c
		s.mu.Unlock()
		s.touch(a, now)
	}
	return principal.Principal{Kind: principal.Agent, Name: c.agent.Name, AgentID: c.agent.AgentID, Via: principal.ViaAgent}, true
}

// touch records last use at most once a minute per agent.
func (s *Service) touch(a store.AgentAccount, now time.Time) {
	if a.LastUsedAt != nil {
		if t, err := time.Parse(time.RFC3339Nano, *a.LastUsedAt); err == nil && now.Sub(t) < time.Minute {
			return
		}
	}
	go func() {
		if err := s.st.TouchAgentAccount(context.Background(), a.AgentID); err != nil {
			s.log.Debug("record agent use", "err", err)
		}
	}()
}

// SameToken compares two secrets in constant time.
func SameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
