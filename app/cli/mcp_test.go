package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/hallapi/store"
)

// copyDir copies the example worker package.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, f func([]string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := f(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestWorkerLifecycleCommands drives attest keygen/build, verify, enroll,
// status, mcp --http and verify --receipts against one Hall directory.
func TestWorkerLifecycleCommands(t *testing.T) {
	tmp := t.TempDir()
	cfgDir, dataDir := filepath.Join(tmp, "config"), filepath.Join(tmp, "data")
	t.Setenv("HALLMONITOR_CONFIG_DIR", cfgDir)
	t.Setenv("HALLMONITOR_DATA_DIR", dataDir)
	t.Setenv("WCP_ATTEST_HMAC_KEY", "")
	pkg, keys := filepath.Join(tmp, "echo-worker"), filepath.Join(tmp, "keys")
	copyDir(t, filepath.Join("..", "..", "examples", "echo-worker"), pkg)

	code, out, errs := run(t, runAttest, "keygen", "--namespace", "x.example", "--out", keys, "--json")
	if code != 0 || !strings.Contains(out, "public_key") {
		t.Fatalf("keygen: %d %s %s", code, out, errs)
	}
	if st, _ := os.Stat(filepath.Join(keys, "x.example.key")); st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v", st.Mode().Perm())
	}
	if code, _, _ := run(t, runAttest, "keygen", "--namespace", "x.example", "--out", keys); code != 1 {
		t.Fatal("keygen must refuse to overwrite a key")
	}
	if code, _, _ := run(t, runAttest, "keygen", "--namespace", "wrk.example", "--out", keys); code != 2 {
		t.Fatal("keygen must refuse a namespace that is not x.* or org.*")
	}
	code, out, errs = run(t, runAttest, "build", "--package", pkg, "--worker-id", "x.example.echo", "--species", "wrk.example.echo",
		"--version", "1.0.0", "--key", filepath.Join(keys, "x.example.key"), "--json")
	if code != 0 {
		t.Fatalf("build: %s %s", out, errs)
	}
	var built struct {
		Manifest struct {
			PackageHash string `json:"package_hash"`
		} `json:"manifest"`
	}
	json.Unmarshal([]byte(out), &built)
	_, hashOut, _ := run(t, runAttest, "hash", "--package", pkg)
	if strings.TrimSpace(hashOut) != built.Manifest.PackageHash || len(built.Manifest.PackageHash) != 64 {
		t.Fatalf("attest hash %q vs manifest %q", hashOut, built.Manifest.PackageHash)
	}

	verifyArgs := []string{"--package", pkg, "--worker-id", "x.example.echo", "--species", "wrk.example.echo", "--public-key", filepath.Join(keys, "x.example.pub")}
	if code, out, errs := run(t, runVerify, verifyArgs...); code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("verify: %d %s %s", code, out, errs)
	}
	runPath := filepath.Join(pkg, "code", "run")
	orig, _ := os.ReadFile(runPath)
	os.WriteFile(runPath, append(orig, []byte("# changed\n")...), 0o755)
	if code, out, _ := run(t, runVerify, append(verifyArgs, "--json")...); code != 1 || !strings.Contains(out, "ATTEST_HASH_MISMATCH") {
		t.Fatalf("tampered verify: %d %s", code, out)
	}
	os.WriteFile(runPath, orig, 0o755)
	if code, out, _ := run(t, runVerify, "--package", pkg, "--worker-id", "x.example.echo", "--species", "wrk.example.echo"); code != 1 || !strings.Contains(out, "ATTEST_SIGNATURE_MISSING") {
		t.Fatalf("verify without key: %d %s", code, out)
	}

	code, out, errs = run(t, runEnroll, "--record", filepath.Join(pkg, "registry_record.json"), "--package", pkg,
		"--public-key", filepath.Join(keys, "x.example.pub"), "--json")
	if code != 0 || !strings.Contains(out, `"state": "verified"`) {
		t.Fatalf("enroll: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(t, runEnroll, "--record", filepath.Join(pkg, "config.schema.json")); code != 1 || !strings.Contains(errs, "refused: record.worker_species_id") {
		t.Fatalf("enroll of a non-record must name the field: %s", errs)
	}
	// A record edited after its artifact_hash was computed is refused.
	recBytes, _ := os.ReadFile(filepath.Join(pkg, "registry_record.json"))
	edited := filepath.Join(tmp, "edited.json")
	os.WriteFile(edited, bytes.Replace(recBytes, []byte(`"low"`), []byte(`"high"`), 1), 0o644)
	if code, _, errs := run(t, runEnroll, "--record", edited); code != 1 || !strings.Contains(errs, "artifact_hash") {
		t.Fatalf("edited record: %d %s", code, errs)
	}
	code, out, _ = run(t, runStatus, "--json")
	var status statusReport
	if err := json.Unmarshal([]byte(out), &status); code != 0 || err != nil || status.Counts.Workers != 1 || status.Workers[0].Attestation.State != "verified" {
		t.Fatalf("status: %d %s", code, out)
	}

	// mcp --http: a real streamable HTTP client lists and calls the tool.
	rules := `{"rules":[{"rule_id":"r_echo","match":{"capability_id":"cap.example.echo"},"decision":{"candidate_workers_ranked":[{"worker_species_id":"wrk.example.echo"}]}}]}`
	os.MkdirAll(cfgDir, 0o700)
	if err := os.WriteFile(filepath.Join(cfgDir, "rules.json"), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		var discard bytes.Buffer
		done <- runMCP([]string{"--http", "127.0.0.1:0"}, &discard, pw)
		pw.Close()
	}()
	urlRe := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/)`)
	sc := bufio.NewScanner(pr)
	var url string
	for url == "" && sc.Scan() {
		if m := urlRe.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		t.Fatal("mcp --http printed no URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := os.ReadFile(filepath.Join(cfgDir, "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	// Without the Hall's token the MCP endpoint refuses to talk.
	if _, err := mcp.NewClient(&mcp.Implementation{Name: "no-token", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil); err == nil {
		t.Fatal("mcp --http accepted a client without the API token")
	}
	authed := &http.Client{Transport: bearer{token: strings.TrimSpace(string(tok)), next: http.DefaultTransport}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "cli-test", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: authed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || !strings.Contains(toolNames(tools), "cap.example.echo") {
		t.Fatalf("tools: %v %v", err, toolNames(tools))
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "cap.example.echo", Arguments: map[string]any{"request": map[string]any{"text": "cli"}}})
	if err != nil || res.IsError {
		t.Fatalf("call: %v %+v", err, res)
	}
	cs.Close()
	syscall.Kill(os.Getpid(), syscall.SIGINT) // runMCP traps it and shuts down
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("mcp exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("mcp did not stop on SIGINT")
	}

	// The MCP decision is in the database with a verifiable receipt chain.
	code, out, errs = run(t, runVerify, "--receipts", "--json")
	if code != 0 || !strings.Contains(out, `"ok": true`) || !strings.Contains(out, `"length": 1`) {
		t.Fatalf("verify --receipts: %d %s %s", code, out, errs)
	}
	// The same chain as a JSONL export verifies; an edited receipt does not.
	st, err := store.Open(filepath.Join(dataDir, "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	chain, err := st.ReceiptChain(context.Background(), "mcp-client")
	st.Close()
	if err != nil || len(chain) != 1 {
		t.Fatalf("chain: %v %d", err, len(chain))
	}
	export := filepath.Join(tmp, "receipts.jsonl")
	os.WriteFile(export, append([]byte(`{"receipt":`+string(chain[0])+"}\n"), '\n'), 0o600)
	if code, out, errs := run(t, runVerify, "--receipts", "--jsonl", export); code != 0 || !strings.Contains(out, "ok ") {
		t.Fatalf("verify --jsonl: %d %s %s", code, out, errs)
	}
	os.WriteFile(export, bytes.Replace(chain[0], []byte(`"capability_id":"cap.example.echo"`), []byte(`"capability_id":"cap.example.other"`), 1), 0o600)
	if code, out, _ := run(t, runVerify, "--receipts", "--jsonl", export); code != 1 || !strings.Contains(out, "BROKEN") {
		t.Fatalf("edited receipt: %d %s", code, out)
	}
}

func toolNames(r *mcp.ListToolsResult) string {
	if r == nil {
		return ""
	}
	var n []string
	for _, t := range r.Tools {
		n = append(n, t.Name)
	}
	return strings.Join(n, ",")
}

// TestMCPStdio runs `hallmonitor mcp` on stdio with the go-sdk client on the
// other end of the pipes: stdout carries only the protocol.
func TestMCPStdio(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("HALLMONITOR_CONFIG_DIR", filepath.Join(tmp, "config"))
	t.Setenv("HALLMONITOR_DATA_DIR", filepath.Join(tmp, "data"))
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- serveMCP(nil, inR, outW, &stderr)
		outW.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil).Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatalf("connect: %v (stderr: %s)", err, stderr.String())
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || !strings.Contains(toolNames(tools), "wcp_route") {
		t.Fatalf("tools: %v %s", err, toolNames(tools))
	}
	// No rules file: fail closed.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "wcp_route", Arguments: map[string]any{"capability_id": "cap.any"}})
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "DENY_NO_MATCHING_RULE") {
		t.Fatalf("route: %v %+v", err, res)
	}
	cs.Close() // closes stdin: the server ends
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("mcp did not end when stdin closed")
	}
}

// bearer adds the Hall's API token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
