package apierr

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// BadJSON is the code of a body that is not the JSON asked for.
const BadJSON = "bad_json"

// DecodeStrict decodes exactly one JSON value into dst, rejecting unknown
// fields; the error names the field at fault.
func DecodeStrict(b []byte, dst any) *Error {
	if len(bytes.TrimSpace(b)) == 0 {
		return New(BadJSON, "", "the request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return FromJSON(err)
	}
	if dec.More() {
		return New(BadJSON, "", "the body holds more than one JSON value: send exactly one object")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return New(BadJSON, "", "unexpected data after the JSON object")
	}
	return nil
}

// FromJSON explains an encoding/json error: where the syntax breaks, which
// field has the wrong type, which field is unknown.
func FromJSON(err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &syn):
		return New(BadJSON, "", "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		return New(InvalidField, field, "field %q must be a JSON %s, not %s", field, jsonKindOf(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(msg, "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return New(UnknownField, field, "unknown field %q: remove it (see docs/api.md for the accepted fields)", field)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return New(BadJSON, "", "the JSON body is truncated")
	}
	return New(BadJSON, "", "malformed JSON: %v", err)
}

func jsonKindOf(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}
