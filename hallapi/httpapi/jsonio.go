package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"hallmonitor/hallapi/apierr"
)

// Body size limits (docs/api.md).
const (
	maxBody      = 1 << 20
	maxBatchBody = 4 << 20
)

// APIError is the error object of every error response.
type APIError = apierr.Error

type httpError struct {
	status int
	APIError
}

func (e *httpError) Error() string { return e.APIError.Error() }

// Unwrap lets callers of the Server's Go API (Route, RunDecision) read the
// error's code and message with errors.As(err, &*APIError).
func (e *httpError) Unwrap() error { return &e.APIError }

func errf(status int, code, field, format string, args ...any) *httpError {
	return &httpError{status, APIError{Code: code, Message: fmt.Sprintf(format, args...), Field: field}}
}

// statusOf is the HTTP status of a domain error code.
var statusOf = map[string]int{
	apierr.InvalidField: http.StatusBadRequest, apierr.MissingField: http.StatusBadRequest,
	apierr.UnknownField: http.StatusBadRequest, apierr.BadJSON: http.StatusBadRequest,
	apierr.NotFound: http.StatusNotFound, apierr.Conflict: http.StatusConflict,
	apierr.Forbidden: http.StatusForbidden, apierr.Unavailable: http.StatusServiceUnavailable,
}

// fromDomain gives a domain error its HTTP status (nil stays nil).
func fromDomain(e *apierr.Error) *httpError {
	if e == nil {
		return nil
	}
	st, ok := statusOf[e.Code]
	if !ok {
		st = http.StatusBadRequest
	}
	return &httpError{st, *e}
}

// WriteError answers with the Hall API's error object; packages that mount
// routes on the server (telemetry, evidence) answer with it too.
func WriteError(w http.ResponseWriter, status int, code, message, field string) {
	WriteJSON(w, status, map[string]APIError{"error": {Code: code, Message: message, Field: field}})
}

// WriteJSON answers with v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
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
func decodeStrict(b []byte, dst any) *httpError { return fromDomain(apierr.DecodeStrict(b, dst)) }

func jsonError(err error) *httpError { return fromDomain(apierr.FromJSON(err)) }

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
		WriteError(w, he.status, he.Code, he.Message, he.Field)
		return
	}
	var ae *apierr.Error
	if errors.As(err, &ae) {
		he = fromDomain(ae)
		WriteError(w, he.status, he.Code, he.Message, he.Field)
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	WriteError(w, http.StatusInternalServerError, "internal", "the Hall could not complete the request; see the Hall log", "")
}
