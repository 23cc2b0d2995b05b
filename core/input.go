package core

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"hallmonitor/core/canon"
)

// ValidationError is one input problem, shaped like a pydantic error:
// Loc is the path to the field, Type the pydantic error type, Msg a human
// message naming the field and the fix.
type ValidationError struct {
	Loc  []string `json:"loc"`
	Type string   `json:"type"`
	Msg  string   `json:"msg"`
}

func (e ValidationError) Error() string {
	return strings.Join(e.Loc, ".") + ": " + e.Msg
}

// ValidationErrors is a list of problems; it is an error.
type ValidationErrors []ValidationError

func (es ValidationErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return fmt.Sprintf("%d validation error(s): %s", len(es), strings.Join(parts, "; "))
}

func verr(loc []string, typ, format string, args ...any) ValidationError {
	return ValidationError{Loc: loc, Type: typ, Msg: fmt.Sprintf(format, args...)}
}

func isRouteInputField(k string) bool {
	switch k {
	case "capability_id", "env", "data_label", "tenant_risk", "qos_class", "tenant_id",
		"correlation_id", "request", "blast_radius", "blast_score", "privilege_context",
		"dry_run", "tenant_credential":
		return true
	}
	return false
}

// ParseRouteInput decodes and validates a RouteInput from JSON with the
// reference's rules (pydantic lax mode): exact literals, string-only string
// fields, blank tenant_id rejected, blast_score and dry_run coercions.
// Unknown keys are dropped and listed in RouteInput.IgnoredKeys.
func ParseRouteInput(data []byte) (RouteInput, ValidationErrors) {
	g, err := canon.Decode(data)
	if err != nil {
		return RouteInput{}, ValidationErrors{verr([]string{}, "json_invalid",
			"input is not valid JSON (%v); send one JSON object", err)}
	}
	obj, ok := g.(map[string]any)
	if !ok {
		return RouteInput{}, ValidationErrors{verr([]string{}, "model_type",
			"input must be a JSON object with the RouteInput fields, got %s", jsonKind(g))}
	}
	return RouteInputFromMap(obj)
}

// RouteInputFromMap validates an already decoded JSON object (numbers as
// json.Number or float64). Every field is checked; the errors name each bad
// field in input order.
func RouteInputFromMap(obj map[string]any) (RouteInput, ValidationErrors) {
	var in RouteInput
	f := inputFields{obj: obj}
	f.str("capability_id", &in.CapabilityID)
	f.literal("env", envs(), &in.Env)
	f.literal("data_label", dataLabels(), &in.DataLabel)
	f.literal("tenant_risk", tenantRisks(), &in.TenantRisk)
	f.literal("qos_class", qosClasses(), &in.QoSClass)
	f.tenantID(&in.TenantID)
	f.str("correlation_id", &in.CorrelationID)
	in.Request = f.dict("request", false)
	in.BlastRadius = f.dict("blast_radius", true)
	f.blastScore(&in.BlastScore)
	in.PrivilegeContext = f.dict("privilege_context", true)
	f.dryRun(&in.DryRun)
	f.credential(&in.TenantCredential)
	for k := range obj {
		if !isRouteInputField(k) {
			in.IgnoredKeys = append(in.IgnoredKeys, k)
		}
	}
	sort.Strings(in.IgnoredKeys)
	if len(f.errs) > 0 {
		return RouteInput{}, f.errs
	}
	return in, nil
}

// inputFields reads the fields of a RouteInput object, collecting one
// validation error per bad field.
type inputFields struct {
	obj  map[string]any
	errs ValidationErrors
}

func (f *inputFields) fail(key, typ, format string, args ...any) {
	f.errs = append(f.errs, verr([]string{key}, typ, format, args...))
}

// str reads a required string.
func (f *inputFields) str(key string, dst *string) {
	v, present := f.obj[key]
	if !present {
		f.fail(key, "missing", "%s is required; add it as a string", key)
		return
	}
	s, ok := v.(string)
	if !ok {
		f.fail(key, "string_type", "%s must be a string, got %s", key, jsonKind(v))
		return
	}
	*dst = s
}

