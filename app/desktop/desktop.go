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
	"log/slog"
	"net"
	"net/http"
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

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var served sync.WaitGroup
	agents := serveAgents(ctx, h, &served)
	if _, err := h.Start(ctx, agents); err != nil {
		fmt.Fprintf(stderr, "hallmonitor: %v\n", err)
		return 1
	}

	w := newWindow(ctx, h, opts)
	defer w.notes.Close()
	err = wails.Run(w.app())
	cancel()
	served.Wait()
	if w.trayStarted.Load() {
		(<-w.trayDone).stop()
	}
	if err != nil {
		fmt.Fprintf(stderr, "hallmonitor: the window could not start: %v\n", err)
		return 1
	}
	return 0
}

// serveAgents serves the Hall API to agents on its listener until ctx ends
// (served is done then), and returns its address; nil when it cannot listen:
// the window still works (it talks to the Hall in-process), agents cannot
// reach it over HTTP.
func serveAgents(ctx context.Context, h *hall.Hall, served *sync.WaitGroup) net.Addr {
	ln, err := h.Listen()
	if err != nil {
		h.Logger.Error("the Hall API is not reachable by agents", "err", err)
		return nil
	}
	h.Logger.Info("Hall API listening", "listen", ln.Addr().String(), "db", h.Store.Path())
	served.Add(1)
	go func() {
		defer served.Done()
		if err := h.Server.Serve(ctx, ln); err != nil {
			h.Logger.Error("Hall API stopped", "err", err)
		}
	}()
	return ln.Addr()
}

// window is one run of the window: the Hall, the window's saved state and
// the parts the Wails callbacks share.
type window struct {
	ctx         context.Context // the Hall's run; ends when the window closes
	h           *hall.Hall
	opts        Options
	logger      *slog.Logger
	statePath   string
	state       windowState
	bridge      *Bridge
	notes       *dbusNotifier
	closing     *closer
	win         shellWindow
	api         http.Handler
	trayDone    chan *tray
	trayStarted atomic.Bool
}

func newWindow(ctx context.Context, h *hall.Hall, opts Options) *window {
	w := &window{ctx: ctx, h: h, opts: opts, logger: h.Logger, statePath: filepath.Join(h.ConfigDir, "window.json"),
		bridge: &Bridge{}, notes: &dbusNotifier{}, api: httpapi.TrustedHandler(h.Server.Handler()), trayDone: make(chan *tray, 1)}
	var err error
	if w.state, err = loadWindowState(w.statePath); err != nil {
		w.logger.Warn("window state", "err", err)
	}
	w.closing = &closer{settings: h.Store.GetSettings, trayHost: w.bridge.trayHostError, log: w.logger}
	w.win = shellWindow{b: w.bridge, c: w.closing}
	return w
}

// app is the Wails application of the window.
func (w *window) app() *options.App {
	return &options.App{
		Title:            "Hall Monitor",
		Width:            w.state.Width,
		Height:           w.state.Height,
		MinWidth:         minWidth,
		MinHeight:        minHeight,
		StartHidden:      true, // shown on DOM ready: no white flash
		BackgroundColour: &options.RGBA{R: 15, G: 23, B: 42, A: 255},
		AssetServer:      &assetserver.Options{Handler: w.api},
		Bind:             []any{w.bridge},
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId: "dev.wcp.hallmonitor." + uniqueSuffix(w.h.ConfigDir),
			// also when the window is hidden in the tray
			OnSecondInstanceLaunch: func(options.SecondInstanceData) { w.win.Show() },
		},
		OnStartup: w.onStartup,
		OnDomReady: func(wctx context.Context) {
			w.logger.Info("window ready")
			wailsPlatform{ctx: wctx}.Show()
		},
		OnBeforeClose: w.onBeforeClose,
		Linux:         &linux.Options{Icon: w.opts.Icon, ProgramName: "hallmonitor", WindowIsTranslucent: false},
	}
}

// onStartup gives the bridge its platform, restores the window's place, and
// starts the desktop notifications and the system tray.
func (w *window) onStartup(wctx context.Context) {
	p := wailsPlatform{ctx: wctx}
	w.bridge.setPlatform(p)
	if st := w.state; st.X != 0 || st.Y != 0 || st.Maximised {
		p.SetGeometry(st.X, st.Y, st.Width, st.Height, st.Maximised)
	}
	go forwardNotifications(w.ctx, w.h.Store, w.h.Server.Bus(), w.h.Server.Locked, w.notes, w.logger)
	w.trayStarted.Store(true)
	go func() {
		t, err := startTray(w.ctx, w.opts.Icon, w.win, w.api, w.h.Server.Bus(), w.logger)
		if err != nil {
			w.logger.Info("no system tray; closing the window quits", "reason", err.Error())
		}
		w.bridge.setTray(t)
		w.trayDone <- t
	}()
}

// onBeforeClose saves the window's place, then hides the window in the tray
// instead of closing it when the settings ask for that (true prevents the
// close).
func (w *window) onBeforeClose(wctx context.Context) bool {
	x, y, width, height, max := wailsPlatform{ctx: wctx}.Geometry()
	if err := (windowState{X: x, Y: y, Width: width, Height: height, Maximised: max}).save(w.statePath); err != nil {
		w.logger.Warn("window state not saved", "err", err)
	}
	if w.closing.hideOnClose(w.ctx) {
		wailsPlatform{ctx: wctx}.Hide()
		return true
	}
	return false
}

// uniqueSuffix tells Halls with different configuration folders apart, so each may have its own window
// while a second start of the same Hall only brings the first window forward.
func uniqueSuffix(configDir string) string {
	sum := sha256.Sum256([]byte(configDir))
	return hex.EncodeToString(sum[:6])
}
