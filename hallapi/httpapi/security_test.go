package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hallmonitor/hallapi/httpapi"
)

func TestHostAllowlist(t *testing.T) {
	e := newEnv(t, testRules)
	port := e.host[strings.LastIndex(e.host, ":")+1:]
	for _, h := range []string{"evil.com", "evil.com:" + port, "127.0.0.1.evil.com:" + port, "localhost:1", "localhost",
		"127.0.0.2:" + port, "LOCALHOST.evil:" + port, "[::2]:" + port, "0.0.0.0:" + port, "127.0.0.1:" + port + ".evil.com"} {
		// Even a public endpoint and the UI are refused for a foreign Host (DNS rebinding).
		e.apiErr(403, "forbidden_host", "", "GET", "/api/health", nil, "Host", h)
		e.apiErr(403, "forbidden_host", "", "GET", "/", nil, "Host", h)
		e.apiErr(403, "forbidden_host", "", "POST", "/api/decisions/ingest", `{"capability_id":"cap.x"}`, "Host", h)
	}
	for _, h := range []string{"127.0.0.1:" + port, "localhost:" + port, "LocalHost:" + port, "[::1]:" + port} {
		e.ok(200, "GET", "/api/health", nil, "Host", h)
	}
	if n := e.count("decisions"); n != 0 {
		t.Fatalf("a request with a hostile Host stored %d decisions", n)
	}
	// Refusals are security events (rate limited).
	m := e.ok(200, "GET", "/api/events?types=security.denied&timeout=0", nil)
	if evs := m["events"].([]any); len(evs) == 0 {
		t.Fatal("no security.denied event recorded")
	}
}

func TestOriginCheck(t *testing.T) {
	e := newEnv(t, testRules)
	for _, o := range []string{"http://evil.com", "null", "http://127.0.0.1:1", "https://" + e.host, "http://" + e.host + ".evil.com", "file://"} {
		e.apiErr(403, "forbidden_origin", "", "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")}, "Origin", o)
		e.apiErr(403, "forbidden_origin", "", "GET", "/api/health", nil, "Origin", o)
	}
	for _, o := range []string{"http://" + e.host, "wails://wails", "http://wails.localhost"} {
		code, hdr, _ := e.req("GET", "/api/status", nil, "Origin", o)
		if code != 200 {
			t.Fatalf("origin %s: %d", o, code)
		}
		if v := hdr.Get("Access-Control-Allow-Origin"); v != "" {
			t.Fatalf("CORS header sent: %q", v)
		}
	}
	if n := e.count("decisions"); n != 0 {
		t.Fatalf("a request from a foreign Origin stored %d decisions", n)
	}
	// A CORS preflight from another origin gets no CORS grant.
	code, hdr, _ := e.req("OPTIONS", "/wcp/route", nil, "Origin", "http://evil.com", "Access-Control-Request-Method", "POST")
	if code != 403 || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight: %d %v", code, hdr)
	}
}

// Every mounted route: Agent and Person routes refuse a request without a
// credential, Person routes refuse an agent token with forbidden_scope, and
// neither stores anything; docs/api.md documents every route.
func TestEveryRouteAccessAndDocs(t *testing.T) {
	e := newEnv(t, testRules)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	routes := e.srv.Routes()
	if len(routes) < 35 {
		t.Fatalf("only %d routes mounted", len(routes))
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if !strings.Contains(string(doc), method+" "+path) && !strings.Contains(string(doc), "`"+path+"`") {
			t.Errorf("%s is not documented in docs/api.md", rt.Pattern)
		}
		concrete := param.ReplaceAllString(path, "x")
		code, _, _ := e.req(method, concrete, `{}`, "Authorization", "")
		switch {
		case rt.Access != httpapi.Public && code != 401:
			t.Errorf("%s without a token answered %d, want 401", rt.Pattern, code)
		case rt.Access == httpapi.Public && code == 401:
			t.Errorf("public %s asked for a token", rt.Pattern)
		}
		code, _, body := e.req(method, concrete, `{}`, "Authorization", "Bearer "+e.agentToken)
		if rt.Access == httpapi.Person && (code != 403 || !strings.Contains(string(body), "forbidden_scope")) {
			t.Errorf("%s with an agent token answered %d %s, want 403 forbidden_scope", rt.Pattern, code, body)
		}
	}
	if n := e.count("decisions") + e.count("enrollments") + e.count("dispatches") + e.count("approvals"); n != 0 {
		t.Fatalf("requests without a token or with an agent token stored %d rows", n)
	}
}

func TestToken(t *testing.T) {
	e := newEnv(t, testRules)
	protected := [][2]string{{"GET", "/api/status"}, {"GET", "/api/decisions"}, {"GET", "/api/decisions/x"},
		{"GET", "/api/events?timeout=0"}, {"POST", "/wcp/route"}, {"POST", "/api/decisions/ingest"}, {"GET", "/api/workers"},
		{"POST", "/api/workers/enroll"}, {"DELETE", "/api/workers/org.a.b"}, {"GET", "/api/settings"}, {"PUT", "/api/settings"},
		{"POST", "/api/setup"}, {"POST", "/api/setup/token"}, {"GET", "/api/setup"}, {"POST", "/api/alerts/a/ack"},
		{"POST", "/api/dispatches"}, {"GET", "/wcp/workers"}, {"GET", "/wcp/capabilities"}, {"GET", "/wcp/approvals/pending"},
		{"POST", "/enroll"}, {"POST", "/decisions/ingest"}, {"GET", "/status"}, {"GET", "/dispatches"}, {"GET", "/api/rules"}}
	for _, p := range protected {
		for _, auth := range []string{"", "Bearer", "Bearer wrong", "Bearer " + e.token + "x", "Basic " + e.token, e.token} {
			e.apiErr(401, "unauthorized", "", p[0], p[1], `{}`, "Authorization", auth)
		}
	}
	// Never from the query string.
	e.apiErr(401, "unauthorized", "", "GET", "/api/status?token="+e.token, nil, "Authorization", "")
	// Public endpoints.
	for _, p := range []string{"/api/health", "/health", "/wcp/health", "/", "/feed"} {
		e.ok(200, "GET", p, nil, "Authorization", "")
	}
	if n := e.count("decisions"); n != 0 {
		t.Fatalf("unauthorised requests stored %d decisions", n)
	}
}

