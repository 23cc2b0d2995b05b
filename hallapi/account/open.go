package account

import (
	"errors"
	"log/slog"
	"net/http"

	"hallmonitor/hallapi/account/oauth"
	"hallmonitor/hallapi/registry"
)

// Config is everything a Hall needs to run the account service; Open builds
// the token store, the login manager and the registry client from it.
type Config struct {
	ConfigDir   string         // holds the 0600 token file when no OS keyring answers (required)
	RegistryURL string         // config.json registry_url / HALLMONITOR_REGISTRY_URL; "" = https://api.pyhall.dev
	Paths       registry.Paths // registry endpoint paths; empty fields take the public registry's
	ClientID    string         // OAuth client id; "" = "hallmonitor"
	// CallbackURL makes the registry send the browser to the Hall's own
	// http://127.0.0.1:<port>/api/auth/callback; "" = a one-shot loopback
	// listener per login. The Hall's callback is served in both cases.
	CallbackURL string
	// OpenURL opens the system browser (desktop: the Wails runtime's
	// BrowserOpenURL); nil for `serve`, whose UI opens auth_url itself.
	OpenURL    func(string) error
	Publisher  Publisher   // the Hall's store (standing.changed, auth.changed)
	Workers    WorkerStore // the Hall's store (registry answers about enrolled workers)
	Logger     *slog.Logger
	HTTPClient *http.Client // registry calls; nil = default
}

// Open builds the account service. Mount it on the Hall API server and Start it.
func Open(c Config) (*Service, error) {
	if c.ConfigDir == "" {
		return nil, errors.New("account: Config.ConfigDir is required (the token file fallback lives there)")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	lm, err := oauth.New(oauth.Options{RegistryURL: c.RegistryURL, Paths: c.Paths, ClientID: c.ClientID,
		CallbackURL: c.CallbackURL, OpenURL: c.OpenURL, Store: oauth.NewTokenStore(c.ConfigDir, c.Logger),
		HTTPClient: c.HTTPClient, Logger: c.Logger})
	if err != nil {
		return nil, err
	}
	rc, err := registry.New(registry.Options{BaseURL: c.RegistryURL, Paths: c.Paths, HTTPClient: c.HTTPClient, Logger: c.Logger})
	if err != nil {
		return nil, err
	}
	return New(Options{Login: lm, Registry: rc, Publisher: c.Publisher, Workers: c.Workers, Logger: c.Logger})
}
