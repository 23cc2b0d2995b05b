package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"testing"
)

// A browser session: the admin credential opens it once; its token works
// only with the browser's cookie; a second tab of the same browser opens its
// own session without ending the first; closing one ends only that one.
func TestBrowserSessions(t *testing.T) {
	e := newEnv(t, testRules)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	open := func(cred string) string {
		t.Helper()
		req, _ := http.NewRequest("POST", e.base+"/api/session", nil)
		req.Header.Set("Authorization", "Bearer "+cred)
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != 200 {
			t.Fatalf("open a session: %d %v", resp.StatusCode, m)
		}
		return m["session_token"].(string)
	}
	status := func(c *http.Client, tok string) int {
		req, _ := http.NewRequest("GET", e.base+"/api/status", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tab1 := open(e.token)
	tab2 := open(e.token)
	if status(browser, tab1) != 200 || status(browser, tab2) != 200 {
		t.Fatal("a second tab ended the first tab's session")
	}
	if status(http.DefaultClient, tab1) != 401 {
		t.Fatal("a session token worked without its browser's cookie")
	}
	req, _ := http.NewRequest("DELETE", e.base+"/api/session", nil)
	req.Header.Set("Authorization", "Bearer "+tab2)
	if resp, err := browser.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("close the session: %v %v", resp, err)
	}
	if status(browser, tab2) != 401 {
		t.Fatal("a closed session still works")
	}
}
