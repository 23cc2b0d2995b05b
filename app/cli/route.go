package cli

import (
	"fmt"
	"io"
	"os"

	"hallmonitor/core/conformance"
)

// runRoute is `hallmonitor route --cases FILE.json [--bench N]`: the WCP
// conformance runner (one JSON decision per case and line, or throughput
// and latency per case with --bench).
func runRoute(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("route", stderr)
	cases := fs.String("cases", "", `cases file: {"cases":[{"id","input","rules",...}]} ("-" reads stdin)`)
	benchN := fs.Int("bench", 0, "run each case N times and print decisions/s, p50 and p99 latency")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cases == "" || fs.NArg() > 0 || *benchN < 0 {
		fmt.Fprintln(stderr, "usage: hallmonitor route --cases FILE.json [--bench N]")
		return 2
	}
	in := io.Reader(os.Stdin)
	if *cases != "-" {
		f, err := os.Open(*cases)
		if err != nil {
			fmt.Fprintf(stderr, "hallmonitor route: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	if err := conformance.Run(in, stdout, *benchN); err != nil {
		fmt.Fprintf(stderr, "hallmonitor route: %v\n", err)
		return 1
	}
	return 0
}
