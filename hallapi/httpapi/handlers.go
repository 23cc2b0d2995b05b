package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hallmonitor/hallapi/agents"
	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"
)

// WCPVersion is the protocol version the Hall speaks.
const WCPVersion = "0.1"

func intParam(r *http.Request, name string, def, min, max int) (int, *httpError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, errf(http.StatusBadRequest, "invalid_field", name, "query parameter %s=%s must be a whole number from %d to %d", name, apierr.Quote(v), min, max)
	}
	return n, nil
}

// validID checks a path id: 1..128 printable ASCII characters without spaces or slashes.
func validID(field, id string) *httpError { return fromDomain(apierr.ValidID(field, id)) }

func (s *Server) uptime() int64 { return int64(s.opts.Now().Sub(s.started).Seconds()) }

// handleHealth answers without a token, so it names no file of the user's
// (the database and log paths are in GET /api/status).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{
		"status": "ok", "version": s.opts.Version, "started_at": s.started.Format(time.RFC3339),
		"uptime_seconds": s.uptime(), "listen": s.Listen(), "timestamp": s.opts.Now().UTC().Format(time.RFC3339),
	})
}

func (s *Server) handleWCPHealth(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "wcp_version": WCPVersion, "hall_version": s.opts.Version})
}

func (s *Server) accountStatus(r *http.Request) AccountStatus {
	if p := s.account.Load(); p != nil && *p != nil {
		return (*p).AccountStatus(r.Context())
	}
	return AccountStatus{}
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	acct := s.accountStatus(r)
	st, err := s.st.GetSettings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := time.Local
	if st.Timezone != "" {
		if l, err := time.LoadLocation(st.Timezone); err == nil {
			loc = l
		}
	}
	counts, err := s.st.Counts(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	refusals, _, err := s.st.QueryDecisions(r.Context(), store.DecisionFilter{Outcome: store.OutcomeDenied, Limit: 5})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	state := "offline"
	switch {
	case acct.Online:
		state = "online"
	case acct.LoggedIn:
		state = "ready"
	}
	rs := s.dec.Rules()
	out := map[string]any{
		"state": state, "online": acct.Online, "logged_in": acct.LoggedIn, "github_login": acct.GitHubLogin,
		"account_standing": acct.Standing, "grace_seconds_remaining": acct.GraceSecondsRemaining,
		"standing_checked_at": acct.StandingCheckedAt, "tier": acct.Tier, "counts": counts, "recent_refusals": refusals,
		"server": map[string]any{
			"version": s.opts.Version, "listen": s.Listen(), "db_path": s.st.Path(), "log_path": s.opts.LogPath, "started_at": s.started.Format(time.RFC3339),
			"uptime_seconds": s.uptime(), "rules_loaded": rs.Set != nil && rs.Err == "", "rules_hash": rs.Hash, "rules_path": rs.Path,
			"last_event_id": s.st.LastEventID(),
		},
		// Legacy /status keys of the reference Hall API.
		"hall_version": s.opts.Version, "workers_enrolled": counts.Workers, "decisions_today": counts.DecisionsToday,
		"denials_today": counts.DenialsToday, "timestamp": s.opts.Now().UTC().Format(time.RFC3339),
	}
	s.sections.Range(func(k, f any) bool { out[k.(string)] = f.(func() any)(); return true })
	WriteJSON(w, http.StatusOK, out)
}

// ---- settings ----

func validateSettings(st store.Settings) *httpError {
	if st.Timezone != "" {
		if _, err := time.LoadLocation(st.Timezone); err != nil || st.Timezone == "Local" {
			return errf(http.StatusBadRequest, "invalid_field", "timezone", "timezone %s is not an IANA zone name such as Europe/Paris (\"\" = system)", apierr.Quote(st.Timezone))
		}
	}
	if st.Locale != "" && !validLocale(st.Locale) {
		return errf(http.StatusBadRequest, "invalid_field", "locale", "locale %s is not a BCP 47 tag such as en-GB (\"\" = system)", apierr.Quote(st.Locale))
	}
	if st.FeedMaxRows < 50 || st.FeedMaxRows > 10000 {
		return errf(http.StatusBadRequest, "invalid_field", "feed_max_rows", "feed_max_rows must be from 50 to 10000 (default 500)")
	}
	if st.NotifyOn == nil {
		return errf(http.StatusBadRequest, "missing_field", "notify_on", "notify_on must be a list of event types (may be empty)")
	}
	for i, t := range st.NotifyOn {
		if !events.Known(t) {
			return errf(http.StatusBadRequest, "invalid_field", fmt.Sprintf("notify_on[%d]", i), "%s is not an event type (e.g. alert.raised, approval.created)", apierr.Quote(t))
		}
	}
	if !strings.HasPrefix(st.DefaultProfile, "prof.") || len(st.DefaultProfile) > 100 || strings.ContainsAny(st.DefaultProfile, " \t\r\n") {
		return errf(http.StatusBadRequest, "invalid_field", "default_profile", "default_profile must be a profile id starting with 'prof.', e.g. prof.dev.permissive")
	}
	switch st.Theme {
	case "system", "light", "dark":
	default:
		return errf(http.StatusBadRequest, "invalid_field", "theme", "theme must be system, light or dark")
	}
	return nil
}

func validLocale(l string) bool {
	if len(l) > 35 {
		return false
	}
	for i, part := range strings.Split(l, "-") {
		if len(part) == 0 || len(part) > 8 || (i == 0 && (len(part) < 2 || len(part) > 3)) {
			return false
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

func (s *Server) handleGetSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.st.GetSettings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", st.ETag())
	WriteJSON(w, http.StatusOK, map[string]any{"settings": st})
}

// settingsBody has pointer fields so missing keys are detected (PUT replaces all keys).
type settingsBody struct {
	Timezone          *string   `json:"timezone"`
	Locale            *string   `json:"locale"`
	FeedMaxRows       *int      `json:"feed_max_rows"`
	NotifyOn          *[]string `json:"notify_on"`
	NotifyEveryDenial *bool     `json:"notify_every_denial"`
	DefaultProfile    *string   `json:"default_profile"`
	Theme             *string   `json:"theme"`
	CloseToTray       *bool     `json:"close_to_tray"`
}

func (s *Server) handlePutSettings(w http.ResponseWriter, r *http.Request) {
	var b settingsBody
	if he := readJSON(w, r, maxBody, &b); he != nil {
		s.fail(w, r, he)
		return
	}
	missing := ""
	switch {
	case b.Timezone == nil:
		missing = "timezone"
	case b.Locale == nil:
		missing = "locale"
	case b.FeedMaxRows == nil:
		missing = "feed_max_rows"
	case b.NotifyOn == nil:
		missing = "notify_on"
	case b.NotifyEveryDenial == nil:
		missing = "notify_every_denial"
	case b.DefaultProfile == nil:
		missing = "default_profile"
	case b.Theme == nil:
		missing = "theme"
	case b.CloseToTray == nil:
		missing = "close_to_tray"
	}
	if missing != "" {
		s.fail(w, r, errf(http.StatusBadRequest, "missing_field", missing, "PUT /api/settings replaces every setting: include %s", missing))
		return
	}
	st := store.Settings{Timezone: *b.Timezone, Locale: *b.Locale, FeedMaxRows: *b.FeedMaxRows, NotifyOn: *b.NotifyOn,
		NotifyEveryDenial: *b.NotifyEveryDenial, DefaultProfile: *b.DefaultProfile, Theme: *b.Theme,
		CloseToTray: *b.CloseToTray}
	if he := validateSettings(st); he != nil {
		s.fail(w, r, he)
		return
	}
	etag := r.Header.Get("If-Match")
	if etag == "" {
		s.fail(w, r, errf(http.StatusPreconditionRequired, "precondition_failed", "", "send If-Match with the ETag of GET /api/settings so concurrent edits are not lost"))
		return
	}
	st, err := s.st.PutSettings(r.Context(), st, etag)
	if errors.Is(err, store.ErrPrecondition) {
		s.fail(w, r, errf(http.StatusPreconditionFailed, "precondition_failed", "", "the settings changed since you read them (ETag mismatch): reload and apply your change again"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", st.ETag())
	WriteJSON(w, http.StatusOK, map[string]any{"settings": st})
}

// ---- setup ----

func (s *Server) handleGetSetup(w http.ResponseWriter, r *http.Request) {
	cfg, err := config.Load(s.opts.ConfigDir)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	def, err := config.Defaults(s.opts.ConfigDir)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"completed": cfg.Completed(), "config": cfg, "defaults": def})
}

func (s *Server) handlePostSetup(w http.ResponseWriter, r *http.Request) {
	var cfg config.Config
	if he := readJSON(w, r, maxBody, &cfg); he != nil {
		s.fail(w, r, he)
		return
	}
	cfg.SetupCompletedAt = s.opts.Now().UTC().Format(time.RFC3339)
	// The wizard does not edit the registry paths or client id (config.json
	// does): keep what the file has when the body leaves them out.
	if cur, err := config.Load(s.opts.ConfigDir); err == nil {
		if cfg.RegistryPaths == nil {
			cfg.RegistryPaths = cur.RegistryPaths
		}
		if cfg.RegistryClientID == "" {
			cfg.RegistryClientID = cur.RegistryClientID
		}
		if cfg.HallConfig == nil {
			cfg.HallConfig = cur.HallConfig
		}
		if cfg.RegistryCallback == "" {
			cfg.RegistryCallback = cur.RegistryCallback
		}
		if cfg.OTLPEndpoint == "" && cfg.OTLPProtocol == "" && !cfg.OTLPIncludeInputs {
			cfg.OTLPEndpoint, cfg.OTLPProtocol, cfg.OTLPIncludeInputs = cur.OTLPEndpoint, cur.OTLPProtocol, cur.OTLPIncludeInputs
		}
	}
	if err := cfg.Validate(); err != nil {
		var fe *config.FieldError
		if errors.As(err, &fe) {
			s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", fe.Field, "%s %s", fe.Field, fe.Message))
			return
		}
		s.fail(w, r, err)
		return
	}
	if err := config.Save(s.opts.ConfigDir, cfg); err != nil {
		s.fail(w, r, err)
		return
	}
	// The settings table is where the running Hall reads the default
	// profile; the wizard's choice goes there too.
	if err := s.setDefaultProfile(r.Context(), cfg.DefaultProfile); err != nil {
		s.fail(w, r, err)
		return
	}
	restart := cfg.DataDir != s.opts.Config.DataDir || cfg.Port != s.opts.Config.Port || cfg.RegistryURL != s.opts.Config.RegistryURL
	wd := cfg.WorkersDir
	s.workersDir.Store(&wd)
	s.dec.SetRulesPath(r.Context(), cfg.RulesPath)
	if _, err := s.st.Emit(r.Context(), events.SetupChanged, map[string]any{"completed": true, "restart_required": restart}); err != nil {
		s.log.Warn("record setup event", "err", err)
	}
	WriteJSON(w, http.StatusOK, map[string]any{"completed": true, "config": cfg, "restart_required": restart})
}

func (s *Server) setDefaultProfile(ctx context.Context, profile string) error {
	for range 3 {
		cur, err := s.st.GetSettings(ctx)
		if err != nil || cur.DefaultProfile == profile {
			return err
		}
		next := cur
		next.DefaultProfile = profile
		if _, err = s.st.PutSettings(ctx, next, cur.ETag()); !errors.Is(err, store.ErrPrecondition) {
			return err
		}
	}
	return fmt.Errorf("settings kept changing while setup saved the default profile; save it in Settings")
}

// handleRotateToken gives agent "default" (the setup wizard's token, the
// api-token file) a new token; the old one stops working.
func (s *Server) handleRotateToken(w http.ResponseWriter, r *http.Request) {
	if he := emptyBody(w, r); he != nil {
		s.fail(w, r, he)
		return
	}
	tok, err := s.agents.RotateOrCreate(r.Context(), agents.DefaultAgent)
	if err == nil {
		err = config.WriteToken(s.opts.ConfigDir, config.Token(tok))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.token.Store(&tok)
	s.log.Info("token of agent default rotated")
	WriteJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// ---- alerts ----

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AlertFilter{Severity: q.Get("severity")}
	if f.Severity != "" && !store.ValidSeverity(f.Severity) {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "severity", "severity must be critical, error, warning or info"))
		return
	}
	if a := q.Get("acknowledged"); a != "" {
		v, err := strconv.ParseBool(a)
		if err != nil || (a != "true" && a != "false") {
			s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "acknowledged", "acknowledged must be true or false"))
			return
		}
		f.Acknowledged = &v
	}
	var he *httpError
	if f.Limit, he = intParam(r, "limit", 50, 1, 500); he != nil {
		s.fail(w, r, he)
		return
	}
	as, err := s.st.ListAlerts(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"alerts": as})
}

