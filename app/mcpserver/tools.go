package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/core"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
)

// Governance is the governance block of a successful tool result.
type Governance struct {
	DecisionID     string `json:"decision_id"`
	MatchedRuleID  string `json:"matched_rule_id"`
	SelectedWorker string `json:"selected_worker"`
	CorrelationID  string `json:"correlation_id"`
	ArtifactHash   string `json:"artifact_hash,omitempty"`
	ReceiptHash    string `json:"receipt_hash"`
	DispatchID     string `json:"dispatch_id,omitempty"`
	DurationMS     *int64 `json:"duration_ms,omitempty"`
	PackageHash    string `json:"package_hash,omitempty"`
	ResultHash     string `json:"result_hash,omitempty"`
}

func textResult(isError bool, v any) *mcp.CallToolResult {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	return &mcp.CallToolResult{IsError: isError, Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}, StructuredContent: json.RawMessage(b)}
}

func toolError(code, message string) *mcp.CallToolResult {
	return textResult(true, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// routeInput builds the RouteInput JSON of a tool call from its arguments
// with the local-agent defaults; the capability comes from the tool (or the
// capability_id argument of wcp_route). Unknown arguments are refused here;
// the Hall validates the fields.
func routeInput(capability string, raw json.RawMessage, env string) ([]byte, error) {
	args := map[string]any{}
	if len(raw) > 0 && string(raw) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			return nil, fmt.Errorf("arguments must be a JSON object: %w", err)
		}
	}
	if capability == "" {
		c, _ := args["capability_id"].(string)
		if strings.TrimSpace(c) == "" {
			return nil, errors.New("capability_id is required: name the WCP capability to route")
		}
		capability = c
	}
	delete(args, "capability_id")
	obj := map[string]any{
		"capability_id": capability, "env": env, "data_label": defaultDataLabel, "tenant_id": defaultTenant,
		"tenant_risk": defaultTenantRisk, "qos_class": defaultQoS, "correlation_id": core.NewUUID(), "request": map[string]any{},
	}
	for k, v := range args {
		switch k {
		case "request", "env", "data_label", "tenant_id", "tenant_risk", "qos_class", "correlation_id", "dry_run":
			obj[k] = v
		default:
			return nil, fmt.Errorf("argument %q is unknown: use request, env, data_label, tenant_id, tenant_risk, qos_class, correlation_id or dry_run", k)
		}
	}
	return json.Marshal(obj)
}

// defaultEnv is the env of the Hall's default profile (Settings:
// prof.<env>.<name>), the env of a call that names none; dev when the
// profile names no WCP env.
func (s *Server) defaultEnv(ctx context.Context) string {
	st, err := s.st.GetSettings(ctx)
	if err != nil {
		s.log.Warn("read settings for the default profile", "err", err)
		return defaultEnv
	}
	return ProfileEnv(st.DefaultProfile)
}

// ProfileEnv is the WCP env a profile id names (prof.prod.strict: prod), or
// dev.
func ProfileEnv(profile string) string {
	parts := strings.Split(profile, ".")
	if len(parts) >= 2 && parts[0] == "prof" && slices.Contains(core.Envs, parts[1]) {
		return parts[1]
	}
	return defaultEnv
}

