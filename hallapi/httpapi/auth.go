package httpapi

import (
	"net/http"
	"strings"

	"hallmonitor/hallapi/agents"
	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/principal"
)

// Access says who may call a route (docs/api.md "Who may call what").
type Access int

const (
	// Person routes govern: only the person (the window, a browser session
	// opened with the admin credential, or the admin credential itself).
	Person Access = iota
	// Public routes need no credential (Host and Origin checks still apply).
	Public
	// Agent routes are what agents may do (ask, run what the Hall decided
	// for them, read their own decisions, coordinate); the person may too.
	Agent
)

func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	case Agent:
		return "agent"
	}
	return "person"
}

// bearer is the credential of an Authorization: Bearer header ("" if none).
func bearer(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(auth) <= len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return ""
	}
	return strings.TrimSpace(auth[len(prefix):])
}

// authenticate names the principal of r: the window's in-process session,
// a browser session, the admin credential, or an agent token.
func (s *Server) authenticate(r *http.Request) (principal.Principal, bool) {
	if IsTrusted(r) {
		return principal.Principal{Kind: principal.Person, Name: s.personName(r), Via: principal.ViaDesktop}, true
	}
	tok := bearer(r)
	switch {
	case tok == "":
		return principal.Principal{}, false
	case strings.HasPrefix(tok, sessionPrefix):
		if !s.sessions.valid(tok, r, s.opts.Now()) {
			return principal.Principal{}, false
		}
		return principal.Principal{Kind: principal.Person, Name: s.personName(r), Via: principal.ViaBrowser}, true
	case agents.SameToken(tok, string(s.adminToken)):
		return principal.Principal{Kind: principal.Person, Name: s.personName(r), Via: principal.ViaCLI}, true
	}
	return s.agents.Authenticate(r.Context(), tok)
}

// scopeOf names what a person-only path governs, for the 403 message.
func scopeOf(path string) string {
	for _, p := range []struct{ prefix, scope string }{
		{"/api/approvals", "approvals"}, {"/wcp/approvals", "approvals"}, {"/api/rules", "rules"},
		{"/api/settings", "settings"}, {"/api/setup", "setup"}, {"/api/workers", "enrollment"}, {"/enroll", "enrollment"},
		{"/workers", "enrollment"}, {"/api/mcp", "mcp servers"}, {"/api/agents", "agents"}, {"/api/auth", "account"},
		{"/api/server", "account"}, {"/api/profile", "account"}, {"/wcp/registry", "account"}, {"/api/events", "events"},
		{"/api/alerts", "alerts"}, {"/alerts", "alerts"}, {"/api/session", "session"}, {"/api/decisions/export", "evidence export"},
	} {
		if strings.HasPrefix(path, p.prefix) {
			return p.scope
		}
	}
	return "person"
}

// authorize wraps a route: its principal is authenticated (401 without a
// valid credential) and must hold the route's scope (403 forbidden_scope,
// before anything of the request is read or stored), then rides in the
// request's context to the handler and the domain services.
func (s *Server) authorize(h http.Handler, access Access) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticate(r)
		if !ok {
			s.securityDenied(r, "unauthorized")
			w.Header().Set("WWW-Authenticate", `Bearer realm="hallmonitor"`)
			WriteError(w, http.StatusUnauthorized, "unauthorized",
				"this request needs a credential: an agent sends its agent token ('Authorization: Bearer hma_…', Settings › Agents); "+
					"the person uses the window, the link `hallmonitor serve` prints, or <config dir>/admin-token", "")
			return
		}
		if access == Person && !p.IsPerson() {
			s.securityDenied(r, "forbidden_scope")
			scope := scopeOf(r.URL.Path)
			WriteError(w, http.StatusForbidden, "forbidden_scope", "agent "+apierr.Quote(p.Name)+" may not call "+
				r.Method+" "+apierr.Quote(r.URL.Path)+": it needs the person's scope ("+scope+"); only the person at the machine governs the Hall", "")
			return
		}
		if s.lockBlocks(r, p) {
			WriteError(w, http.StatusLocked, "locked", "Hall Monitor is locked: unlock it with your passphrase", "")
			return
		}
		h.ServeHTTP(w, r.WithContext(principal.With(r.Context(), p)))
	})
}

// handleWhoami is GET /api/whoami: the caller's principal.
func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	p, _ := principal.From(r.Context())
	WriteJSON(w, http.StatusOK, p)
}

// personName is how records name the person (see person).
func (s *Server) personName(r *http.Request) string {
	name, _ := s.person(r)
	return name
}
