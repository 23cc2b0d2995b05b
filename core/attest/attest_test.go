package attest

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// goldenPackage is a fixed package; goldenHash was computed by running the
// reference algorithm (Python pathlib rglob + sorted Path objects) over the
// same files written to disk.
func goldenPackage() fstest.MapFS {
	return fstest.MapFS{
		"a/b.txt":                        {Data: []byte("hello\n")},
		"a-b.txt":                        {Data: []byte("dash")},
		"a.txt":                          {Data: []byte("dot")},
		"code/run.sh":                    {Data: []byte("#!/bin/sh\ncat\n"), Mode: 0o755},
		"code/__pycache__/m.cpython.pyc": {Data: []byte("x")},
		"code/mod.pyc":                   {Data: []byte("y")},
		"manifest.json":                  {Data: []byte("{}")},
		"sub/manifest.json":              {Data: []byte("{}")},
		".git/HEAD":                      {Data: []byte("ref")},
		"empty":                          {Data: []byte{}},
		"sub/café.txt":                   {Data: []byte("café")},
		"Z.txt":                          {Data: []byte("Z")},
		".hidden":                        {Data: []byte(".h")},
	}
}

const goldenHash = "0c527a24363108a1c226fe1e573fe6724aff42fe1830a10c0e82a3bf7960a61e"

func TestPackageHashGolden(t *testing.T) {
	got, err := PackageHash(goldenPackage())
	if err != nil {
		t.Fatal(err)
	}
	if got != goldenHash {
		t.Fatalf("PackageHash = %s, want %s", got, goldenHash)
	}
	files, err := PackageFiles(goldenPackage())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".hidden", "Z.txt", "a/b.txt", "a-b.txt", "a.txt", "code/run.sh", "empty", "sub/café.txt"}
	if strings.Join(files, "|") != strings.Join(want, "|") {
		t.Fatalf("files = %q, want %q", files, want)
	}
}