// literal reads a required string that must be one of allowed.
func (f *inputFields) literal(key string, allowed []string, dst *string) {
	v, present := f.obj[key]
	if !present {
		f.fail(key, "missing", "%s is required; use one of %s", key, strings.Join(allowed, ", "))
		return
	}
	s, ok := v.(string)
	if !ok || !slices.Contains(allowed, s) {
		f.fail(key, "literal_error",
			"%s must be exactly one of %s (case-sensitive, no spaces), got %s", key, strings.Join(allowed, ", "), short(v))
		return
	}
	*dst = s
}

// dict reads a JSON object: absent is {} (nil when optional, as is null).
func (f *inputFields) dict(key string, optional bool) map[string]any {
	v, present := f.obj[key]
	if !present || (v == nil && optional) {
		if optional {
			return nil
		}
		return map[string]any{}
	}
	m, ok := v.(map[string]any)
	if !ok {
		f.fail(key, "dict_type", "%s must be a JSON object, got %s", key, jsonKind(v))
		return nil
	}
	return m
}

// tenantID reads the required tenant_id, which must not be blank.
func (f *inputFields) tenantID(dst *string) {
	if s, ok := f.obj["tenant_id"].(string); ok && IsBlank(s) {
		f.fail("tenant_id", "value_error", "tenant_id must not be empty or whitespace; send the tenant's id")
		return
	}
	f.str("tenant_id", dst)
}

// blastScore reads the optional integer blast_score (null: absent).
func (f *inputFields) blastScore(dst **int64) {
	if v, present := f.obj["blast_score"]; present && v != nil {
		n, typ, msg := LaxInt(v)
		if typ != "" {
			f.fail("blast_score", typ, "blast_score %s", msg)
			return
		}
		*dst = &n
	}
}

// dryRun reads the optional lax boolean dry_run.
func (f *inputFields) dryRun(dst *bool) {
	if v, present := f.obj["dry_run"]; present {
		b, typ := LaxBool(v)
		if typ != "" {
			f.fail("dry_run", typ, "dry_run must be a boolean (true/false), got %s", short(v))
		}
		*dst = b
	}
}

// credential reads the optional string tenant_credential (null: absent).
func (f *inputFields) credential(dst **string) {
	if v, present := f.obj["tenant_credential"]; present && v != nil {
		s, ok := v.(string)
		if !ok {
			f.fail("tenant_credential", "string_type", "tenant_credential must be a string or null, got %s", jsonKind(v))
			return
		}
		*dst = &s
	}
}

// ParseHallConfig decodes a HallConfig object over DefaultHallConfig with
// lax booleans. JSON null yields the defaults.
func ParseHallConfig(data []byte) (HallConfig, ValidationErrors) {
	cfg := DefaultHallConfig()
	g, err := canon.Decode(data)
	if err != nil {
		return cfg, ValidationErrors{verr([]string{}, "json_invalid", "hall_config is not valid JSON: %v", err)}
	}
	if g == nil {
		return cfg, nil
	}
	obj, ok := g.(map[string]any)
	if !ok {
		return cfg, ValidationErrors{verr([]string{}, "model_type", "hall_config must be a JSON object, got %s", jsonKind(g))}
	}
	var errs ValidationErrors
	flags := []struct {
		key string
		dst *bool
	}{
		{"require_signatory", &cfg.RequireSignatory},
		{"require_credential", &cfg.RequireCredential},
		{"require_worker_attestation", &cfg.RequireWorkerAttestation},
		{"enforce_correlation_id", &cfg.EnforceCorrelationID},
		{"enforce_required_controls", &cfg.EnforceRequiredControls},
		{"enforce_blast_scoring_in_prod", &cfg.EnforceBlastScoringInProd},
		{"enforce_privilege_envelopes", &cfg.EnforcePrivilegeEnvelopes},
	}
	for _, f := range flags {
		v, present := obj[f.key]
		if !present {
			continue
		}
		b, typ := LaxBool(v)
		if typ != "" {
			errs = append(errs, verr([]string{f.key}, typ, "%s must be a boolean, got %s", f.key, short(v)))
			continue
		}
		*f.dst = b
	}
	if v, present := obj["allowed_tenants"]; present {
		list, ok := v.([]any)
		if !ok {
			errs = append(errs, verr([]string{"allowed_tenants"}, "list_type", "allowed_tenants must be a list of strings, got %s", jsonKind(v)))
		} else {
			for i, e := range list {
				s, ok := e.(string)
				if !ok {
					errs = append(errs, verr([]string{"allowed_tenants", strconv.Itoa(i)}, "string_type",
						"allowed_tenants[%d] must be a string, got %s", i, jsonKind(e)))
					continue
				}
				cfg.AllowedTenants = append(cfg.AllowedTenants, s)
			}
		}
	}
	return cfg, errs
}

