package registrytest

import (
	"encoding/json"
	"net/http"
	"time"

	"hallmonitor/hallapi/registry"
)

// ControlPrefix is where the test registry's switches are exposed over HTTP,
// so a browser end-to-end run (which cannot call Go methods) can flip them:
//
//	POST /_test/standing {"standing":"suspended","grace_seconds":0}
//	POST /_test/fail     {"route":"standing","status":403,"retry_after_seconds":0,"count":0}
//	POST /_test/delay    {"milliseconds":2000}
//	POST /_test/reset    {}   (clears failures and delay)
//	POST /_test/worker   {VerifyResponse}   POST /_test/ban {BanEntry}
//	POST /_test/expire-tokens {}   POST /_test/revoke-all {}
const ControlPrefix = "/_test/"

func (s *Server) control(mux *http.ServeMux) {
	mux.HandleFunc("POST "+ControlPrefix+"standing", s.controlStanding)
	mux.HandleFunc("POST "+ControlPrefix+"fail", s.controlFail)
	mux.HandleFunc("POST "+ControlPrefix+"delay", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Milliseconds int `json:"milliseconds"`
		}
		if !decodeControl(w, r, &b) {
			return
		}
		s.SetDelay(time.Duration(b.Milliseconds) * time.Millisecond)
		controlOK(w)
	})
	mux.HandleFunc("POST "+ControlPrefix+"reset", func(w http.ResponseWriter, _ *http.Request) {
		s.ClearFailures()
		s.SetDelay(0)
		controlOK(w)
	})
	mux.HandleFunc("POST "+ControlPrefix+"worker", func(w http.ResponseWriter, r *http.Request) {
		var v registry.VerifyResponse
		if !decodeControl(w, r, &v) {
			return
		}
		s.PutWorker(v)
		controlOK(w)
	})
	mux.HandleFunc("POST "+ControlPrefix+"ban", func(w http.ResponseWriter, r *http.Request) {
		var e registry.BanEntry
		if !decodeControl(w, r, &e) {
			return
		}
		s.Ban(e)
		controlOK(w)
	})
	mux.HandleFunc("POST "+ControlPrefix+"expire-tokens", func(w http.ResponseWriter, _ *http.Request) {
		s.ExpireTokens()
		controlOK(w)
	})
	mux.HandleFunc("POST "+ControlPrefix+"revoke-all", func(w http.ResponseWriter, _ *http.Request) {
		s.RevokeAll()
		controlOK(w)
	})
}

// controlStanding sets the standing the registry reports (and its grace).
func (s *Server) controlStanding(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Standing     string `json:"standing"`
		GraceSeconds int64  `json:"grace_seconds"`
	}
	if !decodeControl(w, r, &b) {
		return
	}
	switch b.Standing {
	case registry.StandingOK, registry.StandingGrace, registry.StandingDegraded, registry.StandingSuspended:
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "standing must be ok, grace, degraded or suspended"})
		return
	}
	s.SetStanding(b.Standing, b.GraceSeconds)
	controlOK(w)
}

// controlFail makes a route fail with a status (count times, 0 = until reset).
func (s *Server) controlFail(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Route      string `json:"route"`
		Status     int    `json:"status"`
		RetryAfter int    `json:"retry_after_seconds"`
		Count      int    `json:"count"`
	}
	if !decodeControl(w, r, &b) {
		return
	}
	if b.Route == "" || b.Status < 400 || b.Status > 599 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "route (e.g. \"standing\" or \"*\") and status (400-599) are required"})
		return
	}
	s.Fail(b.Route, Failure{Status: b.Status, RetryAfter: time.Duration(b.RetryAfter) * time.Second, Count: b.Count})
	controlOK(w)
}

// decodeControl decodes a control body strictly, answering 400 if it cannot.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad control body: " + err.Error()})
		return false
	}
	return true
}

func controlOK(w http.ResponseWriter) { writeJSON(w, http.StatusOK, map[string]bool{"ok": true}) }
