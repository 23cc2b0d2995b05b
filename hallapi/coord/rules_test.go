package coord

import (
	"errors"
	"strings"
	"testing"
)

// TestBlocked is the dependency-type table: what a task needs of its
// predecessors to start and to finish.
func TestBlocked(t *testing.T) {
	statuses := map[string]string{"P": TaskPending, "S": TaskInProgress, "D": TaskDone}
	status := func(id string) (string, bool, error) {
		st, ok := statuses[id]
		return st, ok, nil
	}
	cases := []struct {
		dep      string
		preds    []string
		starting bool
		want     string // "" or a substring of the reason
	}{
		{DepFS, []string{"D"}, true, ""},
		{DepFS, []string{"S"}, true, "predecessors must be done, and S (in_progress) not"},
		{DepFS, []string{"P", "D"}, false, "cannot finish yet: with dependency FS"},
		{DepSS, []string{"S"}, true, ""},
		{DepSS, []string{"P"}, true, "must be started, and P (pending) not"},
		{DepSS, []string{"S"}, false, ""},
		{DepFF, []string{"P"}, true, ""},
		{DepFF, []string{"S"}, false, "must be done, and S (in_progress) not"},
		{DepSF, []string{"P"}, true, ""},
		{DepSF, []string{"P"}, false, "must be started, and P (pending) not"},
		{DepFS, []string{"gone"}, true, ""}, // a deleted predecessor blocks nothing
	}
	for _, c := range cases {
		why, err := blocked(Task{ID: "T9", DepType: c.dep, Predecessors: c.preds}, c.starting, status)
		if err != nil || (c.want == "") != (why == "") || !strings.Contains(why, c.want) {
			t.Errorf("%s %v starting=%v: got %q, %v; want %q", c.dep, c.preds, c.starting, why, err, c.want)
		}
	}
	fail := errors.New("read failed")
	if _, err := blocked(Task{DepType: DepFS, Predecessors: []string{"D"}}, true, func(string) (string, bool, error) { return "", false, fail }); err != fail {
		t.Fatalf("a read error must be returned, got %v", err)
	}
}

// TestCheckPredecessors refuses unknown predecessors and cycles, naming the
// field and the chain.
func TestCheckPredecessors(t *testing.T) {
	graph := func() map[string][]string { return map[string][]string{"A": {}, "B": {"A"}, "C": {"B"}} }
	cases := []struct {
		id    string
		preds []string
		field string // "" when accepted
		msg   string
	}{
		{"D", []string{"C", "A"}, "", ""},
		{"D", []string{"A", "X"}, "follow_up.predecessors[1]", "there is no task X"},
		{"A", []string{"C"}, "follow_up.predecessors", "cycle, A → C → B → A"},
		{"B", []string{"A"}, "", ""},
	}
	for _, c := range cases {
		err := checkPredecessors(graph(), "follow_up.", c.id, c.preds)
		var ce *Error
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s <- %v: %v", c.id, c.preds, err)
		case c.field != "" && (!errors.As(err, &ce) || ce.Field != c.field || ce.Code != "invalid_field" || !strings.Contains(ce.Message, c.msg)):
			t.Errorf("%s <- %v: got %#v, want %s %q", c.id, c.preds, err, c.field, c.msg)
		}
	}
}

// TestNormalizeTask fills the defaults and refuses bad fields by name.
func TestNormalizeTask(t *testing.T) {
	tk := Task{ID: "T1", Title: "  ship it ", Priority: "p0", Section: " "}
	if err := normalizeTask("", &tk); err != nil {
		t.Fatal(err)
	}
	if tk.Title != "ship it" || tk.Owner != OwnerAny || tk.Priority != "P0" || tk.AgentType != "any" || tk.DepType != DepFS ||
		tk.Section != DefaultSection || tk.Predecessors == nil {
		t.Fatalf("defaults: %+v", tk)
	}
	cases := []struct {
		task  Task
		code  string
		field string
	}{
		{Task{Title: " "}, "missing_field", "follow_up.title"},
		{Task{Title: "x", Priority: "P9"}, "invalid_field", "follow_up.priority"},
		{Task{Title: "x", Owner: "two words"}, "invalid_field", "follow_up.owner"},
		{Task{Title: "x", DepType: "XX"}, "invalid_field", "follow_up.dep_type"},
		{Task{ID: "T2", Title: "x", Predecessors: []string{"T2"}}, "invalid_field", "follow_up.predecessors[0]"},
		{Task{Title: "x", Predecessors: []string{"T1", "T1"}}, "invalid_field", "follow_up.predecessors[1]"},
		{Task{Title: strings.Repeat("x", 201)}, "invalid_field", "follow_up.title"},
	}
	for _, c := range cases {
		err := normalizeTask("follow_up.", &c.task)
		var ce *Error
		if !errors.As(err, &ce) || ce.Code != c.code || ce.Field != c.field {
			t.Errorf("%+v: got %v, want %s on %s", c.task, err, c.code, c.field)
		}
	}
}
