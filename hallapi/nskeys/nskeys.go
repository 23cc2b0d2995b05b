// Package nskeys keeps the namespace signing keys of worker packages: the
// Ed25519 key pairs of `hallmonitor attest keygen` (and of the Enroll
// screen's "Sign this package"), written as <namespace>.key (0600, never
// sent anywhere) and <namespace>.pub in a key directory, and the signed
// manifest.json of `attest build`. The CLI and the Hall API both call it, so
// a package signed from the window and one signed in a terminal are the same.
package nskeys

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"hallmonitor/core/attest"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

// ErrExists is returned by Generate when the namespace already has a key.
var ErrExists = errors.New("key exists")

// ErrBadNamespace is a namespace that is not exactly x.<name> or org.<name>.
var ErrBadNamespace = errors.New("must be exactly x.<name> or org.<name>")

// Key is a namespace public key and where it is known from.
type Key struct {
	Namespace string `json:"namespace"`
	PublicKey string `json:"public_key"` // hex
	// Source is "key directory" for a pair in the key directory, or
	// "enrolled worker <id>" for a key recorded at an enrollment.
	Source string `json:"source"`
	// CanSign reports that the private key is in the key directory.
	CanSign bool   `json:"can_sign"`
	Path    string `json:"public_key_path,omitempty"`
}

// NamespaceOf returns the signer namespace of a worker id (x.<name> or
// org.<name>), or of a namespace itself.
func NamespaceOf(id string) (string, error) {
	ns, err := attest.Namespace(id)
	if err != nil {
		return "", fmt.Errorf("%q is not in an x.<name> or org.<name> namespace: %w", id, err)
	}
	return ns, nil
}

// Generate writes a new key pair for namespace ns in dir (created 0700):
// <ns>.key 0600 and <ns>.pub 0644. Without force an existing pair is
// ErrExists (manifests signed with it would stop verifying).
func Generate(dir, ns string, force bool) (Key, error) {
	got, err := attest.Namespace(ns)
	if err != nil || got != ns {
		return Key{}, fmt.Errorf("namespace %q %w", ns, ErrBadNamespace)
	}
	keyPath, pubPath := filepath.Join(dir, ns+".key"), filepath.Join(dir, ns+".pub")
	if !force {
		for _, p := range []string{keyPath, pubPath} {
			if _, err := os.Stat(p); err == nil {
				return Key{}, fmt.Errorf("%s: %w: use it, or replace it (manifests signed with the old key stop verifying)", p, ErrExists)
			}
		}
	}
	pub, priv, err := attest.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Key{}, err
	}
	if err := config.WriteFileAtomic(keyPath, []byte(attest.EncodePrivateKey(priv)), 0o600); err != nil {
		return Key{}, err
	}
	if err := config.WriteFileAtomic(pubPath, []byte(attest.EncodePublicKey(pub)+"\n"), 0o644); err != nil {
		return Key{}, err
	}
	return Key{Namespace: ns, PublicKey: attest.EncodePublicKey(pub), Source: "key directory", CanSign: true, Path: pubPath}, nil
}

// Known lists the public keys known for namespace ns ("" = all): the pairs
// in dir, then the keys recorded with enrolled workers of the namespace,
// each key once.
func Known(dir, ns string, enrolled []store.Worker) ([]Key, error) {
	out := []Key{}
	seen := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read key directory %s: %w", dir, err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".pub")
		if !ok || (ns != "" && name != ns) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		pub := strings.TrimSpace(string(b))
		if _, err := attest.ParsePublicKey(pub); err != nil || seen[pub] {
			continue
		}
		_, privErr := os.Stat(filepath.Join(dir, name+".key"))
		seen[pub] = true
		out = append(out, Key{Namespace: name, PublicKey: pub, Source: "key directory", CanSign: privErr == nil, Path: filepath.Join(dir, e.Name())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	for _, w := range enrolled {
		e, err := workers.EnrollmentOf(w)
		if err != nil || e.PublicKeyEd25519 == "" || seen[e.PublicKeyEd25519] {
			continue
		}
		wns, err := attest.Namespace(w.WorkerID)
		if err != nil || (ns != "" && wns != ns) {
			continue
		}
		seen[e.PublicKeyEd25519] = true
		out = append(out, Key{Namespace: wns, PublicKey: e.PublicKeyEd25519, Source: "enrolled worker " + w.WorkerID})
	}
	return out, nil
}

// LoadSigner reads the private key of namespace ns from dir.
func LoadSigner(dir, ns string) (attest.Signer, Key, error) {
	keyPath := filepath.Join(dir, ns+".key")
	b, err := os.ReadFile(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Key{}, fmt.Errorf("no signing key for namespace %s in %s: make one first", ns, dir)
	}
	if err != nil {
		return nil, Key{}, err
	}
	k, err := attest.ParsePrivateKey(string(b))
	if err != nil {
		return nil, Key{}, fmt.Errorf("%s: %w", keyPath, err)
	}
	pub := attest.EncodePublicKey(k.Public().(ed25519.PublicKey))
	return attest.Ed25519Signer{Key: k}, Key{Namespace: ns, PublicKey: pub, Source: "key directory", CanSign: true,
		Path: filepath.Join(dir, ns+".pub")}, nil
}

// BuildOptions say what a manifest attests.
type BuildOptions struct {
	WorkerID, WorkerSpeciesID, WorkerVersion, BuildSource string
	Signer                                                attest.Signer
	Now                                                   time.Time
}

// WriteManifest checks the package layout, hashes the package and writes its
// signed manifest.json atomically (manifest.tmp is excluded from the hash,
// so the rename does not change it). It returns the manifest's path.
func WriteManifest(pkg string, o BuildOptions) (*attest.Manifest, string, error) {
	if err := workers.CheckLayout(pkg); err != nil {
		return nil, "", err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.BuildSource == "" {
		o.BuildSource = "local"
	}
	m, err := attest.Build(os.DirFS(pkg), attest.BuildOptions{WorkerID: o.WorkerID, WorkerSpeciesID: o.WorkerSpeciesID,
		WorkerVersion: o.WorkerVersion, BuildSource: o.BuildSource, Now: o.Now, Signer: o.Signer})
	if err != nil {
		return nil, "", err
	}
	tmp, final := filepath.Join(pkg, "manifest.tmp"), filepath.Join(pkg, attest.ManifestName)
	if err := os.WriteFile(tmp, m.Encode(), 0o644); err != nil {
		return nil, "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return nil, "", err
	}
	return m, final, nil
}
