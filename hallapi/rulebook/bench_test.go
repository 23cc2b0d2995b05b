package rulebook

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"hallmonitor/core"
)

// BenchmarkReplay1000 is the Rules screen's default preview: 1,000 recorded
// requests decided twice (rules in force, edited rules) by the real engine.
func BenchmarkReplay1000(b *testing.B) {
	reg := core.NewMemRegistry()
	var rules []string
	for i := range 50 {
		sp := fmt.Sprintf("wrk.bench.w%d", i)
		reg.Enroll(core.RegistryRecord{WorkerID: fmt.Sprintf("x.bench.w%d", i), WorkerSpeciesID: sp, Capabilities: []string{fmt.Sprintf("cap.bench.c%d", i)}})
		rules = append(rules, fmt.Sprintf(`{"rule_id":"r%d","match":{"capability_id":"cap.bench.c%d","env":"dev"},"decision":{"candidate_workers_ranked":[{"worker_species_id":%q}]}}`, i, i, sp))
	}
	cur, err := Compile(json.RawMessage("[" + strings.Join(rules, ",") + "]"))
	if err != nil {
		b.Fatal(err)
	}
	rules[0] = strings.Replace(rules[0], `"dev"`, `"stage"`, 1)
	next, _ := Compile(json.RawMessage("[" + strings.Join(rules, ",") + "]"))
	recs := make([]Recorded, DefaultReplay)
	for i := range recs {
		recs[i] = Recorded{DecisionID: fmt.Sprint(i), Input: json.RawMessage(fmt.Sprintf(
			`{"capability_id":"cap.bench.c%d","env":"dev","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"t","correlation_id":"c%d"}`, i%50, i))}
	}
	decide := func(in core.RouteInput, set *core.RuleSet) core.RouteDecision {
		return core.Decide(in, set, reg, core.Options{DryRun: true})
	}
	b.ReportAllocs()
	var p Preview
	for b.Loop() {
		p = Replay(recs, decide, cur, next)
	}
	b.ReportMetric(float64(p.Flipped), "flips")
}
