package core

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"hallmonitor/core/canon"
)

// CondKind is the kind of a match condition.
type CondKind uint8

// Condition kinds. Wildcard is absent or null; Any is {"any": true};
// Eq is a plain string; In is {"in": [strings]}.
const (
	Wildcard CondKind = iota
	Any
	Eq
	In
)

// Condition is one match condition of a rule.
type Condition struct {
	Kind  CondKind
	Value string   // Eq
	In    []string // In
}

// IsZero reports a wildcard (so `omitzero` drops it).
func (c Condition) IsZero() bool { return c.Kind == Wildcard }

// Matches reports whether value satisfies the condition.
func (c Condition) Matches(value string) bool {
	switch c.Kind {
	case Eq:
		return c.Value == value
	case In:
		return slices.Contains(c.In, value)
	}
	return true
}

// MarshalJSON writes null, {"any":true}, "value" or {"in":[...]}.
func (c Condition) MarshalJSON() ([]byte, error) {
	switch c.Kind {
	case Any:
		return []byte(`{"any":true}`), nil
	case Eq:
		return json.Marshal(c.Value)
	case In:
		return json.Marshal(map[string][]string{"in": c.In})
	}
	return []byte("null"), nil
}

// UnmarshalJSON accepts the forms written by MarshalJSON.
func (c *Condition) UnmarshalJSON(b []byte) error {
	g, err := canon.Decode(b)
	if err != nil {
		return err
	}
	v, err := parseCondition(g)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

func parseCondition(g any) (Condition, error) {
	switch x := g.(type) {
	case nil:
		return Condition{}, nil
	case string:
		return Condition{Kind: Eq, Value: x}, nil
	case map[string]any:
		if len(x) != 1 {
			return Condition{}, errors.New(`a condition object must have exactly one key: {"any": true} or {"in": [..strings..]}`)
		}
		if v, ok := x["any"]; ok {
			if v != true {
				return Condition{}, errors.New(`"any" must be exactly true; remove the key for a wildcard`)
			}
			return Condition{Kind: Any}, nil
		}
		v, ok := x["in"]
		if !ok {
			return Condition{}, errors.New(`unknown condition operator; use {"any": true} or {"in": [..strings..]} (there is no "eq": write the string itself)`)
		}
		list, ok := v.([]any)
		if !ok {
			return Condition{}, fmt.Errorf(`"in" must be a list of strings, got %s (a string is not a list of options)`, jsonKind(v))
		}
		c := Condition{Kind: In, In: make([]string, 0, len(list))}
		for i, e := range list {
			s, ok := e.(string)
			if !ok {
				return Condition{}, fmt.Errorf(`"in"[%d] must be a string, got %s`, i, jsonKind(e))
			}
			c.In = append(c.In, s)
		}
		return c, nil
	case []any:
		return Condition{}, errors.New(`a bare list is not a condition; write {"in": [...]}`)
	}
	return Condition{}, fmt.Errorf("a condition must be a string, null or an operator object, got %s", jsonKind(g))
}

// Match is a rule's match block: the five routing keys.
type Match struct {
	CapabilityID Condition `json:"capability_id,omitzero"`
	Env          Condition `json:"env,omitzero"`
	DataLabel    Condition `json:"data_label,omitzero"`
	TenantRisk   Condition `json:"tenant_risk,omitzero"`
	QoSClass     Condition `json:"qos_class,omitzero"`
}

func (m *Match) conds() [5]*Condition {
	return [5]*Condition{&m.CapabilityID, &m.Env, &m.DataLabel, &m.TenantRisk, &m.QoSClass}
}

var matchKeys = [5]string{"capability_id", "env", "data_label", "tenant_risk", "qos_class"}

// Matches reports whether the input satisfies every condition.
func (m *Match) Matches(in *RouteInput) bool {
	return m.CapabilityID.Matches(in.CapabilityID) && m.Env.Matches(in.Env) &&
		m.DataLabel.Matches(in.DataLabel) && m.TenantRisk.Matches(in.TenantRisk) &&
		m.QoSClass.Matches(in.QoSClass)
}

// CandidateSpec is a candidate listed by a rule.
type CandidateSpec struct {
	WorkerSpeciesID string   `json:"worker_species_id"`
	ScoreHint       *float64 `json:"score_hint"`
}

// RuleDecision is the decision block of a rule.
type RuleDecision struct {
	CandidateWorkersRanked    []CandidateSpec  `json:"candidate_workers_ranked"`
	RequiredControlsSuggested []string         `json:"required_controls_suggested"`
	Escalation                Escalation       `json:"escalation"`
	Preconditions             Preconditions    `json:"preconditions"`
	RecommendedProfiles       []map[string]any `json:"recommended_profiles"`
}

// Rule is one routing rule. Build rules programmatically with
// DefaultPreconditions() in Decision.Preconditions (the zero value relaxes
// the correlation and controls checks when the Hall floors are off).
type Rule struct {
	RuleID   string       `json:"rule_id"`
	Match    Match        `json:"match"`
	Decision RuleDecision `json:"decision"`
}

// UnmarshalJSON validates one rule object like ParseRules.
func (r *Rule) UnmarshalJSON(b []byte) error {
	g, err := canon.Decode(b)
	if err != nil {
		return err
	}
	v, err := ruleFromJSON(g)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// RuleError locates a problem in a rule list.
type RuleError struct {
	Index  int    // position in the list
	RuleID string // "" when unknown
	Path   string // e.g. "match.env"
	Msg    string
}

func (e *RuleError) Error() string {
	id := ""
	if e.RuleID != "" {
		id = fmt.Sprintf(" (rule_id %q)", e.RuleID)
	}
	path := ""
	if e.Path != "" {
		path = " " + e.Path + ":"
	}
	return fmt.Sprintf("rules[%d]%s:%s %s", e.Index, id, path, e.Msg)
}

// ParseRules decodes rules from JSON (a list of rule objects or a document
// {"rules": [...]}, a missing "rules" key meaning none) and compiles them.
func ParseRules(data []byte) (*RuleSet, error) {
	g, err := canon.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("rules: invalid JSON: %w", err)
	}
	rules, err := RulesFromJSON(g)
	if err != nil {
		return nil, err
	}
	return CompileRules(rules)
}

// RulesFromJSON converts a decoded rules list or document into rules.
func RulesFromJSON(g any) ([]Rule, error) {
	if doc, ok := g.(map[string]any); ok {
		g, ok = doc["rules"]
		if !ok {
			return nil, nil
		}
	}
	list, ok := g.([]any)
	if !ok {
		return nil, fmt.Errorf(`rules: expected a list of rules or {"rules": [...]}, got %s`, jsonKind(g))
	}
	rules := make([]Rule, 0, len(list))
	var errs []error
	for i, item := range list {
		r, err := ruleFromJSON(item)
		if err != nil {
			var re *RuleError
			if errors.As(err, &re) {
				re.Index = i
			}
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

// ruleFromJSON parses one rule of a rules document: its id, its match block
// and its decision block, each field checked for its type.
func ruleFromJSON(g any) (Rule, error) {
	obj, ok := g.(map[string]any)
	if !ok {
		return Rule{}, &RuleError{Msg: "a rule must be an object with rule_id, match and decision, got " + jsonKind(g)}
	}
	rid, ok := obj["rule_id"].(string)
	if !ok {
		return Rule{}, &RuleError{Path: "rule_id", Msg: "rule_id is required and must be a string"}
	}
	r := Rule{RuleID: rid}
	err := parseMatch(&r.Match, obj["match"])
	if err == nil {
		r.Decision.Preconditions = DefaultPreconditions()
		err = parseRuleDecision(&r.Decision, obj["decision"])
	}
	if err != nil {
		err.RuleID = rid
		return Rule{}, err
	}
	return r, nil
}

// fieldError is a RuleError at path; ruleFromJSON adds the rule id.
func fieldError(path, format string, args ...any) *RuleError {
	return &RuleError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// parseMatch reads a rule's match block (absent: matches everything).
func parseMatch(dst *Match, mv any) *RuleError {
	if mv == nil {
		return nil
	}
	m, ok := mv.(map[string]any)
	if !ok {
		return fieldError("match", "must be an object, got %s", jsonKind(mv))
	}
	conds := dst.conds()
	for k, v := range m {
		i := slices.Index(matchKeys[:], k)
		if i < 0 {
			return fieldError("match."+k, "unknown match key; only capability_id, env, data_label, tenant_risk and qos_class are matched (the reference silently ignores other keys)")
		}
		c, err := parseCondition(v)
		if err != nil {
			return fieldError("match."+k, "%v", err)
		}
		*conds[i] = c
	}
	return nil
}

// parseRuleDecision reads a rule's decision block over dst (whose
// preconditions hold the defaults); absent, the rule has no candidates.
func parseRuleDecision(dst *RuleDecision, dv any) *RuleError {
	if dv == nil {
		return nil
	}
	d, ok := dv.(map[string]any)
	if !ok {
		return fieldError("decision", "must be an object, got %s", jsonKind(dv))
	}
	var err *RuleError
	if dst.CandidateWorkersRanked, err = parseCandidates(d["candidate_workers_ranked"]); err != nil {
		return err
	}
	if dst.RequiredControlsSuggested, err = parseStrings(d["required_controls_suggested"], "decision.required_controls_suggested", "a list of control ids"); err != nil {
		return err
	}
	if err = parseEscalation(&dst.Escalation, d["escalation"]); err != nil {
		return err
	}
	if err = parsePreconditions(&dst.Preconditions, d["preconditions"]); err != nil {
		return err
	}
	dst.RecommendedProfiles, err = parseObjects(d["recommended_profiles"], "decision.recommended_profiles")
	return err
}

// parseCandidates reads decision.candidate_workers_ranked.
func parseCandidates(v any) ([]CandidateSpec, *RuleError) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fieldError("decision.candidate_workers_ranked", "must be a list, got %s", jsonKind(v))
	}
	var out []CandidateSpec
	for i, e := range list {
		path := fmt.Sprintf("decision.candidate_workers_ranked[%d]", i)
		co, ok := e.(map[string]any)
		if !ok {
			return nil, fieldError(path, "must be an object {worker_species_id, score_hint}, got %s", jsonKind(e))
		}
		var c CandidateSpec
		if w := co["worker_species_id"]; w != nil {
			if c.WorkerSpeciesID, ok = w.(string); !ok {
				return nil, fieldError(path+".worker_species_id", "must be a string, got %s", jsonKind(w))
			}
		}
		if s := co["score_hint"]; s != nil {
			f, ok := LaxFloat(s)
			if !ok {
				return nil, fieldError(path+".score_hint", "must be a finite number, got %s", short(s))
			}
			c.ScoreHint = &f
		}
		out = append(out, c)
	}
	return out, nil
}

// parseStrings reads an optional list of strings at path (want names the
// list in the error).
func parseStrings(v any, path, want string) ([]string, *RuleError) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fieldError(path, "must be %s, got %s", want, jsonKind(v))
	}
	var out []string
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fieldError(fmt.Sprintf("%s[%d]", path, i), "must be a string, got %s", jsonKind(e))
		}
		out = append(out, s)
	}
	return out, nil
}

