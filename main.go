// Command hallmonitor is Hall Monitor: a local Worker Class Protocol Hall with a desktop window.
//
// With no arguments it opens the desktop window (or, with no display, serves the same UI over HTTP);
// with a subcommand it runs that command instead. `hallmonitor --help` lists them.
package main

import (
	"embed"
	"io/fs"
	"os"

	"hallmonitor/app/cli"
)

// assets is the built web UI (frontend/dist); `make` builds it before compiling.
//
//go:embed all:frontend/dist
var assets embed.FS

// icon is the window and desktop-entry icon.
//
//go:embed build/appicon.png
var icon []byte

func main() {
	ui, err := fs.Sub(assets, "frontend/dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	os.Exit(cli.Main(os.Args[1:], cli.Resources{UI: ui, Icon: icon}, os.Stdout, os.Stderr))
}
