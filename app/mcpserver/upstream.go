package mcpserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/hallapi/mcpclient"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

// Proxied tools: every tool of a connected MCP server (Settings → Connected
// MCPs) whose last ping answered is offered as <server>__<tool> with the
// upstream input schema. A call is decided first, through the Hall's one
// route-and-record path (Server.route), as capability cap.mcp.<server>
// with the request {"tool", "arguments"}; only an allowed decision is
// forwarded, recorded as a dispatch start and finish of worker
// wrk.mcp.<server>. With no rule allowing the capability the call is refused
// with the deny code and never reaches the upstream server (fail closed).

// upstreamTimeout bounds one forwarded call (and the connect it needs when
// the server's pooled session is not open yet).
const upstreamTimeout = 60 * time.Second

// upstreamSep joins server and tool in a proxied tool's name.
const upstreamSep = "__"

// upstreamTools are the proxied tools offered now (name -> fingerprint).
type upstreamTools struct {
	mu    sync.Mutex
	tools map[string]string
}

// upstreamRequest is the request recorded with a proxied call's decision
// (and forwarded once it may run).
type upstreamRequest struct {
	ServerID  string          `json:"server_id"` // the connected server decided for (a later one of that name is another)
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
}

// refreshUpstream offers the tools of the online connected servers and
// withdraws those of servers removed, offline, or no longer listing them.
func (s *Server) refreshUpstream(ctx context.Context) error {
	ms, err := s.st.ListMCPServers(ctx)
	if err != nil {
		return fmt.Errorf("list connected MCP servers: %w", err)
	}
	type proxied struct {
		server store.MCPServer
		tool   store.MCPTool
	}
	want := map[string]proxied{}
	online := []string{}
	for _, m := range ms {
		if m.Status != store.MCPOnline {
			continue
		}
		online = append(online, m.ID)
		for _, t := range m.Tools {
			name := m.Name + upstreamSep + t.Name
			if err := validToolName(name); err != nil {
				s.log.Warn("upstream tool cannot be proxied", "server", m.Name, "tool", t.Name, "err", err)
				continue
			}
			want[name] = proxied{m, t}
		}
	}
	offered := map[string]offeredTool{}
	for name, p := range want {
		schema := p.tool.InputSchema
		if len(schema) == 0 || string(schema) == "null" {
			schema = json.RawMessage(`{"type":"object"}`)
		}
		serverID, server, tool := p.server.ID, p.server.Name, p.tool.Name
		offered[name] = offeredTool{
			fingerprint: p.server.ID + "|" + p.tool.Description + "|" + string(schema),
			schema:      schema,
			description: fmt.Sprintf("%s (tool %s of the connected MCP server %s). Governed: the Hall's rules decide every call as %s; a refusal is a tool error with its deny_code.",
				strings.TrimSpace(p.tool.Description), tool, server, mcpclient.CapabilityID(server)),
			call: func(ctx context.Context, args json.RawMessage) *mcp.CallToolResult {
				return s.callUpstream(ctx, serverID, tool, args)
			},
		}
	}
	u := &s.upstream
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.tools == nil {
		u.tools = map[string]string{}
	}
	s.syncTools(u.tools, offered, "upstream")
	// Sessions of servers removed or no longer online are closed (a stdio
	// server's process stops).
	s.pool.Retain(online)
	return nil
}

// callUpstream governs one proxied call: decide and record, then forward
// only when allowed.
func (s *Server) callUpstream(ctx context.Context, serverID, tool string, args json.RawMessage) *mcp.CallToolResult {
	m, err := s.st.GetMCPServer(ctx, serverID)
	if errors.Is(err, store.ErrNotFound) {
		return toolError("not_found", "this MCP server was removed from Hall Monitor (Settings → Connected MCPs)")
	}
	if err != nil {
		return toolError("hall_error", err.Error())
	}
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage("{}")
	}
	request, err := json.Marshal(map[string]any{"request": upstreamRequest{ServerID: m.ID, Tool: tool, Arguments: args}})
	if err != nil {
		return toolError("invalid_arguments", err.Error())
	}
	input, err := routeInput(mcpclient.CapabilityID(m.Name), request, s.defaultEnv(ctx))
	if err != nil {
		return toolError("invalid_arguments", err.Error())
	}
	r, err := s.route(ctx, input)
	if err != nil {
		code, msg := apiError(err)
		s.log.Error("route proxied MCP call", "server", m.Name, "tool", tool, "err", err)
		return toolError(code, msg)
	}
	d := r.Decision
	gov := Governance{DecisionID: d.DecisionID, MatchedRuleID: d.MatchedRuleID, CorrelationID: d.CorrelationID, ReceiptHash: r.Receipt.ReceiptHash,
		SelectedWorker: deref(d.SelectedWorkerSpeciesID)}
	switch {
	case d.Denied:
		return textResult(true, map[string]any{"wcp_denied": true, "deny_code": d.Code(), "deny_message": d.DenyReasonIfDenied.Message,
			"capability_id": d.CapabilityID, "matched_rule_id": d.MatchedRuleID, "correlation_id": d.CorrelationID,
			"decision_id": d.DecisionID, "receipt_hash": r.Receipt.ReceiptHash})
	case d.SupervisorRequired:
		return textResult(true, map[string]any{"wcp_pending": true, "pending_approval_id": deref(d.PendingApprovalID),
			"approval_expires_at": d.ApprovalExpiresAt, "decision_id": d.DecisionID, "matched_rule_id": d.MatchedRuleID,
			"message": "A person must approve this call in Hall Monitor (Approvals); then run it with " + ToolDispatchApproved + "."})
	}
	return s.forward(ctx, m, d.DecisionID, tool, args, gov)
}

