package core

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const baseInput = `"capability_id":"cap.hello.greet","env":"prod","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"tenant-a","correlation_id":"corr-0001"`

func parseWith(t *testing.T, extra string) (RouteInput, ValidationErrors) {
	t.Helper()
	doc := "{" + baseInput
	if extra != "" {
		doc += "," + extra
	}
	return ParseRouteInput([]byte(doc + "}"))
}

func TestParseRouteInputCoercions(t *testing.T) {
	cases := []struct {
		extra     string
		wantType  string // "" = accepted
		wantScore *int64
		wantDry   bool
	}{
		{`"blast_score":90`, "", ptr(int64(90)), false},
		{`"blast_score":90.0`, "", ptr(int64(90)), false},
		{`"blast_score":" 90 "`, "", ptr(int64(90)), false},
		{`"blast_score":"+5"`, "", ptr(int64(5)), false},
		{`"blast_score":"1_000"`, "", ptr(int64(1000)), false},
		{`"blast_score":"90.00"`, "", ptr(int64(90)), false},
		{`"blast_score":"-0"`, "", ptr(int64(0)), false},
		{`"blast_score":null`, "", nil, false},
		{`"blast_score":true`, "value_error", nil, false},
		{`"blast_score":90.5`, "int_from_float", nil, false},
		{`"blast_score":1e20`, "int_parsing_size", nil, false},
		{`"blast_score":1e400`, "finite_number", nil, false},
		{`"blast_score":"90.5"`, "int_parsing", nil, false},
		{`"blast_score":"1e2"`, "int_parsing", nil, false},
		{`"blast_score":"90."`, "int_parsing", nil, false},
		{`"blast_score":""`, "int_parsing", nil, false},
		{`"blast_score":"1__0"`, "int_parsing", nil, false},
		{`"blast_score":[]`, "int_type", nil, false},
		{`"blast_score":{}`, "int_type", nil, false},
		{`"dry_run":"YES"`, "", nil, true},
		{`"dry_run":1`, "", nil, true},
		{`"dry_run":1.0`, "", nil, true},
		{`"dry_run":"off"`, "", nil, false},
		{`"dry_run":null`, "bool_type", nil, false},
		{`"dry_run":2`, "bool_parsing", nil, false},
		{`"dry_run":"maybe"`, "bool_parsing", nil, false},
		{`"dry_run":" true"`, "bool_parsing", nil, false},
		{`"dry_run":1.5`, "bool_type", nil, false},
		{`"request":null`, "dict_type", nil, false},
		{`"request":[]`, "dict_type", nil, false},
		{`"blast_radius":"x"`, "dict_type", nil, false},
		{`"privilege_context":3`, "dict_type", nil, false},
		{`"tenant_credential":5`, "string_type", nil, false},
	}
	for _, c := range cases {
		in, errs := parseWith(t, c.extra)
		if c.wantType != "" {
			if len(errs) != 1 || errs[0].Type != c.wantType {
				t.Errorf("%s: errors %v, want one %s", c.extra, errs, c.wantType)
			}
			continue
		}
		if len(errs) > 0 {
			t.Errorf("%s: unexpected %v", c.extra, errs)
			continue
		}
		if (in.BlastScore == nil) != (c.wantScore == nil) || (in.BlastScore != nil && *in.BlastScore != *c.wantScore) || in.DryRun != c.wantDry {
			t.Errorf("%s: got score %v dry %v", c.extra, in.BlastScore, in.DryRun)
		}
	}
}

func TestParseRouteInputErrors(t *testing.T) {
	cases := []struct {
		doc  string
		locs []string
		typ  []string
	}{
		{`[]`, []string{""}, []string{"model_type"}},
		{`{`, []string{""}, []string{"json_invalid"}},
		{`{} {}`, []string{""}, []string{"json_invalid"}},
		{`{"capability_id":1,"env":"PROD","data_label":"public","tenant_risk":"critical","qos_class":"P4","tenant_id":" \u001c","correlation_id":null}`,
			[]string{"capability_id", "env", "data_label", "tenant_risk", "qos_class", "tenant_id", "correlation_id"},
			[]string{"string_type", "literal_error", "literal_error", "literal_error", "literal_error", "value_error", "string_type"}},
		{`{}`, []string{"capability_id", "env", "data_label", "tenant_risk", "qos_class", "tenant_id", "correlation_id"},
			[]string{"missing", "missing", "missing", "missing", "missing", "missing", "missing"}},
	}
	for _, c := range cases {
		_, errs := ParseRouteInput([]byte(c.doc))
		var locs, typ []string
		for _, e := range errs {
			locs = append(locs, strings.Join(e.Loc, "."))
			typ = append(typ, e.Type)
			if e.Msg == "" || !strings.Contains(e.Error(), e.Msg) {
				t.Errorf("%s: error without message: %+v", c.doc, e)
			}
		}
		if !slices.Equal(locs, c.locs) || !slices.Equal(typ, c.typ) {
			t.Errorf("%s: got %v %v, want %v %v", c.doc, locs, typ, c.locs, c.typ)
		}
	}
}

