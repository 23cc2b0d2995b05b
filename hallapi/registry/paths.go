package registry

import (
	"fmt"
	"net/url"
	"strings"
)

// Paths are the registry endpoints, relative to the registry base URL. Every
// path is configurable so the same client talks to the public registry and to a
// self-hosted one. Empty fields take the value from DefaultPaths.
type Paths struct {
	// Authorize is the OAuth authorization endpoint the browser opens. The public
	// registry's GitHub login lives at /auth/github?desktop=1; a query in the path is kept.
	Authorize string `json:"authorize"`
	// Token exchanges an authorization code or device code (or a refresh token) for a session token.
	Token string `json:"token"`
	// DeviceAuthorization starts the RFC 8628 device flow.
	DeviceAuthorization string `json:"device_authorization"`
	// Revoke revokes a session token at logout (RFC 7009). "-" disables the call.
	Revoke string `json:"revoke"`
	// Standing answers the account standing of the token's owner.
	Standing string `json:"standing"`
	// Profile answers the GitHub identity, tier and limits of the token's owner.
	Profile string `json:"profile"`
	// Namespaces lists the namespaces (x.*, org.*) the token's owner holds.
	Namespaces string `json:"namespaces"`
	// Verify answers one worker's registry status; {worker_id} is replaced by the escaped id.
	Verify string `json:"verify"`
	// BanList lists banned package hashes.
	BanList string `json:"ban_list"`
	// Health is the registry's liveness endpoint.
	Health string `json:"health"`
}

// Placeholder in Paths.Verify replaced by the percent-escaped worker id.
const WorkerIDPlaceholder = "{worker_id}"

// DefaultPaths returns the endpoints of the public registry (api.pyhall.dev).
func DefaultPaths() Paths {
	return Paths{
		Authorize:           "/auth/github?desktop=1",
		Token:               "/auth/token",
		DeviceAuthorization: "/auth/device",
		Revoke:              "/auth/revoke",
		Standing:            "/api/account/standing",
		Profile:             "/api/account/profile",
		Namespaces:          "/api/account/namespaces",
		Verify:              "/api/v1/verify/" + WorkerIDPlaceholder,
		BanList:             "/api/v1/ban-list",
		Health:              "/health",
	}
}

// WithDefaults returns p with every empty field set from DefaultPaths.
func (p Paths) WithDefaults() Paths {
	d := DefaultPaths()
	fill := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	fill(&p.Authorize, d.Authorize)
	fill(&p.Token, d.Token)
	fill(&p.DeviceAuthorization, d.DeviceAuthorization)
	fill(&p.Revoke, d.Revoke)
	fill(&p.Standing, d.Standing)
	fill(&p.Profile, d.Profile)
	fill(&p.Namespaces, d.Namespaces)
	fill(&p.Verify, d.Verify)
	fill(&p.BanList, d.BanList)
	fill(&p.Health, d.Health)
	return p
}

// Validate checks that every path is absolute ("/...") and that Verify holds
// the {worker_id} placeholder. The error names the field and the fix.
func (p Paths) Validate() error {
	fields := []struct{ name, v string }{
		{"paths.authorize", p.Authorize}, {"paths.token", p.Token},
		{"paths.device_authorization", p.DeviceAuthorization}, {"paths.standing", p.Standing},
		{"paths.profile", p.Profile}, {"paths.namespaces", p.Namespaces},
		{"paths.verify", p.Verify}, {"paths.ban_list", p.BanList}, {"paths.health", p.Health},
	}
	if p.Revoke != "-" {
		fields = append(fields, struct{ name, v string }{"paths.revoke", p.Revoke})
	}
	for _, f := range fields {
		if !strings.HasPrefix(f.v, "/") || strings.HasPrefix(f.v, "//") {
			return fmt.Errorf("%s: %q must be a path starting with a single \"/\" (e.g. %q)", f.name, f.v, "/api/v1/ban-list")
		}
	}
	if !strings.Contains(p.Verify, WorkerIDPlaceholder) {
		return fmt.Errorf("paths.verify: %q must contain %s where the worker id goes", p.Verify, WorkerIDPlaceholder)
	}
	return nil
}

// ParseBaseURL checks a registry base URL (http or https, a host, no query or
// fragment) and returns it without a trailing slash.
func ParseBaseURL(raw string) (string, error) {
	if raw == "" {
		return DefaultBaseURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("registry_url: %q is not a URL: %v; use e.g. %s", raw, err, DefaultBaseURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("registry_url: %q must start with https:// (or http:// for a local test registry)", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("registry_url: %q has no host; use e.g. %s", raw, DefaultBaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("registry_url: %q must not carry a query, fragment or credentials", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// EscapeID percent-escapes a path segment like Python's quote(s, safe=""):
// every byte except A-Z a-z 0-9 - . _ ~ becomes %XX, so '/', '?', '#', ':', '@'
// and friends can never change the request path.
func EscapeID(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
