package cli

import (
	"fmt"
	"io"

	"hallmonitor/app/desktop"
)

// runWindow opens the desktop window; with no display it explains and serves the same UI over HTTP instead.
func runWindow(args []string, stdout, stderr io.Writer, res Resources) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, "Usage: hallmonitor [window]\n\nOpens the Hall Monitor window. With no display (no DISPLAY or WAYLAND_DISPLAY) it runs `hallmonitor serve` instead.")
		return 0
	}
	if !hasDisplay() {
		fmt.Fprintln(stderr, "hallmonitor: no display found (DISPLAY and WAYLAND_DISPLAY are empty); serving the UI over HTTP instead.")
		return runServe(args, stdout, stderr, res.UI)
	}
	return desktop.Run(desktop.Options{UI: res.UI, Icon: res.Icon, Version: VersionString(), Stderr: stderr})
}
