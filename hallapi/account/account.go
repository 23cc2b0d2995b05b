// Package account is the Hall's side of the registry account: sign-in and
// sign-out (through account/oauth), the profile (GitHub identity, tier,
// namespaces), the account standing (ok / grace with countdown / degraded /
// suspended), going online (only when the standing allows) and offline, and the
// registry client behind /wcp/registry/verify/{id} and /wcp/registry/ban-list.
// Standing and sign-in changes are published as events. Its HTTP routes are
// httpapi's (account.go there).
package account

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"hallmonitor/hallapi/account/oauth"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/registry"
)

// Event types published by the Service (the names of hallapi/events).
const (
	EventStandingChanged = events.StandingChanged
	EventAuthChanged     = events.AuthChanged
)

// StandingUnknown is reported before the first successful standing check.
const StandingUnknown = "unknown"

// DefaultRefreshEvery is how often the standing is re-checked while signed in.
const DefaultRefreshEvery = 5 * time.Minute

// Publisher records an event on the Hall's numbered bus; *store.Store
// (hallapi/store) implements it.
type Publisher interface {
	Emit(ctx context.Context, eventType string, data any) (events.Event, error)
}

// Options configure a Service.
type Options struct {
	Login     *oauth.Manager   // required
	Registry  *registry.Client // required
	Publisher Publisher        // nil: events are not published
	// Workers keeps the registry's answers about enrolled workers (the
	// Hall's store); nil: they are only returned, not kept.
	Workers      WorkerStore
	Logger       *slog.Logger
	RefreshEvery time.Duration // default 5 min
	Now          func() time.Time
}

// StandingView is the standing as the UI sees it (profile.standing in the API).
type StandingView struct {
	Standing              string     `json:"standing"`
	GraceSecondsRemaining *int64     `json:"grace_seconds_remaining"` // null unless the standing is grace
	CheckedAt             *time.Time `json:"checked_at"`
	AgeSeconds            int64      `json:"age_seconds"`
	Error                 string     `json:"error"`
}

// Service holds the account state. It implements the account view used by
// GET /api/status: LoggedIn, Online, Standing, GitHubLogin, Tier.
type Service struct {
	o Options

	mu            sync.Mutex
	online        bool
	standing      registry.Standing // last known; zero before the first check
	standingErr   string
	profile       registry.Profile
	profileAt     time.Time
	namespaces    []registry.Namespace
	profileErr    string
	lastPublished string
}

// New returns a Service. Call Start to keep the standing fresh.
func New(o Options) (*Service, error) {
	if o.Login == nil || o.Registry == nil {
		return nil, errors.New("account: Options.Login and Options.Registry are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.RefreshEvery <= 0 {
		o.RefreshEvery = DefaultRefreshEvery
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{o: o}
	o.Login.OnChange(s.loginChanged)
	return s, nil
}

// Start re-checks the standing every RefreshEvery while signed in, and the
// enrolled workers' registry verification and ban state (signed in or not),
// until ctx ends. A standing that no longer allows being online takes the
// Hall offline.
func (s *Service) Start(ctx context.Context) {
	go func() {
		if s.LoggedIn() {
			s.refresh(ctx)
		}
		s.syncWorkers(ctx)
		t := time.NewTicker(s.o.RefreshEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if s.LoggedIn() {
					s.refresh(ctx)
				}
				s.syncWorkers(ctx)
			}
		}
	}()
}

// loginChanged runs after a sign-in, sign-out or lost session.
func (s *Service) loginChanged(loggedIn bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if loggedIn {
		s.refresh(ctx)
	} else {
		s.mu.Lock()
		s.online = false
		s.standing, s.standingErr = registry.Standing{}, ""
		s.profile, s.profileAt, s.namespaces, s.profileErr = registry.Profile{}, time.Time{}, nil, ""
		s.mu.Unlock()
	}
	s.publish(ctx, EventAuthChanged, map[string]any{"logged_in": loggedIn, "github_login": s.GitHubLogin()})
	s.publishStanding(ctx)
}

// refresh re-reads standing, profile and namespaces from the registry.
func (s *Service) refresh(ctx context.Context) {
	if _, err := s.CheckStanding(ctx); err != nil {
		s.o.Logger.Warn("registry standing check failed", "err", err)
	}
	if err := s.loadProfile(ctx); err != nil {
		s.o.Logger.Warn("registry profile load failed", "err", err)
	}
}

func (s *Service) syncWorkers(ctx context.Context) {
	if n, err := s.SyncWorkers(ctx); err != nil && ctx.Err() == nil {
		s.o.Logger.Warn("registry check of enrolled workers failed", "err", err)
	} else if n > 0 {
		s.o.Logger.Info("registry check of enrolled workers", "workers", n)
	}
}

// LoggedIn reports whether a registry session is held.
func (s *Service) LoggedIn() bool { return s.o.Login.LoggedIn() }

// Online reports whether the Hall is online.
func (s *Service) Online() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.online
}

// GitHubLogin returns the signed-in GitHub login ("" when unknown).
func (s *Service) GitHubLogin() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.profile.GitHubLogin != "" {
		return s.profile.GitHubLogin
	}
	return s.standing.GitHubLogin
}

