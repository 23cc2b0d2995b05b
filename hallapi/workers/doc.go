// Package workers keeps enrolled worker packages honest and runs them.
//
// Attestation: every enrolled package is verified (core/attest) at start,
// and an fsnotify watcher re-verifies a package within a second of any change
// (debounced). A package whose files no longer hash to the registered hash is
// marked tampered, a WORKER_TAMPERED alert is raised (it reaches the UI through
// the event stream), and the registry view answers the current hash so that
// core's attestation step denies with DENY_WORKER_TAMPERED.
//
// Execution: an approved dispatch runs the package's entrypoint as a
// subprocess (request on stdin, result on stdout) with a timeout, an output
// cap and a scrubbed environment, recorded as a dispatch start/finish.
package workers
