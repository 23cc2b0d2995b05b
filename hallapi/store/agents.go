package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"hallmonitor/hallapi/events"
)

// AgentAccount is a named agent principal and its credential (the token itself is never stored: only
// its SHA-256 hash and a hint of its last characters).
type AgentAccount struct {
	AgentID    string  `json:"agent_id"`
	Name       string  `json:"name"`
	TokenHint  string  `json:"token_hint"`
	CreatedAt  string  `json:"created_at"`
	CreatedBy  string  `json:"created_by"`
	LastUsedAt *string `json:"last_used_at"`
	RevokedAt  *string `json:"revoked_at"`
	RevokedBy  string  `json:"revoked_by"`
}

// Active reports whether the agent's token still works.
func (a AgentAccount) Active() bool { return a.RevokedAt == nil }

const agentAccountCols = `agent_id, name, token_hint, created_at, created_by, last_used_at, revoked_at, revoked_by`

func scanAgentAccount(sc scanner) (AgentAccount, error) {
	var a AgentAccount
	var used, revoked string
	if err := sc.Scan(&a.AgentID, &a.Name, &a.TokenHint, &a.CreatedAt, &a.CreatedBy, &used, &revoked, &a.RevokedBy); err != nil {
		return a, err
	}
	if used != "" {
		a.LastUsedAt = &used
	}
	if revoked != "" {
		a.RevokedAt = &revoked
	}
	return a, nil
}

// ErrNameTaken reports an active agent with the same name.
var ErrNameTaken = errors.New("an active agent already has this name")

// CreateAgentAccount stores a new agent with the hash of its token.
func (s *Store) CreateAgentAccount(ctx context.Context, name, tokenHash, hint, by string) (AgentAccount, error) {
	var a AgentAccount
	err := s.Write(ctx, func(t *Tx) error {
		a = AgentAccount{AgentID: NewID("agt"), Name: name, TokenHint: hint, CreatedAt: formatTime(t.now), CreatedBy: by}
		if _, err := t.tx.Exec(`INSERT INTO agents(agent_id, name, token_hash, token_hint, created_at, created_by) VALUES (?,?,?,?,?,?)`,
			a.AgentID, name, tokenHash, hint, a.CreatedAt, by); err != nil {
			if strings.Contains(err.Error(), "UNIQUE") && strings.Contains(err.Error(), "agents.name") {
				return ErrNameTaken
			}
			return err
		}
		_, err := t.Emit(events.AgentChanged, map[string]string{"agent_id": a.AgentID, "name": name, "change": "created", "by": by})
		return err
	})
	return a, err
}

// ListAgentAccounts lists every agent, active first, then by name.
func (s *Store) ListAgentAccounts(ctx context.Context) ([]AgentAccount, error) {
	return queryAll(ctx, s.r, scanAgentAccount, `SELECT `+agentAccountCols+` FROM agents ORDER BY revoked_at != '', name, created_at`)
}

// GetAgentAccount reads one agent.
func (s *Store) GetAgentAccount(ctx context.Context, id string) (AgentAccount, error) {
	a, err := scanAgentAccount(s.r.QueryRowContext(ctx, `SELECT `+agentAccountCols+` FROM agents WHERE agent_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// AgentAccountByTokenHash finds the active agent whose token hashes to h.
func (s *Store) AgentAccountByTokenHash(ctx context.Context, h string) (AgentAccount, error) {
	a, err := scanAgentAccount(s.r.QueryRowContext(ctx, `SELECT `+agentAccountCols+` FROM agents WHERE token_hash = ? AND revoked_at = ''`, h))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// RevokeAgentAccount ends an agent's token for good.
func (s *Store) RevokeAgentAccount(ctx context.Context, id, by string) (AgentAccount, error) {
	return s.changeAgentAccount(ctx, id, by, "revoked", func(t *Tx, a *AgentAccount) error {
		now := formatTime(t.now)
		a.RevokedAt, a.RevokedBy = &now, by
		_, err := t.tx.Exec(`UPDATE agents SET revoked_at = ?, revoked_by = ? WHERE agent_id = ?`, now, by, id)
		return err
	})
}

// RotateAgentAccount replaces an active agent's token hash (the old token stops
// working).
func (s *Store) RotateAgentAccount(ctx context.Context, id, tokenHash, hint, by string) (AgentAccount, error) {
	return s.changeAgentAccount(ctx, id, by, "rotated", func(t *Tx, a *AgentAccount) error {
		a.TokenHint = hint
		_, err := t.tx.Exec(`UPDATE agents SET token_hash = ?, token_hint = ? WHERE agent_id = ?`, tokenHash, hint, id)
		return err
	})
}

func (s *Store) changeAgentAccount(ctx context.Context, id, by, change string, apply func(*Tx, *AgentAccount) error) (AgentAccount, error) {
	var a AgentAccount
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		a, err = scanAgentAccount(t.tx.QueryRow(`SELECT `+agentAccountCols+` FROM agents WHERE agent_id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !a.Active() {
			return fmt.Errorf("%w: agent %s was revoked at %s", ErrConflict, a.Name, *a.RevokedAt)
		}
		if err := apply(t, &a); err != nil {
			return err
		}
		_, err = t.Emit(events.AgentChanged, map[string]string{"agent_id": a.AgentID, "name": a.Name, "change": change, "by": by})
		return err
	})
	return a, err
}

// TouchAgentAccount records that an agent's token was used (callers throttle it).
func (s *Store) TouchAgentAccount(ctx context.Context, id string) error {
	return s.Write(ctx, func(t *Tx) error {
		_, err := t.tx.Exec(`UPDATE agents SET last_used_at = ? WHERE agent_id = ?`, formatTime(t.now), id)
		return err
	})
}

// CountAgentAccounts counts every agent, revoked ones included.
func (s *Store) CountAgentAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM agents`).Scan(&n)
	return n, err
}

// ImportAgentAccount records an existing token as agent name's when no
// agent uses it yet (the api-token of a Hall from before agents, at start:
// no event, nothing changed that a client could have seen).
func (s *Store) ImportAgentAccount(ctx context.Context, name, tokenHash, hint string) error {
	return s.Write(ctx, func(t *Tx) error {
		_, err := t.tx.Exec(`INSERT INTO agents(agent_id, name, token_hash, token_hint, created_at, created_by)
			SELECT ?,?,?,?,?,'hall (upgrade)' WHERE NOT EXISTS (SELECT 1 FROM agents WHERE token_hash = ? OR (name = ? AND revoked_at = ''))`,
			NewID("agt"), name, tokenHash, hint, formatTime(t.now), tokenHash, name)
		return err
	})
}
