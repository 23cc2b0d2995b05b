// Package apierr is the error vocabulary the Hall's domain services share
// with their adapters: an Error names a code (what kind of mistake), the
// field at fault and a message that says how to fix it. The HTTP API maps
// each code to its status; MCP tools and the CLI show the message.
package apierr

import (
	"fmt"
	"strings"
)

// Codes the domain services return. The HTTP API answers each with a fixed
// status (httpapi.StatusOf).
const (
	InvalidField = "invalid_field"   // 400: a field's value is wrong
	MissingField = "missing_field"   // 400: a required field is absent
	UnknownField = "unknown_field"   // 400: a field that does not exist
	NotFound     = "not_found"       // 404
	Conflict     = "conflict"        // 409: the state does not allow it
	Forbidden    = "forbidden_scope" // 403: the caller's principal may not do it
	Unavailable  = "unavailable"     // 503: the Hall lacks what it needs
)

// Error is a caller's mistake (or a refused state change) with the field
// at fault. It is the "error" object of every error response.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New builds an Error with a formatted message.
func New(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Prefix moves e under a parent field (decisions[3]): the field becomes
// "decisions[3].x" and the message names the parent.
func Prefix(e *Error, parent string) *Error {
	if parent == "" || e == nil {
		return e
	}
	c := *e
	if c.Field != "" {
		c.Field = parent + "." + c.Field
	} else {
		c.Field = parent
	}
	c.Message = parent + ": " + c.Message
	return &c
}

// Quote quotes untrusted text for a message: control characters become '?'
// and anything over 100 bytes is cut.
func Quote(v string) string {
	if len(v) > 100 {
		v = v[:100] + "..."
	}
	return "'" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, v) + "'"
}

// ValidID checks an id: 1..128 printable ASCII characters without spaces or
// slashes.
func ValidID(field, id string) *Error {
	if id == "" || len(id) > 128 {
		return New(InvalidField, field, "%s must be 1 to 128 characters", field)
	}
	for _, c := range id {
		if c <= 0x20 || c >= 0x7f || c == '/' || c == '\\' {
			return New(InvalidField, field, "%s %s contains characters an id cannot have", field, Quote(id))
		}
	}
	return nil
}