func TestPackageHashOnDiskMatchesMapFS(t *testing.T) {
	dir := t.TempDir()
	for name, f := range goldenPackage() {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A symlinked directory is not descended; a symlinked file is hashed
	// through its target.
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	got, err := PackageHash(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got != goldenHash {
		t.Fatalf("on-disk hash = %s, want %s", got, goldenHash)
	}
	if err := os.Symlink(filepath.Join(dir, "a.txt"), filepath.Join(dir, "zlink")); err != nil {
		t.Fatal(err)
	}
	got2, _ := PackageHash(os.DirFS(dir))
	if got2 == goldenHash {
		t.Fatal("a symlinked file must be part of the hash")
	}
}

func TestPackageHashEmptyAndMissing(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"empty":         {},
		"only excluded": {"manifest.json": {Data: []byte("{}")}, "x.pyc": {Data: []byte("1")}},
	} {
		got, err := PackageHash(fsys)
		if err != nil || got != EmptyHash {
			t.Errorf("%s: got %q, %v; want EmptyHash", name, got, err)
		}
	}
	got, err := PackageHash(os.DirFS(filepath.Join(t.TempDir(), "nope")))
	if err != nil || got != EmptyHash {
		t.Errorf("missing root: got %q, %v; want EmptyHash", got, err)
	}
}

func TestPackageHashDetectsEveryChange(t *testing.T) {
	base := goldenPackage()
	mutations := map[string]func(fstest.MapFS){
		"content":    func(m fstest.MapFS) { m["a.txt"] = &fstest.MapFile{Data: []byte("dox")} },
		"new file":   func(m fstest.MapFS) { m["new"] = &fstest.MapFile{} },
		"rename":     func(m fstest.MapFS) { m["a2.txt"] = m["a.txt"]; delete(m, "a.txt") },
		"delete":     func(m fstest.MapFS) { delete(m, "empty") },
		"whitespace": func(m fstest.MapFS) { m["code/run.sh"] = &fstest.MapFile{Data: []byte("#!/bin/sh\ncat \n")} },
	}
	for name, mut := range mutations {
		m := fstest.MapFS{}
		for k, v := range base {
			m[k] = v
		}
		mut(m)
		got, err := PackageHash(m)
		if err != nil {
			t.Fatal(err)
		}
		if got == goldenHash {
			t.Errorf("%s: hash unchanged", name)
		}
	}
}

// The reference manifest was written by Python json.dumps(indent=2,
// sort_keys=True) with an HMAC signature over the reference payload.
func TestManifestReferenceCompatibility(t *testing.T) {
	golden, err := os.ReadFile("testdata/reference_manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Encode(), golden) {
		t.Fatalf("Encode is not byte-identical to the reference:\n%s\nwant\n%s", m.Encode(), golden)
	}
	wantPayload := `{"build_source":"local","built_at_utc":"2026-11-25T07:00:00Z","package_hash":"` + goldenHash +
		`","schema_version":"awp.v1","worker_id":"x.alice.summarizer","worker_species_id":"wrk.doc.summarizer","worker_version":"1.0.0-\u00e9\ud83d\ude00\"\\/\u007f\n"}`
	if got := string(m.SigningPayload()); got != wantPayload {
		t.Fatalf("payload\n%s\nwant\n%s", got, wantPayload)
	}
	if m.SignatureHMAC != "55c8b19972854eedaabaebe205db97b2d2f2c34d3cb4fdc4e832586622dc0a62" {
		t.Fatal("golden signature not parsed")
	}
	if got := hmacHex([]byte("s3cret"), m.SigningPayload()); got != m.SignatureHMAC {
		t.Fatalf("HMAC = %s, want the reference's %s", got, m.SignatureHMAC)
	}
	r := Verify(goldenPackage(), VerifyOptions{
		WorkerID: "x.alice.summarizer", WorkerSpeciesID: "wrk.doc.summarizer",
		Trust: Trust{HMACSecret: []byte("s3cret")}, Manifest: golden,
	})
	if !r.OK || r.Scheme != SchemeHMAC || r.Namespace != "x.alice" {
		t.Fatalf("reference manifest must verify with HMAC: %+v", r)
	}
	// A missing signed key is signed as null.
	delete(m.present, "build_source")
	if !strings.HasPrefix(string(m.SigningPayload()), `{"build_source":null,`) {
		t.Fatalf("absent key must be null: %s", m.SigningPayload())
	}
}

func TestNamespace(t *testing.T) {
	ok := map[string]string{"x.alice.sum": "x.alice", "org.acme.a.b": "org.acme", "x.alice": "x.alice"}
	for in, want := range ok {
		if got, err := Namespace(in); err != nil || got != want {
			t.Errorf("Namespace(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"wrk.doc.sum", "org", "x.", "", "X.alice.a", "xx.alice"} {
		if _, err := Namespace(in); err == nil {
			t.Errorf("Namespace(%q) must fail", in)
		}
	}
}

func build(t *testing.T, fsys fstest.MapFS, s Signer) []byte {
	t.Helper()
	m, err := Build(fsys, BuildOptions{WorkerID: "org.acme.sum", WorkerSpeciesID: "wrk.doc.sum", WorkerVersion: "1.0.0",
		Now: time.Date(2026, 11, 25, 7, 0, 0, 999, time.UTC), Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	return m.Encode()
}

func TestVerifyDenyCodes(t *testing.T) {
	pub, priv, err := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	pkg := goldenPackage()
	signed := build(t, pkg, Ed25519Signer{Key: priv})
	hmacSigned := build(t, pkg, HMACSigner{Secret: []byte("k")})
	tampered := goldenPackage()
	tampered["code/run.sh"] = &fstest.MapFile{Data: []byte("#!/bin/sh\nrm -rf /\n")}
	withManifest := func(fsys fstest.MapFS, m []byte) fstest.MapFS {
		c := fstest.MapFS{}
		for k, v := range fsys {
			c[k] = v
		}
		c[ManifestName] = &fstest.MapFile{Data: m}
		return c
	}
	trust := Trust{Ed25519: pub}
	cases := []struct {
		name     string
		fsys     fstest.MapFS
		worker   string
		species  string
		trust    Trust
		wantCode string
	}{
		{"ok ed25519", withManifest(pkg, signed), "org.acme.sum", "wrk.doc.sum", trust, ""},
		{"ok hmac", withManifest(pkg, hmacSigned), "org.acme.sum", "wrk.doc.sum", Trust{HMACSecret: []byte("k")}, ""},
		{"missing", func() fstest.MapFS { c := withManifest(pkg, nil); delete(c, ManifestName); return c }(), "org.acme.sum", "wrk.doc.sum", trust, CodeManifestMissing},
		{"invalid json", withManifest(pkg, []byte("{nope")), "org.acme.sum", "wrk.doc.sum", trust, CodeManifestMissing},
		{"not object", withManifest(pkg, []byte("[1]")), "org.acme.sum", "wrk.doc.sum", trust, CodeManifestMissing},
		{"id mismatch", withManifest(pkg, signed), "org.acme.other", "wrk.doc.sum", trust, CodeManifestIDMismatch},
		{"species mismatch", withManifest(pkg, signed), "org.acme.sum", "wrk.doc.other", trust, CodeManifestIDMismatch},
		{"tampered", withManifest(tampered, signed), "org.acme.sum", "wrk.doc.sum", trust, CodeHashMismatch},
		{"no key", withManifest(pkg, signed), "org.acme.sum", "wrk.doc.sum", Trust{}, CodeSignatureMissing},
		{"hmac without secret", withManifest(pkg, hmacSigned), "org.acme.sum", "wrk.doc.sum", trust, CodeSignatureMissing},
		{"wrong key", withManifest(pkg, signed), "org.acme.sum", "wrk.doc.sum", Trust{Ed25519: otherPub}, CodeSigInvalid},
		{"wrong secret", withManifest(pkg, hmacSigned), "org.acme.sum", "wrk.doc.sum", Trust{HMACSecret: []byte("j")}, CodeSigInvalid},
		{"forged field", withManifest(pkg, bytes.Replace(signed, []byte(`"1.0.0"`), []byte(`"1.0.1"`), 1)), "org.acme.sum", "wrk.doc.sum", trust, CodeSigInvalid},
	}
	for _, c := range cases {
		r := Verify(c.fsys, VerifyOptions{WorkerID: c.worker, WorkerSpeciesID: c.species, Trust: c.trust})
		if r.Code != c.wantCode || r.OK != (c.wantCode == "") {
			t.Errorf("%s: got %q ok=%v (%s), want %q", c.name, r.Code, r.OK, r.Message, c.wantCode)
		}
		if c.wantCode != "" && r.Message == "" {
			t.Errorf("%s: deny without a message", c.name)
		}
	}
	// Namespace is checked from the worker_id even when ids match.
	bad, err := Build(pkg, BuildOptions{WorkerID: "wrk.acme.sum", WorkerSpeciesID: "s", WorkerVersion: "1", Signer: HMACSigner{Secret: []byte("k")}})
	if err == nil || bad != nil {
		t.Fatal("Build must refuse a worker_id without namespace")
	}
	m := &Manifest{SchemaVersion: SchemaVersion, WorkerID: "wrk.acme.sum", WorkerSpeciesID: "s", PackageHash: goldenHash}
	r := Verify(withManifest(pkg, m.Encode()), VerifyOptions{WorkerID: "wrk.acme.sum", WorkerSpeciesID: "s", Trust: trust})
	if r.Code != CodeNamespaceInvalid {
		t.Fatalf("got %q, want %s", r.Code, CodeNamespaceInvalid)
	}
}

func TestBuildManifestFields(t *testing.T) {
	_, priv, _ := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{1}, 64)))
	m, err := ParseManifest(build(t, goldenPackage(), Ed25519Signer{Key: priv}))
	if err != nil {
		t.Fatal(err)
	}
	if m.PackageHash != goldenHash || m.BuiltAtUTC != "2026-11-25T07:00:00Z" || m.AttestedAtUTC != m.BuiltAtUTC ||
		m.BuildSource != "local" || m.SchemaVersion != "awp.v1" ||
		m.TrustStatement != "Package attested by namespace org.acme at 2026-11-25T07:00:00Z; package hash sha256:"+goldenHash+"." {
		t.Fatalf("unexpected manifest: %+v", m)
	}
	if !ed25519.Verify(priv.Public().(ed25519.PublicKey), m.SigningPayload(), mustHex(t, m.SignatureEd25519)) {
		t.Fatal("signature does not verify")
	}
}

func TestKeyEncoding(t *testing.T) {
	pub, priv, _ := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{3}, 64)))
	p2, err := ParsePrivateKey(EncodePrivateKey(priv))
	if err != nil || !p2.Equal(priv) {
		t.Fatal("private key round trip failed", err)
	}
	pub2, err := ParsePublicKey(EncodePublicKey(pub) + "\n")
	if err != nil || !pub2.Equal(pub) {
		t.Fatal("public key round trip failed", err)
	}
	if _, err := ParsePublicKey("abcd"); err == nil {
		t.Fatal("short key must fail")
	}
	if _, err := ParsePrivateKey("zz"); err == nil {
		t.Fatal("bad hex must fail")
	}
}

