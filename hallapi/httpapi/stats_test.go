package httpapi_test

import (
	"testing"
)

func TestDecisionStatsEndpoint(t *testing.T) {
	e := newEnv(t, "") // no rules: every request is denied
	e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")})
	st := e.ok(200, "GET", "/api/stats/decisions?window=30m", nil)
	pm := st["per_minute"].([]any)
	last := pm[len(pm)-1].(map[string]any)
	deny := st["top_deny_codes"].([]any)
	caps := st["top_capabilities"].([]any)
	if len(pm) != 30 || last["denied"] != 1.0 || len(deny) != 1 || len(caps) != 1 ||
		caps[0].(map[string]any)["name"] != "cap.doc.summarize" || st["day_total"] != 1.0 {
		t.Fatalf("stats after one denied route: %v", st)
	}
	for _, c := range []struct{ query, field string }{
		{"window=5", "window"},
		{"window=30s", "window"},
		{"window=48h", "window"},
		{"day_start=yesterday", "day_start"},
		{"day_start=2000-01-01T00:00:00Z", "day_start"},
	} {
		e.apiErr(400, "invalid_field", c.field, "GET", "/api/stats/decisions?"+c.query, nil)
	}
}
