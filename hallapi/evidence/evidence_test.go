package evidence_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coreevidence "hallmonitor/core/evidence"
	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/decide"
	"hallmonitor/hallapi/evidence"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
)

func TestEvidenceEndpoint(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "data", "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, _ := config.Defaults(filepath.Join(dir, "config"))
	cfg.DataDir = filepath.Join(dir, "data")
	dec, err := decide.New(decide.Options{Store: st, KeyDir: cfg.DataDir, RulesPath: cfg.RulesPath})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Options{Store: st, ConfigDir: filepath.Join(dir, "config"), Config: cfg, Decide: dec, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	key, err := config.LoadOrCreateSigningKey(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	evidence.Mount(srv, key)
	keyID, pub := dec.SigningPublicKey()
	if coreevidence.KeyID(pub) != keyID {
		t.Fatalf("core/evidence names the key %s, the Hall %s", coreevidence.KeyID(pub), keyID)
	}
	for _, tenant := range []string{"t1", "t2", "t1"} {
		in := `{"capability_id":"cap.x","env":"dev","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"` + tenant + `","correlation_id":"c"}`
		if _, err := dec.Route(context.Background(), []byte(in), false, "route"); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()
	get := func(query string) (int, http.Header, []byte) {
		req, _ := http.NewRequest("GET", base+"/api/evidence"+query, nil)
		req.Header.Set("Authorization", "Bearer "+string(srv.AdminToken()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	today := time.Now().UTC().Format(time.DateOnly)
	code, hdr, b := get("?from=" + today + "&to=" + today)
	if code != 200 || !strings.Contains(hdr.Get("Content-Disposition"), "attachment") || hdr.Get("X-Evidence-Receipts") != "3" {
		t.Fatalf("GET /api/evidence: %d %v %s", code, hdr, b)
	}
	rep := coreevidence.Verify(b, pub)
	if !rep.OK || len(rep.Chains) != 2 || rep.Chains[0].TenantID != "t1" || rep.Chains[0].Receipts != 2 {
		t.Fatalf("the downloaded bundle: %+v", rep)
	}
	code, _, b = get("?from=" + today + "&to=" + today + "&tenant=t2")
	if rep := coreevidence.Verify(b, pub); code != 200 || !rep.OK || len(rep.Chains) != 1 || rep.Tenant != "t2" {
		t.Fatalf("one tenant: %d %+v", code, rep)
	}
	for _, tc := range []struct {
		query string
		code  int
		field string
	}{
		{"?to=" + today, 400, "from"},
		{"?from=" + today, 400, "to"},
		{"?from=soon&to=" + today, 400, "from"},
		{"?from=2026-12-05&to=2026-12-01", 400, "to"},
		{"?from=2001-01-01&to=2001-01-02", 404, ""},
	} {
		code, _, b := get(tc.query)
		var e struct{ Error apierr.Error }
		json.Unmarshal(b, &e)
		if code != tc.code || e.Error.Field != tc.field {
			t.Errorf("%s: %d %s, want %d field %q", tc.query, code, b, tc.code, tc.field)
		}
	}
}
