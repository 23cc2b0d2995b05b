package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"hallmonitor/core"
	"hallmonitor/core/receipt"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

// Routed is a recorded decision.
type Routed struct {
	Decision core.RouteDecision
	Receipt  receipt.Receipt
}

// route decides one request through the Hall's own route-and-record path
// (httpapi.Server.Route with source "mcp"): the same rules, registry view,
// attestation, policy gate and receipt chain as POST /wcp/route, in one
// transaction with its approval and event.
func (s *Server) route(ctx context.Context, input []byte) (Routed, error) {
	res, err := s.hall.Route(ctx, input, false, store.SourceMCP)
	if err != nil {
		return Routed{}, err
	}
	r := Routed{Decision: res.Decision}
	if len(res.Receipt) > 0 && string(res.Receipt) != "null" {
		if err := json.Unmarshal(res.Receipt, &r.Receipt); err != nil {
			return Routed{}, fmt.Errorf("receipt of %s is unreadable: %w", res.Decision.DecisionID, err)
		}
	}
	return r, nil
}

// run executes a decision that may run (allowed, or approved) through the
// Hall's executor and reports a refusal as a tool error.
func (s *Server) run(ctx context.Context, decisionID string, gov Governance) (workers.Run, Governance, error) {
	run, err := s.hall.RunDecision(ctx, decisionID)
	if err != nil {
		return run, gov, err
	}
	gov.DispatchID, gov.DurationMS, gov.PackageHash, gov.ResultHash = run.Dispatch.DispatchID, run.Dispatch.DurationMS, run.PackageHash, run.Dispatch.ResultHash
	return run, gov, nil
}

// apiError is the Hall's error code and message of err ("hall_error" and
// the text for unexpected errors).
func apiError(err error) (code, message string) {
	var ae *httpapi.APIError
	if errors.As(err, &ae) {
		return ae.Code, ae.Message
	}
	return "hall_error", err.Error()
}
