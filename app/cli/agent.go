package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"hallmonitor/app/hall"
	"hallmonitor/hallapi/agents"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/principal"
	"hallmonitor/hallapi/store"
)

// runAgent is `hallmonitor agent add|list|rotate|revoke`: the person's CLI
// for agent tokens. It is the person's because it reads the 0600 admin
// credential of the config directory (which only the OS user who runs the
// Hall can) and the Hall's database.
func runAgent(args []string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, "usage: hallmonitor agent add NAME | list | rotate NAME | revoke NAME  [--json] [--config-dir DIR] [--data-dir DIR]")
		return 2
	}
	if len(args) == 0 {
		return usage()
	}
	sub, rest := args[0], args[1:]
	fset := newFlagSet("agent", stderr)
	db := addHallDBFlags(fset)
	asJSON := fset.Bool("json", false, "print JSON")
	if sub == "-h" || sub == "--help" {
		usage()
		fset.PrintDefaults()
		return 0
	}
	var name string
	if sub != "list" {
		if len(rest) == 0 || rest[0] == "" || rest[0][0] == '-' {
			fmt.Fprintf(stderr, "agent %s: name the agent first, e.g. hallmonitor agent %s ci-bot\n", sub, sub)
			return 2
		}
		name, rest = rest[0], rest[1:]
	}
	if !parseFlags(fset, rest, stderr) {
		return 2
	}
	cdir, cfg, err := hall.Resolve(hall.Options{ConfigDir: *db.configDir, DataDir: *db.dataDir})
	if err != nil {
		fmt.Fprintf(stderr, "agent: %v\n", err)
		return 1
	}
	if _, err := config.LoadOrCreateAdminToken(cdir); err != nil {
		fmt.Fprintf(stderr, "agent: the admin credential is not usable (%v): only the person who runs the Hall manages agents\n", err)
		return 1
	}
	st, err := store.Open(cfg.DatabasePath(), store.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "agent: %v\n", err)
		return 1
	}
	defer st.Close()
	ctx := principal.With(context.Background(), principal.Principal{Kind: principal.Person, Name: principal.OSUser(), Via: principal.ViaCLI})
	svc := agents.New(st, nil)
	switch sub {
	case "add":
		a, tok, err := svc.Create(ctx, name)
		return printAgent(stdout, stderr, a, tok, err, *asJSON)
	case "rotate", "revoke":
		id, err := agentID(ctx, svc, name)
		if err != nil {
			fmt.Fprintf(stderr, "agent %s: %v\n", sub, err)
			return 1
		}
		if sub == "rotate" {
			a, tok, err := svc.Rotate(ctx, id)
			return printAgent(stdout, stderr, a, tok, err, *asJSON)
		}
		a, err := svc.Revoke(ctx, id)
		return printAgent(stdout, stderr, a, "", err, *asJSON)
	case "list":
		return printAgentList(ctx, svc, stdout, stderr, *asJSON)
	}
	return usage()
}

// printAgentList prints every agent (revoked ones marked) and no token.
func printAgentList(ctx context.Context, svc *agents.Service, stdout, stderr io.Writer, asJSON bool) int {
	as, err := svc.List(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "agent list: %v\n", err)
		return 1
	}
	if asJSON {
		emitJSON(stdout, map[string]any{"agents": as})
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTOKEN\tCREATED\tLAST USED\tSTATE")
	for _, a := range as {
		used, state := "never", "active"
		if a.LastUsedAt != nil {
			used = *a.LastUsedAt
		}
		if a.RevokedAt != nil {
			state = "revoked " + *a.RevokedAt
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.TokenHint, a.CreatedAt, used, state)
	}
	tw.Flush()
	return 0
}

// agentID finds the active agent called name (or with that id).
func agentID(ctx context.Context, svc *agents.Service, name string) (string, error) {
	id, err := svc.Find(ctx, name)
	if err == nil && id == "" {
		err = fmt.Errorf("no active agent named %q: `hallmonitor agent list` shows them", name)
	}
	return id, err
}

func printAgent(stdout, stderr io.Writer, a store.AgentAccount, tok string, err error, asJSON bool) int {
	if err != nil {
		fmt.Fprintf(stderr, "agent: %v\n", err)
		return 1
	}
	if asJSON {
		out := map[string]any{"agent": a}
		if tok != "" {
			out["token"] = tok
		}
		emitJSON(stdout, out)
		return 0
	}
	if tok == "" {
		fmt.Fprintf(stdout, "agent %s revoked: its token no longer works\n", a.Name)
		return 0
	}
	fmt.Fprintf(stdout, "agent %s: token (shown once, copy it now)\n%s\n", a.Name, tok)
	return 0
}
