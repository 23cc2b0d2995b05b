package hallapi_test

import "testing"

func TestSmoke(t *testing.T) {
	e := newEnv(t, testRules)
	e.ok(200, "GET", "/api/health", nil)
	m := e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil)})
	t.Log(m)
	m = e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")})
	t.Log(m)
	m = e.ok(200, "GET", "/api/decisions", nil)
	t.Log(m)
	m = e.ok(200, "GET", "/api/status", nil)
	t.Log(m)
}
