package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/scrypt"

	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/principal"
)

// The UI lock: an optional passphrase that keeps the Hall's own UI (the
// desktop window and the browser UI) behind an unlock screen, as the
// reference app's passphrase gate does. It hides the Hall's data from
// whoever sits at an unlocked desktop; agents and the CLI, which hold the
// API token, are not affected (the token file itself is the protection for
// programmatic access). The passphrase is kept only as an scrypt hash in
// <config dir>/ui-passphrase (0600); every start begins locked.

const (
	lockFile         = "ui-passphrase"
	minPassphrase    = 8
	maxPassphrase    = 1024
	freeUnlockErrors = 5 // failed unlocks before each further try waits
	// UIHeader marks a request made by the Hall's own UI; with a passphrase
	// set and the Hall locked, such requests get 423 locked.
	UIHeader = "X-Hall-UI"
)

// scrypt cost (about 100 ms here); stored with each hash so it can grow.
var scryptN, scryptR, scryptP = 1 << 15, 8, 1

type lockRecord struct {
	N    int    `json:"n"`
	R    int    `json:"r"`
	P    int    `json:"p"`
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

type uiLock struct {
	path string

	mu  sync.Mutex
	rec *lockRecord // nil: no passphrase
	// locked is read without mu: every UI request checks it, and mu is held
	// while a passphrase is hashed (about 100 ms).
	locked   atomic.Bool
	failures int
	retryAt  time.Time

	// lockedCh is closed (and replaced) each time the Hall locks, ending
	// the UI's open event streams.
	chMu     sync.Mutex
	lockedCh chan struct{}
}

// setLocked changes the lock state; locking wakes every onLock waiter.
func (l *uiLock) setLocked(v bool) {
	was := l.locked.Swap(v)
	if v && !was {
		l.chMu.Lock()
		if l.lockedCh != nil {
			close(l.lockedCh)
		}
		l.lockedCh = make(chan struct{})
		l.chMu.Unlock()
	}
}

// onLock is closed when the Hall next locks.
func (l *uiLock) onLock() <-chan struct{} {
	l.chMu.Lock()
	defer l.chMu.Unlock()
	if l.lockedCh == nil {
		l.lockedCh = make(chan struct{})
	}
	return l.lockedCh
}

// Locked reports whether the UI passphrase locks the Hall now: the window's
// notifications and tray show nothing of the Hall then.
func (s *Server) Locked() bool { return s.lock.locked.Load() }

// endOnLock cancels a UI request's context when the Hall locks, so an open
// event stream (SSE or long-poll) of the window or a browser closes at once
// instead of carrying events past the lock.
func (s *Server) endOnLock(r *http.Request, p principal.Principal) (*http.Request, func()) {
	if !isUI(r, p) {
		return r, func() {}
	}
	ctx, cancel := context.WithCancel(r.Context())
	ch := s.lock.onLock()
	go func() {
		select {
		case <-ch:
			cancel()
		case <-ctx.Done():
		}
	}()
	return r.WithContext(ctx), cancel
}

func loadUILock(configDir string) (*uiLock, error) {
	l := &uiLock{path: filepath.Join(configDir, lockFile)}
	b, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the UI passphrase: %w", err)
	}
	var rec lockRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.N < 2 || rec.Salt == "" || rec.Hash == "" {
		return nil, fmt.Errorf("%s is damaged: delete it to remove the UI passphrase", l.path)
	}
	l.rec = &rec
	l.setLocked(true)
	return l, nil
}

func hashPassphrase(pass string, n, r, p int, salt []byte) ([]byte, error) {
	return scrypt.Key([]byte(pass), salt, n, r, p, 32)
}

func newLockRecord(pass string) (*lockRecord, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	h, err := hashPassphrase(pass, scryptN, scryptR, scryptP, salt)
	if err != nil {
		return nil, err
	}
	enc := base64.RawStdEncoding.EncodeToString
	return &lockRecord{N: scryptN, R: scryptR, P: scryptP, Salt: enc(salt), Hash: enc(h)}, nil
}

