package registrytest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"hallmonitor/internal/testservers/registrytest"
)

const redirect = "http://127.0.0.1:9/callback"

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func challenge(v string) string {
	s := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// authorize approves an authorization request the way the browser would and
// returns the redirect's query.
func authorize(t *testing.T, s *registrytest.Server, verifier, state string) url.Values {
	t.Helper()
	q := url.Values{"client_id": {"hm"}, "redirect_uri": {redirect}, "state": {state}, "response_type": {"code"},
		"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}, "desktop": {"1"}}
	page, err := registrytest.Browse(noFollow, s.URL+"/auth/github?"+q.Encode(), true)
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusSeeOther || !strings.HasPrefix(page.URL.String(), redirect) {
		t.Fatalf("approve: %d %q", page.Status, page.URL)
	}
	return page.URL.Query()
}

func exchange(t *testing.T, s *registrytest.Server, code, verifier string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/auth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"hm"},
		"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func standingWith(t *testing.T, s *registrytest.Server, tok string) int {
	req, _ := http.NewRequest("GET", s.URL+"/api/account/standing", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const verifier = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

func TestPKCEVerifierIsChecked(t *testing.T) {
	s := registrytest.New(t, registrytest.Options{})
	q := authorize(t, s, verifier, "st1")
	if q.Get("state") != "st1" {
		t.Fatalf("state not echoed: %v", q)
	}
	status, body := exchange(t, s, q.Get("code"), strings.Replace(verifier, "0", "1", 1))
	if status != 400 || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "PKCE") {
		t.Fatalf("wrong verifier accepted: %d %v", status, body)
	}
	// The code was burned by the failed attempt.
	if status, _ := exchange(t, s, q.Get("code"), verifier); status != 400 {
		t.Fatalf("code usable after a failed PKCE check: %d", status)
	}
}

func TestCodeIsSingleUseAndReplayRevokes(t *testing.T) {
	s := registrytest.New(t, registrytest.Options{})
	q := authorize(t, s, verifier, "st2")
	status, body := exchange(t, s, q.Get("code"), verifier)
	tok, _ := body["access_token"].(string)
	if status != 200 || tok == "" || body["token_type"] != "Bearer" {
		t.Fatalf("exchange: %d %v", status, body)
	}
	if standingWith(t, s, tok) != 200 {
		t.Fatal("fresh token refused")
	}
	status, body = exchange(t, s, q.Get("code"), verifier)
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("replayed code: %d %v", status, body)
	}
	if standingWith(t, s, tok) != 401 {
		t.Fatal("a replayed code must revoke the token it issued")
	}
}

func TestAuthorizeRejectsBadRequests(t *testing.T) {
	s := registrytest.New(t, registrytest.Options{ClientID: "hm"})
	base := url.Values{"client_id": {"hm"}, "redirect_uri": {redirect}, "state": {"s"}, "response_type": {"code"},
		"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}}
	for name, mod := range map[string]func(url.Values){
		"foreign redirect": func(v url.Values) { v.Set("redirect_uri", "http://evil.example:80/cb") },
		"https redirect":   func(v url.Values) { v.Set("redirect_uri", "https://127.0.0.1:9/cb") },
		"wrong client":     func(v url.Values) { v.Set("client_id", "other") },
	} {
		v := url.Values{}
		for k, vs := range base {
			v[k] = append([]string{}, vs...)
		}
		mod(v)
		resp, err := noFollow.Get(s.URL + "/auth/github?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400 page (never a redirect)", name, resp.StatusCode)
		}
	}
	for name, mod := range map[string]func(url.Values){
		"plain PKCE": func(v url.Values) { v.Set("code_challenge_method", "plain") },
		"no PKCE":    func(v url.Values) { v.Del("code_challenge") },
		"no state":   func(v url.Values) { v.Del("state") },
	} {
		v := url.Values{}
		for k, vs := range base {
			v[k] = append([]string{}, vs...)
		}
		mod(v)
		resp, err := noFollow.Get(s.URL + "/auth/github?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("%s: %d %q, want a redirect with error=invalid_request", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestRefreshRotatesAndExpiredTokensAreRefused(t *testing.T) {
	s := registrytest.New(t, registrytest.Options{})
	q := authorize(t, s, verifier, "st3")
	_, body := exchange(t, s, q.Get("code"), verifier)
	tok, rt := body["access_token"].(string), body["refresh_token"].(string)
	s.ExpireTokens()
	if standingWith(t, s, tok) != 401 {
		t.Fatal("expired token accepted")
	}
	resp, err := http.PostForm(s.URL+"/auth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"hm"}, "refresh_token": {rt}})
	if err != nil {
		t.Fatal(err)
	}
	var nb map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&nb)
	resp.Body.Close()
	nt, _ := nb["access_token"].(string)
	if resp.StatusCode != 200 || nt == "" || standingWith(t, s, nt) != 200 {
		t.Fatalf("refresh: %d %v", resp.StatusCode, nb)
	}
	resp, _ = http.PostForm(s.URL+"/auth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"hm"}, "refresh_token": {rt}})
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("old refresh token reused: %d", resp.StatusCode)
	}
}

func TestControlEndpoints(t *testing.T) {
	s := registrytest.New(t, registrytest.Options{})
	post := func(path, body string) int {
		resp, err := http.Post(s.URL+registrytest.ControlPrefix+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if post("fail", `{"route":"health","status":503}`) != 200 {
		t.Fatal("fail switch refused")
	}
	resp, _ := http.Get(s.URL + "/health")
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("health after the fail switch: %d", resp.StatusCode)
	}
	if post("reset", `{}`) != 200 {
		t.Fatal("reset refused")
	}
	resp, _ = http.Get(s.URL + "/health")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health after reset: %d", resp.StatusCode)
	}
	if post("standing", `{"standing":"banana"}`) != 400 || post("fail", `{"route":"x","status":200}`) != 400 || post("delay", `{"ms":1}`) != 400 {
		t.Fatal("bad control bodies accepted")
	}
	if post("worker", `{"worker_id":"x.a","status":"active"}`) != 200 {
		t.Fatal("worker switch refused")
	}
	resp, _ = http.Get(s.URL + "/api/v1/verify/x.a")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("worker added over HTTP not served: %d", resp.StatusCode)
	}
}
