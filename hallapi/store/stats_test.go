package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestDecisionStatsCountsMinutesAndTopLists(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 30, 20, 0, time.UTC)
	s, err := Open(filepath.Join(t.TempDir(), "hall.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type d struct {
		ago     time.Duration
		outcome string
		code    string
		cap     string
	}
	in := []d{
		{0, OutcomeAllowed, "", "cap.a"},
		{10 * time.Second, OutcomeDenied, "DENY_NO_RULE", "cap.b"},                        // same minute (12:30)
		{30 * time.Second, OutcomeDenied, "DENY_NO_RULE", "cap.b"},                        // 12:29
		{31 * time.Second, OutcomePending, "", "cap.a"},                                   // 12:29
		{59*time.Minute + 20*time.Second, OutcomeAllowed, "", "cap.a"},                    // 11:31, the window's first minute
		{60*time.Minute + 30*time.Second, OutcomeDenied, "DENY_WORKER_TAMPERED", "cap.c"}, // 11:29: before the window, in the day
		{13 * time.Hour, OutcomeDenied, "DENY_OLD", "cap.old"},                            // yesterday
		{-2 * time.Minute, OutcomeAllowed, "", "cap.future"},                              // after now (clock moved back): counted in the day only
	}
	var ws []DecisionWrite
	for i, x := range in {
		ws = append(ws, DecisionWrite{Summary: DecisionSummary{DecisionID: fmt.Sprintf("d%d", i), Outcome: x.outcome, DenyCode: x.code,
			Denied: x.outcome == OutcomeDenied, CapabilityID: x.cap, Source: SourceIngest}, Time: now.Add(-x.ago), Decision: []byte(`{}`)})
	}
	if _, err := s.RecordDecisions(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st, err := s.DecisionStats(context.Background(), time.Hour, day)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.PerMinute) != 60 || st.PerMinute[0].Minute != time.Date(2026, 3, 1, 11, 31, 0, 0, time.UTC).Unix() ||
		st.PerMinute[59].Minute != time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC).Unix() {
		t.Fatalf("window: %d minutes from %d to %d", len(st.PerMinute), st.PerMinute[0].Minute, st.PerMinute[len(st.PerMinute)-1].Minute)
	}
	want := map[int]MinuteCounts{
		0:  {Minute: st.PerMinute[0].Minute, Allowed: 1},
		58: {Minute: st.PerMinute[58].Minute, Denied: 1, Pending: 1},
		59: {Minute: st.PerMinute[59].Minute, Allowed: 1, Denied: 1},
	}
	for i, m := range st.PerMinute {
		w, ok := want[i]
		if !ok {
			w = MinuteCounts{Minute: m.Minute}
		}
		if m != w {
			t.Errorf("minute %d: got %+v, want %+v", i, m, w)
		}
	}
	if wantDeny := []NameCount{{"DENY_NO_RULE", 2}, {"DENY_WORKER_TAMPERED", 1}}; !reflect.DeepEqual(st.TopDeny, wantDeny) {
		t.Errorf("top deny codes %v, want %v", st.TopDeny, wantDeny)
	}
	if wantCaps := []NameCount{{"cap.a", 3}, {"cap.b", 2}, {"cap.c", 1}, {"cap.future", 1}}; !reflect.DeepEqual(st.TopCaps, wantCaps) {
		t.Errorf("top capabilities %v, want %v", st.TopCaps, wantCaps)
	}
	if st.DayTotal != 7 {
		t.Errorf("day total %d, want 7", st.DayTotal)
	}
}

func TestApprovalRowsCarryTheirDecisionAndLastRun(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	blast := 42
	cases := []struct {
		id, agent, input, wantAgent, wantSummary string
	}{
		{"plain", "", `{"request": {"text": "\u003cb\u003ehi</b>"}}`, "", `{"text":"<b>hi</b>"}`},
		{"agent", "claude-laptop", `{"request": "a string"}`, "claude-laptop", `"a string"`},
		{"person", "person:octocat", `null`, "person:octocat", ""},
		{"long", "", fmt.Sprintf(`{"request": {"text": "%0300d"}}`, 7), "", fmt.Sprintf(`{"text":"%0*d`, RequestSummaryMax-10, 0) + "…"},
	}
	for _, c := range cases {
		_, err := s.RecordDecisions(ctx, []DecisionWrite{{Summary: DecisionSummary{DecisionID: "d-" + c.id, Outcome: OutcomePending,
			CapabilityID: "cap.a", TenantID: "t", SelectedWorkerSpeciesID: "wrk.a", BlastScore: &blast, Source: SourceRoute, Agent: c.agent},
			Decision: []byte(`{}`), Input: []byte(c.input), Approval: &Approval{ApprovalID: "apr-" + c.id, CapabilityID: "cap.a", TenantID: "t", Agent: c.agent}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.ListApprovals(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ApprovalRow{}
	for _, r := range rows {
		got[r.ApprovalID] = r
	}
	for _, c := range cases {
		r := got["apr-"+c.id]
		if r.Agent != c.wantAgent || r.RequestSummary != c.wantSummary || r.WorkerSpeciesID != "wrk.a" || r.BlastScore == nil || *r.BlastScore != 42 || r.LastDispatch != nil {
			t.Errorf("%s: agent %q summary %q worker %q blast %v run %v; want agent %q summary %q", c.id, r.Agent, r.RequestSummary,
				r.WorkerSpeciesID, r.BlastScore, r.LastDispatch, c.wantAgent, c.wantSummary)
		}
	}
	if _, err := s.Resolve(ctx, "apr-plain", Resolution{Action: ActionApprove, By: "me"}); err != nil {
		t.Fatal(err)
	}
	d, err := s.StartDispatch(ctx, "d-plain")
	if err != nil {
		t.Fatal(err)
	}
	rows, err = s.ListApprovals(ctx, ApprovalApproved)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].LastDispatch == nil || rows[0].LastDispatch.DispatchID != d.DispatchID || rows[0].LastDispatch.FinishedAt != "" || rows[0].UsedAt == "" {
		t.Fatalf("approved row's last run: %+v, want the running %s and the grant used", rows, d.DispatchID)
	}
	if _, err := s.FinishDispatch(ctx, d.DispatchID, DispatchFailed, "exit 1", ""); err != nil {
		t.Fatal(err)
	}
	// An approval grants one run: after a failed one, the request is routed again.
	var refused *DispatchRefusedError
	if _, err := s.StartDispatch(ctx, "d-plain"); !errors.As(err, &refused) {
		t.Fatalf("a second run of one approval: %v", err)
	}
	rows, _ = s.ListApprovals(ctx, ApprovalApproved)
	if r := rows[0].LastDispatch; r.Outcome != DispatchFailed || r.DurationMS == nil || r.FinishedAt == "" {
		t.Fatalf("after the run: %+v", r)
	}
}
