package cli

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"hallmonitor/core/attest"
	"hallmonitor/core/evidence"
	"hallmonitor/core/receipt"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/store"
)

// runVerify checks a worker package against its manifest (--package), or the
// evidence receipt chains (--receipts) from the Hall's database or a JSONL
// export (--jsonl). Exit status 0 means verified, 1 means it did not verify.
func runVerify(args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("verify", stderr)
	pkg := fset.String("package", "", "worker package directory to verify against its manifest.json")
	workerID := fset.String("worker-id", "", "expected worker id (with --package)")
	species := fset.String("species", "", "expected worker species id (with --package)")
	pubFile := fset.String("public-key", "", "namespace Ed25519 public key file (.pub from attest keygen)")
	hmacEnv := fset.String("hmac-env", defaultHMACEnv, "environment variable with the HMAC-SHA256 secret for HMAC manifests")
	receipts := fset.Bool("receipts", false, "verify the evidence receipt chains instead")
	jsonl := fset.String("jsonl", "", "with --receipts: a JSONL file (one receipt, or an object with a \"receipt\" field, per line) instead of the database")
	tenant := fset.String("tenant", "", "with --receipts: only this tenant's chain")
	hallKey := fset.String("hall-public-key", "", "with --receipts: the Hall's receipt public key (hex; default: derived from <data dir>/hall-key); with --bundle: the key the bundle must be signed with")
	bundle := fset.String("bundle", "", "an evidence bundle file (hallmonitor export evidence) to check offline; pin the Hall with --hall-public-key")
	db := addHallDBFlags(fset)
	asJSON := fset.Bool("json", false, "print JSON")
	if !parseFlags(fset, args, stderr) {
		return 2
	}
	switch {
	case *bundle != "" && (*receipts || *pkg != ""):
		fmt.Fprintln(stderr, "verify: pass --bundle alone (with --hall-public-key), not with --package or --receipts")
		return 2
	case *bundle != "":
		return verifyBundle(*bundle, *hallKey, *asJSON, stdout, stderr)
	case *receipts && *pkg != "":
		fmt.Fprintln(stderr, "verify: pass --package or --receipts, not both")
		return 2
	case *receipts:
		return verifyReceipts(db, *jsonl, *tenant, *hallKey, *asJSON, stdout, stderr)
	case *pkg != "":
		return verifyPackage(*pkg, *workerID, *species, *pubFile, *hmacEnv, *asJSON, stdout, stderr)
	}
	fmt.Fprintln(stderr, "verify: pass --package DIR --worker-id ID --species ID [--public-key FILE], --receipts [--jsonl FILE], or --bundle FILE")
	return 2
}

func verifyPackage(dir, workerID, species, pubFile, hmacEnv string, asJSON bool, stdout, stderr io.Writer) int {
	if workerID == "" || species == "" {
		fmt.Fprintln(stderr, "verify: --worker-id and --species are required with --package (the ids the worker is enrolled as)")
		return 2
	}
	trust := attest.Trust{HMACSecret: hmacSecret(hmacEnv)}
	if pubFile != "" {
		b, err := os.ReadFile(pubFile)
		if err != nil {
			fmt.Fprintf(stderr, "verify: --public-key: %v\n", err)
			return 1
		}
		if trust.Ed25519, err = attest.ParsePublicKey(string(b)); err != nil {
			fmt.Fprintf(stderr, "verify: --public-key %s: %v\n", pubFile, err)
			return 1
		}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "verify: --package %s is not a directory\n", dir)
		return 1
	}
	r := attest.Verify(os.DirFS(dir), attest.VerifyOptions{WorkerID: workerID, WorkerSpeciesID: species, Trust: trust, Now: time.Now()})
	if asJSON {
		emitJSON(stdout, r)
	} else if r.OK {
		fmt.Fprintf(stdout, "verified: %s (%s, namespace %s)\npackage hash sha256:%s\n%s\n", dir, r.Scheme, r.Namespace, r.PackageHash, r.TrustStatement)
	} else {
		fmt.Fprintf(stdout, "NOT VERIFIED: %s\n%s\n", r.Code, r.Message)
	}
	if !r.OK {
		return 1
	}
	return 0
}

// chainReport is the result of one tenant's chain.
type chainReport struct {
	TenantID string `json:"tenant_id"`
	Length   int    `json:"length"`
	Head     string `json:"head_receipt_hash,omitempty"`
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
}

