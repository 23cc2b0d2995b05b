// Package mcptest is a small real MCP server (official go-sdk) for tests:
// tools "echo" (returns its text argument) and "add" (sums a and b), served
// over streamable HTTP on a loopback port or over stdio (a test binary
// re-executed with StdioArg). It counts the tool calls it answered, so a test
// can prove that a refused call never reached it.
package mcptest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// StdioArg is the argument that makes a test binary serve MCP on stdio (see
// ServeStdioIfAsked).
const StdioArg = "mcptest-serve-stdio"

// Tools are the names of the tools the server offers.
var Tools = []string{"add", "echo"}

type echoArgs struct {
	Text string `json:"text" jsonschema:"the text to echo"`
}

type addArgs struct {
	A float64 `json:"a" jsonschema:"first number"`
	B float64 `json:"b" jsonschema:"second number"`
}

// NewServer builds the MCP server; calls counts answered tool calls.
func NewServer(calls *atomic.Int64) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mcptest", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo the text back."},
		func(_ context.Context, _ *mcp.CallToolRequest, a echoArgs) (*mcp.CallToolResult, any, error) {
			calls.Add(1)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + a.Text}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Add two numbers."},
		func(_ context.Context, _ *mcp.CallToolRequest, a addArgs) (*mcp.CallToolResult, any, error) {
			calls.Add(1)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprint(a.A + a.B)}}}, nil, nil
		})
	return s
}

// HTTP is the server listening on a loopback port.
type HTTP struct {
	URL   string // the streamable HTTP endpoint, http://127.0.0.1:PORT/mcp
	calls atomic.Int64
	srv   *http.Server
	ln    net.Listener
}

// Calls is the number of tool calls answered.
func (h *HTTP) Calls() int64 { return h.calls.Load() }

// Close stops the server (a later ping finds nothing listening).
func (h *HTTP) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		// a client's request still open after 2 s: stop anyway
		return h.srv.Close()
	}
	return nil
}

// ListenHTTP serves streamable HTTP at /mcp on addr (e.g. 127.0.0.1:0).
func ListenHTTP(addr string) (*HTTP, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	h := &HTTP{ln: ln, URL: "http://" + ln.Addr().String() + "/mcp"}
	s := NewServer(&h.calls)
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	h.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go h.srv.Serve(ln)
	return h, nil
}

// ServeStdioIfAsked serves MCP on stdin/stdout and exits when the process
// was started with StdioArg (call it first in TestMain); otherwise it
// returns at once.
func ServeStdioIfAsked() {
	if !slices.Contains(os.Args, StdioArg) {
		return
	}
	var calls atomic.Int64
	if err := NewServer(&calls).Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		fmt.Fprintln(os.Stderr, "mcptest:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// StdioArgv is the argv that re-executes the running test binary as a stdio
// MCP server.
func StdioArgv() []string { return []string{os.Args[0], "-test.run=^$", StdioArg} }
