package httpapi

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"hallmonitor/hallapi/account"
	"hallmonitor/hallapi/account/oauth"
	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/registry"
)

// MountAccount registers the account routes (login, profile, go online, the
// registry proxy; the person's except the login callback, which the sign-in
// flow's state and PKCE protect) and makes the account the state GET
// /api/status reports.
func (s *Server) MountAccount(a *account.Service) {
	h := accountHandlers{s: s, a: a}
	for _, r := range []struct {
		pattern string
		h       http.HandlerFunc
		access  Access
	}{
		{"GET /api/profile", h.profile, Person},
		{"POST /api/auth/login", h.login, Person},
		{"GET /api/auth/login/{login_id}", h.loginStatus, Person},
		{"DELETE /api/auth/login/{login_id}", h.loginCancel, Person},
		{"GET /api/auth/callback", a.Login().HandleCallback, Public},
		{"POST /api/auth/device", h.device, Person},
		{"POST /api/auth/logout", h.logout, Person},
		{"POST /api/server/go-online", h.goOnline, Person},
		{"POST /api/server/go-offline", h.goOffline, Person},
		{"GET /wcp/registry/verify/{worker_id}", h.verify, Person},
		{"GET /wcp/registry/ban-list", h.banList, Person},
	} {
		s.Handle(r.pattern, r.h, r.access)
	}
	s.SetAccount(accountState{a})
}

// accountHandlers are the account routes over the account service.
type accountHandlers struct {
	s *Server
	a *account.Service
}

// registryError maps a registry or session error onto the API's codes.
func registryError(w http.ResponseWriter, err error) {
	var rerr *registry.Error
	switch {
	// Not 401: the UI treats 401 as "wrong API token" (docs/api.md). A missing
	// registry session is a state conflict the UI resolves with "Sign in".
	case errors.Is(err, oauth.ErrNotLoggedIn):
		WriteError(w, http.StatusConflict, account.CodeNotLoggedIn, "Not signed in to the registry: sign in with GitHub first.", "")
	case errors.Is(err, oauth.ErrSessionExpired), errors.Is(err, registry.ErrUnauthorized):
		WriteError(w, http.StatusConflict, account.CodeNotLoggedIn, "The registry session expired or was revoked: sign in with GitHub again.", "")
	case errors.Is(err, registry.ErrForbidden):
		WriteError(w, http.StatusForbidden, "standing_forbids", "The registry forbids this account (403): check your account at the registry.", "")
	case errors.Is(err, registry.ErrRateLimited):
		if errors.As(err, &rerr) && rerr.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((rerr.RetryAfter+time.Second-1)/time.Second)))
		}
		WriteError(w, http.StatusTooManyRequests, "rate_limited", "The registry is rate limiting this Hall: "+err.Error(), "")
	default:
		WriteError(w, http.StatusServiceUnavailable, "registry_unavailable", "The registry could not be reached or answered an error: "+err.Error()+". Try again later.", "")
	}
}

// emptyBody reads a body that carries nothing (an empty object, or none).
func (h accountHandlers) emptyBody(w http.ResponseWriter, r *http.Request) bool {
	var body struct{}
	if he := readOptionalJSON(w, r, &body); he != nil {
		h.s.fail(w, r, he)
		return false
	}
	return true
}

func (h accountHandlers) profile(w http.ResponseWriter, r *http.Request) {
	h.a.RefreshProfile(r.Context(), r.URL.Query().Get("refresh") == "true")
	WriteJSON(w, http.StatusOK, h.a.Profile())
}

func (h accountHandlers) login(w http.ResponseWriter, r *http.Request) {
	if !h.emptyBody(w, r) {
		return
	}
	a, err := h.a.Login().Start()
	switch {
	case errors.Is(err, oauth.ErrTooManyLogins):
		WriteError(w, http.StatusConflict, "conflict", err.Error(), "")
	case err != nil:
		WriteError(w, http.StatusInternalServerError, "internal", err.Error(), "")
	default:
		WriteJSON(w, http.StatusOK, a)
	}
}