func verifyReceipts(db hallDBFlags, jsonlPath, tenant, hallKeyHex string, asJSON bool, stdout, stderr io.Writer) int {
	var chains map[string][]receipt.Receipt
	var err error
	var dataDir string
	// In the database the store's record of each chain's head and the
	// stored decisions are checked too: a deleted newest receipt, or a
	// decision edited under its receipt, is reported.
	var heads map[string]store.ReceiptHead
	var decErrs map[string]string
	if jsonlPath != "" {
		chains, err = readReceiptJSONL(jsonlPath)
	} else {
		var st *store.Store
		var cfg config.Config
		st, cfg, err = db.open("")
		if err == nil {
			dataDir = cfg.DataDir
			chains, decErrs, heads, err = readReceiptDB(st, tenant)
			st.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "verify: %v\n", err)
		return 1
	}
	keys, err := hallKeys(hallKeyHex, dataDir, db)
	if err != nil {
		fmt.Fprintf(stderr, "verify: %v\n", err)
		return 1
	}
	tenants := make([]string, 0, len(chains))
	for t := range chains {
		if tenant == "" || t == tenant {
			tenants = append(tenants, t)
		}
	}
	sort.Strings(tenants)
	ok := true
	reports := []chainReport{}
	for _, t := range tenants {
		c := chains[t]
		sort.SliceStable(c, func(i, j int) bool { return c[i].Sequence < c[j].Sequence })
		rep := chainReport{TenantID: t, Length: len(c), OK: true}
		if len(c) > 0 {
			rep.Head = c[len(c)-1].ReceiptHash
		}
		if err := receipt.Verify(c, keys); err != nil {
			rep.OK, rep.Error, ok = false, err.Error(), false
		} else if msg := decErrs[t]; msg != "" {
			rep.OK, rep.Error, ok = false, msg, false
		} else if h, have := heads[t]; have && (h.Length != len(c) || h.Hash != rep.Head) {
			rep.OK, ok = false, false
			rep.Error = fmt.Sprintf("chain truncated: the Hall recorded %d receipts ending in %s, the database holds %d ending in %s",
				h.Length, h.Hash, len(c), rep.Head)
		}
		reports = append(reports, rep)
	}
	if asJSON {
		emitJSON(stdout, map[string]any{"ok": ok, "chains": reports})
	} else {
		if len(reports) == 0 {
			fmt.Fprintln(stdout, "no receipts to verify")
		}
		for _, r := range reports {
			if r.OK {
				fmt.Fprintf(stdout, "ok      tenant %q: %d receipts, head %s\n", r.TenantID, r.Length, r.Head)
			} else {
				fmt.Fprintf(stdout, "BROKEN  tenant %q: %s\n", r.TenantID, r.Error)
			}
		}
	}
	if !ok {
		return 1
	}
	return 0
}

// parseHallPublicKey decodes --hall-public-key (hex of an Ed25519 public key).
func parseHallPublicKey(hexKey string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(hexKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("--hall-public-key must be %d hex characters", 2*ed25519.PublicKeySize)
	}
	return b, nil
}

// hallKeys resolves receipt signing keys: an explicit public key, else the
// Hall's own key in the data directory (never created here).
func hallKeys(hexKey, dataDir string, db hallDBFlags) (receipt.KeyResolver, error) {
	var pub ed25519.PublicKey
	if hexKey != "" {
		var err error
		if pub, err = parseHallPublicKey(hexKey); err != nil {
			return nil, err
		}
	} else {
		if dataDir == "" {
			cfg, err := db.resolve("")
			if err != nil {
				return nil, err
			}
			dataDir = cfg.DataDir
		}
		k, err := config.LoadSigningKey(dataDir)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("the Hall's receipt key %s is not readable (%v): pass --hall-public-key",
				filepath.Join(dataDir, config.SigningKeyFileName), err)
		}
		if err != nil {
			return nil, err
		}
		pub = k.Public().(ed25519.PublicKey)
	}
	id := decide.KeyID(pub)
	return func(keyID string) (ed25519.PublicKey, bool) { return pub, keyID == id }, nil
}

