package desktop

import (
	"fmt"
	"net/url"
	"os"
	"sync"
)

// Bridge is bound into the window as window.go.desktop.Bridge: the few things a web page cannot do itself.
// Everything about the Hall's data goes through the Hall API instead (docs/api.md).
type Bridge struct {
	mu   sync.Mutex
	p    platform
	tray *tray
}

func (b *Bridge) setPlatform(p platform) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.p = p
}

func (b *Bridge) setTray(t *tray) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tray = t
}

// trayHostError is nil when closing the window can hide it to a system tray (see trayHostError).
func (b *Bridge) trayHostError() error {
	b.mu.Lock()
	t := b.tray
	b.mu.Unlock()
	return t.hostError()
}

// TrayState tells the Settings screen whether closing the window hides it to the tray.
type TrayState struct {
	Available bool   `json:"available"`
	Detail    string `json:"detail"` // why there is no tray, when Available is false
}

// TrayStatus reports whether a system tray shows Hall Monitor's icon now (checked on every call).
func (b *Bridge) TrayStatus() TrayState {
	if err := b.trayHostError(); err != nil {
		return TrayState{Detail: err.Error()}
	}
	return TrayState{Available: true}
}

func (b *Bridge) platform() (platform, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p == nil {
		return nil, fmt.Errorf("the window is still starting; try again in a moment")
	}
	return b.p, nil
}

// OpenURL opens an http or https address in the system browser (used for the registry login page).
func (b *Bridge) OpenURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("refusing to open %q: only http and https addresses can be opened", raw)
	}
	p, err := b.platform()
	if err != nil {
		return err
	}
	p.OpenURL(u.String())
	return nil
}

// PickDirectory shows the native folder chooser and returns the chosen absolute path ("" if cancelled).
func (b *Bridge) PickDirectory(title string) (string, error) {
	p, err := b.platform()
	if err != nil {
		return "", err
	}
	home, _ := os.UserHomeDir()
	return p.PickDirectory(title, home)
}
