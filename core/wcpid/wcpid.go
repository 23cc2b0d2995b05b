// Package wcpid validates WCP identifiers (spec 3.2): capability ids
// (cap.*), control ids (ctrl.*), worker species ids (wrk.*), event ids
// (evt.*), profile ids (prof.*), policy ids (pol.*) and worker ids, which
// live in a signer namespace (org.<name>.* or x.<name>.*).
//
// An id is a prefix followed by one or more dot-separated segments; each
// segment is 1..64 characters of lowercase ASCII letters, digits, '_' or
// '-', starting with a letter or digit; the whole id is at most 255 bytes.
// The engine itself never rejects ids (the reference routes any string);
// callers validate at their edges (enrolment, rule editing, API input).
package wcpid

import (
	"fmt"
	"strings"
)

// Kind is the type of an id.
type Kind string

// Kinds and their prefixes.
const (
	Capability Kind = "cap"
	Control    Kind = "ctrl"
	Species    Kind = "wrk"
	Event      Kind = "evt"
	Profile    Kind = "prof"
	Policy     Kind = "pol"
	Worker     Kind = "worker" // org.<ns>.… or x.<ns>.…
)

// MaxLen is the maximum id length in bytes.
const MaxLen = 255

// Error explains why an id is invalid; Pos is the byte offset of the
// problem (-1 when it concerns the whole id).
type Error struct {
	Kind   Kind
	ID     string
	Pos    int
	Reason string
}

func (e *Error) Error() string {
	if e.Pos >= 0 {
		return fmt.Sprintf("invalid %s id %q at byte %d: %s", e.Kind, e.ID, e.Pos, e.Reason)
	}
	return fmt.Sprintf("invalid %s id %q: %s", e.Kind, e.ID, e.Reason)
}

// Validate checks id against kind and returns nil or an *Error.
func Validate(kind Kind, id string) error {
	fail := func(pos int, format string, args ...any) error {
		return &Error{Kind: kind, ID: id, Pos: pos, Reason: fmt.Sprintf(format, args...)}
	}
	if id == "" {
		return fail(-1, "empty; ids look like %s", example(kind))
	}
	if len(id) > MaxLen {
		return fail(-1, "longer than %d bytes", MaxLen)
	}
	var rest string
	var restPos int
	switch kind {
	case Worker:
		ns, _, ok := strings.Cut(id, ".")
		if !ok || (ns != "org" && ns != "x") {
			return fail(0, `worker ids start with a namespace "org.<name>." or "x.<name>.", e.g. %s`, example(kind))
		}
		rest, restPos = id[len(ns)+1:], len(ns)+1
		if strings.Count(rest, ".") < 1 {
			return fail(-1, "needs a namespace name and at least one more segment, e.g. %s", example(kind))
		}
	case Capability, Control, Species, Event, Profile, Policy:
		p := string(kind) + "."
		if !strings.HasPrefix(id, p) {
			return fail(0, "must start with %q, e.g. %s", p, example(kind))
		}
		rest, restPos = id[len(p):], len(p)
	default:
		return fail(-1, "unknown id kind %q", string(kind))
	}
	start := 0
	for i := 0; i <= len(rest); i++ {
		if i < len(rest) && rest[i] != '.' {
			c := rest[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				if c >= 'A' && c <= 'Z' {
					return fail(restPos+i, "uppercase letter %q; ids are lowercase", c)
				}
				return fail(restPos+i, "character %q not allowed; use a-z, 0-9, '_' or '-'", c)
			}
			continue
		}
		seg := rest[start:i]
		switch {
		case seg == "":
			return fail(restPos+start, "empty segment (two dots, or a leading/trailing dot)")
		case len(seg) > 64:
			return fail(restPos+start, "segment longer than 64 characters")
		case seg[0] == '_' || seg[0] == '-':
			return fail(restPos+start, "segment must start with a letter or digit")
		}
		start = i + 1
	}
	return nil
}

// Namespace returns the signer namespace of a worker id ("org.acme" for
// "org.acme.summarizer").
func Namespace(workerID string) (string, error) {
	if err := Validate(Worker, workerID); err != nil {
		return "", err
	}
	parts := strings.SplitN(workerID, ".", 3)
	return parts[0] + "." + parts[1], nil
}

func example(k Kind) string {
	switch k {
	case Worker:
		return "org.acme.summarizer"
	case Capability:
		return "cap.doc.summarize"
	case Control:
		return "ctrl.obs.audit_log_append_only"
	case Species:
		return "wrk.doc.summarizer"
	}
	return string(k) + ".example"
}
