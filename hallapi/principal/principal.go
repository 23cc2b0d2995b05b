// Package principal names who is asking the Hall: an agent (an AI agent,
// an SDK, an MCP client) holding its own named token, who is governed, or
// the person at the machine (the desktop window, a browser session they
// opened, or their CLI with the 0600 admin credential), who governs. Every
// record the Hall keeps names its principal, and every route says which
// kind may call it (docs/api.md "Who may call what").
package principal

import (
	"context"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Kind is the kind of principal.
type Kind string

// The two kinds of principal.
const (
	Agent  Kind = "agent"
	Person Kind = "person"
)

// How the person reached the Hall.
const (
	ViaDesktop = "desktop" // the window's in-process session
	ViaBrowser = "browser" // a browser session opened with the admin credential
	ViaCLI     = "cli"     // the admin credential itself (the same OS user's CLI)
	ViaAgent   = "agent"   // an agent token
	ViaMCP     = "mcp"     // `hallmonitor mcp` over stdio, started by an agent host
)

// Principal is who made a request.
type Principal struct {
	Kind    Kind   `json:"principal"`
	Name    string `json:"name"`               // agent name, or the person's GitHub login / OS user
	AgentID string `json:"agent_id,omitempty"` // for agents
	Via     string `json:"via"`
}

// IsPerson reports whether p governs.
func (p Principal) IsPerson() bool { return p.Kind == Person }

// Label is how records name p: the agent's name, or "person:<name>".
func (p Principal) Label() string {
	if p.Kind == Person {
		return "person:" + p.Name
	}
	return p.Name
}

// Owns says whether the principal in ctx may act on a record made by label
// (a Label): the person on any, an agent on its own only. In-process work
// without a principal is the Hall's own.
func Owns(ctx context.Context, label string) bool {
	p, ok := From(ctx)
	return !ok || p.IsPerson() || p.Label() == label
}

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal ctx carries; ok is false for in-process work
// of the Hall itself (maintenance, tests), which no request started.
func From(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Label is the label of ctx's principal ("" when there is none).
func Label(ctx context.Context) string {
	if p, ok := From(ctx); ok {
		return p.Label()
	}
	return ""
}

var notNameChar = regexp.MustCompile(`[^A-Za-z0-9._@+-]+`)

// OSUser is the name of the OS user running the Hall: the person's name
// when they are not signed in to the registry (approvals, the board). It is
// reduced to the characters a board owner may have (a Windows DOMAIN\user
// keeps the user part).
var OSUser = sync.OnceValue(func() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = os.Getenv("USERNAME")
	}
	if i := strings.LastIndexAny(name, `\/`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Trim(notNameChar.ReplaceAllString(name, "-"), "-.")
	if name == "" {
		name = "uid-" + strconv.Itoa(os.Getuid())
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
})