func TestParseRouteInputIgnoredKeysAndUnmarshal(t *testing.T) {
	in, errs := parseWith(t, `"policy_version":"p9","zz":1`)
	if errs != nil || !slices.Equal(in.IgnoredKeys, []string{"policy_version", "zz"}) {
		t.Fatalf("ignored %v errs %v", in.IgnoredKeys, errs)
	}
	plain, _ := parseWith(t, "")
	if ArtifactHash(&in) != ArtifactHash(&plain) {
		t.Error("ignored keys changed the artifact hash")
	}
	var viaJSON RouteInput
	if err := json.Unmarshal([]byte(`{`+baseInput+`,"blast_score":"40"}`), &viaJSON); err != nil || *viaJSON.BlastScore != 40 {
		t.Fatalf("unmarshal: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"env":"x"}`), &viaJSON); err == nil {
		t.Error("invalid input unmarshalled")
	}
}

func TestArtifactHashCanonicalForm(t *testing.T) {
	// Expected digests computed with CPython 3 json.dumps(sort_keys=True).
	cases := []struct {
		extra string
		want  string
	}{
		{``, "e25c292a6817b8e47b1b7801f30604f6c56cd262b384a86ecde0fda62da0cebc"},
		{`"request":{"b":1.5,"a":[1,2.0,-0.0,1e16,1e-05,0.0001,123456789012345678901234567890,-0],"z":{"y":null,"x":true}}`,
			"8485cc0e93054198a1db7e299a34e54be7765001915e48f52330b3663e183812"},
		{`"correlation_id":"c\u0001\u007f\n\t\"\\/é€😀","tenant_id":"tenant-ü"`,
			"71a9ff50dd5cfa7b783ee2819354add7ac5ae398fdf64d849f4a44050b8550c0"},
		{`"blast_radius":{"data":3},"privilege_context":{},"dry_run":true,"tenant_credential":"tok","blast_score":7`,
			"c73aff79e87e9428693901655388c0973d380b865e97d7ff98d986ef49118229"},
		{`"request":{"é":"x","a b":1e400,"n":-1.25e-7,"m":1E+2}`, "8e22514bca8419e30085cea1e7be9d8e329af67d5db809902ac7dd0d0c57b99f"},
	}
	for _, c := range cases {
		in, errs := parseWith(t, c.extra)
		if errs != nil {
			t.Fatal(errs)
		}
		if got := ArtifactHash(&in); got != c.want {
			t.Errorf("%s: %s, want %s", c.extra, got, c.want)
		}
	}
	// Coerced values hash like their canonical form.
	a, _ := parseWith(t, `"blast_score":"90"`)
	b, _ := parseWith(t, `"blast_score":90.0`)
	if ArtifactHash(&a) != ArtifactHash(&b) {
		t.Error("coerced blast_score hashes differently")
	}
	// The int/float distinction of the source is kept.
	i, _ := parseWith(t, `"request":{"n":1}`)
	f, _ := parseWith(t, `"request":{"n":1.0}`)
	if ArtifactHash(&i) == ArtifactHash(&f) {
		t.Error("1 and 1.0 hash the same")
	}
}

func TestParseHallConfig(t *testing.T) {
	cfg, errs := ParseHallConfig([]byte(`{"require_signatory":"yes","allowed_tenants":["a"],"enforce_blast_scoring_in_prod":0,"unknown":1}`))
	if errs != nil || !cfg.RequireSignatory || cfg.EnforceBlastScoringInProd || !cfg.EnforceCorrelationID || !slices.Equal(cfg.AllowedTenants, []string{"a"}) {
		t.Errorf("cfg %+v errs %v", cfg, errs)
	}
	if c, errs := ParseHallConfig([]byte(`null`)); errs != nil || !c.EnforceRequiredControls {
		t.Errorf("null config %+v %v", c, errs)
	}
	for _, doc := range []string{`{"require_signatory":null}`, `{"allowed_tenants":"a"}`, `{"allowed_tenants":[1]}`, `[]`, `{`} {
		if _, errs := ParseHallConfig([]byte(doc)); errs == nil {
			t.Errorf("%s accepted", doc)
		}
	}
	var viaJSON HallConfig
	if err := json.Unmarshal([]byte(`{"enforce_privilege_envelopes":"t"}`), &viaJSON); err != nil || !viaJSON.EnforcePrivilegeEnvelopes || !viaJSON.EnforceCorrelationID {
		t.Errorf("unmarshal %+v %v", viaJSON, err)
	}
}

func TestIsBlank(t *testing.T) {
	for s, want := range map[string]bool{"": true, " \t\n": true, "\u001c\u001f": true, "\u00a0\u2003": true, "a": false, " x ": false, "\x00": true} {
		if IsBlank(s) != want {
			t.Errorf("IsBlank(%q) != %v", s, want)
		}
	}
}

func FuzzParseRouteInput(f *testing.F) {
	f.Add([]byte(`{` + baseInput + `}`))
	f.Add([]byte(`{` + baseInput + `,"blast_score":" 1_0 ","dry_run":"on","request":{"a":[1,2.5,{"b":null}]}}`))
	f.Add([]byte(`{"env":"PROD"}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, errs := ParseRouteInput(data)
		if errs != nil {
			for _, e := range errs {
				if e.Type == "" || e.Msg == "" {
					t.Fatalf("incomplete error %+v", e)
				}
			}
			return
		}
		if len(ArtifactHash(&in)) != 64 {
			t.Fatal("bad hash")
		}
		rs, err := CompileRules([]Rule{{RuleID: "r", Decision: RuleDecision{CandidateWorkersRanked: []CandidateSpec{{WorkerSpeciesID: "w"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		reg := NewMemRegistry()
		reg.SetWorkersAvailable([]string{"w"})
		d := Decide(in, rs, reg, Options{PolicyGate: PolicyGateFunc(func(PolicyContext) (PolicyResult, error) {
			return PolicyResult{Decision: GateAllow}, nil
		})})
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("decision does not marshal: %v", err)
		}
	})
}
