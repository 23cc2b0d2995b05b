package cli

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"hallmonitor/hallapi/config"
)

// subcommandsOf lists the commands that dispatch to subcommands of their own, for the manual.
var subcommandsOf = map[string]func() []subcommand{"attest": attestCommands}

// newFlagSet is how every command makes its flag set: errors and --help go to stderr. When stderr is a
// flagRecorder (`help --man` running the command with --help), the set is also handed to it, so the manual
// lists each command's real flags, defaults and help texts.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(stderr)
	if r, ok := stderr.(*flagRecorder); ok {
		r.sets = append(r.sets, fset)
	}
	return fset
}

// flagRecorder collects the flag sets a command makes; what the command writes to it is dropped.
type flagRecorder struct{ sets []*flag.FlagSet }

func (r *flagRecorder) Write(p []byte) (int, error) { return len(p), nil }

// flagsOf runs one command (or subcommand) with --help and returns the flags it defines, nil if none.
func flagsOf(run func(args []string, stdout, stderr io.Writer) int, args []string) *flag.FlagSet {
	rec := &flagRecorder{}
	run(append(args, "--help"), io.Discard, rec)
	if len(rec.sets) == 0 {
		return nil
	}
	return rec.sets[0]
}

// writeManPage writes hallmonitor(1) in roff (man macros) to w: every command with its summary and flags,
// read from the commands themselves.
func writeManPage(w io.Writer, res Resources) int {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH HALLMONITOR 1 \"\" \"hallmonitor %s\" \"User Commands\"\n", roffText(VersionString()))
	b.WriteString(".SH NAME\nhallmonitor \\- a local Worker Class Protocol (WCP) Hall with a desktop window\n")
	b.WriteString(".SH SYNOPSIS\n.B hallmonitor\n.br\n.B hallmonitor\n.I COMMAND\n.RI [ flags ]\n")
	b.WriteString(".SH DESCRIPTION\n" + roffText("Hall Monitor routes the capability requests of AI agents to enrolled workers under "+
		"routing rules and gates, records every decision as signed, hash-chained evidence, and shows it all live in "+
		"a window. With no COMMAND it opens the window (or, with no display, runs serve). "+
		"Run 'hallmonitor COMMAND --help' for a command's flags.") + "\n")
	b.WriteString(".SH COMMANDS\n")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := cmds[n]
		run := func(args []string, stdout, stderr io.Writer) int { return c.run(args, stdout, stderr, res) }
		subs := subcommandsOf[n]
		if subs == nil {
			manCommand(&b, n, c.summary, flagsOf(run, nil))
			continue
		}
		fmt.Fprintf(&b, ".SS \"hallmonitor %s\"\n%s\n", n, roffText(c.summary))
		for _, s := range subs() {
			manCommand(&b, n+" "+s.name, s.summary, flagsOf(s.run, nil))
		}
	}
	b.WriteString(".SH ENVIRONMENT\n")
	for _, e := range [][2]string{
		{config.EnvConfigDir, "the folder of config.json and api-token (default $XDG_CONFIG_HOME/hallmonitor)"},
		{config.EnvDataDir, "the folder of hall.db, the log and the Hall's signing key (default $XDG_DATA_HOME/hallmonitor)"},
		{config.EnvPort, "the Hall API's TCP port on 127.0.0.1 (default 8765)"},
		{config.EnvRegistryURL, "the WCP registry's URL"},
	} {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", e[0], roffText(e[1]))
	}
	b.WriteString(".SH FILES\n.TP\n.I ~/.config/hallmonitor/config.json\nthe Hall's configuration (written by the setup wizard)\n" +
		".TP\n.I ~/.config/hallmonitor/api-token\nthe bearer token agents send to the Hall API\n" +
		".TP\n.I ~/.local/share/hallmonitor/hall.db\nthe decisions, receipts, workers and settings (SQLite)\n")
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return 1
	}
	return 0
}

// manCommand writes one command's section: its name, summary and each flag with its value name, help text
// and default.
func manCommand(b *strings.Builder, name, summary string, fset *flag.FlagSet) {
	fmt.Fprintf(b, ".SS \"hallmonitor %s\"\n%s\n", name, roffText(summary))
	if fset == nil {
		return
	}
	fset.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		b.WriteString(".TP\n\\fB\\-\\-" + strings.ReplaceAll(roffText(f.Name), "-", `\-`) + "\\fR")
		if arg != "" {
			b.WriteString(" \\fI" + roffText(arg) + "\\fR")
		}
		b.WriteString("\n" + roffText(usage))
		switch f.DefValue {
		case "", "0", "false", "0s":
		default:
			b.WriteString(" (default: " + roffText(f.DefValue) + ")")
		}
		b.WriteString("\n")
	})
}

// roffText escapes s for a roff text line: backslashes, and a leading dot or quote (which would start a
// request).
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
