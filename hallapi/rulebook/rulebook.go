// Package rulebook reads, validates, saves and previews the Hall's rules
// file: the Rules screen's domain. Rules are validated by the engine's own
// core.RulesFromJSON and core.CompileRules (errors name the rule and the
// field), saved atomically (temp file + rename, the file's mode kept), and
// guarded by an ETag over the file's bytes so that two editors (or an editor
// and a hand edit) cannot overwrite each other. Replay runs recorded
// requests through the rules in force and the edited rules and reports the
// decisions that would flip.
package rulebook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"hallmonitor/core"
	"hallmonitor/core/canon"
	"hallmonitor/hallapi/config"
)

// MaxFile is the largest rules file read.
const MaxFile = 8 << 20

// AbsentETag is the ETag of a rules file that does not exist yet.
const AbsentETag = `"absent"`

// Doc is the rules file as read.
type Doc struct {
	Path    string               `json:"path"`
	Rules   []core.Rule          `json:"rules"`
	Hash    string               `json:"rules_hash"`
	ETag    string               `json:"etag"`
	Shadows []core.ShadowWarning `json:"shadow_warnings"`
	// Error says why the file cannot be used ("" when it can); the Hall
	// then denies every request.
	Error string `json:"error"`
}

// FieldError is one problem in an edited rule list.
type FieldError struct {
	Index   int    `json:"index"` // rule position, -1 for the whole list
	RuleID  string `json:"rule_id,omitempty"`
	Field   string `json:"field"` // e.g. rules[2].match.env
	Message string `json:"message"`
}

// ValidationError lists the problems of an edited rule list.
type ValidationError struct{ Errors []FieldError }

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		msgs[i] = f.Field + ": " + f.Message
	}
	return strings.Join(msgs, "; ")
}

// ErrPrecondition is a save whose If-Match is not the file's ETag.
var ErrPrecondition = errors.New("the rules file changed since it was read")

// Read reads the rules file. A missing, unreadable or invalid file yields a
// Doc with Error set and no rules (the Hall's fail-closed view of it).
func Read(path string) Doc {
	d := Doc{Path: path, Rules: []core.Rule{}, Shadows: []core.ShadowWarning{}, ETag: AbsentETag}
	empty, _ := core.CompileRules(nil)
	d.Hash = empty.Hash()
	if path == "" {
		d.Error = "no rules_path is configured: set it in Setup"
		return d
	}
	b, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		d.Error = fmt.Sprintf("rules file %s does not exist yet: every request is denied until a rule is saved", path)
		return d
	}
	if err != nil {
		d.Error = err.Error()
		return d
	}
	d.ETag = etag(b)
	rs, err := core.ParseRules(b)
	if err != nil {
		d.Error = fmt.Sprintf("rules file %s is invalid: %v", path, err)
		return d
	}
	d.Rules, d.Hash = rs.Rules(), rs.Hash()
	if w := rs.ShadowWarnings(); w != nil {
		d.Shadows = w
	}
	return d
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read rules file %s: %w", path, err)
	}
	if len(b) > MaxFile {
		return nil, fmt.Errorf("rules file %s is larger than %d bytes", path, MaxFile)
	}
	return b, nil
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// Compile validates an edited rule list (a JSON list of rule objects) with
// the engine's parser and compiler. Errors are a *ValidationError whose
// fields are rules[i].<path>.
func Compile(raw json.RawMessage) (*core.RuleSet, error) {
	g, err := canon.Decode(raw)
	if err != nil {
		return nil, &ValidationError{[]FieldError{{Index: -1, Field: "rules", Message: "not valid JSON: " + err.Error()}}}
	}
	if _, ok := g.([]any); !ok {
		return nil, &ValidationError{[]FieldError{{Index: -1, Field: "rules", Message: "must be a list of rule objects"}}}
	}
	rules, err := core.RulesFromJSON(g)
	if err == nil {
		var rs *core.RuleSet
		if rs, err = core.CompileRules(rules); err == nil {
			if dup := duplicateID(rules); dup != nil {
				return nil, &ValidationError{[]FieldError{*dup}}
			}
			return rs, nil
		}
	}
	return nil, fieldErrors(err)
}

// duplicateID finds a rule_id used twice (decisions name their rule by id).
func duplicateID(rules []core.Rule) *FieldError {
	seen := map[string]int{}
	for i, r := range rules {
		if j, ok := seen[r.RuleID]; ok {
			return &FieldError{Index: i, RuleID: r.RuleID, Field: fmt.Sprintf("rules[%d].rule_id", i),
				Message: fmt.Sprintf("rule_id %q is also the id of rule %d: decisions name their rule by id, so ids must be unique", r.RuleID, j+1)}
		}
		seen[r.RuleID] = i
	}
	return nil
}

// fieldErrors turns the engine's joined *core.RuleError values into field errors.
func fieldErrors(err error) *ValidationError {
	var out []FieldError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var re *core.RuleError
		if errors.As(e, &re) {
			f := "rules[" + strconv.Itoa(re.Index) + "]"
			if re.Path != "" {
				f += "." + re.Path
			}
			out = append(out, FieldError{Index: re.Index, RuleID: re.RuleID, Field: f, Message: re.Msg})
			return
		}
		out = append(out, FieldError{Index: -1, Field: "rules", Message: e.Error()})
	}
	walk(err)
	return &ValidationError{out}
}

// Book serialises the saves of one process (the ETag check guards against
// other processes and hand edits).
type Book struct{ mu sync.Mutex }

// Save replaces the rules of the file at path with the edited list when
// ifMatch is the file's current ETag (AbsentETag for a file not written
// yet), keeping any other top-level keys of a {"rules": [...]} document and
// the file's mode (0600 for a new file). It returns the file as saved.
func (b *Book) Save(path, ifMatch string, raw json.RawMessage) (Doc, error) {
	rs, err := Compile(raw)
	if err != nil {
		return Doc{}, err
	}
	if path == "" {
		return Doc{}, errors.New("no rules_path is configured: set it in Setup")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, err := readFile(path)
	tag, mode := AbsentETag, os.FileMode(0o600)
	switch {
	case err == nil:
		tag = etag(cur)
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	case !errors.Is(err, fs.ErrNotExist):
		return Doc{}, err
	}
	if ifMatch != tag {
		return Doc{}, fmt.Errorf("%w (now %s, you edited %s): reload the rules and apply your change again", ErrPrecondition, tag, ifMatch)
	}
	doc := map[string]any{}
	if cur != nil {
		// A hand-written document keeps its other keys (comments, version…).
		if g, err := canon.Decode(cur); err == nil {
			if m, ok := g.(map[string]any); ok {
				doc = m
			}
		}
	}
	doc["rules"] = rs.Rules()
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return Doc{}, err
	}
	if err := config.WriteFileAtomic(path, append(out, '\n'), mode); err != nil {
		return Doc{}, fmt.Errorf("write rules file %s: %w", path, err)
	}
	return Read(path), nil
}
