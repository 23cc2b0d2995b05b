package otelexport

import (
	"errors"
	"path/filepath"
	"testing"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/store"
)

func TestApplyValidatesAndSwitches(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := New(Options{Store: st}); err == nil {
		t.Fatal("New without a bus")
	}
	e, err := New(Options{Bus: st.Bus(), Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if s := e.Status(); s.Enabled || s.QueueCapacity != 2048 {
		t.Fatalf("a new exporter is off: %+v", s)
	}
	var fe *config.FieldError
	for _, tc := range []struct {
		s     Settings
		field string
	}{
		{Settings{Endpoint: "collector:4318"}, "otlp_endpoint"},
		{Settings{Endpoint: "http://127.0.0.1:4318", Protocol: "thrift"}, "otlp_protocol"},
	} {
		if err := e.Apply(tc.s); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: %v, want a %s error", tc.s, err, tc.field)
		}
	}
	subs := st.Bus().Subscribers()
	if err := e.Apply(Settings{Endpoint: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if s := e.Status(); !s.Enabled || s.Protocol != "http" || st.Bus().Subscribers() != subs+1 {
		t.Fatalf("on: %+v, %d subscribers", s, st.Bus().Subscribers())
	}
	if err := e.Apply(Settings{Endpoint: "http://127.0.0.1:1", Protocol: "grpc"}); err != nil {
		t.Fatal(err)
	}
	if s := e.Status(); s.Protocol != "grpc" || st.Bus().Subscribers() != subs+1 {
		t.Fatalf("switched: %+v, %d subscribers (the old pipeline must be gone)", s, st.Bus().Subscribers())
	}
	if err := e.Apply(Settings{}); err != nil {
		t.Fatal(err)
	}
	if s := e.Status(); s.Enabled || st.Bus().Subscribers() != subs {
		t.Fatalf("off: %+v, %d subscribers", s, st.Bus().Subscribers())
	}
}

func TestIDsFollowTheDecision(t *testing.T) {
	a, b := TraceID("d1"), TraceID("d1")
	if a != b || a == TraceID("d2") || !a.IsValid() {
		t.Fatal("a decision's trace id must be stable, distinct and valid")
	}
	if SpanID("route", "d1") == SpanID("approval", "d1") || !SpanID("dispatch", "x").IsValid() {
		t.Fatal("span ids must differ by kind and be valid")
	}
}
