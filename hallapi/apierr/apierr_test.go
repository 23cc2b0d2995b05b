package apierr

import (
	"errors"
	"fmt"
	"testing"
)

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"dec_1", true}, {"", false}, {"a/b", false}, {"a b", false}, {"a\\b", false}, {"é", false},
		{string(make([]byte, 129)), false},
	} {
		if got := ValidID("id", tc.id) == nil; got != tc.want {
			t.Errorf("ValidID(%q) ok=%v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestPrefixAndAs(t *testing.T) {
	e := Prefix(New(InvalidField, "source", "source is set by the Hall"), "decisions[2]")
	if e.Field != "decisions[2].source" || e.Message != "decisions[2]: source is set by the Hall" {
		t.Fatalf("prefixed: %+v", e)
	}
	var got *Error
	if !errors.As(fmt.Errorf("wrapped: %w", e), &got) || got.Code != InvalidField {
		t.Fatalf("errors.As lost the code: %v", got)
	}
	if q := Quote("a\nb"); q != "'a?b'" {
		t.Fatalf("Quote: %s", q)
	}
}
