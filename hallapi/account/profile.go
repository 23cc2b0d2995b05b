package account

import (
	"context"
	"time"

	"hallmonitor/hallapi/account/oauth"
	"hallmonitor/hallapi/registry"
)

// profileMaxAge is how long the profile is served from the last answer
// before the registry is asked again (RefreshProfile with force always asks).
const profileMaxAge = time.Minute

// CodeNotLoggedIn is the error code (HTTP 409) of go-online without a usable
// registry session.
const CodeNotLoggedIn = "not_logged_in"

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

// RefreshProfile asks the registry again for the standing and the profile
// when signed in and the last answer is older than a minute, or when force.
// Failures are kept in the profile (error, standing.error) next to the last
// known values.
func (s *Service) RefreshProfile(ctx context.Context, force bool) {
	if !s.LoggedIn() {
		return
	}
	s.mu.Lock()
	stale := s.o.Now().Sub(s.profileAt) > profileMaxAge
	s.mu.Unlock()
	if stale || force {
		_, _ = s.CheckStanding(ctx)
		_ = s.loadProfile(ctx)
	}
}

// Login is the sign-in flow (browser PKCE or device code) the account uses.
func (s *Service) Login() *oauth.Manager { return s.o.Login }

// Registry is the registry client the account uses.
func (s *Service) Registry() *registry.Client { return s.o.Registry }
