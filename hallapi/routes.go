package hallapi

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

func (s *Server) routes() {
	pub := func(p string, h http.HandlerFunc) { s.Handle(p, h, Public) }
	tok := func(p string, h http.HandlerFunc) { s.Handle(p, h, Token) }

	pub("GET /api/health", s.handleHealth)
	pub("GET /health", s.handleHealth)
	pub("GET /wcp/health", s.handleWCPHealth)

	tok("GET /api/status", s.handleStatus)
	tok("GET /status", s.handleStatus)
	tok("GET /api/events", s.handleEvents)

	tok("GET /api/decisions", s.handleDecisions)
	tok("GET /api/stats/decisions", s.handleDecisionStats)
	tok("GET /api/decisions/export", s.handleExport)
	tok("GET /api/decisions/{decision_id}", s.handleDecision)
	tok("POST /api/decisions/ingest", s.handleIngest)
	tok("POST /decisions/ingest", s.handleIngest)
	tok("POST /wcp/route", s.handleRoute)
	tok("POST /wcp/dispatch", s.handleRunDispatch)
	tok("GET /wcp/capabilities", s.handleCapabilities)
	tok("GET /wcp/workers", s.handleWorkers)
	tok("GET /wcp/approvals/pending", s.handlePendingApprovals)

	tok("GET /api/dispatches/active", s.handleActiveDispatches)
	tok("GET /dispatches/active", s.handleActiveDispatches)
	tok("GET /api/dispatches", s.handleDispatches)
	tok("GET /dispatches", s.handleDispatches)
	tok("POST /api/dispatches", s.handleStartDispatch)
	tok("POST /api/dispatches/{dispatch_id}/finish", s.handleFinishDispatch)

	tok("GET /api/alerts", s.handleAlerts)
	tok("GET /alerts", s.handleAlerts)
	tok("POST /api/alerts/{alert_id}/ack", s.handleAckAlert)

	tok("GET /api/approvals", s.handleApprovals)
	tok("POST /api/approvals/{approval_id}/resolve", s.handleResolveApproval)

	tok("GET /api/workers", s.handleWorkers)
	tok("GET /workers", s.handleWorkers)
	tok("GET /api/workers/available", s.handleAvailableWorkers)
	tok("POST /api/workers/validate", s.handleValidate)
	tok("POST /api/workers/enroll", s.handleEnroll)
	tok("POST /enroll", s.handleLegacyEnroll)
	tok("DELETE /api/workers/{worker_id}", s.handleUnenroll)

	tok("GET /api/rules", s.handleRules)
	tok("GET /api/settings", s.handleGetSettings)
	tok("PUT /api/settings", s.handlePutSettings)
	tok("GET /api/setup", s.handleGetSetup)
	tok("POST /api/setup", s.handlePostSetup)
	tok("POST /api/setup/token", s.handleRotateToken)

	tok("GET /api/auth/passphrase-status", s.handlePassphraseStatus)
	tok("POST /api/auth/set-passphrase", s.handleSetPassphrase)
	tok("POST /api/auth/unlock", s.handleUnlock)
	tok("POST /api/auth/lock", s.handleLock)
	tok("POST /api/auth/change-passphrase", s.handleChangePassphrase)
	tok("POST /api/auth/remove-passphrase", s.handleRemovePassphrase)

	tok("GET /api/mcp/servers", s.handleMCPServers)
	tok("POST /api/mcp/servers", s.handleAddMCPServer)
	tok("DELETE /api/mcp/servers/{id}", s.handleRemoveMCPServer)
	tok("POST /api/mcp/servers/{id}/ping", s.handlePingMCPServer)

	tok("GET /api/coord/agents", s.handleCoordAgents)
	tok("POST /api/coord/agents/heartbeat", s.handleCoordHeartbeat)
	tok("GET /api/coord/tasks", s.handleCoordTasks)
	tok("POST /api/coord/tasks", s.handleCoordCreateTask)
	tok("PATCH /api/coord/tasks/{task_id}", s.handleCoordUpdateTask)
	tok("POST /api/coord/tasks/{task_id}/claim", s.handleCoordClaim)
	tok("POST /api/coord/tasks/{task_id}/complete", s.handleCoordComplete)
	tok("POST /api/coord/tasks/{task_id}/reassign", s.handleCoordReassign)
	tok("GET /api/coord/locks", s.handleCoordLocks)
	tok("POST /api/coord/locks", s.handleCoordAcquireLock)
	tok("POST /api/coord/locks/release", s.handleCoordReleaseLock)
	tok("GET /api/coord/messages", s.handleCoordMessages)
	tok("POST /api/coord/messages", s.handleCoordPostMessage)
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
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
			r.Method+" is not allowed on "+quoteForMessage(r.URL.Path)+"; allowed: "+rec.h.Get("Allow"), "")
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !isAPIPath(r.URL.Path) && s.opts.UI != nil {
		s.serveUI(w, r)
		return
	}
	writeError(w, http.StatusNotFound, "not_found", "no endpoint "+r.Method+" "+quoteForMessage(r.URL.Path)+" (see docs/api.md)", "")
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
			writeError(w, http.StatusNotFound, "not_found", "no file "+quoteForMessage("/"+name)+" in the UI", "")
			return
		}
		name = "index.html"
		if b, err = fs.ReadFile(s.opts.UI, name); err != nil {
			writeError(w, http.StatusNotFound, "not_found", "the UI is not built into this binary (frontend/dist is missing)", "")
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
