// Package mcpclient connects the Hall to the MCP servers a person registered
// (Settings → Connected MCPs) with the official go-sdk client: streamable
// HTTP for an http server, a subprocess speaking MCP on stdin/stdout for a
// stdio server. The subprocess is started from an argv list without a shell
// (no shell metacharacter is interpreted) and gets only a few variables of
// the Hall's environment. Ping initializes a session, lists the tools and
// closes it, within a bounded time. Pool keeps one session per server for
// the tool calls the Hall proxies.
package mcpclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/hallapi/store"
)

// Timeout bounds one ping (connect, initialize, tools/list, close).
const Timeout = 10 * time.Second

// maxTools caps the tools kept of one server.
const maxTools = 500

// ValidateName checks a server's name, which names its capability
// (CapabilityID), its worker species (SpeciesID) and its proxied tools
// (<name>__<tool>): 1..32 lowercase letters, digits or hyphens, starting
// with a letter.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("name is required: a short name such as github-tools")
	}
	if len(name) > 32 {
		return errors.New("name must be at most 32 characters")
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '-')
		if !ok {
			return fmt.Errorf("name %q must be lowercase letters, digits and hyphens, starting with a letter (e.g. github-tools): it names the capability cap.mcp.<name> that rules allow", name)
		}
	}
	return nil
}

// CapabilityID is the WCP capability of every tool call to the server
// named name: cap.mcp.<name>. A routing rule for it lets the calls through.
func CapabilityID(name string) string { return "cap.mcp." + name }

// SpeciesID is the worker species the server counts as: wrk.mcp.<name>,
// the candidate a rule for CapabilityID lists.
func SpeciesID(name string) string { return "wrk.mcp." + name }

// ValidateURL checks the endpoint of an http server: an absolute http(s) URL
// with a host. The error says what to fix.
func ValidateURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("url is not a URL (%v): use e.g. http://localhost:3001/mcp", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("url must start with http:// or https://, e.g. http://localhost:3001/mcp")
	case u.Host == "":
		return errors.New("url has no host: use e.g. http://localhost:3001/mcp")
	case u.User != nil:
		return errors.New("url must not carry a user or password")
	}
	return nil
}

// shellOperators are tokens a shell would interpret; the Hall runs no shell,
// so a command containing one would not do what it says.
var shellOperators = []string{"|", "||", "&", "&&", ";", ">", ">>", "<", "<<", "2>", "2>&1", "&>"}

// SplitCommand splits a stdio server's command into argv without a shell:
// words are separated by spaces; single or double quotes keep spaces inside
// one word. Shell operators, $( ) and backquotes are refused, because
// nothing here would interpret them.
func SplitCommand(cmd string) ([]string, error) {
	var argv []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range cmd {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				argv = append(argv, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '\n' || r == '\r':
			return nil, errors.New("command must be one line")
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("command has an unclosed %c quote", quote)
	}
	if inWord {
		argv = append(argv, cur.String())
	}
	if len(argv) == 0 {
		return nil, errors.New("command is required for stdio transport: the program and its arguments, e.g. npx my-mcp-server")
	}
	for _, a := range argv {
		for _, op := range shellOperators {
			if a == op {
				return nil, fmt.Errorf("command is run without a shell, so %q would be passed as a plain argument: put pipes and redirections in a script and name the script", a)
			}
		}
		if strings.Contains(a, "$(") || strings.Contains(a, "`") {
			return nil, errors.New("command is run without a shell: $( ) and backquotes are not expanded; write the value itself")
		}
	}
	return argv, nil
}

// stdioEnv is the whole environment of a stdio server: nothing of the
// Hall's own (tokens, keys) but what a program needs to start.
func stdioEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "USER", "LANG", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// tailBuffer keeps the last max bytes written (a stdio server's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// conn is one connection attempt: the transport and what it observed.
type conn struct {
	transport mcp.Transport
	dialFail  atomic.Bool // http: no TCP connection could be made
	stderr    *tailBuffer // stdio: the server's stderr
	cmd       *exec.Cmd   // stdio: the server process
	http      *http.Transport
}

// release ends a stdio server's process group once its session is closed:
// a child the server started (and that keeps its stdout or stderr open)
// would otherwise outlive the session, with the goroutines waiting on it.
// An http server's kept-alive connections (and their reader goroutines)
// are closed.
func (c *conn) release() {
	if c.cmd != nil {
		killGroup(c.cmd)
	}
	if c.http != nil {
		c.http.CloseIdleConnections()
	}
}

func newConn(s store.MCPServer) (*conn, error) {
	c := &conn{}
	switch s.Transport {
	case store.MCPTransportHTTP:
		d := &net.Dialer{Timeout: Timeout}
		tr := &http.Transport{Proxy: nil, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				c.dialFail.Store(true)
			}
			return nc, err
		}}
		c.http = tr
		c.transport = &mcp.StreamableClientTransport{Endpoint: s.URL, HTTPClient: &http.Client{Transport: tr},
			MaxRetries: -1, DisableStandaloneSSE: true}
	case store.MCPTransportStdio:
		if len(s.Argv) == 0 {
			return nil, errors.New("the server has no command")
		}
		cmd := exec.Command(s.Argv[0], s.Argv[1:]...)
		cmd.Env = stdioEnv()
		c.stderr = &tailBuffer{max: 2048}
		cmd.Stderr = c.stderr
		cmd.WaitDelay = 2 * time.Second
		ownGroup(cmd)
		c.cmd = cmd
		c.transport = &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}
	default:
		return nil, fmt.Errorf("transport %q is not http or stdio", s.Transport)
	}
	return c, nil
}

// describe turns a failure into the error text kept with the server.
func (c *conn) describe(ctx context.Context, err error) string {
	msg := err.Error()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		msg = fmt.Sprintf("no answer within %s: %v", Timeout, err)
	}
	if c.stderr != nil {
		if tail := c.stderr.String(); tail != "" {
			msg += " (stderr: " + tail + ")"
		}
	}
	return msg
}

// status is offline when the server could not be reached at all (no TCP
// connection, or no answer in time), else error (it answered, but not as an
// MCP server, or its process failed).
func (c *conn) status(ctx context.Context) string {
	if c.dialFail.Load() || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return store.MCPOffline
	}
	return store.MCPError
}

func client(version string) *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: "hallmonitor", Title: "Hall Monitor", Version: version}, nil)
}

// Ping connects to the server, initializes, lists its tools and closes,
// within Timeout. The result is online with the tools, or offline/error
// with what went wrong.
func Ping(ctx context.Context, s store.MCPServer, version string) store.MCPPing {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	c, err := newConn(s)
	if err != nil {
		return store.MCPPing{Status: store.MCPError, Error: err.Error()}
	}
	defer c.release()
	sess, err := client(version).Connect(ctx, c.transport, nil)
	if err != nil {
		return store.MCPPing{Status: c.status(ctx), Error: c.describe(ctx, err)}
	}
	defer sess.Close()
	tools := []store.MCPTool{}
	for t, err := range sess.Tools(ctx, nil) {
		if err != nil {
			return store.MCPPing{Status: store.MCPError, Error: "tools/list: " + c.describe(ctx, err)}
		}
		if len(tools) == maxTools {
			break
		}
		var schema json.RawMessage
		if t.InputSchema != nil {
			if b, err := json.Marshal(t.InputSchema); err == nil {
				schema = b
			}
		}
		tools = append(tools, store.MCPTool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	return store.MCPPing{Status: store.MCPOnline, Tools: tools}
}
