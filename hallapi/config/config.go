// Package config locates Hall Monitor's directories (XDG on Linux), reads and
// atomically writes config.json, and manages the two secrets kept beside it:
// the local API token (<config dir>/api-token) and the Hall's Ed25519 signing
// key (<data dir>/hall-key). Both secret files are created with mode 0600.
package config

import (
	"hallmonitor/core"
	"hallmonitor/hallapi/registry"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Environment variables that override defaults (flags on `serve` override these).
const (
	EnvConfigDir   = "HALLMONITOR_CONFIG_DIR"
	EnvDataDir     = "HALLMONITOR_DATA_DIR"
	EnvPort        = "HALLMONITOR_PORT"
	EnvRegistryURL = "HALLMONITOR_REGISTRY_URL"
)

// Defaults of the product.
const (
	DefaultPort           = 8765
	DefaultRegistryURL    = "https://api.pyhall.dev"
	DefaultProfile        = "prof.dev.permissive"
	FileName              = "config.json"
	TokenFileName         = "api-token"
	SigningKeyFileName    = "hall-key"
	DatabaseFileName      = "hall.db"
	appDirName            = "hallmonitor"
	maxConfigFileBytes    = 1 << 20
	configFilePermissions = 0o600
)

// Config is the content of config.json (written by the setup wizard).
type Config struct {
	DataDir          string `json:"data_dir"`
	Port             int    `json:"port"`
	RegistryURL      string `json:"registry_url"`
	WorkersDir       string `json:"workers_dir"`
	RulesPath        string `json:"rules_path"`
	DefaultProfile   string `json:"default_profile"`
	SetupCompletedAt string `json:"setup_completed_at"`
	// RegistryPaths overrides registry endpoint paths (a self-hosted
	// registry); fields left out keep the public registry's.
	RegistryPaths *registry.Paths `json:"registry_paths,omitempty"`
	// RegistryClientID is the OAuth client id at the registry ("" =
	// "hallmonitor").
	RegistryClientID string `json:"registry_client_id,omitempty"`
	// HallConfig is the WCP hall_config the Hall decides with (signatory
	// tenants, required controls, ...); nil is the reference default.
	// Worker attestation is turned on by the Hall itself for packaged
	// workers.
	HallConfig *core.HallConfig `json:"hall_config,omitempty"`
	// RegistryCallback is where the registry sends the browser after
	// sign-in: "hall" (default; the Hall's own /api/auth/callback, as the
	// public registry does) or "loopback" (a one-shot listener on a random
	// 127.0.0.1 port per sign-in, RFC 8252, for standard OAuth registries).
	RegistryCallback string `json:"registry_callback,omitempty"`
	// OTLPEndpoint is the OpenTelemetry collector the Hall exports its
	// decisions, dispatches, approvals and alerts to, as a URL
	// (http://host:4318 for otlp_protocol "http", http://host:4317 for
	// "grpc"; https for TLS). Empty (the default): nothing is sent anywhere.
	OTLPEndpoint string `json:"otlp_endpoint,omitempty"`
	// OTLPProtocol is "http" (OTLP HTTP/protobuf, the default) or "grpc".
	OTLPProtocol string `json:"otlp_protocol,omitempty"`
	// OTLPIncludeInputs adds each decision's (redacted) request input to its
	// span. Off (the default): request bodies never leave the machine.
	OTLPIncludeInputs bool `json:"otlp_include_inputs,omitempty"`
}

// FieldError is a validation error that names the offending JSON field.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ConfigDir returns the configuration directory: $HALLMONITOR_CONFIG_DIR, else
// $XDG_CONFIG_HOME/hallmonitor, else ~/.config/hallmonitor.
func ConfigDir() (string, error) {
	if d := os.Getenv(EnvConfigDir); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, appDirName), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the configuration directory: set %s or HOME: %w", EnvConfigDir, err)
	}
	return filepath.Join(home, ".config", appDirName), nil
}

// DefaultDataDir returns $XDG_DATA_HOME/hallmonitor, else ~/.local/share/hallmonitor.
func DefaultDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, appDirName), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the data directory: set %s or HOME: %w", EnvDataDir, err)
	}
	return filepath.Join(home, ".local", "share", appDirName), nil
}

// Defaults returns the default configuration for a configuration directory.
func Defaults(configDir string) (Config, error) {
	dataDir, err := DefaultDataDir()
	if err != nil {
		return Config{}, err
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = dataDir
	}
	return Config{
		DataDir:        dataDir,
		Port:           DefaultPort,
		RegistryURL:    DefaultRegistryURL,
		WorkersDir:     filepath.Join(home, "hallmonitor-workers"),
		RulesPath:      filepath.Join(configDir, "rules.json"),
		DefaultProfile: DefaultProfile,
	}, nil
}

