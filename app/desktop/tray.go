package desktop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"

	"hallmonitor/hallapi/events"
)

// The tray speaks StatusNotifierItem + dbusmenu over the session bus (fyne.io/systray), so it needs no GTK
// of its own and runs beside the Wails window's GTK loop. A desktop shows it only when a tray host
// (a panel) registered with the StatusNotifierWatcher.
const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	trayIconSize = 64 // pixels: the panel scales it; the 512 px app icon would be 1 MiB on every property read
)

// trayEntry is one item of the tray menu: a screen to open, or (screen "") a separator.
type trayEntry struct {
	label, tooltip, screen string
}

// trayMenu is the tray menu below the status line, in the reference app's order, with the screens of this UI
// (frontend/src/main.ts); the reference's "Crew on Books" is our Workers screen. Quit follows it.
var trayMenu = []trayEntry{
	{"Open Dashboard", "Show the Hall status", "status"},
	{},
	{"Live Feed", "Every decision as it happens", "feed"},
	{"Workers", "The enrolled workers (Crew on Books)", "workers"},
	{"Alerts", "Open alerts", "alerts"},
	{},
}

// trayWindow is what the tray asks of the window.
type trayWindow interface {
	Show()
	Navigate(screen string)
	Quit()
}

// trayHostError reports why closing the window cannot hide it to a tray (nil: a tray host shows our icon,
// so the window can always be brought back). A watcher without a host, or one that did not list our item,
// counts as no tray: hiding there would lose the window.
func trayHostError(ctx context.Context, conn *dbus.Conn) error {
	if conn == nil {
		return errors.New("no D-Bus session bus")
	}
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&owned); err != nil {
		return fmt.Errorf("cannot ask the session bus for a tray: %w", err)
	}
	if !owned {
		return errors.New("no StatusNotifierWatcher on the session bus")
	}
	w := conn.Object(watcherName, watcherPath)
	var host bool
	if err := getProp(ctx, w, "IsStatusNotifierHostRegistered", &host); err != nil {
		return err
	}
	if !host {
		return errors.New("the StatusNotifierWatcher has no tray host registered")
	}
	var items []string
	if err := getProp(ctx, w, "RegisteredStatusNotifierItems", &items); err != nil {
		return err
	}
	if !slices.ContainsFunc(items, ownItem(conn)) {
		return errors.New("the tray has not listed Hall Monitor's icon")
	}
	return nil
}

func getProp(ctx context.Context, obj dbus.BusObject, name string, into any) error {
	var v dbus.Variant
	if err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, watcherName, name).Store(&v); err != nil {
		return fmt.Errorf("read %s of the StatusNotifierWatcher: %w", name, err)
	}
	if err := dbus.Store([]any{v.Value()}, into); err != nil {
		return fmt.Errorf("%s of the StatusNotifierWatcher: %w", name, err)
	}
	return nil
}

// ownItem matches the watcher's entry for this process's item: watchers list "<bus name><object path>",
// with the unique connection name or the well-known name the item took (org.kde.StatusNotifierItem-PID-1).
func ownItem(conn *dbus.Conn) func(string) bool {
	names := []string{fmt.Sprintf("org.kde.StatusNotifierItem-%d-", os.Getpid())}
	if n := conn.Names(); len(n) > 0 {
		names = append(names, n[0]+"/")
	}
	return func(item string) bool {
		for _, n := range names {
			if strings.HasPrefix(item, n) {
				return true
			}
		}
		return false
	}
}

// trayStatusText is the tray's status line from GET /api/status. The Hall routes locally in every state;
// "online" only adds the registry connection, so the line says "local" or "connected to registry".
func trayStatusText(state string, openAlerts int) string {
	state = stateWords(state)
	switch openAlerts {
	case 0:
		return "Hall: " + state + ", no open alerts"
	case 1:
		return "Hall: " + state + ", 1 open alert"
	}
	return fmt.Sprintf("Hall: %s, %d open alerts", state, openAlerts)
}

// stateWords names a Hall state (GET /api/status "state") as the window does.
func stateWords(state string) string {
	switch state {
	case "online":
		return "connected to registry"
	case "ready":
		return "local, signed in"
	case "offline":
		return "local"
	}
	return state
}

