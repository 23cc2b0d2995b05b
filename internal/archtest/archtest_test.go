package archtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "hallmonitor"

// Which imports a rule looks at.
type scope int

const (
	allImports  scope = iota // production and _test files
	prodImports              // production files only (tests may import it)
)

// rule forbids packages matching from (but not exempt) to import packages
// matching to (but not except). A pattern is a package path relative to the
// module; "x/..." is x and everything under it, "..." the whole module.
type rule struct {
	from   []string
	exempt []string
	to     []string
	except []string
	scope  scope
	why    string
}

// domain are the hallapi services the HTTP layer, the window and MCP call.
var domain = []string{
	"hallapi/decide/...", "hallapi/workers/...", "hallapi/coord/...", "hallapi/account/...", "hallapi/store/...",
	"hallapi/events/...", "hallapi/config/...", "hallapi/registry/...", "hallapi/mcpclient/...", "hallapi/agents/...",
	"hallapi/principal/...", "hallapi/apierr/...", "hallapi/rulebook/...", "hallapi/nskeys/...",
}

// rules is who may import whom (docs/architecture.md shows the same table).
var rules = []rule{
	{from: []string{"core/..."}, to: []string{"..."}, except: []string{"core/..."}, scope: allImports,
		why: "core is the pure engine: it imports nothing of the module but core/..."},
	{from: []string{"hallapi/..."}, to: []string{"app/..."}, scope: allImports,
		why: "app/ wires hallapi/ into the window, the CLI and MCP: hallapi/ never imports app/"},
	{from: []string{"hallapi/..."}, to: []string{"main"}, scope: allImports,
		why: "nothing imports the main package"},
	{from: domain, to: []string{"hallapi/httpapi/..."}, scope: allImports,
		why: "domain services are called by the HTTP layer, never the other way round"},
	{from: []string{"..."}, exempt: []string{"internal/testservers/...", "internal/tools/..."},
		to: []string{"internal/testservers/...", "internal/tools/..."}, scope: prodImports,
		why: "test servers and load tools are for tests, e2e and benchmarks: production code never imports them"},
}

// pkg is what `go list -json` says of a package.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// match says whether the module package path p matches pattern pat.
func match(pat, p string) bool {
	rel, ok := strings.CutPrefix(p, module+"/")
	if p == module {
		rel, ok = "main", true
	}
	if !ok {
		return false // not the module's
	}
	if pat == "..." {
		return true
	}
	if base, tree := strings.CutSuffix(pat, "/..."); tree {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pat
}

func matchAny(pats []string, p string) bool {
	for _, pat := range pats {
		if match(pat, p) {
			return true
		}
	}
	return false
}

// violations lists every import of pkgs against rules, one line each.
func violations(pkgs []pkg, rules []rule) []string {
	var out []string
	for _, p := range pkgs {
		for _, r := range rules {
			if !matchAny(r.from, p.ImportPath) || matchAny(r.exempt, p.ImportPath) {
				continue
			}
			imports := p.Imports
			if r.scope == allImports {
				imports = append(append(append([]string(nil), p.Imports...), p.TestImports...), p.XTestImports...)
			}
			for _, imp := range imports {
				if imp == p.ImportPath || !matchAny(r.to, imp) || matchAny(r.except, imp) {
					continue
				}
				out = append(out, fmt.Sprintf("%s imports %s: %s", p.ImportPath, imp, r.why))
			}
		}
	}
	return out
}

// listModule runs `go list -json ./...` at the module root. Packages that do
// not exist (yet, or any more) are simply not listed.
func listModule(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json", "./...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if !anyPkg(pkgs, module+"/core") {
		t.Fatalf("go list found %d packages, not the module's tree", len(pkgs))
	}
	return pkgs
}

func anyPkg(pkgs []pkg, path string) bool {
	for _, p := range pkgs {
		if p.ImportPath == path {
			return true
		}
	}
	return false
}

// TestImportDirection checks the module's real import graph against rules.
func TestImportDirection(t *testing.T) {
	for _, v := range violations(listModule(t), rules) {
		t.Error(v)
	}
}

// TestRules shows each rule catching the import it forbids, and letting
// through what it allows, on a made-up graph.
func TestRules(t *testing.T) {
	m := func(s string) string { return module + "/" + s }
	cases := []struct {
		name  string
		pkg   pkg
		wants []string // the forbidden imports found, in order
	}{
		{"core imports only core", pkg{ImportPath: m("core"), Imports: []string{"fmt", m("core/canon"), m("hallapi/store")}}, []string{m("hallapi/store")}},
		{"core tests too", pkg{ImportPath: m("core/attest"), XTestImports: []string{m("app/cli")}}, []string{m("app/cli")}},
		{"hallapi never imports app", pkg{ImportPath: m("hallapi/account"), Imports: []string{m("app/login")}, TestImports: []string{m("app/hall")}}, []string{m("app/login"), m("app/hall")}},
		{"a domain package does not import httpapi", pkg{ImportPath: m("hallapi/coord"), Imports: []string{m("hallapi/httpapi")}}, []string{m("hallapi/httpapi")}},
		{"httpapi imports the domain", pkg{ImportPath: m("hallapi/httpapi"), Imports: []string{m("hallapi/coord"), m("hallapi/decide"), m("core")}}, nil},
		{"test servers only in tests", pkg{ImportPath: m("hallapi/registry"), Imports: []string{m("internal/testservers/registrytest")},
			XTestImports: []string{m("internal/testservers/registrytest")}}, []string{m("internal/testservers/registrytest")}},
		{"tools never in production", pkg{ImportPath: m("app/cli"), Imports: []string{m("internal/tools/hallload")}}, []string{m("internal/tools/hallload")}},
		{"a test server's own command", pkg{ImportPath: m("internal/testservers/mcptest/cmd/mcptestserver"), Imports: []string{m("internal/testservers/mcptest")}}, nil},
		{"app imports hallapi", pkg{ImportPath: m("app/mcpserver"), Imports: []string{m("hallapi/coord"), m("hallapi/store"), m("core")}}, nil},
	}
	for _, c := range cases {
		got := violations([]pkg{c.pkg}, rules)
		if len(got) != len(c.wants) {
			t.Errorf("%s: got %q, want %d violations %v", c.name, got, len(c.wants), c.wants)
			continue
		}
		for i, w := range c.wants {
			if !strings.Contains(got[i], " imports "+w+": ") {
				t.Errorf("%s: violation %d is %q, want the import of %s", c.name, i, got[i], w)
			}
		}
	}
}
