package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"hallmonitor/hallapi/registry"
	"hallmonitor/internal/testservers/registrytest"
)

// clock is a settable time source for cache-age tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClient(t *testing.T, base string, mod func(*registry.Options)) *registry.Client {
	t.Helper()
	o := registry.Options{BaseURL: base, Backoff: 10 * time.Millisecond, Timeout: 2 * time.Second,
		Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&o)
	}
	c, err := registry.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerifyKnownUnknownAndCached(t *testing.T) {
	srv := registrytest.New(t, registrytest.Options{})
	srv.PutWorker(registry.VerifyResponse{WorkerID: "x.a.w", Status: "active", CurrentHash: "sha256:aa"})
	clk := &clock{t: time.Now()}
	c := newClient(t, srv.URL, func(o *registry.Options) { o.Now = clk.Now })
	ctx := context.Background()

	got, err := c.Verify(ctx, "x.a.w")
	if err != nil || got.Status != "active" || got.CurrentHash != "sha256:aa" || got.Cached {
		t.Fatalf("first verify = %+v, %v", got, err)
	}
	clk.Add(10 * time.Second)
	got, err = c.Verify(ctx, "x.a.w")
	if err != nil || !got.Cached || got.AgeSeconds != 10 || srv.Hits(registrytest.RouteVerify) != 1 {
		t.Fatalf("second verify should come from the cache: %+v, %v, hits=%d", got, err, srv.Hits(registrytest.RouteVerify))
	}
	clk.Add(registry.DefaultCacheTTL)
	if _, err := c.Verify(ctx, "x.a.w"); err != nil || srv.Hits(registrytest.RouteVerify) != 2 {
		t.Fatalf("expired entry must be re-fetched: %v hits=%d", err, srv.Hits(registrytest.RouteVerify))
	}

	unk, err := c.Verify(ctx, "x.nobody.w")
	if err != nil || unk.Status != registry.StatusUnknown || unk.Banned || unk.WorkerID != "x.nobody.w" {
		t.Fatalf("404 must read as unknown, got %+v, %v", unk, err)
	}
}

func TestVerifyEscapesID(t *testing.T) {
	srv := registrytest.New(t, registrytest.Options{})
	c := newClient(t, srv.URL, nil)
	for _, id := range []string{"org.x/../../admin", "a?b=c#d", "x y:z@w&v=1+2$", "%2F", "ünï.côdé"} {
		res, err := c.Verify(context.Background(), id)
		if err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if got := srv.LastVerifiedID(); got != id || res.Status != registry.StatusUnknown {
			t.Fatalf("registry received id %q for %q (status %q): the id was not escaped as one segment", got, id, res.Status)
		}
	}
	for _, bad := range []string{"", ".", "..", "a\nb", strings.Repeat("a", 600)} {
		if _, err := c.Verify(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "worker_id") {
			t.Fatalf("%q: want a worker_id error, got %v", bad, err)
		}
	}
}

func TestRateLimitRetryAfterIsHonoured(t *testing.T) {
	srv := registrytest.New(t, registrytest.Options{})
	srv.Fail(registrytest.RouteVerify, registrytest.Failure{Status: 429, RetryAfter: time.Second, Count: 1})
	c := newClient(t, srv.URL, nil)
	start := time.Now()
	res, err := c.Verify(context.Background(), "x.a.w")
	if err != nil || res.Status != registry.StatusUnknown {
		t.Fatalf("after one 429 the retry should succeed: %+v, %v", res, err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("retried after %v, before the 1 s Retry-After", el)
	}
	if h := srv.Hits(registrytest.RouteVerify); h != 2 {
		t.Fatalf("hits = %d, want 2", h)
	}
}

func TestRateLimitLongRetryAfterBlocksCalls(t *testing.T) {
	srv := registrytest.New(t, registrytest.Options{})
	srv.Fail(registrytest.RouteAll, registrytest.Failure{Status: 429, RetryAfter: time.Minute})
	c := newClient(t, srv.URL, nil)
	_, err := c.BanList(context.Background(), 0)
	var rerr *registry.Error
	if !errors.Is(err, registry.ErrRateLimited) || !errors.As(err, &rerr) || rerr.RetryAfter != time.Minute {
		t.Fatalf("want ErrRateLimited with RetryAfter 1m, got %v", err)
	}
	_, err = c.Verify(context.Background(), "x.a.w")
	if !errors.Is(err, registry.ErrRateLimited) {
		t.Fatalf("calls inside the Retry-After window must be refused locally: %v", err)
	}
	if h := srv.Hits(registrytest.RouteVerify); h != 0 {
		t.Fatalf("the registry was asked %d times inside the Retry-After window", h)
	}
}

func TestServerErrorsRetryThenFail(t *testing.T) {
	srv := registrytest.New(t, registrytest.Options{})
	c := newClient(t, srv.URL, nil)
	srv.Fail(registrytest.RouteBanList, registrytest.Failure{Status: 500, Count: 1})
	if _, err := c.BanList(context.Background(), 0); err != nil {
		t.Fatalf("one 500 then success: %v", err)
	}
	c.Forget()
	srv.Fail(registrytest.RouteBanList, registrytest.Failure{Status: 503})
	before := srv.Hits(registrytest.RouteBanList)
	_, err := c.BanList(context.Background(), 0)
	if !errors.Is(err, registry.ErrUnavailable) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("want ErrUnavailable naming 503, got %v", err)
	}
	if h := srv.Hits(registrytest.RouteBanList) - before; h != 1+registry.DefaultMaxRetries {
		t.Fatalf("%d attempts, want %d", h, 1+registry.DefaultMaxRetries)
	}
}

