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
