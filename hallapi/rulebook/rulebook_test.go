package rulebook

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallmonitor/core"
)

const echoRule = `{"rule_id":"r_echo","match":{"capability_id":"cap.example.echo","env":"dev"},
 "decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.example.echo"}]}}`

func TestCompileNamesTheField(t *testing.T) {
	cases := []struct {
		name, rules, field, msg string
	}{
		{"not a list", `{"rules":[]}`, "rules", "must be a list"},
		{"not JSON", `[`, "rules", "not valid JSON"},
		{"bad condition", `[` + echoRule + `,{"rule_id":"r2","match":{"env":["dev"]}}]`, "rules[1].match.env", "bare list"},
		{"unknown match key", `[{"rule_id":"r1","match":{"tenant":"a"}}]`, "rules[0].match.tenant", "unknown match key"},
		{"no rule_id", `[{"match":{}}]`, "rules[0].rule_id", "required"},
		{"bad score hint", `[{"rule_id":"r1","decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.a","score_hint":"x"}]}}]`,
			"rules[0].decision.candidate_workers_ranked[0].score_hint", "finite number"},
		{"duplicate id", `[` + echoRule + `,` + echoRule + `]`, "rules[1].rule_id", "unique"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(json.RawMessage(c.rules))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a ValidationError, got %v", err)
			}
			if f := ve.Errors[0]; f.Field != c.field || !strings.Contains(f.Message, c.msg) {
				t.Fatalf("got %+v, want field %s with %q", ve.Errors, c.field, c.msg)
			}
		})
	}
	rs, err := Compile(json.RawMessage(`[` + echoRule + `]`))
	if err != nil || rs.Len() != 1 {
		t.Fatal(rs, err)
	}
}

func TestSaveGuardsAndKeepsTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.json")
	var b Book
	d := Read(path)
	if d.ETag != AbsentETag || d.Error == "" || len(d.Rules) != 0 {
		t.Fatalf("missing file: %+v", d)
	}
	// A stale ETag is refused, nothing written.
	if _, err := b.Save(path, `"stale"`, json.RawMessage(`[`+echoRule+`]`)); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("stale save: %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a refused save wrote the file")
	}
	d, err := b.Save(path, AbsentETag, json.RawMessage(`[`+echoRule+`]`))
	if err != nil || d.Error != "" || len(d.Rules) != 1 || d.ETag == AbsentETag {
		t.Fatalf("first save: %+v %v", d, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("new rules file mode %v", st.Mode().Perm())
	}
	// A hand edit (other keys, 0644) changes the ETag; the old one is refused.
	hand := `{"comment":"kept","rules":[` + echoRule + `,{"rule_id":"r_all","match":{},"decision":{}}]}`
	if err := os.WriteFile(path, []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Save(path, d.ETag, json.RawMessage(`[]`)); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("save over a hand edit: %v", err)
	}
	h := Read(path)
	if len(h.Rules) != 2 || h.Error != "" {
		t.Fatalf("hand-edited file: %+v", h)
	}
	d, err = b.Save(path, h.ETag, json.RawMessage(`[{"rule_id":"r_all","match":{},"decision":{}},`+echoRule+`]`))
	if err != nil {
		t.Fatal(err)
	}
	// The engine reads what was saved; shadow warnings are reported.
	if len(d.Shadows) != 1 || d.Shadows[0].ShadowedID != "r_echo" {
		t.Fatalf("shadows: %+v", d.Shadows)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"comment": "kept"`) {
		t.Fatalf("other keys lost:\n%s", raw)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode not kept: %v", st.Mode().Perm())
	}
	if rs, err := core.ParseRules(raw); err != nil || rs.Hash() != d.Hash {
		t.Fatalf("saved file does not parse to the reported hash: %v", err)
	}
	// An invalid edit is refused before anything is written.
	if _, err := b.Save(path, d.ETag, json.RawMessage(`[{"rule_id":""}]`)); err == nil {
		t.Fatal("invalid rules saved")
	}
	if after, _ := os.ReadFile(path); string(after) != string(raw) {
		t.Fatal("a refused save changed the file")
	}
}

// Replay with the real engine and an in-memory registry: moving the echo
// rule from dev to prod flips the dev requests to denied; a rule choosing
// another worker changes the worker.
func TestReplayCountsFlips(t *testing.T) {
	reg := core.NewMemRegistry()
	for _, sp := range []string{"wrk.example.echo", "wrk.example.other"} {
		if err := reg.Enroll(core.RegistryRecord{WorkerID: "x.example." + strings.TrimPrefix(sp, "wrk.example."), WorkerSpeciesID: sp,
			Capabilities: []string{"cap.example.echo"}}); err != nil {
			t.Fatal(err)
		}
	}
	decide := func(in core.RouteInput, set *core.RuleSet) core.RouteDecision {
		return core.Decide(in, set, reg, core.Options{DryRun: true})
	}
	input := func(i int, env string) Recorded {
		return Recorded{DecisionID: fmt.Sprintf("d%d", i), Input: json.RawMessage(fmt.Sprintf(
			`{"capability_id":"cap.example.echo","env":%q,"data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"t","correlation_id":"c%d"}`, env, i))}
	}
	recs := []Recorded{input(1, "dev"), input(2, "dev"), input(3, "prod"), {DecisionID: "bad", Input: json.RawMessage(`{"env":1}`)}}
	cur, _ := Compile(json.RawMessage(`[` + echoRule + `]`))
	cases := []struct {
		name   string
		next   string
		counts map[string]int
	}{
		{"same rules", `[` + echoRule + `]`, map[string]int{}},
		{"dev moved to stage", `[` + strings.Replace(echoRule, `"dev"`, `"stage"`, 1) + `]`, map[string]int{"allowed→denied": 2}},
		{"other worker", `[` + strings.Replace(echoRule, "wrk.example.echo", "wrk.example.other", 1) + `]`, map[string]int{"worker changed": 2}},
		{"all envs", `[` + strings.Replace(echoRule, `"env":"dev"`, `"env":{"in":["dev","prod"]}`, 1) + `]`, map[string]int{"denied→allowed": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next, err := Compile(json.RawMessage(c.next))
			if err != nil {
				t.Fatal(err)
			}
			p := Replay(recs, decide, cur, next)
			if p.Replayed != 3 || p.Skipped != 1 || fmt.Sprint(p.Counts) != fmt.Sprint(c.counts) || p.Flipped != len(p.Flips) || p.Unchanged+p.Flipped != 3 {
				t.Fatalf("preview %+v, want counts %v", p, c.counts)
			}
		})
	}
}
