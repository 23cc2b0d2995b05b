package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallmonitor/core/attest"
	"hallmonitor/hallapi/workers"
	"hallmonitor/internal/testservers/halltest"
)

// TestOneEnrollmentRule: the same record (and package, and key) gets the
// same answer from the domain (workers.ValidateRecord), the CLI
// (`hallmonitor enroll`) and the API (POST /api/workers/enroll): enrolled,
// or refused naming the same field.
func TestOneEnrollmentRule(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("HALLMONITOR_CONFIG_DIR", filepath.Join(tmp, "cli-config"))
	t.Setenv("HALLMONITOR_DATA_DIR", filepath.Join(tmp, "cli-data"))
	t.Setenv("WCP_ATTEST_HMAC_KEY", "")

	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "echo-worker", "registry_record.json"))
	if err != nil {
		t.Fatal(err)
	}
	signed, unsigned := filepath.Join(tmp, "signed"), filepath.Join(tmp, "unsigned")
	copyDir(t, filepath.Join("..", "..", "examples", "echo-worker"), signed)
	copyDir(t, filepath.Join("..", "..", "examples", "echo-worker"), unsigned)
	pub, priv, _ := attest.GenerateKey(nil)
	m, err := attest.Build(os.DirFS(signed), attest.BuildOptions{WorkerID: "x.example.echo", WorkerSpeciesID: "wrk.example.echo",
		WorkerVersion: "1.0.0", Now: time.Now(), Signer: attest.Ed25519Signer{Key: priv}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(signed, attest.ManifestName), m.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	pubHex := attest.EncodePublicKey(pub)
	otherPub, _, _ := attest.GenerateKey(nil)

	edit := func(f func(m map[string]any)) json.RawMessage {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(example))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	rehash := func(m map[string]any) {
		raw, _ := json.Marshal(m)
		var g map[string]any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		d.Decode(&g)
		h, err := workers.RecordArtifactHash(g)
		if err != nil {
			t.Fatal(err)
		}
		m["artifact_hash"] = h
	}
	cases := []struct {
		name      string
		record    json.RawMessage
		pkg, key  string
		wantField string // "" = enrolled
	}{
		{"shipped example record", example, "", "", ""},
		{"shipped example, signed package and its key", example, signed, pubHex, ""},
		{"shipped example, unsigned package", example, unsigned, pubHex, "package_path"},
		{"signed package, wrong key", example, signed, attest.EncodePublicKey(otherPub), "package_path"},
		{"signed package, no key", example, signed, "", "package_path"},
		{"no artifact_hash (a warning)", edit(func(m map[string]any) { delete(m, "artifact_hash") }), "", "", ""},
		{"edited after hashing", edit(func(m map[string]any) { m["risk_tier"] = "high" }), "", "", "record.artifact_hash"},
		{"no blast_score", edit(func(m map[string]any) { delete(m, "blast_score"); rehash(m) }), "", "", "record.blast_score"},
		{"no guarantee", edit(func(m map[string]any) { delete(m, "guarantee"); rehash(m) }), "", "", "record.guarantee"},
		{"bad species", edit(func(m map[string]any) { m["worker_species_id"] = "echo"; rehash(m) }), "", "", "record.worker_species_id"},
		{"key without package", example, "", pubHex, "public_key"},
	}

	api := startHall(t)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Domain.
			v, err := workers.ValidateRecord(context.Background(), workers.EnrollRequest{Record: c.record, PackagePath: c.pkg, PublicKeyEd25519: c.key})
			if err != nil {
				t.Fatal(err)
			}
			domainField := ""
			if !v.Valid() {
				domainField = (&workers.RefusedError{Validation: v}).Field()
			}
			// CLI.
			recFile := filepath.Join(tmp, fmt.Sprintf("record-%d.json", i))
			os.WriteFile(recFile, c.record, 0o644)
			args := []string{"--record", recFile}
			if c.pkg != "" {
				args = append(args, "--package", c.pkg)
			}
			if c.key != "" {
				keyFile := filepath.Join(tmp, fmt.Sprintf("key-%d.pub", i))
				os.WriteFile(keyFile, []byte(c.key+"\n"), 0o644)
				args = append(args, "--public-key", keyFile)
			}
			code, _, errs := run(t, runEnroll, args...)
			cliField := ""
			if code != 0 {
				cliField = "(not refused by a check)"
				if _, after, ok := strings.Cut(errs, "enroll: refused: "); ok {
					cliField, _, _ = strings.Cut(after, ":")
				}
			}
			// API.
			status, apiField := api.enroll(t, c.record, c.pkg, c.key)

			if domainField != c.wantField || cliField != c.wantField || apiField != c.wantField {
				t.Fatalf("want %q; domain %q, CLI %q (exit %d: %s), API %q (HTTP %d)", c.wantField, domainField, cliField, code, errs, apiField, status)
			}
			if (c.wantField == "") != (status/100 == 2) {
				t.Fatalf("API status %d", status)
			}
		})
	}
}

type hallUnderTest struct {
	base, token string
}

// startHall serves a real Hall API (its own SQLite file and config dir) on a loopback port.
func startHall(t *testing.T) hallUnderTest {
	t.Helper()
	h := halltest.Start(t, halltest.Options{})
	return hallUnderTest{base: h.Base, token: string(h.Server.AdminToken())}
}

// enroll posts to /api/workers/enroll and returns the status and the refused field.
func (h hallUnderTest) enroll(t *testing.T, record json.RawMessage, pkg, key string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"record": record, "package_path": pkg, "public_key_ed25519": key})
	req, _ := http.NewRequest("POST", h.base+"/api/workers/enroll", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error struct {
			Field string `json:"field"`
		} `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Error.Field
}