func (rec *lockRecord) matches(pass string) bool {
	salt, err1 := base64.RawStdEncoding.DecodeString(rec.Salt)
	want, err2 := base64.RawStdEncoding.DecodeString(rec.Hash)
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := hashPassphrase(pass, rec.N, rec.R, rec.P, salt)
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// save writes rec (nil removes the file) atomically.
func (l *uiLock) save(rec *lockRecord) error {
	if rec == nil {
		if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b, _ := json.Marshal(rec)
	tmp := l.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, l.path)
}

// lockExempt are the endpoints the locked UI needs.
var lockExempt = map[string]bool{"/api/health": true, "/health": true, "/wcp/health": true,
	"/api/auth/passphrase-status": true, "/api/auth/unlock": true}

// lockBlocks reports whether r is a UI request the lock refuses: any
// mounted endpoint (legacy aliases like /workers included) but the exempt
// ones, from the window, a browser session or a page that says it is the UI;
// the UI's own files stay reachable, agents and the CLI are not UI.
func (s *Server) lockBlocks(r *http.Request, p principal.Principal) bool {
	if !isUI(r, p) || lockExempt[r.URL.Path] {
		return false
	}
	return s.lock.locked.Load()
}

func isUI(r *http.Request, p principal.Principal) bool {
	return p.Via == principal.ViaDesktop || p.Via == principal.ViaBrowser || r.Header.Get(UIHeader) != ""
}

func validPassphrase(field, p string) *httpError {
	switch {
	case p == "":
		return errf(http.StatusBadRequest, "missing_field", field, "%s is required", field)
	case utf8.RuneCountInString(p) < minPassphrase:
		return errf(http.StatusBadRequest, "invalid_field", field, "%s must be at least %d characters", field, minPassphrase)
	case len(p) > maxPassphrase:
		return errf(http.StatusBadRequest, "invalid_field", field, "%s must be at most %d bytes", field, maxPassphrase)
	}
	return nil
}

// check verifies pass under the failure back-off; call with l.mu held.
func (l *uiLock) check(now time.Time, field, pass string) *httpError {
	if wait := l.retryAt.Sub(now); wait > 0 {
		return errf(http.StatusTooManyRequests, "rate_limited", field, "too many wrong passphrases: try again in %d s", int(wait.Seconds())+1)
	}
	if pass == "" {
		return errf(http.StatusBadRequest, "missing_field", field, "%s is required", field)
	}
	if !l.rec.matches(pass) {
		l.failures++
		if l.failures >= freeUnlockErrors {
			// the wait starts after this try's hashing, however long that took
			l.retryAt = time.Now().Add(min(time.Duration(1<<min(l.failures-freeUnlockErrors, 6))*time.Second, time.Minute))
		}
		return errf(http.StatusForbidden, "wrong_passphrase", field, "Incorrect passphrase.")
	}
	l.failures, l.retryAt = 0, time.Time{}
	return nil
}

func (s *Server) lockStatus() map[string]any {
	l := s.lock
	l.mu.Lock()
	defer l.mu.Unlock()
	retry := 0
	if wait := time.Until(l.retryAt); wait > 0 {
		retry = int(wait.Seconds()) + 1
	}
	return map[string]any{"passphrase_set": l.rec != nil, "locked": l.locked.Load(), "retry_after_seconds": retry}
}

func (s *Server) lockChanged(r *http.Request, what string) {
	if _, err := s.st.Emit(r.Context(), events.UILock, map[string]any{"change": what}); err != nil {
		s.log.Warn("record lock event", "err", err)
	}
}

func (s *Server) handlePassphraseStatus(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, s.lockStatus())
}

func (s *Server) handleSetPassphrase(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Passphrase string `json:"passphrase"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	if he := validPassphrase("passphrase", body.Passphrase); he != nil {
		s.fail(w, r, he)
		return
	}
	l := s.lock
	l.mu.Lock()
	if l.rec != nil {
		l.mu.Unlock()
		s.fail(w, r, errf(http.StatusConflict, "conflict", "passphrase", "a passphrase is set already: change it with current_passphrase and new_passphrase"))
		return
	}
	rec, err := newLockRecord(body.Passphrase)
	if err == nil {
		err = l.save(rec)
	}
	if err != nil {
		l.mu.Unlock()
		s.fail(w, r, fmt.Errorf("store the UI passphrase: %w", err))
		return
	}
	l.rec = rec
	l.mu.Unlock()
	s.lockChanged(r, "set")
	WriteJSON(w, http.StatusCreated, s.lockStatus())
}

func (s *Server) handleUnlock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Passphrase string `json:"passphrase"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	s.withPassphrase(w, r, "passphrase", body.Passphrase, "no passphrase is set: there is nothing to unlock", func(l *uiLock) (string, error) {
		l.setLocked(false)
		return "unlocked", nil
	})
}

func (s *Server) handleLock(w http.ResponseWriter, r *http.Request) {
	l := s.lock
	l.mu.Lock()
	if l.rec == nil {
		l.mu.Unlock()
		s.fail(w, r, errf(http.StatusConflict, "conflict", "", "set a passphrase first: without one the Hall cannot be unlocked again"))
		return
	}
	l.setLocked(true)
	l.mu.Unlock()
	s.lockChanged(r, "locked")
	WriteJSON(w, http.StatusOK, s.lockStatus())
}

func (s *Server) handleChangePassphrase(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Current string `json:"current_passphrase"`
		New     string `json:"new_passphrase"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	if he := validPassphrase("new_passphrase", body.New); he != nil {
		s.fail(w, r, he)
		return
	}
	s.withPassphrase(w, r, "current_passphrase", body.Current, "no passphrase is set: set one with passphrase", func(l *uiLock) (string, error) {
		rec, err := newLockRecord(body.New)
		if err == nil {
			err = l.save(rec)
		}
		if err != nil {
			return "", err
		}
		l.rec = rec
		return "changed", nil
	})
}

func (s *Server) handleRemovePassphrase(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Current string `json:"current_passphrase"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	s.withPassphrase(w, r, "current_passphrase", body.Current, "no passphrase is set: there is nothing to remove", func(l *uiLock) (string, error) {
		if err := l.save(nil); err != nil {
			return "", err
		}
		l.rec = nil
		l.setLocked(false)
		return "removed", nil
	})
}

// withPassphrase checks pass (named field) against the stored passphrase
// under the failure back-off, then runs change with the lock held and
// answers with the new status; none is the conflict message when no
// passphrase is set.
func (s *Server) withPassphrase(w http.ResponseWriter, r *http.Request, field, pass, none string, change func(*uiLock) (string, error)) {
	l := s.lock
	l.mu.Lock()
	if l.rec == nil {
		l.mu.Unlock()
		s.fail(w, r, errf(http.StatusConflict, "conflict", field, "%s", none))
		return
	}
	if he := l.check(time.Now(), field, pass); he != nil {
		l.mu.Unlock()
		s.securityDenied(r, "wrong_passphrase")
		s.fail(w, r, he)
		return
	}
	what, err := change(l)
	l.mu.Unlock()
	if err != nil {
		s.fail(w, r, fmt.Errorf("store the UI passphrase: %w", err))
		return
	}
	s.lockChanged(r, what)
	WriteJSON(w, http.StatusOK, s.lockStatus())
}
