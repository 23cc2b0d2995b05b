package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"hallmonitor/hallapi/principal"
)

// Browser sessions: the person opens the UI in a browser with the admin
// credential (the link `serve` prints); the page trades it once, at POST
// /api/session, for a session token bound to that browser by an HttpOnly,
// SameSite=Strict cookie. The session token alone (without the cookie) is
// worth nothing, and an agent token cannot open a session. Sessions live in
// memory: a restart asks the browser for the credential again.
const (
	sessionPrefix = "hms_"
	sessionCookie = "hall_session"
	sessionTTL    = 12 * time.Hour
	maxSessions   = 64
)

type session struct {
	cookieHash [32]byte
	expires    time.Time
}

type sessions struct {
	mu   sync.Mutex
	byID map[[32]byte]session // sha256(session token) -> session
}

func newSessions() *sessions { return &sessions{byID: map[[32]byte]session{}} }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// open mints a session token bound to cookie (a new cookie value when "").
func (ss *sessions) open(now time.Time, cookie string) (token, cookieOut string, expires time.Time) {
	token = sessionPrefix + randomHex(32)
	if cookie == "" {
		cookie = randomHex(32)
	}
	expires = now.Add(sessionTTL)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, s := range ss.byID {
		if now.After(s.expires) {
			delete(ss.byID, k)
		}
	}
	if len(ss.byID) >= maxSessions { // the oldest goes
		var oldest [32]byte
		var at time.Time
		for k, s := range ss.byID {
			if at.IsZero() || s.expires.Before(at) {
				oldest, at = k, s.expires
			}
		}
		delete(ss.byID, oldest)
	}
	ss.byID[sha256.Sum256([]byte(token))] = session{cookieHash: sha256.Sum256([]byte(cookie)), expires: expires}
	return token, cookie, expires
}

// knows reports whether cookie belongs to a live session (a cookie this Hall
// gave, not one a page made up).
func (ss *sessions) knows(cookie string) bool {
	h := sha256.Sum256([]byte(cookie))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, s := range ss.byID {
		if subtle.ConstantTimeCompare(h[:], s.cookieHash[:]) == 1 {
			return true
		}
	}
	return false
}

// valid reports whether token is a live session presented with its cookie.
func (ss *sessions) valid(token string, r *http.Request, now time.Time) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	ss.mu.Lock()
	s, ok := ss.byID[sha256.Sum256([]byte(token))]
	ss.mu.Unlock()
	ch := sha256.Sum256([]byte(c.Value))
	return ok && now.Before(s.expires) && subtle.ConstantTimeCompare(ch[:], s.cookieHash[:]) == 1
}

func (ss *sessions) close(token string) {
	ss.mu.Lock()
	delete(ss.byID, sha256.Sum256([]byte(token)))
	ss.mu.Unlock()
}

// handleOpenSession is POST /api/session: the admin credential (the
// person's CLI scope) opens a browser session.
func (s *Server) handleOpenSession(w http.ResponseWriter, r *http.Request) {
	p, _ := principal.From(r.Context())
	if p.Via != principal.ViaCLI && p.Via != principal.ViaBrowser {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "Authorization",
			"open a browser session with the admin credential (<config dir>/admin-token); the desktop window needs none"))
		return
	}
	if he := emptyBody(w, r); he != nil {
		s.fail(w, r, he)
		return
	}
	if p.Via == principal.ViaBrowser {
		s.sessions.close(bearer(r))
	}
	// A second tab of the same browser keeps the browser's cookie, so the
	// first tab's session stays valid: each tab has its own session token,
	// bound to the one cookie.
	cookie := ""
	if c, err := r.Cookie(sessionCookie); err == nil && s.sessions.knows(c.Value) {
		cookie = c.Value
	}
	tok, cookie, exp := s.sessions.open(s.opts.Now(), cookie)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Expires: exp})
	WriteJSON(w, http.StatusOK, map[string]any{"session_token": tok, "expires_at": exp.UTC().Format(time.RFC3339), "person": p.Name})
}

// handleCloseSession is DELETE /api/session: this browser's session ends.
func (s *Server) handleCloseSession(w http.ResponseWriter, r *http.Request) {
	s.sessions.close(bearer(r))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	WriteJSON(w, http.StatusOK, map[string]any{"closed": true})
}
