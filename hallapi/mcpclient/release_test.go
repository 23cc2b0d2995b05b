//go:build unix

package mcpclient

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hallmonitor/hallapi/store"
)

// A stdio server that starts a child of its own (as sh, npx or uvx
// wrappers do) leaves nothing running once its session is over.
func TestStdioServerChildrenDoNotOutliveThePing(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	s := store.MCPServer{Name: "wrapper", Transport: store.MCPTransportStdio,
		Argv: []string{"sh", "-c", "sleep 300 & echo $! > " + pidFile + "; exec cat >/dev/null"}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if p := Ping(ctx, s, "test"); p.Status == store.MCPOnline {
		t.Fatalf("cat answered as an MCP server: %+v", p)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the server never started its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the server's child %d still runs after the ping", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
