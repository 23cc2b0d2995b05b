package rulebook

import (
	"encoding/json"
	"sort"

	"hallmonitor/core"
)

// DefaultReplay is how many recorded requests a preview replays by default.
const DefaultReplay = 1000

// MaxReplay caps a preview.
const MaxReplay = 10000

// maxRows caps the flips listed (all are counted).
const maxRows = 200

// Recorded is one recorded request: its decision id and stored RouteInput.
type Recorded struct {
	DecisionID string          `json:"decision_id"`
	Input      json.RawMessage `json:"input"`
}

// Decider decides one input with a rule set, as the Hall would now (its
// registry view, configuration and policy gate), as a dry run that records
// nothing.
type Decider func(in core.RouteInput, set *core.RuleSet) core.RouteDecision

// Outcome is what a decision came to.
type Outcome struct {
	Outcome  string `json:"outcome"` // allowed, denied or pending (needs a person)
	Worker   string `json:"worker"`  // selected species, "" when none
	DenyCode string `json:"deny_code"`
	RuleID   string `json:"rule_id"` // matched rule, "" when none
}

// Flip is a recorded request decided differently by the edited rules.
type Flip struct {
	DecisionID   string  `json:"decision_id"`
	CapabilityID string  `json:"capability_id"`
	Env          string  `json:"env"`
	TenantID     string  `json:"tenant_id"`
	Kind         string  `json:"kind"` // e.g. "allowed→denied", "worker changed"
	Before       Outcome `json:"before"`
	After        Outcome `json:"after"`
}

// Preview is the result of Replay.
type Preview struct {
	Replayed  int            `json:"replayed"`
	Skipped   int            `json:"skipped"` // stored inputs that no longer parse
	Unchanged int            `json:"unchanged"`
	Flipped   int            `json:"flipped"`
	Counts    map[string]int `json:"counts"` // by Flip.Kind
	Flips     []Flip         `json:"flips"`  // the first 200, newest first
	Truncated bool           `json:"truncated"`
}

func outcomeOf(d core.RouteDecision) Outcome {
	o := Outcome{Outcome: "allowed", DenyCode: d.Code(), RuleID: d.MatchedRuleID}
	switch {
	case d.Denied:
		o.Outcome = "denied"
	case d.SupervisorRequired:
		o.Outcome = "pending"
	}
	if d.SelectedWorkerSpeciesID != nil {
		o.Worker = *d.SelectedWorkerSpeciesID
	}
	return o
}

// Replay decides each recorded request (newest first) with the rules in
// force (cur) and the edited rules (next), both now, so that only the rule
// edit can make a difference, and reports the decisions that would flip:
// a different outcome, or the same outcome with another worker.
func Replay(recs []Recorded, decide Decider, cur, next *core.RuleSet) Preview {
	p := Preview{Counts: map[string]int{}, Flips: []Flip{}}
	for _, r := range recs {
		in, errs := core.ParseRouteInput(r.Input)
		if len(errs) > 0 {
			p.Skipped++
			continue
		}
		in.DryRun = true
		p.Replayed++
		before, after := outcomeOf(decide(in, cur)), outcomeOf(decide(in, next))
		kind := ""
		switch {
		case before.Outcome != after.Outcome:
			kind = before.Outcome + "→" + after.Outcome
		case before.Worker != after.Worker:
			kind = "worker changed"
		}
		if kind == "" {
			p.Unchanged++
			continue
		}
		p.Flipped++
		p.Counts[kind]++
		if len(p.Flips) == maxRows {
			p.Truncated = true
			continue
		}
		p.Flips = append(p.Flips, Flip{DecisionID: r.DecisionID, CapabilityID: in.CapabilityID, Env: in.Env, TenantID: in.TenantID,
			Kind: kind, Before: before, After: after})
	}
	sort.SliceStable(p.Flips, func(i, j int) bool { return kindRank(p.Flips[i].Kind) < kindRank(p.Flips[j].Kind) })
	return p
}

// kindRank lists newly denied requests first: they are what breaks agents.
func kindRank(k string) int {
	switch k {
	case "allowed→denied", "pending→denied":
		return 0
	case "denied→allowed", "pending→allowed":
		return 1
	}
	return 2
}
