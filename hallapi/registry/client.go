// Package registry is Hall Monitor's client for the WCP registry (api.pyhall.dev
// or a self-hosted one): worker verification, the ban list, and the account's
// standing, profile and namespaces. Every call has a timeout; 429 answers are
// honoured (Retry-After, then exponential backoff); verify answers and the ban
// list are cached per key for a TTL, and when the registry cannot be reached the
// last known answer is returned together with its age and the error, never
// silently in place of a fresh one. Endpoint paths are configurable (Paths).
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultBaseURL is the public registry.
const DefaultBaseURL = "https://api.pyhall.dev"

// Defaults of Options.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultCacheTTL     = 60 * time.Second
	DefaultMaxRetries   = 2
	DefaultMaxRetryWait = 5 * time.Second
	DefaultBackoff      = 250 * time.Millisecond
	maxBodyBytes        = 4 << 20
	maxCachedWorkers    = 10000
	maxWorkerIDLen      = 512
)

// Sentinel errors; match them with errors.Is on any error the client returns.
var (
	ErrUnauthorized = errors.New("registry rejected the credentials (401)")
	ErrForbidden    = errors.New("registry forbids this account (403)")
	ErrNotFound     = errors.New("registry has no such resource (404)")
	ErrRateLimited  = errors.New("registry rate limit reached (429)")
	ErrUnavailable  = errors.New("registry unavailable")
	ErrBadResponse  = errors.New("registry answered something this client cannot read")
	ErrRejected     = errors.New("registry rejected the request")
)

