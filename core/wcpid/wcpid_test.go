package wcpid

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		kind   Kind
		id     string
		reason string // "" = valid
		pos    int
	}{
		{Capability, "cap.doc.summarize", "", 0},
		{Control, "ctrl.obs.audit_log_append_only", "", 0},
		{Control, "ctrl.blast-radius-scoring", "", 0},
		{Species, "wrk.hello.greeter", "", 0},
		{Event, "evt.os.task.routed", "", 0},
		{Profile, "prof.fast", "", 0},
		{Policy, "pol.v1", "", 0},
		{Worker, "org.acme.summarizer", "", 0},
		{Worker, "x.alice.bot", "", 0},
		{Capability, "", "empty", -1},
		{Capability, "cap.", "empty segment", 4},
		{Capability, "cap.a..b", "empty segment", 6},
		{Capability, "cap.a.", "empty segment", 6},
		{Capability, "cap.Doc", "uppercase", 4},
		{Capability, "cap.a b", "not allowed", 5},
		{Capability, "cap.a\n", "not allowed", 5},
		{Capability, "cap._a", "start with a letter", 4},
		{Capability, "ctrl.a", "must start with \"cap.\"", 0},
		{Capability, "cap." + strings.Repeat("a", 65), "longer than 64", 4},
		{Capability, "cap." + strings.Repeat("a.", 130) + "a", "longer than 255", -1},
		{Worker, "wrk.acme.x", "namespace", 0},
		{Worker, "org.acme", "at least one more segment", -1},
		{Worker, "org", "namespace", 0},
		{"thing", "thing.a", "unknown id kind", -1},
	}
	for _, c := range cases {
		err := Validate(c.kind, c.id)
		if c.reason == "" {
			if err != nil {
				t.Errorf("%s %q: %v", c.kind, c.id, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(e.Reason, c.reason) || e.Pos != c.pos {
			t.Errorf("%s %q: got %v (pos %v), want %q at %d", c.kind, c.id, err, e, c.reason, c.pos)
		}
	}
}

func TestNamespace(t *testing.T) {
	if ns, err := Namespace("org.acme.summarizer.v2"); err != nil || ns != "org.acme" {
		t.Errorf("%q %v", ns, err)
	}
	if _, err := Namespace("acme.x"); err == nil {
		t.Error("bad worker id accepted")
	}
}
