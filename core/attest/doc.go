// Package attest implements WCP full-package attestation: the canonical
// package hash (the reference algorithm, byte-identical), the worker package
// manifest (manifest.json), Ed25519 and HMAC-SHA256 manifest signatures, and
// verification that returns one of the ATTEST_* deny codes.
//
// The package is pure: it reads packages through io/fs.FS and never touches
// the network, the clock (callers pass times) or global state.
//
// Trust derives from the worker_id namespace (x.<name> or org.<name>), never
// from the worker species id.
package attest