func FuzzParseManifest(f *testing.F) {
	golden, _ := os.ReadFile("testdata/reference_manifest.json")
	f.Add(golden)
	f.Add([]byte(`{"worker_id":null,"x":1}`))
	f.Add([]byte(`{"worker_version":"\ud83d\ude00\u0000"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		// Encoding is a fixed point: parse(encode(m)) encodes identically
		// and signs the same payload whenever every signed key is present.
		enc := m.Encode()
		m2, err := ParseManifest(enc)
		if err != nil {
			t.Fatalf("re-parse of encoded manifest failed: %v\n%s", err, enc)
		}
		if !bytes.Equal(m2.Encode(), enc) {
			t.Fatalf("encode not stable:\n%s\n%s", enc, m2.Encode())
		}
		if allSigned(m) {
			if !bytes.Equal(m.SigningPayload(), m2.SigningPayload()) {
				t.Fatalf("payload changed across encode")
			}
		}
	})
}

func allSigned(m *Manifest) bool {
	for _, k := range signedKeys {
		if !m.present[k] {
			return false
		}
	}
	return true
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkPackageHash hashes a 200-file, 800 KiB package (what the watcher
// does after every change).
func BenchmarkPackageHash(b *testing.B) {
	fsys := fstest.MapFS{}
	for i := range 200 {
		fsys[fmt.Sprintf("code/mod%03d/file.py", i)] = &fstest.MapFile{Data: bytes.Repeat([]byte{byte(i)}, 4096)}
	}
	b.SetBytes(200 * 4096)
	for b.Loop() {
		if _, err := PackageHash(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
