package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"hallmonitor/hallapi/account"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/internal/testservers/halltest"
	"hallmonitor/internal/testservers/registrytest"
)

// TestMountedOnHallAPIServer wires the account service into the real Hall API
// server (as app/hall does) and runs the public registry's flow: the browser
// returns to the Hall's own /api/auth/callback (public), everything else needs
// the API token, and /api/status reports the account.
func TestMountedOnHallAPIServer(t *testing.T) {
	keyring.MockInitWithError(errors.New("no Secret Service"))
	reg := registrytest.New(t, registrytest.Options{})
	h := halltest.Start(t, halltest.Options{
		HTTP: func(o *httpapi.Options) { o.Config.RegistryURL = reg.URL },
		Mount: func(ctx context.Context, h *halltest.Hall) (func(), error) {
			svc, err := account.Open(account.Config{ConfigDir: h.ConfigDir, RegistryURL: h.Config.RegistryURL,
				CallbackURL: h.Base + "/api/auth/callback", Publisher: h.Store, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return nil, err
			}
			h.Server.MountAccount(svc)
			svc.Start(ctx)
			return nil, nil
		},
	})
	srv, base := h.Server, h.Base

	call := func(method, path, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	tok := string(srv.AdminToken())

	// Every account route but the browser's callback needs the API token.
	for _, rt := range srv.Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if !strings.HasPrefix(path, "/api/auth") && !strings.HasPrefix(path, "/api/server") && !strings.HasPrefix(path, "/api/profile") && !strings.HasPrefix(path, "/wcp/registry") {
			continue
		}
		status, _ := call(method, strings.ReplaceAll(strings.ReplaceAll(path, "{login_id}", "x"), "{worker_id}", "x.a.b"), "")
		if public := path == "/api/auth/callback"; public != (rt.Access == httpapi.Public) || !public && status != 401 {
			t.Errorf("%s: access %v, answered %d without a token", rt.Pattern, rt.Access, status)
		}
	}
	if status, _ := call("POST", "/api/auth/login", ""); status != 401 {
		t.Fatalf("login without the API token: %d", status)
	}
	if status, _ := call("GET", "/wcp/registry/ban-list", ""); status != 401 {
		t.Fatalf("registry proxy without the API token: %d", status)
	}
	if status, m := call("POST", "/api/server/go-online", tok); status != 409 || m["error"].(map[string]any)["code"] != account.CodeNotLoggedIn {
		t.Fatalf("go-online signed out must not be a 401 (the UI reads 401 as a wrong API token): %d %v", status, m)
	}
	status, a := call("POST", "/api/auth/login", tok)
	if status != 200 || !strings.Contains(a["auth_url"].(string), "redirect_uri="+strings.ReplaceAll(strings.ReplaceAll(base, ":", "%3A"), "/", "%2F")) {
		t.Fatalf("login: %d %v", status, a)
	}
	// The browser carries no API token: the callback must be public.
	page, err := registrytest.Browse(nil, a["auth_url"].(string), true)
	if err != nil || page.Status != 200 || !strings.Contains(page.Body, "Signed in") || page.URL.Path != "/api/auth/callback" {
		t.Fatalf("callback through the Hall API: %+v %v", page, err)
	}
	id := a["login_id"].(string)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, s := call("GET", "/api/auth/login/"+id, tok)
		if s["status"] == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("login status %v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, s := call("GET", "/api/status", tok)
		if s["logged_in"] == true && s["github_login"] == "octocat" && s["state"] == "ready" && s["account_standing"] == "ok" && s["tier"] == "indie" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status after sign-in: %v", s)
		}
	}
	if status, m := call("POST", "/api/server/go-online", tok); status != 200 || m["ok"] != true {
		t.Fatalf("go-online: %d %v", status, m)
	}
	if _, s := call("GET", "/api/status", tok); s["state"] != "online" || s["online"] != true {
		t.Fatalf("status online: %v", s)
	}
}

func TestOpenErrorsNameTheField(t *testing.T) {
	if _, err := account.Open(account.Config{}); err == nil || !strings.Contains(err.Error(), "ConfigDir") {
		t.Fatalf("missing config dir: %v", err)
	}
	if _, err := account.Open(account.Config{ConfigDir: t.TempDir(), RegistryURL: "api.pyhall.dev"}); err == nil || !strings.Contains(err.Error(), "registry_url") {
		t.Fatalf("registry URL without scheme: %v", err)
	}
	if _, err := account.Open(account.Config{ConfigDir: t.TempDir(), CallbackURL: "http://example.com:80/cb"}); err == nil || !strings.Contains(err.Error(), "callback_url") {
		t.Fatalf("non-loopback callback: %v", err)
	}
}
