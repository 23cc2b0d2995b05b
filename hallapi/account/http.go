package account

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"hallmonitor/hallapi/account/oauth"
	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/registry"
)

// profileMaxAge is how long GET /api/profile serves the last answer before
// asking the registry again (?refresh=true always asks).
const profileMaxAge = time.Minute

const maxBody = 1 << 20

// CodeNotLoggedIn is the error code (HTTP 409) of go-online without a usable
// registry session.
const CodeNotLoggedIn = "not_logged_in"

// Route is one endpoint to mount on the Hall API server. Public routes need
// no API token (only the login callback, protected by state + PKCE).
type Route struct {
	Pattern string
	Handler http.Handler
	Public  bool
}

// Routes returns the account endpoints of docs/api.md.
func (s *Service) Routes() []Route {
	r := func(p string, h http.HandlerFunc) Route { return Route{Pattern: p, Handler: h} }
	return []Route{
		r("GET /api/profile", s.handleProfile),
		r("POST /api/auth/login", s.handleLogin),
		r("GET /api/auth/login/{login_id}", s.handleLoginStatus),
		r("DELETE /api/auth/login/{login_id}", s.handleLoginCancel),
		{Pattern: "GET /api/auth/callback", Handler: http.HandlerFunc(s.o.Login.HandleCallback), Public: true},
		r("POST /api/auth/device", s.handleDevice),
		r("POST /api/auth/logout", s.handleLogout),
		r("POST /api/server/go-online", s.handleGoOnline),
		r("POST /api/server/go-offline", s.handleGoOffline),
		r("GET /wcp/registry/verify/{worker_id}", s.handleVerify),
		r("GET /wcp/registry/ban-list", s.handleBanList),
	}
}

// Handler returns all Routes on one mux (for tests and simple embedding; the
// Hall server mounts Routes itself to apply its middleware and token rules).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, map[string]apierr.Error{"error": {Code: code, Message: msg, Field: field}})
}

// writeRegistryError maps a registry or session error onto the API's codes.
func writeRegistryError(w http.ResponseWriter, err error) {
	var rerr *registry.Error
	switch {
	// Not 401: the UI treats 401 as "wrong API token" (docs/api.md). A missing
	// registry session is a state conflict the UI resolves with "Sign in".
	case errors.Is(err, oauth.ErrNotLoggedIn):
		writeError(w, http.StatusConflict, CodeNotLoggedIn, "Not signed in to the registry: sign in with GitHub first.", "")
	case errors.Is(err, oauth.ErrSessionExpired), errors.Is(err, registry.ErrUnauthorized):
		writeError(w, http.StatusConflict, CodeNotLoggedIn, "The registry session expired or was revoked: sign in with GitHub again.", "")
	case errors.Is(err, registry.ErrForbidden):
		writeError(w, http.StatusForbidden, "standing_forbids", "The registry forbids this account (403): check your account at the registry.", "")
	case errors.Is(err, registry.ErrRateLimited):
		if errors.As(err, &rerr) && rerr.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((rerr.RetryAfter+time.Second-1)/time.Second)))
		}
		writeError(w, http.StatusTooManyRequests, "rate_limited", "The registry is rate limiting this Hall: "+err.Error(), "")
	default:
		writeError(w, http.StatusServiceUnavailable, "registry_unavailable", "The registry could not be reached or answered an error: "+err.Error()+". Try again later.", "")
	}
}

// decodeBody reads an optional JSON object strictly (unknown fields refused).
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "The request body is larger than 1 MiB.", "")
		return false
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return true
	}
	if e := apierr.DecodeStrict(b, dst); e != nil { // the Hall API's one strict decoder: the error names the field
		writeError(w, http.StatusBadRequest, e.Code, e.Message, e.Field)
		return false
	}
	return true
}

// ProfileView is the document of GET /api/profile.
type ProfileView struct {
	LoggedIn       bool                 `json:"logged_in"`
	GitHubLogin    string               `json:"github_login"`
	AvatarURL      string               `json:"avatar_url"`
	Tier           string               `json:"tier"`
	CreatedAt      string               `json:"created_at"`
	NamespaceLimit int                  `json:"namespace_limit"`
	Namespaces     []registry.Namespace `json:"namespaces"`
	Standing       StandingView         `json:"standing"`
	Online         bool                 `json:"online"`
	Error          string               `json:"error,omitempty"`
}

