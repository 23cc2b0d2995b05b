// Package conformance runs WCP conformance cases: JSON documents that
// describe an input, a rule set, registry state and collaborators, and
// expect a decision. It backs `hallmonitor route --cases FILE [--bench N]`.
//
// Input: {"cases":[CASE,...]}; CASE keys: id, input, rules | rules_doc,
// registry {enroll, set_controls_present, set_workers_available,
// set_privilege_envelopes}, hall_config, policy_gate (none | fixed | table),
// privilege (absent: the registry's reference policy; {"kind":"none"}: no
// checker; fixed), attestation {registered, current}, task_id, and the
// extension approvals {"mode":"deny"} (reference behaviour for
// REQUIRE_HUMAN). Unknown keys are ignored.
//
// Output: one JSON object per case and line, keys sorted: id, outcome
// (decision | validation_error | rules_load_error), and summary + decision
// (without decision_id, timestamp and telemetry timestamps) or
// validation_errors [{loc, type}] or error. Decisions use a fixed clock
// (2026-01-01T00:00:00Z) and counter ids so output is reproducible.
// With benchN > 0 each decision case is decided benchN times with the real
// clock and random ids and the output is decisions/s and p50/p99 latency.
package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"hallmonitor/core"
	"hallmonitor/core/canon"
)

// Outcomes.
const (
	OutcomeDecision        = "decision"
	OutcomeValidationError = "validation_error"
	OutcomeRulesLoadError  = "rules_load_error"
)

// Run reads a cases document from r and writes one result line per case to w.
func Run(r io.Reader, w io.Writer, benchN int) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	g, err := canon.Decode(data)
	if err != nil {
		return fmt.Errorf("cases: invalid JSON: %w", err)
	}
	doc, ok := g.(map[string]any)
	if !ok {
		return errors.New(`cases: expected {"cases": [...]}`)
	}
	list, ok := doc["cases"].([]any)
	if !ok {
		return errors.New(`cases: "cases" must be a list`)
	}
	// Every case decides into the same decision (core.DecideInto), so the
	// golden output also checks that no case sees a previous one's storage.
	var dec core.RouteDecision
	for i, item := range list {
		c, ok := item.(map[string]any)
		if !ok {
			return fmt.Errorf("cases[%d]: must be an object", i)
		}
		p := prepare(c)
		var line map[string]any
		if benchN > 0 && p.outcome == OutcomeDecision {
			line = bench(p, benchN, &dec)
		} else {
			line = p.result(&dec)
		}
		if err := writeLine(w, line); err != nil {
			return err
		}
	}
	return nil
}

// prepared is a case ready to decide (or its non-decision outcome).
type prepared struct {
	id        any
	outcome   string
	verrs     core.ValidationErrors
	loadError string
	in        core.RouteInput
	rs        *core.RuleSet
	reg       *core.MemRegistry
	opts      core.Options
}