// IsBlank reports whether s is empty after removing whitespace and control
// characters. It is a superset of Python's str.strip() emptiness (which also
// strips U+001C..U+001F).
func IsBlank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// LaxBool applies pydantic's lax bool coercion. It returns the value and ""
// or a pydantic error type.
func LaxBool(v any) (bool, string) {
	switch x := v.(type) {
	case bool:
		return x, ""
	case json.Number:
		if canon.IsFloat(x) {
			f, err := x.Float64()
			if err != nil || f != math.Trunc(f) {
				return false, "bool_type"
			}
			return laxBoolNum(f)
		}
		f, err := x.Float64()
		if err != nil {
			return false, "bool_parsing"
		}
		return laxBoolNum(f)
	case float64:
		if x != math.Trunc(x) {
			return false, "bool_type"
		}
		return laxBoolNum(x)
	case string:
		switch strings.ToLower(x) {
		case "0", "off", "f", "false", "n", "no":
			return false, ""
		case "1", "on", "t", "true", "y", "yes":
			return true, ""
		}
		return false, "bool_parsing"
	}
	return false, "bool_type"
}

func laxBoolNum(f float64) (bool, string) {
	switch f {
	case 0:
		return false, ""
	case 1:
		return true, ""
	}
	return false, "bool_parsing"
}

// LaxInt applies pydantic's lax int coercion for blast_score. It returns
// the value, or a pydantic error type and a message fragment.
// Integers outside the int64 range are rejected (int_parsing_size).
func LaxInt(v any) (int64, string, string) {
	switch x := v.(type) {
	case bool:
		return 0, "value_error", "must be an integer, not a boolean"
	case json.Number:
		if !canon.IsFloat(x) {
			n, err := strconv.ParseInt(string(x), 10, 64)
			if err != nil {
				return 0, "int_parsing_size", "is too large; use an integer between 0 and 100"
			}
			return n, "", ""
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !math.IsInf(f, 0) {
			return 0, "int_parsing", "must be an integer"
		}
		return intFromFloat(f)
	case float64:
		return intFromFloat(x)
	case string:
		return intFromString(x)
	case map[string]any, []any:
		return 0, "int_type", "must be an integer, got " + jsonKind(v)
	}
	return 0, "int_type", "must be an integer"
}

func intFromFloat(f float64) (int64, string, string) {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return 0, "finite_number", "must be a finite integer"
	case f != math.Trunc(f):
		return 0, "int_from_float", "must be a whole number, got a fraction"
	case math.Abs(f) >= 1<<63:
		return 0, "int_parsing_size", "is too large; use an integer between 0 and 100"
	}
	return int64(f), "", ""
}

func intFromString(s string) (int64, string, string) {
	const bad = "must be an integer (digits with an optional sign), e.g. 40"
	t := strings.TrimFunc(s, unicode.IsSpace)
	if i := strings.IndexByte(t, '.'); i >= 0 {
		frac := t[i+1:]
		if frac == "" || strings.Trim(frac, "0") != "" {
			return 0, "int_parsing", bad
		}
		t = t[:i]
	}
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return 0, "int_parsing", bad
	}
	digits := strings.ReplaceAll(t, "_", "")
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, "int_parsing", bad
		}
	}
	if neg {
		digits = "-" + digits
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, "int_parsing_size", "is too large; use an integer between 0 and 100"
	}
	return n, "", ""
}

// LaxFloat applies pydantic's lax float coercion (score_hint). Non-finite
// values are rejected because they cannot be carried in JSON.
func LaxFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case bool:
		if x {
			f = 1
		}
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(string(x), 64); err != nil {
			return 0, false
		}
	case float64:
		f = x
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return jsonKind(v)
	}
	if len(b) > 40 {
		return string(b[:37]) + "..."
	}
	return string(b)
}