// parseObjects reads an optional list of JSON objects at path.
func parseObjects(v any, path string) ([]map[string]any, *RuleError) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fieldError(path, "must be a list of objects, got %s", jsonKind(v))
	}
	var out []map[string]any
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fieldError(fmt.Sprintf("%s[%d]", path, i), "must be an object, got %s", jsonKind(x))
		}
		out = append(out, m)
	}
	return out, nil
}

// boolField names a boolean key of a rule block and where it is stored.
type boolField struct {
	key string
	dst *bool
}

// parseBools sets each present key of obj (under path) that is a boolean in
// the reference's lax sense.
func parseBools(obj map[string]any, path string, fields []boolField) *RuleError {
	for _, f := range fields {
		if fv, present := obj[f.key]; present {
			b, typ := LaxBool(fv)
			if typ != "" {
				return fieldError(path+"."+f.key, "must be a boolean, got %s", short(fv))
			}
			*f.dst = b
		}
	}
	return nil
}

// parseEscalation reads decision.escalation.
func parseEscalation(e *Escalation, v any) *RuleError {
	if v == nil {
		return nil
	}
	eo, ok := v.(map[string]any)
	if !ok {
		return fieldError("decision.escalation", "must be an object, got %s", jsonKind(v))
	}
	if err := parseBools(eo, "decision.escalation", []boolField{
		{"policy_gate", &e.PolicyGate}, {"msavx_step_up", &e.MSAVXStepUp}, {"human_required_default", &e.HumanRequiredDefault},
	}); err != nil {
		return err
	}
	var err *RuleError
	if e.HumanRequiredIf, err = parseObjects(eo["human_required_if"], "decision.escalation.human_required_if"); err != nil {
		return err
	}
	if rv := eo["rationale"]; rv != nil {
		s, ok := rv.(string)
		if !ok {
			return fieldError("decision.escalation.rationale", "must be a string or null, got %s", jsonKind(rv))
		}
		e.Rationale = &s
	}
	return nil
}

