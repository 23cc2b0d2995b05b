package evidence

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hallmonitor/core"
	"hallmonitor/core/receipt"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func key(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(slices.Repeat([]byte{seed}, ed25519.SeedSize))
}

// chain decides n decisions and signs their receipts, one a second from t0.
func chain(t testing.TB, k ed25519.PrivateKey, n int) []Entry {
	t.Helper()
	rs, err := core.ParseRules([]byte(`[{"rule_id":"r","decision":{"candidate_workers_ranked":[{"worker_species_id":"w"}]}}]`))
	if err != nil {
		t.Fatal(err)
	}
	reg := core.NewMemRegistry()
	reg.SetWorkersAvailable([]string{"w"})
	s := receipt.Signer{KeyID: KeyID(k.Public().(ed25519.PublicKey)), Key: k}
	var out []Entry
	var prev *receipt.Receipt
	for i := range n {
		in := core.RouteInput{CapabilityID: "cap.x", Env: "dev", DataLabel: "PUBLIC", TenantRisk: "low", QoSClass: "P2",
			TenantID: "tenant-a", CorrelationID: fmt.Sprint("c", i)}
		d := core.Decide(in, rs, reg, core.Options{NewID: func() string { return fmt.Sprint("d", i) },
			Now: func() time.Time { return t0.Add(time.Duration(i) * time.Second) }})
		r, err := receipt.New(d, nil, prev, s, fmt.Sprint("rcpt-", i), t0.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(d)
		out = append(out, Entry{Receipt: r, Decision: raw})
		prev = &out[len(out)-1].Receipt
	}
	return out
}

// bundle holds receipts 1..3 of a 5-receipt chain: receipt 0 is the anchor before, receipt 4 the head.
func bundle(t testing.TB, k ed25519.PrivateKey) []byte {
	return bundleOf(t, k, 5)
}

// bundleOf holds receipts 1..n-2 of an n-receipt chain, with receipt 0 before and receipt n-1 the head.
func bundleOf(t testing.TB, k ed25519.PrivateKey, n int) []byte {
	t.Helper()
	es := chain(t, k, n)
	p := Predicate{From: t0.Add(time.Second).Format(time.RFC3339), To: t0.Add(time.Duration(n-2) * time.Second).Format(time.RFC3339),
		GeneratedAt: t0.Add(time.Hour).Format(time.RFC3339),
		Chains:      []Chain{{TenantID: "tenant-a", Before: &es[0].Receipt, Entries: es[1 : n-1], Head: es[n-1].Receipt, HeadLength: n}}}
	b, err := Build(p, k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyGoodBundle(t *testing.T) {
	k := key(1)
	b := bundle(t, k)
	rep := Verify(b, k.Public().(ed25519.PublicKey))
	if !rep.OK || !rep.Pinned || len(rep.Chains) != 1 || rep.Chains[0].Receipts != 3 || rep.Chains[0].HeadLength != 5 {
		t.Fatalf("report: %+v", rep)
	}
	if rep := Verify(b, nil); !rep.OK || rep.Pinned {
		t.Fatalf("unpinned: %+v", rep)
	}
	if rep := Verify(b, key(2).Public().(ed25519.PublicKey)); rep.OK || !strings.Contains(rep.Problems[0].Where, "hall_public_key") {
		t.Fatalf("another Hall's key pinned: %+v", rep)
	}
}

// TestEveryByteTampered flips each byte of a bundle (anchor, two receipts,
// head) in turn: every change is caught, and a problem's byte range holds
// the changed byte (a JSON syntax error can only be seen at or after it).
// Outside the base64 payload a second flip changes letter case, which
// encoding/json alone would accept in field names.
func TestEveryByteTampered(t *testing.T) {
	k := key(1)
	pub := k.Public().(ed25519.PublicKey)
	b := bundleOf(t, k, 4)
	payload := strings.Index(string(b), `"payload":"`) + len(`"payload":"`)
	payloadEnd := payload + strings.IndexByte(string(b[payload:]), '"')
	for i := range b {
		flips := []byte{0x01}
		if i < payload || i >= payloadEnd {
			flips = append(flips, 0x20)
		}
		for _, flip := range flips {
			tb := slices.Clone(b)
			tb[i] ^= flip
			rep := Verify(tb, pub)
			if rep.OK {
				t.Fatalf("byte %d ^ %#x (%q -> %q) not detected", i, flip, b[i], tb[i])
			}
			found := false
			for _, p := range rep.Problems {
				found = found || (p.Offset <= i && i <= p.End) || (strings.Contains(p.Message, "(JSON syntax") && p.End >= i)
			}
			if !found {
				t.Fatalf("byte %d ^ %#x (%q -> %q): no problem holds its position: %v", i, flip, b[i], tb[i], rep.Problems)
			}
		}
	}
}

// edit changes the statement inside a bundle and re-signs it with k, as
// someone holding the Hall's key could; the receipts still give it away.
func edit(t *testing.T, b []byte, k ed25519.PrivateKey, f func(*Statement)) []byte {
	t.Helper()
	var env Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(env.Payload)
	var st Statement
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	f(&st)
	out, err := Build(st.Predicate, k)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResignedEditsNamed(t *testing.T) {
	k := key(1)
	pub := k.Public().(ed25519.PublicKey)
	b := bundle(t, k)
	for _, tc := range []struct {
		name, where string
		f           func(*Statement)
	}{
		{"decision edited", "statement.predicate.chains[0].entries[1].decision.capability_id", func(s *Statement) {
			e := &s.Predicate.Chains[0].Entries[1]
			e.Decision = json.RawMessage(strings.Replace(string(e.Decision), `"capability_id":"cap.x"`, `"capability_id":"cap.y"`, 1))
		}},
		{"receipt edited", "statement.predicate.chains[0].entries[0].receipt", func(s *Statement) {
			s.Predicate.Chains[0].Entries[0].Receipt.MatchedRuleID = "other"
		}},
		{"receipt removed", "statement.predicate.chains[0].entries[1].receipt.prev_receipt_hash", func(s *Statement) {
			c := &s.Predicate.Chains[0]
			c.Entries = slices.Delete(c.Entries, 1, 2)
		}},
		{"anchor dropped", "statement.predicate.chains[0].entries[0].receipt.prev_receipt_hash", func(s *Statement) {
			s.Predicate.Chains[0].Before = nil
		}},
		{"head rolled back", "statement.predicate.chains[0].head", func(s *Statement) {
			c := &s.Predicate.Chains[0]
			c.Head, c.HeadLength = c.Entries[1].Receipt, 3
		}},
		{"range widened", "statement.predicate.chains[0].entries[2].receipt.issued_at", func(s *Statement) {
			s.Predicate.To = t0.Add(2 * time.Second).Format(time.RFC3339)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Verify(edit(t, b, k, tc.f), pub)
			if rep.OK {
				t.Fatal("not detected")
			}
			var wheres []string
			for _, p := range rep.Problems {
				wheres = append(wheres, p.Where)
				if p.Where == tc.where && p.Offset < 0 {
					t.Fatalf("%s has no file position", p.Where)
				}
			}
			if !slices.Contains(wheres, tc.where) {
				t.Fatalf("problems at %v, want one at %s: %v", wheres, tc.where, rep.Problems)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	k := key(1)
	b := bundle(f, k)
	f.Add(b)
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}` + "\n"))
	f.Add([]byte("{}"))
	pub := k.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := Verify(data, pub)
		if rep.OK && !slices.Equal(data, b) {
			// Only the Hall's own (deterministic) bundle verifies with its pinned key.
			t.Fatalf("a different file verified: %q", data)
		}
		for _, p := range rep.Problems {
			if p.Offset > p.End || p.End >= max(len(data), 1)+4 {
				t.Fatalf("problem range %d-%d outside the %d-byte file: %v", p.Offset, p.End, len(data), p)
			}
		}
	})
}
