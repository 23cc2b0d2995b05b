//go:build unix

package mcpclient

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/hallapi/store"
	"hallmonitor/internal/testservers/mcptest"
)

func TestMain(m *testing.M) {
	mcptest.ServeStdioIfAsked()
	os.Exit(m.Run())
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// settle lets goroutines that are ending finish before counting.
func goroutines() int {
	for range 50 {
		runtime.Gosched()
	}
	time.Sleep(50 * time.Millisecond)
	return runtime.NumGoroutine()
}

func echoText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if res == nil || len(res.Content) != 1 {
		t.Fatalf("result %+v", res)
	}
	return res.Content[0].(*mcp.TextContent).Text
}

// 10,000 tool calls through the pool to the real MCP test server share one
// session: no goroutine or file descriptor grows with the calls, and Close
// releases what the session held.
func TestPoolReusesOneSessionWithoutLeaks(t *testing.T) {
	srv, err := mcptest.ListenHTTP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := store.MCPServer{ID: "mcp_1", Name: "test", Transport: store.MCPTransportHTTP, URL: srv.URL}
	p := NewPool("test")
	ctx := context.Background()
	const agents = 8
	run := func(n int) {
		var wg sync.WaitGroup
		errs := make(chan error, agents)
		for a := range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := a; i < n; i += agents {
					res, err := p.Call(ctx, s, "echo", json.RawMessage(fmt.Sprintf(`{"text":"%d"}`, i)), Timeout)
					if err != nil {
						errs <- err
						return
					}
					if got := res.Content[0].(*mcp.TextContent).Text; got != fmt.Sprintf("echo: %d", i) {
						errs <- fmt.Errorf("call %d answered %q", i, got)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	before0, fds0 := goroutines(), openFDs(t)
	run(200) // warm: the session and its kept-alive connections
	g1, f1 := goroutines(), openFDs(t)
	run(10000)
	g2, f2 := goroutines(), openFDs(t)
	if srv.Calls() != 10200 || p.Open() != 1 {
		t.Fatalf("server answered %d calls, pool holds %d sessions", srv.Calls(), p.Open())
	}
	// A kept-alive connection per concurrent caller at most.
	if g2 > g1+2*agents || f2 > f1+agents {
		t.Fatalf("over 10,000 calls goroutines went %d -> %d and open fds %d -> %d", g1, g2, f1, f2)
	}
	p.Close()
	if g3, f3 := goroutines(), openFDs(t); g3 > before0+2 || f3 > fds0+1 {
		t.Fatalf("after Close: goroutines %d (before the pool %d), fds %d (before %d)", g3, before0, f3, fds0)
	}
	if _, err := p.Call(ctx, s, "echo", nil, Timeout); err != ErrPoolClosed {
		t.Fatalf("call on a closed pool: %v", err)
	}
}

// A stdio server keeps running between calls (one process), is restarted
// when it died, and is stopped when removed.
func TestPoolKeepsAndRestartsAStdioServer(t *testing.T) {
	s := store.MCPServer{ID: "mcp_2", Name: "stdio", Transport: store.MCPTransportStdio, Argv: mcptest.StdioArgv()}
	p := NewPool("test")
	defer p.Close()
	ctx := context.Background()
	pid := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		e := p.sessions[s.ID]
		if e == nil || e.c == nil {
			return 0
		}
		return e.c.cmd.Process.Pid
	}
	call := func(text string) {
		t.Helper()
		res, err := p.Call(ctx, s, "echo", json.RawMessage(`{"text":"`+text+`"}`), Timeout)
		if err != nil {
			t.Fatal(err)
		}
		if got := echoText(t, res); got != "echo: "+text {
			t.Fatalf("answered %q", got)
		}
	}
	call("a")
	first := pid()
	for i := range 50 {
		call(fmt.Sprint(i))
	}
	if pid() != first || first == 0 {
		t.Fatalf("stdio server process %d replaced by %d between calls", first, pid())
	}
	// The server dies: the next call starts a new one.
	p.mu.Lock()
	e := p.sessions[s.ID]
	p.mu.Unlock()
	e.c.cmd.Process.Kill()
	<-e.dead
	call("after restart")
	second := pid()
	if second == first || second == 0 {
		t.Fatalf("dead stdio server not restarted (pid %d, was %d)", second, first)
	}
	// Removed from the Hall: the session is closed and the process stopped.
	p.Retain(nil)
	if p.Open() != 0 {
		t.Fatal("a removed server's session is still open")
	}
	if err := syscall.Kill(second, 0); err == nil {
		t.Fatalf("the removed server's process %d still runs", second)
	}
}