func (h accountHandlers) loginStatus(w http.ResponseWriter, r *http.Request) {
	st, err := h.a.Login().Status(r.PathValue("login_id"))
	if err != nil {
		WriteError(w, http.StatusNotFound, "not_found", err.Error(), "login_id")
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (h accountHandlers) loginCancel(w http.ResponseWriter, r *http.Request) {
	st, err := h.a.Login().Cancel(r.PathValue("login_id"))
	if err != nil {
		WriteError(w, http.StatusNotFound, "not_found", err.Error(), "login_id")
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (h accountHandlers) device(w http.ResponseWriter, r *http.Request) {
	if !h.emptyBody(w, r) {
		return
	}
	a, err := h.a.Login().StartDevice(r.Context())
	switch {
	case errors.Is(err, oauth.ErrTooManyLogins):
		WriteError(w, http.StatusConflict, "conflict", err.Error(), "")
	case err != nil:
		WriteError(w, http.StatusServiceUnavailable, "registry_unavailable", err.Error(), "")
	default:
		WriteJSON(w, http.StatusOK, a)
	}
}

func (h accountHandlers) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.a.Logout(r.Context()); err != nil {
		WriteError(w, http.StatusInternalServerError, "internal", "Signed out, but the stored session could not be removed: "+err.Error(), "")
		return
	}
	WriteJSON(w, http.StatusOK, map[string]bool{"logged_out": true})
}

var desktopHashRE = regexp.MustCompile(`^(sha256:)?[0-9a-f]{64}$`)

func (h accountHandlers) goOnline(w http.ResponseWriter, r *http.Request) {
	var body struct {
		DesktopHash string `json:"desktop_hash"`
	}
	if he := readOptionalJSON(w, r, &body); he != nil {
		h.s.fail(w, r, he)
		return
	}
	if body.DesktopHash != "" && !desktopHashRE.MatchString(body.DesktopHash) {
		WriteError(w, http.StatusBadRequest, "invalid_field", "desktop_hash must be 64 lowercase hex characters, optionally prefixed with \"sha256:\".", "desktop_hash")
		return
	}
	st, err := h.a.GoOnline(r.Context(), body.DesktopHash)
	switch {
	case errors.Is(err, account.ErrStandingForbids):
		WriteJSON(w, http.StatusForbidden, map[string]any{
			"error": apierr.Error{Code: "standing_forbids", Message: "Account standing is " + strconv.Quote(st.Standing) +
				": the Hall cannot go online. Resolve it at the registry, then try again."},
			"account_standing": st.Standing,
		})
	case err != nil:
		registryError(w, err)
	default:
		WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "account_standing": st.Standing, "tier": st.Tier,
			"grace_seconds_remaining": h.a.Standing().GraceSecondsRemaining})
	}
}

func (h accountHandlers) goOffline(w http.ResponseWriter, r *http.Request) {
	if !h.emptyBody(w, r) {
		return
	}
	h.a.GoOffline(r.Context())
	WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (h accountHandlers) verify(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("worker_id")
	if err := registry.ValidateWorkerID(id); err != nil {
		WriteError(w, http.StatusBadRequest, "invalid_field", err.Error(), "worker_id")
		return
	}
	res, err := h.a.Registry().Verify(r.Context(), id)
	h.a.RecordVerify(r.Context(), id, res, err)
	if err != nil && !res.Stale {
		registryError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

func (h accountHandlers) banList(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			WriteError(w, http.StatusBadRequest, "invalid_field", "limit must be an integer from 1 to 10000.", "limit")
			return
		}
		limit = n
	}
	res, err := h.a.Registry().BanList(r.Context(), limit)
	if err != nil && !res.Stale {
		registryError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

// accountState reads the signed-in account for GET /api/status.
type accountState struct{ a *account.Service }

func (st accountState) AccountStatus(context.Context) AccountStatus {
	v := st.a.Standing()
	out := AccountStatus{LoggedIn: st.a.LoggedIn(), GitHubLogin: st.a.GitHubLogin(), Standing: v.Standing,
		Tier: st.a.Tier(), Online: st.a.Online()}
	out.GraceSecondsRemaining = v.GraceSecondsRemaining
	if v.CheckedAt != nil {
		out.StandingCheckedAt = v.CheckedAt.UTC().Format(time.RFC3339)
	}
	return out
}