// forward runs an allowed (or approved) decision's call on the upstream
// server, recorded as a dispatch; the upstream result is returned as it came
// with the governance block in _meta.
func (s *Server) forward(ctx context.Context, m store.MCPServer, decisionID, tool string, args json.RawMessage, gov Governance) *mcp.CallToolResult {
	disp, err := s.st.StartDispatchBy(ctx, decisionID, workers.Runner)
	var refused *store.DispatchRefusedError
	if errors.As(err, &refused) {
		return toolError("dispatch_refused", refused.Reason)
	}
	if err != nil {
		return toolError("hall_error", err.Error())
	}
	gov.DispatchID = disp.DispatchID
	res, callErr := s.pool.Call(ctx, m, tool, args, upstreamTimeout)
	outcome, errText, resultHash := store.DispatchSucceeded, "", ""
	switch {
	case callErr != nil:
		outcome, errText = store.DispatchFailed, callErr.Error()
		if errors.Is(ctx.Err(), context.Canceled) {
			outcome = store.DispatchCancelled
		}
	default:
		if b, err := json.Marshal(res); err == nil {
			sum := sha256.Sum256(b)
			resultHash = hex.EncodeToString(sum[:])
		}
		if res.IsError {
			outcome, errText = store.DispatchFailed, "the upstream tool reported an error"
		}
	}
	// The finish is recorded even when the caller gave up.
	fin, err := s.st.FinishDispatch(context.WithoutCancel(ctx), disp.DispatchID, outcome, errText, resultHash)
	if err != nil {
		s.log.Error("record proxied call finish", "dispatch_id", disp.DispatchID, "err", err)
	}
	gov.DurationMS, gov.ResultHash = fin.DurationMS, resultHash
	if callErr != nil {
		return textResult(true, map[string]any{"wcp_worker_error": true, "outcome": outcome, "error": errText, "wcp_governance": gov})
	}
	if res.Meta == nil {
		res.Meta = mcp.Meta{}
	}
	res.Meta["wcp_governance"] = gov
	return res
}

// dispatchApprovedUpstream runs an approved proxied call: the decision's
// recorded request names the tool and its arguments. ok is false when the
// decision's worker is not a connected MCP server.
func (s *Server) dispatchApprovedUpstream(ctx context.Context, decisionID string, gov Governance) (*mcp.CallToolResult, bool) {
	name, ok := strings.CutPrefix(gov.SelectedWorker, mcpclient.SpeciesID(""))
	if !ok {
		return nil, false
	}
	det, err := s.st.GetDecision(ctx, decisionID)
	if err != nil {
		return toolError("hall_error", err.Error()), true
	}
	if det.Summary.CapabilityID != mcpclient.CapabilityID(name) {
		return nil, false // a worker whose species only looks like a connected server's
	}
	var in struct {
		Request upstreamRequest `json:"request"`
	}
	if err := json.Unmarshal(det.Input, &in); err != nil || in.Request.Tool == "" {
		return toolError("hall_error", fmt.Sprintf("decision %s has no recorded upstream tool call", decisionID)), true
	}
	ms, err := s.st.ListMCPServers(ctx)
	if err != nil {
		return toolError("hall_error", err.Error()), true
	}
	for _, m := range ms {
		if m.Name != name {
			continue
		}
		if m.ID != in.Request.ServerID {
			return toolError("not_found", "the MCP server "+name+" of decision "+decisionID+" was removed and another was added under its name: the approval does not carry over; call the tool again"), true
		}
		return s.forward(ctx, m, decisionID, in.Request.Tool, in.Request.Arguments, gov), true
	}
	return toolError("not_found", "the MCP server "+name+" of decision "+decisionID+" was removed from Hall Monitor"), true
}
