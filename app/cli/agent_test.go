package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"hallmonitor/hallapi/agents"
	"hallmonitor/hallapi/store"
)

// TestAgentCommand: the person's CLI creates, lists, rotates and revokes
// agent tokens in the Hall's database, and each change is what a running
// Hall (another process: here another store handle) authenticates.
func TestAgentCommand(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("HALLMONITOR_CONFIG_DIR", filepath.Join(tmp, "config"))
	t.Setenv("HALLMONITOR_DATA_DIR", filepath.Join(tmp, "data"))
	code, out, errs := run(t, runAgent, "add", "ci-bot", "--json")
	var added struct {
		Agent store.AgentAccount `json:"agent"`
		Token string             `json:"token"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &added) != nil || !strings.HasPrefix(added.Token, agents.TokenPrefix) || added.Agent.CreatedBy == "" {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	st, err := store.Open(filepath.Join(tmp, "data", "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hall := agents.New(st, nil)
	if p, ok := hall.Authenticate(context.Background(), added.Token); !ok || p.Name != "ci-bot" || p.IsPerson() {
		t.Fatalf("the new token does not authenticate as ci-bot: %+v %v", p, ok)
	}
	if code, _, errs := run(t, runAgent, "add", "ci-bot"); code != 1 || !strings.Contains(errs, "already named") {
		t.Fatalf("duplicate name: %d %s", code, errs)
	}
	if code, _, errs := run(t, runAgent, "add", "bad name!"); code != 1 || !strings.Contains(errs, "name") {
		t.Fatalf("bad name: %d %s", code, errs)
	}
	if code, _, errs := run(t, runAgent, "add"); code != 2 || !strings.Contains(errs, "name the agent") {
		t.Fatalf("no name: %d %s", code, errs)
	}
	code, out, _ = run(t, runAgent, "rotate", "ci-bot")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	fresh := lines[len(lines)-1]
	if code != 0 || fresh == added.Token || !strings.HasPrefix(fresh, agents.TokenPrefix) {
		t.Fatalf("rotate: %d %s", code, out)
	}
	fresher := agents.New(st, nil) // no cache: a process that starts now
	if _, ok := fresher.Authenticate(context.Background(), added.Token); ok {
		t.Fatal("the rotated-away token still authenticates")
	}
	if _, ok := fresher.Authenticate(context.Background(), fresh); !ok {
		t.Fatal("the rotated token does not authenticate")
	}
	if code, out, errs := run(t, runAgent, "revoke", "ci-bot"); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s %s", code, out, errs)
	}
	if _, ok := agents.New(st, nil).Authenticate(context.Background(), fresh); ok {
		t.Fatal("a revoked token still authenticates")
	}
	if code, _, errs := run(t, runAgent, "revoke", "ci-bot"); code != 1 || !strings.Contains(errs, "no active agent") {
		t.Fatalf("revoke twice: %d %s", code, errs)
	}
	code, out, _ = run(t, runAgent, "list")
	if code != 0 || !strings.Contains(out, "ci-bot") || !strings.Contains(out, "revoked") || strings.Contains(out, fresh) {
		t.Fatalf("list: %d %s", code, out)
	}
}
