package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"hallmonitor/hallapi/config"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"
)

// Token storage locations reported by TokenStore.Save.
const (
	WhereKeyring = "keyring"
	WhereFile    = "file"
)

// TokenFileName is the fallback token file inside the config directory (mode 0600).
const TokenFileName = "registry-token.json"

// Keyring service and account names.
const (
	keyringService = "hallmonitor"
	keyringAccount = "registry-session"
	keyringTimeout = 3 * time.Second
	maxTokenBytes  = 64 << 10
)

// ErrNoToken means no registry session is stored.
var ErrNoToken = errors.New("no registry session stored")

// TokenStore keeps the registry session in the OS keyring, or in a 0600 file
// when no keyring service answers (e.g. a Linux box without a Secret Service
// daemon). Delete removes it from both.
type TokenStore struct {
	file    string
	service string
	logger  *slog.Logger
}

// NewTokenStore stores the fallback file in dir (the config directory).
func NewTokenStore(dir string, logger *slog.Logger) *TokenStore {
	if logger == nil {
		logger = slog.Default()
	}
	return &TokenStore{file: filepath.Join(dir, TokenFileName), service: keyringService, logger: logger}
}

// FilePath returns the fallback file's path.
func (s *TokenStore) FilePath() string { return s.file }

// withTimeout runs a keyring call so that a hung D-Bus cannot hang the Hall.
func withTimeout[T any](f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(keyringTimeout):
		var zero T
		return zero, errors.New("keyring did not answer within 3s")
	}
}

// Save stores tok and reports where it went (WhereKeyring or WhereFile).
func (s *TokenStore) Save(tok *oauth2.Token) (string, error) {
	if tok == nil || tok.AccessToken == "" {
		return "", errors.New("token: refusing to store an empty token")
	}
	b, err := json.Marshal(tok)
	if err != nil {
		return "", err
	}
	_, kerr := withTimeout(func() (struct{}, error) { return struct{}{}, keyring.Set(s.service, keyringAccount, string(b)) })
	if kerr == nil {
		if err := os.Remove(s.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.logger.Warn("could not remove the old token file after saving to the keyring", "path", s.file, "err", err)
		}
		return WhereKeyring, nil
	}
	s.logger.Info("OS keyring unavailable, storing the registry session in a 0600 file", "path", s.file, "keyring_error", kerr.Error())
	if err := config.WriteFileAtomic(s.file, b, 0o600); err != nil {
		return "", fmt.Errorf("store registry session in %s: %w", s.file, err)
	}
	return WhereFile, nil
}

// Load returns the stored token, ErrNoToken when there is none.
func (s *TokenStore) Load() (*oauth2.Token, error) {
	v, kerr := withTimeout(func() (string, error) { return keyring.Get(s.service, keyringAccount) })
	if kerr == nil {
		return decodeToken([]byte(v), "keyring")
	}
	if !errors.Is(kerr, keyring.ErrNotFound) {
		s.logger.Debug("OS keyring unavailable, reading the token file", "keyring_error", kerr.Error())
	}
	f, err := os.Open(s.file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoToken
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by other users (mode %o): run chmod 600 on it, or delete it and sign in again", s.file, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenBytes))
	if err != nil {
		return nil, err
	}
	return decodeToken(b, s.file)
}

func decodeToken(b []byte, where string) (*oauth2.Token, error) {
	var tok oauth2.Token
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("the registry session in %s is unreadable: sign out and sign in again", where)
	}
	return &tok, nil
}

// Delete removes the token from the keyring and the file. It is not an error
// when there was nothing to remove; an unavailable keyring is not an error either.
func (s *TokenStore) Delete() error {
	var errs []error
	_, kerr := withTimeout(func() (struct{}, error) { return struct{}{}, keyring.Delete(s.service, keyringAccount) })
	if kerr != nil && !errors.Is(kerr, keyring.ErrNotFound) {
		s.logger.Debug("keyring delete failed (no keyring service?)", "keyring_error", kerr.Error())
	}
	if _, gerr := withTimeout(func() (string, error) { return keyring.Get(s.service, keyringAccount) }); gerr == nil {
		errs = append(errs, errors.New("the registry session is still in the OS keyring after deleting it; remove the entry \"hallmonitor\" by hand"))
	}
	if err := os.Remove(s.file); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove %s: %w", s.file, err))
	}
	return errors.Join(errs...)
}