func TestTrustedHandlerSkipsToken(t *testing.T) {
	e := newEnv(t, testRules)
	ts := httptest.NewServer(httpapi.TrustedHandler(e.srv.Handler()))
	defer ts.Close()
	r, _ := http.NewRequest("GET", ts.URL+"/api/status", nil)
	r.Host = "wails.localhost"
	r.Header.Set("Origin", "wails://wails")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("trusted request: %d", resp.StatusCode)
	}
	// The same handler without the marker (the network path) needs the token and a local Host.
	ts2 := httptest.NewServer(e.srv.Handler())
	defer ts2.Close()
	resp, err = http.Get(ts2.URL + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 && resp.StatusCode != 401 {
		t.Fatalf("untrusted request: %d", resp.StatusCode)
	}
	// Even trusted, a foreign Origin is refused.
	r, _ = http.NewRequest("POST", ts.URL+"/api/setup/token", nil)
	r.Header.Set("Origin", "http://evil.com")
	resp, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("trusted request with a foreign origin: %d", resp.StatusCode)
	}
}

func TestBodyErrors(t *testing.T) {
	e := newEnv(t, testRules)
	e.apiErr(400, "bad_json", "", "POST", "/wcp/route", `{"input":`)
	e.apiErr(400, "bad_json", "", "POST", "/wcp/route", `not json`)
	e.apiErr(400, "bad_json", "", "POST", "/wcp/route", ``)
	e.apiErr(400, "bad_json", "", "POST", "/wcp/route", `{"input":{}} {"input":{}}`)
	e.apiErr(400, "unknown_field", "inputs", "POST", "/wcp/route", `{"inputs":{}}`)
	e.apiErr(400, "invalid_field", "dry_run", "POST", "/wcp/route", `{"input":{},"dry_run":"yes"}`)
	e.apiErr(400, "missing_field", "input", "POST", "/wcp/route", `{}`)
	e.apiErr(400, "invalid_field", "input.env", "POST", "/wcp/route", map[string]any{"input": routeInput("PROD", "PUBLIC")})
	e.apiErr(413, "too_large", "", "POST", "/wcp/route", `{"input":{"request":{"x":"`+strings.Repeat("a", 1<<20)+`"}}}`)
	e.apiErr(413, "too_large", "", "POST", "/api/decisions/ingest", `{"decisions":[{"capability_id":"`+strings.Repeat("a", 5<<20)+`"}]}`)
	e.apiErr(415, "bad_json", "", "POST", "/wcp/route", `{}`, "Content-Type", "text/plain")
	e.apiErr(400, "unknown_field", "decisions[1].bogus", "POST", "/api/decisions/ingest", `{"decisions":[{"capability_id":"cap.a","denied":false},{"capability_id":"cap.b","denied":true,"bogus":1}]}`)
	e.apiErr(404, "not_found", "", "GET", "/api/nope", nil)
	e.apiErr(405, "method_not_allowed", "", "DELETE", "/api/decisions", nil)
	e.apiErr(400, "invalid_field", "decision_id", "GET", "/api/decisions/a%20b", nil)
	e.apiErr(404, "not_found", "decision_id", "GET", "/api/decisions/nope", nil)
	e.apiErr(400, "invalid_field", "limit", "GET", "/api/decisions?limit=0", nil)
	e.apiErr(400, "invalid_field", "limit", "GET", "/api/decisions?limit=501", nil)
	e.apiErr(400, "invalid_field", "cursor", "GET", "/api/decisions?cursor=zzz", nil)
	e.apiErr(400, "invalid_field", "from", "GET", "/api/decisions?from=yesterday", nil)
	e.apiErr(400, "invalid_field", "outcome", "GET", "/api/decisions?outcome=maybe", nil)
	if n := e.count("decisions"); n != 0 {
		t.Fatalf("rejected requests stored %d decisions", n)
	}
}

func TestUI(t *testing.T) {
	e := newEnv(t, testRules)
	for _, p := range []string{"/", "/index.html", "/feed", "/workers/org.a.b"} {
		code, hdr, b := e.req("GET", p, nil, "Authorization", "")
		if code != 200 || !strings.Contains(string(b), "<title>Hall</title>") {
			t.Fatalf("%s: %d %s", p, code, b)
		}
		if hdr.Get("Content-Security-Policy") != httpapi.ContentSecurityPolicy || hdr.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: headers %v", p, hdr)
		}
	}
	code, hdr, b := e.req("GET", "/assets/app.js", nil)
	if code != 200 || string(b) != "console.log(1)" || !strings.Contains(hdr.Get("Content-Type"), "javascript") {
		t.Fatalf("asset: %d %v %s", code, hdr, b)
	}
	e.apiErr(404, "not_found", "", "GET", "/assets/missing.js", nil)
	e.apiErr(404, "not_found", "", "GET", "/api/unknown", nil)
	e.apiErr(404, "not_found", "", "GET", "/wcp/unknown", nil)
}
