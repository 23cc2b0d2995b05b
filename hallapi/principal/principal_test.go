package principal

import (
	"context"
	"testing"
)

func TestLabelAndContext(t *testing.T) {
	if _, ok := From(context.Background()); ok || Label(context.Background()) != "" {
		t.Fatal("an empty context carries a principal")
	}
	for _, tc := range []struct {
		p    Principal
		want string
		gov  bool
	}{
		{Principal{Kind: Agent, Name: "ci-bot", Via: ViaAgent}, "ci-bot", false},
		{Principal{Kind: Person, Name: "octocat", Via: ViaBrowser}, "person:octocat", true},
	} {
		ctx := With(context.Background(), tc.p)
		got, ok := From(ctx)
		if !ok || got != tc.p || Label(ctx) != tc.want || got.IsPerson() != tc.gov {
			t.Errorf("%+v: label %q person %v", got, Label(ctx), got.IsPerson())
		}
	}
}

// Owns: the person acts on any record, an agent on its own only; work
// without a principal is the Hall's own.
func TestOwns(t *testing.T) {
	alice := Principal{Kind: Agent, Name: "alice"}
	me := Principal{Kind: Person, Name: "octo"}
	for _, c := range []struct {
		name  string
		ctx   context.Context
		label string
		want  bool
	}{
		{"agent, own record", With(context.Background(), alice), "alice", true},
		{"agent, another agent's record", With(context.Background(), alice), "bob", false},
		{"agent, the person's record", With(context.Background(), alice), "person:octo", false},
		{"agent, a record naming no one", With(context.Background(), alice), "", false},
		{"person, an agent's record", With(context.Background(), me), "bob", true},
		{"no principal (the Hall itself)", context.Background(), "bob", true},
	} {
		if got := Owns(c.ctx, c.label); got != c.want {
			t.Errorf("%s: Owns = %v, want %v", c.name, got, c.want)
		}
	}
}
