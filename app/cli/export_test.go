package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallmonitor/core/receipt"
)

// export evidence writes a bundle of a range that verify --bundle checks
// offline; a byte changed in the file is reported with its position.
func TestExportEvidenceAndVerifyBundle(t *testing.T) {
	tmp := t.TempDir()
	h := openHallWithDecisions(t, tmp, 5, "t1", "t2")
	entries, err := h.Store.ReceiptChainEntries(context.Background(), "t1")
	if err != nil || len(entries) != 5 {
		t.Fatalf("t1 chain: %d %v", len(entries), err)
	}
	issued := func(i int) string {
		var r receipt.Receipt
		json.Unmarshal(entries[i].Receipt, &r)
		return r.IssuedAt
	}
	_, pub := h.Decide.SigningPublicKey()
	h.Close()

	out := filepath.Join(tmp, "evidence.dsse.json")
	code, stdout, stderr := run(t, runExport, "evidence", "--from", issued(1), "--to", issued(3), "--tenant", "t1", "--out", out)
	if code != 0 || !strings.Contains(stdout, "3 receipts of 1 tenant chain") {
		t.Fatalf("export: %d %s %s", code, stdout, stderr)
	}
	key := hex.EncodeToString(pub)
	// Offline: no database or config is needed to verify.
	t.Setenv("HALLMONITOR_CONFIG_DIR", filepath.Join(tmp, "elsewhere"))
	t.Setenv("HALLMONITOR_DATA_DIR", filepath.Join(tmp, "elsewhere"))
	if code, stdout, stderr := run(t, runVerify, "--bundle", out, "--hall-public-key", key); code != 0 || !strings.Contains(stdout, "verified") ||
		!strings.Contains(stdout, `tenant "t1": 3 receipts`) || !strings.Contains(stdout, "(5 receipts)") {
		t.Fatalf("verify: %d %s %s", code, stdout, stderr)
	}
	if code, stdout, _ := run(t, runVerify, "--bundle", out); code != 0 || !strings.Contains(stdout, "pass --hall-public-key "+key) {
		t.Fatalf("verify without a pinned key: %d %s", code, stdout)
	}
	other := strings.Repeat("ab", 32)
	if code, stdout, _ := run(t, runVerify, "--bundle", out, "--hall-public-key", other); code != 1 || !strings.Contains(stdout, "not the Hall key you pinned") {
		t.Fatalf("another Hall's key: %d %s", code, stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	at := len(b) / 2
	b[at] ^= 0x01
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = run(t, runVerify, "--bundle", out, "--hall-public-key", key, "--json")
	var rep struct {
		OK       bool `json:"ok"`
		Problems []struct {
			Where       string `json:"where"`
			Offset, End int
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 1 || rep.OK {
		t.Fatalf("tampered: %d %s", code, stdout)
	}
	held := false
	for _, p := range rep.Problems {
		held = held || (p.Offset <= at && at <= p.End)
	}
	if !held {
		t.Fatalf("no problem holds byte %d: %s", at, stdout)
	}
	t.Setenv("HALLMONITOR_CONFIG_DIR", filepath.Join(tmp, "config"))
	t.Setenv("HALLMONITOR_DATA_DIR", filepath.Join(tmp, "data"))
	if code, _, stderr := run(t, runExport, "evidence", "--from", "2001-01-01", "--to", "2001-01-02", "--out", out); code != 1 || !strings.Contains(stderr, "no receipts") {
		t.Fatalf("empty range: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, runExport, "evidence", "--from", "yesterday", "--to", "2001-01-02", "--out", out); code != 2 || !strings.Contains(stderr, "--from") {
		t.Fatalf("bad time: %d %s", code, stderr)
	}
}
