package httpapi

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/events"
)

type trustedKey struct{}

// TrustedHandler marks every request it serves as coming from the desktop
// window's in-process session (the Wails AssetServer handler): such requests
// skip the Host check and the token. Never put it in front of a network
// listener; Server.Serve does not use it.
func TrustedHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), trustedKey{}, true)))
	})
}

// IsTrusted reports whether r came through TrustedHandler.
func IsTrusted(r *http.Request) bool {
	v, _ := r.Context().Value(trustedKey{}).(bool)
	return v
}

// Origins of the desktop window (Wails v2 on Linux/macOS and on Windows).
var desktopOrigins = map[string]bool{"wails://wails": true, "http://wails.localhost": true, "https://wails.localhost": true}

// ContentSecurityPolicy is sent with every UI response.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

func (s *Server) hostAllowed(host string) bool {
	host = strings.ToLower(host)
	s.hostsMu.RLock()
	defer s.hostsMu.RUnlock()
	if s.hosts[host] {
		return true
	}
	h, port, err := net.SplitHostPort(host)
	if err != nil || !s.ports[port] {
		return false
	}
	switch h {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}

// middleware is the outermost chain, one concern a link, outermost first
// (Syncthing lib/api's model): the Host allowlist, the Origin check, the
// security headers, panic recovery. Credentials, scopes and the UI lock are
// per route (authorize).
func (s *Server) middleware(next http.Handler) http.Handler {
	return s.checkHost(s.checkOrigin(securityHeaders(s.recoverPanics(next))))
}

// checkHost refuses a Host that is not this Hall's listener or localhost
// (DNS rebinding); the window's in-process requests have no Host to check.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsTrusted(r) && !s.hostAllowed(r.Host) {
			s.securityDenied(r, "forbidden_host")
			WriteError(w, http.StatusForbidden, "forbidden_host", "Host header "+apierr.Quote(r.Host)+
				" is not this Hall (use http://127.0.0.1:<port> or http://localhost:<port>)", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkOrigin refuses a browser request from another origin than the Hall's
// own page or the desktop window: no page elsewhere may call the Hall.
func (s *Server) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !desktopOrigins[o] && !strings.EqualFold(o, "http://"+r.Host) {
			s.securityDenied(r, "forbidden_origin")
			WriteError(w, http.StatusForbidden, "forbidden_origin", "Origin "+apierr.Quote(o)+
				" may not call the Hall API; only the Hall's own UI may", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler's panic into a logged 500 (an aborted
// response stays aborted).
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				WriteError(w, http.StatusInternalServerError, "internal", "the Hall hit an internal error; see the Hall log", "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityDenied records a security.denied event, at most 30 a minute so a
// flood of hostile requests cannot fill the database.
func (s *Server) securityDenied(r *http.Request, reason string) {
	s.secMu.Lock()
	now := time.Now()
	if now.Sub(s.secWindow) > time.Minute {
		if over := s.secCount - 30; over > 0 {
			s.log.Warn("denied requests not logged one by one", "count", over, "since", s.secWindow.Format(time.RFC3339))
		}
		s.secWindow, s.secCount = now, 0
	}
	s.secCount++
	allowed := s.secCount <= 30
	s.secMu.Unlock()
	if !allowed {
		return // the log line and the event are limited alike: a flood fills neither the log nor the database
	}
	s.log.Warn("request denied", "reason", reason, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
	path := r.URL.Path
	if len(path) > 200 {
		path = path[:200]
	}
	if _, err := s.st.Emit(context.WithoutCancel(r.Context()), events.SecurityDenied,
		map[string]string{"reason": reason, "path": path, "remote": r.RemoteAddr, "method": r.Method}); err != nil {
		s.log.Warn("record security event", "err", err)
	}
}