// Error describes a failed registry call. It matches one of the sentinel
// errors above with errors.Is.
type Error struct {
	Op         string        // e.g. "verify", "standing"
	Kind       error         // one of the sentinels
	Status     int           // HTTP status, 0 for network errors
	RetryAfter time.Duration // for ErrRateLimited: how long the registry asked us to wait
	Message    string        // the registry's error message, if any (truncated)
	Err        error         // underlying network/decode error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("registry ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.Status != 0 && e.Kind != ErrUnauthorized && e.Kind != ErrForbidden && e.Kind != ErrNotFound && e.Kind != ErrRateLimited {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter.Round(time.Second))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is match both the kind and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Options configure a Client. Zero values take the defaults.
type Options struct {
	BaseURL      string        // default DefaultBaseURL
	Paths        Paths         // empty fields default to DefaultPaths
	HTTPClient   *http.Client  // default: a client with no global timeout (Timeout applies per attempt)
	Timeout      time.Duration // per attempt; default 10 s
	CacheTTL     time.Duration // verify / ban-list freshness; default 60 s
	MaxRetries   int           // retries after a 429/5xx/network error; default 2, negative = none
	MaxRetryWait time.Duration // longest Retry-After waited inside one call; default 5 s
	Backoff      time.Duration // first backoff step (doubles, with jitter); default 250 ms
	UserAgent    string        // default "hallmonitor"
	Logger       *slog.Logger  // default slog.Default()
	Now          func() time.Time
}

// Client talks to one registry. It is safe for concurrent use.
type Client struct {
	base  string
	paths Paths
	o     Options

	mu           sync.Mutex
	verify       map[string]VerifyResult
	inflight     map[string]*verifyCall // one registry request per id at a time
	bans         map[int]BanListResult
	blockedUntil time.Time
}

// New checks the options and returns a client.
func New(o Options) (*Client, error) {
	base, err := ParseBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	paths := o.Paths.WithDefaults()
	if err := paths.Validate(); err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.MaxRetryWait <= 0 {
		o.MaxRetryWait = DefaultMaxRetryWait
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.UserAgent == "" {
		o.UserAgent = "hallmonitor"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{base: base, paths: paths, o: o, verify: map[string]VerifyResult{}, inflight: map[string]*verifyCall{},
		bans: map[int]BanListResult{}}, nil
}

// BaseURL returns the registry base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// Paths returns the effective endpoint paths.
func (c *Client) Paths() Paths { return c.paths }

// URL returns the absolute URL of a registry path (one of Paths).
func (c *Client) URL(path string) string { return c.base + path }

// ValidateWorkerID checks a worker id before it goes into a URL.
func ValidateWorkerID(id string) error {
	switch {
	case id == "":
		return errors.New("worker_id: is empty; pass the worker's id, e.g. org.example.summarize.v1")
	case len(id) > maxWorkerIDLen:
		return fmt.Errorf("worker_id: is %d bytes long; the limit is %d", len(id), maxWorkerIDLen)
	case !utf8.ValidString(id):
		return errors.New("worker_id: is not valid UTF-8")
	case id == "." || id == "..":
		return fmt.Errorf("worker_id: %q is not a worker id", id)
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return errors.New("worker_id: contains a control character; remove it")
		}
	}
	return nil
}

// Verify returns the registry's record of a worker. 404 yields Status "unknown"
// (not an error). Answers are cached per id for CacheTTL. If the registry cannot
// be asked and an earlier answer exists, that answer is returned with
// Stale=true, its age and Error set, together with the non-nil error.
func (c *Client) Verify(ctx context.Context, workerID string) (VerifyResult, error) {
	if err := ValidateWorkerID(workerID); err != nil {
		return VerifyResult{}, err
	}
	now := c.o.Now()
	c.mu.Lock()
	last, have := c.verify[workerID]
	c.mu.Unlock()
	if have && now.Sub(last.CheckedAt) < c.o.CacheTTL {
		last.Cached = true
		last.AgeSeconds = ageSeconds(now, last.CheckedAt)
		return last, nil
	}
	resp, err := c.fetchVerify(ctx, workerID)
	if err != nil {
		if !have {
			return VerifyResult{}, err
		}
		last.Cached, last.Stale, last.Error = true, true, err.Error()
		last.AgeSeconds = ageSeconds(now, last.CheckedAt)
		return last, err
	}
	if resp.WorkerID == "" {
		resp.WorkerID = workerID
	}
	if resp.Status == "" {
		resp.Status = StatusUnknown
	}
	res := VerifyResult{VerifyResponse: resp, Freshness: Freshness{CheckedAt: c.o.Now()}}
	c.mu.Lock()
	if len(c.verify) >= maxCachedWorkers {
		c.evictLocked(now)
	}
	c.verify[workerID] = res
	c.mu.Unlock()
	return res, nil
}

// verifyCall is a verify request other callers for the same id wait on.
type verifyCall struct {
	done chan struct{}
	resp VerifyResponse
	err  error
}

// fetchVerify asks the registry about one worker, sharing the answer with
// concurrent callers for the same id (a screen full of workers costs one
// request per id, not one per caller). 404 reads as "unknown".
func (c *Client) fetchVerify(ctx context.Context, workerID string) (VerifyResponse, error) {
	c.mu.Lock()
	if call, ok := c.inflight[workerID]; ok {
		c.mu.Unlock()
		select {
		case <-call.done:
			return call.resp, call.err
		case <-ctx.Done():
			return VerifyResponse{}, &Error{Op: "verify", Kind: ErrUnavailable, Err: ctx.Err()}
		}
	}
	call := &verifyCall{done: make(chan struct{})}
	c.inflight[workerID] = call
	c.mu.Unlock()

	path := strings.ReplaceAll(c.paths.Verify, WorkerIDPlaceholder, EscapeID(workerID))
	call.err = c.getJSON(ctx, "verify", path, nil, "", &call.resp)
	if errors.Is(call.err, ErrNotFound) {
		call.resp, call.err = VerifyResponse{WorkerID: workerID, Status: StatusUnknown}, nil
	}
	c.mu.Lock()
	delete(c.inflight, workerID)
	c.mu.Unlock()
	close(call.done)
	return call.resp, call.err
}

// evictLocked drops expired verify entries, or all of them when none has expired.
func (c *Client) evictLocked(now time.Time) {
	for id, e := range c.verify {
		if now.Sub(e.CheckedAt) >= c.o.CacheTTL {
			delete(c.verify, id)
		}
	}
	if len(c.verify) >= maxCachedWorkers {
		clear(c.verify)
	}
}

// BanList returns the ban list (limit entries; 0 = the registry's default),
// cached for CacheTTL, with the same offline tolerance as Verify.
func (c *Client) BanList(ctx context.Context, limit int) (BanListResult, error) {
	if limit < 0 || limit > 10000 {
		return BanListResult{}, fmt.Errorf("limit: %d is out of range; use 0 (registry default) to 10000", limit)
	}
	now := c.o.Now()
	c.mu.Lock()
	last, have := c.bans[limit]
	c.mu.Unlock()
	if have && now.Sub(last.CheckedAt) < c.o.CacheTTL {
		last.Cached = true
		last.AgeSeconds = ageSeconds(now, last.CheckedAt)
		return last, nil
	}
	var q url.Values
	if limit > 0 {
		q = url.Values{"limit": {strconv.Itoa(limit)}}
	}
	var raw json.RawMessage
	err := c.getJSON(ctx, "ban-list", c.paths.BanList, q, "", &raw)
	var entries []BanEntry
	if err == nil {
		entries, err = decodeBanList(raw)
	}
	if err != nil {
		if !have {
			return BanListResult{}, err
		}
		last.Cached, last.Stale, last.Error = true, true, err.Error()
		last.AgeSeconds = ageSeconds(now, last.CheckedAt)
		return last, err
	}
	if entries == nil {
		entries = []BanEntry{}
	}
	res := BanListResult{Entries: entries, Freshness: Freshness{CheckedAt: c.o.Now()}}
	c.mu.Lock()
	c.bans[limit] = res
	c.mu.Unlock()
	return res, nil
}

// decodeBanList accepts a bare array or an object with "entries".
func decodeBanList(raw json.RawMessage) ([]BanEntry, error) {
	raw = bytes.TrimSpace(raw)
	var entries []BanEntry
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, &Error{Op: "ban-list", Kind: ErrBadResponse, Err: err}
		}
		return entries, nil
	}
	var obj struct {
		Entries *[]BanEntry `json:"entries"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Entries == nil {
		return nil, &Error{Op: "ban-list", Kind: ErrBadResponse, Message: "expected an array of ban entries or {\"entries\":[...]}"}
	}
	return *obj.Entries, nil
}

// Forget drops every cached answer (e.g. after the registry URL changed).
func (c *Client) Forget() {
	c.mu.Lock()
	clear(c.verify)
	clear(c.bans)
	c.mu.Unlock()
}

// Standing asks the registry for the standing of the account behind token.
// A missing standing reads as "degraded" (the reference's default).
func (c *Client) Standing(ctx context.Context, token Secret) (Standing, error) {
	if token.IsZero() {
		return Standing{}, &Error{Op: "standing", Kind: ErrUnauthorized, Message: "not signed in"}
	}
	var w standingWire
	if err := c.getJSON(ctx, "standing", c.paths.Standing, nil, token, &w); err != nil {
		return Standing{}, err
	}
	s := Standing{Standing: w.Standing, Tier: w.TierID, GitHubLogin: w.GitHubLogin, CheckedAt: c.o.Now()}
	if s.Standing == "" {
		s.Standing = StandingDegraded
	}
	if s.Tier == "" {
		s.Tier = w.Tier
	}
	if t, err := time.Parse(time.RFC3339, w.CheckedAt); err == nil {
		s.CheckedAt = t
	}
	if w.GraceSecondsRemaining != "" {
		g, err := w.GraceSecondsRemaining.Int64()
		if err != nil || g < 0 {
			return Standing{}, &Error{Op: "standing", Kind: ErrBadResponse, Message: "grace_seconds_remaining must be a non-negative integer"}
		}
		s.GraceSecondsRemaining = g
	}
	return s, nil
}

// Profile asks the registry for the identity and plan behind token.
func (c *Client) Profile(ctx context.Context, token Secret) (Profile, error) {
	if token.IsZero() {
		return Profile{}, &Error{Op: "profile", Kind: ErrUnauthorized, Message: "not signed in"}
	}
	var w profileWire
	if err := c.getJSON(ctx, "profile", c.paths.Profile, nil, token, &w); err != nil {
		return Profile{}, err
	}
	p := Profile{GitHubLogin: w.GitHubLogin, AvatarURL: w.AvatarURL, Tier: w.Tier, CreatedAt: w.CreatedAt, NamespaceLimit: -1}
	if p.GitHubLogin == "" {
		p.GitHubLogin = w.Username
	}
	if p.Tier == "" {
		p.Tier = w.Plan
	}
	if p.Tier == "" {
		p.Tier = "free"
	}
	if w.NamespaceLimit != nil {
		p.NamespaceLimit = *w.NamespaceLimit
	}
	return p, nil
}

// Namespaces asks the registry for the namespaces held by the account behind token.
func (c *Client) Namespaces(ctx context.Context, token Secret) ([]Namespace, error) {
	if token.IsZero() {
		return nil, &Error{Op: "namespaces", Kind: ErrUnauthorized, Message: "not signed in"}
	}
	var raw json.RawMessage
	if err := c.getJSON(ctx, "namespaces", c.paths.Namespaces, nil, token, &raw); err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	var ws []namespaceWire
	if len(raw) > 0 && raw[0] == '{' {
		var obj struct {
			Namespaces []namespaceWire `json:"namespaces"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, &Error{Op: "namespaces", Kind: ErrBadResponse, Err: err}
		}
		ws = obj.Namespaces
	} else if err := json.Unmarshal(raw, &ws); err != nil {
		return nil, &Error{Op: "namespaces", Kind: ErrBadResponse, Err: err}
	}
	out := make([]Namespace, 0, len(ws))
	for _, w := range ws {
		n := Namespace{Prefix: w.Prefix}
		if n.Prefix == "" {
			n.Prefix = w.Namespace
		}
		if n.Prefix == "" {
			n.Prefix = w.ID
		}
		if n.Prefix == "" {
			continue
		}
		n.Kind = NamespaceKind(n.Prefix)
		switch {
		case w.WorkerCount != nil:
			n.WorkerCount = *w.WorkerCount
		case w.Workers != nil:
			n.WorkerCount = *w.Workers
		}
		if w.Public != nil {
			n.Public = *w.Public
		} else {
			n.Public = w.Visibility == "public"
		}
		out = append(out, n)
	}
	return out, nil
}

