package desktop

import (
	"context"
	"log/slog"
	"sync/atomic"

	"hallmonitor/hallapi/store"
)

// closer decides what the window's close button does: hide the window to the system tray, or quit.
// It reads the setting on every close, so a change in Settings applies at once.
type closer struct {
	quitting atomic.Bool // set by an explicit Quit (tray menu): then closing always quits
	settings func(context.Context) (store.Settings, error)
	trayHost func() error // nil: a tray host shows our icon
	log      *slog.Logger
}

// hideOnClose reports whether closing the window should only hide it. It hides only when the user wants
// close-to-tray and a tray is there to bring the window back; any doubt (an unreadable setting, no tray)
// quits, as closing did before there was a tray.
func (c *closer) hideOnClose(ctx context.Context) bool {
	if c.quitting.Load() {
		return false
	}
	st, err := c.settings(ctx)
	if err != nil {
		c.log.Warn("closing quits: the close_to_tray setting cannot be read", "err", err)
		return false
	}
	if !st.CloseToTray {
		return false
	}
	if err := c.trayHost(); err != nil {
		c.log.Info("closing quits: no system tray to bring the window back", "reason", err.Error())
		return false
	}
	return true
}

// shellWindow is the window as the tray and the single-instance handler see it.
type shellWindow struct {
	b *Bridge
	c *closer
}

func (w shellWindow) Show() {
	if p, err := w.b.platform(); err == nil {
		p.Show()
	}
}

func (w shellWindow) Navigate(screen string) {
	if p, err := w.b.platform(); err == nil {
		p.Navigate(screen)
	}
}

// Quit really quits: the close that follows is not turned into a hide.
func (w shellWindow) Quit() {
	w.c.quitting.Store(true)
	if p, err := w.b.platform(); err == nil {
		p.Quit()
	}
}
