package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParseRulesForms(t *testing.T) {
	list := `[{"rule_id":"a","match":{"env":{"in":["dev","stage"]},"qos_class":{"any":true},"data_label":null},"decision":null},
	          {"rule_id":"b","match":null,"decision":{"escalation":{"policy_gate":"yes","human_required_if":[{"x":1}],"rationale":"r","other":1},
	           "preconditions":{"must_have_correlation_id":0},"candidate_workers_ranked":[{"worker_species_id":"w","score_hint":"2.5"},{}],
	           "required_controls_suggested":["ctrl.b","ctrl.a","ctrl.b"],"recommended_profiles":[{"p":1}],"ignored":true}}]`
	for _, doc := range []string{list, `{"rules":` + list + `}`} {
		rs, err := ParseRules([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		rules := rs.Rules()
		if rs.Len() != 2 || rules[0].RuleID != "a" || rules[1].RuleID != "b" {
			t.Fatalf("rules %+v", rules)
		}
		if m := rules[0].Match; m.Env.Kind != In || m.QoSClass.Kind != Any || m.DataLabel.Kind != Wildcard {
			t.Errorf("match %+v", m)
		}
		if rules[0].Decision.Preconditions != DefaultPreconditions() {
			t.Error("null decision must give default preconditions")
		}
		d := rules[1].Decision
		if !d.Escalation.PolicyGate || *d.Escalation.Rationale != "r" || len(d.Escalation.HumanRequiredIf) != 1 {
			t.Errorf("escalation %+v", d.Escalation)
		}
		if d.Preconditions.MustHaveCorrelationID || !d.Preconditions.DenyIfMissingRequiredControls {
			t.Errorf("preconditions %+v", d.Preconditions)
		}
		if *d.CandidateWorkersRanked[0].ScoreHint != 2.5 || d.CandidateWorkersRanked[1].WorkerSpeciesID != "" {
			t.Errorf("candidates %+v", d.CandidateWorkersRanked)
		}
		if c := rs.rules[1].controls; !slices.Equal(c, []string{"ctrl.a", "ctrl.b"}) {
			t.Errorf("controls %v", c)
		}
		if len(rs.Hash()) != 64 {
			t.Error("hash")
		}
	}
	rs, err := ParseRules([]byte(`{"other":1}`))
	if err != nil || rs.Len() != 0 {
		t.Errorf("missing rules key: %v %v", rs, err)
	}
}

func TestParseRulesErrors(t *testing.T) {
	cases := []struct{ doc, want string }{
		{`{`, "invalid JSON"},
		{`"x"`, "expected a list"},
		{`[1]`, "must be an object"},
		{`[{"match":{}}]`, "rule_id is required"},
		{`[{"rule_id":7}]`, "rule_id is required"},
		{`[{"rule_id":""}]`, "must not be empty"},
		{`[{"rule_id":"r","match":[]}]`, "match: must be an object"},
		{`[{"rule_id":"r","match":{"tenant_id":"t"}}]`, "unknown match key"},
		{`[{"rule_id":"r","match":{"env":{"in":"devstage"}}}]`, `"in" must be a list`},
		{`[{"rule_id":"r","match":{"env":{"in":null}}}]`, `"in" must be a list`},
		{`[{"rule_id":"r","match":{"env":{"in":[1]}}}]`, `must be a string`},
		{`[{"rule_id":"r","match":{"env":{"eq":"dev"}}}]`, "unknown condition operator"},
		{`[{"rule_id":"r","match":{"env":{"any":1}}}]`, "exactly true"},
		{`[{"rule_id":"r","match":{"env":{"any":false}}}]`, "exactly true"},
		{`[{"rule_id":"r","match":{"env":{}}}]`, "exactly one key"},
		{`[{"rule_id":"r","match":{"env":{"any":true,"in":["dev"]}}}]`, "exactly one key"},
		{`[{"rule_id":"r","match":{"env":["dev"]}}]`, "bare list"},
		{`[{"rule_id":"r","match":{"env":1}}]`, "must be a string, null"},
		{`[{"rule_id":"r","decision":[]}]`, "decision: must be an object"},
		{`[{"rule_id":"r","decision":{"escalation":{"policy_gate":null}}}]`, "policy_gate: must be a boolean"},
		{`[{"rule_id":"r","decision":{"escalation":[]}}]`, "escalation: must be an object"},
		{`[{"rule_id":"r","decision":{"escalation":{"human_required_if":[1]}}}]`, "human_required_if[0]"},
		{`[{"rule_id":"r","decision":{"escalation":{"human_required_if":{}}}}]`, "human_required_if: must be a list"},
		{`[{"rule_id":"r","decision":{"escalation":{"rationale":1}}}]`, "rationale"},
		{`[{"rule_id":"r","decision":{"preconditions":{"deny_if_missing_required_controls":"x"}}}]`, "deny_if_missing_required_controls"},
		{`[{"rule_id":"r","decision":{"preconditions":1}}]`, "preconditions: must be an object"},
		{`[{"rule_id":"r","decision":{"candidate_workers_ranked":{}}}]`, "must be a list"},
		{`[{"rule_id":"r","decision":{"candidate_workers_ranked":["w"]}}]`, "candidate_workers_ranked[0]"},
		{`[{"rule_id":"r","decision":{"candidate_workers_ranked":[{"worker_species_id":1}]}}]`, "worker_species_id"},
		{`[{"rule_id":"r","decision":{"candidate_workers_ranked":[{"score_hint":"inf"}]}}]`, "score_hint"},
		{`[{"rule_id":"r","decision":{"required_controls_suggested":"ctrl.a"}}]`, "list of control ids"},
		{`[{"rule_id":"r","decision":{"required_controls_suggested":[1]}}]`, "required_controls_suggested[0]"},
		{`[{"rule_id":"r","decision":{"recommended_profiles":[1]}}]`, "recommended_profiles[0]"},
		{`[{"rule_id":"r","decision":{"recommended_profiles":{}}}]`, "recommended_profiles: must be a list"},
	}
	for _, c := range cases {
		_, err := ParseRules([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.doc, err, c.want)
		}
	}
	_, err := ParseRules([]byte(`[{"rule_id":"ok"},{"rule_id":"bad","match":{"x":1}}]`))
	var re *RuleError
	if !errors.As(err, &re) || re.Index != 1 || re.RuleID != "bad" {
		t.Errorf("rule error location: %v", err)
	}
}

func TestCompileRulesRejectsInvalidProgrammaticRules(t *testing.T) {
	bad := []Rule{
		{RuleID: ""},
		{RuleID: "r", Match: Match{Env: Condition{Kind: In}}},
		{RuleID: "r", Match: Match{Env: Condition{Kind: 9}}},
	}
	for _, r := range bad {
		if _, err := CompileRules([]Rule{r}); err == nil {
			t.Errorf("%+v compiled", r)
		}
	}
}

func TestRuleJSONRoundTrip(t *testing.T) {
	doc := `[{"rule_id":"a","match":{"capability_id":"cap.x","env":{"in":["dev"]},"qos_class":{"any":true}},"decision":{"candidate_workers_ranked":[{"worker_species_id":"w","score_hint":1}],"required_controls_suggested":["ctrl.a"]}}]`
	rs, err := ParseRules([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(rs.Rules())
	if err != nil {
		t.Fatal(err)
	}
	var back []Rule
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	rs2, err := CompileRules(back)
	if err != nil || rs2.Hash() != rs.Hash() {
		t.Errorf("round trip changed the rules: %v\n%s", err, raw)
	}
	var c Condition
	if err := json.Unmarshal([]byte(`{"in":"x"}`), &c); err == nil {
		t.Error("string in accepted")
	}
}

func TestShadowDetection(t *testing.T) {
	r := func(id string, m Match) Rule { return Rule{RuleID: id, Match: m} }
	eq := func(v string) Condition { return Condition{Kind: Eq, Value: v} }
	in := func(v ...string) Condition { return Condition{Kind: In, In: v} }
	cases := []struct {
		name  string
		rules []Rule
		want  []string
	}{
		{"catch-all first shadows all (case D06 shape)", []Rule{r("r1", Match{}), r("r2", Match{Env: eq("dev")}), r("r3", Match{Env: eq("dev")})}, []string{"r2", "r3", "r3"}},
		{"catch-all last is fine", []Rule{r("r1", Match{Env: eq("dev")}), r("r2", Match{})}, nil},
		{"any equals wildcard", []Rule{r("r1", Match{Env: Condition{Kind: Any}}), r("r2", Match{})}, []string{"r2"}},
		{"identical same id is not a warning", []Rule{r("r1", Match{Env: eq("dev")}), r("r1", Match{Env: eq("dev")})}, nil},
		{"in covers eq", []Rule{r("r1", Match{Env: in("dev", "stage")}), r("r2", Match{Env: eq("stage")})}, []string{"r2"}},
		{"in covers subset in", []Rule{r("r1", Match{Env: in("dev", "stage")}), r("r2", Match{Env: in("stage")})}, []string{"r2"}},
		{"in does not cover superset", []Rule{r("r1", Match{Env: in("dev")}), r("r2", Match{Env: in("dev", "prod")})}, nil},
		{"eq does not cover in", []Rule{r("r1", Match{Env: eq("dev")}), r("r2", Match{Env: in("dev")})}, []string{}},
		{"narrower first is fine", []Rule{r("r1", Match{Env: eq("dev"), QoSClass: eq("P0")}), r("r2", Match{Env: eq("dev")})}, nil},
		{"wider first shadows", []Rule{r("r1", Match{Env: eq("dev")}), r("r2", Match{Env: eq("dev"), QoSClass: eq("P0")})}, []string{"r2"}},
		{"different values", []Rule{r("r1", Match{Env: eq("dev")}), r("r2", Match{Env: eq("prod")})}, nil},
	}
	for _, c := range cases {
		rs, err := CompileRules(c.rules)
		if err != nil {
			t.Fatal(err)
		}
		if got := rs.ShadowedRuleIDs(); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if len(rs.ShadowWarnings()) != len(c.want) {
			t.Errorf("%s: warnings %v", c.name, rs.ShadowWarnings())
		}
	}
}

// TestIndexMatchesLinearScan checks the capability index against the
// reference's first-match scan on random rule sets and inputs.
func TestIndexMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	caps := []string{"cap.a", "cap.b", "cap.c", "cap.d"}
	pick := func(vals []string) Condition {
		switch rng.IntN(4) {
		case 0:
			return Condition{}
		case 1:
			return Condition{Kind: Any}
		case 2:
			return Condition{Kind: Eq, Value: vals[rng.IntN(len(vals))]}
		}
		return Condition{Kind: In, In: []string{vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))]}}
	}
	for iter := range 300 {
		rules := make([]Rule, 1+rng.IntN(12))
		for i := range rules {
			rules[i] = Rule{RuleID: fmt.Sprint("r", i), Match: Match{CapabilityID: pick(caps), Env: pick(envs()), QoSClass: pick(qosClasses())}}
		}
		rs, err := CompileRules(rules)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			in := RouteInput{CapabilityID: append(caps, "cap.zz")[rng.IntN(5)], Env: envs()[rng.IntN(4)], QoSClass: qosClasses()[rng.IntN(4)]}
			want := -1
			for i := range rules {
				if rules[i].Match.Matches(&in) {
					want = i
					break
				}
			}
			if got := rs.firstMatch(&in); got != want {
				t.Fatalf("iter %d: index %d, linear %d for %+v", iter, got, want, in)
			}
		}
	}
}

func FuzzParseRules(f *testing.F) {
	f.Add([]byte(`{"rules":[{"rule_id":"a","match":{"env":{"in":["dev"]}},"decision":{"candidate_workers_ranked":[{"worker_species_id":"w"}]}}]}`))
	f.Add([]byte(`[{"rule_id":"a","match":{}},{"rule_id":"b","match":{"capability_id":{"any":true}}}]`))
	f.Add([]byte(`[{"rule_id":"x","decision":{"escalation":{"policy_gate":"1"},"preconditions":{"must_have_correlation_id":false}}}]`))
	f.Add([]byte(`{"rules":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRules(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, env := range envs() {
			in := testInput()
			in.Env = env
			d := Decide(in, rs, NewMemRegistry(), Options{})
			if d.MatchedRuleID == "" {
				t.Fatal("no matched_rule_id")
			}
		}
		if _, err := json.Marshal(rs.Rules()); err != nil {
			t.Fatal(err)
		}
	})
}