func prepare(c map[string]any) *prepared {
	p := &prepared{id: c["id"], outcome: OutcomeDecision}
	inObj, ok := c["input"].(map[string]any)
	if !ok {
		p.outcome = OutcomeValidationError
		p.verrs = core.ValidationErrors{{Loc: []string{}, Type: "model_type", Msg: "input must be an object"}}
		return p
	}
	if p.in, p.verrs = core.RouteInputFromMap(inObj); len(p.verrs) > 0 {
		p.outcome = OutcomeValidationError
		return p
	}
	var rulesJSON any = []any{}
	if v, ok := c["rules"]; ok && v != nil {
		rulesJSON = v
	} else if v, ok := c["rules_doc"]; ok {
		if _, isDoc := v.(map[string]any); !isDoc {
			p.outcome, p.loadError = OutcomeRulesLoadError, `rules_doc must be an object {"rules": [...]}`
			return p
		}
		rulesJSON = v
	}
	rules, err := core.RulesFromJSON(rulesJSON)
	if err == nil {
		p.rs, err = core.CompileRules(rules)
	}
	if err != nil {
		p.outcome, p.loadError = OutcomeRulesLoadError, err.Error()
		return p
	}
	if hc, ok := c["hall_config"]; ok && hc != nil {
		raw, _ := json.Marshal(hc)
		cfg, verrs := core.ParseHallConfig(raw)
		if len(verrs) > 0 {
			p.outcome = OutcomeValidationError
			for _, e := range verrs {
				e.Loc = append([]string{"hall_config"}, e.Loc...)
				p.verrs = append(p.verrs, e)
			}
			return p
		}
		p.opts.Config = &cfg
	}
	p.reg = core.NewMemRegistry()
	if verrs := setupRegistry(p.reg, c["registry"]); len(verrs) > 0 {
		p.outcome, p.verrs = OutcomeValidationError, verrs
		return p
	}
	p.opts.TaskID, _ = c["task_id"].(string)
	p.opts.PolicyGate = policyGate(c["policy_gate"])
	p.opts.Privilege = p.reg
	if pv, ok := c["privilege"].(map[string]any); ok {
		p.opts.Privilege = privilege(pv)
	}
	if at, ok := c["attestation"].(map[string]any); ok {
		reg, _ := at["registered"].(map[string]any)
		cur, _ := at["current"].(map[string]any)
		species := map[string]bool{}
		for s := range reg {
			species[s] = true
		}
		for s := range cur {
			species[s] = true
		}
		for s := range species {
			r, _ := reg[s].(string)
			k, _ := cur[s].(string)
			p.reg.SetAttestation(s, r, k)
		}
		p.opts.Attestation = p.reg
	}
	if ap, ok := c["approvals"].(map[string]any); ok && ap["mode"] == "deny" {
		p.opts.Approvals = core.DenyRequireHuman
	}
	return p
}

func setupRegistry(reg *core.MemRegistry, v any) core.ValidationErrors {
	r, _ := v.(map[string]any)
	var verrs core.ValidationErrors
	bad := func(loc []string, msg string) {
		verrs = append(verrs, core.ValidationError{Loc: append([]string{"registry"}, loc...), Type: "value_error", Msg: msg})
	}
	if list, ok := r["enroll"].([]any); ok {
		for i, item := range list {
			raw, _ := json.Marshal(item)
			var rec core.RegistryRecord
			if err := json.Unmarshal(raw, &rec); err != nil {
				bad([]string{"enroll", fmt.Sprint(i)}, err.Error())
				continue
			}
			_ = reg.Enroll(rec) // invalid controls/hashes are skipped, as in the reference
		}
	}
	if list, ok := r["set_controls_present"].([]any); ok {
		_ = reg.SetControlsPresent(stringList(list))
	}
	if list, ok := r["set_workers_available"].([]any); ok {
		reg.SetWorkersAvailable(stringList(list))
	}
	if envs, ok := r["set_privilege_envelopes"].(map[string]any); ok {
		for species, e := range envs {
			m, _ := e.(map[string]any)
			reg.SetPrivilegeEnvelope(species, m)
		}
	}
	return verrs
}

func stringList(list []any) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// gateResult converts [decision, policy_version, reason]; anything else is
// an error (DENY_INTERNAL_ERROR), including non-string members.
func gateResult(v any) (core.PolicyResult, error) {
	list, ok := v.([]any)
	if !ok || len(list) != 3 {
		return core.PolicyResult{}, fmt.Errorf("gate result must be [decision, policy_version, reason], got %v", v)
	}
	var s [3]string
	for i, e := range list {
		if s[i], ok = e.(string); !ok {
			return core.PolicyResult{}, fmt.Errorf("gate result member %d must be a string", i)
		}
	}
	return core.PolicyResult{Decision: s[0], PolicyVersion: s[1], Reason: s[2]}, nil
}

func policyGate(v any) core.PolicyGate {
	g, _ := v.(map[string]any)
	switch g["kind"] {
	case "fixed":
		res := g["result"]
		return core.PolicyGateFunc(func(core.PolicyContext) (core.PolicyResult, error) { return gateResult(res) })
	case "table":
		rows, _ := g["rules"].([]any)
		def, hasDefault := g["default"]
		return core.PolicyGateFunc(func(ctx core.PolicyContext) (core.PolicyResult, error) {
			for _, row := range rows {
				r, _ := row.(map[string]any)
				if when, _ := r["when"].(map[string]any); whenMatches(when, ctx) {
					return gateResult(r["result"])
				}
			}
			if !hasDefault {
				return core.PolicyResult{}, errors.New("no table row matched and no default")
			}
			return gateResult(def)
		})
	}
	return nil
}

