package registry

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret is a bearer credential (a registry session or access token). It
// redacts itself everywhere it could leak by accident: slog (LogValuer),
// every fmt verb (Formatter) and JSON. Use Reveal to get the value for an
// Authorization header or for storage.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret value. Only call it where the value must leave
// the process (Authorization header, keyring, token file).
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether no secret is set.
func (s Secret) IsZero() bool { return s == "" }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer (%#v).
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter so that no verb (not even %d or %x) prints the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON keeps the secret out of any JSON document.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
