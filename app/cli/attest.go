package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hallmonitor/core/attest"
	"hallmonitor/hallapi/nskeys"
	"hallmonitor/hallapi/workers"
)

// defaultHMACEnv is the reference's secret variable for HMAC manifests.
const defaultHMACEnv = "WCP_ATTEST_HMAC_KEY"

// attestCommands are attest's subcommands, in the order usage and the manual list them.
func attestCommands() []subcommand {
	return []subcommand{
		{"keygen", "create an Ed25519 namespace key pair (<ns>.key 0600, <ns>.pub)", attestKeygen},
		{"build", "hash a package and write its signed manifest.json", attestBuild},
		{"hash", "print a package's canonical hash", attestHash},
	}
}

// runAttest builds and signs worker package manifests and generates
// namespace keys: `attest keygen`, `attest build`, `attest hash`.
func runAttest(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: hallmonitor attest keygen|build|hash [flags]")
		for _, c := range attestCommands() {
			fmt.Fprintf(stderr, "  %-7s %s\n", c.name, c.summary)
		}
		return 2
	}
	for _, c := range attestCommands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "attest: unknown subcommand %q: use keygen, build or hash\n", args[0])
	return 2
}

func attestKeygen(args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("attest keygen", stderr)
	ns := fset.String("namespace", "", "signer namespace: x.<name> or org.<name> (required)")
	out := fset.String("out", ".", "directory to write <namespace>.key and <namespace>.pub")
	force := fset.Bool("force", false, "overwrite existing key files")
	asJSON := fset.Bool("json", false, "print JSON")
	if !parseFlags(fset, args, stderr) {
		return 2
	}
	k, err := nskeys.Generate(*out, *ns, *force)
	switch {
	case errors.Is(err, nskeys.ErrExists):
		fmt.Fprintf(stderr, "attest keygen: %v; pass --force to replace it\n", err)
		return 1
	case errors.Is(err, nskeys.ErrBadNamespace):
		fmt.Fprintf(stderr, "attest keygen: --namespace %v\n", err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "attest keygen: %v\n", err)
		return 1
	}
	keyPath, pubPath := filepath.Join(*out, *ns+".key"), k.Path
	if *asJSON {
		emitJSON(stdout, map[string]string{"namespace": *ns, "private_key_path": keyPath, "public_key_path": pubPath, "public_key": k.PublicKey})
		return 0
	}
	fmt.Fprintf(stdout, "namespace   %s\nprivate key %s (keep it secret)\npublic key  %s\n            %s\n", *ns, keyPath, pubPath, k.PublicKey)
	return 0
}

func attestBuild(args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("attest build", stderr)
	pkg := fset.String("package", "", "worker package directory (required)")
	workerID := fset.String("worker-id", "", "worker id, x.<name>.<worker> or org.<name>.<worker> (required)")
	species := fset.String("species", "", "worker species id (required)")
	version := fset.String("version", "", "worker version (required)")
	keyFile := fset.String("key", "", "Ed25519 namespace private key file (from attest keygen)")
	hmacEnv := fset.String("hmac-env", "", "sign with HMAC-SHA256 using the secret in this environment variable instead (reference compatibility, e.g. "+defaultHMACEnv+")")
	source := fset.String("build-source", "local", "build_source recorded in the manifest")
	asJSON := fset.Bool("json", false, "print JSON")
	if !parseFlags(fset, args, stderr) {
		return 2
	}
	if *pkg == "" || *workerID == "" || *species == "" || *version == "" {
		fmt.Fprintln(stderr, "attest build: --package, --worker-id, --species and --version are required")
		return 2
	}
	if err := workers.CheckLayout(*pkg); err != nil {
		fmt.Fprintf(stderr, "attest build: %v\n", err)
		return 1
	}
	signer, code := buildSigner(*keyFile, *hmacEnv, stderr)
	if signer == nil {
		return code
	}
	if st, err := os.Stat(*pkg); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "attest build: --package %s is not a directory\n", *pkg)
		return 1
	}
	m, final, err := nskeys.WriteManifest(*pkg, nskeys.BuildOptions{WorkerID: *workerID, WorkerSpeciesID: *species,
		WorkerVersion: *version, BuildSource: *source, Now: time.Now(), Signer: signer})
	if err != nil {
		fmt.Fprintf(stderr, "attest build: %v\n", err)
		return 1
	}
	files, _ := attest.PackageFiles(os.DirFS(*pkg))
	if *asJSON {
		emitJSON(stdout, map[string]any{"manifest_path": final, "manifest": m, "files": files})
		return 0
	}
	scheme := attest.SchemeEd25519
	if m.SignatureEd25519 == "" {
		scheme = attest.SchemeHMAC
	}
	fmt.Fprintf(stdout, "wrote %s\npackage hash sha256:%s (%d files)\nsigned       %s\n%s\n", final, m.PackageHash, len(files), scheme, m.TrustStatement)
	return 0
}

// buildSigner is the signer of `attest build`: an Ed25519 key file (--key)
// or an HMAC secret in an environment variable (--hmac-env), exactly one.
// On failure it says why on stderr and returns a nil signer and the exit code.
func buildSigner(keyFile, hmacEnv string, stderr io.Writer) (attest.Signer, int) {
	switch {
	case keyFile != "" && hmacEnv != "":
		fmt.Fprintln(stderr, "attest build: pass --key or --hmac-env, not both")
		return nil, 2
	case keyFile != "":
		b, err := os.ReadFile(keyFile)
		if err != nil {
			fmt.Fprintf(stderr, "attest build: --key: %v\n", err)
			return nil, 1
		}
		k, err := attest.ParsePrivateKey(string(b))
		if err != nil {
			fmt.Fprintf(stderr, "attest build: --key %s: %v\n", keyFile, err)
			return nil, 1
		}
		return attest.Ed25519Signer{Key: k}, 0
	case hmacEnv != "":
		secret := hmacSecret(hmacEnv)
		if len(secret) == 0 {
			fmt.Fprintf(stderr, "attest build: environment variable %s is empty: export the HMAC secret first\n", hmacEnv)
			return nil, 1
		}
		return attest.HMACSigner{Secret: secret}, 0
	}
	fmt.Fprintln(stderr, "attest build: --key is required (generate one with `hallmonitor attest keygen --namespace x.<you>`), or --hmac-env for HMAC")
	return nil, 2
}

func attestHash(args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("attest hash", stderr)
	pkg := fset.String("package", "", "worker package directory (required)")
	asJSON := fset.Bool("json", false, "print JSON")
	if !parseFlags(fset, args, stderr) {
		return 2
	}
	if *pkg == "" {
		fmt.Fprintln(stderr, "attest hash: --package is required")
		return 2
	}
	if _, err := os.Stat(*pkg); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "attest hash: --package %s does not exist\n", *pkg)
		return 1
	}
	h, err := attest.PackageHash(os.DirFS(*pkg))
	if err != nil {
		fmt.Fprintf(stderr, "attest hash: %v\n", err)
		return 1
	}
	files, _ := attest.PackageFiles(os.DirFS(*pkg))
	if *asJSON {
		emitJSON(stdout, map[string]any{"package_hash": h, "files": files})
		return 0
	}
	fmt.Fprintln(stdout, h)
	return 0
}
