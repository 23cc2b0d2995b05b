package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
)

// SchemaVersion is the manifest schema written by Build.
const SchemaVersion = "awp.v1"

// TimeFormat is the manifest timestamp format (UTC, whole seconds).
const TimeFormat = "2006-01-02T15:04:05Z"

// Manifest is a worker package manifest (manifest.json at the package root).
// The first ten fields are the reference's; the Ed25519 fields are this
// implementation's default signature scheme. Empty strings are omitted when
// encoding, except the seven signed fields which are always written.
type Manifest struct {
	SchemaVersion    string `json:"schema_version"`
	WorkerID         string `json:"worker_id"`
	WorkerSpeciesID  string `json:"worker_species_id"`
	WorkerVersion    string `json:"worker_version"`
	PackageHash      string `json:"package_hash"`
	BuiltAtUTC       string `json:"built_at_utc"`
	AttestedAtUTC    string `json:"attested_at_utc"`
	BuildSource      string `json:"build_source"`
	TrustStatement   string `json:"trust_statement"`
	SignatureHMAC    string `json:"signature_hmac_sha256"`
	SignatureEd25519 string `json:"signature_ed25519"`
	// PublicKeyEd25519 is informational (which key signed); verification
	// always uses the key recorded for the namespace at enrollment.
	PublicKeyEd25519 string `json:"public_key_ed25519"`

	// present records which of the seven signed keys appeared in the parsed
	// JSON, so a missing key is signed as null like the reference does.
	present map[string]bool
}

// signedKeys are the keys covered by a signature, in sorted order.
var signedKeys = []string{"build_source", "built_at_utc", "package_hash", "schema_version", "worker_id", "worker_species_id", "worker_version"}

// manifestKeys maps every known key to its field.
func (m *Manifest) fields() map[string]*string {
	return map[string]*string{
		"schema_version":        &m.SchemaVersion,
		"worker_id":             &m.WorkerID,
		"worker_species_id":     &m.WorkerSpeciesID,
		"worker_version":        &m.WorkerVersion,
		"package_hash":          &m.PackageHash,
		"built_at_utc":          &m.BuiltAtUTC,
		"attested_at_utc":       &m.AttestedAtUTC,
		"build_source":          &m.BuildSource,
		"trust_statement":       &m.TrustStatement,
		"signature_hmac_sha256": &m.SignatureHMAC,
		"signature_ed25519":     &m.SignatureEd25519,
		"public_key_ed25519":    &m.PublicKeyEd25519,
	}
}

// MaxManifestSize bounds the manifest file a verifier will read.
const MaxManifestSize = 1 << 20

// ParseManifest decodes manifest JSON. The document must be a JSON object;
// known keys must be strings or null; unknown keys are ignored (they are
// neither signed nor trusted).
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("manifest is %d bytes, larger than the %d byte limit", len(data), MaxManifestSize)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("manifest must be a JSON object, got null")
	}
	if dec.More() {
		return nil, fmt.Errorf("manifest has trailing data after the JSON object")
	}
	m := &Manifest{present: map[string]bool{}}
	fields := m.fields()
	for key, val := range raw {
		dst, ok := fields[key]
		if !ok {
			continue
		}
		if string(val) == "null" {
			continue
		}
		if err := json.Unmarshal(val, dst); err != nil {
			return nil, fmt.Errorf("manifest field %q must be a string", key)
		}
		m.present[key] = true
	}
	return m, nil
}

