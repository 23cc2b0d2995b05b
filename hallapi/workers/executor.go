package workers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"hallmonitor/hallapi/store"
)

// DispatchStore records dispatch start and finish (*store.Store).
type DispatchStore interface {
	StartDispatchBy(ctx context.Context, decisionID, runner string) (store.Dispatch, error)
	FinishDispatch(ctx context.Context, dispatchID, outcome, errText, resultHash string) (store.Dispatch, error)
}

// ExecOptions tune an Executor. The zero value is the production setting.
type ExecOptions struct {
	Logger *slog.Logger
	// Timeout bounds one run (default 30 s).
	Timeout time.Duration
	// MaxOutput caps the worker's stdout (default 1 MiB); more is a failure.
	MaxOutput int
}

// Executor runs approved dispatches as subprocesses.
type Executor struct {
	st   DispatchStore
	svc  *Service
	opts ExecOptions
	log  *slog.Logger
}

// NewExecutor returns an Executor that records dispatches in st and finds
// packages (and their attestation) through svc.
func NewExecutor(st DispatchStore, svc *Service, opts ExecOptions) *Executor {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = 1 << 20
	}
	return &Executor{st: st, svc: svc, opts: opts, log: opts.Logger.With("component", "executor")}
}

// Job is one approved decision to execute.
type Job struct {
	DecisionID    string
	CorrelationID string
	// Request is the RouteInput.request object handed to the worker.
	Request map[string]any
	// PackageHash, when set, is the package hash the decision saw (its
	// receipt's package_hash): a package that changed since is not run.
	PackageHash string
}

// Run is the outcome of a dispatch.
type Run struct {
	Dispatch    store.Dispatch  `json:"dispatch"`
	Output      json.RawMessage `json:"output,omitempty"` // the worker's stdout when it is JSON
	OutputText  string          `json:"output_text,omitempty"`
	PackageHash string          `json:"package_hash"`
}

// WorkerInput is what a worker reads on stdin (one JSON object).
type WorkerInput struct {
	DispatchID    string         `json:"dispatch_id"`
	DecisionID    string         `json:"decision_id"`
	CorrelationID string         `json:"correlation_id"`
	CapabilityID  string         `json:"capability_id"`
	TenantID      string         `json:"tenant_id"`
	WorkerID      string         `json:"worker_id"`
	Request       map[string]any `json:"request"`
}

// Dispatch starts a dispatch for an allowed decision (the store refuses
// denied, dry-run or unapproved ones), re-verifies the selected worker's
// package, runs its entrypoint and records the finish. A worker failure is
// not an error: it is the dispatch's outcome. The error is non-nil only when
// the dispatch could not be recorded.
func (x *Executor) Dispatch(ctx context.Context, job Job) (Run, error) {
	d, err := x.st.StartDispatchBy(ctx, job.DecisionID, Runner)
	if err != nil {
		return Run{}, err
	}
	run, outcome, errText := x.execute(ctx, d, job)
	// The finish is recorded even when the caller gave up.
	fin, err := x.st.FinishDispatch(context.WithoutCancel(ctx), d.DispatchID, outcome, errText, resultHash(run))
	if err != nil {
		return run, fmt.Errorf("record finish of %s: %w", d.DispatchID, err)
	}
	run.Dispatch = fin
	var ms int64
	if fin.DurationMS != nil {
		ms = *fin.DurationMS
	}
	x.log.Info("dispatch finished", "dispatch_id", fin.DispatchID, "worker_id", fin.WorkerID, "outcome", outcome, "duration_ms", ms)
	return run, nil
}

func resultHash(r Run) string {
	if r.Output == nil && r.OutputText == "" {
		return ""
	}
	out := []byte(r.Output)
	if r.Output == nil {
		out = []byte(r.OutputText)
	}
	sum := sha256.Sum256(out)
	return hex.EncodeToString(sum[:])
}

