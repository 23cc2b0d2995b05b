package receipt

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hallmonitor/core"
)

func signer(t *testing.T, seed byte, id string) (Signer, ed25519.PublicKey) {
	t.Helper()
	key := ed25519.NewKeyFromSeed(slices.Repeat([]byte{seed}, ed25519.SeedSize))
	return Signer{KeyID: id, Key: key}, key.Public().(ed25519.PublicKey)
}

func decisions(t *testing.T, n int) []core.RouteDecision {
	t.Helper()
	rs, err := core.ParseRules([]byte(`[{"rule_id":"r","decision":{"candidate_workers_ranked":[{"worker_species_id":"w"}]}}]`))
	if err != nil {
		t.Fatal(err)
	}
	reg := core.NewMemRegistry()
	reg.SetWorkersAvailable([]string{"w"})
	var out []core.RouteDecision
	for i := range n {
		in := core.RouteInput{CapabilityID: "cap.x", Env: "dev", DataLabel: "PUBLIC", TenantRisk: "low", QoSClass: "P2",
			TenantID: "tenant-a", CorrelationID: fmt.Sprint("c", i)}
		if i%3 == 2 {
			in.CapabilityID = "" // still matches; vary content
			in.Env = "prod"
			in.QoSClass = "P0"
			in.DataLabel = "RESTRICTED"
			in.Request = map[string]any{"egress": true}
		}
		out = append(out, core.Decide(in, rs, reg, core.Options{NewID: func() string { return fmt.Sprint("d", i) }}))
	}
	return out
}

func buildChain(t *testing.T, s Signer, decs []core.RouteDecision) []Receipt {
	t.Helper()
	var chain []Receipt
	var prev *Receipt
	for i, d := range decs {
		var pkg *string
		if i%2 == 1 {
			h := strings.Repeat(fmt.Sprint(i%10), 64)
			pkg = &h
		}
		r, err := New(d, pkg, prev, s, fmt.Sprint("rcpt-", i), time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, r)
		prev = &chain[len(chain)-1]
	}
	return chain
}

