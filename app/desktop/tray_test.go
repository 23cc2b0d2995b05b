package desktop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"hallmonitor/app/hall"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/httpapi"
	"hallmonitor/hallapi/store"
)

func TestCloseDecision(t *testing.T) {
	on, off := store.DefaultSettings(), store.DefaultSettings()
	off.CloseToTray = false
	if !on.CloseToTray {
		t.Fatal("close_to_tray must default to on (reference: display.tray_on_minimize = true)")
	}
	noTray := errors.New("no StatusNotifierWatcher on the session bus")
	tests := []struct {
		name     string
		quitting bool
		st       store.Settings
		stErr    error
		tray     error
		hide     bool
	}{
		{"setting on, tray there: hide", false, on, nil, nil, true},
		{"setting off: quit", false, off, nil, nil, false},
		{"no tray to come back from: quit", false, on, nil, noTray, false},
		{"setting unreadable: quit", false, on, errors.New("database is locked"), nil, false},
		{"Quit chosen in the tray: quit", true, on, nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &closer{
				settings: func(context.Context) (store.Settings, error) { return tc.st, tc.stErr },
				trayHost: func() error { return tc.tray },
				log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			c.quitting.Store(tc.quitting)
			if got := c.hideOnClose(context.Background()); got != tc.hide {
				t.Fatalf("hideOnClose = %v, want %v", got, tc.hide)
			}
		})
	}
}

type windowCalls struct {
	fakePlatform
	mu    sync.Mutex
	calls []string
}

func (w *windowCalls) record(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, s)
}
func (w *windowCalls) Show()             { w.record("show") }
func (w *windowCalls) Navigate(s string) { w.record("navigate " + s) }
func (w *windowCalls) Quit()             { w.record("quit") }

