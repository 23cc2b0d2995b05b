package httpapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The Enroll screen's "Sign this package": a key made through the API
// (private half 0600 in the config dir, never in a response) signs the
// package, and the package then enrolls verified with the public key.
func TestMakeKeySignAndEnroll(t *testing.T) {
	e := newEnv(t, echoRules)
	if keys := e.ok(200, "GET", "/api/keys?namespace=x.example", nil)["keys"]; keys == nil {
		t.Fatal("no keys must be an empty list, not null")
	}
	k := e.ok(201, "POST", "/api/keys", map[string]any{"namespace": "x.example"})
	pub, _ := k["public_key"].(string)
	if len(pub) != 64 || k["can_sign"] != true {
		t.Fatalf("key: %v", k)
	}
	keyFile := filepath.Join(e.cfgDir, "keys", "x.example.key")
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key %v: %v", st, err)
	}
	priv, _ := os.ReadFile(keyFile)
	for _, v := range k {
		if s, ok := v.(string); ok && strings.Contains(string(priv), s) {
			t.Fatalf("the private key was sent: %v", k)
		}
	}
	e.apiErr(409, "conflict", "namespace", "POST", "/api/keys", map[string]any{"namespace": "x.example"})
	e.apiErr(400, "invalid_field", "namespace", "POST", "/api/keys", map[string]any{"namespace": "wrk.example"})

	pkg := filepath.Join(t.TempDir(), "echo")
	unsignedPackage(t, pkg)
	rec := workerRecord(t, map[string]any{"worker_id": "x.example.echo", "worker_species_id": "wrk.example.echo", "capabilities": []any{"cap.example.echo"}})
	// Unsigned: refused, saying so.
	_, _, b := e.req("POST", "/api/workers/enroll", map[string]any{"record": rec, "package_path": pkg, "public_key_ed25519": pub})
	if !strings.Contains(string(b), "package unsigned") {
		t.Fatalf("unsigned: %s", b)
	}
	e.apiErr(400, "invalid_field", "namespace", "POST", "/api/keys/sign",
		map[string]any{"package_path": pkg, "worker_id": "x.other.echo", "worker_species_id": "wrk.example.echo"})
	sg := e.ok(200, "POST", "/api/keys/sign", map[string]any{"package_path": pkg, "worker_id": "x.example.echo", "worker_species_id": "wrk.example.echo"})
	if sg["public_key"] != pub || len(sg["package_hash"].(string)) != 64 {
		t.Fatalf("sign: %v", sg)
	}
	w := e.ok(201, "POST", "/api/workers/enroll", map[string]any{"record": rec, "package_path": pkg, "public_key_ed25519": pub})["worker"].(map[string]any)
	if w["attestation"].(map[string]any)["state"] != "verified" {
		t.Fatalf("worker: %v", w)
	}
	// The key is known for the namespace: from the key directory, once.
	keys := e.ok(200, "GET", "/api/keys?namespace=x.example.echo", nil)["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["public_key"] != pub || keys[0].(map[string]any)["source"] != "key directory" {
		t.Fatalf("known keys: %v", keys)
	}
}
