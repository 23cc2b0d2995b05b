package account

import (
	"context"
	"time"

	"hallmonitor/hallapi"
)

// AccountStatus implements hallapi.AccountState for GET /api/status.
func (s *Service) AccountStatus(context.Context) hallapi.AccountStatus {
	v := s.Standing()
	st := hallapi.AccountStatus{LoggedIn: s.LoggedIn(), GitHubLogin: s.GitHubLogin(), Standing: v.Standing,
		Tier: s.Tier(), Online: s.Online()}
	st.GraceSecondsRemaining = v.GraceSecondsRemaining
	if v.CheckedAt != nil {
		st.StandingCheckedAt = v.CheckedAt.UTC().Format(time.RFC3339)
	}
	return st
}

// Mount registers the account routes on the Hall API server (token-protected
// except the login callback) and installs the Service as its account state.
func (s *Service) Mount(srv *hallapi.Server) {
	for _, r := range s.Routes() {
		access := hallapi.Token
		if r.Public {
			access = hallapi.Public
		}
		srv.Handle(r.Pattern, r.Handler, access)
	}
	srv.SetAccount(s)
}