// parsePreconditions reads decision.preconditions over the defaults in p.
func parsePreconditions(p *Preconditions, v any) *RuleError {
	if v == nil {
		return nil
	}
	po, ok := v.(map[string]any)
	if !ok {
		return fieldError("decision.preconditions", "must be an object, got %s", jsonKind(v))
	}
	return parseBools(po, "decision.preconditions", []boolField{
		{"must_have_correlation_id", &p.MustHaveCorrelationID},
		{"must_attach_policy_version", &p.MustAttachPolicyVersion},
		{"must_record_artifact_hash_if_executes", &p.MustRecordArtifactHashIfExecutes},
		{"deny_if_missing_required_controls", &p.DenyIfMissingRequiredControls},
		{"deny_if_unsigned_artifact_in_prod", &p.DenyIfUnsignedArtifactInProd},
		{"deny_if_no_attestation_in_prod", &p.DenyIfNoAttestationInProd},
	})
}

// Control ids that switch on pipeline steps. Both the underscore spelling
// (reference) and the catalog's hyphen spelling are honoured.
const (
	ControlBlastRadiusScoring    = "ctrl.blast_radius_scoring"
	ControlBlastRadiusScoringAlt = "ctrl.blast-radius-scoring"
	ControlPrivilegeEnvelopes    = "ctrl.privilege_envelopes_required"
	ControlPrivilegeEnvelopesAlt = "ctrl.privilege-envelopes-required"
)

