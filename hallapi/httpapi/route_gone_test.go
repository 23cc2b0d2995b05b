package httpapi_test

import (
	"context"
	"encoding/json"
	"testing"

	"hallmonitor/hallapi/store"
)

// A client that goes away mid-request does not lose its decision and raises
// no DECISION_WRITE_FAILED alert: the write outlives the request context.
func TestRouteOfAClientThatWentAwayIsRecordedWithoutAlert(t *testing.T) {
	e := newEnv(t, testRules)
	in, err := json.Marshal(routeInput("dev", "PUBLIC"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client disconnected before the write
	res, err := e.dec.Route(ctx, in, false, store.SourceRoute)
	if err != nil {
		t.Fatalf("route with the client gone: %v", err)
	}
	if _, err := e.st.GetDecision(context.Background(), res.Decision.DecisionID); err != nil {
		t.Fatalf("decision of the client that went away: %v", err)
	}
	alerts, err := e.st.ListAlerts(context.Background(), store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if a.Type == store.AlertDecisionWriteFailed {
			t.Fatalf("a client going away raised %s: %s", a.Type, a.Body)
		}
	}
}