// callCapability governs one capability call: decide, record, and when
// allowed (and not a dry run) dispatch to the worker package.
func (s *Server) callCapability(ctx context.Context, capability string, raw json.RawMessage) *mcp.CallToolResult {
	input, err := routeInput(capability, raw, s.defaultEnv(ctx))
	if err != nil {
		return toolError("invalid_arguments", err.Error())
	}
	r, err := s.route(ctx, input)
	if err != nil {
		code, msg := apiError(err)
		if code == "invalid_field" || code == "missing_field" {
			return toolError("invalid_arguments", msg)
		}
		s.log.Error("route MCP call", "err", err)
		return toolError(code, msg)
	}
	d := r.Decision
	gov := Governance{DecisionID: d.DecisionID, MatchedRuleID: d.MatchedRuleID, CorrelationID: d.CorrelationID, ReceiptHash: r.Receipt.ReceiptHash}
	if d.SelectedWorkerSpeciesID != nil {
		gov.SelectedWorker = *d.SelectedWorkerSpeciesID
	}
	if d.ArtifactHash != nil {
		gov.ArtifactHash = *d.ArtifactHash
	}
	switch {
	case d.Denied:
		return textResult(true, map[string]any{"wcp_denied": true, "deny_code": d.Code(), "deny_message": d.DenyReasonIfDenied.Message,
			"matched_rule_id": d.MatchedRuleID, "correlation_id": d.CorrelationID, "decision_id": d.DecisionID, "receipt_hash": r.Receipt.ReceiptHash})
	case d.SupervisorRequired:
		return textResult(true, map[string]any{"wcp_pending": true, "pending_approval_id": deref(d.PendingApprovalID),
			"approval_expires_at": d.ApprovalExpiresAt, "decision_id": d.DecisionID, "matched_rule_id": d.MatchedRuleID,
			"message": "A person must approve this call in Hall Monitor (Approvals); then run it with " + ToolDispatchApproved + "."})
	case d.DryRun:
		return textResult(false, map[string]any{"wcp_dry_run": true, "wcp_governance": gov})
	}
	return s.dispatch(ctx, d.DecisionID, gov)
}

func (s *Server) dispatch(ctx context.Context, decisionID string, gov Governance) *mcp.CallToolResult {
	run, gov, err := s.run(ctx, decisionID, gov)
	if err != nil {
		code, msg := apiError(err)
		if code == "conflict" {
			code = "dispatch_refused"
		}
		return toolError(code, msg)
	}
	if run.Dispatch.Outcome != store.DispatchSucceeded {
		return textResult(true, map[string]any{"wcp_worker_error": true, "outcome": run.Dispatch.Outcome, "error": run.Dispatch.Error, "wcp_governance": gov})
	}
	var result any = run.Output
	if run.Output == nil {
		result = run.OutputText
	}
	return textResult(false, map[string]any{"result": result, "wcp_governance": gov})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Arguments of the approval tools.
type (
	pendingArgs  struct{}
	dispatchArgs struct {
		DecisionID string `json:"decision_id" jsonschema:"the decision whose approval was approved"`
	}
)

func (s *Server) addFixedTools() {
	s.mcp.AddTool(&mcp.Tool{
		Name:        ToolRoute,
		Description: "Route any WCP capability through the Hall (decided, recorded and, when allowed, dispatched). Unknown capabilities are refused with a deny code.",
		InputSchema: inputSchema(json.RawMessage(`{"type":"object"}`), true),
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return s.callCapability(ctx, "", req.Params.Arguments), nil
	})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolApprovalsPending, Description: "List this agent's calls that wait for a person's approval in Hall Monitor."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ pendingArgs) (*mcp.CallToolResult, any, error) {
			list, err := s.st.ListApprovals(ctx, store.ApprovalPending)
			if err != nil {
				return nil, nil, err
			}
			mine := []store.ApprovalRow{}
			for _, a := range list {
				if a.Agent == principal.Label(ctx) {
					mine = append(mine, a)
				}
			}
			return textResult(false, map[string]any{"approvals": mine}), nil, nil
		})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolDispatchApproved, Description: "Run a held call whose approval was approved."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a dispatchArgs) (*mcp.CallToolResult, any, error) {
			det, err := s.st.GetDecision(ctx, a.DecisionID)
			if errors.Is(err, store.ErrNotFound) {
				return toolError("not_found", "decision "+a.DecisionID+" does not exist"), nil, nil
			}
			if err != nil {
				return nil, nil, err
			}
			gov := Governance{DecisionID: det.Summary.DecisionID, MatchedRuleID: det.Summary.MatchedRuleID,
				SelectedWorker: det.Summary.SelectedWorkerSpeciesID, CorrelationID: det.Summary.CorrelationID}
			if res, ok := s.dispatchApprovedUpstream(ctx, a.DecisionID, gov); ok {
				return res, nil, nil
			}
			return s.dispatch(ctx, a.DecisionID, gov), nil, nil
		})
	s.addCoordTools()
}
