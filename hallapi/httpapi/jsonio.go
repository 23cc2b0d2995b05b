package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Body size limits (docs/api.md).
const (
	maxBody      = 1 << 20
	maxBatchBody = 4 << 20
)

// APIError is the error object of every error response.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

type httpError struct {
	status int
	APIError
}

func (e *httpError) Error() string { return e.APIError.Error() }

// Unwrap lets callers of the Server's Go API (Route, RunDecision) read the
// error's code and message with errors.As(err, &*APIError).
func (e *httpError) Unwrap() error { return &e.APIError }

func errf(status int, code, field, format string, args ...any) *httpError {
	return &httpError{status, APIError{code, fmt.Sprintf(format, args...), field}}
}

func writeError(w http.ResponseWriter, status int, code, message, field string) {
	writeJSON(w, status, map[string]APIError{"error": {Code: code, Message: message, Field: field}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"could not encode the response","field":""}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// readBody reads at most max bytes of the request body (413 above).
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, *httpError) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return nil, errf(http.StatusUnsupportedMediaType, "bad_json", "", "Content-Type must be application/json, got %q", ct)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errf(http.StatusRequestEntityTooLarge, "too_large", "", "request body is larger than %d bytes: send less (batches of at most 1000 decisions)", max)
		}
		return nil, errf(http.StatusBadRequest, "bad_json", "", "could not read the request body: %v", err)
	}
	return b, nil
}

// decodeStrict decodes exactly one JSON value into dst, rejecting unknown fields.
func decodeStrict(b []byte, dst any) *httpError {
	if len(bytes.TrimSpace(b)) == 0 {
		return errf(http.StatusBadRequest, "bad_json", "", "the request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errf(http.StatusBadRequest, "bad_json", "", "the body holds more than one JSON value: send exactly one object")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return errf(http.StatusBadRequest, "bad_json", "", "unexpected data after the JSON object")
	}
	return nil
}

func jsonError(err error) *httpError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &syn):
		return errf(http.StatusBadRequest, "bad_json", "", "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		return errf(http.StatusBadRequest, "invalid_field", field, "field %q must be a JSON %s, not %s", field, jsonKindOf(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(msg, "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return errf(http.StatusBadRequest, "unknown_field", field, "unknown field %q: remove it (see docs/api.md for the accepted fields)", field)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errf(http.StatusBadRequest, "bad_json", "", "the JSON body is truncated")
	}
	return errf(http.StatusBadRequest, "bad_json", "", "malformed JSON: %v", err)
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

// readJSON reads and strictly decodes a body of at most max bytes.
func readJSON(w http.ResponseWriter, r *http.Request, max int64, dst any) *httpError {
	b, he := readBody(w, r, max)
	if he != nil {
		return he
	}
	return decodeStrict(b, dst)
}

// fail writes err as a JSON error (500 "internal" for unexpected errors, without details).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if errors.As(err, &he) {
		writeError(w, he.status, he.Code, he.Message, he.Field)
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "the Hall could not complete the request; see the Hall log", "")
}
