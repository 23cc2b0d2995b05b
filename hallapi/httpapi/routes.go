package httpapi

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"hallmonitor/hallapi/apierr"
)

// routes mounts every endpoint with who may call it: Public, Agent (agents
// and the person) or Person (the person only). docs/api.md "Who may call
// what" is this table.
func (s *Server) routes() {
	pub := func(p string, h http.HandlerFunc) { s.Handle(p, h, Public) }
	agent := func(p string, h http.HandlerFunc) { s.Handle(p, h, Agent) }
	person := func(p string, h http.HandlerFunc) { s.Handle(p, h, Person) }

	pub("GET /api/health", s.handleHealth)
	pub("GET /health", s.handleHealth)
	pub("GET /wcp/health", s.handleWCPHealth)

	agent("GET /api/whoami", s.handleWhoami)
	person("POST /api/session", s.handleOpenSession)
	person("DELETE /api/session", s.handleCloseSession)

	person("GET /api/status", s.handleStatus)
	person("GET /status", s.handleStatus)
	person("GET /api/events", s.handleEvents)

	// What agents do: ask, run what the Hall decided for them, read their
	// own decisions, report decisions made elsewhere (evidence only).
	agent("POST /wcp/route", s.handleRoute)
	agent("POST /wcp/dispatch", s.handleRunDispatch)
	agent("GET /wcp/capabilities", s.handleCapabilities)
	agent("GET /wcp/workers", s.handleWorkers)
	agent("GET /api/decisions", s.handleDecisions)
	person("GET /api/stats/decisions", s.handleDecisionStats)
	agent("GET /api/decisions/{decision_id}", s.handleDecision)
	agent("POST /api/decisions/ingest", s.handleIngest)
	agent("POST /decisions/ingest", s.handleIngest)
	agent("POST /api/dispatches", s.handleStartDispatch)
	agent("POST /api/dispatches/{dispatch_id}/finish", s.handleFinishDispatch)
	person("GET /api/decisions/export", s.handleExport)
	person("GET /wcp/approvals/pending", s.handlePendingApprovals)

	person("GET /api/dispatches/active", s.handleActiveDispatches)
	person("GET /dispatches/active", s.handleActiveDispatches)
	person("GET /api/dispatches", s.handleDispatches)
	person("GET /dispatches", s.handleDispatches)

	person("GET /api/alerts", s.handleAlerts)
	person("GET /alerts", s.handleAlerts)
	person("POST /api/alerts/{alert_id}/ack", s.handleAckAlert)

	person("GET /api/approvals", s.handleApprovals)
	person("POST /api/approvals/{approval_id}/resolve", s.handleResolveApproval)

	person("GET /api/workers", s.handleWorkers)
	person("GET /workers", s.handleWorkers)
	person("GET /api/workers/available", s.handleAvailableWorkers)
	person("POST /api/workers/validate", s.handleValidate)
	person("POST /api/workers/enroll", s.handleEnroll)
	person("POST /enroll", s.handleLegacyEnroll)
	person("DELETE /api/workers/{worker_id}", s.handleUnenroll)
	person("GET /api/keys", s.handleKeys)
	person("POST /api/keys", s.handleMakeKey)
	person("POST /api/keys/sign", s.handleSignPackage)

	person("GET /api/rules", s.handleRules)
	person("PUT /api/rules", s.handlePutRules)
	person("POST /api/rules/preview", s.handlePreviewRules)
	person("GET /api/settings", s.handleGetSettings)
	person("PUT /api/settings", s.handlePutSettings)
	person("GET /api/setup", s.handleGetSetup)
	person("POST /api/setup", s.handlePostSetup)
	person("POST /api/setup/token", s.handleRotateToken)

	person("GET /api/agents", s.handleAgents)
	person("POST /api/agents", s.handleCreateAgent)
	person("POST /api/agents/{agent_id}/rotate", s.handleRotateAgent)
	person("DELETE /api/agents/{agent_id}", s.handleRevokeAgent)

	person("GET /api/auth/passphrase-status", s.handlePassphraseStatus)
	person("POST /api/auth/set-passphrase", s.handleSetPassphrase)
	person("POST /api/auth/unlock", s.handleUnlock)
	person("POST /api/auth/lock", s.handleLock)
	person("POST /api/auth/change-passphrase", s.handleChangePassphrase)
	person("POST /api/auth/remove-passphrase", s.handleRemovePassphrase)

	person("GET /api/mcp/servers", s.handleMCPServers)
	person("POST /api/mcp/servers", s.handleAddMCPServer)
	person("DELETE /api/mcp/servers/{id}", s.handleRemoveMCPServer)
	person("POST /api/mcp/servers/{id}/ping", s.handlePingMCPServer)

	agent("GET /api/coord/agents", s.handleCoordAgents)
	agent("POST /api/coord/agents/heartbeat", s.handleCoordHeartbeat)
	agent("GET /api/coord/tasks", s.handleCoordTasks)
	agent("POST /api/coord/tasks", s.handleCoordCreateTask)
	agent("PATCH /api/coord/tasks/{task_id}", s.handleCoordUpdateTask)
	agent("POST /api/coord/tasks/{task_id}/claim", s.handleCoordClaim)
	agent("POST /api/coord/tasks/{task_id}/complete", s.handleCoordComplete)
	agent("POST /api/coord/tasks/{task_id}/reassign", s.handleCoordReassign)
	agent("GET /api/coord/locks", s.handleCoordLocks)
	agent("POST /api/coord/locks", s.handleCoordAcquireLock)
	agent("POST /api/coord/locks/release", s.handleCoordReleaseLock)
	agent("GET /api/coord/messages", s.handleCoordMessages)
	agent("POST /api/coord/messages", s.handleCoordPostMessage)
}

