package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hallmonitor/hallapi/workers"
)

// runEnroll enrolls a worker from its registry record, with its package
// directory (verified against its manifest and then watched by every running
// Hall) and the namespace's public key. It writes the Hall's database
// directly, so it works while the desktop app runs; the app picks the
// enrollment up from the event log within a second.
func runEnroll(args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("enroll", stderr)
	recordPath := fset.String("record", "", "registry record JSON file (required)")
	pkg := fset.String("package", "", "worker package directory (verified against its manifest.json)")
	pubFile := fset.String("public-key", "", "namespace Ed25519 public key file (.pub from attest keygen), recorded with the enrollment")
	hmacEnv := fset.String("hmac-env", defaultHMACEnv, "environment variable with the HMAC-SHA256 secret for HMAC manifests")
	db := addHallDBFlags(fset)
	asJSON := fset.Bool("json", false, "print JSON")
	if !parseFlags(fset, args, stderr) {
		return 2
	}
	if *recordPath == "" {
		fmt.Fprintln(stderr, "enroll: --record is required: the worker's registry_record.json")
		return 2
	}
	rec, err := os.ReadFile(*recordPath)
	if err != nil {
		fmt.Fprintf(stderr, "enroll: --record: %v\n", err)
		return 1
	}
	var pub string
	if *pubFile != "" {
		b, err := os.ReadFile(*pubFile)
		if err != nil {
			fmt.Fprintf(stderr, "enroll: --public-key: %v\n", err)
			return 1
		}
		pub = strings.TrimSpace(string(b))
	}
	st, _, err := db.open("")
	if err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
		return 1
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := enrollRecord(ctx, st, rec, *pkg, pub, hmacSecret(*hmacEnv))
	for _, c := range checksOf(got) {
		if c.Warning {
			fmt.Fprintf(stderr, "enroll: %s: %s\n", c.Field, c.Message)
		}
	}
	if err != nil {
		// The first failing check, then the others: fix them all before trying again.
		fmt.Fprintf(stderr, "enroll: refused: %v\n", err)
		for _, c := range checksOf(got) {
			if !c.OK && c.Field != got.Validation.Failing().Field {
				fmt.Fprintf(stderr, "enroll: also: %s: %s\n", c.Field, c.Message)
			}
		}
		return 1
	}
	w, created := got.Worker, got.Created
	if *asJSON {
		emitJSON(stdout, map[string]any{"enrolled": true, "updated": !created, "worker": w})
		return 0
	}
	verb := "enrolled"
	if !created {
		verb = "re-enrolled"
	}
	fmt.Fprintf(stdout, "%s %s (species %s, capabilities %s)\n", verb, w.WorkerID, w.WorkerSpeciesID, strings.Join(w.Capabilities, ", "))
	if w.PackagePath != "" {
		fmt.Fprintf(stdout, "package %s\nattestation %s, package hash sha256:%s\n", w.PackagePath, w.Attestation.State, w.Attestation.PackageHash)
	}
	return 0
}

// enrollRecord is the CLI's call of the Hall's one enrollment rule
// (workers.Enroll, as POST /api/workers/enroll): a relative package path is
// relative to the working directory.
func enrollRecord(ctx context.Context, st workers.EnrollStore, rec []byte, pkg, pub string, hmac []byte) (workers.Enrolled, error) {
	if pkg != "" {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			return workers.Enrolled{}, fmt.Errorf("--package %s: %w", pkg, err)
		}
		pkg = abs
	}
	return workers.Enroll(ctx, st, workers.EnrollRequest{Record: rec, PackagePath: pkg, PublicKeyEd25519: pub,
		Packages: workers.StaticVerifier{HMACSecret: hmac}})
}

func checksOf(e workers.Enrolled) []workers.RecordCheck {
	if e.Validation == nil {
		return nil
	}
	return e.Validation.Checks
}