// Health calls the registry's health endpoint.
func (c *Client) Health(ctx context.Context) error {
	var raw json.RawMessage
	return c.getJSON(ctx, "health", c.paths.Health, nil, "", &raw)
}

// getJSON performs a GET with retries and decodes a 200 answer into out.
func (c *Client) getJSON(ctx context.Context, op, path string, q url.Values, token Secret, out any) error {
	u := c.base + path
	if len(q) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		u += sep + q.Encode()
	}
	backoff := c.o.Backoff
	for attempt := 0; ; attempt++ {
		if err := c.rateLimitedNow(op); err != nil {
			return err
		}
		err := c.once(ctx, op, u, token, out)
		if err == nil {
			return nil
		}
		var rerr *Error
		if !errors.As(err, &rerr) || attempt >= c.o.MaxRetries || ctx.Err() != nil {
			return err
		}
		var wait time.Duration
		switch rerr.Kind {
		case ErrRateLimited:
			wait = rerr.RetryAfter
			if wait <= 0 {
				wait = backoff
			}
			if wait > c.o.MaxRetryWait {
				c.block(wait)
				return err
			}
		case ErrUnavailable:
			if errors.Is(rerr.Err, context.DeadlineExceeded) {
				return err // a registry that timed out once would only make the caller wait again
			}
			wait = backoff/2 + rand.N(backoff/2+1)
		default:
			return err
		}
		c.o.Logger.Debug("registry call failed, retrying", "op", op, "attempt", attempt+1, "wait", wait, "err", err)
		backoff *= 2
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// rateLimitedNow refuses calls while a long Retry-After window is open.
func (c *Client) rateLimitedNow(op string) error {
	c.mu.Lock()
	until := c.blockedUntil
	c.mu.Unlock()
	if left := until.Sub(c.o.Now()); left > 0 {
		return &Error{Op: op, Kind: ErrRateLimited, Status: http.StatusTooManyRequests, RetryAfter: left, Message: "waiting out the registry's Retry-After"}
	}
	return nil
}

func (c *Client) block(d time.Duration) {
	c.mu.Lock()
	if until := c.o.Now().Add(d); until.After(c.blockedUntil) {
		c.blockedUntil = until
	}
	c.mu.Unlock()
}

func (c *Client) once(ctx context.Context, op, u string, token Secret, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &Error{Op: op, Kind: ErrRejected, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.o.UserAgent)
	if !token.IsZero() {
		req.Header.Set("Authorization", "Bearer "+token.Reveal())
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return &Error{Op: op, Kind: ErrUnavailable, Err: scrubURLError(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return &Error{Op: op, Kind: ErrUnavailable, Status: resp.StatusCode, Err: scrubURLError(err)}
	}
	if resp.StatusCode == http.StatusOK {
		if len(body) > maxBodyBytes {
			return &Error{Op: op, Kind: ErrBadResponse, Status: resp.StatusCode, Message: "answer larger than 4 MiB"}
		}
		if err := json.Unmarshal(body, out); err != nil {
			return &Error{Op: op, Kind: ErrBadResponse, Status: resp.StatusCode, Err: err}
		}
		return nil
	}
	e := &Error{Op: op, Status: resp.StatusCode, Message: errorMessage(body)}
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized:
		e.Kind = ErrUnauthorized
	case s == http.StatusForbidden:
		e.Kind = ErrForbidden
	case s == http.StatusNotFound:
		e.Kind = ErrNotFound
	case s == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.o.Now())
	case s >= 500:
		e.Kind = ErrUnavailable
	default:
		e.Kind = ErrRejected
	}
	return e
}

// scrubURLError drops the URL from a *url.Error (it is in the log context anyway
// and could carry query values).
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRetryAfter reads delta-seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// errorMessage extracts a short message from a registry error body.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	msg := v.Message
	var s string
	var obj struct {
		Message string `json:"message"`
	}
	switch {
	case json.Unmarshal(v.Error, &s) == nil && s != "":
		msg = s
	case json.Unmarshal(v.Error, &obj) == nil && obj.Message != "":
		msg = obj.Message
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return strings.ToValidUTF8(msg, "")
}

func ageSeconds(now, t time.Time) int64 {
	if t.IsZero() || now.Before(t) {
		return 0
	}
	return int64(now.Sub(t) / time.Second)
}
