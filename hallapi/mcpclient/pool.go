package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/hallapi/store"
)

// Pool keeps one MCP session per connected server and reuses it for every
// tool call: one HTTP transport (kept-alive connections) per http server,
// one running process per stdio server (in its own process group, as Ping's).
// A session whose connection ended (the process exited, the server closed
// the stream) is replaced by a new one at the next call: a stdio server is
// restarted. A call is never re-sent on its own (a tool may not be
// idempotent). Sessions are closed by Retain (servers removed), Remove and
// Close (shutdown). Safe for concurrent use; concurrent calls share the
// session (JSON-RPC requests are multiplexed).
type Pool struct {
	version string

	mu       sync.Mutex
	sessions map[string]*pooled // by server id
	closed   bool
}

// pooled is one server's session; mu serialises connecting it.
type pooled struct {
	key  string // the server's connection settings when it was opened
	mu   sync.Mutex
	c    *conn
	sess *mcp.ClientSession
	dead chan struct{} // closed when the session's connection ended
}

// NewPool returns an empty pool; version is the client version sent to
// servers.
func NewPool(version string) *Pool {
	return &Pool{version: version, sessions: map[string]*pooled{}}
}

// ErrPoolClosed is returned by a call on a closed pool.
var ErrPoolClosed = errors.New("mcpclient: the pool is closed (the Hall is shutting down)")

func settingsKey(s store.MCPServer) string {
	return s.Transport + "\x00" + s.URL + "\x00" + strings.Join(s.Argv, "\x00")
}

// entry returns the server's pooled session slot, replacing one opened with
// other settings.
func (p *Pool) entry(s store.MCPServer) (*pooled, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPoolClosed
	}
	key := settingsKey(s)
	e := p.sessions[s.ID]
	if e != nil && e.key != key {
		go e.close()
		e = nil
	}
	if e == nil {
		e = &pooled{key: key}
		p.sessions[s.ID] = e
	}
	return e, nil
}

// session returns a live session of e, connecting (or reconnecting) first.
func (e *pooled) session(ctx context.Context, s store.MCPServer, version string) (*mcp.ClientSession, *conn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sess != nil {
		select {
		case <-e.dead:
			e.closeLocked() // ended: connect again (a stdio server restarts)
		default:
			return e.sess, e.c, nil
		}
	}
	c, err := newConn(s)
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	sess, err := client(version).Connect(cctx, c.transport, nil)
	if err != nil {
		c.release()
		return nil, nil, fmt.Errorf("connect to MCP server %s: %s", s.Name, c.describe(cctx, err))
	}
	dead := make(chan struct{})
	go func() { sess.Wait(); close(dead) }()
	e.c, e.sess, e.dead = c, sess, dead
	return sess, c, nil
}

func (e *pooled) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closeLocked()
}

func (e *pooled) closeLocked() {
	if e.sess == nil {
		return
	}
	e.sess.Close()
	<-e.dead
	e.c.release()
	e.sess, e.c, e.dead = nil, nil, nil
}

// Call calls one tool of the server on its pooled session. timeout bounds
// the call (and a connect it needs first).
func (p *Pool) Call(ctx context.Context, s store.MCPServer, tool string, args json.RawMessage, timeout time.Duration) (*mcp.CallToolResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	e, err := p.entry(s)
	if err != nil {
		return nil, err
	}
	sess, c, err := e.session(ctx, s, p.version)
	if err != nil {
		return nil, err
	}
	var a any = map[string]any{}
	if len(args) > 0 && string(args) != "null" {
		a = args
	}
	res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: a})
	if err != nil {
		var rpcErr *jsonrpc.Error
		if !errors.As(err, &rpcErr) && ctx.Err() == nil {
			// Not an answer of the server: the connection is suspect.
			// Drop the session; the next call opens a new one.
			p.drop(s.ID, e)
		}
		return nil, fmt.Errorf("tools/call %s on %s: %s", tool, s.Name, c.describe(ctx, err))
	}
	return res, nil
}

// drop closes e if it is still the server's session.
func (p *Pool) drop(id string, e *pooled) {
	p.mu.Lock()
	if p.sessions[id] == e {
		delete(p.sessions, id)
	}
	p.mu.Unlock()
	e.close()
}

// Remove closes the session of a server (removed from the Hall).
func (p *Pool) Remove(id string) {
	p.mu.Lock()
	e := p.sessions[id]
	delete(p.sessions, id)
	p.mu.Unlock()
	if e != nil {
		e.close()
	}
}

// Retain closes the sessions of every server whose id is not in ids (the
// servers still connected).
func (p *Pool) Retain(ids []string) {
	keep := map[string]bool{}
	for _, id := range ids {
		keep[id] = true
	}
	p.mu.Lock()
	var gone []*pooled
	for id, e := range p.sessions {
		if !keep[id] {
			gone = append(gone, e)
			delete(p.sessions, id)
		}
	}
	p.mu.Unlock()
	for _, e := range gone {
		e.close()
	}
}

// Open is how many sessions the pool holds.
func (p *Pool) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions)
}

// Close closes every session (stdio servers are stopped) and refuses
// further calls.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	all := p.sessions
	p.sessions = map[string]*pooled{}
	p.mu.Unlock()
	for _, e := range all {
		e.close()
	}
}