// statusRecorder captures the status the mux would answer for an unmatched route.
type statusRecorder struct {
	h      http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.h }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(status int)      { r.status = status }

func isAPIPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || p == "/api" || strings.HasPrefix(p, "/wcp/") || p == "/wcp"
}

// dispatch routes through the mux; unmatched requests get JSON 404/405, and
// non-API GETs fall back to the static UI (index.html for unknown paths).
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r) // sets the path values
		return
	}
	rec := &statusRecorder{h: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.h.Get("Allow"))
		WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed",
			r.Method+" is not allowed on "+apierr.Quote(r.URL.Path)+"; allowed: "+rec.h.Get("Allow"), "")
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !isAPIPath(r.URL.Path) && s.opts.UI != nil {
		s.serveUI(w, r)
		return
	}
	WriteError(w, http.StatusNotFound, "not_found", "no endpoint "+r.Method+" "+apierr.Quote(r.URL.Path)+" (see docs/api.md)", "")
}

// staticExt are file types that are never SPA routes: a missing one is a 404.
var staticExt = map[string]bool{".js": true, ".mjs": true, ".css": true, ".map": true, ".png": true, ".svg": true,
	".ico": true, ".jpg": true, ".webp": true, ".woff": true, ".woff2": true, ".json": true, ".txt": true, ".html": true, ".wasm": true}

func (s *Server) serveUI(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(s.opts.UI, name)
	if err != nil || strings.HasSuffix(name, "/") {
		if strings.HasPrefix(name, "assets/") || staticExt[path.Ext(name)] {
			WriteError(w, http.StatusNotFound, "not_found", "no file "+apierr.Quote("/"+name)+" in the UI", "")
			return
		}
		name = "index.html"
		if b, err = fs.ReadFile(s.opts.UI, name); err != nil {
			WriteError(w, http.StatusNotFound, "not_found", "the UI is not built into this binary (frontend/dist is missing)", "")
			return
		}
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	if name == "index.html" {
		hd.Set("Cache-Control", "no-cache")
	} else if strings.HasPrefix(name, "assets/") {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