// ShadowWarning says that rule Shadowed (at index ShadowedIndex) can never
// be reached because an earlier rule Shadower matches everything it does.
type ShadowWarning struct {
	ShadowerID    string `json:"shadower_rule_id"`
	ShadowedID    string `json:"shadowed_rule_id"`
	ShadowedIndex int    `json:"shadowed_index"`
	Identical     bool   `json:"identical"`
}

// RuleSet is a compiled, immutable rule list: validated, shadow-analysed
// once and indexed by capability. Safe for concurrent use.
type RuleSet struct {
	rules    []compiledRule
	source   []Rule
	byCap    map[string][]int32
	wildCap  []int32
	shadows  []ShadowWarning
	shadowed []string
	hash     string
}

type compiledRule struct {
	rule     *Rule
	controls []string // sorted unique
	blast    bool
	priv     bool
}

// CompileRules validates and compiles rules (declaration order is the
// match order). It computes shadow warnings once; prod/edge decisions fail
// closed with DENY_SHADOW_RULES_DETECTED while any exist.
func CompileRules(rules []Rule) (*RuleSet, error) {
	rs := &RuleSet{
		rules:  make([]compiledRule, len(rules)),
		source: make([]Rule, len(rules)),
		byCap:  map[string][]int32{},
	}
	var errs []error
	for i := range rules {
		r := rules[i]
		if r.RuleID == "" {
			errs = append(errs, &RuleError{Index: i, Path: "rule_id", Msg: "rule_id must not be empty"})
		}
		for j, c := range r.Match.conds() {
			if c.Kind > In || (c.Kind == In && c.In == nil) {
				errs = append(errs, &RuleError{Index: i, RuleID: r.RuleID, Path: "match." + matchKeys[j], Msg: "invalid condition"})
			}
		}
		for j, cand := range r.Decision.CandidateWorkersRanked {
			if cand.ScoreHint != nil && (*cand.ScoreHint != *cand.ScoreHint || *cand.ScoreHint > 1e308 || *cand.ScoreHint < -1e308) {
				errs = append(errs, &RuleError{Index: i, RuleID: r.RuleID, Path: fmt.Sprintf("decision.candidate_workers_ranked[%d].score_hint", j), Msg: "must be finite"})
			}
		}
		rs.source[i] = r
		ctl := slices.Clone(r.Decision.RequiredControlsSuggested)
		sort.Strings(ctl)
		ctl = slices.Compact(ctl)
		if ctl == nil {
			ctl = []string{}
		}
		rs.rules[i] = compiledRule{
			rule:     &rs.source[i],
			controls: ctl,
			blast:    slices.Contains(ctl, ControlBlastRadiusScoring) || slices.Contains(ctl, ControlBlastRadiusScoringAlt),
			priv:     slices.Contains(ctl, ControlPrivilegeEnvelopes) || slices.Contains(ctl, ControlPrivilegeEnvelopesAlt),
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// Capability index: every literal capability gets the ordered list of
	// rules that can match it; other capabilities use the wildcard list.
	for _, r := range rs.source {
		switch c := r.Match.CapabilityID; c.Kind {
		case Eq:
			rs.byCap[c.Value] = nil
		case In:
			for _, v := range c.In {
				rs.byCap[v] = nil
			}
		}
	}
	for i, r := range rs.source {
		c := r.Match.CapabilityID
		if c.Kind == Wildcard || c.Kind == Any {
			rs.wildCap = append(rs.wildCap, int32(i))
			for k := range rs.byCap {
				rs.byCap[k] = append(rs.byCap[k], int32(i))
			}
			continue
		}
		for k := range rs.byCap {
			if c.Matches(k) {
				rs.byCap[k] = append(rs.byCap[k], int32(i))
			}
		}
	}
	rs.shadows = detectShadows(rs.source)
	for _, w := range rs.shadows {
		rs.shadowed = append(rs.shadowed, w.ShadowedID)
	}
	hash, err := hashRules(rs.source)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	rs.hash = hash
	return rs, nil
}

func hashRules(rules []Rule) (string, error) {
	raw, err := json.Marshal(rules)
	if err != nil {
		return "", err
	}
	g, err := canon.Decode(raw)
	if err != nil {
		return "", err
	}
	c, err := canon.Marshal(canon.Compact, g)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

// Len is the number of rules.
func (rs *RuleSet) Len() int { return len(rs.rules) }

// Rules returns a copy of the rules in match order.
func (rs *RuleSet) Rules() []Rule { return slices.Clone(rs.source) }

// Hash is the SHA-256 (hex) of the rules' compact canonical JSON: the
// rule-set version to record next to each decision.
func (rs *RuleSet) Hash() string { return rs.hash }

// ShadowWarnings lists every shadowing pair in (earlier, later) order.
func (rs *RuleSet) ShadowWarnings() []ShadowWarning { return slices.Clone(rs.shadows) }

// ShadowedRuleIDs lists the shadowed rule ids, one per warning.
func (rs *RuleSet) ShadowedRuleIDs() []string { return slices.Clone(rs.shadowed) }

// firstMatch returns the index of the first matching rule or -1.
func (rs *RuleSet) firstMatch(in *RouteInput) int {
	idx, ok := rs.byCap[in.CapabilityID]
	if !ok {
		idx = rs.wildCap
	}
	for _, i := range idx {
		if rs.source[i].Match.Matches(in) {
			return int(i)
		}
	}
	return -1
}

func detectShadows(rules []Rule) []ShadowWarning {
	var out []ShadowWarning
	for i := range rules {
		for j := i + 1; j < len(rules); j++ {
			a, b := &rules[i].Match, &rules[j].Match
			identical := matchEqual(a, b)
			if (identical && rules[i].RuleID != rules[j].RuleID) || (!identical && matchCovers(a, b)) {
				out = append(out, ShadowWarning{
					ShadowerID: rules[i].RuleID, ShadowedID: rules[j].RuleID,
					ShadowedIndex: j, Identical: identical,
				})
			}
		}
	}
	return out
}

func wild(c *Condition) bool { return c.Kind == Wildcard || c.Kind == Any }

func condEqual(a, b *Condition) bool {
	if wild(a) || wild(b) {
		return wild(a) && wild(b)
	}
	return a.Kind == b.Kind && a.Value == b.Value && slices.Equal(a.In, b.In)
}

func matchEqual(a, b *Match) bool {
	ac, bc := a.conds(), b.conds()
	for k := range ac {
		if !condEqual(ac[k], bc[k]) {
			return false
		}
	}
	return true
}

// condCovers reports whether every value accepted by b is accepted by a.
func condCovers(a, b *Condition) bool {
	switch {
	case wild(a):
		return true
	case wild(b):
		return false
	case condEqual(a, b):
		return true
	case a.Kind == In && b.Kind == Eq:
		return slices.Contains(a.In, b.Value)
	case a.Kind == In && b.Kind == In:
		for _, v := range b.In {
			if !slices.Contains(a.In, v) {
				return false
			}
		}
		return true
	}
	return false
}

func matchCovers(a, b *Match) bool {
	ac, bc := a.conds(), b.conds()
	for k := range ac {
		if !condCovers(ac[k], bc[k]) {
			return false
		}
	}
	return true
}
