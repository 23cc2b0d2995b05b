package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// The Rules screen's API: read with an ETag, preview an edit against the
// recorded requests (nothing recorded), save with If-Match, 412 on a stale
// ETag, 400 naming the field.
func TestRulesEditPreviewAndSave(t *testing.T) {
	e := newEnv(t, testRules)
	e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": workerRecord(t, nil)})
	for _, env := range []string{"dev", "dev", "stage"} {
		if d := e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput(env, "PUBLIC")})["decision"].(map[string]any); d["denied"] != false {
			t.Fatalf("%s denied: %v", env, d)
		}
	}
	code, hdr, b := e.req("GET", "/api/rules", nil)
	var doc struct {
		Rules []map[string]any `json:"rules"`
		ETag  string           `json:"etag"`
	}
	if json.Unmarshal(b, &doc); code != 200 || hdr.Get("ETag") == "" || hdr.Get("ETag") != doc.ETag || len(doc.Rules) != 2 {
		t.Fatalf("GET /api/rules: %d %v %s", code, hdr, b)
	}
	// Edit: the doc rule no longer covers dev.
	edited := doc.Rules
	edited[0]["match"].(map[string]any)["env"] = "stage"
	before := e.count("decisions")
	p := e.ok(200, "POST", "/api/rules/preview", map[string]any{"rules": edited})["preview"].(map[string]any)
	if p["replayed"].(float64) != 3 || p["counts"].(map[string]any)["allowed→denied"].(float64) != 2 || len(p["flips"].([]any)) != 2 {
		t.Fatalf("preview: %v", p)
	}
	if e.count("decisions") != before {
		t.Fatal("the preview recorded decisions")
	}
	bad := []map[string]any{{"rule_id": "r1", "match": map[string]any{"env": []any{"dev"}}}}
	e.apiErr(400, "invalid_field", "rules[0].match.env", "POST", "/api/rules/preview", map[string]any{"rules": bad})
	e.apiErr(400, "invalid_field", "rules[0].match.env", "PUT", "/api/rules", map[string]any{"rules": bad}, "If-Match", doc.ETag)
	e.apiErr(428, "precondition_required", "If-Match", "PUT", "/api/rules", map[string]any{"rules": edited})

	code, hdr, b = e.req("PUT", "/api/rules", map[string]any{"rules": edited}, "If-Match", doc.ETag)
	if code != 200 || hdr.Get("ETag") == doc.ETag {
		t.Fatalf("save: %d %s", code, b)
	}
	// In force at once: dev is now denied.
	if d := e.ok(200, "POST", "/wcp/route", map[string]any{"input": routeInput("dev", "PUBLIC")})["decision"].(map[string]any); d["denied"] != true {
		t.Fatalf("saved rules not in force: %v", d)
	}
	// A second editor still holding the old ETag is refused.
	e.apiErr(412, "precondition_failed", "If-Match", "PUT", "/api/rules", map[string]any{"rules": doc.Rules}, "If-Match", doc.ETag)
	if r := e.ok(200, "GET", "/api/rules", nil); !strings.Contains(r["path"].(string), "rules.json") || r["etag"] != hdr.Get("ETag") {
		t.Fatalf("after save: %v", r)
	}
}