func TestAuthErrorsAreNotRetried(t *testing.T) {
	srv := registrytest.New(t, registrytest.Options{})
	c := newClient(t, srv.URL, nil)
	for status, want := range map[int]error{401: registry.ErrUnauthorized, 403: registry.ErrForbidden, 400: registry.ErrRejected} {
		srv.Fail(registrytest.RouteStanding, registrytest.Failure{Status: status})
		before := srv.Hits(registrytest.RouteStanding)
		_, err := c.Standing(context.Background(), "tok")
		if !errors.Is(err, want) {
			t.Fatalf("%d: want %v, got %v", status, want, err)
		}
		if h := srv.Hits(registrytest.RouteStanding) - before; h != 1 {
			t.Fatalf("%d was retried (%d attempts)", status, h)
		}
	}
	if _, err := c.Standing(context.Background(), ""); !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("no token: %v", err)
	}
}

func TestOfflineReturnsLastKnownWithAgeAndError(t *testing.T) {
	srv, err := registrytest.Start(registrytest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv.PutWorker(registry.VerifyResponse{WorkerID: "x.a.w", Status: "active", CurrentHash: "sha256:bb"})
	srv.Ban(registry.BanEntry{SHA256: "ab", Reason: "bad"})
	clk := &clock{t: time.Now()}
	c := newClient(t, srv.URL, func(o *registry.Options) { o.Now = clk.Now; o.MaxRetries = -1 })
	ctx := context.Background()
	if _, err := c.Verify(ctx, "x.a.w"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BanList(ctx, 0); err != nil {
		t.Fatal(err)
	}
	_ = srv.Close()
	clk.Add(5 * time.Minute)

	res, err := c.Verify(ctx, "x.a.w")
	if !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("registry down must be reported, got %v", err)
	}
	if !res.Stale || !res.Cached || res.CurrentHash != "sha256:bb" || res.AgeSeconds != 300 || res.Error == "" {
		t.Fatalf("want the last known answer marked stale with age 300 and the error, got %+v", res)
	}
	bl, err := c.BanList(ctx, 0)
	if err == nil || !bl.Stale || bl.AgeSeconds != 300 {
		t.Fatalf("ban list offline: %+v, %v", bl, err)
	}
	if _, banned := bl.Banned("ab"); !banned {
		t.Fatal("stale ban list lost its entries")
	}
	if _, err := c.Verify(ctx, "x.never.seen"); !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("no last known answer: want ErrUnavailable, got %v", err)
	}
}

func TestTimeout(t *testing.T) {
	srv := registrytest.New(t, registrytest.Options{})
	srv.SetDelay(2 * time.Second)
	c := newClient(t, srv.URL, func(o *registry.Options) { o.Timeout = 100 * time.Millisecond })
	start := time.Now()
	err := c.Health(context.Background())
	if h := srv.Hits(registrytest.RouteHealth); h != 1 {
		t.Fatalf("a timed-out call was retried (%d attempts)", h)
	}
	if !errors.Is(err, registry.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a timeout, got %v", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("timeout took %v", el)
	}
}

