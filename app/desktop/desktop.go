// Package desktop is the Wails v2 shell of Hall Monitor: it opens the Hall, serves the web UI and the Hall API
// to the window in-process (no token, no port involved), keeps the agents' HTTP listener running, restores
// the window's size and place, allows one instance only, turns chosen events into desktop notifications, and
// puts an icon with a menu in the system tray (closing the window then hides it there, if the user wants).
package desktop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"

	"hallmonitor/app/hall"
	"hallmonitor/hallapi/httpapi"
)

// Options are what the window needs from the command line.
type Options struct {
	UI      fs.FS  // the built web UI
	Icon    []byte // PNG window icon
	Version string
	Stderr  io.Writer
}

// Run opens the Hall and the window, and returns the exit code when the window closes.
func Run(opts Options) int {
	stderr := opts.Stderr
	h, err := hall.Open(hall.Options{Version: opts.Version, UI: opts.UI, LogOutput: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "hallmonitor: %v\n", err)
		return 1
	}
	defer h.Close()
	logger := h.Logger

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var served sync.WaitGroup
	var agents net.Addr
	if ln, err := h.Listen(); err != nil {
		// The window still works (it talks to the Hall in-process); agents cannot reach it over HTTP.
		logger.Error("the Hall API is not reachable by agents", "err", err)
	} else {
		logger.Info("Hall API listening", "listen", ln.Addr().String(), "db", h.Store.Path())
		agents = ln.Addr()
		served.Add(1)
		go func() {
			defer served.Done()
			if err := h.Server.Serve(ctx, ln); err != nil {
				logger.Error("Hall API stopped", "err", err)
			}
		}()
	}

	if _, err := h.Start(ctx, agents); err != nil {
		fmt.Fprintf(stderr, "hallmonitor: %v\n", err)
		return 1
	}

	statePath := filepath.Join(h.ConfigDir, "window.json")
	state, err := loadWindowState(statePath)
	if err != nil {
		logger.Warn("window state", "err", err)
	}
	bridge := &Bridge{}
	notes := &dbusNotifier{}
	defer notes.Close()
	closing := &closer{settings: h.Store.GetSettings, trayHost: bridge.trayHostError, log: logger}
	win := shellWindow{b: bridge, c: closing}
	api := httpapi.TrustedHandler(h.Server.Handler())
	trayDone := make(chan *tray, 1)
	var trayStarted atomic.Bool

	err = wails.Run(&options.App{
		Title:            "Hall Monitor",
		Width:            state.Width,
		Height:           state.Height,
		MinWidth:         minWidth,
		MinHeight:        minHeight,
		StartHidden:      true, // shown on DOM ready: no white flash
		BackgroundColour: &options.RGBA{R: 15, G: 23, B: 42, A: 255},
		AssetServer:      &assetserver.Options{Handler: api},
		Bind:             []any{bridge},
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId: "dev.wcp.hallmonitor." + uniqueSuffix(h.ConfigDir),
			// also when the window is hidden in the tray
			OnSecondInstanceLaunch: func(options.SecondInstanceData) { win.Show() },
		},
		OnStartup: func(wctx context.Context) {
			p := wailsPlatform{ctx: wctx}
			bridge.setPlatform(p)
			if state.X != 0 || state.Y != 0 || state.Maximised {
				p.SetGeometry(state.X, state.Y, state.Width, state.Height, state.Maximised)
			}
			go forwardNotifications(ctx, h.Store, h.Server.Bus(), notes, logger)
			trayStarted.Store(true)
			go func() {
				t, err := startTray(ctx, opts.Icon, win, api, h.Server.Bus(), logger)
				if err != nil {
					logger.Info("no system tray; closing the window quits", "reason", err.Error())
				}
				bridge.setTray(t)
				trayDone <- t
			}()
		},
		OnDomReady: func(wctx context.Context) {
			logger.Info("window ready")
			wailsPlatform{ctx: wctx}.Show()
		},
		OnBeforeClose: func(wctx context.Context) bool {
			x, y, w, hgt, max := wailsPlatform{ctx: wctx}.Geometry()
			if err := (windowState{X: x, Y: y, Width: w, Height: hgt, Maximised: max}).save(statePath); err != nil {
				logger.Warn("window state not saved", "err", err)
			}
			if closing.hideOnClose(ctx) {
				wailsPlatform{ctx: wctx}.Hide()
				return true // prevents the close
			}
			return false
		},
		Linux: &linux.Options{Icon: opts.Icon, ProgramName: "hallmonitor", WindowIsTranslucent: false},
	})
	cancel()
	served.Wait()
	if trayStarted.Load() {
		(<-trayDone).stop()
	}
	if err != nil {
		fmt.Fprintf(stderr, "hallmonitor: the window could not start: %v\n", err)
		return 1
	}
	return 0
}

// uniqueSuffix tells Halls with different configuration folders apart, so each may have its own window
// while a second start of the same Hall only brings the first window forward.
func uniqueSuffix(configDir string) string {
	sum := sha256.Sum256([]byte(configDir))
	return hex.EncodeToString(sum[:6])
}
