package httpapi

import (
	"context"
	"time"

	"hallmonitor/hallapi/account"
)

// MountAccount registers the account routes (login, profile, go online, the
// registry proxy; the person's except the login callback) and makes the
// account the state GET /api/status reports.
func (s *Server) MountAccount(a *account.Service) {
	for _, r := range a.Routes() {
		access := Person
		if r.Public {
			access = Public
		}
		s.Handle(r.Pattern, r.Handler, access)
	}
	s.SetAccount(accountState{a})
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