// SigningPayload returns the exact bytes that are signed: an object with the
// seven keys schema_version, worker_id, worker_species_id, worker_version,
// package_hash, built_at_utc and build_source (absent ones as null), sorted
// keys, separators "," and ":", non-ASCII escaped (Python json.dumps with
// sort_keys=True, separators=(",", ":")).
func (m *Manifest) SigningPayload() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	fields := m.fields()
	for i, k := range signedKeys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeASCIIString(&b, k)
		b.WriteByte(':')
		if m.present != nil && !m.present[k] {
			b.WriteString("null")
		} else {
			writeASCIIString(&b, *fields[k])
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Encode returns the manifest as written to manifest.json: two-space indent,
// sorted keys, ASCII-escaped, trailing newline (Python json.dumps(indent=2,
// sort_keys=True) + "\n"). Empty optional fields are left out.
func (m *Manifest) Encode() []byte {
	fields := m.fields()
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if *v == "" && optionalKeys[k] {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range keys {
		b.WriteString("  ")
		writeASCIIString(&b, k)
		b.WriteString(": ")
		writeASCIIString(&b, *fields[k])
		if i < len(keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// optionalKeys are left out of an encoded manifest when empty.
var optionalKeys = map[string]bool{"signature_hmac_sha256": true, "signature_ed25519": true, "public_key_ed25519": true}

// writeASCIIString writes s as a JSON string the way Python's json.dumps does
// with ensure_ascii=True: every character outside U+0020..U+007E is escaped,
// \n \r \t \b \f in short form, astral characters as surrogate pairs.
func writeASCIIString(b *bytes.Buffer, s string) {
	const hexd = "0123456789abcdef"
	u4 := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hexd[r>>12&0xf])
		b.WriteByte(hexd[r>>8&0xf])
		b.WriteByte(hexd[r>>4&0xf])
		b.WriteByte(hexd[r&0xf])
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			u4(r1)
			u4(r2)
		default:
			u4(r)
		}
	}
	b.WriteByte('"')
}

// Namespace derives the signer namespace from a worker_id: "x.<name>..." ->
// "x.<name>", "org.<name>..." -> "org.<name>". Anything else is an error.
// Unlike the reference, an empty name ("x.", "org..a") is rejected.
func Namespace(workerID string) (string, error) {
	parts := strings.Split(workerID, ".")
	if len(parts) < 2 || (parts[0] != "x" && parts[0] != "org") {
		return "", fmt.Errorf("worker_id %q has no signer namespace: it must start with \"x.<name>\" or \"org.<name>\" (trust derives from the worker_id, never the species)", workerID)
	}
	if parts[1] == "" {
		return "", fmt.Errorf("worker_id %q has an empty namespace name after %q: use %s.<name>", workerID, parts[0]+".", parts[0])
	}
	return parts[0] + "." + parts[1], nil
}

// TrustStatement is the manifest's human-readable trust statement.
func TrustStatement(namespace, attestedAt, packageHash string) string {
	return "Package attested by namespace " + namespace + " at " + attestedAt + "; package hash sha256:" + packageHash + "."
}

// BuildOptions describe the manifest to build.
type BuildOptions struct {
	WorkerID        string
	WorkerSpeciesID string
	WorkerVersion   string
	BuildSource     string    // "local" when empty
	Now             time.Time // build time; truncated to seconds, UTC
	Signer          Signer    // required: Ed25519Signer (default) or HMACSigner
}

// Build hashes the package in fsys and returns a signed manifest. The
// namespace is derived (and validated) before the package is hashed.
func Build(fsys fs.FS, opts BuildOptions) (*Manifest, error) {
	ns, err := Namespace(opts.WorkerID)
	if err != nil {
		return nil, err
	}
	if opts.WorkerSpeciesID == "" {
		return nil, fmt.Errorf("worker_species_id is required: pass the species id the worker is enrolled as")
	}
	if opts.WorkerVersion == "" {
		return nil, fmt.Errorf("worker_version is required: pass the package version, e.g. 1.0.0")
	}
	if opts.Signer == nil {
		return nil, fmt.Errorf("a signer is required: pass an Ed25519 private key (default) or an HMAC secret")
	}
	hash, err := PackageHash(fsys)
	if err != nil {
		return nil, err
	}
	at := opts.Now.UTC().Truncate(time.Second).Format(TimeFormat)
	src := opts.BuildSource
	if src == "" {
		src = "local"
	}
	m := &Manifest{
		SchemaVersion:   SchemaVersion,
		WorkerID:        opts.WorkerID,
		WorkerSpeciesID: opts.WorkerSpeciesID,
		WorkerVersion:   opts.WorkerVersion,
		PackageHash:     hash,
		BuiltAtUTC:      at,
		AttestedAtUTC:   at,
		BuildSource:     src,
		TrustStatement:  TrustStatement(ns, at, hash),
	}
	if err := opts.Signer.SignManifest(m); err != nil {
		return nil, err
	}
	return m, nil
}