// readReceiptDB reads each tenant's chain, the first receipt per tenant
// whose decision_hash does not match its stored decision, and the recorded
// chain heads. Tenants come from the decisions and the heads, so a tenant
// whose every receipt was deleted is still checked.
func readReceiptDB(st *store.Store, tenant string) (map[string][]receipt.Receipt, map[string]string, map[string]store.ReceiptHead, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	heads, err := st.ReceiptHeads(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("receipt chain heads: %w", err)
	}
	tenants := map[string]bool{}
	if tenant != "" {
		tenants[tenant] = true
	} else {
		for t := range heads {
			tenants[t] = true
		}
		if err := st.EachDecision(ctx, store.DecisionFilter{}, func(d store.DecisionSummary, _, _ json.RawMessage) error {
			tenants[d.TenantID] = true
			return nil
		}); err != nil {
			return nil, nil, nil, fmt.Errorf("list tenants: %w", err)
		}
	}
	out := map[string][]receipt.Receipt{}
	decErrs := map[string]string{}
	for t := range tenants {
		entries, err := st.ReceiptChainEntries(ctx, t)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("receipts of tenant %q: %w", t, err)
		}
		if len(entries) == 0 && heads[t].Length > 0 {
			out[t] = []receipt.Receipt{} // every receipt gone: reported against the head
		}
		for i, e := range entries {
			var r receipt.Receipt
			if err := json.Unmarshal(e.Receipt, &r); err != nil {
				return nil, nil, nil, fmt.Errorf("receipt %d of tenant %q is not valid JSON: %w", i, t, err)
			}
			out[t] = append(out[t], r)
			if h, err := receipt.DecisionHashJSON(e.Decision); decErrs[t] == "" && (err != nil || h != r.DecisionHash) {
				decErrs[t] = fmt.Sprintf("receipt %d (%s): decision %s was edited after it was signed (decision_hash differs)", i, r.ReceiptID, r.DecisionID)
			}
		}
	}
	return out, decErrs, heads, nil
}

func readReceiptJSONL(path string) (map[string][]receipt.Receipt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]receipt.Receipt{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var wrapped struct {
			Receipt json.RawMessage `json:"receipt"`
		}
		if err := json.Unmarshal(b, &wrapped); err != nil {
			return nil, fmt.Errorf("%s line %d: not JSON: %w", path, line, err)
		}
		if len(wrapped.Receipt) > 0 && string(wrapped.Receipt) != "null" {
			b = wrapped.Receipt
		}
		var r receipt.Receipt
		if err := json.Unmarshal(b, &r); err != nil || r.ReceiptHash == "" {
			return nil, fmt.Errorf("%s line %d: not a receipt (needs receipt_hash): export receipts, one per line", path, line)
		}
		out[r.TenantID] = append(out[r.TenantID], r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, errors.New(path + " holds no receipts")
	}
	return out, nil
}

// verifyBundle checks an evidence bundle with nothing but the file (no
// database, no network). Without --hall-public-key the key the bundle names
// is used and the report says it was not pinned.
func verifyBundle(path, hallKeyHex string, asJSON bool, stdout, stderr io.Writer) int {
	var pinned ed25519.PublicKey
	if hallKeyHex != "" {
		var err error
		if pinned, err = parseHallPublicKey(hallKeyHex); err != nil {
			fmt.Fprintf(stderr, "verify: %v\n", err)
			return 2
		}
	}
	b, err := readBundle(path)
	if err != nil {
		fmt.Fprintf(stderr, "verify: %v\n", err)
		return 1
	}
	rep := evidence.Verify(b, pinned)
	if asJSON {
		emitJSON(stdout, rep)
	} else if rep.OK {
		n := 0
		for _, c := range rep.Chains {
			n += c.Receipts
		}
		fmt.Fprintf(stdout, "verified: %s: %d receipts in %d chain(s), %s to %s, signed by %s\n", path, n, len(rep.Chains), rep.From, rep.To, rep.KeyID)
		for _, c := range rep.Chains {
			fmt.Fprintf(stdout, "  tenant %q: %d receipts, last %s; chain head %s (%d receipts)\n", c.TenantID, c.Receipts, c.Last, c.Head, c.HeadLength)
		}
		if !rep.Pinned {
			fmt.Fprintf(stdout, "the key was read from the bundle: pass --hall-public-key %s to check it is your Hall's\n", rep.PublicKey)
		}
	} else {
		fmt.Fprintf(stdout, "NOT VERIFIED: %s: %d problem(s)\n", path, len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	if !rep.OK {
		return 1
	}
	return 0
}

func readBundle(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, evidence.MaxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
