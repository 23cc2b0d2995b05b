package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"hallmonitor/hallapi/events"
)

// Settings are the user preferences kept in SQLite (docs/api.md).
type Settings struct {
	Timezone          string   `json:"timezone"`
	Locale            string   `json:"locale"`
	FeedMaxRows       int      `json:"feed_max_rows"`
	NotifyOn          []string `json:"notify_on"`
	NotifyEveryDenial bool     `json:"notify_every_denial"`
	DefaultProfile    string   `json:"default_profile"`
	Theme             string   `json:"theme"`
	// CloseToTray makes closing the desktop window hide it to the system
	// tray (when a tray is present) instead of quitting.
	CloseToTray bool `json:"close_to_tray"`
}

// DefaultSettings are the settings before the user changes anything.
func DefaultSettings() Settings {
	return Settings{FeedMaxRows: 500, NotifyOn: []string{events.AlertRaised, events.ApprovalCreated},
		DefaultProfile: "prof.dev.permissive", Theme: "system", CloseToTray: true}
}

// ETag is the entity tag of a settings value (a quoted hash of its JSON).
func (st Settings) ETag() string {
	sum := sha256.Sum256([]byte(mustJSON(st)))
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

const settingsKey = "settings"

// GetSettings returns the stored settings (defaults when none were saved).
func (s *Store) GetSettings(ctx context.Context) (Settings, error) {
	st := DefaultSettings()
	var raw string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingsKey).Scan(&raw)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return st, nil
		}
		return st, err
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return st, fmt.Errorf("stored settings are corrupt: %w", err)
	}
	return st, nil
}

// PutSettings replaces the settings when ifMatch equals the current ETag;
// otherwise it returns ErrPrecondition and stores nothing.
func (s *Store) PutSettings(ctx context.Context, next Settings, ifMatch string) (Settings, error) {
	err := s.Write(ctx, func(t *Tx) error {
		cur := DefaultSettings()
		var raw string
		if err := t.tx.QueryRow(`SELECT value FROM settings WHERE key = ?`, settingsKey).Scan(&raw); err == nil {
			if err := json.Unmarshal([]byte(raw), &cur); err != nil {
				return err
			}
		}
		if cur.ETag() != ifMatch {
			return ErrPrecondition
		}
		if _, err := t.tx.Exec(`INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
			settingsKey, mustJSON(next)); err != nil {
			return err
		}
		_, err := t.Emit(events.SettingsChanged, next)
		return err
	})
	return next, err
}
