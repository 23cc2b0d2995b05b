package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hallmonitor/hallapi"
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
	if err := checkArtifactHash(rec); err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
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
	w, created, err := workers.Enroll(ctx, st, workers.EnrollRequest{Record: rec, PackagePath: *pkg, PublicKeyEd25519: pub,
		HMACSecret: hmacSecret(*hmacEnv), Now: time.Now()})
	if err != nil {
		fmt.Fprintf(stderr, "enroll: %v\n", err)
		return 1
	}
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

// checkArtifactHash refuses a record whose artifact_hash (when present) does
// not match its content, like POST /api/workers/enroll does.
func checkArtifactHash(rec []byte) error {
	var m map[string]any
	if err := json.Unmarshal(rec, &m); err != nil {
		return fmt.Errorf("--record is not a JSON object: %w", err)
	}
	ah, ok := m["artifact_hash"]
	if !ok {
		return nil
	}
	want, err := hallapi.RecordArtifactHash(m)
	if err != nil {
		return fmt.Errorf("record cannot be hashed: %w", err)
	}
	if ah != want {
		return fmt.Errorf("record.artifact_hash does not match the record (DENY_WORKER_TAMPERED): expected %s; fix the record or remove artifact_hash", want)
	}
	return nil
}