// Quit from the tray turns the close that Wails runs next into a real quit, even with close-to-tray on.
func TestShellWindowQuitQuits(t *testing.T) {
	b := &Bridge{}
	wc := &windowCalls{}
	c := &closer{
		settings: func(context.Context) (store.Settings, error) { return store.DefaultSettings(), nil },
		trayHost: func() error { return nil },
		log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	win := shellWindow{b: b, c: c}
	win.Show() // before the window started: nothing to show, no panic
	b.setPlatform(wc)
	win.Show()
	win.Navigate("alerts")
	if !c.hideOnClose(context.Background()) {
		t.Fatal("before Quit, closing should hide")
	}
	win.Quit()
	if c.hideOnClose(context.Background()) {
		t.Fatal("after Quit, closing must quit")
	}
	if got := strings.Join(wc.calls, ","); got != "show,navigate alerts,quit" {
		t.Fatalf("window calls %q", got)
	}
}

// The tray menu is the reference's (Open Dashboard, separator, Live Feed, Crew on Books, Alerts, separator,
// then Quit), and every item opens a screen the UI has.
func TestTrayMenuOpensScreensOfTheUI(t *testing.T) {
	var labels []string
	for _, e := range trayMenu {
		if e.screen == "" {
			labels = append(labels, "-")
			continue
		}
		labels = append(labels, e.label+"->"+e.screen)
	}
	if got, want := strings.Join(labels, " "), "Open Dashboard->status - Live Feed->feed Workers->workers Alerts->alerts -"; got != want {
		t.Fatalf("tray menu %q, want %q", got, want)
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "frontend", "src", "main.ts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range trayMenu {
		if e.screen != "" && !regexp.MustCompile(`(?m)^\s*`+e.screen+`: create\w+Screen,`).Match(src) {
			t.Errorf("tray item %q opens %q, which is not a screen in frontend/src/main.ts", e.label, e.screen)
		}
	}
}

func TestTrayStatusLineFromTheRealHall(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "Hall: connected to registry, no open alerts"}, {1, "Hall: connected to registry, 1 open alert"}, {7, "Hall: connected to registry, 7 open alerts"}} {
		if got := trayStatusText("online", tc.n); got != tc.want {
			t.Errorf("trayStatusText(online, %d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	dir := t.TempDir()
	t.Setenv(config.EnvDataDir, "")
	t.Setenv(config.EnvPort, "")
	h, err := hall.Open(hall.Options{ConfigDir: filepath.Join(dir, "cfg"), DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0", Version: "t", LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	api := httpapi.TrustedHandler(h.Server.Handler())
	if got, err := hallStatusText(api); err != nil || got != "Hall: local, no open alerts" {
		t.Fatalf("fresh Hall: %q, %v", got, err)
	}
	if _, err := h.Store.RaiseAlert(context.Background(), store.AlertInput{Type: "WORKER_TAMPERED", Severity: "critical", Title: "x", WorkerID: "w1"}); err != nil {
		t.Fatal(err)
	}
	if got, err := hallStatusText(api); err != nil || got != "Hall: local, 1 open alert" {
		t.Fatalf("after an alert: %q, %v", got, err)
	}
	// The status line follows the Hall live: a new alert shows within about a second (events, debounced).
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan string, 8)
	done := make(chan struct{})
	go func() {
		defer close(done)
		followStatus(ctx, func(s string) { lines <- s }, api, h.Server.Bus(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	if got := <-lines; got != "Hall: local, 1 open alert" {
		t.Fatalf("first status line %q", got)
	}
	if _, err := h.Store.RaiseAlert(context.Background(), store.AlertInput{Type: "WORKER_TAMPERED", Severity: "critical", Title: "y", WorkerID: "w2"}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-lines:
		if got != "Hall: local, 2 open alerts" {
			t.Fatalf("after a second alert: %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the status line did not follow a new alert within 5 s")
	}
	cancel()
	<-done
	// Without the in-process trust the API refuses (403: not its Host), and the tray says why instead of a wrong line.
	if _, err := hallStatusText(h.Server.Handler()); err == nil || !strings.Contains(err.Error(), "answered 403") {
		t.Fatalf("untrusted: %v", err)
	}
}

func TestTrayIconIsScaledDown(t *testing.T) {
	big, err := os.ReadFile(filepath.Join("..", "..", "build", "appicon.png"))
	if err != nil {
		t.Fatal(err)
	}
	small, err := trayIcon(big, 64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(small))
	if err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 64 {
		t.Fatalf("scaled icon: %v, %v", img.Bounds(), err)
	}
	if _, _, _, a := img.At(32, 32).RGBA(); a == 0 {
		t.Fatal("the middle of the scaled icon is transparent: the picture was lost")
	}
	if same, err := trayIcon(small, 64); err != nil || !bytes.Equal(same, small) {
		t.Fatalf("an icon already small enough is kept as it is: %v", err)
	}
	if _, err := trayIcon([]byte("not a png"), 64); err == nil {
		t.Fatal("a broken icon must be an error")
	}
}

// privateBus starts a D-Bus session daemon of the test's own (skips where dbus-daemon is not installed).
func privateBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("dbus-daemon not installed (make apt installs it)")
	}
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(addr)
}

// trayHostError on a real bus: no watcher, a watcher without a host, a host that has not listed our icon
// are all "no tray" (closing quits); only a host that lists our item lets closing hide the window.
func TestTrayHostErrorOnARealBus(t *testing.T) {
	addr := privateBus(t)
	app, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := trayHostError(ctx, nil); err == nil || !strings.Contains(err.Error(), "no D-Bus session bus") {
		t.Fatalf("no bus: %v", err)
	}
	if err := trayHostError(ctx, app); err == nil || !strings.Contains(err.Error(), "no StatusNotifierWatcher") {
		t.Fatalf("no watcher: %v", err)
	}
	panel, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer panel.Close()
	props, err := prop.Export(panel, watcherPath, map[string]map[string]*prop.Prop{watcherName: {
		"RegisteredStatusNotifierItems":  {Value: []string{}},
		"IsStatusNotifierHostRegistered": {Value: false},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := panel.RequestName(watcherName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the watcher name: %v %v", r, err)
	}
	if err := trayHostError(ctx, app); err == nil || !strings.Contains(err.Error(), "no tray host") {
		t.Fatalf("watcher without a host: %v", err)
	}
	props.SetMust(watcherName, "IsStatusNotifierHostRegistered", true)
	props.SetMust(watcherName, "RegisteredStatusNotifierItems", []string{panel.Names()[0] + "/StatusNotifierItem"})
	if err := trayHostError(ctx, app); err == nil || !strings.Contains(err.Error(), "not listed") {
		t.Fatalf("someone else's icon only: %v", err)
	}
	props.SetMust(watcherName, "RegisteredStatusNotifierItems", []string{panel.Names()[0] + "/StatusNotifierItem", app.Names()[0] + "/StatusNotifierItem"})
	if err := trayHostError(ctx, app); err != nil {
		t.Fatalf("our icon listed: %v", err)
	}
	// The watcher goes away (the panel quits): closing quits again at once.
	panel.Close()
	deadline := time.Now().Add(5 * time.Second)
	for trayHostError(ctx, app) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the tray still counts as present after the watcher left the bus")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBridgeTrayStatusWithoutATray(t *testing.T) {
	b := &Bridge{}
	if s := b.TrayStatus(); s.Available || !strings.Contains(s.Detail, "not running") {
		t.Fatalf("no tray: %+v", s)
	}
}