func whenMatches(when map[string]any, ctx core.PolicyContext) bool {
	for k, want := range when {
		got, ok := ctx.Get(k)
		if !ok {
			return false
		}
		switch w := want.(type) {
		case []any:
			if !slices.Contains(w, any(got)) {
				return false
			}
		default:
			if w != any(got) {
				return false
			}
		}
	}
	return true
}

type fixedPrivilege struct {
	envelope map[string]any
	result   any
}

func (f fixedPrivilege) Envelope(string) (map[string]any, error) { return f.envelope, nil }

func (f fixedPrivilege) Allows(string, string, map[string]any) (bool, string, error) {
	list, ok := f.result.([]any)
	if !ok || len(list) != 2 {
		return false, "", errors.New("privilege result must be [allowed, reason]")
	}
	reason, ok := list[1].(string)
	if !ok {
		b, _ := json.Marshal(list[1])
		reason = string(b)
	}
	return core.Truthy(list[0]), reason, nil
}

func privilege(pv map[string]any) core.PrivilegeChecker {
	if pv["kind"] != "fixed" {
		return nil
	}
	env, _ := pv["envelope"].(map[string]any)
	return fixedPrivilege{envelope: env, result: pv["result"]}
}

func (p *prepared) decide(dec *core.RouteDecision) {
	n := 0
	opts := p.opts
	opts.Now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	opts.NewID = func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}
	core.DecideInto(dec, &p.in, p.rs, p.reg, opts)
}

func (p *prepared) result(dec *core.RouteDecision) map[string]any {
	line := map[string]any{"id": p.id, "outcome": p.outcome}
	switch p.outcome {
	case OutcomeValidationError:
		errs := make([]any, len(p.verrs))
		for i, e := range p.verrs {
			loc := make([]any, len(e.Loc))
			for j, l := range e.Loc {
				loc[j] = l
			}
			errs[i] = map[string]any{"loc": loc, "type": e.Type}
		}
		line["validation_errors"] = errs
		return line
	case OutcomeRulesLoadError:
		line["error"] = p.loadError
		return line
	}
	p.decide(dec)
	events := make([]any, len(dec.TelemetryEnvelopes))
	for i, e := range dec.TelemetryEnvelopes {
		events[i] = e.EventID
	}
	var code any
	if c := dec.Code(); c != "" {
		code = c
	}
	var selected any
	if dec.SelectedWorkerSpeciesID != nil {
		selected = *dec.SelectedWorkerSpeciesID
	}
	line["summary"] = map[string]any{
		"denied": dec.Denied, "code": code, "matched_rule_id": dec.MatchedRuleID,
		"selected_worker_species_id": selected, "telemetry_event_ids": events,
	}
	raw, err := json.Marshal(dec)
	if err != nil {
		line["outcome"], line["error"] = "internal_error", err.Error()
		return line
	}
	g, _ := canon.Decode(raw)
	m := g.(map[string]any)
	delete(m, "decision_id")
	delete(m, "timestamp")
	for _, e := range m["telemetry_envelopes"].([]any) {
		delete(e.(map[string]any), "timestamp")
	}
	line["decision"] = m
	return line
}

func bench(p *prepared, n int, dec *core.RouteDecision) map[string]any {
	lat := make([]time.Duration, n)
	start := time.Now()
	for i := range lat {
		t0 := time.Now()
		core.DecideInto(dec, &p.in, p.rs, p.reg, p.opts)
		lat[i] = time.Since(t0)
	}
	total := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	us := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Nanoseconds()) / 1e3
	}
	return map[string]any{
		"id": p.id, "n": n,
		"decisions_per_sec": float64(n) / total.Seconds(),
		"p50_us":            us(0.50),
		"p99_us":            us(0.99),
	}
}

func writeLine(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