func (s *Server) handleAckAlert(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("alert_id")
	if he := validID("alert_id", id); he != nil {
		s.fail(w, r, he)
		return
	}
	if he := emptyBody(w, r); he != nil {
		s.fail(w, r, he)
		return
	}
	a, err := s.st.AcknowledgeAlert(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, errf(http.StatusNotFound, "not_found", "alert_id", "no alert %s", apierr.Quote(id)))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, a)
}

// emptyBody accepts no body, or an empty JSON object.
func emptyBody(w http.ResponseWriter, r *http.Request) *httpError {
	b, he := readBody(w, r, maxBody)
	if he != nil {
		return he
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	var empty struct{}
	return decodeStrict(b, &empty)
}

// ---- approvals ----

func (s *Server) handleApprovals(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if status != "" && !store.ValidApprovalStatus(status) {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "status", "status must be pending, approved, denied, escalated or expired"))
		return
	}
	s.listApprovals(w, r, status)
}

func (s *Server) handlePendingApprovals(w http.ResponseWriter, r *http.Request) {
	s.listApprovals(w, r, store.ApprovalPending)
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request, status string) {
	as, err := s.st.ListApprovals(r.Context(), status)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"approvals": as})
}

func (s *Server) handleResolveApproval(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Action string `json:"action"`
		Note   string `json:"note"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	a, err := s.dec.ResolveApproval(r.Context(), r.PathValue("approval_id"), body.Action, body.Note)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, a)
}

// ---- dispatches ----

func (s *Server) handleActiveDispatches(w http.ResponseWriter, r *http.Request) {
	ds, err := s.st.ActiveDispatches(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"active": ds})
}

func (s *Server) handleDispatches(w http.ResponseWriter, r *http.Request) {
	limit, he := intParam(r, "limit", 50, 1, 200)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	ds, next, err := s.st.ListDispatches(r.Context(), limit, r.URL.Query().Get("cursor"))
	if errors.Is(err, store.ErrBadCursor) {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "cursor", "%v", err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"dispatches": ds, "next_cursor": next})
}

func (s *Server) handleStartDispatch(w http.ResponseWriter, r *http.Request) {
	id, ok := s.readDecisionID(w, r)
	if !ok {
		return
	}
	d, err := s.st.StartDispatch(r.Context(), id)
	var refused *store.DispatchRefusedError
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, errf(http.StatusNotFound, "not_found", "decision_id", "no decision %s", apierr.Quote(id)))
	case errors.As(err, &refused):
		s.fail(w, r, errf(http.StatusConflict, "conflict", "decision_id", "%s", refused.Reason))
	case errors.Is(err, store.ErrNotYours):
		s.fail(w, r, errf(http.StatusForbidden, "forbidden_scope", "decision_id", "%v: an agent runs only the decisions the Hall made for it", err))
	case err != nil:
		s.fail(w, r, err)
	default:
		WriteJSON(w, http.StatusCreated, d)
	}
}

func (s *Server) handleFinishDispatch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("dispatch_id")
	if he := validID("dispatch_id", id); he != nil {
		s.fail(w, r, he)
		return
	}
	var body struct {
		Outcome    string `json:"outcome"`
		Error      string `json:"error"`
		ResultHash string `json:"result_hash"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	if body.Outcome == "" {
		s.fail(w, r, errf(http.StatusBadRequest, "missing_field", "outcome", "outcome is required: succeeded, failed, timed_out or cancelled"))
		return
	}
	if !store.ValidDispatchOutcome(body.Outcome) {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "outcome", "outcome must be succeeded, failed, timed_out or cancelled, not %s", apierr.Quote(body.Outcome)))
		return
	}
	if len(body.Error) > 4000 {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "error", "error must be at most 4000 characters"))
		return
	}
	if body.ResultHash != "" && !isHex64(strings.TrimPrefix(body.ResultHash, "sha256:")) {
		s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "result_hash", "result_hash must be 64 lowercase hex characters (optionally prefixed sha256:)"))
		return
	}
	d, err := s.st.FinishDispatch(r.Context(), id, body.Outcome, body.Error, body.ResultHash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, errf(http.StatusNotFound, "not_found", "dispatch_id", "no dispatch %s", apierr.Quote(id)))
	case errors.Is(err, store.ErrConflict):
		s.fail(w, r, errf(http.StatusConflict, "conflict", "dispatch_id", "%v", err))
	case errors.Is(err, store.ErrNotYours):
		s.fail(w, r, errf(http.StatusForbidden, "forbidden_scope", "dispatch_id", "%v", err))
	case err != nil:
		s.fail(w, r, err)
	default:
		WriteJSON(w, http.StatusOK, d)
	}
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ---- workers ----