// Profile returns the profile document of GET /api/profile from the last known state.
func (s *Service) Profile() ProfileView {
	loggedIn := s.LoggedIn()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := ProfileView{LoggedIn: loggedIn, Namespaces: []registry.Namespace{}, Standing: s.standingViewLocked(), Online: s.online}
	if !loggedIn {
		return p
	}
	p.GitHubLogin, p.AvatarURL, p.Tier = s.profile.GitHubLogin, s.profile.AvatarURL, s.profile.Tier
	if p.GitHubLogin == "" {
		p.GitHubLogin = s.standing.GitHubLogin
	}
	if s.standing.Tier != "" {
		p.Tier = s.standing.Tier
	}
	p.CreatedAt, p.NamespaceLimit, p.Error = s.profile.CreatedAt, s.profile.NamespaceLimit, s.profileErr
	if s.namespaces != nil {
		p.Namespaces = s.namespaces
	}
	return p
}

func (s *Service) handleProfile(w http.ResponseWriter, r *http.Request) {
	if s.LoggedIn() {
		s.mu.Lock()
		stale := s.o.Now().Sub(s.profileAt) > profileMaxAge
		s.mu.Unlock()
		if stale || r.URL.Query().Get("refresh") == "true" {
			// Failures are reported inside the document (error, standing.error)
			// next to the last known values.
			_, _ = s.CheckStanding(r.Context())
			_ = s.loadProfile(r.Context())
		}
	}
	writeJSON(w, http.StatusOK, s.Profile())
}

func (s *Service) handleLogin(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if !decodeBody(w, r, &body) {
		return
	}
	a, err := s.o.Login.Start()
	if err != nil {
		if errors.Is(err, oauth.ErrTooManyLogins) {
			writeError(w, http.StatusConflict, "conflict", err.Error(), "")
			return
		}
		writeError(w, http.StatusInternalServerError, "internal", err.Error(), "")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Service) handleLoginStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.o.Login.Status(r.PathValue("login_id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", err.Error(), "login_id")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Service) handleLoginCancel(w http.ResponseWriter, r *http.Request) {
	st, err := s.o.Login.Cancel(r.PathValue("login_id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", err.Error(), "login_id")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Service) handleDevice(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if !decodeBody(w, r, &body) {
		return
	}
	a, err := s.o.Login.StartDevice(r.Context())
	if err != nil {
		if errors.Is(err, oauth.ErrTooManyLogins) {
			writeError(w, http.StatusConflict, "conflict", err.Error(), "")
			return
		}
		writeError(w, http.StatusServiceUnavailable, "registry_unavailable", err.Error(), "")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Service) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.Logout(r.Context()); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "Signed out, but the stored session could not be removed: "+err.Error(), "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"logged_out": true})
}

var desktopHashRE = regexp.MustCompile(`^(sha256:)?[0-9a-f]{64}$`)

func (s *Service) handleGoOnline(w http.ResponseWriter, r *http.Request) {
	var body struct {
		DesktopHash string `json:"desktop_hash"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.DesktopHash != "" && !desktopHashRE.MatchString(body.DesktopHash) {
		writeError(w, http.StatusBadRequest, "invalid_field", "desktop_hash must be 64 lowercase hex characters, optionally prefixed with \"sha256:\".", "desktop_hash")
		return
	}
	st, err := s.GoOnline(r.Context(), body.DesktopHash)
	switch {
	case errors.Is(err, ErrStandingForbids):
		writeJSON(w, http.StatusForbidden, map[string]any{
			"error": apierr.Error{Code: "standing_forbids", Message: "Account standing is " + strconv.Quote(st.Standing) +
				": the Hall cannot go online. Resolve it at the registry, then try again."},
			"account_standing": st.Standing,
		})
	case err != nil:
		writeRegistryError(w, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "account_standing": st.Standing, "tier": st.Tier,
			"grace_seconds_remaining": s.Standing().GraceSecondsRemaining})
	}
}

func (s *Service) handleGoOffline(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if !decodeBody(w, r, &body) {
		return
	}
	s.GoOffline(r.Context())
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Service) handleVerify(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("worker_id")
	if err := registry.ValidateWorkerID(id); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_field", err.Error(), "worker_id")
		return
	}
	res, err := s.o.Registry.Verify(r.Context(), id)
	s.RecordVerify(r.Context(), id, res, err)
	if err != nil && !res.Stale {
		writeRegistryError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Service) handleBanList(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			writeError(w, http.StatusBadRequest, "invalid_field", "limit must be an integer from 1 to 10000.", "limit")
			return
		}
		limit = n
	}
	res, err := s.o.Registry.BanList(r.Context(), limit)
	if err != nil && !res.Stale {
		writeRegistryError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
