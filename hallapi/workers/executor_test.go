package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallmonitor/hallapi/store"
)

// allowedDecision records an allowed decision that selected species.
func allowedDecision(t *testing.T, st *store.Store, id, species string) {
	t.Helper()
	_, err := st.RecordDecisions(context.Background(), []store.DecisionWrite{{
		Summary: store.DecisionSummary{DecisionID: id, Outcome: store.OutcomeAllowed, CapabilityID: "cap.test.echo",
			TenantID: "t1", SelectedWorkerSpeciesID: species, Source: store.SourceRoute},
		Decision: json.RawMessage(`{}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func startExecutor(t *testing.T, script string, opts ExecOptions) (*store.Store, *Executor, string) {
	t.Helper()
	st := openStore(t)
	dir := filepath.Join(t.TempDir(), "pkg")
	pub := writePackage(t, dir, "x.test.echo", "wrk.test.echo", script)
	enroll(t, st, dir, "x.test.echo", "wrk.test.echo", pub)
	svc := NewService(st, Options{})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return st, NewExecutor(st, svc, opts), dir
}

func TestDispatchRunsWorker(t *testing.T) {
	t.Setenv("HALLMONITOR_SECRET_FOR_TEST", "must-not-leak")
	script := "#!/bin/sh\nset -eu\ninput=$(cat)\nprintf '{\"echo\":%s,\"env\":\"%s\",\"pwd\":\"%s\"}' \"$input\" \"$(env | sort | tr '\\n' ' ')\" \"$(pwd)\"\n"
	st, x, dir := startExecutor(t, script, ExecOptions{})
	allowedDecision(t, st, "dec-1", "wrk.test.echo")
	sub := st.Bus().Subscribe(16)
	defer sub.Close()
	run, err := x.Dispatch(context.Background(), Job{DecisionID: "dec-1", CorrelationID: "corr-1", Request: map[string]any{"text": "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Dispatch.Outcome != store.DispatchSucceeded || run.Dispatch.DurationMS == nil || run.Dispatch.WorkerID != "x.test.echo" {
		t.Fatalf("dispatch: %+v", run.Dispatch)
	}
	var out struct {
		Echo WorkerInput `json:"echo"`
		Env  string      `json:"env"`
		Pwd  string      `json:"pwd"`
	}
	if err := json.Unmarshal(run.Output, &out); err != nil {
		t.Fatalf("output %s: %v", run.Output, err)
	}
	if out.Echo.Request["text"] != "hi" || out.Echo.DecisionID != "dec-1" || out.Echo.CorrelationID != "corr-1" || out.Echo.DispatchID != run.Dispatch.DispatchID {
		t.Fatalf("worker input: %+v", out.Echo)
	}
	if strings.Contains(out.Env, "must-not-leak") || !strings.Contains(out.Env, "WCP_DECISION_ID=dec-1") {
		t.Fatalf("environment not scrubbed: %s", out.Env)
	}
	if resolved, _ := filepath.EvalSymlinks(dir); out.Pwd != dir && out.Pwd != resolved {
		t.Fatalf("working dir %s, want %s", out.Pwd, dir)
	}
	if run.PackageHash == "" || run.Dispatch.ResultHash == "" {
		t.Fatalf("hashes missing: %+v", run)
	}
	// dispatch.started then dispatch.finished on the bus; nothing stays active.
	waitEvent(t, sub, "dispatch.started", time.Second)
	waitEvent(t, sub, "dispatch.finished", time.Second)
	if act, _ := st.ActiveDispatches(context.Background()); len(act) != 0 {
		t.Fatalf("still active: %+v", act)
	}
}

func TestDispatchShowsActiveWhileRunning(t *testing.T) {
	st, x, _ := startExecutor(t, "#!/bin/sh\nsleep 0.5\necho '{}'\n", ExecOptions{})
	allowedDecision(t, st, "dec-1", "wrk.test.echo")
	done := make(chan Run)
	go func() {
		run, _ := x.Dispatch(context.Background(), Job{DecisionID: "dec-1"})
		done <- run
	}()
	deadline := time.Now().Add(2 * time.Second)
	for {
		act, _ := st.ActiveDispatches(context.Background())
		if len(act) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("dispatch never showed as active")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if run := <-done; run.Dispatch.Outcome != store.DispatchSucceeded || *run.Dispatch.DurationMS < 400 {
		t.Fatalf("%+v", run.Dispatch)
	}
}

func TestDispatchFailures(t *testing.T) {
	cases := []struct {
		name, script string
		opts         ExecOptions
		outcome      string
		errPart      string
	}{
		{"timeout kills the group", "#!/bin/sh\nsleep 30 &\nsleep 30\n", ExecOptions{Timeout: 300 * time.Millisecond}, store.DispatchTimedOut, "within"},
		{"output cap", "#!/bin/sh\nhead -c 100000 /dev/zero\n", ExecOptions{MaxOutput: 1000}, store.DispatchFailed, "output cap"},
		{"exit status", "#!/bin/sh\necho boom >&2\nexit 3\n", ExecOptions{}, store.DispatchFailed, "boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, x, _ := startExecutor(t, c.script, c.opts)
			allowedDecision(t, st, "dec-1", "wrk.test.echo")
			start := time.Now()
			run, err := x.Dispatch(context.Background(), Job{DecisionID: "dec-1"})
			if err != nil {
				t.Fatal(err)
			}
			if run.Dispatch.Outcome != c.outcome || !strings.Contains(run.Dispatch.Error, c.errPart) {
				t.Fatalf("got %s %q, want %s containing %q", run.Dispatch.Outcome, run.Dispatch.Error, c.outcome, c.errPart)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("took %s", time.Since(start))
			}
		})
	}
}

func TestDispatchRefusesTamperedPackageBeforeWatcherNotices(t *testing.T) {
	st, x, dir := startExecutor(t, echoScript, ExecOptions{})
	allowedDecision(t, st, "dec-1", "wrk.test.echo")
	if err := os.WriteFile(filepath.Join(dir, "code", "run"), []byte("#!/bin/sh\necho pwned\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	run, err := x.Dispatch(context.Background(), Job{DecisionID: "dec-1"})
	if err != nil {
		t.Fatal(err)
	}
	if run.Dispatch.Outcome != store.DispatchFailed || !strings.Contains(run.Dispatch.Error, "DENY_WORKER_TAMPERED") || run.OutputText != "" {
		t.Fatalf("tampered package ran: %+v", run)
	}
}

func TestDispatchRefusesDeniedDecision(t *testing.T) {
	st, x, _ := startExecutor(t, echoScript, ExecOptions{})
	_, err := st.RecordDecisions(context.Background(), []store.DecisionWrite{{
		Summary:  store.DecisionSummary{DecisionID: "dec-d", Outcome: store.OutcomeDenied, DenyCode: "DENY_NO_MATCHING_RULE", Source: store.SourceRoute},
		Decision: json.RawMessage(`{}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Dispatch(context.Background(), Job{DecisionID: "dec-d"}); err == nil {
		t.Fatal("a denied decision must not be dispatched")
	}
}

// A dispatch whose Hall process died mid-run is finished as cancelled when a
// Hall starts again; runs of live processes and of agents are left alone.
func TestRecoverDispatchesOfDeadRunners(t *testing.T) {
	st, _, _ := startExecutor(t, echoScript, ExecOptions{})
	ctx := context.Background()
	dead := exec.Command("/bin/sh", "-c", "exit 0")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"dec-dead", "dec-live", "dec-agent"} {
		allowedDecision(t, st, id, "wrk.test.echo")
	}
	gone, err := st.StartDispatchBy(ctx, "dec-dead", fmt.Sprintf("pid %d boot_gone", dead.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartDispatchBy(ctx, "dec-live", Runner); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartDispatch(ctx, "dec-agent"); err != nil {
		t.Fatal(err)
	}
	n, err := RecoverDispatches(ctx, st)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d (%v), want 1", n, err)
	}
	act, _ := st.ActiveDispatches(ctx)
	if len(act) != 2 {
		t.Fatalf("active after recovery: %+v", act)
	}
	det, err := st.GetDecision(ctx, "dec-dead")
	if err != nil || det.Dispatch == nil || det.Dispatch.DispatchID != gone.DispatchID || det.Dispatch.Outcome != store.DispatchCancelled ||
		!strings.Contains(det.Dispatch.Error, "ended before it finished") {
		t.Fatalf("dead runner's dispatch: %+v %v", det.Dispatch, err)
	}
}
