// Package cli dispatches hallmonitor's subcommands; each subcommand lives in its own file.
package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// Resources are what the binary embeds: the built web UI and the window icon.
type Resources struct {
	UI   fs.FS
	Icon []byte
}

// command is one subcommand: what it does, in a line, and how to run it.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer, res Resources) int
}

// subcommand is one of a command's subcommands (`attest keygen`); subcommandsOf lists them.
type subcommand struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand. The window (no arguments) is not one of them. Each one must answer
// --help (or -h) without doing anything else: `help --man` runs them so to read their flags.
func commands() map[string]command {
	plain := func(f func([]string, io.Writer, io.Writer) int) func([]string, io.Writer, io.Writer, Resources) int {
		return func(args []string, stdout, stderr io.Writer, _ Resources) int { return f(args, stdout, stderr) }
	}
	serve := func(args []string, stdout, stderr io.Writer, res Resources) int {
		return runServe(args, stdout, stderr, res.UI)
	}
	return map[string]command{
		"serve":   {"run the Hall API and web UI headless on 127.0.0.1 (no window)", serve},
		"window":  {"open the desktop window (the default with no arguments)", runWindow},
		"mcp":     {"serve enrolled capabilities as MCP tools (stdio, or --http ADDR)", plain(runMCP)},
		"route":   {"decide routing cases: --cases FILE.json [--bench N] (conformance runner)", plain(runRoute)},
		"enroll":  {"enroll a worker: --record registry_record.json [--package DIR]", plain(runEnroll)},
		"attest":  {"build and sign a worker package manifest; generate keys", plain(runAttest)},
		"verify":  {"verify a worker package, a receipt chain, or an evidence bundle (--bundle FILE, offline)", plain(runVerify)},
		"export":  {"export evidence --from T --to T [--tenant T] --out FILE: a signed evidence bundle", plain(runExport)},
		"status":  {"print the Hall's status (workers, decisions, alerts)", plain(runStatus)},
		"agent":   {"agent tokens: add NAME | list | rotate NAME | revoke NAME", plain(runAgent)},
		"version": {"print the version", plain(runVersion)},
	}
}

// Main runs hallmonitor with the given arguments and returns the process exit code.
func Main(args []string, res Resources, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runWindow(nil, stdout, stderr, res)
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		if len(args) == 2 && args[0] == "help" && args[1] == "--man" {
			return writeManPage(stdout, res)
		}
		usage(stdout)
		return 0
	case "-v", "--version":
		return runVersion(nil, stdout, stderr)
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "hallmonitor: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	return cmd.run(args[1:], stdout, stderr, res)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Hall Monitor: a local WCP Hall with a desktop window.")
	fmt.Fprintln(w, "\nUsage:\n  hallmonitor              open the desktop window (serve when there is no display)\n  hallmonitor COMMAND [flags]")
	fmt.Fprintln(w, "\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'hallmonitor COMMAND --help' for a command's flags, 'hallmonitor help --man' for the manual page (roff).")
}

// Version is set at build time with -ldflags "-X hallmonitor/app/cli.Version=..."; otherwise it comes
// from the module's VCS stamp.
var Version = ""

// VersionString reports the binary's version, e.g. "0.1.0" or "devel+abc1234".
func VersionString() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	v := "devel"
	if rev != "" {
		v += "+" + rev[:min(7, len(rev))]
	}
	if dirty {
		v += "-dirty"
	}
	return v
}

func runVersion(args []string, stdout, _ io.Writer) int {
	fmt.Fprintf(stdout, "hallmonitor %s\n", VersionString())
	return 0
}

// hasDisplay reports whether a graphical session is available for the window.
func hasDisplay() bool {
	return strings.TrimSpace(os.Getenv("DISPLAY")) != "" || strings.TrimSpace(os.Getenv("WAYLAND_DISPLAY")) != ""
}
