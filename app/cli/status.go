package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"hallmonitor/app/hall"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/store"
)

// hallDBFlags are the flags of the commands that open the Hall's database
// (the same meaning as on serve).
type hallDBFlags struct {
	configDir, dataDir *string
}

func addHallDBFlags(fset *flag.FlagSet) hallDBFlags {
	return hallDBFlags{
		configDir: fset.String("config-dir", "", "directory of config.json (env "+config.EnvConfigDir+")"),
		dataDir:   fset.String("data-dir", "", "directory of hall.db and the Hall's signing key (env "+config.EnvDataDir+")"),
	}
}

// resolve computes the effective configuration (config.json, env, flags).
func (f hallDBFlags) resolve(rules string) (config.Config, error) {
	_, cfg, err := hall.Resolve(hall.Options{ConfigDir: *f.configDir, DataDir: *f.dataDir, RulesPath: rules})
	return cfg, err
}

// open opens the Hall's SQLite store. It is safe while the desktop app
// or serve runs: WAL, busy timeout, one writer per process.
func (f hallDBFlags) open(rules string) (*store.Store, config.Config, error) {
	cfg, err := f.resolve(rules)
	if err != nil {
		return nil, cfg, err
	}
	st, err := store.Open(cfg.DatabasePath(), store.Options{})
	return st, cfg, err
}

// emitJSON writes v as indented JSON.
func emitJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// parseFlags parses args, refusing positional arguments; false means exit 2.
func parseFlags(fset *flag.FlagSet, args []string, stderr io.Writer) bool {
	if err := fset.Parse(args); err != nil {
		return false
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q (run with --help for the flags)\n", fset.Name(), fset.Arg(0))
		return false
	}
	return true
}

// statusReport is `hallmonitor status --json`.
type statusReport struct {
	DBPath  string         `json:"db_path"`
	Counts  store.Counts   `json:"counts"`
	Workers []statusWorker `json:"workers"`
	Alerts  []store.Alert  `json:"open_alerts"`
}

type statusWorker struct {
	WorkerID    string            `json:"worker_id"`
	SpeciesID   string            `json:"worker_species_id"`
	Status      string            `json:"status"`
	PackagePath string            `json:"package_path"`
	Attestation store.Attestation `json:"attestation"`
}

// runStatus prints the Hall's counts, enrolled workers with their
// attestation, and open alerts, read from the Hall's database.
func runStatus(args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("status", stderr)
	db := addHallDBFlags(fset)
	asJSON := fset.Bool("json", false, "print JSON")
	if !parseFlags(fset, args, stderr) {
		return 2
	}
	st, _, err := db.open("")
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return 1
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep := statusReport{DBPath: st.Path(), Workers: []statusWorker{}}
	if rep.Counts, err = st.Counts(ctx, time.Local); err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return 1
	}
	ws, err := st.ListWorkers(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return 1
	}
	for _, w := range ws {
		rep.Workers = append(rep.Workers, statusWorker{w.WorkerID, w.WorkerSpeciesID, w.Status, w.PackagePath, w.Attestation})
	}
	sort.Slice(rep.Workers, func(i, j int) bool { return rep.Workers[i].WorkerID < rep.Workers[j].WorkerID })
	ack := false
	if rep.Alerts, err = st.ListAlerts(ctx, store.AlertFilter{Acknowledged: &ack}); err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return 1
	}
	if *asJSON {
		emitJSON(stdout, rep)
		return 0
	}
	c := rep.Counts
	fmt.Fprintf(stdout, "database   %s\nworkers    %d\ntoday      %d decisions, %d denied\nactive     %d dispatches\napprovals  %d pending\nalerts     %d open\n",
		rep.DBPath, c.Workers, c.DecisionsToday, c.DenialsToday, c.ActiveDispatches, c.PendingApprovals, c.OpenAlerts)
	if len(rep.Workers) > 0 {
		fmt.Fprintln(stdout)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WORKER\tSPECIES\tSTATUS\tATTESTATION\tPACKAGE")
		for _, w := range rep.Workers {
			att := w.Attestation.State
			if w.Attestation.DenyCode != "" {
				att += " (" + w.Attestation.DenyCode + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", w.WorkerID, w.SpeciesID, w.Status, att, w.PackagePath)
		}
		tw.Flush()
	}
	for _, a := range rep.Alerts {
		fmt.Fprintf(stdout, "\n[%s] %s %s (x%d)\n  %s\n", a.Severity, a.Type, a.Title, a.Count, a.Body)
	}
	return 0
}

// hmacSecret reads the HMAC-SHA256 compatibility secret from the named
// environment variable ("" disables HMAC). The secret is never printed.
func hmacSecret(env string) []byte {
	if env == "" {
		return nil
	}
	return []byte(os.Getenv(env))
}
