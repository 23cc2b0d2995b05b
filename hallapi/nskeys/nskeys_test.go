package nskeys

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"hallmonitor/core/attest"
	"hallmonitor/hallapi/store"
)

func TestGenerateAndKnown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k, err := Generate(dir, "x.acme", false)
	if err != nil || !k.CanSign || len(k.PublicKey) != 64 {
		t.Fatal(k, err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "x.acme.key")); st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v", st.Mode().Perm())
	}
	if _, err := Generate(dir, "x.acme", false); !errors.Is(err, ErrExists) {
		t.Fatalf("second keygen: %v", err)
	}
	if _, err := Generate(dir, "wrk.acme", false); err == nil {
		t.Fatal("a species id is not a namespace")
	}
	// A public key alone (copied from a colleague) is known but cannot sign.
	other, _, _ := attest.GenerateKey(nil)
	os.WriteFile(filepath.Join(dir, "org.other.pub"), []byte(attest.EncodePublicKey(other)+"\n"), 0o644)
	rec, _ := json.Marshal(map[string]any{"attestation": map[string]any{"public_key_ed25519": k.PublicKey}})
	third, _, _ := attest.GenerateKey(nil)
	rec3, _ := json.Marshal(map[string]any{"attestation": map[string]any{"public_key_ed25519": attest.EncodePublicKey(third)}})
	enrolled := []store.Worker{{WorkerID: "x.acme.a", Record: rec}, {WorkerID: "x.acme.b", Record: rec3}, {WorkerID: "org.zed.c", Record: rec3}}
	cases := []struct {
		ns   string
		want []Key
	}{
		{"x.acme", []Key{{Namespace: "x.acme", PublicKey: k.PublicKey, Source: "key directory", CanSign: true},
			{Namespace: "x.acme", PublicKey: attest.EncodePublicKey(third), Source: "enrolled worker x.acme.b"}}},
		{"org.other", []Key{{Namespace: "org.other", PublicKey: attest.EncodePublicKey(other), Source: "key directory"}}},
		{"x.nobody", []Key{}},
	}
	for _, c := range cases {
		got, err := Known(dir, c.ns, enrolled)
		if err != nil || len(got) != len(c.want) {
			t.Fatalf("%s: %+v %v", c.ns, got, err)
		}
		for i := range got {
			got[i].Path = ""
			if got[i] != c.want[i] {
				t.Fatalf("%s[%d]: %+v, want %+v", c.ns, i, got[i], c.want[i])
			}
		}
	}
	if got, err := Known(filepath.Join(t.TempDir(), "none"), "", nil); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no key directory: %v %v", got, err)
	}
}

func TestSignedManifestVerifies(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	pkg := filepath.Join(dir, "pkg")
	os.MkdirAll(filepath.Join(pkg, "code"), 0o755)
	os.WriteFile(filepath.Join(pkg, "code", "run"), []byte("#!/bin/sh\necho '{}'\n"), 0o755)
	os.WriteFile(filepath.Join(pkg, "requirements.lock"), nil, 0o644)
	os.WriteFile(filepath.Join(pkg, "config.schema.json"), []byte(`{"type":"object"}`), 0o644)
	if _, _, err := LoadSigner(keys, "x.acme"); err == nil {
		t.Fatal("no key yet must be an error")
	}
	k, _ := Generate(keys, "x.acme", false)
	signer, key, err := LoadSigner(keys, "x.acme")
	if err != nil || key.PublicKey != k.PublicKey {
		t.Fatal(key, err)
	}
	m, path, err := WriteManifest(pkg, BuildOptions{WorkerID: "x.acme.w", WorkerSpeciesID: "wrk.acme.w", WorkerVersion: "1", Signer: signer})
	if err != nil || path != filepath.Join(pkg, attest.ManifestName) {
		t.Fatal(path, err)
	}
	pub, _ := attest.ParsePublicKey(k.PublicKey)
	r := attest.Verify(os.DirFS(pkg), attest.VerifyOptions{WorkerID: "x.acme.w", WorkerSpeciesID: "wrk.acme.w", Trust: attest.Trust{Ed25519: pub}})
	if !r.OK || r.PackageHash != m.PackageHash {
		t.Fatalf("verify: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(pkg, "manifest.tmp")); err == nil {
		t.Fatal("manifest.tmp left behind")
	}
}
