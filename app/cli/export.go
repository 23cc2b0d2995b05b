package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/evidence"
)

// runExport writes an export of the Hall's records; `export evidence` is
// the signed evidence bundle of a time range (verify it with
// `hallmonitor verify --bundle FILE`).
func runExport(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "evidence" {
		fmt.Fprintln(stderr, "export: say what to export: hallmonitor export evidence --from T --to T [--tenant T] --out FILE")
		return 2
	}
	fset := flag.NewFlagSet("export evidence", flag.ContinueOnError)
	fset.SetOutput(stderr)
	from := fset.String("from", "", "start of the range (RFC 3339 time, or a date YYYY-MM-DD in UTC), inclusive")
	to := fset.String("to", "", "end of the range (RFC 3339 time, or a date: to the end of that day), inclusive")
	tenant := fset.String("tenant", "", "only this tenant's receipt chain (default: every tenant)")
	out := fset.String("out", "", "file to write the bundle to (a DSSE envelope, JSON)")
	db := addHallDBFlags(fset)
	if !parseFlags(fset, args[1:], stderr) {
		return 2
	}
	if *from == "" || *to == "" || *out == "" {
		fmt.Fprintln(stderr, "export evidence: --from, --to and --out are required, e.g. --from 2026-12-01 --to 2026-12-04 --out evidence.dsse.json")
		return 2
	}
	var rg evidence.Range
	var err error
	if rg.From, err = evidence.ParseTime(*from, false); err != nil {
		fmt.Fprintf(stderr, "export evidence: --from: %v\n", err)
		return 2
	}
	if rg.To, err = evidence.ParseTime(*to, true); err != nil {
		fmt.Fprintf(stderr, "export evidence: --to: %v\n", err)
		return 2
	}
	rg.Tenant = *tenant
	st, cfg, err := db.open("")
	if err != nil {
		fmt.Fprintf(stderr, "export evidence: %v\n", err)
		return 1
	}
	defer st.Close()
	key, err := config.LoadSigningKey(cfg.DataDir)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		fmt.Fprintf(stderr, "export evidence: the Hall's receipt key is not in %s (%v): pass the Hall's --data-dir\n", cfg.DataDir, err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "export evidence: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b, sum, err := evidence.Export(ctx, st, key, rg, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "export evidence: %v\n", err)
		return 1
	}
	if err := config.WriteFileAtomic(*out, b, 0o644); err != nil {
		fmt.Fprintf(stderr, "export evidence: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %d receipts of %d tenant chain(s), %d bytes, signed by the Hall key in %s\n",
		*out, sum.Receipts, len(sum.Tenants), sum.Bytes, cfg.DataDir)
	return 0
}