func TestAccountCallsNeedAValidSession(t *testing.T) {
	srv := registrytest.New(t, registrytest.Options{})
	c := newClient(t, srv.URL, nil)
	// Not signed in at the registry: every account call is 401.
	if _, err := c.Profile(context.Background(), "not-a-session"); !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("unknown token: %v", err)
	}
	if _, err := c.Namespaces(context.Background(), "not-a-session"); !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestBadResponses(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/ban-list", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"nope":1}`) })
	mux.HandleFunc("GET /api/v1/verify/{id}", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `not json`) })
	mux.HandleFunc("GET /api/account/standing", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"tier":"team","grace_seconds_remaining":-5}`)
	})
	hs := &http.Server{Handler: mux}
	ln := listen(t)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	c := newClient(t, "http://"+ln.Addr().String(), nil)
	if _, err := c.BanList(context.Background(), 0); !errors.Is(err, registry.ErrBadResponse) {
		t.Fatalf("ban list object without entries: %v", err)
	}
	if _, err := c.Verify(context.Background(), "x"); !errors.Is(err, registry.ErrBadResponse) {
		t.Fatalf("verify not json: %v", err)
	}
	if _, err := c.Standing(context.Background(), "t"); !errors.Is(err, registry.ErrBadResponse) {
		t.Fatalf("negative grace: %v", err)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	cases := []struct {
		o    registry.Options
		want string
	}{
		{registry.Options{BaseURL: "ftp://x"}, "registry_url"},
		{registry.Options{BaseURL: "https://"}, "registry_url"},
		{registry.Options{BaseURL: "https://x?a=b"}, "registry_url"},
		{registry.Options{Paths: registry.Paths{Standing: "api/x"}}, "paths.standing"},
		{registry.Options{Paths: registry.Paths{Verify: "/api/v1/verify"}}, "paths.verify"},
	}
	for _, tc := range cases {
		if _, err := registry.New(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: want error naming %s, got %v", tc.o, tc.want, err)
		}
	}
	c, err := registry.New(registry.Options{})
	if err != nil || c.BaseURL() != registry.DefaultBaseURL {
		t.Fatalf("default base: %v %v", c, err)
	}
}

func TestCustomPathsSelfHostedRegistry(t *testing.T) {
	paths := registry.Paths{Verify: "/wcp/v2/workers/{worker_id}/status", BanList: "/wcp/v2/bans", Health: "/healthz"}
	srv := registrytest.New(t, registrytest.Options{Paths: paths})
	srv.PutWorker(registry.VerifyResponse{WorkerID: "org.acme.w", Status: "active"})
	c := newClient(t, srv.URL+"/", func(o *registry.Options) { o.Paths = paths })
	if res, err := c.Verify(context.Background(), "org.acme.w"); err != nil || res.Status != "active" {
		t.Fatalf("custom verify path: %+v %v", res, err)
	}
	if err := c.Health(context.Background()); err != nil {
		t.Fatalf("custom health path: %v", err)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const value = "rat_supersecret_value"
	s := registry.Secret(value)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "token", s, "nested", slog.GroupValue(slog.Any("t", s)))
	slog.New(slog.NewTextHandler(&buf, nil)).Info("y", "token", s)
	for _, verb := range []string{"%v", "%s", "%q", "%x", "%d", "%#v", "%+v", "%10s"} {
		fmt.Fprintf(&buf, verb+"\n", s)
	}
	fmt.Fprintf(&buf, "%v\n", struct{ T registry.Secret }{s})
	j, _ := json.Marshal(map[string]any{"t": s})
	buf.Write(j)
	if strings.Contains(buf.String(), value) || strings.Contains(buf.String(), fmt.Sprintf("%x", value)) {
		t.Fatalf("secret leaked:\n%s", buf.String())
	}
	if s.Reveal() != value {
		t.Fatal("Reveal must return the value")
	}
}

func TestNamespaceKind(t *testing.T) {
	for in, want := range map[string]string{"x.me": "x", "org.acme": "org", "xorg": "other", "x": "other", "": "other", "organic": "other"} {
		if got := registry.NamespaceKind(in); got != want {
			t.Errorf("NamespaceKind(%q) = %q, want %q", in, got, want)
		}
	}
}
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestConcurrentVerifiesShareOneRequest(t *testing.T) {
	srv := registrytest.New(t, registrytest.Options{})
	srv.PutWorker(registry.VerifyResponse{WorkerID: "x.a.w", Status: "active"})
	srv.SetDelay(200 * time.Millisecond)
	c := newClient(t, srv.URL, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			res, err := c.Verify(context.Background(), "x.a.w")
			if err == nil && res.Status != "active" {
				err = fmt.Errorf("status %q", res.Status)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if h := srv.Hits(registrytest.RouteVerify); h != 1 {
		t.Fatalf("20 concurrent verifies of one id made %d requests, want 1", h)
	}
}

func FuzzEscapeID(f *testing.F) {
	for _, s := range []string{"x.a.w", "a/b", "../..", "%2F", "a b?c#d", "ü", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := registry.EscapeID(s)
		for i := 0; i < len(e); i++ {
			c := e[i]
			ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~%", c) >= 0
			if !ok {
				t.Fatalf("EscapeID(%q) = %q holds %q", s, e, c)
			}
		}
		back, err := url.PathUnescape(e)
		if err != nil || back != s {
			t.Fatalf("EscapeID(%q) = %q does not round-trip: %q %v", s, e, back, err)
		}
	})
}