// Load reads <configDir>/config.json over the defaults, then applies the
// environment overrides (HALLMONITOR_DATA_DIR, HALLMONITOR_PORT,
// HALLMONITOR_REGISTRY_URL). A missing file is not an error: the defaults are
// returned and Completed reports false.
func Load(configDir string) (Config, error) {
	cfg, err := Defaults(configDir)
	if err != nil {
		return Config{}, err
	}
	p := filepath.Join(configDir, FileName)
	b, err := readLimited(p, maxConfigFileBytes)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return Config{}, fmt.Errorf("read %s: %w", p, err)
	default:
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		var fromFile Config
		if err := dec.Decode(&fromFile); err != nil {
			return Config{}, fmt.Errorf("%s is not valid config JSON (%v): fix or delete the file and run setup again", p, err)
		}
		merge(&cfg, fromFile)
	}
	if err := applyEnv(&cfg); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func merge(dst *Config, src Config) {
	if src.DataDir != "" {
		dst.DataDir = src.DataDir
	}
	if src.Port != 0 {
		dst.Port = src.Port
	}
	if src.RegistryURL != "" {
		dst.RegistryURL = src.RegistryURL
	}
	if src.WorkersDir != "" {
		dst.WorkersDir = src.WorkersDir
	}
	if src.RulesPath != "" {
		dst.RulesPath = src.RulesPath
	}
	if src.DefaultProfile != "" {
		dst.DefaultProfile = src.DefaultProfile
	}
	dst.SetupCompletedAt = src.SetupCompletedAt
	if src.RegistryPaths != nil {
		dst.RegistryPaths = src.RegistryPaths
	}
	if src.RegistryClientID != "" {
		dst.RegistryClientID = src.RegistryClientID
	}
	if src.HallConfig != nil {
		dst.HallConfig = src.HallConfig
	}
	if src.RegistryCallback != "" {
		dst.RegistryCallback = src.RegistryCallback
	}
	dst.OTLPEndpoint, dst.OTLPProtocol, dst.OTLPIncludeInputs = src.OTLPEndpoint, src.OTLPProtocol, src.OTLPIncludeInputs
}

func applyEnv(cfg *Config) error {
	if d := os.Getenv(EnvDataDir); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("%s=%q: %w", EnvDataDir, d, err)
		}
		cfg.DataDir = abs
	}
	if p := os.Getenv(EnvPort); p != "" {
		n, err := ParsePort(p)
		if err != nil {
			return fmt.Errorf("%s: %w", EnvPort, err)
		}
		cfg.Port = n
	}
	if u := os.Getenv(EnvRegistryURL); u != "" {
		cfg.RegistryURL = u
	}
	return nil
}

// ParsePort parses a TCP port number (1..65535; 0 means "pick a free port").
func ParsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("port %q must be a number from 0 to 65535", s)
	}
	return n, nil
}

// Completed reports whether the setup wizard has been completed.
func (c Config) Completed() bool { return c.SetupCompletedAt != "" }

// DatabasePath is the SQLite file inside the data directory.
func (c Config) DatabasePath() string { return filepath.Join(c.DataDir, DatabaseFileName) }

// Validate checks every field and returns a *FieldError naming the first bad one.
func (c Config) Validate() error {
	if c.DataDir == "" || !filepath.IsAbs(c.DataDir) {
		return &FieldError{"data_dir", "must be an absolute directory path, e.g. /home/me/.local/share/hallmonitor"}
	}
	if c.Port < 1 || c.Port > 65535 {
		return &FieldError{"port", "must be a TCP port from 1 to 65535 (default 8765)"}
	}
	u, err := url.Parse(c.RegistryURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return &FieldError{"registry_url", "must be an http(s) URL such as https://api.pyhall.dev"}
	}
	if c.WorkersDir == "" || !filepath.IsAbs(c.WorkersDir) {
		return &FieldError{"workers_dir", "must be an absolute directory path"}
	}
	if c.RulesPath == "" || !filepath.IsAbs(c.RulesPath) {
		return &FieldError{"rules_path", "must be an absolute path to a JSON rules file"}
	}
	if !strings.HasPrefix(c.DefaultProfile, "prof.") || strings.ContainsAny(c.DefaultProfile, " \t\r\n") {
		return &FieldError{"default_profile", "must be a profile id starting with 'prof.', e.g. prof.dev.permissive"}
	}
	if c.RegistryPaths != nil {
		if err := c.RegistryPaths.WithDefaults().Validate(); err != nil {
			return &FieldError{"registry_paths", strings.TrimPrefix(err.Error(), "paths.")}
		}
	}
	if c.RegistryCallback != "" && c.RegistryCallback != "hall" && c.RegistryCallback != "loopback" {
		return &FieldError{"registry_callback", `must be "hall" (the Hall's /api/auth/callback) or "loopback" (a one-shot listener per sign-in)`}
	}
	if strings.ContainsAny(c.RegistryClientID, " \t\r\n") || len(c.RegistryClientID) > 200 {
		return &FieldError{"registry_client_id", "must be an OAuth client id without spaces (at most 200 characters)"}
	}
	if err := c.ValidateOTLP(); err != nil {
		return err
	}
	if c.SetupCompletedAt != "" {
		if _, err := time.Parse(time.RFC3339, c.SetupCompletedAt); err != nil {
			return &FieldError{"setup_completed_at", "must be an RFC 3339 time or empty"}
		}
	}
	return nil
}

// ValidateOTLP checks the three otlp_* keys (a *FieldError names the bad one).
func (c Config) ValidateOTLP() error {
	switch c.OTLPProtocol {
	case "", "http", "grpc":
	default:
		return &FieldError{"otlp_protocol", `must be "http" (OTLP HTTP/protobuf, default) or "grpc"`}
	}
	if c.OTLPEndpoint == "" {
		return nil
	}
	u, err := url.Parse(c.OTLPEndpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return &FieldError{"otlp_endpoint", "must be the collector's URL, e.g. http://127.0.0.1:4318 (http) or http://127.0.0.1:4317 (grpc), or empty to export nothing"}
	}
	return nil
}

// Save validates cfg and writes <configDir>/config.json atomically (mode 0600).
func Save(configDir string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(configDir, FileName), append(b, '\n'), configFilePermissions)
}

// WriteFileAtomic writes data to path through a temporary file, fsync and
// rename, creating the parent directory (0700) when needed.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return io.ReadAll(io.LimitReader(f, max))
}
