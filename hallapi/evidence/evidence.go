// Package evidence exports a Hall's evidence bundles (core/evidence) from
// its store: the receipts issued in a time range with the decisions they
// sign, the receipt just before the range and the chain's head, signed
// with the Hall's receipt key. `hallmonitor export evidence` and
// GET /api/evidence (the Feed screen's "Export evidence") use it.
package evidence

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	coreevidence "hallmonitor/core/evidence"
	"hallmonitor/core/receipt"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
)

// Source is the store's view of the receipt chains (*store.Store is one).
type Source interface {
	ReceiptHeads(ctx context.Context) (map[string]store.ReceiptHead, error)
	ReceiptChainEntries(ctx context.Context, tenant string) ([]store.ChainEntry, error)
}

// ErrEmpty is returned when no receipt was issued in the range.
var ErrEmpty = errors.New("no receipts were issued in that time range (and tenant): widen the range")

// ErrBackwards is a range whose end is before its start.
var ErrBackwards = errors.New("before it starts")

// Range selects what a bundle holds.
type Range struct {
	From, To time.Time // inclusive, on each receipt's issued_at
	Tenant   string    // "" = every tenant
}

// Summary says what a bundle holds.
type Summary struct {
	Receipts int      `json:"receipts"`
	Tenants  []string `json:"tenants"`
	Bytes    int      `json:"bytes"`
}

// Export builds the signed bundle of r.
func Export(ctx context.Context, src Source, key ed25519.PrivateKey, r Range, now time.Time) ([]byte, Summary, error) {
	if r.To.Before(r.From) {
		return nil, Summary{}, fmt.Errorf("the range ends (%s) %w (%s)", r.To.Format(time.RFC3339), ErrBackwards, r.From.Format(time.RFC3339))
	}
	heads, err := src.ReceiptHeads(ctx)
	if err != nil {
		return nil, Summary{}, fmt.Errorf("receipt chain heads: %w", err)
	}
	tenants := make([]string, 0, len(heads))
	for t := range heads {
		if r.Tenant == "" || t == r.Tenant {
			tenants = append(tenants, t)
		}
	}
	sort.Strings(tenants)
	p := coreevidence.Predicate{From: r.From.UTC().Format(time.RFC3339Nano), To: r.To.UTC().Format(time.RFC3339Nano),
		Tenant: r.Tenant, GeneratedAt: now.UTC().Format(time.RFC3339Nano), Chains: []coreevidence.Chain{}}
	sum := Summary{Tenants: []string{}}
	for _, t := range tenants {
		c, err := chain(ctx, src, t, r)
		if err != nil {
			return nil, Summary{}, err
		}
		if c == nil {
			continue
		}
		p.Chains = append(p.Chains, *c)
		sum.Receipts += len(c.Entries)
		sum.Tenants = append(sum.Tenants, t)
	}
	if sum.Receipts == 0 {
		return nil, Summary{}, ErrEmpty
	}
	b, err := coreevidence.Build(p, key)
	if err != nil {
		return nil, Summary{}, err
	}
	sum.Bytes = len(b)
	return b, sum, nil
}

// chain is tenant t's receipts issued in r (contiguous in the chain), or nil when none was.
func chain(ctx context.Context, src Source, t string, r Range) (*coreevidence.Chain, error) {
	entries, err := src.ReceiptChainEntries(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("receipts of tenant %q: %w", t, err)
	}
	rs := make([]receipt.Receipt, len(entries))
	first, last := -1, -1
	for i, e := range entries {
		if err := json.Unmarshal(e.Receipt, &rs[i]); err != nil {
			return nil, fmt.Errorf("receipt %d of tenant %q is not valid JSON: %w", i, t, err)
		}
		at, err := time.Parse(time.RFC3339Nano, rs[i].IssuedAt)
		if err != nil {
			return nil, fmt.Errorf("receipt %s: issued_at %q: %w", rs[i].ReceiptID, rs[i].IssuedAt, err)
		}
		if !at.Before(r.From) && !at.After(r.To) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil, nil
	}
	c := &coreevidence.Chain{TenantID: t, Head: rs[len(rs)-1], HeadLength: len(rs)}
	if first > 0 {
		c.Before = &rs[first-1]
	}
	for i := first; i <= last; i++ {
		c.Entries = append(c.Entries, coreevidence.Entry{Receipt: rs[i], Decision: entries[i].Decision})
	}
	return c, nil
}

// ParseTime reads a range bound: an RFC 3339 time, or a date (YYYY-MM-DD,
// UTC; as the end of a range, the end of that day).
func ParseTime(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (2026-12-04T10:00:00Z) or a date (2026-12-04)", s)
	}
	if end {
		d = d.Add(24*time.Hour - time.Nanosecond)
	}
	return d, nil
}

// Mount serves GET /api/evidence?from=&to=[&tenant=] on srv (token access):
// the bundle as a download.
func Mount(srv *httpapi.Server, key ed25519.PrivateKey) {
	srv.Handle("GET /api/evidence", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		var rg Range
		for _, f := range []struct {
			name string
			dst  *time.Time
			end  bool
		}{{"from", &rg.From, false}, {"to", &rg.To, true}} {
			v := q.Get(f.name)
			if v == "" {
				httpapi.WriteError(w, http.StatusBadRequest, "missing_field", f.name+" is required: the range of receipts to export, e.g. ?from=2026-12-01&to=2026-12-04", f.name)
				return
			}
			t, err := ParseTime(v, f.end)
			if err != nil {
				httpapi.WriteError(w, http.StatusBadRequest, "invalid_field", f.name+": "+err.Error(), f.name)
				return
			}
			*f.dst = t
		}
		rg.Tenant = q.Get("tenant")
		b, sum, err := Export(req.Context(), srv.Store(), key, rg, time.Now())
		switch {
		case errors.Is(err, ErrEmpty):
			httpapi.WriteError(w, http.StatusNotFound, "not_found", err.Error(), "")
			return
		case errors.Is(err, ErrBackwards):
			httpapi.WriteError(w, http.StatusBadRequest, "invalid_field", err.Error(), "to")
			return
		case err != nil:
			srv.Logger().Error("export evidence", "err", err)
			httpapi.WriteError(w, http.StatusInternalServerError, "internal", "the bundle could not be built: "+err.Error(), "")
			return
		}
		name := fmt.Sprintf("hall-evidence-%s-%s.dsse.json", rg.From.UTC().Format("20060102T150405Z"), rg.To.UTC().Format("20060102T150405Z"))
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Evidence-Receipts", fmt.Sprint(sum.Receipts))
		w.Write(b)
	}), httpapi.Person)
}