// Tier returns the account's tier ("" when unknown).
func (s *Service) Tier() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.standing.Tier != "" {
		return s.standing.Tier
	}
	return s.profile.Tier
}

// Standing returns the last known standing with its age, grace countdown and
// the error of the last failed check.
func (s *Service) Standing() StandingView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.standingViewLocked()
}

func (s *Service) standingViewLocked() StandingView {
	v := StandingView{Standing: StandingUnknown, Error: s.standingErr}
	if s.standing.Standing == "" {
		return v
	}
	now := s.o.Now()
	at := s.standing.CheckedAt
	v.Standing, v.CheckedAt = s.standing.Standing, &at
	if now.After(at) {
		v.AgeSeconds = int64(now.Sub(at) / time.Second)
	}
	if s.standing.Standing == registry.StandingGrace {
		g := max(0, s.standing.GraceSecondsRemaining-v.AgeSeconds)
		v.GraceSecondsRemaining = &g
	}
	return v
}

// withToken calls f with the session token; after a 401 it refreshes the
// session once and retries.
func (s *Service) withToken(ctx context.Context, f func(registry.Secret) error) error {
	tok, err := s.o.Login.AccessToken(ctx)
	if err != nil {
		return err
	}
	err = f(tok)
	if !errors.Is(err, registry.ErrUnauthorized) {
		return err
	}
	tok, rerr := s.o.Login.Refresh(ctx, tok)
	if rerr != nil {
		return rerr
	}
	return f(tok)
}

// CheckStanding asks the registry now. On failure the last known standing
// stays, with the error recorded; the Hall goes offline when the new standing
// does not allow being online.
func (s *Service) CheckStanding(ctx context.Context) (registry.Standing, error) {
	var st registry.Standing
	err := s.withToken(ctx, func(tok registry.Secret) error {
		var e error
		st, e = s.o.Registry.Standing(ctx, tok)
		return e
	})
	s.mu.Lock()
	if err != nil {
		if errors.Is(err, oauth.ErrNotLoggedIn) || errors.Is(err, oauth.ErrSessionExpired) {
			s.online = false
		}
		s.standingErr = err.Error()
	} else {
		s.standing, s.standingErr = st, ""
		if !registry.AllowsOnline(st.Standing) && s.online {
			s.online = false
			s.o.Logger.Warn("account standing no longer allows being online; going offline", "standing", st.Standing)
		}
	}
	s.mu.Unlock()
	s.publishStanding(ctx)
	return st, err
}

// loadProfile reads profile and namespaces; on failure the last known ones stay.
func (s *Service) loadProfile(ctx context.Context) error {
	var p registry.Profile
	var ns []registry.Namespace
	err := s.withToken(ctx, func(tok registry.Secret) error {
		var e error
		if p, e = s.o.Registry.Profile(ctx, tok); e != nil {
			return e
		}
		ns, e = s.o.Registry.Namespaces(ctx, tok)
		return e
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.profileErr = err.Error()
		return err
	}
	s.profile, s.namespaces, s.profileAt, s.profileErr = p, ns, s.o.Now(), ""
	return nil
}

// ErrStandingForbids is returned by GoOnline when the standing is not ok or grace.
var ErrStandingForbids = errors.New("account standing does not allow going online")

// GoOnline checks the standing with the registry and goes online when it is
// ok or grace. desktopHash, the desktop binary's self-reported hash (it proves
// nothing unsigned), is only logged.
func (s *Service) GoOnline(ctx context.Context, desktopHash string) (registry.Standing, error) {
	st, err := s.CheckStanding(ctx)
	if err != nil {
		return st, err
	}
	if !registry.AllowsOnline(st.Standing) {
		return st, ErrStandingForbids
	}
	s.mu.Lock()
	s.online = true
	s.mu.Unlock()
	s.o.Logger.Info("hall online", "standing", st.Standing, "tier", st.Tier, "desktop_hash", desktopHash)
	s.publishStanding(ctx)
	return st, nil
}

// GoOffline takes the Hall offline; it always succeeds.
func (s *Service) GoOffline(ctx context.Context) {
	s.mu.Lock()
	was := s.online
	s.online = false
	s.mu.Unlock()
	if was {
		s.o.Logger.Info("hall offline")
	}
	s.publishStanding(ctx)
}

// Logout goes offline, revokes and deletes the session.
func (s *Service) Logout(ctx context.Context) error {
	s.GoOffline(ctx)
	return s.o.Login.Logout(ctx)
}

// publishStanding publishes standing.changed when standing or online changed.
func (s *Service) publishStanding(ctx context.Context) {
	s.mu.Lock()
	v := s.standingViewLocked()
	online := s.online
	key := v.Standing + "|" + boolStr(online) + "|" + boolStr(v.Error != "")
	changed := key != s.lastPublished
	s.lastPublished = key
	s.mu.Unlock()
	if changed {
		s.publish(ctx, EventStandingChanged, struct {
			StandingView
			Online bool `json:"online"`
		}{v, online})
	}
}

func (s *Service) publish(ctx context.Context, typ string, data any) {
	if s.o.Publisher == nil {
		return
	}
	if _, err := s.o.Publisher.Emit(ctx, typ, data); err != nil {
		s.o.Logger.Error("could not publish event", "type", typ, "err", err)
	}
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
