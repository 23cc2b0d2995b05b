package hall

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallmonitor/hallapi/config"
)

func TestOpenServeClose(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(config.EnvDataDir, "")
	t.Setenv(config.EnvPort, "")
	h, err := Open(Options{ConfigDir: filepath.Join(dir, "cfg"), DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0", Version: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := h.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Server.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]any
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if health["status"] != "ok" || health["db_path"] != nil || health["log_path"] != nil {
		t.Fatalf("health (public) must name no file: %v", health)
	}
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/api/status", nil)
	req.Header.Set("Authorization", "Bearer "+string(h.Server.AdminToken()))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Server map[string]any `json:"server"`
	}
	json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if status.Server["db_path"] != filepath.Join(dir, "data", "hall.db") {
		t.Fatalf("status server: %v", status.Server)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "cfg", "api-token"), filepath.Join(dir, "data", "hall-key"), filepath.Join(dir, "data", "hall.db")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", p, fi, err)
		}
	}
	// Reopen the same directories: same token, migrated DB accepted.
	h2, err := Open(Options{ConfigDir: filepath.Join(dir, "cfg"), DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if h2.Server.Token() != h.Server.Token() {
		t.Fatal("token changed across restarts")
	}
	if _, err := Open(Options{ConfigDir: filepath.Join(dir, "cfg"), Listen: "nonsense"}); err == nil {
		t.Fatal("bad listen address accepted")
	}
}

// registry_callback picks where the registry sends the browser: the Hall's
// own callback by default, a one-shot loopback listener with "loopback".
func TestLoginCallbackMode(t *testing.T) {
	for _, mode := range []string{"", "loopback"} {
		t.Run("mode="+mode, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(config.EnvDataDir, "")
			t.Setenv(config.EnvPort, "")
			h, err := Open(Options{ConfigDir: filepath.Join(dir, "cfg"), DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			h.Config.RegistryCallback = mode
			ln, err := h.Listen()
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := h.Start(ctx, ln.Addr()); err != nil {
				t.Fatal(err)
			}
			go h.Server.Serve(ctx, ln)
			req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/auth/login", strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+string(h.Server.AdminToken()))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var l struct {
				AuthURL string `json:"auth_url"`
			}
			json.NewDecoder(resp.Body).Decode(&l)
			resp.Body.Close()
			hallCB := url.QueryEscape("http://" + ln.Addr().String() + "/api/auth/callback")
			if got := strings.Contains(l.AuthURL, "redirect_uri="+hallCB); got != (mode == "") {
				t.Fatalf("mode %q: auth URL %q", mode, l.AuthURL)
			}
			if mode == "loopback" && !strings.Contains(l.AuthURL, "redirect_uri="+url.QueryEscape("http://127.0.0.1:")) {
				t.Fatalf("loopback mode: auth URL %s", l.AuthURL)
			}
		})
	}
}
