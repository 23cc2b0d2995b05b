package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDefaultsEnvAndSave(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "xdg-data"))
	t.Setenv(EnvDataDir, "")
	t.Setenv(EnvPort, "")
	t.Setenv(EnvRegistryURL, "")
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Completed() || cfg.Port != DefaultPort || cfg.DataDir != filepath.Join(dir, "xdg-data", "hallmonitor") ||
		cfg.RulesPath != filepath.Join(dir, "rules.json") || cfg.RegistryURL != DefaultRegistryURL {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg.Port, cfg.SetupCompletedAt = 9000, "2026-01-01T00:00:00Z"
	if err := Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json mode: %v %v", fi, err)
	}
	t.Setenv(EnvPort, "9100")
	t.Setenv(EnvRegistryURL, "http://127.0.0.1:1")
	got, err := Load(dir)
	if err != nil || got.Port != 9100 || !got.Completed() || got.RegistryURL != "http://127.0.0.1:1" {
		t.Fatalf("env override: %+v %v", got, err)
	}
	t.Setenv(EnvPort, "http")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), EnvPort) {
		t.Fatalf("bad port env: %v", err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	good, err := Defaults(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for field, mod := range map[string]func(*Config){
		"data_dir":        func(c *Config) { c.DataDir = "rel" },
		"port":            func(c *Config) { c.Port = 70000 },
		"registry_url":    func(c *Config) { c.RegistryURL = "https://user:pw@x" },
		"workers_dir":     func(c *Config) { c.WorkersDir = "" },
		"rules_path":      func(c *Config) { c.RulesPath = "rules.json" },
		"default_profile": func(c *Config) { c.DefaultProfile = "dev" },
	} {
		c := good
		mod(&c)
		fe, ok := c.Validate().(*FieldError)
		if !ok || fe.Field != field {
			t.Errorf("%s: %v", field, c.Validate())
		}
	}
}

func TestRejectsUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"port":1,"auth_token":"x"}`), 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "auth_token") {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestTokenAndKeyFiles(t *testing.T) {
	dir := t.TempDir()
	tok, err := LoadOrCreateToken(dir)
	if err != nil || len(tok) != 64 {
		t.Fatalf("token: %v", err)
	}
	again, _ := LoadOrCreateToken(dir)
	if again != tok {
		t.Fatal("token not stable")
	}
	if tok.String() != "[redacted]" || tok.LogValue().String() != "[redacted]" {
		t.Fatal("token not redacted")
	}
	os.Chmod(filepath.Join(dir, TokenFileName), 0o644)
	if _, err := LoadOrCreateToken(dir); err == nil {
		t.Fatal("a world-readable token file was accepted")
	}
	k1, err := LoadOrCreateSigningKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateSigningKey(dir)
	if err != nil || !k1.Equal(k2) {
		t.Fatal("signing key not stable")
	}
	os.WriteFile(filepath.Join(dir, SigningKeyFileName), []byte("zz"), 0o600)
	if _, err := LoadOrCreateSigningKey(dir); err == nil {
		t.Fatal("corrupt key accepted")
	}
}

// A self-hosted registry's endpoint paths and client id come from config.json.
func TestRegistryPathsFromConfigFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDataDir, "")
	t.Setenv(EnvPort, "")
	t.Setenv(EnvRegistryURL, "")
	body := `{"registry_url":"https://registry.example.org","registry_client_id":"my-hall",
	  "registry_paths":{"verify":"/v2/workers/{worker_id}","ban_list":"/v2/bans"}}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RegistryClientID != "my-hall" || cfg.RegistryPaths == nil || cfg.RegistryPaths.Verify != "/v2/workers/{worker_id}" {
		t.Fatalf("registry settings not loaded: %+v", cfg)
	}
	if p := cfg.RegistryPaths.WithDefaults(); p.BanList != "/v2/bans" || p.Token != "/auth/token" {
		t.Fatalf("left-out paths must keep the public registry's: %+v", p)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.RegistryPaths.Verify = "/v2/workers"
	var fe *FieldError
	if err := cfg.Validate(); err == nil || !errors.As(err, &fe) || fe.Field != "registry_paths" || !strings.Contains(fe.Message, "{worker_id}") {
		t.Fatalf("a verify path without {worker_id}: %v", err)
	}
}

// FuzzConfigFile: any config.json content loads or is refused with an error,
// never a panic, and what loads and validates survives Save and Load.
func FuzzConfigFile(f *testing.F) {
	f.Add(`{"port":8765,"registry_url":"https://api.pyhall.dev"}`)
	f.Add(`{"registry_paths":{"verify":"/v2/{worker_id}"},"registry_callback":"loopback","hall_config":{"require_signatory":"yes"}}`)
	f.Add(`{"hall_config":{"allowed_tenants":[1,2]},"port":-1}`)
	f.Fuzz(func(t *testing.T, body string) {
		dir := t.TempDir()
		t.Setenv(EnvDataDir, "")
		t.Setenv(EnvPort, "")
		t.Setenv(EnvRegistryURL, "")
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(dir)
		if err != nil || cfg.Validate() != nil {
			return
		}
		if err := Save(dir, cfg); err != nil {
			t.Fatalf("a valid config does not save: %v", err)
		}
		again, err := Load(dir)
		if err != nil || again.Validate() != nil {
			t.Fatalf("a saved config does not load back: %v", err)
		}
	})
}

func TestOTLPKeys(t *testing.T) {
	for _, tc := range []struct {
		endpoint, protocol, field string
	}{
		{"", "", ""},
		{"http://127.0.0.1:4318", "", ""},
		{"https://collector.example:4317", "grpc", ""},
		{"http://[::1]:4318/base", "http", ""},
		{"127.0.0.1:4318", "http", "otlp_endpoint"},
		{"ftp://x:1", "http", "otlp_endpoint"},
		{"http://user:pw@x:1", "http", "otlp_endpoint"},
		{"http://x:1/?q=1", "http", "otlp_endpoint"},
		{"http://x:1", "udp", "otlp_protocol"},
	} {
		err := Config{OTLPEndpoint: tc.endpoint, OTLPProtocol: tc.protocol}.ValidateOTLP()
		var fe *FieldError
		if tc.field == "" && err != nil || tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
			t.Errorf("%q %q: %v, want field %q", tc.endpoint, tc.protocol, err, tc.field)
		}
	}
	// The keys survive a save and load; off is the default.
	dir := t.TempDir()
	t.Setenv(EnvDataDir, "")
	t.Setenv(EnvPort, "")
	t.Setenv(EnvRegistryURL, "")
	cfg, err := Load(dir)
	if err != nil || cfg.OTLPEndpoint != "" || cfg.OTLPIncludeInputs {
		t.Fatalf("default: %+v %v", cfg, err)
	}
	cfg.OTLPEndpoint, cfg.OTLPProtocol, cfg.OTLPIncludeInputs = "http://127.0.0.1:4317", "grpc", true
	if err := Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil || got.OTLPEndpoint != cfg.OTLPEndpoint || got.OTLPProtocol != "grpc" || !got.OTLPIncludeInputs {
		t.Fatalf("reloaded: %+v %v", got, err)
	}
	cfg.OTLPProtocol = "udp"
	if err := Save(dir, cfg); err == nil {
		t.Fatal("Save accepted otlp_protocol udp")
	}
}