func TestChainVerifies(t *testing.T) {
	s, pub := signer(t, 1, "hall-key-1")
	chain := buildChain(t, s, decisions(t, 6))
	keys := func(id string) (ed25519.PublicKey, bool) { return pub, id == "hall-key-1" }
	if err := Verify(chain, keys); err != nil {
		t.Fatal(err)
	}
	if chain[0].PrevReceiptHash != nil || *chain[1].PrevReceiptHash != chain[0].ReceiptHash || chain[5].Sequence != 5 {
		t.Error("chain links")
	}
	if !chain[2].Denied || *chain[2].DenyCode != core.DenyRequiresHuman || chain[0].DenyCode != nil {
		t.Errorf("deny code fields: %+v", chain[2])
	}
	if err := Verify(nil, keys); err != nil {
		t.Errorf("empty chain: %v", err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	s, pub := signer(t, 1, "k1")
	other, _ := signer(t, 2, "k1")
	keys := func(id string) (ed25519.PublicKey, bool) { return pub, id == "k1" }
	cases := []struct {
		name   string
		mutate func([]Receipt) []Receipt
		index  int
		reason string
	}{
		{"edit content", func(c []Receipt) []Receipt { c[2].MatchedRuleID = "evil"; return c }, 2, "receipt edited"},
		{"edit and rehash without key", func(c []Receipt) []Receipt {
			c[3].Denied = true
			c[3].ReceiptHash, _ = c[3].ComputeHash()
			return c
		}, 3, "invalid signature"},
		{"re-sign with another key", func(c []Receipt) []Receipt {
			r, _ := New(decisions(t, 1)[0], nil, nil, other, c[0].ReceiptID, time.Now())
			c[0] = r
			return c
		}, 0, "invalid signature"},
		{"delete middle", func(c []Receipt) []Receipt { return slices.Delete(c, 2, 3) }, 2, "deleted, inserted or reordered"},
		{"delete first", func(c []Receipt) []Receipt { return c[1:] }, 0, "does not start"},
		{"reorder", func(c []Receipt) []Receipt { c[1], c[2] = c[2], c[1]; return c }, 1, "deleted, inserted or reordered"},
		{"unknown key", func(c []Receipt) []Receipt {
			c[4].SigningKeyID = "k2"
			c[4].ReceiptHash, _ = c[4].ComputeHash()
			return c
		}, 4, "unknown signing key"},
		{"edit package hash", func(c []Receipt) []Receipt { h := strings.Repeat("e", 64); c[1].PackageHash = &h; return c }, 1, "receipt edited"},
		{"drop package hash", func(c []Receipt) []Receipt { c[3].PackageHash = nil; return c }, 3, "receipt edited"},
		{"add package hash", func(c []Receipt) []Receipt { h := strings.Repeat("e", 64); c[2].PackageHash = &h; return c }, 2, "receipt edited"},
		{"bad signature encoding", func(c []Receipt) []Receipt { c[1].Signature = "zz"; return c }, 1, "invalid signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chain := c.mutate(buildChain(t, s, decisions(t, 6)))
			err := Verify(chain, keys)
			var ce *ChainError
			if !errors.As(err, &ce) || ce.Index != c.index || !strings.Contains(ce.Reason, c.reason) {
				t.Fatalf("got %v, want index %d %q", err, c.index, c.reason)
			}
			if !strings.Contains(err.Error(), fmt.Sprint("index ", c.index)) {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	s, _ := signer(t, 1, "k")
	decs := decisions(t, 1)
	if _, err := New(decs[0], nil, nil, Signer{KeyID: "k"}, "r", time.Now()); err == nil {
		t.Error("missing key accepted")
	}
	bad := "sha256:" + strings.Repeat("a", 64)
	if _, err := New(decs[0], &bad, nil, s, "r", time.Now()); err == nil || !strings.Contains(err.Error(), "package hash") {
		t.Errorf("malformed package hash accepted: %v", err)
	}
	prev, err := New(decs[0], nil, nil, s, "r0", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other := decs[0]
	other.TenantID = "tenant-b"
	if _, err := New(other, nil, &prev, s, "r1", time.Now()); err == nil {
		t.Error("cross-tenant chain accepted")
	}
}

func TestDecisionHashStable(t *testing.T) {
	d := decisions(t, 1)[0]
	a, err := DecisionHash(d)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := DecisionHash(d)
	d.MatchedRuleID = "x"
	c, _ := DecisionHash(d)
	if a != b || a == c || len(a) != 64 {
		t.Errorf("hashes %s %s %s", a, b, c)
	}
}

func TestPackageHashAlwaysInJSON(t *testing.T) {
	s, _ := signer(t, 1, "k")
	d := decisions(t, 1)[0]
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := New(d, nil, nil, s, "r0", at)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), `"package_hash":null`) {
		t.Fatalf("package_hash must be present (null) without a package: %s", b)
	}
	h := strings.Repeat("c", 64)
	r2, err := New(d, &h, nil, s, "r0", at)
	if err != nil {
		t.Fatal(err)
	}
	if r2.ReceiptHash == r.ReceiptHash || r2.PackageHash == nil || *r2.PackageHash != h {
		t.Fatalf("package hash not covered by receipt_hash: %+v", r2)
	}
}

// An approval's resolution is a receipt in the same chain: it verifies with
// the decision receipts around it, keeps the decision's decision_hash, and
// any edit of who resolved it or of its status breaks the chain.
func TestApprovalReceiptInChain(t *testing.T) {
	s, pub := signer(t, 2, "hall-key-2")
	keys := func(id string) (ed25519.PublicKey, bool) { return pub, id == "hall-key-2" }
	chain := buildChain(t, s, decisions(t, 3))
	grant := []byte(`{"decision_id":"d2","agent":"ci-bot","package_hash":null}`)
	gh, err := GrantHash(grant)
	if err != nil {
		t.Fatal(err)
	}
	ev := ApprovalEvidence{ApprovalID: "apr_1", Status: "approved", ResolvedBy: "octocat", ResolvedAt: "2026-01-01T00:01:00Z", Agent: "ci-bot", GrantHash: &gh}
	ar, err := NewApproval(chain[2], ev, &chain[2], s, "rcpt-apr", time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	chain = append(chain, ar)
	if err := Verify(chain, keys); err != nil {
		t.Fatal(err)
	}
	if ar.Kind != KindApproval || ar.DecisionHash != chain[2].DecisionHash || ar.Sequence != 3 || ar.DecisionID != chain[2].DecisionID {
		t.Fatalf("approval receipt fields: %+v", ar)
	}
	for name, edit := range map[string]func(r *Receipt){
		"resolved_by": func(r *Receipt) { r.Approval.ResolvedBy = "api-token" },
		"status":      func(r *Receipt) { r.Approval.Status = "denied" },
		"grant":       func(r *Receipt) { h := strings.Repeat("0", 64); r.Approval.GrantHash = &h },
	} {
		c := slices.Clone(chain)
		e := *c[3].Approval
		c[3].Approval = &e
		edit(&c[3])
		var ce *ChainError
		if err := Verify(c, keys); !errors.As(err, &ce) || ce.Index != 3 {
			t.Errorf("%s edited: %v", name, err)
		}
	}
	if _, err := NewApproval(chain[2], ApprovalEvidence{ApprovalID: "apr_1", Status: "approved"}, &chain[3], s, "x", time.Now()); err == nil {
		t.Error("an approval receipt without its resolver was built")
	}
	// A decision receipt's JSON has no kind/approval keys: receipts made
	// before approval receipts existed hash as they did.
	b, _ := json.Marshal(chain[0])
	if strings.Contains(string(b), `"kind"`) || strings.Contains(string(b), `"approval"`) {
		t.Errorf("decision receipt JSON changed: %s", b)
	}
}

// NewHashed with the decision's hash computed beforehand builds the same
// receipt as New, and refuses a hash that is not one.
func TestNewHashedMatchesNew(t *testing.T) {
	s, _ := signer(t, 1, "k")
	dec := decisions(t, 1)[0]
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	want, err := New(dec, nil, nil, s, "r0", at)
	if err != nil {
		t.Fatal(err)
	}
	dh, err := DecisionHash(dec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewHashed(dec, dh, nil, nil, s, "r0", at)
	if err != nil || got != want {
		t.Fatalf("NewHashed %+v %v, New %+v", got, err, want)
	}
	if _, err := NewHashed(dec, "sha256:"+dh, nil, nil, s, "r0", at); err == nil || !strings.Contains(err.Error(), "decision hash") {
		t.Fatalf("malformed decision hash accepted: %v", err)
	}
}