func (x *Executor) execute(ctx context.Context, d store.Dispatch, job Job) (Run, string, string) {
	run := Run{Dispatch: d}
	if x.svc == nil {
		return run, store.DispatchFailed, "no worker service is configured"
	}
	e, ok := x.svc.Enrollment(d.WorkerID)
	if !ok || e.PackagePath == "" {
		return run, store.DispatchFailed, fmt.Sprintf("worker %q (species %s) has no enrolled package to run: enroll it with a package directory", d.WorkerID, d.WorkerSpeciesID)
	}
	// Re-verify right before running: the watcher's last answer may be up
	// to a debounce old.
	a, err := x.svc.Verify(ctx, d.WorkerID)
	if err != nil {
		return run, store.DispatchFailed, err.Error()
	}
	run.PackageHash = a.PackageHash
	if a.State != StateVerified {
		return run, store.DispatchFailed, fmt.Sprintf("DENY_WORKER_TAMPERED: package is %s (%s): %s", a.State, a.DenyCode, a.Reason)
	}
	if job.PackageHash != "" && a.PackageHash != job.PackageHash {
		return run, store.DispatchFailed, fmt.Sprintf("the package of %s changed since the decision (decided on %s, now %s): route the request again",
			d.WorkerID, job.PackageHash, a.PackageHash)
	}
	argv, err := Entrypoint(e.PackagePath)
	if err != nil {
		return run, store.DispatchFailed, err.Error()
	}
	in, err := json.Marshal(WorkerInput{DispatchID: d.DispatchID, DecisionID: d.DecisionID, CorrelationID: job.CorrelationID,
		CapabilityID: d.CapabilityID, TenantID: d.TenantID, WorkerID: d.WorkerID, Request: job.Request})
	if err != nil {
		return run, store.DispatchFailed, "encode worker input: " + err.Error()
	}
	tmp, err := os.MkdirTemp("", "hallmonitor-dispatch-")
	if err != nil {
		return run, store.DispatchFailed, "create dispatch temp dir: " + err.Error()
	}
	defer os.RemoveAll(tmp)

	rctx, cancel := context.WithTimeout(ctx, x.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, argv[0], argv[1:]...)
	cmd.Dir = e.PackagePath
	cmd.Env = scrubbedEnv(tmp, d, e.PackagePath)
	cmd.Stdin = bytes.NewReader(in)
	stdout := &capWriter{max: x.opts.MaxOutput, onOverflow: cancel}
	stderr := &capWriter{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	configureProcess(cmd)
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	switch {
	case stdout.overflow:
		return run, store.DispatchFailed, fmt.Sprintf("worker wrote more than %d bytes to stdout (the output cap)", x.opts.MaxOutput)
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		return run, store.DispatchTimedOut, fmt.Sprintf("worker did not finish within %s", x.opts.Timeout)
	case ctx.Err() != nil:
		return run, store.DispatchCancelled, "dispatch cancelled: " + ctx.Err().Error()
	case err != nil:
		return run, store.DispatchFailed, fmt.Sprintf("worker %s: %s", err, tail(stderr.buf.String(), 500))
	}
	out := stdout.buf.Bytes()
	if json.Valid(out) {
		run.Output = json.RawMessage(bytes.TrimSpace(out))
	} else {
		run.OutputText = string(out)
	}
	return run, store.DispatchSucceeded, ""
}

// Entrypoint returns the command that runs a package: code/run (any
// executable, e.g. a #!/bin/sh script) or, for packages scaffolded by the
// reference, code/bootstrap.py run with python3.
func Entrypoint(dir string) ([]string, error) {
	run := filepath.Join(dir, "code", "run")
	if st, err := os.Stat(run); err == nil && !st.IsDir() {
		if st.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("entrypoint %s is not executable: chmod +x it and re-attest the package", run)
		}
		return []string{run}, nil
	}
	boot := filepath.Join(dir, "code", "bootstrap.py")
	if _, err := os.Stat(boot); err == nil {
		py, err := exec.LookPath("python3")
		if err != nil {
			return nil, fmt.Errorf("package %s needs python3 for code/bootstrap.py, and python3 is not on PATH", dir)
		}
		return []string{py, boot}, nil
	}
	return nil, fmt.Errorf("package %s has no entrypoint: add an executable code/run (or code/bootstrap.py)", dir)
}

// CheckLayout checks the worker package format: an entrypoint under code/
// (Entrypoint), a requirements.lock and a config.schema.json that is a JSON
// object (the reference's scaffold). The error names the missing part and
// the fix.
func CheckLayout(dir string) error {
	if _, err := Entrypoint(dir); err != nil {
		return err
	}
	if st, err := os.Stat(filepath.Join(dir, "requirements.lock")); err != nil || st.IsDir() {
		return fmt.Errorf("package %s has no requirements.lock: add the lock file of the worker's dependencies (empty when it has none)", dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.schema.json"))
	if err != nil {
		return fmt.Errorf("package %s has no config.schema.json: add the JSON Schema of the worker's request (e.g. {\"type\":\"object\"})", dir)
	}
	var schema map[string]any
	if json.Unmarshal(b, &schema) != nil || schema == nil {
		return fmt.Errorf("package %s: config.schema.json must be a JSON object (a JSON Schema)", dir)
	}
	return nil
}

// scrubbedEnv is the worker's whole environment: nothing of the Hall's own
// environment (tokens, keys) leaks into it.
func scrubbedEnv(tmp string, d store.Dispatch, pkg string) []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + tmp,
		"TMPDIR=" + tmp,
		"LANG=C.UTF-8",
		"WCP_DISPATCH_ID=" + d.DispatchID,
		"WCP_DECISION_ID=" + d.DecisionID,
		"WCP_CAPABILITY_ID=" + d.CapabilityID,
		"WCP_WORKER_ID=" + d.WorkerID,
		"WCP_PACKAGE_DIR=" + pkg,
	}
}

// capWriter keeps at most max bytes; more marks overflow and calls
// onOverflow (which stops the process).
type capWriter struct {
	buf        bytes.Buffer
	max        int
	overflow   bool
	onOverflow func()
}

func (w *capWriter) Write(p []byte) (int, error) {
	room := w.max - w.buf.Len()
	if len(p) > room {
		w.buf.Write(p[:max(room, 0)])
		if !w.overflow {
			w.overflow = true
			if w.onOverflow != nil {
				w.onOverflow()
			}
		}
		return len(p), nil
	}
	return w.buf.Write(p)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// Runner names this process as the runner of its executors' dispatches:
// its pid and a boot id (a reused pid is another runner).
var Runner = fmt.Sprintf("pid %d %s", os.Getpid(), store.NewID("boot"))

// RecoverDispatches finishes, as cancelled, the dispatches whose runner
// process is gone (killed mid-run); call it when a Hall starts. It returns
// how many it finished.
func RecoverDispatches(ctx context.Context, st *store.Store) (int, error) {
	ds, err := st.RecoverDispatches(ctx, func(runner string) bool {
		if runner == Runner {
			return true
		}
		var pid int
		var boot string
		if _, err := fmt.Sscanf(runner, "pid %d %s", &pid, &boot); err != nil || pid <= 0 {
			return true // not ours to judge
		}
		return processAlive(pid)
	})
	return len(ds), err
}