// hallStatusText asks the Hall API in-process (as the window does) for its state and open alerts.
func hallStatusText(api http.Handler) (string, error) {
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/status", nil))
	if rec.Code == http.StatusLocked {
		return "Hall: locked", nil // the UI passphrase hides the Hall's state from the tray too
	}
	if rec.Code != http.StatusOK {
		return "", fmt.Errorf("GET /api/status answered %d: %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	var s struct {
		State  string `json:"state"`
		Counts struct {
			OpenAlerts int `json:"open_alerts"`
		} `json:"counts"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		return "", fmt.Errorf("GET /api/status: %w", err)
	}
	return trayStatusText(s.State, s.Counts.OpenAlerts), nil
}

// trayIcon scales the PNG app icon down to size×size (box filter) and encodes it as PNG again.
func trayIcon(src []byte, size int) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("tray icon: %w", err)
	}
	b := img.Bounds()
	if b.Dx() <= size && b.Dy() <= size {
		return src, nil
	}
	out := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		y0, y1 := b.Min.Y+y*b.Dy()/size, b.Min.Y+(y+1)*b.Dy()/size
		for x := range size {
			x0, x1 := b.Min.X+x*b.Dx()/size, b.Min.X+(x+1)*b.Dx()/size
			var r, g, bl, a, n uint64
			for sy := y0; sy < max(y1, y0+1); sy++ {
				for sx := x0; sx < max(x1, x0+1); sx++ {
					c := color.NRGBA64Model.Convert(img.At(sx, sy)).(color.NRGBA64)
					r, g, bl, a, n = r+uint64(c.R), g+uint64(c.G), bl+uint64(c.B), a+uint64(c.A), n+1
				}
			}
			out.SetNRGBA(x, y, color.NRGBA{R: uint8(r / n >> 8), G: uint8(g / n >> 8), B: uint8(bl / n >> 8), A: uint8(a / n >> 8)})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return nil, fmt.Errorf("tray icon: %w", err)
	}
	return buf.Bytes(), nil
}

// tray is the running tray icon; the zero value (nil) is "no tray" and answers every call.
type tray struct {
	conn *dbus.Conn
	end  func()
	wg   sync.WaitGroup
}

// startTray puts the Hall Monitor icon and menu on the session bus. With no session bus it returns an
// error and the app runs without a tray (closing the window quits). A tray host that appears later
// (a panel restart) picks the icon up: the item re-registers when the watcher changes hands.
func startTray(ctx context.Context, icon []byte, win trayWindow, api http.Handler, bus *events.Bus, log *slog.Logger) (*tray, error) {
	conn, err := dbus.SessionBus() // the connection the systray package uses too
	if err != nil {
		return nil, fmt.Errorf("no D-Bus session bus: %w", err)
	}
	small, err := trayIcon(icon, trayIconSize)
	if err != nil {
		return nil, err
	}
	t := &tray{conn: conn}
	type navItem struct {
		item   *systray.MenuItem
		screen string
	}
	var nav []navItem
	var status, quit *systray.MenuItem
	ready := make(chan struct{}) // closed when the menu is built (systray builds it on its own goroutine)
	start, end := systray.RunWithExternalLoop(func() {
		defer close(ready)
		status = systray.AddMenuItem("Hall: starting", "The Hall's state and open alerts")
		status.Disable()
		systray.AddSeparator()
		for _, e := range trayMenu {
			if e.screen == "" {
				systray.AddSeparator()
				continue
			}
			nav = append(nav, navItem{systray.AddMenuItem(e.label, e.tooltip), e.screen})
		}
		quit = systray.AddMenuItem("Quit", "Quit Hall Monitor (agents can no longer reach this Hall)")
	}, nil)
	t.end = end
	systray.SetTitle("Hall Monitor")
	systray.SetTooltip("Hall Monitor")
	systray.SetIcon(small)
	systray.SetOnTapped(win.Show) // activate (click or double click on the icon) shows the window
	start()
	<-ready
	for _, n := range nav {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-n.item.ClickedCh:
					if !ok {
						return
					}
					win.Show()
					win.Navigate(n.screen)
				}
			}
		}()
	}
	t.wg.Add(2)
	go func() {
		defer t.wg.Done()
		select {
		case <-ctx.Done():
		case <-quit.ClickedCh:
			win.Quit()
		}
	}()
	go func() {
		defer t.wg.Done()
		followStatus(ctx, func(text string) {
			status.SetTitle(text)
			systray.SetTooltip("Hall Monitor — " + text)
		}, api, bus, log)
	}()
	return t, nil
}

// followStatus keeps the tray's status line current (show gets each new text): at start, after events
// (at most once a second) and every 30 s (the account state also changes with time: grace periods end).
func followStatus(ctx context.Context, show func(string), api http.Handler, bus *events.Bus, log *slog.Logger) {
	sub := bus.Subscribe(0)
	defer func() { sub.Close() }()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	var last string
	update := func() {
		text, err := hallStatusText(api)
		if err != nil {
			log.Warn("tray status line", "err", err)
			return
		}
		if text != last {
			last = text
			show(text)
		}
	}
	update()
	var due <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Lagged:
			sub.Close()
			sub = bus.Subscribe(0)
			update()
		case <-sub.C:
			if due == nil {
				due = time.After(time.Second)
			}
		case <-due:
			due = nil
			update()
		case <-tick.C:
			update()
		}
	}
}

// hostError is trayHostError for this tray (nil tray: no tray).
func (t *tray) hostError() error {
	if t == nil {
		return errors.New("the system tray is not running (no D-Bus session bus)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return trayHostError(ctx, t.conn)
}

// stop removes the icon from the bus; call it after ctx of startTray ended.
func (t *tray) stop() {
	if t == nil {
		return
	}
	t.wg.Wait()
	t.end()
}
