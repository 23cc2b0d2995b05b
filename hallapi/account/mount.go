package account

import (
	"context"
	"time"

	"hallmonitor/hallapi/httpapi"
)

// AccountStatus implements httpapi.AccountState for GET /api/status.
func (s *Service) AccountStatus(context.Context) httpapi.AccountStatus {
	v := s.Standing()
	st := httpapi.AccountStatus{LoggedIn: s.LoggedIn(), GitHubLogin: s.GitHubLogin(), Standing: v.Standing,
		Tier: s.Tier(), Online: s.Online()}
	st.GraceSecondsRemaining = v.GraceSecondsRemaining
	if v.CheckedAt != nil {
		st.StandingCheckedAt = v.CheckedAt.UTC().Format(time.RFC3339)
	}
	return st
}

// Mount registers the account routes on the Hall API server (token-protected
// except the login callback) and installs the Service as its account state.
func (s *Service) Mount(srv *httpapi.Server) {
	for _, r := range s.Routes() {
		access := httpapi.Token
		if r.Public {
			access = httpapi.Public
		}
		srv.Handle(r.Pattern, r.Handler, access)
	}
	srv.SetAccount(s)
}