func (s *Server) handleWorkers(w http.ResponseWriter, r *http.Request) {
	ws, err := s.st.ListWorkers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.opts.Now()
	for i := range ws {
		if t, err := time.Parse(time.RFC3339Nano, ws[i].Registry.CheckedAt); err == nil {
			age := int64(now.Sub(t).Seconds())
			ws[i].Registry.AgeSeconds = &age
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"workers": ws, "count": len(ws)})
}

func (s *Server) handleCapabilities(w http.ResponseWriter, r *http.Request) {
	ws, err := s.st.ListWorkers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type capability struct {
		CapabilityID string   `json:"capability_id"`
		Workers      []string `json:"workers"`
	}
	idx := map[string]int{}
	caps := []capability{}
	for i := len(ws) - 1; i >= 0; i-- { // oldest enrollment first
		for _, c := range ws[i].Capabilities {
			j, ok := idx[c]
			if !ok {
				j = len(caps)
				idx[c] = j
				caps = append(caps, capability{CapabilityID: c, Workers: []string{}})
			}
			if !contains(caps[j].Workers, ws[i].WorkerSpeciesID) {
				caps[j].Workers = append(caps[j].Workers, ws[i].WorkerSpeciesID)
			}
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"capabilities": caps})
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Server) handleUnenroll(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("worker_id")
	if he := validID("worker_id", id); he != nil {
		s.fail(w, r, he)
		return
	}
	err := s.st.DeleteWorker(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, errf(http.StatusNotFound, "not_found", "worker_id", "no enrolled worker %s", apierr.Quote(id)))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"unenrolled": true, "worker_id": id})
}
