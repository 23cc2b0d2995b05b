package desktop

import (
	"context"

	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// platform is everything the shell asks of the operating system through Wails. It is the only place that
// imports the Wails runtime, so the rest of the package is testable with a fake.
type platform interface {
	OpenURL(url string)
	PickDirectory(title, start string) (string, error)
	Show()
	Hide()
	Navigate(screen string)
	Quit()
	Geometry() (x, y, w, h int, maximised bool)
	SetGeometry(x, y, w, h int, maximised bool)
}

// wailsPlatform implements platform with the Wails runtime bound to the app's context.
type wailsPlatform struct{ ctx context.Context }

func (p wailsPlatform) OpenURL(url string) { runtime.BrowserOpenURL(p.ctx, url) }

func (p wailsPlatform) PickDirectory(title, start string) (string, error) {
	return runtime.OpenDirectoryDialog(p.ctx, runtime.OpenDialogOptions{Title: title, DefaultDirectory: start, CanCreateDirectories: true})
}

// Show shows the window (also when hidden to the tray) and raises and focuses it (gtk_window_present).
func (p wailsPlatform) Show() {
	runtime.WindowShow(p.ctx)
	runtime.WindowUnminimise(p.ctx)
}

func (p wailsPlatform) Hide() { runtime.WindowHide(p.ctx) }

// Navigate asks the UI to open a screen (frontend/src/desktop.ts listens for "navigate").
func (p wailsPlatform) Navigate(screen string) { runtime.EventsEmit(p.ctx, "navigate", screen) }

// Quit ends the Wails loop; it runs OnBeforeClose first.
func (p wailsPlatform) Quit() { runtime.Quit(p.ctx) }

func (p wailsPlatform) Geometry() (x, y, w, h int, maximised bool) {
	x, y = runtime.WindowGetPosition(p.ctx)
	w, h = runtime.WindowGetSize(p.ctx)
	return x, y, w, h, runtime.WindowIsMaximised(p.ctx)
}

func (p wailsPlatform) SetGeometry(x, y, w, h int, maximised bool) {
	runtime.WindowSetSize(p.ctx, w, h)
	runtime.WindowSetPosition(p.ctx, x, y)
	if maximised {
		runtime.WindowMaximise(p.ctx)
	}
}
